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
 * closes; fp_gens[chunk] then flips, so while both are attached every hit
 * counts once, through the link of the generation in fp_gens (a hit right
 * at the flip may count twice or not at all). Classic uprobes are replaced
 * all at once, every chunk flipping; a shared event's generation is on its
 * one perf cookie (FP_SITE_BY_IP | FP_SITE_GEN) and in fp_gens[0]. Sized
 * by funcprobe__prepare; a chunk past its end and the by-address twins
 * (no attach cookie: there reattach closes the old probes first) are not
 * checked.
 */
#define FP_SITE_GEN		(1u << 30)
#define FP_CHUNK_SHIFT		6
#define FP_CHUNK_FUNCS		(1u << FP_CHUNK_SHIFT)
#define FP_GENS_MAP_NAME	"fp_gens"
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

/* per chunk: 1 when the links with FP_SITE_GEN are the ones that count */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fp_gens SEC(".maps");

/*
 * The cookie of the site that fired, into *cookie; false when a shared
 * event fired at an address it has no cookie for (nothing to do).
 * Through uprobe_multi or a perf event per site, the attach cookie as it
 * is: one bit test more per hit (and its chunk's generation: one array
 * lookup).
 */
static __always_inline bool fp_site_cookie_by(struct fp_regs *ctx,
						__u64 *cookie, bool by_ip)
{
	__u64 c = by_ip ? FP_SITE_BY_IP : bpf_get_attach_cookie(ctx), ip, *v;

	if (!by_ip) {
		/* a shared event's generation is chunk 0's */
		__u32 chunk = c & FP_SITE_BY_IP ? 0 :
			      (__u32)(c & FP_FID_MASK) >> FP_CHUNK_SHIFT;
		__u32 *gen = bpf_map_lookup_elem(&fp_gens, &chunk);

		/* a link being replaced, or not yet the one */
		if (gen && !(c & FP_SITE_GEN) != !*gen)
			return false;
	}
	if (c & FP_SITE_BY_IP) {
		ip = ctx->ip;
		v = bpf_map_lookup_elem(&fp_sites, &ip);
		if (!v)
			return false;
		c = *v;
	}
	*cookie = c;
	return true;
}

static __always_inline bool fp_site_cookie(struct fp_regs *ctx, __u64 *cookie)
{
	return fp_site_cookie_by(ctx, cookie, false);
}
#endif

#endif /* GOSNOOP_BPF_FP_SITES_H */
