// SPDX-License-Identifier: MIT
/*
 * overhead - see overhead.h: calibration (and its cache), what a call
 * costs, the governor's inputs (calls per function from the command's
 * map, the target's CPU time from /proc) and its outputs (funcprobe
 * subsets, throttled lines and records).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "overhead.h"
#include "overhead_gov.h"
#include "pattern.h"
#include "record_out.h"
#include "session.h"
#include "target.h"
#include "probe/features.h"
#include "probe/funcprobe.h"
#include "probe/uprobe_multi.h"
#include "bpf/uprobe_cost.h"
#include "bpf/uprobe_cost.skel.h"

/* Calls per site per round, and rounds (the fastest is kept). */
#define OVH_CAL_CALLS	300
#define OVH_CAL_ROUNDS	9
#define BOOT_ID_PATH	"/proc/sys/kernel/random/boot_id"
#define CACHE_NAME	"uprobe-cost"

/*
 * The three calibration sites, in assembly so that the probed instruction
 * is known: a JMP (the kernel emulates it), a MOV (single-stepped out of
 * line) and a RET (single-stepped as well; every RET is).
 */
void gosnoop_cost_emulated(void);
void gosnoop_cost_stepped(void);
void gosnoop_cost_ret(void);
__asm__(
	"	.pushsection .text\n"
	"	.p2align 4\n"
	"	.globl gosnoop_cost_emulated\n"
	"	.type gosnoop_cost_emulated, @function\n"
	"gosnoop_cost_emulated:\n"
	"	jmp 1f\n"
	"1:	ret\n"
	"	.size gosnoop_cost_emulated, .-gosnoop_cost_emulated\n"
	"	.p2align 4\n"
	"	.globl gosnoop_cost_stepped\n"
	"	.type gosnoop_cost_stepped, @function\n"
	"gosnoop_cost_stepped:\n"
	"	mov %rdi, %rax\n"
	"	ret\n"
	"	.size gosnoop_cost_stepped, .-gosnoop_cost_stepped\n"
	"	.p2align 4\n"
	"	.globl gosnoop_cost_ret\n"
	"	.type gosnoop_cost_ret, @function\n"
	"gosnoop_cost_ret:\n"
	"	ret\n"
	"	.size gosnoop_cost_ret, .-gosnoop_cost_ret\n"
	"	.popsection\n");

static void (*const cal_site[UPROBE_COST_NSITES])(void) = {
	[UPROBE_COST_EMULATED] = gosnoop_cost_emulated,
	[UPROBE_COST_STEPPED] = gosnoop_cost_stepped,
	[UPROBE_COST_RET] = gosnoop_cost_ret,
};

/* ------------------------------------------------------------ cache */

static int read_boot_id(char *buf, size_t len)
{
	FILE *f = fopen(BOOT_ID_PATH, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		err = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* $XDG_RUNTIME_DIR/gosnoop, else /run/gosnoop, created if need be. */
static int cache_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[400];
	int n;

	if (xdg && *xdg)
		n = snprintf(dir, sizeof(dir), "%s/gosnoop", xdg);
	else
		n = snprintf(dir, sizeof(dir), "/run/gosnoop");
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, xdg && *xdg ? 0700 : 0755) && errno != EEXIST)
		return -errno;
	n = snprintf(buf, len, "%s/" CACHE_NAME, dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool cache_read(struct uprobe_cost *c, const char *boot_id)
{
	char path[512], id[64];
	bool ok = false;
	FILE *f;

	if (cache_path(path, sizeof(path)))
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fscanf(f, "%63s %lf %lf %lf", id, &c->emulated_ns, &c->stepped_ns,
		   &c->ret_ns) == 4 && !strcmp(id, boot_id) &&
	    c->emulated_ns > 0 && c->stepped_ns > 0 && c->ret_ns > 0)
		ok = true;
	fclose(f);
	return ok;
}

