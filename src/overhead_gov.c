// SPDX-License-Identifier: MIT
/*
 * overhead_gov - see overhead_gov.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gobin/gobin.h"
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
	double share_meas;	/* the same as last measured (not halved) */
	double per_work;	/* calls per CPU-second of the program's own
				   work (rate / work): what the order uses, as
				   share it does not change when the program
				   crawls under the probes */
	bool off, was_off, kept;
	bool told_on;		/* the user was last told it is on */
	enum ovh_mode mode;
	bool fresh;		/* sampled from this update on */
	bool reserved;		/* sampled in the well-timed slot (govern) */
	bool protect;		/* well timed, on within OVH_WELL_ROOM */
	bool wait;		/* its long calls are waits (set_wait) */
	bool own;		/* the program's own code (set_own) */
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
	double unsure_excess;	/* CPU-s/s of probes over OVH_UNSURE of the
				   CPU (then > 0: see govern_unsure) */
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

void ovh_gov__set_wait(struct ovh_gov *g, size_t fid, bool wait)
{
	if (fid < g->n)
		g->f[fid].wait = wait;
}

void ovh_gov__set_own(struct ovh_gov *g, size_t fid, bool own)
{
	if (fid < g->n)
		g->f[fid].own = own;
}

bool ovh_gov__runtime_func(const char *name)
{
	return !strncmp(name, "runtime.", 8) ||
	       !strncmp(name, "internal/runtime/", 17) ||
	       !strncmp(name, "runtime/internal/", 17);
}

/* Whether the package path of name begins with module path mod. */
static bool in_module(const char *name, const char *mod)
{
	size_t n = mod ? strlen(mod) : 0;

	return n && !strncmp(name, mod, n) &&
	       (name[n] == '.' || name[n] == '/');
}

bool ovh_gov__own_func(const char *name, const struct gobin_buildinfo *bi)
{
	const char *slash = strchr(name, '/'), *dot = strchr(name, '.');

	if (!strncmp(name, "main.", 5))
		return true;
	/* outside the standard library the first element has a dot */
	if (slash && dot && dot < slash)
		return true;
	if (!bi || !bi->present)
		return false;
	if (in_module(name, bi->main.path))
		return true;
	for (size_t i = 0; i < bi->dep_cnt; i++)
		if (in_module(name, bi->deps[i].path))
			return true;
	return false;
}

size_t ovh_gov__well_timed_slot(const struct ovh_gov *g)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->f[i].mode == MODE_SAMPLED && g->f[i].reserved)
			return i;
	return SIZE_MAX;
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

/* A call at least this much its own time is timed well (dur >= 9x the
 * probes' cost per call) */
#define OVH_WELL_TIMED	0.9

/* What the probes' time does to a timed call (latency): the share of its
 * measured duration that is its own, dur / (dur + probe cost); 1 when
 * never timed (count, trace). A 200 ns helper under a 10 us RET probe is
 * measured badly anyway (0.02), a 300 us handler well (0.97). */
static double quality(const struct ovh_func *f)
{
	return f->dur_ns > 0 ? f->dur_ns / (f->dur_ns + f->ns_per_call) : 1;
}

/* latency's calls whose time is mostly their own (a handler): timed at
 * all (count and trace are not) and OVH_WELL_TIMED of it their own */
