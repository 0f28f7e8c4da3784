/* SPDX-License-Identifier: MIT */
/*
 * The one session pipeline every tracing command runs (trace, count,
 * latency, sched, ktrace), in the spirit of retsnoop's mass_attacher:
 *
 *   prepare -> resolve TARGET -> open gobin -> [funcprobe plan] -> plan
 *   -> [fork -- CMD, held] -> configure (open skeleton, rodata)
 *   -> [funcprobe prepare] -> load -> [funcprobe attach] -> attach
 *   -> catch signals -> started (time 0: -d and -i count from here)
 *   -> [release CMD] -> released
 *   -> loop every SESSION_POLL_MS: poll | sleep, until Ctrl-C / -d /
 *      done() / the reader of stdout is gone / the target is gone;
 *      tick (every pass), interval (every -i)
 *   -> stopping -> [funcprobe detach] -> detach -> finish -> [end CMD]
 *   -> destroy
 *
 * The bracketed steps are the session's own; the others are the command's
 * callbacks (struct session_ops), each optional unless said otherwise.
 * A command fills a struct session (ops, ctx, the target and its
 * options) and calls session__run(), which returns 0, -errno or CMD's status.
 *
 * Errors: every callback returns 0 or -errno after printing one line;
 * session__run() returns it and main.c's finish() maps it to the exit code
 * (exit_code_for(), common.h: pick the errno that says what went wrong).
 * After the loop, CMD's own exit status is gosnoop's when nothing failed
 * (launch.h's launch__finish).
 *
 * The middle and the end are callable on their own: session__attach()
 * (configure .. attach) and session__detach() / session__close()
 * (funcprobe detach, detach; funcprobe free, destroy). `gosnoop serve`
 * attaches each target's count and latency units with them
 * (serve/serve_probes.c), from the plan and the Go binary it already has
 * (its binary cache, a host's plan split into units). The daemon keeps
 * its own loop: one session is one target and one stop (Ctrl-C, -d, the
 * target gone, CMD's status), while serve holds many targets that come
 * and go as processes start and end, each attached for as long as it
 * lives, reloads them on SIGHUP (a signal that ends a session) without
 * detaching what stays, and serves scrapes between; no CMD, no -d/-i,
 * no final print.
 */
#ifndef GOSNOOP_SESSION_H
#define GOSNOOP_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "launch.h"
#include "pattern.h"
#include "probe/funcprobe.h"
#include "target.h"

#define SESSION_POLL_MS 100	/* the loop's pass; ticks come this often */
#define SESSION_MAX_TICKS 4	/* session__add_tick() listeners */

struct session;
struct gobin;
struct bpf_object;
struct bpf_program;

/* The signal that ended the session (SIGINT, SIGTERM, SIGHUP), 0 until
 * one came. */
extern volatile sig_atomic_t session_stop_signal;

/*
 * Catch SIGINT, SIGTERM and SIGHUP: each records itself in
 * session_stop_signal and tells launch.c who sent it (a signal sent to
 * gosnoop alone is passed on to -- CMD). SA_RESTART: a write(2) to a full
 * stdout pipe resumes after the signal instead of failing with EINTR and
 * losing what was buffered; poll and epoll_wait still return EINTR, so
 * the loops see the signal at once. session__run() calls it (serve has
 * its own: SIGHUP reloads it).
 */
void session__catch_stop_signals(void);

/* How the session opens the target's Go binary. */
enum session_gobin {
	SESSION_GOBIN_REQUIRED,	/* not Go: one line, exit 2 */
	SESSION_GOBIN_IF_GO,	/* not Go: s->gb NULL, one -v line (ktrace) */
};

struct session_ops {
	const char *verb;	/* "trace", "count", ... (messages) */
	/* Before the target is resolved: what needs no binary (ktrace
	 * parses and compiles its probes). */
	int (*prepare)(struct session *s);
	/* After gobin (and the funcprobe plan, if any): the command's
	 * plan. */
	int (*plan)(struct session *s);
	/* -- CMD is forked and held, s->attach_pid is known: open the
	 * skeleton and set its rodata; funcprobe sessions set s->obj and
	 * s->prog (the program the sites attach to) here. */
	int (*configure)(struct session *s);
	/* Load (the command prints the privilege hint: p_load_error). */
	int (*load)(struct session *s);
	/* Attach what the session does not (after the funcprobe sites). */
	int (*attach)(struct session *s);
	/* Attached, signals caught, s->start_ns set, CMD still held: what
	 * must happen before the target runs (sched seeds its goroutines). */
	int (*started)(struct session *s);
	/* CMD released: the "tracing ..." line. */
	void (*released)(struct session *s);
	/* One pass: wait for records up to timeout_ms. >= 0, -EINTR, or
	 * -errno (the session says "reading the ring buffer" and fails).
	 * NULL: the session sleeps (count/latency read maps at the end). */
	int (*poll)(struct session *s, int timeout_ms);
	/* true: stop now (ktrace -n reached). */
	bool (*done)(struct session *s);
	/* Every pass after the stop checks (~SESSION_POLL_MS). */
	void (*tick)(struct session *s, uint64_t now_ns);
	/* Every -i SECS (s->interval): a summary so far. */
	void (*interval)(struct session *s, uint64_t now_ns);
	/* The loop ended (s->end_ns), however it ended, the probes still
	 * attached: what must happen before the detach, which takes seconds
	 * with thousands of functions while every probe still traps (cost
	 * takes its last look and ends its dearer hits here). */
	void (*stopping)(struct session *s);
	/* The loop ended (s->end_ns): stop the probes the session does not
	 * own; funcprobe sites are detached before. */
	void (*detach)(struct session *s);
	/* Drain, read the totals, print. 0 or -errno. */
	int (*finish)(struct session *s);
	/* Free what the command made; also after any failed step. */
	void (*destroy)(struct session *s);
};

