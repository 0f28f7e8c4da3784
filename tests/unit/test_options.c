// SPDX-License-Identifier: MIT
/*
 * The one option parser every command uses (src/options.c): the shared
 * options land where the command points them, letters a command does not
 * take are refused, its own options reach its handler with getopt's
 * argument, '--' splits off CMD, positionals come in place when asked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "testutil.h"
#include "common.h"
#include "options.h"
#include "target.h"

/* options.c lists its options for the shell completion when this is set
 * (cmd_completion.c, not linked here): never in these tests. */
FILE *completion_options_out;
void completion__list_options(const char *shorts, const struct option *longs)
{
	(void)shorts, (void)longs;
}

static int usage_calls;

static void usage(FILE *f)
{
	(void)f;
	usage_calls++;
}

/* What the test command's own options saw, in order. */
struct seen {
	char codes[16];
	char *args[16];
	int n;
};

static int own(int code, char *arg, void *ctx)
{
	struct seen *s = ctx;

	if (code == 'x')
		return -EINVAL;		/* a bad value: the handler's line */
	if (code != 'o' && code != 'e' && code != 1 && code != 300)
		return -ENOENT;
	s->codes[s->n] = code == 300 ? 'L' : code == 1 ? '1' : (char)code;
	s->args[s->n++] = arg;
	return 0;
}

static const struct option own_long[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "long-only", no_argument, NULL, 300 },
	{}
};

/* argv from a NULL-terminated list of words; argv[0] the command. */
static int make_argv(char **argv, const char *const *words)
{
	int n = 0;

	for (; words[n]; n++)
		argv[n] = (char *)words[n];
	argv[n] = NULL;
	return n;
}

static void reset(void)
{
	json_output = false;
	verbose = 0;
	usage_calls = 0;
}

static void test_shared_options_land_where_pointed(void **state)
{
	static const char *const words[] = { "cmd", "-j", "-v", "--verbose",
		"-p", "42", "--duration", "1.5", "-i", "2", "--count=7", "PATH",
		"pat", NULL };
	struct target t = {};
	pid_t pid = 0;
	double d = 0, iv = 0;
	uint64_t n = 0;
	const struct opts_spec spec = {
		.verb = "cmd", .usage = usage, .target = &t, .pid = &pid,
		.duration = &d, .interval = &iv, .max_events = &n,
	};
	char *argv[16];
	int argc = make_argv(argv, words), first = -1;

	(void)state;
	reset();
	assert_int_equal(opts__parse(&spec, &argc, argv, &first), 0);
	assert_true(json_output);
	assert_int_equal(verbose, 2);
	assert_int_equal(pid, 42);
	assert_true(d == 1.5);
	assert_true(iv == 2.0);
	assert_int_equal(n, 7);
	assert_int_equal(argc - first, 2);
	assert_string_equal(argv[first], "PATH");
	assert_string_equal(argv[first + 1], "pat");
	assert_null(t.cmd_argv);
}

static int parse_words(const struct opts_spec *spec, const char *const *words)
{
	char *argv[16];
	int argc = make_argv(argv, words), first;

	return opts__parse(spec, &argc, argv, &first);
}

static void test_bad_values_and_untaken_letters(void **state)
{
	pid_t pid = 0;
	double d = 0;
	uint64_t n = 0;
	const struct opts_spec with = {
		.verb = "cmd", .usage = usage, .pid = &pid, .duration = &d,
		.max_events = &n,
	};
	const struct opts_spec without = { .verb = "cmd", .usage = usage,
					   .no_json = true };

	(void)state;
	reset();
	/* "bad PID": digits only, above 0, within pid_t */
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-p", "abc", NULL }), -EINVAL);
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-p", "0", NULL }), -EINVAL);
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-p", "12x", NULL }), -EINVAL);
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-p", "4294967297", NULL }), -EINVAL);
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-d", "0", NULL }), -EINVAL);
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-n", "0", NULL }), -EINVAL);
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-n", "-3", NULL }), -EINVAL);
	/* a value missing, an unknown option */
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "-p", NULL }), -EINVAL);
	assert_int_equal(parse_words(&with, (const char *const[]){ "c", "--bogus", NULL }), -EINVAL);
	/* not taken: the letter is free, so refused */
	assert_int_equal(parse_words(&without, (const char *const[]){ "c", "-p", "1", NULL }), -EINVAL);
	assert_int_equal(parse_words(&without, (const char *const[]){ "c", "-d", "1", NULL }), -EINVAL);
	assert_int_equal(parse_words(&without, (const char *const[]){ "c", "--json", NULL }), -EINVAL);
	assert_false(json_output);
	assert_int_equal(parse_words(&without, (const char *const[]){ "c", "-v", NULL }), 0);
	assert_int_equal(verbose, 1);
}