static bool well_timed(const struct ovh_func *f)
{
	return !f->wait && f->dur_ns > 0 && quality(f) >= OVH_WELL_TIMED;
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
	return f->share_meas * f->per_work / quality(f);
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

/* A sampled function's credit grows by duty x dt and is spent while it
 * is on: on when a slice's worth is owed, off when it is spent. */
static void sample(struct ovh_gov *g, size_t fid, uint64_t now_ns,
		   double dt_ns, struct ovh_change *out, size_t *n_out)
{
	struct ovh_func *f = &g->f[fid];

	f->credit_ns += f->duty * dt_ns - (f->off ? 0 : dt_ns);
	if (f->credit_ns < 0)
		f->credit_ns = 0;
	if (!f->off && f->credit_ns <= 0)
		act(g, fid, false, true, now_ns, out, n_out);
	else if (f->off && f->credit_ns >= OVH_SLICE_NS)
		act(g, fid, true, false, now_ns, out, n_out);
}

static int by_cost_desc(const void *a, const void *b, void *ctx)
{
	const struct ovh_func *f = ctx;
	double x = f[*(const size_t *)a].cost, y = f[*(const size_t *)b].cost;

	if (x != y)
		return x > y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/*
 * The probes cost most of the program's CPU (OVH_UNSURE): its own work,
 * CPU minus their estimate, is too uncertain to weigh a function by. The
 * dearest go off, by their cost (which does not depend on it), until the
 * probes left are under OVH_UNSURE of the CPU; the others stay as they
 * are until the next look. (Under qemu, latency's main.hot took ~95% of
 * the CPU: own work came out near zero and main.cold, 50 calls a second,
 * was weighed at 12% of it and throttled with main.hot.)
 */
static size_t govern_unsure(struct ovh_gov *g, uint64_t now_ns,
			    struct ovh_change *out)
{
	size_t k = 0, n_out = 0;
	double excess = g->unsure_excess;

	for (size_t i = 0; i < g->n; i++)
		if (!g->f[i].kept && !g->f[i].off && g->f[i].cost > 0)
			g->order[k++] = i;
	qsort_r(g->order, k, sizeof(*g->order), by_cost_desc, g->f);
	for (size_t j = 0; j < k && excess > 0; j++) {
		struct ovh_func *f = &g->f[g->order[j]];

		excess -= f->cost;
		f->mode = MODE_OFF;
		back_off(f, now_ns);
		act(g, g->order[j], false, true, now_ns, out, &n_out);
	}
	return n_out;
}

static int by_score_desc(const void *a, const void *b, void *ctx)
{
	return by_score_asc(b, a, ctx);
}

/*
 * Among the well-timed functions: the program's own code first, then the
 * longest calls (then by score). A request's chain of handlers
 * (net/http's serverHandler.ServeHTTP, the program's ServeHTTP, its
 * closures) is called as often, so by score the choice among them is the
 * noise of their measured rates; by duration alone the library's waits
 * win (a keep-alive connection's Read, poll waits: measured on esbuild,
 * they held the slot). Within the program's code, each call costs its
 * probes about the same, and the longer ones are what latency '*' is run
 * for: a request's handler before the writes it makes.
 */
static int by_well_timed_order(const void *a, const void *b, void *ctx)
{
	const struct ovh_func *f = ctx;
	const struct ovh_func *p = &f[*(const size_t *)a],
			      *q = &f[*(const size_t *)b];
	double x = p->dur_ns, y = q->dur_ns;

	if (p->own != q->own)
		return p->own ? -1 : 1;
	if (x != y)
		return x > y ? -1 : 1;
	return by_score_asc(a, b, ctx);
}

/* What comes back first (in full, or into a free sampling slot): the
 * functions the probes time well (a handler: calls OVH_WELL_TIMED of
 * whose time is their own), then by score(). By score alone a handler
 * called per request, whose own cost may be over the budget, would wait
 * behind every rarer function. */
static int by_return_order(const void *a, const void *b, void *ctx)
{
	const struct ovh_func *f = ctx;
	bool x = well_timed(&f[*(const size_t *)a]),
	     y = well_timed(&f[*(const size_t *)b]);

	if (x != y)
		return x ? -1 : 1;
	return x ? by_well_timed_order(a, b, ctx) : by_score_asc(a, b, ctx);
}

/*
 * The well-timed functions' first claim on the budget (OVH_WELL_ROOM of
 * it, less what the kept take beyond the rest): those on in full, in
 * by_well_timed_order, while they fit in it, are not shed (protect).
 * Returns the room left of that claim; *next: the first well-timed
 * function on in full that did not fit (the one the well-timed slot
 * takes when it is shed), else SIZE_MAX.
 */
static double protect_well_timed(struct ovh_gov *g, size_t *next)
{
	double room = g->budget * OVH_WELL_ROOM;
	size_t k = 0;

	if (room > g->budget - g->kept_share)
		room = g->budget - g->kept_share;
	*next = SIZE_MAX;
	for (size_t i = 0; i < g->n; i++) {
		struct ovh_func *f = &g->f[i];

		f->protect = false;
		if (!f->kept && f->mode == MODE_FULL && !f->off &&
		    f->share > 0 && well_timed(f))
			g->order[k++] = i;
	}
	qsort_r(g->order, k, sizeof(*g->order), by_well_timed_order, g->f);
	for (size_t j = 0; j < k; j++) {
		struct ovh_func *f = &g->f[g->order[j]];

		if (f->share > room) {
			*next = g->order[j];
			break;
		}
		room -= f->share;
		f->protect = true;
	}
	return room > 0 ? room : 0;
}

/* fid into the well-timed slot: sampled, budgeted at *res (the room of
 * the well-timed claim, at most its share). */
static void take_well_timed_slot(struct ovh_gov *g, size_t fid,
				 double room_w, double *res)
{
	struct ovh_func *f = &g->f[fid];

	f->mode = MODE_SAMPLED;
	f->reserved = true;
	*res = f->share < room_w ? f->share : room_w;
}

/* What the steps of one govern() pass share. */
struct gov_pass {
	uint64_t now_ns;
	struct ovh_change *out;
	size_t n_out;
	size_t cand[OVH_MAX_SAMPLED + 1], m;	/* sampled, but the slot's */
	size_t k;			/* g->order's length */
	size_t w, w_next;	/* in the well-timed slot; next */
	double sum;		/* the estimate of what stays on */
	double res, room_w;	/* the slot's reservation; its claim left */
	bool tried;		/* one off function tried again a pass */
};

/* The kept on; what is on in full summed (and, unprotected, in
 * g->order to be shed); the sampled in p->cand; the well-timed slot. */
static void pass_gather(struct ovh_gov *g, struct gov_pass *p)
{
	g->kept_over = g->kept_share > g->budget;
	p->room_w = protect_well_timed(g, &p->w_next);
	for (size_t i = 0; i < g->n; i++) {
		struct ovh_func *f = &g->f[i];

		if (f->kept) {
			f->mode = MODE_FULL;
			f->reserved = false;
			act(g, i, true, true, p->now_ns, p->out, &p->n_out);
			continue;
		}
		if (f->mode != MODE_SAMPLED)
			f->reserved = false;
		if (f->mode == MODE_SAMPLED && f->reserved)
			p->w = i;
		else if (f->mode == MODE_SAMPLED)
			p->cand[p->m++] = i;	/* never more than OVH_MAX_SAMPLED */
		if (f->mode == MODE_FULL && !f->off) {
			p->sum += f->share;
			if (f->share > 0 && !f->protect)
				g->order[p->k++] = i;
		}
	}
	if (p->w != SIZE_MAX) {
		take_well_timed_slot(g, p->w, p->room_w, &p->res);
		p->sum += p->res;
	}
}

/* Over the budget: shed by score(), the last to go sampled. */
static void pass_shed(struct ovh_gov *g, struct gov_pass *p)
{
	size_t shed = 0;
	double left;

	qsort_r(g->order, p->k, sizeof(*g->order), by_score_desc, g->f);
	while (shed < p->k && p->sum > g->budget) {
		size_t fid = g->order[shed++];

		p->sum -= g->f[fid].share;
		if (fid == p->w_next && p->room_w > 0 &&
		    (p->w == SIZE_MAX ||
		     by_well_timed_order(&fid, &p->w, g->f) < 0)) {
			/* the slot to the best well-timed function:
			 * the one in it worth less off */
			if (p->w != SIZE_MAX) {
				struct ovh_func *d = &g->f[p->w];

				p->sum -= p->res;
				d->mode = MODE_OFF;
				d->reserved = false;
				back_off(d, p->now_ns);
				act(g, p->w, false, true, p->now_ns, p->out,
				    &p->n_out);
			}
			p->w = fid;
			take_well_timed_slot(g, p->w, p->room_w, &p->res);
			g->f[p->w].fresh = true;	/* off below */
			g->f[p->w].credit_ns = 0;
			p->sum += p->res;
		}
	}
	left = g->budget * OVH_FILL - p->sum;
	/* the last to go, lowest score first, take free slots or
	 * those of sampled ones worth less, if the room left buys
	 * them OVH_MIN_DUTY of the time at least */
	for (size_t j = shed; j-- > 0;) {
		size_t fid = g->order[j], worst = 0;
		struct ovh_func *f = &g->f[fid];

		if (fid == p->w || left / f->share < OVH_MIN_DUTY)
			continue;

		for (size_t c = 1; c < p->m; c++)
			if (score(&g->f[p->cand[c]]) > score(&g->f[p->cand[worst]]))
				worst = c;
		if (p->m == OVH_MAX_SAMPLED &&
		    score(&g->f[p->cand[worst]]) <= score(f))
			break;
		if (p->m == OVH_MAX_SAMPLED) {	/* displaced: off */
			struct ovh_func *d = &g->f[p->cand[worst]];

			d->mode = MODE_OFF;
			back_off(d, p->now_ns);
			act(g, p->cand[worst], false, true, p->now_ns, p->out,
			    &p->n_out);
			p->cand[worst] = p->cand[--p->m];
		}
		f->mode = MODE_SAMPLED;	/* off below, with its duty */
		f->fresh = true;
		f->credit_ns = 0;
		p->cand[p->m++] = fid;
	}
	for (size_t j = 0; j < shed; j++) {
		size_t fid = g->order[j];
		struct ovh_func *f = &g->f[fid];

		if (f->mode == MODE_SAMPLED)
			continue;
		f->mode = MODE_OFF;
		back_off(f, p->now_ns);
		act(g, fid, false, true, p->now_ns, p->out, &p->n_out);
	}
}

/* Under it: the off and the sampled tried again, well timed first. */
static void pass_retry(struct ovh_gov *g, struct gov_pass *p)
{
	p->k = 0;
	for (size_t i = 0; i < g->n; i++)
		if (!g->f[i].kept && g->f[i].mode != MODE_FULL &&
		    (g->f[i].mode == MODE_SAMPLED ||
		     p->now_ns >= g->f[i].retry_at))
			g->order[p->k++] = i;
	qsort_r(g->order, p->k, sizeof(*g->order), by_return_order, g->f);
	for (size_t j = 0; j < p->k; j++) {
		size_t fid = g->order[j];
		struct ovh_func *f = &g->f[fid];
		/* the well-timed slot's room counts as its own, the
		 * others' hysteresis on what it leaves them */
		double own = fid == p->w ? p->res : 0,
		       water = fid == p->w ? g->budget * OVH_LOW_WATER :
			       p->res + (g->budget - p->res) * OVH_LOW_WATER;

		/* the well-timed slot's function, measured in its
		 * slices to fit in the claim now, comes back in
		 * full: the others make room (not the off ones by
		 * a remembered cost: halved at each retry, a hot
		 * one's would let it back at full cost) */
		bool claim = fid == p->w && f->share <= p->room_w;

		if (claim || p->sum - own + f->share <= water) {
			if (claim)
				p->room_w -= f->share;
			p->sum += f->share - own;
			if (fid == p->w) {
				p->w = SIZE_MAX;
				p->res = 0;
				f->reserved = false;
			}
			for (size_t c = 0; c < p->m; c++)
				if (p->cand[c] == fid)
					p->cand[c] = p->cand[--p->m];
			f->mode = MODE_FULL;
			act(g, fid, true, true, p->now_ns, p->out, &p->n_out);
		} else if (f->mode == MODE_OFF && !p->tried &&
			   p->w == SIZE_MAX && well_timed(f) &&
			   f->share > 0 &&
			   p->room_w * OVH_FILL / f->share >=
			   OVH_MIN_DUTY) {
			/* the well-timed slot is free: tried again
			 * in it, as below */
			p->tried = true;
			p->w = fid;
			take_well_timed_slot(g, p->w, p->room_w, &p->res);
			p->sum += p->res;
			f->credit_ns = OVH_SLICE_NS;
			act(g, fid, true, true, p->now_ns, p->out, &p->n_out);
		} else if (f->mode == MODE_OFF && !p->tried &&
			   p->m < OVH_MAX_SAMPLED &&
			   f->share <= g->budget &&
			   (g->budget * OVH_FILL - p->sum) /
			   (p->m + 1 + (p->w != SIZE_MAX)) /
			   f->share >= OVH_MIN_DUTY) {
			/* a free slot, and the remembered cost
			 * fits the budget: tried again (said:
			 * back on), sampled from a first slice
			 * now; one a look, for that slice costs
			 * its share as it is now, not as
			 * remembered */
			p->tried = true;
			f->mode = MODE_SAMPLED;
			f->credit_ns = OVH_SLICE_NS;
			p->cand[p->m++] = fid;
			act(g, fid, true, true, p->now_ns, p->out, &p->n_out);
		} else if (f->mode == MODE_OFF) {
			f->cost /= 2;
			f->rate /= 2;
			f->share /= 2;
			back_off_again(f, p->now_ns);
		}
	}
}

/* The sampled share what is left of OVH_FILL of the budget. */
static void pass_share_sampled(struct ovh_gov *g, struct gov_pass *p,
			       double dt_ns)
{
	double left;
	size_t ws;

	/* the sampled: what is left split evenly (the well-timed slot's
	 * function one of them); the dearest off while one would get less
	 * than OVH_MIN_DUTY */
	left = g->budget * OVH_FILL - p->sum;
	ws = p->w != SIZE_MAX;
	while (p->m) {
		size_t dear = 0;
		struct ovh_func *f;

		for (size_t c = 1; c < p->m; c++)
			if (g->f[p->cand[c]].share > g->f[p->cand[dear]].share)
				dear = c;
		f = &g->f[p->cand[dear]];
		if (left / (p->m + ws) / f->share >= OVH_MIN_DUTY)
			break;
		f->mode = MODE_OFF;
		f->fresh = false;
		back_off(f, p->now_ns);
		act(g, p->cand[dear], false, true, p->now_ns, p->out, &p->n_out);
		p->cand[dear] = p->cand[--p->m];
	}
	if (ws) {
		struct ovh_func *f = &g->f[p->w];
		double d = (p->res * OVH_FILL +
			    (left > 0 ? left / (p->m + 1) : 0)) / f->share;

		if (d < OVH_MIN_DUTY) {
			f->mode = MODE_OFF;
			f->reserved = f->fresh = false;
			back_off(f, p->now_ns);
			act(g, p->w, false, true, p->now_ns, p->out, &p->n_out);
		} else {
			p->cand[p->m++] = p->w;
			f->duty = d;
		}
	}
	for (size_t c = 0; c < p->m; c++) {
		struct ovh_func *f = &g->f[p->cand[c]];
		double d = p->cand[c] == p->w ? f->duty : left / p->m / f->share;

		f->duty = d < 1 ? d : 1;
		if (f->fresh) {		/* throttled: off now */
			f->fresh = false;
			act(g, p->cand[c], false, true, p->now_ns, p->out, &p->n_out);
			continue;
		}
		sample(g, p->cand[c], p->now_ns, dt_ns, p->out, &p->n_out);
	}
}

/*
 * The enforced budget, each update. The kept functions' share counts
 * first; the others on in full are summed with it (the sampled ones are
 * budgeted by their duty, apart).
 *
 * latency's well-timed functions (a handler, whose time is its own: what
 * a user of latency '*' wants a histogram of) have a first claim on
 * OVH_WELL_ROOM of the budget, before the badly-timed ones fill it: the
 * best of them on in full while they fit in it are never shed; the
 * first that does not fit (a handler whose own cost is over it) takes a
 * sampling slot of its own when shed or tried again, budgeted at the
 * room left of the claim (counted in the sum like a share on in full),
 * so the others make room for it. By score() alone ~220 rare GC
 * functions (20-40 calls/s, 3% together) outrank esbuild's ServeHTTP
 * (6% alone, 2,000-4,400 calls/s) and fill the budget first.
 *
 * Over the budget: the others on in full go off by score(), highest
 * first, until the sum fits; the last ones to go (the most worth
 * keeping, up to OVH_MAX_SAMPLED with the sampled ones already) are
 * sampled in time instead, the others off, each tried again after its
 * backoff. Under it, the off functions whose retry time came and the
 * sampled ones, well timed first, then by their last measured score():
 * back in full if the last known cost fits under OVH_LOW_WATER of the
 * budget (of what the well-timed slot leaves) with the rest (the
 * hysteresis); else the first whose remembered cost fits the budget,
 * while a sampling slot is free, is sampled from a slice now; else the
 * remembered cost is halved (forgotten little by little: a burst does
 * not keep it off for good). Then the sampled share what is left of
 * OVH_FILL of the budget evenly, at least OVH_MIN_DUTY of the time each
 * (the dearest off while one would get less); the well-timed slot's
 * function gets OVH_FILL of its reserved room on top. Functions never
 * called cost nothing and stay on.
 */
static size_t govern(struct ovh_gov *g, uint64_t now_ns, double dt_ns,
		     struct ovh_change *out)
{
	struct gov_pass p = { .now_ns = now_ns, .out = out,
			      .w = SIZE_MAX, .sum = g->kept_share };

	pass_gather(g, &p);
	if (p.sum > g->budget)
		pass_shed(g, &p);
	else
		pass_retry(g, &p);
	pass_share_sampled(g, &p, dt_ns);
	return p.n_out;
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
	g->unsure_excess = probes - OVH_UNSURE * cpu;
	g->kept_share = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct ovh_func *f = &g->f[i];

		if (f->off)
			continue;
		f->share = f->share_meas = f->cost / work;
		f->per_work = f->rate / work;
		if (f->kept)
			g->kept_share += f->share;
	}
	g->overhead = probes / work;
	if (g->overhead > g->peak)
		g->peak = g->overhead;
	if (!g->enforce)
		return 0;
	if (g->unsure_excess > 0 && g->overhead > g->budget) {
		g->kept_over = g->kept_share > g->budget;
		return govern_unsure(g, now_ns, out);
	}
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
