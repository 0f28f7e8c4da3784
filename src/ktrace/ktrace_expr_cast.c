// SPDX-License-Identifier: MIT
/*
 * Casts in ktrace expressions, as in C: '(' TYPE ')' unary, where TYPE is
 * struct/union/enum NAME, a C integer name (u32, s8, unsigned long...)
 * or a BTF typedef, then '*'s. (struct sock *)x reads x as a pointer into
 * BTF's struct sock; (u32)x keeps x's low 4 bytes, sign-extended for a
 * signed type; (bool)x is x != 0. Called by the parser
 * (ktrace_expr_parse.c) when a type follows '('.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "ktrace_expr_int.h"

/* A type a cast names: a BTF type (id), or a C integer type when there
 * is no BTF (int_size), then ptr_depth '*'s. */
struct cast_type {
	__u32 id;
	__u32 int_size;
	bool int_signed;
	bool c_int;		/* named by a C integer name, not by BTF */
	bool is_bool;		/* bool, _Bool: x != 0, not x's low byte */
	int ptr_depth;
	char spelling[96];
};

static const struct {
	const char *name;
	__u8 size;
	bool is_signed;
} c_ints[] = {
	{ "u8", 1, false }, { "u16", 2, false }, { "u32", 4, false },
	{ "u64", 8, false }, { "s8", 1, true }, { "s16", 2, true },
	{ "s32", 4, true }, { "s64", 8, true }, { "__u8", 1, false },
	{ "__u16", 2, false }, { "__u32", 4, false }, { "__u64", 8, false },
	{ "__s8", 1, true }, { "__s16", 2, true }, { "__s32", 4, true },
	{ "__s64", 8, true }, { "char", 1, true }, { "short", 2, true },
	{ "int", 4, true }, { "long", 8, true }, { "bool", 1, false },
	{ "_Bool", 1, false }, { "size_t", 8, false }, { "ssize_t", 8, true },
};

static int c_int_index(const char *name)
{
	for (size_t i = 0; i < sizeof(c_ints) / sizeof(c_ints[0]); i++)
		if (!strcmp(c_ints[i].name, name))
			return (int)i;
	return -1;
}

static bool is_arg_or_field(const struct kt_probe *p, const char *name)
{
	for (int i = 0; i < p->nargs; i++)
		if (!strcmp(p->arg_names[i], name))
			return true;
	for (size_t i = 0; i < p->nfields; i++)
		if (!strcmp(p->fields[i].name, name))
			return true;
	return p->has_ret && (!strcmp(name, "ret") || !strcmp(name, "retval"));
}

/*
 * After '(': does a type name follow, making this a cast? struct, union,
 * enum, unsigned, signed, a C integer name, or a BTF typedef that is not
 * an argument or field of the probe (those win, as in C's scopes).
 */
bool kx_type_ahead(struct cc *c)
{
	struct tok save = c->tok;
	size_t pos = c->pos;
	bool yes = false;

	kx_next(c);
	if (c->tok.kind == T_IDENT) {
		const char *n = c->tok.text;

		yes = !strcmp(n, "struct") || !strcmp(n, "union") ||
		      !strcmp(n, "enum") || !strcmp(n, "unsigned") ||
		      !strcmp(n, "signed") || !strcmp(n, "const") ||
		      ((c_int_index(n) >= 0 ||
			(c->btf && btf__find_by_name_kind(c->btf, n,
						BTF_KIND_TYPEDEF) > 0)) &&
		       !is_arg_or_field(c->p, n));
	}
	c->tok = save;
	c->pos = pos;
	c->failed = 0;
	return yes;
}

/* unsigned/signed and C's int words: "unsigned long long" etc. */
static int c_int_words(struct cc *c, struct cast_type *t)
{
	bool is_unsigned = false, any = false;
	int longs = 0, size = 4;

	for (;;) {
		const char *n = c->tok.text;

		if (c->tok.kind != T_IDENT)
			break;
		if (!strcmp(n, "unsigned"))
			is_unsigned = true;
		else if (!strcmp(n, "signed"))
			;
		else if (!strcmp(n, "long"))
			longs++;
		else if (!strcmp(n, "char"))
			size = 1;
		else if (!strcmp(n, "short"))
			size = 2;
		else if (strcmp(n, "int"))
			break;
		any = true;
		kx_next(c);
	}
	if (!any)
		return kx_fail(c, "expected a type");
	if (longs)
		size = 8;
	t->int_size = size;
	t->int_signed = !is_unsigned;
	snprintf(t->spelling, sizeof(t->spelling), "%s%d",
		 is_unsigned ? "u" : "s", size * 8);
	return 0;
}

