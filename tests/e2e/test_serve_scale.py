"""gosnoop serve at the scale of a real node (issue 15): hundreds of
targets (fd numbers past 1024, which select() cannot wait on), a local
user holding a flood of idle connections, scrapes while reloads attach
probes, and SIGTERM with many targets. Helpers come from test_serve.py."""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import gstest
from test_serve import (Daemon, fd_kinds, finish, own_record, parse_metrics, plain_run, private_fixture,
                        scrape_until_gone, target_processes, uprobe_multi_works, wait_line, waiting_fixture,
                        write_config)


def soft_fd_limit_1024():
    # the usual default: without raising it the daemon cannot hold 300 targets,
    # and with it every fd of a probe or connection past 1023 is one select() cannot use
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


def many_targets(path, n, count=("main.fib",)):
    return "targets:\n" + "".join(
        f"  - binary: {path}\n    count: {json.dumps(list(count))}\n    labels: {{n: \"{i}\"}}\n"
        for i in range(n))


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def many_targets_scraped(n):
    path = private_fixture()
    cfg = write_config(many_targets(path, n))
    t0 = time.monotonic()
    d = Daemon(cfg, start_timeout=120, preexec_fn=soft_fd_limit_1024)
    start = time.monotonic() - t0
    fds = open_fds(d.p.pid)
    assert fds > 1100, fds       # the point: fd numbers past select()'s 1024
    fib = own_record(plain_run(path).stdout)["counts"]["main.fib"]
    status, _, text = d.get("/metrics")
    assert status == 200
    calls = {l["n"]: v for n, l, v in parse_metrics(text) if n == "gosnoop_function_calls_total"}
    # every target's counter is the fixture's own count of its calls
    assert calls == {str(i): fib for i in range(n)}, (len(calls), fib)
    assert d.get("/healthz")[:3:2] == (200, "ok\n")
    rc, secs = d.stop()
    assert rc == 0, "".join(d.stderr[-5:])
    assert secs < 1.0, secs      # was 15-18 s with 300: link closes one after the other
    print(f"{n} targets: start {start:.2f} s, {fds} fds, SIGTERM {secs:.3f} s")


def test_300_targets_past_fd_1024_scraped_and_sigterm_fast():
    many_targets_scraped(300)


def test_1000_targets_scraped_and_sigterm_fast():
    many_targets_scraped(1000)


FLOODER = r"""
import os, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for _ in range(n):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    held.append(s)
print(len(held), os.getuid(), flush=True)
# hold them, idle; on each line from stdin say how many the server has
# not closed (a closed one reads as end of file)
for _ in sys.stdin:
    open_ = 0
    for s in held:
        try:
            open_ += s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) != b""
        except BlockingIOError:
            open_ += 1
        except OSError:
            pass
    print(open_, flush=True)
"""


def test_idle_connection_flood_from_another_user_cannot_fail_healthz():
    path = private_fixture()
    d = Daemon(write_config(f"targets:\n  - binary: {path}\n    count: [main.fib]\n"))
    fds_before = open_fds(d.p.pid)
    script = os.path.join(gstest.tmpdir(), "flood.py")
    with open(script, "w") as f:
        f.write(FLOODER)
    os.chmod(os.path.dirname(script), 0o755)
    os.chmod(script, 0o644)
    flood = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                              "--", "sh", "-c", f"ulimit -n 4096; exec /usr/bin/python3 {script} {d.port} 1500"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    gstest._procs.append(flood)
    try:
        line = flood.stdout.readline()
        t_flood = time.monotonic()
        assert line, flood.stderr.read() if flood.poll() is not None else "flooder said nothing"
        held, uid = map(int, line.split())
        assert uid == 65534 and held >= 1400, (held, uid)   # the flood is real
        answers = []
        for _ in range(20):
            t0 = time.monotonic()
            try:
                status, _, body = d.get("/healthz")
                answers.append((status, body, time.monotonic() - t0 < 1.0))
            except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
                answers.append(str(e))
            time.sleep(0.1)
        assert answers == [(200, "ok\n", True)] * 20, answers
        # nobody got its share of connections, no more (16 a client): the
        # server closed the others at once
        grown = open_fds(d.p.pid) - fds_before
        assert 0 < grown <= 16 + 2, grown
        flood.stdin.write("?\n")
        flood.stdin.flush()
        assert int(flood.stdout.readline()) == 16
        status, _, text = d.get("/metrics")
        assert status == 200 and "gosnoop_build_info" in text
        # idle connections are closed after 10 s without a byte
        time.sleep(max(0.0, t_flood + 11.0 - time.monotonic()))
        flood.stdin.write("?\n")
        flood.stdin.flush()
        assert int(flood.stdout.readline()) == 0
        assert open_fds(d.p.pid) == fds_before
    finally:
        flood.stdin.close()
        flood.wait(timeout=10)
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)


