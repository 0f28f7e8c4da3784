"""What differs between kernels, checked on whichever kernel runs it (the
kernel matrix, tests/vm/matrix, runs these in 5.10, 6.1 and 6.12).

What a kernel has is asked of `gosnoop doctor`, whose rows are tested
against raw BPF loads in test_doctor.py; never of the kernel's version.
"""
import json
import os
import shutil
import subprocess
import time

from gstest import GOSNOOP, ROOT, Skip, fixture, tmpdir


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


def test_single_stepped_uprobes_leave_a_program_alive():
    # The floor every RET probe of latency stands on, without gosnoop:
    # tracefs uprobes on four instructions the kernel single-steps out of
    # line, hit from three threads while SIGURG arrives (tests/vm/xolstep.c).
    # qemu 7.2's multi-threaded TCG fails this now and then (a slot's stale
    # instruction runs: SIGILL, SIGSEGV or SIGTRAP in [uprobes]; it killed
    # `latency` tracees on 6.1 and 6.12), so tests/vm/run uses one TCG
    # thread; this test keeps it that way, and checks the kernel itself.
    events = "/sys/kernel/tracing/uprobe_events"
    if not os.path.exists(events):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       capture_output=True)
    if not os.path.exists(events):
        raise Skip(f"{events} missing: tracefs not mounted and cannot be")
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise Skip("no C compiler for tests/vm/xolstep.c")
    exe = os.path.join(tmpdir(), "xolstep")
    subprocess.run([cc, "-O2", "-static", "-pthread", "-o", exe,
                    os.path.join(ROOT, "tests", "vm", "xolstep.c")],
                   check=True, capture_output=True, timeout=120)
    group = f"gsxol_{os.getpid()}"
    try:
        r = subprocess.run([exe, "10", "3", group], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=120)
    finally:
        # a killed xolstep leaves its events enabled: remove them
        for cmd, path in [("0", f"/sys/kernel/tracing/events/{group}/enable")] + \
                [(f"-:{group}/{n}\n", events) for n in ("mov", "nopw", "add", "ret")]:
            try:
                with open(path, "a") as f:
                    f.write(cmd)
            except OSError:
                pass
    assert r.returncode == 0 and "xolstep: ok" in r.stdout, (
        f"a program with single-stepped uprobes was disturbed (exit {r.returncode}): "
        f"{r.stderr.strip()} {r.stdout.strip()}")
