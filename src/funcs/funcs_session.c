// SPDX-License-Identifier: MIT
/*
 * `gosnoop count` and `gosnoop latency` on the session pipeline
 * (session.h): their shared options, then the session's life cycle with
 * funcs_ops' configure/load/print/tick/destroy as its callbacks; -i
 * prints each interval, the end prints what is left.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "target.h"
#include "funcs_session.h"
#include "json_writer.h"
#include "gobin/gobin.h"
#include "pattern.h"
#include "probe/funcprobe.h"
#include "launch.h"
#include "options.h"
#include "overhead.h"
#include "record_out.h"
#include "session.h"


static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

enum { OPT_TOP = 256, OPT_PER_GOID, OPT_CLASSIC, OPT_MAX_OVERHEAD, OPT_KEEP };

struct funcs_args {
	struct funcs_cli *cli;
	bool is_count;
};

/* count's and latency's own options (options.h handles the shared). */
static int funcs_option(int code, char *arg, void *ctx)
{
	struct funcs_args *a = ctx;
	struct funcs_cli *cli = a->cli;
	char *end;
	long top;

	switch (code) {
	case OPT_TOP:
		if (!a->is_count) {
			p_err("--top is an option of 'count'");
			return -EINVAL;
		}
		errno = 0;
		top = strtol(arg, &end, 10);
		/* in range before the cast: 2^32+1 is not 1 */
		if (errno || *end || end == arg || top <= 0 || top > INT_MAX) {
			p_err("bad --top '%s': give a count > 0", arg);
			return -EINVAL;
		}
		cli->top = (int)top;
		return 0;
	case OPT_PER_GOID:
		if (a->is_count) {
			p_err("--per-goid is an option of 'latency'");
			return -EINVAL;
		}
		cli->per_goid = true;
		return 0;
	case OPT_CLASSIC:
		cli->classic = true;
		return 0;
	case OPT_MAX_OVERHEAD:
		return overhead__parse_pct(arg, &cli->max_overhead);
	case OPT_KEEP:
		return overhead__add_keep(&cli->keep, arg);
	default:
		return -ENOENT;
	}
}

/* 0, 1 (--help printed), or -EINVAL after one line. */
static int parse_args(int argc, char **argv, struct funcs_cli *cli,
		      const struct funcs_ops *ops, void (*usage)(FILE *f))
{
	static const struct option opts[] = {
		{ "top", required_argument, NULL, OPT_TOP },
		{ "per-goid", no_argument, NULL, OPT_PER_GOID },
		{ "classic-uprobes", no_argument, NULL, OPT_CLASSIC },
		{ "max-overhead", required_argument, NULL, OPT_MAX_OVERHEAD },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{}
	};
	struct funcs_args a = { cli, !strcmp(ops->verb, "count") };
	const struct opts_spec spec = {
		.verb = ops->verb, .usage = usage,
		.target = &cli->t, .pid = &cli->pid,
		.duration = &cli->duration, .interval = &cli->interval,
		.own_long = opts, .own = funcs_option, .ctx = &a,
	};
	char none[96];
	int err;

	snprintf(none, sizeof(none),
		 "no PATTERN: name the functions, e.g. '%s PATH \"main.*\"'",
		 ops->verb);
	err = opts__parse_patterns(&spec, argc, argv, none, &cli->path_arg,
				   &cli->pats, &cli->pat_cnt);
	return err ? err : overhead__check_keep(&cli->keep, cli->max_overhead);
}

/* The session callbacks: s->ctx is the funcs_session. */

static int plan(struct session *s)
{
	struct funcs_session *fs = s->ctx;

	fs->gb = s->gb;
	fs->fp = s->fp;
	return 0;
}

static int configure(struct session *s)
{
	struct funcs_session *fs = s->ctx;
	int err;

	err = fs->ops->configure(fs);
	if (err)
		return err;
	s->obj = fs->obj;
	s->prog = fs->prog;
	return 0;
}

static int load(struct session *s)
{
	struct funcs_session *fs = s->ctx;
	int err;

	err = fs->ops->load(fs);
	if (err)
		p_load_error("the BPF program", err);
	return err;
}

