// SPDX-License-Identifier: MIT
/*
 * gosnoop sched: every goroutine's life from runtime.casgstatus.
 *
 * open target -> find casgstatus and a cheap probe point in it (disasm.c)
 * -> [fork CMD, held] -> open skeleton, set rodata (ABI, g offsets, pid)
 * -> load -> attach one uprobe -> [release CMD] -> poll the ring buffer
 * until Ctrl-C / -d / the traced process ends -> detach -> read the
 * in-kernel aggregates -> print (sched_report.c).
 */
#include <errno.h>
#include <fcntl.h>
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

#include "cmd.h"
#include "common.h"
#include "gobin/gobin.h"
#include "pattern.h"
#include "launch.h"
#include "options.h"
#include "record_out.h"
#include "session.h"
#include "gobin/rt_tables.h"
#include "bpf/sched.skel.h"
#include "pprof.h"
#include "sched_pprof.h"
#include "sched_probe.h"
#include "sched_report.h"
#include "sched_snapshot.h"
#include "target.h"

#define POLL_MS 100
#define MAX_GOID_FILTERS 64

static volatile uint64_t child_exit_ns;


/* Only records when: reaping happens in the loop. */
static void on_sigchld(int sig)
{
	if (!child_exit_ns)
		child_exit_ns = mono_ns();
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s sched [OPTIONS] TARGET\n"
		"TARGET: PATH (every process running it) | -p PID | -- CMD ARGS\n"
		"What the Go scheduler does with every goroutine: time running,\n"
		"runnable, waiting (and why), in syscalls; scheduling latency.\n\n"
		"  -j, --json           JSON lines (transitions, then summary)\n"
		"  -e, --events         one line per goroutine state change\n"
		"  -d, --duration SECS  stop after SECS seconds\n"
		"  -i, --interval SECS  a summary every SECS seconds (cumulative)\n"
		"  -p, --pid PID        trace this process (only)\n"
		"      --goid N         only goroutine N (repeatable)\n"
		"      --start PATTERN  only goroutines whose start function\n"
		"                       matches (glob, repeatable)\n"
		"      --perfetto FILE  write a timeline for ui.perfetto.dev\n"
		"      --pprof FILE     write where goroutines waited (time per\n"
		"                       wait reason and parked Go stack) for\n"
		"                       go tool pprof\n"
		"  -a, --all            one row per goroutine, never grouped\n"
		"      --probe-entry    probe casgstatus' first instruction (for\n"
		"                       benchmarks: single-stepped, slower)\n"
		"  -v, --verbose        more detail (twice: libbpf debug)\n"
		"Ends on Ctrl-C, after -d, or when the traced process exits;\n"
		"with -- CMD, exits with CMD's status.\n",
		prog_name);
}

struct sched_cli {
	struct target t;
	pid_t pid;
	double duration;
	double interval;	/* -i: a summary every this many seconds */
	bool json, events, all;
	bool probe_entry;	/* benchmarks: the costly entry probe */
	const char *perfetto;
	const char *pprof;	/* --pprof FILE */
	uint64_t goids[MAX_GOID_FILTERS];
	size_t goid_cnt;
	char *start_pats[MAX_GOID_FILTERS];
	int start_cnt;
	const char *path_arg;
};

enum { OPT_GOID = 256, OPT_START, OPT_PERFETTO, OPT_PROBE_ENTRY, OPT_PPROF };

