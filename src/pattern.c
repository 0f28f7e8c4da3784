// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pattern.h"

/* fnmatch() silently treats a '[' without ']' as a literal; a user who
 * typed one almost always made a mistake, so say so. */
static bool brackets_balanced(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s != '[')
			continue;
		s++;
		if (*s == '!' || *s == '^')
			s++;
		if (*s == ']')
			s++;
		while (*s && *s != ']')
			s++;
		if (!*s)
			return false;
	}
	return true;
}

int patterns__init(struct patterns *p, char **pat, int cnt)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < cnt; i++) {
		if (!*pat[i]) {
			p_err("empty pattern; use '*' to match every function");
			return -EINVAL;
		}
		if (!brackets_balanced(pat[i])) {
			p_err("bad pattern '%s': '[' without a closing ']' (quote it, or write \\[ for a literal bracket)",
			      pat[i]);
			return -EINVAL;
		}
	}
	p->hits = calloc(cnt > 0 ? (size_t)cnt : 1, sizeof(*p->hits));
	if (!p->hits)
		return -ENOMEM;
	p->pat = pat;
	p->cnt = (size_t)cnt;
	return 0;
}

bool patterns__match(struct patterns *p, const char *name)
{
	bool any = false;

	if (!p->cnt)
		return true;
	for (size_t i = 0; i < p->cnt; i++) {
		if (!strcmp(p->pat[i], name) ||
		    !fnmatch(p->pat[i], name, 0)) {
			p->hits[i]++;
			any = true;
		}
	}
	return any;
}

bool patterns__report_unmatched(const struct patterns *p, const char *target)
{
	size_t missing = 0;

	for (size_t i = 0; i < p->cnt; i++)
		if (!p->hits[i])
			missing++;
	if (p->cnt && missing == p->cnt) {
		p_err("no function in %s matches '%s'%s; 'gosnoop list' without a pattern shows them all",
		      target, p->pat[0],
		      p->cnt > 1 ? " (nor the other patterns)" : "");
		return true;
	}
	for (size_t i = 0; i < p->cnt; i++)
		if (!p->hits[i])
			p_warn("no function matches '%s'", p->pat[i]);
	return false;
}

void patterns__free(struct patterns *p)
{
	free(p->hits);
	memset(p, 0, sizeof(*p));
}
