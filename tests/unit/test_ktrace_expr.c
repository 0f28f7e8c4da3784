// SPDX-License-Identifier: MIT
/*
 * The ktrace expression compiler (src/ktrace_expr*.c) against the
 * kernel's own type information: C expressions over real tp_btf events
 * of this kernel's vmlinux BTF are compiled, and every offset and size in
 * the resulting fetch ops is checked against member offsets this test
 * finds in BTF itself (its own walk, through anonymous members), and the
 * tracepoint-field path against the tracefs format file as the test
 * parses it. Then the errors: each bad expression must fail with the
 * message that names the problem, and no input may crash the compiler
 * (random and hostile strings; run under ASan/UBSan by tests-san).
 *
 * Needs /sys/kernel/btf/vmlinux (SKIPs visibly without it); the
 * tracepoint case needs tracefs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "testutil.h"
#include "ktrace/ktrace_probe.h"
#include "ktrace_interp.h"

static struct btf *vmlinux;

static int setup(void **state)
{
	vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux))
		vmlinux = NULL;
	return 0;
}

static int teardown(void **state)
{
	btf__free(vmlinux);
	return 0;
}

#define NEED_BTF()							\
	do {								\
		if (!vmlinux) {						\
			printf("SKIP: no /sys/kernel/btf/vmlinux "	\
			       "(CONFIG_DEBUG_INFO_BTF off)\n");	\
			skip();						\
		}							\
	} while (0)

/* ------------------------------------------------ ground truth from BTF */

static const struct btf_type *strip(__u32 *id)
{
	const struct btf_type *t = btf__type_by_id(vmlinux, *id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		*id = t->type;
		t = btf__type_by_id(vmlinux, *id);
	}
	return t;
}

/*
 * Member `name` of composite type id, looking into anonymous members:
 * its bit offset, type and bitfield size. Written apart from the
 * compiler's find_member() on purpose.
 */
static bool btf_member(__u32 id, const char *name, __u32 *bits,
		       __u32 *type, __u32 *bitsize)
{
	const struct btf_type *t = strip(&id);

	if (!t || !btf_is_composite(t))
		return false;
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = btf_members(t) + i;
		const char *mn = btf__name_by_offset(vmlinux, m->name_off);

		if (mn && *mn && !strcmp(mn, name)) {
			*bits = btf_member_bit_offset(t, i);
			*type = m->type;
			*bitsize = btf_member_bitfield_size(t, i);
			return true;
		}
		if ((!mn || !*mn) &&
		    btf_member(m->type, name, bits, type, bitsize)) {
			*bits += btf_member_bit_offset(t, i);
			return true;
		}
	}
	return false;
}

/* Byte offset of a dotted member path ("__sk_common.skc_daddr") in the
 * struct called sname; its type in *type. */
static long off_of(const char *sname, const char *path, __u32 *type)
{
	int id = btf__find_by_name_kind(vmlinux, sname, BTF_KIND_STRUCT);
	char buf[256], *save = NULL;
	__u32 cur, bits, bs, total = 0;

	assert_true(id > 0);
	cur = id;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *m = strtok_r(buf, ".", &save); m;
	     m = strtok_r(NULL, ".", &save)) {
		if (!btf_member(cur, m, &bits, &cur, &bs))
			fail_msg("BTF: struct %s has no %s", sname, path);
		total += bits;
	}
	if (type)
		*type = cur;
	return total / 8;
}

static __u32 size_of(__u32 id)
{
	const struct btf_type *t = strip(&id);

	assert_non_null(t);
	return btf__resolve_size(vmlinux, id);
}

static bool is_signed_int(__u32 id)
{
	const struct btf_type *t = strip(&id);

	return t && btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_SIGNED);
}

/* ------------------------------------------------ compiling */

static struct kt_probe *probe(const char *text)
{
	struct kt_probe *p;
	char err[256];

	assert_int_equal(kt_probe__parse(text, &p, err, sizeof(err)), 0);
	assert_int_equal(kt_btf__probe_args(p, vmlinux, err, sizeof(err)), 0);
	p->spec.nargs = p->nargs + (p->has_ret ? 1 : 0);
	return p;
}

static int arg_index(const struct kt_probe *p, const char *name)
{
	for (int i = 0; i < p->nargs; i++)
		if (!strcmp(p->arg_names[i], name))
			return i;
	fail_msg("%s has no argument %s", p->text, name);
	return -1;
}

struct want {
	__u8 code, size, flags;
	__s64 imm;
};

#define OP(c, s, f, i) { KT_OP_##c, s, f, i }

/* p's ops from index from on are exactly want[0..n), where an ADDI of
 * 0 (a member at offset 0) is no op at all. */
