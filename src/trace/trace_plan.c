// SPDX-License-Identifier: MIT
/*
 * Arguments and results of traced Go functions: where they live at the
 * entry site and the RETs, and what the BPF program copies (struct
 * tr_spec, with --filter). Decoding is trace_decode.c's.
 *
 * Each value is rebuilt as its in-memory image (type->size bytes) from
 * pieces: a register's low bytes or bytes of the copied stack. Where each
 * value is comes from Go's assignment algorithm (gobin__abi_assign,
 * abi-internal.md; ABI0 is the same with no registers): that is what the
 * machine code reads at the entry and writes before a RET. DWARF gives
 * the values' names, types and order only: its locations at the entry
 * were wrong for stack words, struct pieces and go1.15 (issue 13). The
 * frame the algorithm computes must have the size pclntab records for the
 * function, or the DWARF list is not the real signature and nothing is
 * shown as known. Floats live in X registers, which pt_regs does not
 * hold: under the register ABI they print as unknown, with that reason.
 * Which ABI applies is decided per function (func_is_abi0): in a
 * register-ABI binary, assembly, cgo's C wrappers and ABI0 wrappers
 * still use the stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin/gobin.h"
#include "trace_decode.h"

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


/* Float leaves' reasons, by register: static strings for tr_value.unknown. */
static const char *const xreg_why[GOBIN_ABI_NFP] = {
	"float in X0, not in pt_regs", "float in X1, not in pt_regs",
	"float in X2, not in pt_regs", "float in X3, not in pt_regs",
	"float in X4, not in pt_regs", "float in X5, not in pt_regs",
	"float in X6, not in pt_regs", "float in X7, not in pt_regs",
	"float in X8, not in pt_regs", "float in X9, not in pt_regs",
	"float in X10, not in pt_regs", "float in X11, not in pt_regs",
	"float in X12, not in pt_regs", "float in X13, not in pt_regs",
	"float in X14, not in pt_regs",
};

/* DWARF register number -> index in the integer argument sequence
 * (RAX RBX RCX RDI RSI R8 R9 R10 R11), -1 for any other. */
static int dwreg_to_idx(int r)
{
	static const int8_t idx[] = {
		[0] = 1, [3] = 2, [2] = 3, [5] = 4, [4] = 5,
		[8] = 6, [9] = 7, [10] = 8, [11] = 9,
	};

	return r >= 0 && r < (int)sizeof(idx) && idx[r] ? idx[r] - 1 : -1;
}

/* Whether DWARF register r is the register a leaf was assigned. */
static bool dwreg_is_leaf(int r, const struct gobin_abi_leaf *l)
{
	if (l->freg)
		return r == 17 + l->reg;	/* XMM0 is DWARF 17 */
	return dwreg_to_idx(r) == l->reg;
}

enum { DW_DISAGREES = -1, DW_SILENT = 0, DW_AGREES = 1 };

/*
 * What DWARF's entry location of argument pa says of the place the
 * algorithm gave it: the same stack slot or registers (AGREES), another
 * (DISAGREES), or nothing checkable (SILENT: no location at the entry,
 * pieces on the stack, pieces that do not pair up with the leaves).
 */
