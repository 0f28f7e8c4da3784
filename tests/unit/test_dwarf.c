// SPDX-License-Identifier: MIT
/*
 * DWARF part of gobin: Go types, parameters with their locations at entry,
 * struct member offsets, compressed DWARF, and binaries without DWARF.
 *
 * Ground truth, none of it from gobin itself:
 * - a Go program built here with the installed Go (1.19) prints
 *   unsafe.Sizeof/Offsetof of its own types when run with "layout";
 * - dwdump, a small Go program on Go's own debug/elf + debug/dwarf, reads
 *   the same binaries: parameter names, type names, sizes, result flags,
 *   DW_AT_go_kind, and struct member offsets (runtime.g);
 * - register assignment from go1.19 src/cmd/compile/abi-internal.md: ints
 *   in RAX RBX RCX RDI RSI R8 R9 R10 R11, floats in X0..X14, structs split
 *   field-wise, arrays of length > 1 and whatever does not fit go to the
 *   stack, the first stack-assigned argument just above the return address
 *   (SP+8 at entry); DWARF numbers from the x86-64 psABI (RAX 0, RDX 1,
 *   RCX 2, RBX 3, RSI 4, RDI 5, R8..R15 8..15, XMM0..15 17..32);
 * - go1.13 (ABI0, arguments on the stack): the runtime.casgstatus frame
 *   and g offsets of /work/shared/design.md (gp at SP+8, oldval SP+16,
 *   newval SP+20; goid 152), measured there independently.
 * The Go programs are built once into /tmp/gosnoop-test-dwarf-UID-HASH and
 * reused by later runs while their sources are unchanged.
 */
#include "testutil.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "gobin/gobin.h"

/* DWARF register numbers, x86-64 psABI */
enum { RAX = 0, RDX = 1, RCX = 2, RBX = 3, RSI = 4, RDI = 5, R8 = 8, R9 = 9,
       R10 = 10, R11 = 11, XMM0 = 17 };

/* The program whose DWARF is examined. */
static const char prog_main_go[] =
	"package main\n"
	"\n"
	"import (\n"
	"\t\"errors\"\n"
	"\t\"fmt\"\n"
	"\t\"os\"\n"
	"\t\"unsafe\"\n"
	")\n"
	"\n"
	"type Point struct {\n"
	"\tX, Y int32\n"
	"\tName string\n"
	"}\n"
	"\n"
	"type Node struct {\n"
	"\tVal  int\n"
	"\tNext *Node\n"
	"}\n"
	"\n"
	"type Big struct {\n"
	"\tA [5]int64\n"
	"\tS []byte\n"
	"\tM map[string]int\n"
	"\tP *Point\n"
	"\tPoint\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func Ints(a int8, b int16, c int32, d int64, e uint8, f uint16, g uint32, h uint64, i int, j uint, k uintptr) int64 {\n"
	"\treturn int64(a) + int64(b) + int64(c) + d + int64(e) + int64(f) + int64(g) + int64(h) + int64(i) + int64(j) + int64(k)\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func Str(s string, b []byte) (n int, err error) {\n"
	"\tif len(s) == 0 {\n"
	"\t\treturn 0, errors.New(\"empty\")\n"
	"\t}\n"
	"\treturn len(s) + len(b), nil\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func ByVal(p Point) Point {\n"
	"\tp.X++\n"
	"\treturn p\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func Ptr(p *Point, n *Node) *Node {\n"
	"\tif p != nil {\n"
	"\t\tn.Val += int(p.X)\n"
	"\t}\n"
	"\treturn n.Next\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func Iface(x interface{}, e error) (string, bool) {\n"
	"\tif e != nil {\n"
	"\t\treturn e.Error(), x != nil\n"
	"\t}\n"
	"\treturn \"\", false\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func Maps(m map[string]int, c chan int) (int, int) {\n"
	"\treturn len(m), cap(c)\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func Floats(f float32, g float64, c complex128) float64 {\n"
	"\treturn float64(f) + g + real(c)\n"
	"}\n"
	"\n"
	"//go:noinline\n"
	"func Arr(a [3]uint16, big Big) uintptr {\n"
	"\treturn uintptr(a[0]) + uintptr(len(big.S)) + uintptr(big.A[1])\n"
	"}\n"
	"\n"
	"func main() {\n"
	"\tif len(os.Args) > 1 && os.Args[1] == \"layout\" {\n"
	"\t\tvar b Big\n"
	"\t\tvar p Point\n"
	"\t\tvar n Node\n"
	"\t\tfmt.Printf(\"Point.size %d\\n\", unsafe.Sizeof(p))\n"
	"\t\tfmt.Printf(\"Point.X %d\\n\", unsafe.Offsetof(p.X))\n"
	"\t\tfmt.Printf(\"Point.Y %d\\n\", unsafe.Offsetof(p.Y))\n"
	"\t\tfmt.Printf(\"Point.Name %d\\n\", unsafe.Offsetof(p.Name))\n"
	"\t\tfmt.Printf(\"Node.size %d\\n\", unsafe.Sizeof(n))\n"
	"\t\tfmt.Printf(\"Node.Next %d\\n\", unsafe.Offsetof(n.Next))\n"
	"\t\tfmt.Printf(\"Big.size %d\\n\", unsafe.Sizeof(b))\n"
	"\t\tfmt.Printf(\"Big.S %d\\n\", unsafe.Offsetof(b.S))\n"
	"\t\tfmt.Printf(\"Big.M %d\\n\", unsafe.Offsetof(b.M))\n"
	"\t\tfmt.Printf(\"Big.P %d\\n\", unsafe.Offsetof(b.P))\n"
	"\t\tfmt.Printf(\"Big.Point %d\\n\", unsafe.Offsetof(b.Point))\n"
	"\t\tfmt.Printf(\"Big.Point.Name %d\\n\", unsafe.Offsetof(b.Point)+unsafe.Offsetof(b.Point.Name))\n"
	"\t\treturn\n"
	"\t}\n"
	"\tn := &Node{Val: 1}\n"
	"\tp := Point{1, 2, \"x\"}\n"
	"\tvar e error = errors.New(\"x\")\n"
	"\tm := map[string]int{\"a\": 1}\n"
	"\tc := make(chan int, 3)\n"
	"\tfmt.Println(Ints(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))\n"
	"\tfmt.Println(Str(\"abc\", []byte(\"de\")))\n"
	"\tfmt.Println(ByVal(p), Ptr(&p, n))\n"
	"\tfmt.Println(Maps(m, c))\n"
	"\tfmt.Println(Iface(p, e))\n"
	"\tfmt.Println(Floats(1, 2, 3), Arr([3]uint16{1, 2, 3}, Big{}))\n"
	"}\n";

