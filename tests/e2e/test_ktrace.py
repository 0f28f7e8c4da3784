"""gosnoop ktrace: decoded kernel events checked against ground truth the
test creates itself (an execve with a known argv, processes with known
comms switching on one CPU, goroutines that print their own goids), and
the error paths (bad probes and expressions, fentry refused, no BTF)."""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time

import gstest
from gstest import GOSNOOP, Skip, fixture, run, tmpdir


def start_ktrace(args, env=None, start_timeout=30):
    """Start gosnoop --json ktrace ARGS; return once it says it traces."""
    p = subprocess.Popen([GOSNOOP, "--json", "ktrace"] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    gstest._procs.append(p)
    deadline = time.time() + start_timeout
    err = ""
    while time.time() < deadline:
        r, _, _ = select.select([p.stderr], [], [], 0.5)
        if r:
            line = p.stderr.readline()
            if not line:
                break
            err += line
            if "tracing" in line:
                p.start_err = err
                return p
        elif p.poll() is not None:
            break
    p.kill()
    raise AssertionError(f"ktrace {' '.join(args)} did not start: {err.strip()}")


def finish(p, timeout=30):
    """Wait for ktrace to end; its parsed kevent lines and stderr."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    events = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    for e in events:
        assert e["type"] == "kevent", e
        for k in ("probe", "ts_ns", "pid", "tid", "comm", "goid", "args"):
            assert k in e, f"{k} missing in {e}"
    return events, err


def one_error_line(r):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {r.stderr!r}"
    assert lines[0].startswith("gosnoop: "), lines
    return lines[0]


# ------------------------------------------------------------ tracepoints

def test_execve_tracepoint_decodes_filename_and_argv():
    """sys_enter_execve of a known path with a known argv, in a process
    (sh) the test started and names with -p."""
    sh = subprocess.Popen(["sh", "-c", "read x; exec /bin/true first 'sec ond' ''"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, text=True)
    gstest._procs.append(sh)
    kt = start_ktrace(["-p", str(sh.pid), "tracepoint:syscalls:sys_enter_execve"])
    sh.stdin.write("go\n")
    sh.stdin.close()
    sh.wait(timeout=10)
    events, err = finish(kt)
    assert len(events) == 1, (events, err)
    e = events[0]
    assert e["probe"] == "tracepoint:syscalls:sys_enter_execve"
    assert e["pid"] == sh.pid and e["tid"] == sh.pid
    assert e["comm"] == "sh"
    assert e["goid"] is None
    assert e["args"]["filename"] == "/bin/true"
    assert e["args"]["argv"] == ["/bin/true", "first", "sec ond", ""], e["args"]
    assert e["args"]["__syscall_nr"] == 59      # x86-64 execve
    assert isinstance(e["args"]["envp"], list)


def test_a_lone_event_shows_while_tracing():
    """One execve, far below the batched-wakeup threshold, is printed while
    ktrace still runs, not only when it ends (the reader drains on its
    poll timeout too)."""
    token = f"gosnoop-live-{os.getpid()}-{time.monotonic_ns()}"
    kt = start_ktrace(["tracepoint:syscalls:sys_enter_execve"])
    t0 = time.monotonic()
    subprocess.run(["/bin/true", token], check=True)
    got = gstest.json_records_until(
        kt.stdout, lambda e: e.get("args", {}).get("argv") == ["/bin/true", token], 1)
    seen_after = time.monotonic() - t0
    assert got, "the execve was not shown within 10 s"
    event = got[0]
    assert kt.poll() is None, "ktrace ended before it showed the event"
    assert event["args"]["filename"] == "/bin/true"
    # the reader drains every 100 ms; 2 s leaves room for a loaded machine
    assert seen_after < 2, f"shown {seen_after:.2f} s after the execve"
    kt.send_signal(signal.SIGINT)
    kt.wait(timeout=30)
    assert kt.returncode == 0


def test_without_a_target_ktrace_does_not_trace_itself():
    """Everyone's writes to fd 1, but not gosnoop's own (its output would
    feed back on itself, as perf trace avoids too)."""
    kt = start_ktrace(["-f", "fd == 1", "tracepoint:syscalls:sys_enter_write"])
    for _ in range(5):
        subprocess.run(["/bin/echo", "x"], stdout=subprocess.DEVNULL, check=True)
    time.sleep(0.5)
    kt.send_signal(signal.SIGINT)
    events, err = finish(kt)
    assert any(e["comm"] == "echo" for e in events), (events[:5], err)
    assert all(e["pid"] != kt.pid for e in events), [e for e in events if e["pid"] == kt.pid][:3]


def test_tracepoint_output_expression_and_filter():
    """-o and --filter over tracepoint fields: sys_exit_openat's ret as an
    errno name, only for failures, for a path that does not exist."""
    sh = subprocess.Popen(["sh", "-c", "read x; exec cat /nonexistent-gosnoop-kt"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, text=True)
    gstest._procs.append(sh)
    kt = start_ktrace(["-p", str(sh.pid), "-f", "ret < 0", "-o", "errno(ret)",
                       "tracepoint:syscalls:sys_exit_openat"])
    sh.stdin.write("go\n")
    sh.stdin.close()
    sh.wait(timeout=10)
    events, err = finish(kt)
    mine = [e for e in events if e["comm"] == "cat"]
    assert mine, (events, err)
    assert all(e["args"]["errno(ret)"].startswith("-E") for e in events), events
    assert any(e["args"]["errno(ret)"] == "-ENOENT" for e in mine), mine



PER_PROBE = r"""
import os, sys
sys.stdin.readline()
d = sys.argv[1]
fd = os.open(os.path.join(d, "created"), os.O_WRONLY | os.O_CREAT, 0o644)
other = os.open("/etc/hostname", os.O_RDONLY)      # no O_CREAT
for s in (b"abc", b"hello world", b"x" * 7):
    os.write(fd, s)
os.write(fd, b"")                  # count 0: the write filter drops it
print(fd, flush=True)
"""


def syscall_nr(name):
    """__NR_name from the kernel's uapi header (x86-64)."""
    for path in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
                 "/usr/include/asm/unistd_64.h"):
        if os.path.exists(path):
            with open(path) as f:
                m = re.search(rf"#define __NR_{name}\s+(\d+)", f.read())
            if m:
                return int(m.group(1))
    raise Skip("asm/unistd_64.h missing (linux-libc-dev)")


