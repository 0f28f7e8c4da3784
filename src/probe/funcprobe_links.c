// SPDX-License-Identifier: MIT
/*
 * funcprobe_links - what each funcprobe__attach() was (its sites, kept:
 * they need the gobin to build), its uprobe_multi links one per chunk of
 * FP_CHUNK_FUNCS functions, and the subset API (funcprobe.h: set_off,
 * reattach): a chunk whose functions went off or on is linked again with
 * the other generation before its old link closes (fp_sites.h), classic
 * uprobes all at once the same way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include <linux/types.h>
#include "bpf/funcs.h"
#include "bpf/fp_sites.h"
#include "funcprobe.h"
#include "funcprobe_int.h"
#include "uprobe_multi.h"

/* One uprobe_multi link of at's program over s[0..n), each cookie with
 * gen. 0 or -errno after one error line. */
static int multi_link(struct funcprobe *fp, const struct fp_attachment *at,
		      const struct fp_site *s, size_t n, unsigned gen, int *fd)
{
	unsigned long *offs = calloc(n ? n : 1, sizeof(*offs));
	__u64 *cookies = calloc(n ? n : 1, sizeof(*cookies));
	uint64_t start = mono_ns();
	int err = -ENOMEM;

	if (!offs || !cookies)
		goto out;
	for (size_t i = 0; i < n; i++) {
		offs[i] = s[i].off;
		cookies[i] = s[i].cookie | gen;
	}
	err = uprobe_multi__attach(bpf_program__fd(at->prog), at->path, offs,
				   cookies, n, at->pid > 0 ? at->pid : 0, fd);
	if (err)
		fp_attach_error(err, at->path, at->pid);
	else
		fp->chunk_links++;
out:
	fp->attach_ms += (mono_ns() - start) / 1e6;
	free(offs);
	free(cookies);
	return err;
}

static size_t chunk_cnt(const struct funcprobe *fp)
{
	return (fp->cnt + FP_CHUNK_FUNCS - 1) >> FP_CHUNK_SHIFT;
}

/* fp_gens[c] = v in every attachment's program (fp_sites.h FP_GEN_*). */
static void gens_set(struct funcprobe *fp, __u32 c, __u32 v)
{
	for (size_t a = 0; a < fp->att_cnt; a++)
		if (fp->atts[a].gens_fd >= 0 &&
		    bpf_map_update_elem(fp->atts[a].gens_fd, &c, &v, BPF_ANY))
			p_warn("cannot switch probe generation: %s",
			       strerror(errno));
}

/* fp_offs[fid] for fid in [from, to): whether it is off in the links
 * about to be attached (fp_sites.h). */
static void offs_set(struct funcprobe *fp, size_t from, size_t to)
{
	for (size_t a = 0; a < fp->att_cnt; a++)
		for (size_t fid = from; fid < to && fid < fp->cnt &&
				       fp->atts[a].offs_fd >= 0; fid++) {
			__u32 k = (__u32)fid, v = funcprobe__is_off(fp, fid);

			bpf_map_update_elem(fp->atts[a].offs_fd, &k, &v,
					    BPF_ANY);
		}
}

/* fp_gens' value of a chunk whose links of generation gen count. */
static __u32 gens_still(unsigned gen)
{
	return gen ? FP_GEN_CUR : 0;
}

/* ... of chunk c while it moves to links of generation to, cur's
 * counting (before the flip: the old generation; after: to). */
static __u32 gens_moving(const struct funcprobe *fp, size_t c, unsigned cur,
			 unsigned to)
{
	return gens_still(cur) | FP_GEN_MOVING | (to ? FP_GEN_NEW : 0) |
	       fp->chunk_epoch[c] << FP_GEN_EPOCH_SHIFT;
}

/* The sites of chunk c in at that are on, into on[]; how many. */
static size_t chunk_sites(const struct funcprobe *fp,
			  const struct fp_attachment *at, size_t c,
			  struct fp_site *on)
{
	size_t k = 0;

