/* SPDX-License-Identifier: MIT */
/* trace_folded - stacks with call counts for `gosnoop trace --folded`. */
#ifndef GOSNOOP_TRACE_FOLDED_H
#define GOSNOOP_TRACE_FOLDED_H

#include <stddef.h>
#include <stdint.h>

struct tr_folded_ent {
	char *key;		/* "outermost;...;func" */
	uint64_t calls, ns;
};

/* Zero-initialized: empty. */
struct tr_folded {
	struct tr_folded_ent *v;
	size_t cap, cnt;	/* cap: 0 or a power of two */
};

/* One call at stack key lasting ns: 0 or -ENOMEM. */
int trace_folded__add(struct tr_folded *f, const char *key, uint64_t ns);
/* "stack count" lines into path: 0, or -errno after one line saying so. */
int trace_folded__write(const struct tr_folded *f, const char *path);
void trace_folded__free(struct tr_folded *f);

#endif
