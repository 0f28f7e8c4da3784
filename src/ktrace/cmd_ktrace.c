// SPDX-License-Identifier: MIT
/*
 * gosnoop ktrace: kernel tracepoints, tp_btf events and kernel functions,
 * decoded with their types, and each event tied to the goroutine that
 * caused it.
 *
 * parse probes -> fields (tracefs) / typed args (BTF) -> compile --filter
 * and -o into fetch ops -> [fork CMD, held] -> one skeleton instance per
 * probe: open, set rodata (pid/comm filter, g offsets), turn on one
 * program, set its attach target, share the first instance's ring
 * buffer, load, store the spec, attach -> [release CMD] -> poll, print
 * (ktrace_out.c) until Ctrl-C / -d / -n / the traced process ends.
 *
 * fentry/fexit are chosen by trying for real (as libbpf-tools'
 * fentry_can_attach() does): load the fentry program; if the kernel
 * refuses, a kprobe (kretprobe for fexit); if that fails too, one line
 * naming both reasons, exit 3.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "common.h"
#include "gobin/gobin.h"
#include "ktrace_names.h"
#include "ktrace_out.h"
#include "ktrace_probe.h"
#include "ktrace_scope.h"
#include "probe/features.h"
#include "launch.h"
#include "options.h"
#include "record_out.h"
#include "session.h"
#include "ringbuf_reader.h"
#include "probe/tracefs.h"
#include "bpf/ktrace.skel.h"
#include "target.h"

#define POLL_MS 100
#define MAX_PROBES 32		/* PROBE arguments */
#define MAX_EXPANDED 1024	/* probes after globs are expanded */
#define MAX_EXPR_OPTS 64
#define MAX_POSITIONAL (MAX_PROBES + 1)


/*
 * One -o or --filter, and where it stood: options before the first probe
 * apply to every probe, options after a probe to that probe only (as a
 * bpftrace program's probe { ... } block). probe: index of the probe it
 * follows, -1 for every probe.
 */
struct expr_opt {
	bool filter;
	const char *text;
	int npos;		/* positional arguments before it */
	int probe;
};

struct ktrace_cli {
	struct target t;
	const char *path_arg;
	pid_t pid;
	const char *comm;
	struct expr_opt exprs[MAX_EXPR_OPTS];
	int nexprs;
	const char *probe_args[MAX_PROBES];
	int nprobe_args;
	double duration;
	uint64_t max_events;
	/* bench/ktrace.py's yardsticks, tp_btf only: an empty program, or
	 * one that sends each event as a bare record */
	enum { KT_PROG_PROBE, KT_PROG_EMPTY, KT_PROG_RECORD_FLOOR } bench_prog;
	struct kt_scope scope;	/* --follow, --goid, --goroutine-func, --stack */
};

/* One probe's kernel side: its skeleton instance and link. */
struct kt_inst {
	struct ktrace_bpf *skel;
	struct bpf_link *link;
	const char *how;	/* "fentry", "kprobe", ... */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s ktrace [OPTIONS] [TARGET] PROBE...\n"
		"Kernel events with typed, decoded arguments; for a Go process,\n"
		"the goroutine (goid and start function) that caused each one.\n\n"
		"PROBE:  tracepoint:CAT:NAME  every field decoded (tracefs format)\n"
		"        tp_btf:NAME          typed args from vmlinux BTF\n"
		"        fentry:FUNC fexit:FUNC  kernel function args (and ret)\n"
		"        Globs in the names ('tracepoint:syscalls:sys_enter_*',\n"
		"        'tp_btf:sched_*') attach every match (at most %d).\n"
		"TARGET: PATH (processes named like it) | -p PID | -- CMD ARGS\n\n"
		"  -j, --json           JSON lines\n"
		"  -p, --pid PID        only this process; attribute goroutines\n"
		"  -c, --comm NAME      only tasks with this comm\n"
		"  -f, --filter EXPR    in-kernel filter: C expression over the\n"
		"                       args/fields (== != < > <= >= && || ! &)\n"
		"  -o, --output EXPR    print EXPR instead of all args\n"
		"                       (repeatable): 'prev->pid', 'next->comm',\n"
		"                       'ip4(&sk->__sk_common.skc_daddr)',\n"
		"                       'ntohs(...)', 'errno(ret)', 'str(p)'\n"
		"  -o/-f before the first PROBE apply to every probe; after a\n"
		"  PROBE, to that probe only (both filters must hold).\n"
		"  -F, --follow         also the children of -p PID (default for\n"
		"                       -- CMD; --no-follow: only CMD itself)\n"
		"  --goid N[,N...]      only events of these goroutines\n"
		"  --goroutine-func PATTERN  only goroutines started with a\n"
		"                       function matching PATTERN (a glob)\n"
		"  --stack              the kernel stack and the user (Go) stack\n"
		"  -d, --duration SECS  stop after SECS seconds\n"
		"  -n, --count N        stop after N events\n"
		"  -v, --verbose        more detail (twice: libbpf debug)\n"
		"Exit: 2 bad probe or expression, 3 the kernel cannot do it.\n",
		prog_name, MAX_EXPANDED);
}

