// SPDX-License-Identifier: MIT
/*
 * One `gosnoop serve` target: the count functions on the funcs_count
 * program, the latency functions on funcs (or funcs_r14), each planned
 * and attached through the session's set-up and tear-down (session.h's
 * session__attach/detach/close) as `gosnoop count` / `gosnoop latency`
 * are (funcs/cmd_count.c, funcs/cmd_latency.c), and left attached until
 * the daemon stops. The counters stay in the kernel; a scrape reads
 * them (per-CPU values summed here).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "overhead.h"
#include "gobin/gobin.h"
#include "pattern.h"
#include "funcs/funcs_count.h"
#include "funcs/funcs_latency.h"
#include "serve_config.h"
#include "serve_probes.h"
#include "serve_text.h"
#include "serve_probes_int.h"
#include "session.h"
#include "target.h"
#include "probe/funcprobe.h"
#include "bpf/funcs.skel.h"
#include "bpf/funcs_count.skel.h"

_Static_assert(SERVE_MAX_BUCKETS == FP_HIST_SLOTS - 1,
	       "configured buckets fill the BPF histogram's slots but the last");

/*
 * The binary read once for many targets: a start-up or reload of 300
 * targets of one file read and decompressed its DWARF 300 times (half of
 * the start-up). Kept only between serve_probes__cache_begin() and _end()
 * (one thread: the starter, or the main thread's reload), so that once
 * attached the daemon still holds no mapping of any file (a file
 * truncated under it cannot fault a scrape).
 */
static struct {
	bool active;
	char path[sizeof(((struct target *)0)->path)];
	struct stat sb;
	struct gobin *gb;
} gb_cache;

void serve_probes__cache_begin(void)
{
	gb_cache.active = true;
}

void serve_probes__cache_end(void)
{
	gobin__free(gb_cache.gb);
	memset(&gb_cache, 0, sizeof(gb_cache));
}

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int serve_probes_open_gobin(struct serve_probes *pr)
{
	struct stat sb;
	int err;

	pr->gb_shared = false;
	if (!gb_cache.active || stat(pr->t.path, &sb))
		return target__open_gobin(&pr->t, &pr->gb);
	if (gb_cache.gb && !strcmp(gb_cache.path, pr->t.path) &&
	    same_version(&gb_cache.sb, &sb)) {
		pr->gb = gb_cache.gb;
		pr->gb_shared = true;
		return 0;
	}
	err = target__open_gobin(&pr->t, &pr->gb);
	if (err)
		return err;
	/* the previous one is no one's now: starts run one at a time */
	gobin__free(gb_cache.gb);
	gb_cache.gb = pr->gb;
	gb_cache.sb = sb;
	snprintf(gb_cache.path, sizeof(gb_cache.path), "%s", pr->t.path);
	pr->gb_shared = true;
	return 0;
}

void serve_probes_close_gobin(struct serve_probes *pr)
{
	if (!pr->gb_shared)
		gobin__free(pr->gb);
	pr->gb = NULL;
	pr->gb_shared = false;
}

int serve_probes_plan(struct serve_probes *pr, char **pat, int pat_cnt, bool returns,
		  bool report, struct funcprobe **out)
{
	struct funcprobe_opts fo = { .returns = returns };
	struct patterns pats = {};
	int err;

	err = patterns__init(&pats, pat, pat_cnt);
	if (err)
		return err;
	err = funcprobe__plan(pr->gb, &pats, pr->t.display, &fo, out);
	if (!err && report)
		funcprobe__report_plan(*out, returns ? "latency" : "count");
	patterns__free(&pats);
	return err;
}

/*
 * A unit's set-up and tear-down are the session's (session.h):
 * session__attach() from the plan and the binary serve has, with these
 * callbacks, s->ctx a struct unit_ctx; the daemon's loop is its own.
 */
struct unit_ctx {
	struct serve_probes *pr;	/* NULL when stopping */
	struct serve_unit *u;
};