/* The BTF int of that size and sign, for a C integer name (0: none). */
static __u32 btf_int_of(const struct btf *btf, __u32 size, bool is_signed)
{
	static const char *const names[2][9] = {
		{ [1] = "unsigned char", [2] = "short unsigned int",
		  [4] = "unsigned int", [8] = "long long unsigned int" },
		{ [1] = "signed char", [2] = "short int", [4] = "int",
		  [8] = "long long int" },
	};
	int id;

	if (!btf || size > 8 || !names[is_signed][size])
		return 0;
	id = btf__find_by_name_kind(btf, names[is_signed][size], BTF_KIND_INT);
	return id > 0 ? (__u32)id : 0;
}

/* TYPE ')' after the '(' of a cast. */
static int cast_type(struct cc *c, struct cast_type *t)
{
	const char *n;
	int kind = 0, id, k;

	memset(t, 0, sizeof(*t));
	if (c->tok.kind == T_IDENT && !strcmp(c->tok.text, "const"))
		kx_next(c);
	if (c->tok.kind != T_IDENT)
		return kx_fail(c, "expected a type");
	n = c->tok.text;
	if (!strcmp(n, "struct"))
		kind = BTF_KIND_STRUCT;
	else if (!strcmp(n, "union"))
		kind = BTF_KIND_UNION;
	else if (!strcmp(n, "enum"))
		kind = BTF_KIND_ENUM;
	if (kind) {
		const char *kw = n[0] == 's' ? "struct" : n[0] == 'u' ?
				 "union" : "enum";

		kx_next(c);
		if (c->tok.kind != T_IDENT)
			return kx_fail(c, "expected a %s name", kw);
		if (!c->btf)
			return kx_fail(c, "no kernel BTF for %s %s", kw,
				       c->tok.text);
		id = btf__find_by_name_kind(c->btf, c->tok.text, kind);
		if (id <= 0 && kind == BTF_KIND_ENUM)
			id = btf__find_by_name_kind(c->btf, c->tok.text,
						    BTF_KIND_ENUM64);
		if (id <= 0)
			return kx_fail(c, "no %s %s in kernel BTF", kw,
				       c->tok.text);
		t->id = id;
		snprintf(t->spelling, sizeof(t->spelling), "%s %s", kw,
			 c->tok.text);
		kx_next(c);
	} else if ((k = c_int_index(n)) >= 0 && strcmp(n, "char") &&
		   strcmp(n, "short") && strcmp(n, "int") &&
		   strcmp(n, "long")) {
		t->int_size = c_ints[k].size;
		t->int_signed = c_ints[k].is_signed;
		t->is_bool = strstr(n, "ool") != NULL;
		snprintf(t->spelling, sizeof(t->spelling), "%s", n);
		kx_next(c);
	} else if (!strcmp(n, "unsigned") || !strcmp(n, "signed") ||
		   c_int_index(n) >= 0) {
		if (c_int_words(c, t))
			return c->failed;
	} else {
		id = c->btf ? btf__find_by_name_kind(c->btf, n,
						     BTF_KIND_TYPEDEF) : -1;
		if (id <= 0)
			return kx_fail(c, "unknown type '%s'", n);
		t->id = id;
		snprintf(t->spelling, sizeof(t->spelling), "%s", n);
		kx_next(c);
	}
	t->c_int = t->int_size != 0;
	if (!t->id && t->int_size)
		t->id = btf_int_of(c->btf, t->int_size, t->int_signed);
	while (kx_is_p(c, "*")) {
		t->ptr_depth++;
		kx_next(c);
	}
	return kx_expect(c, ")");
}

/* A pointer type to id in BTF (for a cast to T **), or 0. */
static __u32 btf_ptr_to(const struct btf *btf, __u32 id)
{
	__u32 n = btf__type_cnt(btf);

	for (__u32 i = 1; i < n; i++) {
		const struct btf_type *bt = btf__type_by_id(btf, i);

		if (btf_is_ptr(bt) && bt->type == id)
			return i;
	}
	return 0;
}

/* Keep the low size bytes of the rvalue on the stack, sign-extended
 * when is_signed: ((x + s) & m) - s, s the sign bit; a constant folds. */
