// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * gosnoop ktrace: kernel events, decoded by fetch ops, tied to goroutines.
 *
 * One skeleton instance per probe on the command line: user space turns
 * on exactly one program (tracepoint, tp_btf, fentry, fexit, kprobe),
 * sets its attach target, fills the instance's one-entry `spec` map with
 * the compiled ops, and makes every instance share the first one's ring
 * buffer (bpf_map__reuse_fd). Each program copies its arguments, checks
 * the pid/comm filters, runs the op list with bpf_loop() and sends one
 * record.
 *
 * No CO-RE relocations and no BTF-typed helpers in the tracepoint path:
 * the offset of task_struct.thread.fsbase comes from user space (read
 * from vmlinux BTF when there is one), so tracepoints load and run on a
 * kernel without /sys/kernel/btf/vmlinux (without goroutine attribution).
 * Hence vmlinux.h without preserve_access_index: the only kernel struct
 * read directly is x86-64's pt_regs (kprobe fallbacks), whose layout is
 * the user ABI's; with a CO-RE relocation in it, libbpf would parse the
 * whole vmlinux BTF again for every instance it loads (~0.1 s each here,
 * and ktrace loads one per probe: 360 for sys_enter_*).
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ktrace.h"
#include "bpf_wakeup.h"

#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load. 0 / "" = no filter. */
const volatile __u32 filter_tgid = 0;
/* gosnoop itself: its own writes would feed back (perf trace skips itself) */
const volatile __u32 self_tgid = 0;
const volatile char filter_comm[16] = {};
const volatile __u32 filter_comm_len = 0;
const volatile __u16 probe_idx = 0;
/* ctx u64 slots of a tp_btf/fentry/fexit program (fexit: args + ret) */
const volatile __u32 ctx_nargs = 0;
/* bit i: slot i is read with a helper, not loaded (kt_btf__ctx_read_mask) */
const volatile __u32 ctx_read_mask = 0;
/*
 * The spec's op count, for the *_nl programs (no bpf_loop, before 5.17):
 * their bounded loop stops here, so the verifier walks the step once per
 * op of this probe, not KT_MAX_OPS times.
 */
const volatile __u32 nops_bound = 0;
/*
 * The same ops as the spec map's, for the *_nl programs: read from
 * frozen rodata at an index the verifier knows (the loop's counter), each
 * op's code and operands are constants to it, so it walks only the case
 * each op takes. Walking every case for every op made 345 syscall
 * tracepoints take over 300 s to load on 5.10 under qemu.
 */
const volatile struct kt_op ro_ops[KT_MAX_OPS] = {};
/*
 * Goroutine attribution (go_attr): current g is the pointer at
 * fsbase + tls_g_off in the task's user memory, fsbase is at
 * task_struct + fsbase_off; goid and startpc at g + goid_off/startpc_off.
 */
const volatile __u32 go_attr = 0;
const volatile __u64 fsbase_off = 0;
const volatile __s64 tls_g_off = -8;
const volatile __u32 goid_off = 0;
const volatile __u32 startpc_off = 0;
/*
 * Is it a g? A PATH target is matched by comm, which another program can
 * share: its TLS would be read as a g. A real one is its m's current
 * goroutine or its m's g0 (m.g0 is m's first field in every release).
 * 0: no check (offsets unknown).
 */
const volatile __u32 g_m_off = 0;
const volatile __u32 m_curg_off = 0;

/*
 * --follow: the traced process and every task forked from it (children,
 * grandchildren; threads too, whose ids never stand for another process
 * while they live). kt_fork adds a followed task's child, kt_exit removes
 * a task that ends; run() takes events of tasks in the map. fork_child_off:
 * child_pid's offset in sched_process_fork's record (tracefs format).
 */
const volatile __u32 follow = 0;
const volatile __u32 fork_child_off = 0;
/*
 * --goid, --goroutine-func: only events of these goroutines. gofuncs'
 * keys are g.startpc - mm->start_code, the same in every process of one
 * binary, PIE or not (start_code is the lowest executable PT_LOAD's
 * p_vaddr plus the load bias: fs/binfmt_elf.c); task->mm and
 * mm->start_code offsets from vmlinux BTF through user space.
 */
