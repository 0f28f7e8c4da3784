// SPDX-License-Identifier: MIT
/*
 * --follow, --goid, --goroutine-func and --stack for `gosnoop ktrace`
 * (ktrace_scope.h). Everything is decided in the kernel: a followed
 * task's children join the `followed` map as they are forked (kt_fork),
 * so that the execve in the child of a Go program's os/exec is seen; a
 * goroutine filter is a lookup of goid or of g.startpc - mm->start_code
 * (the same in every process of one binary, PIE or not) in a hash map.
 * The same start_code, sent with each event of a PIE target, gives user
 * space each process's load bias without /proc.
 */
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "pattern.h"
#include "probe/tracefs.h"
#include "target.h"
#include "ktrace_probe.h"
#include "ktrace_scope.h"
#include "bpf/ktrace.skel.h"

int kt_scope__add_goids(struct kt_scope *s, const char *list)
{
	const char *p = list;

	for (;;) {
		char *end;
		unsigned long long v;
		__u64 *n;

		errno = 0;
		v = strtoull(p, &end, 10);
		/* digits first: strtoull takes " -5" as 2^64 - 5; and none
		 * after a last ',' */
		if (!isdigit((unsigned char)*p) || errno ||
		    (*end && *end != ',')) {
			p_err("bad --goid '%s': give goroutine ids, e.g. "
			      "--goid 1,18", list);
			return -EINVAL;
		}
		if (s->ngoids >= KT_GOSET_MAX) {
			p_err("at most %d goroutine ids", KT_GOSET_MAX);
			return -EINVAL;
		}
		n = realloc(s->goids, (s->ngoids + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->goids = n;
		s->goids[s->ngoids++] = v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* child_pid's offset in sched_process_fork's record, from tracefs. */
static int fork_child_offset(__u32 *off)
{
	struct kt_probe *p = NULL;
	char tracefs[256], err[256];
	int ret;

	ret = tracefs__ensure_mounted(tracefs, sizeof(tracefs));
	if (ret) {
		p_err("--follow needs tracefs: %s", tracefs__strerror(ret));
		return -EOPNOTSUPP;
	}
	ret = kt_probe__parse("tracepoint:sched:sched_process_fork", &p, err,
			      sizeof(err));
	if (!ret)
		ret = kt_tpfmt__load(p, tracefs, err, sizeof(err));
	if (!ret) {
		ret = -ENOENT;
		for (size_t i = 0; i < p->nfields; i++)
			if (!strcmp(p->fields[i].name, "child_pid") &&
			    p->fields[i].size == 4) {
				*off = p->fields[i].offset;
				ret = 0;
			}
		snprintf(err, sizeof(err), "no 4-byte child_pid field");
	}
	kt_probe__free(p);
	if (ret == -EACCES || ret == -EPERM) {	/* tracefs is root's */
		p_err("--follow: sched:sched_process_fork: %s (" PRIV_HINT ")",
		      err);
		return ret;
	}
	if (ret)
		p_err("--follow: sched:sched_process_fork: %s", err);
	return ret ? -EOPNOTSUPP : 0;
}

/*
 * What the kernel makes mm->start_code of this file, less the load bias:
 * the lowest p_vaddr of an executable PT_LOAD (fs/binfmt_elf.c).
 */
static int exec_start_vaddr(const char *path, __u64 *vaddr)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -ENOENT;

	if (fd < 0)
		return -errno;
	*vaddr = UINT64_MAX;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(ph)) {
		close(fd);
		return -ENOEXEC;
	}
	for (int i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		    sizeof(ph))
			break;
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    ph.p_vaddr < *vaddr) {
			*vaddr = ph.p_vaddr;
			ret = 0;
		}
	}
	close(fd);
	return ret;
}

/*
 * --goroutine-func PATTERN: every function whose name matches, and every
 * compiler-made wrapper (`go f(x)`'s main.main.gowrap1) whose callee
 * matches, since g.startpc is the wrapper's entry then; as keys.
 */
static int compile_gofunc(struct kt_scope *s, const struct gobin *gb,
			  const char *path)
{
	char *pat[1] = { (char *)s->gofunc };
	struct patterns pats;
	__u64 base = 0;
	size_t n = gobin__func_cnt(gb);
	int ret;

	ret = exec_start_vaddr(path, &base);
	if (ret) {
		p_err("--goroutine-func: %s: no executable segment (%s)", path,
		      strerror(-ret));
		return -EINVAL;
	}
	ret = patterns__init(&pats, pat, 1);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const struct gobin_func *f = gobin__func(gb, i), *callee;
		bool hit = patterns__match(&pats, f->name);
		__u64 *k;

		if (!hit && (strstr(f->name, "wrap") ||
			     strstr(f->name, ".func")) &&
		    !gobin__wrapper_callee(gb, f, &callee, NULL) && callee)
			hit = patterns__match(&pats, callee->name);
		if (!hit)
			continue;
		if (s->ngofunc >= KT_GOSET_MAX) {
			p_err("--goroutine-func '%s' matches more than %d "
			      "functions; narrow it", s->gofunc, KT_GOSET_MAX);
			ret = -EINVAL;
			break;
		}
		k = realloc(s->gofunc_keys, (s->ngofunc + 1) * sizeof(*k));
		if (!k) {
			ret = -ENOMEM;
			break;
		}
		s->gofunc_keys = k;
		s->gofunc_keys[s->ngofunc++] = f->entry - base;
	}
	patterns__free(&pats);
	if (!ret && !s->ngofunc) {
		p_err("--goroutine-func '%s' matches no function of %s (gosnoop "
		      "list %s PATTERN shows them)", s->gofunc, path, path);
		ret = -EINVAL;
	}
	if (!ret)
		p_info("--goroutine-func '%s': %zu start functions", s->gofunc,
		       s->ngofunc);
	return ret;
}

