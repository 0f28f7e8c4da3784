/* SPDX-License-Identifier: MIT */
/*
 * A PIE target's load bias in the process an event came from, for its
 * goroutine's start function: a PATH target has several processes, and
 * -- CMD's is known only once it runs. Looked up in /proc once per
 * process (a process gone before its events are read keeps bias 0: no
 * start function).
 */
#ifndef GOSNOOP_KTRACE_BIAS_H
#define GOSNOOP_KTRACE_BIAS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#define KT_BIAS_CACHE 64

struct gobin;

struct kt_bias {
	__u32 pid[KT_BIAS_CACHE];
	uint64_t bias[KT_BIAS_CACHE];
	unsigned int next;
	bool per_process;	/* PIE and not a -p PID target */
	/* -- CMD's bias, for a process that cannot tell its own: a child
	 * --follow saw, read after its exec (until then a vfork child of
	 * os/exec shares CMD's memory) */
	bool has_cmd_bias;
	uint64_t cmd_bias;
};

/* pid's bias (0 when it cannot be read), cached. */
uint64_t kt_bias__of(struct kt_bias *b, const struct gobin *gb, __u32 pid);
/*
 * -- CMD: its bias as soon as it has exec'd path (a few ms), so that
 * events read after it exited still name start functions.
 */
void kt_bias__seed(struct kt_bias *b, const struct gobin *gb,
		   const char *path, pid_t pid);

#endif
