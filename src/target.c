// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "gobin/gobin.h"
#include "target.h"

void target__split_cmd(int *argc, char **argv, struct target *t)
{
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--"))
			continue;
		t->cmd_argv = &argv[i + 1];
		t->cmd_argc = *argc - i - 1;
		argv[i] = NULL;
		*argc = i;
		return;
	}
}

const char *target__proc_stat(pid_t pid, char *buf, size_t len)
{
	char path[64], *p;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = (ssize_t)fread(buf, 1, len - 1, f);
	fclose(f);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p + 2 : NULL;
}

int target__proc_stat_nums(pid_t pid, const int *fields, int n,
			   unsigned long long *vals, char *state)
{
	char buf[1024];
	const char *p = target__proc_stat(pid, buf, sizeof(buf));
	int at = 3;	/* p is at field 3, the state */

	if (!p || !*p)
		return -ESRCH;
	if (state)
		*state = *p;
	for (int i = 0; i < n; i++) {
		char *end;

		if (fields[i] <= at)
			return -EINVAL;	/* not ascending, or not after comm */
		while (at < fields[i] && p) {
			p = strchr(p, ' ');
			if (p)
				p++;
			at++;
		}
		if (!p || !*p)
			return -ESRCH;	/* the line ended before it */
		errno = 0;
		vals[i] = strtoull(p, &end, 10);
		if (errno || end == p || (*end != ' ' && *end != '\n'))
			return -ESRCH;
	}
	return 0;
}

bool target__pid_alive(pid_t pid)
{
	char buf[512];
	const char *p = target__proc_stat(pid, buf, sizeof(buf));

	return p && *p != 'Z' && *p != 'X';
}

int target__take_path(const struct target *t, pid_t pid, int argc,
		      char **argv, int first, const char **path)
{
	*path = NULL;
	if (!pid && !t->cmd_argv && first < argc)
		*path = argv[first++];
	return first;
}

int target__parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > INT32_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

/* A file execve(2) may run: 0; -EACCES when it is not executable by us
 * or not a regular file (a FIFO or a directory with x bits: execve says
 * EACCES too); else what access(2) said. */
static int executable(const char *path)
{
	struct stat st;

	if (access(path, X_OK))
		return -errno;
	if (stat(path, &st))
		return -errno;
	return S_ISREG(st.st_mode) ? 0 : -EACCES;
}

/* argv[0] as execvp would find it (skipping what it could not run). */
static int find_in_path(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return executable(out);
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n,
			 n ? path : ".", cmd);
		if (!executable(buf)) {
			snprintf(out, len, "%s", buf);
			return 0;
		}
		path += n + (colon ? 1 : 0);
	}
	return -ENOENT;
}

