"""bench/sched.py - the figure of `gosnoop sched` (issue 4), called from
bench/run: run(results, args).

A channel ping-pong (tests/fixtures/sched -pingpong N: two goroutines
bounce a value over unbuffered channels; about six casgstatus calls per
round trip) times itself and prints ns per round trip. Measured, each the
median of --repeat runs, all as ratios to the untraced run of the same
session:
  - gosnoop sched (probe on the first emulated instruction with the
    arguments intact: the nop/jae/push chosen by gobin__probe_point)
  - gosnoop sched --probe-entry (the first instruction, single-stepped:
    where bpftrace and the seed article put it)
  - bpftrace counting casgstatus calls at its entry, where it can
  - gosnoop --json sched into a file: JSON lines (one per state change)
    written per second over the traced run, and the events it lost
    (sched_stats.lost_events): what the reader sustains, like ktrace's row
Target (issue 4): gosnoop sched <= 25x untraced.
"""
import json
import tempfile
import os
import re
import shutil
import statistics
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOSNOOP = os.environ.get("GOSNOOP") or os.path.join(ROOT, "build", "gosnoop")
FIXTURE = os.path.join(ROOT, "build", "fixtures", "sched")
ROUND_TRIP = re.compile(r"pingpong: \d+ round trips, ([0-9.]+) ns/roundtrip")


def per_round_trip(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=600)
    m = ROUND_TRIP.search(r.stdout)
    return float(m.group(1)) if m else None


def median_of(cmd, repeat):
    vals = [v for v in (per_round_trip(cmd) for _ in range(repeat)) if v is not None]
    return statistics.median(vals) if vals else None


def run(results, args):
    if os.geteuid() != 0 or not os.path.exists(FIXTURE):
        print("sched: skipped (needs root and build/fixtures/sched)")
        return
    quick = getattr(args, "quick", False)
    repeat = 1 if quick else max(3, getattr(args, "repeat", 5) // 2)
    n = "5000" if quick else "20000"
    app = [FIXTURE, "-pingpong", n]
    rows = [("untraced", median_of(app, repeat))]
    rows.append(("gosnoop sched (emulated probe point)",
                 median_of([GOSNOOP, "sched", "--"] + app, repeat)))
    rows.append(("gosnoop sched --probe-entry (single-stepped)",
                 median_of([GOSNOOP, "sched", "--probe-entry", "--"] + app, repeat)))
    if shutil.which("bpftrace"):
        prog = f"uprobe:{FIXTURE}:runtime.casgstatus {{ @n = count(); }}"
        rows.append(("bpftrace count() at casgstatus entry",
                     median_of(["bpftrace", "-q", "-e", prog, "-c", " ".join(app)], repeat)))
    base = rows[0][1]
    print(f"\nsched: channel ping-pong, ns per round trip (median of {repeat}); "
          "target gosnoop sched <= 25x untraced")
    out = []
    for name, v in rows:
        ratio = v / base if v and base else None
        out.append({"name": name, "ns_per_round_trip": v, "ratio_to_untraced": ratio})
        print(f"  {name:48} {v if v is not None else float('nan'):12.0f} ns"
              f"  {ratio if ratio else float('nan'):8.1f}x")
    results["sched"] = out
    js = json_rate(app)
    if js:
        print(f"  JSON lines into a file: {js['events_per_second']:.0f} events/s "
              f"({js['transitions']} changes in {js['duration_s']:.2f} s), "
              f"{js['lost_events']} lost")
        results["sched_json"] = js


def json_rate(app):
    """gosnoop --json sched -- app, stdout into a file: state changes
    written per second of tracing, and how many were lost."""
    with tempfile.TemporaryFile("w+") as f:
        r = subprocess.run([GOSNOOP, "--json", "sched", "--"] + app, stdout=f,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=600)
        if r.returncode:
            return None
        f.seek(0)
        n, stats = 0, None
        for line in f:
            if '"type":"transition"' in line:
                n += 1
            elif '"type":"sched_stats"' in line:
                stats = json.loads(line)
    if not stats or not stats.get("duration_ns"):
        return None
    dur = stats["duration_ns"] / 1e9
    return {"transitions": n, "duration_s": dur, "events_per_second": n / dur,
            "lost_events": stats.get("lost_events", 0) + stats.get("lost_goroutine_ends", 0)}
