/* SPDX-License-Identifier: MIT */
/*
 * trace_decode - where each argument and result of a Go function lives at
 * its entry site and its RETs (DWARF locations, else Go's ABI rules), what
 * the BPF program must copy for it (struct tr_spec), and how a record
 * turns back into Go values (text or JSON). No BPF here: testable alone.
 * Split by idea: trace_plan.c (layout, --filter), trace_expr.c (-o),
 * trace_syms.c (dynamic type names), trace_decode.c (values, records),
 * trace_stack.c (--stack, --folded).
 */
#ifndef GOSNOOP_TRACE_DECODE_H
#define GOSNOOP_TRACE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>
#include "bpf/trace.h"

struct gobin;
struct gobin_func;
struct gobin_type;
struct jw;

#define TR_MAX_PIECES	32
#define TR_MAX_IMG	256	/* bytes of one value decoded; larger: address-less "?" */

/* Part of a value's in-memory image and where it is in the record. */
struct tr_piece {
	uint8_t kind;		/* enum tr_src_kind; NONE: not readable */
	bool at_ret;		/* ret_regs/ret_stack instead of regs/stack */
	uint16_t idx;		/* register index or stack byte offset */
	uint16_t size;		/* bytes */
	uint16_t img_off;	/* where in the value */
};

struct tr_value {
	const char *name;
	const struct gobin_type *type;
	bool is_result;
	struct tr_piece pieces[TR_MAX_PIECES];
	int npieces;
	const char *why;	/* non-NULL: nothing readable, and why */
	const char *unknown;	/* non-NULL: a part is not readable (a
				   float in an X register), and why */
};

struct tr_strref {
	int val;		/* index in vals */
	uint32_t img_off;	/* where the string/slice header is */
	int slot;		/* str[] slot in the record */
};

/* One -o expression as this function resolved it. */
struct tr_outx {
	const char *expr;	/* NULL: not for this function */
	const struct gobin_type *type;
	bool in_img;		/* a part of the argument's own value */
	int val;		/* in_img: index in vals */
	uint64_t img_off;	/* in_img: where in it */
	bool hdr;		/* a string/slice behind a pointer: header
				   and contents in str[str_slot] (TR_OUT_HDR) */
	int str_slot;
};

struct tr_plan {
	bool raw;		/* no DWARF: raw ABI words */
	bool abi0;		/* stack ABI */
	int raw_args;		/* raw: argument words */
	int raw_rets;		/* raw: result words */
	/* raw, register ABI: bytes of the argument in each integer
	 * register, from the morestack spills (gobin__reg_arg_spills);
	 * 0: a whole word (not known narrower), -1: no argument there
	 * (a later argument is on the stack) */
	int8_t raw_reg_size[TR_NREGS];
	struct tr_value *vals;	/* arguments then results */
	size_t nval;
	struct tr_strref strs[TR_NSTR];
	int nstr;
	struct tr_spec spec;	/* what the BPF program copies */
	struct tr_outx outs[TR_NOUT];	/* -o, slot i = spec.outs[i] */
	int nregs;		/* integer arg registers the entry needs */
	int32_t stack_args;	/* stack argument bytes the entry needs */
};

/* Plan f: 0 or -errno (-ENOMEM). Without DWARF (or for a function DWARF
 * does not describe) the plan is raw. */
int trace_plan__build(const struct gobin *gb, const struct gobin_func *f,
		      struct tr_plan *p);
void trace_plan__free(struct tr_plan *p);

/* Ask the kernel for the bytes of the strings, slices, maps, channels
 * and error messages in vals[vi] (already done for DWARF's values). */
void trace_plan__want_strings(struct tr_plan *p, int vi);

/* Where the 8-byte word at image offset off of v is in the record
 * (register or stack copy, entry or RET); false if no single piece
 * holds it. */
bool trace_plan__word_src(const struct tr_value *v, uint64_t off,
			  uint8_t *kind, uint16_t *idx, bool *at_ret);

/*
 * --filter comparison on an integer argument: set p->spec.filt[atom] so
 * the kernel tests whether argument `name` (or, raw, `argN`: the N-th
 * ABI word) compares with val by op (how atoms combine: trace_filter.h).
 * 0 set; -ENOENT p has no such argument (the atom is then false for p);
 * -EINVAL it is not an integer in one register or stack slot.
 */
int trace_plan__set_filter(struct tr_plan *p, int atom, const char *name,
			   enum tr_filt_op op, uint64_t val);

/*
 * --filter 'NAME == "text"' (or !=) on a string argument: the kernel
 * compares len bytes (<= TR_FILT_STR_MAX) at the entry. 0; -ENOENT no
 * such argument; -EINVAL not a string in registers/stack slots, another
 * operator, or text too long.
 */
int trace_plan__set_filter_str(struct tr_plan *p, int atom, const char *name,
			       enum tr_filt_op op, const char *str, size_t len);

/*
 * -o EXPR into slot (< TR_NOUT): ARG, .FIELD, (*X), X[N], len(X), cap(X)
 * (trace_expr.c), pointers followed in the kernel; on a raw plan
 * (stripped) string(argN): the string whose ptr and len are ABI words N
 * and N+1. 0; -ENOENT p has no argument ARG; -EINVAL an expression that
 * does not fit (the last step must be at most 8 bytes once behind a
 * pointer, at most TR_OUT_HOPS pointers), after writing the reason into
 * why.
 */
int trace_plan__add_out(struct tr_plan *p, int slot, const char *expr,
			char *why, size_t whylen);

/* A double-quoted Go string literal at p (escapes \" \\ \n \t \xHH) into
 * out (at most cap bytes, *n of them); *end after the closing quote. 0,
 * -EINVAL malformed, -E2BIG longer than cap. */
int trace_parse_go_string(const char *p, char *out, size_t cap, size_t *n,
			  const char **end);

struct tr_syms;

struct tr_out {
	struct jw *jw;		/* JSON mode when non-NULL */
	FILE *f;		/* text mode */
	uint64_t mono_to_real;	/* add to CLOCK_MONOTONIC ns for wall time */
	/* dynamic types of interfaces: type/itab symbols of .symtab (NULL:
	 * addresses only); bias: run-time minus file address (PIE) */
	const struct tr_syms *syms;
	uint64_t bias;
	/* --stack: symbolize e->pcs with gb's pclntab (NULL: no stacks) */
	const struct gobin *gb;
};

/*
 * The call's stack as FlameGraph's folded frames: "outermost;...;caller;
 * func", inlined frames included. Returns the length written (truncated
 * at len-1), 0 if the record has no stack.
 */
size_t trace_folded_stack(const struct tr_out *o, const char *func,
			  const struct tr_event *e, char *buf, size_t len);

/* The Go type an itab or type descriptor address names, from .symtab
 * ("go.itab.*errors.errorString,error" -> "*errors.errorString"); NULL
 * when gb has no .symtab or nothing there. Free with trace_syms__free. */
struct tr_syms *trace_syms__new(const struct gobin *gb);
void trace_syms__free(struct tr_syms *s);
const char *trace_syms__type_name(const struct tr_syms *s, uint64_t addr);
/* Whether the itab at addr is error's for a *T whose T starts with a
 * string field (DWARF): the record's error message is then T's string. */
bool trace_syms__error_msg(const struct tr_syms *s, uint64_t addr);

/* --stack: e's frames under the call line (trace_stack.c). */
void trace_print_stack(struct tr_out *o, const struct tr_event *e);

/* One call: complete (ts_ret != 0) or still running. */
void trace_print(struct tr_out *o, const struct tr_plan *p, const char *func,
		 const struct tr_event *e);

#endif
