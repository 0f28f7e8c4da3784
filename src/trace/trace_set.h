/* SPDX-License-Identifier: MIT */
/*
 * trace_set - `trace --set ARG=VALUE --allow-write`: the value parsed
 * once, then for each traced function where its plan (trace_plan.c)
 * puts the argument, as the word the entry site overwrites (struct
 * tr_set, src/bpf/trace.h). No BPF here: testable alone.
 *
 * Settable: bool, integers, uintptr, and pointers (*T, unsafe.Pointer)
 * whose plan is one piece in a register or in the stack words above the
 * return address. VALUE: a Go integer literal (decimal, 0x, 0o, 0b, _
 * separators, a sign), true/false for a bool, nil (0) for a pointer.
 */
#ifndef GOSNOOP_TRACE_SET_H
#define GOSNOOP_TRACE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "bpf/trace.h"

struct tr_plan;

struct trace_set {
	char name[64];		/* the argument; argN on a stripped binary */
	enum { TS_INT, TS_BOOL, TS_NIL } vkind;
	bool negative;		/* TS_INT: given with a minus sign */
	uint64_t mag;		/* TS_INT: its magnitude; TS_BOOL: 0 or 1 */
};

/* Parse "ARG=VALUE". 0, or -EINVAL after writing the reason into why. */
int trace_set__parse(const char *arg, struct trace_set *s, char *why,
		     size_t whylen);

/*
 * Where s's argument is in function plan p, and the word to store:
 * 0 and *out filled; -ENOENT p has no such argument; -EINVAL it cannot
 * be set (not an integer, bool or pointer in one register or stack
 * slot), -ERANGE the value does not fit its type; both with why written.
 */
int trace_set__resolve(const struct trace_set *s, const struct tr_plan *p,
		       struct tr_set *out, char *why, size_t whylen);

/* "RAX" for a regs[] index (TR_NREGS of them, trace.h order). */
const char *trace_set__reg_name(unsigned int idx);

#endif /* GOSNOOP_TRACE_SET_H */
