/* SPDX-License-Identifier: MIT */
/*
 * Private to the kernel capability probes (features.c, features_bpf.c):
 * the small helpers that fill in a struct feature (inline here, so that
 * both files have them), the privilege and lockdown facts the BPF probes
 * consult, and the BPF probes themselves. Not for the rest of gosnoop:
 * use features.h.
 */
#ifndef GOSNOOP_PROBE_FEATURES_INT_H
#define GOSNOOP_PROBE_FEATURES_INT_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "features.h"

#define SELF_EXE "/proc/self/exe"

#define KERNEL_ENOTSUPP 524	/* kernel-internal, leaks out of bpf(2) */

struct lockdown {
	int err;		/* could not read it: -errno */
	char mode[32];		/* "none", "integrity", "confidentiality" */
	char note[160];		/* how it was read */
};

/* features.c: privileges and lockdown */
bool feat_can_trace(void);
/* CAP_SYS_ADMIN in the effective set */
bool feat_sys_admin(void);
const struct lockdown *feat_read_lockdown(void);

/* features_bpf.c: one probe each */
void feat_probe_uprobe(struct feature *f);
void feat_probe_uprobe_multi(struct feature *f);
void feat_probe_ringbuf(struct feature *f);
void feat_probe_tracepoint(struct feature *f,
			   const struct features_opts *opts);
void feat_probe_raw_tp(struct feature *f);
void feat_probe_tp_btf(struct feature *f);
void feat_probe_fentry(struct feature *f);
void feat_probe_fexit(struct feature *f);
void feat_probe_kprobe(struct feature *f);
void feat_probe_write_user(struct feature *f);

/* ------------------------------------------------------------ results */

static inline const char *errno_text(int err)
{
	if (err < 0)
		err = -err;
	if (err == KERNEL_ENOTSUPP)
		return "Operation not supported";
	return strerror(err);
}

static inline void __attribute__((format(printf, 2, 3)))
set_detail(struct feature *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

static inline void __attribute__((format(printf, 2, 3)))
set_impact(struct feature *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->impact, sizeof(f->impact), fmt, ap);
	va_end(ap);
}

static inline void set_ok(struct feature *f)
{
	f->status = FEATURE_STATUS_OK;
	f->err = 0;
}

/* EPERM/EACCES: the kernel has the feature but will not let us use it. */
static inline enum feature_status status_of(int err)
{
	return err == -EPERM || err == -EACCES ? FEATURE_STATUS_REFUSED
					       : FEATURE_STATUS_MISSING;
}

/* Appended to EPERM details: the likely reason. */
static inline const char *eperm_hint(void)
{
	return feat_can_trace() ? ""
				: "; needs CAP_BPF and CAP_PERFMON: run as root";
}

static inline bool locked_down(const struct lockdown *ld)
{
	return !ld->err && strcmp(ld->mode, "none") != 0;
}

#endif /* GOSNOOP_PROBE_FEATURES_INT_H */
