/* SPDX-License-Identifier: MIT */
/*
 * rt_tables - what the Go runtime of each release go1.13 .. go1.26 looks
 * like on linux/amd64, for binaries that carry no DWARF: byte offsets of
 * the runtime.g and runtime.m fields gosnoop reads, the waitReason strings
 * and the goroutine status names.
 *
 * Every number was read from golang/go's src/runtime at a release tag
 * (runtime2.go, and the files of the embedded types); docs/runtime-layout.md
 * lists each release's fields with running offsets so that a reviewer can
 * re-check them, and says how to add a release.
 *
 * Field sizes are the same in every release: stack.lo/hi, m, sched.* and
 * gopc/startpc are 8 bytes, atomicstatus 4 (uint32, atomic.Uint32 from
 * go1.20), goid 8 (int64, uint64 from go1.20), waitreason 1 (uint8);
 * m.procid is 8 (uint64), m.curg 8 (*g).
 */
#ifndef GOSNOOP_GOBIN_RT_TABLES_H
#define GOSNOOP_GOBIN_RT_TABLES_H

#include <stdbool.h>
#include <stdint.h>

/* _Gscan: OR-ed into a status while the GC owns the goroutine's stack
 * (runtime2.go, every release go1.13 .. go1.26). */
#define RT_GSCAN 0x1000u

struct rt_release {
	int minor;		/* 13 for go1.13 */
	const char *source;	/* where it was read from: "go1.13.15" */

	/* byte offsets in runtime.g */
	int g_stack_lo, g_stack_hi;
	int g_m;
	int g_sched_sp, g_sched_pc, g_sched_bp;
	int g_atomicstatus, g_goid, g_waitreason;
	int g_gopc, g_startpc;
	/* byte offsets in runtime.m */
	int m_procid, m_curg;

	/* runtime.waitReasonStrings, indexed by the waitReason value */
	const char *const *waitreasons;
	int nwaitreasons;
	/* goroutine status names indexed by value with RT_GSCAN clear: the
	 * _G constant without its "_G" ("idle", "runnable", ...,
	 * "moribund_unused", ...) */
	const char *const *gstatuses;
	int ngstatuses;
};

/* The row of go1.<minor>, or NULL if the table has none. */
const struct rt_release *rt_release_lookup(int minor);
int rt_min_minor(void);
int rt_max_minor(void);

/* The string of waitReason value reason, or NULL when out of range. */
const char *rt_waitreason_name(const struct rt_release *r, unsigned int reason);
/* The name of status (RT_GSCAN stripped, *scan tells whether it was set;
 * scan may be NULL), or NULL when the release has no such status. */
const char *rt_gstatus_name(const struct rt_release *r, uint32_t status,
			    bool *scan);

#endif
