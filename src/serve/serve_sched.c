// SPDX-License-Identifier: MIT
/*
 * gosnoop serve, `sched: true`: goroutine-scheduling metrics of one target
 * from gosnoop sched's BPF program (src/bpf/sched.bpf.c), attached the way
 * `gosnoop sched` attaches it (src/cmd_sched.c) and left in place.
 *
 * An always-on daemon must not wake for every goroutine change, so all
 * counting stays in the kernel; with `ends_enabled` off the program writes
 * nothing to its ring buffer. A scrape reads:
 *   - the goroutine map (live goroutines, each with its status and when it
 *     entered it): the state gauge, and the time each has spent so far in
 *     its current status, which the kernel adds only when it leaves;
 *   - `totals`: time per status and the latency sum, added at each change;
 *   - `latency_hist`, `wait_reasons`: the same arrays `gosnoop sched` prints.
 * A counter is kernel total + the in-progress time of live goroutines +
 * what we kept of processes that exited; it is never allowed to go down
 * (see clamp()).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "gobin/rt_tables.h"
#include "sched/sched_probe.h"
#include "sched/sched_report.h"
#include "sched/sched_snapshot.h"
#include "serve_sched.h"
#include "serve_sched_int.h"
#include "target.h"
#include "bpf/sched.skel.h"

/* How often poll() looks for exited processes. */
#define PRUNE_EVERY_NS 1000000000ULL
/* Goroutines read from the map per batch. */
#define SCAN_BATCH 512
/* Distinct processes of one binary a scan keeps apart. */
#define SCAN_MAX_PIDS 256

static enum ss_state ss_of(unsigned int status)
{
	switch (status) {
	case SCHED_G_RUNNING:
		return SS_RUNNING;
	case SCHED_G_RUNNABLE:
		return SS_RUNNABLE;
	case SCHED_G_WAITING:
		return SS_WAITING;
	case SCHED_G_SYSCALL:
		return SS_SYSCALL;
	default:
		return SS_OTHER;
	}
}

struct serve_sched {
	pthread_mutex_t lock;		/* everything below that changes */
	struct target t;
	pid_t pid;			/* > 0: a pid: target */
	dev_t dev;			/* the executable, to tell a process */
	ino_t ino;			/* that still runs it from a reused pid */
	struct sched_probe sp;		/* the program and its site */
	int ncpu;
	void *percpu;			/* ncpu values of the largest array */

	/* Wait reasons: names[i] of waitReason i; canon[i] the first index
	 * with the same name (Go has several reasons per string in some
	 * releases), whose series carries them all. */
	char *reason_names[SCHED_NREASONS];
	int canon[SCHED_NREASONS];

	/* goroutines at attach (runtime.allgs) */
	size_t seeded, seeded_procs;
	int seed_err;			/* 0, or the last -errno */

	/* time of goroutines of exited processes, up to when we noticed */
	uint64_t retired_state[SS_NSTATES];
	uint64_t retired_reason[SCHED_NREASONS];
	uint64_t pruned_goroutines, pruned_procs;
	uint64_t last_prune_ns;
	/* the values last written: counters never go down */
	uint64_t shown_state[SS_NSTATES];
	uint64_t shown_reason[SCHED_NREASONS];

	struct sched_key *keys;		/* SCAN_BATCH of each */
	struct sched_g *vals;
};

/* Wait reason names from the binary (or the release table), once. */
static int learn_names(struct serve_sched *s, const struct gobin *gb)
{
	struct sched_report_opts ro = {};
	struct sched_report *rep;
	int err;

	err = sched_report__new(gb, &ro, &rep);
	if (err)
		return err;
	for (int i = 0; i < SCHED_NREASONS; i++) {
		/* as sched's output names it: "reason N" where the binary and
		 * the release table have no name, or "" (waitReasonZero) */
		const char *n = sched_report__reason_name(rep, (unsigned)i);

		s->reason_names[i] = strdup(n);
		if (!s->reason_names[i]) {
			err = -ENOMEM;
			break;
		}
		s->canon[i] = i;
		for (int j = 0; j < i; j++)
			if (!strcmp(s->reason_names[j], s->reason_names[i])) {
				s->canon[i] = j;
				break;
			}
	}
	sched_report__free(rep);
	return err;
}

static bool runs_binary(const struct serve_sched *s, pid_t pid)
{
	char exe[64];
	struct stat st;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	return !stat(exe, &st) && st.st_dev == s->dev && st.st_ino == s->ino;
}

/* A process whose goroutines still count: alive and still running the
 * binary (not a reused pid). */
static bool proc_live(const struct serve_sched *s, pid_t pid)
{
	return target__pid_alive(pid) && runs_binary(s, pid);
}

