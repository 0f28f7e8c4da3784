// SPDX-License-Identifier: MIT
/*
 * .gopclntab: the Go runtime's own table of functions, pc -> file:line and
 * inlining. It survives `-ldflags=-s -w`, so it is what names functions in
 * a stripped binary.
 *
 * Four layouts (x86-64 only: pointer size 8, pc quantum 1). Sources read
 * for this file: go1.19's src/debug/gosym/pclntab.go, src/runtime/symtab.go
 * and runtime2.go (Debian's golang-1.19-go); an older debug/gosym
 * (go1.2 layout); copies of src/runtime/{runtime2,symtab,symtabinl}.go and
 * src/internal/abi/symtab.go of go1.13-1.15 and go1.20-1.25 kept in public
 * repositories (golang/go itself was too large to fetch here); the go1.26
 * release notes. Every layout is checked against the 12 esbuild releases of
 * the corpus (tests/unit/test_pclntab.c: debug/gosym agrees for go1.13-1.19,
 * DWARF for go1.13/1.14, inline trees decode in all 12).
 *
 *   go1.2  0xfffffffb  header {magic, 0, 0, quantum, ptrsize, nfunc uintptr}
 *                      then functab {entry, funcoff uintptr}[nfunc], end pc
 *                      uintptr, uint32 filetab offset. Every offset
 *                      (names, pc tables, _func, files) is from the table's
 *                      start; filetab = {uint32 n, uint32 stroff[n]}.
 *   go1.16 0xfffffffa  header {magic, 0, 0, quantum, ptrsize, nfunc, nfiles,
 *                      funcnameOffset, cuOffset, filetabOffset, pctabOffset,
 *                      pclnOffset}. functab (same shape as go1.2) and the
 *                      _func records sit at pclnOffset, _func offsets are
 *                      relative to it; names to funcnametab; pc tables to
 *                      pctab; a pcfile value indexes cutab[cuOffset+v], which
 *                      holds a filetab offset (^0: none).
 *   go1.18 0xfffffff0  like go1.16 plus textStart after nfiles; functab is
 *                      {entryoff, funcoff uint32} with entries relative to
 *                      textStart; _func.entryoff is uint32; funcdata are
 *                      uint32 offsets from moduledata.gofunc (^0: none).
 *   go1.20 0xfffffff1  like go1.18; _func gains startLine (int32) before
 *                      funcID, and the inline tree node shrank. From go1.26
 *                      the header's textStart is always 0 ("The pcHeader ...
 *                      no longer records the start of the text section",
 *                      go1.26 release notes): take runtime.text, else
 *                      moduledata.text, else the .text section.
 *
 * _func (runtime2.go; offsets in bytes):
 *   go1.13-1.15  entry u64 @0, nameoff @8, args @12, deferreturn @16,
 *                pcsp @20, pcfile @24, pcln @28, npcdata @32, funcID @36,
 *                nfuncdata u8 @39; pcdata[] @40.
 *   go1.16-1.17  as go1.13 plus cuOffset @36; funcID @40, flag @41,
 *                nfuncdata @43; pcdata[] @44.
 *   go1.18-1.19  entryoff u32 @0, nameoff @4, args @8, deferreturn @12,
 *                pcsp @16, pcfile @20, pcln @24, npcdata @28, cuOffset @32,
 *                funcID @36, flag @37, nfuncdata @39; pcdata[] @40.
 *   go1.20+      as go1.18 plus startLine @36; funcID @40, flag @41,
 *                nfuncdata @43; pcdata[] @44.
 * funcdata[] follow pcdata[]: before go1.18 pointers (8-aligned in memory),
 * from go1.18 uint32 offsets from moduledata.gofunc.
 *
 * Inline tree: PCDATA_InlTreeIndex = 2 from go1.12 on; FUNCDATA_InlTree = 4
 * in go1.12-1.15 (after RegPointerMaps 2, StackObjects 3: runtime/symtab.go
 * go1.13, go1.14) and 3 from go1.16 (RegPointerMaps gone: runtime/symtab.go
 * go1.16, go1.19; internal/abi/symtab.go go1.21+). go1.10/1.11 used other
 * indices and a 16-byte node; the go1.2 layout here assumes go1.12+.
 * Nodes:
 *   go1.12-1.19  {parent i16, funcID u8, _ u8, file i32, line i32,
 *                 nameoff i32, parentPc i32}  20 bytes
 *   go1.20+      {funcID u8, _ [3]u8, nameOff i32, parentPc i32,
 *                 startLine i32}                        16 bytes
 * The runtime (symtabinl.go inlineUnwinder; go1.19 symtab.go Frames.Next)
 * names the innermost frame from the node at pc, takes its file:line from
 * the function's pcfile/pcln at pc, then moves pc to entry+parentPc and
 * repeats until the index is < 0, which is the physical function.
 *
 * pc-value tables (gosym step/pcvalue): pairs of varints (zig-zag value
 * delta, pc delta * quantum); a zero value delta ends the table except as
 * the first pair; value starts at -1, pc at the function's entry.
 *
 * This file finds and parses the table and answers the function queries;
 * pclntab_lines.c decodes pc-value tables, file:line and inline frames.
 * pclntab_int.h holds what they share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pclntab_int.h"

/* ------------------------------------------------------------ raw reads */

