/* SPDX-License-Identifier: MIT */
/*
 * funcprobe - the function-probe machinery shared by `count`, `latency`
 * and `trace`: patterns -> functions -> for each an entry site and, when
 * asked, every RET site -> one uprobe_multi link per BPF program (or, on
 * kernels without it, classic uprobes: every site one probe of a single
 * tracefs uprobe event opened as one perf event, src/bpf/fp_sites.h; a
 * perf event per site, with a visible note, only where that cannot be).
 *
 * Life cycle (libbpf style):
 *	funcprobe__plan()          which functions, which sites, which skipped
 *	funcprobe__prepare(obj, prog) before bpf_object__load(): attach type,
 *	                           or prog's by-address twin (fp_sites.h)
 *	funcprobe__attach(prog)    after load; once per program
 *	funcprobe__set_off/reattach  a subset off and on (overhead budget)
 *	funcprobe__detach()        closes every link (timed)
 *	funcprobe__free()
 *
 * A site's cookie is FP_COOKIE(fid, flags, sp_delta) (src/bpf/funcs.h);
 * fid indexes funcprobe__func() and the per-function maps.
 *
 * Entry sites: gobin__probe_point() (disasm.c) picks the first instruction
 * the kernel emulates on the straight-line path from the entry (~15x
 * cheaper per hit than a single-stepped one), typically the stack-check
 * JBE, whose morestack-taken hits the programs skip (FP_SITE_SKIP_JBE);
 * if a branch in the function lands between the entry and that point, the
 * entry itself is used. RET sites: every RET of a linear sweep
 * (gobin__func_insns, insns.c). Never uretprobes: they swap the return
 * address on a goroutine stack that Go copies.
 */
#ifndef GOSNOOP_PROBE_FUNCPROBE_H
#define GOSNOOP_PROBE_FUNCPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gobin;
struct gobin_func;
struct patterns;
struct bpf_object;
struct bpf_program;
struct funcprobe;

enum fp_sites {
	FP_SITES_ENTRY = 1,
	FP_SITES_RET = 2,
};

struct funcprobe_opts {
	/* Plan RET sites too; a function without any RET is skipped. */
	bool returns;
	/* Attach classic uprobes even where uprobe_multi works (for
	 * comparisons and tests; so does GOSNOOP_CLASSIC_UPROBES=1 in the
	 * environment, for every command). */
	bool force_classic;
	/* Put every entry site on the function's first instruction, where
	 * bpftrace puts it (single-stepped; for comparisons and tests). */
	bool entry_first_insn;
	/*
	 * What the entry site must still see intact (trace: the arguments):
	 * the first *nregs integer argument registers, *stack_args bytes of
	 * ABI0 stack arguments. NULL: nothing (count, latency).
	 */
	void (*arg_needs)(const struct gobin *gb, const struct gobin_func *f,
			  int *nregs, int32_t *stack_args, void *ctx);
	void *ctx;
};

struct fp_func {
	const struct gobin_func *f;
	/* f->name, or "name@0xaddr" when two functions share the name:
	 * a copy fp owns, good after the gobin is freed (f is not) */
	const char *name;
	uint64_t entry_site;	/* file vaddr */
	int64_t sp_delta;	/* see gobin_probe_point */
	bool emulated;		/* entry site is emulated, not stepped */
	bool skip_jbe;		/* entry site is the stack-check JBE */
	const char *entry_why;	/* what the entry site is */
	uint64_t *rets;		/* RET sites (opts.returns) */
	size_t ret_cnt;
	size_t tail_jmps;	/* paths that leave without RET */
	bool writes_r14;	/* may write R14 (known when swept) */
};

struct fp_skipped {
	const struct gobin_func *f;
	const char *name;	/* f->name, a copy fp owns (as fp_func's) */
	char reason[112];
};

/*
 * Match pats against every function of gb and plan the sites. Fails with
 * -ENOENT (after one error line) when nothing matched at all, or nothing
 * matched can be probed; a pattern that matched nothing is a warning.
 * gb must outlive funcprobe__report_plan() and funcprobe__attach(); after
 * them fp keeps what it needs (names copied, links), so a long-lived user
 * may free gb and the file mapping with it; the f pointers then dangle.
 */
int funcprobe__plan(const struct gobin *gb, struct patterns *pats,
		    const char *target, const struct funcprobe_opts *opts,
		    struct funcprobe **out);
void funcprobe__free(struct funcprobe *fp);

