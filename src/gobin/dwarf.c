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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "internal.h"

/* Go's DWARF extensions: src/cmd/internal/dwarf/dwarf.go (go1.13, go1.19). */
#define DW_AT_go_kind		0x2900
#define DW_AT_go_key		0x2901
#define DW_AT_go_elem		0x2902
#define DW_AT_go_embedded_field	0x2903
#define DW_AT_go_runtime_type	0x2904
#define DW_AT_go_dict_index	0x2906	/* generics; in go1.19 */

/* On amd64 the CALL pushes the return address: at a function's first
 * instruction SP points at it, and the CFA (SP before the call; the CIE
 * of Go's .debug_frame says DW_CFA_def_cfa rsp+PtrSize, writeframes() in
 * go1.19 src/cmd/link/internal/ld/dwarf.go) is SP+8. */
#define CFA_MINUS_SP_AT_ENTRY	8

/* Type chains deeper than this (fields of fields of ...) are cut off so
 * that crafted DWARF cannot exhaust the C stack; real Go types nest far
 * less deeply. */
#define MAX_TYPE_DEPTH		200

/* A bump allocator: everything this module hands out lives until
 * gobin__free(), so it is freed in one go. */
struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	max_align_t data[];
};

struct dw_func {
	const char *name;
	Dwarf_Off off;
	bool go;		/* in a Go unit (cgo binaries have C ones) */
	bool has_pc;
	bool params_done;
	int params_err;
	struct gobin_param *params;
	size_t param_cnt;
};

struct dw_named_type {
	const char *name;
	Dwarf_Off off;
	bool go;		/* C's "int" must not shadow Go's */
};

enum dw_inherit {
	INHERIT_NONE,
	INHERIT_ALL,		/* plain typedef: everything but the name */
	INHERIT_LAYOUT,		/* interface typedef: size and fields */
};

struct dw_type {
	struct gobin_type t;	/* what callers see; first member */
	struct dw_type *from;	/* typedef target to inherit from */
	enum dw_inherit inherit;
	bool done;
};

struct type_slot {
	Dwarf_Off off;		/* key + 1; 0 marks an empty slot */
	struct dw_type *type;
};

struct gobin_dwarf {
	Dwarf *dbg;
	Elf *own_elf;		/* our copy of the DWARF sections, or NULL */
	void *own_img;

	bool indexed;
	struct dw_func *funcs;	/* sorted by name, with-code first */
	size_t func_cnt;
	struct dw_named_type *types;	/* sorted by name */
	size_t type_cnt;

	struct type_slot *slots;	/* DIE offset -> type (open addressing) */
	size_t slot_cnt, slot_used;
	int depth;		/* resolve_die() recursion */
	struct dw_type **pending;	/* typedefs waiting for their target */
	size_t pending_cnt, pending_cap;

	struct arena_blk *arena;
};

/* ------------------------------------------------------------- arena */

static void *arena_zalloc(struct gobin_dwarf *d, size_t size)
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

static void *arena_array(struct gobin_dwarf *d, size_t n, size_t elem)
{
	if (n && elem > SIZE_MAX / 2 / n)
		return NULL;
	return arena_zalloc(d, n ? n * elem : 1);
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
static int next_sibling(Dwarf_Die *die)
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

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	/* integrate: a concrete instance's name is on its abstract origin */
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
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

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
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
static int build_index(struct gobin_dwarf *d)
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
			name = die_name(&die);
			if (!name || !*name)
				continue;
			if (tag == DW_TAG_subprogram) {
				struct dw_func *f;

				ret = grow((void **)&d->funcs, &func_cap,
					   d->func_cnt + 1, sizeof(*d->funcs));
				if (ret)
					goto out;
				f = &d->funcs[d->func_cnt++];
				memset(f, 0, sizeof(*f));
				f->name = name;
				f->go = go;
				f->off = dwarf_dieoffset(&die);
				f->has_pc = dwarf_hasattr(&die, DW_AT_low_pc);
			} else {
				struct dw_named_type *t;

				ret = grow((void **)&d->types, &type_cap,
					   d->type_cnt + 1, sizeof(*d->types));
				if (ret)
					goto out;
				t = &d->types[d->type_cnt++];
				t->name = name;
				t->go = go;
				t->off = dwarf_dieoffset(&die);
			}
		} while (next_sibling(&die) == 0);
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
	if (d->types)
		qsort(d->types, d->type_cnt, sizeof(*d->types),
		      cmp_named_type);
	d->indexed = true;
	return 0;
}

