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
	uint64_t serial;	/* tells units apart (a member's baselines) */
	unsigned ovh_halves;	/* a host's: the slots its governor reads */
};

struct serve_units {
	struct serve_unit *u;
	size_t cnt;
	/* the last full plan when it is not u[0].fp (after an update): what
	 * was skipped and why */
	struct funcprobe *plan;
};

/*
 * A comm: target's processes of one file version share one set of links
 * (serve_probes__host_start): the host holds the units, attached with no
 * PID filter, and a slots map (tgid -> slot) each unit's program looks
 * the hitting process up in; a member (serve_probes__join) is one
 * process: its labels, its slot, and its counters' values when it
 * joined (a slot is reused: the counters are never zeroed, so the
 * overhead budget's sums over all slots only grow).
 */
struct serve_base {
	uint64_t serial;		/* the unit's */
	size_t cnt;			/* functions */
	uint64_t *calls;		/* SERVE_COUNT: per function */
	struct fp_hist *hists;		/* SERVE_LATENCY: per function */
};

struct serve_probes {
	struct target t;
	/* a member: the host whose units it reads, its slot there */
	struct serve_probes *host;
	unsigned slot;
	struct serve_base *bases;
	size_t base_cnt;
	/* a host: slots_cap > 0 */
	unsigned slots_cap;
	int slots_fd;			/* the tgid -> slot map */
	int file_fd;			/* O_PATH: attach_path stays valid
					   after the first process ended */
	char attach_path[64];		/* /proc/self/fd/N */
	bool *slot_used;
	unsigned members;
	unsigned slots_high;		/* 1 + the highest slot used so far */
	pthread_mutex_t slot_lock;	/* members stop on many threads */
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

/* The units a process's figures are in: its host's for a member. */
static inline struct serve_units *serve_units_of(const struct serve_probes *pr,
						 int k)
{
	return (struct serve_units *)&(pr->host ? pr->host : pr)->units[k];
}

/* The one process pr's units are for, or 0: every process of the file (a
 * host's links are on the file; a binary: target, every process of it):
 * their attach and their budget's CPU. */
static inline pid_t serve_units_pid(const struct serve_probes *pr)
{
	return pr->t.kind == TARGET_PID && !pr->slots_cap ? pr->t.pid : 0;
}

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
