// SPDX-License-Identifier: MIT
/*
 * The runtime layout: the per-release table (rt_tables.c) and
 * gobin__layout() (layout.c).
 *
 * Ground truth, none of it from gobin's own DWARF reader:
 * - DWARF read here directly through libdw (runtime.g, runtime.m and the
 *   nested runtime.stack/runtime.gobuf members), in every binary that has
 *   it: the fixtures (Go 1.19), esbuild 0.0.9 (go1.13.8) and 0.6.1
 *   (go1.14.2) of the corpus (compressed .zdebug DWARF), and any binary
 *   listed in GOSNOOP_LAYOUT_BINS (colon-separated), e.g. programs built
 *   with another Go release when a row is added or checked;
 * - the binary's own runtime.waitReasonStrings array (found by symbol, or
 *   in stripped binaries by its first entries "", "GC assist marking",
 *   "IO wait" in .data) and runtime.gStatusStrings, read as Go strings;
 * - the runtime's machine code in every corpus binary, stripped or not
 *   (check_code_against_table: the instructions that access the fields);
 * - strings and indices copied from golang/go src/runtime/runtime2.go at
 *   the tags docs/runtime-layout.md names (test_waitreason_indices).
 */
#include "testutil.h"

#include <capstone/capstone.h>
#include <dirent.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "gobin/gobin.h"
#include "gobin/rt_tables.h"

/* ------------------------------------------------------------ the fields */
struct field {
	const char *name;	/* as info prints it */
	const char *type;	/* DWARF struct */
	const char *path;	/* member path inside it */
	size_t row_off;		/* offsetof(struct rt_release, ...) */
	size_t layout_off;	/* offsetof(struct gobin_layout, ...) */
};

#define F(n, t, p, m) \
	{ n, t, p, offsetof(struct rt_release, m), \
	  offsetof(struct gobin_layout, m) }

static const struct field fields[] = {
	F("g.stack.lo", "runtime.g", "stack.lo", g_stack_lo),
	F("g.stack.hi", "runtime.g", "stack.hi", g_stack_hi),
	F("g.m", "runtime.g", "m", g_m),
	F("g.sched.sp", "runtime.g", "sched.sp", g_sched_sp),
	F("g.sched.pc", "runtime.g", "sched.pc", g_sched_pc),
	F("g.sched.bp", "runtime.g", "sched.bp", g_sched_bp),
	F("g.atomicstatus", "runtime.g", "atomicstatus", g_atomicstatus),
	F("g.goid", "runtime.g", "goid", g_goid),
	F("g.waitreason", "runtime.g", "waitreason", g_waitreason),
	F("g.gopc", "runtime.g", "gopc", g_gopc),
	F("g.startpc", "runtime.g", "startpc", g_startpc),
	F("m.procid", "runtime.m", "procid", m_procid),
	F("m.curg", "runtime.m", "curg", m_curg),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int row_get(const struct rt_release *r, const struct field *f)
{
	int v;

	memcpy(&v, (const char *)r + f->row_off, sizeof(v));
	return v;
}

static int layout_get(const struct gobin_layout *l, const struct field *f)
{
	int v;

	memcpy(&v, (const char *)l + f->layout_off, sizeof(v));
	return v;
}

/* --------------------------------------------- DWARF, straight from libdw */
static bool die_named(Dwarf_Die *d, const char *name)
{
	const char *n = dwarf_diename(d);

	return n && !strcmp(n, name);
}

/* A struct type named name among the top-level DIEs of any CU. */
static bool dw_find_struct(Dwarf *dw, const char *name, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) &&
		    dwarf_child(&cu, &d) == 0) {
			do {
				if (dwarf_tag(&d) == DW_TAG_structure_type &&
				    die_named(&d, name) &&
				    dwarf_haschildren(&d)) {
					*out = d;
					return true;
				}
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	return false;
}

static bool member_location(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return false;
	if (dwarf_formudata(&a, &w) == 0) {
		*off = w;
		return true;
	}
	if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_plus_uconst) {
		*off = ops[0].number;
		return true;
	}
	return false;
}

/* Offset of the dotted member path inside struct s; -1 if absent. */
static long dw_member_offset(Dwarf_Die *s, const char *path)
{
	char buf[128];
	char *save = NULL, *tok;
	Dwarf_Die cur = *s;
	uint64_t sum = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok;
	     tok = strtok_r(NULL, ".", &save)) {
		Dwarf_Die m;
		bool found = false;

		/* peel typedefs on the way into a nested struct */
		while (dwarf_tag(&cur) == DW_TAG_typedef) {
			Dwarf_Attribute ta;

			if (!dwarf_attr(&cur, DW_AT_type, &ta) ||
			    !dwarf_formref_die(&ta, &cur))
				return -1;
		}
		if (dwarf_child(&cur, &m) != 0)
			return -1;
		do {
			uint64_t off;
			Dwarf_Attribute ta;

			if (dwarf_tag(&m) != DW_TAG_member ||
			    !die_named(&m, tok))
				continue;
			if (!member_location(&m, &off))
				return -1;
			sum += off;
			if (dwarf_attr(&m, DW_AT_type, &ta) &&
			    !dwarf_formref_die(&ta, &cur))
				return -1;
			found = true;
			break;
		} while (dwarf_siblingof(&m, &m) == 0);
		if (!found)
			return -1;
	}
	return (long)sum;
}

