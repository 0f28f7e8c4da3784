// SPDX-License-Identifier: MIT
/*
 * trace_decode (src/trace/trace_decode.c): where the arguments and results of
 * the args fixture's functions live, checked against Go's register ABI
 * (go1.19 abi-internal.md: RAX RBX RCX RDI RSI R8 R9 R10 R11, results from
 * RAX again, arguments past the ninth word on the stack above the return
 * address) and the Go source (tests/fixtures/args/main.go), and a record
 * decoded back into JSON.
 */
#include "testutil.h"

#include "json_writer.c"
#include "trace/trace_plan.c"
#include "trace/trace_expr.c"
#include "trace/trace_syms.c"
#include "trace/trace_stack.c"
#include "trace/trace_decode.c"
#include "trace/trace_unwind.c"

static void plan_of(struct gobin *gb, const char *fn, struct tr_plan *p)
{
	const struct gobin_func *f = gobin__func_by_name(gb, fn);

	assert_non_null(f);
	assert_int_equal(trace_plan__build(gb, f, p), 0);
}

static void test_greet_string_in_rax_rbx(void **state)
{
	struct gobin *gb = tu_open_fixture("args");
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
	struct gobin *gb = tu_open_fixture("args");
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
	struct gobin *gb = tu_open_fixture("args");
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
	struct gobin *gb = tu_open_fixture("args-stripped");
	struct tr_plan p;

	if (!gb)
		skip();
	/* greet's args: string + int = 3 words (pclntab args size 24) */
	plan_of(gb, "main.greet", &p);
	assert_true(p.raw);
	assert_int_equal(p.raw_args, 3);
	assert_int_equal(p.nregs, 3);
	assert_int_equal(trace_plan__set_filter(&p, 0, "arg2", TR_OP_GT, 1), 0);
	assert_int_equal(p.spec.filt[0].kind, TR_FILT_REG);
	assert_int_equal(p.spec.filt[0].idx, 2);
	assert_int_equal(trace_plan__set_filter(&p, 0, "arg3", TR_OP_GT, 1),
			 -ENOENT);
	assert_int_equal(p.spec.filt[0].kind, TR_FILT_NEVER);
	trace_plan__free(&p);
	gobin__free(gb);
	gb = tu_open_fixture("args");
	/* mixed(a int8, ...): a signed byte in RAX; swap's p is a struct */
	plan_of(gb, "main.mixed", &p);
	assert_int_equal(trace_plan__set_filter(&p, 0, "a", TR_OP_LT, 0), 0);
	assert_int_equal(p.spec.filt[0].size, 1);
	assert_int_equal(p.spec.filt[0].is_signed, 1);
	assert_int_equal(trace_plan__set_filter(&p, 0, "h", TR_OP_LT, 0), 0);
	assert_int_equal(p.spec.filt[0].is_signed, 0);
	assert_int_equal(p.spec.filt[0].idx, 7);	/* R10 */
	trace_plan__free(&p);
	plan_of(gb, "main.swap", &p);
	assert_int_equal(trace_plan__set_filter(&p, 0, "p", TR_OP_EQ, 0), -EINVAL);
	trace_plan__free(&p);
	gobin__free(gb);
}


/* .symtab address of symbol name (nm's view), 0 if none */
static uint64_t sym_addr(struct gobin *gb, const char *name)
{
	for (size_t i = 0; i < gobin__sym_cnt(gb); i++) {
		const struct gobin_sym *s = gobin__sym(gb, i);

		if (s && s->name && !strcmp(s->name, name))
			return s->addr;
	}
	return 0;
}

static void test_error_message_types(void **state)
{
	struct gobin *gb = tu_open_fixture("args");
	struct tr_syms *sy;

	if (!gb)
		skip();
	sy = trace_syms__new(gb);
	assert_non_null(sy);
	/* struct { s string }, struct { msg string; code int } (main.go),
	 * struct { msg string; err error } (fmt/errors.go): Error() is
	 * the leading string */
	assert_true(trace_syms__error_msg(sy, sym_addr(gb, "go.itab.*errors.errorString,error")));
	assert_true(trace_syms__error_msg(sy, sym_addr(gb, "go.itab.*main.codeError,error")));
	assert_true(trace_syms__error_msg(sy, sym_addr(gb, "go.itab.*fmt.wrapError,error")));
	/* PathError{Op, Path string; Err error} leads with a string that is
	 * not its message: Error() is Op + " " + Path + ": " + Err */
	assert_false(trace_syms__error_msg(sy, sym_addr(gb, "go.itab.*io/fs.PathError,error")));
	assert_false(trace_syms__error_msg(sy, sym_addr(gb, "go.itab.*strconv.NumError,error")));
	assert_string_equal(trace_syms__type_name(sy, sym_addr(gb, "go.itab.*main.codeError,error")),
			    "*main.codeError,error");
	trace_syms__free(sy);
	gobin__free(gb);
}

static char *json_of(struct tr_out *o, const struct tr_plan *p,
		     const char *fn, const struct tr_event *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	o->jw = jw_new(f);
	trace_print(o, p, fn, e);
	jw_free(o->jw);
	o->jw = NULL;
	fclose(f);
	return buf;
}