/* dwdump: the independent reader (Go's debug/dwarf). */
static const char dwdump_main_go[] =
	"// dwdump BINARY [TYPE:MEMBER.PATH | FUNC]... - what Go's own debug/dwarf\n"
	"// reads from BINARY's DWARF, as an independent check of gosnoop's libdw code.\n"
	"// One tab-separated line per fact:\n"
	"//\n"
	"//\tmember TYPE PATH OFFSET\n"
	"//\tparam FUNC INDEX NAME TYPENAME SIZE ISRESULT GOKIND\n"
	"package main\n"
	"\n"
	"import (\n"
	"\t\"debug/dwarf\"\n"
	"\t\"debug/elf\"\n"
	"\t\"fmt\"\n"
	"\t\"os\"\n"
	"\t\"strings\"\n"
	")\n"
	"\n"
	"const attrGoKind = dwarf.Attr(0x2900)\n"
	"\n"
	"func die(err error) {\n"
	"\tfmt.Fprintln(os.Stderr, \"dwdump:\", err)\n"
	"\tos.Exit(1)\n"
	"}\n"
	"\n"
	"// entryAt returns the DIE at off.\n"
	"func entryAt(d *dwarf.Data, off dwarf.Offset) *dwarf.Entry {\n"
	"\tr := d.Reader()\n"
	"\tr.Seek(off)\n"
	"\te, err := r.Next()\n"
	"\tif err != nil {\n"
	"\t\tdie(err)\n"
	"\t}\n"
	"\treturn e\n"
	"}\n"
	"\n"
	"// goKind: DW_AT_go_kind of the type at off, through plain typedefs.\n"
	"func goKind(d *dwarf.Data, off dwarf.Offset) int64 {\n"
	"\tfor i := 0; i < 10; i++ {\n"
	"\t\te := entryAt(d, off)\n"
	"\t\tif k, ok := e.Val(attrGoKind).(int64); ok && k != 0 {\n"
	"\t\t\treturn k\n"
	"\t\t}\n"
	"\t\tnext, ok := e.Val(dwarf.AttrType).(dwarf.Offset)\n"
	"\t\tif e.Tag != dwarf.TagTypedef || !ok {\n"
	"\t\t\treturn 0\n"
	"\t\t}\n"
	"\t\toff = next\n"
	"\t}\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"func member(d *dwarf.Data, types map[string]dwarf.Offset, tname, path string) {\n"
	"\toff, ok := types[tname]\n"
	"\tif !ok {\n"
	"\t\tfmt.Printf(\"member\\t%s\\t%s\\tmissing\\n\", tname, path)\n"
	"\t\treturn\n"
	"\t}\n"
	"\tt, err := d.Type(off)\n"
	"\tif err != nil {\n"
	"\t\tdie(err)\n"
	"\t}\n"
	"\tvar sum int64\n"
	"\tfor _, part := range strings.Split(path, \".\") {\n"
	"\t\tfor {\n"
	"\t\t\ttd, ok := t.(*dwarf.TypedefType)\n"
	"\t\t\tif !ok {\n"
	"\t\t\t\tbreak\n"
	"\t\t\t}\n"
	"\t\t\tt = td.Type\n"
	"\t\t}\n"
	"\t\tst, ok := t.(*dwarf.StructType)\n"
	"\t\tif !ok {\n"
	"\t\t\tfmt.Printf(\"member\\t%s\\t%s\\tmissing\\n\", tname, path)\n"
	"\t\t\treturn\n"
	"\t\t}\n"
	"\t\tvar f *dwarf.StructField\n"
	"\t\tfor _, x := range st.Field {\n"
	"\t\t\tif x.Name == part {\n"
	"\t\t\t\tf = x\n"
	"\t\t\t}\n"
	"\t\t}\n"
	"\t\tif f == nil {\n"
	"\t\t\tfmt.Printf(\"member\\t%s\\t%s\\tmissing\\n\", tname, path)\n"
	"\t\t\treturn\n"
	"\t\t}\n"
	"\t\tsum += f.ByteOffset\n"
	"\t\tt = f.Type\n"
	"\t}\n"
	"\tfmt.Printf(\"member\\t%s\\t%s\\t%d\\n\", tname, path, sum)\n"
	"}\n"
	"\n"
	"func main() {\n"
	"\tf, err := elf.Open(os.Args[1])\n"
	"\tif err != nil {\n"
	"\t\tdie(err)\n"
	"\t}\n"
	"\td, err := f.DWARF()\n"
	"\tif err != nil {\n"
	"\t\tdie(err)\n"
	"\t}\n"
	"\tfuncs := map[string]bool{}\n"
	"\tvar members [][2]string\n"
	"\tfor _, a := range os.Args[2:] {\n"
	"\t\tif i := strings.IndexByte(a, ':'); i >= 0 {\n"
	"\t\t\tmembers = append(members, [2]string{a[:i], a[i+1:]})\n"
	"\t\t} else {\n"
	"\t\t\tfuncs[a] = true\n"
	"\t\t}\n"
	"\t}\n"
	"\ttypes := map[string]dwarf.Offset{}\n"
	"\tr := d.Reader()\n"
	"\tfor {\n"
	"\t\te, err := r.Next()\n"
	"\t\tif err != nil {\n"
	"\t\t\tdie(err)\n"
	"\t\t}\n"
	"\t\tif e == nil {\n"
	"\t\t\tbreak\n"
	"\t\t}\n"
	"\t\tname, _ := e.Val(dwarf.AttrName).(string)\n"
	"\t\tswitch e.Tag {\n"
	"\t\tcase dwarf.TagCompileUnit:\n"
	"\t\t\tcontinue // walk into the unit\n"
	"\t\tcase dwarf.TagStructType:\n"
	"\t\t\tif _, seen := types[name]; !seen {\n"
	"\t\t\t\ttypes[name] = e.Offset\n"
	"\t\t\t}\n"
	"\t\tcase dwarf.TagSubprogram:\n"
	"\t\t\tif funcs[name] && e.Val(dwarf.AttrLowpc) != nil {\n"
	"\t\t\t\tparams(d, r, name)\n"
	"\t\t\t\tcontinue\n"
	"\t\t\t}\n"
	"\t\t}\n"
	"\t\tif e.Children {\n"
	"\t\t\tr.SkipChildren()\n"
	"\t\t}\n"
	"\t}\n"
	"\tfor _, m := range members {\n"
	"\t\tmember(d, types, m[0], m[1])\n"
	"\t}\n"
	"}\n"
	"\n"
	"// params prints the formal parameters among the children of the\n"
	"// subprogram r just returned, in order.\n"
	"func params(d *dwarf.Data, r *dwarf.Reader, fn string) {\n"
	"\tidx := 0\n"
	"\tfor {\n"
	"\t\te, err := r.Next()\n"
	"\t\tif err != nil {\n"
	"\t\t\tdie(err)\n"
	"\t\t}\n"
	"\t\tif e == nil || e.Tag == 0 {\n"
	"\t\t\treturn\n"
	"\t\t}\n"
	"\t\tif e.Tag == dwarf.TagFormalParameter {\n"
	"\t\t\tname, _ := e.Val(dwarf.AttrName).(string)\n"
	"\t\t\tres, _ := e.Val(dwarf.AttrVarParam).(bool)\n"
	"\t\t\ttoff, _ := e.Val(dwarf.AttrType).(dwarf.Offset)\n"
	"\t\t\tt, err := d.Type(toff)\n"
	"\t\t\tif err != nil {\n"
	"\t\t\t\tdie(err)\n"
	"\t\t\t}\n"
	"\t\t\ttname, _ := entryAt(d, toff).Val(dwarf.AttrName).(string)\n"
	"\t\t\tfmt.Printf(\"param\\t%s\\t%d\\t%s\\t%s\\t%d\\t%v\\t%d\\n\", fn, idx,\n"
	"\t\t\t\tname, tname,\n"
	"\t\t\t\tt.Size(), res, goKind(d, toff))\n"
	"\t\t\tidx++\n"
	"\t\t}\n"
	"\t\tif e.Children {\n"
	"\t\t\tr.SkipChildren()\n"
	"\t\t}\n"
	"\t}\n"
	"}\n";

static const char go_mod_prog[] = "module dwtest\n\ngo 1.19\n";
static const char go_mod_dump[] = "module dwdump\n\ngo 1.19\n";

/* Functions dwdump reports on for the built program. */
static const char *const prog_funcs[] = {
	"main.Ints", "main.Str", "main.ByVal", "main.Ptr", "main.Iface",
	"main.Maps", "main.Floats", "main.Arr",
};

static struct {
	bool ready;		/* everything below is built */
	bool no_go;		/* no Go toolchain: skip */
	char fail[512];		/* Go there but a build failed: fail */
	char dir[256];
	char opt[320], noopt[320], plain[320], zdebug[320], stripped[320];
	char dwdump[320];
	bool have_zdebug;
	char *layout;		/* output of "opt layout" */
	char *dump_opt;		/* dwdump on opt */
} E;

/* ---------------------------------------------------------------- setup */

static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* Run a shell command with its output in E.dir/LOG; true on exit 0. */
static bool sh(const char *log, const char *fmt, ...)
{
	char cmd[4096], full[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && (%s) > '%s/%s' 2>&1", E.dir,
		 cmd, E.dir, log);
	st = system(full);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static char *slurp(const char *name)
{
	char path[512];
	size_t len = 0;
	uint8_t *buf;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", E.dir, name);
	buf = tu_read_file(path, &len);
	if (!buf)
		return NULL;
	s = malloc(len + 1);
	if (s) {
		memcpy(s, buf, len);
		s[len] = 0;
	}
	free(buf);
	return s;
}

#define GO_ENV "CGO_ENABLED=0 GOFLAGS=-mod=mod GO111MODULE=on GOTOOLCHAIN=local"

static void build_all(void)
{
	uint32_t h = 2166136261u;
	char marker[320];

	if (system("command -v go >/dev/null 2>&1") != 0) {
		E.no_go = true;
		return;
	}
	h = fnv1a(h, prog_main_go);
	h = fnv1a(h, dwdump_main_go);
	h = fnv1a(h, "build v1");
	snprintf(E.dir, sizeof(E.dir), "/tmp/gosnoop-test-dwarf-%u-%08x",
		 (unsigned)getuid(), h);
	snprintf(E.opt, sizeof(E.opt), "%s/opt", E.dir);
	snprintf(E.noopt, sizeof(E.noopt), "%s/noopt", E.dir);
	snprintf(E.plain, sizeof(E.plain), "%s/plain", E.dir);
	snprintf(E.zdebug, sizeof(E.zdebug), "%s/zdebug", E.dir);
	snprintf(E.stripped, sizeof(E.stripped), "%s/stripped", E.dir);
	snprintf(E.dwdump, sizeof(E.dwdump), "%s/dwdump", E.dir);
	snprintf(marker, sizeof(marker), "%s/built", E.dir);

	if (access(marker, R_OK)) {
		char sub[300], funcs[1024] = "";

		mkdir(E.dir, 0755);
		snprintf(sub, sizeof(sub), "%s/prog", E.dir);
		mkdir(sub, 0755);
		if (!write_file(sub, "go.mod", go_mod_prog) ||
		    !write_file(sub, "main.go", prog_main_go))
			goto fail_write;
		snprintf(sub, sizeof(sub), "%s/dump", E.dir);
		mkdir(sub, 0755);
		if (!write_file(sub, "go.mod", go_mod_dump) ||
		    !write_file(sub, "main.go", dwdump_main_go))
			goto fail_write;
		/* -compressdwarf=false: DWARF in place (libdw reads gb->elf);
		 * the default go1.19 build has SHF_COMPRESSED sections;
		 * objcopy makes GNU .zdebug_* ones from the plain one. */
		if (!sh("build.log",
			"cd prog && " GO_ENV " go build -o ../opt.tmp . && "
			GO_ENV " go build -gcflags='all=-N -l' -o ../noopt.tmp . && "
			GO_ENV " go build -ldflags=-compressdwarf=false -o ../plain.tmp . && "
			GO_ENV " go build -ldflags='-s -w' -o ../stripped.tmp . && "
			"cd ../dump && " GO_ENV " go build -o ../dwdump.tmp . && cd .. && "
			"mv opt.tmp opt && mv noopt.tmp noopt && mv plain.tmp plain && "
			"mv stripped.tmp stripped && mv dwdump.tmp dwdump")) {
			snprintf(E.fail, sizeof(E.fail),
				 "go build failed, see %s/build.log", E.dir);
			return;
		}
		sh("objcopy.log",
		   "objcopy --compress-debug-sections=zlib-gnu plain zdebug.tmp && mv zdebug.tmp zdebug");
		for (size_t i = 0; i < sizeof(prog_funcs) / sizeof(*prog_funcs); i++) {
			strcat(funcs, " ");
			strcat(funcs, prog_funcs[i]);
		}
		if (!sh("layout.txt", "./opt layout") ||
		    !sh("dump-opt.txt",
			"./dwdump opt runtime.g:goid runtime.g:atomicstatus "
			"runtime.g:sched.sp main.Big:Point.Name main.Node:Next%s",
			funcs)) {
			snprintf(E.fail, sizeof(E.fail),
				 "running the built programs failed, see %s",
				 E.dir);
			return;
		}
		if (!sh("marker.log", "touch built")) {
			snprintf(E.fail, sizeof(E.fail), "cannot write %s", marker);
			return;
		}
	}
	E.have_zdebug = access(E.zdebug, R_OK) == 0;
	E.layout = slurp("layout.txt");
	E.dump_opt = slurp("dump-opt.txt");
	if (!E.layout || !E.dump_opt) {
		snprintf(E.fail, sizeof(E.fail), "outputs missing in %s", E.dir);
		return;
	}
	E.ready = true;
	return;
fail_write:
	snprintf(E.fail, sizeof(E.fail), "cannot write sources into %s", E.dir);
}

static int group_setup(void **state)
{
	(void)state;
	build_all();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(E.layout);
	free(E.dump_opt);
	return 0;
}

/* Skip visibly without Go; fail when Go is there but the build broke. */
#define NEED_PROGRAMS()                                                     \
	do {                                                                \
		if (E.no_go) {                                              \
			printf("SKIP: no Go toolchain ('go' not in PATH)\n"); \
			skip();                                             \
		}                                                           \
		if (!E.ready)                                               \
			fail_msg("%s", E.fail);                             \
	} while (0)

/* ---------------------------------------------------------- fact lookup */

/* "KEY N" line of the layout output. */
static uint64_t layout(const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = E.layout; p && *p;) {
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	fail_msg("layout output has no %s", key);
	return 0;
}

struct dump_param {
	char name[64], tname[128];
	uint64_t size;
	bool result;
	int kind;
};

/* The start of the line of text that begins with prefix, or NULL. */
static const char *find_line(const char *text, const char *prefix)
{
	size_t plen = strlen(prefix);

	for (const char *p = text; p && *p;) {
		if (!strncmp(p, prefix, plen))
			return p + plen;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* The next tab-separated field of *p into buf. */
static void next_field(const char **p, char *buf, size_t len)
{
	size_t n = strcspn(*p, "\t\n");

	snprintf(buf, len, "%.*s", (int)n, *p);
	*p += n;
	if (**p == '\t')
		(*p)++;
}

/* dwdump's "param FN IDX NAME TYPE SIZE RESULT KIND" line, or false. */
static bool dump_param(const char *text, const char *fn, size_t idx,
		       struct dump_param *dp)
{
	char prefix[256], num[32], res[8];
	const char *p;

	snprintf(prefix, sizeof(prefix), "param\t%s\t%zu\t", fn, idx);
	p = find_line(text, prefix);
	if (!p)
		return false;
	next_field(&p, dp->name, sizeof(dp->name));
	next_field(&p, dp->tname, sizeof(dp->tname));
	next_field(&p, num, sizeof(num));
	dp->size = strtoull(num, NULL, 10);
	next_field(&p, res, sizeof(res));
	dp->result = !strcmp(res, "true");
	next_field(&p, num, sizeof(num));
	dp->kind = atoi(num);
	return true;
}

/* dwdump's "member TYPE PATH N" line. */
static uint64_t dump_member(const char *text, const char *type,
			    const char *path)
{
	char prefix[256];
	const char *p;
	char *end;
	uint64_t v;

	snprintf(prefix, sizeof(prefix), "member\t%s\t%s\t", type, path);
	p = find_line(text, prefix);
	if (!p)
		fail_msg("dwdump printed nothing for %s.%s", type, path);
	v = strtoull(p, &end, 10);
	if (end == p)
		fail_msg("dwdump: %s.%s missing", type, path);
	return v;
}

/* ------------------------------------------------------------- helpers */

static struct gobin *open_or_fail(const char *path)
{
	struct gobin *gb = NULL;
	char err[256];
	int ret = gobin__open(path, &gb, err, sizeof(err));

	if (ret)
		fail_msg("gobin__open(%s) = %d: %s", path, ret, err);
	return gb;
}

static const struct gobin_param *params_of(struct gobin *gb, const char *fn,
					   size_t want)
{
	const struct gobin_param *p = NULL;
	size_t n = 0;
	int ret = gobin__func_params(gb, fn, &p, &n);

	if (ret)
		fail_msg("gobin__func_params(%s) = %d", fn, ret);
	if (n != want)
		fail_msg("%s: %zu params+results, want %zu", fn, n, want);
	return p;
}

static void check_param(const struct gobin_param *p, const char *name,
			const char *tname, enum gobin_kind kind, uint64_t size,
			bool result)
{
	assert_string_equal(p->name, name);
	assert_non_null(p->type);
	assert_string_equal(p->type->name, tname);
	if (p->type->kind != kind)
		fail_msg("%s: kind %s, want %s", name,
			 gobin__kind_name(p->type->kind), gobin__kind_name(kind));
	assert_int_equal(p->type->size, size);
	assert_int_equal(p->is_result, result);
}

static void check_reg(const struct gobin_param *p, int reg)
{
	if (p->loc_kind != GOBIN_LOC_REG || p->loc_reg != reg)
		fail_msg("%s: location kind %d reg %d, want register %d",
			 p->name, p->loc_kind, p->loc_reg, reg);
}

static void check_stack(const struct gobin_param *p, int64_t off)
{
	if (p->loc_kind != GOBIN_LOC_STACK || p->loc_off != off)
		fail_msg("%s: location kind %d off %ld, want stack SP+%ld",
			 p->name, p->loc_kind, (long)p->loc_off, (long)off);
}

/* PIECES of registers: n pairs (reg, size). */
static void check_reg_pieces(const struct gobin_param *p, size_t n, ...)
{
	va_list ap;

	if (p->loc_kind != GOBIN_LOC_PIECES || p->piece_cnt != n)
		fail_msg("%s: location kind %d with %zu pieces, want %zu pieces",
			 p->name, p->loc_kind, p->piece_cnt, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		int reg = va_arg(ap, int);
		int size = va_arg(ap, int);
		const struct gobin_loc_piece *pc = &p->pieces[i];

		if (pc->kind != GOBIN_LOC_REG || pc->reg != reg ||
		    pc->size != (uint64_t)size)
			fail_msg("%s piece %zu: kind %d reg %d size %lu, want reg %d size %d",
				 p->name, i, pc->kind, pc->reg,
				 (unsigned long)pc->size, reg, size);
	}
	va_end(ap);
}

static const struct gobin_field *field(const struct gobin_type *t,
				       const char *name)
{
	for (size_t i = 0; t && i < t->field_cnt; i++)
		if (!strcmp(t->fields[i].name, name))
			return &t->fields[i];
	fail_msg("type %s has no field %s", t ? t->name : "(null)", name);
	return NULL;
}

/* -------------------------------------------------------------- tests */

static void test_kind_names(void **state)
{
	(void)state;
	/* reflect.Kind.String() spellings */
	assert_string_equal(gobin__kind_name(GOBIN_K_INVALID), "invalid");
	assert_string_equal(gobin__kind_name(GOBIN_K_INT8), "int8");
	assert_string_equal(gobin__kind_name(GOBIN_K_UINTPTR), "uintptr");
	assert_string_equal(gobin__kind_name(GOBIN_K_COMPLEX128), "complex128");
	assert_string_equal(gobin__kind_name(GOBIN_K_INTERFACE), "interface");
	assert_string_equal(gobin__kind_name(GOBIN_K_PTR), "ptr");
	assert_string_equal(gobin__kind_name(GOBIN_K_STRUCT), "struct");
	assert_string_equal(gobin__kind_name(GOBIN_K_UNSAFEPTR),
			    "unsafe.Pointer");
	assert_string_equal(gobin__kind_name((enum gobin_kind)27), "invalid");
	assert_string_equal(gobin__kind_name((enum gobin_kind)-1), "invalid");
	/* the enum is reflect.Kind's numbering, which DW_AT_go_kind uses */
	assert_int_equal(GOBIN_K_STRUCT, 25);
	assert_int_equal(GOBIN_K_UNSAFEPTR, 26);
}

/* Integers of every size: the first nine in the nine integer registers,
 * the rest on the stack in order. */
static void test_int_params_regabi(void **state)
{
	static const struct {
		const char *name, *tname;
		enum gobin_kind kind;
		uint64_t size;
		int reg;
	} want[] = {
		{ "a", "int8", GOBIN_K_INT8, 1, RAX },
		{ "b", "int16", GOBIN_K_INT16, 2, RBX },
		{ "c", "int32", GOBIN_K_INT32, 4, RCX },
		{ "d", "int64", GOBIN_K_INT64, 8, RDI },
		{ "e", "uint8", GOBIN_K_UINT8, 1, RSI },
		{ "f", "uint16", GOBIN_K_UINT16, 2, R8 },
		{ "g", "uint32", GOBIN_K_UINT32, 4, R9 },
		{ "h", "uint64", GOBIN_K_UINT64, 8, R10 },
		{ "i", "int", GOBIN_K_INT, 8, R11 },
		{ "j", "uint", GOBIN_K_UINT, 8, -1 },
		{ "k", "uintptr", GOBIN_K_UINTPTR, 8, -1 },
	};
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.Ints", 12);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		check_param(&p[i], want[i].name, want[i].tname, want[i].kind,
			    want[i].size, false);
		if (want[i].reg >= 0)
			check_reg(&p[i], want[i].reg);
	}
	/* out of registers: j and k are the 1st and 2nd stack arguments */
	check_stack(&p[9], 8);
	check_stack(&p[10], 16);
	check_param(&p[11], "~r0", "int64", GOBIN_K_INT64, 8, true);
	/* cached: the same array again */
	assert_ptr_equal(params_of(gb, "main.Ints", 12), p);
	gobin__free(gb);
}

static void test_string_slice_named_results(void **state)
{
	const struct gobin_type *s, *b;
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.Str", 4);
	check_param(&p[0], "s", "string", GOBIN_K_STRING, 16, false);
	check_param(&p[1], "b", "[]uint8", GOBIN_K_SLICE, 24, false);
	check_param(&p[2], "n", "int", GOBIN_K_INT, 8, true);
	check_param(&p[3], "err", "error", GOBIN_K_INTERFACE, 16, true);
	/* string = ptr,len in RAX,RBX; slice = ptr,len,cap in RCX,RDI,RSI */
	check_reg_pieces(&p[0], 2, RAX, 8, RBX, 8);
	check_reg_pieces(&p[1], 3, RCX, 8, RDI, 8, RSI, 8);
	/* strings and slices keep their runtime fields */
	s = p[0].type;
	assert_int_equal(s->field_cnt, 2);
	assert_int_equal(field(s, "str")->offset, 0);
	assert_int_equal(field(s, "len")->offset, 8);
	assert_int_equal(field(s, "str")->type->kind, GOBIN_K_PTR);
	b = p[1].type;
	assert_non_null(b->elem);
	assert_string_equal(b->elem->name, "uint8");
	assert_int_equal(b->elem->kind, GOBIN_K_UINT8);
	assert_int_equal(field(b, "array")->offset, 0);
	assert_int_equal(field(b, "len")->offset, 8);
	assert_int_equal(field(b, "cap")->offset, 16);
	assert_ptr_equal(field(b, "array")->type->elem, b->elem);
	gobin__free(gb);
}

static void test_struct_by_value(void **state)
{
	const struct gobin_type *t;
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.ByVal", 2);
	check_param(&p[0], "p", "main.Point", GOBIN_K_STRUCT,
		    layout("Point.size"), false);
	check_param(&p[1], "~r0", "main.Point", GOBIN_K_STRUCT,
		    layout("Point.size"), true);
	t = p[0].type;
	assert_int_equal(t->field_cnt, 3);
	assert_int_equal(field(t, "X")->offset, layout("Point.X"));
	assert_int_equal(field(t, "Y")->offset, layout("Point.Y"));
	assert_int_equal(field(t, "Name")->offset, layout("Point.Name"));
	assert_int_equal(field(t, "X")->type->kind, GOBIN_K_INT32);
	assert_int_equal(field(t, "Name")->type->kind, GOBIN_K_STRING);
	/* a small struct is split field-wise: X, Y, Name.ptr, Name.len */
	check_reg_pieces(&p[0], 4, RAX, 4, RBX, 4, RCX, 8, RDI, 8);
	gobin__free(gb);
}

static void test_pointers_and_cycles(void **state)
{
	const struct gobin_type *node, *next;
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.Ptr", 3);
	check_param(&p[0], "p", "*main.Point", GOBIN_K_PTR, 8, false);
	check_param(&p[1], "n", "*main.Node", GOBIN_K_PTR, 8, false);
	check_param(&p[2], "~r0", "*main.Node", GOBIN_K_PTR, 8, true);
	check_reg(&p[0], RAX);
	check_reg(&p[1], RBX);
	assert_string_equal(p[0].type->elem->name, "main.Point");
	/* Node.Next is *Node: the type graph loops back, and terminates */
	node = p[1].type->elem;
	assert_non_null(node);
	assert_string_equal(node->name, "main.Node");
	assert_int_equal(node->kind, GOBIN_K_STRUCT);
	assert_int_equal(node->size, layout("Node.size"));
	next = field(node, "Next")->type;
	assert_int_equal(field(node, "Next")->offset, layout("Node.Next"));
	assert_string_equal(next->name, "*main.Node");
	assert_ptr_equal(next->elem, node);
	assert_ptr_equal(next, p[1].type);	/* one node per DWARF type */
	gobin__free(gb);
}

static void test_interfaces_unnamed_results(void **state)
{
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.Iface", 4);
	check_param(&p[0], "x", "interface {}", GOBIN_K_INTERFACE, 16, false);
	check_param(&p[1], "e", "error", GOBIN_K_INTERFACE, 16, false);
	check_param(&p[2], "~r0", "string", GOBIN_K_STRING, 16, true);
	check_param(&p[3], "~r1", "bool", GOBIN_K_BOOL, 1, true);
	/* interface = type,data: x in RAX,RBX, e in RCX,RDI */
	check_reg_pieces(&p[0], 2, RAX, 8, RBX, 8);
	check_reg_pieces(&p[1], 2, RCX, 8, RDI, 8);
	/* the runtime layouts: eface{_type, data}, iface{tab, data} */
	assert_int_equal(field(p[0].type, "_type")->offset, 0);
	assert_int_equal(field(p[0].type, "data")->offset, 8);
	assert_int_equal(field(p[1].type, "tab")->offset, 0);
	assert_int_equal(field(p[1].type, "data")->offset, 8);
	assert_int_equal(field(p[1].type, "data")->type->kind,
			 GOBIN_K_UNSAFEPTR);
	assert_int_equal(p[0].loc_kind, GOBIN_LOC_PIECES);
	assert_int_equal(p[2].loc_kind, GOBIN_LOC_NONE);	/* results */
	gobin__free(gb);
}

static void test_map_chan(void **state)
{
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.Maps", 4);
	check_param(&p[0], "m", "map[string]int", GOBIN_K_MAP, 8, false);
	check_param(&p[1], "c", "chan int", GOBIN_K_CHAN, 8, false);
	check_param(&p[2], "~r0", "int", GOBIN_K_INT, 8, true);
	check_param(&p[3], "~r1", "int", GOBIN_K_INT, 8, true);
	assert_non_null(p[0].type->key);
	assert_string_equal(p[0].type->key->name, "string");
	assert_int_equal(p[0].type->key->kind, GOBIN_K_STRING);
	assert_string_equal(p[0].type->elem->name, "int");
	assert_null(p[1].type->key);
	assert_string_equal(p[1].type->elem->name, "int");
	check_reg(&p[0], RAX);
	check_reg(&p[1], RBX);
	gobin__free(gb);
}

static void test_floats(void **state)
{
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.Floats", 4);
	check_param(&p[0], "f", "float32", GOBIN_K_FLOAT32, 4, false);
	check_param(&p[1], "g", "float64", GOBIN_K_FLOAT64, 8, false);
	check_param(&p[2], "c", "complex128", GOBIN_K_COMPLEX128, 16, false);
	check_reg(&p[0], XMM0);
	check_reg(&p[1], XMM0 + 1);
	check_reg_pieces(&p[2], 2, XMM0 + 2, 8, XMM0 + 3, 8);
	gobin__free(gb);
}

static void test_arrays_and_stack_struct(void **state)
{
	const struct gobin_type *a, *big;
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	p = params_of(gb, "main.Arr", 3);
	check_param(&p[0], "a", "[3]uint16", GOBIN_K_ARRAY, 6, false);
	check_param(&p[1], "big", "main.Big", GOBIN_K_STRUCT,
		    layout("Big.size"), false);
	a = p[0].type;
	assert_int_equal(a->count, 3);
	assert_string_equal(a->elem->name, "uint16");
	/* arrays of length > 1 go to the stack, and so then does big:
	 * a at SP+8, big at the next 8-aligned slot, SP+16 */
	check_stack(&p[0], 8);
	check_stack(&p[1], 16);
	big = p[1].type;
	assert_int_equal(big->field_cnt, 5);
	assert_int_equal(field(big, "A")->type->kind, GOBIN_K_ARRAY);
	assert_int_equal(field(big, "A")->type->count, 5);
	assert_int_equal(field(big, "S")->offset, layout("Big.S"));
	assert_int_equal(field(big, "M")->offset, layout("Big.M"));
	assert_int_equal(field(big, "P")->offset, layout("Big.P"));
	assert_int_equal(field(big, "Point")->offset, layout("Big.Point"));
	assert_true(field(big, "Point")->embedded);
	assert_false(field(big, "P")->embedded);
	assert_int_equal(field(big, "M")->type->kind, GOBIN_K_MAP);
	gobin__free(gb);
}

/* Every parameter of every test function as Go's debug/dwarf reads it. */
static void test_params_match_debug_dwarf(void **state)
{
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	for (size_t f = 0; f < sizeof(prog_funcs) / sizeof(*prog_funcs); f++) {
		const struct gobin_param *p;
		struct dump_param dp;
		size_t n, i;

		assert_int_equal(gobin__func_params(gb, prog_funcs[f], &p, &n), 0);
		for (i = 0; dump_param(E.dump_opt, prog_funcs[f], i, &dp); i++) {
			if (i >= n)
				fail_msg("%s: dwdump has param %zu (%s), gobin only %zu",
					 prog_funcs[f], i, dp.name, n);
			assert_string_equal(p[i].name, dp.name);
			assert_string_equal(p[i].type->name, dp.tname);
			assert_int_equal(p[i].type->size, dp.size);
			assert_int_equal(p[i].is_result, dp.result);
			assert_int_equal(p[i].type->kind, dp.kind);
		}
		if (i != n || !n)
			fail_msg("%s: gobin has %zu params, dwdump %zu",
				 prog_funcs[f], n, i);
	}
	gobin__free(gb);
}

static void test_member_offsets(void **state)
{
	static const char *const g_members[] = { "goid", "atomicstatus",
						 "sched.sp" };
	struct gobin *gb;
	uint64_t off;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	for (size_t i = 0; i < 3; i++) {
		off = UINT64_MAX;
		assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
							    g_members[i], &off), 0);
		assert_int_equal(off, dump_member(E.dump_opt, "runtime.g",
						  g_members[i]));
	}
	/* nested through an embedded struct, against unsafe.Offsetof */
	assert_int_equal(gobin__dwarf_member_offset(gb, "main.Big",
						    "Point.Name", &off), 0);
	assert_int_equal(off, layout("Big.Point.Name"));
	assert_int_equal(off, dump_member(E.dump_opt, "main.Big", "Point.Name"));
	assert_int_equal(gobin__dwarf_member_offset(gb, "main.Node", "Next",
						    &off), 0);
	assert_int_equal(off, layout("Node.Next"));
	/* what is not there */
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g", "nope",
						    &off), -ENOENT);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
						    "sched.nope", &off), -ENOENT);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
						    "goid.x", &off), -ENOENT);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g", "", &off),
			 -ENOENT);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g", "sched.",
						    &off), -ENOENT);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
						    "sched..sp", &off), -ENOENT);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g", ".goid",
						    &off), -ENOENT);
	assert_int_equal(gobin__dwarf_member_offset(gb, "main.NoSuchType",
						    "x", &off), -ENOENT);
	gobin__free(gb);
}

