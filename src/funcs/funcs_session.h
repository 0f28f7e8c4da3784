/* SPDX-License-Identifier: MIT */
/*
 * What `gosnoop count` and `gosnoop latency` share: options, target, plan
 * (funcprobe), loading the command's BPF object, launching -- CMD,
 * the wait loop with -d/-i, detaching. Each command brings its program
 * and its printer.
 */
#ifndef GOSNOOP_FUNCS_SESSION_H
#define GOSNOOP_FUNCS_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "funcs_count.h"	/* count's program: count and cost */
#include "overhead.h"
#include "target.h"

struct bpf_object;
struct bpf_program;
struct funcprobe;
struct gobin;

struct funcs_cli {
	struct target t;
	pid_t pid;
	const char *path_arg;
	char **pats;
	int pat_cnt;
	double duration;	/* -d, seconds; 0: until Ctrl-C / exit */
	double interval;	/* -i, seconds; 0: print once at the end */
	bool classic;		/* --classic-uprobes */
	int top;		/* count --top N; 0: all */
	bool per_goid;		/* latency --per-goid */
	double max_overhead;	/* --max-overhead PCT; 0: warn only */
	struct overhead_keep keep;	/* --keep PATTERN... */
};

struct funcs_session;
struct session;
struct overhead;
struct overhead_calls;

struct funcs_ops {
	const char *verb;	/* "count", "latency" */
	bool returns;		/* needs RET sites */
	/* Called after the plan: open the command's skeleton into s->skel,
	 * set s->obj and s->prog, size the maps, set rodata (not loaded
	 * yet). 0 or -errno after one error line. */
	int (*configure)(struct funcs_session *s);
	/* Load the skeleton (its load maps .bss into s->skel). */
	int (*load)(struct funcs_session *s);
	/* Free what configure made (also after a failed configure). */
	void (*destroy)(struct funcs_session *s);
	/* Print what was aggregated since the last call (final: at exit). */
	void (*print)(struct funcs_session *s, bool final);
	/* Optional: housekeeping, about once a second while attached. */
	void (*tick)(struct funcs_session *s);
	/* Optional: where the calls per function are, for the overhead
	 * budget (overhead.h); after load. */
	void (*calls)(struct funcs_session *s, struct overhead_calls *out);
	void *priv;
};

struct funcs_session {
	struct funcs_cli *cli;
	const struct funcs_ops *ops;
	struct gobin *gb;
	struct funcprobe *fp;
	void *skel;			/* the command's skeleton */
	struct bpf_object *obj;		/* set by configure */
	struct bpf_program *prog;	/* set by configure */
	uint64_t interval_start_ns;	/* CLOCK_REALTIME of this interval */
	uint64_t start_ns;		/* CLOCK_MONOTONIC at attach */
	struct session *sess;		/* the session running this one */
	uint64_t next_tick_ns;		/* ops->tick's next, mono_ns() */
	struct overhead *ovh;		/* the overhead budget, or NULL */
};

/*
 * Parse the options every function command takes (plus, through
 * extra_opts/handle, its own), then run. Returns the exit code.
 */
/*
 * -i in JSON: each batch opens with {"type":"interval","ts_ns":N}, N its
 * end on CLOCK_MONOTONIC (the clock of sched's markers and of every BPF
 * timestamp), also when no function was called: a consumer groups the
 * records that follow by it.
 */
struct jw;
void funcs_session__interval_marker(struct jw *jw);

/* -i, text: the interval's start (HH:MM:SS) on a line of its own, after
 * a blank line but for the first; nothing without -i. */
void funcs_session__interval_header(const struct funcs_session *s,
				    bool first);

int funcs_session__main(int argc, char **argv, const struct funcs_ops *ops,
			void (*usage)(FILE *f));

#endif