static bool tab_has(const struct gobin_pcln *p, uint64_t off, uint64_t len)
{
	return off <= p->len && len <= p->len - off;
}

bool pcln_tab_u32(const struct gobin_pcln *p, uint64_t off, uint32_t *v)
{
	if (!tab_has(p, off, 4))
		return false;
	*v = gobin_le32(p->tab + off);
	return true;
}

static bool tab_u64(const struct gobin_pcln *p, uint64_t off, uint64_t *v)
{
	if (!tab_has(p, off, 8))
		return false;
	*v = gobin_le64(p->tab + off);
	return true;
}

/* A NUL-terminated string at tab+off, or NULL. */
const char *pcln_tab_str(const struct gobin_pcln *p, uint64_t off)
{
	if (off >= p->len)
		return NULL;
	if (!memchr(p->tab + off, 0, p->len - off))
		return NULL;
	return (const char *)p->tab + off;
}

static bool img_u64(const struct gobin *gb, uint64_t vaddr, uint64_t *v)
{
	const uint8_t *b = gobin__ptr(gb, vaddr, 8);

	if (!b)
		return false;
	*v = gobin_le64(b);
	return true;
}

/*
 * A pointer-sized word of the image as the loader would leave it at load
 * bias 0: the stored value, or, when the file holds 0 there, the addend of
 * an R_X86_64_RELATIVE relocation of that word (linkers may leave RELA
 * targets empty). Only used for a handful of moduledata fields.
 */
static bool img_ptr(const struct gobin *gb, uint64_t vaddr, uint64_t *v)
{
	if (!img_u64(gb, vaddr, v))
		return false;
	if (*v)
		return true;
	for (size_t i = 0; i < gb->sec_cnt; i++) {
		const struct gobin_section *s = &gb->secs[i];

		if (s->type != SHT_RELA || !s->data || !(s->flags & SHF_ALLOC))
			continue;
		for (uint64_t o = 0; o + 24 <= s->size; o += 24) {
			const uint8_t *r = s->data + o;

			if (gobin_le64(r) == vaddr &&
			    (gobin_le64(r + 8) & 0xffffffff) ==
				    R_X86_64_RELATIVE) {
				*v = gobin_le64(r + 16);
				return true;
			}
		}
	}
	return true;
}

/* ---------------------------------------------------------- _func access */

static const uint8_t *func_raw(const struct gobin_pcln *p,
			       const struct gobin_func *f)
{
	return p->tab + f->funcoff;
}

uint32_t pcln_func_u32(const struct gobin_pcln *p,
		       const struct gobin_func *f, unsigned field)
{
	return gobin_le32(func_raw(p, f) + field);
}

uint32_t pcln_func_npcdata(const struct gobin_pcln *p,
			   const struct gobin_func *f)
{
	return pcln_func_u32(p, f, p->f_npcdata);
}

static uint8_t func_nfuncdata(const struct gobin_pcln *p,
			      const struct gobin_func *f)
{
	return func_raw(p, f)[p->f_nfuncdata];
}

static bool is_go118plus(enum gobin_pcln_format fmt)
{
	return fmt == GOBIN_PCLN_GO118 || fmt == GOBIN_PCLN_GO120;
}

