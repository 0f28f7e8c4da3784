"""trace where DWARF's parameter list is not the signature the machine code
sees, on every Go toolchain at hand (scripts/fetch-go-toolchains.sh; a
missing one is a SKIP):
- blank parameters `_`: left out of DWARF before go1.22, which names them
  ~p0; with a uint8 blank before an int32 the frame keeps its size, so only
  DWARF's own locations tell (src/trace/trace_plan.c assign_frame);
- generic instances: the dictionary argument DWARF lists only in -N -l
  builds, put back first, or after a method's receiver; never in a
  closure of an instance, which reaches it through its context;
- go1.18/1.19 name every instance "F[...]" in pclntab: DWARF by address.
Each value printed must be the one the program passed (it prints them),
or "?" with a reason in "unknown" -- never the neighbour's value.
"""
import json
import os
import subprocess
import sys
import tempfile

import gstest

sys.path.insert(0, os.path.join(gstest.ROOT, "tests", "difftrace"))
import run as difftrace  # noqa: E402

SRC = r'''package main

import (
	"fmt"
	"os"
)

//go:noinline
func sub(_ uint8, b int32) int32 { return b * 2 }

//go:noinline
func blank(_ int, b string, c int64) (int64, string) { return c + 1, b + "!" }

type Box struct{ n int }

//go:noinline
func (x *Box) meth(_ int16, k int32) int32 { return k + int32(x.n) }

func main() {
	fmt.Fprintln(os.Stderr, sub(7, 21))
	r1, r2 := blank(1, "hi", 41)
	fmt.Fprintln(os.Stderr, r1, r2)
	fmt.Fprintln(os.Stderr, (&Box{n: 5}).meth(-3, 9))
	generics()
}
'''

GENERIC = r'''package main

import (
	"fmt"
	"os"
)

type Num interface{ ~int | ~int32 | ~uint8 }

//go:noinline
func Sum[T Num](a, b T, s string) (T, string) { return a + b, s + "!" }

type Pair[K comparable, V any] struct {
	k K
	v V
	n int
}

//go:noinline
func (p *Pair[K, V]) Add(k int, s string) int { p.n += k; return p.n + len(s) }

//go:noinline
func (p Pair[K, V]) Get(k int) (V, int) { return p.v, p.n + k }

//go:noinline
func Apply[T any](xs []T, k int) int {
	f := func(a int, s string) int { return a + len(s) + k + len(xs) }
	return call(f)
}

//go:noinline
func call(f func(int, string) int) int { return f(7, "abc") }

func generics() {
	fmt.Fprintln(os.Stderr, Apply([]string{"x"}, 2), Apply([]int{1, 2}, 3))
	a, b := Sum(1, 2, "x")
	c, d := Sum[uint8](3, 4, "y")
	p := &Pair[string, [3]int64]{k: "a", v: [3]int64{1, 2, 3}, n: 5}
	e := p.Add(3, "abc")
	f, g := p.Get(11)
	fmt.Fprintln(os.Stderr, a, b, c, d, e, f, g)
}
'''

NOGENERIC = "package main\n\nfunc generics() {}\n"

# func -> [(args, results)] the program passes and returns, in call order
TRUTH = {
    "main.sub": [({"b": 21}, [42])],
    "main.blank": [({"b": "hi", "c": 41}, [42, "hi!"])],
    "main.(*Box).meth": [({"k": 9}, [14])],
}
GENERIC_TRUTH = {
    "Sum": [({"a": 1, "b": 2, "s": "x"}, [3, "x!"]),
            ({"a": 3, "b": 4, "s": "y"}, [7, "y!"])],
    "Add": [({"k": 3, "s": "abc"}, [11])],
    "Get": [({"k": 11}, [[1, 2, 3], 19])],
    # a closure of an instance reaches the dictionary through its context
    "Apply": [({"k": 2}, [13]), ({"k": 3}, [15])],
    "func1": [({"a": 7, "s": "abc"}, [13]), ({"a": 7, "s": "abc"}, [15])],
}


