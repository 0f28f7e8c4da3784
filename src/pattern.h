/* SPDX-License-Identifier: MIT */
/*
 * Function-name patterns: shell globs (fnmatch) over Go names. An exact
 * name also matches itself, because Go names contain glob characters
 * ("main.Map[...]", "(*T).M") that users should not have to escape.
 */
#ifndef GOSNOOP_PATTERN_H
#define GOSNOOP_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

struct patterns {
	char **pat;
	size_t *hits;
	size_t cnt;
};

/* Validates each pattern (unbalanced '[' is an error); prints one line and
 * returns -EINVAL on a bad one. No patterns means "match everything". */
int patterns__init(struct patterns *p, char **pat, int cnt);
bool patterns__match(struct patterns *p, const char *name);
/* True when nothing matched at all (after one error line); otherwise
 * warns about each pattern that matched nothing and returns false. */
bool patterns__report_unmatched(const struct patterns *p, const char *target);
void patterns__free(struct patterns *p);

#endif
