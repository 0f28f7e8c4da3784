// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Function probes for `gosnoop count` and `gosnoop latency`.
 *
 * One program per command, attached to many sites at once (one
 * uprobe_multi link, or one classic uprobe per site as the fallback); the
 * cookie of each site says which function and what kind of site it is
 * (funcs.h). Everything is aggregated here; user space only reads maps.
 *
 * fp_latency: entry and RET sites (fp_count, entry sites only, lives in
 *             funcs_count.bpf.c). Calls are paired per goroutine (key:
 *             pid, g pointer) on a small stack of open frames, each
 *             identified by its distance from g.stack.hi (stable when Go
 *             copies the stack); calls deeper than that array are chained
 *             through a hash (deep_frames), one lookup per hit at any
 *             depth. A return pops everything deeper than its
 *             own frame first: entries whose return never came because a
 *             panic unwound them or a tail jump left the function.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "funcs.h"
#include "fp_sites.h"
#include "bpf_log2.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load. */
const volatile __u32 g_source = FP_G_TLS;
const volatile __s64 tls_g_offset = -8;
const volatile __u32 off_stack_hi = 8;	/* runtime.g.stack.hi */
const volatile __u32 off_goid = 152;
/* task_struct.thread.fsbase, from the kernel's BTF by user space
 * (src/probe/kbtf.c): a constant, not a CO-RE relocation, so libbpf never
 * loads the whole kernel BTF for this object */
const volatile __u32 off_task_fsbase = 0;
const volatile bool per_goid = false;
/* `gosnoop serve` with buckets: configured: slot i counts durations in
 * (bounds[i-1], bounds[i]] ns, slot nbounds the rest; 0: log2 slots. */
const volatile __u32 nbounds = 0;
const volatile __u64 bounds[FP_HIST_SLOTS - 1] = {};

__u64 stats[FP_NSTATS] = {};

/*
 * `gosnoop latency -i`: the `hists` map holds two halves of nfuncs
 * entries, and calls go to half (epoch & 1). At each interval user space
 * bumps epoch and reads the half just left, where nothing else lands:
 * its counts, and its min/max (tagged epoch + 1), are exactly the
 * interval's. 0 (one half) everywhere else.
 */
const volatile __u32 nfuncs = 0;
__u32 epoch = 0;

/*
 * serve's shared links (fp_slots.h): a function's key is fid + slot *
 * nfuncs from the hit on (kept as the fid in its open frames: a goroutine
 * is in one process). epoch stays 0.
 */
#include "fp_slots.h"

/* Sized to the number of functions before load (twice that: see epoch;
 * times the slots with by_slot). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FP_MAX_GOID_KEYS);
	__type(key, struct fp_goid_key);
	__type(value, struct fp_hist);
} goid_hists SEC(".maps");

/*
 * Not preallocated (an LRU hash always is: 16384 stacks of 520 bytes took
 * ~16 ms to create at start-up here, more than everything else in
 * `latency`), so an entry exists only while its goroutine has a timed
 * call open: on_return deletes it when the last one returns.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FP_MAX_GOROUTINES);
	__type(key, struct fp_gkey);
	__type(value, struct fp_gstack);
} gstacks SEC(".maps");

/* Open calls deeper than the array of their goroutine (funcs.h). Not
 * preallocated either: a frame exists only while its call is open. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FP_MAX_DEEP_FRAMES);
	__type(key, struct fp_deep_key);
	__type(value, struct fp_deep);
} deep_frames SEC(".maps");

/* Zeroed values to insert from: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_gstack);
} zero_gstack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_hist);
} zero_hist SEC(".maps");

static __always_inline void stat_inc(int i)
{
	if (i >= 0 && i < FP_NSTATS)
		__sync_fetch_and_add(&stats[i], 1);
}

/* At the stack-check JBE, CF|ZF set means "branch to morestack". */
static __always_inline bool takes_morestack(struct fp_regs *ctx, __u64 cookie)
{
	return (cookie & FP_SITE_SKIP_JBE) &&
	       (ctx->flags & (FP_EFLAGS_CF | FP_EFLAGS_ZF));
}

static __always_inline __u64 current_g(struct fp_regs *ctx)
{
#ifdef FP_G_FROM_R14_ONLY
	return ctx->r14;
#else
	__u64 g = 0, fsbase = 0, task;

	if (g_source == FP_G_R14)
		return ctx->r14;
	task = bpf_get_current_task();
	if (bpf_probe_read_kernel(&fsbase, sizeof(fsbase),
				  (void *)(task + off_task_fsbase)) ||
	    bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase + tls_g_offset)))
		return 0;
	return g;
