/* SPDX-License-Identifier: MIT */
/*
 * overhead - the overhead budget of count, latency and trace (issue 16):
 * what a uprobe hit costs on this machine, what each probed function
 * therefore costs the traced program, and a governor that keeps the
 * total under --max-overhead PCT by turning the functions whose figures
 * are worth least for their cost off or sampling them in time
 * (funcprobe__set_off + funcprobe__reattach), and back on later, never
 * those --keep names (src/overhead_gov.c decides; this module measures
 * and acts).
 *
 * Calibration: an empty-ish uprobe (src/bpf/uprobe_cost.bpf.c, one
 * counter) on three sites of gosnoop's own code - a JMP the kernel
 * emulates, a MOV it single-steps, a RET (always single-stepped) - each
 * called in a loop; cost per hit = (probed - unprobed) / calls, the
 * fastest of 9 rounds (other load only adds time; on this VM 0.58 us
 * emulated, 9.0-9.4 us single-stepped and RET, four runs). Cached per
 * boot, keyed by /proc/sys/kernel/random/boot_id, in
 * $XDG_RUNTIME_DIR/gosnoop or /run/gosnoop (uprobe-cost).
 *
 * A call costs its entry site (emulated or single-stepped, as funcprobe
 * planned it) plus, with RET sites (latency, trace), one RET.
 */
#ifndef GOSNOOP_OVERHEAD_H
#define GOSNOOP_OVERHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct funcprobe;
struct fp_func;
struct session;
struct overhead;
struct gobin_buildinfo;

/* Nanoseconds per uprobe hit on this machine. */
struct uprobe_cost {
	double emulated_ns;
	double stepped_ns;
	double ret_ns;
	bool cached;		/* read from this boot's cache */
};

/* The default budget: the commands warn above it (--max-overhead sets an
 * enforced one). */
#define OVH_DEFAULT_PCT		5.0
/* How often the governor looks (the session ticks every 100 ms). */
#define OVH_UPDATE_NS		500000000ULL

/* This machine's costs: from the cache of this boot, or measured now
 * (~0.1-0.3 s; needs what uprobes need). 0 or -errno after one line. */
int overhead__calibrate(struct uprobe_cost *c);

/* What one call of ff costs, in ns, with the sites FP_SITES_* given. */
double overhead__call_ns(const struct uprobe_cost *c,
			 const struct fp_func *ff, unsigned sites);

/*
 * Where the command keeps its calls per function: a per-CPU array map,
 * key fid + h * n for h < halves (latency -i keeps two halves), each
 * value value_size bytes of which the u64s at count_off and (unless
 * SIZE_MAX) extra_off are summed; sum_off (0: none) the u64 of ns spent
 * in the calls (latency: what goes off first, overhead_gov.h).
 */
struct overhead_calls {
	int map_fd;
	size_t value_size;
	size_t count_off;
	size_t extra_off;
	size_t sum_off;
	unsigned halves;
};

/* --keep PATTERN... (serve: keep:), functions never throttled. */
struct overhead_keep {
	char **pat;
	int cnt;
};

/* One --keep PATTERN, checked as the target patterns are (pattern.h) and
 * added to k: 0, -EINVAL after one line, -ENOMEM. */
int overhead__add_keep(struct overhead_keep *k, const char *arg);
/* --keep without --max-overhead: -EINVAL after one line (nothing is
 * throttled without a budget). */
int overhead__check_keep(const struct overhead_keep *k, double max_pct);
void overhead__keep_free(struct overhead_keep *k);

struct overhead_opts {
	double max_pct;		/* the budget, percent; 0: none, only
				   measure (gosnoop cost) */
	struct overhead_keep keep;	/* kept functions (not copied:
					   read in overhead__new) */
	bool enforce;		/* --max-overhead given: turn functions off */
	unsigned sites;		/* FP_SITES_* the command attached */
	pid_t pid;		/* whose CPU (0: every process of a PATH:
				   the machine's CPUs) */
	/* the binary's module list, to tell its own code from the
	 * standard library's (ovh_gov__own_func; read in overhead__new;
	 * NULL: by name only) */
	const struct gobin_buildinfo *bi;
};

/*
 * After attach: calibrate, then watch fp's functions through calls.
 * 0 or -errno after one line (the command then runs without a budget:
 * the caller decides).
 */
int overhead__new(struct funcprobe *fp, const struct overhead_calls *calls,
		  const struct overhead_opts *opts, struct overhead **out);
void overhead__free(struct overhead *o);

/*
 * For a funcprobe command, from its started() callback (attached, the
 * target not yet released): the budget over s->fp through calls, its
 * tick added to s. max_pct: --max-overhead (enforced), 0: warn above
 * OVH_DEFAULT_PCT. If calibration fails: with --max-overhead that is the
 * error (-errno), else a -v line and no budget (0, *out NULL).
 */
int overhead__start(struct session *s, const struct overhead_calls *calls,
		    double max_pct, const struct overhead_keep *keep,
		    struct overhead **out);
/* --max-overhead's PCT ("5", "0.5", "5%"): 0, or -EINVAL after one line. */
int overhead__parse_pct(const char *arg, double *pct);

/* One look at now_ns (mono_ns): at most every OVH_UPDATE_NS. Reports
 * and carries out what the governor decides. */
void overhead__update(struct overhead *o, uint64_t now_ns);
/* The last look, however soon after the one before: at now_ns, with
 * cpu_ns the target's CPU time so far (a reaped -- CMD's, from wait4:
 * /proc has nothing left), or OVH_CPU_READ to read it as usual. What
 * ran after the last tick is then counted too (gosnoop cost). */
#define OVH_CPU_READ UINT64_MAX
void overhead__last_update(struct overhead *o, uint64_t now_ns,
			   uint64_t cpu_ns);
/* The same as a session tick listener (session__add_tick, ctx = o). */
void overhead__tick(struct session *s, uint64_t now_ns, void *ctx);

/*
 * Whether fid's figures cover only part of the time (it was off for a
 * while): then *coverage is the fraction of the time it was on; a count
 * scaled by 1 / *coverage estimates the whole (marked "sampled").
 */
bool overhead__sampled(const struct overhead *o, size_t fid,
		       double *coverage);
/* The same over the window from the last overhead__mark() (or the
 * start) to now_ns: -i's figures are one interval's, so is their
 * coverage; false also when fid was on all through the window. */
bool overhead__sampled_in_window(const struct overhead *o, size_t fid,
				 uint64_t now_ns, double *coverage);
/* A new window from now_ns (after an interval's print). */
void overhead__mark(struct overhead *o, uint64_t now_ns);

/* serve: another --max-overhead PCT (> 0), from the next update on; the
 * estimate of the last update (0.004: the program's work takes 0.4%
 * longer). */
void overhead__set_budget(struct overhead *o, double max_pct);
/* serve: the kept functions are those keep matches, from the next update
 * on (a reload's keep:; nothing to do when it is the same list). */
int overhead__set_keep(struct overhead *o, const struct overhead_keep *keep);
double overhead__estimate(const struct overhead *o);

/* At the end: one line with the peak estimate (-v). */
void overhead__report(const struct overhead *o);

/* What was seen from overhead__new() to the last update (gosnoop cost):
 * seconds, the target's CPU seconds, fid's calls; and the costs used. */
double overhead__window_s(const struct overhead *o);
double overhead__cpu_s(const struct overhead *o);
uint64_t overhead__calls(const struct overhead *o, size_t fid);
const struct uprobe_cost *overhead__cost(const struct overhead *o);

#endif /* GOSNOOP_OVERHEAD_H */
