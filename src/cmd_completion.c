// SPDX-License-Identifier: MIT
/*
 * gosnoop completion bash: a bash completion script generated from the
 * command table (main.c) and each command's own option table (options.c
 * lists them instead of parsing while completion_options_out is set), so
 * that it names exactly what the binary takes. What only the binary on
 * the command line can tell (its functions) and the Go processes for -p
 * come from the hidden helper `gosnoop __complete`, which the script runs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common.h"
#include "completion.h"
#include "gobin/gobin.h"
#include "target.h"

FILE *completion_options_out;

/* main()'s own options (before the command), as its --help lists them. */
static const char *const global_options[] = {
	"--json", "-j", "--verbose", "-v", "--version", "-V", "--help", "-h",
};

void completion__list_options(const char *shorts, const struct option *longs)
{
	FILE *f = completion_options_out;

	for (const struct option *o = longs; o && o->name; o++)
		fprintf(f, "--%s%s\n", o->name,
			o->has_arg == no_argument ? "" : "=");
	/* getopt's flags first: '-' (in order), '+', ':' */
	while (*shorts == '-' || *shorts == '+' || *shorts == ':')
		shorts++;
	for (const char *c = shorts; *c; c++) {
		if (*c == ':')
			continue;
		fprintf(f, "-%c%s\n", *c, c[1] == ':' ? "=" : "");
	}
}

/* Command name's options, one a line, from its own table: 0 or -errno. */
static int command_options(const char *name, FILE *out)
{
	char *argv[] = { (char *)name, NULL };
	int ret;

	completion_options_out = out;
	ret = main__cmd_run(name, 1, argv);
	completion_options_out = NULL;
	return ret < 0 ? ret : 0;
}

/* The options of command name as one space-separated line (malloc'd). */
static char *options_line(const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	command_options(name, f);
	fclose(f);
	for (char *c = buf; c && *c; c++)
		if (*c == '\n')
			*c = ' ';
	if (buf && len && buf[len - 1] == ' ')
		buf[len - 1] = '\0';
	return buf;
}

