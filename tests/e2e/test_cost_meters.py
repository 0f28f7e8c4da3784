"""gosnoop cost with more functions than it can turn off within -d
(src/cmd_cost.c, meters first): the first third of -d only runtime.mallocgc
is on, a meter of the program's own work while it runs almost untraced;
then every function. The program's own work with all on is its work then
scaled by the meter's call rates.

Ground truth: tests/fixtures/alloc counts its own calls of main.work (each
allocates once) and reads its own CPU time: its untraced CPU per call,
against the CPU per call cost saw with every function on (its -v line and
main.work's calls/s), and against its CPU per call under latency: the
slowdowns in CPU time, which cost predicts."""
import json
import re
import signal
import subprocess
import time

import gstest
from gstest import GOSNOOP, fixture, lines_of, wait_for


def records(stdout, typ):
    return [json.loads(l) for l in stdout.splitlines()
            if l.startswith('{"type":"%s"' % typ)]


def test_cost_meters_first_predicts_every_runtime_function():
    """'runtime.*' and main.* (~1,000 functions: more than -d 4 has time to
    close, 2 ms each) on an allocating loop: the probes are most of its
    CPU, so its own work is a small difference that the calibrated model
    gets wrong; cost predicts count's slowdown within 2x (the issue's
    target). The build before: no meters, the split's links still closing
    at -d (the calibrated model, or in situ from a program still crawling)."""
    r = subprocess.run([fixture("alloc"), "-for", "1s"], capture_output=True, text=True,
                       timeout=60, check=True)
    untraced = json.loads(r.stdout.strip().splitlines()[-1])
    cpu_per_call0 = untraced["cpu_ns"] / 1e9 / untraced["work"]
    # -d 4: every function on after 1.2 s, in up to a second on a loaded
    # machine, and then at least a look or two before -d
    r = subprocess.run([GOSNOOP, "-v", "--json", "cost", "-d", "4", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "8s"],
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    cost = {c["func"]: c for c in records(r.stdout, "cost")}
    total = records(r.stdout, "cost_total")[0]
    assert "first only runtime.mallocgc on" in r.stderr, r.stderr[-2000:]
    assert total["in_situ"] is True, (total, r.stderr[-2000:])
    m = re.search(r"in situ: meters only .* then all on ([0-9.]+) s at ([0-9.]+) ", r.stderr)
    assert m, r.stderr[-2000:]
    assert abs(float(m.group(1)) - total["seconds"]) < 0.01, (m.group(0), total)
    cpu_per_call = float(m.group(2)) / cost["main.work"]["calls_per_s"]
    measured = cpu_per_call / cpu_per_call0 - 1
    # probe-bound: a few runtime probes a call against ~100 ns of work
    assert measured > 5, (untraced, cost["main.work"], m.group(0))
    assert measured / 2 <= total["count"] <= measured * 2, (measured, total, r.stderr[-1500:])
    # CPU-bound: its rate of work falls as its CPU-bound work slows
    assert total["count"] / 2 <= total["count_rate"] <= total["count"] * 1.001, total
    # every matched function was on in the window priced: runtime
    # functions besides the meter were called (mallocgc's callees)
    assert len([f for f in cost if f.startswith("runtime.")]) > 3, sorted(cost)
    # and latency's prediction (entry + a single-stepped RET a call, each
    # with the extra per hit measured for count's) against latency run
    # for real: the fixture's CPU per call under it (here 160 measured,
    # 167 predicted)
    r = subprocess.run([GOSNOOP, "--json", "latency", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "3s"],
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    under = json.loads([l for l in r.stdout.splitlines() if l.startswith('{"cpu_ns"')][-1])
    measured = under["cpu_ns"] / 1e9 / under["work"] / cpu_per_call0 - 1
    assert measured > 5, (under, untraced)
    assert measured / 2 <= total["latency"] <= measured * 2, (measured, total)


def rate_model(total, o):
    """cost's rate of work at overhead o from its cost_total's figures
    (src/cmd_cost.c rate_slowdown): a unit of work a (1 + o) of CPU plus
    b of waiting, a and b through the two phases measured."""
    w0, o0 = total["own_cpu_almost_untraced"], total["overhead_almost_untraced"]
    w1, o1 = total["own_cpu"], total["overhead_measured"]
    a = (1 / w1 - 1 / w0) / (o1 - o0)
    b = max(1 / w0 - a * (1 + o0), 0)
    return a * o / (a + b)


def test_cost_rate_of_work_of_a_program_that_waits():
    """A program that waits between batches of work (alloc -batch 2000
    -pause 2ms: ~40% of a CPU untraced) takes more CPU when probes slow
    it, so its rate of work falls less than its CPU-bound work slows
    (~2.4x less here). cost's count_rate predicts that rate from its two
    phases (almost untraced, every function on); ground truth: the
    fixture's own main.work calls a second untraced and under count for
    real. The CPU-bound figure (count) alone was ~2.5x too high for it;
    the build before had no rate."""
    args = ["-batch", "2000", "-pause", "2ms"]
    r = subprocess.run([fixture("alloc"), "-for", "2s"] + args, capture_output=True,
                       text=True, timeout=60, check=True)
    rate0 = json.loads(r.stdout.strip().splitlines()[-1])["work"] / 2
    r = subprocess.run([GOSNOOP, "-v", "--json", "cost", "-d", "4", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "8s"] + args,
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    total = records(r.stdout, "cost_total")[0]
    assert total["in_situ"] is True and "count_rate" in total, (total, r.stderr[-2000:])
    for c in ("count", "latency", "trace"):
        assert abs(total[c + "_rate"] - rate_model(total, total[c])) <= \
            1e-3 * total[c + "_rate"] + 1e-3, (c, total)
    r = subprocess.run([GOSNOOP, "--json", "count", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "3s"] + args,
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    under = json.loads([l for l in r.stdout.splitlines() if l.startswith('{"cpu_ns"')][-1])
    measured = rate0 / (under["work"] / 3) - 1
    why = (measured, rate0, under, total)
    # the premise: it waits, the CPU-bound figure is well above its rate's
    assert measured > 3 and total["count"] > 1.4 * measured, why
    assert measured / 2 <= total["count_rate"] <= measured * 2, why
    # the text says the same
    r = subprocess.run([GOSNOOP, "cost", "-d", "4", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "8s"] + args,
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"^its rate of work \(requests, iterations a second\) [0-9.]+x, "
                     r"[0-9.]+x and [0-9.]+x slower: it waits [0-9]+% of the time",
                     r.stdout, re.M), r.stdout[-1000:]


def test_cost_meters_first_target_ending_before_all_on():
    """A -- CMD that ends within the first third of -d, while only the
    meter was on, has given nothing to price the other functions by: one
    error line, exit 2, no table. The build before printed a table of the
    meter alone (runtime.mallocgc 73%), as if nothing else were called."""
    r = subprocess.run([GOSNOOP, "cost", "-d", "3", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "300ms"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr[-1000:])
    errs = [l for l in r.stderr.splitlines() if l.startswith("gosnoop: cost:")]
    assert len(errs) == 1 and "before a look with every function on" in errs[0], r.stderr[-1000:]
    assert "FUNC" not in r.stdout and "runtime.mallocgc" not in r.stdout, r.stdout
    # the fixture ran to its end all the same (its JSON line)
    assert '"work":' in r.stdout, r.stdout


def test_cost_prices_latency_at_its_own_speed():
    """Time-driven work (alloc -tick: main.tick 50 times every 10 ms,
    whatever main.work's progress, as the runtime's sysmon, preemption and
    GC workers are) weighs more per unit of work the slower the program
    runs: latency's probes slow it ~5x more than count's, so count's calls
    per main.work call priced at latency's price miss it (esbuild serving
    HTTP: 20-30% more calls a request under latency '*' than under count
    '*'). cost's last phase makes every hit as dear as latency's calls are
    on average (a busy wait in its BPF program) and prices latency and
    trace by what the program calls then. Ground truth: the fixture's own
    counts under latency for real (main.tick calls = ticks x 50, per
    main.work call) and its CPU per main.work call against untraced. The
    build before had no such phase (no latency_in_situ)."""
    n = 50
    args = ["-tick", str(n), "-tick-every", "10ms"]
    r = subprocess.run([fixture("alloc"), "-for", "1s"] + args, capture_output=True,
                       text=True, timeout=60, check=True)
    untraced = json.loads(r.stdout.strip().splitlines()[-1])
    cpu_per_call0 = untraced["cpu_ns"] / 1e9 / untraced["work"]
    r = subprocess.run([GOSNOOP, "-v", "--json", "cost", "-d", "5", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "10s"] + args,
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    cost = {c["func"]: c for c in records(r.stdout, "cost")}
    total = records(r.stdout, "cost_total")[0]
    assert total["in_situ"] is True and total["latency_in_situ"] is True, (total, r.stderr[-2000:])
    # the busy wait was paid as set: the probes' CPU in that phase is what
    # count's price + the extra + the delay make it
    m = re.search(r"at latency's price \(each hit ([0-9]+) ns dearer\) .* the probes ([0-9.]+)x "
                  r"their price", r.stderr)
    assert m, r.stderr[-2000:]
    assert abs(float(m.group(1)) - total["hit_delay_ns"]) <= 1, (m.group(0), total)
    assert 0.5 <= float(m.group(2)) <= 2, m.group(0)
    # a call of main.tick and one of main.work cost latency the same (an
    # entry and a RET each): the ratio of their latency columns is the
    # ratio of their calls at latency's price, of the count columns at
    # count's
    tick, work = cost["main.tick"], cost["main.work"]
    at_latency = tick["latency"] / work["latency"]
    at_count = tick["count"] / work["count"]
    r = subprocess.run([GOSNOOP, "--json", "latency", "runtime.*", "main.*", "--",
                        fixture("alloc"), "-for", "4s"] + args,
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-2000:]
    under = json.loads([l for l in r.stdout.splitlines() if l.startswith('{"cpu_ns"')][-1])
    real = under["ticks"] * n / under["work"]
    why = (real, at_latency, at_count, tick, work, under)
    # the premise: under latency main.tick is called more per main.work
    # call than at count's speed (the ticker keeps its pace, the work
    # slows); cost saw that too (the build before: the same ratio in both
    # columns, by construction). How much more swings with what CPU each
    # thread gets on a loaded machine (load average ~10: 1.8-8.3 per
    # main.work call seen for a real 1.8-3.7, 0.6-2.3 at count's): no
    # closer bound
    assert real > at_count, why
    assert at_latency > 1.3 * at_count, why
    measured = under["cpu_ns"] / 1e9 / under["work"] / cpu_per_call0 - 1
    assert measured > 5, (under, untraced)
    assert measured / 2 <= total["latency"] <= measured * 2, (measured, total, r.stderr[-1500:])


def test_cost_latency_phase_ends_before_the_detach_on_sigint():
    """Phase L's dearer hits (a busy wait per hit) end before the detach
    however the run ends: Ctrl-C here. Closing ~1,700 functions' links
    takes 0.3-2 s, every probe trapping meanwhile; the build before reset
    the delay only at -d, and after a Ctrl-C only once detached, the
    program paying latency's price all through the detach (and the window
    priced ran through it too). Observable in -v's order: the reset's
    line before "detached"; and phase L's window ends at the stop, not
    after the detach."""
    d = 10      # 1,691 functions (alloc '*') x 2 ms > a third of -d: meters first
    alloc = gstest.spawn([fixture("alloc"), "-for", "90s"])
    g = gstest.spawn([GOSNOOP, "-v", "cost", "-d", str(d), "-p", str(alloc.pid), "*"])
    # phase L from half of what -d leaves after the first third (~7 s)
    try:
        seen = wait_for(g.stderr, r"cost: at latency's price from [0-9.]+ s", timeout=60)
    except AssertionError as e:     # every -v line: the tail says why
        raise AssertionError(str(e)[-2000:]) from None
    time.sleep(0.3)     # a few ticks of phase L (-d is ~3 s away)
    g.send_signal(signal.SIGINT)
    out = lines_of(g.stdout)
    g.wait(timeout=120)
    err = seen + drain(lines_of(g.stderr))
    stdout = "".join(drain(out))
    text = "".join(err)
    assert g.returncode == 0, text[-2000:]
    assert "FUNC" in stdout and "main.work" in stdout, stdout[:1000]
    l0 = float(re.search(r"at latency's price from ([0-9.]+) s", text).group(1))
    reset = [i for i, l in enumerate(err) if "every hit at count's price again" in l]
    detached = [i for i, l in enumerate(err) if re.search(r"detached in [0-9.]+ ms", l)]
    assert len(reset) == 1 and len(detached) == 1, text[-2000:]
    assert reset[0] < detached[0], (err[reset[0]], err[detached[0]])
    at = float(re.search(r"again ([0-9.]+) s after the start", err[reset[0]]).group(1))
    # the Ctrl-C ended it, not -d (the machine was not too slow to tell)
    assert l0 <= at < d, (l0, at, d)
    # phase L's window, when it was priced or found too short, ends at the
    # stop (the build before: after the detach, its seconds with it)
    m = re.search(r"at latency's price \(each hit [0-9]+ ns dearer\) ([0-9.]+) s at|"
                  r"the meter was called [0-9]+ times in ([0-9.]+) s at latency's price", text)
    assert m, text[-2000:]
    secs_l = float(m.group(1) or m.group(2))
    assert l0 + secs_l <= at + 0.15, (l0, secs_l, at, text[-1500:])


def drain(q):
    """The lines left on a lines_of() queue, up to the stream's end."""
    lines = []
    while True:
        line = q.get(timeout=60)
        if line is None:
            return lines
        lines.append(line)