static bool looks_like_probe(const char *s)
{
	static const char *const pfx[] = { "tracepoint:", "tp:", "t:",
					   "tp_btf:", "fentry:", "fexit:" };

	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (!strncmp(s, pfx[i], strlen(pfx[i])))
			return true;
	return false;
}

/* What ktrace's own options need while getopt runs. */
struct ktrace_args {
	struct ktrace_cli *cli;
	const char *pos[MAX_POSITIONAL];	/* positionals, in order */
	int npos;
};

/* ktrace's long-only options */
enum {
	KT_OPT_RECORD_FLOOR = 0x100, KT_OPT_NO_FOLLOW, KT_OPT_GOID,
	KT_OPT_GOFUNC, KT_OPT_STACK,
};

/* ktrace's own options (options.h handles the shared); positionals come
 * in place (code 1), so each -o/-f knows the probe it follows. */
static int ktrace_option(int code, char *arg, void *ctx)
{
	struct ktrace_args *a = ctx;
	struct ktrace_cli *cli = a->cli;

	switch (code) {
	case 1:
		if (a->npos >= MAX_POSITIONAL) {
			p_err("at most %d probes", MAX_PROBES);
			return -EINVAL;
		}
		a->pos[a->npos++] = arg;
		return 0;
	case 'c':
		cli->comm = arg;
		return 0;
	case 'f':
	case 'o':
		if (cli->nexprs >= MAX_EXPR_OPTS) {
			p_err("at most %d -o and --filter options",
			      MAX_EXPR_OPTS);
			return -EINVAL;
		}
		cli->exprs[cli->nexprs++] = (struct expr_opt){
			.filter = code == 'f', .text = arg, .npos = a->npos,
		};
		return 0;
	case 'E':
		cli->bench_prog = KT_PROG_EMPTY;
		return 0;
	case KT_OPT_RECORD_FLOOR:
		cli->bench_prog = KT_PROG_RECORD_FLOOR;
		return 0;
	case 'F':
		cli->scope.follow_opt = KT_FOLLOW_ON;
		return 0;
	case KT_OPT_NO_FOLLOW:
		cli->scope.follow_opt = KT_FOLLOW_OFF;
		return 0;
	case KT_OPT_GOID:
		return kt_scope__add_goids(&cli->scope, arg);
	case KT_OPT_GOFUNC:
		cli->scope.gofunc = arg;
		return 0;
	case KT_OPT_STACK:
		cli->scope.stack_kinds = KT_STACK_KERNEL | KT_STACK_USER;
		return 0;
	default:
		return -ENOENT;
	}
}

