// SPDX-License-Identifier: MIT
/*
 * One `gosnoop serve` target: the count functions on the funcs_count
 * program, the latency functions on funcs (or funcs_r14), each planned
 * and attached with funcprobe exactly as `gosnoop count` / `gosnoop
 * latency` do (src/cmd_count.c, src/cmd_latency.c), and left attached
 * until the daemon stops. The counters stay in the kernel; a scrape reads
 * them (per-CPU values summed here).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "pattern.h"
#include "funcs/funcs_latency.h"
#include "serve_config.h"
#include "serve_probes.h"
#include "serve_probes_int.h"
#include "target.h"
#include "probe/funcprobe.h"
#include "bpf/funcs.skel.h"
#include "bpf/funcs_count.skel.h"

_Static_assert(SERVE_MAX_BUCKETS == FP_HIST_SLOTS - 1,
	       "configured buckets fill the BPF histogram's slots but the last");

int serve_tp_plan(struct serve_tp *tp, char **pat, int pat_cnt, bool returns,
		  bool report, struct funcprobe **out)
{
	struct funcprobe_opts fo = { .returns = returns };
	struct patterns pats = {};
	int err;

	err = patterns__init(&pats, pat, pat_cnt);
	if (err)
		return err;
	err = funcprobe__plan(tp->gb, &pats, tp->t.display, &fo, out);
	if (!err && report)
		funcprobe__report_plan(*out, returns ? "latency" : "count");
	patterns__free(&pats);
	return err;
}

static int load_error(int err)
{
	p_load_error("the BPF program", err);
	return err;
}

static int start_count(struct serve_tp *tp, struct serve_unit *u, pid_t pid)
{
	struct funcprobe *fp = u->fp;
	int err;

	u->count_skel = funcs_count_bpf__open();
	if (!u->count_skel) {
		err = -errno;
		p_err("cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	err = bpf_map__set_max_entries(u->count_skel->maps.counts,
				       (__u32)funcprobe__cnt(fp));
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		return err;
	}
	funcprobe__prepare(fp, u->count_skel->obj, u->count_skel->progs.fp_count);
	err = funcs_count_bpf__load(u->count_skel);
	if (err)
		return load_error(err);
	return funcprobe__attach(fp, u->count_skel->progs.fp_count, tp->t.path,
				 pid, FP_SITES_ENTRY);
}

/* Latency: the program flavour funcs_latency__open() picks (R14 or TLS). */
static int start_latency(struct serve_tp *tp, struct serve_unit *u, pid_t pid)
{
	struct funcprobe *fp = u->fp;
	struct funcs_bpf *skel;
	int err;

	err = funcs_latency__open(tp->gb, fp, tp->t.display, &skel, &u->lat_r14);
	if (err)
		return err;
	u->lat_skel = skel;
	/* the kernel sorts durations into the configured bounds itself:
	 * exact, unlike re-bucketing log2 slots */
	skel->rodata->nbounds = (__u32)tp->bucket_cnt;
	memcpy((void *)skel->rodata->bounds, tp->buckets_ns,
	       sizeof(tp->buckets_ns));
	err = bpf_map__set_max_entries(skel->maps.hists,
				       (__u32)funcprobe__cnt(fp));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.goid_hists, 1);
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		return err;
	}
	funcprobe__prepare(fp, skel->obj, skel->progs.fp_latency);
	err = funcs_latency__load(skel, u->lat_r14);
	if (err)
		return load_error(err);
	return funcprobe__attach(fp, skel->progs.fp_latency, tp->t.path, pid,
				 FP_SITES_ENTRY | FP_SITES_RET);
}

void serve_unit_stop(struct serve_unit *u)
{
	funcprobe__detach(u->fp);
	funcprobe__free(u->fp);
	funcs_count_bpf__destroy(u->count_skel);
	funcs_latency__destroy(u->lat_skel, u->lat_r14);
	memset(u, 0, sizeof(*u));
}