/* First entry named name in a sorted array, or NULL. */
#define FIND_BY_NAME(arr, cnt, key)                                         \
	({                                                                  \
		size_t lo_ = 0, hi_ = (cnt);                                \
		while (lo_ < hi_) {                                         \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                \
			if (strcmp((arr)[mid_].name, (key)) < 0)            \
				lo_ = mid_ + 1;                             \
			else                                                \
				hi_ = mid_;                                 \
		}                                                           \
		lo_ < (cnt) && !strcmp((arr)[lo_].name, (key)) ? &(arr)[lo_] \
							       : NULL;      \
	})

/* --------------------------------------------------------------- types */

const char *gobin__kind_name(enum gobin_kind k)
{
	/* reflect.Kind.String() spellings */
	static const char *const names[] = {
		[GOBIN_K_INVALID] = "invalid",
		[GOBIN_K_BOOL] = "bool",
		[GOBIN_K_INT] = "int",
		[GOBIN_K_INT8] = "int8",
		[GOBIN_K_INT16] = "int16",
		[GOBIN_K_INT32] = "int32",
		[GOBIN_K_INT64] = "int64",
		[GOBIN_K_UINT] = "uint",
		[GOBIN_K_UINT8] = "uint8",
		[GOBIN_K_UINT16] = "uint16",
		[GOBIN_K_UINT32] = "uint32",
		[GOBIN_K_UINT64] = "uint64",
		[GOBIN_K_UINTPTR] = "uintptr",
		[GOBIN_K_FLOAT32] = "float32",
		[GOBIN_K_FLOAT64] = "float64",
		[GOBIN_K_COMPLEX64] = "complex64",
		[GOBIN_K_COMPLEX128] = "complex128",
		[GOBIN_K_ARRAY] = "array",
		[GOBIN_K_CHAN] = "chan",
		[GOBIN_K_FUNC] = "func",
		[GOBIN_K_INTERFACE] = "interface",
		[GOBIN_K_MAP] = "map",
		[GOBIN_K_PTR] = "ptr",
		[GOBIN_K_SLICE] = "slice",
		[GOBIN_K_STRING] = "string",
		[GOBIN_K_STRUCT] = "struct",
		[GOBIN_K_UNSAFEPTR] = "unsafe.Pointer",
	};

	if ((unsigned)k < sizeof(names) / sizeof(names[0]) && names[k])
		return names[k];
	return "invalid";
}

static bool attr_udata(Dwarf_Die *die, unsigned name, Dwarf_Word *v)
{
	Dwarf_Attribute a;

	return dwarf_attr(die, name, &a) && dwarf_formudata(&a, v) == 0;
}

/* DW_AT_go_kind if present and meaningful (0 is what the linker writes
 * for DIEs it gave no kind), else 0. */
static enum gobin_kind go_kind(Dwarf_Die *die)
{
	Dwarf_Word k;

	if (!attr_udata(die, DW_AT_go_kind, &k) || k > GOBIN_K_UNSAFEPTR)
		return GOBIN_K_INVALID;
	return (enum gobin_kind)k;
}

