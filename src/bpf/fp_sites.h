/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Classic uprobes without one perf event per site (src/probe/funcprobe.c),
 * shared by the function-probe programs and their user space.
 *
 * Closing a classic uprobe's perf event waits for RCU grace periods
 * (perf_uprobe_destroy -> perf_trace_event_unreg ->
 * tracepoint_synchronize_unregister, under the global event_mutex, so
 * closes never overlap): ~0.1 s per site here, 1000 functions took 109 s
 * to detach. Kernels without uprobe_multi links (< 6.6) therefore get
 * every site of a funcprobe as one probe of a single tracefs uprobe event
 * ("p:gosnoop/NAME PATH:OFF" appended once per site, kernel >= 5.4), opened
 * as one perf event: one close, one grace period, whatever the count.
 *
 * That perf event carries one cookie, FP_SITE_BY_IP; the site's own
 * cookie (funcs.h layout) is in fp_sites, keyed by the address the uprobe
 * sits at: pt_regs->ip at a uprobe hit, which the kernel resets to the
 * breakpoint's address before it runs the handlers (kernel/events/
 * uprobes.c handle_swbp). Only for binaries loaded at their link address
 * (ET_EXEC, Go's default), where that address is the same in every
 * process; a PIE keeps one perf event per site.
 *
 * Kernels without bpf_get_attach_cookie (before 5.15) refuse any program
 * that calls it, so each function-probe program has a twin NAME_ip that
 * finds every site by address alone (fp_site_cookie_by(..., true): the
 * helper call is compiled out); funcprobe__prepare loads one of the two.
 * There every site goes through fp_sites, a PIE's with the load bias of
 * the one process traced (-p), and a PIE in every process cannot be done.
 */
#ifndef GOSNOOP_BPF_FP_SITES_H
#define GOSNOOP_BPF_FP_SITES_H

/* A cookie bit no site has (funcs.h: flags are bits 24..31). */
#define FP_SITE_BY_IP		(1u << 31)
/*
 * uprobe_multi links hold FP_CHUNK_FUNCS functions each (by fid), so
 * that funcprobe__reattach (the overhead budget) rebuilds only the chunks
 * whose functions go off or on. A chunk's new link is attached with the
 * other generation (FP_SITE_GEN in its attach cookies) before the old one
 * closes; fp_gens[chunk] then flips: the links of the generation in
 * fp_gens are the ones that count (while both are attached, below). Classic
 * uprobes are replaced all at once, every chunk flipping; a shared
 * event's generation is on its one perf cookie (FP_SITE_BY_IP |
 * FP_SITE_GEN) and in fp_gens[0]. Sized by funcprobe__prepare; a chunk
 * past its end and the by-address twins (no attach cookie: there
 * reattach closes the old probes first) are not checked.
 *
 * A hit whose two handlers (new link, old link) run across the flip
 * would count twice or not at all. The kernel runs a uprobe's consumers
 * newest first, on every kernel (kernel/events/uprobes.c consumer_add:
 * the consumer is put at the head of the list, 5.10-6.11 under
 * register_rwsem held across a hit's whole chain, from 6.12 with
 * list_add_rcu and a lockless walk), and a classic event's BPF program
 * runs from its own trace_uprobe's consumer (a new event, new
 * consumers): the new link's handler runs first. Between the two the
 * task may be preempted or migrate, but it runs no other hit (it is in
 * its breakpoint trap until the chain ends). So while a chunk is moving
 * (FP_GEN_MOVING, from before the new link is attached until the old one
 * is closed) the new link's handler counts every hit and says so in
 * fp_flips under the thread's id, with the site's address and the move's
 * epoch; the old link's handler, finding that record, does not count.
 * Without a record the new link had no part in the hit: the old link
 * counts it before the flip, and after it only if the function is in the
 * new links (fp_offs: else it is being turned off). That is a hit whose
 * walk of the consumers began before the new link was added (from 6.12
 * the walk takes no lock: under qemu on one CPU a walk preempted at its
 * start outlived the attach and the flip), or, classic, one that ran the
 * new event's consumer while the target was not yet in its filter (the
 * program is on before: funcprobe_attach.c's attach_shared). The new link
 * does not decide by the flip: from 6.12 the old link may be unlinked
 * after the flip while a hit is between the two handlers, and that hit
 * would be left to no one (seen: 1 in 20 re-links under qemu). So a
 * function turned on counts from its new link's attach, one turned off
 * until the flip: both within the re-attach. A record the old link never
 * reads (it closed meanwhile) is ignored by epoch and address. Left: a
 * record evicted from fp_flips between the two handlers of one hit (an
 * LRU map of FP_FLIPS_MAX entries, one per thread) would count that hit
 * twice; classic, a hit that ran the new event's consumer before the
 * target was in its filter and the old one's after its program was
 * detached would count nowhere: up to 6.11 the target's perf event's
 * open waits for such hits (attach_shared), from 6.12 nothing does
 * (the walk holds no lock the open takes); a perf event per site (a PIE)
 * gets its program after the probe is on, on every kernel.
 */
#define FP_SITE_GEN		(1u << 30)
/* fp_gens[chunk]: the generation that counts, and while the chunk moves
 * the new links' generation and the move's epoch (bits 3..31) */
#define FP_GEN_CUR		(1u << 0)
#define FP_GEN_MOVING		(1u << 1)
#define FP_GEN_NEW		(1u << 2)
#define FP_GEN_EPOCH_SHIFT	3
/* Threads whose move records fp_flips keeps (LRU: dead threads' go;
 * ~90 KB a program object, 4096 took 361 KB) */
#define FP_FLIPS_MAX		1024
#define FP_CHUNK_SHIFT		6
#define FP_CHUNK_FUNCS		(1u << FP_CHUNK_SHIFT)
#define FP_GENS_MAP_NAME	"fp_gens"
#define FP_OFFS_MAP_NAME	"fp_offs"
/* Sites one shared event can carry: the hash's bucket array is allocated
 * at load (16 bytes a bucket, 1 MB), its entries only when filled. */
#define FP_MAX_SHARED_SITES	65536
#define FP_SITES_MAP_NAME	"fp_sites"
/* The by-address twin of function-probe program NAME is NAME FP_IP_SUFFIX. */
#define FP_IP_SUFFIX		"_ip"

#if defined(__bpf__)
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FP_MAX_SHARED_SITES);
	__type(key, __u64);	/* run-time address of the site */
	__type(value, __u64);	/* its cookie */
} fp_sites SEC(".maps");