def test_scrapes_answered_during_50_reloads():
    """300 targets kept, one more added and removed 50 times by SIGHUP,
    /metrics scraped every 50 ms meanwhile: every scrape answers, none
    takes long."""
    path = private_fixture()
    base = many_targets(path, 300)
    extra = f"  - binary: {path}\n    latency: [\"main.*\"]\n    labels: {{n: extra}}\n"
    cfg = write_config(base)
    d = Daemon(cfg, "--no-watch", start_timeout=120, preexec_fn=soft_fd_limit_1024)
    times, errors, stop = [], [], threading.Event()

    def scrape():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                status, _, _ = d.get("/metrics")
                times.append((status, time.monotonic() - t0))
            except Exception as e:     # noqa: BLE001 (any failure is the finding)
                errors.append(repr(e))
            stop.wait(max(0.0, 0.05 - (time.monotonic() - t0)))

    th = threading.Thread(target=scrape)
    th.start()
    t0 = time.monotonic()
    try:
        for i in range(50):
            with open(cfg, "w") as f:
                f.write(base + (extra if i % 2 == 0 else ""))
            d.p.send_signal(signal.SIGHUP)
            wait_line(d, r"reloaded .*: 30[01] targets \(300 kept, [01] new, [01] removed, 0 changed")
    finally:
        stop.set()
        th.join()
    wall = time.monotonic() - t0
    assert not errors, errors[:3]
    # before, a scrape waited for the attach of a reload; 1 s leaves room
    # for a machine shared with other work (load 20 on 2 CPUs: one took 0.59 s)
    slow = [s for _, s in times if s > 1.0]
    assert {st for st, _ in times} == {200} and not slow, (len(times), slow)
    # one scrape per 50 ms of the reloads' wall time, give or take the scrapes' own time
    assert len(times) >= wall / 0.05 * 0.5, (len(times), wall)
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)


def test_sigterm_during_startup_is_honoured():
    """100 000 patterns take the planner seconds (it matches each against
    every function, and cannot be interrupted); a SIGTERM meanwhile ends
    the daemon within a second, exit 0."""
    path = private_fixture()
    pats = ["main.fib"] + [f"main.nosuch{i}*" for i in range(100000)]
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: {json.dumps(pats)}\n")
    p = gstest.spawn([gstest.GOSNOOP, "serve", "--config", cfg, "--listen", "127.0.0.1:0"])
    time.sleep(1.5)
    assert p.poll() is None, p.stderr.read()     # still planning
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    secs = time.monotonic() - t0
    err = p.stderr.read()
    assert "serving metrics" not in err, err      # it was stopped during start-up
    assert rc == 0 and secs < 1.0, (rc, secs, err[-300:])


def test_deeply_nested_config_refused_at_once():
    cfg = write_config("targets: " + "[" * 100000 + "\n")
    t0 = time.monotonic()
    r = subprocess.run([gstest.GOSNOOP, "serve", "--config", cfg], capture_output=True,
                       text=True, timeout=300, stdin=subprocess.DEVNULL)
    secs = time.monotonic() - t0
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr == f"gosnoop: {cfg}:1: nested more than 32 levels deep (the configuration needs 4)\n", r.stderr
    assert secs < 1.0, secs      # was 2 CPU-minutes