/*
 * Periodic listeners (the overhead budget, issue 16): called every pass
 * of the loop (~SESSION_POLL_MS) while attached, after the command's own
 * tick, never in the pass that ends the session, with the session: s->fp
 * (funcprobe commands: the attached sites, funcprobe__cnt(),
 * funcprobe__func()), session__target_pid(), s->t, s->start_ns. What the
 * command keeps in s->ctx is the command's; a listener that needs some of
 * it gets it through its own ctx from the command.
 */
typedef void (*session_tick_fn)(struct session *s, uint64_t now_ns,
				void *ctx);

struct session {
	/* --- set by the command before session__run() --- */
	const struct session_ops *ops;
	void *ctx;		/* the command's state */
	struct target *t;	/* the TARGET as parsed (target.h) */
	const char *path_arg;	/* PATH, or NULL */
	pid_t pid;		/* -p PID, or 0 */
	bool target_optional;	/* no TARGET given: every process (ktrace) */
	enum session_gobin gobin;
	unsigned int gobin_flags;	/* GOBIN_OPEN_* */
	double duration;	/* -d SECS; 0: no deadline */
	double interval;	/* -i SECS; 0: no interval callback */
	bool stamp_child_exit;	/* note when CMD ended (SIGCHLD) */
	/* Funcprobe commands (trace, count, latency): the function
	 * patterns; NULL for commands that attach their own probes. */
	char **pats;
	int pat_cnt;
	struct funcprobe_opts fo;
	unsigned int fp_sites;	/* FP_SITES_ENTRY [| FP_SITES_RET] */

	/* --- set by the session, read by the callbacks --- */
	struct gobin *gb;	/* NULL only with SESSION_GOBIN_IF_GO */
	struct patterns patterns;	/* pats, compiled */
	struct funcprobe *fp;	/* the plan, then the attached sites */
	struct bpf_object *obj;	/* funcprobe: set by configure */
	struct bpf_program *prog;	/* funcprobe: set by configure */
	struct launch launch;	/* -- CMD */
	bool launched;		/* CMD forked (and not yet finished) */
	/* Whose events: CMD's pid, -p PID, 0 for every process of PATH. */
	pid_t attach_pid;
	uint64_t run_ns;	/* mono_ns() when session__run() began */
	uint64_t start_ns;	/* mono_ns() at time 0 (after attach) */
	uint64_t end_ns;	/* mono_ns() when the loop ended */
	/* The target ended (CMD exited, -p PID gone): when, by mono_ns(). */
	bool target_gone;
	uint64_t target_exit_ns;
	bool read_failed;	/* poll failed: CMD is ended, -EIO */

	/* --- the session's own --- */
	struct {
		session_tick_fn fn;
		void *ctx;
	} ticks[SESSION_MAX_TICKS];
	int nticks;
};

/* Run the whole life cycle: 0, -errno (main.c's finish() maps it) or
 * CMD's exit status. */
int session__run(struct session *s);

/*
 * configure -> [funcprobe prepare] -> load -> [funcprobe attach, to
 * s->attach_pid's process or, when 0, every process of s->t->path] ->
 * attach. The caller has set what these read: ops, ctx, t, fp (a plan,
 * or NULL), fp_sites, gb and attach_pid. 0 or -errno after one line;
 * on an error, session__close() still frees what was made.
 */
int session__attach(struct session *s);
/* [funcprobe detach] -> detach: the probes are off, the maps readable. */
void session__detach(struct session *s);
/* [funcprobe free] -> destroy: s->fp and what the command made (not
 * s->gb: whoever opened it frees it). After session__attach(), failed
 * or not. */
void session__close(struct session *s);

/*
 * Add a periodic listener (see session_tick_fn); from any callback up to
 * started(). 0, or -E2BIG when SESSION_MAX_TICKS are taken.
 */
int session__add_tick(struct session *s, session_tick_fn fn, void *ctx);

/* The process whose events are traced: -- CMD's, -p PID's, or 0 (every
 * process running PATH). */
pid_t session__target_pid(const struct session *s);

/* The CPU time (ns) of a -- CMD that ended, from its reap (wait4's
 * rusage: /proc/PID is gone by then): false for -p PID, PATH, or a CMD
 * that still runs. */
bool session__ended_cmd_cpu_ns(const struct session *s, uint64_t *cpu_ns);

#endif