/* Kind of a base type without DW_AT_go_kind, from encoding and size. */
static enum gobin_kind base_kind(Dwarf_Die *die, const char *name,
				 Dwarf_Word size)
{
	Dwarf_Word enc;

	if (!attr_udata(die, DW_AT_encoding, &enc))
		return GOBIN_K_INVALID;
	switch (enc) {
	case DW_ATE_boolean:
		return GOBIN_K_BOOL;
	case DW_ATE_signed:
	case DW_ATE_signed_char:
		if (!strcmp(name, "int") && size == 8)	/* not C's int */
			return GOBIN_K_INT;
		return size == 1 ? GOBIN_K_INT8 : size == 2 ? GOBIN_K_INT16 :
		       size == 4 ? GOBIN_K_INT32 : size == 8 ? GOBIN_K_INT64 :
		       GOBIN_K_INVALID;
	case DW_ATE_unsigned:
	case DW_ATE_unsigned_char:
		if (!strcmp(name, "uint") && size == 8)
			return GOBIN_K_UINT;
		if (!strcmp(name, "uintptr"))
			return GOBIN_K_UINTPTR;
		return size == 1 ? GOBIN_K_UINT8 : size == 2 ? GOBIN_K_UINT16 :
		       size == 4 ? GOBIN_K_UINT32 : size == 8 ? GOBIN_K_UINT64 :
		       GOBIN_K_INVALID;
	case DW_ATE_float:
		return size == 4 ? GOBIN_K_FLOAT32 : size == 8 ? GOBIN_K_FLOAT64 :
		       GOBIN_K_INVALID;
	case DW_ATE_complex_float:
		return size == 8 ? GOBIN_K_COMPLEX64 :
		       size == 16 ? GOBIN_K_COMPLEX128 : GOBIN_K_INVALID;
	}
	return GOBIN_K_INVALID;
}

static struct type_slot *slot_find(struct gobin_dwarf *d, Dwarf_Off off)
{
	size_t mask = d->slot_cnt - 1;
	size_t i = (size_t)((off * 0x9e3779b97f4a7c15ULL) >> 17) & mask;

	while (d->slots[i].off && d->slots[i].off != off + 1)
		i = (i + 1) & mask;
	return &d->slots[i];
}

static struct dw_type *cache_get(struct gobin_dwarf *d, Dwarf_Off off)
{
	if (!d->slot_cnt)
		return NULL;
	return slot_find(d, off)->type;
}

static int cache_put(struct gobin_dwarf *d, Dwarf_Off off, struct dw_type *t)
{
	struct type_slot *s;

	if ((d->slot_used + 1) * 2 > d->slot_cnt) {
		struct type_slot *old = d->slots;
		size_t old_cnt = d->slot_cnt;
		size_t cnt = old_cnt ? old_cnt * 2 : 1024;

		if (cnt > SIZE_MAX / sizeof(*old))
			return -ENOMEM;
		d->slots = calloc(cnt, sizeof(*d->slots));
		if (!d->slots) {
			d->slots = old;
			return -ENOMEM;
		}
		d->slot_cnt = cnt;
		for (size_t i = 0; i < old_cnt; i++)
			if (old[i].off)
				*slot_find(d, old[i].off - 1) = old[i];
		free(old);
	}
	s = slot_find(d, off);
	s->off = off + 1;
	s->type = t;
	d->slot_used++;
	return 0;
}

static struct dw_type *resolve_die(struct gobin_dwarf *d, Dwarf_Die *die);

/* The type an attribute (DW_AT_type, go_key, go_elem) refers to. */
static struct dw_type *resolve_ref(struct gobin_dwarf *d, Dwarf_Die *die,
				   unsigned attr_name)
{
	Dwarf_Attribute a;
	Dwarf_Die ref;

	if (!dwarf_attr_integrate(die, attr_name, &a) ||
	    !dwarf_formref_die(&a, &ref))
		return NULL;
	return resolve_die(d, &ref);
}

