// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

int launch__start(struct launch *l, const char *path, char **argv)
{
	int fds[2];
	pid_t pid;
	char c;

	l->pid = -1;
	l->go_fd = -1;
	l->reaped = false;
	l->status = 0;
	l->cpu_ns = 0;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	/* an inherited SIG_IGN would reap CMD by itself: waitpid would
	 * never see it end (ECHILD) */
	signal(SIGCHLD, SIG_DFL);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	if (pid == 0) {
		ssize_t n;

		close(fds[1]);
		/* if gosnoop dies before releasing us, do not run CMD */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		do {
			n = read(fds[0], &c, 1);
		} while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127);
		/* gosnoop killed (SIGKILL): CMD runs on, untraced, as
		 * under strace; it is not ours to end then */
		prctl(PR_SET_PDEATHSIG, 0);
		close(fds[0]);
		execv(path, argv);
		fprintf(stderr, "gosnoop: cannot run %s: %s\n", path,
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	l->pid = pid;
	l->go_fd = fds[1];
	return 0;
}

int launch__release(struct launch *l)
{
	ssize_t n;

	if (l->go_fd < 0)
		return -EINVAL;
	do {
		n = write(l->go_fd, "g", 1);
	} while (n < 0 && errno == EINTR);
	close(l->go_fd);
	l->go_fd = -1;
	return n == 1 ? 0 : -EPIPE;
}

void launch__abort(struct launch *l)
{
	if (l->go_fd >= 0) {
		close(l->go_fd);	/* EOF: the child exits 127 */
		l->go_fd = -1;
	}
	if (l->pid > 0)
		launch__reap(l, true);
}

int launch__reap(struct launch *l, bool wait)
{
	struct rusage ru;
	pid_t r;

	if (l->reaped)
		return 1;
	if (l->pid <= 0)
		return -ECHILD;
	do {
		r = wait4(l->pid, &l->status, wait ? 0 : WNOHANG, &ru);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	l->reaped = true;
	l->cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		    1000000000ULL +
		    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	return 1;
}

int launch__exit_code(const struct launch *l)
{
	if (!l->reaped)
		return 1;
	if (WIFEXITED(l->status))
		return WEXITSTATUS(l->status);
	if (WIFSIGNALED(l->status))
		return 128 + WTERMSIG(l->status);
	return 1;
}

/* Wait up to ms for the child to end: 1 if reaped. */
static int reap_within(struct launch *l, int ms)
{
	for (int waited = 0; waited < ms; waited += 10) {
		if (launch__reap(l, false) != 0)
			return 1;
		usleep(10000);
	}
	return launch__reap(l, false) != 0;
}

static volatile sig_atomic_t signal_to_us_alone;

void launch__note_signal(const siginfo_t *si)
{
	/* kill(1), systemd, docker; a terminal's signals are SI_KERNEL */
	signal_to_us_alone = si && (si->si_code == SI_USER ||
				    si->si_code == SI_QUEUE ||
				    si->si_code == SI_TKILL);
}

int launch__finish(struct launch *l, int sig)
{
	if (l->go_fd >= 0) {
		launch__abort(l);
		return launch__exit_code(l);
	}
	if (launch__reap(l, false) != 0)
		return launch__exit_code(l);
	if (sig) {
		/* CMD shuts down as it sees fit; we wait, as for Ctrl-C */
		if (signal_to_us_alone)
			kill(l->pid, sig);
		launch__reap(l, true);
		return launch__exit_code(l);
	}
	kill(l->pid, SIGTERM);
	if (!reap_within(l, LAUNCH_GRACE_MS)) {
		kill(l->pid, SIGKILL);
		launch__reap(l, true);
	}
	return 0;
}
