// SPDX-License-Identifier: MIT
/*
 * gosnoop doctor: what this kernel and these privileges let gosnoop do.
 * Every line comes from a real probe (src/probe/features.c), never from
 * the kernel version. Exit 0 when gosnoop's core (privileges, BTF, ring
 * buffer, uprobes) works, else 3 (-EOPNOTSUPP) with the reason on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "common.h"
#include "json_writer.h"
#include "options.h"
#include "record_out.h"
#include "probe/features.h"
#include "probe/tracefs.h"

/*
 * Probe order: privileges first (they explain most failures below), then
 * tracefs before tracepoint (--fix mounts it), lockdown before
 * probe_write_user (which quotes it).
 */
static const enum feature_id doctor_order[] = {
	FEATURE_PRIVILEGES,
	FEATURE_BTF,
	FEATURE_TRACEFS,
	FEATURE_LOCKDOWN,
	FEATURE_RINGBUF,
	FEATURE_UPROBE,
	FEATURE_UPROBE_MULTI,
	FEATURE_ATTACH_COOKIE,
	FEATURE_TRACEPOINT,
	FEATURE_RAW_TP,
	FEATURE_TP_BTF,
	FEATURE_FENTRY,
	FEATURE_FEXIT,
	FEATURE_KPROBE,
	FEATURE_WRITE_USER,
};

_Static_assert(sizeof(doctor_order) / sizeof(doctor_order[0]) == FEATURE__COUNT,
	       "doctor runs every probe");

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s doctor [--json] [--fix] [-v]\n"
		"Probe what this kernel and these privileges allow: each line\n"
		"loads, attaches and triggers a tiny BPF program (or reads the\n"
		"kernel's own answer) and says what it means for gosnoop.\n"
		"Status: ok, missing (the kernel lacks it), refused (the kernel\n"
		"has it but says no, e.g. EPERM), untested (could not be tried).\n"
		"  -f, --fix  mount tracefs at " TRACEFS_DEFAULT_PATH " if needed\n"
		"  --json   one object per line: {\"type\":\"capability\",\"name\",\n"
		"           \"ok\",\"status\",\"detail\",\"impact\"[,\"value\",\"errno\"]}\n"
		"           then {\"type\":\"summary\",\"ok\",...}\n"
		"  -v       show libbpf's messages for the probes that fail\n"
		"Exit: 0 if privileges, BTF, ring buffer and uprobes work, else 3.\n",
		prog_name);
}

static void print_json(struct jw *jw, const struct feature *f)
{
	jw_start_object(jw);
	jw_name(jw, "type");
	jw_string(jw, "capability");
	jw_name(jw, "name");
	jw_string(jw, f->name);
	jw_name(jw, "ok");
	jw_bool(jw, f->status == FEATURE_STATUS_OK);
	jw_name(jw, "status");
	jw_string(jw, feature_status__str(f->status));
	jw_name(jw, "detail");
	jw_string(jw, f->detail);
	jw_name(jw, "impact");
	jw_string(jw, f->impact);
	if (f->value[0]) {
		jw_name(jw, "value");
		jw_string(jw, f->value);
	}
	if (f->err) {
		jw_name(jw, "errno");
		jw_string(jw, features__errno_name(f->err));
	}
	jw_end_object(jw);
	jw_end_line(jw);
}

/* Print text from column `col` on, wrapped at word boundaries so that no
 * line passes 80 columns; continuation lines start at column `indent`. */
