// SPDX-License-Identifier: MIT
/*
 * -o EXPR of `gosnoop trace`: an expression on a function's arguments
 * compiled into one fetch operation (struct tr_out_op) that the one
 * precompiled BPF program runs at the entry, or, when the value is part
 * of an argument's own image (a field of a struct passed by value, the
 * len of a slice argument), an offset into it decoded in user space.
 *
 *   EXPR := PATH | len(PATH) | cap(PATH)
 *   PATH := ARG | (*PATH) | PATH.FIELD | PATH[N]
 *
 * Pointers are followed implicitly by .FIELD as in Go. len/cap of a map
 * or channel read the first word(s) of the object it points to, as the
 * compiler's own len() and cap() do (cmd/compile ssagen
 * referenceTypeBuiltin: "length is stored in the first word for
 * map/chan", cap one word further):
 *   hmap.count, src/runtime/map.go (go1.13-go1.23; map_noswiss.go in
 *     go1.24/1.25): "count int // # live cells == size of map.  Must be
 *     first (used by len() builtin)";
 *   maps.Map.used, src/internal/runtime/maps/map.go (swiss tables, go1.24+):
 *     "used uint64 ... Must be first (known by the compiler, for len()
 *     builtin)";
 *   hchan.qcount, hchan.dataqsiz, src/runtime/chan.go (every release):
 *     "qcount uint // total data in the queue", "dataqsiz uint // size of
 *     the circular queue".
 * A nil map or channel has len 0. Since go1.23 the compiler calls
 * runtime.chanlen for len(ch) instead, which says 0 for the channel of a
 * synchronous time.Timer whatever qcount holds: gosnoop shows qcount.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin/gobin.h"
#include "trace_decode.h"

static const struct gobin_type type_int = {
	.name = "int", .kind = GOBIN_K_INT, .size = 8,
};
static const struct gobin_type type_string = {
	.name = "string", .kind = GOBIN_K_STRING, .size = 16,
};
static const struct gobin_type type_byte = {
	.name = "uint8", .kind = GOBIN_K_UINT8, .size = 1,
};

#define MAX_STEPS	16

enum step_kind { ST_FIELD, ST_INDEX, ST_DEREF };

struct step {
	enum step_kind kind;
	const char *name;	/* ST_FIELD */
	size_t n;
	uint64_t index;		/* ST_INDEX */
};

struct parsed {
	enum { FN_NONE, FN_LEN, FN_CAP } fn;
	const char *root;	/* the argument's name */
	size_t root_n;
	struct step steps[MAX_STEPS];
	int nsteps;
};

static bool ident_char(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (unsigned char)c >= 0x80;
}

static int push(struct parsed *ps, enum step_kind k)
{
	if (ps->nsteps >= MAX_STEPS)
		return -E2BIG;
	ps->steps[ps->nsteps].kind = k;
	return ps->nsteps++;
}

/* PATH at *c, up to end; 0 or -EINVAL. */
static int parse_path(const char **c, const char *end, struct parsed *ps)
{
	const char *s = *c;
	char *e;
	int i;

	if (s < end && *s == '(') {
		s++;
		if (s >= end || *s != '*')
			return -EINVAL;
		s++;
		if (parse_path(&s, end, ps) || s >= end || *s != ')')
			return -EINVAL;
		s++;
		if (push(ps, ST_DEREF) < 0)
			return -EINVAL;
	} else {
		const char *id = s;

		while (s < end && ident_char(*s))
			s++;
		if (s == id || ps->root)
			return -EINVAL;
		ps->root = id;
		ps->root_n = (size_t)(s - id);
	}
	while (s < end && (*s == '.' || *s == '[')) {
		if (*s == '.') {
			const char *id = ++s;

			while (s < end && ident_char(*s))
				s++;
			if (s == id || (i = push(ps, ST_FIELD)) < 0)
				return -EINVAL;
			ps->steps[i].name = id;
			ps->steps[i].n = (size_t)(s - id);
		} else {
			s++;
			if (s >= end || *s < '0' || *s > '9')
				return -EINVAL;
			errno = 0;
			if ((i = push(ps, ST_INDEX)) < 0)
				return -EINVAL;
			ps->steps[i].index = strtoull(s, &e, 10);
			if (errno || e >= end || *e != ']' ||
			    ps->steps[i].index > UINT32_MAX)
				return -EINVAL;
			s = e + 1;
		}
	}
	*c = s;
	return 0;
}

