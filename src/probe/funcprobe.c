// SPDX-License-Identifier: MIT
/*
 * funcprobe - see funcprobe.h.
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
/* Threads that close per-site classic uprobe links at once. Each close
 * waits for RCU grace periods under the kernel's event_mutex, so only the
 * rest of the work overlaps (measured: 32 threads, 1012 sites, 109 s);
 * what really cuts it is one shared event (fp_sites.h). */
#define DETACH_THREADS		32
/* The tracefs group of the shared events; each is fp_<pid>_<n>. */
#define SHARED_GROUP		"gosnoop"
/* Bytes per write(2) to uprobe_events: the kernel parses at most 4096 at
 * a time (WRITE_BUFSIZE, trace_parse_run_command). */
#define UPROBE_EVENTS_CHUNK	4000

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
		fflush(stdout);
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
	struct bpf_map *gens;

	fp->obj = obj;
	/* one generation per chunk of functions (fp_sites.h) */
	gens = bpf_object__find_map_by_name(obj, FP_GENS_MAP_NAME);
	if (gens && fp->cnt)
		bpf_map__set_max_entries(gens, (__u32)((fp->cnt +
				FP_CHUNK_FUNCS - 1) >> FP_CHUNK_SHIFT));
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

int fp_attach_error(int err, const char *path, pid_t pid)
{
	if (err == -EPERM || err == -EACCES)
		p_err("cannot attach uprobes to %s: %s (" PRIV_HINT ")",
		      path, strerror(-err));
	else if (err == -ESRCH)
		p_err("cannot attach to process %d: it is gone", pid);
	else
		p_err("cannot attach uprobes to %s: %s", path, strerror(-err));
	return err;
}

/* Write all of buf to fd (uprobe_events takes whole lines per write). */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int uprobe_events_open(const char *tfs)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/uprobe_events", tfs);
	return open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
}

/* Remove the shared event `name` (all its probes at once). */
static int remove_event(const char *tfs, const char *name)
{
	char line[128];
	int fd = uprobe_events_open(tfs), err, n;

	if (fd < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "-:%s/%s\n", SHARED_GROUP, name);
	err = write_all(fd, line, (size_t)n);
	close(fd);
	return err;
}

/*
 * Events a gosnoop that was killed (SIGKILL: no detach) left behind: its
 * probes stay in the kernel, and fire for nobody, until removed. Once per
 * process, before adding ours. The pid in a name is the one its gosnoop
 * saw, perhaps in another pid namespace (tracefs is one for all): an
 * event in use is safe all the same, since the kernel refuses to remove
 * an event while a perf event holds it open (EBUSY).
 */
static void remove_stale_events(const char *tfs)
{
	static bool done;
	char p[PATH_MAX], line[512], last[64] = "";
	FILE *f;

	if (done)
		return;
	done = true;
	snprintf(p, sizeof(p), "%s/uprobe_events", tfs);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		int pid;

		/* "p:gosnoop/fp_<pid>_<n> PATH:0xOFF" */
		if (sscanf(line, "p:" SHARED_GROUP "/%63[A-Za-z0-9_] ", name) != 1 ||
		    sscanf(name, "fp_%d_", &pid) != 1 || !strcmp(name, last))
			continue;
		snprintf(last, sizeof(last), "%s", name);
		if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (!remove_event(tfs, name))
			p_info("removed uprobe event %s/%s left by gosnoop %d",
			       SHARED_GROUP, name, pid);
	}
	fclose(f);
}