static void inherit_from(struct dw_type *t)
{
	const struct gobin_type *src = &t->from->t;

	if (t->inherit == INHERIT_ALL) {
		const char *name = t->t.name;

		t->t = *src;
		if (name && *name)
			t->t.name = name;
	} else {
		t->t.size = src->size;
		t->t.fields = src->fields;
		t->t.field_cnt = src->field_cnt;
	}
}

/* t inherits from target once target is complete: now, or when the
 * outermost resolve_die() returns (target is then on its way up). */
static int inherit_later(struct gobin_dwarf *d, struct dw_type *t,
			 struct dw_type *target, enum dw_inherit how)
{
	if (!target)
		return 0;
	t->from = target;
	t->inherit = how;
	if (target->done) {
		inherit_from(t);
		return 0;
	}
	if (grow((void **)&d->pending, &d->pending_cap, d->pending_cnt + 1,
		 sizeof(*d->pending)))
		return -ENOMEM;
	d->pending[d->pending_cnt++] = t;
	return 1;
}

static void finish_pending(struct gobin_dwarf *d)
{
	bool progress = true;

	/* Typedefs of typedefs resolve over several rounds; a cycle of
	 * typedefs (only in broken DWARF) never does and stays INVALID. */
	while (progress) {
		progress = false;
		for (size_t i = 0; i < d->pending_cnt; i++) {
			struct dw_type *t = d->pending[i];

			if (t->done || !t->from->done)
				continue;
			inherit_from(t);
			t->done = true;
			progress = true;
		}
	}
	for (size_t i = 0; i < d->pending_cnt; i++)
		d->pending[i]->done = true;
	d->pending_cnt = 0;
}

static const struct gobin_type *as_type(struct dw_type *t)
{
	return t ? &t->t : NULL;
}

static int fill_fields(struct gobin_dwarf *d, struct dw_type *t,
		       Dwarf_Die *die)
{
	struct gobin_field *fields;
	Dwarf_Die child;
	size_t n = 0, i = 0;

	if (dwarf_child(die, &child) == 0) {
		do {
			if (dwarf_tag(&child) == DW_TAG_member)
				n++;
		} while (next_sibling(&child) == 0);
	}
	if (!n)
		return 0;
	fields = arena_array(d, n, sizeof(*fields));
	if (!fields)
		return -ENOMEM;
	if (dwarf_child(die, &child) != 0)
		return 0;
	do {
		struct gobin_field *f;
		Dwarf_Attribute a;
		Dwarf_Word v;
		bool flag;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		if (i >= n)
			break;
		f = &fields[i++];
		f->name = die_name(&child);
		if (!f->name)
			f->name = "";
		if (dwarf_attr(&child, DW_AT_data_member_location, &a)) {
			Dwarf_Op *ops;
			size_t nops;

			if (dwarf_formudata(&a, &v) == 0) {
				f->offset = v;
			} else if (dwarf_getlocation(&a, &ops, &nops) == 0 &&
				   nops == 1 &&
				   ops[0].atom == DW_OP_plus_uconst) {
				/* DWARF 2 style: DW_OP_plus_uconst N */
				f->offset = ops[0].number;
			}
		}
		if (dwarf_attr(&child, DW_AT_go_embedded_field, &a))
			f->embedded = dwarf_formflag(&a, &flag) == 0 && flag;
		f->type = as_type(resolve_ref(d, &child, DW_AT_type));
	} while (next_sibling(&child) == 0);
	t->t.fields = fields;
	t->t.field_cnt = i;
	return 0;
}

static uint64_t array_count(Dwarf_Die *die)
{
	Dwarf_Die child;
	Dwarf_Word v;

	if (dwarf_child(die, &child) != 0)
		return 0;
	do {
		if (dwarf_tag(&child) != DW_TAG_subrange_type)
			continue;
		if (attr_udata(&child, DW_AT_count, &v))
			return v;
		if (attr_udata(&child, DW_AT_upper_bound, &v) &&
		    v < UINT64_MAX)
			return v + 1;
		return 0;
	} while (next_sibling(&child) == 0);
	return 0;
}

