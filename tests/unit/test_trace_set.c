// SPDX-License-Identifier: MIT
/*
 * trace --set ARG=VALUE (src/trace/trace_set.c): the value as Go's spec reads an
 * integer literal (https://go.dev/ref/spec#Integer_literals: 0x, 0o, 0b,
 * a leading 0 for octal, _ between digits), and the word written for it:
 * a value of an N-byte signed type fits in [-2^(8N-1), 2^(8N-1)), an
 * unsigned one in [0, 2^(8N)), and a negative one is stored
 * sign-extended (two's complement, what MOVQ of the int would leave).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>

#include "testutil.h"
#include "trace/trace_decode.h"
#include "trace/trace_set.h"

static struct trace_set parse_ok(const char *arg)
{
	struct trace_set s;
	char why[160] = "";

	assert_int_equal(trace_set__parse(arg, &s, why, sizeof(why)), 0);
	return s;
}

static void parse_bad(const char *arg, const char *why_part)
{
	struct trace_set s;
	char why[160] = "";

	assert_int_equal(trace_set__parse(arg, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, why_part));
}

static void test_parse(void **state)
{
	struct trace_set s;

	(void)state;
	s = parse_ok("n=42");
	assert_string_equal(s.name, "n");
	assert_int_equal(s.vkind, TS_INT);
	assert_false(s.negative);
	assert_int_equal(s.mag, 42);
	assert_int_equal(parse_ok("x=0x_ff").mag, 255);	/* _ after the prefix */
	assert_int_equal(parse_ok("x=0xFF").mag, 255);
	assert_int_equal(parse_ok("x=0o17").mag, 15);
	assert_int_equal(parse_ok("x=017").mag, 15);
	assert_int_equal(parse_ok("x=0b101").mag, 5);
	assert_int_equal(parse_ok("x=1_000_000").mag, 1000000);
	assert_int_equal(parse_ok("x=0").mag, 0);
	s = parse_ok("a10=-9223372036854775808");
	assert_true(s.negative);
	assert_true(s.mag == 1ULL << 63);
	assert_int_equal(parse_ok("x=18446744073709551615").mag, UINT64_MAX);
	s = parse_ok("ok=true");
	assert_int_equal(s.vkind, TS_BOOL);
	assert_int_equal(s.mag, 1);
	assert_int_equal(parse_ok("ok=false").mag, 0);
	assert_int_equal(parse_ok("p=nil").vkind, TS_NIL);
	parse_bad("n", "ARG=VALUE");
	parse_bad("=5", "ARG=VALUE");
	parse_bad("1n=5", "not an argument name");
	parse_bad("n=12abc", "not a value");
	parse_bad("n=0b102", "not a value");
	parse_bad("n=1__0", "not a value");
	parse_bad("n=10_", "not a value");
	parse_bad("n=", "not a value");
	parse_bad("n=18446744073709551616", "64 bits");
	parse_bad("n=-9223372036854775809", "64 bits");
}

/* One plan of one argument: name, type, where. */
static struct tr_plan plan1(struct tr_value *v, const char *name,
			    const struct gobin_type *t, uint8_t kind,
			    uint16_t idx)
{
	struct tr_plan p = { 0 };

	memset(v, 0, sizeof(*v));
	v->name = name;
	v->type = t;
	v->npieces = 1;
	v->pieces[0].kind = kind;
	v->pieces[0].idx = idx;
	v->pieces[0].size = (uint16_t)t->size;
	p.vals = v;
	p.nval = 1;
	return p;
}

static int resolve(const char *arg, const struct tr_plan *p, struct tr_set *o)
{
	struct trace_set s = parse_ok(arg);
	char why[320] = "";

	return trace_set__resolve(&s, p, o, why, sizeof(why));
}

