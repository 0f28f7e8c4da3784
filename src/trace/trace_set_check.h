/* SPDX-License-Identifier: MIT */
/* trace --set against this kernel: see trace_set_check.c. */
#ifndef GOSNOOP_TRACE_SET_CHECK_H
#define GOSNOOP_TRACE_SET_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct funcprobe;
struct tr_plan;
struct tr_set;
struct trace_set;

/*
 * --set ts (as given: set_arg) over the nplans traced functions of fp:
 * *sets (calloc'd, nplans) where each has the argument, *regs / *mem
 * whether one is in a register / on the stack and this kernel lets BPF
 * write there. Refuses up front, in one line, what it cannot do (never a
 * --set that silently changes nothing): 0, -EINVAL (no function has it,
 * or it cannot be set), -EOPNOTSUPP (registers not writable here),
 * -EPERM (bpf_probe_write_user withheld: lockdown), -ENOMEM.
 */
int trace_set__check(const struct trace_set *ts, const char *set_arg,
		     const struct funcprobe *fp, const struct tr_plan *plans,
		     size_t nplans, struct tr_set **sets, bool *regs,
		     bool *mem);

#endif
