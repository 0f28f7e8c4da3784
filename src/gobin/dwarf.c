// SPDX-License-Identifier: MIT
/*
 * DWARF layer of gobin (libdw): Go types, function parameters with their
 * locations at entry, and struct member offsets (runtime.g for the layout).
 *
 * DWARF is optional. A binary without it, or with DWARF libdw cannot read,
 * loads with gb->dw == NULL and the queries answer -ENODATA.
 *
 * Go's DWARF, as the go1.13 .. go1.19 linkers write it
 * (src/cmd/internal/dwarf/dwarf.go, src/cmd/link/internal/ld/dwarf.go):
 * - every type DIE carries DW_AT_go_kind (0x2900, reflect.Kind numbering,
 *   masked with KindMask) except synthesized ones: defptrto() builds
 *   pointer DIEs without it and putattrs() then writes 0 for the missing
 *   attribute, so kind 0 means "absent" and we fall back to the tag.
 * - a named struct, slice, pointer, array, func or interface type is the
 *   real DIE followed by a DW_TAG_typedef of the same name pointing at it
 *   (dotypedef()); references go to the typedef, which also closes cycles
 *   such as *T inside T.
 * - map, chan and interface types are DW_TAG_typedefs that do carry
 *   DW_AT_go_kind; maps have DW_AT_go_key/DW_AT_go_elem (0x2901/0x2902),
 *   chans DW_AT_go_elem, and their DW_AT_type is the runtime's
 *   representation (*hash<K,V>, *hchan<T>, runtime.eface/iface).
 * - slices and strings are DW_TAG_structure_types (array/len/cap,
 *   str/len) with go_kind SLICE/STRING; slices have DW_AT_go_elem.
 * - parameters are DW_TAG_formal_parameter children of the subprogram,
 *   in declaration order, results after parameters, results flagged with
 *   DW_AT_variable_parameter (putvar(): IsReturnValue); go1.13 lists them
 *   after the function's local variables. DW_AT_frame_base is always
 *   DW_OP_call_frame_cfa.
 *
 * Queries build their indexes and caches on first use (a gobin object is
 * not meant to be queried from several threads at once).
 *
 * This file opens the DWARF (with a private copy of compressed sections),
 * owns the arena and builds the name index; dwarf_types.c builds the type
 * graph and dwarf_loc.c decodes parameter locations. dwarf_int.h holds
 * what they share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "dwarf_int.h"

/* ------------------------------------------------------------- arena */

