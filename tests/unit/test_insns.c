// SPDX-License-Identifier: MIT
/*
 * insns.c (RET sites, tail jumps, branches into the prologue, what the
 * kernel lets a uprobe sit on) against GNU objdump's disassembly of the
 * same binaries: every RET objdump sees inside a function's pclntab
 * bounds must be found, and nothing else. Needs the `calls` fixture and
 * the go1.13 corpus binary (both keep .symtab, so objdump names the
 * functions); SKIPs visibly without them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "testutil.h"
#include "gobin/gobin.h"

struct ret_list {
	uint64_t *a;
	size_t n, cap;
};

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Every `ret` address in objdump's view of .text, sorted. */
static void objdump_rets(const char *path, struct ret_list *rl)
{
	char *out = tu_run("objdump -d --no-show-raw-insn -j .text %s | "
			   "awk '$2 ~ /^ret/ { sub(\":\", \"\", $1); print $1 }'",
			   path);
	char *p = out, *end;

	assert_non_null(out);
	memset(rl, 0, sizeof(*rl));
	while (*p) {
		uint64_t v = strtoull(p, &end, 16);

		if (end == p)
			break;
		if (rl->n == rl->cap) {
			rl->cap = rl->cap ? rl->cap * 2 : 1024;
			rl->a = realloc(rl->a, rl->cap * sizeof(*rl->a));
			assert_non_null(rl->a);
		}
		rl->a[rl->n++] = v;
		p = end;
		while (*p == '\n')
			p++;
	}
	free(out);
	qsort(rl->a, rl->n, sizeof(*rl->a), cmp_u64);
}

static struct gobin *open_ok(const char *path)
{
	char err[256];
	struct gobin *gb = NULL;

	if (gobin__open(path, &gb, err, sizeof(err)))
		fail_msg("gobin__open(%s): %s", path, err);
	return gb;
}

/* Every function's RETs == objdump's RETs inside its bounds. */
static void check_all_rets(const char *path)
{
	struct gobin *gb = open_ok(path);
	struct ret_list rl;
	size_t j = 0, checked = 0, with_ret = 0;

	objdump_rets(path, &rl);
	assert_true(rl.n > 1000);
	for (size_t i = 0; i < gobin__func_cnt(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i);
		struct gobin_func_insns fi;
		size_t k = 0;

		if (f->end <= f->entry)
			continue;
		assert_int_equal(gobin__func_insns(gb, f, f->entry, &fi), 0);
		if (!fi.complete)
			fail_msg("%s: undecodable at %#" PRIx64, f->name, fi.stop);
		while (j < rl.n && rl.a[j] < f->entry)
			j++;
		for (; j < rl.n && rl.a[j] < f->end; j++, k++) {
			if (k >= fi.ret_cnt || fi.rets[k] != rl.a[j])
				fail_msg("%s: objdump has a RET at %#" PRIx64
					 ", we have %#" PRIx64 " (%zu of %zu)",
					 f->name, rl.a[j],
					 k < fi.ret_cnt ? fi.rets[k] : 0, k,
					 fi.ret_cnt);
		}
		if (k != fi.ret_cnt)
			fail_msg("%s: %zu RETs, objdump %zu", f->name,
				 fi.ret_cnt, k);
		with_ret += k > 0;
		checked++;
		gobin__func_insns_free(&fi);
	}
	assert_true(checked > 1000);
	assert_true(with_ret > checked / 2);
	free(rl.a);
	gobin__free(gb);
}

static void test_rets_fixture(void **state)
{
	char buf[1024];
	const char *p = tu_fixture("calls", buf, sizeof(buf));

	if (!p)
		skip();
	check_all_rets(p);
}

static void test_rets_go113(void **state)
{
	char buf[1024];
	const char *p = tu_corpus("esbuild-0.0.9-go1.13.8", buf, sizeof(buf));

	if (!p)
		skip();
	check_all_rets(p);
}

/* How many `ret` lines objdump prints for one named function. */
static long objdump_count(const char *path, const char *func, const char *mn)
{
	char *out = tu_run("objdump -d --no-show-raw-insn %s | awk '/^[0-9a-f]+ <%s>:/{on=1;next} /^$/{on=0} on && $2 ~ /^%s/ {n++} END {print n+0}'",
			   path, func, mn);
	long n;

	assert_non_null(out);
	n = strtol(out, NULL, 10);
	free(out);
	return n;
}