/* Load and attach fp (taken over, freed on failure too) as unit u. */
int serve_unit_start(struct serve_tp *tp, enum serve_kind k,
		     struct funcprobe *fp, struct serve_unit *u)
{
	pid_t pid = tp->t.kind == TARGET_PID ? tp->t.pid : 0;
	int err;

	memset(u, 0, sizeof(*u));
	u->fp = fp;
	err = k == SERVE_COUNT ? start_count(tp, u, pid) :
				 start_latency(tp, u, pid);
	if (err)
		serve_unit_stop(u);
	return err;
}

static void units_free(struct serve_units *us)
{
	for (size_t i = 0; i < us->cnt; i++)
		serve_unit_stop(&us->u[i]);
	free(us->u);
	funcprobe__free(us->plan);
	memset(us, 0, sizeof(*us));
}

/* The first units of kind k: every function the patterns name. */
static int units_start(struct serve_tp *tp, enum serve_kind k, char **pat,
		       int pat_cnt)
{
	struct serve_units *us = &tp->units[k];
	struct funcprobe *fp;
	int err;

	err = serve_tp_plan(tp, pat, pat_cnt, k == SERVE_LATENCY, true, &fp);
	if (err)
		return err;
	us->u = calloc(1, sizeof(*us->u));
	if (!us->u) {
		funcprobe__free(fp);
		return -ENOMEM;
	}
	err = serve_unit_start(tp, k, fp, &us->u[0]);
	if (err) {
		free(us->u);
		us->u = NULL;
		return err;
	}
	us->cnt = 1;
	return 0;
}

/* binary="…"[,pid="…"][,name="value"…]: every series of this process. */
static int make_labels(struct serve_tp *tp, const struct serve_target *cfg,
		       pid_t pid)
{
	size_t len = 0;
	FILE *f;

	f = open_memstream(&tp->labels, &len);
	if (!f)
		return -ENOMEM;
	fputs("binary=\"", f);
	serve__put_label_value(f, tp->binary);
	fputc('"', f);
	if (pid)
		fprintf(f, ",pid=\"%d\"", (int)pid);
	for (int i = 0; i < cfg->label_cnt; i++) {
		fprintf(f, ",%s=\"", cfg->labels[i].name);
		serve__put_label_value(f, cfg->labels[i].value);
		fputc('"', f);
	}
	return fclose(f) ? -ENOMEM : 0;
}

int serve_tp__start(const struct serve_target *cfg, pid_t pid,
		    struct gobin *gb, struct serve_tp **out)
{
	struct serve_tp *tp;
	struct stat sb;
	int err;

	*out = NULL;
	tp = calloc(1, sizeof(*tp));
	if (!tp) {
		gobin__free(gb);
		return -ENOMEM;
	}
	tp->gb = gb;
	err = target__resolve(&tp->t, pid ? NULL : cfg->binary, pid);
	if (err)
		goto fail;
	pid = tp->t.kind == TARGET_PID ? tp->t.pid : 0;
	if (!stat(tp->t.path, &sb))
		tp->file = sb;
	memcpy(tp->buckets_ns, cfg->buckets_ns, sizeof(tp->buckets_ns));
	tp->bucket_cnt = cfg->bucket_cnt;
	if (cfg->binary) {
		snprintf(tp->binary, sizeof(tp->binary), "%s", cfg->binary);
	} else {
		/* display is "EXE (PID n)": the label is the EXE */
		char *p;

		snprintf(tp->binary, sizeof(tp->binary), "%s", tp->t.display);
		p = strstr(tp->binary, " (PID ");
		if (p)
			*p = 0;
	}
	err = make_labels(tp, cfg, pid);
	if (err)
		goto fail;
	if (!tp->gb) {
		err = target__open_gobin(&tp->t, &tp->gb);
		if (err)
			goto fail;
	}
	tp->ncpu = libbpf_num_possible_cpus();
	if (tp->ncpu <= 0) {
		p_err("cannot tell the number of CPUs");
		err = tp->ncpu ? tp->ncpu : -EINVAL;
		goto fail;
	}
	tp->cnt_vals = calloc((size_t)tp->ncpu, sizeof(*tp->cnt_vals));
	tp->lat_vals = calloc((size_t)tp->ncpu, sizeof(*tp->lat_vals));
	if (!tp->cnt_vals || !tp->lat_vals) {
		err = -ENOMEM;
		goto fail;
	}
	if (cfg->count_cnt) {
		err = units_start(tp, SERVE_COUNT, cfg->count, cfg->count_cnt);
		if (err)
			goto fail;
	}
	if (cfg->latency_cnt) {
		err = units_start(tp, SERVE_LATENCY, cfg->latency,
				  cfg->latency_cnt);
		if (err)
			goto fail;
	}
	/* Attached: the plans hold copies of the names they show. The
	 * mapping goes too: a deploy that rewrites the file in place would
	 * make a scrape that read it fault (SIGBUS past the new end). */
	gobin__free(tp->gb);
	tp->gb = NULL;
	*out = tp;
	return 0;
fail:
	serve_tp__stop(tp);
	return err;
}

