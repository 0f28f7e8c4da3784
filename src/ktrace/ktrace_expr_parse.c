// SPDX-License-Identifier: MIT
/*
 * C expressions over a probe's arguments, the front end: the lexer and
 * the recursive-descent parser of the grammar in ktrace_expr.c. The parser
 * emits fetch ops as it goes, through the helpers of ktrace_expr.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "ktrace_expr_int.h"

/* ------------------------------------------------------------ lexer */

static const char *const puncts[] = {
	"->", "==", "!=", "<=", ">=", "&&", "||",
	"(", ")", "[", "]", ".", "*", "&", "!", "-", "+", "<", ">", ",",
};

static void next(struct cc *c)
{
	const char *s = c->src;
	size_t i = c->pos;

	while (isspace((unsigned char)s[i]))
		i++;
	memset(&c->tok, 0, sizeof(c->tok));
	c->tok.pos = i;
	if (!s[i]) {
		c->tok.kind = T_END;
		c->pos = i;
		return;
	}
	if (isalpha((unsigned char)s[i]) || s[i] == '_') {
		size_t n = 0;

		while (isalnum((unsigned char)s[i]) || s[i] == '_') {
			if (n >= sizeof(c->tok.text) - 1) {
				kx_fail(c, "name too long (at most %zu "
					"characters)", sizeof(c->tok.text) - 1);
				c->tok.kind = T_END;
				return;
			}
			c->tok.text[n++] = s[i++];
		}
		c->tok.kind = T_IDENT;
		c->pos = i;
		return;
	}
	if (isdigit((unsigned char)s[i])) {
		char *end;

		errno = 0;
		c->tok.num = (__s64)strtoull(s + i, &end, 0);
		if (errno || isalnum((unsigned char)*end)) {
			c->pos = i;
			kx_fail(c, "bad number");
			c->tok.kind = T_END;
			return;
		}
		snprintf(c->tok.text, sizeof(c->tok.text), "%.*s",
			 (int)(end - (s + i)), s + i);
		c->tok.kind = T_NUM;
		c->pos = end - s;
		return;
	}
	if (s[i] == '"') {
		size_t n = 0;

		i++;
		while (s[i] && s[i] != '"') {
			if (n >= KT_CMP_MAX - 1) {
				kx_fail(c, "string constant longer than %d "
					"bytes", KT_CMP_MAX - 1);
				c->tok.kind = T_END;
				return;
			}
			c->tok.str[n++] = s[i++];
		}
		if (s[i] != '"') {
			kx_fail(c, "unterminated string");
			c->tok.kind = T_END;
			return;
		}
		c->tok.kind = T_STR;
		snprintf(c->tok.text, sizeof(c->tok.text), "\"%.*s%s\"",
			 (int)sizeof(c->tok.text) - 8, c->tok.str,
			 n > sizeof(c->tok.text) - 8 ? "..." : "");
		c->pos = i + 1;
		return;
	}
	for (size_t k = 0; k < sizeof(puncts) / sizeof(puncts[0]); k++) {
		size_t n = strlen(puncts[k]);

		if (!strncmp(s + i, puncts[k], n)) {
			c->tok.kind = T_PUNCT;
			strcpy(c->tok.text, puncts[k]);
			c->pos = i + n;
			return;
		}
	}
	kx_fail(c, "unexpected character '%c'", s[i]);
	c->tok.kind = T_END;
}

static bool is_p(struct cc *c, const char *p)
{
	return c->tok.kind == T_PUNCT && !strcmp(c->tok.text, p);
}

static int expect(struct cc *c, const char *p)
{
	if (!is_p(c, p))
		return kx_fail(c, "expected '%s'", p);
	next(c);
	return 0;
}

/* ------------------------------------------------------------ parser */

static int expr(struct cc *c, struct val *v);

