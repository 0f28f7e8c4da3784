"""gosnoop ktrace: which tasks and goroutines it reports, and the stacks
of each event. --follow against what a Go program running os/exec printed
(the execve happens in the child); --goid and --goroutine-func against the
goroutines' own runtime.Stack headers; --stack against the fixture's
source line and the kernel's syscall entry."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import gstest
from gstest import GOSNOOP, fixture, run, tmpdir
from test_ktrace import MSG, check_attribution, finish, one_error_line, start_ktrace, start_kwrite


def ktrace_json(args, timeout=60):
    r = subprocess.run([GOSNOOP, "--json", "ktrace"] + args, capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type":"kevent"')]
    return r, events


# ------------------------------------------------------------ --follow

def test_follow_shows_the_execs_of_os_exec_children():
    """-- CMD follows children by default: kexec's goroutine runs three
    commands with os/exec; each execve happens in a forked child, and
    carries the goroutine that forked it (the child shares its memory
    until the exec). --no-follow shows none of them."""
    follow_os_exec("kexec")
    r, events = ktrace_json(["--no-follow", "-o", "filename",
                             "tracepoint:syscalls:sys_enter_execve", "--", fixture("kexec")])
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r"^exec ", r.stdout, re.M)) == 3, r.stdout
    assert [e["args"]["filename"] for e in events] == [fixture("kexec")], events


def test_follow_a_pie():
    """The same as a PIE: the children's events are read after their exec,
    when /proc no longer shows the binary; the start function still comes
    from -- CMD's load bias (the vfork child shared its memory)."""
    follow_os_exec("kexec-pie")


def follow_os_exec(name):
    r, events = ktrace_json(["-o", "filename", "tracepoint:syscalls:sys_enter_execve",
                             "--", fixture(name)])
    assert r.returncode == 0, r.stderr
    printed = re.findall(r"^exec (\S+)$", r.stdout, re.M)
    runner = int(re.search(r"^runner goid (\d+)$", r.stdout, re.M).group(1))
    assert len(printed) == 3, r.stdout
    # the first execve is ktrace's own child becoming kexec
    assert events and events[0]["args"]["filename"] == fixture(name), events
    cmd_pid = events[0]["pid"]
    children = events[1:]
    assert [e["args"]["filename"] for e in children] == printed, (children, printed)
    pids = [e["pid"] for e in children]
    assert cmd_pid not in pids and len(set(pids)) == 3, pids
    for e in children:
        assert e["tid"] == e["pid"]
        assert e["goid"] == runner and e.get("start") == "main.runner", e


