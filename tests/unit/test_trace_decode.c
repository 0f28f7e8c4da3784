// SPDX-License-Identifier: GPL-2.0
/*
 * trace_decode (src/trace_decode.c): where the arguments and results of
 * the args fixture's functions live, checked against Go's register ABI
 * (go1.19 abi-internal.md: RAX RBX RCX RDI RSI R8 R9 R10 R11, results from
 * RAX again, arguments past the ninth word on the stack above the return
 * address) and the Go source (tests/fixtures/args/main.go), and a record
 * decoded back into JSON.
 */
#include "testutil.h"

#include "../../src/json_writer.c"
#include "../../src/trace_decode.c"

static struct gobin *open_fixture(const char *name)
{
	char path[4096], err[256];
	struct gobin *gb = NULL;

	if (!tu_fixture(name, path, sizeof(path)))
		return NULL;
	assert_int_equal(gobin__open(path, &gb, err, sizeof(err)), 0);
	return gb;
}

static void plan_of(struct gobin *gb, const char *fn, struct tr_plan *p)
{
	const struct gobin_func *f = gobin__func_by_name(gb, fn);

	assert_non_null(f);
	assert_int_equal(trace_plan__build(gb, f, p), 0);
}

static void test_greet_string_in_rax_rbx(void **state)
{
	struct gobin *gb = open_fixture("args");
	struct tr_plan p;

	if (!gb)
		skip();
	/* func greet(name string, times int) string */
	plan_of(gb, "main.greet", &p);
	assert_false(p.raw);
	assert_int_equal(p.nval, 3);
	assert_string_equal(p.vals[0].name, "name");
	assert_int_equal(p.vals[0].npieces, 2);
	assert_int_equal(p.vals[0].pieces[0].kind, TR_SRC_REG);
	assert_int_equal(p.vals[0].pieces[0].idx, 0);	/* RAX: ptr */
	assert_int_equal(p.vals[0].pieces[1].idx, 1);	/* RBX: len */
	assert_int_equal(p.vals[0].pieces[1].img_off, 8);
	assert_string_equal(p.vals[1].name, "times");
	assert_int_equal(p.vals[1].pieces[0].idx, 2);	/* RCX */
	assert_true(p.vals[2].is_result);
	assert_true(p.vals[2].pieces[0].at_ret);
	assert_int_equal(p.vals[2].pieces[0].idx, 0);
	assert_int_equal(p.vals[2].pieces[1].idx, 1);
	/* the name's bytes at the entry, the result's at the RET */
	assert_int_equal(p.nstr, 2);
	assert_int_equal(p.spec.ops[0].at_ret, 0);
	assert_int_equal(p.spec.ops[0].ptr_idx, 0);
	assert_int_equal(p.spec.ops[0].len_idx, 1);
	assert_int_equal(p.spec.ops[1].at_ret, 1);
	assert_int_equal(p.nregs, 3);
	trace_plan__free(&p);
	gobin__free(gb);
}

static void test_many_args_spill_to_the_stack(void **state)
{
	struct gobin *gb = open_fixture("args");
	struct tr_plan p;

	if (!gb)
		skip();
	/* func many(a1, ..., a11 int) int: a10, a11 at SP+8, SP+16 */
	plan_of(gb, "main.many", &p);
	assert_int_equal(p.nval, 12);
	assert_int_equal(p.vals[8].pieces[0].kind, TR_SRC_REG);
	assert_int_equal(p.vals[8].pieces[0].idx, 8);	/* R11 */
	assert_int_equal(p.vals[9].pieces[0].kind, TR_SRC_STACK);
	assert_int_equal(p.vals[9].pieces[0].idx, 0);
	assert_int_equal(p.vals[10].pieces[0].idx, 8);
	assert_int_equal(p.spec.stack_bytes, 16);
	assert_int_equal(p.nregs, 9);
	trace_plan__free(&p);
	/* func swap(p Point) Point: the result struct in RAX, RBX */
	plan_of(gb, "main.swap", &p);
	assert_int_equal(p.vals[1].npieces, 2);
	assert_int_equal(p.vals[1].pieces[1].idx, 1);
	assert_int_equal(p.vals[1].pieces[1].img_off, 8);
	trace_plan__free(&p);
	/* func scale(f float64, n int) float64: X0 is not readable */
	plan_of(gb, "main.scale", &p);
	assert_int_equal(p.vals[0].pieces[0].kind, TR_SRC_NONE);
	assert_int_equal(p.vals[1].pieces[0].idx, 0);	/* n: RAX */
	assert_int_equal(p.vals[2].pieces[0].kind, TR_SRC_NONE);
	trace_plan__free(&p);
	gobin__free(gb);
}

