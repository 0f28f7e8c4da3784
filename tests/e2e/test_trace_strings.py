"""gosnoop trace's JSON of Go strings and []byte that are not UTF-8: every
line is strict UTF-8 JSON, and the values decode (surrogateescape) to the
exact bytes the program printed itself, in hex."""
import json
import os
import shutil
import subprocess

import gstest
from gstest import GOSNOOP

UTF8_PROG = r'''package main

import "fmt"

//go:noinline
func f(s string, b []byte) int { return len(s) + len(b) }

func main() {
	s := "bad\xff\xfe \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \x00\x1b \u00e9 \U0001F600 cut\xe2\x82"
	b := []byte{0, 1, 0xff, '"', '\\', 0xc3, 0xa9, 0xe2}
	f(s, b)
	fmt.Printf("hex %x %x\n", s, b)
}
'''


def test_trace_json_strings_that_are_not_utf8_round_trip():
    if not shutil.which("go"):
        raise gstest.Skip("no go toolchain to build the program")
    d = gstest.tmpdir()
    with open(os.path.join(d, "main.go"), "w") as f:
        f.write(UTF8_PROG)
    with open(os.path.join(d, "go.mod"), "w") as f:
        f.write("module utf8prog\n\ngo 1.19\n")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    exe = os.path.join(d, "utf8prog")
    subprocess.run(["go", "build", "-o", exe, "."], cwd=d, env=env, check=True,
                   capture_output=True, timeout=300)
    r = subprocess.run([GOSNOOP, "--json", "trace", "main.f", "--", exe], capture_output=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    hexes = [l.split()[1:] for l in lines if l.startswith(b"hex ")]
    assert len(hexes) == 1, r.stdout
    want_s, want_b = (bytes.fromhex(h.decode()) for h in hexes[0])
    calls = [json.loads(l.decode("utf-8")) for l in lines if l.startswith(b"{")]
    calls = [c for c in calls if c.get("type") == "call"]
    assert len(calls) == 1, calls
    a = calls[0]["args"]
    assert a["s"].encode("utf-8", "surrogateescape") == want_s, (a["s"], want_s)
    assert a["b"]["data"].encode("utf-8", "surrogateescape") == want_b, (a["b"], want_b)
    assert calls[0]["ret"]["~r0"] == len(want_s) + len(want_b)
