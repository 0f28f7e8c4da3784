// SPDX-License-Identifier: MIT
/*
 * The Go toolchain version and the build information of a Go binary.
 *
 * 1. .go.buildinfo, written by the linker (cmd/link/internal/ld/data.go,
 *    Link.buildinfo; read by cmd/go/internal/version/version.go up to
 *    go1.17 and by src/debug/buildinfo/buildinfo.go from go1.18): a
 *    16-byte aligned 32-byte header "\xff Go buildinf:", pointer size (1
 *    byte), flags (1 byte: bit 0 big endian, bit 1 "inline strings").
 *    Up to go1.17 two pointers follow, to the Go string headers (ptr, len)
 *    of runtime.buildVersion and runtime.modinfo. From go1.18 (flag bit 1)
 *    the two strings follow the header inline, each a uvarint length and
 *    the bytes. modinfo is framed by two 16-byte sentinels
 *    (cmd/go/internal/modload/build.go infoStart/infoEnd), which
 *    debug/buildinfo strips when len >= 33 and mod[len-17] == '\n'; its
 *    lines are parsed like runtime/debug.ParseBuildInfo (mod.go, go1.18 to
 *    go1.26 alike; older binaries have the same path/mod/dep/=> lines and
 *    no "build" lines, and go1.19's `go version -m` reads them all).
 * 2. No blob (esbuild >= 0.27 patches the linker) or no version in it:
 *    runtime.buildVersion, a Go string set by the linker
 *    (cmd/link/internal/ld/main.go: buildcfg.Version, plus " X:<exps>"
 *    for GOEXPERIMENTs), found through .symtab.
 * 3. Stripped: the string header of runtime.buildVersion is found by
 *    scanning writable data for 16-byte aligned (ptr, len) pairs whose
 *    bytes, in a read-only segment, look like a Go version. The linker
 *    aligns a 16-byte data symbol to 16 (symalign in
 *    cmd/link/internal/ld/data.go: Maxalign 32 halved down to the size).
 *    Other strings of the program may look like versions too, so a
 *    candidate must agree with the pclntab format, and runtime.schedinit,
 *    which reads buildVersion ("if buildVersion == \"\"" in
 *    src/runtime/proc.go, go1.13 .. go1.26, to keep the symbol alive),
 *    tells the real one apart: its code addresses the header RIP-relative
 *    (checked on every corpus release, go1.13 to go1.26, and on go1.19
 *    PIE, cgo and externally linked builds).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin_int.h"

#define BI_MAGIC	"\xff Go buildinf:"
#define BI_MAGIC_LEN	14
#define BI_HDR_LEN	32
#define BI_ALIGN	16
#define BI_FLAG_INLINE	2	/* go1.18+: strings follow the header */
#define MODINFO_FRAME	16	/* sentinel bytes at each end of modinfo */
#define VERSION_MAX	256	/* longer "versions" are garbage */
#define SCHEDINIT_MAX	(1 << 20)

struct raw_buildinfo {
	bool inline_strings;
	const uint8_t *vers, *mod;
	size_t vers_len, mod_len;
};

/* The file-backed bytes from vaddr to the end of the PT_LOAD segment that
 * holds it, and that segment's p_flags; NULL if none. */
static const uint8_t *segment_tail(const struct gobin *gb, uint64_t vaddr,
				   size_t *avail, uint32_t *flags)
{
	for (size_t i = 0; i < gb->phdr_cnt; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];
		uint64_t off;

		if (ph->p_type != PT_LOAD || vaddr < ph->p_vaddr)
			continue;
		off = vaddr - ph->p_vaddr;
		if (off >= ph->p_filesz)
			continue;
		if (ph->p_offset > gb->img_len ||
		    ph->p_filesz > gb->img_len - ph->p_offset)
			continue;
		*avail = (size_t)(ph->p_filesz - off);
		if (flags)
			*flags = ph->p_flags;
		return gb->img + ph->p_offset + off;
	}
	return NULL;
}

/* encoding/binary.Uvarint: bytes used, or -1 (truncated, overflow). */
static int uvarint(const uint8_t *p, size_t avail, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int shift = 0;

	for (size_t i = 0; i < avail && i < 10; i++) {
		if (p[i] < 0x80) {
			if (i == 9 && p[i] > 1)
				return -1;
			*v = x | (uint64_t)p[i] << shift;
			return (int)i + 1;
		}
		x |= (uint64_t)(p[i] & 0x7f) << shift;
		shift += 7;
	}
	return -1;
}