/* The process (thread group) thread tid belongs to: Tgid in its status. */
static int thread_group_of(pid_t tid, pid_t *tgid)
{
	char path[64], line[256];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		int v;

		if (sscanf(line, "Tgid: %d", &v) == 1 && v > 0) {
			*tgid = v;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int resolve_pid(struct target *t, pid_t pid)
{
	char link[64], exe[PATH_MAX], rooted[PATH_MAX + 64];
	struct stat st_exe, st_rooted;
	pid_t tgid = pid;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d", pid);
	if (access(link, F_OK)) {
		p_err("no process with PID %d (has it exited?)", pid);
		return -ESRCH;
	}
	/*
	 * A thread id (from `top -H`, `ps -L`, a tid column) names a thread,
	 * and /proc/TID works for it although `ls /proc` hides it; but the
	 * probes and the in-kernel filters are per process (uprobe_multi
	 * wants a thread-group leader, the programs compare tgids), and
	 * goroutines move between threads anyway. Like `perf record -p TID`,
	 * which takes every thread of TID's process, use the process; unlike
	 * perf, say so.
	 */
	if (!thread_group_of(pid, &tgid) && tgid != pid) {
		p_warn("%d is a thread of process %d: tracing process %d (all its threads)",
		       pid, tgid, tgid);
		pid = tgid;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0) {
		int e = errno;

		if (e == ENOENT) {
			p_err("PID %d has no executable (a kernel thread or a zombie?)",
			      pid);
			return -ESRCH;
		}
		p_err("cannot read %s: %s (run as root, or with CAP_SYS_PTRACE)",
		      link, strerror(e));
		return -e;
	}
	exe[n] = 0;
	t->kind = TARGET_PID;
	t->pid = pid;
	snprintf(t->display, sizeof(t->display), "%s (PID %d)", exe, pid);
	/* The same file seen from the process's own root is what a uprobe
	 * must name; a deleted or replaced file is only reachable through
	 * the exe link itself. */
	snprintf(rooted, sizeof(rooted), "/proc/%d/root%s", pid, exe);
	if (!stat(link, &st_exe) && !stat(rooted, &st_rooted) &&
	    st_exe.st_dev == st_rooted.st_dev &&
	    st_exe.st_ino == st_rooted.st_ino &&
	    strlen(rooted) < sizeof(t->path))
		snprintf(t->path, sizeof(t->path), "%s", rooted);
	else
		snprintf(t->path, sizeof(t->path), "%s", link);
	return 0;
}

/*
 * "trace 'main.*'" or "trace main.f ./app": a missing file named like a Go
 * function or glob (no '/') where the target belongs. Says so (one line)
 * and returns true; false for any other name.
 */
static bool pattern_for_target(const char *arg)
{
	if (strchr(arg, '/') || !strpbrk(arg, ".*?["))
		return false;
	p_err("'%s' is not a file; the target comes before the patterns: "
	      "PATH PATTERN..., -p PID PATTERN... or PATTERN... -- CMD", arg);
	return true;
}

int target__check_given(const struct target *t, const char *path_arg,
			pid_t pid)
{
	struct stat st;

	if (path_arg && !pid && !t->cmd_argv && stat(path_arg, &st) &&
	    errno == ENOENT && pattern_for_target(path_arg))
		return -EINVAL;
	if (path_arg || pid > 0 || t->cmd_argv)
		return 0;
	p_err("no target: give a PATH to a Go binary, -p PID, or -- CMD ARGS");
	return -EINVAL;
}

int target__resolve(struct target *t, const char *path_arg, pid_t pid)
{
	struct stat st;
	int ret;

	if (pid > 0) {
		if (path_arg || t->cmd_argv) {
			p_err("give one target: a PATH, -p PID, or -- CMD ARGS");
			return -EINVAL;
		}
		return resolve_pid(t, pid);
	}
	if (t->cmd_argv) {
		if (path_arg) {
			p_err("give one target: a PATH, -p PID, or -- CMD ARGS");
			return -EINVAL;
		}
		if (t->cmd_argc < 1) {
			p_err("nothing after '--': give the command to run");
			return -EINVAL;
		}
		ret = find_in_path(t->cmd_argv[0], t->path, sizeof(t->path));
		if (ret == -EACCES && strchr(t->cmd_argv[0], '/') &&
		    !stat(t->path, &st) && !S_ISREG(st.st_mode)) {
			/* found before the command ran, not after the
			 * probes (ktrace, whose CMD need not be Go) */
			p_err("%s: %s, not a command", t->cmd_argv[0],
			      S_ISDIR(st.st_mode) ? "is a directory" :
			      "not a regular file");
			return -ENOEXEC;
		}
		if (ret == -EACCES) {
			/* bad input, not a missing privilege (exit 2, not 3) */
			p_err("%s: not executable (chmod +x it, or run it with "
			      "its interpreter)", t->cmd_argv[0]);
			return -ENOEXEC;
		}
		if (ret) {
			p_err("%s: %s", t->cmd_argv[0], ret == -ENOENT ?
			      "command not found" : strerror(-ret));
			return ret == -ENOENT ? ret : -ENOEXEC;
		}
		t->kind = TARGET_CMD;
		snprintf(t->display, sizeof(t->display), "%s", t->path);
		return 0;
	}
	ret = target__check_given(t, path_arg, pid);
	if (ret)
		return ret;
	if (stat(path_arg, &st)) {
		ret = -errno;
		if (ret != -ENOENT || !pattern_for_target(path_arg))
			p_err("%s: %s", path_arg, strerror(-ret));
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		p_err("%s: is a directory, not a Go binary", path_arg);
		return -EISDIR;
	}
	t->kind = TARGET_PATH;
	snprintf(t->path, sizeof(t->path), "%s", path_arg);
	snprintf(t->display, sizeof(t->display), "%s", path_arg);
	return 0;
}

int target__load_bias(pid_t pid, const struct gobin *gb, uint64_t *bias)
{
	char maps[64], line[PATH_MAX + 128], exe[64];
	struct stat st;
	FILE *f;
	int ret = -ENOENT;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (stat(exe, &st))
		return -errno;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	/* The mapping of file offset 0 of our inode is the first PT_LOAD,
	 * whose page-aligned vaddr is min_vaddr. */
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, off, ino;
		unsigned int maj, min;
		char perms[8];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64
			   " %x:%x %" SCNu64, &start, &end, perms, &off, &maj,
			   &min, &ino) != 7)
			continue;
		if (ino != st.st_ino || off != 0)
			continue;
		*bias = start - gobin__elf(gb)->min_vaddr;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

int target__open_gobin(const struct target *t, struct gobin **gb)
{
	return target__open_gobin_flags(t, 0, gb);
}

int target__open_gobin_flags(const struct target *t, unsigned int flags,
			     struct gobin **gb)
{
	char err[256];
	int ret;

	ret = gobin__open_flags(t->path, flags, gb, err, sizeof(err));
	if (!ret)
		return 0;
	switch (-ret) {
	case ENOPKG:
		p_err("%s: %s; gosnoop reads Go executables only",
		      t->display, err);
		break;
	case EPROTONOSUPPORT:
		p_err("%s: %s; this gosnoop knows pclntab formats up to go1.26: upgrade gosnoop",
		      t->display, err);
		break;
	default:
		p_err("%s: %s", t->display, err);
	}
	return ret;
}
