// SPDX-License-Identifier: MIT
/*
 * gosnoop sched: every goroutine's life from runtime.casgstatus.
 *
 * On the session pipeline (session.h): find casgstatus and a cheap probe
 * point in it (sched_probe.c) -> [fork CMD, held] -> set rodata (pid)
 * -> load -> attach one uprobe -> [release CMD] -> poll the ring buffer
 * until Ctrl-C / -d / the traced process ends -> detach -> read the
 * in-kernel aggregates -> print (sched_report.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#include "sched_pprof.h"
#include "sched_probe.h"
#include "sched_report.h"
#include "sched_snapshot.h"
#include "target.h"

#define MAX_GOID_FILTERS 64

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

/* One sched session: s->ctx. */
struct sched_state {
	struct sched_cli *cli;
	struct patterns pats;		/* --start */
	struct sched_probe sp;
	struct sched_report *rep;
	struct ring_buffer *rb;
};

static int prepare(struct session *s)
{
	struct sched_state *st = s->ctx;

	return patterns__init(&st->pats, st->cli->start_pats,
			      st->cli->start_cnt);
}

/* --start patterns none of the binary's functions matches can match no
 * goroutine's start either: said before CMD runs, not after (-ENOENT). */
static int check_start_patterns(struct session *s)
{
	struct sched_state *st = s->ctx;
	struct patterns probe = {};
	bool any = false;
	int err;

	if (!st->cli->start_cnt)
		return 0;
	err = patterns__init(&probe, st->cli->start_pats, st->cli->start_cnt);
	for (size_t i = 0; !err && !any && i < gobin__func_cnt(s->gb); i++)
		any = patterns__match(&probe, gobin__func(s->gb, i)->name);
	/* all unmatched: one error line; some: the end says which */
	if (!err && !any && patterns__report_unmatched(&probe, s->t->display))
		err = -ENOENT;
	patterns__free(&probe);
	return err;
}

/* casgstatus' probe point, and the report that will read its records. */
static int plan(struct session *s)
{
	struct sched_state *st = s->ctx;
	struct sched_cli *cli = st->cli;
	struct sched_report_opts ro = {
		.json = cli->json, .events = cli->events, .all = cli->all,
		.perfetto = cli->perfetto, .goids = cli->goids,
		.goid_cnt = cli->goid_cnt, .start = &st->pats,
	};
	int err;

	err = check_start_patterns(s);
	if (!err)
		err = sched_probe__open(&st->sp, s->t->display, s->gb,
					cli->probe_entry);
	if (!err)
		err = sched_report__new(s->gb, &ro, &st->rep);
	if (err)
		return err;
	sched_report__set_probe(st->rep, st->sp.pp.addr, st->sp.name,
				st->sp.pp.why, st->sp.pp.emulated);
	return 0;
}

static int configure(struct session *s)
{
	struct sched_state *st = s->ctx;
	struct sched_cli *cli = st->cli;

	sched_probe__set_target(&st->sp, s->attach_pid,
				cli->events || cli->json || cli->perfetto);
	if (cli->pprof)
		return sched_pprof__configure(st->sp.skel, s->gb,
					      s->t->display,
					      cli->goid_cnt || cli->start_cnt);
	return 0;
}

static int load(struct session *s)
{
	struct sched_state *st = s->ctx;

	return sched_probe__load(&st->sp);
}

static int attach(struct session *s)
{
	struct sched_state *st = s->ctx;
	int err;

	err = sched_probe__attach_target(&st->sp, s->t->display, s->t->path,
					 s->attach_pid);
	if (err)
		return err;
	st->rb = ring_buffer__new(bpf_map__fd(st->sp.skel->maps.events),
				  on_record, st->rep, NULL);
	if (!st->rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* -p PID, or a process running a PATH target at the attach: the
 * goroutines it has now, after the attach, so that no change falls in
 * between. */
static int seed(struct session *s, pid_t pid)
{
	struct sched_state *st = s->ctx;
	size_t seeded = 0;
	int err;

	err = sched_snapshot__seed_parks(s->gb, pid,
				bpf_map__fd(st->sp.skel->maps.goroutines),
				st->cli->pprof ?
				bpf_map__fd(st->sp.skel->maps.park_stacks) : -1,
				st->cli->goid_cnt || st->cli->start_cnt,
				s->start_ns, &seeded);
	if (!err)
		p_info("PID %d: %zu goroutines alive at attach", pid, seeded);
	return err;
}

static void seed_pid(struct session *s)
{
	int err = seed(s, s->t->pid);

	if (err == -ENOENT)
		p_info("%s: runtime.allgs not found (no symbol, no runtime.allgadd code to read it from): goroutines that do not change state while traced are not listed",
		       s->t->display);
	else if (err)
		p_warn("cannot read the goroutines PID %d has: %s",
		       s->t->pid, strerror(-err));
}

/*
 * A PATH target: the processes already running the file at the attach
 * (/proc/N/exe is it: same device and inode; the probe sees the others
 * start), each seeded as -p's. One that ends meanwhile is no error.
 */
static void seed_running(struct session *s)
{
	struct sched_state *st = s->ctx;
	struct stat want, got;
	struct dirent *de;
	char exe[64];
	DIR *d;

	if (stat(s->t->path, &want))
		return;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		int err;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end ||
		    pid <= 0 || pid == getpid())
			continue;
		snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
		if (stat(exe, &got) || got.st_dev != want.st_dev ||
		    got.st_ino != want.st_ino)
			continue;
		/* a PIE's names need its load address while it lives */
		sched_report__note_pid(st->rep, (pid_t)pid);
		err = seed(s, (pid_t)pid);
		if (err)
			p_info("cannot read the goroutines PID %ld has: %s",
			       pid, strerror(-err));
	}
	closedir(d);
}

