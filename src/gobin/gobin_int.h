/* SPDX-License-Identifier: MIT */
/*
 * Private to src/gobin: the object every module fills in, and the load
 * step each module contributes. gobin__open_mem() runs them in order:
 * elf -> pclntab -> version/buildinfo -> dwarf -> layout -> abi.
 * A module keeps its own state behind its pointer so modules stay apart.
 */
#ifndef GOSNOOP_GOBIN_INTERNAL_H
#define GOSNOOP_GOBIN_INTERNAL_H

#include <gelf.h>
#include <libelf.h>
#include "gobin.h"

struct gobin_pcln;	/* pclntab.c */
struct gobin_dwarf;	/* dwarf.c */

struct gobin {
	/* the image */
	const uint8_t *img;
	size_t img_len;
	void *map;		/* mmap()ed by gobin__open, else NULL */
	size_t map_len;
	Elf *elf;

	/* elf.c */
	struct gobin_elf_info elfi;
	GElf_Phdr *phdrs;
	size_t phdr_cnt;
	struct gobin_section *secs;
	size_t sec_cnt;
	struct gobin_sym *syms;	/* .symtab, sorted by address */
	size_t sym_cnt;
	struct gobin_sym **syms_by_name;

	/* pclntab.c */
	struct gobin_pcln *pcln;

	/* buildinfo.c */
	struct gobin_buildinfo bi;
	char *bi_strings;	/* one allocation holding bi's strings */
	char go_version[40];
	enum gobin_version_source ver_src;
	int go_minor;

	/* dwarf.c */
	struct gobin_dwarf *dw;

	/* layout.c, abi.c */
	struct gobin_layout layout;
	struct gobin_abi_info abi;
};

/* Each returns 0 or -errno and, on error, writes one line into err. */
int gobin_elf__load(struct gobin *gb, char *err, size_t errlen);
void gobin_elf__free(struct gobin *gb);
int gobin_pcln__load(struct gobin *gb, char *err, size_t errlen);
void gobin_pcln__free(struct gobin *gb);
int gobin_buildinfo__load(struct gobin *gb, char *err, size_t errlen);
void gobin_buildinfo__free(struct gobin *gb);
/* DWARF is optional: a binary without it (or with broken DWARF) loads. */
int gobin_dwarf__load(struct gobin *gb, char *err, size_t errlen);
void gobin_dwarf__free(struct gobin *gb);
int gobin_layout__load(struct gobin *gb, char *err, size_t errlen);
int gobin_abi__load(struct gobin *gb, char *err, size_t errlen);

/* Little-endian reads from a bounds-checked image. */
static inline uint32_t gobin_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t gobin_le64(const uint8_t *p)
{
	return (uint64_t)gobin_le32(p) | (uint64_t)gobin_le32(p + 4) << 32;
}

/* Parse "go1.N[.P][suffix]" -> N, or -1. */
int gobin_parse_minor(const char *version);

#endif