static void print_wrapped(const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		int room = 80 - col, len = (int)strlen(p), cut = len;

		if (len > room) {
			/* last blank that fits; a longer word goes whole */
			for (cut = room; cut > 0 && p[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = (int)strcspn(p, " ");
		}
		printf("%.*s\n", cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			printf("%*s", indent, "");
		col = indent;
	}
}

/*
 * One capability in 80 columns:
 *   tp_btf            ok        ktrace tp_btf:* probes available
 *                               (tp_btf:sys_enter fired)
 */
static void print_text(const struct feature *f)
{
	char detail[sizeof(f->detail) + 2];

	printf("%-17s %-9s ", f->name, feature_status__str(f->status));
	print_wrapped(f->impact[0] ? f->impact : "-", 28, 28);
	if (f->detail[0]) {
		snprintf(detail, sizeof(detail), "(%s)", f->detail);
		printf("%28s", "");
		print_wrapped(detail, 28, 28);
	}
}

/* attach: the core's way of probing Go functions, "uprobe_multi" or
 * "uprobe" (features__core_attach) */
static void print_summary(struct jw *jw, bool ok, const struct feature *why,
			  const char *attach)
{
	if (jw) {
		jw_start_object(jw);
		jw_name(jw, "type");
		jw_string(jw, "summary");
		jw_name(jw, "ok");
		jw_bool(jw, ok);
		jw_name(jw, "core");
		jw_start_array(jw);
		jw_string(jw, "privileges");
		jw_string(jw, "btf");
		jw_string(jw, "ringbuf");
		jw_string(jw, attach);
		jw_end_array(jw);
		if (!ok) {
			jw_name(jw, "failed");
			jw_string(jw, why->name);
		}
		jw_end_object(jw);
		jw_end_line(jw);
		return;
	}
	if (ok) {
		printf("%-17s %-9s ", "core", "ok");
		print_wrapped("privileges, BTF, ring buffer and uprobes work: gosnoop can trace Go programs here",
			      28, 28);
	} else {
		printf("%-17s %-9s ", "core", "failed");
		printf("%s %s: gosnoop cannot trace Go programs here\n",
		       why->name, feature_status__str(why->status));
	}
}

/* The one stderr line that says why the core does not work. */
static void report_core_failure(const struct feature *why)
{
	char exe[4096];
	ssize_t n;

	if (strcmp(why->name, "privileges") == 0 &&
	    why->status == FEATURE_STATUS_REFUSED) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		p_err("not enough privileges (%s): run `sudo %s doctor`, or "
		      "grant them: `sudo setcap cap_bpf,cap_perfmon,"
		      "cap_sys_admin+ep %s`", why->detail,
		      n > 0 ? exe : prog_name, n > 0 ? exe : prog_name);
		return;
	}
	p_err("gosnoop's core needs %s, which is %s: %s", why->name,
	      feature_status__str(why->status), why->detail);
}

/* doctor's own option: --fix. */
static int doctor_option(int code, char *arg, void *ctx)
{
	struct features_opts *fopts = ctx;

	(void)arg;
	if (code != 'f')
		return -ENOENT;
	fopts->fix = true;
	return 0;
}

int do_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fix", no_argument, NULL, 'f' },
		{}
	};
	struct features_opts fopts = {};
	struct feature feat[FEATURE__COUNT];
	const char *why_name = NULL;
	const struct feature *why = NULL;
	struct jw *jw = NULL;
	const struct opts_spec spec = {
		.verb = "doctor", .usage = usage, .own_short = "f",
		.own_long = opts, .own = doctor_option, .ctx = &fopts,
	};
	int first, ret;
	bool ok;

	ret = opts__parse(&spec, &argc, argv, &first);
	if (ret)
		return ret > 0 ? EXIT_OK : ret;
	if (first < argc) {
		p_err("doctor takes no arguments ('%s'); see '%s doctor --help'",
		      argv[first], prog_name);
		return -EINVAL;
	}
	if (json_output) {
		jw = jw_new(stdout);
		if (!jw) {
			p_err("out of memory");
			return -ENOMEM;
		}
	}

	/*
	 * Print as we go: a probe that hangs or crashes the kernel side
	 * should leave the lines before it on the screen.
	 */
	for (size_t i = 0; i < FEATURE__COUNT; i++) {
		struct feature *f = &feat[doctor_order[i]];

		features__probe(doctor_order[i], f, &fopts);
		if (jw)
			print_json(jw, f);
		else
			print_text(f);
		record_out__flush();
	}

	ok = features__core_ok(feat, &why_name);
	if (!ok) {
		for (size_t i = 0; i < FEATURE__COUNT; i++)
			if (strcmp(feat[i].name, why_name) == 0)
				why = &feat[i];
	}
	print_summary(jw, ok, why,
		      feature__name(features__core_attach(feat)));
	record_out__flush();
	jw_free(jw);
	if (!ok) {
		report_core_failure(why);
		return -EOPNOTSUPP;	/* exit 3 */
	}
	return 0;
}
