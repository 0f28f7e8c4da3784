/* SPDX-License-Identifier: MIT */
/*
 * sched --pprof FILE: an off-CPU (blocking) profile of every goroutine,
 * in pprof's format: time spent waiting per (wait reason, Go stack where
 * the goroutine parked). The BPF side is in src/bpf/sched.bpf.c
 * (park_stack, wait_done; sched.h).
 */
#ifndef GOSNOOP_SCHED_PPROF_H
#define GOSNOOP_SCHED_PPROF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct gobin;
struct sched_bpf;
struct sched_report;

/* Before load: turn the stack capture on and give it gb's g offsets;
 * per_goroutine (--goid, --start) keys each wait by goroutine too, so
 * that sched_pprof__write keeps only the goroutines the report wants.
 * 0, or -EOPNOTSUPP after one line when gb's g layout lacks them. */
int sched_pprof__configure(struct sched_bpf *skel, const struct gobin *gb,
			   const char *display, bool per_goroutine);

/*
 * -p's attach snapshot (sched_snapshot.c): goroutine gp of pid has been
 * parked with reason since before the attach, so the probe never saw its
 * park. Its stack, walked from gp.sched through mem_fd (/proc/PID/mem),
 * goes into park_stacks (park_fd) as the probe would have put it, marked
 * SCHED_BLOCK_BEFORE_ATTACH: a wake-up in the window then counts its
 * wait (from the attach, the goroutine's seeded last change) as any
 * other; one still parked at the end is in progress. per_goroutine as
 * sched_pprof__configure's. 0 (also when the probe has an entry already),
 * or -errno.
 */
int sched_pprof__seed_park(int park_fd, int mem_fd, const struct gobin *gb,
			   pid_t pid, uint64_t gp, uint8_t reason,
			   uint64_t goid, uint64_t startpc, bool per_goroutine);

/*
 * After detach: every wait that ended (label wait=began before attach
 * for one of the snapshot's, its time from the attach), plus (label
 * wait=in progress) those still going at end_ns (a goroutine parked before the attach: its
 * stack read from the live process), as samples waits/count and
 * delay/nanoseconds, leaf frame "wait: REASON" over the parked stack,
 * label reason=REASON, gzipped into path. binpath names the mapping.
 * 0, or -errno after one line.
 */
int sched_pprof__write(struct sched_bpf *skel, struct sched_report *rep,
		       const struct gobin *gb, const char *binpath,
		       uint64_t start_ns, uint64_t end_ns, const char *path);

#endif
