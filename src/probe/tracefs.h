/* SPDX-License-Identifier: MIT */
/*
 * Where tracefs is mounted, and mounting it when it is not: tracepoint
 * probes need it for event ids (events/<cat>/<name>/id), and libbpf looks
 * only at /sys/kernel/debug/tracing (if that exists) or else at
 * /sys/kernel/tracing, so only those two count as "mounted".
 */
#ifndef GOSNOOP_PROBE_TRACEFS_H
#define GOSNOOP_PROBE_TRACEFS_H

#include <stddef.h>

#define TRACEFS_DEFAULT_PATH "/sys/kernel/tracing"
#define TRACEFS_MOUNT_CMD "mount -t tracefs nodev " TRACEFS_DEFAULT_PATH

/*
 * The mount point of a usable tracefs (read from /proc/self/mounts on
 * every call), or NULL when tracefs is not mounted where libbpf looks.
 */
const char *tracefs__path(void);

/*
 * Make sure tracefs is mounted; mount it at /sys/kernel/tracing if not.
 * Copies the mount point into path_out (if non-NULL). Returns 0, or
 * -errno: -EPERM (mounting needs CAP_SYS_ADMIN), -ENODEV (kernel has no
 * tracefs), -ENOENT (no /sys/kernel/tracing), -ENAMETOOLONG (len too
 * small), or mount(2)'s errno; tracefs__strerror() says it in words.
 */
int tracefs__ensure_mounted(char *path_out, size_t len);

/* A one-line reason for an error from tracefs__ensure_mounted(). */
const char *tracefs__strerror(int err);

#endif /* GOSNOOP_PROBE_TRACEFS_H */
