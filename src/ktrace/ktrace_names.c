// SPDX-License-Identifier: MIT
/* Kernel probe names and glob expansion: see ktrace_names.h. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "ktrace_names.h"
#include "ktrace_probe.h"
#include "probe/tracefs.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kt_names__tracepoints(kt_name_fn cb, void *ctx, char *why,
			  size_t whylen)
{
	char path[320], line[512], full[600];
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;
	FILE *f;

	err = tracefs__ensure_mounted(path, sizeof(path));
	if (err) {
		snprintf(why, whylen, "%s", tracefs__strerror(err));
		return err;
	}
	strncat(path, "/available_events", sizeof(path) - strlen(path) - 1);
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-err));
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 1024;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				err = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(line);
		if (!names[n]) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	fclose(f);
	if (err)
		snprintf(why, whylen, "%s", strerror(-err));
	else
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!err) {
			snprintf(full, sizeof(full), "tracepoint:%s", names[i]);
			cb(full, names[i], ctx);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

void kt_names__btf(const struct btf *btf, bool tp_btf, kt_name_fn cb,
		   void *ctx)
{
	__u32 cnt = btf__type_cnt(btf);
	const char **names;
	size_t n = 0;

	names = calloc(cnt, sizeof(*names));
	if (!names)
		return;
	for (__u32 i = 1; i < cnt; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		const char *nm = btf__name_by_offset(btf, t->name_off);

		if (!nm)
			continue;
		if (tp_btf && btf_is_typedef(t) &&
		    !strncmp(nm, "btf_trace_", 10))
			names[n++] = nm + 10;
		else if (!tp_btf && btf_is_func(t) &&
			 strncmp(nm, "__bpf_trace_", 12))
			names[n++] = nm;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char full[320];

		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		snprintf(full, sizeof(full), "%s:%s",
			 tp_btf ? "tp_btf" : "fentry", names[i]);
		cb(full, names[i], ctx);
	}
	free(names);
}

bool kt_names__is_glob(const char *probe)
{
	const char *colon = strchr(probe, ':');

	return colon && strpbrk(colon + 1, "*?[");
}

struct expansion {
	const char *type;	/* "fexit" etc.: the prefix of what is made */
	const char *pat;	/* matched against the bare name */
	size_t max;
	char **names;
	size_t n;
	int err;
};

static void expand_one(const char *full, const char *bare, void *ctx)
{
	struct expansion *x = ctx;
	char **nn;

	if (x->err || fnmatch(x->pat, bare, 0))
		return;
	if (x->n == x->max) {
		x->err = -E2BIG;
		return;
	}
	nn = realloc(x->names, (x->n + 1) * sizeof(*nn));
	if (!nn || asprintf(&nn[x->n], "%s:%s", x->type, bare) < 0) {
		x->names = nn ? nn : x->names;
		x->err = -ENOMEM;
		return;
	}
	x->names = nn;
	x->n++;
}

int kt_names__expand(const char *probe, const struct btf *btf, size_t max,
		     char ***out, size_t *n, char *err, size_t errlen)
{
	const char *colon = strchr(probe, ':');
	struct expansion x = { .max = max };
	char type[16], why[400];
	enum kt_kind kind;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!colon || kt_kind_parse(probe, colon - probe, &kind) ||
	    (size_t)(colon - probe) >= sizeof(type)) {
		snprintf(err, errlen, "probe '%s': expected tracepoint:CAT:NAME, "
			 "tp_btf:NAME, fentry:FUNC or fexit:FUNC (globs allowed "
			 "in the names)", probe);
		return -EINVAL;
	}
	x.pat = colon + 1;
	if (kind == KT_KIND_TRACEPOINT) {
		if (!strchr(x.pat, ':')) {
			snprintf(err, errlen, "probe '%s': expected "
				 "tracepoint:CATEGORY:NAME (globs allowed in "
				 "both)", probe);
			return -EINVAL;
		}
		x.type = "tracepoint";
		ret = kt_names__tracepoints(expand_one, &x, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "probe '%s': cannot list "
				 "tracepoints: %s", probe, why);
			goto fail;
		}
	} else {
		if (!btf) {
			snprintf(err, errlen, "probe '%s': a %s glob needs "
				 "kernel BTF to list what it matches", probe,
				 kt_kind_name(kind));
			ret = -EOPNOTSUPP;	/* the kernel lacks it: exit 3 */
			goto fail;
		}
		snprintf(type, sizeof(type), "%.*s", (int)(colon - probe),
			 probe);
		x.type = type;
		kt_names__btf(btf, kind == KT_KIND_TP_BTF, expand_one, &x);
	}
	ret = x.err;
	if (ret == -E2BIG)
		snprintf(err, errlen, "probe '%s' matches more than %zu probes; "
			 "narrow it (gosnoop list --kernel '%s' shows them)",
			 probe, max, probe);
	else if (ret)
		snprintf(err, errlen, "probe '%s': %s", probe, strerror(-ret));
	else if (!x.n) {
		snprintf(err, errlen, "probe '%s' matches nothing (gosnoop list "
			 "--kernel shows what there is)", probe);
		ret = -ENOENT;
	}
	if (ret)
		goto fail;
	*out = x.names;
	*n = x.n;
	return 0;
fail:
	for (size_t i = 0; i < x.n; i++)
		free(x.names[i]);
	free(x.names);
	return ret;
}
