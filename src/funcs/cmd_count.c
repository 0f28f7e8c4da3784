// SPDX-License-Identifier: MIT
/*
 * gosnoop count: calls per function, counted in the kernel (per-CPU
 * counters hit at each function's entry site, nothing else), like bcc's
 * funccount. Output: the functions that were called, most calls first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "common.h"
#include "funcs_count.h"
#include "funcs_session.h"
#include "json_writer.h"
#include "overhead.h"
#include "probe/funcprobe.h"
#include "record_out.h"
#include "bpf/funcs_count.skel.h"

struct count_state {
	uint64_t *prev;		/* totals at the last print (-i) */
	uint64_t *vals;		/* one per possible CPU */
	int ncpu;
	bool printed;
};

struct count_row {
	const char *name;
	uint64_t n;
	double coverage;	/* < 0: counted all along, else the share of
				   the time it was probed (throttled) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s count [OPTIONS] TARGET PATTERN...\n"
		"TARGET: PATH (every process running it) | -p PID | -- CMD ARGS\n"
		"        (with -p or --, every argument before '--' is a PATTERN)\n"
		"Calls per Go function, counted in the kernel.\n\n"
		"  -j, --json           {\"type\":\"count\",\"func\":...,\"count\":N} lines\n"
		"  -d, --duration SECS  stop after SECS seconds\n"
		"  -i, --interval SECS  print (and start over) every SECS seconds;\n"
		"                       JSON: {\"type\":\"interval\",\"ts_ns\":N} first\n"
		"      --top N          only the N most called functions\n"
		"  -p, --pid PID        count in this process only\n"
		"      --classic-uprobes  one classic uprobe per function instead\n"
		"                       of one uprobe_multi link (slow to detach)\n"
		"      --max-overhead PCT  keep the probes' estimated cost under PCT%%\n"
		"                       of the program's CPU time: the functions\n"
		"                       worth least for their cost are sampled\n"
		"                       or go off (JSON \"throttled\"), their\n"
		"                       counts then cover part of the time\n"
		"                       (\"sampled\"); default: warn above 5%%\n"
		"      --keep PATTERN   never throttle the functions PATTERN\n"
		"                       matches (repeatable): their cost still\n"
		"                       counts, the others make room\n"
		"  -v, --verbose        probe sites, attach and detach times\n"
		"PATTERN: shell glob over Go names ('main.*', 'net/http.*').\n"
		"Ends on Ctrl-C, after -d, or when the traced process exits;\n"
		"with -- CMD, exits with CMD's status. Functions never called\n"
		"are not printed.\n",
		prog_name);
}

static int configure(struct funcs_session *s)
{
	struct count_state *st = s->ops->priv;
	size_t n = funcprobe__cnt(s->fp);
	struct funcs_count_bpf *skel;
	int err;

	err = funcs_count__open(n, &skel);
	if (err)
		return err;
	s->skel = skel;
	s->obj = skel->obj;
	s->prog = skel->progs.fp_count;
	st->ncpu = libbpf_num_possible_cpus();
	if (st->ncpu <= 0) {
		p_err("cannot tell the number of CPUs");
		return st->ncpu ? st->ncpu : -EINVAL;
	}
	st->prev = calloc(n, sizeof(*st->prev));
	st->vals = calloc(st->ncpu, sizeof(*st->vals));
	if (!st->prev || !st->vals)
		return -ENOMEM;
	return 0;
}

static int load(struct funcs_session *s)
{
	return funcs_count__load(s->skel);
}

static void destroy(struct funcs_session *s)
{
	struct count_state *st = s->ops->priv;

	funcs_count_bpf__destroy(s->skel);
	s->skel = NULL;
	free(st->prev);
	free(st->vals);
	st->prev = NULL;
	st->vals = NULL;
}

/* count's calls per function: its per-CPU counters */
static void calls(struct funcs_session *s, struct overhead_calls *out)
{
	struct funcs_count_bpf *skel = s->skel;

	*out = (struct overhead_calls){
		.map_fd = bpf_map__fd(skel->maps.counts),
		.value_size = sizeof(__u64), .count_off = 0,
		.extra_off = SIZE_MAX, .halves = 1 };
}

static int cmp_rows(const void *a, const void *b)
{
	const struct count_row *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The calls of each function since the last print, most first; *total:
 * their sum. The number of rows, or -ENOMEM. */
static ssize_t collect(struct funcs_session *s, uint64_t now_ns,
		       struct count_row **out, uint64_t *total)
{
	struct count_state *st = s->ops->priv;
	size_t n = funcprobe__cnt(s->fp), rows_cnt = 0;
	int fd = bpf_map__fd(((struct funcs_count_bpf *)s->skel)->maps.counts);
	struct count_row *rows;

	*total = 0;
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (__u32 fid = 0; fid < n; fid++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(fd, &fid, st->vals))
			continue;
		for (int c = 0; c < st->ncpu; c++)
			sum += st->vals[c];
		if (sum > st->prev[fid]) {
			rows[rows_cnt].name = funcprobe__func(s->fp, fid)->name;
			rows[rows_cnt].n = sum - st->prev[fid];
			if (!overhead__sampled_in_window(s->ovh, fid, now_ns,
							 &rows[rows_cnt].coverage))
				rows[rows_cnt].coverage = -1;
			*total += rows[rows_cnt].n;
			rows_cnt++;
		}
		st->prev[fid] = sum;
	}
	qsort(rows, rows_cnt, sizeof(*rows), cmp_rows);
	*out = rows;
	return (ssize_t)rows_cnt;
}

static void print_json(struct funcs_session *s, const struct count_row *rows,
		       size_t shown)
{
	struct jw *jw = jw_new(stdout);

	if (jw && s->cli->interval > 0)
		funcs_session__interval_marker(jw);
	for (size_t i = 0; jw && i < shown; i++) {
		jw_start_object(jw);
		jw_name(jw, "type"); jw_string(jw, "count");
		jw_name(jw, "func"); jw_string(jw, rows[i].name);
		jw_name(jw, "count"); jw_uint(jw, rows[i].n);
		if (rows[i].coverage >= 0) {
			/* throttled: counted only while probed */
			jw_name(jw, "sampled"); jw_bool(jw, true);
			jw_name(jw, "coverage");
			jw_float(jw, rows[i].coverage, 32);
		}
		jw_end_object(jw);
		jw_end_line(jw);
	}
	jw_free(jw);
}

static void print_text(struct funcs_session *s, const struct count_row *rows,
		       size_t shown, size_t rows_cnt, uint64_t total)
{
	struct count_state *st = s->ops->priv;

	funcs_session__interval_header(s, !st->printed);
	printf("%-60s %12s\n", "FUNC", "COUNT");
	for (size_t i = 0; i < shown; i++) {
		size_t len = strlen(rows[i].name);

		/* keep the end of long names: it says the most */
		if (len > 60)
			printf("...%-57s %12llu", rows[i].name + len - 57,
			       (unsigned long long)rows[i].n);
		else
			printf("%-60s %12llu", rows[i].name,
			       (unsigned long long)rows[i].n);
		if (rows[i].coverage >= 0)
			printf(" sampled %.0f%%", rows[i].coverage * 100);
		putchar('\n');
	}
	if (shown < rows_cnt)
		printf("(%zu more functions called; --top shows %zu)\n",
		       rows_cnt - shown, shown);
	if (!rows_cnt)
		printf("(no calls)\n");
	else
		printf("%-60s %12llu\n", "TOTAL", (unsigned long long)total);
}

static void print(struct funcs_session *s, bool final)
{
	struct count_state *st = s->ops->priv;
	struct count_row *rows;
	uint64_t total, now_ns = mono_ns();
	ssize_t cnt = collect(s, now_ns, &rows, &total);
	size_t shown;

	overhead__mark(s->ovh, now_ns);	/* -i: the next interval's window */
	if (cnt < 0)
		return;
	shown = s->cli->top && s->cli->top < cnt ? (size_t)s->cli->top
						 : (size_t)cnt;
	if (json_output)
		print_json(s, rows, shown);
	else
		print_text(s, rows, shown, (size_t)cnt, total);
	st->printed = true;
	record_out__flush();
	free(rows);
}

int do_count(int argc, char **argv)
{
	static struct count_state st;
	static const struct funcs_ops ops = {
		.verb = "count",
		.returns = false,
		.configure = configure,
		.load = load,
		.destroy = destroy,
		.print = print,
		.calls = calls,
		.priv = &st,
	};

	return funcs_session__main(argc, argv, &ops, usage);
}
