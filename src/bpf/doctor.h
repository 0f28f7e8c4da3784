/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Shared between src/bpf/doctor.bpf.c and src/probe/features.c: the
 * counter slots the probe programs bump and the ring buffer record.
 * Every probe program counts only hits from the doctor process itself
 * (target_tgid), so a busy system cannot fake a success.
 */
#ifndef GOSNOOP_BPF_DOCTOR_H
#define GOSNOOP_BPF_DOCTOR_H

enum doctor_slot {
	DOCTOR_SLOT_UPROBE = 0,
	DOCTOR_SLOT_TRACEPOINT,
	DOCTOR_SLOT_RAW_TP,
	DOCTOR_SLOT_TP_BTF,
	DOCTOR_SLOT_FENTRY,
	DOCTOR_SLOT_FEXIT,
	DOCTOR_SLOT_KPROBE,
	DOCTOR_SLOT_RINGBUF,
	DOCTOR_SLOT_WRITE_USER,
	DOCTOR_NSLOTS,
};

/*
 * The uprobe_multi program counts by attach cookie: hits_by_cookie[c]
 * for cookie c < DOCTOR_NCOOKIES, so one link with two offsets and two
 * cookies proves both the multi-attach and per-offset cookies work.
 */
#define DOCTOR_NCOOKIES 4

/* Ring buffer record sent by the ringbuf probe program. */
#define DOCTOR_RB_MAGIC 0x676f736e6f6f7021ULL /* "gosnoop!" */
struct doctor_rb_event {
	__u64 magic;
	__u32 tgid;
	__u32 pad;
};

/* Value bpf_probe_write_user stores into the doctor's own variable. */
#define DOCTOR_WRITE_MAGIC 0x5752495445ULL /* "WRITE" */

#endif /* GOSNOOP_BPF_DOCTOR_H */
