// SPDX-License-Identifier: MIT
/*
 * trace --pprof (see trace_pprof.h): each call record becomes one sample
 * of (1 call, its duration) on [the traced function at its entry, then
 * the return addresses of its stack]; pprof.c merges equal stacks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "gobin/gobin.h"
#include "pprof.h"
#include "trace_decode.h"
#include "trace_pprof.h"

struct tr_pprof {
	struct pprof *pp;
	const struct gobin *gb;
	uint64_t calls, unwound;
};

struct tr_pprof *trace_pprof__new(const struct gobin *gb, const char *binpath)
{
	static const struct pprof_value_type types[] = {
		{ "calls", "count" }, { "time", "nanoseconds" },
	};
	struct tr_pprof *tp = calloc(1, sizeof(*tp));

	if (!tp)
		return NULL;
	tp->gb = gb;
	tp->pp = pprof__new(types, 2);
	if (!tp->pp || pprof__go_mapping(tp->pp, gb, binpath)) {
		trace_pprof__free(tp);
		errno = ENOMEM;
		return NULL;
	}
	return tp;
}

int trace_pprof__add(struct tr_pprof *tp, const struct tr_out *o,
		     uint64_t entry, const struct tr_event *e)
{
	uint32_t depth = e->stack_depth < TR_MAX_STACK ? e->stack_depth
						       : TR_MAX_STACK;
	uint64_t locs[TR_MAX_STACK + 1];
	int64_t values[2] = { 1, 0 };
	size_t n = 0;
	int64_t id;

	id = pprof__go_location(tp->pp, tp->gb, entry, false);
	if (id < 0)
		return (int)id;
	locs[n++] = (uint64_t)id;
	for (uint32_t i = 0; i < depth; i++) {
		uint64_t pc = e->pcs[i] >= o->bias ? e->pcs[i] - o->bias
						   : e->pcs[i];

		/* outside Go's code the frame-pointer chain has left Go's
		 * frames (C code, a stale bp): the rest is not a stack */
		if (!gobin__func_at(tp->gb, pc - 1))
			break;
		id = pprof__go_location(tp->pp, tp->gb, pc, true);
		if (id < 0)
			return (int)id;
		locs[n++] = (uint64_t)id;
	}
	if (e->ts_ret > e->ts_entry)
		values[1] = (int64_t)(e->ts_ret - e->ts_entry);
	else if (!e->ts_ret)
		tp->unwound++;
	tp->calls++;
	return pprof__add_sample(tp->pp, locs, n, values, NULL, 0);
}

int trace_pprof__write(struct tr_pprof *tp, const char *path,
		       uint64_t duration_ns)
{
	struct timespec now;
	char note[128];
	int err;

	clock_gettime(CLOCK_REALTIME, &now);
	pprof__set_time(tp->pp, (int64_t)now.tv_sec * 1000000000LL +
				now.tv_nsec - (int64_t)duration_ns,
			(int64_t)duration_ns);
	snprintf(note, sizeof(note),
		 "gosnoop trace: calls and time per Go stack (%llu calls, %llu unwound by a panic: no time)",
		 (unsigned long long)tp->calls,
		 (unsigned long long)tp->unwound);
	err = pprof__add_comment(tp->pp, note);
	if (!err)
		err = pprof__write(tp->pp, path);
	if (err)
		p_err("cannot write the profile %s: %s", path, strerror(-err));
	return err;
}

void trace_pprof__free(struct tr_pprof *tp)
{
	if (!tp)
		return;
	pprof__free(tp->pp);
	free(tp);
}
