"""latency --per-goid over several processes (a PATH target): goroutine
ids are per process, so each histogram names its process too (two
"main.cold  goroutine 18" looked the same); against the processes the
test started and what each said it called."""
import json
import os
import re
import shutil
import subprocess

from gstest import GOSNOOP, fixture, run, tmpdir


def _two_hotcolds(exe):
    # main.cold every 10 ms in one, every 100 ms in the other
    return {every: subprocess.Popen([exe, "-for", "4s", "-every", every],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
            for every in ("10ms", "100ms")}


def _said(p):
    out = p.communicate(timeout=60)[0]
    return json.loads(out.strip().splitlines()[-1])


def test_per_goid_histograms_name_their_process():
    # a copy of its own: a PATH target is every process running the file
    exe = os.path.join(tmpdir(), "hotcold")
    shutil.copy(fixture("hotcold"), exe)
    procs = _two_hotcolds(exe)
    try:
        text = run(["latency", "--per-goid", "-d", "1.5", exe, "main.cold"], timeout=60).stdout
        recs = [json.loads(l) for l in run(["--json", "latency", "--per-goid", "-d", "1", exe,
                                            "main.cold"], timeout=60).stdout.splitlines()
                if l.startswith("{")]
    finally:
        said = {every: _said(p) for every, p in procs.items()}
    pid = {every: p.pid for every, p in procs.items()}
    heads = [l.split() for l in text.splitlines() if l.startswith("main.cold")]
    # "main.cold  PID P goroutine G", one per process
    assert sorted(int(h[2]) for h in heads) == sorted(pid.values()), text
    assert all(h[1] == "PID" and h[3] == "goroutine" for h in heads), text
    counts = {}
    for block in text.split("\nmain.cold  ")[1:]:
        p = int(block.split()[1])
        counts[p] = int(re.search(r"^count (\d+),", block, re.M).group(1))
    for every in pid:
        assert 1 <= counts[pid[every]] <= said[every]["cold"], (every, counts, said)
    # ten times the calls in the same window: not the same histogram
    assert counts[pid["10ms"]] > counts[pid["100ms"]], counts
    assert sorted(r["pid"] for r in recs) == sorted(pid.values()), recs
    for r in recs:
        assert r["func"] == "main.cold" and r["goid"] > 0 and r["count"] >= 1, r
    # one process: no PID in the heading (as before)
    one = run(["latency", "--per-goid", "main.cold", "--", exe, "-for", "0.3s"],
              timeout=60).stdout
    assert [l for l in one.splitlines() if l.startswith("main.cold")][0].split()[1] == \
        "goroutine", one
