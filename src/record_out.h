/* SPDX-License-Identifier: MIT */
/*
 * Streams of records on stdout (trace calls, ktrace events, sched events)
 * written whole: every write(2) ends at the end of a record. The traced
 * program may write to the same pipe, file or terminal (with `-- CMD` it
 * shares our stdout), and a record cut by a full stdio buffer had the
 * program's lines spliced into it: broken JSON lines.
 */
#ifndef GOSNOOP_RECORD_OUT_H
#define GOSNOOP_RECORD_OUT_H

#include <stdbool.h>

/* Give stdout a buffer no record fills; before anything is written. */
void record_out__init(void);
/* A record ends here: write out what is buffered once it is enough. */
void record_out__end(void);
/* Write out what is buffered now (a summary whole before what follows);
 * a write that fails is kept with its errno for record_out__close()
 * (a bare fflush(stdout) loses it: "cannot write" without the reason). */
void record_out__flush(void);
/* Write out what is buffered; true once a write to stdout failed (its
 * reader has gone: `| head` exited, EPIPE): tracing should end. */
bool record_out__reader_gone(void);
/*
 * At exit: write out what is left; 0, or the errno of a write to stdout
 * that failed, now or earlier (-1: which is not known; stdio keeps only
 * a flag). EPIPE is a
 * reader that went away (`| head`), which ends tracing as -n does; any
 * other (ENOSPC: a full disk) is output lost, a failure as in coreutils.
 */
int record_out__close(void);

#endif
