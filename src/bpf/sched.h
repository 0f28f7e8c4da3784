/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Shared by src/bpf/sched.bpf.c and the user space of `gosnoop sched`
 * (src/cmd_sched.c, src/sched_report.c): limits, map values and ring
 * buffer records. One layout, no copies.
 *
 * Live goroutines are keyed by (pid, g pointer), not by goid: newproc1
 * calls casgstatus(newg, _Gdead, _Grunnable) *before* it stores the new
 * goid (go/src/runtime/proc.go, go1.19: newproc1 "casgstatus(newg,
 * _Gdead, _Grunnable)" then "newg.goid = int64(_p_.goidcache)"), so at
 * creation gp->goid still holds a dead goroutine's id. The goid is read
 * at the goroutine's next transition; records carry it.
 */
#ifndef GOSNOOP_BPF_SCHED_H
#define GOSNOOP_BPF_SCHED_H

/* Status values are indexes (runtime2.go: _Gidle 0 .. _Gdeadextra 11 in
 * go1.26); 16 leaves room. Values >= SCHED_NSTATUS are counted, dropped. */
#define SCHED_NSTATUS		16
/* waitReason is a uint8; go1.26 has 47. */
#define SCHED_NREASONS		64
/* log2 buckets of the runnable -> running latency: slot i counts
 * latencies in [2^i, 2^(i+1)) ns, slot 0 also 0 and 1 ns. */
#define SCHED_HIST_SLOTS	40
#define SCHED_MAX_GOROUTINES	65536
#define SCHED_RINGBUF_BYTES	(4 << 20)

/* Go's status values the program itself needs (runtime2.go, all releases
 * go1.13 .. go1.26). */
#define SCHED_G_IDLE		0
#define SCHED_G_RUNNABLE	1
#define SCHED_G_RUNNING		2
#define SCHED_G_SYSCALL		3
#define SCHED_G_WAITING		4
#define SCHED_G_DEAD		6
#define SCHED_G_SCAN		0x1000

enum sched_abi {
	SCHED_ABI_REGS = 0,	/* gp, old, new in RAX, RBX, RCX */
	SCHED_ABI_STACK = 1,	/* ABI0: at entry SP+8, SP+16, SP+20 */
};

/* Counters in the program's `stats` array. */
enum sched_stat {
	SCHED_STAT_HITS = 0,	/* probe hits (after the pid filter) */
	SCHED_STAT_SKIPPED,	/* hits at the stack-check JBE when taken */
	SCHED_STAT_READ_FAIL,	/* could not read args or g fields */
	SCHED_STAT_BAD_STATUS,	/* status >= SCHED_NSTATUS */
	SCHED_STAT_MAP_FULL,	/* a goroutine not tracked: map full */
	SCHED_STAT_LOST_EVENTS,	/* transition records the ring was full for */
	SCHED_STAT_LOST_ENDS,	/* goroutine-end records lost */
	SCHED_STAT_MISMATCH,	/* old status != the state we last saw */
	SCHED_STAT_STACKS_LOST,	/* --pprof: waits not counted (map full) */
	SCHED_NSTATS,
};

struct sched_key {
	__u32 pid;		/* tgid */
	__u32 pad;
	__u64 gp;		/* address of the runtime.g */
};

/* Flags of a struct sched_g. */
#define SCHED_GF_CREATED	0x1	/* seen created (dead -> x) */
#define SCHED_GF_GOID_PENDING	0x2	/* goid not yet assigned */
#define SCHED_GF_DEAD		0x4	/* seen exit (x -> dead) */

/* What the program keeps per live goroutine. */
struct sched_g {
	__u64 goid;
	__u64 gp;
	__u64 startpc;		/* run-time addresses */
	__u64 gopc;
	__u64 created_ns;	/* CLOCK_MONOTONIC; 0: existed before */
	__u64 first_ns;		/* first seen */
	__u64 last_ns;		/* last transition */
	__u64 ns[SCHED_NSTATUS];	/* time in each status */
	__u32 transitions;
	__u32 last_tid;
	__u8 last_state;
	__u8 last_reason;	/* waitReason when it entered waiting */
	__u8 flags;		/* SCHED_GF_* */
	__u8 pad[5];
};

struct sched_reason_stat {
	__u64 count;
	__u64 ns;
};

/* Running totals over every goroutine the program watched (one per-CPU
 * slot): what `gosnoop serve` exports as counters without needing a
 * goroutine's end record. Time is added when a goroutine leaves a status. */
struct sched_totals {
	__u64 state_ns[SCHED_NSTATUS];	/* time spent in each status */
	__u64 latency_ns;		/* sum of runnable -> running latencies */
};

enum sched_rec_type {
	SCHED_REC_TRANSITION = 1,	/* only with events_enabled */
	SCHED_REC_END = 2,		/* a goroutine exited: its totals */
};

struct sched_transition {
	__u32 type;		/* SCHED_REC_TRANSITION */
	__u32 pid;
	__u32 tid;
	__u8 from, to;
	__u8 reason;		/* waitReason when to == waiting */
	__u8 from_reason;	/* waitReason it left, when from == waiting */
	__u64 ts_ns;
	__u64 goid;
	__u64 gp;
	__u64 startpc;		/* run-time address, for names and filters */
};

struct sched_end {
	__u32 type;		/* SCHED_REC_END */
	__u32 pid;
	struct sched_g g;
};

/*
 * sched --pprof: where goroutines wait. At each park (-> waiting) the
 * program walks the goroutine's own stack by frame pointers from
 * gp.sched (casgstatus runs on g0 there: mcall or systemstack saved the
 * goroutine's pc/sp/bp) and keeps it per goroutine in park_stacks; at
 * the wake-up the wait's time is added to `blocked` under that stack
 * and the wait reason. Only with pprof_enabled. With pprof_per_goroutine
 * (--goid, --start) the key also holds the goroutine's id and start pc,
 * so that user space keeps only the goroutines asked for (one key per
 * goroutine and stack then, instead of per stack).
 */
#define SCHED_STACK_MAX		32
#define SCHED_MAX_BLOCK_STACKS	16384

/* Key of `blocked`, and the value of park_stacks. */
struct sched_block_key {
	__u32 pid;
	__u32 reason;		/* waitReason */
	__u32 depth;		/* pcs[] used */
	__u32 flags;		/* SCHED_BLOCK_*: 0 from the probe */
	__u64 goid;		/* 0 unless pprof_per_goroutine */
	__u64 startpc;		/* run-time address; 0 likewise */
	__u64 pcs[SCHED_STACK_MAX];	/* leaf first: gp.sched.pc, then the
					   return addresses of the frame chain */
};

/* sched_block_key.flags: the park was not seen but read from the process
 * at -p's attach (sched_pprof__seed_park); its wait counts from the
 * attach. */
#define SCHED_BLOCK_BEFORE_ATTACH	0x1

/* Value of park_stacks: the goroutine's last park. Kept while the
 * goroutine lives and rewritten in place at each park (no allocation and
 * free per wait); parked says whether the wait is still to be counted. */
struct sched_park {
	__u32 parked;		/* 1 from the park to the wake-up */
	__u32 pad;
	struct sched_block_key k;
};

struct sched_block_val {
	__u64 count;		/* waits that ended */
	__u64 ns;		/* their total time */
};

#endif /* GOSNOOP_BPF_SCHED_H */
