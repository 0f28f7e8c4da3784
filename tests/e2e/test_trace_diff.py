"""Differential test of `gosnoop trace` (issue 13): random Go signatures
built by every toolchain at hand, optimized and -gcflags=all=-N -l, plain
and stripped; every value printed must be the value the program passed, or
an explicit unknown. See tests/difftrace/ (gen.py, compare.py, run.py).

One test per Go release; a toolchain that is not there (fetch it with
scripts/fetch-go-toolchains.sh) is a SKIP. A fixed small seed set here;
`make check-trace-seeds N=...` sweeps more.
"""
import copy
import json
import os
import sys
import tempfile

import gstest

sys.path.insert(0, os.path.join(gstest.ROOT, "tests", "difftrace"))
import compare  # noqa: E402
import gen  # noqa: E402
import run as difftrace  # noqa: E402

# seed 3 with 16 functions exercises every kind of function and value
# (gen.coverage; asserted below, so a change of the generator that loses
# one fails here instead of testing less)
SEEDS = [3]
NFUNCS = 16
RELEASES = ["1.15", "1.19", "1.21", "1.22", "1.23", "1.24"]

_have = None


def _toolchains():
    global _have
    if _have is None:
        _have = difftrace.toolchains()
    return _have


def _needs_root():
    if os.geteuid() != 0:
        raise gstest.Skip("needs root (uprobes)")
    if not os.access(gstest.GOSNOOP, os.X_OK):
        raise gstest.Skip(f"no gosnoop at {gstest.GOSNOOP}")


def _run_release(ver):
    _needs_root()
    have = _toolchains()
    if ver not in have:
        raise gstest.Skip(f"go{ver} not available (scripts/fetch-go-toolchains.sh)")
    os.environ.setdefault("GOSNOOP", gstest.GOSNOOP)
    missing = set()
    for i, seed in enumerate(SEEDS):
        m = gen.coverage(gen.generate(seed, gen.parse_version(ver), NFUNCS))
        missing = m if i == 0 else missing & m
    assert not missing, f"seeds {SEEDS} no longer exercise {sorted(missing)}: choose others"
    results = []
    for seed in SEEDS:
        results += difftrace.one(ver, have[ver], seed, NFUNCS, jobs=2)
    txt, tot = difftrace.format_table(difftrace.table(results))
    print("\n".join("     " + line for line in txt.splitlines()), flush=True)
    errs = ["%s seed %d: %s" % (r["variant"], r["seed"], e) for r in results for e in r["errors"]]
    wr = difftrace.wrong_report(results, per_group=2)
    assert not errs, "runs failed:\n" + "\n".join(errs[:10])
    assert tot["wrong"] == 0, "%d of %d values wrong:\n%s" % (tot["wrong"], tot["values"], wr)
    assert tot["right"] > tot["values"] // 2, "fewer than half the values right"


def _make(ver):
    def t():
        _run_release(ver)
    t.__name__ = "test_trace_diff_go" + ver.replace(".", "_")
    return t


for _v in RELEASES:
    globals()["test_trace_diff_go" + _v.replace(".", "_")] = _make(_v)


def _mutants(p, cut=False):
    """Copies of the JSON value p with one leaf changed to another
    plausible value (a wrong one). cut: the value is marked truncated, so
    a shorter prefix of a string or of slice elements stays honest."""
    if isinstance(p, bool):
        yield not p
    elif isinstance(p, int):
        yield p + 1
        yield p ^ (1 << 40)
    elif isinstance(p, float):
        yield p * (1 + 2 ** -20) + (1e-30 if p == 0 else 0.0)
    elif isinstance(p, str):
        h = compare.hexval(p)
        if h is not None:
            yield hex(h + 8)
        elif p != "?":
            yield p + "x"
            if p and not cut:
                yield p[:-1]
    elif isinstance(p, list):
        for i, e in enumerate(p):
            for m in _mutants(e, cut):
                q = list(p)
                q[i] = m
                yield q
    elif isinstance(p, dict):
        for k, e in p.items():
            for m in _mutants(e, cut):
                q = dict(p)
                q[k] = m
                yield q
    elif p is None:
        yield "0x1000"


