// SPDX-License-Identifier: MIT
/*
 * Go version and build information (src/gobin/buildinfo.c).
 *
 * Ground truth comes from outside gobin: MANIFEST.tsv of the esbuild
 * corpus (go_version column), `go version -m` (cmd/go's own reader), the
 * exact flags this test passes to `go build`, nm(1), and hand-derived
 * values of Go string literals (strconv's rules) for crafted modinfo.
 * Fallback paths are reached by erasing the "\xff Go buildinf:" magic in
 * an in-memory copy; robustness by corrupting copies and opening them
 * with gobin__open_mem.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>

#include "testutil.h"
#include "gobin/gobin.h"
#include "gobin/gobin_int.h"

#define MAGIC "\xff Go buildinf:"

/* ------------------------------------------------------------ helpers */

static bool have_go(void)
{
	char *out = tu_run("command -v go 2>/dev/null");
	bool ok = out && out[0];

	free(out);
	return ok;
}

/* File offset of the build info header (16-aligned), or SIZE_MAX. The
 * linker aligns it to 16 in vaddr, and vaddr = offset mod page size. */
static size_t find_magic(const uint8_t *img, size_t len)
{
	const uint8_t *p = img;

	while ((p = memmem(p, len - (size_t)(p - img), MAGIC, 14))) {
		if ((size_t)(p - img) % 16 == 0)
			return (size_t)(p - img);
		p++;
	}
	return SIZE_MAX;
}

/* Break every copy of the magic so that no build info is found. */
static void erase_magic(uint8_t *img, size_t len)
{
	uint8_t *p = img;

	while ((p = memmem(p, len - (size_t)(p - img), MAGIC, 14)))
		p[1] = 'X';
}

static bool printable_str(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static size_t put_uvarint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Writes an inline (go1.18+) blob body after the header at img+off:
 * version, then modinfo framed by 16-byte sentinels as cmd/go does. */
static void write_inline_blob(uint8_t *img, size_t off, const char *vers,
			      const char *text)
{
	uint8_t *p = img + off + 32;
	size_t tl = strlen(text);

	img[off + 15] = 2;
	p += put_uvarint(p, strlen(vers));
	memcpy(p, vers, strlen(vers));
	p += strlen(vers);
	p += put_uvarint(p, tl + 32);
	memset(p, 0xaa, 16);
	memcpy(p + 16, text, tl);
	memset(p + 16 + tl, 0xbb, 16);
}

/* Turn .symtab into plain bytes, as if stripped: gobin reads symbols
 * only from a section of type SHT_SYMTAB. */
static void hide_symtab(uint8_t *img, size_t len)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	assert_true(eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize <=
		    len);
	for (int i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff +
						(size_t)i * eh->e_shentsize);

		if (sh->sh_type == SHT_SYMTAB)
			sh->sh_type = SHT_PROGBITS;
	}
}

/* Program header of the PT_LOAD holding file offset off (to shrink it). */
static Elf64_Phdr *phdr_of(uint8_t *img, size_t off)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff +
						(size_t)i * eh->e_phentsize);

		if (ph->p_type == PT_LOAD && ph->p_offset <= off &&
		    off < ph->p_offset + ph->p_filesz)
			return ph;
	}
	return NULL;
}

static uint64_t off_to_vaddr(uint8_t *img, size_t off)
{
	Elf64_Phdr *ph = phdr_of(img, off);

	assert_non_null(ph);
	return ph->p_vaddr + (off - ph->p_offset);
}

/* ---------------------------------------------- `go version -m` output */

struct gv_mod {
	char *path, *version, *sum;
	char *rpath, *rversion, *rsum;
};
struct gv {
	char *buf;
	char version[128];
	char *path;
	struct gv_mod main;
	bool has_main;
	struct gv_mod deps[64];
	size_t ndeps;
	char *key[64], *raw[64];	/* build key, value as printed */
	size_t nset;
};

static size_t split(char *s, char sep, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		char *e = strchr(s, sep);

		f[n++] = s;
		if (!e)
			break;
		*e = 0;
		s = e + 1;
	}
	return n;
}

/* Runs `go version -m` and parses its lines (runtime/debug
 * BuildInfo.String, each indented by a tab). false: go failed. */
static bool go_version_m(const char *bin, struct gv *g)
{
	char *line, *save = NULL, *colon;
	struct gv_mod *last = NULL;

	memset(g, 0, sizeof(*g));
	g->buf = tu_run("go version -m '%s' 2>&1", bin);
	if (!g->buf)
		return false;
	line = strtok_r(g->buf, "\n", &save);
	if (!line || !(colon = strrchr(line, ':')) ||
	    (strncmp(colon, ": go", 4) && strncmp(colon, ": devel", 7)))
		return false;
	snprintf(g->version, sizeof(g->version), "%s", colon + 2);
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *f[8];
		size_t n;

		if (line[0] != '\t')
			continue;
		line++;
		if (!strncmp(line, "build\t", 6)) {
			char *eq = strchr(line + 6, '=');

			assert_non_null(eq);
			assert_true(g->nset < 64);
			*eq = 0;
			g->key[g->nset] = line + 6;
			g->raw[g->nset++] = eq + 1;
			continue;
		}
		n = split(line, '\t', f, 8);
		if (!strcmp(f[0], "path") && n == 2) {
			g->path = f[1];
		} else if ((!strcmp(f[0], "mod") || !strcmp(f[0], "dep")) &&
			   n >= 3) {
			if (!strcmp(f[0], "mod")) {
				last = &g->main;
				g->has_main = true;
			} else {
				assert_true(g->ndeps < 64);
				last = &g->deps[g->ndeps++];
			}
			last->path = f[1];
			last->version = f[2];
			last->sum = n > 3 ? f[3] : "";
		} else if (!strcmp(f[0], "=>") && n == 4) {
			assert_non_null(last);
			last->rpath = f[1];
			last->rversion = f[2];
			last->rsum = f[3];
			last = NULL;
		}
	}
	return true;
}

/*
 * strconv.Quote as runtime/debug applies it to a build value (quoteValue:
 * only when it holds space, tab, CR, LF, '"' or '`'). Enough of Quote for
 * the values in these tests: printable ASCII and UTF-8 stay, '"' and '\\'
 * and \t \n \r are escaped; anything else fails the test.
 */