/* Reads every field's offset from the DWARF of path into offs[]; returns
 * false when the file has no DWARF describing runtime.g. */
static bool dwarf_offsets(const char *path, long offs[NFIELDS])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Dwarf *dw;
	Dwarf_Die g, m;
	bool ok = false;

	if (fd < 0)
		return false;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (dw && dw_find_struct(dw, "runtime.g", &g) &&
	    dw_find_struct(dw, "runtime.m", &m)) {
		for (size_t i = 0; i < NFIELDS; i++)
			offs[i] = dw_member_offset(
				strcmp(fields[i].type, "runtime.g") ? &m : &g,
				fields[i].path);
		ok = true;
	}
	if (dw)
		dwarf_end(dw);
	close(fd);
	return ok;
}

/* ------------------------------------------- Go strings inside the image */
/* The Go string whose header (ptr, len) is at vaddr, into buf. */
static bool read_gostring(const struct gobin *gb, uint64_t vaddr, char *buf,
			  size_t buflen)
{
	const uint8_t *h = gobin__ptr(gb, vaddr, 16);
	const void *s;
	uint64_t p, n;

	if (!h)
		return false;
	memcpy(&p, h, 8);
	memcpy(&n, h + 8, 8);
	if (n >= buflen)
		return false;
	if (n == 0) {
		buf[0] = 0;
		return p == 0 || gobin__ptr(gb, p, 1);
	}
	s = gobin__ptr(gb, p, n);
	if (!s)
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	return true;
}

/* Address and length (in entries, 0 if unknown) of the binary's
 * runtime.waitReasonStrings: by symbol, else by scanning .data for the
 * three entries every release starts with ("", "GC assist marking",
 * "IO wait"). 0 when not found or not unique. */
static uint64_t find_waitreasons(const struct gobin *gb, size_t *count)
{
	const struct gobin_sym *s =
		gobin__sym_by_name(gb, "runtime.waitReasonStrings");
	const struct gobin_section *d = gobin__section(gb, ".data");
	uint64_t found = 0;
	int hits = 0;

	*count = 0;
	if (s) {
		*count = s->size / 16;
		return s->addr;
	}
	if (!d || !d->data)
		return 0;
	for (uint64_t off = 0; off + 48 <= d->size; off += 8) {
		char a[32], b[32], c[32];

		if (memcmp(d->data + off, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
			   16))
			continue;
		if (read_gostring(gb, d->addr + off, a, sizeof(a)) &&
		    read_gostring(gb, d->addr + off + 16, b, sizeof(b)) &&
		    read_gostring(gb, d->addr + off + 32, c, sizeof(c)) &&
		    !a[0] && !strcmp(b, "GC assist marking") &&
		    !strcmp(c, "IO wait")) {
			found = d->addr + off;
			hits++;
		}
	}
	return hits == 1 ? found : 0;
}

static struct gobin *open_bin(const char *path)
{
	char err[256];
	struct gobin *gb = NULL;
	int ret = gobin__open(path, &gb, err, sizeof(err));

	if (ret)
		print_message("%s: open failed: %s\n", path, err);
	assert_int_equal(ret, 0);
	return gb;
}

/* ------------------------------------- the runtime's own machine code */
/*
 * Stripped binaries have no DWARF, but the runtime's code uses the
 * offsets: each check below names an access of the Go source, found in
 * the functions (bounds from .gopclntab) with Capstone. Patterns seen in
 * every corpus binary go1.13.8 .. go1.26.5 (docs/runtime-layout.md):
 *   casgstatus      the first "lock cmpxchg r32, [gp+atomicstatus]"
 *   minit           "getg().m.procid = uint64(gettid())": its only store
 *                   of a 64-bit register to a struct field
 *   execute         "mp.curg = gp", "gp.m = mp"
 *   mcall           saves pc, sp, bp into g.sched, loads g.m
 *   newproc1        stores goid, and gopc, ancestors, startpc (three
 *                   consecutive words in every release) into newg
 *   goroutineheader loads the byte gp.waitreason; compares the status
 *                   with len(gStatusStrings) and, from go1.15 where
 *                   waitReason.String is inlined there, the wait reason
 *                   with len(waitReasonStrings)
 */
struct code {
	csh h;
	cs_insn *insn;
	size_t n;
};

static bool code_load(const struct gobin *gb, csh h, const char *func,
		      struct code *c)
{
	const struct gobin_func *f = gobin__func_by_name(gb, func);
	const uint8_t *bytes;

