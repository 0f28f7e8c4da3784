// SPDX-License-Identifier: MIT
/*
 * /metrics as delimited io.prometheus.client.MetricFamily messages
 * (serve_native.h), converted from the text serve_metrics.c writes, with
 * native histograms for the kernel's log2 histograms.
 *
 * How log2 slots map onto a native histogram of schema 0. Slot k holds
 * the durations of [2^k, 2^(k+1)) whole ns; schema 0's bucket i holds
 * values of (2^(i-1), 2^i] seconds. A nanosecond is 2^-29.897 s, so the
 * two grids never line up: each slot k >= 1 straddles the boundary
 * 2^(k-29) s, with ~90% of its (log) width below it. Slot k is sent as
 * bucket i = k - 29, the one holding most of it: every duration in it
 * is above the bucket's lower bound (2^k ns > 2^(i-1) s), and at most
 * 7.4% above its upper bound ((2^(k+1) - 1) ns < 1.074 * 2^i s). Slot 0
 * (0 and 1 ns) is the zero bucket, threshold 1 ns: exact. The last slot
 * (everything from 2^last ns on) goes to its bucket like the others.
 * Nothing is spread over finer buckets: schema 0 is as coarse as the
 * data. The exact log2 bounds go along as the classic buckets, and
 * configured buckets (any other bounds) only as those.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protobuf.h"
#include "serve.h"
#include "serve_native.h"

/* io.prometheus.client (metrics.proto) field numbers */
enum {
	MF_NAME = 1, MF_HELP = 2, MF_TYPE = 3, MF_METRIC = 4,
	M_LABEL = 1, M_GAUGE = 2, M_COUNTER = 3, M_UNTYPED = 5, M_HISTOGRAM = 7,
	LP_NAME = 1, LP_VALUE = 2,
	VALUE = 1,		/* Gauge, Counter, Untyped */
	H_COUNT = 1, H_SUM = 2, H_BUCKET = 3, H_SCHEMA = 5, H_ZERO_THRESHOLD = 6,
	H_ZERO_COUNT = 7, H_POS_SPAN = 12, H_POS_DELTA = 13,
	B_CUMULATIVE = 1, B_UPPER = 2,
	SPAN_OFFSET = 1, SPAN_LENGTH = 2,
};
enum mf_type { T_COUNTER = 0, T_GAUGE = 1, T_UNTYPED = 3, T_HISTOGRAM = 4 };

#define MAX_BUCKETS	64
#define MAX_LABELS	32
/* slot k -> schema-0 bucket k - 29 (1 ns = 2^-29.897 s: see the top) */
#define NS_SCHEMA0_SHIFT	29

struct nat_hist {
	size_t n;			/* buckets, +Inf included */
	double le[MAX_BUCKETS];		/* seconds; +Inf last */
	uint64_t le_ns[MAX_BUCKETS];	/* exact, when exact[] */
	bool exact[MAX_BUCKETS];
	uint64_t cum[MAX_BUCKETS];
	double sum;
};

struct nat_label {
	const char *name;
	size_t name_len;
	char *value;			/* unescaped, in nat_sample.scratch */
};

struct nat_sample {
	char name[256];
	struct nat_label labels[MAX_LABELS];
	size_t label_cnt;
	double value;
	char scratch[4096];
};

struct nat_family {
	struct pb_buf pb;		/* the MetricFamily being built */
	enum mf_type type;
	size_t metrics;
	struct nat_hist h;
	struct nat_sample s;		/* the line being read */
};