static void seed_pid(struct serve_sched *s, const struct gobin *gb, pid_t pid)
{
	size_t n = 0;
	int err;

	err = sched_snapshot__seed(gb, pid, bpf_map__fd(s->sp.skel->maps.goroutines),
				   mono_ns(), &n);
	if (err) {
		s->seed_err = err;
		return;
	}
	s->seeded += n;
	s->seeded_procs++;
}

/*
 * The goroutines the target already has: a goroutine blocked since
 * before the attach never passes through casgstatus. After the attach,
 * so that no change falls in between (the probe's own entries win).
 */
static void seed(struct serve_sched *s, const struct gobin *gb)
{
	struct dirent *de;
	DIR *d;

	if (s->pid > 0) {
		seed_pid(s, gb, s->pid);
		return;
	}
	d = opendir("/proc");
	if (!d) {
		s->seed_err = -errno;
		return;
	}
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || (pid_t)pid == getpid())
			continue;
		if (runs_binary(s, (pid_t)pid))
			seed_pid(s, gb, (pid_t)pid);
	}
	closedir(d);
}

static int attach(struct serve_sched *s, const struct gobin *gb)
{
	int err;

	err = sched_probe__open(&s->sp, s->t.display, gb, false);
	if (err)
		return err;
	/* the maps only: no transitions, no ends sent */
	sched_probe__set_target(&s->sp, s->pid, false);
	s->sp.skel->rodata->ends_enabled = false;
	/* nothing is written to it: the smallest ring the kernel takes */
	err = bpf_map__set_max_entries(s->sp.skel->maps.events,
				       (__u32)sysconf(_SC_PAGESIZE));
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		return err;
	}
	err = sched_probe__load(&s->sp);
	if (err)
		return err;
	return sched_probe__attach_target(&s->sp, s->t.display, s->t.path,
					  s->pid);
}

int serve_sched__start(const char *binary_path, pid_t pid,
		       struct serve_sched **out)
{
	struct serve_sched *s;
	struct gobin *gb = NULL;
	struct stat st;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->pid = pid > 0 ? pid : 0;
	err = target__resolve(&s->t, s->pid ? NULL : binary_path, s->pid);
	if (err)
		goto fail;
	if (stat(s->t.path, &st)) {
		err = -errno;
		p_err("%s: %s", s->t.display, strerror(-err));
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0) {
		p_err("cannot tell the number of CPUs");
		err = s->ncpu ? s->ncpu : -EINVAL;
		goto fail;
	}
	s->percpu = calloc((size_t)s->ncpu, sizeof(struct sched_totals));
	s->keys = calloc(SCAN_BATCH, sizeof(*s->keys));
	s->vals = calloc(SCAN_BATCH, sizeof(*s->vals));
	if (!s->percpu || !s->keys || !s->vals) {
		err = -ENOMEM;
		goto fail;
	}
	err = target__open_gobin(&s->t, &gb);
	if (err)
		goto fail;
	err = learn_names(s, gb);
	if (err) {
		p_err("%s: cannot name the wait reasons: %s", s->t.display,
		      strerror(-err));
		goto fail;
	}
	err = attach(s, gb);
	if (err)
		goto fail;
	seed(s, gb);
	if (s->seed_err == -ENOENT)
		p_warn("%s: runtime.allgs not found: goroutines that do not change state after the attach are not counted",
		       s->t.display);
	else if (s->seed_err)
		p_warn("%s: cannot read the goroutines it already has: %s",
		       s->t.display, strerror(-s->seed_err));
	p_info("%s: sched probe at %s, %zu goroutines of %zu processes at attach",
	       s->t.display, s->sp.name, s->seeded, s->seeded_procs);
	s->last_prune_ns = mono_ns();
	gobin__free(gb);
	*out = s;
	return 0;
fail:
	gobin__free(gb);
	serve_sched__stop(s);
	return err;
}