static int parse_expr(const char *expr, struct parsed *ps)
{
	const char *c = expr, *end = expr + strlen(expr);

	memset(ps, 0, sizeof(*ps));
	if ((!strncmp(c, "len(", 4) || !strncmp(c, "cap(", 4)) &&
	    end > c + 5 && end[-1] == ')') {
		ps->fn = c[0] == 'l' ? FN_LEN : FN_CAP;
		c += 4;
		end--;
	}
	if (parse_path(&c, end, ps) || c != end)
		return -EINVAL;
	return 0;
}

static const struct gobin_field *field_of(const struct gobin_type *t,
					  const char *name, size_t n)
{
	if (!t || t->kind != GOBIN_K_STRUCT)
		return NULL;
	for (size_t i = 0; i < t->field_cnt; i++)
		if (t->fields[i].name && strlen(t->fields[i].name) == n &&
		    !strncmp(t->fields[i].name, name, n))
			return &t->fields[i];
	return NULL;
}

/* Where compilation stands: a value at off in the argument's image
 * (in_img), or at off from the address op's hops have reached. */
struct cstate {
	const struct tr_value *v;
	struct tr_out_op *op;
	const struct gobin_type *t;
	bool in_img;
	uint64_t off;
	char *why;
	size_t whylen;
};

/* Follow the pointer-sized word the state is at. */
static int follow(struct cstate *s)
{
	struct tr_out_op *op = s->op;

	if (s->in_img) {
		uint8_t k;
		uint16_t idx;
		bool r;

		if (!trace_plan__word_src(s->v, s->off, &k, &idx, &r)) {
			snprintf(s->why, s->whylen, "the pointer is not in a register or stack slot");
			return -EINVAL;
		}
		op->kind = k;
		op->idx = idx;
		op->nhops = 0;
		s->in_img = false;
	} else {
		if (op->nhops >= TR_OUT_HOPS - 1) {
			snprintf(s->why, s->whylen, "more than %d pointers to follow",
				 TR_OUT_HOPS);
			return -EINVAL;
		}
		op->off[op->nhops++] = (uint32_t)s->off;
	}
	s->off = 0;
	return 0;
}

static const char *tname(const struct gobin_type *t)
{
	return t && t->name ? t->name : "the value";
}

static int step_index(struct cstate *s, uint64_t i)
{
	const struct gobin_type *t = s->t;
	const struct gobin_type *et;
	uint8_t pk, lk;
	uint16_t pidx, lidx;
	bool pr, lr;

	if (t->kind == GOBIN_K_ARRAY) {
		if (i >= t->count || !t->elem) {
			snprintf(s->why, s->whylen, "index %" PRIu64 " out of range for %s",
				 i, tname(t));
			return -EINVAL;
		}
		s->off += i * t->elem->size;
		s->t = t->elem;
		return 0;
	}
	if (t->kind != GOBIN_K_SLICE && t->kind != GOBIN_K_STRING) {
		snprintf(s->why, s->whylen, "%s cannot be indexed", tname(t));
		return -EINVAL;
	}
	et = t->kind == GOBIN_K_STRING ? &type_byte : t->elem;
	/* the kernel reads s[i] only while i < len(s): both words must be
	 * in the argument itself */
	if (!s->in_img || !et ||
	    !trace_plan__word_src(s->v, s->off, &pk, &pidx, &pr) ||
	    !trace_plan__word_src(s->v, s->off + 8, &lk, &lidx, &lr)) {
		snprintf(s->why, s->whylen, "only a %s argument itself can be indexed (its len is checked in the kernel)",
			 tname(t));
		return -EINVAL;
	}
	s->op->kind = pk;
	s->op->idx = pidx;
	s->op->chk_kind = lk;
	s->op->chk_idx = lidx;
	s->op->chk_min = (uint32_t)i;
	s->op->nhops = 0;
	s->in_img = false;
	s->off = i * et->size;
	s->t = et;
	return 0;
}

static int step_len_cap(struct cstate *s, bool cap)
{
	const struct gobin_type *t = s->t;
	int err;

	switch (t->kind) {
	case GOBIN_K_SLICE:
	case GOBIN_K_STRING:
		if (cap && t->kind == GOBIN_K_STRING)
			break;
		s->off += cap ? 16 : 8;
		s->t = &type_int;
		return 0;
	case GOBIN_K_MAP:
	case GOBIN_K_CHAN:
		if (cap && t->kind == GOBIN_K_MAP)
			break;
		err = follow(s);
		if (err)
			return err;
		s->off = cap ? 8 : 0;
		s->op->flags |= TR_OUT_NIL_ZERO;
		s->t = &type_int;
		return 0;
	case GOBIN_K_ARRAY:
		snprintf(s->why, s->whylen, "the %s of %s is %" PRIu64 ", from its type",
			 cap ? "cap" : "len", tname(t), t->count);
		return -EINVAL;
	default:
		break;
	}
	snprintf(s->why, s->whylen, "%s of %s is not defined", cap ? "cap" : "len",
		 tname(t));
	return -EINVAL;
}

