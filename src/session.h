/* SPDX-License-Identifier: MIT */
/*
 * What every tracing command's session shares: the signals that end it
 * (the clock is common.h's mono_ns). The seed of the one session pipeline
 * (issue 17): open, configure, load and attach, poll, detach and drain
 * are still written out in each command.
 */
#ifndef GOSNOOP_SESSION_H
#define GOSNOOP_SESSION_H

#include <signal.h>
#include <stdint.h>

/* The signal that ended the session (SIGINT, SIGTERM, SIGHUP), 0 until
 * one came. */
extern volatile sig_atomic_t session_stop_signal;

/*
 * Catch SIGINT, SIGTERM and SIGHUP: each records itself in
 * session_stop_signal and tells launch.c who sent it (a signal sent to
 * gosnoop alone is passed on to -- CMD). SA_RESTART: a write(2) to a full
 * stdout pipe resumes after the signal instead of failing with EINTR and
 * losing what was buffered; poll and epoll_wait still return EINTR, so
 * the loops see the signal at once.
 */
void session__catch_stop_signals(void);

#endif
