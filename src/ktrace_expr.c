// SPDX-License-Identifier: MIT
/*
 * C expressions over a probe's arguments, compiled into fetch ops (no
 * compiler at run time). One pass: a recursive-descent parser that emits
 * ops for a stack machine as it goes, typing every value from vmlinux BTF
 * (tp_btf, fentry, fexit) or from the tracepoint's format file.
 *
 *   expr    := or
 *   or      := and ('||' and)*
 *   and     := bitand ('&&' bitand)*
 *   bitand  := eq ('&' NUMBER)*
 *   eq      := rel (('==' | '!=') (rel | STRING))*
 *   rel     := add (('<' | '<=' | '>' | '>=') add)*
 *   add     := unary (('+' | '-') unary)*
 *   unary   := ('!' | '-' | '*' | '&') unary | postfix
 *   postfix := primary ('->' IDENT | '.' IDENT | '[' NUMBER ']')*
 *   primary := IDENT | NUMBER | '(' expr ')' | HELPER '(' expr ')'
 *   HELPER  := ip4 ip6 ntohs ntohl htons htonl errno str ustr
 *
 * A value is either on the stack ("rvalue") or its address is ("lvalue":
 * member access and indexing only add offsets; the load happens once,
 * when a scalar is needed). Pointers read through are kernel memory,
 * except the pointer fields of syscalls:* tracepoints (user memory).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "ktrace_probe.h"

enum tok_kind { T_END, T_IDENT, T_NUM, T_STR, T_PUNCT };

struct tok {
	enum tok_kind kind;
	char text[64];
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
};

static int fail(struct cc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct cc *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (c->failed)
		return c->failed;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "expression '%s': %s (at column %zu)",
		 c->src, msg, c->tok.pos + 1);
	c->failed = -EINVAL;
	return c->failed;
}

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
			if (n < sizeof(c->tok.text) - 1)
				c->tok.text[n++] = s[i];
			i++;
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
			fail(c, "bad number");
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
				fail(c, "string constant longer than %d bytes",
				     KT_CMP_MAX - 1);
				c->tok.kind = T_END;
				return;
			}
			c->tok.text[n++] = s[i++];
		}
		if (s[i] != '"') {
			fail(c, "unterminated string");
			c->tok.kind = T_END;
			return;
		}
		c->tok.kind = T_STR;
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
	fail(c, "unexpected character '%c'", s[i]);
	c->tok.kind = T_END;
}

static bool is_p(struct cc *c, const char *p)
{
	return c->tok.kind == T_PUNCT && !strcmp(c->tok.text, p);
}

static int expect(struct cc *c, const char *p)
{
	if (!is_p(c, p))
		return fail(c, "expected '%s'", p);
	next(c);
	return 0;
}

/* ------------------------------------------------------------ ops */

static int op(struct cc *c, __u8 code, __u8 size, __u8 flags, __s64 imm)
{
	if (c->failed)
		return c->failed;
	if (kt_op(c->p, code, size, flags, imm))
		return fail(c, "too many operations (at most %d per probe)",
			    KT_MAX_OPS);
	return 0;
}

/* Take back the IMM a constant pushed, for an op with an immediate. */
static int unpush_const(struct cc *c, const struct val *v, __s64 *imm)
{
	struct kt_spec *s = &c->p->spec;

	if (!v->is_const || !s->nops || s->ops[s->nops - 1].code != KT_OP_IMM)
		return fail(c, "expected a number");
	*imm = s->ops[s->nops - 1].imm;
	s->nops--;
	return 0;
}

/* ------------------------------------------------------------ types */

static const struct btf_type *resolve(const struct btf *btf, __u32 id,
				      __u32 *rid)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && id && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (rid)
		*rid = id;
	return id ? t : NULL;
}

static bool btf_is_char(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = resolve(btf, id, NULL);
	const char *n;

	if (!t || !btf_is_int(t) || t->size != 1)
		return false;
	n = btf__name_by_offset(btf, t->name_off);
	return (btf_int_encoding(t) & BTF_INT_CHAR) || (n && strstr(n, "char"));
}

