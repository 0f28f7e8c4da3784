// SPDX-License-Identifier: MIT
/*
 * gosnoop list --kernel [PATTERN...]: what ktrace can probe here.
 *   tracepoint:CAT:NAME  from tracefs available_events
 *   tp_btf:NAME          from vmlinux BTF (btf_trace_NAME typedefs)
 *   fentry:FUNC          kernel functions in vmlinux BTF (fexit alike)
 * A PATTERN with a ':' is a glob over the whole probe name
 * ("tracepoint:sched:*", "tp_btf:sched_*"); without, over the part after
 * the probe type ("sched_switch", "sys_enter_*", "tcp_*").
 * With -v, tp_btf events and functions show their typed arguments.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "common.h"
#include "json_writer.h"
#include "ktrace_probe.h"
#include "probe/tracefs.h"

int ktrace_list(int argc, char **argv);

struct klist {
	char **pats;
	int npats;
	bool *matched;
	struct jw *jw;
	size_t count;
	const struct btf *btf;
};

static bool match1(const char *pat, const char *s)
{
	return !fnmatch(pat, s, 0) || !strcmp(pat, s);
}

/* bare: "CAT:NAME" of a tracepoint also matches by NAME alone. */
static bool match(struct klist *k, const char *full, const char *bare)
{
	const char *colon = strchr(bare, ':');
	bool any = false;

	if (!k->npats)
		return true;
	for (int i = 0; i < k->npats; i++) {
		bool m = strchr(k->pats[i], ':') ?
			 match1(k->pats[i], full) || match1(k->pats[i], bare) :
			 match1(k->pats[i], bare) ||
			 (colon && match1(k->pats[i], colon + 1));

		if (m) {
			k->matched[i] = true;
			any = true;
		}
	}
	return any;
}

static void print_args(struct klist *k, const char *full)
{
	struct kt_probe *p = NULL;
	char err[256], tn[128];

	if (kt_probe__parse(full, &p, err, sizeof(err)) ||
	    kt_btf__probe_args(p, k->btf, err, sizeof(err))) {
		kt_probe__free(p);
		return;
	}
	if (k->jw) {
		jw_name(k->jw, "args");
		jw_start_array(k->jw);
	} else {
		printf("(");
	}
	for (int i = 0; i < p->nargs; i++) {
		kt_btf__type_str(k->btf, p->arg_types[i], tn, sizeof(tn));
		if (k->jw) {
			jw_start_object(k->jw);
			jw_name(k->jw, "name"); jw_string(k->jw, p->arg_names[i]);
			jw_name(k->jw, "type"); jw_string(k->jw, tn);
			jw_end_object(k->jw);
		} else {
			printf("%s%s%s%s", i ? ", " : "", tn,
			       tn[strlen(tn) - 1] == '*' ? "" : " ",
			       p->arg_names[i]);
		}
	}
	if (k->jw)
		jw_end_array(k->jw);
	else
		printf(")");
	kt_probe__free(p);
}

static void emit(struct klist *k, const char *kind, const char *full,
		 const char *bare)
{
	bool with_args = verbose && k->btf && strcmp(kind, "tracepoint");

	k->count++;
	if (k->jw) {
		jw_start_object(k->jw);
		jw_name(k->jw, "type"); jw_string(k->jw, "kernel_probe");
		jw_name(k->jw, "kind"); jw_string(k->jw, kind);
		jw_name(k->jw, "name"); jw_string(k->jw, bare);
		jw_name(k->jw, "probe"); jw_string(k->jw, full);
		if (with_args)
			print_args(k, full);
		jw_end_object(k->jw);
		jw_end_line(k->jw);
		return;
	}
	printf("%s", full);
	if (with_args)
		print_args(k, full);
	printf("\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_tracepoints(struct klist *k)
{
	char path[320], line[512], full[600];
	char **names = NULL;
	size_t n = 0, cap = 0;
	FILE *f;
	int err;

	err = tracefs__ensure_mounted(path, sizeof(path));
	if (err) {
		p_warn("no tracepoints: %s", tracefs__strerror(err));
		return 0;
	}
	strncat(path, "/available_events", sizeof(path) - strlen(path) - 1);
	f = fopen(path, "re");
	if (!f) {
		p_warn("no tracepoints: %s: %s", path, strerror(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 1024;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		names[n] = strdup(line);
		if (names[n])
			n++;
	}
	fclose(f);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "tracepoint:%s", names[i]);
		if (match(k, full, names[i]))
			emit(k, "tracepoint", full, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

static void list_btf(struct klist *k, bool tp_btf)
{
	__u32 cnt = btf__type_cnt(k->btf);
	char **names = NULL;
	size_t n = 0;

	names = calloc(cnt, sizeof(*names));
	if (!names)
		return;
	for (__u32 i = 1; i < cnt; i++) {
		const struct btf_type *t = btf__type_by_id(k->btf, i);
		const char *nm = btf__name_by_offset(k->btf, t->name_off);

		if (!nm)
			continue;
		if (tp_btf && btf_is_typedef(t) &&
		    !strncmp(nm, "btf_trace_", 10))
			names[n++] = (char *)nm + 10;
		else if (!tp_btf && btf_is_func(t) &&
			 strncmp(nm, "__bpf_trace_", 12))
			names[n++] = (char *)nm;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char full[320];

		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		snprintf(full, sizeof(full), "%s:%s",
			 tp_btf ? "tp_btf" : "fentry", names[i]);
		if (match(k, full, names[i]))
			emit(k, tp_btf ? "tp_btf" : "fentry", full, names[i]);
	}
	free(names);
}

int ktrace_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct klist k = {};
	const char *btf_err;
	int c, ret = EXIT_OK;

	optind = 0;	/* start afresh: permute (see cmd_ktrace.c) */
	while ((c = getopt_long(argc, argv, "jkvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_output = true;
			break;
		case 'k':
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			printf("Usage: %s list --kernel [--json] [-v] [PATTERN...]\n"
			       "Kernel probes ktrace can use: tracepoint:CAT:NAME,\n"
			       "tp_btf:NAME, fentry:FUNC (fexit:FUNC alike). A PATTERN\n"
			       "with ':' matches the whole name; -v: typed arguments.\n",
			       prog_name);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	k.pats = argv + optind;
	k.npats = argc - optind;
	k.matched = calloc(k.npats + 1, sizeof(bool));
	if (!k.matched)
		return EXIT_FAIL;
	if (json_output)
		k.jw = jw_new(stdout);
	k.btf = kt_btf(&btf_err);
	list_tracepoints(&k);
	if (k.btf) {
		list_btf(&k, true);
		list_btf(&k, false);
	} else {
		p_warn("no tp_btf events or kernel functions: %s", btf_err);
	}
	for (int i = 0; i < k.npats; i++)
		if (!k.matched[i]) {
			p_err("no kernel probe matches '%s'", k.pats[i]);
			ret = EXIT_USAGE;
		}
	jw_free(k.jw);
	free(k.matched);
	return ret;
}
