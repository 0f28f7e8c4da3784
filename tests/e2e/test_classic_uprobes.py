"""The classic-uprobe path (kernels before 6.6 have no uprobe_multi;
--classic-uprobes and GOSNOOP_CLASSIC_UPROBES=1 take it here): every site
is one probe of a single tracefs uprobe event, opened as one perf event,
and each hit finds its site's cookie by address (src/bpf/fp_sites.h).

What must hold: 1000+ functions attach and detach in well under a second
each (one perf event per site took ~0.1 s each to detach: 109 s for 1012
functions); count, latency, trace and serve see exactly what they see
through uprobe_multi; a PIE falls back to a perf event per site; an event
a SIGKILLed gosnoop left behind is removed by the next one."""
import json
import os
import re
import signal
import subprocess
import time

import gstest
from gstest import GOSNOOP, Skip, fixture, spawn, tracee_ok, wait_for

SHARED = "classic uprobes (one tracefs event)"
ATTACHED = re.compile(r"attached (\d+) sites of (\d+) functions through (.+?) in ([\d.]+) ms")
DETACHED = re.compile(r"detached in ([\d.]+) ms")
UPROBE_EVENTS = "/sys/kernel/tracing/uprobe_events"


def gosnoop(args, env_classic=False, timeout=300):
    env = dict(os.environ)
    if env_classic:
        env["GOSNOOP_CLASSIC_UPROBES"] = "1"
    return subprocess.run([GOSNOOP] + args, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=env)


def records(stdout, typ):
    return [json.loads(l) for l in stdout.splitlines()
            if l.startswith('{"type"') and json.loads(l)["type"] == typ]


