// SPDX-License-Identifier: MIT
/*
 * gosnoop sched, user space without BPF: names, aggregation of the
 * records, and the table / JSON / events / Perfetto outputs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "gobin/gobin.h"
#include "json_writer.h"
#include "gobin/rt_tables.h"
#include "sched_perfetto.h"
#include "sched_int.h"
#include "record_out.h"
#include "sched_report.h"
#include "target.h"

/* ------------------------------------------------------------ names */

const char *sched_status_name(const struct sched_report *r, unsigned int st)
{
	static const char *const fallback[] = {
		"idle", "runnable", "running", "syscall", "waiting",
		"moribund_unused", "dead", "enqueue_unused", "copystack",
		"preempted",
	};
	const char *n = r->rel ? rt_gstatus_name(r->rel, st, NULL) : NULL;

	if (n)
		return n;
	if (st < sizeof(fallback) / sizeof(fallback[0]))
		return fallback[st];
	return "unknown";
}

const char *sched_reason_name(const struct sched_report *r, unsigned int w)
{
	static char buf[SCHED_NREASONS][16];
	const char *n = NULL;

	if (w < SCHED_NREASONS && r->bin_reasons[w])
		return r->bin_reasons[w];
	if (r->rel)
		n = rt_waitreason_name(r->rel, w);

	if (n && *n)
		return n;
	w &= SCHED_NREASONS - 1;
	snprintf(buf[w], sizeof(buf[w]), "reason %u", w);
	return buf[w];
}

const char *sched_report__status_name(const struct sched_report *r,
				      unsigned int st)
{
	return sched_status_name(r, st);
}

const char *sched_report__reason_name(const struct sched_report *r,
				      unsigned int w)
{
	return sched_reason_name(r, w);
}

/* A PIE's load bias, from the live process; retried until it is known
 * or the process is gone. */
static void find_bias(struct sched_report *r, struct pid_bias *p)
{
	int err;

	if (p->ok || p->gone)
		return;
	if (!gobin__elf(r->gb)->pie) {
		p->ok = true;
		return;
	}
	err = target__load_bias(p->pid, r->gb, &p->bias);
	if (!err) {
		p->ok = true;
	} else {
		/* gone (or a zombie, which has no exe), as opposed to not
		 * yet exec'd into the binary: stop asking */
		char exe[64];
		struct stat st;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", p->pid);
		if (stat(exe, &st))
			p->gone = true;
	}
}

struct pid_bias *sched_pid_info(struct sched_report *r, pid_t pid)
{
	struct pid_bias *p;