	for (size_t i = at->chunk_at[c]; i < at->chunk_at[c + 1]; i++)
		if (!funcprobe__is_off(fp, at->sites[i].cookie & FP_FID_MASK))
			on[k++] = at->sites[i];
	return k;
}

/* Keep what an attach was (takes s): its chunks, and for uprobe_multi
 * the program's fp_gens map. */
static int remember(struct funcprobe *fp, struct bpf_program *prog,
		    const char *path, pid_t pid, struct fp_site *s, size_t n,
		    struct fp_attachment **out)
{
	size_t nc = chunk_cnt(fp), c = 0;
	struct fp_attachment *na, *at;

	na = realloc(fp->atts, (fp->att_cnt + 1) * sizeof(*na));
	if (!na) {
		free(s);
		return -ENOMEM;
	}
	fp->atts = na;
	at = &fp->atts[fp->att_cnt];
	*at = (struct fp_attachment){ .prog = prog, .sites = s, .n = n,
				      .pid = pid, .gens_fd = -1,
				      .offs_fd = -1 };
	at->path = strdup(path);
	at->chunk_at = calloc(nc + 1, sizeof(*at->chunk_at));
	at->fds = malloc((nc ? nc : 1) * sizeof(*at->fds));
	if (!fp->chunk_gen)
		fp->chunk_gen = calloc(nc ? nc : 1, sizeof(*fp->chunk_gen));
	if (!fp->chunk_closing)
		fp->chunk_closing = calloc(nc ? nc : 1,
					   sizeof(*fp->chunk_closing));
	if (!fp->chunk_epoch)
		fp->chunk_epoch = calloc(nc ? nc : 1,
					 sizeof(*fp->chunk_epoch));
	if (!fp->linked_off)
		fp->linked_off = calloc(fp->cnt ? fp->cnt : 1,
					sizeof(*fp->linked_off));
	if (!at->path || !at->chunk_at || !at->fds || !fp->chunk_gen ||
	    !fp->chunk_closing || !fp->chunk_epoch || !fp->linked_off) {
		free(at->path);
		free(at->chunk_at);
		free(at->fds);
		free(s);
		return -ENOMEM;
	}
	/* sites come in ascending fid (build_sites) */
	for (size_t i = 0; i <= n; i++) {
		size_t ci = i < n ? (s[i].cookie & FP_FID_MASK) >>
				    FP_CHUNK_SHIFT : nc;

		while (c < ci && c < nc)
			at->chunk_at[++c] = i;
	}
	for (size_t k = 0; k < nc; k++)
		at->fds[k] = -1;
	if (!fp->by_ip) {
		at->gens_fd = fp_prog_map_fd(fp, prog, FP_GENS_MAP_NAME, nc);
		at->offs_fd = fp_prog_map_fd(fp, prog, FP_OFFS_MAP_NAME,
					     fp->cnt);
	}
	fp->att_cnt++;
	*out = at;
	return 0;
}

/* Attach at's sites that are on: uprobe_multi one link per chunk,
 * classic all at once. */
static int attach_on(struct funcprobe *fp, struct fp_attachment *at)
{
	struct fp_site *on = calloc(at->n ? at->n : 1, sizeof(*on));
	size_t k = 0;
	int err = 0;

	if (!on)
		return -ENOMEM;
	if (fp->mode != FP_MODE_MULTI) {
		for (size_t i = 0; i < at->n; i++) {
			size_t fid = at->sites[i].cookie & FP_FID_MASK;

			if (funcprobe__is_off(fp, fid))
				continue;
			on[k] = at->sites[i];
			on[k++].cookie |= fp->chunk_gen[fid >> FP_CHUNK_SHIFT];
		}
		err = fp_attach_sites(fp, at->prog, at->path, at->pid, on, k);
	}
	for (size_t c = 0; fp->mode == FP_MODE_MULTI && c < chunk_cnt(fp) &&
			   !err; c++) {
		k = chunk_sites(fp, at, c, on);
		if (k)
			err = multi_link(fp, at, on, k, fp->chunk_gen[c],
					 &at->fds[c]);
	}
	free(on);
	for (size_t fid = 0; fid < fp->cnt && !err; fid++)
		fp->linked_off[fid] = funcprobe__is_off(fp, fid);
	return err;
}

