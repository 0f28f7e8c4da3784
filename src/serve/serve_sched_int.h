/* SPDX-License-Identifier: MIT */
/*
 * Private to serve_sched.c (probe, map scans) and serve_sched_metrics.c
 * (Prometheus text): one scrape's values of a target.
 */
#ifndef GOSNOOP_SERVE_SCHED_INT_H
#define GOSNOOP_SERVE_SCHED_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>
#include "bpf/sched.h"

struct serve_sched;

/* The states of gosnoop sched's JSON ("ns" of a goroutine). */
enum ss_state {
	SS_RUNNING,
	SS_RUNNABLE,
	SS_WAITING,
	SS_SYSCALL,
	SS_OTHER,	/* copystack, preempted, ...: short transitions */
	SS_NSTATES,
};

extern const char *const ss_names[SS_NSTATES];

/* What one scrape writes of one target. */
struct ss_sample {
	bool gauges;			/* false: the pid: target is gone */
	uint64_t count[SS_NSTATES];
	uint64_t state_ns[SS_NSTATES];
	uint64_t reason_ns[SCHED_NREASONS];	/* by canonical index */
	uint64_t hist[SCHED_HIST_SLOTS];
	uint64_t hist_sum_ns;
	uint64_t lost;
};

/* Read the kernel's aggregates and the live goroutines: 0 or -errno. */
int serve_sched_sample(struct serve_sched *s, struct ss_sample *out);
/* The name of waitReason r; *canon false when an earlier reason has the
 * same name (its series carries both). */
const char *serve_sched_reason(const struct serve_sched *s, int r, bool *canon);

#endif