void serve_tp__stop(struct serve_tp *tp)
{
	if (!tp)
		return;
	for (int k = 0; k < SERVE_NKINDS; k++)
		units_free(&tp->units[k]);
	gobin__free(tp->gb);
	free(tp->cnt_vals);
	free(tp->lat_vals);
	free(tp->labels);
	free(tp);
}

const char *serve_tp__labels(const struct serve_tp *tp)
{
	return tp->labels;
}

enum serve_file serve_tp__file_state(const struct serve_tp *tp,
				     const struct stat *now)
{
	const struct stat *was = &tp->file;

	if (now->st_dev != was->st_dev || now->st_ino != was->st_ino)
		return SERVE_FILE_REPLACED;
	if (now->st_size != was->st_size ||
	    now->st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    now->st_mtim.tv_nsec != was->st_mtim.tv_nsec)
		return SERVE_FILE_REWRITTEN;
	return SERVE_FILE_SAME;
}

const uint64_t *serve_tp__buckets(const struct serve_tp *tp, int *cnt)
{
	*cnt = tp->bucket_cnt;
	return tp->buckets_ns;
}

void *serve_tp__ext(const struct serve_tp *tp)
{
	return tp->ext;
}

void serve_tp__set_ext(struct serve_tp *tp, void *ext)
{
	tp->ext = ext;
}

const char *serve_tp__binary(const struct serve_tp *tp)
{
	return tp->binary;
}

pid_t serve_tp__pid(const struct serve_tp *tp)
{
	return tp->t.kind == TARGET_PID ? tp->t.pid : 0;
}

bool serve_tp__has(const struct serve_tp *tp, enum serve_kind kind)
{
	return tp->units[kind].cnt > 0;
}

size_t serve_tp__func_cnt(const struct serve_tp *tp, enum serve_kind kind)
{
	const struct serve_units *us = &tp->units[kind];
	size_t n = 0;

	for (size_t i = 0; i < us->cnt; i++)
		n += funcprobe__cnt(us->u[i].fp);
	return n;
}

/* Function fid of kind (numbered across the units, in order): its unit
 * and its index there, or NULL. */
static struct serve_unit *unit_of(const struct serve_tp *tp,
				  enum serve_kind kind, size_t fid,
				  size_t *local)
{
	const struct serve_units *us = &tp->units[kind];

	for (size_t i = 0; i < us->cnt; i++) {
		size_t n = funcprobe__cnt(us->u[i].fp);

		if (fid < n) {
			*local = fid;
			return &us->u[i];
		}
		fid -= n;
	}
	return NULL;
}

const struct fp_func *serve_tp__func(const struct serve_tp *tp,
				     enum serve_kind kind, size_t fid)
{
	size_t local;
	struct serve_unit *u = unit_of(tp, kind, fid, &local);

