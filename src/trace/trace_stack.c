// SPDX-License-Identifier: MIT
/*
 * --stack and --folded of `gosnoop trace`: the return addresses the BPF
 * program collected at the entry (frame-pointer walk), symbolized with
 * pclntab including inlined frames.
 */
#include <inttypes.h>
#include <stdio.h>

#include "gobin/gobin.h"
#include "json_writer.h"
#include "trace_decode.h"

#define TR_INLINE_MAX 8

/* Logical frames of return address pc, innermost first. */
static int pc_frames(const struct tr_out *o, uint64_t pc,
		     struct gobin_frame *fr)
{
	if (pc < o->bias + 1)
		return 0;
	/* a return address is after its CALL: look at the CALL */
	return gobin__pc_frames(o->gb, pc - o->bias - 1, fr, TR_INLINE_MAX);
}

void trace_print_stack(struct tr_out *o, const struct tr_event *e)
{
	uint32_t depth = e->stack_depth < TR_MAX_STACK ? e->stack_depth
						       : TR_MAX_STACK;
	struct gobin_frame fr[TR_INLINE_MAX];

	if (o->jw) {
		jw_name(o->jw, "stack");
		jw_start_array(o->jw);
	}
	for (uint32_t i = 0; i < depth; i++) {
		int n = pc_frames(o, e->pcs[i], fr);

		if (n <= 0) {
			if (o->jw) {
				jw_start_object(o->jw);
				jw_name(o->jw, "pc");
				jw_hex(o->jw, e->pcs[i]);
				jw_end_object(o->jw);
			} else {
				fprintf(o->f, "    0x%" PRIx64 "\n",
					(uint64_t)e->pcs[i]);
			}
			continue;
		}
		for (int j = 0; j < n; j++) {
			if (o->jw) {
				jw_start_object(o->jw);
				jw_name(o->jw, "func");
				jw_string(o->jw, fr[j].func);
				jw_name(o->jw, "file");
				jw_string(o->jw, fr[j].file);
				jw_name(o->jw, "line");
				jw_int(o->jw, fr[j].line);
				if (fr[j].inlined) {
					jw_name(o->jw, "inlined");
					jw_bool(o->jw, true);
				}
				jw_end_object(o->jw);
			} else {
				fprintf(o->f, "    %s (%s:%d)%s\n",
					fr[j].func ? fr[j].func : "?",
					fr[j].file ? fr[j].file : "?",
					fr[j].line,
					fr[j].inlined ? " [inlined]" : "");
			}
		}
	}
	if (o->jw)
		jw_end_array(o->jw);
}

size_t trace_folded_stack(const struct tr_out *o, const char *func,
			  const struct tr_event *e, char *buf, size_t len)
{
	uint32_t depth = e->stack_depth < TR_MAX_STACK ? e->stack_depth
						       : TR_MAX_STACK;
	struct gobin_frame fr[TR_INLINE_MAX];
	size_t w = 0;

	if (!len || !o->gb || !depth)
		return 0;
	buf[0] = 0;
	/* outermost first */
	for (uint32_t i = depth; i-- > 0;) {
		int n = pc_frames(o, e->pcs[i], fr);

		if (n <= 0) {
			w += snprintf(buf + w, w < len ? len - w : 0,
				      "0x%" PRIx64 ";", (uint64_t)e->pcs[i]);
		}
		for (int j = n - 1; j >= 0; j--)
			w += snprintf(buf + w, w < len ? len - w : 0, "%s;",
				      fr[j].func ? fr[j].func : "?");
		if (w >= len)
			break;
	}
	if (w < len)
		w += snprintf(buf + w, len - w, "%s", func);
	if (w >= len)
		w = len - 1;
	/* folded format: ';' separates frames, ' ' ends the stack */
	for (size_t i = 0; i < w; i++)
		if (buf[i] == ' ')
			buf[i] = '_';
	return w;
}
