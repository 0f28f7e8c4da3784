"""gosnoop sched: goroutines seen from runtime.casgstatus, checked against
what the fixture program knows about itself and against the Go runtime's own
tracer (runtime/trace, read back with `go tool trace -d`).

The fixture (tests/fixtures/sched) writes one JSON line per goroutine it
started (kind, goroutine id parsed from runtime.Stack, start function).
"""
import json
import os
import re
import shutil
import subprocess
import time

import gstest
from gstest import GOSNOOP, ROOT, Skip, corpus, fixture, run, strip_copy, tmpdir

USAGE, NOKERNEL = 2, 3

# Counts the fixture is started with below.
N_SLEEPERS, N_WORKERS, N_SPINNERS, N_LOCKERS = 5, 4, 2, 3
SLEEP_MS = 40
FIXTURE_ARGS = ["-sleepers", str(N_SLEEPERS), "-workers", str(N_WORKERS),
                "-spinners", str(N_SPINNERS), "-lockers", str(N_LOCKERS),
                "-sleep", f"{SLEEP_MS}ms"]

# Wait reason each kind must have blocked with, as the release spells it
# (runtime/runtime2.go waitReasonStrings): sync.Mutex got its own reason in
# go1.20; before, a contended Lock parks as "semacquire".
REASONS = {
    "sleeper": {"sleep"},
    "chanworker": {"chan receive"},
    "locker": {"semacquire", "sync.Mutex.Lock"},
}
START = {"sleeper": "main.sleeper", "chanworker": "main.chanWorker",
         "spinner": "main.spinner", "locker": "main.locker",
         "main": "runtime.main"}


def parse_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def run_fixture(binary, trace=None):
    """gosnoop sched --json -- FIXTURE; returns (records, fixture report,
    CompletedProcess)."""
    d = tmpdir()
    out = os.path.join(d, "goroutines.json")
    args = ["--json", "sched", "--", binary] + FIXTURE_ARGS + ["-out", out]
    if trace:
        args += ["-trace", trace]
    r = run(args, timeout=120)
    recs = parse_lines(r.stdout)
    assert os.path.exists(out), f"fixture wrote no report; stderr {r.stderr!r}"
    mine = [json.loads(l) for l in open(out) if l.strip()]
    return recs, mine, r


def by_type(recs, t):
    return [x for x in recs if x.get("type") == t]


def check_against_fixture(recs, mine):
    gs = {(g["goid"]): g for g in by_type(recs, "goroutine")}
    trans = by_type(recs, "transition")
    assert gs, "no goroutine records"
    pids = {g["pid"] for g in gs.values()}
    assert len(pids) == 1, f"goroutines from several processes: {pids}"
    # every goroutine the fixture reported was seen, with its start function
    for m in mine:
        g = gs.get(m["goid"])
        assert g is not None, f"goroutine {m} not seen by gosnoop"
        assert g["start"] == START[m["kind"]], f"goroutine {m}: start {g['start']!r}"
        if m["kind"] != "main":
            assert g["created"], f"{m}: creation not seen"
            # main may exit while a goroutine runs its last instructions
            # after wg.Done(): it never reached goexit
            assert g["final"] in ("dead", "running", "runnable"), \
                f"{m}: final {g['final']!r}"
            assert g["creator"] == "main.main", f"{m}: creator {g['creator']!r}"
            assert g["creator_file"].endswith("sched/main.go")
    # counts per start function match what the fixture created
    want = {"main.sleeper": N_SLEEPERS, "main.chanWorker": N_WORKERS,
            "main.spinner": N_SPINNERS, "main.locker": N_LOCKERS}
    for start, n in want.items():
        seen = [g for g in gs.values() if g["start"] == start]
        assert len(seen) == n, f"{start}: {len(seen)} goroutines, want {n}"
        assert all(g["created"] for g in seen)
    # wait reasons per goroutine, from the transition stream
    reasons = {}
    for t in trans:
        if t["to"] == "waiting":
            reasons.setdefault(t["goid"], set()).add(t["reason"])
    for m in mine:
        want_r = REASONS.get(m["kind"])
        if want_r:
            got = reasons.get(m["goid"], set())
            assert got & want_r, f"{m}: wait reasons {got}, want one of {want_r}"
        if m["kind"] == "spinner":
            g = gs[m["goid"]]
            assert g["ns"]["running"] >= 5_000_000, f"spinner ran {g['ns']}"
    # sleepers slept about SLEEP_MS: waiting time at least that (under
    # qemu TCG with the host busy, one 40 ms sleep was seen as 35.4 ms of
    # waiting, once in many runs on 5.10: the emulated guest's timing,
    # not reproduced alone in 6 runs; there the band is wider)
    low = 0.80 if os.environ.get("GOSNOOP_UNDER_QEMU") else 0.95
    for m in mine:
        if m["kind"] == "sleeper":
            w = gs[m["goid"]]["ns"]["waiting"]
            assert w >= SLEEP_MS * 1e6 * low, f"sleeper {m['goid']} waited {w} ns"
            assert w < SLEEP_MS * 1e6 * 5, f"sleeper {m['goid']} waited {w} ns"
    # a goroutine's changes chain (from == the previous to), except where
    # the runtime changed its status without casgstatus (counted)
    for t in trans:
        for k in ("ts_ns", "pid", "tid", "goid", "from", "to"):
            assert k in t, f"transition without {k}: {t}"
    breaks, last = 0, {}
    for t in sorted(trans, key=lambda t: t["ts_ns"]):
        prev = last.get(t["goid"])
        if prev is not None and prev != t["from"]:
            breaks += 1
        last[t["goid"]] = t["to"]
    unseen = by_type(recs, "sched_stats")[0]["unseen_changes"]
    assert breaks <= unseen, f"{breaks} broken chains, {unseen} unseen changes"
    lat = by_type(recs, "sched_latency")
    assert len(lat) == 1 and lat[0]["buckets"], "no latency histogram"
    assert sum(b["count"] for b in lat[0]["buckets"]) > 0
    wr = {w["reason"]: w for w in by_type(recs, "wait_reason")}
    assert "sleep" in wr and wr["sleep"]["count"] >= N_SLEEPERS
    stats = by_type(recs, "sched_stats")
    assert len(stats) == 1
    st = stats[0]
    assert st["lost_events"] == 0 and st["lost_goroutine_ends"] == 0, st
    return gs, trans


