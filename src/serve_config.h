/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The YAML configuration of `gosnoop serve` (docs/serve.md):
 *
 *	listen: 127.0.0.1:9464
 *	targets:
 *	  - binary: /usr/local/bin/myservice   # or  pid: 1234
 *	    latency: ["main.handle*", "net/http.(*conn).serve"]
 *	    count: ["runtime.mallocgc"]
 *	    sched: true
 *
 * Parsed with libyaml's document loader (every node keeps its line), so
 * each error names FILE:LINE.
 */
#ifndef GOSNOOP_SERVE_CONFIG_H
#define GOSNOOP_SERVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct serve_target {
	char *binary;		/* binary: PATH (NULL with pid) */
	pid_t pid;		/* pid: N (0 with binary) */
	char **latency;		/* function patterns */
	int latency_cnt;
	char **count;
	int count_cnt;
	bool sched;
	int line;		/* where the target starts, 1-based */
};

struct serve_config {
	char *listen;		/* NULL: not given */
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

/* "HOST:PORT" (IPv4 or [IPv6]) -> sockaddr; 0 or -EINVAL. */
struct sockaddr_storage;
int serve_config__parse_listen(const char *s, struct sockaddr_storage *ss,
			       bool *loopback);

#endif