const volatile __u32 goid_filter = 0;
const volatile __u32 gofunc_filter = 0;
const volatile __u32 task_mm_off = 0;
const volatile __u32 mm_start_code_off = 0;	/* 0: not read */
/* --stack: KT_STACK_* and where in the record's data each area is */
const volatile __u32 stack_kinds = 0;
const volatile __u32 kstack_off = 0;
const volatile __u32 ustack_off = 0;

__u64 stats[KT_NSTATS] = {};

/* One of each for all instances (user space: bpf_map__reuse_fd). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_FOLLOW_MAX);
	__type(key, __u32);
	__type(value, __u8);
} followed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_GOSET_MAX);
	__type(key, __u64);
	__type(value, __u8);
} goids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_GOSET_MAX);
	__type(key, __u64);
	__type(value, __u8);
} gofuncs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KT_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kt_spec);
} spec SEC(".maps");

/* The record is built here (too big for the 512-byte BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kt_event);
} scratch SEC(".maps");

/*
 * The interpreter's state, per CPU (a program does not nest on its CPU):
 * in map memory rather than on the stack, the verifier tracks none of
 * its values, so the op loop's callback is verified in one pass instead
 * of once per stack depth and drop state it could see (a load of one
 * instance took ~60 ms), and no event pays for zeroing it.
 */
struct vm_mem {
	__u64 st[KT_STACK];
	__u64 args[KT_MAX_ARGS];
	__u64 base;		/* tracepoint record (ctx) */
	__u32 sp;
	__u32 drop;		/* 1: filtered out, 2: bad spec */
	char cmp[KT_CMP_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vm_mem);
} vm_mem SEC(".maps");

/* What the op loop's callback gets (on the stack: pointers only). */
struct vm {
	struct vm_mem *m;
	struct kt_spec *spec;
	struct kt_event *ev;
	const struct kt_op *ops;	/* spec->ops, or ro_ops (*_nl) */
};

static __always_inline void stat_inc(int i)
{
	__sync_fetch_and_add(&stats[i], 1);
}

static __always_inline int push(struct vm *vm, __u64 v)
{
	__u32 sp = vm->m->sp;

	if (sp >= KT_STACK) {
		vm->m->drop = 2;
		return 1;
	}
	vm->m->sp = sp + 1;
	/* keep the mask: the verifier needs it, the compiler thinks not */
	barrier_var(sp);
	vm->m->st[sp & (KT_STACK - 1)] = v;
	return 0;
}

static __always_inline int pop(struct vm *vm, __u64 *v)
{
	__u32 sp = vm->m->sp;

	if (sp == 0 || sp > KT_STACK) {
		vm->m->drop = 2;
		return 1;
	}
	sp--;
	vm->m->sp = sp;
	barrier_var(sp);
	*v = vm->m->st[sp & (KT_STACK - 1)];
	return 0;
}

static __always_inline long read_mem(void *dst, __u32 size, __u64 src,
				     __u8 flags)
{
	if (flags & KT_F_USER)
		return bpf_probe_read_user(dst, size, (void *)src);
	return bpf_probe_read_kernel(dst, size, (void *)src);
}

static __always_inline __u64 load(__u64 addr, __u8 size, __u8 flags)
{
	__u64 v = 0;
	__u32 sz = size;

	if (sz == 0 || sz > 8)
		sz = 8;
	if (read_mem(&v, sz, addr, flags))
		return 0;
	if ((flags & KT_F_SIGNED) && sz < 8) {
		int sh = 64 - 8 * sz;

		v = (__u64)((__s64)(v << sh) >> sh);
	}
	return v;
}

static __always_inline __u64 bswap(__u64 v, __u8 size)
{
	switch (size) {
	case 2:
		return __builtin_bswap16((__u16)v);
	case 4:
		return __builtin_bswap32((__u32)v);
	default:
		return __builtin_bswap64(v);
	}
}

