/* SPDX-License-Identifier: MIT */
/*
 * `gosnoop trace --filter EXPR`: a boolean expression over comparisons.
 *
 *	expr    := and ( '||' and )*
 *	and     := unary ( '&&' unary )*
 *	unary   := '!' unary | '(' expr ')' | 'true' | 'false' | atom
 *	atom    := NAME OP INT | NAME ('==' | '!=') "TEXT"
 *	OP      := == != < <= > >=
 *
 * NAME is an argument (stripped: argN), `goid` or `pid`. Several --filter
 * options AND together. The kernel cannot walk a tree cheaply, so the
 * expression becomes data it can use in a bounded loop: up to
 * TR_FILT_ATOMS distinct comparisons, each evaluated once to one bit of a
 * mask, and a truth table of 2^natoms bits (one u64) that user space
 * computes here by evaluating the expression for every mask. A call
 * passes if bit `mask` of the table is set.
 *
 * Parsing and the table need no BPF, no binary: unit-tested
 * (tests/unit/test_trace_filter.c).
 */
#ifndef GOSNOOP_TRACE_FILTER_H
#define GOSNOOP_TRACE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "bpf/trace.h"

#define TF_MAX_NODES	64

struct tf_atom {
	char name[64];
	enum tr_filt_op op;
	bool is_str;
	uint64_t val;			/* !is_str */
	char str[TR_FILT_STR_MAX];	/* is_str: str_len bytes */
	size_t str_len;
};

enum tf_kind { TF_CONST, TF_ATOM, TF_NOT, TF_AND, TF_OR };

struct tf_node {
	enum tf_kind kind;
	int a, b;	/* CONST: a is the value; ATOM: a is the atom;
			   NOT: a; AND, OR: a and b (node indexes) */
};

struct trace_filter {
	struct tf_atom atoms[TR_FILT_ATOMS];
	int natoms;
	struct tf_node nodes[TF_MAX_NODES];
	int nnodes;
	int root;	/* -1: no filter (every call passes) */
};

void trace_filter__init(struct trace_filter *f);

/*
 * Parse expr and AND it with what f holds already. 0; -EINVAL malformed
 * (why says where), -E2BIG more than TR_FILT_ATOMS distinct comparisons,
 * a string longer than TR_FILT_STR_MAX or an expression too big.
 * On error f is unchanged.
 */
int trace_filter__add(struct trace_filter *f, const char *expr,
		      char *why, size_t whylen);

/* The expression's value when atom i is (mask >> i) & 1. */
bool trace_filter__eval(const struct trace_filter *f, uint64_t mask);

/* Bit m set: the expression holds for mask m (m < 2^natoms). */
uint64_t trace_filter__table(const struct trace_filter *f);

/*
 * Whether every call that passes has NAME == *val: an atom `NAME == INT`
 * that is ANDed at the top of the expression. The goid and pid filters
 * then also run before anything is read (the pid one before the
 * goroutine is even looked up).
 */
bool trace_filter__required(const struct trace_filter *f, const char *name,
			    uint64_t *val);

struct tr_plan;

/*
 * Set p->spec's filter: atoms on arguments (trace_plan__set_filter*),
 * goid and pid, and the table. found[i] is set when atom i names an
 * argument p has (or goid/pid). 0, or -EINVAL for atom *bad: p's
 * argument by that name cannot be compared so (not an integer in one
 * register or stack slot, not a string).
 */
int trace_filter__apply(const struct trace_filter *f, struct tr_plan *p,
			bool found[TR_FILT_ATOMS], int *bad);

#endif