static void test_unknown_function(void **state)
{
	const struct gobin_param *p;
	struct gobin *gb;
	size_t n;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	assert_int_equal(gobin__func_params(gb, "main.NoSuchFunc", &p, &n),
			 -ENOENT);
	assert_int_equal(gobin__func_params(gb, "", &p, &n), -ENOENT);
	/* an out-of-line copy of an inlinable function: the abstract DIE
	 * gives names and types, the concrete one the locations
	 * (runtime.lock(l *mutex) is such a function in go1.19) */
	assert_int_equal(gobin__func_params(gb, "runtime.lock", &p, &n), 0);
	assert_int_equal(n, 1);
	check_param(&p[0], "l", "*runtime.mutex", GOBIN_K_PTR, 8, false);
	check_reg(&p[0], RAX);
	gobin__free(gb);
}

/* -N -l: parameters are spilled after the prologue; at entry they are
 * still in their registers. */
static void test_unoptimized_entry_locations(void **state)
{
	const struct gobin_param *p;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.noopt);
	p = params_of(gb, "main.Ints", 12);
	check_reg(&p[0], RAX);
	check_reg(&p[1], RBX);
	check_reg(&p[8], R11);
	check_stack(&p[9], 8);
	check_stack(&p[10], 16);
	p = params_of(gb, "main.Str", 4);
	check_reg_pieces(&p[0], 2, RAX, 8, RBX, 8);
	check_reg_pieces(&p[1], 3, RCX, 8, RDI, 8, RSI, 8);
	/* named results live in the frame, below the entry SP */
	assert_int_equal(p[2].loc_kind, GOBIN_LOC_STACK);
	assert_true(p[2].loc_off < 0);
	gobin__free(gb);
}

