"""bench/funcs.py - the figures of `gosnoop count` and `gosnoop latency`
(issue 6), called from bench/run: run(results, args).

Every figure is a ratio to a baseline measured in the same run:

per-hit cost  A tight Go loop calls main.work (a small non-leaf function:
              its prologue has the stack-check JBE) N times and prints the
              ns per iteration it measured itself. Cost per hit = traced
              minus untraced. Baselines: an empty BPF program on a classic
              uprobe (attached here through perf_event_open + bpf(2) with
              ctypes, no gosnoop code involved) at main.work's first
              instruction (single-stepped: the floor bpftrace and the
              other tools pay), at its JBE (emulated), and at the first
              instruction plus the RET (the pair a latency tool needs).
              Then gosnoop count / latency (uprobe_multi and classic) and
              bpftrace count / latency (bpftrace's latency needs a
              uretprobe, which is only safe here because main.work never
              grows its stack). Each figure is the fastest of 5 runs
              (other load only adds time).
yardsticks    what a trap costs on this machine, to read the floors by:
              a getppid(2) round trip, an int3 caught as SIGTRAP (trap +
              signal delivery + rt_sigreturn), and an empty uprobe on a
              5-byte NOP, which kernels >= 6.18 turn into a CALL to a
              trampoline that enters the kernel by a syscall instead of
              the int3 trap (arch/x86/kernel/uprobes.c, "optimized
              uprobes"; Go never puts a 5-byte NOP at a function entry,
              so gosnoop cannot use it: this only shows what the trap
              itself costs).
attach/detach gosnoop count over 10, 100, 1000, 5000, 10,000 functions
              (--quick: up to 1000) of the binary with the most functions
              at hand, named with the kernel release: uprobe_multi; the
              classic path of kernels without it (< 6.6): every site one
              probe of a single tracefs uprobe event, one perf event
              (src/bpf/fp_sites.h); and, for comparison, a classic perf
              event per site (GOSNOOP_CLASSIC_UPROBES=per-site; what PIEs
              still get), measured only while the estimate from the
              previous size stays under a minute (each close waits for a
              grace period under the kernel's event_mutex, ~0.1 s here);
              larger sizes are extrapolated per function and marked so.
              Floor: attach+detach of 1 function through one classic
              uprobe (one perf event, one probe: one grace period), the
              least any classic attach costs; classic figures are ratios
              to it.
start, RSS    start-to-attached time and peak RSS of gosnoop count vs
              bpftrace for one probe.
"""
import ctypes
import glob
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOSNOOP = os.environ.get("GOSNOOP") or os.path.join(ROOT, "build", "gosnoop")
CACHE = os.path.expanduser("~/.cache/gosnoop/bench")
CORPUS = os.environ.get("GOSNOOP_CORPUS") or os.path.expanduser("~/.cache/gosnoop/corpus")

LOOP_GO = r'''package main

import (
	"flag"
	"fmt"
	"time"
)

var sink int

//go:noinline
func inner(x int) int { return x ^ 0x5a }

// work has a frame, hence the stack-check prologue: CMP; JBE.
//
//go:noinline
func work(x int) int { return inner(x)*7 + 1 }

func main() {
	n := flag.Int("n", 1000000, "calls")
	flag.Parse()
	t0 := time.Now()
	s := 0
	for i := 0; i < *n; i++ {
		s += work(i)
	}
	sink = s
	fmt.Printf("%.1f\n", float64(time.Since(t0).Nanoseconds())/float64(*n))
}
'''


# ---------------------------------------------------------------- helpers
def build_go(name, source):
    """go build a one-file program into CACHE/name (rebuilt when source
    changes); returns its path."""
    os.makedirs(CACHE, exist_ok=True)
    d = os.path.join(CACHE, name + "-src")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(CACHE, name)
    src = os.path.join(d, "main.go")
    if not os.path.exists(src) or open(src).read() != source:
        with open(src, "w") as f:
            f.write(source)
        with open(os.path.join(d, "go.mod"), "w") as f:
            f.write(f"module {name}\n\ngo 1.19\n")
        if os.path.exists(out):
            os.unlink(out)
    if not os.path.exists(out):
        subprocess.run(["go", "build", "-o", out, "."], cwd=d, check=True,
                       env=dict(os.environ, CGO_ENABLED="0", GOFLAGS="", GOTOOLCHAIN="local"))
    return out


