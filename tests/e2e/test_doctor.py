"""gosnoop doctor: every capability line checked against ground truth that
does not come from gosnoop (/proc, /sys, securityfs, and our own raw bpf(2)
calls through ctypes), so a wrong probe fails here instead of passing.
"""
import ctypes
import json
import os
import platform
import re
import shutil
import struct
import subprocess

from gstest import GOSNOOP, Skip, fixture, run, tmpdir

NOKERNEL = 3
# and the attach gosnoop uses: uprobe_multi where it works, else uprobe
CORE = ("privileges", "btf", "ringbuf")
TRACEFS_PATHS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
SECURITYFS = "/sys/kernel/security"
STATUSES = {"ok", "missing", "refused", "untested"}


# ------------------------------------------------------------ helpers

def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root (BPF, mounts)")


def doctor(*args, env=None):
    """Run `gosnoop --json doctor ARGS`: (returncode, {name: obj}, summary, r)."""
    r = run(["--json", "doctor"] + list(args), check=False, env=env)
    caps, summary = {}, None
    for line in r.stdout.splitlines():
        obj = json.loads(line)  # every line must parse
        if obj["type"] == "capability":
            assert obj["name"] not in caps, f"duplicate line for {obj['name']}"
            caps[obj["name"]] = obj
        elif obj["type"] == "summary":
            summary = obj
    return r.returncode, caps, summary, r


def mounts():
    """[(mountpoint, fstype)] from /proc/mounts."""
    out = []
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            out.append((parts[1], parts[2]))
    return out


def tracefs_mountpoints():
    return [m for m, t in mounts() if t == "tracefs" and m in TRACEFS_PATHS]


def securityfs_mounted():
    return any(m == SECURITYFS and t == "securityfs" for m, t in mounts())


def cap_eff():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    raise AssertionError("no CapEff in /proc/self/status")


# ---- raw bpf(2), independent of gosnoop and libbpf (x86-64 numbers) ----
# union bpf_attr offsets and enum values from linux/bpf.h (checked with
# offsetof() against /usr/include/linux/bpf.h; BPF_TRACE_UPROBE_MULTI=48
# from include/uapi/linux/bpf.h of 6.6+).
NR_BPF = 321
BPF_MAP_CREATE, BPF_PROG_LOAD, BPF_LINK_CREATE = 0, 5, 28
BPF_MAP_TYPE_RINGBUF = 27
BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_TRACING = 2, 26
BPF_TRACE_FENTRY, BPF_TRACE_UPROBE_MULTI = 24, 48
# r0 = 0; exit
TRIVIAL_PROG = bytes([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])

_libc = None


def bpf(cmd, attr):
    """bpf(cmd, attr) -> fd/result or -errno."""
    global _libc
    if platform.machine() != "x86_64":
        raise Skip("raw bpf(2) checks are written for x86-64")
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    ret = _libc.syscall(ctypes.c_long(NR_BPF), ctypes.c_long(cmd), buf,
                        ctypes.c_long(len(attr)))
    return ret if ret >= 0 else -ctypes.get_errno()


def prog_load(prog_type, expected_attach_type=0, attach_btf_id=0, prog=TRIVIAL_PROG):
    insns = ctypes.create_string_buffer(prog, len(prog))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = bytearray(128)
    struct.pack_into("<IIQQ", attr, 0, prog_type, len(prog) // 8,
                     ctypes.addressof(insns), ctypes.addressof(lic))
    struct.pack_into("<I", attr, 68, expected_attach_type)
    struct.pack_into("<I", attr, 108, attach_btf_id)
    ret = bpf(BPF_PROG_LOAD, attr)
    del insns, lic
    return ret


def close_fd(fd):
    if fd >= 0:
        os.close(fd)


def vmlinux_btf_func_id(name):
    """Type id of FUNC `name` in /sys/kernel/btf/vmlinux (None if absent)."""
    data = open("/sys/kernel/btf/vmlinux", "rb").read()
    magic, _ver, _flags, hdr_len, type_off, type_len, str_off, _str_len = \
        struct.unpack_from("<HBBIIIII", data, 0)
    assert magic == 0xeB9F, hex(magic)
    strs = hdr_len + str_off
    pos, end, tid = hdr_len + type_off, hdr_len + type_off + type_len, 1
    want = name.encode()
    # bytes following struct btf_type, per kind (linux/btf.h)
    per_vlen = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    fixed = {1: 4, 3: 12, 14: 4, 17: 4}
    while pos < end:
        name_off, info, _ = struct.unpack_from("<III", data, pos)
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        if kind == 12:  # FUNC
            s = strs + name_off
            if data[s:data.index(b"\0", s)] == want:
                return tid
        pos += 12 + fixed.get(kind, 0) + per_vlen.get(kind, 0) * vlen
        tid += 1
    return None


