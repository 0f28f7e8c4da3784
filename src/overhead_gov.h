/* SPDX-License-Identifier: MIT */
/*
 * overhead_gov - the decisions of the overhead budget (issue 16), apart
 * from everything that reads the kernel: no BPF, no /proc, no clock of
 * its own, so a unit test can drive it with synthetic counters
 * (tests/unit/test_overhead_gov.c). src/overhead.c feeds it.
 *
 * Each update gets, per probed function, its calls so far (cumulative, as
 * the command's BPF maps hold them) and, once, the CPU time the traced
 * process(es) used since the last update. A function's cost is
 *	calls/s x ns per call (its sites' calibrated trap costs)
 * and the estimated overhead is the probes' CPU over the program's own
 * work: its CPU time minus the probes' (a uprobe runs in the task that
 * hit it), i.e. how much longer its CPU-bound work takes; the work is
 * counted as at least OVH_MIN_CPU of one CPU, so that a nearly idle
 * process is not "100% overhead" for a few calls a second.
 *
 * Enforced (overhead_gov.c govern()): kept functions (ovh_gov__set_kept,
 * --keep) are never throttled, their cost counted first; the others are
 * ranked by what their figures lose when throttled for what that saves
 * (score(): cost x calls per second of the program's work, over how well
 * the probes let a call be timed, latency's ovh_gov__note_time: a 200 ns
 * helper under a 10 us RET probe is measured badly anyway, a 300 us
 * handler well). Over budget the highest scores go off until the rest
 * fits; the last few to go are sampled in time instead (on for slices of
 * OVH_SLICE_NS, OVH_MIN_DUTY of the time at least, within OVH_FILL of
 * the budget: a handler whose own cost is over the budget); an off
 * function is tried again after its backoff (OVH_BACKOFF_MIN_NS, doubled
 * each time it is turned off again, up to OVH_BACKOFF_MAX_NS): back in
 * full if its last known cost fits under OVH_LOW_WATER of the budget
 * with the rest (the hysteresis), sampled if a slot is free and its
 * remembered cost fits the budget, else that cost is halved.
 * latency's well-timed functions (quality() >= OVH_WELL_TIMED: a
 * handler's time is its own) have a first claim on OVH_WELL_ROOM of the
 * budget before the badly-timed ones fill it: the program's own code
 * first (ovh_gov__set_own), then the longest calls, the runtime's waits
 * excluded (ovh_gov__set_wait); those on in full that fit in it are not
 * shed, and the first that does not (a handler over it alone) is
 * sampled in a slot of its own, budgeted at what is left of the claim.
 * Without enforce the same estimate only warns.
 */
#ifndef GOSNOOP_OVERHEAD_GOV_H
#define GOSNOOP_OVERHEAD_GOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the smallest CPU rate (CPU-seconds per second) overhead is counted
 * against: 1% of one CPU */
#define OVH_MIN_CPU		0.01
/* an off function comes back only if the estimate with it stays under
 * this fraction of the budget */
#define OVH_LOW_WATER		0.5
#define OVH_BACKOFF_MIN_NS	2000000000ULL
#define OVH_BACKOFF_MAX_NS	64000000000ULL
/* Sampling in time: at most this many functions at once (each toggle
 * re-links a chunk of probes), each on for slices of OVH_SLICE_NS and at
 * least OVH_MIN_DUTY of the time (else off), all of them within OVH_FILL
 * of the budget (the rest is the margin for the estimate's noise) */
#define OVH_MAX_SAMPLED		2
#define OVH_SLICE_NS		2000000000.0
#define OVH_MIN_DUTY		0.02
#define OVH_FILL		0.8
/* latency's well-timed functions (a handler: calls whose time is mostly
 * their own) have a first claim on this share of the budget, and one
 * sampling slot of their own (overhead_gov.c govern()). Most of it: they
 * are what latency '*' is run for, and a handler's probes (a RET is
 * single-stepped) cost about what a 5% budget holds: esbuild's
 * ServeHTTP 4-6.5% of its work here (half the budget kept it sampled,
 * at the 2% floor after a minute); the badly-timed ones, whose measured
 * time is mostly the probes', fill what it leaves. */
#define OVH_WELL_ROOM		0.9
/* Probes estimated at more than this share of the program's CPU leave
 * its own work (CPU minus probes) a small difference of large figures:
 * every share over it may be many times too big. Then only the dearest
 * go, until the probes are under it, and the rest is decided at the
 * next look, on a work measured well. */
#define OVH_UNSURE		0.5

enum ovh_action { OVH_OFF = 1, OVH_ON = 2 };

/* A decision of one update, for the caller to carry out and report. */
struct ovh_change {
	size_t fid;
	enum ovh_action action;
	bool toggle;		/* to carry out (else only to tell) */
	/* to tell the user: throttled (sampled or off), back on; a sampled
	 * function's slices are not told */
	bool report;
	double duty;		/* sampled from now: its share of the time */
	double hits_per_s;	/* calls/s when last measured on */
	double est_overhead;	/* its CPU over the program's own, e.g. 0.42 */
};

