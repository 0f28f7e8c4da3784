// SPDX-License-Identifier: MIT
/*
 * funcprobe - see funcprobe.h: attaching a plan (uprobe_multi, or classic
 * uprobes: one shared tracefs event or a perf event per site) and
 * detaching it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "pattern.h"
#include <linux/types.h>
#include "bpf/funcs.h"
#include "bpf/fp_sites.h"
#include "funcprobe.h"
#include "funcprobe_int.h"
#include "tracefs.h"
#include "uprobe_multi.h"
#include "progress.h"
#include "target.h"


/* Threads that close per-site classic uprobe links at once. Each close
 * waits for RCU grace periods under the kernel's event_mutex, so only the
 * rest of the work overlaps (measured: 32 threads, 1012 sites, 109 s);
 * what really cuts it is one shared event (fp_sites.h). */
#define DETACH_THREADS		32
/* The tracefs group of the shared events; each is fp_<pid>_<n>. */
#define SHARED_GROUP		"gosnoop"
/* Bytes per write(2) to uprobe_events: the kernel parses at most 4096 at
 * a time (WRITE_BUFSIZE, trace_parse_run_command). */
#define UPROBE_EVENTS_CHUNK	4000

int fp_attach_error(int err, const char *path, pid_t pid)
{
	if (err == -EPERM || err == -EACCES)
		p_err("cannot attach uprobes to %s: %s (" PRIV_HINT ")",
		      path, strerror(-err));
	else if (err == -ESRCH)
		p_err("cannot attach to process %d: it is gone", pid);
	else
		p_err("cannot attach uprobes to %s: %s", path, strerror(-err));
	return err;
}

/* Write all of buf to fd (uprobe_events takes whole lines per write). */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int uprobe_events_open(const char *tfs)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/uprobe_events", tfs);
	return open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
}

/* Remove the shared event `name` (all its probes at once). */
static int remove_event(const char *tfs, const char *name)
{
	char line[128];
	int fd = uprobe_events_open(tfs), err, n;

	if (fd < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "-:%s/%s\n", SHARED_GROUP, name);
	err = write_all(fd, line, (size_t)n);
	close(fd);
	return err;
}

/*
 * Events a gosnoop that was killed (SIGKILL: no detach) left behind: its
 * probes stay in the kernel, and fire for nobody, until removed. Once per
 * process, before adding ours. The pid in a name is the one its gosnoop
 * saw, perhaps in another pid namespace (tracefs is one for all): an
 * event in use is safe all the same, since the kernel refuses to remove
 * an event while a perf event holds it open (EBUSY).
 */
static void remove_stale_events(const char *tfs)
{
	static bool done;
	char p[PATH_MAX], line[512], last[64] = "";
	FILE *f;

	if (done)
		return;
	done = true;
	snprintf(p, sizeof(p), "%s/uprobe_events", tfs);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		int pid;

		/* "p:gosnoop/fp_<pid>_<n> PATH:0xOFF" */
		if (sscanf(line, "p:" SHARED_GROUP "/%63[A-Za-z0-9_] ", name) != 1 ||
		    sscanf(name, "fp_%d_", &pid) != 1 || !strcmp(name, last))
			continue;
		snprintf(last, sizeof(last), "%s", name);
		if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (!remove_event(tfs, name))
			p_info("removed uprobe event %s/%s left by gosnoop %d",
			       SHARED_GROUP, name, pid);
	}
	fclose(f);
}

/* Is process pid running the file at path (its /proc/PID/exe)? */
static bool runs_file(pid_t pid, const char *path)
{
	char exe[64];
	struct stat a, b;

	if (pid <= 0)
		return false;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	return !stat(exe, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* prog's map `name` with at least min entries, as a new fd; or -1. */
int fp_prog_map_fd(const struct funcprobe *fp, struct bpf_program *prog,
		   const char *name, size_t min)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info), ids[64];
	struct bpf_map *map = fp->obj ?
		bpf_object__find_map_by_name(fp->obj, name) : NULL;
	struct bpf_map_info own = {};
	__u32 own_len = sizeof(own);
	int fd = -1;

	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &info_len))
		return -1;
	/* the object's own, if prog uses it: BPF_MAP_GET_FD_BY_ID below
	 * needs CAP_SYS_ADMIN, which a container rarely has */
	if (map && bpf_map__fd(map) >= 0 && bpf_map__max_entries(map) >= min &&
	    !bpf_obj_get_info_by_fd(bpf_map__fd(map), &own, &own_len))
		for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++)
			if (ids[i] == own.id)
				return fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC,
					     0);
	for (__u32 i = 0; i < info.nr_map_ids && i < 64 && fd < 0; i++) {
		struct bpf_map_info mi = {};
		__u32 mi_len = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mi_len) &&
		    !strcmp(mi.name, name) && mi.max_entries >= min)
			fd = mfd;
		else
			close(mfd);
	}
	return fd;
}