	c->h = h;
	c->insn = NULL;
	c->n = 0;
	if (!f || f->end <= f->entry)
		return false;
	bytes = gobin__ptr(gb, f->entry, f->end - f->entry);
	if (!bytes)
		return false;
	c->n = cs_disasm(h, bytes, f->end - f->entry, f->entry, 0, &c->insn);
	return c->n > 0;
}

static void code_free(struct code *c)
{
	if (c->insn)
		cs_free(c->insn, c->n);
}

/* A memory operand of a struct field: base register, no index, neither
 * the stack (RSP, the RBP frame) nor RIP. */
static bool field_mem(const cs_x86_op *op)
{
	return op->type == X86_OP_MEM && op->mem.index == X86_REG_INVALID &&
	       op->mem.base != X86_REG_INVALID &&
	       op->mem.base != X86_REG_RSP && op->mem.base != X86_REG_RIP &&
	       op->mem.base != X86_REG_RBP &&
	       op->mem.segment == X86_REG_INVALID;
}

/* Whether instruction i is a MOV of a register (of size bytes) into a
 * field; *disp is then the field's offset. */
static bool is_store(const struct code *c, size_t i, int size, long *disp)
{
	const cs_x86 *x = &c->insn[i].detail->x86;

	if (c->insn[i].id != X86_INS_MOV || x->op_count != 2 ||
	    !field_mem(&x->operands[0]) || x->operands[1].type != X86_OP_REG ||
	    x->operands[0].size != size)
		return false;
	*disp = (long)x->operands[0].mem.disp;
	return true;
}

/* Displacement of the nth such store (from 0), or -1. */
static long nth_store(const struct code *c, int nth, int size)
{
	long d;

	for (size_t i = 0; i < c->n; i++)
		if (is_store(c, i, size, &d) && nth-- == 0)
			return d;
	return -1;
}

static bool has_store(const struct code *c, long disp, int size)
{
	long d;

	for (size_t i = 0; i < c->n; i++)
		if (is_store(c, i, size, &d) && d == disp)
			return true;
	return false;
}

/* Whether a run of at least three 8-byte stores to consecutive words (in
 * instruction order, ignoring stores below offset 64: write barrier
 * buffer slots and the like) ends at disp: newproc1 fills newg's
 * [parentGoid,] gopc, ancestors, startpc in one go. */
static bool has_store_run_ending_at(const struct code *c, long disp)
{
	long prev = -1, d;
	int len = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (!is_store(c, i, 8, &d) || d < 64)
			continue;
		if (prev >= 0 && d == prev + 8) {
			len++;
		} else {
			if (len >= 3 && prev == disp)
				return true;
			len = 1;
		}
		prev = d;
	}
	return len >= 3 && prev == disp;
}

/* A MOV/MOVZX from the field at disp into a register, of size bytes. */
static bool has_load(const struct code *c, long disp, int size)
{
	for (size_t i = 0; i < c->n; i++) {
		const cs_x86 *x = &c->insn[i].detail->x86;

		if ((c->insn[i].id == X86_INS_MOV ||
		     c->insn[i].id == X86_INS_MOVZX) && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG &&
		    field_mem(&x->operands[1]) &&
		    x->operands[1].size == size &&
		    x->operands[1].mem.disp == disp)
			return true;
	}
	return false;
}

/* The displacement of the first LOCK CMPXCHG into a field, or -1. */
static long first_lock_cmpxchg(const struct code *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const cs_x86 *x = &c->insn[i].detail->x86;

		if (c->insn[i].id == X86_INS_CMPXCHG &&
		    x->prefix[0] == X86_PREFIX_LOCK && x->op_count == 2 &&
		    field_mem(&x->operands[0]))
			return (long)x->operands[0].mem.disp;
	}
	return -1;
}

/* A "cmp reg, imm" with that immediate. */
static bool has_cmp_imm(const struct code *c, long imm)
{
	for (size_t i = 0; i < c->n; i++) {
		const cs_x86 *x = &c->insn[i].detail->x86;

		if (c->insn[i].id == X86_INS_CMP && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG &&
		    x->operands[1].type == X86_OP_IMM &&
		    x->operands[1].imm == imm)
			return true;
	}
	return false;
}

static void load_or_fail(const struct gobin *gb, csh h, const char *func,
			 struct code *c, const char *path)
{
	if (!code_load(gb, h, func, c))
		fail_msg("%s: %s not found or not disassembled", path, func);
}

