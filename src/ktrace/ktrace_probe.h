/* SPDX-License-Identifier: MIT */
/*
 * gosnoop ktrace's model of one probe: what the user asked for
 * ("tp_btf:sched_switch"), its typed arguments or tracepoint fields, and
 * what it compiles to: the op list for src/bpf/ktrace.bpf.c (struct
 * kt_spec) and the outputs that tell user space how to print each value
 * the ops put into a record.
 *
 * Modules: ktrace_probe.c (probe spec parsing, op assembler),
 * ktrace_tpfmt.c (tracefs format files), ktrace_btf.c (vmlinux BTF),
 * ktrace_expr*.c (C expressions -> ops), ktrace_scope.c (--follow,
 * --goid, --goroutine-func, --stack), ktrace_out.c (records -> text or
 * JSON), cmd_ktrace.c (the command: load, attach, poll).
 */
#ifndef GOSNOOP_KTRACE_PROBE_H
#define GOSNOOP_KTRACE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf/ktrace.h"

struct btf;

enum kt_kind {
	KT_KIND_TRACEPOINT,	/* tracepoint:CAT:NAME */
	KT_KIND_TP_BTF,		/* tp_btf:NAME */
	KT_KIND_FENTRY,		/* fentry:FUNC */
	KT_KIND_FEXIT,		/* fexit:FUNC */
};

/* How user space prints one value of a record. */
enum kt_fmt {
	KT_FMT_INT,	/* signed decimal (8 bytes, already sign-extended) */
	KT_FMT_UINT,	/* unsigned decimal */
	KT_FMT_HEX,	/* pointers: 0x... */
	KT_FMT_BOOL,
	KT_FMT_ENUM,	/* enumerator name from BTF (btf_id), else number */
	KT_FMT_STR,	/* NUL-terminated, at most len bytes */
	KT_FMT_BUF,	/* u32 count, then bytes (a write(2) buffer) */
	KT_FMT_STRV,	/* u32 count, then count strings of strv_len bytes */
	KT_FMT_IP4,	/* 4 bytes, network order */
	KT_FMT_IP6,	/* 16 bytes */
	KT_FMT_ERRNO,	/* signed; negative values named: -EPERM */
};

struct kt_out {
	char *name;		/* JSON key: field name or the expression */
	enum kt_fmt fmt;
	uint16_t off;		/* in kt_event.data */
	uint16_t len;		/* bytes reserved there */
	uint16_t strv_len;	/* STRV: bytes per string */
	uint32_t btf_id;	/* ENUM: the enum type */
};

/* A field of a tracepoint's format file (ktrace_tpfmt.c). */
struct tp_field {
	char *name;
	char *type;		/* "const char *", "char[16]" is "char" */
	uint16_t offset, size;
	bool is_signed;
	bool is_array;		/* name[N] */
	bool data_loc;		/* __data_loc TYPE[] */
	bool is_ptr;
	bool is_char;		/* base type is (const) char */
	int ptr_depth;		/* '*'s in the type */
	bool is_const_char;	/* "const char *" (not "char *") */
	bool common;		/* common_* header fields */
};

#define KT_MAX_OUTS 64

struct kt_probe {
	enum kt_kind kind;
	char *text;		/* as given on the command line */
	char *cat;		/* tracepoint category, else NULL */
	char *name;		/* tracepoint / tp_btf event / kernel function */
	bool user_ptrs;		/* syscalls:*: pointer fields are user memory */

	/* tp_btf, fentry, fexit: arguments from BTF */
	int nargs;
	char *arg_names[KT_MAX_ARGS];
	__u32 arg_types[KT_MAX_ARGS];	/* BTF ids (0: void/unknown) */
	__u32 ret_type;			/* fexit: the return type */
	bool has_ret;

	/* tracepoint: fields from tracefs */
	struct tp_field *fields;
	size_t nfields;

	/* compiled */
	struct kt_out outs[KT_MAX_OUTS];
	size_t nout;
	struct kt_spec spec;
	size_t nconst;
	bool has_filter;
	/* --stack: KT_STACK_* and their areas in the data (ktrace.h) */
	unsigned int stack_kinds;
	uint16_t kstack_off, ustack_off;
};

/* Parse "tracepoint:CAT:NAME", "tp:CAT:NAME", "tp_btf:NAME",
 * "fentry:FUNC", "fexit:FUNC". 0, or -EINVAL after writing err. */
int kt_probe__parse(const char *text, struct kt_probe **out, char *err,
		    size_t errlen);
void kt_probe__free(struct kt_probe *p);
/* The kind a probe type names ("tracepoint", "tp", "t", "tp_btf", "fentry",
 * "fexit"; s need not be NUL-terminated): 0, or -EINVAL. */