	for (size_t i = 0; i < r->pid_cnt; i++)
		if (r->pids[i].pid == pid) {
			find_bias(r, &r->pids[i]);
			return &r->pids[i];
		}
	p = realloc(r->pids, (r->pid_cnt + 1) * sizeof(*p));
	if (!p)
		return NULL;
	r->pids = p;
	p = &r->pids[r->pid_cnt++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	find_bias(r, p);
	return p;
}

void sched_report__note_pid(struct sched_report *r, pid_t pid)
{
	sched_pid_info(r, pid);
}

static uint64_t to_vaddr(struct sched_report *r, pid_t pid, uint64_t pc)
{
	struct pid_bias *p = sched_pid_info(r, pid);

	if (!p || !p->ok || pc < p->bias)
		return pc;
	return pc - p->bias;
}

/* Does name end in ".<word><digits>(.<digits>)*"? */
static bool ends_with_numbered(const char *name, const char *word)
{
	size_t wl = strlen(word);
	const char *p = name + strlen(name);

	/* strip ".N" suffixes of nested closures, then <word>N */
	for (;;) {
		const char *q = p;

		while (q > name && q[-1] >= '0' && q[-1] <= '9')
			q--;
		if (q == p)
			return false;
		if ((size_t)(q - name) >= wl + 1 &&
		    !strncmp(q - wl, word, wl) && q[-wl - 1] == '.')
			return true;
		if (q > name && q[-1] == '.') {
			p = q - 1;
			continue;
		}
		return false;
	}
}

/* go1.17 named go/defer wrappers "outer·dwrap·N" (U+00B7 middle dots). */
static bool is_dwrap(const char *name)
{
	const char *p = strstr(name, "\xc2\xb7" "dwrap" "\xc2\xb7");

	if (!p)
		return false;
	p += 2 + 5 + 2;
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/*
 * go-statement wrappers (go/src/cmd/compile/internal/walk/order.go,
 * wrapGoDefer): go1.18-1.20 name them like closures, "outer.funcN", so
 * only the WRAPPER prologue tells them from a user's closure; go1.21
 * renamed them "outer.gowrapN".
 */
static const struct gobin_func *go_wrapper_callee(const struct sched_report *r,
						  const struct gobin_func *f)
{
	const struct gobin_func *callee;
	int minor = gobin__go_minor(r->gb);
	bool marked = false;

	if (ends_with_numbered(f->name, "gowrap") || is_dwrap(f->name)) {
		if (!gobin__wrapper_callee(r->gb, f, &callee, NULL))
			return callee;
		return NULL;
	}
	if ((minor < 0 || minor >= 17) && ends_with_numbered(f->name, "func") &&
	    !gobin__wrapper_callee(r->gb, f, &callee, &marked) && marked)
		return callee;
	return NULL;
}

const struct sched_start_name *sched_start_of(struct sched_report *r, pid_t pid,
					 uint64_t startpc)
{
	uint64_t va = to_vaddr(r, pid, startpc);
	const struct gobin_func *f, *callee;
	struct sched_start_name *n;

	for (size_t i = 0; i < r->name_cnt; i++)
		if (r->names[i].vaddr == va)
			return &r->names[i];
	if (r->name_cnt == r->name_cap) {
		size_t cap = r->name_cap ? 2 * r->name_cap : 64;

		n = realloc(r->names, cap * sizeof(*n));
		if (!n)
			return NULL;
		r->names = n;
		r->name_cap = cap;
	}
	n = &r->names[r->name_cnt++];
	memset(n, 0, sizeof(*n));
	n->vaddr = va;
	f = gobin__func_at(r->gb, va);
	if (!f) {
		char hex[24];

		/* a string of its own: the array moves when it grows */
		snprintf(hex, sizeof(hex), "0x%" PRIx64, startpc);
		n->hex = strdup(hex);
		n->start = n->hex ? n->hex : "?";
		return n;
	}
	n->start = f->name;
	callee = go_wrapper_callee(r, f);
	if (callee) {
		n->start = callee->name;
		n->wrapper = f->name;
	}
	return n;
}

const char *sched_start_name(struct sched_report *r, pid_t pid,
			      uint64_t startpc)
{
	const struct sched_start_name *n = sched_start_of(r, pid, startpc);

	return n ? n->start : "?";
}

/* Creator: the function (innermost inlined frame) holding the go
 * statement; gopc is the return address of the call to newproc. */
const char *sched_creator_of(struct sched_report *r, pid_t pid,
			      uint64_t gopc, const char **file, int *line)
{
	struct gobin_frame fr[8];
	uint64_t va;
	int n;

	*file = NULL;
	*line = 0;
	if (!gopc)
		return NULL;
	va = to_vaddr(r, pid, gopc);
	n = gobin__pc_frames(r->gb, va > 0 ? va - 1 : va, fr, 8);
	if (n <= 0) {
		const struct gobin_func *f = gobin__func_at(r->gb, va);

		return f ? f->name : NULL;
	}
	*file = fr[0].file;
	*line = fr[0].line;
	return fr[0].func;
}

bool sched_goid_wanted(const struct sched_report *r, uint64_t goid)
{
	if (!r->opts.goid_cnt)
		return true;
	for (size_t i = 0; i < r->opts.goid_cnt; i++)
		if (r->opts.goids[i] == goid)
			return true;
	return false;
}

bool sched_start_wanted(struct sched_report *r, pid_t pid, uint64_t startpc)
{
	const struct sched_start_name *n;

	if (!r->opts.start || !r->opts.start->cnt)
		return true;
	n = sched_start_of(r, pid, startpc);
	if (!n)
		return false;
	return patterns__match(r->opts.start, n->start) ||
	       (n->wrapper && patterns__match(r->opts.start, n->wrapper));
}

/* ------------------------------------------------------------ formatting */

char *sched_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns == 0)
		snprintf(buf, len, "0");
	else if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}

/* ------------------------------------------------------------ lifecycle */

/*
 * The binary's own runtime.waitReasonStrings ([...]string, runtime2.go)
 * when it has a symbol table: right for any release, also one the table
 * does not know. Each entry is a Go string header (ptr, len).
 */
static void read_bin_reasons(struct sched_report *r)
{
	const struct gobin_sym *sym =
		gobin__sym_by_name(r->gb, "runtime.waitReasonStrings");
	size_t n;

	if (!sym || sym->size % 16)
		return;
	n = sym->size / 16;
	for (size_t i = 0; i < n && i < SCHED_NREASONS; i++) {
		const uint8_t *hdr = gobin__ptr(r->gb, sym->addr + 16 * i, 16);
		const char *str;
		uint64_t ptr, len;

		if (!hdr)
			return;
		memcpy(&ptr, hdr, 8);	/* little-endian host (x86-64) */
		memcpy(&len, hdr + 8, 8);
		if (len == 0 || len > 128)
			continue;
		str = gobin__ptr(r->gb, ptr, len);
		if (str)
			r->bin_reasons[i] = strndup(str, len);
	}
}