/* The table row of path's release against the machine code. */
static void check_code_against_table(const char *path)
{
	struct gobin *gb = open_bin(path);
	const struct rt_release *r = rt_release_lookup(gobin__go_minor(gb));
	struct code c;
	csh h;
	long d;

	assert_non_null(r);
	assert_int_equal(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);

	load_or_fail(gb, h, "runtime.casgstatus", &c, path);
	d = first_lock_cmpxchg(&c);
	if (d != r->g_atomicstatus)
		fail_msg("%s: casgstatus cmpxchg at %ld, table go1.%d atomicstatus %d",
			 path, d, r->minor, r->g_atomicstatus);
	code_free(&c);

	load_or_fail(gb, h, "runtime.minit", &c, path);
	d = nth_store(&c, 0, 8);
	if (d != r->m_procid || nth_store(&c, 1, 8) != -1)
		fail_msg("%s: minit stores at %ld, table go1.%d m.procid %d",
			 path, d, r->minor, r->m_procid);
	code_free(&c);

	load_or_fail(gb, h, "runtime.execute", &c, path);
	if (!has_store(&c, r->m_curg, 8) || !has_store(&c, r->g_m, 8))
		fail_msg("%s: execute: no store to m.curg %d / g.m %d (go1.%d)",
			 path, r->m_curg, r->g_m, r->minor);
	code_free(&c);

	load_or_fail(gb, h, "runtime.mcall", &c, path);
	if (!has_store(&c, r->g_sched_pc, 8) ||
	    !has_store(&c, r->g_sched_sp, 8) ||
	    !has_store(&c, r->g_sched_bp, 8) || !has_load(&c, r->g_m, 8))
		fail_msg("%s: mcall: no sched.pc %d/sp %d/bp %d store or g.m %d load (go1.%d)",
			 path, r->g_sched_pc, r->g_sched_sp, r->g_sched_bp,
			 r->g_m, r->minor);
	code_free(&c);

	load_or_fail(gb, h, "runtime.newproc1", &c, path);
	if (!has_store(&c, r->g_goid, 8) ||
	    !has_store_run_ending_at(&c, r->g_startpc) ||
	    r->g_gopc != r->g_startpc - 16)
		fail_msg("%s: newproc1: no store to goid %d, or no gopc %d, ancestors, startpc %d run (go1.%d)",
			 path, r->g_goid, r->g_gopc, r->g_startpc, r->minor);
	code_free(&c);

	load_or_fail(gb, h, "runtime.goroutineheader", &c, path);
	if (!has_load(&c, r->g_waitreason, 1))
		fail_msg("%s: goroutineheader: no byte load of waitreason %d (go1.%d)",
			 path, r->g_waitreason, r->minor);
	if (!has_cmp_imm(&c, r->ngstatuses))
		fail_msg("%s: goroutineheader: no bound %d of gStatusStrings (go1.%d)",
			 path, r->ngstatuses, r->minor);
	if (r->minor >= 15 && !has_cmp_imm(&c, r->nwaitreasons))
		fail_msg("%s: goroutineheader: no bound %d of waitReasonStrings (go1.%d)",
			 path, r->nwaitreasons, r->minor);
	code_free(&c);

	print_message("  %s: go1.%d row matches the runtime's code\n", path,
		      r->minor);
	cs_close(&h);
	gobin__free(gb);
}

/* --------------------------------------------------------- the binaries */
struct bin {
	const char *corpus;	/* name in the corpus, or NULL */
	char path[4096];	/* else a path */
};

/* The DWARF check for one binary: table row == DWARF, gobin == DWARF.
 * Returns false (nothing checked) when it has no DWARF. */
static bool check_dwarf_against_table(const char *path)
{
	long dw[NFIELDS];
	struct gobin *gb;
	const struct rt_release *row;
	const struct gobin_layout *l;
	int minor;

	if (!dwarf_offsets(path, dw))
		return false;
	gb = open_bin(path);
	minor = gobin__go_minor(gb);
	row = rt_release_lookup(minor);
	l = gobin__layout(gb);
	print_message("  %s (go1.%d): DWARF vs table row %s\n", path, minor,
		      row ? row->source : "(none)");
	assert_true(gobin__elf(gb)->has_dwarf);
	assert_int_equal(l->source, GOBIN_LAYOUT_DWARF);
	for (size_t i = 0; i < NFIELDS; i++) {
		if (dw[i] < 0)
			fail_msg("%s: no %s in DWARF", path, fields[i].name);
		/* gobin's DWARF path must agree with libdw */
		if (layout_get(l, &fields[i]) != dw[i])
			fail_msg("%s: gobin %s = %d, DWARF says %ld", path,
				 fields[i].name, layout_get(l, &fields[i]),
				 dw[i]);
		/* and the table row with both */
		if (row && row_get(row, &fields[i]) != dw[i])
			fail_msg("%s: table go1.%d %s = %d, DWARF says %ld",
				 path, minor, fields[i].name,
				 row_get(row, &fields[i]), dw[i]);
	}
	if (minor >= rt_min_minor() && minor <= rt_max_minor())
		assert_non_null(row);
	gobin__free(gb);
	return true;
}

/* The binary's waitReasonStrings (and gStatusStrings when it has symbols)
 * against the table row of its release. */
