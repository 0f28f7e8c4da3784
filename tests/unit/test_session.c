// SPDX-License-Identifier: MIT
/*
 * The session pipeline (src/session.c) with a command made of recording
 * callbacks: the order of the life cycle, when the loop ends (-d, done(),
 * a failed read, -- CMD exiting), what a failure skips and what it still
 * frees, what it returns (CMD's status, or a callback's -errno for
 * main.c's one mapping), the tick listeners and -i. funcprobe is stubbed here: its calls are
 * recorded with their arguments.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "testutil.h"
#include "common.h"
#include "session.h"
#include "target.h"

/* ---- what happened, in order ---- */
static char trail[1024];
static int ticks, listened, intervals, polls;
static int done_after;		/* done() true from this poll on; 0: never */
static int fail_at;		/* the step (below) that fails */
static int fail_err;
static int poll_err;		/* what poll returns */
static pid_t pid_at_configure;
static bool cmd_ran_at_configure;

enum { F_NONE, F_PREPARE, F_PLAN, F_CONFIGURE, F_LOAD, F_ATTACH, F_STARTED,
       F_FINISH };

static void note(const char *what)
{
	if (trail[0])
		strncat(trail, " ", sizeof(trail) - strlen(trail) - 1);
	strncat(trail, what, sizeof(trail) - strlen(trail) - 1);
}

static void reset(void)
{
	trail[0] = 0;
	ticks = listened = intervals = polls = 0;
	done_after = fail_at = fail_err = poll_err = 0;
	pid_at_configure = -1;
	cmd_ran_at_configure = false;
	session_stop_signal = 0;
}

/* ---- funcprobe, stubbed ---- */
static int fp_dummy;
static unsigned fp_sites_seen;
static pid_t fp_pid_seen;
static struct bpf_program *fp_prog_seen;

int funcprobe__plan(const struct gobin *gb, struct patterns *pats,
		    const char *target, const struct funcprobe_opts *opts,
		    struct funcprobe **out)
{
	note(gb && pats->cnt == 1 && opts->returns ? "fp_plan" : "fp_plan?");
	*out = (struct funcprobe *)&fp_dummy;
	return 0;
}

void funcprobe__report_plan(const struct funcprobe *fp, const char *what)
{
}

void funcprobe__prepare(struct funcprobe *fp, struct bpf_object *obj,
			struct bpf_program *prog)
{
	note("fp_prepare");
}

int funcprobe__attach(struct funcprobe *fp, struct bpf_program *prog,
		      const char *path, pid_t pid, unsigned which)
{
	note("fp_attach");
	fp_prog_seen = prog;
	fp_pid_seen = pid;
	fp_sites_seen = which;
	return 0;
}

void funcprobe__detach(struct funcprobe *fp)
{
	note("fp_detach");
}

void funcprobe__free(struct funcprobe *fp)
{
	if (fp)
		note("fp_free");
}

size_t funcprobe__cnt(const struct funcprobe *fp)
{
	return 1;
}

size_t funcprobe__site_cnt(const struct funcprobe *fp, unsigned which)
{
	return 2;
}

const char *funcprobe__mode(const struct funcprobe *fp)
{
	return "stub";
}

double funcprobe__attach_ms(const struct funcprobe *fp)
{
	return 0;
}

double funcprobe__detach_ms(const struct funcprobe *fp)
{
	return 0;
}

/* ---- the command ---- */
static int step(const char *name, int which)
{
	note(name);
	return fail_at == which ? fail_err : 0;
}

static int c_prepare(struct session *s)
{
	return step("prepare", F_PREPARE);
}

static int c_plan(struct session *s)
{
	return step("plan", F_PLAN);
}