/* Count: the funcs_count program, a host's slots in its maps. */
static int configure_count(struct session *s)
{
	struct unit_ctx *c = s->ctx;
	struct serve_unit *u = c->u;
	int err;

	err = funcs_count__open_slots(funcprobe__cnt(s->fp), c->pr->slots_cap,
				      c->pr->slots_fd, &u->count_skel);
	if (err)
		return err;
	s->obj = u->count_skel->obj;
	s->prog = u->count_skel->progs.fp_count;
	return 0;
}

static int load_count(struct session *s)
{
	struct unit_ctx *c = s->ctx;
	int err = funcs_count__load(c->u->count_skel);

	if (err)
		p_load_error("the BPF program", err);
	return err;
}

/* Latency: the program flavour funcs_latency__open() picks (R14 or TLS). */
static int configure_latency(struct session *s)
{
	struct unit_ctx *c = s->ctx;
	struct serve_probes *pr = c->pr;
	struct serve_unit *u = c->u;
	size_t n = funcprobe__cnt(s->fp);
	struct funcs_bpf *skel;
	int err;

	err = funcs_latency__open(s->gb, s->fp, s->t->display, &skel,
				  &u->lat_r14);
	if (err)
		return err;
	u->lat_skel = skel;
	/* the kernel sorts durations into the configured bounds itself:
	 * exact, unlike re-bucketing log2 slots */
	skel->rodata->nbounds = (__u32)pr->bucket_cnt;
	memcpy((void *)skel->rodata->bounds, pr->buckets_ns,
	       sizeof(pr->buckets_ns));
	err = bpf_map__set_max_entries(skel->maps.hists, (__u32)n *
				       (pr->slots_cap ? pr->slots_cap : 1));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.goid_hists, 1);
	if (!err && pr->slots_cap) {
		skel->rodata->by_slot = true;
		skel->rodata->nfuncs = (__u32)n;
		err = bpf_map__reuse_fd(skel->maps.slots, pr->slots_fd);
	}
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		return err;
	}
	s->obj = skel->obj;
	s->prog = skel->progs.fp_latency;
	return 0;
}

static int load_latency(struct session *s)
{
	struct unit_ctx *c = s->ctx;
	int err = funcs_latency__load(c->u->lat_skel, c->u->lat_r14);

	if (err)
		p_load_error("the BPF program", err);
	return err;
}

/* Either kind's skeleton (the other is NULL). */
static void destroy_unit(struct session *s)
{
	struct unit_ctx *c = s->ctx;

	funcs_count_bpf__destroy(c->u->count_skel);
	funcs_latency__destroy(c->u->lat_skel, c->u->lat_r14);
	c->u->count_skel = NULL;
	c->u->lat_skel = NULL;
}

static const struct session_ops unit_ops[SERVE_NKINDS] = {
	[SERVE_COUNT] = { .verb = "count", .configure = configure_count,
			  .load = load_count, .destroy = destroy_unit },
	[SERVE_LATENCY] = { .verb = "latency",
			    .configure = configure_latency,
			    .load = load_latency, .destroy = destroy_unit },
};

void serve_unit_stop(struct serve_unit *u)
{
	struct unit_ctx c = { .u = u };
	struct session s = { .ops = &unit_ops[SERVE_COUNT], .ctx = &c,
			     .fp = u->fp };

	overhead__free(u->ovh);
	free(u->off);
	session__detach(&s);	/* the probes off */
	session__close(&s);	/* u->fp and the skeleton freed */
	memset(u, 0, sizeof(*u));
}

/* Load and attach fp (taken over, freed on failure too) as unit u. */
int serve_unit_start(struct serve_probes *pr, enum serve_kind k,
		     struct funcprobe *fp, struct serve_unit *u)
{
	static uint64_t serials;
	struct unit_ctx c = { .pr = pr, .u = u };
	struct session s = {
		.ops = &unit_ops[k], .ctx = &c, .t = &pr->t, .gb = pr->gb,
		.fp = fp,
		.fp_sites = k == SERVE_LATENCY ? FP_SITES_ENTRY | FP_SITES_RET
					       : FP_SITES_ENTRY,
		.attach_pid = serve_units_pid(pr),
	};
	int err;

