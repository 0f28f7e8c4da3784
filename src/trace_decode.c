// SPDX-License-Identifier: GPL-2.0
/*
 * Arguments and results of traced Go functions: where they live, what the
 * BPF program copies, and how a record becomes Go values again.
 *
 * Each value is rebuilt as its in-memory image (type->size bytes) from
 * pieces: a register's low bytes or bytes of the copied stack. Arguments
 * take DWARF's entry location (register, stack slot, or DW_OP_piece list:
 * a string is RAX,RBX); values DWARF gives no location for, and every
 * result, take Go's assignment rules (go1.19 src/cmd/compile/
 * abi-internal.md "Function call argument and result passing": integer
 * registers RAX RBX RCX RDI RSI R8 R9 R10 R11, floats X0-X14, a value that
 * does not fit whole goes to the stack; results are assigned from the
 * first register again). Floats live in X registers, which pt_regs does
 * not hold: under the register ABI they print as "?".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gobin.h"
#include "json_writer.h"
#include "trace_decode.h"

/* DWARF register number -> index in regs[] (Go ABI order), -1 if none. */
static int dwreg_to_idx(int r)
{
	switch (r) {
	case 0: return 0;	/* RAX */
	case 3: return 1;	/* RBX */
	case 2: return 2;	/* RCX */
	case 5: return 3;	/* RDI */
	case 4: return 4;	/* RSI */
	case 8: return 5;
	case 9: return 6;
	case 10: return 7;
	case 11: return 8;
	default: return -1;
	}
}

static bool dwreg_is_xmm(int r)
{
	return r >= 17 && r <= 32;
}

static uint64_t align_of(const struct gobin_type *t, int depth)
{
	uint64_t a = 1;

	if (!t || depth > 8)
		return 8;
	switch (t->kind) {
	case GOBIN_K_STRUCT:
		for (size_t i = 0; i < t->field_cnt; i++) {
			uint64_t fa = align_of(t->fields[i].type, depth + 1);

			if (fa > a)
				a = fa;
		}
		return a;
	case GOBIN_K_ARRAY:
		return align_of(t->elem, depth + 1);
	case GOBIN_K_COMPLEX64:
		return 4;
	case GOBIN_K_COMPLEX128:
		return 8;
	default:
		if (t->size >= 8)
			return 8;
		return t->size ? t->size : 1;
	}
}

static int add_piece(struct tr_value *v, int kind, bool at_ret, uint64_t idx,
		     uint64_t size, uint64_t img_off)
{
	struct tr_piece *p;

	if (v->npieces >= TR_MAX_PIECES)
		return -E2BIG;
	if (img_off + size > TR_MAX_IMG || idx > 0xffff)
		return -E2BIG;
	p = &v->pieces[v->npieces++];
	p->kind = kind;
	p->at_ret = at_ret;
	p->idx = idx;
	p->size = size;
	p->img_off = img_off;
	return 0;
}

/*
 * Register assignment of one value (abi-internal.md): leaves in order, one
 * integer register per integer-like word, one float register per float;
 * arrays of length > 1 cannot be register-assigned. Returns 0, or -E2BIG
 * when the value must go to the stack (counters then restored by caller).
 */
static int assign_regs(struct tr_value *v, const struct gobin_type *t,
		       uint64_t off, int *ir, int *fr, bool at_ret, int depth)
{
	int err;

	if (!t || depth > 8)
		return -E2BIG;
	switch (t->kind) {
	case GOBIN_K_STRUCT:
		for (size_t i = 0; i < t->field_cnt; i++) {
			err = assign_regs(v, t->fields[i].type,
					  off + t->fields[i].offset, ir, fr,
					  at_ret, depth + 1);
			if (err)
				return err;
		}
		return 0;
	case GOBIN_K_ARRAY:
		if (t->count == 0)
			return 0;
		if (t->count == 1)
			return assign_regs(v, t->elem, off, ir, fr, at_ret,
					   depth + 1);
		return -E2BIG;
	case GOBIN_K_STRING:
	case GOBIN_K_INTERFACE:
	case GOBIN_K_SLICE: {
		int words = t->kind == GOBIN_K_SLICE ? 3 : 2;

		if (*ir + words > TR_NREGS)
			return -E2BIG;
		for (int i = 0; i < words; i++) {
			err = add_piece(v, TR_SRC_REG, at_ret, (*ir)++, 8,
					off + 8 * (uint64_t)i);
			if (err)
				return err;
		}
		return 0;
	}
	case GOBIN_K_FLOAT32:
	case GOBIN_K_FLOAT64:
	case GOBIN_K_COMPLEX64:
	case GOBIN_K_COMPLEX128: {
		int n = (t->kind == GOBIN_K_COMPLEX64 ||
			 t->kind == GOBIN_K_COMPLEX128) ? 2 : 1;

		if (*fr + n > 15)
			return -E2BIG;
		*fr += n;
		/* in an X register: not readable, leave a hole */
		return add_piece(v, TR_SRC_NONE, at_ret, 0, t->size, off);
	}
	default:
		if (t->size > 8)
			return -E2BIG;
		if (t->size == 0)
			return 0;
		if (*ir + 1 > TR_NREGS)
			return -E2BIG;
		return add_piece(v, TR_SRC_REG, at_ret, (*ir)++, t->size, off);
	}
}

/* The whole value on the stack at args-base offset off. */
static int stack_value(struct tr_value *v, bool at_ret, uint64_t off)
{
	uint64_t size = v->type->size;

	if (size > TR_MAX_IMG) {
		v->why = "too big";
		return 0;
	}
	if (off + size > TR_STACK_WORDS * 8) {
		v->why = "beyond the copied stack words";
		return 0;
	}
	return size ? add_piece(v, TR_SRC_STACK, at_ret, off, size, 0) : 0;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return a ? (x + a - 1) / a * a : x;
}

