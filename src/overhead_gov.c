// SPDX-License-Identifier: MIT
/*
 * overhead_gov - see overhead_gov.h.
 */
#include <stdlib.h>

#include "overhead_gov.h"

enum ovh_mode {
	MODE_FULL = 0,		/* on all the time */
	MODE_SAMPLED,		/* on for slices (duty, credit_ns) */
	MODE_OFF,		/* off, tried again after its backoff */
};

struct ovh_func {
	double ns_per_call;
	uint64_t prev_calls;
	double rate;		/* calls/s, last measured while on */
	double cost;		/* CPU-s/s: rate x ns_per_call; halved at
				   each retry that did not fit */
	double share;		/* cost over the CPU it was counted against */
	double per_work;	/* calls per CPU-second of the program's own
				   work (rate / work): what the order uses, as
				   share it does not change when the program
				   crawls under the probes */
	bool off, was_off, kept;
	bool told_on;		/* the user was last told it is on */
	enum ovh_mode mode;
	enum { SEL_FULL, SEL_SAMPLED, SEL_OFF } sel;	/* govern()'s */
	double duty;		/* MODE_SAMPLED: its share of the time on */
	double credit_ns;	/* ... on-time owed (+) or overdrawn (-) */
	uint64_t on_since;	/* when last turned on (or the baseline) */
	uint64_t on_total;	/* ns on before on_since */
	uint64_t backoff, retry_at;
	uint64_t prev_sum;	/* ns in calls so far (note_time) */
	double dur_ns;		/* the mean call duration, last measured */
};

struct ovh_gov {
	struct ovh_func *f;
	size_t n;
	size_t *order;		/* scratch: fids by score */
	double budget;
	bool enforce, started, have_time;
	const uint64_t *sum_ns;	/* of the coming update (note_time) */
	uint64_t last_ns;
	double overhead, peak;
	double kept_share;	/* the kept functions' estimate */
	bool kept_over, kept_over_told;
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
	for (size_t i = 0; i < n; i++) {
		g->f[i].ns_per_call = ns_per_call[i];
		g->f[i].told_on = true;
	}
	g->n = n;
	g->budget = budget;
	g->enforce = enforce;
	return g;
}

void ovh_gov__set_budget(struct ovh_gov *g, double budget)
{
	g->budget = budget;
}

void ovh_gov__set_kept(struct ovh_gov *g, size_t fid, bool kept)
{
	if (fid < g->n)
		g->f[fid].kept = kept;
}

bool ovh_gov__is_kept(const struct ovh_gov *g, size_t fid)
{
	return fid < g->n && g->f[fid].kept;
}

bool ovh_gov__kept_over_budget(struct ovh_gov *g, double *kept_overhead)
{
	if (!g->kept_over || g->kept_over_told)
		return false;
	g->kept_over_told = true;
	*kept_overhead = g->kept_share;
	return true;
}

void ovh_gov__free(struct ovh_gov *g)
{
	if (!g)
		return;
	free(g->f);
	free(g->order);
	free(g);
}

/* What the probes' time does to a timed call (latency): the share of its
 * measured duration that is its own, dur / (dur + probe cost); 1 when
 * never timed (count, trace). A 200 ns helper under a 10 us RET probe is
 * measured badly anyway (0.02), a 300 us handler well (0.97). */
static double quality(const struct ovh_func *f)
{
	return f->dur_ns > 0 ? f->dur_ns / (f->dur_ns + f->ns_per_call) : 1;
}

/*
 * How much a function's figures are worth what its probes cost: the
 * lower, the sooner it is throttled. Its probes' share of the program's
 * own work, times its calls per CPU-second of that work, over quality():
 * of two functions that cost the same, the one called 100,000 times a
 * second goes before the one called 2,000 times (sampled, the first
 * still gives thousands of calls a second, the second a few dozen: the
 * relative error of a count or a histogram is 1/sqrt(calls)); of two
 * called as often, the dearer first; and a call the probes drown
 * (latency) before one they measure well.
 */
static double score(const struct ovh_func *f)
{
	return f->share * f->per_work / quality(f);
}