static void test_help_and_own_options(void **state)
{
	static const char *const words[] = { "cmd", "PATH", "-o", "a.b",
		"--output=c", "-e", "--long-only", "x", NULL };
	struct seen s = {};
	const struct opts_spec spec = {
		.verb = "cmd", .usage = usage, .own_short = "o:ex",
		.own_long = own_long, .own = own, .ctx = &s,
	};
	char *argv[16];
	int argc = make_argv(argv, words), first;

	(void)state;
	reset();
	assert_int_equal(opts__parse(&spec, &argc, argv, &first), 0);
	assert_int_equal(s.n, 4);
	assert_memory_equal(s.codes, "ooeL", 4);
	assert_string_equal(s.args[0], "a.b");
	assert_string_equal(s.args[1], "c");
	assert_null(s.args[2]);
	/* options may follow the positionals (permuted to the end) */
	assert_int_equal(argc - first, 2);
	assert_string_equal(argv[first], "PATH");
	assert_string_equal(argv[first + 1], "x");
	/* the handler's own -EINVAL passes through */
	assert_int_equal(parse_words(&spec, (const char *const[]){ "c", "-x", NULL }), -EINVAL);
	/* --help: usage once, 1 (exit 0), nothing else parsed */
	assert_int_equal(parse_words(&spec, (const char *const[]){ "c", "--help", "-p", NULL }), 1);
	assert_int_equal(parse_words(&spec, (const char *const[]){ "c", "-h", NULL }), 1);
	assert_int_equal(usage_calls, 2);
}

static void test_cmd_split_and_in_order(void **state)
{
	static const char *const words[] = { "cmd", "-o", "all", "tp:a",
		"-o", "mine", "tp:b", "--", "/bin/prog", "-o", "x", NULL };
	struct seen s = {};
	struct target t = {};
	pid_t pid = 0;
	const struct opts_spec spec = {
		.verb = "cmd", .usage = usage, .in_order = true, .target = &t,
		.pid = &pid, .own_short = "o:", .own_long = own_long,
		.own = own, .ctx = &s,
	};
	char *argv[16];
	int argc = make_argv(argv, words), first;

	(void)state;
	reset();
	assert_int_equal(opts__parse(&spec, &argc, argv, &first), 0);
	/* CMD's own "-o x" is never parsed as ours */
	assert_int_equal(t.cmd_argc, 3);
	assert_string_equal(t.cmd_argv[0], "/bin/prog");
	assert_string_equal(t.cmd_argv[1], "-o");
	assert_int_equal(argc, 7);
	/* each -o knows what came before it */
	assert_int_equal(s.n, 4);
	assert_memory_equal(s.codes, "o1o1", 4);
	assert_string_equal(s.args[0], "all");
	assert_string_equal(s.args[1], "tp:a");
	assert_string_equal(s.args[2], "mine");
	assert_string_equal(s.args[3], "tp:b");
	assert_int_equal(first, argc);
}

static int version(int code, char *arg, void *ctx)
{
	(void)arg, (void)ctx;
	return code == 'V' ? 1 : -ENOENT;
}

