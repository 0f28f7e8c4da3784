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
	if ((kl == 10 && !strncmp(text, "tracepoint", kl)) ||
	    (kl == 2 && !strncmp(text, "tp", kl)) ||
	    (kl == 1 && !strncmp(text, "t", kl)))
		p->kind = KT_KIND_TRACEPOINT;
	else if (kl == 6 && !strncmp(text, "tp_btf", kl))
		p->kind = KT_KIND_TP_BTF;
	else if (kl == 6 && !strncmp(text, "fentry", kl))
		p->kind = KT_KIND_FENTRY;
	else if (kl == 5 && !strncmp(text, "fexit", kl))
		p->kind = KT_KIND_FEXIT;
	else {
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

	if (len + 1 > KT_CMP_MAX || off + KT_CMP_MAX > KT_CONST_MAX)
		return -E2BIG;
	memcpy(&p->spec.consts[off], s, len);
	p->spec.consts[off + len] = '\0';
	p->nconst += len + 1;
	return (int)off;
}
