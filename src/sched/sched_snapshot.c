// SPDX-License-Identifier: MIT
/*
 * The goroutines a process already has when `gosnoop sched -p PID`
 * attaches: a goroutine blocked for the whole trace never passes through
 * casgstatus, so the probe alone would never list it. The runtime keeps
 * every g in runtime.allgs ([]*g, proc.go, every release go1.13..go1.26);
 * we read that slice and each g from /proc/PID/mem and seed the probe's
 * map. The slice is found by its symbol or, stripped, from the code of
 * runtime.allgadd (sched_allgs.c). Entries the probe created meanwhile
 * win (BPF_NOEXIST). With --pprof a parked goroutine's stack is read
 * too (sched_pprof__seed_park).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/sched.h"
#include "gobin/gobin.h"
#include "sched_allgs.h"
#include "sched_pprof.h"
#include "sched_snapshot.h"
#include "target.h"

/* A process with more goroutines than this is read only up to it. */
#define SNAPSHOT_MAX_G (1 << 20)
/* Stripped binaries: addresses runtime.allgadd might keep allgs at. */
#define ALLGS_MAX_CANDIDATES 8
/* A candidate's first goroutines checked to be goroutines. */
#define ALLGS_CHECK_G 8

static int read_at(int fd, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, (off_t)addr);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Where a goroutine parked before the attach goes (--pprof): park_fd
 * (park_stacks) or -1. */
struct park_seed {
	int park_fd;
	bool per_goroutine;
};

static int seed_one(int fd, int map_fd, const struct gobin *gb,
		    const struct park_seed *ps, pid_t pid, uint64_t gp,
		    uint64_t now, size_t *seeded)
{
	const struct gobin_layout *l = gobin__layout(gb);
	int hi = l->g_startpc;
	uint8_t buf[1024];
	struct sched_key key = { .pid = (__u32)pid, .gp = gp };
	struct sched_g v = {};
	uint32_t status;
	uint8_t reason;
	int ret;

	if (l->g_gopc > hi)
		hi = l->g_gopc;
	if (l->g_goid > hi)
		hi = l->g_goid;
	if (hi < 0 || (size_t)hi + 8 > sizeof(buf) || l->g_atomicstatus < 0 ||
	    l->g_waitreason < 0)
		return -EINVAL;
	ret = read_at(fd, gp, buf, (size_t)hi + 8);
	if (ret)
		return ret;
	memcpy(&status, buf + l->g_atomicstatus, 4);
	status &= ~SCHED_G_SCAN;
	if (status == SCHED_G_IDLE || status == SCHED_G_DEAD ||
	    status >= SCHED_NSTATUS)
		return 0;
	memcpy(&v.goid, buf + l->g_goid, 8);
	memcpy(&v.startpc, buf + l->g_startpc, 8);
	memcpy(&v.gopc, buf + l->g_gopc, 8);
	memcpy(&reason, buf + l->g_waitreason, 1);
	v.gp = gp;
	v.first_ns = now;
	v.last_ns = now;
	v.last_state = (uint8_t)status;
	if (status == SCHED_G_WAITING)
		v.last_reason = reason;
	if (bpf_map_update_elem(map_fd, &key, &v, BPF_NOEXIST))
		return 0;	/* the probe saw it first: its entry is newer */
	(*seeded)++;
	/* its park too, or a wake-up in the window would count nothing
	 * (best effort: a stack that cannot be read leaves the wait out,
	 * as before) */
	if (ps->park_fd >= 0 && status == SCHED_G_WAITING)
		sched_pprof__seed_park(ps->park_fd, fd, gb, pid, gp, reason,
				       v.goid, v.startpc, ps->per_goroutine);
	return 0;
}

/*
 * The []*g at addr. check: addr is only a guess, so the slice must be
 * non-empty and its first entries must point at g's with a status the
 * runtime uses; -ERANGE if not.
 */
static int read_allgs(int fd, const struct gobin_layout *l, uint64_t addr,
		      bool check, uint64_t **out, size_t *cnt)
{
	uint64_t hdr[3], *gps;
	size_t n;
	int ret;

	/* a slice header: array pointer, len, cap */
	ret = read_at(fd, addr, hdr, sizeof(hdr));
	if (ret)
		return ret;
	n = hdr[1];
	if (n > hdr[2] || n > SNAPSHOT_MAX_G || (check && (!n || !hdr[0])))
		return -ERANGE;
	gps = calloc(n ? n : 1, sizeof(*gps));
	if (!gps)
		return -ENOMEM;
	ret = read_at(fd, hdr[0], gps, n * sizeof(*gps));
	for (size_t i = 0; !ret && check && i < n && i < ALLGS_CHECK_G; i++) {
		uint32_t status;

		if (!gps[i] || l->g_atomicstatus < 0 ||
		    read_at(fd, gps[i] + (uint64_t)l->g_atomicstatus, &status,
			    sizeof(status)) ||
		    (status & ~SCHED_G_SCAN) >= SCHED_NSTATUS)
			ret = -ERANGE;
	}
	if (ret) {
		free(gps);
		return ret;
	}
	*out = gps;
	*cnt = n;
	return 0;
}

int sched_snapshot__seed(const struct gobin *gb, pid_t pid, int map_fd,
			 uint64_t now, size_t *seeded)
{
	return sched_snapshot__seed_parks(gb, pid, map_fd, -1, false, now,
					  seeded);
}

int sched_snapshot__seed_parks(const struct gobin *gb, pid_t pid, int map_fd,
			       int park_fd, bool per_goroutine, uint64_t now,
			       size_t *seeded)
{
	const struct park_seed ps = { park_fd, per_goroutine };
	const struct gobin_sym *sym = gobin__sym_by_name(gb, "runtime.allgs");
	const struct gobin_layout *l = gobin__layout(gb);
	uint64_t bias = 0, addrs[ALLGS_MAX_CANDIDATES], *gps = NULL;
	size_t n = 0, addr_cnt;
	char path[64];
	int fd, ret = -ENOENT;

	*seeded = 0;
	if (sym) {
		addrs[0] = sym->addr;
		addr_cnt = 1;
	} else {
		addr_cnt = sched_allgs__candidates(gb, addrs,
						    ALLGS_MAX_CANDIDATES);
		if (!addr_cnt)
			return -ENOENT;	/* nothing to read */
	}
	if (gobin__elf(gb)->pie) {
		ret = target__load_bias(pid, gb, &bias);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < addr_cnt; i++) {
		ret = read_allgs(fd, l, addrs[i] + bias, !sym, &gps, &n);
		if (!ret)
			break;
	}
	if (ret == -ERANGE && !sym)
		ret = -ENOENT;	/* no candidate held goroutines */
	for (size_t i = 0; !ret && i < n; i++)
		if (gps[i])
			seed_one(fd, map_fd, gb, &ps, pid, gps[i], now,
				 seeded);
	free(gps);
	close(fd);
	return ret;
}