def errno_name(neg):
    import errno
    return errno.errorcode.get(-neg, f"E{-neg}")


# ------------------------------------------------------------ tests

def test_json_lines_and_exit_code():
    need_root()
    rc, caps, summary, r = doctor()
    expected = {"privileges", "btf", "tracefs", "lockdown", "ringbuf", "uprobe",
                "uprobe_multi", "attach_cookie", "tracepoint", "raw_tracepoint", "tp_btf",
                "fentry", "fexit", "kprobe", "probe_write_user"}
    assert set(caps) == expected, set(caps) ^ expected
    for name, c in caps.items():
        assert isinstance(c["ok"], bool), c
        assert c["status"] in STATUSES, c
        assert c["ok"] == (c["status"] == "ok"), c
        assert c["detail"] and c["impact"], c
        if not c["ok"] and name != "lockdown":
            assert "errno" in c and re.fullmatch(r"E[A-Z0-9]+", c["errno"]), c
    attach = "uprobe_multi" if caps["uprobe_multi"]["ok"] else "uprobe"
    core_ok = all(caps[n]["ok"] for n in CORE + (attach,))
    assert summary is not None and summary["ok"] == core_ok, summary
    assert summary["core"] == list(CORE) + [attach], summary
    assert rc == (0 if core_ok else NOKERNEL), (rc, r.stderr)
    if rc == 0:
        # libbpf's complaints about the probes that fail stay hidden without -v
        assert r.stderr == "", r.stderr
    else:
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_text_matches_json():
    need_root()
    _, caps, _, _ = doctor()
    r = run(["doctor"], check=False)
    lines = r.stdout.splitlines()
    assert all(len(l) <= 80 for l in lines), [l for l in lines if len(l) > 80]
    # A record starts at column 0; its wrapped impact and "(detail)"
    # continue on lines indented by 28.
    records = []
    for line in lines:
        if line.startswith(" "):
            assert records and line.startswith(" " * 28), line
            records[-1] += " " + line.strip()
        else:
            records.append(line)
    assert len(records) == len(caps) + 1, records  # + the "core" line
    for rec in records[:-1]:
        m = re.match(r"^([a-z_]+) +(ok|missing|refused|untested) +(.*)$", rec)
        assert m, rec
        c = caps[m.group(1)]
        assert c["status"] == m.group(2), (rec, c)
        if c["detail"]:
            assert rec.endswith("(" + c["detail"] + ")"), (rec, c["detail"])
        if c["impact"]:
            assert m.group(3).startswith(c["impact"]), (rec, c["impact"])
    assert re.match(r"^core +(ok|failed) ", records[-1]), records[-1]


def test_core_uprobe_and_uprobe_multi():
    need_root()
    _, caps, _, _ = doctor()
    assert caps["uprobe"]["ok"], caps["uprobe"]
    assert "3/3" in caps["uprobe"]["detail"], caps["uprobe"]

    # Ground truth: the same probe libbpf uses upstream, done by hand: a
    # KPROBE program with expected attach type 48 loads, and a link on "/"
    # (not a regular file) fails with EBADF only if the kernel knows
    # uprobe_multi links.
    prog = prog_load(BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI)
    link = -1
    try:
        if prog >= 0:
            path = ctypes.create_string_buffer(b"/")
            off = ctypes.c_ulong(0)
            attr = bytearray(64)
            struct.pack_into("<IIII", attr, 0, prog, 0, BPF_TRACE_UPROBE_MULTI, 0)
            struct.pack_into("<QQQQI", attr, 16, ctypes.addressof(path),
                             ctypes.addressof(off), 0, 0, 1)
            link = bpf(BPF_LINK_CREATE, attr)
            supported = link == -9  # EBADF
        else:
            supported = False
    finally:
        close_fd(link)
        close_fd(prog)
    um = caps["uprobe_multi"]
    assert um["ok"] == supported, (um, prog, link)
    if supported:
        assert "cookies 1/2 fired 1/2 times" in um["detail"], um


