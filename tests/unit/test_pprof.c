// SPDX-License-Identifier: MIT
/*
 * The profile.proto writer (src/pprof.c).
 *
 * Ground truth: Go's own reader. The profile is written gzipped, then
 * `go tool pprof -raw` (github.com/google/pprof's parser, shipped with
 * the Go toolchain; GOSNOOP_GO or /usr/bin/go) prints its samples,
 * locations and mapping, which must be what was added: merged samples
 * summed, inlined frames in order, labels, the string table intact.
 */
#include <errno.h>

#include "testutil.h"
#include "pprof.h"

static const char *go_bin(void)
{
	const char *g = getenv("GOSNOOP_GO");

	return g && *g ? g : "/usr/bin/go";
}

/* `go tool pprof ARGS path` output (malloc'd), or NULL after a SKIP line. */
static char *pprof_tool(const char *args, const char *path)
{
	char cmd[1024], *out = NULL;
	size_t n = 0, cap = 0;
	FILE *f;
	int c;

	if (access(go_bin(), X_OK)) {
		printf("SKIP: %s missing (set GOSNOOP_GO)\n", go_bin());
		return NULL;
	}
	snprintf(cmd, sizeof(cmd), "%s tool pprof %s %s 2>&1", go_bin(), args,
		 path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((c = fgetc(f)) != EOF) {
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 4096;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		out[n++] = (char)c;
	}
	out = out ? out : strdup("");
	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	return out;
}

static void expect_in(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("'%s' not in:\n%s", want, text);
}

static void test_raw_readback(void **state)
{
	static const struct pprof_value_type types[] = {
		{ "calls", "count" }, { "time", "nanoseconds" },
	};
	/* main.leaf inlined into main.mid at one address, main.main below */
	static const struct pprof_line inl[] = {
		{ "main.leaf", "/src/main.go", 10 },
		{ "main.mid", "/src/main.go", 20 },
	};
	static const struct pprof_line top[] = {
		{ "main.main", "/src/main.go", 30 },
	};
	const struct pprof_label labels[] = {
		{ .key = "reason", .str = "chan receive" },
		{ .key = "goid", .num = 7 },
	};
	char path[] = "/tmp/test_pprof_XXXXXX";
	int64_t a, b, v1[] = { 2, 1500 }, v2[] = { 3, 2500 }, v3[] = { 1, 40 };
	uint64_t stack[2];
	struct pprof *p;
	char *raw;
	int fd;

	(void)state;
	p = pprof__new(types, 2);
	assert_non_null(p);
	assert_int_equal(pprof__set_mapping(p, 0x400000, 0x4a0000, 0,
					    "/bin/demo", NULL), 0);
	a = pprof__location(p, 0x401234, inl, 2);
	b = pprof__location(p, 0x402468, top, 1);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	/* the same address and lines: the same location */
	assert_int_equal(pprof__location(p, 0x401234, inl, 2), 1);
	stack[0] = (uint64_t)a;
	stack[1] = (uint64_t)b;
	assert_int_equal(pprof__add_sample(p, stack, 2, v1, labels, 2), 0);
	assert_int_equal(pprof__add_sample(p, stack, 2, v2, labels, 2), 0);
	assert_int_equal(pprof__add_sample(p, &stack[1], 1, v3, NULL, 0), 0);
	assert_int_equal(pprof__sample_cnt(p), 2);	/* first two merged */
	assert_int_equal(pprof__add_sample(p, (uint64_t[]){ 9 }, 1, v3, NULL, 0),
			 -EINVAL);
	assert_int_equal(pprof__add_comment(p, "gosnoop unit test"), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pprof__write(p, path), 0);
	pprof__free(p);

	raw = pprof_tool("-raw", path);
	if (raw) {
		expect_in(raw, "Comment: gosnoop unit test");
		expect_in(raw, "calls/count time/nanoseconds");
		expect_in(raw, "          5       4000: 1 2 \n");
		expect_in(raw, "reason:[chan receive]");
		expect_in(raw, "goid:[7]");
		expect_in(raw, "          1         40: 2 \n");
		expect_in(raw, "1: 0x401234 M=1 main.leaf /src/main.go:10 s=0\n"
			       "             main.mid /src/main.go:20 s=0\n");
		expect_in(raw, "2: 0x402468 M=1 main.main /src/main.go:30 s=0");
		expect_in(raw, "1: 0x400000/0x4a0000/0x0 /bin/demo  [FN][FL][LN][IN]");
		free(raw);
	}
	unlink(path);
}

/* Many distinct stacks: the interning tables grow and keep every one. */
static void test_many_samples(void **state)
{
	static const struct pprof_value_type types[] = { { "calls", "count" } };
	char names[64], path[] = "/tmp/test_pprof_XXXXXX";
	struct pprof *p = pprof__new(types, 1);
	char *top;
	int fd;

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 5000; i++) {
		struct pprof_line l = { names, "/src/f.go", i };
		uint64_t loc;
		int64_t v = i;

		snprintf(names, sizeof(names), "main.f%d", i % 1000);
		loc = (uint64_t)pprof__location(p, 0x1000 + (uint64_t)i, &l, 1);
		assert_int_equal(loc, i + 1);
		assert_int_equal(pprof__add_sample(p, &loc, 1, &v, NULL, 0), 0);
	}
	assert_int_equal(pprof__sample_cnt(p), 5000);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pprof__write(p, path), 0);
	pprof__free(p);
	/* main.f999: samples 999, 1999, 2999, 3999, 4999 = 14995 calls */
	top = pprof_tool("-top -nodecount=1 -nodefraction=0", path);
	if (top) {
		expect_in(top, "14995 ");
		expect_in(top, "main.f999");
		expect_in(top, "of 12497500 total");	/* 0+1+...+4999 */
		free(top);
	}
	unlink(path);
}

static void test_bad_arguments(void **state)
{
	static const struct pprof_value_type types[PPROF_MAX_TYPES + 1];

	(void)state;
	assert_null(pprof__new(types, 0));
	assert_null(pprof__new(types, PPROF_MAX_TYPES + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_readback),
		cmocka_unit_test(test_many_samples),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
