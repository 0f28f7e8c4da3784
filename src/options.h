/* SPDX-License-Identifier: MIT */
/*
 * The options every command shares, parsed in one place: -j/--json,
 * -v/--verbose, -h/--help always; TARGET (-p/--pid PID and '-- CMD ARGS'),
 * -d/--duration, -i/--interval and -n/--count for the commands that
 * take them. A command names what it takes by pointing at where each value
 * goes (NULL: not taken, the letter stays free for its own options) and
 * adds its own options with a handler, so "bad PID" and the like are
 * written once.
 */
#ifndef GOSNOOP_OPTIONS_H
#define GOSNOOP_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct target;

struct opts_spec {
	const char *verb;		/* "trace": in 'gosnoop trace --help' */
	void (*usage)(FILE *f);		/* --help prints it on stdout */
	bool no_json;			/* serve: no -j/--json */
	/* Positional arguments come to own() in place, as code 1 (getopt's
	 * leading '-'): ktrace ties each -o/-f to the probe before it. */
	bool in_order;
	/* Stop at the first positional (getopt's leading '+'): main.c's own
	 * options end at the command name. */
	bool stop_at_positional;

	/* Shared options, each taken when its pointer is set. */
	struct target *target;		/* '-- CMD ARGS' split off first */
	pid_t *pid;			/* -p/--pid PID */
	double *duration;		/* -d/--duration SECS */
	double *interval;		/* -i/--interval SECS */
	uint64_t *max_events;		/* -n/--count N (> 0) */

	/* The command's own options: getopt letters ("o:e"), long options
	 * ({} terminated; val may be a letter or a code >= 256), and the
	 * handler, called with getopt's code and optarg: 0, -EINVAL after
	 * one line, or 1 to stop with exit 0 (gosnoop --version). */
	const char *own_short;
	const struct option *own_long;
	int (*own)(int code, char *arg, void *ctx);
	void *ctx;
};

/*
 * Parse argv[0..*argc) (argv[0] is the command name; spec->verb NULL for
 * gosnoop's own options, before the command) by spec. Returns 0
 * with *first the index of the first positional argument (and *argc cut
 * at '--' when spec->target is set); 1 after --help was printed (or own()
 * returned 1); or
 * -EINVAL after one line naming the bad option and the way out.
 */
int opts__parse(const struct opts_spec *spec, int *argc, char **argv,
		int *first);

/* A PID argument: 0, or -EINVAL after "bad PID '...'". */
int opts__pid(const char *arg, pid_t *pid);

/* An output file option (--folded FILE, --perfetto FILE, --pprof FILE),
 * checked when it is parsed, before anything runs: 0, or -EINVAL after
 * "cannot write OPT FILE: why; give a writable path". The file is created
 * if it did not exist (as the command would); a FIFO without a reader is
 * refused rather than waited for. */
int opts__output_file(const char *opt, const char *path);

/* For commands that take at most one positional argument, the TARGET
 * PATH (NULL when none): 0, or -EINVAL after "VERB takes one TARGET". */
int opts__one_target(const struct opts_spec *spec, int argc, char **argv,
		     int first, const char **path);

/* For commands whose positionals are TARGET PATTERN... (trace, count,
 * latency; spec->target and spec->pid set): with -p PID or -- CMD every
 * positional is a pattern, else the first is the PATH. 0, or -EINVAL
 * after one line when no target was named at all. */
int opts__target_patterns(const struct opts_spec *spec, int argc,
			  char **argv, int first, const char **path,
			  char ***pats, int *npats);

/* opts__parse, then TARGET PATTERN... as opts__target_patterns, and at
 * least one PATTERN (none: the line when there is none, e.g. "no PROBE:
 * name the functions to trace, e.g. 'main.*'"). 0, 1 after --help, or
 * -EINVAL after one line. */
int opts__parse_patterns(const struct opts_spec *spec, int argc,
			 char **argv, const char *none, const char **path,
			 char ***pats, int *npats);

#endif
