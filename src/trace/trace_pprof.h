/* SPDX-License-Identifier: MIT */
/*
 * trace --pprof FILE: calls and their time per Go stack, in pprof's
 * format (sample types calls/count and time/nanoseconds; leaf: the
 * traced function, under the stack the BPF program walked at its entry).
 */
#ifndef GOSNOOP_TRACE_PPROF_H
#define GOSNOOP_TRACE_PPROF_H

#include <stdint.h>

struct gobin;
struct tr_event;
struct tr_out;
struct tr_pprof;

/* binpath names the mapping. NULL with errno set on failure. */
struct tr_pprof *trace_pprof__new(const struct gobin *gb, const char *binpath);
/* One call of the function whose code starts at entry (a file address);
 * o->bias moves the record's run-time addresses back. A call unwound by
 * a panic counts with no time. 0 or -errno. */
int trace_pprof__add(struct tr_pprof *tp, const struct tr_out *o,
		     uint64_t entry, const struct tr_event *e);
/* 0, or -errno after one line. */
int trace_pprof__write(struct tr_pprof *tp, const char *path,
		       uint64_t duration_ns);
void trace_pprof__free(struct tr_pprof *tp);

#endif
