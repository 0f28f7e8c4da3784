#!/usr/bin/env python3
"""bench/serve.py - the figures of `gosnoop serve` (issue 15); standalone
(`GOSNOOP=build/gosnoop bench/serve.py [--quick]`) or from bench/run as
run(results, args).

scrape   one `binary:` target with latency: ["net/http.*"] on esbuild
         (go1.22, the corpus) after it served 40 requests: samples and
         bytes of one /metrics, and the median ms of 20 scrapes.
scale    N = 1, 300, 1000 `binary:` targets (the calls fixture, count:
         [main.fib, main.add], one label apart), the daemon started with a
         soft fd limit of 1024: seconds to start (until it serves), open
         fds, ms of one scrape, seconds from SIGTERM to its exit (--quick:
         1 and 300).
comm     N = 100, 1000 processes of one file under one `comm:` target
         (count: [main.classify, main.leaf]), started after the daemon and
         held before their work: seconds until all are probed (the
         daemon rescans once a second), ms of one scrape, seconds from
         SIGTERM to its exit with all N running (--quick: 100).
reload   300 targets kept and one added/removed by SIGHUP, 50 times, while
         /metrics is scraped every 50 ms: reloads per second, scrapes
         answered, the slowest scrape.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOSNOOP = os.environ.get("GOSNOOP") or os.path.join(ROOT, "build", "gosnoop")
CORPUS = os.environ.get("GOSNOOP_CORPUS") or os.path.expanduser("~/.cache/gosnoop/corpus")
SERVING = re.compile(r"serving metrics of \d+ targets on http://127\.0\.0\.1:(\d+)/metrics")


def soft_1024():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


class Daemon:
    def __init__(self, cfg, *args):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([GOSNOOP, "serve", "--config", cfg, "--listen", "127.0.0.1:0"] +
                                  list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, preexec_fn=soft_1024)
        self.lines, self.port = [], None
        threading.Thread(target=self._read, daemon=True).start()
        while self.port is None:
            if self.p.poll() is not None:
                raise RuntimeError("serve did not start: " + "".join(self.lines[-3:]))
            time.sleep(0.02)
        self.start_s = time.monotonic() - self.t0

    def _read(self):
        for line in self.p.stderr:
            self.lines.append(line)
            m = SERVING.search(line)
            if m:
                self.port = int(m.group(1))

    def scrape(self, path="/metrics"):
        t0 = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as r:
            body = r.read()
        return body, (time.monotonic() - t0) * 1000

    def stop(self):
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=120)
        return rc, time.monotonic() - t0


def targets(path, n):
    return "targets:\n" + "".join(
        f"  - binary: {path}\n    count: [main.fib, main.add]\n    labels: {{n: \"{i}\"}}\n"
        for i in range(n))


def scrape_figures(tmp, out):
    esb = os.path.join(CORPUS, "esbuild-0.23.1-go1.22.5")
    if not os.path.exists(esb):
        out["scrape"] = {"skipped": f"{esb} missing"}
        return
    path = os.path.join(tmp, "esbuild")
    shutil.copy2(esb, path)
    cfg = os.path.join(tmp, "esb.yaml")
    with open(cfg, "w") as f:
        f.write(f"targets:\n  - binary: {path}\n    latency: [\"net/http.*\"]\n")
    d = Daemon(cfg)
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "a.txt"), "wb") as f:
        f.write(os.urandom(100000))
    port = 18000 + os.getpid() % 1000
    e = subprocess.Popen([path, f"--serve=127.0.0.1:{port}", f"--servedir={www}"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        served = 0
        deadline = time.monotonic() + 20
        while served < 40 and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/a.txt", timeout=5).read()
                served += 1
            except OSError:
                time.sleep(0.1)
        body, _ = d.scrape()
        ms = statistics.median(d.scrape()[1] for _ in range(20))
        samples = sum(1 for l in body.decode().splitlines() if l and not l.startswith("#"))
        out["scrape"] = {"requests": served, "samples": samples, "bytes": len(body),
                         "median_ms": round(ms, 1)}
    finally:
        e.kill()
        e.wait()
        d.stop()


def scale_figures(tmp, fixture, sizes, out):
    for n in sizes:
        cfg = os.path.join(tmp, f"t{n}.yaml")
        with open(cfg, "w") as f:
            f.write(targets(fixture, n))
        try:
            d = Daemon(cfg)
        except RuntimeError as e:
            out[f"targets_{n}"] = {"failed": str(e)[-200:]}
            continue
        fds = len(os.listdir(f"/proc/{d.p.pid}/fd"))
        try:
            body, ms = d.scrape()
            scraped = len(body)
        except OSError as e:
            ms, scraped = None, repr(e)
        rc, secs = d.stop()
        out[f"targets_{n}"] = {"start_s": round(d.start_s, 2), "fds": fds, "scrape_ms": ms and round(ms, 1),
                               "scrape_bytes": scraped, "sigterm_s": round(secs, 3), "rc": rc}


def comm_figures(tmp, fixture, sizes, out):
    name = f"gsb{os.getpid() % 100000}c"      # a comm no other process has
    path = os.path.join(tmp, name)
    shutil.copy2(fixture, path)
    cfg = os.path.join(tmp, "comm.yaml")
    with open(cfg, "w") as f:
        f.write(f"targets:\n  - comm: {name}\n    count: [main.classify, main.leaf]\n")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for n in sizes:
        d = Daemon(cfg)
        procs = []
        try:
            t0 = time.monotonic()
            procs = [subprocess.Popen([path, "-wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL) for _ in range(n)]
            for q in procs:
                q.stdout.readline()
            live = re.compile(rf'gosnoop_target_processes{{comm="{name}"}} (\d+)')
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                m = live.search(d.scrape()[0].decode())
                if m and int(m.group(1)) == n:
                    break
                time.sleep(0.2)
            probed = time.monotonic() - t0
            body, ms = d.scrape()
            rc, secs = d.stop()
            out[f"comm_{n}"] = {"probed_s": round(probed, 2), "scrape_ms": round(ms, 1),
                                "sigterm_s": round(secs, 3), "rc": rc}
        finally:
            if d.p.poll() is None:
                d.stop()
            for q in procs:
                q.kill()
            for q in procs:
                q.wait()


def reload_figures(tmp, fixture, out, n=300, reloads=50):
    cfg = os.path.join(tmp, "reload.yaml")
    base = targets(fixture, n)
    extra = f"  - binary: {fixture}\n    latency: [\"main.*\"]\n    labels: {{n: extra}}\n"
    with open(cfg, "w") as f:
        f.write(base)
    try:
        d = Daemon(cfg, "--no-watch")
    except RuntimeError as e:
        out["reload"] = {"failed": str(e)[-200:]}
        return
    times, errors, stop = [], [], threading.Event()

    def scrape():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                times.append(d.scrape()[1])
            except OSError as e:
                errors.append(repr(e))
            stop.wait(max(0.0, 0.05 - (time.monotonic() - t0)))

    th = threading.Thread(target=scrape)
    th.start()
    t0 = time.monotonic()
    for i in range(reloads):
        with open(cfg, "w") as f:
            f.write(base + (extra if i % 2 == 0 else ""))
        k = sum("reloaded" in l or "reload failed" in l for l in d.lines)
        d.p.send_signal(signal.SIGHUP)
        while sum("reloaded" in l or "reload failed" in l for l in d.lines) == k:
            time.sleep(0.005)
    wall = time.monotonic() - t0
    stop.set()
    th.join()
    d.stop()
    out["reload"] = {"reloads": reloads, "wall_s": round(wall, 2), "scrapes_ok": len(times),
                     "scrapes_failed": len(errors), "slowest_ms": round(max(times), 1) if times else None}


def run(results, args):
    tmp = tempfile.mkdtemp(prefix="gosnoop-bench-serve-")
    out = results.setdefault("serve", {})
    try:
        fixture = os.path.join(tmp, "calls")
        shutil.copy2(os.path.join(ROOT, "build", "fixtures", "calls"), fixture)
        scrape_figures(tmp, out)
        scale_figures(tmp, fixture, (1, 300) if args.quick else (1, 300, 1000), out)
        comm_figures(tmp, fixture, (100,) if args.quick else (100, 1000), out)
        reload_figures(tmp, fixture, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["scrape", "scale", "comm", "reload"])
    a = ap.parse_args()
    res = {}
    if a.only:
        tmp = tempfile.mkdtemp(prefix="gosnoop-bench-serve-")
        fx = os.path.join(tmp, "calls")
        shutil.copy2(os.path.join(ROOT, "build", "fixtures", "calls"), fx)
        o = res.setdefault("serve", {})
        {"scrape": lambda: scrape_figures(tmp, o),
         "scale": lambda: scale_figures(tmp, fx, (1, 300) if a.quick else (1, 300, 1000), o),
         "comm": lambda: comm_figures(tmp, fx, (100,) if a.quick else (100, 1000), o),
         "reload": lambda: reload_figures(tmp, fx, o)}[a.only]()
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        run(res, a)
    print(json.dumps(res, indent=1))
