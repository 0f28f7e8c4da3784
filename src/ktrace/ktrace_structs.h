/* SPDX-License-Identifier: MIT */
/* Kernel structs and unions from vmlinux BTF for `gosnoop list --kernel
 * 'struct NAME'` (ktrace_structs.c). */
#ifndef GOSNOOP_KTRACE_STRUCTS_H
#define GOSNOOP_KTRACE_STRUCTS_H

#include <stdbool.h>
#include <stddef.h>

struct btf;
struct jw;

/* The NAME glob of a 'struct NAME' / 'struct:NAME' / 'union NAME' pattern
 * (*is_union set), or NULL when pat names no struct. */
const char *kt_structs__pattern(const char *pat, bool *is_union);
/* Print every struct (union) whose name glob matches, sorted by name:
 * one name a line, or with members their declarations and offsets; JSON
 * lines when jw. *count: how many. 0 or -ENOMEM. */
int kt_structs__list(const struct btf *btf, struct jw *jw, const char *glob,
		     bool is_union, bool members, size_t *count);

#endif
