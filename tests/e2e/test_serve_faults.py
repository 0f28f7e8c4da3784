"""gosnoop serve when things go wrong around it (issue 8 review): a
binary rewritten in place under the daemon, processes that exit inside a
timed call, two targets that would export the same series. Helpers come
from test_serve.py."""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error

import gstest
from gstest import GOSNOOP, Skip, fixture
from test_count_latency import gstacks_entries
from test_serve import (COUNTED, TIMED, Daemon, finish, own_record, parse_metrics, plain_run,
                        private_fixture, wait_line, waiting_fixture, write_config)


def test_binary_truncated_in_place_does_not_kill_the_daemon():
    """A deploy that rewrites the binary in place (cp onto it) while the
    daemon holds probes on it: the daemon keeps no mapping of the file, so
    scrapes in the window before it notices neither fault (SIGBUS past the
    new end) nor show garbage names. binary: (the window is the second
    before the daemon notices), then pid: (an ended process, kept until
    the next scrape)."""
    path = private_fixture()
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: {json.dumps(COUNTED)}\n"
                       f"    latency: {json.dumps(TIMED)}\n")
    d = Daemon(cfg)
    fib = own_record(plain_run(path).stdout)["counts"]["main.fib"]
    with open(path, "r+") as f:
        f.truncate(0)
    answers, named = [], []
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        for what in ("/metrics", "/debug/probes"):
            try:
                status, _, body = d.get(what)
            except (urllib.error.URLError, ConnectionError) as e:
                raise AssertionError(f"{what}: {e}; daemon exit {d.p.poll()}: " +
                                     "".join(d.stderr))
            answers.append(status)
            if what == "/metrics":
                calls = {l["function"]: v for n, l, v in parse_metrics(body)
                         if n == "gosnoop_function_calls_total"}
                if calls:
                    named.append(calls)
            else:
                for g in json.loads(body)["targets"]:
                    for t in g["processes"]:
                        named.append(sorted(f["func"] for f in t["count"]["functions"]))
    assert answers and set(answers) == {200}, answers
    assert d.p.poll() is None, "".join(d.stderr)
    # while the old probes were still there, every name was the real one
    # (the fixture's own count for main.fib; main.leaf etc. untouched)
    for n in named:
        if isinstance(n, dict):
            assert set(n) == set(COUNTED) and n["main.fib"] == fib, n
        else:
            assert n == sorted(COUNTED), n
    # and it noticed: probes off the rewritten file, the empty file refused
    wait_line(d, r"rewritten in place: probes detached")
    wait_line(d, r"cannot be probed")
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs, "".join(d.stderr))

    # pid: an ended process's series stay until a scrape has read them:
    # truncate its file in that window, then scrape (no race here)
    path = private_fixture()
    p = waiting_fixture(path)
    cfg = write_config(f"targets:\n  - pid: {p.pid}\n    count: {json.dumps(COUNTED)}\n"
                       f"    latency: {json.dumps(TIMED)}\n")
    d = Daemon(cfg)
    own = finish(p)
    deadline = time.monotonic() + 15
    while True:
        (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
        if g["processes"] and g["processes"][0].get("ended"):
            break
        assert time.monotonic() < deadline, g
        time.sleep(0.2)
    with open(path, "r+") as f:
        f.truncate(0)
    status, _, body = d.get("/debug/probes")
    (t,) = json.loads(body)["targets"][0]["processes"]
    assert status == 200 and sorted(f["func"] for f in t["latency"]["functions"]) == \
        sorted(TIMED), t
    status, _, body = d.get("/metrics")
    calls = {l["function"]: v for n, l, v in parse_metrics(body)
             if n == "gosnoop_function_calls_total"}
    assert status == 200 and calls == {f: own[f] for f in COUNTED}, (calls, own)
    assert d.p.poll() is None, "".join(d.stderr)
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs, "".join(d.stderr))


def test_open_calls_of_exited_processes_are_dropped():
    """The args fixture's "hang" mode exits while a goroutine sleeps in
    main.nap: its open-call stack stays in the latency program's gstacks
    map until the daemon drops it (about once a second); serve's objects
    live forever, so without that the map would fill up."""
    if not shutil.which("bpftool"):
        raise Skip("bpftool not installed")
    path = os.path.join(gstest.tmpdir(), "args")
    shutil.copy2(fixture("args"), path)
    cfg = write_config(f"targets:\n  - binary: {path}\n    latency: [main.nap]\n")
    d = Daemon(cfg)
    r = plain_run(path, "hang")
    assert r.returncode == 0, r.stderr
    returned = [l for l in r.stdout.splitlines() if '"f":"main.nap"' in l]
    (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
    pairing = g["processes"][0]["latency"]["pairing"]
    # the kernel saw more entries than returns: a call was left open
    assert pairing["paired"] == len(returned) == 1, (pairing, r.stdout)
    assert pairing["entries"] > pairing["paired"], pairing
    deadline = time.monotonic() + 3.0
    while gstacks_entries(d.p.pid) != [] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gstacks_entries(d.p.pid) == []
    assert d.get("/metrics")[0] == 200
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_duplicate_targets_rejected():
    """Two targets exporting the same series (same process(es), same
    labels in any order): Prometheus would reject the scrape. At start:
    exit 2 naming both lines; at reload: the running config stays."""
    path = private_fixture()
    one = f"  - binary: {path}\n    count: [main.fib]\n    labels: {{env: a, team: b}}\n"
    same = f"  - binary: {path}\n    latency: [main.fib]\n    labels: {{team: b, env: a}}\n"
    other = f"  - binary: {path}\n    latency: [main.fib]\n    labels: {{env: c}}\n"
    cases = [
        ("targets:\n" + one + same, 5, 2),
        ("targets:\n  - comm: x\n    count: [a]\n  - pid: 1\n    count: [a]\n"
         "  - comm: x\n    sched: true\n", 6, 2),
        ("targets:\n  - pid: 1\n    count: [a]\n  - pid: 1\n    sched: true\n", 4, 2),
    ]
    for text, line, first in cases:
        cfg = write_config(text)
        r = subprocess.run([GOSNOOP, "serve", "--config", cfg], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        err = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(err) == 1, (text, r.returncode, err)
        assert f"{cfg}:{line}: same target as line {first}" in err[0], (text, err)
    # other labels: other series, accepted
    cfg = write_config("targets:\n" + one + other)
    d = Daemon(cfg, "--no-watch")
    fib = own_record(plain_run(path).stdout)["counts"]["main.fib"]
    with open(cfg, "w") as f:
        f.write("targets:\n" + one + same)
    d.p.send_signal(signal.SIGHUP)
    line = wait_line(d, r"reload failed")
    assert f"{cfg}:5: same target as line 2" in line, line
    samples = parse_metrics(d.get("/metrics")[2])
    calls = [(l["env"], v) for n, l, v in samples if n == "gosnoop_function_calls_total"]
    timed = [(l["env"], v) for n, l, v in samples
             if n == "gosnoop_function_duration_seconds_count"]
    ok = [v for n, l, v in samples if n == "gosnoop_config_last_reload_successful"]
    assert (calls, timed, ok) == ([("a", fib)], [("c", fib)], [0.0]), (calls, timed, ok)
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)