static void check_dwarf_usable(const char *path, const char *what)
{
	const struct gobin_param *p;
	struct gobin *gb;
	uint64_t off;
	size_t n;

	gb = open_or_fail(path);
	assert_true(gobin__elf(gb)->has_dwarf);
	if (gobin__dwarf_member_offset(gb, "runtime.g", "goid", &off))
		fail_msg("%s: no runtime.g.goid from DWARF", what);
	assert_int_equal(off, dump_member(E.dump_opt, "runtime.g", "goid"));
	assert_int_equal(gobin__func_params(gb, "main.Str", &p, &n), 0);
	assert_int_equal(n, 4);
	check_reg_pieces(&p[0], 2, RAX, 8, RBX, 8);
	gobin__free(gb);
}

/* The same program with DWARF as SHF_COMPRESSED (go1.19's default),
 * uncompressed, and as GNU .zdebug_* sections. */
static void test_compressed_dwarf(void **state)
{
	const struct gobin_section *s;
	struct gobin *gb;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.opt);
	s = gobin__section(gb, ".debug_info");
	assert_non_null(s);
	assert_true(s->flags & SHF_COMPRESSED);
	gobin__free(gb);
	check_dwarf_usable(E.opt, "SHF_COMPRESSED");

	gb = open_or_fail(E.plain);
	s = gobin__section(gb, ".debug_info");
	assert_non_null(s);
	assert_false(s->flags & SHF_COMPRESSED);
	gobin__free(gb);
	check_dwarf_usable(E.plain, "uncompressed");

	if (!E.have_zdebug) {
		printf("SKIP: no objcopy to make .zdebug_* sections (see %s/objcopy.log)\n",
		       E.dir);
		skip();
	}
	gb = open_or_fail(E.zdebug);
	assert_non_null(gobin__section(gb, ".zdebug_info"));
	assert_null(gobin__section(gb, ".debug_info"));
	gobin__free(gb);
	check_dwarf_usable(E.zdebug, ".zdebug");
}