#endif
}

static __always_inline void hist_add(struct fp_hist *h, __u64 dur, __u64 tag)
{
	__u32 slot = log2_slot(dur, FP_HIST_SLOTS);

	if (nbounds) {
		slot = nbounds;
		for (__u32 i = 0; i < FP_HIST_SLOTS - 1; i++) {
			if (i < nbounds && dur <= bounds[i]) {
				slot = i;
				break;
			}
		}
	}

	h->count++;
	h->sum_ns += dur;
	if (slot < FP_HIST_SLOTS)
		h->slots[slot]++;
	if (h->mm_tag != tag) {
		h->min_ns = dur;
		h->max_ns = dur;
		h->mm_tag = tag;
	} else if (dur < h->min_ns) {
		h->min_ns = dur;
	} else if (dur > h->max_ns) {
		h->max_ns = dur;
	}
}

static __always_inline void record(__u32 fid, __u32 pid, __u64 g, __u64 dur)
{
	__u32 e = *(volatile __u32 *)&epoch, key = fid;
	struct fp_hist *h;

	if (e & 1)
		key += nfuncs;
	h = bpf_map_lookup_elem(&hists, &key);
	if (h)
		hist_add(h, dur, (__u64)e + 1);
	if (per_goid) {
		struct fp_goid_key k = { .fid = fid, .pid = pid };
		__u32 zero = 0;

		if (bpf_probe_read_user(&k.goid, sizeof(k.goid),
					(void *)(g + off_goid))) {
			stat_inc(FP_STAT_READ_FAIL);
			return;
		}
		/* one goroutine runs on one thread at a time, and the key
		 * holds its goid: no concurrent writers */
		h = bpf_map_lookup_elem(&goid_hists, &k);
		if (!h) {
			struct fp_hist *z = bpf_map_lookup_elem(&zero_hist, &zero);

			if (!z)
				return;
			if (bpf_map_update_elem(&goid_hists, &k, z, BPF_NOEXIST) &&
			    !bpf_map_lookup_elem(&goid_hists, &k)) {
				stat_inc(FP_STAT_MAP_FULL);
				return;
			}
			h = bpf_map_lookup_elem(&goid_hists, &k);
			if (!h)
				return;
		}
		hist_add(h, dur, (__u64)e + 1);
	}
}

/* A call of fid was seen but will not be timed (fp_hist.untimed). */
static __always_inline void untimed(__u32 fid)
{
	__u32 key = fid;
	struct fp_hist *h;

	if (*(volatile __u32 *)&epoch & 1)
		key += nfuncs;
	h = bpf_map_lookup_elem(&hists, &key);
	if (h)
		h->untimed++;
}

/*
 * fp_hist.untimed of the array's frames [from, to) of goroutine (pid, g):
 * calls popped as dead. A global function, so the verifier checks it
 * once: a helper call inside the pop loops multiplied the states of every
 * path after them (fp_latency took 5x longer to load). Scalar arguments
 * only, the stack looked up again: kernels before 5.12 refuse pointers
 * into a global function ("Arg#0 type PTR ... not supported yet").
 */
__noinline int untimed_frames(__u32 pid, __u64 g, __u32 from, __u32 to)
{
	struct fp_gkey key = { .pid = pid, .g = g };
	struct fp_gstack *st = bpf_map_lookup_elem(&gstacks, &key);

	if (!st)
		return 0;
	for (__u32 i = 0; i < FP_MAX_DEPTH; i++) {
		__u32 d = from + i;

		if (d >= to || d >= FP_MAX_DEPTH)
			break;
		/* index the array afresh each time, masked: clang would
		 * otherwise walk a pointer the verifier cannot bound */
		asm volatile("" : "+r"(d));
		d &= FP_MAX_DEPTH - 1;
		untimed(st->frames[d].fid);
	}
	return 0;
}

/*
 * Drop chained frames at least as deep as off (deeper than off when
 * !at_entry: a return's own frame stays): their returns were missed.
 * Bounded per hit; what is left is dropped at later hits, since a chain
 * deeper than the goroutine's current frame is always dead.
 */