static __always_inline __u64 compare(__u8 code, __u64 a, __u64 b,
				     bool is_signed)
{
	__s64 sa = a, sb = b;

	switch (code) {
	case KT_OP_EQ: return a == b;
	case KT_OP_NE: return a != b;
	case KT_OP_LT: return is_signed ? sa < sb : a < b;
	case KT_OP_LE: return is_signed ? sa <= sb : a <= b;
	case KT_OP_GT: return is_signed ? sa > sb : a > b;
	case KT_OP_GE: return is_signed ? sa >= sb : a >= b;
	case KT_OP_LAND: return a && b;
	case KT_OP_LOR: return a || b;
	case KT_OP_ADD: return a + b;
	case KT_OP_SUB: return a - b;
	}
	return 0;
}

static __always_inline __u64 streq(struct vm *vm, __u64 addr,
				   const struct kt_op *op)
{
	__u32 off = op->off, len = op->len;
	const __u8 *c = vm->spec->consts;
	long n;

	if (off + len > KT_CONST_MAX || len == 0 || len > KT_CMP_MAX)
		return 0;
	if (op->flags & KT_F_USER)
		n = bpf_probe_read_user_str(vm->m->cmp, sizeof(vm->m->cmp),
					    (void *)addr);
	else
		n = bpf_probe_read_kernel_str(vm->m->cmp, sizeof(vm->m->cmp),
					      (void *)addr);
	if (n < 0)
		return 0;
	if (n == 0)	/* "" from user memory on older kernels (read_str) */
		vm->m->cmp[0] = 0;
	/* len counts the NUL: equal strings agree on len bytes. */
	for (__u32 i = 0; i < KT_CMP_MAX; i++) {
		if (i >= len)
			break;
		if (vm->m->cmp[i & (KT_CMP_MAX - 1)] !=
		    c[(off + i) & (KT_CONST_MAX - 1)])
			return 0;
	}
	return 1;
}

/*
 * A string into dst (at most len bytes, NUL-terminated); an empty, NULL
 * or unreadable one is marked in dst[1] (ktrace.h: KT_STR_*), so user
 * space can print "", NULL or ? for them. The helpers zero dst when the
 * read fails; a page of the string not yet faulted in fails it, since a
 * tracepoint program must not sleep.
 */
static __always_inline void read_str(__u8 *dst, __u32 len, __u64 addr,
				     __u8 flags)
{
	__u8 mark = KT_STR_NULL;
	long n = -1;

	if (addr) {
		if (flags & KT_F_USER)
			n = bpf_probe_read_user_str(dst, len, (void *)addr);
		else
			n = bpf_probe_read_kernel_str(dst, len, (void *)addr);
		if (n > 1)
			return;
		/* "" reads as 1 (its NUL), but as 0 from user memory
		 * before 6.4 or so (strncpy_from_user_nofault counted no
		 * NUL for it; seen on 6.1): a failure is negative */
		mark = n >= 0 ? 0 : KT_STR_UNREADABLE;
	}
	if (len < 2)
		return;
	dst[0] = 0;
	dst[1] = mark;
}

static __always_inline void emit_strv(struct vm *vm, __u64 addr,
				      const struct kt_op *op, __u32 off)
{
	__u32 len = op->len, n = 0, cut = addr ? 0 : KT_STR_NULL;
	__u8 *data = vm->ev->data;

	if (len > KT_STR_MAX)
		len = KT_STR_MAX;
	for (int i = 0; i < KT_STRV_MAX; i++) {
		__u64 p = 0;
		__u32 o;

		if (i >= op->imm || !addr)
			break;
		if (read_mem(&p, 8, addr + 8 * i, op->flags)) {
			cut = KT_STR_UNREADABLE;
			break;
		}
		if (!p)
			break;
		o = (off + 8 + i * len) & (KT_DATA_MAX - 1);
		read_str(&data[o], len, p, op->flags);
		n++;
	}
	off &= KT_DATA_MAX - 1;
	*(__u32 *)&data[off] = n;
	*(__u32 *)&data[off + 4] = cut;
}

