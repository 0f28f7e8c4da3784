/* SPDX-License-Identifier: MIT */
/*
 * The latency BPF program in the flavour a binary allows, shared by
 * `gosnoop latency` and `gosnoop serve`. funcs_r14.bpf.c is funcs.bpf.c
 * compiled without CO-RE (g read from R14): same maps, program and
 * globals, so both skeletons are driven as a struct funcs_bpf.
 */
#ifndef GOSNOOP_FUNCS_LATENCY_H
#define GOSNOOP_FUNCS_LATENCY_H

#include <stdbool.h>

struct funcs_bpf;
struct funcprobe;
struct gobin;

/*
 * Open the latency skeleton. g comes from R14 in every Go (ABIInternal)
 * function of a register-ABI binary, free to read and needing no CO-RE
 * (start ~5x faster, half the memory); assembly may use R14 for itself,
 * so when any probed function may write it, g comes from the TLS slot
 * (CO-RE), right in every function of every release. Sets the rodata
 * both flavours share. *r14 tells which was opened (pass it back to
 * load/destroy). 0 or -errno, after one line naming `display`.
 */
int funcs_latency__open(const struct gobin *gb, const struct funcprobe *fp,
			const char *display, struct funcs_bpf **skel,
			bool *r14);
int funcs_latency__load(struct funcs_bpf *skel, bool r14);
void funcs_latency__destroy(struct funcs_bpf *skel, bool r14);
/*
 * Drop the open-call stacks of processes that are gone. The program frees
 * a goroutine's stack when its last timed call returns; a process that
 * exits (or a goroutine that dies) inside a timed call leaves its stack
 * behind, and enough of them would fill the map. Call every second or so
 * from the session's loop. Returns how many were dropped.
 */
unsigned int funcs_latency__sweep(struct funcs_bpf *skel);

#endif
