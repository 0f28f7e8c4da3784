// SPDX-License-Identifier: MIT
/* The one session pipeline of every tracing command: see session.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "gobin/gobin.h"
#include "record_out.h"
#include "session.h"

volatile sig_atomic_t session_stop_signal;
static volatile uint64_t child_exit_ns;

static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
	session_stop_signal = sig;
	launch__note_signal(si);
}

/* Only records when: reaping happens in the loop. */
static void on_sigchld(int sig, siginfo_t *si, void *uc)
{
	if (!child_exit_ns)
		child_exit_ns = mono_ns();
}

static void catch(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

void session__catch_stop_signals(void)
{
	catch(SIGINT, on_stop_signal, 0);
	catch(SIGTERM, on_stop_signal, 0);
	catch(SIGHUP, on_stop_signal, 0);
}

int session__add_tick(struct session *s, session_tick_fn fn, void *ctx)
{
	if (s->nticks == SESSION_MAX_TICKS)
		return -E2BIG;
	s->ticks[s->nticks].fn = fn;
	s->ticks[s->nticks].ctx = ctx;
	s->nticks++;
	return 0;
}

pid_t session__target_pid(const struct session *s)
{
	return s->attach_pid;
}

bool session__ended_cmd_cpu_ns(const struct session *s, uint64_t *cpu_ns)
{
	if (!s->launched || !s->launch.reaped)
		return false;
	*cpu_ns = s->launch.cpu_ns;
	return true;
}

/* The target and its Go binary (ktrace: both may be absent). */
static int open_target(struct session *s)
{
	char why[256];
	int err;

	if (s->target_optional && !s->path_arg && !s->pid && !s->t->cmd_argv)
		return 0;
	err = target__resolve(s->t, s->path_arg, s->pid);
	if (err)
		return err;
	if (s->gobin == SESSION_GOBIN_REQUIRED)
		return target__open_gobin_flags(s->t, s->gobin_flags, &s->gb);
	if (gobin__open(s->t->path, &s->gb, why, sizeof(why))) {
		/* kernel events of any program are fine; only the
		 * goroutine columns need Go */
		p_info("%s: not a Go program (%s): no goroutines",
		       s->t->display, why);
		s->gb = NULL;
	}
	return 0;
}

/* Funcprobe commands: which functions, and their sites. */
static int plan_funcs(struct session *s)
{
	uint64_t t0 = mono_ns();
	int err;

	err = funcprobe__plan(s->gb, &s->patterns, s->t->display, &s->fo,
			      &s->fp);
	if (err)
		return err;
	p_info("planned in %.1f ms", (mono_ns() - t0) / 1e6);
	funcprobe__report_plan(s->fp, s->ops->verb);
	return 0;
}

/* -- CMD: forked now, held until every probe is attached. */
static int launch_cmd(struct session *s)
{
	int err;

	if (s->t->kind == TARGET_PID)
		s->attach_pid = s->t->pid;
	if (s->t->kind != TARGET_CMD)
		return 0;
	err = launch__start(&s->launch, s->t->path, s->t->cmd_argv);
	if (err) {
		p_err("cannot start %s: %s", s->t->display, strerror(-err));
		return err;
	}
	s->launched = true;
	s->attach_pid = s->launch.pid;
	return 0;
}

static int attach_funcs(struct session *s)
{
	int err;

	err = funcprobe__attach(s->fp, s->prog, s->t->path, s->attach_pid,
				s->fp_sites);
	if (err)
		return err;
	if (s->run_ns)	/* session__run's -v report (serve: none) */
		p_info("attached %zu sites of %zu functions through %s in %.1f ms (%.1f ms after start)",
		       funcprobe__site_cnt(s->fp, s->fp_sites),
		       funcprobe__cnt(s->fp), funcprobe__mode(s->fp),
		       funcprobe__attach_ms(s->fp),
		       (mono_ns() - s->run_ns) / 1e6);
	return 0;
}

#define CALL(s, fn) ((s)->ops->fn ? (s)->ops->fn(s) : 0)

int session__attach(struct session *s)
{
	int err;

	err = CALL(s, configure);
	if (err)
		return err;
	if (s->fp)
		funcprobe__prepare(s->fp, s->obj, s->prog);
	err = CALL(s, load);
	if (!err && s->fp)
		err = attach_funcs(s);
	if (!err)
		err = CALL(s, attach);
	return err;
}

void session__detach(struct session *s)
{
	if (s->fp) {
		funcprobe__detach(s->fp);
		if (s->run_ns)
			p_info("detached in %.1f ms",
			       funcprobe__detach_ms(s->fp));
	}
	if (s->ops->detach)
		s->ops->detach(s);
}

void session__close(struct session *s)
{
	funcprobe__free(s->fp);
	s->fp = NULL;
	if (s->ops->destroy)
		s->ops->destroy(s);
}

/* prepare .. plan and -- CMD held: what session__attach() starts from. */
static int set_up(struct session *s)
{
	int err;

	err = CALL(s, prepare);
	if (!err && s->pats)
		err = patterns__init(&s->patterns, s->pats, s->pat_cnt);
	if (!err)
		err = open_target(s);
	if (!err && s->pats)
		err = plan_funcs(s);
	if (!err)
		err = CALL(s, plan);
	if (!err)
		err = launch_cmd(s);
	return err;
}

/* Time 0, then let CMD run. */
static int start(struct session *s)
{
	int err;

	session__catch_stop_signals();
	if (s->stamp_child_exit)
		catch(SIGCHLD, on_sigchld, SA_NOCLDSTOP);
	s->start_ns = mono_ns();
	err = CALL(s, started);
	if (err)
		return err;
	if (s->launched) {
		err = launch__release(&s->launch);
		if (err) {
			p_err("cannot start %s: %s", s->t->display,
			      strerror(-err));
			return err;
		}
	}
	if (s->ops->released)
		s->ops->released(s);
	return 0;
}

/* Whether the traced process ended; records when. */
static bool target_ended(struct session *s)
{
	if (s->launched) {
		if (launch__reap(&s->launch, false) != 1)
			return false;
		s->target_exit_ns = child_exit_ns ? child_exit_ns : mono_ns();
	} else if (s->t->kind == TARGET_PID && !target__pid_alive(s->t->pid)) {
		s->target_exit_ns = mono_ns();
	} else {
		return false;
	}
	s->target_gone = true;
	return true;
}

/* One pass: false when the session is over. */
static bool pass(struct session *s, uint64_t deadline, uint64_t *next_iv)
{
	uint64_t step = (uint64_t)(s->interval * 1e9), now;
	int ret = 0;

	if (s->ops->poll)
		ret = s->ops->poll(s, SESSION_POLL_MS);
	else
		usleep(SESSION_POLL_MS * 1000);
	if (ret < 0 && ret != -EINTR) {
		p_err("reading the ring buffer: %s", strerror(-ret));
		s->read_failed = true;
		return false;
	}
	if (s->ops->done && s->ops->done(s))
		return false;
	if (record_out__reader_gone())
		return false;
	now = mono_ns();
	if (deadline && now >= deadline)
		return false;
	if (target_ended(s))
		return false;
	if (s->ops->tick)
		s->ops->tick(s, now);
	for (int i = 0; i < s->nticks; i++)
		s->ticks[i].fn(s, now, s->ticks[i].ctx);
	if (*next_iv && now >= *next_iv) {
		s->ops->interval(s, now);
		*next_iv += step;
	}
	return true;
}

static void wait_for_end(struct session *s)
{
	uint64_t deadline = 0, next_iv = 0;

	if (s->duration > 0)
		deadline = s->start_ns + (uint64_t)(s->duration * 1e9);
	if (s->interval > 0 && s->ops->interval)
		next_iv = s->start_ns + (uint64_t)(s->interval * 1e9);
	while (!session_stop_signal && pass(s, deadline, &next_iv))
		;
	s->end_ns = mono_ns();
}

int session__run(struct session *s)
{
	bool ran = false;
	int err, code = EXIT_OK;

	s->run_ns = mono_ns();
	s->launch = (struct launch){ .pid = -1, .go_fd = -1 };
	err = set_up(s);
	if (!err)
		err = session__attach(s);
	if (!err)
		err = start(s);
	if (!err) {
		ran = true;
		wait_for_end(s);
		if (s->ops->stopping)
			s->ops->stopping(s);
		session__detach(s);
		err = CALL(s, finish);
		if (!err && s->read_failed)
			err = -EIO;
	}
	if (s->launched) {
		/* CMD's status, or after a failure to set up or to read,
		 * CMD ended: it must not outlive us (a held CMD never runs) */
		code = launch__finish(&s->launch, !ran || s->read_failed ? 0 :
					session_stop_signal);
		s->launched = false;
	}
	session__close(s);
	gobin__free(s->gb);
	s->gb = NULL;
	patterns__free(&s->patterns);
	return err ? err : code;	/* main.c's finish() maps -errno */
}
