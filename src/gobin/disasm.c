// SPDX-License-Identifier: MIT
/*
 * disasm - the few questions gosnoop asks of machine code (Capstone):
 *
 *  - where to put a cheap uprobe in a function (gobin__probe_point): on
 *    x86 the kernel emulates a handful of instructions at a uprobe and
 *    single-steps all others out of line, which costs ~15x more per hit
 *    here (docs: /work/shared/design.md, "Where a uprobe sits").  We walk
 *    the straight-line path from the entry and take the first instruction
 *    the kernel emulates, provided nothing before it has overwritten the
 *    arguments (registers, or for ABI0 the stack slots above the return
 *    address, whose distance from RSP we track);
 *  - which function a `go f(x)` wrapper starts (gobin__wrapper_callee).
 *
 * The image is read through gobin__ptr(), so every byte is bounds-checked.
 */
#include <errno.h>
#include <string.h>

#include <capstone/capstone.h>

#include "gobin_int.h"

/* Never walk further than this from the entry: prologues are short. */
#define PROBE_WALK_MAX_INSNS	32
/* A morestack stub: spill args, CALL runtime.morestack*, reload, JMP. */
#define STUB_WALK_MAX_INSNS	32
/* go-statement wrappers are tiny; a bigger function does real work. */
#define WRAPPER_MAX_BYTES	512
#define X86_MAX_INSN_LEN	15

/* Flags in pt_regs->flags (EFLAGS). */
#define EFLAGS_CF	0x001u
#define EFLAGS_ZF	0x040u

static int cs_open_x86(csh *h)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
		return -ENOMEM;
	if (cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		cs_close(h);
		return -ENOMEM;
	}
	return 0;
}

/* Decode one instruction at addr inside [addr, limit). 0 or -errno. */
static int decode_at(csh h, const struct gobin *gb, uint64_t addr,
		     uint64_t limit, cs_insn *insn)
{
	const uint8_t *code;
	size_t len;

	if (addr >= limit)
		return -ERANGE;
	len = limit - addr < X86_MAX_INSN_LEN ? (size_t)(limit - addr)
					       : X86_MAX_INSN_LEN;
	code = gobin__ptr(gb, addr, len);
	if (!code)
		return -EFAULT;
	if (!cs_disasm_iter(h, &code, &len, &addr, insn))
		return -EILSEQ;
	return 0;
}

/* The 64-bit register that reg (al, ax, eax, rax; r8b ... r8) is part of. */
static x86_reg reg64(x86_reg r)
{
	switch (r) {
	case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_EAX:
		return X86_REG_RAX;
	case X86_REG_BL: case X86_REG_BH: case X86_REG_BX: case X86_REG_EBX:
		return X86_REG_RBX;
	case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_ECX:
		return X86_REG_RCX;
	case X86_REG_DL: case X86_REG_DH: case X86_REG_DX: case X86_REG_EDX:
		return X86_REG_RDX;
	case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI:
		return X86_REG_RSI;
	case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI:
		return X86_REG_RDI;
	case X86_REG_SPL: case X86_REG_SP: case X86_REG_ESP:
		return X86_REG_RSP;
	case X86_REG_BPL: case X86_REG_BP: case X86_REG_EBP:
		return X86_REG_RBP;
	case X86_REG_R8B: case X86_REG_R8W: case X86_REG_R8D:
		return X86_REG_R8;
	case X86_REG_R9B: case X86_REG_R9W: case X86_REG_R9D:
		return X86_REG_R9;
	case X86_REG_R10B: case X86_REG_R10W: case X86_REG_R10D:
		return X86_REG_R10;
	case X86_REG_R11B: case X86_REG_R11W: case X86_REG_R11D:
		return X86_REG_R11;
	default:
		return r;
	}
}

/* Integer argument registers of Go's register ABI, in order
 * (go/src/cmd/compile/abi-internal.md, "amd64 architecture"). */
static const x86_reg go_int_arg_regs[] = {
	X86_REG_RAX, X86_REG_RBX, X86_REG_RCX, X86_REG_RDI, X86_REG_RSI,
	X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
};

static bool is_arg_reg(x86_reg r, int nregs)
{
	r = reg64(r);
	for (int i = 0; i < nregs && i < (int)(sizeof(go_int_arg_regs) /
					       sizeof(go_int_arg_regs[0])); i++)
		if (go_int_arg_regs[i] == r)
			return true;
	return false;
}