static void go_quote_value(const char *v, char *out, size_t outlen)
{
	size_t o = 0;

	if (!strpbrk(v, " \t\r\n\"`")) {
		snprintf(out, outlen, "%s", v);
		return;
	}
	out[o++] = '"';
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		assert_true(o + 3 < outlen);
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		} else {
			assert_true(c >= 0x20 && c != 0x7f);
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = 0;
}

static void expect_str(const char *what, const char *want, const char *got)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(want, got)) {
		print_error("%s: want '%s', got '%s'\n", what,
			    want ? want : "(null)", got ? got : "(null)");
		fail();
	}
}

static void expect_module(const char *what, const struct gv_mod *want,
			  const struct gobin_module *got)
{
	expect_str(what, want->path, got->path);
	expect_str(what, want->version, got->version);
	expect_str(what, want->sum, got->sum);
	expect_str(what, want->rpath, got->replace_path);
	expect_str(what, want->rversion, got->replace_version);
	expect_str(what, want->rsum, got->replace_sum);
}

/* Every field of gobin's build info against `go version -m`. */
static void expect_go_version_m(const char *bin, const struct gobin *gb)
{
	const struct gobin_buildinfo *bi = gobin__buildinfo(gb);
	struct gv g;

	if (!go_version_m(bin, &g)) {
		print_error("go version -m %s failed: %s\n", bin,
			    g.buf ? g.buf : "");
		free(g.buf);
		fail();
	}
	assert_true(bi->present);
	expect_str("version", g.version, gobin__go_version(gb));
	expect_str("blob version", g.version, bi->goversion);
	expect_str("path", g.path, bi->path);
	if (g.has_main) {
		expect_module("mod", &g.main, &bi->main);
	} else {
		assert_null(bi->main.path);
	}
	assert_int_equal(bi->dep_cnt, g.ndeps);
	for (size_t i = 0; i < g.ndeps; i++)
		expect_module("dep", &g.deps[i], &bi->deps[i]);
	assert_int_equal(bi->setting_cnt, g.nset);
	for (size_t i = 0; i < g.nset; i++) {
		char quoted[4096];

		expect_str("build key", g.key[i], bi->settings[i].key);
		go_quote_value(bi->settings[i].value, quoted, sizeof(quoted));
		expect_str(g.key[i], g.raw[i], quoted);
	}
	free(g.buf);
}

/* A binary from disk into memory; NULL after a SKIP line. */
static uint8_t *load(const char *path, size_t *len)
{
	uint8_t *img = tu_read_file(path, len);

	if (!img)
		printf("SKIP: cannot read %s\n", path);
	return img;
}

static struct gobin *open_mem_ok(const uint8_t *img, size_t len)
{
	struct gobin *gb = NULL;
	char err[256];
	int ret = gobin__open_mem(img, len, &gb, err, sizeof(err));

	if (ret)
		print_error("gobin__open_mem: %d %s\n", ret, err);
	assert_int_equal(ret, 0);
	return gb;
}

/* Does .symtab name runtime.buildVersion (per nm, not per gobin)? */
static bool nm_has_build_version(const char *bin)
{
	char *out = tu_run("nm '%s' 2>/dev/null | grep -c ' runtime\\.buildVersion$'",
			   bin);
	bool yes = out && atoi(out) > 0;

	free(out);
	return yes;
}

/* ---------------------------------------------------- version strings */

static void test_parse_minor(void **state)
{
	static const struct {
		const char *s;
		int minor;
	} cases[] = {
		/* release spellings: go/version and cmd/dist's VERSION */
		{ "go1.19.8", 19 }, { "go1.18", 18 }, { "go1.13.8", 13 },
		{ "go1.21.0", 21 }, { "go1.21rc2", 21 }, { "go1.18beta1", 18 },
		{ "go1.22.5 X:loopvar", 22 }, { "go1.2", 2 },
		{ "go1.100.1", 100 },
		{ "devel go1.23-1a2b3c4d5e Tue Jan 2 15:04:05 2024 +0000", 23 },
		/* not versions */
		{ "devel +abcdef Tue Jan 2 2018", -1 }, { "go1.", -1 },
		{ "go1.x", -1 }, { "go2.1", -1 }, { "", -1 }, { "unknown", -1 },
		{ "go1.12345", -1 }, { "Go1.19", -1 },
	};

	(void)state;
	assert_int_equal(gobin_parse_minor(NULL), -1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (gobin_parse_minor(cases[i].s) != cases[i].minor) {
			print_error("gobin_parse_minor(\"%s\") = %d, want %d\n",
				    cases[i].s, gobin_parse_minor(cases[i].s),
				    cases[i].minor);
			fail();
		}
	}
}

/* ------------------------------------------------------------ corpus */

struct corpus_row {
	char name[128];
	char version[64];
};

/* Rows of MANIFEST.tsv (name, npm_spec, go_version, ...); 0 after a
 * SKIP line if it cannot be read. */
static size_t read_manifest(struct corpus_row *rows, size_t max)
{
	char path[4200], line[4096];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", tu_corpus_dir());
	f = fopen(path, "r");
	if (!f) {
		printf("SKIP: %s missing (run ../shared/fetch-go-corpus.sh %s)\n",
		       path, tu_corpus_dir());
		return 0;
	}
	while (fgets(line, sizeof(line), f) && n < max) {
		char *col[4];

		if (!strncmp(line, "name\t", 5))
			continue;
		if (split(line, '\t', col, 4) < 4)
			continue;
		snprintf(rows[n].name, sizeof(rows[n].name), "%s", col[0]);
		snprintf(rows[n].version, sizeof(rows[n].version), "%s",
			 col[2]);
		n++;
	}
	fclose(f);
	if (!n)
		printf("SKIP: %s lists no binaries\n", path);
	return n;
}

/* esbuild >= 0.27 links without .go.buildinfo (see MANIFEST notes). */
static bool corpus_has_buildinfo(const char *name)
{
	return !strstr(name, "-0.27.2-") && !strstr(name, "-0.28.2-");
}

static int manifest_minor(const char *v)
{
	int minor;

	return sscanf(v, "go1.%d", &minor) == 1 ? minor : -1;
}

