// SPDX-License-Identifier: MIT
/*
 * gosnoop list --kernel [-v] 'struct NAME': kernel structs and unions from
 * vmlinux BTF, for writing ktrace -o/--filter expressions that walk them
 * ('-o prev->comm'). Named as bpftrace names them (bpftrace -lv 'struct
 * task_struct'); 'struct:NAME' and 'union NAME' also, NAME a glob. Without
 * -v one name a line; with -v the members, each declaration as C spells
 * it (libbpf's btf_dump: arrays, function pointers, nested anonymous
 * structs), with its offset in bytes (bits for a bitfield); JSON flattens
 * anonymous members into their parent, as an expression reaches them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "common.h"
#include "json_writer.h"
#include "ktrace_structs.h"

/* Nested anonymous structs JSON follows before it stops. */
#define ANON_DEPTH_MAX 8

const char *kt_structs__pattern(const char *pat, bool *is_union)
{
	static const struct { const char *kw; bool u; } kws[] = {
		{ "struct ", false }, { "struct:", false },
		{ "union ", true }, { "union:", true },
	};

	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		size_t n = strlen(kws[i].kw);

		if (!strncmp(pat, kws[i].kw, n)) {
			*is_union = kws[i].u;
			while (pat[n] == ' ')
				n++;
			return pat + n;
		}
	}
	return NULL;
}

static void to_file(void *ctx, const char *fmt, va_list ap)
{
	vfprintf(ctx, fmt, ap);
}

/* The C declaration of type id (named field, or none), into f. */
static int emit_decl(const struct btf *btf, FILE *f, __u32 id,
		     const char *field, int indent)
{
	LIBBPF_OPTS(btf_dump_emit_type_decl_opts, o, .field_name = field,
		    .indent_level = indent);
	struct btf_dump *d = btf_dump__new(btf, to_file, f, NULL);
	int ret;

	if (!d)
		return -errno;
	ret = btf_dump__emit_type_decl(d, id, &o);
	btf_dump__free(d);
	return ret;
}

static bool is_anon_aggregate(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && btf_is_mod(t))
		t = btf__type_by_id(btf, t->type);
	return t && (btf_is_struct(t) || btf_is_union(t)) && !t->name_off;
}

static void print_members(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		__u32 bits = btf_member_bitfield_size(t, i);
		__u32 off = btf_member_bit_offset(t, i);

		printf("\t");
		emit_decl(btf, stdout, m->type,
			  btf__name_by_offset(btf, m->name_off), 1);
		if (bits)
			printf(":%u;\t/* offset %u, bit %u */\n", bits,
			       off / 8, off % 8);
		else
			printf(";\t/* offset %u */\n", off / 8);
	}
}

static void json_members(const struct btf *btf, struct jw *jw,
			 const struct btf_type *t, __u32 base_bits, int depth)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		__u32 bits = btf_member_bitfield_size(t, i);
		__u32 off = base_bits + btf_member_bit_offset(t, i);
		char *decl = NULL;
		size_t len = 0;
		FILE *f;

		if ((!name || !*name) && is_anon_aggregate(btf, m->type)) {
			const struct btf_type *in = btf__type_by_id(btf,
								    m->type);

			while (btf_is_mod(in))
				in = btf__type_by_id(btf, in->type);
			if (depth < ANON_DEPTH_MAX)
				json_members(btf, jw, in, off, depth + 1);
			continue;
		}
		f = open_memstream(&decl, &len);
		if (!f)
			continue;
		/* an anonymous struct's type: its whole body, on one line */
		emit_decl(btf, f, m->type, "", 0);
		fclose(f);
		for (char *c = decl; c && *c; c++)
			if (*c == '\n' || *c == '\t')
				*c = ' ';
		jw_start_object(jw);
		jw_name(jw, "name"); jw_string(jw, name);
		jw_name(jw, "type"); jw_string(jw, decl);
		jw_name(jw, "offset"); jw_uint(jw, off / 8);
		if (bits) {
			jw_name(jw, "bit_offset"); jw_uint(jw, off % 8);
			jw_name(jw, "bits"); jw_uint(jw, bits);
		}
		jw_end_object(jw);
		free(decl);
	}
}

static void print_struct(const struct btf *btf, struct jw *jw, __u32 id,
			 bool members)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const char *kw = btf_is_union(t) ? "union" : "struct";
	const char *name = btf__name_by_offset(btf, t->name_off);

	if (jw) {
		jw_start_object(jw);
		jw_name(jw, "type"); jw_string(jw, "kernel_struct");
		jw_name(jw, "kind"); jw_string(jw, kw);
		jw_name(jw, "name"); jw_string(jw, name);
		jw_name(jw, "size"); jw_uint(jw, t->size);
		if (members) {
			jw_name(jw, "members");
			jw_start_array(jw);
			json_members(btf, jw, t, 0, 0);
			jw_end_array(jw);
		}
		jw_end_object(jw);
		jw_end_line(jw);
		return;
	}
	if (!members) {
		printf("%s %s\n", kw, name);
		return;
	}
	printf("%s %s {\t/* size %u */\n", kw, name, t->size);
	print_members(btf, t);
	printf("};\n");
}

struct named_id {
	const char *name;
	__u32 id;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named_id *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

int kt_structs__list(const struct btf *btf, struct jw *jw, const char *glob,
		     bool is_union, bool members, size_t *count)
{
	__u32 n = btf__type_cnt(btf);
	struct named_id *ids = calloc(n, sizeof(*ids));
	size_t cnt = 0;

	*count = 0;
	if (!ids)
		return -ENOMEM;
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;

		if (!t || (is_union ? !btf_is_union(t) : !btf_is_struct(t)) ||
		    !t->name_off)
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (strcmp(glob, name) && fnmatch(glob, name, 0))
			continue;
		ids[cnt].name = name;
		ids[cnt++].id = id;
	}
	qsort(ids, cnt, sizeof(*ids), cmp_named);
	for (size_t i = 0; i < cnt; i++)
		print_struct(btf, jw, ids[i].id, members);
	*count = cnt;
	free(ids);
	return 0;
}
