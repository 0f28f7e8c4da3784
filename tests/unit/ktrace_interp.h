/* SPDX-License-Identifier: MIT */
/*
 * For test_ktrace_expr.c: a reference interpreter of ktrace's op list,
 * written from the op table in src/bpf/ktrace.h (not from the BPF
 * program), over fake memory in which every address holds a value
 * derived from it. It checks that kt_spec__optimize changes the cost of
 * a list and nothing else: the same record data and the same filter
 * decision as the plain list, on many inputs.
 */
#ifndef GOSNOOP_TEST_KTRACE_INTERP_H
#define GOSNOOP_TEST_KTRACE_INTERP_H

#include <stdbool.h>
#include <string.h>

#include "ktrace/ktrace_probe.h"
#include "testutil.h"

static __u64 mix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Half the runs draw values from the list's own constants and 0..3, so
 * comparisons come out both ways. */
static __u64 pool[KT_MAX_OPS + 4];
static int npool;
static __u64 salt;

static __u64 fake_value(__u64 x)
{
	__u64 v = mix(x ^ salt);

	return salt & 1 ? pool[v % npool] : v;
}

static __u64 fake_load(__u64 addr, int size, int flags)
{
	__u64 v = fake_value(addr ^ (flags & KT_F_USER ? 0x5555 : 0));

	if (size <= 0 || size > 8)
		size = 8;
	if (size < 8) {
		v &= (1ULL << (8 * size)) - 1;
		if (flags & KT_F_SIGNED && v >> (8 * size - 1))
			v |= ~0ULL << (8 * size);
	}
	return v;
}

/* 0: kept, 1: filtered out, 2: bad list */
static int interp(const struct kt_spec *s, const __u64 *args, __u64 base,
		  __u8 *data)
{
	__u64 st[KT_STACK], a, b;
	int sp = 0;

#define POP(x) do { if (sp <= 0) return 2; (x) = st[--sp]; } while (0)
#define PUT(op, x) do {							\
		if ((op)->flags & KT_F_EMIT) {				\
			memcpy(&data[(op)->off], &(x), 8);		\
		} else {						\
			if (sp >= KT_STACK)				\
				return 2;				\
			st[sp++] = (x);					\
		}							\
	} while (0)
	for (__u32 i = 0; i < s->nops; i++) {
		const struct kt_op *op = &s->ops[i];

		switch (op->code) {
		case KT_OP_ARG:
			a = args[op->imm];
			PUT(op, a);
			break;
		case KT_OP_ARG_LOAD:
			a = fake_load(args[op->len] + op->imm, op->size,
				      op->flags);
			PUT(op, a);
			break;
		case KT_OP_CTX:
			a = base + op->imm;
			PUT(op, a);
			break;
		case KT_OP_IMM:
			a = op->imm;
			PUT(op, a);
			break;
		case KT_OP_ADDI: POP(a); a += op->imm; PUT(op, a); break;
		case KT_OP_ANDI: POP(a); a &= op->imm; PUT(op, a); break;
		case KT_OP_SHRI: POP(a); a >>= op->imm & 63; PUT(op, a); break;
		case KT_OP_MULI: POP(a); a *= op->imm; PUT(op, a); break;
		case KT_OP_LOAD:
			POP(a);
			a = fake_load(a, op->size, op->flags);
			PUT(op, a);
			break;
		case KT_OP_DATALOC: POP(a); a = base + (a & 0xffff);
			PUT(op, a); break;
		case KT_OP_BSWAP:
			POP(a);
			a = op->size == 2 ? __builtin_bswap16(a) :
			    op->size == 4 ? __builtin_bswap32(a) :
			    __builtin_bswap64(a);
			PUT(op, a);
			break;
		case KT_OP_NOT: POP(a); a = !a; PUT(op, a); break;
		case KT_OP_NEG: POP(a); a = -a; PUT(op, a); break;
		case KT_OP_STREQ:
			POP(a);
			a = (mix(a) ^ op->off) % 3 == 0;
			PUT(op, a);
			break;
		case KT_OP_EQ: case KT_OP_NE: case KT_OP_LT: case KT_OP_LE:
		case KT_OP_GT: case KT_OP_GE: case KT_OP_LAND: case KT_OP_LOR:
		case KT_OP_ADD: case KT_OP_SUB: {
			bool sg = op->flags & KT_F_SIGNED;

			if (op->flags & KT_F_IMM)
				b = op->imm;
			else
				POP(b);
			POP(a);
			switch (op->code) {
			case KT_OP_EQ: a = a == b; break;
			case KT_OP_NE: a = a != b; break;
			case KT_OP_LT: a = sg ? (__s64)a < (__s64)b : a < b;
				break;
			case KT_OP_LE: a = sg ? (__s64)a <= (__s64)b : a <= b;
				break;
			case KT_OP_GT: a = sg ? (__s64)a > (__s64)b : a > b;
				break;
			case KT_OP_GE: a = sg ? (__s64)a >= (__s64)b : a >= b;
				break;
			case KT_OP_LAND: a = a && b; break;
			case KT_OP_LOR: a = a || b; break;
			case KT_OP_ADD: a = a + b; break;
			default: a = a - b; break;
			}
			PUT(op, a);
			break;
		}
		case KT_OP_FILTER:
			POP(a);
			if (!a)
				return 1;
			break;
		case KT_OP_EMIT_VAL:
			POP(a);
			memcpy(&data[op->off], &a, 8);
			break;
		case KT_OP_EMIT_STR: case KT_OP_EMIT_BYTES:
		case KT_OP_EMIT_STRV:
			POP(a);
			for (int k = 0; k < op->len && k < 64; k++)
				data[op->off + k] = mix(a + k);
			break;
		case KT_OP_EMIT_BUF:
			POP(b);
			POP(a);
			for (int k = 0; k < op->len && k < 64 && k < (int)b; k++)
				data[op->off + 4 + k] = mix(a + k);
			break;
		default:
			return 2;
		}
	}
	return 0;
#undef POP
#undef PUT
}

/* Optimized and plain lists of p agree on many argument values. */
static void assert_same_behaviour(const struct kt_probe *p, const char *what)
{
	static struct kt_spec opt;
	static __u8 d1[KT_DATA_MAX + 512], d2[KT_DATA_MAX + 512];
	unsigned int seed = 7;

	opt = p->spec;
	if (kt_spec__optimize(&opt))
		fail_msg("'%s': optimize failed", what);
	assert_true(opt.nops <= p->spec.nops);
	npool = 0;
	for (int v = 0; v < 4; v++)
		pool[npool++] = v;
	for (__u32 i = 0; i < p->spec.nops; i++)
		if (p->spec.ops[i].code == KT_OP_IMM)
			pool[npool++] = p->spec.ops[i].imm;
	for (int n = 0; n < 200; n++) {
		__u64 args[KT_MAX_ARGS];
		int r1, r2;

		salt = mix(n + rand_r(&seed));
		for (int k = 0; k < KT_MAX_ARGS; k++)
			args[k] = fake_value(k);
		memset(d1, 0, sizeof(d1));
		memset(d2, 0, sizeof(d2));
		r1 = interp(&p->spec, args, 0x1000, d1);
		r2 = interp(&opt, args, 0x1000, d2);
		if (r1 != r2 || (r1 == 0 && memcmp(d1, d2, sizeof(d1))))
			fail_msg("'%s': plain gives %d, optimized %d (or other "
				 "data)", what, r1, r2);
		assert_int_not_equal(r1, 2);
	}
}

#endif
