// SPDX-License-Identifier: MIT
/*
 * gosnoop sched's summary: the 80-column table (one row per goroutine, or
 * per start function when there are many), the scheduling-latency
 * histogram and wait reasons by time; or the same as JSON lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "record_out.h"
#include "sched_int.h"
#include "sched_perfetto.h"
#include "sched_report.h"

/* ------------------------------------------------------------ summary */

enum { COL_RUNNING, COL_RUNNABLE, COL_WAITING, COL_SYSCALL, COL_OTHER,
       NCOLS };

static void g_cols(const struct sched_g *g, uint64_t c[NCOLS])
{
	memset(c, 0, NCOLS * sizeof(c[0]));
	for (int s = 0; s < SCHED_NSTATUS; s++) {
		switch (s) {
		case SCHED_G_RUNNING:  c[COL_RUNNING] += g->ns[s]; break;
		case SCHED_G_RUNNABLE: c[COL_RUNNABLE] += g->ns[s]; break;
		case SCHED_G_WAITING:  c[COL_WAITING] += g->ns[s]; break;
		case SCHED_G_SYSCALL:  c[COL_SYSCALL] += g->ns[s]; break;
		default:               c[COL_OTHER] += g->ns[s]; break;
		}
	}
}

static bool rep_wanted(struct sched_report *r, const struct rep_g *e)
{
	return sched_goid_wanted(r, e->g.goid) &&
	       sched_start_wanted(r, e->pid, e->g.startpc);
}

static const char *final_of(struct sched_report *r, const struct rep_g *e)
{
	if (e->ended)
		return "dead";
	if (e->g.last_state == SCHED_G_WAITING)
		return sched_reason_name(r, e->g.last_reason);
	return sched_status_name(r, e->g.last_state);
}

static void json_goroutine(struct sched_report *r, const struct rep_g *e)
{
	const struct sched_start_name *sn = sched_start_of(r, e->pid, e->g.startpc);
	const char *cfile;
	int cline;
	const char *creator = sched_creator_of(r, e->pid, e->g.gopc, &cfile, &cline);
	struct jw *jw = r->jw;
	uint64_t c[NCOLS];

	g_cols(&e->g, c);
	jw_start_object(jw);
	jw_name(jw, "type"); jw_string(jw, "goroutine");
	jw_name(jw, "pid"); jw_uint(jw, e->pid);
	jw_name(jw, "goid"); jw_uint(jw, e->g.goid);
	jw_name(jw, "start"); jw_string(jw, sn ? sn->start : NULL);
	if (sn && sn->wrapper) {
		jw_name(jw, "start_pc_func"); jw_string(jw, sn->wrapper);
	}
	jw_name(jw, "creator"); jw_string(jw, creator);
	if (cfile) {
		jw_name(jw, "creator_file"); jw_string(jw, cfile);
		jw_name(jw, "creator_line"); jw_int(jw, cline);
	}
	jw_name(jw, "ns");
	jw_start_object(jw);
	jw_name(jw, "running"); jw_uint(jw, c[COL_RUNNING]);
	jw_name(jw, "runnable"); jw_uint(jw, c[COL_RUNNABLE]);
	jw_name(jw, "waiting"); jw_uint(jw, c[COL_WAITING]);
	jw_name(jw, "syscall"); jw_uint(jw, c[COL_SYSCALL]);
	jw_name(jw, "other"); jw_uint(jw, c[COL_OTHER]);
	jw_end_object(jw);
	jw_name(jw, "transitions"); jw_uint(jw, e->g.transitions);
	jw_name(jw, "created"); jw_bool(jw, e->g.flags & SCHED_GF_CREATED);
	jw_name(jw, "final");
	jw_string(jw, e->ended ? "dead" : sched_status_name(r, e->g.last_state));
	if (!e->ended && e->g.last_state == SCHED_G_WAITING) {
		jw_name(jw, "reason");
		jw_string(jw, sched_reason_name(r, e->g.last_reason));
	}
	jw_end_object(jw);
	jw_end_line(jw);
}

