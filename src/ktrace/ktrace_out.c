// SPDX-License-Identifier: MIT
/*
 * ktrace output: decode one ring buffer record with the probe's outputs
 * (ktrace_probe.h) and print it as text or as a JSON line (ktrace_out.h).
 * Text: "TIME PID/TID COMM [gGOID START] EVENT name=value ...", one line
 * per event; values are what they are (a long argv makes a long line).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin/gobin.h"
#include "json_writer.h"
#include "ktrace_out.h"
#include "ktrace_probe.h"

static const char *errno_name(int64_t v)
{
	static char buf[24];
	const char *n = NULL;

	if (v < 0 && v > -4096)
		n = strerrorname_np((int)-v);
	if (!n)
		return NULL;
	snprintf(buf, sizeof(buf), "-%s", n);
	return buf;
}

/*
 * Text numbers without printf: at 100 000+ events a second, the reader
 * shares the CPUs with the traced program, and vfprintf's format parsing
 * (and its floating point for the time stamp) was most of its time.
 */
static void put_u64(FILE *f, uint64_t v, bool neg)
{
	char b[24];
	int i = sizeof(b);

	do
		b[--i] = '0' + v % 10;
	while (v /= 10);
	if (neg)
		b[--i] = '-';
	fwrite_unlocked(b + i, 1, sizeof(b) - i, f);
}

