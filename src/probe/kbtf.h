/* SPDX-License-Identifier: MIT */
/*
 * Offsets of kernel struct members from the running kernel's BTF
 * (/sys/kernel/btf/vmlinux), found by one pass over the raw type records.
 *
 * Why not CO-RE: an object with a single CO-RE relocation makes libbpf
 * load and index the whole kernel BTF, ~13 MB of RSS and tens of ms at
 * start here; a BPF program that needs one offset can take it as a
 * constant set before load instead.
 */
#ifndef GOSNOOP_PROBE_KBTF_H
#define GOSNOOP_PROBE_KBTF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Byte offset of member `member` in the struct named `sname` of the BTF
 * image buf[0..len). 0, -ENOENT (no such struct or member), -EINVAL
 * (not BTF, truncated, or a bitfield member).
 */
int kbtf__member_offset_in(const void *buf, size_t len, const char *sname,
			   const char *member, uint32_t *off);

/*
 * Byte offset of task_struct.thread.fsbase (x86-64) in the running kernel:
 * 0 or -errno (-ENOENT also when the kernel has no BTF).
 */
int kbtf__task_fsbase_offset(uint32_t *off);

/* The same from a BTF file at path; KBTF_NO_MMAP: read it, never map it
 * (what kernels before ~6.15 require of the sysfs file; for tests). */
#define KBTF_NO_MMAP	1u
int kbtf__task_fsbase_offset_from(const char *path, unsigned int flags,
				  uint32_t *off);

#endif /* GOSNOOP_PROBE_KBTF_H */
