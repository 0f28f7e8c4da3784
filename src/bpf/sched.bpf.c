// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * gosnoop sched: one uprobe on runtime.casgstatus(gp, oldval, newval).
 * Every goroutine state change of the Go scheduler goes through it, except
 * the GC's scan-bit dances and its suspension of a running goroutine,
 * running -> preempted -> waiting (plain CASes: proc.go casGToPreemptScan,
 * casGFromPreempted, go1.19), which show up as a mismatch between the old
 * status and the last one seen.
 *
 * Aggregation stays here: per goroutine the time in each status and the
 * number of changes, the runnable -> running latency histogram, and time
 * per wait reason. The ring buffer carries a goroutine's totals when it
 * exits and, only with events_enabled, one record per change.
 *
 * The probe may sit a few instructions after the entry (see
 * gobin__probe_point): sp_delta says how far RSP moved, skip_flags when
 * the hit is at the stack-check JBE whose taken branch re-enters.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "sched.h"
#include "bpf_log2.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#ifndef EEXIST
#define EEXIST 17	/* asm-generic/errno-base.h */
#endif

/* Set before load. */
const volatile __u32 abi = SCHED_ABI_REGS;
const volatile __s64 sp_delta = 0;
const volatile __u32 skip_flags = 0;
const volatile __u32 target_tgid = 0;	/* 0: every process */
const volatile bool events_enabled = false;
/* serve aggregates from `totals` and the map, never reads the ring */
const volatile bool ends_enabled = true;
const volatile bool syscall_hooks = false;	/* go1.26+, see the end */
const volatile __u32 off_goid = 152;
const volatile __u32 off_waitreason = 176;
const volatile __u32 off_startpc = 312;
const volatile __u32 off_gopc = 296;
/* sched --pprof (sched.h): stacks at parks, time per stack; off unless
 * asked, then also the g fields the walk needs */
const volatile bool pprof_enabled = false;
const volatile bool pprof_per_goroutine = false;
const volatile __u32 off_stack_lo = 0;
const volatile __u32 off_stack_hi = 8;
const volatile __u32 off_sched_pc = 64;
const volatile __u32 off_sched_bp = 104;

__u64 stats[SCHED_NSTATS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCHED_MAX_GOROUTINES);
	__type(key, struct sched_key);
	__type(value, struct sched_g);
} goroutines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCHED_HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} latency_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCHED_NREASONS);
	__type(key, __u32);
	__type(value, struct sched_reason_stat);
} wait_reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_totals);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SCHED_RINGBUF_BYTES);
} events SEC(".maps");

/* --pprof: the stack each waiting goroutine parked at */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCHED_MAX_GOROUTINES);
	__type(key, struct sched_key);
	__type(value, struct sched_park);
} park_stacks SEC(".maps");

/* --pprof: waits that ended, per (pid, reason, stack) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCHED_MAX_BLOCK_STACKS);
	__type(key, struct sched_block_key);
	__type(value, struct sched_block_val);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_park);
} block_scratch SEC(".maps");

/* A zeroed value to insert from (too big for the BPF stack with the rest). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sched_g);
} scratch SEC(".maps");

static __always_inline void stat_inc(int i)
{
	if (i >= 0 && i < SCHED_NSTATS)
		__sync_fetch_and_add(&stats[i], 1);
}

static __always_inline __u8 read_reason(__u64 gp)
{
	__u8 r = 0;

	if (bpf_probe_read_user(&r, sizeof(r), (void *)(gp + off_waitreason)))
		stat_inc(SCHED_STAT_READ_FAIL);
	return r;
}

static __always_inline __u64 read_goid(__u64 gp)
{
	__u64 id = 0;

	if (bpf_probe_read_user(&id, sizeof(id), (void *)(gp + off_goid)))
		stat_inc(SCHED_STAT_READ_FAIL);
	return id;
}

static __always_inline void emit_transition(__u32 pid, __u32 tid, __u64 ts,
					    __u64 goid, __u64 gp, __u64 startpc,
					    __u8 from, __u8 to, __u8 reason,
					    __u8 from_reason)
{
	struct sched_transition *r;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(SCHED_STAT_LOST_EVENTS);
		return;
	}
	r->type = SCHED_REC_TRANSITION;
	r->pid = pid;
	r->tid = tid;
	r->from = from;
	r->to = to;
	r->reason = reason;
	r->from_reason = from_reason;
	r->ts_ns = ts;
	r->goid = goid;
	r->gp = gp;
	r->startpc = startpc;
	bpf_ringbuf_submit(r, 0);
}

static __always_inline void emit_end(__u32 pid, struct sched_g *g)
{
	struct sched_end *r;

	if (!ends_enabled)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(SCHED_STAT_LOST_ENDS);
		return;
	}
	r->type = SCHED_REC_END;
	r->pid = pid;
	__builtin_memcpy(&r->g, g, sizeof(*g));
	bpf_ringbuf_submit(r, 0);
}

/*
 * --pprof: goroutine gp parks with reason; keep its stack. casgstatus
 * runs on g0 then (park_m under mcall, or a systemstack call), and
 * mcall/systemstack saved the goroutine's pc and frame pointer in
 * gp.sched: the walk starts there. If the probe's own stack pointer
 * (usp) is on gp's stack, casgstatus was called there and gp.sched is
 * stale: the walk starts at the probe's frame pointer (ubp) instead.
 * Frames are [bp] = caller's bp, [bp+8] = return address (Go keeps
 * frame pointers on amd64), all inside [stack.lo, stack.hi).
 */
