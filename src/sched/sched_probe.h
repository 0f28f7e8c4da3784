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

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gobin/gobin.h"

struct sched_bpf;
struct bpf_link;

struct sched_hooks {
	unsigned long long enter_off, exit_off;	/* file offsets */
};

/*
 * What is attached, one program per slot (casgstatus, then the hooks):
 * libbpf links of perf-event uprobes, or uprobe_multi link fds. Kernels
 * with uprobe_multi (6.6+) get links: they need CAP_BPF and CAP_PERFMON
 * only, where a perf uprobe event wants CAP_SYS_ADMIN again since 2025
 * (upstream ba677dbe77af), which a container rarely has.
 */
#define SCHED_PROBE_LINKS 3
struct sched_links {
	bool multi;				/* set at open, before load */
	unsigned int n;				/* slots filled */
	struct bpf_link *perf[SCHED_PROBE_LINKS];
	int fd[SCHED_PROBE_LINKS];		/* when multi */
};

/*
 * The sched program on one binary, for `sched` and `serve` alike:
 * sched_probe__open() checks the binary, picks the casgstatus site and
 * opens the skeleton with what both set (ABI, site, g offsets, hooks);
 * sched_probe__set_target() (whose goroutines, events or not), the
 * caller's own rodata and map sizes in sp->skel, then sched_probe__load(),
 * sched_probe__attach_target() (or __attach(), which says nothing),
 * sched_probe__detach() (stop the probes, keep the maps),
 * sched_probe__destroy().
 */
struct sched_probe {
	struct sched_bpf *skel;
	const struct gobin_func *casg;
	struct gobin_probe_point pp;	/* the casgstatus site */
	uint64_t off;			/* its file offset */
	char name[64];			/* "runtime.casgstatus+0x14" */
	struct sched_hooks hooks;
	bool hooked;
	struct sched_links links;	/* through sched_probe__ only */
};

/* at_entry: the first instruction (single-stepped), as --probe-entry
 * asks. 0, or -errno after one line naming display. */
int sched_probe__open(struct sched_probe *sp, const char *display,
		      const struct gobin *gb, bool at_entry);
/* 0, or -errno after one line. */
int sched_probe__load(struct sched_probe *sp);
/* casgstatus and the hooks on path (pid -1: every process running it).
 * 0 or -errno, nothing printed (but -v's line saying how): the caller
 * says what the target is. */
int sched_probe__attach(struct sched_probe *sp, const char *path, pid_t pid);
/* Detach every probe (the maps stay readable); again is a no-op. */
void sched_probe__detach(struct sched_probe *sp);
/* How many probes are attached: 0, or 1 + the hooks. */
unsigned int sched_probe__sites(const struct sched_probe *sp);
/* Detach and free; also on a zeroed or half-opened sp. */
void sched_probe__destroy(struct sched_probe *sp);

/*
 * Before load: whose goroutines (pid > 0: that process only; else every
 * process running the binary) and whether each transition is sent on the
 * ring buffer (sched -e/-j/--perfetto; serve reads the maps only).
 */
void sched_probe__set_target(struct sched_probe *sp, pid_t pid, bool events);
/*
 * After load: casgstatus and the hooks on path (pid > 0: that process
 * only). 0, or -errno after one line naming display: the process is
 * gone, or why the uprobe was refused (with the privilege hint).
 */
int sched_probe__attach_target(struct sched_probe *sp, const char *display,
			       const char *path, pid_t pid);

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

#endif
