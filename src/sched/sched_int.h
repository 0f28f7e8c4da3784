/* SPDX-License-Identifier: MIT */
/*
 * Private to sched_report.c (names, records) and sched_summary.c (the
 * table and JSON summary): the report object and the helpers both use.
 */
#ifndef GOSNOOP_SCHED_INTERNAL_H
#define GOSNOOP_SCHED_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sched_report.h"

struct rt_release;
struct sched_perfetto;

/* More goroutines than this: one row per start function (--all: each). */
#define SCHED_GROUP_THRESHOLD 25
#define SCHED_HIST_STARS 40

struct rep_g {
	__u32 pid;
	bool ended;
	bool snap;		/* live at an -i snapshot: dropped after it */
	struct sched_g g;
};

struct pid_bias {
	pid_t pid;
	bool ok;		/* bias known */
	bool gone;		/* the process is gone: stop asking /proc */
	uint64_t last_seen_ns;	/* gone unseen: its last goroutine change */
	uint64_t bias;
	uint64_t exit_ns;
};

struct sched_start_name {
	uint64_t vaddr;		/* startpc as a file vaddr */
	const char *start;	/* what the user means */
	const char *wrapper;	/* the go-statement wrapper, or NULL */
	char *hex;		/* owned: "0x..." when no function */
};

struct sched_report {
	const struct gobin *gb;
	const struct rt_release *rel;
	char *bin_reasons[SCHED_NREASONS];	/* from the binary, or NULL */
	struct sched_report_opts opts;
	struct jw *jw;			/* stdout, JSON mode */

	struct rep_g *gs;
	size_t g_cnt, g_cap;
	struct pid_bias *pids;
	size_t pid_cnt;
	struct sched_start_name *names;
	size_t name_cnt, name_cap;

	uint64_t hist[SCHED_HIST_SLOTS];
	struct sched_reason_stat reasons[SCHED_NREASONS];
	uint64_t stats[SCHED_NSTATS];
	uint64_t start_ns, end_ns;
	uint64_t probe_addr;
	const char *probe_func, *probe_why;
	bool probe_emulated;
	bool events_header;

	struct sched_perfetto *pf;	/* --perfetto */
};


const char *sched_status_name(const struct sched_report *r, unsigned int st);
const char *sched_reason_name(const struct sched_report *r, unsigned int w);
struct pid_bias *sched_pid_info(struct sched_report *r, pid_t pid);
const struct sched_start_name *sched_start_of(struct sched_report *r,
					      pid_t pid, uint64_t startpc);
const char *sched_start_name(struct sched_report *r, pid_t pid,
			     uint64_t startpc);
const char *sched_creator_of(struct sched_report *r, pid_t pid,
			     uint64_t gopc, const char **file, int *line);
bool sched_goid_wanted(const struct sched_report *r, uint64_t goid);
bool sched_start_wanted(struct sched_report *r, pid_t pid, uint64_t startpc);
char *sched_fmt_ns(char *buf, size_t len, uint64_t ns);
/* Before the timeline closes: a track for every live goroutine no change
 * gave one (blocked since the attach snapshot, or since its last change
 * when events were lost). */
void sched_pf_add_unchanged(struct sched_report *r);

#endif
