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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gobin/gobin.h"
#include "pattern.h"
#include "funcprobe.h"

/* ------------------------------------------- patterns of inlined calls */

/* A function a glob that matched functions also matches, but which has
 * no out-of-line copy: every call of it was inlined ('main.*' and
 * main.tiny). */
struct only_inlined {
	const char *name;	/* the inline tree's string */
	size_t pat;		/* the first glob matching it */
	size_t sites;
};

struct pattern_sites {
	const struct gobin *gb;
	const struct patterns *pats;
	size_t *sites;		/* per pattern that matched no function */
	struct only_inlined *oi;
	size_t oi_cnt, oi_cap;
	bool oom;
};

static bool pat_matches(const char *pat, const char *name)
{
	return !strcmp(pat, name) || !fnmatch(pat, name, 0);
}

/* One call site per entry; merged by name afterwards (a glob like '*'
 * sees tens of thousands of sites). */
static void note_glob_callee(struct pattern_sites *ps, size_t pat,
			     const char *callee)
{
	struct only_inlined *o;

	if (ps->oi_cnt == ps->oi_cap) {
		size_t cap = ps->oi_cap ? 2 * ps->oi_cap : 256;

		o = realloc(ps->oi, cap * sizeof(*o));
		if (!o) {
			ps->oom = true;
			return;
		}
		ps->oi = o;
		ps->oi_cap = cap;
	}
	o = &ps->oi[ps->oi_cnt++];
	o->name = callee;
	o->pat = pat;
	o->sites = 1;
}

static int cmp_oi_name(const void *a, const void *b)
{
	const struct only_inlined *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Merge the sites of each name; keep those with no out-of-line copy. */
static size_t merge_glob_callees(struct pattern_sites *ps)
{
	size_t kept = 0;

	qsort(ps->oi, ps->oi_cnt, sizeof(*ps->oi), cmp_oi_name);
	for (size_t i = 0; i < ps->oi_cnt;) {
		struct only_inlined o = ps->oi[i];
		size_t j = i + 1;

		for (; j < ps->oi_cnt && !strcmp(ps->oi[j].name, o.name); j++) {
			o.sites++;
			if (ps->oi[j].pat < o.pat)
				o.pat = ps->oi[j].pat;
		}
		if (!gobin__func_by_name(ps->gb, o.name))
			ps->oi[kept++] = o;
		i = j;
	}
	return kept;
}

static void count_pattern_site(const char *callee, void *ctx)
{
	struct pattern_sites *ps = ctx;
	size_t glob = SIZE_MAX;
	bool counted = false;

	for (size_t i = 0; i < ps->pats->cnt; i++) {
		const char *pat = ps->pats->pat[i];

		if (!pat_matches(pat, callee))
			continue;
		if (!ps->pats->hits[i]) {
			ps->sites[i]++;
			counted = true;
		} else if (strcmp(pat, callee) && glob == SIZE_MAX) {
			glob = i;
		}
	}
	/* a glob that matched functions matches one it cannot probe; said
	 * once, unless a pattern that matched only it says it already */
	if (glob != SIZE_MAX && !counted)
		note_glob_callee(ps, glob, callee);
}

static int cmp_only_inlined(const void *a, const void *b)
{
	const struct only_inlined *x = a, *y = b;

	if (x->pat != y->pat)
		return x->pat < y->pat ? -1 : 1;
	if (x->sites != y->sites)
		return x->sites < y->sites ? 1 : -1;
	return strcmp(x->name, y->name);
}

#define ONLY_INLINED_SHOWN 3

/*
 * A glob that matched functions also matches functions every call of
 * which was inlined: they are left out, so say it ('main.*' left main.tiny
 * out without a word, while naming it alone is an error).
 */
static void report_glob_only_inlined(struct pattern_sites *ps)
{
	size_t j = 0, kept = merge_glob_callees(ps);

	qsort(ps->oi, kept, sizeof(*ps->oi), cmp_only_inlined);
	while (j < kept) {
		size_t pat = ps->oi[j].pat, k = j, sites = 0;
		char list[512] = "";

		for (; k < kept && ps->oi[k].pat == pat; k++) {
			size_t len = strlen(list);

			sites += ps->oi[k].sites;
			if (verbose)
				p_info("'%s': %s is only inlined, at %zu call site%s",
				       ps->pats->pat[pat], ps->oi[k].name,
				       ps->oi[k].sites,
				       ps->oi[k].sites == 1 ? "" : "s");
			if (k - j < ONLY_INLINED_SHOWN)
				snprintf(list + len, sizeof(list) - len,
					 "%s%s (%zu)", k > j ? ", " : "",
					 ps->oi[k].name, ps->oi[k].sites);
		}
		if (k - j == 1)
			p_warn("'%s' also matches %s, which the compiler inlined "
			       "at every call (%zu call site%s): its calls are not "
			       "seen; -gcflags=-l or //go:noinline keeps them calls",
			       ps->pats->pat[pat], ps->oi[j].name, sites,
			       sites == 1 ? "" : "s");
		else
			p_warn("'%s' also matches %zu functions the compiler "
			       "inlined at every call, at %zu call sites in all, "
			       "whose calls are not seen: %s%s; -gcflags=all=-l "
			       "keeps them calls", ps->pats->pat[pat], k - j,
			       sites, list, k - j > ONLY_INLINED_SHOWN ?
			       " and others (-v lists them)" : "");
		j = k;
	}
}

bool funcprobe__report_inlined_only(const struct gobin *gb,
				    struct patterns *pats)
{
	struct pattern_sites ps = { .gb = gb, .pats = pats };
	size_t unmatched = 0, inlined_only = 0;
	bool failed = false;

	for (size_t i = 0; i < pats->cnt; i++)
		unmatched += !pats->hits[i];
	ps.sites = calloc(pats->cnt ? pats->cnt : 1, sizeof(*ps.sites));
	if (!ps.sites)
		return false;
	gobin__for_each_inlined_call(gb, count_pattern_site, &ps);
	for (size_t i = 0; i < pats->cnt; i++)
		inlined_only += ps.sites[i] > 0;
	/* nothing else to probe: an error, one line, as for no match */
	if (unmatched && unmatched == pats->cnt &&
	    inlined_only == pats->cnt) {
		p_err("'%s' matches only calls the compiler inlined (%zu call "
		      "site%s%s): no call happens to probe; build with "
		      "-gcflags=-l or mark it //go:noinline", pats->pat[0],
		      ps.sites[0], ps.sites[0] == 1 ? "" : "s",
		      pats->cnt > 1 ? ", and so do the others" : "");
		failed = true;
		goto out;
	}
	for (size_t i = 0; i < pats->cnt; i++) {
		if (!ps.sites[i])
			continue;
		p_warn("'%s' matches only calls the compiler inlined "
		       "(%zu call site%s): they are not seen",
		       pats->pat[i], ps.sites[i], ps.sites[i] == 1 ? "" : "s");
		pats->hits[i] = 1;	/* said: not "matches nothing" too */
	}
	if (!ps.oom)
		report_glob_only_inlined(&ps);
out:
	free(ps.oi);
	free(ps.sites);
	return failed;
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
