/* SPDX-License-Identifier: MIT */
/*
 * uprobe_multi links through the raw bpf(2) syscall: Debian's libbpf 1.1
 * predates bpf_program__attach_uprobe_multi(), but the kernel (6.6+) has
 * BPF_TRACE_UPROBE_MULTI, which attaches one program to many offsets of one
 * file in a single syscall (~10 ms for 1000 functions here, against ~108 ms
 * per function to detach classic perf-event uprobes).
 *
 * The program must have been loaded as BPF_PROG_TYPE_KPROBE with expected
 * attach type UPROBE_MULTI__ATTACH_TYPE, e.g. with libbpf:
 *	bpf_program__set_expected_attach_type(prog, UPROBE_MULTI__ATTACH_TYPE);
 * before bpf_object__load(). bpf_get_attach_cookie() in the program then
 * returns cookies[i] for a hit at offsets[i].
 */
#ifndef GOSNOOP_PROBE_UPROBE_MULTI_H
#define GOSNOOP_PROBE_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

/*
 * enum bpf_attach_type: BPF_TRACE_UPROBE_MULTI = 48, and the link flag
 * BPF_F_UPROBE_MULTI_RETURN = 1 << 0 (linux include/uapi/linux/bpf.h, and
 * this kernel's BTF). Our own names: <linux/bpf.h> from the distro may
 * not have them.
 */
#define UPROBE_MULTI__ATTACH_TYPE 48
#define UPROBE_MULTI__F_RETURN (1U << 0)

/*
 * Attach prog_fd at offsets[0..cnt) (file offsets, as for uprobes) of the
 * file at path. cookies may be NULL (all 0). pid > 0 fires only in that
 * process (tgid); 0 in every process mapping the file. On success stores
 * the link's fd in *link_fd (close it to detach) and returns 0; else
 * returns -errno: -EINVAL also when the kernel lacks uprobe_multi,
 * -EBADF/-ENOENT for a bad path, -ESRCH for a dead pid, -E2BIG for a huge
 * cnt, -EPERM without CAP_BPF+CAP_PERFMON.
 */
int uprobe_multi__attach(int prog_fd, const char *path,
			 const unsigned long *offsets, const __u64 *cookies,
			 size_t cnt, pid_t pid, int *link_fd);

/*
 * Whether the kernel supports uprobe_multi links (probed once, cached):
 * loads a 2-instruction program and tries a link on "/", which a
 * supporting kernel rejects with EBADF after accepting the attach type
 * (the same probe as libbpf's probe_uprobe_multi_link()).
 */
bool uprobe_multi__supported(void);

/* The probe's raw outcome: 0 if supported, else the -errno that says why. */
int uprobe_multi__probe(void);

/*
 * Whether gosnoop attaches through uprobe_multi links: supported, and not
 * turned off by GOSNOOP_CLASSIC_UPROBES (set and not "0": the perf
 * uprobes of kernels before 6.6, for tests).
 */
bool uprobe_multi__chosen(void);

#endif /* GOSNOOP_PROBE_UPROBE_MULTI_H */
