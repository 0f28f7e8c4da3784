"""gosnoop ktrace on kernel functions: fentry/fexit with typed arguments and
expressions, and the kprobe/kretprobe fallback, checked against values the
test chooses (a sleep of 0.25 s is hrtimer_nanosleep's rqtp of 250000000 ns;
opening a missing file returns -ENOENT).

This machine refuses fentry (lockdown) and has no kprobes, so here these
tests SKIP with the kernel's reason; the kernel matrix (tests/vm) runs them
in Debian's 5.10, 6.1 and 6.12, which allow both. GOSNOOP_KTRACE_NO_FENTRY=1
makes ktrace take the kprobe path as if fentry had been refused."""
import json
import os
import re
import subprocess

from gstest import GOSNOOP, Skip, tmpdir

SLEEP_NS = 250000000


def ktrace(args, no_fentry=False, count=1, timeout=60):
    """gosnoop -v --json ktrace [-n COUNT] ARGS (ARGS ends with -- CMD);
    its events, its stderr and exit status."""
    env = dict(os.environ)
    if no_fentry:
        env["GOSNOOP_KTRACE_NO_FENTRY"] = "1"
    n = ["-n", str(count)] if count else []
    r = subprocess.run([GOSNOOP, "-v", "--json", "ktrace", "-d", "20"] + n + args,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=env)
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    return events, r.stderr, r.returncode


def skip_if_refused(err, rc, what):
    """The kernel cannot do it (exit 3 with one line naming why): SKIP."""
    if rc == 3 and ("refused" in err or "unavailable" in err):
        line = [l for l in err.splitlines() if "refused" in l or "unavailable" in l][-1]
        raise Skip(f"{what} not on this kernel ({os.uname().release}): {line}")


def attached_as(err, probe):
    m = re.search(re.escape(probe) + r": attached \((\w+)\)", err)
    assert m, f"no 'attached' line for {probe}: {err}"
    return m.group(1)


def test_fentry_typed_args_and_expressions():
    """fentry with -o over typed arguments: the nanoseconds sleep(1) asked
    for, an enum by name, and an int."""
    events, err, rc = ktrace(["fentry:hrtimer_nanosleep", "-o", "rqtp", "-o", "mode",
                              "-o", "clockid", "--", "sleep", "0.25"])
    skip_if_refused(err, rc, "fentry")
    assert rc == 0, (rc, err)
    assert attached_as(err, "fentry:hrtimer_nanosleep") == "fentry", err
    assert len(events) == 1, (events, err)
    a = events[0]["args"]
    assert events[0]["comm"] == "sleep", events
    assert a["rqtp"] == SLEEP_NS, a
    # an enum narrower than its register: only its own 4 bytes count
    assert a["mode"] == "HRTIMER_MODE_REL", a
    assert a["clockid"] in (0, 1), a    # CLOCK_REALTIME (glibc) or MONOTONIC


def test_fentry_all_args_and_filter():
    """No -o: every argument, typed; a filter in the kernel on one."""
    events, err, rc = ktrace(["fentry:do_nanosleep", "-f", "mode == 1",
                              "--", "sleep", "0.25"])
    skip_if_refused(err, rc, "fentry")
    assert rc == 0, (rc, err)
    assert len(events) == 1, (events, err)
    a = events[0]["args"]
    assert set(a) == {"t", "mode"}, a
    assert a["mode"] == "HRTIMER_MODE_REL", a
    assert re.fullmatch(r"0x[0-9a-f]{16}", a["t"]), a


def test_fexit_retval_and_args():
    """fexit sees the arguments and the return value: a user string read
    through an argument, and errno(ret) of a failed open."""
    d = tmpdir()
    missing = os.path.join(d, "no-such-file")
    # every failed open of cat's (its locale files too), until it exits
    events, err, rc = ktrace(["fexit:do_sys_openat2", "-f", "ret < 0",
                              "-o", "ustr(filename)", "-o", "errno(ret)", "-o", "ret",
                              "--", "cat", missing], count=None)
    skip_if_refused(err, rc, "fexit")
    assert rc == 1, (rc, err)          # cat's own status: the file is missing
    assert attached_as(err, "fexit:do_sys_openat2") == "fexit", err
    mine = [e for e in events if e["args"]["ustr(filename)"] == missing]
    assert len(mine) == 1, (events, err)
    a = mine[0]["args"]
    assert a["ustr(filename)"] == missing, a
    assert a["errno(ret)"] == "-ENOENT", a
    assert a["ret"] == -2, a


