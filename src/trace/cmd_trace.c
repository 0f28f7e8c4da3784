// SPDX-License-Identifier: MIT
/*
 * gosnoop trace: one line per Go function call when it returns, with its
 * arguments and results decoded from DWARF types (raw ABI words when the
 * binary is stripped), goroutine id and duration.
 *
 * Sites come from funcprobe (the entry probe point, usually the emulated
 * stack-check JBE, and every RET: never uretprobes); src/bpf/trace.bpf.c
 * copies arguments at the entry and results at the RET, pairs them per
 * goroutine frame and sends one record per call on a ring buffer;
 * src/trace_decode.c turns records back into Go values.
 *
 * The life cycle is session.c's (target, funcprobe plan and attach,
 * launch, the loop); this file brings the plan of each function's values,
 * the skeleton and the ring buffer's printer as session callbacks.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "pattern.h"
#include "probe/funcprobe.h"
#include "launch.h"
#include "options.h"
#include "overhead.h"
#include "record_out.h"
#include "session.h"
#include "ringbuf_reader.h"
#include "trace_filter.h"
#include "target.h"
#include "trace_decode.h"
#include "trace_folded.h"
#include "pprof.h"
#include "trace_pprof.h"
#include "trace_set.h"
#include "trace_set_check.h"
#include "trace_unwind.h"
#include <linux/types.h>
#include "bpf/funcs.h"
#include "bpf/trace.h"
#include "bpf/trace.skel.h"

struct trace_cli {
	struct target t;
	pid_t pid;
	const char *path_arg;
	char **pats;
	int pat_cnt;
	double duration;
	uint32_t max_string;
	uint64_t min_ns;
	bool has_goid;
	uint64_t goid;
	bool classic;
	bool probe_entry;	/* --probe-entry */
	double max_overhead;	/* --max-overhead PCT; 0: warn only */
	struct overhead_keep keep;	/* --keep PATTERN... */
	const char *set_arg;
	struct trace_set set;	/* --set, parsed */
	bool allow_write;
	bool stack;		/* --stack */
	const char *outs[TR_NOUT];	/* -o EXPR */
	int nout;
	const char *folded;	/* --folded FILE */
	const char *pprof;	/* --pprof FILE */
	/* --filter EXPR (each one ANDed with the others) */
	struct trace_filter filter;
};

struct trace_state {
	struct trace_cli *cli;
	struct gobin *gb;
	struct funcprobe *fp;
	struct trace_bpf *skel;
	struct tr_plan *plans;
	size_t nplans;
	struct tr_out out;
	uint64_t printed;
	uint64_t unwound;	/* calls reported as unwound */
	struct tr_unwind *unwind;	/* RETs per goroutine */
	struct tr_folded folded;	/* --folded: stack -> calls */
	struct tr_pprof *pprof;		/* --pprof: calls, time per stack */
	uint64_t pprof_start_ns;
	uint64_t pprof_lost;
	struct bpf_program *prog;	/* tr_call, or tr_call_set (--set) */
	struct tr_set *sets;	/* --set: per function (nplans) */
	bool set_regs, set_mem;	/* --set: where this kernel may write */
	bool r14;		/* g in R14, else in the TLS slot */
	struct rb_reader *rb;
	struct overhead *ovh;	/* the overhead budget, or NULL */
};


