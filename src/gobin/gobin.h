/* SPDX-License-Identifier: MIT */
/*
 * gobin - a Go executable, read without BPF and without root.
 *
 * A plain library: ELF (libelf), .gopclntab, build info, DWARF (libdw), the
 * runtime's data layout and the calling convention of one Go binary.
 * Life cycle: gobin__open() or gobin__open_mem() -> queries -> gobin__free().
 * Every function that can fail returns 0 (or a count) or -errno; the open
 * functions also write one human-readable line into err.
 *
 * Addresses are virtual addresses as the ELF file states them (no load bias).
 */
#ifndef GOSNOOP_GOBIN_H
#define GOSNOOP_GOBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gobin;

/* Errors the open functions return besides those of open(2)/mmap(2):
 *   -ENOEXEC          not an ELF file, or not x86-64
 *   -EINVAL           a truncated or corrupted ELF file or .gopclntab
 *   -ENOPKG           an ELF file, but no Go pclntab: not a Go program
 *   -EPROTONOSUPPORT  a pclntab magic this version does not know
 */
int gobin__open(const char *path, struct gobin **out, char *err, size_t errlen);
/* gobin__open() with GOBIN_OPEN_* flags. GOBIN_OPEN_NO_DWARF: leave the
 * DWARF sections unread, as if the binary had none (the DWARF queries
 * answer -ENODATA, the runtime layout comes from its per-release table).
 * Inflating and indexing DWARF is most of the time a command takes to
 * start (~25 ms on a 2 MB binary here); count and latency never need it. */
#define GOBIN_OPEN_NO_DWARF	0x1u
int gobin__open_flags(const char *path, unsigned int flags, struct gobin **out,
		      char *err, size_t errlen);
/* Same on an image in memory; buf must outlive the returned object. */
int gobin__open_mem(const void *buf, size_t len, struct gobin **out,
		    char *err, size_t errlen);
void gobin__free(struct gobin *gb);

/* ------------------------------------------------------------------ ELF */
struct gobin_elf_info {
	bool pie;		/* ET_DYN */
	bool has_symtab;	/* .symtab present: "not stripped" */
	bool has_dwarf;		/* .debug_info or .zdebug_info present */
	bool dynamic;		/* has PT_INTERP (dynamically linked) */
	bool cgo;		/* links C code: cgo runtime symbols / libc */
	bool has_tls;		/* PT_TLS present */
	uint64_t tls_memsz, tls_align;
	uint64_t min_vaddr;	/* lowest PT_LOAD p_vaddr, page aligned */
	uint64_t entry;		/* e_entry */
	const char *interp;	/* PT_INTERP contents or NULL */
};
const struct gobin_elf_info *gobin__elf(const struct gobin *gb);

/* A symbol of .symtab (never .dynsym: those are C imports). */
struct gobin_sym {
	const char *name;
	uint64_t addr;
	uint64_t size;
	char type;		/* as nm prints it: T t D d B b R r ... */
};
size_t gobin__sym_cnt(const struct gobin *gb);
const struct gobin_sym *gobin__sym(const struct gobin *gb, size_t i);
/* O(log n) lookup by exact name; NULL if absent (or stripped). */
const struct gobin_sym *gobin__sym_by_name(const struct gobin *gb,
					   const char *name);

/* Section by name (NULL if absent); data is NULL for SHT_NOBITS. */
struct gobin_section {
	const char *name;
	uint64_t addr, size, offset;
	uint32_t type;
	uint64_t flags;
	const uint8_t *data;	/* uncompressed contents, size bytes */
};
const struct gobin_section *gobin__section(const struct gobin *gb,
					   const char *name);

/* Bytes of the file image at [vaddr, vaddr+len), or NULL when that range is
 * not entirely file-backed by one PT_LOAD segment. */
const void *gobin__ptr(const struct gobin *gb, uint64_t vaddr, size_t len);
/* File offset of vaddr (what uprobes want); -EFAULT if not file-backed. */
int gobin__vaddr_to_offset(const struct gobin *gb, uint64_t vaddr,
			   uint64_t *off);