/* The result of a value op: pushed, or (KT_F_EMIT) stored in the
 * record where the EMIT_VAL it was fused with would have put it. */
static __always_inline long put(struct vm *vm, const struct kt_op *op,
				__u64 a)
{
	if (op->flags & KT_F_EMIT) {
		*(__u64 *)&vm->ev->data[op->off & (KT_DATA_MAX - 1)] = a;
		return 0;
	}
	return push(vm, a);
}

/* Not inlined: bpf_loop's callback, and a subprogram called from the
 * bounded loop of the kernels without bpf_loop (run()). */
static __noinline long step(__u32 i, void *arg)
{
	struct vm *vm = arg;
	struct kt_spec *sp = vm->spec;
	const struct kt_op *op;
	__u64 a = 0, b = 0;
	__u32 off, len;

	if (i >= sp->nops)
		return 1;
	op = &vm->ops[i & (KT_MAX_OPS - 1)];
	off = op->off & (KT_DATA_MAX - 1);
	switch (op->code) {
	case KT_OP_NOP:
		break;
	case KT_OP_ARG:
		off = (__u32)op->imm;
		if (off >= KT_MAX_ARGS)
			goto bad;
		return put(vm, op, vm->m->args[off]);
	case KT_OP_ARG_LOAD:
		off = op->len;
		if (off >= KT_MAX_ARGS)
			goto bad;
		return put(vm, op, load(vm->m->args[off] + op->imm, op->size,
					op->flags));
	case KT_OP_CTX:
		return put(vm, op, vm->m->base + op->imm);
	case KT_OP_IMM:
		return put(vm, op, op->imm);
	case KT_OP_ADDI:
	case KT_OP_ANDI:
	case KT_OP_SHRI:
	case KT_OP_MULI:
	case KT_OP_LOAD:
	case KT_OP_DATALOC:
	case KT_OP_BSWAP:
	case KT_OP_NOT:
	case KT_OP_NEG:
	case KT_OP_STREQ:
		if (pop(vm, &a))
			return 1;
		switch (op->code) {
		case KT_OP_ADDI: a += op->imm; break;
		case KT_OP_ANDI: a &= op->imm; break;
		case KT_OP_SHRI: a >>= (op->imm & 63); break;
		case KT_OP_MULI: a *= op->imm; break;
		case KT_OP_LOAD: a = load(a, op->size, op->flags); break;
		case KT_OP_DATALOC: a = vm->m->base + (a & 0xffff); break;
		case KT_OP_BSWAP: a = bswap(a, op->size); break;
		case KT_OP_NOT: a = !a; break;
		case KT_OP_NEG: a = -a; break;
		case KT_OP_STREQ: return push(vm, streq(vm, a, op));
		}
		return put(vm, op, a);
	case KT_OP_EQ:
	case KT_OP_NE:
	case KT_OP_LT:
	case KT_OP_LE:
	case KT_OP_GT:
	case KT_OP_GE:
	case KT_OP_LAND:
	case KT_OP_LOR:
	case KT_OP_ADD:
	case KT_OP_SUB:
		if (op->flags & KT_F_IMM)
			b = op->imm;
		else if (pop(vm, &b))
			return 1;
		if (pop(vm, &a))
			return 1;
		return put(vm, op, compare(op->code, a, b,
					   op->flags & KT_F_SIGNED));
	case KT_OP_FILTER:
		if (pop(vm, &a))
			return 1;
		if (!a) {
			vm->m->drop = 1;
			return 1;
		}
		break;
	case KT_OP_EMIT_VAL:
		if (pop(vm, &a))
			return 1;
		*(__u64 *)&vm->ev->data[off] = a;
		break;
	case KT_OP_EMIT_STR:
		if (pop(vm, &a))
			return 1;
		len = op->len;
		if (len > KT_STR_MAX)
			len = KT_STR_MAX;
		read_str(&vm->ev->data[off], len, a, op->flags);
		break;
	case KT_OP_EMIT_BYTES:
		if (pop(vm, &a))
			return 1;
		len = op->len;
		if (len > KT_STR_MAX)
			len = KT_STR_MAX;
		if (read_mem(&vm->ev->data[off], len, a, op->flags))
			__builtin_memset(&vm->ev->data[off], 0, 1);
		break;
	case KT_OP_EMIT_BUF:
		if (pop(vm, &b) || pop(vm, &a))
			return 1;
		/*
		 * b bounded by a constant first: clang may pass b itself as
		 * the size once len = b, and verifiers before 6.x learn no
		 * bound from "b < len" between two registers ("R2 min value
		 * is negative" on 5.10 and 6.1).
		 */
		if (b > KT_STR_MAX)
			b = KT_STR_MAX;
		len = op->len;
		if (len > KT_STR_MAX)
			len = KT_STR_MAX;
		if (b < len)
			len = b;
		if (!a && len)
			len = KT_BUF_NULL;
		else if (read_mem(&vm->ev->data[off + 4], len, a, op->flags))
			len = KT_BUF_UNREADABLE;
		*(__u32 *)&vm->ev->data[off] = len;
		break;
	case KT_OP_EMIT_STRV:
		if (pop(vm, &a))
			return 1;
		emit_strv(vm, a, op, off);
		break;
	default:
		goto bad;
	}
	return 0;
bad:
	vm->m->drop = 2;
	return 1;
}

