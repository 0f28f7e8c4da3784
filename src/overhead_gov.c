// SPDX-License-Identifier: MIT
/*
 * overhead_gov - see overhead_gov.h.
 */
#include <stdlib.h>

#include "overhead_gov.h"

struct ovh_func {
	double ns_per_call;
	uint64_t prev_calls;
	double rate;		/* calls/s, last measured while on */
	double cost;		/* CPU-s/s: rate x ns_per_call; halved at
				   each retry that did not fit */
	double share;		/* cost over the CPU it was counted against */
	bool off, was_off;
	uint64_t on_since;	/* when last turned on (or the baseline) */
	uint64_t on_total;	/* ns on before on_since */
	uint64_t backoff, retry_at;
	uint64_t prev_sum;	/* ns in calls so far (note_time) */
	double dur_ns;		/* the mean call duration, last measured */
};

struct ovh_gov {
	struct ovh_func *f;
	size_t n;
	size_t *order;		/* scratch: fids by cost */
	double budget;
	bool enforce, started, have_time;
	const uint64_t *sum_ns;	/* of the coming update (note_time) */
	uint64_t last_ns;
	double overhead, peak;
};

struct ovh_gov *ovh_gov__new(size_t n, const double *ns_per_call,
			     double budget, bool enforce)
{
	struct ovh_gov *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->f = calloc(n ? n : 1, sizeof(*g->f));
	g->order = calloc(n ? n : 1, sizeof(*g->order));
	if (!g->f || !g->order) {
		ovh_gov__free(g);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		g->f[i].ns_per_call = ns_per_call[i];
	g->n = n;
	g->budget = budget;
	g->enforce = enforce;
	return g;
}

void ovh_gov__set_budget(struct ovh_gov *g, double budget)
{
	g->budget = budget;
}

void ovh_gov__free(struct ovh_gov *g)
{
	if (!g)
		return;
	free(g->f);
	free(g->order);
	free(g);
}

static int by_cost_desc(const void *a, const void *b, void *ctx)
{
	const struct ovh_func *f = ctx;
	double x = f[*(const size_t *)a].cost, y = f[*(const size_t *)b].cost;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* A function's cost weighted by what its probes do to each call's own
 * time (cost per call over the mean duration; 1 when never timed): a
 * cheap function measured badly can go before a dearer one measured
 * well, but a mean inflated by a few preempted calls (a tiny function
 * in a hot loop) does not save an expensive one. */
static double weighted_cost(const struct ovh_func *f)
{
	return f->cost * (f->dur_ns > 0 ? f->ns_per_call / f->dur_ns : 1);
}

static int by_weighted_desc(const void *a, const void *b, void *ctx)
{
	const struct ovh_func *f = ctx;
	double x = weighted_cost(&f[*(const size_t *)a]),
	       y = weighted_cost(&f[*(const size_t *)b]);

	if (x != y)
		return x < y ? 1 : -1;
	return by_cost_desc(a, b, ctx);
}

void ovh_gov__note_time(struct ovh_gov *g, const uint64_t *sum_ns)
{
	g->sum_ns = sum_ns;
	g->have_time = true;
}

/* Each function's calls/s and cost since the last update; returns the
 * probes' total CPU-s/s. */
static double measure(struct ovh_gov *g, uint64_t now_ns,
		      const uint64_t *calls)
{
	double probes = 0;

	for (size_t i = 0; i < g->n; i++) {
		struct ovh_func *f = &g->f[i];
		uint64_t from = f->on_since > g->last_ns ? f->on_since
							  : g->last_ns;

		if (!f->off && now_ns > from) {
			uint64_t d = calls[i] >= f->prev_calls ?
				     calls[i] - f->prev_calls : 0;

			f->rate = d * 1e9 / (double)(now_ns - from);
			f->cost = f->rate * f->ns_per_call / 1e9;
			probes += f->cost;
			if (g->sum_ns && d && g->sum_ns[i] > f->prev_sum)
				f->dur_ns = (double)(g->sum_ns[i] -
						     f->prev_sum) / d;
		}
		f->prev_calls = calls[i];
		if (g->sum_ns)
			f->prev_sum = g->sum_ns[i];
	}
	return probes;
}

static void turn_off(struct ovh_gov *g, struct ovh_func *f, uint64_t now_ns)
{
	f->off = f->was_off = true;
	f->on_total += now_ns - f->on_since;
	f->backoff = !f->backoff ? OVH_BACKOFF_MIN_NS :
		     f->backoff * 2 > OVH_BACKOFF_MAX_NS ? OVH_BACKOFF_MAX_NS :
		     f->backoff * 2;
	f->retry_at = now_ns + f->backoff;
}

/* Over budget: the most expensive first, until the rest fits (the
 * program's own CPU, work, stays what it was). */
static size_t shed(struct ovh_gov *g, uint64_t now_ns, double probes,
		   double work, struct ovh_change *out)
{
	size_t k = 0, n_out = 0;
	double removed = 0;

	for (size_t i = 0; i < g->n; i++)
		if (!g->f[i].off && g->f[i].cost > 0)
			g->order[k++] = i;
	qsort_r(g->order, k, sizeof(*g->order),
		g->have_time ? by_weighted_desc : by_cost_desc, g->f);
	for (size_t j = 0; j < k; j++) {
		struct ovh_func *f = &g->f[g->order[j]];

		if ((probes - removed) / work <= g->budget)
			break;
		turn_off(g, f, now_ns);
		out[n_out++] = (struct ovh_change){
			.fid = g->order[j], .action = OVH_OFF,
			.hits_per_s = f->rate, .est_overhead = f->share };
		removed += f->cost;
	}
	return n_out;
}

/* Under budget: an off function whose retry time came back on if its
 * last cost fits under the low water mark; else that cost is halved
 * (forgotten little by little: a burst does not keep it off for good). */
static size_t restore(struct ovh_gov *g, uint64_t now_ns, double probes,
		      double work, struct ovh_change *out)
{
	size_t n_out = 0;

	for (size_t i = 0; i < g->n; i++) {
		struct ovh_func *f = &g->f[i];

		if (!f->off || now_ns < f->retry_at)
			continue;
		if ((probes + f->cost) / work > g->budget * OVH_LOW_WATER) {
			f->cost /= 2;
			f->rate /= 2;
			f->retry_at = now_ns + f->backoff;
			continue;
		}
		f->off = false;
		f->on_since = now_ns;
		probes += f->cost;
		out[n_out++] = (struct ovh_change){
			.fid = i, .action = OVH_ON,
			.hits_per_s = f->rate, .est_overhead = f->share };
	}
	return n_out;
}

size_t ovh_gov__update(struct ovh_gov *g, uint64_t now_ns,
		       const uint64_t *calls, uint64_t cpu_ns,
		       struct ovh_change *out)
{
	double probes, cpu, work;

	if (!g->started || now_ns <= g->last_ns) {
		for (size_t i = 0; i < g->n && !g->started; i++) {
			g->f[i].prev_calls = calls[i];
			g->f[i].prev_sum = g->sum_ns ? g->sum_ns[i] : 0;
			g->f[i].on_since = now_ns;
		}
		g->started = true;
		g->last_ns = now_ns;
		g->sum_ns = NULL;
		return 0;
	}
	probes = measure(g, now_ns, calls);
	g->sum_ns = NULL;
	cpu = cpu_ns / (double)(now_ns - g->last_ns);
	g->last_ns = now_ns;
	/* the traps ran in the process: what is left is its own work */
	work = cpu - probes > OVH_MIN_CPU ? cpu - probes : OVH_MIN_CPU;
	for (size_t i = 0; i < g->n; i++)
		if (!g->f[i].off)
			g->f[i].share = g->f[i].cost / work;
	g->overhead = probes / work;
	if (g->overhead > g->peak)
		g->peak = g->overhead;
	if (!g->enforce)
		return 0;
	if (g->overhead > g->budget)
		return shed(g, now_ns, probes, work, out);
	return restore(g, now_ns, probes, work, out);
}

double ovh_gov__overhead(const struct ovh_gov *g)
{
	return g->overhead;
}

double ovh_gov__peak_overhead(const struct ovh_gov *g)
{
	return g->peak;
}

double ovh_gov__hits_per_s(const struct ovh_gov *g, size_t fid)
{
	return fid < g->n ? g->f[fid].rate : 0;
}

double ovh_gov__func_overhead(const struct ovh_gov *g, size_t fid)
{
	return fid < g->n ? g->f[fid].share : 0;
}

bool ovh_gov__is_off(const struct ovh_gov *g, size_t fid)
{
	return fid < g->n && g->f[fid].off;
}

bool ovh_gov__was_off(const struct ovh_gov *g, size_t fid)
{
	return fid < g->n && g->f[fid].was_off;
}

uint64_t ovh_gov__on_ns(const struct ovh_gov *g, size_t fid, uint64_t now_ns)
{
	const struct ovh_func *f;

	if (fid >= g->n)
		return 0;
	f = &g->f[fid];
	if (f->off || now_ns < f->on_since)
		return f->on_total;
	return f->on_total + (now_ns - f->on_since);
}

bool ovh_gov__window_coverage(const struct ovh_gov *g, size_t fid,
			      uint64_t since_ns, uint64_t on_at_since,
			      uint64_t now_ns, double *coverage)
{
	uint64_t on;

	if (!ovh_gov__was_off(g, fid) || now_ns <= since_ns)
		return false;
	on = ovh_gov__on_ns(g, fid, now_ns) - on_at_since;
	if (on >= now_ns - since_ns)
		return false;
	*coverage = (double)on / (double)(now_ns - since_ns);
	return true;
}
