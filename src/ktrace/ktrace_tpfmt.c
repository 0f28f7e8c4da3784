// SPDX-License-Identifier: MIT
/*
 * Tracepoint fields from tracefs: events/CAT/NAME/format lines such as
 *	field:const char * filename;	offset:16;	size:8;	signed:0;
 *	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
 *	field:__data_loc char[] filename;	offset:8;	size:4;	signed:0;
 * and the ops that decode every field of a record.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktrace_probe.h"

#define STRV_COUNT	KT_STRV_MAX
#define STRV_LEN	64	/* bytes per argv/envp string */
#define USTR_LEN	KT_STR_MAX
#define BUF_LEN		128	/* bytes of a write(2)-style buffer */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* "const char *const * argv" -> type "const char *const *", name "argv";
 * "char prev_comm[16]" -> "char", "prev_comm", array. */
/*
 * syscalls:* tracepoints keep every argument in an unsigned long slot
 * ("field:int dfd; offset:16; size:8; signed:0;"): read one declared as a
 * signed type as that type, so openat's dfd shows AT_FDCWD as -100, not
 * 4294967196, and a 32-bit one from its low half (little-endian), as the
 * kernel's SYSCALL_DEFINE does.
 */
static void syscall_arg_type(struct tp_field *f)
{
	static const char *const s32[] = {
		"int", "pid_t", "clockid_t", "key_serial_t", "timer_t",
		"mqd_t", "rwf_t", "__s32", "s32",
	};
	static const char *const s64[] = {
		"long", "off_t", "loff_t", "ssize_t", "__s64", "s64",
	};

	for (size_t i = 0; i < sizeof(s32) / sizeof(s32[0]); i++)
		if (!strcmp(f->type, s32[i])) {
			f->is_signed = true;
			if (f->size == 8)
				f->size = 4;
			return;
		}
	for (size_t i = 0; i < sizeof(s64) / sizeof(s64[0]); i++)
		if (!strcmp(f->type, s64[i]))
			f->is_signed = true;
}

static int parse_decl(char *decl, struct tp_field *f)
{
	char *name, *br;
	size_t n;

	decl = trim(decl);
	if (!strncmp(decl, "__data_loc ", 11)) {
		f->data_loc = true;
		decl += 11;
	}
	br = strchr(decl, '[');
	if (br && !f->data_loc) {
		f->is_array = true;
		*br = '\0';
		decl = trim(decl);
	}
	/* the name is the last identifier */
	n = strlen(decl);
	while (n && (isalnum((unsigned char)decl[n - 1]) || decl[n - 1] == '_'))
		n--;
	name = decl + n;
	if (!*name)
		return -EINVAL;
	f->name = strdup(name);
	decl[n] = '\0';
	f->type = strdup(trim(decl));
	if (!f->name || !f->type)
		return -ENOMEM;
	for (const char *c = f->type; *c; c++)
		if (*c == '*')
			f->ptr_depth++;
	f->is_ptr = f->ptr_depth > 0;
	f->is_char = strstr(f->type, "char") != NULL;
	f->is_const_char = f->ptr_depth == 1 &&
			   !strncmp(f->type, "const char", 10);
	f->common = !strncmp(f->name, "common_", 7);
	if (f->data_loc)	/* "char[]": the brackets belong to the type */
		f->is_char = !strncmp(f->type, "char", 4);
	return 0;
}

int kt_tpfmt__load(struct kt_probe *p, const char *tracefs, char *err,
		   size_t errlen)
{
	char path[512], line[1024];
	size_t cap = 0;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs,
		 p->cat, p->name);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "probe '%s': no such tracepoint "
				 "(try: gosnoop list --kernel '%s:*')", p->text,
				 p->cat);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		struct tp_field fld = {};
		char *decl, *semi, *s;
		unsigned int off, size;
		int sgn = 0;

		s = trim(line);
		if (strncmp(s, "field:", 6))
			continue;
		decl = s + 6;
		semi = strchr(decl, ';');
		if (!semi)
			continue;
		*semi = '\0';
		if (sscanf(semi + 1, " offset:%u; size:%u; signed:%d", &off,
			   &size, &sgn) < 2) {
			snprintf(err, errlen, "%s: cannot parse '%s'", path, s);
			ret = -EINVAL;
			break;
		}
		ret = parse_decl(decl, &fld);
		if (ret) {
			free(fld.name);
			free(fld.type);
			snprintf(err, errlen, "%s: cannot parse field '%s'",
				 path, decl);
			break;
		}
		fld.offset = off;
		fld.size = size;
		fld.is_signed = sgn;
		if (p->user_ptrs && !fld.is_ptr && !fld.is_array)
			syscall_arg_type(&fld);
		if (p->nfields == cap) {
			struct tp_field *n;

			cap = cap ? 2 * cap : 16;
			n = realloc(p->fields, cap * sizeof(*n));
			if (!n) {
				free(fld.name);
				free(fld.type);
				ret = -ENOMEM;
				break;
			}
			p->fields = n;
		}
		p->fields[p->nfields++] = fld;
	}
	fclose(f);
	return ret;
}

static const struct tp_field *next_field(const struct kt_probe *p,
					 const struct tp_field *f)
{
	size_t i = f - p->fields;

	return i + 1 < p->nfields ? &p->fields[i + 1] : NULL;
}

static bool is_len_name(const char *n)
{
	return !strcmp(n, "count") || !strcmp(n, "len") ||
	       !strcmp(n, "size") || !strcmp(n, "nbytes");
}