static void check_strings_against_table(const char *path)
{
	struct gobin *gb = open_bin(path);
	const struct rt_release *row = rt_release_lookup(gobin__go_minor(gb));
	const struct gobin_sym *gs;
	size_t count;
	uint64_t addr;

	if (!row) {
		print_message("  %s: go1.%d not in the table\n", path,
			      gobin__go_minor(gb));
		fail();
	}
	addr = find_waitreasons(gb, &count);
	if (!addr)
		fail_msg("%s: runtime.waitReasonStrings not found", path);
	if (count)	/* by symbol: the length must match too */
		assert_int_equal(count, row->nwaitreasons);
	for (int i = 0; i < row->nwaitreasons; i++) {
		char s[128];

		if (!read_gostring(gb, addr + 16 * (uint64_t)i, s, sizeof(s)))
			fail_msg("%s: waitReasonStrings[%d] unreadable", path, i);
		if (strcmp(s, row->waitreasons[i]))
			fail_msg("%s: waitReasonStrings[%d] is \"%s\", table go1.%d says \"%s\"",
				 path, i, s, row->minor, row->waitreasons[i]);
	}
	print_message("  %s: %d wait reasons match go1.%d%s\n", path,
		      row->nwaitreasons, row->minor,
		      count ? " (by symbol, length too)" : " (found in .data)");

	/* traceback.go's gStatusStrings: "" for the _unused statuses, and
	 * it may stop before the last status the table knows. */
	gs = gobin__sym_by_name(gb, "runtime.gStatusStrings");
	if (gs) {
		size_t n = gs->size / 16;

		assert_true(n > 0 && n <= (size_t)row->ngstatuses);
		for (size_t i = 0; i < n; i++) {
			char s[64];

			assert_true(read_gostring(gb, gs->addr + 16 * i, s,
						  sizeof(s)));
			/* go1.26 traceback.go prints _Gdeadextra as
			 * "waiting for cgo callback"; the table keeps the
			 * constant's name */
			if (row->minor >= 26 && i == 11 &&
			    !strcmp(s, "waiting for cgo callback"))
				continue;
			if (s[0] && strcmp(s, row->gstatuses[i]))
				fail_msg("%s: gStatusStrings[%zu] is \"%s\", table says \"%s\"",
					 path, i, s, row->gstatuses[i]);
		}
	}
	gobin__free(gb);
}

/* ---------------------------------------------------------------- tests */
static void test_table_complete(void **state)
{
	(void)state;
	assert_int_equal(rt_min_minor(), 13);
	assert_int_equal(rt_max_minor(), 26);
	assert_null(rt_release_lookup(12));
	assert_null(rt_release_lookup(27));
	assert_null(rt_release_lookup(-1));
	for (int minor = 13; minor <= 26; minor++) {
		const struct rt_release *r = rt_release_lookup(minor);

		assert_non_null(r);
		assert_int_equal(r->minor, minor);
		assert_non_null(r->source);
		for (size_t i = 0; i < NFIELDS; i++) {
			int v = row_get(r, &fields[i]);

			/* every field known; g and m are < 1 KiB up to
			 * these fields in every release */
			assert_true(v >= 0 && v < 1024);
		}
		/* invariants of runtime2.go in every release: stack first,
		 * sched.sp/pc the first words of gobuf, bp its last */
		assert_int_equal(r->g_stack_lo, 0);
		assert_int_equal(r->g_stack_hi, 8);
		assert_int_equal(r->g_sched_pc, r->g_sched_sp + 8);
		assert_true(r->g_sched_bp > r->g_sched_pc);
		assert_true(r->g_atomicstatus > r->g_sched_bp);
		assert_true(r->g_goid > r->g_atomicstatus);
		assert_true(r->g_waitreason > r->g_goid);
		assert_true(r->g_startpc > r->g_gopc);
		assert_true(r->m_curg > r->m_procid);
		assert_non_null(r->waitreasons);
		assert_true(r->nwaitreasons >= 25);
		assert_string_equal(r->waitreasons[0], "");
		for (int i = 1; i < r->nwaitreasons; i++) {
			assert_non_null(r->waitreasons[i]);
			assert_true(r->waitreasons[i][0] != 0);
		}
		assert_non_null(r->gstatuses);
		assert_true(r->ngstatuses >= 9);
		for (int i = 0; i < r->ngstatuses; i++)
			assert_non_null(r->gstatuses[i]);
	}
}

/* The offsets measured from DWARF in real binaries (design notes): go1.13,
 * go1.14, go1.16: m 48, sched 56, atomicstatus 144, goid 152, waitreason
 * 176, gopc 280, startpc 296; go1.19 the same but gopc 296, startpc 312. */
static void test_known_measurements(void **state)
{
	const int minors[] = { 13, 14, 16, 19 };

	(void)state;
	for (size_t i = 0; i < sizeof(minors) / sizeof(minors[0]); i++) {
		const struct rt_release *r = rt_release_lookup(minors[i]);

		assert_non_null(r);
		assert_int_equal(r->g_m, 48);
		assert_int_equal(r->g_sched_sp, 56);
		assert_int_equal(r->g_atomicstatus, 144);
		assert_int_equal(r->g_goid, 152);
		assert_int_equal(r->g_waitreason, 176);
		assert_int_equal(r->g_gopc, minors[i] == 19 ? 296 : 280);
		assert_int_equal(r->g_startpc, minors[i] == 19 ? 312 : 296);
	}
}

