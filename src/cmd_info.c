// SPDX-License-Identifier: MIT
/* gosnoop info: what gosnoop knows about one Go binary. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "options.h"
#include "target.h"

static const char *ver_source_name(enum gobin_version_source s)
{
	switch (s) {
	case GOBIN_VER_BUILDINFO: return "buildinfo";
	case GOBIN_VER_SYMBOL:    return "runtime.buildVersion symbol";
	case GOBIN_VER_SCAN:      return "runtime.buildVersion string (scan)";
	default:                  return "unknown";
	}
}

static const char *layout_source_name(enum gobin_layout_source s)
{
	switch (s) {
	case GOBIN_LAYOUT_DWARF: return "dwarf";
	case GOBIN_LAYOUT_TABLE: return "table";
	default:                 return "none";
	}
}

/* The offsets info shows, in one place for text and JSON. */
struct named_off {
	const char *name;
	int off;
};

static size_t layout_fields(const struct gobin_layout *l,
			    struct named_off *out)
{
	const struct named_off f[] = {
		{ "g.goid", l->g_goid },
		{ "g.atomicstatus", l->g_atomicstatus },
		{ "g.waitreason", l->g_waitreason },
		{ "g.startpc", l->g_startpc },
		{ "g.gopc", l->g_gopc },
		{ "g.m", l->g_m },
		{ "g.sched.sp", l->g_sched_sp },
		{ "g.sched.pc", l->g_sched_pc },
		{ "g.sched.bp", l->g_sched_bp },
		{ "g.stack.lo", l->g_stack_lo },
		{ "g.stack.hi", l->g_stack_hi },
		{ "m.procid", l->m_procid },
		{ "m.curg", l->m_curg },
	};

	memcpy(out, f, sizeof(f));
	return sizeof(f) / sizeof(f[0]);
}

