/* SPDX-License-Identifier: MIT */
/*
 * What a command points at: TARGET is a PATH, `-p PID`, or `-- CMD ARGS`.
 * A PID is resolved through /proc/PID/root so that a process inside a
 * container (another mount namespace) is read from its own filesystem.
 */
#ifndef GOSNOOP_TARGET_H
#define GOSNOOP_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct gobin;

enum target_kind {
	TARGET_NONE,
	TARGET_PATH,
	TARGET_PID,
	TARGET_CMD,
};

struct target {
	enum target_kind kind;
	char path[PATH_MAX + 64];	/* executable to read and attach to */
	char display[PATH_MAX + 80];	/* how the user named it */
	pid_t pid;		/* TARGET_PID */
	char **cmd_argv;	/* TARGET_CMD: NULL-terminated */
	int cmd_argc;
};

/* Cut argv at the first "--": what follows is CMD ARGS. Call before
 * getopt so that the command's own options are never parsed as ours. */
void target__split_cmd(int *argc, char **argv, struct target *t);

/* After getopt, argv[first..argc) are positionals. With -p PID or
 * '-- CMD' every one is a pattern; otherwise the first is the PATH (*path
 * is NULL when there is none). Returns the index of the first pattern. */
int target__take_path(const struct target *t, pid_t pid, int argc,
		      char **argv, int first, const char **path);

/* 0 if a target was named at all (a PATH, -p PID or '-- CMD'); else
 * -EINVAL after one line saying how to name one. Commands call it before
 * they check their other positionals, so "no target" is reported first. */
int target__check_given(const struct target *t, const char *path_arg,
			pid_t pid);

/* Fill t from a PATH argument (or -p PID / the CMD split off before) and
 * check it exists. Returns 0 or -errno, after printing one line. A PID
 * that is a thread of another process stands for that process (t->pid),
 * after one warning line. */
int target__resolve(struct target *t, const char *path_arg, pid_t pid);

/* Run-time address minus file address of the target's executable in a
 * live process (0 for non-PIE), from /proc/PID/maps. */
int target__load_bias(pid_t pid, const struct gobin *gb, uint64_t *bias);

/* Read the target's executable as a Go binary; prints one line naming the
 * target and the problem on failure. Returns 0 or -errno. */
int target__open_gobin(const struct target *t, struct gobin **gb);
/* The same with GOBIN_OPEN_* flags (gobin.h). */
int target__open_gobin_flags(const struct target *t, unsigned int flags,
			     struct gobin **gb);

/* Is pid a live process? A zombie (exited, not reaped) counts as gone. */
bool target__pid_alive(pid_t pid);

/* /proc/PID/stat ("pid (comm) S ppid ...", comm may hold ')' and
 * spaces) into buf: the fields after comm, from the state on; NULL when
 * the process is gone or the line is not that. */
const char *target__proc_stat(pid_t pid, char *buf, size_t len);

/* Numeric fields of /proc/PID/stat by their number in proc(5) (4 ppid,
 * 14 utime, 15 stime, 22 starttime), read in one pass into vals:
 * fields[] ascending, each after the state (> 3); *state (if not NULL)
 * gets the state letter, field 3 ('Z' a zombie). 0, -ESRCH when the
 * process is gone or its line ends before a field, -EINVAL when fields[]
 * is not that. */
int target__proc_stat_nums(pid_t pid, const int *fields, int n,
			   unsigned long long *vals, char *state);

/* Parse a PID argument: 0 or -EINVAL. */
int target__parse_pid(const char *s, pid_t *pid);

#endif
