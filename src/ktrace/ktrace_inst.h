/* SPDX-License-Identifier: MIT */
/*
 * One ktrace probe's kernel side: an instance of ktrace.bpf.c's skeleton
 * with one program turned on, its rodata (pid/comm filter, g offsets, the
 * probe's fetch ops), loaded, its spec stored, attached. Every instance
 * shares the first one's ring buffer. fentry/fexit are tried for real and
 * fall back to kprobe/kretprobe (ktrace_func.c); many probes are detached
 * in threads (ktrace_detach.c).
 */
#ifndef GOSNOOP_KTRACE_INST_H
#define GOSNOOP_KTRACE_INST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

struct bpf_link;
struct ktrace_bpf;
struct kt_probe;
struct kt_scope;

/* Where a Go target keeps the current goroutine (ktrace.bpf.c go_attr). */
struct kt_go_attr {
	bool on;
	__u64 fsbase_off;
	int64_t tls_g_off;
	int goid_off, startpc_off;
	int g_m_off, m_curg_off;	/* 0: no is-it-a-g check */
};

/* bench/ktrace.py's yardsticks, tp_btf only: an empty program, or one
 * that sends each event as a bare record */
enum kt_bench_prog { KT_PROG_PROBE, KT_PROG_EMPTY, KT_PROG_RECORD_FLOOR };

/* What every instance of one ktrace session is set up with. */
struct kt_inst_cfg {
	pid_t tgid;		/* only this process (and, --follow, its
				 * children); 0: any */
	const char *comm;	/* only tasks with this comm, or NULL */
	struct kt_go_attr ga;
	enum kt_bench_prog bench_prog;
	const struct kt_scope *scope;	/* --follow, --goid, --stack ... */
};

/* One probe's kernel side: its skeleton instance and link. */
struct kt_inst {
	struct ktrace_bpf *skel;
	struct bpf_link *link;
	const char *how;	/* "fentry", "kprobe", ... */
};

/*
 * Open, configure, load and attach probe p (index idx) into in; first:
 * the session's first instance, whose ring buffer it shares (NULL for the
 * first). 0, or -errno after one line naming the probe (-EOPNOTSUPP:
 * neither fentry/fexit nor the kprobe fallback works here).
 */
int kt_inst__setup(struct kt_inst *in, const struct kt_inst_cfg *cfg,
		   int idx, const struct kt_inst *first, struct kt_probe *p);
void kt_inst__free(struct kt_inst *in);
/* Destroy the links of insts[0..n) (the skeletons stay), in threads. */
void kt_inst__detach_all(struct kt_inst *insts, int n);

#endif
