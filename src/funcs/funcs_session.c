// SPDX-License-Identifier: MIT
/*
 * The life of `gosnoop count` and `gosnoop latency`:
 * options -> target -> gobin -> plan (funcprobe) -> [fork CMD, held]
 * -> open BPF object, configure, load -> attach (one uprobe_multi link)
 * -> [release CMD] -> wait (-i prints each interval) until Ctrl-C, -d or
 * the traced process ends -> detach -> print what is left.
 */
#include <errno.h>
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
#include "record_out.h"
#include "session.h"

#define POLL_MS 100


static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

enum { OPT_TOP = 256, OPT_PER_GOID, OPT_CLASSIC };

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

	switch (code) {
	case OPT_TOP:
		if (!a->is_count) {
			p_err("--top is an option of 'count'");
			return -EINVAL;
		}
		errno = 0;
		cli->top = (int)strtol(arg, &end, 10);
		if (errno || *end || end == arg || cli->top <= 0) {
			p_err("bad --top '%s': give a count > 0", arg);
			return -EINVAL;
		}
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
		{}
	};
	struct funcs_args a = { cli, !strcmp(ops->verb, "count") };
	const struct opts_spec spec = {
		.verb = ops->verb, .usage = usage,
		.target = &cli->t, .pid = &cli->pid,
		.duration = &cli->duration, .interval = &cli->interval,
		.own_long = opts, .own = funcs_option, .ctx = &a,
	};
	int first, err;

	err = opts__parse(&spec, &argc, argv, &first);
	if (err)
		return err;
	first = target__take_path(&cli->t, cli->pid, argc, argv, first,
				  &cli->path_arg);
	cli->pats = argv + first;
	cli->pat_cnt = argc - first;
	if (target__check_given(&cli->t, cli->path_arg, cli->pid))
		return -EINVAL;
	if (cli->pat_cnt < 1) {
		p_err("no PATTERN: name the functions, e.g. '%s PATH \"main.*\"'",
		      ops->verb);
		return -EINVAL;
	}
	return 0;
}

static int load_error(int err)
{
	p_load_error("the BPF program", err);
	return err;
}

static int run(struct funcs_session *s)
{
	struct funcs_cli *cli = s->cli;
	const struct funcs_ops *ops = s->ops;
	struct funcprobe_opts fo = { .returns = ops->returns,
				     .force_classic = cli->classic };
	struct launch l = { .pid = -1, .go_fd = -1 };
	struct patterns pats = {};
	uint64_t deadline = 0, next_print = 0, t0, t_start = mono_ns();
	pid_t attach_pid = 0;
	bool launched = false;
	int err;

	err = patterns__init(&pats, cli->pats, cli->pat_cnt);
	if (err)
		return err;
	err = target__resolve(&cli->t, cli->path_arg, cli->pid);
	if (err)
		goto out;
	/* DWARF is read only for --per-goid (g.goid's offset, where DWARF
	 * beats the per-release table): reading it is most of the start-up
	 * time, and the sites and g.stack.hi come from pclntab and code. */
	err = target__open_gobin_flags(&cli->t, cli->per_goid ? 0 :
				       GOBIN_OPEN_NO_DWARF, &s->gb);
	if (err)
		goto out;
	t0 = mono_ns();
	err = funcprobe__plan(s->gb, &pats, cli->t.display, &fo, &s->fp);
	if (err)
		goto out;
	p_info("planned in %.1f ms", (mono_ns() - t0) / 1e6);
	funcprobe__report_plan(s->fp, ops->verb);

	err = ops->configure(s);
	if (err)
		goto out;
	funcprobe__prepare(s->fp, s->obj, s->prog);
	err = ops->load(s);
	if (err) {
		load_error(err);
		goto out;
	}

	if (cli->t.kind == TARGET_CMD) {
		err = launch__start(&l, cli->t.path, cli->t.cmd_argv);
		if (err) {
			p_err("cannot start %s: %s", cli->t.display,
			      strerror(-err));
			goto out;
		}
		launched = true;
		attach_pid = l.pid;
	} else if (cli->t.kind == TARGET_PID) {
		attach_pid = cli->t.pid;
	}
	err = funcprobe__attach(s->fp, s->prog, cli->t.path, attach_pid,
				ops->returns ? FP_SITES_ENTRY | FP_SITES_RET
					     : FP_SITES_ENTRY);
	if (err)
		goto out;
	p_info("attached %zu sites of %zu functions through %s in %.1f ms (%.1f ms after start)",
	       funcprobe__site_cnt(s->fp, ops->returns ?
				   FP_SITES_ENTRY | FP_SITES_RET :
				   FP_SITES_ENTRY),
	       funcprobe__cnt(s->fp), funcprobe__mode(s->fp),
	       funcprobe__attach_ms(s->fp), (mono_ns() - t_start) / 1e6);

	session__catch_stop_signals();

	s->start_ns = mono_ns();
	s->interval_start_ns = real_ns();
	if (cli->duration > 0)
		deadline = s->start_ns + (uint64_t)(cli->duration * 1e9);
	if (cli->interval > 0)
		next_print = s->start_ns + (uint64_t)(cli->interval * 1e9);
	if (launched) {
		err = launch__release(&l);
		if (err) {
			p_err("cannot start %s: %s", cli->t.display,
			      strerror(-err));
			goto out;
		}
	}
	if (!json_output)
		fprintf(stderr, "%s: %s %zu functions of %s%s\n", prog_name,
			!strcmp(ops->verb, "count") ? "counting calls of"
						    : "timing calls of",
			funcprobe__cnt(s->fp), cli->t.display,
			cli->duration > 0 || launched ? "" :
			"; Ctrl-C to stop");

	uint64_t next_tick = 0;

	while (!session_stop_signal) {
		uint64_t now;

		usleep(POLL_MS * 1000);
		now = mono_ns();
		if (ops->tick && now >= next_tick) {
			ops->tick(s);
			next_tick = now + 1000000000ULL;
		}
		if (deadline && now >= deadline)
			break;
		if (record_out__reader_gone())
			break;
		if (launched && launch__reap(&l, false) == 1)
			break;
		if (cli->t.kind == TARGET_PID && !target__pid_alive(cli->t.pid))
			break;
		if (next_print && now >= next_print) {
			ops->print(s, false);
			s->interval_start_ns = real_ns();
			next_print += (uint64_t)(cli->interval * 1e9);
		}
	}
	funcprobe__detach(s->fp);
	p_info("detached in %.1f ms", funcprobe__detach_ms(s->fp));
	ops->print(s, true);
	err = 0;
	if (launched) {
		launched = false;
		err = launch__finish(&l, session_stop_signal);
		goto out_status;
	}
out:
	if (launched)	/* an error: CMD must not outlive us */
		launch__finish(&l, 0);
	funcprobe__free(s->fp);
	ops->destroy(s);
	gobin__free(s->gb);
	patterns__free(&pats);
	return err < 0 ? exit_code_for(err) : err;
out_status:
	funcprobe__free(s->fp);
	ops->destroy(s);
	gobin__free(s->gb);
	patterns__free(&pats);
	return err;
}

int funcs_session__main(int argc, char **argv, const struct funcs_ops *ops,
			void (*usage)(FILE *f))
{
	struct funcs_cli cli = {};
	struct funcs_session s = { .cli = &cli, .ops = ops };
	int ret;

	record_out__init();
	ret = parse_args(argc, argv, &cli, ops, usage);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	return run(&s);
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