static void test_fixture_functions(void **state)
{
	char buf[1024];
	const char *p = tu_fixture("calls", buf, sizeof(buf));
	const struct gobin_func *f;
	struct gobin_func_insns fi;
	struct gobin_probe_point pp;
	struct gobin *gb;

	if (!p)
		skip();
	gb = open_ok(p);

	/* classify has five return statements (tests/fixtures/calls) */
	f = gobin__func_by_name(gb, "main.classify");
	assert_non_null(f);
	assert_int_equal(gobin__func_insns(gb, f, f->entry, &fi), 0);
	assert_true(fi.ret_cnt >= 2);
	assert_int_equal((long)fi.ret_cnt, objdump_count(p, "main.classify", "ret"));
	gobin__func_insns_free(&fi);

	/* fib: the morestack stub jumps back to the entry; not a loop */
	f = gobin__func_by_name(gb, "main.fib");
	assert_non_null(f);
	assert_int_equal(gobin__probe_point(gb, f, 0, 0, &pp), 0);
	assert_true(pp.emulated && pp.skip_flags);
	assert_int_equal(gobin__func_insns(gb, f, pp.addr, &fi), 0);
	assert_false(fi.entry_reentered);
	assert_true(fi.ret_cnt >= 1);
	gobin__func_insns_free(&fi);

	/* go1.19's memoryLimitHeapGoal starts with a loop head: objdump
	 * shows "jb <...memoryLimitHeapGoal>" back to its first byte */
	f = gobin__func_by_name(gb, "runtime.(*gcControllerState).memoryLimitHeapGoal");
	if (f && objdump_count(p, "runtime.\\(\\*gcControllerState\\).memoryLimitHeapGoal", "j") > 0) {
		assert_int_equal(gobin__func_insns(gb, f, f->entry, &fi), 0);
		assert_true(fi.entry_reentered);
		assert_int_equal(fi.reenter_to, f->entry);
		gobin__func_insns_free(&fi);
	}

	/* runtime.bgsweep never returns (a for loop with gopark) */
	f = gobin__func_by_name(gb, "runtime.bgsweep");
	assert_non_null(f);
	assert_int_equal(gobin__func_insns(gb, f, f->entry, &fi), 0);
	assert_int_equal(fi.ret_cnt, 0);
	assert_int_equal(objdump_count(p, "runtime.bgsweep", "ret"), 0);
	gobin__func_insns_free(&fi);
	gobin__free(gb);
}

/*
 * writes_r14 against objdump (AT&T: the destination is last): every
 * function where objdump shows an instruction writing %r14 must be
 * flagged (a miss would make latency read a wrong g), and main.fib
 * (ordinary Go code) must not be.
 */
static void test_writes_r14(void **state)
{
	char buf[1024];
	const char *p = tu_fixture("calls", buf, sizeof(buf));
	struct gobin *gb;
	char *out, *line, *save = NULL;
	size_t n = 0;

	if (!p)
		skip();
	gb = open_ok(p);
	out = tu_run("objdump -d --no-show-raw-insn -j .text %s | awk "
		     "'/^[0-9a-f]+ <.*>:$/ { f = $1; next } "
		     "$2 !~ /^(cmp|test|bt)/ && ($0 ~ /,%%r14[dwb]?$/ || $0 ~ /pop +%%r14/ || $0 ~ /xchg.*%%r14/) "
		     "{ if (f != last) print f; last = f }'", p);
	assert_non_null(out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t addr = strtoull(line, NULL, 16);
		const struct gobin_func *f = gobin__func_at(gb, addr);
		struct gobin_func_insns fi;

		/* by address: ABI0 and ABIInternal twins share a name */
		if (!f || f->entry != addr)
			continue;
		assert_int_equal(gobin__func_insns(gb, f, f->entry, &fi), 0);
		if (!fi.writes_r14)
			fail_msg("%s at %s writes %%r14 (objdump) but writes_r14 is false",
				 f->name, line);
		gobin__func_insns_free(&fi);
		n++;
	}
	free(out);
	/* runtime.gogo and friends switch goroutines through R14 */
	assert_true(n >= 3);
	{
		const struct gobin_func *f = gobin__func_by_name(gb, "main.fib");
		struct gobin_func_insns fi;

		assert_non_null(f);
		assert_int_equal(gobin__func_insns(gb, f, f->entry, &fi), 0);
		assert_false(fi.writes_r14);
		gobin__func_insns_free(&fi);
	}
	gobin__free(gb);
}

/* The kernel's opcode tables (linux arch/x86/kernel/uprobes.c). */
static void test_uprobe_insn_ok(void **state)
{
	char buf[1024];
	const char *p = tu_fixture("calls", buf, sizeof(buf)), *why;
	const struct gobin_func *f;
	struct gobin_probe_point pp;
	struct gobin *gb;
	char *out;
	uint64_t lock;

	if (!p)
		skip();
	gb = open_ok(p);
	f = gobin__func_by_name(gb, "main.fib");
	assert_non_null(f);
	/* the CMP at the entry and the JBE after it: accepted */
	assert_int_equal(gobin__uprobe_insn_ok(gb, f->entry, &why), 0);
	assert_null(why);
	assert_int_equal(gobin__probe_point(gb, f, 0, 0, &pp), 0);
	assert_int_equal(gobin__uprobe_insn_ok(gb, pp.addr, &why), 0);
	assert_null(why);
	/* INT3 padding (0xcc) right before the next function: refused */
	{
		const uint8_t *b = gobin__ptr(gb, f->end - 1, 1);

		assert_non_null(b);
		if (*b == 0xcc) {
			assert_int_equal(gobin__uprobe_insn_ok(gb, f->end - 1, &why), 0);
			assert_non_null(why);
		}
	}
	/* a LOCK-prefixed instruction (main.add's atomic add): refused */
	out = tu_run("objdump -d %s | awk '/^[0-9a-f]+ <main.add>:/{on=1;next} /^$/{on=0} on && /\\tf0 |lock/ {sub(\":\",\"\",$1); print $1; exit}'", p);
	assert_non_null(out);
	lock = strtoull(out, NULL, 16);
	free(out);
	if (lock) {
		const uint8_t *b = gobin__ptr(gb, lock, 1);

		assert_non_null(b);
		assert_int_equal(b[0], 0xf0);
		assert_int_equal(gobin__uprobe_insn_ok(gb, lock, &why), 0);
		assert_non_null(why);
	} else {
		printf("SKIP: no lock-prefixed instruction found in main.add\n");
	}
	gobin__free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rets_fixture),
		cmocka_unit_test(test_rets_go113),
		cmocka_unit_test(test_fixture_functions),
		cmocka_unit_test(test_writes_r14),
		cmocka_unit_test(test_uprobe_insn_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
