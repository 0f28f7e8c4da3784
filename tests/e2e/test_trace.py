"""gosnoop trace against tests/fixtures/args, a program whose traced
functions print what they got and returned (one JSON line per call:
{"f":…,"goid":…,"args":{…},"ret":{…}}, goid from runtime.Stack's header).
Every value gosnoop decodes is compared with the program's own view."""
import json
import os
import re
import subprocess
import time

import gstest
from gstest import GOSNOOP, fixture, run

USAGE, NOKERNEL = 2, 3
FUNCS = ["main.add", "main.greet", "main.mixed", "main.many", "main.swap",
         "main.total", "main.check", "main.norm", "main.fib", "main.nap"]
U64 = 1 << 64


def trace(binary, probes, *prog_args, extra=(), json_mode=True):
    cmd = [GOSNOOP] + (["--json"] if json_mode else []) + ["trace"] + list(extra) + \
        list(probes) + ["--", fixture(binary)] + list(prog_args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def split(stdout):
    """(program's call lines, gosnoop records)"""
    prog, recs = [], []
    for line in stdout.splitlines():
        if line.startswith('{"type"'):
            recs.append(json.loads(line))
        elif line.startswith('{"args"'):
            prog.append(json.loads(line))
    return prog, recs


def normalize(f, args, ret):
    """The program's view and gosnoop's, in one comparable form."""
    if f == "main.norm":
        args = {"p": int(args["p"], 16)}
    if f == "main.check":
        if "~r0_nil" in ret:
            ret = {"nil": ret["~r0_nil"]}
        else:
            ret = {"nil": ret["~r0"] is None}
    return json.dumps(args, sort_keys=True), json.dumps(ret, sort_keys=True)


def test_trace_values_equal_what_the_program_printed():
    r = trace("args", FUNCS)
    assert r.returncode == 0, r.stderr
    prog, recs = split(r.stdout)
    prog = [p for p in prog if p["f"] in FUNCS]
    calls = [x for x in recs if x["type"] == "call"]
    assert len(prog) >= 35, r.stdout[-500:]
    want = sorted((p["f"], p["goid"]) + normalize(p["f"], p["args"], p["ret"]) for p in prog)
    got = sorted((x["func"], x["goid"]) + normalize(x["func"], x["args"], x["ret"]) for x in calls)
    assert got == want
    # the pieces the brief names, spelled out
    assert ("main.greet", 1, '{"name": "gopher", "times": 2}',
            '{"~r0": "hello gopher hello gopher "}') in got
    assert ("main.add", 1, '{"a": 3, "b": 4}', '{"~r0": 7}') in got
    # several goroutines, each with the id the program saw
    assert len({x["goid"] for x in calls if x["func"] == "main.add"}) == 4
    for x in calls:
        assert x["dur_ns"] > 0 and x["pid"] > 0 and x["tid"] > 0
        assert list(x["args"]) == list(next(
            p for p in prog if p["f"] == x["func"])["args"]) or x["func"] in (
            "main.mixed", "main.many")  # program's map order is sorted
    nap = [x for x in calls if x["func"] == "main.nap"]
    assert len(nap) == 1 and 20e6 <= nap[0]["dur_ns"] < 2e9


def test_trace_declaration_order_of_arguments():
    r = trace("args", ["main.many", "main.mixed"])
    _, recs = split(r.stdout)
    many = next(x for x in recs if x["func"] == "main.many")
    assert list(many["args"]) == [f"a{i}" for i in range(1, 12)]
    mixed = next(x for x in recs if x["func"] == "main.mixed")
    assert list(mixed["args"]) == list("abcdefgh") + ["ok"]


def test_trace_floats_in_x_registers_are_unknown():
    # register ABI: floats travel in X0-X14, which uprobes' pt_regs lacks
    r = trace("args", ["main.scale"])
    _, recs = split(r.stdout)
    assert recs[0]["args"] == {"f": "?", "n": 3} and recs[0]["ret"] == {"~r0": "?"}


def test_trace_error_result_not_nil_is_an_interface():
    r = trace("args", ["main.check"])
    _, recs = split(r.stdout)
    rets = [x["ret"]["~r0"] for x in recs]
    assert rets[0] is None
    # errors.New returns a *errors.errorString; the itab's .symtab name
    # ("go.itab.*errors.errorString,error") names the dynamic type
    assert rets[1]["type"] == "*errors.errorString" and int(rets[1]["data"], 16) > 0


def test_trace_stripped_gives_the_same_raw_words():
    r = trace("args-stripped", ["main.add", "main.many", "main.greet", "main.fib"])
    assert r.returncode == 0, r.stderr
    prog, recs = split(r.stdout)
    calls = [x for x in recs if x["type"] == "call"]
    assert calls and all("raw_args" in x and "args" not in x for x in calls)
    by_func = {}
    for x in calls:
        by_func.setdefault(x["func"], []).append(x)
    want_add = sorted(((p["args"]["a"] % U64, p["args"]["b"] % U64), p["ret"]["~r0"] % U64)
                      for p in prog if p["f"] == "main.add")
    got_add = sorted((tuple(x["raw_args"]), x["raw_ret"][0]) for x in by_func["main.add"])
    assert got_add == want_add
    many = by_func["main.many"][0]
    assert many["raw_args"] == list(range(1, 12)) and many["raw_ret"][0] == 66
    # greet(name string, times int): RAX ptr, RBX len, RCX times; the
    # result string is RAX ptr, RBX len
    for x, p in zip(by_func["main.greet"], [p for p in prog if p["f"] == "main.greet"]):
        assert x["raw_args"][1:] == [len(p["args"]["name"]), p["args"]["times"]]
        assert x["raw_ret"][1] == len(p["ret"]["~r0"])
    assert sorted(x["raw_args"][0] for x in by_func["main.fib"]) == \
        sorted(p["args"]["n"] for p in prog if p["f"] == "main.fib")


def test_trace_stripped_sub_word_arguments_and_result_count():
    # mixed(a int8, b int16, c int32, d int64, e uint8, f uint16, g uint32,
    # h uint64, ok bool): 9 registers, but args size is 41 bytes (small
    # arguments share spill words): args-size/8 showed 5 words, the
    # sub-word ones with their registers' stale upper bytes (int8 -8 as
    # 0xfffffff8). The morestack path's spill stores give each register's
    # width: all 9, each its own bytes zero-extended.
    r = trace("args-stripped", ["main.mixed", "main.add"], "check",
              extra=["--filter", "arg0 == -8 || arg1 == 1"])
    assert r.returncode == 0, r.stderr
    prog, recs = split(r.stdout)
    (p,) = [p for p in prog if p["f"] == "main.mixed"]
    sizes = {"a": 1, "b": 2, "c": 4, "d": 8, "e": 1, "f": 2, "g": 4, "h": 8, "ok": 1}
    want = [(int(p["args"][k]) if k != "ok" else int(p["args"][k])) % (1 << (8 * n))
            for k, n in sizes.items()]
    mixed = [x for x in recs if x["func"] == "main.mixed"]
    # the filter compares arg0's one byte: -8 and 0xf8 alike
    assert len(mixed) == 1 and mixed[0]["raw_args"] == want, (mixed, want)
    assert [x["raw_args"] for x in recs if x["func"] == "main.add"] == [[100, 1]]
    # the result count is not in a stripped register-ABI binary: RAX and
    # RBX are shown, and said to be registers, results or not
    for x in recs:
        assert len(x["raw_ret"]) == 2 and "result count" in x["unknown"]["raw_ret"], x


def test_trace_recursion_pairs_each_level():
    r = trace("args", ["main.fib"])
    prog, recs = split(r.stdout)
    prog = [p for p in prog if p["f"] == "main.fib"]
    calls = [x for x in recs if x["type"] == "call"]
    # fib(6) makes 25 calls
    assert len(calls) == len(prog) == 25
    assert sorted((x["args"]["n"], x["ret"]["~r0"]) for x in calls) == \
        sorted((p["args"]["n"], p["ret"]["~r0"]) for p in prog)
    # each call's interval holds its callees': fib(6) holds all
    top = next(x for x in calls if x["args"]["n"] == 6)
    for x in calls:
        assert top["ts_ns"] <= x["ts_ns"]
        assert x["ts_ns"] + x["dur_ns"] <= top["ts_ns"] + top["dur_ns"]
    # fib(n) returns after its two callees: records come out inner first
    assert calls[-1] is top


def test_trace_output_of_the_program_is_unchanged():
    path = fixture("args")
    base = subprocess.run([path], capture_output=True, text=True, timeout=60)
    r = trace("args", FUNCS)

    def norm(text):
        lines = [l for l in text.splitlines() if not l.startswith('{"type"')]
        # heap addresses and the ids of new goroutines (the runtime
        # hands them out in per-P batches) vary from run to run
        return sorted(re.sub(r'"goid":\d+', "", re.sub(r"0x[0-9a-f]+", "0x", l))
                      for l in lines)
    assert r.returncode == base.returncode == 0
    assert norm(r.stdout) == norm(base.stdout)


def test_trace_call_running_at_exit():
    r = trace("args", ["main.nap"], "hang")
    assert r.returncode == 0, r.stderr
    _, recs = split(r.stdout)
    running = [x for x in recs if x["type"] == "running"]
    assert len(running) == 1 and running[0]["args"] == {"ms": 100000}
    assert "ret" not in running[0] and "dur_ns" not in running[0]
    assert [x["args"] for x in recs if x["type"] == "call"] == [{"ms": 20}]


def test_trace_calls_show_while_the_program_runs():
    """Ten calls of main.classify, far below the batched-wakeup threshold,
    are printed while the program still runs (-hold keeps it alive after
    its work), not only when gosnoop ends."""
    p = subprocess.Popen([fixture("calls"), "-wait", "-hold"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    gstest._procs.append(p)
    assert p.stdout.readline().strip() == "ready"
    g = subprocess.Popen([GOSNOOP, "--json", "trace", "-v", "-p", str(p.pid),
                          "main.classify"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(g)
    gstest.wait_for(g.stderr, r"attached \d+ sites")
    p.stdin.write("go\n")
    p.stdin.flush()
    own = json.loads(gstest.wait_for(p.stdout, r"^\{")[-1])["counts"]["main.classify"]
    t0 = time.monotonic()
    calls = gstest.json_records_until(
        g.stdout, lambda r: r["type"] == "call" and r["func"] == "main.classify", own)
    assert len(calls) == own == 10, (len(calls), own)
    assert p.poll() is None and g.poll() is None, "shown only after the program ended"
    assert time.monotonic() - t0 < 2
    # classify's own arguments, in the program's order
    assert [c["args"]["x"] for c in calls] == [-5, 0, 2, 3, 1001, 4, 7, -1, 0, 9]
    p.stdin.write("bye\n")
    p.stdin.close()
    p.wait(timeout=30)
    g.wait(timeout=30)
    assert g.returncode == 0


def test_trace_text_lines():
    r = trace("args", ["main.greet", "main.swap", "main.total"], json_mode=False)
    assert r.returncode == 0, r.stderr
    assert re.search(r'^\d\d:\d\d:\d\d\.\d{6} \d+/\d+ g1 main\.greet\(name="gopher", times=2\) = '
                     r'"hello gopher hello gopher " \d', r.stdout, re.M), r.stdout
    assert 'main.swap(p={X:1, Y:-2}) = {X:-2, Y:1}' in r.stdout
    assert 'main.total(s=[]uint8{len:6 cap:6 "ababab"}) = 585' in r.stdout


def test_trace_max_string_min_latency_goid():
    r = trace("args", ["main.greet"], extra=["--max-string", "3"])
    _, recs = split(r.stdout)
    assert recs[0]["args"]["name"] == "gop" and recs[0]["ret"]["~r0"] == "hel"
    r = trace("args", ["main.nap", "main.add"], extra=["--min-latency", "10ms"])
    _, recs = split(r.stdout)
    assert [x["func"] for x in recs] == ["main.nap"]
    r = trace("args", ["main.add"], extra=["--goid", "1"])
    prog, recs = split(r.stdout)
    assert len(recs) == 2 and all(x["goid"] == 1 for x in recs)
    assert len([p for p in prog if p["f"] == "main.add"]) == 5


def one_line_error(args, code, *words):
    r = run(args, check=False)
    assert r.returncode == code, (args, r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_trace_errors():
    path = fixture("args")
    one_line_error(["trace", path, "nosuch.*"], USAGE, "nosuch.*")
    one_line_error(["trace", "-p", "999999", "main.add"], USAGE, "999999")
    one_line_error(["trace", path], USAGE, "PROBE")
    one_line_error(["trace", "--min-latency", "5", path, "main.add"], USAGE, "--min-latency")
    one_line_error(["trace", "--set", "a=1", path, "main.add"], USAGE, "--allow-write")
    # this machine runs under kernel lockdown: the helper that writes an
    # argument on the stack (main.many's a10: past the 9 registers) is
    # withheld; one in a register needs a kernel that lets uprobe programs
    # write registers (test_trace_set.py has both ways, on any kernel)
    one_line_error(["trace", "--set", "a10=1", "--allow-write", path, "main.many"], NOKERNEL,
                   "bpf_probe_write_user", "lockdown")


def test_trace_filter_on_arguments_in_the_kernel():
    r = trace("args", ["main.fib", "main.add"], extra=["--filter", "n >= 4"])
    prog, recs = split(r.stdout)
    # main.add has no n: none of its calls pass
    assert sorted(x["args"]["n"] for x in recs) == \
        sorted(p["args"]["n"] for p in prog if p["f"] == "main.fib" and p["args"]["n"] >= 4)
    assert all(x["func"] == "main.fib" for x in recs)
    # int8 compared signed: mixed(a=-8) passes, add(-5, …) too, add(3, 4) not
    r = trace("args", ["main.mixed", "main.add"], extra=["--filter", "a < 0"])
    _, recs = split(r.stdout)
    assert sorted((x["func"], x["args"]["a"]) for x in recs) == \
        [("main.add", -5), ("main.mixed", -8)]
    # stripped: ABI words by position
    r = trace("args-stripped", ["main.add"], extra=["--filter", "arg1 == 1"])
    _, recs = split(r.stdout)
    assert [x["raw_args"] for x in recs] == [[100, 1]]
    path = fixture("args")
    one_line_error(["trace", "--filter", "zz == 1", path, "main.add"], USAGE, "zz")
    one_line_error(["trace", "--filter", "p == 1", path, "main.swap"], USAGE, "not an integer")
    one_line_error(["trace", "--filter", "n ~ 1", path, "main.fib"], USAGE, "--filter")


def test_trace_filter_expressions_and_several_filters():
    # --filter takes && || ! ( ) true false, and several --filter options
    # all must hold (a second one used to replace the first silently).
    # Checked against the calls the program printed itself.
    def want(pred, funcs):
        prog = split(trace("args", funcs, "check").stdout)[0]
        return sorted(json.dumps([p["f"], p["args"]], sort_keys=True)
                      for p in prog if p["f"] in funcs and pred(p["f"], p["args"], p["goid"]))

    def got(funcs, *filters):
        extra = []
        for f in filters:
            extra += ["--filter", f]
        r = trace("args", funcs, "check", extra=extra)
        assert r.returncode == 0, r.stderr
        return sorted(json.dumps([x["func"], x["args"]], sort_keys=True)
                      for x in split(r.stdout)[1])

    add = ["main.add"]
    # two filters: both hold (a > 0 alone would let add(3, 4) through,
    # b != 4 alone add(-5, 1<<40))
    w = want(lambda f, a, g: a["a"] > 0 and a["b"] != 4, add)
    assert w and got(add, "a > 0", "b != 4") == w
    both = ["main.add", "main.greet"]
    e = '(a == 3 || b == 1) && !(a == 100 && b == 1) || name == "gopher"'
    # a function without an argument: that comparison is false for it
    w = want(lambda f, a, g: (f == "main.add" and (a["a"] == 3 or a["b"] == 1) and
                              not (a["a"] == 100 and a["b"] == 1)) or
             (f == "main.greet" and a["name"] == "gopher"), both)
    assert sorted(json.loads(x)[0] for x in w) == ["main.add", "main.greet"], w
    assert got(both, e) == w
    assert got(both, "true") == want(lambda f, a, g: True, both)
    assert got(both, "false") == []
    assert got(both, "!false && (true || false)", "true") == want(lambda f, a, g: True, both)
    # goid and pid as comparisons like any other
    w = want(lambda f, a, g: g != 1 and a["b"] >= 1, add)
    assert len(w) == 2 and got(add, "goid != 1 && b >= 1") == w
    assert got(add, "pid == 1 || !(goid > 1)") == want(lambda f, a, g: g <= 1, add)
    path = fixture("args")
    one_line_error(["trace", "--filter", "a==1||a==2||a==3||a==4||a==5||a==6||a==7",
                    path, "main.add"], USAGE, "more than 6")
    one_line_error(["trace", "--filter", "(a == 1", path, "main.add"], USAGE, "expected ')'")
    one_line_error(["trace", "--filter", "a == 1", "--filter", "zz == 2", path, "main.add"],
                   USAGE, "zz")


def test_trace_out_follows_pointers_to_strings_and_slices():
    # -o 'r.URL.RawQuery' on a real *net/http.Request (the deref fixture
    # calls its handler with httptest requests), slices and strings behind
    # one or two pointers, read in the kernel with bounded reads; each
    # value equal to what the program printed, a nil pointer unknown
    # ("?"), never a wrong value. Used to be refused ("behind a pointer").
    def calls(func, outs, *extra):
        args = list(extra)
        for o in outs:
            args += ["-o", o]
        r = trace("deref", [func], extra=args)
        assert r.returncode == 0, r.stderr
        prog = [json.loads(l) for l in r.stdout.splitlines()
                if l.startswith('{') and not l.startswith('{"type"')]
        recs = [x for x in split(r.stdout)[1] if x["func"] == func]
        prog = [p for p in prog if p["f"] == func]
        assert len(recs) == len(prog) > 0, (recs, prog)
        return list(zip(prog, recs))

    for p, x in calls("main.handle", ["r.URL.RawQuery", "r.URL.Path", "r.Method", "r.Host"]):
        o = x["out"]
        assert o == {"r.URL.RawQuery": p["RawQuery"], "r.URL.Path": p["Path"],
                     "r.Method": p["Method"], "r.Host": p["Host"]}, (p, o)
    seen_nil = False
    for p, x in calls("main.process", ["b.Name", "b.IDs", "b.Data", "b.N"], "--max-string", "256"):
        o = x["out"]
        if p.get("nil"):
            seen_nil = True
            assert o == {"b.Name": "?", "b.IDs": "?", "b.Data": "?", "b.N": "?"}, o
            continue
        assert o["b.Name"] == p["Name"] and o["b.N"] == p["N"], (p, o)
        ids = p["IDs"] or []
        assert o["b.IDs"]["len"] == len(ids), (p, o)
        assert o["b.IDs"]["data"] == (ids if ids else None), (p, o)
        data = o["b.Data"]
        assert data["len"] == data["cap"] == len(p["Data"]), (p, o)
        # at most the slot's bytes (256 minus the header) are read:
        # a prefix, and said to be cut
        assert p["Data"].startswith(data["data"]) and len(data["data"]) == min(len(p["Data"]), 232)
        if len(p["Data"]) > 232:
            assert "b.Data" in x.get("truncated", []), x
    assert seen_nil
    for p, x in calls("main.outer", ["o.In.Name", "o.In.IDs"]):
        assert x["out"] == {"o.In.Name": p["Name"],
                            "o.In.IDs": {"len": len(p["IDs"]), "cap": len(p["IDs"]),
                                         "data": p["IDs"]}}, (p, x)


def source_line(text):
    import os
    src = os.path.join(os.path.dirname(__file__), "..", "fixtures", "args", "main.go")
    with open(src) as f:
        for i, line in enumerate(f, 1):
            if line.strip() == text:
                return i
    raise AssertionError(f"{text!r} not in {src}")


def test_trace_stack_is_the_go_call_chain():
    r = trace("args", ["main.add", "main.fib"], extra=["--stack"])
    assert r.returncode == 0, r.stderr
    _, recs = split(r.stdout)
    first = next(x for x in recs if x["func"] == "main.add" and x["args"] == {"a": 3, "b": 4})
    st = first["stack"]
    assert [f["func"] for f in st] == ["main.main", "runtime.main", "runtime.goexit"]
    assert st[0]["line"] == source_line("add(3, 4)") and st[0]["file"].endswith("args/main.go")
    # in a goroutine: the closure, its go wrapper, goexit
    g = next(x for x in recs if x["func"] == "main.add" and x["args"]["a"] == 100)
    assert g["stack"][0]["func"] == "main.main.func1"
    assert g["stack"][0]["line"] == source_line("add(100, i)")
    # recursion: fib(n) sits under 6-n fib frames
    for x in recs:
        if x["func"] == "main.fib":
            frames = [f["func"] for f in x["stack"]]
            assert frames[-3:] == ["main.main", "runtime.main", "runtime.goexit"]
            assert frames.count("main.fib") <= 6 - x["args"]["n"]


def test_trace_folded_counts_calls_per_stack():
    out = os.path.join(gstest.tmpdir(), "fib.folded")
    r = trace("args", ["main.fib"], extra=["--folded", out])
    assert r.returncode == 0, r.stderr
    _, recs = split(r.stdout)
    assert recs == []     # --folded alone prints no calls

    # calls of fib(6) per recursion depth, from the recursion itself
    def depths(n, d, acc):
        acc[d] = acc.get(d, 0) + 1
        if n >= 2:
            depths(n - 1, d + 1, acc)
            depths(n - 2, d + 1, acc)
        return acc
    want = {"runtime.goexit;runtime.main;main.main;" + ";".join(["main.fib"] * (d + 1)): c
            for d, c in depths(6, 0, {}).items()}
    with open(out) as f:
        got = {l.rsplit(" ", 1)[0]: int(l.rsplit(" ", 1)[1]) for l in f if l.strip()}
    assert got == want


def esbuild_run(name, probes, extra=()):
    from gstest import corpus
    path = corpus(name)
    d = gstest.tmpdir()
    src = os.path.join(d, "in.js")
    with open(src, "w") as f:
        f.write("let x = 1 + 2\nconsole.log(x)\n")
    r = subprocess.run([GOSNOOP, "--json", "trace", "--max-string", "256"] + list(extra) +
                       list(probes) + ["--", path, src, "--outfile=" + os.path.join(d, "out.js")],
                       capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type"')]


def test_trace_esbuild_go113_abi0_dwarf_values_are_consistent():
    # stack ABI0 with DWARF: strings.Index(s, substr string) int, arguments
    # and the result in the frame above the return address
    recs = [x for x in esbuild_run("esbuild-0.0.9-go1.13.8", ["strings.Index"])
            if x["type"] == "call"]
    checked = 0
    for x in recs:
        s, sub = x["args"]["s"].encode(), x["args"]["substr"].encode()
        if len(s) < 256 and len(sub) < 256:
            assert x["ret"]["~r2"] == s.find(sub), x
            checked += 1
    assert checked >= 3, recs[:3]


def test_trace_esbuild_stripped_raw_words_are_consistent():
    # go1.16, stripped, ABI0: args size 40 = s (2 words) + substr (2) +
    # result (1); at the RET the frame still holds the arguments
    recs = [x for x in esbuild_run("esbuild-0.11.23-go1.16.3", ["strings.Index"])
            if x["type"] == "call"]
    assert recs
    for x in recs:
        a, r = x["raw_args"], x["raw_ret"]
        assert len(a) == len(r) == 5 and r[:4] == a[:4]
        assert r[4] == U64 - 1 or r[4] + a[3] <= a[1]
    # go1.17, stripped, register ABI: s in RAX RBX, substr in RCX RDI, the
    # result in RAX
    recs = [x for x in esbuild_run("esbuild-0.14.10-go1.17.5", ["strings.Index"])
            if x["type"] == "call"]
    assert recs
    for x in recs:
        a, r = x["raw_args"], x["raw_ret"]
        assert len(a) == 4
        assert r[0] == U64 - 1 or r[0] + a[3] <= a[1]


def test_trace_output_expressions_follow_pointers():
    # norm(p *Point) with p = &Point{3, 4}: p.X and p.Y read in the kernel
    r = trace("args", ["main.norm", "main.swap"], extra=["-o", "p.X", "-o", "p.Y"])
    assert r.returncode == 0, r.stderr
    _, recs = split(r.stdout)
    norm = next(x for x in recs if x["func"] == "main.norm")
    assert norm["out"] == {"p.X": 3, "p.Y": 4}
    # swap(p Point): the same path on a struct passed by value
    swap = next(x for x in recs if x["func"] == "main.swap")
    assert swap["out"] == {"p.X": 1, "p.Y": -2}
    path = fixture("args")
    one_line_error(["trace", "-o", "p.Z", path, "main.norm"], USAGE, "no field Z")
    one_line_error(["trace", "-o", "q.X", path, "main.norm"], USAGE, "q.X")


def test_trace_stack_growth_pairs_and_skips_morestack():
    # deep(3000) with a 512-byte frame grows the goroutine stack several
    # times: entries that take the prologue's branch to morestack re-enter
    # from the top and must not be counted twice; frames keep their
    # distance from g.stack.hi across the copies, so every return pairs
    r = trace("args", ["main.deep"], extra=["-v"])
    assert r.returncode == 0, r.stderr
    _, recs = split(r.stdout)
    own = next(json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"deep_calls"'))
    calls = [x for x in recs if x["type"] == "call"]
    assert len(calls) == own["deep_calls"]
    assert sorted(x["args"]["n"] for x in calls) == list(range(own["deep_calls"]))
    top = next(x for x in calls if x["args"]["n"] == own["deep_calls"] - 1)
    assert top["ret"]["~r0"] == own["deep_ret"]
    m = re.search(r"morestack entries skipped (\d+), returns without entry (\d+)", r.stderr)
    assert m and int(m.group(1)) > 0 and int(m.group(2)) == 0, r.stderr


def test_trace_stack_growth_at_entry_instruction_sites():
    """--probe-entry: entry probes on each function's first instruction
    (bpftrace's place), where a call that grows its stack hits the probe
    twice (morestack re-runs it from the top on the new stack). Each call
    must still be reported once, never as "unwound", with its result."""
    r = trace("args", ["main.deep"], extra=["-v", "--probe-entry"])
    assert r.returncode == 0, r.stderr
    _, recs = split(r.stdout)
    own = next(json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"deep_calls"'))
    assert not [x for x in recs if x["type"] == "unwound"], r.stderr
    calls = [x for x in recs if x["type"] == "call"]
    assert sorted(x["args"]["n"] for x in calls) == list(range(own["deep_calls"]))
    top = next(x for x in calls if x["args"]["n"] == own["deep_calls"] - 1)
    assert top["ret"]["~r0"] == own["deep_ret"]
    # the premise: the site is the first instruction, not the JBE
    assert re.search(r"entry sites: 0 emulated \(0 at the stack-check JBE\), 1 single-stepped",
                     r.stderr), r.stderr


def test_trace_pie_and_noinline_builds_decode_the_same():
    import shutil
    if not shutil.which("go"):
        raise gstest.Skip("no go toolchain to build the PIE/noinline variants")
    d = gstest.tmpdir()
    pie_refused = None
    src = os.path.join(os.path.dirname(__file__), "..", "fixtures")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    for name, flags in (("args-pie", ["-buildmode=pie"]), ("args-noinline", ["-gcflags=all=-l"])):
        out = os.path.join(d, name)
        subprocess.run(["go", "build", "-o", out] + flags + ["./args"], cwd=src, env=env,
                       check=True, capture_output=True, timeout=300)
        r = subprocess.run([GOSNOOP, "--json", "trace", "main.greet", "main.swap", "main.check",
                            "--", out], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if name == "args-pie" and r.returncode == 3 and \
                "without bpf_get_attach_cookie" in r.stderr:
            # before 5.15 a PIE's sites are told apart by address only, in a
            # running process (-p): -- CMD is refused with one line
            pie_refused = r.stderr.strip()
            continue
        assert r.returncode == 0, (name, r.stderr)
        prog, recs = split(r.stdout)
        want = sorted(normalize(p["f"], p["args"], p["ret"]) for p in prog
                      if p["f"] in ("main.greet", "main.swap", "main.check"))
        got = sorted(normalize(x["func"], x["args"], x["ret"]) for x in recs)
        assert got == want, name
        # PIE: the itab is found at its run-time address minus the load bias
        err = [x["ret"]["~r0"] for x in recs if x["func"] == "main.check"][1]
        assert err["type"] == "*errors.errorString", (name, err)
    if pie_refused:
        raise gstest.Skip(f"the noinline build passed; the PIE refused here: {pie_refused}")


def prog_calls(prog, f):
    return [p for p in prog if p["f"] == f]


def test_trace_filter_on_strings_in_the_kernel():
    # greet("gopher", 2), greet("", 0); sizes(..., name="go"), sizes(..., "x")
    r = trace("args", ["main.greet", "main.sizes"], extra=["--filter", 'name == "gopher"'])
    assert r.returncode == 0, r.stderr
    prog, recs = split(r.stdout)
    want = [p["args"] for p in prog_calls(prog, "main.greet") if p["args"]["name"] == "gopher"]
    assert [(x["func"], x["args"]) for x in recs] == [("main.greet", want[0])]
    r = trace("args", ["main.greet", "main.sizes"], extra=["--filter", 'name != "gopher"'])
    prog, recs = split(r.stdout)
    want = sorted(p["args"]["name"] for p in prog
                  if p["f"] in ("main.greet", "main.sizes") and p["args"]["name"] != "gopher")
    assert sorted(x["args"]["name"] for x in recs) == want == ["", "go", "x"]
    # same length, other bytes: compared byte by byte, not by length
    r = trace("args", ["main.sizes"], extra=["--filter", 'name == "gx"'])
    assert split(r.stdout)[1] == []
    r = trace("args", ["main.greet"], extra=["--filter", 'name == ""'])
    assert [x["args"]["times"] for x in split(r.stdout)[1]] == [0]
    path = fixture("args")
    one_line_error(["trace", "--filter", 'times == "2"', path, "main.greet"], USAGE,
                   "times", "not a string")
    one_line_error(["trace", "--filter", 'name < "go"', path, "main.greet"], USAGE, "--filter")
    one_line_error(["trace", "--filter", 'name == "go', path, "main.greet"], USAGE, "--filter")
    one_line_error(["trace", "--filter", 'name == "%s"' % ("y" * 65), path, "main.greet"],
                   USAGE, "64 bytes")


def test_trace_output_expressions_index_len_cap_deref():
    # sizes(mp map[string]int, ch chan int, s []int, name string): the
    # program prints len/cap of each and s[0]
    r = trace("args", ["main.sizes"],
              extra=["-o", "len(mp)", "-o", "len(ch)", "-o", "cap(ch)", "-o", "s[0]"])
    assert r.returncode == 0, r.stderr
    prog, recs = split(r.stdout)
    want = prog_calls(prog, "main.sizes")
    assert len(recs) == len(want) == 2
    for x, p in zip(recs, want):
        for k in ("len(mp)", "len(ch)", "cap(ch)"):
            assert x["out"][k] == p["args"][k], (k, x, p)
        # s[0] only while 0 < len(s): the empty slice has none
        assert x["out"]["s[0]"] == (p["args"]["s[0]"] if p["args"]["len(s)"] else "?")
    r = trace("args", ["main.sizes", "main.norm"],
              extra=["-o", "len(s)", "-o", "cap(s)", "-o", "(*p).Y", "-o", "name[1]"])
    prog, recs = split(r.stdout)
    for x, p in zip([x for x in recs if x["func"] == "main.sizes"], prog_calls(prog, "main.sizes")):
        assert x["out"]["len(s)"] == p["args"]["len(s)"]
        assert x["out"]["cap(s)"] == p["args"]["cap(s)"]
        assert x["out"]["name[1]"] == (ord(p["args"]["name"][1]) if len(p["args"]["name"]) > 1
                                       else "?")
    norm = next(x for x in recs if x["func"] == "main.norm")
    assert norm["out"] == {"(*p).Y": 4}    # main.go: norm(&Point{X: 3, Y: 4})
    path = fixture("args")
    one_line_error(["trace", "-o", "len(n)", path, "main.fib"], USAGE, "len of int")
    one_line_error(["trace", "-o", "cap(mp)", path, "main.sizes"], USAGE, "cap of map")
    one_line_error(["trace", "-o", "s[", path, "main.sizes"], USAGE, "ARG[N]")
    one_line_error(["trace", "-o", "(*s).X", path, "main.sizes"], USAGE, "not a pointer")


def test_trace_maps_and_channels_show_len():
    r = trace("args", ["main.sizes"])
    prog, recs = split(r.stdout)
    for x, p in zip(recs, prog_calls(prog, "main.sizes")):
        mp, ch = x["args"]["mp"], x["args"]["ch"]
        if p["args"]["len(mp)"] == 0:       # sizes(nil, nil, ...)
            assert mp is None and ch is None
            continue
        assert int(mp["ptr"], 16) > 0 and mp["len"] == p["args"]["len(mp)"]
        assert (ch["len"], ch["cap"]) == (p["args"]["len(ch)"], p["args"]["cap(ch)"])
    r = trace("args", ["main.sizes"], json_mode=False)
    assert re.search(r"mp=map\[string\]int\{0x[0-9a-f]+ len:3\}, ch=chan int\{0x[0-9a-f]+ len:2 cap:5\}",
                     r.stdout), r.stdout
    assert "mp=nil, ch=nil" in r.stdout


def test_trace_truncated_strings_are_marked():
    r = trace("args", ["main.greet"], extra=["--max-string", "3"])
    prog, recs = split(r.stdout)
    g = [x for x in recs if x["args"]["name"] == "gop"][0]
    assert g["truncated"] == ["name", "~r0"]
    empty = [x for x in recs if x["args"]["times"] == 0][0]
    assert "truncated" not in empty
    # a string that fits whole is not marked
    r = trace("args", ["main.greet"], extra=["--max-string", "6"])
    g = [x for x in split(r.stdout)[1] if x["args"]["times"] == 2][0]
    assert g["args"]["name"] == "gopher" and g["truncated"] == ["~r0"]
    r = trace("args", ["main.greet"], extra=["--max-string", "3"], json_mode=False)
    assert 'main.greet(name="gop"..., times=2) = "hel"... ' in r.stdout, r.stdout
    assert 'main.greet(name="", times=0) = "" ' in r.stdout, r.stdout


def test_trace_error_messages_read_in_the_kernel():
    r = trace("args", ["main.fail", "main.checkLong", "main.check"])
    assert r.returncode == 0, r.stderr
    prog, recs = split(r.stdout)
    fails = [x["ret"]["~r0"] for x in recs if x["func"] == "main.fail"]
    want = [p["ret"]["error"] for p in prog_calls(prog, "main.fail")]
    assert fails[0] is None and want[0] == ""
    # *main.codeError: struct { msg string; code int }, DWARF shows msg first
    assert fails[1]["type"] == "*main.codeError" and fails[1]["error"] == want[1]
    chk = [x["ret"]["~r0"] for x in recs if x["func"] == "main.check"]
    assert chk[1]["type"] == "*errors.errorString" and chk[1]["error"] == "negative: -7"
    # 300 bytes, 64 read: cut and marked as such
    long = next(x for x in recs if x["func"] == "main.checkLong")
    own = prog_calls(prog, "main.checkLong")[0]["ret"]["error"]
    assert len(own) == 300 and long["ret"]["~r0"]["error"] == own[:64]
    assert long["truncated"] == ["~r0"]
    r = trace("args", ["main.fail", "main.checkLong"], extra=["--max-string", "256"],
              json_mode=False)
    assert 'main.fail(code=42) = error{*main.codeError "failed with code 42"} ' in r.stdout
    assert 'error{*errors.errorString "%s"...}' % ("x" * 256) in r.stdout


def test_trace_panicked_call_is_unwound():
    # safe(0), safe(3), safe(0): boom(3) panics, safe(3) recovers. boom(3)
    # never returns: when boom(0) then takes the same frame, the kernel
    # reports boom(3) as unwound
    r = trace("args", ["main.boom", "main.safe"], extra=["-v"])
    assert r.returncode == 0, r.stderr
    prog, recs = split(r.stdout)
    boom = [x for x in recs if x["func"] == "main.boom"]
    assert sorted((x["type"], x["args"]["n"]) for x in boom) == \
        [("call", 0), ("call", 0), ("unwound", 3)]
    unw = next(x for x in boom if x["type"] == "unwound")
    assert "ret" not in unw and "dur_ns" not in unw
    assert sorted((x["args"]["n"], x["ret"]["r"]) for x in recs if x["func"] == "main.safe") == \
        sorted((p["args"]["n"], p["ret"]["~r0"]) for p in prog_calls(prog, "main.safe"))
    assert [p["args"]["n"] for p in prog_calls(prog, "main.boom") if p["ret"]["panics"]] == [3]
    assert "unwound 1," in r.stderr
    # a filtered-out call reusing the frame still flushes it: its RET
    # must not pair with boom(3)'s record
    r = trace("args", ["main.boom", "main.safe"], extra=["--filter", "n == 3"])
    _, recs = split(r.stdout)
    assert sorted((x["func"], x["type"]) for x in recs) == \
        [("main.boom", "unwound"), ("main.safe", "call")]
    # hang: safe(5) in a goroutine that then ends, nothing reuses boom's
    # frame; at exit safe(5)'s later RET from a shallower frame of the
    # same goroutine tells
    r = trace("args", ["main.boom", "main.safe"], "hang", extra=["--filter", "n == 5"],
              json_mode=False)
    assert r.returncode == 0, r.stderr
    assert re.search(r" g\d+ main\.boom\(n=5\) unwound$", r.stdout, re.M), r.stdout
    assert "still running" not in r.stdout
    assert re.search(r" g\d+ main\.safe\(n=5\) = r=-1 \d", r.stdout, re.M), r.stdout


SERVED = {
    "index.html": b"hello from gosnoop\n",
    "sub/a.txt": b"abc\n",
    "x y.bin": bytes(range(256)) * 3,
}
# the request URIs as sent: net/url.ParseRequestURI gets them verbatim
REQUESTS = [("/index.html", "index.html"), ("/sub/a.txt?v=1", "sub/a.txt"),
            ("/x%20y.bin", "x y.bin"), ("/index.html", "index.html")]


def test_trace_esbuild_serving_http_request_paths():
    """esbuild releases (stripped: raw ABI words) serving HTTP under trace:
    net/url.ParseRequestURI(rawURL string) gets each request's URI; with
    -o 'string(arg0)' the kernel reads the string from ABI words 0 (ptr)
    and 1 (len): the traced values must be exactly the URIs requested,
    and every response byte-identical to the file served. Register ABI
    (go1.17) and stack ABI0 (go1.16)."""
    import select
    import signal
    tried = 0
    for name in ("esbuild-0.14.10-go1.17.5", "esbuild-0.11.23-go1.16.3"):
        try:
            path = gstest.corpus(name)
        except gstest.Skip:
            continue
        tried += 1
        es, port, _ = gstest.esbuild_serve(path, SERVED, wait_path="index.html")
        g = gstest.spawn([GOSNOOP, "--json", "trace", "-v", "-p", str(es.pid),
                          "-o", "string(arg0)", "net/url.ParseRequestURI"])
        err = ""
        while "attached" not in err:
            r, _, _ = select.select([g.stderr], [], [], 30)
            assert r, (name, err)
            line = g.stderr.readline()
            assert line, (name, err)
            err += line
        for uri, file in REQUESTS:
            status, body = gstest.http_get(port, uri)
            assert status == 200 and body == SERVED[file], (name, uri, status, body[:40])
        import time
        time.sleep(0.3)
        g.send_signal(signal.SIGINT)
        out, rest = g.communicate(timeout=60)
        assert g.returncode == 0, (name, err + rest)
        es.stdin.close()
        es.kill()
        recs = [json.loads(l) for l in out.splitlines() if l.startswith('{"type"')]
        got = [x["out"]["string(arg0)"] for x in recs if x["type"] == "call"]
        assert sorted(got) == sorted(u for u, _ in REQUESTS), (name, got)
        for x in recs:
            # the raw words hold the same string: its length in word 1
            assert x["raw_args"][1] == len(x["out"]["string(arg0)"]), (name, x)
            assert x["pid"] == es.pid
    if not tried:
        raise gstest.Skip("no esbuild go1.16/go1.17 in the corpus")


def test_trace_esbuild_go113_abi0_error_message_and_bytes():
    # stack ABI0 with DWARF: esbuild reads its input with
    # ioutil.ReadFile -> os.(*File).Read; the last Read returns (0, io.EOF)
    # on the stack, and io.EOF is errors.New("EOF") (io/io.go): the
    # message is read through the interface's data word
    from gstest import corpus
    path = corpus("esbuild-0.0.9-go1.13.8")
    d = gstest.tmpdir()
    src = os.path.join(d, "in.js")
    text = "let x = 1 + 2\nconsole.log(x)\n"
    with open(src, "w") as f:
        f.write(text)
    r = subprocess.run([GOSNOOP, "--json", "trace", "os.(*File).Read", "io/ioutil.ReadFile",
                        "--", path, src, "--outfile=" + os.path.join(d, "out.js")],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type"')]
    rf = [x for x in recs if x["type"] == "call" and x["func"] == "io/ioutil.ReadFile"
          and x["args"]["filename"] == src]
    assert len(rf) == 1, recs
    # go1.13 numbers unnamed results after the arguments: ~r1, ~r2
    data, err = list(rf[0]["ret"].values())
    assert err is None
    assert data["len"] == len(text) and data["data"] == text, data
    eofs = [x for x in recs if x["type"] == "call" and x["func"] == "os.(*File).Read"
            and x["ret"]["err"] is not None]
    assert eofs, recs
    for x in eofs:
        assert x["ret"]["n"] == 0
        assert x["ret"]["err"]["type"] == "*errors.errorString"
        assert x["ret"]["err"]["error"] == "EOF"


def prog_lines(stdout):
    """The abi0 fixture's own lines: {"f":…,"args":[…],"ret":[…]}"""
    return [json.loads(l) for l in stdout.splitlines() if l.startswith('{"args"')]


def test_trace_assembly_functions_use_abi0_in_a_register_abi_binary():
    """tests/fixtures/abi0 (go1.19, register ABI) calls two assembly
    functions, which are ABI0: arguments, then results, in the frame above
    the return address (their DWARF has no parameters, so the words are
    raw). The words at the RET must be what the Go caller passed and got
    back, as it printed them; with DWARF (.symtab names them "….abi0") and
    stripped (pclntab: the function's file is asm_amd64.s). addasm leaves
    0 in RAX, where the register ABI would have the result."""
    for binary in ("abi0", "abi0-stripped"):
        r = trace(binary, ["main.addasm", "main.strbyte"])
        assert r.returncode == 0, r.stderr
        prog = prog_lines(r.stdout)
        _, recs = split(r.stdout)
        calls = [x for x in recs if x["type"] == "call"]
        assert len(prog) == 5 and len(calls) == 5, r.stdout
        for p, x in zip(prog, calls):
            assert x["func"] == p["f"], (binary, x, p)
            a, ret = x["raw_args"], x["raw_ret"]
            if p["f"] == "main.addasm":
                # frame: a, b, result (args size 24)
                want = [v % U64 for v in p["args"] + p["ret"]]
                assert len(a) == 3 and a[:2] == want[:2] and ret == want, (binary, x, p)
            else:
                # frame: s.ptr, s.len, i, c (a byte in its word), n
                s, i = p["args"]
                c, n = p["ret"]
                assert len(a) == 5 and a[1:3] == [len(s), i], (binary, x, p)
                assert ret[:3] == a[:3] and ret[3] & 0xff == c and ret[4] == n, (binary, x, p)


def test_trace_assembly_abi0_words_filter_and_string_out():
    # --filter and -o on ABI0 words read the stack slots, not registers:
    # strbyte's s is words 0 (ptr) and 1 (len)
    r = trace("abi0-stripped", ["main.strbyte"],
              extra=["--filter", "arg2 == 2", "-o", "string(arg0)"])
    assert r.returncode == 0, r.stderr
    prog = [p for p in prog_lines(r.stdout) if p["args"][1] == 2]
    _, recs = split(r.stdout)
    assert len(prog) == 1 and len(recs) == 1, r.stdout
    assert recs[0]["out"]["string(arg0)"] == prog[0]["args"][0] == "abi zero"


def test_trace_cgo_wrappers_results_on_the_stack():
    """cgo's _Cfunc_ wrappers are //go:cgo_unsafe_args Go functions, which
    the compiler pins to ABI0: the C side writes the result into the
    frame. The cgo fixture prints add(a, b) = C.c_add(a, b)."""
    for binary in ("cgo", "cgo-stripped"):
        r = trace(binary, ["main._Cfunc_c_add"])
        assert r.returncode == 0, r.stderr
        printed = [tuple(map(int, m)) for m in
                   re.findall(r"^add\((-?\d+), (-?\d+)\) = (-?\d+)$", r.stdout, re.M)]
        _, recs = split(r.stdout)
        assert len(printed) == 3 and len(recs) == 3, r.stdout
        if binary == "cgo":
            got = [(x["args"]["p0"], x["args"]["p1"], x["ret"]["r1"]) for x in recs]
        else:
            # p0, p1, r1: three words, the result last
            got = [tuple(x["raw_ret"]) for x in recs]
            assert all(x["raw_args"][:2] == list(g[:2]) for x, g in zip(recs, got))
        assert got == printed, (binary, got, printed)


def test_trace_esbuild_syscall_assembly_is_abi0():
    """syscall.Syscall(trap, a1, a2, a3) (r1, r2, err) is assembly
    (syscall/asm_linux_amd64.s, ABI0) in go1.17 and go1.18 (stripped
    esbuild releases). os's init wraps stdin with os.NewFile, which asks
    unix.IsNonblock: fcntl(0, F_GETFL) (trap 72 on amd64, linux
    arch/x86/entry/syscalls/syscall_64.tbl; F_GETFL 3). stdin is a file
    opened O_RDWR|O_APPEND here; the result must equal Python's own
    fcntl(F_GETFL) of it."""
    import fcntl
    tried = 0
    for name in ("esbuild-0.14.10-go1.17.5", "esbuild-0.14.38-go1.18"):
        try:
            path = gstest.corpus(name)
        except gstest.Skip:
            continue
        tried += 1
        d = gstest.tmpdir()
        src = os.path.join(d, "in.js")
        with open(src, "w") as f:
            f.write("let x = 1 + 2\nconsole.log(x)\n")
        fd = os.open(os.path.join(d, "stdin"), os.O_RDWR | os.O_APPEND | os.O_CREAT)
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            r = subprocess.run([GOSNOOP, "--json", "trace", "--filter", "arg0 == 72",
                                "syscall.Syscall", "--", path, src,
                                "--outfile=" + os.path.join(d, "out.js")],
                               capture_output=True, text=True, timeout=120, stdin=fd)
        finally:
            os.close(fd)
        assert r.returncode == 0, (name, r.stderr)
        recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type"')]
        calls = [x for x in recs if x["type"] == "call"]
        # trap, a1, a2, a3, r1, r2, err
        stdin = [x for x in calls if x["raw_ret"][:3] == [72, 0, 3]]
        assert len(stdin) == 1, (name, calls)
        assert flags & os.O_APPEND and stdin[0]["raw_ret"][4] == flags, (name, stdin, flags)
        assert stdin[0]["raw_ret"][6] == 0, (name, stdin)
        assert all(len(x["raw_args"]) == 7 and x["raw_args"][0] == 72 for x in calls), name
    if not tried:
        raise gstest.Skip("no esbuild go1.17/go1.18 in the corpus")


def test_trace_esbuild_abi0_wrapper_of_a_go_function():
    """From go1.19 syscall.Syscall is Go (ABIInternal); assembly that
    jumps to it (golang.org/x/sys/unix.Syscall) reaches it through an ABI0
    wrapper of the same name (file <autogenerated> in pclntab). esbuild
    asks whether stdin is a terminal: ioctl(0, TCGETS) (trap 16, TCGETS
    0x5401), which fails on a regular file with the errno Python's own
    ioctl gets. The wrapper shows the 7 stack words (trap, a1, a2, a3, r1,
    r2, err), the body RAX RBX RCX RDI and the results r1 r2 in RAX RBX."""
    import errno
    import fcntl
    import termios
    path = gstest.corpus("esbuild-0.23.1-go1.22.5")
    d = gstest.tmpdir()
    src = os.path.join(d, "in.js")
    with open(src, "w") as f:
        f.write("let x = 1 + 2\nconsole.log(x)\n")
    with open(src, "rb") as stdin:
        try:
            fcntl.ioctl(stdin.fileno(), termios.TCGETS, bytes(64))
            raise AssertionError("TCGETS on a regular file succeeded")
        except OSError as e:
            want_errno = e.errno
        assert want_errno == errno.ENOTTY
        r = subprocess.run([GOSNOOP, "--json", "trace", "--filter", "arg0 == 16",
                            "syscall.Syscall", "--", path, src,
                            "--outfile=" + os.path.join(d, "out.js")],
                           capture_output=True, text=True, timeout=120, stdin=stdin)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"type"')]
    calls = [x for x in recs if x["type"] == "call"]
    wrapper = [x for x in calls if len(x["raw_args"]) == 7 and x["raw_ret"][1:3] == [0, 0x5401]]
    body = [x for x in calls if len(x["raw_args"]) == 4 and x["raw_args"][1:3] == [0, 0x5401]]
    assert len(wrapper) == 1 and len(body) == 1, calls
    assert wrapper[0]["raw_ret"][0] == 16 and wrapper[0]["raw_ret"][4] == U64 - 1
    assert wrapper[0]["raw_ret"][6] == want_errno, wrapper
    assert body[0]["raw_args"][0] == 16 and body[0]["raw_ret"][0] == U64 - 1, body
    assert wrapper[0]["func"] != body[0]["func"]  # syscall.Syscall@ADDR, two bodies
