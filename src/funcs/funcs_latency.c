// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "funcs_latency.h"
#include "gobin/gobin.h"
#include "probe/funcprobe.h"
#include "probe/kbtf.h"
#include "target.h"
#include <linux/types.h>
#include "bpf/funcs.h"
#include "bpf/funcs.skel.h"
#include "bpf/funcs_r14.skel.h"

/* One set of code drives both skeletons; these checks keep that true. */
#define SAME_FIELD(f) \
	_Static_assert(offsetof(struct funcs_bpf, f) == \
		       offsetof(struct funcs_r14_bpf, f), "skeletons differ: " #f)
SAME_FIELD(obj);
SAME_FIELD(maps.hists);
SAME_FIELD(maps.goid_hists);
SAME_FIELD(maps.gstacks);
SAME_FIELD(maps.deep_frames);
SAME_FIELD(progs.fp_latency);
SAME_FIELD(rodata);
SAME_FIELD(bss);
_Static_assert(sizeof(struct funcs_bpf__rodata) ==
	       sizeof(struct funcs_r14_bpf__rodata), "rodata differs");
_Static_assert(sizeof(struct funcs_bpf__bss) ==
	       sizeof(struct funcs_r14_bpf__bss), "bss differs");

int funcs_latency__open(const struct gobin *gb, const struct funcprobe *fp,
			const char *display, struct funcs_bpf **out,
			bool *r14)
{
	const struct gobin_abi_info *abi = gobin__abi(gb);
	const struct gobin_layout *l = gobin__layout(gb);
	struct funcs_bpf *skel;

	*out = NULL;
	if (abi->g_in_r14 &&
	    (!funcprobe__writes_r14(fp) || abi->g_access != GOBIN_G_TLS_FS)) {
		*r14 = true;
		if (abi->g_access != GOBIN_G_TLS_FS)
			p_warn("%s: the goroutine's TLS slot is unknown; reading g from R14 (calls of assembly functions may not pair)",
			       display);
		skel = (struct funcs_bpf *)funcs_r14_bpf__open();
	} else if (abi->g_access == GOBIN_G_TLS_FS) {
		*r14 = false;
		skel = funcs_bpf__open();
	} else {
		p_err("%s: cannot tell how to find the current goroutine (g) in this binary",
		      display);
		return -EPROTONOSUPPORT;
	}
	if (!skel) {
		int err = -errno;

		p_err("cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	if (!*r14) {
		uint32_t off;
		int err = kbtf__task_fsbase_offset(&off);

		if (err) {
			p_err("%s: g is in the goroutine's TLS slot, and task_struct.thread.fsbase is not in the kernel's BTF (/sys/kernel/btf/vmlinux: %s); a kernel with CONFIG_DEBUG_INFO_BTF is needed",
			      display, strerror(-err));
			funcs_bpf__destroy(skel);
			return -EOPNOTSUPP;
		}
		skel->rodata->off_task_fsbase = off;
	}
	p_info("g from %s", *r14 ? "R14" : "the TLS slot (fsbase from the kernel's BTF)");
	skel->rodata->g_source = *r14 ? FP_G_R14 : FP_G_TLS;
	skel->rodata->tls_g_offset = abi->tls_g_offset;
	skel->rodata->off_stack_hi = l->g_stack_hi >= 0 ? l->g_stack_hi : 8;
	*out = skel;
	return 0;
}

int funcs_latency__load(struct funcs_bpf *skel, bool r14)
{
	if (r14)
		return funcs_r14_bpf__load((struct funcs_r14_bpf *)skel);
	return funcs_bpf__load(skel);
}

void funcs_latency__destroy(struct funcs_bpf *skel, bool r14)
{
	if (r14)
		funcs_r14_bpf__destroy((struct funcs_r14_bpf *)skel);
	else
		funcs_bpf__destroy(skel);
}

/*
 * Delete up to max entries of map fd whose key (key_size bytes) starts
 * with the tgid of a process that is gone; the number deleted. Collected
 * first: deleting while walking restarts the walk.
 */
static unsigned int sweep_gone_pids(int fd, size_t key_size, unsigned int max)
{
	unsigned char key[32], next[32], dead[256][32];
	unsigned int n = 0, dropped = 0;
	pid_t last_pid = 0;
	bool last_alive = true;
	void *prev = NULL;
	__u32 pid;

	if (key_size > sizeof(key) || max > 256)
		return 0;
	while (n < max && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		memcpy(&pid, key, sizeof(pid));
		if ((pid_t)pid != last_pid) {
			last_pid = (pid_t)pid;
			last_alive = target__pid_alive(last_pid);
		}
		if (!last_alive)
			memcpy(dead[n++], key, key_size);
	}
	for (unsigned int i = 0; i < n; i++)
		if (!bpf_map_delete_elem(fd, dead[i]))
			dropped++;
	return dropped;
}

unsigned int funcs_latency__sweep(struct funcs_bpf *skel)
{
	/* both keys start with the tgid (funcs.h) */
	_Static_assert(offsetof(struct fp_gkey, pid) == 0, "fp_gkey.pid first");
	_Static_assert(offsetof(struct fp_deep_key, pid) == 0,
		       "fp_deep_key.pid first");
	unsigned int dropped = sweep_gone_pids(bpf_map__fd(skel->maps.gstacks),
					       sizeof(struct fp_gkey), 64);

	/* the goroutines' chained frames go too, but are not goroutines */
	sweep_gone_pids(bpf_map__fd(skel->maps.deep_frames),
			sizeof(struct fp_deep_key), 256);
	return dropped;
}
