// SPDX-License-Identifier: MIT
/*
 * fentry:/fexit: probes, chosen by trying for real (as libbpf-tools'
 * fentry_can_attach() does): load and attach the trampoline program; if
 * the kernel refuses, a kprobe (kretprobe for fexit); if that fails too,
 * one line naming both reasons, -EOPNOTSUPP (exit 3); both refused for
 * want of privilege: the privilege line, -EPERM (exit 3 too).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "ktrace_inst_int.h"
#include "ktrace_probe.h"
#include "probe/features.h"

/* May this process load tracing programs at all (CAP_BPF and CAP_PERFMON,
 * or CAP_SYS_ADMIN)? EPERM means something else when it may: lockdown,
 * an LSM. */
static bool can_trace(void)
{
	struct feature priv;

	features__probe(FEATURE_PRIVILEGES, &priv, NULL);
	return priv.status == FEATURE_STATUS_OK;
}

/*
 * fentry/fexit: try the trampoline for real; if the kernel refuses,
 * kprobe/kretprobe; else one line with both reasons.
 */
int kt_inst__setup_func(struct kt_inst *in, const struct kt_inst_cfg *cfg,
			int idx, const struct kt_inst *first,
			struct kt_probe *p)
{
	bool exit_probe = p->kind == KT_KIND_FEXIT;
	const char *tramp = exit_probe ? "fexit" : "fentry";
	const char *kp = exit_probe ? "kretprobe" : "kprobe";
	int err1, err2;

	/*
	 * GOSNOOP_KTRACE_NO_FENTRY=1: take the kprobe path as if the kernel
	 * had refused the trampoline, so that the fallback can be tested on
	 * a kernel that has both (tests/e2e/test_ktrace_func.py).
	 */
	const char *no_tramp = getenv("GOSNOOP_KTRACE_NO_FENTRY");
	bool forced = no_tramp && *no_tramp && strcmp(no_tramp, "0");

	if (forced) {
		err1 = -EOPNOTSUPP;
	} else {
		err1 = kt_inst__open_load(in, cfg, idx, first, tramp,
				 p);
		if (!err1 && !(err1 = kt_inst__store_spec(in, p))) {
			in->link = bpf_program__attach(kt_inst__prog(in));
			if (in->link)
				return 0;
			err1 = -errno;
		}
	}
	p_info("%s: %s %s: %s; trying %s", p->text, tramp,
	       forced ? "not tried (GOSNOOP_KTRACE_NO_FENTRY)" : "failed",
	       features__errno_name(err1), kp);
	kt_inst__free(in);
	err2 = kt_inst__open_load(in, cfg, idx, first, kp, p);
	if (!err2 && !(err2 = kt_inst__store_spec(in, p))) {
		in->link = bpf_program__attach_kprobe(kt_inst__prog(in),
						      exit_probe, p->name);
		if (in->link) {
			if (exit_probe)
				p_warn("%s: fexit unavailable (%s): using a "
				       "kretprobe, only 'ret' is meaningful",
				       p->text, features__errno_name(err1));
			return 0;
		}
		err2 = -errno;
	}
	kt_inst__free(in);
	if (err1 == -EPERM && err2 == -EPERM && !can_trace()) {
		/* both refused for want of privilege, not by this kernel:
		 * the way out is the privilege, as for every other probe */
		p_err("%s: cannot load the BPF program: %s (" PRIV_HINT ")",
		      p->text, strerror(EPERM));
		return -EPERM;
	}
	p_err("%s: %s %s (%s: %s%s) and %s unavailable "
	      "(%s: %s%s); use tp_btf: or tracepoint: probes", p->text, tramp,
	      forced ? "not tried" : "refused by the kernel",
	      forced ? "GOSNOOP_KTRACE_NO_FENTRY" : features__errno_name(err1),
	      forced ? "set" : strerror(err1 < 0 ? -err1 : err1),
	      err1 == -EPERM ? "; lockdown, an LSM, or no BPF trampolines"
			     : "",
	      kp, features__errno_name(err2),
	      strerror(err2 < 0 ? -err2 : err2),
	      access("/sys/bus/event_source/devices/kprobe", F_OK) ?
	      "; no kprobe PMU: CONFIG_KPROBES is off" : "");
	return -EOPNOTSUPP;
}