static __always_inline void deep_pop_dead(struct fp_gstack *st,
					  struct fp_gkey *key, __u32 off,
					  __u32 fid, bool at_entry)
{
	struct fp_deep_key dk = { .pid = key->pid, .g = key->g };
	struct fp_deep *df;

	for (int i = 0; i < FP_MAX_DEEP_POP; i++) {
		__u32 top = st->deep_top;

		if (!top || top < off || (top == off && !at_entry))
			break;
		dk.off = top;
		df = bpf_map_lookup_elem(&deep_frames, &dk);
		if (!df) {
			/* swept (process gone) or never stored: nothing
			 * below can be found either */
			st->deep_top = 0;
			break;
		}
		/* fid here is on_entry's fid_twice */
		if (at_entry && top == off && df->fid == fid) {
			stat_inc(FP_STAT_REENTRY);
		} else {
			stat_inc(FP_STAT_STALE);
			untimed(df->fid);
		}
		st->deep_top = df->next;
		bpf_map_delete_elem(&deep_frames, &dk);
	}
}

/* Chain a call beyond the array; 0, or -1 when it cannot be timed. */
static __always_inline int deep_push(struct fp_gstack *st,
				     struct fp_gkey *key, __u32 off, __u32 fid)
{
	struct fp_deep_key dk = { .pid = key->pid, .off = off, .g = key->g };
	struct fp_deep df = { .fid = fid, .next = st->deep_top };

	df.ts = bpf_ktime_get_ns();
	/* NOEXIST: a frame still chained at this off (dropping dead ones
	 * ran out of its bound) must not be relinked into a cycle */
	if (bpf_map_update_elem(&deep_frames, &dk, &df, BPF_NOEXIST)) {
		stat_inc(FP_STAT_DEPTH_OVERFLOW);
		untimed(fid);
		return -1;
	}
	st->deep_top = off;
	stat_inc(FP_STAT_ENTRIES);
	return 0;
}

static __always_inline int on_entry(struct fp_regs *ctx, __u64 cookie,
				    __u32 fid, struct fp_gkey *key, __u64 hi)
{
	struct fp_gstack *st;
	__u64 sp = ctx->sp + (__s64)(__s32)(cookie >> 32);
	__u32 off = (__u32)(hi - sp), d;
	__u32 zero = 0;
	/* The same function entered again at the same frame is the entry
	 * firing twice for one call (morestack re-enters from the top) only
	 * where such hits are not already skipped at the JBE; elsewhere the
	 * earlier call never returned (a panic unwound it, and its caller
	 * called again): a call not timed. fid_twice is the fid a frame
	 * must have to be that, computed without a branch (a bool here
	 * doubled the verifier's states: 7k -> 22k instructions): fid, or,
	 * at a JBE site, fid | bit 31, which no fid has (FP_FID_BITS). */
	__u32 fid_twice = fid | ((__u32)(cookie >> 26) & 1) << 31;
	_Static_assert(FP_SITE_SKIP_JBE == 1u << 26, "fid_twice's shift");
	__u32 d0, reentry = 0;

	st = bpf_map_lookup_elem(&gstacks, key);
	if (!st) {
		struct fp_gstack *z = bpf_map_lookup_elem(&zero_gstack, &zero);

		if (!z)
			return 0;
		bpf_map_update_elem(&gstacks, key, z, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&gstacks, key);
		if (!st) {
			stat_inc(FP_STAT_MAP_FULL);
			untimed(fid);
			return 0;
		}
	}
	/* chained frames are deeper than the array's: dead ones go first,
	 * and while live ones remain, this call is deeper still */
	if (st->deep_top) {
		deep_pop_dead(st, key, off, fid_twice, true);
		if (st->deep_top)
			return deep_push(st, key, off, fid);
	}
	/*
	 * Frames as deep as ours or deeper (off >= ours) cannot be live
	 * callers of this call: their returns were missed (or, same function
	 * at the same frame, the entry fired twice). Drop them.
	 */
	d0 = st->depth;
	for (int i = 0; i < FP_MAX_DEPTH; i++) {
		d = st->depth;
		if (d == 0 || d > FP_MAX_DEPTH)
			break;
		d = (d - 1) & (FP_MAX_DEPTH - 1);
		if (st->frames[d].off < off)
			break;
		if (st->frames[d].off == off && st->frames[d].fid == fid_twice) {
			/* the shallowest popped: the loop ends here */
			stat_inc(FP_STAT_REENTRY);
			reentry = 1;
		} else {
			stat_inc(FP_STAT_STALE);
		}
		st->depth = d;
	}
	d = st->depth;
	if (d + reentry < d0 && d0 <= FP_MAX_DEPTH)
		untimed_frames(key->pid, key->g, d + reentry, d0);
	if (d >= FP_MAX_DEPTH)
		return deep_push(st, key, off, fid);
	/* keep the mask: the verifier needs the bound on this register */
	asm volatile("" : "+r"(d));
	d &= FP_MAX_DEPTH - 1;
	st->frames[d].ts = bpf_ktime_get_ns();
	st->frames[d].fid = fid;
	st->frames[d].off = off;
	st->depth = d + 1;
	stat_inc(FP_STAT_ENTRIES);
	return 0;
}