/* sched's own options (options.h handles the shared). */
static int sched_option(int code, char *arg, void *ctx)
{
	struct sched_cli *cli = ctx;
	unsigned long long n;

	switch (code) {
	case 'e':
		cli->events = true;
		return 0;
	case OPT_GOID:
		if (cli->goid_cnt == MAX_GOID_FILTERS) {
			p_err("at most %d --goid filters", MAX_GOID_FILTERS);
			return -EINVAL;
		}
		if (parse_uint(arg, &n)) {
			p_err("bad goroutine id '%s'", arg);
			return -EINVAL;
		}
		cli->goids[cli->goid_cnt++] = n;
		return 0;
	case OPT_START:
		if (cli->start_cnt == MAX_GOID_FILTERS) {
			p_err("at most %d --start patterns", MAX_GOID_FILTERS);
			return -EINVAL;
		}
		cli->start_pats[cli->start_cnt++] = arg;
		return 0;
	case OPT_PERFETTO:
		cli->perfetto = arg;
		return opts__output_file("--perfetto", arg);
	case OPT_PPROF:
		cli->pprof = arg;
		return opts__output_file("--pprof", arg);
	case OPT_PROBE_ENTRY:
		cli->probe_entry = true;
		return 0;
	case 'a':
		cli->all = true;
		return 0;
	default:
		return -ENOENT;
	}
}

static int parse_args(int argc, char **argv, struct sched_cli *cli)
{
	static const struct option opts[] = {
		{ "events", no_argument, NULL, 'e' },
		{ "goid", required_argument, NULL, OPT_GOID },
		{ "start", required_argument, NULL, OPT_START },
		{ "perfetto", required_argument, NULL, OPT_PERFETTO },
		{ "pprof", required_argument, NULL, OPT_PPROF },
		{ "probe-entry", no_argument, NULL, OPT_PROBE_ENTRY },
		{ "all", no_argument, NULL, 'a' },
		{}
	};
	const struct opts_spec spec = {
		.verb = "sched", .usage = usage,
		.target = &cli->t, .pid = &cli->pid,
		.duration = &cli->duration, .interval = &cli->interval,
		.own_short = "ea", .own_long = opts, .own = sched_option,
		.ctx = cli,
	};
	int first, err;

	err = opts__parse(&spec, &argc, argv, &first);
	if (err)
		return err;
	cli->json = json_output;
	return opts__one_target(&spec, argc, argv, first, &cli->path_arg);
}

static int attach_error(int err, const struct target *t)
{
	if (err == -EPERM || err == -EACCES)
		p_err("cannot attach a uprobe to %s: %s (run as root, or with CAP_BPF and CAP_PERFMON)",
		      t->display, strerror(-err));
	else if (err == -ESRCH)
		p_err("cannot attach to %s: the process is gone", t->display);
	else
		p_err("cannot attach a uprobe to %s: %s", t->display,
		      strerror(-err));
	return err;
}

/* Sum a per-CPU array slot over all CPUs. */
static int read_percpu(int fd, __u32 key, void *vals, size_t val_size,
		       int ncpu, void *sum,
		       void (*add)(void *sum, const void *v))
{
	if (bpf_map_lookup_elem(fd, &key, vals))
		return -errno;
	for (int c = 0; c < ncpu; c++)
		add(sum, (const char *)vals + (size_t)c * val_size);
	return 0;
}

static void add_u64(void *sum, const void *v)
{
	uint64_t x;

	memcpy(&x, v, sizeof(x));
	*(uint64_t *)sum += x;
}

static void add_reason(void *sum, const void *v)
{
	struct sched_reason_stat x, *s = sum;

	memcpy(&x, v, sizeof(x));
	s->count += x.count;
	s->ns += x.ns;
}

/* The goid of a goroutine created but not yet run (see sched.h): the
 * runtime has stored it by now; read it from the process. */
static int read_goid(__u32 pid, __u64 gp, int off, __u64 *goid)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, goid, sizeof(*goid), (off_t)(gp + (__u64)off));
	close(fd);
	return n == sizeof(*goid) ? 0 : -EIO;
}

