// SPDX-License-Identifier: MIT
/*
 * Abandoned calls of `gosnoop trace` (see trace_unwind.h). Per goroutine
 * (pid, g) a stack of (ts, depth) of its RETs, kept so that depths
 * increase from the bottom: a RET at depth d makes every earlier RET at
 * a depth >= d irrelevant (any entry they would prove gone, d proves too
 * and later). Then "the smallest depth returned from after t" is the
 * depth of the first element with ts > t: a binary search. The stack is
 * no deeper than the goroutine's call depth.
 */
#include <errno.h>
#include <stdlib.h>

#include "trace_unwind.h"

struct ret_mark {
	uint64_t ts;
	uint32_t off;
};

struct gor {
	uint32_t pid;
	uint64_t g;		/* 0: free slot */
	struct ret_mark *v;
	size_t n, cap;
};

struct tr_unwind {
	struct gor *tab;
	size_t cap, cnt;	/* cap: power of two */
};

static size_t slot_of(uint32_t pid, uint64_t g, size_t cap)
{
	uint64_t h = (g ^ ((uint64_t)pid << 32)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (cap - 1);
}

static struct gor *find(const struct tr_unwind *u, uint32_t pid, uint64_t g)
{
	size_t i;

	if (!u || !u->cap)
		return NULL;
	for (i = slot_of(pid, g, u->cap); u->tab[i].g;
	     i = (i + 1) & (u->cap - 1))
		if (u->tab[i].g == g && u->tab[i].pid == pid)
			return &u->tab[i];
	return NULL;
}

static int grow(struct tr_unwind *u)
{
	size_t ncap = u->cap ? u->cap * 2 : 256;
	struct gor *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t j = 0; j < u->cap; j++) {
		size_t i;

		if (!u->tab[j].g)
			continue;
		for (i = slot_of(u->tab[j].pid, u->tab[j].g, ncap); n[i].g;
		     i = (i + 1) & (ncap - 1))
			;
		n[i] = u->tab[j];
	}
	free(u->tab);
	u->tab = n;
	u->cap = ncap;
	return 0;
}

struct tr_unwind *trace_unwind__new(void)
{
	return calloc(1, sizeof(struct tr_unwind));
}

void trace_unwind__free(struct tr_unwind *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->cap; i++)
		free(u->tab[i].v);
	free(u->tab);
	free(u);
}

int trace_unwind__ret(struct tr_unwind *u, uint32_t pid, uint64_t g,
		      uint64_t ts, uint32_t off)
{
	struct gor *gr;

	if (!g)
		return 0;
	gr = find(u, pid, g);
	if (!gr) {
		size_t i;

		if ((u->cnt + 1) * 2 > u->cap && grow(u))
			return -ENOMEM;
		for (i = slot_of(pid, g, u->cap); u->tab[i].g;
		     i = (i + 1) & (u->cap - 1))
			;
		gr = &u->tab[i];
		gr->pid = pid;
		gr->g = g;
		u->cnt++;
	}
	while (gr->n && gr->v[gr->n - 1].off >= off)
		gr->n--;
	if (gr->n == gr->cap) {
		size_t ncap = gr->cap ? gr->cap * 2 : 16;
		struct ret_mark *nv = realloc(gr->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		gr->v = nv;
		gr->cap = ncap;
	}
	gr->v[gr->n].ts = ts;
	gr->v[gr->n].off = off;
	gr->n++;
	return 0;
}

bool trace_unwind__gone(const struct tr_unwind *u, uint32_t pid, uint64_t g,
			uint64_t ts_entry, uint32_t off)
{
	const struct gor *gr = find(u, pid, g);
	size_t lo = 0, hi;

	if (!gr)
		return false;
	/* first mark with ts > ts_entry */
	hi = gr->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (gr->v[mid].ts > ts_entry)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < gr->n && gr->v[lo].off < off;
}
