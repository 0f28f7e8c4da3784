// SPDX-License-Identifier: MIT
/*
 * sched --pprof (see sched_pprof.h): the `blocked` map (waits that ended,
 * per pid, reason and stack) and the stacks of goroutines still parked
 * (park_stacks, with the goroutine's last change in `goroutines`) into a
 * profile.proto file. Stacks are run-time addresses: a PIE's are moved
 * back to file addresses with the bias sched_report learnt while the
 * process lived.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gobin/gobin.h"
#include "pprof.h"
#include "bpf/sched.skel.h"
#include "sched_int.h"
#include "sched_pprof.h"

int sched_pprof__configure(struct sched_bpf *skel, const struct gobin *gb,
			   const char *display, bool per_goroutine)
{
	const struct gobin_layout *l = gobin__layout(gb);

	if (!l || l->g_stack_lo < 0 || l->g_stack_hi < 0 ||
	    l->g_sched_pc < 0 || l->g_sched_bp < 0) {
		p_err("--pprof: where %s's runtime keeps g.sched and g.stack is unknown (no DWARF, no table row for its Go release); run without --pprof",
		      display);
		return -EOPNOTSUPP;
	}
	skel->rodata->pprof_enabled = true;
	skel->rodata->pprof_per_goroutine = per_goroutine;
	skel->rodata->off_stack_lo = l->g_stack_lo;
	skel->rodata->off_stack_hi = l->g_stack_hi;
	skel->rodata->off_sched_pc = l->g_sched_pc;
	skel->rodata->off_sched_bp = l->g_sched_bp;
	return 0;
}

/* Whether --goid / --start keep k's goroutine (every wait without them:
 * then k holds no goroutine, sched_pprof__configure). */
static bool wanted(struct sched_report *rep, const struct sched_block_key *k)
{
	return sched_goid_wanted(rep, k->goid) &&
	       sched_start_wanted(rep, (pid_t)k->pid, k->startpc);
}

/* The label wait= of a sample (NULL: none): still going at the end, or
 * ended but begun before the attach (its time counted from the attach). */
#define WAIT_IN_PROGRESS	"in progress"
#define WAIT_BEFORE_ATTACH	"began before attach"

/* One sample: leaf "wait: REASON", then the parked stack (none for a
 * goroutine --goid / --start leave out: 0). */
static int add_wait(struct pprof *pp, struct sched_report *rep,
		    const struct gobin *gb, const struct sched_block_key *k,
		    uint64_t count, uint64_t ns, const char *wait_label,
		    uint64_t *waits)
{
	uint64_t locs[SCHED_STACK_MAX + 1], bias = 0;
	struct pid_bias *pb = sched_pid_info(rep, (pid_t)k->pid);
	const char *reason = sched_reason_name(rep, k->reason);
	struct pprof_label labels[2] = {
		{ .key = "reason", .str = reason },
		{ .key = "wait", .str = wait_label },
	};
	int64_t values[2] = { (int64_t)count, (int64_t)ns };
	char leaf[96];
	struct pprof_line line = { leaf, NULL, 0 };
	uint32_t depth = k->depth < SCHED_STACK_MAX ? k->depth
						    : SCHED_STACK_MAX;
	size_t n = 0;
	int64_t id;

	if (!wanted(rep, k))
		return 0;
	*waits += count;
	if (pb && pb->ok)
		bias = pb->bias;
	snprintf(leaf, sizeof(leaf), "wait: %s", reason);
	id = pprof__location(pp, 0, &line, 1);
	if (id < 0)
		return (int)id;
	locs[n++] = (uint64_t)id;
	for (uint32_t i = 0; i < depth; i++) {
		uint64_t pc = k->pcs[i] >= bias ? k->pcs[i] - bias : k->pcs[i];

		/* outside Go's code the frame-pointer chain has left the
		 * goroutine's frames (a stale bp above runtime.main in
		 * go1.13, C code): the rest is not a stack */
		if (!gobin__func_at(gb, pc - 1))
			break;
		id = pprof__go_location(pp, gb, pc, true);
		if (id < 0)
			return (int)id;
		locs[n++] = (uint64_t)id;
	}
	return pprof__add_sample(pp, locs, n, values, labels,
				 wait_label ? 2 : 1);
}

