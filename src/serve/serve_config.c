// SPDX-License-Identifier: MIT
/*
 * `gosnoop serve` configuration: YAML (libyaml document API) into
 * struct serve_config. Unknown keys are errors, not silently ignored: a
 * typo ("latecy:") would otherwise leave a service unmeasured.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "serve_config.h"

struct cfg_ctx {
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 3, 4)))
static int cfg_err(struct cfg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	len = (size_t)snprintf(c->err, c->err_len, "%s:%zu: ", c->path,
			       n ? n->start_mark.line + 1 : 1);
	if (len >= c->err_len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + len, c->err_len - len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
						 : NULL;
}

static int get_string(struct cfg_ctx *c, const char *key, yaml_node_t *v,
		      char **out)
{
	const char *s = scalar(v);

	if (!s || !*s)
		return cfg_err(c, v, "%s: expected a non-empty string", key);
	if (*out)
		return cfg_err(c, v, "%s given twice", key);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* A list of patterns: ["a", "b"], a block list, or one string. */
static int get_patterns(struct cfg_ctx *c, const char *key, yaml_node_t *v,
			char ***out, int *cnt)
{
	yaml_node_item_t *it;
	size_t n;

	if (*out)
		return cfg_err(c, v, "%s given twice", key);
	if (v->type == YAML_SCALAR_NODE) {
		if (!*scalar(v))
			return cfg_err(c, v, "%s: empty pattern", key);
		*out = calloc(2, sizeof(**out));
		if (!*out || !((*out)[0] = strdup(scalar(v))))
			return -ENOMEM;
		*cnt = 1;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_err(c, v, "%s: expected a list of function patterns",
			       key);
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return cfg_err(c, v, "%s: empty list", key);
	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);
		const char *s = scalar(e);

		if (!s || !*s)
			return cfg_err(c, e, "%s: each pattern must be a non-empty string",
				       key);
		(*out)[*cnt] = strdup(s);
		if (!(*out)[*cnt])
			return -ENOMEM;
		(*cnt)++;
	}
	return 0;
}

static int get_bool(struct cfg_ctx *c, const char *key, yaml_node_t *v,
		    bool *out)
{
	const char *s = scalar(v);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")))
		*out = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no") ||
		       !strcmp(s, "off")))
		*out = false;
	else
		return cfg_err(c, v, "%s: expected true or false", key);
	return 0;
}

/*
 * Seconds, written in decimal ("0.0001", "2.5e-3"), to whole ns exactly:
 * no floating point, so a bound is the boundary the kernel compares
 * integer durations with. 0, or -EINVAL (not a number, not a whole number
 * of ns, <= 0, or too large).
 */
static int seconds_to_ns(const char *s, uint64_t *ns)
{
	uint64_t m = 0;
	int digits = 0, frac = 0, exp = 0, e;
	bool dot = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (m > (UINT64_MAX - 9) / 10)
				return -EINVAL;
			m = m * 10 + (uint64_t)(*s - '0');
			digits++;
			frac += dot;
		} else if (*s == '.' && !dot) {
			dot = true;
		} else {
			break;
		}
	}
	if (!digits)
		return -EINVAL;
	if (*s == 'e' || *s == 'E') {
		char *end;
		long x;

		errno = 0;
		x = strtol(s + 1, &end, 10);
		if (errno || end == s + 1 || *end || x < -30 || x > 30)
			return -EINVAL;
		exp = (int)x;
	} else if (*s) {
		return -EINVAL;
	}
	for (e = 9 + exp - frac; e > 0; e--) {
		if (m > UINT64_MAX / 10)
			return -EINVAL;
		m *= 10;
	}
	for (; e < 0; e++) {
		if (m % 10)
			return -EINVAL;
		m /= 10;
	}
	if (!m || m > (uint64_t)INT64_MAX)
		return -EINVAL;
	*ns = m;
	return 0;
}

