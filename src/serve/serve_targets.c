// SPDX-License-Identifier: MIT
/*
 * The processes behind each configured `gosnoop serve` target, as they
 * come and go:
 *
 *	binary: PATH	one serve_probes on the file (uprobes are per inode, so
 *			processes started later are counted too); when the
 *			file at PATH is replaced (a deploy renames a new
 *			inode over it) the probes move to the new file.
 *	pid: N		one serve_probes for that process; when it ends, its
 *			series go (the group stays, with nothing in it).
 *	comm: NAME	one serve_probes per process whose /proc/PID/comm is
 *			NAME, found by rescanning /proc about once a second;
 *			dropped when the process ends. The processes of one
 *			file share one set of links on it (a host,
 *			serve_probes.h): a process that starts or ends is a
 *			map update, not an attach or a detach (closing 1000
 *			PID-filtered links on one file took 8-25 s: each
 *			walks every process mapping it).
 *
 * A process is known by its PID and its start time (field 22 of
 * /proc/PID/stat), so a reused PID is a new process. Each target also
 * counts the live processes its probes cover (gosnoop_target_processes).
 */
#include <ctype.h>
#include <pthread.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "gobin/gobin.h"
#include "serve.h"
#include "serve_probes.h"
#include "serve_text.h"
#include "target.h"

/* 0 and the start time of a live (not zombie) process, or -ESRCH. */
static int proc_start(pid_t pid, unsigned long long *start)
{
	static const int starttime = 22;	/* proc(5) */
	char state;

	if (target__proc_stat_nums(pid, &starttime, 1, start, &state))
		return -ESRCH;
	return state == 'Z' || state == 'X' ? -ESRCH : 0;
}

static bool comm_is(pid_t pid, const char *comm)
{
	char path[64], buf[32];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = 0;
	return !strcmp(buf, comm);
}

/* comm: the host of g whose file process pid runs, with a free slot
 * if any has one, or NULL; *biggest: the most slots a host of that file
 * has (0: none has it). */
static struct serve_probes *host_for(const struct serve_group *g, pid_t pid,
				     unsigned *biggest)
{
	struct serve_probes *any = NULL;
	char exe[64];
	struct stat sb;

	*biggest = 0;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (stat(exe, &sb))
		return NULL;
	for (size_t i = 0; i < g->host_cnt; i++) {
		unsigned slots, members;

		if (serve_probes__file_state(g->hosts[i], &sb) != SERVE_FILE_SAME)
			continue;
		members = serve_probes__host_members(g->hosts[i], &slots);
		if (slots > *biggest)
			*biggest = slots;
		if (members < slots && !any)
			any = g->hosts[i];
	}
	return any;
}

/* A host with no members left goes (its links detached). */
static void release_host(struct serve_group *g, struct serve_probes *host)
{
	unsigned slots;

	if (!host || serve_probes__host_members(host, &slots))
		return;
	for (size_t i = 0; i < g->host_cnt; i++)
		if (g->hosts[i] == host) {
			g->hosts[i] = g->hosts[--g->host_cnt];
			break;
		}
	serve_probes__stop(host);
}

/*
 * comm: process pid as a member of the host of its file, a new host if
 * none has room (twice the slots of the biggest so far, or as many as
 * memory allows for the first). If sharing would take too much memory
 * for its functions, the group probes each process on its own from then.
 */
static int start_shared(struct serve_group *g, pid_t pid, struct gobin *gb,
			struct serve_probes **out)
{
	struct serve_probes *host, **n;
	unsigned biggest;
	int err;

	host = host_for(g, pid, &biggest);
	if (host) {
		gobin__free(gb);
		return serve_probes__join(host, g->cfg, pid, out);
	}
	err = serve_probes__host_start(g->cfg, pid, gb,
				       biggest ? 2 * biggest : 0, &host);
	if (err == -E2BIG) {
		g->no_share = true;
		return serve_probes__start(g->cfg, pid, NULL, out);
	}
	if (err)
		return err;
	n = realloc(g->hosts, (g->host_cnt + 1) * sizeof(*n));
	if (!n) {
		serve_probes__stop(host);
		return -ENOMEM;
	}
	g->hosts = n;
	g->hosts[g->host_cnt++] = host;
	err = serve_probes__join(host, g->cfg, pid, out);
	if (err)
		release_host(g, host);
	return err;
}

/*
 * The slots map is keyed by the tgid the BPF programs see, the one of the
 * initial PID namespace; /proc shows this daemon the PIDs of its own. In
 * another (a container without the host's PID namespace) they differ and
 * nothing would be counted: there each process gets its own links, whose
 * PID filter the kernel reads in the attacher's namespace.
 * PROC_PID_INIT_INO: the initial namespace's inode, fixed since 3.8.
 */