static int add_ended(struct pprof *pp, struct sched_bpf *skel,
		     struct sched_report *rep, const struct gobin *gb,
		     uint64_t *waits)
{
	int fd = bpf_map__fd(skel->maps.blocked), err;
	struct sched_block_key key, next, *prev = NULL;
	struct sched_block_val v;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &v)) {
			err = add_wait(pp, rep, gb, &next, v.count, v.ns,
				       next.flags & SCHED_BLOCK_BEFORE_ATTACH ?
				       WAIT_BEFORE_ATTACH : NULL, waits);
			if (err)
				return err;
		}
		key = next;
		prev = &key;
	}
	return 0;
}

static int read_word(int fd, uint64_t addr, uint64_t *v)
{
	return pread(fd, v, sizeof(*v), (off_t)addr) == sizeof(*v) ? 0 : -EIO;
}

/*
 * The stack of goroutine gp of a live process, parked before we attached
 * (so the program never saw it park): the walk park_stack does in BPF,
 * through mem_fd (/proc/PID/mem). gp.sched is stable while it stays
 * parked.
 */
static int walk_parked_stack(int mem_fd, uint64_t gp, const struct gobin *gb,
			     struct sched_block_key *k)
{
	const struct gobin_layout *l = gobin__layout(gb);
	uint64_t lo, hi, pc, bp, frame[2];
	int err;

	err = read_word(mem_fd, gp + (uint64_t)l->g_stack_lo, &lo) ?:
	      read_word(mem_fd, gp + (uint64_t)l->g_stack_hi, &hi) ?:
	      read_word(mem_fd, gp + (uint64_t)l->g_sched_pc, &pc) ?:
	      read_word(mem_fd, gp + (uint64_t)l->g_sched_bp, &bp);
	k->depth = 0;
	if (!err && pc)
		k->pcs[k->depth++] = pc;
	while (!err && k->depth < SCHED_STACK_MAX && bp >= lo && bp + 16 <= hi &&
	       pread(mem_fd, frame, sizeof(frame), (off_t)bp) == sizeof(frame) &&
	       frame[1]) {
		k->pcs[k->depth++] = frame[1];
		if (frame[0] <= bp)
			break;
		bp = frame[0];
	}
	return err;
}

static int read_parked_stack(pid_t pid, uint64_t gp, const struct gobin *gb,
			     struct sched_block_key *k)
{
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = walk_parked_stack(fd, gp, gb, k);
	close(fd);
	return err;
}

int sched_pprof__seed_park(int park_fd, int mem_fd, const struct gobin *gb,
			   pid_t pid, uint64_t gp, uint8_t reason,
			   uint64_t goid, uint64_t startpc, bool per_goroutine)
{
	struct sched_key key = { .pid = (__u32)pid, .gp = gp };
	struct sched_park park;
	int err;

	memset(&park, 0, sizeof(park));	/* the map key is the whole struct */
	park.k.pid = (__u32)pid;
	park.k.reason = reason;
	park.k.flags = SCHED_BLOCK_BEFORE_ATTACH;
	if (per_goroutine) {
		park.k.goid = goid;
		park.k.startpc = startpc;
	}
	err = walk_parked_stack(mem_fd, gp, gb, &park.k);
	if (err)
		return err;
	park.parked = 1;
	/* a park the probe has seen since is newer: it stays */
	if (bpf_map_update_elem(park_fd, &key, &park, BPF_NOEXIST))
		return errno == EEXIST ? 0 : -errno;
	return 0;
}

/* Goroutines waiting since before the attach (-p): their stacks from the
 * process, their wait from the attach to the end. */
