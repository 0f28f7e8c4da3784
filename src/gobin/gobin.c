// SPDX-License-Identifier: MIT
/* gobin object life cycle: map the file, run each module's loader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gobin_int.h"

void gobin__free(struct gobin *gb)
{
	if (!gb)
		return;
	gobin_dwarf__free(gb);
	gobin_buildinfo__free(gb);
	gobin_pcln__free(gb);
	gobin_elf__free(gb);
	if (gb->map)
		munmap(gb->map, gb->map_len);
	free(gb);
}

/* cgo programs carry runtime/cgo's assembly, which pclntab lists (so a
 * stripped binary answers too). Symbols like _cgo_init do not tell: the
 * runtime declares them as variables in every program. */
static bool links_cgo(const struct gobin *gb)
{
	return gobin__func_by_name(gb, "crosscall2") ||
	       gobin__func_by_name(gb, "_cgo_topofstack");
}

static int open_mem(const void *buf, size_t len, unsigned int flags,
		    struct gobin **out, char *err, size_t errlen)
{
	struct gobin *gb;
	int ret;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf is too old");
		return -ENOSYS;
	}
	gb = calloc(1, sizeof(*gb));
	if (!gb)
		return -ENOMEM;
	gb->img = buf;
	gb->img_len = len;
	gb->go_minor = -1;

	ret = gobin_elf__load(gb, err, errlen);
	if (!ret)
		ret = gobin_pcln__load(gb, err, errlen);
	if (!ret)
		ret = gobin_buildinfo__load(gb, err, errlen);
	if (!ret && !(flags & GOBIN_OPEN_NO_DWARF))
		ret = gobin_dwarf__load(gb, err, errlen);
	if (!ret)
		ret = gobin_layout__load(gb, err, errlen);
	if (!ret)
		ret = gobin_abi__load(gb, err, errlen);
	if (ret) {
		gobin__free(gb);
		return ret;
	}
	gb->elfi.cgo = links_cgo(gb);
	*out = gb;
	return 0;
}

int gobin__open_mem(const void *buf, size_t len, struct gobin **out,
		    char *err, size_t errlen)
{
	return open_mem(buf, len, 0, out, err, errlen);
}

int gobin__open(const char *path, struct gobin **out, char *err,
		size_t errlen)
{
	return gobin__open_flags(path, 0, out, err, errlen);
}

int gobin__open_flags(const char *path, unsigned int flags, struct gobin **out,
		      char *err, size_t errlen)
{
	struct gobin *gb;
	struct stat st;
	void *map;
	int fd, ret;

	*out = NULL;
	/* O_NONBLOCK: a FIFO given as a binary must not block the open
	 * until a writer comes; it is refused below as not a regular file */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -ENOEXEC;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "empty file: not an ELF file");
		close(fd);
		return -ENOEXEC;
	}
	/*
	 * MAP_SHARED, not MAP_PRIVATE: the kernel installs every registered
	 * uprobe's INT3 into each private mapping of the probed file that
	 * could be executable (uprobe_mmap(): valid_vma() wants VM_MAYEXEC
	 * and not VM_MAYSHARE), read-only ones too. A private map would show
	 * another gosnoop's breakpoints (a `latency` running on the same
	 * binary) in place of the code; a shared one is the page cache,
	 * which uprobes never write.
	 */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	ret = -errno;
	if (map == MAP_FAILED) {
		unsigned char magic[4];

		/* files that cannot be mapped (sysfs: /sys/kernel/btf/
		 * vmlinux) are no programs; say what they are not */
		if (pread(fd, magic, sizeof(magic), 0) == sizeof(magic) &&
		    memcmp(magic, "\x7f" "ELF", 4)) {
			snprintf(err, errlen, "not an ELF file");
			ret = -ENOEXEC;
		} else {
			snprintf(err, errlen, "cannot map: %s", strerror(-ret));
		}
		close(fd);
		return ret;
	}
	close(fd);
	ret = open_mem(map, (size_t)st.st_size, flags, &gb, err, errlen);
	if (ret) {
		munmap(map, (size_t)st.st_size);
		return ret;
	}
	gb->map = map;
	gb->map_len = (size_t)st.st_size;
	*out = gb;
	return 0;
}
