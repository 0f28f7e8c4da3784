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

/* For ktrace_expr_cast.c */
void kx_next(struct cc *c)
{
	next(c);
}

bool kx_is_p(struct cc *c, const char *p)
{
	return is_p(c, p);
}

int kx_expect(struct cc *c, const char *p)
{
	return expect(c, p);
}

int kx_unary(struct cc *c, struct val *v)
{
	return unary(c, v);
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
	if (is_p(c, "(") && kx_type_ahead(c)) {
		next(c);
		return kx_cast(c, v);
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