static int started(struct session *s)
{
	struct funcs_session *fs = s->ctx;

	fs->start_ns = s->start_ns;
	fs->interval_start_ns = real_ns();
	if (fs->ops->calls) {
		struct overhead_calls c;

		fs->ops->calls(fs, &c);
		return overhead__start(s, &c, fs->cli->max_overhead,
				       &fs->cli->keep, &fs->ovh);
	}
	return 0;
}

static void released(struct session *s)
{
	struct funcs_session *fs = s->ctx;

	if (!json_output)
		fprintf(stderr, "%s: %s %zu functions of %s%s\n", prog_name,
			!strcmp(fs->ops->verb, "count") ? "counting calls of"
							: "timing calls of",
			funcprobe__cnt(s->fp), s->t->display,
			s->duration > 0 || s->launched ? "" :
			"; Ctrl-C to stop");
}

/* The command's housekeeping, about once a second. */
static void tick(struct session *s, uint64_t now_ns)
{
	struct funcs_session *fs = s->ctx;

	if (fs->ops->tick && now_ns >= fs->next_tick_ns) {
		fs->ops->tick(fs);
		fs->next_tick_ns = now_ns + 1000000000ULL;
	}
}

static void interval(struct session *s, uint64_t now_ns)
{
	struct funcs_session *fs = s->ctx;

	fs->ops->print(fs, false);
	fs->interval_start_ns = real_ns();
}

static int finish(struct session *s)
{
	struct funcs_session *fs = s->ctx;

	overhead__report(fs->ovh);
	fs->ops->print(fs, true);
	return 0;
}

static void destroy(struct session *s)
{
	struct funcs_session *fs = s->ctx;

	fs->ops->destroy(fs);
	overhead__free(fs->ovh);
	fs->ovh = NULL;
	fs->fp = NULL;
	fs->gb = NULL;
}

static const struct session_ops funcs_session_ops = {
	.plan = plan,
	.configure = configure,
	.load = load,
	.started = started,
	.released = released,
	.tick = tick,
	.interval = interval,
	.finish = finish,
	.destroy = destroy,
};

int funcs_session__main(int argc, char **argv, const struct funcs_ops *ops,
			void (*usage)(FILE *f))
{
	struct funcs_cli cli = {};
	struct funcs_session fs = { .cli = &cli, .ops = ops };
	struct session_ops sops = funcs_session_ops;
	struct session s = { .ops = &sops, .ctx = &fs };
	int ret;

	record_out__init();
	ret = parse_args(argc, argv, &cli, ops, usage);
	if (ret) {
		overhead__keep_free(&cli.keep);
		return ret > 0 ? EXIT_OK : ret;
	}
	sops.verb = ops->verb;
	fs.sess = &s;
	s.t = &cli.t;
	s.path_arg = cli.path_arg;
	s.pid = cli.pid;
	s.duration = cli.duration;
	s.interval = cli.interval;
	/* DWARF is read only for --per-goid (g.goid's offset, where DWARF
	 * beats the per-release table): reading it is most of the start-up
	 * time, and the sites and g.stack.hi come from pclntab and code. */
	s.gobin_flags = cli.per_goid ? 0 : GOBIN_OPEN_NO_DWARF;
	s.pats = cli.pats;
	s.pat_cnt = cli.pat_cnt;
	s.fo = (struct funcprobe_opts){ .returns = ops->returns,
					.force_classic = cli.classic };
	s.fp_sites = ops->returns ? FP_SITES_ENTRY | FP_SITES_RET
				  : FP_SITES_ENTRY;
	ret = session__run(&s);
	overhead__keep_free(&cli.keep);
	return ret;
}

void funcs_session__interval_header(const struct funcs_session *s,
				    bool first)
{
	time_t t = (time_t)(s->interval_start_ns / 1000000000ULL);
	struct tm tm;
	char buf[16];

	if (s->cli->interval <= 0)
		return;
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	printf("%s%s\n", first ? "" : "\n", buf);
}

void funcs_session__interval_marker(struct jw *jw)
{
	jw_start_object(jw);
	jw_name(jw, "type"); jw_string(jw, "interval");
	jw_name(jw, "ts_ns");
	jw_uint(jw, mono_ns());
	jw_end_object(jw);
	jw_end_line(jw);
}
