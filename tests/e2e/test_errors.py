"""Bad input: one clear line on stderr, a documented exit code, no crash."""
import os
import re
import shutil
import subprocess

from gstest import Skip, fixture, run, tmpdir

USAGE, NOKERNEL = 2, 3


def one_line_error(args, code, *words):
    r = run(args, check=False)
    assert r.returncode == code, f"{args}: exit {r.returncode}, stderr {r.stderr!r}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"{args}: stderr has {len(lines)} lines: {r.stderr!r}"
    assert lines[0].startswith("gosnoop: ")
    for w in words:
        assert w.lower() in lines[0].lower(), f"{args}: {w!r} not in {lines[0]!r}"
    assert r.stdout == "", f"{args}: partial output {r.stdout[:200]!r}"
    return lines[0]


def test_not_elf():
    d = tmpdir()
    p = os.path.join(d, "notes.txt")
    open(p, "w").write("hello\n")
    for cmd in ("info", "list"):
        one_line_error([cmd, p], USAGE, "not an ELF")
    empty = os.path.join(d, "empty")
    open(empty, "w").close()
    one_line_error(["info", empty], USAGE, "empty")


def test_elf_but_not_go():
    one_line_error(["info", shutil.which("true")], USAGE, "Go")


def test_truncated_go_binaries():
    src = open(fixture("demo"), "rb").read()
    d = tmpdir()
    for frac in (0.01, 0.1, 0.5, 0.9):
        p = os.path.join(d, f"trunc{frac}")
        open(p, "wb").write(src[: int(len(src) * frac)])
        r = run(["info", p], check=False)
        assert r.returncode == USAGE, (frac, r.returncode, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_wrong_architecture():
    d = tmpdir()
    b = bytearray(open(fixture("demo"), "rb").read(64 * 1024))
    b[18] = 0xB7  # e_machine = EM_AARCH64
    p = os.path.join(d, "arm64")
    open(p, "wb").write(b)
    one_line_error(["info", p], USAGE, "x86-64")


def test_unknown_pclntab_magic():
    data = bytearray(open(fixture("demo"), "rb").read())
    out = subprocess.run(["readelf", "-SW", fixture("demo")], capture_output=True, text=True).stdout
    off = next(int(re.search(r"\.gopclntab\s+\S+\s+\S+\s+(\S+)", l).group(1), 16)
               for l in out.splitlines() if ".gopclntab" in l)
    assert data[off:off + 4] == bytes.fromhex("f0ffffff")  # go1.18 magic, little-endian
    data[off:off + 4] = bytes.fromhex("f7ffffff")
    p = os.path.join(tmpdir(), "future")
    open(p, "wb").write(data)
    one_line_error(["info", p], USAGE, "pclntab", "upgrade")


def test_missing_file_and_directory():
    one_line_error(["info", "/nonexistent/x"], USAGE, "No such file")
    one_line_error(["list", "/tmp"], USAGE, "directory")


def test_dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    one_line_error(["info", "-p", str(p.pid)], USAGE, "no process", str(p.pid))
    one_line_error(["info", "-p", "abc"], USAGE, "bad PID")


def test_bad_and_unmatched_patterns():
    demo = fixture("demo")
    one_line_error(["list", demo, "main.[oops"], USAGE, "bad pattern")
    one_line_error(["list", demo, "nosuch.func*"], USAGE, "no function", "nosuch.func*")
    # one of two matching is fine, with a warning for the other
    r = run(["list", demo, "main.greet", "nosuch.*"], check=False)
    assert r.returncode == 0 and "main.greet" in r.stdout and "nosuch.*" in r.stderr


def test_usage_errors():
    one_line_error(["info"], USAGE, "no target")
    one_line_error(["nosuchcommand"], USAGE, "unknown")
    one_line_error(["info", "a", "b"], USAGE)
    one_line_error(["list", "main.main", "--"], USAGE, "nothing after")
    one_line_error(["list", "--", "/nonexistent/cmd"], USAGE, "not found")
    # patterns before the target: say where the target goes
    one_line_error(["trace", "main.fib", fixture("calls")], USAGE, "the target comes before")
    # a pattern alone, or first: not taken for a missing file
    one_line_error(["trace", "main.*"], USAGE, "the target comes before")
    one_line_error(["count", "main.fib", fixture("calls")], USAGE, "the target comes before")
    # a CMD that is not executable: bad input, not a missing privilege
    notx = os.path.join(tmpdir(), "notx")
    shutil.copy(fixture("calls"), notx)
    os.chmod(notx, 0o644)
    one_line_error(["count", "main.fib", "--", notx], USAGE, "not executable")
    # a bad option: one line naming it, not the whole usage
    for args, bad in ((["trace", "-z", "x"], "-z"), (["count", "--bogus", "x"], "--bogus"),
                      (["sched", "-d"], "-d"), (["ktrace", "-Q", "tp_btf:x"], "-Q"),
                      (["list", "--kernel", "-zk"], "-z"), (["info", "--nope"], "--nope"),
                      (["doctor", "-x"], "-x"), (["serve", "--what"], "--what"),
                      (["--nope"], "--nope")):
        one_line_error(args, USAGE, f"bad option '{bad}'")
    # counts and ids: digits only ("-3" is not 2^64 - 3)
    for args in (["ktrace", "-n", "-3", "tp_btf:sys_enter"],
                 ["ktrace", "-n", "0", "tp_btf:sys_enter"],
                 ["trace", "--goid", "-1", fixture("calls"), "main.fib"],
                 ["sched", "--goid", "+2", fixture("calls")]):
        one_line_error(args, USAGE, "bad")
    # nothing named: the target is asked for first, then the functions
    calls = fixture("calls")
    for cmd, what in (("trace", "no PROBE"), ("count", "no PATTERN"),
                      ("latency", "no PATTERN")):
        one_line_error([cmd], USAGE, "no target")
        one_line_error([cmd, calls], USAGE, what)
        one_line_error([cmd, "-p", str(os.getpid())], USAGE, what)


def test_json_mode_errors_are_json_too():
    r = run(["--json", "info", "/nonexistent/x"], check=False)
    import json
    obj = json.loads(r.stdout)
    assert obj["type"] == "error" and "No such file" in obj["message"]
    assert r.returncode == USAGE


def test_empty_pattern_is_a_usage_error():
    # a raw -EINVAL used to leak out as exit 234
    for cmd in ("count", "latency", "trace"):
        one_line_error([cmd, fixture("demo"), ""], USAGE, "empty pattern")


def full_disk(args):
    """args with stdout on /dev/full: exit code and stderr."""
    with open("/dev/full", "w") as full:
        r = subprocess.run([os.environ["GOSNOOP"]] + args, stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr


def test_output_that_cannot_be_written_is_a_failure():
    # as coreutils: a full disk is exit 1 with a line, not 0 with nothing
    demo = fixture("demo")
    cases = [
        ["list", demo],
        ["--json", "info", demo],
        ["count", "-d", "1", demo, "main.*"],
        ["latency", "-d", "1", demo, "main.*"],
        ["cost", "-d", "1", demo, "main.*"],
        ["--json", "trace", "-d", "2", "main.*", "--", fixture("args")],
        ["sched", "-d", "1", "--", demo],
        ["ktrace", "-d", "1", "tracepoint:syscalls:sys_enter_write", "--", demo],
        ["doctor"],
        # gosnoop's own --help and --version too (they exited 0)
        ["--help"], ["--version"], ["help"], ["info", "--help"],
    ]
    for args in cases:
        code, err = full_disk(args)
        assert code == 1, f"{args}: exit {code}, stderr {err!r}"
        # with the reason (count, latency, cost, sched, ktrace and doctor
        # flushed with a bare fflush, which loses errno: no reason given)
        assert "cannot write to standard output: No space left on device" in err, (args, err)
    # every output-file option: a write that fails at the end is exit 1
    for args in (["sched", "--perfetto", "/dev/full", "-d", "1", "--", fixture("sched")],
                 ["sched", "--pprof", "/dev/full", "--", fixture("demo"), "-rounds", "1"],
                 ["trace", "--folded", "/dev/full", "main.greet", "--", fixture("demo"),
                  "-rounds", "1"],
                 ["trace", "--pprof", "/dev/full", "main.greet", "--", fixture("demo"),
                  "-rounds", "1"]):
        r = run(args, check=False)
        assert r.returncode == 1, (args, r.returncode, r.stderr)
        assert "/dev/full" in r.stderr and "No space left" in r.stderr, (args, r.stderr)


def test_fifo_symlink_loop_and_sysfs_files_are_bad_input():
    d = tmpdir()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    # a FIFO used to block the open forever
    one_line_error(["list", fifo], USAGE, "not a regular file")
    one_line_error(["serve", "--config", fifo], USAGE, "not a regular file")
    # ... or as -- CMD, even executable: refused before anything runs; ktrace
    # (whose CMD need not be Go) traced, then exited 127 when exec failed
    os.chmod(fifo, 0o755)
    for cmd in (["ktrace", "-n", "1", "tp_btf:sched_switch"], ["count", "main.*"]):
        one_line_error(cmd + ["--", fifo], USAGE, "not a regular file")
        one_line_error(cmd + ["--", d], USAGE, "is a directory")
    a, b = os.path.join(d, "loop1"), os.path.join(d, "loop2")
    os.symlink(b, a)
    os.symlink(a, b)
    one_line_error(["info", a], USAGE, "symbolic links")
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        one_line_error(["info", "/sys/kernel/btf/vmlinux"], USAGE, "not an ELF")


def as_nobody(args):
    """gosnoop args run as user nobody (no capabilities): CompletedProcess."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        raise Skip("needs root and setpriv to drop to nobody")
    d = tmpdir()
    os.chmod(d, 0o755)
    exe = os.path.join(d, "gosnoop")
    shutil.copy(os.environ["GOSNOOP"], exe)
    os.chmod(exe, 0o755)
    return subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                           exe] + args, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd=d)


def test_ktrace_without_privileges_is_a_missing_privilege():
    # each kind of probe, and a glob that lists tracefs: exit 3, never 2
    # (a tracepoint's format file root alone may read used to exit 2);
    # fentry/fexit, refused for want of privilege and not by the kernel, say
    # so (they blamed lockdown and a kernel without kprobes)
    for probe in ("tracepoint:syscalls:sys_enter_getpid", "tp_btf:sched_switch",
                  "tracepoint:syscalls:sys_enter_get*", "fentry:vfs_read",
                  "fexit:vfs_read"):
        r = as_nobody(["ktrace", "-n", "1", probe])
        assert r.returncode == NOKERNEL, (probe, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gosnoop: "), (probe, r.stderr)
        assert re.search(r"Permission denied|Operation not permitted", lines[0]), lines[0]
        assert "run as root" in lines[0], lines[0]   # and the way out
    # -- CMD: --follow reads tracefs first
    r = as_nobody(["ktrace", "-n", "1", "tp_btf:sched_switch", "--", "/bin/true"])
    assert r.returncode == NOKERNEL and "run as root" in r.stderr, (r.returncode, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    # a bad probe is still bad input, whoever asks
    r = as_nobody(["ktrace", "-n", "1", "nosuchkind:x"])
    assert r.returncode == USAGE, (r.returncode, r.stderr)


def test_output_files_are_checked_before_anything_runs():
    # every output-file option of every command fails up front, before CMD
    # runs (trace --folded used to fail only after the traced program ended)
    demo = fixture("demo")
    fifo = os.path.join(tmpdir(), "fifo")
    os.mkfifo(fifo)
    for cmd in (["trace", "--folded"], ["trace", "--pprof"],
                ["sched", "--perfetto"], ["sched", "--pprof"]):
        probe = ["main.greet"] if cmd[0] == "trace" else []
        for bad, why in (("/nonexistent/x", "No such file"), ("/tmp", "directory"),
                         (fifo, "FIFO nothing reads")):
            # demo would print "demo: done": the one line proves it never ran
            one_line_error(cmd + [bad] + probe + ["--", demo, "-rounds", "1"], USAGE,
                           f"cannot write {cmd[1]} {bad}", why)


def test_no_btf_is_a_kernel_feature_and_not_go_is_bad_input():
    # one errno -> exit mapping: "no kernel BTF" is exit 3 wherever it is
    # found (list --kernel 'struct X' used -ENOPKG, i.e. "not Go": exit 2)
    env = dict(os.environ, GOSNOOP_VMLINUX_BTF="/nonexistent/vmlinux")
    for args in (["list", "--kernel", "struct task_struct"],
                 ["ktrace", "-n", "1", "tp_btf:sched_sw*"],
                 ["ktrace", "-n", "1", "tp_btf:sched_switch"]):
        r = run(args, check=False, env=env)
        assert r.returncode == NOKERNEL, (args, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "BTF" in lines[0], (args, r.stderr)
    # and an ELF that is not Go stays bad input, in every command
    for args in (["info", shutil.which("true")], ["list", shutil.which("true")],
                 ["count", shutil.which("true"), "main.*"]):
        one_line_error(args, USAGE, "Go")


def test_serve_without_privileges_exits_3_in_one_line():
    # a target whose program cannot load: exit 3 with the way out, no crash
    d = tmpdir()
    os.chmod(d, 0o755)
    demo = os.path.join(d, "demo")
    shutil.copy(fixture("demo"), demo)
    os.chmod(demo, 0o755)
    cfg = os.path.join(d, "serve.yaml")
    with open(cfg, "w") as f:
        f.write(f'listen: 127.0.0.1:0\ntargets:\n  - binary: {demo}\n    count: ["main.greet"]\n')
    os.chmod(cfg, 0o644)
    r = as_nobody(["serve", "--no-watch", "--config", cfg])
    assert r.returncode == NOKERNEL, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "run as root" in lines[0], r.stderr


def test_shared_options_are_the_same_in_every_command():
    # one parser (src/options.c): each shared option says the same thing,
    # with the same exit code, in every command that takes it
    takes_pid = ("info", "list", "sched", "ktrace", "count", "latency", "trace", "cost")
    takes_duration = ("sched", "ktrace", "count", "latency", "trace", "cost")
    for cmd in takes_pid + ("doctor", "serve"):
        h = run([cmd, "-h"], check=False)
        assert h.returncode == 0 and h.stdout.startswith("Usage: gosnoop"), (cmd, h)
        assert run([cmd, "--help"], check=False).stdout == h.stdout, cmd
    for cmd in takes_pid:
        for args in (["-p", "abc"], ["--pid=abc"], ["-p", "0"], ["-p", "-5"]):
            bad = args[-1].split("=")[-1]
            one_line_error([cmd] + args + ["x"], USAGE, f"bad PID '{bad}'")
        one_line_error([cmd, "-p"], USAGE, "bad option '-p'", f"gosnoop {cmd} --help")
    for cmd in takes_duration:
        for d in ("0", "abc", "-1"):
            one_line_error([cmd, "-d", d, "x"], USAGE, f"bad duration '{d}'")
    # where a letter is not taken it is refused, not silently ignored
    for cmd, letter in (("info", "-d"), ("list", "-d"), ("doctor", "-p"), ("serve", "-j")):
        one_line_error([cmd, letter, "1"], USAGE, f"bad option '{letter}'")