static int started(struct session *s)
{
	struct sched_state *st = s->ctx;
	int err;

	err = sched_report__set_start(st->rep, s->start_ns);
	if (err)
		return err;
	if (s->t->kind == TARGET_PID)
		seed_pid(s);
	else if (s->t->kind == TARGET_PATH)
		seed_running(s);
	return 0;
}

static void released(struct session *s)
{
	/* on stderr in every mode: tells scripts when tracing has begun */
	fprintf(stderr, "%s: tracing goroutines of %s%s\n", prog_name,
		s->t->display, s->duration > 0 ? "" : "; Ctrl-C to stop");
}

static int poll_records(struct session *s, int timeout_ms)
{
	struct sched_state *st = s->ctx;

	return ring_buffer__poll(st->rb, timeout_ms);
}

static void tick(struct session *s, uint64_t now_ns)
{
	struct sched_state *st = s->ctx;

	if (s->attach_pid > 0)
		sched_report__note_pid(st->rep, s->attach_pid);
}

/* -i: the summary so far. */
static void interval(struct session *s, uint64_t now_ns)
{
	struct sched_state *st = s->ctx;
	uint64_t now = mono_ns();

	ring_buffer__consume(st->rb);
	if (!collect(st->sp.skel, st->rep, now))
		sched_report__interval(st->rep, now);
}

/* Stop the probe first, then take what it left (finish). */
static void detach(struct session *s)
{
	struct sched_state *st = s->ctx;

	sched_probe__detach(&st->sp);
}

static int finish(struct session *s)
{
	struct sched_state *st = s->ctx;
	struct sched_cli *cli = st->cli;
	int err;

	if (s->target_gone)
		sched_report__set_exit(st->rep, s->attach_pid,
				       s->target_exit_ns);
	ring_buffer__consume(st->rb);
	err = collect(st->sp.skel, st->rep, s->end_ns);
	if (err)
		p_warn("reading the in-kernel totals: %s", strerror(-err));
	err = sched_report__finish(st->rep, s->end_ns);
	if (cli->pprof) {
		int perr = sched_pprof__write(st->sp.skel, st->rep, s->gb,
					      s->t->path, s->start_ns,
					      s->end_ns, cli->pprof);

		if (perr && !err)
			err = perr;
	}
	patterns__report_unmatched(&st->pats, s->t->display);
	return err;
}

static void destroy(struct session *s)
{
	struct sched_state *st = s->ctx;

	ring_buffer__free(st->rb);
	sched_probe__destroy(&st->sp);
	sched_report__free(st->rep);
	patterns__free(&st->pats);
}

static const struct session_ops sched_ops = {
	.verb = "sched",
	.prepare = prepare,
	.plan = plan,
	.configure = configure,
	.load = load,
	.attach = attach,
	.started = started,
	.released = released,
	.poll = poll_records,
	.tick = tick,
	.interval = interval,
	.detach = detach,
	.finish = finish,
	.destroy = destroy,
};

int do_sched(int argc, char **argv)
{
	struct sched_cli cli = {};
	struct sched_state st = { .cli = &cli };
	struct session s = { .ops = &sched_ops, .ctx = &st };
	int ret;

	record_out__init();
	ret = parse_args(argc, argv, &cli);
	if (ret)
		return ret > 0 ? EXIT_OK : ret;
	s.t = &cli.t;
	s.path_arg = cli.path_arg;
	s.pid = cli.pid;
	s.duration = cli.duration;
	s.interval = cli.interval;
	s.stamp_child_exit = true;
	return session__run(&s);
}
