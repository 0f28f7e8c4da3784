// SPDX-License-Identifier: MIT
/*
 * trace --set against this kernel (trace_set_check.h): where each traced
 * function has the argument (trace_set.c), and whether the kernel lets
 * BPF write there, asked of the kernel by loading the write path alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "probe/funcprobe.h"
#include "trace_decode.h"
#include "trace_set.h"
#include "trace_set_check.h"
#include "bpf/trace.skel.h"

/*
 * Load one never-attached probe program of trace.bpf.c alone (--set asks
 * the kernel, not its version): regs false, tr_write_probe: may BPF write
 * user memory (bpf_probe_write_user)? Under lockdown the kernel withholds
 * the helper (kernel/trace/bpf_trace.c bpf_tracing_func_proto:
 * LOCKDOWN_BPF_WRITE_USER) and the verifier answers "program of this
 * type cannot use helper bpf_probe_write_user#36". regs true,
 * tr_ctx_write_probe: may a uprobe program write the registers it
 * returns to (kernels with upstream 7384893d970e; before it the verifier
 * says "invalid bpf_context access")? 0 if
 * allowed; else -EPERM with the verifier's own line in why.
 */
static int probe_write(bool regs, char *why, size_t whylen)
{
	struct trace_bpf *skel = trace_bpf__open();
	struct bpf_program *want;
	static char log[16384];
	const char *key;
	char *line;
	int err;

	if (!skel) {
		err = -errno;
		snprintf(why, whylen, "cannot open the BPF program: %s",
			 strerror(-err));
		return err;
	}
	want = regs ? skel->progs.tr_ctx_write_probe : skel->progs.tr_write_probe;
	bpf_program__set_autoload(skel->progs.tr_call, false);
	bpf_program__set_autoload(skel->progs.tr_call_set, false);
	bpf_program__set_autoload(regs ? skel->progs.tr_write_probe :
				  skel->progs.tr_ctx_write_probe, false);
	log[0] = 0;
	bpf_program__set_log_buf(want, log, sizeof(log));
	err = trace_bpf__load(skel);
	trace_bpf__destroy(skel);
	if (!err)
		return 0;
	if (verbose)
		fprintf(stderr, "%s", log);
	key = regs ? "invalid bpf_context access" : "helper bpf_probe_write_user";
	line = strstr(log, key);
	if (line) {
		/* quote the verifier's own line */
		while (line > log && line[-1] != '\n')
			line--;
		line[strcspn(line, "\n")] = 0;
		snprintf(why, whylen, "the verifier says \"%s\"", line);
	} else {
		snprintf(why, whylen, "the load fails: %s", strerror(-err));
	}
	return -EPERM;
}

int trace_set__check(const struct trace_set *ts, const char *set_arg,
		     const struct funcprobe *fp, const struct tr_plan *plans,
		     size_t nplans, struct tr_set **sets, bool *regs, bool *mem)
{
	const char *reg_fn = NULL, *mem_fn = NULL;
	unsigned int reg_idx = 0;
	size_t found = 0;
	char why[320];
	int err;

	*regs = *mem = false;
	*sets = calloc(nplans ? nplans : 1, sizeof(**sets));
	if (!*sets)
		return -ENOMEM;
	for (size_t i = 0; i < nplans; i++) {
		const char *fn = funcprobe__func(fp, i)->name;
		struct tr_set *o = &(*sets)[i];

		err = trace_set__resolve(ts, &plans[i], o, why, sizeof(why));
		if (err == -ENOENT)
			continue;
		if (err) {
			p_err("--set %s in %s: %s", set_arg, fn, why);
			return -EINVAL;
		}
		found++;
		if (o->kind == TR_SRC_REG && !reg_fn) {
			reg_fn = fn;
			reg_idx = o->idx;
		} else if (o->kind == TR_SRC_STACK && !mem_fn) {
			mem_fn = fn;
		}
	}
	if (!found) {
		p_err("--set: no traced function has an argument '%s'%s",
		      ts->name, nplans && plans[0].raw ?
		      " (stripped binary: name ABI words arg0, arg1, ...)" : "");
		return -EINVAL;
	}
	if (reg_fn) {
		err = probe_write(true, why, sizeof(why));
		if (err) {
			p_err("--set %s: in %s it is in register %s, and this kernel does not let uprobe programs write registers (kernels with \"bpf: Allow uprobe program to change context registers\" do); %s",
			      ts->name, reg_fn, trace_set__reg_name(reg_idx), why);
			return -EOPNOTSUPP;
		}
		*regs = true;
	}
	if (mem_fn) {
		err = probe_write(false, why, sizeof(why));
		if (err) {
			p_err("--set %s: in %s it is on the stack, and writing user memory needs bpf_probe_write_user, which this kernel withholds (%s%s)",
			      ts->name, mem_fn,
			      strstr(why, "verifier") ? "kernel lockdown: " : "",
			      why);
			return -EPERM;
		}
		*mem = true;
	}
	p_info("--set %s: %zu of %zu functions have it (%s%s%s)", set_arg,
	       found, nplans, *regs ? "registers" : "",
	       *regs && *mem ? " and " : "", *mem ? "stack" : "");
	return 0;
}