static bool pid_ns_is_initial(void)
{
	static int known = -1;
	struct stat sb;

	if (known < 0)
		known = !stat("/proc/self/ns/pid", &sb) && sb.st_ino == 0xEFFFFFFCu;
	return known;
}

/* gb: the process's file, opened already (taken over), or NULL. */
static int start_inst(struct serve_group *g, const struct serve_hooks *h,
		      pid_t pid, struct gobin *gb, struct serve_inst *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (pid && proc_start(pid, &out->start)) {
		gobin__free(gb);
		/* a comm: process that ended since the scan saw it: no news */
		if (!g->cfg->comm)
			p_err("process %d: gone", pid);
		return -ESRCH;
	}
	if (pid && g->cfg->comm && !g->no_share && pid_ns_is_initial())
		err = start_shared(g, pid, gb, &out->pr);
	else
		err = serve_probes__start(g->cfg, pid, gb, &out->pr);
	if (err)
		return err;
	/* a thread id stands for its process (target.c): follow that one,
	 * not the thread, which may end while the process lives */
	if (pid && serve_probes__pid(out->pr) > 0 &&
	    serve_probes__pid(out->pr) != pid) {
		out->pid = serve_probes__pid(out->pr);
		proc_start(out->pid, &out->start);
	}
	if (h && h->started) {
		err = h->started(g->cfg, out->pr, pid);
		if (err) {
			struct serve_probes *host = serve_probes__host(out->pr);

			serve_probes__stop(out->pr);
			out->pr = NULL;
			release_host(g, host);
		}
	}
	return err;
}

/* Thread-safe for members (stop_insts): their hosts are released by the
 * caller (release_host, on the main thread) or at serve_group__stop. */
static void stop_inst(struct serve_inst *in, const struct serve_hooks *h)
{
	if (h && h->stopping)
		h->stopping(in->pr);
	serve_probes__stop(in->pr);
	in->pr = NULL;
}

/* stop_inst, then its host if it was the last member. */
static void stop_inst_release(struct serve_group *g, struct serve_inst *in,
			      const struct serve_hooks *h)
{
	struct serve_probes *host = in->pr ? serve_probes__host(in->pr) : NULL;

	stop_inst(in, h);
	release_host(g, host);
}

static int add_inst(struct serve_group *g, const struct serve_inst *in,
		    pthread_mutex_t *lock)
{
	struct serve_inst *n;

	if (lock)
		pthread_mutex_lock(lock);
	n = realloc(g->inst, (g->inst_cnt + 1) * sizeof(*n));
	if (n) {
		g->inst = n;
		g->inst[g->inst_cnt++] = *in;
	}
	if (lock)
		pthread_mutex_unlock(lock);
	return n ? 0 : -ENOMEM;
}

static bool tracked(const struct serve_group *g, pid_t pid,
		    unsigned long long start)
{
	for (size_t i = 0; i < g->inst_cnt; i++)
		if (g->inst[i].pid == pid && g->inst[i].start == start)
			return true;
	for (size_t i = 0; i < g->failed_cnt; i++)
		if (g->failed[i].pid == pid && g->failed[i].start == start)
			return true;
	return false;
}

static void add_failed(struct serve_group *g, pthread_mutex_t *lock,
		       const struct serve_failed *f)
{
	struct serve_failed *n;

	if (lock)
		pthread_mutex_lock(lock);
	n = realloc(g->failed, (g->failed_cnt + 1) * sizeof(*n));
	if (n) {
		g->failed = n;
		g->failed[g->failed_cnt++] = *f;
	}
	if (lock)
		pthread_mutex_unlock(lock);
}

/*
 * Open the executable of a process the comm: scan found, saying nothing
 * (serve_probes__start takes it over): 0 (a Go program, *gb set), -ESRCH (it
 * ended meanwhile), -ENOPKG (not Go) or another -errno.
 */
static int open_comm_exe(pid_t pid, struct gobin **gb)
{
	unsigned long long start;
	char exe[64], why[256];
	int err;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	err = gobin__open(exe, gb, why, sizeof(why));
	if (err && (err == -ENOENT || proc_start(pid, &start)))
		return -ESRCH;
	return err;
}

/* The executable's path, for messages ("?" when it cannot be read). */
static void exe_path(pid_t pid, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		n = snprintf(buf, len, "?");
	buf[n] = 0;
}