static __always_inline int on_return(struct fp_regs *ctx, __u32 fid,
				     struct fp_gkey *key, __u64 hi)
{
	struct fp_gstack *st;
	__u32 off = (__u32)(hi - ctx->sp), d, d0;
	__u64 now = bpf_ktime_get_ns();

	st = bpf_map_lookup_elem(&gstacks, key);
	if (!st) {
		stat_inc(FP_STAT_UNPAIRED);
		return 0;
	}
	if (st->deep_top) {
		struct fp_deep_key dk = { .pid = key->pid, .off = off,
					  .g = key->g };
		struct fp_deep *df;

		deep_pop_dead(st, key, off, fid, false);
		if (st->deep_top) {
			/* ours is on top, or (a return deeper than every
			 * open call, or dead frames left over) no entry */
			df = st->deep_top == off ?
			     bpf_map_lookup_elem(&deep_frames, &dk) : NULL;
			if (!df || df->fid != fid) {
				stat_inc(FP_STAT_UNPAIRED);
				return 0;
			}
			st->deep_top = df->next;
			stat_inc(FP_STAT_PAIRED);
			record(fid, key->pid, key->g, now - df->ts);
			bpf_map_delete_elem(&deep_frames, &dk);
			return 0;
		}
	}
	/* deeper frames than ours are dead: their returns were missed */
	d0 = st->depth;
	for (int i = 0; i < FP_MAX_DEPTH; i++) {
		d = st->depth;
		if (d == 0 || d > FP_MAX_DEPTH)
			break;
		d = (d - 1) & (FP_MAX_DEPTH - 1);
		if (st->frames[d].off <= off)
			break;
		stat_inc(FP_STAT_STALE);
		st->depth = d;
	}
	d = st->depth;
	if (d < d0 && d0 <= FP_MAX_DEPTH)
		untimed_frames(key->pid, key->g, d, d0);
	if (d == 0 || d > FP_MAX_DEPTH) {
		stat_inc(FP_STAT_UNPAIRED);
		return 0;
	}
	d = (d - 1) & (FP_MAX_DEPTH - 1);
	if (st->frames[d].off != off || st->frames[d].fid != fid) {
		stat_inc(FP_STAT_UNPAIRED);
		return 0;
	}
	st->depth = d;
	stat_inc(FP_STAT_PAIRED);
	record(fid, key->pid, key->g, now - st->frames[d].ts);
	if (d == 0 && !st->deep_top)
		bpf_map_delete_elem(&gstacks, key);
	return 0;
}

static __always_inline int latency_site(struct fp_regs *ctx, bool by_ip)
{
	struct fp_gkey key = {};
	__u64 cookie, hi = 0;
	__u32 fid;

	if (!fp_site_cookie_by(ctx, &cookie, by_ip))
		return 0;
	fid = cookie & FP_FID_MASK;
	if (!fp_slot_fid(&fid, nfuncs))
		return 0;	/* not one of the target's processes */
	if (cookie & FP_SITE_ENTRY) {
		if (takes_morestack(ctx, cookie)) {
			stat_inc(FP_STAT_SKIPPED_JBE);
			return 0;
		}
		if (cookie & FP_SITE_RET) {
			/* a function that is a bare RET: a call of 0 ns */
			stat_inc(FP_STAT_ENTRIES);
			stat_inc(FP_STAT_PAIRED);
			record(fid, bpf_get_current_pid_tgid() >> 32,
			       current_g(ctx), 0);
			return 0;
		}
	}
	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.g = current_g(ctx);
	if (!key.g ||
	    bpf_probe_read_user(&hi, sizeof(hi), (void *)(key.g + off_stack_hi))) {
		stat_inc(FP_STAT_READ_FAIL);
		if (cookie & FP_SITE_ENTRY)
			untimed(fid);
		return 0;
	}
	if (cookie & FP_SITE_ENTRY)
		return on_entry(ctx, cookie, fid, &key, hi);
	return on_return(ctx, fid, &key, hi);
}

SEC("uprobe")
int fp_latency(struct fp_regs *ctx)
{
	return latency_site(ctx, false);
}

/* Without bpf_get_attach_cookie: sites by address (fp_sites.h). */
SEC("?uprobe")
int fp_latency_ip(struct fp_regs *ctx)
{
	return latency_site(ctx, true);
}
