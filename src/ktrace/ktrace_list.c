// SPDX-License-Identifier: MIT
/*
 * gosnoop list --kernel [PATTERN...]: what ktrace can probe here.
 *   tracepoint:CAT:NAME  from tracefs available_events
 *   tp_btf:NAME          from vmlinux BTF (btf_trace_NAME typedefs)
 *   fentry:FUNC          kernel functions in vmlinux BTF (fexit alike)
 * A PATTERN with a ':' is a glob over the whole probe name
 * ("tracepoint:sched:*", "tp_btf:sched_*"); without, over the part after
 * the probe type ("sched_switch", "sys_enter_*", "tcp_*").
 * With -v, tp_btf events and functions show their typed arguments and
 * tracepoints their fields (from the tracefs format file, as bpftrace -lv
 * prints them: what -o and --filter name).
 * 'struct NAME' (or 'struct:NAME', a glob too) lists kernel structs and
 * unions from BTF; with -v their members, typed, with offsets (what a
 * '-o prev->comm' style expression walks), as bpftrace -lv 'struct X' does.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "common.h"
#include "probe/tracefs.h"
#include "json_writer.h"
#include "ktrace_names.h"
#include "ktrace_probe.h"
#include "ktrace_structs.h"
#include "options.h"

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

/* The name a tracefs field declaration declares ("char comm[16]",
 * "__data_loc char[] name", "const char * filename"): the last identifier
 * before a trailing [N]; *end is where it ends. */
static char *decl_name(char *decl, char **end)
{
	char *e = decl + strlen(decl), *n;

	while (e > decl && e[-1] == ' ')
		e--;
	if (e > decl && e[-1] == ']') {
		char *open = memrchr(decl, '[', e - decl);

		/* "char[] name" has its brackets before the name */
		if (open && open > decl && open[-1] != ' ' &&
		    (isalnum((unsigned char)open[-1]) || open[-1] == '_') &&
		    strrchr(decl, ' ') < open)
			e = open;
	}
	for (n = e; n > decl && (n[-1] == '_' || isalnum((unsigned char)n[-1]));
	     n--)
		;
	*end = e;
	return n;
}

/* One field as {"name","type","offset","size","signed"}; the type is
 * the declaration without its name ("char[16]", "const char *"). */
static void json_tp_field(struct jw *jw, const char *decl, const char *name,
			  const char *end, unsigned int off, unsigned int size,
			  int sgn)
{
	size_t pre = (size_t)(name - decl);
	char ty[512];

	while (pre && decl[pre - 1] == ' ')
		pre--;
	snprintf(ty, sizeof(ty), "%.*s%s", (int)pre, decl, end);
	jw_start_object(jw);
	jw_name(jw, "name"); jw_string_len(jw, name, end - name);
	jw_name(jw, "type"); jw_string(jw, ty);
	jw_name(jw, "offset"); jw_uint(jw, off);
	jw_name(jw, "size"); jw_uint(jw, size);
	jw_name(jw, "signed"); jw_bool(jw, sgn);
	jw_end_object(jw);
}

/*
 * The fields of tracepoint CAT:NAME, one per line ("    const char *
 * filename", as bpftrace -lv prints them) or as JSON "fields", from its
 * tracefs format file; the common_* header is left out.
 */
static void print_tp_fields(struct klist *k, const char *bare)
{
	const char *tracefs = tracefs__path(), *colon = strchr(bare, ':');
	char path[512], line[1024];
	FILE *f;

	if (!tracefs || !colon)
		return;
	snprintf(path, sizeof(path), "%s/events/%.*s/%s/format", tracefs,
		 (int)(colon - bare), bare, colon + 1);
	f = fopen(path, "re");
	if (!f) {
		p_warn("%s: %s", path, strerror(errno));
		return;
	}
	if (k->jw) {
		jw_name(k->jw, "fields");
		jw_start_array(k->jw);
	}
	while (fgets(line, sizeof(line), f)) {
		char *decl = strstr(line, "field:"), *semi, *name, *end;
		unsigned int off = 0, size = 0;
		int sgn = 0;

		if (!decl || !(semi = strchr(decl, ';')))
			continue;
		decl += 6;
		*semi = '\0';
		sscanf(semi + 1, " offset:%u; size:%u; signed:%d", &off, &size,
		       &sgn);
		name = decl_name(decl, &end);
		if (!strncmp(name, "common_", 7))
			continue;
		if (k->jw)
			json_tp_field(k->jw, decl, name, end, off, size, sgn);
		else
			printf("    %s\n", decl);
	}
	if (k->jw)
		jw_end_array(k->jw);
	fclose(f);
}

