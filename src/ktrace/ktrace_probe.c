// SPDX-License-Identifier: MIT
/*
 * ktrace probes: parsing "tracepoint:CAT:NAME" and friends, and the op
 * assembler every compiler (tracepoint fields, C expressions) emits
 * through. Layout of a record's data area: each output gets its own
 * 8-byte aligned slice, in the order the outputs were compiled.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktrace_probe.h"

const char *kt_kind_name(enum kt_kind k)
{
	switch (k) {
	case KT_KIND_TRACEPOINT: return "tracepoint";
	case KT_KIND_TP_BTF:	 return "tp_btf";
	case KT_KIND_FENTRY:	 return "fentry";
	case KT_KIND_FEXIT:	 return "fexit";
	}
	return "?";
}

/* Kernel identifiers: tracepoint categories and events, functions. */
static bool valid_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return false;
	return true;
}

int kt_kind_parse(const char *s, size_t len, enum kt_kind *kind)
{
	if ((len == 10 && !strncmp(s, "tracepoint", len)) ||
	    (len == 2 && !strncmp(s, "tp", len)) ||
	    (len == 1 && !strncmp(s, "t", len)))
		*kind = KT_KIND_TRACEPOINT;
	else if (len == 6 && !strncmp(s, "tp_btf", len))
		*kind = KT_KIND_TP_BTF;
	else if (len == 6 && !strncmp(s, "fentry", len))
		*kind = KT_KIND_FENTRY;
	else if (len == 5 && !strncmp(s, "fexit", len))
		*kind = KT_KIND_FEXIT;
	else
		return -EINVAL;
	return 0;
}

