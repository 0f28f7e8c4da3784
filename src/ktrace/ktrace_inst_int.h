/* SPDX-License-Identifier: MIT */
/* ktrace_inst.c's steps, for ktrace_func.c's fentry -> kprobe fallback. */
#ifndef GOSNOOP_KTRACE_INST_INT_H
#define GOSNOOP_KTRACE_INST_INT_H

#include "ktrace_inst.h"

struct bpf_program;

/*
 * Open, configure and load one instance with program `which`
 * ("tracepoint", "tp_btf", "fentry", "fexit", "kprobe", "kretprobe");
 * share first's ring buffer (first is NULL for the first). 0 or -errno,
 * nothing printed.
 */
int kt_inst__open_load(struct kt_inst *in, const struct kt_inst_cfg *cfg,
		       int idx, const struct kt_inst *first, const char *which,
		       const struct kt_probe *p);
/* The probe's fetch ops into the loaded instance's spec map. */
int kt_inst__store_spec(struct kt_inst *in, const struct kt_probe *p);
/* The one program the instance loaded. */
struct bpf_program *kt_inst__prog(struct kt_inst *in);
/* fentry/fexit, else kprobe/kretprobe: see ktrace_func.c. */
int kt_inst__setup_func(struct kt_inst *in, const struct kt_inst_cfg *cfg,
			int idx, const struct kt_inst *first,
			struct kt_probe *p);

#endif
