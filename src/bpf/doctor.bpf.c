// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Tiny programs for `gosnoop doctor`: one per kernel capability. All are
 * autoload-off ("?" section prefix); features.c turns exactly one on per
 * open/load attempt, attaches it, triggers it from the doctor process, and
 * checks that it bumped its counter: "loads" is not "works".
 *
 * No CO-RE field reads here: the uprobe, tracepoint and raw_tp probes must
 * work (and say so) even on a kernel without /sys/kernel/btf/vmlinux.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "doctor.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load: only the doctor process's own events count. */
const volatile __u32 target_tgid = 0;
/* Set before load: where bpf_probe_write_user writes (doctor's memory). */
const volatile __u64 write_addr = 0;

__u64 hits[DOCTOR_NSLOTS] = {};
__u64 hits_by_cookie[DOCTOR_NCOOKIES] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} doctor_events SEC(".maps");

static __always_inline bool from_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void count(int slot)
{
	if (from_target())
		__sync_fetch_and_add(&hits[slot], 1);
}

SEC("?uprobe")
int doctor_uprobe(struct pt_regs *ctx)
{
	count(DOCTOR_SLOT_UPROBE);
	return 0;
}

/*
 * Loaded with expected_attach_type BPF_TRACE_UPROBE_MULTI (set from user
 * space: libbpf 1.1 has no "uprobe.multi" section) and attached through
 * the raw BPF_LINK_CREATE in src/probe/uprobe_multi.c.
 */
SEC("?uprobe")
int doctor_uprobe_multi(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (from_target() && cookie < DOCTOR_NCOOKIES)
		__sync_fetch_and_add(&hits_by_cookie[cookie], 1);
	return 0;
}

SEC("?uprobe")
int doctor_ringbuf(struct pt_regs *ctx)
{
	struct doctor_rb_event ev = {};

	if (!from_target())
		return 0;
	ev.magic = DOCTOR_RB_MAGIC;
	ev.tgid = target_tgid;
	if (bpf_ringbuf_output(&doctor_events, &ev, sizeof(ev), 0) == 0)
		__sync_fetch_and_add(&hits[DOCTOR_SLOT_RINGBUF], 1);
	return 0;
}

/* The helper is refused by lockdown (integrity and above) at load. */
SEC("?uprobe")
int doctor_write_user(struct pt_regs *ctx)
{
	__u64 val = DOCTOR_WRITE_MAGIC;

	if (!from_target())
		return 0;
	if (bpf_probe_write_user((void *)write_addr, &val, sizeof(val)) == 0)
		__sync_fetch_and_add(&hits[DOCTOR_SLOT_WRITE_USER], 1);
	return 0;
}

SEC("?tracepoint/syscalls/sys_enter_getpid")
int doctor_tracepoint(void *ctx)
{
	count(DOCTOR_SLOT_TRACEPOINT);
	return 0;
}

SEC("?raw_tp/sys_enter")
int doctor_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	count(DOCTOR_SLOT_RAW_TP);
	return 0;
}

SEC("?tp_btf/sys_enter")
int BPF_PROG(doctor_tp_btf, struct pt_regs *regs, long id)
{
	count(DOCTOR_SLOT_TP_BTF);
	return 0;
}

/*
 * do_nanosleep: a plain (non-inlined) function present in every kernel's
 * BTF and reached by nanosleep(2)/clock_nanosleep(2), which the doctor
 * calls to trigger the fentry, fexit and kprobe programs.
 */
SEC("?fentry/do_nanosleep")
int BPF_PROG(doctor_fentry)
{
	count(DOCTOR_SLOT_FENTRY);
	return 0;
}

SEC("?fexit/do_nanosleep")
int BPF_PROG(doctor_fexit)
{
	count(DOCTOR_SLOT_FEXIT);
	return 0;
}

SEC("?kprobe/do_nanosleep")
int doctor_kprobe(struct pt_regs *ctx)
{
	count(DOCTOR_SLOT_KPROBE);
	return 0;
}