/* Legacy prefixes and REX of an instruction, and where its opcode starts. */
static size_t skip_prefixes(const cs_insn *insn, bool *has_66, bool *has_rex)
{
	size_t i = 0;

	*has_66 = false;
	*has_rex = false;
	for (; i < insn->size; i++) {
		uint8_t b = insn->bytes[i];

		if (b == 0x66)
			*has_66 = true;
		else if (b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x3e ||
			 b == 0x26 || b == 0x64 || b == 0x65 || b == 0x36 ||
			 b == 0x67 || b == 0xf0)
			continue;
		else
			break;
	}
	if (i < insn->size && (insn->bytes[i] & 0xf0) == 0x40) {
		*has_rex = true;
		i++;
	}
	return i;
}

enum emu_kind {
	EMU_NONE,	/* single-stepped */
	EMU_NOP,
	EMU_JMP,
	EMU_JCC,
	EMU_CALL,
	EMU_PUSH,
};

/*
 * Whether the kernel's x86 uprobe code emulates this instruction instead
 * of single-stepping it (linux arch/x86/kernel/uprobes.c:
 * branch_setup_xol_ops() for jmp rel8/rel32, jcc, call rel32 and nops,
 * push_setup_xol_ops() for push of a general register). Operand-size
 * prefixed forms are refused there, so they count as single-stepped.
 */
static enum emu_kind emulated_kind(const cs_insn *insn)
{
	bool has_66, has_rex;
	size_t i = skip_prefixes(insn, &has_66, &has_rex);
	uint8_t op, op2;

	if (i >= insn->size || has_66)
		return EMU_NONE;
	op = insn->bytes[i];
	op2 = i + 1 < insn->size ? insn->bytes[i + 1] : 0;
	if (op == 0x90 && !has_rex)
		return EMU_NOP;
	if (op == 0x0f && op2 == 0x1f)
		return EMU_NOP;
	if (op == 0xeb || op == 0xe9)
		return has_rex ? EMU_NONE : EMU_JMP;
	if (op == 0xe8)
		return has_rex ? EMU_NONE : EMU_CALL;
	if (op >= 0x70 && op <= 0x7f)
		return EMU_JCC;
	if (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f)
		return EMU_JCC;
	if (op >= 0x50 && op <= 0x57)
		return EMU_PUSH;
	return EMU_NONE;
}

/* Target of a direct jmp/jcc/call, or 0. */
static uint64_t direct_target(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
		return (uint64_t)x->operands[0].imm;
	return 0;
}

static bool is_morestack_name(const char *name)
{
	return name && !strncmp(name, "runtime.morestack", 17);
}

/*
 * Whether the code at addr is a morestack stub: straight-line code that
 * calls runtime.morestack* before any return or jump.
 */
static bool is_morestack_stub(csh h, const struct gobin *gb,
			      const struct gobin_func *f, uint64_t addr)
{
	cs_insn *insn = cs_malloc(h);
	bool ret = false;

	if (!insn)
		return false;
	for (int n = 0; n < STUB_WALK_MAX_INSNS; n++) {
		if (decode_at(h, gb, addr, f->end, insn))
			break;
		if (cs_insn_group(h, insn, CS_GRP_CALL)) {
			uint64_t t = direct_target(insn);
			const struct gobin_func *callee =
				t ? gobin__func_at(gb, t) : NULL;

			ret = callee && is_morestack_name(callee->name);
			break;
		}
		if (cs_insn_group(h, insn, CS_GRP_JUMP) ||
		    cs_insn_group(h, insn, CS_GRP_RET) ||
		    cs_insn_group(h, insn, CS_GRP_INT))
			break;
		addr = insn->address + insn->size;
	}
	cs_free(insn, 1);
	return ret;
}

/*
 * How an instruction the kernel will single-step moves RSP: *delta grows
 * by the bytes it allocates. False when we cannot tell (then the walk
 * stops: the stack arguments could no longer be located).
 */
static bool track_rsp(const cs_insn *insn, int64_t *delta)
{
	const cs_x86 *x = &insn->detail->x86;
	const cs_x86_op *dst = &x->operands[0], *src = &x->operands[1];

	if (x->op_count == 2 && dst->type == X86_OP_REG &&
	    dst->reg == X86_REG_RSP && src->type == X86_OP_IMM) {
		if (insn->id == X86_INS_SUB) {
			*delta += src->imm;
			return true;
		}
		if (insn->id == X86_INS_ADD) {
			*delta -= src->imm;
			return true;
		}
	}
	if (x->op_count == 2 && dst->type == X86_OP_REG &&
	    dst->reg == X86_REG_RSP && src->type == X86_OP_MEM &&
	    insn->id == X86_INS_LEA && src->mem.base == X86_REG_RSP &&
	    src->mem.index == X86_REG_INVALID) {
		*delta -= src->mem.disp;
		return true;
	}
	if (insn->id == X86_INS_PUSH) {
		*delta += 8;
		return true;
	}
	if (insn->id == X86_INS_POP) {
		*delta -= 8;
		return true;
	}
	return false;
}

