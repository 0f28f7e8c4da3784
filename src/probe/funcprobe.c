// SPDX-License-Identifier: MIT
/*
 * funcprobe - see funcprobe.h: the plan (which functions, which sites);
 * attaching it is funcprobe_attach.c, re-linking funcprobe_links.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "pattern.h"
#include "record_out.h"
#include <linux/types.h>
#include "bpf/funcs.h"
#include "bpf/fp_sites.h"
#include "funcprobe.h"
#include "funcprobe_int.h"
#include "tracefs.h"
#include "uprobe_multi.h"
#include "progress.h"
#include "target.h"

/* Skipped functions listed on stderr without -v. */
#define SKIPPED_SHOWN		20

/* A copy of f's name that fp owns; with_addr: "name@0xaddr" (two
 * functions share the name). */
static const char *own_name(struct funcprobe *fp, const struct gobin_func *f,
			    bool with_addr)
{
	char *s;

	if (fp->name_cnt == fp->name_cap) {
		size_t ncap = fp->name_cap ? fp->name_cap * 2 : 64;
		char **n = realloc(fp->names, ncap * sizeof(*n));

		if (!n)
			return NULL;
		fp->names = n;
		fp->name_cap = ncap;
	}
	if (!with_addr)
		s = strdup(f->name ? f->name : "?");
	else if (asprintf(&s, "%s@0x%" PRIx64, f->name, f->entry) < 0)
		s = NULL;
	if (!s)
		return NULL;
	fp->names[fp->name_cnt++] = s;
	return s;
}