/* One uvarint-prefixed string (debug/buildinfo decodeString); returns the
 * bytes consumed or -1. */
static long inline_string(const uint8_t *p, size_t avail,
			  const uint8_t **s, size_t *len)
{
	uint64_t n;
	int used = uvarint(p, avail, &n);

	if (used < 0 || n > avail - (size_t)used)
		return -1;
	*s = p + used;
	*len = (size_t)n;
	return used + (long)n;
}

static uint64_t read_uint(const uint8_t *p, unsigned int size, bool be)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
	return v;
}

/* The Go string whose header (ptr, len) is at vaddr; false if any part
 * of it is not in the file. */
static bool string_at(const struct gobin *gb, uint64_t vaddr,
		      unsigned int ptrsize, bool be,
		      const uint8_t **s, size_t *len)
{
	const uint8_t *hdr = gobin__ptr(gb, vaddr, 2 * ptrsize);
	uint64_t data, n;

	if (!hdr)
		return false;
	data = read_uint(hdr, ptrsize, be);
	n = read_uint(hdr + ptrsize, ptrsize, be);
	if (n > gb->img_len)
		return false;
	*s = n ? gobin__ptr(gb, data, (size_t)n) : hdr;
	*len = (size_t)n;
	return *s != NULL;
}

/* Decodes a blob (p: its bytes, avail: to the end of its segment).
 * A blob counts only with a non-empty version, as for debug/buildinfo,
 * so that a stray copy of the magic (a []byte in .noptrdata of a program
 * that reads build info) is passed over. */
static bool decode_blob(const struct gobin *gb, const uint8_t *p,
			size_t avail, struct raw_buildinfo *raw)
{
	unsigned int ptrsize;
	uint8_t flags;

	memset(raw, 0, sizeof(*raw));
	if (avail < BI_HDR_LEN || memcmp(p, BI_MAGIC, BI_MAGIC_LEN))
		return false;
	ptrsize = p[14];
	flags = p[15];
	if (flags & BI_FLAG_INLINE) {
		long used;

		raw->inline_strings = true;
		p += BI_HDR_LEN;
		avail -= BI_HDR_LEN;
		used = inline_string(p, avail, &raw->vers, &raw->vers_len);
		if (used < 0)
			return false;
		/* A broken modinfo leaves the version usable. */
		if (inline_string(p + used, avail - (size_t)used, &raw->mod,
				  &raw->mod_len) < 0)
			raw->mod_len = 0;
	} else {
		bool be = flags != 0;	/* as debug/buildinfo reads it */

		if (ptrsize != 4 && ptrsize != 8)
			return false;
		if (!string_at(gb, read_uint(p + 16, ptrsize, be), ptrsize,
			       be, &raw->vers, &raw->vers_len))
			return false;
		if (!string_at(gb, read_uint(p + 16 + ptrsize, ptrsize, be),
			       ptrsize, be, &raw->mod, &raw->mod_len))
			raw->mod_len = 0;
	}
	return raw->vers_len > 0;
}

/* The first valid blob at a 16-byte aligned address of [start, end). */
static bool find_blob_in(const struct gobin *gb, uint64_t start,
			 uint64_t end, struct raw_buildinfo *raw)
{
	uint64_t a = (start + BI_ALIGN - 1) & ~(uint64_t)(BI_ALIGN - 1);

	/* a >= start: rounding up near 2^64 must not wrap around */
	while (a >= start && a < end && end - a >= BI_HDR_LEN) {
		const uint8_t *p, *hit;
		size_t avail, span;

		p = segment_tail(gb, a, &avail, NULL);
		if (!p)
			return false;
		span = end - a < avail ? (size_t)(end - a) : avail;
		hit = memmem(p, span, BI_MAGIC, BI_MAGIC_LEN);
		if (!hit)
			return false;
		a += (uint64_t)(hit - p);
		if (a % BI_ALIGN) {
			a = (a + BI_ALIGN - 1) & ~(uint64_t)(BI_ALIGN - 1);
			continue;
		}
		p = segment_tail(gb, a, &avail, NULL);
		if (p && decode_blob(gb, p, avail, raw))
			return true;
		a += BI_ALIGN;
	}
	return false;
}

