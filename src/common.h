/* SPDX-License-Identifier: MIT */
/* What every gosnoop command shares: exit codes, error printing, flags. */
#ifndef GOSNOOP_COMMON_H
#define GOSNOOP_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Documented exit codes (README "Exit codes"). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* runtime failure */
	EXIT_USAGE = 2,		/* usage error or bad input */
	EXIT_NOKERNEL = 3,	/* kernel feature or privilege missing */
};

extern bool json_output;	/* --json */
extern int verbose;		/* -v, repeatable */
extern const char *prog_name;	/* "gosnoop" */
/* While set, errors and warnings start with it ("FILE:LINE" of the serve
 * target being started): one line says what failed and where. */
extern const char *p_context;
extern unsigned long p_err_count;	/* errors printed so far */

/* One line on stderr ("gosnoop: ..."), or {"type":"error",...} on stdout
 * in JSON mode so a consumer of the stream sees it too. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route libbpf's messages through -v. */
void setup_libbpf_logging(void);

/* A positive number of seconds ("5", "0.5") for option `what` (-d, -i):
 * 0, or -EINVAL after one line. */
int parse_seconds(const char *what, const char *s, double *out);

/* A decimal number of digits only (no sign: strtoull takes "-3" as
 * 2^64 - 3): 0, or -EINVAL (nothing printed). */
int parse_uint(const char *s, unsigned long long *out);

/* One line for an option getopt refused (opterr is 0: main.c), naming
 * it and 'gosnoop CMD --help' ('gosnoop --help' when cmd is NULL); call
 * from getopt's '?' case. */
void p_bad_option(const char *cmd, char **argv);

/* The way out of a missing privilege, for every line that reports one. */
#define PRIV_HINT "run as root, or with CAP_BPF and CAP_PERFMON; see 'gosnoop doctor'"

/* The one line for a BPF object that did not load (err: -errno), with
 * what to do: privileges, or 'gosnoop doctor'. what: "the BPF program"
 * or a probe's own words. */
void p_load_error(const char *what, int err);

/* CLOCK_MONOTONIC, ns: the one clock sessions keep time with. */
uint64_t mono_ns(void);

/*
 * The one mapping from -errno to exit code (README "Exit codes"); main.c's
 * finish() applies it to what every command returns. So that it can be
 * one, each errno means one thing everywhere:
 *   2 (bad input)  -ENOENT -ENOEXEC -EINVAL -ESRCH -ENOTDIR -EISDIR -ELOOP
 *                  -ENAMETOOLONG -E2BIG, -EPROTONOSUPPORT (unknown Go
 *                  layout), -ENOPKG (an ELF file but not a Go program);
 *   3 (kernel)     -EPERM -EACCES (a missing privilege), -ENOSYS,
 *                  -EOPNOTSUPP (a missing kernel feature: no BTF, a
 *                  refused attach), -ENODEV (no tracefs);
 *   1              anything else (-ENOMEM, -EIO, -ENOSPC, ...).
 */
int exit_code_for(int err);

/*
 * Bytes each CPU sends before it wakes a ring buffer's reader (see
 * src/bpf/bpf_wakeup.h): want, lowered so that all CPUs together wake it
 * before half of a ring of ring_bytes is full.
 */
unsigned int ringbuf_wakeup_bytes(unsigned long ring_bytes, unsigned int want);

#endif
