// SPDX-License-Identifier: MIT
/*
 * gosnoop cost: what tracing these functions would cost, before paying
 * it. Attaches count's program (one emulated or single-stepped site per
 * function) for a few seconds, counts calls, reads the target's CPU time,
 * and predicts for each function the overhead of count, latency and
 * trace from this machine's calibrated per-hit costs (src/overhead.h):
 *	calls x ns per call (that command's sites) / the program's own CPU
 * where the program's own CPU is its CPU time minus what count's probes
 * took of it during the measurement (calls per unit of its own work do
 * not change when probes slow it down). A prediction is for CPU-bound
 * work: how much longer it takes; a program that mostly waits is slowed
 * less in wall time.
 *
 * With a process (-p, -- CMD) the program's own work is measured in situ
 * instead: after a third of -d all but a few much-called, cheap "proxy"
 * functions go off, the program runs almost untraced, and its CPU then,
 * scaled by the proxies' call rates, is its own work while all were on
 * (split_window, model_in_situ): when the probes are most of its CPU the
 * subtraction above is a small difference of large numbers. That needs
 * the links of the functions turned off closed, 1-2 ms a function here
 * (8,783: 9-17 s); where that would not fit in -d the order is reversed
 * (meters_first, model_meters): first only an allocation function on, a
 * meter of the program's work, then every function; and then, phase L,
 * every hit made as dear as latency's calls are on average (a busy wait
 * in cost_count.bpf.c): a program that slow calls more per unit of its
 * work (time-driven runtime work: start_latency_phase), and what it calls
 * then prices latency and trace (model_latency).
 *
 * What a hit costs in situ is the calibrated cost plus an extra per hit,
 * the same for an emulated entry and a single-stepped RET (extra_ns):
 * with many probes the kernel's uprobe lookup and the BPF program miss
 * the caches, which the calibration's tight loop never does. esbuild
 * serving HTTP, every function (8,783): count's probes ~2.1 us a hit
 * over the calibrated 0.6 us emulated (2.9x), latency's ~1.9 us over
 * 10.4 us (1.4x): additive, not a factor (latency '*' priced with
 * count's 2.9x came out ~2x too high).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "common.h"
#include "json_writer.h"
#include "options.h"
#include "overhead.h"
#include "overhead_gov.h"
#include "record_out.h"
#include "session.h"
#include "funcs/funcs_session.h"
#include "gobin/gobin.h"
#include "probe/funcprobe.h"
#include "bpf/cost_count.skel.h"

#define COST_DEFAULT_SECS 3.0

enum { COST_COUNT, COST_LATENCY, COST_TRACE, COST_NCMDS };

static const char *const cost_cmd[COST_NCMDS] = {
	"count", "latency", "trace" };
static const unsigned cost_sites[COST_NCMDS] = {
	FP_SITES_ENTRY, FP_SITES_ENTRY | FP_SITES_RET,
	FP_SITES_ENTRY | FP_SITES_RET };

/* The second half runs with only the proxy functions on: at least this
 * many of their calls in each half, and they cost at most
 * COST_PROXY_SHARE of what all functions cost in the first. */
#define COST_PROXY_MIN_CALLS 100
#define COST_PROXY_SHARE 0.02
/* the split at this share of -d; the second half counted from
 * COST_SETTLE_S after it at the earliest, once the proxies' call rate
 * stops growing (by COST_SETTLED_GROWTH a look): the links of the
 * functions turned off close on a thread of their own (1,400 runtime.*
 * functions: 1-3 s on a busy machine), trapping uncounted meanwhile */
#define COST_SPLIT_AT 0.3
#define COST_SETTLE_S 1.0
#define COST_SETTLED_GROWTH 1.15
/* ... and not before it is this many times the rate with all on: the
 * program freed of most probes runs faster (else the calibrated model is
 * good enough: the probes are not most of its CPU) */
#define COST_SETTLED_RISE 1.5

/*
 * Closing a function's links costs 1-2 ms here (a uprobe unregistered:
 * the target's mmap lock, a TLB flush; 8,783 functions 9-17 s, 1,490 in
 * 1-3 s, and with the machine loaded more: bench/overhead.py's cost -d 6
 * 'runtime.*' fell back to the calibrated model at a load average of
 * 1,000, 0.02x the slowdown): more functions than COST_SPLIT_AT of -d
 * closes at 2 ms cannot be split, and the meters go first instead - the
 * program's own speed measured before every probe is on, which needs no
 * link closed: only an allocation function on (most Go work allocates,
 * at a steady rate per unit of work; esbuild: 67-73 runtime.mallocgc
 * calls a request whether traced or not), the first of these matched
 * whose entry is emulated (mallocgc and newobject both: twice the probes
 * for nothing).
 */
#define COST_CLOSE_S_PER_FUNC 2e-3
/* phase A's share of what -d leaves after phase 0; the rest is phase L
 * (start_latency_phase) */
#define COST_A_SHARE 0.5
#define COST_METERS_MIN_SECS 2.0
static const char *const cost_meter_names[] = {
	"runtime.mallocgc", "runtime.newobject" };

struct cost_state {
	struct target t;
	pid_t pid;
	const char *path_arg;
	double duration;
	struct cost_count_bpf *skel;
	struct overhead *ovh;
	/* the split at half time (see split_window) */
	bool split_tried, split;
	bool *proxy;		/* per fid: left on in the second half */
	uint64_t *calls_a;	/* per fid: calls in the first half */
	uint64_t *calls_b0;	/* per fid: calls when the second starts */
	double secs_a, cpu_a, secs_b0, cpu_b0;
	bool b_started;
	double last_secs, last_rate;	/* the proxies' after the split */
	double proxy_rate_a;		/* their calls/s with all on */
	uint64_t last_pcalls;
	/* meters first (see COST_CLOSE_S_PER_FUNC): phase 0 is 0 .. secs_0
	 * with only the meters on; phase A from secs_a0 on, all on */
	bool meters_first, switched, a_started;
	bool *meter;		/* per fid */
	double secs_0, cpu_0, probes_0_ns, secs_a0, cpu_a0;
	uint64_t meter_0;	/* the meters' calls in phase 0 */
	uint64_t *calls_a0;	/* per fid: calls when phase A starts */
	/* meters first, phase L (see start_latency_phase): from secs_l0 on,
	 * every hit delay_ns dearer; A ends there */
	bool lat_tried, l_started;
	double delay_ns, secs_l0, cpu_l0;
	uint64_t *calls_l0;	/* per fid: calls when phase L starts */
};

