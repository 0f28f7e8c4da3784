#!/usr/bin/env python3
"""bench/trace.py - the figures of `gosnoop trace` (issue 5), run by
bench/run (it prints its own table) or alone: python3 bench/trace.py
[--json FILE]. BENCH_QUICK=1: fewer calls, one run each.

Every figure is a ratio to a baseline measured in the same run; each
timing is the fastest of its runs (other load only adds time).

per call    A tight Go loop calls main.work(name string, a, b int) int (a
            non-leaf function: its prologue has the stack-check JBE) N
            times and prints the ns per call it measured itself. Cost per
            call = traced minus untraced. Baselines: (a) an empty BPF
            program on classic uprobes at main.work's first instruction and
            its RET (the pair any entry+return tool pays: both
            single-stepped), attached with raw syscalls by funcs.py's
            EmptyUprobe, no gosnoop code involved; (b) bpftrace printing
            the same arguments at a uprobe and the result at a uretprobe
            (safe here only because main.work never grows its stack).
            gosnoop trace --json writes every call to a file, and the file
            is checked: one record per call with the right arguments.
throughput  Two goroutines call main.work as fast as they can (both cores
            busy, gosnoop's reader competing with them): records per
            second written to the file, and records lost (must be 0).
lost        The reader falls behind on purpose (its stdout is a pipe
            nobody reads until the loop ends): the ring buffer fills, and
            gosnoop must count and report what it dropped: printed + lost
            == calls.

--before OTHER_GOSNOOP: another build (e.g. of the last commit) measured
in the same runs, alternating with this one, for before/after figures
(configurations ending in "@before"). Per call figures note the median
of the runs too.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from funcs import (GOSNOOP, EmptyUprobe, build_go, elf_vaddr_to_offset,  # noqa: E402
                   func_sites, median_ns, wait_line)

LOOP_GO = r'''package main

import (
	"flag"
	"fmt"
	"sync"
	"time"
)

var sink int

//go:noinline
func inner(x int) int { return x ^ 0x5a }

// work has a frame, hence the stack-check prologue: CMP; JBE.
//
//go:noinline
func work(name string, a, b int) int { return inner(a+b)*7 + len(name) }

func main() {
	n := flag.Int("n", 100000, "calls per goroutine")
	par := flag.Int("par", 1, "goroutines")
	flag.Parse()
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < *par; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := 0
			for i := 0; i < *n; i++ {
				s += work("gopher", i, g)
			}
			sink += s
		}(g)
	}
	wg.Wait()
	fmt.Printf("%.1f\n", float64(time.Since(t0).Nanoseconds())/float64(*n))
}
'''


def build_loop():
    return build_go("trace-loop", LOOP_GO)


def run_loop(loop, n, par=1):
    """(ns per call per goroutine as the loop measured it, wall seconds,
    pid): gosnoop traces every process running the loop's path, so
    records are told apart by pid"""
    t0 = time.perf_counter()
    p = subprocess.Popen([loop, "-n", str(n), "-par", str(par)], stdout=subprocess.PIPE,
                         text=True)
    out, _ = p.communicate()
    if p.returncode:
        raise RuntimeError(f"{loop} failed: {p.returncode}")
    return float(out.strip()), time.perf_counter() - t0, p.pid


def lost_of(stderr):
    m = re.search(r"(\d+) calls lost", stderr)
    return int(m.group(1)) if m else 0


def gosnoop_to_file(loop, n, par=1, extra=(), gosnoop=GOSNOOP):
    """gosnoop trace --json main.work, records to a file while the loop
    runs: (ns per call, records, lost, loop wall seconds)."""
    out = tempfile.NamedTemporaryFile(prefix="gosnoop-trace-", suffix=".json", delete=False)
    g = subprocess.Popen([gosnoop, "--json", "trace", "-v"] + list(extra) + [loop, "main.work"],
                         stdout=out,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_line(g.stderr, r"attached \d+ sites")
        ns, wall, pid = run_loop(loop, n, par)
    finally:
        g.send_signal(signal.SIGINT)
        _, err = g.communicate(timeout=300)
        out.close()
    recs = []
    with open(out.name) as f:
        for line in f:
            r = json.loads(line)
            if r.get("pid") == pid:
                recs.append(r)
    os.unlink(out.name)
    return ns, recs, lost_of(err), wall


def check_records(recs, n, par):
    calls = [r for r in recs if r["type"] == "call" and r["func"] == "main.work"]
    assert len(calls) == n * par, f"{len(calls)} records for {n * par} calls"
    for g in range(par):
        got = sorted(r["args"]["a"] for r in calls if r["args"]["b"] == g)
        assert got == list(range(n)), f"goroutine {g}: wrong arguments"
    assert all(r["args"]["name"] == "gopher" for r in calls)
    assert all(r["ret"]["~r0"] == ((r["args"]["a"] + r["args"]["b"]) ^ 0x5a) * 7 + 6
               for r in calls)


def with_bpftrace(loop, n, repeat):
    """bpftrace printing name, a, b at the uprobe and the result at the
    uretprobe into a file: (fastest ns per call, result lines of that
    run)."""
    script = (f'uprobe:{loop}:main.work {{ printf("%s %d %d\\n", str(reg("ax"), reg("bx")), '
              f'reg("cx"), reg("di")); }} '
              f'uretprobe:{loop}:main.work {{ printf("= %d\\n", retval); }}')
    runs = []

    def one():
        with tempfile.NamedTemporaryFile(prefix="bpftrace-", mode="w+") as out:
            b = subprocess.Popen(["bpftrace", "-e", script], stdout=out,
                                 stderr=subprocess.DEVNULL, text=True)
            try:
                # "Attaching N probes..." goes to stdout, the file
                deadline = time.time() + 30
                while time.time() < deadline and "Attaching" not in open(out.name).read():
                    time.sleep(0.1)
                time.sleep(1.0)     # bpftrace prints before it attaches
                ns = run_loop(loop, n)[0]
            finally:
                b.send_signal(signal.SIGINT)
                b.communicate(timeout=300)
            rets = sum(1 for l in open(out.name) if l.startswith("= "))
        runs.append((ns, rets))
        return ns
    median_ns(one, repeat)
    return min(runs)


def reader_behind(loop, n):
    """stdout a pipe nobody reads while the loop runs: (calls, printed,
    lost, warning line)"""
    g = subprocess.Popen([GOSNOOP, "--json", "trace", "-v", loop, "main.work"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_line(g.stderr, r"attached \d+ sites")
        pid = run_loop(loop, n, 2)[2]
    finally:
        g.send_signal(signal.SIGINT)
        out, err = g.communicate(timeout=300)
    printed = sum(1 for l in out.splitlines()
                  if l.startswith('{"type":"call"') and f'"pid":{pid},' in l)
    warn = next((l for l in err.splitlines() if "lost" in l), "")
    return 2 * n, printed, lost_of(err), warn


def alternated(fns, repeat):
    """Each of fns (name -> function) run repeat times, in turns, so
    that load changes affect all alike: name -> list of results."""
    vals = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            vals[k].append(fn())
    return vals


def median(vals):
    v = sorted(vals)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def main():
    before = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else None
    if os.geteuid() != 0:
        print("trace: skipped (needs root for uprobes)")
        return {}
    quick = bool(os.environ.get("BENCH_QUICK"))
    n = 20000 if quick else 50000
    repeat = int(os.environ.get("BENCH_REPEAT", 1 if quick else 3))
    loop = build_loop()
    figs = []

    def fig(name, value, unit="ns", base=None, target="", note=""):
        bname, bval = base if base else (None, None)
        figs.append({"name": name, "value": value, "unit": unit, "baseline": bname,
                     "baseline_value": bval,
                     "ratio": value / bval if value is not None and bval else None,
                     "target": target, "note": note})

    entry, jbe, ret = func_sites(loop, "main.work")
    base = median_ns(lambda: run_loop(loop, n)[0], repeat)
    fig("untraced loop, ns per call", base)

    def pair_once():
        p = EmptyUprobe(loop, [elf_vaddr_to_offset(loop, entry), elf_vaddr_to_offset(loop, ret)])
        try:
            return run_loop(loop, n)[0]
        finally:
            p.close()
    pair = median_ns(pair_once, repeat) - base
    fig("empty uprobes at 1st insn + RET (pair floor), ns/call", pair)

    def trace_floor_once():
        p = EmptyUprobe(loop, [elf_vaddr_to_offset(loop, jbe), elf_vaddr_to_offset(loop, ret)])
        try:
            return run_loop(loop, n)[0]
        finally:
            p.close()
    floor = median_ns(trace_floor_once, repeat) - base
    fig("empty uprobes at the JBE + RET (trace's probe floor), ns/call", floor,
        base=("pair floor", pair),
        note="the sites trace uses, empty programs: what is left is the traps")

    def gos_once(gosnoop):
        ns, recs, lost, _ = gosnoop_to_file(loop, n, gosnoop=gosnoop)
        check_records(recs, n, 1)
        assert lost == 0, f"{lost} lost"
        return ns

    def probes_once(gosnoop):
        ns, recs, _, _ = gosnoop_to_file(loop, n, extra=["--filter", "a < 0"],
                                         gosnoop=gosnoop)
        assert not recs, "--filter 'a < 0' let calls through"
        return ns
    fns = {"probes": lambda: probes_once(GOSNOOP), "json": lambda: gos_once(GOSNOOP)}
    if before:
        fns["probes@before"] = lambda: probes_once(before)
        fns["json@before"] = lambda: gos_once(before)
    runs = alternated(fns, repeat)
    med = {k: median(v) - base for k, v in runs.items()}
    probes = min(runs["probes"]) - base
    gos = min(runs["json"]) - base

    def med_note(k):
        return f"median of {repeat}: {med[k]:.0f} ns = {med[k] / pair:.3f}x"
    fig("gosnoop trace, every call dropped by --filter at the entry, ns/call", probes,
        base=("pair floor", pair),
        note="the probes (emulated JBE + single-stepped RET) without records; " +
        med_note("probes"))
    fig("gosnoop trace --json > file (args, result, record), ns/call", gos,
        base=("pair floor", pair), target="<= 0.6x pair floor", note=med_note("json"))
    if before:
        fig("@before: trace, every call dropped by --filter, ns/call",
            min(runs["probes@before"]) - base, base=("pair floor", pair),
            note=f"{before}; " + med_note("probes@before"))
        fig("@before: trace --json > file, ns/call", min(runs["json@before"]) - base,
            base=("pair floor", pair), note=med_note("json@before"))
    if shutil.which("bpftrace"):
        bt, rets = with_bpftrace(loop, n, repeat)
        bt -= base
        fig("bpftrace uprobe+uretprobe printf args/ret > file, ns/call", bt,
            base=("pair floor", pair), note=f"{rets} of {n} results printed")
        fig("gosnoop trace vs bpftrace, ns/call", gos, base=("bpftrace", bt))

    # both cores busy with the tracee
    sat = []
    for _ in range(repeat):
        ns, recs, lost, wall = gosnoop_to_file(loop, n, 2)
        check_records(recs, n, 2) if not lost else None
        sat.append((len(recs) / wall, lost))
    best = max(sat)
    fig("records/s into JSON, 2 goroutines saturating 2 cores", best[0], unit="/s",
        note=f"lost {best[1]} (target 0); loop wall time includes process start")
    fig("records lost while saturating (every run)", float(sum(l for _, l in sat)), unit="",
        target="0")

    calls, printed, lost, warn = reader_behind(loop, n)
    fig("reader behind: records printed", float(printed), unit="", note=f"of {calls} calls")
    fig("reader behind: records lost, counted", float(lost), unit="",
        target="printed + lost == calls",
        note=("OK: " if printed + lost == calls else "MISMATCH: ") +
        f"{printed} + {lost} vs {calls}; stderr: {warn.strip()}")

    print(f"\n{'trace benchmark':62} {'value':>10} {'baseline':>10} {'ratio':>6}")
    for f in figs:
        v = "-" if f["value"] is None else (f"{f['value']:.0f} {f['unit']}" if f["value"] >= 1e4
                                            else f"{f['value']:.1f} {f['unit']}")
        b = "-" if f["baseline_value"] is None else f"{f['baseline_value']:.1f}"
        r = "-" if f["ratio"] is None else f"{f['ratio']:.3f}"
        print(f"{f['name'][:62]:62} {v:>10} {b:>10} {r:>6}")
        if f["baseline"]:
            print(f"{'':4}baseline: {f['baseline']}")
        if f["target"]:
            print(f"{'':4}target: {f['target']}")
        if f["note"]:
            print(f"{'':4}note: {f['note']}")
    return {"trace": figs}


if __name__ == "__main__":
    res = main()
    path = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else \
        os.path.join(tempfile.gettempdir(), "gosnoop-trace-bench.json")
    with open(path, "w") as fh:
        json.dump(res, fh, indent=1)
    print(f"json: {path}")
