// SPDX-License-Identifier: MIT
/*
 * The protobuf wire encoder (src/protobuf.c).
 *
 * Ground truth: the byte sequences worked out in the protobuf encoding
 * guide (https://protobuf.dev/programming-guides/encoding/: Test1 a=150
 * is 08 96 01, Test2 b="testing", Test3 c=Test1, the packed field 4 of
 * 3, 270, 86942 is 22 06 03 8e 02 9e a7 05), its zigzag table, and
 * IEEE 754 bit patterns; none of them come from gosnoop's code.
 */
#include <errno.h>

#include "testutil.h"
#include "protobuf.h"

#define EXPECT(pb, ...)							\
	do {								\
		const uint8_t want[] = { __VA_ARGS__ };			\
		assert_int_equal((pb)->err, 0);				\
		assert_int_equal((pb)->len, sizeof(want));		\
		assert_memory_equal((pb)->data, want, sizeof(want));	\
	} while (0)

static void test_guide_varint(void **state)
{
	struct pb_buf pb;

	(void)state;
	pb_init(&pb);
	pb_uint(&pb, 1, 150);
	EXPECT(&pb, 0x08, 0x96, 0x01);
	pb_reset(&pb);
	pb_uint(&pb, 1, 1);
	EXPECT(&pb, 0x08, 0x01);
	pb_reset(&pb);
	/* the largest varint: ten bytes, the last holds bit 63 */
	pb_uint(&pb, 2, UINT64_MAX);
	EXPECT(&pb, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	pb_reset(&pb);
	/* int32/int64 -2 is sign-extended to 64 bits: ten bytes (guide) */
	pb_int(&pb, 1, -2);
	EXPECT(&pb, 0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	pb_reset(&pb);
	/* a field number past 15 takes a two-byte tag: (16 << 3) | 0 */
	pb_uint(&pb, 16, 0);
	EXPECT(&pb, 0x80, 0x01, 0x00);
	pb_free(&pb);
}

static void test_guide_zigzag(void **state)
{
	(void)state;
	assert_int_equal(pb_zigzag(0), 0);
	assert_int_equal(pb_zigzag(-1), 1);
	assert_int_equal(pb_zigzag(1), 2);
	assert_int_equal(pb_zigzag(-2), 3);
	assert_int_equal(pb_zigzag(0x7fffffff), 0xfffffffeULL);
	assert_int_equal(pb_zigzag(-0x80000000LL), 0xffffffffULL);
	assert_true(pb_zigzag(INT64_MIN) == UINT64_MAX);

	struct pb_buf pb;

	pb_init(&pb);
	pb_sint(&pb, 3, -3);
	EXPECT(&pb, 0x18, 0x05);
	pb_free(&pb);
}

static void test_guide_string_and_nested(void **state)
{
	struct pb_buf pb;
	pb_mark m;

	(void)state;
	pb_init(&pb);
	pb_string(&pb, 2, "testing");
	EXPECT(&pb, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g');
	pb_reset(&pb);
	/* Test3 { c: Test1 { a: 150 } } */
	m = pb_begin(&pb, 3);
	pb_uint(&pb, 1, 150);
	pb_end(&pb, m);
	EXPECT(&pb, 0x1a, 0x03, 0x08, 0x96, 0x01);
	pb_reset(&pb);
	/* an empty nested message and a NULL string are both length 0 */
	m = pb_begin(&pb, 1);
	pb_end(&pb, m);
	pb_string(&pb, 2, NULL);
	EXPECT(&pb, 0x0a, 0x00, 0x12, 0x00);
	pb_free(&pb);
}

/* A body of 128 bytes or more needs a two-byte length: the body moves. */
static void test_nested_long_bodies(void **state)
{
	struct pb_buf pb;
	char text[300];
	pb_mark outer, inner;

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	pb_init(&pb);
	outer = pb_begin(&pb, 1);
	inner = pb_begin(&pb, 2);
	pb_string(&pb, 3, text);	/* 1 + 2 + 299 = 302 bytes */
	pb_end(&pb, inner);		/* 1 + 2 + 302 = 305 bytes */
	pb_uint(&pb, 4, 7);		/* 2 bytes */
	pb_end(&pb, outer);		/* body 307 */
	assert_int_equal(pb.err, 0);
	assert_int_equal(pb.len, 1 + 2 + 307);
	/* 307 = 0x133: varint b3 02; 302 = 0x12e: ae 02; 299 = 0x12b: ab 02 */
	const uint8_t head[] = { 0x0a, 0xb3, 0x02, 0x12, 0xae, 0x02, 0x1a, 0xab, 0x02, 'x' };
	assert_memory_equal(pb.data, head, sizeof(head));
	assert_int_equal(pb.data[pb.len - 3], 'x');
	assert_int_equal(pb.data[pb.len - 2], 0x20);
	assert_int_equal(pb.data[pb.len - 1], 0x07);
	pb_free(&pb);
}

static void test_guide_packed(void **state)
{
	const uint64_t u[] = { 3, 270, 86942 };
	const int64_t s[] = { 0, -1, 1, -64 };
	const double d[] = { 1.0, -2.0 };
	struct pb_buf pb;

	(void)state;
	pb_init(&pb);
	pb_packed_uint(&pb, 4, u, 3);
	EXPECT(&pb, 0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05);
	pb_reset(&pb);
	pb_packed_int(&pb, 4, (const int64_t *)u, 0);	/* empty: nothing */
	assert_int_equal(pb.len, 0);
	pb_packed_sint(&pb, 5, s, 4);
	EXPECT(&pb, 0x2a, 0x04, 0x00, 0x01, 0x02, 0x7f);
	pb_reset(&pb);
	/* IEEE 754: 1.0 = 0x3ff0000000000000, -2.0 = 0xc000000000000000 */
	pb_packed_double(&pb, 1, d, 2);
	EXPECT(&pb, 0x0a, 0x10, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0x00, 0xc0);
	pb_free(&pb);
}

static void test_fixed_and_float(void **state)
{
	struct pb_buf pb;

	(void)state;
	pb_init(&pb);
	pb_fixed32(&pb, 1, 0x01020304);
	pb_fixed64(&pb, 2, 0x1122334455667788ULL);
	pb_float(&pb, 3, 1.5f);		/* 0x3fc00000 */
	pb_double(&pb, 4, 0.1);		/* 0x3fb999999999999a */
	pb_bool(&pb, 5, true);
	EXPECT(&pb, 0x0d, 0x04, 0x03, 0x02, 0x01,
	       0x11, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
	       0x1d, 0x00, 0x00, 0xc0, 0x3f,
	       0x21, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f,
	       0x28, 0x01);
	pb_free(&pb);
}

/* A large buffer grows correctly across many reallocations. */
static void test_growth(void **state)
{
	struct pb_buf pb;

	(void)state;
	pb_init(&pb);
	for (int i = 0; i < 100000; i++)
		pb_uint(&pb, 1, 300);	/* 08 ac 02 */
	assert_int_equal(pb.err, 0);
	assert_int_equal(pb.len, 300000);
	assert_int_equal(pb.data[299997], 0x08);
	assert_int_equal(pb.data[299998], 0xac);
	assert_int_equal(pb.data[299999], 0x02);
	pb_free(&pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guide_varint),
		cmocka_unit_test(test_guide_zigzag),
		cmocka_unit_test(test_guide_string_and_nested),
		cmocka_unit_test(test_nested_long_bodies),
		cmocka_unit_test(test_guide_packed),
		cmocka_unit_test(test_fixed_and_float),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
