"""gosnoop serve: a YAML config, probes attached through the count/latency
machinery, Prometheus text on /metrics over 127.0.0.1.

The fixture (tests/fixtures/calls) counts its own calls and prints them;
the exported counters must equal those counts exactly, each histogram's
_count the calls that returned, its buckets cumulative. promtool and a
real Prometheus server (Debian's prometheus package) must accept and
scrape the output; esbuild serving HTTP under the daemon must answer
byte-identically while its per-request calls are counted. Targets by
binary, pid and comm follow processes that start, end and are replaced.
Bad configs exit 2 naming FILE:LINE; reloads (SIGHUP or file change)
keep unchanged probes; SIGTERM detaches and exits 0 within a second."""
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import gstest
from gstest import GOSNOOP, Skip, fixture

SERVING = re.compile(r"serving metrics of \d+ targets on https?://[^/]+:(\d+)/metrics")


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
    daemon prints it). stderr is read by a thread so it never blocks.
    max_overhead: --max-overhead, the targets' default budget: off, for
    the tests of exact counts (serve's default of 1% throttles the
    fixtures' hot functions: their counts are then a sample;
    test_serve_overhead.py tests the budget, with None: the default)."""

    def __init__(self, config, *args, listen="127.0.0.1:0", start_timeout=60,
                 max_overhead="off", **popen_kw):
        self.p = subprocess.Popen([GOSNOOP, "serve", "--config", config] +
                                  (["--listen", listen] if listen else []) +
                                  (["--max-overhead", max_overhead] if max_overhead else []) +
                                  list(args),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, **popen_kw)
        gstest._procs.append(self.p)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = None
        deadline = time.monotonic() + start_timeout
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


def uprobe_multi_works():
    """Whether `gosnoop doctor` finds uprobe_multi links on this kernel."""
    r = subprocess.run([GOSNOOP, "--json", "doctor"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    for line in r.stdout.splitlines():
        obj = json.loads(line)
        if obj.get("type") == "capability" and obj.get("name") == "uprobe_multi":
            return obj["ok"]
    return False


def test_metrics_equal_the_fixtures_own_counts():
    path = private_fixture()
    # the minimal form, as written
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
        # every call timed, and said so: 0 untimed, per function
        untimed = [v for n, l, v in samples
                   if n == "gosnoop_function_calls_untimed_total" and l["function"] == f]
        assert untimed == [0], (f, untimed)
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
    (g,) = probes["targets"]
    assert (g["binary"], g["line"], g["state"]) == (path, 3, "running"), g
    (t,) = g["processes"]
    # the attach path this kernel has (doctor's probe, not its version)
    assert t["binary"] == path and t["mode"] == ("uprobe_multi" if uprobe_multi_works()
                                                  else "classic uprobes (one tracefs event)"), t
    assert "pid" not in t and t["labels"] == f'binary="{path}"', t
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
    assert secs < 5.0, secs


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
    assert rc == 0 and secs < 5.0, (rc, secs, "".join(d.stderr))


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
    d = Daemon(cfg, "--no-watch")     # SIGHUP alone (the file watch has its test)
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
                f"  - binary: {path}\n    count: [main.classify]\n    labels: {{part: b}}\n")
    d.p.send_signal(signal.SIGHUP)
    wait_line(d, r"reloaded .*: 2 targets \(1 kept, 1 new, 0 removed, 0 changed")
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
    wait_line(d, r"reloaded .*: 1 targets \(1 kept, 0 new, 1 removed, 0 changed")
    assert values() == ({"main.fib": fib + own["main.fib"]}, [1.0])
    probes = json.loads(d.get("/debug/probes")[2])
    assert (probes["reloads"], probes["reload_failures"]) == (4, 2), probes
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


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
        (f"targets:\n  - comm: a_name_of_16chars\n    count: [main.fib]\n", 2, "comm"),
        (f"targets:\n  - comm: {path}\n    count: [main.fib]\n", 2, "comm"),
        (f"targets:\n  - comm: calls\n    pid: 1\n    count: [main.fib]\n", 2, "one of"),
        (f"targets:\n  - binary: {path}\n    count: [main.fib]\n    labels: {{0x: a}}\n", 4,
         "'0x' is not a label name"),
        (f"targets:\n  - binary: {path}\n    count: [main.fib]\n    labels:\n      env: a\n"
         f"      __name__: b\n", 6, "'__name__' is not a label name"),
        (f"targets:\n  - binary: {path}\n    count: [main.fib]\n    labels: {{function: x}}\n", 4,
         "gosnoop sets itself"),
        (f"targets:\n  - comm: calls\n    count: [main.fib]\n    labels: {{comm: x}}\n", 4,
         "gosnoop sets itself"),
        (f"targets:\n  - binary: {path}\n    count: [main.fib]\n    labels: [env]\n", 4,
         "mapping"),
        (f"buckets: [0.1, 0.01]\ntargets:\n  - binary: {path}\n    latency: [main.fib]\n", 1,
         "must increase"),
        (f"targets:\n  - binary: {path}\n    latency: [main.fib]\n    buckets:\n      - 0.001\n"
         f"      - 1e-10\n", 6, "whole nanoseconds"),
        (f"targets:\n  - binary: {path}\n    latency: [main.fib]\n    buckets: [-1]\n", 4,
         "positive"),
        (f"targets:\n  - binary: {path}\n    count: [main.fib]\n    buckets: [1]\n", 2,
         "only latency"),
        ("buckets: [" + ", ".join(str(i) for i in range(1, 41)) +
         f"]\ntargets:\n  - binary: {path}\n    latency: [main.fib]\n", 1, "at most 39"),
        # targets that cannot start: why, in the same one line
        (f"targets:\n  - binary: {path}\n    count: [main.fib]\n  - binary: /nonexistent/svc\n"
         f"    count: [main.x]\n", 4, "/nonexistent/svc: No such file"),
        ("targets:\n  - binary: /etc/hostname\n    count: [main.x]\n", 2, "not an ELF file"),
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
    d = Daemon(cfg, "--no-watch")
    before = fd_kinds(d.p.pid)
    assert before.get("anon_inode:bpf_link", 0) >= 2, before
    assert before.get("anon_inode:bpf-map", 0) >= 2, before
    rss0 = rss_kb(d.p.pid)
    for i in range(100):
        # every reload detaches both programs and attaches two others
        # (the target's probe lists change: probe by probe, none stays)
        with open(cfg, "w") as f:
            f.write(b if i % 2 == 0 else a)
        d.p.send_signal(signal.SIGHUP)
        wait_line(d, r"reloaded .*: 1 targets \(0 kept, 0 new, 0 removed, 1 changed: "
                  r"2 functions attached, 2 detached\)")
    after = fd_kinds(d.p.pid)
    assert after == before, (before, after)
    rss1 = rss_kb(d.p.pid)
    probes = json.loads(d.get("/debug/probes")[2])
    assert (probes["reloads"], probes["reload_failures"]) == (100, 0), probes
    # the daemon's own account agrees with /proc (its HTTP connection is
    # one more fd while it answers)
    me = probes["self"]
    assert (me["bpf_links"], me["bpf_maps"], me["bpf_progs"]) == \
        (after["anon_inode:bpf_link"], after["anon_inode:bpf-map"],
         after["anon_inode:bpf-prog"]), (me, after)
    assert sum(after.values()) <= me["fds"] <= sum(after.values()) + 2, (me, after)
    assert abs(me["rss_kb"] - rss1) < 4096, (me, rss1)
    own = own_record(plain_run(path).stdout)["counts"]
    samples = parse_metrics(d.get("/metrics")[2])
    calls = {l["function"]: v for n, l, v in samples if n == "gosnoop_function_calls_total"}
    assert calls == {"main.fib": own["main.fib"]}, calls
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)
    print(f"fds {before}; RSS {rss0} -> {rss1} kB after 100 reloads")
    # no leak (valgrind finds none); allow the allocator some slack
    assert rss1 - rss0 < 8192, (rss0, rss1)


def scrape_until_gone(d, which, timeout=15):
    """Scrape (as Prometheus would) until no series matches which(name,
    labels); return what still matched at the end."""
    deadline = time.monotonic() + timeout
    while True:
        left = [(n, l) for n, l, v in parse_metrics(d.get("/metrics")[2]) if which(n, l)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.3)


def target_processes(d):
    """{(sorted label items): value} of gosnoop_target_processes."""
    return {tuple(sorted(l.items())): v for n, l, v in parse_metrics(d.get("/metrics")[2])
            if n == "gosnoop_target_processes"}


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
    # the process is gone: within a couple of seconds its series go, the
    # target stays (state exited), the daemon keeps serving
    # (they stay until a scrape has read their last values); the
    # target's own gosnoop_target_processes stays, at 0
    assert not scrape_until_gone(d, lambda n, l: "pid" in l and n != "gosnoop_target_processes")
    wait_line(d, rf"process {p.pid} ended: its series are gone")
    assert target_processes(d) == {(("binary", path), ("pid", str(p.pid))): 0}
    (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
    assert (g["pid"], g["state"], g["exited"], g["processes"]) == (p.pid, "exited", 1, []), g
    assert d.p.poll() is None and d.get("/healthz")[2] == "ok\n"
    rc, secs = d.stop(signal.SIGINT)
    assert rc == 0 and secs < 5.0, (rc, secs)


class Prometheus:
    """A real Prometheus server (Debian's prometheus package) on
    127.0.0.1, temporary storage, scraping the daemon every second."""

    def __init__(self, target_port, flags=()):
        exe = shutil.which("prometheus")
        if not exe:
            raise Skip("prometheus missing (apt-get install prometheus)")
        d = gstest.tmpdir()
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gosnoop
    static_configs:
      - targets: ['127.0.0.1:{target_port}']
""")
        self.port = gstest.free_port()
        self.log = open(os.path.join(d, "prometheus.log"), "w+")
        self.p = subprocess.Popen([exe, f"--config.file={cfg}",
                                   f"--storage.tsdb.path={os.path.join(d, 'tsdb')}",
                                   f"--web.listen-address=127.0.0.1:{self.port}"] +
                                  list(flags),
                                  stdin=subprocess.DEVNULL, stdout=self.log,
                                  stderr=subprocess.STDOUT)
        gstest._procs.append(self.p)

    def query(self, q):
        """[(labels, value)] of an instant query over the HTTP API."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + \
            urllib.parse.urlencode({"query": q})
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return [(s["metric"], float(s["value"][1])) for s in body["data"]["result"]]

    def wait_for(self, q, want, timeout=30):
        """Poll query q until its result is want ({function: value});
        return the last result."""
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            try:
                got = {l.get("function", l.get("__name__", "")): v for l, v in self.query(q)}
            except (OSError, ValueError):
                got = None     # not up yet
            if got == want:
                return got
            time.sleep(0.5)
        self.log.seek(0)
        raise AssertionError(f"{q}: {got} != {want}; prometheus log: {self.log.read()[-1500:]}")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=30)
        self.log.close()
        return rc


def test_prometheus_server_scrapes_the_fixtures_counts():
    path = private_fixture()
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: [main.fib, main.add]\n"
                       f"    latency: [main.classify, main.sleep10ms]\n")
    d = Daemon(cfg)
    prom = Prometheus(d.port)
    try:
        own = own_record(plain_run(path).stdout)["counts"]
        sel = f'{{job="gosnoop",binary="{path}"}}'
        prom.wait_for(f'up{{job="gosnoop"}}', {"up": 1.0})
        prom.wait_for(f"gosnoop_function_calls_total{sel}",
                      {"main.fib": own["main.fib"], "main.add": own["main.add"]})
        prom.wait_for(f"gosnoop_function_duration_seconds_count{sel}",
                      {"main.classify": own["main.classify"],
                       "main.sleep10ms": own["main.sleep10ms"]})
        # every sleep10ms call took >= 10 ms: Prometheus' own quantile
        # estimate over the buckets lands at or above it
        (q,) = prom.query(f'histogram_quantile(0.5, gosnoop_function_duration_seconds_bucket'
                          f'{{job="gosnoop",function="main.sleep10ms"}})')
        assert q[1] >= 0.010, q
        # and a second run adds exactly its own calls
        own2 = own_record(plain_run(path).stdout)["counts"]
        prom.wait_for(f"gosnoop_function_calls_total{sel}",
                      {"main.fib": own["main.fib"] + own2["main.fib"],
                       "main.add": own["main.add"] + own2["main.add"]})
    finally:
        assert prom.stop() == 0
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def waiting_fixture(path):
    """The fixture at path, started with -wait: it works once told."""
    p = subprocess.Popen([path, "-wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(p)
    assert p.stdout.readline().strip() == "ready"
    return p


def finish(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    out, _ = p.communicate(timeout=120)
    return own_record(out)["counts"]


def test_comm_target_follows_processes():
    # a unique process name (<= 15 chars): other tests' processes stay out
    name = f"gsn{os.getpid() % 100000}c"
    d0 = gstest.tmpdir()
    path = os.path.join(d0, name)
    shutil.copy2(fixture("calls"), path)
    not_go = os.path.join(gstest.tmpdir(), name)      # same comm, not a Go binary
    shutil.copy2(shutil.which("sleep"), not_go)
    cfg = write_config(f"targets:\n  - comm: {name}\n    count: [main.fib, main.add]\n"
                       f"    latency: [main.classify]\n    labels: {{env: test}}\n")
    d = Daemon(cfg)
    (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
    assert (g["comm"], g["state"], g["processes"]) == (name, "waiting", []), g
    # two processes started after the daemon: each is found and probed
    a, b = waiting_fixture(path), waiting_fixture(path)
    s = subprocess.Popen([not_go, "30"], stdin=subprocess.DEVNULL)
    gstest._procs.append(s)
    seen = set()
    while len(seen) < 2:
        seen.add(int(re.search(r"probing process (\d+)", wait_line(d, r"probing process")).group(1)))
    assert seen == {a.pid, b.pid}, seen
    own = {a.pid: finish(a), b.pid: finish(b)}
    samples = parse_metrics(d.get("/metrics")[2])
    calls = {(l["pid"], l["function"]): v for n, l, v in samples
             if n == "gosnoop_function_calls_total"}
    assert calls == {(str(pid), f): own[pid][f] for pid in own
                     for f in ("main.fib", "main.add")}, (calls, own)
    counts = {l["pid"]: v for n, l, v in samples
              if n == "gosnoop_function_duration_seconds_count"}
    assert counts == {str(pid): own[pid]["main.classify"] for pid in own}, counts
    for n, l, v in samples:
        if n.startswith("gosnoop_function"):
            assert (l["binary"], l["env"]) == (path, "test"), l
    # the non-Go process with the same name: reported once, in one line
    # (a warning naming its executable), and not retried
    # found by the once-a-second scan, which may come after a and b ended
    # (5.10 under qemu on a loaded host)
    for _ in range(60):
        (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
        if g["failed"]:
            break
        time.sleep(0.5)
    assert [f["pid"] for f in g["failed"]] == [s.pid], g["failed"]
    about = [x for x in d.stderr if str(s.pid) in x or not_go in x]
    assert len(about) == 1, about
    assert about[0].startswith("gosnoop: warning: ") and \
        f"process {s.pid} runs {not_go}, not a Go program" in about[0], about
    s.kill()
    s.wait()
    # both ended: their series go, the target waits for the next one
    assert not scrape_until_gone(d, lambda n, l: n.startswith("gosnoop_function"))
    for _ in range(2):
        wait_line(d, r"process \d+ ended: its series are gone")
    time.sleep(1.5)      # a rescan after the sleep ended
    (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
    assert (g["state"], g["exited"], g["processes"], g["failed"]) == \
        ("waiting", 2, [], []), g
    # and a new one is picked up again
    c = waiting_fixture(path)
    wait_line(d, rf"probing process {c.pid}")
    own_c = finish(c)
    samples = parse_metrics(d.get("/metrics")[2])
    calls = {(l["pid"], l["function"]): v for n, l, v in samples
             if n == "gosnoop_function_calls_total"}
    assert calls == {(str(c.pid), "main.fib"): own_c["main.fib"],
                     (str(c.pid), "main.add"): own_c["main.add"]}, calls
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_binary_target_restarts_and_replaced_file():
    path = private_fixture()
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: [main.fib]\n")
    d = Daemon(cfg)
    # started after the daemon, then restarted: both runs counted
    runs = [own_record(plain_run(path).stdout)["counts"]["main.fib"] for _ in range(2)]

    def fib():
        return [(l["binary"], v) for n, l, v in parse_metrics(d.get("/metrics")[2])
                if n == "gosnoop_function_calls_total"]
    assert fib() == [(path, sum(runs))]
    # a deploy renames a new file over the path: the probes follow it
    tmp = path + ".new"
    shutil.copy2(fixture("calls"), tmp)
    os.rename(tmp, path)
    wait_line(d, r"was replaced: probing the new file")
    (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
    assert (g["replaced"], len(g["processes"])) == (1, 1), g
    assert fib() == []       # a new series, shown from its first call
    again = own_record(plain_run(path).stdout)["counts"]["main.fib"]
    assert fib() == [(path, again)]
    # rewritten in place (same inode; nothing runs it): the old offsets
    # must not stay armed; the new contents are probed
    ino = os.stat(path).st_ino
    shutil.copyfile(fixture("calls"), path)
    assert os.stat(path).st_ino == ino
    wait_line(d, r"rewritten in place: probes detached")
    wait_line(d, r"was replaced: probing the new file")
    (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
    assert (g["replaced"], len(g["processes"])) == (2, 1), g
    third = own_record(plain_run(path).stdout)["counts"]["main.fib"]
    assert fib() == [(path, third)]
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def replace_file(path, text):
    """As editors do: write a temporary file, rename it over."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def test_reload_on_file_change_and_listen_rebinds():
    path = private_fixture()
    port1 = gstest.free_port()
    fib_target = f"  - binary: {path}\n    count: [main.fib]\n"
    cfg = write_config(f"listen: 127.0.0.1:{port1}\ntargets:\n" + fib_target)
    d = Daemon(cfg, listen=None)
    assert d.port == port1
    fib = own_record(plain_run(path).stdout)["counts"]["main.fib"]

    def values(port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            samples = parse_metrics(r.read().decode())
        calls = {l["function"]: v for n, l, v in samples if n == "gosnoop_function_calls_total"}
        ok = [v for n, l, v in samples if n == "gosnoop_config_last_reload_successful"]
        return calls, ok

    # no signal: renaming a new file over it is enough; fib keeps its count
    replace_file(cfg, f"listen: 127.0.0.1:{port1}\ntargets:\n" + fib_target +
                 f"  - binary: {path}\n    count: [main.add]\n    labels: {{part: b}}\n")
    wait_line(d, r"reloaded .* \(file changed\): 2 targets \(1 kept, 1 new, 0 removed, 0 changed")
    own = own_record(plain_run(path).stdout)["counts"]
    assert values(port1) == ({"main.fib": fib + own["main.fib"], "main.add": own["main.add"]},
                             [1.0])
    # a bad file (written in place): the old configuration runs on, says why
    with open(cfg, "w") as f:
        f.write(f"listen: 127.0.0.1:{port1}\ntargets:\n  - binary: {path}\n    cout: [x]\n")
    line = wait_line(d, r"reload failed")
    assert f"{cfg}:4: unknown target key 'cout'" in line, line
    assert values(port1) == ({"main.fib": fib + own["main.fib"], "main.add": own["main.add"]},
                             [0.0])
    # a new listen: rebinds; the counters carry over, the old port closes
    port2 = gstest.free_port()
    replace_file(cfg, f"listen: 127.0.0.1:{port2}\ntargets:\n" + fib_target)
    line = wait_line(d, r"serving metrics of 1 targets on http://127\.0\.0\.1:\d+/metrics")
    assert f":{port2}/" in line, line
    wait_line(d, r"reloaded .* \(file changed\): 1 targets \(1 kept, 0 new, 1 removed, 0 changed")
    assert values(port2) == ({"main.fib": fib + own["main.fib"]}, [1.0])
    try:
        values(port1)
        raise AssertionError(f"port {port1} still answers")
    except urllib.error.URLError:
        pass
    # an address that cannot be bound: a failed reload, still on port2
    replace_file(cfg, f"listen: 192.0.2.1:{port1}\ntargets:\n" + fib_target)
    line = wait_line(d, r"reload failed")
    assert "cannot listen on 192.0.2.1" in line, line
    assert values(port2) == ({"main.fib": fib + own["main.fib"]}, [0.0])
    # an unrelated file in the same directory changes nothing
    n = len(d.stderr)
    with open(os.path.join(os.path.dirname(cfg), "other.txt"), "w") as f:
        f.write("x")
    time.sleep(1)
    assert not [x for x in d.stderr[n:] if "reload" in x], d.stderr[n:]
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_labels_and_buckets():
    path = private_fixture()
    # bounds in seconds: 9999999 ns is 1 ns below the 10 ms every
    # sleep10ms call lasts at least (the fixture measured each itself)
    cfg = write_config(f"""buckets: [0.000001, 0.009999999, 0.5]
targets:
  - binary: {path}
    latency: [main.sleep10ms, main.classify]
    count: [main.fib]
    labels: {{env: prod, team: 'a "quoted" \\\\ name'}}
  - binary: {path}
    latency: [main.sleep10ms]
    buckets: [1e-2, 2.5E-2, 1]
""")
    d = Daemon(cfg)
    run = own_record(plain_run(path).stdout)
    own = run["counts"]
    text = d.get("/metrics")[2]
    samples = parse_metrics(text)
    # the value is: a "quoted" \\ name (two backslashes); escaped in the text format:
    team = r'a \"quoted\" \\\\ name'
    assert f'binary="{path}",env="prod",team="{team}",function="main.fib"' in text
    labeled = [l for n, l, v in samples if n.startswith("gosnoop_function") and "env" in l]
    assert labeled and all((l["env"], l["team"]) == ("prod", team) for l in labeled)
    # the first target: the top-level buckets, exactly as configured
    b1 = [(l["le"], v) for n, l, v in samples if n == "gosnoop_function_duration_seconds_bucket"
          and l.get("env") and l["function"] == "main.sleep10ms"]
    assert [le for le, _ in b1] == ["0.000001", "0.009999999", "0.5", "+Inf"], b1
    n = own["main.sleep10ms"]
    assert b1[1] == ("0.009999999", 0) and b1[-1] == ("+Inf", n), (b1, run["sleep_ns"])
    # durations seen by the probe are >= the fixture's own (it measures
    # inside the call): those it measured above 0.5 s are above it here too
    assert b1[2][1] <= sum(1 for ns in run["sleep_ns"] if ns <= 500_000_000), b1
    # the second target: its own buckets; 1e-2 s is 10 ms exactly
    b2 = [(l["le"], v) for n, l, v in samples if n == "gosnoop_function_duration_seconds_bucket"
          and "env" not in l]
    assert [le for le, _ in b2] == ["0.01", "0.025", "1", "+Inf"], b2
    assert b2[-1][1] == n and all(a[1] <= b[1] for a, b in zip(b2, b2[1:])), b2
    cls = [v for n_, l, v in samples if n_ == "gosnoop_function_duration_seconds_count"
           and l["function"] == "main.classify"]
    assert cls == [own["main.classify"]], cls
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    # changing only the labels is a change: that target restarts
    with open(cfg) as f:
        new = f.read().replace("env: prod", "env: staging")
    replace_file(cfg, new)
    wait_line(d, r"reloaded .*: 2 targets \(1 kept, 1 new, 1 removed, 0 changed")
    envs = {l.get("env") for n, l, v in parse_metrics(d.get("/metrics")[2])
            if n == "gosnoop_probes_attached" and l.get("team")}
    assert envs == {"staging"}, envs
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_esbuild_http_server_under_serve():
    """A real Go HTTP server (esbuild --serve, go1.22) started after the
    daemon: every response stays byte-identical while each request's
    net/http calls show up in /metrics and in a real Prometheus."""
    path = os.path.join(gstest.tmpdir(), "esbuild")
    shutil.copy2(gstest.corpus("go1.22"), path)   # private: only this test's server counts
    funcs = ["net/http.(*conn).serve", "net/http.(*response).finishRequest"]
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: {json.dumps(funcs)}\n"
                       f"    latency: {json.dumps(funcs)}\n    labels: {{service: esbuild}}\n")
    d = Daemon(cfg)
    prom = Prometheus(d.port)
    try:
        payload = os.urandom(100_000)
        srv, port, _ = gstest.esbuild_serve(path, {"blob.bin": payload})
        url = f"http://127.0.0.1:{port}/blob.bin"

        def calls():
            s = parse_metrics(d.get("/metrics")[2])
            return ({l["function"]: v for n, l, v in s if n == "gosnoop_function_calls_total"},
                    {l["function"]: v for n, l, v in s
                     if n == "gosnoop_function_duration_seconds_count"})
        before, _ = calls()
        n = 40
        bodies = [urllib.request.urlopen(url, timeout=10).read() for _ in range(n)]
        assert all(b == payload for b in bodies), [len(b) for b in bodies]
        # urllib opens one connection per request: one (*conn).serve and
        # one finishRequest each; serve returns once the client hung up
        want = {f: before[f] + n for f in funcs}
        deadline = time.monotonic() + 15
        while calls() != (want, want) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert calls() == (want, want), (calls(), want)
        assert srv.poll() is None, "esbuild died under the probes"
        sel = f'{{job="gosnoop",service="esbuild"}}'
        prom.wait_for(f"gosnoop_function_calls_total{sel}", want)
        prom.wait_for(f"gosnoop_function_duration_seconds_count{sel}", want)
        srv.stdin.close()
        srv.wait(timeout=30)
    finally:
        assert prom.stop() == 0
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_no_series_before_a_functions_first_call():
    """A function has no series until it is called (what client libraries
    do for labelled metrics): -chatter 3 calls main.classify alone, 3
    times; main.fib and main.sleep10ms appear once the whole fixture ran,
    with its own counts. Before, every matched function wrote zeros (92 %
    of esbuild's net/http.* scrape)."""
    path = private_fixture()
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: [main.fib, main.classify]\n"
                       f"    latency: [main.sleep10ms, main.classify]\n")
    d = Daemon(cfg)

    def series():
        out = {}
        for n, l, v in parse_metrics(d.get("/metrics")[2]):
            if n.startswith("gosnoop_function_"):
                out.setdefault(n, {}).setdefault(l["function"], []).append(v)
        return out

    assert series() == {}
    r = plain_run(path, "-chatter", "3")
    assert r.returncode == 0 and r.stdout.count("CHILD line") == 3, r.stdout
    got = series()
    assert {n: sorted(fs) for n, fs in got.items()} == {
        "gosnoop_function_calls_total": ["main.classify"],
        "gosnoop_function_duration_seconds_bucket": ["main.classify"],
        "gosnoop_function_duration_seconds_sum": ["main.classify"],
        "gosnoop_function_duration_seconds_count": ["main.classify"],
        "gosnoop_function_calls_untimed_total": ["main.classify"],
    }, got
    assert got["gosnoop_function_calls_total"]["main.classify"] == [3]
    assert got["gosnoop_function_duration_seconds_count"]["main.classify"] == [3]
    own = own_record(plain_run(path).stdout)["counts"]
    got = series()
    assert got["gosnoop_function_calls_total"] == {
        "main.classify": [3 + own["main.classify"]], "main.fib": [own["main.fib"]]}, got
    assert got["gosnoop_function_duration_seconds_count"] == {
        "main.classify": [3 + own["main.classify"]], "main.sleep10ms": [own["main.sleep10ms"]]}, got
    # the probes were there all along
    attached = {l["kind"]: v for n, l, v in parse_metrics(d.get("/metrics")[2])
                if n == "gosnoop_probes_attached"}
    assert attached == {"count": 2, "latency": 2}, attached
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)


