// SPDX-License-Identifier: GPL-2.0
/*
 * gosnoop serve: a daemon that keeps count/latency probes attached to Go
 * services (configured in YAML, src/serve_config.c) and exports what they
 * aggregate in the kernel as Prometheus text on /metrics (libmicrohttpd),
 * with /healthz and /debug/probes (JSON). docs/serve.md.
 *
 * Threads: main sets up, then sleeps until SIGTERM/SIGINT; libmicrohttpd's
 * one internal thread answers requests one at a time and only reads the
 * BPF maps, so nothing is shared that changes while serving. Stopping
 * ends the HTTP thread first, then detaches.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cmd.h"
#include "common.h"
#include "gobin.h"
#include "json_writer.h"
#include "serve_config.h"
#include "serve_probes.h"
#include "probe/funcprobe.h"

#ifndef GOSNOOP_VERSION
#define GOSNOOP_VERSION "0.1.0"	/* as src/main.c */
#endif

#define DEFAULT_LISTEN "127.0.0.1:9464"

struct serve_state {
	/* cfg, tps and tp_cnt change on reload (main thread) under lock;
	 * the HTTP thread reads them under it */
	pthread_mutex_t lock;
	struct serve_config cfg;
	const char *config_path;
	struct serve_tp **tps;
	size_t tp_cnt;
	double start_time;		/* CLOCK_REALTIME seconds */
	uint64_t scrapes;
	bool reload_ok;			/* the last reload worked */
	double reload_time;		/* when (start counts as one) */
	uint64_t reloads, reload_failures;
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
		"Usage: %s serve --config FILE [--listen HOST:PORT]\n"
		"Keep count/latency probes on Go services and export them to\n"
		"Prometheus: /metrics, /healthz, /debug/probes (JSON).\n\n"
		"  -c, --config FILE     YAML configuration (docs/serve.md)\n"
		"  -l, --listen HOST:PORT  where to listen (default: the config's\n"
		"                        listen:, else %s; loopback unless\n"
		"                        given otherwise)\n"
		"  -v, --verbose         probe sites, attach and detach times\n"
		"Stops on SIGTERM or SIGINT (detaches, exit 0). An invalid\n"
		"configuration is reported as FILE:LINE, exit 2.\n",
		prog_name, DEFAULT_LISTEN);
}

/* A label value: \, " and newline escaped (Prometheus text format). */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_labels(FILE *f, struct serve_tp *tp, const char *func)
{
	fputs("binary=\"", f);
	put_label(f, serve_tp__binary(tp));
	fputc('"', f);
	if (serve_tp__pid(tp))
		fprintf(f, ",pid=\"%d\"", (int)serve_tp__pid(tp));
	if (func) {
		fputs(",function=\"", f);
		put_label(f, func);
		fputc('"', f);
	}
}

/* ns as exact decimal seconds: 1023 -> "0.000001023" (no float noise). */
static void put_seconds(FILE *f, uint64_t ns)
{
	char frac[16];
	int len;

	len = snprintf(frac, sizeof(frac), "%09" PRIu64,
		       (uint64_t)(ns % 1000000000ULL));
	while (len > 0 && frac[len - 1] == '0')
		frac[--len] = 0;
	if (len)
		fprintf(f, "%" PRIu64 ".%s", (uint64_t)(ns / 1000000000ULL), frac);
	else
		fprintf(f, "%" PRIu64, (uint64_t)(ns / 1000000000ULL));
}

