// SPDX-License-Identifier: MIT
/*
 * A record of `gosnoop trace` back into Go values, as text or JSON: each
 * value's in-memory image is rebuilt from the pieces trace_plan.c
 * located (register low bytes, copied stack bytes), then formatted by its
 * DWARF type; strings and slices take the bytes the kernel copied.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gobin/gobin.h"
#include "json_writer.h"
#include "trace_decode.h"

/* An itab's name is "T,I": the dynamic type is T. */
static void put_type_name(struct tr_out *o, const char *name)
{
	const char *comma = strrchr(name, ',');
	size_t n = comma ? (size_t)(comma - name) : strlen(name);

	if (o->jw)
		jw_string_len(o->jw, name, n);
	else
		fprintf(o->f, "%.*s", (int)n, name);
}

/* ------------------------------------------------------------ decoding */

struct img {
	uint8_t b[TR_MAX_IMG];
	uint8_t known[TR_MAX_IMG];
};

static void build_img(const struct tr_value *v, const struct tr_event *e,
		      struct img *im)
{
	memset(im, 0, sizeof(*im));
	for (int i = 0; i < v->npieces; i++) {
		const struct tr_piece *p = &v->pieces[i];
		const uint8_t *src = NULL;
		uint64_t reg;

		if (p->img_off + p->size > TR_MAX_IMG)
			continue;
		if (p->kind == TR_SRC_REG && p->idx < TR_NREGS && p->size <= 8) {
			reg = p->at_ret ? e->ret_regs[p->idx] : e->regs[p->idx];
			memcpy(im->b + p->img_off, &reg, p->size);
			memset(im->known + p->img_off, 1, p->size);
		} else if (p->kind == TR_SRC_STACK &&
			   p->idx + p->size <= TR_STACK_WORDS * 8) {
			src = (const uint8_t *)(p->at_ret ? e->ret_stack
							  : e->stack);
			memcpy(im->b + p->img_off, src + p->idx, p->size);
			memset(im->known + p->img_off, 1, p->size);
		}
	}
}

static bool img_known(const struct img *im, uint64_t off, uint64_t n)
{
	if (off + n > TR_MAX_IMG)
		return false;
	for (uint64_t i = 0; i < n; i++)
		if (!im->known[off + i])
			return false;
	return true;
}

static uint64_t img_u(const struct img *im, uint64_t off, uint64_t n)
{
	uint64_t v = 0;

	memcpy(&v, im->b + off, n > 8 ? 8 : n);
	return v;
}

static int64_t sext(uint64_t v, uint64_t n)
{
	if (n >= 8)
		return (int64_t)v;
	if (v & (1ULL << (n * 8 - 1)))
		v |= ~0ULL << (n * 8);
	return (int64_t)v;
}

struct dctx {
	struct tr_out *o;
	const struct tr_plan *p;
	const struct tr_event *e;
	int vi;
	const struct img *im;
	bool trunc;		/* a string or slice of it was cut */
	/* -o of a string/slice behind a pointer: its contents (TR_OUT_HDR) */
	const uint8_t *hdr_bytes;
	size_t hdr_n;
};

static void put_unknown(struct dctx *d)
{
	if (d->o->jw)
		jw_string(d->o->jw, "?");
	else
		fputc('?', d->o->f);
}