static void test_corpus_versions(void **state)
{
	struct corpus_row rows[64];
	size_t n = read_manifest(rows, 64), tested = 0;

	(void)state;
	if (!n)
		skip();
	for (size_t i = 0; i < n; i++) {
		struct gobin *gb;
		char path[8192], err[256];
		enum gobin_version_source want;
		int ret;

		if (!tu_corpus(rows[i].name, path, sizeof(path)))
			continue;
		ret = gobin__open(path, &gb, err, sizeof(err));
		if (ret)
			print_error("%s: %s\n", rows[i].name, err);
		assert_int_equal(ret, 0);
		want = corpus_has_buildinfo(rows[i].name) ?
			       GOBIN_VER_BUILDINFO : GOBIN_VER_SCAN;
		expect_str(rows[i].name, rows[i].version,
			   gobin__go_version(gb));
		assert_int_equal(gobin__go_version_source(gb), want);
		assert_int_equal(gobin__go_minor(gb),
				 manifest_minor(rows[i].version));
		assert_int_equal(gobin__buildinfo(gb)->present,
				 want == GOBIN_VER_BUILDINFO);
		gobin__free(gb);
		tested++;
	}
	if (!tested)
		skip();
}

/* All of the build info against cmd/go's reader (which reads go1.13 to
 * go1.26 binaries alike), including esbuild 0.14.38's quoted -ldflags. */
static void test_corpus_go_version_m(void **state)
{
	struct corpus_row rows[64];
	size_t n, tested = 0;

	(void)state;
	if (!have_go()) {
		printf("SKIP: no go command for `go version -m`\n");
		skip();
	}
	n = read_manifest(rows, 64);
	if (!n)
		skip();
	for (size_t i = 0; i < n; i++) {
		struct gobin *gb;
		char path[8192], err[256];

		if (!corpus_has_buildinfo(rows[i].name) ||
		    !tu_corpus(rows[i].name, path, sizeof(path)))
			continue;
		assert_int_equal(gobin__open(path, &gb, err, sizeof(err)), 0);
		expect_go_version_m(path, gb);
		gobin__free(gb);
		tested++;
	}
	if (!tested)
		skip();
}

/* Without build info: .symtab binaries answer through the symbol,
 * stripped ones through the scan, with the manifest's version either way
 * (this covers the scan on go1.15 .. go1.26 and the pointer-form era). */
static void test_corpus_fallbacks(void **state)
{
	struct corpus_row rows[64];
	size_t n = read_manifest(rows, 64), tested = 0;

	(void)state;
	if (!n)
		skip();
	for (size_t i = 0; i < n; i++) {
		enum gobin_version_source want;
		struct gobin *gb;
		char path[8192];
		uint8_t *img;
		size_t len = 0;

		if (!tu_corpus(rows[i].name, path, sizeof(path)) ||
		    !(img = load(path, &len)))
			continue;
		erase_magic(img, len);
		want = nm_has_build_version(path) ? GOBIN_VER_SYMBOL :
						    GOBIN_VER_SCAN;
		gb = open_mem_ok(img, len);
		expect_str(rows[i].name, rows[i].version,
			   gobin__go_version(gb));
		assert_int_equal(gobin__go_version_source(gb), want);
		assert_false(gobin__buildinfo(gb)->present);
		gobin__free(gb);
		if (want == GOBIN_VER_SYMBOL) {
			/* and the scan on go1.13/go1.14 too */
			hide_symtab(img, len);
			gb = open_mem_ok(img, len);
			assert_int_equal(gobin__sym_cnt(gb), 0);
			expect_str(rows[i].name, rows[i].version,
				   gobin__go_version(gb));
			assert_int_equal(gobin__go_version_source(gb),
					 GOBIN_VER_SCAN);
			gobin__free(gb);
		}
		free(img);
		tested++;
	}
	if (!tested)
		skip();
}

/* The pre-1.18 pointer form, corrupted: pointers into nowhere, a string
 * header with an absurd length, a header cut by the end of its segment. */
static void test_corpus_pointer_form_corrupt(void **state)
{
	const char *name = "esbuild-0.11.23-go1.16.3";
	char path[8192];
	uint8_t *img = NULL, *copy;
	size_t len = 0, off;
	struct gobin *gb;
	Elf64_Phdr *ph;
	uint64_t v;

	(void)state;
	if (!tu_corpus(name, path, sizeof(path)) || !(img = load(path, &len)))
		skip();
	off = find_magic(img, len);
	assert_true(off != SIZE_MAX);
	assert_int_equal(img[off + 15] & 2, 0);	/* really pointer form */
	copy = malloc(len);
	assert_non_null(copy);

	/* version pointer into nowhere: no blob, the scan answers */
	memcpy(copy, img, len);
	v = 0xdeadbeef00ULL;
	memcpy(copy + off + 16, &v, 8);
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	expect_str("scan", "go1.16.3", gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SCAN);
	gobin__free(gb);

	/* modinfo pointer into nowhere: version stays, no modules */
	memcpy(copy, img, len);
	v = 8;
	memcpy(copy + off + 24, &v, 8);
	gb = open_mem_ok(copy, len);
	assert_true(gobin__buildinfo(gb)->present);
	expect_str("version", "go1.16.3", gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_BUILDINFO);
	assert_null(gobin__buildinfo(gb)->path);
	assert_int_equal(gobin__buildinfo(gb)->dep_cnt, 0);
	gobin__free(gb);

	/* version pointer at a string header of huge length (the blob's
	 * own second half: [24..32) = ptr, then the "length" that follows
	 * it is whatever comes next: make it 2^63) */
	memcpy(copy, img, len);
	v = off_to_vaddr(copy, off + 16);
	memcpy(copy + off + 16, &v, 8);
	v = 1ULL << 63;
	memcpy(copy + off + 24, &v, 8);
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);

	/* a string header cut by the segment's end */
	memcpy(copy, img, len);
	ph = phdr_of(copy, off);
	assert_non_null(ph);
	v = ph->p_vaddr + ph->p_filesz - 8;
	memcpy(copy + off + 16, &v, 8);
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);

	/* pointer size 3 */
	memcpy(copy, img, len);
	copy[off + 14] = 3;
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);

	free(copy);
	free(img);
}

/* --------------------------------------- a Go program built right here */

static const char *GO_MOD =
	"module example.com/bitest\n\ngo 1.19\n\n"
	"require example.com/localdep v1.2.3\n\n"
	"replace example.com/localdep v1.2.3 => ./localdep\n";
static const char *DEP_MOD = "module example.com/localdep\n\ngo 1.19\n";
static const char *DEP_GO =
	"package localdep\n\nfunc Name() string { return \"localdep\" }\n";