bool serve_native__wanted(const char *accept)
{
	const char *p = accept;

	/* each media range: type; params; q=... up to the next comma */
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char range[512];
		const char *q;

		if (n < sizeof(range)) {
			memcpy(range, p, n);
			range[n] = 0;
			q = strstr(range, "q=");
			if (strstr(range, "application/vnd.google.protobuf") &&
			    strstr(range, "proto=io.prometheus.client.MetricFamily") &&
			    strstr(range, "encoding=delimited") &&
			    (!q || strtod(q + 2, NULL) > 0))
				return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* "0.000001023" -> 1023: decimal seconds with at most 9 decimals. */
static bool exact_ns(const char *s, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		whole = whole * 10 + (uint64_t)(*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9' && digits < 9; s++, digits++)
			frac = frac * 10 + (uint64_t)(*s - '0');
	if (*s)
		return false;
	for (; digits < 9; digits++)
		frac *= 10;
	*ns = whole * 1000000000ULL + frac;
	return true;
}

/* Parse `name{a="x",b="y"} value` (values unescaped into scratch). */
static int parse_sample(const char *line, struct nat_sample *s)
{
	const char *p = line;
	char *out = s->scratch, *out_end = s->scratch + sizeof(s->scratch) - 1;
	size_t n = strcspn(p, "{ ");

	if (!n || n >= sizeof(s->name))
		return -EINVAL;
	memcpy(s->name, p, n);
	s->name[n] = 0;
	p += n;
	s->label_cnt = 0;
	if (*p == '{') {
		p++;
		while (*p && *p != '}') {
			struct nat_label *l = &s->labels[s->label_cnt];

			if (s->label_cnt == MAX_LABELS)
				return -EINVAL;
			l->name = p;
			l->name_len = strcspn(p, "=");
			p += l->name_len;
			if (p[0] != '=' || p[1] != '"')
				return -EINVAL;
			p += 2;
			l->value = out;
			for (; *p && *p != '"' && out < out_end; p++) {
				if (*p == '\\' && p[1]) {
					p++;
					*out++ = *p == 'n' ? '\n' : *p;
				} else {
					*out++ = *p;
				}
			}
			if (*p != '"')
				return -EINVAL;
			*out++ = 0;
			p++;
			if (*p == ',')
				p++;
			s->label_cnt++;
		}
		if (*p++ != '}')
			return -EINVAL;
	}
	if (*p != ' ')
		return -EINVAL;
	s->value = strtod(p + 1, NULL);
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void put_labels(struct pb_buf *pb, const struct nat_sample *s,
		       bool skip_le)
{
	for (size_t i = 0; i < s->label_cnt; i++) {
		const struct nat_label *l = &s->labels[i];
		pb_mark m;

		if (skip_le && l->name_len == 2 && !strncmp(l->name, "le", 2))
			continue;
		m = pb_begin(pb, M_LABEL);
		pb_bytes(pb, LP_NAME, l->name, l->name_len);
		pb_string(pb, LP_VALUE, l->value);
		pb_end(pb, m);
	}
}

/* The kernel's log2 bounds: le k is 2^(k+1)-1 ns, +Inf last. */
static bool is_log2(const struct nat_hist *h)
{
	if (h->n < 2 || h->le[h->n - 1] != INFINITY)
		return false;
	for (size_t k = 0; k + 1 < h->n; k++)
		if (!h->exact[k] || h->le_ns[k] != (1ULL << (k + 1)) - 1)
			return false;
	return true;
}

/* Native buckets from log2 slots (see the top): zero bucket = slot 0,
 * slot k >= 1 -> bucket k - 29, one span over the used ones. */
static void put_native(struct pb_buf *pb, const struct nat_hist *h)
{
	uint64_t slot[MAX_BUCKETS];
	int64_t delta[MAX_BUCKETS];
	size_t first = 0, last = 0, n = 0;
	uint64_t prev = 0;
	pb_mark m;

	for (size_t k = 0; k < h->n; k++)
		slot[k] = h->cum[k] - (k ? h->cum[k - 1] : 0);
	pb_sint(pb, H_SCHEMA, 0);
	pb_double(pb, H_ZERO_THRESHOLD, 1e-9);
	pb_uint(pb, H_ZERO_COUNT, slot[0]);
	for (size_t k = 1; k < h->n; k++) {
		if (!slot[k])
			continue;
		if (!first)
			first = k;
		last = k;
	}
	m = pb_begin(pb, H_POS_SPAN);
	if (first) {	/* else a no-op span: native, with no observations */
		pb_sint(pb, SPAN_OFFSET, (int64_t)first - NS_SCHEMA0_SHIFT);
		pb_uint(pb, SPAN_LENGTH, last - first + 1);
	}
	pb_end(pb, m);
	for (size_t k = first; first && k <= last; k++) {
		delta[n++] = (int64_t)(slot[k] - prev);
		prev = slot[k];
	}
	pb_packed_sint(pb, H_POS_DELTA, delta, n);
}

static void put_histogram(struct nat_family *f, const struct nat_sample *count)
{
	struct pb_buf *pb = &f->pb;
	const struct nat_hist *h = &f->h;
	pb_mark m = pb_begin(pb, MF_METRIC), hm;

	put_labels(pb, count, true);
	hm = pb_begin(pb, M_HISTOGRAM);
	pb_uint(pb, H_COUNT, (uint64_t)count->value);
	pb_double(pb, H_SUM, h->sum);
	for (size_t k = 0; k < h->n; k++) {
		pb_mark b;

		if (h->le[k] == INFINITY)
			continue;	/* implied by the count */
		b = pb_begin(pb, H_BUCKET);
		pb_uint(pb, B_CUMULATIVE, h->cum[k]);
		pb_double(pb, B_UPPER, h->le[k]);
		pb_end(pb, b);
	}
	if (is_log2(h))
		put_native(pb, h);
	pb_end(pb, hm);
	pb_end(pb, m);
	f->metrics++;
	memset(&f->h, 0, sizeof(f->h));
}

static int add_sample(struct nat_family *f, const char *line)
{
	struct nat_sample *s = &f->s;
	struct pb_buf *pb = &f->pb;
	int err = parse_sample(line, s);
	pb_mark m, v;

	if (err)
		return err;
	if (f->type == T_HISTOGRAM) {
		struct nat_hist *h = &f->h;

		if (has_suffix(s->name, "_sum")) {
			h->sum = s->value;
		} else if (has_suffix(s->name, "_count")) {
			put_histogram(f, s);
		} else if (has_suffix(s->name, "_bucket") && h->n < MAX_BUCKETS) {
			const char *le = NULL;

			for (size_t i = 0; i < s->label_cnt; i++)
				if (s->labels[i].name_len == 2 &&
				    !strncmp(s->labels[i].name, "le", 2))
					le = s->labels[i].value;
			if (!le)
				return -EINVAL;
			h->le[h->n] = strtod(le, NULL);
			h->exact[h->n] = exact_ns(le, &h->le_ns[h->n]);
			h->cum[h->n++] = (uint64_t)s->value;
		} else {
			return -EINVAL;
		}
		return 0;
	}
	m = pb_begin(pb, MF_METRIC);
	put_labels(pb, s, false);
	v = pb_begin(pb, f->type == T_COUNTER ? M_COUNTER :
			 f->type == T_GAUGE ? M_GAUGE : M_UNTYPED);
	pb_double(pb, VALUE, s->value);
	pb_end(pb, v);
	pb_end(pb, m);
	f->metrics++;
	return 0;
}

/* Write the family built so far as one length-prefixed message
 * (a family without samples is left out, as client libraries do). */
static int flush_family(struct nat_family *f, FILE *out)
{
	struct pb_buf len;
	int err = pb_error(&f->pb);

	if (!err && f->metrics && f->pb.len) {
		pb_init(&len);
		pb_raw_varint(&len, f->pb.len);
		err = pb_error(&len);
		if (!err && (fwrite(len.data, 1, len.len, out) != len.len ||
			     fwrite(f->pb.data, 1, f->pb.len, out) != f->pb.len))
			err = -EIO;
		pb_free(&len);
	}
	pb_reset(&f->pb);
	f->metrics = 0;
	memset(&f->h, 0, sizeof(f->h));
	return err;
}

/* "# HELP name text" starts a family; "# TYPE name type" types it. */
static int comment(struct nat_family *f, const char *line, FILE *out)
{
	const char *name, *rest;
	char help[1024];
	size_t n = 0;
	int err;

	if (!strncmp(line, "# HELP ", 7)) {
		err = flush_family(f, out);
		if (err)
			return err;
		name = line + 7;
		rest = name + strcspn(name, " ");
		pb_bytes(&f->pb, MF_NAME, name, (size_t)(rest - name));
		/* the text format escapes \ and newline in HELP */
		for (rest += *rest == ' '; *rest && n < sizeof(help) - 1; rest++) {
			if (rest[0] == '\\' && (rest[1] == 'n' || rest[1] == '\\'))
				help[n++] = *++rest == 'n' ? '\n' : '\\';
			else
				help[n++] = *rest;
		}
		help[n] = 0;
		pb_string(&f->pb, MF_HELP, help);
	} else if (!strncmp(line, "# TYPE ", 7)) {
		rest = strrchr(line, ' ') + 1;
		f->type = !strcmp(rest, "counter") ? T_COUNTER :
			  !strcmp(rest, "gauge") ? T_GAUGE :
			  !strcmp(rest, "histogram") ? T_HISTOGRAM : T_UNTYPED;
		pb_uint(&f->pb, MF_TYPE, f->type);
	}
	return 0;
}

int serve_native__from_text(const char *text, size_t len, FILE *out)
{
	struct nat_family *f = calloc(1, sizeof(*f));
	const char *p = text, *end = text + len;
	char line[8192];
	int err = 0;

	if (!f)
		return -ENOMEM;
	f->type = T_UNTYPED;
	pb_init(&f->pb);
	while (!err && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n >= sizeof(line)) {
			err = -EINVAL;
			break;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + 1;
		if (!n)
			continue;
		err = line[0] == '#' ? comment(f, line, out) : add_sample(f, line);
	}
	if (!err)
		err = flush_family(f, out);
	pb_free(&f->pb);
	free(f);
	return err;
}

int serve_native__write(struct serve_state *st, FILE *out)
{
	char *text = NULL, *bin = NULL;
	size_t len = 0, bin_len = 0;
	FILE *f = open_memstream(&text, &len), *b;
	int err;

	if (!f)
		return -errno;
	serve_metrics__write(st, f);
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	/* all or nothing: on failure the caller writes text instead */
	b = open_memstream(&bin, &bin_len);
	err = b ? serve_native__from_text(text, len, b) : -errno;
	if (b && fclose(b) && !err)
		err = -ENOMEM;
	if (!err && fwrite(bin, 1, bin_len, out) != bin_len)
		err = -EIO;
	free(bin);
	free(text);
	return err;
}