def test_attach_cookie_matches_a_raw_load():
    need_root()
    _, caps, _, _ = doctor()
    # call bpf_get_attach_cookie (helper 174) in a KPROBE program, as the
    # function-probe programs do; r0 = 0; exit
    prog = struct.pack("<BBhi", 0x85, 0, 0, 174) + TRIVIAL_PROG
    fd = prog_load(BPF_PROG_TYPE_KPROBE, prog=prog)
    close_fd(fd)
    c = caps["attach_cookie"]
    assert c["ok"] == (fd >= 0), (c, fd)
    if not c["ok"]:
        assert "by address" in c["impact"], c


def test_btf_matches_sysfs():
    need_root()
    _, caps, _, _ = doctor()
    present = os.path.exists("/sys/kernel/btf/vmlinux")
    assert caps["btf"]["ok"] == present, caps["btf"]
    if not present:
        assert not caps["tp_btf"]["ok"] and not caps["fentry"]["ok"]


def test_ringbuf_matches_map_create():
    need_root()
    _, caps, _, _ = doctor()
    attr = bytearray(72)
    struct.pack_into("<IIII", attr, 0, BPF_MAP_TYPE_RINGBUF, 0, 0,
                     os.sysconf("SC_PAGESIZE"))
    fd = bpf(BPF_MAP_CREATE, attr)
    close_fd(fd)
    if fd >= 0:
        assert caps["ringbuf"]["ok"], caps["ringbuf"]
    else:
        assert not caps["ringbuf"]["ok"], caps["ringbuf"]
        assert caps["ringbuf"]["errno"] == errno_name(fd), (caps["ringbuf"], fd)


def test_fentry_agrees_with_raw_load():
    need_root()
    _, caps, _, _ = doctor()
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        assert not caps["fentry"]["ok"]
        return
    btf_id = vmlinux_btf_func_id("do_nanosleep")
    if btf_id is None:
        raise Skip("do_nanosleep not in vmlinux BTF")
    fd = prog_load(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, btf_id)
    close_fd(fd)
    for name in ("fentry", "fexit"):
        c = caps[name]
        if fd < 0:
            # e.g. EPERM at load here: refused, and the errno is named
            name_ = errno_name(fd)
            assert not c["ok"], c
            assert c["errno"] == name_, (c, name_)
            assert name_ in c["detail"] and "load" in c["detail"], c
            assert c["status"] == ("refused" if fd in (-1, -13) else "missing"), c
            assert "tp_btf:" in c["impact"], c
        else:
            # loads for real: ok, or else it failed past the load step
            assert c["ok"] or "at load" not in c["detail"], c


def test_kprobe_matches_pmu():
    need_root()
    _, caps, _, _ = doctor()
    pmu = os.path.exists("/sys/bus/event_source/devices/kprobe")
    legacy = any(os.path.exists(os.path.join(m, "kprobe_events"))
                 for m in tracefs_mountpoints())
    if not pmu and not legacy:
        assert caps["kprobe"]["status"] == "missing", caps["kprobe"]
        assert "CONFIG_KPROBES" in caps["kprobe"]["detail"], caps["kprobe"]


def test_privileges_match_capeff():
    need_root()
    _, caps, _, _ = doctor()
    p = caps["privileges"]
    eff = cap_eff()  # the child inherits the test's capabilities as root
    assert int(p["value"], 16) == eff, (p, hex(eff))
    for bit, cap in ((39, "CAP_BPF"), (38, "CAP_PERFMON"), (21, "CAP_SYS_ADMIN")):
        want = "yes" if eff >> bit & 1 else "no"
        assert f"{cap} {want}" in p["detail"], (cap, want, p)
    sys_admin = eff >> 21 & 1
    can = (eff >> 39 & 1 or sys_admin) and (eff >> 38 & 1 or sys_admin)
    assert p["ok"] == bool(can), p