int funcprobe__attach(struct funcprobe *fp, struct bpf_program *prog,
		      const char *path, pid_t pid, unsigned which)
{
	struct fp_attachment *at;
	struct fp_site *s = NULL;
	size_t n = 0;
	int err;

	if (fp->by_ip)
		prog = fp->ip_prog;	/* the one loaded (prepare) */
	err = fp_build_sites(fp, which, &s, &n);
	if (!err)
		err = remember(fp, prog, path, pid, s, n, &at);
	if (!err)
		err = attach_on(fp, at);
	return err;
}

int funcprobe__set_off(struct funcprobe *fp, size_t fid, bool off)
{
	if (fid >= fp->cnt)
		return -EINVAL;
	if (!fp->off) {
		if (!off)
			return 0;
		fp->off = calloc(fp->cnt, sizeof(*fp->off));
		if (!fp->off)
			return -ENOMEM;
	}
	fp->off[fid] = off;
	return 0;
}

bool funcprobe__is_off(const struct funcprobe *fp, size_t fid)
{
	return fp->off && fid < fp->cnt && fp->off[fid];
}

void fp_close_chunk_links(struct funcprobe *fp)
{
	for (size_t a = 0; a < fp->att_cnt; a++)
		for (size_t c = 0; c < chunk_cnt(fp); c++)
			if (fp->atts[a].fds[c] >= 0) {
				close(fp->atts[a].fds[c]);
				fp->atts[a].fds[c] = -1;
				fp->chunk_links--;
			}
}

static bool chunk_changed(const struct funcprobe *fp, size_t c)
{
	for (size_t fid = c << FP_CHUNK_SHIFT;
	     fid < fp->cnt && fid < (c + 1) << FP_CHUNK_SHIFT; fid++)
		if (funcprobe__is_off(fp, fid) != fp->linked_off[fid])
			return true;
	return false;
}

/* Keep fd to close later; false when there is no room (close it now). */
static bool stale_add(struct funcprobe *fp, int fd)
{
	int *n = realloc(fp->stale, (fp->stale_cnt + 1) * sizeof(*n));

	if (!n)
		return false;
	fp->stale = n;
	fp->stale[fp->stale_cnt++] = fd;
	return true;
}

/* Write fp_gens[c] = v once the stale links are closed; false when there
 * is no room (then the caller writes it now). */
static bool stale_gens_add(struct funcprobe *fp, __u32 c, __u32 v)
{
	uint32_t (*n)[2] = realloc(fp->stale_gens, (fp->stale_gens_cnt + 1) *
				   sizeof(*n));

	if (!n)
		return false;
	fp->stale_gens = n;
	n[fp->stale_gens_cnt][0] = c;
	n[fp->stale_gens_cnt++][1] = v;
	return true;
}

struct stale_fds {
	int *fds;
	size_t cnt;
	uint32_t (*gens)[2];	/* then these fp_gens writes */
	size_t gens_cnt;
	int *gens_fds;		/* into these maps (open until the join) */
	size_t gens_fd_cnt;
};

static void *close_worker(void *arg)
{
	struct stale_fds *j = arg;

	for (size_t i = 0; i < j->cnt; i++)
		close(j->fds[i]);
	/* the old links are gone: the moves end (no fp_flips records) */
	for (size_t i = 0; i < j->gens_cnt; i++)
		for (size_t m = 0; m < j->gens_fd_cnt; m++)
			bpf_map_update_elem(j->gens_fds[m], &j->gens[i][0],
					    &j->gens[i][1], BPF_ANY);
	free(j->fds);
	free(j->gens);
	free(j->gens_fds);
	free(j);
	return NULL;
}

