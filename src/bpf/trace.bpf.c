// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * gosnoop trace: one record per call, with its arguments and results.
 *
 * Attached (by funcprobe) to each function's entry site and every RET;
 * the cookie says which (funcs.h). Entry: skip the morestack path of the
 * stack-check JBE (the function re-enters from the top: it would fire
 * twice), copy argument registers, stack words and string bytes into
 * `open_calls` under (pid, g, frame offset). RET: find the frame's record,
 * add results, send it, forget it. Recursion gives each level its own
 * frame offset; Go's stack copying keeps offsets from g.stack.hi.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "funcs.h"
#include "trace.h"
#include "fp_sites.h"
#include "bpf_wakeup.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load. */
const volatile __u32 g_source = FP_G_TLS;
const volatile __s64 tls_g_offset = -8;
const volatile __u32 off_stack_hi = 8;
const volatile __u32 off_goid = 152;
const volatile __u32 max_string = 64;
const volatile __u64 min_ns = 0;
const volatile __u32 filter_pid = 0;	/* 0: any */
const volatile bool filter_by_goid = false;
const volatile __u64 filter_goid = 0;
const volatile bool want_stack = false;
/* Each CPU wakes the reader after this many bytes of records; user space
 * lowers it on big machines so that all CPUs together wake it well before
 * the ring is full (TR_WAKEUP_BYTES, at most the ring / 2 / CPUs). */

__u64 stats[TR_NSTATS] = {};

/* trace --set: the ways of writing this kernel allows, probed before load
 * (cmd_trace.c). tr_call_set verifies only the branches set here, so a
 * refused way cannot fail the load of the other. */
const volatile bool set_regs_ok = false;
const volatile bool set_mem_ok = false;

/* Sized to the functions before load by --set; one entry otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_set);
} set_specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* sized to the functions */
	__type(key, __u32);
	__type(value, struct tr_spec);
} specs SEC(".maps");

/*
 * Not preallocated (an LRU hash always is: 8192 records of 2.3 KB cost
 * ~15 ms of start-up and 19 MB of kernel memory): an entry lives from a
 * call's entry to its RET, or until a new call in the same frame sends it
 * as unwound (flush_abandoned); the rest are printed at exit.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TR_MAX_OPEN);
	__type(key, struct tr_key);
	__type(value, struct tr_event);
} open_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_event);
} scratch SEC(".maps");

/* Entries per function (per CPU) for the overhead budget (src/overhead.h):
 * every entry hit past the stack-check skip, filtered or not, since its
 * trap is paid either way. Sized to the functions by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tr_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TR_RINGBUF_BYTES);
} events SEC(".maps");

static __always_inline void stat_inc(int i)
{
	if (i >= 0 && i < TR_NSTATS)
		__sync_fetch_and_add(&stats[i], 1);
}

static __always_inline __u64 current_g(__u64 r14)
{
	struct task_struct *task;
	__u64 g = 0, fsbase;

	if (g_source == FP_G_R14)
		return r14;
	task = bpf_get_current_task_btf();
	fsbase = BPF_CORE_READ(task, thread.fsbase);
	if (bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase + tls_g_offset)))
		return 0;
	return g;
}

static __always_inline void copy_regs(__u64 *r, struct fp_regs *ctx)
{
	r[0] = ctx->ax;
	r[1] = ctx->bx;
	r[2] = ctx->cx;
	r[3] = ctx->di;
	r[4] = ctx->si;
	r[5] = ctx->r8;
	r[6] = ctx->r9;
	r[7] = ctx->r10;
	r[8] = ctx->r11;
}

/* n = min(n, max) in one register the verifier then knows is bounded
 * (clang otherwise checks a copy and passes the original) */
#define CLAMP(n, max) \
	asm volatile("if %0 <= %1 goto +1; %0 = %1" : "+r"(n) : "i"(max))