static int dwarf_verdict(const struct gobin_param *pa,
			 const struct gobin_abi_slot *s)
{
	int n = 0;

	switch (pa->loc_kind) {
	case GOBIN_LOC_STACK:
		/* a register argument's home in the spill area: where some
		 * bodies (runtime.reflectcallmove, nosplit) keep it, and
		 * where DWARF then places it from the entry on */
		if (pa->loc_off < 8)
			return DW_DISAGREES;
		return (uint64_t)(pa->loc_off - 8) ==
		       (s->in_regs ? s->spill_off : s->stack_off) ?
		       DW_AGREES : DW_DISAGREES;
	case GOBIN_LOC_REG:
		if (!s->in_regs)
			return DW_DISAGREES;
		return s->nleaves == 1 && dwreg_is_leaf(pa->loc_reg,
							 &s->leaves[0]) ?
		       DW_AGREES : DW_DISAGREES;
	case GOBIN_LOC_PIECES:
		/* register pieces in order, one per leaf; padding pieces
		 * have no location */
		if (!s->in_regs)
			return DW_SILENT;
		for (size_t i = 0; i < pa->piece_cnt; i++) {
			const struct gobin_loc_piece *lp = &pa->pieces[i];

			if (lp->kind == GOBIN_LOC_NONE)
				continue;
			if (lp->kind != GOBIN_LOC_REG || n >= s->nleaves)
				return DW_SILENT;
			if (!dwreg_is_leaf(lp->reg, &s->leaves[n]))
				return DW_DISAGREES;
			n++;
		}
		return n == s->nleaves ? DW_AGREES : DW_SILENT;
	default:
		return DW_SILENT;
	}
}

/* The arguments' verdicts together: DISAGREES if one does, AGREES if
 * one does and none disagrees. */
static int dwarf_verdict_all(const struct gobin_param *params, size_t cnt,
			     const struct gobin_abi_slot *slots)
{
	int all = DW_SILENT;

	for (size_t i = 0; i < cnt; i++) {
		int v;

		/* a zero-sized value has no bytes to be anywhere */
		if (params[i].is_result || !params[i].type ||
		    !params[i].type->size)
			continue;
		v = dwarf_verdict(&params[i], &slots[i]);
		if (v == DW_DISAGREES)
			return v;
		if (v == DW_AGREES)
			all = v;
	}
	return all;
}