static void cache_write(const struct uprobe_cost *c, const char *boot_id)
{
	char path[512], tmp[540];
	FILE *f;

	if (cache_path(path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "%s %.1f %.1f %.1f\n", boot_id, c->emulated_ns,
		c->stepped_ns, c->ret_ns);
	if (fclose(f) || rename(tmp, path))
		unlink(tmp);
}

/* ------------------------------------------------------------ calibration */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per call of site i, over n calls */
static double time_calls(int i, int n)
{
	void (*volatile fn)(void) = cal_site[i];
	uint64_t t0 = mono_ns();

	for (int k = 0; k < n; k++)
		fn();
	return (double)(mono_ns() - t0) / n;
}

static int attach_cal(struct uprobe_cost_bpf *skel, bool multi,
		      struct bpf_link **links, int *link_fd)
{
	unsigned long offs[UPROBE_COST_NSITES];
	int err;

	for (int i = 0; i < UPROBE_COST_NSITES; i++) {
		err = features__self_file_offset((const void *)cal_site[i],
						 &offs[i]);
		if (err)
			return err;
	}
	if (multi)
		return uprobe_multi__attach(
			bpf_program__fd(skel->progs.uprobe_cost_hit),
			"/proc/self/exe", offs, NULL, UPROBE_COST_NSITES,
			getpid(), link_fd);
	for (int i = 0; i < UPROBE_COST_NSITES; i++) {
		links[i] = bpf_program__attach_uprobe_opts(
			skel->progs.uprobe_cost_hit, getpid(),
			"/proc/self/exe", offs[i], NULL);
		if (!links[i])
			return -errno;
	}
	return 0;
}

/* Rounds of OVH_CAL_CALLS calls of each site, probed; the fastest minus
 * the unprobed call (base). -EIO if a probe fired other than once a call. */
static int measure_sites(struct uprobe_cost_bpf *skel, const double *base,
			 double *best)
{
	double per[UPROBE_COST_NSITES][OVH_CAL_ROUNDS];

	for (int r = 0; r < OVH_CAL_ROUNDS; r++) {
		for (int i = 0; i < UPROBE_COST_NSITES; i++) {
			uint64_t h0 = __atomic_load_n(&skel->bss->hits,
						      __ATOMIC_RELAXED), h1;

			per[i][r] = time_calls(i, OVH_CAL_CALLS) - base[i];
			h1 = __atomic_load_n(&skel->bss->hits,
					     __ATOMIC_RELAXED);
			if (h1 - h0 != OVH_CAL_CALLS) {
				p_err("uprobe cost calibration: the probe fired %" PRIu64 " times for %d calls",
				      h1 - h0, OVH_CAL_CALLS);
				return -EIO;
			}
		}
	}
	for (int i = 0; i < UPROBE_COST_NSITES; i++) {
		/* the fastest round: other load only adds time */
		qsort(per[i], OVH_CAL_ROUNDS, sizeof(double), cmp_double);
		best[i] = per[i][0];
		if (best[i] < 1)
			best[i] = 1;
	}
	return 0;
}

static int calibrate_now(struct uprobe_cost *c)
{
	struct bpf_link *links[UPROBE_COST_NSITES] = {};
	double base[UPROBE_COST_NSITES], best[UPROBE_COST_NSITES];
	struct uprobe_cost_bpf *skel;
	bool multi = uprobe_multi__supported();
	int link_fd = -1, err;

	skel = uprobe_cost_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->target_tgid = (__u32)getpid();
	if (multi)
		bpf_program__set_expected_attach_type(
			skel->progs.uprobe_cost_hit, UPROBE_MULTI__ATTACH_TYPE);
	err = uprobe_cost_bpf__load(skel);
	if (err)
		goto out;
	for (int i = 0; i < UPROBE_COST_NSITES; i++) {
		double b[OVH_CAL_ROUNDS];

		for (int r = 0; r < OVH_CAL_ROUNDS; r++)
			b[r] = time_calls(i, OVH_CAL_CALLS);
		qsort(b, OVH_CAL_ROUNDS, sizeof(double), cmp_double);
		base[i] = b[0];
	}
	err = attach_cal(skel, multi, links, &link_fd);
	if (!err)
		err = measure_sites(skel, base, best);
	if (!err) {
		c->emulated_ns = best[UPROBE_COST_EMULATED];
		c->stepped_ns = best[UPROBE_COST_STEPPED];
		c->ret_ns = best[UPROBE_COST_RET];
	}
out:
	if (link_fd >= 0)
		close(link_fd);
	for (int i = 0; i < UPROBE_COST_NSITES; i++)
		bpf_link__destroy(links[i]);
	uprobe_cost_bpf__destroy(skel);
	return err;
}

/*
 * GOSNOOP_UPROBE_COST="EMULATED,STEPPED,RET" (ns per hit) instead of a
 * measurement: where timing cannot be trusted (a VM whose host is busy
 * stalls its vCPUs mid-round: under qemu TCG a calibration read 3.4 ms a
 * hit, 100x the truth, and the budget then throttled a function called
 * 50 times a second). 1 when given, 0 when not, -EINVAL when malformed.
 */
static int cost_from_env(struct uprobe_cost *c)
{
	const char *env = getenv("GOSNOOP_UPROBE_COST");
	double e, s, r;
	char end;

	if (!env || !*env)
		return 0;
	if (sscanf(env, "%lf,%lf,%lf%c", &e, &s, &r, &end) != 3 ||
	    !(e > 0) || !(s > 0) || !(r > 0) || e > 1e9 || s > 1e9 || r > 1e9) {
		p_err("GOSNOOP_UPROBE_COST=%s: want three costs per hit in ns, EMULATED,STEPPED,RET (e.g. 600,9000,9000)",
		      env);
		return -EINVAL;
	}
	c->emulated_ns = e;
	c->stepped_ns = s;
	c->ret_ns = r;
	p_info("uprobe cost per hit (GOSNOOP_UPROBE_COST): emulated %.0f ns, single-stepped %.0f ns, RET %.0f ns",
	       e, s, r);
	return 1;
}

int overhead__calibrate(struct uprobe_cost *c)
{
	char boot_id[64] = "";
	uint64_t t0 = mono_ns();
	int err;

	memset(c, 0, sizeof(*c));
	err = cost_from_env(c);
	if (err)
		return err < 0 ? err : 0;
	if (!read_boot_id(boot_id, sizeof(boot_id)) &&
	    cache_read(c, boot_id)) {
		c->cached = true;
		p_info("uprobe cost per hit (this boot's cache): emulated %.0f ns, single-stepped %.0f ns, RET %.0f ns",
		       c->emulated_ns, c->stepped_ns, c->ret_ns);
		return 0;
	}
	err = calibrate_now(c);
	if (err) {
		if (err != -EIO)
			p_err("cannot measure what a uprobe costs here: %s",
			      strerror(-err));
		return err;
	}
	p_info("uprobe cost per hit (measured in %.0f ms): emulated %.0f ns, single-stepped %.0f ns, RET %.0f ns",
	       (mono_ns() - t0) / 1e6, c->emulated_ns, c->stepped_ns,
	       c->ret_ns);
	if (boot_id[0])
		cache_write(c, boot_id);
	return 0;
}

double overhead__call_ns(const struct uprobe_cost *c,
			 const struct fp_func *ff, unsigned sites)
{
	double ns = 0;

	if (sites & FP_SITES_ENTRY)
		ns += ff->emulated ? c->emulated_ns : c->stepped_ns;
	/* one of its RETs per call (an entry site that is a RET: counted
	 * once, as funcprobe merges them) */
	if ((sites & FP_SITES_RET) && ff->ret_cnt &&
	    !(ff->ret_cnt == 1 && ff->rets[0] == ff->entry_site))
		ns += c->ret_ns;
	return ns;
}

/* ------------------------------------------------------------ governor */

struct overhead {
	struct funcprobe *fp;
	struct overhead_calls calls;
	struct overhead_opts opts;
	struct uprobe_cost cost;
	struct ovh_gov *gov;
	struct ovh_change *changes;
	uint64_t *totals;	/* calls per fid, cumulative */
	uint64_t *sums;		/* ns in calls per fid (calls.sum_off) */
	uint64_t *win_on;	/* on-time per fid at win_ns (overhead__mark) */
	uint64_t win_ns;
	void *vals;		/* one lookup: every CPU's value */
	size_t n, stride;
	int ncpu, nonline;
	uint64_t start_ns, last_ns, cpu0_ns, last_cpu_ns;
	bool warned, broken;
	struct overhead_keep keep;	/* a copy of what is kept */
};

static int apply_keep(struct overhead *o, const struct overhead_keep *keep,
		      bool warn);

/* CPU time of pid so far (utime + stime of /proc/PID/stat), or, for
 * every process of a PATH, the machine's: every online CPU all along. */
static int cpu_ns_of(const struct overhead *o, uint64_t now_ns,
		     uint64_t *out)
{
	static const int fields[] = { 14, 15 };		/* utime, stime */
	static long hz;
	unsigned long long v[2];
	int err;

	if (o->opts.pid <= 0) {
		*out = (now_ns - o->start_ns) * (uint64_t)o->nonline;
		return 0;
	}
	if (!hz)
		hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	err = target__proc_stat_nums(o->opts.pid, fields, 2, v, NULL);
	if (err)
		return err;
	*out = (v[0] + v[1]) * (1000000000ULL / (uint64_t)hz);
	return 0;
}

/* Every function's calls so far into o->totals. */
static int read_calls(struct overhead *o)
{
	for (size_t fid = 0; fid < o->n; fid++) {
		uint64_t sum = 0, ns = 0;

		for (unsigned h = 0; h < o->calls.halves; h++) {
			__u32 key = (__u32)(fid + h * o->n);

			if (bpf_map_lookup_elem(o->calls.map_fd, &key, o->vals))
				return -errno;
			for (int c = 0; c < o->ncpu; c++) {
				const char *v = (const char *)o->vals +
						(size_t)c * o->stride;
				uint64_t x;

				memcpy(&x, v + o->calls.count_off, sizeof(x));
				sum += x;
				if (o->sums) {
					memcpy(&x, v + o->calls.sum_off,
					       sizeof(x));
					ns += x;
				}
				if (o->calls.extra_off == SIZE_MAX)
					continue;
				memcpy(&x, v + o->calls.extra_off, sizeof(x));
				sum += x;
			}
		}
		o->totals[fid] = sum;
		if (o->sums)
			o->sums[fid] = ns;
	}
	return 0;
}

int overhead__new(struct funcprobe *fp, const struct overhead_calls *calls,
		  const struct overhead_opts *opts, struct overhead **out)
{
	struct overhead *o = calloc(1, sizeof(*o));
	double *ns = NULL;
	int err = -ENOMEM;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	o->fp = fp;
	o->calls = *calls;
	o->opts = *opts;
	if (!o->calls.halves)
		o->calls.halves = 1;
	o->n = funcprobe__cnt(fp);
	o->ncpu = libbpf_num_possible_cpus();
	o->nonline = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o->ncpu <= 0 || o->nonline <= 0) {
		err = -EINVAL;
		goto fail;
	}
	o->stride = (calls->value_size + 7) & ~(size_t)7;
	err = overhead__calibrate(&o->cost);
	if (err)
		goto fail;
	err = -ENOMEM;
	ns = calloc(o->n ? o->n : 1, sizeof(*ns));
	o->totals = calloc(o->n ? o->n : 1, sizeof(*o->totals));
	o->changes = calloc(o->n ? o->n : 1, sizeof(*o->changes));
	o->vals = calloc((size_t)o->ncpu, o->stride);
	o->win_on = calloc(o->n ? o->n : 1, sizeof(*o->win_on));
	if (calls->sum_off)
		o->sums = calloc(o->n ? o->n : 1, sizeof(*o->sums));
	if (!ns || !o->totals || !o->changes || !o->vals || !o->win_on ||
	    (calls->sum_off && !o->sums))
		goto fail;
	for (size_t fid = 0; fid < o->n; fid++)
		ns[fid] = overhead__call_ns(&o->cost, funcprobe__func(fp, fid),
					    opts->sites);
	o->gov = ovh_gov__new(o->n, ns, opts->max_pct / 100.0, opts->enforce);
	if (!o->gov)
		goto fail;
	for (size_t fid = 0; fid < o->n; fid++) {
		const char *name = funcprobe__func(fp, fid)->name;

		ovh_gov__set_wait(o->gov, fid, ovh_gov__runtime_func(name));
		ovh_gov__set_own(o->gov, fid,
				 ovh_gov__own_func(name, opts->bi));
	}
	free(ns);
	o->start_ns = o->last_ns = o->win_ns = mono_ns();
	err = read_calls(o);
	if (!err)
		err = cpu_ns_of(o, o->start_ns, &o->last_cpu_ns);
	if (err) {
		p_err("overhead budget: cannot read the calls or the CPU time: %s",
		      strerror(-err));
		goto fail;
	}
	o->cpu0_ns = o->last_cpu_ns;
	err = apply_keep(o, &opts->keep, true);
	if (err)
		goto fail;
	if (o->sums)
		ovh_gov__note_time(o->gov, o->sums);
	ovh_gov__update(o->gov, o->start_ns, o->totals, 0, o->changes);
	*out = o;
	return 0;
fail:
	free(ns);
	overhead__free(o);
	return err;
}

