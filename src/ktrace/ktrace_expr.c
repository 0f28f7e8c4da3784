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
 *   unary   := ('!' | '-' | '*' | '&') unary | '(' TYPE ')' unary | postfix
 *   TYPE    := (struct | union | enum) IDENT | C-INT | TYPEDEF, then '*'*
 *   postfix := primary ('->' IDENT | '.' IDENT | '[' NUMBER ']')*
 *   primary := IDENT | NUMBER | '(' expr ')' | HELPER '(' expr ')'
 *   HELPER  := ip4 ip6 ntohs ntohl htons htonl errno str ustr
 *
 * A value is either on the stack ("rvalue") or its address is ("lvalue":
 * member access and indexing only add offsets; the load happens once,
 * when a scalar is needed). Pointers read through are kernel memory,
 * except the pointer fields of syscalls:* tracepoints (user memory).
 *
 * This file holds the error reporting, the ops a value emits (loads,
 * member offsets, dereferences), the typing of values from BTF or a
 * tracepoint field, and the entry points; ktrace_expr_parse.c holds the
 * lexer and the recursive-descent parser, ktrace_expr_cast.c the casts;
 * ktrace_expr_int.h holds what they share.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "ktrace_expr_int.h"

int kx_fail(struct cc *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (c->failed)
		return c->failed;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a long expression is cut: the message stays one readable line */
	snprintf(c->err, c->errlen, "expression '%.*s%s': %s (at column %zu)",
		 80, c->src, strlen(c->src) > 80 ? "..." : "", msg,
		 c->tok.pos + 1);
	c->failed = -EINVAL;
	return c->failed;
}

/* ------------------------------------------------------------ ops */

int kx_op(struct cc *c, __u8 code, __u8 size, __u8 flags, __s64 imm)
{
	struct kt_spec *s = &c->p->spec;

	if (c->failed)
		return c->failed;
	/* a.b.c[2]: one offset, not three (every op costs per event) */
	if (code == KT_OP_ADDI && s->nops > c->first_op &&
	    s->ops[s->nops - 1].code == KT_OP_ADDI) {
		s->ops[s->nops - 1].imm += imm;
		return 0;
	}
	if (kt_op(c->p, code, size, flags, imm))
		return kx_fail(c, "too many operations (at most %d per probe)",
			       KT_MAX_OPS);
	return 0;
}

/* Take back the IMM a constant pushed, for an op with an immediate. */
int kx_unpush_const(struct cc *c, const struct val *v, __s64 *imm)
{
	struct kt_spec *s = &c->p->spec;

	if (!v->is_const || !s->nops || s->ops[s->nops - 1].code != KT_OP_IMM)
		return kx_fail(c, "expected a number");
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
int kx_from_btf(struct cc *c, __u32 id, bool lval, bool user,
		struct val *v)
{
	const struct btf_type *t;
	__u32 rid;

	memset(v, 0, sizeof(*v));
	v->lval = lval;
	v->obj_user = user;
	v->ptr_user = user;
	if (!c->btf)
		return kx_fail(c, "no kernel BTF to type this value");
	t = resolve(c->btf, id, &rid);
	if (!t)
		return kx_fail(c, "a void value");
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
		return kx_fail(c, "values of type %s are not supported", tn);
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

int kx_from_field(struct cc *c, const struct tp_field *f, struct val *v)
{
	memset(v, 0, sizeof(*v));
	if (kx_op(c, KT_OP_CTX, 0, 0, f->offset))
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
int kx_rvalue(struct cc *c, struct val *v)
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
			if (kx_op(c, KT_OP_LOAD, 8, fl, 0) ||
			    kx_op(c, KT_OP_SHRI, 0, 0, v->bit_shift) ||
			    kx_op(c, KT_OP_ANDI, 0, 0,
				  v->bit_size >= 64 ? -1 :
				  (__s64)((1ULL << v->bit_size) - 1)))
				return c->failed;
		} else if (kx_op(c, KT_OP_LOAD, v->size > 8 ? 8 : v->size,
				 fl | (v->is_signed ? KT_F_SIGNED : 0), 0)) {
			return c->failed;
		}
		v->lval = false;
		return 0;
	case V_DATALOC:
		if (kx_op(c, KT_OP_LOAD, 4, 0, 0) ||
		    kx_op(c, KT_OP_DATALOC, 0, 0, 0))
			return c->failed;
		v->kind = V_PTR;
		v->ptr_user = false;
		v->lval = false;
		return 0;
	default:
		return 0;
	}
}

