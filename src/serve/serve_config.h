/* SPDX-License-Identifier: MIT */
/*
 * The YAML configuration of `gosnoop serve` (docs/serve.md):
 *
 *	listen: 127.0.0.1:9464
 *	targets:
 *	buckets: [0.0001, 0.001, 0.01, 0.1, 1]   # optional, seconds
 *	targets:
 *	  - binary: /usr/local/bin/myservice   # or  pid: 1234  or  comm: NAME
 *	    latency: ["main.handle*", "net/http.(*conn).serve"]
 *	    count: ["runtime.mallocgc"]
 *	    sched: true
 *	    labels: {env: prod}
 *	    buckets: [...]                       # overrides the top level
 *	    max_overhead: 1                      # percent; keep: [patterns]
 *
 * Parsed with libyaml's document loader (every node keeps its line), so
 * each error names FILE:LINE.
 */
#ifndef GOSNOOP_SERVE_CONFIG_H
#define GOSNOOP_SERVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Histogram bounds a target can set: the BPF histogram's slots minus the
 * open-ended last one (FP_HIST_SLOTS - 1, checked in serve_probes.c). */
#define SERVE_MAX_BUCKETS	39
/* Collections nested deeper are refused before libyaml loads the file
 * (its scanner slows with the square of the depth). */
#define SERVE_CONFIG_MAX_DEPTH	32
/* /proc/PID/comm holds at most TASK_COMM_LEN - 1 characters. */
#define SERVE_COMM_MAX		15
/* max_overhead: a target's default budget, percent (issue 16) */
#define SERVE_DEFAULT_MAX_OVERHEAD	1.0

struct serve_label {
	char *name;
	char *value;
};

struct serve_target {
	/* exactly one of binary, pid, comm */
	char *binary;		/* binary: PATH */
	pid_t pid;		/* pid: N */
	char *comm;		/* comm: NAME, matched against /proc/PID/comm */
	char **latency;		/* function patterns */
	int latency_cnt;
	char **count;
	int count_cnt;
	bool sched;
	struct serve_label *labels;	/* labels: {name: value}, in order */
	int label_cnt;
	/* buckets: upper bounds in ns, ascending; 0 of them: log2 buckets */
	uint64_t buckets_ns[SERVE_MAX_BUCKETS];
	int bucket_cnt;
	/* max_overhead: percent of the traced process's CPU time the probes
	 * may add (0: off, no budget); a reload applies a change to the
	 * running probes (docs/serve.md "The overhead budget") */
	double max_overhead;
	bool max_overhead_given;
	/* keep: functions the budget never throttles (--keep); a reload
	 * applies a change as it does max_overhead's */
	char **keep;
	int keep_cnt;
	int line;		/* where the target starts, 1-based */
};

/* web: (docs/serve.md "HTTP") */
struct serve_web {
	char *cert_pem;		/* tls_cert_file's contents, or NULL */
	char *key_pem;		/* tls_key_file's */
	struct serve_label *users;	/* basic_auth_users: name, bcrypt hash */
	int user_cnt;
	bool debug_any;		/* debug_probes: any (else loopback only) */
	int line;		/* 0: no web: */
};

struct serve_config {
	char *listen;		/* NULL: not given */
	struct serve_web web;
	struct serve_target *targets;
	size_t target_cnt;
};

/*
 * Read path into cfg. On a bad file, writes "PATH:LINE: what" (no
 * newline, no program name) into err and returns -EINVAL; -errno (with a
 * message in err) when the file cannot be read.
 */
int serve_config__load(const char *path, struct serve_config *cfg,
		       char *err, size_t err_len);
void serve_config__free(struct serve_config *cfg);
/* Same probes, labels and buckets: a reload keeps such a target running. */
bool serve_config__same_target(const struct serve_target *a,
			       const struct serve_target *b);
/* The same processes, labels, buckets and sched: (the probe lists may
 * differ): a reload changes such a target probe by probe. */
bool serve_config__same_processes(const struct serve_target *a,
				  const struct serve_target *b);

/* max_overhead of the targets that do not set it (serve --max-overhead). */
void serve_config__default_max_overhead(struct serve_config *cfg, double pct);

/* The same certificate and key (or both without TLS). */
bool serve_config__same_tls(const struct serve_web *a, const struct serve_web *b);

/* "HOST:PORT" (IPv4 or [IPv6]) -> sockaddr; 0 or -EINVAL. */
struct sockaddr_storage;
int serve_config__parse_listen(const char *s, struct sockaddr_storage *ss,
			       bool *loopback);

#endif