static int truncate_to(struct cc *c, struct val *v, __u32 size,
		       bool is_signed)
{
	__s64 mask = (__s64)((1ULL << (8 * size)) - 1);
	__s64 sign = (__s64)(1ULL << (8 * size - 1));

	if (v->is_const) {
		__s64 x = 0;

		if (kx_unpush_const(c, v, &x))
			return c->failed;
		x &= mask;
		if (is_signed && (x & sign))
			x = (__s64)((__u64)x | ~(__u64)mask);
		v->cval = x;
		return kx_op(c, KT_OP_IMM, 0, 0, x);
	}
	if (!is_signed)
		return kx_op(c, KT_OP_ANDI, 0, 0, mask);
	if (kx_op(c, KT_OP_ADDI, 0, 0, sign) ||
	    kx_op(c, KT_OP_ANDI, 0, 0, mask))
		return c->failed;
	return kx_op(c, KT_OP_ADDI, 0, 0, -sign);
}

/*
 * '(' TYPE ')' unary, as in C: (struct sock *)arg0 reads arg0 as a
 * pointer to a struct sock (kernel memory; user memory where the value
 * was a syscall's user pointer); (u32)x keeps x's low 4 bytes.
 */
int kx_cast(struct cc *c, struct val *v)
{
	struct cast_type t;
	bool user;

	if (cast_type(c, &t) || kx_unary(c, v))
		return c->failed;
	if (!(v->kind == V_ARRAY && v->lval) && kx_rvalue(c, v))
		return c->failed;
	if (v->is_str)
		return kx_fail(c, "cannot cast a string constant");
	if (v->kind != V_INT && v->kind != V_PTR && v->kind != V_ENUM &&
	    v->kind != V_ARRAY)
		return kx_fail(c, "cannot cast %s to %s",
			       v->kind == V_COMP ? "a struct" : "this value",
			       t.spelling);
	user = v->kind == V_PTR ? v->ptr_user :
	       v->kind == V_ARRAY ? v->obj_user : c->p->user_ptrs;
	if (t.is_bool && !t.ptr_depth) {
		if (kx_op(c, KT_OP_NOT, 0, 0, 0) || kx_op(c, KT_OP_NOT, 0, 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 1;
		v->is_bool = true;
		return 0;
	}
	if (t.ptr_depth) {
		__u32 target = t.id;

		for (int i = 1; i < t.ptr_depth && target; i++)
			target = btf_ptr_to(c->btf, target);
		if (t.ptr_depth > 1 && !target)
			return kx_fail(c, "%s %.*s: no such pointer type in "
				       "kernel BTF", t.spelling,
				       t.ptr_depth, "********");
		memset(v, 0, sizeof(*v));
		v->kind = V_PTR;
		v->size = 8;
		v->ptr_user = user;
		v->target_id = target;
		v->target_char = t.ptr_depth == 1 && t.int_size == 1;
		return 0;
	}
	if (t.id && c->btf) {
		const struct btf_type *bt = btf__type_by_id(c->btf, t.id);
		__u32 rid = t.id;

		while (bt && (btf_is_mod(bt) || btf_is_typedef(bt))) {
			rid = bt->type;
			bt = btf__type_by_id(c->btf, rid);
		}
		if (!bt || btf_is_composite(bt) || btf_is_array(bt))
			return kx_fail(c, "cast to %s: only to a pointer or "
				       "an integer", t.spelling);
		if (btf_is_ptr(bt)) {
			memset(v, 0, sizeof(*v));
			v->kind = V_PTR;
			v->size = 8;
			v->ptr_user = user;
			v->target_id = bt->type;
			return 0;
		}
		if (!btf_is_int(bt) && !btf_is_enum(bt) && !btf_is_enum64(bt))
			return kx_fail(c, "cast to %s: only to a pointer or "
				       "an integer", t.spelling);
		/* a C integer name says its sign: BTF's "signed char" may
		 * carry only BTF_INT_CHAR (pahole on 5.10) */
		if (!t.c_int) {
			t.int_size = bt->size;
			t.int_signed = btf_is_int(bt) ?
				!!(btf_int_encoding(bt) & BTF_INT_SIGNED) :
				btf_kflag(bt);
		}
		if (t.int_size < 8 &&
		    truncate_to(c, v, t.int_size, t.int_signed))
			return c->failed;
		{
			bool is_const = v->is_const;
			__s64 cval = v->cval;

			if (kx_from_btf(c, rid, false, false, v))
				return c->failed;
			v->is_const = is_const;
			v->cval = cval;
			v->is_signed = t.int_signed;
		}
		return 0;
	}
	if (!t.int_size || t.int_size > 8)
		return kx_fail(c, "cast to %s: only to a pointer or an "
			       "integer", t.spelling);
	if (t.int_size < 8 && truncate_to(c, v, t.int_size, t.int_signed))
		return c->failed;
	{
		bool is_const = v->is_const;
		__s64 cval = v->cval;

		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = t.int_size;
		v->is_signed = t.int_signed;
		v->is_const = is_const;
		v->cval = cval;
	}
	return 0;
}
