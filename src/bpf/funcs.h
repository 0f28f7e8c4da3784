/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Shared by src/bpf/funcs.bpf.c and the user space of the function probes
 * (src/probe/funcprobe.c, src/cmd_count.c, src/cmd_latency.c): the cookie
 * layout, limits and map values. One layout, no copies.
 *
 * Every attached site (a function's entry probe point, or one of its RET
 * instructions) carries a 64-bit cookie:
 *
 *	bits  0..23  function id: index into the per-function maps (and the
 *	             spec array of programs that need more per function)
 *	bits 24..31  FP_SITE_* flags
 *	bits 32..63  sp_delta (entry sites): bytes the prologue allocated
 *	             before the probe point, so the return address is at
 *	             RSP + sp_delta there (0 at a RET: RSP points at it)
 *
 * The hot path then needs no map lookup to know what a hit is.
 */
#ifndef GOSNOOP_BPF_FUNCS_H
#define GOSNOOP_BPF_FUNCS_H

#define FP_FID_BITS		24
#define FP_FID_MASK		((1u << FP_FID_BITS) - 1)
#define FP_MAX_FUNCS		(1u << FP_FID_BITS)

#define FP_SITE_ENTRY		(1u << 24)
#define FP_SITE_RET		(1u << 25)
/* The entry site is the prologue's stack-check JBE: a hit with CF or ZF
 * set takes the branch to morestack, which re-enters the function from
 * its first instruction, so that hit is not a call (it would count twice). */
#define FP_SITE_SKIP_JBE	(1u << 26)

/* EFLAGS bits in pt_regs->flags. */
#define FP_EFLAGS_CF		0x001u
#define FP_EFLAGS_ZF		0x040u

#define FP_COOKIE(fid, flags, sp_delta) \
	((__u64)((fid) & FP_FID_MASK) | (__u64)(flags) | \
	 ((__u64)(__u32)(sp_delta) << 32))

/*
 * `gosnoop serve`'s comm: targets: the processes running one file share
 * one set of links on it (no PID filter), and the programs find a hit's
 * process in the `slots` hash (tgid -> slot, kept by user space as
 * processes come and go). Its counters are then at key fid + slot *
 * nfuncs; a hit from a process not in the map (the file run under
 * another name) is not counted. At most FP_MAX_SLOTS processes a set.
 */
#define FP_MAX_SLOTS		4096

/* log2 buckets: slot i holds durations in [2^i, 2^(i+1)) ns, slot 0 also
 * 0 ns; the last slot everything from 2^(FP_HIST_SLOTS-1) ns (~4.6 min). */
#define FP_HIST_SLOTS		40

/* Open calls kept in a goroutine's array (recursion depth). Deeper ones
 * go to the `deep_frames` hash, chained per goroutine (struct fp_deep),
 * so depth is bounded only by that map's size; a call that finds it full
 * is not timed (FP_STAT_DEPTH_OVERFLOW, and its function's `untimed`). */
#define FP_MAX_DEPTH		32
/* Open calls deeper than FP_MAX_DEPTH, all goroutines of all processes:
 * 262144 x ~100 bytes at most, allocated only while such calls are open
 * (a 3000-deep recursion needs 2968). */
#define FP_MAX_DEEP_FRAMES	262144
/* Dead chained frames (returns never seen: a panic unwound them) dropped
 * per hit at most; the rest go at the next hits of the goroutine (a
 * return under more of them stays unpaired, its call counted untimed).
 * Each one more costs the verifier a whole path: 64 made fp_latency load
 * in 300 ms instead of 5 ms. */
#define FP_MAX_DEEP_POP		4
/* Goroutines with a timed call open at the same time, all processes. An
 * entry leaves when its goroutine's last open call returns; one that died
 * with calls open (a process exiting from inside a timed call) stays
 * until the end; beyond this many, entries are counted in map-full. */
#define FP_MAX_GOROUTINES	16384
#define FP_MAX_GOID_KEYS	65536

