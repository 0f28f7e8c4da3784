// SPDX-License-Identifier: MIT
/*
 * Raw BPF_LINK_CREATE for BPF_TRACE_UPROBE_MULTI (see uprobe_multi.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "uprobe_multi.h"

/*
 * The BPF_LINK_CREATE part of union bpf_attr, as far as uprobe_multi
 * needs it. Layout from linux include/uapi/linux/bpf.h (v6.9+, where pid
 * was added after cookies) and checked against this kernel's BTF
 * (bpftool btf dump file /sys/kernel/btf/vmlinux):
 *
 *	struct { // link_create
 *		union { __u32 prog_fd; __u32 map_fd; };
 *		union { __u32 target_fd; __u32 target_ifindex; };
 *		__u32 attach_type;
 *		__u32 flags;
 *		union { ...
 *			struct {
 *				__aligned_u64	path;
 *				__aligned_u64	offsets;
 *				__aligned_u64	ref_ctr_offsets;
 *				__aligned_u64	cookies;
 *				__u32		cnt;
 *				__u32		flags;
 *				__u32		pid;
 *			} uprobe_multi;
 *		... };
 *	} link_create;
 *
 * A kernel that is older than a field rejects a non-zero value in it
 * (E2BIG from bpf_check_uarg_tail_zero), and zero means "unused" in every
 * field here, so one layout serves 6.6+ kernels.
 */
struct uprobe_multi_link_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 um_flags;
	__u32 pid;
};

_Static_assert(offsetof(struct uprobe_multi_link_attr, path) == 16,
	       "link_create.uprobe_multi.path at 16");
_Static_assert(offsetof(struct uprobe_multi_link_attr, cookies) == 40,
	       "link_create.uprobe_multi.cookies at 40");
_Static_assert(offsetof(struct uprobe_multi_link_attr, pid) == 56,
	       "link_create.uprobe_multi.pid at 56");

static __u64 ptr_to_u64(const void *p)
{
	return (__u64)(uintptr_t)p;
}

static int sys_link_create(struct uprobe_multi_link_attr *attr)
{
	int fd;

	fd = syscall(__NR_bpf, BPF_LINK_CREATE, attr, sizeof(*attr));
	return fd < 0 ? -errno : fd;
}

int uprobe_multi__attach(int prog_fd, const char *path,
			 const unsigned long *offsets, const __u64 *cookies,
			 size_t cnt, pid_t pid, int *link_fd)
{
	struct uprobe_multi_link_attr attr;
	int fd;

	if (prog_fd < 0 || !path || !offsets || !link_fd || cnt == 0 || pid < 0)
		return -EINVAL;
	if (cnt > UINT32_MAX)
		return -E2BIG;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.attach_type = UPROBE_MULTI__ATTACH_TYPE;
	attr.path = ptr_to_u64(path);
	attr.offsets = ptr_to_u64(offsets);
	attr.cookies = ptr_to_u64(cookies);
	attr.cnt = (__u32)cnt;
	attr.pid = (__u32)pid;

	fd = sys_link_create(&attr);
	if (fd < 0)
		return fd;
	*link_fd = fd;
	return 0;
}

int uprobe_multi__probe(void)
{
	/* r0 = 0; exit */
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = UPROBE_MULTI__ATTACH_TYPE,
	);
	struct uprobe_multi_link_attr attr;
	unsigned long offset = 0;
	int prog_fd, fd;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "gosnoop_um_probe",
				"Dual MIT/GPL",
				insns, sizeof(insns) / sizeof(insns[0]), &opts);
	if (prog_fd < 0)
		return -errno;

	/*
	 * "/" is not a regular file: a kernel that knows uprobe_multi gets
	 * as far as the path check and says EBADF; one that does not know
	 * the attach type says EINVAL.
	 */
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.attach_type = UPROBE_MULTI__ATTACH_TYPE;
	attr.path = ptr_to_u64("/");
	attr.offsets = ptr_to_u64(&offset);
	attr.cnt = 1;
	fd = sys_link_create(&attr);
	close(prog_fd);
	if (fd >= 0) {
		close(fd);
		return -EPROTO;	/* a link on "/" must not exist */
	}
	return fd == -EBADF ? 0 : fd;
}

bool uprobe_multi__supported(void)
{
	static int cached = 1;	/* 1: not probed yet */

	if (cached == 1)
		cached = uprobe_multi__probe();
	return cached == 0;
}

bool uprobe_multi__chosen(void)
{
	const char *env = getenv("GOSNOOP_CLASSIC_UPROBES");

	if (env && *env && strcmp(env, "0"))
		return false;
	return uprobe_multi__supported();
}