/*
 * A PIE target: each event carries its process's mm->start_code, and its
 * load bias is start_code less the executable segment's p_vaddr, with no
 * /proc read that an exec or an exit can beat (a --follow child read
 * after its exec, a PATH target's process gone). Else /proc, as before.
 */
static void pie_bias_from_kernel(struct kt_scope *s, bool go_attr,
				 const struct gobin *gb, const char *path,
				 const struct btf *btf)
{
	if (!go_attr || !gb || !gobin__elf(gb)->pie || !btf ||
	    exec_start_vaddr(path, &s->exec_vaddr) ||
	    kt_btf__mm_offsets(btf, &s->task_mm_off, &s->mm_start_code_off))
		return;
	s->bias_from_event = true;
}

int kt_scope__prepare(struct kt_scope *s, bool cmd, bool pid, bool go_attr,
		      const struct gobin *gb, const char *path,
		      const struct btf *btf)
{
	int ret;

	s->follow = s->follow_opt == KT_FOLLOW_ON ||
		    (s->follow_opt == KT_FOLLOW_DEFAULT && cmd);
	if (s->follow && !cmd && !pid) {
		p_err("--follow follows processes: give -p PID, -- CMD, a PATH "
		      "or -c COMM");
		return -EINVAL;
	}
	if (s->follow && (ret = fork_child_offset(&s->fork_child_off)))
		return ret;
	pie_bias_from_kernel(s, go_attr, gb, path, btf);
	if (!s->ngoids && !s->gofunc)
		return 0;
	if (!go_attr) {
		p_err("--goid and --goroutine-func need a Go target whose "
		      "goroutines can be read (-p PID, -- CMD or PATH of a Go "
		      "program; see 'gosnoop info' and -v)");
		return -EINVAL;
	}
	if (!s->gofunc)
		return 0;
	if (!btf || (!s->mm_start_code_off &&
		     kt_btf__mm_offsets(btf, &s->task_mm_off,
					&s->mm_start_code_off))) {
		p_err("--goroutine-func needs task_struct.mm and "
		      "mm_struct.start_code from kernel BTF");
		return -EOPNOTSUPP;
	}
	return compile_gofunc(s, gb, path);
}

int kt_scope__reserve_stacks(const struct kt_scope *s, struct kt_probe *p)
{
	__u32 off = (p->spec.data_len + 7) & ~7u;

	if (!s->stack_kinds || p->stack_kinds)
		return 0;
	if (off + 2 * KT_STACK_AREA > KT_DATA_MAX)
		return -E2BIG;
	p->stack_kinds = s->stack_kinds;
	p->kstack_off = off;
	p->ustack_off = off + KT_STACK_AREA;
	p->spec.data_len = off + 2 * KT_STACK_AREA;
	return 0;
}

int kt_scope__configure(const struct kt_scope *s, struct ktrace_bpf *skel,
			const struct ktrace_bpf *first,
			const struct kt_probe *p)
{
	struct ktrace_bpf__rodata *ro = skel->rodata;
	int err;

	ro->follow = s->follow;
	ro->fork_child_off = s->fork_child_off;
	ro->goid_filter = s->ngoids > 0;
	ro->gofunc_filter = s->ngofunc > 0;
	ro->task_mm_off = s->task_mm_off;
	ro->mm_start_code_off = s->mm_start_code_off;
	ro->stack_kinds = p->stack_kinds;
	ro->kstack_off = p->kstack_off;
	ro->ustack_off = p->ustack_off;
	if (first) {
		/* one of each map for all probes */
		err = bpf_map__reuse_fd(skel->maps.followed,
					bpf_map__fd(first->maps.followed));
		if (!err)
			err = bpf_map__reuse_fd(skel->maps.goids,
					bpf_map__fd(first->maps.goids));
		if (!err)
			err = bpf_map__reuse_fd(skel->maps.gofuncs,
					bpf_map__fd(first->maps.gofuncs));
		return err;
	}
	/* unused maps: one entry, not KT_FOLLOW_MAX preallocated */
	if (!s->follow)
		bpf_map__set_max_entries(skel->maps.followed, 1);
	if (!s->ngoids)
		bpf_map__set_max_entries(skel->maps.goids, 1);
	if (!s->ngofunc)
		bpf_map__set_max_entries(skel->maps.gofuncs, 1);
	bpf_program__set_autoload(skel->progs.kt_fork, s->follow);
	bpf_program__set_autoload(skel->progs.kt_exit, s->follow);
	return 0;
}