static __always_inline void copy_stack(__u64 *dst, __u64 base, __u64 n)
{
	CLAMP(n, TR_STACK_WORDS * 8);
	if (n && bpf_probe_read_user(dst, n, (void *)base))
		__builtin_memset(dst, 0, TR_STACK_WORDS * 8);
}

static __always_inline __u64 src_word(struct tr_event *e, bool ret,
				      __u8 kind, __u16 idx)
{
	__u64 v = 0;

	if (kind == TR_SRC_REG && idx < TR_NREGS)
		v = ret ? e->ret_regs[idx] : e->regs[idx];
	else if (kind == TR_SRC_STACK && idx <= TR_STACK_WORDS * 8 - 8) {
		__u8 *b = (__u8 *)(ret ? e->ret_stack : e->stack);

		__builtin_memcpy(&v, b + (idx & (TR_STACK_WORDS * 8 - 1)),
				 sizeof(v) - 0);
	}
	return v;
}

static __always_inline void copy_strings(struct tr_event *e,
					 struct tr_spec *sp, bool ret)
{
#pragma unroll
	for (int i = 0; i < TR_NSTR; i++) {
		struct tr_str_op *op = &sp->ops[i];
		__u64 ptr, len, hdr[2], full = 0;

		if (op->ptr_kind == TR_SRC_NONE || op->at_ret != ret)
			continue;
		e->str_len[i] = 0;
		ptr = src_word(e, ret, op->ptr_kind, op->ptr_idx);
		if (op->mode == TR_STR_DEREF) {
			/* ptr -> struct { s string; ... } */
			if (!ptr || bpf_probe_read_user(hdr, sizeof(hdr),
							(void *)ptr))
				continue;
			ptr = hdr[0];
			len = hdr[1];
			full = len;
		} else if (op->mode == TR_STR_FIXED) {
			len = 1;
		} else {
			len = src_word(e, ret, op->len_kind, op->len_idx);
		}
		if (len > TR_STR_CAP)
			len = TR_STR_CAP;
		len *= op->elem_size;
		if (len > max_string && op->mode != TR_STR_FIXED)
			len = max_string;
		CLAMP(len, TR_STR_CAP);
		if (!ptr || !len)
			continue;
		if (!bpf_probe_read_user(e->str[i], len, (void *)ptr))
			e->str_len[i] = len | (full > len ? TR_STR_CUT : 0);
	}
}

/*
 * -o of a string or slice behind a pointer (op i of function fid): its
 * header at addr into the start of the op's str[] slot of the entry's
 * record (scratch), its contents after it, bounded by the slot and
 * --max-string. A global function, verified once on its own: the
 * unrolled -o loop would otherwise repeat these reads TR_NOUT times for
 * the verifier. Scalar arguments only, the maps looked up again: kernels
 * before 5.12 refuse pointers into a global function.
 */
__noinline int fetch_hdr(__u32 fid, __u32 i, __u64 addr)
{
	struct tr_out_op *op;
	struct tr_spec *sp;
	struct tr_event *e;
	__u64 ptr, len, n;
	__u32 slot, zero = 0;
	__u8 *dst;

	sp = bpf_map_lookup_elem(&specs, &fid);
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!sp || !e || i >= TR_NOUT)
		return false;
	/* masked where it is used: the verifier needs the bound there */
	asm volatile("" : "+r"(i));
	i &= TR_NOUT - 1;
	op = &sp->outs[i];
	slot = op->str_slot;
	if (slot >= TR_NSTR)
		return false;
	dst = e->str[slot];
	e->str_len[slot] = 0;
	if (op->size == 16) {
		if (bpf_probe_read_user(dst, 16, (void *)addr))
			return false;
	} else if (bpf_probe_read_user(dst, TR_OUT_HDR_BYTES, (void *)addr)) {
		return false;
	}
	__builtin_memcpy(&ptr, dst, 8);
	__builtin_memcpy(&len, dst + 8, 8);
	if (len > TR_STR_CAP)
		len = TR_STR_CAP;
	n = len * op->elem_size;
	if (n > max_string)
		n = max_string;
	if (n > TR_STR_CAP - TR_OUT_HDR_BYTES)
		n = TR_STR_CAP - TR_OUT_HDR_BYTES;
	CLAMP(n, TR_STR_CAP - TR_OUT_HDR_BYTES);
	/* contents unread (a nil pointer, a bad one) leave 0 bytes: the
	 * header alone is still right, the text shows as not captured */
	if (ptr && n && !bpf_probe_read_user(dst + TR_OUT_HDR_BYTES, n,
					     (void *)ptr))
		e->str_len[slot] = n;
	return true;
}

