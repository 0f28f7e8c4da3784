#!/usr/bin/env python3
"""bench/overhead.py - the overhead budget (issue 16); standalone
(`GOSNOOP=build/gosnoop bench/overhead.py [--quick]`) or from bench/run
as run(results, args).

esbuild (the newest of the corpus) serves a 20 KB file over HTTP; a load
generator in this process (keep-alive GETs from two threads) measures
requests/s over a window. In the same run, each after a settling time:

untraced        the baseline
count 'runtime.*' and latency '*' (every function), each
  without a budget   what the issue measured (16x, 300x slower)
  --max-overhead 5   the governor's result: throughput / untraced (the
                     issue's target: >= 90%), functions throttled, and
                     whether the handlers stayed on (net/http.(*conn).serve,
                     esbuild's (*apiHandler).ServeHTTP: counted, not
                     sampled)
cost            `gosnoop cost -p PID -d 6` (--cost-secs) under the same
                load: its predicted slowdown of the rate of work
                (count_rate, latency_rate) against the throughput's
                measured without a budget (untraced / traced - 1), the
                issue's target: within 2x; and its CPU-bound figure
                (count, latency) against that and against the CPU a
                request (esbuild takes ~2x more CPU traced: it waits for
                its client untraced).

The load generator shares the 2 CPUs with esbuild and gosnoop, so the
throughput ratios understate a slowdown of esbuild alone; every figure is
a ratio within one run.
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOSNOOP = os.environ.get("GOSNOOP") or os.path.join(ROOT, "build", "gosnoop")
CORPUS = os.environ.get("GOSNOOP_CORPUS") or os.path.expanduser("~/.cache/gosnoop/corpus")
HANDLERS = ["net/http.(*conn).serve",
            "github.com/evanw/esbuild/pkg/api.(*apiHandler).ServeHTTP"]


def newest_esbuild():
    best = None
    for name in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        if name.startswith("esbuild-") and "-go1." in name:
            minor = int(name.split("-go1.")[1].split(".")[0])
            if not best or minor > best[0]:
                best = (minor, os.path.join(CORPUS, name))
    return best[1] if best else None


class Server:
    def __init__(self, esbuild):
        self.dir = tempfile.mkdtemp(prefix="gosnoop-bench-ovh-")
        with open(os.path.join(self.dir, "app.js"), "w") as f:
            f.write("console.log('x');\n" * 1100)    # ~20 KB
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.p = subprocess.Popen([esbuild, f"--serve=127.0.0.1:{self.port}",
                                   f"--servedir={self.dir}"], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.get() == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("esbuild did not serve")

    def get(self, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", "/app.js")
        r = c.getresponse()
        r.read()
        if not conn:
            c.close()
        return r.status

    def cpu_s(self):
        """esbuild's CPU time so far (utime + stime), seconds."""
        with open(f"/proc/{self.p.pid}/stat") as f:
            s = f.read()
        v = s[s.rindex(")") + 2:].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

    def throughput(self, secs, threads=2):
        """Requests per second over secs, keep-alive, from threads; the
        CPU-s/s esbuild used meanwhile in self.cpu_per_s."""
        done = [0] * threads
        stop = time.monotonic() + secs

        def worker(i):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            while time.monotonic() < stop:
                if self.get(c) == 200:
                    done[i] += 1
            c.close()

        ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        t0, cpu0 = time.monotonic(), self.cpu_s()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        dt = time.monotonic() - t0
        self.cpu_per_s = (self.cpu_s() - cpu0) / dt
        return sum(done) / dt

    def close(self):
        self.p.stdin.close()
        self.p.terminate()
        self.p.wait()


def start_gosnoop(args, server):
    """Start gosnoop -v ARGS; returns (process, stderr lines list) once it
    says it attached (esbuild kept under load meanwhile: a large attach
    takes seconds on a busy machine)."""
    out = tempfile.TemporaryFile(mode="w+")
    g = subprocess.Popen([GOSNOOP, "-v"] + args, stdout=out, stderr=subprocess.PIPE, text=True)
    lines, attached = [], threading.Event()

    def reader():
        for l in g.stderr:
            lines.append(l)
            if "attached" in l:
                attached.set()
        attached.set()

    threading.Thread(target=reader, daemon=True).start()
    while not attached.wait(0.5):
        server.throughput(0.5, threads=1)
    g.out = out
    return g, lines


def finish_gosnoop(g, lines):
    g.send_signal(signal.SIGINT)
    g.wait(timeout=300)
    g.out.seek(0)
    return [json.loads(l) for l in g.out if l.startswith("{")], "".join(lines)