/* buckets: [0.0001, 0.001, ...]: seconds, strictly increasing. */
static int get_buckets(struct cfg_ctx *c, yaml_node_t *v, uint64_t *ns,
		       int *cnt)
{
	yaml_node_item_t *it;

	if (*cnt)
		return cfg_err(c, v, "buckets given twice");
	if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top ==
					      v->data.sequence.items.start)
		return cfg_err(c, v, "buckets: expected a list of upper bounds in seconds, e.g. [0.001, 0.01, 0.1, 1]");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);
		const char *s = scalar(e);

		if (*cnt == SERVE_MAX_BUCKETS)
			return cfg_err(c, e, "buckets: at most %d bounds (+Inf is implied)",
				       SERVE_MAX_BUCKETS);
		if (!s || seconds_to_ns(s, &ns[*cnt]))
			return cfg_err(c, e, "buckets: '%s' is not a positive number of seconds with whole nanoseconds",
				       s ? s : "");
		if (*cnt && ns[*cnt] <= ns[*cnt - 1])
			return cfg_err(c, e, "buckets: must increase ('%s' does not)", s);
		(*cnt)++;
	}
	return 0;
}

/* Names gosnoop's own series use: an extra label cannot take them. */
static const char *const own_labels[] = {
	"binary", "pid", "function", "le", "kind", "state", "reason",
	"version", "quantile",
	"comm",		/* gosnoop_target_processes of a comm: target */
};

/* [a-zA-Z_][a-zA-Z0-9_]*, and not __*, which Prometheus reserves. */
static bool valid_label_name(const char *s)
{
	if (!s || !*s || isdigit((unsigned char)*s) || !strncmp(s, "__", 2))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* labels: {name: value}: Prometheus label names, not gosnoop's own. */
static int get_labels(struct cfg_ctx *c, yaml_node_t *v,
		      struct serve_label **out, int *cnt)
{
	yaml_node_pair_t *p;
	size_t n;

	if (*out)
		return cfg_err(c, v, "labels given twice");
	if (v->type != YAML_MAPPING_NODE)
		return cfg_err(c, v, "labels: expected a mapping, e.g. {env: prod}");
	n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *e = yaml_document_get_node(c->doc, p->value);
		const char *name = scalar(k), *val = scalar(e);

		if (!valid_label_name(name))
			return cfg_err(c, k, "labels: '%s' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)",
				       name ? name : "");
		for (size_t i = 0; i < sizeof(own_labels) / sizeof(*own_labels); i++)
			if (!strcmp(name, own_labels[i]))
				return cfg_err(c, k, "labels: '%s' is a label gosnoop sets itself", name);
		for (int i = 0; i < *cnt; i++)
			if (!strcmp((*out)[i].name, name))
				return cfg_err(c, k, "labels: '%s' given twice", name);
		if (!val || !*val)
			return cfg_err(c, e, "labels: %s: expected a non-empty string", name);
		(*out)[*cnt].name = strdup(name);
		(*out)[*cnt].value = strdup(val);
		(*cnt)++;
		if (!(*out)[*cnt - 1].name || !(*out)[*cnt - 1].value)
			return -ENOMEM;
	}
	return 0;
}

/* max_overhead: 1, 0.5, "2%", 0 or off (no budget). */
static int get_max_overhead(struct cfg_ctx *c, yaml_node_t *v,
			    struct serve_target *t)
{
	const char *s = scalar(v);
	char *end;
	double pct;

	if (t->max_overhead_given)
		return cfg_err(c, v, "max_overhead given twice");
	t->max_overhead_given = true;
	if (s && !strcmp(s, "off")) {
		t->max_overhead = 0;
		return 0;
	}
	errno = 0;
	pct = s ? strtod(s, &end) : -1;
	if (s && *end == '%')
		end++;
	if (!s || errno || end == s || *end || !(pct >= 0) || pct > 10000)
		return cfg_err(c, v, "max_overhead: expected a percentage of the process's CPU time, e.g. 1 or 0.5, or off (0)");
	t->max_overhead = pct;
	return 0;
}

static int parse_target(struct cfg_ctx *c, yaml_node_t *n,
			struct serve_target *t)
{
	yaml_node_pair_t *p;
	int err;

