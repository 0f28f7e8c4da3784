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
 */
#include <errno.h>
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
#include "gobin/gobin.h"
#include "probe/funcprobe.h"
#include "bpf/funcs_count.skel.h"

#define COST_DEFAULT_SECS 3.0

enum { COST_COUNT, COST_LATENCY, COST_TRACE, COST_NCMDS };

static const char *const cost_cmd[COST_NCMDS] = {
	"count", "latency", "trace" };
static const unsigned cost_sites[COST_NCMDS] = {
	FP_SITES_ENTRY, FP_SITES_ENTRY | FP_SITES_RET,
	FP_SITES_ENTRY | FP_SITES_RET };

struct cost_state {
	struct target t;
	pid_t pid;
	const char *path_arg;
	double duration;
	struct funcs_count_bpf *skel;
	struct overhead *ovh;
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
		"per boot): the added CPU time over the program's own.\n\n"
		"  -j, --json           {\"type\":\"cost\",\"func\":...,\"calls_per_s\":N,\n"
		"                       \"count\":F,\"latency\":F,\"trace\":F} lines\n"
		"                       (fractions: 0.05 is 5%%), then a \"cost_total\"\n"
		"  -d, --duration SECS  measure this long (default %g)\n"
		"  -p, --pid PID        this process only (its CPU time)\n"
		"  -v, --verbose        the per-hit costs used\n"
		"Without -p or -- CMD, overhead is counted against the machine's\n"
		"CPUs. Functions never called are not printed.\n",
		prog_name, COST_DEFAULT_SECS);
}

static int configure(struct session *s)
{
	struct cost_state *st = s->ctx;
	struct funcs_count_bpf *skel;
	int err;

	skel = funcs_count_bpf__open();
	if (!skel) {
		err = -errno;
		p_err("cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	st->skel = skel;
	s->obj = skel->obj;
	s->prog = skel->progs.fp_count;
	err = bpf_map__set_max_entries(skel->maps.counts,
				       (__u32)funcprobe__cnt(s->fp));
	if (err)
		p_err("cannot size the BPF maps: %s", strerror(-err));
	return err;
}

static int load(struct session *s)
{
	struct cost_state *st = s->ctx;
	int err = funcs_count_bpf__load(st->skel);

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

static int cmp_rows(const void *a, const void *b)
{
	const struct cost_row *x = a, *y = b;

	if (x->pred[COST_LATENCY] != y->pred[COST_LATENCY])
		return x->pred[COST_LATENCY] < y->pred[COST_LATENCY] ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void print_json(const struct cost_row *rows, size_t n,
		       const double *total, double secs, double work)
{
	struct jw *jw = jw_new(stdout);

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
			jw_name(jw, "seconds"); jw_float(jw, secs, 32);
			jw_name(jw, "own_cpu"); jw_float(jw, work, 32);
		}
		for (int c = 0; c < COST_NCMDS; c++) {
			jw_name(jw, cost_cmd[c]);
			jw_float(jw, (double)(uint64_t)(p[c] * 1e4 + 0.5) / 1e4,
				 64);
		}
		jw_end_object(jw);
		jw_end_line(jw);
	}
	jw_free(jw);
}

static void print_text(const struct cost_row *rows, size_t n,
		       const double *total)
{
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
	if (!n)
		printf("(no calls)\n");
}

static int finish(struct session *s)
{
	struct cost_state *st = s->ctx;
	const struct uprobe_cost *c = overhead__cost(st->ovh);
	double secs, probes = 0, work, total[COST_NCMDS] = { 0 };
	size_t n = funcprobe__cnt(s->fp), k = 0;
	struct cost_row *rows;

	/* the last look at the calls and the CPU, however the loop ended */
	overhead__update(st->ovh, mono_ns());
	secs = overhead__window_s(st->ovh);
	if (secs <= 0) {
		/* no CPU-time reading after the first: nothing to divide by */
		p_err("cost: the target ended within %g s, before its CPU time was read again; give a command that runs longer, or -p PID of a running process",
		      OVH_UPDATE_NS / 1e9);
		return -ESRCH;
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t fid = 0; fid < n; fid++)
		probes += overhead__calls(st->ovh, fid) *
			  overhead__call_ns(c, funcprobe__func(s->fp, fid),
					    FP_SITES_ENTRY) / 1e9 / secs;
	/* the program's own CPU-s/s: its CPU minus count's probes */
	work = overhead__cpu_s(st->ovh) / secs - probes;
	if (work < OVH_MIN_CPU)
		work = OVH_MIN_CPU;
	for (size_t fid = 0; fid < n; fid++) {
		const struct fp_func *ff = funcprobe__func(s->fp, fid);
		uint64_t calls = overhead__calls(st->ovh, fid);

		if (!calls)
			continue;
		rows[k].name = ff->name;
		rows[k].calls_per_s = calls / secs;
		for (int m = 0; m < COST_NCMDS; m++) {
			rows[k].pred[m] = rows[k].calls_per_s *
					  overhead__call_ns(c, ff, cost_sites[m]) /
					  1e9 / work;
			total[m] += rows[k].pred[m];
		}
		k++;
	}
	qsort(rows, k, sizeof(*rows), cmp_rows);
	p_info("measured %.2f s: the target used %.3f CPU-s/s, count's probes an estimated %.3f of it",
	       secs, overhead__cpu_s(st->ovh) / secs, probes);
	if (json_output)
		print_json(rows, k, total, secs, work);
	else
		print_text(rows, k, total);
	fflush(stdout);
	free(rows);
	return 0;
}

static void destroy(struct session *s)
{
	struct cost_state *st = s->ctx;

	overhead__free(st->ovh);
	st->ovh = NULL;
	funcs_count_bpf__destroy(st->skel);
	st->skel = NULL;
}

static void tick(struct session *s, uint64_t now_ns)
{
	struct cost_state *st = s->ctx;

	overhead__update(st->ovh, now_ns);
}

static const struct session_ops cost_ops = {
	.verb = "cost",
	.configure = configure,
	.load = load,
	.started = started,
	.released = released,
	.tick = tick,
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
	s.gobin_flags = GOBIN_OPEN_NO_DWARF;
	/* RET sites planned (latency's and trace's cost), entries attached */
	s.fo.returns = true;
	s.fp_sites = FP_SITES_ENTRY;
	return session__run(&s);
}