void serve_sched__stop(struct serve_sched *s)
{
	if (!s)
		return;
	sched_probe__destroy(&s->sp);
	for (int i = 0; i < SCHED_NREASONS; i++)
		free(s->reason_names[i]);
	free(s->percpu);
	free(s->keys);
	free(s->vals);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct scan {
	uint64_t now;
	uint64_t count[SS_NSTATES];		/* live processes only */
	uint64_t state_ns[SS_NSTATES];		/* in progress */
	uint64_t reason_ns[SCHED_NREASONS];
	pid_t pids[SCAN_MAX_PIDS];
	bool live[SCAN_MAX_PIDS];
	size_t pid_cnt;
};

static bool scan_pid_live(struct serve_sched *s, struct scan *sc, pid_t pid)
{
	for (size_t i = 0; i < sc->pid_cnt; i++)
		if (sc->pids[i] == pid)
			return sc->live[i];
	if (sc->pid_cnt == SCAN_MAX_PIDS)
		return proc_live(s, pid);	/* uncached: rare */
	sc->pids[sc->pid_cnt] = pid;
	sc->live[sc->pid_cnt] = proc_live(s, pid);
	return sc->live[sc->pid_cnt++];
}

static void scan_one(struct serve_sched *s, struct scan *sc,
		     const struct sched_key *k, const struct sched_g *g, int fd)
{
	uint64_t since = sc->now > g->last_ns ? sc->now - g->last_ns : 0;
	enum ss_state ss = ss_of(g->last_state);
	bool live = scan_pid_live(s, sc, (pid_t)k->pid);

	if (live)
		sc->count[ss]++;
	if (!live) {
		/* its process is gone: keep the time up to now (it ended
		 * since the last scan, at most a poll interval ago), forget
		 * it, so that its counters stop here */
		s->retired_state[ss] += since;
		if (g->last_state == SCHED_G_WAITING)
			s->retired_reason[g->last_reason & (SCHED_NREASONS - 1)] += since;
		if (!bpf_map_delete_elem(fd, k))
			s->pruned_goroutines++;
		return;
	}
	sc->state_ns[ss] += since;
	if (g->last_state == SCHED_G_WAITING)
		sc->reason_ns[g->last_reason & (SCHED_NREASONS - 1)] += since;
}

/*
 * Every goroutine of the map, read in batches (a hash map walked key by
 * key restarts when a goroutine ends under it). The goroutines of exited
 * processes are deleted, their time kept. Under s->lock.
 */
static int scan(struct serve_sched *s, struct scan *sc)
{
	int fd = bpf_map__fd(s->sp.skel->maps.goroutines);
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 batch = 0;
	bool first = true;

	memset(sc, 0, sizeof(*sc));
	sc->now = mono_ns();
	for (;;) {
		__u32 cnt = SCAN_BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch,
					       s->keys, s->vals, &cnt, &bo);

		if (err && err != -ENOENT)
			return err;
		for (__u32 i = 0; i < cnt; i++)
			scan_one(s, sc, &s->keys[i], &s->vals[i], fd);
		if (err == -ENOENT)
			break;
		first = false;
	}
	/* each exited process shows up in one scan: the next finds none of
	 * its goroutines */
	for (size_t i = 0; i < sc->pid_cnt; i++)
		s->pruned_procs += !sc->live[i];
	return 0;
}

/* Slot key of a per-CPU array summed over CPUs, word by word (every value
 * here is made of __u64s). */
static int sum_percpu(struct serve_sched *s, int fd, __u32 key, size_t size,
		      void *sum)
{
	size_t words = size / sizeof(uint64_t);
	uint64_t *out = sum;

	if (bpf_map_lookup_elem(fd, &key, s->percpu))
		return -errno;
	memset(sum, 0, size);
	for (int c = 0; c < s->ncpu; c++) {
		const uint64_t *v = (const uint64_t *)s->percpu + (size_t)c * words;

		for (size_t w = 0; w < words; w++)
			out[w] += v[w];
	}
	return 0;
}

/* Never less than last time: a change we could not see (preemption's
 * plain CASes, see sched.bpf.c) can move in-progress time from one state
 * to another, and an exited process's goroutines leave the map. */
static uint64_t clamp(uint64_t *shown, uint64_t v)
{
	if (v < *shown)
		return *shown;
	*shown = v;
	return v;
}