/* decoyOld/decoySame: string headers in .data that look like versions,
 * one the pclntab (go1.18 format) rules out, one it allows. */
static const char *MAIN_GO =
	"package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/localdep\"\n)\n\n"
	"var greeting = \"default\"\n"
	"var decoyOld = \"go1.12.1\"\n"
	"var decoySame = \"go1.18.3\"\n\n"
	"func main() {\n"
	"\tfmt.Println(greeting, localdep.Name(), decoyOld, decoySame)\n}\n";
/* Spaces, quotes, a backslash, a tab and a non-ASCII letter: all of
 * strconv.Quote's cases that -ldflags can carry. */
static const char *LDFLAGS =
	"-X 'main.greeting=hello \"world\" C:\\tmp \xc3\xa9\tend' "
	"-X main.decoyOld=go1.12.1";
static const char *TAGS = "tagone tagtwo";

struct fixture {
	char dir[64];
	char bin[128];		/* with -ldflags LDFLAGS -tags TAGS */
	char stripped[128];	/* -ldflags='-s -w' */
	char goversion[64];	/* `go env GOVERSION` */
	bool ok;
};
static struct fixture fx;

static bool write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int fixture_setup(void **state)
{
	char sub[128], *out;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	if (!have_go()) {
		printf("SKIP: no go command: cannot build the build-info fixture\n");
		return 0;
	}
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/gosnoop-buildinfo-XXXXXX");
	if (!mkdtemp(fx.dir))
		return 0;
	snprintf(sub, sizeof(sub), "%s/localdep", fx.dir);
	if (mkdir(sub, 0755) || !write_file(fx.dir, "go.mod", GO_MOD) ||
	    !write_file(fx.dir, "main.go", MAIN_GO) ||
	    !write_file(sub, "go.mod", DEP_MOD) ||
	    !write_file(sub, "dep.go", DEP_GO) ||
	    !write_file(fx.dir, "ldflags.txt", LDFLAGS))
		return 0;
	snprintf(fx.bin, sizeof(fx.bin), "%s/bitest", fx.dir);
	snprintf(fx.stripped, sizeof(fx.stripped), "%s/bitest-stripped",
		 fx.dir);
	/* No network (GOPROXY=off): the only dependency is the local
	 * replacement. ldflags come from a file to keep them byte-exact. */
	out = tu_run("cd %s && export CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off "
		     "GOTOOLCHAIN=local GOCACHE=\"${GOCACHE:-${HOME:-/tmp}/.cache/go-build}\" "
		     "GOPATH=\"${GOPATH:-${HOME:-/tmp}/go}\" && "
		     "go build -tags '%s' -ldflags=\"$(cat ldflags.txt)\" -o bitest . && "
		     "go build -ldflags='-s -w' -o bitest-stripped . && "
		     "go env GOVERSION 2>&1",
		     fx.dir, TAGS);
	if (out && !strncmp(out, "go", 2) && !access(fx.bin, R_OK) &&
	    !access(fx.stripped, R_OK)) {
		out[strcspn(out, "\n")] = 0;
		snprintf(fx.goversion, sizeof(fx.goversion), "%s", out);
		fx.ok = true;
	} else {
		printf("SKIP: building the build-info fixture failed: %s\n",
		       out ? out : "(no output)");
	}
	free(out);
	return 0;
}

