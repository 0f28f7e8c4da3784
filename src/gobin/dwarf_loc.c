// SPDX-License-Identifier: MIT
/*
 * DWARF layer of gobin: function parameters with their locations at entry
 * (location blocks and lists decoded to registers and stack offsets).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "dwarf_int.h"

/* ---------------------------------------------------------- parameters */

/*
 * Go writes single location expressions (and DW_AT_frame_base) as
 * DW_FORM_block1 in version 4 units; libdw's dwarf_getlocation() accepts
 * only DW_FORM_exprloc there (DWARF 4 dropped block forms for locations)
 * and fails with "not a location list value". So such blocks are decoded
 * here, for the few operations a parameter location uses; any other
 * operation makes the expression unsupported. Location lists
 * (DW_FORM_sec_offset) go through libdw.
 */
static bool read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		if (shift >= 64 || (shift == 63 && (b & 0x7e)))
			return false;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

static bool read_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (*p >= end || shift >= 64)
			return false;
		b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		r |= ~(uint64_t)0 << shift;
	memcpy(v, &r, sizeof(*v));	/* two's complement, no overflow */
	return true;
}

#define MAX_OPS 64

/* Decode a location block into ops[]; false if it uses anything else. */
static bool decode_block(const uint8_t *p, size_t len, Dwarf_Op *ops,
			 size_t *nops)
{
	const uint8_t *start = p, *end = p + len;
	size_t n = 0;

	while (p < end) {
		Dwarf_Op *op;
		uint8_t atom = *p++;
		uint64_t u = 0;
		int64_t sv = 0;

		if (n == MAX_OPS)
			return false;
		op = &ops[n++];
		memset(op, 0, sizeof(*op));
		op->atom = atom;
		op->offset = (Dwarf_Word)(p - 1 - start);
		if ((atom >= DW_OP_reg0 && atom <= DW_OP_reg31) ||
		    (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) ||
		    atom == DW_OP_call_frame_cfa || atom == DW_OP_plus)
			continue;
		switch (atom) {
		case DW_OP_regx:
		case DW_OP_constu:
		case DW_OP_plus_uconst:
		case DW_OP_piece:
			if (!read_uleb(&p, end, &u))
				return false;
			op->number = u;
			break;
		case DW_OP_fbreg:
		case DW_OP_consts:
			if (!read_sleb(&p, end, &sv))
				return false;
			memcpy(&op->number, &sv, sizeof(sv));
			break;
		default:
			return false;
		}
	}
	*nops = n;
	return true;
}

/* The expression of an attribute that holds a single one (block or
 * exprloc form). */
static bool single_expr(Dwarf_Attribute *a, Dwarf_Op *ops, size_t *nops)
{
	Dwarf_Block b;

	switch (dwarf_whatform(a)) {
	case DW_FORM_block:
	case DW_FORM_block1:
	case DW_FORM_block2:
	case DW_FORM_block4:
	case DW_FORM_exprloc:
		break;
	default:
		return false;
	}
	if (dwarf_formblock(a, &b) != 0 || (!b.data && b.length))
		return false;
	return decode_block(b.data, b.length, ops, nops);
}

struct loc_eval {
	bool fb_is_cfa;		/* DW_AT_frame_base is DW_OP_call_frame_cfa */
};

/* One simple location from ops[*i]: a register or CFA/FBREG + constant.
 * Returns GOBIN_LOC_REG/STACK, NONE for an empty piece, -1 unsupported. */
static int simple_loc(const struct loc_eval *ev, const Dwarf_Op *ops,
		      size_t n, size_t *i, int *reg, int64_t *off)
{
	const Dwarf_Op *op = &ops[*i];
	int64_t cfa_off = 0;

	if (op->atom == DW_OP_piece)
		return GOBIN_LOC_NONE;
	if (op->atom >= DW_OP_reg0 && op->atom <= DW_OP_reg31) {
		*reg = op->atom - DW_OP_reg0;
		(*i)++;
		return GOBIN_LOC_REG;
	}
	if (op->atom == DW_OP_regx) {
		if (op->number > 1024)
			return -1;
		*reg = (int)op->number;
		(*i)++;
		return GOBIN_LOC_REG;
	}
	if (op->atom == DW_OP_fbreg) {
		if (!ev->fb_is_cfa)
			return -1;
		cfa_off = (int64_t)op->number;
		(*i)++;
	} else if (op->atom == DW_OP_call_frame_cfa) {
		(*i)++;
		/* optional: + constant */
		if (*i < n && ops[*i].atom == DW_OP_plus_uconst) {
			if (ops[*i].number > INT64_MAX)
				return -1;
			cfa_off = (int64_t)ops[*i].number;
			(*i)++;
		} else if (*i + 1 < n && ops[*i + 1].atom == DW_OP_plus &&
			   (ops[*i].atom == DW_OP_consts ||
			    ops[*i].atom == DW_OP_constu ||
			    (ops[*i].atom >= DW_OP_lit0 &&
			     ops[*i].atom <= DW_OP_lit31))) {
			if (ops[*i].atom >= DW_OP_lit0 &&
			    ops[*i].atom <= DW_OP_lit31)
				cfa_off = ops[*i].atom - DW_OP_lit0;
			else if (ops[*i].atom == DW_OP_constu &&
				 ops[*i].number > INT64_MAX)
				return -1;
			else
				cfa_off = (int64_t)ops[*i].number;
			*i += 2;
		}
	} else {
		return -1;
	}
	if (__builtin_add_overflow(cfa_off, CFA_MINUS_SP_AT_ENTRY, off))
		return -1;
	return GOBIN_LOC_STACK;
}

