// SPDX-License-Identifier: MIT
/*
 * gosnoop latency: a log2 histogram of call durations per function, built
 * in the kernel (src/bpf/funcs.bpf.c fp_latency: entry site and every RET
 * site, paired per goroutine), printed like bcc's funclatency with count,
 * average, the exact min and max, and p50/p90/p99 estimated from the
 * buckets within [min, max].
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "common.h"
#include "funcs_latency.h"
#include "funcs_session.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "overhead.h"
#include "probe/funcprobe.h"
#include "record_out.h"
#include <linux/types.h>
#include "bpf/funcs.h"
#include "bpf/funcs.skel.h"

#define BAR_WIDTH 36

struct lat_state {
	struct fp_hist *prev;	/* totals of each half of `hists` at its
				   last read (-i only) */
	struct fp_hist *vals;	/* one per possible CPU */
	int ncpu;
	bool printed;
};

struct lat_row {
	const char *name;
	uint32_t pid;		/* --per-goid: goids are per process */
	uint64_t goid;
	struct fp_hist h;
	bool have_mm;		/* h.min_ns/max_ns are this row's */
	bool sampled;		/* throttled (--max-overhead): timed only */
	double coverage;	/* ... this share of the time */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s latency [OPTIONS] TARGET PATTERN...\n"
		"TARGET: PATH (every process running it) | -p PID | -- CMD ARGS\n"
		"        (with -p or --, every argument before '--' is a PATTERN)\n"
		"Call durations per Go function: a log2 histogram built in the\n"
		"kernel, returns seen at every RET (never uretprobes).\n\n"
		"  -j, --json           {\"type\":\"latency\",\"func\":...,\"count\":N,\n"
		"                       \"untimed\":N,\"sum_ns\":N,\"min_ns\":N,\n"
		"                       \"max_ns\":N,\"buckets\":[{\"le_ns\":N,\"count\":N}]}\n"
		"  -d, --duration SECS  stop after SECS seconds\n"
		"  -i, --interval SECS  print (and start over) every SECS seconds;\n"
		"                       JSON: {\"type\":\"interval\",\"ts_ns\":N} first\n"
		"      --per-goid       one histogram per function and goroutine\n"
		"  -p, --pid PID        only this process\n"
		"      --classic-uprobes  one classic uprobe per site instead of\n"
		"                       one uprobe_multi link (slow to detach)\n"
		"      --max-overhead PCT  keep the probes' estimated cost under PCT%%\n"
		"                       of the program's CPU time (as count's)\n"
		"      --keep PATTERN   never throttle the functions PATTERN\n"
		"                       matches (repeatable)\n"
		"  -v, --verbose        probe sites, attach/detach times, pairing\n"
		"PATTERN: shell glob over Go names ('main.*', 'net/http.*').\n"
		"Buckets: [2^k, 2^(k+1)) ns; le_ns is the bucket's last value,\n"
		"2^(k+1)-1. min and max are exact; p50/p90/p99 are interpolated\n"
		"inside a bucket narrowed to [min, max] (the mean when all calls\n"
		"share one). Every call is timed at any recursion depth; calls\n"
		"that could not be (no room to keep the entry, or never returned:\n"
		"a panic) are counted: 'not timed N', JSON untimed.\n"
		"Durations include the probes'\n"
		"own cost (a single-stepped RET probe: 2-20 us per call).\n"
		"Ends on Ctrl-C, after -d, or when the traced process exits;\n"
		"with -- CMD, exits with CMD's status.\n",
		prog_name);
}

static bool use_r14;	/* which of the two objects s->skel is */

