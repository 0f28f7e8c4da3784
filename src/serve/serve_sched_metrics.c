// SPDX-License-Identifier: MIT
/*
 * gosnoop serve, `sched: true`: the five metric families of every target
 * in Prometheus text format 0.0.4 (docs/serve.md), each family's HELP and
 * TYPE once, then every target's samples.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "serve_probes.h"
#include "serve_text.h"
#include "serve_sched.h"
#include "serve_sched_int.h"

const char *const ss_names[SS_NSTATES] = {
	"running", "runnable", "waiting", "syscall", "other",
};

/* name{LABELS[,extra="value"] */
static void put_series(FILE *f, const char *name, const char *labels,
		       const char *extra, const char *value)
{
	fprintf(f, "%s{%s", name, labels);
	if (extra) {
		fprintf(f, ",%s=\"", extra);
		serve__put_label_value(f, value);
		fputc('"', f);
	}
}

void serve_sched__write_metrics(FILE *f, struct serve_sched *const *all,
				const char *const *labels, size_t n)
{
	struct ss_sample *sm = calloc(n ? n : 1, sizeof(*sm));
	bool *ok = calloc(n ? n : 1, sizeof(*ok));

	if (!sm || !ok)
		goto out;
	for (size_t i = 0; i < n; i++)
		ok[i] = all[i] && !serve_sched_sample(all[i], &sm[i]);

	fputs("# HELP gosnoop_goroutines Goroutines in each scheduling state (gosnoop sched's states; other: copystack, preempted, ...).\n"
	      "# TYPE gosnoop_goroutines gauge\n", f);
	for (size_t i = 0; i < n; i++) {
		for (int ss = 0; ok[i] && sm[i].gauges && ss < SS_NSTATES; ss++) {
			put_series(f, "gosnoop_goroutines", labels[i],
				   "state", ss_names[ss]);
			fprintf(f, "} %" PRIu64 "\n", sm[i].count[ss]);
		}
	}

	fputs("# HELP gosnoop_goroutine_state_seconds_total Time goroutines spent in each scheduling state, summed over goroutines.\n"
	      "# TYPE gosnoop_goroutine_state_seconds_total counter\n", f);
	for (size_t i = 0; i < n; i++) {
		for (int ss = 0; ok[i] && ss < SS_NSTATES; ss++) {
			put_series(f, "gosnoop_goroutine_state_seconds_total",
				   labels[i], "state", ss_names[ss]);
			fputs("} ", f);
			serve__put_seconds(f, sm[i].state_ns[ss]);
			fputc('\n', f);
		}
	}

	/* log2 slot k holds [2^k, 2^(k+1)) whole ns: le is 2^(k+1)-1 ns;
	 * the last slot is open-ended */
	fputs("# HELP gosnoop_sched_latency_seconds Scheduling latency: time from runnable to running (log2 buckets).\n"
	      "# TYPE gosnoop_sched_latency_seconds histogram\n", f);
	for (size_t i = 0; i < n; i++) {
		uint64_t cum = 0;

		if (!ok[i])
			continue;
		for (int k = 0; k < SCHED_HIST_SLOTS - 1; k++) {
			cum += sm[i].hist[k];
			put_series(f, "gosnoop_sched_latency_seconds_bucket",
				   labels[i], NULL, NULL);
			fputs(",le=\"", f);
			serve__put_seconds(f, (1ULL << (k + 1)) - 1);
			fprintf(f, "\"} %" PRIu64 "\n", cum);
		}
		cum += sm[i].hist[SCHED_HIST_SLOTS - 1];
		put_series(f, "gosnoop_sched_latency_seconds_bucket",
			   labels[i], "le", "+Inf");
		fprintf(f, "} %" PRIu64 "\n", cum);
		put_series(f, "gosnoop_sched_latency_seconds_sum",
			   labels[i], NULL, NULL);
		fputs("} ", f);
		serve__put_seconds(f, sm[i].hist_sum_ns);
		fputc('\n', f);
		put_series(f, "gosnoop_sched_latency_seconds_count",
			   labels[i], NULL, NULL);
		fprintf(f, "} %" PRIu64 "\n", cum);
	}

	fputs("# HELP gosnoop_wait_seconds_total Time goroutines spent waiting, by wait reason (as the Go runtime names it).\n"
	      "# TYPE gosnoop_wait_seconds_total counter\n", f);
	for (size_t i = 0; i < n; i++) {
		for (int r = 0; ok[i] && r < SCHED_NREASONS; r++) {
			bool canon;
			const char *name = serve_sched_reason(all[i], r, &canon);

			/* a series appears once its reason has been seen */
			if (!canon || !sm[i].reason_ns[r])
				continue;
			put_series(f, "gosnoop_wait_seconds_total",
				   labels[i], "reason", name);
			fputs("} ", f);
			serve__put_seconds(f, sm[i].reason_ns[r]);
			fputc('\n', f);
		}
	}

	fputs("# HELP gosnoop_lost_events_total Records a probe's ring buffer had no room for (sched: aggregated in the kernel, none are sent).\n"
	      "# TYPE gosnoop_lost_events_total counter\n", f);
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		put_series(f, "gosnoop_lost_events_total", labels[i],
			   "source", "sched");
		fprintf(f, "} %" PRIu64 "\n", sm[i].lost);
	}
out:
	free(sm);
	free(ok);
}