def comm_processes_counted_and_sigterm_fast(n):
    """n processes of one private file under one comm: target, all probed
    at once: each one's series is exactly its own count of its calls, a
    process running the same file under another name is not counted, and
    SIGTERM with all n still running stops the daemon within a second."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    # three pipes a process, held by this test
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    name = f"gsn{os.getpid() % 100000}s"
    d0 = gstest.tmpdir()
    path = os.path.join(d0, name)
    shutil.copy2(gstest.fixture("calls"), path)
    other = os.path.join(d0, "othername")      # the same inode, another comm
    os.link(path, other)
    cfg = write_config(f"targets:\n  - comm: {name}\n    count: [main.classify, main.leaf]\n"
                       f"    labels: {{env: scale}}\n")
    d = Daemon(cfg, start_timeout=120, preexec_fn=soft_fd_limit_1024)
    procs = []

    def spawn(p):
        # one P each: 1000 programs' worth of idle threads on 2 CPUs
        # otherwise made the run take minutes
        q = subprocess.Popen([p, "-wait", "-hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True,
                             env=dict(os.environ, GOMAXPROCS="1"))
        gstest._procs.append(q)
        return q

    try:
        t0 = time.monotonic()
        procs = [spawn(path) for _ in range(n)]
        stranger = spawn(other)
        for q in procs + [stranger]:
            assert q.stdout.readline().strip() == "ready"
        spawned = time.monotonic() - t0
        # every one probed (the daemon rescans once a second)
        by_comm = (("comm", name), ("env", "scale"))
        deadline = time.monotonic() + 300
        while True:
            got = target_processes(d).get(by_comm)
            if got == n or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert got == n, (got, "".join(d.stderr[-5:]))
        probed = time.monotonic() - t0
        for q in procs + [stranger]:
            q.stdin.write("go\n")
            q.stdin.flush()
        own = {}
        for q in procs + [stranger]:
            lines = []
            while not lines or not lines[-1].startswith('{"counts"'):
                line = q.stdout.readline()
                assert line, f"process {q.pid} ended early: {lines[-3:]}"
                lines.append(line)
            own[q.pid] = own_record("".join(lines))["counts"]
        ran = time.monotonic() - t0 - probed
        # all still running (-hold): the series are the processes' own counts
        t1 = time.monotonic()
        status, _, text = d.get("/metrics")
        scrape = time.monotonic() - t1
        assert status == 200
        calls = {}
        for m, l, v in parse_metrics(text):
            if m == "gosnoop_function_calls_total":
                assert (l["binary"], l["env"]) == (path, "scale"), l
                calls[(int(l["pid"]), l["function"])] = v
        want = {(q.pid, f): own[q.pid][f] for q in procs for f in ("main.classify", "main.leaf")}
        assert calls == want, (len(calls), len(want),
                               sorted(set(calls.items()) ^ set(want.items()))[:6])
        assert own[stranger.pid]["main.leaf"] > 0     # it did call them: not counted
        assert d.get("/healthz")[:3:2] == (200, "ok\n")
        rc, secs = d.stop()
        assert rc == 0, "".join(d.stderr[-5:])
        print(f"{n} comm: processes: spawned {spawned:.1f} s, all probed {probed:.1f} s, "
              f"ran {ran:.1f} s, scrape {scrape:.2f} s, SIGTERM {secs:.3f} s")
        assert secs < 1.0, secs      # was 8-25 s with 1000: per-process links closed one by one
    finally:
        for q in procs:
            if q.poll() is None:
                q.kill()
        for q in procs:
            q.wait()


def test_1000_comm_processes_counted_and_sigterm_fast():
    comm_processes_counted_and_sigterm_fast(1000)


def test_comm_processes_share_links_through_a_reload_and_a_reused_slot():
    """A comm: target's processes of one file share one link a kind (1000
    PID-filtered links took 8-25 s to close): two processes, one link; a
    reload adding a function attaches it once for both; a process that
    takes the slot of one that ended counts from zero, and one that
    joined before the reload counts the new function from the reload."""
    name = f"gsn{os.getpid() % 100000}r"
    path = os.path.join(gstest.tmpdir(), name)
    shutil.copy2(gstest.fixture("calls"), path)
    head = f"targets:\n  - comm: {name}\n"
    cfg = write_config(head + "    count: [main.classify]\n")
    d = Daemon(cfg, "--no-watch")
    by_comm = (("comm", name),)

    def wait_processes(n):
        deadline = time.monotonic() + 30
        while target_processes(d).get(by_comm) != n and time.monotonic() < deadline:
            time.sleep(0.2)
        assert target_processes(d).get(by_comm) == n, "".join(d.stderr[-5:])

    def calls():
        return {(int(l["pid"]), l["function"]): v for m, l, v in parse_metrics(d.get("/metrics")[2])
                if m == "gosnoop_function_calls_total"}

    # uprobe_multi: one link a unit (classic uprobes, before 6.6: a perf
    # event a site, not counted here)
    links = uprobe_multi_works()
    keeper, a = waiting_fixture(path), waiting_fixture(path)
    wait_processes(2)
    assert not links or fd_kinds(d.p.pid).get("anon_inode:bpf_link") == 1, fd_kinds(d.p.pid)
    own_a = finish(a)
    assert calls() == {(a.pid, "main.classify"): own_a["main.classify"]}
    # gone once a scrape has read its last values
    assert not scrape_until_gone(d, lambda m, l: l.get("pid") == str(a.pid))
    wait_line(d, rf"process {a.pid} ended: its series are gone")
    with open(cfg, "w") as f:
        f.write(head + "    count: [main.classify, main.leaf]\n")
    d.p.send_signal(signal.SIGHUP)
    # main.leaf attached once, for every process of the file
    wait_line(d, r"reloaded .*: 1 targets \(0 kept, 0 new, 0 removed, 1 changed: "
              r"1 functions attached, 0 detached\)")
    c = waiting_fixture(path)      # takes a's slot, where a's counts are
    wait_processes(2)
    assert not links or fd_kinds(d.p.pid).get("anon_inode:bpf_link") == 2, fd_kinds(d.p.pid)
    own = {c.pid: finish(c), keeper.pid: finish(keeper)}
    assert calls() == {(pid, f): own[pid][f] for pid in own
                       for f in ("main.classify", "main.leaf")}, (calls(), own)
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_comm_processes_share_one_overhead_budget():
    """The shared links have one governor a unit, over the calls of all
    the file's processes (every slot) and the machine's CPU: under the
    default budget it turns main.hot off for both processes at once,
    each process shows the one estimate, and main.cold counts on in each
    (from when the process was found: at most what it printed)."""
    name = f"gsn{os.getpid() % 100000}o"
    path = os.path.join(gstest.tmpdir(), name)
    shutil.copy2(gstest.fixture("hotcold"), path)
    cfg = write_config(f"targets:\n  - comm: {name}\n    count: [main.hot, main.cold]\n")
    d = Daemon(cfg, "--no-watch", max_overhead=None)
    ps = []
    for _ in range(2):
        p = subprocess.Popen([path, "-for", "6s"], stdout=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL)
        gstest._procs.append(p)
        ps.append(p)
    wait_line(d, r"throttled main\.hot")
    time.sleep(1.0)
    m = {}
    for n, l, v in parse_metrics(d.get("/metrics")[2]):
        m[n, int(l["pid"]) if "pid" in l else None, l.get("function")] = v
    pids = [p.pid for p in ps]
    assert [m.get(("gosnoop_probe_disabled", pid, "main.hot")) for pid in pids] == [1, 1], m
    ratio = [m.get(("gosnoop_estimated_overhead_ratio", pid, None)) for pid in pids]
    assert ratio[0] is not None and ratio[0] == ratio[1], ratio
    truths = []
    for p in ps:
        out, _ = p.communicate(timeout=60)
        truths.append(json.loads([x for x in out.splitlines() if x.startswith("{")][-1]))
    m = {(int(l["pid"]), l["function"]): v for n, l, v in parse_metrics(d.get("/metrics")[2])
         if n == "gosnoop_function_calls_total"}
    for pid, t in zip(pids, truths):
        assert 0 < m[pid, "main.cold"] <= t["cold"], (m, t)
        assert 0 < m[pid, "main.hot"] < t["hot"] * 0.9, (m, t)
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)


PIDNS_RUN = r"""
set -e
# PID 1 of a new PID namespace, its own /proc: the daemon and the
# process see the namespace's PIDs, the BPF programs the initial one's
"$GOSNOOP" serve --config "$CFG" --listen "127.0.0.1:$PORT" --max-overhead off 2>"$DIR/serve.err" &
serve=$!
for _ in $(seq 100); do grep -q "serving metrics" "$DIR/serve.err" && break; sleep 0.1; done
mkfifo "$DIR/in"
"$PROG" -wait <"$DIR/in" >"$DIR/out" &
prog=$!
exec 3>"$DIR/in"
for _ in $(seq 100); do grep -q "probing process $prog" "$DIR/serve.err" && break; sleep 0.1; done
echo go >&3
wait $prog
echo "pid $prog"
curl -s "127.0.0.1:$PORT/metrics"
kill $serve
wait $serve
"""


def test_comm_target_in_a_pid_namespace_of_its_own():
    """A daemon in a PID namespace other than the initial one (a container
    without the host's) keys nothing by the PIDs its /proc shows: each
    process of a comm: target gets its own PID-filtered links there, and
    is counted exactly (shared links counted nothing)."""
    name = f"gsn{os.getpid() % 100000}p"
    d0 = gstest.tmpdir()
    path = os.path.join(d0, name)
    shutil.copy2(gstest.fixture("calls"), path)
    cfg = write_config(f"targets:\n  - comm: {name}\n    count: [main.classify, main.leaf]\n")
    env = dict(os.environ, GOSNOOP=gstest.GOSNOOP, CFG=cfg, PORT=str(gstest.free_port()),
               DIR=d0, PROG=path)
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "bash", "-c", PIDNS_RUN],
                       env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    with open(os.path.join(d0, "serve.err")) as f:
        err = f.read()
    assert r.returncode == 0, (r.stderr, err)
    pid = int(r.stdout.split("\n", 1)[0].split()[1])
    with open(os.path.join(d0, "out")) as f:
        own = own_record(f.read())["counts"]
    calls = {(l["pid"], l["function"]): v for m, l, v in parse_metrics(r.stdout.split("\n", 1)[1])
             if m == "gosnoop_function_calls_total"}
    assert calls == {(str(pid), "main.classify"): own["main.classify"],
                     (str(pid), "main.leaf"): own["main.leaf"]}, (calls, err)