static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s trace [OPTIONS] TARGET PROBE...\n"
		"TARGET: PATH (every process running it) | -p PID | -- CMD ARGS\n"
		"        (with -p or --, every argument before '--' is a PROBE)\n"
		"One line per Go function call when it returns: goroutine,\n"
		"arguments and results (typed from DWARF; raw ABI words when\n"
		"stripped), duration. Returns are probed at every RET.\n\n"
		"  -j, --json             {\"type\":\"call\",\"ts_ns\":N,\"pid\":N,\"tid\":N,\n"
		"                         \"goid\":N,\"func\":...,\"args\":{...},\"ret\":{...},\n"
		"                         \"dur_ns\":N}; stripped: \"raw_args\"/\"raw_ret\"\n"
		"  -p, --pid PID          only this process\n"
		"  -d, --duration SECS    stop after SECS seconds\n"
		"      --max-string N     bytes of string/slice contents (default 64,\n"
		"                         at most %d)\n"
		"      --min-latency DUR  only calls lasting DUR or more (in the\n"
		"                         kernel): 500us, 2ms, 1s, 100ns\n"
		"      --goid N           only calls made by goroutine N\n"
		"      --filter EXPR      only calls for which EXPR holds (in the\n"
		"                         kernel): comparisons ARG OP INT (== != <\n"
		"                         <= > >=), 'ARG == \"TEXT\"', 'ARG != \"TEXT\"'\n"
		"                         (strings up to %d bytes), goid OP N, pid OP N,\n"
		"                         joined by && || ! ( ) true false; at most 6\n"
		"                         different comparisons; several --filter\n"
		"                         options all must hold; stripped: arg0,\n"
		"                         arg1... (ABI words); a function without ARG:\n"
		"                         that comparison is false\n"
		"  -o, --output EXPR      one more value per call (up to %d): ARG,\n"
		"                         ARG.FIELD, (*ARG).FIELD, ARG[N], len(ARG),\n"
		"                         cap(ARG) (maps, channels too); pointers\n"
		"                         followed in the kernel to integers, strings\n"
		"                         and slices ('p.X', 'r.URL.RawQuery');\n"
		"                         stripped: string(argN), ABI words N, N+1\n"
		"      --stack            the Go stack at each call (frame pointers,\n"
		"                         inlined frames from pclntab)\n"
		"      --folded FILE      write the stacks with call counts to FILE\n"
		"                         in FlameGraph's folded format (calls are\n"
		"                         not printed unless --stack)\n"
		"      --pprof FILE       write calls and time per Go stack to FILE\n"
		"                         for go tool pprof (calls are not printed\n"
		"                         unless --stack)\n"
		"      --set ARG=VALUE --allow-write\n"
		"                         overwrite an integer, bool or pointer\n"
		"                         argument at each call's entry (on the\n"
		"                         stack: bpf_probe_write_user, refused under\n"
		"                         lockdown; in a register: kernels that let\n"
		"                         uprobe programs write registers)\n"
		"      --classic-uprobes  one classic uprobe per site\n"
		"      --max-overhead PCT keep the probes' estimated cost under PCT%%\n"
		"                         of the program's CPU time: the costliest\n"
		"                         functions go off (JSON \"throttled\");\n"
		"                         default: warn above 5%%\n"
		"      --keep PATTERN     never throttle the functions PATTERN\n"
		"                         matches (repeatable): their cost still\n"
		"                         counts, the others make room\n"
		"      --probe-entry      entry probes on first instructions\n"
		"                         (single-stepped, as bpftrace; for comparisons)\n"
		"  -v, --verbose          probe sites, counters at exit\n"
		"PROBE: a Go function name or shell glob ('main.*').\n"
		"Calls still running when tracing ends are printed as such\n"
		"(\"type\":\"running\"); calls a panic or runtime.Goexit abandoned\n"
		"as unwound (\"type\":\"unwound\"). With -- CMD, exits with CMD's status.\n",
		prog_name, TR_STR_CAP, TR_FILT_STR_MAX, TR_NOUT);
}

static int parse_dur_ns(const char *s, uint64_t *out)
{
	static const struct { const char *u; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || v > 1e6)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].u)) {
			*out = (uint64_t)(v * units[i].mul);
			return 0;
		}
	}
	return -EINVAL;
}

enum { OPT_MAXSTR = 256, OPT_MINLAT, OPT_GOID, OPT_CLASSIC, OPT_SET,
       OPT_MAX_OVERHEAD,
       OPT_ALLOW_WRITE, OPT_FILTER, OPT_STACK, OPT_FOLDED, OPT_PROBE_ENTRY,
       OPT_PPROF, OPT_KEEP };