/*
 * Attach prog at every site through one tracefs uprobe event carrying
 * them all, opened as one perf event (fp_sites.h says why). Returns 0,
 * -EOPNOTSUPP when this cannot be done here (a PIE, no tracefs, a path
 * the uprobe_events syntax cannot carry, too many sites), or another
 * -errno; on any error nothing is left attached and the caller falls
 * back to a perf event per site.
 */
static int attach_shared(struct funcprobe *fp, struct bpf_program *prog,
			 const char *path, pid_t pid,
			 const struct fp_site *s, size_t n)
{
	static unsigned int seq;
	char tfs[256], real[PATH_MAX], p[512], name[48];
	struct perf_event_attr attr = {};
	struct bpf_link *link = NULL;
	struct fp_shared_event *nev;
	char *buf = NULL;
	size_t len = 0;
	int sites_fd = -1, efd = -1, pfd = -1, tfd, err;
	long id;
	uint64_t bias = 0;
	FILE *f;

	/* a PIE's addresses differ per process: by address only in the
	 * one process traced, where its bias is known (not for -- CMD: that
	 * child is still gosnoop, waiting to exec) */
	if (fp->gb && gobin__elf(fp->gb)->pie &&
	    (!fp->by_ip || !runs_file(pid, path) ||
	     target__load_bias(pid, fp->gb, &bias)))
		return -EOPNOTSUPP;
	if (n > FP_MAX_SHARED_SITES)
		return -EOPNOTSUPP;
	/* a target in a container seen through /proc/PID/root: the link
	 * resolves to our own root, where the path may not be, but the
	 * kernel reads the event's path as we give it */
	if (!realpath(path, real) &&
	    snprintf(real, sizeof(real), "%s", path) >= (int)sizeof(real))
		return -EOPNOTSUPP;
	if (strpbrk(real, " \t\n"))
		return -EOPNOTSUPP;
	if (tracefs__ensure_mounted(tfs, sizeof(tfs)))
		return -EOPNOTSUPP;
	remove_stale_events(tfs);

	/* prog's fp_sites map, found through the loaded program: every
	 * function-probe program has one (fp_site_cookie) */
	sites_fd = fp_prog_map_fd(fp, prog, FP_SITES_MAP_NAME, 0);
	if (sites_fd < 0)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < n; i++) {
		/* ET_EXEC: run-time address = link-time address */
		__u64 addr = s[i].vaddr + bias;

		if (bpf_map_update_elem(sites_fd, &addr, &s[i].cookie,
					BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}

	snprintf(name, sizeof(name), "fp_%d_%u", (int)getpid(),
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	efd = uprobe_events_open(tfs);
	if (efd < 0) {
		err = -EOPNOTSUPP;	/* no CONFIG_UPROBE_EVENTS */
		goto out;
	}
	buf = malloc(UPROBE_EVENTS_CHUNK + PATH_MAX + 64);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* the first line creates the event, the others append to it
		 * (kernel >= 5.4: one event, many probes) */
		len += (size_t)sprintf(buf + len, "p:%s/%s %s:0x%" PRIx64 "\n",
				       SHARED_GROUP, name, real, s[i].off);
		if (len < UPROBE_EVENTS_CHUNK && i + 1 < n)
			continue;
		err = write_all(efd, buf, len);
		len = 0;
		if (err)	/* before 5.4, appending is EEXIST */
			goto out_event;
	}
	snprintf(p, sizeof(p), "%s/events/%s/%s/id", tfs, SHARED_GROUP, name);
	f = fopen(p, "re");
	if (!f || fscanf(f, "%ld", &id) != 1) {
		err = -EOPNOTSUPP;
		if (f)
			fclose(f);
		goto out_event;
	}
	fclose(f);

	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (__u64)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	/*
	 * The program goes on a perf event of gosnoop's own process first,
	 * where it fires for no one: a tracefs event's programs are the
	 * event's, whichever of its perf events they came through
	 * (call->prog_array), and the probes fire only in the processes of
	 * its perf events (uprobe_perf_filter). Then the target's perf
	 * event: its open puts the target's process in the filter and goes
	 * through every site's uprobe under its register_rwsem, write
	 * (uprobe_perf_open -> uprobe_apply), so it returns when every hit
	 * that began before is through its handlers (up to 6.11 a hit holds
	 * that lock, read, across them all). Every hit of the target that
	 * reaches this event's consumer finds the program there: the new
	 * event's handler, run first (fp_sites.h), never passes a hit by
	 * without saying so, which a re-attach needs. Opened the other way
	 * round (the target's event, then the program), a hit could run this
	 * consumer before its program was on and the old event's after its
	 * program was off: counted by no one (seen under qemu on 6.1: one
	 * call of 1,030,000).
	 */
	pfd = (int)syscall(__NR_perf_event_open, &attr, getpid(), -1, -1,
			   PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		err = -errno;
		goto out_event;
	}
	{
		/* the by-address twin reads no cookie (and a kernel without
		 * the helper has no perf link to carry one) */
		LIBBPF_OPTS(bpf_perf_event_opts, o,
			    .bpf_cookie = fp->by_ip ? 0 : FP_SITE_BY_IP |
				(fp->chunk_gen ? fp->chunk_gen[0] : 0));

		link = bpf_program__attach_perf_event_opts(prog, pfd, &o);
	}
	if (!link) {
		err = -errno;
		close(pfd);
		goto out_event;
	}
	/* as libbpf does for uprobes: one process, or every process by
	 * way of CPU 0 (a uprobe's BPF program runs whatever the CPU) */
	tfd = (int)syscall(__NR_perf_event_open, &attr, pid > 0 ? pid : -1,
			   pid > 0 ? -1 : 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (tfd < 0) {
		err = -errno;
		bpf_link__destroy(link);
		goto out_event;
	}
	nev = realloc(fp->events, (fp->event_cnt + 1) * sizeof(*nev));
	if (nev)
		fp->events = nev;
	if (!nev || !(fp->events[fp->event_cnt].name = strdup(name))) {
		err = -ENOMEM;
		close(tfd);
		bpf_link__destroy(link);
		goto out_event;
	}
	fp->events[fp->event_cnt++].target_fd = tfd;
	fp->links[fp->link_cnt++] = link;
	fp->shared_sites += n;
	p_info("%zu uprobes as one tracefs event %s/%s", n, SHARED_GROUP,
	       name);
	err = 0;
	goto out;
out_event:
	remove_event(tfs, name);
out:
	free(buf);
	if (efd >= 0)
		close(efd);
	close(sites_fd);
	return err;
}

/* A perf event per site is two descriptors per site (the event and its
 * BPF link): lift RLIMIT_NOFILE's soft limit (1024 by default) to the hard
 * one when n sites would pass it, or ~500 functions fail with EMFILE. */
static void raise_fd_limit(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max ||
	    rl.rlim_cur >= (rlim_t)n * 2 + 256)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		p_warn("cannot raise the open file limit: %s", strerror(errno));
}

static int attach_classic(struct funcprobe *fp, struct bpf_program *prog,
			  const char *path, pid_t pid,
			  const struct fp_site *s, size_t n)
{
	struct progress *pg;
	struct bpf_link **nl;
	int err;

	nl = realloc(fp->links, (fp->link_cnt + n) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	fp->links = nl;
	err = fp->per_site ? -EOPNOTSUPP :
	      attach_shared(fp, prog, path, pid, s, n);
	if (!err || err == -ENOMEM)
		return err;
	if (fp->by_ip) {
		/* a perf event per site needs a cookie per site */
		if (fp->gb && gobin__elf(fp->gb)->pie)
			p_err("%s is a PIE: without bpf_get_attach_cookie (Linux 5.15+) its functions can be told apart only in a running process: give -p PID",
			      path);
		else
			p_err("cannot attach uprobes to %s as one tracefs event (%s), the only way without bpf_get_attach_cookie (Linux 5.15+)",
			      path, strerror(-err));
		return -EOPNOTSUPP;
	}
	/* the per-site way says what is wrong if it fails as well */
	if (err != -EOPNOTSUPP)
		p_info("one uprobe event for all sites failed (%s): one per site",
		       strerror(-err));
	if (!fp->opts.force_classic)
		p_warn("attaching %zu uprobes one by one (each takes ~0.1 s to detach)",
		       n);
	fp->own_sites += n;
	raise_fd_limit(fp->link_cnt + n);
	/* on a terminal only (progress.c); the warning above says it anyway */
	pg = progress__start("attaching", "uprobes", n);
	for (size_t i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = s[i].cookie);
		struct bpf_link *l;

		/* libbpf: pid -1 is every process, 0 is ourselves */
		l = bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1,
						    path, s[i].off, &o);
		if (!l) {
			int err = -errno;

			progress__end(pg);
			return fp_attach_error(err, path, pid);
		}
		fp->links[fp->link_cnt++] = l;
		progress__add(pg, 1);
	}
	progress__end(pg);
	return 0;
}

