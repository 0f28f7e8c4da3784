// SPDX-License-Identifier: MIT
/*
 * The /metrics body of `gosnoop serve`: Prometheus text format 0.0.4,
 * read from the BPF maps of every probed process at scrape time.
 * Every series of a process starts with its preformatted label set
 * (serve_probes__labels: binary, pid, the config's extra labels).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "serve.h"
#include "serve_probes.h"
#include "serve_text.h"
#include "probe/funcprobe.h"

#ifndef GOSNOOP_VERSION
#define GOSNOOP_VERSION "0.1.0"	/* as src/main.c */
#endif

static void put_labels(FILE *f, const struct serve_probes *pr, const char *func)
{
	fputs(serve_probes__labels(pr), f);
	if (func) {
		fputs(",function=\"", f);
		serve__put_label_value(f, func);
		fputc('"', f);
	}
}

/* Every probed process of every group, in config order. */
#define for_each_probes(st, g, i, pr)					\
	for (g = (st)->groups; g < (st)->groups + (st)->group_cnt; g++)	\
		for (i = 0; i < g->inst_cnt && ((pr = g->inst[i].pr), 1); i++)

static void write_probes_attached(struct serve_state *st, FILE *f)
{
	static const char *const kinds[] = { "count", "latency" };
	struct serve_group *g;
	struct serve_probes *pr;
	size_t i;

	fputs("# HELP gosnoop_probes_attached Functions probed, per target and kind (count, latency).\n"
	      "# TYPE gosnoop_probes_attached gauge\n", f);
	for_each_probes(st, g, i, pr) {
		for (int k = 0; k < SERVE_NKINDS; k++) {
			if (!serve_probes__has(pr, k))
				continue;
			fputs("gosnoop_probes_attached{", f);
			put_labels(f, pr, NULL);
			fprintf(f, ",kind=\"%s\"} %zu\n", kinds[k],
				serve_probes__func_cnt(pr, k));
		}
	}
}

/*
 * One sample per configured target, 0 included (an alert on absence
 * needs the 0): the live processes its probes cover, as counted by the
 * last update (serve_targets.c, about once a second).
 */
static void write_target_processes(struct serve_state *st, FILE *f)
{
	struct serve_group *g;

	fputs("# HELP gosnoop_target_processes Live processes a configured target's probes cover now.\n"
	      "# TYPE gosnoop_target_processes gauge\n", f);
	for (g = st->groups; g < st->groups + st->group_cnt; g++) {
		if (!g->labels)
			continue;
		fprintf(f, "gosnoop_target_processes{%s} %zu\n", g->labels,
			g->live);
	}
}

static void write_calls(struct serve_state *st, FILE *f)
{
	struct serve_group *g;
	struct serve_probes *pr;
	size_t i;

	fputs("# HELP gosnoop_function_calls_total Calls of each Go function, counted in the kernel at its entry.\n"
	      "# TYPE gosnoop_function_calls_total counter\n", f);
	for_each_probes(st, g, i, pr) {
		size_t cnt = serve_probes__func_cnt(pr, SERVE_COUNT);

		for (size_t fid = 0; fid < cnt; fid++) {
			uint64_t n;

			/* no series before the first call, as client
			 * libraries do with labelled metrics: most functions
			 * a glob names are never called, and their zeros
			 * made most of a scrape */
			if (serve_probes__calls(pr, fid, &n) || !n)
				continue;
			fputs("gosnoop_function_calls_total{", f);
			put_labels(f, pr, serve_probes__func(pr, SERVE_COUNT, fid)->name);
			fprintf(f, "} %" PRIu64 "\n", n);
		}
	}
}

static void put_bucket(FILE *f, const struct serve_probes *pr, const char *name,
		       const uint64_t *le_ns, uint64_t cum)
{
	fputs("gosnoop_function_duration_seconds_bucket{", f);
	put_labels(f, pr, name);
	fputs(",le=\"", f);
	if (le_ns)
		serve__put_seconds(f, *le_ns);
	else
		fputs("+Inf", f);
	fprintf(f, "\"} %" PRIu64 "\n", cum);
}

/* A function the latency program saw enter at least once (returned and
 * timed, or not): until then it has no series. */
static bool hist_called(const struct fp_hist *h)
{
	if (h->untimed)
		return true;
	for (int s = 0; s < FP_HIST_SLOTS; s++)
		if (h->slots[s])
			return true;
	return false;
}

/*
 * Slot i of the kernel's histogram holds, in whole ns: with configured
 * buckets, (bound[i-1], bound[i]], so its le is bound[i] exactly; else
 * the log2 range [2^i, 2^(i+1)), so its le is 2^(i+1)-1 ns. The last
 * slot used is open-ended (+Inf). The count is the buckets' sum (calls
 * that returned and were paired).
 */
static void write_durations(struct serve_state *st, FILE *f)
{
	struct serve_group *g;
	struct serve_probes *pr;
	size_t i;

	fputs("# HELP gosnoop_function_duration_seconds Duration of returned calls of each Go function.\n"
	      "# TYPE gosnoop_function_duration_seconds histogram\n", f);
	for_each_probes(st, g, i, pr) {
		size_t cnt = serve_probes__func_cnt(pr, SERVE_LATENCY);
		int nb;
		const uint64_t *bounds = serve_probes__buckets(pr, &nb);

		for (size_t fid = 0; fid < cnt; fid++) {
			const char *name = serve_probes__func(pr, SERVE_LATENCY, fid)->name;
			int last = nb ? nb : FP_HIST_SLOTS - 1;
			struct fp_hist h;
			uint64_t cum = 0; /* cumulative */

			if (serve_probes__hist(pr, fid, &h) || !hist_called(&h))
				continue;
			for (int s = 0; s < last; s++) {
				uint64_t le = nb ? bounds[s] : (1ULL << (s + 1)) - 1;

				cum += (uint64_t)h.slots[s];
				put_bucket(f, pr, name, &le, cum);
			}
			cum += (uint64_t)h.slots[last];
			put_bucket(f, pr, name, NULL, cum);
			fputs("gosnoop_function_duration_seconds_sum{", f);
			put_labels(f, pr, name);
			fputs("} ", f);
			serve__put_seconds(f, h.sum_ns);
			fputs("\ngosnoop_function_duration_seconds_count{", f);
			put_labels(f, pr, name);
			fprintf(f, "} %" PRIu64 "\n", cum);
		}
	}
}

