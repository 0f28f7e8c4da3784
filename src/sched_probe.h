/* SPDX-License-Identifier: MIT */
/*
 * What the sched BPF program (src/bpf/sched.bpf.c) needs from a Go binary,
 * for `gosnoop sched` and `gosnoop serve`: runtime.casgstatus, the g
 * offsets, and from go1.26, whose runtime switches running <-> syscall
 * without casgstatus, probes on runtime.reentersyscall and
 * runtime.exitsyscall (the syscall hooks).
 */
#ifndef GOSNOOP_SCHED_PROBE_H
#define GOSNOOP_SCHED_PROBE_H

#include <sys/types.h>

struct gobin;
struct gobin_func;
struct sched_bpf;
struct bpf_link;

struct sched_hooks {
	unsigned long long enter_off, exit_off;	/* file offsets */
	struct bpf_link *enter, *exit;
};

/*
 * runtime.casgstatus of gb, after checking that the program can run on gb
 * (g offsets known, a known ABI): 0, or -errno after one error line
 * naming display.
 */
int sched_probe__check_binary(const char *display, const struct gobin *gb,
			      const struct gobin_func **casg);

/*
 * Before load: true when gb's release needs the hooks and has both
 * functions; then h has their probe sites and the program's rodata is set.
 * A release that needs them but lacks them gets one warning line.
 */
bool sched_probe__plan_hooks(const struct gobin *gb, struct sched_bpf *skel,
			     struct sched_hooks *h, const char *display);
/* After load: attach both (pid -1: every process of path). 0 or -errno. */
int sched_probe__attach_hooks(struct sched_hooks *h, struct sched_bpf *skel,
			      const char *path, pid_t pid);
void sched_probe__detach_hooks(struct sched_hooks *h);

#endif
