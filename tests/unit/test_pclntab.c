// SPDX-License-Identifier: MIT
/*
 * .gopclntab reader, against ground truth that does not come from it:
 *   - `nm` (the .symtab the linker wrote) for names and addresses,
 *   - `go tool objdump` (the Go toolchain's own pc->line decoding) and
 *     `addr2line -i` (DWARF line tables and inlined subroutines) for
 *     file:line and inlined frames,
 *   - the Go source (a program written here, and GOROOT's assembly) for
 *     line numbers and argument sizes,
 *   - the Go release in each corpus file name for the table format.
 * Needs: the esbuild corpus (GOSNOOP_CORPUS), the fixtures
 * (GOSNOOP_FIXTURES), and `go`, `nm`, `addr2line`; each test SKIPs
 * visibly when its input is missing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "testutil.h"
#include "gobin/gobin.h"

/* ------------------------------------------------------------- helpers */

static const char *corpus_names[] = {
	"esbuild-0.0.9-go1.13.8",   "esbuild-0.6.1-go1.14.2",
	"esbuild-0.8.34-go1.15.5",  "esbuild-0.11.23-go1.16.3",
	"esbuild-0.14.10-go1.17.5", "esbuild-0.14.38-go1.18",
	"esbuild-0.15.18-go1.19.3", "esbuild-0.17.19-go1.20.4",
	"esbuild-0.23.1-go1.22.5",  "esbuild-0.25.9-go1.23.12",
	"esbuild-0.27.2-go1.25.5",  "esbuild-0.28.2-go1.26.5",
};
#define N_CORPUS (sizeof(corpus_names) / sizeof(corpus_names[0]))

static struct gobin *open_ok(const char *path)
{
	char err[256];
	struct gobin *gb = NULL;
	int ret = gobin__open(path, &gb, err, sizeof(err));

	if (ret)
		fail_msg("gobin__open(%s) = %d: %s", path, ret, err);
	return gb;
}

static bool have_tool(const char *tool)
{
	char *out = tu_run("command -v %s 2>/dev/null", tool);
	bool ok = out && out[0];

	free(out);
	return ok;
}

/* Minor Go release from "...-go1.N[.P]" */
static int name_minor(const char *name)
{
	const char *g = strstr(name, "-go1.");

	return g ? atoi(g + 5) : -1;
}

static enum gobin_pcln_format format_for_minor(int minor)
{
	if (minor >= 20)
		return GOBIN_PCLN_GO120;
	if (minor >= 18)
		return GOBIN_PCLN_GO118;
	if (minor >= 16)
		return GOBIN_PCLN_GO116;
	return GOBIN_PCLN_GO12;
}

/* nm's view of .symtab: name -> address, sorted by name. */
struct nm_sym {
	char *name;
	uint64_t addr;
	char type;
};
struct nm_tab {
	struct nm_sym *syms;
	size_t cnt;
	char *buf;
};

static int cmp_nm(const void *a, const void *b)
{
	return strcmp(((const struct nm_sym *)a)->name,
		      ((const struct nm_sym *)b)->name);
}