static void test_error_message_decoded(void **state)
{
	struct gobin *gb = tu_open_fixture("args");
	struct tr_event *e = calloc(1, sizeof(*e));
	struct tr_out o = {};
	struct tr_plan p;
	uint64_t itab;
	char *out;

	if (!gb) {
		free(e);
		skip();
	}
	o.syms = trace_syms__new(gb);
	/* func check(n int) error: the result in RAX (itab), RBX (data);
	 * the kernel follows RBX to the message at the RET */
	plan_of(gb, "main.check", &p);
	assert_int_equal(p.nstr, 1);
	assert_int_equal(p.spec.ops[0].mode, TR_STR_DEREF);
	assert_int_equal(p.spec.ops[0].at_ret, 1);
	assert_int_equal(p.spec.ops[0].ptr_idx, 1);
	itab = sym_addr(gb, "go.itab.*errors.errorString,error");
	e->ts_entry = 10;
	e->ts_ret = 20;
	e->regs[0] = (uint64_t)-7;
	e->ret_regs[0] = itab;
	e->ret_regs[1] = 0xc000010000;
	memcpy(e->str[0], "negative: -7", 12);
	e->str_len[0] = 12;
	out = json_of(&o, &p, "main.check", e);
	assert_non_null(strstr(out, "\"ret\":{\"~r0\":{\"type\":\"*errors.errorString\","
				    "\"data\":\"0xc000010000\",\"error\":\"negative: -7\"}}"));
	assert_null(strstr(out, "truncated"));
	free(out);
	/* the kernel saw a longer message than it copied */
	e->str_len[0] = 12 | TR_STR_CUT;
	out = json_of(&o, &p, "main.check", e);
	assert_non_null(strstr(out, "\"truncated\":[\"~r0\"]"));
	free(out);
	/* a type whose message is not its leading string: no "error" */
	e->ret_regs[0] = sym_addr(gb, "go.itab.*io/fs.PathError,error");
	e->str_len[0] = 12;
	out = json_of(&o, &p, "main.check", e);
	assert_non_null(strstr(out, "\"type\":\"*io/fs.PathError\""));
	assert_null(strstr(out, "\"error\""));
	free(out);
	trace_plan__free(&p);
	trace_syms__free((struct tr_syms *)o.syms);
	free(e);
	gobin__free(gb);
}

static void test_output_expressions_compile(void **state)
{
	struct gobin *gb = tu_open_fixture("args");
	struct tr_plan p;
	char why[160];

	if (!gb)
		skip();
	/* func sizes(mp map[string]int, ch chan int, s []int, name string):
	 * mp RAX, ch RBX, s RCX RDI RSI, name R8 R9 (abi-internal.md) */
	plan_of(gb, "main.sizes", &p);
	assert_int_equal(trace_plan__add_out(&p, 0, "len(mp)", why, sizeof(why)), 0);
	assert_int_equal(p.spec.outs[0].kind, TR_SRC_REG);
	assert_int_equal(p.spec.outs[0].idx, 0);
	assert_int_equal(p.spec.outs[0].nhops, 1);
	assert_int_equal(p.spec.outs[0].off[0], 0);	/* hmap.count */
	assert_int_equal(p.spec.outs[0].flags, TR_OUT_NIL_ZERO);
	assert_int_equal(trace_plan__add_out(&p, 1, "cap(ch)", why, sizeof(why)), 0);
	assert_int_equal(p.spec.outs[1].idx, 1);
	assert_int_equal(p.spec.outs[1].off[0], 8);	/* hchan.dataqsiz */
	/* s[2]: the element at s.ptr + 16, only while len(s) (RDI) > 2 */
	assert_int_equal(trace_plan__add_out(&p, 2, "s[2]", why, sizeof(why)), 0);
	assert_int_equal(p.spec.outs[2].idx, 2);
	assert_int_equal(p.spec.outs[2].chk_kind, TR_SRC_REG);
	assert_int_equal(p.spec.outs[2].chk_idx, 3);
	assert_int_equal(p.spec.outs[2].chk_min, 2);
	assert_int_equal(p.spec.outs[2].off[0], 16);
	assert_int_equal(p.spec.outs[2].size, 8);
	/* len(s): a part of the argument itself, no kernel work */
	assert_int_equal(trace_plan__add_out(&p, 3, "len(name)", why, sizeof(why)), 0);
	assert_true(p.outs[3].in_img);
	assert_int_equal(p.outs[3].img_off, 8);
	assert_int_equal(p.spec.outs[3].kind, TR_SRC_NONE);
	assert_int_equal(trace_plan__add_out(&p, 0, "cap(mp)", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "cap of map"));
	assert_int_equal(trace_plan__add_out(&p, 0, "s[1", why, sizeof(why)), -EINVAL);
	assert_int_equal(trace_plan__add_out(&p, 0, "zz.X", why, sizeof(why)), -ENOENT);
	trace_plan__free(&p);
	/* norm(p *Point): (*p).Y is 8 bytes into *p */
	plan_of(gb, "main.norm", &p);
	assert_int_equal(trace_plan__add_out(&p, 0, "(*p).Y", why, sizeof(why)), 0);
	assert_int_equal(p.spec.outs[0].nhops, 1);
	assert_int_equal(p.spec.outs[0].off[0], 8);
	assert_int_equal(trace_plan__add_out(&p, 1, "(*p)", why, sizeof(why)), -EINVAL);
	trace_plan__free(&p);
	gobin__free(gb);
}

