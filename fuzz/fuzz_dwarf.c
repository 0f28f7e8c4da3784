// SPDX-License-Identifier: MIT
/* The DWARF reader: types, parameters, member offsets. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin *gb = fuzz_open(data, size, STAGE_DWARF);
	const struct gobin_param *params;
	size_t cnt;
	uint64_t off;

	if (!gb)
		return 0;
	gobin__dwarf_member_offset(gb, "runtime.g", "goid", &off);
	gobin__dwarf_member_offset(gb, "runtime.g", "sched.sp", &off);
	gobin__func_params(gb, "main.greet", &params, &cnt);
	gobin__func_params(gb, "main.main", &params, &cnt);
	gobin__func_params(gb, "runtime.casgstatus", &params, &cnt);
	gobin_dwarf__free(gb);
	gobin_pcln__free(gb);
	gobin_elf__free(gb);
	free(gb);
	return 0;
}
