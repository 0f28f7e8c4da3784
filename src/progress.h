/* SPDX-License-Identifier: MIT */
/*
 * A progress count on stderr while a long step runs over many items
 * (attaching or detaching hundreds of kernel probes takes seconds): only
 * when stderr is a terminal, only once the step has taken
 * PROGRESS_AFTER_MS, redrawn in place at most every PROGRESS_EVERY_MS
 * and erased at the end, so that the lines after it read as without it.
 * Not a terminal, --json or -v (which prints a line per item): nothing.
 */
#ifndef GOSNOOP_PROGRESS_H
#define GOSNOOP_PROGRESS_H

#include <stddef.h>

#define PROGRESS_AFTER_MS 300
#define PROGRESS_EVERY_MS 100

struct progress;

/* "attaching" and "probes": "gosnoop: attaching probes 12/360". NULL when
 * nothing is to be drawn (the calls below take NULL); what and unit must
 * outlive it. */
struct progress *progress__start(const char *what, const char *unit,
				 size_t total);
/* n more items done; any thread may call it. */
void progress__add(struct progress *p, size_t n);
/* Erase the line a progress has drawn, if any, so that a message starts
 * at the left (p_err and the like call it); the count is drawn again at
 * its next step. */
void progress__clear_line(void);
/* Erase the line (if one was drawn) and free p. */
void progress__end(struct progress *p);

#endif