#if defined(__bpf__)
/*
 * x86-64 struct pt_regs (arch/x86/include/uapi/asm/ptrace.h, a stable
 * ABI), spelled out here: vmlinux.h's copy would make every access a
 * CO-RE relocation, and an object with any of them makes libbpf load and
 * parse the kernel's BTF (~13 MB of RSS, tens of ms at start). For the
 * same reason the one kernel offset needed (task->thread.fsbase) is a
 * constant set before load.
 */
struct fp_regs {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	__u64 ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#endif

/* How the programs find the current goroutine (runtime.g). */
enum fp_g_source {
	FP_G_TLS = 0,		/* *(fsbase + tls_g_offset): every ABI, also
				   in assembly functions that reuse R14;
				   fsbase read at off_task_fsbase */
	FP_G_R14 = 1,		/* register ABI, when no probed function
				   writes R14 (funcs_r14.bpf.c: no CO-RE) */
};

/* Counters in the latency program's `stats` array. */
enum fp_stat {
	FP_STAT_ENTRIES = 0,	/* entry hits counted as calls */
	FP_STAT_SKIPPED_JBE,	/* entry hits on the morestack path */
	FP_STAT_PAIRED,		/* returns paired with their entry */
	FP_STAT_UNPAIRED,	/* returns without an entry (attached
				   mid-call, or the entry was too deep) */
	FP_STAT_STALE,		/* entries whose return never came (panic
				   unwinding, tail jumps): dropped */
	FP_STAT_REENTRY,	/* an entry seen twice at the same frame */
	FP_STAT_DEPTH_OVERFLOW,	/* entries deeper than FP_MAX_DEPTH that
				   found deep_frames full: not timed */
	FP_STAT_READ_FAIL,	/* could not read g or g.stack.hi */
	FP_STAT_MAP_FULL,	/* goroutine state could not be stored */
	FP_NSTATS,
};

/*
 * Per-function (per-CPU) latency aggregate. min_ns/max_ns bound the
 * estimates read from the buckets (a log2 bucket is as wide as its lower
 * bound); they cannot be subtracted like the counts, so they belong to
 * one `epoch` of the program: mm_tag is epoch + 1 when they were last
 * set, and the first call of a newer epoch starts them over.
 */
struct fp_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 slots[FP_HIST_SLOTS];
	__u64 min_ns;
	__u64 max_ns;
	__u64 mm_tag;		/* epoch + 1 of min_ns/max_ns; 0: none */
	/* calls entered but not timed: no room to remember the entry (a
	 * map full, g unreadable), or entered and never returned (stale:
	 * unwound by a panic). count + untimed = the calls seen. */
	__u64 untimed;
};

/* One open call of a goroutine. off: g.stack.hi minus the address of the
 * call's return address slot. Go's stack copying moves frames but keeps
 * their distance from stack.hi (runtime/stack.go copystack: "adjust"
 * everything by new.hi - old.hi), so off identifies a frame across
 * moves, and deeper frames have larger off. */
struct fp_frame {
	__u64 ts;
	__u32 fid;
	__u32 off;
};

struct fp_gkey {
	__u32 pid;		/* tgid */
	__u32 pad;
	__u64 g;		/* address of the runtime.g */
};

struct fp_gstack {
	__u32 depth;
	__u32 deep_top;		/* off of the deepest chained frame in
				   deep_frames; 0: none (off is never 0:
				   a return address lies below stack.hi) */
	struct fp_frame frames[FP_MAX_DEPTH];
};

/* An open call beyond the array, keyed by its goroutine and its frame
 * (off, as in fp_frame: stable across stack copies). `next` is the off
 * of the chained frame below it (a shallower one), 0 for the last, so
 * the chain is a stack through the hash and a return finds its entry
 * with one lookup, however deep. */
struct fp_deep_key {
	__u32 pid;
	__u32 off;
	__u64 g;
};

struct fp_deep {
	__u64 ts;
	__u32 fid;
	__u32 next;
};

struct fp_goid_key {
	__u32 fid;
	__u32 pid;		/* tgid: goids are per process */
	__u64 goid;
};

#endif /* GOSNOOP_BPF_FUNCS_H */