	t->line = (int)n->start_mark.line + 1;
	t->max_overhead = SERVE_DEFAULT_MAX_OVERHEAD;
	if (n->type != YAML_MAPPING_NODE)
		return cfg_err(c, n, "a target must be a mapping (binary: PATH or pid: N, latency: [...], count: [...])");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k);

		if (!key)
			return cfg_err(c, k, "keys must be plain strings");
		if (!strcmp(key, "binary")) {
			err = get_string(c, key, v, &t->binary);
		} else if (!strcmp(key, "pid")) {
			const char *s = scalar(v);
			char *end;
			long pid;

			errno = 0;
			pid = s ? strtol(s, &end, 10) : 0;
			if (!s || errno || *end || end == s || pid <= 0 ||
			    pid > INT_MAX)
				return cfg_err(c, v, "pid: expected a process ID > 0");
			if (t->pid)
				return cfg_err(c, v, "pid given twice");
			t->pid = (pid_t)pid;
			err = 0;
		} else if (!strcmp(key, "comm")) {
			err = get_string(c, key, v, &t->comm);
			if (!err && strlen(t->comm) > SERVE_COMM_MAX)
				return cfg_err(c, v, "comm: '%s' is longer than the %d characters /proc/PID/comm keeps",
					       t->comm, SERVE_COMM_MAX);
			if (!err && strchr(t->comm, '/'))
				return cfg_err(c, v, "comm: a process name, not a path (use binary: PATH)");
		} else if (!strcmp(key, "labels")) {
			err = get_labels(c, v, &t->labels, &t->label_cnt);
		} else if (!strcmp(key, "buckets")) {
			err = get_buckets(c, v, t->buckets_ns, &t->bucket_cnt);
		} else if (!strcmp(key, "latency")) {
			err = get_patterns(c, key, v, &t->latency, &t->latency_cnt);
		} else if (!strcmp(key, "count")) {
			err = get_patterns(c, key, v, &t->count, &t->count_cnt);
		} else if (!strcmp(key, "sched")) {
			err = get_bool(c, key, v, &t->sched);
		} else if (!strcmp(key, "max_overhead")) {
			err = get_max_overhead(c, v, t);
		} else if (!strcmp(key, "keep")) {
			err = get_patterns(c, key, v, &t->keep, &t->keep_cnt);
		} else {
			return cfg_err(c, k, "unknown target key '%s' (binary, pid, comm, latency, count, sched, labels, buckets, max_overhead, keep)",
				       key);
		}
		if (err)
			return err;
	}
	if (!!t->binary + !!t->pid + !!t->comm == 0)
		return cfg_err(c, n, "a target needs binary: PATH, pid: N or comm: NAME");
	if (!!t->binary + !!t->pid + !!t->comm > 1)
		return cfg_err(c, n, "a target takes one of binary:, pid:, comm:");
	if (t->bucket_cnt && !t->latency)
		return cfg_err(c, n, "buckets: only latency: functions have a histogram");
	if (!t->latency && !t->count && !t->sched)
		return cfg_err(c, n, "a target needs latency: [...], count: [...] or sched: true");
	if (t->keep && !t->latency && !t->count)
		return cfg_err(c, n, "keep: only latency: and count: functions have a budget");
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * Whether a and b would export the same series: the same process(es) and
 * the same labels (in any order). Prometheus rejects a scrape with a
 * series twice. The binary label is the path as written, so two
 * spellings of one path are told apart.
 */
static bool same_series(const struct serve_target *a,
			const struct serve_target *b)
{
	if (a->pid != b->pid || !same_str(a->binary, b->binary) ||
	    !same_str(a->comm, b->comm) || a->label_cnt != b->label_cnt)
		return false;
	for (int i = 0; i < a->label_cnt; i++) {
		int j;

		for (j = 0; j < b->label_cnt; j++)
			if (!strcmp(a->labels[i].name, b->labels[j].name))
				break;
		if (j == b->label_cnt ||
		    strcmp(a->labels[i].value, b->labels[j].value))
			return false;
	}
	return true;
}

/* A PEM file of web:, read now (a reload or a start with a missing or
 * unreadable one fails here, naming the line). */
