// SPDX-License-Identifier: MIT
/*
 * serve_native.c: Prometheus text -> delimited MetricFamily messages,
 * log2 histograms also as native histograms of schema 0.
 *
 * Ground truth: io.prometheus.client's metrics.proto field numbers, the
 * native histogram rule (schema 0: bucket i is (2^(i-1), 2^i]) and the
 * log2 slots of the text (le = 2^(k+1)-1 ns), decoded here by a reader
 * of the wire format of its own; the edges the e2e test does not reach:
 * slot 0, the last slot, an empty histogram, configured buckets, q=0.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "serve/serve_native.h"

/* serve_native__write() reads this; the conversion alone does not */
struct serve_state;
void serve_metrics__write(struct serve_state *st, FILE *f);
void serve_metrics__write(struct serve_state *st, FILE *f)
{
	(void)st;
	(void)f;
}

/* --- a wire-format reader ------------------------------------------ */

struct rd {
	const uint8_t *p, *end;
};

static uint64_t varint(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80)
			return v;
	}
	fail_msg("truncated varint");
	return 0;
}

/* Next field of r: its number, wire type, and value (varint / fixed64
 * in *v, length-delimited as a sub-reader in *sub). 0 at the end. */
static int field(struct rd *r, int *wt, uint64_t *v, struct rd *sub)
{
	uint64_t tag;

	if (r->p >= r->end)
		return 0;
	tag = varint(r);
	*wt = (int)(tag & 7);
	if (*wt == 0) {
		*v = varint(r);
	} else if (*wt == 1) {
		memcpy(v, r->p, 8);
		r->p += 8;
	} else if (*wt == 2) {
		uint64_t n = varint(r);

		sub->p = r->p;
		sub->end = r->p + n;
		r->p += n;
	} else {
		fail_msg("wire type %d", *wt);
	}
	return (int)(tag >> 3);
}

static double as_double(uint64_t v)
{
	double d;

	memcpy(&d, &v, 8);
	return d;
}

struct hist {
	uint64_t count;
	double sum;
	size_t nb;
	double upper[64];
	uint64_t cum[64];
	bool native;			/* schema, zero bucket or spans present */
	int64_t schema;
	double zero_threshold;
	uint64_t zero_count;
	size_t nspan;
	int64_t span_off[8];
	uint64_t span_len[8];
	size_t nd;
	int64_t delta[64];
};

