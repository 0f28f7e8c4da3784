// SPDX-License-Identifier: MIT
/*
 * gosnoop serve: a daemon that keeps count/latency (and sched) probes
 * attached to Go services, configured in YAML (serve_config.c), and
 * exports what they aggregate in the kernel as Prometheus text
 * (serve_http.c, serve_metrics.c). docs/serve.md.
 *
 * This file: options, start, the main loop and reload. The main loop
 * waits on the configuration's directory (inotify) with a short timeout
 * and, in turn: reloads on SIGHUP or when the file changed, follows the
 * targets' processes about once a second (serve_targets.c), and stops on
 * SIGTERM/SIGINT: HTTP first, then every probe detached.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "common.h"
#include "options.h"
#include "overhead.h"
#include "serve.h"
#include "serve_config.h"
#include "serve_probes.h"
#include "serve_sched.h"

#define DEFAULT_LISTEN "127.0.0.1:9464"
/* Editors write in bursts (temp file, rename, chmod): act once it is
 * quiet this long. */
#define WATCH_SETTLE_S	0.2
/* How often processes are followed (comm: rescans, ended pids). */
#define UPDATE_EVERY_S	1.0

/* What the main loop keeps besides the shared state. */
struct serve_main {
	struct serve_state st;
	struct serve_http *httpd;
	const char *listen_arg;		/* --listen: wins over listen: */
	char *listen;			/* where httpd listens now */
	int watch_fd;			/* inotify on the config's dir, or -1 */
	struct stat seen;		/* the config file as last read */
	bool settling;			/* a change seen, waiting for quiet */
	double settle_until;
	double max_overhead;		/* --max-overhead: targets' default */
};

static volatile sig_atomic_t exiting, hup_seen;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_seen = 1;
	else
		exiting = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s serve --config FILE [--listen HOST:PORT] [--no-watch]\n"
		"                    [--max-overhead PCT]\n"
		"Keep count/latency/sched probes on Go services and export them\n"
		"to Prometheus: /metrics, /healthz, /debug/probes (JSON).\n\n"
		"  -c, --config FILE     YAML configuration (docs/serve.md)\n"
		"  -l, --listen HOST:PORT  where to listen (default: the config's\n"
		"                        listen:, else %s; loopback unless\n"
		"                        given otherwise)\n"
		"      --no-watch        reload on SIGHUP only, not when FILE changes\n"
		"      --max-overhead PCT  the overhead budget of targets without\n"
		"                        max_overhead: (default %g; off: none)\n"
		"  -v, --verbose         probe sites, attach and detach times\n"
		"Stops on SIGTERM or SIGINT (detaches, exit 0). An invalid\n"
		"configuration is reported as FILE:LINE, exit 2.\n",
		prog_name, DEFAULT_LISTEN, SERVE_DEFAULT_MAX_OVERHEAD);
}

/*
 * Each probed process holds ~4 fds and each HTTP connection one: a
 * thousand targets need more than the usual soft limit of 1024. The hard
 * limit is the administrator's word; the soft one only a default.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static double mono_s(void)
{
	return mono_ns() / 1e9;
}

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The per-process extras: sched: true's goroutine metrics (serve_sched.h),
 * which reach the daemon through these hooks alone. */
static const struct serve_hooks *const hooks = &serve_sched_hooks;

/* The file's identity and version: what a change of it changes. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void stop_groups(struct serve_group *g, size_t n, const bool *keep)
{
	serve_groups__stop(g, n, keep, hooks);
}

/*
 * Start one target with errors prefixed by its FILE:LINE (one line says
 * what failed and where); the generic line only if nothing was said.
 */
static int start_group(struct serve_group *g, const struct serve_hooks *h,
		       const char *config_path)
{
	unsigned long errs = p_err_count;
	char where[PATH_MAX + 16];
	int err;

	snprintf(where, sizeof(where), "%s:%d", config_path, g->cfg->line);
	p_context = where;
	err = serve_group__start(g, h);
	p_context = NULL;
	if (err && p_err_count == errs)
		p_err("%s: cannot start this target", where);
	return err;
}