/* ---------------------------------------------------------------- pclntab */
enum gobin_pcln_format {
	GOBIN_PCLN_GO12  = 0xfffffffb,	/* go1.2 .. go1.15 */
	GOBIN_PCLN_GO116 = 0xfffffffa,	/* go1.16, go1.17 */
	GOBIN_PCLN_GO118 = 0xfffffff0,	/* go1.18, go1.19 */
	GOBIN_PCLN_GO120 = 0xfffffff1,	/* go1.20 and later */
};
enum gobin_pcln_format gobin__pcln_format(const struct gobin *gb);
/* "go1.2", "go1.16", "go1.18", "go1.20" */
const char *gobin__pcln_format_name(enum gobin_pcln_format fmt);
uint64_t gobin__pcln_addr(const struct gobin *gb);	/* where it starts */
uint64_t gobin__text_start(const struct gobin *gb);	/* runtime.text */

#define GOBIN_ARGS_UNKNOWN INT32_MIN
struct gobin_func {
	const char *name;	/* as the Go runtime spells it */
	uint64_t entry;		/* first instruction */
	uint64_t end;		/* one past the last byte */
	int32_t args;		/* bytes of arguments+results on the
				   stack (ABI0 frame), or GOBIN_ARGS_UNKNOWN */
	uint32_t funcoff;	/* private: offset of _func in the table */
};
size_t gobin__func_cnt(const struct gobin *gb);
/* Functions are sorted by entry; i < gobin__func_cnt(). */
const struct gobin_func *gobin__func(const struct gobin *gb, size_t i);
/* The function containing pc, O(log n); NULL if none. */
const struct gobin_func *gobin__func_at(const struct gobin *gb, uint64_t pc);
/* By exact name, O(log n); NULL if none. */
const struct gobin_func *gobin__func_by_name(const struct gobin *gb,
					     const char *name);
/* File and line of pc inside f (outermost function, ignoring inlining).
 * Returns 0 or -ENOENT; *file points into the image (stable). */
int gobin__func_line(const struct gobin *gb, const struct gobin_func *f,
		     uint64_t pc, const char **file, int *line);

/* Logical frames at pc, innermost (most inlined) first, the physical
 * function last. Returns the number of frames written (<= max) or -errno. */
struct gobin_frame {
	const char *func;
	const char *file;
	int line;
	bool inlined;		/* false only for the physical function */
};
int gobin__pc_frames(const struct gobin *gb, uint64_t pc,
		     struct gobin_frame *frames, int max);

/* Every call the compiler inlined, anywhere in the binary: cb(callee)
 * once per inline-tree node (call site). 0, -ENOENT without pclntab, or
 * -E2BIG past 4M nodes (a malformed table). */
int gobin__for_each_inlined_call(const struct gobin *gb,
				 void (*cb)(const char *callee, void *ctx),
				 void *ctx);

/* Length of the well-formed UTF-8 sequence at p (Unicode's table 3-7,
 * Go's rules: no overlong forms, no surrogates, at most U+10FFFF, no
 * sequence cut by the end), or 0. Also used by the JSON writer. */
size_t gobin__utf8_len(const uint8_t *p, size_t n);

/* ---------------------------------------------------- version, build info */
enum gobin_version_source {
	GOBIN_VER_NONE,
	GOBIN_VER_BUILDINFO,	/* .go.buildinfo */
	GOBIN_VER_SYMBOL,	/* runtime.buildVersion via .symtab */
	GOBIN_VER_SCAN,		/* the runtime.buildVersion string header
				   found by scanning data (stripped) */
};
struct gobin_module {
	const char *path;
	const char *version;
	const char *sum;
	const char *replace_path;	/* NULL if not replaced */
	const char *replace_version;
	const char *replace_sum;
};
struct gobin_setting {
	const char *key;
	const char *value;
};
struct gobin_buildinfo {
	bool present;		/* a .go.buildinfo blob was found */
	bool inline_strings;	/* go1.18+ form, else pointer form */
	const char *goversion;	/* from the blob, may be NULL */
	const char *path;	/* "path" line (main package path) */
	struct gobin_module main;
	struct gobin_module *deps;
	size_t dep_cnt;
	struct gobin_setting *settings;
	size_t setting_cnt;
};
const struct gobin_buildinfo *gobin__buildinfo(const struct gobin *gb);
/* "go1.19.8", or NULL if unknown. */
const char *gobin__go_version(const struct gobin *gb);
enum gobin_version_source gobin__go_version_source(const struct gobin *gb);
/* Minor release (19 for go1.19.8), or -1 when unknown. */
int gobin__go_minor(const struct gobin *gb);

