// SPDX-License-Identifier: MIT
/*
 * Kernel capability probes (see features.h): the probe names, the system
 * facts (privileges from capget, vmlinux BTF, tracefs, lockdown) and the
 * entry points. The probes that load, attach and trigger a BPF program are
 * in features_bpf.c; features_int.h holds what the two files share,
 * including the helpers that fill in a struct feature.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/types.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "features_int.h"
#include "tracefs.h"
#include "uprobe_multi.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef SECURITYFS_MAGIC
#define SECURITYFS_MAGIC 0x73636673
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define SECURITYFS_PATH "/sys/kernel/security"
#define LOCKDOWN_PATH SECURITYFS_PATH "/lockdown"
#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"
static const char *const feature_names[FEATURE__COUNT] = {
	[FEATURE_PRIVILEGES] = "privileges",
	[FEATURE_BTF] = "btf",
	[FEATURE_TRACEFS] = "tracefs",
	[FEATURE_LOCKDOWN] = "lockdown",
	[FEATURE_RINGBUF] = "ringbuf",
	[FEATURE_UPROBE] = "uprobe",
	[FEATURE_UPROBE_MULTI] = "uprobe_multi",
	[FEATURE_ATTACH_COOKIE] = "attach_cookie",
	[FEATURE_TRACEPOINT] = "tracepoint",
	[FEATURE_RAW_TP] = "raw_tracepoint",
	[FEATURE_TP_BTF] = "tp_btf",
	[FEATURE_FENTRY] = "fentry",
	[FEATURE_FEXIT] = "fexit",
	[FEATURE_KPROBE] = "kprobe",
	[FEATURE_WRITE_USER] = "probe_write_user",
};

const char *feature__name(enum feature_id id)
{
	return id < FEATURE__COUNT ? feature_names[id] : "?";
}

const char *feature_status__str(enum feature_status status)
{
	switch (status) {
	case FEATURE_STATUS_OK:		return "ok";
	case FEATURE_STATUS_MISSING:	return "missing";
	case FEATURE_STATUS_REFUSED:	return "refused";
	case FEATURE_STATUS_UNTESTED:	return "untested";
	}
	return "?";
}

const char *features__errno_name(int err)
{
	static char buf[16];
	const char *name;

	if (err < 0)
		err = -err;
	if (err == KERNEL_ENOTSUPP)
		return "ENOTSUPP";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}
/* ------------------------------------------------------------ privileges */

struct caps {
	int err;		/* capget() failure, or 0 */
	__u64 effective;
	bool bpf, perfmon, sys_admin;
};

static const struct caps *self_caps(void)
{
	static struct caps caps;
	static bool done;
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (done)
		return &caps;
	done = true;
	if (syscall(SYS_capget, &hdr, data) != 0) {
		caps.err = -errno;
		return &caps;
	}
	caps.effective = (__u64)data[1].effective << 32 | data[0].effective;
	caps.bpf = caps.effective >> CAP_BPF & 1;
	caps.perfmon = caps.effective >> CAP_PERFMON & 1;
	caps.sys_admin = caps.effective >> CAP_SYS_ADMIN & 1;
	return &caps;
}

/*
 * The kernel's bpf_capable() and perfmon_capable() also accept
 * CAP_SYS_ADMIN; tracing programs need both.
 */
bool feat_can_trace(void)
{
	const struct caps *c = self_caps();

	return (c->bpf || c->sys_admin) && (c->perfmon || c->sys_admin);
}

bool feat_sys_admin(void)
{
	return self_caps()->sys_admin;
}

static const char *self_exe(void)
{
	static char path[4096];
	ssize_t n;

	if (path[0])
		return path;
	n = readlink(SELF_EXE, path, sizeof(path) - 1);
	if (n <= 0) {
		strcpy(path, "gosnoop");
		return path;
	}
	path[n] = '\0';
	return path;
}

static void probe_privileges(struct feature *f)
{
	const struct caps *c = self_caps();

	if (c->err) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = c->err;
		set_detail(f, "capget: %s: %s", features__errno_name(c->err),
			   errno_text(c->err));
		set_impact(f, "cannot tell whether BPF programs may be loaded");
		return;
	}
	snprintf(f->value, sizeof(f->value), "0x%016llx",
		 (unsigned long long)c->effective);
	set_detail(f, "uid %u; CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s",
		   (unsigned int)geteuid(), c->bpf ? "yes" : "no",
		   c->perfmon ? "yes" : "no", c->sys_admin ? "yes" : "no");
	if (feat_can_trace()) {
		set_ok(f);
		if (c->sys_admin)
			set_impact(f, "can load BPF programs, attach probes "
				   "and mount tracefs");
		else
			set_impact(f, "can load BPF programs and attach "
				   "probes; without CAP_SYS_ADMIN gosnoop "
				   "cannot mount tracefs");
		return;
	}
	f->status = FEATURE_STATUS_REFUSED;
	f->err = -EPERM;
	set_impact(f, "cannot load BPF programs: run gosnoop as root "
		   "(sudo), or `sudo setcap "
		   "cap_bpf,cap_perfmon,cap_sys_admin+ep %s`", self_exe());
}
/* ------------------------------------------------------------ BTF */

