// SPDX-License-Identifier: MIT
/*
 * sched_allgs__candidates (src/sched/sched_allgs.c): runtime.allgs of a binary
 * without symbols, from the code of runtime.allgadd. Ground truth is nm's
 * address of runtime.allgs in the same binary with its symbols (the
 * fixtures, the unstripped esbuild releases go1.13 and go1.14), and for a
 * stripped copy (objcopy --strip-all: code and data stay where they were)
 * the address nm gives for the original.
 */
#include "testutil.h"

#include <inttypes.h>

#include "gobin/gobin.h"
#include "sched/sched_allgs.h"

#define MAX_CAND 8

/* nm's address of runtime.allgs, or 0. */
static uint64_t nm_allgs(const char *path)
{
	char *out = tu_run("nm '%s' 2>/dev/null | awk '$3 == \"runtime.allgs\" {print $1}'",
			   path);
	uint64_t addr = 0;

	if (out)
		addr = strtoull(out, NULL, 16);
	free(out);
	return addr;
}

static size_t candidates(const char *path, uint64_t *c)
{
	struct gobin *gb;
	char err[256];
	size_t n;

	if (gobin__open(path, &gb, err, sizeof(err)))
		fail_msg("gobin__open(%s): %s", path, err);
	n = sched_allgs__candidates(gb, c, MAX_CAND);
	gobin__free(gb);
	return n;
}

/* allgs is among the candidates of path (or of its stripped copy). */
static void check(const char *path, bool strip)
{
	uint64_t want = nm_allgs(path), c[MAX_CAND];
	char copy[256];
	bool found = false;
	size_t n;

	assert_true(want != 0);
	if (strip) {
		snprintf(copy, sizeof(copy), "/tmp/gosnoop-allgs-%d", (int)getpid());
		free(tu_run("objcopy --strip-all '%s' '%s'", path, copy));
		assert_int_equal(nm_allgs(copy), 0);	/* really stripped */
		path = copy;
	}
	n = candidates(path, c);
	for (size_t i = 0; i < n; i++)
		found |= c[i] == want;
	if (strip)
		unlink(copy);
	if (!found)
		fail_msg("%s: runtime.allgs at %#" PRIx64 " not among %zu candidates",
			 path, want, n);
	/* the checks in the process are cheap, but a guess should be rare */
	assert_true(n <= 2);
}

static void test_fixtures(void **state)
{
	static const char *const names[] = { "sched", "demo", "demo-pie",
					     "calls", "args" };
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!tu_fixture(names[i], buf, sizeof(buf)))
			continue;
		check(buf, false);
		check(buf, true);
	}
}

static void test_corpus_go113_go114(void **state)
{
	static const char *const names[] = { "esbuild-0.0.9-go1.13.8",
					     "esbuild-0.6.1-go1.14.2" };
	char buf[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!tu_corpus(names[i], buf, sizeof(buf)))
			continue;
		check(buf, false);
		check(buf, true);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_corpus_go113_go114),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
