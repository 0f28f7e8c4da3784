// SPDX-License-Identifier: MIT
/*
 * insns - a linear sweep over one function's machine code: where it
 * returns (every RET: returns are probed there, never with uretprobes,
 * which swap the return address on a goroutine stack that Go may copy),
 * where it leaves by a tail jump, and whether anything branches back into
 * its first bytes (then a probe there fires more than once per call).
 *
 * Go's linker puts no data inside .text functions (padding is INT3), so a
 * sweep from the entry to the pclntab end decodes every instruction.
 * Capstone runs without detail mode (several times faster); the few
 * branch forms we need are decoded from the bytes here.
 *
 * The image is read through gobin__ptr(), so every byte is bounds-checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "gobin_int.h"

#define X86_MAX_INSN_LEN	15

enum branch_kind {
	BR_NONE,
	BR_RET,
	BR_JMP,		/* direct, target known */
	BR_JCC,
	BR_CALL,
	BR_JMP_INDIRECT,
};

/* Classify insn from its bytes; *target for direct branches. */
static enum branch_kind classify(const cs_insn *insn, uint64_t *target)
{
	const uint8_t *b = insn->bytes;
	size_t i = 0, n = insn->size;
	uint64_t next = insn->address + insn->size;
	int32_t rel32;

	*target = 0;
	while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 ||
			 b[i] == 0xf3 || b[i] == 0x2e || b[i] == 0x3e ||
			 b[i] == 0x26 || b[i] == 0x36 || b[i] == 0x64 ||
			 b[i] == 0x65 || b[i] == 0xf0))
		i++;
	if (i < n && (b[i] & 0xf0) == 0x40)	/* REX */
		i++;
	if (i >= n)
		return BR_NONE;
	switch (b[i]) {
	case 0xc3:
	case 0xc2:
		return BR_RET;
	case 0xeb:
		if (i + 2 != n)
			return BR_NONE;
		*target = next + (uint64_t)(int64_t)(int8_t)b[i + 1];
		return BR_JMP;
	case 0xe9:
	case 0xe8:
		if (i + 5 != n)
			return BR_NONE;
		memcpy(&rel32, b + i + 1, 4);	/* little-endian host */
		*target = next + (uint64_t)(int64_t)rel32;
		return b[i] == 0xe9 ? BR_JMP : BR_CALL;
	case 0xff:
		if (i + 1 < n) {
			uint8_t reg = (b[i + 1] >> 3) & 7;

			if (reg == 4 || reg == 5)
				return BR_JMP_INDIRECT;
		}
		return BR_NONE;
	case 0x0f:
		if (i + 6 == n && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f) {
			memcpy(&rel32, b + i + 2, 4);
			*target = next + (uint64_t)(int64_t)rel32;
			return BR_JCC;
		}
		return BR_NONE;
	default:
		/* jcc rel8, and loop/loope/loopne/jrcxz (e0-e3) */
		if (((b[i] >= 0x70 && b[i] <= 0x7f) ||
		     (b[i] >= 0xe0 && b[i] <= 0xe3)) && i + 2 == n) {
			*target = next + (uint64_t)(int64_t)(int8_t)b[i + 1];
			return BR_JCC;
		}
		return BR_NONE;
	}
}

static int push_ret(struct gobin_func_insns *fi, size_t *cap, uint64_t addr)
{
	if (fi->ret_cnt == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		uint64_t *n = realloc(fi->rets, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		fi->rets = n;
		*cap = ncap;
	}
	fi->rets[fi->ret_cnt++] = addr;
	return 0;
}

/*
 * Whether insn may write R14, from Capstone's Intel-syntax text (no
 * detail mode): the destination is the first operand, so "r14" (r14d,
 * r14w, r14b) first means a write, except for the instructions that only
 * read it there; xchg/xadd write both operands. False positives only cost
 * the caller a slower path.
 */
static bool may_write_r14(const cs_insn *insn)
{
	static const char *const readers[] = {
		"push", "cmp", "test", "bt",
	};

	if (!strstr(insn->op_str, "r14"))
		return false;
	if (!strncmp(insn->mnemonic, "xchg", 4) ||
	    !strncmp(insn->mnemonic, "xadd", 4) ||
	    !strncmp(insn->mnemonic, "lock", 4))
		return true;
	if (strncmp(insn->op_str, "r14", 3))
		return false;
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
		if (!strcmp(insn->mnemonic, readers[i]))
			return false;
	return true;
}

static bool is_morestack(const struct gobin *gb, uint64_t target)
{
	const struct gobin_func *g = gobin__func_at(gb, target);

	return g && g->entry == target && g->name &&
	       !strncmp(g->name, "runtime.morestack", 17);
}

int gobin__func_insns(const struct gobin *gb, const struct gobin_func *f,
		      uint64_t guard, struct gobin_func_insns *fi)
{
	bool after_morestack = false;
	size_t cap = 0;
	cs_insn *insn;
	uint64_t addr;
	csh h;
	int ret = 0;

	if (!gb || !f || !fi || f->end <= f->entry)
		return -EINVAL;
	memset(fi, 0, sizeof(*fi));
	fi->complete = true;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOMEM;
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		return -ENOMEM;
	}
	for (addr = f->entry; addr < f->end;) {
		size_t len = f->end - addr < X86_MAX_INSN_LEN ?
			     (size_t)(f->end - addr) : X86_MAX_INSN_LEN;
		const uint8_t *code = gobin__ptr(gb, addr, len);
		uint64_t a = addr, target;
		enum branch_kind k;

		if (!code) {
			fi->complete = false;
			fi->stop = addr;
			break;
		}
		if (!cs_disasm_iter(h, &code, &len, &a, insn)) {
			/* resynchronize on the next byte; results are now
			 * a best effort, and say so */
			if (fi->complete) {
				fi->complete = false;
				fi->stop = addr;
			}
			addr++;
			after_morestack = false;
			continue;
		}
		addr = insn->address + insn->size;
		if (!fi->writes_r14 && may_write_r14(insn))
			fi->writes_r14 = true;
		k = classify(insn, &target);
		switch (k) {
		case BR_NONE:
			continue;
		case BR_RET:
			ret = push_ret(fi, &cap, insn->address);
			if (ret)
				goto out;
			break;
		case BR_CALL:
			after_morestack = is_morestack(gb, target);
			continue;
		case BR_JMP_INDIRECT:
			fi->indirect_jmps++;
			break;
		case BR_JMP:
		case BR_JCC:
			if (target < f->entry || target >= f->end) {
				if (k == BR_JMP) {
					if (!fi->tail_jmps)
						fi->tail_target = target;
					fi->tail_jmps++;
				}
				break;
			}
			/* the morestack stub's jump back to the entry
			 * re-runs the stack check: that is not a loop */
			if (target <= guard &&
			    !(k == BR_JMP && after_morestack &&
			      target == f->entry) &&
			    !fi->entry_reentered) {
				fi->entry_reentered = true;
				fi->reenter_from = insn->address;
				fi->reenter_to = target;
			}
			break;
		}
		after_morestack = false;
	}
out:
	cs_free(insn, 1);
	cs_close(&h);
	if (ret)
		gobin__func_insns_free(fi);
	return ret;
}