/* Is process pid running the file at path (its /proc/PID/exe)? */
static bool runs_file(pid_t pid, const char *path)
{
	char exe[64];
	struct stat a, b;

	if (pid <= 0)
		return false;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	return !stat(exe, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* prog's map `name` with at least min entries, as a new fd; or -1. */
int fp_prog_map_fd(const struct funcprobe *fp, struct bpf_program *prog,
		   const char *name, size_t min)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info), ids[64];
	struct bpf_map *map = fp->obj ?
		bpf_object__find_map_by_name(fp->obj, name) : NULL;
	struct bpf_map_info own = {};
	__u32 own_len = sizeof(own);
	int fd = -1;

	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &info_len))
		return -1;
	/* the object's own, if prog uses it: BPF_MAP_GET_FD_BY_ID below
	 * needs CAP_SYS_ADMIN, which a container rarely has */
	if (map && bpf_map__fd(map) >= 0 && bpf_map__max_entries(map) >= min &&
	    !bpf_obj_get_info_by_fd(bpf_map__fd(map), &own, &own_len))
		for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++)
			if (ids[i] == own.id)
				return fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC,
					     0);
	for (__u32 i = 0; i < info.nr_map_ids && i < 64 && fd < 0; i++) {
		struct bpf_map_info mi = {};
		__u32 mi_len = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mi_len) &&
		    !strcmp(mi.name, name) && mi.max_entries >= min)
			fd = mfd;
		else
			close(mfd);
	}
	return fd;
}

/*
 * Attach prog at every site through one tracefs uprobe event carrying
 * them all, opened as one perf event (fp_sites.h says why). Returns 0,
 * -EOPNOTSUPP when this cannot be done here (a PIE, no tracefs, a path
 * the uprobe_events syntax cannot carry, too many sites), or another
 * -errno; on any error nothing is left attached and the caller falls
 * back to a perf event per site.
 */
