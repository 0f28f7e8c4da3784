// SPDX-License-Identifier: MIT
/*
 * Syscall hooks for go1.26+ (see sched_hooks.h and the end of
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
#include "bpf/sched.skel.h"
#include "sched_hooks.h"

/* The first release whose enter/exitsyscall bypass casgstatus. */
#define SYSCALL_HOOKS_MINOR 26

static int site(const struct gobin *gb, const char *name,
		unsigned long long *off)
{
	const struct gobin_func *f = gobin__func_by_name(gb, name);
	struct gobin_probe_point pp;
	uint64_t o;

	if (!f)
		return -ENOENT;
	if (gobin__probe_point(gb, f, 0, 0, &pp))
		pp.addr = f->entry;
	if (gobin__vaddr_to_offset(gb, pp.addr, &o))
		return -ENOENT;
	*off = o;
	return 0;
}

bool sched_hooks__plan(const struct gobin *gb, struct sched_bpf *skel,
		       struct sched_hooks *h, const char *display)
{
	*h = (struct sched_hooks){};
	if (gobin__go_minor(gb) < SYSCALL_HOOKS_MINOR ||
	    gobin__abi(gb)->abi != GOBIN_ABI_INTERNAL)
		return false;
	if (site(gb, "runtime.reentersyscall", &h->enter_off) ||
	    site(gb, "runtime.exitsyscall", &h->exit_off)) {
		p_warn("%s: no runtime.reentersyscall/exitsyscall to probe: time in syscalls shows as running",
		       display);
		return false;
	}
	skel->rodata->syscall_hooks = true;
	return true;
}

int sched_hooks__attach(struct sched_hooks *h, struct sched_bpf *skel,
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

		sched_hooks__detach(h);
		return err;
	}
	return 0;
}

void sched_hooks__detach(struct sched_hooks *h)
{
	bpf_link__destroy(h->enter);
	bpf_link__destroy(h->exit);
	h->enter = h->exit = NULL;
}