static void probe_btf(struct feature *f)
{
	struct stat st;
	struct btf *btf;
	int err;

	set_impact(f, "CO-RE and tp_btf:/fentry: probes unavailable; gosnoop "
		   "cannot read kernel structs (e.g. a thread's fsbase to find "
		   "its goroutine): core feature");
	if (stat(VMLINUX_BTF_PATH, &st) != 0) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -errno;
		set_detail(f, VMLINUX_BTF_PATH " absent (kernel built without "
			   "CONFIG_DEBUG_INFO_BTF)");
		return;
	}
	btf = btf__parse(VMLINUX_BTF_PATH, NULL);
	if (!btf) {
		err = errno ? -errno : -EINVAL;
		f->status = status_of(err);
		f->err = err;
		set_detail(f, VMLINUX_BTF_PATH " does not parse: %s: %s",
			   features__errno_name(err), errno_text(err));
		return;
	}
	set_ok(f);
	set_detail(f, VMLINUX_BTF_PATH ": %u types, %lld bytes",
		   btf__type_cnt(btf) - 1, (long long)st.st_size);
	set_impact(f, "CO-RE: kernel structs readable, tp_btf:/fentry: "
		   "probes possible");
	btf__free(btf);
}

/* ------------------------------------------------------------ tracefs */

static void probe_tracefs(struct feature *f, const struct features_opts *opts)
{
	char path[256];
	const char *mnt = tracefs__path();
	int err;

	if (mnt) {
		set_ok(f);
		snprintf(f->value, sizeof(f->value), "%.63s", mnt);
		set_detail(f, "mounted at %s", mnt);
		set_impact(f, "tracepoint: probes can look up event ids");
		return;
	}
	if (!opts || !opts->fix) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -ENOENT;
		set_detail(f, "not mounted; run `" TRACEFS_MOUNT_CMD "` or "
			   "`gosnoop doctor --fix`");
		set_impact(f, "tracepoint: probes unavailable until it is "
			   "mounted");
		return;
	}
	err = tracefs__ensure_mounted(path, sizeof(path));
	if (err) {
		f->status = status_of(err);
		f->err = err;
		set_detail(f, "not mounted; --fix failed: %s",
			   tracefs__strerror(err));
		set_impact(f, "tracepoint: probes unavailable until it is "
			   "mounted");
		return;
	}
	set_ok(f);
	snprintf(f->value, sizeof(f->value), "%.63s", path);
	set_detail(f, "was not mounted; --fix mounted it at %s", path);
	set_impact(f, "tracepoint: probes can look up event ids");
}

/* ------------------------------------------------------------ lockdown */

static bool fs_is(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == magic;
}

/*
 * The mode is the bracketed word of "none [integrity] confidentiality".
 * securityfs is not mounted at boot here: mount it for the read and
 * unmount it again, so the doctor leaves the system as it found it.
 */
const struct lockdown *feat_read_lockdown(void)
{
	static struct lockdown ld;
	static bool done;
	bool mounted_here = false;
	char line[128], *open, *close;
	FILE *file;

	if (done)
		return &ld;
	done = true;

	if (!fs_is(SECURITYFS_PATH, SECURITYFS_MAGIC)) {
		if (mount("securityfs", SECURITYFS_PATH, "securityfs", 0,
			  NULL) != 0) {
			ld.err = -errno;
			snprintf(ld.note, sizeof(ld.note),
				 "securityfs not mounted and mounting it failed"
				 " (%s): run `mount -t securityfs securityfs "
				 SECURITYFS_PATH "` as root",
				 features__errno_name(ld.err));
			return &ld;
		}
		mounted_here = true;
	}

	file = fopen(LOCKDOWN_PATH, "re");
	if (!file) {
		if (errno == ENOENT) {
			/* No lockdown LSM in this kernel: nothing is locked. */
			strcpy(ld.mode, "none");
			snprintf(ld.note, sizeof(ld.note),
				 "no lockdown LSM (" LOCKDOWN_PATH " absent)");
		} else {
			ld.err = -errno;
			snprintf(ld.note, sizeof(ld.note), LOCKDOWN_PATH ": %s",
				 errno_text(ld.err));
		}
	} else {
		if (fgets(line, sizeof(line), file) &&
		    (open = strchr(line, '[')) && (close = strchr(open, ']')) &&
		    (size_t)(close - open - 1) < sizeof(ld.mode)) {
			memcpy(ld.mode, open + 1, close - open - 1);
			ld.mode[close - open - 1] = '\0';
			snprintf(ld.note, sizeof(ld.note), "%s%s", LOCKDOWN_PATH,
				 mounted_here ? "; securityfs was not mounted: "
				 "mounted it for this read, then unmounted it" : "");
		} else {
			ld.err = -EINVAL;
			snprintf(ld.note, sizeof(ld.note),
				 LOCKDOWN_PATH ": no [mode] in it");
		}
		fclose(file);
	}
	if (mounted_here)
		umount2(SECURITYFS_PATH, 0);
	return &ld;
}
static void probe_lockdown(struct feature *f)
{
	const struct lockdown *ld = feat_read_lockdown();

	if (ld->err) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = ld->err;
		set_detail(f, "%s", ld->note);
		set_impact(f, "unknown: if locked down, see probe_write_user "
			   "and the probes below");
		return;
	}
	snprintf(f->value, sizeof(f->value), "%.31s", ld->mode);
	set_detail(f, "%s, from %s", ld->mode, ld->note);
	if (strcmp(ld->mode, "confidentiality") == 0) {
		f->status = FEATURE_STATUS_REFUSED;
		f->err = -EPERM;
		set_impact(f, "BPF reads of kernel memory, perf and tracefs are "
			   "refused: gosnoop cannot work");
		return;
	}
	set_ok(f);
	if (strcmp(ld->mode, "integrity") == 0)
		set_impact(f, "bpf_probe_write_user refused: trace --set "
			   "cannot write; tracing does not need it");
	else
		set_impact(f, "no lockdown restrictions");
}