/* main.c's own options: they end at the command name. */
static void test_stop_at_positional(void **state)
{
	static const char *const words[] = { "gosnoop", "-j", "list", "-v",
		"--nope", NULL };
	const struct opts_spec spec = { .usage = usage,
		.stop_at_positional = true, .own_short = "V", .own = version };
	char *argv[16];
	int argc = make_argv(argv, words), first;

	(void)state;
	reset();
	assert_int_equal(opts__parse(&spec, &argc, argv, &first), 0);
	assert_true(json_output);
	assert_int_equal(verbose, 0);		/* the command's, not ours */
	assert_int_equal(first, 2);
	/* own() says stop: 1, as after --help */
	assert_int_equal(parse_words(&spec, (const char *const[]){ "g", "-V", "x", NULL }), 1);
	assert_int_equal(parse_words(&spec, (const char *const[]){ "g", "--nope", NULL }), -EINVAL);
}

static void test_one_target(void **state)
{
	const struct opts_spec spec = { .verb = "info" };
	char *argv[] = { "info", "a", "b", NULL };
	const char *path = "unset";

	(void)state;
	assert_int_equal(opts__one_target(&spec, 3, argv, 1, &path), -EINVAL);
	assert_int_equal(opts__one_target(&spec, 2, argv, 1, &path), 0);
	assert_string_equal(path, "a");
	assert_int_equal(opts__one_target(&spec, 1, argv, 1, &path), 0);
	assert_null(path);
}

static void test_target_patterns(void **state)
{
	struct target t = {};
	pid_t pid = 0;
	const struct opts_spec spec = { .verb = "trace", .target = &t,
					.pid = &pid };
	char *argv[] = { "trace", "/bin/true", "main.a", "main.b", NULL };
	const char *path;
	char **pats;
	int npats;

	(void)state;
	assert_int_equal(opts__target_patterns(&spec, 4, argv, 1, &path, &pats,
					       &npats), 0);
	assert_string_equal(path, "/bin/true");
	assert_int_equal(npats, 2);
	assert_string_equal(pats[0], "main.a");
	/* with -p PID every positional is a pattern */
	pid = 1;
	assert_int_equal(opts__target_patterns(&spec, 4, argv, 1, &path, &pats,
					       &npats), 0);
	assert_null(path);
	assert_int_equal(npats, 3);
	/* nothing named at all */
	pid = 0;
	assert_int_equal(opts__target_patterns(&spec, 1, argv, 1, &path, &pats,
					       &npats), -EINVAL);
	/* parsed and taken in one go: a TARGET alone is not enough */
	assert_int_equal(opts__parse_patterns(&spec, 2, argv, "no PROBE", &path,
					      &pats, &npats), -EINVAL);
	assert_int_equal(opts__parse_patterns(&spec, 4, argv, "no PROBE", &path,
					      &pats, &npats), 0);
	assert_int_equal(npats, 2);
	assert_string_equal(pats[1], "main.b");
}

static void test_output_file(void **state)
{
	char dir[] = "/tmp/gosnoop-test-opts-XXXXXX", path[64], fifo[64];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(opts__output_file("--folded", path), 0);
	/* tried, not left behind: the command may fail before writing */
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* one that exists is kept as it was */
	fclose(fopen(path, "w"));
	assert_int_equal(truncate(path, 5), 0);
	assert_int_equal(opts__output_file("--folded", path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(opts__output_file("--folded", "/nonexistent/x"), -EINVAL);
	assert_int_equal(opts__output_file("--folded", dir), -EINVAL);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* nothing reads it: refused at once, not waited for */
	assert_int_equal(opts__output_file("--perfetto", fifo), -EINVAL);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_options_land_where_pointed),
		cmocka_unit_test(test_bad_values_and_untaken_letters),
		cmocka_unit_test(test_help_and_own_options),
		cmocka_unit_test(test_cmd_split_and_in_order),
		cmocka_unit_test(test_stop_at_positional),
		cmocka_unit_test(test_one_target),
		cmocka_unit_test(test_target_patterns),
		cmocka_unit_test(test_output_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
