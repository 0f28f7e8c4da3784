/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets: build a gobin object from fuzzer bytes the
 * way gobin__open_mem does, but stop after the loaders a target is about,
 * so each target spends its time in one reader.
 */
#ifndef GOSNOOP_FUZZ_COMMON_H
#define GOSNOOP_FUZZ_COMMON_H

#include <stdlib.h>
#include "gobin/gobin_int.h"

enum fuzz_stage { STAGE_ELF, STAGE_PCLN, STAGE_BUILDINFO, STAGE_DWARF };

static struct gobin *fuzz_open(const uint8_t *data, size_t size,
			       enum fuzz_stage last)
{
	struct gobin *gb;
	char err[256];

	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	gb = calloc(1, sizeof(*gb));
	if (!gb)
		return NULL;
	gb->img = data;
	gb->img_len = size;
	gb->go_minor = -1;
	if (gobin_elf__load(gb, err, sizeof(err)) || last == STAGE_ELF)
		return gb;
	if (gobin_pcln__load(gb, err, sizeof(err)) || last == STAGE_PCLN)
		return gb;
	if (last == STAGE_DWARF) {
		gobin_dwarf__load(gb, err, sizeof(err));
		return gb;
	}
	gobin_buildinfo__load(gb, err, sizeof(err));
	return gb;
}

#endif