static int attach_shared(struct funcprobe *fp, struct bpf_program *prog,
			 const char *path, pid_t pid,
			 const struct fp_site *s, size_t n)
{
	static unsigned int seq;
	char tfs[256], real[PATH_MAX], p[512], name[48];
	struct perf_event_attr attr = {};
	struct bpf_link *link = NULL;
	char *buf = NULL, **nev;
	size_t len = 0;
	int sites_fd = -1, efd = -1, pfd = -1, err;
	long id;
	uint64_t bias = 0;
	FILE *f;

	/* a PIE's addresses differ per process: by address only in the
	 * one process traced, where its bias is known (not for -- CMD: that
	 * child is still gosnoop, waiting to exec) */
	if (fp->gb && gobin__elf(fp->gb)->pie &&
	    (!fp->by_ip || !runs_file(pid, path) ||
	     target__load_bias(pid, fp->gb, &bias)))
		return -EOPNOTSUPP;
	if (n > FP_MAX_SHARED_SITES)
		return -EOPNOTSUPP;
	/* a target in a container seen through /proc/PID/root: the link
	 * resolves to our own root, where the path may not be, but the
	 * kernel reads the event's path as we give it */
	if (!realpath(path, real) &&
	    snprintf(real, sizeof(real), "%s", path) >= (int)sizeof(real))
		return -EOPNOTSUPP;
	if (strpbrk(real, " \t\n"))
		return -EOPNOTSUPP;
	if (tracefs__ensure_mounted(tfs, sizeof(tfs)))
		return -EOPNOTSUPP;
	remove_stale_events(tfs);

	/* prog's fp_sites map, found through the loaded program: every
	 * function-probe program has one (fp_site_cookie) */
	sites_fd = fp_prog_map_fd(fp, prog, FP_SITES_MAP_NAME, 0);
	if (sites_fd < 0)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < n; i++) {
		/* ET_EXEC: run-time address = link-time address */
		__u64 addr = s[i].vaddr + bias;

		if (bpf_map_update_elem(sites_fd, &addr, &s[i].cookie,
					BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}

	snprintf(name, sizeof(name), "fp_%d_%u", (int)getpid(),
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	efd = uprobe_events_open(tfs);
	if (efd < 0) {
		err = -EOPNOTSUPP;	/* no CONFIG_UPROBE_EVENTS */
		goto out;
	}
	buf = malloc(UPROBE_EVENTS_CHUNK + PATH_MAX + 64);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* the first line creates the event, the others append to it
		 * (kernel >= 5.4: one event, many probes) */
		len += (size_t)sprintf(buf + len, "p:%s/%s %s:0x%" PRIx64 "\n",
				       SHARED_GROUP, name, real, s[i].off);
		if (len < UPROBE_EVENTS_CHUNK && i + 1 < n)
			continue;
		err = write_all(efd, buf, len);
		len = 0;
		if (err)	/* before 5.4, appending is EEXIST */
			goto out_event;
	}
	snprintf(p, sizeof(p), "%s/events/%s/%s/id", tfs, SHARED_GROUP, name);
	f = fopen(p, "re");
	if (!f || fscanf(f, "%ld", &id) != 1) {
		err = -EOPNOTSUPP;
		if (f)
			fclose(f);
		goto out_event;
	}
	fclose(f);

	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (__u64)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	/* as libbpf does for uprobes: one process, or every process by
	 * way of CPU 0 (a uprobe's BPF program runs whatever the CPU) */
	pfd = (int)syscall(__NR_perf_event_open, &attr, pid > 0 ? pid : -1,
			   pid > 0 ? -1 : 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		err = -errno;
		goto out_event;
	}
	{
		/* the by-address twin reads no cookie (and a kernel without
		 * the helper has no perf link to carry one) */
		LIBBPF_OPTS(bpf_perf_event_opts, o,
			    .bpf_cookie = fp->by_ip ? 0 : FP_SITE_BY_IP |
				(fp->chunk_gen ? fp->chunk_gen[0] : 0));

		link = bpf_program__attach_perf_event_opts(prog, pfd, &o);
	}
	if (!link) {
		err = -errno;
		close(pfd);
		goto out_event;
	}
	nev = realloc(fp->events, (fp->event_cnt + 1) * sizeof(*nev));
	if (nev)
		fp->events = nev;
	if (!nev || !(fp->events[fp->event_cnt] = strdup(name))) {
		err = -ENOMEM;
		bpf_link__destroy(link);
		goto out_event;
	}
	fp->event_cnt++;
	fp->links[fp->link_cnt++] = link;
	fp->shared_sites += n;
	p_info("%zu uprobes as one tracefs event %s/%s", n, SHARED_GROUP,
	       name);
	err = 0;
	goto out;
out_event:
	remove_event(tfs, name);
out:
	free(buf);
	if (efd >= 0)
		close(efd);
	close(sites_fd);
	return err;
}

/* A perf event per site is two descriptors per site (the event and its
 * BPF link): lift RLIMIT_NOFILE's soft limit (1024 by default) to the hard
 * one when n sites would pass it, or ~500 functions fail with EMFILE. */
static void raise_fd_limit(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max ||
	    rl.rlim_cur >= (rlim_t)n * 2 + 256)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		p_warn("cannot raise the open file limit: %s", strerror(errno));
}

static int attach_classic(struct funcprobe *fp, struct bpf_program *prog,
			  const char *path, pid_t pid,
			  const struct fp_site *s, size_t n)
{
	struct progress *pg;
	struct bpf_link **nl;
	int err;

	nl = realloc(fp->links, (fp->link_cnt + n) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	fp->links = nl;
	err = fp->per_site ? -EOPNOTSUPP :
	      attach_shared(fp, prog, path, pid, s, n);
	if (!err || err == -ENOMEM)
		return err;
	if (fp->by_ip) {
		/* a perf event per site needs a cookie per site */
		if (fp->gb && gobin__elf(fp->gb)->pie)
			p_err("%s is a PIE: without bpf_get_attach_cookie (Linux 5.15+) its functions can be told apart only in a running process: give -p PID",
			      path);
		else
			p_err("cannot attach uprobes to %s as one tracefs event (%s), the only way without bpf_get_attach_cookie (Linux 5.15+)",
			      path, strerror(-err));
		return -EOPNOTSUPP;
	}
	/* the per-site way says what is wrong if it fails as well */
	if (err != -EOPNOTSUPP)
		p_info("one uprobe event for all sites failed (%s): one per site",
		       strerror(-err));
	if (!fp->opts.force_classic)
		p_warn("attaching %zu uprobes one by one (each takes ~0.1 s to detach)",
		       n);
	fp->own_sites += n;
	raise_fd_limit(fp->link_cnt + n);
	/* on a terminal only (progress.c); the warning above says it anyway */
	pg = progress__start("attaching", "uprobes", n);
	for (size_t i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = s[i].cookie);
		struct bpf_link *l;

		/* libbpf: pid -1 is every process, 0 is ourselves */
		l = bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1,
						    path, s[i].off, &o);
		if (!l) {
			int err = -errno;

			progress__end(pg);
			return fp_attach_error(err, path, pid);
		}
		fp->links[fp->link_cnt++] = l;
		progress__add(pg, 1);
	}
	progress__end(pg);
	return 0;
}

