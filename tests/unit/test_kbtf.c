// SPDX-License-Identifier: MIT
/*
 * src/probe/kbtf.c: member offsets from raw BTF. A hand-built image in the
 * layout of linux include/uapi/linux/btf.h (records of every size class
 * before the structs, so that a wrong record length misplaces them), and
 * the running kernel's BTF against bpftool's dump of the same file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/btf.h>

#include "testutil.h"
#include "probe/kbtf.h"

static const char strs[] = "\0int\0thread_struct\0sp\0fsbase\0task_struct\0"
			   "thread\0flags\0f\0x\0bits";
enum { S_INT = 1, S_THREAD_STRUCT = 5, S_SP = 19, S_FSBASE = 22,
       S_TASK = 29, S_THREAD = 41, S_FLAGS = 48, S_F = 54, S_X = 56,
       S_BITS = 58 };

/* info word (btf.h documents the bits; its encoder macro is libbpf's) */
#define BTF_INFO_ENC(kind, kflag, vlen) \
	((((__u32)(kflag) & 1) << 31) | (((__u32)(kind) & 0x1f) << 24) | \
	 ((__u32)(vlen) & 0xffff))

struct image {
	struct btf_header h;
	__u32 words[64];
	char strs[sizeof(strs)];
};

/* An image; bits_at: the bit offset of task_struct.bits (kind_flag set). */
static size_t build(struct image *im, __u32 bits_at)
{
	__u32 *w = im->words;
	size_t n = 0;

#define T(name, kind, vlen, kflag, sz) \
	(w[n++] = (name), w[n++] = BTF_INFO_ENC(kind, kflag, vlen), w[n++] = (sz))
	T(S_INT, BTF_KIND_INT, 0, 0, 4);		/* [1] int */
	w[n++] = 32;					/* int encoding */
	T(S_F, BTF_KIND_FUNC_PROTO, 2, 0, 1);		/* [2] int f(int, int) */
	w[n++] = S_X; w[n++] = 1; w[n++] = 0; w[n++] = 1;
	T(0, BTF_KIND_PTR, 0, 0, 1);			/* [3] int * */
	T(S_FLAGS, BTF_KIND_ENUM, 1, 0, 4);		/* [4] enum flags */
	w[n++] = S_X; w[n++] = 7;
	T(S_THREAD_STRUCT, BTF_KIND_STRUCT, 2, 0, 16);	/* [5] */
	w[n++] = S_SP; w[n++] = 1; w[n++] = 0;
	w[n++] = S_FSBASE; w[n++] = 1; w[n++] = 64;
	T(S_TASK, BTF_KIND_STRUCT, 3, 1, 64);		/* [6], kind_flag */
	w[n++] = S_FLAGS; w[n++] = 4; w[n++] = 0;
	w[n++] = S_THREAD; w[n++] = 5; w[n++] = 256;	/* byte 32 */
	w[n++] = S_BITS; w[n++] = 1; w[n++] = (3u << 24) | bits_at;
#undef T
	memset(&im->h, 0, sizeof(im->h));
	im->h.magic = BTF_MAGIC;
	im->h.version = BTF_VERSION;
	im->h.hdr_len = sizeof(im->h);
	im->h.type_off = 0;
	im->h.type_len = n * 4;
	im->h.str_off = offsetof(struct image, strs) - sizeof(im->h);
	im->h.str_len = sizeof(strs);
	memcpy(im->strs, strs, sizeof(strs));
	return sizeof(*im);
}

static void test_offsets(void **state)
{
	struct image im;
	size_t len = build(&im, 384);
	uint32_t off = 99;

	(void)state;
	assert_int_equal(kbtf__member_offset_in(&im, len, "thread_struct", "fsbase", &off), 0);
	assert_int_equal(off, 8);
	assert_int_equal(kbtf__member_offset_in(&im, len, "task_struct", "thread", &off), 0);
	assert_int_equal(off, 32);
	assert_int_equal(kbtf__member_offset_in(&im, len, "task_struct", "bits", &off), 0);
	assert_int_equal(off, 48);
	assert_int_equal(kbtf__member_offset_in(&im, len, "task_struct", "nope", &off), -ENOENT);
	assert_int_equal(kbtf__member_offset_in(&im, len, "nope", "thread", &off), -ENOENT);
	/* the FUNC_PROTO's name is "f": not a struct */
	assert_int_equal(kbtf__member_offset_in(&im, len, "f", "x", &off), -ENOENT);
}

static void test_bad_images(void **state)
{
	struct image im;
	size_t len = build(&im, 385);	/* a bitfield member: no byte offset */
	uint32_t off;

	(void)state;
	assert_int_equal(kbtf__member_offset_in(&im, len, "task_struct", "bits", &off), -EINVAL);
	build(&im, 384);
	assert_int_equal(kbtf__member_offset_in(&im, 10, "task_struct", "thread", &off), -EINVAL);
	im.h.type_len += 4;		/* the sections run past the image */
	im.h.str_off += 4;
	assert_int_equal(kbtf__member_offset_in(&im, len, "task_struct", "thread", &off), -EINVAL);
	build(&im, 384);
	im.words[1] = BTF_INFO_ENC(31, 0, 0);	/* an unknown kind */
	assert_int_equal(kbtf__member_offset_in(&im, len, "task_struct", "thread", &off), -EINVAL);
	build(&im, 384);
	im.h.magic = 0x1234;
	assert_int_equal(kbtf__member_offset_in(&im, len, "task_struct", "thread", &off), -EINVAL);
}

/* bpftool's raw dump line "'NAME' type_id=N bits_offset=B" of a member of
 * STRUCT 'SNAME': B / 8, or -1. */
static long bpftool_offset(const char *sname, const char *member)
{
	char cmd[256], line[512], want_s[128], want_m[128];
	bool in = false;
	long off = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null");
	snprintf(want_s, sizeof(want_s), "] STRUCT '%s' ", sname);
	snprintf(want_m, sizeof(want_m), "\t'%s' type_id=", member);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		if (line[0] == '[') {
			if (in)
				break;
			in = strstr(line, want_s) != NULL;
		} else if (in && !strncmp(line, want_m, strlen(want_m))) {
			const char *b = strstr(line, "bits_offset=");

			if (b)
				off = strtol(b + 12, NULL, 10) / 8;
		}
	}
	pclose(p);
	return off;
}

static void test_running_kernel(void **state)
{
	long thread, fsbase;
	uint32_t off;

	(void)state;
	if (access("/sys/kernel/btf/vmlinux", R_OK) || system("bpftool version >/dev/null 2>&1")) {
		print_message("SKIP: no /sys/kernel/btf/vmlinux or no bpftool\n");
		skip();
	}
	thread = bpftool_offset("task_struct", "thread");
	fsbase = bpftool_offset("thread_struct", "fsbase");
	assert_true(thread > 0 && fsbase >= 0);
	assert_int_equal(kbtf__task_fsbase_offset(&off), 0);
	assert_int_equal(off, thread + fsbase);
	/* the read path (kernels that refuse mmap of the sysfs file) */
	off = 0;
	assert_int_equal(kbtf__task_fsbase_offset_from("/sys/kernel/btf/vmlinux",
						       KBTF_NO_MMAP, &off), 0);
	assert_int_equal(off, thread + fsbase);
	assert_int_equal(kbtf__task_fsbase_offset_from("/nonexistent/btf", 0, &off),
			 -ENOENT);
	/* not BTF at all */
	assert_int_equal(kbtf__task_fsbase_offset_from("/proc/self/cmdline",
						       KBTF_NO_MMAP, &off), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_running_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