/* Bytes of the _func record including its pcdata and funcdata arrays
 * (funcdata alignment padding included, as the runtime reads it). */
static uint64_t func_size(const struct gobin_pcln *p, uint64_t funcoff,
			  uint32_t npcdata, uint8_t nfuncdata)
{
	uint64_t sz = p->f_pcdata + (uint64_t)npcdata * 4;

	if (is_go118plus(p->fmt))
		return sz + (uint64_t)nfuncdata * 4;
	/* runtime/symtab.go funcdata() before go1.18: pointers start at the
	 * next 8-aligned address. */
	if (nfuncdata && ((p->addr + funcoff + sz) & 4))
		sz += 4;
	return sz + (uint64_t)nfuncdata * 8;
}

/* Virtual address of funcdata i of f, or 0. */
uint64_t pcln_func_funcdata(const struct gobin_pcln *p,
			    const struct gobin_func *f, unsigned i)
{
	uint32_t npcdata = pcln_func_npcdata(p, f);
	uint64_t off = p->f_pcdata + (uint64_t)npcdata * 4;

	if (i >= func_nfuncdata(p, f))
		return 0;
	if (is_go118plus(p->fmt)) {
		uint32_t v = pcln_func_u32(p, f, (unsigned)(off + i * 4));

		if (v == UINT32_MAX || !p->gofunc)
			return 0;
		return p->gofunc + v;
	}
	if ((p->addr + f->funcoff + off) & 4)
		off += 4;
	return gobin_le64(func_raw(p, f) + off + (uint64_t)i * 8);
}

/* ------------------------------------------------------- finding the table */

static bool header_ok(const uint8_t *h, size_t len)
{
	return len >= 16 && h[4] == 0 && h[5] == 0 && h[6] == PCLN_QUANTUM &&
	       h[7] == PCLN_PTRSIZE;
}

static bool magic_known(uint32_t m)
{
	return m == GOBIN_PCLN_GO12 || m == GOBIN_PCLN_GO116 ||
	       m == GOBIN_PCLN_GO118 || m == GOBIN_PCLN_GO120;
}

static int parse(struct gobin *gb, struct gobin_pcln *p, char *err,
		 size_t errlen);

/* Tries a table candidate; on success p is filled in. */
static int try_table(struct gobin *gb, struct gobin_pcln *p,
		     const uint8_t *tab, uint64_t addr, size_t len,
		     char *err, size_t errlen)
{
	struct gobin_pcln c = { 0 };
	int ret;

	c.tab = tab;
	c.addr = addr;
	/* Offsets are 32-bit (gobin_func.funcoff); a bound from a segment
	 * may be larger than any table. */
	c.len = len > UINT32_MAX ? UINT32_MAX : len;
	ret = parse(gb, &c, err, errlen);
	if (ret) {
		free(c.funcs);
		free(c.by_name);
		return ret;
	}
	*p = c;
	return 0;
}

/* The file-backed bytes of the PT_LOAD segment holding vaddr, from vaddr
 * on. */
static const uint8_t *segment_rest(const struct gobin *gb, uint64_t vaddr,
				   size_t *len)
{
	for (size_t i = 0; i < gb->phdr_cnt; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];

		if (ph->p_type != PT_LOAD || vaddr < ph->p_vaddr ||
		    vaddr - ph->p_vaddr >= ph->p_filesz)
			continue;
		if (ph->p_offset > gb->img_len)
			continue;
		uint64_t avail = gb->img_len - ph->p_offset;
		uint64_t filesz = ph->p_filesz < avail ? ph->p_filesz : avail;
		uint64_t skip = vaddr - ph->p_vaddr;

		if (skip >= filesz)
			continue;
		*len = filesz - skip;
		return gb->img + ph->p_offset + skip;
	}
	return NULL;
}

/* Scans read-only loadable segments for a header that parses. */
static int scan_segments(struct gobin *gb, struct gobin_pcln *p)
{
	char dummy[8];

	for (size_t i = 0; i < gb->phdr_cnt; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];
		const uint8_t *seg;
		size_t seglen;

		/* Read-only data: .gopclntab lives in the R segment, or in
		 * RW .data.rel.ro of PIE, never in text. */
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) ||
		    !ph->p_filesz)
			continue;
		seg = segment_rest(gb, ph->p_vaddr, &seglen);
		if (!seg)
			continue;
		for (size_t o = 0; o + 16 <= seglen; o += 8) {
			uint32_t m = gobin_le32(seg + o);

			if (!magic_known(m) || !header_ok(seg + o, seglen - o))
				continue;
			if (!try_table(gb, p, seg + o, ph->p_vaddr + o,
				       seglen - o, dummy, sizeof(dummy)))
				return 0;
		}
	}
	return -ENOPKG;
}