/* Close the gathered fds on a thread (here, if none can be had), then
 * end their chunks' moves. */
static void close_stale(struct funcprobe *fp)
{
	struct stale_fds *j;
	pthread_t *nt;

	if (!fp->stale_cnt)
		return;
	j = calloc(1, sizeof(*j));
	nt = realloc(fp->closers, (fp->closer_cnt + 1) * sizeof(*nt));
	if (nt)
		fp->closers = nt;
	if (j)
		j->gens_fds = calloc(fp->att_cnt ? fp->att_cnt : 1,
				     sizeof(*j->gens_fds));
	if (!j || !j->gens_fds) {
		for (size_t i = 0; i < fp->stale_cnt; i++)
			close(fp->stale[i]);
		for (size_t i = 0; i < fp->stale_gens_cnt; i++)
			gens_set(fp, fp->stale_gens[i][0],
				 fp->stale_gens[i][1]);
		free(fp->stale);
		free(fp->stale_gens);
		free(j);
		j = NULL;
	} else {
		j->fds = fp->stale;
		j->cnt = fp->stale_cnt;
		j->gens = fp->stale_gens;
		j->gens_cnt = fp->stale_gens_cnt;
		for (size_t a = 0; a < fp->att_cnt; a++)
			if (fp->atts[a].gens_fd >= 0)
				j->gens_fds[j->gens_fd_cnt++] =
					fp->atts[a].gens_fd;
	}
	fp->stale = NULL;
	fp->stale_cnt = 0;
	fp->stale_gens = NULL;
	fp->stale_gens_cnt = 0;
	if (!j)
		return;
	if (!nt || pthread_create(&fp->closers[fp->closer_cnt], NULL,
				  close_worker, j)) {
		close_worker(j);
		return;
	}
	fp->closer_cnt++;
}

void fp_join_closers(struct funcprobe *fp)
{
	for (size_t i = 0; i < fp->closer_cnt; i++)
		pthread_join(fp->closers[i], NULL);
	fp->closer_cnt = 0;
}

/*
 * Chunk c's links again, for every attachment, with the other generation;
 * then the generation flips in each program's fp_gens and the old links
 * close. The chunk moves (fp_sites.h) from before the new links are
 * attached until the old ones are closed. An attachment whose program has
 * no fp_gens closes its old link first (a hit in between is missed, none
 * is counted twice).
 */
static int relink_chunk(struct funcprobe *fp, size_t c, int *nfd,
			struct fp_site *on)
{
	unsigned old = fp->chunk_gen[c], gen = old ^ FP_SITE_GEN;
	bool queued = false;
	int err = 0;

	fp->chunk_epoch[c]++;
	offs_set(fp, c << FP_CHUNK_SHIFT, (c + 1) << FP_CHUNK_SHIFT);
	gens_set(fp, (__u32)c, gens_moving(fp, c, old, gen));
	for (size_t a = 0; a < fp->att_cnt; a++) {
		struct fp_attachment *at = &fp->atts[a];
		size_t k = chunk_sites(fp, at, c, on);

		nfd[a] = -1;
		if (at->gens_fd < 0 && at->fds[c] >= 0) {
			close(at->fds[c]);
			at->fds[c] = -1;
			fp->chunk_links--;
		}
		if (k && !err)
			err = multi_link(fp, at, on, k, gen, &nfd[a]);
	}
	if (!err)	/* the flip */
		gens_set(fp, (__u32)c, gens_moving(fp, c, gen, gen));
	for (size_t a = 0; a < fp->att_cnt; a++) {
		struct fp_attachment *at = &fp->atts[a];
		int *drop = err ? &nfd[a] : &at->fds[c];

		/* on failure the new links go, the old ones stay; the old
		 * ones close later (close_stale) */
		if (*drop >= 0) {
			if (err || !stale_add(fp, *drop))
				close(*drop);
			else
				queued = fp->chunk_closing[c] = true;
			fp->chunk_links--;
		}
		if (!err)
			at->fds[c] = nfd[a];
	}
	/* the move ends when no old link is left */
	if (!queued || !stale_gens_add(fp, (__u32)c,
				       gens_still(err ? old : gen)))
		gens_set(fp, (__u32)c, gens_still(err ? old : gen));
	if (err)
		return err;
	fp->chunk_gen[c] = gen;
	for (size_t fid = c << FP_CHUNK_SHIFT;
	     fid < fp->cnt && fid < (c + 1) << FP_CHUNK_SHIFT; fid++)
		fp->linked_off[fid] = funcprobe__is_off(fp, fid);
	return 0;
}