/* -- CMD is forked and held: its pid is known, it has not run yet */
static int c_configure(struct session *s)
{
	char exe[64], link[PATH_MAX];
	ssize_t n;

	pid_at_configure = s->attach_pid;
	if (s->launched) {
		snprintf(exe, sizeof(exe), "/proc/%d/exe", s->attach_pid);
		n = readlink(exe, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		cmd_ran_at_configure = !strstr(link, "test_session");
	}
	s->prog = (struct bpf_program *)&fp_dummy;
	return step("configure", F_CONFIGURE);
}

static int c_load(struct session *s)
{
	return step("load", F_LOAD);
}

static int c_attach(struct session *s)
{
	return step("attach", F_ATTACH);
}

static int c_started(struct session *s)
{
	return step("started", F_STARTED);
}

static void c_released(struct session *s)
{
	note("released");
}

static int c_poll(struct session *s, int timeout_ms)
{
	polls++;
	usleep(timeout_ms * 1000 / 10);	/* a short pass: tests stay quick */
	return poll_err;
}

static bool c_done(struct session *s)
{
	return done_after && polls >= done_after;
}

static void c_tick(struct session *s, uint64_t now_ns)
{
	ticks++;
}

static void c_interval(struct session *s, uint64_t now_ns)
{
	intervals++;
}

static void c_stopping(struct session *s)
{
	note("stopping");
}

static void c_detach(struct session *s)
{
	note("detach");
}

static bool finish_knew_cpu;	/* session__ended_cmd_cpu_ns() at finish */
static uint64_t finish_cpu_ns;

static int c_finish(struct session *s)
{
	finish_knew_cpu = session__ended_cmd_cpu_ns(s, &finish_cpu_ns);
	return step("finish", F_FINISH);
}

static void c_destroy(struct session *s)
{
	note("destroy");
}

static void listener(struct session *s, uint64_t now_ns, void *ctx)
{
	(*(int *)ctx)++;
}

static const struct session_ops ops = {
	.verb = "test",
	.prepare = c_prepare, .plan = c_plan, .configure = c_configure,
	.load = c_load, .attach = c_attach, .started = c_started,
	.released = c_released, .poll = c_poll, .done = c_done,
	.tick = c_tick, .interval = c_interval, .stopping = c_stopping,
	.detach = c_detach,
	.finish = c_finish, .destroy = c_destroy,
};

/* No TARGET (ktrace's every process): no binary, no CMD. */
static void no_target(struct session *s, struct target *t)
{
	memset(t, 0, sizeof(*t));
	memset(s, 0, sizeof(*s));
	s->ops = &ops;
	s->t = t;
	s->target_optional = true;
	s->gobin = SESSION_GOBIN_IF_GO;
}

#define FULL "prepare plan configure load attach started released " \
	     "stopping detach finish destroy"

static void test_order_and_deadline(void **state)
{
	struct session s;
	struct target t;
	uint64_t t0;

	reset();
	no_target(&s, &t);
	s.duration = 0.35;
	s.interval = 0.1;
	assert_int_equal(session__add_tick(&s, listener, &listened), 0);
	t0 = mono_ns();
	assert_int_equal(session__run(&s), EXIT_OK);
	assert_string_equal(trail, FULL);
	/* -d counts from time 0; each pass polls (10 ms here) */
	assert_true(mono_ns() - t0 >= 350000000ULL);
	assert_true(mono_ns() - t0 < 1500000000ULL);
	assert_true(s.end_ns - s.start_ns >= 350000000ULL);
	assert_true(polls >= 10);
	/* every pass but the last, which ended it, ticks once */
	assert_int_equal(ticks, polls - 1);
	assert_int_equal(listened, ticks);
	assert_in_range(intervals, 2, 3);
	assert_false(s.target_gone);
}

static void test_done_ends_it(void **state)
{
	struct session s;
	struct target t;

	reset();
	no_target(&s, &t);
	done_after = 3;
	assert_int_equal(session__run(&s), EXIT_OK);
	assert_int_equal(polls, 3);
	assert_string_equal(trail, FULL);
}

/* A failed step: nothing after it runs but destroy; its -errno is what
 * the session returns (main.c maps it to the exit code). */
static void test_failure_skips_the_rest(void **state)
{
	struct session s;
	struct target t;

	reset();
	no_target(&s, &t);
	fail_at = F_CONFIGURE;
	fail_err = -EPERM;
	assert_int_equal(session__run(&s), -EPERM);
	assert_string_equal(trail, "prepare plan configure destroy");
	assert_int_equal(polls, 0);

	reset();
	no_target(&s, &t);
	fail_at = F_PREPARE;
	fail_err = -EINVAL;
	assert_int_equal(session__run(&s), -EINVAL);
	assert_string_equal(trail, "prepare destroy");

	/* finish fails: everything ran, its error is returned */
	reset();
	no_target(&s, &t);
	done_after = 1;
	fail_at = F_FINISH;
	fail_err = -ENOSPC;
	assert_int_equal(session__run(&s), -ENOSPC);
	assert_string_equal(trail, FULL);
}

static void test_read_failure_is_eio(void **state)
{
	struct session s;
	struct target t;

	reset();
	no_target(&s, &t);
	poll_err = -EBADF;
	assert_int_equal(session__run(&s), -EIO);
	assert_int_equal(polls, 1);
	assert_true(s.read_failed);
	assert_string_equal(trail, FULL);
	/* -EINTR is a signal, not a failure: the loop goes on */
	reset();
	no_target(&s, &t);
	poll_err = -EINTR;
	done_after = 2;
	assert_int_equal(session__run(&s), EXIT_OK);
	assert_int_equal(polls, 2);
}

/* A stop signal ends the loop before the next pass. */
static void test_stop_signal(void **state)
{
	struct session s;
	struct target t;

	reset();
	no_target(&s, &t);
	s.duration = 5;
	session_stop_signal = SIGTERM;
	assert_int_equal(session__run(&s), EXIT_OK);
	assert_int_equal(polls, 0);
	assert_string_equal(trail, FULL);
	session_stop_signal = 0;
}

/* -- CMD: forked before configure and held until every probe is
 * attached; its end ends the session, its status is the exit code. */
static void test_cmd_held_then_its_status(void **state)
{
	char *argv[] = { "gosnoop", "--", "/bin/sh", "-c", "exit 7", NULL };
	int argc = 5;
	struct session s;
	struct target t;

	reset();
	no_target(&s, &t);
	target__split_cmd(&argc, argv, &t);
	assert_non_null(t.cmd_argv);
	s.stamp_child_exit = true;
	s.duration = 30;
	assert_int_equal(session__run(&s), 7);
	assert_true(pid_at_configure > 0);
	assert_false(cmd_ran_at_configure);
	assert_true(s.target_gone);
	assert_true(s.target_exit_ns >= s.start_ns);
	assert_true(s.end_ns - s.start_ns < 10000000000ULL);
	assert_string_equal(trail, FULL);
	signal(SIGCHLD, SIG_DFL);
}

static uint64_t children_cpu_ns(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru), 0);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	       1000000000ULL +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* CMD ended: finish() has its CPU time from the reap (gosnoop cost
 * prices it; /proc/PID is gone by then), the very time the kernel adds
 * to ours for our reaped children (to a us per field); a CMD still
 * running (-d ended it) has none yet. */