void gobin__func_insns_free(struct gobin_func_insns *fi)
{
	if (!fi)
		return;
	free(fi->rets);
	fi->rets = NULL;
	fi->ret_cnt = 0;
}

/*
 * The instructions x86 uprobes accept, as linux arch/x86/kernel/uprobes.c
 * (uprobe_init_insn: is_prefix_bad, good_insns_64, good_2byte_insns)
 * decides: a refused one fails a whole uprobe_multi link with ENOTSUPP.
 * Rows are the tables' lines, bit i of row r is opcode r*16+i.
 */
static const uint16_t good_insns_64[16] = {
	0x3f3f, 0x3f3f, 0x3f3f, 0x3f3f,	/* 00-3f: no 06/07/0e/0f ... */
	0x0000, 0xffff, 0x0f38, 0xffff,	/* 40 (REX), 50, 60, 70 */
	0xfffb, 0xffff, 0xffff, 0xffff,	/* 80 (no 82), 90, a0, b0 */
	0x0fcf, 0xff8f, 0x0f0f, 0xf3ec,	/* c0, d0, e0, f0 */
};
static const uint16_t good_2byte_insns[16] = {
	0xc000, 0xfeff, 0xff0f, 0x000e,
	0xffff, 0xffff, 0xffff, 0xc0ff,
	0xffff, 0xffff, 0xbf3f, 0xfeff,
	0xffff, 0xfffe, 0xffff, 0x7ffe,
};

static bool table_bit(const uint16_t *t, uint8_t op)
{
	return t[op >> 4] & (1u << (op & 15));
}

int gobin__uprobe_insn_ok(const struct gobin *gb, uint64_t addr,
			  const char **why)
{
	const uint8_t *b = gobin__ptr(gb, addr, 1);
	size_t i = 0, n;
	uint8_t op;

	*why = NULL;
	if (!b)
		return -EFAULT;
	/* up to 15 bytes, but not past the mapped image */
	for (n = X86_MAX_INSN_LEN; n > 1 && !gobin__ptr(gb, addr, n); n--)
		;
	b = gobin__ptr(gb, addr, n);
	for (; i < n; i++) {
		switch (b[i]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0xf0:
			*why = "the kernel does not probe instructions with a lock or segment prefix";
			return 0;
		case 0x64: case 0x65: case 0x66: case 0x67: case 0xf2: case 0xf3:
			continue;
		}
		break;
	}
	if (i < n && (b[i] & 0xf0) == 0x40)	/* REX */
		i++;
	if (i >= n)
		return -EILSEQ;
	op = b[i];
	if (op == 0xc4 || op == 0xc5) {
		/* VEX: the kernel tests the opcode byte after it */
		i += op == 0xc4 ? 3 : 2;
		if (i >= n)
			return -EILSEQ;
		if (!table_bit(good_insns_64, b[i]))
			*why = "the kernel does not probe this AVX instruction";
		return 0;
	}
	if (op == 0x0f) {
		if (i + 1 >= n)
			return -EILSEQ;
		if (b[i + 1] == 0x38 || b[i + 1] == 0x3a)
			*why = "the kernel does not probe 3-byte-opcode instructions";
		else if (!table_bit(good_2byte_insns, b[i + 1]))
			*why = "the kernel does not probe this instruction";
		return 0;
	}
	if (!table_bit(good_insns_64, op))
		*why = "the kernel does not probe this instruction";
	return 0;
}
