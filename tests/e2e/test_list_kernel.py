"""gosnoop list --kernel -v: tracepoint fields against bpftrace -lv and the
tracefs format file; 'struct NAME' members against bpftool's dump of
vmlinux BTF."""
import json
import os
import shutil
import subprocess
import tempfile

from gstest import GOSNOOP, Skip, run

TRACEFS = "/sys/kernel/tracing"
TRACEPOINTS = ["tracepoint:sched:sched_switch", "tracepoint:syscalls:sys_enter_openat",
               "tracepoint:irq:irq_handler_entry", "tracepoint:sched:sched_process_exec"]


def _have_tracepoints():
    if not os.path.exists(os.path.join(TRACEFS, "events", "sched")):
        raise Skip("tracefs is not mounted at " + TRACEFS)


def _format_fields(probe):
    """(name, offset, size, signed) of the non-common fields in the format file."""
    _, cat, name = probe.split(":")
    out = []
    for line in open(os.path.join(TRACEFS, "events", cat, name, "format")):
        line = line.strip()
        if not line.startswith("field:"):
            continue
        parts = dict(p.strip().split(":", 1) for p in line.split(";") if ":" in p)
        decl = parts["field"]
        # "char prev_comm[16]", "__data_loc char[] name", "const char * filename"
        nm = decl.split()[-1].split("[")[0]
        if nm.startswith("common_"):
            continue
        out.append((nm, int(parts["offset"]), int(parts["size"]), parts["signed"] == "1"))
    return out


def test_list_kernel_tracepoint_fields_as_bpftrace_lv():
    """-v prints a tracepoint's fields the way bpftrace -lv does (it printed
    the probe name alone)."""
    _have_tracepoints()
    probes = [p for p in TRACEPOINTS
              if os.path.exists(os.path.join(TRACEFS, "events", *p.split(":")[1:]))]
    assert len(probes) >= 3, probes
    mine = run(["list", "--kernel", "-v"] + probes).stdout
    blocks = {}
    for line in mine.splitlines():
        if line.startswith("tracepoint:"):
            cur = blocks.setdefault(line, [])
        else:
            cur.append(line)
    assert sorted(blocks) == sorted(probes), mine
    for p in probes:
        assert [l.split()[-1].split("[")[0] for l in blocks[p]] == \
            [f[0] for f in _format_fields(p)], (p, blocks[p])
    if shutil.which("bpftrace"):
        for p in probes:
            r = subprocess.run(["bpftrace", "-lv", p], capture_output=True, text=True, timeout=60)
            if r.returncode == 0 and r.stdout.strip():
                want = [l.strip() for l in r.stdout.splitlines()[1:]]
                assert [l.strip() for l in blocks[p]] == want, (p, blocks[p], want)
    # JSON: name, type, offset, size, signed, as the format file has them
    recs = [json.loads(l) for l in run(["--json", "list", "--kernel", "-v"] + probes)
            .stdout.splitlines()]
    for rec in recs:
        got = [(f["name"], f["offset"], f["size"], f["signed"]) for f in rec["fields"]]
        assert got == _format_fields(rec["probe"]), rec
    ss = [f for rec in recs if rec["probe"] == "tracepoint:sched:sched_switch"
          for f in rec["fields"] if f["name"] == "prev_comm"]
    assert ss and ss[0]["type"] == "char[16]", ss


def _bpftool_types():
    if not shutil.which("bpftool") or not os.path.exists("/sys/kernel/btf/vmlinux"):
        raise Skip("needs bpftool and /sys/kernel/btf/vmlinux")
    r = subprocess.run(["bpftool", "-j", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return {t["id"]: t for t in json.loads(r.stdout)["types"]}


def _flat_members(types, t, base=0):
    """Named members of t, anonymous structs/unions flattened: (name, byte
    offset, bits or 0)."""
    out = []
    for m in t["members"]:
        off = base + m["bits_offset"]
        if m["name"] == "(anon)":
            inner = types[m["type_id"]]
            while inner["kind"] in ("CONST", "VOLATILE", "TYPEDEF", "RESTRICT", "TYPE_TAG"):
                inner = types[inner["type_id"]]
            out += _flat_members(types, inner, off)
            continue
        out.append((m["name"], off // 8, m.get("bitfield_size", 0)))
    return out


def test_list_kernel_struct_members_against_bpftool():
    """'struct NAME' -v: every member, anonymous unions flattened in JSON,
    at bpftool's offsets; the text is C (bitfields, nested unions); a glob
    lists names; an unknown struct is one error line, exit 2."""
    types = _bpftool_types()
    for name in ("task_struct", "sock_common", "file"):
        want_t = [t for t in types.values() if t["kind"] == "STRUCT" and t.get("name") == name]
        assert len(want_t) == 1, name
        rec = [json.loads(l) for l in
               run(["--json", "list", "--kernel", "-v", f"struct {name}"]).stdout.splitlines()]
        assert len(rec) == 1 and rec[0]["size"] == want_t[0]["size"], rec[:1]
        got = [(m["name"], m["offset"], m.get("bits", 0)) for m in rec[0]["members"]]
        assert got == _flat_members(types, want_t[0]), name
    text = run(["list", "--kernel", "-v", "struct:sock_common"]).stdout
    assert text.startswith("struct sock_common {") and text.rstrip().endswith("};"), text
    sc = [t for t in types.values() if t["kind"] == "STRUCT" and t.get("name") == "sock_common"]
    reuse = [m for m in sc[0]["members"] if m["name"] == "skc_reuse"]
    if reuse:   # a bitfield, as C writes it, at bpftool's place
        off = reuse[0]["bits_offset"]
        assert f"skc_reuse:{reuse[0]['bitfield_size']};\t/* offset {off // 8}, bit {off % 8} */" \
            in text, text
    assert "\t\t__be32 skc_daddr;" in text, text   # inside its anonymous struct
    names = run(["list", "--kernel", "struct task_*"]).stdout.split("\n")
    want = sorted(t["name"] for t in types.values()
                  if t["kind"] == "STRUCT" and t.get("name", "").startswith("task_"))
    assert [n for n in names if n] == [f"struct {n}" for n in want], names
    r = run(["list", "--kernel", "struct no_such_struct_h7"], check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no_such_struct_h7" in r.stderr


def test_unreadable_tracefs_is_a_privilege_not_a_missing_probe():
    """As nobody, tracefs cannot be read: list --kernel must say so and exit
    3, not claim that no probe matches (there are sched_switch and
    sched_swap_numa); a tp_btf pattern from BTF still lists, with a
    warning."""
    _have_tracepoints()
    if os.geteuid() != 0:
        raise Skip("needs root to drop to nobody")
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise Skip("no setpriv")
    d = tempfile.mkdtemp()
    os.chmod(d, 0o755)
    exe = os.path.join(d, "gosnoop")
    shutil.copy(GOSNOOP, exe)
    os.chmod(exe, 0o755)
    drop = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", exe]
    try:
        r = subprocess.run(drop + ["list", "--kernel", "sched:sched_sw*"], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=d)
        if r.returncode == 0:
            raise Skip("tracefs readable by nobody here")
        assert r.returncode == 3, (r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot read the tracepoints" in lines[0], r.stderr
        assert "no kernel probe matches" not in r.stderr, r.stderr
        r = subprocess.run(drop + ["list", "--kernel", "tp_btf:sched_switch"], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=d)
        assert r.returncode == 0 and r.stdout.split() == ["tp_btf:sched_switch"], r
    finally:
        shutil.rmtree(d, ignore_errors=True)