static int cmp_running(const void *a, const void *b)
{
	const struct rep_g *x = a, *y = b;
	uint64_t cx[NCOLS], cy[NCOLS];

	g_cols(&x->g, cx);
	g_cols(&y->g, cy);
	if (cx[COL_RUNNING] != cy[COL_RUNNING])
		return cx[COL_RUNNING] < cy[COL_RUNNING] ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->g.goid < y->g.goid ? -1 : x->g.goid > y->g.goid;
}

/* A name without its import path ("github.com/evanw/esbuild/pkg/api.Build"
 * -> "api.Build"): the table has 21 columns for it; JSON keeps it whole. */
static const char *short_name(const char *name)
{
	const char *p = name, *slash = NULL;

	/* the last '/' before the first '(' or '[' (receivers, generics) */
	for (; *p && *p != '(' && *p != '['; p++)
		if (*p == '/')
			slash = p;
	return slash ? slash + 1 : name;
}

/* name in exactly width columns: cut on a UTF-8 character boundary (Go
 * names hold "·"), padded with spaces. */
static void fit(char *out, size_t len, const char *name, int width)
{
	size_t o = 0;
	int cols = 0;

	for (const unsigned char *p = (const unsigned char *)name;
	     *p && cols < width;) {
		size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;

		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 1;	/* broken: one byte, one column */
		if (o + n + 1 > len)
			break;
		memcpy(out + o, p, n);
		o += n;
		p += n;
		cols++;
	}
	while (cols < width && o + 2 <= len) {
		out[o++] = ' ';
		cols++;
	}
	out[o] = 0;
}

/*
 * The table's first columns: with more than one process in it (a PATH
 * target run twice: two "1 runtime.main" rows) a PID column, as wide as
 * the largest PID, taken from START's 21 so that lines stay in 80.
 */
struct table_cols {
	int pid_w;		/* 0: one process, no PID column */
	int name_w;
};

#define TABLE_NAME_W 21

static struct table_cols table_cols(struct sched_report *r)
{
	struct table_cols tc = { .name_w = TABLE_NAME_W };
	__u32 first = 0, max = 0;
	bool several = false;
	char buf[16];

	for (size_t i = 0; i < r->g_cnt; i++) {
		const struct rep_g *e = &r->gs[i];

		if (!rep_wanted(r, e))
			continue;
		if (!first)
			first = e->pid;
		several |= e->pid != first;
		if (e->pid > max)
			max = e->pid;
	}
	if (!several)
		return tc;
	tc.pid_w = snprintf(buf, sizeof(buf), "%u", max);
	if (tc.pid_w < 3)
		tc.pid_w = 3;
	tc.name_w -= tc.pid_w + 1;
	return tc;
}

static void header(const struct table_cols *tc, const char *first,
		   const char *last)
{
	if (tc->pid_w)
		printf("%*s ", tc->pid_w, "PID");
	printf("%6s %-*s %7s %8s %7s %7s %5s %s\n", first, tc->name_w, "START",
	       "RUNNING", "RUNNABLE", "WAITING", "SYSCALL", "CHG", last);
}

/* One table line, cut at 80 columns. */
static void row(const struct table_cols *tc, __u32 pid, const char *first,
		const char *name, const uint64_t c[NCOLS], uint64_t changes,
		const char *last)
{
	char b[4][16], line[256], nm[96], pidcol[16] = "";

	if (tc->pid_w)
		snprintf(pidcol, sizeof(pidcol), "%*u ", tc->pid_w, pid);
	fit(nm, sizeof(nm), short_name(name), tc->name_w);
	snprintf(line, sizeof(line),
		 "%s%6s %s %7s %8s %7s %7s %5" PRIu64 " %s", pidcol, first, nm,
		 sched_fmt_ns(b[0], 16, c[COL_RUNNING]),
		 sched_fmt_ns(b[1], 16, c[COL_RUNNABLE]),
		 sched_fmt_ns(b[2], 16, c[COL_WAITING]),
		 sched_fmt_ns(b[3], 16, c[COL_SYSCALL]), changes, last);
	/* the last column, a wait reason ("GC sweep wait"), is never cut:
	 * a line a few columns past 80 reads better than half a word */
	printf("%s\n", line);
}