static void test_string_filter_spec(void **state)
{
	struct gobin *gb = tu_open_fixture("args");
	struct tr_plan p;

	if (!gb)
		skip();
	plan_of(gb, "main.greet", &p);
	assert_int_equal(trace_plan__set_filter_str(&p, 0, "name", TR_OP_EQ, "go", 2), 0);
	assert_int_equal(p.spec.filt[0].str, 1);
	assert_int_equal(p.spec.filt[0].kind, TR_FILT_REG);
	assert_int_equal(p.spec.filt[0].idx, 0);		/* RAX: ptr */
	assert_int_equal(p.spec.filt[0].len_idx, 1);	/* RBX: len */
	assert_int_equal(p.spec.filt[0].str_len, 2);
	assert_memory_equal(p.spec.filt[0].bytes, "go", 2);
	assert_int_equal(trace_plan__set_filter_str(&p, 0, "times", TR_OP_EQ, "2", 1), -EINVAL);
	assert_int_equal(trace_plan__set_filter_str(&p, 0, "name", TR_OP_LT, "go", 2), -EINVAL);
	assert_int_equal(trace_plan__set_filter_str(&p, 0, "nope", TR_OP_EQ, "go", 2), -ENOENT);
	trace_plan__free(&p);
	gobin__free(gb);
}

static void test_unwind_needs_a_shallower_later_return(void **state)
{
	struct tr_unwind *u = trace_unwind__new();

	/* depth = distance from g.stack.hi: callers are shallower */
	assert_non_null(u);
	assert_false(trace_unwind__gone(u, 1, 0xc000, 100, 300));
	/* t=200: a RET at depth 100 (the caller of a call entered at t=150
	 * at depth 300): that call is gone; one entered at t=250 is not */
	assert_int_equal(trace_unwind__ret(u, 1, 0xc000, 200, 100), 0);
	assert_true(trace_unwind__gone(u, 1, 0xc000, 150, 300));
	assert_false(trace_unwind__gone(u, 1, 0xc000, 250, 300));
	/* a RET at the same depth or deeper says nothing */
	assert_false(trace_unwind__gone(u, 1, 0xc000, 150, 100));
	/* later deeper RETs keep the earlier shallow mark in force */
	assert_int_equal(trace_unwind__ret(u, 1, 0xc000, 300, 500), 0);
	assert_true(trace_unwind__gone(u, 1, 0xc000, 150, 300));
	assert_false(trace_unwind__gone(u, 1, 0xc000, 250, 500));
	assert_true(trace_unwind__gone(u, 1, 0xc000, 250, 600));
	/* other goroutines, other processes: independent */
	assert_false(trace_unwind__gone(u, 1, 0xd000, 150, 300));
	assert_false(trace_unwind__gone(u, 2, 0xc000, 150, 300));
	for (uint64_t g = 1; g <= 1000; g++)
		assert_int_equal(trace_unwind__ret(u, 3, g << 12, 10, 50), 0);
	assert_true(trace_unwind__gone(u, 3, 777 << 12, 5, 60));
	trace_unwind__free(u);
}

static void test_go_string_literal(void **state)
{
	char out[8];
	const char *end;
	size_t n;

	assert_int_equal(trace_parse_go_string("\"a\\\"b\\x41\\n\" rest", out,
					       sizeof(out), &n, &end), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "a\"bA\n", 5);
	assert_string_equal(end, " rest");
	assert_int_equal(trace_parse_go_string("\"\"", out, sizeof(out), &n, &end), 0);
	assert_int_equal(n, 0);
	assert_int_equal(trace_parse_go_string("\"123456789\"", out, sizeof(out),
					       &n, &end), -E2BIG);
	assert_int_equal(trace_parse_go_string("\"open", out, sizeof(out), &n, &end),
			 -EINVAL);
	assert_int_equal(trace_parse_go_string("\"\\q\"", out, sizeof(out), &n, &end),
			 -EINVAL);
	assert_int_equal(trace_parse_go_string("\"\\x4\"", out, sizeof(out), &n, &end),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greet_string_in_rax_rbx),
		cmocka_unit_test(test_many_args_spill_to_the_stack),
		cmocka_unit_test(test_decode_record_to_json),
		cmocka_unit_test(test_stripped_is_raw_and_filters),
		cmocka_unit_test(test_error_message_types),
		cmocka_unit_test(test_error_message_decoded),
		cmocka_unit_test(test_output_expressions_compile),
		cmocka_unit_test(test_string_filter_spec),
		cmocka_unit_test(test_unwind_needs_a_shallower_later_return),
		cmocka_unit_test(test_go_string_literal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