/* ----------------------------------------------------------- moduledata */

/*
 * runtime.firstmoduledata (runtime/symtab.go moduledata). Its prefix:
 *   go1.2-1.15: pclntable []byte @0, ftab []functab @24, filetab @48,
 *               findfunctab @72, minpc @80, maxpc @88, text @96
 *   go1.16+:    pcHeader @0, funcnametab []byte @8, cutab @32, filetab @56,
 *               pctab @80, pclntable @104, ftab @128, findfunctab @152,
 *               minpc @160, maxpc @168, text @176 ... rodata, gofunc:
 *               gofunc @304 in go1.18-1.19, @320 from go1.20 (covctrs,
 *               ecovctrs were added before end; go1.26 appends epclntab
 *               after gofunc). From go1.26 it has its own .go.module
 *               section.
 */
static bool md_matches(const struct gobin *gb, const struct gobin_pcln *p,
		       uint64_t md)
{
	uint64_t a, b;

	if (!img_ptr(gb, md, &a) || a != p->addr)
		return false;
	if (p->fmt == GOBIN_PCLN_GO12) {
		/* ftab.ptr: the functab, 16 bytes into the table */
		return img_ptr(gb, md + 24, &b) && b == p->addr + p->functab;
	}
	return img_ptr(gb, md + 8, &b) && b == p->addr + p->funcnametab;
}

static uint64_t find_moduledata(const struct gobin *gb,
				const struct gobin_pcln *p)
{
	const struct gobin_section *s = gobin__section(gb, ".go.module");
	const struct gobin_sym *sym;

	if (s && md_matches(gb, p, s->addr))
		return s->addr;
	sym = gobin__sym_by_name(gb, "runtime.firstmoduledata");
	if (sym && md_matches(gb, p, sym->addr))
		return sym->addr;
	/* Stripped: a word equal to the table's address, followed by the
	 * right second pointer. Data segments only. */
	for (size_t i = 0; i < gb->phdr_cnt; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];
		const uint8_t *seg;
		size_t seglen;

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) ||
		    !(ph->p_flags & PF_W))
			continue;
		seg = segment_rest(gb, ph->p_vaddr, &seglen);
		if (!seg)
			continue;
		for (size_t o = 0; o + 32 <= seglen; o += 8) {
			if (gobin_le64(seg + o) != p->addr)
				continue;
			if (md_matches(gb, p, ph->p_vaddr + o))
				return ph->p_vaddr + o;
		}
	}
	return 0;
}

/* --------------------------------------------------------------- parsing */

/*
 * From go1.17 a function called across ABIs has two bodies under one name:
 * the real one and an ABI wrapper (.symtab calls the ABI0 one "name.abi0").
 * Wrappers carry a non-zero funcID (FuncIDWrapper, whose value changes per
 * release), the real body FuncIDNormal = 0, so among equal names the one
 * with funcID 0 sorts first, then the lower address.
 */
static int cmp_name_idx(const void *a, const void *b, void *ctx)
{
	const struct gobin_pcln *p = ctx;
	const struct gobin_func *funcs = p->funcs;
	uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	int c = strcmp(funcs[ia].name, funcs[ib].name);
	bool sa, sb;

	if (c)
		return c;
	sa = func_raw(p, &funcs[ia])[p->f_funcid] != 0;
	sb = func_raw(p, &funcs[ib])[p->f_funcid] != 0;
	if (sa != sb)
		return sa ? 1 : -1;
	return ia < ib ? -1 : ia > ib;
}