struct group {
	__u32 pid;		/* with a PID column: one group per process */
	const char *start;
	size_t count, ended;
	uint64_t c[NCOLS];
	uint64_t changes;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->c[COL_RUNNING] != y->c[COL_RUNNING])
		return x->c[COL_RUNNING] < y->c[COL_RUNNING] ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->start, y->start);
}

static void print_groups(struct sched_report *r)
{
	struct group *gr = calloc(r->g_cnt ? r->g_cnt : 1, sizeof(*gr));
	struct table_cols tc = table_cols(r);
	size_t n = 0;

	if (!gr)
		return;
	for (size_t i = 0; i < r->g_cnt; i++) {
		const struct rep_g *e = &r->gs[i];
		const char *s = sched_start_name(r, e->pid, e->g.startpc);
		__u32 pid = tc.pid_w ? e->pid : 0;
		uint64_t c[NCOLS];
		size_t j;

		if (!rep_wanted(r, e))
			continue;
		for (j = 0; j < n; j++)
			if (gr[j].pid == pid && !strcmp(gr[j].start, s))
				break;
		if (j == n) {
			gr[n].pid = pid;
			gr[n++].start = s;
		}
		g_cols(&e->g, c);
		for (int k = 0; k < NCOLS; k++)
			gr[j].c[k] += c[k];
		gr[j].count++;
		gr[j].ended += e->ended;
		gr[j].changes += e->g.transitions;
	}
	qsort(gr, n, sizeof(*gr), cmp_group);
	header(&tc, "COUNT", "ENDED");
	for (size_t j = 0; j < n; j++) {
		char cnt[16], ended[16];

		snprintf(cnt, sizeof(cnt), "%zu", gr[j].count);
		snprintf(ended, sizeof(ended), "%zu", gr[j].ended);
		row(&tc, gr[j].pid, cnt, gr[j].start, gr[j].c, gr[j].changes,
		    ended);
	}
	free(gr);
}

static void print_rows(struct sched_report *r)
{
	struct table_cols tc = table_cols(r);

	header(&tc, "GOID", "FINAL");
	for (size_t i = 0; i < r->g_cnt; i++) {
		const struct rep_g *e = &r->gs[i];
		char goid[24];
		uint64_t c[NCOLS];

		if (!rep_wanted(r, e))
			continue;
		g_cols(&e->g, c);
		snprintf(goid, sizeof(goid), "%llu",
			 (unsigned long long)e->g.goid);
		row(&tc, e->pid, goid, sched_start_name(r, e->pid, e->g.startpc),
		    c, e->g.transitions, final_of(r, e));
	}
}

static void print_hist(const struct sched_report *r)
{
	uint64_t max = 0, total = 0;
	int lo = -1, hi = -1;

	for (int i = 0; i < SCHED_HIST_SLOTS; i++) {
		if (!r->hist[i])
			continue;
		if (lo < 0)
			lo = i;
		hi = i;
		total += r->hist[i];
		if (r->hist[i] > max)
			max = r->hist[i];
	}
	printf("\nScheduling latency (runnable -> running), %" PRIu64
	       " samples:\n", total);
	if (lo < 0) {
		printf("  (none)\n");
		return;
	}
	printf("%19s : %-8s distribution\n", "latency", "count");
	for (int i = lo; i <= hi; i++) {
		char a[16], b[16], stars[SCHED_HIST_STARS + 1];
		int ns = (int)(r->hist[i] * SCHED_HIST_STARS / max);

		memset(stars, '*', ns);
		stars[ns] = 0;
		sched_fmt_ns(a, sizeof(a), i ? 1ULL << i : 0);
		sched_fmt_ns(b, sizeof(b), (1ULL << (i + 1)) - 1);
		printf("%8s -> %-8s : %-8" PRIu64 " |%-*s|\n", a, b,
		       r->hist[i], SCHED_HIST_STARS, stars);
	}
}

