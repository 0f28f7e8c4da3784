// SPDX-License-Identifier: MIT
/*
 * The endpoints of `gosnoop serve` (libmicrohttpd, one internal thread
 * waiting in epoll, requests answered one at a time; connections limited
 * per client, serve_peers.c): /metrics (serve_metrics.c),
 * /healthz, and /debug/probes, a JSON account of every configured target:
 * the processes probed for it, what is attached where, what was skipped
 * and why, the latency program's pairing counters.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "serve.h"
#include "serve_native.h"
#include "serve_auth.h"
#include "serve_peers.h"
#include "serve_probes.h"
#include "probe/funcprobe.h"

static void write_plan_json(struct serve_probes *pr, enum serve_kind k,
			    struct jw *jw)
{
	static const char *const stat_names[FP_NSTATS] = {
		"entries", "morestack_skipped", "paired", "unpaired_returns",
		"stale_entries", "re_entries", "too_deep", "read_failures",
		"map_full",
	};
	uint64_t stats[FP_NSTATS];

	jw_start_object(jw);
	jw_name(jw, "sites"); jw_uint(jw, serve_probes__sites(pr, k));
	/* more than one after a reload added functions (serve_probes.h) */
	jw_name(jw, "units"); jw_uint(jw, serve_probes__units(pr, k));
	jw_name(jw, "functions");
	jw_start_array(jw);
	for (size_t fid = 0; fid < serve_probes__func_cnt(pr, k); fid++) {
		const struct fp_func *ff = serve_probes__func(pr, k, fid);

		jw_start_object(jw);
		jw_name(jw, "func"); jw_string(jw, ff->name);
		jw_name(jw, "entry"); jw_hex(jw, ff->entry_site);
		jw_name(jw, "rets"); jw_uint(jw, ff->ret_cnt);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_name(jw, "skipped");
	jw_start_array(jw);
	for (size_t s = 0; s < serve_probes__skipped_cnt(pr, k); s++) {
		const struct fp_skipped *sk = serve_probes__skipped(pr, k, s);

		jw_start_object(jw);
		jw_name(jw, "func"); jw_string(jw, sk->name);
		jw_name(jw, "reason"); jw_string(jw, sk->reason);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	if (k == SERVE_LATENCY) {
		serve_probes__lat_stats(pr, stats);
		jw_name(jw, "pairing");
		jw_start_object(jw);
		for (int s = 0; s < FP_NSTATS; s++) {
			jw_name(jw, stat_names[s]);
			jw_uint(jw, stats[s]);
		}
		jw_end_object(jw);
	}
	jw_end_object(jw);
}

static void write_inst_json(const struct serve_inst *in,
			    const struct serve_hooks *hooks, struct jw *jw)
{
	static const char *const kinds[] = { "count", "latency" };
	struct serve_probes *pr = in->pr;

	jw_start_object(jw);
	jw_name(jw, "binary"); jw_string(jw, serve_probes__binary(pr));
	if (in->pid) {
		jw_name(jw, "pid"); jw_uint(jw, (uint64_t)in->pid);
	}
	if (in->ended) {
		/* gone after the next scrape */
		jw_name(jw, "ended"); jw_bool(jw, true);
	}
	jw_name(jw, "labels"); jw_string(jw, serve_probes__labels(pr));
	jw_name(jw, "mode"); jw_string(jw, serve_probes__mode(pr));
	for (int k = 0; k < SERVE_NKINDS; k++) {
		if (!serve_probes__has(pr, k))
			continue;
		jw_name(jw, kinds[k]);
		write_plan_json(pr, k, jw);
	}
	if (hooks->write_json)
		hooks->write_json(pr, jw);
	jw_end_object(jw);
}

static void write_group_json(const struct serve_group *g,
			     const struct serve_hooks *hooks, struct jw *jw)
{
	const struct serve_target *t = g->cfg;

	jw_start_object(jw);
	jw_name(jw, "line"); jw_uint(jw, (uint64_t)t->line);
	if (t->binary) {
		jw_name(jw, "binary"); jw_string(jw, t->binary);
	} else if (t->pid) {
		jw_name(jw, "pid"); jw_uint(jw, (uint64_t)t->pid);
	} else {
		jw_name(jw, "comm"); jw_string(jw, t->comm);
	}
	/* running: something is probed; exited: a pid: target's process
	 * ended; waiting: no process of a comm: target (yet) */
	jw_name(jw, "state");
	jw_string(jw, g->inst_cnt ? "running" :
		      t->pid ? "exited" : "waiting");
	jw_name(jw, "exited"); jw_uint(jw, g->exited);
	if (t->binary) {
		jw_name(jw, "replaced"); jw_uint(jw, g->replaced);
	}
	jw_name(jw, "processes");
	jw_start_array(jw);
	for (size_t i = 0; i < g->inst_cnt; i++)
		write_inst_json(&g->inst[i], hooks, jw);
	jw_end_array(jw);
	if (t->comm) {
		jw_name(jw, "failed");
		jw_start_array(jw);
		for (size_t i = 0; i < g->failed_cnt; i++) {
			jw_start_object(jw);
			jw_name(jw, "pid"); jw_uint(jw, (uint64_t)g->failed[i].pid);
			jw_name(jw, "error");
			jw_string(jw, strerror(-g->failed[i].err));
			jw_end_object(jw);
		}
		jw_end_array(jw);
	}
	jw_end_object(jw);
}

/*
 * The daemon's own resources, for the self-audit (a reload must leave
 * them as they were): open fds by kind, as /proc/self/fd names them, and
 * resident memory.
 */
static void write_self_json(struct jw *jw)
{
	static const char *const kinds[] = {
		"anon_inode:bpf_link", "anon_inode:bpf-map", "anon_inode:bpf-prog",
	};
	static const char *const names[] = { "bpf_links", "bpf_maps", "bpf_progs" };
	uint64_t cnt[3] = {}, fds = 0, rss_kb = 0;
	char path[300], target[PATH_MAX], line[256];
	struct dirent *de;
	FILE *f;
	DIR *d;

	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		fds++;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		for (int k = 0; k < 3; k++)
			cnt[k] += !strcmp(target, kinds[k]);
	}
	if (d)
		closedir(d);
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			rss_kb = strtoull(line + 6, NULL, 10);
	if (f)
		fclose(f);
	jw_start_object(jw);
	jw_name(jw, "fds"); jw_uint(jw, fds);
	for (int k = 0; k < 3; k++) {
		jw_name(jw, names[k]);
		jw_uint(jw, cnt[k]);
	}
	jw_name(jw, "rss_kb"); jw_uint(jw, rss_kb);
	jw_end_object(jw);
}