static void put_i64(FILE *f, int64_t v)
{
	put_u64(f, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

static void put_hex(FILE *f, uint64_t v)
{
	char b[20];
	int i = sizeof(b);

	do
		b[--i] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	b[--i] = 'x';
	b[--i] = '0';
	fwrite_unlocked(b + i, 1, sizeof(b) - i, f);
}

/* Seconds since t0 as "%10.6f" would print them (truncated to the µs). */
static void put_time(FILE *f, uint64_t ns)
{
	char b[32];
	uint64_t us = ns / 1000, sec = us / 1000000;
	int i = sizeof(b), frac = us % 1000000;

	for (int k = 0; k < 6; k++, frac /= 10)
		b[--i] = '0' + frac % 10;
	b[--i] = '.';
	do
		b[--i] = '0' + sec % 10;
	while (sec /= 10);
	while (sizeof(b) - i < 10)
		b[--i] = ' ';
	fwrite_unlocked(b + i, 1, sizeof(b) - i, f);
}

/* Text: a quoted string with C escapes. */
static void put_quoted(FILE *f, const uint8_t *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static size_t cstrlen(const uint8_t *s, size_t max)
{
	const uint8_t *z = memchr(s, 0, max);

	return z ? (size_t)(z - s) : max;
}

/*
 * A string the BPF side did not read (src/bpf/ktrace.h KT_STR_*): "NULL"
 * for a NULL pointer, "?" when the read failed (its page was not
 * resident: a tracepoint program cannot fault it in), else NULL for a
 * string that was read, empty or not.
 */
static const char *str_missing(const uint8_t *s, size_t len)
{
	if (len < 2 || s[0])
		return NULL;
	if (s[1] == KT_STR_NULL)
		return "NULL";
	if (s[1] == KT_STR_UNREADABLE)
		return "?";
	return NULL;
}

/* The same for the count of a buffer (KT_BUF_*). */
static const char *buf_missing(uint32_t count)
{
	if (count == KT_BUF_NULL)
		return "NULL";
	if (count == KT_BUF_UNREADABLE)
		return "?";
	return NULL;
}

/* An enumerator's or errno's name, or the number when it has none. */
static void put_name_or_int(FILE *f, struct jw *jw, const char *name,
			    int64_t v)
{
	if (jw && name)
		jw_string(jw, name);
	else if (jw)
		jw_int(jw, v);
	else if (name)
		fputs(name, f);
	else
		fprintf(f, "%" PRId64, v);
}

/* A string or buffer the BPF side did not read: null in JSON, the
 * reason unquoted in text. */
static void put_missing(FILE *f, struct jw *jw, const char *why)
{
	if (jw)
		jw_null(jw);
	else
		fputs(why, f);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void put_value(struct kt_out_ctx *c, struct jw *jw,
		      const struct kt_out *o, const uint8_t *d)
{
	FILE *f = c->f;
	char ip[INET6_ADDRSTRLEN];
	uint64_t u;
	uint32_t n, cut;
	const char *name;

	switch (o->fmt) {
	case KT_FMT_INT:
		u = get_u64(d);
		if (jw)
			jw_int(jw, (int64_t)u);
		else
			put_i64(f, (int64_t)u);
		return;
	case KT_FMT_UINT:
		u = get_u64(d);
		if (jw)
			jw_uint(jw, u);
		else
			put_u64(f, u, false);
		return;
	case KT_FMT_HEX:
		u = get_u64(d);
		if (jw)
			jw_hex(jw, u);
		else
			put_hex(f, u);
		return;
	case KT_FMT_BOOL:
		u = get_u64(d);
		if (jw)
			jw_bool(jw, u != 0);
		else
			fputs(u ? "true" : "false", f);
		return;
	case KT_FMT_ENUM:
		u = get_u64(d);
		name = kt_btf__enum_name(c->btf, o->btf_id, (int64_t)u);
		put_name_or_int(f, jw, name, (int64_t)u);
		return;
	case KT_FMT_ERRNO:
		u = get_u64(d);
		name = errno_name((int64_t)u);
		put_name_or_int(f, jw, name, (int64_t)u);
		return;
	case KT_FMT_STR:
		name = str_missing(d, o->len);
		if (name) {
			put_missing(f, jw, name);
			return;
		}
		n = cstrlen(d, o->len);
		if (jw)
			jw_string_len(jw, (const char *)d, n);
		else
			put_quoted(f, d, n);
		return;
	case KT_FMT_BUF:
		n = get_u32(d);
		name = buf_missing(n);
		if (name) {
			put_missing(f, jw, name);
			return;
		}
		if (n > (uint32_t)o->len - 4)
			n = o->len - 4;
		if (jw)
			jw_string_len(jw, (const char *)d + 4, n);
		else
			put_quoted(f, d + 4, n);
		return;
	case KT_FMT_STRV:
		n = get_u32(d);
		if (n > KT_STRV_MAX)
			n = KT_STRV_MAX;
		/* the array: NULL, unreadable, or unreadable past entry n */
		cut = get_u32(d + 4);
		name = cut == KT_STR_NULL ? "NULL" :
		       cut == KT_STR_UNREADABLE ? "?" : NULL;
		if (name && !n) {
			put_missing(f, jw, name);
			return;
		}
		if (jw)
			jw_start_array(jw);
		else
			fputc('[', f);
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *s = d + 8 + (size_t)i * o->strv_len;
			size_t l = cstrlen(s, o->strv_len);
			const char *why = str_missing(s, o->strv_len);

			if (!jw && i)
				fputc(' ', f);
			if (why)
				put_missing(f, jw, why);
			else if (jw)
				jw_string_len(jw, (const char *)s, l);
			else
				put_quoted(f, s, l);
		}
		if (name) {
			if (!jw && n)
				fputc(' ', f);
			put_missing(f, jw, name);
		}
		if (jw)
			jw_end_array(jw);
		else
			fputc(']', f);
		return;
	case KT_FMT_IP4:
	case KT_FMT_IP6:
		inet_ntop(o->fmt == KT_FMT_IP4 ? AF_INET : AF_INET6, d, ip,
			  sizeof(ip));
		if (jw)
			jw_string(jw, ip);
		else
			fputs(ip, f);
		return;
	}
}

/*
 * The function a goroutine runs, from g.startpc: `go f(x)` starts a
 * compiler-made wrapper (main.main.func1, main.main.gowrap1) that calls
 * f; name f then, as a reader of the source would. A small cache keeps
 * the disassembly off the per-event path.
 */
static const char *start_name(struct kt_out_ctx *c, uint64_t startpc)
{
	static struct { uint64_t pc; const char *name; } cache[256];
	const struct gobin_func *fn, *callee;
	/* keyed by the file's address: processes of a PIE differ in bias */
	uint64_t pc = startpc - c->bias;
	size_t h = (pc >> 4) % 256;

	if (!c->gb || !startpc)
		return NULL;
	if (cache[h].pc == pc)
		return cache[h].name;
	fn = gobin__func_at(c->gb, pc);
	if (!fn)
		return NULL;
	if (!gobin__wrapper_callee(c->gb, fn, &callee, NULL))
		fn = callee;
	cache[h].pc = pc;
	cache[h].name = fn->name;
	return fn->name;
}

/* ------------------------------------------------------------ --stack */

/* /proc/kallsyms, sorted, read at the first kernel stack. */
struct ksym {
	uint64_t addr;
	char *name;
};

static struct {
	struct ksym *syms;
	size_t n;
	bool loaded;
} ksyms;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void ksyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;

	ksyms.loaded = true;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct ksym *n;

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    !addr || (type != 't' && type != 'T'))
			continue;
		if (ksyms.n == cap) {
			cap = cap ? 2 * cap : 65536;
			n = realloc(ksyms.syms, cap * sizeof(*n));
			if (!n)
				break;
			ksyms.syms = n;
		}
		ksyms.syms[ksyms.n].addr = addr;
		ksyms.syms[ksyms.n].name = strdup(name);
		if (ksyms.syms[ksyms.n].name)
			ksyms.n++;
	}
	fclose(f);
	qsort(ksyms.syms, ksyms.n, sizeof(*ksyms.syms), ksym_cmp);
}

