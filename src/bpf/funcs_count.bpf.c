// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * gosnoop count: +1 in a per-CPU counter at each function's entry site
 * (cookie layout: funcs.h). A separate object from funcs.bpf.c on purpose:
 * it has no CO-RE relocations, so libbpf never loads and parses the
 * kernel's BTF for it (~13 MB of RSS and tens of ms at start).
 */
#include "vmlinux.h"	/* types and constants only: see struct fp_regs */
#include <bpf/bpf_helpers.h>
#include "funcs.h"
#include "fp_sites.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Sized to the number of functions before load (times the slots). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* serve's shared links (fp_slots.h): set before load with by_slot */
const volatile __u32 nfuncs = 0;
#include "fp_slots.h"

#ifdef FP_COUNT_HIT_DELAY
/*
 * cost_count.bpf.c: every counted hit made this much dearer (ns, set
 * while attached; 0: none), a busy wait in the task's own context as a
 * single-stepped RET's trap is: cost runs the program at latency's price
 * per call with count's entries only (cmd_cost.c). Bounded for the
 * verifier: ~20-50 ns an iteration, 4096 of them well over any price.
 */
__u64 hit_delay_ns;

static __always_inline void hit_delay(void)
{
	__u64 d = hit_delay_ns, end;

	if (!d)
		return;
	end = bpf_ktime_get_ns() + d;
	for (int i = 0; i < 4096; i++)
		if (bpf_ktime_get_ns() >= end)
			break;
}
#else
static __always_inline void hit_delay(void) {}
#endif

static __always_inline int count_site(struct fp_regs *ctx, bool by_ip)
{
	__u64 cookie, *c;
	__u32 fid;

	if (!fp_site_cookie_by(ctx, &cookie, by_ip))
		return 0;
	fid = cookie & FP_FID_MASK;
	/* at the stack-check JBE, CF|ZF set: the branch to morestack is
	 * taken and the function re-enters from the top: not a call */
	if ((cookie & FP_SITE_SKIP_JBE) &&
	    (ctx->flags & (FP_EFLAGS_CF | FP_EFLAGS_ZF)))
		return 0;
	if (!fp_slot_fid(&fid, nfuncs))
		return 0;	/* not one of the target's processes */
	c = bpf_map_lookup_elem(&counts, &fid);
	if (c)
		*c += 1;	/* per-CPU: no atomics */
	hit_delay();
	return 0;
}

SEC("uprobe")
int fp_count(struct fp_regs *ctx)
{
	return count_site(ctx, false);
}

/* Without bpf_get_attach_cookie: sites by address (fp_sites.h). */
SEC("?uprobe")
int fp_count_ip(struct fp_regs *ctx)
{
	return count_site(ctx, true);
}