/* Indices of some wait reasons, from the waitReason const block of
 * runtime2.go at each tag (iota order): the order changed in go1.20
 * (sync.Mutex/RWMutex reasons inserted at 21), go1.24 (WaitGroup at 24),
 * go1.25 (GOMAXPROCS updater at 18) and go1.26 (channel reasons moved
 * after sleep for leak detection). */
static void test_waitreason_indices(void **state)
{
	static const struct {
		int from, to;
		int idx;
		const char *s;
	} want[] = {
		{ 13, 26, 1, "GC assist marking" },
		{ 13, 26, 2, "IO wait" },
		{ 13, 25, 3, "chan receive (nil chan)" },
		{ 26, 26, 15, "chan receive (nil chan)" },
		{ 13, 25, 14, "chan receive" },
		{ 26, 26, 19, "chan receive" },
		{ 13, 25, 9, "select" },
		{ 26, 26, 18, "select" },
		{ 13, 24, 18, "semacquire" },
		{ 25, 25, 19, "semacquire" },
		{ 26, 26, 13, "semacquire" },
		{ 13, 24, 19, "sleep" },
		{ 25, 25, 20, "sleep" },
		{ 26, 26, 14, "sleep" },
		{ 13, 19, 21, "timer goroutine (idle)" },
		{ 20, 23, 21, "sync.Mutex.Lock" },
		{ 24, 24, 21, "sync.Mutex.Lock" },
		{ 25, 26, 22, "sync.Mutex.Lock" },
		{ 24, 24, 24, "sync.WaitGroup.Wait" },
		{ 25, 26, 25, "sync.WaitGroup.Wait" },
		{ 14, 19, 25, "preempted" },
		{ 20, 23, 28, "preempted" },
		{ 24, 24, 29, "preempted" },
		{ 25, 26, 30, "preempted" },
		{ 15, 19, 26, "debug call" },
		{ 22, 23, 36, "coroutine" },
		{ 24, 24, 37, "coroutine" },
		{ 25, 26, 38, "coroutine" },
		{ 24, 24, 41, "chan receive (synctest)" },
		{ 25, 26, 42, "chan receive (durable)" },
		{ 25, 26, 46, "cleanup wait" },
	};
	static const int count[] = {
		/* 13 */ 25, 26, 27, 27, 27, 27, 27, /* 20 */ 32, 32, 37, 38,
		/* 24 */ 44, 47, 47,
	};

	(void)state;
	for (int minor = 13; minor <= 26; minor++)
		assert_int_equal(rt_release_lookup(minor)->nwaitreasons,
				 count[minor - 13]);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (int minor = want[i].from; minor <= want[i].to; minor++) {
			const struct rt_release *r = rt_release_lookup(minor);
			const char *s = rt_waitreason_name(r, want[i].idx);

			if (!s || strcmp(s, want[i].s))
				fail_msg("go1.%d waitreason %d: \"%s\", want \"%s\"",
					 minor, want[i].idx, s ? s : "(null)",
					 want[i].s);
		}
	}
	assert_null(rt_waitreason_name(rt_release_lookup(13), 25));
	assert_null(rt_waitreason_name(NULL, 0));
}

/* _G constants of runtime2.go: _Gpreempted = 9 from go1.14, _Gleaked = 10
 * and _Gdeadextra = 11 in go1.26, _Gscan = 0x1000 throughout. */
static void test_gstatus(void **state)
{
	bool scan = true;

	(void)state;
	for (int minor = 13; minor <= 26; minor++) {
		const struct rt_release *r = rt_release_lookup(minor);

		assert_string_equal(rt_gstatus_name(r, 0, &scan), "idle");
		assert_false(scan);
		assert_string_equal(rt_gstatus_name(r, 1, NULL), "runnable");
		assert_string_equal(rt_gstatus_name(r, 2, NULL), "running");
		assert_string_equal(rt_gstatus_name(r, 3, NULL), "syscall");
		assert_string_equal(rt_gstatus_name(r, 4, NULL), "waiting");
		assert_string_equal(rt_gstatus_name(r, 6, NULL), "dead");
		assert_string_equal(rt_gstatus_name(r, 8, NULL), "copystack");
		assert_string_equal(rt_gstatus_name(r, 0x1004, &scan),
				    "waiting");
		assert_true(scan);
		if (minor >= 14)
			assert_string_equal(rt_gstatus_name(r, 9, NULL),
					    "preempted");
		else
			assert_null(rt_gstatus_name(r, 9, NULL));
		if (minor >= 26) {
			assert_string_equal(rt_gstatus_name(r, 10, NULL),
					    "leaked");
			assert_string_equal(rt_gstatus_name(r, 11, NULL),
					    "deadextra");
		} else {
			assert_null(rt_gstatus_name(r, 10, NULL));
		}
		assert_null(rt_gstatus_name(r, 12, NULL));
	}
}