/* Fill t from die; recursion through resolve_ref() is bounded by the cache
 * (each DIE once) and by MAX_TYPE_DEPTH. Returns 0, 1 when a typedef is
 * left for finish_pending() to complete, or -ENOMEM. */
static int fill_type(struct gobin_dwarf *d, struct dw_type *t, Dwarf_Die *die)
{
	enum gobin_kind gk = go_kind(die);
	int tag = dwarf_tag(die);
	Dwarf_Word size = 0;
	bool has_size;
	const char *name = die_name(die);
	int ret = 0;

	t->t.name = name ? name : "";
	has_size = attr_udata(die, DW_AT_byte_size, &size);
	t->t.size = has_size ? size : 0;

	switch (tag) {
	case DW_TAG_base_type:
		t->t.kind = gk ? gk : base_kind(die, t->t.name, size);
		break;
	case DW_TAG_unspecified_type:
		t->t.kind = GOBIN_K_INVALID;
		break;
	case DW_TAG_pointer_type:
		/* "unsafe.Pointer" is a pointer DIE without DW_AT_type */
		t->t.elem = as_type(resolve_ref(d, die, DW_AT_type));
		t->t.kind = gk ? gk : dwarf_hasattr(die, DW_AT_type) ?
			    GOBIN_K_PTR : GOBIN_K_UNSAFEPTR;
		if (!has_size)
			t->t.size = 8;
		break;
	case DW_TAG_subroutine_type:
		t->t.kind = gk ? gk : GOBIN_K_FUNC;
		if (!has_size)
			t->t.size = 8;
		break;
	case DW_TAG_array_type:
		t->t.kind = gk ? gk : GOBIN_K_ARRAY;
		t->t.count = array_count(die);
		t->t.elem = as_type(resolve_ref(d, die, DW_AT_type));
		break;
	case DW_TAG_structure_type:
		if (gk)
			t->t.kind = gk;
		else if (!strncmp(t->t.name, "[]", 2))
			t->t.kind = GOBIN_K_SLICE;
		else if (!strcmp(t->t.name, "string"))
			t->t.kind = GOBIN_K_STRING;
		else
			t->t.kind = GOBIN_K_STRUCT;
		ret = fill_fields(d, t, die);
		if (!ret && t->t.kind == GOBIN_K_SLICE) {
			t->t.elem = as_type(resolve_ref(d, die, DW_AT_go_elem));
			/* no go_elem: the element of the "array" pointer */
			if (!t->t.elem && t->t.field_cnt && t->t.fields[0].type)
				t->t.elem = t->t.fields[0].type->elem;
		}
		break;
	case DW_TAG_typedef:
		if (gk == GOBIN_K_MAP || gk == GOBIN_K_CHAN) {
			/* DW_AT_type is the runtime's *hash<K,V> / *hchan<T> */
			t->t.kind = gk;
			t->t.size = 8;
			if (gk == GOBIN_K_MAP)
				t->t.key = as_type(resolve_ref(d, die,
							       DW_AT_go_key));
			t->t.elem = as_type(resolve_ref(d, die, DW_AT_go_elem));
			break;
		}
		if (gk) {
			/* interface: the layout of runtime.eface/iface */
			t->t.kind = gk;
			ret = inherit_later(d, t, resolve_ref(d, die, DW_AT_type),
					    INHERIT_LAYOUT);
		} else {
			/* A generic function's ".param2"-style typedef
			 * (DW_AT_go_dict_index) names a dictionary
			 * slot, not a type: go by its shape type's name. */
			if (dwarf_hasattr(die, DW_AT_go_dict_index))
				t->t.name = "";
			ret = inherit_later(d, t, resolve_ref(d, die, DW_AT_type),
					    INHERIT_ALL);
		}
		if (ret > 0)
			return 1;	/* completed by finish_pending() */
		break;
	default:
		t->t.kind = GOBIN_K_INVALID;
		break;
	}
	return ret;
}