static void type_name(struct cc *c, __u32 id, char *buf, size_t len)
{
	if (c->btf && id)
		kt_btf__type_str(c->btf, id, buf, len);
	else
		snprintf(buf, len, "?");
}

/* A value of BTF type id; lval: its address is on the stack. */
static int from_btf(struct cc *c, __u32 id, bool lval, bool user,
		    struct val *v)
{
	const struct btf_type *t;
	__u32 rid;

	memset(v, 0, sizeof(*v));
	v->lval = lval;
	v->obj_user = user;
	v->ptr_user = user;
	if (!c->btf)
		return fail(c, "no kernel BTF to type this value");
	t = resolve(c->btf, id, &rid);
	if (!t)
		return fail(c, "a void value");
	v->type_id = rid;
	if (btf_is_int(t)) {
		v->kind = V_INT;
		v->size = t->size;
		v->is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
		v->is_bool = btf_int_encoding(t) & BTF_INT_BOOL;
	} else if (btf_is_enum(t) || btf_is_enum64(t)) {
		v->kind = V_ENUM;
		v->size = t->size;
		v->is_signed = btf_kflag(t);
	} else if (btf_is_ptr(t)) {
		v->kind = V_PTR;
		v->size = 8;
		v->target_id = t->type;
		v->target_char = btf_is_char(c->btf, t->type);
	} else if (btf_is_array(t)) {
		const struct btf_array *a = btf_array(t);
		__s64 es = btf__resolve_size(c->btf, a->type);

		v->kind = V_ARRAY;
		v->target_id = a->type;
		v->nelem = a->nelems;
		v->elem_size = es > 0 ? (__u32)es : 1;
		v->size = v->nelem * v->elem_size;
		v->target_char = btf_is_char(c->btf, a->type);
	} else if (btf_is_composite(t)) {
		v->kind = V_COMP;
		v->size = t->size;
	} else {
		char tn[96];

		type_name(c, id, tn, sizeof(tn));
		return fail(c, "values of type %s are not supported", tn);
	}
	return 0;
}

/* An integer element size from a tracepoint's type spelling. */
static __u32 tp_elem_size(const char *type)
{
	if (strstr(type, "64") || strstr(type, "long"))
		return 8;
	if (strstr(type, "32") || !strcmp(type, "int") ||
	    strstr(type, "unsigned int"))
		return 4;
	if (strstr(type, "16") || strstr(type, "short"))
		return 2;
	return 1;
}

static int from_field(struct cc *c, const struct tp_field *f, struct val *v)
{
	memset(v, 0, sizeof(*v));
	if (op(c, KT_OP_CTX, 0, 0, f->offset))
		return c->failed;
	v->lval = true;
	v->ptr_user = c->p->user_ptrs;
	v->size = f->size;
	if (f->data_loc) {
		v->kind = V_DATALOC;
		v->target_char = f->is_char;
	} else if (f->is_array) {
		v->kind = V_ARRAY;
		v->target_char = f->is_char;
		v->elem_size = tp_elem_size(f->type);
		v->nelem = f->size / v->elem_size;
	} else if (f->is_ptr) {
		v->kind = V_PTR;
		v->target_char = f->is_char && f->ptr_depth == 1;
		v->strv = f->is_char && f->ptr_depth == 2;
	} else {
		v->kind = V_INT;
		v->is_signed = f->is_signed;
		v->is_bool = !strcmp(f->type, "bool");
	}
	return 0;
}

/* Make v an rvalue: load scalars. Arrays and structs stay lvalues. */
static int rvalue(struct cc *c, struct val *v)
{
	__u8 fl;

	if (c->failed || !v->lval)
		return c->failed;
	fl = v->obj_user ? KT_F_USER : 0;
	switch (v->kind) {
	case V_INT:
	case V_ENUM:
	case V_PTR:
		if (v->bit_size) {
			if (op(c, KT_OP_LOAD, 8, fl, 0) ||
			    op(c, KT_OP_SHRI, 0, 0, v->bit_shift) ||
			    op(c, KT_OP_ANDI, 0, 0,
			       v->bit_size >= 64 ? -1 :
			       (__s64)((1ULL << v->bit_size) - 1)))
				return c->failed;
		} else if (op(c, KT_OP_LOAD, v->size > 8 ? 8 : v->size,
			      fl | (v->is_signed ? KT_F_SIGNED : 0), 0)) {
			return c->failed;
		}
		v->lval = false;
		return 0;
	case V_DATALOC:
		if (op(c, KT_OP_LOAD, 4, 0, 0) ||
		    op(c, KT_OP_DATALOC, 0, 0, 0))
			return c->failed;
		v->kind = V_PTR;
		v->ptr_user = false;
		v->lval = false;
		return 0;
	default:
		return 0;
	}
}