/*
 * The first start of every target, on a thread of its own: planning one
 * target can take long (50 000 patterns over esbuild's functions: 17 s)
 * and cannot be interrupted, but a SIGTERM must still end the daemon
 * within a second. The starter looks at `exiting` between targets; if
 * it is inside one when the signal comes, the targets it finished are
 * detached (in parallel) and the process exits at once: the kernel
 * closes the half-started target's BPF links with the process (a
 * classic tracefs event it left is removed by the next gosnoop, see
 * funcprobe.c).
 */
#define START_ABANDON_S	0.3

struct starter {
	struct serve_state *st;
	int err;
	volatile bool finished;		/* set last, under st->lock */
};

static void *start_all(void *arg)
{
	struct starter *s = arg;
	struct serve_state *st = s->st;

	serve_probes__cache_begin();
	for (size_t i = 0; i < st->cfg.target_cnt && !exiting; i++) {
		struct serve_group *g = &st->groups[i];

		g->cfg = &st->cfg.targets[i];
		s->err = start_group(g, hooks, st->config_path);
		if (s->err)
			break;
		pthread_mutex_lock(&st->lock);
		st->group_cnt++;
		pthread_mutex_unlock(&st->lock);
	}
	serve_probes__cache_end();
	pthread_mutex_lock(&st->lock);
	s->finished = true;
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static bool start_finished(struct starter *s)
{
	bool done;

	pthread_mutex_lock(&s->st->lock);
	done = s->finished;
	pthread_mutex_unlock(&s->st->lock);
	return done;
}

/* 0 (maybe `exiting`), or the first target's error (-errno). */
static int start_targets(struct serve_state *st)
{
	struct starter s = { .st = st };
	double stop_asked = 0;
	pthread_t tid;
	size_t done;

	if (pthread_create(&tid, NULL, start_all, &s)) {
		start_all(&s);
		return s.err;
	}
	while (!start_finished(&s)) {
		usleep(20 * 1000);
		if (!exiting)
			continue;
		if (!stop_asked)
			stop_asked = mono_s();
		if (mono_s() - stop_asked < START_ABANDON_S)
			continue;
		pthread_mutex_lock(&st->lock);
		done = st->group_cnt;	/* the starter no longer touches these */
		pthread_mutex_unlock(&st->lock);
		stop_groups(st->groups, done, NULL);
		fprintf(stderr, "%s: stopped during start-up\n", prog_name);
		_exit(EXIT_OK);
	}
	pthread_join(tid, NULL);
	return s.err;
}

/* A reload's changes to kept targets' probes (serve_probes.h), made
 * visible together with the new groups. */
struct changes {
	struct serve_probes_change **c;
	size_t cnt, cap;
	size_t attached, detached;	/* functions */
};

static void changes_abort(struct changes *ch, size_t from)
{
	while (ch->cnt > from)
		serve_probes__update_abort(ch->c[--ch->cnt]);
}

/*
 * Old group g, whose processes, labels and buckets new target cfg shares,
 * to cfg's probe lists: every process's new probes attached (still
 * invisible). 0; -ESTALE: restart it instead; -errno after one line.
 */
static int prepare_change(struct changes *ch, const struct serve_group *g,
			  const struct serve_target *cfg, const char *config_path)
{
	size_t from = ch->cnt;
	char where[PATH_MAX + 16];
	int err = 0;

	if (ch->cap < ch->cnt + g->inst_cnt + g->host_cnt) {
		size_t cap = ch->cnt + g->inst_cnt + g->host_cnt + 16;
		struct serve_probes_change **n = realloc(ch->c, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ch->c = n;
		ch->cap = cap;
	}
	snprintf(where, sizeof(where), "%s:%d", config_path, cfg->line);
	p_context = where;
	/* a comm: target's members read their host's units: it changes
	 * once for all of them */
	for (size_t i = 0; i < g->inst_cnt + g->host_cnt && !err; i++) {
		struct serve_probes *pr = i < g->inst_cnt ? g->inst[i].pr :
					  g->hosts[i - g->inst_cnt];

		if (serve_probes__host(pr))
			continue;
		err = serve_probes__update_prepare(pr, g->cfg, cfg, &ch->c[ch->cnt]);
		if (!err)
			ch->cnt++;
	}
	p_context = NULL;
	if (err)
		changes_abort(ch, from);
	return err;
}

/* Under st->lock: the kept targets' new probes in view. */
static void changes_commit(struct changes *ch)
{
	for (size_t i = 0; i < ch->cnt; i++)
		serve_probes__update_commit(ch->c[i]);
}

/* After: what they replaced detached, in parallel with nothing (a
 * unit's detach is one link close). */
static void changes_finish(struct changes *ch)
{
	for (size_t i = 0; i < ch->cnt; i++) {
		size_t a, d;

		serve_probes__change_counts(ch->c[i], &a, &d);
		ch->attached += a;
		ch->detached += d;
		serve_probes__update_finish(ch->c[i]);
	}
	ch->cnt = 0;
}

/* What a reload builds before it swaps it in. */
struct next_state {
	struct serve_config cfg;
	struct serve_group *groups;
	bool *kept;		/* per old group */
	bool *reused;		/* per new group: an old one, maybe changed */
	struct changes ch;
	size_t n_kept, n_changed, n_new;
};

/*
 * New target i: the old group if nothing changed; the old group with its
 * probes changed if only the probe lists did; else a new group.
 */
static int place_target(struct serve_state *st, struct next_state *n,
			size_t i, char *why, size_t why_len)
{
	const struct serve_target *t = &n->cfg.targets[i];
	int err;

	for (size_t j = 0; j < st->group_cnt; j++) {
		const struct serve_group *og = &st->groups[j];

		if (n->kept[j] || !serve_config__same_processes(og->cfg, t))
			continue;
		if (serve_config__same_target(og->cfg, t)) {
			n->n_kept++;
		} else {
			err = prepare_change(&n->ch, og, t, st->config_path);
			if (err == -ESTALE)
				break;		/* restart it */
			if (err) {
				snprintf(why, why_len, "%s:%d: cannot change the probes of this target",
					 st->config_path, t->line);
				return err;
			}
			n->n_changed++;
		}
		n->kept[j] = n->reused[i] = true;
		n->groups[i] = *og;
		n->groups[i].cfg = t;
		return 0;
	}
	n->groups[i].cfg = t;
	err = start_group(&n->groups[i], hooks, st->config_path);
	if (err) {
		snprintf(why, why_len, "%s:%d: cannot start this target",
			 st->config_path, t->line);
		memset(&n->groups[i], 0, sizeof(n->groups[i]));
		return err;
	}
	n->n_new++;
	return 0;
}

/*
 * A new listen: from the file (--listen wins): bound before the swap. New
 * TLS files on the same address: the listening socket goes to a daemon
 * with them (no moment without one); if they do not work, the reload
 * fails and the old ones serve on. Users and debug_probes: need neither:
 * the HTTP thread reads them from the configuration swapped in.
 */
static int rebind(struct serve_main *m, const struct serve_config *ncfg,
		  struct serve_http **nhttpd, char *why, size_t why_len)
{
	const char *nlisten = ncfg->listen ?: DEFAULT_LISTEN;
	struct serve_http *restarted;
	char *dup;
	int err;

	if (m->listen_arg) {
		if (ncfg->listen && strcmp(ncfg->listen, m->listen_arg))
			p_warn("reload: listen: %s ignored: --listen %s wins",
			       ncfg->listen, m->listen_arg);
		nlisten = m->listen;
	}
	if (!strcmp(nlisten, m->listen)) {
		if (serve_config__same_tls(&m->st.cfg.web, &ncfg->web))
			return 0;
		err = serve_http__restart(m->httpd, m->listen, &ncfg->web,
					  &m->st.cfg.web, ncfg->target_cnt,
					  &restarted);
		if (restarted) {
			serve_http__stop(m->httpd);
			m->httpd = restarted;
		}
		if (err)
			snprintf(why, why_len, "%s:%d: web: cannot serve with this TLS certificate and key",
				 m->st.config_path, ncfg->web.line);
		return err;
	}
	dup = strdup(nlisten);
	if (!dup || serve_http__start_web(&m->st, nlisten, &ncfg->web,
					  ncfg->target_cnt, nhttpd)) {
		free(dup);
		snprintf(why, why_len, "%s: cannot listen on %s",
			 m->st.config_path, nlisten);
		return -EADDRINUSE;
	}
	free(m->listen);
	m->listen = dup;
	return 0;
}

/* Show the new state to the scrapes; then let go of the old one. */
static void swap_in(struct serve_main *m, struct next_state *n)
{
	struct serve_state *st = &m->st;
	struct serve_group *old = st->groups;
	size_t old_cnt = st->group_cnt;
	struct serve_config old_cfg = st->cfg;

	pthread_mutex_lock(&st->lock);
	st->groups = n->groups;
	st->group_cnt = n->cfg.target_cnt;
	st->cfg = n->cfg;
	changes_commit(&n->ch);
	st->reload_ok = true;
	st->reload_time = real_s();
	pthread_mutex_unlock(&st->lock);
	/* out of reach of the HTTP thread now */
	changes_finish(&n->ch);
	stop_groups(old, old_cnt, n->kept);
	free(old);
	serve_config__free(&old_cfg);
}

/*
 * Read the file again: targets that are unchanged (serve_config__same_
 * target) keep their processes, probes and counters; a target whose
 * probe lists alone changed keeps every probe that stays (serve_probes.h);
 * new ones start, removed ones stop; a new listen: rebinds. Anything
 * wrong (a bad file, a target that cannot start, an address that cannot
 * be bound) leaves the running configuration exactly as it was. All of
 * it on this thread: scrapes wait for the lock only while swap_in()
 * swaps pointers.
 */
static void reload(struct serve_main *m, const char *why_now)
{
	struct serve_state *st = &m->st;
	struct serve_http *nhttpd = NULL;
	struct next_state n = {};
	char msg[512], why[600];
	size_t removed;
	int err;

	pthread_mutex_lock(&st->lock);
	st->reloads++;
	pthread_mutex_unlock(&st->lock);
	if (stat(st->config_path, &m->seen))
		memset(&m->seen, 0, sizeof(m->seen));
	err = serve_config__load(st->config_path, &n.cfg, msg, sizeof(msg));
	if (err) {
		snprintf(why, sizeof(why), "%s", msg);
		goto failed;
	}
	serve_config__default_max_overhead(&n.cfg, m->max_overhead);
	n.groups = calloc(n.cfg.target_cnt + 1, sizeof(*n.groups));
	n.kept = calloc(st->group_cnt + 1, sizeof(*n.kept));
	n.reused = calloc(n.cfg.target_cnt + 1, sizeof(*n.reused));
	if (!n.groups || !n.kept || !n.reused) {
		snprintf(why, sizeof(why), "out of memory");
		goto undo;
	}
	serve_probes__cache_begin();
	err = 0;
	for (size_t i = 0; i < n.cfg.target_cnt && !err; i++)
		err = place_target(st, &n, i, why, sizeof(why));
	serve_probes__cache_end();
	if (err)
		goto undo;
	if (rebind(m, &n.cfg, &nhttpd, why, sizeof(why)))
		goto undo;
	removed = st->group_cnt - n.n_kept - n.n_changed;
	swap_in(m, &n);
	if (nhttpd) {
		serve_http__stop(m->httpd);
		m->httpd = nhttpd;
	}
	/* said last: whoever reads it sees the new state, and nothing of
	 * the old one is left open */
	fprintf(stderr, "%s: reloaded %s (%s): %zu targets (%zu kept, %zu new, %zu removed, %zu changed: %zu functions attached, %zu detached)\n",
		prog_name, st->config_path, why_now, st->group_cnt, n.n_kept,
		n.n_new, removed, n.n_changed, n.ch.attached, n.ch.detached);
	free(n.kept);
	free(n.reused);
	free(n.ch.c);
	return;
undo:
	/* undo only what this reload did */
	changes_abort(&n.ch, 0);
	free(n.ch.c);
	for (size_t i = 0; n.groups && i < n.cfg.target_cnt; i++)
		if (!n.reused[i] && n.groups[i].cfg)
			serve_group__stop(&n.groups[i], hooks);
	free(n.groups);
	free(n.kept);
	free(n.reused);
	serve_config__free(&n.cfg);
failed:
	/* state first, then the message: a scrape prompted by the message
	 * must already see the failure */
	pthread_mutex_lock(&st->lock);
	st->reload_ok = false;
	st->reload_failures++;
	pthread_mutex_unlock(&st->lock);
	p_warn("reload failed, keeping the running configuration: %s", why);
}

/*
 * Watch the directory, not the file: editors and Kubernetes ConfigMaps
 * replace the file (write a temp file, rename it over; swap a symlink),
 * which a watch on the old inode would never see. Whatever happens in the
 * directory, the file is reloaded only if what the path names changed.
 */
static int watch_config(struct serve_main *m)
{
	char *copy = strdup(m->st.config_path);
	int err = 0;

	if (!copy) {
		p_warn("cannot watch %s for changes (out of memory): reload with SIGHUP",
		       m->st.config_path);
		return -ENOMEM;
	}
	m->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->watch_fd < 0 ||
	    inotify_add_watch(m->watch_fd, dirname(copy),
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
			      IN_ATTRIB) < 0) {
		err = -errno;
		p_warn("cannot watch %s for changes (%s): reload with SIGHUP",
		       m->st.config_path, strerror(-err));
		if (m->watch_fd >= 0)
			close(m->watch_fd);
		m->watch_fd = -1;
	}
	free(copy);
	return err;
}

static void drain_watch(struct serve_main *m)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(m->watch_fd, buf, sizeof(buf)) > 0)
		;
	m->settling = true;
	m->settle_until = mono_s() + WATCH_SETTLE_S;
}