/* ----------------------------------------------------------------- DWARF */
/* Go kinds, as DW_AT_go_kind (reflect.Kind) states them. */
enum gobin_kind {
	GOBIN_K_INVALID = 0, GOBIN_K_BOOL, GOBIN_K_INT, GOBIN_K_INT8,
	GOBIN_K_INT16, GOBIN_K_INT32, GOBIN_K_INT64, GOBIN_K_UINT,
	GOBIN_K_UINT8, GOBIN_K_UINT16, GOBIN_K_UINT32, GOBIN_K_UINT64,
	GOBIN_K_UINTPTR, GOBIN_K_FLOAT32, GOBIN_K_FLOAT64,
	GOBIN_K_COMPLEX64, GOBIN_K_COMPLEX128, GOBIN_K_ARRAY, GOBIN_K_CHAN,
	GOBIN_K_FUNC, GOBIN_K_INTERFACE, GOBIN_K_MAP, GOBIN_K_PTR,
	GOBIN_K_SLICE, GOBIN_K_STRING, GOBIN_K_STRUCT,
	GOBIN_K_UNSAFEPTR,
};
const char *gobin__kind_name(enum gobin_kind k);

struct gobin_type;
struct gobin_field {
	const char *name;
	uint64_t offset;
	const struct gobin_type *type;
	bool embedded;
};
struct gobin_type {
	const char *name;	/* Go spelling: "[]string", "*main.T" */
	enum gobin_kind kind;
	uint64_t size;
	const struct gobin_type *elem;	/* ptr, slice, array, chan, map value */
	const struct gobin_type *key;	/* map key */
	uint64_t count;			/* array length */
	const struct gobin_field *fields;	/* struct members */
	size_t field_cnt;
};
struct gobin_param {
	const char *name;	/* "~r0" style for unnamed results */
	const struct gobin_type *type;
	bool is_result;
	/* DWARF location at the function's entry, when the expression is a
	 * single register or a CFA/FBREG offset; loc_kind NONE otherwise. */
	enum { GOBIN_LOC_NONE, GOBIN_LOC_REG, GOBIN_LOC_STACK,
	       GOBIN_LOC_PIECES } loc_kind;
	int loc_reg;		/* DWARF register number (REG) */
	int64_t loc_off;	/* offset from SP at entry (STACK) */
	/* PIECES: the value's parts in order, e.g. a string in RAX, RBX. */
	const struct gobin_loc_piece *pieces;
	size_t piece_cnt;
};
/* One DW_OP_piece of a PIECES location: size bytes of the value in a
 * register (REG), at SP+off at entry (STACK), or not available (NONE). */
struct gobin_loc_piece {
	int kind;		/* GOBIN_LOC_NONE, _REG or _STACK */
	int reg;		/* DWARF register number (REG) */
	int64_t off;		/* offset from SP at entry (STACK) */
	uint64_t size;		/* bytes */
};
/* Parameters then results of a function, from DWARF. The array and types
 * live as long as gb. -ENODATA without DWARF, -ENOENT no such function. */
int gobin__func_params(const struct gobin *gb, const char *func,
		       const struct gobin_param **params, size_t *cnt);
/* The same for the function whose code starts at entry (DWARF's
 * DW_AT_low_pc): exact where names are not (generic instances). */
int gobin__func_params_at(const struct gobin *gb, uint64_t entry,
			  const struct gobin_param **params, size_t *cnt);
/* Offset of member (dotted path, "sched.sp") in struct type tname, from
 * DWARF: 0, -ENODATA (no DWARF), -ENOENT. */
int gobin__dwarf_member_offset(const struct gobin *gb, const char *tname,
			       const char *member, uint64_t *off);

/* --------------------------------------------------------- runtime layout */
enum gobin_abi {
	GOBIN_ABI_UNKNOWN,
	GOBIN_ABI0,		/* stack-based, before go1.17 */
	GOBIN_ABI_INTERNAL,	/* register-based, go1.17+ on amd64 */
};
const char *gobin__abi_name(enum gobin_abi abi);