static __always_inline void park_stack(struct sched_key *key, __u64 gp,
				       __u32 reason, __u64 usp, __u64 ubp)
{
	struct sched_park *p;
	struct sched_block_key *k;
	__u64 lo = 0, hi = 0, pc = 0, bp = 0, frame[2];
	__u32 zero = 0, n = 0;
	bool fresh = false;

	/* the goroutine's entry from an earlier park, written in place */
	p = bpf_map_lookup_elem(&park_stacks, key);
	if (!p) {
		p = bpf_map_lookup_elem(&block_scratch, &zero);
		fresh = true;
	}
	if (!p)
		return;
	p->parked = 0;	/* not a wait to count unless the walk completes */
	k = &p->k;
	if (bpf_probe_read_user(&lo, sizeof(lo), (void *)(gp + off_stack_lo)) ||
	    bpf_probe_read_user(&hi, sizeof(hi), (void *)(gp + off_stack_hi))) {
		stat_inc(SCHED_STAT_READ_FAIL);
		return;
	}
	k->pid = key->pid;
	k->reason = reason;
	k->flags = 0;
	k->goid = 0;
	k->startpc = 0;
	if (pprof_per_goroutine) {
		k->goid = read_goid(gp);
		if (bpf_probe_read_user(&k->startpc, sizeof(k->startpc),
					(void *)(gp + off_startpc)))
			k->startpc = 0;
	}
	if (usp >= lo && usp < hi) {
		bp = ubp;
	} else if (bpf_probe_read_user(&pc, sizeof(pc),
				       (void *)(gp + off_sched_pc)) ||
		   bpf_probe_read_user(&bp, sizeof(bp),
				       (void *)(gp + off_sched_bp))) {
		stat_inc(SCHED_STAT_READ_FAIL);
		return;
	}
	if (pc)
		k->pcs[n++] = pc;
	for (int i = 0; i < SCHED_STACK_MAX; i++) {
		if (n >= SCHED_STACK_MAX || bp < lo || bp + 16 > hi ||
		    bpf_probe_read_user(frame, sizeof(frame), (void *)bp) ||
		    !frame[1])
			break;
		k->pcs[n & (SCHED_STACK_MAX - 1)] = frame[1];
		n++;
		if (frame[0] <= bp)
			break;
		bp = frame[0];
	}
	k->depth = n;
	/* the map key is the whole struct: no stale pcs past depth */
	for (int i = 0; i < SCHED_STACK_MAX; i++)
		if (i >= n)
			k->pcs[i] = 0;
	p->parked = 1;
	if (fresh && bpf_map_update_elem(&park_stacks, key, p, BPF_NOEXIST))
		stat_inc(SCHED_STAT_STACKS_LOST);
}

/* --pprof: the wait of key's goroutine ended after ns: count it under
 * the stack it parked at (none kept: it parked before we attached and
 * -p's snapshot did not read it, sched_pprof__seed_park). */