/* Calls latency saw enter but could not time (fp_hist.untimed): with
 * _count above, every call seen. */
static void write_untimed(struct serve_state *st, FILE *f)
{
	struct serve_group *g;
	struct serve_probes *pr;
	size_t i;

	fputs("# HELP gosnoop_function_calls_untimed_total Calls of each Go function entered but not timed (no room to keep the entry, or unwound by a panic).\n"
	      "# TYPE gosnoop_function_calls_untimed_total counter\n", f);
	for_each_probes(st, g, i, pr) {
		size_t cnt = serve_probes__func_cnt(pr, SERVE_LATENCY);

		for (size_t fid = 0; fid < cnt; fid++) {
			struct fp_hist h;

			if (serve_probes__hist(pr, fid, &h) || !hist_called(&h))
				continue;
			fputs("gosnoop_function_calls_untimed_total{", f);
			put_labels(f, pr, serve_probes__func(pr, SERVE_LATENCY, fid)->name);
			fprintf(f, "} %" PRIu64 "\n", (uint64_t)h.untimed);
		}
	}
}

/* The overhead budget (serve_budget.c): per process its estimate, per
 * function it ever turned off whether it is off and the share of the
 * time it was probed (its figures are sampled: divide by it). */
static void write_budget(struct serve_state *st, FILE *f)
{
	struct serve_group *g;
	struct serve_probes *pr;
	size_t i;

	fputs("# HELP gosnoop_estimated_overhead_ratio The probes' estimated CPU time over the traced program's own (0.01: its work takes 1% longer); kept under max_overhead.\n"
	      "# TYPE gosnoop_estimated_overhead_ratio gauge\n", f);
	for_each_probes(st, g, i, pr) {
		double r;

		if (!serve_probes__overhead(pr, &r))
			continue;
		fputs("gosnoop_estimated_overhead_ratio{", f);
		put_labels(f, pr, NULL);
		fprintf(f, "} %.6f\n", r);
	}
	fputs("# HELP gosnoop_probe_disabled Whether the overhead budget has a function's probes off now (1), for every function it ever turned off.\n"
	      "# TYPE gosnoop_probe_disabled gauge\n", f);
	for_each_probes(st, g, i, pr)
		serve_probes__write_throttled(pr, f, false);
	fputs("# HELP gosnoop_probe_coverage_ratio Share of the time since its budget started that a throttled function was probed: its counts and histograms are sampled (divide by it to estimate the whole).\n"
	      "# TYPE gosnoop_probe_coverage_ratio gauge\n", f);
	for_each_probes(st, g, i, pr)
		serve_probes__write_throttled(pr, f, true);
}

/* The extras' families (serve.h's hooks; sched: true's goroutine metrics)
 * of every process that has them. */
static void write_extras(struct serve_state *st, FILE *f)
{
	struct serve_probes **prs;
	struct serve_group *g;
	struct serve_probes *pr;
	size_t i, n = 0;

	if (!st->hooks || !st->hooks->write_metrics)
		return;
	for_each_probes(st, g, i, pr)
		n += serve_probes__ext(pr) != NULL;
	if (!n)
		return;
	prs = calloc(n, sizeof(*prs));
	if (!prs)
		return;
	n = 0;
	for_each_probes(st, g, i, pr)
		if (serve_probes__ext(pr))
			prs[n++] = pr;
	st->hooks->write_metrics(f, prs, n);
	free(prs);
}

void serve_metrics__write(struct serve_state *st, FILE *f)
{
	fputs("# HELP gosnoop_build_info gosnoop's version.\n"
	      "# TYPE gosnoop_build_info gauge\n", f);
	fprintf(f, "gosnoop_build_info{version=\"%s\"} 1\n", GOSNOOP_VERSION);
	write_target_processes(st, f);
	write_probes_attached(st, f);
	write_calls(st, f);
	write_durations(st, f);
	write_untimed(st, f);
	write_budget(st, f);
	write_extras(st, f);
	fputs("# HELP gosnoop_config_last_reload_successful Whether the last configuration (re)load worked.\n"
	      "# TYPE gosnoop_config_last_reload_successful gauge\n", f);
	fprintf(f, "gosnoop_config_last_reload_successful %d\n", st->reload_ok);
	fputs("# HELP gosnoop_config_last_reload_success_timestamp_seconds When the configuration last loaded.\n"
	      "# TYPE gosnoop_config_last_reload_success_timestamp_seconds gauge\n", f);
	fprintf(f, "gosnoop_config_last_reload_success_timestamp_seconds %.3f\n",
		st->reload_time);
	fputs("# HELP gosnoop_start_time_seconds When the daemon started (Unix time).\n"
	      "# TYPE gosnoop_start_time_seconds gauge\n", f);
	fprintf(f, "gosnoop_start_time_seconds %.3f\n", st->start_time);
}