/* Find member name in composite type id, through anonymous members. */
static int find_member(const struct btf *btf, __u32 id, const char *name,
		       __u32 *bit_off, __u32 *mtype, __u32 *bit_size)
{
	const struct btf_type *t = resolve(btf, id, NULL);
	const struct btf_member *m;

	if (!t || !btf_is_composite(t))
		return -ENOENT;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		__u32 off = btf_member_bit_offset(t, i);

		if (mn && *mn) {
			if (strcmp(mn, name))
				continue;
			*bit_off = off;
			*mtype = m->type;
			*bit_size = btf_member_bitfield_size(t, i);
			return 0;
		}
		if (!find_member(btf, m->type, name, bit_off, mtype,
				 bit_size)) {
			*bit_off += off;
			return 0;
		}
	}
	return -ENOENT;
}

/* v: lvalue of a struct/union (its address on the stack) -> member. */
static int member(struct cc *c, struct val *v, const char *name)
{
	__u32 bit_off, mtype, bit_size;
	bool user = v->obj_user;
	char tn[96];

	if (v->kind != V_COMP || !v->type_id) {
		type_name(c, v->type_id, tn, sizeof(tn));
		return fail(c, "'%s': not a struct or union", name);
	}
	if (find_member(c->btf, v->type_id, name, &bit_off, &mtype,
			&bit_size)) {
		type_name(c, v->type_id, tn, sizeof(tn));
		return fail(c, "%s has no member '%s'", tn, name);
	}
	if (bit_off / 8 && op(c, KT_OP_ADDI, 0, 0, bit_off / 8))
		return c->failed;
	if (from_btf(c, mtype, true, user, v))
		return c->failed;
	if (bit_size) {
		v->bit_shift = bit_off % 8;
		v->bit_size = bit_size;
	} else if (bit_off % 8) {
		return fail(c, "member '%s' is not byte aligned", name);
	}
	return 0;
}

/* Dereference the pointer rvalue v: an lvalue of its target. */
static int deref(struct cc *c, struct val *v)
{
	bool user = v->ptr_user;

	if (v->kind != V_PTR)
		return fail(c, "not a pointer");
	if (v->target_char && !v->target_id) {	/* tracepoint char * */
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 1;
		v->lval = true;
		v->obj_user = v->ptr_user = user;
		return 0;
	}
	if (!v->target_id)
		return fail(c, "cannot dereference a pointer of unknown type");
	return from_btf(c, v->target_id, true, user, v);
}

/* ------------------------------------------------------------ parser */

static int expr(struct cc *c, struct val *v);

