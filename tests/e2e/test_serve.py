"""gosnoop serve: a YAML config, probes attached through the count/latency
machinery, Prometheus text on /metrics over 127.0.0.1.

The fixture (tests/fixtures/calls) counts its own calls and prints them;
the exported counters must equal those counts exactly, each histogram's
_count the calls that returned, its buckets cumulative. promtool (Debian's
prometheus package) must accept the output. Bad configs exit 2 naming
FILE:LINE; SIGTERM detaches and exits 0 within a second."""
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import gstest
from gstest import GOSNOOP, Skip, fixture

SERVING = re.compile(r"serving metrics of \d+ targets on http://127\.0\.0\.1:(\d+)/metrics")


def plain_run(path, *args):
    return subprocess.run([path] + list(args), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def own_record(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith('{"counts"'):
            return json.loads(line)
    raise AssertionError(f"fixture printed no counts: {stdout[-300:]!r}")


class Daemon:
    """gosnoop serve on 127.0.0.1:0 (the kernel picks the port; the
    daemon prints it). stderr is read by a thread so it never blocks."""

    def __init__(self, config):
        self.p = subprocess.Popen([GOSNOOP, "serve", "--config", config,
                                   "--listen", "127.0.0.1:0"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        gstest._procs.append(self.p)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = None
        deadline = time.monotonic() + 60
        while self.port is None:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.p.kill()
                self.p.wait()
                raise AssertionError("serve did not start: " + "".join(self.stderr))
            m = SERVING.search(line)
            if m:
                self.port = int(m.group(1))

    def _read(self):
        for line in self.p.stderr:
            self.stderr.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()

    def stop(self, sig=signal.SIGTERM):
        """(exit status, seconds from the signal to the exit)"""
        t0 = time.monotonic()
        self.p.send_signal(sig)
        rc = self.p.wait(timeout=30)
        return rc, time.monotonic() - t0


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float)] of every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def private_fixture():
    # a PATH target is every process running that file: a private copy
    # keeps other runs of the shared fixture out of the counts
    path = os.path.join(gstest.tmpdir(), "calls")
    shutil.copy2(fixture("calls"), path)
    return path


def write_config(text):
    path = os.path.join(gstest.tmpdir(), "serve.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


COUNTED = ["main.fib", "main.add", "main.classify", "main.leaf"]
TIMED = ["main.classify", "main.sleep10ms", "main.fib"]


def test_metrics_equal_the_fixtures_own_counts():
    path = private_fixture()
    # the minimal form, as written (sched: accepted, not yet exported)
    cfg = write_config(f"""listen: 127.0.0.1:9464
targets:
  - binary: {path}   # the fixture
    latency: {json.dumps(TIMED)}
    count: {json.dumps(COUNTED)}
    sched: true
""")
    d = Daemon(cfg)
    runs = [own_record(plain_run(path).stdout) for _ in range(2)]
    own = {f: sum(r["counts"][f] for r in runs) for f in COUNTED + TIMED}
    assert own["main.fib"] == 2 * (2 * 4181 - 1)   # fib(18), twice: the fixture is sane
    status, ctype, text = d.get("/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    samples = parse_metrics(text)

    calls = {l["function"]: v for n, l, v in samples if n == "gosnoop_function_calls_total"}
    assert calls == {f: own[f] for f in COUNTED}, (calls, own)
    for n, l, v in samples:
        if n.startswith("gosnoop_function"):
            assert l["binary"] == path, l

    for f in TIMED:
        buckets = [(l["le"], v) for n, l, v in samples
                   if n == "gosnoop_function_duration_seconds_bucket" and l["function"] == f]
        count = [v for n, l, v in samples
                 if n == "gosnoop_function_duration_seconds_count" and l["function"] == f]
        total = [v for n, l, v in samples
                 if n == "gosnoop_function_duration_seconds_sum" and l["function"] == f]
        assert count == [own[f]], (f, count, own[f])
        assert buckets[-1] == ("+Inf", own[f]), (f, buckets[-1])
        les = [float(le) for le, _ in buckets]
        assert les == sorted(les) and len(set(les)) == len(les), f
        # le of log2 slot k is (2^(k+1)-1) ns: the kernel's integer buckets
        assert [round(x * 1e9) for x in les[:-1]] == [(1 << (k + 1)) - 1 for k in range(len(les) - 1)]
        vals = [v for _, v in buckets]
        assert all(a <= b for a, b in zip(vals, vals[1:])), (f, vals)   # cumulative
        assert len(total) == 1 and total[0] > 0, (f, total)

    # each sleep10ms call took >= 10 ms (the program measured them): none
    # is in a bucket ending below 2^23 ns, and the sum covers them all
    sleeps = [ns for r in runs for ns in r["sleep_ns"]]
    sleep_b = {float(l["le"]): v for n, l, v in samples
               if n == "gosnoop_function_duration_seconds_bucket" and l["function"] == "main.sleep10ms"}
    assert sleep_b[((1 << 23) - 1) / 1e9] == 0, sleep_b
    sleep_sum = [v for n, l, v in samples if n == "gosnoop_function_duration_seconds_sum"
                 and l["function"] == "main.sleep10ms"][0]
    assert sleep_sum >= sum(sleeps) / 1e9, (sleep_sum, sum(sleeps))

    attached = {l["kind"]: v for n, l, v in samples if n == "gosnoop_probes_attached"}
    assert attached == {"count": len(COUNTED), "latency": len(TIMED)}, attached
    assert [v for n, l, v in samples if n == "gosnoop_build_info"] == [1.0]

    status, _, body = d.get("/healthz")
    assert status == 200 and body == "ok\n", (status, body)
    status, ctype, body = d.get("/debug/probes")
    assert status == 200 and ctype == "application/json", (status, ctype)
    probes = json.loads(body)
    (t,) = probes["targets"]
    assert t["binary"] == path and t["mode"] == "uprobe_multi", t
    assert sorted(f["func"] for f in t["count"]["functions"]) == sorted(COUNTED)
    assert sorted(f["func"] for f in t["latency"]["functions"]) == sorted(TIMED)
    assert t["latency"]["pairing"]["paired"] == sum(own[f] for f in TIMED), t["latency"]
    assert probes["scrapes"] == 1, probes
    try:
        d.get("/nothing")
        raise AssertionError("/nothing answered")
    except urllib.error.HTTPError as e:
        assert e.code == 404

    rc, secs = d.stop(signal.SIGTERM)
    assert rc == 0, "".join(d.stderr)
    assert secs < 1.0, secs
    assert "sched: not exported by serve yet" in "".join(d.stderr)


def test_promtool_accepts_metrics():
    promtool = shutil.which("promtool")
    if not promtool:
        raise Skip("promtool missing (apt-get install prometheus)")
    path = private_fixture()
    cfg = write_config(f"""targets:
  - binary: '{path}'
    latency: ["main.classify", "main.sleep10ms"]
    count: ["main.*"]
""")
    d = Daemon(cfg)
    plain_run(path)
    _, _, text = d.get("/metrics")
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gosnoop_function_duration_seconds_bucket" in text
    rc, secs = d.stop(signal.SIGINT)
    assert rc == 0 and secs < 1.0, (rc, secs, "".join(d.stderr))


def wait_line(d, pattern, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = d.lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            raise AssertionError(f"no line matching {pattern!r}: " + "".join(d.stderr))
        if re.search(pattern, line):
            return line


def test_sighup_reload_keeps_unchanged_probes():
    path = private_fixture()
    fib_target = f"  - binary: {path}\n    count: [main.fib]\n"
    cfg = write_config("targets:\n" + fib_target)
    d = Daemon(cfg)
    fib = own_record(plain_run(path).stdout)["counts"]["main.fib"]

    def values():
        samples = parse_metrics(d.get("/metrics")[2])
        calls = {l["function"]: v for n, l, v in samples if n == "gosnoop_function_calls_total"}
        ok = [v for n, l, v in samples if n == "gosnoop_config_last_reload_successful"]
        return calls, ok

    assert values() == ({"main.fib": fib}, [1.0])
    # add a target: main.fib's probe stays attached and keeps its count
    with open(cfg, "w") as f:
        f.write("targets:\n" + fib_target +
                f"  - binary: {path}\n    count: [main.classify]\n")
    d.p.send_signal(signal.SIGHUP)
    wait_line(d, r"reloaded .*: 2 targets \(1 kept, 1 new, 0 removed\)")
    own = own_record(plain_run(path).stdout)["counts"]
    got = values()
    assert got == ({"main.fib": fib + own["main.fib"],
                    "main.classify": own["main.classify"]}, [1.0]), (got, fib, own, d.stderr)
    # a bad file: the running configuration goes on, and says so
    with open(cfg, "w") as f:
        f.write("targets:\n  - binary: [\n")
    d.p.send_signal(signal.SIGHUP)
    line = wait_line(d, r"reload failed")
    assert f"{cfg}:" in line, line
    assert values() == ({"main.fib": fib + own["main.fib"],
                         "main.classify": own["main.classify"]}, [0.0])
    # a target that cannot start: same
    with open(cfg, "w") as f:
        f.write("targets:\n" + fib_target + "  - binary: /nonexistent/svc\n    count: [main.x]\n")
    d.p.send_signal(signal.SIGHUP)
    line = wait_line(d, r"reload failed")
    assert f"{cfg}:4:" in line, line
    assert values()[0] == {"main.fib": fib + own["main.fib"],
                           "main.classify": own["main.classify"]}
    # remove one: its series go away, the other stays
    with open(cfg, "w") as f:
        f.write("targets:\n" + fib_target)
    d.p.send_signal(signal.SIGHUP)
    wait_line(d, r"reloaded .*: 1 targets \(1 kept, 0 new, 1 removed\)")
    assert values() == ({"main.fib": fib + own["main.fib"]}, [1.0])
    probes = json.loads(d.get("/debug/probes")[2])
    assert (probes["reloads"], probes["reload_failures"]) == (4, 2), probes
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)


def test_bad_config_names_file_and_line():
    path = private_fixture()
    cases = [
        # (config text, line the error must name, words it must say)
        (f"targets:\n  - binary: {path}\n    latecy: [main.fib]\n", 3, "unknown target key 'latecy'"),
        ("listen: 127.0.0.1:9464\ntargets:\n  - binary: /x\n    count: [a, b\n", 5, ""),
        (f"targets:\n  - pid: abc\n    count: [main.fib]\n", 2, "pid"),
        ("listen: nowhere\ntargets:\n  - binary: /x\n    count: [a]\n", 1, "listen"),
        (f"targets:\n  - binary: {path}\n", 2, "needs latency"),
        ("listen: 127.0.0.1:1\n", 1, "no targets"),
        (f"targets:\n  - binary: {path}\n    count: {{a: b}}\n", 3, "count"),
        (f"targets:\n  - comm: calls\n    count: [main.fib]\n", 2, "comm"),
    ]
    for text, line, words in cases:
        cfg = write_config(text)
        r = subprocess.run([GOSNOOP, "serve", "--config", cfg], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert r.returncode == 2, (text, r.returncode, r.stderr)
        err = r.stderr.strip().splitlines()
        assert len(err) == 1, (text, err)
        assert f"{cfg}:{line}:" in err[0], (text, err)
        assert words in err[0], (text, err)
    r = subprocess.run([GOSNOOP, "serve"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--config" in r.stderr, r.stderr
    r = subprocess.run([GOSNOOP, "serve", "--config", "/nonexistent/serve.yaml"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "/nonexistent/serve.yaml" in r.stderr, r.stderr


def fd_kinds(pid):
    """{what: how many} of a process's open files: BPF links, maps and
    programs by name, everything else as 'other'."""
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            t = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        k = t if t.startswith("anon_inode:bpf") else "other"
        kinds[k] = kinds.get(k, 0) + 1
    return kinds


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_100_reloads_leave_no_fds_links_or_maps():
    path = private_fixture()
    a = f"targets:\n  - binary: {path}\n    count: [main.fib]\n    latency: [main.classify]\n"
    b = f"targets:\n  - binary: {path}\n    count: [main.add]\n    latency: [main.sleep10ms]\n"
    cfg = write_config(a)
    d = Daemon(cfg)
    before = fd_kinds(d.p.pid)
    assert before.get("anon_inode:bpf_link", 0) >= 2, before
    assert before.get("anon_inode:bpf-map", 0) >= 2, before
    rss0 = rss_kb(d.p.pid)
    for i in range(100):
        # every reload detaches both programs and attaches two others
        with open(cfg, "w") as f:
            f.write(b if i % 2 == 0 else a)
        d.p.send_signal(signal.SIGHUP)
        wait_line(d, r"reloaded .*: 1 targets \(0 kept, 1 new, 1 removed\)")
    after = fd_kinds(d.p.pid)
    assert after == before, (before, after)
    rss1 = rss_kb(d.p.pid)
    probes = json.loads(d.get("/debug/probes")[2])
    assert (probes["reloads"], probes["reload_failures"]) == (100, 0), probes
    own = own_record(plain_run(path).stdout)["counts"]
    samples = parse_metrics(d.get("/metrics")[2])
    calls = {l["function"]: v for n, l, v in samples if n == "gosnoop_function_calls_total"}
    assert calls == {"main.fib": own["main.fib"]}, calls
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)
    print(f"fds {before}; RSS {rss0} -> {rss1} kB after 100 reloads")
    # no leak (valgrind finds none); allow the allocator some slack
    assert rss1 - rss0 < 8192, (rss0, rss1)


def test_pid_target():
    path = private_fixture()
    p = subprocess.Popen([path, "-wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(p)
    assert p.stdout.readline().strip() == "ready"
    cfg = write_config(f"targets:\n  - pid: {p.pid}\n    count: [main.fib, main.add]\n"
                       f"    latency: main.classify\n")
    d = Daemon(cfg)
    p.stdin.write("go\n")
    p.stdin.flush()
    out, _ = p.communicate(timeout=120)
    own = own_record(out)["counts"]
    samples = parse_metrics(d.get("/metrics")[2])
    calls = {l["function"]: v for n, l, v in samples if n == "gosnoop_function_calls_total"}
    assert calls == {"main.fib": own["main.fib"], "main.add": own["main.add"]}, calls
    count = [(l, v) for n, l, v in samples if n == "gosnoop_function_duration_seconds_count"]
    assert count == [({"binary": path, "pid": str(p.pid), "function": "main.classify"},
                      own["main.classify"])], count
    # the process is gone; the daemon keeps serving (its series stay, for now)
    assert d.p.poll() is None and d.get("/healthz")[2] == "ok\n"
    rc, secs = d.stop(signal.SIGINT)
    assert rc == 0 and secs < 1.0, (rc, secs)
