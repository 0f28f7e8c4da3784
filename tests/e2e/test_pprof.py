"""--pprof on sched and trace: the profile is read back by Go's own reader
(`go tool pprof -raw`, `-top`) and its samples checked against what the
fixture program (tests/fixtures/blocker) measured itself:

- sched: main.napper sleeps -nap, main.receiver waits on a channel and
  main.waitLock on a mutex for -hold; each wait must show, under its wait
  reason, on the stack where the goroutine parked, with the time the
  program measured around it (the kernel sees park to wake-up, the program
  a little more: the scheduling latency after it).
- trace: main.leaf is called -a times from main.callerA and -b times from
  main.callerB; main.slowLeaf -slow times from main.callerB, each sleeping
  -slowfor: calls per stack exactly, time within what callerB measured.
Plain and stripped binaries alike (names from pclntab).
"""
import json
import os
import re
import shutil
import subprocess

from gstest import GOSNOOP, ROOT, Skip, fixture, run, spawn, tmpdir, tracee_ok

USAGE = 2
NAP_MS, HOLD_MS, A, B, SLOW, SLOW_MS = 300, 200, 7, 3, 2, 50
FIXTURE_ARGS = ["-nap", f"{NAP_MS}ms", "-hold", f"{HOLD_MS}ms", "-a", str(A),
                "-b", str(B), "-slow", str(SLOW), "-slowfor", f"{SLOW_MS}ms"]


def go_tool():
    for g in (os.environ.get("GOSNOOP_GO"), shutil.which("go"), "/usr/bin/go"):
        if g and os.access(g, os.X_OK):
            return g
    raise Skip("no go toolchain for `go tool pprof`")


