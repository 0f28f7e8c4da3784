// SPDX-License-Identifier: MIT
/* Progress on a terminal for long steps (progress.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "progress.h"

struct progress {
	const char *what, *unit;
	size_t total;
	atomic_size_t done;
	uint64_t start_ns, drawn_ns;
	bool drawn;
	pthread_mutex_t lock;	/* one drawer at a time */
};

/* Whether a count is on the screen now (its line not ended). */
static atomic_bool line_drawn;

void progress__clear_line(void)
{
	if (atomic_exchange(&line_drawn, false)) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

struct progress *progress__start(const char *what, const char *unit,
				 size_t total)
{
	struct progress *p;

	if (!isatty(STDERR_FILENO) || json_output || verbose || total < 2)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->what = what;
	p->unit = unit;
	p->total = total;
	p->start_ns = mono_ns();
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void progress__add(struct progress *p, size_t n)
{
	uint64_t now;
	size_t done;

	if (!p)
		return;
	done = atomic_fetch_add(&p->done, n) + n;
	now = mono_ns();
	if (now - p->start_ns < PROGRESS_AFTER_MS * 1000000ULL ||
	    (p->drawn && now - p->drawn_ns < PROGRESS_EVERY_MS * 1000000ULL))
		return;
	/* a thread drawing already: its line will do */
	if (pthread_mutex_trylock(&p->lock))
		return;
	/* \r and erase to the end of the line: redrawn in place */
	fprintf(stderr, "\r%s: %s %s %zu/%zu\033[K", prog_name, p->what,
		p->unit, done, p->total);
	fflush(stderr);
	atomic_store(&line_drawn, true);
	p->drawn = true;
	p->drawn_ns = now;
	pthread_mutex_unlock(&p->lock);
}

void progress__end(struct progress *p)
{
	if (!p)
		return;
	if (p->drawn)
		progress__clear_line();
	pthread_mutex_destroy(&p->lock);
	free(p);
}