/*
 * Calls uprobes cannot see (funcprobe_inline.c). report_inlined_only:
 * after matching, for patterns that matched no function but name calls the
 * compiler inlined: true (after one error line) when that is every
 * pattern, else a warning for each; and a warning for each glob that
 * matched functions but also functions the compiler inlined at every
 * call, which it leaves out ('main.*', main.tiny). report_inlined: warn about probed
 * functions that are also inlined somewhere (called by report_plan).
 */
struct patterns;
bool funcprobe__report_inlined_only(const struct gobin *gb,
				    struct patterns *pats);
void funcprobe__report_inlined(const struct funcprobe *fp,
			       const struct gobin *gb);

size_t funcprobe__cnt(const struct funcprobe *fp);
const struct fp_func *funcprobe__func(const struct funcprobe *fp, size_t fid);
size_t funcprobe__skipped_cnt(const struct funcprobe *fp);
const struct fp_skipped *funcprobe__skipped(const struct funcprobe *fp,
					    size_t i);
/* Whether a planned function may write R14 (then g is not reliably in
 * R14 at its RETs); only known with opts.returns (every function swept). */
bool funcprobe__writes_r14(const struct funcprobe *fp);
/* Sites that will be attached for `which` (FP_SITES_* ORed). */
size_t funcprobe__site_cnt(const struct funcprobe *fp, unsigned which);

/*
 * Tell the user what will be probed: "probing N functions (M sites)" with
 * -v, and every skipped function with its reason: on stderr (at most 20
 * unless -v), or as {"type":"skipped","func":…,"reason":…} lines in JSON.
 */
void funcprobe__report_plan(const struct funcprobe *fp, const char *what);

/* Before load: make prog attachable through uprobe_multi when the kernel
 * can (else it stays a classic uprobe program); where the kernel has no
 * bpf_get_attach_cookie, load prog's twin NAME_ip in obj instead, which
 * funcprobe__attach() then attaches whatever prog it is given. */
void funcprobe__prepare(struct funcprobe *fp, struct bpf_object *obj,
			struct bpf_program *prog);
/* "uprobe_multi" or "classic uprobes" */
const char *funcprobe__mode(const struct funcprobe *fp);

/*
 * Attach prog at the sites in `which` of every planned function in the
 * file at path (pid > 0: only that process; 0: every process running it).
 * Shows progress on stderr when it takes longer than half a second.
 * Returns 0 or -errno after one error line.
 */
int funcprobe__attach(struct funcprobe *fp, struct bpf_program *prog,
		      const char *path, pid_t pid, unsigned which);
/* Close every link; safe to call twice. */
void funcprobe__detach(struct funcprobe *fp);

/*
 * A subset of the functions off and on again (the overhead governor,
 * src/overhead.h; funcprobe_links.c): set_off marks function fid to be
 * left out (or put back) by the next funcprobe__reattach(). With
 * uprobe_multi every attach is one link per chunk of 64 functions
 * (fp_sites.h FP_CHUNK_FUNCS), and reattach links again only the chunks
 * where something changed (~1-100 ms; the old links close on a thread of
 * their own); classic uprobes are attached again all at once. The new
 * probes carry the other generation (FP_SITE_GEN); while both are
 * attached each hit counts once, through the new probe where it ran
 * (fp_sites.h), so a function kept is counted exactly across the switch;
 * the by-address twins (no attach cookie) close the old probes first and
 * miss the hits in between. set_off: 0 or
 * -EINVAL (no such fid), -ENOMEM; reattach: 0 or -errno after one error
 * line (the old links then stay).
 */
int funcprobe__set_off(struct funcprobe *fp, size_t fid, bool off);
bool funcprobe__is_off(const struct funcprobe *fp, size_t fid);
int funcprobe__reattach(struct funcprobe *fp);
/* For tests: with GOSNOOP_TEST_RELINK_MS=N[,T] set, every N ms (now_ns:
 * mono_ns; for the first T ms of the calls) every chunk is linked again
 * as reattach does (the generation flip under stress); their count and
 * mean time are said with -v at the end. */
void funcprobe__relink_test(struct funcprobe *fp, uint64_t now_ns);
/* Milliseconds spent in attach and detach so far (-v prints them). */
double funcprobe__attach_ms(const struct funcprobe *fp);
double funcprobe__detach_ms(const struct funcprobe *fp);

#endif /* GOSNOOP_PROBE_FUNCPROBE_H */