/* Where v lives by the ABI rules; *stack_off: next stack offset. */
static int place_by_abi(struct tr_value *v, bool abi0, bool at_ret, int *ir,
			int *fr, uint64_t *stack_off)
{
	int ir0 = *ir, fr0 = *fr, np0 = v->npieces;
	uint64_t a;

	if (!abi0 && assign_regs(v, v->type, 0, ir, fr, at_ret, 0) == 0)
		return 0;
	*ir = ir0;
	*fr = fr0;
	v->npieces = np0;
	a = align_of(v->type, 0);
	*stack_off = align_up(*stack_off, a);
	if (!abi0 && at_ret) {
		/* register ABI results on the stack follow the stack
		 * arguments; not copied at the RET */
		v->why = "result on the stack";
		*stack_off += v->type->size;
		return 0;
	}
	stack_value(v, at_ret, *stack_off);
	*stack_off += v->type->size;
	return 0;
}

/* Arguments: DWARF's entry location when it has one. 1 if used. */
static int place_by_dwarf(struct tr_value *v, const struct gobin_param *pa,
			  bool abi0)
{
	uint64_t img = 0;
	int idx;

	switch (pa->loc_kind) {
	case GOBIN_LOC_REG:
		if (dwreg_is_xmm(pa->loc_reg)) {
			add_piece(v, TR_SRC_NONE, false, 0, v->type->size, 0);
			return 1;
		}
		idx = dwreg_to_idx(pa->loc_reg);
		if (idx < 0 || v->type->size > 8)
			return 0;
		add_piece(v, TR_SRC_REG, false, idx, v->type->size, 0);
		return 1;
	case GOBIN_LOC_STACK:
		if (pa->loc_off < 8)
			return 0;
		stack_value(v, false, (uint64_t)(pa->loc_off - 8));
		return 1;
	case GOBIN_LOC_PIECES:
		for (size_t i = 0; i < pa->piece_cnt; i++) {
			const struct gobin_loc_piece *lp = &pa->pieces[i];
			int err = 0;

			if (lp->kind == GOBIN_LOC_REG &&
			    dwreg_to_idx(lp->reg) >= 0 && lp->size <= 8)
				err = add_piece(v, TR_SRC_REG, false,
						dwreg_to_idx(lp->reg),
						lp->size, img);
			else if (lp->kind == GOBIN_LOC_STACK && lp->off >= 8 &&
				 (uint64_t)lp->off - 8 + lp->size <=
				 TR_STACK_WORDS * 8)
				err = add_piece(v, TR_SRC_STACK, false,
						lp->off - 8, lp->size, img);
			else
				err = add_piece(v, TR_SRC_NONE, false, 0,
						lp->size, img);
			if (err) {
				v->npieces = 0;
				v->why = "too big";
				return 1;
			}
			img += lp->size;
		}
		return 1;
	default:
		return 0;
	}
}

/* The record source of the 8-byte word at image offset off of v. */
static bool word_src(const struct tr_value *v, uint64_t off, uint8_t *kind,
		     uint16_t *idx, bool *at_ret)
{
	for (int i = 0; i < v->npieces; i++) {
		const struct tr_piece *p = &v->pieces[i];

		if (p->kind == TR_SRC_NONE || off < p->img_off ||
		    off + 8 > (uint64_t)p->img_off + p->size)
			continue;
		if (p->kind == TR_SRC_REG && off != p->img_off)
			continue;
		*kind = p->kind;
		*idx = p->kind == TR_SRC_REG ? p->idx
					     : p->idx + (off - p->img_off);
		*at_ret = p->at_ret;
		return true;
	}
	return false;
}

/* Ask the kernel for the bytes of strings/slices inside v (top level and
 * struct fields). */
static void want_strings(struct tr_plan *p, int vi, const struct gobin_type *t,
			 uint64_t off, int depth)
{
	const struct tr_value *v = &p->vals[vi];
	struct tr_str_op *op;
	uint8_t pk, lk;
	uint16_t pidx, lidx;
	bool pr, lr;

	if (!t || depth > 4 || p->nstr >= TR_NSTR)
		return;
	if (t->kind == GOBIN_K_STRUCT) {
		for (size_t i = 0; i < t->field_cnt; i++)
			want_strings(p, vi, t->fields[i].type,
				     off + t->fields[i].offset, depth + 1);
		return;
	}
	if (t->kind != GOBIN_K_STRING && t->kind != GOBIN_K_SLICE)
		return;
	if (t->kind == GOBIN_K_SLICE && (!t->elem || !t->elem->size))
		return;
	if (!word_src(v, off, &pk, &pidx, &pr) ||
	    !word_src(v, off + 8, &lk, &lidx, &lr) || pr != lr)
		return;
	op = &p->spec.ops[p->nstr];
	op->at_ret = pr;
	op->ptr_kind = pk;
	op->ptr_idx = pidx;
	op->len_kind = lk;
	op->len_idx = lidx;
	op->elem_size = t->kind == GOBIN_K_STRING ? 1 : t->elem->size;
	p->strs[p->nstr].val = vi;
	p->strs[p->nstr].img_off = off;
	p->strs[p->nstr].slot = p->nstr;
	p->nstr++;
	p->spec.nstr = p->nstr;
}

