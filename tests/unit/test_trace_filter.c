// SPDX-License-Identifier: MIT
/*
 * trace_filter (src/trace/trace_filter.c): --filter expressions parsed, their
 * truth tables checked against the expression evaluated by hand here,
 * bad input refused with a reason, several filters ANDed, and an
 * expression applied to the args fixture's functions (which atoms land
 * where in the spec the kernel reads).
 */
#include "testutil.h"

#include "json_writer.c"
#include "trace/trace_plan.c"
#include "trace/trace_expr.c"
#include "trace/trace_syms.c"
#include "trace/trace_stack.c"
#include "trace/trace_decode.c"
#include "trace/trace_unwind.c"
#include "trace/trace_filter.c"

static struct trace_filter parsed(const char *expr)
{
	struct trace_filter f;
	char why[160];

	trace_filter__init(&f);
	if (trace_filter__add(&f, expr, why, sizeof(why)))
		fail_msg("'%s' refused: %s", expr, why);
	return f;
}

static void test_one_comparison(void **state)
{
	struct trace_filter f = parsed("  n >= -3 ");

	assert_int_equal(f.natoms, 1);
	assert_string_equal(f.atoms[0].name, "n");
	assert_int_equal(f.atoms[0].op, TR_OP_GE);
	assert_int_equal((int64_t)f.atoms[0].val, -3);
	assert_false(f.atoms[0].is_str);
	/* false for mask 0, true for mask 1 */
	assert_int_equal(trace_filter__table(&f), 0x2);
}

