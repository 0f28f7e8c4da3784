"""gosnoop ktrace's strings are bytes: write buffers of exactly count bytes,
invalid UTF-8 kept losslessly in JSON (\\udcXX), and a string the kernel
could not read at the event (its page not resident) shown as null or '?',
never as "". Checked against a program that reports what it passed and
what the kernel did with it."""
import json
import os
import re
import subprocess
import sys

from gstest import GOSNOOP, tmpdir


# A Python program the traced tests run: its system calls carry bytes the
# test knows (invalid UTF-8, a buffer with more bytes after its count,
# strings in a file page it mapped but never touched), and it reports
# what the kernel did with them in a JSON file of its own.
STRINGS_PROG = r'''
import ctypes, json, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.syscall.restype = ctypes.c_long
page_file, out_file, mode = sys.argv[1], sys.argv[2], int(sys.argv[3])
rep = {}

def untouched():
    """A string in a page of a file mapping this process never touched:
    not resident until the kernel's own read faults it in."""
    fd = os.open(page_file, os.O_RDONLY)
    p = libc.mmap(None, 4096, 1, 2, fd, 0)     # PROT_READ, MAP_PRIVATE
    os.close(fd)
    return p

# openat(2) of an unreadable, an empty and a NULL path, marked by mode
p = untouched()
rep["fd"] = libc.syscall(257, -100, ctypes.c_void_p(p), os.O_RDONLY, mode)
rep["path"] = ctypes.string_at(p).hex()         # what the kernel read
# "" in the last byte before an unmapped page: the kernel copies it byte
# by byte (a word read would fault), writing only the NUL
e = libc.mmap(None, 8192, 3, 0x22, -1, 0)       # RW, MAP_PRIVATE|ANONYMOUS
libc.munmap(ctypes.c_void_p(e + 4096), ctypes.c_size_t(4096))
ctypes.memset(e + 4095, 0, 1)
rep["edge"] = libc.syscall(257, -100, ctypes.c_void_p(e + 4095), os.O_RDONLY, mode)
rep["empty"] = libc.syscall(257, -100, b"", os.O_RDONLY, mode)
rep["null"] = libc.syscall(257, -100, None, os.O_RDONLY, mode)
# newfstatat(fd, "", AT_EMPTY_PATH) on a marked fd: a real empty string
os.dup2(rep["fd"], 93)
st = ctypes.create_string_buffer(256)
rep["fstat"] = libc.syscall(262, 93, b"", st, 0x1000)
# write(2) on fd 94: bytes that are not UTF-8, and a slice of a longer
# buffer (the bytes after count must not show)
os.dup2(os.open(out_file + ".w", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 94)
big = b"bad\xff\nPAST-THE-COUNT"
chunks = [memoryview(big)[:5],
          b"\xc0\xaf|\xe0\x80\xaf|\xed\xa0\x80|\xed\xbf\xbf|\xf4\x90\x80\x80|\xf5\xfe\xff|"
          b"\x80|\xc3\xa9\xa9|\xe2\x41|ok \xc3\xa9 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \x00\x1b\"\\\n"
          b"|cut\xe2\x82",
          b"a" * 127 + "\u20ac".encode() + b"b" * 60,  # 128 bytes end in the middle of the euro
          b""]
rep["writes"] = [os.write(94, c) for c in chunks]
rep["wnull"] = libc.syscall(1, 94, None, 5)
q = untouched()
rep["wunread"] = libc.syscall(1, 94, ctypes.c_void_p(q), 5)
# execve (of nothing: it fails) with an argv array in an untouched page,
# then with a NULL argv
s1, s2 = ctypes.create_string_buffer(b"one"), ctypes.create_string_buffer(b"two")
fd = os.open(out_file + ".argv", os.O_RDWR | os.O_CREAT | os.O_TRUNC)
os.write(fd, struct.pack("<3Q", ctypes.addressof(s1), ctypes.addressof(s2), 0).ljust(4096, b"\0"))
a = libc.mmap(None, 4096, 1, 2, fd, 0)
os.close(fd)
envp = (ctypes.c_char_p * 1)(None)
rep["noexec"] = libc.execve(b"/nonexistent-gosnoop", ctypes.c_void_p(a), envp)
rep["argv"] = [ctypes.string_at(x).decode() for x in struct.unpack("<2Q", ctypes.string_at(a, 16))]
rep["nullexec"] = libc.execve(b"/nonexistent-gosnoop", None, envp)
with open(out_file, "w") as f:
    json.dump(rep, f)
# execve with an argv string nobody read yet: echo prints what it got
r = untouched()
argv = (ctypes.c_char_p * 3)(b"/bin/echo", ctypes.cast(r, ctypes.c_char_p), None)
sys.stdout.flush()
libc.execve(b"/bin/echo", argv, envp)
'''