int sched_report__new(const struct gobin *gb,
		      const struct sched_report_opts *opts,
		      struct sched_report **out)
{
	struct sched_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->gb = gb;
	r->opts = *opts;
	r->rel = rt_release_lookup(gobin__go_minor(gb));
	read_bin_reasons(r);
	if (opts->json) {
		r->jw = jw_new(stdout);
		if (!r->jw)
			goto nomem;
	}
	*out = r;
	return 0;
nomem:
	sched_report__free(r);
	return -ENOMEM;
}

void sched_report__free(struct sched_report *r)
{
	if (!r)
		return;
	jw_free(r->jw);
	sched_perfetto__free(r->pf);
	free(r->gs);
	free(r->pids);
	for (size_t i = 0; i < r->name_cnt; i++)
		free(r->names[i].hex);
	for (size_t i = 0; i < SCHED_NREASONS; i++)
		free(r->bin_reasons[i]);
	free(r->names);
	free(r);
}

int sched_report__set_start(struct sched_report *r, uint64_t ns)
{
	r->start_ns = ns;
	if (r->opts.perfetto && !r->pf)
		return sched_perfetto__open(r->opts.perfetto, ns, &r->pf);
	return 0;
}

void sched_report__saw_pid_at(struct sched_report *r, pid_t pid, uint64_t ns)
{
	struct pid_bias *p = sched_pid_info(r, pid);

	if (p && ns > p->last_seen_ns)
		p->last_seen_ns = ns;
}

void sched_report__set_exit(struct sched_report *r, pid_t pid, uint64_t ns)
{
	struct pid_bias *p = sched_pid_info(r, pid);

	if (p && !p->exit_ns)
		p->exit_ns = ns;
}

void sched_report__set_probe(struct sched_report *r, uint64_t addr,
			     const char *func, const char *why, bool emulated)
{
	r->probe_addr = addr;
	r->probe_func = func;
	r->probe_why = why;
	r->probe_emulated = emulated;
}

void sched_report__set_hist(struct sched_report *r,
			    const uint64_t hist[SCHED_HIST_SLOTS])
{
	memcpy(r->hist, hist, sizeof(r->hist));
}

void sched_report__set_reasons(struct sched_report *r,
			       const struct sched_reason_stat *rs)
{
	memcpy(r->reasons, rs, sizeof(r->reasons));
}

void sched_report__set_stats(struct sched_report *r,
			     const uint64_t stats[SCHED_NSTATS])
{
	memcpy(r->stats, stats, sizeof(r->stats));
}

