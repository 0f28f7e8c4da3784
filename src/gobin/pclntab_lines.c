// SPDX-License-Identifier: MIT
/*
 * .gopclntab, second half: pc-value tables, file:line at a pc and the
 * inline tree's frames. The layouts are described in pclntab.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pclntab_int.h"

/* ------------------------------------------------------- pc-value tables */

/* Reads a uvarint at *off, bounded by the table; false at its end or on a
 * varint longer than 32 bits. */
static bool read_varint(const struct gobin_pcln *p, size_t *off, uint32_t *v)
{
	uint32_t val = 0;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t b;

		if (*off >= p->len)
			return false;
		b = p->tab[(*off)++];
		val |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = val;
			return true;
		}
	}
	return false;
}

/*
 * The value of pc-value table tbl (an offset into pctab) at targetpc in a
 * function starting at entry. runtime/symtab.go pcvalue(): a zero offset
 * means no table.
 */
static int pcvalue(const struct gobin_pcln *p, uint32_t tbl, uint64_t entry,
		   uint64_t targetpc, int32_t *out)
{
	size_t off;
	uint64_t pc = entry;
	uint32_t val = (uint32_t)-1;	/* unsigned: wraps, never UB */
	bool first = true;

	if (tbl == 0 || p->pctab > p->len || tbl > p->len - p->pctab)
		return -ENOENT;
	off = p->pctab + tbl;
	for (;;) {
		uint32_t uvdelta, pcdelta;

		if (!read_varint(p, &off, &uvdelta))
			return -ENOENT;
		if (uvdelta == 0 && !first)
			return -ENOENT;
		if (uvdelta & 1)
			uvdelta = ~(uvdelta >> 1);
		else
			uvdelta >>= 1;
		if (!read_varint(p, &off, &pcdelta))
			return -ENOENT;
		pc += (uint64_t)pcdelta * PCLN_QUANTUM;
		val += uvdelta;
		if (targetpc < pc) {
			*out = (int32_t)val;
			return 0;
		}
		first = false;
	}
}

static int func_pcdata(const struct gobin_pcln *p, const struct gobin_func *f,
		       uint32_t table, uint64_t pc, int32_t *v)
{
	if (table >= pcln_func_npcdata(p, f))
		return -ENOENT;
	return pcvalue(p, pcln_func_u32(p, f, p->f_pcdata + table * 4),
		       f->entry, pc, v);
}
/* ------------------------------------------------ lines and inline frames */

static bool owns(const struct gobin_pcln *p, const struct gobin_func *f)
{
	return p && f >= p->funcs && f < p->funcs + p->nfunc;
}

/* File name for pcfile value fno of f. */
static const char *file_name(const struct gobin_pcln *p,
			     const struct gobin_func *f, int32_t fno)
{
	uint32_t cuoff, stroff;

	if (p->fmt == GOBIN_PCLN_GO12) {
		/* runtime funcline1 (go1.13): filetab[fno], fno >= 1 */
		if (fno <= 0 || (uint64_t)fno >= p->filetab_cnt ||
		    !pcln_tab_u32(p, p->filetab + 4ULL * (uint32_t)fno,
				  &stroff))
			return NULL;
		return pcln_tab_str(p, stroff);
	}
	if (fno < 0)
		return NULL;
	cuoff = pcln_func_u32(p, f, p->f_cuoff);
	if (cuoff == UINT32_MAX)
		return NULL;
	if (!pcln_tab_u32(p, p->cutab +
			  4ULL * ((uint64_t)cuoff + (uint32_t)fno), &stroff) ||
	    stroff == UINT32_MAX)
		return NULL;
	return pcln_tab_str(p, (uint64_t)p->filetab + stroff);
}

static int line_at(const struct gobin_pcln *p, const struct gobin_func *f,
		   uint64_t pc, const char **file, int *line)
{
	int32_t fno, ln;
	const char *fn;

	if (pcvalue(p, pcln_func_u32(p, f, p->f_pcfile), f->entry, pc, &fno) ||
	    pcvalue(p, pcln_func_u32(p, f, p->f_pcln), f->entry, pc, &ln))
		return -ENOENT;
	fn = file_name(p, f, fno);
	if (!fn)
		return -ENOENT;
	*file = fn;
	*line = ln;
	return 0;
}

int gobin__func_line(const struct gobin *gb, const struct gobin_func *f,
		     uint64_t pc, const char **file, int *line)
{
	const struct gobin_pcln *p = gb->pcln;

	if (!owns(p, f) || pc < f->entry || pc >= f->end)
		return -ENOENT;
	return line_at(p, f, pc, file, line);
}