/* What the window measured, and what a prediction divides by. */
struct cost_model {
	double secs;		/* the window whose calls/s are predicted */
	double work;		/* the program's own CPU-s/s then */
	double factor;		/* count's probes in situ / calibrated */
	double extra_ns;	/* what a hit costs in situ over calibrated */
	bool in_situ;		/* work and factor from the split */
	/* the probes' CPU over the own work in the window, as measured;
	 * and almost untraced (the meters' or the proxies' phase): the own
	 * work then, the probes' over it (work_base 0: not measured). How
	 * the rate of work follows the overhead (rate_slowdown). */
	double over, work_base, over_base;
};

struct cost_row {
	const char *name;
	double calls_per_s;
	double pred[COST_NCMDS];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s cost [OPTIONS] TARGET PATTERN...\n"
		"TARGET: PATH (every process running it) | -p PID | -- CMD ARGS\n"
		"What tracing the matching functions would cost: counts their\n"
		"calls for a few seconds (count's probes), reads the target's\n"
		"CPU time, and predicts each command's overhead per function\n"
		"from what a uprobe hit costs on this machine (calibrated once\n"
		"per boot): the added CPU time over the program's own. With a\n"
		"process, after a third of SECS only a few much-called functions\n"
		"stay on: the program's own CPU is measured almost untraced (with\n"
		"more functions than can be turned off in time, the first third\n"
		"instead, with only runtime.mallocgc on as a meter of its work,\n"
		"and the last part with each hit made as dear as latency's: what\n"
		"the program calls that slow prices latency and trace). Measured\n"
		"so, a last line gives the slowdown of its rate of work (requests\n"
		"a second), less for a program that waits between its work.\n\n"
		"  -j, --json           {\"type\":\"cost\",\"func\":...,\"calls_per_s\":N,\n"
		"                       \"count\":F,\"latency\":F,\"trace\":F} lines\n"
		"                       (fractions: 0.05 is 5%%), then a \"cost_total\"\n"
		"                       (with count_rate, latency_rate, trace_rate)\n"
		"  -d, --duration SECS  measure this long (default %g)\n"
		"  -p, --pid PID        this process only (its CPU time)\n"
		"  -v, --verbose        the per-hit costs used\n"
		"Without -p or -- CMD, overhead is counted against the machine's\n"
		"CPUs. Functions never called are not printed.\n",
		prog_name, COST_DEFAULT_SECS);
}

/* Before the attach: whether the meters go first (COST_CLOSE_S_PER_FUNC),
 * and then every other function off until phase A. */
static int plan_meters(struct session *s)
{
	struct cost_state *st = s->ctx;
	size_t n = funcprobe__cnt(s->fp), nmeters = 0;
	const char *name = NULL;
	int err;

	if (session__target_pid(s) <= 0 || s->duration < COST_METERS_MIN_SECS ||
	    n * COST_CLOSE_S_PER_FUNC <= COST_SPLIT_AT * s->duration)
		return 0;
	st->meter = calloc(n ? n : 1, sizeof(*st->meter));
	if (!st->meter)
		return -ENOMEM;
	for (size_t i = 0; !nmeters && i < sizeof(cost_meter_names) /
					   sizeof(*cost_meter_names); i++)
		for (size_t fid = 0; fid < n; fid++) {
			const struct fp_func *ff = funcprobe__func(s->fp, fid);

			if (ff->emulated &&
			    !strcmp(ff->name, cost_meter_names[i])) {
				st->meter[fid] = true;
				name = ff->name;
				nmeters++;
			}
		}
	if (!nmeters)
		return 0;
	st->calls_a0 = calloc(n, sizeof(*st->calls_a0));
	if (!st->calls_a0)
		return -ENOMEM;
	for (size_t fid = 0; fid < n; fid++) {
		err = funcprobe__set_off(s->fp, fid, !st->meter[fid]);
		if (err)
			return err;
	}
	st->meters_first = true;
	p_info("cost: %zu functions are more than can be turned off within %g s: first only %s on (a meter of the program's own speed), then all",
	       n, s->duration, name);
	return 0;
}

static int configure(struct session *s)
{
	struct cost_state *st = s->ctx;
	int err;

	/* count's own program (with a price per hit that phase L raises):
	 * cost predicts from what count would see */
	st->skel = cost_count_bpf__open();
	if (!st->skel) {
		err = -errno;
		p_err("cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	err = bpf_map__set_max_entries(st->skel->maps.counts,
				       (__u32)funcprobe__cnt(s->fp));
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		return err;
	}
	s->obj = st->skel->obj;
	s->prog = st->skel->progs.fp_count;
	return plan_meters(s);
}

static int load(struct session *s)
{
	struct cost_state *st = s->ctx;
	int err = cost_count_bpf__load(st->skel);

	if (err)
		p_load_error("the BPF program", err);
	return err;
}

static int started(struct session *s)
{
	struct cost_state *st = s->ctx;
	const struct overhead_calls calls = {
		.map_fd = bpf_map__fd(st->skel->maps.counts),
		.value_size = sizeof(__u64), .count_off = 0,
		.extra_off = SIZE_MAX, .halves = 1 };
	const struct overhead_opts o = {
		.max_pct = 0, .enforce = false, .sites = FP_SITES_ENTRY,
		.pid = session__target_pid(s) };

	return overhead__new(s->fp, &calls, &o, &st->ovh);
}

static void released(struct session *s)
{
	if (!json_output)
		fprintf(stderr, "%s: counting calls of %zu functions for %g s...\n",
			prog_name, funcprobe__cnt(s->fp), s->duration);
}