/* -o values: follow argument pointers (fetch ops compiled in user space). */
static __always_inline void fetch_outs(struct tr_event *e, struct tr_spec *sp)
{
#pragma unroll
	for (int i = 0; i < TR_NOUT; i++) {
		struct tr_out_op *op = &sp->outs[i];
		__u64 v, addr;
		__u32 size;
		bool ok = true;

		e->out_ok[i] = 0;
		e->outv[i] = 0;
		if (op->kind == TR_SRC_NONE)
			continue;
		/* s[i]: only while i < len(s) */
		if (op->chk_kind != TR_SRC_NONE &&
		    !(src_word(e, false, op->chk_kind, op->chk_idx) >
		      (__u64)op->chk_min))
			continue;
		v = src_word(e, false, op->kind, op->idx);
#pragma unroll
		for (int h = 0; h < TR_OUT_HOPS; h++) {
			if (h >= op->nhops || !ok)
				break;
			addr = v + op->off[h];
			if (h == op->nhops - 1 && (op->flags & TR_OUT_HDR)) {
				if (!v || !fetch_hdr(e->fid, i, addr))
					ok = false;
				v = 0;
			} else if (h == op->nhops - 1) {
				/* len of a nil map or channel */
				if (!v && (op->flags & TR_OUT_NIL_ZERO))
					break;
				v = 0;
				size = op->size;
				CLAMP(size, 8);
				if (!size || bpf_probe_read_user(&v, size,
								 (void *)addr))
					ok = false;
			} else {
				v = 0;
				if (bpf_probe_read_user(&v, sizeof(v),
							(void *)addr))
					ok = false;
			}
		}
		if (ok) {
			e->outv[i] = v;
			e->out_ok[i] = 1;
		}
	}
}

/* --filter 'ARG == "text"': the string's bytes against the atom's, read
 * into the last string slot (the entry fills it only later). */
static __always_inline bool str_filter_eq(struct tr_event *e,
					  struct tr_filt_atom *a)
{
	__u64 ptr = src_word(e, false, a->kind, a->idx);
	__u64 len = src_word(e, false, a->len_kind, a->len_idx);
	__u8 *buf = e->str[TR_NSTR - 1];

	if (len != a->str_len)
		return false;
	if (!len)
		return true;
	CLAMP(len, TR_FILT_STR_MAX);
	if (!len || bpf_probe_read_user(buf, len, (void *)ptr))
		return false;
#pragma unroll
	for (int i = 0; i < TR_FILT_STR_MAX; i++) {
		if (i >= len)
			break;
		if (buf[i] != a->bytes[i])
			return false;
	}
	return true;
}

