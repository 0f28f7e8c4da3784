"""A Go process in a container: its own PID namespace, its own mount
namespace and root (unshare + chroot, what a container runtime does
underneath). The executable is on a tmpfs mounted only in the process's
mount namespace, so the path /proc/PID/exe shows does not exist on the
host, and the process is PID 1 inside. gosnoop is given the host PID and
must find the file through /proc/PID/root, filter by the host tgid, and
read the process's memory: counts and arguments are checked against what
the program printed itself."""
import json
import os
import shutil
import subprocess
import time

import gstest
from gstest import GOSNOOP, Skip, fixture, tmpdir
# the calls fixture's protocol, as test_count_latency reads it
from gstest import wait_for
from test_count_latency import own_counts


def start_contained(name, *args):
    """Run fixture NAME as /app/NAME in a fresh PID + mount namespace, from
    a tmpfs mounted only inside that namespace and chrooted into, as a
    container's root is. Returns (unshare Popen, host PID of the Go
    process, the path /proc/PID/exe shows on the host)."""
    if not shutil.which("unshare") or not shutil.which("chroot"):
        raise Skip("unshare/chroot (util-linux, coreutils) not installed")
    mnt = os.path.join(tmpdir(), "rootfs")
    os.makedirs(mnt)
    script = ('m=$1 f=$2 n=$3; shift 3; mount -t tmpfs gosnoop-test "$m" && '
              'mkdir "$m/app" && cp "$f" "$m/app/$n" && exec chroot "$m" "/app/$n" "$@"')
    # Go without cgo is static: the file alone is a whole root
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", "sh", "-c",
                          script, "sh", mnt, fixture(name), name] + list(args),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(p)
    # unshare forks the namespace's PID 1: sh, which execs chroot, which
    # execs the fixture: the Go process is unshare's child.
    want = os.path.join(mnt, "app", name)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
        except OSError:
            kids = []
        for k in kids:
            try:
                if os.readlink(f"/proc/{k}/exe") == want:
                    return p, int(k), want
            except OSError:
                pass
        time.sleep(0.05)
    p.kill()
    raise AssertionError("the contained process did not start: " + p.stderr.read())


def ns_pid(pid):
    """The PID the process has inside its namespace (NSpid's last)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    return None


def test_count_in_a_container_by_host_pid():
    p, pid, exe = start_contained("calls", "-wait")
    assert p.stdout.readline().strip() == "ready"
    # the premise: a different PID inside; /proc/PID/exe names a path
    # that on the host is an empty directory, not the file
    assert ns_pid(pid) == 1, ns_pid(pid)
    assert not os.path.exists(exe)
    g = subprocess.Popen([GOSNOOP, "--json", "count", "-v", "-p", str(pid),
                          "main.fib", "main.add"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    gstest._procs.append(g)
    wait_for(g.stderr, r"attached \d+ sites")
    p.stdin.write("go\n")
    p.stdin.flush()
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    gout, gerr = g.communicate(timeout=60)   # ends when the PID is gone
    assert g.returncode == 0, gerr
    own = own_counts(out)
    counts = {}
    for line in gout.splitlines():
        rec = json.loads(line)
        if rec.get("type") == "count":
            counts[rec["func"]] = rec["count"]
    assert counts == {"main.fib": own["main.fib"], "main.add": own["main.add"]}, counts


def test_sched_in_a_container_reads_its_goroutines():
    """sched -p on the contained process: the goroutines it has at attach
    are read from its memory (runtime.allgs) and named by start function;
    the fixture's own main goroutine must be there as runtime.main."""
    p, pid, _ = start_contained("calls", "-wait")
    assert p.stdout.readline().strip() == "ready"
    r = subprocess.run([GOSNOOP, "--json", "sched", "-d", "1", "-p", str(pid)],
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    p.stdin.write("go\n")
    p.stdin.flush()
    p.communicate(timeout=120)
    assert r.returncode == 0, r.stderr
    gs = [json.loads(l) for l in r.stdout.splitlines() if '"goroutine"' in l]
    mains = [g for g in gs if g["start"] == "runtime.main"]
    assert len(mains) == 1 and mains[0]["goid"] == 1, gs
    assert all(g["pid"] == pid for g in gs), {g["pid"] for g in gs}
