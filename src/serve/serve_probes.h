/* SPDX-License-Identifier: MIT */
/*
 * The probes of one `gosnoop serve` target: its count and latency
 * functions, planned and attached through the same machinery as
 * `gosnoop count` and `gosnoop latency` (probe/funcprobe.h, the
 * funcs_count and funcs/funcs_r14 BPF objects), read on every scrape.
 */
#ifndef GOSNOOP_SERVE_PROBES_H
#define GOSNOOP_SERVE_PROBES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/types.h>
#include "bpf/funcs.h"

struct serve_target;
struct serve_probes;
struct funcprobe;

enum serve_kind {
	SERVE_COUNT = 0,
	SERVE_LATENCY = 1,
	SERVE_NKINDS,
};

/*
 * Resolve, plan, load and attach one process (pid > 0: a pid: target, or
 * one process of a comm: target) or every process running cfg->binary
 * (pid 0). gb: the file already opened by the caller (taken over, freed
 * on failure too), or NULL. 0 or -errno after one error line. Keeps no
 * reference to the file's mapping once attached.
 */
struct gobin;
int serve_probes__start(const struct serve_target *cfg, pid_t pid,
		    struct gobin *gb, struct serve_probes **out);
/*
 * A comm: target's processes of one file share links (serve_probes_int.h):
 * host_start plans and attaches them on the file of process pid (gb as
 * above) with up to want_slots processes (fewer if its maps would take
 * too much memory); -E2BIG, saying nothing, when too few fit to be worth
 * it (probe each process with serve_probes__start). join: process pid
 * as one of host's (its own labels and series, exactly as a process of
 * its own); -ENOSPC when host is full. A member is stopped with
 * serve_probes__stop; a host once it has no members (host_members).
 */
int serve_probes__host_start(const struct serve_target *cfg, pid_t pid,
			     struct gobin *gb, unsigned want_slots,
			     struct serve_probes **out);
int serve_probes__join(struct serve_probes *host, const struct serve_target *cfg,
		       pid_t pid, struct serve_probes **out);
/* A member's host, or NULL. */
struct serve_probes *serve_probes__host(const struct serve_probes *pr);
/* A host's members now, and its slots (*slots). */
unsigned serve_probes__host_members(const struct serve_probes *host,
				    unsigned *slots);
/* Detach and free (NULL is fine). */
void serve_probes__stop(struct serve_probes *pr);
/* Between begin and end, starts and updates on one thread share one
 * reading of a binary (serve_probes.c). */
void serve_probes__cache_begin(void);
void serve_probes__cache_end(void);

/*
 * Every label of this target's series, preformatted and escaped:
 * binary="…"[,pid="…"][,extra labels of the config, in order]. Built once
 * at start (the one place labels are made); series add their own after.
 */
const char *serve_probes__labels(const struct serve_probes *pr);
/* The histogram's configured upper bounds in ns (cnt 0: log2 slots). */
const uint64_t *serve_probes__buckets(const struct serve_probes *pr, int *cnt);
/* What became of the attached file, now is a stat() of its path. */
enum serve_file {
	SERVE_FILE_SAME,
	SERVE_FILE_REPLACED,	/* another inode (a deploy's rename): the
				   probes are still on the old one */
	SERVE_FILE_REWRITTEN,	/* same inode, other size or mtime: the
				   probes' offsets belong to the old code */
};
struct stat;
enum serve_file serve_probes__file_state(const struct serve_probes *pr,
				     const struct stat *now);
/* One pointer for per-target extras (sched), kept until stop. */
void *serve_probes__ext(const struct serve_probes *pr);
void serve_probes__set_ext(struct serve_probes *pr, void *ext);

/* The `binary` label: the executable's path. */
const char *serve_probes__binary(const struct serve_probes *pr);
/* > 0 for a pid: target. */
pid_t serve_probes__pid(const struct serve_probes *pr);
/* Whether the target probes functions of this kind. */
bool serve_probes__has(const struct serve_probes *pr, enum serve_kind kind);
/* The functions probed of one kind, numbered 0..cnt-1 across the units
 * their probes are attached in (a reload adds units, see below). */