static int configure(struct funcs_session *s)
{
	const struct gobin_layout *l = gobin__layout(s->gb);
	struct lat_state *st = s->ops->priv;
	size_t n = funcprobe__cnt(s->fp);
	struct funcs_bpf *skel;
	int err;

	err = funcs_latency__open(s->gb, s->fp, s->cli->t.display, &skel,
				  &use_r14);
	if (err)
		return err;
	s->skel = skel;
	s->obj = skel->obj;
	s->prog = skel->progs.fp_latency;
	if (s->cli->per_goid) {
		if (l->g_goid < 0) {
			p_err("%s: runtime.g layout unknown (no DWARF and no table row for %s): --per-goid needs g.goid",
			      s->cli->t.display,
			      gobin__go_version(s->gb) ?: "this Go release");
			return -EPROTONOSUPPORT;
		}
		skel->rodata->off_goid = l->g_goid;
		skel->rodata->per_goid = true;
	}
	/* -i: two halves, one per epoch parity (funcs.bpf.c `epoch`) */
	if (s->cli->interval > 0 && !s->cli->per_goid) {
		skel->rodata->nfuncs = (__u32)n;
		err = bpf_map__set_max_entries(skel->maps.hists, 2 * (__u32)n);
	} else {
		err = bpf_map__set_max_entries(skel->maps.hists, (__u32)n);
	}
	if (!err && !s->cli->per_goid)
		err = bpf_map__set_max_entries(skel->maps.goid_hists, 1);
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		return err;
	}
	st->ncpu = libbpf_num_possible_cpus();
	if (st->ncpu <= 0) {
		p_err("cannot tell the number of CPUs");
		return st->ncpu ? st->ncpu : -EINVAL;
	}
	st->vals = calloc(st->ncpu, sizeof(*st->vals));
	if (s->cli->interval > 0)
		st->prev = calloc(2 * n, sizeof(*st->prev));
	if (!st->vals || (s->cli->interval > 0 && !st->prev))
		return -ENOMEM;
	return 0;
}

static uint64_t slot_lo(int i)
{
	return i == 0 ? 0 : 1ULL << i;
}

static uint64_t slot_hi(int i)	/* last value in the slot */
{
	return (1ULL << (i + 1)) - 1;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * The p-quantile, interpolated linearly inside its log2 bucket. No call
 * is faster than min or slower than max, so a bucket is first narrowed to
 * [min, max]: the slowest bucket is as wide as its lower bound, and
 * interpolating up to its end put p99 far above the slowest call.
 */
static double percentile(const struct lat_row *r, double p)
{
	const struct fp_hist *h = &r->h;
	double want = p * (double)h->count, seen = 0;
	double lo_all = 0, hi_all = (double)slot_hi(FP_HIST_SLOTS - 1) + 1;

	if (!h->count)
		return 0;
	if (r->have_mm) {
		lo_all = (double)h->min_ns;
		hi_all = (double)h->max_ns;
	}
	/* all in one bucket: nothing tells the calls apart but the mean */
	for (int i = 0; i < FP_HIST_SLOTS; i++)
		if (h->slots[i] == h->count)
			return clamp((double)h->sum_ns / (double)h->count,
				     lo_all, hi_all);
	for (int i = 0; i < FP_HIST_SLOTS; i++) {
		double c = (double)h->slots[i];

		if (c && seen + c >= want) {
			double frac = (want - seen) / c;
			double lo = clamp((double)slot_lo(i), lo_all, hi_all);
			double hi = clamp((double)slot_hi(i) + 1, lo_all, hi_all);

			return clamp(lo + frac * (hi - lo), lo_all, hi_all);
		}
		seen += c;
	}
	return hi_all;
}

static const char *dur(double ns, char *buf, size_t len)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.3g us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.3g ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3g s", ns / 1e9);
	return buf;
}

/* Calls seen but not in the histogram; said only when there are some. */
static void print_untimed(const struct lat_row *r)
{
	if (r->h.untimed)
		printf("not timed %" PRIu64 " (entered, then no room to keep the entry, or never returned: unwound by a panic)\n",
		       (uint64_t)r->h.untimed);
}

/* per_goid: the goroutine's heading, with its process when the rows
 * hold several (a PATH target: two "goroutine 18" looked the same). */