def build_loop():
    return build_go("loop", LOOP_GO)


def elf_vaddr_to_offset(path, vaddr):
    """File offset of vaddr, from the ELF program headers."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    with open(path, "rb") as f:
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", ph, i * phentsize)
        if p_type == 1 and p_vaddr <= vaddr < p_vaddr + p_filesz:
            return vaddr - p_vaddr + p_offset
    raise ValueError(f"{vaddr:#x} not in a PT_LOAD of {path}")


def func_sites(path, name):
    """(entry, jbe, ret) file vaddrs of name, from objdump (independent of
    gosnoop): the first instruction, the prologue's JBE, the first RET."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"^([0-9a-f]+) <" + re.escape(name) + r">:\n(.*?)\n\n", out, re.S | re.M)
    if not m:
        raise ValueError(f"{name} not found by objdump in {path}")
    entry, jbe, ret = int(m.group(1), 16), None, None
    for line in m.group(2).splitlines():
        mm = re.match(r"\s*([0-9a-f]+):\s+(\S+)", line)
        if not mm:
            continue
        if mm.group(2) == "jbe" and jbe is None:
            jbe = int(mm.group(1), 16)
        if mm.group(2) in ("ret", "retq") and ret is None:
            ret = int(mm.group(1), 16)
    return entry, jbe, ret