static void set_field_offsets(struct gobin_pcln *p)
{
	switch (p->fmt) {
	case GOBIN_PCLN_GO12:
		p->f_nameoff = 8; p->f_args = 12; p->f_pcfile = 24;
		p->f_pcln = 28; p->f_npcdata = 32; p->f_cuoff = 0;
		p->f_funcid = 36; p->f_nfuncdata = 39; p->f_pcdata = 40;
		break;
	case GOBIN_PCLN_GO116:
		p->f_nameoff = 8; p->f_args = 12; p->f_pcfile = 24;
		p->f_pcln = 28; p->f_npcdata = 32; p->f_cuoff = 36;
		p->f_funcid = 40; p->f_nfuncdata = 43; p->f_pcdata = 44;
		break;
	case GOBIN_PCLN_GO118:
		p->f_nameoff = 4; p->f_args = 8; p->f_pcfile = 20;
		p->f_pcln = 24; p->f_npcdata = 28; p->f_cuoff = 32;
		p->f_funcid = 36; p->f_nfuncdata = 39; p->f_pcdata = 40;
		break;
	case GOBIN_PCLN_GO120:
		p->f_nameoff = 4; p->f_args = 8; p->f_pcfile = 20;
		p->f_pcln = 24; p->f_npcdata = 28; p->f_cuoff = 32;
		p->f_funcid = 40; p->f_nfuncdata = 43; p->f_pcdata = 44;
		break;
	}
	p->inl_funcdata = p->fmt == GOBIN_PCLN_GO12 ? FUNCDATA_INLTREE_GO112
						    : FUNCDATA_INLTREE_GO116;
	if (p->fmt == GOBIN_PCLN_GO120) {
		p->inl_size = 16; p->inl_nameoff = 4; p->inl_parentpc = 8;
	} else {
		p->inl_size = 20; p->inl_nameoff = 12; p->inl_parentpc = 16;
	}
}

/* Is vaddr inside an executable, file-backed PT_LOAD segment? */
static bool in_text(const struct gobin *gb, uint64_t vaddr)
{
	for (size_t i = 0; i < gb->phdr_cnt; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    vaddr >= ph->p_vaddr && vaddr - ph->p_vaddr < ph->p_memsz)
			return true;
	}
	return false;
}

/* go1.18+: where entry offsets count from. */
static int find_text_start(struct gobin *gb, struct gobin_pcln *p,
			   uint64_t hdr_text, char *err, size_t errlen)
{
	const struct gobin_sym *sym = gobin__sym_by_name(gb, "runtime.text");
	const struct gobin_section *text;
	uint64_t v;

	if (hdr_text) {
		p->text_start = hdr_text;
		p->text_how = "pcHeader.textStart";
		return 0;
	}
	/* go1.26+: the header's field is 0. */
	if (sym && sym->addr) {
		p->text_start = sym->addr;
		p->text_how = "runtime.text symbol";
		return 0;
	}
	if (p->md_addr && img_ptr(gb, p->md_addr + 176, &v) && v) {
		p->text_start = v;
		p->text_how = "moduledata.text";
		return 0;
	}
	text = gobin__section(gb, ".text");
	if (text && text->addr) {
		/* Right for internal linking, where runtime.text opens .text;
		 * external linkers put C start-up code first. */
		p->text_start = text->addr;
		p->text_how = ".text section";
		return 0;
	}
	snprintf(err, errlen,
		 "pclntab: cannot tell where text starts (no textStart, "
		 "runtime.text, moduledata or .text)");
	return -EINVAL;
}

/* go1.2's header: the function count; the filetab is found through the
 * word after the functab (src/debug/gosym/pclntab.go, go12 case). */
static int header_go12(struct gobin_pcln *p, uint64_t *nfunc, size_t *fsz,
		       char *err, size_t errlen)
{
	uint32_t fileoff, n;

	tab_u64(p, 8, nfunc);
	p->functab = 16;
	*fsz = 8;
	p->pclntable = 0;
	p->funcnametab = 0;
	p->pctab = 0;
	if (*nfunc > p->len / 16 ||
	    !pcln_tab_u32(p, p->functab + (2 * *nfunc + 1) * 8, &fileoff) ||
	    !pcln_tab_u32(p, fileoff, &n) ||
	    !tab_has(p, fileoff, 4ULL * n)) {
		snprintf(err, errlen, "pclntab: go1.2 functab or "
			 "filetab out of range");
		return -EINVAL;
	}
	p->filetab = fileoff;
	p->filetab_cnt = n;
	p->nfiles = n ? n - 1 : 0;
	return 0;
}

