// SPDX-License-Identifier: MIT
/*
 * A minimal reader of raw BTF (see kbtf.h). Record layout: linux
 * include/uapi/linux/btf.h and Documentation/bpf/btf.rst: a header, then
 * struct btf_type records, each followed by kind-specific data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/btf.h>

#include "kbtf.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* Bytes of kind-specific data after a struct btf_type; -1 if unknown. */
static long trailer_len(const struct btf_type *t)
{
	__u32 vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_ENUM64:
		return (long)vlen * sizeof(struct btf_enum64);
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	default:
		return -1;
	}
}

static const char *str_at(const char *strs, __u32 str_len, __u32 off)
{
	if (off >= str_len || !memchr(strs + off, 0, str_len - off))
		return NULL;
	return strs + off;
}

int kbtf__member_offset_in(const void *buf, size_t len, const char *sname,
			   const char *member, uint32_t *off)
{
	const struct btf_header *h = buf;
	const char *types, *strs;
	size_t pos = 0;

	if (len < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len > len ||
	    (size_t)h->hdr_len + h->type_off + h->type_len > len ||
	    (size_t)h->hdr_len + h->str_off + h->str_len > len)
		return -EINVAL;
	types = (const char *)buf + h->hdr_len + h->type_off;
	strs = (const char *)buf + h->hdr_len + h->str_off;

	while (pos + sizeof(struct btf_type) <= h->type_len) {
		const struct btf_type *t = (const void *)(types + pos);
		long tl = trailer_len(t);
		const struct btf_member *m;
		const char *name;

		if (tl < 0 || pos + sizeof(*t) + (size_t)tl > h->type_len)
			return -EINVAL;
		pos += sizeof(*t) + (size_t)tl;
		if (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT)
			continue;
		name = str_at(strs, h->str_len, t->name_off);
		if (!name || strcmp(name, sname))
			continue;
		m = (const void *)(t + 1);
		for (__u32 i = 0; i < BTF_INFO_VLEN(t->info); i++) {
			__u32 bits = BTF_INFO_KFLAG(t->info) ?
				     BTF_MEMBER_BIT_OFFSET(m[i].offset) :
				     m[i].offset;

			name = str_at(strs, h->str_len, m[i].name_off);
			if (!name || strcmp(name, member))
				continue;
			if (bits % 8)
				return -EINVAL;
			*off = bits / 8;
			return 0;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* The whole file, read (sysfs files of unknown size: until EOF). */
static int read_all(int fd, size_t hint, void **out, size_t *len)
{
	size_t cap = hint ? hint : 1 << 20, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > (256u << 20)) {	/* no BTF is this big */
				free(buf);
				return -EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int kbtf__task_fsbase_offset_from(const char *path, unsigned int flags,
				  uint32_t *off)
{
	uint32_t thread, fsbase;
	struct stat st;
	void *img = MAP_FAILED;
	size_t len = 0;
	bool mapped = false;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	/*
	 * mmap of /sys/kernel/btf/vmlinux is allowed only from kernel ~6.15
	 * ("btf: allow mmap of vmlinux btf"); older ones refuse it: read.
	 */
	if (!(flags & KBTF_NO_MMAP) && st.st_size > 0) {
		img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			   fd, 0);
		if (img != MAP_FAILED) {
			mapped = true;
			len = (size_t)st.st_size;
		}
	}
	if (!mapped) {
		err = read_all(fd, st.st_size > 0 ? (size_t)st.st_size : 0,
			       &img, &len);
		if (err) {
			close(fd);
			return err;
		}
	}
	close(fd);
	err = kbtf__member_offset_in(img, len, "task_struct", "thread",
				     &thread);
	if (!err)
		err = kbtf__member_offset_in(img, len, "thread_struct",
					     "fsbase", &fsbase);
	if (mapped)
		munmap(img, len);
	else
		free(img);
	if (!err)
		*off = thread + fsbase;
	return err;
}

int kbtf__task_fsbase_offset(uint32_t *off)
{
	return kbtf__task_fsbase_offset_from(VMLINUX_BTF, 0, off);
}
