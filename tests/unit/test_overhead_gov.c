// SPDX-License-Identifier: MIT
/*
 * The overhead governor's decisions (src/overhead_gov.c) on synthetic
 * counters: which function goes off, in what order, when one comes back.
 *
 * Ground truth: each expectation is worked out by hand from the numbers
 * fed in (calls/s x ns per call over the process's own CPU: its CPU
 * rate minus the probes'), written next to it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>

#include "testutil.h"
#include "overhead_gov.h"

#define SEC 1000000000ULL

/* One update one second after the last, with calls/s rates[] added to
 * calls[] (of the functions that are on) and cpu_s of process CPU. */
static size_t step(struct ovh_gov *g, uint64_t *now, uint64_t *calls,
		   const double *rates, size_t n, double cpu_s,
		   struct ovh_change *out)
{
	*now += SEC;
	for (size_t i = 0; i < n; i++)
		if (!ovh_gov__is_off(g, i))
			calls[i] += (uint64_t)rates[i];
	return ovh_gov__update(g, *now, calls, (uint64_t)(cpu_s * 1e9), out);
}

static void test_hot_off_cold_kept(void **state)
{
	double ns[2] = { 5000, 5000 };
	double rates[2] = { 100000, 10 };
	uint64_t calls[2] = { 0, 0 }, now = 7 * SEC;
	struct ovh_change out[2];
	struct ovh_gov *g = ovh_gov__new(2, ns, 0.05, true);
	size_t k;

	(void)state;
	assert_non_null(g);
	assert_int_equal(ovh_gov__update(g, now, calls, 0, out), 0);
	/* hot: 100000/s x 5 us = 0.5 CPU-s/s, cold: 10 x 5 us = 50 us/s, of
	 * the 1.50005 the process used: 1.0 its own, hot 50%, cold 0.005% */
	k = step(g, &now, calls, rates, 2, 1.50005, out);
	assert_int_equal(k, 1);
	assert_int_equal(out[0].fid, 0);
	assert_int_equal(out[0].action, OVH_OFF);
	assert_true(fabs(out[0].hits_per_s - 100000) < 1);
	assert_true(fabs(out[0].est_overhead - 0.5) < 1e-6);
	assert_true(fabs(ovh_gov__overhead(g) - 0.50005) < 1e-6);
	assert_true(ovh_gov__is_off(g, 0));
	assert_false(ovh_gov__is_off(g, 1));
	/* off: its counter stands still; the cold one alone fits */
	k = step(g, &now, calls, rates, 2, 0.5, out);
	assert_int_equal(k, 0);
	assert_true(fabs(ovh_gov__hits_per_s(g, 1) - 10) < 1e-9);
	assert_true(ovh_gov__overhead(g) < 0.05);
	ovh_gov__free(g);
}

static void test_most_expensive_first_until_it_fits(void **state)
{
	double ns[3] = { 1000, 1000, 1000 };
	/* 0.1, 0.3 and 0.02 CPU-s/s of a process using 1.42: 1.0 its own */
	double rates[3] = { 100000, 300000, 20000 };
	uint64_t calls[3] = { 0 }, now = 0;
	struct ovh_change out[3];
	struct ovh_gov *g = ovh_gov__new(3, ns, 0.05, true);
	size_t k;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	/* 0.42 > 0.05: without fid 1, 0.12 still over; without fid 0 too,
	 * 0.02: fid 2 stays */
	k = step(g, &now, calls, rates, 3, 1.42, out);
	assert_int_equal(k, 2);
	assert_int_equal(out[0].fid, 1);
	assert_int_equal(out[1].fid, 0);
	assert_true(fabs(out[0].est_overhead - 0.3) < 1e-6);
	assert_false(ovh_gov__is_off(g, 2));
	ovh_gov__free(g);
}

static void test_warn_only_decides_nothing(void **state)
{
	double ns[1] = { 20000 };
	double rates[1] = { 50000 };	/* 1.0 CPU-s/s */
	uint64_t calls[1] = { 0 }, now = 0;
	struct ovh_change out[1];
	struct ovh_gov *g = ovh_gov__new(1, ns, 0.05, false);

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	/* 2.0 used, 1.0 its own: twice as long, 100% */
	assert_int_equal(step(g, &now, calls, rates, 1, 2.0, out), 0);
	assert_true(fabs(ovh_gov__overhead(g) - 1.0) < 1e-6);
	assert_false(ovh_gov__is_off(g, 0));
	/* the process used less than the probes' estimate (calibration off):
	 * its own work counts as OVH_MIN_CPU, 1.0 / 0.01 */
	assert_int_equal(step(g, &now, calls, rates, 1, 0.5, out), 0);
	assert_true(fabs(ovh_gov__overhead(g) - 100.0) < 1e-6);
	ovh_gov__free(g);
}

static void test_idle_process_counted_against_floor(void **state)
{
	double ns[1] = { 20000 };
	double rates[1] = { 10 };	/* 200 us/s */
	uint64_t calls[1] = { 0 }, now = 0;
	struct ovh_change out[1];
	struct ovh_gov *g = ovh_gov__new(1, ns, 0.05, true);

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	/* the process used 300 us/s, 100 us its own: twice that, but 2% of
	 * OVH_MIN_CPU */
	assert_int_equal(step(g, &now, calls, rates, 1, 0.0003, out), 0);
	assert_true(fabs(ovh_gov__overhead(g) - 0.02) < 1e-6);
	ovh_gov__free(g);
}