/* Every attachment's program has fp_gens (not the by-address twins). */
static bool have_gens(const struct funcprobe *fp)
{
	for (size_t a = 0; a < fp->att_cnt; a++)
		if (fp->atts[a].gens_fd < 0)
			return false;
	return fp->att_cnt > 0;
}

/* The classic probes attached: their links and shared events. */
struct classic_set {
	struct bpf_link **links;
	size_t link_cnt;
	struct fp_shared_event *events;
	size_t event_cnt;
};

/* fp's classic probes and *set trade places. */
static void classic_swap(struct funcprobe *fp, struct classic_set *set)
{
	struct classic_set t = { fp->links, fp->link_cnt, fp->events,
				 fp->event_cnt };

	fp->links = set->links;
	fp->link_cnt = set->link_cnt;
	fp->events = set->events;
	fp->event_cnt = set->event_cnt;
	*set = t;
}

/*
 * Classic: the uprobes are attached again without the functions off, all
 * chunks with the other generation, before the old ones are closed (or,
 * without fp_gens, after: a hit in between is missed).
 */
static int reattach_classic(struct funcprobe *fp)
{
	struct classic_set set = { 0 };
	size_t nc = chunk_cnt(fp);
	int err = 0;

	if (!have_gens(fp)) {
		funcprobe__detach(fp);
		for (size_t a = 0; a < fp->att_cnt && !err; a++)
			err = attach_on(fp, &fp->atts[a]);
		return err;
	}
	classic_swap(fp, &set);		/* the old ones aside */
	/* every chunk moves (fp_sites.h) until the old probes are gone */
	offs_set(fp, 0, fp->cnt);
	for (size_t c = 0; c < nc; c++) {
		fp->chunk_epoch[c]++;
		gens_set(fp, (__u32)c, gens_moving(fp, c, fp->chunk_gen[c],
				fp->chunk_gen[c] ^ FP_SITE_GEN));
		fp->chunk_gen[c] ^= FP_SITE_GEN;
	}
	for (size_t a = 0; a < fp->att_cnt && !err; a++)
		err = attach_on(fp, &fp->atts[a]);
	for (__u32 c = 0; c < nc && !err; c++)	/* the flip */
		gens_set(fp, c, gens_moving(fp, c, fp->chunk_gen[c],
					    fp->chunk_gen[c]));
	/* what goes: the new ones on failure (the old ones stay), else the
	 * old ones */
	if (!err)
		classic_swap(fp, &set);
	funcprobe__detach(fp);
	free(fp->links);
	free(fp->events);
	fp->links = NULL;
	fp->events = NULL;
	classic_swap(fp, &set);		/* what stays */
	if (err)
		for (size_t c = 0; c < nc; c++)
			fp->chunk_gen[c] ^= FP_SITE_GEN;
	/* the probes of one generation are left: the moves end */
	for (__u32 c = 0; c < nc; c++)
		gens_set(fp, c, gens_still(fp->chunk_gen[c]));
	return err;
}

/*
 * Bring the probes in line with the functions off: with uprobe_multi only
 * the chunks where something changed (all: every chunk) are linked again
 * (relink_chunk); classic uprobes all at once (reattach_classic).
 */