/* gobin__open_mem() on a read-only image: libelf must never write to it
 * (it does when libdw inflates sections of an elf_memory() ELF). */
static void test_open_mem_readonly(void **state)
{
	const char *paths[] = { E.opt, E.zdebug };

	(void)state;
	NEED_PROGRAMS();
	for (size_t i = 0; i < 2; i++) {
		struct gobin *gb = NULL;
		struct stat st;
		char err[256];
		uint64_t off;
		void *map;
		int fd;

		if (i == 1 && !E.have_zdebug)
			continue;
		fd = open(paths[i], O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		assert_true(map != MAP_FAILED);
		assert_int_equal(gobin__open_mem(map, (size_t)st.st_size, &gb,
						 err, sizeof(err)), 0);
		assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
							    "goid", &off), 0);
		assert_int_equal(off, dump_member(E.dump_opt, "runtime.g", "goid"));
		gobin__free(gb);
		munmap(map, (size_t)st.st_size);
	}
}

static void test_no_dwarf(void **state)
{
	const struct gobin_param *p;
	struct gobin *gb;
	uint64_t off;
	size_t n;

	(void)state;
	NEED_PROGRAMS();
	gb = open_or_fail(E.stripped);
	assert_false(gobin__elf(gb)->has_dwarf);
	assert_int_equal(gobin__func_params(gb, "main.Str", &p, &n), -ENODATA);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g", "goid",
						    &off), -ENODATA);
	gobin__free(gb);
}

