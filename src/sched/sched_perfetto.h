/* SPDX-License-Identifier: MIT */
/*
 * `gosnoop sched --perfetto FILE`: a Chrome trace-event JSON timeline
 * (opens in ui.perfetto.dev and chrome://tracing). One process per traced
 * process, one track ("thread") per goroutine named "g<goid> <start>", one
 * complete ("X") slice per stay in a state, named by the state or, while
 * waiting, by the wait reason; args carry the state, the reason and the
 * OS thread of the change that began the slice.
 */
#ifndef GOSNOOP_SCHED_PERFETTO_H
#define GOSNOOP_SCHED_PERFETTO_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

struct sched_perfetto;

/* Names the writer needs for a state; the strings must outlive it. */
struct sched_pf_state {
	const char *name;	/* "running", or NULL: no slice (dead, idle) */
	const char *reason;	/* wait reason, or NULL */
};

/* 0 or -errno (after one error line). Times are relative to t0_ns. */
int sched_perfetto__open(const char *path, uint64_t t0_ns,
			 struct sched_perfetto **out);
/*
 * Goroutine (pid, goid) changed to `to` at ts on OS thread tid. On its
 * first change, track_name names its track and `from` (when name != NULL)
 * is what it did since the start of the trace.
 */
void sched_perfetto__change(struct sched_perfetto *pf, __u32 pid, __u64 goid,
			    __u32 tid, uint64_t ts, const char *track_name,
			    struct sched_pf_state from,
			    struct sched_pf_state to);
/*
 * Goroutine (pid, goid) was in `state` from since (the attach, for one the
 * snapshot found) to the end, with no change seen: gets its track and one
 * slice unless a change gave it one already.
 */
void sched_perfetto__unchanged(struct sched_perfetto *pf, __u32 pid,
			       __u64 goid, __u32 tid, uint64_t since,
			       const char *track_name,
			       struct sched_pf_state state);
/* Close the open slices at end_of(pid) (or end_ns) and the file. */
int sched_perfetto__close(struct sched_perfetto *pf, uint64_t end_ns,
			  uint64_t (*end_of)(void *ctx, __u32 pid), void *ctx);
void sched_perfetto__free(struct sched_perfetto *pf);

#endif
