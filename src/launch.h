/* SPDX-License-Identifier: MIT */
/*
 * Run `-- CMD ARGS` so that probes are in place before its first
 * instruction: fork; the child blocks on a pipe; the parent attaches with
 * the child's pid (uprobes follow the task across exec) and then releases
 * it; the child execs. Output and exit status of CMD are its own.
 */
#ifndef GOSNOOP_PROBE_LAUNCH_H
#define GOSNOOP_PROBE_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct launch {
	pid_t pid;		/* the child, > 0 after launch__start */
	int go_fd;		/* write end of the release pipe, or -1 */
	bool reaped;
	int status;		/* wait status once reaped */
	/* its CPU time (user + system, wait4's rusage: its threads and the
	 * children it reaped) once reaped: /proc/PID is gone by then */
	uint64_t cpu_ns;
};

/* Fork a child that waits, then execs argv[0] (path: resolved file).
 * Returns 0 or -errno. */
int launch__start(struct launch *l, const char *path, char **argv);
/* Let the child exec. 0 or -errno. */
int launch__release(struct launch *l);
/* Make the child exit without running CMD (setup failed). */
void launch__abort(struct launch *l);
/* Reap the child (and note its CPU time, l->cpu_ns); block if wait.
 * Returns 1 when reaped, 0 if it still runs, -errno on error. */
int launch__reap(struct launch *l, bool wait);
/* The shell's view of the status: the exit code, or 128 + signal. */
int launch__exit_code(const struct launch *l);

#define LAUNCH_GRACE_MS 5000
/*
 * Tracing is over; end CMD and return gosnoop's exit code. CMD exited by
 * itself: its status. Tracing stopped by signal sig: CMD's status once it
 * exits; the signal is passed on only if it was sent to gosnoop alone
 * (kill(1), systemd, docker; see launch__note_signal): a terminal's
 * Ctrl-C reached CMD by itself, and a second one would force a program
 * that shuts down gracefully on the first. Stopped by -d or -n, or by an
 * error (sig 0): CMD ended with SIGTERM, as timeout(1) and bpftrace -c
 * do, SIGKILL after LAUNCH_GRACE_MS, and 0 (the caller keeps its error).
 */
int launch__finish(struct launch *l, int sig);
/* From the commands' SA_SIGINFO handlers: who sent the stopping signal. */
void launch__note_signal(const siginfo_t *si);

#endif
