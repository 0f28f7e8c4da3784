// SPDX-License-Identifier: MIT
/*
 * --folded of `gosnoop trace`: call counts per stack (open addressing on
 * the folded stack string), written in FlameGraph's folded format.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "trace_folded.h"

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

int trace_folded__add(struct tr_folded *tab, const char *key, uint64_t ns)
{
	struct tr_folded_ent *e;
	size_t i;

	if (tab->cnt * 2 >= tab->cap) {
		size_t ncap = tab->cap ? tab->cap * 2 : 1024;
		struct tr_folded_ent *n = calloc(ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t j = 0; j < tab->cap; j++) {
			if (!tab->v[j].key)
				continue;
			i = str_hash(tab->v[j].key) & (ncap - 1);
			while (n[i].key)
				i = (i + 1) & (ncap - 1);
			n[i] = tab->v[j];
		}
		free(tab->v);
		tab->v = n;
		tab->cap = ncap;
	}
	i = str_hash(key) & (tab->cap - 1);
	while (tab->v[i].key && strcmp(tab->v[i].key, key))
		i = (i + 1) & (tab->cap - 1);
	e = &tab->v[i];
	if (!e->key) {
		e->key = strdup(key);
		if (!e->key)
			return -ENOMEM;
		tab->cnt++;
	}
	e->calls++;
	e->ns += ns;
	return 0;
}

/* FlameGraph's folded format: "frame;frame;func count" per line. */
int trace_folded__write(const struct tr_folded *tab, const char *path)
{
	FILE *f = fopen(path, "we");
	int err = 0;

	if (!f) {
		err = -errno;
		p_err("cannot write %s: %s", path, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < tab->cap; i++)
		if (tab->v[i].key)
			fprintf(f, "%s %" PRIu64 "\n", tab->v[i].key,
				tab->v[i].calls);
	if (fclose(f)) {
		err = -errno;
		p_err("cannot write %s: %s", path, strerror(-err));
	}
	return err;
}

void trace_folded__free(struct tr_folded *tab)
{
	for (size_t i = 0; i < tab->cap; i++)
		free(tab->v[i].key);
	free(tab->v);
	tab->v = NULL;
	tab->cap = tab->cnt = 0;
}