/*
 * comm: probe every matching process not seen yet. A process that ends
 * before it is probed is passed over in silence (the race is harmless);
 * one that cannot be probed (not Go, ...) is said once, in one line, and
 * not retried while it runs.
 */
static void scan_comm(struct serve_group *g, pthread_mutex_t *lock,
		      const struct serve_hooks *h)
{
	pid_t self = getpid();
	struct dirent *de;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long long start, start2;
		struct gobin *gb = NULL;
		struct serve_inst in;
		pid_t pid;
		int err;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == self || !comm_is(pid, g->cfg->comm) ||
		    proc_start(pid, &start) || tracked(g, pid, start))
			continue;
		/* a file a host has is Go, and read already (no host
		 * outside the initial PID namespace) */
		if (!g->no_share && g->host_cnt &&
		    host_for(g, pid, &(unsigned){0}))
			err = 0;
		else
			err = open_comm_exe(pid, &gb);
		if (err == -ESRCH)
			continue;
		if (err == -ENOPKG) {
			char exe[PATH_MAX];

			exe_path(pid, exe, sizeof(exe));
			p_warn("comm %s: process %d runs %s, not a Go program; not probed while it runs",
			       g->cfg->comm, pid, exe);
			add_failed(g, lock, &(struct serve_failed){
				.pid = pid, .start = start, .err = err });
			continue;
		}
		/* other errors: serve_probes__start says what, the warning
		 * below that it is not retried */
		err = start_inst(g, h, pid, err ? NULL : gb, &in);
		if (!err && in.start != start) {
			/* it ended and the PID was reused while attaching */
			stop_inst_release(g, &in, h);
			continue;
		}
		if (!err)
			err = add_inst(g, &in, lock);
		if (!err) {
			fprintf(stderr, "%s: comm %s: probing process %d\n",
				prog_name, g->cfg->comm, pid);
			continue;
		}
		if (in.pr)
			stop_inst_release(g, &in, h);
		if (err == -ESRCH || proc_start(pid, &start2) || start2 != start)
			continue;	/* ended while being probed */
		p_warn("comm %s: process %d cannot be probed (%s); not retried while it runs",
		       g->cfg->comm, pid, strerror(-err));
		add_failed(g, lock, &(struct serve_failed){
			.pid = pid, .start = start, .err = err });
	}
	closedir(d);
}

/*
 * binary: the processes whose executable is the attached file (the same
 * inode, size and mtime): the uprobes sit in that inode, so they are the
 * ones counted, whatever path they were started by. stat() follows
 * /proc/PID/exe into the process's own mount namespace; zombies and
 * kernel threads have none.
 */
static size_t file_processes(const struct serve_probes *pr)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char exe[64];
		struct stat sb;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(exe, sizeof(exe), "/proc/%d/exe", atoi(de->d_name));
		if (!stat(exe, &sb) && serve_probes__file_state(pr, &sb) == SERVE_FILE_SAME)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * gosnoop_target_processes: live processes this target's probes cover
 * now. pid:/comm: the processes probed and not seen ended (an end is
 * noticed by the next update, within a second); binary: the processes
 * running the attached file.
 */
static size_t live_processes(const struct serve_group *g)
{
	size_t n = 0;

	if (g->cfg->binary)
		return g->inst_cnt ? file_processes(g->inst[0].pr) : 0;
	for (size_t i = 0; i < g->inst_cnt; i++)
		n += g->inst[i].pid && !g->inst[i].ended;
	return n;
}

/*
 * The target's own label set, made once at start: binary: and pid: have
 * their process's (so the gauge joins their other series, and a pid:
 * keeps its binary label after the process ended); comm: has no one
 * binary or pid, so comm="NAME" and the extra labels.
 */