/*
 * Whether insn stores into the ABI0 argument area, which starts 8 bytes
 * above the entry RSP (after the return address) and is args bytes long.
 * delta: bytes allocated below the entry RSP so far.
 */
static bool writes_stack_args(const cs_insn *insn, int64_t delta,
			      int32_t args)
{
	const cs_x86 *x = &insn->detail->x86;

	if (args <= 0)
		return false;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		int64_t lo, hi;

		if (op->type != X86_OP_MEM || !(op->access & CS_AC_WRITE))
			continue;
		if (op->mem.base != X86_REG_RSP)
			return true;	/* unknown target: be safe */
		if (op->mem.index != X86_REG_INVALID)
			return true;
		lo = op->mem.disp - delta;	/* relative to entry RSP */
		hi = lo + (op->size ? op->size : 8);
		if (hi > 8 && lo < 8 + (int64_t)args)
			return true;
	}
	return false;
}

/* Writes one of the argument registers, or RSP in a way we cannot track. */
static bool clobbers(csh h, const cs_insn *insn, int nregs, int64_t *delta,
		     const char **why)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	bool rsp = false;

	if (cs_regs_access(h, insn, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
		*why = "cannot tell which registers an instruction writes";
		return true;
	}
	for (int i = 0; i < nwr; i++) {
		if (is_arg_reg(wr[i], nregs)) {
			*why = "an argument register is overwritten before any emulated instruction";
			return true;
		}
		if (reg64(wr[i]) == X86_REG_RSP)
			rsp = true;
	}
	if (rsp && !track_rsp(insn, delta)) {
		*why = "RSP changes in a way the walk does not follow";
		return true;
	}
	return false;
}

int gobin__probe_point(const struct gobin *gb, const struct gobin_func *f,
		       int nregs, int32_t stack_args,
		       struct gobin_probe_point *pp)
{
	cs_insn *insn;
	uint64_t addr;
	int64_t delta = 0;
	csh h;
	int ret;

	if (!gb || !f || !pp || f->end <= f->entry)
		return -EINVAL;
	memset(pp, 0, sizeof(*pp));
	pp->addr = f->entry;
	pp->why = "no emulated instruction found near the entry";
	ret = cs_open_x86(&h);
	if (ret)
		return ret;
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		return -ENOMEM;
	}
	addr = f->entry;
	for (int n = 0; n < PROBE_WALK_MAX_INSNS; n++) {
		enum emu_kind kind;

		ret = decode_at(h, gb, addr, f->end, insn);
		if (ret) {
			pp->why = "cannot decode the prologue";
			ret = 0;
			break;
		}
		kind = emulated_kind(insn);
		if (kind == EMU_JCC) {
			uint64_t t = direct_target(insn);

			if (t && is_morestack_stub(h, gb, f, t)) {
				/*
				 * The prologue's stack check. When taken,
				 * morestack grows the stack and re-enters
				 * the function from the top, so the probe
				 * would fire twice: tell the program to
				 * skip hits whose flags take the branch.
				 * Only JBE (Go's JLS) is expressible as
				 * "any of these flags set".
				 */
				if (insn->id == X86_INS_JBE) {
					pp->skip_flags = EFLAGS_CF | EFLAGS_ZF;
				} else {
					/* the fall-through path is the one
					 * that stays: walk on */
					addr = insn->address + insn->size;
					continue;
				}
			}
		}
		if (kind != EMU_NONE) {
			pp->addr = insn->address;
			pp->sp_delta = delta;
			pp->emulated = true;
			pp->why = kind == EMU_NOP  ? "nop" :
				  kind == EMU_JMP  ? "jmp" :
				  kind == EMU_JCC  ? (pp->skip_flags ?
					"stack-check jbe (skip when taken)" :
					"conditional jump") :
				  kind == EMU_CALL ? "call" : "push";
			break;
		}
		if (cs_insn_group(h, insn, CS_GRP_JUMP) ||
		    cs_insn_group(h, insn, CS_GRP_RET) ||
		    cs_insn_group(h, insn, CS_GRP_CALL) ||
		    cs_insn_group(h, insn, CS_GRP_INT) ||
		    cs_insn_group(h, insn, CS_GRP_IRET)) {
			pp->why = "control flow before any emulated instruction";
			break;
		}
		if (clobbers(h, insn, nregs, &delta, &pp->why))
			break;
		if (writes_stack_args(insn, delta, stack_args)) {
			pp->why = "a stack argument is overwritten before any emulated instruction";
			break;
		}
		addr = insn->address + insn->size;
	}
	if (!pp->emulated) {
		pp->addr = f->entry;
		pp->sp_delta = 0;
		pp->skip_flags = 0;
	}
	cs_free(insn, 1);
	cs_close(&h);
	return 0;
}

