"""gosnoop list: against binutils nm, stripped twins, globs, targets."""
import fnmatch
import os
import re
import subprocess
import time

import gstest
from gstest import Skip, corpus, fixture, nm_text_symbols, run, run_json, spawn, strip_copy



def runtime_spelling(nm_name, go_minor):
    """The name pclntab gives a function that .symtab spells nm_name.

    pclntab holds the runtime's spelling (what stack traces print); .symtab
    differs in three ways, measured on go1.13, go1.14 and go1.19:
    - go1.18+: the linker writes everything from a name's first '[' to its
      last ']' as "[...]" in pclntab (cmd/link/internal/ld/pcln.go,
      nameParts): "main.Map[go.shape.int_0,go.shape.string_1]" is
      "main.Map[...]", and "type..eq.[15]internal/cpu.option" is
      "type..eq.[...]internal/cpu.option";
    - go1.17+: an assembly function's ABI0 symbol has an ".abi0" suffix
      in .symtab ("internal/cpu.cpuid.abi0"), none in pclntab;
    - before go1.18 (seen on go1.13): pclntab keeps the middle dot of
      closure types inside generated names ("type..eq.runtime/pprof.newFunc·1")
      where .symtab has "newFunc.1"; compare with the dot in both.
    Anything else must match letter for letter."""
    name = nm_name[:-5] if nm_name.endswith(".abi0") else nm_name
    if go_minor >= 18:
        i, j = name.find("["), name.rfind("]")
        if 0 <= i < j:
            name = name[:i] + "[...]" + name[j + 1:]
    return name


def listed(path, *patterns):
    return run_json(["list", path] + list(patterns))


def compare_with_nm(path):
    """Every pclntab function is an nm text symbol at the same address, and
    every nm text symbol inside Go's text that names a Go function is
    listed. Returns the listing."""
    funcs = listed(path)
    assert len(funcs) > 100, f"only {len(funcs)} functions in {path}"
    (info,) = run_json(["info", path])
    go_minor = int(re.match(r"go1\.(\d+)", info["go_version"]).group(1))
    syms = {}
    for n, addrs in nm_text_symbols(path).items():
        syms.setdefault(runtime_spelling(n, go_minor), set()).update(addrs)
    for f in funcs:
        f["name"] = f["name"].replace("\u00b7", ".")
    bad = []
    for f in funcs:
        addr = int(f["addr"], 16)
        if f["name"] not in syms:
            bad.append(f"{f['name']} not in nm")
        elif addr not in syms[f["name"]]:
            bad.append(f"{f['name']} at {addr:#x}, nm says {sorted(map(hex, syms[f['name']]))}")
    assert not bad, f"{len(bad)} mismatches in {path}, e.g. {bad[:5]}"
    lo = min(int(f["addr"], 16) for f in funcs)
    hi = max(int(f["addr"], 16) + f["size"] for f in funcs)
    listed_at = {(f["name"], int(f["addr"], 16)) for f in funcs}
    syms = {n.replace("\u00b7", "."): a for n, a in syms.items()}
    # nm also has C symbols (cgo) and linker markers (runtime.text,
    # runtime.etext, go.buildid); a Go function has a package path.
    missing = [f"{n}@{a:#x}" for n, addrs in syms.items() for a in addrs
               if lo <= a < hi and (n, a) not in listed_at and "." in n
               and n not in ("runtime.text", "runtime.etext", "go.buildid", "go:buildid")
               and not n.startswith(("_cgo", "x_cgo", "crosscall", "__"))]
    assert not missing, f"{len(missing)} nm Go functions not listed in {path}: {missing[:8]}"
    return funcs


def test_list_equals_nm_on_fixtures():
    for name in ("demo", "demo-noinline", "demo-pie", "cgo"):
        compare_with_nm(fixture(name))


def test_list_equals_nm_on_go113_go114():
    for part in ("go1.13", "go1.14"):
        compare_with_nm(corpus(part))


def test_stripped_copy_lists_exactly_the_same():
    for path in (fixture("demo"), fixture("cgo"), corpus("go1.13")):
        full = listed(path)
        stripped = listed(strip_copy(path))
        assert full == stripped, f"{path}: stripped copy differs"


def test_linker_stripped_build_lists_same_functions():
    # -ldflags=-s -w changes no code: same names at the same addresses.
    full = {(f["name"], f["addr"], f["size"]) for f in listed(fixture("demo"))}
    stripped = {(f["name"], f["addr"], f["size"]) for f in listed(fixture("demo-stripped"))}
    assert full == stripped