/* 0 to go on, 1 after --help, or -EINVAL after one line. */
static int parse_args(int argc, char **argv, struct ktrace_cli *cli)
{
	static const struct option opts[] = {
		{ "comm", required_argument, NULL, 'c' },
		{ "filter", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "empty-program", no_argument, NULL, 'E' },
		{ "record-floor-program", no_argument, NULL,
		  KT_OPT_RECORD_FLOOR },
		{ "follow", no_argument, NULL, 'F' },
		{ "no-follow", no_argument, NULL, KT_OPT_NO_FOLLOW },
		{ "goid", required_argument, NULL, KT_OPT_GOID },
		{ "goroutine-func", required_argument, NULL, KT_OPT_GOFUNC },
		{ "stack", no_argument, NULL, KT_OPT_STACK },
		{}
	};
	struct ktrace_args a = { .cli = cli };
	const struct opts_spec spec = {
		.verb = "ktrace", .usage = usage, .in_order = true,
		.target = &cli->t, .pid = &cli->pid,
		.duration = &cli->duration, .max_events = &cli->max_events,
		.own_short = "c:f:o:F", .own_long = opts, .own = ktrace_option,
		.ctx = &a,
	};
	const char **pos = a.pos;
	int probe_pos[MAX_PROBES];
	int first, npos, err;

	err = opts__parse(&spec, &argc, argv, &first);
	if (err)
		return err;
	for (int i = first; i < argc && a.npos < MAX_POSITIONAL; i++)
		pos[a.npos++] = argv[i];
	npos = a.npos;
	for (int i = 0; i < npos; i++) {
		if (looks_like_probe(pos[i]) || cli->path_arg || cli->pid ||
		    cli->t.cmd_argv || i + 1 == npos) {
			if (cli->nprobe_args >= MAX_PROBES) {
				p_err("at most %d probes", MAX_PROBES);
				return -EINVAL;
			}
			probe_pos[cli->nprobe_args] = i;
			cli->probe_args[cli->nprobe_args++] = pos[i];
		} else {
			cli->path_arg = pos[i];
		}
	}
	if (!cli->nprobe_args) {
		p_err("no probe: give e.g. tracepoint:syscalls:sys_enter_execve "
		      "or tp_btf:sched_switch (list them: gosnoop list --kernel)");
		return -EINVAL;
	}
	/* each -o/-f belongs to the last probe before it, if any */
	for (int i = 0; i < cli->nexprs; i++) {
		struct expr_opt *e = &cli->exprs[i];

		e->probe = -1;
		for (int k = 0; k < cli->nprobe_args; k++)
			if (probe_pos[k] < e->npos)
				e->probe = k;
		for (int k = 0; k < i; k++)
			if (e->filter && cli->exprs[k].filter &&
			    cli->exprs[k].probe == e->probe) {
				p_err("one --filter %s (combine with && or ||)",
				      e->probe < 0 ? "before the first probe"
						   : "per probe");
				return -EINVAL;
			}
	}
	return 0;
}

/* Compile a probe made from PROBE argument idx: fields or args, then the
 * filters that apply to it (for every probe, then its argument's), then
 * its outputs. name_it: errors say which probe (there are several). */
static int prepare_probe(struct ktrace_cli *cli, int idx, struct kt_probe *p,
			 const struct btf *btf, const char *tracefs,
			 bool name_it)
{
	char err[512] = "";
	int ret, nouts = 0;

	if (p->kind == KT_KIND_TRACEPOINT)
		ret = kt_tpfmt__load(p, tracefs, err, sizeof(err));
	else
		ret = kt_btf__probe_args(p, btf, err, sizeof(err));
	if (ret)
		goto fail;
	p->spec.nargs = p->nargs + (p->has_ret ? 1 : 0);
	for (int i = 0; i < cli->nexprs; i++) {
		const struct expr_opt *e = &cli->exprs[i];

		if (!e->filter || (e->probe >= 0 && e->probe != idx))
			continue;
		ret = kt_expr__filter(p, btf, e->text, err, sizeof(err));
		if (ret)
			goto fail;
	}
	for (int i = 0; i < cli->nexprs; i++) {
		const struct expr_opt *e = &cli->exprs[i];

		if (e->filter || (e->probe >= 0 && e->probe != idx))
			continue;
		ret = kt_expr__output(p, btf, e->text, err, sizeof(err));
		if (ret)
			goto fail;
		nouts++;
	}
	if (!nouts) {
		if (p->kind == KT_KIND_TRACEPOINT)
			ret = kt_tpfmt__emit_all(p, err, sizeof(err));
		else
			ret = kt_expr__emit_args(p, btf, err, sizeof(err));
		if (ret)
			goto fail;
	}
	ret = kt_spec__optimize(&p->spec);
	if (!ret && kt_scope__reserve_stacks(&cli->scope, p)) {
		snprintf(err, sizeof(err), "--stack: the outputs leave no room "
			 "for the stacks (%d bytes per event): fewer -o",
			 KT_DATA_MAX);
		goto fail;
	}
	if (ret) {
		snprintf(err, sizeof(err), "%s: internal error: bad op list",
			 p->text);
		goto fail;
	}
	p_info("%s: %u ops, %u bytes of data per event", p->text,
	       p->spec.nops, p->spec.data_len);
	return 0;
fail:
	/* with several probes, say which one the expression failed on */
	if (name_it && err[0])
		p_err("%s: %s", p->text, err);
	else
		p_err("%s", err[0] ? err : strerror(-ret));
	/* a tracefs file root may read only is a missing privilege (3) */
	return ret == -ENOMEM || ret == -EACCES || ret == -EPERM ? ret
								 : -EINVAL;
}