static int add_skipped(struct funcprobe *fp, size_t *cap,
		       const struct gobin_func *f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_skipped(struct funcprobe *fp, size_t *cap,
		       const struct gobin_func *f, const char *fmt, ...)
{
	va_list ap;

	if (fp->skipped_cnt == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct fp_skipped *n = realloc(fp->skipped, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		fp->skipped = n;
		*cap = ncap;
	}
	fp->skipped[fp->skipped_cnt].f = f;
	fp->skipped[fp->skipped_cnt].name = own_name(fp, f, false);
	if (!fp->skipped[fp->skipped_cnt].name)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(fp->skipped[fp->skipped_cnt].reason,
		  sizeof(fp->skipped[0].reason), fmt, ap);
	va_end(ap);
	fp->skipped_cnt++;
	return 0;
}

static int cmp_by_name(const void *a, const void *b)
{
	const struct gobin_func *fa = *(const struct gobin_func *const *)a;
	const struct gobin_func *fb = *(const struct gobin_func *const *)b;
	int c = strcmp(fa->name, fb->name);

	if (c)
		return c;
	return fa->entry < fb->entry ? -1 : fa->entry > fb->entry;
}

/* The matched functions; names shared by several get an @address. */
static int match(struct funcprobe *fp, struct patterns *pats,
		 const struct gobin_func ***out, size_t *out_cnt,
		 bool **dup)
{
	const struct gobin *gb = fp->gb;
	const struct gobin_func **m = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < gobin__func_cnt(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i);

		if (!f->name || !patterns__match(pats, f->name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			const struct gobin_func **nm =
				realloc(m, ncap * sizeof(*nm));

			if (!nm) {
				free(m);
				return -ENOMEM;
			}
			m = nm;
			cap = ncap;
		}
		m[n++] = f;
	}
	*dup = calloc(n ? n : 1, sizeof(**dup));
	if (!*dup) {
		free(m);
		return -ENOMEM;
	}
	if (n > 1) {
		qsort(m, n, sizeof(*m), cmp_by_name);
		for (size_t i = 1; i < n; i++)
			if (!strcmp(m[i]->name, m[i - 1]->name))
				(*dup)[i] = (*dup)[i - 1] = true;
	}
	*out = m;
	*out_cnt = n;
	return 0;
}

/*
 * Plan one function: the entry site and (opts.returns) its RET sites.
 * Returns 1 if planned into *ff, 0 if skipped (recorded), -errno.
 */
static int plan_func(struct funcprobe *fp, const struct gobin_func *f,
		     struct fp_func *ff, size_t *skip_cap)
{
	const struct gobin *gb = fp->gb;
	struct gobin_probe_point pp;
	struct gobin_func_insns fi = {};
	bool sweep = fp->opts.returns;
	int32_t stack_args = 0;
	uint64_t off;
	int nregs = 0, err;

	memset(ff, 0, sizeof(*ff));
	ff->f = f;
	if (f->end <= f->entry)
		return add_skipped(fp, skip_cap, f, "empty function");
	if (fp->opts.arg_needs)
		fp->opts.arg_needs(gb, f, &nregs, &stack_args, fp->opts.ctx);
	err = gobin__probe_point(gb, f, nregs, stack_args, &pp);
	if (err)
		return add_skipped(fp, skip_cap, f, "cannot disassemble: %s",
				   strerror(-err));
	if (pp.emulated && pp.skip_flags &&
	    pp.skip_flags != (FP_EFLAGS_CF | FP_EFLAGS_ZF)) {
		/* a branch condition the program cannot test */
		pp.addr = f->entry;
		pp.sp_delta = 0;
		pp.emulated = false;
		pp.why = "entry (stack check not a JBE)";
	}
	if (fp->opts.entry_first_insn) {
		pp.addr = f->entry;
		pp.sp_delta = 0;
		pp.emulated = false;
		pp.skip_flags = 0;
		pp.why = "entry, as asked";
	}
	ff->entry_site = pp.addr;
	ff->sp_delta = pp.sp_delta;
	ff->emulated = pp.emulated;
	ff->skip_jbe = pp.emulated && pp.skip_flags;
	ff->entry_why = pp.why;
	/*
	 * The compiler puts the stack check before the function's first
	 * instruction, and the only branch back to it is the morestack
	 * block's (go1.19 src/cmd/internal/obj/x86/obj6.go stacksplit: the
	 * block appended at the end ends with "jmp.To.SetTarget(
	 * startPred.Link)"), so a JBE site needs no sweep; anything else
	 * might sit in a loop that starts at or near the entry.
	 */
	if (!ff->skip_jbe)
		sweep = true;
	if (sweep) {
		err = gobin__func_insns(gb, f, ff->entry_site, &fi);
		if (err)
			return err == -ENOMEM ? err :
			       add_skipped(fp, skip_cap, f,
					   "cannot disassemble: %s",
					   strerror(-err));
		if (fi.entry_reentered && ff->entry_site != f->entry) {
			gobin__func_insns_free(&fi);
			ff->entry_site = f->entry;
			ff->sp_delta = 0;
			ff->emulated = ff->skip_jbe = false;
			ff->entry_why = "entry (a branch lands in the prologue)";
			err = gobin__func_insns(gb, f, f->entry, &fi);
			if (err)
				return err == -ENOMEM ? err :
				       add_skipped(fp, skip_cap, f,
						   "cannot disassemble: %s",
						   strerror(-err));
		}
		if (fi.entry_reentered) {
			err = add_skipped(fp, skip_cap, f,
					  "a loop branches back to the entry (from +%#" PRIx64 "): calls cannot be told from iterations",
					  fi.reenter_from - f->entry);
			gobin__func_insns_free(&fi);
			return err;
		}
	}
	if (fp->opts.returns) {
		if (!fi.complete) {
			err = add_skipped(fp, skip_cap, f,
					  "undecodable instruction at +%#" PRIx64 ": its RETs are not known",
					  fi.stop - f->entry);
			gobin__func_insns_free(&fi);
			return err;
		}
		if (!fi.ret_cnt) {
			const struct gobin_func *t =
				fi.tail_jmps ? gobin__func_at(gb, fi.tail_target)
					     : NULL;

			if (t && t->name && !strcmp(t->name, f->name))
				err = add_skipped(fp, skip_cap, f,
						  "no RET: an ABI wrapper that tail-jumps to the function of the same name");
			else if (t && t->name)
				err = add_skipped(fp, skip_cap, f,
						  "no RET: leaves by a tail jump to %s",
						  t->name);
			else if (fi.indirect_jmps)
				err = add_skipped(fp, skip_cap, f,
						  "no RET: leaves by an indirect jump");
			else
				err = add_skipped(fp, skip_cap, f,
						  "no RET: never returns (panics, exits or switches stacks)");
			gobin__func_insns_free(&fi);
			return err;
		}
		ff->writes_r14 = fi.writes_r14;
		ff->rets = fi.rets;	/* moved */
		ff->ret_cnt = fi.ret_cnt;
		ff->tail_jmps = fi.tail_jmps;
		fi.rets = NULL;
	}
	gobin__func_insns_free(&fi);
	{
		const char *why = NULL;

		if (gobin__uprobe_insn_ok(gb, ff->entry_site, &why) || why) {
			free(ff->rets);
			ff->rets = NULL;
			return add_skipped(fp, skip_cap, f, "entry at +%#" PRIx64 ": %s",
					   ff->entry_site - f->entry,
					   why ? why : "cannot read the instruction");
		}
		for (size_t r = 0; r < ff->ret_cnt; r++) {
			if (!gobin__uprobe_insn_ok(gb, ff->rets[r], &why) && !why)
				continue;
			err = add_skipped(fp, skip_cap, f, "RET at +%#" PRIx64 ": %s",
					  ff->rets[r] - f->entry,
					  why ? why : "cannot read the instruction");
			free(ff->rets);
			ff->rets = NULL;
			return err;
		}
	}
	if (gobin__vaddr_to_offset(gb, ff->entry_site, &off)) {
		free(ff->rets);
		ff->rets = NULL;
		return add_skipped(fp, skip_cap, f,
				   "not in a file-backed segment");
	}
	return 1;
}

int funcprobe__plan(const struct gobin *gb, struct patterns *pats,
		    const char *target, const struct funcprobe_opts *opts,
		    struct funcprobe **out)
{
	const struct gobin_func **m = NULL;
	struct funcprobe *fp;
	size_t n = 0, skip_cap = 0;
	bool *dup = NULL;
	int err;

	*out = NULL;
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return -ENOMEM;
	fp->gb = gb;
	if (opts)
		fp->opts = *opts;
	err = match(fp, pats, &m, &n, &dup);
	if (err)
		goto fail;
	if (funcprobe__report_inlined_only(gb, pats) ||
	    patterns__report_unmatched(pats, target)) {
		err = -ENOENT;
		goto fail;
	}
	if (n > FP_MAX_FUNCS) {
		p_err("%zu functions match; at most %u can be probed at once",
		      n, FP_MAX_FUNCS);
		err = -E2BIG;
		goto fail;
	}
	fp->funcs = calloc(n ? n : 1, sizeof(*fp->funcs));
	if (!fp->funcs) {
		err = -ENOMEM;
		goto fail;
	}
	/* back to address order: sites in one file, ascending */
	for (size_t i = 0; i < n; i++) {
		struct fp_func *ff = &fp->funcs[fp->cnt];

		err = plan_func(fp, m[i], ff, &skip_cap);
		if (err < 0)
			goto fail;
		if (err == 0)
			continue;
		ff->name = own_name(fp, m[i], dup[i]);
		if (!ff->name) {
			err = -ENOMEM;
			goto fail;
		}
		fp->cnt++;
	}
	if (!fp->cnt) {
		p_err("%s: none of the %zu matching functions can be probed (%s)",
		      target, n, fp->skipped_cnt ? fp->skipped[0].reason : "?");
		err = -ENOENT;
		goto fail;
	}
	free(m);
	free(dup);
	*out = fp;
	return 0;
fail:
	free(m);
	free(dup);
	funcprobe__free(fp);
	return err;
}

void funcprobe__free(struct funcprobe *fp)
{
	if (!fp)
		return;
	funcprobe__detach(fp);
	for (size_t i = 0; i < fp->cnt; i++)
		free(fp->funcs[i].rets);
	free(fp->funcs);
	free(fp->skipped);
	for (size_t i = 0; i < fp->name_cnt; i++)
		free(fp->names[i]);
	free(fp->names);
	free(fp->links);
	free(fp->events);
	fp_links_free(fp);
	free(fp);
}

size_t funcprobe__cnt(const struct funcprobe *fp)
{
	return fp->cnt;
}

const struct fp_func *funcprobe__func(const struct funcprobe *fp, size_t fid)
{
	return fid < fp->cnt ? &fp->funcs[fid] : NULL;
}

bool funcprobe__writes_r14(const struct funcprobe *fp)
{
	for (size_t i = 0; i < fp->cnt; i++)
		if (fp->funcs[i].writes_r14)
			return true;
	return false;
}

size_t funcprobe__skipped_cnt(const struct funcprobe *fp)
{
	return fp->skipped_cnt;
}

const struct fp_skipped *funcprobe__skipped(const struct funcprobe *fp,
					    size_t i)
{
	return i < fp->skipped_cnt ? &fp->skipped[i] : NULL;
}

/* The sites of `which`, in one array (offsets ascending per function). */
int fp_build_sites(const struct funcprobe *fp, unsigned which,
		   struct fp_site **out, size_t *out_cnt)
{
	const struct gobin *gb = fp->gb;
	struct fp_site *s;
	size_t n = 0, cap = funcprobe__site_cnt(fp, which);

	s = calloc(cap ? cap : 1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t fid = 0; fid < fp->cnt; fid++) {
		const struct fp_func *ff = &fp->funcs[fid];
		bool entry_is_ret = false;
		uint64_t off;

		for (size_t r = 0; r < ff->ret_cnt; r++)
			if (ff->rets[r] == ff->entry_site)
				entry_is_ret = true;
		if ((which & FP_SITES_ENTRY) && n < cap &&
		    !gobin__vaddr_to_offset(gb, ff->entry_site, &off)) {
			uint32_t flags = FP_SITE_ENTRY;

			if (ff->skip_jbe)
				flags |= FP_SITE_SKIP_JBE;
			if (entry_is_ret && (which & FP_SITES_RET))
				flags |= FP_SITE_RET;
			s[n].off = off;
			s[n].vaddr = ff->entry_site;
			s[n].cookie = FP_COOKIE(fid, flags, ff->sp_delta);
			n++;
		}
		if (!(which & FP_SITES_RET))
			continue;
		for (size_t r = 0; r < ff->ret_cnt && n < cap; r++) {
			if ((which & FP_SITES_ENTRY) &&
			    ff->rets[r] == ff->entry_site)
				continue;	/* merged into the entry site */
			if (gobin__vaddr_to_offset(gb, ff->rets[r], &off))
				continue;
			s[n].off = off;
			s[n].vaddr = ff->rets[r];
			s[n].cookie = FP_COOKIE(fid, FP_SITE_RET, 0);
			n++;
		}
	}
	*out = s;
	*out_cnt = n;
	return 0;
}

size_t funcprobe__site_cnt(const struct funcprobe *fp, unsigned which)
{
	size_t n = 0;

	for (size_t i = 0; i < fp->cnt; i++) {
		if (which & FP_SITES_ENTRY)
			n++;
		if (which & FP_SITES_RET)
			n += fp->funcs[i].ret_cnt;
	}
	return n;
}

void funcprobe__report_plan(const struct funcprobe *fp, const char *what)
{
	size_t emulated = 0, jbe = 0;

	for (size_t i = 0; i < fp->cnt; i++) {
		emulated += fp->funcs[i].emulated;
		jbe += fp->funcs[i].skip_jbe;
	}
	p_info("%s: %zu functions; entry sites: %zu emulated (%zu at the stack-check JBE), %zu single-stepped; %zu RET sites",
	       what, fp->cnt, emulated, jbe, fp->cnt - emulated,
	       funcprobe__site_cnt(fp, FP_SITES_RET));
	funcprobe__report_inlined(fp, fp->gb);
	if (verbose >= 2) {
		for (size_t i = 0; i < fp->cnt; i++) {
			const struct fp_func *ff = &fp->funcs[i];

			p_info("  %s: entry site +%#" PRIx64 " (%s), %zu RET sites",
			       ff->name, ff->entry_site - ff->f->entry,
			       ff->entry_why, ff->ret_cnt);
		}
	}
	if (!fp->skipped_cnt)
		return;
	if (json_output) {
		struct jw *jw = jw_new(stdout);

		if (!jw)
			return;
		for (size_t i = 0; i < fp->skipped_cnt; i++) {
			jw_start_object(jw);
			jw_name(jw, "type"); jw_string(jw, "skipped");
			jw_name(jw, "func"); jw_string(jw, fp->skipped[i].name);
			jw_name(jw, "reason"); jw_string(jw, fp->skipped[i].reason);
			jw_end_object(jw);
			jw_end_line(jw);
		}
		jw_free(jw);
		record_out__flush();
		return;
	}
	fprintf(stderr, "%s: skipping %zu of %zu matching functions:\n",
		prog_name, fp->skipped_cnt, fp->skipped_cnt + fp->cnt);
	for (size_t i = 0; i < fp->skipped_cnt; i++) {
		if (i == SKIPPED_SHOWN && !verbose) {
			fprintf(stderr, "  ... and %zu more (-v lists them all)\n",
				fp->skipped_cnt - i);
			break;
		}
		fprintf(stderr, "  %s: %s\n", fp->skipped[i].name,
			fp->skipped[i].reason);
	}
}

/* Does this kernel have bpf_get_attach_cookie (5.15+)? Asked once. */
static bool attach_cookie_supported(void)
{
	static int known = -1;

	if (known < 0)
		known = libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE,
						BPF_FUNC_get_attach_cookie,
						NULL) == 1;
	return known;
}

void funcprobe__prepare(struct funcprobe *fp, struct bpf_object *obj,
			struct bpf_program *prog)
{
	/* GOSNOOP_CLASSIC_UPROBES=1: every command (serve has no option
	 * for it) takes the path of kernels before 6.6, for tests;
	 * =per-site: a perf event per site, as before the shared event
	 * (for bench/funcs.py's comparison) */
	const char *env = getenv("GOSNOOP_CLASSIC_UPROBES");
	struct bpf_map *gens, *offs;

	fp->obj = obj;
	/* one generation per chunk of functions (fp_sites.h) */
	gens = bpf_object__find_map_by_name(obj, FP_GENS_MAP_NAME);
	if (gens && fp->cnt)
		bpf_map__set_max_entries(gens, (__u32)((fp->cnt +
				FP_CHUNK_FUNCS - 1) >> FP_CHUNK_SHIFT));
	/* and whether each function is in the newest links */
	offs = bpf_object__find_map_by_name(obj, FP_OFFS_MAP_NAME);
	if (offs && fp->cnt)
		bpf_map__set_max_entries(offs, (__u32)fp->cnt);
	if (env && *env && strcmp(env, "0"))
		fp->opts.force_classic = true;
	if (env && !strcmp(env, "per-site"))
		fp->per_site = true;
	if (fp->mode == FP_MODE_UNSET)
		fp->mode = !fp->opts.force_classic && uprobe_multi__supported()
			   ? FP_MODE_MULTI : FP_MODE_CLASSIC;
	if (fp->mode == FP_MODE_MULTI)
		bpf_program__set_expected_attach_type(prog,
						      UPROBE_MULTI__ATTACH_TYPE);
	/* The kernel would refuse prog at load: its twin instead, which
	 * finds each site by the address it fired at. */
	if (fp->mode == FP_MODE_CLASSIC && !attach_cookie_supported()) {
		char name[64];
		struct bpf_program *twin;

		snprintf(name, sizeof(name), "%s" FP_IP_SUFFIX,
			 bpf_program__name(prog));
		twin = bpf_object__find_program_by_name(obj, name);
		if (twin) {
			bpf_program__set_autoload(twin,
						  bpf_program__autoload(prog));
			bpf_program__set_autoload(prog, false);
			fp->ip_prog = twin;
			fp->by_ip = true;
		}
	}
}

const char *funcprobe__mode(const struct funcprobe *fp)
{
	if (fp->mode == FP_MODE_MULTI)
		return "uprobe_multi";
	if (fp->shared_sites && !fp->own_sites)
		return "classic uprobes (one tracefs event)";
	return "classic uprobes";
}

double funcprobe__attach_ms(const struct funcprobe *fp)
{
	return fp->attach_ms;
}

double funcprobe__detach_ms(const struct funcprobe *fp)
{
	return fp->detach_ms;
}
