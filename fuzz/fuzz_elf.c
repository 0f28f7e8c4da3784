// SPDX-License-Identifier: MIT
/* The ELF layer: headers, segments, sections, symbols, vaddr lookups. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin *gb = fuzz_open(data, size, STAGE_ELF);
	uint64_t off;

	if (!gb)
		return 0;
	for (size_t i = 0; i < gobin__sym_cnt(gb); i++) {
		const struct gobin_sym *s = gobin__sym(gb, i);

		if (gobin__sym_by_name(gb, s->name) == NULL)
			abort();	/* every symbol finds itself */
		gobin__ptr(gb, s->addr, s->size < 64 ? s->size : 64);
		gobin__vaddr_to_offset(gb, s->addr, &off);
	}
	gobin__section(gb, ".gopclntab");
	gobin__ptr(gb, gb->elfi.entry, 16);
	gobin_elf__free(gb);
	free(gb);
	return 0;
}
