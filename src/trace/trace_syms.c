// SPDX-License-Identifier: MIT
/*
 * Names of the dynamic types of Go interface values: an interface's first
 * word is an itab (non-empty interfaces) or a type descriptor (any), and
 * .symtab names both; a sorted table answers address -> Go type name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin/gobin.h"
#include "trace_decode.h"

struct tr_sym {
	uint64_t addr;
	const char *name;	/* the Go type's name, inside .symtab's */
	bool msg;		/* an error whose data word leads to its
				   message (see has_leading_string) */
};

struct tr_syms {
	struct tr_sym *v;
	size_t n;
};

static int sym_cmp(const void *a, const void *b)
{
	const struct tr_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Type descriptors are "type.T" (go1.19 and before) or "type:T" (go1.20+,
 * cmd/link renamed them), itabs "go.itab.T,I" or "go:itab.T,I". */
static const char *go_type_of_sym(const char *name)
{
	static const char *const pfx[] = { "go.itab.", "go:itab.", "type.",
					   "type:" };

	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		size_t l = strlen(pfx[i]);

		if (!strncmp(name, pfx[i], l) && name[l])
			return name + l;
	}
	return NULL;
}

/*
 * Whether Go type tname (a struct) starts with a string field, per DWARF:
 * Go describes string as a struct { str *uint8; len int }, so a field F
 * at offset 0 whose F.len is at 8 is one. The field's name is not known
 * without a type lookup gobin does not offer: try the names error types
 * use (errors.errorString.s, fmt.wrapError.msg, ...).
 */
static bool has_leading_string(const struct gobin *gb, const char *tname)
{
	static const char *const names[] = { "s", "msg", "Msg", "message",
					     "Message", "text", "str", "err" };
	char path[32];
	uint64_t off;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (gobin__dwarf_member_offset(gb, tname, names[i], &off) ||
		    off)
			continue;
		snprintf(path, sizeof(path), "%s.len", names[i]);
		if (!gobin__dwarf_member_offset(gb, tname, path, &off) &&
		    off == 8)
			return true;
	}
	return false;
}

/* "*errors.errorString,error": the itab of a pointer type for error. */
static bool error_with_message(const struct gobin *gb, const char *name)
{
	const char *comma = strrchr(name, ',');
	char tname[256];
	size_t n;

	if (!comma || strcmp(comma, ",error") || name[0] != '*')
		return false;
	n = (size_t)(comma - name - 1);
	if (n >= sizeof(tname))
		return false;
	memcpy(tname, name + 1, n);
	tname[n] = 0;
	return has_leading_string(gb, tname);
}

struct tr_syms *trace_syms__new(const struct gobin *gb)
{
	size_t cnt = gobin__sym_cnt(gb), n = 0;
	struct tr_syms *s;

	if (!cnt)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->v = calloc(cnt, sizeof(*s->v));
	if (!s->v) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < cnt; i++) {
		const struct gobin_sym *sym = gobin__sym(gb, i);
		const char *t;

		if (!sym || !sym->name || !sym->addr)
			continue;
		t = go_type_of_sym(sym->name);
		if (!t)
			continue;
		s->v[n].addr = sym->addr;
		s->v[n].name = t;
		s->v[n].msg = error_with_message(gb, t);
		n++;
	}
	s->n = n;
	qsort(s->v, n, sizeof(*s->v), sym_cmp);
	return s;
}

void trace_syms__free(struct tr_syms *s)
{
	if (!s)
		return;
	free(s->v);
	free(s);
}

const char *trace_syms__type_name(const struct tr_syms *s, uint64_t addr)
{
	struct tr_sym key = { .addr = addr }, *hit;

	if (!s || !s->n)
		return NULL;
	hit = bsearch(&key, s->v, s->n, sizeof(*s->v), sym_cmp);
	return hit ? hit->name : NULL;
}

bool trace_syms__error_msg(const struct tr_syms *s, uint64_t addr)
{
	struct tr_sym key = { .addr = addr }, *hit;

	if (!s || !s->n)
		return false;
	hit = bsearch(&key, s->v, s->n, sizeof(*s->v), sym_cmp);
	return hit && hit->msg;
}