/* Find section name in an ELF image in memory (test-side, plain). */
static bool find_section(const uint8_t *img, size_t len, const char *name,
			 uint64_t *off, uint64_t *size)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh, *strs;

	if (len < sizeof(*eh) || eh->e_shoff + (uint64_t)eh->e_shnum *
	    sizeof(*sh) > len || eh->e_shstrndx >= eh->e_shnum)
		return false;
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (!strcmp((const char *)img + strs->sh_offset + sh[i].sh_name,
			    name)) {
			*off = sh[i].sh_offset;
			*size = sh[i].sh_size;
			return true;
		}
	}
	return false;
}

/* Open an image, then ask every question; only "no crash" and "the open
 * still works" are required of broken DWARF. */
static int poke(const uint8_t *img, size_t len)
{
	const struct gobin_param *p;
	struct gobin *gb = NULL;
	char err[256];
	uint64_t off;
	size_t n;
	int ret;

	ret = gobin__open_mem(img, len, &gb, err, sizeof(err));
	if (ret)
		fail_msg("open of a binary with broken DWARF failed: %d %s",
			 ret, err);
	for (size_t f = 0; f < sizeof(prog_funcs) / sizeof(*prog_funcs); f++)
		gobin__func_params(gb, prog_funcs[f], &p, &n);
	gobin__func_params(gb, "runtime.lock", &p, &n);
	ret = gobin__dwarf_member_offset(gb, "runtime.g", "sched.sp", &off);
	gobin__free(gb);
	return ret;
}

