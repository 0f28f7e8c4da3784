/* SPDX-License-Identifier: MIT */
/*
 * The byte offsets of the runtime.g and runtime.m fields gosnoop reads.
 *
 * DWARF first: when the binary has it, the compiler that built the binary
 * wrote the answer down, build tags, GOEXPERIMENTs and patched runtimes
 * included. Otherwise (stripped binaries, the usual case in production)
 * the row of rt_tables.c for the binary's Go minor release, read from
 * golang/go's runtime source at that release's tag.
 *
 * A release the table does not know (older than go1.13, newer than its
 * last row, or no version found) gives source NONE and every offset -1.
 * That is not an error here: the binary still loads, and only the commands
 * that need these offsets refuse, saying why. A newer release is not
 * guessed from the last row on purpose: go1.23 and go1.25 moved goid and
 * atomicstatus, and a wrong offset reads plausible-looking garbage.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "gobin_int.h"
#include "rt_tables.h"

/* One field: where DWARF names it, where the table and gb->layout keep it. */
struct layout_field {
	const char *type;	/* DWARF struct name */
	const char *member;	/* dotted path inside it */
	size_t layout_off;	/* offsetof(struct gobin_layout, ...) */
	size_t row_off;		/* offsetof(struct rt_release, ...) */
};

#define FIELD(t, m, name) \
	{ t, m, offsetof(struct gobin_layout, name), \
	  offsetof(struct rt_release, name) }

static const struct layout_field fields[] = {
	FIELD("runtime.g", "stack.lo", g_stack_lo),
	FIELD("runtime.g", "stack.hi", g_stack_hi),
	FIELD("runtime.g", "m", g_m),
	FIELD("runtime.g", "sched.sp", g_sched_sp),
	FIELD("runtime.g", "sched.pc", g_sched_pc),
	FIELD("runtime.g", "sched.bp", g_sched_bp),
	FIELD("runtime.g", "atomicstatus", g_atomicstatus),
	FIELD("runtime.g", "goid", g_goid),
	FIELD("runtime.g", "waitreason", g_waitreason),
	FIELD("runtime.g", "gopc", g_gopc),
	FIELD("runtime.g", "startpc", g_startpc),
	FIELD("runtime.m", "procid", m_procid),
	FIELD("runtime.m", "curg", m_curg),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Larger than any runtime.g/runtime.m of any release (both are < 2 KiB):
 * a DWARF offset beyond this is corrupt DWARF, not a layout. */
#define LAYOUT_MAX_OFFSET (1 << 16)

/* Whether the field kept at layout offset layout_off came from DWARF. */
static bool got_from_dwarf(const bool *from_dwarf, size_t layout_off)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].layout_off == layout_off)
			return from_dwarf[i];
	return false;
}

static int *layout_slot(struct gobin_layout *l, const struct layout_field *f)
{
	return (int *)((char *)l + f->layout_off);
}

static int row_value(const struct rt_release *row,
		     const struct layout_field *f)
{
	int v;

	memcpy(&v, (const char *)row + f->row_off, sizeof(v));
	return v;
}

int gobin_layout__load(struct gobin *gb, char *err, size_t errlen)
{
	struct gobin_layout *l = &gb->layout;
	const struct rt_release *row = NULL;
	bool from_dwarf[NFIELDS] = { false };
	bool any_dwarf = false, any_table = false;

	(void)err;
	(void)errlen;

	l->source = GOBIN_LAYOUT_NONE;
	l->table_minor = -1;
	for (size_t i = 0; i < NFIELDS; i++)
		*layout_slot(l, &fields[i]) = -1;

	if (gb->go_minor >= 0)
		row = rt_release_lookup(gb->go_minor);

	for (size_t i = 0; i < NFIELDS; i++) {
		uint64_t off;
		int ret = gobin__dwarf_member_offset(gb, fields[i].type,
						     fields[i].member, &off);

		if (ret == -ENODATA)
			break;		/* no DWARF at all */
		/* -ENOENT (runtime.g not described, member renamed) or an
		 * absurd offset: leave the field to the table. */
		if (ret || off >= LAYOUT_MAX_OFFSET)
			continue;
		*layout_slot(l, &fields[i]) = (int)off;
		from_dwarf[i] = true;
		any_dwarf = true;
	}

	/* Fields DWARF did not give come from the table row of the same
	 * release: the mix is deliberate (a runtime.g in DWARF without, say,
	 * runtime.m still tells goid), and DWARF wins where both exist. */
	if (row) {
		for (size_t i = 0; i < NFIELDS; i++) {
			if (from_dwarf[i])
				continue;
			*layout_slot(l, &fields[i]) =
				row_value(row, &fields[i]);
			any_table = true;
		}
	}

	/* The source is DWARF when the fields that identify and classify
	 * goroutines came from it, even if some others were filled in from
	 * the table; table_minor then still names the row that helped. */
	if (got_from_dwarf(from_dwarf, offsetof(struct gobin_layout, g_goid)) ||
	    got_from_dwarf(from_dwarf,
			   offsetof(struct gobin_layout, g_atomicstatus)) ||
	    (any_dwarf && !any_table))
		l->source = GOBIN_LAYOUT_DWARF;
	else if (any_table)
		l->source = GOBIN_LAYOUT_TABLE;
	if (any_table)
		l->table_minor = row->minor;
	return 0;
}

const struct gobin_layout *gobin__layout(const struct gobin *gb)
{
	return &gb->layout;
}