static bool config_changed(struct serve_main *m)
{
	struct stat now;

	return !stat(m->st.config_path, &now) && !same_file(&now, &m->seen);
}

static void poll_extras(struct serve_state *st)
{
	for (size_t i = 0; i < st->group_cnt; i++)
		for (size_t j = 0; j < st->groups[i].inst_cnt; j++)
			if (st->hooks->poll)
				st->hooks->poll(st->groups[i].inst[j].pr);
}

/* The overhead budgets (serve_budget.c): each looks every OVH_UPDATE_NS. */
static void tick_budgets(struct serve_state *st)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < st->group_cnt; i++)
		for (size_t j = 0; j < st->groups[i].inst_cnt; j++)
			if (st->groups[i].inst[j].pr)
				serve_probes__budget_tick(st->groups[i].inst[j].pr,
						  st->groups[i].cfg->max_overhead,
						  &(struct overhead_keep){
							st->groups[i].cfg->keep,
							st->groups[i].cfg->keep_cnt },
						  now, &st->lock);
	/* shared links (a comm: target's): one budget for all their
	 * processes; their members' ticks do nothing */
	for (size_t i = 0; i < st->group_cnt; i++)
		for (size_t j = 0; j < st->groups[i].host_cnt; j++)
			serve_probes__budget_tick(st->groups[i].hosts[j],
						  st->groups[i].cfg->max_overhead,
						  &(struct overhead_keep){
							st->groups[i].cfg->keep,
							st->groups[i].cfg->keep_cnt },
						  now, &st->lock);
}