	memset(u, 0, sizeof(*u));
	u->fp = fp;
	u->serial = ++serials;
	err = session__attach(&s);
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

static int units_start_planned(struct serve_probes *pr, enum serve_kind k,
			       struct funcprobe *fp);

/* The first units of kind k: every function the patterns name. */
static int units_start(struct serve_probes *pr, enum serve_kind k, char **pat,
		       int pat_cnt)
{
	struct funcprobe *fp;
	int err;

	err = serve_probes_plan(pr, pat, pat_cnt, k == SERVE_LATENCY, true, &fp);
	if (err)
		return err;
	return units_start_planned(pr, k, fp);
}

/* Kind k's first unit: fp (taken over). */
static int units_start_planned(struct serve_probes *pr, enum serve_kind k,
			       struct funcprobe *fp)
{
	struct serve_units *us = &pr->units[k];
	int err;

	us->u = calloc(1, sizeof(*us->u));
	if (!us->u) {
		funcprobe__free(fp);
		return -ENOMEM;
	}
	err = serve_unit_start(pr, k, fp, &us->u[0]);
	if (err) {
		free(us->u);
		us->u = NULL;
		return err;
	}
	us->cnt = 1;
	return 0;
}

/* binary="…"[,pid="…"][,name="value"…]: every series of this process. */
static int make_labels(struct serve_probes *pr, const struct serve_target *cfg,
		       pid_t pid)
{
	size_t len = 0;
	FILE *f;

	f = open_memstream(&pr->labels, &len);
	if (!f)
		return -ENOMEM;
	fputs("binary=\"", f);
	serve__put_label_value(f, pr->binary);
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

/*
 * A new serve_probes, owner of gb from here on (freed here when there is
 * no memory), into *out: the target resolved (path, or pid when path is
 * NULL), its file's identity, the binary label (label, or the EXE of
 * display's "EXE (PID n)"), cfg's buckets. 0 or -errno; on an error after
 * the allocation *out is set, for the caller's serve_probes__stop.
 */
static int probes_new(const struct serve_target *cfg, const char *path,
		      pid_t pid, const char *label, struct gobin *gb,
		      struct serve_probes **out)
{
	struct serve_probes *pr = calloc(1, sizeof(*pr));
	char *p;
	int err;

	*out = pr;
	if (!pr) {
		gobin__free(gb);
		return -ENOMEM;
	}
	pr->gb = gb;
	pr->file_fd = -1;
	pr->slots_fd = -1;
	err = target__resolve(&pr->t, path, pid);
	if (err)
		return err;
	if (stat(pr->t.path, &pr->file))
		memset(&pr->file, 0, sizeof(pr->file));
	memcpy(pr->buckets_ns, cfg->buckets_ns, sizeof(pr->buckets_ns));
	pr->bucket_cnt = cfg->bucket_cnt;
	snprintf(pr->binary, sizeof(pr->binary), "%s",
		 label ? label : pr->t.display);
	if (!label && (p = strstr(pr->binary, " (PID ")))
		*p = 0;
	return 0;
}

/* The per-CPU buffers a scrape reads the maps into. 0 or -errno. */
static int alloc_vals(struct serve_probes *pr)
{
	pr->ncpu = libbpf_num_possible_cpus();
	if (pr->ncpu <= 0) {
		p_err("cannot tell the number of CPUs");
		return pr->ncpu ? pr->ncpu : -EINVAL;
	}
	pr->cnt_vals = calloc((size_t)pr->ncpu, sizeof(*pr->cnt_vals));
	pr->lat_vals = calloc((size_t)pr->ncpu, sizeof(*pr->lat_vals));
	return pr->cnt_vals && pr->lat_vals ? 0 : -ENOMEM;
}

int serve_probes__start(const struct serve_target *cfg, pid_t pid,
		    struct gobin *gb, struct serve_probes **out)
{
	struct serve_probes *pr;
	int err;

	*out = NULL;
	err = probes_new(cfg, pid ? NULL : cfg->binary, pid, cfg->binary, gb,
			 &pr);
	if (!pr)
		return err;
	if (err)
		goto fail;
	pid = pr->t.kind == TARGET_PID ? pr->t.pid : 0;
	err = make_labels(pr, cfg, pid);
	if (err)
		goto fail;
	if (!pr->gb) {
		err = serve_probes_open_gobin(pr);
		if (err)
			goto fail;
	}
	err = alloc_vals(pr);
	if (err)
		goto fail;
	if (cfg->count_cnt) {
		err = units_start(pr, SERVE_COUNT, cfg->count, cfg->count_cnt);
		if (err)
			goto fail;
	}
	if (cfg->latency_cnt) {
		err = units_start(pr, SERVE_LATENCY, cfg->latency,
				  cfg->latency_cnt);
		if (err)
			goto fail;
	}
	/* Attached: the plans hold copies of the names they show. The
	 * mapping goes too: a deploy that rewrites the file in place would
	 * make a scrape that read it fault (SIGBUS past the new end). */
	serve_probes_close_gobin(pr);
	pr->gb = NULL;
	*out = pr;
	return 0;
fail:
	serve_probes__stop(pr);
	return err;
}

/*
 * A comm: target's shared links (serve_probes_int.h). Their maps hold
 * every slot's counters from the start (per-CPU arrays are allocated
 * whole), so a host's slots are bounded by memory as well as
 * FP_MAX_SLOTS: SERVE_SHARED_BYTES at most; fewer than
 * SERVE_SHARED_MIN slots and sharing is not worth it (-E2BIG: the
 * caller probes each process on its own, as before).
 */
#define SERVE_SHARED_BYTES	(64u << 20)
#define SERVE_SHARED_MIN	8u
/* want_slots 0, the first host of a file: as many as fit in
 * SERVE_SHARED_FIRST_BYTES (one process needs its slot whatever the
 * design: today's per-process maps were as big), at least
 * SERVE_SHARED_FIRST_MIN; later hosts double (serve_targets.c) */
#define SERVE_SHARED_FIRST_BYTES (4u << 20)
#define SERVE_SHARED_FIRST_MIN	64u

int serve_probes__host_start(const struct serve_target *cfg, pid_t pid,
			     struct gobin *gb, unsigned want_slots,
			     struct serve_probes **out)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	struct funcprobe *fps[SERVE_NKINDS] = {};
	struct serve_probes *pr;
	size_t per_slot = 0, most = 1;
	unsigned cap;
	int err;

	*out = NULL;
	err = probes_new(cfg, NULL, pid, NULL, gb, &pr);
	if (!pr)
		return err;
	if (!err && !pr->gb)
		err = serve_probes_open_gobin(pr);
	if (err)
		goto fail;
	/* the links, a reload's plans and the budget's re-attaches name the
	 * file through this fd: the first process's /proc/PID/root/EXE goes
	 * with it */
	pr->file_fd = open(pr->t.path, O_PATH | O_CLOEXEC);
	if (pr->file_fd < 0) {
		err = -errno;
		p_err("%s: %s", pr->t.display, strerror(-err));
		goto fail;
	}
	snprintf(pr->t.path, sizeof(pr->t.path), "/proc/self/fd/%d", pr->file_fd);
	err = alloc_vals(pr);
	if (err)
		goto fail;
	if (cfg->count_cnt) {
		err = serve_probes_plan(pr, cfg->count, cfg->count_cnt, false, true,
				    &fps[SERVE_COUNT]);
		if (err)
			goto fail;
		per_slot += funcprobe__cnt(fps[SERVE_COUNT]) * sizeof(__u64);
		most = funcprobe__cnt(fps[SERVE_COUNT]);
	}
	if (cfg->latency_cnt) {
		err = serve_probes_plan(pr, cfg->latency, cfg->latency_cnt, true,
				    true, &fps[SERVE_LATENCY]);
		if (err)
			goto fail;
		per_slot += funcprobe__cnt(fps[SERVE_LATENCY]) * sizeof(struct fp_hist);
		if (funcprobe__cnt(fps[SERVE_LATENCY]) > most)
			most = funcprobe__cnt(fps[SERVE_LATENCY]);
	}
	per_slot *= (size_t)pr->ncpu;
	if (!want_slots) {
		size_t fit = per_slot ? SERVE_SHARED_FIRST_BYTES / per_slot :
					FP_MAX_SLOTS;

		want_slots = fit < SERVE_SHARED_FIRST_MIN ? SERVE_SHARED_FIRST_MIN :
			     fit > FP_MAX_SLOTS ? FP_MAX_SLOTS : (unsigned)fit;
	}
	cap = want_slots < FP_MAX_SLOTS ? want_slots : FP_MAX_SLOTS;
	if (per_slot && SERVE_SHARED_BYTES / per_slot < cap)
		cap = (unsigned)(SERVE_SHARED_BYTES / per_slot);
	/* keys fid + slot * nfuncs stay function ids (FP_FID_BITS) */
	if (FP_MAX_FUNCS / most < cap)
		cap = (unsigned)(FP_MAX_FUNCS / most);
	if (cap < SERVE_SHARED_MIN) {
		err = -E2BIG;
		goto fail;
	}
	pr->slots_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "serve_slots",
				      sizeof(__u32), sizeof(__u32), cap, &mo);
	if (pr->slots_fd < 0) {
		err = -errno;
		p_err("cannot create the BPF slots map: %s", strerror(-err));
		goto fail;
	}
	pr->slot_used = calloc(cap, sizeof(*pr->slot_used));
	if (!pr->slot_used) {
		close(pr->slots_fd);
		pr->slots_fd = -1;
		err = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&pr->slot_lock, NULL);
	pr->slots_cap = cap;
	for (int k = 0; k < SERVE_NKINDS; k++) {
		if (!fps[k])
			continue;
		err = units_start_planned(pr, k, fps[k]);
		fps[k] = NULL;
		if (err)
			goto fail;
	}
	serve_probes_close_gobin(pr);
	*out = pr;
	return 0;
fail:
	for (int k = 0; k < SERVE_NKINDS; k++)
		funcprobe__free(fps[k]);
	serve_probes__stop(pr);
	return err;
}