struct go_attr {
	bool on;
	__u64 fsbase_off;
	int64_t tls_g_off;
	int goid_off, startpc_off;
	int g_m_off, m_curg_off;	/* 0: no is-it-a-g check */
};

static void set_rodata(struct ktrace_bpf *skel, const struct ktrace_cli *cli,
		       pid_t tgid, const char *comm, const struct go_attr *ga,
		       int idx, const struct kt_probe *p)
{
	struct ktrace_bpf__rodata *ro = skel->rodata;

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
		return " (run as root, or with CAP_BPF and CAP_PERFMON; see "
		       "'gosnoop doctor')";
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

/*
 * Open, configure and load one instance with program prog_sel chosen by
 * the caller; share first's ring buffer (first is NULL for the first).
 */
static int open_load(struct kt_inst *in, const struct ktrace_cli *cli,
		     pid_t tgid, const char *comm, const struct go_attr *ga,
		     int idx, const struct kt_inst *first, const char *which,
		     const struct kt_probe *p)
{
	struct bpf_program *prog;
	int err;

	in->skel = ktrace_bpf__open();
	if (!in->skel)
		return -errno;
	set_rodata(in->skel, cli, tgid, comm, ga, idx, p);
#define PROG(name) (have_bpf_loop() ? in->skel->progs.name : \
					   in->skel->progs.name##_nl)
	if (!strcmp(which, "tracepoint"))
		prog = PROG(kt_tracepoint);
	else if (!strcmp(which, "tp_btf"))
		prog = cli->bench_prog == KT_PROG_EMPTY ?
				in->skel->progs.kt_empty :
		       cli->bench_prog == KT_PROG_RECORD_FLOOR ?
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
	err = kt_scope__configure(&cli->scope, in->skel,
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

static int store_spec(struct kt_inst *in, const struct kt_probe *p)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(in->skel->maps.spec), &zero,
				&p->spec, BPF_ANY))
		return -errno;
	return 0;
}

static struct bpf_program *loaded_prog(struct kt_inst *in)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, in->skel->obj)
		if (bpf_program__autoload(prog))
			return prog;
	return NULL;
}

static void inst_free(struct kt_inst *in)
{
	bpf_link__destroy(in->link);
	ktrace_bpf__destroy(in->skel);
	in->link = NULL;
	in->skel = NULL;
}

#define DETACH_THREADS 32

struct detacher {
	struct kt_inst *insts;
	int n, first, step;
};

static void *detach_some(void *arg)
{
	struct detacher *d = arg;

	for (int i = d->first; i < d->n; i += d->step) {
		bpf_link__destroy(d->insts[i].link);
		d->insts[i].link = NULL;
	}
	return NULL;
}

/*
 * Detach every probe. Closing a tracepoint's perf event waits for an RCU
 * grace period (~50 ms on this VM), one after another: 360 probes took
 * 18 s. Threads let the waits overlap.
 */
static void detach_all(struct kt_inst *insts, int n)
{
	struct detacher d[DETACH_THREADS];
	pthread_t tid[DETACH_THREADS];
	int nthreads = n < DETACH_THREADS ? n : DETACH_THREADS, started = 0;

	if (n <= 2) {
		d[0] = (struct detacher){ insts, n, 0, 1 };
		detach_some(&d[0]);
		return;
	}
	for (int t = 0; t < nthreads; t++)
		d[t] = (struct detacher){ insts, n, t, nthreads };
	for (int t = 0; t < nthreads; t++) {
		if (pthread_create(&tid[t], NULL, detach_some, &d[t]))
			break;
		started++;
	}
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	/* what threads could not be started for */
	for (int t = started; t < nthreads; t++)
		detach_some(&d[t]);
}

/*
 * fentry/fexit: try the trampoline for real; if the kernel refuses,
 * kprobe/kretprobe; else one line with both reasons.
 */