/* One --filter comparison. */
static __noinline bool filter_atom(struct tr_event *e, struct tr_filt_atom *a)
{
	__u64 v = 0, w;
	__u32 size, idx;
	bool lt, eq;

	if (!e || !a)
		return false;
	w = a->val;
	size = a->size;
	idx = a->idx;
	if (a->str) {
		eq = str_filter_eq(e, a);
		return a->op == TR_OP_NE ? !eq : eq;
	}
	if (a->kind == TR_FILT_REG) {
		if (idx >= TR_NREGS)
			return false;
		v = e->regs[idx];
	} else if (a->kind == TR_FILT_STACK) {
		if (idx > TR_STACK_WORDS * 8 - 8)
			return false;
		__builtin_memcpy(&v, (__u8 *)e->stack +
				 (idx & (TR_STACK_WORDS * 8 - 1)), sizeof(v));
	} else if (a->kind == TR_FILT_GOID) {
		v = e->goid;
	} else if (a->kind == TR_FILT_PID) {
		v = e->pid;
	} else {
		return false;	/* NEVER: the function lacks the argument */
	}
	if (size == 1)
		v = a->is_signed ? (__u64)(__s64)(__s8)v : (__u8)v;
	else if (size == 2)
		v = a->is_signed ? (__u64)(__s64)(__s16)v : (__u16)v;
	else if (size == 4)
		v = a->is_signed ? (__u64)(__s64)(__s32)v : (__u32)v;
	eq = v == w;
	lt = a->is_signed ? (__s64)v < (__s64)w : v < w;
	switch (a->op) {
	case TR_OP_EQ: return eq;
	case TR_OP_NE: return !eq;
	case TR_OP_LT: return lt;
	case TR_OP_LE: return lt || eq;
	case TR_OP_GT: return !lt && !eq;
	case TR_OP_GE: return !lt;
	}
	return false;
}

/*
 * --filter: whether this call passes. User space turned the boolean
 * expression over up to TR_FILT_ATOMS comparisons into a truth table
 * (trace_filter.c), so the kernel evaluates each comparison once, in a
 * bounded loop, and looks the combination up: no expression tree, no
 * recursion, the same code whatever the expression.
 */
__noinline int tr_filter_eval(__u32 fid)
{
	__u32 n, mask = 0, zero = 0;
	struct tr_spec *sp = bpf_map_lookup_elem(&specs, &fid);
	struct tr_event *e = bpf_map_lookup_elem(&scratch, &zero);

	if (!e || !sp)
		return 0;
	n = sp->filt_n;
	for (__u32 i = 0; i < TR_FILT_ATOMS; i++) {
		if (i >= n)
			break;
		if (filter_atom(e, &sp->filt[i]))
			mask |= 1u << i;
	}
	return (sp->filt_table >> (mask & 63)) & 1;
}

/* A global function above (verified once, on its own): inlined, each of
 * its loop's exits with its own mask went on through the whole entry
 * path, and tr_call's verification took 2.3x the instructions. Called
 * with the fid only (kernels before 5.12 take no pointers there): it
 * finds the spec and the entry's record (scratch) itself. */
static __always_inline bool filter_pass(struct tr_event *e, struct tr_spec *sp)
{
	if (!sp->filt_on)
		return true;
	return tr_filter_eval(e->fid);
}

/*
 * The Go stack at the entry site, by frame pointers (Go keeps RBP chains
 * on amd64: [rbp] = caller's rbp, [rbp+8] = return PC). The site is
 * before the prologue saves RBP (the JBE, or the entry), so RBP is still
 * the caller's frame and the return address is at RSP + sp_delta.
 */
static __always_inline void walk_stack(struct tr_event *e, struct fp_regs *ctx,
				       __u64 ra_slot, __u64 hi)
{
	__u64 frame[2], bp = ctx->bp, ra = 0;
	__u32 n = 0;

	e->stack_depth = 0;
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)ra_slot) || !ra)
		return;
	e->pcs[0] = ra;
	n = 1;
	for (int i = 1; i < TR_MAX_STACK; i++) {
		if (bp <= ra_slot - 16 || bp >= hi ||
		    bpf_probe_read_user(frame, sizeof(frame), (void *)bp))
			break;
		if (!frame[1])
			break;
		/* RBP already ours (a site after the prologue): skip the
		 * duplicate of our own return address */
		if (!(i == 1 && frame[1] == ra && bp + 8 == ra_slot)) {
			if (n >= TR_MAX_STACK)
				break;
			e->pcs[n & (TR_MAX_STACK - 1)] = frame[1];
			n++;
		}
		if (frame[0] <= bp)
			break;
		bp = frame[0];
	}
	e->stack_depth = n;
}