/*
 * bpf_get_attach_cookie (5.15+): the verifier of a kernel without it
 * refuses any program calling it, so count, latency and trace load a twin
 * that finds each probe site by its address (src/bpf/fp_sites.h).
 */
static void probe_attach_cookie(struct feature *f)
{
	int ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
					  BPF_FUNC_get_attach_cookie, NULL);

	if (ret == 1) {
		set_ok(f);
		set_detail(f, "a uprobe program calling bpf_get_attach_cookie loads");
		set_impact(f, "every probe site carries its own cookie");
		return;
	}
	if (ret < 0) {
		f->status = status_of(ret);
		f->err = ret;
		set_detail(f, "cannot tell: %s at load (%s)",
			   features__errno_name(ret), strerror(-ret));
		set_impact(f, "count, latency and trace find sites by address if "
			   "it is missing");
		return;
	}
	f->status = FEATURE_STATUS_MISSING;
	f->err = -EINVAL;
	set_detail(f, "the verifier does not know helper %d "
		   "(bpf_get_attach_cookie)", BPF_FUNC_get_attach_cookie);
	set_impact(f, "count, latency, trace find sites by address: a PIE "
		   "only with -p PID (not by path or -- CMD)");
}

/* ------------------------------------------------------------ entry points */

void features__probe(enum feature_id id, struct feature *f,
		     const struct features_opts *opts)
{
	memset(f, 0, sizeof(*f));
	f->name = feature__name(id);
	f->status = FEATURE_STATUS_UNTESTED;

	switch (id) {
	case FEATURE_PRIVILEGES:	probe_privileges(f); break;
	case FEATURE_BTF:		probe_btf(f); break;
	case FEATURE_TRACEFS:		probe_tracefs(f, opts); break;
	case FEATURE_LOCKDOWN:		probe_lockdown(f); break;
	case FEATURE_RINGBUF:		feat_probe_ringbuf(f); break;
	case FEATURE_UPROBE:		feat_probe_uprobe(f); break;
	case FEATURE_UPROBE_MULTI:	feat_probe_uprobe_multi(f); break;
	case FEATURE_ATTACH_COOKIE:	probe_attach_cookie(f); break;
	case FEATURE_TRACEPOINT:	feat_probe_tracepoint(f, opts); break;
	case FEATURE_RAW_TP:		feat_probe_raw_tp(f); break;
	case FEATURE_TP_BTF:		feat_probe_tp_btf(f); break;
	case FEATURE_FENTRY:		feat_probe_fentry(f); break;
	case FEATURE_FEXIT:		feat_probe_fexit(f); break;
	case FEATURE_KPROBE:		feat_probe_kprobe(f); break;
	case FEATURE_WRITE_USER:	feat_probe_write_user(f); break;
	case FEATURE__COUNT:
		set_detail(f, "no such probe");
		break;
	}
}

enum feature_id features__core_attach(const struct feature *feat)
{
	return feat[FEATURE_UPROBE_MULTI].status == FEATURE_STATUS_OK &&
	       uprobe_multi__chosen() ? FEATURE_UPROBE_MULTI : FEATURE_UPROBE;
}

bool features__core_ok(const struct feature *feat, const char **why)
{
	/* In the order a user should fix them: privileges first. */
	const enum feature_id core[] = {
		FEATURE_PRIVILEGES, FEATURE_BTF, FEATURE_RINGBUF,
		features__core_attach(feat),
	};

	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		if (feat[core[i]].status != FEATURE_STATUS_OK) {
			if (why)
				*why = feature__name(core[i]);
			return false;
		}
	}
	return true;
}