static int setup_func_probe(struct kt_inst *in, const struct ktrace_cli *cli,
			    pid_t tgid, const char *comm,
			    const struct go_attr *ga, int idx,
			    const struct kt_inst *first,
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
		err1 = open_load(in, cli, tgid, comm, ga, idx, first, tramp,
				 p);
		if (!err1 && !(err1 = store_spec(in, p))) {
			in->link = bpf_program__attach(loaded_prog(in));
			if (in->link)
				return 0;
			err1 = -errno;
		}
	}
	p_info("%s: %s %s: %s; trying %s", p->text, tramp,
	       forced ? "not tried (GOSNOOP_KTRACE_NO_FENTRY)" : "failed",
	       features__errno_name(err1), kp);
	inst_free(in);
	err2 = open_load(in, cli, tgid, comm, ga, idx, first, kp, p);
	if (!err2 && !(err2 = store_spec(in, p))) {
		in->link = bpf_program__attach_kprobe(loaded_prog(in),
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
	inst_free(in);
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

static int setup_probe(struct kt_inst *in, const struct ktrace_cli *cli,
		       pid_t tgid, const char *comm, const struct go_attr *ga,
		       int idx, const struct kt_inst *first,
		       struct kt_probe *p)
{
	int err;

	if (p->kind == KT_KIND_FENTRY || p->kind == KT_KIND_FEXIT)
		return setup_func_probe(in, cli, tgid, comm, ga, idx, first,
						p);
	err = open_load(in, cli, tgid, comm, ga, idx, first,
			p->kind == KT_KIND_TRACEPOINT ? "tracepoint" : "tp_btf",
			p);
	if (err) {
		p_err("%s: cannot load the BPF program: %s%s", p->text,
		      strerror(-err), load_hint(err));
		return err;
	}
	err = store_spec(in, p);
	if (err) {
		p_err("%s: cannot store the probe's ops: %s", p->text,
		      strerror(-err));
		return err;
	}
	if (p->kind == KT_KIND_TRACEPOINT)
		in->link = bpf_program__attach_tracepoint(loaded_prog(in),
							  p->cat, p->name);
	else if (loaded_prog(in) == in->skel->progs.kt_empty)
		in->link = bpf_program__attach(loaded_prog(in));
	else
		in->link = bpf_program__attach_raw_tracepoint(loaded_prog(in),
							      p->name);
	if (!in->link) {
		err = -errno;
		p_err("%s: cannot attach: %s%s", p->text, strerror(-err),
		      err == -EMFILE || err == -ENFILE ? load_hint(err) : "");
		return err;
	}
	return 0;
}

/* Goroutine attribution for the target's Go binary, if it is one. */
static void go_attr_setup(struct go_attr *ga, const struct gobin *gb,
			  const struct btf *btf, const char *btf_err)
{
	const struct gobin_layout *l;
	const struct gobin_abi_info *a;

	memset(ga, 0, sizeof(*ga));
	if (!gb)
		return;
	l = gobin__layout(gb);
	a = gobin__abi(gb);
	if (l->g_goid < 0 || l->g_startpc < 0 ||
	    a->g_access != GOBIN_G_TLS_FS) {
		p_warn("no goroutine attribution: this Go binary's g layout "
		       "or TLS slot is unknown (see 'gosnoop info')");
		return;
	}
	if (!btf) {
		p_warn("no goroutine attribution: %s", btf_err);
		return;
	}
	if (kt_btf__fsbase_offset(btf, &ga->fsbase_off)) {
		p_warn("no goroutine attribution: task_struct.thread.fsbase "
		       "not in kernel BTF");
		return;
	}
	ga->on = true;
	ga->tls_g_off = a->tls_g_offset;
	ga->goid_off = l->g_goid;
	ga->startpc_off = l->g_startpc;
	if (l->g_m > 0 && l->m_curg > 0) {
		ga->g_m_off = l->g_m;
		ga->m_curg_off = l->m_curg;
	}
	p_info("goroutines: fsbase at task+%llu, g at fsbase%+lld, goid at "
	       "g+%d, startpc at g+%d", (unsigned long long)ga->fsbase_off,
	       (long long)ga->tls_g_off, ga->goid_off, ga->startpc_off);
}

/* counted_out: -n was reached; what was lost after it does not matter */
static void report_stats(struct kt_inst *insts, int n, bool counted_out)
{
	__u64 lost = 0, bad = 0, no_g = 0;

	for (int i = 0; i < n; i++) {
		if (!insts[i].skel)
			continue;
		lost += insts[i].skel->bss->stats[KT_STAT_LOST];
		bad += insts[i].skel->bss->stats[KT_STAT_BAD_SPEC];
		no_g += insts[i].skel->bss->stats[KT_STAT_NO_G];
	}
	if (no_g)
		p_info("%llu events without a goroutine (g not readable: a "
		       "thread outside Go code, or its TLS paged out)",
		       (unsigned long long)no_g);
	if (lost && !counted_out)
		p_warn("%llu events lost (ring buffer full)",
		       (unsigned long long)lost);
	if (bad)
		p_warn("%llu events dropped: bad fetch ops (a bug)",
		       (unsigned long long)bad);
}

/* Lift RLIMIT_NOFILE's soft limit to the hard one: each probe is a
 * program with its own maps and link, ~9 descriptors. */
static void raise_fd_limit(int probes)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max ||
	    rl.rlim_cur >= (rlim_t)probes * 10 + 64)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		p_warn("cannot raise the open file limit: %s", strerror(errno));
}

