"""The overhead budget (issue 16): count/latency --max-overhead, the
warning without it, gosnoop cost, the per-boot calibration cache.

Ground truth: tests/fixtures/hotcold prints how often it called main.hot
(a tight loop: its probe costs the program far more than 5%) and
main.cold (every 20 ms: a few hundred us of probes a second); the boot id
is the kernel's (/proc/sys/kernel/random/boot_id)."""
import json
import os
import subprocess
import time

from gstest import GOSNOOP, Skip, fixture, run, tmpdir

COLD_PERIOD_S = 0.020   # hotcold's -every default
# Under qemu TCG (the kernel matrix) a busy host stalls the guest's vCPUs:
# the guest counts the stall as the program's CPU time (no steal time), so
# hits per CPU-second, hence main.hot's estimated share, fell 4x (17 % to
# under 5 %: not throttled), and a calibration made during a stall read
# 3.4 ms a hit (main.cold then throttled). There the per-hit costs are
# given and the budget is 1 %. Given below what every kernel's hit costs
# under TCG (calibrated idle: 5.10 1.7/15-27/15-28 us emulated/stepped/
# RET, 6.12 1.5/38/39 us): a cost set above the truth (6.12's on 5.10)
# made CPU minus the probes' estimate, the program's own work, small, and
# every share large (main.cold's 2.9 %); below it, main.hot's share is
# still 11 % or more, main.cold's under 0.1 %.
UNDER_QEMU = bool(os.environ.get("GOSNOOP_UNDER_QEMU"))
BUDGET = "1" if UNDER_QEMU else "5"
QEMU_ENV = {"GOSNOOP_UPROBE_COST": "1000,10000,10000"} if UNDER_QEMU else {}
_cookie = []


