/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer (in the spirit of bpftool's json_writer):
 * commas and escaping are its business, structure is the caller's.
 */
#ifndef GOSNOOP_JSON_WRITER_H
#define GOSNOOP_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jw;

struct jw *jw_new(FILE *f);
void jw_free(struct jw *jw);
void jw_start_object(struct jw *jw);
void jw_end_object(struct jw *jw);
void jw_start_array(struct jw *jw);
void jw_end_array(struct jw *jw);
void jw_name(struct jw *jw, const char *name);
/*
 * Strings are bytes: well-formed UTF-8 is written as is, each byte B of
 * anything else as \udcBB (U+DC00 + B, PEP 383's "surrogateescape"), so
 * the line is valid JSON and the bytes can be recovered exactly.
 */
void jw_string(struct jw *jw, const char *s);	/* NULL -> null */
void jw_string_len(struct jw *jw, const char *s, size_t len);
void jw_uint(struct jw *jw, uint64_t v);
void jw_int(struct jw *jw, int64_t v);
/* The shortest decimal that reads back as exactly v (bits 32: as a
 * float32, else a float64), as Go's strconv.FormatFloat(v, 'g', -1,
 * bits) chooses digits; NaN and infinities, which JSON has no number
 * for, as the strings "NaN", "+Inf", "-Inf". */
void jw_float(struct jw *jw, double v, int bits);
/* The same text into buf (at least 32 bytes), for text output. */
void fmt_float_exact(char *buf, size_t len, double v, int bits);
void jw_bool(struct jw *jw, bool v);
void jw_hex(struct jw *jw, uint64_t v);		/* "0x4872a0" */
void jw_null(struct jw *jw);
/* End of one JSON-lines record: newline, ready for the next object. */
void jw_end_line(struct jw *jw);

#endif