/* Corpus binaries: prestate is the corpus name. Those with DWARF are
 * compared field by field; every one is checked for its wait reasons and
 * against its machine code, and stripped ones for taking the table row of
 * their release. */
static void test_corpus_binary(void **state)
{
	const char *name = *state;
	char buf[4096];
	const char *path = tu_corpus(name, buf, sizeof(buf));
	struct gobin *gb;
	const struct gobin_layout *l;
	const struct rt_release *row;

	if (!path)
		skip();
	if (!check_dwarf_against_table(path)) {
		gb = open_bin(path);
		l = gobin__layout(gb);
		row = rt_release_lookup(gobin__go_minor(gb));
		assert_non_null(row);
		assert_false(gobin__elf(gb)->has_dwarf);
		assert_int_equal(l->source, GOBIN_LAYOUT_TABLE);
		assert_int_equal(l->table_minor, row->minor);
		for (size_t i = 0; i < NFIELDS; i++)
			assert_int_equal(layout_get(l, &fields[i]),
					 row_get(row, &fields[i]));
		gobin__free(gb);
	}
	check_strings_against_table(path);
	check_code_against_table(path);
}

static bool is_elf(const char *path)
{
	unsigned char m[4] = { 0 };
	FILE *f = fopen(path, "rb");
	bool ok;

	if (!f)
		return false;
	ok = fread(m, 1, 4, f) == 4 && !memcmp(m, "\177ELF", 4);
	fclose(f);
	return ok;
}

/* Every fixture with DWARF (built with the installed Go) and every binary
 * of GOSNOOP_LAYOUT_BINS (plain `go build` output of any release, checked
 * against its machine code too). */
static void test_dwarf_binaries(void **state)
{
	const char *dir = tu_fixtures_dir();
	const char *extra = getenv("GOSNOOP_LAYOUT_BINS");
	DIR *d = opendir(dir);
	struct dirent *e;
	int checked = 0;

	(void)state;
	if (d) {
		while ((e = readdir(d))) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (e->d_name[0] == '.' || !is_elf(path))
				continue;
			/* no code check here: fixtures built with -l
			 * (noinline) do not inline waitReason.String */
			if (check_dwarf_against_table(path)) {
				check_strings_against_table(path);
				checked++;
			}
		}
		closedir(d);
	}
	if (extra && *extra) {
		char list[8192], *save = NULL;

		snprintf(list, sizeof(list), "%s", extra);
		for (char *p = strtok_r(list, ":", &save); p;
		     p = strtok_r(NULL, ":", &save)) {
			if (!check_dwarf_against_table(p))
				fail_msg("%s (GOSNOOP_LAYOUT_BINS): no DWARF", p);
			check_strings_against_table(p);
			check_code_against_table(p);
			checked++;
		}
	}
	if (!checked) {
		printf("SKIP: no fixture with DWARF in %s (run 'make fixtures')\n",
		       dir);
		skip();
	}
}

/* A stripped fixture of the installed Go takes the table row. */
static void test_stripped_fixture(void **state)
{
	char buf[4096];
	const char *path = tu_fixture("demo-stripped", buf, sizeof(buf));
	struct gobin *gb;
	const struct gobin_layout *l;
	const struct rt_release *row;

	(void)state;
	if (!path)
		skip();
	gb = open_bin(path);
	l = gobin__layout(gb);
	row = rt_release_lookup(gobin__go_minor(gb));
	assert_non_null(row);
	assert_int_equal(l->source, GOBIN_LAYOUT_TABLE);
	assert_int_equal(l->table_minor, row->minor);
	for (size_t i = 0; i < NFIELDS; i++)
		assert_int_equal(layout_get(l, &fields[i]),
				 row_get(row, &fields[i]));
	gobin__free(gb);
}

/*
 * GOBIN_OPEN_NO_DWARF on a fixture with DWARF: no DWARF is read, the
 * layout is the table row, and the row agrees with what DWARF says for
 * the fields both give (ground truth: the same binary opened normally).
 */
static void test_open_no_dwarf(void **state)
{
	char buf[4096], err[256];
	const char *path = tu_fixture("demo", buf, sizeof(buf));
	struct gobin *full, *lean = NULL;
	const struct gobin_layout *lf, *ll;
	uint64_t off;

	(void)state;
	if (!path)
		skip();
	full = open_bin(path);
	assert_int_equal(gobin__open_flags(path, GOBIN_OPEN_NO_DWARF, &lean,
					   err, sizeof(err)), 0);
	lf = gobin__layout(full);
	ll = gobin__layout(lean);
	assert_int_equal(lf->source, GOBIN_LAYOUT_DWARF);
	assert_int_equal(ll->source, GOBIN_LAYOUT_TABLE);
	assert_int_equal(gobin__dwarf_member_offset(lean, "runtime.g", "goid",
						    &off), -ENODATA);
	assert_int_equal(ll->g_goid, lf->g_goid);
	assert_int_equal(ll->g_stack_hi, lf->g_stack_hi);
	assert_int_equal(ll->g_atomicstatus, lf->g_atomicstatus);
	assert_int_equal(gobin__func_cnt(lean), gobin__func_cnt(full));
	gobin__free(lean);
	gobin__free(full);
}

