// SPDX-License-Identifier: MIT
/* The pclntab reader: function table, names, lines, inline trees. */
#include "fuzz_common.h"

static void count_call(const char *callee, void *ctx)
{
	(*(size_t *)ctx) += callee[0] != 0;	/* touch the name */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin *gb = fuzz_open(data, size, STAGE_PCLN);
	struct gobin_frame frames[16];
	size_t n, step;

	if (!gb)
		return 0;
	if (!gb->pcln)
		goto out;
	n = gobin__func_cnt(gb);
	/* Visit a bounded sample so big inputs stay fast. */
	step = n > 512 ? n / 512 : 1;
	for (size_t i = 0; i < n; i += step) {
		const struct gobin_func *f = gobin__func(gb, i);
		const char *file;
		int line;

		if (gobin__func_at(gb, f->entry) == NULL)
			abort();	/* a function contains its entry */
		gobin__func_by_name(gb, f->name);
		gobin__func_line(gb, f, f->entry, &file, &line);
		gobin__pc_frames(gb, f->entry + (f->end - f->entry) / 2,
				 frames, 16);
	}
	{
		size_t calls = 0;

		gobin__for_each_inlined_call(gb, count_call, &calls);
	}
out:
	gobin_pcln__free(gb);
	gobin_elf__free(gb);
	free(gb);
	return 0;
}