static int fill(struct bpf_map *map, const void *keys, size_t ksize,
		size_t n)
{
	__u8 one = 1;

	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(bpf_map__fd(map),
					(const char *)keys + i * ksize, &one,
					BPF_ANY))
			return -errno;
	return 0;
}

/* pid's parent from /proc/PID/stat ("pid (comm) S ppid ...", comm may
 * hold ')' and spaces); 0 when it is gone. */
static pid_t proc_ppid(pid_t pid)
{
	char buf[512];
	const char *p = target__proc_stat(pid, buf, sizeof(buf));

	if (!p || !p[0] || p[1] != ' ')
		return 0;
	return (pid_t)strtol(p + 2, NULL, 10);
}

struct proc_pair {
	pid_t pid, ppid;
};

/* Every process and its parent, from /proc; -errno. */
static int read_procs(struct proc_pair **out, size_t *cnt)
{
	DIR *d = opendir("/proc");
	struct proc_pair *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10), ppid;

		if (pid <= 0 || !(ppid = proc_ppid(pid)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = (struct proc_pair){ pid, ppid };
	}
	closedir(d);
	*out = v;
	*cnt = n;
	return 0;
}

static bool followed_has(int fd, pid_t pid)
{
	__u32 k = (__u32)pid;
	__u8 v;

	return !bpf_map_lookup_elem(fd, &k, &v);
}

/*
 * --follow -p PID: the processes PID had forked before kt_fork was
 * attached (children, their children: strace -f -p does the same); the
 * forks since are kt_fork's. /proc is read again until a pass adds no
 * one (one forked by a process not yet added, during a pass, is in the
 * next). 0 or -errno.
 */
static int follow_existing(int fd)
{
	for (int pass = 0; pass < 8; pass++) {
		struct proc_pair *v = NULL;
		size_t n = 0, added = 0;
		bool more = true;
		int err = read_procs(&v, &n);

		if (err)
			return err;
		while (more) {		/* parents first, whatever the order */
			more = false;
			for (size_t i = 0; i < n; i++) {
				__u32 k = (__u32)v[i].pid;
				__u8 one = 1;

				if (followed_has(fd, v[i].pid) ||
				    !followed_has(fd, v[i].ppid))
					continue;
				if (bpf_map_update_elem(fd, &k, &one, BPF_ANY)) {
					err = -errno;
					free(v);
					if (err == -E2BIG)
						p_warn("--follow: more than %d processes: the rest of those forked before are not followed",
						       KT_FOLLOW_MAX);
					return err == -E2BIG ? 0 : err;
				}
				added++;
				more = true;
			}
		}
		free(v);
		if (!added)
			return 0;
	}
	return 0;
}

int kt_scope__start(struct kt_scope *s, struct ktrace_bpf *first,
		    pid_t tgid)
{
	__u32 t = (__u32)tgid;
	int err;

	err = fill(first->maps.goids, s->goids, sizeof(*s->goids), s->ngoids);
	if (!err)
		err = fill(first->maps.gofuncs, s->gofunc_keys,
			   sizeof(*s->gofunc_keys), s->ngofunc);
	if (!err && s->follow && tgid > 0)
		err = fill(first->maps.followed, &t, sizeof(t), 1);
	if (err) {
		p_err("cannot fill the goroutine/follow maps: %s",
		      strerror(-err));
		return err;
	}
	if (!s->follow)
		return 0;
	s->fork_link = bpf_program__attach(first->progs.kt_fork);
	if (s->fork_link)
		s->exit_link = bpf_program__attach(first->progs.kt_exit);
	if (!s->fork_link || !s->exit_link) {
		err = -errno;
		p_err("--follow: cannot attach to sched:sched_process_fork/"
		      "exit: %s", strerror(-err));
		return err;
	}
	if (tgid > 0) {
		err = follow_existing(bpf_map__fd(first->maps.followed));
		if (err) {
			p_err("--follow: cannot add the processes %d forked before: %s",
			      (int)tgid, strerror(-err));
			return err;
		}
	}
	return 0;
}

void kt_scope__free(struct kt_scope *s)
{
	bpf_link__destroy(s->exit_link);
	bpf_link__destroy(s->fork_link);
	s->exit_link = s->fork_link = NULL;
	free(s->goids);
	free(s->gofunc_keys);
	s->goids = s->gofunc_keys = NULL;
	s->ngoids = s->ngofunc = 0;
}

void kt_scope__report(const struct kt_scope *s, const struct ktrace_bpf *first)
{
	__u64 missed;

	if (!s->follow || !first || !first->bss)
		return;
	missed = first->bss->stats[KT_STAT_FOLLOW_FULL];
	if (missed)
		p_warn("--follow: %llu forked tasks not followed (more than %d "
		       "tasks at once)", (unsigned long long)missed,
		       KT_FOLLOW_MAX);
}
