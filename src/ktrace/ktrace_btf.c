// SPDX-License-Identifier: MIT
/*
 * vmlinux BTF for ktrace: typed arguments of tp_btf events and kernel
 * functions, the offset of task_struct.thread.fsbase, enum names.
 *
 * tp_btf:NAME: the kernel declares `typedef void (*btf_trace_NAME)(void
 * *__data, ARGS...)`; its FUNC_PROTO gives the types but no names (pahole
 * does not name the parameters of function pointer types). The names come
 * from the static function __bpf_trace_CLASS(void *__data, ARGS...) that
 * the tracepoint's event class defines: __bpf_trace_NAME when the event
 * is its own class, else the one class function whose parameter types are
 * the same. Kernels whose BTF has no __bpf_trace_* functions (5.10) have
 * __traceiter_NAME(void *__data, ARGS...), one per event, named alike.
 * Without a match the arguments are arg0, arg1, ...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ktrace_probe.h"

static struct btf *vmlinux_btf;
static const char *vmlinux_err;
static bool vmlinux_tried;

const struct btf *kt_btf(const char **err)
{
	static char msg[256];
	const char *path = getenv("GOSNOOP_VMLINUX_BTF");
	long ret;

	if (!vmlinux_tried) {
		vmlinux_tried = true;
		if (path)
			vmlinux_btf = btf__parse(path, NULL);
		else
			vmlinux_btf = btf__load_vmlinux_btf();
		ret = libbpf_get_error(vmlinux_btf);
		if (ret) {
			vmlinux_btf = NULL;
			snprintf(msg, sizeof(msg),
				 "no kernel BTF (%s: %s; the kernel needs "
				 "CONFIG_DEBUG_INFO_BTF=y)",
				 path ? path : "/sys/kernel/btf/vmlinux",
				 strerror((int)-ret));
			vmlinux_err = msg;
		}
	}
	if (err)
		*err = vmlinux_err;
	return vmlinux_btf;
}

static const struct btf_type *skip_mods(const struct btf *btf, __u32 id,
					__u32 *res_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (res_id)
		*res_id = id;
	return t;
}

/* The FUNC_PROTO behind a btf_trace_NAME typedef, or NULL. */
static const struct btf_type *trace_proto(const struct btf *btf,
					  const char *event)
{
	char name[256];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", event);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;	/* PTR */
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

static bool same_params(const struct btf_type *a, const struct btf_type *b)
{
	const struct btf_param *pa = btf_params(a), *pb = btf_params(b);

	if (btf_vlen(a) != btf_vlen(b))
		return false;
	for (int i = 0; i < btf_vlen(a); i++)
		if (pa[i].type != pb[i].type)
			return false;
	return true;
}

/* Parameter names for the tp_btf event's proto (see the file comment). */
static const struct btf_type *class_proto(const struct btf *btf,
					  const char *event,
					  const struct btf_type *proto)
{
	char name[256];
	const struct btf_type *t, *found = NULL;
	__u32 n = btf__type_cnt(btf);
	int id;

	static const char *const fmt[] = { "__bpf_trace_%s",
					   "__traceiter_%s" };

	for (size_t k = 0; k < sizeof(fmt) / sizeof(fmt[0]); k++) {
		snprintf(name, sizeof(name), fmt[k], event);
		id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
		if (id <= 0)
			continue;
		t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
		if (t && btf_is_func_proto(t) && same_params(t, proto))
			return t;
	}
	for (__u32 i = 1; i < n; i++) {
		const char *fn;

		t = btf__type_by_id(btf, i);
		if (!btf_is_func(t))
			continue;
		fn = btf__name_by_offset(btf, t->name_off);
		if (!fn || strncmp(fn, "__bpf_trace_", 12))
			continue;
		t = btf__type_by_id(btf, t->type);
		if (!t || !btf_is_func_proto(t) || !same_params(t, proto))
			continue;
		if (found)
			return NULL;	/* ambiguous: names could be wrong */
		found = t;
	}
	return found;
}

int kt_btf__probe_args(struct kt_probe *p, const struct btf *btf, char *err,
		       size_t errlen)
{
	const struct btf_type *proto, *named = NULL;
	const struct btf_param *params, *nparams = NULL;
	int first = 0, n;

	if (p->kind == KT_KIND_TP_BTF) {
		proto = trace_proto(btf, p->name);
		if (!proto) {
			snprintf(err, errlen, "probe '%s': no tp_btf event '%s' "
				 "in kernel BTF (try: gosnoop list --kernel "
				 "'tp_btf:*%s*')", p->text, p->name, p->name);
			return -ENOENT;
		}
		named = class_proto(btf, p->name, proto);
		first = 1;	/* void *__data */
	} else {
		int id = btf__find_by_name_kind(btf, p->name, BTF_KIND_FUNC);

		if (id < 0) {
			snprintf(err, errlen, "probe '%s': no kernel function "
				 "'%s' in BTF", p->text, p->name);
			return -ENOENT;
		}
		proto = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
		named = proto;
		p->ret_type = proto->type;
		p->has_ret = p->kind == KT_KIND_FEXIT;
	}
	params = btf_params(proto);
	if (named)
		nparams = btf_params(named);
	n = btf_vlen(proto) - first;
	if (n + (p->has_ret ? 1 : 0) > KT_MAX_ARGS) {
		snprintf(err, errlen, "probe '%s': %d arguments, at most %d",
			 p->text, n, KT_MAX_ARGS - 1);
		return -E2BIG;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = nparams ?
			btf__name_by_offset(btf, nparams[i + first].name_off) :
			NULL;
		char buf[16];

		if (!nm || !*nm) {
			snprintf(buf, sizeof(buf), "arg%d", i);
			nm = buf;
		}
		p->arg_names[i] = strdup(nm);
		p->arg_types[i] = params[i + first].type;
		if (!p->arg_names[i])
			return -ENOMEM;
	}
	p->nargs = n;
	return 0;
}

/* kt_btf__find_member, nested: anonymous members up to depth 8. */
static int find_member(const struct btf *btf, __u32 id, const char *name,
		       __u32 *bit_off, __u32 *bit_size, int depth)
{
	const struct btf_type *t = skip_mods(btf, id, NULL);
	const struct btf_member *m;

	if (!t || !btf_is_composite(t) || depth > 8)
		return -ENOENT;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		__u32 off = btf_member_bit_offset(t, i);
		int r;

		if (mn && *mn) {
			if (strcmp(mn, name))
				continue;
			*bit_off = off;
			if (bit_size)
				*bit_size = btf_member_bitfield_size(t, i);
			return (int)m->type;
		}
		r = find_member(btf, m->type, name, bit_off, bit_size,
				depth + 1);
		if (r >= 0) {
			*bit_off += off;
			return r;
		}
	}
	return -ENOENT;
}