/* trace's own options (options.h handles the shared). */
static int trace_option(int code, char *arg, void *ctx)
{
	struct trace_cli *cli = ctx;
	unsigned long long goid;
	char *end, why[160];
	long long n;

	switch (code) {
	case 'o':
		if (cli->nout >= TR_NOUT) {
			p_err("at most %d -o expressions", TR_NOUT);
			return -EINVAL;
		}
		cli->outs[cli->nout++] = arg;
		return 0;
	case OPT_MAXSTR:
		errno = 0;
		n = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || n < 0 || n > TR_STR_CAP) {
			p_err("bad --max-string '%s': give 0..%d bytes",
			      arg, TR_STR_CAP);
			return -EINVAL;
		}
		cli->max_string = (uint32_t)n;
		return 0;
	case OPT_MINLAT:
		if (parse_dur_ns(arg, &cli->min_ns)) {
			p_err("bad --min-latency '%s': give a duration with its unit, e.g. 500us, 2ms, 1s",
			      arg);
			return -EINVAL;
		}
		return 0;
	case OPT_GOID:
		if (parse_uint(arg, &goid)) {
			p_err("bad --goid '%s': give a goroutine id", arg);
			return -EINVAL;
		}
		cli->goid = goid;
		cli->has_goid = true;
		return 0;
	case OPT_CLASSIC:
		cli->classic = true;
		return 0;
	case OPT_PROBE_ENTRY:
		cli->probe_entry = true;
		return 0;
	case OPT_MAX_OVERHEAD:
		return overhead__parse_pct(arg, &cli->max_overhead);
	case OPT_KEEP:
		return overhead__add_keep(&cli->keep, arg);
	case OPT_SET:
		cli->set_arg = arg;
		return 0;
	case OPT_ALLOW_WRITE:
		cli->allow_write = true;
		return 0;
	case OPT_STACK:
		cli->stack = true;
		return 0;
	case OPT_FOLDED:
		cli->folded = arg;
		return opts__output_file("--folded", arg);
	case OPT_PPROF:
		cli->pprof = arg;
		return opts__output_file("--pprof", arg);
	case OPT_FILTER:
		if (trace_filter__add(&cli->filter, arg, why, sizeof(why))) {
			p_err("bad --filter '%s': %s; give comparisons ARG OP INT (OP: == != < <= > >=), ARG == \"TEXT\", ARG != \"TEXT\", goid or pid OP N, joined by && || ! ( ) true false, at most %d different ones",
			      arg, why, TR_FILT_ATOMS);
			return -EINVAL;
		}
		return 0;
	default:
		return -ENOENT;
	}
}

static int parse_args(int argc, char **argv, struct trace_cli *cli)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "max-string", required_argument, NULL, OPT_MAXSTR },
		{ "min-latency", required_argument, NULL, OPT_MINLAT },
		{ "goid", required_argument, NULL, OPT_GOID },
		{ "classic-uprobes", no_argument, NULL, OPT_CLASSIC },
		{ "max-overhead", required_argument, NULL, OPT_MAX_OVERHEAD },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "probe-entry", no_argument, NULL, OPT_PROBE_ENTRY },
		{ "set", required_argument, NULL, OPT_SET },
		{ "allow-write", no_argument, NULL, OPT_ALLOW_WRITE },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "stack", no_argument, NULL, OPT_STACK },
		{ "folded", required_argument, NULL, OPT_FOLDED },
		{ "pprof", required_argument, NULL, OPT_PPROF },
		{}
	};
	const struct opts_spec spec = {
		.verb = "trace", .usage = usage,
		.target = &cli->t, .pid = &cli->pid, .duration = &cli->duration,
		.own_short = "o:", .own_long = opts, .own = trace_option,
		.ctx = cli,
	};
	int err;

	cli->max_string = 64;
	err = opts__parse_patterns(&spec, argc, argv,
				   "no PROBE: name the functions to trace, e.g. 'main.*'",
				   &cli->path_arg, &cli->pats, &cli->pat_cnt);
	if (!err)
		err = overhead__check_keep(&cli->keep, cli->max_overhead);
	if (err)
		return err;
	if (cli->set_arg && !cli->allow_write) {
		p_err("--set writes into the traced program: add --allow-write to confirm");
		return -EINVAL;
	}
	if (cli->set_arg) {
		char why[160];

		if (trace_set__parse(cli->set_arg, &cli->set, why, sizeof(why))) {
			p_err("bad --set '%s': %s", cli->set_arg, why);
			return -EINVAL;
		}
	}
	return 0;
}


