// SPDX-License-Identifier: MIT
/*
 * sched_report__reason_name (src/sched/sched_report.c): the one naming of
 * Go's wait reasons, for sched's output and serve's metric labels. A
 * reason the binary (runtime.waitReasonStrings, with symbols) and the
 * release table (stripped) leave unnamed, or name "" (waitReasonZero,
 * every release), is "reason N": never NULL or "" (serve's labels had a
 * fallback of their own for that). Ground truth for the named ones: Go's
 * runtime2.go strings as the release table has them, which test_layout
 * checks against the binaries; here that a binary with symbols and its
 * stripped copy name every reason alike.
 */
#include "testutil.h"

#include "gobin/gobin.h"
#include "sched/sched_report.h"
#include "bpf/sched.h"

static struct sched_report *report_of(const char *fixture, struct gobin **gb)
{
	struct sched_report_opts ro = {};
	struct sched_report *rep = NULL;

	*gb = tu_open_fixture(fixture);
	if (!*gb)
		return NULL;
	assert_int_equal(sched_report__new(*gb, &ro, &rep), 0);
	return rep;
}

static void test_unnamed_reasons_are_reason_n(void **state)
{
	static const char *const fixtures[] = { "demo", "demo-stripped" };

	for (size_t f = 0; f < sizeof(fixtures) / sizeof(*fixtures); f++) {
		struct gobin *gb;
		struct sched_report *rep = report_of(fixtures[f], &gb);
		char want[32];

		if (!rep)
			skip();
		/* waitReasonZero is "" in the binary and the table */
		assert_string_equal(sched_report__reason_name(rep, 0),
				    "reason 0");
		/* past any release's reasons (go1.26: 46) */
		snprintf(want, sizeof(want), "reason %d", SCHED_NREASONS - 1);
		assert_string_equal(sched_report__reason_name(rep,
							      SCHED_NREASONS - 1),
				    want);
		for (unsigned w = 0; w < SCHED_NREASONS; w++) {
			const char *n = sched_report__reason_name(rep, w);

			assert_non_null(n);
			if (!*n)
				fail_msg("%s: reason %u named \"\"", fixtures[f], w);
		}
		/* a named one is a name (waitReasonGCAssistMarking) */
		assert_string_equal(sched_report__reason_name(rep, 1),
				    "GC assist marking");
		sched_report__free(rep);
		gobin__free(gb);
	}
}

/* The binary's own strings (with symbols) and the release table's
 * (stripped) agree, "reason N" included. */
static void test_stripped_copy_names_alike(void **state)
{
	struct gobin *gb, *gs;
	struct sched_report *rep = report_of("demo", &gb);
	struct sched_report *reps = rep ? report_of("demo-stripped", &gs) : NULL;

	if (!rep || !reps)
		skip();
	for (unsigned w = 0; w < SCHED_NREASONS; w++)
		assert_string_equal(sched_report__reason_name(rep, w),
				    sched_report__reason_name(reps, w));
	sched_report__free(reps);
	sched_report__free(rep);
	gobin__free(gs);
	gobin__free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unnamed_reasons_are_reason_n),
		cmocka_unit_test(test_stripped_copy_names_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