/*
 * The probes the PROBE arguments name, globs expanded (in the order
 * given, each glob's matches sorted): texts[i] (owned) and the argument
 * each came from (arg_of[i], for the -o/-f after it). 0, or -errno after
 * one line.
 */
static int expand_probes(const struct ktrace_cli *cli, char ***texts,
			 int **arg_of, int *np)
{
	const struct btf *btf = NULL;
	const char *btf_err = NULL;
	char err[512];
	int n = 0;

	*texts = calloc(MAX_EXPANDED, sizeof(**texts));
	*arg_of = calloc(MAX_EXPANDED, sizeof(**arg_of));
	if (!*texts || !*arg_of)
		return -ENOMEM;
	for (int a = 0; a < cli->nprobe_args; a++) {
		const char *arg = cli->probe_args[a];
		char **names;
		size_t cnt;
		int ret;

		if (!kt_names__is_glob(arg)) {
			if (n == MAX_EXPANDED)
				goto too_many;
			(*texts)[n] = strdup(arg);
			if (!(*texts)[n])
				return -ENOMEM;
			(*arg_of)[n++] = a;
			continue;
		}
		if (!btf && !btf_err)
			btf = kt_btf(&btf_err);
		ret = kt_names__expand(arg, btf, MAX_EXPANDED - n, &names,
				       &cnt, err, sizeof(err));
		if (ret == -E2BIG)
			goto too_many;
		if (ret) {
			if (ret == -EOPNOTSUPP)
				p_err("%s: %s; tracepoint:CAT:NAME probes still "
				      "work", err, btf_err);
			else
				p_err("%s", err);
			return ret;
		}
		p_info("%s: %zu probes", arg, cnt);
		for (size_t i = 0; i < cnt; i++) {
			(*texts)[n] = names[i];
			(*arg_of)[n++] = a;
		}
		free(names);
	}
	*np = n;
	return 0;
too_many:
	p_err("the probes name more than %d kernel probes together; narrow "
	      "the globs (gosnoop list --kernel PATTERN shows what they match)",
	      MAX_EXPANDED);
	return -E2BIG;
}

/*
 * A PIE target's load bias in the process an event came from, for its
 * goroutine's start function: a PATH target has several processes, and
 * -- CMD's is known only once it runs. Looked up in /proc once per
 * process (a process gone before its events are read keeps bias 0: no
 * start function).
 */
#define BIAS_CACHE 64

static struct {
	__u32 pid[BIAS_CACHE];
	uint64_t bias[BIAS_CACHE];
	unsigned int next;
	bool per_process;	/* PIE and not a -p PID target */
} biases;

static uint64_t bias_of(const struct gobin *gb, __u32 pid)
{
	unsigned int i = biases.next % BIAS_CACHE;
	uint64_t bias = 0;

	for (unsigned int k = 0; k < BIAS_CACHE; k++)
		if (biases.pid[k] == pid)
			return biases.bias[k];
	if (target__load_bias((pid_t)pid, gb, &bias))
		bias = 0;
	biases.pid[i] = pid;
	biases.bias[i] = bias;
	biases.next++;
	return bias;
}

/*
 * -- CMD: its bias as soon as it has exec'd the target (a few ms), so
 * that events read after it exited still name start functions.
 */
static void seed_bias(const struct gobin *gb, const char *path, pid_t pid)
{
	struct stat want, exe;
	char proc[64];
	uint64_t bias;

	if (stat(path, &want))
		return;
	snprintf(proc, sizeof(proc), "/proc/%d/exe", pid);
	for (int i = 0; i < 200; i++) {
		/* until the exec, the child is a copy of gosnoop */
		if (!stat(proc, &exe) && exe.st_ino == want.st_ino &&
		    exe.st_dev == want.st_dev &&
		    !target__load_bias(pid, gb, &bias)) {
			biases.pid[0] = (__u32)pid;
			biases.bias[0] = bias;
			biases.next = 1;
			return;
		}
		usleep(5000);
	}
}