void kt_out__free(void)
{
	for (size_t i = 0; i < ksyms.n; i++)
		free(ksyms.syms[i].name);
	free(ksyms.syms);
	memset(&ksyms, 0, sizeof(ksyms));
}

/* "sym+0xoff", or the address when kallsyms hides them (kptr_restrict) */
static void ksym_str(uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi;

	if (!ksyms.loaded)
		ksyms_load();
	hi = ksyms.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ksyms.syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return;
	}
	snprintf(buf, len, "%s+0x%" PRIx64, ksyms.syms[lo - 1].name,
		 addr - ksyms.syms[lo - 1].addr);
}

#define KT_INLINE_MAX 8

/*
 * One --stack area: bpf_get_stack's byte count (or -errno), then the
 * frames. Kernel frames by kallsyms; user frames by the target's pclntab
 * (with inlined frames) when the event came from one of its goroutines,
 * else as addresses. The first user frame is where the task was (its
 * IP), the others return addresses: their CALL is one byte before.
 */
static void put_stack(struct kt_out_ctx *c, struct jw *jw, const __u8 *area,
		      bool kernel, bool go)
{
	__s64 bytes;
	struct gobin_frame fr[KT_INLINE_MAX];
	char sym[320];
	int n;

	memcpy(&bytes, area, 8);
	n = bytes > 0 ? (int)(bytes / 8) : 0;
	if (n > KT_STACK_BYTES / 8)
		n = KT_STACK_BYTES / 8;
	if (jw) {
		jw_name(jw, kernel ? "kstack" : "ustack");
		jw_start_array(jw);
	}
	for (int i = 0; i < n; i++) {
		uint64_t pc;
		int nf = 0;

		memcpy(&pc, area + 8 + 8 * i, 8);
		if (kernel) {
			ksym_str(pc, sym, sizeof(sym));
			if (jw)
				jw_string(jw, sym);
			else
				fprintf(c->f, "        [k] %s\n", sym);
			continue;
		}
		if (go && c->gb && pc > c->bias + (i > 0))
			nf = gobin__pc_frames(c->gb, pc - c->bias - (i > 0),
					      fr, KT_INLINE_MAX);
		if (nf <= 0) {
			if (jw) {
				jw_start_object(jw);
				jw_name(jw, "pc");
				jw_hex(jw, pc);
				jw_end_object(jw);
			} else {
				fprintf(c->f, "        0x%" PRIx64 "\n", pc);
			}
			continue;
		}
		for (int j = 0; j < nf; j++) {
			if (!jw) {
				fprintf(c->f, "        %s (%s:%d)%s\n",
					fr[j].func ? fr[j].func : "?",
					fr[j].file ? fr[j].file : "?",
					fr[j].line,
					fr[j].inlined ? " [inlined]" : "");
				continue;
			}
			jw_start_object(jw);
			jw_name(jw, "func");
			jw_string(jw, fr[j].func ? fr[j].func : "?");
			jw_name(jw, "file");
			jw_string(jw, fr[j].file ? fr[j].file : "?");
			jw_name(jw, "line");
			jw_int(jw, fr[j].line);
			if (fr[j].inlined) {
				jw_name(jw, "inlined");
				jw_bool(jw, true);
			}
			jw_end_object(jw);
		}
	}
	if (jw)
		jw_end_array(jw);
}