def test_output_and_filter_per_probe():
    """-o/-f before the first probe apply to both probes, after a probe to
    that one only: write() events carry only their own outputs and only
    the fd the program printed; openat() events only their filename, only
    with O_CREAT; both carry the shared __syscall_nr (from unistd_64.h)."""
    d = tmpdir()
    py = subprocess.Popen([sys.executable, "-c", PER_PROBE, d], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    gstest._procs.append(py)
    kt = start_ktrace(["-p", str(py.pid), "-o", "__syscall_nr",
                       "tracepoint:syscalls:sys_enter_write", "-f", "fd > 2 && count > 0",
                       "-o", "count", "-o", "fd",
                       "tracepoint:syscalls:sys_enter_openat", "-o", "filename",
                       "-f", "flags & 64"])                  # O_CREAT
    py.stdin.write("go\n")
    py.stdin.close()
    fd = int(py.stdout.readline())
    py.wait(timeout=10)
    events, err = finish(kt)
    writes = [e for e in events if e["probe"].endswith("sys_enter_write")]
    opens = [e for e in events if e["probe"].endswith("sys_enter_openat")]
    assert [sorted(e["args"]) for e in writes] == [["__syscall_nr", "count", "fd"]] * 3, \
        (events, err)
    assert [e["args"]["count"] for e in writes] == [3, 11, 7], writes
    assert {e["args"]["fd"] for e in writes} == {fd}, (fd, writes)
    assert {e["args"]["__syscall_nr"] for e in writes} == {syscall_nr("write")}, writes
    assert len(opens) == 1, (opens, err)
    assert opens[0]["args"] == {"__syscall_nr": syscall_nr("openat"),
                                "filename": os.path.join(d, "created")}, opens
    assert all(e["pid"] == py.pid for e in events), events


def test_per_probe_option_errors():
    """A -o before the first probe must fit every probe (the error names
    the probe it does not fit); one --filter per place."""
    r = run(["ktrace", "-o", "prev->pid", "tp_btf:sched_switch", "tp_btf:sys_enter"],
            check=False)
    assert r.returncode == 2, r.stderr
    line = one_error_line(r)
    assert line.startswith("gosnoop: tp_btf:sys_enter: expression 'prev->pid': "
                           "unknown name 'prev'"), line
    r = run(["ktrace", "tp_btf:sched_switch", "-f", "prev->pid == 1", "-f", "next->pid == 1"],
            check=False)
    assert r.returncode == 2 and "one --filter per probe" in one_error_line(r), r.stderr


COMM_WRITER = r"""
import os, sys
open("/proc/self/comm", "w").write(sys.argv[1])
fd = os.open("/dev/null", os.O_WRONLY)
sys.stdin.readline()
for n in map(int, sys.argv[2:]):
    os.write(fd, b"x" * n)
print(fd, flush=True)
"""


def test_comm_filter_long_name():
    """--comm NAME: only tasks of that comm, named as the user knows the
    program (longer than the kernel's 15 bytes; it keeps the first 15).
    A twin with another comm writes other lengths; only A's appear."""
    a_name, b_name = "ktcommA-long-name-x", "ktcommB-long-name-x"
    procs = {}
    for name, sizes in ((a_name, [3, 141, 59]), (b_name, [26, 5])):
        p = subprocess.Popen([sys.executable, "-c", COMM_WRITER, name] + [str(n) for n in sizes],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        gstest._procs.append(p)
        procs[name] = (p, sizes)
    deadline = time.time() + 10
    while time.time() < deadline:       # both have renamed themselves
        if all(open(f"/proc/{p.pid}/comm").read().strip() == n[:15]
               for n, (p, _) in procs.items()):
            break
        time.sleep(0.05)
    kt = start_ktrace(["-c", a_name, "-f", "fd > 2", "-o", "fd", "-o", "count",
                       "tracepoint:syscalls:sys_enter_write"])
    fds = {}
    for name, (p, _) in procs.items():
        p.stdin.write("go\n")
        p.stdin.close()
        fds[name] = int(p.stdout.readline())
        p.wait(timeout=10)
    time.sleep(0.3)
    kt.terminate()
    events, err = finish(kt)
    a = procs[a_name][0]
    assert events, err
    assert {(e["pid"], e["comm"]) for e in events} == {(a.pid, a_name[:15])}, events
    assert [e["args"]["count"] for e in events] == [3, 141, 59], events
    assert {e["args"]["fd"] for e in events} == {fds[a_name]}, events
    assert all(e["goid"] is None for e in events), events

PINGPONG = r"""
import os, sys
r1, w1 = os.pipe(); r2, w2 = os.pipe()
pid = os.fork()
name = "ktpongB" if pid == 0 else "ktpingA"
open("/proc/self/comm", "w").write(name)
if pid == 0:
    for _ in range(300):
        os.read(r1, 1); os.write(w2, b"x")
    os._exit(0)
print(os.getpid(), pid, flush=True)
sys.stdin.readline()
for _ in range(300):
    os.write(w1, b"x"); os.read(r2, 1)
os.waitpid(pid, 0)
"""


def test_sched_switch_tp_btf_against_proc():
    """Two processes the test started ping-pong on one CPU; every
    sched_switch between them must name them as /proc does."""
    if not shutil.which("taskset"):
        raise Skip("taskset (util-linux) missing: cannot pin to one CPU")
    pp = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", PINGPONG],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    gstest._procs.append(pp)
    a, b = map(int, pp.stdout.readline().split())
    comm = {}
    for pid in (a, b):
        deadline = time.time() + 5
        while time.time() < deadline:
            with open(f"/proc/{pid}/comm") as f:
                comm[pid] = f.read().strip()
            if comm[pid].startswith("ktp"):
                break
            time.sleep(0.01)
    assert comm == {a: "ktpingA", b: "ktpongB"}, comm
    flt = " || ".join(f"prev->tgid == {x} || next->tgid == {x}" for x in (a, b))
    # sched_switch has had a prev_state argument since 5.18 only (5.10: no)
    proto = run(["list", "--kernel", "-v", "tp_btf:sched_switch"]).stdout
    state = ["-o", "prev_state"] if "prev_state" in proto else []
    kt = start_ktrace(["-f", flt, "-o", "prev->pid", "-o", "prev->comm",
                       "-o", "next->pid", "-o", "next->comm"] + state +
                      ["-d", "20", "tp_btf:sched_switch"])
    pp.stdin.write("go\n")
    pp.stdin.close()
    pp.wait(timeout=20)
    kt.terminate()
    events, err = finish(kt)
    assert len(events) > 50, (len(events), err)
    direct = 0
    for e in events:
        g = e["args"]
        # the task that runs the program is prev: the event's pid/tid
        assert e["tid"] == g["prev->pid"], e
        assert e["comm"] == g["prev->comm"], e
        for side in ("prev", "next"):
            pid, name = g[side + "->pid"], g[side + "->comm"]
            if pid in comm:
                assert name == comm[pid], (side, e)
            elif pid == 0:
                assert name.startswith("swapper/"), e
        assert g["prev->pid"] in comm or g["next->pid"] in comm, e
        if {g["prev->pid"], g["next->pid"]} == {a, b}:
            direct += 1
    assert direct > 10, f"only {direct} direct switches between {a} and {b}"


# ------------------------------------------------------------ goroutines

def start_kwrite(workers=4, rounds=3):
    path = os.path.join(tmpdir(), "kwrite.out")
    kw = subprocess.Popen([fixture("kwrite"), path, str(workers), str(rounds)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    gstest._procs.append(kw)
    m = re.match(r"pid (\d+) fd (\d+)", kw.stdout.readline())
    assert m, "kwrite did not start"
    goids = {}
    for _ in range(workers):
        w = re.match(r"worker (\d+) goid (\d+)", kw.stdout.readline())
        goids[int(w.group(1))] = int(w.group(2))
    assert kw.stdout.readline().strip() == "ready"
    return kw, int(m.group(2)), goids


MSG = re.compile(r"kwrite worker=(\d+) goid=(\d+)\n")


def check_attribution(events, goids, rounds, text_of):
    per_worker = {}
    for e in events:
        m = MSG.fullmatch(text_of(e))
        assert m, e
        worker, said = int(m.group(1)), int(m.group(2))
        # the goroutine that wrote, by its own runtime.Stack header
        assert said == goids[worker], (said, goids)
        assert e["goid"] == said, f"write of worker {worker} attributed to g{e['goid']}, it is g{said}"
        assert e["start"] == "main.worker", e
        assert e["comm"] == "kwrite"
        per_worker[worker] = per_worker.get(worker, 0) + 1
    assert per_worker == {w: rounds for w in goids}, per_worker


def test_goroutine_of_each_write_tracepoint():
    kw, fd, goids = start_kwrite()
    assert len(set(goids.values())) == len(goids)
    kt = start_ktrace(["-p", str(kw.pid), "-f", f"fd == {fd}",
                       "tracepoint:syscalls:sys_enter_write"])
    kw.stdin.write("go\n")
    kw.stdin.close()
    assert kw.stdout.read().strip() == "done"
    kw.wait(timeout=10)
    events, err = finish(kt)
    for e in events:
        assert e["args"]["fd"] == fd and e["pid"] == kw.pid
        assert e["args"]["count"] == len(e["args"]["buf"])
    check_attribution(events, goids, 3, lambda e: e["args"]["buf"])


FAKE_G_C = r"""
/* Not Go, but named like the target: its one thread-local sits where Go
 * keeps g (fs:-8, the executable's TLS block ends at the thread pointer)
 * and points at a fake g whose goid (offset 152 in go1.19) is 4242. */
#include <unistd.h>
static unsigned long long fake_g[64];
__thread unsigned long long *tls_g = fake_g;
int main(void)
{
	fake_g[152 / 8] = 4242;
	for (int i = 0; i < 5; i++)
		write(1, "not go\n", 7);
	return 0;
}
"""


def test_path_target_names_goroutines_of_that_file_only():
    """A PATH target is matched by comm in the kernel. Another program with
    the same comm (here a C program whose TLS looks like a g with goid
    4242) must not get a goid; the Go program's writes keep theirs."""
    d = tmpdir()
    src = os.path.join(d, "fake.c")
    open(src, "w").write(FAKE_G_C)
    impostor = os.path.join(d, "kwrite")
    subprocess.run(["gcc", "-O1", "-o", impostor, src], check=True, timeout=60)
    kw, fd, goids = start_kwrite(workers=2, rounds=1)
    kt = start_ktrace([fixture("kwrite"), "tracepoint:syscalls:sys_enter_write",
                       "-o", "fd", "-o", "buf"])
    imp = subprocess.Popen([impostor], stdout=subprocess.PIPE, text=True)
    assert imp.communicate(timeout=30)[0] == "not go\n" * 5
    kw.stdin.write("go\n")
    kw.stdin.close()
    assert kw.stdout.read().strip() == "done"
    kw.wait(timeout=10)
    time.sleep(0.5)
    kt.send_signal(signal.SIGINT)
    events, err = finish(kt)
    # (buf may be unreadable in the kernel on the first write: the
    # string's page is not faulted in yet; the pid tells them apart)
    fake = [e for e in events if e["pid"] == imp.pid]
    assert len(fake) == 5, (len(fake), err)
    assert all(e["comm"] == "kwrite" and e["goid"] is None for e in fake), fake
    mine = [e for e in events if e["pid"] == kw.pid and MSG.fullmatch(e["args"]["buf"])]
    check_attribution(mine, goids, 1, lambda e: e["args"]["buf"])


def test_goroutine_of_each_syscall_tp_btf():
    """ktrace -p PID tp_btf:sys_enter: which goroutine made each write."""
    kw, fd, goids = start_kwrite(workers=3, rounds=2)
    kt = start_ktrace(["-p", str(kw.pid), "-f", f"id == 1 && regs->di == {fd}",
                       "-o", "regs->dx", "-o", "ustr(regs->si)", "tp_btf:sys_enter"])
    kw.stdin.write("go\n")
    kw.stdin.close()
    assert kw.stdout.read().strip() == "done"
    kw.wait(timeout=10)
    events, err = finish(kt)
    # ustr() reads to a NUL; Go's buffer has none: cut at count (regs->dx)
    check_attribution(events, goids, 2,
                      lambda e: e["args"]["ustr(regs->si)"][:e["args"]["regs->dx"]])


def test_goroutines_of_a_command_target():
    """-- CMD: ktrace starts it, filters on its pid, names its goroutines.
    Its stdout (the goid lines) is ktrace's stdout too."""
    path = os.path.join(tmpdir(), "kwrite.out")
    r = subprocess.run([GOSNOOP, "--json", "ktrace", "tracepoint:syscalls:sys_enter_write",
                        "-o", "fd", "-o", "buf", "--", fixture("kwrite"), path, "3", "2"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    goids = {int(m.group(1)): int(m.group(2))
             for m in re.finditer(r"^worker (\d+) goid (\d+)$", r.stdout, re.M)}
    assert len(goids) == 3, r.stdout
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    assert events and all(e["comm"] == "kwrite" for e in events)
    mine = [e for e in events if MSG.fullmatch(e["args"]["buf"])]
    check_attribution(mine, goids, 2, lambda e: e["args"]["buf"])


# ------------------------------------------------------------ error paths

def test_fentry_fexit_refused_names_why():
    for probe in ("fentry:do_nanosleep", "fexit:do_nanosleep"):
        r = run(["ktrace", "-d", "0.5", probe], check=False)
        if r.returncode == 0:
            raise Skip(f"{probe} works on this kernel: the fallback path is not reachable")
        assert r.returncode == 3, (probe, r.returncode, r.stderr)
        line = one_error_line(r)
        kind = probe.split(":")[0]
        assert probe in line and f"{kind} refused" in line, line
        assert ("kprobe unavailable" if kind == "fentry" else "kretprobe unavailable") in line, line
        assert re.search(r"\(E[A-Z]+: ", line), line    # the errno, named


def test_bad_probes_and_expressions_exit_2():
    cases = [
        (["kprobe:x"], "unknown probe type"),
        (["sys_enter"], "expected tracepoint:CAT:NAME"),
        (["tracepoint:sched"], "expected tracepoint:CATEGORY:NAME"),
        (["tracepoint:sched:no_such_event"], "no such tracepoint"),
        (["tp_btf:no_such_event"], "no tp_btf event"),
        (["fentry:no_such_function_zz"], "no kernel function"),
        (["-o", "prev->nope", "tp_btf:sched_switch"], "has no member 'nope'"),
        (["-o", "prev->pid +", "tp_btf:sched_switch"], "unexpected end"),
        (["-o", "bogus", "tp_btf:sched_switch"], "unknown name 'bogus'"),
        (["-o", "prev", "-o", "frob(prev)", "tp_btf:sched_switch"], "unknown function"),
        (["-o", "*prev", "tp_btf:sched_switch"], "pick a member"),
        (["-f", "prev->comm", "tp_btf:sched_switch"], "wants numbers"),
        (["-f", "fd == \"x\"", "tracepoint:syscalls:sys_enter_write"], "only strings"),
        (["-o", "nofield", "tracepoint:syscalls:sys_enter_write"], "not a field"),
    ]
    for args, want in cases:
        r = run(["ktrace"] + args, check=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        line = one_error_line(r)
        assert want in line, (args, line)


def test_without_vmlinux_btf_tracepoints_still_work():
    env = dict(os.environ, GOSNOOP_VMLINUX_BTF="/nonexistent/vmlinux")
    r = subprocess.run([GOSNOOP, "ktrace", "tp_btf:sched_switch"], capture_output=True,
                       text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 3, r.stderr
    line = one_error_line(r)
    assert "needs kernel BTF" in line and "tracepoint" in line, line
    r = subprocess.run([GOSNOOP, "--json", "ktrace", "-n", "2", "-d", "10",
                        "tracepoint:sched:sched_switch"], capture_output=True,
                       text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(events) == 2, r.stdout
    for e in events:
        # the record's prev is the task the program ran in
        assert e["args"]["prev_pid"] == e["tid"], e
        assert e["args"]["prev_comm"] == e["comm"], e


def test_syscall_int_arguments_are_signed():
    """syscalls:* keep arguments in unsigned long slots; one declared int
    reads as an int: openat's dfd is AT_FDCWD, -100 (include/uapi/linux/
    fcntl.h), and a filter compares it as such."""
    target = os.path.join(tmpdir(), "opened-by-cat")
    with open(target, "w") as f:
        f.write("x")
    r = subprocess.run([GOSNOOP, "--json", "ktrace", "-f", "dfd == -100", "-o", "dfd",
                        "-o", "filename", "tracepoint:syscalls:sys_enter_openat", "--",
                        "/bin/cat", target], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    assert events and all(e["args"]["dfd"] == -100 for e in events), events
    assert target in [e["args"]["filename"] for e in events], events


# ------------------------------------------------------------------ globs

def test_syscall_glob_sees_what_strace_sees():
    """'tracepoint:syscalls:sys_enter_*' becomes every syscall entry
    tracepoint tracefs lists (360 here), and on one process (by its comm)
    gives the same syscall numbers in the same order as strace -n of it."""
    if not shutil.which("strace"):
        raise Skip("strace is not installed")
    with open("/sys/kernel/tracing/available_events") as f:
        want_n = sum(1 for l in f if l.startswith("syscalls:sys_enter_"))
    comm = f"gsnglob{os.getpid() % 100000}"
    exe = os.path.join(tmpdir(), comm)
    shutil.copy2("/bin/cat", exe)
    # ~345 programs: 2-12 s here, more on a loaded machine, 30-70 s under qemu
    kt = start_ktrace(["--comm", comm, "tracepoint:syscalls:sys_enter_*"],
                      start_timeout=150)
    assert f"tracing {want_n} probes" in kt.start_err, kt.start_err
    log = os.path.join(tmpdir(), "strace.txt")
    subprocess.run(["strace", "-n", "-qq", "-o", log, exe, "/etc/hostname"], check=True,
                   stdout=subprocess.DEVNULL, timeout=60)
    time.sleep(0.3)
    kt.send_signal(signal.SIGINT)
    events, err = finish(kt, timeout=120)
    assert kt.returncode == 0, err
    with open(log) as f:
        want = [int(m.group(1)) for m in (re.match(r"\[\s*(\d+)\]", l) for l in f) if m]
    got = [e["args"]["__syscall_nr"] for e in events]
    # strace's execve was entered while the comm was still strace's
    assert want[0] == 59 and len(want) > 20, want
    assert got == want[1:], (got, want)
    assert {e["comm"] for e in events} == {comm}
    assert events[0]["probe"].startswith("tracepoint:syscalls:sys_enter_")


def test_glob_options_apply_to_each_match():
    """-o after a glob applies to every probe it names; one that lacks
    the field is named in the error."""
    comm = f"gsnecho{os.getpid() % 100000}"
    exe = os.path.join(tmpdir(), comm)
    shutil.copy2("/bin/echo", exe)
    kt = start_ktrace(["--comm", comm, "tracepoint:syscalls:sys_enter_write*", "-o", "fd"])
    assert "tracing 2 probes" in kt.start_err, kt.start_err    # write, writev
    r = subprocess.run([exe, "hello"], capture_output=True, text=True, check=True)
    assert r.stdout == "hello\n"
    time.sleep(0.3)
    kt.send_signal(signal.SIGINT)
    events, err = finish(kt)
    writes = [(e["probe"], e["args"]) for e in events]
    assert writes == [("tracepoint:syscalls:sys_enter_write", {"fd": 1})], (writes, err)
    r = run(["ktrace", "tracepoint:syscalls:sys_enter_*write*", "-o", "fd"], check=False)
    line = one_error_line(r)
    assert r.returncode == 2 and "sys_enter_process_vm_writev" in line and "fd" in line, line


def test_tp_btf_glob_against_btf_and_its_events():
    """'tp_btf:sched_process_*' becomes the btf_trace_sched_process_*
    typedefs bpftool finds in vmlinux BTF; a command's exec and exit
    arrive, and with --no-follow only for its pid (not its child's)."""
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    if not os.path.exists(bpftool):
        raise Skip("bpftool is not installed")
    dump = subprocess.run([bpftool, "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                          capture_output=True, text=True, check=True).stdout
    want = sorted("tp_btf:" + m for m in
                  re.findall(r"TYPEDEF 'btf_trace_(sched_process_\w+)'", dump))
    assert len(want) >= 5, want
    r = subprocess.run([GOSNOOP, "--json", "ktrace", "-v", "--no-follow",
                        "tp_btf:sched_process_*",
                        "--", "/bin/sh", "-c", "/bin/true"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    attached = sorted(re.findall(r"(tp_btf:\S+): attached", r.stderr))
    assert attached == want, (attached, want)
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    pids = {e["pid"] for e in events}
    assert len(pids) == 1, pids      # the command's own (sh), nothing else
    probes = [e["probe"] for e in events]
    assert "tp_btf:sched_process_fork" in probes      # sh forks /bin/true
    assert probes.count("tp_btf:sched_process_exec") == 1   # sh itself
    assert "tp_btf:sched_process_exit" in probes


def test_tp_btf_events_the_verifier_types_strictly_load():
    """Events with a function-pointer argument (sched_kthread_work_*: a
    tp_btf program's ctx load of it is refused) or a union passed by value
    (tmigr_group_set_cpu_*): they load and attach, the default view shows
    the raw slot. The names come from vmlinux BTF via bpftool."""
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    if not os.path.exists(bpftool):
        raise Skip("bpftool is not installed")
    dump = subprocess.run([bpftool, "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                          capture_output=True, text=True, check=True).stdout
    for glob, prefix in (("tp_btf:sched_kthread_work_execute_*", "sched_kthread_work_execute_"),
                         ("tp_btf:tmigr_group_set_cpu_*", "tmigr_group_set_cpu_")):
        want = len(re.findall(rf"TYPEDEF 'btf_trace_{prefix}\w+'", dump))
        if not want:
            continue
        r = run(["ktrace", "-d", "0.3", glob], check=False)
        assert r.returncode == 0, (glob, r.stderr)
        assert f"tracing {want} probes" in r.stderr, (glob, r.stderr)


def test_glob_errors():
    for probe, code, words in (
            ("tracepoint:nosuchcat*:*", 2, "matches nothing"),
            ("tracepoint:*:*", 2, "more than 1024"),
            ("tracepoint:sys_enter_*", 2, "CATEGORY:NAME"),
            ("kprobe:tcp_*", 2, "expected"),
            ("tp_btf:nosuch_*", 2, "matches nothing")):
        r = run(["ktrace", probe], check=False)
        line = one_error_line(r)
        assert r.returncode == code and words in line, (probe, r.returncode, line)
    # no vmlinux BTF: a tp_btf glob cannot be listed
    env = dict(os.environ, GOSNOOP_VMLINUX_BTF="/nonexistent")
    r = subprocess.run([GOSNOOP, "ktrace", "tp_btf:sched_*"], capture_output=True, text=True,
                       env=env, timeout=60, stdin=subprocess.DEVNULL)
    line = one_error_line(r)
    assert r.returncode == 3 and "BTF" in line, (r.returncode, line)


def test_list_kernel():
    r = run(["list", "--kernel", "sched_switch"], check=False)
    if r.returncode == 2 and "kernel" in r.stderr:
        raise Skip("`gosnoop list --kernel` is not wired to ktrace_list yet")
    assert r.returncode == 0, r.stderr
    names = r.stdout.split()
    assert "tracepoint:sched:sched_switch" in names, names
    assert "tp_btf:sched_switch" in names, names
    assert "fentry:sched_switch" not in names   # not a kernel function
    r = run(["list", "--kernel", "tracepoint:sched:sched_switch", "tp_btf:sched_sw*"])
    names = r.stdout.split()
    assert "tracepoint:sched:sched_switch" in names and "tp_btf:sched_switch" in names, names
    # every tracepoint listed exists in tracefs
    r = run(["list", "--kernel", "tracepoint:syscalls:sys_enter_exec*"])
    for n in r.stdout.split():
        cat, name = n.split(":")[1:]
        assert os.path.isdir(f"/sys/kernel/tracing/events/{cat}/{name}"), n


# ------------------------------------------------------------ esbuild

def test_esbuild_http_writes_belong_to_conn_serve():
    """Each HTTP response esbuild writes to its socket is written by the
    goroutine serving that connection: net/http.(*conn).serve, a new one
    per connection (urllib opens one per request). Every esbuild of the
    corpus that has --servedir (go1.16 .. go1.26, stack and register ABI,
    all stripped)."""
    rows = [r for r in gstest.corpus_manifest()
            if "--servedir no" not in r["notes"] and not r["name"].startswith(("esbuild-0.0.", "esbuild-0.6."))]
    tried = 0
    for row in rows:
        if not os.path.exists(row["path"]):
            continue
        tried += 1
        es, port, _ = gstest.esbuild_serve(row["path"], {"index.html": b"hello from gosnoop\n"})
        kt = start_ktrace(["-p", str(es.pid), "-f", "fd > 2",
                           "tracepoint:syscalls:sys_enter_write"])
        n = 4
        for _ in range(n):
            status, body = gstest.http_get(port, "/index.html")
            assert status == 200 and body == b"hello from gosnoop\n"
        time.sleep(0.3)
        es.kill()
        events, err = finish(kt)
        responses = [e for e in events if e["args"]["buf"].startswith("HTTP/1.1 200 OK\r\n")]
        assert len(responses) == n, (row["name"], len(responses), err)
        for e in responses:
            assert e["goid"] is not None and e["goid"] > 0, (row["name"], e)
            assert e.get("start") == "net/http.(*conn).serve", (row["name"], e)
        assert len({e["goid"] for e in responses}) == n, (row["name"], responses)
    if not tried:
        raise Skip("no esbuild with --servedir in the corpus")


CONNECT = r"""
import socket, sys
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
sys.stdin.readline()
c = socket.create_connection(("127.0.0.1", srv.getsockname()[1]))
print(c.getsockname()[1], flush=True)
a, _ = srv.accept(); a.close(); c.close()
"""


def test_btf_helpers_ip4_ntohs_on_a_connect():
    """tp_btf:inet_sock_set_state with ip4()/ntohs() over struct sock: a
    TCP connect the test makes, from its own process, to its own port."""
    py = subprocess.Popen([sys.executable, "-c", CONNECT], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    gstest._procs.append(py)
    port = int(py.stdout.readline())
    kt = start_ktrace(["-p", str(py.pid), "-d", "15",
                       "-f", f"ntohs(sk->__sk_common.skc_dport) == {port}",
                       "-o", "ip4(&sk->__sk_common.skc_rcv_saddr)",
                       "-o", "ip4(&sk->__sk_common.skc_daddr)",
                       "-o", "ntohs(sk->__sk_common.skc_dport)",
                       "-o", "oldstate", "-o", "newstate", "tp_btf:inet_sock_set_state"])
    py.stdin.write("go\n")
    py.stdin.flush()
    sport = int(py.stdout.readline())
    py.wait(timeout=10)
    time.sleep(0.3)
    kt.terminate()
    events, err = finish(kt)
    assert events, err
    for e in events:
        a = e["args"]
        assert a["ntohs(sk->__sk_common.skc_dport)"] == port
        assert a["ip4(&sk->__sk_common.skc_daddr)"] == "127.0.0.1", e
        assert e["pid"] == py.pid
    # TCP_CLOSE (7) -> TCP_SYN_SENT (2) -> TCP_ESTABLISHED (1), by connect()
    states = [(e["args"]["oldstate"], e["args"]["newstate"]) for e in events]
    assert (7, 2) in states and (2, 1) in states, states
    est = [e for e in events if e["args"]["newstate"] == 1]
    assert est[0]["args"]["ip4(&sk->__sk_common.skc_rcv_saddr)"] == "127.0.0.1"
    assert sport > 0


def test_bitfields_and_plain_members_against_what_the_test_set():
    """task_struct.sched_reset_on_fork is a 1-bit bitfield, .policy a plain
    member: chrt -R -b sets both for one process; a twin keeps defaults."""
    if not shutil.which("chrt"):
        raise Skip("chrt (util-linux) missing")
    loop = "import sys, time; sys.stdin.readline(); [time.sleep(0.005) for _ in range(100)]"
    batch = subprocess.Popen(["chrt", "-R", "-b", "0", sys.executable, "-c", loop],
                             stdin=subprocess.PIPE, text=True)
    plain = subprocess.Popen([sys.executable, "-c", loop], stdin=subprocess.PIPE, text=True)
    gstest._procs += [batch, plain]
    want = {batch.pid: (3, 1), plain.pid: (0, 0)}     # SCHED_BATCH = 3
    kt = start_ktrace(["-d", "20", "-f", f"prev->tgid == {batch.pid} || prev->tgid == {plain.pid}",
                       "-o", "prev->tgid", "-o", "prev->policy",
                       "-o", "prev->sched_reset_on_fork", "tp_btf:sched_switch"])
    for p in (batch, plain):
        p.stdin.write("go\n")
        p.stdin.close()
    for p in (batch, plain):
        p.wait(timeout=20)
    time.sleep(0.2)
    kt.terminate()
    events, err = finish(kt)
    seen = set()
    for e in events:
        a = e["args"]
        pid = a["prev->tgid"]
        assert (a["prev->policy"], a["prev->sched_reset_on_fork"]) == want[pid], e
        seen.add(pid)
    assert seen == set(want), (seen, err)