static void need_stack(struct tr_plan *p, const struct tr_value *v)
{
	for (int i = 0; i < v->npieces; i++) {
		const struct tr_piece *pc = &v->pieces[i];
		uint32_t end = pc->idx + pc->size;

		if (pc->kind == TR_SRC_REG && !pc->at_ret &&
		    pc->idx + 1 > p->nregs)
			p->nregs = pc->idx + 1;
		if (pc->kind != TR_SRC_STACK)
			continue;
		end = (end + 7) & ~7u;
		if (pc->at_ret && end > p->spec.ret_stack_bytes)
			p->spec.ret_stack_bytes = end;
		if (!pc->at_ret && end > p->spec.stack_bytes)
			p->spec.stack_bytes = end;
	}
}

static void plan_raw(const struct gobin *gb, const struct gobin_func *f,
		     struct tr_plan *p)
{
	int32_t args = f->args == GOBIN_ARGS_UNKNOWN || f->args < 0 ? 0 : f->args;
	int words = (args + 7) / 8;

	p->raw = true;
	if (p->abi0) {
		/* ABI0: arguments then results in one frame; args size
		 * covers both, so without DWARF the split is unknown: all
		 * words at entry, the same words again at the RET */
		if (words > TR_STACK_WORDS)
			words = TR_STACK_WORDS;
		p->raw_args = words;
		p->raw_rets = words;
		p->spec.stack_bytes = words * 8;
		p->spec.ret_stack_bytes = words * 8;
		p->stack_args = words * 8;
		return;
	}
	/* register ABI (go1.17+): args size is the spill area of the
	 * register arguments plus the stack arguments, results excluded; a
	 * word per register is exact for word-sized arguments, an
	 * undercount for smaller ones (they share spill words) */
	if (words > TR_NREGS + TR_STACK_WORDS)
		words = TR_NREGS + TR_STACK_WORDS;
	p->raw_args = words;
	p->raw_rets = 2;	/* unknown without DWARF: RAX, RBX */
	p->nregs = words < TR_NREGS ? words : TR_NREGS;
	if (words > TR_NREGS) {
		p->spec.stack_bytes = (words - TR_NREGS) * 8;
		p->stack_args = p->spec.stack_bytes;
	}
}

int trace_plan__build(const struct gobin *gb, const struct gobin_func *f,
		      struct tr_plan *p)
{
	const struct gobin_abi_info *abi = gobin__abi(gb);
	const struct gobin_param *params;
	size_t cnt;
	int ir = 0, fr = 0, rir = 0, rfr = 0;
	uint64_t soff = 0, rsoff = 0;
	size_t nargs_bytes = 0;

	memset(p, 0, sizeof(*p));
	p->abi0 = abi->abi != GOBIN_ABI_INTERNAL;
	if (gobin__func_params(gb, f->name, &params, &cnt) || cnt > 64) {
		plan_raw(gb, f, p);
		return 0;
	}
	p->vals = calloc(cnt ? cnt : 1, sizeof(*p->vals));
	if (!p->vals)
		return -ENOMEM;
	p->nval = cnt;
	/* ABI0: results follow the arguments, aligned to a word
	 * (abi-internal.md, "ABI0"); compute where the arguments end */
	for (size_t i = 0; i < cnt; i++) {
		if (params[i].is_result || !params[i].type)
			continue;
		nargs_bytes = align_up(nargs_bytes,
				       align_of(params[i].type, 0));
		nargs_bytes += params[i].type->size;
	}
	rsoff = align_up(nargs_bytes, 8);
	for (size_t i = 0; i < cnt; i++) {
		const struct gobin_param *pa = &params[i];
		struct tr_value *v = &p->vals[i];

		v->name = pa->name ? pa->name : "?";
		v->type = pa->type;
		v->is_result = pa->is_result;
		if (!v->type) {
			v->why = "no type";
			continue;
		}
		if (v->type->size > TR_MAX_IMG) {
			v->why = "too big";
			continue;
		}
		if (pa->is_result) {
			place_by_abi(v, p->abi0, true, &rir, &rfr, &rsoff);
		} else {
			/* keep the ABI counters moving even where DWARF
			 * decides, for the values it does not describe */
			struct tr_value tmp = *v;

			place_by_abi(&tmp, p->abi0, false, &ir, &fr, &soff);
			if (!place_by_dwarf(v, pa, p->abi0))
				*v = tmp;
		}
		need_stack(p, v);
	}
	for (size_t i = 0; i < cnt; i++)
		if (!p->vals[i].why)
			want_strings(p, (int)i, p->vals[i].type, 0, 0);
	p->stack_args = p->spec.stack_bytes;
	return 0;
}

void trace_plan__free(struct tr_plan *p)
{
	free(p->vals);
	p->vals = NULL;
}

int trace_plan__set_filter(struct tr_plan *p, const char *name,
			   enum tr_filt_op op, uint64_t val)
{
	struct tr_spec *sp = &p->spec;

	sp->filt_kind = TR_FILT_NEVER;
	sp->filt_op = op;
	sp->filt_val = val;
	if (p->raw) {
		char *end;
		unsigned long n;

		if (strncmp(name, "arg", 3) || !name[3])
			return -ENOENT;
		n = strtoul(name + 3, &end, 10);
		if (*end || n >= (unsigned long)p->raw_args)
			return -ENOENT;
		sp->filt_size = 8;
		sp->filt_signed = 1;
		if (p->abi0) {
			sp->filt_kind = TR_FILT_STACK;
			sp->filt_idx = n * 8;
		} else if (n < TR_NREGS) {
			sp->filt_kind = TR_FILT_REG;
			sp->filt_idx = n;
		} else {
			sp->filt_kind = TR_FILT_STACK;
			sp->filt_idx = (n - TR_NREGS) * 8;
		}
		return 0;
	}
	for (size_t i = 0; i < p->nval; i++) {
		const struct tr_value *v = &p->vals[i];
		const struct tr_piece *pc = &v->pieces[0];
		enum gobin_kind k;

		if (v->is_result || strcmp(v->name, name))
			continue;
		if (v->why || !v->type || v->npieces != 1)
			return -EINVAL;
		k = v->type->kind;
		if (!(k >= GOBIN_K_BOOL && k <= GOBIN_K_UINTPTR) ||
		    pc->size != v->type->size ||
		    (pc->kind != TR_SRC_REG && pc->kind != TR_SRC_STACK))
			return -EINVAL;
		sp->filt_kind = pc->kind == TR_SRC_REG ? TR_FILT_REG
						       : TR_FILT_STACK;
		sp->filt_idx = pc->idx;
		sp->filt_size = pc->size;
		sp->filt_signed = k >= GOBIN_K_INT && k <= GOBIN_K_INT64;
		return 0;
	}
	return -ENOENT;
}