int kt_btf__find_member(const struct btf *btf, __u32 id, const char *name,
			__u32 *bit_off, __u32 *bit_size)
{
	return find_member(btf, id, name, bit_off, bit_size, 0);
}

/*
 * May a tp_btf/fentry program load an argument of this type from its ctx
 * directly? The verifier types such a load from BTF (btf_ctx_access) and
 * refuses some ("func 'sched_kthread_work_execute_end' arg1 type
 * FUNC_PROTO is not a struct": a function pointer); scalars and pointers
 * to a struct or union it takes, anything else is read with a helper.
 */
static bool ctx_load_direct(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = skip_mods(btf, id, NULL);

	if (!t)
		return false;
	if (btf_is_int(t) || btf_is_enum(t) || btf_is_enum64(t))
		return true;
	if (!btf_is_ptr(t))
		return false;
	t = skip_mods(btf, t->type, NULL);
	return t && (btf_is_struct(t) || btf_is_union(t));
}

__u32 kt_btf__ctx_read_mask(const struct kt_probe *p, const struct btf *btf)
{
	__u32 mask = 0;

	for (int i = 0; i < p->nargs && i < KT_MAX_ARGS; i++)
		if (!ctx_load_direct(btf, p->arg_types[i]))
			mask |= 1u << i;
	if (p->has_ret && p->nargs < KT_MAX_ARGS &&
	    !ctx_load_direct(btf, p->ret_type))
		mask |= 1u << p->nargs;
	return mask;
}