def test_reload_changes_a_target_probe_by_probe():
    """Adding a function to a target's count: list attaches that function
    alone: main.fib's probe stays attached (the same BPF link, per
    /proc/PID/fdinfo) and its counter keeps growing from where it was;
    the new function counts from its attach. Removing main.fib detaches
    its probe and leaves main.add's counter alone. Latency likewise.
    Before, any change restarted the whole target (counters from 0)."""
    path = private_fixture()
    head = f"targets:\n  - binary: {path}\n    labels: {{svc: calls}}\n"
    cfg = write_config(head + "    count: [main.fib]\n    latency: [main.classify]\n")
    d = Daemon(cfg, "--no-watch")

    def values():
        out = {}
        for n, l, v in parse_metrics(d.get("/metrics")[2]):
            if n in ("gosnoop_function_calls_total", "gosnoop_function_duration_seconds_count"):
                out[n.split("_")[2], l["function"]] = v
        return out

    def links():
        ids = set()
        for fd in os.listdir(f"/proc/{d.p.pid}/fd"):
            try:
                if os.readlink(f"/proc/{d.p.pid}/fd/{fd}") != "anon_inode:bpf_link":
                    continue
                with open(f"/proc/{d.p.pid}/fdinfo/{fd}") as f:
                    ids |= {int(l.split()[1]) for l in f if l.startswith("link_id:")}
            except OSError:
                pass
        return ids

    def reload(text, changed):
        with open(cfg, "w") as f:
            f.write(head + text)
        d.p.send_signal(signal.SIGHUP)
        wait_line(d, r"reloaded .*: 1 targets \(0 kept, 0 new, 0 removed, 1 changed: " + changed)

    r1 = own_record(plain_run(path).stdout)["counts"]
    v1 = values()
    assert v1 == {("calls", "main.fib"): r1["main.fib"],
                  ("duration", "main.classify"): r1["main.classify"]}, v1
    links1 = links()
    reload("    count: [main.fib, main.add]\n    latency: [main.classify, main.sleep10ms]\n",
           r"2 functions attached, 0 detached\)")
    links2 = links()
    assert links1 < links2 and len(links2 - links1) == 2, (links1, links2)   # two new, none gone
    r2 = own_record(plain_run(path).stdout)["counts"]
    assert values() == {
        ("calls", "main.fib"): r1["main.fib"] + r2["main.fib"],           # kept counting
        ("calls", "main.add"): r2["main.add"],                             # from its attach
        ("duration", "main.classify"): r1["main.classify"] + r2["main.classify"],
        ("duration", "main.sleep10ms"): r2["main.sleep10ms"],
    }, (values(), r1, r2)
    probes = json.loads(d.get("/debug/probes")[2])
    (t,) = probes["targets"][0]["processes"]
    assert (t["count"]["units"], t["latency"]["units"]) == (2, 2), t
    assert sorted(f["func"] for f in t["count"]["functions"]) == ["main.add", "main.fib"], t
    # main.fib and main.classify go: their units (links) go, the others stay
    reload("    count: [main.add]\n    latency: [main.sleep10ms]\n",
           r"0 functions attached, 2 detached\)")
    links3 = links()
    assert links3 == links2 - links1, (links1, links2, links3)
    r3 = own_record(plain_run(path).stdout)["counts"]
    assert values() == {
        ("calls", "main.add"): r2["main.add"] + r3["main.add"],
        ("duration", "main.sleep10ms"): r2["main.sleep10ms"] + r3["main.sleep10ms"],
    }, (values(), r2, r3)
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)