static int ident_value(struct cc *c, const char *name, struct val *v)
{
	struct kt_probe *p = c->p;

	for (int i = 0; i < p->nargs; i++) {
		if (strcmp(p->arg_names[i], name))
			continue;
		if (op(c, KT_OP_ARG, 0, 0, i))
			return c->failed;
		if (!p->arg_types[i])
			return fail(c, "argument '%s' has no type", name);
		if (from_btf(c, p->arg_types[i], false, false, v))
			return c->failed;
		if (v->kind == V_COMP || v->kind == V_ARRAY)
			return fail(c, "argument '%s' is passed by value",
				    name);
		return 0;
	}
	if (p->has_ret && (!strcmp(name, "ret") || !strcmp(name, "retval"))) {
		if (op(c, KT_OP_ARG, 0, 0, p->nargs))
			return c->failed;
		if (!p->ret_type)
			return fail(c, "the function returns void");
		return from_btf(c, p->ret_type, false, false, v);
	}
	for (size_t i = 0; i < p->nfields; i++)
		if (!strcmp(p->fields[i].name, name))
			return from_field(c, &p->fields[i], v);
	if (p->kind == KT_KIND_TRACEPOINT)
		return fail(c, "'%s' is not a field of %s:%s", name, p->cat,
			    p->name);
	{
		char list[256] = "";
		size_t n = 0;

		for (int i = 0; i < p->nargs && n < sizeof(list) - 1; i++)
			n += snprintf(list + n, sizeof(list) - n, "%s%s",
				      i ? ", " : "", p->arg_names[i]);
		return fail(c, "unknown name '%s' (arguments: %s%s)", name,
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
			return fail(c, "%s() wants an address or an lvalue "
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

		if (rvalue(c, v))
			return c->failed;
		if (v->kind != V_INT && v->kind != V_ENUM)
			return fail(c, "%s() wants an integer", name);
		if (op(c, KT_OP_BSWAP, size, 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = size;
		return 0;
	}
	if (!strcmp(name, "errno")) {
		if (rvalue(c, v))
			return c->failed;
		if (v->kind != V_INT)
			return fail(c, "errno() wants an integer");
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
			if (rvalue(c, v))
				return c->failed;
			if (v->kind != V_PTR && v->kind != V_INT)
				return fail(c, "%s() wants a pointer", name);
		}
		memset(v, 0, sizeof(*v));
		v->kind = V_PTR;
		v->target_char = true;
		v->ptr_user = user;
		return 0;
	}
	return fail(c, "unknown function '%s' (ip4, ip6, ntohs, ntohl, "
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
		return op(c, KT_OP_IMM, 0, 0, v->cval);
	}
	if (c->tok.kind == T_STR) {
		v->is_str = true;
		snprintf(v->str, sizeof(v->str), "%.31s", c->tok.text);
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
		return fail(c, "unexpected end");
	return fail(c, "unexpected '%s'", c->tok.text);
}

static int postfix(struct cc *c, struct val *v)
{
	if (primary(c, v))
		return c->failed;
	for (;;) {
		if (is_p(c, "->")) {
			next(c);
			if (c->tok.kind != T_IDENT)
				return fail(c, "expected a member name");
			if (rvalue(c, v))
				return c->failed;
			if (v->kind != V_PTR)
				return fail(c, "'->%s' on a value that is not "
					    "a pointer", c->tok.text);
			if (deref(c, v) || member(c, v, c->tok.text))
				return c->failed;
			next(c);
		} else if (is_p(c, ".")) {
			next(c);
			if (c->tok.kind != T_IDENT)
				return fail(c, "expected a member name");
			if (!v->lval)
				return fail(c, "'.%s' on a value that is not a "
					    "struct", c->tok.text);
			if (member(c, v, c->tok.text))
				return c->failed;
			next(c);
		} else if (is_p(c, "[")) {
			__s64 idx;

			next(c);
			if (c->tok.kind != T_NUM)
				return fail(c, "an index must be a number");
			idx = c->tok.num;
			next(c);
			if (expect(c, "]"))
				return c->failed;
			if (v->kind == V_ARRAY && v->lval) {
				__u32 es = v->elem_size, tid = v->target_id;
				bool user = v->obj_user, ch = v->target_char;

				if (idx < 0 || (v->nelem && idx >= v->nelem))
					return fail(c, "index %lld out of "
						    "bounds [0, %u)",
						    (long long)idx, v->nelem);
				if (idx && op(c, KT_OP_ADDI, 0, 0, idx * es))
					return c->failed;
				if (tid) {
					if (from_btf(c, tid, true, user, v))
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

				if (rvalue(c, v))
					return c->failed;
				if (v->kind != V_PTR || !v->target_id)
					return fail(c, "cannot index this value");
				es = btf__resolve_size(c->btf, v->target_id);
				if (es <= 0)
					return fail(c, "element size unknown");
				if (idx && op(c, KT_OP_ADDI, 0, 0, idx * es))
					return c->failed;
				if (deref(c, v))
					return c->failed;
			}
		} else {
			return 0;
		}
	}
}

static int unary(struct cc *c, struct val *v)
{
	if (is_p(c, "!") || is_p(c, "-")) {
		bool neg = c->tok.text[0] == '-';

		next(c);
		if (unary(c, v) || rvalue(c, v))
			return c->failed;
		if (v->kind != V_INT && v->kind != V_PTR && v->kind != V_ENUM)
			return fail(c, "'%c' wants a number", neg ? '-' : '!');
		if (neg && v->is_const) {
			__s64 imm = 0;

			if (unpush_const(c, v, &imm))
				return c->failed;
			v->cval = -imm;
			return op(c, KT_OP_IMM, 0, 0, v->cval);
		}
		if (op(c, neg ? KT_OP_NEG : KT_OP_NOT, 0, 0, 0))
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
		if (unary(c, v) || rvalue(c, v))
			return c->failed;
		return deref(c, v);
	}
	if (is_p(c, "&")) {
		__u32 tid;

		next(c);
		if (unary(c, v))
			return c->failed;
		if (!v->lval || v->bit_size)
			return fail(c, "'&' wants an lvalue (a member, an "
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

static int scalar_operand(struct cc *c, struct val *v, const char *what)
{
	if (rvalue(c, v))
		return c->failed;
	if (v->is_str)
		return fail(c, "a string constant only compares with == or !=");
	if (v->kind != V_INT && v->kind != V_PTR && v->kind != V_ENUM)
		return fail(c, "'%s' wants numbers or pointers, not %s", what,
			    v->kind == V_COMP ? "a struct" :
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
		if (scalar_operand(c, v, sub ? "-" : "+") || unary(c, &r) ||
		    scalar_operand(c, &r, sub ? "-" : "+"))
			return c->failed;
		if (op(c, sub ? KT_OP_SUB : KT_OP_ADD, 0, 0, 0))
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
		if (scalar_operand(c, v, o) || additive(c, &r) ||
		    scalar_operand(c, &r, o))
			return c->failed;
		if (op(c, code, 0, (v->is_signed || r.is_signed) &&
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
		if (rvalue(c, v))
			return c->failed;
		if (v->kind != V_PTR || !v->target_char)
			return fail(c, "only strings compare with a string "
				    "constant");
		user = v->ptr_user;
	}
	off = kt_const_str(c->p, s, strlen(s));
	if (off < 0)
		return fail(c, "too many string constants");
	if (op(c, KT_OP_STREQ, 0, user ? KT_F_USER : 0, 0))
		return c->failed;
	c->p->spec.ops[c->p->spec.nops - 1].off = off;
	c->p->spec.ops[c->p->spec.nops - 1].len = strlen(s) + 1;
	if (ne && op(c, KT_OP_NOT, 0, 0, 0))
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

			snprintf(s, sizeof(s), "%.31s", c->tok.text);
			next(c);
			if (string_compare(c, v, s, ne))
				return c->failed;
			continue;
		}
		if (v->is_str) {
			return fail(c, "put the string constant on the right");
		}
		if (scalar_operand(c, v, ne ? "!=" : "==") ||
		    relational(c, &r) ||
		    scalar_operand(c, &r, ne ? "!=" : "=="))
			return c->failed;
		if (op(c, ne ? KT_OP_NE : KT_OP_EQ, 0, 0, 0))
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
		if (scalar_operand(c, v, "&") || equality(c, &r) ||
		    unpush_const(c, &r, &imm))
			return c->failed;
		if (op(c, KT_OP_ANDI, 0, 0, imm))
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
		if (scalar_operand(c, v, "&&") || bitand(c, &r) ||
		    scalar_operand(c, &r, "&&") || op(c, KT_OP_LAND, 0, 0, 0))
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
		if (scalar_operand(c, v, "||") || logical_and(c, &r) ||
		    scalar_operand(c, &r, "||") || op(c, KT_OP_LOR, 0, 0, 0))
			return c->failed;
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 8;
		v->is_bool = true;
	}
	return 0;
}

static int parse(struct cc *c, struct kt_probe *p, const struct btf *btf,
		 const char *text, char *err, size_t errlen, struct val *v)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->btf = btf;
	c->src = text;
	c->err = err;
	c->errlen = errlen;
	next(c);
	if (expr(c, v))
		return c->failed;
	if (c->tok.kind != T_END)
		return fail(c, "unexpected '%s'", c->tok.text);
	return 0;
}

int kt_expr__filter(struct kt_probe *p, const struct btf *btf,
		    const char *text, char *err, size_t errlen)
{
	struct kt_spec saved = p->spec;
	struct cc c;
	struct val v;

	if (parse(&c, p, btf, text, err, errlen, &v) ||
	    scalar_operand(&c, &v, "--filter") ||
	    op(&c, KT_OP_FILTER, 0, 0, 0)) {
		p->spec = saved;
		return c.failed;
	}
	p->has_filter = true;
	return 0;
}

static void trim_copy(char *dst, size_t len, const char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	snprintf(dst, len, "%.*s", (int)n, s);
}

int kt_expr__output(struct kt_probe *p, const struct btf *btf,
		    const char *text, char *err, size_t errlen)
{
	struct kt_out *o = NULL;
	char name[128];
	struct cc c;
	struct val v;
	int ret;

	trim_copy(name, sizeof(name), text);
	if (parse(&c, p, btf, text, err, errlen, &v))
		return c.failed;
	if (v.is_str)
		return fail(&c, "a string constant is not an output");
	if (v.kind == V_ADDR) {
		ret = kt_emit(p, KT_OP_EMIT_BYTES,
			      v.obj_user ? KT_F_USER : 0, v.addr_len, 0, name,
			      v.fmt, NULL);
	} else if (v.kind == V_COMP) {
		char tn[96];

		type_name(&c, v.type_id, tn, sizeof(tn));
		return fail(&c, "is a %s: pick a member with '.'", tn);
	} else if (v.kind == V_ARRAY) {
		if (!v.target_char)
			return fail(&c, "is an array: pick an element with "
				    "[N]");
		ret = kt_emit(p, KT_OP_EMIT_STR, v.obj_user ? KT_F_USER : 0,
			      v.size < KT_STR_MAX ? v.size : KT_STR_MAX, 0,
			      name, KT_FMT_STR, NULL);
	} else {
		if (rvalue(&c, &v))
			return c.failed;
		if (v.kind == V_PTR && v.strv) {
			ret = kt_emit(p, KT_OP_EMIT_STRV,
				      v.ptr_user ? KT_F_USER : 0,
				      8 + KT_STRV_MAX * 64, KT_STRV_MAX, name,
				      KT_FMT_STRV, &o);
			if (!ret) {
				o->strv_len = 64;
				p->spec.ops[p->spec.nops - 1].len = 64;
			}
		} else if (v.kind == V_PTR && v.target_char) {
			ret = kt_emit(p, KT_OP_EMIT_STR,
				      v.ptr_user ? KT_F_USER : 0, KT_STR_MAX,
				      0, name, KT_FMT_STR, NULL);
		} else {
			enum kt_fmt fmt = v.has_fmt ? v.fmt :
				v.kind == V_PTR ? KT_FMT_HEX :
				v.kind == V_ENUM ? KT_FMT_ENUM :
				v.is_bool ? KT_FMT_BOOL :
				v.is_signed ? KT_FMT_INT : KT_FMT_UINT;

			ret = kt_emit(p, KT_OP_EMIT_VAL, 0, 8, 0, name, fmt,
				      &o);
			if (!ret)
				o->btf_id = v.type_id;
		}
	}
	if (ret == -E2BIG)
		return fail(&c, "too many outputs for one probe (%d bytes, "
			    "%d values at most)", KT_DATA_MAX, KT_MAX_OUTS);
	return ret;
}

int kt_expr__emit_args(struct kt_probe *p, const struct btf *btf, char *err,
		       size_t errlen)
{
	int ret;

	for (int i = 0; i < p->nargs; i++) {
		ret = kt_expr__output(p, btf, p->arg_names[i], err, errlen);
		if (ret)
			return ret;
	}
	if (p->has_ret && p->ret_type)
		return kt_expr__output(p, btf, "ret", err, errlen);
	return 0;
}
