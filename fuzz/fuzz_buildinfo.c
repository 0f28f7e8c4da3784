// SPDX-License-Identifier: MIT
/* Build info and version: .go.buildinfo blobs and the version scan. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin *gb = fuzz_open(data, size, STAGE_BUILDINFO);

	if (!gb)
		return 0;
	gobin__go_version(gb);
	gobin_buildinfo__free(gb);
	gobin_pcln__free(gb);
	gobin_elf__free(gb);
	free(gb);
	return 0;
}
