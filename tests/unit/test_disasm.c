// SPDX-License-Identifier: MIT
/*
 * disasm.c against binutils: the probe point gobin__probe_point() picks in
 * runtime.casgstatus (and in a function with a stack check) must be the
 * one a walk over `objdump -d` output finds, with the rules written out
 * here independently: first jmp/jcc/call/nop/push on the path from the
 * entry, nothing before it writing the argument registers (register ABI)
 * and RSP moved only by `sub $N,%rsp` (ABI0, whose sp_delta is then N).
 * And go-statement wrappers resolve to the function their CALL names.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#include "testutil.h"
#include "gobin/gobin.h"

struct insn {
	uint64_t addr;
	char mnem[32];
	char ops[160];
};

/* objdump -d --no-show-raw-insn over [from, to): at most max lines. */
static int objdump_insns(const char *path, uint64_t from, uint64_t to,
			 struct insn *out, int max)
{
	char *txt = tu_run("objdump -d --no-show-raw-insn --start-address=0x%" PRIx64
			   " --stop-address=0x%" PRIx64 " '%s' 2>/dev/null",
			   from, to, path);
	char *line, *save = NULL;
	int n = 0;

	if (!txt)
		return -1;
	for (line = strtok_r(txt, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *end;
		uint64_t a;

		while (*p == ' ')
			p++;
		a = strtoull(p, &end, 16);
		if (end == p || *end != ':' || end[1] != '\t')
			continue;
		p = end + 2;
		out[n].addr = a;
		if (sscanf(p, "%31s %159[^\n]", out[n].mnem, out[n].ops) < 1)
			continue;
		if (!strchr(p, ' '))
			out[n].ops[0] = 0;
		/* "(bad)" / ".byte": stop, the disassembler lost sync */
		if (out[n].mnem[0] == '.' || out[n].mnem[0] == '(')
			break;
		n++;
	}
	free(txt);
	return n;
}

static bool is_emulated_mnem(const char *m)
{
	return !strcmp(m, "nop") || !strncmp(m, "nopl", 4) ||
	       !strcmp(m, "jmp") || !strcmp(m, "call") ||
	       !strcmp(m, "push") || (m[0] == 'j' && strcmp(m, "jmp"));
}

/* The destination of an AT&T instruction is its last operand. */
static bool writes_reg(const struct insn *in, const char *const *regs)
{
	const char *last = strrchr(in->ops, ',');

	last = last ? last + 1 : in->ops;
	if (!strcmp(in->mnem, "cmp") || !strcmp(in->mnem, "test") ||
	    !strcmp(in->mnem, "bt"))
		return false;
	for (int i = 0; regs[i]; i++)
		if (!strcmp(last, regs[i]))
			return true;
	return false;
}

struct expect {
	uint64_t addr;
	int64_t sp_delta;
	bool emulated;
};

static struct expect expected_point(const struct insn *in, int n, bool abi0)
{
	static const char *const args[] = {
		"%rax", "%eax", "%ax", "%al", "%rbx", "%ebx", "%bx", "%bl",
		"%rcx", "%ecx", "%cx", "%cl", NULL,
	};
	struct expect e = { .addr = n ? in[0].addr : 0 };
	int64_t delta = 0;

	for (int i = 0; i < n; i++) {
		if (is_emulated_mnem(in[i].mnem)) {
			e.addr = in[i].addr;
			e.sp_delta = delta;
			e.emulated = true;
			return e;
		}
		if (!abi0 && writes_reg(&in[i], args))
			return e;
		if (!strcmp(in[i].mnem, "sub") &&
		    strstr(in[i].ops, ",%rsp") && in[i].ops[0] == '$') {
			delta += strtoll(in[i].ops + 1, NULL, 16);
			continue;
		}
		if (strstr(in[i].ops, ",%rsp") && strcmp(in[i].mnem, "cmp"))
			return e;	/* an RSP change the rules do not follow */
	}
	return e;
}

static void check_casgstatus(const char *path)
{
	struct gobin *gb = NULL;
	char err[256];
	const struct gobin_func *f;
	struct gobin_probe_point pp;
	struct insn in[64];
	struct expect e;
	bool abi0;
	int n;

	assert_int_equal(gobin__open(path, &gb, err, sizeof(err)), 0);
	f = gobin__func_by_name(gb, "runtime.casgstatus");
	assert_non_null(f);
	abi0 = gobin__abi(gb)->abi == GOBIN_ABI0;
	assert_int_equal(gobin__probe_point(gb, f, abi0 ? 0 : 3,
					    abi0 ? f->args : 0, &pp), 0);
	n = objdump_insns(path, f->entry, f->entry + 96, in, 64);
	assert_true(n > 4);
	e = expected_point(in, n, abi0);
	printf("  %s: casgstatus+%#" PRIx64 " (%s), sp_delta %" PRId64 "\n",
	       strrchr(path, '/') + 1, pp.addr - f->entry, pp.why,
	       pp.sp_delta);
	assert_true(e.emulated);
	assert_true(pp.emulated);
	assert_int_equal(pp.addr, e.addr);
	assert_int_equal(pp.sp_delta, e.sp_delta);
	assert_int_equal(pp.skip_flags, 0);	/* casgstatus is nosplit */
	/* ABI0 casgstatus(gp *g, oldval, newval uint32): 16 bytes of args */
	if (abi0)
		assert_int_equal(f->args, 16);
	gobin__free(gb);
}

static void test_casgstatus_fixtures(void **state)
{
	const char *names[] = { "demo", "demo-stripped", "demo-pie", "cgo" };
	char buf[4096];
	int done = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!tu_fixture(names[i], buf, sizeof(buf)))
			continue;
		check_casgstatus(buf);
		done++;
	}
	if (!done)
		skip();
}

