/* SPDX-License-Identifier: MIT */
/*
 * The user-space half of `gosnoop sched` that needs no BPF: goroutine
 * names (start function through go-statement wrappers, creator), status
 * and wait-reason names per Go release, and every output form (the table,
 * --events lines, --json lines, the Perfetto timeline). cmd_sched.c feeds
 * it the records the probe produced.
 */
#ifndef GOSNOOP_SCHED_REPORT_H
#define GOSNOOP_SCHED_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#include "bpf/sched.h"
#include "pattern.h"

struct gobin;
struct sched_report;

struct sched_report_opts {
	bool json;		/* JSON lines */
	bool events;		/* one line per state change */
	bool all;		/* one row per goroutine, never grouped */
	const char *perfetto;	/* write a Chrome/Perfetto trace here */
	const uint64_t *goids;	/* --goid filter (cnt 0: all) */
	size_t goid_cnt;
	struct patterns *start;	/* --start filter (NULL or empty: all) */
};

int sched_report__new(const struct gobin *gb,
		      const struct sched_report_opts *opts,
		      struct sched_report **out);
void sched_report__free(struct sched_report *r);

/* Trace start (CLOCK_MONOTONIC ns, bpf_ktime_get_ns' clock); opens the
 * Perfetto file. 0 or -errno. */
int sched_report__set_start(struct sched_report *r, uint64_t ns);
/* Process pid runs the binary: learn its load bias (PIE) while it lives. */
void sched_report__note_pid(struct sched_report *r, pid_t pid);
/* Process pid, found gone, changed a goroutine at ns: it lived until at
 * least then (its goroutines end there unless set_exit says better). */
void sched_report__saw_pid_at(struct sched_report *r, pid_t pid, uint64_t ns);
/* When process pid stopped existing (its goroutines end there). */
void sched_report__set_exit(struct sched_report *r, pid_t pid, uint64_t ns);

/* A ring-buffer record (struct sched_transition or struct sched_end). */
int sched_report__record(struct sched_report *r, const void *data,
			 size_t size);
/* A goroutine still alive at the end, from the map. */
int sched_report__add_live(struct sched_report *r, __u32 pid,
			   const struct sched_g *g, uint64_t end_ns);
void sched_report__set_hist(struct sched_report *r,
			    const uint64_t hist[SCHED_HIST_SLOTS]);
void sched_report__set_reasons(struct sched_report *r,
			       const struct sched_reason_stat *rs);
void sched_report__set_stats(struct sched_report *r,
			     const uint64_t stats[SCHED_NSTATS]);
/* The binary's name of Go status st / wait reason w; a reason neither
 * the binary nor the release table names, or names "" (waitReasonZero),
 * is "reason N" - never NULL or "", the one naming of sched's output and
 * serve's labels. Valid until r is freed. For users other than the
 * report (gosnoop serve's metric labels). */
const char *sched_report__status_name(const struct sched_report *r,
				      unsigned int st);
const char *sched_report__reason_name(const struct sched_report *r,
				      unsigned int w);
/* Describe the probe (for the header line / JSON). */
void sched_report__set_probe(struct sched_report *r, uint64_t addr,
			     const char *func, const char *why, bool emulated);

/* An -i summary at now_ns of what add_live and set_* gave since the last
 * one; the live goroutines are then forgotten (the next snapshot reads
 * them again). */
int sched_report__interval(struct sched_report *r, uint64_t now_ns);
/* The summary at end_ns: table or JSON lines; closes the Perfetto file. */
int sched_report__finish(struct sched_report *r, uint64_t end_ns);

#endif