/* go1.16's and later headers: counts, then the offsets of the five
 * tables (go1.18+: the text start before them, into *hdr_text). */
static int header_go116(struct gobin_pcln *p, uint64_t *nfunc, size_t *fsz,
			uint64_t *hdr_text, char *err, size_t errlen)
{
	uint64_t nfiles, off[5];
	unsigned base = 24;

	if (!tab_u64(p, 8, nfunc) || !tab_u64(p, 16, &nfiles)) {
		snprintf(err, errlen, "pclntab: truncated header");
		return -EINVAL;
	}
	if (is_go118plus(p->fmt)) {
		tab_u64(p, 24, hdr_text);
		base = 32;
	}
	for (int i = 0; i < 5; i++) {
		if (!tab_u64(p, base + 8 * i, &off[i]) || off[i] > p->len) {
			snprintf(err, errlen, "pclntab: header offset "
				 "%d out of range", i);
			return -EINVAL;
		}
	}
	p->funcnametab = off[0];
	p->cutab = off[1];
	p->filetab = off[2];
	p->pctab = off[3];
	p->pclntable = off[4];
	p->functab = off[4];
	p->nfiles = nfiles;
	*fsz = is_go118plus(p->fmt) ? 4 : 8;
	if (*nfunc > p->len / (2 * *fsz)) {
		snprintf(err, errlen, "pclntab: %llu functions do not fit",
			 (unsigned long long)*nfunc);
		return -EINVAL;
	}
	return 0;
}

/* The header: the format, the tables' offsets, the function count and
 * the functab's field size (*fsz: 8, or 4 from go1.18, entries relative
 * to the text start). */
static int parse_header(struct gobin_pcln *p, uint64_t *nfunc, size_t *fsz,
			uint64_t *hdr_text, char *err, size_t errlen)
{
	uint32_t magic;
	int ret;

	if (p->len < 16 || !header_ok(p->tab, p->len)) {
		snprintf(err, errlen, "pclntab: bad header");
		return -EINVAL;
	}
	magic = gobin_le32(p->tab);
	if (!magic_known(magic)) {
		snprintf(err, errlen, "pclntab: unknown magic %#x", magic);
		return -EPROTONOSUPPORT;
	}
	p->fmt = (enum gobin_pcln_format)magic;
	set_field_offsets(p);
	ret = p->fmt == GOBIN_PCLN_GO12
		      ? header_go12(p, nfunc, fsz, err, errlen)
		      : header_go116(p, nfunc, fsz, hdr_text, err, errlen);
	if (ret)
		return ret;
	if (!*nfunc || !tab_has(p, p->functab, (2 * *nfunc + 1) * *fsz)) {
		snprintf(err, errlen, "pclntab: functab out of range");
		return -EINVAL;
	}
	p->nfunc = *nfunc;
	return 0;
}

/* Function i of the functab (fsz: its field size): entry, _func, name,
 * each checked against the table's bounds and the _func's own entry. */
static int read_func(struct gobin_pcln *p, size_t i, size_t fsz,
		     uint64_t entry, char *err, size_t errlen)
{
	size_t fo = p->functab + 2 * i * fsz;
	uint64_t funcoff, fentry;
	struct gobin_func *f = &p->funcs[i];
	uint32_t npcdata, nameoff;
	uint8_t nfuncdata;
	const char *name;

	funcoff = fsz == 8 ? gobin_le64(p->tab + fo + 8)
			   : gobin_le32(p->tab + fo + 4);
	if (funcoff > p->len - p->pclntable ||
	    !tab_has(p, p->pclntable + funcoff, p->f_pcdata)) {
		snprintf(err, errlen, "pclntab: _func %zu out of range", i);
		return -EINVAL;
	}
	funcoff += p->pclntable;
	f->funcoff = (uint32_t)funcoff;
	f->entry = entry;
	npcdata = pcln_func_npcdata(p, f);
	nfuncdata = func_nfuncdata(p, f);
	if (npcdata > p->len ||
	    !tab_has(p, funcoff, func_size(p, funcoff, npcdata, nfuncdata))) {
		snprintf(err, errlen, "pclntab: _func %zu tables out "
			 "of range", i);
		return -EINVAL;
	}
	/* The _func's own entry must agree with the functab. */
	if (fsz == 8)
		fentry = gobin_le64(p->tab + funcoff);
	else
		fentry = p->text_start + gobin_le32(p->tab + funcoff);
	if (fentry != entry) {
		snprintf(err, errlen, "pclntab: _func %zu entry %#llx "
			 "!= functab %#llx", i, (unsigned long long)fentry,
			 (unsigned long long)entry);
		return -EINVAL;
	}
	nameoff = pcln_func_u32(p, f, p->f_nameoff);
	name = pcln_tab_str(p, (uint64_t)p->funcnametab + nameoff);
	if (!name) {
		snprintf(err, errlen, "pclntab: name of _func %zu out "
			 "of range", i);
		return -EINVAL;
	}
	f->name = name;
	/* _ArgsSizeUnknown is INT32_MIN, as GOBIN_ARGS_UNKNOWN */
	f->args = (int32_t)pcln_func_u32(p, f, p->f_args);
	p->by_name[i] = (uint32_t)i;
	return 0;
}