def test_glob_patterns_select_as_fnmatch_does():
    path = fixture("demo")
    everything = [f["name"] for f in listed(path)]
    for pat in ("main.*", "main.(*Point).*", "runtime.gc*", "*.Dist", "sync.(*Mutex).[LU]*"):
        got = [f["name"] for f in listed(path, pat)]
        want = [n for n in everything if fnmatch.fnmatchcase(n, pat)]
        assert got == want, f"{pat}: {got[:5]} != {want[:5]}"
        assert got, f"{pat} matched nothing"
    # several patterns: the union, in address order, each function once
    got = [f["name"] for f in listed(path, "main.greet", "main.g*")]
    assert got.count("main.greet") == 1


def test_exact_name_with_brackets_matches_itself():
    path = fixture("demo")
    generic = [f["name"] for f in listed(path, "main.Map*")]
    assert generic, "no instantiation of main.Map"
    name = generic[0]
    assert "[" in name, f"expected a bracketed generic name, got {name}"
    assert [f["name"] for f in listed(path, name)] == [name]


def objdump_entries(path, regexp):
    """{func: (file, line, addr)} of each function's first instruction, as
    `go tool objdump` (Go's own pclntab reader) prints them."""
    out = subprocess.run(["go", "tool", "objdump", "-s", regexp, path],
                         capture_output=True, text=True, check=True).stdout
    got, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"TEXT (\S+)\(SB\) (\S+)", line)
        if m:
            cur = m.groups()
            continue
        m = re.match(r"\s+(\S+):(\d+)\s+(0x[0-9a-f]+)", line)
        if m and cur and cur[0] not in got:
            got[cur[0]] = (cur[1], int(m.group(2)), int(m.group(3), 16))
    return got


def test_file_and_line_of_entry_match_go_objdump():
    # objdump needs .symtab; the stripped build has the same layout
    want = {runtime_spelling(n, 19): v
            for n, v in objdump_entries(fixture("demo"), "^(main|sync)\\.").items()}
    for path in (fixture("demo"), fixture("demo-stripped")):
        got = {f["name"]: f for f in listed(path, "main.*", "sync.*")}
        assert len(want) > 20 and set(want) == set(got), set(want) ^ set(got)
        for name, (file, line, addr) in want.items():
            f = got[name]
            assert (f["file"], f["line"], int(f["addr"], 16)) == (file, line, addr), \
                f"{name}: {f['file']}:{f['line']} @{f['addr']}, objdump: {file}:{line} @{addr:#x}"


def test_json_schema():
    for f in listed(fixture("demo"), "main.main"):
        assert set(f) == {"name", "addr", "size", "file", "line"}, f
        assert re.fullmatch(r"0x[0-9a-f]+", f["addr"])
        assert isinstance(f["size"], int) and f["size"] > 0
        assert isinstance(f["line"], int)


def test_text_output_columns():
    r = run(["list", fixture("demo"), "main.greet"])
    (line,) = r.stdout.splitlines()
    addr, size, name, loc = line.split()
    syms = nm_text_symbols(fixture("demo"))
    assert {int(addr, 16)} == syms["main.greet"] and name == "main.greet"
    assert loc.endswith("main.go:" + loc.rsplit(":", 1)[1])


def wait_for_maps(pid, path):
    for _ in range(100):
        try:
            if os.path.basename(path) in open(f"/proc/{pid}/maps").read():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.02)


def map_base(pid, path):
    ino = os.stat(path).st_ino
    for line in open(f"/proc/{pid}/maps"):
        f = line.split()
        if len(f) >= 6 and int(f[4]) == ino and int(f[2], 16) == 0:
            return int(f[0].split("-")[0], 16)
    raise AssertionError("binary not mapped")


def test_pid_target_gives_runtime_addresses():
    for name, pie in (("demo", False), ("demo-pie", True)):
        path = fixture(name)
        p = spawn([path, "-pause", "20s"])
        wait_for_maps(p.pid, path)
        got = run_json(["list", "-p", str(p.pid), "main.greet"])
        assert len(got) == 1
        (file_addr,) = nm_text_symbols(path)["main.greet"]
        assert int(got[0]["addr"], 16) == file_addr
        if pie:
            # independent: first mapping of the file minus its first PT_LOAD vaddr
            out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
            vaddrs = [int(l.split()[2], 16) for l in out.splitlines() if l.strip().startswith("LOAD")]
            bias = map_base(p.pid, path) - (min(vaddrs) & ~0xfff)
            assert bias != 0
            assert int(got[0]["runtime_addr"], 16) == file_addr + bias
        else:
            assert "runtime_addr" not in got[0]
        p.kill()


def test_cmd_target_lists_the_command():
    got = run_json(["list", "main.greet", "--", fixture("demo-stripped"), "-rounds", "1"])
    assert [f["name"] for f in got] == ["main.greet"]