static __always_inline bool comm_matches(const char *comm)
{
	__u32 n = filter_comm_len;

	for (int i = 0; i < 16; i++) {
		if (i >= n)
			break;
		if (comm[i] != filter_comm[i])
			return false;
	}
	return n >= 16 || comm[n] == '\0';
}

/*
 * The goroutine running on the current task. Valid in a system call too:
 * on linux/amd64 every switch of g writes both the TLS slot and R14
 * (go1.19.8 src/runtime/asm_amd64.s: gogo<> "MOVQ DX, g(CX); MOVQ DX,
 * R14"; mcall "MOVQ SI, R14 ... MOVQ R14, g(CX)"; systemstack "MOVQ DX,
 * g(CX); MOVQ DX, R14"), and syscall.Syscall (src/syscall/
 * syscall_linux.go) only calls runtime_entersyscall, which changes the
 * g's status, not g, before RawSyscall6. On g0 inside systemstack the
 * goroutine is m.curg (below); a thread with no goroutine (scheduler,
 * netpoll) reads as g0: goid 0.
 */
static __always_inline void goroutine(struct kt_event *ev)
{
	__u64 task = bpf_get_current_task();
	__u64 fsbase = 0, g = 0, goid = 0, startpc = 0;

	if (bpf_probe_read_kernel(&fsbase, 8, (void *)(task + fsbase_off)) ||
	    !fsbase ||
	    bpf_probe_read_user(&g, 8, (void *)(fsbase + tls_g_off)) || !g ||
	    bpf_probe_read_user(&goid, 8, (void *)(g + goid_off)) ||
	    bpf_probe_read_user(&startpc, 8, (void *)(g + startpc_off))) {
		stat_inc(KT_STAT_NO_G);
		return;
	}
	if (g_m_off) {
		__u64 m = 0, g0 = 0, curg = 0;

		if (bpf_probe_read_user(&m, 8, (void *)(g + g_m_off)) || !m ||
		    bpf_probe_read_user(&g0, 8, (void *)m) ||
		    bpf_probe_read_user(&curg, 8, (void *)(m + m_curg_off)) ||
		    (g != g0 && g != curg)) {
			stat_inc(KT_STAT_NO_G);
			return;
		}
		/*
		 * On g0 for a goroutine: runtime.systemstack keeps m.curg,
		 * so a system call the runtime makes there (mallocgc's heap
		 * growth mmaps, a GC worker's drain) belongs to that
		 * goroutine; the scheduler's own work has dropped curg
		 * first (dropg in park_m, gosched_m, exitsyscall0).
		 */
		if (g == g0 && curg && curg != g0) {
			__u64 cgoid = 0, cstartpc = 0;

			if (!bpf_probe_read_user(&cgoid, 8,
						 (void *)(curg + goid_off)) &&
			    !bpf_probe_read_user(&cstartpc, 8,
						 (void *)(curg + startpc_off))) {
				goid = cgoid;
				startpc = cstartpc;
			}
		}
	}
	ev->goid = goid;
	ev->startpc = startpc;
	ev->flags |= KT_EV_GOID;
	/* the process's own text address: no /proc read can race with an
	 * exec or an exit (--goroutine-func, PIE start functions) */
	if (mm_start_code_off) {
		__u64 mm = 0;

		if (!bpf_probe_read_kernel(&mm, 8, (void *)(task + task_mm_off)) &&
		    mm)
			bpf_probe_read_kernel(&ev->start_code, 8,
					      (void *)(mm + mm_start_code_off));
	}
}

