/* SPDX-License-Identifier: MIT */
/*
 * Private to the .gopclntab reader of gobin (pclntab.c, pclntab_lines.c):
 * the parsed table's state and the raw reads both files use. Not for the
 * rest of gobin.
 */
#ifndef GOBIN_PCLNTAB_INT_H
#define GOBIN_PCLNTAB_INT_H

#include "gobin_int.h"

#define PCLN_PTRSIZE	8
#define PCLN_QUANTUM	1

#define PCDATA_INLTREEINDEX	2
#define FUNCDATA_INLTREE_GO112	4
#define FUNCDATA_INLTREE_GO116	3
/* runtime/symtab.go: _ArgsSizeUnknown = -0x80000000 */
_Static_assert(GOBIN_ARGS_UNKNOWN == -0x7fffffff - 1, "ArgsSizeUnknown");

/* A bound on inlining depth; the runtime has none, but a corrupted tree
 * could otherwise loop. */
#define MAX_INLINE_DEPTH	1024

struct gobin_pcln {
	enum gobin_pcln_format fmt;
	const uint8_t *tab;	/* the table in the image */
	uint64_t addr;		/* its virtual address */
	size_t len;		/* bytes of it we may read */
	uint64_t text_start;
	const char *text_how;

	/* Offsets from tab. */
	size_t funcnametab, cutab, filetab, pctab, pclntable, functab;
	size_t nfunc, nfiles;
	size_t filetab_cnt;	/* go1.2: entries in filetab incl. the count */

	/* _func field offsets for this format. */
	unsigned f_nameoff, f_args, f_pcfile, f_pcln, f_npcdata, f_cuoff,
		 f_funcid, f_nfuncdata, f_pcdata;
	unsigned inl_funcdata, inl_size, inl_nameoff, inl_parentpc;

	uint64_t md_addr;	/* runtime.firstmoduledata, 0 if unknown */
	uint64_t gofunc;	/* go1.18+: funcdata base, 0 if unknown */

	struct gobin_func *funcs;
	uint32_t *by_name;	/* indices into funcs, sorted by name */
};

/* pclntab.c */
bool pcln_tab_u32(const struct gobin_pcln *p, uint64_t off, uint32_t *v);
const char *pcln_tab_str(const struct gobin_pcln *p, uint64_t off);
uint32_t pcln_func_u32(const struct gobin_pcln *p,
		       const struct gobin_func *f, unsigned field);
uint32_t pcln_func_npcdata(const struct gobin_pcln *p,
			   const struct gobin_func *f);
uint64_t pcln_func_funcdata(const struct gobin_pcln *p,
			    const struct gobin_func *f, unsigned i);

#endif /* GOBIN_PCLNTAB_INT_H */