static int make_group_labels(struct serve_group *g)
{
	const struct serve_target *cfg = g->cfg;
	size_t len = 0;
	FILE *f;

	if (!cfg->comm) {
		if (!g->inst_cnt)
			return -ESRCH;
		g->labels = strdup(serve_probes__labels(g->inst[0].pr));
		return g->labels ? 0 : -ENOMEM;
	}
	f = open_memstream(&g->labels, &len);
	if (!f)
		return -ENOMEM;
	fputs("comm=\"", f);
	serve__put_label_value(f, cfg->comm);
	fputc('"', f);
	for (int i = 0; i < cfg->label_cnt; i++) {
		fprintf(f, ",%s=\"", cfg->labels[i].name);
		serve__put_label_value(f, cfg->labels[i].value);
		fputc('"', f);
	}
	if (fclose(f)) {
		free(g->labels);
		g->labels = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Called without st->lock: the HTTP thread cannot see g yet. */
static int finish_start(struct serve_group *g, const struct serve_hooks *h)
{
	int err = make_group_labels(g);

	if (err) {
		p_err("target of line %d: %s", g->cfg->line, strerror(-err));
		serve_group__stop(g, h);
		return err;
	}
	g->live = live_processes(g);
	return 0;
}

int serve_group__start(struct serve_group *g, const struct serve_hooks *h)
{
	struct serve_inst in;
	int err;

	if (g->cfg->comm) {
		scan_comm(g, NULL, h);
		if (!g->inst_cnt)
			fprintf(stderr, "%s: comm %s: no %sprocess yet; looking every second\n",
				prog_name, g->cfg->comm, g->failed_cnt ? "Go " : "");
		return finish_start(g, h);
	}
	err = start_inst(g, h, g->cfg->pid, NULL, &in);
	if (!err)
		err = add_inst(g, &in, NULL);
	if (err && in.pr)
		stop_inst(&in, h);
	return err ? err : finish_start(g, h);
}

static bool failed_before(const struct serve_group *g, const struct stat *sb)
{
	return sb->st_dev == g->failed_dev && sb->st_ino == g->failed_ino &&
	       sb->st_size == g->failed_size &&
	       sb->st_mtim.tv_sec == g->failed_mtim.tv_sec &&
	       sb->st_mtim.tv_nsec == g->failed_mtim.tv_nsec;
}

/*
 * binary: follow the file at PATH. Another inode there (a deploy renamed
 * a new file over it): probe it, then let go of the old one; if it cannot
 * be probed, the old probes stay. The same inode rewritten (cp onto it,
 * possible only while nothing runs it): the probes sit at offsets of the
 * old code, where a process started from the new one could hit them
 * mid-instruction, so they go first. A version that cannot be probed is
 * not retried until it changes again.
 */
static void follow_file(struct serve_group *g, pthread_mutex_t *lock,
			const struct serve_hooks *h)
{
	struct serve_inst in, old;
	enum serve_file fs = SERVE_FILE_REPLACED;
	struct stat sb;
	int err;

	/* gone for now (mid-deploy): keep what is attached */
	if (stat(g->cfg->binary, &sb))
		return;
	if (g->inst_cnt) {
		fs = serve_probes__file_state(g->inst[0].pr, &sb);
		if (fs == SERVE_FILE_SAME)
			return;
	}
	if (fs == SERVE_FILE_REWRITTEN) {
		pthread_mutex_lock(lock);
		old = g->inst[0];
		g->inst_cnt = 0;
		pthread_mutex_unlock(lock);
		stop_inst(&old, h);
		p_warn("%s was rewritten in place: probes detached, probing the new contents",
		       g->cfg->binary);
	}
	if (failed_before(g, &sb))
		return;
	err = start_inst(g, h, 0, NULL, &in);
	if (err) {
		g->failed_dev = sb.st_dev;
		g->failed_ino = sb.st_ino;
		g->failed_size = sb.st_size;
		g->failed_mtim = sb.st_mtim;
		p_warn("%s changed and the new file cannot be probed (%s); %s",
		       g->cfg->binary, strerror(-err), g->inst_cnt ?
		       "the old probes stay" : "nothing is probed until it changes again");
		return;
	}
	if (g->inst_cnt) {
		pthread_mutex_lock(lock);
		old = g->inst[0];
		g->inst[0] = in;
		g->replaced++;
		pthread_mutex_unlock(lock);
		stop_inst(&old, h);
	} else if (add_inst(g, &in, lock)) {
		stop_inst(&in, h);
		return;
	} else {
		pthread_mutex_lock(lock);
		g->replaced++;
		pthread_mutex_unlock(lock);
	}
	fprintf(stderr, "%s: %s was replaced: probing the new file\n",
		prog_name, g->cfg->binary);
}

static double mono_s(void)
{
	return mono_ns() / 1e9;
}

void serve_group__update(struct serve_group *g, struct serve_state *st)
{
	pthread_mutex_t *lock = &st->lock;
	const struct serve_hooks *h = st->hooks;
	unsigned long long start;
	uint64_t scrapes;
	size_t i = 0, n = 0;
	double now = mono_s();

	pthread_mutex_lock(lock);
	scrapes = st->scrapes;
	/* forget failures of processes that ended */
	for (i = 0; i < g->failed_cnt; i++)
		if (!proc_start(g->failed[i].pid, &start) &&
		    start == g->failed[i].start)
			g->failed[n++] = g->failed[i];
	g->failed_cnt = n;
	pthread_mutex_unlock(lock);

	for (i = 0; i < g->inst_cnt;) {
		struct serve_inst *in = &g->inst[i], gone;

		if (!in->pid || (!in->ended && !proc_start(in->pid, &start) &&
				 start == in->start)) {
			i++;
			continue;
		}
		if (!in->ended) {
			pthread_mutex_lock(lock);
			in->ended = true;
			in->ended_at = now;
			in->scrapes_at_end = scrapes;
			pthread_mutex_unlock(lock);
		}
		/* its last counts not scraped yet: keep them a while */
		if (scrapes == in->scrapes_at_end &&
		    now - in->ended_at < SERVE_ENDED_KEEP_S) {
			i++;
			continue;
		}
		pthread_mutex_lock(lock);
		gone = *in;
		g->inst[i] = g->inst[--g->inst_cnt];
		g->exited++;
		pthread_mutex_unlock(lock);
		stop_inst_release(g, &gone, h);
		fprintf(stderr, "%s: process %d ended: its series are gone\n",
			prog_name, gone.pid);
	}
	/* the HTTP thread reads the histograms, never the open-call
	 * stacks: no lock */
	for (i = 0; i < g->inst_cnt; i++)
		if (!g->inst[i].ended)
			serve_probes__sweep(g->inst[i].pr);
	for (i = 0; i < g->host_cnt; i++)
		serve_probes__sweep(g->hosts[i]);
	if (g->cfg->comm)
		scan_comm(g, lock, h);
	if (g->cfg->binary)
		follow_file(g, lock, h);
	n = live_processes(g);
	pthread_mutex_lock(lock);
	g->live = n;
	pthread_mutex_unlock(lock);
}

/*
 * Closing a BPF link that holds uprobes waits for RCU grace periods
 * (~50 ms here), one close after the other: 300 targets took 15 s to stop.
 * Closed from many threads at once, the waits overlap (the kernel serves
 * concurrent waiters with one grace period).
 */
#define STOP_THREADS_MAX	128

struct stop_work {
	struct serve_inst **inst;
	size_t cnt;
	size_t next;			/* taken under lock */
	pthread_mutex_t lock;
	const struct serve_hooks *h;
};

static void *stop_worker(void *arg)
{
	struct stop_work *w = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&w->lock);
		i = w->next++;
		pthread_mutex_unlock(&w->lock);
		if (i >= w->cnt)
			return NULL;
		stop_inst(w->inst[i], w->h);
	}
}

