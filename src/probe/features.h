/* SPDX-License-Identifier: MIT */
/*
 * Run-time probes of what this kernel lets gosnoop do. Each probe does
 * the real thing (loads a tiny program from src/bpf/doctor.bpf.c, attaches
 * it, triggers it from this process and checks that it ran), never
 * guesses from the kernel version. Used by `gosnoop doctor` and by any
 * command that must choose a fallback (e.g. fentry -> tp_btf).
 *
 * libbpf reports every expected failure through its print callback: the
 * caller decides whether to show that (doctor hides it unless -v).
 */
#ifndef GOSNOOP_PROBE_FEATURES_H
#define GOSNOOP_PROBE_FEATURES_H

#include <stdbool.h>
#include <linux/types.h>

enum feature_id {
	FEATURE_PRIVILEGES,	/* CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN (capget) */
	FEATURE_BTF,		/* /sys/kernel/btf/vmlinux parses */
	FEATURE_TRACEFS,	/* mounted where libbpf looks */
	FEATURE_LOCKDOWN,	/* /sys/kernel/security/lockdown mode */
	FEATURE_RINGBUF,	/* ring buffer map + a record delivered */
	FEATURE_UPROBE,		/* perf-event uprobe on /proc/self/exe fires */
	FEATURE_UPROBE_MULTI,	/* raw uprobe_multi link, 2 offsets + cookies */
	FEATURE_ATTACH_COOKIE,	/* a uprobe program may call bpf_get_attach_cookie */
	FEATURE_TRACEPOINT,	/* syscalls:sys_enter_getpid fires */
	FEATURE_RAW_TP,		/* raw_tp sys_enter fires */
	FEATURE_TP_BTF,		/* tp_btf sys_enter fires */
	FEATURE_FENTRY,		/* fentry do_nanosleep fires */
	FEATURE_FEXIT,		/* fexit do_nanosleep fires */
	FEATURE_KPROBE,		/* kprobe do_nanosleep fires */
	FEATURE_WRITE_USER,	/* bpf_probe_write_user writes our memory */
	FEATURE__COUNT,
};

enum feature_status {
	FEATURE_STATUS_OK,
	FEATURE_STATUS_MISSING,	/* the kernel lacks it (or it did not fire) */
	FEATURE_STATUS_REFUSED,	/* the kernel has it but says no (EPERM...) */
	FEATURE_STATUS_UNTESTED,/* could not be tried (e.g. no tracefs) */
};

struct feature {
	const char *name;		/* stable: "uprobe_multi", "tp_btf", ... */
	enum feature_status status;
	int err;			/* -errno of the failing step, or 0 */
	char detail[256];		/* what was found, errno name and text */
	char impact[256];		/* what it means for gosnoop */
	char value[64];			/* machine-readable value or "": lockdown
					 * mode, tracefs mount point, CapEff */
};

struct features_opts {
	bool fix;	/* mount tracefs when it is not mounted */
};

/* "ok", "missing", "refused", "untested" */
const char *feature_status__str(enum feature_status status);

/* Stable name of a probe ("privileges", "btf", ...). */
const char *feature__name(enum feature_id id);

/* Run one probe; fills *f (always: also on failure). */
void features__probe(enum feature_id id, struct feature *f,
		     const struct features_opts *opts);

/*
 * How gosnoop attaches its Go function probes here, given the results of
 * all probes: FEATURE_UPROBE_MULTI when its probe passed (and
 * GOSNOOP_CLASSIC_UPROBES does not turn it off), else FEATURE_UPROBE.
 */
enum feature_id features__core_attach(const struct feature *feat);

/*
 * Whether gosnoop's core (privileges, BTF, ring buffer, the attach of
 * features__core_attach()) works, given the results of all probes in
 * feat[0..FEATURE__COUNT). If not, *why names the first core capability
 * that fails.
 */
bool features__core_ok(const struct feature *feat, const char **why);

/* The offset in gosnoop's own executable file (/proc/self/exe) of code
 * at addr, from /proc/self/maps: where a uprobe on it goes (doctor, and
 * the overhead calibration). 0, -ENOENT, -EINVAL (not executable). */
int features__self_file_offset(const void *addr, unsigned long *off);

/* "EPERM" for -EPERM/EPERM, "ENOTSUPP" for 524, "E<n>" if unknown. */
const char *features__errno_name(int err);

#endif /* GOSNOOP_PROBE_FEATURES_H */