static int reattach(struct funcprobe *fp, bool all)
{
	struct fp_site *on;
	size_t max = 1;
	int *nfd, err = 0;

	if (fp->mode != FP_MODE_MULTI)
		return reattach_classic(fp);
	for (size_t a = 0; a < fp->att_cnt; a++)
		if (fp->atts[a].n > max)
			max = fp->atts[a].n;
	on = calloc(max, sizeof(*on));
	nfd = calloc(fp->att_cnt ? fp->att_cnt : 1, sizeof(*nfd));
	if (!on || !nfd) {
		free(on);
		free(nfd);
		return -ENOMEM;
	}
	/*
	 * A chunk linked again while the link it replaced last time is still
	 * closing would get that link's generation back: both would count
	 * (seen under qemu: more calls counted than made). Such a chunk
	 * waits for the closers (the close of a link: ms here, up to seconds
	 * on a busy VM); every other chunk's flip needs nothing.
	 */
	for (size_t c = 0; c < chunk_cnt(fp); c++)
		if (fp->chunk_closing && fp->chunk_closing[c] &&
		    (all || chunk_changed(fp, c))) {
			fp_join_closers(fp);
			memset(fp->chunk_closing, 0,
			       chunk_cnt(fp) * sizeof(*fp->chunk_closing));
			break;
		}
	for (size_t c = 0; c < chunk_cnt(fp) && !err; c++)
		if (all || chunk_changed(fp, c))
			err = relink_chunk(fp, c, nfd, on);
	close_stale(fp);
	free(on);
	free(nfd);
	return err;
}

int funcprobe__reattach(struct funcprobe *fp)
{
	return reattach(fp, false);
}

void funcprobe__relink_test(struct funcprobe *fp, uint64_t now_ns)
{
	static long every_ms = -1, for_ms;
	static uint64_t first_ns;
	const char *env;
	char *end;
	int err;

	if (every_ms < 0) {
		env = getenv("GOSNOOP_TEST_RELINK_MS");
		every_ms = env ? strtol(env, &end, 10) : 0;
		for_ms = env && *end == ',' ? strtol(end + 1, NULL, 10) : 0;
		if (every_ms < 0)
			every_ms = 0;
	}
	if (!fp || !every_ms || !fp->att_cnt)
		return;
	if (!first_ns)
		first_ns = now_ns;
	if ((for_ms > 0 && now_ns - first_ns > (uint64_t)for_ms * 1000000) ||
	    now_ns - fp->test_relink_ns < (uint64_t)every_ms * 1000000)
		return;
	fp->test_relink_ns = now_ns;
	err = reattach(fp, true);
	fp->test_relinks++;
	fp->test_relink_ms += (mono_ns() - now_ns) / 1e6;
	if (err) {
		p_warn("GOSNOOP_TEST_RELINK_MS: re-linking failed: %s",
		       strerror(-err));
		every_ms = 0;
	}
}

void fp_links_free(struct funcprobe *fp)
{
	if (fp->test_relinks)
		p_info("GOSNOOP_TEST_RELINK_MS: %zu forced re-links (%.1f ms each)",
		       fp->test_relinks, fp->test_relink_ms /
		       (double)fp->test_relinks);
	for (size_t i = 0; i < fp->att_cnt; i++) {
		free(fp->atts[i].path);
		free(fp->atts[i].sites);
		free(fp->atts[i].chunk_at);
		free(fp->atts[i].fds);
		if (fp->atts[i].gens_fd >= 0)
			close(fp->atts[i].gens_fd);
		if (fp->atts[i].offs_fd >= 0)
			close(fp->atts[i].offs_fd);
	}
	free(fp->atts);
	free(fp->off);
	free(fp->linked_off);
	free(fp->chunk_gen);
	free(fp->chunk_closing);
	free(fp->chunk_epoch);
	free(fp->stale);
	free(fp->stale_gens);
	free(fp->closers);
}