static void write_metrics(struct serve_state *st, FILE *f)
{
	fputs("# HELP gosnoop_build_info gosnoop's version.\n"
	      "# TYPE gosnoop_build_info gauge\n", f);
	fprintf(f, "gosnoop_build_info{version=\"%s\"} 1\n", GOSNOOP_VERSION);

	fputs("# HELP gosnoop_probes_attached Functions probed, per target and kind (count, latency).\n"
	      "# TYPE gosnoop_probes_attached gauge\n", f);
	for (size_t i = 0; i < st->tp_cnt; i++) {
		static const char *const kinds[] = { "count", "latency" };

		for (int k = 0; k < SERVE_NKINDS; k++) {
			const struct funcprobe *fp = serve_tp__plan(st->tps[i], k);

			if (!fp)
				continue;
			fputs("gosnoop_probes_attached{", f);
			put_labels(f, st->tps[i], NULL);
			fprintf(f, ",kind=\"%s\"} %zu\n", kinds[k],
				funcprobe__cnt(fp));
		}
	}

	fputs("# HELP gosnoop_function_calls_total Calls of each Go function, counted in the kernel at its entry.\n"
	      "# TYPE gosnoop_function_calls_total counter\n", f);
	for (size_t i = 0; i < st->tp_cnt; i++) {
		const struct funcprobe *fp = serve_tp__plan(st->tps[i], SERVE_COUNT);

		for (size_t fid = 0; fp && fid < funcprobe__cnt(fp); fid++) {
			uint64_t n;

			if (serve_tp__calls(st->tps[i], fid, &n))
				continue;
			fputs("gosnoop_function_calls_total{", f);
			put_labels(f, st->tps[i], funcprobe__func(fp, fid)->name);
			fprintf(f, "} %" PRIu64 "\n", n);
		}
	}

	/*
	 * The kernel's log2 slot i holds [2^i, 2^(i+1)) ns, in whole ns, so
	 * its le is 2^(i+1)-1 ns; the last slot is open-ended (+Inf). The
	 * count is the buckets' sum (calls that returned and were paired).
	 */
	fputs("# HELP gosnoop_function_duration_seconds Duration of returned calls of each Go function (log2 buckets).\n"
	      "# TYPE gosnoop_function_duration_seconds histogram\n", f);
	for (size_t i = 0; i < st->tp_cnt; i++) {
		const struct funcprobe *fp = serve_tp__plan(st->tps[i], SERVE_LATENCY);

		for (size_t fid = 0; fp && fid < funcprobe__cnt(fp); fid++) {
			const char *name = funcprobe__func(fp, fid)->name;
			struct fp_hist h;
			uint64_t cum = 0; /* cumulative */

			if (serve_tp__hist(st->tps[i], fid, &h))
				continue;
			for (int s = 0; s < FP_HIST_SLOTS - 1; s++) {
				cum += (uint64_t)h.slots[s];
				fputs("gosnoop_function_duration_seconds_bucket{", f);
				put_labels(f, st->tps[i], name);
				fputs(",le=\"", f);
				put_seconds(f, (1ULL << (s + 1)) - 1);
				fprintf(f, "\"} %" PRIu64 "\n", cum);
			}
			cum += (uint64_t)h.slots[FP_HIST_SLOTS - 1];
			fputs("gosnoop_function_duration_seconds_bucket{", f);
			put_labels(f, st->tps[i], name);
			fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
			fputs("gosnoop_function_duration_seconds_sum{", f);
			put_labels(f, st->tps[i], name);
			fputs("} ", f);
			put_seconds(f, h.sum_ns);
			fputs("\ngosnoop_function_duration_seconds_count{", f);
			put_labels(f, st->tps[i], name);
			fprintf(f, "} %" PRIu64 "\n", cum);
		}
	}
	fputs("# HELP gosnoop_config_last_reload_successful Whether the last configuration (re)load worked.\n"
	      "# TYPE gosnoop_config_last_reload_successful gauge\n", f);
	fprintf(f, "gosnoop_config_last_reload_successful %d\n", st->reload_ok);
	fputs("# HELP gosnoop_config_last_reload_success_timestamp_seconds When the configuration last loaded.\n"
	      "# TYPE gosnoop_config_last_reload_success_timestamp_seconds gauge\n", f);
	fprintf(f, "gosnoop_config_last_reload_success_timestamp_seconds %.3f\n",
		st->reload_time);
	fputs("# HELP gosnoop_start_time_seconds When the daemon started (Unix time).\n"
	      "# TYPE gosnoop_start_time_seconds gauge\n", f);
	fprintf(f, "gosnoop_start_time_seconds %.3f\n", st->start_time);
}