static int read_pem(struct cfg_ctx *c, const char *key, yaml_node_t *v,
		    char **out)
{
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	FILE *f, *m;
	int err, ch;

	err = get_string(c, key, v, &path);
	if (err)
		return err;
	f = fopen(path, "re");
	if (!f) {
		err = cfg_err(c, v, "%s: cannot read %s: %s", key, path,
			      strerror(errno));
		free(path);
		return err;
	}
	free(path);
	m = open_memstream(&buf, &len);
	while (m && (ch = getc(f)) != EOF)
		putc(ch, m);
	fclose(f);
	if (!m || fclose(m)) {
		free(buf);
		return -ENOMEM;
	}
	if (!strstr(buf, "-----BEGIN ")) {
		free(buf);
		return cfg_err(c, v, "%s: not a PEM file", key);
	}
	*out = buf;
	return 0;
}

/* basic_auth_users: {name: bcrypt hash}, as node_exporter's web config. */
static int get_users(struct cfg_ctx *c, yaml_node_t *v, struct serve_web *w)
{
	yaml_node_pair_t *p;
	size_t n;

	if (v->type != YAML_MAPPING_NODE)
		return cfg_err(c, v, "basic_auth_users: expected a mapping {user: bcrypt hash}");
	n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	w->users = calloc(n + 1, sizeof(*w->users));
	if (!w->users)
		return -ENOMEM;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *h = yaml_document_get_node(c->doc, p->value);
		const char *user = scalar(k), *hash = scalar(h);
		struct serve_label *u = &w->users[w->user_cnt];

		if (!user || !*user || strchr(user, ':'))
			return cfg_err(c, k, "basic_auth_users: a user name is a non-empty string without ':'");
		/* bcrypt only, as node_exporter: $2a$, $2b$ or $2y$, cost */
		if (!hash || strncmp(hash, "$2", 2) || !strchr("aby", hash[2]) ||
		    hash[3] != '$' || strlen(hash) != 60)
			return cfg_err(c, h, "basic_auth_users: %s: not a bcrypt hash ($2b$..., 60 characters; htpasswd -nBC 10 USER makes one)",
				       user);
		for (int i = 0; i < w->user_cnt; i++)
			if (!strcmp(w->users[i].name, user))
				return cfg_err(c, k, "basic_auth_users: %s given twice", user);
		u->name = strdup(user);
		u->value = strdup(hash);
		w->user_cnt++;
		if (!u->name || !u->value)
			return -ENOMEM;
	}
	return 0;
}

/*
 * web: what the HTTP side needs besides an address: TLS (a certificate
 * and its key, PEM files), users allowed /metrics and /debug/probes, and
 * who may read /debug/probes (config paths, PIDs).
 */
static int parse_web(struct cfg_ctx *c, yaml_node_t *key, yaml_node_t *v,
		     struct serve_web *w)
{
	yaml_node_pair_t *p;
	int err = 0;

	if (v->type != YAML_MAPPING_NODE)
		return cfg_err(c, v, "web: expected a mapping (tls_cert_file, tls_key_file, basic_auth_users, debug_probes)");
	w->line = (int)key->start_mark.line + 1;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !err;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *e = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k), *s;

		if (!key)
			return cfg_err(c, k, "keys must be plain strings");
		if (!strcmp(key, "tls_cert_file")) {
			err = read_pem(c, key, e, &w->cert_pem);
		} else if (!strcmp(key, "tls_key_file")) {
			err = read_pem(c, key, e, &w->key_pem);
		} else if (!strcmp(key, "basic_auth_users")) {
			err = get_users(c, e, w);
		} else if (!strcmp(key, "debug_probes")) {
			s = scalar(e);
			if (!s || (strcmp(s, "local") && strcmp(s, "any")))
				return cfg_err(c, e, "debug_probes: 'local' (loopback clients only, the default) or 'any'");
			w->debug_any = !strcmp(s, "any");
		} else {
			return cfg_err(c, k, "unknown web key '%s' (tls_cert_file, tls_key_file, basic_auth_users, debug_probes)",
				       key);
		}
	}
	if (!err && !w->cert_pem != !w->key_pem)
		return cfg_err(c, key, "web: tls_cert_file and tls_key_file go together");
	return err;
}

