// SPDX-License-Identifier: MIT
/*
 * A reload that changes what one `gosnoop serve` target probes, probe by
 * probe (serve_probes.h): adding main.greet to a count: list attaches
 * main.greet alone; main.addInts' probe, its BPF map and its counter are
 * not touched; removing main.greet again leaves it out of its unit
 * (funcprobe__set_off and _reattach: the unit's other functions go on
 * counting exactly). Done in three steps so that a reload that fails elsewhere
 * leaves everything as it was, and so that scrapes never wait on an
 * attach: prepare (plan, load, attach the new unit) and finish (detach
 * the dropped ones) run outside the scrapes' lock, commit (swap two
 * pointers) inside it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "gobin/gobin.h"
#include "probe/funcprobe.h"
#include "serve_probes.h"
#include "serve_probes_int.h"

struct serve_probes_change {
	struct serve_probes *pr;
	struct serve_units next[SERVE_NKINDS];	/* what commit installs */
	size_t added[SERVE_NKINDS];	/* new units, at the end of next */
	struct serve_units prev[SERVE_NKINDS];	/* what it replaces */
	bool *dropped[SERVE_NKINDS];	/* per unit of prev */
	/* per unit of next: the prev unit it is (kept, or with more
	 * functions off), -1 for a new one */
	long *src[SERVE_NKINDS];
	size_t attached, detached;	/* functions */
};

