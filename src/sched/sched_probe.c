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
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "gobin/rt_tables.h"
#include "bpf/sched.skel.h"
#include "bpf/sched.h"
#include "sched_probe.h"
#include "target.h"

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

int sched_probe__open(struct sched_probe *sp, const char *display,
		      const struct gobin *gb, bool at_entry)
{
	const struct gobin_layout *l = gobin__layout(gb);
	bool abi0 = gobin__abi(gb)->abi == GOBIN_ABI0;
	struct gobin_probe_point *pp = &sp->pp;
	int err;

	memset(sp, 0, sizeof(*sp));
	err = sched_probe__check_binary(display, gb, &sp->casg);
	if (err)
		return err;
	/* the arguments gp, old, new: RAX RBX RCX, or 16 bytes of ABI0
	 * frame (pclntab's size when it has one) */
	err = gobin__probe_point(gb, sp->casg, abi0 ? 0 : 3,
				 abi0 ? (sp->casg->args > 0 ? sp->casg->args : 16) : 0,
				 pp);
	if (err) {
		p_err("%s: cannot disassemble runtime.casgstatus: %s", display,
		      strerror(-err));
		return err;
	}
	if (at_entry) {
		pp->addr = sp->casg->entry;
		pp->sp_delta = 0;
		pp->skip_flags = 0;
		pp->emulated = false;
		pp->why = "entry, as asked";
	} else if (!pp->emulated) {
		p_warn("%s: probing runtime.casgstatus at its entry (%s): each hit is single-stepped, the program slows down more",
		       display, pp->why);
	}
	p_info("probe at 0x%" PRIx64 " (runtime.casgstatus+%#" PRIx64 ", %s), sp_delta %" PRId64 ", skip_flags %#x",
	       pp->addr, pp->addr - sp->casg->entry, pp->why, pp->sp_delta,
	       pp->skip_flags);
	err = gobin__vaddr_to_offset(gb, pp->addr, &sp->off);
	if (err) {
		p_err("%s: runtime.casgstatus is not in a file-backed segment",
		      display);
		return err;
	}
	snprintf(sp->name, sizeof(sp->name), "runtime.casgstatus+%#" PRIx64,
		 pp->addr - sp->casg->entry);
	sp->skel = sched_bpf__open();
	if (!sp->skel) {
		err = -errno;
		p_err("cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	sp->skel->rodata->abi = abi0 ? SCHED_ABI_STACK : SCHED_ABI_REGS;
	sp->skel->rodata->sp_delta = pp->sp_delta;
	sp->skel->rodata->skip_flags = pp->skip_flags;
	sp->skel->rodata->off_goid = l->g_goid;
	sp->skel->rodata->off_waitreason = l->g_waitreason;
	sp->skel->rodata->off_startpc = l->g_startpc;
	sp->skel->rodata->off_gopc = l->g_gopc;
	sp->hooked = sched_probe__plan_hooks(gb, sp->skel, &sp->hooks, display);
	return 0;
}

int sched_probe__load(struct sched_probe *sp)
{
	int err = sched_bpf__load(sp->skel);

	if (err)
		p_load_error("the BPF program", err);
	return err;
}

int sched_probe__attach(struct sched_probe *sp, const char *path, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uopts);

	sp->link = bpf_program__attach_uprobe_opts(sp->skel->progs.sched_casgstatus,
						   pid, path, sp->off, &uopts);
	if (!sp->link)
		return -errno;
	if (sp->hooked)
		return sched_probe__attach_hooks(&sp->hooks, sp->skel, path, pid);
	return 0;
}

void sched_probe__destroy(struct sched_probe *sp)
{
	bpf_link__destroy(sp->link);
	sp->link = NULL;
	sched_probe__detach_hooks(&sp->hooks);
	sched_bpf__destroy(sp->skel);
	sp->skel = NULL;
}

void sched_probe__set_target(struct sched_probe *sp, pid_t pid, bool events)
{
	sp->skel->rodata->target_tgid = pid > 0 ? (__u32)pid : 0;
	sp->skel->rodata->events_enabled = events;
}

int sched_probe__attach_target(struct sched_probe *sp, const char *display,
			       const char *path, pid_t pid)
{
	int err = sched_probe__attach(sp, path, pid > 0 ? pid : -1);

	if (!err)
		return 0;
	if (pid > 0 && !target__pid_alive(pid)) {
		p_err("cannot attach to %s: the process is gone", display);
		return -ESRCH;
	}
	p_err("cannot attach a uprobe to %s: %s%s", display, strerror(-err),
	      err == -EPERM || err == -EACCES ?
	      " (" PRIV_HINT ")" : "");
	return err;
}
