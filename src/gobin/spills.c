// SPDX-License-Identifier: MIT
/*
 * spills - where a register-ABI function's arguments are, from its own
 * machine code, for stripped binaries (no DWARF).
 *
 * A Go function with a stack check (every one but NOSPLIT and small leaf
 * functions) ends with the morestack path its prologue's JBE jumps to:
 * it stores every register argument into its spill slot, calls
 * runtime.morestack(_noctxt), reloads them and jumps back to the entry
 * (cmd/compile/internal/ssagen/ssa.go, "spill register args before
 * morestack"; abi-internal.md "the spill area"). go1.19, main.mixed(a
 * int8, b int16, c int32, d int64, ...):
 *
 *	MOVB AL, 0x8(SP)     MOVW BX, 0xa(SP)     MOVL CX, 0xc(SP)
 *	MOVQ DI, 0x10(SP)    MOVB SI, 0x18(SP)    ...
 *	CALL runtime.morestack_noctxt.abi0(SB)
 *
 * So the stores name each argument's register, its width (1, 2, 4, 8
 * bytes: a sub-word argument's upper register bytes are not part of it)
 * and its spill offset, in declaration order: exactly, where pclntab's
 * args size only bounds the spill area (small arguments share words).
 * Results have no spill slots and are not here.
 */
#include <errno.h>
#include <string.h>

#include <capstone/capstone.h>

#include "gobin_int.h"

#define X86_MAX_INSN_LEN	15

/* Go's integer argument register index (abi-internal.md: RAX RBX RCX RDI
 * RSI R8 R9 R10 R11), or -1. */
static int int_arg_index(x86_reg r)
{
	switch (r) {
	case X86_REG_AL: case X86_REG_AX: case X86_REG_EAX: case X86_REG_RAX:
		return 0;
	case X86_REG_BL: case X86_REG_BX: case X86_REG_EBX: case X86_REG_RBX:
		return 1;
	case X86_REG_CL: case X86_REG_CX: case X86_REG_ECX: case X86_REG_RCX:
		return 2;
	case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI: case X86_REG_RDI:
		return 3;
	case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI: case X86_REG_RSI:
		return 4;
	case X86_REG_R8B: case X86_REG_R8W: case X86_REG_R8D: case X86_REG_R8:
		return 5;
	case X86_REG_R9B: case X86_REG_R9W: case X86_REG_R9D: case X86_REG_R9:
		return 6;
	case X86_REG_R10B: case X86_REG_R10W: case X86_REG_R10D: case X86_REG_R10:
		return 7;
	case X86_REG_R11B: case X86_REG_R11W: case X86_REG_R11D: case X86_REG_R11:
		return 8;
	default:
		return -1;
	}
}

static bool is_morestack(const struct gobin *gb, uint64_t target)
{
	const struct gobin_func *g = gobin__func_at(gb, target);

	return g && g->entry == target && g->name &&
	       !strncmp(g->name, "runtime.morestack", 17);
}

/* A store of a register into [RSP + disp]: *s filled, true. */
static bool spill_store(const cs_insn *insn, struct gobin_spill *s)
{
	const cs_x86 *x = &insn->detail->x86;
	const cs_x86_op *mem, *reg;

	if (x->op_count != 2 || x->operands[0].type != X86_OP_MEM ||
	    x->operands[1].type != X86_OP_REG)
		return false;
	mem = &x->operands[0];
	reg = &x->operands[1];
	if (mem->mem.base != X86_REG_RSP || mem->mem.index != X86_REG_INVALID ||
	    mem->mem.segment != X86_REG_INVALID || mem->mem.disp < 8 ||
	    mem->mem.disp > 0xffff)
		return false;
	memset(s, 0, sizeof(*s));
	s->off = (uint32_t)mem->mem.disp - 8;	/* above the return address */
	s->size = mem->size;
	if (insn->id == X86_INS_MOV) {
		s->int_reg = int_arg_index(reg->reg);
		return s->int_reg >= 0 && (s->size == 1 || s->size == 2 ||
					   s->size == 4 || s->size == 8);
	}
	if ((insn->id == X86_INS_MOVSD || insn->id == X86_INS_MOVSS) &&
	    reg->reg >= X86_REG_XMM0 && reg->reg <= X86_REG_XMM15) {
		s->int_reg = -1;
		s->float_reg = (int)(reg->reg - X86_REG_XMM0);
		return s->size == 4 || s->size == 8;
	}
	return false;
}

int gobin__reg_arg_spills(const struct gobin *gb, const struct gobin_func *f,
			  struct gobin_spill *out, size_t max, size_t *n)
{
	size_t run = 0;
	bool overflow = false;
	cs_insn *insn;
	uint64_t addr;
	csh h;
	int ret = -ENOENT;

	*n = 0;
	if (!gb || !f || f->end <= f->entry)
		return -EINVAL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOMEM;
	if (cs_option(h, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK ||
	    !(insn = cs_malloc(h))) {
		cs_close(&h);
		return -ENOMEM;
	}
	for (addr = f->entry; addr < f->end;) {
		size_t len = f->end - addr < X86_MAX_INSN_LEN ?
			     (size_t)(f->end - addr) : X86_MAX_INSN_LEN;
		const uint8_t *code = gobin__ptr(gb, addr, len);
		uint64_t a = addr;
		struct gobin_spill s;

		if (!code || !cs_disasm_iter(h, &code, &len, &a, insn)) {
			/* no guessing past bytes we cannot decode */
			ret = -EILSEQ;
			break;
		}
		addr = insn->address + insn->size;
		/* the assembler may align the CALL with a NOP (go1.19:
		 * NOPL 0(AX) between the last store and the call) */
		if (insn->id == X86_INS_NOP)
			continue;
		if (spill_store(insn, &s)) {
			if (run < max)
				out[run] = s;
			else
				overflow = true;
			run++;
			continue;
		}
		if (insn->id == X86_INS_CALL &&
		    insn->detail->x86.op_count == 1 &&
		    insn->detail->x86.operands[0].type == X86_OP_IMM &&
		    is_morestack(gb, (uint64_t)insn->detail->x86.operands[0].imm)) {
			/* the stores right before it: none is a function
			 * without register arguments */
			*n = run;
			ret = overflow ? -E2BIG : 0;
			break;
		}
		run = 0;
		overflow = false;
	}
	cs_free(insn, 1);
	cs_close(&h);
	return ret;
}
