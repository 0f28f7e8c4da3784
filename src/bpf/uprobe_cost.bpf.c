// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The calibration probe of the overhead budget (src/overhead.c): what
 * gosnoop count's program does per hit (one check, one counter), on three
 * sites of gosnoop's own code. No CO-RE: no kernel BTF is loaded for it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uprobe_cost.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load: only the calibrating process's hits count. */
const volatile __u32 target_tgid = 0;

__u64 hits = 0;

SEC("uprobe")
int uprobe_cost_hit(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&hits, 1);
	return 0;
}
