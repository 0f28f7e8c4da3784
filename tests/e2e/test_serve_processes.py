"""gosnoop serve's gosnoop_target_processes: how many live processes each
configured target covers, against the processes the test itself starts
and kills (and what /proc/PID/exe says runs the file). Helpers come
from test_serve.py."""
import json
import os
import shutil
import subprocess
import time

import gstest
from gstest import fixture
from test_serve import (Daemon, finish, parse_metrics, private_fixture, scrape_until_gone,
                        target_processes, wait_line, waiting_fixture, write_config)


def poll_target_processes(d, want, timeout=15):
    """Scrape until gosnoop_target_processes is exactly want (the daemon
    rescans once a second); every value seen on the way must be one the
    test's own processes could explain (0..max of want and before)."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        got = target_processes(d)
        seen.append(got)
        if got == want or time.monotonic() > deadline:
            return got, seen
        time.sleep(0.2)


def running_file(path):
    """PIDs whose /proc/PID/exe is the file at path (same inode): what the
    kernel says runs it, independent of gosnoop."""
    st = os.stat(path)
    out = set()
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                x = os.stat(f"/proc/{e}/exe")
            except OSError:
                continue
            if (x.st_dev, x.st_ino) == (st.st_dev, st.st_ino):
                out.add(int(e))
    return out


def test_target_processes_counts_the_tests_own_processes():
    # binary: and comm: targets on one private file with a unique name:
    # 0, then the 2 processes this test starts, then 1 after it kills one
    name = f"gsn{os.getpid() % 100000}n"
    path = os.path.join(gstest.tmpdir(), name)
    shutil.copy2(fixture("calls"), path)
    cfg = write_config(f"targets:\n  - binary: {path}\n    count: [main.fib]\n"
                       f"    labels: {{env: t}}\n"
                       f"  - comm: {name}\n    count: [main.fib]\n    labels: {{env: t}}\n")
    d = Daemon(cfg)
    by_file = (("binary", path), ("env", "t"))
    by_comm = (("comm", name), ("env", "t"))
    assert running_file(path) == set()
    got, _ = poll_target_processes(d, {by_file: 0, by_comm: 0})
    assert got == {by_file: 0, by_comm: 0}, got
    # another file, another name: not these targets' processes
    other = waiting_fixture(fixture("calls"))
    a, b = waiting_fixture(path), waiting_fixture(path)
    assert running_file(path) == {a.pid, b.pid}
    got, seen = poll_target_processes(d, {by_file: 2, by_comm: 2})
    assert got == {by_file: 2, by_comm: 2}, (got, "".join(d.stderr))
    assert all(v in (0, 1, 2) for g in seen for v in g.values()), seen
    promtool = shutil.which("promtool")
    if promtool:
        text = d.get("/metrics")[2]
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "# TYPE gosnoop_target_processes gauge\n" in text
    a.kill()
    a.wait()
    assert running_file(path) == {b.pid}
    got, seen = poll_target_processes(d, {by_file: 1, by_comm: 1})
    assert got == {by_file: 1, by_comm: 1}, (got, "".join(d.stderr))
    assert all(v in (1, 2) for g in seen for v in g.values()), seen
    # and it stays 1 while b lives (no flapping between rescans)
    for _ in range(4):
        time.sleep(0.4)
        assert target_processes(d) == {by_file: 1, by_comm: 1}
    # b ends by itself (its own counts printed): back to 0, samples kept
    finish(b)
    got, _ = poll_target_processes(d, {by_file: 0, by_comm: 0})
    assert got == {by_file: 0, by_comm: 0}, got
    finish(other)
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)


def test_target_processes_of_a_pid_target():
    path = private_fixture()
    p = waiting_fixture(path)
    cfg = write_config(f"targets:\n  - pid: {p.pid}\n    count: [main.fib]\n"
                       f"    labels: {{team: x}}\n")
    d = Daemon(cfg)
    mine = (("binary", path), ("pid", str(p.pid)), ("team", "x"))
    for _ in range(3):
        assert target_processes(d) == {mine: 1}
        time.sleep(0.4)
    # the same labels as the process's other series
    attached = [l for n, l, v in parse_metrics(d.get("/metrics")[2])
                if n == "gosnoop_probes_attached"]
    assert [tuple(sorted((k, v) for k, v in l.items() if k != "kind")) for l in attached] == \
        [mine], attached
    p.kill()
    p.wait()
    # ended: 0 within a rescan; the sample stays (same labels, binary
    # included) after the process's own series went
    got, seen = poll_target_processes(d, {mine: 0})
    assert got == {mine: 0}, (got, "".join(d.stderr))
    assert not scrape_until_gone(d, lambda n, l: n == "gosnoop_probes_attached")
    wait_line(d, rf"process {p.pid} ended: its series are gone")
    assert target_processes(d) == {mine: 0}
    (g,) = json.loads(d.get("/debug/probes")[2])["targets"]
    assert (g["state"], g["processes"]) == ("exited", []), g
    rc, secs = d.stop()
    assert rc == 0 and secs < 5.0, (rc, secs)