def check(rec, want_args, want_ret, where):
    """Every value right or "?" with a reason; returns how many right."""
    unknown = rec.get("unknown", {})
    right = 0
    for name, want in want_args.items():
        got = rec["args"].get(name)
        if got == "?":
            assert unknown.get(name), f"{where}: {name} is ? without a reason: {rec}"
        else:
            assert got == want, f"{where}: {name} = {got!r}, the program passed {want!r}: {rec}"
            right += 1
    rets = [v for k, v in rec["ret"].items()]
    assert len(rets) == len(want_ret), f"{where}: results {rec['ret']}"
    for (name, got), want in zip(rec["ret"].items(), want_ret):
        if got == "?":
            assert unknown.get(name), f"{where}: {name} is ? without a reason: {rec}"
        else:
            assert got == want, f"{where}: {name} = {got!r}, returned {want!r}: {rec}"
            right += 1
    return right


def base(func):
    """main.Sum[go.shape.int] / main.Sum[...]@0x.. -> Sum;
    main.(*Pair[go.shape.string,...]).Add -> Add"""
    name = func.split("@")[0]
    if name.endswith("]"):
        return name[len("main."):name.index("[")]
    return name.rsplit(".", 1)[1]


def run_one(ver, goroot):
    d = tempfile.mkdtemp(prefix=f"gosnoop-abiedge-{ver}-")
    minor = int(ver.split(".")[1])
    with open(os.path.join(d, "main.go"), "w") as f:
        f.write(SRC)
    with open(os.path.join(d, "gen.go"), "w") as f:
        f.write(GENERIC if minor >= 18 else NOGENERIC)
    right = 0
    for noopt in (False, True):
        exe = os.path.join(d, "prog-noopt" if noopt else "prog")
        args = [os.path.join(goroot, "bin", "go"), "build", "-o", exe]
        if noopt:
            args.append("-gcflags=all=-N -l")
        r = subprocess.run(args + ["main.go", "gen.go"], cwd=d, capture_output=True,
                           text=True, env=difftrace.go_env(goroot, ver), timeout=600)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([gstest.GOSNOOP, "--json", "trace", "main.sub", "main.blank",
                            "main.(*Box).meth", "main.Sum*", "main.*Pair*", "main.Apply*",
                            "--", exe],
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        recs = [json.loads(x) for x in r.stdout.splitlines() if x.startswith('{"type"')]
        calls = [x for x in recs if x["type"] == "call"]
        where = f"go{ver}{' -N -l' if noopt else ''}"
        for func, want in TRUTH.items():
            got = [x for x in calls if x["func"] == func]
            assert len(got) == len(want), f"{where}: {func}: {len(got)} calls"
            for rec, (a, res) in zip(got, want):
                right += check(rec, a, res, f"{where} {func}")
        if minor < 18:
            continue
        for name, want in GENERIC_TRUTH.items():
            got = [x for x in calls if base(x["func"]) == name]
            assert len(got) == len(want), f"{where}: {name}: {[x['func'] for x in calls]}"
            for rec, (a, res) in zip(got, want):
                n = check(rec, a, res, f"{where} {rec['func']}")
                # instances are typed from DWARF: every integer and
                # string here must be shown, not only not wrong
                assert n == len(a) + len(res), f"{where}: {rec}"
                right += n
    return right


def test_blank_parameters_and_generic_dictionaries():
    if os.geteuid() != 0:
        raise gstest.Skip("needs root (uprobes)")
    have = difftrace.toolchains()
    missing = [v for v in ("1.15", "1.19", "1.21", "1.22", "1.24") if v not in have]
    total = 0
    for ver, goroot in sorted(have.items(), key=lambda kv: int(kv[0].split(".")[1])):
        total += run_one(ver, goroot)
    assert total > 0
    if missing:
        raise gstest.Skip(f"checked {sorted(have)}; go{', go'.join(missing)} not "
                          "available (scripts/fetch-go-toolchains.sh)")
