// SPDX-License-Identifier: MIT
/*
 * gobin__abi_assign: Go's assignment of arguments and results to
 * registers and stack slots.
 *
 * Ground truth, none of it from gobin itself:
 * - the worked example of go/src/cmd/compile/abi-internal.md ("Example":
 *   f(a1 uint8, a2 [2]uintptr, a3 uint8) (r1 struct{x uintptr;
 *   y [2]uintptr}, r2 string)) and its amd64 register sequences;
 * - the compiler itself: for every function of the Go fixtures whose
 *   parameters DWARF describes, pclntab records the size of the argument
 *   frame the compiler laid out (stack arguments, stack results, spill
 *   space). The frame computed from DWARF's types must be that size,
 *   except where DWARF leaves a parameter out (compiler-made wrappers
 *   whose receiver has no DWARF entry, blank `_` parameters): there
 *   trace shows nothing as known, which this test also checks stays rare.
 */
#include "testutil.h"

#include <errno.h>

#include "gobin/gobin.h"

static const struct gobin_type t_u8 = { "uint8", GOBIN_K_UINT8, 1 };
static const struct gobin_type t_uptr = { "uintptr", GOBIN_K_UINTPTR, 8 };
static const struct gobin_type t_arr2 = { "[2]uintptr", GOBIN_K_ARRAY, 16,
					  &t_uptr, NULL, 2 };
static const struct gobin_field r1_fields[] = {
	{ "x", 0, &t_uptr, false }, { "y", 8, &t_arr2, false },
};
static const struct gobin_type t_r1 = { "struct{...}", GOBIN_K_STRUCT, 24,
					NULL, NULL, 0, r1_fields, 2 };
static const struct gobin_type t_str = { "string", GOBIN_K_STRING, 16 };
static const struct gobin_type t_f64 = { "float64", GOBIN_K_FLOAT64, 8 };
static const struct gobin_type t_c64 = { "complex64", GOBIN_K_COMPLEX64, 8 };
static const struct gobin_type t_i32 = { "int32", GOBIN_K_INT32, 4 };
static const struct gobin_type t_bool = { "bool", GOBIN_K_BOOL, 1 };
static const struct gobin_type t_empty = { "struct {}", GOBIN_K_STRUCT, 0 };
static const struct gobin_field mixed_fields[] = {
	{ "A", 0, &t_i32, false }, { "B", 8, &t_str, false },
	{ "C", 24, &t_bool, false },
};
static const struct gobin_type t_mixed = { "main.M", GOBIN_K_STRUCT, 32,
					   NULL, NULL, 0, mixed_fields, 3 };

/* The document's example, on amd64's nine integer registers. */
static void test_abi_internal_example(void **state)
{
	const struct gobin_type *types[] = { &t_u8, &t_arr2, &t_u8, &t_r1,
					     &t_str };
	const bool res[] = { false, false, false, true, true };
	struct gobin_abi_slot s[5];
	uint64_t frame;

	assert_int_equal(gobin__abi_assign(GOBIN_ABI_INTERNAL, types, res, 5,
					   s, &frame), 0);
	/* a1 in R0 (RAX), a3 in R1 (RBX) */
	assert_true(s[0].in_regs);
	assert_int_equal(s[0].nleaves, 1);
	assert_int_equal(s[0].leaves[0].reg, 0);
	assert_int_equal(s[0].leaves[0].size, 1);
	assert_true(s[2].in_regs);
	assert_int_equal(s[2].leaves[0].reg, 1);
	/* a2 (an array) first on the stack; r1 after it */
	assert_false(s[1].in_regs);
	assert_int_equal(s[1].stack_off, 0);
	assert_false(s[3].in_regs);
	assert_int_equal(s[3].stack_off, 16);
	/* r2 from the first register again: base R0, len R1 */
	assert_true(s[4].in_regs);
	assert_int_equal(s[4].nleaves, 2);
	assert_int_equal(s[4].leaves[0].reg, 0);
	assert_int_equal(s[4].leaves[1].reg, 1);
	assert_int_equal(s[4].leaves[1].off, 8);
	/* a2 16 + r1 24 + spill of a1, a3 (1 + 1) padded to 8 */
	assert_int_equal(frame, 48);
}

/* The same under ABI0: everything on the stack in order, results after
 * the arguments at the next word. */
static void test_abi0_is_no_registers(void **state)
{
	const struct gobin_type *types[] = { &t_u8, &t_arr2, &t_u8, &t_r1,
					     &t_str };
	const bool res[] = { false, false, false, true, true };
	struct gobin_abi_slot s[5];
	uint64_t frame;

	assert_int_equal(gobin__abi_assign(GOBIN_ABI0, types, res, 5, s,
					   &frame), 0);
	for (int i = 0; i < 5; i++)
		assert_false(s[i].in_regs);
	assert_int_equal(s[0].stack_off, 0);
	assert_int_equal(s[1].stack_off, 8);
	assert_int_equal(s[2].stack_off, 24);
	assert_int_equal(s[3].stack_off, 32);	/* results word-aligned */
	assert_int_equal(s[4].stack_off, 56);
	assert_int_equal(frame, 72);
}