class EmptyUprobe:
    """An empty BPF program (r0 = 0; exit) on a classic uprobe at a file
    offset, made with the raw syscalls: the floor of what any uprobe tool
    pays at that instruction."""
    SYS_bpf, SYS_perf_event_open = 321, 298
    BPF_PROG_LOAD, BPF_PROG_TYPE_KPROBE = 5, 2
    PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF = 0x2400, 0x40042408

    def __init__(self, path, offsets):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.fds = []
        insns = struct.pack("<BBhi", 0xb7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
        self._insns = ctypes.create_string_buffer(insns, len(insns))
        self._lic = ctypes.create_string_buffer(b"GPL")
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("<IIQQ", attr, 0, self.BPF_PROG_TYPE_KPROBE, 2,
                         ctypes.addressof(self._insns), ctypes.addressof(self._lic))
        self.prog = self.libc.syscall(self.SYS_bpf, self.BPF_PROG_LOAD, attr, 128)
        if self.prog < 0:
            raise OSError(ctypes.get_errno(), "bpf(BPF_PROG_LOAD)")
        pmu = int(open("/sys/bus/event_source/devices/uprobe/type").read())
        self._path = ctypes.create_string_buffer(os.fsencode(path))
        for off in offsets:
            pa = ctypes.create_string_buffer(128)
            struct.pack_into("<II", pa, 0, pmu, 128)
            struct.pack_into("<Q", pa, 8, 0)              # config: entry probe
            struct.pack_into("<Q", pa, 56, ctypes.addressof(self._path))  # config1 = path
            struct.pack_into("<Q", pa, 64, off)            # config2 = offset
            fd = self.libc.syscall(self.SYS_perf_event_open, pa, -1, 0, -1, 8)  # CLOEXEC
            if fd < 0:
                raise OSError(ctypes.get_errno(), "perf_event_open(uprobe)")
            self.fds.append(fd)
            if self.libc.ioctl(fd, self.PERF_EVENT_IOC_SET_BPF, self.prog) or \
               self.libc.ioctl(fd, self.PERF_EVENT_IOC_ENABLE, 0):
                raise OSError(ctypes.get_errno(), "ioctl(SET_BPF/ENABLE)")

    def close(self):
        for fd in self.fds:
            os.close(fd)
        os.close(self.prog)


YARD_C = r'''
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}
static void on_trap(int s) { (void)s; }
/* the probe site: a 5-byte NOP (0f 1f 44 00 00) */
__attribute__((noinline)) void nop5(void)
{
	__asm__ volatile(".globl nop5_site\nnop5_site: .byte 0x0f,0x1f,0x44,0x00,0x00");
}
int main(int argc, char **argv)
{
	int n = atoi(argv[2]);
	double t0 = now();
	if (argv[1][0] == 's') {
		for (int i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (argv[1][0] == 't') {
		signal(SIGTRAP, on_trap);
		for (int i = 0; i < n; i++)
			__asm__ volatile("int3");
	} else {
		for (int i = 0; i < n; i++)
			nop5();
	}
	printf("%.1f\n", (now() - t0) / n);
	return 0;
}
'''


def build_yardstick():
    os.makedirs(CACHE, exist_ok=True)
    src, out = os.path.join(CACHE, "yard.c"), os.path.join(CACHE, "yard")
    if not os.path.exists(src) or open(src).read() != YARD_C:
        with open(src, "w") as f:
            f.write(YARD_C)
        if os.path.exists(out):
            os.unlink(out)
    if not os.path.exists(out):
        subprocess.run(["cc", "-O2", "-no-pie", "-o", out, src], check=True)
    return out


def yardsticks(fig, quick):
    try:
        yard = build_yardstick()
    except (OSError, subprocess.CalledProcessError) as e:
        fig("yardsticks", None, unit="ns", note=f"no C compiler: {e}")
        return
    n = 20000 if quick else 100000

    def one(mode, k=n):
        r = subprocess.run([yard, mode, str(k)], capture_output=True, text=True, check=True)
        return float(r.stdout)

    sc = median_ns(lambda: one("s"), 3)
    fig("yardstick: getppid(2) round trip, ns", sc, unit="ns")
    fig("yardstick: int3 -> SIGTRAP handler -> rt_sigreturn, ns",
        median_ns(lambda: one("t", n // 4), 3), unit="ns", base=("getppid", sc))
    nm = subprocess.run(["nm", yard], capture_output=True, text=True).stdout
    site = next((int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" nop5_site")), None)
    base = median_ns(lambda: one("n"), 3)

    def probed():
        p = EmptyUprobe(yard, [elf_vaddr_to_offset(yard, site)])
        try:
            return one("n")
        finally:
            p.close()
    fig("yardstick: empty uprobe on a 5-byte NOP (syscall, no trap), ns/hit",
        median_ns(probed, 3) - base, unit="ns", base=("getppid", sc))


def run_loop(loop, n):
    r = subprocess.run([loop, "-n", str(n)], capture_output=True, text=True, check=True)
    return float(r.stdout.strip())


def wait_line(stream, pattern, timeout=60):
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise RuntimeError(f"no {pattern!r} in {seen!r}")


def with_gosnoop(args, loop, n):
    """Run the loop while `gosnoop args` is attached: (ns per call, gosnoop
    stdout)."""
    # options before the positional arguments: subcommands do not permute
    g = subprocess.Popen([GOSNOOP, "--json", args[0], "-v"] + args[1:], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_line(g.stderr, r"attached \d+ sites")
        ns = run_loop(loop, n)
    finally:
        g.send_signal(signal.SIGINT)
        out, _ = g.communicate(timeout=300)
    return ns, out


def with_bpftrace(script, loop, n):
    b = subprocess.Popen(["bpftrace", "-e", script], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        wait_line(b.stdout, r"Attaching \d+ probe")
        time.sleep(1.0)      # bpftrace prints before it attaches
        ns = run_loop(loop, n)
    finally:
        b.send_signal(signal.SIGINT)
        out, _ = b.communicate(timeout=300)
    return ns, out


def median_ns(fn, repeat):
    """The fastest of repeat runs: other load on the machine only ever
    adds time, so the minimum is the least disturbed figure."""
    vals = [fn() for _ in range(repeat)]
    return min(vals)


# ---------------------------------------------------------------- figures
def per_hit(fig, loop, quick, have_bpftrace):
    n = 20000 if quick else 100000
    repeat = 1 if quick else 5
    entry, jbe, ret = func_sites(loop, "main.work")
    off = lambda v: elf_vaddr_to_offset(loop, v)
    base = median_ns(lambda: run_loop(loop, n), repeat)
    fig("untraced loop, ns per call", base, unit="ns")

    def empty(offsets):
        def one():
            p = EmptyUprobe(loop, [off(v) for v in offsets])
            try:
                return run_loop(loop, n)
            finally:
                p.close()
        return median_ns(one, repeat) - base

    step = empty([entry])
    emul = empty([jbe])
    pair = empty([entry, ret])
    fig("empty uprobe at main.work's 1st insn (single-step floor), ns/hit", step, unit="ns")
    fig("empty uprobe at main.work's JBE (emulation floor), ns/hit", emul, unit="ns",
        base=("single-step floor", step))
    fig("empty uprobes at 1st insn + RET (pair floor), ns/call", pair, unit="ns",
        base=("single-step floor", step))

    def gos(args, expect_type):
        def one():
            ns, out = with_gosnoop(args, loop, n)
            recs = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            got = [r["count"] for r in recs if r.get("type") == expect_type and r["func"] == "main.work"]
            assert got == [n], f"gosnoop {args} saw {got}, expected [{n}]"
            return ns
        return median_ns(one, repeat) - base

    for label, extra in (("uprobe_multi", []), ("classic", ["--classic-uprobes"])):
        c = gos(["count"] + extra + [loop, "main.work"], "count")
        fig(f"gosnoop count ({label}), ns/hit", c, unit="ns", base=("single-step floor", step),
            target="<= 0.1x single-step floor")
        if label == "uprobe_multi":
            fig("gosnoop count, calls/s counted (every one: count == calls)",
                1e9 / (base + c), unit="/s", base=("emulation floor, /s", 1e9 / (base + emul)))
        lat = gos(["latency"] + extra + [loop, "main.work"], "latency")
        fig(f"gosnoop latency ({label}), ns/call", lat, unit="ns", base=("pair floor", pair),
            target="<= 0.6x pair floor")
        if label == "uprobe_multi":
            fig("gosnoop latency, calls/s timed (every one: count == calls)",
                1e9 / (base + lat), unit="/s", base=("pair floor, /s", 1e9 / (base + pair)))
    if have_bpftrace:
        bc = median_ns(lambda: with_bpftrace(
            f"uprobe:{loop}:main.work {{ @c = count(); }}", loop, n)[0], repeat) - base
        fig("bpftrace count, ns/hit", bc, unit="ns", base=("single-step floor", step))
        bl = median_ns(lambda: with_bpftrace(
            f"uprobe:{loop}:main.work {{ @s[tid] = nsecs; }} "
            f"uretprobe:{loop}:main.work /@s[tid]/ {{ @h = hist(nsecs - @s[tid]); delete(@s[tid]); }}",
            loop, n)[0], repeat) - base
        fig("bpftrace latency (uretprobe: unsafe on Go in general), ns/call", bl, unit="ns",
            base=("pair floor", pair))
        return {"step": step, "bpftrace_count": bc}
    return {"step": step}


def many_functions_binary():
    """The binary with the most functions at hand, and its function names."""
    cands = sorted(glob.glob(os.path.join(CORPUS, "esbuild-*")), key=os.path.getsize)
    go_cmd = os.path.join(CACHE, "go-cmd")
    if os.path.exists(go_cmd):
        cands.append(go_cmd)
    best, names = None, []
    for c in cands[-2:]:
        r = subprocess.run([GOSNOOP, "--json", "list", c], capture_output=True, text=True)
        if r.returncode:
            continue
        ns = [json.loads(l)["name"] for l in r.stdout.splitlines()]
        if len(ns) > len(names):
            best, names = c, ns
    return best, names


def attach_detach(fig, quick):
    binary, names = many_functions_binary()
    if not binary:
        return
    # ordinary packages first, the runtime's own functions after them
    # (needed to reach 10,000; no process runs the binary, so none fires)
    rt = ("runtime.", "internal/", "type:", "type..")
    names = [n for n in names if not n.startswith(rt)] + \
            [n for n in names if n.startswith(rt)]
    sizes = [10, 100, 1000] if quick else [10, 100, 1000, 5000, 10000]
    kernel = "k" + ".".join(os.uname().release.split(".")[:2])
    modes = (("uprobe_multi", [], None),
             ("classic one event", ["--classic-uprobes"], None),
             ("classic event/site", ["--classic-uprobes"], "per-site"))

    def attach_detach_ms(sel, extra, env_classic):
        """(functions, attach ms, detach ms, through what) or (None,
        stderr's tail)"""
        env = dict(os.environ)
        env.pop("GOSNOOP_CLASSIC_UPROBES", None)
        if env_classic:
            env["GOSNOOP_CLASSIC_UPROBES"] = env_classic
        r = subprocess.run([GOSNOOP, "count", "-v", "-d", "0.1"] + extra + [binary] + sel,
                           capture_output=True, text=True, timeout=1200, env=env)
        a = re.search(r"attached (\d+) sites of (\d+) functions through (.+?) in ([\d.]+) ms",
                      r.stderr)
        d = re.search(r"detached in ([\d.]+) ms", r.stderr)
        if not a or not d:
            return None, r.stderr.strip()[-200:]
        return int(a.group(2)), float(a.group(4)), float(d.group(1)), a.group(3)

    floor = attach_detach_ms(names[:1], ["--classic-uprobes"], "per-site")
    if not floor[0]:
        # no perf event per site here (no attach cookie, < 5.15): one
        # function's one event is the same single uprobe
        floor = attach_detach_ms(names[:1], ["--classic-uprobes"], None)
    floor_ms = floor[1] + floor[2] if floor[0] else None
    fig(f"{kernel} attach+detach 1 fn, one classic uprobe (floor)", floor_ms,
        unit="ms", note="" if floor[0] else floor[1])
    base = ("1 function, one classic uprobe", floor_ms)
    per_site = None
    for size in sizes:
        if size > len(names):
            fig(f"attach+detach {size} functions", None, unit="ms",
                note=f"{os.path.basename(binary)} has only {len(names)} functions")
            break
        sel = names[:size]
        # many names: a pattern file would be nicer, but the command line
        # holds 10,000 Go names (~400 kB) easily
        for mode, extra, env_classic in modes:
            limit_s = 2 if quick else 60
            if env_classic == "per-site" and per_site is not None and \
                    per_site * size / 1000 > limit_s:
                fig(f"{kernel} {size} fns, {mode}: ~{per_site * size / 1000:.0f} s "
                    f"(extrapolated)",
                    per_site * size, unit="ms", base=base, note="extrapolated")
                continue
            res = attach_detach_ms(sel, extra, env_classic)
            if res[0] is None:
                fig(f"{kernel} {size} fns, {mode}", None, unit="ms",
                    note=res[1])
                continue
            nf, a_ms, d_ms, via = res
            total = a_ms + d_ms
            target = {1000: "1000 in <= 100 ms", 10000: "10,000 in <= 300 ms"}
            if mode == "uprobe_multi" and via != mode:
                # this kernel has no uprobe_multi: what gosnoop chose
                mode = "default (" + ("one event" if "one tracefs event" in via
                                      else via) + ")"
            fig(f"{kernel} {nf} fns, {mode}: attach {a_ms:.0f} + detach {d_ms:.0f} ms",
                total, unit="ms",
                base=None if mode == "uprobe_multi" else base,
                target=target.get(size, "") if mode != "classic, event per site" else "")
            if env_classic == "per-site":
                per_site = total / nf
    fig_bin = os.path.basename(binary)
    return fig_bin


def start_and_rss(fig, loop, have_bpftrace, quick=False):
    def spawn(cmd, **kw):
        # close_fds=False lets Python spawn with posix_spawn (vfork): a
        # fork of this Python would add its own page-table copy, ~10 ms
        # on this VM, to every start-up figure
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, close_fds=False, **kw)

    def true_start():
        t0 = time.perf_counter()
        spawn(["/bin/true"]).wait()
        return (time.perf_counter() - t0) * 1000

    def gos_start(cmd):
        t0 = time.perf_counter()
        g = spawn([GOSNOOP, cmd, "-v", "-d", "0.3", loop, "main.work"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = wait_line(g.stderr, r"attached \d+ sites")
        # wall: fork/exec, the dynamic loader and everything to attached;
        # own: gosnoop's clock from main's first steps to attached
        dt = (time.perf_counter() - t0) * 1000
        g.communicate(timeout=60)
        own = float(re.search(r"\(([\d.]+) ms after start\)", line).group(1))
        r = subprocess.run(["/usr/bin/time", "-f", "RSS %M", GOSNOOP, cmd, "-d", "0.1", loop,
                            "main.work"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, stdin=subprocess.DEVNULL)
        rss = int(re.search(r"RSS (\d+)", r.stderr).group(1)) / 1024
        return dt, rss, own

    fig("spawn and reap /bin/true from this harness (start floor)",
        statistics.median(true_start() for _ in range(7)), unit="ms")
    b_ms = b_rss = None
    if have_bpftrace:
        def bt_start():
            t0 = time.perf_counter()
            b = subprocess.Popen(["/usr/bin/time", "-f", "RSS %M", "bpftrace", "-e",
                                  f"uprobe:{loop}:main.work {{ @c = count(); }} interval:s:1 {{ exit(); }}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_line(b.stdout, r"Attaching \d+ probe")
            dt = (time.perf_counter() - t0) * 1000
            err = b.communicate(timeout=60)[1]
            rss = int(re.search(r"RSS (\d+)", err).group(1)) / 1024
            return dt, rss
        vals = [bt_start() for _ in range(1 if quick else 3)]
        b_ms = statistics.median(v[0] for v in vals)
        b_rss = max(v[1] for v in vals)
    for cmd in ("count", "latency"):
        vals = [gos_start(cmd) for _ in range(3 if quick else 5)]
        g_ms = statistics.median(v[0] for v in vals)
        g_rss = max(v[1] for v in vals)
        g_own = statistics.median(v[2] for v in vals)
        fig(f"start-to-attached, gosnoop {cmd}, 1 function (wall, with exec)", g_ms, unit="ms",
            base=("bpftrace (until 'Attaching', before its attach)", b_ms), target="<= 30 ms")
        fig(f"start-to-attached, gosnoop {cmd}, 1 function (its own clock)", g_own, unit="ms",
            base=("bpftrace (until 'Attaching', before its attach)", b_ms), target="<= 30 ms")
        fig(f"peak RSS, gosnoop {cmd}, 1 function", g_rss, unit="MB",
            base=("bpftrace", b_rss), target="<= 12 MB")


def run(results, args):
    """Measure, print a table, store results["funcs"]."""
    if os.geteuid() != 0:
        print("funcs: skipped (needs root for uprobes)")
        return
    quick = getattr(args, "quick", False)
    have_bpftrace = shutil.which("bpftrace") is not None
    loop = build_loop()
    figs = []

    def fig(name, value, unit="ns", base=None, target="", note=""):
        bname, bval = base if base else (None, None)
        figs.append({"name": name, "value": value, "unit": unit, "baseline": bname,
                     "baseline_value": bval,
                     "ratio": value / bval if value is not None and bval else None,
                     "target": target, "note": note})

    yardsticks(fig, quick)
    per_hit(fig, loop, quick, have_bpftrace)
    attach_detach(fig, quick)
    start_and_rss(fig, loop, have_bpftrace, quick)

    print(f"\n{'count/latency benchmark':62} {'value':>10} {'baseline':>10} {'ratio':>6}")
    for f in figs:
        v = "-" if f["value"] is None else (f"{f['value']:.0f} {f['unit']}" if f["value"] >= 1e4
                                            else f"{f['value']:.1f} {f['unit']}")
        b = "-" if f["baseline_value"] is None else f"{f['baseline_value']:.1f}"
        r = "-" if f["ratio"] is None else f"{f['ratio']:.3f}"
        print(f"{f['name'][:62]:62} {v:>10} {b:>10} {r:>6}")
        if f["baseline"]:
            print(f"{'':4}baseline: {f['baseline']}")
        if f["target"]:
            print(f"{'':4}target: {f['target']}")
        if f["note"]:
            print(f"{'':4}note: {f['note']}")
    results["funcs"] = figs


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    res = {}
    run(res, ap.parse_args())
    with open(os.path.join(tempfile.gettempdir(), "gosnoop-funcs-bench.json"), "w") as fh:
        json.dump(res, fh, indent=1)
