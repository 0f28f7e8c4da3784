/* SPDX-License-Identifier: MIT */
/*
 * Private to the DWARF layer of gobin (dwarf.c, dwarf_types.c,
 * dwarf_loc.c): the module's state, its arena and index, and the helpers
 * the three files share. Not for the rest of gobin.
 */
#ifndef GOBIN_DWARF_INT_H
#define GOBIN_DWARF_INT_H

#include <stddef.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "gobin_int.h"

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
	uint64_t low_pc;	/* has_pc: the entry of its code */
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
	/* the functions with code, by low_pc: go1.18/1.19 pclntab names
	 * every instance of a generic function "pkg.F[...]", DWARF by
	 * its shape ("pkg.F[go.shape.int_0]") */
	struct dw_func **by_pc;
	size_t by_pc_cnt;
	struct dw_named_type *types;	/* sorted by name */
	size_t type_cnt;

	struct type_slot *slots;	/* DIE offset -> type (open addressing) */
	size_t slot_cnt, slot_used;
	int depth;		/* resolve_die() recursion */
	struct dw_type **pending;	/* typedefs waiting for their target */
	size_t pending_cnt, pending_cap;

	struct arena_blk *arena;
};

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

/* dwarf.c */
void *dw_arena_zalloc(struct gobin_dwarf *d, size_t size);
void *dw_arena_array(struct gobin_dwarf *d, size_t n, size_t elem);
int dw_next_sibling(Dwarf_Die *die);
const char *dw_die_name(Dwarf_Die *die);
int dw_grow(void **arr, size_t *cap, size_t need, size_t elem);
int dw_build_index(struct gobin_dwarf *d);

/* dwarf_types.c */
struct dw_type *dw_resolve_ref(struct gobin_dwarf *d, Dwarf_Die *die,
			       unsigned attr_name);
const struct gobin_type *dw_as_type(struct dw_type *t);

#endif /* GOBIN_DWARF_INT_H */