void overhead__free(struct overhead *o)
{
	if (!o)
		return;
	ovh_gov__free(o->gov);
	free(o->changes);
	free(o->totals);
	free(o->sums);
	free(o->vals);
	free(o->win_on);
	overhead__keep_free(&o->keep);
	free(o);
}

int overhead__add_keep(struct overhead_keep *k, const char *arg)
{
	char *one[1] = { (char *)arg }, **pat;
	struct patterns p;
	int err;

	if (!*arg) {
		p_err("bad --keep '': give a function name or glob to keep on, e.g. 'main.handle*'");
		return -EINVAL;
	}
	err = patterns__init(&p, one, 1);	/* one line if bad */
	if (err)
		return err;
	patterns__free(&p);
	pat = realloc(k->pat, (size_t)(k->cnt + 1) * sizeof(*pat));
	if (!pat)
		return -ENOMEM;
	k->pat = pat;
	k->pat[k->cnt] = strdup(arg);
	if (!k->pat[k->cnt])
		return -ENOMEM;
	k->cnt++;
	return 0;
}

int overhead__check_keep(const struct overhead_keep *k, double max_pct)
{
	if (k->cnt && !(max_pct > 0)) {
		p_err("--keep '%s' without --max-overhead PCT: nothing is throttled without a budget",
		      k->pat[0]);
		return -EINVAL;
	}
	return 0;
}

