// SPDX-License-Identifier: MIT
/*
 * One ktrace probe's skeleton instance: open, rodata, one program on,
 * load, spec, attach (ktrace_inst.h). tracepoint: and tp_btf: here;
 * fentry:/fexit: in ktrace_func.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "ktrace_inst_int.h"
#include "ktrace_probe.h"
#include "ktrace_scope.h"
#include "bpf/ktrace.h"
#include "bpf/ktrace.skel.h"

static void set_rodata(struct ktrace_bpf *skel, const struct kt_inst_cfg *cfg,
		       int idx, const struct kt_probe *p)
{
	struct ktrace_bpf__rodata *ro = skel->rodata;
	const struct kt_go_attr *ga = &cfg->ga;
	const char *comm = cfg->comm;
	pid_t tgid = cfg->tgid;

	ro->filter_tgid = tgid > 0 ? (__u32)tgid : 0;
	ro->self_tgid = (__u32)getpid();
	if (comm) {
		size_t n = strnlen(comm, 15);

		memcpy((char *)ro->filter_comm, comm, n);
		ro->filter_comm_len = n;
	}
	ro->probe_idx = idx;
	ro->ctx_nargs = p->spec.nargs;
	ro->nops_bound = p->spec.nops;
	memcpy((void *)ro->ro_ops, p->spec.ops,
	       p->spec.nops * sizeof(p->spec.ops[0]));
	/* fentry/fexit: the verifier types their ctx loads from BTF */
	if ((p->kind == KT_KIND_FENTRY || p->kind == KT_KIND_FEXIT) &&
	    kt_btf(NULL))
		ro->ctx_read_mask = kt_btf__ctx_read_mask(p, kt_btf(NULL));
	ro->go_attr = ga->on;
	ro->fsbase_off = ga->fsbase_off;
	ro->tls_g_off = ga->tls_g_off;
	ro->goid_off = ga->goid_off;
	ro->startpc_off = ga->startpc_off;
	ro->g_m_off = ga->g_m_off;
	ro->m_curg_off = ga->m_curg_off;
	ro->wakeup_bytes =
		ringbuf_wakeup_bytes(KT_RINGBUF_BYTES, KT_WAKEUP_BYTES / 2);
}

static struct bpf_program *only_prog(struct ktrace_bpf *skel,
				     struct bpf_program *want)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == want);
	return want;
}

static const char *load_hint(int err)
{
	if (err == -EACCES)
		return " (the verifier refused it: a gosnoop bug; -vv shows "
		       "the log)";
	if (err == -EPERM)
		return " (" PRIV_HINT ")";
	if (err == -EMFILE || err == -ENFILE)
		return " (each probe holds ~10 descriptors: raise 'ulimit -n' "
		       "or narrow the probes)";
	return " (see 'gosnoop doctor'; -vv shows the verifier log)";
}

/*
 * Does the kernel have bpf_loop (5.17+)? Asked once, of the kernel, as
 * bpftool feature does. Without it every program runs its ops in a
 * bounded loop instead (the *_nl programs of ktrace.bpf.c): 5.10 refuses
 * any program that names a callback, even one it would never call.
 */
static bool have_bpf_loop(void)
{
	static int have = -1;
	/* GOSNOOP_KTRACE_NO_BPF_LOOP=1: the *_nl programs here too, so
	 * that tests on a new kernel cover them (tests/e2e) */
	const char *no = getenv("GOSNOOP_KTRACE_NO_BPF_LOOP");

	if (have < 0) {
		have = (!no || !*no || !strcmp(no, "0")) &&
		       libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
					       BPF_FUNC_loop, NULL) == 1;
		p_info("bpf_loop: %s", have ? "yes" :
		       "no (before 5.17): bounded loops");
	}
	return have;
}

