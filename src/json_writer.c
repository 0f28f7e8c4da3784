// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin/gobin.h"
#include "json_writer.h"

#define JW_MAX_DEPTH 64

struct jw {
	FILE *f;
	int depth;
	bool first[JW_MAX_DEPTH];	/* no element written yet at depth */
	bool after_name;
};

struct jw *jw_new(FILE *f)
{
	struct jw *jw = calloc(1, sizeof(*jw));

	if (jw) {
		jw->f = f;
		jw->first[0] = true;
	}
	return jw;
}

void jw_free(struct jw *jw)
{
	free(jw);
}

/* Separator before a value or a name. */
static void jw_sep(struct jw *jw)
{
	if (jw->after_name) {
		jw->after_name = false;
		return;
	}
	if (!jw->first[jw->depth])
		fputc(',', jw->f);
	jw->first[jw->depth] = false;
}

static void jw_open(struct jw *jw, char c)
{
	jw_sep(jw);
	fputc(c, jw->f);
	if (jw->depth < JW_MAX_DEPTH - 1)
		jw->depth++;
	jw->first[jw->depth] = true;
}

static void jw_close(struct jw *jw, char c)
{
	fputc(c, jw->f);
	if (jw->depth > 0)
		jw->depth--;
}

void jw_start_object(struct jw *jw) { jw_open(jw, '{'); }
void jw_end_object(struct jw *jw) { jw_close(jw, '}'); }
void jw_start_array(struct jw *jw) { jw_open(jw, '['); }
void jw_end_array(struct jw *jw) { jw_close(jw, ']'); }

/*
 * A JSON string of the bytes s[0..len), which need not be UTF-8 (Go
 * strings, syscall buffers, comms are bytes). Well-formed UTF-8 passes
 * through; every byte B of an ill-formed sequence becomes the escape
 * \udcBB, the lone low surrogate U+DC00+B ("surrogateescape", Python's
 * PEP 383). That keeps the value lossless and unambiguous: no well-formed
 * UTF-8 decodes to a surrogate, so a reader that wants the bytes back
 * maps U+DC80..U+DCFF to bytes 80..FF and encodes the rest as UTF-8
 * (Python: s.encode("utf-8", "surrogateescape")). Mapping a bad byte to
 * U+0080..U+00FF instead would make byte E9 and "é" (C3 A9) the same
 * string; U+FFFD would lose the byte.
 */
static void jw_quoted(struct jw *jw, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	FILE *f = jw->f;
	size_t i = 0, run = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];
		size_t n = 1;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f &&
		    (c < 0x80 || (n = gobin__utf8_len(s + i, len - i)))) {
			i += n;		/* copied as is, in runs */
			continue;
		}
		fwrite(s + run, 1, i - run, f);
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			/* controls as themselves, bad bytes as surrogates */
			fprintf(f, "\\u%04x", c < 0x80 ? c : 0xdc00 + c);
		}
		run = ++i;
	}
	fwrite(s + run, 1, i - run, f);
	fputc('"', f);
}

void jw_name(struct jw *jw, const char *name)
{
	jw_sep(jw);
	jw_quoted(jw, name, strlen(name));
	fputc(':', jw->f);
	jw->after_name = true;
}

void jw_string_len(struct jw *jw, const char *s, size_t len)
{
	jw_sep(jw);
	jw_quoted(jw, s, len);
}

void jw_string(struct jw *jw, const char *s)
{
	if (!s) {
		jw_null(jw);
		return;
	}
	jw_string_len(jw, s, strlen(s));
}

void jw_uint(struct jw *jw, uint64_t v)
{
	jw_sep(jw);
	fprintf(jw->f, "%" PRIu64, v);
}

void jw_int(struct jw *jw, int64_t v)
{
	jw_sep(jw);
	fprintf(jw->f, "%" PRId64, v);
}

void fmt_float_exact(char *buf, size_t len, double v, int bits)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* %.17g (%.9g for float32) always reads back; fewer digits are
	 * tried first so that 0.1 stays 0.1 */
	for (int prec = bits == 32 ? 6 : 15; ; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (prec >= (bits == 32 ? 9 : 17))
			return;
		if (bits == 32 ? strtof(buf, NULL) == (float)v
			       : strtod(buf, NULL) == v)
			return;
	}
}

void jw_float(struct jw *jw, double v, int bits)
{
	char buf[40];

	fmt_float_exact(buf, sizeof(buf), v, bits);
	if (!isfinite(v)) {
		jw_string(jw, buf);
		return;
	}
	jw_sep(jw);
	fputs(buf, jw->f);
}

void jw_bool(struct jw *jw, bool v)
{
	jw_sep(jw);
	fputs(v ? "true" : "false", jw->f);
}

void jw_hex(struct jw *jw, uint64_t v)
{
	jw_sep(jw);
	fprintf(jw->f, "\"0x%" PRIx64 "\"", v);
}

void jw_null(struct jw *jw)
{
	jw_sep(jw);
	fputs("null", jw->f);
}

void jw_end_line(struct jw *jw)
{
	fputc('\n', jw->f);
	jw->depth = 0;
	jw->first[0] = true;
	jw->after_name = false;
}
