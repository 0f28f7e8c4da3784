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
	struct bpf_link *enter, *exit;
};

/*
 * The sched program on one binary, for `sched` and `serve` alike:
 * sched_probe__open() checks the binary, picks the casgstatus site and
 * opens the skeleton with what both set (ABI, site, g offsets, hooks);
 * sched_probe__set_target() (whose goroutines, events or not), the
 * caller's own rodata and map sizes in sp->skel, then sched_probe__load(),
 * sched_probe__attach_target() (or __attach(), which says nothing),
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
	struct bpf_link *link;
};

/* at_entry: the first instruction (single-stepped), as --probe-entry
 * asks. 0, or -errno after one line naming display. */
int sched_probe__open(struct sched_probe *sp, const char *display,
		      const struct gobin *gb, bool at_entry);
/* 0, or -errno after one line. */
int sched_probe__load(struct sched_probe *sp);
/* casgstatus and the hooks on path (pid -1: every process running it).
 * 0 or -errno, nothing printed: the caller says what the target is. */
int sched_probe__attach(struct sched_probe *sp, const char *path, pid_t pid);
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
/* After load: attach both (pid -1: every process of path). 0 or -errno. */
int sched_probe__attach_hooks(struct sched_hooks *h, struct sched_bpf *skel,
			      const char *path, pid_t pid);
void sched_probe__detach_hooks(struct sched_hooks *h);

#endif