/* What member pr's slot holds in unit u now: its baseline there. */
static int take_base(struct serve_probes *pr, enum serve_kind k,
		     const struct serve_unit *u, struct serve_base *b)
{
	size_t n = funcprobe__cnt(u->fp);
	int fd = k == SERVE_COUNT ? bpf_map__fd(u->count_skel->maps.counts) :
				    bpf_map__fd(u->lat_skel->maps.hists);

	b->serial = u->serial;
	b->cnt = n;
	if (k == SERVE_COUNT)
		b->calls = calloc(n, sizeof(*b->calls));
	else
		b->hists = calloc(n, sizeof(*b->hists));
	if (!b->calls && !b->hists)
		return -ENOMEM;
	for (size_t f = 0; f < n; f++) {
		__u32 key = (__u32)(f + pr->slot * n);

		if (k == SERVE_COUNT) {
			if (bpf_map_lookup_elem(fd, &key, pr->cnt_vals))
				return -errno;
			for (int c = 0; c < pr->ncpu; c++)
				b->calls[f] += pr->cnt_vals[c];
			continue;
		}
		if (bpf_map_lookup_elem(fd, &key, pr->lat_vals))
			return -errno;
		for (int c = 0; c < pr->ncpu; c++) {
			const struct fp_hist *v = &pr->lat_vals[c];

			b->hists[f].count += v->count;
			b->hists[f].untimed += v->untimed;
			b->hists[f].sum_ns += v->sum_ns;
			for (int i = 0; i < FP_HIST_SLOTS; i++)
				b->hists[f].slots[i] += v->slots[i];
		}
	}
	return 0;
}

