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
#include "gobin/gobin.h"
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

/* A program under latency: each function's probe cost, calls/s and call
 * duration; its own work (CPU-s/s) apart from the probes. */
struct timed_prog {
	size_t n;
	const double *ns, *rates, *dur;
	double work;
	uint64_t *calls, *sums, now;
};

/* One second of p: the functions on add their calls and their time, the
 * process's CPU is its work plus their probes' (*probes). */
static size_t step_timed(struct ovh_gov *g, struct timed_prog *p,
			 double *probes, struct ovh_change *out)
{
	*probes = 0;
	for (size_t i = 0; i < p->n; i++)
		if (!ovh_gov__is_off(g, i)) {
			*probes += p->rates[i] * p->ns[i] / 1e9;
			p->sums[i] += (uint64_t)(p->rates[i] * p->dur[i]);
		}
	ovh_gov__note_time(g, p->sums);
	return step(g, &p->now, p->calls, p->rates, p->n, p->work + *probes,
		    out);
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

/* The change out[0..k) makes for fid, or NULL. */
static const struct ovh_change *change_of(const struct ovh_change *out,
					  size_t k, size_t fid)
{
	for (size_t i = 0; i < k; i++)
		if (out[i].fid == fid)
			return &out[i];
	return NULL;
}

/* The probes at 96% of the CPU: the own work (4%) is a small difference,
 * so only the dearest go at first; the others are weighed at the next
 * look, against the work measured without it. */
static void test_probes_most_of_the_cpu_only_the_dearest_go(void **state)
{
	double ns[3] = { 20000, 20000, 20000 };
	/* 0.95, 0.001 and 0.01 CPU-s/s of probes in 1.0 CPU-s/s: the work
	 * 0.039 would weigh fid 1 at 2.6% and fid 2 at 25.6% */
	double rates[3] = { 47500, 50, 500 };
	uint64_t calls[3] = { 0 }, now = 0;
	struct ovh_change out[3];
	struct ovh_gov *g = ovh_gov__new(3, ns, 0.05, true);
	size_t k;

	(void)state;
	assert_non_null(g);
	ovh_gov__update(g, now, calls, 0, out);
	/* probes 0.961 - 0.5 x 1.0: 0.461 to shed; fid 0 alone does */
	k = step(g, &now, calls, rates, 3, 1.0, out);
	assert_int_equal(k, 1);
	assert_int_equal(out[0].fid, 0);
	assert_int_equal(out[0].action, OVH_OFF);
	assert_false(ovh_gov__is_off(g, 1));
	assert_false(ovh_gov__is_off(g, 2));
	/* without it: CPU 0.039 + 0.011; probes 22% of it, the work known:
	 * fid 2 at 25.6% goes, fid 1 at 2.6% fits */
	k = step(g, &now, calls, rates, 3, 0.05, out);
	assert_non_null(change_of(out, k, 2));
	assert_null(change_of(out, k, 1));
	assert_true(ovh_gov__is_off(g, 0));
	assert_false(ovh_gov__is_off(g, 1));
	ovh_gov__free(g);
}

static void test_most_expensive_first_until_it_fits(void **state)
{
	double ns[3] = { 1000, 1000, 1000 };
	/* 0.1, 0.3 and 0.02 CPU-s/s of a process using 1.42: 1.0 its own */
	double rates[3] = { 100000, 300000, 20000 };
	uint64_t calls[3] = { 0 }, now = 0;
	struct ovh_change out[3];
	const struct ovh_change *c0, *c1;
	struct ovh_gov *g = ovh_gov__new(3, ns, 0.05, true);
	double duty;
	size_t k;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	/* 0.42 > 0.05: fid 2 (0.02) fits; fids 0 (0.1) and 1 (0.3) do not:
	 * sampled in time, what is left of 80% of the budget (0.02) split
	 * evenly: 0.01 / 0.1 = 10% and 0.01 / 0.3 = 3.3% of the time */
	k = step(g, &now, calls, rates, 3, 1.42, out);
	assert_int_equal(k, 2);
	c0 = change_of(out, k, 0);
	c1 = change_of(out, k, 1);
	assert_non_null(c0);
	assert_non_null(c1);
	assert_int_equal(c1->action, OVH_OFF);
	assert_true(c1->report && fabs(c1->duty - 0.01 / 0.3) < 1e-6);
	assert_true(fabs(c1->est_overhead - 0.3) < 1e-6);
	assert_int_equal(c0->action, OVH_OFF);
	assert_true(c0->report && fabs(c0->duty - 0.1) < 1e-6);
	assert_true(ovh_gov__is_sampled(g, 0, &duty) && fabs(duty - 0.1) < 1e-6);
	assert_false(ovh_gov__is_off(g, 2));
	ovh_gov__free(g);
}

static void test_sampled_share_the_room(void **state)
{
	double ns[3] = { 1000, 1000, 1000 };
	double rates[3] = { 100000, 600000, 20000 };	/* 0.1, 0.6, 0.02 */
	uint64_t calls[3] = { 0 }, now = 0;
	struct ovh_change out[3];
	struct ovh_gov *g = ovh_gov__new(3, ns, 0.05, true);
	double duty;
	size_t k;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	/* split evenly 0.01 / 0.6 = 1.7% is under OVH_MIN_DUTY: fid 1 off,
	 * fid 0 gets all that is left, 0.02 / 0.1 = 20% */
	k = step(g, &now, calls, rates, 3, 1.72, out);
	assert_int_equal(k, 2);
	assert_int_equal(change_of(out, k, 1)->duty, 0);
	assert_false(ovh_gov__is_sampled(g, 1, &duty));
	assert_true(ovh_gov__is_sampled(g, 0, &duty) && fabs(duty - 0.2) < 1e-6);
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
	double hot[2] = { 4000000, 1000 };	/* 4.0 and 0.001 CPU-s/s */
	double cold[2] = { 2000, 1000 };	/* later: 0.002 */
	uint64_t calls[2] = { 0 }, now = 0, t_off;
	struct ovh_change out[2];
	struct ovh_gov *g = ovh_gov__new(2, ns, 0.05, true);
	double duty;
	size_t k;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	/* 4.0 of 1.0: 80% of the budget less the cold one's buys it 0.98%
	 * of the time, under OVH_MIN_DUTY: off */
	k = step(g, &now, calls, hot, 2, 5.001, out);
	assert_int_equal(k, 1);
	assert_int_equal(out[0].fid, 0);
	assert_true(out[0].action == OVH_OFF && out[0].report &&
		    out[0].duty == 0);
	t_off = now;
	/* tried again 2 s later, its remembered 4.0 halved at each retry
	 * that does not fit (2 s apart) down to 0.031 at 15 s: at 17 s that
	 * fits the budget alone, and 3.9% of the time is worth a sampling
	 * slot: on for a slice (said: back on) */
	for (int i = 0; i < 15; i++) {
		assert_int_equal(step(g, &now, calls, hot, 2, 1.0, out), 0);
		assert_true(ovh_gov__is_off(g, 0));
	}
	k = step(g, &now, calls, hot, 2, 1.0, out);
	assert_int_equal(k, 1);
	assert_true(out[0].action == OVH_ON && out[0].report && out[0].toggle);
	assert_int_equal((now - t_off) / SEC, 16);
	assert_true(ovh_gov__is_sampled(g, 0, &duty));
	assert_true(duty == 1);		/* 0.039 / 0.031, at most all */
	/* still hot: off again at once (said), now tried every 4 s: the
	 * same 7 halvings, back 32 s later */
	k = step(g, &now, calls, hot, 2, 5.0, out);
	assert_true(k == 1 && out[0].action == OVH_OFF && out[0].report);
	assert_false(ovh_gov__is_sampled(g, 0, &duty));
	t_off = now;
	for (int i = 0; i < 60; i++) {
		k = step(g, &now, calls, hot, 2, 1.0, out);
		if (k)
			break;
	}
	assert_true(out[0].action == OVH_ON && out[0].report);
	assert_int_equal((now - t_off) / SEC, 32);
	/* it has cooled meanwhile: its slice measures 0.002, which fits
	 * under half the budget: on in full, nothing more to say */
	assert_int_equal(step(g, &now, calls, cold, 2, 1.0, out), 0);
	assert_false(ovh_gov__is_sampled(g, 0, &duty));
	for (int i = 0; i < 20; i++)
		assert_int_equal(step(g, &now, calls, cold, 2, 0.8, out), 0);
	assert_false(ovh_gov__is_off(g, 0));
	assert_true(fabs(ovh_gov__hits_per_s(g, 0) - 2000) < 1e-6);
	/* on 0-1 s, 17-18 s, 50 s on */
	assert_int_equal(ovh_gov__on_ns(g, 0, now), now - 48 * SEC);
	ovh_gov__free(g);
}

static void test_window_coverage(void **state)
{
	double ns[2] = { 1000, 1000 };
	double hot[2] = { 4000000, 1000 };
	uint64_t calls[2] = { 0 }, now = 0;
	struct ovh_change out[2];
	struct ovh_gov *g = ovh_gov__new(2, ns, 0.05, true);
	double cov = -1;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	assert_int_equal(step(g, &now, calls, hot, 2, 5.001, out), 1);
	for (int i = 0; i < 3; i++)
		step(g, &now, calls, hot, 2, 1.0, out);
	/* on 0-1 s, off since: [2 s, 4 s] 0%; [0 s, 4 s] 1 s of 4 (the
	 * cumulative share since the start, the same here); the cold one
	 * never went off: exact */
	assert_int_equal(now, 4 * SEC);
	assert_int_equal(ovh_gov__on_ns(g, 0, now), 1 * SEC);
	assert_true(ovh_gov__window_coverage(g, 0, 2 * SEC, 1 * SEC, 4 * SEC,
					     &cov));
	assert_true(cov == 0);
	assert_true(ovh_gov__window_coverage(g, 0, 0, 0, 4 * SEC, &cov));
	assert_true(fabs(cov - 0.25) < 1e-9);
	assert_false(ovh_gov__window_coverage(g, 0, 0, 0, 1 * SEC, &cov));
	assert_false(ovh_gov__window_coverage(g, 1, 0, 0, 4 * SEC, &cov));
	ovh_gov__free(g);
}

/* A handler whose own cost is over the budget (6% against 5%) is
 * sampled in time: on for slices, 80% of the budget's worth of the time
 * in the long run; said once, not at each slice. */
static void test_handler_over_budget_sampled_in_time(void **state)
{
	double ns[2] = { 30000, 30000 };
	double rates[2] = { 2000, 10 };	/* 0.06 and 0.0003 CPU-s/s */
	uint64_t calls[2] = { 0 }, now = 0;
	struct ovh_change out[2];
	struct ovh_gov *g = ovh_gov__new(2, ns, 0.05, true);
	size_t said = 0, slices = 0;
	double duty, cov;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	for (int i = 0; i < 200; i++) {
		bool on = !ovh_gov__is_off(g, 0);
		size_t k = step(g, &now, calls, rates, 2,
				1.0 + (on ? 0.06 : 0) + 0.0003, out);

		for (size_t j = 0; j < k; j++) {
			assert_int_equal(out[j].fid, 0);
			said += out[j].report;
			slices += out[j].action == OVH_ON;
		}
	}
	assert_int_equal(said, 1);
	assert_true(ovh_gov__is_sampled(g, 0, &duty));
	/* (0.04 - 0.0003) / 0.06 */
	assert_true(fabs(duty - 0.6617) < 1e-3);
	assert_true(slices > 10);	/* 2 s slices, ~9 s apart */
	assert_true(ovh_gov__window_coverage(g, 0, 0, 0, now, &cov));
	assert_true(fabs(cov - duty) < 0.03);
	assert_false(ovh_gov__is_off(g, 1) || ovh_gov__was_off(g, 1));
	ovh_gov__free(g);
}

/* count (no durations): of two functions that cost the same, the one
 * called 50 times as often goes first (sampled, it still gives the most
 * calls); the one called 2,000 times a second stays exact. */
static void test_equal_cost_the_much_called_goes_first(void **state)
{
	double ns[2] = { 300, 15000 };
	double rates[2] = { 100000, 2000 };	/* 0.03 CPU-s/s each */
	uint64_t calls[2] = { 0 }, now = 0;
	struct ovh_change out[2];
	struct ovh_gov *g = ovh_gov__new(2, ns, 0.05, true);
	size_t k;

	(void)state;
	ovh_gov__update(g, now, calls, 0, out);
	k = step(g, &now, calls, rates, 2, 1.06, out);
	assert_int_equal(k, 1);
	assert_int_equal(out[0].fid, 0);
	assert_false(ovh_gov__is_off(g, 1));
	ovh_gov__free(g);
}

/* --keep: a kept function is never throttled, its cost counted first and
 * the others make room; kept functions over the budget on their own are
 * said once, and stay on. */
static void test_kept_never_throttled(void **state)
{
	double ns[3] = { 1000, 1000, 1000 };
	double rates[3] = { 300000, 30000, 10000 };	/* 0.3, 0.03, 0.01 */
	uint64_t calls[3] = { 0 }, now = 0;
	struct ovh_change out[3];
	struct ovh_gov *g = ovh_gov__new(3, ns, 0.05, true);
	double kept, duty;
	size_t k;

	(void)state;
	ovh_gov__set_kept(g, 2, true);
	ovh_gov__update(g, now, calls, 0, out);
	/* unkept, fid 0 would go; kept fid 2 (0.01) counts first, fid 1
	 * (0.03) fits with it, fid 0 (0.3) does not: (0.04 - 0.04) leaves it
	 * nothing, off */
	k = step(g, &now, calls, rates, 3, 1.34, out);
	assert_int_equal(k, 1);
	assert_int_equal(out[0].fid, 0);
	assert_false(ovh_gov__kept_over_budget(g, &kept));
	/* now the whole budget kept: fid 0 on again at once (kept since),
	 * fid 1 makes room */
	ovh_gov__set_kept(g, 0, true);
	k = step(g, &now, calls, rates, 3, 1.04, out);
	assert_true(change_of(out, k, 0) &&
		    change_of(out, k, 0)->action == OVH_ON);
	assert_false(ovh_gov__is_off(g, 0));
	k = step(g, &now, calls, rates, 3, 1.34, out);
	assert_int_equal(k, 1);
	assert_int_equal(out[0].fid, 1);
	assert_int_equal(out[0].action, OVH_OFF);
	assert_false(ovh_gov__is_sampled(g, 1, &duty));
	assert_true(ovh_gov__kept_over_budget(g, &kept));
	assert_true(fabs(kept - 0.31) < 1e-6);
	for (int i = 0; i < 20; i++) {
		step(g, &now, calls, rates, 3, 1.31, out);
		assert_false(ovh_gov__is_off(g, 0) || ovh_gov__is_off(g, 2));
		assert_false(ovh_gov__kept_over_budget(g, &kept));  /* once */
	}
	assert_true(ovh_gov__is_kept(g, 0) && !ovh_gov__is_kept(g, 1));
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

/*
 * latency '*' on esbuild serving HTTP (issue 16): the handler,
 * (*apiHandler).ServeHTTP, 4,000 calls/s of 300 us under 15 us of probes
 * (6% of the program's work alone, over the 5% budget; well timed:
 * 300 / 315 of a call its own); 200 rare GC functions, 30 calls/s of
 * 1 us under 5 us (3% together, timed badly: 1/6); 3 hot helpers,
 * 100,000 calls/s of 200 ns under 3 us (30% each); a library's wait
 * (a keep-alive connection's Read: 2,000 calls/s of 2 ms, 3%) and the
 * runtime's (an idle M's notesleep: 1,000 of 5 ms, 1.5%), both well
 * timed and longer than the handler. By score() alone the GC functions
 * fill the budget and the handler gets what is left, a few percent of
 * the time at best; by duration alone the waits would take the
 * well-timed slot. With the first claim (OVH_WELL_ROOM: 4.5%) of the
 * program's own well-timed code, the handler is sampled at (4.5% x
 * OVH_FILL) / 6% = 60% of the time at least, the GC functions share the
 * rest (0.5%: 33 of them fit), and the probes stay within the budget.
 */
#define ESB_N (1 + 200 + 3 + 2)
#define ESB_LIB_WAIT (ESB_N - 2)
#define ESB_RT_WAIT (ESB_N - 1)
static void test_handler_first_claim_over_rare_badly_timed(void **state)
{
	double ns[ESB_N], rates[ESB_N], dur[ESB_N], duty = 0, cov = 0;
	uint64_t calls[ESB_N] = { 0 }, sums[ESB_N] = { 0 };
	uint64_t since = 0, on_since = 0;
	struct timed_prog prog = { .n = ESB_N, .ns = ns, .rates = rates,
				   .dur = dur, .work = 1.0, .calls = calls,
				   .sums = sums };
	struct ovh_change out[ESB_N];
	struct ovh_gov *g;
	double probes_sum = 0;
	size_t gc_on = 0, said = 0;

	(void)state;
	for (size_t i = 0; i < ESB_N; i++) {
		ns[i] = i == 0 ? 15000 : i <= 200 ? 5000 : 3000;
		rates[i] = i == 0 ? 4000 : i <= 200 ? 30 : 100000;
		dur[i] = i == 0 ? 300000 : i <= 200 ? 1000 : 200;
	}
	ns[ESB_LIB_WAIT] = ns[ESB_RT_WAIT] = 15000;
	rates[ESB_LIB_WAIT] = 2000;
	rates[ESB_RT_WAIT] = 1000;
	dur[ESB_LIB_WAIT] = 2000000;
	dur[ESB_RT_WAIT] = 5000000;
	g = ovh_gov__new(ESB_N, ns, 0.05, true);
	assert_non_null(g);
	ovh_gov__set_own(g, 0, true);
	ovh_gov__set_wait(g, ESB_RT_WAIT, true);
	ovh_gov__note_time(g, sums);
	ovh_gov__update(g, prog.now, calls, 0, out);
	for (int t = 0; t < 240; t++) {
		double probes;

		if (t == 120) {
			since = prog.now;
			on_since = ovh_gov__on_ns(g, 0, prog.now);
		}
		size_t k = step_timed(g, &prog, &probes, out);

		if (t >= 120)
			probes_sum += probes;
		for (size_t j = 0; j < k; j++)
			said += out[j].fid == 0 && out[j].report;
	}
	/* the last 120 s: the handler on 60% of the time or more (its 2 s
	 * slices: a slice more or less in the window moves it ~2%) */
	assert_true(ovh_gov__is_sampled(g, 0, &duty) ||
		    !ovh_gov__is_off(g, 0));
	assert_true(duty >= 0.59);
	assert_true(ovh_gov__window_coverage(g, 0, since, on_since, prog.now,
					     &cov));
	assert_true(cov >= 0.56);
	assert_int_equal(ovh_gov__well_timed_slot(g), 0);
	assert_true(said <= 2);		/* throttled, not each slice */
	/* the budget held on average: the probes over the work (1.0) */
	assert_true(probes_sum / 120 <= 0.05);
	/* the rest of it to the rare ones: 0.5% / 0.015% */
	for (size_t i = 1; i <= 200; i++)
		gc_on += !ovh_gov__is_off(g, i);
	assert_in_range(gc_on, 30, 33);
	for (size_t i = 201; i < ESB_LIB_WAIT; i++)
		assert_true(ovh_gov__is_off(g, i));
	ovh_gov__free(g);
}

/*
 * The same as measured on this machine (bench/overhead.py, 2026-12-07):
 * esbuild's own work ~0.85 CPU-s/s; the handler 3,400 calls/s of 146 us
 * under ~10 us of probes (entry 0.6 us, RET 9.2 us): 4% of that work
 * alone, under the 5% budget; its chain of the program's own code
 * (its closures, notifyRequest, the request log, ReadDirectory: 8
 * functions as often, 10-50 us each: timed badly) and net/http's
 * serverHandler.ServeHTTP (the handler's caller: well timed, the
 * library's); 200 rare GC functions, 400 warm ones (0.5% each: 2 us
 * calls, 425 a second) and 3 hot helpers. At the start every probe is on
 * (~3.3x the work: the dearest go first, govern_unsure, the handler among
 * them). The handler fits the well-timed claim (OVH_WELL_ROOM x 5% =
 * 4.5%): it comes back and ends on in full, is never throttled in the
 * last 100 s, and the probes stay within the budget. (With a claim of
 * half the budget it ended sampled half the time.)
 */
#define CHAIN_N (1 + 8 + 1 + 200 + 400 + 3)
#define CHAIN_CALLER 9
#define CHAIN_RARE_END (CHAIN_CALLER + 1 + 200)
#define CHAIN_WARM_END (CHAIN_RARE_END + 400)
static void test_handler_on_in_full_when_it_fits_the_claim(void **state)
{
	double ns[CHAIN_N], rates[CHAIN_N], dur[CHAIN_N], probes_sum = 0;
	uint64_t calls[CHAIN_N] = { 0 }, sums[CHAIN_N] = { 0 };
	struct timed_prog prog = { .n = CHAIN_N, .ns = ns, .rates = rates,
				   .dur = dur, .work = 0.85, .calls = calls,
				   .sums = sums };
	struct ovh_change out[CHAIN_N];
	struct ovh_gov *g;
	size_t said_late = 0;

	(void)state;
	for (size_t i = 0; i < CHAIN_N; i++) {
		bool chain = i <= CHAIN_CALLER;
		bool rare = !chain && i < CHAIN_RARE_END;
		bool warm = !chain && !rare && i < CHAIN_WARM_END;

		ns[i] = chain ? 10000 : rare ? 5000 : warm ? 10000 : 3000;
		rates[i] = chain ? 3400 : rare ? 30 : warm ? 425 : 100000;
		dur[i] = i == 0 ? 146000 : i == CHAIN_CALLER ? 150000 :
			 chain ? 10000 + 5000 * i :
			 rare ? 1000 : warm ? 2000 : 200;
	}
	g = ovh_gov__new(CHAIN_N, ns, 0.05, true);
	assert_non_null(g);
	for (size_t i = 0; i < CHAIN_CALLER; i++)
		ovh_gov__set_own(g, i, true);
	ovh_gov__note_time(g, sums);
	ovh_gov__update(g, prog.now, calls, 0, out);
	for (int t = 0; t < 240; t++) {
		double probes;
		size_t k = step_timed(g, &prog, &probes, out);

		if (t >= 120)
			probes_sum += probes;
		for (size_t j = 0; j < k; j++)
			said_late += t >= 140 && out[j].fid == 0 &&
				     out[j].report;
	}
	assert_true(ovh_gov__was_off(g, 0));	/* shed at the start */
	assert_false(ovh_gov__is_off(g, 0));
	assert_false(ovh_gov__is_sampled(g, 0, &(double){ 0 }));
	assert_int_equal(said_late, 0);
	/* the budget held on average: the probes over the work */
	assert_true(probes_sum / 120 / prog.work <= 0.05);
	ovh_gov__free(g);
}

/* Own code: package main, a module of the binary's buildinfo (a main
 * module path without a dot too), a dotted first element; the standard
 * library, its vendored packages and a module's prefix that is not a
 * path element are not. */
static void test_own_func_by_module_path(void **state)
{
	struct gobin_module deps[] = { { .path = "example.com/lib" },
				       { .path = "corp/tools" } };
	struct gobin_buildinfo bi = { .present = true,
				      .main = { .path = "myapp" },
				      .deps = deps, .dep_cnt = 2 };

	(void)state;
	assert_true(ovh_gov__own_func("main.handle", &bi));
	assert_true(ovh_gov__own_func("myapp/handlers.(*Srv).ServeHTTP", &bi));
	assert_true(ovh_gov__own_func("myapp.Run", &bi));
	assert_true(ovh_gov__own_func("corp/tools/log.Printf", &bi));
	assert_true(ovh_gov__own_func("github.com/x/y.F", &bi));
	assert_false(ovh_gov__own_func("myapplication/x.F", &bi));
	assert_false(ovh_gov__own_func("net/http.(*conn).serve", &bi));
	assert_false(ovh_gov__own_func("runtime.mallocgc", &bi));
	assert_false(ovh_gov__own_func("vendor/golang.org/x/net/http2/hpack.F", &bi));
	/* without buildinfo, by the name alone */
	assert_false(ovh_gov__own_func("myapp/handlers.F", NULL));
	assert_true(ovh_gov__own_func("github.com/x/y.F", NULL));
	bi.present = false;
	assert_false(ovh_gov__own_func("myapp/handlers.F", &bi));
	/* the runtime's, whose long calls are waits */
	assert_true(ovh_gov__runtime_func("runtime.notesleep"));
	assert_true(ovh_gov__runtime_func("internal/runtime/syscall.Syscall6"));
	assert_true(ovh_gov__runtime_func("runtime/internal/atomic.Load"));
	assert_false(ovh_gov__runtime_func("runtime/debug.SetGCPercent"));
	assert_false(ovh_gov__runtime_func("net/http.(*conn).serve"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_off_cold_kept),
		cmocka_unit_test(test_probes_most_of_the_cpu_only_the_dearest_go),
		cmocka_unit_test(test_most_expensive_first_until_it_fits),
		cmocka_unit_test(test_sampled_share_the_room),
		cmocka_unit_test(test_warn_only_decides_nothing),
		cmocka_unit_test(test_idle_process_counted_against_floor),
		cmocka_unit_test(test_back_with_hysteresis_and_backoff),
		cmocka_unit_test(test_latency_sheds_short_calls_first),
		cmocka_unit_test(test_window_coverage),
		cmocka_unit_test(test_handler_over_budget_sampled_in_time),
		cmocka_unit_test(test_equal_cost_the_much_called_goes_first),
		cmocka_unit_test(test_kept_never_throttled),
		cmocka_unit_test(test_handler_first_claim_over_rare_badly_timed),
		cmocka_unit_test(test_handler_on_in_full_when_it_fits_the_claim),
		cmocka_unit_test(test_own_func_by_module_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
