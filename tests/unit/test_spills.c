// SPDX-License-Identifier: MIT
/*
 * gobin__reg_arg_spills (src/gobin/spills.c) on the stripped args
 * fixture: the morestack path's stores give each register argument's
 * register, width and spill slot, as go1.19's abi-internal.md assigns
 * them to the Go source's signatures (tests/fixtures/args/main.go).
 */
#include <errno.h>

#include "testutil.h"

static void test_mixed_sub_word_arguments(void **state)
{
	/* mixed(a int8, b int16, c int32, d int64, e uint8, f uint16,
	 * g uint32, h uint64, ok bool) */
	static const struct { int reg; uint32_t off, size; } want[] = {
		{ 0, 0, 1 }, { 1, 2, 2 }, { 2, 4, 4 }, { 3, 8, 8 },
		{ 4, 16, 1 }, { 5, 18, 2 }, { 6, 20, 4 }, { 7, 24, 8 },
		{ 8, 32, 1 },
	};
	struct gobin *gb = tu_open_fixture("args-stripped");
	struct gobin_spill sp[16];
	size_t n = 0;

	if (!gb)
		skip();
	assert_int_equal(gobin__reg_arg_spills(gb, gobin__func_by_name(gb, "main.mixed"),
					       sp, 16, &n), 0);
	assert_int_equal(n, 9);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sp[i].int_reg, want[i].reg);
		assert_int_equal(sp[i].off, want[i].off);
		assert_int_equal(sp[i].size, want[i].size);
	}
	/* too small a buffer is said, not cut silently */
	assert_int_equal(gobin__reg_arg_spills(gb, gobin__func_by_name(gb, "main.mixed"),
					       sp, 4, &n), -E2BIG);
	gobin__free(gb);
}

static void test_word_arguments_and_none(void **state)
{
	struct gobin *gb = tu_open_fixture("args-stripped");
	struct gobin_spill sp[16];
	size_t n = 0;

	if (!gb)
		skip();
	/* greet(name string, times int): RAX ptr, RBX len, RCX */
	assert_int_equal(gobin__reg_arg_spills(gb, gobin__func_by_name(gb, "main.greet"),
					       sp, 16, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sp[i].int_reg, (int)i);
		assert_int_equal(sp[i].size, 8);
		assert_int_equal(sp[i].off, 8 * i);
	}
	/* many(a1..a11 int): 9 registers (the stores end with a NOP before
	 * the call in go1.19), then 2 stack words before the spill area */
	assert_int_equal(gobin__reg_arg_spills(gb, gobin__func_by_name(gb, "main.many"),
					       sp, 16, &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(sp[8].int_reg, 8);
	assert_int_equal(sp[0].off, 16);
	/* assembly without a morestack path: unknown, not "no arguments" */
	assert_int_equal(gobin__reg_arg_spills(gb, gobin__func_by_name(gb, "runtime.memmove"),
					       sp, 16, &n), -ENOENT);
	gobin__free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_sub_word_arguments),
		cmocka_unit_test(test_word_arguments_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
