// SPDX-License-Identifier: MIT
/*
 * gosnoop ktrace: kernel tracepoints, tp_btf events and kernel functions,
 * decoded with their types, and each event tied to the goroutine that
 * caused it.
 *
 * On the session pipeline (session.h): parse probes, globs expanded
 * (ktrace_expand.c) -> fields (tracefs) / typed args (BTF) -> compile
 * --filter and -o into fetch ops -> [target, fork CMD, held] -> one
 * skeleton instance per probe (ktrace_inst.c): open, set rodata (pid/comm
 * filter, g offsets), turn on one program, share the first instance's
 * ring buffer, load, store the spec, attach; fentry/fexit fall back to
 * kprobes (ktrace_func.c) -> [release CMD] -> poll, print (ktrace_out.c)
 * until Ctrl-C / -d / -n / the traced process ends -> detach, in threads
 * (ktrace_detach.c). A PIE's load bias per process: ktrace_bias.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "common.h"
#include "gobin/gobin.h"
#include "ktrace_bias.h"
#include "ktrace_expand.h"
#include "ktrace_inst.h"
#include "ktrace_names.h"
#include "ktrace_out.h"
#include "ktrace_probe.h"
#include "ktrace_scope.h"
#include "probe/features.h"
#include "launch.h"
#include "progress.h"
#include "options.h"
#include "record_out.h"
#include "session.h"
#include "ringbuf_reader.h"
#include "probe/tracefs.h"
#include "bpf/ktrace.skel.h"
#include "target.h"

#define MAX_PROBES 32		/* PROBE arguments */
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
	/* bench/ktrace.py's yardsticks (ktrace_inst.h) */
	enum kt_bench_prog bench_prog;
	struct kt_scope scope;	/* --follow, --goid, --goroutine-func, --stack */
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
		"                       'ntohs(...)', 'errno(ret)', 'str(p)',\n"
		"                       '(struct sock *)arg0', '(u32)x'\n"
		"  -o/-f before the first PROBE apply to every probe; after a\n"
		"  PROBE, to that probe only (both filters must hold).\n"
		"  -F, --follow         also what the target forks (default for\n"
		"                       -- CMD; --no-follow: only CMD itself)\n"
		"  --goid N[,N...]      only events of these goroutines\n"
		"  --goroutine-func PATTERN  only goroutines started with a\n"
		"                       function matching PATTERN (a glob)\n"
		"  --stack              the kernel stack and the user (Go) stack\n"
		"  -d, --duration SECS  stop after SECS seconds\n"
		"  -n, --count N        stop after N events\n"
		"  -v, --verbose        more detail (twice: libbpf debug)\n"
		"Exit: 2 bad probe or expression, 3 the kernel cannot do it.\n",
		prog_name, KT_MAX_EXPANDED);
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
		if (!*arg) {	/* an empty filter would filter nothing */
			p_err("bad --comm '': give a process name (what ps -o comm prints)");
			return -EINVAL;
		}
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
	bool priv;

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
	/* a tracefs file root may read only is a missing privilege (3):
	 * say the way out */
	priv = ret == -EACCES || ret == -EPERM;
	/* with several probes, say which one the expression failed on */
	if (name_it && err[0])
		p_err("%s: %s%s", p->text, err, priv ? " (" PRIV_HINT ")" : "");
	else
		p_err("%s%s", err[0] ? err : strerror(-ret),
		      priv ? " (" PRIV_HINT ")" : "");
	return ret == -ENOMEM || priv ? ret : -EINVAL;
}
