def test_follow_a_pid_only_when_asked():
    """-p PID: its children only with -F (as strace -f -p). Two ktraces
    watch one shell that runs two commands."""
    sh = subprocess.Popen(["sh", "-c", "read x; /bin/true one; /bin/echo two >/dev/null"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    gstest._procs.append(sh)
    plain = start_ktrace(["-p", str(sh.pid), "tracepoint:syscalls:sys_enter_execve"])
    follow = start_ktrace(["-F", "-p", str(sh.pid), "tracepoint:syscalls:sys_enter_execve"])
    sh.stdin.write("go\n")
    sh.stdin.close()
    sh.wait(timeout=10)
    events, err = finish(plain)
    assert events == [], events
    events, err = finish(follow)
    got = [(e["args"]["filename"], e["args"]["argv"]) for e in events]
    assert got == [("/bin/true", ["/bin/true", "one"]),
                   ("/bin/echo", ["/bin/echo", "two"])], (got, err)
    assert all(e["pid"] != sh.pid for e in events)


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1] == str(pid):
                out.append(int(p))
        except (OSError, IndexError):
            pass
    return out


def test_follow_a_pid_takes_the_children_it_had():
    """-F -p PID also follows what PID forked before ktrace started (as
    strace -f -p): a subshell, already waiting, runs two commands
    afterwards; their execs are the subshell's children's, the
    grandchildren of PID."""
    sh = subprocess.Popen(["sh", "-c", "( read x; /bin/true one; /bin/echo two >/dev/null ); wait"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    gstest._procs.append(sh)
    for _ in range(100):            # the subshell, before ktrace starts
        sub = children(sh.pid)
        if sub:
            break
        time.sleep(0.05)
    assert len(sub) == 1, sub
    follow = start_ktrace(["-F", "-p", str(sh.pid), "tracepoint:syscalls:sys_enter_execve"])
    sh.stdin.write("go\n")
    sh.stdin.close()
    sh.wait(timeout=10)
    events, err = finish(follow)
    got = [(e["args"]["filename"], e["args"]["argv"]) for e in events]
    assert got == [("/bin/true", ["/bin/true", "one"]),
                   ("/bin/echo", ["/bin/echo", "two"])], (got, err)
    # true: a child of the subshell; echo: the subshell itself (dash
    # execs a subshell's last command) or a child of it; none of it is
    # PID's own (without the subshell followed, neither is seen)
    assert events[0]["pid"] not in (sh.pid, sub[0]), events
    assert events[1]["pid"] != sh.pid, events


def test_follow_a_path_target():
    """A PATH target is its comm; -F adds what its processes fork, also
    after an exec renamed them: echo's write of "kexec" (comm echo) shows
    with -F only. The test runs kexec itself."""
    d = tmpdir()
    kexec = os.path.join(d, "kexec")
    shutil.copy(fixture("kexec"), kexec)
    args = ["-f", "fd == 1", "-o", "buf", kexec, "tracepoint:syscalls:sys_enter_write"]
    follow = start_ktrace(["-F"] + args)
    plain = start_ktrace(args)
    out = subprocess.run([kexec], capture_output=True, text=True, timeout=30).stdout
    assert out.endswith("done\n"), out
    for kt in (follow, plain):
        kt.send_signal(signal.SIGINT)
    events, err = finish(follow)
    echo = [e for e in events if e["comm"] == "echo"]
    assert [e["args"]["buf"] for e in echo] == ["kexec\n"], (events, err)
    # kexec's own lines, as it printed them, in both
    mine = "".join(e["args"]["buf"] or "?" for e in events if e["comm"] == "kexec")
    assert mine == out, (mine, out)
    events, err = finish(plain)
    assert all(e["comm"] == "kexec" for e in events), events
    assert "".join(e["args"]["buf"] or "?" for e in events) == out


def test_pie_start_functions_need_no_proc():
    """A PIE PATH target: each event brings its process's mm->start_code,
    so the children's execve (read after they exec'd and exited, when
    /proc shows no kexec in them) still name main.runner."""
    d = tmpdir()
    kexec = os.path.join(d, "kexec")
    shutil.copy(fixture("kexec-pie"), kexec)
    kt = start_ktrace(["-o", "filename", kexec, "tracepoint:syscalls:sys_enter_execve"])
    out = subprocess.run([kexec], capture_output=True, text=True, timeout=30).stdout
    kt.send_signal(signal.SIGINT)
    events, err = finish(kt)
    runner = int(re.search(r"^runner goid (\d+)$", out, re.M).group(1))
    assert [e["args"]["filename"] for e in events] == re.findall(r"^exec (\S+)$", out, re.M), \
        (events, out)
    for e in events:
        assert e["goid"] == runner and e.get("start") == "main.runner", e


def test_follow_needs_a_process():
    r = run(["ktrace", "-F", "tracepoint:syscalls:sys_enter_execve"], check=False)
    assert r.returncode == 2
    assert "give -p PID, -- CMD, a PATH or -c COMM" in one_error_line(r)


# ------------------------------------------------------------ goroutine filters

def test_goid_filter_keeps_that_goroutine_only():
    kw, fd, goids = start_kwrite(workers=3, rounds=2)
    want = goids[1]
    kt = start_ktrace(["-p", str(kw.pid), "--goid", str(want), "-o", "fd", "-o", "buf",
                       "tracepoint:syscalls:sys_enter_write"])
    kw.stdin.write("go\n")
    kw.stdin.close()
    assert kw.stdout.read().strip() == "done"
    kw.wait(timeout=10)
    events, err = finish(kt)
    assert events, err
    assert all(e["goid"] == want for e in events), events
    check_attribution([e for e in events if e["args"]["fd"] == fd], {1: want}, 2,
                      lambda e: e["args"]["buf"])


def test_goroutine_of_a_syscall_on_the_system_stack():
    """ksys's main.grower keeps 8 MiB allocations: the runtime maps each
    with mmap(2) on g0, inside runtime.systemstack, while m.curg is
    grower. Those events belong to grower (by its own runtime.Stack
    header), not to g0 (they said g0: --goid dropped every one)."""
    p = subprocess.Popen([fixture("ksys"), "-chunks", "16"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    gstest._procs.append(p)
    pid = int(p.stdout.readline().split()[1])
    goid = int(re.fullmatch(r"grower goid (\d+)\n", p.stdout.readline()).group(1))
    assert p.stdout.readline() == "ready\n"
    args = ["-p", str(pid), "--stack", "-o", "len", "tracepoint:syscalls:sys_enter_mmap"]
    filtered = start_ktrace(["--goid", str(goid)] + args)
    everyone = start_ktrace(args)
    p.stdin.write("go\n")
    p.stdin.close()
    assert p.stdout.read().strip() == "done"
    p.wait(timeout=30)
    events, err = finish(filtered)
    control, err2 = finish(everyone)

    def frames(e):
        return [f.get("func") for f in e["ustack"]]
    # the systemstack calls made for grower: its frames below
    # runtime.systemstack, and no mcall in between (past an mcall the
    # chain runs into a goroutine the scheduler has already dropped)
    on_g0 = [e for e in control if "main.grower" in frames(e) and
             "runtime.systemstack" in frames(e) and "runtime.mcall" not in frames(e)]
    assert on_g0, (err2, [frames(e) for e in control])
    for e in on_g0:
        assert e["goid"] == goid and e["start"] == "main.grower", (e["goid"], e.get("start"),
                                                                   frames(e))
    # --goid keeps them: the 8 MiB chunks' mappings among them
    assert events, err
    assert all(e["goid"] == goid for e in events), events
    assert any(e["args"]["len"] == 8 << 20 and "runtime.systemstack" in frames(e)
               for e in events), [(e["args"], frames(e)) for e in events]


def goroutine_func_run(name):
    """kwrite's workers (go worker()) write to a file, its main goroutine
    prints "done" to stdout: only the workers' writes pass."""
    kw, fd, goids = start_kwrite(workers=3, rounds=2)
    args = ["-p", str(kw.pid), "-o", "fd", "-o", "buf", "tracepoint:syscalls:sys_enter_write"]
    filtered = start_ktrace(["--goroutine-func", "main.work*"] + args)
    everyone = start_ktrace(args)
    kw.stdin.write("go\n")
    kw.stdin.close()
    assert kw.stdout.read().strip() == "done"
    kw.wait(timeout=10)
    events, err = finish(filtered)
    control, _ = finish(everyone)
    # without the filter, main's "done" is there (goroutine 1, runtime.main)
    assert any(e["args"]["buf"] == "done\n" and e["goid"] == 1 for e in control), control
    assert all(e.get("start") == "main.worker" for e in events), events
    check_attribution([e for e in events if e["args"]["fd"] == fd], goids, 2,
                      lambda e: e["args"]["buf"])


def test_goroutine_func_filter():
    goroutine_func_run("kwrite")


def test_goroutine_func_filter_pie():
    """A PIE: the start functions are compared relative to the process's
    text (mm->start_code), so the load bias does not matter."""
    # named kwrite, as check_attribution wants its comm
    pie = os.path.join(tmpdir(), "kwrite")
    shutil.copy(fixture("kwrite-pie"), pie)
    import test_ktrace
    saved = test_ktrace.fixture
    test_ktrace.fixture = lambda n: pie if n == "kwrite" else saved(n)
    try:
        goroutine_func_run("kwrite-pie")
    finally:
        test_ktrace.fixture = saved


def test_goroutine_filters_errors():
    r = run(["ktrace", "--goroutine-func", "main.nomatch*", fixture("kwrite"),
             "tracepoint:syscalls:sys_enter_write"], check=False)
    assert r.returncode == 2
    assert "matches no function of" in one_error_line(r)
    # an empty --comm would trace every process
    r = run(["ktrace", "--comm", "", "tracepoint:syscalls:sys_enter_write"], check=False)
    assert r.returncode == 2, r
    assert "bad --comm ''" in one_error_line(r)
    # " -5" is no goroutine id (strtoull made it 2^64 - 5), nor "1," a list
    for bad in ("1,x", " -5", "1,", ",1"):
        r = run(["ktrace", "--goid", bad, "tracepoint:syscalls:sys_enter_write"], check=False)
        assert r.returncode == 2, (bad, r)
        assert f"bad --goid '{bad}'" in one_error_line(r), bad
    r = run(["ktrace", "--goid", "1", "tracepoint:syscalls:sys_enter_write"], check=False)
    assert r.returncode == 2
    assert "need a Go target" in one_error_line(r)


# ------------------------------------------------------------ --stack

def source_line(path, text):
    for n, line in enumerate(open(path), 1):
        if text in line:
            return n
    raise AssertionError(f"{text!r} not in {path}")


def test_stack_kernel_and_go():
    """Each write of a worker: the kernel stack passes the syscall entry,
    the Go stack goes os.(*File).Write <- main.worker at the line of the
    fixture's out.Write call <- runtime.goexit."""
    path = os.path.join(tmpdir(), "kwrite.out")
    r, events = ktrace_json(["--stack", "-f", "id == 1 && regs->di == 3",
                             "-o", "ustr(regs->si)", "-o", "regs->dx", "tp_btf:sys_enter",
                             "--", fixture("kwrite"), path, "2", "2"])
    assert r.returncode == 0, r.stderr
    src = os.path.join(os.path.dirname(__file__), "..", "fixtures", "kwrite", "main.go")
    line = source_line(src, "out.Write(msg)")
    for e in events:    # Go's buffer has no NUL: cut at the count
        e["args"]["buf"] = (e["args"]["ustr(regs->si)"] or "")[:e["args"]["regs->dx"]]
    events = [e for e in events if MSG.fullmatch(e["args"]["buf"])]
    assert len(events) == 4, r.stdout
    for e in events:
        k = e["kstack"]
        assert k and any(f.startswith("do_syscall_64+") for f in k), k
        funcs = [f.get("func") for f in e["ustack"]]
        assert "os.(*File).Write" in funcs, funcs
        w = funcs.index("main.worker")
        assert e["ustack"][w]["line"] == line, e["ustack"][w]
        assert funcs.index("os.(*File).Write") < w
        assert funcs[-1] == "runtime.goexit", funcs


def test_stack_text_output():
    """The same as text, from the syscall tracepoint. Its kernel stack is
    not checked: on 5.10 a syscalls:* tracepoint hands BPF the task's
    user registers, so bpf_get_stack finds no kernel frames there."""
    path = os.path.join(tmpdir(), "kwrite.out")
    r = subprocess.run([GOSNOOP, "ktrace", "--stack", "-n", "1", "-f", "fd == 3",
                        "tracepoint:syscalls:sys_enter_write",
                        "--", fixture("kwrite"), path, "1", "1"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    i = next(n for n, l in enumerate(lines) if "sys_enter_write" in l)
    frames = lines[i + 1:]
    assert all(re.match(r"^        \[k\] \w+\+0x[0-9a-f]+$", l) for l in frames if "[k]" in l), frames
    assert any(re.match(r"^        main\.worker \(.*kwrite/main\.go:\d+\)$", l) for l in frames), frames


def test_bench_programs_load_beside_follow():
    """bench/ktrace.py's yardsticks run under -- CMD, so beside --follow's
    fork and exit programs: each instance still attaches its own."""
    for prog in ("--empty-program", "--record-floor-program"):
        r = subprocess.run([GOSNOOP, "ktrace", prog, "tp_btf:sys_enter", "--",
                            "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100"],
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (prog, r.stderr)
        assert "100 bytes" in r.stderr, (prog, r.stderr)


def test_goroutine_func_through_a_go_wrapper():
    """kexec starts its runner with `go runner(done)`: g.startpc is the
    compiler's wrapper (main.main.func1, or gowrap1 since go1.21), which
    --goroutine-func main.runner must cover, as the start column does.
    main.main matches no goroutine that execs: nothing passes."""
    r, events = ktrace_json(["--goroutine-func", "main.runner", "-o", "filename",
                             "tracepoint:syscalls:sys_enter_execve", "--", fixture("kexec")])
    assert r.returncode == 0, r.stderr
    printed = re.findall(r"^exec (\S+)$", r.stdout, re.M)
    assert [e["args"]["filename"] for e in events] == printed, (events, r.stdout)
    assert all(e.get("start") == "main.runner" for e in events), events
    r, events = ktrace_json(["--goroutine-func", "main.main", "-o", "filename",
                             "tracepoint:syscalls:sys_enter_execve", "--", fixture("kexec")])
    assert r.returncode == 0, r.stderr
    assert events == [], events