int kt_kind_parse(const char *s, size_t len, enum kt_kind *kind);
const char *kt_kind_name(enum kt_kind k);

/* ---- op assembler (the compilers' back end) ---- */
/* Append one op; -E2BIG when the list is full. */
int kt_op(struct kt_probe *p, __u8 code, __u8 size, __u8 flags, __s64 imm);
/* Append an EMIT op writing into a fresh, aligned data area of len
 * bytes; records an output named name printed as fmt. -E2BIG if full. */
int kt_emit(struct kt_probe *p, __u8 code, __u8 flags, uint16_t len,
	    __s64 imm, const char *name, enum kt_fmt fmt,
	    struct kt_out **out);
/* Deepest value stack the ops from index `from` on reach, starting from
 * an empty stack: -E2BIG past KT_STACK, -EINVAL if one pops an empty
 * stack or is unknown. */
int kt_spec__stack_depth(const struct kt_spec *s, __u32 from);
/* Fuse the compiled op list into fewer ops that do the same (ARG ADDI
 * LOAD -> ARG_LOAD, IMM EQ -> EQ with an immediate, op EMIT_VAL -> op
 * storing its result) and split a filter's top-level && into one FILTER
 * per operand. After every expression is compiled; 0 or -EINVAL. */
int kt_spec__optimize(struct kt_spec *s);
/* Add a string constant (with NUL); its offset, or -E2BIG. */
int kt_const_str(struct kt_probe *p, const char *s, size_t len);

/* ---- tracefs format files (ktrace_tpfmt.c) ---- */
/* Read events/CAT/NAME/format into p->fields. -ENOENT: no such event. */
int kt_tpfmt__load(struct kt_probe *p, const char *tracefs, char *err,
		   size_t errlen);
/* Outputs for every non-common field (strings read, argv decoded). */
int kt_tpfmt__emit_all(struct kt_probe *p, char *err, size_t errlen);
/* Is field a syscall's `const char *` buffer bounded by the next field
 * (write's buf, count)? Then kt_tpfmt__emit_buf outputs it as name the
 * way the default view does: count bytes, at most 128 (-ENOENT if not). */
bool kt_tpfmt__is_buf(const struct kt_probe *p, const char *field);
int kt_tpfmt__emit_buf(struct kt_probe *p, const char *field,
		       const char *name);

/* ---- BTF (ktrace_btf.c) ---- */
/* Offsets of task_struct.mm and mm_struct.start_code; -ENOENT. */
int kt_btf__mm_offsets(const struct btf *btf, __u32 *task_mm,
		       __u32 *mm_start_code);
/* vmlinux BTF, loaded once; NULL (and *err set) when there is none.
 * GOSNOOP_VMLINUX_BTF=PATH reads another file (tests: a missing one). */
const struct btf *kt_btf(const char **err);
/* Arguments of a tp_btf event or a kernel function (fentry/fexit). */
int kt_btf__probe_args(struct kt_probe *p, const struct btf *btf, char *err,
		       size_t errlen);
/* The ctx slots (bit i: argument i; fexit's return value after them) a
 * program must read with a helper: the verifier refuses direct loads of
 * some argument types (function pointers, pointers to pointers). */
__u32 kt_btf__ctx_read_mask(const struct kt_probe *p, const struct btf *btf);
/* Member name of struct/union id, also inside anonymous members
 * (mm_struct keeps its fields in one, for __randomize_layout): its type
 * id, its bit offset (summed over the anonymous levels) and, if bit_size,
 * its bitfield size (0: not a bitfield); -ENOENT. */
int kt_btf__find_member(const struct btf *btf, __u32 id, const char *name,
			__u32 *bit_off, __u32 *bit_size);
/* Offset of task_struct.thread.fsbase; -ENOENT if BTF lacks it. */
int kt_btf__fsbase_offset(const struct btf *btf, __u64 *off);
/* Name of the enumerator of enum type id with value v, or NULL. */
const char *kt_btf__enum_name(const struct btf *btf, __u32 id, int64_t v);
/* "struct task_struct *" style spelling of a type. */
void kt_btf__type_str(const struct btf *btf, __u32 id, char *buf,
		      size_t len);

/* ---- expressions (ktrace_expr.c) ---- */
int kt_expr__filter(struct kt_probe *p, const struct btf *btf,
		    const char *text, char *err, size_t errlen);
int kt_expr__output(struct kt_probe *p, const struct btf *btf,
		    const char *text, char *err, size_t errlen);
/* Outputs for every argument (tp_btf/fentry without -o). */
int kt_expr__emit_args(struct kt_probe *p, const struct btf *btf, char *err,
		       size_t errlen);

#endif