static void main_loop(struct serve_main *m)
{
	struct serve_state *st = &m->st;
	double next_update = mono_s() + UPDATE_EVERY_S;

	while (!exiting) {
		struct pollfd pfd = { .fd = m->watch_fd, .events = POLLIN };
		double now;

		/* a signal ends the wait early (EINTR) */
		if (poll(&pfd, m->watch_fd >= 0, 100) > 0 &&
		    (pfd.revents & POLLIN))
			drain_watch(m);
		if (exiting)
			break;
		now = mono_s();
		if (hup_seen) {
			hup_seen = 0;
			reload(m, "SIGHUP");
		} else if (m->settling && now >= m->settle_until) {
			m->settling = false;
			if (config_changed(m))
				reload(m, "file changed");
		}
		if (now >= next_update) {
			/* the main thread alone changes groups: no lock to read */
			for (size_t i = 0; i < st->group_cnt && !exiting; i++)
				serve_group__update(&st->groups[i], st);
			next_update = mono_s() + UPDATE_EVERY_S;
		}
		poll_extras(st);
		tick_budgets(st);
	}
}

enum { OPT_NO_WATCH = 256, OPT_MAX_OVERHEAD };

/* What serve's own options set (options.h handles -v and -h). */
struct serve_args {
	struct serve_main *m;
	bool watch;		/* --no-watch clears it */
};