static void write_probes_json(struct serve_state *st, FILE *f)
{
	struct jw *jw = jw_new(f);

	if (!jw)
		return;
	jw_start_object(jw);
	jw_name(jw, "config"); jw_string(jw, st->config_path);
	jw_name(jw, "scrapes"); jw_uint(jw, st->scrapes);
	jw_name(jw, "reloads"); jw_uint(jw, st->reloads);
	jw_name(jw, "reload_failures"); jw_uint(jw, st->reload_failures);
	jw_name(jw, "last_reload_successful"); jw_bool(jw, st->reload_ok);
	jw_name(jw, "self"); write_self_json(jw);
	jw_name(jw, "targets");
	jw_start_array(jw);
	for (size_t i = 0; i < st->group_cnt; i++)
		write_group_json(&st->groups[i], st->hooks, jw);
	jw_end_array(jw);
	jw_end_object(jw);
	jw_end_line(jw);
	jw_free(jw);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* What one client may hold: a Prometheus server keeps one connection,
 * a kubelet's probe one at a time; room to spare, not for a flood. */
#define SERVE_HTTP_PER_PEER	16
/* All clients together (each connection is one fd; the daemon needs
 * ~4 per probed process besides). */
#define SERVE_HTTP_MAX_CONNS	512
/* An idle connection (no byte either way) closes after this many s. */
#define SERVE_HTTP_IDLE_S	10u

struct serve_http {
	struct MHD_Daemon *mhd;
	struct serve_state *st;
	struct serve_peers *peers;
	struct serve_auth *auth;
	bool tls;
	char *cert_pem, *key_pem;	/* copies, while the daemon runs */
};

/* A client connected over loopback (127.0.0.0/8, ::1, ::ffff:127.x). */
static bool loopback_client(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static enum MHD_Result text_reply(struct MHD_Connection *conn,
				  unsigned int status, const char *text)
{
	char *body = strdup(text);

	return body ? reply(conn, status, "text/plain; charset=utf-8", body,
			    strlen(body)) : MHD_NO;
}

/*
 * web: basic_auth_users set: /metrics, /debug/probes and / want a user
 * and password (/healthz never does: a kubelet's probe has none); and
 * /debug/probes answers loopback clients only unless debug_probes: any.
 * false when the request may go on, else its answer (401, 403) was
 * queued: *ret.
 */
static bool refused(struct serve_http *h, struct MHD_Connection *conn,
		    const char *url, enum MHD_Result *ret)
{
	const struct serve_web *w = &h->st->cfg.web;
	const union MHD_ConnectionInfo *ci;
	const struct serve_peer *who;
	char *user, *pass = NULL;
	struct MHD_Response *r;
	double now;
	bool ok;

	if (!strcmp(url, "/debug/probes") && !w->debug_any &&
	    !loopback_client(conn)) {
		*ret = text_reply(conn, MHD_HTTP_FORBIDDEN,
				  "/debug/probes answers loopback clients only (web: debug_probes: any)\n");
		return true;
	}
	if (!w->user_cnt || !strcmp(url, "/healthz"))
		return false;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	who = ci ? ci->socket_context : NULL;
	now = mono_ns() / 1e9;
	user = MHD_basic_auth_get_username_password(conn, &pass);
	ok = user && pass && (!who || !serve_peers__auth_backoff(h->peers, who, now)) &&
	     serve_auth__check(h->auth, w, user, pass);
	if (!ok && user && who)
		serve_peers__auth_failed(h->peers, who, now);
	MHD_free(user);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (ok)
		return false;
	r = MHD_create_response_from_buffer(strlen("unauthorized\n"),
					    (void *)"unauthorized\n",
					    MHD_RESPMEM_PERSISTENT);
	*ret = r ? MHD_queue_basic_auth_fail_response(conn, "gosnoop", r) : MHD_NO;
	if (r)
		MHD_destroy_response(r);
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct serve_http *h = cls;
	struct serve_state *st = h->st;
	const char *type = "text/plain; charset=utf-8";
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return text_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	pthread_mutex_lock(&st->lock);	/* a reload may change cfg.web */
	if (refused(h, conn, url, &ret)) {
		pthread_mutex_unlock(&st->lock);
		fclose(f);
		free(body);
		return ret;
	}
	if (!strcmp(url, "/metrics")) {
		st->scrapes++;
		type = "text/plain; version=0.0.4; charset=utf-8";
		/* protobuf, for native histograms, when asked (serve_native.c) */
		if (serve_native__wanted(MHD_lookup_connection_value(conn,
				MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT)) &&
		    !serve_native__write(st, f))
			type = SERVE_NATIVE_CONTENT_TYPE;
		else
			serve_metrics__write(st, f);
	} else if (!strcmp(url, "/healthz")) {
		fputs("ok\n", f);
	} else if (!strcmp(url, "/debug/probes")) {
		type = "application/json";
		write_probes_json(st, f);
	} else if (!strcmp(url, "/")) {
		fputs("gosnoop serve: /metrics /healthz /debug/probes\n", f);
	} else {
		status = MHD_HTTP_NOT_FOUND;
		fputs("not found: /metrics /healthz /debug/probes\n", f);
	}
	pthread_mutex_unlock(&st->lock);
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return reply(conn, status, type, body, len);
}

/*
 * A connection starts: charge it to its client (uid or IP); over the
 * client's share it is shut down at once (libmicrohttpd reads the end
 * and closes it), before it can hold anything.
 */
static void on_connection(void *cls, struct MHD_Connection *conn,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode what)
{
	struct serve_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct serve_peer *who = *socket_context;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (who)
			serve_peers__give_back(h->peers, who);
		free(who);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	who = malloc(sizeof(*who));
	if (!ci || !who || serve_peers__identify(h->peers, ci->connect_fd, who) ||
	    serve_peers__take(h->peers, who)) {
		free(who);
		if (ci)
			shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	*socket_context = who;
}

/* epoll where libmicrohttpd has it, else poll(): never select(), which
 * cannot wait on an fd numbered 1024 or more (a daemon with hundreds of
 * targets has such fds). */
static unsigned int event_loop_flags(void)
{
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		return MHD_USE_EPOLL_INTERNAL_THREAD;
	return MHD_USE_POLL_INTERNAL_THREAD;
}

/*
 * The libmicrohttpd daemon of h: bound to addr, or on listen_fd (taken
 * over, from a daemon quiesced for a restart); TLS when web has a
 * certificate. 0 or -errno (nothing said).
 */
static int http_open(struct serve_http *h, const struct sockaddr_storage *addr,
		     int listen_fd, const struct serve_web *web)
{
	struct MHD_OptionItem ops[8] = {
		{ MHD_OPTION_CONNECTION_TIMEOUT, SERVE_HTTP_IDLE_S, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, SERVE_HTTP_MAX_CONNS, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h },
	};
	unsigned int flags = event_loop_flags() | MHD_USE_ITC;
	int n = 3;

	if (addr) {
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
						    (void *)addr };
		if (addr->ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
	} else {
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET,
						    listen_fd, NULL };
	}
	free(h->cert_pem);
	free(h->key_pem);
	h->cert_pem = h->key_pem = NULL;
	h->tls = web->cert_pem != NULL;
	if (h->tls) {
		/* copies: the daemon reads them while it runs, and a reload
		 * frees the configuration */
		h->cert_pem = strdup(web->cert_pem);
		h->key_pem = strdup(web->key_pem);
		if (!h->cert_pem || !h->key_pem)
			return -ENOMEM;
		flags |= MHD_USE_TLS;
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
						    h->cert_pem };
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
						    h->key_pem };
	}
	ops[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	return h->mhd ? 0 : -EADDRINUSE;
}

static void http_free(struct serve_http *h)
{
	if (!h)
		return;
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	serve_peers__free(h->peers);
	serve_auth__free(h->auth);
	free(h->cert_pem);
	if (h->key_pem)
		explicit_bzero(h->key_pem, strlen(h->key_pem));
	free(h->key_pem);
	free(h);
}

static int http_new(struct serve_state *st, struct serve_http **out)
{
	struct serve_http *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->st = st;
	if (serve_peers__new(SERVE_HTTP_PER_PEER, &h->peers) ||
	    serve_auth__new(&h->auth)) {
		http_free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

static void say_serving(const struct serve_http *h, const char *listen,
			size_t target_cnt)
{
	const union MHD_DaemonInfo *di;
	const char *colon = strrchr(listen, ':');

	/* the bound port: with :0 the kernel picked it (tests) */
	di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	fprintf(stderr, "%s: serving metrics of %zu targets on http%s://%.*s:%u/metrics\n",
		prog_name, target_cnt, h->tls ? "s" : "",
		(int)(colon - listen), listen, di ? (unsigned)di->port : 0u);
}

int serve_http__start_web(struct serve_state *st, const char *listen,
			  const struct serve_web *web, size_t target_cnt,
			  struct serve_http **out)
{
	struct sockaddr_storage addr;
	struct serve_http *h;
	bool loopback;
	int err;

	*out = NULL;
	if (serve_config__parse_listen(listen, &addr, &loopback)) {
		p_err("bad listen address '%s': give HOST:PORT, e.g. 127.0.0.1:9464",
		      listen);
		return -EINVAL;
	}
	if (web->cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		p_err("web: TLS asked, but this libmicrohttpd was built without it");
		return -EOPNOTSUPP;
	}
	if (!loopback)
		p_warn("listening on %s: not loopback, reachable from other hosts%s",
		       listen, web->user_cnt ? "" : " (no basic_auth_users in web:)");
	err = http_new(st, &h);
	if (err)
		return err;
	err = http_open(h, &addr, -1, web);
	if (err) {
		p_err("cannot listen on %s (%s)", listen, err == -ENOMEM ?
		      strerror(ENOMEM) : web->cert_pem ?
		      "in use, not an address of this host, or a bad certificate or key?" :
		      "in use, or not an address of this host?");
		http_free(h);
		return err;
	}
	say_serving(h, listen, target_cnt);
	*out = h;
	return 0;
}

int serve_http__start(struct serve_state *st, const char *listen,
		      size_t target_cnt, struct serve_http **out)
{
	return serve_http__start_web(st, listen, &st->cfg.web, target_cnt, out);
}

int serve_http__restart(struct serve_http *old, const char *listen,
			const struct serve_web *web, const struct serve_web *old_web,
			size_t target_cnt, struct serve_http **out)
{
	struct serve_http *h;
	MHD_socket fd;
	int err;

	*out = NULL;
	err = http_new(old->st, &h);
	if (err)
		return err;
	/* the listening socket goes over: no moment without one */
	fd = MHD_quiesce_daemon(old->mhd);
	if (fd == MHD_INVALID_SOCKET) {
		http_free(h);
		return -EINVAL;
	}
	err = http_open(h, NULL, fd, web);
	if (err) {
		p_err("web: cannot serve with the new TLS certificate and key (do they belong together?)");
		/* back to the old settings, on the same socket */
		if (http_open(h, NULL, fd, old_web)) {
			close(fd);
			http_free(h);
			return err;
		}
		MHD_stop_daemon(old->mhd);
		old->mhd = NULL;
		*out = h;
		return err;
	}
	MHD_stop_daemon(old->mhd);
	old->mhd = NULL;
	say_serving(h, listen, target_cnt);
	*out = h;
	return 0;
}

void serve_http__stop(struct serve_http *h)
{
	http_free(h);
}
