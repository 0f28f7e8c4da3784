// SPDX-License-Identifier: GPL-2.0
/*
 * Arguments and results of traced Go functions: where they live at the
 * entry site and the RETs, and what the BPF program copies (struct
 * tr_spec, with --filter). Decoding is trace_decode.c's.
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
 * not hold: under the register ABI they print as "?". Which ABI applies
 * is decided per function (func_is_abi0): in a register-ABI binary,
 * assembly, cgo's C wrappers and ABI0 wrappers still use the stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
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
bool trace_plan__word_src(const struct tr_value *v, uint64_t off, uint8_t *kind,
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

/*
 * An error's message, when its dynamic type is a pointer to a struct that
 * starts with a string (*errors.errorString): the kernel follows the data
 * word to the string header and copies the bytes; whether the type has
 * that shape is known only per record (trace_syms__error_msg), so other
 * types' bytes are read and ignored.
 */
static void want_error_message(struct tr_plan *p, int vi, uint64_t off)
{
	const struct tr_value *v = &p->vals[vi];
	struct tr_str_op *op;
	uint8_t dk;
	uint16_t didx;
	bool dr;

	if (p->nstr >= TR_NSTR ||
	    !trace_plan__word_src(v, off + 8, &dk, &didx, &dr))
		return;
	op = &p->spec.ops[p->nstr];
	op->at_ret = dr;
	op->ptr_kind = dk;
	op->ptr_idx = didx;
	op->mode = TR_STR_DEREF;
	op->elem_size = 1;
	p->strs[p->nstr].val = vi;
	p->strs[p->nstr].img_off = off;
	p->strs[p->nstr].slot = p->nstr;
	p->nstr++;
	p->spec.nstr = p->nstr;
}

/* A map's or channel's first words: len (hmap.count, maps.Map.used,
 * hchan.qcount) and for channels cap (hchan.dataqsiz); trace_expr.c
 * cites the Go sources. */
