// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "progress.h"
#include "json_writer.h"

bool json_output;
int verbose;
const char *prog_name = "gosnoop";
const char *p_context;
unsigned long p_err_count;

static void vprint_line(FILE *f, const char *level, const char *fmt,
			va_list ap)
{
	char buf[1024];
	int n = 0;

	if (p_context && strcmp(level, "info"))
		n = snprintf(buf, sizeof(buf), "%s: ", p_context);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (!strcmp(level, "error"))
		p_err_count++;
	if (json_output && !strcmp(level, "error")) {
		struct jw *jw = jw_new(stdout);

		if (jw) {
			jw_start_object(jw);
			jw_name(jw, "type");
			jw_string(jw, "error");
			jw_name(jw, "message");
			jw_string(jw, buf);
			jw_end_object(jw);
			jw_end_line(jw);
			jw_free(jw);
			fflush(stdout);
		}
	}
	progress__clear_line();	/* a message is not written after a count */
	fprintf(f, "%s: %s%s\n", prog_name,
		!strcmp(level, "warning") ? "warning: " : "", buf);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_line(stderr, "error", fmt, ap);
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_line(stderr, "warning", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vprint_line(stderr, "info", fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void setup_libbpf_logging(void)
{
	libbpf_set_print(libbpf_print);
}

void p_bad_option(const char *cmd, char **argv)
{
	char shortopt[3] = { '-', (char)optopt, 0 };
	/* a short option (optopt): itself, also when grouped ("-zk");
	 * a long one: the argument getopt stopped at */
	const char *arg = optopt > ' ' && optopt < 127 ? shortopt :
			  optind > 0 ? argv[optind - 1] : "?";

	p_err("bad option '%s' (unknown, or its value is missing); "
	      "'gosnoop %s%s--help' lists them", arg, cmd ?: "", cmd ? " " : "");
}

int parse_uint(const char *s, unsigned long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int parse_seconds(const char *what, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || end == s || !(*out > 0) || *out > 1e9) {
		p_err("bad %s '%s': give seconds, e.g. 5 or 0.5", what, s);
		return -EINVAL;
	}
	return 0;
}

void p_load_error(const char *what, int err)
{
	p_err("cannot load %s: %s (%s)", what, strerror(-err),
	      err == -EPERM || err == -EACCES ? PRIV_HINT :
	      "see 'gosnoop doctor'");
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int exit_code_for(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EPERM:
	case EACCES:
	case ENOSYS:
	case EOPNOTSUPP:
	case ENODEV:		/* tracefs: the kernel has none */
		return EXIT_NOKERNEL;
	case ENOENT:
	case ENOEXEC:
	case EINVAL:
	case ENOPKG:
	case EPROTONOSUPPORT:
	case ESRCH:
	case ENOTDIR:
	case EISDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case E2BIG:
		return EXIT_USAGE;
	default:
		return EXIT_FAIL;
	}
}

unsigned int ringbuf_wakeup_bytes(unsigned long ring_bytes, unsigned int want)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu > 0 && ring_bytes / 2 / (unsigned long)ncpu < want)
		return (unsigned int)(ring_bytes / 2 / (unsigned long)ncpu);
	return want;
}