/* --goid / --goroutine-func: is the event's goroutine one of them? */
static __always_inline bool goroutine_wanted(const struct kt_event *ev)
{
	__u64 key;

	if (!(ev->flags & KT_EV_GOID))
		return false;
	if (goid_filter && !bpf_map_lookup_elem(&goids, &ev->goid))
		return false;
	if (!gofunc_filter)
		return true;
	if (!ev->start_code)	/* read by goroutine() */
		return false;
	key = ev->startpc - ev->start_code;
	return bpf_map_lookup_elem(&gofuncs, &key) != NULL;
}

/* --stack: bpf_get_stack's result (bytes, or -errno), then the frames. */
static __always_inline void stacks(void *ctx, struct kt_event *ev)
{
	__u32 o;

	if (stack_kinds & KT_STACK_KERNEL) {
		o = kstack_off & (KT_DATA_MAX - 1);
		*(__s64 *)&ev->data[o] = bpf_get_stack(ctx, &ev->data[o + 8],
						       KT_STACK_BYTES, 0);
	}
	if (stack_kinds & KT_STACK_USER) {
		o = ustack_off & (KT_DATA_MAX - 1);
		*(__s64 *)&ev->data[o] = bpf_get_stack(ctx, &ev->data[o + 8],
						       KT_STACK_BYTES,
						       BPF_F_USER_STACK);
	}
}

/* The record: header and the spec's data, with batched wakeups. The
 * bench's kt_record_floor sends through here too, so it measures this. */
static __always_inline void send(struct kt_event *ev,
				 const struct kt_spec *spec)
{
	__u32 len = spec->data_len;

	if (len > KT_DATA_MAX)
		len = KT_DATA_MAX;
	if (bpf_ringbuf_output(&events, ev, KT_EVENT_HDR_SIZE + len,
			       wakeup_flags(KT_EVENT_HDR_SIZE + len)))
		stat_inc(KT_STAT_LOST);
}

/*
 * --follow: the target itself (no lookup: its own events pay nothing
 * more), a task it forked, or, without a pid (PATH, -c), one the comm
 * check decides. A forked task of a PATH target passes whatever its
 * comm (an exec renamed it); with a pid, -c still holds for all.
 */
static __always_inline bool followed_task(__u32 tgid, bool *check_comm)
{
	if (filter_tgid && tgid == filter_tgid)
		return true;
	if (bpf_map_lookup_elem(&followed, &tgid)) {
		if (!filter_tgid)
			*check_comm = false;
		return true;
	}
	return !filter_tgid && filter_comm_len;
}

/*
 * args: the ctx u64 array of tp_btf/fentry/fexit, or NULL. use_loop: run
 * the ops with bpf_loop (5.17+); else with a bounded loop of direct calls,
 * for older kernels, which refuse a program that merely names a callback
 * (5.10: "number of funcs in func_info doesn't match number of subprogs").
 */
