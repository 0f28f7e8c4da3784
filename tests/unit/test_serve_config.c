// SPDX-License-Identifier: MIT
/*
 * serve_config__load (src/serve/serve_config.c) on real files: buckets in
 * decimal seconds become whole nanoseconds exactly (the values below are
 * worked out by hand), the top-level buckets are every target's default,
 * labels keep their order, and each bad file names the line at fault.
 */
#include "testutil.h"

#include <errno.h>

#include "serve/serve_config.h"

static char path[] = "/tmp/gosnoop-serve-config-XXXXXX";

static int load(const char *text, struct serve_config *cfg, char *err,
		size_t err_len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return serve_config__load(path, cfg, err, err_len);
}

static void test_buckets_exact_ns(void **state)
{
	struct serve_config cfg;
	char err[512];
	(void)state;
	assert_int_equal(load("buckets: [0.000000001, 1e-7, 0.009999999, 0.0001,"
			      " 2.5e-3, 1E-2, 1, 1.5, 3600]\n"
			      "targets:\n"
			      "  - binary: /x\n    latency: [a]\n"
			      "  - comm: svc\n    latency: [a]\n    buckets: [0.25]\n",
			      &cfg, err, sizeof(err)), -EINVAL);
	/* not increasing: 0.0001 after 0.009999999 */
	assert_non_null(strstr(err, ":1: buckets: must increase ('0.0001'"));

	assert_int_equal(load("buckets: [0.000000001, 1e-7, 0.0001, 0.0025, 0.009999999,"
			      " 1E-2, 1, 1.5, 3600]\n"
			      "targets:\n"
			      "  - binary: /x\n    latency: [a]\n"
			      "  - comm: svc\n    latency: [a]\n    buckets: [0.25]\n",
			      &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.target_cnt, 2);
	assert_int_equal(cfg.targets[0].bucket_cnt, 9);
	{
		static const uint64_t sorted[] = {
			1, 100, 100000, 2500000, 9999999, 10000000,
			1000000000, 1500000000, 3600000000000ULL,
		};
		for (int i = 0; i < 9; i++)
			assert_int_equal(cfg.targets[0].buckets_ns[i], sorted[i]);
	}
	/* a target's own buckets win over the top level */
	assert_int_equal(cfg.targets[1].bucket_cnt, 1);
	assert_int_equal(cfg.targets[1].buckets_ns[0], 250000000);
	assert_string_equal(cfg.targets[1].comm, "svc");
	serve_config__free(&cfg);
}

static void test_labels_in_order(void **state)
{
	struct serve_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load("targets:\n  - pid: 42\n    count: a\n"
			      "    labels: {env: prod, _z9: 'x y', team: \"a\\\"b\"}\n",
			      &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.targets[0].pid, 42);
	assert_int_equal(cfg.targets[0].label_cnt, 3);
	assert_string_equal(cfg.targets[0].labels[0].name, "env");
	assert_string_equal(cfg.targets[0].labels[0].value, "prod");
	assert_string_equal(cfg.targets[0].labels[1].name, "_z9");
	assert_string_equal(cfg.targets[0].labels[1].value, "x y");
	assert_string_equal(cfg.targets[0].labels[2].value, "a\"b");
	serve_config__free(&cfg);
}

/* max_overhead: default 1%, a number or "N%", 0 or off for none; a
 * target that differs only in it is the same target (a reload changes
 * the budget, not the probes). */
static void test_max_overhead(void **state)
{
	static const struct { const char *v; double pct; } ok[] = {
		{ NULL, 1.0 }, { "0.5", 0.5 }, { "'2%'", 2.0 }, { "0", 0 },
		{ "off", 0 },
	};
	struct serve_config a, b;
	char text[256], err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 "targets:\n  - pid: 42\n    count: a\n%s%s\n",
			 ok[i].v ? "    max_overhead: " : "",
			 ok[i].v ? ok[i].v : "");
		assert_int_equal(load(text, &a, err, sizeof(err)), 0);
		assert_true(a.targets[0].max_overhead == ok[i].pct);
		serve_config__free(&a);
	}
	assert_int_equal(load("targets:\n  - pid: 42\n    count: a\n"
			      "    max_overhead: -1\n", &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, ":4: max_overhead: expected a percentage"));
	assert_int_equal(load("targets:\n  - pid: 42\n    count: a\n"
			      "    max_overhead: 1\n    max_overhead: 2\n",
			      &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":5: max_overhead given twice"));
	assert_int_equal(load("targets:\n  - pid: 42\n    count: a\n",
			      &a, err, sizeof(err)), 0);
	assert_int_equal(load("targets:\n  - pid: 42\n    count: a\n"
			      "    max_overhead: off\n", &b, err, sizeof(err)), 0);
	assert_true(serve_config__same_target(&a.targets[0], &b.targets[0]));
	serve_config__free(&b);
	serve_config__free(&a);
}