void overhead__keep_free(struct overhead_keep *k)
{
	for (int i = 0; i < k->cnt; i++)
		free(k->pat[i]);
	free(k->pat);
	k->pat = NULL;
	k->cnt = 0;
}

static bool same_keep(const struct overhead_keep *a,
		      const struct overhead_keep *b)
{
	if (a->cnt != b->cnt)
		return false;
	for (int i = 0; i < a->cnt; i++)
		if (strcmp(a->pat[i], b->pat[i]))
			return false;
	return true;
}

/* warn: of a pattern matching none of the functions (--keep; serve's
 * keep: spans a target's count and latency units, each its own budget) */
static int apply_keep(struct overhead *o, const struct overhead_keep *keep,
		      bool warn)
{
	struct patterns p;
	int err;

	if (same_keep(&o->keep, keep))
		return 0;
	overhead__keep_free(&o->keep);
	o->keep.pat = calloc(keep->cnt ? (size_t)keep->cnt : 1,
			     sizeof(*o->keep.pat));
	if (!o->keep.pat)
		return -ENOMEM;
	for (int i = 0; i < keep->cnt; i++) {
		o->keep.pat[i] = strdup(keep->pat[i]);
		if (!o->keep.pat[i])
			return -ENOMEM;
		o->keep.cnt++;
	}
	/* a bad list (serve's keep:) is said once, and keeps nothing */
	err = patterns__init(&p, o->keep.pat, o->keep.cnt);
	for (size_t fid = 0; fid < o->n; fid++)
		ovh_gov__set_kept(o->gov, fid, !err && o->keep.cnt &&
				  patterns__match(&p, funcprobe__func(o->fp, fid)->name));
	if (err)
		return err;
	for (int i = 0; i < o->keep.cnt && warn; i++)
		if (!p.hits[i])
			p_warn("--keep '%s' matches none of the probed functions",
			       o->keep.pat[i]);
	patterns__free(&p);
	return 0;
}