int kt_btf__fsbase_offset(const struct btf *btf, __u64 *off)
{
	int task = btf__find_by_name_kind(btf, "task_struct",
					  BTF_KIND_STRUCT);
	__u32 b1, b2;
	int thread;

	if (task < 0)
		return -ENOENT;
	thread = kt_btf__find_member(btf, task, "thread", &b1, NULL);
	if (thread < 0 ||
	    kt_btf__find_member(btf, thread, "fsbase", &b2, NULL) < 0)
		return -ENOENT;
	*off = (b1 + b2) / 8;
	return 0;
}

int kt_btf__mm_offsets(const struct btf *btf, __u32 *task_mm,
		       __u32 *mm_start_code)
{
	int task = btf__find_by_name_kind(btf, "task_struct",
					  BTF_KIND_STRUCT);
	int mm = btf__find_by_name_kind(btf, "mm_struct", BTF_KIND_STRUCT);
	__u32 b1, b2;

	if (task < 0 || mm < 0 ||
	    kt_btf__find_member(btf, task, "mm", &b1, NULL) < 0 ||
	    kt_btf__find_member(btf, mm, "start_code", &b2, NULL) < 0)
		return -ENOENT;
	*task_mm = b1 / 8;
	*mm_start_code = b2 / 8;
	return 0;
}

const char *kt_btf__enum_name(const struct btf *btf, __u32 id, int64_t v)
{
	const struct btf_type *t = btf ? skip_mods(btf, id, NULL) : NULL;

	if (!t)
		return NULL;
	if (btf_is_enum(t)) {
		const struct btf_enum *e = btf_enum(t);

		for (int i = 0; i < btf_vlen(t); i++)
			if ((int64_t)e[i].val == v ||
			    (uint32_t)e[i].val == (uint64_t)v)
				return btf__name_by_offset(btf, e[i].name_off);
	} else if (btf_is_enum64(t)) {
		const struct btf_enum64 *e = btf_enum64(t);

		for (int i = 0; i < btf_vlen(t); i++)
			if ((int64_t)btf_enum64_value(&e[i]) == v)
				return btf__name_by_offset(btf, e[i].name_off);
	}
	return NULL;
}

void kt_btf__type_str(const struct btf *btf, __u32 id, char *buf,
		      size_t len)
{
	const struct btf_type *t;
	int ptrs = 0;
	const char *kw = "", *nm;

	for (;;) {
		t = btf__type_by_id(btf, id);
		if (!t || id == 0) {
			snprintf(buf, len, "void%s%.*s", ptrs ? " " : "",
				 ptrs, "********");
			return;
		}
		if (btf_is_ptr(t)) {
			ptrs++;
			id = t->type;
			continue;
		}
		if (btf_is_mod(t)) {
			id = t->type;
			continue;
		}
		break;
	}
	if (btf_is_struct(t))
		kw = "struct ";
	else if (btf_is_union(t))
		kw = "union ";
	else if (btf_is_enum(t) || btf_is_enum64(t))
		kw = "enum ";
	nm = btf__name_by_offset(btf, t->name_off);
	if (btf_is_func_proto(t))
		nm = "func";
	snprintf(buf, len, "%s%s%s%.*s", kw, nm && *nm ? nm : "(anon)",
		 ptrs ? " " : "", ptrs > 8 ? 8 : ptrs, "********");
}