static void test_bad_files_name_the_line(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "targets:\n  - binary: /x\n    latency: [a]\n    buckets: [1e-10]\n",
		  ":4: buckets: '1e-10' is not a positive number of seconds with whole nanoseconds" },
		{ "targets:\n  - binary: /x\n    latency: [a]\n    buckets: [0]\n",
		  ":4: buckets: '0'" },
		{ "targets:\n  - binary: /x\n    latency: [a]\n    buckets: [1s]\n",
		  ":4: buckets: '1s'" },
		{ "targets:\n  - binary: /x\n    latency: [a]\n    buckets: [99999999999]\n",
		  ":4: buckets: '99999999999'" },
		{ "targets:\n  - binary: /x\n    count: [a]\n    labels: {9a: x}\n",
		  ":4: labels: '9a' is not a label name" },
		{ "targets:\n  - binary: /x\n    count: [a]\n    labels: {a-b: x}\n",
		  ":4: labels: 'a-b' is not a label name" },
		{ "targets:\n  - binary: /x\n    count: [a]\n    labels: {le: x}\n",
		  ":4: labels: 'le' is a label gosnoop sets itself" },
		{ "targets:\n  - binary: /x\n    count: [a]\n    labels:\n      a: ''\n",
		  ":5: labels: a: expected a non-empty string" },
		{ "targets:\n  - comm: 0123456789abcdef\n    count: [a]\n",
		  ":2: comm: '0123456789abcdef' is longer than the 15 characters" },
		{ "targets:\n  - comm: x\n    binary: /x\n    count: [a]\n",
		  ":2: a target takes one of binary:, pid:, comm:" },
	};
	struct serve_config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(load(cases[i].text, &cfg, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err,
				 cases[i].want);
	}
}

static void test_same_target(void **state)
{
	struct serve_config a, b;
	char err[512];

	(void)state;
	assert_int_equal(load("targets:\n  - binary: /x\n    latency: [a]\n"
			      "    labels: {env: prod}\n", &a, err, sizeof(err)), 0);
	assert_int_equal(load("buckets: [1]\ntargets:\n  - binary: /x\n"
			      "    latency: [a]\n    labels: {env: prod}\n",
			      &b, err, sizeof(err)), 0);
	assert_false(serve_config__same_target(&a.targets[0], &b.targets[0]));
	serve_config__free(&b);
	assert_int_equal(load("targets:\n  - binary: /x\n    latency: a\n"
			      "    labels: {env: prod}\n", &b, err, sizeof(err)), 0);
	assert_true(serve_config__same_target(&a.targets[0], &b.targets[0]));
	serve_config__free(&b);
	assert_int_equal(load("targets:\n  - binary: /x\n    latency: a\n"
			      "    labels: {env: dev}\n", &b, err, sizeof(err)), 0);
	assert_false(serve_config__same_target(&a.targets[0], &b.targets[0]));
	serve_config__free(&b);
	serve_config__free(&a);
}

/* Only the probe lists differ: the same processes (a reload changes the
 * target probe by probe); a label or sched: is another target. */
static void test_same_processes(void **state)
{
	struct serve_config a, b;
	char err[512];

	(void)state;
	assert_int_equal(load("targets:\n  - binary: /x\n    count: [a]\n",
			      &a, err, sizeof(err)), 0);
	assert_int_equal(load("targets:\n  - binary: /x\n    count: [a, b]\n"
			      "    latency: [c]\n", &b, err, sizeof(err)), 0);
	assert_false(serve_config__same_target(&a.targets[0], &b.targets[0]));
	assert_true(serve_config__same_processes(&a.targets[0], &b.targets[0]));
	serve_config__free(&b);
	assert_int_equal(load("targets:\n  - binary: /x\n    count: [a]\n"
			      "    sched: true\n", &b, err, sizeof(err)), 0);
	assert_false(serve_config__same_processes(&a.targets[0], &b.targets[0]));
	serve_config__free(&b);
	serve_config__free(&a);
}

static int load_nested(int lists, struct serve_config *cfg, char *err,
		       size_t err_len)
{
	char text[256];
	int n = snprintf(text, sizeof(text), "targets:\n  - binary: /x\n    count: ");

	for (int i = 0; i < lists; i++)
		text[n++] = '[';
	text[n++] = '\n';
	text[n] = 0;
	return load(text, cfg, err, err_len);
}

/* The root map, targets: and the target's map are 3 levels: 30 more
 * lists are 33, refused at their line before libyaml's loader runs; 29
 * are 32, only an unfinished list (libyaml's own error). */
static void test_depth_limit(void **state)
{
	struct serve_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load_nested(30, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: nested more than 32 levels deep"));
	assert_int_equal(load_nested(29, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "nested more than"));
}

static void test_web(void **state)
{
	static const char hash[] =
		"$2b$10$oFercy.WNxPclpAxaehNs.7rrNbwlKYjpQtyNLP9BRV1yj7kwifbe";
	struct serve_config cfg;
	char text[512], err[512];

	(void)state;
	snprintf(text, sizeof(text), "web:\n  basic_auth_users:\n    prom: '%s'\n"
		 "  debug_probes: any\ntargets:\n  - binary: /x\n    count: [a]\n",
		 hash);
	assert_int_equal(load(text, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.web.line, 1);
	assert_int_equal(cfg.web.user_cnt, 1);
	assert_string_equal(cfg.web.users[0].name, "prom");
	assert_string_equal(cfg.web.users[0].value, hash);
	assert_true(cfg.web.debug_any);
	assert_null(cfg.web.cert_pem);
	serve_config__free(&cfg);
	/* without web: /debug/probes is local */
	assert_int_equal(load("targets:\n  - binary: /x\n    count: [a]\n",
			      &cfg, err, sizeof(err)), 0);
	assert_false(cfg.web.debug_any);
	assert_int_equal(cfg.web.line, 0);
	serve_config__free(&cfg);
	/* a hash one character short */
	snprintf(text, sizeof(text), "web:\n  basic_auth_users:\n    prom: '%.59s'\n"
		 "targets:\n  - binary: /x\n", hash);
	assert_int_equal(load(text, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: basic_auth_users: prom: not a bcrypt hash"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_exact_ns),
		cmocka_unit_test(test_labels_in_order),
		cmocka_unit_test(test_max_overhead),
		cmocka_unit_test(test_bad_files_name_the_line),
		cmocka_unit_test(test_same_target),
		cmocka_unit_test(test_same_processes),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_web),
	};
	int fd = mkstemp(path), ret;

	if (fd < 0)
		return 1;
	close(fd);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