static void print_text(const struct lat_row *r, bool per_goid, bool pids)
{
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	uint64_t max = 0;
	int first = -1, last = -1, width;

	for (int i = 0; i < FP_HIST_SLOTS; i++) {
		if (!r->h.slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (r->h.slots[i] > max)
			max = r->h.slots[i];
	}
	if (per_goid && pids)
		printf("\n%s  PID %" PRIu32 " goroutine %" PRIu64 "\n", r->name,
		       r->pid, r->goid);
	else if (per_goid)
		printf("\n%s  goroutine %" PRIu64 "\n", r->name, r->goid);
	else
		printf("\n%s\n", r->name);
	if (first < 0) {
		print_untimed(r);
		return;
	}
	snprintf(b1, sizeof(b1), "%" PRIu64, slot_hi(last));
	width = (int)strlen(b1);
	if (width < 5)
		width = 5;
	printf("%*s%*s : %-8s %s\n", width + 4, "nsecs", width, "", "count",
	       "distribution");
	for (int i = first; i <= last; i++) {
		char bar[BAR_WIDTH + 1];
		int stars = max ? (int)((r->h.slots[i] * BAR_WIDTH + max - 1) /
					max) : 0;

		memset(bar, ' ', BAR_WIDTH);
		memset(bar, '*', stars > BAR_WIDTH ? BAR_WIDTH : stars);
		bar[BAR_WIDTH] = 0;
		printf("%*" PRIu64 " -> %-*" PRIu64 " : %-8" PRIu64 " |%s|\n",
		       width, slot_lo(i), width, slot_hi(i), (uint64_t)r->h.slots[i], bar);
	}
	printf("count %" PRIu64 ", avg %s, total %s\n", (uint64_t)r->h.count,
	       dur((double)r->h.sum_ns / (double)r->h.count, b1, sizeof(b1)),
	       dur((double)r->h.sum_ns, b2, sizeof(b2)));
	if (r->have_mm)
		printf("min %s, ", dur((double)r->h.min_ns, b1, sizeof(b1)));
	printf("p50 %s, p90 %s, p99 %s",
	       dur(percentile(r, 0.50), b3, sizeof(b3)),
	       dur(percentile(r, 0.90), b4, sizeof(b4)),
	       dur(percentile(r, 0.99), b5, sizeof(b5)));
	if (r->have_mm)
		printf(", max %s", dur((double)r->h.max_ns, b1, sizeof(b1)));
	printf("\n");
	if (r->sampled)
		printf("sampled: probed %.0f%% of the time (--max-overhead)\n",
		       r->coverage * 100);
	print_untimed(r);
}

static void print_json(struct jw *jw, const struct lat_row *r, bool per_goid)
{
	jw_start_object(jw);
	jw_name(jw, "type"); jw_string(jw, "latency");
	jw_name(jw, "func"); jw_string(jw, r->name);
	if (per_goid) {
		jw_name(jw, "pid"); jw_uint(jw, r->pid);
		jw_name(jw, "goid"); jw_uint(jw, r->goid);
	}
	jw_name(jw, "count"); jw_uint(jw, r->h.count);
	/* always there, so that 0 says "every call seen was timed" */
	jw_name(jw, "untimed"); jw_uint(jw, r->h.untimed);
	jw_name(jw, "sum_ns"); jw_uint(jw, r->h.sum_ns);
	if (r->sampled) {
		jw_name(jw, "sampled"); jw_bool(jw, true);
		jw_name(jw, "coverage"); jw_float(jw, r->coverage, 32);
	}
	if (r->have_mm) {
		jw_name(jw, "min_ns"); jw_uint(jw, r->h.min_ns);
		jw_name(jw, "max_ns"); jw_uint(jw, r->h.max_ns);
	}
	jw_name(jw, "buckets");
	jw_start_array(jw);
	for (int i = 0; i < FP_HIST_SLOTS; i++) {
		if (!r->h.slots[i])
			continue;
		jw_start_object(jw);
		jw_name(jw, "le_ns"); jw_uint(jw, slot_hi(i));
		jw_name(jw, "count"); jw_uint(jw, r->h.slots[i]);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_end_object(jw);
	jw_end_line(jw);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct lat_row *x = a, *y = b;
	int c;

	if (x->h.sum_ns != y->h.sum_ns)
		return x->h.sum_ns < y->h.sum_ns ? 1 : -1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

/* Add one CPU's aggregate; its min/max only if they are of epoch tag-1. */
static void hist_add(struct lat_row *to, const struct fp_hist *from,
		     uint64_t tag)
{
	to->h.count += from->count;
	to->h.untimed += from->untimed;
	to->h.sum_ns += from->sum_ns;
	for (int i = 0; i < FP_HIST_SLOTS; i++)
		to->h.slots[i] += from->slots[i];
	if (from->mm_tag != tag)
		return;
	if (!to->have_mm || from->min_ns < to->h.min_ns)
		to->h.min_ns = from->min_ns;
	if (!to->have_mm || from->max_ns > to->h.max_ns)
		to->h.max_ns = from->max_ns;
	to->have_mm = true;
}

static void hist_sub(struct fp_hist *to, const struct fp_hist *from)
{
	to->count -= from->count;
	to->untimed -= from->untimed;
	to->sum_ns -= from->sum_ns;
	for (int i = 0; i < FP_HIST_SLOTS; i++)
		to->slots[i] -= from->slots[i];
}

/* Rows of the per-goroutine map; with -i the map is emptied. */
static size_t collect_goid(struct funcs_session *s, uint64_t now_ns,
			   struct lat_row **rows)
{
	struct funcs_bpf *skel = s->skel;
	int fd = bpf_map__fd(skel->maps.goid_hists);
	struct fp_goid_key key, next, *prev = NULL;
	struct lat_row *r = NULL;
	size_t n = 0, cap = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct fp_hist h;
		const struct fp_func *ff;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &h))
			continue;
		ff = funcprobe__func(s->fp, key.fid);
		if (!ff || (!h.count && !h.untimed))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct lat_row *nr = realloc(r, ncap * sizeof(*nr));

			if (!nr)
				break;
			r = nr;
			cap = ncap;
		}
		r[n].name = ff->name;
		r[n].pid = key.pid;
		r[n].goid = key.goid;
		r[n].h = h;
		r[n].sampled = overhead__sampled_in_window(s->ovh, key.fid,
							   now_ns,
							   &r[n].coverage);
		/* per goroutine, epoch stays 0: any tag is this key's */
		r[n].have_mm = h.mm_tag != 0;
		n++;
	}
	*rows = r;
	return n;
}