static void put_stacks(struct kt_out_ctx *c, struct jw *jw,
		       const struct kt_probe *p, const struct kt_event *ev)
{
	bool go = ev->flags & KT_EV_GOID;

	if (p->stack_kinds & KT_STACK_KERNEL)
		put_stack(c, jw, ev->data + p->kstack_off, true, go);
	if (p->stack_kinds & KT_STACK_USER)
		put_stack(c, jw, ev->data + p->ustack_off, false, go);
}

/* The probe's short name for text lines: the event or function. */
static const char *short_name(const struct kt_probe *p)
{
	return p->name;
}

int kt_out__record(void *ctx, void *data, size_t size)
{
	struct kt_out_ctx *c = ctx;
	const struct kt_event *ev = data;
	const char *fn = NULL;
	const struct kt_probe *p;
	struct jw *jw = NULL;
	bool has_g;
	char comm[17];

	if (size < KT_EVENT_HDR_SIZE || ev->probe >= c->nprobes)
		return 0;
	if (c->max && c->count >= c->max)
		return 0;
	p = c->probes[ev->probe];
	if (size < KT_EVENT_HDR_SIZE + p->spec.data_len)
		return 0;
	memcpy(comm, ev->comm, 16);
	comm[16] = '\0';
	has_g = ev->flags & KT_EV_GOID;
	if (has_g && c->bias_from_event && ev->start_code)
		c->bias = ev->start_code - c->exec_vaddr;
	if (has_g)
		fn = start_name(c, ev->startpc);
	c->count++;
	if (c->json) {
		jw = jw_new(c->f);
		if (!jw)
			return -1;
		jw_start_object(jw);
		jw_name(jw, "type"); jw_string(jw, "kevent");
		jw_name(jw, "probe"); jw_string(jw, p->text);
		jw_name(jw, "ts_ns"); jw_uint(jw, ev->ts_ns);
		jw_name(jw, "pid"); jw_uint(jw, ev->tgid);
		jw_name(jw, "tid"); jw_uint(jw, ev->tid);
		jw_name(jw, "comm"); jw_string(jw, comm);
		jw_name(jw, "goid");
		if (has_g)
			jw_uint(jw, ev->goid);
		else
			jw_null(jw);
		if (fn) {
			jw_name(jw, "start"); jw_string(jw, fn);
		}
		jw_name(jw, "cpu"); jw_uint(jw, ev->cpu);
		jw_name(jw, "args");
		jw_start_object(jw);
		for (size_t i = 0; i < p->nout; i++) {
			jw_name(jw, p->outs[i].name);
			put_value(c, jw, &p->outs[i], ev->data + p->outs[i].off);
		}
		jw_end_object(jw);
		put_stacks(c, jw, p, ev);
		jw_end_object(jw);
		jw_end_line(jw);
		jw_free(jw);
		return 0;
	}
	put_time(c->f, ev->ts_ns > c->t0_ns ? ev->ts_ns - c->t0_ns : 0);
	fputc_unlocked(' ', c->f);
	put_u64(c->f, ev->tgid, false);
	fputc_unlocked('/', c->f);
	put_u64(c->f, ev->tid, false);
	fputc_unlocked(' ', c->f);
	fputs_unlocked(comm, c->f);
	if (has_g) {
		fputs_unlocked(" g", c->f);
		put_u64(c->f, ev->goid, false);
		if (fn) {
			fputc_unlocked(' ', c->f);
			fputs_unlocked(fn, c->f);
		}
	}
	fputc_unlocked(' ', c->f);
	fputs_unlocked(short_name(p), c->f);
	for (size_t i = 0; i < p->nout; i++) {
		fputc_unlocked(' ', c->f);
		fputs_unlocked(p->outs[i].name, c->f);
		fputc_unlocked('=', c->f);
		put_value(c, NULL, &p->outs[i], ev->data + p->outs[i].off);
	}
	fputc_unlocked('\n', c->f);
	put_stacks(c, NULL, p, ev);
	return 0;
}