/* The script; its tables are printed before it by print_bash(). */
static const char bash_body[] =
"# The binary to read function names from: -p PID's, -- CMD's, or the\n"
"# first argument that is a file. Prints \"-p PID\" or a path, or nothing.\n"
"_gosnoop_target() {\n"
"	local i w prev= first=\n"
"	for ((i = $1; i < COMP_CWORD; i++)); do\n"
"		w=${COMP_WORDS[i]}\n"
"		case $prev in -p|--pid) echo \"-p $w\"; return ;; esac\n"
"		case $w in\n"
"		--pid=*) echo \"-p ${w#--pid=}\"; return ;;\n"
"		--) w=${COMP_WORDS[i+1]}\n"
"		    [[ $w == */* ]] || w=$(type -P -- \"$w\")\n"
"		    [[ -n $w ]] && echo \"$w\"; return ;;\n"
"		-*) ;;\n"
"		*) [[ -z $first && -f $w && $prev != -* ]] && first=$w ;;\n"
"		esac\n"
"		prev=$w\n"
"	done\n"
"	[[ -n $first ]] && echo \"$first\"\n"
"}\n"
"\n"
"# COMPREPLY from lines, each with the part of the word before its last\n"
"# COMP_WORDBREAKS character (':' in tracepoint:sched:*) taken off.\n"
"_gosnoop_reply() {\n"
"	local cur=$1 pre= line\n"
"	[[ $cur == *:* && $COMP_WORDBREAKS == *:* ]] && pre=${cur%:*}:\n"
"	COMPREPLY=()\n"
"	while IFS= read -r line; do\n"
"		[[ $line == \"$cur\"* ]] && COMPREPLY+=(\"${line#\"$pre\"}\")\n"
"	done\n"
"	# readline quotes them as file names: main.(*T).M, main.Map[...]\n"
"	compopt -o filenames 2>/dev/null\n"
"}\n"
"\n"
"_gosnoop() {\n"
"	local line=${COMP_LINE:0:COMP_POINT} cur prev i cmd= w opts target\n"
"	# the word as typed, ':' included (bash splits at it)\n"
"	cur=${line##*[[:space:]]}\n"
"	prev=${COMP_WORDS[COMP_CWORD-1]}\n"
"	[[ ${COMP_WORDS[COMP_CWORD]} == \"\" || $cur != *:* ]] && cur=${COMP_WORDS[COMP_CWORD]}\n"
"	for ((i = 1; i < COMP_CWORD; i++)); do\n"
"		w=${COMP_WORDS[i]}\n"
"		[[ $w == -* ]] && continue\n"
"		# a prefix names a command, as gosnoop takes it\n"
"		for cmd in $_gosnoop_commands; do\n"
"			[[ $cmd == \"$w\"* ]] && break\n"
"		done\n"
"		[[ $cmd == \"$w\"* ]] || cmd=$w\n"
"		break\n"
"	done\n"
"	if [[ -z $cmd ]]; then\n"
"		if [[ $cur == -* ]]; then\n"
"			COMPREPLY=($(compgen -W \"$_gosnoop_global_options\" -- \"$cur\"))\n"
"		else\n"
"			COMPREPLY=($(compgen -W \"$_gosnoop_commands\" -- \"$cur\"))\n"
"		fi\n"
"		return\n"
"	fi\n"
"	w=_gosnoop_options_${cmd//-/_}\n"
"	opts=${!w}\n"
"	# after '--': the command to run and its arguments\n"
"	for ((w = i + 1; w < COMP_CWORD; w++)); do\n"
"		if [[ ${COMP_WORDS[w]} == -- ]]; then\n"
"			if ((COMP_CWORD == w + 1)); then\n"
"				COMPREPLY=($(compgen -c -- \"$cur\"))\n"
"			else\n"
"				COMPREPLY=($(compgen -f -- \"$cur\"))\n"
"			fi\n"
"			return\n"
"		fi\n"
"	done\n"
"	# the value of an option that takes one\n"
"	if [[ $prev == -* && \" $opts \" == *\" $prev= \"* ]]; then\n"
"		case $cmd:$prev in\n"
"		*:-p|*:--pid) COMPREPLY=($(compgen -W \"$(gosnoop __complete pids 2>/dev/null)\" -- \"$cur\")) ;;\n"
"		*:-d|*:--duration|*:-i|*:--interval|*:-n|*:--count|*:--top) COMPREPLY=() ;;\n"
"		ktrace:-c|ktrace:--comm) COMPREPLY=($(compgen -W \"$(ps -eo comm= 2>/dev/null | sort -u)\" -- \"$cur\")) ;;\n"
"		*:--start|*:--goroutine-func|*:--keep)\n"
"			# a (start) function of the binary on the line\n"
"			target=$(_gosnoop_target $((i + 1)))\n"
"			# shellcheck disable=SC2086 # \"-p PID\" is two words\n"
"			[[ -n $target ]] && _gosnoop_reply \"$cur\" < <(gosnoop __complete functions $target \"$cur\" 2>/dev/null) ;;\n"
"		*) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
"		esac\n"
"		return\n"
"	fi\n"
"	if [[ $cur == -* ]]; then\n"
"		COMPREPLY=($(compgen -W \"${opts//=/}\" -- \"$cur\"))\n"
"		return\n"
"	fi\n"
"	case $cmd in\n"
"	completion) COMPREPLY=($(compgen -W bash -- \"$cur\")) ;;\n"
"	doctor|serve) COMPREPLY=() ;;\n"
"	ktrace)\n"
"		_gosnoop_reply \"$cur\" < <(gosnoop list --kernel \"$cur*\" 2>/dev/null) ;;\n"
"	list|trace|count|latency|cost)\n"
"		target=$(_gosnoop_target $((i + 1)))\n"
"		if [[ -z $target ]]; then\n"
"			COMPREPLY=($(compgen -f -- \"$cur\"))\n"
"		else\n"
"			# shellcheck disable=SC2086 # \"-p PID\" is two words\n"
"			_gosnoop_reply \"$cur\" < <(gosnoop __complete functions $target \"$cur\" 2>/dev/null)\n"
"		fi ;;\n"
"	*) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
"	esac\n"
"}\n"
"complete -o default -F _gosnoop gosnoop\n";