/*
 * How the program's rate of work (requests or iterations a second)
 * follows the overhead o of its CPU-bound work. A program that waits
 * between batches of work (a server between requests, one that shares the
 * CPUs with its client) takes more CPU when slowed, and its rate falls
 * less than o. A unit of work takes a x (1 + o) of CPU plus b of waiting:
 * its rate is 1 / (a (1 + o) + b). The phase almost untraced and the one
 * with every function on give two points (own work and overhead, both
 * measured), whence a and b; the rate slowdown is then a o / (a + b): o
 * for a CPU-bound program (b = 0), less the more it waits. esbuild
 * serving HTTP next to its client: 110x predicted, 109x measured, for a
 * CPU-bound 278x.
 */
static bool rate_measured(const struct cost_model *m)
{
	return m->work_base > 0 && m->work > 0 && m->over > m->over_base;
}

/* a and b (above) of a model rate_measured; false where the probes did
 * not slow the program at all (a <= 0) */
static bool rate_terms(const struct cost_model *m, double *a, double *b)
{
	*a = (1 / m->work - 1 / m->work_base) / (m->over - m->over_base);
	*b = 1 / m->work_base - *a * (1 + m->over_base);
	/* its CPU fell when slowed (the machine's load): CPU-bound, at most */
	if (*b < 0)
		*b = 0;
	return *a > 0;
}

/* The slowdown of the rate of work at overhead o; -1: not measured. */
static double rate_slowdown(double o, const struct cost_model *m)
{
	double a, b;

	if (!rate_measured(m))
		return -1;
	return rate_terms(m, &a, &b) ? a * o / (a + b) : 0;
}