/* e on the ring buffer, without the unused string slots of its spec. */
static __always_inline void send_event(struct tr_event *e, struct tr_spec *sp)
{
	__u64 size = sp->nstr;

	CLAMP(size, TR_NSTR);
	size = __builtin_offsetof(struct tr_event, str) + size * TR_STR_CAP;
	CLAMP(size, sizeof(*e));
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags(size)))
		stat_inc(TR_STAT_LOST);
	else
		stat_inc(TR_STAT_SENT);
}

/* Same arguments (the registers and stack words they use) as the open
 * record? Other registers are whatever morestack left in them. */
static __always_inline bool same_args(const struct tr_event *old,
				      const struct tr_event *e,
				      const struct tr_spec *sp)
{
	for (int i = 0; i < TR_NREGS; i++)
		if ((__u32)i < sp->arg_regs && old->regs[i] != e->regs[i])
			return false;
	for (int i = 0; i < TR_STACK_WORDS; i++)
		if ((__u32)i * 8 < sp->stack_bytes &&
		    old->stack[i] != e->stack[i])
			return false;
	return true;
}

/*
 * A new call in a frame that still has an open record: the old call's
 * RET never came (a panic unwound it and a recover further up resumed,
 * or runtime.Goexit ended the goroutine and its g was reused). Send it
 * as unwound before it is overwritten. Except the same call run again:
 * where the entry site is the function's first instruction (no JBE to
 * skip), the prologue's call to morestack (stack growth, or a preemption
 * request in stackguard0) re-runs the function from its entry with the
 * same arguments, on a new stack (another g.stack.hi, the same offset
 * from it) or the same one. That record is just replaced (e, filled from
 * this hit, replaces it).
 */
static __always_inline void flush_abandoned(struct tr_key *key,
					    const struct tr_event *e,
					    const struct tr_spec *sp,
					    __u64 cookie)
{
	struct tr_event *old = bpf_map_lookup_elem(&open_calls, key);
	struct tr_spec *osp;
	__u32 ofid;

	if (!old)
		return;
	ofid = old->fid;
	if (ofid == e->fid && !(cookie & FP_SITE_SKIP_JBE) &&
	    (old->stack_hi != e->stack_hi || same_args(old, e, sp)))
		return;
	osp = bpf_map_lookup_elem(&specs, &ofid);
	if (!osp)
		return;
	old->ts_ret = 0;
	old->flags |= TR_EV_UNWOUND;
	stat_inc(TR_STAT_UNWOUND);
	send_event(old, osp);
	bpf_map_delete_elem(&open_calls, key);
}

/* Store v into the argument register regs[idx] (trace.h order). A write
 * to the context needs a kernel that allows it to uprobe programs
 * (upstream 7384893d970e "bpf: Allow uprobe program to change context
 * registers", after 6.18: this 6.18.44 refuses it); each
 * store is at a constant offset, as the verifier wants. */
static __always_inline bool set_reg(struct fp_regs *ctx, __u16 idx, __u64 v)
{
	switch (idx) {
	case 0: ctx->ax = v; break;
	case 1: ctx->bx = v; break;
	case 2: ctx->cx = v; break;
	case 3: ctx->di = v; break;
	case 4: ctx->si = v; break;
	case 5: ctx->r8 = v; break;
	case 6: ctx->r9 = v; break;
	case 7: ctx->r10 = v; break;
	case 8: ctx->r11 = v; break;
	default: return false;
	}
	return true;
}

/*
 * trace --set: overwrite the argument at this entry (the call passed the
 * filters), then refresh the record's copy so it shows what the function
 * now receives. ra: where the return address is.
 */
static __always_inline void apply_set(struct fp_regs *ctx, struct tr_event *e,
				      struct tr_spec *sp, __u32 fid, __u64 ra)
{
	struct tr_set *s = bpf_map_lookup_elem(&set_specs, &fid);
	void *dst;
	long err = -1;

