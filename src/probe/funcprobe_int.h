/* SPDX-License-Identifier: MIT */
/*
 * funcprobe's insides, shared by funcprobe.c (plan, sites, classic
 * uprobes, detach) and funcprobe_links.c (what each attach was, its
 * uprobe_multi links by chunk of functions, the subset API: set_off and
 * reattach).
 */
#ifndef GOSNOOP_PROBE_FUNCPROBE_INT_H
#define GOSNOOP_PROBE_FUNCPROBE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "funcprobe.h"

struct bpf_link;

enum fp_mode { FP_MODE_UNSET, FP_MODE_MULTI, FP_MODE_CLASSIC };

struct fp_site {
	uint64_t off;		/* file offset */
	uint64_t vaddr;		/* its address in the file's own layout */
	uint64_t cookie;
};

/* A shared tracefs event (fp_sites.h): its program is on a perf event
 * that fires for no one (gosnoop's own process), target_fd is the perf
 * event that makes its probes fire in the target (funcprobe_attach.c's
 * attach_shared: why two). */
struct fp_shared_event {
	char *name;
	int target_fd;
};

struct funcprobe {
	const struct gobin *gb;
	struct bpf_object *obj;		/* funcprobe__prepare()'s */
	struct funcprobe_opts opts;
	struct fp_func *funcs;
	size_t cnt;
	struct fp_skipped *skipped;
	size_t skipped_cnt;
	/* every name in funcs[] and skipped[], copied: the gobin (and the
	 * file it maps) may go once the probes are attached */
	char **names;
	size_t name_cnt, name_cap;
	enum fp_mode mode;
	struct bpf_link **links;	/* classic uprobes */
	size_t link_cnt;
	struct fp_shared_event *events;	/* removed at detach */
	size_t event_cnt;
	size_t shared_sites, own_sites;	/* classic sites by way of attach */
	/* no bpf_get_attach_cookie here: ip_prog, the by-address twin of the
	 * program given, is loaded and attached instead (fp_sites.h) */
	bool by_ip;
	struct bpf_program *ip_prog;
	bool per_site;		/* never a shared event */
	double attach_ms, detach_ms;
	/* every funcprobe__attach() call, its sites kept (they need the
	 * gobin to build): funcprobe__reattach() replays them without the
	 * functions that are off */
	struct fp_attachment *atts;
	size_t att_cnt;
	bool *off;		/* per fid: left out (funcprobe__set_off) */
	bool *linked_off;	/* per fid: off when its chunk was linked */
	unsigned *chunk_gen;	/* per chunk: FP_SITE_GEN of its links */
	uint32_t *chunk_epoch;	/* per chunk: its moves so far (fp_sites.h) */
	/* GOSNOOP_TEST_RELINK_MS: the last forced re-link, and how many */
	uint64_t test_relink_ns;
	size_t test_relinks;
	double test_relink_ms;
	/* per chunk: a replaced link of it may still be closing (handed
	 * to a closer thread, below): it still counts hits while the
	 * generation is its own, so the chunk is not linked again with
	 * that generation before the closers are joined */
	bool *chunk_closing;
	size_t chunk_links;	/* uprobe_multi links open */
	/* links replaced by reattach, closed on a thread of their own (a
	 * close waits for the kernel's grace periods: ~60 ms a link on a
	 * busy VM; the new links already count): fds gathered, then the
	 * threads that close them, joined at detach */
	int *stale;
	size_t stale_cnt;
	/* fp_gens values (chunk, FP_GEN_*) to write once the stale links
	 * are closed: the end of their chunks' moves */
	uint32_t (*stale_gens)[2];
	size_t stale_gens_cnt;
	pthread_t *closers;
	size_t closer_cnt;
};

/* What one funcprobe__attach() was: its sites (ascending fid), and with
 * uprobe_multi one link per chunk of FP_CHUNK_FUNCS functions, so that
 * reattach rebuilds only the chunks whose functions went off or on. */
struct fp_attachment {
	struct bpf_program *prog;
	char *path;
	pid_t pid;
	struct fp_site *sites;	/* all of them, off or not */
	size_t n;
	size_t *chunk_at;	/* chunk c's sites: [chunk_at[c], [c + 1]) */
	int *fds;		/* chunk c's link, or -1 */
	int gens_fd;		/* the program's fp_gens map, or -1 */
	int offs_fd;		/* its fp_offs map, or -1 */
};

/* funcprobe.c */
int fp_build_sites(const struct funcprobe *fp, unsigned which,
		   struct fp_site **out, size_t *out_cnt);
int fp_attach_error(int err, const char *path, pid_t pid);
/* classic uprobes at s[0..n) */
int fp_attach_sites(struct funcprobe *fp, struct bpf_program *prog,
		    const char *path, pid_t pid, const struct fp_site *s,
		    size_t n);
/* prog's map `name` with at least min entries, as a new fd; or -1 */
int fp_prog_map_fd(const struct funcprobe *fp, struct bpf_program *prog,
		   const char *name, size_t min);

/* funcprobe_links.c */
void fp_close_chunk_links(struct funcprobe *fp);
void fp_join_closers(struct funcprobe *fp);
/* what funcprobe__free() leaves to this file */
void fp_links_free(struct funcprobe *fp);

#endif /* GOSNOOP_PROBE_FUNCPROBE_INT_H */