def test_fixture_goroutines():
    recs, mine, r = run_fixture(fixture("sched"))
    assert len(mine) == 1 + N_SLEEPERS + N_WORKERS + N_SPINNERS + N_LOCKERS
    assert "sched fixture: 14 goroutines" in r.stdout, "tracee output changed"
    gs, _ = check_against_fixture(recs, mine)
    # go1.17+ `go f(x)` wrappers: start is f, the wrapper is start_pc_func
    s = next(g for g in gs.values() if g["start"] == "main.sleeper")
    assert re.fullmatch(r"main\.main\.(func|gowrap)\d+", s.get("start_pc_func", "")), s
    # a probe on an emulated instruction, as design.md asks
    st = by_type(recs, "sched_stats")[0]
    assert st["probe_emulated"], st


def test_fixture_stripped():
    recs, mine, _ = run_fixture(strip_copy(fixture("sched")))
    check_against_fixture(recs, mine)


def test_fixture_pie():
    if not shutil.which("go"):
        raise Skip("no go toolchain to build the PIE fixture")
    d = tmpdir()
    out = os.path.join(d, "sched-pie")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    subprocess.run(["go", "build", "-buildmode=pie", "-o", out, "./sched"],
                   cwd=os.path.join(ROOT, "tests", "fixtures"), env=env, check=True,
                   capture_output=True, timeout=300)
    recs, mine, _ = run_fixture(out)
    check_against_fixture(recs, mine)


