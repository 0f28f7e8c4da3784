/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* For BPF programs: the log2 bucket of a value, as histograms use it. */
#ifndef GOSNOOP_BPF_LOG2_H
#define GOSNOOP_BPF_LOG2_H

/* floor(log2(v)) (0 for v <= 1), capped at slots - 1. An unrolled
 * binary search: no loop for the verifier to bound. */
static __always_inline __u32 log2_slot(__u64 v, __u32 slots)
{
	__u32 r = 0;

	if (v >= (1ULL << 32)) { v >>= 32; r += 32; }
	if (v >= (1ULL << 16)) { v >>= 16; r += 16; }
	if (v >= (1ULL << 8))  { v >>= 8;  r += 8; }
	if (v >= (1ULL << 4))  { v >>= 4;  r += 4; }
	if (v >= (1ULL << 2))  { v >>= 2;  r += 2; }
	if (v >= (1ULL << 1))  { r += 1; }
	return r < slots ? r : slots - 1;
}

#endif