/* Floats take X registers, complex two; a struct is split field-wise and
 * a value that no longer fits goes whole to the stack while later ones
 * may still get registers. Zero-sized values pad the stack. */
static void test_floats_structs_overflow(void **state)
{
	const struct gobin_type *types[] = {
		&t_f64, &t_c64, &t_mixed, &t_str, &t_str, &t_str, &t_mixed,
		&t_bool, &t_empty, &t_i32,
	};
	bool res[10] = { false };
	struct gobin_abi_slot s[10];
	uint64_t frame;

	assert_int_equal(gobin__abi_assign(GOBIN_ABI_INTERNAL, types, res, 10,
					   s, &frame), 0);
	assert_true(s[0].leaves[0].freg);
	assert_int_equal(s[0].leaves[0].reg, 0);
	assert_int_equal(s[1].nleaves, 2);
	assert_int_equal(s[1].leaves[1].reg, 2);
	assert_int_equal(s[1].leaves[1].off, 4);
	/* M: A RAX, B RBX RCX, C RDI */
	assert_int_equal(s[2].nleaves, 4);
	assert_int_equal(s[2].leaves[3].reg, 3);
	assert_int_equal(s[2].leaves[3].off, 24);
	assert_int_equal(s[2].leaves[3].size, 1);
	/* strings: RSI R8, R9 R10, then only R11 is left: stack */
	assert_int_equal(s[3].leaves[0].reg, 4);
	assert_int_equal(s[4].leaves[1].reg, 7);
	assert_false(s[5].in_regs);
	assert_int_equal(s[5].stack_off, 0);
	assert_false(s[6].in_regs);	/* needs 4 integer registers */
	assert_int_equal(s[6].stack_off, 16);
	assert_true(s[7].in_regs);	/* bool: R11 */
	assert_int_equal(s[7].leaves[0].reg, 8);
	assert_false(s[8].in_regs);	/* zero-sized: stack, no bytes */
	assert_int_equal(s[8].stack_off, 48);
	assert_false(s[9].in_regs);	/* no integer register left */
	assert_int_equal(s[9].stack_off, 48);
}

/* A type DWARF did not finish makes the whole assignment untrustworthy. */
static void test_unknown_kind_refused(void **state)
{
	static const struct gobin_type bad = { "?", GOBIN_K_INVALID, 8 };
	const struct gobin_type *types[] = { &t_u8, &bad };
	const bool res[] = { false, false };
	struct gobin_abi_slot s[2];

	assert_int_equal(gobin__abi_assign(GOBIN_ABI_INTERNAL, types, res, 2,
					   s, NULL), -EINVAL);
	types[1] = NULL;
	assert_int_equal(gobin__abi_assign(GOBIN_ABI_INTERNAL, types, res, 2,
					   s, NULL), -EINVAL);
}

/* Every function of a fixture: the frame from DWARF's types is the size
 * the compiler recorded in pclntab, but for the few whose DWARF leaves a
 * parameter out. Every main.* function of the args fixture matches. */
static void check_frames(const char *fixture, size_t min_ok)
{
	struct gobin *gb = tu_open_fixture(fixture);
	size_t ok = 0, bad = 0;
	enum gobin_abi abi;

	if (!gb)
		skip();
	abi = gobin__abi(gb)->abi;
	for (size_t i = 0; i < gobin__func_cnt(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i);
		const struct gobin_type *types[64];
		struct gobin_abi_slot slots[64];
		const struct gobin_param *ps;
		bool res[64];
		uint64_t frame;
		size_t cnt;

		if (gobin__func_by_name(gb, f->name) != f || f->args < 0 ||
		    gobin__func_params(gb, f->name, &ps, &cnt) || cnt > 64 ||
		    (cnt == 0 && f->args > 0))
			continue;
		for (size_t k = 0; k < cnt; k++) {
			types[k] = ps[k].type;
			res[k] = ps[k].is_result;
		}
		if (gobin__abi_assign(abi, types, res, cnt, slots, &frame) ||
		    frame != ((uint64_t)f->args + 7) / 8 * 8) {
			/* (cgo wrappers are ABI0, this assumes the binary's ABI) */
			if (!strncmp(f->name, "main.", 5) &&
			    !strstr(f->name, "._C"))
				fail_msg("%s: frame %lu, pclntab %d", f->name,
					 (unsigned long)frame, f->args);
			bad++;
		} else {
			ok++;
		}
	}
	printf("%s: %zu frames as pclntab says, %zu not\n", fixture, ok, bad);
	assert_true(ok >= min_ok);
	assert_true(bad * 20 < ok);	/* under 5% */
	gobin__free(gb);
}

static void test_frames_args_fixture(void **state)
{
	check_frames("args", 1000);
}

static void test_frames_cgo_fixture(void **state)
{
	check_frames("cgo", 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_internal_example),
		cmocka_unit_test(test_abi0_is_no_registers),
		cmocka_unit_test(test_floats_structs_overflow),
		cmocka_unit_test(test_unknown_kind_refused),
		cmocka_unit_test(test_frames_args_fixture),
		cmocka_unit_test(test_frames_cgo_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