def test_reload_removing_one_function_keeps_the_others_counting():
    """count: [main.fib, main.add, main.leaf] is one unit (one BPF link of
    3 uprobes, per /proc/PID/fdinfo); a reload without main.leaf leaves
    it out of the unit (a link of 2 uprobes, funcprobe's reattach) and
    main.fib and main.add count on, exactly: after two runs of the
    fixture, twice its own counts. Latency likewise: main.classify's
    histogram goes on without main.sleep10ms."""
    path = private_fixture()
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: [main.fib, main.add, main.leaf]\n"
                       f"    latency: [main.classify, main.sleep10ms]\n")
    d = Daemon(cfg, "--no-watch")

    def uprobe_counts():
        out = []
        for fd in os.listdir(f"/proc/{d.p.pid}/fd"):
            try:
                if os.readlink(f"/proc/{d.p.pid}/fd/{fd}") != "anon_inode:bpf_link":
                    continue
                with open(f"/proc/{d.p.pid}/fdinfo/{fd}") as f:
                    out += [int(l.split()[1]) for l in f if l.startswith("uprobe_cnt:")]
            except OSError:
                pass
        return sorted(out)

    def values():
        out = {}
        for n, l, v in parse_metrics(d.get("/metrics")[2]):
            if n in ("gosnoop_function_calls_total", "gosnoop_function_duration_seconds_count"):
                out[n.split("_")[2], l["function"]] = v
        return out

    before = uprobe_counts()
    r1 = own_record(plain_run(path).stdout)["counts"]
    with open(cfg, "w") as f:
        f.write(f"targets:\n  - binary: {path}\n    count: [main.fib, main.add]\n"
                f"    latency: [main.classify]\n")
    d.p.send_signal(signal.SIGHUP)
    wait_line(d, r"reloaded .*: 1 targets \(0 kept, 0 new, 0 removed, 1 changed: "
              r"0 functions attached, 2 detached\)")
    # funcprobe closes a replaced link on a thread of its own: it may
    # still be open for a moment (seen: [3, 8] -> [2, 6, 8])
    deadline = time.monotonic() + 5
    while len(after := uprobe_counts()) > len(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    r2 = own_record(plain_run(path).stdout)["counts"]
    assert values() == {
        ("calls", "main.fib"): r1["main.fib"] + r2["main.fib"],
        ("calls", "main.add"): r1["main.add"] + r2["main.add"],
        ("duration", "main.classify"): r1["main.classify"] + r2["main.classify"],
    }, (values(), r1, r2)
    # count: 3 entry uprobes -> 2; latency: sleep10ms's entry and RETs gone
    assert 3 in before and 2 in after and len(after) == len(before), (before, after)
    assert sum(after) < sum(before) - 1, (before, after)
    (t,) = json.loads(d.get("/debug/probes")[2])["targets"][0]["processes"]
    assert (t["count"]["units"], t["count"]["sites"]) == (1, 2), t["count"]
    assert [f["func"] for f in t["latency"]["functions"]] == ["main.classify"], t["latency"]
    rc, secs = d.stop()
    assert rc == 0 and secs < 1.0, (rc, secs)
