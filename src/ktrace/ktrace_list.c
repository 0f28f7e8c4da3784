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
#include "ktrace_names.h"
#include "ktrace_probe.h"

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

static void emit_matching(const char *full, const char *bare, void *ctx)
{
	struct klist *k = ctx;
	const char *kind = !strncmp(full, "tracepoint:", 11) ? "tracepoint" :
			   !strncmp(full, "tp_btf:", 7) ? "tp_btf" : "fentry";

	if (match(k, full, bare))
		emit(k, kind, full, bare);
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
	char why[400];
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
			p_bad_option("list", argv);
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
	if (kt_names__tracepoints(emit_matching, &k, why, sizeof(why)))
		p_warn("no tracepoints: %s", why);
	if (k.btf) {
		kt_names__btf(k.btf, true, emit_matching, &k);
		kt_names__btf(k.btf, false, emit_matching, &k);
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