/* One target's values for a scrape. */
int serve_sched_sample(struct serve_sched *s, struct ss_sample *out)
{
	struct sched_reason_stat rs[SCHED_NREASONS] = {};
	uint64_t reason_ns[SCHED_NREASONS] = {};
	struct sched_totals tot;
	struct scan *sc;
	int err, fd;

	memset(out, 0, sizeof(*out));
	sc = malloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	/*
	 * The kernel's totals before the map: a change in between then
	 * misses from both (made up by the next scrape) rather than
	 * counting twice, which clamp() would keep showing until the truth
	 * caught up (a goroutine blocked for hours waking up just then).
	 */
	err = sum_percpu(s, bpf_map__fd(s->sp.skel->maps.totals), 0, sizeof(tot),
			 &tot);
	if (err)
		goto out;
	fd = bpf_map__fd(s->sp.skel->maps.wait_reasons);
	for (__u32 r = 0; r < SCHED_NREASONS; r++)
		if (sum_percpu(s, fd, r, sizeof(rs[r]), &rs[r]))
			rs[r].ns = 0;
	fd = bpf_map__fd(s->sp.skel->maps.latency_hist);
	for (__u32 i = 0; i < SCHED_HIST_SLOTS; i++)
		if (sum_percpu(s, fd, i, sizeof(uint64_t), &out->hist[i]))
			out->hist[i] = 0;
	out->hist_sum_ns = tot.latency_ns;
	err = scan(s, sc);
	if (err)
		goto out;
	out->gauges = !s->pid || proc_live(s, s->pid);
	memcpy(out->count, sc->count, sizeof(out->count));
	for (int st = 0; st < SCHED_NSTATUS; st++)
		sc->state_ns[ss_of((unsigned)st)] += tot.state_ns[st];
	for (int ss = 0; ss < SS_NSTATES; ss++)
		out->state_ns[ss] = clamp(&s->shown_state[ss],
					  sc->state_ns[ss] + s->retired_state[ss]);
	for (int r = 0; r < SCHED_NREASONS; r++)
		reason_ns[s->canon[r]] += rs[r].ns + sc->reason_ns[r] +
					  s->retired_reason[r];
	for (int r = 0; r < SCHED_NREASONS; r++)
		if (s->canon[r] == r)
			out->reason_ns[r] = clamp(&s->shown_reason[r], reason_ns[r]);
	out->lost = serve_sched__lost_events(s);
out:
	pthread_mutex_unlock(&s->lock);
	free(sc);
	return err;
}

void serve_sched__poll(struct serve_sched *s)
{
	struct scan *sc;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	if (mono_ns() - s->last_prune_ns >= PRUNE_EVERY_NS) {
		sc = malloc(sizeof(*sc));
		if (sc) {
			scan(s, sc);
			free(sc);
		}
		s->last_prune_ns = mono_ns();
	}
	pthread_mutex_unlock(&s->lock);
}

const char *serve_sched_reason(const struct serve_sched *s, int r, bool *canon)
{
	*canon = s->canon[r] == r;
	return s->reason_names[r];
}

size_t serve_sched__sites(const struct serve_sched *s)
{
	return s ? sched_probe__sites(&s->sp) : 0;
}

uint64_t serve_sched__lost_events(struct serve_sched *s)
{
	return s->sp.skel->bss->stats[SCHED_STAT_LOST_EVENTS] +
	       s->sp.skel->bss->stats[SCHED_STAT_LOST_ENDS];
}

void serve_sched__write_json(struct serve_sched *s, struct jw *jw)
{
	static const char *const stat_names[] = {
		"hits", "skipped", "read_failures", "bad_status",
		"untracked_goroutines", "lost_events", "lost_ends",
		"unseen_changes", "stacks_lost",
	};
	struct scan *sc = malloc(sizeof(*sc));
	uint64_t live = 0;

	pthread_mutex_lock(&s->lock);
	if (sc && !scan(s, sc))
		for (int ss = 0; ss < SS_NSTATES; ss++)
			live += sc->count[ss];
	jw_start_object(jw);
	jw_name(jw, "probe"); jw_string(jw, s->sp.name);
	jw_name(jw, "address"); jw_hex(jw, s->sp.pp.addr);
	jw_name(jw, "emulated"); jw_bool(jw, s->sp.pp.emulated);
	jw_name(jw, "why"); jw_string(jw, s->sp.pp.why);
	jw_name(jw, "sites"); jw_uint(jw, serve_sched__sites(s));
	jw_name(jw, "goroutines"); jw_uint(jw, live);
	jw_name(jw, "seeded_goroutines"); jw_uint(jw, s->seeded);
	jw_name(jw, "seeded_processes"); jw_uint(jw, s->seeded_procs);
	jw_name(jw, "seed_error");
	if (s->seed_err == -ENOENT)
		jw_string(jw, "runtime.allgs not found (no symbol, and runtime.allgadd's code does not show it)");
	else if (s->seed_err)
		jw_string(jw, strerror(-s->seed_err));
	else
		jw_null(jw);
	jw_name(jw, "exited_processes"); jw_uint(jw, s->pruned_procs);
	jw_name(jw, "exited_goroutines"); jw_uint(jw, s->pruned_goroutines);
	jw_name(jw, "lost_events"); jw_uint(jw, serve_sched__lost_events(s));
	jw_name(jw, "stats");
	jw_start_object(jw);
	/* a counter added to sched.h without its name here would be a NULL
	 * name (it was: SCHED_STAT_STACKS_LOST crashed /debug/probes) */
	_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) == SCHED_NSTATS,
		       "a name per SCHED_STAT_*");
	for (int i = 0; i < SCHED_NSTATS; i++) {
		jw_name(jw, stat_names[i]);
		jw_uint(jw, s->sp.skel->bss->stats[i]);
	}
	jw_end_object(jw);
	jw_end_object(jw);
	pthread_mutex_unlock(&s->lock);
	free(sc);
}
