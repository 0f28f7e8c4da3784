// SPDX-License-Identifier: MIT
/*
 * trace_set - see trace_set.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin/gobin.h"
#include "trace_decode.h"
#include "trace_set.h"

static const char *const reg_names[TR_NREGS] = {
	"RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11",
};

const char *trace_set__reg_name(unsigned int idx)
{
	return idx < TR_NREGS ? reg_names[idx] : "?";
}

/* A Go integer literal's magnitude (no sign): 0x 0o 0b prefixes, a
 * leading 0 for octal as Go reads it, _ between digits. */
static int parse_mag(const char *p, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	bool digit = false, prev_us = false;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	for (; *p; p++) {
		unsigned int d;

		if (*p == '_') {
			if (prev_us)
				return -EINVAL;
			prev_us = true;
			continue;
		}
		prev_us = false;
		if (isdigit((unsigned char)*p))
			d = (unsigned int)(*p - '0');
		else if (isxdigit((unsigned char)*p))
			d = (unsigned int)(tolower((unsigned char)*p) - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
		digit = true;
	}
	if (!digit && base != 8)
		return -EINVAL;
	if (prev_us)
		return -EINVAL;
	*out = v;
	return 0;
}

int trace_set__parse(const char *arg, struct trace_set *s, char *why,
		     size_t whylen)
{
	const char *eq = strchr(arg, '=');
	const char *v;
	size_t n;
	int err;

	memset(s, 0, sizeof(*s));
	n = eq ? (size_t)(eq - arg) : 0;
	if (!eq || !n || n >= sizeof(s->name)) {
		snprintf(why, whylen, "give ARG=VALUE, e.g. n=42");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)arg[i];

		if (!(c == '_' || isalpha(c) || (i && isdigit(c)))) {
			snprintf(why, whylen, "'%.*s' is not an argument name",
				 (int)n, arg);
			return -EINVAL;
		}
	}
	memcpy(s->name, arg, n);
	v = eq + 1;
	if (!strcmp(v, "true") || !strcmp(v, "false")) {
		s->vkind = TS_BOOL;
		s->mag = v[0] == 't';
		return 0;
	}
	if (!strcmp(v, "nil")) {
		s->vkind = TS_NIL;
		return 0;
	}
	s->vkind = TS_INT;
	if (*v == '-' || *v == '+') {
		s->negative = *v == '-';
		v++;
	}
	err = parse_mag(v, &s->mag);
	if (err) {
		snprintf(why, whylen, err == -ERANGE ?
			 "'%s' does not fit in 64 bits" :
			 "'%s' is not a value: give an integer, true, false or nil",
			 eq + 1);
		return -EINVAL;
	}
	if (s->negative && s->mag > (1ULL << 63)) {
		snprintf(why, whylen, "'%s' does not fit in 64 bits", eq + 1);
		return -EINVAL;
	}
	return 0;
}

/* The 64-bit word for a value of size bytes, signed or not: -ERANGE if
 * it does not fit. Signed values are sign-extended, so a register holds
 * what a Go load of that size leaves in it. */
static int encode(const struct trace_set *s, unsigned int size, bool is_signed,
		  __u64 *out)
{
	unsigned int bits = size * 8;

	if (is_signed) {
		uint64_t lim = 1ULL << (bits - 1);	/* |min| */

		if (s->negative ? s->mag > lim : s->mag >= lim)
			return -ERANGE;
		*out = s->negative ? (__u64)0 - s->mag : s->mag;
		return 0;
	}
	if (s->negative && s->mag)
		return -ERANGE;
	if (bits < 64 && s->mag >> bits)
		return -ERANGE;
	*out = s->mag;
	return 0;
}

int trace_set__resolve(const struct trace_set *s, const struct tr_plan *p,
		       struct tr_set *out, char *why, size_t whylen)
{
	const struct tr_value *v = NULL;
	const struct tr_piece *pc;
	enum gobin_kind k;
	bool is_signed;

	memset(out, 0, sizeof(*out));
	if (p->raw) {
		/* stripped: argN, the N-th integer ABI word */
		char *end;
		unsigned long n;

		if (strncmp(s->name, "arg", 3) || !s->name[3])
			return -ENOENT;
		n = strtoul(s->name + 3, &end, 10);
		if (*end || n >= (unsigned long)p->raw_args)
			return -ENOENT;
		if (s->vkind == TS_BOOL) {
			snprintf(why, whylen, "%s is a raw word (no DWARF): give an integer",
				 s->name);
			return -EINVAL;
		}
		out->size = 8;
		if (p->abi0 || n >= TR_NREGS) {
			out->kind = TR_SRC_STACK;
			out->idx = (__u16)((p->abi0 ? n : n - TR_NREGS) * 8);
		} else {
			out->kind = TR_SRC_REG;
			out->idx = (__u16)n;
		}
		return encode(s, 8, true, &out->val) == 0 ? 0 :
		       (snprintf(why, whylen, "does not fit in 64 bits"), -ERANGE);
	}
	for (size_t i = 0; i < p->nval; i++)
		if (!p->vals[i].is_result && p->vals[i].name &&
		    !strcmp(p->vals[i].name, s->name)) {
			v = &p->vals[i];
			break;
		}
	if (!v)
		return -ENOENT;
	if (v->why) {
		snprintf(why, whylen, "%s cannot be placed: %s", s->name, v->why);
		return -EINVAL;
	}
	k = v->type ? v->type->kind : GOBIN_K_INVALID;
	pc = &v->pieces[0];
	if (!(k >= GOBIN_K_BOOL && k <= GOBIN_K_UINTPTR) &&
	    k != GOBIN_K_PTR && k != GOBIN_K_UNSAFEPTR) {
		snprintf(why, whylen, "%s is a %s: only integers, bools and pointers can be set",
			 s->name, v->type ? v->type->name : "value of unknown type");
		return -EINVAL;
	}
	if (v->npieces != 1 || pc->size != v->type->size ||
	    (pc->kind != TR_SRC_REG && pc->kind != TR_SRC_STACK) ||
	    pc->at_ret || pc->img_off) {
		snprintf(why, whylen, "%s is not in one register or stack slot at the entry",
			 s->name);
		return -EINVAL;
	}
	if ((k == GOBIN_K_BOOL) != (s->vkind == TS_BOOL)) {
		snprintf(why, whylen, k == GOBIN_K_BOOL ?
			 "%s is a bool: give true or false" :
			 "%s is a %s: give an integer%s", s->name, v->type->name,
			 k == GOBIN_K_PTR || k == GOBIN_K_UNSAFEPTR ? " or nil" : "");
		return -EINVAL;
	}
	if (s->vkind == TS_NIL && k != GOBIN_K_PTR && k != GOBIN_K_UNSAFEPTR) {
		snprintf(why, whylen, "%s is a %s: nil is for pointers", s->name,
			 v->type->name);
		return -EINVAL;
	}
	out->kind = pc->kind;
	out->idx = pc->idx;
	out->size = (__u8)pc->size;
	if (s->vkind != TS_INT) {
		out->val = s->mag;	/* false/nil 0, true 1 */
		return 0;
	}
	is_signed = k >= GOBIN_K_INT && k <= GOBIN_K_INT64;
	if (encode(s, (unsigned int)pc->size, is_signed, &out->val)) {
		snprintf(why, whylen, "%s%llu does not fit in %s (a %s)",
			 s->negative ? "-" : "", (unsigned long long)s->mag,
			 s->name, v->type->name);
		return -ERANGE;
	}
	return 0;
}
