/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * For BPF programs that stream records through a ring buffer (trace,
 * ktrace): wake the reader in batches. A wakeup per record costs more than
 * the record (an irq_work and an IPI in the traced thread, a context
 * switch of the reader), so each CPU wakes the reader once per
 * wakeup_bytes it sends (counted here: cheaper than asking the ring buffer
 * how much is unread). The reader polls every 100 ms as well and drains
 * the buffer at exit. User space sets wakeup_bytes before load
 * (ringbuf_wakeup_bytes() in src/common.h).
 */
#ifndef GOSNOOP_BPF_WAKEUP_H
#define GOSNOOP_BPF_WAKEUP_H

const volatile __u32 wakeup_bytes = 128 << 10;

/* Bytes this CPU sent since it last woke the reader. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} unwoken SEC(".maps");

/* The bpf_ringbuf_output() flags for a record of `bytes`. */
static __always_inline __u64 wakeup_flags(__u64 bytes)
{
	__u32 zero = 0;
	__u64 *pending = bpf_map_lookup_elem(&unwoken, &zero);

	if (!pending)
		return 0;	/* the ring buffer's own choice */
	*pending += bytes;
	if (*pending < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	*pending = 0;
	return BPF_RB_FORCE_WAKEUP;
}

#endif