static void test_broken_dwarf(void **state)
{
	uint64_t off, size;
	uint8_t *img, *copy;
	uint32_t rng = 12345;
	size_t len = 0;

	(void)state;
	NEED_PROGRAMS();
	img = tu_read_file(E.plain, &len);
	assert_non_null(img);
	copy = malloc(len);
	assert_non_null(copy);
	assert_true(find_section(img, len, ".debug_info", &off, &size));
	assert_true(off + size <= len && size > 4096);

	/* all of .debug_info garbage: DWARF is as good as absent */
	memcpy(copy, img, len);
	memset(copy + off, 0xff, size);
	assert_int_equal(poke(copy, len), -ENODATA);
	/* a truncated first unit: an absurd unit length */
	memcpy(copy, img, len);
	copy[off] = 0xf0;
	copy[off + 1] = 0xff;
	copy[off + 2] = 0xff;
	copy[off + 3] = 0x7f;
	poke(copy, len);
	/* scattered damage: whatever comes out, no crash */
	for (int round = 0; round < 8; round++) {
		memcpy(copy, img, len);
		for (int i = 0; i < 2000; i++) {
			rng = rng * 1103515245u + 12345u;
			copy[off + (rng >> 4) % size] ^= (uint8_t)(rng >> 24 | 1);
		}
		poke(copy, len);
	}
	free(img);

	if (!E.have_zdebug) {
		free(copy);
		printf("SKIP: no .zdebug variant (objcopy)\n");
		skip();
	}
	img = tu_read_file(E.zdebug, &len);
	assert_non_null(img);
	assert_true(find_section(img, len, ".zdebug_info", &off, &size));
	copy = realloc(copy, len);
	assert_non_null(copy);
	/* "ZLIB" + big-endian inflated size claiming 1 TiB: refused before
	 * anything is allocated, DWARF absent */
	memcpy(copy, img, len);
	assert_int_equal(memcmp(copy + off, "ZLIB", 4), 0);
	memset(copy + off + 4, 0, 8);
	copy[off + 6] = 1;
	assert_int_equal(poke(copy, len), -ENODATA);
	/* a corrupted zlib stream: inflating fails, DWARF absent */
	memcpy(copy, img, len);
	memset(copy + off + 12 + size / 2, 0x55, 64);
	poke(copy, len);
	memcpy(copy, img, len);
	memset(copy + off + 12, 0, 16);
	assert_int_equal(poke(copy, len), -ENODATA);
	free(copy);
	free(img);
}

/* The shared Go fixtures (make fixtures): static, PIE, and cgo (external
 * linker, C units in the DWARF too), against dwdump on the same files. */