/* The share of its time the program waits untraced (b / (a + b)). */
static double rate_wait_share(const struct cost_model *m)
{
	double a, b;

	return rate_measured(m) && rate_terms(m, &a, &b) ? b / (a + b) : 1;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct cost_row *x = a, *y = b;

	if (x->pred[COST_LATENCY] != y->pred[COST_LATENCY])
		return x->pred[COST_LATENCY] < y->pred[COST_LATENCY] ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void print_json(const struct cost_row *rows, size_t n,
		       const double *total, const struct cost_model *m,
		       const struct cost_model *l, double delay_ns)
{
	struct jw *jw = jw_new(stdout);
	const char *const rate_name[COST_NCMDS] = {
		"count_rate", "latency_rate", "trace_rate" };

	if (!jw)
		return;
	for (size_t i = 0; i <= n; i++) {
		const double *p = i < n ? rows[i].pred : total;

		jw_start_object(jw);
		jw_name(jw, "type");
		jw_string(jw, i < n ? "cost" : "cost_total");
		if (i < n) {
			jw_name(jw, "func"); jw_string(jw, rows[i].name);
			jw_name(jw, "calls_per_s");
			jw_uint(jw, (uint64_t)(rows[i].calls_per_s + 0.5));
		} else {
			jw_name(jw, "seconds"); jw_float(jw, m->secs, 32);
			jw_name(jw, "own_cpu"); jw_float(jw, m->work, 32);
			jw_name(jw, "hit_factor");
			jw_float(jw, m->factor, 32);
			jw_name(jw, "hit_extra_ns");
			jw_float(jw, m->extra_ns, 32);
			jw_name(jw, "in_situ"); jw_bool(jw, m->in_situ);
			/* latency's and trace's phase L, when it priced them */
			jw_name(jw, "latency_in_situ"); jw_bool(jw, l != NULL);
			if (l) {
				jw_name(jw, "latency_seconds");
				jw_float(jw, l->secs, 32);
				jw_name(jw, "latency_own_cpu");
				jw_float(jw, l->work, 32);
				jw_name(jw, "hit_delay_ns");
				jw_float(jw, delay_ns, 32);
			}
			if (rate_measured(m)) {
				jw_name(jw, "own_cpu_almost_untraced");
				jw_float(jw, m->work_base, 32);
				jw_name(jw, "overhead_almost_untraced");
				jw_float(jw, m->over_base, 32);
				jw_name(jw, "overhead_measured");
				jw_float(jw, m->over, 32);
			}
		}
		for (int c = 0; c < COST_NCMDS; c++) {
			jw_name(jw, cost_cmd[c]);
			jw_float(jw, (double)(uint64_t)(p[c] * 1e4 + 0.5) / 1e4,
				 64);
		}
		for (int c = 0; c < COST_NCMDS && i == n; c++) {
			double r = rate_slowdown(p[c], m);

			if (r < 0)
				continue;
			jw_name(jw, rate_name[c]);
			jw_float(jw, (double)(uint64_t)(r * 1e4 + 0.5) / 1e4, 64);
		}
		jw_end_object(jw);
		jw_end_line(jw);
	}
	jw_free(jw);
}

static void print_text(const struct cost_row *rows, size_t n,
		       const double *total, const struct cost_model *m)
{
	double r[COST_NCMDS];

	for (int c = 0; c < COST_NCMDS; c++)
		r[c] = rate_slowdown(total[c], m);

	printf("%-44s %10s %7s %8s %7s\n", "FUNC", "CALLS/S", "COUNT",
	       "LATENCY", "TRACE");
	for (size_t i = 0; i <= n; i++) {
		const char *name = i < n ? rows[i].name : "TOTAL";
		const double *p = i < n ? rows[i].pred : total;
		size_t len = strlen(name);

		if (len > 44)
			printf("...%-41s", name + len - 41);
		else
			printf("%-44s", name);
		if (i < n)
			printf(" %10.0f", rows[i].calls_per_s);
		else
			printf(" %10s", "");
		printf(" %6.1f%% %7.1f%% %6.1f%%\n", p[COST_COUNT] * 100,
		       p[COST_LATENCY] * 100, p[COST_TRACE] * 100);
	}
	if (!n) {
		printf("(no calls)\n");
		return;
	}
	if (r[COST_COUNT] < 0)
		return;
	printf("its rate of work (requests, iterations a second) %.3gx, %.3gx and %.3gx slower: it waits %.0f%% of the time it is not probed\n",
	       1 + r[COST_COUNT], 1 + r[COST_LATENCY], 1 + r[COST_TRACE],
	       100 * rate_wait_share(m));
}

static double entry_ns(struct session *s, size_t fid)
{
	struct cost_state *st = s->ctx;

	return overhead__call_ns(overhead__cost(st->ovh),
				 funcprobe__func(s->fp, fid), FP_SITES_ENTRY);
}

/* Probe hits per call with sites: the entry, and one of its RETs unless
 * the entry is that RET (as overhead__call_ns counts them). */
static unsigned call_hits(const struct fp_func *ff, unsigned sites)
{
	unsigned hits = sites & FP_SITES_ENTRY ? 1 : 0;

	if ((sites & FP_SITES_RET) && ff->ret_cnt &&
	    !(ff->ret_cnt == 1 && ff->rets[0] == ff->entry_site))
		hits++;
	return hits;
}

/* What a call costs with cmd's sites in situ: calibrated, plus the
 * extra per hit. */
static double call_price_ns(const struct uprobe_cost *c,
			    const struct fp_func *ff, int cmd, double extra_ns)
{
	return overhead__call_ns(c, ff, cost_sites[cmd]) +
	       call_hits(ff, cost_sites[cmd]) * extra_ns;
}

static const uint64_t *sort_calls;

static int cmp_fid_by_calls(const void *a, const void *b)
{
	uint64_t x = sort_calls[*(const size_t *)a];
	uint64_t y = sort_calls[*(const size_t *)b];

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * At half time: keep on only proxy functions - the most called ones that
 * together cost at most COST_PROXY_SHARE of the first half's probes -
 * and turn the rest off. The program then runs almost untraced; its CPU
 * in the second half is its own work there, and the proxies' calls, which
 * follow its work, scale that to the first half's (see model_in_situ).
 * Nothing changes (the calibrated model) if the proxies are called too
 * rarely or the re-attach fails.
 */
static void split_window(struct session *s)
{
	struct cost_state *st = s->ctx;
	size_t n = funcprobe__cnt(s->fp), *order;
	double total = 0, kept = 0;
	uint64_t proxy_calls = 0;

	st->split_tried = true;
	st->calls_a = calloc(n ? n : 1, sizeof(*st->calls_a));
	st->calls_b0 = calloc(n ? n : 1, sizeof(*st->calls_b0));
	st->proxy = calloc(n ? n : 1, sizeof(*st->proxy));
	order = calloc(n ? n : 1, sizeof(*order));
	if (!st->calls_a || !st->calls_b0 || !st->proxy || !order)
		goto out;
	for (size_t fid = 0; fid < n; fid++) {
		st->calls_a[fid] = overhead__calls(st->ovh, fid);
		total += st->calls_a[fid] * entry_ns(s, fid);
		order[fid] = fid;
	}
	sort_calls = st->calls_a;
	qsort(order, n, sizeof(*order), cmp_fid_by_calls);
	for (size_t i = 0; i < n; i++) {
		double x = st->calls_a[order[i]] * entry_ns(s, order[i]);

		if (!st->calls_a[order[i]] || kept + x > COST_PROXY_SHARE * total)
			continue;
		kept += x;
		proxy_calls += st->calls_a[order[i]];
		st->proxy[order[i]] = true;
	}
	if (proxy_calls < COST_PROXY_MIN_CALLS)
		goto out;
	st->secs_a = overhead__window_s(st->ovh);
	st->cpu_a = overhead__cpu_s(st->ovh);
	for (size_t fid = 0; fid < n; fid++)
		funcprobe__set_off(s->fp, fid, !st->proxy[fid]);
	st->split = !funcprobe__reattach(s->fp);
	st->last_secs = st->secs_a;
	st->last_pcalls = proxy_calls;
	st->proxy_rate_a = proxy_calls / st->secs_a;
out:
	free(order);
}

/*
 * The first half's own work from the second half's: CPU there minus the
 * proxies' probes, times the ratio of the proxies' call rates. Why: with
 * every function probed the probes are most of the program's CPU, and its
 * own work, the CPU minus calls x calibrated cost, is a small difference
 * of large numbers (esbuild: 0.79 - 0.66 CPU-s/s, 4.6x its real 0.029).
 * The factor is then what a hit cost in situ: (CPU - own) / probes.
 */
static bool model_in_situ(struct session *s, struct cost_model *m)
{
	struct cost_state *st = s->ctx;
	size_t n = funcprobe__cnt(s->fp);
	double secs_b, probes_a = 0, probes_b = 0, work_b, f;
	uint64_t pa = 0, pb = 0, hits_a = 0;
	size_t nproxy = 0;

	if (!st->b_started)
		return false;
	secs_b = overhead__window_s(st->ovh) - st->secs_b0;
	if (secs_b <= 0 || st->secs_a <= 0)
		return false;
	for (size_t fid = 0; fid < n; fid++) {
		uint64_t b = overhead__calls(st->ovh, fid) - st->calls_b0[fid];

		probes_a += st->calls_a[fid] * entry_ns(s, fid);
		hits_a += st->calls_a[fid];
		if (!st->proxy[fid])
			continue;
		nproxy++;
		pa += st->calls_a[fid];
		pb += b;
		probes_b += b * entry_ns(s, fid);
	}
	if (pa < COST_PROXY_MIN_CALLS || pb < COST_PROXY_MIN_CALLS)
		return false;
	probes_a /= 1e9 * st->secs_a;
	work_b = (overhead__cpu_s(st->ovh) - st->cpu_b0) / secs_b -
		 probes_b / 1e9 / secs_b;
	m->work = work_b * (pa / st->secs_a) / (pb / secs_b);
	/* measured, not a guess from a nearly idle CPU: a lower floor */
	if (m->work < OVH_MIN_CPU / 10)
		m->work = OVH_MIN_CPU / 10;
	f = (st->cpu_a / st->secs_a - m->work) / probes_a;
	/* outside this the halves disagree (a proxy that does not follow
	 * the work, a load that changed): the calibrated model */
	if (!(f >= 0.5 && f <= 50))
		return false;
	m->factor = f;
	m->extra_ns = (f - 1) * probes_a * 1e9 * st->secs_a / hits_a;
	m->secs = st->secs_a;
	m->in_situ = true;
	m->over = (st->cpu_a / st->secs_a - m->work) / m->work;
	m->work_base = work_b;
	m->over_base = work_b > 0 ? probes_b / 1e9 / secs_b / work_b : 0;
	p_info("in situ: all on %.2f s at %.3f CPU-s/s, then %.2f s at %.3f with only %zu proxy functions on (calls %.0f/s then %.0f/s): own work %.3f CPU-s/s, a hit costs %.2fx the calibration",
	       st->secs_a, st->cpu_a / st->secs_a, secs_b,
	       (overhead__cpu_s(st->ovh) - st->cpu_b0) / secs_b,
	       nproxy, pa / st->secs_a, pb / secs_b,
	       m->work, f);
	return true;
}

/* Calls of fid in phase A (meters first): up to phase L if it came. */
static uint64_t calls_in_a(const struct cost_state *st, size_t fid)
{
	return (st->l_started ? st->calls_l0[fid] :
				overhead__calls(st->ovh, fid)) - st->calls_a0[fid];
}

/* Where phase A ends: phase L's start, else the last look. */
static double a_end_secs(const struct cost_state *st)
{
	return st->l_started ? st->secs_l0 : overhead__window_s(st->ovh);
}

static double a_end_cpu(const struct cost_state *st)
{
	return st->l_started ? st->cpu_l0 : overhead__cpu_s(st->ovh);
}

/* The program's own work (CPU-s/s) in phase 0, where only the meters
 * were on: its CPU less their calibrated probes. */
static double work_0(const struct cost_state *st)
{
	return (st->cpu_0 - st->probes_0_ns / 1e9) / st->secs_0;
}

/*
 * Meters first: the program's own work in phase A (all on) is its own
 * work in phase 0 (only the meters on: its CPU minus theirs, calibrated)
 * times the ratio of the meters' call rates; the rest of A's CPU is the
 * probes', over the calibrated cost an extra per hit. esbuild, every
 * function: own work 0.3-0.45 CPU-s/s in phase 0, the meters' rate then
 * ~50x what it is with all on.
 */
static bool model_meters(struct session *s, struct cost_model *m, bool say)
{
	struct cost_state *st = s->ctx;
	size_t n = funcprobe__cnt(s->fp);
	double secs_a, w0, cpu_a, probes_a = 0, f;
	uint64_t ma = 0, hits_a = 0;

	if (!st->a_started || st->secs_0 <= 0 || a_end_secs(st) <= st->secs_a0) {
		if (say)
			p_info("in situ: no look at the CPU time with every function on before -d: the calibrated model");
		return false;
	}
	secs_a = a_end_secs(st) - st->secs_a0;
	for (size_t fid = 0; fid < n; fid++) {
		uint64_t a = calls_in_a(st, fid);

		hits_a += a;
		probes_a += a * entry_ns(s, fid);
		if (st->meter[fid])
			ma += a;
	}
	w0 = work_0(st);
	if (st->meter_0 < COST_PROXY_MIN_CALLS || ma < COST_PROXY_MIN_CALLS ||
	    !hits_a || !(w0 > 0)) {
		if (say)
			p_info("in situ: the meter was called %" PRIu64 " times in %.2f s alone, %" PRIu64 " in %.2f s with all on (%d needed), own work %.3f CPU-s/s alone: the calibrated model",
		       st->meter_0, st->secs_0, ma, secs_a,
		       COST_PROXY_MIN_CALLS, w0);
		return false;
	}
	/* no floor: both factors measured, > 0 (alloc under 'runtime.*':
	 * 0.0004 CPU-s/s, a floor of 0.001 priced it 2.6x too low) */
	m->work = w0 * (ma / secs_a) / (st->meter_0 / st->secs_0);
	cpu_a = (a_end_cpu(st) - st->cpu_a0) / secs_a;
	probes_a /= 1e9 * secs_a;
	f = (cpu_a - m->work) / probes_a;
	if (!(f >= 0.5 && f <= 50)) {
		if (say)
			p_info("in situ: own work %.4f CPU-s/s with all on makes count's probes %.2fx the calibration (%.3f of %.3f CPU-s/s): the meter did not follow the work; the calibrated model",
		       m->work, f, probes_a, cpu_a);
		return false;
	}
	m->factor = f;
	m->extra_ns = (cpu_a - m->work - probes_a) * 1e9 / (hits_a / secs_a);
	m->secs = secs_a;
	m->in_situ = true;
	m->over = (cpu_a - m->work) / m->work;
	m->work_base = w0;
	m->over_base = (st->cpu_0 / st->secs_0 - w0) / w0;
	if (say)
		p_info("in situ: meters only %.2f s at %.3f CPU-s/s (own %.3f; meters %.0f calls/s), then all on %.2f s at %.3f (meters %.0f calls/s): own work %.3f CPU-s/s, count's probes %.2fx the calibration, %.0f ns a hit over it",
		       st->secs_0, st->cpu_0 / st->secs_0, w0,
		       st->meter_0 / st->secs_0, secs_a, cpu_a, ma / secs_a,
		       m->work, f, m->extra_ns);
	return true;
}

/*
 * Phase L (meters first, after A): the program run at latency's price per
 * call. Its own work there is its work in phase 0 times the ratio of the
 * meters' call rates, as for A; its calls there price latency and trace.
 * False (A's calls price them) without a look in L, with the meters too
 * rarely called, or where the probes' CPU is not what the delay was to
 * make it (the busy wait not paid as set).
 */
static bool model_latency(struct session *s, const struct cost_model *a,
			  struct cost_model *l)
{
	struct cost_state *st = s->ctx;
	size_t n = funcprobe__cnt(s->fp);
	double secs_l, cpu_l, probes_l = 0, f;
	uint64_t ml = 0, hits_l = 0, ma = 0, hits_a = 0;

	if (!st->l_started || overhead__window_s(st->ovh) <= st->secs_l0) {
		p_info("in situ: no look at latency's price before the end: latency and trace priced by the calls at count's");
		return false;
	}
	secs_l = overhead__window_s(st->ovh) - st->secs_l0;
	for (size_t fid = 0; fid < n; fid++) {
		uint64_t x = overhead__calls(st->ovh, fid) - st->calls_l0[fid];

		hits_l += x;
		hits_a += calls_in_a(st, fid);
		probes_l += x * (entry_ns(s, fid) + a->extra_ns + st->delay_ns);
		if (st->meter[fid]) {
			ml += x;
			ma += calls_in_a(st, fid);
		}
	}
	if (ml < COST_PROXY_MIN_CALLS || !hits_l) {
		p_info("in situ: the meter was called %" PRIu64 " times in %.2f s at latency's price (%d needed): latency and trace priced by the calls at count's",
		       ml, secs_l, COST_PROXY_MIN_CALLS);
		return false;
	}
	*l = *a;
	l->secs = secs_l;
	l->work = work_0(st) * (ml / secs_l) / (st->meter_0 / st->secs_0);
	cpu_l = (overhead__cpu_s(st->ovh) - st->cpu_l0) / secs_l;
	probes_l /= 1e9 * secs_l;
	f = (cpu_l - l->work) / probes_l;
	if (!(f >= 0.5 && f <= 50)) {
		p_info("in situ: at latency's price the probes took %.3f of %.3f CPU-s/s, %.2fx what the delay was to make them: latency and trace priced by the calls at count's",
		       cpu_l - l->work, cpu_l, f);
		return false;
	}
	p_info("in situ: at latency's price (each hit %.0f ns dearer) %.2f s at %.3f CPU-s/s (meters %.0f calls/s; calls %.0f/s): own work %.4f CPU-s/s, %.1f calls per meter call against %.1f at count's, the probes %.2fx their price",
	       st->delay_ns, secs_l, cpu_l, ml / secs_l, hits_l / secs_l,
	       l->work, (double)hits_l / ml, ma ? (double)hits_a / ma : 0, f);
	return true;
}

/* The calibrated model over the whole window: the program's own work is
 * its CPU minus calls x calibrated cost (good while the probes are a
 * small part of its CPU). */
static void model_calibrated(struct session *s, struct cost_model *m)
{
	struct cost_state *st = s->ctx;
	/* meters first: phase A's, every function on */
	bool a = st->a_started && a_end_secs(st) > st->secs_a0;
	double probes = 0, cpu;

	m->secs = (a ? a_end_secs(st) - st->secs_a0 : overhead__window_s(st->ovh));
	cpu = (a ? a_end_cpu(st) - st->cpu_a0 : overhead__cpu_s(st->ovh)) / m->secs;
	for (size_t fid = 0; fid < funcprobe__cnt(s->fp); fid++)
		probes += (a ? calls_in_a(st, fid) :
			       overhead__calls(st->ovh, fid)) *
			  entry_ns(s, fid) / 1e9 / m->secs;
	m->work = cpu - probes;
	if (m->work < OVH_MIN_CPU)
		m->work = OVH_MIN_CPU;
	m->factor = 1;
	m->extra_ns = 0;
	m->in_situ = false;
	m->over = 0;
	m->work_base = 0;
	p_info("measured %.2f s: the target used %.3f CPU-s/s, count's probes an estimated %.3f of it",
	       m->secs, cpu, probes);
}

/*
 * Whether phase L prices latency at least as high as phase A's calls do.
 * A slower program calls no fewer functions per unit of its work (its
 * time-driven work does not shrink with its speed); a phase L that saw
 * fewer caught a swing (a GC cycle in one phase and not the other, the
 * machine's load: esbuild, 56 calls per meter call in L against 63 in A
 * once, where latency for real ran at 3x L's CPU a request), and A's
 * price is then the nearer one.
 */
static bool lat_not_below_a(struct session *s, const struct cost_model *a,
			    const struct cost_model *l)
{
	struct cost_state *st = s->ctx;
	const struct uprobe_cost *c = overhead__cost(st->ovh);
	double by_a = 0, by_l = 0;

	for (size_t fid = 0; fid < funcprobe__cnt(s->fp); fid++) {
		double p = call_price_ns(c, funcprobe__func(s->fp, fid),
					 COST_LATENCY, a->extra_ns);

		by_a += calls_in_a(st, fid) / a->secs * p / 1e9 / a->work;
		by_l += (overhead__calls(st->ovh, fid) - st->calls_l0[fid]) /
			l->secs * p / 1e9 / l->work;
	}
	if (by_l >= by_a)
		return true;
	p_info("in situ: at latency's price latency comes to %.1f, under the %.1f count's calls give it: priced by those",
	       by_l, by_a);
	return false;
}

/* Hits at count's price again: the detach (seconds with thousands of
 * functions, the probes trapping while their links close) is not paid at
 * latency's. */
static void end_latency_phase(struct session *s)
{
	struct cost_state *st = s->ctx;

	if (!st->l_started || !st->skel->bss || !st->skel->bss->hit_delay_ns)
		return;
	st->skel->bss->hit_delay_ns = 0;
	p_info("cost: every hit at count's price again %.2f s after the start, before the detach",
	       (mono_ns() - s->start_ns) / 1e9);
}

static int finish(struct session *s)
{
	struct cost_state *st = s->ctx;
	const struct uprobe_cost *c = overhead__cost(st->ovh);
	double total[COST_NCMDS] = { 0 };
	size_t n = funcprobe__cnt(s->fp), k = 0;
	struct cost_model m, l;
	struct cost_row *rows;
	uint64_t calls_all = 0;
	bool lat;

	if (overhead__window_s(st->ovh) <= 0) {
		/* -p PID gone before a second CPU-time reading: nothing to
		 * divide by (a -- CMD is priced up to its exit by wait4's
		 * CPU time, a PATH target by the machine's) */
		p_err("cost: %s ended within %g s of the attach, before its CPU time was read again: nothing to price; give -p a process that runs through -d",
		      s->t->display, OVH_UPDATE_NS / 1e9);
		return -ESRCH;
	}
	for (size_t fid = 0; fid < n; fid++)
		calls_all += overhead__calls(st->ovh, fid);
	if (!calls_all && s->target_gone) {
		p_err("cost: %s ended before any of the %zu functions was called: nothing to price",
		      s->t->display, n);
		return -ESRCH;
	}
	if (st->meters_first && !st->a_started) {
		/* only the meter was ever on: nothing to price the rest by */
		p_err("cost: %s %s %.2f s in, before a look with every function on (after a third of -d: with %zu functions the program's own speed is measured first); give a longer run, or a -d under %g s",
		      s->t->display,
		      s->target_gone ? "ended" : "was measured up to",
		      overhead__window_s(st->ovh), n, COST_METERS_MIN_SECS);
		return -ESRCH;
	}
	if (!(st->meters_first ? model_meters(s, &m, true) : model_in_situ(s, &m)))
		model_calibrated(s, &m);
	/* latency and trace by phase L's calls where it ran, else A's */
	lat = st->meters_first && m.in_situ && model_latency(s, &m, &l) &&
	      lat_not_below_a(s, &m, &l);
	if (!lat)
		l = m;
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t fid = 0; fid < n; fid++) {
		const struct fp_func *ff = funcprobe__func(s->fp, fid);
		uint64_t calls, calls_l;

		if (st->meters_first && st->a_started)
			calls = calls_in_a(st, fid);
		else if (m.in_situ)
			calls = st->calls_a[fid];
		else
			calls = overhead__calls(st->ovh, fid);
		calls_l = lat ? overhead__calls(st->ovh, fid) - st->calls_l0[fid] :
				calls;
		if (!calls && !calls_l)
			continue;
		rows[k].name = ff->name;
		rows[k].calls_per_s = calls / m.secs;
		for (int cmd = 0; cmd < COST_NCMDS; cmd++) {
			const struct cost_model *x = cmd == COST_COUNT ? &m : &l;

			rows[k].pred[cmd] = (cmd == COST_COUNT ? calls : calls_l) /
					    x->secs *
					    call_price_ns(c, ff, cmd, m.extra_ns) /
					    1e9 / x->work;
			total[cmd] += rows[k].pred[cmd];
		}
		k++;
	}
	qsort(rows, k, sizeof(*rows), cmp_rows);
	if (json_output)
		print_json(rows, k, total, &m, lat ? &l : NULL, st->delay_ns);
	else
		print_text(rows, k, total, &m);
	record_out__flush();
	free(rows);
	return 0;
}

static void destroy(struct session *s)
{
	struct cost_state *st = s->ctx;

	overhead__free(st->ovh);
	st->ovh = NULL;
	free(st->calls_a);
	free(st->proxy);
	free(st->calls_b0);
	free(st->calls_a0);
	free(st->calls_l0);
	free(st->meter);
	st->calls_l0 = NULL;
	st->calls_a0 = NULL;
	st->meter = NULL;
	st->calls_b0 = NULL;
	st->calls_a = NULL;
	st->proxy = NULL;
	cost_count_bpf__destroy(st->skel);
	st->skel = NULL;
}

/* After the split: whether the proxies' call rate over the last look
 * grew less than COST_SETTLED_GROWTH over the look before. */
static bool settled(struct session *s)
{
	struct cost_state *st = s->ctx;
	double secs = overhead__window_s(st->ovh), rate, prev;
	uint64_t pcalls = 0;

	if (secs <= st->last_secs)
		return false;	/* no new look yet */
	for (size_t fid = 0; fid < funcprobe__cnt(s->fp); fid++)
		if (st->proxy[fid])
			pcalls += overhead__calls(st->ovh, fid);
	rate = st->last_secs > 0 ?
	       (pcalls - st->last_pcalls) / (secs - st->last_secs) : 0;
	prev = st->last_rate;
	st->last_secs = secs;
	st->last_pcalls = pcalls;
	st->last_rate = rate;
	return secs >= st->secs_a + COST_SETTLE_S && prev > 0 &&
	       rate < prev * COST_SETTLED_GROWTH &&
	       rate >= COST_SETTLED_RISE * st->proxy_rate_a;
}

/*
 * Meters first, once phase A has had COST_A_SHARE of what -d left after
 * phase 0: phase L. Latency's probes cost a call ~10x what count's do (a
 * single-stepped RET), and a program that slow does more per unit of its
 * work: the runtime's time-driven work (sysmon, preemption after 10 ms,
 * the GC's workers marking while assists stall the mutator) runs per
 * second, not per request. esbuild serving HTTP: calls/s = ~50 a
 * runtime.mallocgc call + ~15,000 (latency '*', 20-30% of its calls) or
 * ~30,000 (count '*', ~5%); its CPU a request under latency grows as its
 * requests fall. Latency's own RET sites would show it, but closing
 * 27,084 sites takes ~29 s; instead each hit of count's program is made
 * dearer (cost_count.bpf.c, no re-attach) by the mean of latency's price
 * of a call less count's (weighed by A's calls): the program runs at
 * latency's speed, and what it calls then prices latency and trace.
 */
static void start_latency_phase(struct session *s)
{
	struct cost_state *st = s->ctx;
	const struct uprobe_cost *c = overhead__cost(st->ovh);
	size_t n = funcprobe__cnt(s->fp);
	struct cost_model m;
	double dearer = 0, calls = 0;

	st->lat_tried = true;
	if (!st->skel->bss || !model_meters(s, &m, false))
		return;
	for (size_t fid = 0; fid < n; fid++) {
		const struct fp_func *ff = funcprobe__func(s->fp, fid);
		uint64_t a = calls_in_a(st, fid);

		dearer += a * (call_price_ns(c, ff, COST_LATENCY, m.extra_ns) -
			       call_price_ns(c, ff, COST_COUNT, m.extra_ns));
		calls += a;
	}
	if (!(calls > 0) || !(dearer > 0))
		return;
	st->calls_l0 = calloc(n ? n : 1, sizeof(*st->calls_l0));
	if (!st->calls_l0)
		return;
	for (size_t fid = 0; fid < n; fid++)
		st->calls_l0[fid] = overhead__calls(st->ovh, fid);
	st->secs_l0 = overhead__window_s(st->ovh);
	st->cpu_l0 = overhead__cpu_s(st->ovh);
	st->delay_ns = dearer / calls;
	st->skel->bss->hit_delay_ns = (__u64)st->delay_ns;
	st->l_started = true;
	p_info("cost: at latency's price from %.2f s: every hit %.0f ns dearer",
	       st->secs_l0, st->delay_ns);
}

/* Meters first, at COST_SPLIT_AT of -d: phase 0 ends, every function on
 * (new links only: nothing to close but the meters' old ones). */
static void switch_all_on(struct session *s)
{
	struct cost_state *st = s->ctx;
	uint64_t t0 = mono_ns();
	int err = 0;

	st->split_tried = true;
	st->secs_0 = overhead__window_s(st->ovh);
	st->cpu_0 = overhead__cpu_s(st->ovh);
	for (size_t fid = 0; fid < funcprobe__cnt(s->fp) && !err; fid++) {
		if (st->meter[fid]) {
			st->meter_0 += overhead__calls(st->ovh, fid);
			st->probes_0_ns += overhead__calls(st->ovh, fid) *
					   entry_ns(s, fid);
		}
		err = funcprobe__set_off(s->fp, fid, false);
	}
	if (!err)
		err = funcprobe__reattach(s->fp);
	st->switched = !err;
	p_info("cost: every function on after %.2f s in %.1f ms",
	       st->secs_0, (mono_ns() - t0) / 1e6);
}

static void tick(struct session *s, uint64_t now_ns)
{
	struct cost_state *st = s->ctx;

	overhead__update(st->ovh, now_ns);
	if (st->meters_first) {
		if (!st->split_tried &&
		    overhead__window_s(st->ovh) >= s->duration * COST_SPLIT_AT)
			switch_all_on(s);
		/* phase A from the first look after the attach */
		else if (st->switched && !st->a_started &&
			 overhead__window_s(st->ovh) > st->secs_0) {
			for (size_t fid = 0; fid < funcprobe__cnt(s->fp); fid++)
				st->calls_a0[fid] = overhead__calls(st->ovh, fid);
			st->secs_a0 = overhead__window_s(st->ovh);
			st->cpu_a0 = overhead__cpu_s(st->ovh);
			st->a_started = true;
		} else if (st->a_started && !st->lat_tried &&
			   overhead__window_s(st->ovh) >= st->secs_a0 +
			   (s->duration - st->secs_a0) * COST_A_SHARE)
			start_latency_phase(s);
		return;
	}
	/* a PATH target's "CPU" is the machine's: nothing to split */
	if (!st->split_tried && session__target_pid(s) > 0 &&
	    overhead__window_s(st->ovh) >= s->duration * COST_SPLIT_AT)
		split_window(s);
	if (st->split && !st->b_started && settled(s)) {
		for (size_t fid = 0; fid < funcprobe__cnt(s->fp); fid++)
			st->calls_b0[fid] = overhead__calls(st->ovh, fid);
		st->secs_b0 = overhead__window_s(st->ovh);
		st->cpu_b0 = overhead__cpu_s(st->ovh);
		st->b_started = true;
	}
}

/*
 * The loop ended (-d, Ctrl-C, the target gone): the last look at the
 * calls and the CPU, and every hit back at count's price, before the
 * session detaches - closing the links takes seconds with thousands of
 * functions, the probes trapping while they close: not the window
 * measured, and not to be paid at latency's price. A -- CMD that ended is
 * looked at up to its exit with its whole CPU time (wait4's: /proc/PID
 * is gone), so that what ran after the last tick is priced too, and a
 * command shorter than a tick at all.
 */
static void stopping(struct session *s)
{
	struct cost_state *st = s->ctx;
	uint64_t cpu_ns;

	end_latency_phase(s);
	if (session__ended_cmd_cpu_ns(s, &cpu_ns))
		overhead__last_update(st->ovh, s->target_exit_ns, cpu_ns);
	else
		overhead__last_update(st->ovh, s->end_ns, OVH_CPU_READ);
}

static const struct session_ops cost_ops = {
	.verb = "cost",
	.configure = configure,
	.load = load,
	.started = started,
	.released = released,
	.tick = tick,
	.stopping = stopping,
	.finish = finish,
	.destroy = destroy,
};

int do_cost(int argc, char **argv)
{
	struct cost_state st = { .duration = COST_DEFAULT_SECS };
	struct session s = { .ops = &cost_ops, .ctx = &st };
	const struct opts_spec spec = {
		.verb = "cost", .usage = usage,
		.target = &st.t, .pid = &st.pid, .duration = &st.duration,
	};
	int err;

	record_out__init();
	err = opts__parse_patterns(&spec, argc, argv,
				   "no PATTERN: name the functions, e.g. 'cost PATH \"main.*\"'",
				   &st.path_arg, &s.pats, &s.pat_cnt);
	if (err)
		return err > 0 ? EXIT_OK : err;
	s.t = &st.t;
	s.path_arg = st.path_arg;
	s.pid = st.pid;
	s.duration = st.duration;
	s.stamp_child_exit = true;	/* the window ends when CMD did */
	s.gobin_flags = GOBIN_OPEN_NO_DWARF;
	/* RET sites planned (latency's and trace's cost), entries attached */
	s.fo.returns = true;
	s.fp_sites = FP_SITES_ENTRY;
	return session__run(&s);
}