static void assert_ops(const struct kt_probe *p, __u32 from,
		       const struct want *want, size_t nwant)
{
	struct want w[KT_MAX_OPS];
	size_t n = 0;

	for (size_t i = 0; i < nwant && n < KT_MAX_OPS; i++)
		if (want[i].code != KT_OP_ADDI || want[i].imm)
			w[n++] = want[i];
	if (p->spec.nops - from != n) {
		for (__u32 i = from; i < p->spec.nops; i++)
			printf("  op %u: code %u size %u flags %u imm %lld\n", i,
			       p->spec.ops[i].code, p->spec.ops[i].size,
			       p->spec.ops[i].flags,
			       (long long)p->spec.ops[i].imm);
		fail_msg("%s: %u ops, want %zu", p->text,
			 p->spec.nops - from, n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct kt_op *op = &p->spec.ops[from + i];

		if (op->code != w[i].code || op->imm != w[i].imm ||
		    (w[i].size && op->size != w[i].size) ||
		    op->flags != w[i].flags)
			fail_msg("%s: op %zu is code %u size %u flags %u imm "
				 "%lld; want %u %u %u %lld", p->text, i,
				 op->code, op->size, op->flags,
				 (long long)op->imm, w[i].code, w[i].size,
				 w[i].flags, (long long)w[i].imm);
	}
}

/* Compile -o text; returns the index of its first op. */
static __u32 output(struct kt_probe *p, const char *text)
{
	char err[512] = "";
	__u32 from = p->spec.nops;

	if (kt_expr__output(p, vmlinux, text, err, sizeof(err)))
		fail_msg("-o '%s': %s", text, err);
	return from;
}

static const struct kt_out *last_out(const struct kt_probe *p)
{
	assert_true(p->nout > 0);
	return &p->outs[p->nout - 1];
}

/* ------------------------------------------------ tests */

/* prev->pid, next->comm, a pointer chain, a char array element. */
static void test_sched_switch_members(void **state)
{
	struct kt_probe *p;
	__u32 pid_t_id, from;
	long pid = 0, comm, parent;
	const struct kt_out *o;
	int prev, next;

	NEED_BTF();
	p = probe("tp_btf:sched_switch");
	prev = arg_index(p, "prev");
	next = arg_index(p, "next");
	pid = off_of("task_struct", "pid", &pid_t_id);
	comm = off_of("task_struct", "comm", NULL);
	parent = off_of("task_struct", "real_parent", NULL);
	assert_int_equal(size_of(pid_t_id), 4);
	assert_true(is_signed_int(pid_t_id));

	from = output(p, "prev->pid");
	{
		struct want w[] = {
			OP(ARG, 0, 0, prev), OP(ADDI, 0, 0, pid),
			OP(LOAD, 4, KT_F_SIGNED, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 4);
	}
	o = last_out(p);
	assert_string_equal(o->name, "prev->pid");
	assert_int_equal(o->fmt, KT_FMT_INT);
	assert_int_equal(o->len, 8);

	/* char comm[16]: a string of the array's size, no load */
	from = output(p, " next->comm ");
	{
		struct want w[] = {
			OP(ARG, 0, 0, next), OP(ADDI, 0, 0, comm),
			OP(EMIT_STR, 0, 0, 0),
		};
		assert_ops(p, from, w, 3);
	}
	o = last_out(p);
	assert_string_equal(o->name, "next->comm");	/* trimmed */
	assert_int_equal(o->fmt, KT_FMT_STR);
	assert_int_equal(o->len, 16);
	assert_int_equal(p->spec.ops[p->spec.nops - 1].off, o->off);
	assert_int_equal(o->off % 8, 0);
	assert_true(o->off >= 8);	/* after prev->pid's slot */

	/* two dereferences: each '->' on a pointer loads it (8 bytes) */
	from = output(p, "prev->real_parent->real_parent->tgid");
	{
		long tgid = off_of("task_struct", "tgid", NULL);
		struct want w[] = {
			OP(ARG, 0, 0, prev), OP(ADDI, 0, 0, parent),
			OP(LOAD, 8, 0, 0), OP(ADDI, 0, 0, parent),
			OP(LOAD, 8, 0, 0), OP(ADDI, 0, 0, tgid),
			OP(LOAD, 4, KT_F_SIGNED, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 8);
	}

	/* an array element: comm[3] is one char at comm + 3 */
	from = output(p, "prev->comm[3]");
	{
		struct want w[] = {
			OP(ARG, 0, 0, prev), OP(ADDI, 0, 0, comm + 3),
			OP(LOAD, 1, 0, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		/* char is signed in kernel BTF? follow BTF's encoding */
		__u32 ct;

		off_of("task_struct", "comm", &ct);
		strip(&ct);
		w[2].flags = 0;
		{
			const struct btf_type *at = btf__type_by_id(vmlinux,
								    ct);
			__u32 el = btf_array(at)->type;

			if (is_signed_int(el))
				w[2].flags = KT_F_SIGNED;
		}
		assert_ops(p, from, w, 4);
	}
	/* (*prev).pid is prev->pid */
	from = output(p, "(*prev).pid");
	{
		struct want w[] = {
			OP(ARG, 0, 0, prev), OP(ADDI, 0, 0, pid),
			OP(LOAD, 4, KT_F_SIGNED, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 4);
	}
	/* the data area grows by whole, aligned slices */
	assert_int_equal(p->spec.data_len, p->outs[p->nout - 1].off + 8);
	kt_probe__free(p);
}

/* A bitfield: 8-byte load at its byte, shift, mask; the test picks the
 * first named bitfield of task_struct from BTF. */
static void test_bitfield(void **state)
{
	int id;
	const struct btf_type *t;
	const char *name = NULL;
	__u32 bits = 0, bs = 0;
	struct kt_probe *p;
	__u32 from;
	int prev;

	NEED_BTF();
	id = btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT);
	t = btf__type_by_id(vmlinux, id);
	for (int i = 0; i < btf_vlen(t) && !name; i++) {
		const struct btf_member *m = btf_members(t) + i;
		const char *mn = btf__name_by_offset(vmlinux, m->name_off);

		if (mn && *mn && btf_member_bitfield_size(t, i)) {
			name = mn;
			bits = btf_member_bit_offset(t, i);
			bs = btf_member_bitfield_size(t, i);
		}
	}
	if (!name) {
		printf("SKIP: task_struct has no bitfield in this kernel\n");
		skip();
	}
	p = probe("tp_btf:sched_switch");
	prev = arg_index(p, "prev");
	{
		char e[128];
		struct want w[] = {
			OP(ARG, 0, 0, prev), OP(ADDI, 0, 0, bits / 8),
			OP(LOAD, 8, 0, 0), OP(SHRI, 0, 0, bits % 8),
			OP(ANDI, 0, 0, (1LL << bs) - 1), OP(EMIT_VAL, 0, 0, 0),
		};

		snprintf(e, sizeof(e), "prev->%s", name);
		from = output(p, e);
		assert_ops(p, from, w, 6);
	}
	kt_probe__free(p);
	/* '&' of a bitfield has no meaning */
	{
		char err[256] = "", e[128];

		p = probe("tp_btf:sched_switch");
		snprintf(e, sizeof(e), "&prev->%s", name);
		assert_int_equal(kt_expr__output(p, vmlinux, e, err,
						 sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "'&' wants an lvalue"));
		kt_probe__free(p);
	}
}

/* Nested anonymous members and the address helpers over struct sock. */
static void test_sock_helpers(void **state)
{
	struct kt_probe *p;
	long daddr, dport, v6;
	__u32 t, from;
	const struct kt_out *o;
	int sk;

	NEED_BTF();
	p = probe("tp_btf:inet_sock_set_state");
	sk = arg_index(p, "sk");
	daddr = off_of("sock", "__sk_common.skc_daddr", &t);
	assert_int_equal(size_of(t), 4);
	dport = off_of("sock", "__sk_common.skc_dport", &t);
	assert_int_equal(size_of(t), 2);
	v6 = off_of("sock", "__sk_common.skc_v6_daddr", &t);
	assert_int_equal(size_of(t), 16);

	from = output(p, "ip4(&sk->__sk_common.skc_daddr)");
	{
		struct want w[] = {
			OP(ARG, 0, 0, sk), OP(ADDI, 0, 0, daddr),
			OP(EMIT_BYTES, 0, 0, 0),
		};
		assert_ops(p, from, w, 3);
	}
	o = last_out(p);
	assert_int_equal(o->fmt, KT_FMT_IP4);
	assert_int_equal(o->len, 4);
	assert_int_equal(p->spec.ops[p->spec.nops - 1].len, 4);

	from = output(p, "ip6(&sk->__sk_common.skc_v6_daddr)");
	assert_int_equal(p->spec.ops[from + 1].imm, v6);
	assert_int_equal(last_out(p)->fmt, KT_FMT_IP6);
	assert_int_equal(last_out(p)->len, 16);

	from = output(p, "ntohs(sk->__sk_common.skc_dport)");
	{
		struct want w[] = {
			OP(ARG, 0, 0, sk), OP(ADDI, 0, 0, dport),
			OP(LOAD, 2, 0, 0), OP(BSWAP, 2, 0, 0),
			OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 5);
	}
	assert_int_equal(last_out(p)->fmt, KT_FMT_UINT);

	/* an element of an array inside a union inside a struct */
	from = output(p, "sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[3]");
	{
		struct want w[] = {
			OP(ARG, 0, 0, sk), OP(ADDI, 0, 0, v6 + 12),
			OP(LOAD, 4, 0, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 4);
	}
	/* an enum argument prints by name */
	if (p->nargs > 1) {
		output(p, "oldstate");
		assert_true(last_out(p)->fmt == KT_FMT_INT ||
			    last_out(p)->fmt == KT_FMT_ENUM);
	}
	kt_probe__free(p);
}

/* errno(): the value, signed, formatted by name; filters; comparisons. */
static void test_errno_and_filter(void **state)
{
	struct kt_probe *p;
	char err[512] = "";
	__u32 from;
	int ret, regs;
	long di;

	NEED_BTF();
	p = probe("tp_btf:sys_exit");
	ret = arg_index(p, "ret");
	regs = arg_index(p, "regs");
	di = off_of("pt_regs", "di", NULL);
	from = output(p, "errno(ret)");
	{
		struct want w[] = {
			OP(ARG, 0, 0, ret), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 2);
	}
	assert_int_equal(last_out(p)->fmt, KT_FMT_ERRNO);

	from = p->spec.nops;
	assert_int_equal(kt_expr__filter(p, vmlinux,
					 "ret < -1 && regs->di != 0x10",
					 err, sizeof(err)), 0);
	{
		struct want w[] = {
			OP(ARG, 0, 0, ret), OP(IMM, 0, 0, -1),
			OP(LT, 0, KT_F_SIGNED, 0),
			OP(ARG, 0, 0, regs), OP(ADDI, 0, 0, di),
			OP(LOAD, 8, 0, 0), OP(IMM, 0, 0, 16),
			OP(NE, 0, 0, 0), OP(LAND, 0, 0, 0),
			OP(FILTER, 0, 0, 0),
		};
		assert_ops(p, from, w, 10);
	}
	assert_true(p->has_filter);

	/* string constants: STREQ against the probe's constant pool */
	from = p->spec.nops;
	assert_int_equal(kt_expr__filter(p, vmlinux, "1", err, sizeof(err)),
			 0);
	kt_probe__free(p);

	p = probe("tp_btf:sched_switch");
	from = p->spec.nops;
	assert_int_equal(kt_expr__filter(p, vmlinux, "next->comm != \"kwrite\"",
					 err, sizeof(err)), 0);
	{
		struct want w[] = {
			OP(ARG, 0, 0, arg_index(p, "next")),
			OP(ADDI, 0, 0, off_of("task_struct", "comm", NULL)),
			OP(STREQ, 0, 0, 0), OP(NOT, 0, 0, 0),
			OP(FILTER, 0, 0, 0),
		};
		assert_ops(p, from, w, 5);
	}
	{
		const struct kt_op *op = &p->spec.ops[from + 2];

		assert_int_equal(op->len, 7);
		assert_memory_equal(&p->spec.consts[op->off], "kwrite", 7);
	}
	kt_probe__free(p);
}

/* Tracepoint fields: offsets and sizes from the format file, as the test
 * reads it, and user memory for syscalls:* pointers. */
static void test_tracepoint_fields(void **state)
{
	const char *tfs = "/sys/kernel/tracing";
	char path[256], err[512] = "", *fmt, *s;
	long fd_off = -1, buf_off = -1, fd_size = 0;
	struct kt_probe *p;
	__u32 from;

	snprintf(path, sizeof(path),
		 "%s/events/syscalls/sys_enter_write/format", tfs);
	if (access(path, R_OK)) {
		printf("SKIP: %s missing (mount tracefs)\n", path);
		skip();
	}
	fmt = tu_run("cat %s", path);
	assert_non_null(fmt);
	for (s = strtok(fmt, "\n"); s; s = strtok(NULL, "\n")) {
		long o, z;

		if (strstr(s, " fd;") &&
		    sscanf(strstr(s, "offset:"), "offset:%ld;\tsize:%ld", &o,
			   &z) == 2) {
			fd_off = o;
			fd_size = z;
		}
		if (strstr(s, " buf;") &&
		    sscanf(strstr(s, "offset:"), "offset:%ld;", &o) == 1)
			buf_off = o;
	}
	free(fmt);
	assert_true(fd_off > 0 && buf_off > 0);

	assert_int_equal(kt_probe__parse("tracepoint:syscalls:sys_enter_write",
					 &p, err, sizeof(err)), 0);
	assert_int_equal(kt_tpfmt__load(p, tfs, err, sizeof(err)), 0);
	from = output(p, "fd");
	{
		struct want w[] = {
			OP(CTX, 0, 0, fd_off),
			OP(LOAD, fd_size, 0, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 3);
	}
	/* buf is a user pointer: reading through it is a user read */
	from = output(p, "*buf");
	{
		struct want w[] = {
			OP(CTX, 0, 0, buf_off), OP(LOAD, 8, 0, 0),
			OP(LOAD, 1, KT_F_USER, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 4);
	}
	from = output(p, "ustr(buf)");
	assert_int_equal(p->spec.ops[p->spec.nops - 1].code, KT_OP_EMIT_STR);
	assert_int_equal(p->spec.ops[p->spec.nops - 1].flags, KT_F_USER);
	assert_int_equal(kt_expr__output(p, vmlinux, "nope", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'nope' is not a field of "
				    "syscalls:sys_enter_write"));
	kt_probe__free(p);
}

/* Each bad expression fails with its own message, at the right column. */
/* Casts: (T *)x reads x as a pointer to T (offsets from BTF); (u32)x,
 * (s8)x keep the low bytes, sign-extended for a signed type. */
static void test_casts(void **state)
{
	struct kt_probe *p;
	__u32 from;
	int id, regs;

	NEED_BTF();
	p = probe("tp_btf:sys_enter");
	id = arg_index(p, "id");
	regs = arg_index(p, "regs");

	from = output(p, "((struct task_struct *)id)->pid");
	{
		struct want w[] = {
			OP(ARG, 0, 0, id),
			OP(ADDI, 0, 0, off_of("task_struct", "pid", NULL)),
			OP(LOAD, 4, KT_F_SIGNED, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 4);
	}
	assert_int_equal(last_out(p)->fmt, KT_FMT_INT);

	/* a struct sock behind a register: the brief's (struct sock *) */
	from = output(p, "((struct sock *)regs->di)->__sk_common.skc_dport");
	{
		__u32 t;
		long dport = off_of("sock", "__sk_common.skc_dport", &t);
		struct want w[] = {
			OP(ARG, 0, 0, regs),
			OP(ADDI, 0, 0, off_of("pt_regs", "di", NULL)),
			OP(LOAD, 8, 0, 0), OP(ADDI, 0, 0, dport),
			OP(LOAD, 2, 0, 0), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_int_equal(size_of(t), 2);
		assert_ops(p, from, w, 6);
	}
	assert_int_equal(last_out(p)->fmt, KT_FMT_UINT);

	from = output(p, "(u32)id");
	{
		struct want w[] = {
			OP(ARG, 0, 0, id), OP(ANDI, 0, 0, 0xffffffffLL),
			OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 3);
	}
	assert_int_equal(last_out(p)->fmt, KT_FMT_UINT);

	from = output(p, "(unsigned short)id");
	{
		struct want w[] = {
			OP(ARG, 0, 0, id), OP(ANDI, 0, 0, 0xffff),
			OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 3);
	}

	/* signed: ((x + 0x80) & 0xff) - 0x80 */
	from = output(p, "(s8)id");
	{
		struct want w[] = {
			OP(ARG, 0, 0, id), OP(ADDI, 0, 0, 0x80),
			OP(ANDI, 0, 0, 0xff), OP(ADDI, 0, 0, -0x80),
			OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 5);
	}
	assert_int_equal(last_out(p)->fmt, KT_FMT_INT);
	/* what those ops compute, on the values that matter */
	{
		static const __s64 in[] = { 0, 1, 0x7f, 0x80, 0xff, 0x1ff,
					    0x17f, -1, -128, -129 };

		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			__s64 x = in[i];

			x = ((x + 0x80) & 0xff) - 0x80;
			assert_int_equal(x, (__s64)(int8_t)(uint8_t)in[i]);
		}
	}

	/* a BTF typedef (pid_t: int) */
	from = output(p, "(pid_t)id");
	{
		struct want w[] = {
			OP(ARG, 0, 0, id), OP(ADDI, 0, 0, 0x80000000LL),
			OP(ANDI, 0, 0, 0xffffffffLL),
			OP(ADDI, 0, 0, -0x80000000LL), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 5);
	}

	/* a constant folds: (u32)-1 is 4294967295, (s8)255 is -1 */
	from = output(p, "(u32)-1");
	{
		struct want w[] = {
			OP(IMM, 0, 0, 0xffffffffLL), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 2);
	}
	from = output(p, "(s8)255");
	{
		struct want w[] = {
			OP(IMM, 0, 0, -1), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 2);
	}
	/* (bool)x is x != 0, not x's low byte */
	from = output(p, "(bool)id");
	{
		struct want w[] = {
			OP(ARG, 0, 0, id), OP(NOT, 0, 0, 0), OP(NOT, 0, 0, 0),
			OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 4);
	}
	assert_int_equal(last_out(p)->fmt, KT_FMT_BOOL);
	/* parentheses around a name stay parentheses */
	from = output(p, "(id)");
	{
		struct want w[] = {
			OP(ARG, 0, 0, id), OP(EMIT_VAL, 0, 0, 0),
		};
		assert_ops(p, from, w, 2);
	}
	kt_probe__free(p);
}

/* String constants up to 255 bytes, and 1 KiB of them per probe. */
static void test_long_string_constants(void **state)
{
	char expr[400], s[256], err[512] = "";
	struct kt_probe *p;
	__u32 from;

	NEED_BTF();
	p = probe("tp_btf:sched_switch");
	for (size_t i = 0; i < 255; i++)
		s[i] = 'a' + i % 26;
	s[255] = 0;
	for (int k = 0; k < 4; k++) {
		const struct kt_op *op;

		s[0] = 'A' + k;
		snprintf(expr, sizeof(expr), "next->comm == \"%s\"", s);
		from = p->spec.nops;
		assert_int_equal(kt_expr__filter(p, vmlinux, expr, err,
						 sizeof(err)), 0);
		op = &p->spec.ops[from + 2];
		assert_int_equal(op->code, KT_OP_STREQ);
		assert_int_equal(op->len, 256);
		assert_true(op->off + op->len <= KT_CONST_MAX);
		assert_memory_equal(&p->spec.consts[op->off], s, 256);
		p->has_filter = false;	/* one filter each, for the test */
	}
	/* the fifth does not fit the probe's 1 KiB */
	snprintf(expr, sizeof(expr), "next->comm == \"%s\"", s);
	assert_int_equal(kt_expr__filter(p, vmlinux, expr, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "too many string constants"));
	kt_probe__free(p);
}

#define LONG16 "0123456789abcdef"
#define LONG256 LONG16 LONG16 LONG16 LONG16 LONG16 LONG16 LONG16 LONG16 \
	LONG16 LONG16 LONG16 LONG16 LONG16 LONG16 LONG16 LONG16

static void test_errors(void **state)
{
	static const struct {
		const char *probe, *expr, *msg;
		bool filter;
	} cases[] = {
		{ "tp_btf:sched_switch", "prev->nope",
		  "struct task_struct has no member 'nope' (at column 7)" },
		{ "tp_btf:sched_switch", "nope",
		  "unknown name 'nope' (arguments: preempt, prev, next" },
		{ "tp_btf:sched_switch", "prev_state->x",
		  "'->x' on a value that is not a pointer" },
		{ "tp_btf:sched_switch", "*prev_state", "not a pointer" },
		{ "tp_btf:sched_switch", "prev.pid",
		  "'.pid' on a value that is not a struct" },
		{ "tp_btf:sched_switch", "*prev",
		  "is a struct task_struct: pick a member" },
		{ "tp_btf:sched_switch", "prev->comm[16]",
		  "index 16 out of bounds [0, 16)" },
		{ "tp_btf:sched_switch", "prev->pid +", "unexpected end" },
		{ "tp_btf:sched_switch", "prev->pid $", "unexpected character '$'" },
		{ "tp_btf:sched_switch", "prev->pid prev", "unexpected 'prev'" },
		{ "tp_btf:sched_switch", "(prev->pid", "expected ')'" },
		{ "tp_btf:sched_switch", "12ab", "bad number" },
		{ "tp_btf:sched_switch", "prev->comm == \"abc",
		  "unterminated string", true },
		{ "tp_btf:sched_switch",
		  "prev->comm == \"" LONG256 "\"",
		  "string constant longer than 255 bytes", true },
		{ "tp_btf:sys_enter", "(struct nope *)id",
		  "no struct nope in kernel BTF" },
		{ "tp_btf:sys_enter", "(struct task_struct)id",
		  "cast to struct task_struct: only to a pointer or an "
		  "integer" },
		{ "tp_btf:sys_enter", "(u32)regs->ss.x", "'x': not a struct or union" },
		{ "tp_btf:sys_enter", "(u32)\"x\"",
		  "cannot cast a string constant" },
		{ "tp_btf:sys_enter", "(u32 id", "expected ')'" },
		{ "tp_btf:sched_switch", "prev->pid == \"x\"",
		  "only strings compare with a string constant", true },
		{ "tp_btf:sched_switch", "\"x\"",
		  "a string constant is not an output" },
		{ "tp_btf:sched_switch", "prev->comm", "wants numbers or "
		  "pointers, not an array", true },
		{ "tp_btf:sched_switch", "frob(prev)", "unknown function 'frob'" },
		{ "tp_btf:sched_switch", "errno(prev->comm)",
		  "errno() wants an integer" },
		{ "tp_btf:sched_switch", "ip4(prev_state)",
		  "ip4() wants an address or an lvalue" },
		{ "tp_btf:sched_switch", "prev->pid & prev->tgid",
		  "expected a number" },
		{ "tp_btf:sched_switch", "prev->", "expected a member name" },
		{ "tp_btf:sys_enter", "id[1]", "cannot index" },
		{ "tp_btf:sys_enter", "regs[1]", "is a struct pt_regs: pick" },
		{ "tp_btf:sys_enter", "", "unexpected end" },
	};
	char err[512];

	NEED_BTF();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kt_probe *p = probe(cases[i].probe);
		struct kt_spec before = p->spec;
		int r;

		err[0] = '\0';
		r = cases[i].filter ?
			kt_expr__filter(p, vmlinux, cases[i].expr, err,
					sizeof(err)) :
			kt_expr__output(p, vmlinux, cases[i].expr, err,
					sizeof(err));
		if (r != -EINVAL || !strstr(err, cases[i].msg))
			fail_msg("'%s': got %d '%s', want '%s'", cases[i].expr,
				 r, err, cases[i].msg);
		/* one line, naming the expression */
		assert_null(strchr(err, '\n'));
		assert_true(!strncmp(err, "expression '", 12));
		if (cases[i].filter)	/* a failed filter leaves no ops */
			assert_memory_equal(&before, &p->spec, sizeof(before));
		kt_probe__free(p);
	}
}

/* Limits: nesting, the value stack, the op list, the length of input. */
static void test_limits(void **state)
{
	char err[512], *e;
	struct kt_probe *p;
	size_t n;
	int r;

	NEED_BTF();
	/* deeper than the BPF program's value stack (KT_STACK) */
	p = probe("tp_btf:sys_enter");
	r = kt_expr__output(p, vmlinux,
			    "id+(id+(id+(id+(id+(id+(id+(id+(id+id))))))))",
			    err, sizeof(err));
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "too deeply nested"));
	kt_probe__free(p);
	/* but KT_STACK values are fine */
	p = probe("tp_btf:sys_enter");
	assert_int_equal(kt_expr__output(p, vmlinux,
					 "id+(id+(id+(id+(id+(id+(id+id))))))",
					 err, sizeof(err)), 0);
	kt_probe__free(p);

	/* parentheses nested 100000 deep: an error, not a stack overflow */
	n = 100000;
	e = malloc(2 * n + 3);
	assert_non_null(e);
	memset(e, '(', n);
	e[n] = '1';
	memset(e + n + 1, ')', n);
	e[2 * n + 1] = '\0';
	p = probe("tp_btf:sys_enter");
	assert_int_equal(kt_expr__output(p, vmlinux, e, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "longer than"));
	/* and nested within the length limit */
	memset(e, 0, 2 * n + 3);
	memset(e, '!', 200);
	strcat(e, "id");
	kt_probe__free(p);
	p = probe("tp_btf:sys_enter");
	assert_int_equal(kt_expr__output(p, vmlinux, e, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "too deeply nested"));
	kt_probe__free(p);
	free(e);

	/* more ops than a probe holds: the op list is full */
	p = probe("tp_btf:sys_enter");
	r = 0;
	for (int i = 0; i < KT_MAX_OPS && !r; i++) {
		char e[32];

		snprintf(e, sizeof(e), "regs->di + %d", i);
		r = kt_expr__output(p, vmlinux, e, err, sizeof(err));
	}
	assert_int_equal(r, -EINVAL);
	assert_true(strstr(err, "too many operations") ||
		    strstr(err, "too many outputs"));
	assert_true(p->spec.nops <= KT_MAX_OPS);
	kt_probe__free(p);

	/* one output per name: the name is the JSON key */
	p = probe("tp_btf:sys_enter");
	assert_int_equal(kt_expr__output(p, vmlinux, "id", err, sizeof(err)),
			 0);
	assert_int_equal(kt_expr__output(p, vmlinux, " id ", err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "already an output of this probe"));
	assert_int_equal(p->nout, 1);
	kt_probe__free(p);

	/* a name longer than any C identifier the kernel uses */
	p = probe("tp_btf:sys_enter");
	{
		char name[200];

		memset(name, 'a', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		assert_int_equal(kt_expr__output(p, vmlinux, name, err,
						 sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "name too long"));
	}
	kt_probe__free(p);
	/* numbers: overflow, the most negative, huge indexes */
	p = probe("tp_btf:sched_switch");
	assert_int_equal(kt_expr__output(p, vmlinux, "99999999999999999999",
					 err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad number"));
	assert_int_equal(kt_expr__output(p, vmlinux, "-9223372036854775808",
					 err, sizeof(err)), 0);
	assert_int_equal(p->spec.ops[p->spec.nops - 2].imm, INT64_MIN);
	assert_int_equal(kt_expr__output(p, vmlinux,
					 "prev->real_parent[9223372036854775807]",
					 err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "out of range"));
	kt_probe__free(p);
}

/* No input crashes the compiler: random bytes and random token soups,
 * through both entry points (ASan/UBSan watch in tests-san). */
static void test_no_crash(void **state)
{
	static const char *const toks[] = {
		"prev", "next", "->", ".", "pid", "comm", "[", "]", "0", "1",
		"(", ")", "*", "&", "!", "-", "+", "==", "!=", "<", "<=", "&&",
		"||", "\"s\"", "ip4", "ntohs", "errno", "str", "ustr", "ip6",
		"real_parent", "__sk_common", "x", "0xffffffffffffffff",
		"se", "sched_reset_on_fork", "\"", "9999999999", ",",
		/* casts */
		"struct", "task_struct", "sock", "union", "enum", "u32", "s8",
		"unsigned", "long", "char", "int", "pid_t", "const",
	};
	unsigned int seed = 12345;
	char err[512], e[160];

	NEED_BTF();
	for (int iter = 0; iter < 6000; iter++) {
		struct kt_probe *p = probe(iter & 1 ? "tp_btf:sched_switch"
						    : "tp_btf:sys_enter");
		size_t n = 0;

		if (iter % 3 == 0) {
			size_t len = rand_r(&seed) % (sizeof(e) - 1);

			for (size_t i = 0; i < len; i++)
				e[i] = 1 + rand_r(&seed) % 255;
			e[len] = '\0';
		} else {
			int k = 1 + rand_r(&seed) % 12;

			e[0] = '\0';
			for (int i = 0; i < k; i++) {
				const char *t = toks[rand_r(&seed) %
					(sizeof(toks) / sizeof(toks[0]))];

				n = strlen(e);
				if (n + strlen(t) + 2 >= sizeof(e))
					break;
				snprintf(e + n, sizeof(e) - n, "%s%s", t,
					 rand_r(&seed) % 2 ? " " : "");
			}
		}
		for (int k = 0; k < 3; k++) {
			int r = iter % 2 ?
				kt_expr__filter(p, vmlinux, e, err,
						sizeof(err)) :
				kt_expr__output(p, vmlinux, e, err,
						sizeof(err));

			assert_true(r == 0 || r == -EINVAL);
			assert_true(p->spec.nops <= KT_MAX_OPS);
			assert_true(p->spec.data_len <= KT_DATA_MAX);
		}
		/* what compiled, the optimizer must keep meaning the same */
		if (p->spec.nops)
			assert_same_behaviour(p, e);
		kt_probe__free(p);
	}
}

static void test_optimizer(void **state)
{
	static const char *const outs[] = {
		"prev->pid", "next->comm", "prev->real_parent->tgid",
		"ntohs(prev->pid)", "prev->pid + 3", "prev->pid - next->pid",
		"prev_state & 255", "!preempt", "-prev->pid", "errno(prev->pid)",
		"prev->comm[3]", "prev->pid == 1 || next->pid > 7",
	};
	static const char *const filters[] = {
		"prev->pid == 1", "prev->pid > 1 && next->pid < 2",
		"preempt && prev->pid != 3 && (next->pid == 2 || prev_state)",
		"prev->comm == \"swapper/0\" && next->pid", "!(prev->pid == 0)",
		"prev->pid && (next->pid && prev_state)",
		"(prev->pid && next->pid) && prev_state",
	};
	char err[512];
	struct kt_probe *p;

	NEED_BTF();
	/* the bench's shapes: 3 outputs are 3 ops, a rejecting && chain
	 * stops after its first operand */
	p = probe("tp_btf:sys_enter");
	output(p, "id");
	output(p, "regs->di");
	output(p, "regs->dx");
	assert_int_equal(p->spec.nops, 10);
	assert_same_behaviour(p, "out3");
	assert_int_equal(kt_spec__optimize(&p->spec), 0);
	assert_int_equal(p->spec.nops, 3);
	assert_int_equal(p->spec.ops[0].code, KT_OP_ARG);
	assert_int_equal(p->spec.ops[0].flags, KT_F_EMIT);
	assert_int_equal(p->spec.ops[1].code, KT_OP_ARG_LOAD);
	assert_int_equal(p->spec.ops[1].imm, off_of("pt_regs", "di", NULL));
	assert_int_equal(p->spec.ops[1].len, arg_index(p, "regs"));
	assert_int_equal(p->spec.ops[1].off, p->outs[1].off);
	kt_probe__free(p);

	p = probe("tp_btf:sys_enter");
	assert_int_equal(kt_expr__filter(p, vmlinux, "id == 99999 && "
					 "regs->di == 3 && regs->dx == 1", err,
					 sizeof(err)), 0);
	assert_same_behaviour(p, "filter3");
	assert_int_equal(kt_spec__optimize(&p->spec), 0);
	{
		struct want w[] = {
			OP(ARG, 0, 0, arg_index(p, "id")),
			OP(EQ, 0, KT_F_IMM, 99999), OP(FILTER, 0, 0, 0),
			OP(ARG_LOAD, 8, 0, off_of("pt_regs", "di", NULL)),
			OP(EQ, 0, KT_F_IMM, 3), OP(FILTER, 0, 0, 0),
			OP(ARG_LOAD, 8, 0, off_of("pt_regs", "dx", NULL)),
			OP(EQ, 0, KT_F_IMM, 1), OP(FILTER, 0, 0, 0),
		};
		assert_ops(p, 0, w, 9);
	}
	kt_probe__free(p);

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		p = probe("tp_btf:sched_switch");
		if (kt_expr__output(p, vmlinux, outs[i], err, sizeof(err)))
			fail_msg("%s", err);
		assert_same_behaviour(p, outs[i]);
		kt_probe__free(p);
	}
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		p = probe("tp_btf:sched_switch");
		if (kt_expr__filter(p, vmlinux, filters[i], err, sizeof(err)) ||
		    kt_expr__output(p, vmlinux, "prev->pid", err, sizeof(err)) ||
		    kt_expr__output(p, vmlinux, "next->comm", err, sizeof(err)))
			fail_msg("%s", err);
		assert_same_behaviour(p, filters[i]);
		kt_probe__free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_switch_members),
		cmocka_unit_test(test_bitfield),
		cmocka_unit_test(test_sock_helpers),
		cmocka_unit_test(test_errno_and_filter),
		cmocka_unit_test(test_tracepoint_fields),
		cmocka_unit_test(test_casts),
		cmocka_unit_test(test_long_string_constants),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_crash),
		cmocka_unit_test(test_optimizer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