int overhead__set_keep(struct overhead *o, const struct overhead_keep *keep)
{
	return apply_keep(o, keep, false);
}

static unsigned hits_per_call(const struct overhead *o)
{
	return o->opts.sites & FP_SITES_RET ? 2 : 1;
}

/* One line on stderr and, with --json, a record on stdout; ts_ns: when
 * the probes were re-attached (the change in effect from then on). */
static void report_change(const struct overhead *o,
			  const struct ovh_change *c, uint64_t ts_ns)
{
	const char *name = funcprobe__func(o->fp, c->fid)->name;
	double hits = c->hits_per_s * hits_per_call(o);

	if (json_output) {
		struct jw *jw = jw_new(stdout);

		if (!jw)
			return;
		jw_start_object(jw);
		jw_name(jw, "type");
		jw_string(jw, c->action == OVH_OFF ? "throttled"
						   : "unthrottled");
		jw_name(jw, "func"); jw_string(jw, name);
		jw_name(jw, "ts_ns"); jw_uint(jw, ts_ns);
		jw_name(jw, "hits_per_s"); jw_uint(jw, (uint64_t)(hits + 0.5));
		/* 4 decimals: what the estimate is worth */
		jw_name(jw, "est_overhead");
		jw_float(jw, (double)(uint64_t)(c->est_overhead * 1e4 + 0.5) /
			     1e4, 64);
		if (c->action == OVH_OFF) {
			/* sampled in time from now: this share (0: off) */
			jw_name(jw, "duty");
			jw_float(jw, (double)(uint64_t)(c->duty * 1e4 + 0.5) /
				     1e4, 64);
		}
		jw_end_object(jw);
		jw_end_line(jw);
		jw_free(jw);
		record_out__flush();
		return;
	}
	if (c->action == OVH_OFF && c->duty > 0)
		fprintf(stderr, "%s: throttled %s: %.0f hits/s, ~%.1f%% overhead (budget %g%%): sampled, probed ~%.0f%% of the time\n",
			prog_name, name, hits, c->est_overhead * 100,
			o->opts.max_pct, c->duty * 100);
	else if (c->action == OVH_OFF)
		fprintf(stderr, "%s: throttled %s: %.0f hits/s, ~%.1f%% overhead (budget %g%%): probes off, tried again later\n",
			prog_name, name, hits, c->est_overhead * 100,
			o->opts.max_pct);
	else
		fprintf(stderr, "%s: %s back on (last seen %.0f hits/s)\n",
			prog_name, name, hits);
}

