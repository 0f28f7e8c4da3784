// SPDX-License-Identifier: MIT
/*
 * One getopt loop for every command (options.h): the shared options are
 * handled here, the command's own go to its handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "completion.h"
#include "options.h"
#include "target.h"

/* Shared and own long options together; no command has half as many. */
#define MAX_LONG_OPTS 48

int opts__pid(const char *arg, pid_t *pid)
{
	if (target__parse_pid(arg, pid)) {
		p_err("bad PID '%s'", arg);
		return -EINVAL;
	}
	return 0;
}

int opts__output_file(const char *opt, const char *path)
{
	int flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC;
	int fd = open(path, flags | O_CREAT | O_EXCL, 0644);
	bool created = fd >= 0;

	/* a file made only to try is not left behind (the command may
	 * still fail before writing it: an empty profile nothing reads) */
	if (fd < 0 && errno == EEXIST)
		fd = open(path, flags);
	if (fd < 0) {
		p_err("cannot write %s %s: %s; give a writable path", opt, path,
		      errno == ENXIO ? "a FIFO nothing reads" : strerror(errno));
		return -EINVAL;
	}
	close(fd);
	if (created)
		unlink(path);
	return 0;
}

static int parse_count(const char *arg, uint64_t *out)
{
	unsigned long long n;

	if (parse_uint(arg, &n) || !n) {
		p_err("bad count '%s': give a number of events above 0", arg);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static void add_long(struct option *dst, size_t *n, const char *name,
		     int has_arg, int val)
{
	dst[(*n)++] = (struct option){ name, has_arg, NULL, val };
}

/* getopt's letters and long options for spec: 0, or -E2BIG (a command
 * with more options than MAX_LONG_OPTS: a bug, said once). */
static int build_opts(const struct opts_spec *spec, char *shorts,
		      size_t shorts_len, struct option *longs)
{
	size_t n = 0;

	snprintf(shorts, shorts_len, "%s%sv%s%s%s%s%s%s",
		 spec->in_order ? "-" : spec->stop_at_positional ? "+" : "",
		 spec->no_json ? "" : "j",
		 spec->usage ? "h" : "", spec->pid ? "p:" : "",
		 spec->duration ? "d:" : "", spec->interval ? "i:" : "",
		 spec->max_events ? "n:" : "", spec->own_short ?: "");
	if (!spec->no_json)
		add_long(longs, &n, "json", no_argument, 'j');
	add_long(longs, &n, "verbose", no_argument, 'v');
	if (spec->usage)
		add_long(longs, &n, "help", no_argument, 'h');
	if (spec->pid)
		add_long(longs, &n, "pid", required_argument, 'p');
	if (spec->duration)
		add_long(longs, &n, "duration", required_argument, 'd');
	if (spec->interval)
		add_long(longs, &n, "interval", required_argument, 'i');
	if (spec->max_events)
		add_long(longs, &n, "count", required_argument, 'n');
	for (const struct option *o = spec->own_long; o && o->name; o++) {
		if (n + 1 >= MAX_LONG_OPTS) {
			p_err("%s: too many options (raise MAX_LONG_OPTS)",
			      spec->verb);
			return -E2BIG;
		}
		longs[n++] = *o;
	}
	longs[n] = (struct option){};
	return 0;
}

/* A shared option: 0 or -EINVAL; -ENOENT if code is not one of them. */
static int shared_option(const struct opts_spec *spec, int code,
			 const char *arg)
{
	switch (code) {
	case 'j':
		if (spec->no_json)
			return -ENOENT;
		json_output = true;
		return 0;
	case 'v':
		verbose++;
		return 0;
	case 'p':
		return spec->pid ? opts__pid(arg, spec->pid) : -ENOENT;
	case 'd':
		return spec->duration ?
		       parse_seconds("duration", arg, spec->duration) : -ENOENT;
	case 'i':
		return spec->interval ?
		       parse_seconds("interval", arg, spec->interval) : -ENOENT;
	case 'n':
		return spec->max_events ?
		       parse_count(arg, spec->max_events) : -ENOENT;
	default:
		return -ENOENT;
	}
}

int opts__parse(const struct opts_spec *spec, int *argc, char **argv,
		int *first)
{
	struct option longs[MAX_LONG_OPTS];
	char shorts[128];
	int code, err;

	err = build_opts(spec, shorts, sizeof(shorts), longs);
	if (err)
		return err;
	if (completion_options_out) {	/* gosnoop completion: list them */
		completion__list_options(shorts, longs);
		return 1;
	}
	if (spec->target)
		target__split_cmd(argc, argv, spec->target);
	/* 0, not 1: GNU getopt starts afresh, forgetting main()'s "+" (stop
	 * at the first argument): options may follow the positionals. */
	optind = 0;
	while ((code = getopt_long(*argc, argv, shorts, longs, NULL)) != -1) {
		if (code == 'h' && spec->usage) {
			spec->usage(stdout);
			return 1;
		}
		if (code == '?' || code == ':') {
			p_bad_option(spec->verb, argv);
			return -EINVAL;
		}
		err = shared_option(spec, code, optarg);
		if (err == -ENOENT)
			err = spec->own ? spec->own(code, optarg, spec->ctx)
					: -ENOENT;
		if (err == -ENOENT) {
			p_bad_option(spec->verb, argv);
			return -EINVAL;
		}
		if (err)
			return err;
	}
	*first = optind;
	return 0;
}

int opts__one_target(const struct opts_spec *spec, int argc, char **argv,
		     int first, const char **path)
{
	if (argc - first > 1) {
		p_err("%s takes one TARGET, got %d arguments", spec->verb,
		      argc - first);
		return -EINVAL;
	}
	*path = first < argc ? argv[first] : NULL;
	return 0;
}

int opts__target_patterns(const struct opts_spec *spec, int argc,
			  char **argv, int first, const char **path,
			  char ***pats, int *npats)
{
	first = target__take_path(spec->target, *spec->pid, argc, argv, first,
				  path);
	*pats = argv + first;
	*npats = argc - first;
	return target__check_given(spec->target, *path, *spec->pid);
}

int opts__parse_patterns(const struct opts_spec *spec, int argc,
			 char **argv, const char *none, const char **path,
			 char ***pats, int *npats)
{
	int first, err;

	err = opts__parse(spec, &argc, argv, &first);
	if (!err)
		err = opts__target_patterns(spec, argc, argv, first, path,
					    pats, npats);
	if (err)
		return err;
	if (*npats < 1) {
		p_err("%s", none);
		return -EINVAL;
	}
	return 0;
}
