// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
 * Length of the well-formed UTF-8 sequence at s[0..len), or 0 if the
 * bytes there are not one (Unicode 15, table 3-7): no overlong forms (C0,
 * C1, E0 80..9F, F0 80..8F), no surrogates (ED A0..BF), nothing past
 * U+10FFFF (F4 90.., F5..FF), no lone or missing continuation bytes
 * (which includes a sequence cut by the end of a truncated string).
 */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len)
		return 0;
	/* the second byte's range is narrower after these leads */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

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
		    (c < 0x80 || (n = utf8_seq_len(s + i, len - i)))) {
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

void jw_float(struct jw *jw, double v)
{
	jw_sep(jw);
	fprintf(jw->f, "%.6g", v);
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