/* v's pieces from its ABI slot. */
static void place(struct tr_value *v, const struct gobin_abi_slot *s)
{
	bool at_ret = v->is_result;
	uint64_t size = v->type->size;

	if (!s->in_regs) {
		if (!size)
			return;
		if (s->stack_off + size > TR_STACK_WORDS * 8) {
			v->why = at_ret ? "result on the stack beyond the words copied at the RET"
					: "on the stack beyond the words copied at the entry";
			return;
		}
		add_piece(v, TR_SRC_STACK, at_ret, s->stack_off, size, 0);
		return;
	}
	for (int i = 0; i < s->nleaves; i++) {
		const struct gobin_abi_leaf *l = &s->leaves[i];

		if (l->freg) {
			add_piece(v, TR_SRC_NONE, at_ret, 0, l->size, l->off);
			if (!v->unknown)
				v->unknown = xreg_why[l->reg];
		} else {
			add_piece(v, TR_SRC_REG, at_ret, l->reg, l->size,
				  l->off);
		}
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

/*
 * Register ABI, stripped: the morestack path's spill stores, when the
 * function has one, say exactly which integer registers hold arguments
 * and how wide each is (gobin/spills.c); args size only bounds that, as
 * arguments narrower than a word share spill words (main.mixed(int8,
 * int16, int32, int64, uint8, uint16, uint32, uint64, bool): 9 registers,
 * 41 bytes). The spill area follows the stack arguments and results, so
 * its first slot is also where the stack words end. Float arguments
 * (X registers) are spilled too, and skipped: raw words are the integer
 * registers. Without such a path (NOSPLIT, small leaves) *words stays
 * args-size/8, every word whole.
 */
static void raw_spills(const struct gobin *gb, const struct gobin_func *f,
		       int32_t args, int *words, struct tr_plan *p)
{
	struct gobin_spill sp[64];
	uint32_t lo = (uint32_t)args;
	int nint = 0, swords;
	size_t n;

	/* none found, or stores beyond args size: not a block we
	 * understand (an instruction between the stores and the call),
	 * keep the words args size gives */
	if (gobin__reg_arg_spills(gb, f, sp, 64, &n) || !n)
		return;
	for (size_t i = 0; i < n; i++) {
		if (sp[i].off + sp[i].size > (uint32_t)args)
			return;
		if (sp[i].off < lo)
			lo = sp[i].off;
		if (sp[i].int_reg < 0)
			continue;
		/* the ABI assigns them in order: anything else is not a
		 * spill block we understand */
		if (sp[i].int_reg != nint || nint >= TR_NREGS)
			return;
		nint++;
	}
	nint = 0;
	for (size_t i = 0; i < n; i++)
		if (sp[i].int_reg >= 0)
			p->raw_reg_size[nint++] = (int8_t)sp[i].size;
	swords = (int)((lo + 7) / 8);
	if (!swords) {
		*words = nint;
		return;
	}
	/* stack words come after all nine register positions */
	for (int i = nint; i < TR_NREGS; i++)
		p->raw_reg_size[i] = -1;
	*words = TR_NREGS + swords;
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
	raw_spills(gb, f, args, &words, p);
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

/*
 * Whether f is a shaped instance of a generic function whose dictionary,
 * a pointer every instance takes (GC shape stenciling, go1.18+), DWARF
 * leaves out: it lists it, as ".dict", only in unoptimized builds.
 * ("[...]" is how go1.18/1.19 pclntab names an instance.) *method: an
 * instance of a method, whose dictionary goes before the receiver up to
 * go1.19 ((*Box[...]).Add(k) reads the receiver from RBX, k from RCX)
 * and after it from the unified IR of go1.20 (go1.21: receiver RAX, k
 * RCX). The frame check cannot stand in for this: with the dictionary,
 * an argument may move to the stack and leave the frame the same size.
 */
/* Whether s holds kind followed by a digit: ".func1", not ".funcName". */
static bool closure_suffix(const char *s, const char *kind)
{
	size_t n = strlen(kind);

	for (s = strstr(s, kind); s; s = strstr(s + 1, kind))
		if (s[n] >= '0' && s[n] <= '9')
			return true;
	return false;
}

static bool dict_missing(const char *name, const struct gobin_param *params,
			 size_t cnt, bool *method)
{
	const char *close = strrchr(name, ']');

	if (!strstr(name, "[go.shape.") && !strstr(name, "[...]"))
		return false;
	/* a closure of an instance (F[...].func1, .gowrap1, .deferwrap1)
	 * reaches the dictionary through its context, not an argument:
	 * checked as any function */
	if (close && (closure_suffix(close, ".func") ||
		      closure_suffix(close, ".gowrap") ||
		      closure_suffix(close, ".deferwrap")))
		return false;
	for (size_t i = 0; i < cnt; i++)
		if (params[i].name && !strcmp(params[i].name, ".dict"))
			return false;
	*method = close && close[1] && cnt && !params[0].is_result;
	return true;
}

/*
 * Assign the cnt values of params under abi into slots (room for cnt +
 * 1), with a dictionary put in at index di (-1: none). 0, -EINVAL a type
 * is not known, -ERANGE the frame is not the size pclntab records.
 */
static int try_assign(const struct gobin_func *f, enum gobin_abi abi, int di,
		      const struct gobin_param *params, size_t cnt,
		      struct gobin_abi_slot *slots)
{
	static const struct gobin_type dict = { ".dict", GOBIN_K_UINTPTR, 8 };
	const struct gobin_type *types[65];
	bool is_result[65];
	size_t n = 0;
	uint64_t frame;

	for (size_t i = 0; i <= cnt; i++) {
		if (di >= 0 && i == (size_t)di) {
			types[n] = &dict;
			is_result[n++] = false;
		}
		if (i < cnt) {
			types[n] = params[i].type;
			is_result[n++] = params[i].is_result;
		}
	}
	if (gobin__abi_assign(abi, types, is_result, n, slots, &frame))
		return -EINVAL;
	if (di >= 0)
		memmove(&slots[di], &slots[di + 1], (cnt - di) * sizeof(*slots));
	/* assembly declares its frame unrounded ($0-20) */
	if (f->args == GOBIN_ARGS_UNKNOWN || f->args < 0 ||
	    frame == ((uint64_t)f->args + 7) / 8 * 8)
		return 0;
	return -ERANGE;
}

/*
 * The places of f's values (slots), checked two ways: the frame must be
 * the size pclntab records, and where DWARF gives an argument a location
 * at the entry, it must be the place the algorithm chose. A DWARF list
 * that leaves out a blank parameter can keep the frame's size (a
 * uint8 and an int32 spill into one word either way) but not every
 * location. (A DWARF location in the spill area names a register
 * argument's home: runtime.reflectcallmove's body reads RAX, RCX, RDI
 * while DWARF gives the spill slots. Taking such functions for ABI0
 * bodies, the spill layout being ABI0's, would read uninitialized
 * slots.) NULL, or why no value's place is known; *mismatch: only the
 * frame disagrees, and values DWARF places alike may still be shown.
 */
static const char *assign_frame(const struct gobin *gb,
				const struct gobin_func *f, bool abi0,
				const struct gobin_param *params, size_t cnt,
				struct gobin_abi_slot *slots, bool *mismatch)
{
	enum gobin_abi abi = abi0 ? GOBIN_ABI0 : GOBIN_ABI_INTERNAL;
	int minor = gobin__go_minor(gb), dis[2] = { -1, -1 }, err = -EINVAL;
	bool method = false;

	*mismatch = false;
	if (dict_missing(f->name, params, cnt, &method)) {
		/* a method's two places, the release's first; DWARF's
		 * locations decide where they say anything */
		dis[0] = method && minor >= 20 ? 1 : 0;
		dis[1] = method ? 1 - dis[0] : -2;
		if (method && minor < 0)
			dis[1] = -2;	/* no release to prefer one */
	}
	for (int k = 0; k < 2 && dis[k] != -2; k++) {
		err = try_assign(f, abi, dis[k], params, cnt, slots);
		if (err == -EINVAL)
			return "a parameter's type is not known";
		if (!err && dwarf_verdict_all(params, cnt, slots) == DW_AGREES)
			return NULL;
		if (dis[0] < 0)
			break;
	}
	if (dis[0] >= 0) {
		/* an instance whose dictionary DWARF cannot place: the
		 * release's rule, when it is known and nothing disagrees */
		if (method && minor < 0)
			return "the dictionary of a generic method: before or after its receiver";
		err = try_assign(f, abi, dis[0], params, cnt, slots);
	}
	if (err) {
		*mismatch = true;
		return "DWARF's parameters do not match the frame pclntab records";
	}
	if (dwarf_verdict_all(params, cnt, slots) != DW_DISAGREES)
		return NULL;
	return "DWARF places an argument elsewhere than Go's ABI does";
}

int trace_plan__build(const struct gobin *gb, const struct gobin_func *f,
		      struct tr_plan *p)
{
	const struct gobin_param *params;
	struct gobin_abi_slot *slots = NULL;
	const char *why;
	bool mismatch;
	size_t cnt;
	int err = -ENOMEM;

	memset(p, 0, sizeof(*p));
	p->abi0 = func_is_abi0(gb, f);
	/* by address first: names of generic instances are not unique;
	 * an ABI wrapper has its body's name and signature. DWARF
	 * describes an assembly function without its parameters. */
	if ((gobin__func_params_at(gb, f->entry, &params, &cnt) &&
	     gobin__func_params(gb, f->name, &params, &cnt)) || cnt > 64 ||
	    (cnt == 0 && f->args > 0)) {
		plan_raw(gb, f, p);
		return 0;
	}
	p->vals = calloc(cnt ? cnt : 1, sizeof(*p->vals));
	slots = calloc(cnt + 1, sizeof(*slots));
	if (!p->vals || !slots)
		goto out;
	p->nval = cnt;
	for (size_t i = 0; i < cnt; i++) {
		p->vals[i].name = params[i].name ? params[i].name : "?";
		p->vals[i].type = params[i].type;
		p->vals[i].is_result = params[i].is_result;
	}
	why = assign_frame(gb, f, p->abi0, params, cnt, slots, &mismatch);
	for (size_t i = 0; i < cnt; i++) {
		struct tr_value *v = &p->vals[i];

		if (!v->type)
			v->why = "no type";
		else if (why && (!mismatch ||
				 dwarf_verdict(&params[i], &slots[i]) !=
				 DW_AGREES))
			v->why = why;
		else if (v->type->size > TR_MAX_IMG)
			v->why = "too big";
		else
			place(v, &slots[i]);
		need_stack(p, v);
	}
	for (size_t i = 0; i < cnt; i++)
		if (!p->vals[i].why)
			want_strings(p, (int)i, p->vals[i].type, 0, 0);
	p->stack_args = p->spec.stack_bytes;
	err = 0;
out:
	free(slots);
	if (err)
		trace_plan__free(p);
	return err;
}

void trace_plan__free(struct tr_plan *p)
{
	free(p->vals);
	p->vals = NULL;
}

/* Slot atom of p's filter, cleared to "never true" (a name p lacks);
 * NULL when atom is out of range. */
static struct tr_filt_atom *filt_atom(struct tr_plan *p, int atom)
{
	struct tr_filt_atom *sp;

	if (atom < 0 || atom >= TR_FILT_ATOMS)
		return NULL;
	sp = &p->spec.filt[atom];
	memset(sp, 0, sizeof(*sp));
	sp->kind = TR_FILT_NEVER;
	return sp;
}

int trace_plan__set_filter(struct tr_plan *p, int atom, const char *name,
			   enum tr_filt_op op, uint64_t val)
{
	struct tr_filt_atom *sp = filt_atom(p, atom);

	if (!sp)
		return -EINVAL;
	sp->op = op;
	sp->val = val;
	if (p->raw) {
		char *end;
		unsigned long n;

		if (strncmp(name, "arg", 3) || !name[3])
			return -ENOENT;
		n = strtoul(name + 3, &end, 10);
		if (*end || n >= (unsigned long)p->raw_args)
			return -ENOENT;
		sp->size = 8;
		sp->is_signed = 1;
		/* a sub-word register argument (raw_spills): its bytes,
		 * zero-extended, as raw_args shows it */
		if (!p->abi0 && n < TR_NREGS && p->raw_reg_size[n] > 0 &&
		    p->raw_reg_size[n] < 8) {
			sp->size = (uint8_t)p->raw_reg_size[n];
			sp->is_signed = 0;
			/* its bytes either way: 'arg0 == -8' and
			 * 'arg0 == 0xf8' both match an int8 -8 */
			sp->val &= (1ULL << (sp->size * 8)) - 1;
		}
		if (p->abi0) {
			sp->kind = TR_FILT_STACK;
			sp->idx = n * 8;
		} else if (n < TR_NREGS) {
			sp->kind = TR_FILT_REG;
			sp->idx = n;
		} else {
			sp->kind = TR_FILT_STACK;
			sp->idx = (n - TR_NREGS) * 8;
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
		sp->kind = pc->kind == TR_SRC_REG ? TR_FILT_REG
						  : TR_FILT_STACK;
		sp->idx = pc->idx;
		sp->size = pc->size;
		sp->is_signed = k >= GOBIN_K_INT && k <= GOBIN_K_INT64;
		return 0;
	}
	return -ENOENT;
}

int trace_plan__set_filter_str(struct tr_plan *p, int atom, const char *name,
			       enum tr_filt_op op, const char *str, size_t len)
{
	struct tr_filt_atom *sp = filt_atom(p, atom);

	if (!sp)
		return -EINVAL;
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
		sp->kind = pk;
		sp->idx = pidx;
		sp->len_kind = lk;
		sp->len_idx = lidx;
		sp->str = 1;
		sp->op = op;
		sp->str_len = (uint16_t)len;
		memcpy(sp->bytes, str, len);
		return 0;
	}
	return -ENOENT;
}
