// SPDX-License-Identifier: MIT
/*
 * --filter expressions: parser, truth table, and the per-function spec
 * (trace_filter.h). Recursive descent; the grammar is shallow and the
 * node array bounds recursion (every level adds a node or fails).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_filter.h"
#include "trace_decode.h"

struct tf_parser {
	struct trace_filter *f;
	const char *s;		/* the whole expression, for messages */
	const char *p;
	char *why;
	size_t whylen;
	int err;
	int depth;
};

/* Parentheses and '!' nest by recursion: bounded well below the stack. */
#define TF_MAX_DEPTH	64

static int tf_fail(struct tf_parser *ps, int err, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ps->err)
		return -1;
	ps->err = err;
	if (ps->why && ps->whylen) {
		va_start(ap, fmt);
		n = vsnprintf(ps->why, ps->whylen, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < ps->whylen)
			snprintf(ps->why + n, ps->whylen - (size_t)n,
				 " at column %d", (int)(ps->p - ps->s) + 1);
	}
	return -1;
}

static void skip_ws(struct tf_parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n')
		ps->p++;
}

static bool name_char(char c)
{
	return c == '_' || c == '~' || (c >= '0' && c <= '9') ||
	       (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (unsigned char)c >= 0x80;
}

static int new_node(struct tf_parser *ps, enum tf_kind k, int a, int b)
{
	struct trace_filter *f = ps->f;

	if (f->nnodes >= TF_MAX_NODES)
		return tf_fail(ps, -E2BIG, "expression too long (at most %d terms)",
			    TF_MAX_NODES);
	f->nodes[f->nnodes] = (struct tf_node){ .kind = k, .a = a, .b = b };
	return f->nnodes++;
}

static bool same_atom(const struct tf_atom *x, const struct tf_atom *y)
{
	if (strcmp(x->name, y->name) || x->op != y->op || x->is_str != y->is_str)
		return false;
	if (x->is_str)
		return x->str_len == y->str_len &&
		       !memcmp(x->str, y->str, x->str_len);
	return x->val == y->val;
}

/* An atom's index, the same one for a comparison written twice. */
static int add_atom(struct tf_parser *ps, const struct tf_atom *a)
{
	struct trace_filter *f = ps->f;

	for (int i = 0; i < f->natoms; i++)
		if (same_atom(&f->atoms[i], a))
			return i;
	if (f->natoms >= TR_FILT_ATOMS)
		return tf_fail(ps, -E2BIG, "more than %d comparisons",
			    TR_FILT_ATOMS);
	f->atoms[f->natoms] = *a;
	return f->natoms++;
}

static int parse_or(struct tf_parser *ps);

/* NAME OP (INT | "TEXT"), p at NAME (nlen bytes). */
static int parse_atom(struct tf_parser *ps, const char *name, size_t nlen)
{
	static const struct { const char *s; enum tr_filt_op op; } ops[] = {
		{ "==", TR_OP_EQ }, { "!=", TR_OP_NE }, { "<=", TR_OP_LE },
		{ ">=", TR_OP_GE }, { "<", TR_OP_LT }, { ">", TR_OP_GT },
	};
	struct tf_atom a;
	bool found = false;
	char *end;
	int i;

	memset(&a, 0, sizeof(a));
	if (nlen >= sizeof(a.name))
		return tf_fail(ps, -EINVAL, "name too long");
	memcpy(a.name, name, nlen);
	skip_ws(ps);
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		size_t l = strlen(ops[k].s);

		if (!strncmp(ps->p, ops[k].s, l)) {
			a.op = ops[k].op;
			ps->p += l;
			found = true;
			break;
		}
	}
	if (!found)
		return tf_fail(ps, -EINVAL, "expected == != < <= > >= after '%s'",
			    a.name);
	skip_ws(ps);
	if (*ps->p == '"') {
		const char *after;
		int err;

		if (a.op != TR_OP_EQ && a.op != TR_OP_NE)
			return tf_fail(ps, -EINVAL, "strings compare with == or != only");
		if (!strcmp(a.name, "goid") || !strcmp(a.name, "pid"))
			return tf_fail(ps, -EINVAL, "%s is a number", a.name);
		err = trace_parse_go_string(ps->p, a.str, sizeof(a.str),
					    &a.str_len, &after);
		if (err == -E2BIG)
			return tf_fail(ps, -E2BIG, "strings are compared in the kernel up to %d bytes",
				    TR_FILT_STR_MAX);
		if (err)
			return tf_fail(ps, -EINVAL, "bad string literal");
		a.is_str = true;
		ps->p = after;
	} else {
		errno = 0;
		if (*ps->p == '-')
			a.val = (uint64_t)strtoll(ps->p, &end, 0);
		else if (*ps->p >= '0' && *ps->p <= '9')
			a.val = strtoull(ps->p, &end, 0);
		else
			end = (char *)ps->p;
		if (errno || end == ps->p || name_char(*end))
			return tf_fail(ps, -EINVAL, "expected an integer or a \"string\" after the operator");
		ps->p = end;
		if (!strcmp(a.name, "pid") && (a.val > INT32_MAX))
			return tf_fail(ps, -EINVAL, "no such pid");
	}
	i = add_atom(ps, &a);
	if (i < 0)
		return -1;
	return new_node(ps, TF_ATOM, i, 0);
}