/* Attach prog at classic sites s[0..n) (prog already the one loaded). */
int fp_attach_sites(struct funcprobe *fp, struct bpf_program *prog,
		    const char *path, pid_t pid, const struct fp_site *s,
		    size_t n)
{
	uint64_t start = mono_ns();
	int err;

	if (!n)
		return 0;
	if (fp->mode == FP_MODE_UNSET)
		fp->mode = FP_MODE_CLASSIC;
	err = attach_classic(fp, prog, path, pid, s, n);
	fp->attach_ms += (mono_ns() - start) / 1e6;
	return err;
}

struct detach_job {
	struct bpf_link **links;
	size_t cnt;
	size_t next;		/* shared cursor */
	pthread_mutex_t lock;
	struct progress *pg;
};

static void *detach_worker(void *arg)
{
	struct detach_job *j = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&j->lock);
		i = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->cnt)
			return NULL;
		bpf_link__destroy(j->links[i]);
		progress__add(j->pg, 1);
	}
}

void funcprobe__detach(struct funcprobe *fp)
{
	uint64_t start = mono_ns();

	if (fp)
		fp_join_closers(fp);
	if (!fp || (!fp->chunk_links && !fp->link_cnt && !fp->event_cnt))
		return;
	fp_close_chunk_links(fp);
	if (fp->link_cnt) {
		struct detach_job j = { .links = fp->links,
					.cnt = fp->link_cnt };
		pthread_t th[DETACH_THREADS];
		size_t nth = 0;

		if (fp->link_cnt > 16)
			fprintf(stderr, "%s: detaching %zu classic uprobes (the kernel takes a while for each)...\n",
				prog_name, fp->link_cnt);
		pthread_mutex_init(&j.lock, NULL);
		j.pg = progress__start("detaching", "uprobes", fp->link_cnt);
		for (; nth < DETACH_THREADS && nth < fp->link_cnt; nth++)
			if (pthread_create(&th[nth], NULL, detach_worker, &j))
				break;
		if (!nth)
			detach_worker(&j);
		for (size_t i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
		progress__end(j.pg);
		pthread_mutex_destroy(&j.lock);
		fp->link_cnt = 0;
	}
	/* the programs are off: the target's perf events close, their
	 * probes are unregistered, the tracefs events can go */
	if (fp->event_cnt) {
		const char *tfs = tracefs__path();

		for (size_t i = 0; i < fp->event_cnt; i++) {
			struct fp_shared_event *e = &fp->events[i];
			int err;

			close(e->target_fd);
			err = tfs ? remove_event(tfs, e->name) : -ENOENT;
			if (err)
				p_warn("cannot remove uprobe event %s/%s: %s",
				       SHARED_GROUP, e->name, strerror(-err));
			free(e->name);
		}
		fp->event_cnt = 0;
	}
	fp->detach_ms += (mono_ns() - start) / 1e6;
}