def traced(server, cmd, pats, budget, settle, window, extra=()):
    """Throughput under gosnoop CMD -p PID PATS [--max-overhead budget]
    [extra...], and gosnoop's JSON records."""
    args = ["--json", cmd, "-p", str(server.p.pid)] + pats + list(extra)
    if budget:
        args += ["--max-overhead", str(budget)]
    g, lines = start_gosnoop(args, server)
    server.throughput(settle)
    rps = server.throughput(window)
    recs, err = finish_gosnoop(g, lines)
    return rps, recs, err


def summarize(recs, typ):
    """Functions ever throttled, and each handler's state at the end: on
    (exact), sampled (the last record's duty; its row's coverage), off,
    or not called."""
    thr = [r for r in recs if r.get("type") == "throttled"]
    rows = {r["func"]: r for r in recs if r.get("type") == typ}
    handlers = {}
    for h in HANDLERS:
        told = [r for r in recs if r.get("func") == h and
                r.get("type") in ("throttled", "unthrottled")]
        last = told[-1] if told else {"type": "unthrottled"}
        row = rows.get(h, {})
        if last["type"] == "throttled" and last.get("duty", 0) > 0:
            state = f"sampled {last['duty']:.0%}"
        elif last["type"] == "throttled":
            state = "off"
        else:
            state = "on" if h in rows else "not called"
        if row.get("sampled"):
            state += f" (coverage {row.get('coverage', 0):.0%})"
        handlers[h] = state
    return len({t["func"] for t in thr}), handlers


def run_budget(results, args):
    """Only the budget's cases (--budget-only): untraced, then each of
    args.cases under --max-overhead 5 (plus --keep ARGS.keep), untraced
    again; a few minutes instead of the whole section's."""
    esb = newest_esbuild()
    if not esb:
        print("overhead: SKIP (no esbuild in the corpus)")
        return
    settle, window = (6, 4) if args.quick else (10, 8)
    settle, window = args.settle or settle, args.window or window
    extra = [a for k in args.keep for a in ("--keep", k)]
    server = Server(esb)
    fig = {}
    try:
        server.throughput(2)
        base = server.throughput(window)
        fig["untraced_rps"] = round(base, 1)
        print(f"overhead: {os.path.basename(esb)} untraced {base:.0f} req/s")
        for cmd, pats in (("count", ["runtime.*"]), ("latency", ["*"])):
            if cmd not in args.cases:
                continue
            key = f"{cmd} {' '.join(pats)}" + "".join(f" --keep {k}" for k in args.keep)
            rps5, recs, err = traced(server, cmd, pats, 5, settle, window, extra)
            nthr, handlers = summarize(recs, cmd)
            if args.records:
                os.makedirs(args.records, exist_ok=True)
                with open(os.path.join(args.records, f"{cmd}.jsonl"), "w") as f:
                    f.writelines(json.dumps(r) + "\n" for r in recs)
            fig[key] = {"budget5_rps": round(rps5, 1), "budget5_ratio": round(rps5 / base, 4),
                        "throttled_functions": nthr, "handlers": handlers,
                        "reattaches": err.count("probes re-attached in")}
            print(f"overhead: {key} --max-overhead 5: {rps5:.0f} req/s ({rps5 / base:.1%}),"
                  f" {nthr} functions throttled, {fig[key]['reattaches']} re-attaches,"
                  f" handlers {handlers}")
            if not recs:
                print(f"overhead: gosnoop said: {err[-500:]}")
            if args.verbose:
                for l in err.splitlines():
                    if "overhead:" in l or "attached" in l:
                        print("  " + l)
        fig["untraced_rps_end"] = round(server.throughput(window), 1)
        print(f"overhead: untraced again {fig['untraced_rps_end']:.0f} req/s")
    finally:
        server.close()
    results["overhead_budget"] = fig


def cost(server, pats, secs):
    g, lines = start_gosnoop(["--json", "cost", "-p", str(server.p.pid), "-d", str(secs)] + pats,
                             server)
    while g.poll() is None:
        server.throughput(0.5)
    recs, err = finish_gosnoop(g, lines)
    tot = [r for r in recs if r.get("type") == "cost_total"]
    if not tot:
        raise RuntimeError(f"cost failed: {err[-500:]}")
    # its model: which order, what it measured, or why it fell back
    for l in err.splitlines():
        if "in situ" in l or "gosnoop: cost:" in l or "measured " in l:
            print("  " + l)
    return tot[0]


