"""gosnoop ktrace expressions, end to end: casts and string constants
longer than 31 bytes, against what the test's own process did (the path
it opened, the flags it passed)."""
import ctypes
import os
import subprocess
import sys

import gstest
from gstest import tmpdir
from test_ktrace import finish, start_ktrace

OPENER = r"""
import os, sys
sys.stdin.readline()
for p in sys.argv[2:]:
    try:
        os.close(os.open(p, int(sys.argv[1])))
    except OSError:
        pass
print("done", flush=True)
"""


def test_long_string_constant_and_casts_on_openat():
    """Two paths that differ only at byte 90: a filter on the whole of one
    (a 100-byte constant) must pass it and not the other. The flags
    O_EXCL|O_NONBLOCK|O_CLOEXEC (0x80880): (u16) keeps 0x0880, (s8) makes
    0x80 -128, (u32) changes nothing; ((char *)filename) reads the path
    through a cast pointer."""
    d = tmpdir()
    base = os.path.join(d, "k" * (100 - len(d) - 1))
    assert len(base) == 100
    other = base[:89] + "j" + base[90:]
    for p in (base, other):
        open(p, "w").close()
    flags = os.O_RDONLY | os.O_EXCL | os.O_NONBLOCK | os.O_CLOEXEC
    py = subprocess.Popen([sys.executable, "-c", OPENER, str(flags), other, base, other],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    gstest._procs.append(py)
    kt = start_ktrace(["-p", str(py.pid), "tracepoint:syscalls:sys_enter_openat",
                       "-f", f'filename == "{base}"', "-o", "filename",
                       "-o", "(u16)flags", "-o", "(s8)flags", "-o", "(u32)flags",
                       "-o", "(char *)filename"])
    py.stdin.write("go\n")
    py.stdin.flush()
    assert py.stdout.readline().strip() == "done"
    py.wait(timeout=10)
    events, err = finish(kt)
    assert len(events) == 1, (events, err)
    a = events[0]["args"]
    assert a["filename"] == base
    assert a["(u16)flags"] == ctypes.c_uint16(flags).value == 0x0880, a
    assert a["(s8)flags"] == ctypes.c_int8(flags).value == -128, a
    assert a["(u32)flags"] == flags
    assert a["(char *)filename"] == base