static int add_g(struct sched_report *r, __u32 pid, const struct sched_g *g,
		 bool ended)
{
	const struct gobin_func *main;
	struct pid_bias *p;
	struct rep_g *e;

	if (r->g_cnt == r->g_cap) {
		size_t cap = r->g_cap ? 2 * r->g_cap : 256;

		e = realloc(r->gs, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		r->gs = e;
		r->g_cap = cap;
	}
	e = &r->gs[r->g_cnt++];
	e->pid = pid;
	e->ended = ended;
	e->snap = !ended;
	e->g = *g;
	/* names of a PIE need the process alive: resolve the bias now */
	p = sched_pid_info(r, pid);
	/* else goroutine 1 tells it: it starts at runtime.main (proc.go
	 * rt0_go -> newproc(runtime.main), every release) */
	if (p && !p->ok && g->goid == 1 && (main = gobin__func_by_name(
			r->gb, "runtime.main")) && g->startpc >= main->entry &&
	    !((g->startpc - main->entry) & 0xfff)) {
		p->bias = g->startpc - main->entry;
		p->ok = true;
	}
	return 0;
}

int sched_report__add_live(struct sched_report *r, __u32 pid,
			   const struct sched_g *g, uint64_t end_ns)
{
	struct sched_g copy = *g;
	struct pid_bias *p = sched_pid_info(r, pid);
	uint64_t end = p && p->exit_ns ? p->exit_ns :
		       p && p->last_seen_ns ? p->last_seen_ns : end_ns;

	/* the state it is still in counts until the end of the trace */
	if (end > copy.last_ns)
		copy.ns[copy.last_state & (SCHED_NSTATUS - 1)] +=
			end - copy.last_ns;
	if (copy.last_state == SCHED_G_WAITING && end > copy.last_ns) {
		struct sched_reason_stat *rs =
			&r->reasons[copy.last_reason & (SCHED_NREASONS - 1)];

		rs->count++;
		rs->ns += end - copy.last_ns;
	}
	return add_g(r, pid, &copy, false);
}

/* ------------------------------------------------------------ events */

static struct sched_pf_state pf_state(const struct sched_report *r,
				      unsigned int st, unsigned int reason)
{
	struct sched_pf_state ps = {};

	if (st == SCHED_G_DEAD || st == SCHED_G_IDLE)
		return ps;
	ps.name = sched_status_name(r, st);
	if (st == SCHED_G_WAITING)
		ps.reason = sched_reason_name(r, reason);
	return ps;
}

/* "g<goid> <start function>": the name of a goroutine's track */
static void pf_track_name(struct sched_report *r, __u32 pid, __u64 goid,
			  uint64_t startpc, char *buf, size_t len)
{
	snprintf(buf, len, "g%llu %s", (unsigned long long)goid,
		 sched_start_name(r, pid, startpc));
}

static void pf_transition(struct sched_report *r,
			  const struct sched_transition *e)
{
	char name[256];

	pf_track_name(r, e->pid, e->goid, e->startpc, name, sizeof(name));
	/* from_reason: the probe's (or the attach snapshot's) reason of the
	 * wait it leaves, for the slice before the first change seen */
	sched_perfetto__change(r->pf, e->pid, e->goid, e->tid, e->ts_ns, name,
			       pf_state(r, e->from, e->from_reason),
			       pf_state(r, e->to, e->reason));
}

void sched_pf_add_unchanged(struct sched_report *r)
{
	char name[256];

	for (size_t i = 0; r->pf && i < r->g_cnt; i++) {
		const struct rep_g *e = &r->gs[i];

		if (e->ended || !sched_goid_wanted(r, e->g.goid) ||
		    !sched_start_wanted(r, e->pid, e->g.startpc))
			continue;
		pf_track_name(r, e->pid, e->g.goid, e->g.startpc, name,
			      sizeof(name));
		sched_perfetto__unchanged(r->pf, e->pid, e->g.goid,
					  e->g.last_tid, e->g.last_ns, name,
					  pf_state(r, e->g.last_state,
						   e->g.last_reason));
	}
}

static void print_event(struct sched_report *r,
			const struct sched_transition *e)
{
	const char *reason = e->to == SCHED_G_WAITING ?
			     sched_reason_name(r, e->reason) : NULL;

	if (r->jw) {
		struct jw *jw = r->jw;

		jw_start_object(jw);
		jw_name(jw, "type"); jw_string(jw, "transition");
		jw_name(jw, "ts_ns"); jw_uint(jw, e->ts_ns);
		jw_name(jw, "pid"); jw_uint(jw, e->pid);
		jw_name(jw, "tid"); jw_uint(jw, e->tid);
		jw_name(jw, "goid"); jw_uint(jw, e->goid);
		jw_name(jw, "from"); jw_string(jw, sched_status_name(r, e->from));
		jw_name(jw, "to"); jw_string(jw, sched_status_name(r, e->to));
		if (reason) {
			jw_name(jw, "reason"); jw_string(jw, reason);
		}
		if (e->from == SCHED_G_WAITING) {
			jw_name(jw, "from_reason");
			jw_string(jw, sched_reason_name(r, e->from_reason));
		}
		jw_end_object(jw);
		jw_end_line(jw);
		record_out__end();
		return;
	}
	if (!r->events_header) {
		printf("%-11s %7s %7s %7s %-9s    %-9s %s\n", "TIME(s)", "PID",
		       "TID", "GOID", "FROM", "TO", "REASON");
		r->events_header = true;
	}
	printf("%-11.6f %7u %7u %7llu %-9s -> %-9s %s\n",
	       e->ts_ns >= r->start_ns ? (e->ts_ns - r->start_ns) / 1e9 : 0.0,
	       e->pid, e->tid, (unsigned long long)e->goid,
	       sched_status_name(r, e->from), sched_status_name(r, e->to),
	       reason ? reason : "");
	record_out__end();
}

int sched_report__record(struct sched_report *r, const void *data,
			 size_t size)
{
	__u32 type;

	if (size < sizeof(type))
		return 0;
	memcpy(&type, data, sizeof(type));
	if (type == SCHED_REC_END && size >= sizeof(struct sched_end)) {
		struct sched_end e;

		memcpy(&e, data, sizeof(e));
		return add_g(r, e.pid, &e.g, true);
	}
	if (type == SCHED_REC_TRANSITION &&
	    size >= sizeof(struct sched_transition)) {
		struct sched_transition e;

		memcpy(&e, data, sizeof(e));
		if (!sched_goid_wanted(r, e.goid) ||
		    !sched_start_wanted(r, e.pid, e.startpc))
			return 0;
		if (r->pf)
			pf_transition(r, &e);
		if (r->opts.events || r->opts.json) {
			print_event(r, &e);
			record_out__flush();
		}
	}
	return 0;
}