static struct dw_type *resolve_die(struct gobin_dwarf *d, Dwarf_Die *die)
{
	Dwarf_Off off = dwarf_dieoffset(die);
	struct dw_type *t;
	int ret;

	if (off == (Dwarf_Off)-1)
		return NULL;
	t = cache_get(d, off);
	if (t)
		return t;
	if (d->depth >= MAX_TYPE_DEPTH)
		return NULL;
	t = arena_zalloc(d, sizeof(*t));
	if (!t || cache_put(d, off, t))
		return NULL;
	d->depth++;
	ret = fill_type(d, t, die);
	d->depth--;
	if (ret <= 0)
		t->done = true;
	if (d->depth == 0 && d->pending_cnt)
		finish_pending(d);
	return t;
}

static const struct gobin_type *type_by_name(struct gobin_dwarf *d,
					     const char *name)
{
	const struct dw_named_type *nt;
	Dwarf_Die die;

	if (build_index(d))
		return NULL;
	nt = FIND_BY_NAME(d->types, d->type_cnt, name);
	if (!nt || !dwarf_offdie(d->dbg, nt->off, &die))
		return NULL;
	return as_type(resolve_die(d, &die));
}

int gobin__dwarf_member_offset(const struct gobin *gb, const char *tname,
			       const char *member, uint64_t *off)
{
	const struct gobin_type *t;
	const char *p = member;
	uint64_t sum = 0;

	if (!gb->dw)
		return -ENODATA;
	t = type_by_name(gb->dw, tname);
	if (!t)
		return -ENOENT;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		const struct gobin_field *f = NULL;

		if (!t || !len)
			return -ENOENT;	/* "a..b", ".a" */
		for (size_t i = 0; i < t->field_cnt; i++) {
			const char *fn = t->fields[i].name;

			if (fn && strlen(fn) == len && !memcmp(fn, p, len)) {
				f = &t->fields[i];
				break;
			}
		}
		if (!f || __builtin_add_overflow(sum, f->offset, &sum))
			return -ENOENT;
		t = f->type;
		p += len;
		if (*p == '.' && !*++p)
			return -ENOENT;	/* "a." */
	}
	if (p == member)
		return -ENOENT;	/* empty member path */
	*off = sum;
	return 0;
}

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
	p->pieces = arena_array(d, cnt, sizeof(tmp[0]));
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
	} while (next_sibling(&child) == 0);
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
		} while (next_sibling(&child) == 0);
	}
	f->params = arena_array(d, n, sizeof(*f->params));
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
		p->name = die_name(&child);
		if (!p->name || !*p->name) {
			char buf[32];
			char *s;

			snprintf(buf, sizeof(buf), "~%c%d",
				 p->is_result ? 'r' : 'p',
				 p->is_result ? nres : npar);
			s = arena_zalloc(d, strlen(buf) + 1);
			if (!s)
				return -ENOMEM;
			strcpy(s, buf);
			p->name = s;
		}
		if (p->is_result)
			nres++;
		else
			npar++;
		p->type = as_type(resolve_ref(d, &child, DW_AT_type));
		if (concrete)
			ld = find_concrete(&fn, dwarf_dieoffset(&child),
					   &loc_die) ? &loc_die : NULL;
		ret = param_location(d, &ev, ld, have_pc, pc, p);
		if (ret)
			return ret;
	} while (next_sibling(&child) == 0);
	f->param_cnt = i;
	return 0;
}

int gobin__func_params(const struct gobin *gb, const char *func,
		       const struct gobin_param **params, size_t *cnt)
{
	struct gobin_dwarf *d = gb->dw;
	struct dw_func *f;
	int ret;

	if (!d)
		return -ENODATA;
	ret = build_index(d);
	if (ret)
		return ret;
	f = FIND_BY_NAME(d->funcs, d->func_cnt, func);
	if (!f)
		return -ENOENT;
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