	if (!s || s->kind == TR_SRC_NONE)
		return;
	if (set_regs_ok && s->kind == TR_SRC_REG) {
		if (set_reg(ctx, s->idx, s->val)) {
			copy_regs(e->regs, ctx);
			err = 0;
		}
	} else if (set_mem_ok && s->kind == TR_SRC_STACK) {
		dst = (void *)(ra + 8 + s->idx);
		switch (s->size) {
		case 1: err = bpf_probe_write_user(dst, &s->val, 1); break;
		case 2: err = bpf_probe_write_user(dst, &s->val, 2); break;
		case 4: err = bpf_probe_write_user(dst, &s->val, 4); break;
		case 8: err = bpf_probe_write_user(dst, &s->val, 8); break;
		}
		if (!err)
			copy_stack(e->stack, ra + 8, sp->stack_bytes);
	}
	stat_inc(err ? TR_STAT_SET_FAIL : TR_STAT_SET);
}

static __always_inline int on_entry(struct fp_regs *ctx, __u64 cookie,
				    __u32 fid, struct tr_key *key, __u64 hi,
				    bool set)
{
	__u64 ra = ctx->sp + (__s64)(__s32)(cookie >> 32);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tr_spec *sp;
	struct tr_event *e;
	__u32 zero = 0;

	sp = bpf_map_lookup_elem(&specs, &fid);
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!sp || !e)
		return 0;
	if (bpf_probe_read_user(&e->goid, sizeof(e->goid),
				(void *)(key->g + off_goid))) {
		stat_inc(TR_STAT_READ_FAIL);
		e->goid = 0;
	}
	key->off = (__u32)(hi - ra);
	e->ts_entry = bpf_ktime_get_ns();
	e->ts_ret = 0;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->g = key->g;
	e->entry_ip = ctx->ip;	/* the kernel sets it to the probed address */
	e->fid = fid;
	e->frame_off = key->off;
	e->stack_hi = hi;
	e->flags = 0;
	copy_regs(e->regs, ctx);
	copy_stack(e->stack, ra + 8, sp->stack_bytes);
	/* before any filter: a RET of this call, even one filtered out,
	 * would pair with the abandoned record */
	flush_abandoned(key, e, sp, cookie);
	if (filter_by_goid && e->goid != filter_goid) {
		stat_inc(TR_STAT_FILTERED);
		return 0;
	}
	if (!filter_pass(e, sp)) {
		stat_inc(TR_STAT_FILTERED);
		return 0;
	}
	if (set)
		apply_set(ctx, e, sp, fid, ra);
	copy_strings(e, sp, false);
	fetch_outs(e, sp);
	if (want_stack)
		walk_stack(e, ctx, ra, hi);
	else
		e->stack_depth = 0;
	if (bpf_map_update_elem(&open_calls, key, e, BPF_ANY)) {
		stat_inc(TR_STAT_OPEN_FULL);
		return 0;
	}
	stat_inc(TR_STAT_CALLS);
	return 0;
}

static __always_inline int on_return(struct fp_regs *ctx, __u32 fid,
				     struct tr_key *key, __u64 hi)
{
	struct tr_spec *sp;
	struct tr_event *e;
	__u64 now = bpf_ktime_get_ns();

	key->off = (__u32)(hi - ctx->sp);
	e = bpf_map_lookup_elem(&open_calls, key);
	if (!e || e->fid != fid) {
		stat_inc(TR_STAT_UNPAIRED);
		return 0;
	}
	if (min_ns && now - e->ts_entry < min_ns) {
		stat_inc(TR_STAT_FAST);
		bpf_map_delete_elem(&open_calls, key);
		return 0;
	}
	sp = bpf_map_lookup_elem(&specs, &fid);
	if (!sp)
		return 0;
	/* one goroutine runs on one thread at a time: nobody else writes
	 * this frame's record */
	e->ts_ret = now;
	copy_regs(e->ret_regs, ctx);
	copy_stack(e->ret_stack, ctx->sp + 8, sp->ret_stack_bytes);
	copy_strings(e, sp, true);
	/* only the string slots in use: most functions have none */
	send_event(e, sp);
	bpf_map_delete_elem(&open_calls, key);
	return 0;
}

