"""gosnoop trace --set ARG=VALUE --allow-write: the argument is overwritten
at the entry probe and the traced program itself prints the new value
(tests/fixtures/args and abi0 print what each traced function received).

Where it lives decides how, and whether this kernel can:
- on the stack above the return address (ABI0: go <= 1.16, assembly
  functions; register-ABI arguments beyond the 9 integer registers):
  bpf_probe_write_user, which kernel lockdown withholds (this machine:
  exit 3, one line naming lockdown);
- in a register: only kernels that let uprobe programs write their
  context (upstream 7384893d970e); elsewhere exit 3, one line naming the
  register and why.
Each test asks the kernel what to expect the way a user could (securityfs'
lockdown file), never gosnoop itself; in the VM kernels (tests/vm/matrix)
lockdown is off and the new value must come out."""
import json
import os
import re
import subprocess

from gstest import GOSNOOP, fixture

USAGE, NOKERNEL = 2, 3


SECURITYFS = "/sys/kernel/security"


def lockdown_on():
    """securityfs' word (mounted for the read if it is not, as
    test_doctor does)"""
    mounted_here = False
    if not os.path.ismount(SECURITYFS):
        subprocess.run(["mount", "-t", "securityfs", "securityfs", SECURITYFS], check=True)
        mounted_here = True
    try:
        with open(os.path.join(SECURITYFS, "lockdown")) as f:
            sel = re.search(r"\[(\w+)\]", f.read())
    except OSError:
        sel = None            # no lockdown LSM: no lockdown
    finally:
        if mounted_here:
            subprocess.run(["umount", SECURITYFS], check=True)
    return bool(sel) and sel.group(1) != "none"


def trace(binary, probes, *args, extra=()):
    return subprocess.run([GOSNOOP, "--json", "trace"] + list(extra) + list(probes) +
                          ["--", fixture(binary)] + list(args),
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def program_lines(stdout, key):
    """The fixture's own JSON lines (those with `key`), not gosnoop's."""
    out = []
    for line in stdout.splitlines():
        if line.startswith("{") and not line.startswith('{"type"'):
            rec = json.loads(line)
            if key in rec:
                out.append(rec)
    return out


def calls(stdout):
    return [json.loads(l) for l in stdout.splitlines()
            if l.startswith('{"type":"call"')]


def one_line_refusal(r, *words):
    """exit 3 and one error (JSON mode: the one record on stdout), and
    nothing else: refused up front, CMD never ran"""
    assert r.returncode == NOKERNEL, (r.returncode, r.stderr, r.stdout)
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    assert [x["type"] for x in recs] == ["error"], r.stdout
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr   # and the same line
    for w in words:
        assert w in recs[0]["message"], (w, recs[0])


def test_trace_set_stack_argument_of_register_abi_function():
    # main.many(a1..a11 int): a10 and a11 do not fit the 9 integer
    # registers, so they are on the stack above the return address
    r = trace("args", ["main.many"], extra=["--set", "a10=777", "--allow-write"])
    if lockdown_on():
        one_line_refusal(r, "--set a10", "main.many", "stack", "bpf_probe_write_user",
                         "lockdown")
        return
    assert r.returncode == 0, r.stderr
    (prog,) = [p for p in program_lines(r.stdout, "f") if p["f"] == "main.many"]
    assert prog["args"]["a10"] == 777, prog     # the program saw the new value
    assert prog["args"]["a11"] == 11 and prog["ret"]["~r0"] == 66 - 10 + 777, prog
    (c,) = calls(r.stdout)
    assert c["args"]["a10"] == 777 and c["args"]["a9"] == 9, c   # and gosnoop shows it


def test_trace_set_abi0_assembly_function_raw_word():
    # main.addasm is ABI0 assembly (no DWARF parameters: raw words): its
    # arguments are the words above the return address; it returns a + b
    r = trace("abi0", ["main.addasm"], extra=["--set", "arg0=1000", "--allow-write"])
    if lockdown_on():
        one_line_refusal(r, "--set arg0", "main.addasm", "bpf_probe_write_user", "lockdown")
        return
    assert r.returncode == 0, r.stderr
    got = [p for p in program_lines(r.stdout, "f") if p["f"] == "main.addasm"]
    # the caller prints what it passed and what came back: a was replaced
    assert [(p["args"][1], p["ret"][0]) for p in got] == \
        [(107, 1107), (1 << 40, 1000 + (1 << 40)), (-9, 991)], got


def test_trace_set_register_argument_works_or_says_why():
    # main.add(a, b int): a is in RAX at the entry. Writing a uprobe's
    # registers needs a kernel that allows it; none of 5.10, 6.1, 6.12 or
    # this 6.18 does: exit 3 naming the register. Where it works, the
    # program must print the new value.
    r = trace("args", ["main.add"], extra=["--set", "a=-1000", "--allow-write"])
    if r.returncode == NOKERNEL:
        one_line_refusal(r, "--set a", "main.add", "register RAX",
                         "does not let uprobe programs write registers")
        return
    assert r.returncode == 0, r.stderr
    got = [p for p in program_lines(r.stdout, "f") if p["f"] == "main.add"]
    assert got and all(p["args"]["a"] == -1000 for p in got), got


def test_trace_set_refuses_what_it_cannot_set():
    cases = [
        # (binary, probe, --set, words of the one error line)
        ("args", "main.greet", "name=5", ["main.greet", "only integers, bools and pointers"]),
        ("args", "main.mixed", "a=300", ["main.mixed", "does not fit in a"]),
        ("args", "main.mixed", "ok=1", ["main.mixed", "is a bool: give true or false"]),
        ("args", "main.add", "nosuch=1", ["no traced function has an argument 'nosuch'"]),
        ("args", "main.add", "a=12abc", ["bad --set 'a=12abc'"]),
        ("args", "main.add", "a", ["bad --set 'a'", "ARG=VALUE"]),
    ]
    for binary, probe, s, words in cases:
        r = trace(binary, [probe], extra=["--set", s, "--allow-write"])
        assert r.returncode == USAGE, (s, r.returncode, r.stderr)
        (rec,) = [json.loads(l) for l in r.stdout.splitlines()]
        assert rec["type"] == "error", (s, rec)
        for w in words:
            assert w in rec["message"], (s, w, rec)
    r = trace("args", ["main.add"], extra=["--set", "a=1"])
    assert r.returncode == USAGE and "--allow-write" in r.stdout, r.stdout


def test_trace_without_set_loads_no_write_path():
    # plain tracing loads tr_call only: the --set program (and its
    # writes) is another program, never loaded without --set
    r = trace("args", ["main.add"], extra=["-v"])
    assert r.returncode == 0, r.stderr
    assert "--set" not in r.stderr, r.stderr
    prog = [p for p in program_lines(r.stdout, "f") if p["f"] == "main.add"]
    assert prog and all(c["args"]["a"] == p["args"]["a"]
                        for c, p in zip(calls(r.stdout), prog)), (prog, calls(r.stdout))