static void want_len_words(struct tr_plan *p, int vi, uint64_t off,
			   uint32_t bytes)
{
	const struct tr_value *v = &p->vals[vi];
	struct tr_str_op *op;
	uint8_t k;
	uint16_t idx;
	bool r;

	if (p->nstr >= TR_NSTR || !trace_plan__word_src(v, off, &k, &idx, &r))
		return;
	op = &p->spec.ops[p->nstr];
	op->at_ret = r;
	op->ptr_kind = k;
	op->ptr_idx = idx;
	op->mode = TR_STR_FIXED;
	op->elem_size = bytes;
	p->strs[p->nstr].val = vi;
	p->strs[p->nstr].img_off = off;
	p->strs[p->nstr].slot = p->nstr;
	p->nstr++;
	p->spec.nstr = p->nstr;
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
	if (t->kind == GOBIN_K_INTERFACE && t->name &&
	    !strcmp(t->name, "error")) {
		want_error_message(p, vi, off);
		return;
	}
	if (t->kind == GOBIN_K_MAP || t->kind == GOBIN_K_CHAN) {
		want_len_words(p, vi, off, t->kind == GOBIN_K_CHAN ? 16 : 8);
		return;
	}
	if (t->kind != GOBIN_K_STRING && t->kind != GOBIN_K_SLICE)
		return;
	if (t->kind == GOBIN_K_SLICE && (!t->elem || !t->elem->size))
		return;
	if (!trace_plan__word_src(v, off, &pk, &pidx, &pr) ||
	    !trace_plan__word_src(v, off + 8, &lk, &lidx, &lr) || pr != lr)
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

void trace_plan__want_strings(struct tr_plan *p, int vi)
{
	if (vi >= 0 && (size_t)vi < p->nval && !p->vals[vi].why)
		want_strings(p, vi, p->vals[vi].type, 0, 0);
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

/*
 * Assembly functions that use the register ABI on amd64, go1.17 to go1.26:
 * TEXT ·name<ABIInternal>(SB) in the Go sources (go1.19: grep -rn
 * "<ABIInternal>" --include=*_amd64.s src; gcWriteBarrier1..8 from go1.21,
 * Syscall6 moved to internal/runtime/syscall(/linux) later). Every other
 * function of a .s file is ABI0. A trailing '*' matches a prefix.
 */
static const char *const abiinternal_asm[] = {
	"runtime.memmove", "runtime.memclrNoHeapPointers",
	"runtime.duffzero", "runtime.duffcopy",
	"runtime.raceread", "runtime.racewrite", "runtime.racereadrange",
	"runtime.racewriterange", "runtime.mcall", "runtime.memhash",
	"runtime.strhash", "runtime.memhash32", "runtime.memhash64",
	"runtime.gcWriteBarrier*", "runtime.debugCallV2",
	"runtime.panicIndex*", "runtime.panicSlice*", "time.now",
	"internal/bytealg.Compare", "runtime.cmpstring", "runtime.memequal",
	"runtime.memequal_varlen", "runtime/internal/syscall.Syscall6",
	"internal/runtime/syscall.Syscall6",
	"internal/runtime/syscall/linux.Syscall6",
};

static bool asm_is_abiinternal(const char *name)
{
	size_t cnt = sizeof(abiinternal_asm) / sizeof(*abiinternal_asm);

	for (size_t i = 0; i < cnt; i++) {
		const char *a = abiinternal_asm[i];
		size_t n = strlen(a);

		if (a[n - 1] == '*' ? !strncmp(name, a, n - 1) : !strcmp(name, a))
			return true;
	}
	return false;
}

/*
 * cgo's wrappers of C functions (pkg._Cfunc_NAME, pkg._cgo_cmalloc) are
 * Go functions marked //go:cgo_unsafe_args, which the compiler pins to
 * ABI0 (go1.19 src/cmd/compile/internal/ssagen/abi.go: "CgoUnsafeArgs
 * indicates the function (or its callee) uses offsets to dispatch
 * arguments, which currently using ABI0 frame layout"): the C side reads
 * the arguments and writes the result in that frame. cgo's built-in
 * helpers (C.CString, C.GoString...) carry no such mark
 * (src/cmd/cgo/out.go builtinDefs).
 */
static bool cgo_is_abi0(const char *name)
{
	static const char *const builtin[] = {
		"GoString", "GoStringN", "GoBytes", "CString", "CBytes",
		"_CMalloc",
	};
	const char *c = strstr(name, "._Cfunc_");

	if (!c) {
		size_t n = strlen(name);

		return n >= 13 && !strcmp(name + n - 13, "._cgo_cmalloc");
	}
	c += 8;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(*builtin); i++)
		if (!strcmp(c, builtin[i]))
			return false;
	return true;
}

static bool file_is_asm(const struct gobin *gb, const struct gobin_func *f)
{
	const char *file;
	int line;
	size_t n;

	if (gobin__func_line(gb, f, f->entry, &file, &line) || !file)
		return false;
	n = strlen(file);
	return n >= 2 && !strcmp(file + n - 2, ".s");
}

static bool file_is_autogenerated(const struct gobin *gb,
				  const struct gobin_func *f)
{
	const char *file;
	int line;

	return !gobin__func_line(gb, f, f->entry, &file, &line) && file &&
	       !strcmp(file, "<autogenerated>");
}

/* ABI0 by f's own body, when .symtab does not say: see func_is_abi0. */
static bool body_is_abi0(const struct gobin *gb, const struct gobin_func *f)
{
	if (cgo_is_abi0(f->name))
		return true;
	return file_is_asm(gb, f) && !asm_is_abiinternal(f->name);
}

/*
 * Whether f takes its arguments and results on the stack (ABI0). Before
 * go1.17 every function does. From go1.17 (register ABI) Go functions use
 * ABIInternal, but assembly functions (TEXT ·f(SB) in a .s file) and
 * cgo's C wrappers are ABI0, and a function called across ABIs has an
 * ABI wrapper of the same name with the other ABI (pclntab.c).
 *
 * .symtab: the linker names an ABI0 function "NAME.abi0" when an
 * ABIInternal NAME exists (go1.19 src/cmd/link/internal/ld/symtab.go
 * mangleABIName), and the compiler makes that ABIInternal wrapper for
 * every Go-declared function (ssagen/abi.go: "Assume all functions are
 * referenced at least as ABIInternal"); so a global "pkg.NAME" at f's
 * entry is ABIInternal. Local symbols (TEXT gogo<>(SB)) and names
 * without a package are never mangled: they, and stripped binaries, are
 * decided from pclntab: the file of the entry, "<autogenerated>" for an
 * ABI wrapper (it has the ABI the body of its name lacks), "*.s" for
 * assembly.
 */
static bool func_is_abi0(const struct gobin *gb, const struct gobin_func *f)
{
	const struct gobin_sym *s;
	const struct gobin_func *body;
	char name[512];

	if (gobin__abi(gb)->abi != GOBIN_ABI_INTERNAL)
		return true;
	if ((size_t)snprintf(name, sizeof(name), "%s.abi0", f->name) <
	    sizeof(name)) {
		s = gobin__sym_by_name(gb, name);
		if (s && s->addr == f->entry)
			return true;
	}
	s = gobin__sym_by_name(gb, f->name);
	if (s && s->addr == f->entry && s->type == 'T' && strchr(f->name, '.'))
		return false;
	body = gobin__func_by_name(gb, f->name);
	if (body && body != f && body->entry != f->entry &&
	    file_is_autogenerated(gb, f))
		return !body_is_abi0(gb, body);
	return body_is_abi0(gb, f);
}

int trace_plan__build(const struct gobin *gb, const struct gobin_func *f,
		      struct tr_plan *p)
{
	const struct gobin_param *params;
	size_t cnt;
	int ir = 0, fr = 0, rir = 0, rfr = 0;
	uint64_t soff = 0, rsoff = 0;
	size_t nargs_bytes = 0;
	bool dwarf_locs;

	memset(p, 0, sizeof(*p));
	p->abi0 = func_is_abi0(gb, f);
	/* DWARF's locations are the body's; an ABI wrapper of the same
	 * name has the other ABI */
	dwarf_locs = gobin__func_by_name(gb, f->name) == f;
	/* DWARF describes an assembly function without its parameters */
	if (gobin__func_params(gb, f->name, &params, &cnt) || cnt > 64 ||
	    (cnt == 0 && f->args > 0)) {
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
			if (!dwarf_locs || !place_by_dwarf(v, pa, p->abi0))
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

int trace_plan__set_filter_str(struct tr_plan *p, const char *name,
			       enum tr_filt_op op, const char *str, size_t len)
{
	struct tr_spec *sp = &p->spec;

	sp->filt_kind = TR_FILT_NEVER;
	if ((op != TR_OP_EQ && op != TR_OP_NE) || len > TR_FILT_STR_MAX)
		return -EINVAL;
	if (p->raw)
		return -ENOENT;
	for (size_t i = 0; i < p->nval; i++) {
		const struct tr_value *v = &p->vals[i];
		uint8_t pk, lk;
		uint16_t pidx, lidx;
		bool pr, lr;

		if (v->is_result || strcmp(v->name, name))
			continue;
		if (v->why || !v->type || v->type->kind != GOBIN_K_STRING ||
		    !trace_plan__word_src(v, 0, &pk, &pidx, &pr) ||
		    !trace_plan__word_src(v, 8, &lk, &lidx, &lr))
			return -EINVAL;
		/* TR_FILT_REG/STACK are TR_SRC_REG/STACK */
		sp->filt_kind = pk;
		sp->filt_idx = pidx;
		sp->filt_len_kind = lk;
		sp->filt_len_idx = lidx;
		sp->filt_str = 1;
		sp->filt_op = op;
		sp->filt_str_len = (uint16_t)len;
		memcpy(sp->filt_bytes, str, len);
		return 0;
	}
	return -ENOENT;
}