static int fixture_teardown(void **state)
{
	(void)state;
	if (fx.dir[0] && strcmp(fx.dir, "/tmp/gosnoop-buildinfo-XXXXXX"))
		nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

#define NEED_FIXTURE()                                                    \
	do {                                                              \
		if (!fx.ok) {                                             \
			printf("SKIP: no build-info fixture (see above)\n"); \
			skip();                                           \
		}                                                         \
	} while (0)

static const struct gobin_setting *setting(const struct gobin_buildinfo *bi,
					   const char *key)
{
	for (size_t i = 0; i < bi->setting_cnt; i++)
		if (!strcmp(bi->settings[i].key, key))
			return &bi->settings[i];
	return NULL;
}

static void test_fixture_go_version_m(void **state)
{
	const struct gobin_buildinfo *bi;
	const struct gobin_setting *s;
	struct gobin *gb;
	char err[256];

	(void)state;
	NEED_FIXTURE();
	assert_int_equal(gobin__open(fx.bin, &gb, err, sizeof(err)), 0);
	bi = gobin__buildinfo(gb);
	expect_go_version_m(fx.bin, gb);

	/* And against what this test itself built. */
	expect_str("version", fx.goversion, gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_BUILDINFO);
	assert_int_equal(gobin__go_minor(gb), manifest_minor(fx.goversion));
	assert_true(bi->inline_strings);	/* built by go >= 1.18 */
	expect_str("path", "example.com/bitest", bi->path);
	expect_str("main", "example.com/bitest", bi->main.path);
	assert_int_equal(bi->dep_cnt, 1);
	expect_str("dep", "example.com/localdep", bi->deps[0].path);
	expect_str("dep version", "v1.2.3", bi->deps[0].version);
	expect_str("replacement", "./localdep", bi->deps[0].replace_path);
	assert_null(bi->main.replace_path);
	s = setting(bi, "-ldflags");
	assert_non_null(s);
	expect_str("-ldflags", LDFLAGS, s->value);	/* quoting undone */
	s = setting(bi, "-tags");
	assert_non_null(s);
	expect_str("-tags", "tagone,tagtwo", s->value);
	gobin__free(gb);
}

static void test_fixture_stripped(void **state)
{
	struct gobin *gb;
	uint8_t *img;
	size_t len = 0;
	char err[256];

	(void)state;
	NEED_FIXTURE();
	assert_int_equal(gobin__open(fx.stripped, &gb, err, sizeof(err)), 0);
	assert_false(gobin__elf(gb)->has_symtab);
	expect_str("stripped", fx.goversion, gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_BUILDINFO);
	expect_go_version_m(fx.stripped, gb);
	gobin__free(gb);

	/* Stripped and no build info: the scan must find buildVersion and
	 * neither decoy ("go1.12.1" contradicts the pclntab, "go1.18.3"
	 * does not but runtime.schedinit does not refer to it). */
	img = load(fx.stripped, &len);
	assert_non_null(img);
	erase_magic(img, len);
	gb = open_mem_ok(img, len);
	expect_str("scan", fx.goversion, gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SCAN);
	gobin__free(gb);
	free(img);

	/* Not stripped, no build info: the symbol. */
	img = load(fx.bin, &len);
	assert_non_null(img);
	erase_magic(img, len);
	gb = open_mem_ok(img, len);
	expect_str("symbol", fx.goversion, gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SYMBOL);
	gobin__free(gb);
	free(img);
}

/* The shared fixtures (make fixtures): plain, stripped, PIE, cgo with
 * the external linker. */
static void test_shared_fixtures(void **state)
{
	static const char *names[] = { "demo", "demo-stripped", "demo-pie",
				       "cgo", "cgo-stripped" };
	size_t tested = 0;

	(void)state;
	if (!have_go()) {
		printf("SKIP: no go command for `go version -m`\n");
		skip();
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[8192], err[256];
		struct gobin *gb;
		struct gv g;
		uint8_t *img;
		size_t len = 0;

		if (!tu_fixture(names[i], path, sizeof(path)))
			continue;
		assert_int_equal(gobin__open(path, &gb, err, sizeof(err)), 0);
		assert_int_equal(gobin__go_version_source(gb),
				 GOBIN_VER_BUILDINFO);
		expect_go_version_m(path, gb);
		gobin__free(gb);

		assert_true(go_version_m(path, &g));
		img = load(path, &len);
		assert_non_null(img);
		erase_magic(img, len);
		gb = open_mem_ok(img, len);
		expect_str(names[i], g.version, gobin__go_version(gb));
		assert_int_equal(gobin__go_version_source(gb),
				 nm_has_build_version(path) ?
					 GOBIN_VER_SYMBOL : GOBIN_VER_SCAN);
		gobin__free(gb);
		free(img);
		free(g.buf);
		tested++;
	}
	if (!tested)
		skip();
}

/* ---------------------------------------------- crafted modinfo text */

/* Lines as cmd/go writes them (BuildInfo.String), with every quoting
 * case of strconv; expected values derived by hand from strconv's rules
 * (a Go string literal's value), not from gobin. */
static const char *CRAFTED =
	"path\texample.com/crafted\n"
	"mod\texample.com/crafted\tv0.0.0-x\th1:main=\n"
	"=>\t../main\tv9.9.9\th1:r=\n"
	"dep\texample.com/a\tv1.0.0\th1:abc=\n"
	"dep\texample.com/b\tv2.0.0\n"
	"=>\t../b\t\t\n"
	"\n"
	"unknown\tline is ignored\n"
	"build\tplain=value\n"
	"build\t-ldflags=\"-X main.a=b\\tc\"\n"
	"build\tesc=\"\\x41\\101\\u00e9\\U0001F600\\a\\\\\\\"\"\n"
	"build\traw=`a \"b\" \\n\r`\n"
	"build\t\"quoted key\"=v\n"
	"build\t`raw key`=\"x y\"\n"
	"build\tempty=\n"
	"dep\texample.com/c\tv3.0.0\th1:c=\n";

static void test_crafted_modinfo(void **state)
{
	const struct gobin_buildinfo *bi;
	struct gobin *gb;
	uint8_t *img;
	size_t len = 0, off;

	(void)state;
	NEED_FIXTURE();
	img = load(fx.stripped, &len);
	assert_non_null(img);
	off = find_magic(img, len);
	assert_true(off != SIZE_MAX);
	write_inline_blob(img, off, "go1.19.99", CRAFTED);
	gb = open_mem_ok(img, len);
	bi = gobin__buildinfo(gb);
	expect_str("version", "go1.19.99", gobin__go_version(gb));
	assert_int_equal(gobin__go_minor(gb), 19);
	expect_str("path", "example.com/crafted", bi->path);
	expect_str("mod", "example.com/crafted", bi->main.path);
	expect_str("mod", "v0.0.0-x", bi->main.version);
	expect_str("mod", "h1:main=", bi->main.sum);
	expect_str("mod =>", "../main", bi->main.replace_path);
	expect_str("mod =>", "v9.9.9", bi->main.replace_version);
	expect_str("mod =>", "h1:r=", bi->main.replace_sum);

	assert_int_equal(bi->dep_cnt, 3);
	expect_str("a", "example.com/a", bi->deps[0].path);
	expect_str("a", "h1:abc=", bi->deps[0].sum);
	assert_null(bi->deps[0].replace_path);
	expect_str("b", "v2.0.0", bi->deps[1].version);
	expect_str("b", "", bi->deps[1].sum);
	expect_str("b =>", "../b", bi->deps[1].replace_path);
	expect_str("b =>", "", bi->deps[1].replace_version);
	expect_str("b =>", "", bi->deps[1].replace_sum);
	expect_str("c", "example.com/c", bi->deps[2].path);
	assert_null(bi->deps[2].replace_path);

	assert_int_equal(bi->setting_cnt, 7);
	expect_str("k0", "plain", bi->settings[0].key);
	expect_str("v0", "value", bi->settings[0].value);
	expect_str("v1", "-X main.a=b\tc", bi->settings[1].value);
	/* \x41 \101 -> 'A' 'A'; \u00e9 -> C3 A9; \U0001F600 -> F0 9F 98 80;
	 * \a -> 07; \\ -> '\'; \" -> '"' */
	expect_str("v2", "AA\xc3\xa9\xf0\x9f\x98\x80\a\\\"",
		   bi->settings[2].value);
	/* raw string: no escapes, carriage return dropped */
	expect_str("v3", "a \"b\" \\n", bi->settings[3].value);
	expect_str("k4", "quoted key", bi->settings[4].key);
	expect_str("v4", "v", bi->settings[4].value);
	expect_str("k5", "raw key", bi->settings[5].key);
	expect_str("v5", "x y", bi->settings[5].value);
	expect_str("k6", "empty", bi->settings[6].key);
	expect_str("v6", "", bi->settings[6].value);
	gobin__free(gb);
	free(img);
}

/* runtime/debug.ParseBuildInfo rejects these; the version survives and
 * the module information is dropped as a whole. */
static void test_malformed_modinfo(void **state)
{
	static const char *bad[] = {
		"path\tx\nbuild\tbad=a b\n",		/* unquoted space */
		"=>\ta\tb\tc\n",			/* nothing replaced */
		"mod\tonly\n",				/* 1 column */
		"dep\ta\tb\tc\td\n",			/* 4 columns */
		"dep\ta\tb\n=>\ta\tb\n",		/* => needs 3 */
		"dep\ta\tb\n=>\tc\td\te\n=>\tf\tg\th\n", /* => of => */
		"build\tk=\"\\ud800\"\n",		/* surrogate */
		"build\tk=\"\\U00110000\"\n",		/* > U+10FFFF */
		"build\tk=\"abc\"x\n",			/* after literal */
		"build\tk=\"abc\n",			/* unterminated */
		"build\tk=`abc\n",			/* unterminated */
		"build\t=v\n",				/* no key */
		"build\tnoequals\n",
		"build\t\n",
		"build\tk=\"\\q\"\n",			/* bad escape */
		"build\tk=\"\\x4\"\n",			/* short \x */
		"build\tk=\"\\400\"\n",			/* octal > 255 */
		"build\tk=\"\\'\"\n",			/* \' in "..." */
		"build\t\"k\"x=v\n",			/* junk after key */
		"build\t\"k\"\n",			/* no '=' */
		"build\tk\"ey=v\n",			/* key needs quotes */
		"build\tk=\"\xff\"\n",			/* not UTF-8 */
	};
	uint8_t *img, *copy;
	size_t len = 0, off;

	(void)state;
	NEED_FIXTURE();
	img = load(fx.stripped, &len);
	assert_non_null(img);
	off = find_magic(img, len);
	assert_true(off != SIZE_MAX);
	copy = malloc(len);
	assert_non_null(copy);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct gobin_buildinfo *bi;
		struct gobin *gb;

		memcpy(copy, img, len);
		write_inline_blob(copy, off, "go1.19.7", bad[i]);
		gb = open_mem_ok(copy, len);
		bi = gobin__buildinfo(gb);
		expect_str(bad[i], "go1.19.7", gobin__go_version(gb));
		assert_true(bi->present);
		if (bi->path || bi->main.path || bi->dep_cnt ||
		    bi->setting_cnt) {
			print_error("accepted malformed modinfo: %s\n", bad[i]);
			fail();
		}
		gobin__free(gb);
	}

	/* Framing: too short, or no '\n' before the end sentinel: no
	 * modules (debug/buildinfo), version kept. */
	{
		const struct gobin_buildinfo *bi;
		struct gobin *gb;
		uint8_t *p;

		memcpy(copy, img, len);
		copy[off + 15] = 2;
		p = copy + off + 32;
		p += put_uvarint(p, 8);
		memcpy(p, "go1.19.6", 8);
		p += 8;
		p += put_uvarint(p, 40);
		memset(p, 'x', 40);	/* "path\t..." nowhere, no '\n' */
		memcpy(p + 16, "path\tq\n", 7);
		gb = open_mem_ok(copy, len);
		bi = gobin__buildinfo(gb);
		expect_str("framing", "go1.19.6", gobin__go_version(gb));
		assert_null(bi->path);
		gobin__free(gb);
	}
	free(copy);
	free(img);
}