/*
 * The length field that bounds `const char *` field f of a syscall (the
 * next field, named like a length: write's buf and count), or NULL.
 */
static const struct tp_field *buf_count(const struct kt_probe *p,
					const struct tp_field *f)
{
	const struct tp_field *nf = next_field(p, f);

	if (!f->is_const_char || !p->user_ptrs || !nf || nf->is_ptr ||
	    !is_len_name(nf->name) || nf->size > 8)
		return NULL;
	return nf;
}

/* Buffer f, count bytes of it (at most BUF_LEN), as output name. */
static int emit_buf(struct kt_probe *p, const struct tp_field *f,
		    const struct tp_field *count, const char *name)
{
	int ret;

	if ((ret = kt_op(p, KT_OP_CTX, 0, 0, f->offset)) ||
	    (ret = kt_op(p, KT_OP_LOAD, f->size > 8 ? 8 : f->size, 0, 0)) ||
	    (ret = kt_op(p, KT_OP_CTX, 0, 0, count->offset)) ||
	    (ret = kt_op(p, KT_OP_LOAD, count->size, 0, 0)))
		return ret;
	return kt_emit(p, KT_OP_EMIT_BUF, KT_F_USER, 4 + BUF_LEN, 0, name,
		       KT_FMT_BUF, NULL);
}

static const struct tp_field *find_field(const struct kt_probe *p,
					 const char *name)
{
	for (size_t i = 0; i < p->nfields; i++)
		if (!strcmp(p->fields[i].name, name))
			return &p->fields[i];
	return NULL;
}

bool kt_tpfmt__is_buf(const struct kt_probe *p, const char *field)
{
	const struct tp_field *f = find_field(p, field);

	return f && buf_count(p, f);
}

int kt_tpfmt__emit_buf(struct kt_probe *p, const char *field,
		       const char *name)
{
	const struct tp_field *f = find_field(p, field), *count;

	count = f ? buf_count(p, f) : NULL;
	if (!count)
		return -ENOENT;
	return emit_buf(p, f, count, name);
}

/*
 * One field's decoding:
 *  - integers: loaded with their size and sign;
 *  - char name[N]: the string in the record;
 *  - __data_loc char[]: the string the record carries at its data_loc;
 *  - syscalls' "const char *" followed by a length (write's buf, count):
 *    that many bytes (at most BUF_LEN) of user memory;
 *  - other "const char *": a NUL-terminated string (user memory for
 *    syscalls, kernel memory elsewhere);
 *  - "const char *const *" (execve's argv, envp): up to STRV_COUNT
 *    strings;
 *  - any other pointer: its value.
 */
static int emit_field(struct kt_probe *p, const struct tp_field *f,
		      char *err, size_t errlen)
{
	__u8 uflag = p->user_ptrs ? KT_F_USER : 0;
	const struct tp_field *count = buf_count(p, f);
	struct kt_out *o;
	int ret;

	if (f->data_loc) {
		if (!f->is_char)
			return 0;	/* binary payloads: not decoded */
		if ((ret = kt_op(p, KT_OP_CTX, 0, 0, f->offset)) ||
		    (ret = kt_op(p, KT_OP_LOAD, 4, 0, 0)) ||
		    (ret = kt_op(p, KT_OP_DATALOC, 0, 0, 0)))
			return ret;
		return kt_emit(p, KT_OP_EMIT_STR, 0, KT_STR_MAX, 0, f->name,
			       KT_FMT_STR, NULL);
	}
	if (f->is_array) {
		if (!f->is_char)
			return 0;
		if ((ret = kt_op(p, KT_OP_CTX, 0, 0, f->offset)))
			return ret;
		return kt_emit(p, KT_OP_EMIT_STR, 0,
			       f->size < KT_STR_MAX ? f->size : KT_STR_MAX, 0,
			       f->name, KT_FMT_STR, NULL);
	}
	if (count)
		return emit_buf(p, f, count, f->name);
	if ((ret = kt_op(p, KT_OP_CTX, 0, 0, f->offset)) ||
	    (ret = kt_op(p, KT_OP_LOAD, f->size > 8 ? 8 : f->size,
			 f->is_signed ? KT_F_SIGNED : 0, 0)))
		return ret;
	if (f->is_const_char)
		return kt_emit(p, KT_OP_EMIT_STR, uflag, USTR_LEN, 0, f->name,
			       KT_FMT_STR, NULL);
	if (f->is_char && f->ptr_depth == 2 && strstr(f->type, "const")) {
		ret = kt_emit(p, KT_OP_EMIT_STRV, uflag,
			      8 + STRV_COUNT * STRV_LEN, STRV_COUNT, f->name,
			      KT_FMT_STRV, &o);
		if (ret)
			return ret;
		o->strv_len = STRV_LEN;
		p->spec.ops[p->spec.nops - 1].len = STRV_LEN;
		return 0;
	}
	return kt_emit(p, KT_OP_EMIT_VAL, 0, 8, 0, f->name,
		       f->is_ptr ? KT_FMT_HEX
				 : f->is_signed ? KT_FMT_INT : KT_FMT_UINT,
		       NULL);
}

int kt_tpfmt__emit_all(struct kt_probe *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->nfields; i++) {
		const struct tp_field *f = &p->fields[i];
		int ret;

		if (f->common)
			continue;
		ret = emit_field(p, f, err, errlen);
		if (ret == -E2BIG) {
			snprintf(err, errlen, "probe '%s': too many fields to "
				 "decode (pick some with -o)", p->text);
			return ret;
		}
		if (ret)
			return ret;
	}
	return 0;
}