/* per chunk: FP_GEN_* (FP_GEN_CUR: the links with FP_SITE_GEN count) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fp_gens SEC(".maps");

/* per fid: 1 when the function is off in the newest links (sized by
 * funcprobe__prepare, written before each move) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fp_offs SEC(".maps");

/* A moving chunk's new link counted the hit its thread is in. */
struct fp_flip {
	__u64 ip;		/* the site */
	__u32 move;		/* fp_gens[chunk] but FP_GEN_CUR */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FP_FLIPS_MAX);
	__type(key, __u64);	/* pid_tgid */
	__type(value, struct fp_flip);
} fp_flips SEC(".maps");

/*
 * Whether a link of generation gen (FP_SITE_GEN or 0) counts this hit of
 * function fid, given its chunk's fp_gens value v (above: a moving
 * chunk's two handlers of one hit agree through fp_flips).
 */
static __always_inline bool fp_gen_counts(struct fp_regs *ctx, __u32 gen,
					  __u32 v, __u32 fid)
{
	bool counts = !gen == !(v & FP_GEN_CUR);
	struct fp_flip *f;
	__u32 *off;
	__u64 tid;

	if (!(v & FP_GEN_MOVING))
		return counts;
	tid = bpf_get_current_pid_tgid();
	if (!gen == !(v & FP_GEN_NEW)) {
		/* the new link: first of the hit's handlers */
		struct fp_flip nf = { .ip = ctx->ip,
				      .move = v & ~FP_GEN_CUR };

		bpf_map_update_elem(&fp_flips, &tid, &nf, BPF_ANY);
		return true;
	}
	f = bpf_map_lookup_elem(&fp_flips, &tid);
	if (f && f->ip == ctx->ip && f->move == (v & ~FP_GEN_CUR)) {
		f->ip = 0;	/* read: this hit's only */
		return false;
	}
	if (counts)
		return true;
	/* after the flip, and the new link had no part in this hit */
	off = bpf_map_lookup_elem(&fp_offs, &fid);
	return off && !*off;
}

/*
 * The cookie of the site that fired, into *cookie; false when a shared
 * event fired at an address it has no cookie for (nothing to do).
 * Through uprobe_multi or a perf event per site, the attach cookie as it
 * is: one bit test more per hit (and its chunk's generation: one array
 * lookup; while it moves, one fp_flips update or lookup more).
 */
static __always_inline bool fp_site_cookie_by(struct fp_regs *ctx,
						__u64 *cookie, bool by_ip)
{
	__u64 c = by_ip ? FP_SITE_BY_IP : bpf_get_attach_cookie(ctx), site = c;
	__u64 ip, *v;

	if (c & FP_SITE_BY_IP) {
		ip = ctx->ip;
		v = bpf_map_lookup_elem(&fp_sites, &ip);
		if (!v)
			return false;
		site = *v;
	}
	if (!by_ip) {
		/* a shared event's generation is chunk 0's */
		__u32 chunk = c & FP_SITE_BY_IP ? 0 :
			      (__u32)(c & FP_FID_MASK) >> FP_CHUNK_SHIFT;
		__u32 *gen = bpf_map_lookup_elem(&fp_gens, &chunk);

		/* a link being replaced, or not yet the one */
		if (gen && !fp_gen_counts(ctx, c & FP_SITE_GEN, *gen,
					  (__u32)(site & FP_FID_MASK)))
			return false;
	}
	*cookie = site;
	return true;
}

static __always_inline bool fp_site_cookie(struct fp_regs *ctx, __u64 *cookie)
{
	return fp_site_cookie_by(ctx, cookie, false);
}
#endif

#endif /* GOSNOOP_BPF_FP_SITES_H */