static int by_score_asc(const void *a, const void *b, void *ctx)
{
	const struct ovh_func *f = ctx;
	double x = score(&f[*(const size_t *)a]),
	       y = score(&f[*(const size_t *)b]);

	if (x != y)
		return x < y ? -1 : 1;
	/* equal (never called: 0): by fid, so that the order is stable */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
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

static void set_off(struct ovh_func *f, uint64_t now_ns)
{
	f->off = f->was_off = true;
	f->on_total += now_ns - f->on_since;
}

static void set_on(struct ovh_func *f, uint64_t now_ns)
{
	f->off = false;
	f->on_since = now_ns;
}

/* Off until its backoff has passed (doubled each time it is turned off
 * again, up to OVH_BACKOFF_MAX_NS). */
static void back_off(struct ovh_func *f, uint64_t now_ns)
{
	f->backoff = !f->backoff ? OVH_BACKOFF_MIN_NS :
		     f->backoff * 2 > OVH_BACKOFF_MAX_NS ? OVH_BACKOFF_MAX_NS :
		     f->backoff * 2;
	f->retry_at = now_ns + f->backoff;
}

/* Due again after the same backoff (a retry that did not fit). */
static void back_off_again(struct ovh_func *f, uint64_t now_ns)
{
	f->retry_at = now_ns + f->backoff;
}

/*
 * fid on or off (unless it already is), as a change for the caller; tell:
 * whether the user hears of it when that differs from what they were
 * last told (throttled, back on): a sampled function's slices are not
 * told, nor a function already said to be throttled going off again.
 */
static void act(struct ovh_gov *g, size_t fid, bool on, bool tell,
		uint64_t now_ns, struct ovh_change *out, size_t *n_out)
{
	struct ovh_func *f = &g->f[fid];
	bool toggle = f->off == on, report = tell && on != f->told_on;

	if (toggle && on)
		set_on(f, now_ns);
	else if (toggle)
		set_off(f, now_ns);
	if (report)
		f->told_on = on;
	if (!toggle && !report)
		return;
	out[(*n_out)++] = (struct ovh_change){
		.fid = fid, .action = on ? OVH_ON : OVH_OFF,
		.toggle = toggle, .report = report,
		.duty = f->mode == MODE_SAMPLED ? f->duty : 0,
		.hits_per_s = f->rate, .est_overhead = f->share };
}

/* The sampled one's credit grows by duty x dt and is spent while it is
 * on: on when a slice's worth is owed, off when it is spent. One that
 * was on in full goes off now (throttled); one that was off starts with
 * a slice (tried again: back on, then throttled again at the end of the
 * slice unless it then fits in full). */
static void sample(struct ovh_gov *g, size_t fid, uint64_t now_ns,
		   double dt_ns, struct ovh_change *out, size_t *n_out)
{
	struct ovh_func *f = &g->f[fid];
	enum ovh_mode was = f->mode;

	f->mode = MODE_SAMPLED;
	if (was == MODE_FULL) {
		f->credit_ns = 0;
		act(g, fid, false, true, now_ns, out, n_out);
		return;
	}
	if (was != MODE_SAMPLED) {
		f->credit_ns = OVH_SLICE_NS;
		act(g, fid, true, true, now_ns, out, n_out);
		return;
	}
	f->credit_ns += f->duty * dt_ns - (f->off ? 0 : dt_ns);
	if (!f->off && f->credit_ns <= 0)
		act(g, fid, false, true, now_ns, out, n_out);
	else if (f->off && f->credit_ns >= OVH_SLICE_NS)
		act(g, fid, true, false, now_ns, out, n_out);
}

/*
 * The enforced budget, each update: the kept functions' share first,
 * then the others by score(), lowest first, each on in full while the
 * sum fits (one on already: under the budget; one off or sampled: under
 * OVH_LOW_WATER of it, and only once its retry time came: the
 * hysteresis). The first (up to OVH_MAX_SAMPLED) that do not fit are
 * sampled in time, what is left of OVH_FILL of the budget split evenly
 * among them, each for at least OVH_MIN_DUTY of the time (a handler
 * whose own cost is over the budget); the rest go off, each tried again
 * after its backoff with its remembered cost halved (forgotten little by
 * little: a burst does not keep it off for good). Off ones not yet due
 * to be tried again are passed over; functions never called cost
 * nothing and stay on.
 */
static size_t govern(struct ovh_gov *g, uint64_t now_ns, double dt_ns,
		     struct ovh_change *out)
{
	size_t k = 0, n_out = 0, cand[OVH_MAX_SAMPLED], m = 0;
	double acc = g->kept_share, left;
	bool full = false;	/* no room left for more in full */

	g->kept_over = g->kept_share > g->budget;
	for (size_t i = 0; i < g->n; i++) {
		struct ovh_func *f = &g->f[i];

		if (!f->kept) {
			g->order[k++] = i;
			continue;
		}
		f->mode = MODE_FULL;
		act(g, i, true, true, now_ns, out, &n_out);	/* kept */
	}
	qsort_r(g->order, k, sizeof(*g->order), by_score_asc, g->f);
	for (size_t j = 0; j < k; j++) {
		struct ovh_func *f = &g->f[g->order[j]];
		bool on_full = !f->off && f->mode == MODE_FULL;
		bool due = on_full || f->mode == MODE_SAMPLED ||
			   now_ns >= f->retry_at;
		double limit = on_full ? g->budget
				       : g->budget * OVH_LOW_WATER;

		if (!(f->share > 0) && on_full)
			continue;	/* costs nothing (yet) */
		if (!full && due && acc + f->share <= limit) {
			acc += f->share;
			f->sel = SEL_FULL;
			continue;
		}
		f->sel = SEL_OFF;
		if (!due)
			continue;
		/* past one on that does not fit, the rest go; one off that
		 * does not fit leaves the others be */
		if (!f->off || f->mode == MODE_SAMPLED)
			full = true;
		if (m < OVH_MAX_SAMPLED)
			cand[m++] = g->order[j];
	}
	/* the room left split evenly among the candidates; the dearest
	 * dropped while one would get less than OVH_MIN_DUTY */
	left = g->budget * OVH_FILL - acc;
	while (m) {
		size_t dear = 0;

		for (size_t c = 1; c < m; c++)
			if (g->f[cand[c]].share > g->f[cand[dear]].share)
				dear = c;
		if (left / m / g->f[cand[dear]].share >= OVH_MIN_DUTY)
			break;
		cand[dear] = cand[--m];
	}
	for (size_t c = 0; c < m; c++) {
		struct ovh_func *f = &g->f[cand[c]];
		double d = left / m / f->share;

		f->sel = SEL_SAMPLED;
		f->duty = d < 1 ? d : 1;
	}
	for (size_t j = 0; j < k; j++) {
		size_t fid = g->order[j];
		struct ovh_func *f = &g->f[fid];

		if (!(f->share > 0) && !f->off && f->mode == MODE_FULL)
			continue;
		switch (f->sel) {
		case SEL_FULL:
			f->mode = MODE_FULL;
			act(g, fid, true, true, now_ns, out, &n_out);
			break;
		case SEL_SAMPLED:
			sample(g, fid, now_ns, dt_ns, out, &n_out);
			break;
		case SEL_OFF:
			/* off: at once if it was on; if it was due, tried
			 * again after a longer backoff, its cost halved */
			if (!f->off) {
				back_off(f, now_ns);
				f->mode = MODE_OFF;
				act(g, fid, false, true, now_ns, out, &n_out);
			} else if (now_ns >= f->retry_at) {
				if (f->mode == MODE_OFF) {
					f->cost /= 2;
					f->rate /= 2;
					f->share /= 2;
				}
				back_off_again(f, now_ns);
			}
			f->mode = MODE_OFF;
			break;
		}
	}
	return n_out;
}

size_t ovh_gov__update(struct ovh_gov *g, uint64_t now_ns,
		       const uint64_t *calls, uint64_t cpu_ns,
		       struct ovh_change *out)
{
	double probes, cpu, work, dt;

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
	dt = (double)(now_ns - g->last_ns);
	cpu = cpu_ns / dt;
	g->last_ns = now_ns;
	/* the traps ran in the process: what is left is its own work */
	work = cpu - probes > OVH_MIN_CPU ? cpu - probes : OVH_MIN_CPU;
	g->kept_share = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct ovh_func *f = &g->f[i];

		if (f->off)
			continue;
		f->share = f->cost / work;
		f->per_work = f->rate / work;
		if (f->kept)
			g->kept_share += f->share;
	}
	g->overhead = probes / work;
	if (g->overhead > g->peak)
		g->peak = g->overhead;
	if (!g->enforce)
		return 0;
	return govern(g, now_ns, dt, out);
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

bool ovh_gov__is_sampled(const struct ovh_gov *g, size_t fid, double *duty)
{
	if (fid >= g->n || g->f[fid].mode != MODE_SAMPLED)
		return false;
	*duty = g->f[fid].duty;
	return true;
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
