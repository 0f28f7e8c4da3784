// SPDX-License-Identifier: MIT
/* Records reach stdout whole: see record_out.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record_out.h"

/* glibc ignores setvbuf's size without a buffer of our own (it uses the
 * file's block size, 4 KiB, and writes whatever fits: records cut). */
static char stdout_buf[1 << 20];
static size_t flush_bytes = 128 << 10;
/* the first failed write's errno: stdio keeps only a flag */
static int write_errno;

static void flush_stdout(void)
{
	if (fflush(stdout) == EOF && !write_errno)
		write_errno = errno ? errno : -1;
}

void record_out__init(void)
{
	struct stat st;

	/* a reader that goes away (| head) ends tracing as -n does, with
	 * CMD ended in order, instead of killing gosnoop mid-write */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	/*
	 * A pipe or socket takes a write of up to PIPE_BUF bytes whole; a
	 * longer one can have another writer's data put in its middle. A
	 * file or terminal takes each write(2) whole, however long. Written
	 * out once a quarter of PIPE_BUF is pending, a write(2) holds less
	 * than that plus one record: whole for records up to 3 KiB.
	 */
	if (!fstat(STDOUT_FILENO, &st) &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		flush_bytes = PIPE_BUF / 4;
}

void record_out__end(void)
{
	if (__fpending(stdout) >= flush_bytes)
		flush_stdout();
}

void record_out__flush(void)
{
	flush_stdout();
}

bool record_out__reader_gone(void)
{
	/* any failed write to stdout counts (SIGPIPE is ignored: EPIPE, or a
	 * full disk): stdout's error flag stays set until cleared */
	flush_stdout();
	return ferror(stdout);
}

int record_out__close(void)
{
	flush_stdout();
	if (ferror(stdout) && !write_errno)
		write_errno = -1;	/* failed inside a printf: errno lost */
	return write_errno;
}