static void emit(struct klist *k, const char *kind, const char *full,
		 const char *bare)
{
	bool with_args = verbose && k->btf && strcmp(kind, "tracepoint");
	bool with_fields = verbose && !strcmp(kind, "tracepoint");

	k->count++;
	if (k->jw) {
		jw_start_object(k->jw);
		jw_name(k->jw, "type"); jw_string(k->jw, "kernel_probe");
		jw_name(k->jw, "kind"); jw_string(k->jw, kind);
		jw_name(k->jw, "name"); jw_string(k->jw, bare);
		jw_name(k->jw, "probe"); jw_string(k->jw, full);
		if (with_args)
			print_args(k, full);
		if (with_fields)
			print_tp_fields(k, bare);
		jw_end_object(k->jw);
		jw_end_line(k->jw);
		return;
	}
	printf("%s", full);
	if (with_args)
		print_args(k, full);
	printf("\n");
	if (with_fields)
		print_tp_fields(k, bare);
}

static void emit_matching(const char *full, const char *bare, void *ctx)
{
	struct klist *k = ctx;
	const char *kind = !strncmp(full, "tracepoint:", 11) ? "tracepoint" :
			   !strncmp(full, "tp_btf:", 7) ? "tp_btf" : "fentry";

	if (match(k, full, bare))
		emit(k, kind, full, bare);
}

/*
 * The 'struct NAME' patterns: listed here and taken out of k->pats.
 * Returns how many there were, or -ENOENT (one matched nothing),
 * -EOPNOTSUPP (no BTF: exit 3), -ENOMEM, each after its error line.
 */
static int list_structs(struct klist *k, const char *btf_err)
{
	int nstructs = 0, kept = 0, ret = 0;

	for (int i = 0; i < k->npats; i++) {
		const char *glob;
		bool is_union;
		size_t cnt;

		glob = kt_structs__pattern(k->pats[i], &is_union);
		if (!glob) {
			k->pats[kept++] = k->pats[i];
			continue;
		}
		nstructs++;
		if (!k->btf) {
			p_err("'%s': kernel structs come from vmlinux BTF: %s",
			      k->pats[i], btf_err);
			return -EOPNOTSUPP;
		}
		ret = kt_structs__list(k->btf, k->jw, glob, is_union, verbose,
				       &cnt);
		if (ret)
			return ret;
		if (!cnt) {
			p_err("no kernel %s matches '%s' (try: gosnoop list --kernel '%s %.*s*')",
			      is_union ? "union" : "struct", glob,
			      is_union ? "union" : "struct", 3, glob);
			return -ENOENT;
		}
	}
	k->npats = kept;
	return nstructs;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s list --kernel [--json] [-v] [PATTERN...]\n"
		"Kernel probes ktrace can use: tracepoint:CAT:NAME,\n"
		"tp_btf:NAME, fentry:FUNC (fexit:FUNC alike). A PATTERN\n"
		"with ':' matches the whole name; -v: typed arguments,\n"
		"tracepoint fields. 'struct NAME' (a glob; 'union NAME'):\n"
		"kernel structs, with -v their members and offsets.\n",
		prog_name);
}

/* --kernel itself: it brought us here (cmd_list.c). */
static int list_option(int code, char *arg, void *ctx)
{
	(void)arg, (void)ctx;
	return code == 'k' ? 0 : -ENOENT;
}

/* 0, or -errno after one line (main.c's finish() maps it). */
int ktrace_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", no_argument, NULL, 'k' },
		{}
	};
	const struct opts_spec spec = {
		.verb = "list", .usage = usage, .own_short = "k",
		.own_long = opts, .own = list_option,
	};
	struct klist k = {};
	const char *btf_err;
	char why[400];
	int first, ret, nstructs, tp_err;
	bool unmatched = false;

	ret = opts__parse(&spec, &argc, argv, &first);
	if (ret)
		return ret > 0 ? 0 : ret;
	k.pats = argv + first;
	k.npats = argc - first;
	k.matched = calloc(k.npats + 1, sizeof(bool));
	if (!k.matched)
		return -ENOMEM;
	if (json_output)
		k.jw = jw_new(stdout);
	k.btf = kt_btf(&btf_err);
	nstructs = list_structs(&k, btf_err);
	if (nstructs < 0) {
		ret = nstructs;
		goto out;
	}
	if (!k.npats && nstructs)
		goto out;	/* only structs asked for */
	tp_err = kt_names__tracepoints(emit_matching, &k, why, sizeof(why));
	if (k.btf) {
		kt_names__btf(k.btf, true, emit_matching, &k);
		kt_names__btf(k.btf, false, emit_matching, &k);
	} else {
		p_warn("no tp_btf events or kernel functions: %s", btf_err);
	}
	for (int i = 0; i < k.npats; i++)
		unmatched |= !k.matched[i];
	/* tracefs is root's: "no match" would be a guess, not an answer */
	if (unmatched && (tp_err == -EACCES || tp_err == -EPERM)) {
		p_err("cannot read the tracepoints (%s): %s", why, PRIV_HINT);
		ret = tp_err;
		goto out;
	}
	if (tp_err)
		p_warn("no tracepoints: %s", why);
	for (int i = 0; i < k.npats; i++)
		if (!k.matched[i]) {
			p_err("no kernel probe matches '%s'", k.pats[i]);
			ret = -ENOENT;
		}
out:
	jw_free(k.jw);
	free(k.matched);
	return ret;
}
