/* SPDX-License-Identifier: MIT */
/*
 * Which tasks and goroutines `gosnoop ktrace` reports, and what more each
 * event carries: --follow (the process's children, as strace -f and perf
 * do), --goid and --goroutine-func (only those goroutines, decided in the
 * kernel) and --stack (kernel and user/Go stacks). The kernel side is in
 * src/bpf/ktrace.bpf.c (followed, goids, gofuncs, kt_fork, kt_exit,
 * stacks()); this module fills it: prepare (after the target is known),
 * configure each skeleton instance before load, start after attach.
 */
#ifndef GOSNOOP_KTRACE_SCOPE_H
#define GOSNOOP_KTRACE_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

struct btf;
struct gobin;
struct ktrace_bpf;
struct bpf_link;
struct kt_probe;

enum kt_follow { KT_FOLLOW_DEFAULT, KT_FOLLOW_ON, KT_FOLLOW_OFF };

struct kt_scope {
	enum kt_follow follow_opt;	/* as asked on the command line */
	bool follow;			/* decided: kt_scope__prepare */
	__u32 fork_child_off;
	__u64 *goids;
	size_t ngoids;
	const char *gofunc;		/* --goroutine-func PATTERN */
	__u64 *gofunc_keys;		/* startpc - start_code (ktrace.bpf.c) */
	size_t ngofunc;
	__u32 task_mm_off, mm_start_code_off;	/* 0: start_code not read */
	bool bias_from_event;		/* a PIE: bias = start_code - exec_vaddr */
	__u64 exec_vaddr;		/* lowest executable PT_LOAD p_vaddr */
	unsigned int stack_kinds;	/* KT_STACK_* */
	struct bpf_link *fork_link, *exit_link;
};

/* --goid LIST: "5" or "5,18,6" (appends). 0, or -EINVAL after one line. */
int kt_scope__add_goids(struct kt_scope *s, const char *list);
/*
 * After the target is resolved: decide --follow (on by default for
 * -- CMD), find sched_process_fork's child_pid in tracefs, compile
 * --goroutine-func into start-function keys from gb's pclntab (path: its
 * file, for the executable segment), read task->mm and mm->start_code
 * offsets from btf. cmd: the target is -- CMD; pid: -p PID, or a comm
 * (PATH, -c) whose tasks start the following; go_attr:
 * goroutines can be read in this target. 0, or -errno after one line
 * (-EINVAL: bad input, -EOPNOTSUPP: the kernel lacks what it needs).
 */
int kt_scope__prepare(struct kt_scope *s, bool cmd, bool pid, bool go_attr,
		      const struct gobin *gb, const char *path,
		      const struct btf *btf);
/* The probe's data areas for --stack (after its expressions). */
int kt_scope__reserve_stacks(const struct kt_scope *s, struct kt_probe *p);
/* Before one instance's load: rodata, the fork/exit programs (the first
 * instance only), the shared maps (the others reuse first's). */
int kt_scope__configure(const struct kt_scope *s, struct ktrace_bpf *skel,
			const struct ktrace_bpf *first,
			const struct kt_probe *p);
/* After every probe is attached, before CMD runs: fill the maps (tgid
 * seeds --follow), attach the fork/exit programs. 0 or -errno (one line). */
int kt_scope__start(struct kt_scope *s, struct ktrace_bpf *first,
		    pid_t tgid);
/* At the end: a warning if --follow missed children (its map full). */
void kt_scope__report(const struct kt_scope *s,
		      const struct ktrace_bpf *first);
void kt_scope__free(struct kt_scope *s);

#endif