size_t serve_probes__func_cnt(const struct serve_probes *pr, enum serve_kind kind);
struct fp_func;
struct fp_skipped;
const struct fp_func *serve_probes__func(const struct serve_probes *pr,
				     enum serve_kind kind, size_t fid);
/* Functions the last plan of this kind could not probe, and why. */
size_t serve_probes__skipped_cnt(const struct serve_probes *pr, enum serve_kind kind);
const struct fp_skipped *serve_probes__skipped(const struct serve_probes *pr,
					   enum serve_kind kind, size_t i);
/* BPF objects (each one uprobe_multi link) the functions of a kind are in. */
size_t serve_probes__units(const struct serve_probes *pr, enum serve_kind kind);
/* Calls of count function fid (sum over CPUs); 0 or -errno. */
int serve_probes__calls(struct serve_probes *pr, size_t fid, uint64_t *calls);
/* Histogram of latency function fid; 0 or -errno. */
int serve_probes__hist(struct serve_probes *pr, size_t fid, struct fp_hist *h);

/*
 * A reload that changes a target's count:/latency: lists and nothing else
 * (serve_probes_update.c): per kind, the functions the new lists name are
 * planned; a unit all of whose functions stay is left attached, its
 * counters running; functions no kept unit holds are attached as a new
 * unit; a unit with a function removed is detached (its remaining
 * functions are in the new unit, their counters start again).
 *   prepare: plan and attach what is new (the old probes still serve);
 *	0, or -ESTALE when this cannot be done probe by probe (the file
 *	changed, two functions share a name: restart the target), or
 *	-errno after one error line. Nothing visible has changed yet.
 *   commit: show the new units (no system call: under the scrapes' lock).
 *   finish: detach what was dropped, free. abort: undo prepare.
 */
struct serve_probes_change;
int serve_probes__update_prepare(struct serve_probes *pr, const struct serve_target *old,
			     const struct serve_target *cfg,
			     struct serve_probes_change **out);
void serve_probes__update_commit(struct serve_probes_change *c);
void serve_probes__update_finish(struct serve_probes_change *c);
void serve_probes__update_abort(struct serve_probes_change *c);
/* Functions a change attaches and detaches (over both kinds). */
void serve_probes__change_counts(const struct serve_probes_change *c,
			     size_t *attached, size_t *detached);
/*
 * Drop the latency program's open-call stacks of processes that have
 * ended (funcs_latency__sweep): a process that exits inside a timed call
 * leaves one behind, and this target lives as long as the daemon. About
 * once a second; returns how many went.
 */
unsigned int serve_probes__sweep(struct serve_probes *pr);
/* The latency program's pairing counters (FP_NSTATS of them). */
void serve_probes__lat_stats(const struct serve_probes *pr, uint64_t *stats);
/* "uprobe_multi" or "classic uprobes" */
const char *serve_probes__mode(const struct serve_probes *pr);
/* Sites attached of one kind. */
size_t serve_probes__sites(const struct serve_probes *pr, enum serve_kind kind);

/*
 * The overhead budget (serve_budget.c, docs/serve.md "The overhead
 * budget"). tick: from the main thread, often (each governor looks every
 * OVH_UPDATE_NS): max_pct the target's max_overhead now (0: none; a
 * change applies without re-attaching), keep its keep: (the same);
 * takes lock around what scrapes read. overhead: the estimate (a ratio)
 * summed over the units that have a budget; false if none has.
 * write_throttled: one sample per function the budget ever turned off,
 * gosnoop_probe_disabled (1 while off) or, with coverage,
 * gosnoop_probe_coverage_ratio (the share of the time it was probed).
 */
struct overhead_keep;
void serve_probes__budget_tick(struct serve_probes *pr, double max_pct,
			       const struct overhead_keep *keep,
			       uint64_t now_ns, pthread_mutex_t *lock);
bool serve_probes__overhead(const struct serve_probes *pr, double *ratio);
void serve_probes__write_throttled(const struct serve_probes *pr, FILE *f,
				   bool coverage);

#endif