def run_strings_prog(ktrace_args, json_mode=True):
    """Run STRINGS_PROG under gosnoop ktrace; (raw stdout bytes, report,
    bytes it wrote on fd 94, the path string it mapped)."""
    d = tmpdir()
    prog, page, rep = (os.path.join(d, n) for n in ("strings.py", "page", "rep.json"))
    with open(prog, "w") as f:
        f.write(STRINGS_PROG)
    path = b"/etc/hostname"
    with open(page, "wb") as f:
        f.write(path + b"\0" + b"\0" * (4096 - len(path) - 1))
    args = [GOSNOOP] + (["--json"] if json_mode else []) + ["ktrace"] + ktrace_args + \
        ["--", sys.executable, prog, page, rep, "668"]
    r = subprocess.run(args, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    with open(rep) as f:
        report = json.load(f)
    with open(rep + ".w", "rb") as f:
        written = f.read()
    return r.stdout, report, written, path


def strict_json_lines(out):
    """Every kevent line of raw output, decoded as strict UTF-8 (what
    RFC 8259 requires) and parsed."""
    return [json.loads(l.decode("utf-8")) for l in out.splitlines() if l.startswith(b"{")]


def as_bytes(s):
    """A JSON string of gosnoop's back to the bytes it stands for: bad
    bytes come as U+DC80..U+DCFF (surrogateescape, PEP 383)."""
    return s.encode("utf-8", "surrogateescape")


def test_unreadable_string_is_null_and_empty_stays_empty():
    """A path in a never-touched file page cannot be read by a tracepoint
    program (it cannot fault the page in): JSON null, not "". The kernel
    itself read it (the program's openat succeeded and the program then
    read the path from memory). A real "" stays "": openat(""), one in
    the last byte before an unmapped page (copied byte by byte, so only
    its NUL is written over the previous event's mark), newfstatat with
    AT_EMPTY_PATH. A NULL path is null, an argv string in an untouched
    page is null in the list while echo prints it, and an argv array in
    an untouched page (or a NULL argv) is null."""
    out, rep, _, path = run_strings_prog([
        "tracepoint:syscalls:sys_enter_openat", "-f", "mode == 668", "-o", "filename",
        "tracepoint:syscalls:sys_enter_newfstatat", "-f", "dfd == 93", "-o", "filename",
        "-o", "flag",
        "tracepoint:syscalls:sys_enter_execve", "-o", "filename", "-o", "argv"])
    assert rep["fd"] >= 0 and bytes.fromhex(rep["path"]) == path, rep
    assert rep["edge"] == rep["empty"] == rep["null"] == -1 and rep["fstat"] == 0, rep
    events = strict_json_lines(out)
    opens = [e["args"]["filename"] for e in events if e["probe"].endswith("openat")]
    assert opens == [None, "", "", None], opens
    stats = [e["args"] for e in events if e["probe"].endswith("newfstatat")]
    assert stats == [{"filename": "", "flag": 0x1000}], stats
    execs = [e["args"]["argv"] for e in events if e["probe"].endswith("execve")
             and e["args"]["argv"] and e["args"]["argv"][:1] == ["/bin/echo"]]
    assert execs == [["/bin/echo", None]], execs
    # an argv array in an untouched page, then a NULL argv: both null
    assert rep["noexec"] == rep["nullexec"] == -1 and rep["argv"] == ["one", "two"], rep
    fails = [e["args"]["argv"] for e in events if e["probe"].endswith("execve")
             and e["args"]["filename"] == "/nonexistent-gosnoop"]
    assert fails == [None, None], fails
    assert path + b"\n" in out.splitlines(keepends=True), out    # echo's own line


def test_unreadable_string_text_is_a_question_mark():
    """The same in text: ? for a string that could not be read, NULL for a
    NULL pointer, "" for an empty one."""
    out, rep, _, _ = run_strings_prog([
        "tracepoint:syscalls:sys_enter_openat", "-f", "mode == 668", "-o", "filename",
        "tracepoint:syscalls:sys_enter_execve", "-o", "argv"], json_mode=False)
    text = out.decode("utf-8", "replace")
    opens = re.findall(r"sys_enter_openat filename=(\S+)$", text, re.M)
    assert opens == ["?", '""', '""', "NULL"], text
    assert re.search(r'sys_enter_execve argv=\["/bin/echo" \?\]$', text, re.M), text
    assert re.findall(r"sys_enter_execve argv=(\?|NULL)$", text, re.M) == ["?", "NULL"], text


def test_write_buffers_are_lossless_json_of_exactly_count_bytes():
    """write(2) buffers that are not UTF-8 (overlong forms, surrogates,
    past U+10FFFF, a sequence cut by the count or by the 128-byte limit)
    are valid JSON whose decoded bytes are exactly what the program wrote
    (read back from the file), with -o buf as in the default view: count
    bytes, never the bytes after them. A NULL or unreadable buffer is
    null."""
    out, rep, written, _ = run_strings_prog([
        "tracepoint:syscalls:sys_enter_write", "-f", "fd == 94",
        "tracepoint:syscalls:sys_enter_write", "-f", "fd == 94", "-o", "buf", "-o", "count"])
    counts = rep["writes"] + [5, 5]
    assert rep["writes"] == [5, 60, 190, 0], rep
    assert rep["wnull"] == -1 and rep["wunread"] == 5, rep
    want, at = [], 0
    for n in rep["writes"]:
        want.append(written[at:at + n][:128])
        at += n
    assert want[0] == b"bad\xff\n" and want[2].endswith(b"a\xe2"), want
    events = strict_json_lines(out)
    full = [e["args"] for e in events if "fd" in e["args"]]
    only = [e["args"] for e in events if "fd" not in e["args"]]
    for view in (full, only):
        assert [a["count"] for a in view] == counts, view
        got = [as_bytes(a["buf"]) for a in view[:4]]
        assert got == want, (got, want)
        # the NULL buffer, then the one in a page not yet faulted in
        assert [a["buf"] for a in view[4:]] == [None, None], view
    # the JSON escapes only what is not UTF-8: the valid characters are
    # there as themselves
    assert "ok \u00e9 \U0001F600 \U0010FFFF \x00\x1b\"\\\n" in only[1]["buf"], only[1]


def test_write_buffer_text_shows_count_bytes():
    """QA's case in text: -o buf of write(fd, "bad\\xff\\n"...) shows the 5
    bytes, as the default view does, not what follows them in memory."""
    out, rep, _, _ = run_strings_prog([
        "tracepoint:syscalls:sys_enter_write", "-f", "fd == 94", "-o", "buf", "-o", "count"],
        json_mode=False)
    text = out.decode("utf-8", "replace")
    bufs = re.findall(r"sys_enter_write buf=(.*) count=(\d+)$", text, re.M)
    assert bufs[0] == ('"bad\\xff\\n"', "5"), bufs
    assert bufs[3:] == [('""', "0"), ("NULL", "5"), ("?", "5")], bufs