/* Once: the kept functions alone cost more than the budget; they stay
 * on (what --keep promises), every other function is off. */
static void tell_kept_over(const struct overhead *o, double kept)
{
	if (json_output) {
		struct jw *jw = jw_new(stdout);

		if (!jw)
			return;
		jw_start_object(jw);
		jw_name(jw, "type"); jw_string(jw, "kept_over_budget");
		jw_name(jw, "est_overhead");
		jw_float(jw, (double)(uint64_t)(kept * 1e4 + 0.5) / 1e4, 64);
		jw_name(jw, "budget");
		jw_float(jw, o->opts.max_pct / 100.0, 64);
		jw_name(jw, "keep");
		jw_start_array(jw);
		for (int i = 0; i < o->keep.cnt; i++)
			jw_string(jw, o->keep.pat[i]);
		jw_end_array(jw);
		jw_end_object(jw);
		jw_end_line(jw);
		jw_free(jw);
		record_out__flush();
		return;
	}
	p_warn("the kept functions (--keep, keep:) alone cost an estimated %.1f%% of the program's own CPU time, over the %g%% budget: they stay on, every other function is throttled",
	       kept * 100, o->opts.max_pct);
}

/* Warn once (no --max-overhead) with the most expensive function. */
static void warn_over(struct overhead *o)
{
	size_t top = 0;

	for (size_t fid = 1; fid < o->n; fid++)
		if (ovh_gov__func_overhead(o->gov, fid) >
		    ovh_gov__func_overhead(o->gov, top))
			top = fid;
	p_warn("the probes cost an estimated %.0f%% of the traced program's own CPU time (over %g%%); most: %s, %.0f hits/s; --max-overhead PCT turns the costliest off",
	       ovh_gov__overhead(o->gov) * 100, o->opts.max_pct,
	       funcprobe__func(o->fp, top)->name,
	       ovh_gov__hits_per_s(o->gov, top) * hits_per_call(o));
	o->warned = true;
}

