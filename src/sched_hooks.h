/* SPDX-License-Identifier: MIT */
/*
 * The syscall hooks of the sched BPF program (src/bpf/sched.bpf.c): from
 * go1.26 the runtime switches running <-> syscall without casgstatus, so
 * `gosnoop sched` and `gosnoop serve` also probe runtime.reentersyscall and
 * runtime.exitsyscall to see that time.
 */
#ifndef GOSNOOP_SCHED_HOOKS_H
#define GOSNOOP_SCHED_HOOKS_H

#include <sys/types.h>

struct gobin;
struct sched_bpf;
struct bpf_link;

struct sched_hooks {
	unsigned long long enter_off, exit_off;	/* file offsets */
	struct bpf_link *enter, *exit;
};

/*
 * Before load: true when gb's release needs the hooks and has both
 * functions; then h has their probe sites and the program's rodata is set.
 * A release that needs them but lacks them gets one warning line.
 */
bool sched_hooks__plan(const struct gobin *gb, struct sched_bpf *skel,
		       struct sched_hooks *h, const char *display);
/* After load: attach both (pid -1: every process of path). 0 or -errno. */
int sched_hooks__attach(struct sched_hooks *h, struct sched_bpf *skel,
			const char *path, pid_t pid);
void sched_hooks__detach(struct sched_hooks *h);

#endif