static const struct gobin_field *field_of(const struct gobin_type *t,
					  const char *name, size_t n)
{
	if (!t || t->kind != GOBIN_K_STRUCT)
		return NULL;
	for (size_t i = 0; i < t->field_cnt; i++)
		if (t->fields[i].name && strlen(t->fields[i].name) == n &&
		    !strncmp(t->fields[i].name, name, n))
			return &t->fields[i];
	return NULL;
}

int trace_plan__add_out(struct tr_plan *p, int slot, const char *expr,
			char *why, size_t whylen)
{
	struct tr_out_op *op;
	struct tr_outx *ox;
	const struct tr_value *v = NULL;
	const struct gobin_type *t;
	const char *c = expr, *dot;
	uint64_t off = 0;	/* image offset, then offset from address */
	bool in_img = true;
	size_t n;
	int vi = -1;

	if (slot < 0 || slot >= TR_NOUT)
		return -E2BIG;
	op = &p->spec.outs[slot];
	ox = &p->outs[slot];
	dot = strchr(c, '.');
	n = dot ? (size_t)(dot - c) : strlen(c);
	for (size_t i = 0; i < p->nval; i++)
		if (!p->vals[i].is_result && strlen(p->vals[i].name) == n &&
		    !strncmp(p->vals[i].name, c, n)) {
			v = &p->vals[i];
			vi = (int)i;
		}
	if (!v)
		return -ENOENT;
	if (v->why || !v->type) {
		snprintf(why, whylen, "argument %.*s is not readable", (int)n, c);
		return -EINVAL;
	}
	t = v->type;
	c = dot;
	while (c && *c == '.') {
		const struct gobin_field *fl;

		c++;
		dot = strchr(c, '.');
		n = dot ? (size_t)(dot - c) : strlen(c);
		if (t->kind == GOBIN_K_PTR) {
			if (in_img) {
				uint8_t k;
				uint16_t idx;
				bool r;

				if (!word_src(v, off, &k, &idx, &r)) {
					snprintf(why, whylen, "the pointer is not in a register or stack slot");
					return -EINVAL;
				}
				op->kind = k;
				op->idx = idx;
				op->nhops = 0;
				in_img = false;
			} else {
				if (op->nhops >= TR_OUT_HOPS - 1) {
					snprintf(why, whylen, "more than %d pointers to follow", TR_OUT_HOPS);
					return -EINVAL;
				}
				op->off[op->nhops++] = (uint32_t)off;
			}
			off = 0;
			t = t->elem;
		}
		fl = field_of(t, c, n);
		if (!fl) {
			snprintf(why, whylen, "%s has no field %.*s",
				 t && t->name ? t->name : "the value", (int)n, c);
			return -EINVAL;
		}
		off += fl->offset;
		t = fl->type;
		c = dot;
		if (!t)
			return -EINVAL;
	}
	if (c) {
		snprintf(why, whylen, "give ARG.FIELD.FIELD...");
		return -EINVAL;
	}
	ox->expr = expr;
	ox->type = t;
	ox->val = vi;
	if (in_img) {
		ox->in_img = true;
		ox->img_off = off;
		memset(op, 0, sizeof(*op));
		return 0;
	}
	if (t->size == 0 || t->size > 8 || t->kind == GOBIN_K_STRING ||
	    t->kind == GOBIN_K_STRUCT || t->kind == GOBIN_K_ARRAY) {
		snprintf(why, whylen, "%s behind a pointer: only values of at most 8 bytes (no strings, structs) can be read",
			 t->name ? t->name : "the value");
		ox->expr = NULL;
		memset(op, 0, sizeof(*op));
		return -EINVAL;
	}
	op->off[op->nhops++] = (uint32_t)off;
	op->size = (uint8_t)t->size;
	return 0;
}

/* ------------------------------------------------- dynamic type names */

struct tr_sym {
	uint64_t addr;
	const char *name;	/* the Go type's name, inside .symtab's */
};

struct tr_syms {
	struct tr_sym *v;
	size_t n;
};

static int sym_cmp(const void *a, const void *b)
{
	const struct tr_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Type descriptors are "type.T" (go1.19 and before) or "type:T" (go1.20+,
 * cmd/link renamed them), itabs "go.itab.T,I" or "go:itab.T,I". */
static const char *go_type_of_sym(const char *name)
{
	static const char *const pfx[] = { "go.itab.", "go:itab.", "type.",
					   "type:" };

	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		size_t l = strlen(pfx[i]);

		if (!strncmp(name, pfx[i], l) && name[l])
			return name + l;
	}
	return NULL;
}

struct tr_syms *trace_syms__new(const struct gobin *gb)
{
	size_t cnt = gobin__sym_cnt(gb), n = 0;
	struct tr_syms *s;

