"""gosnoop serve, `sched: true`: goroutine gauges, time per state and per
wait reason, the scheduling-latency histogram.

Ground truth is the sched fixture (tests/fixtures/sched), whose goroutines
block in known ways for as long as it is told: -workers N goroutines wait
in "chan receive" until main has held its mutex for -hold, -lockers N wait
on that mutex ("semacquire" in go1.19, "sync.Mutex.Lock" from 1.20),
-sleepers N and main itself sleep ("sleep"), -spinners N burn CPU. It
prints how many goroutines it started. Between two scrapes taken while
they all still block, each blocked goroutine adds the wall time between
the scrapes to its reason, which the test measures itself. Nothing here
compares gosnoop with gosnoop."""
import os
import re
import shutil
import signal
import subprocess
import time

import gstest
from gstest import Skip, fixture
from test_serve import Daemon, parse_metrics, write_config

WORKERS, LOCKERS, SLEEPERS, SPINNERS = 4, 3, 5, 2
STATES = {"running", "runnable", "waiting", "syscall", "other"}


def private_sched():
    # a binary: target is every process running that file: a private copy
    # keeps other tests' runs of the shared fixture out of the numbers
    path = os.path.join(gstest.tmpdir(), "sched")
    shutil.copy2(fixture("sched"), path)
    return path


def start_fixture(path, secs):
    d = f"{secs}s"
    return gstest.spawn([path, "-workers", str(WORKERS), "-lockers", str(LOCKERS),
                         "-sleepers", str(SLEEPERS), "-spinners", str(SPINNERS),
                         "-hold", d, "-sleep", d, "-spin", d])


def fixture_goroutines(p):
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    m = re.search(r"sched fixture: (\d+) goroutines", out)
    assert m, out
    return int(m.group(1))


def scrape(d, binary):
    """(monotonic time of the scrape, text, {(name, frozenset(labels)): value})
    of binary's series only."""
    t = time.monotonic()
    _, _, text = d.get("/metrics")
    vals = {}
    for name, labels, v in parse_metrics(text):
        if labels.get("binary") == binary:
            labels = dict(labels)
            del labels["binary"]
            vals[(name, frozenset(labels.items()))] = v
    return t, text, vals


def val(vals, name, **labels):
    return vals.get((name, frozenset(labels.items())), 0.0)


def gauges(vals):
    return {dict(k[1])["state"]: v for k, v in vals.items() if k[0] == "gosnoop_goroutines"}


def waited(vals, *reasons):
    return sum(val(vals, "gosnoop_wait_seconds_total", reason=r) for r in reasons)


def in_state(vals, state):
    return val(vals, "gosnoop_goroutine_state_seconds_total", state=state)


def check_histogram(vals):
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in vals.items()
                     if k[0] == "gosnoop_sched_latency_seconds_bucket")
    assert len(buckets) >= 2 and buckets[-1][0] == float("inf"), buckets
    counts = [c for _, c in buckets]
    assert counts == sorted(counts), "buckets not cumulative: %s" % counts
    count = val(vals, "gosnoop_sched_latency_seconds_count")
    assert counts[-1] == count, (counts[-1], count)
    return count


def promtool_check(text):
    promtool = shutil.which("promtool")
    if not promtool:
        return
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def approx(got, want, what):
    # generous: a loaded 2-core machine, scrapes not instantaneous
    assert want * 0.8 - 0.15 <= got <= want * 1.2 + 0.15, f"{what}: {got:.3f} s, expected ~{want:.3f} s"


