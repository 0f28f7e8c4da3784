// SPDX-License-Identifier: MIT
/*
 * Go's assignment of arguments and results to registers and stack slots
 * (go/src/cmd/compile/abi-internal.md, "Function call argument and result
 * passing", amd64: integer registers RAX RBX RCX RDI RSI R8 R9 R10 R11,
 * floats X0-X14). The machine code of a function reads its arguments
 * where this algorithm put them; DWARF's location lists describe the
 * body's later homes and, at the entry instruction, disagreed with it in
 * every release tried (stack words off by one, pieces of padding, go1.15
 * list entries that start after the entry). So only the values' types
 * and order come from DWARF; their places come from here.
 *
 * ABI0, the stack convention of every Go function before go1.17 and of
 * assembly after, is "equivalent to this algorithm with zero registers"
 * (same document), so one implementation serves both.
 */
#include <errno.h>
#include <string.h>

#include "gobin.h"

#define MAX_DEPTH 16

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return a > 1 ? (x + a - 1) / a * a : x;
}

static uint64_t align_depth(const struct gobin_type *t, int depth)
{
	uint64_t a = 1;

	if (!t || depth > MAX_DEPTH)
		return 8;
	switch (t->kind) {
	case GOBIN_K_STRUCT:
		for (size_t i = 0; i < t->field_cnt; i++) {
			uint64_t fa = align_depth(t->fields[i].type, depth + 1);

			if (fa > a)
				a = fa;
		}
		return a;
	case GOBIN_K_ARRAY:
		return align_depth(t->elem, depth + 1);
	case GOBIN_K_COMPLEX64:
		return 4;
	case GOBIN_K_BOOL: case GOBIN_K_INT8: case GOBIN_K_UINT8:
		return 1;
	case GOBIN_K_INT16: case GOBIN_K_UINT16:
		return 2;
	case GOBIN_K_INT32: case GOBIN_K_UINT32: case GOBIN_K_FLOAT32:
		return 4;
	default:
		/* words: ints, pointers, strings, slices, interfaces,
		 * maps, chans, funcs, float64, complex128 */
		return 8;
	}
}

uint64_t gobin__type_align(const struct gobin_type *t)
{
	return align_depth(t, 0);
}

/* Whether t's kind is one the algorithm knows; false for a type DWARF
 * left unfinished (GOBIN_K_INVALID), whose size cannot be trusted. */
static bool kind_known(const struct gobin_type *t, int depth)
{
	if (!t || depth > MAX_DEPTH || t->kind == GOBIN_K_INVALID)
		return false;
	if (t->kind == GOBIN_K_STRUCT) {
		for (size_t i = 0; i < t->field_cnt; i++)
			if (!kind_known(t->fields[i].type, depth + 1))
				return false;
	} else if (t->kind == GOBIN_K_ARRAY && t->count) {
		return kind_known(t->elem, depth + 1);
	}
	return true;
}

struct regs_state {
	int ni, nfp;		/* registers of each sequence there are */
	int i, fp;		/* next free of each */
};

static int leaf(struct gobin_abi_slot *s, struct regs_state *r, bool freg,
		uint64_t off, uint64_t size)
{
	struct gobin_abi_leaf *l;

	if (freg ? r->fp >= r->nfp : r->i >= r->ni)
		return -E2BIG;
	if (s->nleaves >= GOBIN_ABI_MAX_LEAVES)
		return -E2BIG;
	l = &s->leaves[s->nleaves++];
	l->freg = freg;
	l->reg = (uint8_t)(freg ? r->fp++ : r->i++);
	l->off = (uint32_t)off;
	l->size = (uint32_t)size;
	return 0;
}

/* Register-assign t at offset off of the value (the document's steps in
 * its order). -E2BIG: the value goes to the stack. */