static __always_inline int run(void *pctx, void *ctx, void *args,
			       struct pt_regs *regs, bool is_ret,
			       bool use_loop)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct kt_event *ev;
	struct vm vm = {};
	bool check_comm = filter_comm_len;

	if (tgid == self_tgid)
		return 0;
	if (follow) {
		if (!followed_task(tgid, &check_comm))
			return 0;
	} else if (filter_tgid && tgid != filter_tgid) {
		return 0;
	}
	vm.spec = bpf_map_lookup_elem(&spec, &zero);
	vm.ev = ev = bpf_map_lookup_elem(&scratch, &zero);
	vm.m = bpf_map_lookup_elem(&vm_mem, &zero);
	if (!vm.spec || !ev || !vm.m)
		return 0;
	vm.m->sp = 0;
	vm.m->drop = 0;
	if (check_comm) {
		bpf_get_current_comm(ev->comm, sizeof(ev->comm));
		if (!comm_matches(ev->comm))
			return 0;
	}
	/*
	 * The verifier allows no variable offset on a ctx pointer; the
	 * record is read with bpf_probe_read_kernel anyway, so pass the
	 * address through map memory, which turns it into a plain number.
	 */
	ev->start_code = (__u64)ctx;
	vm.m->base = *(volatile __u64 *)&ev->start_code;
	if (args) {
		/*
		 * ctx_nargs is a constant to the verifier (frozen rodata, one
		 * skeleton instance per probe): the reads past the event's
		 * arguments are dead code it never sees, and the copy needs
		 * no helper call.
		 */
		__u64 *a = args;

#pragma unroll
		for (int i = 0; i < KT_MAX_ARGS; i++) {
			if (i >= ctx_nargs)
				continue;
			if (ctx_read_mask & (1u << i))
				bpf_probe_read_kernel(&vm.m->args[i], 8, &a[i]);
			else
				vm.m->args[i] = a[i];
		}
	} else if (regs && is_ret) {
		/* kretprobe: only the return value (slot nargs - 1) */
		__u32 n = vm.spec->nargs;

		if (n >= 1 && n <= KT_MAX_ARGS)
			vm.m->args[n - 1] = PT_REGS_RC(regs);
	} else if (regs) {
		vm.m->args[0] = PT_REGS_PARM1(regs);
		vm.m->args[1] = PT_REGS_PARM2(regs);
		vm.m->args[2] = PT_REGS_PARM3(regs);
		vm.m->args[3] = PT_REGS_PARM4(regs);
		vm.m->args[4] = PT_REGS_PARM5(regs);
		vm.m->args[5] = regs->r9;	/* libbpf 1.1 has no PARM6 */
	}
	if (use_loop) {
		vm.ops = vm.spec->ops;
		bpf_loop(KT_MAX_OPS, step, &vm, 0);
	} else {
		__u32 n = nops_bound;

		/* hidden from clang, which would fold the reads of a
		 * zero-initialized const array; not from the verifier */
		vm.ops = (const struct kt_op *)ro_ops;
		barrier_var(vm.ops);

		for (__u32 i = 0; i < KT_MAX_OPS; i++)
			if (i >= n || step(i, &vm))
				break;
	}
	if (vm.m->drop) {
		if (vm.m->drop == 2)
			stat_inc(KT_STAT_BAD_SPEC);
		return 0;
	}
	/* after the filter: a dropped event needs no comm */
	if (!check_comm)
		bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	ev->ts_ns = bpf_ktime_get_ns();
	ev->tgid = tgid;
	ev->tid = (__u32)id;
	ev->cpu = bpf_get_smp_processor_id();
	ev->probe = probe_idx;
	ev->flags = 0;
	ev->start_code = 0;
	ev->goid = KT_GOID_NONE;
	ev->startpc = 0;
	if (go_attr)
		goroutine(ev);
	if ((goid_filter || gofunc_filter) && !goroutine_wanted(ev)) {
		stat_inc(KT_STAT_FILTERED);
		return 0;
	}
	if (stack_kinds)
		stacks(pctx, ev);
	send(ev, vm.spec);
	return 0;
}