static int collect(struct sched_bpf *skel, struct sched_report *rep,
		   uint64_t end_ns)
{
	uint64_t hist[SCHED_HIST_SLOTS] = {};
	struct sched_reason_stat rs[SCHED_NREASONS] = {};
	uint64_t stats[SCHED_NSTATS];
	int ncpu = libbpf_num_possible_cpus();
	struct sched_key key, next, *prev = NULL;
	struct sched_g g;
	void *vals;
	int fd;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(struct sched_reason_stat));
	if (!vals)
		return -ENOMEM;
	fd = bpf_map__fd(skel->maps.latency_hist);
	for (__u32 i = 0; i < SCHED_HIST_SLOTS; i++)
		read_percpu(fd, i, vals, sizeof(uint64_t), ncpu, &hist[i],
			    add_u64);
	fd = bpf_map__fd(skel->maps.wait_reasons);
	for (__u32 i = 0; i < SCHED_NREASONS; i++)
		read_percpu(fd, i, vals, sizeof(struct sched_reason_stat), ncpu,
			    &rs[i], add_reason);
	free(vals);
	sched_report__set_hist(rep, hist);
	/* in-progress waits are added by add_live: reasons first */
	sched_report__set_reasons(rep, rs);
	memcpy(stats, skel->bss->stats, sizeof(stats));
	sched_report__set_stats(rep, stats);
	fd = bpf_map__fd(skel->maps.goroutines);
	/* a process that is gone (PATH target: we did not see it go) ended
	 * no earlier than its last goroutine change */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &g) && !target__pid_alive(next.pid))
			sched_report__saw_pid_at(rep, next.pid, g.last_ns);
		key = next;
		prev = &key;
	}
	prev = NULL;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &g) &&
		    (!(g.flags & SCHED_GF_GOID_PENDING) ||
		     !read_goid(next.pid, next.gp, skel->rodata->off_goid,
				&g.goid)))
			sched_report__add_live(rep, next.pid, &g, end_ns);
		key = next;
		prev = &key;
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	return sched_report__record(ctx, data, size);
}

/* Whether the traced process ended; records when. */
static bool target_gone(struct sched_cli *cli, struct launch *l,
			struct sched_report *rep)
{
	if (cli->t.kind == TARGET_CMD) {
		if (launch__reap(l, false) != 1)
			return false;
		sched_report__set_exit(rep, l->pid,
				       child_exit_ns ? child_exit_ns : mono_ns());
		return true;
	}
	if (cli->t.kind == TARGET_PID && !target__pid_alive(cli->t.pid)) {
		sched_report__set_exit(rep, cli->t.pid, mono_ns());
		return true;
	}
	return false;
}