/* One look with the target's CPU time so far (cpu). */
static void update_at(struct overhead *o, uint64_t now_ns, uint64_t cpu)
{
	uint64_t t0, t1;
	double kept;
	size_t k, toggled = 0;
	int err;

	if (read_calls(o))
		return;
	if (o->sums)
		ovh_gov__note_time(o->gov, o->sums);
	k = ovh_gov__update(o->gov, now_ns, o->totals,
			    cpu > o->last_cpu_ns ? cpu - o->last_cpu_ns : 0,
			    o->changes);
	o->last_ns = now_ns;
	o->last_cpu_ns = cpu;
	if (!o->opts.enforce) {
		if (!o->warned && o->opts.max_pct > 0 &&
		    ovh_gov__overhead(o->gov) > o->opts.max_pct / 100.0)
			warn_over(o);
		return;
	}
	if (ovh_gov__kept_over_budget(o->gov, &kept))
		tell_kept_over(o, kept);
	if (!k)
		return;
	for (size_t i = 0; i < k; i++) {
		if (!o->changes[i].toggle)
			continue;	/* only to tell (already so) */
		/* Say "throttled" only of a function really marked off. */
		err = funcprobe__set_off(o->fp, o->changes[i].fid,
					 o->changes[i].action == OVH_OFF);
		toggled++;
		if (err) {
			p_warn("overhead budget: %s; no more throttling",
			       strerror(-err));
			o->broken = true;
			k = i;
			break;
		}
	}
	t0 = mono_ns();
	err = toggled ? funcprobe__reattach(o->fp) : 0;
	t1 = mono_ns();
	if (toggled)
		p_info("overhead: %zu functions off or on, probes re-attached in %.1f ms",
		       toggled, (t1 - t0) / 1e6);
	if (err) {
		p_warn("overhead budget: re-attaching failed (%s); no more throttling",
		       strerror(-err));
		o->broken = true;
	}
	/* said once in effect: a call after ts_ns is counted (on) or not
	 * (off), one before t0 the other way (a test's ground truth) */
	for (size_t i = 0; i < k; i++)
		if (o->changes[i].report)
			report_change(o, &o->changes[i], t1);
}

void overhead__update(struct overhead *o, uint64_t now_ns)
{
	uint64_t cpu;

	if (!o || o->broken || now_ns - o->last_ns < OVH_UPDATE_NS)
		return;
	if (cpu_ns_of(o, now_ns, &cpu))
		return;		/* the target is going: the session ends */
	update_at(o, now_ns, cpu);
}

void overhead__last_update(struct overhead *o, uint64_t now_ns,
			   uint64_t cpu_ns)
{
	if (!o || o->broken || now_ns <= o->last_ns)
		return;
	if (cpu_ns == OVH_CPU_READ && cpu_ns_of(o, now_ns, &cpu_ns))
		return;
	update_at(o, now_ns, cpu_ns);
}