enum gobin_layout_source {
	GOBIN_LAYOUT_NONE,	/* unknown release and no DWARF */
	GOBIN_LAYOUT_DWARF,
	GOBIN_LAYOUT_TABLE,
};
/* Byte offsets into runtime.g and runtime.m; -1 when not known. */
struct gobin_layout {
	enum gobin_layout_source source;
	int table_minor;	/* table row that gave any offset, else -1 */
	int g_stack_lo, g_stack_hi;
	int g_m, g_sched_sp, g_sched_pc, g_sched_bp;
	int g_atomicstatus, g_goid, g_waitreason;
	int g_gopc, g_startpc;
	int m_procid, m_curg;
};
const struct gobin_layout *gobin__layout(const struct gobin *gb);

enum gobin_g_access {
	GOBIN_G_UNKNOWN,
	GOBIN_G_TLS_FS,		/* g at fsbase + tls_offset */
};
struct gobin_abi_info {
	enum gobin_abi abi;
	bool g_in_r14;		/* register ABI: R14 holds g in Go code */
	enum gobin_g_access g_access;
	int64_t tls_g_offset;	/* g pointer at fsbase + this */
	const char *tls_how;	/* how tls_g_offset was found */
};
const struct gobin_abi_info *gobin__abi(const struct gobin *gb);

/* --------------------------------------- ABI assignment (abi_assign.c) */
/*
 * Where Go passes each argument and result of a function at its entry and
 * at its RETs: the assignment algorithm of src/cmd/compile/abi-internal.md
 * ("Function call argument and result passing"), the truth at the entry
 * instruction whatever DWARF's locations say. ABI0 (every Go function
 * before go1.17, assembly after) is the same algorithm with no registers.
 * Only the types and their order come from DWARF.
 */
#define GOBIN_ABI_NI		9	/* RAX RBX RCX RDI RSI R8 R9 R10 R11 */
#define GOBIN_ABI_NFP		15	/* X0 - X14 */
#define GOBIN_ABI_MAX_LEAVES	(GOBIN_ABI_NI + GOBIN_ABI_NFP)

/* One register-assigned base value: size bytes at off in the value. */
struct gobin_abi_leaf {
	bool freg;		/* X register (else integer register) */
	uint8_t reg;		/* index in its register sequence */
	uint32_t off;		/* offset in the value's memory image */
	uint32_t size;		/* bytes */
};
struct gobin_abi_slot {
	bool in_regs;		/* else the whole value is on the stack */
	uint64_t stack_off;	/* !in_regs: bytes above the return address
				   (at the entry for arguments, at a RET
				   for results: SP+8+stack_off) */
	uint64_t spill_off;	/* in_regs argument: its spill slot, the
				   same way (the body's home for it, which
				   the caller leaves uninitialized) */
	struct gobin_abi_leaf leaves[GOBIN_ABI_MAX_LEAVES];
	int nleaves;
};
/* Go's alignment of t on amd64 (abi-internal.md "Memory layout"). */
uint64_t gobin__type_align(const struct gobin_type *t);
/*
 * Assign cnt values (arguments, receiver first, then results; is_result
 * says which) under abi into slots[cnt]. *frame (may be NULL): bytes of
 * the whole argument frame the caller reserves, which the compiler also
 * records as the function's args size in pclntab (struct gobin_func.args):
 * stack arguments, stack results and, under the register ABI, the spill
 * space of register arguments, each part pointer-aligned.
 * 0, or -EINVAL when a type is missing or of no known kind (nothing can
 * then be trusted: the order of every later value depends on it).
 */
int gobin__abi_assign(enum gobin_abi abi, const struct gobin_type *const *types,
		      const bool *is_result, size_t cnt,
		      struct gobin_abi_slot *slots, uint64_t *frame);

/* ------------------------------------------------- disasm (disasm.c) */
/*
 * Where a uprobe on f is cheap and still sees f's arguments. On x86 the
 * kernel emulates jmp/jcc/call/nop/push at a uprobe and single-steps any
 * other instruction (~15x slower per hit); this picks the first emulated
 * instruction on the straight-line path from the entry before which
 * nothing overwrote the first nregs integer argument registers of the
 * register ABI (RAX, RBX, RCX, ...) nor, for ABI0, the stack_args bytes of
 * arguments above the return address. Falls back to the entry.
 */