static __always_inline void wait_done(struct sched_key *key, __u64 ns)
{
	struct sched_park *p = bpf_map_lookup_elem(&park_stacks, key);
	struct sched_block_val *v, nv = { 1, ns };

	/* no park seen for this wait (before the attach, or one the runtime
	 * made without casgstatus): not counted under a stale stack */
	if (!p || !p->parked)
		return;
	p->parked = 0;
	v = bpf_map_lookup_elem(&blocked, &p->k);
	if (!v) {
		if (!bpf_map_update_elem(&blocked, &p->k, &nv, BPF_NOEXIST))
			return;		/* inserted with this wait */
		/* EEXIST: another CPU added it just now */
		v = bpf_map_lookup_elem(&blocked, &p->k);
		if (!v) {
			stat_inc(SCHED_STAT_STACKS_LOST);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->ns, ns);
}

/* The first sighting of a goroutine: its creation (dead -> x) or, when
 * we attached to a running process, whatever it was doing. */
static __always_inline int track_new(struct sched_key *key, __u64 gp,
				     __u32 old, __u32 new, __u32 tid, __u64 now)
{
	struct sched_g *z;
	__u32 zero = 0;
	long err;

	z = bpf_map_lookup_elem(&scratch, &zero);
	if (!z)
		return 0;
	__builtin_memset(z, 0, sizeof(*z));
	z->gp = gp;
	bpf_probe_read_user(&z->startpc, sizeof(z->startpc),
			    (void *)(gp + off_startpc));
	bpf_probe_read_user(&z->gopc, sizeof(z->gopc), (void *)(gp + off_gopc));
	z->first_ns = now;
	z->last_ns = now;
	z->last_tid = tid;
	if (old == SCHED_G_DEAD) {
		/* goid is assigned after this call (see sched.h) */
		z->flags = SCHED_GF_CREATED | SCHED_GF_GOID_PENDING;
		z->created_ns = now;
		z->transitions = 1;
		z->last_state = new;
	} else {
		/* already running when we attached: this change counts */
		z->goid = read_goid(gp);
		z->transitions = 1;
		z->last_state = new;
	}
	if (new == SCHED_G_WAITING)
		z->last_reason = read_reason(gp);
	err = bpf_map_update_elem(&goroutines, key, z, BPF_NOEXIST);
	if (err) {
		/* EEXIST: user space seeded it from runtime.allgs just now */
		if (err != -EEXIST)
			stat_inc(SCHED_STAT_MAP_FULL);
		return 0;
	}
	if (events_enabled && !(z->flags & SCHED_GF_GOID_PENDING))
		emit_transition(key->pid, tid, now, z->goid, gp, z->startpc,
				old, new,
				new == SCHED_G_WAITING ? z->last_reason : 0,
				old == SCHED_G_WAITING ? read_reason(gp) : 0);
	return 0;
}

/*
 * One status change of goroutine gp: old -> new, seen by casgstatus or,
 * from_casg false, by the syscall hooks below.
 */
static __always_inline int on_change(__u32 tgid, __u32 tid, __u64 now,
				     __u64 gp, __u32 old, __u32 new,
				     bool from_casg, __u64 usp, __u64 ubp)
{
	struct sched_key key = {};
	struct sched_g *g;
	struct sched_totals *tot;	/* serve's counters */
	__u64 delta;
	__u32 st, reason, from_reason = 0, zero = 0;

	old &= ~SCHED_G_SCAN;
	new &= ~SCHED_G_SCAN;
	if (old >= SCHED_NSTATUS || new >= SCHED_NSTATUS || !gp) {
		stat_inc(SCHED_STAT_BAD_STATUS);
		return 0;
	}
	key.pid = tgid;
	key.gp = gp;
	g = bpf_map_lookup_elem(&goroutines, &key);
	/*
	 * With the syscall hooks, the runtime's slow path (its CAS failed, or
	 * a synctest bubble) calls casgstatus for the very change the hook
	 * has just counted: the goroutine is already in `new`.
	 */
	if (g && from_casg && syscall_hooks && g->last_state == new &&
	    ((old == SCHED_G_RUNNING && new == SCHED_G_SYSCALL) ||
	     (old == SCHED_G_SYSCALL && new == SCHED_G_RUNNING)))
		return 0;
	if (g && old == SCHED_G_DEAD) {
		/* this g died without our seeing it (a change we cannot
		 * see); it is being reused for a new goroutine now */
		stat_inc(SCHED_STAT_MISMATCH);
		if (!(g->flags & SCHED_GF_GOID_PENDING)) {
			g->flags |= SCHED_GF_DEAD;
			emit_end(tgid, g);
		}
		bpf_map_delete_elem(&goroutines, &key);
		g = NULL;
	}
	if (!g) {
		/* malg: a fresh g put on allgs as dead; not a goroutine yet */
		if (old == SCHED_G_IDLE || new == SCHED_G_DEAD)
			return 0;
		if (pprof_enabled && new == SCHED_G_WAITING)
			park_stack(&key, gp, read_reason(gp), usp, ubp);
		return track_new(&key, gp, old, new, tid, now);
	}
	if (g->flags & SCHED_GF_GOID_PENDING) {
		g->goid = read_goid(gp);
		g->flags &= ~SCHED_GF_GOID_PENDING;
		if (events_enabled)
			emit_transition(tgid, g->last_tid, g->created_ns,
					g->goid, gp, g->startpc, SCHED_G_DEAD,
					g->last_state,
					g->last_state == SCHED_G_WAITING ?
					g->last_reason : 0, 0);
	}
	delta = now - g->last_ns;
	/*
	 * The interval since the last change belongs to `old`: when they
	 * differ, changes we cannot see happened (preemption's plain CASes)
	 * and old is what the goroutine was in just before now.
	 */
	st = old;
	if (st != g->last_state)
		stat_inc(SCHED_STAT_MISMATCH);
	g->ns[st & (SCHED_NSTATUS - 1)] += delta;
	tot = bpf_map_lookup_elem(&totals, &zero);
	if (tot)
		tot->state_ns[st & (SCHED_NSTATUS - 1)] += delta;
	if (old == SCHED_G_RUNNABLE && new == SCHED_G_RUNNING &&
	    g->last_state == SCHED_G_RUNNABLE) {
		__u32 slot = log2_slot(delta, SCHED_HIST_SLOTS);
		__u64 *cnt = bpf_map_lookup_elem(&latency_hist, &slot);

		if (cnt)
			*cnt += 1;
		if (tot)
			tot->latency_ns += delta;
	}
	if (old == SCHED_G_WAITING) {
		struct sched_reason_stat *rs;

		reason = g->last_state == SCHED_G_WAITING ? g->last_reason
							  : read_reason(gp);
		reason &= SCHED_NREASONS - 1;
		from_reason = reason;
		rs = bpf_map_lookup_elem(&wait_reasons, &reason);
		if (rs) {
			rs->count++;
			rs->ns += delta;
		}
		if (pprof_enabled)
			wait_done(&key, delta);
	}
	g->transitions++;
	g->last_state = new;
	g->last_ns = now;
	g->last_tid = tid;
	reason = 0;
	if (new == SCHED_G_WAITING) {
		reason = read_reason(gp);
		g->last_reason = reason;
		if (pprof_enabled)
			park_stack(&key, gp, reason, usp, ubp);
	}
	if (events_enabled)
		emit_transition(tgid, tid, now, g->goid, gp, g->startpc, old,
				new, reason, from_reason);
	if (new == SCHED_G_DEAD) {
		g->flags |= SCHED_GF_DEAD;
		emit_end(tgid, g);
		bpf_map_delete_elem(&goroutines, &key);
		if (pprof_enabled)
			bpf_map_delete_elem(&park_stacks, &key);
	}
	return 0;
}

SEC("uprobe")
int sched_casgstatus(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	__u64 now, gp = 0;
	__u32 old = 0, new = 0;

	if (target_tgid && tgid != target_tgid)
		return 0;
	now = bpf_ktime_get_ns();
	stat_inc(SCHED_STAT_HITS);
	if (skip_flags && (ctx->flags & skip_flags)) {
		stat_inc(SCHED_STAT_SKIPPED);
		return 0;
	}
	if (abi == SCHED_ABI_REGS) {
		gp = ctx->ax;
		old = (__u32)ctx->bx;
		new = (__u32)ctx->cx;
	} else {
		__u64 base = ctx->sp + sp_delta;

		if (bpf_probe_read_user(&gp, 8, (void *)(base + 8)) ||
		    bpf_probe_read_user(&old, 4, (void *)(base + 16)) ||
		    bpf_probe_read_user(&new, 4, (void *)(base + 20))) {
			stat_inc(SCHED_STAT_READ_FAIL);
			return 0;
		}
	}
	return on_change(tgid, tid, now, gp, old, new, true,
			 ctx->sp + sp_delta, ctx->bp);
}

/*
 * go1.26+: reentersyscall and exitsyscall switch running <-> syscall with
 * a plain CAS on g.atomicstatus and call casgstatus only when that fails
 * (src/runtime/proc.go, "Try to do a quick CAS to avoid calling into
 * casgstatus", CL 708596). Both are nosplit Go functions of the calling
 * goroutine: g is in R14 (register ABI), the change is implied.
 */
static __always_inline int syscall_hook(__u64 gp, __u32 old, __u32 new)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	if (target_tgid && tgid != target_tgid)
		return 0;
	stat_inc(SCHED_STAT_HITS);
	return on_change(tgid, (__u32)pid_tgid, bpf_ktime_get_ns(), gp, old,
			 new, false, 0, 0);
}

SEC("uprobe")
int sched_entersyscall(struct pt_regs *ctx)
{
	return syscall_hook(ctx->r14, SCHED_G_RUNNING, SCHED_G_SYSCALL);
}

SEC("uprobe")
int sched_exitsyscall(struct pt_regs *ctx)
{
	return syscall_hook(ctx->r14, SCHED_G_SYSCALL, SCHED_G_RUNNING);
}