	if (!cnt)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->v = calloc(cnt, sizeof(*s->v));
	if (!s->v) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < cnt; i++) {
		const struct gobin_sym *sym = gobin__sym(gb, i);
		const char *t;

		if (!sym || !sym->name || !sym->addr)
			continue;
		t = go_type_of_sym(sym->name);
		if (!t)
			continue;
		s->v[n].addr = sym->addr;
		s->v[n].name = t;
		n++;
	}
	s->n = n;
	qsort(s->v, n, sizeof(*s->v), sym_cmp);
	return s;
}

void trace_syms__free(struct tr_syms *s)
{
	if (!s)
		return;
	free(s->v);
	free(s);
}

const char *trace_syms__type_name(const struct tr_syms *s, uint64_t addr)
{
	struct tr_sym key = { .addr = addr }, *hit;

	if (!s || !s->n)
		return NULL;
	hit = bsearch(&key, s->v, s->n, sizeof(*s->v), sym_cmp);
	return hit ? hit->name : NULL;
}

/* An itab's name is "T,I": the dynamic type is T. */
static void put_type_name(struct tr_out *o, const char *name)
{
	const char *comma = strrchr(name, ',');
	size_t n = comma ? (size_t)(comma - name) : strlen(name);

	if (o->jw)
		jw_string_len(o->jw, name, n);
	else
		fprintf(o->f, "%.*s", (int)n, name);
}

/* ------------------------------------------------------------ decoding */

struct img {
	uint8_t b[TR_MAX_IMG];
	uint8_t known[TR_MAX_IMG];
};

static void build_img(const struct tr_value *v, const struct tr_event *e,
		      struct img *im)
{
	memset(im, 0, sizeof(*im));
	for (int i = 0; i < v->npieces; i++) {
		const struct tr_piece *p = &v->pieces[i];
		const uint8_t *src = NULL;
		uint64_t reg;

		if (p->img_off + p->size > TR_MAX_IMG)
			continue;
		if (p->kind == TR_SRC_REG && p->idx < TR_NREGS && p->size <= 8) {
			reg = p->at_ret ? e->ret_regs[p->idx] : e->regs[p->idx];
			memcpy(im->b + p->img_off, &reg, p->size);
			memset(im->known + p->img_off, 1, p->size);
		} else if (p->kind == TR_SRC_STACK &&
			   p->idx + p->size <= TR_STACK_WORDS * 8) {
			src = (const uint8_t *)(p->at_ret ? e->ret_stack
							  : e->stack);
			memcpy(im->b + p->img_off, src + p->idx, p->size);
			memset(im->known + p->img_off, 1, p->size);
		}
	}
}

static bool img_known(const struct img *im, uint64_t off, uint64_t n)
{
	if (off + n > TR_MAX_IMG)
		return false;
	for (uint64_t i = 0; i < n; i++)
		if (!im->known[off + i])
			return false;
	return true;
}

static uint64_t img_u(const struct img *im, uint64_t off, uint64_t n)
{
	uint64_t v = 0;

	memcpy(&v, im->b + off, n > 8 ? 8 : n);
	return v;
}

static int64_t sext(uint64_t v, uint64_t n)
{
	if (n >= 8)
		return (int64_t)v;
	if (v & (1ULL << (n * 8 - 1)))
		v |= ~0ULL << (n * 8);
	return (int64_t)v;
}

struct dctx {
	struct tr_out *o;
	const struct tr_plan *p;
	const struct tr_event *e;
	int vi;
	const struct img *im;
};

static void put_unknown(struct dctx *d)
{
	if (d->o->jw)
		jw_string(d->o->jw, "?");
	else
		fputc('?', d->o->f);
}

