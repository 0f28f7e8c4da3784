// SPDX-License-Identifier: MIT
/*
 * gosnoop list: functions of a Go binary from .gopclntab, so stripped
 * binaries list exactly what their unstripped twins do.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "options.h"
#include "pattern.h"
#include "target.h"

static void print_func(struct jw *jw, const struct gobin *gb,
		       const struct gobin_func *f, uint64_t bias)
{
	const char *file = NULL;
	int line = 0;

	gobin__func_line(gb, f, f->entry, &file, &line);
	if (jw) {
		jw_start_object(jw);
		jw_name(jw, "name"); jw_string(jw, f->name);
		jw_name(jw, "addr"); jw_hex(jw, f->entry);
		if (bias) {
			jw_name(jw, "runtime_addr");
			jw_hex(jw, f->entry + bias);
		}
		jw_name(jw, "size"); jw_uint(jw, f->end - f->entry);
		jw_name(jw, "file"); jw_string(jw, file);
		jw_name(jw, "line"); jw_int(jw, file ? line : 0);
		jw_end_object(jw);
		jw_end_line(jw);
		return;
	}
	printf("0x%-10" PRIx64 " %6" PRIu64 "  %s", f->entry + bias,
	       f->end - f->entry, f->name);
	if (file)
		printf("  %s:%d", file, line);
	printf("\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s list [--json] TARGET [PATTERN...]\n"
		"       %s list --kernel [--json] [PATTERN...]\n"
		"TARGET: PATH | -p PID | -- CMD ARGS (patterns go before '--')\n"
		"  -p, --pid PID  the binary a running process runs (and its\n"
		"                 run-time addresses)\n"
		"  -k, --kernel   kernel probes and structs instead (below)\n"
		"PATTERN: shell glob over Go names, e.g. 'main.*',\n"
		"         'net/http.(*conn).*'; an exact name always matches\n"
		"         itself, so 'main.Map[...]' needs no escaping.\n"
		"Columns: address (file vaddr; runtime address with -p on a\n"
		"PIE), size, name, file:line of the function's entry.\n"
		"--kernel: tracepoints, tp_btf events and BTF functions\n"
		"(the probes ktrace takes), e.g. 'tracepoint:syscalls:*';\n"
		"-v: their fields and arguments; 'struct NAME': a kernel\n"
		"struct (with -v its members).\n",
		prog_name, prog_name);
}

/* --kernel goes to ktrace_list() before parsing: in the table only so
 * that --help's peers (the completion) name it. */
static int list_option(int code, char *arg, void *ctx)
{
	(void)code, (void)arg, (void)ctx;
	return -ENOENT;
}

int do_list(int argc, char **argv)
{
	static const struct option own[] = {
		{ "kernel", no_argument, NULL, 'k' },
		{}
	};
	struct target t = {};
	struct gobin *gb = NULL;
	struct patterns pats = {};
	struct jw *jw = NULL;
	const char *path_arg = NULL;
	uint64_t bias = 0;
	pid_t pid = 0;
	const struct opts_spec spec = {
		.verb = "list", .usage = usage, .target = &t, .pid = &pid,
		.own_short = "k", .own_long = own, .own = list_option,
	};
	int ret, first_pat;

	/* Kernel events are listed by ktrace's own code (src/ktrace_list.c). */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--kernel") || !strcmp(argv[i], "-k"))
			return ktrace_list(argc, argv);
	ret = opts__parse(&spec, &argc, argv, &first_pat);
	if (ret)
		return ret > 0 ? EXIT_OK : ret;
	first_pat = target__take_path(&t, pid, argc, argv, first_pat,
				      &path_arg);
	ret = patterns__init(&pats, argv + first_pat, argc - first_pat);
	if (ret)
		return ret;
	ret = target__resolve(&t, path_arg, pid);
	if (ret)
		goto cleanup;
	ret = target__open_gobin(&t, &gb);
	if (ret)
		goto cleanup;
	if (t.kind == TARGET_PID && target__load_bias(t.pid, gb, &bias))
		bias = 0;
	if (json_output) {
		jw = jw_new(stdout);
		if (!jw) {
			ret = -ENOMEM;
			goto cleanup;
		}
	}
	for (size_t i = 0; i < gobin__func_cnt(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i);

		if (!patterns__match(&pats, f->name))
			continue;
		print_func(jw, gb, f, bias);
	}
	/* a pattern that matched nothing: no match is bad input */
	ret = patterns__report_unmatched(&pats, t.display) ? -ENOENT : 0;
cleanup:
	jw_free(jw);
	patterns__free(&pats);
	gobin__free(gb);
	return ret;
}