static void arg_needs(const struct gobin *gb, const struct gobin_func *f,
		      int *nregs, int32_t *stack_args, void *ctx)
{
	struct tr_plan p;

	if (trace_plan__build(gb, f, &p))
		return;
	*nregs = p.nregs;
	*stack_args = p.stack_args;
	trace_plan__free(&p);
}

/*
 * The load bias of e's process (PIE: symbolizing type and code pointers)
 * from where its entry site was mapped, not from /proc/PID/maps: records
 * are read in batches, often after a short-lived process exited.
 */
static void set_bias(struct trace_state *st, const struct tr_event *e)
{
	const struct fp_func *ff = funcprobe__func(st->fp, e->fid);

	st->out.bias = 0;
	/* a stripped PIE has no syms, but its stacks need the bias too */
	if ((st->out.syms || st->out.gb) && gobin__elf(st->gb)->pie && ff &&
	    e->entry_ip)
		st->out.bias = e->entry_ip - ff->entry_site;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct trace_state *st = ctx;
	static struct tr_event ev;	/* records come without unused
					   string slots: complete them */
	const struct tr_event *e = &ev;
	const struct fp_func *ff;

	if (len < offsetof(struct tr_event, str) || len > sizeof(ev))
		return 0;
	memcpy(&ev, data, len);
	memset((char *)&ev + len, 0, sizeof(ev) - len);
	if (e->fid >= st->nplans)
		return 0;
	ff = funcprobe__func(st->fp, e->fid);
	set_bias(st, e);
	if (e->ts_ret)
		trace_unwind__ret(st->unwind, e->pid, e->g, e->ts_ret,
				  e->frame_off);
	else
		st->unwound++;	/* only unwound calls come unfinished */
	if (!(st->cli->folded || st->cli->pprof) || st->cli->stack) {
		trace_print(&st->out, &st->plans[e->fid], ff ? ff->name : "?",
			    e);
		record_out__end();
	}
	if (st->cli->folded) {
		static char key[8192];

		if (trace_folded_stack(&st->out, ff ? ff->name : "?", e, key,
				       sizeof(key)))
			trace_folded__add(&st->folded, key,
					  e->ts_ret ? e->ts_ret - e->ts_entry
						    : 0);
	}
	if (st->pprof && ff && ff->f &&
	    trace_pprof__add(st->pprof, &st->out, ff->f->entry, e))
		st->pprof_lost++;
	st->printed++;
	return 0;
}

/* Calls whose RET never came while we watched: still running, or
 * unwound when their goroutine has since returned from a shallower
 * frame (trace_unwind.h). Oldest first would need a sort: map order. */
static void print_running(struct trace_state *st, pid_t only)
{
	int fd = bpf_map__fd(st->skel->maps.open_calls);
	struct tr_key key, next, *prev = NULL;
	struct tr_event e;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e))
			continue;
		if (only > 0 && e.pid != (uint32_t)only)
			continue;
		if (e.fid >= st->nplans)
			continue;
		e.ts_ret = 0;
		if (trace_unwind__gone(st->unwind, e.pid, e.g, e.ts_entry,
				       e.frame_off)) {
			e.flags |= TR_EV_UNWOUND;
			st->unwound++;
		}
		set_bias(st, &e);
		trace_print(&st->out, &st->plans[e.fid],
			    funcprobe__func(st->fp, e.fid)->name, &e);
		record_out__end();
	}
}