/* v: lvalue of a struct/union (its address on the stack) -> member. */
int kx_member(struct cc *c, struct val *v, const char *name)
{
	__u32 bit_off, bit_size;
	bool user = v->obj_user;
	int mtype;
	char tn[96];

	if (v->kind != V_COMP || !v->type_id) {
		type_name(c, v->type_id, tn, sizeof(tn));
		return kx_fail(c, "'%s': not a struct or union", name);
	}
	mtype = kt_btf__find_member(c->btf, v->type_id, name, &bit_off,
				    &bit_size);
	if (mtype < 0) {
		type_name(c, v->type_id, tn, sizeof(tn));
		return kx_fail(c, "%s has no member '%s'", tn, name);
	}
	if (bit_off / 8 && kx_op(c, KT_OP_ADDI, 0, 0, bit_off / 8))
		return c->failed;
	if (kx_from_btf(c, (__u32)mtype, true, user, v))
		return c->failed;
	if (bit_size) {
		v->bit_shift = bit_off % 8;
		v->bit_size = bit_size;
	} else if (bit_off % 8) {
		return kx_fail(c, "member '%s' is not byte aligned", name);
	}
	return 0;
}

/* Dereference the pointer rvalue v: an lvalue of its target. */
int kx_deref(struct cc *c, struct val *v)
{
	bool user = v->ptr_user;

	if (v->kind != V_PTR)
		return kx_fail(c, "not a pointer");
	if (v->target_char && !v->target_id) {	/* tracepoint char * */
		memset(v, 0, sizeof(*v));
		v->kind = V_INT;
		v->size = 1;
		v->lval = true;
		v->obj_user = v->ptr_user = user;
		return 0;
	}
	if (!v->target_id)
		return kx_fail(c, "cannot dereference a pointer of unknown "
				  "type");
	return kx_from_btf(c, v->target_id, true, user, v);
}

/*
 * The ops of one expression start and end with an empty stack; the BPF
 * program's stack holds KT_STACK values. Refuse deeper expressions here,
 * with a message, rather than drop every event in the kernel.
 */
static int check_depth(struct cc *c, __u32 from)
{
	int d = kt_spec__stack_depth(&c->p->spec, from);

	if (d == -E2BIG)
		return kx_fail(c, "too deeply nested: more than %d values at "
			       "once", KT_STACK);
	if (d < 0)
		return kx_fail(c, "internal error: bad op list");
	return 0;
}

