// SPDX-License-Identifier: MIT
/*
 * The overhead budget of `gosnoop serve` (issue 16): each unit of a
 * target's probes (one funcprobe, one BPF object) gets the governor
 * count and latency use (src/overhead.h), enforcing the target's
 * max_overhead split evenly among the process's units (each governor
 * sees only its own functions, so the shares add up to the budget).
 *
 * The governors are made lazily on the main thread's tick, so a unit a
 * reload adds gets one too, and a reload that changes max_overhead only
 * changes the budget (overhead__set_budget): nothing is re-attached for
 * it. max_overhead 0 (off): every function the governor had off comes
 * back and the governor goes. keep: the same way: the functions it
 * matches are never throttled, a reload's change applied on the next
 * tick (overhead__set_keep: one then kept comes back on).
 *
 * Functions a reload removed (u->off) are off in the funcprobe as well;
 * the governor must not turn them back on (it would, after its backoff,
 * one it had off itself): when a reload removes functions from a unit,
 * its governor goes (what it had off back on) and a new one starts,
 * which sees those functions as never called.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include "common.h"
#include "gobin/gobin.h"
#include "overhead.h"
#include "serve_probes.h"
#include "serve_probes_int.h"
#include "serve_text.h"
#include "target.h"
#include "probe/funcprobe.h"
#include "bpf/funcs.skel.h"
#include "bpf/funcs_count.skel.h"

static const char *const kind_names[] = { "count", "latency" };

static bool removed(const struct serve_unit *u, size_t fid)
{
	return u->off_cnt && u->off[fid];
}

/* Where the unit's program counts calls (as cmd_count.c and
 * cmd_latency.c tell their governors). */
/* A host's (serve_probes_int.h) are at fid + slot * n: its governor
 * sums the slots below halves, the calls of all its processes. */
static void unit_calls(const struct serve_unit *u, enum serve_kind k,
		       unsigned halves, struct overhead_calls *c)
{
	if (k == SERVE_COUNT) {
		*c = (struct overhead_calls){
			.map_fd = bpf_map__fd(u->count_skel->maps.counts),
			.value_size = sizeof(__u64), .count_off = 0,
			.extra_off = SIZE_MAX, .halves = halves };
		return;
	}
	*c = (struct overhead_calls){
		.map_fd = bpf_map__fd(u->lat_skel->maps.hists),
		.value_size = sizeof(struct fp_hist),
		.count_off = offsetof(struct fp_hist, count),
		.extra_off = offsetof(struct fp_hist, untimed),
		.sum_off = offsetof(struct fp_hist, sum_ns), .halves = halves };
}

/* Every function the governor had off back on, the governor gone. */
static void budget_drop(struct serve_unit *u)
{
	size_t n = funcprobe__cnt(u->fp), back = 0;

	for (size_t fid = 0; fid < n; fid++)
		if (funcprobe__is_off(u->fp, fid) && !removed(u, fid) &&
		    !funcprobe__set_off(u->fp, fid, false))
			back++;
	if (back && funcprobe__reattach(u->fp))
		p_warn("max_overhead off: %zu functions could not be put back on",
		       back);
	overhead__free(u->ovh);
	u->ovh = NULL;
	u->ovh_pct = 0;
}

static size_t unit_count(const struct serve_probes *pr)
{
	return pr->units[SERVE_COUNT].cnt + pr->units[SERVE_LATENCY].cnt;
}

/* A governor for u at pct (made outside the lock: it may calibrate). */
static int budget_new(struct serve_probes *pr, struct serve_unit *u,
		      enum serve_kind k, double pct, unsigned halves,
		      struct overhead **out)
{
	struct overhead_calls c;
	struct overhead_opts o = {
		.max_pct = pct, .enforce = true,
		.sites = k == SERVE_COUNT ? FP_SITES_ENTRY
					  : FP_SITES_ENTRY | FP_SITES_RET,
		/* a host's processes: the machine's CPU, as binary: */
		.pid = serve_units_pid(pr),
		.bi = pr->gb ? gobin__buildinfo(pr->gb) : NULL };

	unit_calls(u, k, halves, &c);
	return overhead__new(u->fp, &c, &o, out);
}

/*
 * The slots a host's governors read: up to the highest used so far,
 * rounded up to a power of two, at least 64. Reading all 4096 every
 * OVH_UPDATE_NS cost the daemon ~2% of a CPU for one process; when more
 * are used, the governors start again over more (what they had off back
 * on: at most 6 times in a host's life).
 */