int serve_probes__join(struct serve_probes *host, const struct serve_target *cfg,
		       pid_t pid, struct serve_probes **out)
{
	struct serve_probes *pr;
	size_t nb = 0;
	__u32 tgid;
	unsigned slot;
	int err;

	*out = NULL;
	pthread_mutex_lock(&host->slot_lock);
	for (slot = 0; slot < host->slots_cap && host->slot_used[slot]; slot++)
		;
	if (slot < host->slots_cap) {
		host->slot_used[slot] = true;
		host->members++;
		if (slot >= host->slots_high)
			host->slots_high = slot + 1;
	}
	pthread_mutex_unlock(&host->slot_lock);
	if (slot == host->slots_cap)
		return -ENOSPC;
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		pthread_mutex_lock(&host->slot_lock);
		host->slot_used[slot] = false;
		host->members--;
		pthread_mutex_unlock(&host->slot_lock);
		return -ENOMEM;
	}
	pr->host = host;
	pr->slot = slot;
	pr->file_fd = -1;
	err = target__resolve(&pr->t, NULL, pid);
	if (err) {
		pr->t.pid = 0;	/* nothing of it in the slots map */
		goto fail;
	}
	if (stat(pr->t.path, &pr->file))
		memset(&pr->file, 0, sizeof(pr->file));
	memcpy(pr->buckets_ns, cfg->buckets_ns, sizeof(pr->buckets_ns));
	pr->bucket_cnt = cfg->bucket_cnt;
	snprintf(pr->binary, sizeof(pr->binary), "%s", pr->t.display);
	if (strstr(pr->binary, " (PID "))
		*strstr(pr->binary, " (PID ") = 0;
	err = make_labels(pr, cfg, pr->t.pid);
	if (err)
		goto fail;
	pr->ncpu = host->ncpu;
	pr->cnt_vals = calloc((size_t)pr->ncpu, sizeof(*pr->cnt_vals));
	pr->lat_vals = calloc((size_t)pr->ncpu, sizeof(*pr->lat_vals));
	err = -ENOMEM;
	if (!pr->cnt_vals || !pr->lat_vals)
		goto fail;
	for (int k = 0; k < SERVE_NKINDS; k++)
		nb += host->units[k].cnt;
	pr->bases = calloc(nb ? nb : 1, sizeof(*pr->bases));
	if (!pr->bases)
		goto fail;
	for (int k = 0; k < SERVE_NKINDS; k++)
		for (size_t i = 0; i < host->units[k].cnt; i++) {
			err = take_base(pr, k, &host->units[k].u[i],
					&pr->bases[pr->base_cnt++]);
			if (err)
				goto fail;
		}
	/* from here its hits count */
	tgid = (__u32)pr->t.pid;
	if (bpf_map_update_elem(host->slots_fd, &tgid, &slot, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	*out = pr;
	return 0;
fail:
	serve_probes__stop(pr);
	return err;
}

struct serve_probes *serve_probes__host(const struct serve_probes *pr)
{
	return pr->host;
}

unsigned serve_probes__host_members(const struct serve_probes *host,
				    unsigned *slots)
{
	*slots = host->slots_cap;
	return host->members;
}

/* Member pr's baseline in unit u (NULL: the unit came after it joined:
 * everything in its slot there is its own). */
static const struct serve_base *base_of(const struct serve_probes *pr,
					const struct serve_unit *u)
{
	for (size_t i = 0; i < pr->base_cnt; i++)
		if (pr->bases[i].serial == u->serial)
			return &pr->bases[i];
	return NULL;
}

/* A member leaves: its process out of the slots map (unless a new
 * process with its PID has its own slot there now), its slot free. */
static void member_leave(struct serve_probes *pr)
{
	struct serve_probes *host = pr->host;
	__u32 tgid = (__u32)pr->t.pid, slot;

	if (!bpf_map_lookup_elem(host->slots_fd, &tgid, &slot) &&
	    slot == pr->slot)
		bpf_map_delete_elem(host->slots_fd, &tgid);
	for (size_t i = 0; i < pr->base_cnt; i++) {
		free(pr->bases[i].calls);
		free(pr->bases[i].hists);
	}
	free(pr->bases);
	pthread_mutex_lock(&host->slot_lock);
	host->slot_used[pr->slot] = false;
	host->members--;
	pthread_mutex_unlock(&host->slot_lock);
}

void serve_probes__stop(struct serve_probes *pr)
{
	if (!pr)
		return;
	if (pr->host)
		member_leave(pr);
	for (int k = 0; k < SERVE_NKINDS; k++)
		units_free(&pr->units[k]);
	if (pr->slots_cap) {
		close(pr->slots_fd);
		free(pr->slot_used);
		pthread_mutex_destroy(&pr->slot_lock);
	}
	if (pr->file_fd > 0)
		close(pr->file_fd);
	serve_probes_close_gobin(pr);
	free(pr->cnt_vals);
	free(pr->lat_vals);
	free(pr->labels);
	free(pr);
}

const char *serve_probes__labels(const struct serve_probes *pr)
{
	return pr->labels;
}

enum serve_file serve_probes__file_state(const struct serve_probes *pr,
				     const struct stat *now)
{
	const struct stat *was = &pr->file;

	if (now->st_dev != was->st_dev || now->st_ino != was->st_ino)
		return SERVE_FILE_REPLACED;
	if (now->st_size != was->st_size ||
	    now->st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    now->st_mtim.tv_nsec != was->st_mtim.tv_nsec)
		return SERVE_FILE_REWRITTEN;
	return SERVE_FILE_SAME;
}

const uint64_t *serve_probes__buckets(const struct serve_probes *pr, int *cnt)
{
	*cnt = pr->bucket_cnt;
	return pr->buckets_ns;
}

void *serve_probes__ext(const struct serve_probes *pr)
{
	return pr->ext;
}

void serve_probes__set_ext(struct serve_probes *pr, void *ext)
{
	pr->ext = ext;
}

const char *serve_probes__binary(const struct serve_probes *pr)
{
	return pr->binary;
}

pid_t serve_probes__pid(const struct serve_probes *pr)
{
	return pr->t.kind == TARGET_PID ? pr->t.pid : 0;
}

bool serve_probes__has(const struct serve_probes *pr, enum serve_kind kind)
{
	return serve_units_of(pr, kind)->cnt > 0;
}

size_t serve_probes__func_cnt(const struct serve_probes *pr, enum serve_kind kind)
{
	const struct serve_units *us = serve_units_of(pr, kind);
	size_t n = 0;

	for (size_t i = 0; i < us->cnt; i++)
		n += funcprobe__cnt(us->u[i].fp) - us->u[i].off_cnt;
	return n;
}

/* Function fid of kind (numbered across the units, in order): its unit
 * and its index there, or NULL. */
static struct serve_unit *unit_of(const struct serve_probes *pr,
				  enum serve_kind kind, size_t fid,
				  size_t *local)
{
	const struct serve_units *us = serve_units_of(pr, kind);

	for (size_t i = 0; i < us->cnt; i++) {
		const struct serve_unit *u = &us->u[i];
		size_t n = funcprobe__cnt(u->fp) - u->off_cnt;

		if (fid >= n) {
			fid -= n;
			continue;
		}
		if (!u->off_cnt) {
			*local = fid;
			return &us->u[i];
		}
		/* the fid-th function that is not off */
		for (size_t f = 0; f < funcprobe__cnt(u->fp); f++) {
			if (u->off_cnt && u->off[f])
				continue;
			if (!fid--) {
				*local = f;
				return &us->u[i];
			}
		}
		return NULL;
	}
	return NULL;
}

const struct fp_func *serve_probes__func(const struct serve_probes *pr,
				     enum serve_kind kind, size_t fid)
{
	size_t local;
	struct serve_unit *u = unit_of(pr, kind, fid, &local);

	return u ? funcprobe__func(u->fp, local) : NULL;
}

static const struct funcprobe *record_plan(const struct serve_probes *pr,
					   enum serve_kind kind)
{
	const struct serve_units *us = serve_units_of(pr, kind);

	return us->plan ? us->plan : us->cnt ? us->u[0].fp : NULL;
}

size_t serve_probes__skipped_cnt(const struct serve_probes *pr, enum serve_kind kind)
{
	const struct funcprobe *fp = record_plan(pr, kind);

	return fp ? funcprobe__skipped_cnt(fp) : 0;
}

const struct fp_skipped *serve_probes__skipped(const struct serve_probes *pr,
					   enum serve_kind kind, size_t i)
{
	return funcprobe__skipped(record_plan(pr, kind), i);
}

int serve_probes__calls(struct serve_probes *pr, size_t fid, uint64_t *calls)
{
	size_t local;
	struct serve_unit *u = unit_of(pr, SERVE_COUNT, fid, &local);
	__u32 key;

	*calls = 0;
	if (!u)
		return -ENOENT;
	key = (__u32)(local + pr->slot * funcprobe__cnt(u->fp));
	if (bpf_map_lookup_elem(bpf_map__fd(u->count_skel->maps.counts), &key,
				pr->cnt_vals))
		return -ENOENT;
	for (int c = 0; c < pr->ncpu; c++)
		*calls += pr->cnt_vals[c];
	if (pr->host) {
		const struct serve_base *b = base_of(pr, u);

		if (b && b->calls && local < b->cnt)
			*calls -= b->calls[local];
	}
	return 0;
}

int serve_probes__hist(struct serve_probes *pr, size_t fid, struct fp_hist *h)
{
	size_t local;
	struct serve_unit *u = unit_of(pr, SERVE_LATENCY, fid, &local);
	__u32 key;

	memset(h, 0, sizeof(*h));
	if (!u)
		return -ENOENT;
	key = (__u32)(local + pr->slot * funcprobe__cnt(u->fp));
	if (bpf_map_lookup_elem(bpf_map__fd(u->lat_skel->maps.hists), &key,
				pr->lat_vals))
		return -ENOENT;
	for (int c = 0; c < pr->ncpu; c++) {
		h->count += pr->lat_vals[c].count;
		h->untimed += pr->lat_vals[c].untimed;
		h->sum_ns += pr->lat_vals[c].sum_ns;
		for (int i = 0; i < FP_HIST_SLOTS; i++)
			h->slots[i] += pr->lat_vals[c].slots[i];
	}
	if (pr->host) {
		const struct serve_base *b = base_of(pr, u);

		if (b && b->hists && local < b->cnt) {
			const struct fp_hist *was = &b->hists[local];

			h->count -= was->count;
			h->untimed -= was->untimed;
			h->sum_ns -= was->sum_ns;
			for (int i = 0; i < FP_HIST_SLOTS; i++)
				h->slots[i] -= was->slots[i];
		}
	}
	return 0;
}

unsigned int serve_probes__sweep(struct serve_probes *pr)
{
	/* a member's stacks are its host's: swept once, for all */
	const struct serve_units *us = &pr->units[SERVE_LATENCY];
	unsigned int n = 0;

	for (size_t i = 0; i < us->cnt; i++)
		n += funcs_latency__sweep(us->u[i].lat_skel);
	return n;
}

void serve_probes__lat_stats(const struct serve_probes *pr, uint64_t *stats)
{
	const struct serve_units *us = serve_units_of(pr, SERVE_LATENCY);

	memset(stats, 0, FP_NSTATS * sizeof(*stats));
	for (size_t i = 0; i < us->cnt; i++)
		for (int s = 0; s < FP_NSTATS; s++)
			stats[s] += us->u[i].lat_skel->bss->stats[s];
}

const char *serve_probes__mode(const struct serve_probes *pr)
{
	for (int k = 0; k < SERVE_NKINDS; k++)
		if (serve_units_of(pr, k)->cnt)
			return funcprobe__mode(serve_units_of(pr, k)->u[0].fp);
	return "none";
}

size_t serve_probes__sites(const struct serve_probes *pr, enum serve_kind kind)
{
	const struct serve_units *us = serve_units_of(pr, kind);
	size_t n = 0;

	for (size_t i = 0; i < us->cnt; i++) {
		const struct serve_unit *u = &us->u[i];

		n += funcprobe__site_cnt(u->fp, kind == SERVE_LATENCY ?
					 FP_SITES_ENTRY | FP_SITES_RET :
					 FP_SITES_ENTRY);
		/* less those of functions a reload left out: an entry each,
		 * and the RETs for latency */
		for (size_t f = 0; u->off_cnt && f < funcprobe__cnt(u->fp); f++)
			if (u->off[f])
				n -= 1 + (kind == SERVE_LATENCY ?
					  funcprobe__func(u->fp, f)->ret_cnt : 0);
	}
	return n;
}

size_t serve_probes__units(const struct serve_probes *pr, enum serve_kind kind)
{
	return serve_units_of(pr, kind)->cnt;
}