static bool nm_load(const char *path, struct nm_tab *t)
{
	size_t cap = 0;
	char *line, *save = NULL;

	memset(t, 0, sizeof(*t));
	t->buf = tu_run("nm '%s' 2>/dev/null", path);
	if (!t->buf)
		return false;
	for (line = strtok_r(t->buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long addr;
		char type;
		int n = 0;

		if (sscanf(line, "%llx %c %n", &addr, &type, &n) != 2 || !n)
			continue;
		if (t->cnt == cap) {
			cap = cap ? cap * 2 : 4096;
			t->syms = realloc(t->syms, cap * sizeof(*t->syms));
			assert_non_null(t->syms);
		}
		t->syms[t->cnt++] = (struct nm_sym){ line + n, addr, type };
	}
	qsort(t->syms, t->cnt, sizeof(*t->syms), cmp_nm);
	return t->cnt > 0;
}

static void nm_free(struct nm_tab *t)
{
	free(t->syms);
	free(t->buf);
}

/* Does nm list name at addr? Several symbols may share a name. */
static bool nm_has(const struct nm_tab *t, const char *name, uint64_t addr)
{
	struct nm_sym key = { (char *)name, 0, 0 };
	struct nm_sym *s = bsearch(&key, t->syms, t->cnt, sizeof(*t->syms),
				   cmp_nm);

	if (!s)
		return false;
	while (s > t->syms && !strcmp(s[-1].name, name))
		s--;
	for (; s < t->syms + t->cnt && !strcmp(s->name, name); s++)
		if (s->addr == addr)
			return true;
	return false;
}

/* Does pattern (a pclntab name with "[...]" for array lengths or type
 * arguments) spell symbol name, whose brackets hold something? */
static bool ellipsis_match(const char *pat, const char *name)
{
	while (*pat) {
		if (!strncmp(pat, "[...]", 5) && *name == '[') {
			const char *d = name + 1;
			int depth = 1;

			for (; *d && depth; d++)
				depth += (*d == '[') - (*d == ']');
			if (depth || d == name + 2)
				return false;
			pat += 5;
			name = d;
			continue;
		}
		if (*pat++ != *name++)
			return false;
	}
	return !*name;
}

static bool nm_has_ellipsis(const struct nm_tab *t, const char *pat,
			    uint64_t addr)
{
	for (size_t i = 0; i < t->cnt; i++)
		if (t->syms[i].addr == addr &&
		    ellipsis_match(pat, t->syms[i].name))
			return true;
	return false;
}

static const struct nm_sym *nm_get(const struct nm_tab *t, const char *name)
{
	struct nm_sym key = { (char *)name, 0, 0 };

	return bsearch(&key, t->syms, t->cnt, sizeof(*t->syms), cmp_nm);
}

/*
 * How .symtab spells a pclntab function (what the `list` vs `nm` test must
 * allow for):
 *   - go1.17+: an assembly (ABI0) function is "name.abi0" in .symtab; when a
 *     function has both an ABI0 and an ABIInternal body, pclntab lists both
 *     under the same name and .symtab suffixes the ABI0 one.
 *   - go1.13/1.14: pclntab writes "·" (U+00B7) where .symtab has "." in
 *     names of function-local types ("net.(*dialResult·1).Close").
 *   - go1.18+: pclntab writes "[...]" for array lengths in generated
 *     names ("type..eq.[...]internal/cpu.option" is
 *     "type..eq.[5]internal/cpu.option" in .symtab) and for the type
 *     arguments of generic instantiations ("main.Map[...]" is
 *     "main.Map[go.shape.int_0,go.shape.string_1]").
 * Returns how it matched (0 exact, 1 .abi0, 2 dot, 3 [...]), or -1.
 */
static int nm_match(const struct nm_tab *t, const char *name, uint64_t addr)
{
	char buf[4096], *o;
	const char *i;

	if (nm_has(t, name, addr))
		return 0;
	snprintf(buf, sizeof(buf), "%s.abi0", name);
	if (nm_has(t, buf, addr))
		return 1;
	for (i = name, o = buf; *i && o < buf + sizeof(buf) - 1;) {
		if ((unsigned char)i[0] == 0xc2 && (unsigned char)i[1] == 0xb7) {
			*o++ = '.';
			i += 2;
		} else {
			*o++ = *i++;
		}
	}
	*o = 0;
	if (nm_has(t, buf, addr))
		return 2;
	if (strstr(name, "[...]") && nm_has_ellipsis(t, name, addr))
		return 3;
	return -1;
}

/* Copy of a file with its section header table removed (e_shoff,
 * e_shnum, e_shstrndx zeroed): no .gopclntab, no .symtab. */
static uint8_t *read_without_sections(const char *path, size_t *len)
{
	uint8_t *b = tu_read_file(path, len);

	if (!b || *len < 64) {
		free(b);
		return NULL;
	}
	memset(b + 0x28, 0, 8);		/* e_shoff */
	memset(b + 0x3a, 0, 6);		/* e_shentsize, e_shnum, e_shstrndx */
	return b;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---------------------------------------------- a program written here */

/*
 * h is inlined into g, g into f; f and twoargs are not inlined. Line
 * numbers are found by their MARK_ comments at run time.
 */
static const char fixture_src[] =
	"package main\n"
	"\n"
	"import \"os\"\n"
	"\n"
	"var sink int\n"
	"\n"
	"func h(x int) int {\n"
	"\treturn x*7 + sink // MARK_H_BODY\n"
	"}\n"
	"\n"
	"func g(x int) int {\n"
	"\tsink += h(x)    // MARK_G_CALLS_H\n"
	"\treturn sink + 1 // MARK_G_BODY\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func f(x int) int {\n"
	"\ty := g(x) // MARK_F_CALLS_G\n"
	"\treturn y * 2\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func twoargs(a, b int) int {\n"
	"\treturn a*b + sink\n"
	"}\n"
	"\n"
	"func main() {\n"
	"\tif f(len(os.Args))+twoargs(2, 3) == 42 {\n"
	"\t\tos.Exit(3)\n"
	"\t}\n"
	"}\n";

static char fx_dir[256];
static char fx_bin[300];

static int mark_line(const char *mark)
{
	const char *p = strstr(fixture_src, mark);
	int line = 1;

	assert_non_null(p);
	for (const char *q = fixture_src; q < p; q++)
		line += *q == '\n';
	return line;
}

/* Builds the program once; NULL after a visible SKIP when go is absent. */
static const char *own_fixture(void)
{
	char path[300];
	FILE *f;
	char *out;

	if (fx_bin[0])
		return access(fx_bin, X_OK) ? NULL : fx_bin;
	if (!have_tool("go")) {
		printf("SKIP: no go toolchain to build the inlining fixture\n");
		return NULL;
	}
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/gosnoop-pcln-XXXXXX");
	assert_non_null(mkdtemp(fx_dir));
	snprintf(path, sizeof(path), "%s/main.go", fx_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(fixture_src, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/go.mod", fx_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("module pclnfx\n\ngo 1.16\n", f);
	fclose(f);
	snprintf(fx_bin, sizeof(fx_bin), "%s/pclnfx", fx_dir);
	out = tu_run("cd '%s' && GOFLAGS=-mod=mod GOTOOLCHAIN=local "
		     "CGO_ENABLED=0 go build -o pclnfx . 2>&1", fx_dir);
	if (access(fx_bin, X_OK))
		fail_msg("go build of the fixture failed: %s", out ? out : "");
	free(out);
	return fx_bin;
}

/*
 * Go's own reader, debug/gosym of the installed toolchain (go1.19 reads
 * the go1.2, go1.16 and go1.18 layouts, not go1.20's): prints
 * "pc<TAB>line<TAB>file<TAB>func" for each pc read from stdin.
 */
static const char gosym_src[] =
	"// gsym: pc -> func file:line with Go's own debug/gosym, for comparison.\n"
	"// usage: gsym BINARY < pcs (hex, one per line)\n"
	"package main\n"
	"\n"
	"import (\n"
	"\t\"bufio\"\n"
	"\t\"debug/elf\"\n"
	"\t\"debug/gosym\"\n"
	"\t\"fmt\"\n"
	"\t\"os\"\n"
	"\t\"strconv\"\n"
	")\n"
	"\n"
	"func main() {\n"
	"\tf, err := elf.Open(os.Args[1])\n"
	"\tif err != nil {\n"
	"\t\tfmt.Println(\"error\", err)\n"
	"\t\tos.Exit(1)\n"
	"\t}\n"
	"\tpcln := f.Section(\".gopclntab\")\n"
	"\ttext := f.Section(\".text\")\n"
	"\tif pcln == nil || text == nil {\n"
	"\t\tfmt.Println(\"error no .gopclntab or .text\")\n"
	"\t\tos.Exit(1)\n"
	"\t}\n"
	"\tdata, err := pcln.Data()\n"
	"\tif err != nil {\n"
	"\t\tfmt.Println(\"error\", err)\n"
	"\t\tos.Exit(1)\n"
	"\t}\n"
	"\ttab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))\n"
	"\tif err != nil {\n"
	"\t\tfmt.Println(\"error\", err)\n"
	"\t\tos.Exit(1)\n"
	"\t}\n"
	"\tfmt.Println(\"funcs\", len(tab.Funcs))\n"
	"\tin := bufio.NewScanner(os.Stdin)\n"
	"\tout := bufio.NewWriter(os.Stdout)\n"
	"\tdefer out.Flush()\n"
	"\tfor in.Scan() {\n"
	"\t\tpc, err := strconv.ParseUint(in.Text(), 0, 64)\n"
	"\t\tif err != nil {\n"
	"\t\t\tcontinue\n"
	"\t\t}\n"
	"\t\tfile, line, fn := tab.PCToLine(pc)\n"
	"\t\tname := \"?\"\n"
	"\t\tif fn != nil {\n"
	"\t\t\tname = fn.Name\n"
	"\t\t}\n"
	"\t\tfmt.Fprintf(out, \"%#x\\t%d\\t%s\\t%s\\n\", pc, line, file, name)\n"
	"\t}\n"
	"}\n";

static char gs_bin[300];

static const char *gosym_helper(void)
{
	char path[300];
	FILE *f;
	char *out;

	if (gs_bin[0])
		return access(gs_bin, X_OK) ? NULL : gs_bin;
	if (!own_fixture())	/* makes fx_dir, or SKIPs without go */
		return NULL;
	snprintf(path, sizeof(path), "%s/gsym", fx_dir);
	if (mkdir(path, 0700))
		fail_msg("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/gsym/main.go", fx_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(gosym_src, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/gsym/go.mod", fx_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("module gsym\n\ngo 1.16\n", f);
	fclose(f);
	snprintf(gs_bin, sizeof(gs_bin), "%s/gsym/gsym", fx_dir);
	out = tu_run("cd '%s/gsym' && GOFLAGS=-mod=mod GOTOOLCHAIN=local "
		     "CGO_ENABLED=0 go build -o gsym . 2>&1", fx_dir);
	if (access(gs_bin, X_OK))
		fail_msg("go build of gsym failed: %s", out ? out : "");
	free(out);
	return gs_bin;
}

static int group_teardown(void **state)
{
	(void)state;
	if (fx_dir[0]) {
		free(tu_run("rm -rf '%s'", fx_dir));
		fx_dir[0] = 0;
		fx_bin[0] = 0;
		gs_bin[0] = 0;
	}
	return 0;
}

/* One instruction of `go tool objdump`: file base name, line, pc. */
struct insn {
	char file[256];
	int line;
	uint64_t pc;
};

static size_t objdump_func(const char *bin, const char *func,
			   struct insn *out, size_t max)
{
	char *txt = tu_run("go tool objdump -s '^%s$' '%s' 2>/dev/null", func,
			   bin);
	char *line, *save = NULL;
	size_t n = 0;

	assert_non_null(txt);
	for (line = strtok_r(txt, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long pc;
		char file[256];
		int ln;

		/* "  main.go:18\t0x457e2a\t4889c1\tMOVQ AX, CX" */
		if (sscanf(line, " %255[^:]:%d %llx", file, &ln, &pc) != 3)
			continue;
		snprintf(out[n].file, sizeof(out[n].file), "%s", file);
		out[n].line = ln;
		out[n].pc = pc;
		n++;
	}
	free(txt);
	return n;
}

/* `addr2line -i` (DWARF): the file:line chain at pc, innermost first. */
static int addr2line_chain(const char *bin, uint64_t pc, char files[][256],
			   int *lines, int max)
{
	char *txt = tu_run("addr2line -i -e '%s' %#llx 2>/dev/null", bin,
			   (unsigned long long)pc);
	char *line, *save = NULL;
	int n = 0;

	assert_non_null(txt);
	for (line = strtok_r(txt, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strrchr(line, ':');

		if (!colon)
			continue;
		*colon = 0;
		snprintf(files[n], 256, "%s", line);
		lines[n] = atoi(colon + 1);
		n++;
	}
	free(txt);
	return n;
}

/* ----------------------------------------------------------- the tests */

/* Every instruction of main.f: our file:line equals go tool objdump's;
 * inlined frames at pcs from h's and g's bodies are [h, g, f] / [g, f]
 * with the call sites' lines, and agree with DWARF's inlined chain. */
static void test_fixture_lines_and_inlining(void **state)
{
	const char *bin = own_fixture();
	int l_h = mark_line("MARK_H_BODY"), l_gh = mark_line("MARK_G_CALLS_H");
	int l_g = mark_line("MARK_G_BODY"), l_fg = mark_line("MARK_F_CALLS_G");
	static struct insn insns[4096];
	const struct gobin_func *f;
	struct gobin *gb;
	size_t n, seen_h = 0, seen_g = 0;
	bool dwarf = have_tool("addr2line");

	(void)state;
	if (!bin)
		skip();
	gb = open_ok(bin);
	f = gobin__func_by_name(gb, "main.f");
	assert_non_null(f);
	assert_null(gobin__func_by_name(gb, "main.g"));	/* inlined away */
	n = objdump_func(bin, "main.f", insns, 4096);
	assert_true(n > 5);
	assert_int_equal(insns[0].pc, f->entry);
	for (size_t i = 0; i < n; i++) {
		struct gobin_frame fr[8];
		const char *file;
		int line, k;

		assert_ptr_equal(gobin__func_at(gb, insns[i].pc), f);
		assert_int_equal(gobin__func_line(gb, f, insns[i].pc, &file,
						  &line), 0);
		assert_string_equal(base(file), insns[i].file);
		assert_int_equal(line, insns[i].line);

		k = gobin__pc_frames(gb, insns[i].pc, fr, 8);
		assert_true(k >= 1);
		assert_string_equal(fr[k - 1].func, "main.f");
		assert_false(fr[k - 1].inlined);
		/* innermost frame: the position objdump prints */
		assert_int_equal(fr[0].line, insns[i].line);
		if (insns[i].line == l_h) {
			seen_h++;
			assert_int_equal(k, 3);
			assert_string_equal(fr[0].func, "main.h");
			assert_true(fr[0].inlined);
			assert_string_equal(fr[1].func, "main.g");
			assert_true(fr[1].inlined);
			assert_int_equal(fr[1].line, l_gh);
			assert_int_equal(fr[2].line, l_fg);
		} else if (insns[i].line == l_g) {
			seen_g++;
			assert_int_equal(k, 2);
			assert_string_equal(fr[0].func, "main.g");
			assert_int_equal(fr[1].line, l_fg);
		}
		if (dwarf && (insns[i].line == l_h || insns[i].line == l_g)) {
			char files[8][256];
			int lines[8];
			int m = addr2line_chain(bin, insns[i].pc, files, lines,
						8);

			assert_int_equal(m, k);
			for (int j = 0; j < k; j++) {
				assert_string_equal(files[j], fr[j].file);
				assert_int_equal(lines[j], fr[j].line);
			}
		}
	}
	/* The compiler did inline as the fixture intends. */
	assert_true(seen_h > 0);
	assert_true(seen_g > 0);
	gobin__free(gb);
}

/* Argument sizes as the Go source declares them: twoargs(a, b int) int
 * and GOROOT's assembly (TEXT runtime·memmove...$0-24; rt0_go has "$0",
 * no argument size: ArgsSizeUnknown). */
static void test_fixture_args(void **state)
{
	const char *bin = own_fixture();
	char *goroot, *txt;
	const struct gobin_func *f;
	struct gobin *gb;
	int frame, args;
	char *p;

	(void)state;
	if (!bin)
		skip();
	gb = open_ok(bin);
	goroot = tu_run("go env GOROOT");
	assert_non_null(goroot);
	goroot[strcspn(goroot, "\n")] = 0;
	txt = tu_run("grep -h '^TEXT runtime·memmove' '%s'/src/runtime/"
		     "memmove_amd64.s", goroot);
	assert_non_null(txt);
	p = strchr(txt, '$');
	assert_non_null(p);
	assert_int_equal(sscanf(p, "$%d-%d", &frame, &args), 2);
	f = gobin__func_by_name(gb, "runtime.memmove");
	assert_non_null(f);
	assert_int_equal(f->args, args);
	free(txt);
	txt = tu_run("grep -h '^TEXT runtime·rt0_go' '%s'/src/runtime/"
		     "asm_amd64.s", goroot);
	assert_non_null(txt);
	p = strchr(txt, '$');
	assert_non_null(p);
	assert_null(strchr(p, '-'));	/* source gives no argument size */
	f = gobin__func_by_name(gb, "runtime.rt0_go");
	assert_non_null(f);
	assert_int_equal(f->args, GOBIN_ARGS_UNKNOWN);
	free(txt);
	free(goroot);
	/* ABI0 stack frame of (a, b int) int: 3 words, or 2 words of
	 * argument spill space under the register ABI (go1.17+). */
	f = gobin__func_by_name(gb, "main.twoargs");
	assert_non_null(f);
	assert_true(f->args == 16 || f->args == 24);
	gobin__free(gb);
}

/* Every pclntab function is in .symtab (nm) at the same address;
 * func_at and func_by_name round-trip. */
static void check_against_nm(const char *path)
{
	struct gobin *gb = open_ok(path);
	struct nm_tab nm;
	size_t n = gobin__func_cnt(gb), how[4] = { 0 };
	const struct nm_sym *rt;

	assert_true(nm_load(path, &nm));
	for (size_t i = 0; i < n; i++) {
		const struct gobin_func *f = gobin__func(gb, i);
		const struct gobin_func *byname;
		int m = nm_match(&nm, f->name, f->entry);

		if (m < 0)
			fail_msg("%s: pclntab function %s at %#llx is not in "
				 ".symtab", path, f->name,
				 (unsigned long long)f->entry);
		how[m]++;
		assert_ptr_equal(gobin__func_at(gb, f->entry), f);
		byname = gobin__func_by_name(gb, f->name);
		assert_non_null(byname);
		assert_string_equal(byname->name, f->name);
		/* func_by_name answers the name's own symbol or, when the
		 * name has two bodies (go1.17+ ABI wrappers), the one that
		 * is not the wrapper: for an assembly function that is
		 * "name.abi0" in .symtab. */
		if (m == 0 && nm_match(&nm, f->name, byname->entry) < 0)
			fail_msg("%s: func_by_name(%s) = %#llx, not in .symtab",
				 path, f->name,
				 (unsigned long long)byname->entry);
	}
	rt = nm_get(&nm, "runtime.text");
	assert_non_null(rt);
	assert_int_equal(gobin__text_start(gb), rt->addr);
	printf("# %s: %zu functions: %zu same name, %zu as name.abi0, %zu "
	       "with '.' for U+00B7, %zu with [N] for [...]\n", base(path), n,
	       how[0], how[1], how[2], how[3]);
	nm_free(&nm);
	gobin__free(gb);
}

static void test_symtab_fixture(void **state)
{
	const char *bin = own_fixture();

	(void)state;
	if (!bin)
		skip();
	check_against_nm(bin);
}

static void test_symtab_fixtures_dir(void **state)
{
	static const char *names[] = { "demo", "demo-pie", "demo-noinline",
				       "cgo" };
	char path[8192];
	int done = 0;

	(void)state;
	if (!have_tool("nm"))
		skip();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!tu_fixture(names[i], path, sizeof(path)))
			continue;
		check_against_nm(path);
		done++;
	}
	if (!done)
		skip();
}

static void test_symtab_corpus(void **state)
{
	static const char *names[] = { "esbuild-0.0.9-go1.13.8",
				       "esbuild-0.6.1-go1.14.2" };
	char path[8192];
	int done = 0;

	(void)state;
	if (!have_tool("nm"))
		skip();
	for (size_t i = 0; i < 2; i++) {
		if (!tu_corpus(names[i], path, sizeof(path)))
			continue;
		check_against_nm(path);
		done++;
	}
	if (!done)
		skip();
}

/* The invariants that must hold in every release's table. */
static void check_table(struct gobin *gb, const char *name)
{
	size_t n = gobin__func_cnt(gb);
	const struct gobin_func *f;
	const struct gobin_section *text = gobin__section(gb, ".text");
	struct gobin_frame fr[16];
	const char *file;
	int line;

	if (n <= 1000)
		fail_msg("%s: only %zu functions", name, n);
	for (size_t i = 0; i < n; i++) {
		f = gobin__func(gb, i);
		assert_non_null(f->name);
		if (f->entry >= f->end)
			fail_msg("%s: %s entry %#llx >= end %#llx", name,
				 f->name, (unsigned long long)f->entry,
				 (unsigned long long)f->end);
		if (i && f->entry <= gobin__func(gb, i - 1)->entry)
			fail_msg("%s: entries not increasing at %s", name,
				 f->name);
		if (i + 1 < n)
			assert_int_equal(f->end, gobin__func(gb, i + 1)->entry);
		assert_ptr_equal(gobin__func_at(gb, f->entry), f);
		assert_ptr_equal(gobin__func_at(gb, f->end - 1), f);
		assert_non_null(gobin__func_by_name(gb, f->name));
		if (text)
			assert_true(f->entry >= text->addr &&
				    f->end <= text->addr + text->size);
	}
	assert_null(gobin__func_at(gb, gobin__func(gb, 0)->entry - 1));
	assert_null(gobin__func_at(gb, gobin__func(gb, n - 1)->end));
	assert_null(gobin__func_by_name(gb, "no.such.function"));

	f = gobin__func_by_name(gb, "main.main");
	assert_non_null(f);
	assert_string_equal(f->name, "main.main");
	assert_int_equal(gobin__func_line(gb, f, f->entry, &file, &line), 0);
	assert_non_null(strstr(file, "main.go"));
	assert_true(line > 0);
	assert_int_equal(gobin__pc_frames(gb, f->entry, fr, 16), 1);
	assert_string_equal(fr[0].func, "main.main");
	assert_false(fr[0].inlined);

	f = gobin__func_by_name(gb, "runtime.casgstatus");
	assert_non_null(f);
	assert_int_equal(gobin__func_line(gb, f, f->entry, &file, &line), 0);
	/* casgstatus is in runtime/proc.go in every release */
	if (!strstr(file, "runtime/proc.go"))
		fail_msg("%s: runtime.casgstatus in %s", name, file);
	/* (gp *g, oldval, newval uint32): 16 bytes of ABI0 arguments */
	assert_int_equal(f->args, 16);
	/* Internal linking, not PIE: runtime.text opens .text. */
	if (text)
		assert_int_equal(gobin__text_start(gb), text->addr);
}

static void test_corpus_all_formats(void **state)
{
	char path[8192];
	int done = 0;

	(void)state;
	for (size_t i = 0; i < N_CORPUS; i++) {
		struct gobin *gb;
		const struct gobin_section *s;
		enum gobin_pcln_format want;

		if (!tu_corpus(corpus_names[i], path, sizeof(path)))
			continue;
		gb = open_ok(path);
		want = format_for_minor(name_minor(corpus_names[i]));
		if (gobin__pcln_format(gb) != want)
			fail_msg("%s: format %s, want %s", corpus_names[i],
				 gobin__pcln_format_name(gobin__pcln_format(gb)),
				 gobin__pcln_format_name(want));
		s = gobin__section(gb, ".gopclntab");
		assert_non_null(s);
		assert_int_equal(gobin__pcln_addr(gb), s->addr);
		check_table(gb, corpus_names[i]);
		printf("# %s: %s table, %zu functions\n", corpus_names[i],
		       gobin__pcln_format_name(gobin__pcln_format(gb)),
		       gobin__func_cnt(gb));
		gobin__free(gb);
		done++;
	}
	if (!done)
		skip();
}

/* Inlined frames in every release: each frame has a name and a line, the
 * physical function is last, and somewhere the tree nests. */
static void test_corpus_inline_frames(void **state)
{
	char path[8192];
	int done = 0;

	(void)state;
	for (size_t i = 0; i < N_CORPUS; i++) {
		struct gobin *gb;
		size_t n, inlined = 0, deep = 0;

		if (!tu_corpus(corpus_names[i], path, sizeof(path)))
			continue;
		gb = open_ok(path);
		n = gobin__func_cnt(gb);
		for (size_t j = 0; j < n; j += 5) {
			const struct gobin_func *f = gobin__func(gb, j);

			for (uint64_t pc = f->entry; pc < f->end; pc += 11) {
				struct gobin_frame fr[32];
				int k = gobin__pc_frames(gb, pc, fr, 32);

				assert_true(k >= 1);
				assert_string_equal(fr[k - 1].func, f->name);
				assert_false(fr[k - 1].inlined);
				for (int m = 0; m < k - 1; m++) {
					assert_true(fr[m].inlined);
					assert_true(fr[m].func[0] != 0);
					assert_true(fr[m].line > 0);
					assert_non_null(fr[m].file);
				}
				inlined += k > 1;
				deep += k > 2;
			}
		}
		if (inlined < 500 || deep < 10)
			fail_msg("%s: %zu pcs in inlined code, %zu nested: "
				 "inline tree not read", corpus_names[i],
				 inlined, deep);
		gobin__free(gb);
		done++;
	}
	if (!done)
		skip();
}

/* file:line of sampled pcs in every function equals debug/gosym's, for
 * each layout go1.19's debug/gosym reads (corpus go1.13 .. go1.19, most
 * of them stripped, and the fixture). */
static int check_against_gosym(const char *helper, const char *path,
			       const char *name)
{
	struct gobin *gb = open_ok(path);
	char tmp[] = "/tmp/gosnoop-pcs-XXXXXX";
	size_t n = gobin__func_cnt(gb), checked = 0;
	char *txt, *line, *save = NULL;
	int fd = mkstemp(tmp);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i += 3) {
		const struct gobin_func *fn = gobin__func(gb, i);

		fprintf(f, "%#llx\n%#llx\n", (unsigned long long)fn->entry,
			(unsigned long long)(fn->entry +
					     (fn->end - fn->entry) / 3));
	}
	fclose(f);
	txt = tu_run("'%s' '%s' < %s", helper, path, tmp);
	unlink(tmp);
	assert_non_null(txt);
	if (strncmp(txt, "funcs ", 6))
		fail_msg("%s: gosym: %.200s", name, txt);
	/* gosym counts the functions the same way */
	assert_int_equal(strtoul(txt + 6, NULL, 10), n);
	strtok_r(txt, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save))) {
		unsigned long long pc;
		char func[2048], file[2048];
		const struct gobin_func *fn;
		const char *ours;
		int ln, l2;

		/* "pc\tline\tfile\tfunc"; names may hold spaces */
		if (sscanf(line, "%llx\t%d\t%2047[^\t]\t%2047[^\n]", &pc, &ln,
			   file, func) != 4) {
			if (sscanf(line, "%llx\t%d\t\t%2047[^\n]", &pc, &ln,
				   func) != 3)
				continue;
			file[0] = 0;
		}
		fn = gobin__func_at(gb, pc);
		assert_non_null(fn);
		assert_string_equal(fn->name, func);
		if (ln <= 0)
			continue;	/* gosym has no line (padding) */
		if (gobin__func_line(gb, fn, pc, &ours, &l2))
			fail_msg("%s: %#llx: no line, gosym %s:%d", name, pc,
				 file, ln);
		if (l2 != ln || strcmp(ours, file))
			fail_msg("%s: %#llx %s: %s:%d, gosym %s:%d", name, pc,
				 func, ours, l2, file, ln);
		checked++;
	}
	free(txt);
	gobin__free(gb);
	printf("# %s: %zu pcs agree with debug/gosym\n", name, checked);
	assert_true(checked > n / 3);
	return 0;
}

static void test_lines_vs_gosym(void **state)
{
	const char *helper = gosym_helper();
	char path[8192];
	int done = 0;

	(void)state;
	if (!helper)
		skip();
	check_against_gosym(helper, own_fixture(), "fixture");
	for (size_t i = 0; i < N_CORPUS; i++) {
		if (name_minor(corpus_names[i]) >= 20)
			continue;	/* unknown to go1.19's debug/gosym */
		if (!tu_corpus(corpus_names[i], path, sizeof(path)))
			continue;
		check_against_gosym(helper, path, corpus_names[i]);
		done++;
	}
	if (!done)
		printf("SKIP: no corpus binary for debug/gosym comparison\n");
}

/* For the corpus binaries with DWARF: file:line and the inlined chain at
 * sampled pcs equal addr2line -i's. */
static void test_corpus_lines_vs_dwarf(void **state)
{
	static const char *names[] = { "esbuild-0.0.9-go1.13.8",
				       "esbuild-0.6.1-go1.14.2" };
	char path[8192];
	int done = 0;

	(void)state;
	if (!have_tool("addr2line"))
		skip();
	for (size_t i = 0; i < 2; i++) {
		struct gobin *gb;
		size_t n, checked = 0, chains = 0, dwarf_autogen = 0;
		char *cmd, *txt, *line, *save = NULL;
		size_t cmdlen = 1 << 20, off;
		uint64_t *pcs;
		size_t npc = 0;

		if (!tu_corpus(names[i], path, sizeof(path)))
			continue;
		gb = open_ok(path);
		n = gobin__func_cnt(gb);
		pcs = calloc(n, sizeof(*pcs));
		cmd = malloc(cmdlen);
		assert_non_null(pcs);
		assert_non_null(cmd);
		off = (size_t)snprintf(cmd, cmdlen, "addr2line -i -a -e '%s'",
				       path);
		/* One pc in the middle of every 7th function. */
		for (size_t j = 0; j < n; j += 7) {
			const struct gobin_func *f = gobin__func(gb, j);
			uint64_t pc = f->entry + (f->end - f->entry) / 3;
			const char *file;
			int ln;

			if (gobin__func_line(gb, f, pc, &file, &ln))
				continue;
			pcs[npc++] = pc;
			off += (size_t)snprintf(cmd + off, cmdlen - off,
						" %#llx",
						(unsigned long long)pc);
			assert_true(off < cmdlen - 32);
		}
		txt = tu_run("%s 2>/dev/null", cmd);
		assert_non_null(txt);
		/* "0x...\nfile:line\n[file:line\n...]" per address */
		line = strtok_r(txt, "\n", &save);
		while (line) {
			unsigned long long pc = strtoull(line, NULL, 16);
			char files[16][256];
			int lines[16], m = 0, k;
			struct gobin_frame fr[16];

			while ((line = strtok_r(NULL, "\n", &save)) &&
			       strncmp(line, "0x", 2)) {
				char *colon = strrchr(line, ':');

				if (!colon || m >= 16)
					continue;
				*colon = 0;
				/* DWARF says "./<autogenerated>" where
				 * pclntab says "<autogenerated>" */
				if (!strncmp(line, "./", 2))
					line += 2;
				snprintf(files[m], 256, "%s", line);
				lines[m++] = atoi(colon + 1);
			}
			k = gobin__pc_frames(gb, pc, fr, 16);
			if (m == 0 || !strcmp(files[0], "??"))
				continue;	/* no DWARF line here */
			/* go1.14's DWARF puts some runtime functions
			 * (memequal32: all but the entry) at
			 * <autogenerated>:1, where go tool objdump (pclntab)
			 * says alg.go:246: not a ground truth there. */
			if (!strcmp(files[0], "<autogenerated>") &&
			    strcmp(fr[0].file, "<autogenerated>")) {
				dwarf_autogen++;
				continue;
			}
			/* Nor has it inlined subroutines in generated
			 * wrappers: (*stringEncoder).Encode inlines
			 * stringEncoder.Encode (go tool objdump shows
			 * marshal.go:58 inside it), DWARF has one frame. */
			if (!strcmp(fr[k - 1].file, "<autogenerated>") &&
			    k > 1 && m == 1) {
				dwarf_autogen++;
				continue;
			}
			if (k != m)
				fail_msg("%s: %#llx: %d frames, DWARF has %d",
					 names[i], pc, k, m);
			for (int j = 0; j < k; j++) {
				if (strcmp(files[j], fr[j].file) ||
				    lines[j] != fr[j].line)
					fail_msg("%s: %#llx frame %d: %s:%d, "
						 "DWARF %s:%d", names[i], pc,
						 j, fr[j].file, fr[j].line,
						 files[j], lines[j]);
			}
			checked++;
			chains += k > 1;
		}
		printf("# %s: %zu pcs agree with DWARF (%zu inlined), %zu "
		       "where DWARF lacks <autogenerated>\n", names[i], checked,
		       chains, dwarf_autogen);
		assert_true(checked > npc / 2);
		free(txt);
		free(cmd);
		free(pcs);
		gobin__free(gb);
		done++;
	}
	if (!done)
		skip();
}

/* Without section headers (no .gopclntab, no .symtab, no .go.module) the
 * segment scan finds the same table, and from go1.26 (textStart 0) the
 * text start comes from moduledata. */
static void check_without_sections(const char *path, const char *name)
{
	struct gobin *a = open_ok(path), *b = NULL;
	char err[256];
	uint8_t *buf;
	size_t len = 0, n;
	int ret;

	buf = read_without_sections(path, &len);
	assert_non_null(buf);
	ret = gobin__open_mem(buf, len, &b, err, sizeof(err));
	if (ret)
		fail_msg("%s without sections: %d %s", name, ret, err);
	assert_null(gobin__section(b, ".gopclntab"));
	assert_int_equal(gobin__pcln_format(b), gobin__pcln_format(a));
	assert_int_equal(gobin__pcln_addr(b), gobin__pcln_addr(a));
	assert_int_equal(gobin__text_start(b), gobin__text_start(a));
	n = gobin__func_cnt(a);
	assert_int_equal(gobin__func_cnt(b), n);
	for (size_t i = 0; i < n; i++) {
		const struct gobin_func *fa = gobin__func(a, i);
		const struct gobin_func *fb = gobin__func(b, i);

		assert_int_equal(fa->entry, fb->entry);
		assert_int_equal(fa->end, fb->end);
		assert_string_equal(fa->name, fb->name);
		if (i % 50 == 0) {
			struct gobin_frame x[8], y[8];
			uint64_t pc = fa->entry + (fa->end - fa->entry) / 2;
			int kx = gobin__pc_frames(a, pc, x, 8);
			int ky = gobin__pc_frames(b, pc, y, 8);

			assert_int_equal(kx, ky);
			for (int j = 0; j < kx; j++) {
				assert_string_equal(x[j].func, y[j].func);
				assert_int_equal(x[j].line, y[j].line);
			}
		}
	}
	gobin__free(b);
	gobin__free(a);
	free(buf);
}

static void test_without_section_headers(void **state)
{
	char path[8192];
	const char *bin = own_fixture();
	int done = 0;

	(void)state;
	for (size_t i = 0; i < N_CORPUS; i++) {
		if (!tu_corpus(corpus_names[i], path, sizeof(path)))
			continue;
		check_without_sections(path, corpus_names[i]);
		done++;
	}
	if (bin) {
		check_without_sections(bin, "fixture");
		done++;
	}
	if (tu_fixture("cgo", path, sizeof(path))) {
		check_without_sections(path, "cgo");
		done++;
	}
	if (tu_fixture("demo-pie", path, sizeof(path))) {
		check_without_sections(path, "demo-pie");
		done++;
	}
	if (!done)
		skip();
}

/* A file offset of the table, for patching copies. */
static size_t pcln_file_offset(const char *path)
{
	struct gobin *gb = open_ok(path);
	const struct gobin_section *s = gobin__section(gb, ".gopclntab");
	size_t off;

	assert_non_null(s);
	off = s->offset;
	gobin__free(gb);
	return off;
}

static int open_patched(const uint8_t *orig, size_t len, size_t at,
			const void *bytes, size_t n)
{
	uint8_t *b = malloc(len);
	struct gobin *gb = NULL;
	char err[256];
	int ret;

	assert_non_null(b);
	memcpy(b, orig, len);
	memcpy(b + at, bytes, n);
	ret = gobin__open_mem(b, len, &gb, err, sizeof(err));
	if (!ret) {
		/* Whatever loaded must be safe to query. */
		for (size_t i = 0; i < gobin__func_cnt(gb); i++) {
			const struct gobin_func *f = gobin__func(gb, i);
			struct gobin_frame fr[8];
			const char *file;
			int line;

			gobin__func_line(gb, f, f->entry, &file, &line);
			gobin__pc_frames(gb, f->entry + (f->end - f->entry) / 2,
					 fr, 8);
		}
		gobin__free(gb);
	} else {
		assert_true(err[0] != 0);	/* says why */
	}
	free(b);
	return ret;
}

static void test_corrupt_and_truncated(void **state)
{
	static const char *names[] = { "esbuild-0.0.9-go1.13.8",
				       "esbuild-0.11.23-go1.16.3",
				       "esbuild-0.15.18-go1.19.3",
				       "esbuild-0.28.2-go1.26.5" };
	char path[8192];
	int done = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len = 0, at;
		uint8_t *img;
		struct gobin *gb = NULL;
		char err[256];
		uint32_t bad_magic = 0xfffffff5;
		uint64_t huge = 0x7fffffffffffULL;
		int fmt_minor = name_minor(names[i]);
		unsigned seed = 12345;
		int ret;

		if (!tu_corpus(names[i], path, sizeof(path)))
			continue;
		img = tu_read_file(path, &len);
		assert_non_null(img);
		at = pcln_file_offset(path);

		/* First half of the file: an error, not a crash. */
		ret = gobin__open_mem(img, len / 2, &gb, err, sizeof(err));
		assert_true(ret < 0);
		assert_null(gb);
		/* Cut inside the table. */
		ret = gobin__open_mem(img, at + 4096, &gb, err, sizeof(err));
		assert_true(ret < 0);

		assert_int_equal(open_patched(img, len, at, &bad_magic, 4),
				 -EPROTONOSUPPORT);
		/* nfunc */
		assert_int_equal(open_patched(img, len, at + 8, &huge, 8),
				 -EINVAL);
		if (fmt_minor >= 16) {
			/* pclnOffset (go1.16: word 6; go1.18+: word 7) */
			size_t w = fmt_minor >= 18 ? 8 + 7 * 8 : 8 + 6 * 8;

			assert_int_equal(open_patched(img, len, at + w, &huge,
						      8), -EINVAL);
			/* funcnameOffset */
			w = fmt_minor >= 18 ? 8 + 3 * 8 : 8 + 2 * 8;
			assert_int_equal(open_patched(img, len, at + w, &huge,
						      8), -EINVAL);
		} else {
			/* first functab funcoff */
			assert_int_equal(open_patched(img, len, at + 24, &huge,
						      8), -EINVAL);
		}
		/* Random bytes in the first 256 KiB of the table: load or
		 * fail, never crash (the ASan build checks the reads). */
		for (int k = 0; k < 16; k++) {
			uint8_t junk[16];
			size_t where;

			for (size_t b = 0; b < sizeof(junk); b++) {
				seed = seed * 1103515245 + 12345;
				junk[b] = (uint8_t)(seed >> 16);
			}
			seed = seed * 1103515245 + 12345;
			where = at + (seed >> 8) % (256 * 1024);
			open_patched(img, len, where, junk, sizeof(junk));
		}
		free(img);
		done++;
	}
	if (!done)
		skip();
}

static void test_not_go(void **state)
{
	char err[256];
	struct gobin *gb = NULL;
	int ret;

	(void)state;
	/* A C program: ELF, no pclntab. */
	if (access("/bin/true", R_OK))
		skip();
	ret = gobin__open("/bin/true", &gb, err, sizeof(err));
	assert_int_equal(ret, -ENOPKG);
	assert_null(gb);
	assert_non_null(strstr(err, "pclntab"));
}

static void test_format_names(void **state)
{
	(void)state;
	assert_string_equal(gobin__pcln_format_name(GOBIN_PCLN_GO12), "go1.2");
	assert_string_equal(gobin__pcln_format_name(GOBIN_PCLN_GO116),
			    "go1.16");
	assert_string_equal(gobin__pcln_format_name(GOBIN_PCLN_GO118),
			    "go1.18");
	assert_string_equal(gobin__pcln_format_name(GOBIN_PCLN_GO120),
			    "go1.20");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_not_go),
		cmocka_unit_test(test_fixture_lines_and_inlining),
		cmocka_unit_test(test_fixture_args),
		cmocka_unit_test(test_symtab_fixture),
		cmocka_unit_test(test_symtab_fixtures_dir),
		cmocka_unit_test(test_symtab_corpus),
		cmocka_unit_test(test_corpus_all_formats),
		cmocka_unit_test(test_corpus_inline_frames),
		cmocka_unit_test(test_corpus_lines_vs_dwarf),
		cmocka_unit_test(test_lines_vs_gosym),
		cmocka_unit_test(test_without_section_headers),
		cmocka_unit_test(test_corrupt_and_truncated),
	};

	return cmocka_run_group_tests_name("pclntab", tests, NULL,
					   group_teardown);
}
