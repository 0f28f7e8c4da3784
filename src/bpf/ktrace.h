/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Shared by src/bpf/ktrace.bpf.c and the user space of `gosnoop ktrace`
 * (src/cmd_ktrace.c, src/ktrace_*.c): the fetch-op encoding, the spec
 * a program instance interprets, the ring buffer record and the limits.
 *
 * A probe's filter and outputs are compiled in user space into one list
 * of ops for a small stack machine (ktrace_expr.c); the BPF program runs
 * the list with bpf_loop(), so the verifier checks one op step once,
 * however long the list. No compiler at run time.
 */
#ifndef GOSNOOP_BPF_KTRACE_H
#define GOSNOOP_BPF_KTRACE_H

#define KT_MAX_OPS	128	/* ops per probe (filter + outputs) */
#define KT_STACK	8	/* value stack depth (power of two) */
#define KT_MAX_ARGS	12	/* tp_btf/fentry argument slots (+ fexit ret) */
#define KT_DATA_MAX	2048	/* bytes of decoded values per record */
#define KT_STR_MAX	256	/* longest string one EMIT_STR copies */
#define KT_STRV_MAX	8	/* strings of one argv-style array */
#define KT_CONST_MAX	1024	/* string constants of a probe (STREQ);
				   a power of two: offsets are masked */
#define KT_CMP_MAX	256	/* bytes STREQ compares (power of two) */
#define KT_FOLLOW_MAX	8192	/* tasks --follow tracks (tgids and tids) */
#define KT_GOSET_MAX	4096	/* --goid values, --goroutine-func entries */
#define KT_STACK_BYTES	256	/* --stack: 32 frames, kernel and user */
#define KT_STACK_AREA	(8 + KT_STACK_BYTES)	/* s64 bytes, then frames */
#define KT_RINGBUF_BYTES (8 << 20)
#define KT_WAKEUP_BYTES  (256 << 10)	/* wake the reader past this */

enum kt_op_code {
	KT_OP_NOP = 0,
	KT_OP_ARG,	/* push args[imm] (tp_btf/fentry: ctx u64 slot) */
	KT_OP_CTX,	/* push ctx + imm (tracepoint: address in the record) */
	KT_OP_IMM,	/* push imm */
	KT_OP_ADDI,	/* top += imm */
	KT_OP_ANDI,	/* top &= imm */
	KT_OP_SHRI,	/* top >>= imm (logical) */
	KT_OP_LOAD,	/* top = *(size bytes *)top; F_USER, F_SIGNED */
	KT_OP_DATALOC,	/* top = ctx + (u16)top: __data_loc's offset part */
	KT_OP_BSWAP,	/* top = byte-swapped low size bytes of top */
	KT_OP_NOT,	/* top = !top */
	KT_OP_NEG,	/* top = -top */
	KT_OP_EQ,	/* b = pop, a = pop, push a OP b; F_SIGNED for order */
	KT_OP_NE,
	KT_OP_LT,
	KT_OP_LE,
	KT_OP_GT,
	KT_OP_GE,
	KT_OP_LAND,
	KT_OP_LOR,
	KT_OP_ADD,	/* b = pop, a = pop, push a + b */
	KT_OP_SUB,
	KT_OP_MULI,	/* top *= imm */
	KT_OP_STREQ,	/* pop address; push 1 if the NUL-terminated string
			   there equals consts[off..off+len) (len includes
			   the NUL, <= KT_CMP_MAX); F_USER */
	KT_OP_FILTER,	/* pop; 0 drops the event (stops the list) */
	KT_OP_EMIT_VAL,	/* pop; 8 bytes at data[off] */
	KT_OP_EMIT_STR,	/* pop address; NUL-terminated string, at most len
			   bytes, at data[off]; F_USER */
	KT_OP_EMIT_BYTES, /* pop address; len bytes at data[off]; F_USER */
	KT_OP_EMIT_BUF,	/* pop n, pop address; min(n, len) bytes at
			   data[off + 4], that count as u32 at data[off] */
	KT_OP_EMIT_STRV, /* pop address of a NULL-terminated char *[];
			   count (u32) at data[off], 0 or KT_STR_NULL/
			   _UNREADABLE (u32, the array itself) at data[off +
			   4], then up to imm strings of len bytes each from
			   data[off + 8]; F_USER */
	/* Fused by kt_spec__optimize (ktrace_probe.c): fewer steps of the
	 * interpreter per event for the common shapes. */
	KT_OP_ARG_LOAD,	/* push LOAD(args[len] + imm): ARG, ADDI, LOAD */
	KT_OP__COUNT,
};

