// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json_writer.h"
#include "sched_perfetto.h"

/* The open slice of one goroutine. */
struct pf_track {
	__u32 pid;
	__u32 tid;
	__u64 goid;
	struct sched_pf_state state;
	uint64_t since;
	bool used;
};

struct sched_perfetto {
	FILE *f;
	char *path;
	struct jw *jw;
	uint64_t t0;
	struct pf_track *tracks;	/* open addressing by (pid, goid) */
	size_t cap, cnt;
};

int sched_perfetto__open(const char *path, uint64_t t0_ns,
			 struct sched_perfetto **out)
{
	struct sched_perfetto *pf = calloc(1, sizeof(*pf));
	int err;

	if (!pf)
		return -ENOMEM;
	pf->t0 = t0_ns;
	pf->path = strdup(path);
	pf->f = fopen(path, "we");
	if (!pf->f) {
		err = -errno;
		p_err("%s: %s", path, strerror(-err));
		sched_perfetto__free(pf);
		return err;
	}
	pf->jw = jw_new(pf->f);
	if (!pf->jw || !pf->path) {
		sched_perfetto__free(pf);
		return -ENOMEM;
	}
	jw_start_object(pf->jw);
	jw_name(pf->jw, "displayTimeUnit");
	jw_string(pf->jw, "ns");
	jw_name(pf->jw, "traceEvents");
	jw_start_array(pf->jw);
	*out = pf;
	return 0;
}

static size_t slot(__u32 pid, __u64 goid, size_t cap)
{
	return (size_t)(goid * 0x9e3779b97f4a7c15ULL + pid) & (cap - 1);
}

static struct pf_track *track(struct sched_perfetto *pf, __u32 pid,
			      __u64 goid, bool *fresh)
{
	size_t i;

	if (pf->cnt * 2 >= pf->cap) {
		size_t cap = pf->cap ? 2 * pf->cap : 1024;
		struct pf_track *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t j = 0; j < pf->cap; j++) {
			if (!pf->tracks[j].used)
				continue;
			i = slot(pf->tracks[j].pid, pf->tracks[j].goid, cap);
			while (t[i].used)
				i = (i + 1) & (cap - 1);
			t[i] = pf->tracks[j];
		}
		free(pf->tracks);
		pf->tracks = t;
		pf->cap = cap;
	}
	i = slot(pid, goid, pf->cap);
	while (pf->tracks[i].used) {
		if (pf->tracks[i].pid == pid && pf->tracks[i].goid == goid) {
			*fresh = false;
			return &pf->tracks[i];
		}
		i = (i + 1) & (pf->cap - 1);
	}
	memset(&pf->tracks[i], 0, sizeof(pf->tracks[i]));
	pf->tracks[i].used = true;
	pf->tracks[i].pid = pid;
	pf->tracks[i].goid = goid;
	pf->cnt++;
	*fresh = true;
	return &pf->tracks[i];
}

/* A complete ("X") event for the stay that ends at end. */
static void slice(struct sched_perfetto *pf, const struct pf_track *t,
		  uint64_t end)
{
	struct jw *jw = pf->jw;

	if (!t->state.name || end < t->since || t->since < pf->t0)
		return;
	jw_start_object(jw);
	jw_name(jw, "ph"); jw_string(jw, "X");
	jw_name(jw, "name");
	jw_string(jw, t->state.reason ? t->state.reason : t->state.name);
	jw_name(jw, "cat"); jw_string(jw, t->state.name);
	jw_name(jw, "pid"); jw_uint(jw, t->pid);
	jw_name(jw, "tid"); jw_uint(jw, t->goid);
	/* whole microseconds from both ends, so that slices of one
	 * goroutine never overlap by a rounding error */
	jw_name(jw, "ts"); jw_uint(jw, (t->since - pf->t0 + 500) / 1000);
	jw_name(jw, "dur");
	jw_uint(jw, (end - pf->t0 + 500) / 1000 - (t->since - pf->t0 + 500) / 1000);
	jw_name(jw, "args");
	jw_start_object(jw);
	jw_name(jw, "state"); jw_string(jw, t->state.name);
	if (t->state.reason) {
		jw_name(jw, "reason"); jw_string(jw, t->state.reason);
	}
	jw_name(jw, "os_tid"); jw_uint(jw, t->tid);
	jw_end_object(jw);
	jw_end_object(jw);
}

/* The metadata event that names a goroutine's track. */
static void track_name_event(struct sched_perfetto *pf, __u32 pid,
			     __u64 goid, const char *track_name)
{
	struct jw *jw = pf->jw;

	jw_start_object(jw);
	jw_name(jw, "ph"); jw_string(jw, "M");
	jw_name(jw, "name"); jw_string(jw, "thread_name");
	jw_name(jw, "pid"); jw_uint(jw, pid);
	jw_name(jw, "tid"); jw_uint(jw, goid);
	jw_name(jw, "args");
	jw_start_object(jw);
	jw_name(jw, "name"); jw_string(jw, track_name);
	jw_end_object(jw);
	jw_end_object(jw);
}

void sched_perfetto__change(struct sched_perfetto *pf, __u32 pid, __u64 goid,
			    __u32 tid, uint64_t ts, const char *track_name,
			    struct sched_pf_state from,
			    struct sched_pf_state to)
{
	struct pf_track *t;
	bool fresh;

	if (ts < pf->t0)
		return;
	t = track(pf, pid, goid, &fresh);
	if (!t)
		return;
	if (fresh) {
		track_name_event(pf, pid, goid, track_name);
		/* what it did before the first change we saw */
		t->state = from;
		t->since = pf->t0;
		t->tid = tid;
	}
	slice(pf, t, ts);
	t->state = to;
	t->since = ts;
	t->tid = tid;
}

void sched_perfetto__unchanged(struct sched_perfetto *pf, __u32 pid,
			       __u64 goid, __u32 tid, uint64_t since,
			       const char *track_name,
			       struct sched_pf_state state)
{
	struct pf_track *t;
	bool fresh;

	t = track(pf, pid, goid, &fresh);
	if (!t || !fresh)
		return;
	track_name_event(pf, pid, goid, track_name);
	t->state = state;
	t->since = since > pf->t0 ? since : pf->t0;
	t->tid = tid;
}

int sched_perfetto__close(struct sched_perfetto *pf, uint64_t end_ns,
			  uint64_t (*end_of)(void *ctx, __u32 pid), void *ctx)
{
	int err = 0;

	for (size_t i = 0; i < pf->cap; i++) {
		struct pf_track *t = &pf->tracks[i];
		uint64_t end = end_ns;

		if (!t->used)
			continue;
		if (end_of && end_of(ctx, t->pid))
			end = end_of(ctx, t->pid);
		slice(pf, t, end);
	}
	jw_end_array(pf->jw);
	jw_end_object(pf->jw);
	jw_free(pf->jw);
	pf->jw = NULL;
	fputc('\n', pf->f);
	if (fclose(pf->f)) {
		err = -errno;
		p_err("%s: %s", pf->path, strerror(-err));
	}
	pf->f = NULL;
	return err;
}

void sched_perfetto__free(struct sched_perfetto *pf)
{
	if (!pf)
		return;
	jw_free(pf->jw);
	if (pf->f)
		fclose(pf->f);
	free(pf->tracks);
	free(pf->path);
	free(pf);
}
