// SPDX-License-Identifier: MIT
/* The session's stop signals: see session.h. */
#include <string.h>

#include "launch.h"
#include "session.h"

volatile sig_atomic_t session_stop_signal;

static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
	session_stop_signal = sig;
	launch__note_signal(si);
}

void session__catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
