/* SPDX-License-Identifier: MIT */
/*
 * Private to serve_probes.c (start, scrape) and serve_probes_update.c
 * (a reload's per-probe changes): a target's probes as units.
 */
#ifndef GOSNOOP_SERVE_PROBES_INT_H
#define GOSNOOP_SERVE_PROBES_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "serve_config.h"
#include "serve_probes.h"
#include "target.h"

struct funcprobe;
struct overhead;
struct funcs_count_bpf;
struct funcs_bpf;
struct gobin;

/*
 * A unit: functions of one kind planned and attached together, on one
 * BPF object (one uprobe_multi link). A target starts with one unit per
 * kind; a reload that adds functions attaches them as a unit of their
 * own and leaves the others attached, their counters running; a unit
 * some of whose functions were removed is replaced (serve_probes__update).
 */
struct serve_unit {
	struct funcprobe *fp;
	struct funcs_count_bpf *count_skel;	/* SERVE_COUNT */
	struct funcs_bpf *lat_skel;		/* SERVE_LATENCY; or a
						   funcs_r14_bpf: same layout
						   (checked in cmd_latency.c) */
	bool lat_r14;
	/* functions a reload removed (off[fid]): not shown; their probes
	 * left out by funcprobe__set_off/reattach (serve_probes_update.c) */
	bool *off;
	size_t off_cnt;
	/* the overhead budget's governor (serve_budget.c), made on the
	 * first tick; ovh_pct: its share of max_overhead */
	struct overhead *ovh;
	double ovh_pct;
	size_t ovh_off_cnt;	/* off_cnt when it was made: a reload that
				   removes more makes a new one */
	bool ovh_failed;	/* could not make one: not retried */
};

struct serve_units {
	struct serve_unit *u;
	size_t cnt;
	/* the last full plan when it is not u[0].fp (after an update): what
	 * was skipped and why */
	struct funcprobe *plan;
};

struct serve_probes {
	struct target t;
	char binary[PATH_MAX + 80];	/* sizeof(target.display) */
	struct gobin *gb;		/* while planning and attaching */
	bool gb_shared;			/* gb is the cache's (serve_probes.c) */
	struct serve_units units[SERVE_NKINDS];
	/* the histogram's upper bounds (ns) when configured; else log2 */
	uint64_t buckets_ns[SERVE_MAX_BUCKETS];
	int bucket_cnt;
	char *labels;			/* binary="…"[,pid="…"][,extra…] */
	struct stat file;		/* the attached file, at attach */
	void *ext;			/* serve_probes__set_ext() */
	int ncpu;
	uint64_t *cnt_vals;		/* ncpu */
	struct fp_hist *lat_vals;	/* ncpu */
};

/* serve_probes.c, for serve_probes_update.c */
int serve_probes_plan(struct serve_probes *pr, char **pat, int pat_cnt, bool returns,
		  bool report, struct funcprobe **out);
/* Load and attach fp (taken over, freed on failure too) as unit u. */
int serve_unit_start(struct serve_probes *pr, enum serve_kind k,
		     struct funcprobe *fp, struct serve_unit *u);
void serve_unit_stop(struct serve_unit *u);
/* pr->gb for pr->t: the cached one when it is the same file version. */
int serve_probes_open_gobin(struct serve_probes *pr);
void serve_probes_close_gobin(struct serve_probes *pr);

#endif