/*
 * An integer or enum argument (or return value) narrower than its u64
 * slot, of a kernel function: the trampoline and pt_regs hold the whole
 * register, whose upper bits the x86-64 ABI leaves undefined (5.10's
 * hrtimer_nanosleep showed mode=-4294967295), and an int return of -2 is
 * 0xfffffffe, not negative. Keep the low bytes, sign-extended when
 * signed: ((x + s) & m) - s, s the sign bit. tp_btf slots are already
 * widened by the kernel (__bpf_trace_*), so they need nothing.
 */
static int narrow_arg(struct cc *c, const struct val *v)
{
	__s64 mask, sign;

	if ((c->p->kind != KT_KIND_FENTRY && c->p->kind != KT_KIND_FEXIT) ||
	    (v->kind != V_INT && v->kind != V_ENUM) || !v->size ||
	    v->size >= 8)
		return 0;
	mask = (__s64)((1ULL << (8 * v->size)) - 1);
	if (!v->is_signed)
		return kx_op(c, KT_OP_ANDI, 0, 0, mask);
	sign = (__s64)(1ULL << (8 * v->size - 1));
	if (kx_op(c, KT_OP_ADDI, 0, 0, sign) ||
	    kx_op(c, KT_OP_ANDI, 0, 0, mask))
		return c->failed;
	return kx_op(c, KT_OP_ADDI, 0, 0, -sign);
}

static int ident_value(struct cc *c, const char *name, struct val *v)
{
	struct kt_probe *p = c->p;

	for (int i = 0; i < p->nargs; i++) {
		if (strcmp(p->arg_names[i], name))
			continue;
		if (kx_op(c, KT_OP_ARG, 0, 0, i))
			return c->failed;
		if (!p->arg_types[i])
			return kx_fail(c, "argument '%s' has no type", name);
		if (kx_from_btf(c, p->arg_types[i], false, false, v))
			return c->failed;
		if (v->kind == V_COMP || v->kind == V_ARRAY)
			return kx_fail(c, "argument '%s' is passed by value",
				       name);
		return narrow_arg(c, v);
	}
	if (p->has_ret && (!strcmp(name, "ret") || !strcmp(name, "retval"))) {
		if (kx_op(c, KT_OP_ARG, 0, 0, p->nargs))
			return c->failed;
		if (!p->ret_type)
			return kx_fail(c, "the function returns void");
		if (kx_from_btf(c, p->ret_type, false, false, v))
			return c->failed;
		return narrow_arg(c, v);
	}
	for (size_t i = 0; i < p->nfields; i++)
		if (!strcmp(p->fields[i].name, name))
			return kx_from_field(c, &p->fields[i], v);
	if (p->kind == KT_KIND_TRACEPOINT)
		return kx_fail(c, "'%s' is not a field of %s:%s", name, p->cat,
			       p->name);
	{
		char list[256] = "";
		size_t n = 0;

		for (int i = 0; i < p->nargs && n < sizeof(list) - 1; i++)
			n += snprintf(list + n, sizeof(list) - n, "%s%s",
				      i ? ", " : "", p->arg_names[i]);
		return kx_fail(c, "unknown name '%s' (arguments: %s%s)", name,
			       list, p->has_ret ? ", ret" : "");
	}
}

