// SPDX-License-Identifier: MIT
/*
 * What the sched program needs from a binary (sched_probe.h). The
 * syscall hooks for go1.26+ (see the end of
 * src/bpf/sched.bpf.c): runtime.reentersyscall and runtime.exitsyscall
 * CAS g.atomicstatus running <-> syscall directly and call casgstatus only
 * when the CAS fails (go/src/runtime/proc.go at go1.26, CL 708596).
 * Both are nosplit and take no argument the program needs (g is R14), so
 * any emulated instruction on the straight-line path will do.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "gobin.h"
#include "rt_tables.h"
#include "bpf/sched.skel.h"
#include "sched_probe.h"

/* The first release whose enter/exitsyscall bypass casgstatus. */
#define SYSCALL_HOOKS_MINOR 26

int sched_probe__check_binary(const char *display, const struct gobin *gb,
			      const struct gobin_func **casg)
{
	const struct gobin_layout *l = gobin__layout(gb);
	const struct gobin_abi_info *a = gobin__abi(gb);
	const char *ver = gobin__go_version(gb);

	if (l->source == GOBIN_LAYOUT_NONE || l->g_goid < 0 ||
	    l->g_waitreason < 0 || l->g_startpc < 0 || l->g_gopc < 0) {
		p_err("%s: %s has no known runtime.g layout and no DWARF: add a row for it to src/gobin/rt_tables.c (see docs/runtime-layout.md; this gosnoop knows go1.%d..go1.%d)",
		      display, ver ? ver : "this Go release",
		      rt_min_minor(), rt_max_minor());
		return -EPROTONOSUPPORT;
	}
	if (a->abi != GOBIN_ABI0 && a->abi != GOBIN_ABI_INTERNAL) {
		p_err("%s: unknown calling convention (Go release %s)",
		      display, ver ? ver : "unknown");
		return -EPROTONOSUPPORT;
	}
	*casg = gobin__func_by_name(gb, "runtime.casgstatus");
	if (!*casg) {
		p_err("%s: no runtime.casgstatus in the pclntab", display);
		return -ENOENT;
	}
	return 0;
}

static int site(const struct gobin *gb, const char *name,
		unsigned long long *off)
{
	const struct gobin_func *f = gobin__func_by_name(gb, name);
	struct gobin_probe_point pp = {};
	uint64_t o;

	if (!f)
		return -ENOENT;
	if (gobin__probe_point(gb, f, 0, 0, &pp))
		pp.addr = f->entry;
	/*
	 * Both functions are nosplit in go1.26: no stack check, so no site
	 * whose hit may be followed by a re-run of the entry (morestack). The
	 * hook programs do not handle that case (no skip_flags): should a
	 * release give them a stack check, do not hook them at all.
	 */
	if (pp.skip_flags)
		return -EPROTO;
	if (gobin__vaddr_to_offset(gb, pp.addr, &o))
		return -ENOENT;
	*off = o;
	return 0;
}

bool sched_probe__plan_hooks(const struct gobin *gb, struct sched_bpf *skel,
			     struct sched_hooks *h, const char *display)
{
	int err;

	*h = (struct sched_hooks){};
	if (gobin__go_minor(gb) < SYSCALL_HOOKS_MINOR ||
	    gobin__abi(gb)->abi != GOBIN_ABI_INTERNAL)
		return false;
	err = site(gb, "runtime.reentersyscall", &h->enter_off);
	if (!err)
		err = site(gb, "runtime.exitsyscall", &h->exit_off);
	if (err) {
		p_warn("%s: cannot probe runtime.reentersyscall/exitsyscall (%s): time in syscalls shows as running",
		       display, err == -EPROTO ? "they have a stack check"
					       : "not found");
		return false;
	}
	skel->rodata->syscall_hooks = true;
	return true;
}

int sched_probe__attach_hooks(struct sched_hooks *h, struct sched_bpf *skel,
			const char *path, pid_t pid)
{
	h->enter = bpf_program__attach_uprobe(skel->progs.sched_entersyscall,
					      false, pid, path, h->enter_off);
	if (!h->enter)
		return -errno;
	h->exit = bpf_program__attach_uprobe(skel->progs.sched_exitsyscall,
					     false, pid, path, h->exit_off);
	if (!h->exit) {
		int err = -errno;

		sched_probe__detach_hooks(h);
		return err;
	}
	return 0;
}

void sched_probe__detach_hooks(struct sched_hooks *h)
{
	bpf_link__destroy(h->enter);
	bpf_link__destroy(h->exit);
	h->enter = h->exit = NULL;
}