/* Attach prog at classic sites s[0..n) (prog already the one loaded). */
int fp_attach_sites(struct funcprobe *fp, struct bpf_program *prog,
		    const char *path, pid_t pid, const struct fp_site *s,
		    size_t n)
{
	uint64_t start = mono_ns();
	int err;

	if (!n)
		return 0;
	if (fp->mode == FP_MODE_UNSET)
		fp->mode = FP_MODE_CLASSIC;
	err = attach_classic(fp, prog, path, pid, s, n);
	fp->attach_ms += (mono_ns() - start) / 1e6;
	return err;
}

struct detach_job {
	struct bpf_link **links;
	size_t cnt;
	size_t next;		/* shared cursor */
	pthread_mutex_t lock;
	struct progress *pg;
};

static void *detach_worker(void *arg)
{
	struct detach_job *j = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&j->lock);
		i = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->cnt)
			return NULL;
		bpf_link__destroy(j->links[i]);
		progress__add(j->pg, 1);
	}
}

void funcprobe__detach(struct funcprobe *fp)
{
	uint64_t start = mono_ns();

	if (fp)
		fp_join_closers(fp);
	if (!fp || (!fp->chunk_links && !fp->link_cnt && !fp->event_cnt))
		return;
	fp_close_chunk_links(fp);
	if (fp->link_cnt) {
		struct detach_job j = { .links = fp->links,
					.cnt = fp->link_cnt };
		pthread_t th[DETACH_THREADS];
		size_t nth = 0;

		if (fp->link_cnt > 16)
			fprintf(stderr, "%s: detaching %zu classic uprobes (the kernel takes a while for each)...\n",
				prog_name, fp->link_cnt);
		pthread_mutex_init(&j.lock, NULL);
		j.pg = progress__start("detaching", "uprobes", fp->link_cnt);
		for (; nth < DETACH_THREADS && nth < fp->link_cnt; nth++)
			if (pthread_create(&th[nth], NULL, detach_worker, &j))
				break;
		if (!nth)
			detach_worker(&j);
		for (size_t i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
		progress__end(j.pg);
		pthread_mutex_destroy(&j.lock);
		fp->link_cnt = 0;
	}
	/* the perf events are closed: their probes are unregistered */
	if (fp->event_cnt) {
		const char *tfs = tracefs__path();

		for (size_t i = 0; i < fp->event_cnt; i++) {
			int err = tfs ? remove_event(tfs, fp->events[i]) : -ENOENT;

			if (err)
				p_warn("cannot remove uprobe event %s/%s: %s",
				       SHARED_GROUP, fp->events[i],
				       strerror(-err));
			free(fp->events[i]);
		}
		fp->event_cnt = 0;
	}
	fp->detach_ms += (mono_ns() - start) / 1e6;
}

double funcprobe__attach_ms(const struct funcprobe *fp)
{
	return fp->attach_ms;
}

double funcprobe__detach_ms(const struct funcprobe *fp)
{
	return fp->detach_ms;
}