static void write_probes_json(struct serve_state *st, FILE *f)
{
	static const char *const kinds[] = { "count", "latency" };
	static const char *const stat_names[FP_NSTATS] = {
		"entries", "morestack_skipped", "paired", "unpaired_returns",
		"stale_entries", "re_entries", "too_deep", "read_failures",
		"map_full",
	};
	struct jw *jw = jw_new(f);

	if (!jw)
		return;
	jw_start_object(jw);
	jw_name(jw, "config"); jw_string(jw, st->config_path);
	jw_name(jw, "scrapes"); jw_uint(jw, st->scrapes);
	jw_name(jw, "reloads"); jw_uint(jw, st->reloads);
	jw_name(jw, "reload_failures"); jw_uint(jw, st->reload_failures);
	jw_name(jw, "last_reload_successful"); jw_bool(jw, st->reload_ok);
	jw_name(jw, "targets");
	jw_start_array(jw);
	for (size_t i = 0; i < st->tp_cnt; i++) {
		struct serve_tp *tp = st->tps[i];
		uint64_t stats[FP_NSTATS];

		jw_start_object(jw);
		jw_name(jw, "binary"); jw_string(jw, serve_tp__binary(tp));
		if (serve_tp__pid(tp)) {
			jw_name(jw, "pid"); jw_uint(jw, (uint64_t)serve_tp__pid(tp));
		}
		jw_name(jw, "mode"); jw_string(jw, serve_tp__mode(tp));
		for (int k = 0; k < SERVE_NKINDS; k++) {
			const struct funcprobe *fp = serve_tp__plan(tp, k);

			if (!fp)
				continue;
			jw_name(jw, kinds[k]);
			jw_start_object(jw);
			jw_name(jw, "sites"); jw_uint(jw, serve_tp__sites(tp, k));
			jw_name(jw, "functions");
			jw_start_array(jw);
			for (size_t fid = 0; fid < funcprobe__cnt(fp); fid++) {
				const struct fp_func *ff = funcprobe__func(fp, fid);

				jw_start_object(jw);
				jw_name(jw, "func"); jw_string(jw, ff->name);
				jw_name(jw, "entry"); jw_hex(jw, ff->entry_site);
				jw_name(jw, "rets"); jw_uint(jw, ff->ret_cnt);
				jw_end_object(jw);
			}
			jw_end_array(jw);
			jw_name(jw, "skipped");
			jw_start_array(jw);
			for (size_t s = 0; s < funcprobe__skipped_cnt(fp); s++) {
				const struct fp_skipped *sk = funcprobe__skipped(fp, s);

				jw_start_object(jw);
				jw_name(jw, "func"); jw_string(jw, sk->f->name);
				jw_name(jw, "reason"); jw_string(jw, sk->reason);
				jw_end_object(jw);
			}
			jw_end_array(jw);
			if (k == SERVE_LATENCY) {
				serve_tp__lat_stats(tp, stats);
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
		jw_end_object(jw);
	}
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct serve_state *st = cls;
	const char *type = "text/plain; charset=utf-8";
	unsigned int status = MHD_HTTP_OK;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		body = strdup("only GET\n");
		return body ? reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, type,
				    body, strlen(body)) : MHD_NO;
	}
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	pthread_mutex_lock(&st->lock);
	if (!strcmp(url, "/metrics")) {
		st->scrapes++;
		type = "text/plain; version=0.0.4; charset=utf-8";
		write_metrics(st, f);
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

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool same_list(char **a, int an, char **b, int bn)
{
	if (an != bn)
		return false;
	for (int i = 0; i < an; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

/* Same probes: then a reload keeps them attached, counters and all. */
static bool same_target(const struct serve_target *a,
			const struct serve_target *b)
{
	if (!!a->binary != !!b->binary ||
	    (a->binary && strcmp(a->binary, b->binary)) || a->pid != b->pid ||
	    a->sched != b->sched)
		return false;
	return same_list(a->latency, a->latency_cnt, b->latency, b->latency_cnt) &&
	       same_list(a->count, a->count_cnt, b->count, b->count_cnt);
}

/*
 * SIGHUP: read the file again; targets whose probes are unchanged keep
 * their serve_tp (still attached, counters intact), new ones are started,
 * removed ones detached. Anything wrong (bad file, a target that cannot
 * start) leaves the running configuration exactly as it was.
 */
static void reload(struct serve_state *st)
{
	struct serve_config ncfg;
	struct serve_tp **ntps;
	bool *kept;
	size_t n_kept = 0, n_new = 0;
	char msg[512], why[600];
	int err;

	pthread_mutex_lock(&st->lock);
	st->reloads++;
	pthread_mutex_unlock(&st->lock);
	err = serve_config__load(st->config_path, &ncfg, msg, sizeof(msg));
	if (err) {
		snprintf(why, sizeof(why), "%s", msg);
		goto failed;
	}
	if (ncfg.listen && (!st->cfg.listen || strcmp(ncfg.listen, st->cfg.listen)))
		p_warn("reload: a new listen: takes a restart; still listening where started");
	ntps = calloc(ncfg.target_cnt, sizeof(*ntps));
	kept = calloc(st->tp_cnt ? st->tp_cnt : 1, sizeof(*kept));
	if (!ntps || !kept) {
		free(ntps);
		free(kept);
		serve_config__free(&ncfg);
		snprintf(why, sizeof(why), "out of memory");
		goto failed;
	}
	for (size_t i = 0; i < ncfg.target_cnt; i++) {
		for (size_t j = 0; j < st->tp_cnt; j++) {
			if (!kept[j] && same_target(&st->cfg.targets[j],
						    &ncfg.targets[i])) {
				kept[j] = true;
				ntps[i] = st->tps[j];
				n_kept++;
				break;
			}
		}
		if (ntps[i])
			continue;
		err = serve_tp__start(&ncfg.targets[i], &ntps[i]);
		if (err) {
			snprintf(why, sizeof(why), "%s:%d: cannot start this target",
				 st->config_path, ncfg.targets[i].line);
			/* undo: stop only what this reload started */
			for (size_t k = 0; k < i; k++) {
				bool reused = false;

				for (size_t j = 0; j < st->tp_cnt; j++)
					reused |= ntps[k] == st->tps[j];
				if (!reused)
					serve_tp__stop(ntps[k]);
			}
			free(ntps);
			free(kept);
			serve_config__free(&ncfg);
			goto failed;
		}
		n_new++;
	}
	pthread_mutex_lock(&st->lock);
	for (size_t j = 0; j < st->tp_cnt; j++)
		if (!kept[j])
			serve_tp__stop(st->tps[j]);
	/* said before the unlock: whoever reads it then sees the new state */
	fprintf(stderr, "%s: reloaded %s: %zu targets (%zu kept, %zu new, %zu removed)\n",
		prog_name, st->config_path, ncfg.target_cnt, n_kept, n_new,
		st->tp_cnt - n_kept);
	free(st->tps);
	free(kept);
	/* listen: stays what the daemon was started with */
	free(ncfg.listen);
	ncfg.listen = st->cfg.listen;
	st->cfg.listen = NULL;
	serve_config__free(&st->cfg);
	st->cfg = ncfg;
	st->tps = ntps;
	st->tp_cnt = ncfg.target_cnt;
	st->reload_ok = true;
	st->reload_time = real_s();
	pthread_mutex_unlock(&st->lock);
	return;
failed:
	/* state first, then the message: a scrape prompted by the message
	 * must already see the failure */
	pthread_mutex_lock(&st->lock);
	st->reload_ok = false;
	st->reload_failures++;
	pthread_mutex_unlock(&st->lock);
	p_warn("reload failed, keeping the running configuration: %s", why);
}

static void stop_targets(struct serve_state *st)
{
	for (size_t i = 0; i < st->tp_cnt; i++)
		serve_tp__stop(st->tps[i]);
	free(st->tps);
	st->tps = NULL;
	st->tp_cnt = 0;
}

int do_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct serve_state st = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct sockaddr_storage addr;
	struct MHD_Daemon *httpd = NULL;
	struct sigaction sa = {};
	const char *listen_arg = NULL, *listen;
	char err_msg[512];
	bool loopback;
	int c, err, ret = EXIT_FAIL;

	optind = 0;
	while ((c = getopt_long(argc, argv, "c:l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			st.config_path = optarg;
			break;
		case 'l':
			listen_arg = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		p_err("serve: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!st.config_path) {
		p_err("serve: no configuration: give --config FILE (docs/serve.md)");
		return EXIT_USAGE;
	}
	err = serve_config__load(st.config_path, &st.cfg, err_msg,
				 sizeof(err_msg));
	if (err) {
		p_err("%s", err_msg);
		return err == -EINVAL ? EXIT_USAGE : exit_code_for(err);
	}
	listen = listen_arg ?: st.cfg.listen ?: DEFAULT_LISTEN;
	if (serve_config__parse_listen(listen, &addr, &loopback)) {
		p_err("bad --listen '%s': give HOST:PORT, e.g. %s", listen,
		      DEFAULT_LISTEN);
		ret = EXIT_USAGE;
		goto out;
	}
	if (!loopback)
		p_warn("listening on %s: not loopback, reachable from other hosts",
		       listen);
	for (size_t i = 0; i < st.cfg.target_cnt; i++)
		if (st.cfg.targets[i].sched)
			p_warn("%s:%d: sched: not exported by serve yet (ignored)",
			       st.config_path, st.cfg.targets[i].line);

	/* Signals before attaching: a SIGTERM during a slow attach must
	 * still end in a clean detach. SIGHUP must not kill the daemon. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	st.tps = calloc(st.cfg.target_cnt, sizeof(*st.tps));
	if (!st.tps)
		goto out;
	for (size_t i = 0; i < st.cfg.target_cnt && !exiting; i++) {
		err = serve_tp__start(&st.cfg.targets[i], &st.tps[st.tp_cnt]);
		if (err) {
			p_err("%s:%d: cannot start this target", st.config_path,
			      st.cfg.targets[i].line);
			ret = exit_code_for(err);
			goto out;
		}
		st.tp_cnt++;
	}
	st.start_time = real_s();
	st.reload_ok = true;
	st.reload_time = st.start_time;

	httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
				 (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				 0, NULL, NULL, on_request, &st,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				 MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				 MHD_OPTION_END);
	if (!httpd) {
		p_err("cannot listen on %s (in use, or not an address of this host?)",
		      listen);
		goto out;
	}
	{
		/* the bound port: with :0 the kernel picked it (tests) */
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
		const char *colon = strrchr(listen, ':');

		fprintf(stderr, "%s: serving metrics of %zu targets on http://%.*s:%u/metrics\n",
			prog_name, st.tp_cnt, (int)(colon - listen), listen,
			di ? (unsigned)di->port : 0u);
	}
	while (!exiting) {
		usleep(50 * 1000);
		if (hup_seen) {
			hup_seen = 0;
			reload(&st);
		}
	}
	ret = EXIT_OK;
out:
	if (httpd)
		MHD_stop_daemon(httpd);
	stop_targets(&st);
	serve_config__free(&st.cfg);
	return ret;
}