def test_trace_diff_comparator_catches_wrong_values():
    """The comparator is exact: every right value, changed in any one part
    (a number +1, a bit, a string one byte longer or shorter, an address +8,
    a bool flipped), must compare wrong, never right or unknown."""
    _needs_root()
    have = _toolchains()
    ver = "1.19" if "1.19" in have else (sorted(have)[0] if have else None)
    if ver is None:
        raise gstest.Skip("no Go toolchain")
    d = tempfile.mkdtemp(prefix="difftrace-mut-")
    prog = gen.generate(1, gen.parse_version(ver), NFUNCS)
    with open(os.path.join(d, "main.go"), "w") as f:
        f.write(prog.source)
    exe, truth, out = (os.path.join(d, n) for n in ("prog", "truth.txt", "trace.json"))
    difftrace.build(have[ver], ver, d, exe, False, False)
    rc, err = difftrace.trace(exe, truth, out)
    assert rc == 0, err
    recs = [json.loads(line) for line in open(out) if line.startswith("{")]
    base = compare.compare(prog, truth, out)
    status = {(v["call"], v["slot"]): v["status"] for v in base["values"]}
    # record -> call key: the n-th record of a function is its n-th call
    keys = {}
    for name, c in compare.expected_calls(prog):
        keys.setdefault(name, []).append(c)
    order = sorted(range(len(recs)), key=lambda i: recs[i].get("ts_ns", 0))
    seen = {}
    checked = 0
    misses = []
    for i in order:
        rec = recs[i]
        fn = compare.base_name(rec.get("func", ""))
        n = seen.get(fn, 0)
        seen[fn] = n + 1
        if fn not in keys or n >= len(keys[fn]):
            continue
        c = keys[fn][n]
        for part in ("args", "ret"):
            obj = rec.get(part) or {}
            for j, (name, val) in enumerate(list(obj.items())):
                slot = name
                if part == "ret" and name.startswith("~r"):
                    slot = "~r%d" % j
                if status.get((c.key, slot)) != "right":
                    continue
                for m in _mutants(val, name in (rec.get("truncated") or [])):
                    recs2 = copy.deepcopy(recs)
                    recs2[i][part][name] = m
                    mout = out + ".mut"
                    with open(mout, "w") as f:
                        f.write("\n".join(json.dumps(r) for r in recs2) + "\n")
                    res = compare.compare(prog, truth, mout)
                    st = {(v["call"], v["slot"]): v["status"] for v in res["values"]}
                    checked += 1
                    if st.get((c.key, slot)) != "wrong":
                        misses.append("%s %s %s: %s -> %s: %s" % (rec["func"], part, name,
                                                                  json.dumps(val)[:60],
                                                                  json.dumps(m)[:60],
                                                                  st.get((c.key, slot))))
        if checked > 600:
            break
    missed = len(misses)
    print(f"     {checked} mutations, {missed} not caught", flush=True)
    assert checked > 50, "too few mutations tried"
    assert not misses, "mutations the comparator missed:\n" + "\n".join(misses[:10])


# syscall.openat(dirfd int, path string, flags int, mode uint32) (fd int, err error)
# as esbuild reads its input and writes its output: values known in advance.
AT_FDCWD = -100
O_READ = 0o2000000                                 # O_RDONLY|O_CLOEXEC
O_WRITE = 0o2000000 | 0o1 | 0o100 | 0o1000         # |O_WRONLY|O_CREAT|O_TRUNC