/* ------------------------------------------ the scan's version forms */

/* File offset of the (ptr, len) header in .data whose string is want,
 * found by this test's own walk (the decoys hold other strings). */
static size_t find_version_header(const struct gobin *gb, const uint8_t *img,
				  const char *want)
{
	const struct gobin_section *data = gobin__section(gb, ".data");
	size_t found = SIZE_MAX, hits = 0;

	assert_non_null(data);
	assert_non_null(data->data);
	for (uint64_t o = (16 - data->addr % 16) % 16; o + 16 <= data->size;
	     o += 16) {
		uint64_t ptr, len;
		const void *s;

		memcpy(&ptr, data->data + o, 8);
		memcpy(&len, data->data + o + 8, 8);
		if (len != strlen(want))
			continue;
		s = gobin__ptr(gb, ptr, len);
		if (s && !memcmp(s, want, len)) {
			found = (size_t)(data->data - img) + o;
			hits++;
		}
	}
	assert_int_equal(hits, 1);
	return found;
}

/* runtime.buildVersion pointed at other strings in the stripped go1.19
 * fixture without build info: which forms the scan believes. */
static void test_scan_forms(void **state)
{
	static const struct {
		const char *s, *want;	/* want NULL: no version */
		int minor;
	} cases[] = {
		{ "go1.19.8 X:loopvar,heapminimum512kib",
		  "go1.19.8 X:loopvar,heapminimum512kib", 19 },
		{ "go1.19rc1", "go1.19rc1", 19 },
		{ "go1.18beta2", "go1.18beta2", 18 },
		{ "go1.19", "go1.19", 19 },
		/* long devel strings keep whole words within 39 bytes */
		{ "devel go1.19-abcdef0 Tue Nov 14 17:58:24 2023 +0000",
		  "devel go1.19-abcdef0 Tue Nov 14", 19 },
		{ "devel +abcdef0 Tue Nov 14 2023", "devel +abcdef0 Tue Nov 14 2023",
		  -1 },
		/* the pclntab (go1.18 format) says 1.18 or 1.19 */
		{ "go1.12.1", NULL, -1 },
		{ "go1.20.1", NULL, -1 },
		{ "go1.17", NULL, -1 },
		/* not versions: and the decoy "go1.18.3" must not stand in */
		{ "go1.19.8x", NULL, -1 },
		{ "go1.19.8 X:Bad", NULL, -1 },
		{ "go1.19.8 ", NULL, -1 },
		{ "go1.19\n", NULL, -1 },
		{ "go1.", NULL, -1 },
		{ "gopher1.19", NULL, -1 },
	};
	const struct gobin_section *rodata;
	struct gobin *gb;
	uint8_t *img, *copy;
	size_t len = 0, hdr, str_off;
	uint64_t str_vaddr;

	(void)state;
	NEED_FIXTURE();
	img = load(fx.stripped, &len);
	assert_non_null(img);
	erase_magic(img, len);
	gb = open_mem_ok(img, len);
	hdr = find_version_header(gb, img, fx.goversion);
	rodata = gobin__section(gb, ".rodata");
	assert_non_null(rodata);
	assert_false(rodata->flags & SHF_WRITE);
	assert_true(rodata->size > 128);
	/* gobin parses nothing in .rodata: its first bytes are free */
	str_off = rodata->offset;
	str_vaddr = rodata->addr;
	gobin__free(gb);

	copy = malloc(len);
	assert_non_null(copy);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t n = strlen(cases[i].s);

		memcpy(copy, img, len);
		memcpy(copy + str_off, cases[i].s, n);
		memcpy(copy + hdr, &str_vaddr, 8);
		memcpy(copy + hdr + 8, &n, 8);
		gb = open_mem_ok(copy, len);
		expect_str(cases[i].s, cases[i].want, gobin__go_version(gb));
		assert_int_equal(gobin__go_version_source(gb),
				 cases[i].want ? GOBIN_VER_SCAN :
						 GOBIN_VER_NONE);
		assert_int_equal(gobin__go_minor(gb), cases[i].minor);
		gobin__free(gb);
	}
	/* A perfect version string, but in writable memory (the erased
	 * blob's place): runtime.buildVersion's bytes are read-only data. */
	{
		size_t blob = find_magic(img, len);	/* erased: none */
		const uint8_t *p = memmem(img, len, "\xff" "XGo buildinf:",
					  14);
		uint64_t n = strlen(fx.goversion), va;

		assert_true(blob == SIZE_MAX && p && (p - img) % 16 == 0);
		memcpy(copy, img, len);
		memcpy(copy + (p - img), fx.goversion, n);
		va = off_to_vaddr(copy, (size_t)(p - img));
		memcpy(copy + hdr, &va, 8);
		memcpy(copy + hdr + 8, &n, 8);
		gb = open_mem_ok(copy, len);
		assert_null(gobin__go_version(gb));
		gobin__free(gb);
	}
	free(copy);
	free(img);
}

