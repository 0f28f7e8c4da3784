// SPDX-License-Identifier: MIT
/*
 * Calling convention and how to find the current goroutine (g).
 *
 * ABI: Go 1.17 switched amd64 Go functions to the register-based
 * ABIInternal (src/cmd/compile/abi-internal.md); R14 then holds g inside Go
 * code. Before, everything is passed on the stack (ABI0).
 *
 * g outside Go code (a kernel event, a C frame) is read from TLS. Go's own
 * linker puts runtime.tlsg at the fixed slot -8(FS); an external linker
 * (cgo, some PIE builds) lays out the executable's TLS block per the ELF
 * TLS ABI variant II, where the block ends at the thread pointer: the slot
 * is at fsbase - round_up(PT_TLS memsz, align) + tlsg's offset in it.
 */
#include <string.h>

#include "gobin_int.h"

const char *gobin__abi_name(enum gobin_abi abi)
{
	switch (abi) {
	case GOBIN_ABI0:
		return "ABI0 (stack)";
	case GOBIN_ABI_INTERNAL:
		return "ABIInternal (registers)";
	default:
		return "unknown";
	}
}

/* Register-ABI prologues compare SP (or R12 for big frames) with
 * g.stackguard0 through R14: cmp 0x10(%r14),%rsp = 49 3b 66 10,
 * cmp 0x10(%r14),%r12 = 4d 3b 66 10. ABI0 code loads g from TLS first. */
static enum gobin_abi abi_from_prologue(const struct gobin *gb)
{
	static const char *const probes[] = {
		"runtime.main", "main.main", "runtime.newproc1",
	};

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct gobin_func *f = gobin__func_by_name(gb, probes[i]);
		const uint8_t *p;

		if (!f || f->end - f->entry < 16)
			continue;
		p = gobin__ptr(gb, f->entry, 16);
		if (!p)
			continue;
		for (int off = 0; off + 4 <= 16; off++)
			if ((p[off] == 0x49 || p[off] == 0x4d) &&
			    p[off + 1] == 0x3b && p[off + 2] == 0x66 &&
			    p[off + 3] == 0x10)
				return GOBIN_ABI_INTERNAL;
		return GOBIN_ABI0;
	}
	return GOBIN_ABI_UNKNOWN;
}

int gobin_abi__load(struct gobin *gb, char *err, size_t errlen)
{
	struct gobin_abi_info *a = &gb->abi;

	(void)err;
	(void)errlen;
	if (gb->go_minor >= 17)
		a->abi = GOBIN_ABI_INTERNAL;
	else if (gb->go_minor >= 0)
		a->abi = GOBIN_ABI0;
	else
		a->abi = abi_from_prologue(gb);
	a->g_in_r14 = a->abi == GOBIN_ABI_INTERNAL;

	a->g_access = GOBIN_G_TLS_FS;
	if (gb->elfi.has_tls && gb->elfi.tls_memsz) {
		uint64_t align = gb->elfi.tls_align ? gb->elfi.tls_align : 1;
		uint64_t block = (gb->elfi.tls_memsz + align - 1) / align * align;
		const struct gobin_sym *tlsg =
			gobin__sym_by_name(gb, "runtime.tlsg");
		int64_t in_block = 0;

		/* Stripped binaries lose tlsg; Go's .tbss holds only it, at
		 * offset 0, unless C code adds thread locals of its own. */
		if (tlsg && tlsg->addr < block)
			in_block = (int64_t)tlsg->addr;
		a->tls_g_offset = in_block - (int64_t)block;
		a->tls_how = tlsg ? "PT_TLS block and runtime.tlsg"
				  : "PT_TLS block (runtime.tlsg assumed first)";
	} else {
		a->tls_g_offset = -8;
		a->tls_how = "Go linker's fixed slot -8(FS)";
	}
	return 0;
}

const struct gobin_abi_info *gobin__abi(const struct gobin *gb)
{
	return &gb->abi;
}