/* How the probe finds the current goroutine: R14 (register ABI) or the
 * TLS slot. 0, or -EPROTONOSUPPORT after one line. */
static int find_g(struct trace_state *st)
{
	const struct gobin_abi_info *abi = gobin__abi(st->gb);
	const struct gobin_layout *l = gobin__layout(st->gb);
	const char *display = st->cli->t.display;

	if (l->g_goid < 0 || l->g_stack_hi < 0) {
		p_err("%s: runtime.g layout unknown (no DWARF and no table row for %s): goroutines cannot be told apart",
		      display, gobin__go_version(st->gb) ?: "this Go release");
		return -EPROTONOSUPPORT;
	}
	if (abi->g_in_r14 &&
	    (!funcprobe__writes_r14(st->fp) || abi->g_access != GOBIN_G_TLS_FS))
		st->r14 = true;
	else if (abi->g_access == GOBIN_G_TLS_FS)
		st->r14 = false;
	else {
		p_err("%s: cannot tell how to find the current goroutine (g) in this binary",
		      display);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* Where each traced function has its arguments and results. */
static int build_plans(struct trace_state *st)
{
	size_t n = funcprobe__cnt(st->fp);
	int err;

	st->plans = calloc(n ? n : 1, sizeof(*st->plans));
	if (!st->plans)
		return -ENOMEM;
	st->nplans = n;
	for (size_t i = 0; i < n; i++) {
		err = trace_plan__build(st->gb, funcprobe__func(st->fp, i)->f,
					&st->plans[i]);
		if (err)
			return err;
		if (st->plans[i].raw && i == 0)
			p_info("%s: no DWARF parameters for %s: raw ABI words",
			       st->cli->t.display,
			       funcprobe__func(st->fp, i)->name);
	}
	return 0;
}

/* --filter on every plan: each name must be some function's argument. */
static int apply_filter(struct trace_state *st)
{
	struct trace_cli *cli = st->cli;
	const struct trace_filter *tf = &cli->filter;
	bool found[TR_FILT_ATOMS], any[TR_FILT_ATOMS] = { false };
	uint64_t v;
	int bad = -1, err;

	if (tf->root < 0)
		return 0;
	for (size_t i = 0; i < st->nplans; i++) {
		err = trace_filter__apply(tf, &st->plans[i], found, &bad);
		if (err) {
			p_err("--filter: argument '%s' of %s is not %s",
			      tf->atoms[bad].name,
			      funcprobe__func(st->fp, i)->name,
			      tf->atoms[bad].is_str ? "a string" :
			      "an integer in one register or stack slot");
			return err;
		}
		for (int a = 0; a < tf->natoms; a++)
			any[a] |= found[a];
	}
	/* a name no function has is a typo, not a filter */
	for (int a = 0; a < tf->natoms; a++) {
		if (any[a])
			continue;
		p_err("--filter: no traced function has an argument '%s'%s",
		      tf->atoms[a].name,
		      st->plans[0].raw ? " (stripped binary: name ABI words arg0, arg1, ...)" : "");
		return -EINVAL;
	}
	/* the fast paths as well: they run before anything is read */
	if (trace_filter__required(tf, "goid", &v) && !cli->has_goid) {
		cli->has_goid = true;
		cli->goid = v;
	}
	return 0;
}

/* -o EXPR on every plan: each must name some function's argument. */
static int add_outputs(struct trace_state *st)
{
	struct trace_cli *cli = st->cli;
	int err;

	for (int k = 0; k < cli->nout; k++) {
		size_t hits = 0;
		char why[160] = "";

		for (size_t i = 0; i < st->nplans; i++) {
			err = trace_plan__add_out(&st->plans[i], k,
						  cli->outs[k], why,
						  sizeof(why));
			if (err == -EINVAL) {
				p_err("-o '%s' in %s: %s", cli->outs[k],
				      funcprobe__func(st->fp, i)->name, why);
				return err;
			}
			hits += !err;
		}
		if (!hits) {
			p_err("-o '%s': no traced function has an argument by that name%s",
			      cli->outs[k],
			      st->plans[0].raw ? " (stripped binary, no DWARF: only string(argN), ABI words N and N+1 as a string)" : "");
			return -EINVAL;
		}
	}
	return 0;
}

/* session plan: what the kernel side must read, per function. */
static int plan(struct session *s)
{
	struct trace_state *st = s->ctx;
	int err;

	st->gb = s->gb;
	st->fp = s->fp;
	err = find_g(st);
	if (!err)
		err = build_plans(st);
	if (!err)
		err = apply_filter(st);
	if (!err)
		err = add_outputs(st);
	if (!err && st->cli->set_arg)
		err = trace_set__check(&st->cli->set, st->cli->set_arg, st->fp,
				       st->plans, st->nplans, &st->sets,
				       &st->set_regs, &st->set_mem);
	return err;
}

static void set_rodata(struct trace_state *st)
{
	const struct gobin_abi_info *abi = gobin__abi(st->gb);
	const struct gobin_layout *l = gobin__layout(st->gb);
	struct trace_bpf__rodata *ro = st->skel->rodata;
	struct trace_cli *cli = st->cli;
	uint64_t pid_v = 0;

	ro->set_regs_ok = st->set_regs;
	ro->set_mem_ok = st->set_mem;
	ro->g_source = st->r14 ? FP_G_R14 : FP_G_TLS;
	ro->tls_g_offset = abi->tls_g_offset;
	ro->off_stack_hi = l->g_stack_hi;
	ro->off_goid = l->g_goid;
	ro->max_string = cli->max_string;
	ro->min_ns = cli->min_ns;
	ro->filter_by_goid = cli->has_goid;
	ro->filter_goid = cli->goid;
	ro->want_stack = cli->stack || cli->folded || cli->pprof;
	ro->wakeup_bytes = ringbuf_wakeup_bytes(TR_RINGBUF_BYTES,
						TR_WAKEUP_BYTES);
	if (cli->t.kind == TARGET_PID)
		ro->filter_pid = cli->t.pid;
	if (trace_filter__required(&cli->filter, "pid", &pid_v) && pid_v)
		ro->filter_pid = (__u32)pid_v;
	p_info("g from %s", st->r14 ? "R14" : "the TLS slot");
}

/* session configure: open trace.bpf.c, its program, rodata, map sizes. */
static int configure(struct session *s)
{
	struct trace_state *st = s->ctx;
	struct trace_cli *cli = st->cli;
	__u32 n = (__u32)st->nplans;
	int err;

	st->skel = trace_bpf__open();
	if (!st->skel) {
		err = -errno;
		p_err("cannot open the BPF program: %s", strerror(-err));
		return err;
	}
	bpf_program__set_autoload(st->skel->progs.tr_write_probe, false);
	bpf_program__set_autoload(st->skel->progs.tr_ctx_write_probe, false);
	/* --set: its own program, so that plain tracing pays nothing */
	bpf_program__set_autoload(cli->set_arg ? st->skel->progs.tr_call :
				  st->skel->progs.tr_call_set, false);
	st->prog = cli->set_arg ? st->skel->progs.tr_call_set :
				  st->skel->progs.tr_call;
	set_rodata(st);
	err = bpf_map__set_max_entries(st->skel->maps.specs, n);
	if (!err)
		err = bpf_map__set_max_entries(st->skel->maps.tr_calls, n);
	if (!err && cli->set_arg)
		err = bpf_map__set_max_entries(st->skel->maps.set_specs, n);
	if (err) {
		p_err("cannot size the BPF maps: %s", strerror(-err));
		return err;
	}
	s->obj = st->skel->obj;
	s->prog = st->prog;
	return 0;
}

static int fill_specs(struct trace_state *st)
{
	int fd = bpf_map__fd(st->skel->maps.specs);

	for (size_t i = 0; i < st->nplans; i++) {
		__u32 k = (__u32)i;

		st->plans[i].spec.arg_regs = (__u32)st->plans[i].nregs;
		if (bpf_map_update_elem(fd, &k, &st->plans[i].spec, BPF_ANY)) {
			int err = -errno;

			p_err("cannot fill the BPF spec map: %s", strerror(-err));
			return err;
		}
	}
	fd = bpf_map__fd(st->skel->maps.set_specs);
	for (size_t i = 0; st->sets && i < st->nplans; i++) {
		__u32 k = (__u32)i;

		if (bpf_map_update_elem(fd, &k, &st->sets[i], BPF_ANY)) {
			int err = -errno;

			p_err("cannot fill the BPF --set map: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

static void report_stats(struct trace_state *st)
{
	const __u64 *s = st->skel->bss->stats;

	if (st->cli->set_arg && !json_output)
		fprintf(stderr, "%s: --set %s: %llu calls changed\n", prog_name,
			st->cli->set_arg, (unsigned long long)s[TR_STAT_SET]);
	if (s[TR_STAT_SET_FAIL])
		p_warn("--set %s: %llu writes refused by the kernel (the argument was left as it was)",
		       st->cli->set_arg, (unsigned long long)s[TR_STAT_SET_FAIL]);
	if (s[TR_STAT_LOST])
		p_warn("%llu calls lost: the ring buffer was full (the reader fell behind)",
		       (unsigned long long)s[TR_STAT_LOST]);
	if (s[TR_STAT_OPEN_FULL])
		p_warn("%llu calls not traced: %d calls were open at once (returns never seen: panics, or goroutines blocked in traced calls)",
		       (unsigned long long)s[TR_STAT_OPEN_FULL], TR_MAX_OPEN);
	p_info("calls %llu, sent %llu, unwound %llu, morestack entries skipped %llu, returns without entry %llu, below --min-latency %llu, filtered %llu, unreadable g %llu",
	       (unsigned long long)s[TR_STAT_CALLS],
	       (unsigned long long)s[TR_STAT_SENT],
	       (unsigned long long)st->unwound,
	       (unsigned long long)s[TR_STAT_SKIPPED_JBE],
	       (unsigned long long)s[TR_STAT_UNPAIRED],
	       (unsigned long long)s[TR_STAT_FAST],
	       (unsigned long long)s[TR_STAT_FILTERED],
	       (unsigned long long)s[TR_STAT_READ_FAIL]);
}

/* The printer's state: JSON writer, symbols, unwinding, ring buffer. */
static int open_output(struct trace_state *st)
{
	struct trace_cli *cli = st->cli;
	int err;

	if (json_output) {
		st->out.jw = jw_new(stdout);
		if (!st->out.jw)
			return -ENOMEM;
	}
	st->out.f = stdout;
	st->out.syms = trace_syms__new(st->gb);
	st->unwind = trace_unwind__new();
	if (!st->unwind)
		return -ENOMEM;
	if (cli->stack || cli->folded || cli->pprof)
		st->out.gb = st->gb;
	if (cli->pprof) {
		st->pprof = trace_pprof__new(st->gb, cli->t.path);
		if (!st->pprof)
			return -ENOMEM;
		st->pprof_start_ns = mono_ns();
	}
	st->out.mono_to_real = clock_ns(CLOCK_REALTIME) - mono_ns();
	st->rb = rb_reader__new(bpf_map__fd(st->skel->maps.events), on_event,
				st);
	if (!st->rb) {
		err = -errno;
		p_err("cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* session load: the program, its per-function specs, the printer. */
static int load(struct session *s)
{
	struct trace_state *st = s->ctx;
	int err;

	err = trace_bpf__load(st->skel);
	if (err) {
		p_load_error("the BPF program", err);
		return err;
	}
	err = fill_specs(st);
	if (!err)
		err = open_output(st);
	return err;
}

static void released(struct session *s)
{
	if (!json_output)
		fprintf(stderr, "%s: tracing %zu functions of %s%s\n",
			prog_name, funcprobe__cnt(s->fp), s->t->display,
			s->duration > 0 || s->launched ? "" :
			"; Ctrl-C to stop");
}

static int poll_events(struct session *s, int timeout_ms)
{
	struct trace_state *st = s->ctx;

	return rb_reader__poll(st->rb, timeout_ms);
}

/* session finish: what is left in the ring buffer, calls still open,
 * counters, the folded stacks. */
static int finish(struct session *s)
{
	struct trace_state *st = s->ctx;
	struct trace_cli *cli = st->cli;

	rb_reader__drain(st->rb);
	overhead__report(st->ovh);
	if (!(cli->folded || cli->pprof) || cli->stack)
		print_running(st, session__target_pid(s));
	record_out__flush();
	report_stats(st);
	if (cli->folded && trace_folded__write(&st->folded, cli->folded))
		return -EIO;
	if (st->pprof_lost)
		p_warn("--pprof: %llu calls left out (no memory)",
		       (unsigned long long)st->pprof_lost);
	if (st->pprof && trace_pprof__write(st->pprof, cli->pprof,
					    mono_ns() - st->pprof_start_ns))
		return -EIO;
	return 0;
}

static void destroy(struct session *s)
{
	struct trace_state *st = s->ctx;

	overhead__free(st->ovh);
	st->ovh = NULL;
	rb_reader__free(st->rb);
	jw_free(st->out.jw);
	trace_syms__free((struct tr_syms *)st->out.syms);
	trace_unwind__free(st->unwind);
	trace_folded__free(&st->folded);
	trace_pprof__free(st->pprof);
	trace_bpf__destroy(st->skel);
	for (size_t i = 0; i < st->nplans; i++)
		trace_plan__free(&st->plans[i]);
	free(st->plans);
	free(st->sets);
}

/* session started: the overhead budget over tr_calls */
static int started(struct session *s)
{
	struct trace_state *st = s->ctx;
	const struct overhead_calls calls = {
		.map_fd = bpf_map__fd(st->skel->maps.tr_calls),
		.value_size = sizeof(__u64), .count_off = 0,
		.extra_off = SIZE_MAX, .halves = 1 };

	return overhead__start(s, &calls, st->cli->max_overhead,
			       &st->cli->keep, &st->ovh);
}

static const struct session_ops trace_ops = {
	.verb = "trace",
	.plan = plan,
	.configure = configure,
	.load = load,
	.started = started,
	.released = released,
	.poll = poll_events,
	.finish = finish,
	.destroy = destroy,
};

int do_trace(int argc, char **argv)
{
	struct trace_cli cli = {};
	struct trace_state st = { .cli = &cli };
	struct session s = { .ops = &trace_ops, .ctx = &st };
	int ret;

	record_out__init();
	trace_filter__init(&cli.filter);
	ret = parse_args(argc, argv, &cli);
	if (ret) {
		overhead__keep_free(&cli.keep);
		return ret > 0 ? EXIT_OK : ret;
	}
	s.t = &cli.t;
	s.path_arg = cli.path_arg;
	s.pid = cli.pid;
	s.duration = cli.duration;
	s.pats = cli.pats;
	s.pat_cnt = cli.pat_cnt;
	s.fo = (struct funcprobe_opts){ .returns = true,
					.force_classic = cli.classic,
					.entry_first_insn = cli.probe_entry,
					.arg_needs = arg_needs };
	s.fp_sites = FP_SITES_ENTRY | FP_SITES_RET;
	ret = session__run(&s);
	overhead__keep_free(&cli.keep);
	return ret;
}