static void reset_goid(struct funcs_session *s)
{
	struct funcs_bpf *skel = s->skel;
	int fd = bpf_map__fd(skel->maps.goid_hists);
	struct fp_goid_key key;

	while (!bpf_map_get_next_key(fd, NULL, &key))
		if (bpf_map_delete_elem(fd, &key))
			break;
}

static void print_stats(struct funcs_session *s)
{
	static const char *const names[FP_NSTATS] = {
		"entries", "morestack-skipped", "paired", "unpaired-returns",
		"stale-entries", "re-entries", "too-deep", "read-failures",
		"map-full",
	};
	struct funcs_bpf *skel = s->skel;
	char line[512];
	size_t len = 0;

	for (int i = 0; i < FP_NSTATS; i++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %llu",
				i ? ", " : "", names[i],
				(unsigned long long)skel->bss->stats[i]);
	p_info("pairing: %s", line);
}

/* Each function's histogram since the last print (-i: the half of the
 * map that held this interval's calls). 0 or -ENOMEM. */
static int collect(struct funcs_session *s, bool final, uint64_t now_ns,
		   struct lat_row **out, size_t *cnt)
{
	struct lat_state *st = s->ops->priv;
	size_t n = funcprobe__cnt(s->fp), rows_cnt = 0;
	struct funcs_bpf *skel = s->skel;
	int fd = bpf_map__fd(skel->maps.hists);
	__u32 e = skel->bss->epoch, half = 0;
	struct lat_row *rows;

	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	if (s->cli->interval > 0) {
		/* new calls go to the other half from now on; this one
		 * holds exactly the interval's (at the end the probes are
		 * gone: nothing to switch) */
		if (!final)
			__atomic_store_n(&skel->bss->epoch, e + 1,
					 __ATOMIC_SEQ_CST);
		half = e & 1;
	}
	for (__u32 fid = 0; fid < n; fid++) {
		__u32 key = fid + half * (__u32)n;
		struct lat_row *r = &rows[rows_cnt];

		memset(r, 0, sizeof(*r));
		if (bpf_map_lookup_elem(fd, &key, st->vals))
			continue;
		for (int c = 0; c < st->ncpu; c++)
			hist_add(r, &st->vals[c], (uint64_t)e + 1);
		if (st->prev) {
			struct fp_hist now = r->h;

			hist_sub(&r->h, &st->prev[key]);
			st->prev[key] = now;
		}
		if (!r->h.count && !r->h.untimed)
			continue;
		r->name = funcprobe__func(s->fp, fid)->name;
		r->sampled = overhead__sampled_in_window(s->ovh, fid, now_ns,
							 &r->coverage);
		rows_cnt++;
	}
	*out = rows;
	*cnt = rows_cnt;
	return 0;
}