static int parse_root(struct cfg_ctx *c, struct serve_config *cfg)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	uint64_t buckets[SERVE_MAX_BUCKETS];
	int bucket_cnt = 0;
	yaml_node_pair_t *p;
	int err;

	if (!root)
		return cfg_err(c, NULL, "empty configuration (needs targets:)");
	if (root->type != YAML_MAPPING_NODE)
		return cfg_err(c, root, "the configuration must be a mapping (listen:, targets:)");
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k);

		if (!key)
			return cfg_err(c, k, "keys must be plain strings");
		if (!strcmp(key, "listen")) {
			struct sockaddr_storage ss;
			bool lo;

			err = get_string(c, key, v, &cfg->listen);
			if (err)
				return err;
			if (serve_config__parse_listen(cfg->listen, &ss, &lo))
				return cfg_err(c, v, "listen: expected HOST:PORT, e.g. 127.0.0.1:9464");
		} else if (!strcmp(key, "targets")) {
			yaml_node_item_t *it;
			size_t n;

			if (cfg->targets)
				return cfg_err(c, k, "targets given twice");
			if (v->type != YAML_SEQUENCE_NODE)
				return cfg_err(c, v, "targets: expected a list");
			n = (size_t)(v->data.sequence.items.top -
				     v->data.sequence.items.start);
			if (!n)
				return cfg_err(c, v, "targets: empty list");
			cfg->targets = calloc(n, sizeof(*cfg->targets));
			if (!cfg->targets)
				return -ENOMEM;
			for (it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *tn = yaml_document_get_node(c->doc, *it);
				struct serve_target *t =
					&cfg->targets[cfg->target_cnt++];

				err = parse_target(c, tn, t);
				if (err)
					return err;
				for (size_t j = 0; j + 1 < cfg->target_cnt; j++)
					if (same_series(&cfg->targets[j], t))
						return cfg_err(c, tn, "same target as line %d: their series would collide; merge them, or tell them apart with labels:",
							       cfg->targets[j].line);
			}
		} else if (!strcmp(key, "buckets")) {
			err = get_buckets(c, v, buckets, &bucket_cnt);
			if (err)
				return err;
		} else if (!strcmp(key, "web")) {
			if (cfg->web.line)
				return cfg_err(c, k, "web given twice");
			err = parse_web(c, k, v, &cfg->web);
			if (err)
				return err;
		} else {
			return cfg_err(c, k, "unknown key '%s' (listen, buckets, web, targets)", key);
		}
	}
	if (!cfg->targets)
		return cfg_err(c, root, "no targets: list what to probe");
	/* the top-level buckets: are every target's default */
	for (size_t i = 0; i < cfg->target_cnt; i++) {
		struct serve_target *t = &cfg->targets[i];

		if (t->bucket_cnt || !bucket_cnt)
			continue;
		memcpy(t->buckets_ns, buckets, sizeof(buckets));
		t->bucket_cnt = bucket_cnt;
	}
	return 0;
}

/* path opened for reading if it is a regular file, else NULL and *err:
 * a FIFO (or a device) given as the config would block the open, or the
 * read, until a writer came; serve must not hang at start or reload. */
static FILE *open_regular(const char *path, int *err)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		*err = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*err = -errno;
		close(fd);
	}
	return f;
}

/*
 * The configuration is four levels deep; libyaml has no limit, and its
 * scanner's work grows with the square of the nesting (100 000 '[' took
 * two CPU-minutes). So the events are read first, up to the first one
 * too deep, and only a file that passes goes to the document loader.
 * 0, -EINVAL with FILE:LINE in err, or -ENOMEM.
 */
