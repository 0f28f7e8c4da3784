/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Shared by src/bpf/trace.bpf.c and the user space of `gosnoop trace`
 * (src/cmd_trace.c, src/trace_decode.c): one call's record and the
 * per-function capture spec. Sites and cookies are funcprobe's
 * (src/bpf/funcs.h): FP_COOKIE(fid, FP_SITE_*, sp_delta).
 *
 * At the entry site the program copies the integer argument registers of
 * Go's register ABI and the stack arguments (the words above the return
 * address), plus the bytes behind up to TR_NSTR string/slice pointers;
 * it keeps that in `open_calls` keyed by (pid, g, frame offset from
 * g.stack.hi) until a RET of the same frame, which adds the result
 * registers/words and sends the whole record on the ring buffer.
 */
#ifndef GOSNOOP_BPF_TRACE_H
#define GOSNOOP_BPF_TRACE_H

/* Go's integer argument registers, in ABI order (abi-internal.md):
 * RAX RBX RCX RDI RSI R8 R9 R10 R11 -> regs[0..8]. The X registers are not
 * in pt_regs: float arguments of the register ABI cannot be read. */
#define TR_NREGS		9
/* Stack words copied above the return address (ABI0 arguments and
 * results; register-ABI arguments beyond the 9 registers). A power of two
 * (index masks). 16 left a fifth of go1.15's values of functions with
 * 10-14 parameters unknown in the differential test; each record carries
 * both copies, the bytes a call needs are read. */
#define TR_STACK_WORDS		32
/* String/slice contents captured per call (entry and RET together). */
#define TR_NSTR			6
#define TR_STR_CAP		256	/* power of two; --max-string <= it */
/* str_len[] bit: the string had more bytes than were copied (set where
 * the record does not hold its length: error messages) */
#define TR_STR_CUT		0x8000
/* Calls open at once, all goroutines (a call whose RET never comes, a
 * panic, stays until a call reuses its frame or gosnoop exits). */
#define TR_MAX_OPEN		16384
/* The ring buffer, and the most bytes a CPU sends before it wakes the
 * reader (at most ring / 2 / CPUs: all CPUs together wake it well before
 * the ring is full). */
#define TR_RINGBUF_BYTES	(4 << 20)
#define TR_WAKEUP_BYTES		(128 << 10)
/* Return addresses kept by --stack (frame-pointer walk at the entry). */
#define TR_MAX_STACK		32

enum tr_src_kind {
	TR_SRC_NONE = 0,
	TR_SRC_REG = 1,		/* idx: regs[] index */
	TR_SRC_STACK = 2,	/* idx: byte offset above the return
				   address minus 8 (args base) */
};

/* Copy min(len * elem_size, max_string) bytes from ptr into str[slot].
 * mode TR_STR_DEREF: the ptr word points to a struct whose first 16
 * bytes are a string header (ptr, len): an error's message, read through
 * the interface's data word (*errors.errorString is struct { s string }).
 * TR_STR_FIXED: elem_size bytes at ptr, whatever --max-string: the first
 * words of a map or channel (their len, cap; see trace_expr.c). */
enum tr_str_mode { TR_STR_SLICE = 0, TR_STR_DEREF = 1, TR_STR_FIXED = 2 };
struct tr_str_op {
	__u8 at_ret;		/* 0: at entry, 1: at the RET */
	__u8 ptr_kind;		/* enum tr_src_kind; NONE: unused op */
	__u8 len_kind;		/* TR_STR_SLICE only */
	__u8 mode;		/* enum tr_str_mode */
	__u16 ptr_idx;
	__u16 len_idx;
	__u32 elem_size;
};

/* -o EXPR: up to TR_NOUT extra integer values per call, each a word of
 * the arguments followed through up to TR_OUT_HOPS pointers. */
#define TR_NOUT			4
#define TR_OUT_HOPS		4

/* The last hop reads through a nil pointer as 0: len(m), len(ch) of a
 * nil map or channel. */
#define TR_OUT_NIL_ZERO		1
/* The last hop reaches a string or slice header behind a pointer
 * ('r.URL.RawQuery'): its size (16 or 24) bytes go to the start of
 * str[str_slot], then up to min(len * elem_size, --max-string) bytes of
 * its contents after them (TR_OUT_HDR_BYTES on); str_len[str_slot] says
 * how many. */
#define TR_OUT_HDR		2
#define TR_OUT_HDR_BYTES	24

/* v = src word; when chk_kind is set, the value exists only if the
 * chk word > chk_min (s[i]: len(s) > i); for each hop h: addr = v +
 * off[h]; v = the 8 bytes at addr (the last hop: size bytes). Read at
 * the entry. */
struct tr_out_op {
	__u8 kind;		/* enum tr_src_kind; NONE: unused */
	__u8 nhops;		/* 1..TR_OUT_HOPS */
	__u8 size;		/* bytes of the last read, 1..8 */
	__u8 flags;		/* TR_OUT_NIL_ZERO */
	__u16 idx;
	__u8 chk_kind;		/* enum tr_src_kind; NONE: no bound check */
	__u8 str_slot;		/* TR_OUT_HDR: the str[] slot */
	__u16 chk_idx;
	__u16 elem_size;	/* TR_OUT_HDR: bytes per element (string: 1) */
	__u32 chk_min;
	__u32 off[TR_OUT_HOPS];
};

/* --filter 'ARG == "text"': bytes compared in the kernel, at most. */
#define TR_FILT_STR_MAX		64

/* --filter atoms (comparisons) per function: the expression over them
 * is a truth table of 2^TR_FILT_ATOMS bits, one u64 (trace_filter.c). */
#define TR_FILT_ATOMS		6