static void print(struct funcs_session *s, bool final)
{
	struct lat_state *st = s->ops->priv;
	bool per_goid = s->cli->per_goid;
	struct lat_row *rows = NULL;
	size_t rows_cnt = 0;
	uint64_t now_ns = mono_ns();
	int err = 0;

	if (per_goid) {
		rows_cnt = collect_goid(s, now_ns, &rows);
		if (s->cli->interval > 0)
			reset_goid(s);
	} else {
		err = collect(s, final, now_ns, &rows, &rows_cnt);
	}
	overhead__mark(s->ovh, now_ns);	/* -i: the next interval's window */
	if (err)
		return;
	qsort(rows, rows_cnt, sizeof(*rows), cmp_rows);
	if (json_output) {
		struct jw *jw = jw_new(stdout);

		if (jw && s->cli->interval > 0)
			funcs_session__interval_marker(jw);
		for (size_t i = 0; jw && i < rows_cnt; i++)
			print_json(jw, &rows[i], per_goid);
		jw_free(jw);
	} else {
		bool pids = false;

		for (size_t i = 1; per_goid && i < rows_cnt; i++)
			pids |= rows[i].pid != rows[0].pid;
		funcs_session__interval_header(s, !st->printed);
		for (size_t i = 0; i < rows_cnt; i++)
			print_text(&rows[i], per_goid, pids);
		if (!rows_cnt)
			printf("(no completed calls)\n");
	}
	st->printed = true;
	record_out__flush();
	free(rows);
	if (final)
		print_stats(s);
}

static int load(struct funcs_session *s)
{
	return funcs_latency__load(s->skel, use_r14);
}

static void destroy(struct funcs_session *s)
{
	struct lat_state *st = s->ops->priv;

	funcs_latency__destroy(s->skel, use_r14);
	s->skel = NULL;
	free(st->prev);
	free(st->vals);
	st->prev = NULL;
	st->vals = NULL;
}

/* Stacks of processes that exited inside a timed call (PATH targets). */
/* latency's calls per function: each hists entry's count + untimed
 * (both halves with -i) */
static void calls(struct funcs_session *s, struct overhead_calls *out)
{
	struct funcs_bpf *skel = s->skel;

	*out = (struct overhead_calls){
		.map_fd = bpf_map__fd(skel->maps.hists),
		.value_size = sizeof(struct fp_hist),
		.count_off = offsetof(struct fp_hist, count),
		.extra_off = offsetof(struct fp_hist, untimed),
		.sum_off = offsetof(struct fp_hist, sum_ns),
		.halves = s->cli->interval > 0 && !s->cli->per_goid ? 2 : 1 };
}

static void tick(struct funcs_session *s)
{
	unsigned int n = funcs_latency__sweep(s->skel);

	if (n)
		p_info("dropped the open calls of %u goroutines of exited processes",
		       n);
}

int do_latency(int argc, char **argv)
{
	static struct lat_state st;
	static const struct funcs_ops ops = {
		.verb = "latency",
		.returns = true,
		.configure = configure,
		.load = load,
		.destroy = destroy,
		.print = print,
		.tick = tick,
		.calls = calls,
		.priv = &st,
	};

	return funcs_session__main(argc, argv, &ops, usage);
}