def test_goroutines_that_existed_before_attach_are_counted():
    """The fixture's goroutines are all blocked (or spinning) before the
    daemon attaches, so none passes through casgstatus while watched: only
    the runtime.allgs snapshot can count them."""
    path = private_sched()
    secs = 9
    fx = start_fixture(path, secs)
    t_fx = time.monotonic()
    time.sleep(1.0)			# every goroutine is blocked by now
    d = Daemon(write_config(f"targets:\n  - binary: '{path}'\n    sched: true\n"))
    t1, _, v1 = scrape(d, path)
    time.sleep(2.5)
    t2, text, v2 = scrape(d, path)
    if t2 - t_fx > secs - 0.5:
        raise AssertionError(f"the daemon took {t2 - t_fx:.1f} s to start: "
                             "the fixture's goroutines stopped blocking")
    dt = t2 - t1
    for v in (v1, v2):
        g = gauges(v)
        assert set(g) == STATES, g
        # workers, lockers, sleepers and main; the runtime's own few
        assert WORKERS + LOCKERS + SLEEPERS + 1 <= g["waiting"] <= \
            WORKERS + LOCKERS + SLEEPERS + 1 + 8, g
        assert 1 <= g["running"] + g["runnable"] and g["running"] <= os.cpu_count(), g
    approx(waited(v2, "chan receive") - waited(v1, "chan receive"), WORKERS * dt, "chan receive")
    approx(waited(v2, "semacquire", "sync.Mutex.Lock") - waited(v1, "semacquire", "sync.Mutex.Lock"),
           LOCKERS * dt, "mutex")
    approx(waited(v2, "sleep") - waited(v1, "sleep"), (SLEEPERS + 1) * dt, "sleep")
    assert in_state(v2, "waiting") - in_state(v1, "waiting") >= \
        0.8 * (WORKERS + LOCKERS + SLEEPERS + 1) * dt - 0.15
    # spinners never block: Go counts them running (or runnable after a
    # preemption) whether or not the OS runs their thread
    busy = sum(in_state(v2, s) - in_state(v1, s) for s in ("running", "runnable"))
    approx(busy, SPINNERS * dt, "running + runnable")
    assert in_state(v2, "running") - in_state(v1, "running") <= os.cpu_count() * dt * 1.1 + 0.15
    check_histogram(v2)
    assert val(v2, "gosnoop_lost_events_total", source="sched") == 0
    promtool_check(text)

    assert fixture_goroutines(fx) == WORKERS + LOCKERS + SLEEPERS + SPINNERS
    # gone: every gauge 0, and the counters stop
    _, _, v3 = scrape(d, path)
    assert set(gauges(v3).values()) == {0.0}, gauges(v3)
    time.sleep(1.5)
    _, _, v4 = scrape(d, path)
    for key, v in v3.items():
        if key[0].endswith("_total") or key[0].startswith("gosnoop_sched_latency"):
            assert v4.get(key) == v, (key, v, v4.get(key))
    _, _, probes = d.get("/debug/probes")
    assert '"seeded_goroutines":' in probes and '"exited_processes":1' in probes, probes
    rc, _ = d.stop()
    assert rc == 0, "".join(d.stderr)


def test_goroutines_started_while_watched():
    """The daemon first, then two runs of the fixture: every goroutine is
    seen created, so each is runnable and then running at least once
    (latency samples >= goroutines), and a second run counts on."""
    path = private_sched()
    d = Daemon(write_config(f"targets:\n  - binary: '{path}'\n    sched: true\n"))
    _, _, v0 = scrape(d, path)
    assert set(gauges(v0).values()) == {0.0}, gauges(v0)
    n0 = check_histogram(v0)
    secs = 8    # the scrapes below must end before the workers do, on a loaded machine too
    fx = start_fixture(path, secs)
    t_fx = time.monotonic()
    time.sleep(1.0)
    t1, _, v1 = scrape(d, path)
    time.sleep(1.0)
    t2, text, v2 = scrape(d, path)
    assert t2 - t_fx < secs - 0.3, f"scrapes took {t2 - t_fx:.1f} s: the workers stopped waiting"
    g = gauges(v2)
    assert WORKERS + LOCKERS + SLEEPERS + 1 <= g["waiting"], g
    approx(waited(v2, "chan receive") - waited(v1, "chan receive"), WORKERS * (t2 - t1),
           "chan receive")
    promtool_check(text)
    n = fixture_goroutines(fx)
    _, _, v3 = scrape(d, path)
    n1 = check_histogram(v3)
    assert n1 - n0 >= n + 1, (n0, n1, n)	# and runtime.main's
    assert set(gauges(v3).values()) == {0.0}, gauges(v3)
    wait1 = waited(v3, "chan receive")
    # a restart of the service: the same series count on
    fx = start_fixture(path, 1)
    fixture_goroutines(fx)
    _, _, v4 = scrape(d, path)
    assert check_histogram(v4) - n1 >= n + 1
    assert waited(v4, "chan receive") >= wait1 + WORKERS * 1.0 * 0.8
    rc, _ = d.stop()
    assert rc == 0, "".join(d.stderr)


def test_pid_target_stripped_series_go_with_the_process():
    """A stripped copy (no runtime.allgs symbol: the slice is found from
    runtime.allgadd's code) of a process whose goroutines all block before
    the attach; when it is killed its gauges go."""
    path = gstest.strip_copy(private_sched())
    syms = subprocess.run(["nm", path], capture_output=True, text=True)
    assert "runtime.allgs" not in syms.stdout, "strip_copy kept the symbols"
    fx = start_fixture(path, 30)
    time.sleep(0.5)
    d = Daemon(write_config(f"targets:\n  - pid: {fx.pid}\n    sched: true\n"))
    _, _, v1 = scrape(d, path)
    g = gauges(v1)
    assert g and WORKERS + LOCKERS + SLEEPERS + 1 <= g["waiting"], g
    assert all(dict(k[1]).get("pid") == str(fx.pid) for k in v1 if k[0] == "gosnoop_goroutines")
    fx.send_signal(signal.SIGKILL)
    fx.wait()
    deadline = time.monotonic() + 10
    while True:
        _, _, v2 = scrape(d, path)
        if not gauges(v2):
            break
        assert time.monotonic() < deadline, "gauges still there: %s" % gauges(v2)
        time.sleep(0.3)
    rc, _ = d.stop()
    assert rc == 0, "".join(d.stderr)