/*
 * The prologue the compiler gives functions marked WRAPPER (go-statement
 * and method wrappers; cmd/internal/obj/x86/obj6.go, "if
 * cursym.Func().Text.From.Sym.Wrapper()": load g._panic and fix its argp):
 * MOVQ g_panic(R14), R12 with _panic at offset 32 of runtime.g (after
 * stack.lo, stack.hi, stackguard0, stackguard1: runtime2.go, every
 * release). User closures never have it.
 */
static bool loads_g_panic(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	return insn->id == X86_INS_MOV && x->op_count == 2 &&
	       x->operands[1].type == X86_OP_MEM &&
	       x->operands[1].mem.base == X86_REG_R14 &&
	       x->operands[1].mem.index == X86_REG_INVALID &&
	       x->operands[1].mem.disp == 32;
}

/*
 * Calls a wrapper makes besides the one it exists for: the runtime's
 * (stack growth, write barriers, bounds panics, race hooks). A wrapper in
 * package runtime itself (runtime.gcenable.func1 starts runtime.bgsweep)
 * wraps a runtime function, so only the helpers are skipped there.
 */
static bool is_runtime_helper(const char *name, bool in_runtime)
{
	static const char *const helpers[] = {
		"runtime.morestack", "runtime.gcWriteBarrier",
		"runtime.panic", "runtime.racefunc", "runtime.deferreturn",
		"runtime.wbBuf", "runtime.duff",
	};

	if (strncmp(name, "runtime.", 8))
		return false;
	if (!in_runtime)
		return true;
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (!strncmp(name, helpers[i], strlen(helpers[i])))
			return true;
	return false;
}

int gobin__wrapper_callee(const struct gobin *gb, const struct gobin_func *f,
			  const struct gobin_func **callee, bool *marked)
{
	const struct gobin_func *found = NULL;
	bool seen_ret = false, in_runtime;
	cs_insn *insn;
	uint64_t addr;
	csh h;
	int ret = 0, n = 0;

	if (!gb || !f || !callee || f->end <= f->entry)
		return -EINVAL;
	*callee = NULL;
	if (marked)
		*marked = false;
	if (f->end - f->entry > WRAPPER_MAX_BYTES)
		return -ENOENT;
	in_runtime = f->name && !strncmp(f->name, "runtime.", 8);
	ret = cs_open_x86(&h);
	if (ret)
		return ret;
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		return -ENOMEM;
	}
	for (addr = f->entry; addr < f->end; n++) {
		bool call, jump;
		uint64_t t;

		if (decode_at(h, gb, addr, f->end, insn)) {
			/* padding (int3) or data at the end: stop there */
			break;
		}
		addr = insn->address + insn->size;
		if (n < 8 && marked && loads_g_panic(insn))
			*marked = true;
		if (cs_insn_group(h, insn, CS_GRP_RET)) {
			seen_ret = true;
			continue;
		}
		call = cs_insn_group(h, insn, CS_GRP_CALL);
		jump = cs_insn_group(h, insn, CS_GRP_JUMP);
		if (!call && !jump)
			continue;
		t = direct_target(insn);
		if (!t) {
			/* an indirect call or jump: calls a func value */
			ret = -ENOENT;
			break;
		}
		if (jump && t >= f->entry && t < f->end) {
			/* A loop means the function does real work. Blocks
			 * after the first RET (morestack, the WRAPPER argp
			 * fix-up) jump back without being loops. */
			if (t <= insn->address && !seen_ret) {
				ret = -ENOENT;
				break;
			}
			continue;
		}
		{
			const struct gobin_func *g = gobin__func_at(gb, t);

			if (!g || !g->name) {
				ret = -ENOENT;
				break;
			}
			if (is_runtime_helper(g->name, in_runtime))
				continue;
			if (found && found != g) {
				ret = -ENOENT;
				break;
			}
			found = g;
		}
	}
	cs_free(insn, 1);
	cs_close(&h);
	if (ret)
		return ret;
	if (!found)
		return -ENOENT;
	*callee = found;
	return 0;
}