/*
 * Each program twice: with bpf_loop, and *_nl with the bounded loop for
 * kernels without it (user space asks the kernel which; cmd_ktrace.c).
 */
#define KT_PROGS(sec, name, ctx_t, base, args, regs, is_ret)		\
SEC(sec)								\
int name(ctx_t ctx)							\
{									\
	return run(ctx, base, args, regs, is_ret, true);		\
}									\
SEC(sec)								\
int name##_nl(ctx_t ctx)						\
{									\
	return run(ctx, base, args, regs, is_ret, false);		\
}

KT_PROGS("?tracepoint", kt_tracepoint, void *, ctx, NULL, NULL, false)

/*
 * tp_btf:NAME probes run as raw tracepoints: the same arguments in the
 * same u64 slots, through the same kernel path (__bpf_trace_run) as a
 * tp_btf program, but a raw_tp program needs no BTF to load or attach.
 * libbpf parses the whole vmlinux BTF again for every tp_btf object it
 * loads (~30 ms each here: 23 s for 758 probes), and the verifier would
 * type each ctx load from BTF and refuse some (function pointers). The
 * arguments are typed from BTF in user space all the same.
 */
KT_PROGS("?raw_tp", kt_raw_tp, struct bpf_raw_tracepoint_args *, NULL,
	 ctx->args, NULL, false)

KT_PROGS("?fentry", kt_fentry, __u64 *, NULL, ctx, NULL, false)
KT_PROGS("?fexit", kt_fexit, __u64 *, NULL, ctx, NULL, false)
/* Fallback for fentry where the kernel has kprobes: args from pt_regs. */
KT_PROGS("?kprobe", kt_kprobe, struct pt_regs *, NULL, NULL, ctx, false)
/* Fallback for fexit: the return value only. */
KT_PROGS("?kretprobe", kt_kretprobe, struct pt_regs *, NULL, NULL, ctx,
	 true)

/* The floor for bench/ktrace.py: what an empty tp_btf program costs. */
SEC("?tp_btf")
int kt_empty(__u64 *ctx)
{
	return 0;
}

/*
 * The floor of any probe that sends each event, for bench/ktrace.py: the
 * pid filter, a timestamp and one record as long as the probe's, with the
 * same batched wakeups; nothing evaluated, no comm, no goroutine. What a
 * probe costs above this is what its expressions and attribution cost.
 */
SEC("?raw_tp")
int kt_record_floor(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct kt_spec *spec_v;
	struct kt_event *ev;

	if (filter_tgid && tgid != filter_tgid)
		return 0;
	spec_v = bpf_map_lookup_elem(&spec, &zero);
	ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!spec_v || !ev)
		return 0;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->tgid = tgid;
	ev->tid = (__u32)id;
	ev->probe = probe_idx;
	ev->flags = 0;
	ev->goid = KT_GOID_NONE;
	send(ev, spec_v);
	return 0;
}

/*
 * Last in the file: user space takes an instance's probe program as the
 * first one it loads (ktrace_inst.c), and these load beside it in the
 * first instance.
 *
 * --follow: a followed task's child is followed (fork and clone alike:
 * a thread's id is harmless, and removed when it ends); so is the child
 * of a task named like a PATH (or -c) target. */
SEC("?tracepoint/sched/sched_process_fork")
int kt_fork(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, child = 0;
	__u8 one = 1;
	char comm[16];

	if (!bpf_map_lookup_elem(&followed, &tgid)) {
		if (filter_tgid || !filter_comm_len)
			return 0;
		bpf_get_current_comm(comm, sizeof(comm));
		if (!comm_matches(comm))
			return 0;
	}
	if (bpf_probe_read_kernel(&child, 4, ctx + fork_child_off) || !child)
		return 0;
	if (bpf_map_update_elem(&followed, &child, &one, BPF_ANY))
		stat_inc(KT_STAT_FOLLOW_FULL);
	return 0;
}

SEC("?tracepoint/sched/sched_process_exit")
int kt_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&followed, &tid);
	return 0;
}