static void test_decode_record_to_json(void **state)
{
	struct gobin *gb = open_fixture("args");
	struct tr_event *e = calloc(1, sizeof(*e));
	struct tr_out o = {};
	struct tr_plan p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!gb) {
		free(e);
		skip();
	}
	plan_of(gb, "main.greet", &p);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	o.jw = jw_new(f);
	e->ts_entry = 1000;
	e->ts_ret = 1500;
	e->pid = 7;
	e->tid = 8;
	e->goid = 1;
	e->regs[0] = 0x4000;		/* name.ptr */
	e->regs[1] = 6;			/* name.len */
	e->regs[2] = 2;			/* times */
	memcpy(e->str[0], "gopher", 6);
	e->str_len[0] = 6;
	e->ret_regs[0] = 0x5000;
	e->ret_regs[1] = 26;
	memcpy(e->str[1], "hello gopher hello gopher ", 26);
	e->str_len[1] = 26;
	trace_print(&o, &p, "main.greet", e);
	jw_free(o.jw);
	fclose(f);
	assert_string_equal(buf,
		"{\"type\":\"call\",\"ts_ns\":1000,\"pid\":7,\"tid\":8,\"goid\":1,"
		"\"func\":\"main.greet\",\"args\":{\"name\":\"gopher\",\"times\":2},"
		"\"ret\":{\"~r0\":\"hello gopher hello gopher \"},\"dur_ns\":500}\n");
	free(buf);
	free(e);
	trace_plan__free(&p);
	gobin__free(gb);
}

static void test_stripped_is_raw_and_filters(void **state)
{
	struct gobin *gb = open_fixture("args-stripped");
	struct tr_plan p;

	if (!gb)
		skip();
	/* greet's args: string + int = 3 words (pclntab args size 24) */
	plan_of(gb, "main.greet", &p);
	assert_true(p.raw);
	assert_int_equal(p.raw_args, 3);
	assert_int_equal(p.nregs, 3);
	assert_int_equal(trace_plan__set_filter(&p, "arg2", TR_OP_GT, 1), 0);
	assert_int_equal(p.spec.filt_kind, TR_FILT_REG);
	assert_int_equal(p.spec.filt_idx, 2);
	assert_int_equal(trace_plan__set_filter(&p, "arg3", TR_OP_GT, 1),
			 -ENOENT);
	assert_int_equal(p.spec.filt_kind, TR_FILT_NEVER);
	trace_plan__free(&p);
	gobin__free(gb);
	gb = open_fixture("args");
	/* mixed(a int8, ...): a signed byte in RAX; swap's p is a struct */
	plan_of(gb, "main.mixed", &p);
	assert_int_equal(trace_plan__set_filter(&p, "a", TR_OP_LT, 0), 0);
	assert_int_equal(p.spec.filt_size, 1);
	assert_int_equal(p.spec.filt_signed, 1);
	assert_int_equal(trace_plan__set_filter(&p, "h", TR_OP_LT, 0), 0);
	assert_int_equal(p.spec.filt_signed, 0);
	assert_int_equal(p.spec.filt_idx, 7);	/* R10 */
	trace_plan__free(&p);
	plan_of(gb, "main.swap", &p);
	assert_int_equal(trace_plan__set_filter(&p, "p", TR_OP_EQ, 0), -EINVAL);
	trace_plan__free(&p);
	gobin__free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greet_string_in_rax_rbx),
		cmocka_unit_test(test_many_args_spill_to_the_stack),
		cmocka_unit_test(test_decode_record_to_json),
		cmocka_unit_test(test_stripped_is_raw_and_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
