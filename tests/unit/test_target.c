// SPDX-License-Identifier: MIT
/*
 * target.c's /proc/PID/stat readers (target__proc_stat_nums,
 * target__pid_alive) against what the kernel says another way: getppid(),
 * times(), CLOCK_BOOTTIME around a fork, a child's own state; with a comm
 * that holds ") " and digits (the line is split after the last ')').
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"
#include "target.h"

enum { PPID = 4, UTIME = 14, STIME = 15, STARTTIME = 22 };

static double boot_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child named like a stat line itself, held on a pipe until released;
 * ready after one byte comes back. */
static pid_t held_child(int *release_fd)
{
	int go[2], ready[2];
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(go[1]);
		close(ready[0]);
		prctl(PR_SET_NAME, "x) R 1 2 (y", 0, 0, 0);
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) < 0)
			_exit(3);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release_fd = go[1];
	return pid;
}

static void test_child_ppid_state_and_start_time(void **state)
{
	static const int fields[] = { PPID, STARTTIME };
	unsigned long long v[2];
	double before = boot_s(), after;
	long hz = sysconf(_SC_CLK_TCK);
	int release, status;
	char st = 0;
	pid_t pid;

	(void)state;
	pid = held_child(&release);
	after = boot_s();
	/* the comm's own "R 1 2" is not taken for the fields after it: the
	 * child is S once blocked in read(2) (R until then: up to 10 s of a
	 * loaded machine) */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(target__proc_stat_nums(pid, fields, 2, v,
							&st), 0);
		if (st != 'R')
			break;
		usleep(10000);
	}
	assert_int_equal(st, 'S');
	assert_int_equal(v[0], (unsigned long long)getpid());
	/* start time: clock ticks after boot, between the two stamps (a
	 * tick of rounding either way) */
	assert_true((double)v[1] / (double)hz >= before - 2.0 / (double)hz);
	assert_true((double)v[1] / (double)hz <= after + 2.0 / (double)hz);
	assert_true(target__pid_alive(pid));

	/* exited, not reaped: a zombie, which pid_alive counts as gone */
	close(release);
	for (int i = 0; i < 1000; i++) {	/* 10 s */
		if (!target__proc_stat_nums(pid, fields, 1, v, &st) &&
		    st == 'Z')
			break;
		usleep(10000);
	}
	assert_int_equal(st, 'Z');
	assert_false(target__pid_alive(pid));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* reaped: gone */
	assert_int_equal(target__proc_stat_nums(pid, fields, 1, v, NULL),
			 -ESRCH);
	assert_false(target__pid_alive(pid));
}

static void test_own_cpu_time_and_parent(void **state)
{
	static const int fields[] = { PPID, UTIME, STIME };
	unsigned long long v[3];
	volatile unsigned long spin = 0;
	struct tms t0, t1;

	(void)state;
	/* some CPU time, so that the comparison is not 0 against 0 */
	while (times(&t0) >= 0 && t0.tms_utime < 3)
		spin++;
	times(&t0);
	assert_int_equal(target__proc_stat_nums(getpid(), fields, 3, v, NULL),
			 0);
	times(&t1);
	assert_int_equal(v[0], (unsigned long long)getppid());
	/* the same accounting read between two times() calls */
	assert_true(v[1] + 1 >= (unsigned long long)t0.tms_utime &&
		    v[1] <= (unsigned long long)t1.tms_utime + 1);
	assert_true(v[2] + 1 >= (unsigned long long)t0.tms_stime &&
		    v[2] <= (unsigned long long)t1.tms_stime + 1);
}

static void test_bad_fields(void **state)
{
	static const int descending[] = { STARTTIME, PPID };
	static const int state_field[] = { 3 };
	static const int past_the_end[] = { 400 };
	unsigned long long v[2];

	(void)state;
	assert_int_equal(target__proc_stat_nums(getpid(), descending, 2, v,
						NULL), -EINVAL);
	assert_int_equal(target__proc_stat_nums(getpid(), state_field, 1, v,
						NULL), -EINVAL);
	assert_int_equal(target__proc_stat_nums(getpid(), past_the_end, 1, v,
						NULL), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_ppid_state_and_start_time),
		cmocka_unit_test(test_own_cpu_time_and_parent),
		cmocka_unit_test(test_bad_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