static int add_parked_before(struct pprof *pp, struct sched_bpf *skel,
			     struct sched_report *rep, const struct gobin *gb,
			     uint64_t end_ns, uint64_t *waits)
{
	int gfd = bpf_map__fd(skel->maps.goroutines);
	int pfd = bpf_map__fd(skel->maps.park_stacks), err;
	struct sched_key key, next, *prev = NULL;
	struct sched_block_key k;
	struct sched_park park;
	struct sched_g g;

	while (!bpf_map_get_next_key(gfd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(gfd, &next, &g) ||
		    g.last_state != SCHED_G_WAITING || g.last_ns >= end_ns ||
		    (!bpf_map_lookup_elem(pfd, &next, &park) && park.parked))
			continue;
		memset(&k, 0, sizeof(k));
		k.pid = next.pid;
		k.reason = g.last_reason;
		k.goid = g.goid;
		k.startpc = g.startpc;
		if (read_parked_stack((pid_t)next.pid, next.gp, gb, &k))
			continue;	/* gone with its process */
		err = add_wait(pp, rep, gb, &k, 1, end_ns - g.last_ns,
			       WAIT_IN_PROGRESS, waits);
		if (err)
			return err;
	}
	return 0;
}

/* Goroutines parked at the end: the wait so far, up to end_ns or the
 * end of their process. */
static int add_in_progress(struct pprof *pp, struct sched_bpf *skel,
			   struct sched_report *rep, const struct gobin *gb,
			   uint64_t end_ns, uint64_t *waits)
{
	int fd = bpf_map__fd(skel->maps.park_stacks);
	int gfd = bpf_map__fd(skel->maps.goroutines), err;
	struct sched_key key, next, *prev = NULL;
	struct sched_park park;
	struct sched_g g;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &park) && park.parked &&
		    !bpf_map_lookup_elem(gfd, &next, &g) &&
		    g.last_state == SCHED_G_WAITING) {
			struct pid_bias *pb = sched_pid_info(rep, (pid_t)next.pid);
			uint64_t end = end_ns;

			if (pb && pb->exit_ns && pb->exit_ns < end)
				end = pb->exit_ns;
			if (end > g.last_ns) {
				err = add_wait(pp, rep, gb, &park.k, 1,
					       end - g.last_ns,
					       WAIT_IN_PROGRESS, waits);
				if (err)
					return err;
			}
		}
		key = next;
		prev = &key;
	}
	return 0;
}

int sched_pprof__write(struct sched_bpf *skel, struct sched_report *rep,
		       const struct gobin *gb, const char *binpath,
		       uint64_t start_ns, uint64_t end_ns, const char *path)
{
	static const struct pprof_value_type types[] = {
		{ "waits", "count" }, { "delay", "nanoseconds" },
	};
	struct pprof *pp = pprof__new(types, 2);
	uint64_t ended = 0, open_waits = 0;
	struct timespec now;
	char note[160];
	int err;

	if (!pp) {
		p_err("--pprof %s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	pprof__set_time(pp, (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec -
			    (int64_t)(end_ns - start_ns),
			(int64_t)(end_ns - start_ns));
	err = pprof__go_mapping(pp, gb, binpath);
	if (!err)
		err = add_ended(pp, skel, rep, gb, &ended);
	if (!err)
		err = add_in_progress(pp, skel, rep, gb, end_ns, &open_waits);
	if (!err)
		err = add_parked_before(pp, skel, rep, gb, end_ns, &open_waits);
	if (!err) {
		snprintf(note, sizeof(note),
			 "gosnoop sched: goroutine waits by reason and parked stack (%llu ended, %llu in progress at the end)",
			 (unsigned long long)ended,
			 (unsigned long long)open_waits);
		err = pprof__add_comment(pp, note);
	}
	if (!err)
		err = pprof__write(pp, path);
	if (skel->bss->stats[SCHED_STAT_STACKS_LOST])
		p_warn("--pprof: %llu waits left out of the profile (more than %d different stacks, or %d parked goroutines)",
		       (unsigned long long)skel->bss->stats[SCHED_STAT_STACKS_LOST],
		       SCHED_MAX_BLOCK_STACKS, SCHED_MAX_GOROUTINES);
	if (err)
		p_err("cannot write the profile %s: %s", path, strerror(-err));
	else
		p_info("--pprof %s: %zu stacks, %llu waits ended, %llu in progress",
		       path, pprof__sample_cnt(pp), (unsigned long long)ended,
		       (unsigned long long)open_waits);
	pprof__free(pp);
	return err;
}