enum tr_filt_kind {
	TR_FILT_NONE = 0,	/* unused atom */
	TR_FILT_REG = 1,	/* compare regs[idx] */
	TR_FILT_STACK = 2,	/* compare the stack bytes at idx */
	TR_FILT_NEVER = 3,	/* the function lacks the argument: false */
	TR_FILT_GOID = 4,	/* compare the goroutine id */
	TR_FILT_PID = 5,	/* compare the process id (tgid) */
};

enum tr_filt_op { TR_OP_EQ, TR_OP_NE, TR_OP_LT, TR_OP_LE, TR_OP_GT, TR_OP_GE };

/* One comparison, tested at the entry. */
struct tr_filt_atom {
	__u8 kind;		/* enum tr_filt_kind */
	__u8 op;		/* enum tr_filt_op */
	__u8 size;		/* 1, 2, 4, 8 bytes */
	__u8 is_signed;
	__u16 idx;
	/* string atom (str): idx names the ptr word, len_* the len word;
	 * only TR_OP_EQ and TR_OP_NE */
	__u8 str;
	__u8 len_kind;
	__u16 len_idx;
	__u16 str_len;		/* <= TR_FILT_STR_MAX */
	__u32 pad;
	__u64 val;
	__u8 bytes[TR_FILT_STR_MAX];
};

/* Per function (array map `specs`, index fid). */
struct tr_spec {
	struct tr_str_op ops[TR_NSTR];
	__u32 stack_bytes;	/* copied at entry, <= TR_STACK_WORDS*8 */
	__u32 ret_stack_bytes;	/* copied at the RET (ABI0 results) */
	__u32 nstr;		/* ops[0..nstr) used: records are sent
				   without the unused str[] slots */
	__u32 arg_regs;		/* integer argument registers used */
	/* --filter: atoms filt[0..filt_n) give a mask (bit i: atom i
	 * holds); the call passes if bit `mask` of filt_table is set.
	 * filt_on 0: every call passes. */
	__u8 filt_on;
	__u8 filt_n;
	__u16 pad1;
	__u32 pad3;
	__u64 filt_table;
	struct tr_filt_atom filt[TR_FILT_ATOMS];
	struct tr_out_op outs[TR_NOUT];
};

/*
 * trace --set ARG=VALUE (src/trace_set.c): per function (array map
 * `set_specs`, index fid, used by tr_call_set only), the argument word
 * the entry site overwrites once the call passes the filters: a register
 * (pt_regs; kernels that let uprobe programs write their context) or the
 * bytes above the return address (bpf_probe_write_user).
 */
struct tr_set {
	__u8 kind;		/* enum tr_src_kind; NONE: not in this function */
	__u8 size;		/* 1, 2, 4, 8 bytes (STACK) */
	__u16 idx;		/* regs[] index, or args-base byte offset */
	__u32 pad;
	__u64 val;		/* REG: the whole register, extended */
};

enum tr_stat {
	TR_STAT_CALLS = 0,	/* entries recorded */
	TR_STAT_SKIPPED_JBE,	/* entry hits on the morestack path */
	TR_STAT_SENT,		/* records sent */
	TR_STAT_UNPAIRED,	/* RET without a recorded entry */
	TR_STAT_FAST,		/* dropped by --min-latency */
	TR_STAT_LOST,		/* ring buffer full */
	TR_STAT_READ_FAIL,	/* g, g.stack.hi or goid unreadable */
	TR_STAT_FILTERED,	/* dropped by -p, --goid, --filter */
	TR_STAT_UNWOUND,	/* open entries replaced by a new call in
				   the same frame: their RET never came */
	TR_STAT_OPEN_FULL,	/* entries not recorded: TR_MAX_OPEN calls
				   were open */
	TR_STAT_SET,		/* --set: arguments overwritten */
	TR_STAT_SET_FAIL,	/* --set: a write the kernel refused */
	TR_NSTATS,
};

struct tr_key {
	__u32 pid;		/* tgid */
	__u32 off;		/* g.stack.hi - address of the return
				   address slot: stable across stack
				   copies (see funcs.h fp_frame) */
	__u64 g;
};

/* The call's frame was abandoned (a panic unwound it, runtime.Goexit):
 * sent with ts_ret 0 when a later call reused the frame. */
#define TR_EV_UNWOUND		1

struct tr_event {
	__u64 ts_entry;		/* CLOCK_MONOTONIC ns */
	__u64 ts_ret;		/* 0 while the call runs */
	__u32 pid, tid;
	__u64 goid;
	__u64 g;
	__u64 entry_ip;		/* where the entry site is mapped: the load
				   bias of a PIE, even once the process is
				   gone when the record is read */
	__u32 fid;
	__u16 str_len[TR_NSTR];	/* bytes captured per op */
	__u32 stack_depth;	/* --stack: pcs[] used */
	__u32 frame_off;	/* tr_key.off: depth of the frame */
	__u64 stack_hi;		/* g.stack.hi at entry: a copy of the stack
				   (morestack) changes it */
	__u64 pcs[TR_MAX_STACK];	/* return addresses, caller first */
	__u64 outv[TR_NOUT];	/* -o values */
	__u8 out_ok[TR_NOUT];	/* 1: outv[i] was read */
	__u8 flags;		/* TR_EV_* */
	__u8 pad2[3];
	__u64 regs[TR_NREGS];
	__u64 ret_regs[TR_NREGS];
	__u64 stack[TR_STACK_WORDS];
	__u64 ret_stack[TR_STACK_WORDS];
	__u8 str[TR_NSTR][TR_STR_CAP];
};

#endif /* GOSNOOP_BPF_TRACE_H */