static int print_bash(void)
{
	const char *name;

	printf("# bash completion for gosnoop (generated by 'gosnoop "
	       "completion bash'):\n# its commands and options are the "
	       "binary's own tables.\n");
	printf("_gosnoop_commands='");
	for (size_t i = 0; (name = main__cmd_name(i)); i++)
		printf("%s%s", i ? " " : "", name);
	printf("'\n_gosnoop_global_options='");
	for (size_t i = 0; i < sizeof(global_options) / sizeof(global_options[0]); i++)
		printf("%s%s", i ? " " : "", global_options[i]);
	printf("'\n");
	for (size_t i = 0; (name = main__cmd_name(i)); i++) {
		char *opts = options_line(name);

		/* a command name is [a-z]+: a bash identifier */
		printf("_gosnoop_options_%s='%s'\n", name, opts ? opts : "");
		free(opts);
	}
	printf("\n%s", bash_body);
	return ferror(stdout) ? -EIO : 0;
}

int do_completion(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: %s completion bash\n"
		       "Print a bash completion script: commands, options, the\n"
		       "PIDs of running Go processes, and function names of the\n"
		       "binary on the line.\n"
		       "  source <(gosnoop completion bash)\n", prog_name);
		return 0;
	}
	if (completion_options_out) {	/* listing every command's options */
		fprintf(completion_options_out, "--help\n-h\n");
		return 0;
	}
	if (argc != 2 || strcmp(argv[1], "bash")) {
		p_err("completion takes one SHELL, 'bash' (the only one written)");
		return -EINVAL;
	}
	return print_bash();
}

/* ------------------------------------------------ __complete helper */

/* Function names of the binary (PATH or -p PID) that start with prefix. */
static int complete_functions(int argc, char **argv)
{
	struct target t = {};
	struct gobin *gb = NULL;
	const char *path = NULL, *prefix = "";
	pid_t pid = 0;
	size_t plen;
	int ret;

	if (argc >= 3 && !strcmp(argv[1], "-p")) {
		if (target__parse_pid(argv[2], &pid))
			return -EINVAL;
		if (argc > 3)
			prefix = argv[3];
	} else if (argc >= 2) {
		path = argv[1];
		if (argc > 2)
			prefix = argv[2];
	} else {
		return -EINVAL;
	}
	ret = target__resolve(&t, path, pid);
	if (!ret)
		ret = target__open_gobin_flags(&t, GOBIN_OPEN_NO_DWARF, &gb);
	if (ret)
		return ret;
	plen = strlen(prefix);
	for (size_t i = 0; i < gobin__func_cnt(gb); i++) {
		const char *name = gobin__func(gb, i)->name;

		if (!strncmp(name, prefix, plen))
			printf("%s\n", name);
	}
	gobin__free(gb);
	return 0;
}

/* PIDs of the running Go processes (their executable has a pclntab). */
static int complete_pids(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[64], err[128];
		struct gobin *gb;
		pid_t pid;

		if (target__parse_pid(e->d_name, &pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		if (gobin__open_flags(path, GOBIN_OPEN_NO_DWARF, &gb, err,
				      sizeof(err)))
			continue;
		gobin__free(gb);
		printf("%d\n", pid);
	}
	closedir(d);
	return 0;
}

int completion__helper(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const char *name;

	if (!strcmp(what, "commands")) {
		for (size_t i = 0; (name = main__cmd_name(i)); i++)
			printf("%s\n", name);
		return 0;
	}
	if (!strcmp(what, "options")) {
		if (argc < 3) {
			for (size_t i = 0; i < sizeof(global_options) / sizeof(global_options[0]); i++)
				printf("%s\n", global_options[i]);
			return 0;
		}
		return command_options(argv[2], stdout) ? -EINVAL : 0;
	}
	if (!strcmp(what, "functions"))
		return complete_functions(argc - 1, argv + 1);
	if (!strcmp(what, "pids"))
		return complete_pids();
	p_err("__complete: commands | options [CMD] | functions (PATH | -p PID) [PREFIX] | pids");
	return -EINVAL;
}