/* Goroutine attribution for the target's Go binary, if it is one. */
static void go_attr_setup(struct kt_go_attr *ga, const struct gobin *gb,
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





/* One ktrace session: s->ctx. */
struct ktrace_state {
	struct ktrace_cli *cli;
	char **texts;		/* the probes, globs expanded */
	int *arg_of;		/* the PROBE argument each came from */
	int np;
	struct kt_probe **probes;
	struct kt_inst *insts;
	struct kt_inst_cfg cfg;
	const struct btf *btf;
	const char *btf_err;
	char tracefs[256];
	char basename_comm[16];
	struct kt_out_ctx oc;
	struct kt_bias bias;
	struct rb_reader *rb;
};

/* One event printed: a write(2) may end here (record_out.h). */
static int on_record(void *ctx, void *data, size_t size)
{
	struct ktrace_state *st = ctx;
	const struct kt_event *ev = data;
	int ret;

	if (st->bias.per_process && size >= KT_EVENT_HDR_SIZE &&
	    (ev->flags & KT_EV_GOID))
		st->oc.bias = kt_bias__of(&st->bias, st->oc.gb, ev->tgid);
	ret = kt_out__record(&st->oc, data, size);

	record_out__end();
	return ret;
}

/* The PROBE arguments, globs expanded, parsed. */
static int parse_probes(struct session *s)
{
	struct ktrace_state *st = s->ctx;
	struct ktrace_cli *cli = st->cli;
	int err;

	err = kt_expand__probes(cli->probe_args, cli->nprobe_args,
				&st->texts, &st->arg_of, &st->np);
	if (!err) {
		st->probes = calloc(st->np, sizeof(*st->probes));
		st->insts = calloc(st->np, sizeof(*st->insts));
		if (!st->probes || !st->insts)
			err = -ENOMEM;
	}
	if (err) {
		if (err == -ENOMEM)
			p_err("out of memory");
		st->np = 0;
		return err;
	}
	raise_fd_limit(st->np);
	for (int i = 0; i < st->np; i++) {
		char perr[256];

		err = kt_probe__parse(st->texts[i], &st->probes[i], perr,
				      sizeof(perr));
		if (err) {
			p_err("%s", perr);
			return err == -ENOMEM ? err : -EINVAL;	/* bad probe */
		}
	}
	return 0;
}

/* What the probes need of the kernel: BTF, tracefs. */
static int check_kernel(struct session *s)
{
	struct ktrace_state *st = s->ctx;
	bool need_btf = false, need_tracefs = false;
	int err;

	for (int i = 0; i < st->np; i++) {
		if (st->probes[i]->kind == KT_KIND_TRACEPOINT)
			need_tracefs = true;
		else
			need_btf = true;
	}
	st->btf = kt_btf(&st->btf_err);
	if (need_btf && !st->btf) {
		for (int i = 0; i < st->np; i++)
			if (st->probes[i]->kind != KT_KIND_TRACEPOINT) {
				p_err("%s: needs kernel BTF: %s; tracepoint:"
				      "CAT:NAME probes still work",
				      st->probes[i]->text, st->btf_err);
				break;
			}
		return -EOPNOTSUPP;
	}
	if (need_tracefs) {
		err = tracefs__ensure_mounted(st->tracefs, sizeof(st->tracefs));
		if (err) {
			p_err("tracepoints need tracefs: %s",
			      tracefs__strerror(err));
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* session prepare: probes, their fields or args, their expressions;
 * all before the target. */
static int prepare(struct session *s)
{
	struct ktrace_state *st = s->ctx;
	int err;

	err = parse_probes(s);
	if (!err)
		err = check_kernel(s);
	for (int i = 0; !err && i < st->np; i++)
		err = prepare_probe(st->cli, st->arg_of[i], st->probes[i],
				    st->btf, st->tracefs, st->np > 1);
	return err;
}

/* session plan: whose events (comm, pid), goroutines, --follow ... */
static int plan(struct session *s)
{
	struct ktrace_state *st = s->ctx;
	struct ktrace_cli *cli = st->cli;

	go_attr_setup(&st->cfg.ga, s->gb, st->btf, st->btf_err);
	st->cfg.comm = cli->comm;
	if (s->t->kind == TARGET_PATH && !st->cfg.comm) {
		/* The kernel's comm: the file name, cut to 15 bytes. */
		const char *b = strrchr(s->t->path, '/');

		snprintf(st->basename_comm, sizeof(st->basename_comm), "%.15s",
			 b ? b + 1 : s->t->path);
		st->cfg.comm = st->basename_comm;
	}
	if (s->t->kind == TARGET_PID) {
		if (s->gb && target__load_bias(s->t->pid, s->gb, &st->oc.bias))
			st->oc.bias = 0;
	} else if (s->gb && gobin__elf(s->gb)->pie) {
		st->bias.per_process = true;
	}
	return kt_scope__prepare(&cli->scope, s->t->kind == TARGET_CMD,
				 s->t->kind == TARGET_PID || st->cfg.comm,
				 st->cfg.ga.on, s->gb, s->t->path, st->btf);
}

/* Each probe is opened, loaded and attached in one go (a refused fentry
 * falls back to a kprobe: ktrace_func.c). */
static int attach_probes(struct session *s)
{
	struct ktrace_state *st = s->ctx;
	struct progress *pg;
	int err;

	st->cfg.tgid = s->attach_pid;
	st->cfg.bench_prog = st->cli->bench_prog;
	st->cfg.scope = &st->cli->scope;
	st->oc.t0_ns = mono_ns();
	/* hundreds of probes take seconds (~125 ms each here) */
	pg = progress__start("attaching", "probes", st->np);
	for (int i = 0; i < st->np; i++) {
		err = kt_inst__setup(&st->insts[i], &st->cfg, i,
				     i ? &st->insts[0] : NULL, st->probes[i]);
		progress__add(pg, 1);
		if (err) {
			progress__end(pg);
			/* the probe was checked when prepared: a refusal
			 * now is the kernel's (3) or a failure (1), never
			 * bad input */
			return exit_code_for(err) == EXIT_USAGE ? -EIO : err;
		}
		p_info("%s: attached (%s)", st->probes[i]->text,
		       st->insts[i].how);
	}
	progress__end(pg);
	if (st->np && kt_scope__start(&st->cli->scope, st->insts[0].skel,
				      s->attach_pid))
		return -EIO;
	return 0;
}

/* session attach: the probes, then the printer and its ring buffer. */
static int attach(struct session *s)
{
	struct ktrace_state *st = s->ctx;
	int err;

	err = attach_probes(s);
	if (err)
		return err;
	st->oc.f = stdout;
	st->oc.json = json_output;
	st->oc.probes = st->probes;
	st->oc.nprobes = st->np;
	st->oc.btf = st->btf;
	st->oc.gb = s->gb;
	st->oc.bias_from_event = st->cli->scope.bias_from_event;
	st->oc.exec_vaddr = st->cli->scope.exec_vaddr;
	st->oc.max = st->cli->max_events;
	st->rb = rb_reader__new(bpf_map__fd(st->insts[0].skel->maps.events),
				on_record, st);
	if (!st->rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

static void released(struct session *s)
{
	struct ktrace_state *st = s->ctx;

	if (s->launched && st->bias.per_process)
		kt_bias__seed(&st->bias, s->gb, s->t->path, s->launch.pid);
	/* On stderr in both modes: tests wait for it before they act. */
	fprintf(stderr, "%s: tracing %d probe%s%s\n", prog_name, st->np,
		st->np > 1 ? "s" : "",
		s->duration > 0 || st->cli->max_events ? ""
						       : "; Ctrl-C to stop");
	record_out__flush();
	fflush(stderr);
}

static int poll_events(struct session *s, int timeout_ms)
{
	struct ktrace_state *st = s->ctx;

	return rb_reader__poll(st->rb, timeout_ms);
}

/* -n N events printed */
static bool counted_out(struct session *s)
{
	struct ktrace_state *st = s->ctx;

	return st->cli->max_events && st->oc.count >= st->cli->max_events;
}

static void detach(struct session *s)
{
	struct ktrace_state *st = s->ctx;

	if (st->np > 50)	/* ~25-50 ms each for tracepoints */
		fprintf(stderr, "%s: detaching %d probes\n", prog_name,
			st->np);
	kt_inst__detach_all(st->insts, st->np);
}

static int finish(struct session *s)
{
	struct ktrace_state *st = s->ctx;

	if (!counted_out(s))
		rb_reader__drain(st->rb);
	record_out__flush();
	report_stats(st->insts, st->np, counted_out(s));
	kt_scope__report(&st->cli->scope, st->np ? st->insts[0].skel : NULL);
	return 0;
}

static void destroy(struct session *s)
{
	struct ktrace_state *st = s->ctx;

	rb_reader__free(st->rb);
	kt_out__free();
	kt_scope__free(&st->cli->scope);
	kt_inst__detach_all(st->insts, st->np);
	for (int i = st->np - 1; i >= 0; i--)
		kt_inst__free(&st->insts[i]);
	for (int i = 0; st->probes && i < st->np; i++)
		kt_probe__free(st->probes[i]);
	for (int i = 0; st->texts && i < KT_MAX_EXPANDED; i++)
		free(st->texts[i]);
	free(st->probes);
	free(st->insts);
	free(st->texts);
	free(st->arg_of);
}

static const struct session_ops ktrace_ops = {
	.verb = "ktrace",
	.prepare = prepare,
	.plan = plan,
	.attach = attach,
	.released = released,
	.poll = poll_events,
	.done = counted_out,
	.detach = detach,
	.finish = finish,
	.destroy = destroy,
};

int do_ktrace(int argc, char **argv)
{
	struct ktrace_cli cli = {};
	struct ktrace_state st = { .cli = &cli };
	struct session s = { .ops = &ktrace_ops, .ctx = &st };
	int ret;

	record_out__init();
	ret = parse_args(argc, argv, &cli);
	if (ret)
		return ret > 0 ? EXIT_OK : ret;
	s.t = &cli.t;
	s.path_arg = cli.path_arg;
	s.pid = cli.pid;
	s.target_optional = true;
	s.gobin = SESSION_GOBIN_IF_GO;
	s.duration = cli.duration;
	return session__run(&s);
}
