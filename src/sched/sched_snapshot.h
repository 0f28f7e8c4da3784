/* SPDX-License-Identifier: MIT */
/* Seed `gosnoop sched`'s goroutine map with what a process already runs
 * (see sched_snapshot.c). */
#ifndef GOSNOOP_SCHED_SNAPSHOT_H
#define GOSNOOP_SCHED_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gobin;

/*
 * Read runtime.allgs of process pid and add every live goroutine not yet
 * in the map (map_fd: sched.bpf.c's goroutines) as seen at now. Returns 0
 * (*seeded: how many were added) or -errno: -ENOENT when neither a
 * runtime.allgs symbol nor the code of runtime.allgadd (stripped
 * binaries) shows where the slice is, else /proc/PID/mem's errors.
 */
int sched_snapshot__seed(const struct gobin *gb, pid_t pid, int map_fd,
			 uint64_t now, size_t *seeded);

/* The same, and (park_fd >= 0: sched --pprof's park_stacks) the stack of
 * each goroutine seeded as waiting, so that the wait it is in counts when
 * it ends in the window (sched_pprof__seed_park). */
int sched_snapshot__seed_parks(const struct gobin *gb, pid_t pid, int map_fd,
			       int park_fd, bool per_goroutine, uint64_t now,
			       size_t *seeded);

#endif