def run(results, args):
    esb = newest_esbuild()
    if not esb:
        print("overhead: SKIP (no esbuild in the corpus)")
        return
    # the governor needs ~5 s here to settle (attach, then a few steps)
    settle, window = (6, 4) if args.quick else (10, 8)
    settle = getattr(args, "settle", None) or settle
    window = getattr(args, "window", None) or window
    cost_secs = getattr(args, "cost_secs", None) or 6
    cases = getattr(args, "cases", "count,latency")
    server = Server(esb)
    fig = {}
    try:
        server.throughput(2)    # warm up
        base = server.throughput(window)
        base_cpu = server.cpu_per_s
        fig["untraced_rps"] = round(base, 1)
        fig["untraced_cpu_us_per_request"] = round(base_cpu / base * 1e6, 1)
        print(f"overhead: {os.path.basename(esb)} untraced {base:.0f} req/s,"
              f" {base_cpu / base * 1e6:.0f} us of CPU a request")
        for cmd, pats in (("count", ["runtime.*"]), ("latency", ["*"])):
            if cmd not in cases:
                continue
            key = f"{cmd} {' '.join(pats)}"
            # 6 s: 'runtime.*' a third all on, then the program's own CPU
            # almost untraced once the old links have closed; '*' (too
            # many links to close in time) a third with only
            # runtime.mallocgc on, a meter of the work, then all on
            # (cmd_cost.c)
            pred = cost(server, pats, cost_secs)
            rps0, _, _ = traced(server, cmd, pats, None, settle, window)
            # what cost predicts: CPU a request traced over untraced - 1
            # (throughput also moves with the CPU esbuild gets: a loaded
            # machine gives it less when traced)
            cpu_slow = (server.cpu_per_s / rps0) / (base_cpu / base) - 1 \
                if rps0 > 0 and base_cpu > 0 else float("inf")
            rps5, recs, err = traced(server, cmd, pats, 5, settle, window)
            nthr, handlers = summarize(recs, cmd)
            slow = base / rps0 - 1 if rps0 > 0 else float("inf")
            f = {
                "no_budget_rps": round(rps0, 1),
                "no_budget_ratio": round(rps0 / base, 4),
                "measured_slowdown": round(slow, 3),
                "cost_predicted": round(pred[cmd], 3),
                "prediction_over_measured": round(pred[cmd] / slow, 2) if slow > 0 else None,
                # cost's rate of work (requests/s): what the throughput
                # measures; the overhead above is CPU-bound work's
                "cost_predicted_rate": pred.get(f"{cmd}_rate"),
                "rate_prediction_over_measured": round(pred[f"{cmd}_rate"] / slow, 2)
                if slow > 0 and f"{cmd}_rate" in pred else None,
                "measured_cpu_slowdown": round(cpu_slow, 3),
                "prediction_over_measured_cpu": round(pred[cmd] / cpu_slow, 2)
                if cpu_slow > 0 else None,
                "cost_in_situ": pred.get("in_situ"),
                "cost_own_cpu": pred.get("own_cpu"),
                "cost_hit_factor": pred.get("hit_factor"),
                "cost_hit_extra_ns": pred.get("hit_extra_ns"),
                "budget5_rps": round(rps5, 1),
                "budget5_ratio": round(rps5 / base, 4),
                "throttled_functions": nthr,
                "handlers": handlers,
            }
            fig[key] = f
            print(f"overhead: {key}: no budget {rps0:.0f} req/s ({rps0 / base:.1%} of untraced,"
                  f" slowdown {slow:.2f}); cost predicted rate {pred.get(cmd + '_rate', -1):.2f}"
                  f" ({f['rate_prediction_over_measured']}x measured), CPU-bound {pred[cmd]:.2f}"
                  f" ({f['prediction_over_measured']}x measured; CPU a request {cpu_slow:.2f} slower,"
                  f" {f['prediction_over_measured_cpu']}x; in situ {pred.get('in_situ')},"
                  f" own {pred.get('own_cpu', 0):.4f} CPU-s/s, hit x{pred.get('hit_factor', 1):.2f},"
                  f" +{pred.get('hit_extra_ns', 0):.0f} ns);"
                  f" --max-overhead 5: {rps5:.0f} req/s ({rps5 / base:.1%}),"
                  f" {nthr} functions throttled, handlers {handlers}")
            if not recs:
                print(f"overhead: gosnoop said: {err[-500:]}")
            for l in err.splitlines():
                if "overhead:" in l or "attached" in l:
                    print("  " + l)
        fig["untraced_rps_end"] = round(server.throughput(window), 1)
        print(f"overhead: untraced again {fig['untraced_rps_end']:.0f} req/s")
    finally:
        server.close()
    results["overhead"] = fig


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--budget-only", action="store_true",
                    help="only --max-overhead 5 (no cost, no run without a budget)")
    ap.add_argument("--cases", default="count,latency", help="which of count, latency")
    ap.add_argument("--keep", action="append", default=[], help="with --budget-only")
    ap.add_argument("--settle", type=float, help="seconds traced before the window")
    ap.add_argument("--window", type=float, help="seconds measured")
    ap.add_argument("--cost-secs", type=float, help="gosnoop cost's -d (default 6)")
    ap.add_argument("--records", help="with --budget-only: write gosnoop's JSON records here (DIR/CMD.jsonl)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="with --budget-only: gosnoop's overhead lines")
    args = ap.parse_args()
    results = {}
    (run_budget if args.budget_only else run)(results, args)
    json.dump(results, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