static void put_text_quoted(FILE *f, const uint8_t *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_addr(struct dctx *d, uint64_t a)
{
	if (d->o->jw) {
		if (a)
			jw_hex(d->o->jw, a);
		else
			jw_null(d->o->jw);
	} else if (a) {
		fprintf(d->o->f, "0x%" PRIx64, a);
	} else {
		fputs("nil", d->o->f);
	}
}

/* The captured bytes of the string/slice header at off, or NULL. */
static const uint8_t *captured(struct dctx *d, uint64_t off, size_t *n)
{
	for (int i = 0; i < d->p->nstr; i++) {
		const struct tr_strref *s = &d->p->strs[i];

		if (s->val != d->vi || s->img_off != off)
			continue;
		if (s->slot < 0 || s->slot >= TR_NSTR)
			return NULL;
		*n = d->e->str_len[s->slot];
		if (*n > TR_STR_CAP)
			*n = TR_STR_CAP;
		return d->e->str[s->slot];
	}
	return NULL;
}

static void put_value(struct dctx *d, const struct gobin_type *t,
		      uint64_t off, int depth);

static void put_elems(struct dctx *d, const struct gobin_type *et,
		      const uint8_t *b, size_t n)
{
	size_t es = et->size, cnt = es ? n / es : 0;
	bool ints = et->kind >= GOBIN_K_INT && et->kind <= GOBIN_K_UINTPTR &&
		    es <= 8;
	bool sgn = et->kind >= GOBIN_K_INT && et->kind <= GOBIN_K_INT64;

	if (d->o->jw)
		jw_start_array(d->o->jw);
	else
		fputc('[', d->o->f);
	for (size_t i = 0; ints && i < cnt; i++) {
		uint64_t v = 0;

		memcpy(&v, b + i * es, es);
		if (d->o->jw) {
			if (sgn)
				jw_int(d->o->jw, sext(v, es));
			else
				jw_uint(d->o->jw, v);
		} else {
			fprintf(d->o->f, i ? " " : "");
			if (sgn)
				fprintf(d->o->f, "%" PRId64, sext(v, es));
			else
				fprintf(d->o->f, "%" PRIu64, v);
		}
	}
	if (d->o->jw)
		jw_end_array(d->o->jw);
	else
		fputc(']', d->o->f);
}

static void put_slice(struct dctx *d, const struct gobin_type *t, uint64_t off)
{
	const struct img *im = d->im;
	uint64_t ptr = img_u(im, off, 8), len = img_u(im, off + 8, 8);
	uint64_t cap = img_known(im, off + 16, 8) ? img_u(im, off + 16, 8) : 0;
	const uint8_t *b;
	size_t n = 0;
	bool bytes = t->elem && t->elem->size == 1 &&
		     (t->elem->kind == GOBIN_K_UINT8 ||
		      t->elem->kind == GOBIN_K_INT8);

	b = captured(d, off, &n);
	if (d->o->jw) {
		jw_start_object(d->o->jw);
		jw_name(d->o->jw, "len");
		jw_uint(d->o->jw, len);
		jw_name(d->o->jw, "cap");
		jw_uint(d->o->jw, cap);
		jw_name(d->o->jw, "data");
		if (!ptr)
			jw_null(d->o->jw);
		else if (b && bytes)
			jw_string_len(d->o->jw, (const char *)b, n);
		else if (b && t->elem)
			put_elems(d, t->elem, b, n);
		else
			jw_hex(d->o->jw, ptr);
		jw_end_object(d->o->jw);
		return;
	}
	fprintf(d->o->f, "%s{len:%" PRIu64 " cap:%" PRIu64 " ",
		t->name ? t->name : "[]", len, cap);
	if (!ptr)
		fputs("nil", d->o->f);
	else if (b && bytes)
		put_text_quoted(d->o->f, b, n);
	else if (b && t->elem)
		put_elems(d, t->elem, b, n);
	else
		fprintf(d->o->f, "0x%" PRIx64, ptr);
	if (b && t->elem && n < len * t->elem->size)
		fputs("...", d->o->f);
	fputc('}', d->o->f);
}

static void put_string(struct dctx *d, uint64_t off)
{
	uint64_t ptr = img_u(d->im, off, 8), len = img_u(d->im, off + 8, 8);
	const uint8_t *b;
	size_t n = 0;

	b = len ? captured(d, off, &n) : (const uint8_t *)"";
	if (!b) {
		/* not captured: the header only */
		if (d->o->jw) {
			jw_start_object(d->o->jw);
			jw_name(d->o->jw, "ptr");
			jw_hex(d->o->jw, ptr);
			jw_name(d->o->jw, "len");
			jw_uint(d->o->jw, len);
			jw_end_object(d->o->jw);
		} else {
			fprintf(d->o->f, "string{0x%" PRIx64 ", %" PRIu64 "}",
				ptr, len);
		}
		return;
	}
	if (d->o->jw) {
		jw_string_len(d->o->jw, (const char *)b, n);
		return;
	}
	put_text_quoted(d->o->f, b, n);
	if (n < len)
		fputs("...", d->o->f);
}

static void put_value(struct dctx *d, const struct gobin_type *t,
		      uint64_t off, int depth)
{
	struct tr_out *o = d->o;
	uint64_t n = t ? t->size : 0, u;

	if (!t || depth > 8 || off + n > TR_MAX_IMG) {
		put_unknown(d);
		return;
	}
	switch (t->kind) {
	case GOBIN_K_STRUCT:
		if (o->jw)
			jw_start_object(o->jw);
		else
			fputc('{', o->f);
		for (size_t i = 0; i < t->field_cnt; i++) {
			const struct gobin_field *fl = &t->fields[i];

			if (o->jw)
				jw_name(o->jw, fl->name ? fl->name : "?");
			else
				fprintf(o->f, "%s%s:", i ? ", " : "",
					fl->name ? fl->name : "?");
			put_value(d, fl->type, off + fl->offset, depth + 1);
		}
		if (o->jw)
			jw_end_object(o->jw);
		else
			fputc('}', o->f);
		return;
	case GOBIN_K_ARRAY:
		if (o->jw)
			jw_start_array(o->jw);
		else
			fputc('[', o->f);
		for (uint64_t i = 0; t->elem && i < t->count && i < 64; i++) {
			if (!o->jw && i)
				fputc(' ', o->f);
			put_value(d, t->elem, off + i * t->elem->size,
				  depth + 1);
		}
		if (o->jw)
			jw_end_array(o->jw);
		else
			fputc(']', o->f);
		return;
	default:
		break;
	}
	if (!img_known(d->im, off, n ? n : 1) && n) {
		put_unknown(d);
		return;
	}
	u = img_u(d->im, off, n);
	switch (t->kind) {
	case GOBIN_K_BOOL:
		if (o->jw)
			jw_bool(o->jw, u & 0xff);
		else
			fputs(u & 0xff ? "true" : "false", o->f);
		return;
	case GOBIN_K_INT: case GOBIN_K_INT8: case GOBIN_K_INT16:
	case GOBIN_K_INT32: case GOBIN_K_INT64:
		if (o->jw)
			jw_int(o->jw, sext(u, n));
		else
			fprintf(o->f, "%" PRId64, sext(u, n));
		return;
	case GOBIN_K_UINT: case GOBIN_K_UINT8: case GOBIN_K_UINT16:
	case GOBIN_K_UINT32: case GOBIN_K_UINT64: case GOBIN_K_UINTPTR:
		if (o->jw)
			jw_uint(o->jw, u);
		else
			fprintf(o->f, "%" PRIu64, u);
		return;
	case GOBIN_K_FLOAT32: {
		float fv;
		uint32_t w = (uint32_t)u;

		memcpy(&fv, &w, 4);
		if (o->jw)
			jw_float(o->jw, fv);
		else
			fprintf(o->f, "%g", fv);
		return;
	}
	case GOBIN_K_FLOAT64: {
		double dv;

		memcpy(&dv, &u, 8);
		if (o->jw)
			jw_float(o->jw, dv);
		else
			fprintf(o->f, "%g", dv);
		return;
	}
	case GOBIN_K_STRING:
		put_string(d, off);
		return;
	case GOBIN_K_SLICE:
		put_slice(d, t, off);
		return;
	case GOBIN_K_INTERFACE: {
		uint64_t ty = u, data = img_u(d->im, off + 8, 8);
		const char *tname;

		if (!ty) {
			put_addr(d, 0);
			return;
		}
		tname = ty >= o->bias ?
			trace_syms__type_name(o->syms, ty - o->bias) : NULL;
		if (o->jw) {
			jw_start_object(o->jw);
			jw_name(o->jw, "type");
			if (tname)
				put_type_name(o, tname);
			else
				jw_hex(o->jw, ty);
			jw_name(o->jw, "data");
			jw_hex(o->jw, data);
			jw_end_object(o->jw);
		} else {
			fprintf(o->f, "%s{type:", t->name ? t->name : "interface");
			if (tname)
				put_type_name(o, tname);
			else
				fprintf(o->f, "0x%" PRIx64, ty);
			fprintf(o->f, ", data:0x%" PRIx64 "}", data);
		}
		return;
	}
	default:	/* pointers, maps, chans, funcs: the address */
		put_addr(d, n >= 8 ? u : 0);
		return;
	}
}

static void put_raw(struct tr_out *o, const __u64 *regs,
		    const __u64 *stack, int words, bool abi0)
{
	for (int i = 0; i < words; i++) {
		uint64_t v = abi0 ? stack[i] :
			     i < TR_NREGS ? regs[i] : stack[i - TR_NREGS];

		if (o->jw)
			jw_uint(o->jw, v);
		else
			fprintf(o->f, "%s%#" PRIx64, i ? ", " : "", v);
	}
}

static void put_vals(struct tr_out *o, const struct tr_plan *p,
		     const struct tr_event *e, bool results)
{
	bool first = true;

	for (size_t i = 0; i < p->nval; i++) {
		const struct tr_value *v = &p->vals[i];
		struct dctx d = { .o = o, .p = p, .e = e, .vi = (int)i };
		struct img im;

		if (v->is_result != results)
			continue;
		if (o->jw)
			jw_name(o->jw, v->name);
		else if (results && p->nval && !strncmp(v->name, "~r", 2))
			fprintf(o->f, "%s", first ? "" : ", ");
		else
			fprintf(o->f, "%s%s=", first ? "" : ", ", v->name);
		first = false;
		if (v->why) {
			if (o->jw)
				jw_string(o->jw, "?");
			else
				fputc('?', o->f);
			continue;
		}
		build_img(v, e, &im);
		d.im = &im;
		put_value(&d, v->type, 0, 0);
	}
}

static void put_outs(struct tr_out *o, const struct tr_plan *p,
		     const struct tr_event *e)
{
	bool any = false;

	for (int i = 0; i < TR_NOUT; i++) {
		const struct tr_outx *ox = &p->outs[i];
		struct dctx d = { .o = o, .p = p, .e = e, .vi = ox->val };
		struct img im;

		if (!ox->expr)
			continue;
		if (!any) {
			if (o->jw) {
				jw_name(o->jw, "out");
				jw_start_object(o->jw);
			} else {
				fputs(" {", o->f);
			}
		}
		if (o->jw)
			jw_name(o->jw, ox->expr);
		else
			fprintf(o->f, "%s%s=", any ? " " : "", ox->expr);
		any = true;
		if (ox->in_img) {
			if (ox->val < 0 || (size_t)ox->val >= p->nval) {
				put_unknown(&d);
				continue;
			}
			build_img(&p->vals[ox->val], e, &im);
		} else {
			/* the fetched value, as a one-value image */
			memset(&im, 0, sizeof(im));
			if (e->out_ok[i]) {
				memcpy(im.b, &e->outv[i], 8);
				memset(im.known, 1, ox->type->size);
			}
		}
		d.im = &im;
		put_value(&d, ox->type, ox->in_img ? ox->img_off : 0, 0);
	}
	if (any) {
		if (o->jw)
			jw_end_object(o->jw);
		else
			fputc('}', o->f);
	}
}

static bool has_results(const struct tr_plan *p)
{
	for (size_t i = 0; i < p->nval; i++)
		if (p->vals[i].is_result)
			return true;
	return false;
}

#define TR_INLINE_MAX 8

/* Logical frames of return address pc, innermost first. */
static int pc_frames(const struct tr_out *o, uint64_t pc,
		     struct gobin_frame *fr)
{
	if (pc < o->bias + 1)
		return 0;
	/* a return address is after its CALL: look at the CALL */
	return gobin__pc_frames(o->gb, pc - o->bias - 1, fr, TR_INLINE_MAX);
}

static void put_stack(struct tr_out *o, const struct tr_event *e)
{
	uint32_t depth = e->stack_depth < TR_MAX_STACK ? e->stack_depth
						       : TR_MAX_STACK;
	struct gobin_frame fr[TR_INLINE_MAX];

	if (o->jw) {
		jw_name(o->jw, "stack");
		jw_start_array(o->jw);
	}
	for (uint32_t i = 0; i < depth; i++) {
		int n = pc_frames(o, e->pcs[i], fr);

		if (n <= 0) {
			if (o->jw) {
				jw_start_object(o->jw);
				jw_name(o->jw, "pc");
				jw_hex(o->jw, e->pcs[i]);
				jw_end_object(o->jw);
			} else {
				fprintf(o->f, "    0x%" PRIx64 "\n",
					(uint64_t)e->pcs[i]);
			}
			continue;
		}
		for (int j = 0; j < n; j++) {
			if (o->jw) {
				jw_start_object(o->jw);
				jw_name(o->jw, "func");
				jw_string(o->jw, fr[j].func);
				jw_name(o->jw, "file");
				jw_string(o->jw, fr[j].file);
				jw_name(o->jw, "line");
				jw_int(o->jw, fr[j].line);
				if (fr[j].inlined) {
					jw_name(o->jw, "inlined");
					jw_bool(o->jw, true);
				}
				jw_end_object(o->jw);
			} else {
				fprintf(o->f, "    %s (%s:%d)%s\n",
					fr[j].func ? fr[j].func : "?",
					fr[j].file ? fr[j].file : "?",
					fr[j].line,
					fr[j].inlined ? " [inlined]" : "");
			}
		}
	}
	if (o->jw)
		jw_end_array(o->jw);
}

size_t trace_folded_stack(const struct tr_out *o, const char *func,
			  const struct tr_event *e, char *buf, size_t len)
{
	uint32_t depth = e->stack_depth < TR_MAX_STACK ? e->stack_depth
						       : TR_MAX_STACK;
	struct gobin_frame fr[TR_INLINE_MAX];
	size_t w = 0;

	if (!len || !o->gb || !depth)
		return 0;
	buf[0] = 0;
	/* outermost first */
	for (uint32_t i = depth; i-- > 0;) {
		int n = pc_frames(o, e->pcs[i], fr);

		if (n <= 0) {
			w += snprintf(buf + w, w < len ? len - w : 0,
				      "0x%" PRIx64 ";", (uint64_t)e->pcs[i]);
		}
		for (int j = n - 1; j >= 0; j--)
			w += snprintf(buf + w, w < len ? len - w : 0, "%s;",
				      fr[j].func ? fr[j].func : "?");
		if (w >= len)
			break;
	}
	if (w < len)
		w += snprintf(buf + w, len - w, "%s", func);
	if (w >= len)
		w = len - 1;
	/* folded format: ';' separates frames, ' ' ends the stack */
	for (size_t i = 0; i < w; i++)
		if (buf[i] == ' ')
			buf[i] = '_';
	return w;
}

static void fmt_dur(FILE *f, uint64_t ns)
{
	if (ns < 10000)
		fprintf(f, "%" PRIu64 "ns", ns);
	else if (ns < 10000000)
		fprintf(f, "%.1fus", ns / 1e3);
	else if (ns < 10000000000ULL)
		fprintf(f, "%.1fms", ns / 1e6);
	else
		fprintf(f, "%.1fs", ns / 1e9);
}

void trace_print(struct tr_out *o, const struct tr_plan *p, const char *func,
		 const struct tr_event *e)
{
	bool done = e->ts_ret != 0;
	uint64_t wall = (uint64_t)e->ts_entry + o->mono_to_real;

	if (o->jw) {
		struct jw *jw = o->jw;

		jw_start_object(jw);
		jw_name(jw, "type");
		jw_string(jw, done ? "call" : "running");
		jw_name(jw, "ts_ns");
		jw_uint(jw, wall);
		jw_name(jw, "pid");
		jw_uint(jw, e->pid);
		jw_name(jw, "tid");
		jw_uint(jw, e->tid);
		jw_name(jw, "goid");
		jw_uint(jw, e->goid);
		jw_name(jw, "func");
		jw_string(jw, func);
		if (p->raw) {
			jw_name(jw, "raw_args");
			jw_start_array(jw);
			put_raw(o, e->regs, e->stack, p->raw_args, p->abi0);
			jw_end_array(jw);
			if (done) {
				jw_name(jw, "raw_ret");
				jw_start_array(jw);
				put_raw(o, e->ret_regs, e->ret_stack,
					p->raw_rets, p->abi0);
				jw_end_array(jw);
			}
		} else {
			jw_name(jw, "args");
			jw_start_object(jw);
			put_vals(o, p, e, false);
			jw_end_object(jw);
			if (done) {
				jw_name(jw, "ret");
				jw_start_object(jw);
				put_vals(o, p, e, true);
				jw_end_object(jw);
			}
		}
		put_outs(o, p, e);
		if (done) {
			jw_name(jw, "dur_ns");
			jw_uint(jw, (uint64_t)(e->ts_ret - e->ts_entry));
		}
		if (o->gb && e->stack_depth)
			put_stack(o, e);
		jw_end_object(jw);
		jw_end_line(jw);
		return;
	}
	{
		time_t sec = wall / 1000000000ULL;
		struct tm tm;
		char ts[16];

		localtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		fprintf(o->f, "%s.%06" PRIu64 " %u/%u g%" PRIu64 " %s(", ts,
			(uint64_t)(wall % 1000000000ULL) / 1000, e->pid, e->tid,
			(uint64_t)e->goid,
			func);
	}
	if (p->raw)
		put_raw(o, e->regs, e->stack, p->raw_args, p->abi0);
	else
		put_vals(o, p, e, false);
	fputc(')', o->f);
	if (!done) {
		put_outs(o, p, e);
		fputs(" still running at exit\n", o->f);
		if (o->gb && e->stack_depth)
			put_stack(o, e);
		return;
	}
	if (p->raw) {
		fputs(" = [", o->f);
		put_raw(o, e->ret_regs, e->ret_stack, p->raw_rets, p->abi0);
		fputc(']', o->f);
	} else if (has_results(p)) {
		fputs(" = ", o->f);
		put_vals(o, p, e, true);
	}
	put_outs(o, p, e);
	fputc(' ', o->f);
	fmt_dur(o->f, e->ts_ret - e->ts_entry);
	fputc('\n', o->f);
	if (o->gb && e->stack_depth)
		put_stack(o, e);
}