static int parse_unary(struct tf_parser *ps)
{
	const char *name;
	size_t nlen;
	int n;

	if (++ps->depth > TF_MAX_DEPTH)
		return tf_fail(ps, -E2BIG, "nested too deep");
	skip_ws(ps);
	if (*ps->p == '!' && ps->p[1] != '=') {
		ps->p++;
		n = parse_unary(ps);
		n = n < 0 ? n : new_node(ps, TF_NOT, n, 0);
	} else if (*ps->p == '(') {
		ps->p++;
		n = parse_or(ps);
		skip_ws(ps);
		if (n >= 0 && *ps->p != ')')
			n = tf_fail(ps, -EINVAL, "expected ')'");
		else if (n >= 0)
			ps->p++;
	} else {
		name = ps->p;
		while (name_char(*ps->p))
			ps->p++;
		nlen = (size_t)(ps->p - name);
		if (!nlen) {
			n = tf_fail(ps, -EINVAL, *ps->p ? "expected a comparison, '!' or '('"
						       : "expression ends early");
		} else if ((nlen == 4 && !strncmp(name, "true", 4)) ||
			   (nlen == 5 && !strncmp(name, "false", 5))) {
			n = new_node(ps, TF_CONST, nlen == 4, 0);
		} else {
			n = parse_atom(ps, name, nlen);
		}
	}
	ps->depth--;
	return n;
}

static int parse_and(struct tf_parser *ps)
{
	int l = parse_unary(ps), r;

	while (l >= 0) {
		skip_ws(ps);
		if (strncmp(ps->p, "&&", 2))
			break;
		ps->p += 2;
		r = parse_unary(ps);
		l = r < 0 ? r : new_node(ps, TF_AND, l, r);
	}
	return l;
}

static int parse_or(struct tf_parser *ps)
{
	int l = parse_and(ps), r;

	while (l >= 0) {
		skip_ws(ps);
		if (strncmp(ps->p, "||", 2))
			break;
		ps->p += 2;
		r = parse_and(ps);
		l = r < 0 ? r : new_node(ps, TF_OR, l, r);
	}
	return l;
}

void trace_filter__init(struct trace_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->root = -1;
}

int trace_filter__add(struct trace_filter *f, const char *expr,
		      char *why, size_t whylen)
{
	struct trace_filter work = *f;
	struct tf_parser ps = {
		.f = &work, .s = expr, .p = expr, .why = why, .whylen = whylen,
	};
	int n;

	if (why && whylen)
		why[0] = 0;
	n = parse_or(&ps);
	if (n >= 0) {
		skip_ws(&ps);
		if (*ps.p)
			n = tf_fail(&ps, -EINVAL, "unexpected '%c'", *ps.p);
	}
	if (n >= 0 && work.root >= 0)
		n = new_node(&ps, TF_AND, work.root, n);
	if (n < 0)
		return ps.err ? ps.err : -EINVAL;
	work.root = n;
	*f = work;
	return 0;
}

static bool eval_node(const struct trace_filter *f, int i, uint64_t mask)
{
	const struct tf_node *n;

	/* children come before their parent: bounded by the node count */
	if (i < 0 || i >= f->nnodes)
		return false;
	n = &f->nodes[i];
	switch (n->kind) {
	case TF_CONST:
		return n->a;
	case TF_ATOM:
		return (mask >> n->a) & 1;
	case TF_NOT:
		return !eval_node(f, n->a, mask);
	case TF_AND:
		return eval_node(f, n->a, mask) && eval_node(f, n->b, mask);
	case TF_OR:
		return eval_node(f, n->a, mask) || eval_node(f, n->b, mask);
	}
	return false;
}

bool trace_filter__eval(const struct trace_filter *f, uint64_t mask)
{
	return f->root < 0 || eval_node(f, f->root, mask);
}

uint64_t trace_filter__table(const struct trace_filter *f)
{
	uint64_t t = 0;

	for (uint64_t m = 0; m < (1ULL << f->natoms); m++)
		if (trace_filter__eval(f, m))
			t |= 1ULL << m;
	return t;
}

static bool required(const struct trace_filter *f, int i, const char *name,
		     uint64_t *val)
{
	const struct tf_node *n;
	const struct tf_atom *a;

	if (i < 0 || i >= f->nnodes)
		return false;
	n = &f->nodes[i];
	if (n->kind == TF_AND)
		return required(f, n->a, name, val) ||
		       required(f, n->b, name, val);
	if (n->kind != TF_ATOM)
		return false;
	a = &f->atoms[n->a];
	if (a->is_str || a->op != TR_OP_EQ || strcmp(a->name, name))
		return false;
	*val = a->val;
	return true;
}

bool trace_filter__required(const struct trace_filter *f, const char *name,
			    uint64_t *val)
{
	return required(f, f->root, name, val);
}

int trace_filter__apply(const struct trace_filter *f, struct tr_plan *p,
			bool found[TR_FILT_ATOMS], int *bad)
{
	struct tr_spec *sp = &p->spec;

	memset(sp->filt, 0, sizeof(sp->filt));
	sp->filt_on = f->root >= 0;
	sp->filt_n = (uint8_t)f->natoms;
	sp->filt_table = trace_filter__table(f);
	for (int i = 0; i < f->natoms; i++) {
		const struct tf_atom *a = &f->atoms[i];
		struct tr_filt_atom *fa = &sp->filt[i];
		int err;

		found[i] = false;
		if (!strcmp(a->name, "goid") || !strcmp(a->name, "pid")) {
			fa->kind = a->name[0] == 'g' ? TR_FILT_GOID : TR_FILT_PID;
			fa->op = a->op;
			fa->val = a->val;
			fa->size = 8;
			found[i] = true;
			continue;
		}
		if (a->is_str)
			err = trace_plan__set_filter_str(p, i, a->name, a->op,
							 a->str, a->str_len);
		else
			err = trace_plan__set_filter(p, i, a->name, a->op,
						     a->val);
		if (err == -EINVAL) {
			*bad = i;
			return err;
		}
		/* -ENOENT: no such argument here, the atom stays false */
		found[i] = !err;
	}
	return 0;
}
