// SPDX-License-Identifier: MIT
/*
 * gosnoop - see inside running Go programs with eBPF.
 * main() only picks the subcommand; each lives in its own cmd_<verb>.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common.h"
#include "options.h"
#include "completion.h"
#include "record_out.h"

#ifndef GOSNOOP_VERSION
#define GOSNOOP_VERSION "0.1.0"
#endif

struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "info",   do_info,   "Go version, build, pclntab, ABI and runtime layout of a binary" },
	{ "list",   do_list,   "functions of a Go binary (works on stripped binaries)" },
	{ "doctor", do_doctor, "what this kernel and these privileges allow gosnoop to do" },
	{ "sched",  do_sched,  "every goroutine's life: running, runnable, waiting, why" },
	{ "ktrace", do_ktrace, "kernel events, BTF-typed, tied to the goroutine that caused them" },
	{ "count",  do_count,  "calls per function, counted in the kernel" },
	{ "latency", do_latency, "call duration histograms per function" },
	{ "cost",   do_cost,   "what tracing these functions would cost (estimate)" },
	{ "serve",  do_serve,  "export function metrics to Prometheus (daemon)" },
	{ "trace",  do_trace,  "Go function calls with typed arguments, results and durations" },
	{ "completion", do_completion, "print a shell completion script (bash)" },
};

const char *main__cmd_name(size_t i)
{
	return i < sizeof(cmds) / sizeof(cmds[0]) ? cmds[i].name : NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-v] [--json] COMMAND [ARGS...]\n"
		"       %s COMMAND --help\n\n"
		"TARGET is one of:  PATH   (a Go executable)\n"
		"                   -p PID (a running Go process, also in a container)\n"
		"                   -- CMD ARGS... (a command to run)\n\n"
		"Commands:\n",
		prog_name, prog_name);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f,
		"\nOptions:\n"
		"  -j, --json     JSON lines on stdout\n"
		"  -v, --verbose  more detail (twice: libbpf debug output)\n"
		"  -V, --version  print the version\n"
		"  -h, --help     this text; COMMAND --help: what COMMAND takes\n"
		"\nExit codes: 0 ok, 1 runtime failure, 2 usage or bad input,\n"
		"3 kernel feature or privilege missing.\n");
}

/* An unambiguous prefix picks a command, as bpftool allows. */
static const struct cmd *find_cmd(const char *name)
{
	const struct cmd *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
		if (len && !strncmp(cmds[i].name, name, len)) {
			if (found)
				return NULL;
			found = &cmds[i];
		}
	}
	return found;
}

int main__cmd_run(const char *name, int argc, char **argv)
{
	const struct cmd *cmd = find_cmd(name);

	if (!cmd)
		return -ENOENT;
	optind = 0;
	return cmd->func(argc, argv);
}

/*
 * The one exit path of every command: a -errno a command returns becomes
 * its documented exit code (exit_code_for), and output that could not be
 * written is a failure, as coreutils' close_stdout makes it: `list >
 * /dev/full` exits 1 with one line, not 0 with nothing said. A reader that
 * went away (EPIPE: `| head`) is not an error. A command's non-negative
 * status passes as it is: with -- CMD it is CMD's.
 */
static int finish(int rc)
{
	int werr = record_out__close();

	if (rc < 0)
		rc = exit_code_for(rc);
	if (werr && werr != EPIPE) {
		if (werr > 0)
			p_err("cannot write to standard output: %s",
			      strerror(werr));
		else
			p_err("cannot write to standard output");
		if (!rc)
			rc = EXIT_FAIL;
	}
	return rc;
}

/* -V/--version: the one option only gosnoop itself takes. */
static int global_option(int code, char *arg, void *ctx)
{
	(void)arg, (void)ctx;
	if (code != 'V')
		return -ENOENT;
	printf("gosnoop %s\n", GOSNOOP_VERSION);
	return 1;
}

/* gosnoop's own options, before the command name (-j, -v, -h as every
 * command's: options.c): 0 to go on with argv[*first] the command, 1
 * after --help or --version, or -EINVAL after one line. */
static int parse_global_options(int argc, char **argv, int *first)
{
	static const struct option opts[] = {
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	const struct opts_spec spec = {
		.usage = usage, .stop_at_positional = true, .own_short = "V",
		.own_long = opts, .own = global_option,
	};

	opterr = 0;	/* one line of our own for a bad option (p_bad_option) */
	return opts__parse(&spec, &argc, argv, first);
}

int main(int argc, char **argv)
{
	const struct cmd *cmd;
	int ret, first;

	setup_libbpf_logging();
	/* every way out through finish(): --help > /dev/full is exit 1 too */
	ret = parse_global_options(argc, argv, &first);
	if (ret)
		return finish(ret > 0 ? 0 : ret);
	if (first >= argc) {
		usage(stderr);
		return finish(-EINVAL);
	}
	if (!strcmp(argv[first], "help")) {
		usage(stdout);
		return finish(0);
	}
	/* hidden: what the completion script asks (cmd_completion.c) */
	if (!strcmp(argv[first], "__complete"))
		return finish(completion__helper(argc - first, argv + first));
	cmd = find_cmd(argv[first]);
	if (!cmd) {
		p_err("unknown or ambiguous command '%s'; run '%s --help'",
		      argv[first], prog_name);
		return finish(-EINVAL);
	}
	argc -= first;
	argv += first;
	/* Each command runs its own getopt; 0 makes GNU getopt initialize
	 * again, dropping the '+' (stop at the first non-option) used above,
	 * so "list BIN --json" works. */
	optind = 0;
	return finish(cmd->func(argc, argv));
}