/*
 * Strings the BPF side could not read. EMIT_STR and each string of
 * EMIT_STRV store a string NUL-terminated and, when the area has 2 bytes
 * or more, say in the byte after a leading NUL what it was: 0 for a real
 * empty string, KT_STR_NULL for a NULL pointer, KT_STR_UNREADABLE when
 * the read failed (a page the task never touched: a tracepoint program
 * cannot fault it in; or a bad address). EMIT_BUF stores KT_BUF_NULL or
 * KT_BUF_UNREADABLE as its count instead; EMIT_STRV says after its count
 * whether the array was NULL or could not be read (from entry count on).
 */
#define KT_STR_NULL		0xfe
#define KT_STR_UNREADABLE	0xff
#define KT_BUF_NULL		0xfffffffeU
#define KT_BUF_UNREADABLE	0xffffffffU

#define KT_F_USER	1	/* user memory: bpf_probe_read_user* */
#define KT_F_SIGNED	2	/* sign-extend a LOAD; signed compare */
#define KT_F_IMM	4	/* EQ..SUB: b is imm, not popped (IMM, op) */
#define KT_F_EMIT	8	/* a value op stores its result as 8 bytes at
				   data[off] instead of pushing it (op,
				   EMIT_VAL) */

struct kt_op {
	__u8 code;
	__u8 size;		/* LOAD, BSWAP: 1, 2, 4, 8 */
	__u8 flags;		/* KT_F_* */
	__u8 pad;
	__u16 off;		/* EMIT_*: offset in data; STREQ: in consts */
	__u16 len;		/* EMIT_*: bytes; STREQ: constant's length */
	__s64 imm;
};

/* What one program instance runs: key 0 of its `spec` array map. */
struct kt_spec {
	__u32 nops;
	__u32 data_len;		/* bytes of data every record carries */
	__u32 nargs;		/* ctx u64 slots to copy (tp_btf, fentry) */
	__u32 pad;
	struct kt_op ops[KT_MAX_OPS];
	__u8 consts[KT_CONST_MAX];
};

#define KT_GOID_NONE	((__u64)-1)	/* not a Go task, or not readable */

#define KT_EV_GOID	1	/* goid and startpc are valid */

/*
 * --stack: each record's data holds, at offsets user space reserved
 * (ktrace_probe.c), a KT_STACK_AREA for the kernel stack and one for the
 * user (Go) stack: bpf_get_stack's result (bytes, or -errno) as an s64,
 * then the return addresses, innermost first.
 */
#define KT_STACK_KERNEL	1
#define KT_STACK_USER	2

/* Ring buffer record: header, then spec.data_len bytes of data. */
struct kt_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 goid;		/* KT_GOID_NONE unless KT_EV_GOID */
	__u64 startpc;		/* g.startpc (runtime address) */
	__u64 start_code;	/* the task's mm->start_code with KT_EV_GOID
				   when user space asked (a PIE: the load
				   bias, exactly, for each process), else 0 */
	__u32 tgid;
	__u32 tid;
	__u32 cpu;
	__u16 probe;		/* index of the probe on the command line */
	__u16 flags;		/* KT_EV_* */
	char comm[16];
	__u8 data[KT_DATA_MAX + KT_STR_MAX + 8];
};

#define KT_EVENT_HDR_SIZE ((unsigned long)&((struct kt_event *)0)->data)

/* Counters in the program's `stats` array. */
enum kt_stat {
	KT_STAT_HITS = 0,	/* events past the pid/comm filters */
	KT_STAT_FILTERED,	/* dropped by --filter */
	KT_STAT_LOST,		/* ring buffer full */
	KT_STAT_BAD_SPEC,	/* stack over/underflow or bad op */
	KT_STAT_NO_G,		/* Go task whose g could not be read */
	KT_STAT_FOLLOW_FULL,	/* --follow: a child not tracked (map full) */
	KT_NSTATS,
};

#endif /* GOSNOOP_BPF_KTRACE_H */