static void test_casgstatus_corpus(void **state)
{
	const char *names[] = {
		"esbuild-0.0.9-go1.13.8", "esbuild-0.11.23-go1.16.3",
		"esbuild-0.14.10-go1.17.5", "esbuild-0.15.18-go1.19.3",
		"esbuild-0.23.1-go1.22.5", "esbuild-0.28.2-go1.26.5",
	};
	char buf[4096];
	int done = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!tu_corpus(names[i], buf, sizeof(buf)))
			continue;
		check_casgstatus(buf);
		done++;
	}
	if (!done)
		skip();
}

/*
 * A function with the register-ABI stack check (`cmp 0x10(%r14),%rsp;
 * jbe morestack-stub`): the probe goes on the JBE, and hits must be
 * skipped when CF or ZF is set (the branch re-enters from the top).
 */
static void test_stack_check_jbe(void **state)
{
	struct gobin *gb = NULL;
	char buf[4096], err[256];
	const struct gobin_func *f;
	struct gobin_probe_point pp;
	struct insn in[8];
	int n;

	if (!tu_fixture("demo", buf, sizeof(buf)))
		skip();
	assert_int_equal(gobin__open(buf, &gb, err, sizeof(err)), 0);
	f = gobin__func_by_name(gb, "main.worker");
	assert_non_null(f);
	n = objdump_insns(buf, f->entry, f->entry + 16, in, 8);
	assert_true(n >= 2);
	assert_string_equal(in[0].mnem, "cmp");
	assert_string_equal(in[1].mnem, "jbe");
	assert_int_equal(gobin__probe_point(gb, f, 4, 0, &pp), 0);
	assert_true(pp.emulated);
	assert_int_equal(pp.addr, in[1].addr);
	assert_int_equal(pp.skip_flags, 0x41);	/* CF | ZF */
	assert_int_equal(pp.sp_delta, 0);
	gobin__free(gb);
}

/* `go worker(i, jobs, results, &wg)` in demo's main (go1.19): the wrapper
 * main.main.funcN calls main.worker (objdump names the call target). */
static void test_go_wrapper(void **state)
{
	struct gobin *gb = NULL;
	char buf[4096], err[256];
	const struct gobin_func *f, *callee, *closure = NULL;
	bool marked;
	int wrappers = 0;

	if (!tu_fixture("demo", buf, sizeof(buf)))
		skip();
	assert_int_equal(gobin__open(buf, &gb, err, sizeof(err)), 0);
	for (size_t i = 0; i < gobin__func_cnt(gb); i++) {
		struct insn in[64];
		const char *want = NULL;
		int n;

		f = gobin__func(gb, i);
		if (strncmp(f->name, "main.main.func", 14))
			continue;
		n = objdump_insns(buf, f->entry, f->end, in, 64);
		for (int k = 0; k < n; k++) {
			if (strcmp(in[k].mnem, "call"))
				continue;
			if (strstr(in[k].ops, "<runtime."))
				continue;
			want = strchr(in[k].ops, '<');
		}
		if (!gobin__wrapper_callee(gb, f, &callee, &marked) && marked) {
			char name[256];

			assert_non_null(want);
			snprintf(name, sizeof(name), "<%s>", callee->name);
			assert_string_equal(want, name);
			wrappers++;
		} else {
			closure = f;
		}
	}
	/* worker, sleeper, locker x2: 4 go statements with arguments */
	assert_true(wrappers >= 3);
	/* the results-draining closure loops: it is not a wrapper */
	assert_non_null(closure);
	gobin__free(gb);
}

/* Garbage in, no crash out: a function past the image, an empty one. */
static void test_bounds(void **state)
{
	struct gobin *gb = NULL;
	char buf[4096], err[256];
	struct gobin_func f = { .name = "fake" };
	struct gobin_probe_point pp;
	const struct gobin_func *callee;

	if (!tu_fixture("demo", buf, sizeof(buf)))
		skip();
	assert_int_equal(gobin__open(buf, &gb, err, sizeof(err)), 0);
	f.entry = 0xffffffffffff0000ULL;
	f.end = f.entry + 64;
	assert_int_equal(gobin__probe_point(gb, &f, 3, 0, &pp), 0);
	assert_false(pp.emulated);
	assert_int_equal(pp.addr, f.entry);
	assert_int_equal(gobin__wrapper_callee(gb, &f, &callee, NULL), -ENOENT);
	f.end = f.entry;
	assert_int_equal(gobin__probe_point(gb, &f, 3, 0, &pp), -EINVAL);
	assert_int_equal(gobin__probe_point(NULL, &f, 3, 0, &pp), -EINVAL);
	gobin__free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_casgstatus_fixtures),
		cmocka_unit_test(test_casgstatus_corpus),
		cmocka_unit_test(test_stack_check_jbe),
		cmocka_unit_test(test_go_wrapper),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
