// SPDX-License-Identifier: MIT
/*
 * tracefs: find it, or mount it (see tracefs.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "tracefs.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

/* Where libbpf 1.1 looks, in its order (libbpf.c: use_debugfs()). */
#define DEBUGFS_TRACING_PATH "/sys/kernel/debug/tracing"

/*
 * statfs() rather than /proc/self/mounts: it also triggers debugfs's
 * automount of tracing/, and it answers for exactly the path libbpf uses.
 */
static bool is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == TRACEFS_MAGIC;
}

const char *tracefs__path(void)
{
	if (is_tracefs(DEBUGFS_TRACING_PATH))
		return DEBUGFS_TRACING_PATH;
	if (is_tracefs(TRACEFS_DEFAULT_PATH))
		return TRACEFS_DEFAULT_PATH;
	return NULL;
}

static bool kernel_has_tracefs(void)
{
	char line[128];
	bool found = false;
	FILE *f;

	f = fopen("/proc/filesystems", "re");
	if (!f)
		return true;	/* cannot tell: let mount(2) decide */
	while (!found && fgets(line, sizeof(line), f)) {
		/* "nodev\ttracefs\n": the name follows the last tab */
		const char *name = strrchr(line, '\t');

		line[strcspn(line, "\n")] = '\0';
		found = strcmp(name ? name + 1 : line, "tracefs") == 0;
	}
	fclose(f);
	return found;
}

static int copy_path(char *out, size_t len, const char *path)
{
	if (!out)
		return 0;
	if (strlen(path) >= len)
		return -ENAMETOOLONG;
	strcpy(out, path);
	return 0;
}

int tracefs__ensure_mounted(char *path_out, size_t len)
{
	const char *path = tracefs__path();
	struct stat st;

	if (path)
		return copy_path(path_out, len, path);

	if (!kernel_has_tracefs())
		return -ENODEV;
	if (stat(TRACEFS_DEFAULT_PATH, &st) != 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	if (mount("nodev", TRACEFS_DEFAULT_PATH, "tracefs", 0, NULL) != 0)
		return -errno;

	path = tracefs__path();
	if (!path)
		return -EIO;	/* mounted, yet not tracefs there: give up */
	return copy_path(path_out, len, path);
}

const char *tracefs__strerror(int err)
{
	static char buf[160];

	switch (err) {
	case 0:
		return "tracefs is mounted";
	case -EPERM:
	case -EACCES:
		return "mounting tracefs needs CAP_SYS_ADMIN: run as root, or `"
		       TRACEFS_MOUNT_CMD "` as root";
	case -ENODEV:
		return "the kernel has no tracefs (CONFIG_TRACING is off)";
	case -ENOENT:
		return TRACEFS_DEFAULT_PATH " does not exist (is sysfs mounted?)";
	case -ENAMETOOLONG:
		return "buffer too small for the tracefs path";
	case -EIO:
		return "mounted tracefs at " TRACEFS_DEFAULT_PATH
		       " but it does not show up there";
	default:
		snprintf(buf, sizeof(buf), "mount -t tracefs failed: %s",
			 strerror(err < 0 ? -err : err));
		return buf;
	}
}