static void test_ended_cmd_cpu_time(void **state)
{
	char *argv[] = { "gosnoop", "--", "/bin/sh", "-c",
			 "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done",
			 NULL };
	char *argv2[] = { "gosnoop", "--", "/bin/sh", "-c", "sleep 30", NULL };
	int argc = 5, argc2 = 5;
	struct session s;
	struct target t;
	uint64_t before;

	reset();
	no_target(&s, &t);
	target__split_cmd(&argc, argv, &t);
	s.stamp_child_exit = true;
	s.duration = 60;
	before = children_cpu_ns();
	assert_int_equal(session__run(&s), 0);
	assert_true(finish_knew_cpu);
	/* 100,000 shell loops: tens of ms at least */
	assert_true(finish_cpu_ns > 5000000);
	assert_true(finish_cpu_ns + 2000 >= children_cpu_ns() - before);
	assert_true(finish_cpu_ns <= children_cpu_ns() - before + 2000);
	signal(SIGCHLD, SIG_DFL);

	reset();
	no_target(&s, &t);
	target__split_cmd(&argc2, argv2, &t);
	s.duration = 0.2;
	finish_knew_cpu = true;
	assert_int_equal(session__run(&s), 0);
	assert_false(finish_knew_cpu);
}

/* A failure before the release: CMD is never run (launch.h), the
 * failure's exit code stays. */
static void test_cmd_never_runs_after_a_failure(void **state)
{
	char *argv[] = { "gosnoop", "--", "/bin/sh", "-c", "exit 7", NULL };
	int argc = 5;
	struct session s;
	struct target t;

	reset();
	no_target(&s, &t);
	target__split_cmd(&argc, argv, &t);
	fail_at = F_ATTACH;
	fail_err = -EPERM;
	assert_int_equal(session__run(&s), -EPERM);
	assert_true(pid_at_configure > 0);
	assert_false(s.launched);
	/* reaped: no such child any more */
	assert_int_equal(kill(pid_at_configure, 0), -1);
}

