/* SPDX-License-Identifier: MIT */
/*
 * The state `gosnoop serve` shares between its files: cmd_serve.c (start,
 * reload, the main loop), serve_targets.c (the processes behind each
 * configured target), serve_http.c (the endpoints) and serve_metrics.c
 * (the Prometheus text).
 *
 * Threads: the main thread changes groups, cfg and the counters under
 * lock; libmicrohttpd's one thread reads them under it.
 */
#ifndef GOSNOOP_SERVE_H
#define GOSNOOP_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "serve_config.h"

struct serve_probes;
struct serve_http;

/* One process (or, for binary:, every process of the file) probed. */
struct serve_inst {
	struct serve_probes *pr;
	pid_t pid;			/* 0: binary: target */
	unsigned long long start;	/* /proc/PID/stat starttime: tells a
					   reused PID from the process */
	/* The process ended: its series stay until one scrape has read
	 * their last values (or SERVE_ENDED_KEEP_S passed), then go. */
	bool ended;
	double ended_at;		/* CLOCK_MONOTONIC s */
	uint64_t scrapes_at_end;
};

#define SERVE_ENDED_KEEP_S	60.0

/* A process a comm: target matched but could not probe (not Go, ...):
 * not retried while it lives. */
struct serve_failed {
	pid_t pid;
	unsigned long long start;
	int err;
};

/* One configured target and the processes behind it. */
struct serve_group {
	const struct serve_target *cfg;	/* into serve_state.cfg */
	struct serve_inst *inst;
	size_t inst_cnt;
	uint64_t exited;		/* processes gone, series dropped */
	uint64_t replaced;		/* binary: file replaced, re-attached */
	/* binary: the version of the file that could not be probed (not
	 * retried until it changes) */
	dev_t failed_dev;
	ino_t failed_ino;
	off_t failed_size;
	struct timespec failed_mtim;
	struct serve_failed *failed;
	size_t failed_cnt;
	/* gosnoop_target_processes: the target's own label set (its
	 * processes' binary="…"[,pid="…"][,extra…] for binary: and pid:,
	 * comm="NAME"[,extra…] for comm:) and the live processes its probes
	 * cover, as of the last start or update (serve_targets.c) */
	char *labels;
	size_t live;
	/* comm: the shared links of its processes, one set per file version
	 * (more past a set's slots: serve_probes__host_start); no_share:
	 * its probes take too much memory per process to share, each
	 * process has its own (serve_targets.c) */
	struct serve_probes **hosts;
	size_t host_cnt;
	bool no_share;
};

/*
 * Per-process extras (sched: serve_sched_hooks, serve_sched.h): the one
 * way such an extra reaches the daemon. started/stopping around every
 * serve_probes; poll from the main loop (cheap, often); write_metrics
 * once per scrape with every probed process (their families, HELP/TYPE
 * once); write_json inside a process's object of /debug/probes. Any may
 * be NULL.
 */
struct jw;
struct serve_hooks {
	int (*started)(const struct serve_target *cfg, struct serve_probes *pr,
		       pid_t pid);
	void (*stopping)(struct serve_probes *pr);
	void (*poll)(struct serve_probes *pr);
	void (*write_metrics)(FILE *f, struct serve_probes *const *prs, size_t n);
	void (*write_json)(struct serve_probes *pr, struct jw *jw);
};

struct serve_state {
	pthread_mutex_t lock;
	struct serve_config cfg;
	const char *config_path;
	struct serve_group *groups;	/* one per cfg.targets[i] */
	size_t group_cnt;
	const struct serve_hooks *hooks;
	double start_time;		/* CLOCK_REALTIME seconds */
	uint64_t scrapes;
	bool reload_ok;			/* the last reload worked */
	double reload_time;		/* when (start counts as one) */
	uint64_t reloads, reload_failures;
};

/* serve_metrics.c: the whole /metrics body (under st->lock). */
void serve_metrics__write(struct serve_state *st, FILE *f);

/* serve_http.c: listen on "HOST:PORT" (TLS if web has a certificate)
 * and print where (and that target_cnt targets are served). 0 or -errno
 * after one error line. serve_http__start: with st->cfg.web. */
int serve_http__start_web(struct serve_state *st, const char *listen,
			  const struct serve_web *web, size_t target_cnt,
			  struct serve_http **out);
int serve_http__start(struct serve_state *st, const char *listen,
		      size_t target_cnt, struct serve_http **out);
/* The same address with other TLS settings: old's listening socket goes
 * to a new daemon (*out); old is left to serve_http__stop. If web's
 * certificate and key do not work, *out serves with old_web's and
 * -errno is returned after one line. */
int serve_http__restart(struct serve_http *old, const char *listen,
			const struct serve_web *web, const struct serve_web *old_web,
			size_t target_cnt, struct serve_http **out);
void serve_http__stop(struct serve_http *h);

/*
 * serve_targets.c. start: the processes of g->cfg at start or reload: a
 * binary: or pid: target that cannot be probed is an error (-errno after
 * one line); a comm: target takes whatever runs now (maybe nothing).
 * update: about once a second: drop processes that ended (and the
 * open-call stacks any process left in a latency map), probe new
 * processes of comm: targets, re-attach a binary: whose file was
 * replaced; count the live processes the probes cover (g->live). Takes
 * st->lock to change g. stop: detach everything.
 */
int serve_group__start(struct serve_group *g, const struct serve_hooks *h);
void serve_group__update(struct serve_group *g, struct serve_state *st);
void serve_group__stop(struct serve_group *g, const struct serve_hooks *h);
/* Stop groups g[0..n) but those keep[] says (keep NULL: all), their
 * probes detached in parallel. */
void serve_groups__stop(struct serve_group *g, size_t n, const bool *keep,
			const struct serve_hooks *h);

#endif