/* Renames runtime.schedinit in the pclntab's name table so that the
 * scan cannot lean on its code. */
static void hide_schedinit(uint8_t *img, size_t len)
{
	static const char name[] = "runtime.schedinit";	/* with its NUL */
	int n = 0;

	for (uint8_t *p = img; (p = memmem(p, len - (size_t)(p - img), name,
					   sizeof(name))); p++, n++)
		p[sizeof(name) - 2] = 'X';
	assert_true(n > 0);
}

/* Without runtime.schedinit the scan takes a value only if every
 * candidate agrees on it. */
static void test_scan_without_schedinit(void **state)
{
	const char *name = "esbuild-0.28.2-go1.26.5";
	char path[8192];
	struct gobin *gb;
	uint8_t *img, *p;
	size_t len = 0;

	(void)state;
	if (tu_corpus(name, path, sizeof(path)) && (img = load(path, &len))) {
		/* no build info there, one candidate */
		hide_schedinit(img, len);
		gb = open_mem_ok(img, len);
		assert_null(gobin__func_by_name(gb, "runtime.schedinit"));
		expect_str(name, "go1.26.5", gobin__go_version(gb));
		assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SCAN);
		gobin__free(gb);
		free(img);
	}
	NEED_FIXTURE();
	img = load(fx.stripped, &len);
	assert_non_null(img);
	erase_magic(img, len);
	hide_schedinit(img, len);
	/* "go1.18.3" and the real version disagree: no guess */
	gb = open_mem_ok(img, len);
	assert_null(gobin__go_version(gb));
	gobin__free(gb);
	/* without decoySame only "go1.12.1" is left to disagree, and the
	 * pclntab rules it out */
	p = memmem(img, len, "go1.18.3", 8);
	assert_non_null(p);
	p[2] = '!';
	gb = open_mem_ok(img, len);
	expect_str("scan", fx.goversion, gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SCAN);
	gobin__free(gb);
	free(img);
}

/* runtime.buildVersion of length 0 in .symtab (the runtime would say
 * "unknown"): no version, and the scan does not invent one. */
static void test_symbol_empty(void **state)
{
	struct gobin *gb;
	uint8_t *img;
	size_t len = 0, off = SIZE_MAX;
	uint64_t addr, zero = 0;
	char *out;

	(void)state;
	NEED_FIXTURE();
	out = tu_run("nm '%s' | awk '$3 == \"runtime.buildVersion\" { print $1 }'",
		     fx.bin);
	assert_non_null(out);
	addr = strtoull(out, NULL, 16);
	free(out);
	assert_true(addr != 0);
	img = load(fx.bin, &len);
	assert_non_null(img);
	{
		Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

		for (int i = 0; i < eh->e_phnum; i++) {
			Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff +
							(size_t)i * eh->e_phentsize);

			if (ph->p_type == PT_LOAD && ph->p_vaddr <= addr &&
			    addr + 16 <= ph->p_vaddr + ph->p_filesz)
				off = ph->p_offset + (addr - ph->p_vaddr);
		}
	}
	assert_true(off != SIZE_MAX);
	erase_magic(img, len);
	memcpy(img + off + 8, &zero, 8);
	gb = open_mem_ok(img, len);
	assert_null(gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_NONE);
	gobin__free(gb);
	free(img);
}

/* No section headers at all (e_shoff = 0): the blob is found in the
 * writable PT_LOAD, as debug/buildinfo's DataStart does. */
static void test_no_section_headers(void **state)
{
	const char *name = "esbuild-0.11.23-go1.16.3";
	const char *bins[2] = { NULL, NULL };
	const char *want[2] = { NULL, "go1.16.3" };
	char path[8192];

	(void)state;
	if (fx.ok) {
		bins[0] = fx.stripped;
		want[0] = fx.goversion;
	} else {
		printf("SKIP: no build-info fixture (see above)\n");
	}
	bins[1] = tu_corpus(name, path, sizeof(path));
	if (!bins[0] && !bins[1])
		skip();
	for (int i = 0; i < 2; i++) {
		struct gobin *gb;
		Elf64_Ehdr *eh;
		uint8_t *img;
		size_t len = 0;

		if (!bins[i] || !(img = load(bins[i], &len)))
			continue;
		eh = (Elf64_Ehdr *)img;
		eh->e_shoff = 0;
		eh->e_shnum = 0;
		eh->e_shstrndx = 0;
		gb = open_mem_ok(img, len);
		assert_null(gobin__section(gb, ".go.buildinfo"));
		expect_str(bins[i], want[i], gobin__go_version(gb));
		assert_int_equal(gobin__go_version_source(gb),
				 GOBIN_VER_BUILDINFO);
		gobin__free(gb);
		free(img);
	}
}

/* ------------------------------------------------------- robustness */

static void expect_sane(const struct gobin *gb)
{
	const char *v = gobin__go_version(gb);

	if (v)
		assert_true(printable_str(v) && strlen(v) < 40);
	else
		assert_int_equal(gobin__go_minor(gb), -1);
}

/* Corrupted inline blobs: each must open (the pclntab is intact) and fall
 * back where the blob is unusable. Run under ASan+UBSan as tests-san. */