static void stop_insts(struct serve_inst **inst, size_t cnt,
		       const struct serve_hooks *h)
{
	struct stop_work w = {
		.inst = inst, .cnt = cnt, .h = h,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	pthread_t tids[STOP_THREADS_MAX];
	size_t n = 0, want = cnt < STOP_THREADS_MAX ? cnt : STOP_THREADS_MAX;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	/* one stop needs no thread */
	while (want > 1 && n < want &&
	       !pthread_create(&tids[n], &attr, stop_worker, &w))
		n++;
	pthread_attr_destroy(&attr);
	stop_worker(&w);	/* this thread helps (alone if none started) */
	while (n)
		pthread_join(tids[--n], NULL);
}

void serve_groups__stop(struct serve_group *g, size_t n, const bool *keep,
			const struct serve_hooks *h)
{
	struct serve_inst **all;
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++)
		cnt += keep && keep[i] ? 0 : g[i].inst_cnt;
	all = calloc(cnt ? cnt : 1, sizeof(*all));
	if (all) {
		cnt = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < g[i].inst_cnt && !(keep && keep[i]); j++)
				all[cnt++] = &g[i].inst[j];
		stop_insts(all, cnt, h);
		free(all);
	}
	/* out of memory: one after the other */
	for (size_t i = 0; i < n; i++)
		if (!keep || !keep[i])
			serve_group__stop(&g[i], h);
}

void serve_group__stop(struct serve_group *g, const struct serve_hooks *h)
{
	for (size_t i = 0; i < g->inst_cnt; i++)
		if (g->inst[i].pr)
			stop_inst(&g->inst[i], h);
	/* their members stopped: the shared links go, one set a file */
	for (size_t i = 0; i < g->host_cnt; i++)
		serve_probes__stop(g->hosts[i]);
	free(g->hosts);
	g->hosts = NULL;
	g->host_cnt = 0;
	g->no_share = false;
	free(g->inst);
	free(g->failed);
	free(g->labels);
	g->inst = NULL;
	g->failed = NULL;
	g->labels = NULL;
	g->live = 0;
	g->inst_cnt = g->failed_cnt = 0;
}
