/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The probes of one `gosnoop serve` target: its count and latency
 * functions, planned and attached through the same machinery as
 * `gosnoop count` and `gosnoop latency` (probe/funcprobe.h, the
 * funcs_count and funcs/funcs_r14 BPF objects), read on every scrape.
 */
#ifndef GOSNOOP_SERVE_PROBES_H
#define GOSNOOP_SERVE_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/types.h>
#include "bpf/funcs.h"

struct serve_target;
struct serve_tp;
struct funcprobe;

enum serve_kind {
	SERVE_COUNT = 0,
	SERVE_LATENCY = 1,
	SERVE_NKINDS,
};

/* Resolve, plan, load and attach one configured target. 0 or -errno after
 * one error line. */
int serve_tp__start(const struct serve_target *cfg, struct serve_tp **out);
/* Detach and free (NULL is fine). */
void serve_tp__stop(struct serve_tp *tp);

/* The `binary` label: the executable's path. */
const char *serve_tp__binary(const struct serve_tp *tp);
/* > 0 for a pid: target. */
pid_t serve_tp__pid(const struct serve_tp *tp);
/* The plan of one kind (NULL when the target has none). */
const struct funcprobe *serve_tp__plan(const struct serve_tp *tp,
				       enum serve_kind kind);
/* Calls of function fid of the count plan (sum over CPUs); 0 or -errno. */
int serve_tp__calls(struct serve_tp *tp, size_t fid, uint64_t *calls);
/* Histogram of function fid of the latency plan; 0 or -errno. */
int serve_tp__hist(struct serve_tp *tp, size_t fid, struct fp_hist *h);
/* The latency program's pairing counters (FP_NSTATS of them). */
void serve_tp__lat_stats(const struct serve_tp *tp, uint64_t *stats);
/* "uprobe_multi" or "classic uprobes" */
const char *serve_tp__mode(const struct serve_tp *tp);
/* Sites attached of one kind. */
size_t serve_tp__sites(const struct serve_tp *tp, enum serve_kind kind);

#endif