def exact_across_switch():
    """Whether a function kept is counted exactly while others go off:
    with bpf_get_attach_cookie (5.15+) the new probes come first and a
    generation flip picks which count (src/bpf/fp_sites.h); without it the
    by-address programs close the old probes first, and calls in between
    (~0.1 s of main.cold's every 20 ms) are missed."""
    if not _cookie:
        r = subprocess.run([GOSNOOP, "--json", "doctor"], capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        caps = {c.get("name"): c for c in map(json.loads, r.stdout.splitlines())
                if c.get("type") == "capability"}
        _cookie.append(caps.get("attach_cookie", {}).get("ok", False))
    return _cookie[0]


def kept(counted, called):
    """main.cold, kept on: every call, or (exact_across_switch() false)
    all but those in a re-attach's gap: at most 10 (0.2 s)."""
    if exact_across_switch():
        return counted == called
    return called - 10 <= counted <= called


def records(stdout, typ):
    return [json.loads(l) for l in stdout.splitlines()
            if l.startswith('{"type":"%s"' % typ)]


def own(stdout):
    for l in reversed(stdout.splitlines()):
        if l.startswith('{"cold"'):
            return json.loads(l)
    raise AssertionError(f"hotcold printed nothing: {stdout[-300:]!r}")


def traced(args, secs="3s", env=None):
    e = dict(os.environ, **QEMU_ENV, **(env or {}))
    r = subprocess.run([GOSNOOP, "--json"] + args + ["main.hot", "main.cold", "--",
                       fixture("hotcold"), "-for", secs],
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, env=e)
    assert r.returncode == 0, r.stderr
    return r


def check_throttled(r):
    thr = records(r.stdout, "throttled")
    assert [t["func"] for t in thr] == ["main.hot"], thr
    # the program called main.hot hundreds of millions of times a second
    # untraced; probed, each call is a trap of ~0.5-20 us (~40 us under
    # TCG, with the vCPU stalled now and then)
    assert 100 < thr[0]["hits_per_s"] < 10_000_000, thr
    assert thr[0]["est_overhead"] > float(BUDGET) / 100, thr
    return thr[0]


def test_count_hot_throttled_cold_kept():
    r = traced(["count", "--max-overhead", BUDGET])
    check_throttled(r)
    prog = own(r.stdout)
    counts = {c["func"]: c for c in records(r.stdout, "count")}
    # kept: every call counted, also across the re-attach that dropped
    # main.hot (the new link is on before the old one closes)
    assert kept(counts["main.cold"]["count"], prog["cold"]), (counts, prog)
    assert "sampled" not in counts["main.cold"]
    hot = counts["main.hot"]
    assert 0 < hot["count"] < prog["hot"], (hot, prog)
    assert hot["sampled"] is True and 0 < hot["coverage"] < 1, hot


def test_count_classic_uprobes_throttle_too():
    # kernels before 6.6: one tracefs event for the sites, rebuilt without
    # main.hot's
    r = traced(["count", "--max-overhead", BUDGET], env={"GOSNOOP_CLASSIC_UPROBES": "1"})
    check_throttled(r)
    counts = {c["func"]: c["count"] for c in records(r.stdout, "count")}
    assert kept(counts["main.cold"], own(r.stdout)["cold"]), (counts, r.stdout[-200:])


def test_latency_hot_throttled_cold_kept():
    r = traced(["latency", "--max-overhead", BUDGET])
    check_throttled(r)
    prog = own(r.stdout)
    lat = {l["func"]: l for l in records(r.stdout, "latency")}
    cold = lat["main.cold"]
    assert kept(cold["count"] + cold.get("untimed", 0), prog["cold"]), (cold, prog)
    assert lat["main.hot"]["count"] < prog["hot"]


def test_trace_hot_throttled_cold_kept():
    r = traced(["trace", "--max-overhead", BUDGET])
    check_throttled(r)
    prog = own(r.stdout)
    calls = [c["func"] for c in records(r.stdout, "call")]
    # one record per call of main.cold, every one of them, but for those
    # the ring buffer had no room for (main.hot's records filled it while
    # the reader was stalled: it happened under TCG), which trace counts
    # and says; main.hot's stop once it is off
    lost = [int(l.split("warning: ")[1].split()[0]) for l in r.stderr.splitlines()
            if "calls lost: the ring buffer was full" in l]
    cold = calls.count("main.cold")
    assert kept(cold, prog["cold"]) or \
        (lost and prog["cold"] - lost[0] <= cold < prog["cold"]), (cold, prog, lost)
    assert 0 < calls.count("main.hot") < prog["hot"]


def test_without_budget_warns_and_keeps_everything():
    r = traced(["count"], secs="1s")
    assert records(r.stdout, "throttled") == []
    assert "warning: the probes cost an estimated" in r.stderr, r.stderr
    assert "most: main.hot" in r.stderr and "--max-overhead" in r.stderr, r.stderr
    prog = own(r.stdout)
    counts = {c["func"]: c["count"] for c in records(r.stdout, "count")}
    assert counts == {"main.hot": prog["hot"], "main.cold": prog["cold"]}, (counts, prog)


def test_bad_max_overhead_is_usage_error():
    for bad in ["0", "-5", "x", "5x", ""]:
        r = run(["count", "--max-overhead", bad, fixture("hotcold"), "main.hot"], check=False)
        assert r.returncode == 2, (bad, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "--max-overhead" in lines[0], (bad, r.stderr)


def test_cost_predicts_per_function_and_command():
    r = subprocess.run([GOSNOOP, "--json", "cost", "-d", "1.5", "main.hot", "main.cold", "--",
                        fixture("hotcold"), "-for", "3s"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    cost = {c["func"]: c for c in records(r.stdout, "cost")}
    total = records(r.stdout, "cost_total")
    assert set(cost) == {"main.hot", "main.cold"} and len(total) == 1, r.stdout
    cold, hot = cost["main.cold"], cost["main.hot"]
    # main.cold runs every 20 ms: 50 calls/s (a loaded machine delays
    # ticks, never adds them; a stalled TCG guest delayed them to 3/s)
    assert (1 if UNDER_QEMU else 30) <= cold["calls_per_s"] <= 52, cold
    assert hot["calls_per_s"] > 100 * cold["calls_per_s"], (hot, cold)
    for c in (hot, cold):
        # latency and trace probe a RET (single-stepped) on top of count's
        # entry: never cheaper
        assert c["latency"] > c["count"] and c["trace"] >= c["latency"], c
    assert hot["count"] > 0.05 and cold["count"] < 0.05, (hot, cold)
    assert abs(total[0]["latency"] - hot["latency"] - cold["latency"]) < 1e-3, total


def test_cost_in_situ_predicts_a_probe_bound_loop():
    """main.hot's probe is nearly all of hotcold's CPU, so its own work is
    a small difference (CPU minus calls x calibrated cost) that the
    calibrated model gets wrong by 2x-100x; cost's in-situ model turns
    main.hot off after a third of -d, keeps time.Now on (called once per
    1,000 main.hot calls: it follows the work) and scales the then almost
    untraced CPU by it. Ground truth: hotcold's own untraced rate of
    main.hot (its printed count over -for), against the rate under the
    probe cost measured: the slowdown untraced / traced - 1; the
    prediction within 2x of it (the issue's target)."""
    r = subprocess.run([fixture("hotcold"), "-for", "1s"], capture_output=True, text=True,
                       timeout=60, check=True)
    untraced = json.loads(r.stdout.strip().splitlines()[-1])["hot"] / 1.0
    r = subprocess.run([GOSNOOP, "-v", "--json", "cost", "-d", "3", "main.hot", "time.Now", "--",
                        fixture("hotcold"), "-for", "5s"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    cost = {c["func"]: c for c in records(r.stdout, "cost")}
    total = records(r.stdout, "cost_total")[0]
    assert total["in_situ"] is True, (total, r.stderr)
    assert "in situ: all on" in r.stderr, r.stderr
    measured = untraced / cost["main.hot"]["calls_per_s"] - 1
    assert measured > 10, (untraced, cost)
    assert measured / 2 <= total["count"] <= measured * 2, (measured, total, r.stderr)


def test_cost_of_a_command_that_ends_too_soon():
    """hotcold -for 300ms ends before cost's first look at its CPU time
    (every 0.5 s): cost prices all it ran, up to its exit, with the CPU
    time wait4 returned when the session reaped it (/proc/PID is gone by
    then). Ground truth: hotcold's own counts (calls/s x seconds gives
    them back) and its own CPU time (getrusage just before it exits).
    The build before: exit 2, 'the target ended within 0.5 s'. A command
    that ends before any call is still an error, one line."""
    r = subprocess.run([GOSNOOP, "-v", "--json", "cost", "-d", "5", "main.hot", "main.cold", "--",
                        fixture("hotcold"), "-for", "300ms"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, (r.returncode, r.stderr)
    prog = own(r.stdout)
    cost = {c["func"]: c for c in records(r.stdout, "cost")}
    total = records(r.stdout, "cost_total")[0]
    secs = total["seconds"]
    # from time 0 (probes on, before the exec) to the exit: at least the
    # 300 ms it ran, not cut at a look
    assert 0.3 <= secs < 60, total
    for f, called in (("main.hot", prog["hot"]), ("main.cold", prog["cold"])):
        if not called:     # a starved ticker: no row for it
            assert f not in cost, (cost, prog)
            continue
        # calls_per_s is rounded to an integer: +-0.5/s over secs
        assert abs(cost[f]["calls_per_s"] * secs - called) <= secs / 2 + 1, (f, cost[f], secs, prog)
    used = [l for l in r.stderr.splitlines() if "the target used" in l]
    assert len(used) == 1, r.stderr
    cpu = float(used[0].split("the target used ")[1].split()[0]) * secs
    own_cpu = prog["cpu_ns"] / 1e9
    # the run's whole CPU time: the fixture's own reading plus its exit
    # (and %.3f's rounding), less what its process used before the exec
    # (gosnoop's forked copy, held: counted from time 0 on, /proc/PID/stat
    # in 10 ms ticks; under TCG a tick, 0.457 against 0.467 CPU-s)
    assert own_cpu - 0.03 <= cpu <= own_cpu * 1.25 + 0.02, (cpu, own_cpu, used)

    r = subprocess.run([GOSNOOP, "cost", "-d", "5", "main.hot", "main.cold", "--",
                        fixture("hotcold"), "-for", "0s"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 2, (r.returncode, r.stderr)
    errs = [l for l in r.stderr.splitlines() if "error" in l or "cost:" in l]
    assert len(errs) == 1 and "ended before any of the 2 functions was called" in errs[0], r.stderr
    assert "CALLS/S" not in r.stdout, r.stdout


def test_calibration_cached_per_boot():
    d = tmpdir()
    env = dict(os.environ, XDG_RUNTIME_DIR=d)
    args = [GOSNOOP, "-v", "count", "-d", "0.3", fixture("hotcold"), "main.cold"]
    r1 = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env,
                        stdin=subprocess.DEVNULL)
    assert r1.returncode == 0, r1.stderr
    assert "uprobe cost per hit (measured in" in r1.stderr, r1.stderr
    with open(os.path.join(d, "gosnoop", "uprobe-cost")) as f:
        boot, emul, step, ret = f.read().split()
    with open("/proc/sys/kernel/random/boot_id") as f:
        assert boot == f.read().strip()
    # the kernel emulates a JMP and single-steps a MOV or a RET out of line:
    # stepping is the dearer (design.md: 0.6 vs 9.6 us, 6 vs 19 us)
    assert 0 < float(emul) < float(step) and 0 < float(emul) < float(ret), (emul, step, ret)
    r2 = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env,
                        stdin=subprocess.DEVNULL)
    assert "uprobe cost per hit (this boot's cache)" in r2.stderr, r2.stderr
    # another boot's figures are not used
    with open(os.path.join(d, "gosnoop", "uprobe-cost"), "w") as f:
        f.write("00000000-0000-0000-0000-000000000000 1.0 2.0 3.0\n")
    r3 = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env,
                        stdin=subprocess.DEVNULL)
    assert "uprobe cost per hit (measured in" in r3.stderr, r3.stderr


def throttled_then_resumed(cmd):
    """main.hot hot for 2 s, then called every 20 ms (hotcold -hot-for,
    numbered, each call between two CLOCK_MONOTONIC readings) while the
    program keeps its CPU busy: under --max-overhead 5 (1 under qemu,
    as above) it is throttled (off, or sampled in time) in
    phase 1 and, its remembered cost halved at each retry (2 s apart),
    comes back in phase 2. The test ends phase 2 (a line on the program's
    stdin) 4 s after the unthrottled record. Returns the records in
    stdout's order, the program's own figures and gosnoop's stderr."""
    err = open(os.path.join(tmpdir(), "stderr"), "w+")
    p = subprocess.Popen([GOSNOOP, "-v", "--json", cmd, "--max-overhead", BUDGET, "-i", "1",
                          "main.hot", "main.cold", "--", fixture("hotcold"), "-for", "150s",
                          "-hot-for", "2s", "-stdin-ends"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                         env=dict(os.environ, **QEMU_ENV))
    lines = []
    resumed_at = None
    try:
        # latency under qemu TCG came back after up to 85 s
        deadline = time.monotonic() + 180
        for line in p.stdout:
            lines.append(line.rstrip("\n"))
            if resumed_at is None and line.startswith('{"type":"unthrottled","func":"main.hot"'):
                resumed_at = time.monotonic()
            if resumed_at is not None and time.monotonic() > resumed_at + 4 and not p.stdin.closed:
                p.stdin.write("\n")
                p.stdin.close()
            if time.monotonic() > deadline:
                break
        # -i 1 prints a line a second: the loop above checks that often
    finally:
        if not p.stdin.closed:
            p.stdin.close()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    err.seek(0)
    stderr = err.read()
    assert p.returncode == 0, (p.returncode, stderr[-2000:])
    recs = [json.loads(l) for l in lines if l.startswith('{"type"')]
    return recs, own("\n".join(lines)), stderr


def check_resumed(recs, prog, stderr, kind, counted_of):
    """main.hot throttled in phase 1 (off, or sampled in time), back on in
    full in phase 2, and from then on counted exactly as often as the
    program called it: the -i intervals after the one in which it came
    back (that one may hold calls of a sampling slice before) against the
    program's calls stamped after the start of those intervals (the -i
    marker's ts_ns; a call within RACE_NS before it may go either way:
    the counters are read just before the marker is stamped). main.cold
    is not checked: under qemu a stalled vCPU can make its share look over
    the budget too."""
    RACE_NS = 10_000_000
    told = [r for r in recs if r["type"] in ("throttled", "unthrottled")]
    hot_told = [r for r in told if r["func"] == "main.hot"]
    assert hot_told, (told, stderr[-2000:])
    thr, res = hot_told[0], hot_told[-1]
    assert thr["type"] == "throttled" and res["type"] == "unthrottled", (told, stderr[-2000:])
    calls = prog["hot2_ns"]
    assert prog["hot2"] == len(calls) and prog["hot1"] > 0, {k: prog[k] for k in ("hot1", "hot2")}
    # throttled while hot (phase 1), back on while cold (phase 2)
    assert thr["ts_ns"] < calls[0][0] < res["ts_ns"], (thr, res, calls[:2])
    i = recs.index(res)
    marks = [j for j in range(i + 1, len(recs)) if recs[j]["type"] == "interval"]
    assert len(marks) >= 2, recs[i:]
    # rows follow their interval's marker: those after the second marker
    # are of intervals from the first marker's ts_ns on, main.hot on all
    # through (it was back on before that interval's counters were read)
    since = recs[marks[0]]["ts_ns"]
    assert since > res["ts_ns"], (since, res)
    hot = [j for j, r in enumerate(recs) if r["type"] == kind and r["func"] == "main.hot"]
    on = sum(counted_of(recs[j]) for j in hot if j > marks[1])
    after = sum(1 for b, a in calls if b >= since)
    race = sum(1 for b, a in calls if b < since and a >= since - RACE_NS)
    # main.cold switched later: without attach cookies the old probes
    # close before the new ones attach, main.hot's calls in between lost
    # (each re-attach took at most the longest '-v' said)
    took = [float(l.split("re-attached in ")[1].split()[0])
            for l in stderr.splitlines() if "probes re-attached in" in l]
    span = int((max(took, default=0) + 0.1) * 1e6)
    lost = 0 if exact_across_switch() else \
        sum(1 for r in told if r["ts_ns"] > since
            for b, a in calls if b < r["ts_ns"] and a >= r["ts_ns"] - span)
    assert after >= 20, (after, len(calls))
    # a failure's evidence: each interval's count of main.hot after it
    # came back, with the interval's end
    per = [(recs[j - 1]["ts_ns"] if recs[j - 1]["type"] == "interval" else None,
            counted_of(recs[j])) for j in hot if j > i]
    assert after - lost <= on <= after + race, (on, after, race, lost, len(calls), since,
                                                told, per)


def test_count_hot_throttled_then_back_on_when_cold():
    recs, prog, stderr = throttled_then_resumed("count")
    check_resumed(recs, prog, stderr, "count", lambda r: r["count"])


def test_latency_hot_throttled_then_back_on_when_cold():
    recs, prog, stderr = throttled_then_resumed("latency")
    check_resumed(recs, prog, stderr, "latency", lambda r: r["count"] + r.get("untimed", 0))


def test_keep_holds_a_hot_function_exact_over_budget():
    """--keep main.hot: never throttled though its probe alone costs the
    program far over the budget; every call counted (hotcold's own
    figure), said once (a kept_over_budget record, or the warning line
    without --json), and main.cold throttled to make what room there is."""
    r = subprocess.run([GOSNOOP, "-v", "--json", "count", "--max-overhead", BUDGET, "--keep",
                        "main.hot", "main.hot", "main.cold", "--", fixture("hotcold"), "-for", "3s"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, **QEMU_ENV))
    assert r.returncode == 0, r.stderr
    prog = own(r.stdout)
    counts = {c["func"]: c for c in records(r.stdout, "count")}
    over = records(r.stdout, "kept_over_budget")
    assert len(over) == 1 and over[0]["keep"] == ["main.hot"], r.stdout[-2000:]
    assert over[0]["est_overhead"] > float(BUDGET) / 100, over
    assert [t["func"] for t in records(r.stdout, "throttled")] == ["main.cold"], r.stdout[-2000:]
    hot = counts["main.hot"]
    assert "sampled" not in hot, hot
    if exact_across_switch():
        # main.cold's re-attach re-links main.hot's chunk too: the new
        # links count every hit they ran for, the old ones (told through
        # fp_flips) the others, so a hit whose two handlers run across
        # the generation flip counts once (src/bpf/fp_sites.h; before
        # that, k6.1 counted 668,999 of 669,000); and classic, a hit
        # between the new event's consumer and the old one is waited for
        # before the old program goes (attach_shared; before, k6.1
        # counted 1,029,999 of 1,030,000)
        assert hot["count"] == prog["hot"], (hot, prog)
    else:
        # (5.10) the by-address programs close the old probes first:
        # main.hot's calls during that re-attach (under TCG, most of
        # the run's) are not counted
        assert 0 < hot["count"] <= prog["hot"], (hot, prog)
    assert prog["hot"] > 10000, prog
    # text: the same said once, as a warning
    r = subprocess.run([GOSNOOP, "count", "--max-overhead", BUDGET, "--keep", "main.h*",
                        "main.hot", "main.cold", "--", fixture("hotcold"), "-for", "2s"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, **QEMU_ENV))
    assert r.returncode == 0, r.stderr
    warn = [l for l in r.stderr.splitlines() if "kept functions (--keep, keep:) alone cost" in l]
    assert len(warn) == 1 and "they stay on" in warn[0], r.stderr
    assert "throttled main.hot" not in r.stderr, r.stderr


def test_bad_keep_is_usage_error():
    for args, what in ((["--keep", "main.[", "--max-overhead", "5"], "main.["),
                       (["--keep", "", "--max-overhead", "5"], "--keep"),
                       (["--keep", "main.hot"], "--max-overhead")):
        for cmd in ("count", "latency", "trace"):
            r = run([cmd] + args + [fixture("hotcold"), "main.hot"], check=False)
            assert r.returncode == 2, (cmd, args, r.returncode, r.stderr)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and what in lines[0], (cmd, args, r.stderr)


def relink_stress(extra_env):
    """count main.hot main.cold with every chunk linked again every 20 ms
    (GOSNOOP_TEST_RELINK_MS) while main.hot runs a call every few us on
    two goroutines (threads: fp_flips' records are per thread), for
    the first 2 of its 3 s (a re-link after its exit fails): (counted,
    hotcold's own figures, forced re-links)."""
    r = subprocess.run([GOSNOOP, "-v", "--json", "count", "main.hot", "main.cold", "--",
                        fixture("hotcold"), "-for", "3s", "-workers", "2"],
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, **QEMU_ENV, GOSNOOP_TEST_RELINK_MS="20,2000",
                                **extra_env))
    assert r.returncode == 0, r.stderr
    counts = {c["func"]: c["count"] for c in records(r.stdout, "count")}
    m = [l for l in r.stderr.splitlines() if "GOSNOOP_TEST_RELINK_MS:" in l]
    assert len(m) == 1 and "forced re-links" in m[0], r.stderr[-2000:]
    return counts, own(r.stdout), int(m[0].split("forced")[0].split()[-1])


def test_relink_stress_counts_every_call_once():
    """The generation flip under stress: every re-link of main.hot's
    chunk flips it while main.hot is being hit (most of its time is in
    the trap), so hits whose new and old handlers run across the flip
    are many; each must count once (src/bpf/fp_sites.h), uprobe_multi
    here, classic uprobes in test_classic_uprobes.py."""
    counts, prog, relinks = relink_stress({})
    assert prog["hot"] > 10000, prog
    if exact_across_switch():
        assert counts["main.hot"] == prog["hot"], (counts, prog, relinks)
        assert counts["main.cold"] == prog["cold"], (counts, prog, relinks)
    else:
        # (5.10) the by-address programs close the old probes first
        assert 0 < counts["main.hot"] <= prog["hot"], (counts, prog)
    # here ~25; under qemu on a loaded host a re-link took ~0.5 s (4 in
    # k6.12): a few are enough to mean it
    assert relinks >= 2, relinks