def test_kprobe_fallback_when_fentry_is_refused():
    """With fentry refused (GOSNOOP_KTRACE_NO_FENTRY), the same probe and
    expressions run as a kprobe, arguments from pt_regs."""
    events, err, rc = ktrace(["fentry:hrtimer_nanosleep", "-o", "rqtp", "-o", "mode",
                              "--", "sleep", "0.25"], no_fentry=True)
    skip_if_refused(err, rc, "kprobe")
    assert rc == 0, (rc, err)
    assert attached_as(err, "fentry:hrtimer_nanosleep") == "kprobe", err
    assert len(events) == 1, (events, err)
    a = events[0]["args"]
    assert a["rqtp"] == SLEEP_NS, a
    assert a["mode"] == "HRTIMER_MODE_REL", a


def test_kretprobe_fallback_when_fexit_is_refused():
    """fexit falls back to a kretprobe: ret only, and a warning says so."""
    d = tmpdir()
    events, err, rc = ktrace(["fexit:do_sys_openat2", "-f", "ret < 0", "-o", "errno(ret)",
                              "--", "cat", os.path.join(d, "no-such-file")], no_fentry=True)
    skip_if_refused(err, rc, "kretprobe")
    assert rc in (0, 1), (rc, err)
    assert attached_as(err, "fexit:do_sys_openat2") == "kretprobe", err
    assert "only 'ret' is meaningful" in err, err
    assert len(events) == 1, (events, err)
    assert events[0]["args"]["errno(ret)"] == "-ENOENT", events


def test_programs_without_bpf_loop_on_any_kernel():
    """The programs for kernels before bpf_loop (5.17), forced here with
    GOSNOOP_KTRACE_NO_BPF_LOOP=1: a tracepoint with a filter, a string
    compare and arithmetic, and a tp_btf event, decoded as usual."""
    env = dict(os.environ, GOSNOOP_KTRACE_NO_BPF_LOOP="1")
    d = tmpdir()
    path = os.path.join(d, "hostname-copy")
    with open(path, "w") as f:
        f.write("x\n")
    r = subprocess.run([GOSNOOP, "-v", "--json", "ktrace", "-d", "20",
                        "tracepoint:syscalls:sys_enter_openat", "-f", "flags == 0",
                        "-o", "filename", "-o", 'filename == "/etc/hostname"', "-o", "dfd + 3",
                        "tp_btf:sys_enter", "-f", "id == 257", "-o", "id",
                        "--", "cat", "/etc/hostname", path],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert "bpf_loop: no" in r.stderr, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    opens = {e["args"]["filename"]: e["args"] for e in events
             if e["probe"] == "tracepoint:syscalls:sys_enter_openat"}
    assert opens["/etc/hostname"]['filename == "/etc/hostname"'] is True, opens
    assert opens[path]['filename == "/etc/hostname"'] is False, opens
    assert opens[path]["dfd + 3"] == -97, opens       # AT_FDCWD + 3
    ids = [e["args"]["id"] for e in events if e["probe"] == "tp_btf:sys_enter"]
    assert len(ids) >= 2 and set(ids) == {257}, ids  # openat


def test_stacks_of_fentry_and_kprobe():
    """--stack from a trampoline and from a kprobe: the kernel stack of
    sleep's nanosleep reaches the syscall entry; its user stack (a C
    program: addresses) starts in user space."""
    for no_fentry in (False, True):
        how = "kprobe" if no_fentry else "fentry"
        events, err, rc = ktrace(["--stack", "fentry:hrtimer_nanosleep", "-o", "rqtp",
                                  "--", "sleep", "0.25"], no_fentry=no_fentry)
        skip_if_refused(err, rc, how)
        assert rc == 0, (rc, err)
        assert attached_as(err, "fentry:hrtimer_nanosleep") == how, err
        assert len(events) == 1, (events, err)
        e = events[0]
        assert e["args"]["rqtp"] == SLEEP_NS, e
        assert any(f.startswith("do_syscall_64+") for f in e["kstack"]), (how, e["kstack"])
        assert e["ustack"] and all(int(f["pc"], 16) < 1 << 47 for f in e["ustack"]), e
