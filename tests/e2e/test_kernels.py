"""What differs between kernels, checked on whichever kernel runs it (the
kernel matrix, tests/vm/matrix, runs these in 5.10, 6.1 and 6.12).

What a kernel has is asked of `gosnoop doctor`, whose rows are tested
against raw BPF loads in test_doctor.py; never of the kernel's version.
"""
import json
import subprocess
import time

from gstest import GOSNOOP, Skip, fixture


def capabilities():
    r = subprocess.run([GOSNOOP, "--json", "doctor"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=180)
    caps = {}
    for line in r.stdout.splitlines():
        obj = json.loads(line)
        if obj.get("type") == "capability":
            caps[obj["name"]] = obj
    return caps


def test_trace_of_a_pie_by_pid():
    # A PIE by -p: with attach cookies, sites carry their cookie; without
    # (before 5.15), the by-address program finds them at the load bias
    # read from the process. The same calls either way.
    exe = fixture("demo-pie")
    # the pause gives gosnoop time to attach, slow as it is under qemu
    p = subprocess.Popen([exe, "-rounds", "2", "-pause", "15s"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    try:
        time.sleep(0.5)
        t0 = time.time()
        r = subprocess.run([GOSNOOP, "--json", "trace", "-p", str(p.pid), "main.greet"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           timeout=120)
        out, _ = p.communicate(timeout=60)
    finally:
        p.kill()
    assert r.returncode == 0, r.stderr
    calls = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    calls = [c for c in calls if c.get("type") == "call"]
    if not calls and time.time() - t0 > 15:
        raise Skip("gosnoop attached after the fixture's pause ended (a slow machine)")
    got = sorted((c["args"]["name"], c["args"]["n"]) for c in calls)
    # demo greets "gopher" once a round and "" once
    assert got == [("", 1), ("gopher", 1), ("gopher", 2)], (got, out)


def test_pie_by_path_works_or_names_the_missing_helper():
    # By path (every process) a PIE needs a cookie per site: on a kernel
    # without bpf_get_attach_cookie, one line naming it and exit 3.
    caps = capabilities()
    r = subprocess.run([GOSNOOP, "count", "-d", "0.5", fixture("demo-pie"), "main.greet"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if caps["attach_cookie"]["ok"]:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 3, r.stderr
        lines = r.stderr.strip().splitlines()
        assert "without bpf_get_attach_cookie (Linux 5.15+)" in lines[-1], r.stderr
        assert "-p PID" in lines[-1], r.stderr