int gobin__pc_frames(const struct gobin *gb, uint64_t pc,
		     struct gobin_frame *frames, int max)
{
	const struct gobin_pcln *p = gb->pcln;
	const struct gobin_func *f = gobin__func_at(gb, pc);
	uint64_t inl = 0;
	int n = 0;

	if (max <= 0 || !frames)
		return -EINVAL;
	if (!f)
		return -ENOENT;
	inl = pcln_func_funcdata(p, f, p->inl_funcdata);

	for (int depth = 0; inl && depth < MAX_INLINE_DEPTH && n < max;
	     depth++) {
		const uint8_t *node;
		int32_t ix;
		uint32_t nameoff;
		int32_t parentpc;
		const char *name;

		if (func_pcdata(p, f, PCDATA_INLTREEINDEX, pc, &ix) || ix < 0)
			break;
		node = gobin__ptr(gb, inl + (uint64_t)ix * p->inl_size,
				  p->inl_size);
		if (!node)
			break;
		nameoff = gobin_le32(node + p->inl_nameoff);
		parentpc = (int32_t)gobin_le32(node + p->inl_parentpc);
		name = pcln_tab_str(p, (uint64_t)p->funcnametab + nameoff);
		if (!name)
			break;
		frames[n].func = name;
		frames[n].inlined = true;
		if (line_at(p, f, pc, &frames[n].file, &frames[n].line)) {
			frames[n].file = "?";
			frames[n].line = 0;
		}
		n++;
		/* The parent continues at an instruction carrying the call
		 * site's position. */
		if (parentpc < 0 || (uint64_t)parentpc >= f->end - f->entry)
			break;
		pc = f->entry + (uint64_t)parentpc;
	}
	if (n >= max)
		return n;
	frames[n].func = f->name;
	frames[n].inlined = false;
	if (line_at(p, f, pc, &frames[n].file, &frames[n].line)) {
		frames[n].file = "?";
		frames[n].line = 0;
	}
	return n + 1;
}

/* The largest value of pc-value table tbl over the whole function: -1 if
 * none (no table, or only -1s). */
static int32_t pcvalue_max(const struct gobin_pcln *p, uint32_t tbl)
{
	uint32_t val = (uint32_t)-1;
	int32_t max = -1;
	bool first = true;
	size_t off;

	if (tbl == 0 || p->pctab > p->len || tbl > p->len - p->pctab)
		return -1;
	off = p->pctab + tbl;
	for (;;) {
		uint32_t uvdelta, pcdelta;

		if (!read_varint(p, &off, &uvdelta) ||
		    (uvdelta == 0 && !first))
			return max;
		if (uvdelta & 1)
			uvdelta = ~(uvdelta >> 1);
		else
			uvdelta >>= 1;
		if (!read_varint(p, &off, &pcdelta))
			return max;
		val += uvdelta;
		if ((int32_t)val > max)
			max = (int32_t)val;
		first = false;
	}
}

int gobin__for_each_inlined_call(const struct gobin *gb,
				 void (*cb)(const char *callee, void *ctx),
				 void *ctx)
{
	const struct gobin_pcln *p = gb->pcln;
	/* a malformed table could claim 2^20 nodes for every function:
	 * bound the whole walk (a 15 MB binary has ~50,000) */
	size_t budget = 1u << 22;

	if (!p)
		return -ENOENT;
	for (size_t i = 0; i < p->nfunc; i++) {
		const struct gobin_func *f = &p->funcs[i];
		uint64_t inl = pcln_func_funcdata(p, f, p->inl_funcdata);
		int32_t nodes;

		if (!inl || PCDATA_INLTREEINDEX >= pcln_func_npcdata(p, f))
			continue;
		/* every node is some pc's innermost frame or the parent of
		 * one, so the largest index names the last node */
		nodes = pcvalue_max(p, pcln_func_u32(p, f, p->f_pcdata +
						      PCDATA_INLTREEINDEX * 4)) + 1;
		for (int32_t ix = 0; ix < nodes && ix < (1 << 20); ix++) {
			if (!budget--)
				return -E2BIG;
			const uint8_t *node = gobin__ptr(gb, inl + (uint64_t)ix *
							 p->inl_size,
							 p->inl_size);
			const char *name;

			if (!node)
				break;
			name = pcln_tab_str(p, (uint64_t)p->funcnametab +
					    gobin_le32(node + p->inl_nameoff));
			if (name)
				cb(name, ctx);
		}
	}
	return 0;
}