static void test_back_with_hysteresis_and_backoff(void **state)
{
	double ns[2] = { 1000, 1000 };
	double hot[2] = { 200000, 1000 };	/* 0.2 and 0.001 CPU-s/s */
	double cold[2] = { 2000, 1000 };	/* later: 0.002 */
	uint64_t calls[2] = { 0 }, now = 0, t_off;
	struct ovh_change out[2];
	struct ovh_gov *g = ovh_gov__new(2, ns, 0.05, true);
	size_t k, on_at = 0;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	assert_int_equal(step(g, &now, calls, hot, 2, 1.0, out), 1);
	t_off = now;
	/* never before OVH_BACKOFF_MIN_NS (2 s) */
	assert_int_equal(step(g, &now, calls, hot, 2, 0.8, out), 0);
	/* then only once its remembered 0.2 has been halved down to fit
	 * half the budget (2.5%) of the 0.799 the process does itself:
	 * 0.2 -> 0.1 -> 0.05 -> 0.025 at retries 2 s apart; 0.026 / 0.799 =
	 * 3.3% > 2.5%, one more halving: 0.0135 / 0.799 = 1.7%: back on */
	for (int i = 0; i < 20 && !on_at; i++) {
		k = step(g, &now, calls, hot, 2, 0.8, out);
		if (k) {
			assert_int_equal(out[0].fid, 0);
			assert_int_equal(out[0].action, OVH_ON);
			on_at = (size_t)((now - t_off) / SEC);
		}
	}
	assert_int_equal(on_at, 10);
	assert_int_equal(ovh_gov__on_ns(g, 0, now), 1 * SEC);
	/* -i windows (on 0-1 s, off 1-11 s, on from now = 11 s): [8 s, 10 s]
	 * all off: 0%; [11 s, 12 s] all on: exact, not sampled; [1 s, 12 s]
	 * on 1 s of 11: 9.1% (the cumulative share since the start, 2 s of
	 * 12, would be 16.7%); the cold function never went off */
	{
		double cov = -1;

		assert_int_equal(now, 11 * SEC);
		assert_true(ovh_gov__window_coverage(g, 0, 8 * SEC, 1 * SEC,
						     10 * SEC, &cov));
		assert_true(cov == 0);
		assert_false(ovh_gov__window_coverage(g, 0, 11 * SEC, 1 * SEC,
						      12 * SEC, &cov));
		assert_true(ovh_gov__window_coverage(g, 0, 1 * SEC, 1 * SEC,
						     12 * SEC, &cov));
		assert_true(fabs(cov - 1.0 / 11) < 1e-9);
		assert_false(ovh_gov__window_coverage(g, 1, 0, 0, 12 * SEC,
						      &cov));
	}
	/* still hot: off again at once, now for 4 s */
	k = step(g, &now, calls, hot, 2, 1.0, out);
	assert_int_equal(k, 1);
	assert_int_equal(out[0].action, OVH_OFF);
	assert_int_equal(ovh_gov__on_ns(g, 0, now), 2 * SEC);
	assert_true(ovh_gov__was_off(g, 0));
	assert_false(ovh_gov__was_off(g, 1));
	t_off = now;
	for (int i = 0; i < 40; i++) {
		k = step(g, &now, calls, cold, 2, 0.8, out);
		if (k)
			break;
	}
	/* 0.2 halved at 4, 8, 12 and 16 s, back at 20 s; now cold (0.002):
	 * it stays */
	assert_int_equal((now - t_off) / SEC, 20);
	for (int i = 0; i < 5; i++)
		assert_int_equal(step(g, &now, calls, cold, 2, 0.8, out), 0);
	assert_false(ovh_gov__is_off(g, 0));
	assert_true(fabs(ovh_gov__hits_per_s(g, 0) - 2000) < 1e-6);
	ovh_gov__free(g);
}

static void test_latency_sheds_short_calls_first(void **state)
{
	/* a 300 us handler and a 200 ns helper, each probed at 10 us a call
	 * (entry + RET): the handler 100 calls/s (1 ms/s), the helper 50
	 * (0.5 ms/s); the program's own CPU 21 ms/s: 7.1% in all */
	double ns[2] = { 10000, 10000 };
	double rates[2] = { 100, 50 };
	double dur[2] = { 300000, 200 };
	uint64_t calls[2] = { 0 }, sums[2] = { 0 }, now = 0;
	struct ovh_change out[2];
	struct ovh_gov *g = ovh_gov__new(2, ns, 0.05, true), *h;

	(void)state;
	ovh_gov__note_time(g, sums);
	ovh_gov__update(g, now, calls, 0, out);
	for (int i = 0; i < 2; i++)
		sums[i] += (uint64_t)(rates[i] * dur[i]);
	ovh_gov__note_time(g, sums);
	/* by cost the handler would go (leaving 2.4%); weighted by what the
	 * probes do to each call's own time (handler 1 ms/s x 10/300 = 0.033
	 * ms/s, helper 0.5 ms/s x 50 = 25 ms/s) the helper goes, and the
	 * handler alone fits: 4.8% */
	assert_int_equal(step(g, &now, calls, rates, 2, 0.0225, out), 1);
	assert_int_equal(out[0].fid, 1);
	assert_false(ovh_gov__is_off(g, 0));
	ovh_gov__free(g);

	/* without durations (count): the most expensive, the handler */
	h = ovh_gov__new(2, ns, 0.05, true);
	now = 0;
	calls[0] = calls[1] = 0;
	ovh_gov__update(h, now, calls, 0, out);
	assert_int_equal(step(h, &now, calls, rates, 2, 0.0225, out), 1);
	assert_int_equal(out[0].fid, 0);
	ovh_gov__free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_off_cold_kept),
		cmocka_unit_test(test_most_expensive_first_until_it_fits),
		cmocka_unit_test(test_warn_only_decides_nothing),
		cmocka_unit_test(test_idle_process_counted_against_floor),
		cmocka_unit_test(test_back_with_hysteresis_and_backoff),
		cmocka_unit_test(test_latency_sheds_short_calls_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