static int reg_assign(struct gobin_abi_slot *s, struct regs_state *r,
		      const struct gobin_type *t, uint64_t off, int depth)
{
	int err;

	if (depth > MAX_DEPTH)
		return -E2BIG;
	switch (t->kind) {
	case GOBIN_K_BOOL:
	case GOBIN_K_INT: case GOBIN_K_INT8: case GOBIN_K_INT16:
	case GOBIN_K_INT32: case GOBIN_K_INT64:
	case GOBIN_K_UINT: case GOBIN_K_UINT8: case GOBIN_K_UINT16:
	case GOBIN_K_UINT32: case GOBIN_K_UINT64: case GOBIN_K_UINTPTR:
	case GOBIN_K_PTR: case GOBIN_K_UNSAFEPTR:
	case GOBIN_K_MAP: case GOBIN_K_CHAN: case GOBIN_K_FUNC:
		return leaf(s, r, false, off, t->size);
	case GOBIN_K_FLOAT32:
	case GOBIN_K_FLOAT64:
		return leaf(s, r, true, off, t->size);
	case GOBIN_K_COMPLEX64:
	case GOBIN_K_COMPLEX128:
		err = leaf(s, r, true, off, t->size / 2);
		return err ? err : leaf(s, r, true, off + t->size / 2,
					t->size / 2);
	case GOBIN_K_STRING:
	case GOBIN_K_INTERFACE:
	case GOBIN_K_SLICE:
		for (int w = 0; w < (t->kind == GOBIN_K_SLICE ? 3 : 2); w++) {
			err = leaf(s, r, false, off + 8 * (uint64_t)w, 8);
			if (err)
				return err;
		}
		return 0;
	case GOBIN_K_STRUCT:
		for (size_t i = 0; i < t->field_cnt; i++) {
			err = reg_assign(s, r, t->fields[i].type,
					 off + t->fields[i].offset, depth + 1);
			if (err)
				return err;
		}
		return 0;
	case GOBIN_K_ARRAY:
		if (t->count == 0)
			return 0;
		if (t->count == 1)
			return reg_assign(s, r, t->elem, off, depth + 1);
		return -E2BIG;
	default:
		return -E2BIG;
	}
}

/* "Assigning a receiver, argument, or result V of type T". */
static void assign(struct gobin_abi_slot *s, struct regs_state *r,
		   const struct gobin_type *t, uint64_t *stack)
{
	struct regs_state saved = *r;

	memset(s, 0, sizeof(*s));
	if (t->size && reg_assign(s, r, t, 0, 0) == 0) {
		s->in_regs = true;
		return;
	}
	/* zero-sized values are stack-assigned too: no bytes, but their
	 * alignment pads the frame as it did under ABI0 */
	*r = saved;
	s->nleaves = 0;
	*stack = align_up(*stack, gobin__type_align(t));
	s->stack_off = *stack;
	*stack += t->size;
}

int gobin__abi_assign(enum gobin_abi abi, const struct gobin_type *const *types,
		      const bool *is_result, size_t cnt,
		      struct gobin_abi_slot *slots, uint64_t *frame)
{
	struct regs_state r = { 0 };
	uint64_t stack = 0;

	for (size_t k = 0; k < cnt; k++)
		if (!kind_known(types[k], 0))
			return -EINVAL;
	if (abi == GOBIN_ABI_INTERNAL) {
		r.ni = GOBIN_ABI_NI;
		r.nfp = GOBIN_ABI_NFP;
	}
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: receiver and arguments; pass 1: results, from the
		 * first register again */
		r.i = r.fp = 0;
		for (size_t k = 0; k < cnt; k++)
			if (is_result[k] == (pass == 1))
				assign(&slots[k], &r, types[k], &stack);
		stack = align_up(stack, 8);
	}
	/* the spill space of register-assigned arguments */
	for (size_t k = 0; k < cnt; k++) {
		if (is_result[k] || !slots[k].in_regs)
			continue;
		stack = align_up(stack, gobin__type_align(types[k]));
		slots[k].spill_off = stack;
		stack += types[k]->size;
	}
	if (frame)
		*frame = align_up(stack, 8);
	return 0;
}