def test_lockdown_matches_securityfs():
    need_root()
    before = securityfs_mounted()
    _, caps, _, _ = doctor()
    # the doctor mounts securityfs only for its read, and unmounts it again
    assert securityfs_mounted() == before
    mounted_here = False
    if not before:
        subprocess.run(["mount", "-t", "securityfs", "securityfs", SECURITYFS],
                       check=True)
        mounted_here = True
    try:
        path = os.path.join(SECURITYFS, "lockdown")
        if os.path.exists(path):
            text = open(path).read()
            m = re.search(r"\[(\w+)\]", text)
            assert m, text
            mode = m.group(1)
        else:
            mode = "none"  # no lockdown LSM
    finally:
        if mounted_here:
            subprocess.run(["umount", SECURITYFS], check=True)
    ld = caps["lockdown"]
    assert ld["value"] == mode, (ld, mode)
    assert ld["detail"].startswith(mode), ld
    wu = caps["probe_write_user"]
    if mode in ("integrity", "confidentiality"):
        assert wu["status"] == "refused", wu
        assert f"lockdown={mode}" in wu["detail"], wu
    if mode == "confidentiality":
        assert not ld["ok"]


def test_tracefs_and_fix():
    """Doctor agrees with /proc/mounts with tracefs unmounted, then --fix
    mounts it; the mount state is restored at the end."""
    need_root()
    was = tracefs_mountpoints()
    if not os.path.isdir("/sys/kernel/tracing"):
        raise Skip("no /sys/kernel/tracing")
    if "/sys/kernel/tracing" in was:
        if subprocess.run(["umount", "/sys/kernel/tracing"]).returncode != 0:
            raise Skip("cannot unmount tracefs (busy)")
    try:
        if tracefs_mountpoints():
            raise Skip("tracefs also mounted under debugfs")
        _, caps, _, _ = doctor()
        t = caps["tracefs"]
        assert not t["ok"] and t["status"] == "missing", t
        assert "mount -t tracefs nodev /sys/kernel/tracing" in t["detail"], t
        assert "--fix" in t["detail"], t
        tp = caps["tracepoint"]
        assert tp["status"] == "untested" and "tracefs" in tp["detail"], tp
        assert not tracefs_mountpoints(), "doctor without --fix mounted tracefs"

        _, caps, _, _ = doctor("--fix")
        now = tracefs_mountpoints()
        assert now == ["/sys/kernel/tracing"], mounts()
        t = caps["tracefs"]
        assert t["ok"] and t["value"] == "/sys/kernel/tracing", t
        event = "/sys/kernel/tracing/events/syscalls/sys_enter_getpid/id"
        assert caps["tracepoint"]["ok"] == os.path.exists(event), caps["tracepoint"]

        # mounted: a plain run agrees as well
        _, caps, _, _ = doctor()
        assert caps["tracefs"]["ok"] and caps["tracefs"]["value"] == "/sys/kernel/tracing"
    finally:
        mounted = "/sys/kernel/tracing" in tracefs_mountpoints()
        if "/sys/kernel/tracing" in was and not mounted:
            subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"])
        elif "/sys/kernel/tracing" not in was and mounted:
            subprocess.run(["umount", "/sys/kernel/tracing"])


