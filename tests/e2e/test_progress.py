"""Progress of a long attach on a terminal: ktrace with dozens of
tracepoints (~125 ms each here) draws "attaching probes N/M" on stderr
when stderr is a terminal (a pty from python's pty module), in place (\\r),
and erases it before "tracing N probes"; on a pipe, not a byte more."""
import os
import pty
import re
import select
import subprocess
import time

from gstest import GOSNOOP, Skip, fixture

GLOB = "tracepoint:sched:*"


def _tracepoints():
    d = "/sys/kernel/tracing/events/sched"
    if not os.path.isdir(d):
        raise Skip("no tracefs sched events")
    return sum(1 for e in os.listdir(d) if os.path.isdir(os.path.join(d, e)))


def _args():
    # a comm nothing has: nothing is printed but the probes attach
    return [GOSNOOP, "ktrace", "-d", "0.2", "-c", "h7-no-such-comm", GLOB]


def _on_pty(args, env=None):
    """Run args with stderr on a fresh pty; (exit status, what it wrote there)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=slave, env=env)
    os.close(slave)
    tty = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:      # EIO: the last writer closed
            break
        if not chunk:
            break
        tty += chunk
    p.wait(timeout=120)
    os.close(master)
    return p.returncode, tty.decode()


def test_classic_uprobes_detach_progress_on_a_tty_only():
    """Per-site classic uprobes (containers without a shared event) take
    ~0.1 s each to detach: count shows 'detaching uprobes N/M' on a
    terminal, in place, erased at the end; on a pipe nothing of it."""
    env = dict(os.environ, GOSNOOP_CLASSIC_UPROBES="per-site")
    demo = fixture("demo")
    funcs = subprocess.run([GOSNOOP, "--json", "list", demo, "fmt.*"], capture_output=True,
                           text=True, timeout=60).stdout.count('"name"')
    assert funcs >= 30, funcs
    args = [GOSNOOP, "count", "-d", "0.2", demo, "fmt.*"]
    rc, text = _on_pty(args, env)
    assert rc == 0, text
    det = [(int(a), int(b)) for a, b in
           re.findall(r"\r\S+: detaching uprobes (\d+)/(\d+)\x1b\[K", text)]
    assert det, repr(text[-400:])
    assert all(b == funcs for _, b in det) and [a for a, _ in det] == sorted(a for a, _ in det)
    assert text.endswith("\r\x1b[K"), repr(text[-80:])
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert b"\r" not in r.stderr and b"\x1b" not in r.stderr, r.stderr
    assert not re.search(rb"(attaching|detaching) uprobes \d+/", r.stderr), r.stderr


def test_attach_progress_on_a_tty_only():
    n = _tracepoints()
    if n < 10:
        raise Skip(f"only {n} sched tracepoints")
    master, slave = pty.openpty()
    t0 = time.monotonic()
    p = subprocess.Popen(_args(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=slave)
    os.close(slave)
    tty = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:      # EIO: the last writer closed
            break
        if not chunk:
            break
        tty += chunk
    p.wait(timeout=120)
    os.close(master)
    took = time.monotonic() - t0
    assert p.returncode == 0, tty
    text = tty.decode()
    counts = [(int(a), int(b)) for a, b in
              re.findall(r"\r\S+: attaching probes (\d+)/(\d+)\x1b\[K", text)]
    if took < 1.0 and not counts:
        raise Skip(f"attaching {n} probes took {took:.2f} s: too fast to show progress")
    assert counts, repr(text)
    assert all(b == n for _, b in counts), counts
    assert [a for a, _ in counts] == sorted(a for a, _ in counts) and counts[-1][0] <= n
    # erased before the next line, which reads as it would without it
    last = text.rindex("attaching probes")
    assert "\r\x1b[K" in text[last:], repr(text[last:])
    assert re.search(rf"\r\x1b\[K(\S+: )tracing {n} probes", text), repr(text)
    # detaching them (threads, ~50 ms each) shows the same way when it
    # takes long enough, after the tracing line, erased at the end
    det = [(int(a), int(b)) for a, b in
           re.findall(r"\r\S+: detaching probes (\d+)/(\d+)\x1b\[K", text)]
    if det:
        assert text.index("detaching probes") > text.index(f"tracing {n} probes")
        assert all(b == n for _, b in det) and [a for a, _ in det] == sorted(a for a, _ in det)
        assert text.endswith("\r\x1b[K"), repr(text[-80:])
    # the same on a pipe: the lines alone
    r = subprocess.run(_args(), stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert b"\r" not in r.stderr and b"\x1b" not in r.stderr and b"attaching" not in r.stderr, \
        r.stderr
    assert f"tracing {n} probes".encode() in r.stderr