static void print_json(const struct target *t, const struct gobin *gb,
		       bool have_bias, uint64_t bias)
{
	const struct gobin_elf_info *e = gobin__elf(gb);
	const struct gobin_buildinfo *bi = gobin__buildinfo(gb);
	const struct gobin_layout *l = gobin__layout(gb);
	const struct gobin_abi_info *a = gobin__abi(gb);
	struct named_off offs[16];
	size_t n = layout_fields(l, offs);
	struct jw *jw = jw_new(stdout);

	if (!jw)
		return;
	jw_start_object(jw);
	jw_name(jw, "type"); jw_string(jw, "info");
	jw_name(jw, "path"); jw_string(jw, t->path);
	if (t->kind == TARGET_PID) {
		jw_name(jw, "pid"); jw_int(jw, t->pid);
		if (have_bias) {
			jw_name(jw, "load_bias"); jw_hex(jw, bias);
		}
	}
	jw_name(jw, "go_version"); jw_string(jw, gobin__go_version(gb));
	jw_name(jw, "go_version_source");
	jw_string(jw, ver_source_name(gobin__go_version_source(gb)));
	jw_name(jw, "buildinfo"); jw_bool(jw, bi->present);
	jw_name(jw, "main_path"); jw_string(jw, bi->path);
	jw_name(jw, "module"); jw_string(jw, bi->main.path);
	jw_name(jw, "module_version"); jw_string(jw, bi->main.version);
	jw_name(jw, "deps");
	jw_start_array(jw);
	for (size_t i = 0; i < bi->dep_cnt; i++) {
		const struct gobin_module *m = &bi->deps[i];

		jw_start_object(jw);
		jw_name(jw, "path"); jw_string(jw, m->path);
		jw_name(jw, "version"); jw_string(jw, m->version);
		if (m->sum) {
			jw_name(jw, "sum"); jw_string(jw, m->sum);
		}
		if (m->replace_path) {
			jw_name(jw, "replace_path");
			jw_string(jw, m->replace_path);
			jw_name(jw, "replace_version");
			jw_string(jw, m->replace_version);
		}
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_name(jw, "settings");
	jw_start_object(jw);
	for (size_t i = 0; i < bi->setting_cnt; i++) {
		jw_name(jw, bi->settings[i].key);
		jw_string(jw, bi->settings[i].value);
	}
	jw_end_object(jw);
	jw_name(jw, "pclntab_format");
	jw_string(jw, gobin__pcln_format_name(gobin__pcln_format(gb)));
	jw_name(jw, "pclntab_magic"); jw_hex(jw, gobin__pcln_format(gb));
	jw_name(jw, "pclntab_addr"); jw_hex(jw, gobin__pcln_addr(gb));
	jw_name(jw, "text_start"); jw_hex(jw, gobin__text_start(gb));
	jw_name(jw, "functions"); jw_uint(jw, gobin__func_cnt(gb));
	jw_name(jw, "stripped"); jw_bool(jw, !e->has_symtab);
	jw_name(jw, "pie"); jw_bool(jw, e->pie);
	jw_name(jw, "cgo"); jw_bool(jw, e->cgo);
	jw_name(jw, "dynamic"); jw_bool(jw, e->dynamic);
	jw_name(jw, "dwarf"); jw_bool(jw, e->has_dwarf);
	jw_name(jw, "abi"); jw_string(jw, gobin__abi_name(a->abi));
	jw_name(jw, "g_in_r14"); jw_bool(jw, a->g_in_r14);
	jw_name(jw, "tls_g_offset"); jw_int(jw, a->tls_g_offset);
	jw_name(jw, "tls_how"); jw_string(jw, a->tls_how);
	jw_name(jw, "layout_source");
	jw_string(jw, layout_source_name(l->source));
	if (l->table_minor >= 0) {
		jw_name(jw, "layout_table_release");
		jw_int(jw, l->table_minor);
	}
	jw_name(jw, "offsets");
	jw_start_object(jw);
	for (size_t i = 0; i < n; i++) {
		jw_name(jw, offs[i].name);
		if (offs[i].off >= 0)
			jw_int(jw, offs[i].off);
		else
			jw_null(jw);
	}
	jw_end_object(jw);
	jw_end_object(jw);
	jw_end_line(jw);
	jw_free(jw);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void print_text(const struct target *t, const struct gobin *gb,
		       bool have_bias, uint64_t bias)
{
	const struct gobin_elf_info *e = gobin__elf(gb);
	const struct gobin_buildinfo *bi = gobin__buildinfo(gb);
	const struct gobin_layout *l = gobin__layout(gb);
	const struct gobin_abi_info *a = gobin__abi(gb);
	const char *ver = gobin__go_version(gb);
	struct named_off offs[16];
	size_t n = layout_fields(l, offs);
	int col = 0;

	printf("%-13s %s\n", "path:", t->path);
	if (t->kind == TARGET_PID) {
		printf("%-13s %d\n", "pid:", t->pid);
		if (have_bias)
			printf("%-13s 0x%" PRIx64 "\n", "load bias:", bias);
	}
	printf("%-13s %s (from %s)\n", "go version:", ver ? ver : "unknown",
	       ver_source_name(gobin__go_version_source(gb)));
	if (bi->main.path)
		printf("%-13s %s %s\n", "module:", bi->main.path,
		       bi->main.version ? bi->main.version : "");
	if (bi->path)
		printf("%-13s %s\n", "main package:", bi->path);
	if (bi->dep_cnt)
		printf("%-13s %zu modules\n", "dependencies:", bi->dep_cnt);
	for (size_t i = 0; i < bi->setting_cnt; i++)
		printf("%-13s %s=%s\n", i ? "" : "build:", bi->settings[i].key,
		       bi->settings[i].value);
	printf("%-13s %s format (magic 0x%x) at 0x%" PRIx64 "\n", "pclntab:",
	       gobin__pcln_format_name(gobin__pcln_format(gb)),
	       (unsigned int)gobin__pcln_format(gb), gobin__pcln_addr(gb));
	printf("%-13s %zu\n", "functions:", gobin__func_cnt(gb));
	printf("%-13s %s\n", "stripped:",
	       e->has_symtab ? "no (.symtab present)" : "yes (no .symtab)");
	printf("%-13s %s\n", "pie:", yes_no(e->pie));
	printf("%-13s %s%s\n", "cgo:", yes_no(e->cgo),
	       e->dynamic ? " (dynamically linked)" : "");
	printf("%-13s %s\n", "dwarf:", yes_no(e->has_dwarf));
	printf("%-13s %s\n", "abi:", gobin__abi_name(a->abi));
	printf("%-13s %sTLS fsbase%+" PRId64 " (%s)\n", "current g:",
	       a->g_in_r14 ? "R14 in Go code; " : "", a->tls_g_offset,
	       a->tls_how);
	printf("%-13s from %s", "g layout:", layout_source_name(l->source));
	if (l->source == GOBIN_LAYOUT_TABLE)
		printf(" (row go1.%d)", l->table_minor);
	if (l->source == GOBIN_LAYOUT_NONE)
		printf(" (unknown Go release: sched and stacks unavailable)");
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		char cell[40];
		bool last = ++col == 3 || i + 1 == n;

		if (offs[i].off < 0)
			snprintf(cell, sizeof(cell), "%s ?", offs[i].name);
		else
			snprintf(cell, sizeof(cell), "%s %d", offs[i].name,
				 offs[i].off);
		if (last) {
			printf("%s%s\n", col == 1 ? "  " : "", cell);
			col = 0;
		} else {
			printf("%s%-22s", col == 1 ? "  " : "", cell);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s info [--json] TARGET\n"
		   "TARGET: PATH | -p PID | -- CMD ARGS\n"
		   "  -p, --pid PID  the binary a running process runs\n",
		prog_name);
}

int do_info(int argc, char **argv)
{
	struct target t = {};
	struct gobin *gb = NULL;
	uint64_t bias = 0;
	bool have_bias = false;
	const char *path_arg;
	pid_t pid = 0;
	const struct opts_spec spec = {
		.verb = "info", .usage = usage, .target = &t, .pid = &pid,
	};
	int first, ret;

	ret = opts__parse(&spec, &argc, argv, &first);
	if (ret)
		return ret > 0 ? EXIT_OK : ret;
	ret = opts__one_target(&spec, argc, argv, first, &path_arg);
	if (ret)
		return ret;
	ret = target__resolve(&t, path_arg, pid);
	if (ret)
		return ret;
	ret = target__open_gobin(&t, &gb);
	if (ret)
		return ret;
	if (t.kind == TARGET_PID)
		have_bias = !target__load_bias(t.pid, gb, &bias);
	if (json_output)
		print_json(&t, gb, have_bias, bias);
	else
		print_text(&t, gb, have_bias, bias);
	gobin__free(gb);
	return 0;
}