static int eval_location(struct gobin_dwarf *d, const struct loc_eval *ev,
			 const Dwarf_Op *ops, size_t n, struct gobin_param *p)
{
	struct gobin_loc_piece tmp[64];
	size_t cnt = 0, i = 0;

	p->loc_kind = GOBIN_LOC_NONE;
	p->loc_reg = -1;
	if (!n)
		return 0;
	while (i < n) {
		int reg = -1, kind;
		int64_t off = 0;

		kind = simple_loc(ev, ops, n, &i, &reg, &off);
		if (kind < 0)
			return 0;
		if (i == n) {
			if (cnt || kind == GOBIN_LOC_NONE)
				return 0;	/* trailing part: unsupported */
			p->loc_kind = kind;
			p->loc_reg = kind == GOBIN_LOC_REG ? reg : -1;
			p->loc_off = kind == GOBIN_LOC_STACK ? off : 0;
			return 0;
		}
		if (ops[i].atom != DW_OP_piece || cnt == sizeof(tmp) / sizeof(tmp[0]))
			return 0;
		tmp[cnt].kind = kind;
		tmp[cnt].reg = kind == GOBIN_LOC_REG ? reg : -1;
		tmp[cnt].off = kind == GOBIN_LOC_STACK ? off : 0;
		tmp[cnt].size = ops[i].number;
		cnt++;
		i++;
	}
	p->pieces = dw_arena_array(d, cnt, sizeof(tmp[0]));
	if (!p->pieces)
		return -ENOMEM;
	memcpy((void *)p->pieces, tmp, cnt * sizeof(tmp[0]));
	p->piece_cnt = cnt;
	p->loc_kind = GOBIN_LOC_PIECES;
	return 0;
}

static int param_location(struct gobin_dwarf *d, const struct loc_eval *ev,
			  Dwarf_Die *die, bool have_pc, Dwarf_Addr pc,
			  struct gobin_param *p)
{
	Dwarf_Op ops[MAX_OPS];
	Dwarf_Attribute a;
	Dwarf_Op *exprs[4];
	size_t lens[4], n;
	int cnt;

	p->loc_kind = GOBIN_LOC_NONE;
	p->loc_reg = -1;
	if (!die || !dwarf_attr(die, DW_AT_location, &a))
		return 0;
	/* A single expression applies everywhere. */
	if (single_expr(&a, ops, &n))
		return eval_location(d, ev, ops, n, p);
	/* A location list: libdw picks the entries covering pc. Without
	 * code (an abstract function) there is no pc to ask about. */
	if (!have_pc)
		return 0;
	cnt = dwarf_getlocation_addr(&a, pc, exprs, lens, 4);
	if (cnt <= 0)
		return 0;
	return eval_location(d, ev, exprs[0], lens[0], p);
}

static bool is_frame_base_cfa(Dwarf_Die *fn)
{
	Dwarf_Op ops[MAX_OPS];
	Dwarf_Attribute a;
	size_t n;

	if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) ||
	    !single_expr(&a, ops, &n))
		return false;
	return n == 1 && ops[0].atom == DW_OP_call_frame_cfa;
}

/* The concrete child of fn whose DW_AT_abstract_origin is abs_off. */
static bool find_concrete(Dwarf_Die *fn, Dwarf_Off abs_off, Dwarf_Die *out)
{
	Dwarf_Die child;

	if (dwarf_child(fn, &child) != 0)
		return false;
	do {
		Dwarf_Attribute a;
		Dwarf_Die origin;

		if (dwarf_tag(&child) != DW_TAG_formal_parameter ||
		    !dwarf_attr(&child, DW_AT_abstract_origin, &a) ||
		    !dwarf_formref_die(&a, &origin))
			continue;
		if (dwarf_dieoffset(&origin) == abs_off) {
			*out = child;
			return true;
		}
	} while (dw_next_sibling(&child) == 0);
	return false;
}