def pprof_tool(args, path):
    r = subprocess.run([go_tool(), "tool", "pprof"] + args + [path],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"go tool pprof {' '.join(args)}: {r.stderr}"
    return r.stdout


def read_raw(path):
    """`go tool pprof -raw`: (value type names, samples), each sample a dict
    values {type: int}, stack [function names, leaf first, inlined frames
    expanded], labels {key: value}."""
    text = pprof_tool(["-raw"], path)
    lines = text.splitlines()
    i = lines.index("Samples:")
    types = [t.split("/")[0] for t in lines[i + 1].split()]
    raw_samples, locs = [], {}
    j = i + 2
    while j < len(lines) and lines[j] != "Locations":
        m = re.match(r"^\s+([\d\s]+):((?:\s+\d+)*)\s*$", lines[j])
        if m:
            vals = [int(v) for v in m.group(1).split()]
            ids = [int(v) for v in m.group(2).split()]
            raw_samples.append({"values": dict(zip(types, vals)), "ids": ids, "labels": {}})
        elif raw_samples:
            for k, v in re.findall(r"(\w+):\[([^\]]*)\]", lines[j]):
                raw_samples[-1]["labels"][k] = v
        j += 1
    cur = None
    for line in lines[j + 1:]:
        if line == "Mappings":
            break
        m = re.match(r"^\s+(\d+): 0x[0-9a-f]+ M=\d+ (.*) \S*:\d+ s=\d+$", line)
        if m:
            cur = int(m.group(1))
            locs[cur] = [m.group(2)]
            continue
        m = re.match(r"^\s+(.*) \S*:\d+ s=\d+$", line)
        if m and cur is not None:
            locs[cur].append(m.group(1))
    samples = []
    for s in raw_samples:
        stack = [f for lid in s["ids"] for f in locs[lid]]
        samples.append({"values": s["values"], "stack": stack, "labels": s["labels"]})
    assert samples, text
    return types, samples


def program_said(stdout):
    for line in stdout.splitlines():
        if line.startswith("{") and '"nap_ns"' in line:
            return json.loads(line)
    raise AssertionError(f"the fixture printed no result line: {stdout[-2000:]}")


def below(stack, callee, caller):
    """caller is the frame right under callee in stack."""
    return any(stack[k] == callee and stack[k + 1] == caller for k in range(len(stack) - 1))


def close_to_program(kernel_ns, program_ns, what):
    # the kernel's park..wake-up is inside the program's time.Now()..
    # time.Since(): never more, less by the scheduling latency at most
    assert kernel_ns <= program_ns + 100_000, (what, kernel_ns, program_ns)
    assert kernel_ns >= program_ns * 0.9 - 5_000_000, (what, kernel_ns, program_ns)


def sched_profile(binary):
    out = os.path.join(tmpdir(), "sched.pb.gz")
    r = run(["sched", "--pprof", out, "--", binary] + FIXTURE_ARGS, check=False, timeout=120)
    tracee_ok(r)
    return out, program_said(r.stdout)


def check_sched(binary):
    path, said = sched_profile(binary)
    types, samples = read_raw(path)
    assert types == ["waits", "delay"], types

    def waits_in(func, reasons):
        got = [s for s in samples if func in s["stack"]]
        assert got, f"no sample with {func}: {[s['stack'] for s in samples]}"
        for s in got:
            assert s["labels"].get("reason") in reasons, (func, s)
            assert s["stack"][0] == "wait: " + s["labels"]["reason"], s
            assert "wait" not in s["labels"], s  # ended, not in progress
        return got

    # every frame a Go function (the walk never runs past the goroutine's
    # frames into stale words), a go statement's goroutine ending at goexit
    for s in samples:
        assert not [f for f in s["stack"] if f.startswith("0x")], s
    nap = waits_in("main.napper", {"sleep"})
    assert nap[0]["stack"][-1] == "runtime.goexit", nap[0]["stack"]
    assert sum(s["values"]["waits"] for s in nap) == 1, nap
    assert below(nap[0]["stack"], "time.Sleep", "main.napper"), nap[0]["stack"]
    close_to_program(sum(s["values"]["delay"] for s in nap), said["nap_ns"], "sleep")

    recv = waits_in("main.receiver", {"chan receive"})
    assert sum(s["values"]["waits"] for s in recv) == 1, recv
    assert below(recv[0]["stack"], "runtime.chanrecv1", "main.receiver"), recv[0]["stack"]
    close_to_program(sum(s["values"]["delay"] for s in recv), said["recv_ns"], "receive")

    # go1.19 parks a contended Lock as "semacquire", 1.20+ "sync.Mutex.Lock"
    lock = waits_in("main.waitLock", {"semacquire", "sync.Mutex.Lock"})
    assert any("sync.(*Mutex).Lock" in s["stack"] for s in lock), lock
    close_to_program(sum(s["values"]["delay"] for s in lock), said["lock_ns"], "lock")

    slow = waits_in("main.slowLeaf", {"sleep"})
    assert sum(s["values"]["waits"] for s in slow) == SLOW, slow
    assert all(below(s["stack"], "main.slowLeaf", "main.callerB") for s in slow), slow
    slow_ns = sum(s["values"]["delay"] for s in slow)
    assert SLOW * SLOW_MS * 1e6 * 0.99 <= slow_ns <= said["callerB_ns"], (slow_ns, said)
    return path, said


def test_sched_pprof():
    check_sched(fixture("blocker"))


def test_sched_pprof_stripped():
    check_sched(fixture("blocker-stripped"))


def test_sched_pprof_top():
    """What a user types: -top with a focus gives the napper's sleep."""
    path, said = sched_profile(fixture("blocker"))
    text = pprof_tool(["-top", "-unit=ns", "-nodefraction=0", "-focus=^main\\.napper$"], path)
    m = re.search(r"Showing nodes accounting for (\d+)ns, [\d.]+% of \d+ns total", text)
    assert m, text
    close_to_program(int(m.group(1)), said["nap_ns"], "-top -focus main.napper")
    # all of it flat in the reason's leaf frame
    m = re.search(r"^\s*(\d+)ns\s.*\swait: sleep$", text, re.M)
    assert m and int(m.group(1)) > 0, text
    close_to_program(int(m.group(1)), said["nap_ns"], "-top flat of 'wait: sleep'")


def test_sched_pprof_goroutine_filters():
    """--start and --goid keep only the goroutines asked for in the
    profile too: --start main.napper gives the napper's one sleep and
    nothing else; --goid 1 (runtime.main's goroutine, which sleeps -hold,
    waits for the others, and runs callerB's -slow sleeps) none of the
    three goroutines main started (nor any other)."""
    out = os.path.join(tmpdir(), "start.pb.gz")
    r = run(["sched", "--pprof", out, "--start", "main.napper", "--", fixture("blocker")]
            + FIXTURE_ARGS, check=False, timeout=120)
    tracee_ok(r)
    said = program_said(r.stdout)
    _, samples = read_raw(out)
    assert all("main.napper" in s["stack"] for s in samples), [s["stack"] for s in samples]
    assert sum(s["values"]["waits"] for s in samples) == 1, samples
    close_to_program(samples[0]["values"]["delay"], said["nap_ns"], "--start main.napper")

    out = os.path.join(tmpdir(), "goid.pb.gz")
    r = run(["sched", "--pprof", out, "--goid", "1", "--", fixture("blocker")] + FIXTURE_ARGS,
            check=False, timeout=120)
    tracee_ok(r)
    _, samples = read_raw(out)
    others = {"main.napper", "main.receiver", "main.waitLock"}
    assert not [s for s in samples if others & set(s["stack"])], [s["stack"] for s in samples]
    # goroutine 1 runs runtime.main (its gcenable waits too) and main.main
    assert all("runtime.main" in s["stack"] for s in samples), [s["stack"] for s in samples]
    slow = [s for s in samples if below(s["stack"], "time.Sleep", "main.slowLeaf")]
    assert sum(s["values"]["waits"] for s in slow) == SLOW, [s["stack"] for s in samples]


def check_trace(binary):
    out = os.path.join(tmpdir(), "trace.pb.gz")
    r = run(["trace", "--pprof", out, "main.leaf", "main.slowLeaf", "--", binary]
            + FIXTURE_ARGS, check=False, timeout=120)
    tracee_ok(r)
    said = program_said(r.stdout)
    # calls are not printed with --pprof (as with --folded)
    assert "main.leaf(" not in r.stdout, r.stdout
    types, samples = read_raw(out)
    assert types == ["calls", "time"], types

    def calls(leaf, caller):
        return [s for s in samples if s["stack"][0] == leaf and s["stack"][1] == caller]

    a, b = calls("main.leaf", "main.callerA"), calls("main.leaf", "main.callerB")
    assert sum(s["values"]["calls"] for s in a) == said["a"] == A, samples
    assert sum(s["values"]["calls"] for s in b) == said["b"] == B, samples
    leaf_total = sum(s["values"]["calls"] for s in samples if s["stack"][0] == "main.leaf")
    assert leaf_total == A + B, samples
    assert all(s["stack"][2] == "main.main" for s in a + b), samples
    for s in samples:
        assert not [f for f in s["stack"] if f.startswith("0x")], s
    slow = calls("main.slowLeaf", "main.callerB")
    assert sum(s["values"]["calls"] for s in slow) == SLOW, samples
    slow_ns = sum(s["values"]["time"] for s in slow)
    assert SLOW * SLOW_MS * 1e6 <= slow_ns <= said["callerB_ns"], (slow_ns, said)
    # a leaf call takes nanoseconds to microseconds, not the sleeps' time
    assert sum(s["values"]["time"] for s in a + b) < SLOW_MS * 1e6, samples


def test_trace_pprof():
    check_trace(fixture("blocker"))


def test_trace_pprof_stripped():
    check_trace(fixture("blocker-stripped"))


def test_pprof_unwritable():
    for verb in (["sched"], ["trace", "main.leaf"]):
        r = subprocess.run([GOSNOOP] + verb[:1] + ["--pprof", "/nonexistent/dir/p.pb.gz"]
                           + verb[1:] + ["--", fixture("blocker")],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == USAGE, (verb, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "--pprof /nonexistent/dir/p.pb.gz" in lines[0], r.stderr


def test_pprof_not_left_empty_when_the_command_fails():
    """The FILE checked up front is not created by the check: a command that
    then fails (here: a pattern that matches nothing) leaves no empty
    profile behind, and one that existed is kept as it was."""
    d = tmpdir()
    out = os.path.join(d, "p.pb.gz")
    r = subprocess.run([GOSNOOP, "trace", "--pprof", out, "main.nosuch", "--", fixture("blocker")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == USAGE, (r.returncode, r.stderr)
    assert not os.path.exists(out), os.listdir(d)
    with open(out, "wb") as f:
        f.write(b"old")
    r = subprocess.run([GOSNOOP, "sched", "--pprof", out, "--goid", "x", "--", fixture("blocker")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == USAGE, (r.returncode, r.stderr)
    assert open(out, "rb").read() == b"old"


def _toolchain_blocker(ver):
    """The blocker fixture built (stripped) by go<ver> from the toolchain
    cache (scripts/fetch-go-toolchains.sh), or Skip."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "difftrace"))
    import run as difftrace  # noqa: E402
    have = difftrace.toolchains()
    if ver not in have:
        raise Skip(f"go{ver} not available (scripts/fetch-go-toolchains.sh)")
    out = os.path.join(tmpdir(), f"blocker-go{ver}")
    env = difftrace.go_env(have[ver], ver)
    env.update(GO111MODULE="on", GOFLAGS="-mod=mod")
    r = subprocess.run([os.path.join(have[ver], "bin", "go"), "build", "-o", out,
                        "-ldflags=-s -w", "./blocker"],
                       cwd=os.path.join(ROOT, "tests", "fixtures"), env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out


def _every_release(ver):
    b = _toolchain_blocker(ver)
    check_sched(b)
    check_trace(b)


# ABI0 (1.15), sync.Mutex's own wait reason (1.20+), the g layouts of each
def test_pprof_go1_15():
    _every_release("1.15")


def test_pprof_go1_21():
    _every_release("1.21")


def test_pprof_go1_22():
    _every_release("1.22")


def test_pprof_go1_23():
    _every_release("1.23")


def test_pprof_go1_24():
    _every_release("1.24")


def test_sched_pprof_attach_parked_before():
    """-p on a process whose goroutines parked before the attach and stay
    parked: their stacks are read from the process (gp.sched), their wait
    counted from the attach to the end, labelled in progress."""
    import time
    proc = spawn([fixture("blocker-stripped"), "-nap", "5s", "-hold", "4s"])
    time.sleep(0.5)
    out = os.path.join(tmpdir(), "attach.pb.gz")
    r = run(["sched", "-d", "1", "--pprof", out, "-p", str(proc.pid)], timeout=60)
    assert proc.poll() is None, "the fixture ended early"
    _, samples = read_raw(out)
    for func, reasons in (("main.napper", {"sleep"}), ("main.receiver", {"chan receive"}),
                          ("main.waitLock", {"semacquire", "sync.Mutex.Lock"})):
        got = [s for s in samples if func in s["stack"]]
        assert len(got) == 1, (func, samples)
        s = got[0]
        assert s["labels"] == {"wait": "in progress", "reason": s["labels"]["reason"]}, s
        assert s["labels"]["reason"] in reasons, s
        assert s["stack"][0] == "wait: " + s["labels"]["reason"], s
        assert s["values"]["waits"] == 1, s
        # the window: -d 1 after the attach
        assert 0.95e9 <= s["values"]["delay"] <= 1.6e9, (s, r.stderr)


def test_sched_pprof_attach_woken_in_the_window():
    """-p on a process whose goroutines parked before the attach and wake
    during the trace: each of those waits is in the profile (it was left
    out: the probe never saw the park, so the wake-up had no stack to
    count under), on the stack where it parked (read at the attach), as
    one ended wait counted from the attach to the wake-up and labelled
    wait=began before attach."""
    import time
    nap_s, hold_s = 3.0, 2.0
    t0 = time.monotonic()
    proc = spawn([fixture("blocker-stripped"), "-nap", f"{nap_s}s", "-hold", f"{hold_s}s"])
    time.sleep(0.3)
    out = os.path.join(tmpdir(), "woken.pb.gz")
    g = subprocess.Popen([GOSNOOP, "sched", "-d", "30", "--pprof", out, "-p", str(proc.pid)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    line = g.stderr.readline()
    t_line = time.monotonic()
    assert "tracing goroutines" in line, line + g.stderr.read()
    # the tracing ends when the fixture does (after its 3 s nap)
    err = g.communicate(timeout=120)[1]
    assert g.returncode == 0, err
    said = program_said(proc.communicate(timeout=30)[0])
    if t_line >= t0 + hold_s:
        raise Skip(f"the attach took {t_line - t0:.1f} s: every wait ended before it")
    _, samples = read_raw(out)
    for func, reasons, wait_s, prog_ns in (
            ("main.napper", {"sleep"}, nap_s, said["nap_ns"]),
            ("main.receiver", {"chan receive"}, hold_s, said["recv_ns"]),
            ("main.waitLock", {"semacquire", "sync.Mutex.Lock"}, hold_s, said["lock_ns"])):
        got = [s for s in samples if func in s["stack"]]
        assert len(got) == 1, (func, samples)
        s = got[0]
        assert s["labels"] == {"wait": "began before attach",
                               "reason": s["labels"]["reason"]}, s
        assert s["labels"]["reason"] in reasons, s
        assert s["stack"][0] == "wait: " + s["labels"]["reason"], s
        assert s["values"]["waits"] == 1, s
        # from the attach (before the tracing line; after the wait began)
        # to the wake-up (after t0 + the wait; inside the program's own
        # measure of the whole wait)
        assert (t0 + wait_s - t_line) * 1e9 <= s["values"]["delay"] <= prog_ns + 100_000, \
            (func, s, t_line - t0, prog_ns)
    nap = [s for s in samples if "main.napper" in s["stack"]][0]
    assert below(nap["stack"], "time.Sleep", "main.napper"), nap["stack"]


def test_pprof_pie_stripped():
    """A stripped PIE: run-time addresses moved back by the load bias
    (trace: from where the entry probe fired; sched: from the process)."""
    go = go_tool()
    out = os.path.join(tmpdir(), "blocker-pie-stripped")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    subprocess.run([go, "build", "-buildmode=pie", "-ldflags=-s -w", "-o", out, "./blocker"],
                   cwd=os.path.join(ROOT, "tests", "fixtures"), env=env, check=True,
                   capture_output=True, timeout=300)
    check_sched(out)
    check_trace(out)
    # the same bias serves --stack (it printed hex addresses there)
    r = run(["trace", "--stack", "main.leaf", "--", out, "-a", "1", "-b", "0", "-slow", "0",
             "-nap", "1ms", "-hold", "1ms"], check=False, timeout=60)
    tracee_ok(r)
    assert "    main.callerA (" in r.stdout, r.stdout


def test_sched_pprof_esbuild_go1_13():
    """A real stripped binary of the oldest release: go1.13's main
    goroutine has a stale frame pointer above runtime.main; the walk stops
    at the last Go frame instead of naming a heap address (it did)."""
    from gstest import corpus
    binary = corpus("go1.13")
    d = tmpdir()
    for i in range(8):
        with open(os.path.join(d, f"m{i}.js"), "w") as f:
            f.write(f"export function f{i}(x) {{ return x + {i} }}\n")
    with open(os.path.join(d, "entry.js"), "w") as f:
        f.write("".join(f"import {{f{i}}} from './m{i}.js'; console.log(f{i}(1));\n"
                        for i in range(8)))
    out = os.path.join(d, "es.pb.gz")
    r = run(["sched", "--pprof", out, "--", binary, os.path.join(d, "entry.js"), "--bundle",
             "--outfile=" + os.path.join(d, "out.js")], check=False, timeout=120)
    tracee_ok(r, "esbuild")
    _, samples = read_raw(out)
    assert any("esbuild/bundler.ScanBundle" in s["stack"] for s in samples), samples
    for s in samples:
        assert not [f for f in s["stack"] if f.startswith("0x")], s
        if "main.main" in s["stack"]:
            assert s["stack"][-1] == "runtime.main", s