static int check_depth(FILE *f, const char *path, char *err, size_t err_len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, ret = 0;
	bool done = false;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_len, "%s: out of memory", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	while (!done && !ret) {
		if (!yaml_parser_parse(&parser, &ev))
			break;	/* the loader names the syntax error */
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			 ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		done = ev.type == YAML_STREAM_END_EVENT;
		if (depth > SERVE_CONFIG_MAX_DEPTH) {
			snprintf(err, err_len, "%s:%zu: nested more than %d levels deep (the configuration needs 4)",
				 path, ev.start_mark.line + 1, SERVE_CONFIG_MAX_DEPTH);
			ret = -EINVAL;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!ret && fseek(f, 0, SEEK_SET)) {
		ret = -errno;
		snprintf(err, err_len, "cannot read %s: %s", path, strerror(-ret));
	}
	return ret;
}

int serve_config__load(const char *path, struct serve_config *cfg,
		       char *err, size_t err_len)
{
	struct cfg_ctx c = { .path = path, .err = err, .err_len = err_len };
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	f = open_regular(path, &ret);
	if (!f) {
		snprintf(err, err_len, "cannot read %s: %s", path,
			 ret == -EINVAL ? "not a regular file" : strerror(-ret));
		return ret;
	}
	ret = check_depth(f, path, err, err_len);
	if (ret) {
		fclose(f);
		return ret;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, err_len, "%s: out of memory", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_len, "%s:%zu: %s%s%s", path,
			 parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "invalid YAML",
			 parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	c.doc = &doc;
	ret = parse_root(&c, cfg);
	if (ret == -ENOMEM)
		snprintf(err, err_len, "%s: out of memory", path);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (ret)
		serve_config__free(cfg);
	return ret;
}

static void free_list(char **l, int n)
{
	for (int i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
}

static void free_web(struct serve_web *w)
{
	for (int i = 0; i < w->user_cnt; i++) {
		free(w->users[i].name);
		free(w->users[i].value);
	}
	free(w->users);
	free(w->cert_pem);
	if (w->key_pem)
		explicit_bzero(w->key_pem, strlen(w->key_pem));
	free(w->key_pem);
}

bool serve_config__same_tls(const struct serve_web *a, const struct serve_web *b)
{
	return same_str(a->cert_pem, b->cert_pem) && same_str(a->key_pem, b->key_pem);
}

void serve_config__free(struct serve_config *cfg)
{
	free_web(&cfg->web);
	for (size_t i = 0; i < cfg->target_cnt; i++) {
		free(cfg->targets[i].binary);
		free(cfg->targets[i].comm);
		for (int l = 0; l < cfg->targets[i].label_cnt; l++) {
			free(cfg->targets[i].labels[l].name);
			free(cfg->targets[i].labels[l].value);
		}
		free(cfg->targets[i].labels);
		free_list(cfg->targets[i].latency, cfg->targets[i].latency_cnt);
		free_list(cfg->targets[i].count, cfg->targets[i].count_cnt);
		free_list(cfg->targets[i].keep, cfg->targets[i].keep_cnt);
	}
	free(cfg->targets);
	free(cfg->listen);
	memset(cfg, 0, sizeof(*cfg));
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

void serve_config__default_max_overhead(struct serve_config *cfg, double pct)
{
	for (size_t i = 0; i < cfg->target_cnt; i++)
		if (!cfg->targets[i].max_overhead_given)
			cfg->targets[i].max_overhead = pct;
}

bool serve_config__same_target(const struct serve_target *a,
			       const struct serve_target *b)
{
	return serve_config__same_processes(a, b) &&
	       same_list(a->latency, a->latency_cnt, b->latency, b->latency_cnt) &&
	       same_list(a->count, a->count_cnt, b->count, b->count_cnt);
}

bool serve_config__same_processes(const struct serve_target *a,
				  const struct serve_target *b)
{
	if (!same_str(a->binary, b->binary) || a->pid != b->pid ||
	    !same_str(a->comm, b->comm) || a->sched != b->sched ||
	    a->label_cnt != b->label_cnt || a->bucket_cnt != b->bucket_cnt ||
	    memcmp(a->buckets_ns, b->buckets_ns,
		   (size_t)a->bucket_cnt * sizeof(*a->buckets_ns)))
		return false;
	for (int i = 0; i < a->label_cnt; i++)
		if (strcmp(a->labels[i].name, b->labels[i].name) ||
		    strcmp(a->labels[i].value, b->labels[i].value))
			return false;
	return true;
}

int serve_config__parse_listen(const char *s, struct sockaddr_storage *ss,
			       bool *loopback)
{
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {	/* [::1]:9464 */
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = 0;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (!hl || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = 0;
		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}
