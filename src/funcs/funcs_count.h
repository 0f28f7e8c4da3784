/* SPDX-License-Identifier: MIT */
/*
 * count's BPF program (funcs_count.bpf.c: a per-CPU counter per function,
 * +1 at its entry sites), opened, sized and loaded in one place for
 * `gosnoop count` (cmd_count.c) and `gosnoop serve` (serve_probes.c).
 */
#ifndef GOSNOOP_FUNCS_COUNT_H
#define GOSNOOP_FUNCS_COUNT_H

#include <stddef.h>

struct funcs_count_bpf;

/*
 * Open the program, its counts map sized for nfuncs functions; with
 * slots > 0 (serve's comm: host, bpf/fp_slots.h) slots times that, the
 * counters of the process in slot S at fid + S * nfuncs, the slot looked
 * up in the tgid -> slot map slots_fd. Not loaded yet. 0 or -errno after
 * one line (*out NULL).
 */
int funcs_count__open_slots(size_t nfuncs, unsigned int slots, int slots_fd,
			    struct funcs_count_bpf **out);
/* funcs_count__open_slots(n, 0, -1, out): one process, or every one of
 * a file, counted together. */
int funcs_count__open(size_t n, struct funcs_count_bpf **out);
/* Load (the caller says p_load_error's privilege hint). 0 or -errno. */
int funcs_count__load(struct funcs_count_bpf *skel);

#endif
