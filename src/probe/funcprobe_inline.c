// SPDX-License-Identifier: MIT
/*
 * Calls a uprobe cannot see: where the compiler inlined a function, its
 * body is copied into the caller and no call happens. gosnoop, like every
 * uprobe tool, sees only the calls of the out-of-line copy; these reports
 * say so instead of leaving a count short without a word. The call sites
 * come from pclntab's inline trees (gobin__for_each_inlined_call): those
 * whose code remains; a call the compiler folded away entirely
 * (small(100) computed at build time) leaves no trace to count.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gobin/gobin.h"
#include "pattern.h"
#include "funcprobe.h"

/* ------------------------------------------- patterns of inlined calls */

struct pattern_sites {
	const struct patterns *pats;
	size_t *sites;		/* per pattern that matched no function */
};

static void count_pattern_site(const char *callee, void *ctx)
{
	struct pattern_sites *ps = ctx;

	for (size_t i = 0; i < ps->pats->cnt; i++) {
		const char *pat = ps->pats->pat[i];

		if (!ps->pats->hits[i] &&
		    (!strcmp(pat, callee) || !fnmatch(pat, callee, 0)))
			ps->sites[i]++;
	}
}

bool funcprobe__report_inlined_only(const struct gobin *gb,
				    struct patterns *pats)
{
	struct pattern_sites ps = { .pats = pats };
	size_t unmatched = 0, inlined_only = 0;

	for (size_t i = 0; i < pats->cnt; i++)
		unmatched += !pats->hits[i];
	if (!unmatched)
		return false;
	ps.sites = calloc(pats->cnt, sizeof(*ps.sites));
	if (!ps.sites)
		return false;
	gobin__for_each_inlined_call(gb, count_pattern_site, &ps);
	for (size_t i = 0; i < pats->cnt; i++)
		inlined_only += ps.sites[i] > 0;
	/* nothing else to probe: an error, one line, as for no match */
	if (unmatched == pats->cnt && inlined_only == pats->cnt) {
		p_err("'%s' matches only calls the compiler inlined (%zu call "
		      "site%s%s): no call happens to probe; build with "
		      "-gcflags=-l or mark it //go:noinline", pats->pat[0],
		      ps.sites[0], ps.sites[0] == 1 ? "" : "s",
		      pats->cnt > 1 ? ", and so do the others" : "");
		free(ps.sites);
		return true;
	}
	for (size_t i = 0; i < pats->cnt; i++) {
		if (!ps.sites[i])
			continue;
		p_warn("'%s' matches only calls the compiler inlined "
		       "(%zu call site%s): they are not seen",
		       pats->pat[i], ps.sites[i], ps.sites[i] == 1 ? "" : "s");
		pats->hits[i] = 1;	/* said: not "matches nothing" too */
	}
	free(ps.sites);
	return false;
}

/* ------------------------------------- probed functions also inlined */

struct func_sites {
	const char **names;	/* probed functions, sorted */
	size_t *sites;
	size_t cnt;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void count_func_site(const char *callee, void *ctx)
{
	struct func_sites *fs = ctx;
	const char **hit = bsearch(&callee, fs->names, fs->cnt,
				   sizeof(*fs->names), cmp_name);

	if (hit)
		fs->sites[hit - fs->names]++;
}

#define INLINED_SHOWN 3

void funcprobe__report_inlined(const struct funcprobe *fp,
			       const struct gobin *gb)
{
	struct func_sites fs = { .cnt = funcprobe__cnt(fp) };
	size_t funcs = 0, sites = 0, top[INLINED_SHOWN], ntop = 0;
	char list[512] = "";

	if (!fs.cnt)
		return;
	fs.names = calloc(fs.cnt, sizeof(*fs.names));
	fs.sites = calloc(fs.cnt, sizeof(*fs.sites));
	if (!fs.names || !fs.sites)
		goto out;
	for (size_t i = 0; i < fs.cnt; i++)
		fs.names[i] = funcprobe__func(fp, i)->name;
	qsort(fs.names, fs.cnt, sizeof(*fs.names), cmp_name);
	gobin__for_each_inlined_call(gb, count_func_site, &fs);
	for (size_t i = 0; i < fs.cnt; i++) {
		size_t k;

		if (!fs.sites[i])
			continue;
		funcs++;
		sites += fs.sites[i];
		if (verbose)
			p_info("%s is also inlined at %zu call site%s",
			       fs.names[i], fs.sites[i],
			       fs.sites[i] == 1 ? "" : "s");
		/* keep the INLINED_SHOWN with the most sites, most first */
		if (ntop < INLINED_SHOWN)
			ntop++;
		else if (fs.sites[i] <= fs.sites[top[ntop - 1]])
			continue;
		for (k = ntop - 1; k > 0 && fs.sites[top[k - 1]] < fs.sites[i];
		     k--)
			top[k] = top[k - 1];
		top[k] = i;
	}
	if (!funcs)
		goto out;
	for (size_t k = 0; k < ntop; k++) {
		size_t len = strlen(list);

		snprintf(list + len, sizeof(list) - len, "%s%s (%zu)",
			 k ? ", " : "", fs.names[top[k]], fs.sites[top[k]]);
	}
	if (funcs == 1)
		p_warn("%s is also inlined at %zu call site%s, whose calls are "
		       "not seen; -gcflags=-l or //go:noinline keeps them calls",
		       fs.names[top[0]], sites, sites == 1 ? "" : "s");
	else
		p_warn("%zu of the functions are also inlined, at %zu call sites "
		       "in all, whose calls are not seen: %s%s; -gcflags=all=-l "
		       "keeps them calls", funcs, sites, list,
		       funcs > ntop ? " and others (-v lists them)" : "");
out:
	free(fs.names);
	free(fs.sites);
}