static void put_text_quoted(FILE *f, const uint8_t *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_addr(struct dctx *d, uint64_t a)
{
	if (d->o->jw) {
		if (a)
			jw_hex(d->o->jw, a);
		else
			jw_null(d->o->jw);
	} else if (a) {
		fprintf(d->o->f, "0x%" PRIx64, a);
	} else {
		fputs("nil", d->o->f);
	}
}

/* The captured bytes of the string/slice header at off, or NULL; *cut:
 * the kernel saw more bytes than it copied (set for error messages,
 * whose length is not in the record otherwise). */
static const uint8_t *captured_cut(struct dctx *d, uint64_t off, size_t *n,
				   bool *cut)
{
	if (d->hdr_bytes) {
		/* the -o value is the header itself: off 0 only */
		*n = d->hdr_n;
		*cut = false;
		return off ? NULL : d->hdr_bytes;
	}
	for (int i = 0; i < d->p->nstr; i++) {
		const struct tr_strref *s = &d->p->strs[i];

		if (s->val != d->vi || s->img_off != off)
			continue;
		if (s->slot < 0 || s->slot >= TR_NSTR)
			return NULL;
		*n = d->e->str_len[s->slot] & ~TR_STR_CUT;
		*cut = d->e->str_len[s->slot] & TR_STR_CUT;
		if (*n > TR_STR_CAP)
			*n = TR_STR_CAP;
		return d->e->str[s->slot];
	}
	return NULL;
}

static const uint8_t *captured(struct dctx *d, uint64_t off, size_t *n)
{
	bool cut;

	return captured_cut(d, off, n, &cut);
}

static void put_value(struct dctx *d, const struct gobin_type *t,
		      uint64_t off, int depth);

/* The float of bits 32 or 64 whose bit pattern is u. */
static double float_of(uint64_t u, int bits)
{
	double v;

	if (bits == 32) {
		float f;
		uint32_t w = (uint32_t)u;

		memcpy(&f, &w, 4);
		return f;
	}
	memcpy(&v, &u, 8);
	return v;
}

/* A float from its bit pattern, with the digits that read back exactly;
 * sign: text output always signs it (a complex's imaginary part). */
static void put_float_text(struct tr_out *o, uint64_t u, int bits, bool sign)
{
	char buf[40];

	if (o->jw) {
		jw_float(o->jw, float_of(u, bits), bits);
		return;
	}
	fmt_float_exact(buf, sizeof(buf), float_of(u, bits), bits);
	fprintf(o->f, "%s%s", sign && buf[0] != '-' && buf[0] != '+' ? "+" : "",
		buf);
}

static void put_float(struct tr_out *o, uint64_t u, int bits)
{
	put_float_text(o, u, bits, false);
}

/* complex64/128 at off (each part half bytes): [re, im] in JSON, Go's
 * (re+imi) in text. */
static void put_complex(struct dctx *d, uint64_t off, uint64_t half)
{
	struct tr_out *o = d->o;
	int bits = (int)half * 8;

	if (o->jw)
		jw_start_array(o->jw);
	else
		fputc('(', o->f);
	put_float(o, img_u(d->im, off, half), bits);
	put_float_text(o, img_u(d->im, off + half, half), bits, true);
	if (o->jw)
		jw_end_array(o->jw);
	else
		fputs("i)", o->f);
}

/* The elements of a slice whose bytes were captured, when they are of a
 * kind shown by value (integers, bools, floats); false for any other
 * (strings, structs, pointers...): the caller shows the data address
 * rather than an empty or partial list. */
static bool elems_decodable(const struct gobin_type *et)
{
	return et->size && et->size <= 8 &&
	       ((et->kind >= GOBIN_K_BOOL && et->kind <= GOBIN_K_UINTPTR) ||
		et->kind == GOBIN_K_FLOAT32 || et->kind == GOBIN_K_FLOAT64);
}

static void put_elems(struct dctx *d, const struct gobin_type *et,
		      const uint8_t *b, size_t n)
{
	size_t es = et->size, cnt = es ? n / es : 0;
	bool sgn = et->kind >= GOBIN_K_INT && et->kind <= GOBIN_K_INT64;

	if (d->o->jw)
		jw_start_array(d->o->jw);
	else
		fputc('[', d->o->f);
	for (size_t i = 0; i < cnt; i++) {
		uint64_t v = 0;

		memcpy(&v, b + i * es, es);
		if (!d->o->jw && i)
			fputc(' ', d->o->f);
		if (et->kind == GOBIN_K_FLOAT32 || et->kind == GOBIN_K_FLOAT64) {
			put_float(d->o, v, (int)es * 8);
		} else if (et->kind == GOBIN_K_BOOL) {
			if (d->o->jw)
				jw_bool(d->o->jw, v & 0xff);
			else
				fputs(v & 0xff ? "true" : "false", d->o->f);
		} else if (d->o->jw) {
			if (sgn)
				jw_int(d->o->jw, sext(v, es));
			else
				jw_uint(d->o->jw, v);
		} else if (sgn) {
			fprintf(d->o->f, "%" PRId64, sext(v, es));
		} else {
			fprintf(d->o->f, "%" PRIu64, v);
		}
	}
	if (d->o->jw)
		jw_end_array(d->o->jw);
	else
		fputc(']', d->o->f);
}

static void put_slice(struct dctx *d, const struct gobin_type *t, uint64_t off)
{
	const struct img *im = d->im;
	uint64_t ptr = img_u(im, off, 8), len = img_u(im, off + 8, 8);
	uint64_t cap = img_known(im, off + 16, 8) ? img_u(im, off + 16, 8) : 0;
	const uint8_t *b;
	size_t n = 0;
	bool bytes = t->elem && t->elem->size == 1 &&
		     (t->elem->kind == GOBIN_K_UINT8 ||
		      t->elem->kind == GOBIN_K_INT8);

	b = captured(d, off, &n);
	if (b && !n && len)
		b = NULL;	/* not read: the address */
	if (b && t->elem && (bytes || elems_decodable(t->elem)) &&
	    n < len * t->elem->size)
		d->trunc = true;
	if (d->o->jw) {
		jw_start_object(d->o->jw);
		jw_name(d->o->jw, "len");
		jw_uint(d->o->jw, len);
		jw_name(d->o->jw, "cap");
		jw_uint(d->o->jw, cap);
		jw_name(d->o->jw, "data");
		if (!ptr)
			jw_null(d->o->jw);
		else if (b && bytes)
			jw_string_len(d->o->jw, (const char *)b, n);
		else if (b && t->elem && elems_decodable(t->elem))
			put_elems(d, t->elem, b, n);
		else
			jw_hex(d->o->jw, ptr);
		jw_end_object(d->o->jw);
		return;
	}
	fprintf(d->o->f, "%s{len:%" PRIu64 " cap:%" PRIu64 " ",
		t->name ? t->name : "[]", len, cap);
	if (!ptr)
		fputs("nil", d->o->f);
	else if (b && bytes)
		put_text_quoted(d->o->f, b, n);
	else if (b && t->elem && elems_decodable(t->elem))
		put_elems(d, t->elem, b, n);
	else
		fprintf(d->o->f, "0x%" PRIx64, ptr);
	if (b && t->elem && (bytes || elems_decodable(t->elem)) &&
	    n < len * t->elem->size)
		fputs("...", d->o->f);
	fputc('}', d->o->f);
}

static void put_string(struct dctx *d, uint64_t off)
{
	uint64_t ptr = img_u(d->im, off, 8), len = img_u(d->im, off + 8, 8);
	const uint8_t *b;
	size_t n = 0;

	b = len ? captured(d, off, &n) : (const uint8_t *)"";
	if (b && !n && len)
		b = NULL;	/* not read (unmapped, --max-string 0) */
	if (!b) {
		/* not captured: the header only */
		if (d->o->jw) {
			jw_start_object(d->o->jw);
			jw_name(d->o->jw, "ptr");
			jw_hex(d->o->jw, ptr);
			jw_name(d->o->jw, "len");
			jw_uint(d->o->jw, len);
			jw_end_object(d->o->jw);
		} else {
			fprintf(d->o->f, "string{0x%" PRIx64 ", %" PRIu64 "}",
				ptr, len);
		}
		return;
	}
	if (n < len)
		d->trunc = true;
	if (d->o->jw) {
		jw_string_len(d->o->jw, (const char *)b, n);
		return;
	}
	put_text_quoted(d->o->f, b, n);
	if (n < len)
		fputs("...", d->o->f);
}

/* A map or channel: its address and len (channels: cap too) when the
 * kernel read them; nil as nil/null. */
static void put_map_chan(struct dctx *d, const struct gobin_type *t,
			 uint64_t off, uint64_t addr)
{
	bool chan = t->kind == GOBIN_K_CHAN;
	const uint8_t *b;
	uint64_t len = 0, cap = 0;
	size_t n = 0;

	b = addr ? captured(d, off, &n) : NULL;
	if (!b || n < (chan ? 16u : 8u)) {
		put_addr(d, addr);
		return;
	}
	memcpy(&len, b, 8);
	if (chan)
		memcpy(&cap, b + 8, 8);
	if (d->o->jw) {
		jw_start_object(d->o->jw);
		jw_name(d->o->jw, "ptr");
		jw_hex(d->o->jw, addr);
		jw_name(d->o->jw, "len");
		jw_uint(d->o->jw, len);
		if (chan) {
			jw_name(d->o->jw, "cap");
			jw_uint(d->o->jw, cap);
		}
		jw_end_object(d->o->jw);
		return;
	}
	fprintf(d->o->f, "%s{0x%" PRIx64 " len:%" PRIu64, t->name ? t->name : "",
		addr, len);
	if (chan)
		fprintf(d->o->f, " cap:%" PRIu64, cap);
	fputc('}', d->o->f);
}

/*
 * A non-nil interface: its dynamic type's name (from .symtab, else the
 * itab address), and for an error whose type leads to a message (see
 * trace_syms__error_msg) the message the kernel copied.
 */
static void put_iface(struct dctx *d, const struct gobin_type *t,
		      uint64_t off, uint64_t ty)
{
	struct tr_out *o = d->o;
	uint64_t data = img_u(d->im, off + 8, 8);
	const uint8_t *msg = NULL;
	const char *tname = NULL;
	size_t n = 0;
	bool cut = false;

	if (ty >= o->bias) {
		tname = trace_syms__type_name(o->syms, ty - o->bias);
		if (trace_syms__error_msg(o->syms, ty - o->bias))
			msg = captured_cut(d, off, &n, &cut);
	}
	if (msg && cut)
		d->trunc = true;
	if (o->jw) {
		jw_start_object(o->jw);
		jw_name(o->jw, "type");
		if (tname)
			put_type_name(o, tname);
		else
			jw_hex(o->jw, ty);
		jw_name(o->jw, "data");
		jw_hex(o->jw, data);
		if (msg) {
			jw_name(o->jw, "error");
			jw_string_len(o->jw, (const char *)msg, n);
		}
		jw_end_object(o->jw);
		return;
	}
	fprintf(o->f, "%s{", t->name ? t->name : "interface");
	if (msg) {
		put_type_name(o, tname);
		fputc(' ', o->f);
		put_text_quoted(o->f, msg, n);
		if (cut)
			fputs("...", o->f);
		fputc('}', o->f);
		return;
	}
	fputs("type:", o->f);
	if (tname)
		put_type_name(o, tname);
	else
		fprintf(o->f, "0x%" PRIx64, ty);
	fprintf(o->f, ", data:0x%" PRIx64 "}", data);
}

static void put_value(struct dctx *d, const struct gobin_type *t,
		      uint64_t off, int depth)
{
	struct tr_out *o = d->o;
	uint64_t n = t ? t->size : 0, u;

	if (!t || depth > 8 || off + n > TR_MAX_IMG) {
		put_unknown(d);
		return;
	}
	switch (t->kind) {
	case GOBIN_K_STRUCT:
		if (o->jw)
			jw_start_object(o->jw);
		else
			fputc('{', o->f);
		for (size_t i = 0; i < t->field_cnt; i++) {
			const struct gobin_field *fl = &t->fields[i];

			if (o->jw)
				jw_name(o->jw, fl->name ? fl->name : "?");
			else
				fprintf(o->f, "%s%s:", i ? ", " : "",
					fl->name ? fl->name : "?");
			put_value(d, fl->type, off + fl->offset, depth + 1);
		}
		if (o->jw)
			jw_end_object(o->jw);
		else
			fputc('}', o->f);
		return;
	case GOBIN_K_ARRAY:
		if (o->jw)
			jw_start_array(o->jw);
		else
			fputc('[', o->f);
		for (uint64_t i = 0; t->elem && i < t->count && i < 64; i++) {
			if (!o->jw && i)
				fputc(' ', o->f);
			put_value(d, t->elem, off + i * t->elem->size,
				  depth + 1);
		}
		if (o->jw)
			jw_end_array(o->jw);
		else
			fputc(']', o->f);
		return;
	default:
		break;
	}
	if (!img_known(d->im, off, n ? n : 1) && n) {
		put_unknown(d);
		return;
	}
	u = img_u(d->im, off, n);
	switch (t->kind) {
	case GOBIN_K_BOOL:
		if (o->jw)
			jw_bool(o->jw, u & 0xff);
		else
			fputs(u & 0xff ? "true" : "false", o->f);
		return;
	case GOBIN_K_INT: case GOBIN_K_INT8: case GOBIN_K_INT16:
	case GOBIN_K_INT32: case GOBIN_K_INT64:
		if (o->jw)
			jw_int(o->jw, sext(u, n));
		else
			fprintf(o->f, "%" PRId64, sext(u, n));
		return;
	case GOBIN_K_UINT: case GOBIN_K_UINT8: case GOBIN_K_UINT16:
	case GOBIN_K_UINT32: case GOBIN_K_UINT64: case GOBIN_K_UINTPTR:
		if (o->jw)
			jw_uint(o->jw, u);
		else
			fprintf(o->f, "%" PRIu64, u);
		return;
	case GOBIN_K_FLOAT32:
	case GOBIN_K_FLOAT64:
		put_float(o, u, (int)n * 8);
		return;
	case GOBIN_K_COMPLEX64:
	case GOBIN_K_COMPLEX128:
		put_complex(d, off, n / 2);
		return;
	case GOBIN_K_STRING:
		put_string(d, off);
		return;
	case GOBIN_K_SLICE:
		put_slice(d, t, off);
		return;
	case GOBIN_K_INTERFACE:
		if (u)
			put_iface(d, t, off, u);
		else
			put_addr(d, 0);
		return;
	case GOBIN_K_MAP:
	case GOBIN_K_CHAN:
		put_map_chan(d, t, off, u);
		return;
	default:	/* pointers, funcs: the address */
		put_addr(d, n >= 8 ? u : 0);
		return;
	}
}

/* sizes (arguments, register ABI): a register's argument bytes, the
 * value zero-extended from them (the register's upper bytes are not the
 * argument's); -1 no argument in that register: null / "-". */
static void put_raw(struct tr_out *o, const __u64 *regs,
		    const __u64 *stack, int words, bool abi0,
		    const int8_t *sizes)
{
	for (int i = 0; i < words; i++) {
		uint64_t v = abi0 ? stack[i] :
			     i < TR_NREGS ? regs[i] : stack[i - TR_NREGS];
		int sz = sizes && !abi0 && i < TR_NREGS ? sizes[i] : 0;

		if (sz > 0 && sz < 8)
			v &= (1ULL << (sz * 8)) - 1;
		if (sz < 0 && o->jw)
			jw_null(o->jw);
		else if (sz < 0)
			fprintf(o->f, "%s-", i ? ", " : "");
		else if (o->jw)
			jw_uint(o->jw, v);
		else
			fprintf(o->f, "%s%#" PRIx64, i ? ", " : "", v);
	}
}

/* Names of the values whose strings or slices were cut. */
struct trunc_list {
	const char *names[16];
	int n;
};

static void put_vals(struct tr_out *o, const struct tr_plan *p,
		     const struct tr_event *e, bool results,
		     struct trunc_list *tl)
{
	bool first = true;

	for (size_t i = 0; i < p->nval; i++) {
		const struct tr_value *v = &p->vals[i];
		struct dctx d = { .o = o, .p = p, .e = e, .vi = (int)i };
		struct img im;

		if (v->is_result != results)
			continue;
		if (o->jw)
			jw_name(o->jw, v->name);
		else if (results && p->nval && !strncmp(v->name, "~r", 2))
			fprintf(o->f, "%s", first ? "" : ", ");
		else
			fprintf(o->f, "%s%s=", first ? "" : ", ", v->name);
		first = false;
		if (v->why) {
			if (o->jw)
				jw_string(o->jw, "?");
			else
				fputc('?', o->f);
			continue;
		}
		build_img(v, e, &im);
		d.im = &im;
		put_value(&d, v->type, 0, 0);
		if (d.trunc && tl->n < (int)(sizeof(tl->names) /
					     sizeof(tl->names[0])))
			tl->names[tl->n++] = v->name;
	}
}

static void put_outs(struct tr_out *o, const struct tr_plan *p,
		     const struct tr_event *e, struct trunc_list *tl)
{
	bool any = false;

	for (int i = 0; i < TR_NOUT; i++) {
		const struct tr_outx *ox = &p->outs[i];
		struct dctx d = { .o = o, .p = p, .e = e, .vi = ox->val };
		struct img im;

		if (!ox->expr)
			continue;
		if (!any) {
			if (o->jw) {
				jw_name(o->jw, "out");
				jw_start_object(o->jw);
			} else {
				fputs(" {", o->f);
			}
		}
		if (o->jw)
			jw_name(o->jw, ox->expr);
		else
			fprintf(o->f, "%s%s=", any ? " " : "", ox->expr);
		any = true;
		if (ox->in_img) {
			if (ox->val < 0 || (size_t)ox->val >= p->nval) {
				put_unknown(&d);
				continue;
			}
			build_img(&p->vals[ox->val], e, &im);
		} else if (ox->hdr && ox->str_slot >= 0 &&
			   ox->str_slot < TR_NSTR) {
			/* header, then contents, in the op's str[] slot */
			memset(&im, 0, sizeof(im));
			if (e->out_ok[i]) {
				size_t hn = ox->type->kind == GOBIN_K_STRING ? 16 : 24;

				memcpy(im.b, e->str[ox->str_slot], hn);
				memset(im.known, 1, hn);
				d.hdr_bytes = e->str[ox->str_slot] + TR_OUT_HDR_BYTES;
				d.hdr_n = e->str_len[ox->str_slot] & ~TR_STR_CUT;
				if (d.hdr_n > TR_STR_CAP - TR_OUT_HDR_BYTES)
					d.hdr_n = TR_STR_CAP - TR_OUT_HDR_BYTES;
			}
		} else {
			/* the fetched value, as a one-value image */
			memset(&im, 0, sizeof(im));
			if (e->out_ok[i]) {
				memcpy(im.b, &e->outv[i], 8);
				memset(im.known, 1, ox->type->size);
			}
		}
		d.im = &im;
		put_value(&d, ox->type, ox->in_img ? ox->img_off : 0, 0);
		if (d.trunc && tl->n < (int)(sizeof(tl->names) /
					     sizeof(tl->names[0])))
			tl->names[tl->n++] = ox->expr;
	}
	if (any) {
		if (o->jw)
			jw_end_object(o->jw);
		else
			fputc('}', o->f);
	}
}

static bool has_results(const struct tr_plan *p)
{
	for (size_t i = 0; i < p->nval; i++)
		if (p->vals[i].is_result)
			return true;
	return false;
}

static void fmt_dur(FILE *f, uint64_t ns)
{
	if (ns < 10000)
		fprintf(f, "%" PRIu64 "ns", ns);
	else if (ns < 10000000)
		fprintf(f, "%.1fus", ns / 1e3);
	else if (ns < 10000000000ULL)
		fprintf(f, "%.1fms", ns / 1e6);
	else
		fprintf(f, "%.1fs", ns / 1e9);
}

static void put_truncated(struct jw *jw, const struct trunc_list *tl)
{
	if (!tl->n)
		return;
	jw_name(jw, "truncated");
	jw_start_array(jw);
	for (int i = 0; i < tl->n; i++)
		jw_string(jw, tl->names[i]);
	jw_end_array(jw);
}

/* "unknown": {NAME: why} for each value shown wholly or partly as "?"
 * for a reason the plan knows (a float in an X register, a frame DWARF
 * does not describe), so that a "?" is never mistaken for a value. */
static void put_unknown_why(struct jw *jw, const struct tr_plan *p,
			    bool results)
{
	bool any = false;

	for (size_t i = 0; i < p->nval; i++) {
		const struct tr_value *v = &p->vals[i];
		const char *why = v->why ? v->why : v->unknown;

		if (!why || (v->is_result && !results))
			continue;
		if (!any) {
			jw_name(jw, "unknown");
			jw_start_object(jw);
			any = true;
		}
		jw_name(jw, v->name);
		jw_string(jw, why);
	}
	if (any)
		jw_end_object(jw);
}

static void print_json(struct tr_out *o, const struct tr_plan *p,
		       const char *func, const struct tr_event *e)
{
	bool done = e->ts_ret != 0;
	bool unwound = !done && (e->flags & TR_EV_UNWOUND);
	struct trunc_list tl = {};
	struct jw *jw = o->jw;

	jw_start_object(jw);
	jw_name(jw, "type");
	jw_string(jw, done ? "call" : unwound ? "unwound" : "running");
	jw_name(jw, "ts_ns");
	jw_uint(jw, (uint64_t)e->ts_entry + o->mono_to_real);
	jw_name(jw, "pid");
	jw_uint(jw, e->pid);
	jw_name(jw, "tid");
	jw_uint(jw, e->tid);
	jw_name(jw, "goid");
	jw_uint(jw, e->goid);
	jw_name(jw, "func");
	jw_string(jw, func);
	if (p->raw) {
		jw_name(jw, "raw_args");
		jw_start_array(jw);
		put_raw(o, e->regs, e->stack, p->raw_args, p->abi0,
			p->raw_reg_size);
		jw_end_array(jw);
		if (done) {
			jw_name(jw, "raw_ret");
			jw_start_array(jw);
			put_raw(o, e->ret_regs, e->ret_stack, p->raw_rets,
				p->abi0, NULL);
			jw_end_array(jw);
			/*
			 * Register ABI: nothing in a stripped binary records
			 * how many results a function has (args size and the
			 * argument funcdata cover arguments only, results get
			 * no spill slots), so RAX and RBX may be results or
			 * leftovers, also of a function returning nothing:
			 * said so, never passed off as results.
			 */
			if (!p->abi0) {
				jw_name(jw, "unknown");
				jw_start_object(jw);
				jw_name(jw, "raw_ret");
				jw_string(jw, "result count not recorded in a stripped register-ABI binary: RAX and RBX at the RET, results or not");
				jw_end_object(jw);
			}
		}
	} else {
		jw_name(jw, "args");
		jw_start_object(jw);
		put_vals(o, p, e, false, &tl);
		jw_end_object(jw);
		if (done) {
			jw_name(jw, "ret");
			jw_start_object(jw);
			put_vals(o, p, e, true, &tl);
			jw_end_object(jw);
		}
	}
	put_unknown_why(jw, p, done);
	put_outs(o, p, e, &tl);
	put_truncated(jw, &tl);
	if (done) {
		jw_name(jw, "dur_ns");
		jw_uint(jw, (uint64_t)(e->ts_ret - e->ts_entry));
	}
	if (o->gb && e->stack_depth)
		trace_print_stack(o, e);
	jw_end_object(jw);
	jw_end_line(jw);
}

void trace_print(struct tr_out *o, const struct tr_plan *p, const char *func,
		 const struct tr_event *e)
{
	bool done = e->ts_ret != 0;
	uint64_t wall = (uint64_t)e->ts_entry + o->mono_to_real;
	struct trunc_list tl = {};
	time_t sec = wall / 1000000000ULL;
	struct tm tm;
	char ts[16];

	if (o->jw) {
		print_json(o, p, func, e);
		return;
	}
	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(o->f, "%s.%06" PRIu64 " %u/%u g%" PRIu64 " %s(", ts,
		(uint64_t)(wall % 1000000000ULL) / 1000, e->pid, e->tid,
		(uint64_t)e->goid, func);
	if (p->raw)
		put_raw(o, e->regs, e->stack, p->raw_args, p->abi0,
		p->raw_reg_size);
	else
		put_vals(o, p, e, false, &tl);
	fputc(')', o->f);
	if (!done) {
		put_outs(o, p, e, &tl);
		fputs(e->flags & TR_EV_UNWOUND ? " unwound\n"
					       : " still running at exit\n",
		      o->f);
		if (o->gb && e->stack_depth)
			trace_print_stack(o, e);
		return;
	}
	if (p->raw) {
		fputs(" = [", o->f);
		put_raw(o, e->ret_regs, e->ret_stack, p->raw_rets, p->abi0,
			NULL);
		fputc(']', o->f);
	} else if (has_results(p)) {
		fputs(" = ", o->f);
		put_vals(o, p, e, true, &tl);
	}
	put_outs(o, p, e, &tl);
	fputc(' ', o->f);
	fmt_dur(o->f, e->ts_ret - e->ts_entry);
	fputc('\n', o->f);
	if (o->gb && e->stack_depth)
		trace_print_stack(o, e);
}