static unsigned budget_halves(const struct serve_probes *pr)
{
	unsigned h = 64;

	if (!pr->slots_cap)
		return 1;
	while (h < pr->slots_high)
		h *= 2;
	return h < pr->slots_cap ? h : pr->slots_cap;
}

void serve_probes__budget_tick(struct serve_probes *pr, double max_pct,
			       const struct overhead_keep *keep,
			       uint64_t now_ns, pthread_mutex_t *lock)
{
	size_t units = unit_count(pr);
	double pct = units ? max_pct / (double)units : 0;

	unsigned halves = budget_halves(pr);

	if (pr->host)
		return;		/* its host's budget is ticked for all */
	for (int k = 0; k < SERVE_NKINDS; k++) {
		struct serve_units *us = &pr->units[k];

		for (size_t i = 0; i < us->cnt; i++) {
			struct serve_unit *u = &us->u[i];
			struct overhead *o = NULL;

			if (pct <= 0 || (u->ovh && (u->off_cnt != u->ovh_off_cnt ||
						    u->ovh_halves != halves))) {
				if (u->ovh) {
					pthread_mutex_lock(lock);
					budget_drop(u);
					pthread_mutex_unlock(lock);
				}
				if (pct <= 0)
					continue;
			}
			if (!u->ovh) {
				if (u->ovh_failed)
					continue;
				if (budget_new(pr, u, k, pct, halves, &o)) {
					p_warn("%s: no overhead budget for its %s functions",
					       pr->t.display, kind_names[k]);
					u->ovh_failed = true;
					continue;
				}
				pthread_mutex_lock(lock);
				u->ovh = o;
				u->ovh_pct = pct;
				u->ovh_off_cnt = u->off_cnt;
				u->ovh_halves = halves;
				pthread_mutex_unlock(lock);
				continue;
			}
			pthread_mutex_lock(lock);
			if (pct != u->ovh_pct) {
				overhead__set_budget(u->ovh, pct);
				u->ovh_pct = pct;
			}
			/* keep: (from the first tick; after a reload,
			 * nothing to do when it is the same) */
			overhead__set_keep(u->ovh, keep);
			overhead__update(u->ovh, now_ns);
			pthread_mutex_unlock(lock);
		}
	}
}

bool serve_probes__overhead(const struct serve_probes *pr, double *ratio)
{
	bool any = false;

	*ratio = 0;
	/* a member shows its host's: the estimate over all its processes */
	for (int k = 0; k < SERVE_NKINDS; k++)
		for (size_t i = 0; i < serve_units_of(pr, k)->cnt; i++) {
			const struct serve_unit *u = &serve_units_of(pr, k)->u[i];

			if (!u->ovh)
				continue;
			*ratio += overhead__estimate(u->ovh);
			any = true;
		}
	return any;
}

static void put_series(FILE *f, const char *name,
		       const struct serve_probes *pr, enum serve_kind k,
		       const char *func)
{
	fprintf(f, "%s{%s,function=\"", name, pr->labels);
	serve__put_label_value(f, func);
	fprintf(f, "\",kind=\"%s\"", kind_names[k]);
}

void serve_probes__write_throttled(const struct serve_probes *pr, FILE *f,
				   bool coverage)
{
	for (int k = 0; k < SERVE_NKINDS; k++)
		for (size_t i = 0; i < serve_units_of(pr, k)->cnt; i++) {
			const struct serve_unit *u = &serve_units_of(pr, k)->u[i];
			size_t n = u->ovh ? funcprobe__cnt(u->fp) : 0;

			for (size_t fid = 0; fid < n; fid++) {
				const char *func = funcprobe__func(u->fp, fid)->name;
				double cov;

				if (removed(u, fid) ||
				    !overhead__sampled(u->ovh, fid, &cov))
					continue;
				if (coverage) {
					put_series(f, "gosnoop_probe_coverage_ratio",
						   pr, k, func);
					fprintf(f, "} %.4f\n", cov);
					continue;
				}
				put_series(f, "gosnoop_probe_disabled", pr, k,
					   func);
				fprintf(f, ",reason=\"overhead\"} %d\n",
					funcprobe__is_off(u->fp, fid));
			}
		}
}