def own_counts(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith('{"counts"'):
            return json.loads(line)["counts"]
    raise AssertionError(f"fixture printed no counts: {stdout[-300:]!r}")


def our_events(pid):
    """Names of the shared uprobe events gosnoop `pid` holds."""
    try:
        with open(UPROBE_EVENTS) as f:
            text = f.read()
    except OSError:
        return set()
    return set(re.findall(rf"^p:gosnoop/(fp_{pid}_\d+) ", text, re.M))


def one_perf_event_ms():
    """attach + detach of one function through one classic perf event
    (one grace period): the floor the machine's speed sets"""
    r = gosnoop(["count", "-v", "-d", "0.1", fixture("calls"), "main.fib"],
                env_classic=True)
    assert r.returncode == 0, r.stderr
    return float(ATTACHED.search(r.stderr).group(4)) + float(DETACHED.search(r.stderr).group(1))


def test_1000_functions_attach_and_detach_in_one_event():
    path = fixture("calls")
    floor = one_perf_event_ms()
    for cmd, flag in (("count", True), ("latency", False)):
        # count by its option, latency by the environment (as serve)
        r = gosnoop(["--json", cmd, "-v"] + (["--classic-uprobes"] if flag else []) +
                    ["runtime.*", "--", path], env_classic=not flag)
        tracee_ok(r, f"calls under {cmd} of runtime.*")
        m = ATTACHED.search(r.stderr)
        assert m, r.stderr[-2000:]
        assert int(m.group(1)) > 1000 and m.group(3) == SHARED, m.group(0)
        d = DETACHED.search(r.stderr)
        assert d, r.stderr[-2000:]
        # one perf event per site: ~108 ms each here (109 s for 1012
        # functions, ~1000 floors); one event: ~0.1 s in all, about one
        # floor. Bounds for a loaded box, or a kernel under TCG.
        total = float(m.group(4)) + float(d.group(1))
        assert total < max(5000, 30 * floor), (m.group(0), d.group(0), floor)
        by = {rec["func"]: rec for rec in records(r.stdout, cmd)}
        if cmd == "count":
            assert by["runtime.main"]["count"] == 1     # once per program
        assert by["runtime.mallocgc"]["count"] > 100


def test_counts_exact_through_one_event():
    path = fixture("calls")
    r = gosnoop(["--json", "count", "-v", "--classic-uprobes", "main.*", "--", path])
    assert r.returncode == 0, r.stderr
    assert ATTACHED.search(r.stderr).group(3) == SHARED, r.stderr
    own = own_counts(r.stdout)
    got = {rec["func"]: rec["count"] for rec in records(r.stdout, "count")}
    for f, n in own.items():
        if f.startswith("main.") and f in got:
            assert got[f] == n, (f, got[f], n)
    assert got["main.fib"] == own["main.fib"] > 1000, (got, own)


def test_latency_pairs_every_call_through_one_event():
    path = fixture("calls")
    funcs = ["main.fib", "main.classify", "main.sleep10ms", "main.grow"]
    r = gosnoop(["--json", "latency", "-v", "--classic-uprobes"] + funcs + ["--", path])
    assert r.returncode == 0, r.stderr
    assert ATTACHED.search(r.stderr).group(3) == SHARED, r.stderr
    own = own_counts(r.stdout)
    got = {rec["func"]: rec for rec in records(r.stdout, "latency")}
    for f in funcs:
        assert got[f]["count"] == own[f], (f, got[f], own[f])
    assert got["main.sleep10ms"]["min_ns"] >= 10_000_000, got["main.sleep10ms"]


def test_trace_values_through_one_event():
    def calls(extra):
        r = gosnoop(["--json", "trace", "-v"] + extra +
                    ["main.greet", "main.add", "main.swap", "--", fixture("args")])
        assert r.returncode == 0, r.stderr
        return r, sorted(json.dumps([x["func"], x["args"], x.get("ret")], sort_keys=True)
                         for x in records(r.stdout, "call"))

    r, classic = calls(["--classic-uprobes"])
    assert ATTACHED.search(r.stderr) is None or SHARED in r.stderr, r.stderr
    assert "one tracefs event" in r.stderr, r.stderr
    _, multi = calls([])
    assert classic == multi and len(classic) >= 3, (classic, multi)


def test_serve_through_one_event():
    from test_serve import Daemon, parse_metrics, private_fixture, write_config
    path = private_fixture()
    cfg = write_config(f"""targets:
  - binary: {path}
    count: ["main.fib", "main.add"]
    latency: ["main.classify"]
""")
    old = os.environ.get("GOSNOOP_CLASSIC_UPROBES")
    os.environ["GOSNOOP_CLASSIC_UPROBES"] = "1"
    try:
        d = Daemon(cfg)
    finally:
        if old is None:
            del os.environ["GOSNOOP_CLASSIC_UPROBES"]
        else:
            os.environ["GOSNOOP_CLASSIC_UPROBES"] = old
    own = own_counts(subprocess.run([path], capture_output=True, text=True,
                                    timeout=120).stdout)
    _, _, text = d.get("/metrics")
    samples = parse_metrics(text)
    calls = {l["function"]: v for n, l, v in samples if n == "gosnoop_function_calls_total"}
    assert calls == {"main.fib": own["main.fib"], "main.add": own["main.add"]}, calls
    count = [v for n, l, v in samples if n == "gosnoop_function_duration_seconds_count"]
    assert count == [own["main.classify"]], (count, own)
    _, _, body = d.get("/debug/probes")
    (t,) = json.loads(body)["targets"][0]["processes"]
    assert t["mode"] == SHARED, t
    rc, secs = d.stop(signal.SIGTERM)
    assert rc == 0 and secs < 5, (rc, secs, "".join(d.stderr)[-1000:])
    assert not our_events(d.p.pid), "events left after SIGTERM"


def test_pie_keeps_a_perf_event_per_site():
    # a PIE is loaded at a different address in each process: sites
    # cannot be told by address, so each keeps its own perf event
    r = gosnoop(["--json", "count", "-v", "--classic-uprobes", "main.greet", "main.sum",
                 "--", fixture("demo-pie"), "-rounds", "2"])
    if r.returncode == 3 and "without bpf_get_attach_cookie" in r.stderr:
        # before 5.15 a perf event carries no cookie: a PIE's sites are
        # told apart only by address, in a running process (-p)
        raise Skip("no bpf_get_attach_cookie here: a PIE -- CMD is refused (exit 3)")
    assert r.returncode == 0, r.stderr
    m = ATTACHED.search(r.stderr)
    assert m and m.group(3) == "classic uprobes", r.stderr
    got = {rec["func"]: rec["count"] for rec in records(r.stdout, "count")}
    assert got.get("main.greet", 0) > 0, (got, r.stdout[-500:])


def test_event_left_by_a_killed_gosnoop_is_removed():
    p = spawn([GOSNOOP, "count", "-v", "--classic-uprobes", "-d", "60", fixture("calls"),
               "main.fib", "main.add"])
    wait_for(p.stderr, r"attached \d+ sites")
    left = our_events(p.pid)
    assert left, "no shared event while attached"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert our_events(p.pid) == left     # SIGKILL: nobody removed them
    r = gosnoop(["count", "-v", "--classic-uprobes", "-d", "0.1", fixture("calls"), "main.fib"])
    assert r.returncode == 0, r.stderr
    assert not our_events(p.pid), r.stderr
    assert f"left by gosnoop {p.pid}" in r.stderr, r.stderr


def test_relink_stress_counts_every_call_once_through_one_event():
    """test_overhead's relink stress on the classic path: every re-link
    opens a new shared event (new consumers, run before the old ones)
    before the old one closes, chunk 0's generation flipping; main.hot
    counted exactly where the attach cookie carries the generation."""
    import test_overhead
    counts, prog, relinks = test_overhead.relink_stress({"GOSNOOP_CLASSIC_UPROBES": "1"})
    assert prog["hot"] > 10000, prog
    if test_overhead.exact_across_switch():
        assert counts["main.hot"] == prog["hot"], (counts, prog, relinks)
        assert counts["main.cold"] == prog["cold"], (counts, prog, relinks)
    else:
        assert 0 < counts["main.hot"] <= prog["hot"], (counts, prog)
    assert relinks >= 2, relinks