int do_sched(int argc, char **argv)
{
	struct sched_cli cli = {};
	struct gobin *gb = NULL;
	struct sched_report *rep = NULL;
	struct sched_report_opts ro = {};
	struct patterns pats = {};
	struct sched_probe sp = {};
	struct ring_buffer *rb = NULL;
	struct launch l = { .pid = -1, .go_fd = -1 };
	struct sigaction sa = {};
	uint64_t start, deadline = 0, end, next_summary = 0;
	pid_t attach_pid = -1;
	bool launched = false;
	int ret, err, code = EXIT_OK;

	record_out__init();
	ret = parse_args(argc, argv, &cli);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	if (patterns__init(&pats, cli.start_pats, cli.start_cnt))
		return EXIT_USAGE;
	err = target__resolve(&cli.t, cli.path_arg, cli.pid);
	if (err)
		goto out;
	err = target__open_gobin(&cli.t, &gb);
	if (err)
		goto out;
	err = sched_probe__open(&sp, cli.t.display, gb, cli.probe_entry);
	if (err)
		goto out;

	ro.json = cli.json;
	ro.events = cli.events;
	ro.all = cli.all;
	ro.perfetto = cli.perfetto;
	ro.goids = cli.goids;
	ro.goid_cnt = cli.goid_cnt;
	ro.start = &pats;
	err = sched_report__new(gb, &ro, &rep);
	if (err)
		goto out;
	sched_report__set_probe(rep, sp.pp.addr, sp.name, sp.pp.why,
				sp.pp.emulated);

	if (cli.t.kind == TARGET_CMD) {
		err = launch__start(&l, cli.t.path, cli.t.cmd_argv);
		if (err) {
			p_err("cannot start %s: %s", cli.t.display,
			      strerror(-err));
			goto out;
		}
		launched = true;
		attach_pid = l.pid;
	} else if (cli.t.kind == TARGET_PID) {
		attach_pid = cli.t.pid;
	}

	sp.skel->rodata->target_tgid = attach_pid > 0 ? (__u32)attach_pid : 0;
	sp.skel->rodata->events_enabled = cli.events || cli.json || cli.perfetto;
	if (cli.pprof) {
		err = sched_pprof__configure(sp.skel, gb, cli.t.display);
		if (err)
			goto out;
	}
	err = sched_probe__load(&sp);
	if (err)
		goto out;
	err = sched_probe__attach(&sp, cli.t.path, attach_pid);
	if (err) {
		if (attach_pid > 0 && !launched && !target__pid_alive(attach_pid))
			err = -ESRCH;
		err = attach_error(err, &cli.t);
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(sp.skel->maps.events), on_record, rep,
			      NULL);
	if (!rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(-err));
		goto out;
	}

	session__catch_stop_signals();
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);

	start = mono_ns();
	err = sched_report__set_start(rep, start);
	if (err)
		goto out;
	if (cli.t.kind == TARGET_PID) {
		size_t seeded = 0;

		/* after the attach, so that no change falls in between */
		err = sched_snapshot__seed(gb, cli.t.pid,
					   bpf_map__fd(sp.skel->maps.goroutines),
					   start, &seeded);
		if (err == -ENOENT)
			p_info("%s: runtime.allgs not found (no symbol, no runtime.allgadd code to read it from): goroutines that do not change state while traced are not listed",
			       cli.t.display);
		else if (err)
			p_warn("cannot read the goroutines PID %d has: %s",
			       cli.t.pid, strerror(-err));
		else
			p_info("%zu goroutines alive at attach", seeded);
		err = 0;
	}
	if (cli.duration > 0)
		deadline = start + (uint64_t)(cli.duration * 1e9);
	if (cli.interval > 0)
		next_summary = start + (uint64_t)(cli.interval * 1e9);
	if (launched) {
		err = launch__release(&l);
		if (err) {
			p_err("cannot start %s: %s", cli.t.display,
			      strerror(-err));
			goto out;
		}
	}
	/* on stderr in every mode: tells scripts when tracing has begun */
	fprintf(stderr, "%s: tracing goroutines of %s%s\n", prog_name,
		cli.t.display, cli.duration > 0 ? "" : "; Ctrl-C to stop");

	while (!session_stop_signal) {
		ret = ring_buffer__poll(rb, POLL_MS);
		if (ret < 0 && ret != -EINTR) {
			p_err("reading the ring buffer: %s", strerror(-ret));
			err = ret;
			break;
		}
		if (deadline && mono_ns() >= deadline)
			break;
		if (record_out__reader_gone())
			break;
		if (target_gone(&cli, &l, rep))
			break;
		if (attach_pid > 0)
			sched_report__note_pid(rep, attach_pid);
		if (next_summary && mono_ns() >= next_summary) {
			uint64_t now = mono_ns();

			ring_buffer__consume(rb);
			if (!collect(sp.skel, rep, now))
				sched_report__interval(rep, now);
			next_summary += (uint64_t)(cli.interval * 1e9);
		}
	}
	end = mono_ns();
	/* stop the probe first, then take what it left */
	bpf_link__destroy(sp.link);
	sp.link = NULL;
	sched_probe__detach_hooks(&sp.hooks);
	ring_buffer__consume(rb);
	err = collect(sp.skel, rep, end);
	if (err)
		p_warn("reading the in-kernel totals: %s", strerror(-err));
	err = sched_report__finish(rep, end);
	if (cli.pprof) {
		int perr = sched_pprof__write(sp.skel, rep, gb, cli.t.path,
					      start, end, cli.pprof);

		if (perr && !err)
			err = perr;
	}
	patterns__report_unmatched(&pats, cli.t.display);

out:
	ring_buffer__free(rb);
	sched_probe__destroy(&sp);
	/* CMD never released is not run at all; else ended as launch.h says */
	if (launched)
		code = launch__finish(&l, session_stop_signal);
	sched_report__free(rep);
	patterns__free(&pats);
	gobin__free(gb);
	if (err)
		return exit_code_for(err);
	return code;
}