struct ovh_gov;
struct gobin_buildinfo;

/*
 * n functions; ns_per_call[fid]: what one call costs in traps (copied);
 * budget: a fraction (0.05 for 5%); enforce: turn functions off (else
 * only estimate). NULL on ENOMEM.
 */
struct ovh_gov *ovh_gov__new(size_t n, const double *ns_per_call,
			     double budget, bool enforce);
void ovh_gov__free(struct ovh_gov *g);

/*
 * One update at now_ns (any monotonic clock): calls[fid] cumulative (a
 * function off keeps its last value), cpu_ns the CPU time the traced
 * process used since the previous update (the first update only sets the
 * baseline and decides nothing). Writes at most n changes into out
 * (sized n) and returns how many; the caller turns those functions off
 * or on before the next update.
 */
size_t ovh_gov__update(struct ovh_gov *g, uint64_t now_ns,
		       const uint64_t *calls, uint64_t cpu_ns,
		       struct ovh_change *out);

/* Before an update: each function's time in calls so far (cumulative ns,
 * as latency's histograms hold it), which orders what goes off first. */
void ovh_gov__note_time(struct ovh_gov *g, const uint64_t *sum_ns);

/* fid kept (--keep): never throttled, from the next update on (one off
 * then comes back); its cost still counts against the budget. */
void ovh_gov__set_kept(struct ovh_gov *g, size_t fid, bool kept);
bool ovh_gov__is_kept(const struct ovh_gov *g, size_t fid);
/* Once, after the update where the kept functions alone first cost more
 * than the budget: true, with their estimate (every other function is
 * then off). */
bool ovh_gov__kept_over_budget(struct ovh_gov *g, double *kept_overhead);
/* Whether fid is sampled in time now, and for what share of the time. */
bool ovh_gov__is_sampled(const struct ovh_gov *g, size_t fid, double *duty);
/* The function sampled in the well-timed slot (the first claim of
 * latency's well-timed functions, overhead_gov.c govern()), else
 * SIZE_MAX. */
size_t ovh_gov__well_timed_slot(const struct ovh_gov *g);
/* fid's long calls are waits (the runtime parking an idle thread), not
 * what latency '*' is run for: no first claim on the budget. */
void ovh_gov__set_wait(struct ovh_gov *g, size_t fid, bool wait);
/* fid is the program's own code (not the Go standard library): first in
 * that claim, before the library's wrappers and waits around it. */
void ovh_gov__set_own(struct ovh_gov *g, size_t fid, bool own);
/* Whether function name is the Go runtime's: its long calls are waits
 * (an idle M in stopm or notesleep, a futex, a GC worker parked), never a
 * handler of the program's (for ovh_gov__set_wait). */
bool ovh_gov__runtime_func(const char *name);
/* Whether function name is the program's own code rather than the
 * standard library's: package main, a package of a module of bi (the
 * main module's path may have no dot: "myapp/handlers"), or an import
 * path whose first element has a dot (what is left without bi). */
bool ovh_gov__own_func(const char *name, const struct gobin_buildinfo *bi);
/* Another budget (a fraction), from the next update on (serve's reload). */
void ovh_gov__set_budget(struct ovh_gov *g, double budget);
/* The estimate of the last update: the probes' CPU over the program's
 * own (0.05: its work takes 5% longer). */
double ovh_gov__overhead(const struct ovh_gov *g);
/* The highest estimate seen so far (what the probes cost at worst). */
double ovh_gov__peak_overhead(const struct ovh_gov *g);
/* Function fid's last measured calls/s and share (0 if never on). */
double ovh_gov__hits_per_s(const struct ovh_gov *g, size_t fid);
double ovh_gov__func_overhead(const struct ovh_gov *g, size_t fid);
bool ovh_gov__is_off(const struct ovh_gov *g, size_t fid);
/* Whether fid was ever off: its figures cover only part of the time. */
bool ovh_gov__was_off(const struct ovh_gov *g, size_t fid);
/* Nanoseconds fid was on since the first update, up to now_ns. */
uint64_t ovh_gov__on_ns(const struct ovh_gov *g, size_t fid, uint64_t now_ns);
/* fid's share of [since_ns, now_ns] on, on_at_since its ovh_gov__on_ns()
 * at since_ns (one -i interval's figures): false when it never went off
 * or was on all through the window (those figures are exact). */
bool ovh_gov__window_coverage(const struct ovh_gov *g, size_t fid,
			      uint64_t since_ns, uint64_t on_at_since,
			      uint64_t now_ns, double *coverage);

#endif /* GOSNOOP_OVERHEAD_GOV_H */