/* By section name, else in writable, non-executable PT_LOAD data (where
 * debug/buildinfo's DataStart looks when sections are gone). */
static bool find_blob(const struct gobin *gb, struct raw_buildinfo *raw)
{
	const struct gobin_section *sec = gobin__section(gb, ".go.buildinfo");

	if (sec && sec->type != SHT_NOBITS && sec->addr &&
	    sec->size <= UINT64_MAX - sec->addr &&
	    find_blob_in(gb, sec->addr, sec->addr + sec->size, raw))
		return true;
	for (size_t i = 0; i < gb->phdr_cnt; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];

		if (ph->p_type != PT_LOAD ||
		    (ph->p_flags & (PF_X | PF_W)) != PF_W ||
		    ph->p_filesz > UINT64_MAX - ph->p_vaddr)
			continue;
		if (find_blob_in(gb, ph->p_vaddr, ph->p_vaddr + ph->p_filesz,
				 raw))
			return true;
	}
	return false;
}

/* ------------------------------------------------ modinfo parsing */

size_t gobin__utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static size_t utf8_put(uint8_t *out, uint32_t r)
{
	if (r < 0x80) {
		out[0] = (uint8_t)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (uint8_t)(0xc0 | r >> 6);
		out[1] = (uint8_t)(0x80 | (r & 0x3f));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (uint8_t)(0xe0 | r >> 12);
		out[1] = (uint8_t)(0x80 | ((r >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (r & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | r >> 18);
	out[1] = (uint8_t)(0x80 | ((r >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((r >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (r & 0x3f));
	return 4;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The Go string literal at the start of s[0..n) ("..." or `...`), as
 * strconv.QuotedPrefix + strconv.Unquote read it (strconv/quote.go):
 * returns the literal's length and writes its value, NUL-terminated,
 * over s (a value is never longer than its literal). -1 on a syntax
 * error. One deviation: raw invalid UTF-8 inside "..." is an error here,
 * where Go would turn it into U+FFFD; strconv.Quote never writes it.
 */
static long unquote_prefix(char *str, size_t n, size_t *outlen)
{
	uint8_t *s = (uint8_t *)str;
	size_t i = 1, o = 0;

	if (n < 2)
		return -1;
	if (s[0] == '`') {
		for (; i < n && s[i] != '`'; i++)
			if (s[i] != '\r')	/* raw strings drop CRs */
				s[o++] = s[i];
		if (i == n)
			return -1;
		s[o] = 0;
		*outlen = o;
		return (long)i + 1;
	}
	if (s[0] != '"')
		return -1;
	while (i < n && s[i] != '"') {
		uint8_t c = s[i];
		uint32_t v = 0;
		int digits;

		if (c == '\n')
			return -1;
		if (c >= 0x80) {
			size_t len = gobin__utf8_len(s + i, n - i);

			if (!len)
				return -1;
			memmove(s + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		if (c != '\\') {
			s[o++] = c;
			i++;
			continue;
		}
		if (n - i < 2)
			return -1;
		c = s[i + 1];
		i += 2;
		switch (c) {
		case 'a': s[o++] = '\a'; continue;
		case 'b': s[o++] = '\b'; continue;
		case 'f': s[o++] = '\f'; continue;
		case 'n': s[o++] = '\n'; continue;
		case 'r': s[o++] = '\r'; continue;
		case 't': s[o++] = '\t'; continue;
		case 'v': s[o++] = '\v'; continue;
		case '\\': s[o++] = '\\'; continue;
		case '"': s[o++] = '"'; continue;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		case '0': case '1': case '2': case '3':
		case '4': case '5': case '6': case '7':
			if (n - i < 2 || s[i] < '0' || s[i] > '7' ||
			    s[i + 1] < '0' || s[i + 1] > '7')
				return -1;
			v = (uint32_t)(c - '0') << 6 |
			    (uint32_t)(s[i] - '0') << 3 |
			    (uint32_t)(s[i + 1] - '0');
			if (v > 255)
				return -1;
			s[o++] = (uint8_t)v;
			i += 2;
			continue;
		default:
			return -1;	/* includes \' inside "..." */
		}
		if (n - i < (size_t)digits)
			return -1;
		for (int j = 0; j < digits; j++) {
			int h = hexval(s[i + (size_t)j]);

			if (h < 0)
				return -1;
			v = v << 4 | (uint32_t)h;
		}
		i += (size_t)digits;
		if (c == 'x') {
			s[o++] = (uint8_t)v;	/* a byte, maybe not UTF-8 */
			continue;
		}
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return -1;
		o += utf8_put(s + o, v);
	}
	if (i >= n)
		return -1;
	s[o] = 0;
	*outlen = o;
	return (long)i + 1;
}

/* runtime/debug quoteKey/quoteValue: characters that force quoting. */
static bool needs_quote(const char *s, size_t n, bool key)
{
	if (key && n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (memchr(" \t\r\n\"`", s[i], 6) || (key && s[i] == '='))
			return true;
	return false;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && !memcmp(s, prefix, pl);
}

/* Splits s at tabs in place into at most max columns; returns the
 * number of columns or -1 if there are more. */
static int split_tabs(char *s, char **cols, int max)
{
	int n = 0;

	for (;;) {
		char *tab = strchr(s, '\t');

		if (n == max)
			return -1;
		cols[n++] = s;
		if (!tab)
			return n;
		*tab = 0;
		s = tab + 1;
	}
}

/* "path\tversion[\tsum]" (readModuleLine). */
static int module_line(struct gobin_module *m, char *s)
{
	char *col[3];
	int n = split_tabs(s, col, 3);

	if (n != 2 && n != 3)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->path = col[0];
	m->version = col[1];
	m->sum = n == 3 ? col[2] : "";
	return 0;
}

/* "key=value" of a build line, either side possibly quoted. */
static int setting_line(struct gobin_setting *set, char *kv, size_t n)
{
	size_t keylen, vlen;
	char *val;

	if (n < 1 || kv[0] == '=')
		return -EINVAL;
	if (kv[0] == '"' || kv[0] == '`') {
		long lit = unquote_prefix(kv, n, &keylen);

		if (lit < 0 || (size_t)lit >= n || kv[lit] != '=')
			return -EINVAL;
		val = kv + lit + 1;
	} else {
		char *eq = memchr(kv, '=', n);

		if (!eq)
			return -EINVAL;
		keylen = (size_t)(eq - kv);
		if (needs_quote(kv, keylen, true))
			return -EINVAL;
		*eq = 0;
		val = eq + 1;
	}
	vlen = n - (size_t)(val - kv);
	if (vlen && (val[0] == '"' || val[0] == '`')) {
		size_t outlen;
		long lit = unquote_prefix(val, vlen, &outlen);

		/* strconv.Unquote: the literal must be the whole value. */
		if (lit < 0 || (size_t)lit != vlen)
			return -EINVAL;
	} else if (needs_quote(val, vlen, false)) {
		return -EINVAL;
	}
	set->key = kv;
	set->value = val;
	return 0;
}

/* Complete lines of s[0..n) that start with prefix (ParseBuildInfo
 * ignores a last line without '\n'). */
static size_t count_lines(const char *s, size_t n, const char *prefix)
{
	size_t cnt = 0;
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if (has_prefix(p, (size_t)(nl - p), prefix))
			cnt++;
		p = nl + 1;
	}
	return cnt;
}

/* runtime/debug.ParseBuildInfo over s[0..n) (NUL-terminated), in place. */
static int parse_modinfo(struct gobin_buildinfo *bi, char *s, size_t n,
			 size_t dep_cap, size_t set_cap)
{
	struct gobin_module *last = NULL;
	char *p = s, *end = s + n;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len;
		int ret = 0;

		if (!nl)
			break;
		*nl = 0;
		len = (size_t)(nl - p);
		if (has_prefix(p, len, "path\t")) {
			bi->path = p + 5;
		} else if (has_prefix(p, len, "mod\t")) {
			last = &bi->main;
			ret = module_line(last, p + 4);
		} else if (has_prefix(p, len, "dep\t")) {
			if (bi->dep_cnt >= dep_cap)
				return -EINVAL;
			last = &bi->deps[bi->dep_cnt++];
			ret = module_line(last, p + 4);
		} else if (has_prefix(p, len, "=>\t")) {
			char *col[3];

			if (split_tabs(p + 3, col, 3) != 3 || !last)
				return -EINVAL;
			last->replace_path = col[0];
			last->replace_version = col[1];
			last->replace_sum = col[2];
			last = NULL;
		} else if (has_prefix(p, len, "build\t")) {
			if (bi->setting_cnt >= set_cap)
				return -EINVAL;
			ret = setting_line(&bi->settings[bi->setting_cnt],
					   p + 6, len - 6);
			bi->setting_cnt++;
		}
		if (ret)
			return ret;
		p = nl + 1;
	}
	return 0;
}

/* Copies the blob's strings into one allocation (dependency and setting
 * arrays first, then version and modinfo text) and parses modinfo. */
static int load_blob(struct gobin *gb, const struct raw_buildinfo *raw)
{
	struct gobin_buildinfo *bi = &gb->bi;
	size_t mod_len = raw->mod_len, dep_cap, set_cap, size;
	const uint8_t *mod = raw->mod;
	char *vers, *text;
	uint8_t *block;

	/* Strip the framing as debug/buildinfo does (else: no modules). */
	if (mod_len >= 2 * MODINFO_FRAME + 1 &&
	    mod[mod_len - MODINFO_FRAME - 1] == '\n') {
		mod += MODINFO_FRAME;
		mod_len -= 2 * MODINFO_FRAME;
	} else {
		mod_len = 0;
	}
	dep_cap = count_lines((const char *)mod, mod_len, "dep\t");
	set_cap = count_lines((const char *)mod, mod_len, "build\t");
	size = dep_cap * sizeof(*bi->deps) + set_cap * sizeof(*bi->settings) +
	       raw->vers_len + 1 + mod_len + 1;
	block = malloc(size);
	if (!block)
		return -ENOMEM;
	gb->bi_strings = (char *)block;
	bi->deps = dep_cap ? (struct gobin_module *)block : NULL;
	block += dep_cap * sizeof(*bi->deps);
	bi->settings = set_cap ? (struct gobin_setting *)block : NULL;
	block += set_cap * sizeof(*bi->settings);
	vers = (char *)block;
	memcpy(vers, raw->vers, raw->vers_len);
	vers[raw->vers_len] = 0;
	text = vers + raw->vers_len + 1;
	if (mod_len)
		memcpy(text, mod, mod_len);
	text[mod_len] = 0;

	bi->present = true;
	bi->inline_strings = raw->inline_strings;
	bi->goversion = vers;
	if (parse_modinfo(bi, text, mod_len, dep_cap, set_cap)) {
		/* As debug/buildinfo.Read: unparsable modinfo, no modules. */
		bi->path = NULL;
		memset(&bi->main, 0, sizeof(bi->main));
		bi->dep_cnt = 0;
		bi->setting_cnt = 0;
	}
	if (!bi->dep_cnt)
		bi->deps = NULL;
	if (!bi->setting_cnt)
		bi->settings = NULL;
	return 0;
}

/* ------------------------------------------------ the version */

int gobin_parse_minor(const char *v)
{
	int minor = 0, digits = 0;

	if (!v)
		return -1;
	if (!strncmp(v, "devel ", 6))	/* "devel go1.22-abcdef ..." */
		v += 6;
	if (strncmp(v, "go1.", 4))
		return -1;
	for (v += 4; *v >= '0' && *v <= '9'; v++) {
		if (++digits > 3)
			return -1;
		minor = minor * 10 + (*v - '0');
	}
	return digits ? minor : -1;
}

static bool printable(const uint8_t *s, size_t n)
{
	if (!n || n >= VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* A run of 1..max decimal digits at s[*i]. */
static bool digits(const uint8_t *s, size_t n, size_t *i, int max)
{
	size_t start = *i;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9' &&
	       *i - start < (size_t)max)
		(*i)++;
	return *i > start;
}

/*
 * Does s look like runtime.buildVersion? A release
 * go1.N[.P][(rc|beta)K][ X:exp,...] (experiment names are lower case
 * and may hold digits: internal/goexperiment), or a "devel ..." build.
 */
static bool looks_like_version(const uint8_t *s, size_t n)
{
	size_t i = 4;

	if (!printable(s, n))
		return false;
	if (n > 6 && !memcmp(s, "devel ", 6))
		return true;
	if (n < 5 || memcmp(s, "go1.", 4) || !digits(s, n, &i, 3))
		return false;
	if (i < n && s[i] == '.') {
		i++;
		if (!digits(s, n, &i, 3))
			return false;
	}
	if (n - i >= 3 && !memcmp(s + i, "rc", 2)) {
		i += 2;
		if (!digits(s, n, &i, 2))
			return false;
	} else if (n - i >= 5 && !memcmp(s + i, "beta", 4)) {
		i += 4;
		if (!digits(s, n, &i, 2))
			return false;
	}
	if (n - i >= 4 && !memcmp(s + i, " X:", 3)) {
		for (i += 3; i < n; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') ||
			      (s[i] >= '0' && s[i] <= '9') || s[i] == ','))
				return false;
	}
	return i == n;
}

/* Can a binary of release 1.minor have this pclntab? Magics from
 * src/debug/gosym/pclntab.go and src/runtime/symtab.go (go1.16: 0xfffffffa,
 * go1.18: 0xfffffff0, go1.20: 0xfffffff1; before: 0xfffffffb). */
static bool minor_fits_pcln(const struct gobin *gb, int minor)
{
	switch (gobin__pcln_format(gb)) {
	case GOBIN_PCLN_GO12:
		return minor >= 2 && minor <= 15;
	case GOBIN_PCLN_GO116:
		return minor == 16 || minor == 17;
	case GOBIN_PCLN_GO118:
		return minor == 18 || minor == 19;
	case GOBIN_PCLN_GO120:
		return minor >= 20;
	}
	return true;
}

static void set_version(struct gobin *gb, const uint8_t *s, size_t n,
			enum gobin_version_source src)
{
	size_t max = sizeof(gb->go_version) - 1;

	if (n > max) {
		/* Only "devel <hash> <date>" strings get this long: keep
		 * whole words, "devel go1.22-abcdef". */
		n = max;
		while (n > 0 && s[n] != ' ')
			n--;
		if (!n)
			n = max;
	}
	memcpy(gb->go_version, s, n);
	gb->go_version[n] = 0;
	gb->ver_src = src;
	gb->go_minor = gobin_parse_minor(gb->go_version);
}

/* runtime.buildVersion through .symtab. */
static bool version_from_symbol(struct gobin *gb)
{
	const struct gobin_sym *sym;
	const uint8_t *s;
	size_t n;

	sym = gobin__sym_by_name(gb, "runtime.buildVersion");
	if (!sym || !string_at(gb, sym->addr, 8, false, &s, &n) ||
	    !printable(s, n))
		return false;
	set_version(gb, s, n, GOBIN_VER_SYMBOL);
	return true;
}

/* Does code at vaddr reach target with a RIP-relative disp32? The
 * displacement counts from the end of the instruction, which may hold an
 * immediate of up to 4 bytes after it (CMPQ $0, x(IP) has one). */
static bool code_references(const uint8_t *code, size_t len, uint64_t vaddr,
			    uint64_t target)
{
	for (size_t i = 0; i + 4 <= len; i++) {
		int64_t disp = (int32_t)gobin_le32(code + i);

		for (uint64_t imm = 0; imm <= 4; imm++) {
			uint64_t next = vaddr + i + 4 + imm;

			if (next + (uint64_t)disp == target ||
			    next + (uint64_t)disp == target + 8)
				return true;
		}
	}
	return false;
}

struct version_scan {
	const uint8_t *code;	/* runtime.schedinit, or NULL */
	size_t code_len;
	uint64_t code_addr;
	const uint8_t *best;	/* the version found so far */
	size_t best_len;
	bool ambiguous;
};

/*
 * Weighs one version-like string whose header is at hdr. Those the
 * pclntab contradicts go. When runtime.schedinit's code is at hand, only
 * a header it refers to counts: a version-like string of the program (a
 * consistent "go1.18.3" in a go1.19 binary) is never taken for the
 * runtime's, even when the real one fails the pattern (a form this code
 * does not know); an unknown version is safer than a wrong one. Without
 * that code, the candidates must all agree on one release.
 */
static void weigh_candidate(const struct gobin *gb, struct version_scan *vs,
			    uint64_t hdr, const uint8_t *s, size_t len)
{
	char tmp[VERSION_MAX];
	int minor;

	memcpy(tmp, s, len);
	tmp[len] = 0;
	minor = gobin_parse_minor(tmp);
	if (minor >= 0 && !minor_fits_pcln(gb, minor))
		return;
	if (vs->code) {
		if (!code_references(vs->code, vs->code_len, vs->code_addr,
				     hdr))
			return;
	} else if (minor < 0) {
		return;		/* devel: no release to check against */
	}
	if (!vs->best) {
		vs->best = s;
		vs->best_len = len;
	} else if (vs->best_len != len || memcmp(vs->best, s, len)) {
		vs->ambiguous = true;	/* disagreeing: do not guess */
	}
}

/* Stripped binaries: runtime.buildVersion's header in writable data. */
static bool version_from_scan(struct gobin *gb)
{
	const struct gobin_func *f;
	struct version_scan vs = { 0 };

	f = gobin__func_by_name(gb, "runtime.schedinit");
	if (f && f->end > f->entry && f->end - f->entry <= SCHEDINIT_MAX) {
		vs.code_len = (size_t)(f->end - f->entry);
		vs.code_addr = f->entry;
		vs.code = gobin__ptr(gb, f->entry, vs.code_len);
	}
	for (size_t i = 0; i < gb->phdr_cnt && !vs.ambiguous; i++) {
		const GElf_Phdr *ph = &gb->phdrs[i];
		uint64_t a, end;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) ||
		    ph->p_filesz > UINT64_MAX - ph->p_vaddr)
			continue;
		a = (ph->p_vaddr + BI_ALIGN - 1) & ~(uint64_t)(BI_ALIGN - 1);
		end = ph->p_vaddr + ph->p_filesz;
		for (; a >= ph->p_vaddr && a < end && end - a >= 16 &&
		       !vs.ambiguous; a += BI_ALIGN) {
			const uint8_t *hdr, *s;
			uint64_t ptr, len;
			size_t avail;
			uint32_t flags;

			hdr = gobin__ptr(gb, a, 16);
			if (!hdr)
				break;
			ptr = gobin_le64(hdr);
			len = gobin_le64(hdr + 8);
			if (len < 5 || len >= VERSION_MAX)
				continue;
			/* The bytes of a Go string constant: read-only. */
			s = segment_tail(gb, ptr, &avail, &flags);
			if (!s || avail < len || (flags & PF_W) ||
			    !looks_like_version(s, (size_t)len))
				continue;
			weigh_candidate(gb, &vs, a, s, (size_t)len);
		}
	}
	if (!vs.best || vs.ambiguous)
		return false;
	set_version(gb, vs.best, vs.best_len, GOBIN_VER_SCAN);
	return true;
}

int gobin_buildinfo__load(struct gobin *gb, char *err, size_t errlen)
{
	struct raw_buildinfo raw;
	int ret;

	gb->ver_src = GOBIN_VER_NONE;
	gb->go_version[0] = 0;
	gb->go_minor = -1;
	if (find_blob(gb, &raw)) {
		ret = load_blob(gb, &raw);
		if (ret) {
			snprintf(err, errlen, "out of memory");
			return ret;
		}
		if (printable(raw.vers, raw.vers_len)) {
			set_version(gb, raw.vers, raw.vers_len,
				    GOBIN_VER_BUILDINFO);
			return 0;
		}
	}
	if (version_from_symbol(gb))
		return 0;
	version_from_scan(gb);
	return 0;	/* an unknown version is not an error */
}

void gobin_buildinfo__free(struct gobin *gb)
{
	free(gb->bi_strings);
	gb->bi_strings = NULL;
	memset(&gb->bi, 0, sizeof(gb->bi));
}

const struct gobin_buildinfo *gobin__buildinfo(const struct gobin *gb)
{
	return &gb->bi;
}

const char *gobin__go_version(const struct gobin *gb)
{
	return gb->go_version[0] ? gb->go_version : NULL;
}

enum gobin_version_source gobin__go_version_source(const struct gobin *gb)
{
	return gb->ver_src;
}

int gobin__go_minor(const struct gobin *gb)
{
	return gb->go_minor;
}
