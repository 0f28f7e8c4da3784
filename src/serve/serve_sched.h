/* SPDX-License-Identifier: MIT */
/*
 * The goroutine-scheduling metrics of one `gosnoop serve` target
 * (`sched: true`): gosnoop sched's uprobe on runtime.casgstatus
 * (src/bpf/sched.bpf.c) left attached, everything aggregated in the kernel
 * (per-goroutine state in a hash map, per-CPU totals, latency histogram
 * and wait-reason arrays) and read on each scrape. No ring buffer is read:
 * the program's per-goroutine end records are switched off.
 *
 * Thread-safe: poll() may run in the daemon's loop while write_metrics()
 * runs in the HTTP thread (each target has its own lock).
 */
#ifndef GOSNOOP_SERVE_SCHED_H
#define GOSNOOP_SERVE_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct serve_sched;
struct jw;

/*
 * Attach to binary_path (every process running it, including ones started
 * later) or, pid > 0, to that process only (binary_path is then ignored:
 * the executable is read through /proc/PID/root). Goroutines that already
 * exist are read from runtime.allgs of each running process. 0 or -errno
 * after one error line on stderr.
 */
int serve_sched__start(const char *binary_path, pid_t pid,
		       struct serve_sched **out);
/* Detach and free (NULL is fine). */
void serve_sched__stop(struct serve_sched *s);

/*
 * Non-blocking housekeeping, cheap to call often: about once a second it
 * forgets the goroutines of processes that have exited (their time so
 * far stays in the counters).
 */
void serve_sched__poll(struct serve_sched *s);

/*
 * The five families, each HELP/TYPE once, then every target's samples:
 * gosnoop_goroutines{state}, gosnoop_goroutine_state_seconds_total{state},
 * gosnoop_sched_latency_seconds (histogram), gosnoop_wait_seconds_total
 * {reason}, gosnoop_lost_events_total{source="sched"}. labels[i] is
 * target i's label set, preformatted and escaped, without braces
 * (`binary="/usr/bin/x",team="a"`). all[i] NULL is skipped.
 */
void serve_sched__write_metrics(FILE *f, struct serve_sched *const *all,
				const char *const *labels, size_t n);

/* For /debug/probes: the value of a "sched" key (an object: probe site,
 * attached links, goroutines tracked and seeded, the program's counters,
 * lost events). */
void serve_sched__write_json(struct serve_sched *s, struct jw *jw);

/* uprobe links attached: runtime.casgstatus, and on go1.26+
 * runtime.reentersyscall and runtime.exitsyscall. */
size_t serve_sched__sites(const struct serve_sched *s);
/* Records the ring buffer had no room for (0: none are produced). */
uint64_t serve_sched__lost_events(struct serve_sched *s);

/*
 * The same in terms of the daemon's probed processes (serve_sched_probes.c),
 * its only way in (serve.h): started attaches when the target says
 * sched: true, the serve_sched riding in the process's extension pointer;
 * series carry the process's labels (serve_probes__labels); write_json
 * adds a "sched" key and object.
 */
struct serve_hooks;
extern const struct serve_hooks serve_sched_hooks;

#endif
