// SPDX-License-Identifier: MIT
/*
 * DWARF layer of gobin: the type graph. Go type DIEs (see dwarf.c for how
 * the Go linkers write them) become struct gobin_type, cached by DIE
 * offset; struct member offsets for the layout module.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "dwarf_int.h"

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
struct dw_type *dw_resolve_ref(struct gobin_dwarf *d, Dwarf_Die *die,
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
	if (dw_grow((void **)&d->pending, &d->pending_cap, d->pending_cnt + 1,
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

const struct gobin_type *dw_as_type(struct dw_type *t)
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
		} while (dw_next_sibling(&child) == 0);
	}
	if (!n)
		return 0;
	fields = dw_arena_array(d, n, sizeof(*fields));
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
		f->name = dw_die_name(&child);
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
		f->type = dw_as_type(dw_resolve_ref(d, &child, DW_AT_type));
	} while (dw_next_sibling(&child) == 0);
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
	} while (dw_next_sibling(&child) == 0);
	return 0;
}

/* Fill t from die; recursion through dw_resolve_ref() is bounded by the
 * cache (each DIE once) and by MAX_TYPE_DEPTH. Returns 0, 1 when a typedef is
 * left for finish_pending() to complete, or -ENOMEM. */
static int fill_type(struct gobin_dwarf *d, struct dw_type *t, Dwarf_Die *die)
{
	enum gobin_kind gk = go_kind(die);
	int tag = dwarf_tag(die);
	Dwarf_Word size = 0;
	bool has_size;
	const char *name = dw_die_name(die);
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
		t->t.elem = dw_as_type(dw_resolve_ref(d, die, DW_AT_type));
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
		t->t.elem = dw_as_type(dw_resolve_ref(d, die, DW_AT_type));
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
			t->t.elem = dw_as_type(dw_resolve_ref(d, die,
							      DW_AT_go_elem));
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
				t->t.key = dw_as_type(
					dw_resolve_ref(d, die, DW_AT_go_key));
			t->t.elem = dw_as_type(dw_resolve_ref(d, die,
							      DW_AT_go_elem));
			break;
		}
		if (gk) {
			/* interface: the layout of runtime.eface/iface */
			t->t.kind = gk;
			ret = inherit_later(d, t,
					    dw_resolve_ref(d, die, DW_AT_type),
					    INHERIT_LAYOUT);
		} else {
			/* A generic function's ".param2"-style typedef
			 * (DW_AT_go_dict_index) names a dictionary
			 * slot, not a type: go by its shape type's name. */
			if (dwarf_hasattr(die, DW_AT_go_dict_index))
				t->t.name = "";
			ret = inherit_later(d, t,
					    dw_resolve_ref(d, die, DW_AT_type),
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
	t = dw_arena_zalloc(d, sizeof(*t));
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

	if (dw_build_index(d))
		return NULL;
	nt = FIND_BY_NAME(d->types, d->type_cnt, name);
	if (!nt || !dwarf_offdie(d->dbg, nt->off, &die))
		return NULL;
	return dw_as_type(resolve_die(d, &die));
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