static int load_params(struct gobin_dwarf *d, struct dw_func *f)
{
	Dwarf_Die fn, abs, *decl, child;
	struct loc_eval ev;
	Dwarf_Attribute a;
	Dwarf_Addr pc = 0;
	bool have_pc, concrete = false;
	size_t n = 0, i = 0;
	int nres = 0, npar = 0;

	if (!dwarf_offdie(d->dbg, f->off, &fn))
		return -ENOENT;
	have_pc = dwarf_lowpc(&fn, &pc) == 0;
	ev.fb_is_cfa = is_frame_base_cfa(&fn);
	/* An out-of-line copy of an inlinable function has no parameters
	 * of its own: the abstract DIE gives order, names and types, the
	 * concrete children (by DW_AT_abstract_origin) the locations. */
	decl = &fn;
	if (dwarf_attr(&fn, DW_AT_abstract_origin, &a) &&
	    dwarf_formref_die(&a, &abs)) {
		decl = &abs;
		concrete = true;
	}
	if (dwarf_child(decl, &child) == 0) {
		do {
			if (dwarf_tag(&child) == DW_TAG_formal_parameter)
				n++;
		} while (dw_next_sibling(&child) == 0);
	}
	f->params = dw_arena_array(d, n, sizeof(*f->params));
	if (!f->params)
		return -ENOMEM;
	if (!n || dwarf_child(decl, &child) != 0)
		return 0;
	do {
		struct gobin_param *p;
		Dwarf_Die loc_die, *ld = &child;
		bool flag = false;
		int ret;

		if (dwarf_tag(&child) != DW_TAG_formal_parameter)
			continue;
		if (i >= n)
			break;
		p = &f->params[i++];
		if (dwarf_attr_integrate(&child, DW_AT_variable_parameter, &a))
			p->is_result = dwarf_formflag(&a, &flag) == 0 && flag;
		p->name = dw_die_name(&child);
		if (!p->name || !*p->name) {
			char buf[32];
			char *s;

			snprintf(buf, sizeof(buf), "~%c%d",
				 p->is_result ? 'r' : 'p',
				 p->is_result ? nres : npar);
			s = dw_arena_zalloc(d, strlen(buf) + 1);
			if (!s)
				return -ENOMEM;
			strcpy(s, buf);
			p->name = s;
		}
		if (p->is_result)
			nres++;
		else
			npar++;
		p->type = dw_as_type(dw_resolve_ref(d, &child, DW_AT_type));
		if (concrete)
			ld = find_concrete(&fn, dwarf_dieoffset(&child),
					   &loc_die) ? &loc_die : NULL;
		ret = param_location(d, &ev, ld, have_pc, pc, p);
		if (ret)
			return ret;
	} while (dw_next_sibling(&child) == 0);
	f->param_cnt = i;
	return 0;
}

static int func_params(struct gobin_dwarf *d, struct dw_func *f,
		       const struct gobin_param **params, size_t *cnt)
{
	if (!f->params_done) {
		f->params_err = load_params(d, f);
		/* an out-of-memory failure may succeed on a later call */
		f->params_done = f->params_err != -ENOMEM;
		if (f->params_err)
			return f->params_err;
	}
	if (f->params_err)
		return f->params_err;
	*params = f->params;
	*cnt = f->param_cnt;
	return 0;
}

/* gb's DWARF, indexed: 0, -ENODATA without DWARF, or -ENOMEM. */
static int indexed(const struct gobin *gb, struct gobin_dwarf **d)
{
	*d = gb->dw;
	return *d ? dw_build_index(*d) : -ENODATA;
}

int gobin__func_params(const struct gobin *gb, const char *func,
		       const struct gobin_param **params, size_t *cnt)
{
	struct gobin_dwarf *d;
	struct dw_func *f;
	int ret = indexed(gb, &d);

	if (ret)
		return ret;
	f = FIND_BY_NAME(d->funcs, d->func_cnt, func);
	if (!f)
		return -ENOENT;
	return func_params(d, f, params, cnt);
}

int gobin__func_params_at(const struct gobin *gb, uint64_t entry,
			  const struct gobin_param **params, size_t *cnt)
{
	struct gobin_dwarf *d;
	size_t lo = 0, hi;
	int ret = indexed(gb, &d);

	if (ret)
		return ret;
	hi = d->by_pc_cnt;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->by_pc[mid]->low_pc < entry)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= d->by_pc_cnt || d->by_pc[lo]->low_pc != entry)
		return -ENOENT;
	return func_params(d, d->by_pc[lo], params, cnt);
}