def go_trace_events(trace_path):
    """Parsed events of a runtime/trace file: [(ts, name, {k: v})]."""
    r = subprocess.run(["go", "tool", "trace", "-d", trace_path], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0 or not r.stdout.strip():
        raise Skip(f"go tool trace -d failed: {r.stderr.strip()[:200]}")
    ev = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        kv = {}
        rest = []
        for p in parts[2:]:
            if "=" in p:
                k, v = p.split("=", 1)
                # the first g= is the goroutine running; a second (GoCreate,
                # GoUnblock, GoStart) is the target goroutine
                if k in kv:
                    k = "target_" + k
                kv[k] = v
            else:
                rest.append(p)
        ev.append((int(parts[0]), parts[1], kv))
    return ev


def test_against_go_tool_trace():
    if not shutil.which("go"):
        raise Skip("no go toolchain for `go tool trace`")
    d = tmpdir()
    trace = os.path.join(d, "trace.out")
    recs, mine, _ = run_fixture(fixture("sched"), trace=trace)
    gs, trans = check_against_fixture(recs, mine)
    ev = go_trace_events(trace)
    # goroutines the traced program created while tracing (creator g != 0;
    # g=0 GoCreate lines are the tracer's list of goroutines at start)
    created = {int(kv["target_g"]) for _, n, kv in ev
               if n == "GoCreate" and kv.get("g") != "0" and "target_g" in kv}
    ours_created = {g for g, r in gs.items() if r["created"]}
    assert created, "trace has no GoCreate"
    missing = created - ours_created
    assert not missing, f"created per go tool trace, not seen created by gosnoop: {missing}"
    # the fixture's goroutines were created inside the trace window
    for m in mine:
        if m["kind"] != "main":
            assert m["goid"] in created, f"{m} not created per go tool trace"
    # per goroutine: it blocked per the tracer iff gosnoop saw it wait;
    # and the same kind of block
    block_kind = {"GoSleep": "sleep", "GoBlockRecv": "chan receive",
                  "GoBlockSync": "sync"}
    blocked = {}
    for _, n, kv in ev:
        if n in block_kind:
            blocked.setdefault(int(kv["g"]), set()).add(block_kind[n])
    waited = {}
    for t in trans:
        if t["to"] == "waiting":
            waited.setdefault(t["goid"], set()).add(t["reason"])
    for m in mine:
        if m["kind"] in ("main", "spinner"):
            continue
        gid = m["goid"]
        assert gid in blocked, f"{m}: go tool trace saw no block"
        assert gid in waited, f"{m}: gosnoop saw no wait"
        want = {"sleeper": "sleep", "chanworker": "chan receive", "locker": "sync"}[m["kind"]]
        assert want in blocked[gid], f"{m}: trace blocks {blocked[gid]}"
    # goroutines the tracer saw end were seen dead by gosnoop
    ended = {int(kv["g"]) for _, n, kv in ev if n == "GoEnd"}
    for m in mine:
        if m["goid"] in ended:
            assert gs[m["goid"]]["final"] == "dead", (m, gs[m["goid"]])
    # running time of the spinners (they never block): GoStart -> the
    # event that takes the goroutine off its P, summed; within 2 ms / 15%
    off_p = {"GoEnd", "GoStop", "GoSched", "GoPreempt", "GoSleep", "GoBlock",
             "GoBlockSend", "GoBlockRecv", "GoBlockSelect", "GoBlockSync",
             "GoBlockCond", "GoBlockNet", "GoBlockGC", "GoSysBlock"}
    started, ran = {}, {}
    for ts, n, kv in ev:
        if n == "GoStart" and "target_g" in kv:
            started[int(kv["target_g"])] = ts
        elif n in off_p and "g" in kv and int(kv["g"]) in started:
            g = int(kv["g"])
            ran[g] = ran.get(g, 0) + ts - started.pop(g)
    for m in mine:
        if m["kind"] != "spinner":
            continue
        ours = gs[m["goid"]]["ns"]["running"]
        theirs = ran.get(m["goid"])
        assert theirs, f"{m}: no running interval in the trace"
        tol = max(2e6, 0.15 * theirs)
        assert abs(ours - theirs) <= tol, \
            f"spinner {m['goid']}: gosnoop running {ours} ns, go tool trace {theirs} ns"
    # sleep durations: GoSleep -> GoUnblock of the same goroutine in the
    # trace against gosnoop's waiting time (tolerance: 2 ms or 10%)
    sleep_start, slept = {}, {}
    for ts, n, kv in ev:
        if n == "GoSleep":
            sleep_start[int(kv["g"])] = ts
        elif n == "GoUnblock" and "target_g" in kv:
            g = int(kv["target_g"])
            if g in sleep_start:
                slept[g] = slept.get(g, 0) + ts - sleep_start.pop(g)
    for m in mine:
        if m["kind"] != "sleeper":
            continue
        ours = gs[m["goid"]]["ns"]["waiting"]
        theirs = slept.get(m["goid"])
        assert theirs, f"{m}: no GoSleep/GoUnblock pair in the trace"
        tol = max(2e6, 0.10 * theirs)
        assert abs(ours - theirs) <= tol, \
            f"sleeper {m['goid']}: gosnoop waiting {ours} ns, go tool trace {theirs} ns"


def test_events_text():
    r = run(["sched", "--events", "--", fixture("sched")] + FIXTURE_ARGS, timeout=120)
    lines = r.stdout.splitlines()
    hdr = [l for l in lines if l.startswith("TIME(s)")]
    assert len(hdr) == 1
    ev = [l for l in lines if re.match(r"^\d+\.\d{6} +\d+ +\d+ +\d+ +\w+ +-> +\w+", l)]
    assert len(ev) > 50, f"only {len(ev)} event lines"
    assert any("sleep" in l for l in ev)


def test_table_fits_80_columns_and_groups():
    r = run(["sched", "--", fixture("sched"), "-sleepers", "40"], timeout=120)
    body = r.stdout.split("sched fixture:", 1)[1]
    for line in body.splitlines():
        assert len(line) <= 80, f"{len(line)} columns: {line!r}"
    assert "COUNT START" in body, "many goroutines should be grouped"
    m = re.search(r"^\s+(\d+) main\.sleeper\s", body, re.M)
    assert m and int(m.group(1)) == 40, body
    assert "Scheduling latency" in body and "Wait reasons" in body


def test_exit_status_passthrough():
    # the command's own status comes back: the fixture with a bad flag
    # exits 2 (Go's flag package)
    r = run(["sched", "--", fixture("sched"), "-no-such-flag"], check=False, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "flag provided but not defined" in r.stderr


def test_duration_and_pid():
    # sleepers wake at 5 s, lockers get the mutex at 6 s: attached at
    # ~0.3 s (a start that may take seconds on a loaded machine or under
    # qemu: the sleepers must still be there) for 6.5 s, gosnoop sees
    # goroutines it did not see created
    p = subprocess.Popen([fixture("sched"), "-sleep", "5s", "-sleepers", "3",
                          "-hold", "6s"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        recs = parse_lines(run(["--json", "sched", "-d", "6.5", "-p", str(p.pid)],
                               timeout=60).stdout)
        gs = by_type(recs, "goroutine")
        assert gs and all(g["pid"] == p.pid for g in gs)
        sl = [g for g in gs if g["start"] == "main.sleeper"]
        assert len(sl) == 3, gs
        assert not any(g["created"] for g in sl), sl
        lk = [g for g in gs if g["start"] == "main.locker"]
        assert len(lk) == N_LOCKERS, gs
    finally:
        p.kill()
        p.wait()


def test_pid_exits_mid_trace():
    p = subprocess.Popen([fixture("sched"), "-sleep", "1500ms"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        r = run(["sched", "-d", "30", "-p", str(p.pid)], timeout=60)
        assert r.returncode == 0
        assert time.monotonic() - t0 < 10, "did not notice the exit"
        assert "goroutines" in r.stdout and "main.sleeper" in r.stdout
    finally:
        p.kill()
        p.wait()


def test_stripped_esbuild_corpus():
    for name in ("go1.16", "go1.26"):
        exe = corpus(name)
        d = tmpdir()
        src = os.path.join(d, "in.js")
        open(src, "w").write("let x = 1\n")
        r = run(["--json", "sched", "--", exe, src, "--minify"], timeout=120)
        recs = parse_lines(r.stdout)
        gs = by_type(recs, "goroutine")
        assert any(g["goid"] == 1 and g["start"] == "runtime.main" for g in gs), name
        assert any(g["start"].startswith("github.com/evanw/esbuild/") for g in gs), name
        assert by_type(recs, "sched_stats")[0]["probe_emulated"]
        assert "let x=1;" in r.stdout


def test_syscall_time_on_go125_and_go126():
    """go1.26 enters and leaves syscalls without casgstatus (a plain CAS in
    reentersyscall/exitsyscall): sched probes those two functions too.
    esbuild bundling N files parses each in its own goroutine, which opens
    and reads its file (strace shows the N openat calls): every one of
    those N goroutines must show syscall time, on go1.25 as on go1.26."""
    n = 12
    for name in ("go1.25", "go1.26"):
        exe = corpus(name)
        d = tmpdir()
        for i in range(1, n + 1):
            nxt = f"require('./f{i + 1}.js')" if i < n else "1"
            open(os.path.join(d, f"f{i}.js"), "w").write(
                f"module.exports = {nxt} + {i};\n")
        r = run(["--json", "sched", "--", exe, os.path.join(d, "f1.js"),
                 "--bundle", "--outfile=" + os.path.join(d, "out.js")],
                timeout=120)
        assert r.returncode == 0, r.stderr
        gs = by_type(parse_lines(r.stdout), "goroutine")
        scanners = [g for g in gs if "maybeParseFile" in g["start"]]
        assert len(scanners) == n, (name, len(scanners))
        in_syscall = [g for g in scanners if g["ns"]["syscall"] > 0]
        assert len(in_syscall) == n, (name, [g["ns"] for g in scanners])


def test_bad_inputs():
    def one_line(args, code, word):
        r = run(args, check=False, timeout=60)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gosnoop: "), r.stderr
        assert word.lower() in lines[0].lower(), lines[0]
    one_line(["sched", "-p", "999999"], USAGE, "no process")
    one_line(["sched", shutil.which("true")], USAGE, "Go")
    one_line(["sched", "--", "/nonexistent/cmd"], USAGE, "not found")
    one_line(["sched", "-d", "abc", fixture("sched")], USAGE, "duration")
    if os.geteuid() == 0 and shutil.which("setpriv"):
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            GOSNOOP, "sched", "-d", "1", fixture("sched")],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == NOKERNEL, (r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "root" in lines[0], r.stderr


def test_perfetto():
    d = tmpdir()
    pf = os.path.join(d, "trace.json")
    out = os.path.join(d, "goroutines.json")
    run(["sched", "--perfetto", pf, "--", fixture("sched")] + FIXTURE_ARGS + ["-out", out],
        timeout=120)
    mine = [json.loads(l) for l in open(out) if l.strip()]
    ev = json.load(open(pf))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M"}
    slices = [e for e in ev if e["ph"] == "X"]
    assert slices and all(e["dur"] >= 0 and e["ts"] >= 0 for e in slices)
    for m in mine:
        assert names.get(m["goid"]) == f"g{m['goid']} {START[m['kind']]}", (m, names.get(m["goid"]))
        if m["kind"] == "sleeper":
            sl = [e for e in slices if e["tid"] == m["goid"] and e["name"] == "sleep"]
            assert len(sl) == 1 and sl[0]["dur"] >= SLEEP_MS * 1000 * 0.95, sl
    # slices of one goroutine do not overlap
    by_g = {}
    for e in slices:
        by_g.setdefault((e["pid"], e["tid"]), []).append(e)
    for k, ss in by_g.items():
        ss.sort(key=lambda e: e["ts"])
        for a, b in zip(ss, ss[1:]):
            assert a["ts"] + a["dur"] <= b["ts"] + 0.01, (k, a, b)


def test_perfetto_goroutines_alive_at_attach():
    """-p --perfetto: the 30 goroutines blocked for the whole trace get a
    track and one slice named by their wait reason, as the summary lists
    them; a goroutine asleep at attach that wakes during the trace starts
    with a "sleep" slice (was none, and "reason 63"). Stripped too: the
    snapshot finds runtime.allgs through runtime.allgadd's code."""
    _perfetto_alive_at_attach(fixture("sched"))
    _perfetto_alive_at_attach(strip_copy(fixture("sched")))


def _perfetto_alive_at_attach(exe):
    n_lockers, n_sleepers = 30, 3
    p = subprocess.Popen([exe, "-sleepers", str(n_sleepers), "-sleep", "1500ms",
                          "-lockers", str(n_lockers), "-workers", "0", "-spinners", "0",
                          "-hold", "8s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.4)
        pf = os.path.join(tmpdir(), "trace.json")
        r = run(["--json", "sched", "-d", "2.5", "-p", str(p.pid), "--perfetto", pf],
                timeout=60)
    finally:
        p.kill()
        p.wait()
    gs = by_type(parse_lines(r.stdout), "goroutine")
    ev = json.load(open(pf))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M"}
    slices = {}
    for e in ev:
        if e["ph"] == "X":
            slices.setdefault(e["tid"], []).append(e)
    window_us = max(e["ts"] + e["dur"] for ss in slices.values() for e in ss)
    assert 2.3e6 <= window_us <= 3.5e6, window_us
    lockers = [g for g in gs if g["start"] == "main.locker"]
    assert len(lockers) == n_lockers, [g["start"] for g in gs]
    for g in lockers:
        assert names.get(g["goid"]) == f"g{g['goid']} main.locker", names.get(g["goid"])
        ss = slices.get(g["goid"], [])
        assert len(ss) == 1 and ss[0]["name"] == g["reason"], (g, ss)
        assert g["reason"] in REASONS["locker"]
        assert ss[0]["ts"] == 0 and ss[0]["dur"] >= 0.95 * window_us, ss
    # every goroutine of the summary has its track, and nothing else does
    assert set(names) == {g["goid"] for g in gs}, (names, gs)
    sleepers = [g for g in gs if g["start"] == "main.sleeper"]
    assert len(sleepers) == n_sleepers
    for g in sleepers:
        first = min(slices[g["goid"]], key=lambda e: e["ts"])
        # asleep 1.5 s from its start, some of it before the attach (how
        # much depends on how long attaching took); it wakes in the window
        assert first["name"] == "sleep" and first["ts"] == 0, slices[g["goid"]]
        assert 0 < first["dur"] <= 1.5e6 and first["dur"] < window_us, first
        assert len(slices[g["goid"]]) >= 2, slices[g["goid"]]
    assert not any(e["name"].startswith("reason ") for ss in slices.values() for e in ss)
    # --json: each sleeper's wake-up leaves the wait it was in at attach
    trans = by_type(parse_lines(r.stdout), "transition")
    for g in sleepers:
        woke = [t for t in trans if t["goid"] == g["goid"] and t["from"] == "waiting"]
        assert woke and woke[0]["from_reason"] == "sleep", woke[:1]


def test_filters():
    d = tmpdir()
    out = os.path.join(d, "goroutines.json")
    r = run(["--json", "sched", "--start", "main.sl*", "--", fixture("sched")] + FIXTURE_ARGS
            + ["-out", out], timeout=120)
    recs = parse_lines(r.stdout)
    gs = by_type(recs, "goroutine")
    assert len(gs) == N_SLEEPERS and all(g["start"] == "main.sleeper" for g in gs), gs
    ids = {g["goid"] for g in gs}
    assert all(t["goid"] in ids for t in by_type(recs, "transition"))
    # goroutine ids differ from run to run (per-P id caches), except 1
    recs = parse_lines(run(["--json", "sched", "--goid", "1", "--", fixture("sched")]
                           + FIXTURE_ARGS, timeout=120).stdout)
    gs = by_type(recs, "goroutine")
    assert [(g["goid"], g["start"]) for g in gs] == [(1, "runtime.main")], gs
    assert all(t["goid"] == 1 for t in by_type(recs, "transition"))


def test_start_pattern_matching_no_function_is_refused_before_the_run():
    """--start 'main.nosuch*' matches no function of the binary, so no
    goroutine's start: exit 2 and one line before the fixture runs (it
    ran, printed, and the error came after, with exit 0)."""
    r = run(["sched", "--start", "main.nosuch*", "--", fixture("sched")] + FIXTURE_ARGS,
            check=False, timeout=120)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "matches 'main.nosuch*'" in lines[0], r.stderr
    assert r.stdout == "", r.stdout


def _serve_and_trace(exe, requests=5):
    """esbuild --serve under `gosnoop sched -p`: one goroutine per HTTP
    connection. Returns gosnoop's JSON records."""
    import urllib.request
    srv, port, _ = gstest.esbuild_serve(exe, {"index.html": b"hi\n"})
    try:
        g = subprocess.Popen([GOSNOOP, "--json", "sched", "-d", "3", "-p", str(srv.pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # wait until the probe is in place
        line = g.stderr.readline()
        assert "tracing goroutines" in line, line
        for _ in range(requests):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                assert r.read() == b"hi\n"
        out, err = g.communicate(timeout=60)
        assert g.returncode == 0, err
        return parse_lines(out)
    finally:
        srv.kill()
        srv.wait()


def test_esbuild_serve_conn_goroutines():
    """One goroutine per connection, start net/http.(*conn).serve: ABI0
    (go1.16, no wrapper), go1.17 (·dwrap·), go1.20 (.funcN), go1.22
    (.gowrapN)."""
    wrappers = {"go1.16": None, "go1.17": r"·dwrap·\d+", "go1.20": r"\.func\d+",
                "go1.22": r"\.gowrap\d+"}
    for ver, wrap in wrappers.items():
        recs = _serve_and_trace(corpus(ver))
        conns = [g for g in by_type(recs, "goroutine")
                 if g["start"] == "net/http.(*conn).serve"]
        assert len(conns) >= 5, (ver, [g["start"] for g in by_type(recs, "goroutine")])
        for c in conns:
            if wrap:
                assert re.fullmatch(r"net/http\.\(\*Server\)\.Serve" + wrap,
                                    c.get("start_pc_func", "")), (ver, c)
            else:
                assert "start_pc_func" not in c, (ver, c)
            assert c["creator"] == "net/http.(*Server).Serve", (ver, c)
            assert c["created"]
        # the server waits for connections in the netpoller
        reasons = {w["reason"] for w in by_type(recs, "wait_reason")}
        assert "IO wait" in reasons, (ver, reasons)


def test_unknown_release():
    """A release the table lacks, without DWARF: one line naming it and
    what to do; the program is not started."""
    d = tmpdir()
    data = open(fixture("demo-stripped"), "rb").read()
    ver = re.search(rb"go1\.(\d+)\.\d+", data).group(0)
    fake = ver.replace(b"go1.", b"go1.9", 1)[:len(ver)]
    assert len(fake) == len(ver)
    p = os.path.join(d, "demo-unknown")
    open(p, "wb").write(data.replace(ver, fake))
    os.chmod(p, 0o755)
    r = run(["sched", "--", p, "-pause", "0"], check=False, timeout=60)
    assert r.returncode == USAGE, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and fake.decode() in lines[0] and "rt_tables" in lines[0], r.stderr
    assert r.stdout == "", "the command ran"


def test_tracee_output_unchanged():
    plain = subprocess.run([fixture("demo")], capture_output=True, text=True, timeout=60)
    traced = run(["sched", "--", fixture("demo")], timeout=60)
    assert traced.returncode == plain.returncode == 0
    assert traced.stdout.startswith(plain.stdout), (plain.stdout, traced.stdout[:500])
    assert "demo: done" in traced.stderr


def test_killed_gosnoop_leaves_tracee_alone():
    """SIGKILL to gosnoop: the probe goes with its file descriptors; the
    command finishes normally. SIGTERM: summary, the command gets the
    signal too, gosnoop exits with its status."""
    d = tmpdir()
    out = os.path.join(d, "out.json")
    g = subprocess.Popen([GOSNOOP, "sched", "--", fixture("sched"), "-sleep", "1500ms",
                          "-out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert "tracing goroutines" in g.stderr.readline()
    time.sleep(0.3)
    g.kill()
    g.wait()
    # the fixture (our grandchild, now orphaned) still finishes its work
    for _ in range(100):
        if os.path.exists(out) and os.path.getsize(out) > 0:
            break
        time.sleep(0.1)
    assert os.path.exists(out), "the traced command did not finish after gosnoop died"
    _assert_nothing_attached()
    g = subprocess.Popen([GOSNOOP, "sched", "--", fixture("sched"), "-sleep", "5s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "tracing goroutines" in g.stderr.readline()
    # the sleepers sleep 5 s: 2 s to start them (0.3 s was too few once
    # under a load average of 1,000: no goroutine yet, an empty summary)
    time.sleep(2)
    g.terminate()
    o, e = g.communicate(timeout=30)
    assert g.returncode == 128 + 15, (g.returncode, e)
    assert "main.sleeper" in o, o
    _assert_nothing_attached()


def _assert_nothing_attached():
    """No sched program left in the kernel (bpftool lists loaded ones;
    freeing is asynchronous, so allow a moment)."""
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    if not os.path.exists(bpftool):
        return
    for _ in range(50):
        r = subprocess.run([bpftool, "prog", "show"], capture_output=True, text=True)
        if "sched_casgstat" not in r.stdout:
            return
        time.sleep(0.1)
    raise AssertionError("a sched_casgstatus program is still loaded")


def test_interval_summaries():
    r = run(["sched", "-i", "0.4", "--", fixture("sched"), "-sleep", "1500ms"],
            timeout=60)
    heads = re.findall(r"^(\d+) goroutines \((\d+) ended\)", r.stdout, re.M)
    assert len(heads) >= 3, r.stdout
    # cumulative: ended counts never go down; the last one has them all
    ended = [int(e) for _, e in heads]
    assert ended == sorted(ended) and ended[-1] >= 14, heads


def test_path_target_all_processes():
    """TARGET PATH: every process running the binary, also ones started
    after gosnoop."""
    exe = fixture("sched")
    g = subprocess.Popen([GOSNOOP, "--json", "sched", "-d", "4", exe],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "tracing goroutines" in g.stderr.readline()
    for _ in range(2):
        p = subprocess.run([exe, "-sleep", "100ms"], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0
    out, err = g.communicate(timeout=60)
    assert g.returncode == 0, err
    gs = by_type(parse_lines(out), "goroutine")
    per_pid = {}
    for x in gs:
        per_pid.setdefault(x["pid"], []).append(x)
    assert len(per_pid) == 2, per_pid.keys()
    for pid, xs in per_pid.items():
        assert sum(1 for x in xs if x["start"] == "main.sleeper") == N_SLEEPERS


def test_table_pid_column_with_two_processes():
    """TARGET PATH run twice: the table has a PID column (two "1
    runtime.main" rows looked the same), its PIDs the two processes';
    grouped, one group per process; one process: no PID column."""
    # a copy of its own: a PATH target is every process running the file,
    # other tests' too
    exe = os.path.join(tmpdir(), "sched")
    shutil.copy(fixture("sched"), exe)
    for opts, extra, grouped in ((["--all"], [], False), ([], ["-sleepers", "30"], True)):
        g = subprocess.Popen([GOSNOOP, "sched", "-d", "4"] + opts + [exe], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert "tracing goroutines" in g.stderr.readline()
        pids = set()
        for _ in range(2):
            p = subprocess.Popen([exe, "-sleep", "100ms"] + extra,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pids.add(p.pid)
            assert p.wait(timeout=30) == 0
        out, err = g.communicate(timeout=60)
        assert g.returncode == 0, err
        lines = out.splitlines()
        head = [i for i, l in enumerate(lines) if " START " in l][0]
        assert lines[head].split()[:3] == ["PID", "COUNT" if grouped else "GOID", "START"], out
        rows = []
        for l in lines[head + 1:]:
            if not l.strip() or l.startswith("("):
                break
            rows.append(l.split())
            # the PID column takes its width from START's: a group's line
            # (its last column a count) still fits 80 columns
            assert not grouped or len(l) <= 80, l
        assert {int(x[0]) for x in rows} == pids, (pids, out)
        if grouped:
            sl = [x for x in rows if x[2] == "main.sleeper"]
            assert sorted(int(x[0]) for x in sl) == sorted(pids) and \
                all(x[1] == "30" for x in sl), out
        else:
            mains = [x for x in rows if x[1] == "1"]
            assert sorted(int(x[0]) for x in mains) == sorted(pids), out
            assert all(x[2] == "runtime.main" for x in mains), out
    one = run(["sched", "--", exe, "-sleep", "10ms"], timeout=60).stdout
    assert re.search(r"^\s+GOID START ", one, re.M), one


def test_path_target_goroutines_alive_at_attach():
    """TARGET PATH with two processes already running it at the attach:
    their goroutines blocked for the whole trace are listed, each process
    read from its runtime.allgs as -p does (they were missing: only
    goroutines that changed state showed), with their wait reasons, a
    Perfetto track each and a PID column."""
    exe = os.path.join(tmpdir(), "sched")
    shutil.copy(fixture("sched"), exe)
    n_lockers = 4
    procs = [subprocess.Popen([exe, "-sleepers", "0", "-lockers", str(n_lockers),
                               "-workers", "1", "-spinners", "0", "-hold", "8s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(2)]
    try:
        time.sleep(0.4)
        pf = os.path.join(tmpdir(), "trace.json")
        r = run(["--json", "sched", "-d", "1.5", "--perfetto", pf, exe], timeout=60)
        table = run(["sched", "--all", "-d", "0.5", exe], timeout=60).stdout
        for p in procs:
            assert p.poll() is None, "the fixture ended early"
    finally:
        for p in procs:
            p.kill()
            p.wait()
    gs = by_type(parse_lines(r.stdout), "goroutine")
    tracks = {(e["pid"], e["tid"]): e["args"]["name"]
              for e in json.load(open(pf))["traceEvents"] if e["ph"] == "M"}
    for p in procs:
        lk = [g for g in gs if g["pid"] == p.pid and g["start"] == "main.locker"]
        assert len(lk) == n_lockers, (p.pid, [(g["pid"], g["start"]) for g in gs])
        for g in lk:
            assert g["reason"] in REASONS["locker"] and not g["created"], g
            assert g["ns"]["waiting"] >= 1.3e9, g
            assert tracks.get((p.pid, g["goid"])) == f"g{g['goid']} main.locker", tracks
        mains = [g for g in gs if g["pid"] == p.pid and g["goid"] == 1]
        assert len(mains) == 1 and mains[0]["start"] == "runtime.main", mains
    # PID GOID START ...: a row per locker, its process's PID first
    rows = [l.split() for l in table.splitlines() if " main.locker " in l]
    assert sorted(int(x[0]) for x in rows) == sorted(p.pid for p in procs
                                                     for _ in range(n_lockers)), table


def test_pid_goroutines_alive_at_attach():
    """-p on a binary with symbols: goroutines blocked for the whole trace
    are listed from runtime.allgs, with their wait reasons."""
    p = subprocess.Popen([fixture("sched"), "-sleep", "5s", "-sleepers", "3",
                          "-hold", "5s"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.4)
        recs = parse_lines(run(["--json", "sched", "-d", "0.5", "-p", str(p.pid)],
                               timeout=60).stdout)
        gs = by_type(recs, "goroutine")
        sl = [g for g in gs if g["start"] == "main.sleeper"]
        assert len(sl) == 3 and all(g.get("reason") == "sleep" for g in sl), gs
        lk = [g for g in gs if g["start"] == "main.locker"]
        assert len(lk) == N_LOCKERS, gs
        assert all(g.get("reason") in REASONS["locker"] for g in lk), lk
        assert all(g["ns"]["waiting"] >= 0.4e9 for g in sl + lk)
        assert not any(g["created"] for g in gs)
    finally:
        p.kill()
        p.wait()