def test_non_root_exits_3_with_one_line():
    need_root()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise Skip("no setpriv")
    # a copy nobody can execute, wherever the build tree lives
    d = tmpdir()
    os.chmod(d, 0o755)
    exe = os.path.join(d, "gosnoop")
    shutil.copy(GOSNOOP, exe)
    os.chmod(exe, 0o755)
    drop = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    for extra in ([], ["--json"]):
        r = subprocess.run(drop + [exe] + extra + ["doctor"], capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=d)
        assert r.returncode == NOKERNEL, (r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith("gosnoop: "), lines[0]
        assert "privileges" in lines[0] and "sudo" in lines[0], lines[0]
        assert "CAP_BPF no" in lines[0], lines[0]
        if extra:
            objs = [json.loads(l) for l in r.stdout.splitlines()]
            p = [o for o in objs if o.get("name") == "privileges"][0]
            assert not p["ok"] and p["status"] == "refused", p
            assert int(p["value"], 16) == 0, p
            assert any(o["type"] == "summary" and not o["ok"] for o in objs)


def raw_uprobe_multi_supported():
    """The probe of test_core_uprobe_and_uprobe_multi, by hand."""
    prog = prog_load(BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI)
    link = -1
    try:
        if prog < 0:
            return False
        path = ctypes.create_string_buffer(b"/")
        off = ctypes.c_ulong(0)
        attr = bytearray(64)
        struct.pack_into("<IIII", attr, 0, prog, 0, BPF_TRACE_UPROBE_MULTI, 0)
        struct.pack_into("<QQQQI", attr, 16, ctypes.addressof(path),
                         ctypes.addressof(off), 0, 0, 1)
        link = bpf(BPF_LINK_CREATE, attr)
        return link == -9  # EBADF
    finally:
        close_fd(link)
        close_fd(prog)


def test_without_sys_admin():
    """Root without CAP_SYS_ADMIN (dropped from the bounding set), as in
    deploy/daemonset.yaml: the core works through uprobe_multi where the
    kernel has it (raw probe above), even when the kernel refuses a perf
    uprobe event without CAP_SYS_ADMIN (Linux since 2025, upstream
    ba677dbe77af: then the uprobe line says so); with uprobe_multi turned
    off (GOSNOOP_CLASSIC_UPROBES=1) or missing, a refused perf uprobe is
    the core failure, and the one stderr line names both. `sched` then
    says what it lacks in one line, exit 3; with uprobe_multi it
    traces. Before: core failed on uprobe with uprobe_multi ok."""
    need_root()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise Skip("no setpriv")
    drop = [setpriv, "--bounding-set", "-sys_admin"]

    def doctor_as(env_extra):
        env = dict(os.environ, **env_extra)
        r = subprocess.run(drop + [GOSNOOP, "--json", "doctor"], capture_output=True,
                           text=True, timeout=120, env=env)
        objs = [json.loads(l) for l in r.stdout.splitlines()]
        caps = {o["name"]: o for o in objs if o["type"] == "capability"}
        (summary,) = [o for o in objs if o["type"] == "summary"]
        return r, caps, summary

    multi = raw_uprobe_multi_supported()
    r, caps, summary = doctor_as({})
    assert "CAP_SYS_ADMIN no" in caps["privileges"]["detail"], caps["privileges"]
    up = caps["uprobe"]
    if not up["ok"]:
        assert up["errno"] in ("EACCES", "EPERM") and "needs CAP_SYS_ADMIN" in up["detail"], up
    assert caps["uprobe_multi"]["ok"] == multi, caps["uprobe_multi"]
    if multi:
        assert summary["ok"] and summary["core"][-1] == "uprobe_multi", summary
        assert r.returncode == 0 and r.stderr == "", (r.returncode, r.stderr)
        if not up["ok"]:
            assert up["impact"].startswith("not needed here"), up
    if up["ok"]:
        return      # a kernel without the 2025 change: nothing more to see
    r, caps, summary = doctor_as({"GOSNOOP_CLASSIC_UPROBES": "1"})
    assert not summary["ok"] and summary["failed"] == "uprobe", summary
    assert r.returncode == NOKERNEL, r.returncode
    (line,) = r.stderr.strip().splitlines()
    assert "uprobe" in line and "CAP_SYS_ADMIN" in line, line
    assert ("GOSNOOP_CLASSIC_UPROBES" if multi else "no uprobe_multi") in line, line

    # sched: refused through perf uprobes, one line naming what is missing
    sched = fixture("sched")
    env = dict(os.environ, GOSNOOP_CLASSIC_UPROBES="1")
    r = subprocess.run(drop + [GOSNOOP, "sched", "-d", "1", "--", sched], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == NOKERNEL, (r.returncode, r.stderr)
    (line,) = r.stderr.strip().splitlines()
    assert "Permission denied" in line and "CAP_SYS_ADMIN" in line, line
    # serve's sched: true, the same line (its config line first), exit 3
    p = subprocess.Popen([sched, "-sleep", "5s"], stdout=subprocess.DEVNULL)
    try:
        cfg = os.path.join(tmpdir(), "serve.yaml")
        with open(cfg, "w") as f:
            f.write(f"listen: 127.0.0.1:0\ntargets:\n  - pid: {p.pid}\n    sched: true\n")
        r = subprocess.run(drop + [GOSNOOP, "serve", "--config", cfg], capture_output=True,
                           text=True, timeout=120, env=env)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == NOKERNEL, (r.returncode, r.stderr)
    (line,) = r.stderr.strip().splitlines()
    assert "Permission denied" in line and "CAP_SYS_ADMIN" in line, line
    if multi:
        r = subprocess.run(drop + [GOSNOOP, "--json", "sched", "--", sched],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        m = re.search(r"sched fixture: (\d+) goroutines", r.stdout)
        assert m, r.stdout
        gs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        starts = [g["start"] for g in gs if g.get("type") == "goroutine"
                  and g["start"].startswith("main.")]
        assert len(starts) == int(m.group(1)), (starts, m.group(0))
