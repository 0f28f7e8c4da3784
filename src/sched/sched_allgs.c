// SPDX-License-Identifier: MIT
/*
 * Where runtime.allgs is in a binary without symbols (see sched_allgs.h).
 */
#include <stdbool.h>
#include <stdint.h>

#include <capstone/capstone.h>

#include "gobin/gobin.h"
#include "sched_allgs.h"

/* RIP-relative operands of runtime.allgadd kept (it has about 15). */
#define ALLGADD_MAX_REFS 64

/*
 * A stripped binary has no symbol for runtime.allgs, but every release
 * (go1.13..go1.26, proc.go) has runtime.allgadd, whose
 * `allgs = append(allgs, gp)` reads and writes the slice's pointer,
 * length and capacity: RIP-relative operands at X, X+8 and X+16. Each
 * such X is a candidate (in code order); the process tells which holds a
 * slice of goroutines (sched_snapshot.c checks).
 */
size_t sched_allgs__candidates(const struct gobin *gb, uint64_t *out,
			       size_t max)
{
	const struct gobin_func *f = gobin__func_by_name(gb, "runtime.allgadd");
	uint64_t refs[ALLGADD_MAX_REFS];
	size_t nref = 0, n = 0, cnt;
	const uint8_t *code;
	cs_insn *insn;
	csh h;

	if (!f || f->end <= f->entry)
		return 0;
	code = gobin__ptr(gb, f->entry, f->end - f->entry);
	if (!code || cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	cnt = cs_disasm(h, code, f->end - f->entry, f->entry, 0, &insn);
	for (size_t i = 0; i < cnt; i++) {
		const cs_x86 *x = &insn[i].detail->x86;

		for (int o = 0; o < x->op_count && nref < ALLGADD_MAX_REFS; o++)
			if (x->operands[o].type == X86_OP_MEM &&
			    x->operands[o].mem.base == X86_REG_RIP)
				refs[nref++] = insn[i].address + insn[i].size +
					       (uint64_t)x->operands[o].mem.disp;
	}
	if (cnt)
		cs_free(insn, cnt);
	cs_close(&h);
	for (size_t i = 0; i < nref && n < max; i++) {
		bool len = false, cap = false, dup = false;

		for (size_t j = 0; j < nref; j++) {
			len |= refs[j] == refs[i] + 8;
			cap |= refs[j] == refs[i] + 16;
		}
		for (size_t j = 0; j < n; j++)
			dup |= out[j] == refs[i];
		if (len && cap && !dup)
			out[n++] = refs[i];
	}
	return n;
}