static void test_fixtures(void **state)
{
	static const char *const names[] = { "demo", "demo-pie", "cgo" };
	const struct gobin_param *p;
	struct dump_param dp;
	char path[4200];
	struct gobin *gb;
	uint64_t off;
	size_t n;

	(void)state;
	NEED_PROGRAMS();
	for (size_t i = 0; i < 3; i++) {
		const char *fn = i == 2 ? "main.add" : "main.greet";
		char *out;

		if (!tu_fixture(names[i], path, sizeof(path)))
			skip();
		out = tu_run("'%s' '%s' runtime.g:goid runtime.g:sched.sp %s 2>&1",
			     E.dwdump, path, fn);
		assert_non_null(out);
		gb = open_or_fail(path);
		assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
							    "goid", &off), 0);
		assert_int_equal(off, dump_member(out, "runtime.g", "goid"));
		assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
							    "sched.sp", &off), 0);
		assert_int_equal(off, dump_member(out, "runtime.g", "sched.sp"));
		assert_int_equal(gobin__func_params(gb, fn, &p, &n), 0);
		for (size_t k = 0; k < n; k++) {
			assert_true(dump_param(out, fn, k, &dp));
			assert_string_equal(p[k].name, dp.name);
			assert_string_equal(p[k].type->name, dp.tname);
			assert_int_equal(p[k].type->size, dp.size);
			assert_int_equal(p[k].is_result, dp.result);
		}
		assert_false(dump_param(out, fn, n, &dp));
		if (i == 2) {
			/* add(a, b int64) int64 */
			assert_int_equal(n, 3);
			check_reg(&p[0], RAX);
			check_reg(&p[1], RBX);
		} else {
			/* greet(name string, n int) (string, error) */
			assert_int_equal(n, 4);
			check_reg_pieces(&p[0], 2, RAX, 8, RBX, 8);
			check_reg(&p[1], RCX);
			assert_string_equal(p[2].name, "~r0");
			assert_string_equal(p[3].type->name, "error");
		}
		if (i == 0) {
			/* Map[T, U any](xs []T, f func(T) U) []U: the
			 * ".param2" typedefs of a shape instantiation name
			 * dictionary slots; gobin gives the shape type. RAX
			 * carries the dictionary, so xs starts in RBX. */
			assert_int_equal(gobin__func_params(gb,
				"main.Map[go.shape.int_0,go.shape.string_1]",
				&p, &n), 0);
			assert_int_equal(n, 3);
			check_param(&p[0], "xs", "[]go.shape.int_0",
				    GOBIN_K_SLICE, 24, false);
			assert_string_equal(p[0].type->elem->name,
					    "go.shape.int_0");
			assert_int_equal(p[0].type->elem->kind, GOBIN_K_INT);
			check_reg_pieces(&p[0], 3, RBX, 8, RCX, 8, RDI, 8);
			assert_int_equal(p[1].type->kind, GOBIN_K_FUNC);
			check_param(&p[2], "~r0", "[]go.shape.string_1",
				    GOBIN_K_SLICE, 24, true);
		}
		gobin__free(gb);
		free(out);
	}
}

/* ----------------------------------------------------- esbuild corpus */

/* go1.13/go1.14, ABI0: casgstatus(gp *g, oldval, newval uint32) with
 * every argument on the stack; .zdebug_* sections. */
static void check_corpus_stack_abi(const char *name)
{
	const struct gobin_param *p;
	char path[4200];
	struct gobin *gb;
	uint64_t off;
	size_t n;

	if (!tu_corpus(name, path, sizeof(path)))
		skip();
	gb = open_or_fail(path);
	assert_true(gobin__elf(gb)->has_dwarf);
	assert_non_null(gobin__section(gb, ".zdebug_info"));
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g", "goid",
						    &off), 0);
	assert_int_equal(off, 152);	/* design.md: go1.13, 1.14, 1.16 */
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
						    "atomicstatus", &off), 0);
	assert_int_equal(off, 144);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g",
						    "sched.sp", &off), 0);
	assert_int_equal(off, 56);	/* sched at 56, sp first in gobuf */

	assert_int_equal(gobin__func_params(gb, "runtime.casgstatus", &p, &n), 0);
	assert_int_equal(n, 3);
	check_param(&p[0], "gp", "*runtime.g", GOBIN_K_PTR, 8, false);
	check_param(&p[1], "oldval", "uint32", GOBIN_K_UINT32, 4, false);
	check_param(&p[2], "newval", "uint32", GOBIN_K_UINT32, 4, false);
	check_stack(&p[0], 8);
	check_stack(&p[1], 16);
	check_stack(&p[2], 20);
	assert_string_equal(p[0].type->elem->name, "runtime.g");
	assert_int_equal(p[0].type->elem->kind, GOBIN_K_STRUCT);

	/* and against Go's debug/dwarf on the same file */
	if (E.ready) {
		char *out = tu_run("'%s' '%s' runtime.g:goid runtime.g:atomicstatus runtime.g:sched.sp runtime.casgstatus 2>&1",
				   E.dwdump, path);
		struct dump_param dp;

		assert_non_null(out);
		assert_int_equal(dump_member(out, "runtime.g", "sched.sp"), 56);
		assert_int_equal(dump_member(out, "runtime.g", "goid"), 152);
		for (size_t i = 0; i < 3; i++) {
			assert_true(dump_param(out, "runtime.casgstatus", i, &dp));
			assert_string_equal(p[i].name, dp.name);
			assert_string_equal(p[i].type->name, dp.tname);
			assert_int_equal(p[i].type->size, dp.size);
			assert_int_equal(p[i].type->kind, dp.kind);
		}
		free(out);
	}
	gobin__free(gb);
}

static void test_corpus_go113(void **state)
{
	(void)state;
	check_corpus_stack_abi("esbuild-0.0.9-go1.13.8");
}

static void test_corpus_go114(void **state)
{
	(void)state;
	check_corpus_stack_abi("esbuild-0.6.1-go1.14.2");
}

static void test_corpus_stripped(void **state)
{
	const struct gobin_param *p;
	char path[4200];
	struct gobin *gb;
	uint64_t off;
	size_t n;

	(void)state;
	if (!tu_corpus("esbuild-0.15.18-go1.19.3", path, sizeof(path)))
		skip();
	gb = open_or_fail(path);
	assert_false(gobin__elf(gb)->has_dwarf);
	assert_int_equal(gobin__func_params(gb, "runtime.casgstatus", &p, &n),
			 -ENODATA);
	assert_int_equal(gobin__dwarf_member_offset(gb, "runtime.g", "goid",
						    &off), -ENODATA);
	gobin__free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_int_params_regabi),
		cmocka_unit_test(test_string_slice_named_results),
		cmocka_unit_test(test_struct_by_value),
		cmocka_unit_test(test_pointers_and_cycles),
		cmocka_unit_test(test_interfaces_unnamed_results),
		cmocka_unit_test(test_map_chan),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_arrays_and_stack_struct),
		cmocka_unit_test(test_params_match_debug_dwarf),
		cmocka_unit_test(test_member_offsets),
		cmocka_unit_test(test_unknown_function),
		cmocka_unit_test(test_unoptimized_entry_locations),
		cmocka_unit_test(test_compressed_dwarf),
		cmocka_unit_test(test_open_mem_readonly),
		cmocka_unit_test(test_no_dwarf),
		cmocka_unit_test(test_broken_dwarf),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_corpus_go113),
		cmocka_unit_test(test_corpus_go114),
		cmocka_unit_test(test_corpus_stripped),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
