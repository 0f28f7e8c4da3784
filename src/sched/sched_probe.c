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
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "gobin/rt_tables.h"
#include "probe/uprobe_multi.h"
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

/*
 * Before load: uprobe_multi links where the kernel has them (the
 * programs' expected attach type says so at load), else perf uprobes
 * (before 6.6, or GOSNOOP_CLASSIC_UPROBES=1 for tests).
 */
static void choose_links(struct sched_probe *sp)
{
	struct bpf_program *progs[] = {
		sp->skel->progs.sched_casgstatus,
		sp->skel->progs.sched_entersyscall,
		sp->skel->progs.sched_exitsyscall,
	};

	sp->links.multi = uprobe_multi__chosen();
	if (!sp->links.multi)
		return;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_expected_attach_type(progs[i],
						      UPROBE_MULTI__ATTACH_TYPE);
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
	choose_links(sp);
	return 0;
}

int sched_probe__load(struct sched_probe *sp)
{
	int err = sched_bpf__load(sp->skel);

	if (err)
		p_load_error("the BPF program", err);
	return err;
}

/* One program at off of path: a uprobe_multi link or a perf uprobe. */
static int attach_one(struct sched_links *l, struct bpf_program *prog,
		      const char *path, pid_t pid, unsigned long off)
{
	if (l->n >= SCHED_PROBE_LINKS)
		return -E2BIG;
	if (l->multi) {
		int err = uprobe_multi__attach(bpf_program__fd(prog), path,
					       &off, NULL, 1, pid > 0 ? pid : 0,
					       &l->fd[l->n]);
		if (err)
			return err;
	} else {
		l->perf[l->n] = bpf_program__attach_uprobe(prog, false,
							   pid > 0 ? pid : -1,
							   path, off);
		if (!l->perf[l->n])
			return errno ? -errno : -EINVAL;
	}
	l->n++;
	return 0;
}

int sched_probe__attach(struct sched_probe *sp, const char *path, pid_t pid)
{
	struct sched_links *l = &sp->links;
	int err;

	err = attach_one(l, sp->skel->progs.sched_casgstatus, path, pid,
			 sp->off);
	if (!err && sp->hooked)
		err = attach_one(l, sp->skel->progs.sched_entersyscall, path,
				 pid, sp->hooks.enter_off);
	if (!err && sp->hooked)
		err = attach_one(l, sp->skel->progs.sched_exitsyscall, path,
				 pid, sp->hooks.exit_off);
	if (err) {
		sched_probe__detach(sp);
		return err;
	}
	p_info("%s: %u probe%s attached through %s", sp->name, l->n,
	       l->n == 1 ? "" : "s",
	       l->multi ? "uprobe_multi links" : "perf uprobe events");
	return 0;
}

void sched_probe__detach(struct sched_probe *sp)
{
	struct sched_links *l = &sp->links;

	for (unsigned int i = 0; i < l->n; i++) {
		if (l->multi)
			close(l->fd[i]);
		else
			bpf_link__destroy(l->perf[i]);
	}
	l->n = 0;
}

unsigned int sched_probe__sites(const struct sched_probe *sp)
{
	return sp->links.n;
}

void sched_probe__destroy(struct sched_probe *sp)
{
	sched_probe__detach(sp);
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
	      err != -EPERM && err != -EACCES ? "" :
	      sp->links.multi ? " (" PRIV_HINT ")" :
	      /* Linux since 2025 (upstream ba677dbe77af) */
	      " (a perf uprobe event, as used without uprobe_multi links, "
	      "needs CAP_SYS_ADMIN; see 'gosnoop doctor')");
	return err;
}
