/* SPDX-License-Identifier: MIT */
/*
 * Private to the ktrace expression compiler (ktrace_expr.c,
 * ktrace_expr_parse.c): tokens, typed values, the compiler's state and the
 * helpers the two files share. Not for the rest of gosnoop: use
 * ktrace_probe.h.
 */
#ifndef GOSNOOP_KTRACE_EXPR_INT_H
#define GOSNOOP_KTRACE_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/btf.h>

#include "ktrace_probe.h"

enum tok_kind { T_END, T_IDENT, T_NUM, T_STR, T_PUNCT };

struct tok {
	enum tok_kind kind;
	char text[64];
	char str[KT_CMP_MAX];	/* T_STR: the constant, NUL-terminated */
	__s64 num;
	size_t pos;
};

enum vkind { V_INT, V_PTR, V_ARRAY, V_COMP, V_ENUM, V_DATALOC, V_ADDR };

struct val {
	enum vkind kind;
	bool lval;		/* the object's address is on the stack */
	bool obj_user;		/* lval: the object is in user memory */
	bool ptr_user;		/* PTR: the pointee is in user memory */
	__u32 size;
	bool is_signed, is_bool;
	__u32 type_id;		/* BTF id of the object's type, 0: none */
	__u32 target_id;	/* PTR: pointee; ARRAY: element (BTF) */
	bool target_char;	/* PTR/ARRAY of char */
	bool strv;		/* const char *const * (tracepoint argv) */
	__u32 elem_size, nelem;
	int bit_shift, bit_size;	/* bitfield: load 8 bytes, shift, mask */
	bool is_const;		/* a number literal, the last op is its IMM */
	__s64 cval;
	bool is_str;		/* string literal: no op emitted */
	char str[KT_CMP_MAX];
	enum kt_fmt fmt;	/* helpers: how to print */
	bool has_fmt;
	int addr_len;		/* V_ADDR (ip4/ip6): bytes at the address */
};

struct cc {
	struct kt_probe *p;
	const struct btf *btf;
	const char *src;
	size_t pos;
	struct tok tok;
	char *err;
	size_t errlen;
	int failed;
	int depth;		/* of recursion: bounded, any input is safe */
	__u32 first_op;		/* this expression's first op */
};

#define KX_MAX_LEN	512	/* bytes of one expression */
#define KX_MAX_DEPTH	64	/* nested parentheses, prefix operators */

/* ktrace_expr.c */
int kx_fail(struct cc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kx_op(struct cc *c, __u8 code, __u8 size, __u8 flags, __s64 imm);
int kx_unpush_const(struct cc *c, const struct val *v, __s64 *imm);
int kx_from_btf(struct cc *c, __u32 id, bool lval, bool user,
		struct val *v);
int kx_from_field(struct cc *c, const struct tp_field *f, struct val *v);
int kx_rvalue(struct cc *c, struct val *v);
int kx_member(struct cc *c, struct val *v, const char *name);
int kx_deref(struct cc *c, struct val *v);

/* ktrace_expr_parse.c */
int kx_parse(struct cc *c, struct kt_probe *p, const struct btf *btf,
	     const char *text, char *err, size_t errlen, struct val *v);
int kx_scalar_operand(struct cc *c, struct val *v, const char *what);
void kx_next(struct cc *c);
bool kx_is_p(struct cc *c, const char *p);
int kx_expect(struct cc *c, const char *p);
int kx_unary(struct cc *c, struct val *v);

/* ktrace_expr_cast.c: after '(', is a type next? Then the cast (the
 * '(' consumed) and its operand. */
bool kx_type_ahead(struct cc *c);
int kx_cast(struct cc *c, struct val *v);

#endif /* GOSNOOP_KTRACE_EXPR_INT_H */