static int cmp_reason_ns(const void *a, const void *b, void *arg)
{
	const struct sched_reason_stat *rs = arg;
	int x = *(const int *)a, y = *(const int *)b;

	if (rs[x].ns != rs[y].ns)
		return rs[x].ns < rs[y].ns ? 1 : -1;
	return x - y;
}

static int sorted_reasons(const struct sched_report *r, int idx[])
{
	int n = 0;

	for (int i = 0; i < SCHED_NREASONS; i++)
		if (r->reasons[i].count)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(idx[0]), cmp_reason_ns, (void *)r->reasons);
	return n;
}

static void print_reasons(struct sched_report *r)
{
	int idx[SCHED_NREASONS];
	int n = sorted_reasons(r, idx);

	printf("\nWait reasons by total time:\n");
	if (!n) {
		printf("  (none)\n");
		return;
	}
	printf("%-40s %10s %10s %10s\n", "REASON", "COUNT", "TOTAL", "AVG");
	for (int i = 0; i < n; i++) {
		const struct sched_reason_stat *s = &r->reasons[idx[i]];
		char a[16], b[16];

		printf("%-40.40s %10" PRIu64 " %10s %10s\n",
		       sched_reason_name(r, idx[i]), (uint64_t)s->count,
		       sched_fmt_ns(a, sizeof(a), s->ns),
		       sched_fmt_ns(b, sizeof(b), s->count ? s->ns / s->count : 0));
	}
}