/*
 * string(argN) on a stripped binary: ABI words N (ptr) and N+1 (len) as a
 * string, read in the kernel like a DWARF-typed one. It becomes a value
 * of its own in p->vals (raw plans print no vals but the -o ones).
 */
static int raw_string_out(struct tr_plan *p, int slot, const char *expr,
			  unsigned int n, char *why, size_t whylen)
{
	struct tr_outx *ox = &p->outs[slot];
	struct tr_value *vals, *v;
	int vi;

	if (n + 1 >= (unsigned int)p->raw_args) {
		snprintf(why, whylen, "string(argN) takes ABI words N and N+1: this function has %d",
			 p->raw_args);
		return -EINVAL;
	}
	if (p->nstr >= TR_NSTR) {
		snprintf(why, whylen, "at most %d strings per call", TR_NSTR);
		return -EINVAL;
	}
	vals = realloc(p->vals, (p->nval + 1) * sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	p->vals = vals;
	vi = (int)p->nval++;
	v = &vals[vi];
	memset(v, 0, sizeof(*v));
	v->name = expr;
	v->type = &type_string;
	for (unsigned int w = n; w <= n + 1; w++) {
		struct tr_piece *pc = &v->pieces[v->npieces++];

		pc->size = 8;
		pc->img_off = (uint16_t)((w - n) * 8);
		if (p->abi0 || w >= TR_NREGS) {
			pc->kind = TR_SRC_STACK;
			pc->idx = (uint16_t)((p->abi0 ? w : w - TR_NREGS) * 8);
		} else {
			pc->kind = TR_SRC_REG;
			pc->idx = (uint16_t)w;
		}
	}
	trace_plan__want_strings(p, vi);
	ox->expr = expr;
	ox->type = &type_string;
	ox->val = vi;
	ox->in_img = true;
	ox->img_off = 0;
	memset(&p->spec.outs[slot], 0, sizeof(p->spec.outs[slot]));
	return 0;
}

/*
 * A string or slice behind a pointer ('r.URL.RawQuery', 'b.IDs'): the
 * last hop reads its header, and the kernel its contents, into a str[]
 * slot of its own (TR_OUT_HDR); bounded by the slot (TR_STR_CAP minus
 * the header) and --max-string, like an argument's.
 */
static int hdr_out(struct tr_plan *p, int slot, const char *expr, int vi,
		   struct cstate *s)
{
	const struct gobin_type *t = s->t;
	struct tr_out_op *op = s->op;
	uint64_t elem = t->kind == GOBIN_K_STRING ? 1 :
			t->elem ? t->elem->size : 0;
	struct tr_outx *ox = &p->outs[slot];

	if (t->kind == GOBIN_K_SLICE && (!t->elem || elem > UINT16_MAX)) {
		snprintf(s->why, s->whylen, "the elements of %s are not known or too big",
			 tname(t));
		return -EINVAL;
	}
	if (p->nstr >= TR_NSTR) {
		snprintf(s->why, s->whylen, "at most %d strings and slices per call",
			 TR_NSTR);
		return -EINVAL;
	}
	if (op->nhops >= TR_OUT_HOPS) {
		snprintf(s->why, s->whylen, "more than %d pointers to follow",
			 TR_OUT_HOPS);
		return -EINVAL;
	}
	op->off[op->nhops++] = (uint32_t)s->off;
	op->size = t->kind == GOBIN_K_STRING ? 16 : 24;
	op->flags |= TR_OUT_HDR;
	op->str_slot = (uint8_t)p->nstr;
	op->elem_size = (uint16_t)elem;
	/* no argument's bytes: val -1 matches no value in decoding */
	p->strs[p->nstr].val = -1;
	p->strs[p->nstr].img_off = 0;
	p->strs[p->nstr].slot = p->nstr;
	memset(&p->spec.ops[p->nstr], 0, sizeof(p->spec.ops[0]));
	ox->expr = expr;
	ox->type = t;
	ox->val = vi;
	ox->in_img = false;
	ox->hdr = true;
	ox->str_slot = p->nstr;
	p->nstr++;
	p->spec.nstr = p->nstr;
	p->spec.outs[slot] = *op;
	return 0;
}

int trace_plan__add_out(struct tr_plan *p, int slot, const char *expr,
			char *why, size_t whylen)
{
	struct tr_out_op op = {};
	struct tr_outx *ox;
	struct parsed ps;
	struct cstate s = { .op = &op, .in_img = true, .why = why,
			    .whylen = whylen };
	int vi = -1, err;

	if (slot < 0 || slot >= TR_NOUT)
		return -E2BIG;
	if (p->raw) {
		unsigned int n;
		int end = 0;

		if (sscanf(expr, "string(arg%u)%n", &n, &end) == 1 &&
		    !expr[end])
			return raw_string_out(p, slot, expr, n, why, whylen);
		return -ENOENT;
	}
	if (parse_expr(expr, &ps)) {
		snprintf(why, whylen, "give ARG, ARG.FIELD, (*ARG).FIELD, ARG[N], len(ARG) or cap(ARG)");
		return -EINVAL;
	}
	for (size_t i = 0; i < p->nval; i++)
		if (!p->vals[i].is_result &&
		    strlen(p->vals[i].name) == ps.root_n &&
		    !strncmp(p->vals[i].name, ps.root, ps.root_n))
			vi = (int)i;
	if (vi < 0)
		return -ENOENT;
	s.v = &p->vals[vi];
	s.t = s.v->type;
	if (s.v->why || !s.t) {
		snprintf(why, whylen, "argument %.*s is not readable",
			 (int)ps.root_n, ps.root);
		return -EINVAL;
	}
	for (int i = 0; i < ps.nsteps; i++) {
		const struct step *st = &ps.steps[i];
		const struct gobin_field *fl;

		if (!s.t) {
			snprintf(why, whylen, "a type is not known");
			return -EINVAL;
		}
		switch (st->kind) {
		case ST_DEREF:
			if (s.t->kind != GOBIN_K_PTR) {
				snprintf(why, whylen, "%s is not a pointer", tname(s.t));
				return -EINVAL;
			}
			err = follow(&s);
			s.t = s.t->elem;
			break;
		case ST_FIELD:
			if (s.t->kind == GOBIN_K_PTR) {
				err = follow(&s);
				if (err)
					return err;
				s.t = s.t->elem;
			}
			fl = field_of(s.t, st->name, st->n);
			if (!fl) {
				snprintf(why, whylen, "%s has no field %.*s",
					 tname(s.t), (int)st->n, st->name);
				return -EINVAL;
			}
			s.off += fl->offset;
			s.t = fl->type;
			err = 0;
			break;
		case ST_INDEX:
			err = step_index(&s, st->index);
			break;
		}
		if (err)
			return err;
	}
	if (ps.fn != FN_NONE) {
		err = s.t ? step_len_cap(&s, ps.fn == FN_CAP) : -EINVAL;
		if (err)
			return err;
	}
	if (!s.t)
		return -EINVAL;
	ox = &p->outs[slot];
	if (s.in_img) {
		if (s.off + s.t->size > TR_MAX_IMG) {
			snprintf(why, whylen, "%s is too big", tname(s.t));
			return -EINVAL;
		}
		ox->expr = expr;
		ox->type = s.t;
		ox->val = vi;
		ox->in_img = true;
		ox->img_off = s.off;
		memset(&p->spec.outs[slot], 0, sizeof(op));
		return 0;
	}
	if (s.t->kind == GOBIN_K_STRING || s.t->kind == GOBIN_K_SLICE)
		return hdr_out(p, slot, expr, vi, &s);
	if (s.t->size == 0 || s.t->size > 8 || s.t->kind == GOBIN_K_STRING ||
	    s.t->kind == GOBIN_K_STRUCT || s.t->kind == GOBIN_K_ARRAY ||
	    s.t->kind == GOBIN_K_SLICE || s.t->kind == GOBIN_K_INTERFACE) {
		snprintf(why, whylen, "%s behind a pointer: only strings, slices and values of at most 8 bytes (no structs, arrays, interfaces) can be read",
			 tname(s.t));
		return -EINVAL;
	}
	op.off[op.nhops++] = (uint32_t)s.off;
	op.size = (uint8_t)s.t->size;
	ox->expr = expr;
	ox->type = s.t;
	ox->val = vi;
	ox->in_img = false;
	p->spec.outs[slot] = op;
	return 0;
}

int trace_parse_go_string(const char *p, char *out, size_t cap, size_t *n,
			  const char **end)
{
	unsigned int x;

	*n = 0;
	if (*p != '"')
		return -EINVAL;
	for (p++; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			p++;
			switch (*p) {
			case '"': case '\\': c = *p; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'x':
				if (!p[1] || !p[2] ||
				    sscanf(p + 1, "%2x", &x) != 1)
					return -EINVAL;
				c = (char)x;
				p += 2;
				break;
			default:
				return -EINVAL;
			}
		}
		if (*n >= cap)
			return -E2BIG;
		out[(*n)++] = c;
	}
	if (*p != '"')
		return -EINVAL;
	*end = p + 1;
	return 0;
}