static bool same_list(char **a, int na, char **b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool has_name(const char **sorted, size_t n, const char *name)
{
	return n && bsearch(&name, sorted, n, sizeof(*sorted), cmp_str);
}

/* The names of fp's functions, sorted (pointers into fp). */
static const char **sorted_names(const struct funcprobe *fp, size_t *n)
{
	const char **v;

	*n = funcprobe__cnt(fp);
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		v[i] = funcprobe__func(fp, i)->name;
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/* A glob matching exactly this name: Go names hold '*' ("(*T).M") and
 * '[' (generics), which fnmatch() would read as wildcards. */
static char *exact_pattern(const char *name)
{
	char *p = malloc(2 * strlen(name) + 1), *o = p;

	if (!p)
		return NULL;
	for (; *name; name++) {
		if (strchr("*?[]\\", *name))
			*o++ = '\\';
		*o++ = *name;
	}
	*o = 0;
	return p;
}

/*
 * Plan the names in want[] (a glob each, matching exactly) as one unit
 * appended to next: -ESTALE when the plan is not exactly those functions
 * (a name shared by two functions is shown as "name@0xADDR").
 */
static int attach_missing(struct serve_probes *pr, enum serve_kind k,
			  const char **want, size_t n, struct serve_units *next)
{
	struct funcprobe *fp = NULL;
	char **pats = calloc(n, sizeof(*pats));
	int err = -ENOMEM;

	if (!pats)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (strstr(want[i], "@0x")) {
			err = -ESTALE;
			goto out;
		}
		pats[i] = exact_pattern(want[i]);
		if (!pats[i])
			goto out;
	}
	err = serve_probes_plan(pr, pats, (int)n, k == SERVE_LATENCY, false, &fp);
	if (err)
		goto out;
	if (funcprobe__cnt(fp) != n) {
		funcprobe__free(fp);
		err = -ESTALE;
		goto out;
	}
	err = serve_unit_start(pr, k, fp, &next->u[next->cnt]);
	if (!err)
		next->cnt++;	/* its src[] stays -1: set by the caller */
out:
	for (size_t i = 0; i < n; i++)
		free(pats[i]);
	free(pats);
	return err;
}

/*
 * Old unit i of kind k in the new state: as it is if its functions all
 * stay; with those that do not set off (hidden now, their probes left out
 * at finish) if some stay; dropped if none does. The names it keeps go to
 * kept[].
 */
static int keep_unit(struct serve_probes_change *c, enum serve_kind k, size_t i,
		     const char **all, size_t all_n, const char **kept,
		     size_t *kept_n)
{
	const struct serve_unit *u = &c->prev[k].u[i];
	struct serve_units *next = &c->next[k];
	size_t n = funcprobe__cnt(u->fp), stay = 0, shown = n - u->off_cnt;
	struct serve_unit nu = *u;

	for (size_t f = 0; f < n; f++)
		stay += !(u->off_cnt && u->off[f]) &&
			has_name(all, all_n, funcprobe__func(u->fp, f)->name);
	if (!stay) {
		c->dropped[k][i] = true;
		c->detached += shown;
		return 0;
	}
	if (stay < shown) {
		nu.off = calloc(n, sizeof(bool));
		if (!nu.off)
			return -ENOMEM;
		for (size_t f = 0; f < n; f++)
			nu.off[f] = (u->off_cnt && u->off[f]) ||
				    !has_name(all, all_n, funcprobe__func(u->fp, f)->name);
		nu.off_cnt = n - stay;
		c->detached += shown - stay;
	}
	c->src[k][next->cnt] = (long)i;
	next->u[next->cnt++] = nu;
	for (size_t f = 0; f < n; f++)
		if (!(nu.off_cnt && nu.off[f]))
			kept[(*kept_n)++] = funcprobe__func(u->fp, f)->name;
	return 0;
}

/*
 * Kind k's new units: the old ones whose functions all stay, then one for
 * the functions none of those holds. *plan_out: the full plan (kept as
 * the record of what was skipped).
 */
static int update_kind(struct serve_probes_change *c, enum serve_kind k,
		       char **pat, int pat_cnt)
{
	struct serve_probes *pr = c->pr;
	const struct serve_units *prev = &c->prev[k];
	struct serve_units *next = &c->next[k];
	const char **all = NULL, **kept = NULL, **missing = NULL;
	size_t all_n = 0, kept_n = 0, missing_n = 0;
	struct funcprobe *full = NULL;
	int err = -ENOMEM;

	c->dropped[k] = calloc(prev->cnt + 1, sizeof(bool));
	c->src[k] = calloc(prev->cnt + 1, sizeof(long));
	next->u = calloc(prev->cnt + 1, sizeof(*next->u));
	if (!c->dropped[k] || !c->src[k] || !next->u)
		return -ENOMEM;
	if (pat_cnt) {
		err = serve_probes_plan(pr, pat, pat_cnt, k == SERVE_LATENCY, true,
				    &full);
		if (err)
			return err;
		err = -ENOMEM;
		all = sorted_names(full, &all_n);
		kept = calloc(all_n + 1, sizeof(*kept));
		missing = calloc(all_n + 1, sizeof(*missing));
		if (!all || !kept || !missing)
			goto out;
	}
	for (size_t i = 0; i < prev->cnt; i++) {
		err = keep_unit(c, k, i, all, all_n, kept, &kept_n);
		if (err)
			goto out;
	}
	qsort(kept, kept_n, sizeof(*kept), cmp_str);
	for (size_t i = 0; i < all_n; i++)
		if (!has_name(kept, kept_n, all[i]))
			missing[missing_n++] = all[i];
	err = 0;
	if (missing_n) {
		err = attach_missing(pr, k, missing, missing_n, next);
		if (!err) {
			c->src[k][next->cnt - 1] = -1;
			c->added[k] = 1;
			c->attached += missing_n;
		}
	}
out:
	free(all);
	free(kept);
	free(missing);
	if (err)
		funcprobe__free(full);
	else
		next->plan = full;
	return err;
}

static void change_free(struct serve_probes_change *c)
{
	for (int k = 0; k < SERVE_NKINDS; k++) {
		free(c->dropped[k]);
		free(c->src[k]);
		free(c->next[k].u);
	}
	free(c);
}

int serve_probes__update_prepare(struct serve_probes *pr, const struct serve_target *old,
			     const struct serve_target *cfg,
			     struct serve_probes_change **out)
{
	struct serve_probes_change *c;
	struct stat sb;
	int err = 0;

	*out = NULL;
	/* the probes sit in the file attached at start: if another one is
	 * there now, its functions are elsewhere */
	if (stat(pr->t.path, &sb) ||
	    serve_probes__file_state(pr, &sb) != SERVE_FILE_SAME)
		return -ESTALE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->pr = pr;
	memcpy(c->prev, pr->units, sizeof(c->prev));
	err = serve_probes_open_gobin(pr);
	if (err) {
		free(c);
		return err;
	}
	for (int k = 0; k < SERVE_NKINDS && !err; k++) {
		char **pat = k == SERVE_COUNT ? cfg->count : cfg->latency;
		int n = k == SERVE_COUNT ? cfg->count_cnt : cfg->latency_cnt;
		char **opat = k == SERVE_COUNT ? old->count : old->latency;
		int on = k == SERVE_COUNT ? old->count_cnt : old->latency_cnt;

		if (same_list(pat, n, opat, on)) {
			/* untouched: the same units, the same record */
			c->next[k].u = calloc(c->prev[k].cnt + 1, sizeof(*c->next[k].u));
			c->dropped[k] = calloc(c->prev[k].cnt + 1, sizeof(bool));
			if (!c->next[k].u || !c->dropped[k]) {
				err = -ENOMEM;
				break;
			}
			memcpy(c->next[k].u, c->prev[k].u,
			       c->prev[k].cnt * sizeof(*c->next[k].u));
			c->next[k].cnt = c->prev[k].cnt;
			c->next[k].plan = c->prev[k].plan;
			continue;
		}
		err = update_kind(c, k, pat, n);
	}
	/* attached: the plans hold copies of the names (as at start) */
	serve_probes_close_gobin(pr);
	if (err) {
		serve_probes__update_abort(c);
		return err;
	}
	*out = c;
	return 0;
}

void serve_probes__update_commit(struct serve_probes_change *c)
{
	memcpy(c->pr->units, c->next, sizeof(c->next));
}

/* Kept unit u (was prev, now with more functions off): leave the probes
 * of the newly removed functions out. The others go on counting exactly
 * (funcprobe.h); if it fails they stay attached, not shown. */
static void trim_unit(struct serve_unit *u, const struct serve_unit *prev)
{
	int err = 0;

	for (size_t f = 0; f < funcprobe__cnt(u->fp) && !err; f++)
		if (u->off[f] && !(prev->off_cnt && prev->off[f]))
			err = funcprobe__set_off(u->fp, f, true);
	if (!err)
		err = funcprobe__reattach(u->fp);
	if (err)
		p_warn("reload: removed functions stay attached (not shown): %s",
		       strerror(-err));
}

void serve_probes__update_finish(struct serve_probes_change *c)
{
	for (int k = 0; k < SERVE_NKINDS; k++) {
		for (size_t j = 0; c->src[k] && j < c->next[k].cnt; j++) {
			struct serve_unit *u = &c->next[k].u[j];
			struct serve_unit *was;

			if (c->src[k][j] < 0)
				continue;
			was = &c->prev[k].u[c->src[k][j]];
			if (u->off == was->off)
				continue;
			trim_unit(u, was);
			free(was->off);
		}
		for (size_t i = 0; i < c->prev[k].cnt; i++)
			if (c->dropped[k] && c->dropped[k][i])
				serve_unit_stop(&c->prev[k].u[i]);
		free(c->prev[k].u);
		if (c->prev[k].plan != c->next[k].plan)
			funcprobe__free(c->prev[k].plan);
		c->next[k].u = NULL;	/* installed */
	}
	change_free(c);
}

void serve_probes__update_abort(struct serve_probes_change *c)
{
	for (int k = 0; k < SERVE_NKINDS; k++) {
		struct serve_units *next = &c->next[k];

		for (size_t i = next->cnt - c->added[k]; i < next->cnt; i++)
			serve_unit_stop(&next->u[i]);
		/* off lists made for kept units */
		for (size_t j = 0; c->src[k] && j < next->cnt - c->added[k]; j++)
			if (c->src[k][j] >= 0 &&
			    next->u[j].off != c->prev[k].u[c->src[k][j]].off)
				free(next->u[j].off);
		if (next->plan != c->prev[k].plan)
			funcprobe__free(next->plan);
	}
	change_free(c);
}

void serve_probes__change_counts(const struct serve_probes_change *c,
			     size_t *attached, size_t *detached)
{
	*attached = c->attached;
	*detached = c->detached;
}