int overhead__start(struct session *s, const struct overhead_calls *calls,
		    double max_pct, const struct overhead_keep *keep,
		    struct overhead **out)
{
	const struct overhead_opts o = {
		.max_pct = max_pct > 0 ? max_pct : OVH_DEFAULT_PCT,
		.enforce = max_pct > 0, .sites = s->fp_sites,
		.pid = session__target_pid(s),
		.keep = keep ? *keep : (struct overhead_keep){},
		.bi = s->gb ? gobin__buildinfo(s->gb) : NULL };
	int err;

	err = overhead__new(s->fp, calls, &o, out);
	if (err) {
		if (max_pct > 0)
			return err;
		p_info("no overhead estimate: %s", strerror(-err));
		return 0;
	}
	err = session__add_tick(s, overhead__tick, *out);
	if (err) {
		overhead__free(*out);
		*out = NULL;
	}
	return err;
}

int overhead__parse_pct(const char *arg, double *pct)
{
	char *end;

	errno = 0;
	*pct = strtod(arg, &end);
	if (*end == '%')
		end++;
	if (errno || end == arg || *end || !(*pct > 0) || *pct > 10000) {
		p_err("bad --max-overhead '%s': give a percentage > 0, e.g. 5 (the probes may add 5%% to the program's CPU time)",
		      arg);
		return -EINVAL;
	}
	return 0;
}

void overhead__tick(struct session *s, uint64_t now_ns, void *ctx)
{
	(void)s;
	funcprobe__relink_test(((struct overhead *)ctx)->fp, now_ns);
	overhead__update(ctx, now_ns);
}

bool overhead__sampled(const struct overhead *o, size_t fid,
		       double *coverage)
{
	uint64_t now = mono_ns();

	if (!o || !ovh_gov__was_off(o->gov, fid) || now <= o->start_ns)
		return false;
	*coverage = (double)ovh_gov__on_ns(o->gov, fid, now) /
		    (double)(now - o->start_ns);
	return true;
}

bool overhead__sampled_in_window(const struct overhead *o, size_t fid,
				 uint64_t now_ns, double *coverage)
{
	return o && fid < o->n &&
	       ovh_gov__window_coverage(o->gov, fid, o->win_ns,
					o->win_on[fid], now_ns, coverage);
}

void overhead__mark(struct overhead *o, uint64_t now_ns)
{
	if (!o)
		return;
	for (size_t fid = 0; fid < o->n; fid++)
		o->win_on[fid] = ovh_gov__on_ns(o->gov, fid, now_ns);
	o->win_ns = now_ns;
}

void overhead__set_budget(struct overhead *o, double max_pct)
{
	o->opts.max_pct = max_pct;
	ovh_gov__set_budget(o->gov, max_pct / 100.0);
}

double overhead__estimate(const struct overhead *o)
{
	return ovh_gov__overhead(o->gov);
}

void overhead__report(const struct overhead *o)
{
	size_t off = 0;

	if (!o)
		return;
	for (size_t fid = 0; fid < o->n; fid++)
		off += ovh_gov__was_off(o->gov, fid);
	p_info("overhead: estimated %.1f%% at the end, %.1f%% at the peak (budget %g%%, %s); %zu functions throttled at some point",
	       ovh_gov__overhead(o->gov) * 100,
	       ovh_gov__peak_overhead(o->gov) * 100, o->opts.max_pct,
	       o->opts.enforce ? "enforced" : "warn only", off);
}

double overhead__window_s(const struct overhead *o)
{
	return (o->last_ns - o->start_ns) / 1e9;
}

double overhead__cpu_s(const struct overhead *o)
{
	return (o->last_cpu_ns - o->cpu0_ns) / 1e9;
}

uint64_t overhead__calls(const struct overhead *o, size_t fid)
{
	return fid < o->n ? o->totals[fid] : 0;
}

const struct uprobe_cost *overhead__cost(const struct overhead *o)
{
	return &o->cost;
}