static void test_corrupt_inline_blob(void **state)
{
	uint8_t *img, *copy, *p;
	size_t len = 0, off;
	struct gobin *gb;
	Elf64_Phdr *ph;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	NEED_FIXTURE();
	img = load(fx.bin, &len);	/* has .symtab: SYMBOL fallback */
	assert_non_null(img);
	off = find_magic(img, len);
	assert_true(off != SIZE_MAX && off + 512 < len);
	copy = malloc(len);
	assert_non_null(copy);

	/* A version length varint that never ends (11 x 0xff). */
	memcpy(copy, img, len);
	memset(copy + off + 32, 0xff, 11);
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	expect_str("symbol", fx.goversion, gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SYMBOL);
	gobin__free(gb);

	/* A 10-byte varint that overflows 64 bits. */
	memcpy(copy, img, len);
	memset(copy + off + 32, 0xff, 9);
	copy[off + 32 + 9] = 0x02;
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);

	/* A 10-byte varint whose overflowed value would be 8, followed by
	 * 8 good bytes: Uvarint rejects it, so must we. */
	memcpy(copy, img, len);
	p = copy + off + 32;
	p[0] = 0x88;
	memset(p + 1, 0x80, 8);
	p[9] = 0x02;
	memcpy(p + 10, "go1.19.4", 8);
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);

	/* A version longer than the rest of the segment. */
	memcpy(copy, img, len);
	p = copy + off + 32;
	put_uvarint(p, 1ULL << 40);
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SYMBOL);
	gobin__free(gb);

	/* Good version, modinfo length past the segment: no modules. */
	memcpy(copy, img, len);
	p = copy + off + 32;
	p += put_uvarint(p, 8);
	memcpy(p, "go1.19.5", 8);
	put_uvarint(p + 8, UINT64_MAX);
	gb = open_mem_ok(copy, len);
	assert_true(gobin__buildinfo(gb)->present);
	expect_str("version", "go1.19.5", gobin__go_version(gb));
	assert_int_equal(gobin__buildinfo(gb)->dep_cnt, 0);
	assert_null(gobin__buildinfo(gb)->path);
	gobin__free(gb);

	/* A version of control bytes: kept in the blob, not believed. */
	memcpy(copy, img, len);
	p = copy + off + 32;
	p += put_uvarint(p, 3);
	memcpy(p, "\x01\x02\x03", 3);
	gb = open_mem_ok(copy, len);
	assert_true(gobin__buildinfo(gb)->present);
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_SYMBOL);
	gobin__free(gb);

	/* Switched to pointer form, pointers into nowhere / pointer size 0. */
	memcpy(copy, img, len);
	copy[off + 15] = 0;
	memset(copy + off + 16, 0x41, 16);
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);
	copy[off + 14] = 0;
	gb = open_mem_ok(copy, len);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);

	/* The rest on the stripped build, which opens faster (no DWARF). */
	free(img);
	img = load(fx.stripped, &len);
	assert_non_null(img);
	off = find_magic(img, len);
	assert_true(off != SIZE_MAX && off + 512 < len);
	free(copy);
	copy = malloc(len);
	assert_non_null(copy);

	/* The segment ends inside the blob: at every byte of its header and
	 * of the version, then here and there in modinfo. */
	for (size_t cut = 0; cut < 160; cut += cut < 48 ? 1 : 16) {
		memcpy(copy, img, len);
		ph = phdr_of(copy, off);
		assert_non_null(ph);
		ph->p_filesz = off - ph->p_offset + cut;
		gb = open_mem_ok(copy, len);
		if (cut < 32)
			assert_false(gobin__buildinfo(gb)->present);
		expect_sane(gb);
		gobin__free(gb);
	}

	/* Random bytes flipped in the blob and what follows it. */
	memcpy(copy, img, len);
	for (int iter = 0; iter < 150; iter++) {
		memcpy(copy + off, img + off, 512);
		for (int k = 0; k < 1 + iter % 6; k++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			copy[off + 14 + seed % 400] ^= (uint8_t)(seed >> 32 | 1);
		}
		gb = open_mem_ok(copy, len);
		expect_sane(gb);
		gobin__free(gb);
	}
	free(copy);
	free(img);
}

/* No build info, no symbol, nothing that looks like a version: unknown
 * is an answer, not an error. */
static void test_nothing_found(void **state)
{
	struct gobin *gb;
	uint8_t *img;
	size_t len = 0;

	(void)state;
	NEED_FIXTURE();
	img = load(fx.stripped, &len);
	assert_non_null(img);
	erase_magic(img, len);
	/* Every "go1." in the file loses its shape. */
	for (uint8_t *p = img; (p = memmem(p, len - (size_t)(p - img),
					   "go1.", 4)); p++)
		p[2] = '!';
	gb = open_mem_ok(img, len);
	assert_null(gobin__go_version(gb));
	assert_int_equal(gobin__go_version_source(gb), GOBIN_VER_NONE);
	assert_int_equal(gobin__go_minor(gb), -1);
	assert_false(gobin__buildinfo(gb)->present);
	gobin__free(gb);
	free(img);
}

int main(void)
{
	const struct CMUnitTest corpus[] = {
		cmocka_unit_test(test_parse_minor),
		cmocka_unit_test(test_corpus_versions),
		cmocka_unit_test(test_corpus_go_version_m),
		cmocka_unit_test(test_corpus_fallbacks),
		cmocka_unit_test(test_corpus_pointer_form_corrupt),
		cmocka_unit_test(test_shared_fixtures),
	};
	const struct CMUnitTest built[] = {
		cmocka_unit_test(test_fixture_go_version_m),
		cmocka_unit_test(test_fixture_stripped),
		cmocka_unit_test(test_crafted_modinfo),
		cmocka_unit_test(test_malformed_modinfo),
		cmocka_unit_test(test_scan_forms),
		cmocka_unit_test(test_scan_without_schedinit),
		cmocka_unit_test(test_symbol_empty),
		cmocka_unit_test(test_no_section_headers),
		cmocka_unit_test(test_corrupt_inline_blob),
		cmocka_unit_test(test_nothing_found),
	};
	int failed;

	failed = cmocka_run_group_tests_name("buildinfo_corpus", corpus, NULL,
					     NULL);
	failed += cmocka_run_group_tests_name("buildinfo_built", built,
					      fixture_setup, fixture_teardown);
	return failed;
}