static void test_resolve_ranges_and_words(void **state)
{
	const struct gobin_type i8 = { .name = "int8", .kind = GOBIN_K_INT8, .size = 1 };
	const struct gobin_type u16 = { .name = "uint16", .kind = GOBIN_K_UINT16, .size = 2 };
	const struct gobin_type i64 = { .name = "int", .kind = GOBIN_K_INT, .size = 8 };
	const struct gobin_type bl = { .name = "bool", .kind = GOBIN_K_BOOL, .size = 1 };
	const struct gobin_type pt = { .name = "*main.T", .kind = GOBIN_K_PTR, .size = 8 };
	const struct gobin_type st = { .name = "string", .kind = GOBIN_K_STRING, .size = 16 };
	struct tr_value v;
	struct tr_plan p;
	struct tr_set o;

	(void)state;
	p = plan1(&v, "a", &i8, TR_SRC_REG, 0);
	assert_int_equal(resolve("a=127", &p, &o), 0);
	assert_int_equal(o.kind, TR_SRC_REG);
	assert_int_equal(o.idx, 0);
	assert_true(o.val == 127);
	assert_int_equal(resolve("a=-128", &p, &o), 0);
	assert_true(o.val == (uint64_t)-128);	/* sign-extended */
	assert_int_equal(resolve("a=128", &p, &o), -ERANGE);
	assert_int_equal(resolve("a=-129", &p, &o), -ERANGE);
	assert_int_equal(resolve("b=1", &p, &o), -ENOENT);
	assert_int_equal(resolve("a=true", &p, &o), -EINVAL);

	p = plan1(&v, "f", &u16, TR_SRC_STACK, 24);
	assert_int_equal(resolve("f=65535", &p, &o), 0);
	assert_int_equal(o.kind, TR_SRC_STACK);
	assert_int_equal(o.idx, 24);
	assert_int_equal(o.size, 2);
	assert_int_equal(resolve("f=65536", &p, &o), -ERANGE);
	assert_int_equal(resolve("f=-1", &p, &o), -ERANGE);
	assert_int_equal(resolve("f=-0", &p, &o), 0);

	p = plan1(&v, "n", &i64, TR_SRC_REG, 8);
	assert_int_equal(resolve("n=-9223372036854775808", &p, &o), 0);
	assert_true(o.val == 1ULL << 63);
	assert_int_equal(resolve("n=9223372036854775808", &p, &o), -ERANGE);

	p = plan1(&v, "ok", &bl, TR_SRC_REG, 8);
	assert_int_equal(resolve("ok=true", &p, &o), 0);
	assert_true(o.val == 1);
	assert_int_equal(resolve("ok=1", &p, &o), -EINVAL);

	p = plan1(&v, "p", &pt, TR_SRC_REG, 1);
	assert_int_equal(resolve("p=nil", &p, &o), 0);
	assert_true(o.val == 0);
	assert_int_equal(resolve("p=0xc000010000", &p, &o), 0);
	assert_true(o.val == 0xc000010000ULL);

	/* a string is two words: not settable */
	p = plan1(&v, "s", &st, TR_SRC_REG, 0);
	assert_int_equal(resolve("s=1", &p, &o), -EINVAL);
	/* a value the plan could not place */
	p = plan1(&v, "a", &i64, TR_SRC_REG, 0);
	v.why = "a float in an X register";
	assert_int_equal(resolve("a=1", &p, &o), -EINVAL);
	/* results are not arguments */
	p = plan1(&v, "a", &i64, TR_SRC_REG, 0);
	v.is_result = true;
	assert_int_equal(resolve("a=1", &p, &o), -ENOENT);
}

static void test_resolve_raw_words(void **state)
{
	struct tr_plan p = { .raw = true, .raw_args = 11 };
	struct tr_set o;

	(void)state;
	assert_int_equal(resolve("arg0=5", &p, &o), 0);
	assert_int_equal(o.kind, TR_SRC_REG);
	assert_int_equal(o.idx, 0);
	/* register ABI: words past the 9 registers are on the stack */
	assert_int_equal(resolve("arg10=5", &p, &o), 0);
	assert_int_equal(o.kind, TR_SRC_STACK);
	assert_int_equal(o.idx, 8);
	assert_int_equal(o.size, 8);
	assert_int_equal(resolve("arg11=5", &p, &o), -ENOENT);
	assert_int_equal(resolve("x=5", &p, &o), -ENOENT);
	/* ABI0: every word is on the stack */
	p.abi0 = true;
	assert_int_equal(resolve("arg1=-1", &p, &o), 0);
	assert_int_equal(o.kind, TR_SRC_STACK);
	assert_int_equal(o.idx, 8);
	assert_true(o.val == UINT64_MAX);
	assert_string_equal(trace_set__reg_name(0), "RAX");
	assert_string_equal(trace_set__reg_name(8), "R11");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_resolve_ranges_and_words),
		cmocka_unit_test(test_resolve_raw_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
