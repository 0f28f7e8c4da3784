/* SPDX-License-Identifier: MIT */
/*
 * ktrace records -> one text line or one JSON line per event.
 *
 * JSON: {"type":"kevent","probe":"tracepoint:syscalls:sys_enter_execve",
 *        "ts_ns":N,"pid":N,"tid":N,"comm":"...","goid":N|null,
 *        ["start":"main.worker",] "args":{NAME: VALUE, ...}}
 * ts_ns is CLOCK_MONOTONIC (bpf_ktime_get_ns). start is the goroutine's
 * start function (g.startpc through pclntab) when goid is known.
 */
#ifndef GOSNOOP_KTRACE_OUT_H
#define GOSNOOP_KTRACE_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kt_probe;
struct gobin;
struct btf;

struct kt_out_ctx {
	FILE *f;
	bool json;
	struct kt_probe **probes;
	size_t nprobes;
	const struct btf *btf;		/* enum names; may be NULL */
	const struct gobin *gb;		/* start functions; may be NULL */
	uint64_t bias;			/* gb's load bias in the target */
	/* a PIE: each event's bias is its kt_event.start_code less this
	 * (ktrace_scope.h), when the event has one */
	bool bias_from_event;
	uint64_t exec_vaddr;
	uint64_t t0_ns;			/* text: times relative to this */
	uint64_t count;			/* records printed */
	uint64_t max;			/* stop printing after (0: all) */
};

/* ring_buffer__new callback; ctx is a struct kt_out_ctx. */
int kt_out__record(void *ctx, void *data, size_t size);
/* The kernel symbols --stack read (at its first kernel stack), freed. */
void kt_out__free(void);

#endif