void *dw_arena_zalloc(struct gobin_dwarf *d, size_t size)
{
	struct arena_blk *b = d->arena;
	size_t align = sizeof(max_align_t);
	void *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	if (!b || b->cap - b->used < size) {
		size_t cap = size > 64 * 1024 ? size : 64 * 1024;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = d->arena;
		b->used = 0;
		b->cap = cap;
		d->arena = b;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

void *dw_arena_array(struct gobin_dwarf *d, size_t n, size_t elem)
{
	if (n && elem > SIZE_MAX / 2 / n)
		return NULL;
	return dw_arena_zalloc(d, n ? n * elem : 1);
}

/* ------------------------------------------------------- opening DWARF */

/* The DWARF sections the queries here read (types, functions, locations);
 * line tables, call frames and pubnames are left compressed. */
static bool is_needed_dwarf_section(const char *name)
{
	static const char *const needed[] = {
		"info", "abbrev", "str", "str_offsets", "line_str", "loc",
		"loclists", "ranges", "rnglists", "addr", "types",
	};
	const char *base;

	if (!strncmp(name, ".debug_", 7))
		base = name + 7;
	else if (!strncmp(name, ".zdebug_", 8))
		base = name + 8;
	else
		return false;
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!strcmp(base, needed[i]))
			return true;
	return false;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Is a compressed section's claimed inflated size believable? libelf
 * mallocs whatever the header says before inflating; a corrupted header
 * must not make it allocate gigabytes. zlib's best ratio is about 1032:1.
 */
static bool sane_inflated_size(uint64_t inflated, uint64_t compressed)
{
	if (inflated > (1ULL << 31))
		return false;
	return inflated <= 4096 || (inflated - 4096) / 1100 <= compressed;
}

/* Can libelf inflate this section, and does its header look sane? */
static bool compressed_ok(const struct gobin *gb, const struct gobin_section *s)
{
	const uint8_t *p = gb->img + s->offset;

	if (s->flags & SHF_COMPRESSED) {
		/* Elf64_Chdr: ch_type, ch_reserved, ch_size, ch_addralign */
		if (s->size < sizeof(Elf64_Chdr) ||
		    gobin_le32(p) != ELFCOMPRESS_ZLIB)
			return false;
		return sane_inflated_size(gobin_le64(p + 8), s->size);
	}
	/* GNU .zdebug_*: "ZLIB", 8-byte big-endian size, zlib stream. */
	if (s->size < 12 || memcmp(p, "ZLIB", 4))
		return false;
	return sane_inflated_size(be64(p + 4), s->size);
}

/*
 * libdw inflates compressed DWARF itself (libdw/dwarf_begin_elf.c,
 * check_section(): elf_compress_gnu() for .zdebug_*, elf_compress() for
 * SHF_COMPRESSED; elfutils 0.188 does both). But libelf then rewrites the
 * section header in place, and gb->elf was made by elf_memory() over the
 * image, which gobin__open() maps read-only (and gobin__open_mem() got as
 * const): dwarf_begin_elf(gb->elf) crashes in elf_compress_gnu() there
 * (seen on esbuild-0.0.9-go1.13.8 and on a go1.19 build). So when any
 * DWARF section is compressed we copy just the DWARF sections we need,
 * still compressed, into a small ELF image of our own, writable, and let
 * libdw inflate them in that one (it inflates all at dwarf_begin_elf(), so
 * leaving out .debug_line/.debug_frame saves time too). Uncompressed DWARF
 * is read from gb->elf in place.
 */
static int build_own_elf(struct gobin *gb, struct gobin_dwarf *d)
{
	size_t n = 0, strsz = 1, datasz = 0, shoff, total, pos, stroff;
	size_t k, name_pos;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	uint8_t *img;

	for (size_t i = 0; i < gb->sec_cnt; i++) {
		const struct gobin_section *s = &gb->secs[i];

		if (!s->name || !is_needed_dwarf_section(s->name) ||
		    s->type == SHT_NOBITS || s->offset > gb->img_len ||
		    s->size > gb->img_len - s->offset || s->size > SIZE_MAX / 4)
			continue;
		n++;
		strsz += strlen(s->name) + 1;
		datasz += (s->size + 7) & ~(size_t)7;
		/* sections that overlap, or more than any Go binary has */
		if (datasz > gb->img_len + 8 * gb->sec_cnt || n > 1000)
			return -EINVAL;
	}
	if (!n)
		return -ENODATA;
	strsz += sizeof(".shstrtab");
	stroff = sizeof(Elf64_Ehdr) + datasz;
	shoff = (stroff + strsz + 7) & ~(size_t)7;
	total = shoff + (n + 2) * sizeof(Elf64_Shdr);
	img = calloc(1, total);
	if (!img)
		return -ENOMEM;

	eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_shoff = shoff;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = (Elf64_Half)(n + 2);
	eh->e_shstrndx = (Elf64_Half)(n + 1);
	sh = (Elf64_Shdr *)(img + shoff);

	pos = sizeof(Elf64_Ehdr);
	k = 1;
	name_pos = 1;
	for (size_t i = 0; i < gb->sec_cnt && k <= n; i++) {
		const struct gobin_section *s = &gb->secs[i];
		bool compressed;
		size_t len;

		if (!s->name || !is_needed_dwarf_section(s->name) ||
		    s->type == SHT_NOBITS || s->offset > gb->img_len ||
		    s->size > gb->img_len - s->offset || s->size > SIZE_MAX / 4)
			continue;
		compressed = (s->flags & SHF_COMPRESSED) ||
			     !strncmp(s->name, ".zdebug_", 8);
		len = strlen(s->name) + 1;
		memcpy(img + stroff + name_pos, s->name, len);
		sh[k].sh_name = (Elf64_Word)name_pos;
		name_pos += len;
		if (compressed && !compressed_ok(gb, s)) {
			/* keep the name, drop the contents: libdw skips it */
			sh[k].sh_type = SHT_NOBITS;
			k++;
			continue;
		}
		memcpy(img + pos, gb->img + s->offset, s->size);
		sh[k].sh_type = SHT_PROGBITS;
		sh[k].sh_flags = s->flags & SHF_COMPRESSED;
		sh[k].sh_offset = pos;
		sh[k].sh_size = s->size;
		sh[k].sh_addralign = (s->flags & SHF_COMPRESSED) ? 8 : 1;
		pos += (s->size + 7) & ~(size_t)7;
		k++;
	}
	memcpy(img + stroff + name_pos, ".shstrtab", sizeof(".shstrtab"));
	sh[n + 1].sh_name = (Elf64_Word)name_pos;
	sh[n + 1].sh_type = SHT_STRTAB;
	sh[n + 1].sh_offset = stroff;
	sh[n + 1].sh_size = strsz;
	sh[n + 1].sh_addralign = 1;

	d->own_elf = elf_memory((char *)img, total);
	if (!d->own_elf) {
		free(img);
		return -EINVAL;
	}
	d->own_img = img;
	return 0;
}

static bool any_compressed_dwarf(const struct gobin *gb)
{
	for (size_t i = 0; i < gb->sec_cnt; i++) {
		const struct gobin_section *s = &gb->secs[i];

		if (s->name && is_needed_dwarf_section(s->name) &&
		    ((s->flags & SHF_COMPRESSED) ||
		     !strncmp(s->name, ".zdebug_", 8)))
			return true;
	}
	return false;
}

static void dwarf_state_free(struct gobin_dwarf *d)
{
	struct arena_blk *b, *next;

	if (!d)
		return;
	if (d->dbg)
		dwarf_end(d->dbg);
	if (d->own_elf)
		elf_end(d->own_elf);
	free(d->own_img);
	free(d->funcs);
	free(d->by_pc);
	free(d->types);
	free(d->slots);
	free(d->pending);
	for (b = d->arena; b; b = next) {
		next = b->next;
		free(b);
	}
	free(d);
}

/*
 * Does a sane unit start at off? dwarf_next_unit() alone accepts garbage
 * (a .debug_info of 0xff bytes gives "version 65535"), so also check the
 * version and that the unit DIE itself can be read.
 */
static bool unit_ok(Dwarf *dbg, Dwarf_Off off, Dwarf_Off *next)
{
	Dwarf_Half version = 0;
	size_t hsize;
	Dwarf_Die cu;
	int tag;

	if (dwarf_next_unit(dbg, off, next, &hsize, &version, NULL, NULL, NULL,
			    NULL, NULL) != 0 ||
	    *next <= off || version < 2 || version > 5 ||
	    !dwarf_offdie(dbg, off + hsize, &cu))
		return false;
	tag = dwarf_tag(&cu);
	return tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit;
}

int gobin_dwarf__load(struct gobin *gb, char *err, size_t errlen)
{
	struct gobin_dwarf *d;
	Dwarf_Off next;
	Elf *elf;

	(void)err;
	(void)errlen;
	gb->dw = NULL;
	if (!gobin__section(gb, ".debug_info") &&
	    !gobin__section(gb, ".zdebug_info"))
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	elf = gb->elf;
	if (any_compressed_dwarf(gb)) {
		int ret = build_own_elf(gb, d);

		if (ret == -ENOMEM) {
			dwarf_state_free(d);
			return ret;
		}
		if (ret) {
			dwarf_state_free(d);	/* unusable: as if absent */
			return 0;
		}
		elf = d->own_elf;
	}
	if (!elf) {
		dwarf_state_free(d);
		return 0;
	}
	d->dbg = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	/* Broken DWARF is treated as absent: the rest of gobin works
	 * without it, and layout falls back to its table. */
	if (!d->dbg || !unit_ok(d->dbg, 0, &next)) {
		dwarf_state_free(d);
		return 0;
	}
	gb->dw = d;
	return 0;
}

void gobin_dwarf__free(struct gobin *gb)
{
	dwarf_state_free(gb->dw);
	gb->dw = NULL;
}

/*
 * Step to the next sibling: 0, or nonzero at the end or on error. Go never
 * writes DW_AT_sibling, but crafted DWARF could point one backwards; only
 * forward steps are taken so that every walk ends.
 */
int dw_next_sibling(Dwarf_Die *die)
{
	Dwarf_Off here = dwarf_dieoffset(die);
	Dwarf_Die next;

	if (dwarf_siblingof(die, &next) != 0 || dwarf_dieoffset(&next) <= here)
		return 1;
	*die = next;
	return 0;
}

/* --------------------------------------------------------------- index */

static bool is_type_tag(int tag)
{
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_pointer_type:
	case DW_TAG_structure_type:
	case DW_TAG_array_type:
	case DW_TAG_typedef:
	case DW_TAG_subroutine_type:
	case DW_TAG_unspecified_type:
		return true;
	}
	return false;
}

const char *dw_die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	/* integrate: a concrete instance's name is on its abstract origin */
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
}