/* One event printed: a write(2) may end here (record_out.h). */
static int on_record(void *ctx, void *data, size_t size)
{
	struct kt_out_ctx *oc = ctx;
	const struct kt_event *ev = data;
	int ret;

	if (biases.per_process && size >= KT_EVENT_HDR_SIZE &&
	    (ev->flags & KT_EV_GOID))
		oc->bias = bias_of(oc->gb, ev->tgid);
	ret = kt_out__record(ctx, data, size);

	record_out__end();
	return ret;
}

int do_ktrace(int argc, char **argv)
{
	struct ktrace_cli cli = {};
	struct kt_probe **probes = NULL;
	struct kt_inst *insts = NULL;
	char **texts = NULL;
	int *arg_of = NULL;
	struct kt_out_ctx oc = {};
	struct gobin *gb = NULL;
	struct go_attr ga = {};
	struct rb_reader *rb = NULL;
	struct launch l = { .pid = -1, .go_fd = -1 };
	const struct btf *btf = NULL;
	const char *btf_err = NULL, *comm = NULL;
	char tracefs[256] = "", gerr[256], basename_comm[16];
	uint64_t deadline = 0;
	bool need_btf = false, need_tracefs = false, launched = false;
	pid_t tgid = 0;
	int ret = EXIT_OK, err = 0, np = 0;

	record_out__init();
	ret = parse_args(argc, argv, &cli);
	if (ret)
		return ret > 0 ? EXIT_OK : ret;
	err = expand_probes(&cli, &texts, &arg_of, &np);
	if (!err) {
		probes = calloc(np, sizeof(*probes));
		insts = calloc(np, sizeof(*insts));
		if (!probes || !insts)
			err = -ENOMEM;
	}
	if (err) {
		if (err == -ENOMEM)
			p_err("out of memory");
		ret = exit_code_for(err);
		np = 0;
		goto out;
	}
	raise_fd_limit(np);
	for (int i = 0; i < np; i++) {
		char perr[256];

		err = kt_probe__parse(texts[i], &probes[i], perr,
				      sizeof(perr));
		if (err) {
			p_err("%s", perr);
			ret = EXIT_USAGE;
			goto out;
		}
		if (probes[i]->kind == KT_KIND_TRACEPOINT)
			need_tracefs = true;
		else
			need_btf = true;
	}
	btf = kt_btf(&btf_err);
	if (need_btf && !btf) {
		for (int i = 0; i < np; i++)
			if (probes[i]->kind != KT_KIND_TRACEPOINT) {
				p_err("%s: needs kernel BTF: %s; tracepoint:"
				      "CAT:NAME probes still work",
				      probes[i]->text, btf_err);
				break;
			}
		ret = EXIT_NOKERNEL;
		goto out;
	}
	if (need_tracefs) {
		err = tracefs__ensure_mounted(tracefs, sizeof(tracefs));
		if (err) {
			p_err("tracepoints need tracefs: %s",
			      tracefs__strerror(err));
			ret = EXIT_NOKERNEL;
			goto out;
		}
	}
	for (int i = 0; i < np; i++) {
		err = prepare_probe(&cli, arg_of[i], probes[i], btf, tracefs,
				    np > 1);
		if (err) {
			ret = exit_code_for(err);
			goto out;
		}
	}

	/* The target: whose events, and which Go binary explains them. */
	if (cli.path_arg || cli.pid || cli.t.cmd_argv) {
		err = target__resolve(&cli.t, cli.path_arg, cli.pid);
		if (err) {
			ret = exit_code_for(err);
			goto out;
		}
		err = gobin__open(cli.t.path, &gb, gerr, sizeof(gerr));
		if (err) {
			/* Kernel events of any program are fine; only the
			 * goroutine columns need Go. */
			p_info("%s: not a Go program (%s): no goroutines",
			       cli.t.display, gerr);
			gb = NULL;
		}
		go_attr_setup(&ga, gb, btf, btf_err);
	}
	comm = cli.comm;
	if (cli.t.kind == TARGET_PATH && !comm) {
		/* The kernel's comm: the file name, cut to 15 bytes. */
		const char *b = strrchr(cli.t.path, '/');

		snprintf(basename_comm, sizeof(basename_comm), "%.15s",
			 b ? b + 1 : cli.t.path);
		comm = basename_comm;
	}
	if (cli.t.kind == TARGET_PID) {
		tgid = cli.t.pid;
		if (gb && target__load_bias(tgid, gb, &oc.bias))
			oc.bias = 0;
	} else if (gb && gobin__elf(gb)->pie) {
		biases.per_process = true;
	}
	err = kt_scope__prepare(&cli.scope, cli.t.kind == TARGET_CMD,
				cli.t.kind == TARGET_PID, ga.on, gb, cli.t.path,
				btf);
	if (err) {
		ret = exit_code_for(err);
		goto out;
	}
	if (cli.t.kind == TARGET_CMD) {
		err = launch__start(&l, cli.t.path, cli.t.cmd_argv);
		if (err) {
			p_err("cannot start %s: %s", cli.t.display,
			      strerror(-err));
			ret = EXIT_FAIL;
			goto out;
		}
		launched = true;
		tgid = l.pid;
	}

	oc.t0_ns = mono_ns();
	for (int i = 0; i < np; i++) {
		err = setup_probe(&insts[i], &cli, tgid, comm, &ga, i,
				  i ? &insts[0] : NULL,
				  probes[i]);
		if (err) {
			ret = exit_code_for(err);
			if (ret == EXIT_USAGE)
				ret = EXIT_FAIL;
			if (err == -EOPNOTSUPP || err == -EPERM)
				ret = EXIT_NOKERNEL;
			goto out;
		}
		p_info("%s: attached (%s)", probes[i]->text, insts[i].how);
	}
	if (np && kt_scope__start(&cli.scope, insts[0].skel, tgid)) {
		ret = EXIT_FAIL;
		goto out;
	}

	oc.f = stdout;
	oc.json = json_output;
	oc.probes = probes;
	oc.nprobes = np;
	oc.btf = btf;
	oc.gb = gb;
	oc.max = cli.max_events;
	rb = rb_reader__new(bpf_map__fd(insts[0].skel->maps.events),
			    on_record, &oc);
	if (!rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(-err));
		ret = EXIT_FAIL;
		goto out;
	}
	session__catch_stop_signals();
	if (cli.duration > 0)
		deadline = mono_ns() + (uint64_t)(cli.duration * 1e9);
	if (launched) {
		err = launch__release(&l);
		if (err) {
			p_err("cannot start %s: %s", cli.t.display,
			      strerror(-err));
			ret = EXIT_FAIL;
			goto out;
		}
		if (biases.per_process)
			seed_bias(gb, cli.t.path, l.pid);
	}
	/* On stderr in both modes: tests wait for it before they act. */
	fprintf(stderr, "%s: tracing %d probe%s%s\n", prog_name, np,
			np > 1 ? "s" : "",
			cli.duration > 0 || cli.max_events ? ""
							   : "; Ctrl-C to stop");
	fflush(stdout);
	fflush(stderr);
	while (!session_stop_signal) {
		int n = rb_reader__poll(rb, POLL_MS);

		if (record_out__reader_gone())
			break;
		if (n < 0 && n != -EINTR) {
			p_err("reading the ring buffer: %s", strerror(-n));
			ret = EXIT_FAIL;
			break;
		}
		if (cli.max_events && oc.count >= cli.max_events)
			break;
		if (deadline && mono_ns() >= deadline)
			break;
		if (launched && launch__reap(&l, false) == 1)
			break;
		if (cli.t.kind == TARGET_PID && !target__pid_alive(cli.t.pid))
			break;
	}
	if (np > 50)	/* ~25-50 ms each for tracepoints (detach_all) */
		fprintf(stderr, "%s: detaching %d probes\n", prog_name, np);
	detach_all(insts, np);
	if (!cli.max_events || oc.count < cli.max_events)
		rb_reader__drain(rb);
	fflush(stdout);
	report_stats(insts, np, cli.max_events && oc.count >= cli.max_events);
	if (launched && ret == EXIT_OK)
		ret = launch__finish(&l, session_stop_signal);
out:
	rb_reader__free(rb);
	kt_scope__free(&cli.scope);
	detach_all(insts, np);
	for (int i = np - 1; i >= 0; i--)
		inst_free(&insts[i]);
	if (launched && !l.reaped)	/* an error: CMD must not outlive us */
		launch__finish(&l, 0);
	for (int i = 0; i < np; i++)
		kt_probe__free(probes[i]);
	for (int i = 0; texts && i < MAX_EXPANDED; i++)
		free(texts[i]);
	free(probes);
	free(insts);
	free(texts);
	free(arg_of);
	gobin__free(gb);
	return ret;
}