/* Rewrites every "go1.<digits>" in the image: to "gX1..." (no version) when
 * minor < 0, else to "go1.<minor>" (two digits, same length as 1.19's). */
static void patch_version(uint8_t *buf, size_t len, int minor)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		if (memcmp(buf + i, "go1.", 4) || buf[i + 4] < '0' ||
		    buf[i + 4] > '9' || buf[i + 5] < '0' || buf[i + 5] > '9')
			continue;
		if (minor < 0) {
			buf[i + 1] = 'X';
		} else {
			buf[i + 4] = (uint8_t)('0' + minor / 10);
			buf[i + 5] = (uint8_t)('0' + minor % 10);
		}
	}
}

static struct gobin *open_patched(const char *path, int minor,
				  uint8_t **keep)
{
	size_t len = 0;
	uint8_t *buf = tu_read_file(path, &len);
	struct gobin *gb = NULL;
	char err[256];

	assert_non_null(buf);
	patch_version(buf, len, minor);
	/* an unknown release is no error at load time */
	if (gobin__open_mem(buf, len, &gb, err, sizeof(err)))
		fail_msg("%s patched: %s", path, err);
	*keep = buf;
	return gb;
}

/* No version, or a release newer than the table: no offsets at all from a
 * stripped binary (never the last row carried forward), all of them from
 * DWARF when it is there. */
static void test_unknown_release(void **state)
{
	char sbuf[4096], dbuf[4096];
	const char *stripped = tu_fixture("demo-stripped", sbuf, sizeof(sbuf));
	const char *dwarf = tu_fixture("demo", dbuf, sizeof(dbuf));
	const int minors[] = { -1, 99 };

	(void)state;
	if (!stripped || !dwarf)
		skip();
	for (size_t k = 0; k < 2; k++) {
		uint8_t *img;
		struct gobin *gb = open_patched(stripped, minors[k], &img);
		const struct gobin_layout *l = gobin__layout(gb);
		long dw[NFIELDS];

		assert_int_equal(gobin__go_minor(gb), minors[k]);
		assert_int_equal(l->source, GOBIN_LAYOUT_NONE);
		assert_int_equal(l->table_minor, -1);
		for (size_t i = 0; i < NFIELDS; i++)
			assert_int_equal(layout_get(l, &fields[i]), -1);
		gobin__free(gb);
		free(img);

		assert_true(dwarf_offsets(dwarf, dw));
		gb = open_patched(dwarf, minors[k], &img);
		l = gobin__layout(gb);
		assert_int_equal(gobin__go_minor(gb), minors[k]);
		assert_int_equal(l->source, GOBIN_LAYOUT_DWARF);
		assert_int_equal(l->table_minor, -1);
		for (size_t i = 0; i < NFIELDS; i++)
			assert_int_equal(layout_get(l, &fields[i]), dw[i]);
		gobin__free(gb);
		free(img);
	}
}

#define CORPUS_TEST(n) \
	cmocka_unit_test_prestate(test_corpus_binary, (void *)(n))

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_complete),
		cmocka_unit_test(test_known_measurements),
		cmocka_unit_test(test_waitreason_indices),
		cmocka_unit_test(test_gstatus),
		cmocka_unit_test(test_dwarf_binaries),
		cmocka_unit_test(test_stripped_fixture),
		cmocka_unit_test(test_open_no_dwarf),
		cmocka_unit_test(test_unknown_release),
		CORPUS_TEST("esbuild-0.0.9-go1.13.8"),
		CORPUS_TEST("esbuild-0.6.1-go1.14.2"),
		CORPUS_TEST("esbuild-0.8.34-go1.15.5"),
		CORPUS_TEST("esbuild-0.11.23-go1.16.3"),
		CORPUS_TEST("esbuild-0.14.10-go1.17.5"),
		CORPUS_TEST("esbuild-0.14.38-go1.18"),
		CORPUS_TEST("esbuild-0.15.18-go1.19.3"),
		CORPUS_TEST("esbuild-0.17.19-go1.20.4"),
		CORPUS_TEST("esbuild-0.23.1-go1.22.5"),
		CORPUS_TEST("esbuild-0.25.9-go1.23.12"),
		CORPUS_TEST("esbuild-0.27.2-go1.25.5"),
		CORPUS_TEST("esbuild-0.28.2-go1.26.5"),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