static int64_t unzig(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void read_hist(struct rd r, struct hist *h)
{
	struct rd sub, s2;
	uint64_t v, v2;
	int wt, wt2, f;

	memset(h, 0, sizeof(*h));
	while ((f = field(&r, &wt, &v, &sub))) {
		switch (f) {
		case 1: h->count = v; break;
		case 2: h->sum = as_double(v); break;
		case 3:
			while ((f = field(&sub, &wt2, &v2, &s2)))
				if (f == 1)
					h->cum[h->nb] = v2;
				else if (f == 2)
					h->upper[h->nb] = as_double(v2);
			h->nb++;
			break;
		case 5: h->native = true; h->schema = unzig(v); break;
		case 6: h->native = true; h->zero_threshold = as_double(v); break;
		case 7: h->zero_count = v; break;
		case 12:
			h->native = true;
			while ((f = field(&sub, &wt2, &v2, &s2)))
				if (f == 1)
					h->span_off[h->nspan] = unzig(v2);
				else if (f == 2)
					h->span_len[h->nspan] = v2;
			h->nspan++;
			break;
		case 13:
			while (sub.p < sub.end)
				h->delta[h->nd++] = unzig(varint(&sub));
			break;
		default:
			fail_msg("histogram field %d", f);
		}
	}
}

/* The histogram of the first metric of family `name` in delimited out. */
static bool find_hist(const char *buf, size_t len, const char *name,
		      struct hist *h)
{
	struct rd all = { (const uint8_t *)buf, (const uint8_t *)buf + len };

	while (all.p < all.end) {
		uint64_t n = varint(&all), v;
		struct rd mf = { all.p, all.p + n }, sub, m2;
		bool match = false;
		int wt, f;

		all.p += n;
		while ((f = field(&mf, &wt, &v, &sub))) {
			if (f == 1)
				match = (size_t)(sub.end - sub.p) == strlen(name) &&
					!memcmp(sub.p, name, strlen(name));
			if (f == 4 && match) {
				struct rd mm = sub;

				while ((f = field(&mm, &wt, &v, &m2)))
					if (f == 7) {
						read_hist(m2, h);
						return true;
					}
			}
		}
	}
	return false;
}

/* --- text written as serve_metrics.c writes it ---------------------- */

static char *log2_text(const uint64_t *slots, int nslots, uint64_t sum_ns)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	uint64_t cum = 0;

	fputs("# HELP d Durations.\n# TYPE d histogram\n", f);
	for (int k = 0; k < nslots - 1; k++) {
		uint64_t le = (1ULL << (k + 1)) - 1;

		cum += slots[k];
		fprintf(f, "d_bucket{fn=\"a\",le=\"%llu.%09llu\"} %llu\n",
			(unsigned long long)(le / 1000000000ULL),
			(unsigned long long)(le % 1000000000ULL),
			(unsigned long long)cum);
	}
	cum += slots[nslots - 1];
	fprintf(f, "d_bucket{fn=\"a\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	fprintf(f, "d_sum{fn=\"a\"} %llu.%09llu\n",
		(unsigned long long)(sum_ns / 1000000000ULL),
		(unsigned long long)(sum_ns % 1000000000ULL));
	fprintf(f, "d_count{fn=\"a\"} %llu\n", (unsigned long long)cum);
	fclose(f);
	return text;
}

static char *convert(const char *text, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_int_equal(serve_native__from_text(text, strlen(text), f), 0);
	fclose(f);
	return buf;
}

/* slot 0 is the zero bucket, slot k >= 1 bucket k-29, one span over the
 * used slots with the unused ones inside it as 0 */
static void test_log2_to_schema0(void **state)
{
	uint64_t slots[40] = {};
	struct hist h;
	size_t len;
	char *text, *buf;

	(void)state;
	slots[0] = 3;		/* 0 and 1 ns */
	slots[5] = 2;		/* [32, 64) ns */
	slots[7] = 4;
	slots[39] = 1;		/* >= 2^39 ns: the +Inf slot */
	text = log2_text(slots, 40, 123456789);
	buf = convert(text, &len);
	assert_true(find_hist(buf, len, "d", &h));
	assert_int_equal(h.count, 10);
	assert_true(fabs(h.sum - 0.123456789) < 1e-15);
	assert_true(h.native);
	assert_int_equal(h.schema, 0);
	assert_true(h.zero_threshold == 1e-9);
	assert_int_equal(h.zero_count, 3);
	assert_int_equal(h.nspan, 1);
	assert_int_equal(h.span_off[0], 5 - 29);
	assert_int_equal(h.span_len[0], 39 - 5 + 1);
	/* deltas: 2, 0 (slot 6), 4 (slot 7), 0 ... back to 0, then 1 */
	assert_int_equal(h.nd, 35);
	assert_int_equal(h.delta[0], 2);
	assert_int_equal(h.delta[1], -2);
	assert_int_equal(h.delta[2], 4);
	assert_int_equal(h.delta[3], -4);
	for (size_t i = 4; i < 34; i++)
		assert_int_equal(h.delta[i], 0);
	assert_int_equal(h.delta[34], 1);
	/* the classic buckets stay, exact: 39 finite bounds */
	assert_int_equal(h.nb, 39);
	assert_true(h.upper[0] == 1e-9 && h.cum[0] == 3);
	assert_true(h.upper[5] == 63e-9 && h.cum[5] == 5);
	free(text);
	free(buf);
}

/* The mapping's promise (docs/serve.md): every duration of slot k is
 * above bucket (k-29)'s lower bound and below 1.074 x its upper one. */
static void test_mapping_bounds(void **state)
{
	(void)state;
	for (int k = 1; k < 40; k++) {
		double lo = ldexp(1.0, k - 29 - 1), hi = ldexp(1.0, k - 29);
		double first = ldexp(1.0, k) * 1e-9;
		double last = (ldexp(1.0, k + 1) - 1) * 1e-9;

		assert_true(first > lo);
		assert_true(last < 1.074 * hi);
	}
}

/* no observation yet: still native (a no-op span), so a Prometheus
 * does not take it for a classic histogram and switch later */
static void test_empty_histogram_is_native(void **state)
{
	uint64_t slots[40] = {};
	struct hist h;
	size_t len;
	char *text = log2_text(slots, 40, 0), *buf = convert(text, &len);

	(void)state;
	assert_true(find_hist(buf, len, "d", &h));
	assert_int_equal(h.count, 0);
	assert_true(h.native);
	assert_int_equal(h.nspan, 1);
	assert_int_equal(h.span_len[0], 0);
	assert_int_equal(h.nd, 0);
	free(text);
	free(buf);
}

/* configured bounds are not powers of two: classic buckets only */
static void test_configured_buckets_stay_classic(void **state)
{
	const char *text =
		"# HELP d Durations.\n# TYPE d histogram\n"
		"d_bucket{le=\"0.001\"} 1\nd_bucket{le=\"0.01\"} 3\n"
		"d_bucket{le=\"+Inf\"} 4\nd_sum 0.5\nd_count 4\n";
	struct hist h;
	size_t len;
	char *buf = convert(text, &len);

	(void)state;
	assert_true(find_hist(buf, len, "d", &h));
	assert_false(h.native);
	assert_int_equal(h.count, 4);
	assert_int_equal(h.nb, 2);
	assert_true(h.upper[0] == 0.001 && h.cum[0] == 1);
	assert_true(h.upper[1] == 0.01 && h.cum[1] == 3);
	free(buf);
}

static void test_accept_header(void **state)
{
	(void)state;
	assert_true(serve_native__wanted(
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
		"encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"));
	assert_false(serve_native__wanted(NULL));
	assert_false(serve_native__wanted("text/plain;version=0.0.4"));
	assert_false(serve_native__wanted(
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
		"encoding=delimited;q=0"));
	/* the text form of the protobuf format is not what we write */
	assert_false(serve_native__wanted(
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
		"encoding=text"));
}

static void test_bad_text_is_einval(void **state)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(serve_native__from_text("x{a=\"1\" 2\n", 10, f), -EINVAL);
	fclose(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log2_to_schema0),
		cmocka_unit_test(test_mapping_bounds),
		cmocka_unit_test(test_empty_histogram_is_native),
		cmocka_unit_test(test_configured_buckets_stay_classic),
		cmocka_unit_test(test_accept_header),
		cmocka_unit_test(test_bad_text_is_einval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