struct gobin_probe_point {
	uint64_t addr;		/* where to attach (file vaddr) */
	int64_t sp_delta;	/* entry RSP minus RSP at addr (bytes the
				   prologue allocated): the return address
				   is at RSP + sp_delta at addr */
	uint32_t skip_flags;	/* non-zero at the prologue's JBE to
				   morestack: a hit with (EFLAGS & skip_flags)
				   takes the branch and re-enters from the
				   entry, so it must be ignored */
	bool emulated;		/* false: the fallback (entry) */
	const char *why;	/* static text: what addr is, or why not */
};
/* 0 (pp filled, maybe with the fallback) or -errno. */
int gobin__probe_point(const struct gobin *gb, const struct gobin_func *f,
		       int nregs, int32_t stack_args,
		       struct gobin_probe_point *pp);
/*
 * The function a `go f(x)` wrapper calls (main.main·dwrap·1 in go1.17,
 * main.main.func2 in 1.18-1.20, main.main.gowrap1 from go1.21): the single
 * direct CALL (or tail JMP)
 * target outside runtime.*, in a small body without loops or indirect
 * calls. *marked (may be NULL) tells whether f has the prologue of
 * functions the compiler marks WRAPPER (register ABI: it loads g._panic),
 * which user-written closures never have. -ENOENT when f does not look
 * like such a wrapper.
 */
int gobin__wrapper_callee(const struct gobin *gb, const struct gobin_func *f,
			  const struct gobin_func **callee, bool *marked);

/* -------------------------------------------------- insns (insns.c) */
/*
 * A linear sweep of f's machine code from its entry to its pclntab end:
 * every RET (where returns are probed: never uretprobe), tail jumps out
 * of the function, and whether a branch lands in [f->entry, guard] (a
 * probe there would fire more than once per call). The morestack stub's
 * jump back to the entry does not count: it re-runs the stack check.
 */
struct gobin_func_insns {
	uint64_t *rets;		/* addresses of RET instructions */
	size_t ret_cnt;
	size_t tail_jmps;	/* direct JMPs to outside the function */
	uint64_t tail_target;	/* the first one's target */
	size_t indirect_jmps;	/* JMP through a register or memory */
	bool complete;		/* every byte decoded */
	uint64_t stop;		/* first undecodable address if !complete */
	bool entry_reentered;	/* a branch lands in [entry, guard] */
	uint64_t reenter_from, reenter_to;
	bool writes_r14;	/* some instruction may write R14 (Go's g
				   register in the register ABI): assembly,
				   or the runtime switching goroutines */
};
/* 0 or -errno; free the result with gobin__func_insns_free(). */
int gobin__func_insns(const struct gobin *gb, const struct gobin_func *f,
		      uint64_t guard, struct gobin_func_insns *fi);
void gobin__func_insns_free(struct gobin_func_insns *fi);
/* ------------------------------------------------ spills (spills.c) */
/*
 * A register-ABI function's arguments as its morestack path spills them
 * (stripped binaries: the machine code is the truth). In declaration
 * order; results are not spilled.
 */
struct gobin_spill {
	int int_reg;		/* 0..8: RAX RBX RCX RDI RSI R8 R9 R10 R11;
				   -1: a float register */
	int float_reg;		/* X0.. when int_reg < 0 */
	uint32_t off;		/* spill slot: bytes above the return
				   address */
	uint32_t size;		/* 1, 2, 4, 8 */
};
/*
 * 0 with *n stores (0: no register arguments); -ENOENT the function has
 * no morestack call (NOSPLIT, small leaf functions): unknown; -E2BIG more
 * than max; -EILSEQ undecodable bytes; -ENOMEM.
 */
int gobin__reg_arg_spills(const struct gobin *gb, const struct gobin_func *f,
			  struct gobin_spill *out, size_t max, size_t *n);

/*
 * Whether the kernel's x86 uprobe code accepts a probe on the instruction
 * at addr (its opcode tables; a refused one fails a whole uprobe_multi
 * link). 0 with *why NULL if accepted, or a static reason; -errno when the
 * bytes cannot be read.
 */
int gobin__uprobe_insn_ok(const struct gobin *gb, uint64_t addr,
			  const char **why);

#endif
