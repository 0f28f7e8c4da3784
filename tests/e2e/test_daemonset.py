"""deploy/daemonset.yaml and the image the Containerfile builds, run for
real: podman (Debian's, with runc) runs the image with the manifest's own
pod and container settings, read from the YAML (hostPID, hostNetwork,
securityContext: capabilities, seccomp profile, no privilege escalation,
read-only root; its volumes, args, readiness probe and memory limit), and
`gosnoop serve` inside traces Go processes of the host, reached through
/proc/PID/root (one of them nobody's, in a directory only nobody may
read). What the daemon exports must equal what each process counted
itself; `sched: true` and `gosnoop doctor` work with the manifest's
capabilities too (no CAP_SYS_ADMIN: they attach through uprobe_multi).
The other tests check what docs/serve.md says of the settings:
under podman's default seccomp profile bpf() is refused (EPERM); without
uprobe_multi perf uprobes need CAP_SYS_ADMIN; the manifest's own
ConfigMap starts on a node where none of its services runs."""
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import time
import urllib.request

import gstest
from gstest import GOSNOOP, Skip, fixture
from test_serve import own_record, parse_metrics
from test_serve_sched import (LOCKERS, SLEEPERS, SPINNERS, STATES, WORKERS, approx,
                              fixture_goroutines, start_fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
# runc: crun refuses this machine's hybrid cgroups; cgroupfs: no systemd
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
# the session running the tests may lack CAP_SYS_RESOURCE: the runtime
# cannot raise the limits to its defaults then
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def need_podman():
    for tool in ("podman", "runc"):
        if not shutil.which(tool):
            raise Skip(f"{tool} not installed (scripts/deps.sh installs podman and runc)")
    try:
        import yaml  # noqa: F401
    except ImportError:
        raise Skip("python3-yaml not installed (scripts/deps.sh)")


def manifest():
    """(pod spec, the gosnoop container) of deploy/daemonset.yaml."""
    import yaml
    with open(os.path.join(DEPLOY, "daemonset.yaml")) as f:
        docs = list(yaml.safe_load_all(f))
    (ds,) = [d for d in docs if d and d.get("kind") == "DaemonSet"]
    pod = ds["spec"]["template"]["spec"]
    (c,) = [c for c in pod["containers"] if c["name"] == "gosnoop"]
    return pod, c


def memory_bytes(q):
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", q)
    assert m, f"memory quantity {q!r}"
    return int(m.group(1)) * units.get(m.group(2), 1)


def podman_args(pod, c, config_dir):
    """`podman run` options equivalent to the pod spec's and container's
    settings that matter on one node. Settings this does not know fail
    the test: a new one must be translated here, not ignored."""
    args = list(ULIMITS)
    known_pod = {"hostPID", "hostNetwork", "containers", "volumes"}
    assert set(pod) <= known_pod, set(pod) - known_pod
    if pod.get("hostPID"):
        args += ["--pid", "host"]
    if pod.get("hostNetwork"):
        args += ["--network", "host"]
    sc = c.get("securityContext", {})
    known_sc = {"privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
                "capabilities", "seccompProfile"}
    assert set(sc) <= known_sc, set(sc) - known_sc
    if sc.get("privileged"):
        args += ["--privileged"]
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if sc.get("readOnlyRootFilesystem"):
        args += ["--read-only"]
    for cap in sc.get("capabilities", {}).get("drop", []):
        args += ["--cap-drop", cap]
    for cap in sc.get("capabilities", {}).get("add", []):
        args += ["--cap-add", cap]
    prof = sc.get("seccompProfile", {})
    if prof.get("type") == "Localhost":
        # the file the manifest tells to install in kubelet's seccomp root
        path = os.path.join(DEPLOY, prof["localhostProfile"])
        assert os.path.isfile(path), path
        args += ["--security-opt", f"seccomp={path}"]
    elif prof.get("type") == "Unconfined":
        args += ["--security-opt", "seccomp=unconfined"]
    else:
        assert prof.get("type") in (None, "RuntimeDefault"), prof
    limit = c.get("resources", {}).get("limits", {}).get("memory")
    if limit:
        args += ["--memory", str(memory_bytes(limit))]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = vols[m["name"]]
        if "configMap" in v:
            src = config_dir        # the test's own serve.yaml
        else:
            src = v["hostPath"]["path"]
        ro = ":ro" if m.get("readOnly") else ""
        args += ["-v", f"{src}:{m['mountPath']}{ro}"]
    return args


class Image:
    """The Containerfile's image, built from the gosnoop under test
    (scripts/image-root.sh lays out its root), under a tag of its own."""

    def __init__(self):
        self.tag = f"localhost/gosnoop-test:{os.getpid()}"
        root = os.path.join(gstest.tmpdir(), "image-root")
        subprocess.run([os.path.join(ROOT, "scripts", "image-root.sh"), GOSNOOP, root],
                       check=True, capture_output=True, timeout=120)
        r = subprocess.run(PODMAN + ["build", "-q", "-f", os.path.join(ROOT, "Containerfile"),
                                     "-t", self.tag, root],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]

    def remove(self):
        subprocess.run(PODMAN + ["rmi", "-f", self.tag], capture_output=True, timeout=120)


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.read().decode()


def start_waiting(argv):
    """The calls fixture with -wait -hold: ready, then works when told,
    then holds until told again."""
    p = subprocess.Popen(argv + ["-wait", "-hold"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    gstest._procs.append(p)
    assert p.stdout.readline().strip() == "ready", p.stderr.read()
    return p


def run_to_counts(p):
    """Tell a start_waiting() fixture to work; its own counts."""
    p.stdin.write("go\n")
    p.stdin.flush()
    for line in p.stdout:
        if line.startswith('{"counts"'):
            return own_record(line)["counts"]
    raise AssertionError("the fixture printed no counts")


def private_nobody_copy():
    """The fixture in a directory of mode 0700, both owned by nobody."""
    if not shutil.which("setpriv"):
        raise Skip("setpriv (util-linux) not installed")
    top = gstest.tmpdir()
    os.chmod(top, 0o711)        # nobody may pass through, not list
    d = os.path.join(top, "nobody-only")
    os.mkdir(d)
    path = os.path.join(d, "calls")
    shutil.copy2(fixture("calls"), path)
    for f in (path, d):
        os.chown(f, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        os.chmod(f, 0o700)
    return path


def test_daemonset_traces_a_host_process_through_proc_pid_root():
    need_podman()
    pod, c = manifest()
    # the host's Go programs: private copies in directories the
    # container does not mount, so only /proc/PID/root reaches them; one
    # runs as root, one as nobody from a directory and file only nobody
    # may read (what CAP_DAC_READ_SEARCH is for)
    path = os.path.join(gstest.tmpdir(), "calls")
    shutil.copy2(fixture("calls"), path)
    p = start_waiting([path])
    other = private_nobody_copy()
    q = start_waiting(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                       other])
    port = gstest.free_port()
    cfg_dir = gstest.tmpdir()
    os.chmod(cfg_dir, 0o755)
    (cfg_mount,) = [m["mountPath"] for m in c["volumeMounts"] if m["name"] == "config"]
    with open(os.path.join(cfg_dir, "serve.yaml"), "w") as f:
        # exact counts: no overhead budget (serve's default of 1% may
        # throttle main.add's burst; test_serve_overhead tests the budget)
        f.write(f"listen: 127.0.0.1:{port}\ntargets:\n  - pid: {p.pid}\n"
                f"    count: [main.fib, main.add]\n    latency: [main.sleep10ms]\n"
                f"    max_overhead: off\n"
                f"  - pid: {q.pid}\n    count: [main.fib]\n    max_overhead: off\n")
    img = Image()
    name = f"gosnoop-test-{os.getpid()}"
    run = PODMAN + ["run", "--rm", "--name", name] + podman_args(pod, c, cfg_dir) + \
        [img.tag] + c["args"]
    assert c["args"][-1] == os.path.join(cfg_mount, "serve.yaml"), c["args"]
    g = subprocess.Popen(run, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(g)
    try:
        # the manifest's readiness probe, against the port we gave it
        probe = c["readinessProbe"]["httpGet"]["path"]
        deadline = time.monotonic() + 60
        while True:
            try:
                assert get(port, probe) == (200, "ok\n")
                break
            except OSError:
                assert g.poll() is None, g.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "readiness probe never answered"
                time.sleep(0.2)
        own = run_to_counts(p)
        own_other = run_to_counts(q)
        _, text = get(port, "/metrics")
        samples = parse_metrics(text)
        calls = {(int(l["pid"]), l["function"]): v for n, l, v in samples
                 if n == "gosnoop_function_calls_total"}
        assert calls == {(p.pid, "main.fib"): own["main.fib"],
                         (p.pid, "main.add"): own["main.add"],
                         (q.pid, "main.fib"): own_other["main.fib"]}, calls
        timed = [(int(l["pid"]), l["function"], v) for n, l, v in samples
                 if n == "gosnoop_function_duration_seconds_count"]
        assert timed == [(p.pid, "main.sleep10ms", own["main.sleep10ms"])], timed
        procs = [v for n, l, v in samples if n == "gosnoop_target_processes"]
        assert procs == [1, 1], procs
    finally:
        # what the kubelet does: SIGTERM, then wait
        t0 = time.monotonic()
        subprocess.run(PODMAN + ["stop", "-t", "10", name], capture_output=True, timeout=60)
        out, err = g.communicate(timeout=60)
        secs = time.monotonic() - t0
        for proc in (p, q):
            proc.stdin.write("done\n")
            proc.stdin.flush()
        img.remove()
    assert g.returncode == 0, (g.returncode, err[-2000:])
    assert secs < 5.0, secs
    assert "warning" not in err.replace("non-loopback", ""), err


def test_default_seccomp_profile_refuses_bpf():
    """Without the manifest's seccomp profile (podman's default, as
    Kubernetes' RuntimeDefault) the same capabilities are not enough:
    bpf() is refused before the kernel looks at CAP_BPF."""
    need_podman()
    pod, c = manifest()
    c = dict(c)
    c["securityContext"] = dict(c["securityContext"])
    del c["securityContext"]["seccompProfile"]
    img = Image()
    try:
        r = subprocess.run(PODMAN + ["run", "--rm"] + podman_args(pod, c, gstest.tmpdir()) +
                           [img.tag, "doctor"], capture_output=True, text=True, timeout=120)
    finally:
        img.remove()
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert re.search(r"ringbuf\s+refused.*\n.*EPERM at map create", r.stdout), r.stdout


def count_in_container(img, pod, c, extra, pid):
    """`gosnoop count -p PID main.fib main.add` in the image with the
    manifest's settings plus extra podman options, until it attached (or
    failed): (Popen, stderr lines so far)."""
    g = subprocess.Popen(PODMAN + ["run", "--rm"] + podman_args(pod, c, gstest.tmpdir()) +
                         extra + [img.tag, "--json", "count", "-v", "-p", str(pid),
                                  "main.fib", "main.add"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(g)
    err = []
    for line in g.stderr:
        err.append(line)
        if "attached" in line:
            break
    return g, err


def test_classic_uprobes_in_a_container_need_sys_admin():
    """What docs/serve.md says of kernels without uprobe_multi, forced
    here with GOSNOOP_CLASSIC_UPROBES=1: with the manifest's capabilities
    a perf uprobe event is refused (EACCES: Linux wants CAP_SYS_ADMIN for
    them again since 2025); with SYS_ADMIN added the counts are right, and
    with the host's tracefs mounted too the sites go as one tracefs event
    (before: one perf event each, as realpath() of /proc/PID/root/...
    resolves in the container's root, where the file is not)."""
    need_podman()
    pod, c = manifest()
    classic = ["-e", "GOSNOOP_CLASSIC_UPROBES=1"]
    tracefs = "/sys/kernel/tracing"
    have_tracefs = os.path.exists(os.path.join(tracefs, "uprobe_events"))
    img = Image()
    try:
        for add, works in ((False, False), (True, True)):
            p = start_waiting([fixture("calls")])
            extra = ["--cap-add", "SYS_ADMIN"] if add else []
            if add and have_tracefs:
                extra += ["-v", f"{tracefs}:{tracefs}"]
            g, err = count_in_container(img, pod, c, classic + extra, p.pid)
            own = run_to_counts(p)
            p.stdin.write("done\n")
            p.stdin.flush()
            out, rest = g.communicate(timeout=120)      # ends when the PID is gone
            err = "".join(err) + rest
            if not works:
                assert g.returncode == 3 and "Permission denied" in err, (g.returncode, err)
                continue
            assert g.returncode == 0, err
            assert "through classic uprobes" in err, err
            if have_tracefs:
                assert "(one tracefs event)" in err, err
            counts = {r["func"]: r["count"] for r in map(json.loads, out.splitlines())
                      if r.get("type") == "count"}
            assert counts == {"main.fib": own["main.fib"], "main.add": own["main.add"]}, \
                (counts, err)
    finally:
        img.remove()


def test_shipped_configmap_starts_on_a_node_without_its_services():
    """The manifest's own ConfigMap, as shipped, in the image with the
    manifest's settings on this machine, where none of its services runs:
    the daemon serves (its comm: target waits, gosnoop_target_processes
    0 with the ConfigMap's labels) instead of refusing to start. Only the
    address is changed (--listen wins over the file's listen:), as 9464
    may be taken here."""
    need_podman()
    import yaml
    pod, c = manifest()
    with open(os.path.join(DEPLOY, "daemonset.yaml")) as f:
        (cm,) = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "ConfigMap"]
    cfg_dir = gstest.tmpdir()
    os.chmod(cfg_dir, 0o755)
    for name, text in cm["data"].items():
        with open(os.path.join(cfg_dir, name), "w") as f:
            f.write(text)
    port = gstest.free_port()
    img = Image()
    name = f"gosnoop-test-cm-{os.getpid()}"
    g = subprocess.Popen(PODMAN + ["run", "--rm", "--name", name] +
                         podman_args(pod, c, cfg_dir) + [img.tag] + c["args"] +
                         ["--listen", f"127.0.0.1:{port}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(g)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert get(port, c["readinessProbe"]["httpGet"]["path"]) == (200, "ok\n")
                break
            except OSError:
                assert g.poll() is None, g.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "readiness probe never answered"
                time.sleep(0.2)
        procs = [(l, v) for n, l, v in parse_metrics(get(port, "/metrics")[1])
                 if n == "gosnoop_target_processes"]
        assert procs == [({"comm": "myservice", "team": "payments"}, 0)], procs
    finally:
        subprocess.run(PODMAN + ["stop", "-t", "10", name], capture_output=True, timeout=60)
        _, err = g.communicate(timeout=60)
        img.remove()
    assert g.returncode == 0, err


# capability numbers, linux/capability.h
CAP_BITS = {"DAC_READ_SEARCH": 2, "SYS_PTRACE": 19, "SYS_ADMIN": 21,
            "SYS_RESOURCE": 24, "PERFMON": 38, "BPF": 39}


def kernel_has_uprobe_multi():
    """The raw probe of test_doctor (a KPROBE program of expected attach
    type 48, a link on "/": EBADF only where the kernel has the links),
    run here as root, outside gosnoop."""
    from test_doctor import BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI, bpf, \
        BPF_LINK_CREATE, close_fd, prog_load
    import ctypes
    import struct
    prog = prog_load(BPF_PROG_TYPE_KPROBE, BPF_TRACE_UPROBE_MULTI)
    if prog < 0:
        return False
    path = ctypes.create_string_buffer(b"/")
    off = ctypes.c_ulong(0)
    attr = bytearray(64)
    struct.pack_into("<IIII", attr, 0, prog, 0, BPF_TRACE_UPROBE_MULTI, 0)
    struct.pack_into("<QQQQI", attr, 16, ctypes.addressof(path), ctypes.addressof(off), 0, 0, 1)
    link = bpf(BPF_LINK_CREATE, attr)
    close_fd(prog)
    if link >= 0:
        close_fd(link)
    return link == -9


def test_doctor_with_the_manifest_capabilities():
    """`gosnoop --json doctor` in the image with the manifest's settings:
    its CapEff is exactly the manifest's capabilities (drop ALL, add its
    list), and where the kernel has uprobe_multi links (probed here, raw)
    the core is ok through them, exit 0, while the perf uprobe, which the
    kernel refuses without CAP_SYS_ADMIN since 2025, is named with that
    reason. Before: 'core failed', exit 3."""
    need_podman()
    pod, c = manifest()
    add = c["securityContext"]["capabilities"]["add"]
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], c["securityContext"]
    # podman grants no capability outside its own bounding set (this
    # session may lack CAP_SYS_RESOURCE, see ULIMITS)
    with open("/proc/self/status") as f:
        bnd = [int(l.split()[1], 16) for l in f if l.startswith("CapBnd:")][0]
    want_eff = sum(1 << CAP_BITS[n] for n in add) & bnd
    img = Image()
    try:
        r = subprocess.run(PODMAN + ["run", "--rm"] + podman_args(pod, c, gstest.tmpdir()) +
                           [img.tag, "--json", "doctor"], capture_output=True, text=True,
                           timeout=120)
    finally:
        img.remove()
    objs = [json.loads(l) for l in r.stdout.splitlines()]
    caps = {o["name"]: o for o in objs if o["type"] == "capability"}
    (summary,) = [o for o in objs if o["type"] == "summary"]
    priv = caps["privileges"]
    assert int(priv["value"], 16) == want_eff, (priv, hex(want_eff))
    assert "CAP_SYS_ADMIN no" in priv["detail"], priv
    up = caps["uprobe"]
    if not up["ok"]:
        assert up["errno"] in ("EACCES", "EPERM"), up
        assert "needs CAP_SYS_ADMIN" in up["detail"], up
    if not kernel_has_uprobe_multi():
        assert summary["core"][-1] == "uprobe", summary
        if not up["ok"]:
            assert r.returncode == 3 and "no uprobe_multi" in r.stderr, (r.returncode, r.stderr)
        return
    assert caps["uprobe_multi"]["ok"], caps["uprobe_multi"]
    assert summary["core"] == ["privileges", "btf", "ringbuf", "uprobe_multi"], summary
    assert summary["ok"] and r.returncode == 0, (r.returncode, summary, r.stderr)
    assert r.stderr == "", r.stderr
    if not up["ok"]:
        assert up["impact"].startswith("not needed here"), up


def goroutine_series(port, pid):
    """{(name, frozenset(labels without pid and binary)): value} of pid's
    series in /metrics."""
    _, text = get(port, "/metrics")
    out = {}
    for name, labels, v in parse_metrics(text):
        if labels.get("pid") == str(pid):
            rest = {k: x for k, x in labels.items() if k not in ("pid", "binary")}
            out[(name, frozenset(rest.items()))] = v
    return out


def test_daemonset_sched_with_the_manifest_capabilities():
    """A `comm:` target with `sched: true` in the image with the manifest's
    settings (no CAP_SYS_ADMIN; before: 'cannot attach a uprobe ...
    Permission denied' for casgstatus, a perf uprobe). The sched fixture,
    a private copy started once the daemon serves, blocks known
    goroutines: between two scrapes its workers' "chan receive" grows by
    WORKERS times the wall time between them, the waiting gauge counts its
    blocked goroutines, and the number of goroutines it says it started
    is the test's own."""
    need_podman()
    pod, c = manifest()
    name = f"gsx{os.getpid() % 100000}"
    path = os.path.join(gstest.tmpdir(), name)
    shutil.copy2(fixture("sched"), path)
    port = gstest.free_port()
    cfg_dir = gstest.tmpdir()
    os.chmod(cfg_dir, 0o755)
    with open(os.path.join(cfg_dir, "serve.yaml"), "w") as f:
        f.write(f"listen: 127.0.0.1:{port}\ntargets:\n  - comm: {name}\n    sched: true\n")
    img = Image()
    cname = f"gosnoop-test-sched-{os.getpid()}"
    g = subprocess.Popen(PODMAN + ["run", "--rm", "--name", cname] +
                         podman_args(pod, c, cfg_dir) + [img.tag] + c["args"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(g)
    fx = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert get(port, c["readinessProbe"]["httpGet"]["path"]) == (200, "ok\n")
                break
            except OSError:
                assert g.poll() is None, g.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "readiness probe never answered"
                time.sleep(0.2)
        secs = 10
        fx = start_fixture(path, secs)
        t_fx = time.monotonic()
        # the daemon looks for comm: processes once a second
        while True:
            t1 = time.monotonic()
            v1 = goroutine_series(port, fx.pid)
            gs = {dict(k[1])["state"]: v for k, v in v1.items() if k[0] == "gosnoop_goroutines"}
            if gs.get("waiting", 0) >= WORKERS + LOCKERS + SLEEPERS + 1:
                break
            assert g.poll() is None, g.communicate()[1][-2000:]
            assert time.monotonic() - t_fx < secs - 4, \
                f"no goroutines of {fx.pid} seen: {v1}"
            time.sleep(0.2)
        time.sleep(2.0)
        t2 = time.monotonic()
        v2 = goroutine_series(port, fx.pid)
        assert t2 - t_fx < secs - 0.5, f"scrapes took {t2 - t_fx:.1f} s"
        gs = {dict(k[1])["state"]: v for k, v in v2.items() if k[0] == "gosnoop_goroutines"}
        assert set(gs) == STATES, gs
        # workers, lockers, sleepers and main; the runtime's own few
        assert WORKERS + LOCKERS + SLEEPERS + 1 <= gs["waiting"] <= \
            WORKERS + LOCKERS + SLEEPERS + 1 + 8, gs
        wait1 = {dict(k[1])["reason"]: v for k, v in v1.items()
                 if k[0] == "gosnoop_wait_seconds_total"}
        wait2 = {dict(k[1])["reason"]: v for k, v in v2.items()
                 if k[0] == "gosnoop_wait_seconds_total"}
        approx(wait2.get("chan receive", 0) - wait1.get("chan receive", 0),
               WORKERS * (t2 - t1), "chan receive")
        approx(wait2.get("sleep", 0) - wait1.get("sleep", 0),
               (SLEEPERS + 1) * (t2 - t1), "sleep")
        assert fixture_goroutines(fx) == WORKERS + LOCKERS + SLEEPERS + SPINNERS
    finally:
        subprocess.run(PODMAN + ["stop", "-t", "10", cname], capture_output=True, timeout=60)
        _, err = g.communicate(timeout=60)
        img.remove()
    assert g.returncode == 0, err[-2000:]
    assert "warning" not in err.replace("non-loopback", ""), err


def test_sched_command_with_the_manifest_capabilities():
    """`gosnoop --json sched -p PID` in the image with the manifest's
    settings (no CAP_SYS_ADMIN) on a host process of the sched fixture,
    until it exits: every goroutine the fixture says it started (goid and
    function, its -out file) is reported with that start function, those
    already blocked at attach found through runtime.allgs in
    /proc/PID/mem. Before: 'cannot attach a uprobe ... Permission
    denied', exit 3."""
    need_podman()
    pod, c = manifest()
    out = os.path.join(gstest.tmpdir(), "own.json")
    img = Image()
    try:
        # blocked for 8-9 s: the container starts in ~2 s
        p = subprocess.Popen([fixture("sched"), "-sleepers", "3", "-workers", "4",
                              "-lockers", "3", "-spinners", "0", "-sleep", "8s", "-hold", "9s",
                              "-out", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        gstest._procs.append(p)
        time.sleep(0.5)
        r = subprocess.run(PODMAN + ["run", "--rm"] + podman_args(pod, c, gstest.tmpdir()) +
                           [img.tag, "--json", "sched", "-p", str(p.pid)],
                           capture_output=True, text=True, timeout=120)
    finally:
        img.remove()
    p.communicate(timeout=60)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    with open(out) as f:
        own = [json.loads(l) for l in f]
    started = {(o["goid"], o["func"]) for o in own if o["kind"] != "main"}
    assert len(started) == 10, own
    gs = [json.loads(l) for l in r.stdout.splitlines()]
    seen = {(g["goid"], g["start"]) for g in gs if g.get("type") == "goroutine"}
    assert started <= seen, (started - seen, r.stderr[-2000:])
    assert all(g["pid"] == p.pid for g in gs if g.get("type") == "goroutine"), gs


def test_function_probes_ask_nothing_only_sys_admin_may():
    """count --max-overhead (re-linking needs each program's fp_gens map)
    as root without CAP_SYS_ADMIN, the daemon's case, under strace: no
    bpf() call is refused. Before: BPF_MAP_GET_FD_BY_ID, EPERM for every
    map of the program, so re-linked chunks closed their old link before
    the new one (hits in between missed); the map now comes from the
    loaded object. The counts are the fixture's own."""
    if not shutil.which("strace"):
        raise Skip("strace not installed (scripts/deps.sh)")
    if not shutil.which("setpriv"):
        raise Skip("setpriv (util-linux) not installed")
    log = os.path.join(gstest.tmpdir(), "strace.log")
    r = subprocess.run(["setpriv", "--bounding-set", "-sys_admin", "strace", "-f", "-e",
                        "trace=bpf", "-o", log, GOSNOOP, "--json", "count", "--max-overhead",
                        "5", "main.fib", "main.add", "--", fixture("calls")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    calls = open(log).read()
    assert "BPF_PROG_LOAD" in calls, calls[-2000:]     # strace saw gosnoop's calls
    refused = [l for l in calls.splitlines() if "bpf(" in l and
               re.search(r"= -1 (EPERM|EACCES)", l)]
    assert refused == [], refused
    recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    own = [own_record(l)["counts"] for l in r.stdout.splitlines() if l.startswith('{"counts"')]
    assert own, r.stdout
    counts = {x["func"]: x["count"] for x in recs if x.get("type") == "count"}
    assert counts == {"main.fib": own[0]["main.fib"], "main.add": own[0]["main.add"]}, counts
