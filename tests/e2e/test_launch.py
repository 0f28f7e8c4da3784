"""`-- CMD`: when tracing ends before CMD does, gosnoop ends CMD too and
exits at once (as timeout(1) and bpftrace -c do): a signal sent to
gosnoop alone (kill(1), systemd, docker stop) is passed on and gosnoop
exits with CMD's status; -d ends CMD with SIGTERM and exits 0."""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import time

import gstest
from gstest import GOSNOOP, ROOT, Skip, fixture

# one probe each; calls -wait -hold blocks on its stdin: it runs until told
COMMANDS = [["count", "main.fib"], ["trace", "main.fib"], ["sched"],
            ["ktrace", "tp_btf:sched_switch", "-o", "prev_state"]]


def children_of(pid):
    kids = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(e))
    return kids


def start(cmd, extra=()):
    """gosnoop CMD... -- calls -wait -hold; returns (gosnoop, CMD's pid)
    once CMD runs (it printed "ready")."""
    g = subprocess.Popen([GOSNOOP] + cmd + list(extra) + ["--", fixture("calls"), "-wait",
                                                          "-hold"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(g)
    gstest.wait_for(g.stdout, r"^ready")
    kids = children_of(g.pid)
    assert len(kids) == 1, kids
    return g, kids[0]


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_sigterm_to_gosnoop_alone_ends_cmd_and_gosnoop():
    for cmd in COMMANDS:
        g, child = start(cmd)
        t0 = time.monotonic()
        g.send_signal(signal.SIGTERM)
        rc = g.wait(timeout=30)
        took = time.monotonic() - t0
        # CMD died of the SIGTERM passed on: the shell's 128 + 15
        assert rc == 128 + signal.SIGTERM, (cmd, rc, g.stderr.read())
        assert took < 4, (cmd, took)
        assert gone(child), (cmd, child)


def test_duration_ends_cmd_and_exits_0():
    for cmd in COMMANDS:
        t0 = time.monotonic()
        g, child = start(cmd, ["-d", "1"])
        rc = g.wait(timeout=30)
        took = time.monotonic() - t0
        assert rc == 0, (cmd, rc, g.stderr.read())
        assert took < 6, (cmd, took)      # 1 s of tracing, start-up, the end
        assert gone(child), (cmd, child)


def test_records_stay_whole_when_cmd_shares_stdout():
    """CMD writes a line to our common stdout between every two traced
    calls; every line gosnoop writes is still a whole JSON record (to a
    file and to a pipe), for trace, ktrace and sched events."""
    n = 3000
    cmds = [["trace", "main.classify"],
            ["ktrace", "-o", "fd", "-o", "count", "tracepoint:syscalls:sys_enter_write"],
            ["sched", "--events"]]
    for cmd in cmds:
        for to_file in (True, False):
            argv = [GOSNOOP, "--json"] + cmd + ["--", fixture("calls"), f"-chatter={n}"]
            if to_file:
                path = os.path.join(gstest.tmpdir(), "shared.out")
                with open(path, "w") as f:
                    r = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE, text=True,
                                       timeout=120, stdin=subprocess.DEVNULL)
                with open(path) as f:
                    out = f.read()
            else:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                                   stdin=subprocess.DEVNULL)
                out = r.stdout
            assert r.returncode == 0, (cmd, r.stderr)
            lines = out.splitlines()
            child = [l for l in lines if l.startswith("CHILD line ")]
            ours = [l for l in lines if not l.startswith("CHILD line ")]
            assert len(child) == n, (cmd, to_file, len(child))
            bad = []
            for l in ours:
                try:
                    json.loads(l)
                except ValueError:
                    bad.append(l)
            assert not bad, (cmd, to_file, len(bad), bad[:3])
            if cmd[0] == "trace":
                calls = [json.loads(l) for l in ours]
                assert sum(1 for c in calls if c.get("type") == "call") == n


def test_ktrace_names_goroutine_start_of_a_pie_cmd():
    """A PIE's goroutine start functions need its load bias, known only
    once CMD has exec'd: the main goroutine (goid 1) starts at
    runtime.main (src/runtime/proc.go: newproc of mainPC), whose writes
    the demo makes."""
    r = subprocess.run([GOSNOOP, "--json", "ktrace", "-o", "fd",
                        "tracepoint:syscalls:sys_enter_write", "--", fixture("demo-pie")],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type":"kevent"')]
    main = [e for e in events if e["goid"] == 1]
    assert main, events
    assert {e.get("start") for e in main} == {"runtime.main"}, main[:3]


def build_sigint():
    go = shutil.which("go")
    if not go:
        raise Skip("go is not installed")
    out = os.path.join(gstest.tmpdir(), "sigint")
    subprocess.run([go, "build", "-o", out, "./sigint"], check=True, capture_output=True,
                   cwd=os.path.join(ROOT, "tests", "fixtures"), timeout=300,
                   env=dict(os.environ, CGO_ENABLED="0"))
    return out


def test_terminal_ctrl_c_reaches_cmd_once():
    """A terminal's Ctrl-C reaches gosnoop and CMD together (the kernel
    sends SIGINT to the foreground process group): gosnoop must not pass
    it on a second time, or a program that shuts down gracefully on the
    first is forced by the second. Run under a real pseudo-terminal."""
    exe = build_sigint()
    for cmd in (["count", "main.tick"], ["trace", "main.tick"], ["sched"],
                ["ktrace", "tp_btf:sched_switch", "-o", "prev_state"]):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(GOSNOOP, [GOSNOOP] + cmd + ["--", exe])
        out = b""
        deadline = time.monotonic() + 30
        sent = False
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if not sent and b"ready" in out:
                time.sleep(0.5)
                os.write(fd, b"\x03")       # the terminal's ^C
                sent = True
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        text = out.decode(errors="replace")
        assert "interrupt 1" in text and "graceful" in text, (cmd, text[-2000:])
        assert "interrupt 2" not in text, (cmd, text[-2000:])
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (cmd, status, text[-500:])


def test_cmd_ends_when_the_reader_goes():
    """`gosnoop trace f -- CMD | head -2`: head exits; gosnoop ends
    tracing as -n does (CMD ended with SIGTERM, exit 0) instead of dying
    of SIGPIPE and leaving CMD running untraced. (SIGKILL to gosnoop
    leaves CMD to finish: test_sched's test_killed_gosnoop_leaves_tracee_
    alone.)"""
    exe = build_sigint()
    p = subprocess.Popen([GOSNOOP, "trace", "main.tick", "--", exe],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    gstest._procs.append(p)
    deadline = time.monotonic() + 30
    while not children_of(p.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    (child,) = children_of(p.pid)
    p.stdout.readline()
    p.stdout.close()        # the reader is gone: EPIPE at the next write
    assert p.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child), child