/* Function patterns: the session plans after the binary, prepares
 * after configure, attaches s->prog to every process of PATH (pid 0)
 * with the sites asked, detaches before the command, frees at the end. */
static void test_funcprobe_steps(void **state)
{
	char path[PATH_MAX], *pats[] = { "main.*" };
	struct session s;
	struct target t;
	struct stat st;

	snprintf(path, sizeof(path), "%s/demo", tu_fixtures_dir());
	if (stat(path, &st))
		skip();
	reset();
	no_target(&s, &t);
	s.target_optional = false;
	s.gobin = SESSION_GOBIN_REQUIRED;
	s.gobin_flags = GOBIN_OPEN_NO_DWARF;
	s.path_arg = path;
	s.pats = pats;
	s.pat_cnt = 1;
	s.fo.returns = true;
	s.fp_sites = FP_SITES_ENTRY | FP_SITES_RET;
	done_after = 1;
	assert_int_equal(session__run(&s), EXIT_OK);
	assert_string_equal(trail, "prepare fp_plan plan configure fp_prepare "
			    "load fp_attach attach started released "
			    "stopping fp_detach detach finish fp_free destroy");
	assert_int_equal(fp_pid_seen, 0);
	assert_ptr_equal(fp_prog_seen, &fp_dummy);
	assert_int_equal(fp_sites_seen, FP_SITES_ENTRY | FP_SITES_RET);
	assert_null(s.fp);
	assert_null(s.gb);
}

/* serve's units: attach from a plan and a binary the caller has, with
 * no prepare/plan/CMD/loop, to the caller's pid; detach and close apart;
 * the binary stays the caller's. A failed load still closes cleanly. */
static void test_attach_and_detach_without_the_loop(void **state)
{
	struct gobin *gb = (struct gobin *)&fp_dummy;	/* freed: a crash */
	struct session s;
	struct target t;

	reset();
	no_target(&s, &t);
	snprintf(t.path, sizeof(t.path), "/nonexistent/serve-target");
	s.gb = gb;
	s.fp = (struct funcprobe *)&fp_dummy;
	s.fp_sites = FP_SITES_ENTRY;
	s.attach_pid = 4242;
	assert_int_equal(session__attach(&s), 0);
	assert_string_equal(trail, "configure fp_prepare load fp_attach attach");
	assert_int_equal(fp_pid_seen, 4242);
	assert_int_equal(fp_sites_seen, FP_SITES_ENTRY);
	session__detach(&s);
	assert_string_equal(trail, "configure fp_prepare load fp_attach attach "
			    "fp_detach detach");
	session__close(&s);
	assert_string_equal(trail, "configure fp_prepare load fp_attach attach "
			    "fp_detach detach fp_free destroy");
	assert_null(s.fp);
	assert_ptr_equal(s.gb, gb);

	reset();
	no_target(&s, &t);
	s.gb = gb;
	s.fp = (struct funcprobe *)&fp_dummy;
	fail_at = F_LOAD;
	fail_err = -EPERM;
	assert_int_equal(session__attach(&s), -EPERM);
	session__close(&s);
	assert_string_equal(trail, "configure fp_prepare load fp_free destroy");
	assert_ptr_equal(s.gb, gb);
}

static void test_tick_listeners_are_bounded(void **state)
{
	struct session s;
	struct target t;
	int n = 0;

	no_target(&s, &t);
	for (int i = 0; i < SESSION_MAX_TICKS; i++)
		assert_int_equal(session__add_tick(&s, listener, &n), 0);
	assert_int_equal(session__add_tick(&s, listener, &n), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_deadline),
		cmocka_unit_test(test_done_ends_it),
		cmocka_unit_test(test_failure_skips_the_rest),
		cmocka_unit_test(test_read_failure_is_eio),
		cmocka_unit_test(test_stop_signal),
		cmocka_unit_test(test_cmd_held_then_its_status),
		cmocka_unit_test(test_ended_cmd_cpu_time),
		cmocka_unit_test(test_cmd_never_runs_after_a_failure),
		cmocka_unit_test(test_funcprobe_steps),
		cmocka_unit_test(test_attach_and_detach_without_the_loop),
		cmocka_unit_test(test_tick_listeners_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
