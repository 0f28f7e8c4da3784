"""gosnoop info: versions, flags, ABI and runtime layout."""
import json
import os
import re
import subprocess

from gstest import Skip, corpus, corpus_manifest, fixture, run_json, spawn, strip_copy


def info(path):
    (obj,) = run_json(["info", path])
    return obj


def minor(version):
    return int(re.match(r"go1\.(\d+)", version).group(1))


PCLN_FORMAT = [(16, "go1.2"), (18, "go1.16"), (20, "go1.18"), (99, "go1.20")]


def test_go_version_of_every_corpus_binary():
    rows = corpus_manifest()
    missing = [r["name"] for r in rows if not os.path.exists(r["path"])]
    if len(missing) == len(rows):
        raise Skip("no corpus binary present")
    for r in rows:
        if not os.path.exists(r["path"]):
            print(f"SKIP: {r['name']} missing")
            continue
        i = info(r["path"])
        assert i["go_version"] == r["go_version"], (r["name"], i["go_version"])
        m = minor(r["go_version"])
        want_fmt = next(f for lim, f in PCLN_FORMAT if m < lim)
        assert i["pclntab_format"] == want_fmt, (r["name"], i["pclntab_format"])
        no_buildinfo = "NO buildinfo" in r["notes"]
        assert i["go_version_source"].startswith("runtime.buildVersion" if no_buildinfo
                                                 else "buildinfo"), (r["name"], i)
        assert i["abi"].startswith("ABIInternal" if m >= 17 else "ABI0"), (r["name"], i["abi"])
        assert i["functions"] > 1000
        # module and main package as `go version -m` reads them
        out = subprocess.run(["go", "version", "-m", r["path"]], capture_output=True,
                             text=True).stdout
        fields = dict(l.strip().split("\t")[:2] for l in out.splitlines()[1:]
                      if l.strip().split("\t")[0] in ("path", "mod"))
        assert i["main_path"] == fields.get("path"), (r["name"], i["main_path"], fields)
        assert i["module"] == fields.get("mod"), (r["name"], i["module"], fields)
        # every release 1.13..1.26 has a table row
        assert i["layout_source"] in ("table", "dwarf"), (r["name"], i["layout_source"])
        assert i["offsets"]["g.goid"] and i["offsets"]["g.atomicstatus"]


def test_go_version_of_fixtures_equals_go_version_tool():
    for name in ("demo", "demo-stripped", "demo-pie", "cgo", "cgo-stripped"):
        path = fixture(name)
        out = subprocess.run(["go", "version", path], capture_output=True, text=True).stdout
        want = out.split(":", 1)[1].split()[0]
        assert info(path)["go_version"] == want


def readelf_sections(path):
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout
    return set(re.findall(r"\]\s+(\.\S+)", out))


def test_binary_properties_match_readelf():
    for name in ("demo", "demo-stripped", "demo-pie", "demo-noinline", "cgo", "cgo-stripped"):
        path = fixture(name)
        i = info(path)
        secs = readelf_sections(path)
        hdr = subprocess.run(["readelf", "-hlW", path], capture_output=True, text=True).stdout
        assert i["stripped"] == (".symtab" not in secs), name
        assert i["dwarf"] == (".debug_info" in secs or ".zdebug_info" in secs), name
        assert i["pie"] == ("DYN (" in hdr), name
        assert i["dynamic"] == ("INTERP" in hdr), name
        assert i["cgo"] == name.startswith("cgo"), name
        assert i["abi"].startswith("ABIInternal")
        assert i["tls_g_offset"] == -8, (name, i["tls_g_offset"], i["tls_how"])


def test_offsets_from_table_equal_dwarf():
    pairs = [(fixture("demo"), fixture("demo-stripped"))]
    for part in ("go1.13", "go1.14"):
        try:
            p = corpus(part)
            pairs.append((p, strip_copy(p)))
        except Skip as e:
            print(f"SKIP: {e}")
    for with_dwarf, without in pairs:
        a, b = info(with_dwarf), info(without)
        assert a["layout_source"] == "dwarf", (with_dwarf, a["layout_source"])
        assert b["layout_source"] == "table", (without, b["layout_source"])
        assert a["go_version"] == b["go_version"]
        for k, v in a["offsets"].items():
            assert v is not None, (with_dwarf, k)
            assert b["offsets"][k] == v, f"{with_dwarf}: {k}: table {b['offsets'][k]}, dwarf {v}"


def test_build_info_equals_go_version_tool():
    for name in ("demo", "demo-pie", "cgo-stripped"):
        path = fixture(name)
        out = subprocess.run(["go", "version", "-m", path], capture_output=True,
                             text=True).stdout
        want = {"settings": {}}
        for line in out.splitlines()[1:]:
            f = line.strip().split("\t")
            if f[0] == "path":
                want["main_path"] = f[1]
            elif f[0] == "mod":
                want["module"], want["module_version"] = f[1], f[2]
            elif f[0] == "build":
                k, v = f[1].split("=", 1)
                # go version -m quotes values with spaces (strconv.Quote)
                want["settings"][k] = json.loads(v) if v.startswith('"') else v
        i = info(path)
        assert want["settings"], out
        for k, v in want.items():
            assert i[k] == v, f"{name}: {k}: {i[k]!r} != {v!r}"


def test_info_of_pid_reports_load_bias():
    path = fixture("demo-pie")
    p = spawn([path, "-pause", "20s"])
    import time
    for _ in range(100):
        if os.path.basename(path) in open(f"/proc/{p.pid}/maps").read():
            break
        time.sleep(0.02)
    (i,) = run_json(["info", "-p", str(p.pid)])
    assert i["pid"] == p.pid
    assert i["go_version"] == info(path)["go_version"]
    ino = os.stat(path).st_ino
    base = min(int(l.split()[0].split("-")[0], 16) for l in open(f"/proc/{p.pid}/maps")
               if len(l.split()) >= 6 and int(l.split()[4]) == ino)
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    first_load = min(int(l.split()[2], 16) for l in out.splitlines() if l.strip().startswith("LOAD"))
    assert int(i["load_bias"], 16) == base - (first_load & ~0xfff)
    p.kill()