static int helper(struct cc *c, const char *name, struct val *v)
{
	next(c);		/* '(' */
	if (expr(c, v) || expect(c, ")"))
		return c->failed;
	if (!strcmp(name, "ip4") || !strcmp(name, "ip6")) {
		int len = name[2] == '4' ? 4 : 16;
		bool user;

		if (v->lval) {
			user = v->obj_user;	/* the address is there */
		} else if (v->kind == V_PTR) {
			user = v->ptr_user;
		} else {
			return kx_fail(c, "%s() wants an address or an lvalue "
				       "(e.g. %s(&sk->__sk_common.skc_daddr))",
				       name, name);
		}
		memset(v, 0, sizeof(*v));
		v->kind = V_ADDR;
		v->obj_user = user;
		v->addr_len = len;
		v->fmt = len == 4 ? KT_FMT_IP4 : KT_FMT_IP6;
		v->has_fmt = true;
		return 0;
	}
	if (!strcmp(name, "ntohs") || !strcmp(name, "htons") ||
	    !strcmp(name, "ntohl") || !strcmp(name, "htonl")) {
		int size = name[4] == 's' ? 2 : 4;

		if (kx_rvalue(c, v))
			return c->failed;
		if (v->kind != V_INT && v->kind != V_ENUM)
			return kx_fail(c, "%s() wants an integer", name);
		if (kx_op(c, KT_OP_BSWAP, size, 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = size;
		return 0;
	}
	if (!strcmp(name, "errno")) {
		if (kx_rvalue(c, v))
			return c->failed;
		if (v->kind != V_INT)
			return kx_fail(c, "errno() wants an integer");
		v->is_signed = true;
		v->fmt = KT_FMT_ERRNO;
		v->has_fmt = true;
		return 0;
	}
	if (!strcmp(name, "str") || !strcmp(name, "ustr")) {
		bool user = name[0] == 'u';

		if (v->kind == V_ARRAY && v->lval) {
			/* the address is on the stack */
		} else {
			if (kx_rvalue(c, v))
				return c->failed;
			if (v->kind != V_PTR && v->kind != V_INT)
				return kx_fail(c, "%s() wants a pointer", name);
		}
		memset(v, 0, sizeof(*v));
		v->kind = V_PTR;
		v->target_char = true;
		v->ptr_user = user;
		return 0;
	}
	return kx_fail(c, "unknown function '%s' (ip4, ip6, ntohs, ntohl, "
		       "errno, str, ustr)", name);
}

static int primary(struct cc *c, struct val *v)
{
	memset(v, 0, sizeof(*v));
	if (c->failed)
		return c->failed;
	if (c->tok.kind == T_NUM) {
		v->kind = V_INT;
		v->size = 8;
		v->is_signed = true;
		v->is_const = true;
		v->cval = c->tok.num;
		next(c);
		return kx_op(c, KT_OP_IMM, 0, 0, v->cval);
	}
	if (c->tok.kind == T_STR) {
		v->is_str = true;
		snprintf(v->str, sizeof(v->str), "%s", c->tok.str);
		next(c);
		return 0;
	}
	if (c->tok.kind == T_IDENT) {
		char name[64];

		snprintf(name, sizeof(name), "%s", c->tok.text);
		next(c);
		if (is_p(c, "("))
			return helper(c, name, v);
		return ident_value(c, name, v);
	}
	if (is_p(c, "(")) {
		next(c);
		if (expr(c, v))
			return c->failed;
		return expect(c, ")");
	}
	if (c->tok.kind == T_END)
		return kx_fail(c, "unexpected end");
	return kx_fail(c, "unexpected '%s'", c->tok.text);
}

static int postfix(struct cc *c, struct val *v)
{
	if (primary(c, v))
		return c->failed;
	for (;;) {
		if (is_p(c, "->")) {
			next(c);
			if (c->tok.kind != T_IDENT)
				return kx_fail(c, "expected a member name");
			if (kx_rvalue(c, v))
				return c->failed;
			if (v->kind != V_PTR)
				return kx_fail(c, "'->%s' on a value that is "
						  "not a pointer", c->tok.text);
			if (kx_deref(c, v) || kx_member(c, v, c->tok.text))
				return c->failed;
			next(c);
		} else if (is_p(c, ".")) {
			next(c);
			if (c->tok.kind != T_IDENT)
				return kx_fail(c, "expected a member name");
			if (!v->lval)
				return kx_fail(c, "'.%s' on a value that is "
						  "not a struct", c->tok.text);
			if (kx_member(c, v, c->tok.text))
				return c->failed;
			next(c);
		} else if (is_p(c, "[")) {
			__s64 idx;

			next(c);
			if (c->tok.kind != T_NUM)
				return kx_fail(c, "an index must be a number");
			idx = c->tok.num;
			if (idx < 0 || idx > (1 << 20))
				return kx_fail(c, "index %lld out of range",
					       (long long)idx);
			next(c);
			if (expect(c, "]"))
				return c->failed;
			if (v->kind == V_ARRAY && v->lval) {
				__u32 es = v->elem_size, tid = v->target_id;
				bool user = v->obj_user, ch = v->target_char;

				if (idx < 0 || (v->nelem && idx >= v->nelem))
					return kx_fail(c, "index %lld out of "
							  "bounds [0, %u)",
							  (long long)idx,
							  v->nelem);
				if (idx && kx_op(c, KT_OP_ADDI, 0, 0, idx * es))
					return c->failed;
				if (tid) {
					if (kx_from_btf(c, tid, true, user, v))
						return c->failed;
				} else {
					memset(v, 0, sizeof(*v));
					v->kind = V_INT;
					v->size = es;
					v->lval = true;
					v->obj_user = user;
					(void)ch;
				}
			} else {
				__s64 es;

				if (kx_rvalue(c, v))
					return c->failed;
				if (v->kind != V_PTR || !v->target_id)
					return kx_fail(c, "cannot index this "
							  "value");
				es = btf__resolve_size(c->btf, v->target_id);
				if (es > (1 << 20))
					return kx_fail(c, "element too large");
				if (es <= 0)
					return kx_fail(c, "element size "
							  "unknown");
				if (idx && kx_op(c, KT_OP_ADDI, 0, 0, idx * es))
					return c->failed;
				if (kx_deref(c, v))
					return c->failed;
			}
		} else {
			return 0;
		}
	}
}

static int unary(struct cc *c, struct val *v);
static int unary_nested(struct cc *c, struct val *v);

/* ------------------------------------------------------------ casts */

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
static bool type_ahead(struct cc *c)
{
	struct tok save = c->tok;
	size_t pos = c->pos;
	bool yes = false;

	next(c);
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
		next(c);
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
		next(c);
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

		next(c);
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
		next(c);
	} else if ((k = c_int_index(n)) >= 0 && strcmp(n, "char") &&
		   strcmp(n, "short") && strcmp(n, "int") &&
		   strcmp(n, "long")) {
		t->int_size = c_ints[k].size;
		t->int_signed = c_ints[k].is_signed;
		t->is_bool = strstr(n, "ool") != NULL;
		snprintf(t->spelling, sizeof(t->spelling), "%s", n);
		next(c);
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
		next(c);
	}
	t->c_int = t->int_size != 0;
	if (!t->id && t->int_size)
		t->id = btf_int_of(c->btf, t->int_size, t->int_signed);
	while (is_p(c, "*")) {
		t->ptr_depth++;
		next(c);
	}
	return expect(c, ")");
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
static int cast(struct cc *c, struct val *v)
{
	struct cast_type t;
	bool user;

	if (cast_type(c, &t) || unary(c, v))
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

/* Bounded recursion: prefix operators and parentheses nest at most
 * KX_MAX_DEPTH deep, so no input can exhaust the C stack. */
static int unary(struct cc *c, struct val *v)
{
	int ret;

	if (++c->depth > KX_MAX_DEPTH) {
		c->depth--;
		return kx_fail(c, "too deeply nested (at most %d levels)",
			       KX_MAX_DEPTH);
	}
	ret = unary_nested(c, v);
	c->depth--;
	return ret;
}

static int unary_nested(struct cc *c, struct val *v)
{
	if (is_p(c, "!") || is_p(c, "-")) {
		bool neg = c->tok.text[0] == '-';

		next(c);
		if (unary(c, v) || kx_rvalue(c, v))
			return c->failed;
		if (v->kind != V_INT && v->kind != V_PTR && v->kind != V_ENUM)
			return kx_fail(c, "'%c' wants a number",
					  neg ? '-' : '!');
		if (neg && v->is_const) {
			__s64 imm = 0;

			if (kx_unpush_const(c, v, &imm))
				return c->failed;
			v->cval = (__s64)(0 - (__u64)imm);	/* no UB */
			return kx_op(c, KT_OP_IMM, 0, 0, v->cval);
		}
		if (kx_op(c, neg ? KT_OP_NEG : KT_OP_NOT, 0, 0, 0))
			return c->failed;
		v->is_const = false;
		v->is_signed = true;
		if (!neg) {
			v->kind = V_INT;
			v->is_bool = true;
		}
		return 0;
	}
	if (is_p(c, "*")) {
		next(c);
		if (unary(c, v) || kx_rvalue(c, v))
			return c->failed;
		return kx_deref(c, v);
	}
	if (is_p(c, "(") && type_ahead(c)) {
		next(c);
		return cast(c, v);
	}
	if (is_p(c, "&")) {
		__u32 tid;

		next(c);
		if (unary(c, v))
			return c->failed;
		if (!v->lval || v->bit_size)
			return kx_fail(c, "'&' wants an lvalue (a member, an "
				       "array element)");
		tid = v->type_id;
		bool user = v->obj_user;
		__u32 size = v->size;
		memset(v, 0, sizeof(*v));
		v->kind = V_PTR;
		v->size = 8;
		v->target_id = tid;
		v->ptr_user = user;
		v->addr_len = size;
		return 0;
	}
	return postfix(c, v);
}

int kx_scalar_operand(struct cc *c, struct val *v, const char *what)
{
	if (kx_rvalue(c, v))
		return c->failed;
	if (v->is_str)
		return kx_fail(c, "a string constant only compares with "
				  "== or !=");
	if (v->kind != V_INT && v->kind != V_PTR && v->kind != V_ENUM)
		return kx_fail(c, "'%s' wants numbers or pointers, not %s",
			       what, v->kind == V_COMP ? "a struct" :
			       v->kind == V_ARRAY ? "an array" : "this value");
	return 0;
}

static int additive(struct cc *c, struct val *v)
{
	if (unary(c, v))
		return c->failed;
	while (is_p(c, "+") || is_p(c, "-")) {
		bool sub = c->tok.text[0] == '-';
		struct val r;

		next(c);
		if (kx_scalar_operand(c, v, sub ? "-" : "+") || unary(c, &r) ||
		    kx_scalar_operand(c, &r, sub ? "-" : "+"))
			return c->failed;
		if (kx_op(c, sub ? KT_OP_SUB : KT_OP_ADD, 0, 0, 0))
			return c->failed;
		v->is_const = false;
		v->is_signed = v->is_signed || r.is_signed;
	}
	return 0;
}

static int relational(struct cc *c, struct val *v)
{
	if (additive(c, v))
		return c->failed;
	while (is_p(c, "<") || is_p(c, "<=") || is_p(c, ">") ||
	       is_p(c, ">=")) {
		char o[3];
		__u8 code;
		struct val r;

		snprintf(o, sizeof(o), "%.2s", c->tok.text);
		code = !strcmp(o, "<") ? KT_OP_LT : !strcmp(o, "<=") ? KT_OP_LE
		       : !strcmp(o, ">") ? KT_OP_GT : KT_OP_GE;
		next(c);
		if (kx_scalar_operand(c, v, o) || additive(c, &r) ||
		    kx_scalar_operand(c, &r, o))
			return c->failed;
		if (kx_op(c, code, 0, (v->is_signed || r.is_signed) &&
			  !(v->kind == V_PTR) ? KT_F_SIGNED : 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 8;
		v->is_bool = true;
	}
	return 0;
}

/* lhs == "string": v is a char array (address on the stack), a char
 * pointer or a __data_loc string. */
static int string_compare(struct cc *c, struct val *v, const char *s,
			  bool ne)
{
	bool user;
	int off;

	if (v->kind == V_ARRAY && v->lval && v->target_char) {
		user = v->obj_user;
	} else {
		if (kx_rvalue(c, v))
			return c->failed;
		if (v->kind != V_PTR || !v->target_char)
			return kx_fail(c, "only strings compare with a string "
				       "constant");
		user = v->ptr_user;
	}
	off = kt_const_str(c->p, s, strlen(s));
	if (off < 0)
		return kx_fail(c, "too many string constants");
	if (kx_op(c, KT_OP_STREQ, 0, user ? KT_F_USER : 0, 0))
		return c->failed;
	c->p->spec.ops[c->p->spec.nops - 1].off = off;
	c->p->spec.ops[c->p->spec.nops - 1].len = strlen(s) + 1;
	if (ne && kx_op(c, KT_OP_NOT, 0, 0, 0))
		return c->failed;
	memset(v, 0, sizeof(*v));
	v->kind = V_INT;
	v->size = 8;
	v->is_bool = true;
	return 0;
}

static int equality(struct cc *c, struct val *v)
{
	if (relational(c, v))
		return c->failed;
	while (is_p(c, "==") || is_p(c, "!=")) {
		bool ne = c->tok.text[0] == '!';
		struct val r;

		next(c);
		if (c->tok.kind == T_STR) {
			char s[KT_CMP_MAX];

			snprintf(s, sizeof(s), "%s", c->tok.str);
			next(c);
			if (string_compare(c, v, s, ne))
				return c->failed;
			continue;
		}
		if (v->is_str) {
			return kx_fail(c, "put the string constant on the "
				  "right");
		}
		if (kx_scalar_operand(c, v, ne ? "!=" : "==") ||
		    relational(c, &r) ||
		    kx_scalar_operand(c, &r, ne ? "!=" : "=="))
			return c->failed;
		if (kx_op(c, ne ? KT_OP_NE : KT_OP_EQ, 0, 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 8;
		v->is_bool = true;
	}
	return 0;
}

static int bitand(struct cc *c, struct val *v)
{
	if (equality(c, v))
		return c->failed;
	while (is_p(c, "&")) {
		struct val r;
		__s64 imm = 0;

		next(c);
		if (kx_scalar_operand(c, v, "&") || equality(c, &r) ||
		    kx_unpush_const(c, &r, &imm))
			return c->failed;
		if (kx_op(c, KT_OP_ANDI, 0, 0, imm))
			return c->failed;
		v->is_const = false;
		v->is_bool = false;
		v->kind = V_INT;
	}
	return 0;
}

static int logical_and(struct cc *c, struct val *v)
{
	if (bitand(c, v))
		return c->failed;
	while (is_p(c, "&&")) {
		struct val r;

		next(c);
		if (kx_scalar_operand(c, v, "&&") || bitand(c, &r) ||
		    kx_scalar_operand(c, &r, "&&") ||
		    kx_op(c, KT_OP_LAND, 0, 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 8;
		v->is_bool = true;
	}
	return 0;
}

static int expr(struct cc *c, struct val *v)
{
	if (logical_and(c, v))
		return c->failed;
	while (is_p(c, "||")) {
		struct val r;

		next(c);
		if (kx_scalar_operand(c, v, "||") || logical_and(c, &r) ||
		    kx_scalar_operand(c, &r, "||") ||
		    kx_op(c, KT_OP_LOR, 0, 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 8;
		v->is_bool = true;
	}
	return 0;
}

int kx_parse(struct cc *c, struct kt_probe *p, const struct btf *btf,
	     const char *text, char *err, size_t errlen, struct val *v)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->btf = btf;
	c->src = text;
	c->err = err;
	c->errlen = errlen;
	c->first_op = p->spec.nops;
	if (strlen(text) > KX_MAX_LEN)
		return kx_fail(c, "longer than %d bytes", KX_MAX_LEN);
	next(c);
	if (expr(c, v) || c->failed)
		return c->failed;
	if (c->tok.kind != T_END)
		return kx_fail(c, "unexpected '%s'", c->tok.text);
	return 0;
}