int kt_probe__parse(const char *text, struct kt_probe **out, char *err,
		    size_t errlen)
{
	struct kt_probe *p;
	const char *colon = strchr(text, ':');
	char *rest;
	size_t kl;

	*out = NULL;
	if (!colon) {
		snprintf(err, errlen, "probe '%s': expected tracepoint:CAT:NAME, "
			 "tp_btf:NAME, fentry:FUNC or fexit:FUNC", text);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->text = strdup(text);
	kl = colon - text;
	if (kt_kind_parse(text, kl, &p->kind)) {
		snprintf(err, errlen, "probe '%s': unknown probe type '%.*s' "
			 "(tracepoint, tp_btf, fentry, fexit)", text, (int)kl,
			 text);
		goto bad;
	}
	rest = strdup(colon + 1);
	if (!rest || !p->text)
		goto nomem;
	if (p->kind == KT_KIND_TRACEPOINT) {
		char *c2 = strchr(rest, ':');

		if (!c2) {
			free(rest);
			snprintf(err, errlen, "probe '%s': expected "
				 "tracepoint:CATEGORY:NAME", text);
			goto bad;
		}
		*c2 = '\0';
		p->cat = rest;
		p->name = strdup(c2 + 1);
		if (!p->name)
			goto nomem;
		if (!valid_ident(p->cat) || !valid_ident(p->name)) {
			snprintf(err, errlen, "probe '%s': bad tracepoint name",
				 text);
			goto bad;
		}
		p->user_ptrs = !strcmp(p->cat, "syscalls");
	} else {
		p->name = rest;
		if (!valid_ident(p->name)) {
			snprintf(err, errlen, "probe '%s': bad %s name '%s'",
				 text, kt_kind_name(p->kind), p->name);
			goto bad;
		}
	}
	*out = p;
	return 0;
nomem:
	kt_probe__free(p);
	return -ENOMEM;
bad:
	kt_probe__free(p);
	return -EINVAL;
}

void kt_probe__free(struct kt_probe *p)
{
	if (!p)
		return;
	free(p->text);
	free(p->cat);
	free(p->name);
	for (int i = 0; i < p->nargs; i++)
		free(p->arg_names[i]);
	for (size_t i = 0; i < p->nfields; i++) {
		free(p->fields[i].name);
		free(p->fields[i].type);
	}
	free(p->fields);
	for (size_t i = 0; i < p->nout; i++)
		free(p->outs[i].name);
	free(p);
}

int kt_op(struct kt_probe *p, __u8 code, __u8 size, __u8 flags, __s64 imm)
{
	struct kt_op *op;

	if (p->spec.nops >= KT_MAX_OPS)
		return -E2BIG;
	op = &p->spec.ops[p->spec.nops++];
	op->code = code;
	op->size = size;
	op->flags = flags;
	op->imm = imm;
	return 0;
}

int kt_emit(struct kt_probe *p, __u8 code, __u8 flags, uint16_t len,
	    __s64 imm, const char *name, enum kt_fmt fmt,
	    struct kt_out **outp)
{
	__u32 off = (p->spec.data_len + 7) & ~7u;
	struct kt_out *o;
	int ret;

	if (p->nout >= KT_MAX_OUTS || off + len > KT_DATA_MAX)
		return -E2BIG;
	ret = kt_op(p, code, 0, flags, imm);
	if (ret)
		return ret;
	p->spec.ops[p->spec.nops - 1].off = off;
	p->spec.ops[p->spec.nops - 1].len = len;
	if (code == KT_OP_EMIT_BUF)
		p->spec.ops[p->spec.nops - 1].len = len - 4;
	p->spec.data_len = off + len;
	o = &p->outs[p->nout++];
	memset(o, 0, sizeof(*o));
	o->name = strdup(name);
	o->fmt = fmt;
	o->off = off;
	o->len = len;
	if (outp)
		*outp = o;
	return o->name ? 0 : -ENOMEM;
}

int kt_const_str(struct kt_probe *p, const char *s, size_t len)
{
	size_t off = p->nconst;

	if (len + 1 > KT_CMP_MAX || off + len + 1 > KT_CONST_MAX)
		return -E2BIG;
	memcpy(&p->spec.consts[off], s, len);
	p->spec.consts[off + len] = '\0';
	p->nconst += len + 1;
	return (int)off;
}

/* Values an op pops and pushes (src/bpf/ktrace.h); -1: unknown op. */
static int op_effect(const struct kt_op *op, int *pops, int *pushes)
{
	*pops = 0;
	*pushes = 1;
	switch (op->code) {
	case KT_OP_NOP:
		*pushes = 0;
		return 0;
	case KT_OP_ARG: case KT_OP_CTX: case KT_OP_IMM: case KT_OP_ARG_LOAD:
		break;
	case KT_OP_ADDI: case KT_OP_ANDI: case KT_OP_SHRI: case KT_OP_MULI:
	case KT_OP_LOAD: case KT_OP_DATALOC: case KT_OP_BSWAP:
	case KT_OP_NOT: case KT_OP_NEG: case KT_OP_STREQ:
		*pops = 1;
		break;
	case KT_OP_EQ: case KT_OP_NE: case KT_OP_LT: case KT_OP_LE:
	case KT_OP_GT: case KT_OP_GE: case KT_OP_LAND: case KT_OP_LOR:
	case KT_OP_ADD: case KT_OP_SUB:
		*pops = op->flags & KT_F_IMM ? 1 : 2;
		break;
	case KT_OP_FILTER: case KT_OP_EMIT_VAL: case KT_OP_EMIT_STR:
	case KT_OP_EMIT_BYTES: case KT_OP_EMIT_STRV:
		*pops = 1;
		*pushes = 0;
		return 0;
	case KT_OP_EMIT_BUF:
		*pops = 2;
		*pushes = 0;
		return 0;
	default:
		return -1;
	}
	if (op->flags & KT_F_EMIT)
		*pushes = 0;
	return 0;
}

int kt_spec__stack_depth(const struct kt_spec *s, __u32 from)
{
	int sp = 0, max = 0, pops, pushes;

	for (__u32 i = from; i < s->nops && i < KT_MAX_OPS; i++) {
		if (op_effect(&s->ops[i], &pops, &pushes) || sp < pops)
			return -EINVAL;
		sp += pushes - pops;
		if (sp > max)
			max = sp;
	}
	return max > KT_STACK ? -E2BIG : max;
}

static void drop_op(struct kt_spec *s, __u32 i)
{
	memmove(&s->ops[i], &s->ops[i + 1], (s->nops - i - 1) *
		sizeof(s->ops[0]));
	s->nops--;
}

static bool is_binary(__u8 code)
{
	return code >= KT_OP_EQ && code <= KT_OP_SUB;
}

/* Ops whose result KT_F_EMIT can store (their `off` is free). */
static bool can_emit(const struct kt_op *op)
{
	switch (op->code) {
	case KT_OP_ARG: case KT_OP_ARG_LOAD: case KT_OP_CTX: case KT_OP_IMM:
	case KT_OP_ADDI: case KT_OP_ANDI: case KT_OP_SHRI: case KT_OP_MULI:
	case KT_OP_LOAD: case KT_OP_DATALOC: case KT_OP_BSWAP:
	case KT_OP_NOT: case KT_OP_NEG:
		return !(op->flags & KT_F_EMIT);
	default:
		return is_binary(op->code) && !(op->flags & KT_F_EMIT);
	}
}

/*
 * "A && B" as the last step of a filter: filter on A, then on B, so an
 * event A rejects costs only A's ops. Applies when the LAND is at the
 * bottom of the stack (the filter's top level) and FILTER follows it. B
 * starts at the last op before the LAND that finds the stack holding A
 * alone: an expression's ops never bring the stack back to where it
 * started before their last one.
 */
static bool split_and(struct kt_spec *s)
{
	int depth[KT_MAX_OPS + 1], pops, pushes;

	depth[0] = 0;
	for (__u32 i = 0; i < s->nops; i++) {
		if (op_effect(&s->ops[i], &pops, &pushes))
			return false;
		depth[i + 1] = depth[i] + pushes - pops;
	}
	for (__u32 l = 1; l + 1 < s->nops; l++) {
		struct kt_op *op = &s->ops[l];
		__u32 b = l;

		if (op->code != KT_OP_LAND || op->flags ||
		    s->ops[l + 1].code != KT_OP_FILTER || depth[l] != 2)
			continue;
		while (b > 0 && depth[b - 1] != 1)
			b--;
		if (b == 0)
			return false;
		b--;		/* first op of B: depth 1 before it */
		/* A B LAND FILTER -> A FILTER B FILTER: B moves up by one
		 * over the LAND, A's FILTER takes B's old first place */
		memmove(&s->ops[b + 1], &s->ops[b], (l - b) *
			sizeof(s->ops[0]));
		memset(&s->ops[b], 0, sizeof(s->ops[b]));
		s->ops[b].code = KT_OP_FILTER;
		return true;
	}
	return false;
}

int kt_spec__optimize(struct kt_spec *s)
{
	bool again = true;

	if (kt_spec__stack_depth(s, 0) < 0)
		return -EINVAL;
	while (split_and(s))
		;
	while (again) {
		again = false;
		for (__u32 i = 0; i + 1 < s->nops; i++) {
			struct kt_op *a = &s->ops[i], *b = &s->ops[i + 1];

			/* ARG [ADDI] LOAD -> ARG_LOAD */
			if (a->code == KT_OP_ARG && !a->flags &&
			    a->imm >= 0 && a->imm < KT_MAX_ARGS) {
				__s64 add = 0;
				__u32 n = 1;

				if (b->code == KT_OP_ADDI && !b->flags &&
				    i + 2 < s->nops) {
					add = b->imm;
					n = 2;
				}
				if (s->ops[i + n].code == KT_OP_LOAD) {
					/* size, flags (and a fused EMIT's
					 * off) stay the LOAD's */
					struct kt_op f = s->ops[i + n];

					f.code = KT_OP_ARG_LOAD;
					f.len = (__u16)a->imm;
					f.imm = add;
					*a = f;
					while (n--)
						drop_op(s, i + 1);
					again = true;
					continue;
				}
			}
			/* IMM, binary op -> binary op with an immediate */
			if (a->code == KT_OP_IMM && !a->flags &&
			    is_binary(b->code) && !(b->flags & (KT_F_IMM |
							       KT_F_EMIT))) {
				b->flags |= KT_F_IMM;
				b->imm = a->imm;
				drop_op(s, i);
				again = true;
				continue;
			}
			/* value op, EMIT_VAL -> the op stores its result */
			if (b->code == KT_OP_EMIT_VAL && can_emit(a)) {
				a->flags |= KT_F_EMIT;
				a->off = b->off;
				drop_op(s, i + 1);
				again = true;
				continue;
			}
		}
	}
	return kt_spec__stack_depth(s, 0) < 0 ? -EINVAL : 0;
}