static int serve_option(int code, char *arg, void *ctx)
{
	struct serve_args *a = ctx;

	switch (code) {
	case 'c':
		a->m->st.config_path = arg;
		return 0;
	case 'l':
		a->m->listen_arg = arg;
		return 0;
	case OPT_NO_WATCH:
		a->watch = false;
		return 0;
	case OPT_MAX_OVERHEAD:
		if (!strcmp(arg, "off") || !strcmp(arg, "0")) {
			a->m->max_overhead = 0;
			return 0;
		}
		return overhead__parse_pct(arg, &a->m->max_overhead);
	default:
		return -ENOENT;
	}
}

int do_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "no-watch", no_argument, NULL, OPT_NO_WATCH },
		{ "max-overhead", required_argument, NULL, OPT_MAX_OVERHEAD },
		{}
	};
	static struct serve_main m = {
		.st = { .lock = PTHREAD_MUTEX_INITIALIZER, .hooks = &serve_sched_hooks },
		.watch_fd = -1, .max_overhead = SERVE_DEFAULT_MAX_OVERHEAD,
	};
	struct serve_args args = { .m = &m, .watch = true };
	const struct opts_spec spec = {
		.verb = "serve", .usage = usage, .no_json = true,
		.own_short = "c:l:", .own_long = opts, .own = serve_option,
		.ctx = &args,
	};
	struct serve_state *st = &m.st;
	struct sigaction sa = {};
	struct sockaddr_storage addr;
	bool watch, loopback;
	char err_msg[512];
	int first, err, ret = -ENOMEM;

	err = opts__parse(&spec, &argc, argv, &first);
	if (err)
		return err > 0 ? EXIT_OK : err;
	watch = args.watch;
	if (first < argc) {
		p_err("serve: unexpected argument '%s'", argv[first]);
		return -EINVAL;
	}
	if (!st->config_path) {
		p_err("serve: no configuration: give --config FILE (docs/serve.md)");
		return -EINVAL;
	}
	if (stat(st->config_path, &m.seen))
		memset(&m.seen, 0, sizeof(m.seen));
	err = serve_config__load(st->config_path, &st->cfg, err_msg,
				 sizeof(err_msg));
	if (err) {
		p_err("%s", err_msg);
		return err;
	}
	serve_config__default_max_overhead(&st->cfg, m.max_overhead);
	m.listen = strdup(m.listen_arg ?: st->cfg.listen ?: DEFAULT_LISTEN);
	if (!m.listen) {
		p_err("serve: out of memory");
		goto out;
	}
	if (serve_config__parse_listen(m.listen, &addr, &loopback)) {
		p_err("bad --listen '%s': give HOST:PORT, e.g. %s", m.listen,
		      DEFAULT_LISTEN);
		ret = -EINVAL;
		goto out;
	}
	if (watch)
		watch_config(&m);
	raise_fd_limit();

	/* Signals before attaching: a SIGTERM during a slow attach must
	 * still end in a clean detach. SIGHUP must not kill the daemon.
	 * SA_RESTART: a signal during a reload must not fail its reads with
	 * EINTR (poll() in the main loop still returns early: never
	 * restarted). */
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	st->groups = calloc(st->cfg.target_cnt, sizeof(*st->groups));
	if (!st->groups) {
		p_err("serve: out of memory");
		goto out;
	}
	err = start_targets(st);
	if (err) {
		ret = err;
		goto out;
	}
	if (exiting)
		goto stopped;
	st->start_time = real_s();
	st->reload_ok = true;
	st->reload_time = st->start_time;
	ret = serve_http__start(st, m.listen, st->group_cnt, &m.httpd);
	if (ret)
		goto out;
	main_loop(&m);
stopped:
	ret = 0;
out:
	serve_http__stop(m.httpd);
	stop_groups(st->groups, st->group_cnt, NULL);
	free(st->groups);
	serve_config__free(&st->cfg);
	free(m.listen);
	if (m.watch_fd >= 0)
		close(m.watch_fd);
	return ret;
}