/* tr_call, and tr_call_set with set: the same program but for --set. */
static __always_inline int trace_call(struct fp_regs *ctx, bool set,
				      bool by_ip)
{
	struct tr_key key = {};
	__u64 cookie, hi = 0, r14 = ctx->r14;
	__u32 fid;

	/* read ctx at a fixed offset here: clang would otherwise fold the
	 * field into a moved ctx pointer, which the verifier refuses */
	asm volatile("" : "+r"(r14));
	if (!fp_site_cookie_by(ctx, &cookie, by_ip))
		return 0;
	fid = cookie & FP_FID_MASK;

	if ((cookie & FP_SITE_SKIP_JBE) &&
	    (ctx->flags & (FP_EFLAGS_CF | FP_EFLAGS_ZF))) {
		stat_inc(TR_STAT_SKIPPED_JBE);
		return 0;
	}
	if (cookie & FP_SITE_ENTRY) {
		__u64 *calls = bpf_map_lookup_elem(&tr_calls, &fid);

		if (calls)
			*calls += 1;	/* per-CPU: no atomics */
	}
	key.pid = bpf_get_current_pid_tgid() >> 32;
	if (filter_pid && key.pid != filter_pid) {
		stat_inc(TR_STAT_FILTERED);
		return 0;
	}
	key.g = current_g(r14);
	if (!key.g ||
	    bpf_probe_read_user(&hi, sizeof(hi), (void *)(key.g + off_stack_hi))) {
		stat_inc(TR_STAT_READ_FAIL);
		return 0;
	}
	if (cookie & FP_SITE_ENTRY) {
		on_entry(ctx, cookie, fid, &key, hi, set);
		/* a function that is a bare RET: entry and return at once */
		if (!(cookie & FP_SITE_RET))
			return 0;
	}
	return on_return(ctx, fid, &key, hi);
}

SEC("uprobe")
int tr_call(struct fp_regs *ctx)
{
	return trace_call(ctx, false, false);
}

/* Without bpf_get_attach_cookie: sites by address (fp_sites.h). */
SEC("?uprobe")
int tr_call_ip(struct fp_regs *ctx)
{
	return trace_call(ctx, false, true);
}

/*
 * trace --set ARG=VALUE --allow-write: tr_call that also overwrites an
 * argument at the entry (apply_set). Its own program, loaded instead of
 * tr_call, so that tracing without --set pays nothing for it.
 */
SEC("uprobe")
int tr_call_set(struct fp_regs *ctx)
{
	return trace_call(ctx, true, false);
}

SEC("?uprobe")
int tr_call_set_ip(struct fp_regs *ctx)
{
	return trace_call(ctx, true, true);
}

/*
 * Never attached: loaded alone (autoload) by `trace --set` to learn
 * whether this kernel lets BPF write user memory: under lockdown the
 * kernel withholds the helper (LOCKDOWN_BPF_WRITE_USER).
 */
SEC("uprobe")
int tr_write_probe(struct fp_regs *ctx)
{
	__u64 v = 0;

	bpf_probe_write_user((void *)ctx->sp, &v, sizeof(v));
	return 0;
}

/*
 * Never attached either: loaded alone by `trace --set` to learn whether
 * this kernel lets a uprobe program write its context (the registers the
 * program returns to). Without upstream 7384893d970e the verifier refuses
 * any store to it (kernel/trace/bpf_trace.c kprobe_prog_is_valid_access).
 */
SEC("uprobe")
int tr_ctx_write_probe(struct fp_regs *ctx)
{
	__u64 v = ctx->ax;

	asm volatile("" : "+r"(v));
	ctx->ax = v;
	return 0;
}