/* Every function of the functab, in address order; each one's end is
 * the next one's entry (the last: the functab's final entry). */
static int read_functab(struct gobin_pcln *p, size_t fsz, char *err,
			size_t errlen)
{
	p->funcs = calloc(p->nfunc, sizeof(*p->funcs));
	p->by_name = calloc(p->nfunc, sizeof(*p->by_name));
	if (!p->funcs || !p->by_name)
		return -ENOMEM;
	for (size_t i = 0; i <= p->nfunc; i++) {
		size_t fo = p->functab + 2 * i * fsz;
		uint64_t entry = fsz == 8 ? gobin_le64(p->tab + fo)
				 : p->text_start + gobin_le32(p->tab + fo);
		int ret;

		if (i > 0) {
			if (entry < p->funcs[i - 1].entry) {
				snprintf(err, errlen, "pclntab: functab not "
					 "sorted at %zu", i);
				return -EINVAL;
			}
			p->funcs[i - 1].end = entry;
		}
		if (i == p->nfunc)
			break;
		ret = read_func(p, i, fsz, entry, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Before go1.18 the functab holds absolute entries and the header no
 * text start: runtime.text's symbol, else moduledata.text, else the
 * first function's entry. */
static void text_start_before_go118(struct gobin *gb, struct gobin_pcln *p)
{
	const struct gobin_sym *sym = gobin__sym_by_name(gb, "runtime.text");
	uint64_t w;

	if (sym && sym->addr) {
		p->text_start = sym->addr;
		p->text_how = "runtime.text symbol";
	} else if ((p->md_addr = find_moduledata(gb, p)) &&
		   img_ptr(gb, p->md_addr +
			   (p->fmt == GOBIN_PCLN_GO12 ? 96 : 176), &w) &&
		   w) {
		p->text_start = w;
		p->text_how = "moduledata.text";
	} else {
		p->text_start = p->funcs[0].entry;
		p->text_how = "first function";
	}
}

static int parse(struct gobin *gb, struct gobin_pcln *p, char *err,
		 size_t errlen)
{
	uint64_t nfunc, w, hdr_text = 0;
	size_t fsz;		/* functab field size */
	int ret;

	ret = parse_header(p, &nfunc, &fsz, &hdr_text, err, errlen);
	if (ret)
		return ret;
	if (is_go118plus(p->fmt)) {
		p->md_addr = find_moduledata(gb, p);
		ret = find_text_start(gb, p, hdr_text, err, errlen);
		if (ret)
			return ret;
		if (p->md_addr &&
		    img_ptr(gb, p->md_addr +
			    (p->fmt == GOBIN_PCLN_GO120 ? 320 : 304), &w))
			p->gofunc = w;
	}
	ret = read_functab(p, fsz, err, errlen);
	if (ret)
		return ret;
	if (!in_text(gb, p->funcs[0].entry)) {
		snprintf(err, errlen, "pclntab: first function %#llx is not "
			 "in an executable segment (text start %#llx from %s)",
			 (unsigned long long)p->funcs[0].entry,
			 (unsigned long long)p->text_start,
			 p->text_how ? p->text_how : "functab");
		return -EINVAL;
	}
	if (!is_go118plus(p->fmt))
		text_start_before_go118(gb, p);
	qsort_r(p->by_name, nfunc, sizeof(*p->by_name), cmp_name_idx, p);
	return 0;
}

int gobin_pcln__load(struct gobin *gb, char *err, size_t errlen)
{
	struct gobin_pcln *p;
	const struct gobin_section *s;
	const struct gobin_sym *sym;
	int ret = -ENOPKG;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;

	s = gobin__section(gb, ".gopclntab");
	if (!s)
		s = gobin__section(gb, ".data.rel.ro.gopclntab");
	if (s && s->data && s->size) {
		ret = try_table(gb, p, s->data, s->addr, s->size, err, errlen);
		if (ret)
			goto fail;
		goto done;
	}
	if (s && s->size && s->type != SHT_NOBITS) {
		snprintf(err, errlen, "pclntab: %s lies outside the file "
			 "(truncated?)", s->name);
		ret = -EINVAL;
		goto fail;
	}

	sym = gobin__sym_by_name(gb, "runtime.pclntab");
	if (sym && sym->addr) {
		const struct gobin_sym *end =
			gobin__sym_by_name(gb, "runtime.epclntab");
		const uint8_t *b;
		size_t len;

		b = segment_rest(gb, sym->addr, &len);
		if (b && end && end->addr > sym->addr &&
		    end->addr - sym->addr <= len)
			len = end->addr - sym->addr;
		if (b) {
			ret = try_table(gb, p, b, sym->addr, len, err, errlen);
			if (ret)
				goto fail;
			goto done;
		}
	}

	ret = scan_segments(gb, p);
	if (ret) {
		snprintf(err, errlen, "no Go pclntab (no .gopclntab section, "
			 "no runtime.pclntab symbol, no table header in the "
			 "data segments): not a Go program?");
		goto fail;
	}
done:
	gb->pcln = p;
	return 0;
fail:
	free(p);
	return ret;
}

void gobin_pcln__free(struct gobin *gb)
{
	if (!gb->pcln)
		return;
	free(gb->pcln->funcs);
	free(gb->pcln->by_name);
	free(gb->pcln);
	gb->pcln = NULL;
}

/* ------------------------------------------------------------- queries */

enum gobin_pcln_format gobin__pcln_format(const struct gobin *gb)
{
	return gb->pcln ? gb->pcln->fmt : 0;
}

const char *gobin__pcln_format_name(enum gobin_pcln_format fmt)
{
	switch (fmt) {
	case GOBIN_PCLN_GO12:
		return "go1.2";
	case GOBIN_PCLN_GO116:
		return "go1.16";
	case GOBIN_PCLN_GO118:
		return "go1.18";
	case GOBIN_PCLN_GO120:
		return "go1.20";
	}
	return "unknown";
}

uint64_t gobin__pcln_addr(const struct gobin *gb)
{
	return gb->pcln ? gb->pcln->addr : 0;
}

uint64_t gobin__text_start(const struct gobin *gb)
{
	return gb->pcln ? gb->pcln->text_start : 0;
}

size_t gobin__func_cnt(const struct gobin *gb)
{
	return gb->pcln ? gb->pcln->nfunc : 0;
}

const struct gobin_func *gobin__func(const struct gobin *gb, size_t i)
{
	if (!gb->pcln || i >= gb->pcln->nfunc)
		return NULL;
	return &gb->pcln->funcs[i];
}

const struct gobin_func *gobin__func_at(const struct gobin *gb, uint64_t pc)
{
	const struct gobin_pcln *p = gb->pcln;
	size_t lo = 0, hi;

	if (!p || !p->nfunc)
		return NULL;
	/* The last function whose entry is <= pc. */
	hi = p->nfunc;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->funcs[mid].entry <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (pc >= p->funcs[lo - 1].end)
		return NULL;
	return &p->funcs[lo - 1];
}

const struct gobin_func *gobin__func_by_name(const struct gobin *gb,
					     const char *name)
{
	const struct gobin_pcln *p = gb->pcln;
	size_t lo = 0, hi;

	if (!p || !name)
		return NULL;
	/* First of equal names in cmp_name_idx() order. */
	hi = p->nfunc;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(p->funcs[p->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nfunc && !strcmp(p->funcs[p->by_name[lo]].name, name))
		return &p->funcs[p->by_name[lo]];
	return NULL;
}