	return u ? funcprobe__func(u->fp, local) : NULL;
}

static const struct funcprobe *record_plan(const struct serve_tp *tp,
					   enum serve_kind kind)
{
	const struct serve_units *us = &tp->units[kind];

	return us->plan ? us->plan : us->cnt ? us->u[0].fp : NULL;
}

size_t serve_tp__skipped_cnt(const struct serve_tp *tp, enum serve_kind kind)
{
	const struct funcprobe *fp = record_plan(tp, kind);

	return fp ? funcprobe__skipped_cnt(fp) : 0;
}

const struct fp_skipped *serve_tp__skipped(const struct serve_tp *tp,
					   enum serve_kind kind, size_t i)
{
	return funcprobe__skipped(record_plan(tp, kind), i);
}

int serve_tp__calls(struct serve_tp *tp, size_t fid, uint64_t *calls)
{
	size_t local;
	struct serve_unit *u = unit_of(tp, SERVE_COUNT, fid, &local);
	__u32 key;

	*calls = 0;
	if (!u)
		return -ENOENT;
	key = (__u32)local;
	if (bpf_map_lookup_elem(bpf_map__fd(u->count_skel->maps.counts), &key,
				tp->cnt_vals))
		return -ENOENT;
	for (int c = 0; c < tp->ncpu; c++)
		*calls += tp->cnt_vals[c];
	return 0;
}

int serve_tp__hist(struct serve_tp *tp, size_t fid, struct fp_hist *h)
{
	size_t local;
	struct serve_unit *u = unit_of(tp, SERVE_LATENCY, fid, &local);
	__u32 key;

	memset(h, 0, sizeof(*h));
	if (!u)
		return -ENOENT;
	key = (__u32)local;
	if (bpf_map_lookup_elem(bpf_map__fd(u->lat_skel->maps.hists), &key,
				tp->lat_vals))
		return -ENOENT;
	for (int c = 0; c < tp->ncpu; c++) {
		h->count += tp->lat_vals[c].count;
		h->untimed += tp->lat_vals[c].untimed;
		h->sum_ns += tp->lat_vals[c].sum_ns;
		for (int i = 0; i < FP_HIST_SLOTS; i++)
			h->slots[i] += tp->lat_vals[c].slots[i];
	}
	return 0;
}

unsigned int serve_tp__sweep(struct serve_tp *tp)
{
	const struct serve_units *us = &tp->units[SERVE_LATENCY];
	unsigned int n = 0;

	for (size_t i = 0; i < us->cnt; i++)
		n += funcs_latency__sweep(us->u[i].lat_skel);
	return n;
}

void serve_tp__lat_stats(const struct serve_tp *tp, uint64_t *stats)
{
	const struct serve_units *us = &tp->units[SERVE_LATENCY];

	memset(stats, 0, FP_NSTATS * sizeof(*stats));
	for (size_t i = 0; i < us->cnt; i++)
		for (int s = 0; s < FP_NSTATS; s++)
			stats[s] += us->u[i].lat_skel->bss->stats[s];
}

const char *serve_tp__mode(const struct serve_tp *tp)
{
	for (int k = 0; k < SERVE_NKINDS; k++)
		if (tp->units[k].cnt)
			return funcprobe__mode(tp->units[k].u[0].fp);
	return "none";
}

size_t serve_tp__sites(const struct serve_tp *tp, enum serve_kind kind)
{
	const struct serve_units *us = &tp->units[kind];
	size_t n = 0;

	for (size_t i = 0; i < us->cnt; i++)
		n += funcprobe__site_cnt(us->u[i].fp, kind == SERVE_LATENCY ?
					 FP_SITES_ENTRY | FP_SITES_RET :
					 FP_SITES_ENTRY);
	return n;
}

size_t serve_tp__units(const struct serve_tp *tp, enum serve_kind kind)
{
	return tp->units[kind].cnt;
}