def _openat_values(rec):
    """(dirfd, path, flags, mode, fd, err_is_nil) from a typed or raw record;
    raw words by the ABI (ABI0: one frame of args then results; register
    ABI: RAX RBX RCX RDI RSI, results RAX RBX)."""
    if "args" in rec:
        a, r = rec["args"], rec.get("ret") or {}
        return (a.get("dirfd"), a.get("path"), a.get("flags"), a.get("mode"), r.get("fd"),
                r.get("err", "?") is None)
    w, rw = rec.get("raw_args") or [], rec.get("raw_ret") or []
    path = (rec.get("out") or {}).get("string(arg1)")
    s64 = lambda x: x - (1 << 64) if isinstance(x, int) and x >= 1 << 63 else x  # noqa: E731
    u32 = lambda x: x & 0xffffffff if isinstance(x, int) else x  # noqa: E731
    if len(w) >= 8 and len(rw) >= 8:      # ABI0: fd at word 5, err at 6-7
        errnil = None if None in rw[6:8] else rw[6] == 0 and rw[7] == 0
        return (s64(w[0]), path, w[3], u32(w[4]), s64(rw[5]), errnil)
    if len(w) >= 5 and len(rw) >= 2:
        return (s64(w[0]), path, w[3], u32(w[4]), s64(rw[0]), None)
    return None


def _unknown(x):
    """An explicit unknown: null raw word, "?" typed value."""
    return x is None or x == "?"


def test_trace_diff_corpus_openat():
    """Every corpus esbuild (go1.13 ... go1.26; stripped or not, ABI0 or
    register ABI) compiling a file: syscall.openat's arguments and results
    for the input and the output file are the values Go's os package
    passes (AT_FDCWD, the path, O_RDONLY|O_CLOEXEC or
    O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0 or 0644/0666), fd >= 0."""
    _needs_root()
    rows = gstest.corpus_manifest()
    d = gstest.tmpdir()
    src, out = os.path.join(d, "in.js"), os.path.join(d, "out.js")
    with open(src, "w") as f:
        f.write("let difftraceMarker = 42; console.log(difftraceMarker)\n")
    checked, skipped, bad, unknown = [], [], [], []
    for row in rows:
        if not os.path.exists(row["path"]):
            skipped.append(row["name"])
            continue
        if os.path.exists(out):
            os.unlink(out)
        r = gstest.run(["--json", "trace", "syscall.openat", "-o", "string(arg1)", "--",
                        row["path"], src, "--outfile=" + out], check=False, timeout=60, cwd=d)
        recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type":"call"')]
        if not recs:
            r = gstest.run(["--json", "trace", "syscall.openat", "--", row["path"], src,
                            "--outfile=" + out], check=False, timeout=60, cwd=d)
            recs = [json.loads(l) for l in r.stdout.splitlines()
                    if l.startswith('{"type":"call"')]
        vals = [v for v in (_openat_values(x) for x in recs) if v]
        mine = {src: O_READ, out: O_WRITE}
        seen = set()
        for dirfd, path, flags, mode, fd, errnil in vals:
            if path not in mine:
                continue
            seen.add(path)
            want_modes = (0,) if path == src else (0o644, 0o666)
            problems = []
            for name, val, ok in (("dirfd", dirfd, lambda x: x == AT_FDCWD),
                                  ("flags", flags, lambda x: x == mine[path]),
                                  ("mode", mode, lambda x: x in want_modes),
                                  ("fd", fd, lambda x: isinstance(x, int) and x >= 0)):
                if _unknown(val):
                    unknown.append(f"{row['name']} {os.path.basename(path)} {name}")
                elif not ok(val):
                    problems.append(f"{name} {val!r}")
            if errnil is False:
                problems.append("err not nil")
            if problems:
                bad.append(f"{row['name']} {path}: " + ", ".join(problems))
        if src not in seen:
            bad.append(f"{row['name']}: no syscall.openat of {src} among {len(recs)} calls "
                       f"(exit {r.returncode}: {r.stderr.strip()[-200:]})")
        checked.append(f"{row['name']}({len(seen)})")
    print(f"     openat checked in {len(checked)}: {' '.join(checked)}", flush=True)
    if skipped:
        print(f"     SKIP corpus binaries missing: {' '.join(skipped)}", flush=True)
    if unknown:
        print(f"     unknown (null/?): {len(unknown)}: {', '.join(unknown[:12])}", flush=True)
    if not checked:
        raise gstest.Skip("no corpus binary present (scripts/fetch-go-corpus.sh)")
    assert not bad, "\n".join(bad)