int kt_expr__filter(struct kt_probe *p, const struct btf *btf,
		    const char *text, char *err, size_t errlen)
{
	struct kt_spec *saved = malloc(sizeof(*saved));
	__u32 from = p->spec.nops;
	struct cc c;
	struct val v;
	int ret = 0;

	if (!saved)
		return -ENOMEM;
	*saved = p->spec;
	if (kx_parse(&c, p, btf, text, err, errlen, &v) ||
	    kx_scalar_operand(&c, &v, "--filter") ||
	    kx_op(&c, KT_OP_FILTER, 0, 0, 0) || check_depth(&c, from)) {
		p->spec = *saved;
		ret = c.failed;
	} else {
		p->has_filter = true;
	}
	free(saved);
	return ret;
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

static int compile_output(struct kt_probe *p, const struct btf *btf,
			  const char *text, char *err, size_t errlen);

/* One -o; on failure the probe is left as it was. */
int kt_expr__output(struct kt_probe *p, const struct btf *btf,
		    const char *text, char *err, size_t errlen)
{
	struct kt_spec *saved = malloc(sizeof(*saved));
	size_t nout = p->nout, nconst = p->nconst;
	int ret;

	if (!saved)
		return -ENOMEM;
	*saved = p->spec;
	ret = compile_output(p, btf, text, err, errlen);
	if (ret) {
		p->spec = *saved;
		while (p->nout > nout)
			free(p->outs[--p->nout].name);
		p->nconst = nconst;
	}
	free(saved);
	return ret;
}

static int compile_output(struct kt_probe *p, const struct btf *btf,
			  const char *text, char *err, size_t errlen)
{
	__u32 from = p->spec.nops;
	struct kt_out *o = NULL;
	char name[KX_MAX_LEN + 1];
	struct cc c;
	struct val v;
	int ret;

	trim_copy(name, sizeof(name), text);
	if (kx_parse(&c, p, btf, text, err, errlen, &v))
		return c.failed;
	/* the name is the JSON key: one per output */
	for (size_t i = 0; i < p->nout; i++)
		if (!strcmp(p->outs[i].name, name))
			return kx_fail(&c, "already an output of this probe");
	if (v.is_str)
		return kx_fail(&c, "a string constant is not an output");
	if (p->kind == KT_KIND_TRACEPOINT && kt_tpfmt__is_buf(p, name)) {
		/* write's `-o buf`: the count bytes the default view shows,
		 * not a string read up to a NUL past the buffer's end */
		p->spec.nops = from;
		ret = kt_tpfmt__emit_buf(p, name, name);
	} else if (v.kind == V_ADDR) {
		ret = kt_emit(p, KT_OP_EMIT_BYTES,
			      v.obj_user ? KT_F_USER : 0, v.addr_len, 0, name,
			      v.fmt, NULL);
	} else if (v.kind == V_COMP) {
		char tn[96];

		type_name(&c, v.type_id, tn, sizeof(tn));
		return kx_fail(&c, "is a %s: pick a member with '.'", tn);
	} else if (v.kind == V_ARRAY) {
		if (!v.target_char)
			return kx_fail(&c, "is an array: pick an element with "
				       "[N]");
		ret = kt_emit(p, KT_OP_EMIT_STR, v.obj_user ? KT_F_USER : 0,
			      v.size < KT_STR_MAX ? v.size : KT_STR_MAX, 0,
			      name, KT_FMT_STR, NULL);
	} else {
		if (kx_rvalue(&c, &v))
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
		return kx_fail(&c, "too many outputs for one probe (%d bytes, "
			       "%d values at most)", KT_DATA_MAX, KT_MAX_OUTS);
	if (ret)
		return ret;
	return check_depth(&c, from);
}

int kt_expr__emit_args(struct kt_probe *p, const struct btf *btf, char *err,
		       size_t errlen)
{
	int ret;

	for (int i = 0; i < p->nargs; i++) {
		size_t nops = p->spec.nops, nout = p->nout;

		ret = kt_expr__output(p, btf, p->arg_names[i], err, errlen);
		if (ret != -EINVAL)
			goto next;
		/*
		 * Not an expression of its own (a struct or union passed by
		 * value, as tmigr_group_set_cpu_active's state): its raw
		 * ctx slot, in hex, rather than no probe at all.
		 */
		p->spec.nops = nops;
		while (p->nout > nout)
			free(p->outs[--p->nout].name);
		ret = kt_op(p, KT_OP_ARG, 0, 0, i);
		if (!ret)
			ret = kt_emit(p, KT_OP_EMIT_VAL, 0, 8, 0, p->arg_names[i],
				      KT_FMT_HEX, NULL);
next:
		if (ret)
			return ret;
	}
	if (p->has_ret && p->ret_type)
		return kt_expr__output(p, btf, "ret", err, errlen);
	return 0;
}