static void test_every_operator_and_number(void **state)
{
	static const struct { const char *e; enum tr_filt_op op; uint64_t v; } c[] = {
		{ "x==1", TR_OP_EQ, 1 }, { "x != 0x10", TR_OP_NE, 16 },
		{ "x<2", TR_OP_LT, 2 }, { "x <= 3", TR_OP_LE, 3 },
		{ "x>4", TR_OP_GT, 4 }, { "x >= 18446744073709551615", TR_OP_GE, UINT64_MAX },
		{ "x == -9223372036854775808", TR_OP_EQ, 1ULL << 63 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct trace_filter f = parsed(c[i].e);

		assert_int_equal(f.natoms, 1);
		assert_int_equal(f.atoms[0].op, c[i].op);
		assert_true(f.atoms[0].val == c[i].v);
	}
}

static void test_strings(void **state)
{
	struct trace_filter f = parsed("name == \"go\\\"x\\x00\" || name != \"\"");

	assert_int_equal(f.natoms, 2);
	assert_true(f.atoms[0].is_str);
	assert_int_equal(f.atoms[0].str_len, 5);
	assert_memory_equal(f.atoms[0].str, "go\"x\0", 5);
	assert_int_equal(f.atoms[1].str_len, 0);
	assert_int_equal(f.atoms[1].op, TR_OP_NE);
	/* a || b: every mask but 0 */
	assert_int_equal(trace_filter__table(&f), 0xe);
}

/* The table must be the expression, for every mask. */
static void check_table(const char *expr, int natoms,
			bool (*want)(uint64_t m))
{
	struct trace_filter f = parsed(expr);
	uint64_t t = trace_filter__table(&f);

	assert_int_equal(f.natoms, natoms);
	for (uint64_t m = 0; m < (1ULL << natoms); m++) {
		if (((t >> m) & 1) != want(m))
			fail_msg("'%s': mask %#llx gives %d", expr,
				 (unsigned long long)m, (int)((t >> m) & 1));
	}
	/* nothing beyond the masks that exist */
	if (natoms < 6)
		assert_int_equal(t >> (1ULL << natoms), 0);
}

#define B(m, i) (((m) >> (i)) & 1)
static bool w_prec(uint64_t m) { return B(m, 0) || (B(m, 1) && B(m, 2)); }
static bool w_paren(uint64_t m) { return (B(m, 0) || B(m, 1)) && B(m, 2); }
static bool w_not(uint64_t m) { return !B(m, 0) && !(B(m, 1) || !B(m, 2)); }
static bool w_six(uint64_t m)
{
	return (B(m, 0) && !B(m, 1)) || (B(m, 2) && B(m, 3) && !(B(m, 4) || B(m, 5)));
}
static bool w_dup(uint64_t m) { return B(m, 0) && (B(m, 1) || !B(m, 0)); }
static bool w_true(uint64_t m) { return true; }
static bool w_false(uint64_t m) { return false; }
static bool w_const(uint64_t m) { return B(m, 0); }

static void test_truth_tables(void **state)
{
	/* && binds tighter than || (as in Go and C) */
	check_table("a == 1 || b == 2 && c == 3", 3, w_prec);
	check_table("(a == 1 || b == 2) && c == 3", 3, w_paren);
	check_table("!a==1 && !(b == 2 || !c == 3)", 3, w_not);
	check_table("(a==1 && !b==2) || (c==3 && d==4 && !(e==5 || f==6))", 6, w_six);
	/* the same comparison twice is one atom */
	check_table("a == 1 && (b == 2 || !(a == 1))", 2, w_dup);
	check_table("true", 0, w_true);
	check_table("false", 0, w_false);
	check_table("!false && (true || false)", 0, w_true);
	check_table("x == 1 && true || false", 1, w_const);
}

static void test_several_filters_and(void **state)
{
	struct trace_filter f;
	char why[160];

	trace_filter__init(&f);
	/* no filter: everything passes */
	assert_int_equal(f.root, -1);
	assert_true(trace_filter__eval(&f, 0));
	assert_int_equal(trace_filter__add(&f, "a == 1 || b == 2", why, sizeof(why)), 0);
	assert_int_equal(trace_filter__add(&f, "c > 3", why, sizeof(why)), 0);
	assert_int_equal(f.natoms, 3);
	/* (a || b) && c, not c alone: the second one no longer replaces */
	for (uint64_t m = 0; m < 8; m++)
		assert_int_equal(trace_filter__eval(&f, m),
				 (B(m, 0) || B(m, 1)) && B(m, 2));
}

static void test_required(void **state)
{
	struct trace_filter f = parsed("goid == 7 && (x == 1 || pid == 3) && pid == 42");
	uint64_t v = 0;

	assert_true(trace_filter__required(&f, "goid", &v));
	assert_int_equal(v, 7);
	assert_true(trace_filter__required(&f, "pid", &v));
	assert_int_equal(v, 42);
	f = parsed("goid == 7 || x == 1");
	assert_false(trace_filter__required(&f, "goid", &v));
	f = parsed("!(goid == 7)");
	assert_false(trace_filter__required(&f, "goid", &v));
	f = parsed("goid != 7");
	assert_false(trace_filter__required(&f, "goid", &v));
}

static void test_refused(void **state)
{
	static const struct { const char *e; int err; const char *why; } c[] = {
		{ "", -EINVAL, "ends early" },
		{ "a", -EINVAL, "expected ==" },
		{ "a ==", -EINVAL, "integer" },
		{ "a == 1 &&", -EINVAL, "ends early" },
		{ "a == 1 b == 2", -EINVAL, "unexpected 'b'" },
		{ "(a == 1", -EINVAL, "expected ')'" },
		{ "a == 1)", -EINVAL, "unexpected ')'" },
		{ "a = 1", -EINVAL, "expected ==" },
		{ "a == 1x", -EINVAL, "integer" },
		{ "a < \"x\"", -EINVAL, "== or !=" },
		{ "goid == \"x\"", -EINVAL, "number" },
		{ "a == \"unterminated", -EINVAL, "string" },
		{ "a == 1 & b == 2", -EINVAL, "unexpected '&'" },
		{ "a==1||b==2||c==3||d==4||e==5||f==6||g==7", -E2BIG, "more than 6" },
		{ "a == \"0123456789012345678901234567890123456789012345678901234567890123456789\"",
		  -E2BIG, "up to 64 bytes" },
		{ "pid == 4294967296", -EINVAL, "pid" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct trace_filter f, before;
		char why[160];

		trace_filter__init(&f);
		assert_int_equal(trace_filter__add(&f, "z == 9", why, sizeof(why)), 0);
		before = f;
		if (trace_filter__add(&f, c[i].e, why, sizeof(why)) != c[i].err)
			fail_msg("'%s' not refused with %d (%s)", c[i].e, c[i].err, why);
		if (!strstr(why, c[i].why))
			fail_msg("'%s': reason '%s' lacks '%s'", c[i].e, why, c[i].why);
		/* a refused filter leaves the earlier ones as they were */
		assert_memory_equal(&f, &before, sizeof(f));
	}
}

static void test_deep_nesting_is_bounded(void **state)
{
	char e[4096];
	struct trace_filter f;
	char why[160];
	size_t n = 0;

	for (int i = 0; i < 1000; i++)
		e[n++] = '(';
	e[n] = 0;
	trace_filter__init(&f);
	assert_int_not_equal(trace_filter__add(&f, e, why, sizeof(why)), 0);
	memset(e, '!', 2000);
	strcpy(e + 2000, "a == 1");
	assert_int_not_equal(trace_filter__add(&f, e, why, sizeof(why)), 0);
}

/* On the args fixture (DWARF): atoms land on their registers, a function
 * without an argument keeps that atom false, goid/pid need no argument. */
static void test_apply_to_args_fixture(void **state)
{
	struct gobin *gb = tu_open_fixture("args");
	struct trace_filter f;
	struct tr_plan add = {0}, greet = {0};
	bool found[TR_FILT_ATOMS];
	int bad = -1;

	if (!gb)
		skip();
	assert_int_equal(trace_plan__build(gb, gobin__func_by_name(gb, "main.add"), &add), 0);
	assert_int_equal(trace_plan__build(gb, gobin__func_by_name(gb, "main.greet"), &greet), 0);
	f = parsed("b == 4 || name == \"go\" || goid > 1");
	assert_int_equal(trace_filter__apply(&f, &add, found, &bad), 0);
	assert_int_equal(add.spec.filt_on, 1);
	assert_int_equal(add.spec.filt_n, 3);
	assert_int_equal(add.spec.filt_table, trace_filter__table(&f));
	assert_true(found[0] && !found[1] && found[2]);
	assert_int_equal(add.spec.filt[0].kind, TR_FILT_REG);
	assert_int_equal(add.spec.filt[0].idx, 1);		/* b: RBX */
	assert_int_equal(add.spec.filt[1].kind, TR_FILT_NEVER);
	assert_int_equal(add.spec.filt[2].kind, TR_FILT_GOID);
	assert_int_equal(trace_filter__apply(&f, &greet, found, &bad), 0);
	assert_true(!found[0] && found[1] && found[2]);
	assert_int_equal(greet.spec.filt[0].kind, TR_FILT_NEVER);
	f = parsed("name == \"go\" && times != 0");
	assert_int_equal(trace_filter__apply(&f, &greet, found, &bad), 0);
	assert_int_equal(greet.spec.filt[0].str, 1);
	assert_int_equal(greet.spec.filt[0].idx, 0);		/* ptr: RAX */
	assert_int_equal(greet.spec.filt[0].len_idx, 1);	/* len: RBX */
	assert_int_equal(greet.spec.filt[1].idx, 2);		/* times: RCX */
	/* a string compared with an integer is refused */
	f = parsed("times == \"2\"");
	assert_int_equal(trace_filter__apply(&f, &greet, found, &bad), -EINVAL);
	assert_int_equal(bad, 0);
	trace_plan__free(&add);
	trace_plan__free(&greet);
	gobin__free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_comparison),
		cmocka_unit_test(test_every_operator_and_number),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_truth_tables),
		cmocka_unit_test(test_several_filters_and),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_deep_nesting_is_bounded),
		cmocka_unit_test(test_apply_to_args_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
