// SPDX-License-Identifier: MIT
/* Detaching many ktrace probes at once (ktrace_inst.h). */
#include <pthread.h>

#include <bpf/libbpf.h>

#include "ktrace_inst.h"
#include "progress.h"

#define DETACH_THREADS 32

struct detacher {
	struct kt_inst *insts;
	int n, first, step;
	struct progress *pg;
};

static void *detach_some(void *arg)
{
	struct detacher *d = arg;

	for (int i = d->first; i < d->n; i += d->step) {
		if (!d->insts[i].link)
			continue;
		bpf_link__destroy(d->insts[i].link);
		d->insts[i].link = NULL;
		progress__add(d->pg, 1);
	}
	return NULL;
}

/*
 * Detach every probe. Closing a tracepoint's perf event waits for an RCU
 * grace period (~50 ms on this VM), one after another: 360 probes took
 * 18 s. Threads let the waits overlap.
 */
void kt_inst__detach_all(struct kt_inst *insts, int n)
{
	struct detacher d[DETACH_THREADS];
	pthread_t tid[DETACH_THREADS];
	int nthreads = n < DETACH_THREADS ? n : DETACH_THREADS, started = 0;
	struct progress *pg = NULL;
	int linked = 0;

	if (n <= 2) {
		d[0] = (struct detacher){ insts, n, 0, 1, NULL };
		detach_some(&d[0]);
		return;
	}
	for (int i = 0; i < n; i++)
		linked += insts[i].link != NULL;
	/* 360 tracepoints still take seconds with the waits overlapped */
	if (linked)
		pg = progress__start("detaching", "probes", linked);
	for (int t = 0; t < nthreads; t++)
		d[t] = (struct detacher){ insts, n, t, nthreads, pg };
	for (int t = 0; t < nthreads; t++) {
		if (pthread_create(&tid[t], NULL, detach_some, &d[t]))
			break;
		started++;
	}
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	/* what threads could not be started for */
	for (int t = started; t < nthreads; t++)
		detach_some(&d[t]);
	progress__end(pg);
}