/* ktrace_inst_int.h */
int kt_inst__open_load(struct kt_inst *in, const struct kt_inst_cfg *cfg,
		       int idx, const struct kt_inst *first, const char *which,
		       const struct kt_probe *p)
{
	struct bpf_program *prog;
	int err;

	in->skel = ktrace_bpf__open();
	if (!in->skel)
		return -errno;
	set_rodata(in->skel, cfg, idx, p);
#define PROG(name) (have_bpf_loop() ? in->skel->progs.name : \
					   in->skel->progs.name##_nl)
	if (!strcmp(which, "tracepoint"))
		prog = PROG(kt_tracepoint);
	else if (!strcmp(which, "tp_btf"))
		prog = cfg->bench_prog == KT_PROG_EMPTY ?
				in->skel->progs.kt_empty :
		       cfg->bench_prog == KT_PROG_RECORD_FLOOR ?
				in->skel->progs.kt_record_floor :
				PROG(kt_raw_tp);
	else if (!strcmp(which, "fentry"))
		prog = PROG(kt_fentry);
	else if (!strcmp(which, "fexit"))
		prog = PROG(kt_fexit);
	else if (!strcmp(which, "kprobe"))
		prog = PROG(kt_kprobe);
	else
		prog = PROG(kt_kretprobe);
#undef PROG
	only_prog(in->skel, prog);
	err = kt_scope__configure(cfg->scope, in->skel,
				  first ? first->skel : NULL, p);
	if (err)
		return err;
	/* BTF attach targets; tp_btf: probes are raw_tp (ktrace.bpf.c) */
	if (prog == in->skel->progs.kt_empty || !strcmp(which, "fentry") ||
	    !strcmp(which, "fexit")) {
		err = bpf_program__set_attach_target(prog, 0, p->name);
		if (err)
			return err;
	}
	/*
	 * One ring buffer for all probes, and one count per CPU of what was
	 * sent since the last wakeup (bpf_wakeup.h): per probe, 360 probes x
	 * 128 KiB per CPU would exceed the ring before any wakeup.
	 */
	if (first) {
		err = bpf_map__reuse_fd(in->skel->maps.events,
					bpf_map__fd(first->skel->maps.events));
		if (!err)
			err = bpf_map__reuse_fd(in->skel->maps.unwoken,
					bpf_map__fd(first->skel->maps.unwoken));
		if (err)
			return err;
	}
	err = ktrace_bpf__load(in->skel);
	if (err)
		return err;
	in->how = which;
	return 0;
}

int kt_inst__store_spec(struct kt_inst *in, const struct kt_probe *p)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(in->skel->maps.spec), &zero,
				&p->spec, BPF_ANY))
		return -errno;
	return 0;
}

struct bpf_program *kt_inst__prog(struct kt_inst *in)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, in->skel->obj)
		if (bpf_program__autoload(prog))
			return prog;
	return NULL;
}

void kt_inst__free(struct kt_inst *in)
{
	bpf_link__destroy(in->link);
	ktrace_bpf__destroy(in->skel);
	in->link = NULL;
	in->skel = NULL;
}

int kt_inst__setup(struct kt_inst *in, const struct kt_inst_cfg *cfg,
		   int idx, const struct kt_inst *first, struct kt_probe *p)
{
	int err;

	if (p->kind == KT_KIND_FENTRY || p->kind == KT_KIND_FEXIT)
		return kt_inst__setup_func(in, cfg, idx, first, p);
	err = kt_inst__open_load(in, cfg, idx, first,
			p->kind == KT_KIND_TRACEPOINT ? "tracepoint" : "tp_btf",
			p);
	if (err) {
		p_err("%s: cannot load the BPF program: %s%s", p->text,
		      strerror(-err), load_hint(err));
		return err;
	}
	err = kt_inst__store_spec(in, p);
	if (err) {
		p_err("%s: cannot store the probe's ops: %s", p->text,
		      strerror(-err));
		return err;
	}
	if (p->kind == KT_KIND_TRACEPOINT)
		in->link = bpf_program__attach_tracepoint(kt_inst__prog(in),
							  p->cat, p->name);
	else if (kt_inst__prog(in) == in->skel->progs.kt_empty)
		in->link = bpf_program__attach(kt_inst__prog(in));
	else
		in->link = bpf_program__attach_raw_tracepoint(kt_inst__prog(in),
							      p->name);
	if (!in->link) {
		err = -errno;
		p_err("%s: cannot attach: %s%s", p->text, strerror(-err),
		      err == -EMFILE || err == -ENFILE ? load_hint(err) : "");
		return err;
	}
	return 0;
}