static void json_tail(struct sched_report *r)
{
	struct jw *jw = r->jw;
	int idx[SCHED_NREASONS];
	int n = sorted_reasons(r, idx);

	jw_start_object(jw);
	jw_name(jw, "type"); jw_string(jw, "sched_latency");
	jw_name(jw, "buckets");
	jw_start_array(jw);
	for (int i = 0; i < SCHED_HIST_SLOTS; i++) {
		if (!r->hist[i])
			continue;
		jw_start_object(jw);
		jw_name(jw, "le_ns"); jw_uint(jw, (1ULL << (i + 1)) - 1);
		jw_name(jw, "count"); jw_uint(jw, r->hist[i]);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_end_object(jw);
	jw_end_line(jw);
	for (int i = 0; i < n; i++) {
		jw_start_object(jw);
		jw_name(jw, "type"); jw_string(jw, "wait_reason");
		jw_name(jw, "reason"); jw_string(jw, sched_reason_name(r, idx[i]));
		jw_name(jw, "count"); jw_uint(jw, r->reasons[idx[i]].count);
		jw_name(jw, "ns"); jw_uint(jw, r->reasons[idx[i]].ns);
		jw_end_object(jw);
		jw_end_line(jw);
	}
	jw_start_object(jw);
	jw_name(jw, "type"); jw_string(jw, "sched_stats");
	jw_name(jw, "duration_ns"); jw_uint(jw, r->end_ns - r->start_ns);
	jw_name(jw, "probe_func"); jw_string(jw, r->probe_func);
	jw_name(jw, "probe_addr"); jw_hex(jw, r->probe_addr);
	jw_name(jw, "probe_emulated"); jw_bool(jw, r->probe_emulated);
	jw_name(jw, "probe_why"); jw_string(jw, r->probe_why);
	jw_name(jw, "hits"); jw_uint(jw, r->stats[SCHED_STAT_HITS]);
	jw_name(jw, "skipped_reentry"); jw_uint(jw, r->stats[SCHED_STAT_SKIPPED]);
	jw_name(jw, "read_failures"); jw_uint(jw, r->stats[SCHED_STAT_READ_FAIL]);
	jw_name(jw, "bad_status"); jw_uint(jw, r->stats[SCHED_STAT_BAD_STATUS]);
	jw_name(jw, "untracked_goroutines");
	jw_uint(jw, r->stats[SCHED_STAT_MAP_FULL]);
	jw_name(jw, "lost_events"); jw_uint(jw, r->stats[SCHED_STAT_LOST_EVENTS]);
	jw_name(jw, "lost_goroutine_ends");
	jw_uint(jw, r->stats[SCHED_STAT_LOST_ENDS]);
	jw_name(jw, "unseen_changes"); jw_uint(jw, r->stats[SCHED_STAT_MISMATCH]);
	jw_end_object(jw);
	jw_end_line(jw);
}

static void warn_losses(const struct sched_report *r)
{
	if (r->stats[SCHED_STAT_LOST_EVENTS])
		p_warn("%" PRIu64 " state-change records lost (ring buffer full)",
		       r->stats[SCHED_STAT_LOST_EVENTS]);
	if (r->stats[SCHED_STAT_LOST_ENDS])
		p_warn("%" PRIu64 " goroutine exits lost (ring buffer full): their totals are missing",
		       r->stats[SCHED_STAT_LOST_ENDS]);
	if (r->stats[SCHED_STAT_MAP_FULL])
		p_warn("%" PRIu64 " goroutines not tracked (more than %d alive at once)",
		       r->stats[SCHED_STAT_MAP_FULL], SCHED_MAX_GOROUTINES);
	if (r->stats[SCHED_STAT_READ_FAIL])
		p_warn("%" PRIu64 " reads of goroutine memory failed",
		       r->stats[SCHED_STAT_READ_FAIL]);
}

static uint64_t pid_end(void *ctx, __u32 pid)
{
	struct pid_bias *p = sched_pid_info(ctx, pid);

	return p ? p->exit_ns : 0;
}

static int print_summary(struct sched_report *r, uint64_t end_ns, bool last)
{
	size_t shown = 0, ended = 0;
	int err = 0;
	char dur[16];

	r->end_ns = end_ns;
	qsort(r->gs, r->g_cnt, sizeof(r->gs[0]), cmp_running);
	for (size_t i = 0; i < r->g_cnt; i++) {
		if (!rep_wanted(r, &r->gs[i]))
			continue;
		shown++;
		ended += r->gs[i].ended;
	}
	if (r->pf && last) {
		sched_pf_add_unchanged(r);
		/* a timeline that could not be written is a failure */
		err = sched_perfetto__close(r->pf, end_ns, pid_end, r);
		sched_perfetto__free(r->pf);
		r->pf = NULL;
	}
	if (last)
		warn_losses(r);
	if (r->jw) {
		if (!last) {
			jw_start_object(r->jw);
			jw_name(r->jw, "type"); jw_string(r->jw, "interval");
			jw_name(r->jw, "ts_ns"); jw_uint(r->jw, end_ns);
			jw_end_object(r->jw);
			jw_end_line(r->jw);
		}
		for (size_t i = 0; i < r->g_cnt; i++)
			if (rep_wanted(r, &r->gs[i]))
				json_goroutine(r, &r->gs[i]);
		json_tail(r);
		record_out__flush();
		return err;
	}
	if (r->opts.events || !last)
		printf("\n");
	printf("%zu goroutines (%zu ended), %s, %s; probe %s (%s)\n",
	       shown, ended, sched_fmt_ns(dur, sizeof(dur), end_ns - r->start_ns),
	       gobin__go_version(r->gb) ? gobin__go_version(r->gb) : "go?",
	       r->probe_func ? r->probe_func : "?",
	       r->probe_why ? r->probe_why : "");
	if (shown > SCHED_GROUP_THRESHOLD && !r->opts.all)
		print_groups(r);
	else
		print_rows(r);
	if (shown > SCHED_GROUP_THRESHOLD && !r->opts.all)
		printf("(grouped by start function; --all: one row per goroutine)\n");
	print_hist(r);
	print_reasons(r);
	record_out__flush();
	return err;
}

int sched_report__finish(struct sched_report *r, uint64_t end_ns)
{
	return print_summary(r, end_ns, true);
}

int sched_report__interval(struct sched_report *r, uint64_t now_ns)
{
	size_t j = 0;
	int ret = print_summary(r, now_ns, false);

	/* forget what only this snapshot added: live goroutines and the
	 * waits still in progress */
	for (size_t i = 0; i < r->g_cnt; i++)
		if (!r->gs[i].snap)
			r->gs[j++] = r->gs[i];
	r->g_cnt = j;
	return ret;
}
