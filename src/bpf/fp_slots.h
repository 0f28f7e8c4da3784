/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * serve's shared links (funcs.h, FP_MAX_SLOTS), for the function-probe
 * programs that count per process (funcs.bpf.c, funcs_count.bpf.c): with
 * by_slot set before load, the hit's process's slot comes from `slots` (a
 * map user space made and shares between objects, tgid -> slot), and its
 * function's key is fid + slot * nfuncs.
 */
#ifndef GOSNOOP_BPF_FP_SLOTS_H
#define GOSNOOP_BPF_FP_SLOTS_H

#if defined(__bpf__)
const volatile bool by_slot = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);	/* slot */
} slots SEC(".maps");

/* *fid made the key of this process's counters; false when the process
 * is not one of the target's (the file run under another name). */
static __always_inline bool fp_slot_fid(__u32 *fid, __u32 nfuncs)
{
	__u32 tgid, *slot;

	if (!by_slot)
		return true;
	tgid = bpf_get_current_pid_tgid() >> 32;
	slot = bpf_map_lookup_elem(&slots, &tgid);
	if (!slot)
		return false;
	*fid += *slot * nfuncs;
	return true;
}
#endif

#endif /* GOSNOOP_BPF_FP_SLOTS_H */