static int cmp_func_pc(const void *a, const void *b)
{
	const struct dw_func *x = *(struct dw_func *const *)a;
	const struct dw_func *y = *(struct dw_func *const *)b;

	return x->low_pc < y->low_pc ? -1 : x->low_pc > y->low_pc;
}

static int cmp_func(const void *a, const void *b)
{
	const struct dw_func *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->go != y->go)
		return x->go ? -1 : 1;		/* Go before C */
	if (x->has_pc != y->has_pc)
		return x->has_pc ? -1 : 1;	/* the one with code first */
	return x->off < y->off ? -1 : x->off > y->off;
}

static int cmp_named_type(const void *a, const void *b)
{
	const struct dw_named_type *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->go != y->go)
		return x->go ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

int dw_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 1024;
	if (ncap < need)
		ncap = need;
	if (ncap > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/*
 * One pass over the top-level DIEs of every unit: functions and named
 * types by name. Stops quietly at the first unreadable unit or DIE, so
 * corrupted DWARF gives a partial index, never an error.
 */
int dw_build_index(struct gobin_dwarf *d)
{
	size_t func_cap = 0, type_cap = 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	int ret = 0;

	if (d->indexed)
		return 0;
	while (unit_ok(d->dbg, off, &next) &&
	       dwarf_next_unit(d->dbg, off, &next, &hsize, NULL, NULL, NULL,
			       NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		bool go;

		if (!dwarf_offdie(d->dbg, off + hsize, &cu))
			break;
		off = next;
		go = dwarf_srclang(&cu) == DW_LANG_Go;
		if (dwarf_child(&cu, &die) != 0)
			continue;
		do {
			int tag = dwarf_tag(&die);
			const char *name;

			if (tag != DW_TAG_subprogram && !is_type_tag(tag))
				continue;
			name = dw_die_name(&die);
			if (!name || !*name)
				continue;
			if (tag == DW_TAG_subprogram) {
				struct dw_func *f;

				ret = dw_grow((void **)&d->funcs, &func_cap,
					      d->func_cnt + 1,
					      sizeof(*d->funcs));
				if (ret)
					goto out;
				f = &d->funcs[d->func_cnt++];
				memset(f, 0, sizeof(*f));
				f->name = name;
				f->go = go;
				f->off = dwarf_dieoffset(&die);
				f->has_pc = dwarf_hasattr(&die, DW_AT_low_pc);
				if (f->has_pc) {
					Dwarf_Addr lo;

					f->has_pc = dwarf_lowpc(&die, &lo) == 0;
					f->low_pc = f->has_pc ? lo : 0;
				}
			} else {
				struct dw_named_type *t;

				ret = dw_grow((void **)&d->types, &type_cap,
					      d->type_cnt + 1,
					      sizeof(*d->types));
				if (ret)
					goto out;
				t = &d->types[d->type_cnt++];
				t->name = name;
				t->go = go;
				t->off = dwarf_dieoffset(&die);
			}
		} while (dw_next_sibling(&die) == 0);
	}
out:
	if (ret) {
		/* out of memory: start over on the next query */
		free(d->funcs);
		free(d->types);
		d->funcs = NULL;
		d->types = NULL;
		d->func_cnt = d->type_cnt = 0;
		return ret;
	}
	if (d->funcs)
		qsort(d->funcs, d->func_cnt, sizeof(*d->funcs), cmp_func);
	/* after the sort: pointers into funcs */
	d->by_pc = calloc(d->func_cnt ? d->func_cnt : 1, sizeof(*d->by_pc));
	if (d->by_pc) {
		for (size_t i = 0; i < d->func_cnt; i++)
			if (d->funcs[i].has_pc && d->funcs[i].go)
				d->by_pc[d->by_pc_cnt++] = &d->funcs[i];
		qsort(d->by_pc, d->by_pc_cnt, sizeof(*d->by_pc), cmp_func_pc);
	}
	if (d->types)
		qsort(d->types, d->type_cnt, sizeof(*d->types),
		      cmp_named_type);
	d->indexed = true;
	return 0;
}
