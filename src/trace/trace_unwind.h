/* SPDX-License-Identifier: MIT */
/*
 * trace_unwind - which open calls of `gosnoop trace` were abandoned: a
 * call entered at frame depth D (tr_event.frame_off, distance of the
 * return-address slot from g.stack.hi) of a goroutine is gone once that
 * goroutine returns from a shallower frame (depth < D) after the entry:
 * a panic unwound it (and a recover resumed further up), or
 * runtime.Goexit ended the goroutine and its g was reused.
 */
#ifndef GOSNOOP_TRACE_UNWIND_H
#define GOSNOOP_TRACE_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

struct tr_unwind;

struct tr_unwind *trace_unwind__new(void);
void trace_unwind__free(struct tr_unwind *u);
/* A RET of (pid, g) at depth off, at ts (records of one goroutine come in
 * RET order). 0 or -ENOMEM. */
int trace_unwind__ret(struct tr_unwind *u, uint32_t pid, uint64_t g,
		      uint64_t ts, uint32_t off);
/* Whether a call of (pid, g) entered at ts_entry at depth off has been
 * unwound: a RET at a depth < off came after ts_entry. */
bool trace_unwind__gone(const struct tr_unwind *u, uint32_t pid, uint64_t g,
			uint64_t ts_entry, uint32_t off);

#endif
