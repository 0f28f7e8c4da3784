// SPDX-License-Identifier: MIT
/*
 * Kernel capability probes that run BPF (see features.h; the system
 * facts are in features.c). Each BPF probe follows the libbpf life cycle
 * on its own copy of the doctor skeleton: open -> turn autoload on for
 * exactly one program -> load -> attach -> trigger from this process ->
 * read the program's counter -> destroy. A failure is reported with the
 * step (open/load/attach/trigger) and the errno name, because "EPERM at
 * load" and "ENOENT at attach" mean different things.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/doctor.h"
#include "bpf/doctor.skel.h"
#include "features_int.h"
#include "tracefs.h"
#include "uprobe_multi.h"

#define KPROBE_PMU_PATH "/sys/bus/event_source/devices/kprobe"
#define FENTRY_TARGET "do_nanosleep"	/* as in doctor.bpf.c */

/* ------------------------------------------------------------ triggers */

/*
 * Functions the uprobe probes attach to, in this very binary. Different
 * bodies so that identical-code folding cannot merge them; called through
 * volatile pointers so that they are never inlined or elided.
 */
volatile int gosnoop_doctor_sink;
volatile __u64 gosnoop_doctor_write_target;

__attribute__((noinline, noclone)) void gosnoop_doctor_trigger1(void)
{
	gosnoop_doctor_sink = 1;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline, noclone)) void gosnoop_doctor_trigger2(void)
{
	gosnoop_doctor_sink = 2;
	__asm__ volatile("" ::: "memory");
}

static void (*volatile trigger1)(void) = gosnoop_doctor_trigger1;
static void (*volatile trigger2)(void) = gosnoop_doctor_trigger2;

/* Some syscalls from this process: sys_enter fires for each. */
static void trigger_getpid(int times)
{
	for (int i = 0; i < times; i++)
		syscall(SYS_getpid);
}

/* nanosleep(2) runs do_nanosleep(), the fentry/fexit/kprobe target. */
static void trigger_nanosleep(int times)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000 };

	for (int i = 0; i < times; i++)
		nanosleep(&ts, NULL);
}

/* File offset of code at addr in this process, as uprobes want it. */
int features__self_file_offset(const void *addr, unsigned long *off)
{
	uintptr_t a = (uintptr_t)addr;
	unsigned long start, end, pgoff;
	char *line = NULL, perms[8];
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx %7s %lx", &start, &end, perms,
			   &pgoff) != 4)
			continue;
		if (a < start || a >= end)
			continue;
		if (perms[2] != 'x') {
			err = -EINVAL;
			break;
		}
		*off = a - start + pgoff;
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

/* ------------------------------------------------------------ loading */

struct one_prog {
	struct doctor_bpf *skel;
	struct bpf_program *prog;
	const char *step;	/* failing step: "open", "load", "attach" */
	char log[16384];	/* verifier log of a failed load */
};

/*
 * The verifier's reason, from its log: the last line that is not an
 * instruction dump or a statistics line ("unknown func
 * bpf_probe_write_user#36").
 */
static void log_reason(const char *log, char *out, size_t len)
{
	const char *p = log, *nl;
	size_t n;

	out[0] = '\0';
	while (*p) {
		nl = strchrnul(p, '\n');
		n = nl - p;
		if (n && !(p[0] >= '0' && p[0] <= '9') && p[0] != ';' &&
		    strncmp(p, "processed ", 10) != 0 &&
		    strncmp(p, "verification time", 17) != 0 &&
		    strncmp(p, "stack depth", 11) != 0 &&
		    strncmp(p, "func#", 5) != 0 &&
		    strncmp(p, "reg type unsupported", 20) != 0) {
			if (n >= len)
				n = len - 1;
			memcpy(out, p, n);
			out[n] = '\0';
		}
		p = *nl ? nl + 1 : nl;
	}
}

static void one_prog_free(struct one_prog *op)
{
	doctor_bpf__destroy(op->skel);
	op->skel = NULL;
}

/* open -> autoload only prog_name -> load. Returns 0 or -errno. */
static int load_one(struct one_prog *op, const char *prog_name,
		    bool with_ringbuf, int expected_attach_type)
{
	struct bpf_program *p;
	int err;

	memset(op, 0, sizeof(*op));
	op->step = "open";
	op->skel = doctor_bpf__open();
	if (!op->skel)
		return errno ? -errno : -ENOMEM;

	op->skel->rodata->target_tgid = getpid();
	op->skel->rodata->write_addr =
		(__u64)(uintptr_t)&gosnoop_doctor_write_target;
	bpf_object__for_each_program(p, op->skel->obj)
		bpf_program__set_autoload(p, false);
	op->prog = bpf_object__find_program_by_name(op->skel->obj, prog_name);
	if (!op->prog)
		return -ENOENT;
	bpf_program__set_autoload(op->prog, true);
	bpf_program__set_log_buf(op->prog, op->log, sizeof(op->log));
	if (expected_attach_type >= 0)
		bpf_program__set_expected_attach_type(op->prog,
						      expected_attach_type);
	bpf_map__set_autocreate(op->skel->maps.doctor_events, with_ringbuf);

	op->step = "load";
	err = doctor_bpf__load(op->skel);
	if (err)
		return err < 0 ? err : -err;
	op->step = "attach";
	return 0;
}

/* "EPERM at load: Operation not permitted[: verifier reason]" */
static void describe_failure(struct feature *f, const struct one_prog *op,
			     int err, const char *what)
{
	char reason[128] = "";

	if (strcmp(op->step, "load") == 0)
		log_reason(op->log, reason, sizeof(reason));
	f->status = status_of(err);
	f->err = err;
	set_detail(f, "%s at %s%s%s: %s%s%s", features__errno_name(err),
		   op->step, what ? " of " : "", what ? what : "",
		   errno_text(err), reason[0] ? "; verifier: " : "", reason);
	if (err == -EPERM || err == -EACCES) {
		size_t n = strlen(f->detail);

		snprintf(f->detail + n, sizeof(f->detail) - n, "%s",
			 eperm_hint());
	}
}

static __u64 read_hits(const struct one_prog *op, int slot)
{
	return ((volatile __u64 *)op->skel->bss->hits)[slot];
}

/* Attach the loaded program as a classic uprobe on trigger1. */
static int attach_uprobe_trigger1(struct one_prog *op, struct bpf_link **link)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uopts, .retprobe = false);
	unsigned long off;
	int err;

	err = features__self_file_offset(
		(const void *)gosnoop_doctor_trigger1, &off);
	if (err)
		return err;
	*link = bpf_program__attach_uprobe_opts(op->prog, getpid(), SELF_EXE,
						off, &uopts);
	if (!*link)
		return errno ? -errno : -EINVAL;
	return 0;
}

/* ------------------------------------------------------------ uprobe */

/*
 * Doctor's uprobes sit in gosnoop's own code, found through /proc/self:
 * without /proc mounted they cannot be tried, which says nothing about
 * the kernel ("missing" would be a lie; -p and -- CMD need /proc anyway).
 */
static bool no_proc(struct feature *f)
{
	if (!access("/proc/self/maps", R_OK))
		return false;
	f->status = FEATURE_STATUS_UNTESTED;
	f->err = -ENOENT;
	set_detail(f, "cannot be tried: /proc is not mounted "
		   "(mount -t proc proc /proc)");
	return true;
}

/* Append to f's detail (cut at its size). */
static void add_detail(struct feature *f, const char *text)
{
	size_t n = strlen(f->detail);

	snprintf(f->detail + n, sizeof(f->detail) - n, "%s", text);
}

/*
 * A perf uprobe that failed: why, when a capability explains it, and
 * what gosnoop has instead (or that it has nothing: then this is the
 * core failure doctor reports).
 */
static void explain_uprobe_failure(struct feature *f, bool multi)
{
	int um;

	if ((f->err == -EACCES || f->err == -EPERM) && feat_can_trace() &&
	    !feat_sys_admin())
		add_detail(f, "; a perf uprobe event needs CAP_SYS_ADMIN on "
			   "this kernel (upstream ba677dbe77af, 2025)");
	if (multi)
		return;
	um = uprobe_multi__probe();
	if (!um)
		add_detail(f, "; uprobe_multi links (CAP_BPF and CAP_PERFMON "
			   "suffice) are turned off by GOSNOOP_CLASSIC_UPROBES");
	else if (um == -EINVAL)
		add_detail(f, "; and no uprobe_multi links instead: the kernel "
			   "has none (Linux 6.6+)");
	else {
		char text[96];

		snprintf(text, sizeof(text), "; and no uprobe_multi links "
			 "instead: %s", features__errno_name(um));
		add_detail(f, text);
	}
}

void feat_probe_uprobe(struct feature *f)
{
	struct one_prog *op = calloc(1, sizeof(*op));
	struct bpf_link *link = NULL;
	bool multi = uprobe_multi__chosen();
	__u64 hits;
	int err;

	if (multi)
		set_impact(f, "not needed here: Go function probes attach "
			   "through uprobe_multi (below)");
	else
		set_impact(f, "gosnoop cannot probe Go functions: core "
			   "feature");
	if (no_proc(f)) {
		free(op);
		return;
	}
	if (!op) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = -ENOMEM;
		set_detail(f, "out of memory");
		return;
	}
	err = load_one(op, "doctor_uprobe", false, -1);
	if (!err)
		err = attach_uprobe_trigger1(op, &link);
	if (err) {
		describe_failure(f, op, err, NULL);
		explain_uprobe_failure(f, multi);
		goto out;
	}
	for (int i = 0; i < 3; i++)
		trigger1();
	hits = read_hits(op, DOCTOR_SLOT_UPROBE);
	if (hits != 3) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -EIO;
		set_detail(f, "attached, but fired %llu times for 3 calls",
			   (unsigned long long)hits);
		goto out;
	}
	set_ok(f);
	set_detail(f, "perf_event uprobe on %s fired 3/3 times", SELF_EXE);
	set_impact(f, "Go function probes work");
out:
	bpf_link__destroy(link);
	one_prog_free(op);
	free(op);
}

/* ------------------------------------------------------------ uprobe_multi */

void feat_probe_uprobe_multi(struct feature *f)
{
	struct one_prog *op = NULL;
	unsigned long offs[2];
	const __u64 cookies[2] = { 1, 2 };
	volatile __u64 *by_cookie;
	int err, link_fd = -1;

	set_impact(f, "many-function probes fall back to one perf uprobe "
		   "each (slow: ~0.1 s per function to detach here)");
	err = uprobe_multi__probe();
	if (err) {
		f->status = status_of(err);
		f->err = err;
		if (err == -EINVAL)
			set_detail(f, "EINVAL at link create: the kernel has no "
				   "BPF_TRACE_UPROBE_MULTI links");
		else
			set_detail(f, "%s in the support probe (trivial program "
				   "+ link on \"/\"): %s%s",
				   features__errno_name(err), errno_text(err),
				   err == -EPERM ? eperm_hint() : "");
		return;
	}

	if (no_proc(f))
		return;
	op = calloc(1, sizeof(*op));
	if (!op) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = -ENOMEM;
		set_detail(f, "out of memory");
		return;
	}
	err = load_one(op, "doctor_uprobe_multi", false,
		       UPROBE_MULTI__ATTACH_TYPE);
	if (!err)
		err = features__self_file_offset(
			(const void *)gosnoop_doctor_trigger1, &offs[0]);
	if (!err)
		err = features__self_file_offset(
			(const void *)gosnoop_doctor_trigger2, &offs[1]);
	if (!err)
		err = uprobe_multi__attach(bpf_program__fd(op->prog), SELF_EXE,
					   offs, cookies, 2, getpid(),
					   &link_fd);
	if (err) {
		describe_failure(f, op, err, NULL);
		goto out;
	}
	trigger1();
	trigger2();
	trigger2();
	by_cookie = op->skel->bss->hits_by_cookie;
	if (by_cookie[1] != 1 || by_cookie[2] != 2) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -EIO;
		set_detail(f, "link created, but hits by cookie 1/2 are %llu/%llu"
			   " (want 1/2)", (unsigned long long)by_cookie[1],
			   (unsigned long long)by_cookie[2]);
		goto out;
	}
	set_ok(f);
	set_detail(f, "raw BPF_LINK_CREATE, attach type %d: one link, 2 "
		   "offsets, cookies 1/2 fired 1/2 times",
		   UPROBE_MULTI__ATTACH_TYPE);
	set_impact(f, "many Go functions attach and detach in milliseconds");
out:
	if (link_fd >= 0)
		close(link_fd);
	one_prog_free(op);
	free(op);
}

/* ------------------------------------------------------------ ringbuf */

struct rb_seen {
	int records;
	bool good;
};

static int on_rb_record(void *ctx, void *data, size_t size)
{
	struct rb_seen *seen = ctx;
	struct doctor_rb_event ev;

	seen->records++;
	if (size < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	if (ev.magic == DOCTOR_RB_MAGIC && ev.tgid == (__u32)getpid())
		seen->good = true;
	return 0;
}

void feat_probe_ringbuf(struct feature *f)
{
	struct one_prog *op = NULL;
	struct bpf_link *link = NULL;
	struct ring_buffer *rb = NULL;
	struct rb_seen seen = {};
	long page = sysconf(_SC_PAGESIZE);
	int fd, err;

	set_impact(f, "events cannot reach user space: core feature");
	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "gosnoop_rbprobe", 0, 0,
			    page > 0 ? page : 4096, NULL);
	if (fd < 0) {
		err = -errno;
		f->status = status_of(err);
		f->err = err;
		set_detail(f, "%s at map create: %s%s", features__errno_name(err),
			   errno_text(err), err == -EPERM ? eperm_hint() : "");
		return;
	}
	close(fd);

	/* Delivery: a uprobe program sends one record to us. */
	op = calloc(1, sizeof(*op));
	if (!op) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = -ENOMEM;
		set_detail(f, "out of memory");
		return;
	}
	err = load_one(op, "doctor_ringbuf", true, -1);
	if (!err)
		err = attach_uprobe_trigger1(op, &link);
	if (err) {
		/* The map works; only the carrier failed (see uprobe). */
		set_ok(f);
		set_detail(f, "map created; delivery not checked: %s at %s of "
			   "the uprobe carrying it", features__errno_name(err),
			   op->step);
		set_impact(f, "ring buffer available");
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(op->skel->maps.doctor_events),
			      on_rb_record, &seen, NULL);
	if (!rb) {
		err = errno ? -errno : -EINVAL;
		f->status = status_of(err);
		f->err = err;
		set_detail(f, "%s at mmap of the ring buffer: %s",
			   features__errno_name(err), errno_text(err));
		goto out;
	}
	trigger1();
	ring_buffer__poll(rb, 500);
	if (!seen.good) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -EIO;
		set_detail(f, "map created, but the record did not arrive "
			   "(%d records seen)", seen.records);
		goto out;
	}
	set_ok(f);
	set_detail(f, "map created; a record from a uprobe arrived");
	set_impact(f, "ring buffer available");
out:
	ring_buffer__free(rb);
	bpf_link__destroy(link);
	one_prog_free(op);
	free(op);
}

/* ------------------------------------------------------------ kernel-side */

enum trig { TRIG_GETPID, TRIG_NANOSLEEP };

/*
 * Load prog_name, attach it with libbpf's default for its section (or as
 * a tracepoint/kprobe as told), trigger, and check its counter moved.
 */
static void probe_kernel_prog(struct feature *f, const char *prog_name,
			      int slot, enum trig trig, const char *what)
{
	struct one_prog *op = calloc(1, sizeof(*op));
	struct bpf_link *link = NULL;
	__u64 hits;
	int err;

	if (!op) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = -ENOMEM;
		set_detail(f, "out of memory");
		return;
	}
	err = load_one(op, prog_name, false, -1);
	if (!err) {
		if (slot == DOCTOR_SLOT_TRACEPOINT)
			link = bpf_program__attach_tracepoint(op->prog,
						"syscalls", "sys_enter_getpid");
		else if (slot == DOCTOR_SLOT_KPROBE)
			link = bpf_program__attach_kprobe(op->prog, false,
							  FENTRY_TARGET);
		else
			link = bpf_program__attach(op->prog);
		if (!link)
			err = errno ? -errno : -EINVAL;
	}
	if (err) {
		describe_failure(f, op, err, NULL);
		goto out;
	}
	if (trig == TRIG_GETPID)
		trigger_getpid(3);
	else
		trigger_nanosleep(3);
	hits = read_hits(op, slot);
	if (hits == 0) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -EIO;
		set_detail(f, "attached %s, but it never fired", what);
		goto out;
	}
	set_ok(f);
	set_detail(f, "%s fired", what);
out:
	bpf_link__destroy(link);
	one_prog_free(op);
	free(op);
}

void feat_probe_tracepoint(struct feature *f, const struct features_opts *opts)
{
	const char *mnt = tracefs__path();

	if (!mnt && opts && opts->fix && tracefs__ensure_mounted(NULL, 0) == 0)
		mnt = tracefs__path();
	if (!mnt) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = -ENOENT;
		set_detail(f, "tracefs not mounted, so event ids cannot be read: "
			   "run `" TRACEFS_MOUNT_CMD "` or `gosnoop doctor "
			   "--fix`");
		set_impact(f, "tracepoint: probes need tracefs");
		return;
	}
	probe_kernel_prog(f, "doctor_tracepoint", DOCTOR_SLOT_TRACEPOINT,
			  TRIG_GETPID, "syscalls:sys_enter_getpid");
	if (f->status == FEATURE_STATUS_OK) {
		set_impact(f, "ktrace tracepoint:* probes available");
		return;
	}
	if (f->err == -ENOENT) {
		size_t n = strlen(f->detail);

		snprintf(f->detail + n, sizeof(f->detail) - n,
			 "; no %s/events/syscalls/sys_enter_getpid: kernel "
			 "without CONFIG_FTRACE_SYSCALLS?", mnt);
	}
	set_impact(f, "ktrace tracepoint: unavailable, use tp_btf:");
}

void feat_probe_raw_tp(struct feature *f)
{
	probe_kernel_prog(f, "doctor_raw_tp", DOCTOR_SLOT_RAW_TP, TRIG_GETPID,
			  "raw_tp:sys_enter");
	if (f->status == FEATURE_STATUS_OK)
		set_impact(f, "what ktrace tp_btf: probes attach through");
	else
		set_impact(f, "ktrace tp_btf: unavailable, use tracepoint:");
}

void feat_probe_tp_btf(struct feature *f)
{
	probe_kernel_prog(f, "doctor_tp_btf", DOCTOR_SLOT_TP_BTF, TRIG_GETPID,
			  "tp_btf:sys_enter");
	if (f->status == FEATURE_STATUS_OK)
		set_impact(f, "ktrace tp_btf:* probes available");
	else
		set_impact(f, "ktrace tp_btf: unavailable, use tracepoint:");
}

/* Why a privileged fentry/fexit load is refused: the usual suspects. */
static void fentry_hint(struct feature *f)
{
	size_t n = strlen(f->detail);

	if (f->err == -EPERM && feat_can_trace())
		snprintf(f->detail + n, sizeof(f->detail) - n,
			 "; refused although privileged: lockdown, an LSM, or "
			 "no BPF trampoline support");
	else if (f->err == -ESRCH || f->err == -ENOENT)
		snprintf(f->detail + n, sizeof(f->detail) - n,
			 "; " FENTRY_TARGET " not in kernel BTF");
}

void feat_probe_fentry(struct feature *f)
{
	probe_kernel_prog(f, "doctor_fentry", DOCTOR_SLOT_FENTRY,
			  TRIG_NANOSLEEP, "fentry:" FENTRY_TARGET);
	fentry_hint(f);
	if (f->status == FEATURE_STATUS_OK)
		set_impact(f, "ktrace fentry: probes available");
	else
		set_impact(f, "ktrace fentry:/fexit: unavailable, use tp_btf: "
			   "or tracepoint:");
}

void feat_probe_fexit(struct feature *f)
{
	probe_kernel_prog(f, "doctor_fexit", DOCTOR_SLOT_FEXIT,
			  TRIG_NANOSLEEP, "fexit:" FENTRY_TARGET);
	fentry_hint(f);
	if (f->status == FEATURE_STATUS_OK)
		set_impact(f, "ktrace fexit: probes available");
	else
		set_impact(f, "ktrace fexit: unavailable, use tp_btf: or "
			   "tracepoint:");
}

void feat_probe_kprobe(struct feature *f)
{
	const char *mnt = tracefs__path();
	char legacy[256];
	struct stat st;
	bool has_legacy;

	/*
	 * libbpf uses the kprobe PMU, or else tracefs's kprobe_events (old
	 * kernels); neither exists without CONFIG_KPROBES.
	 */
	snprintf(legacy, sizeof(legacy), "%s/kprobe_events", mnt ? mnt : "");
	has_legacy = mnt && stat(legacy, &st) == 0;
	if (stat(KPROBE_PMU_PATH, &st) != 0 && !has_legacy) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -ENOENT;
		set_detail(f, "no kprobe PMU: " KPROBE_PMU_PATH " absent%s; "
			   "kernel without CONFIG_KPROBES",
			   mnt ? ", no kprobe_events in tracefs" : "");
		set_impact(f, "no fallback for ktrace fentry:/fexit: (they "
			   "try kprobes when refused)");
		return;
	}
	probe_kernel_prog(f, "doctor_kprobe", DOCTOR_SLOT_KPROBE,
			  TRIG_NANOSLEEP, "kprobe:" FENTRY_TARGET);
	if (f->status == FEATURE_STATUS_OK)
		set_impact(f, "ktrace fentry:/fexit: fall back to kprobes "
			   "when refused");
	else
		set_impact(f, "no fallback for ktrace fentry:/fexit: (they "
			   "try kprobes when refused)");
}

/* ------------------------------------------------------------ write_user */

void feat_probe_write_user(struct feature *f)
{
	const struct lockdown *ld = feat_read_lockdown();
	struct one_prog *op = calloc(1, sizeof(*op));
	struct bpf_link *link = NULL;
	int err;

	set_impact(f, "only trace --set needs it (to write arguments on the "
		   "stack); tracing never writes into the traced program");
	if (!op) {
		f->status = FEATURE_STATUS_UNTESTED;
		f->err = -ENOMEM;
		set_detail(f, "out of memory");
		return;
	}
	err = load_one(op, "doctor_write_user", false, -1);
	if (!err)
		err = attach_uprobe_trigger1(op, &link);
	if (err) {
		describe_failure(f, op, err, "a program calling it");
		if (strcmp(op->step, "load") == 0 && locked_down(ld)) {
			size_t n = strlen(f->detail);

			f->status = FEATURE_STATUS_REFUSED;
			snprintf(f->detail + n, sizeof(f->detail) - n,
				 "; lockdown=%s forbids it", ld->mode);
		}
		goto out;
	}
	gosnoop_doctor_write_target = 0;
	trigger1();
	if (gosnoop_doctor_write_target != DOCTOR_WRITE_MAGIC) {
		f->status = FEATURE_STATUS_MISSING;
		f->err = -EIO;
		set_detail(f, "loaded and attached, but the write did not land");
		goto out;
	}
	set_ok(f);
	set_detail(f, "wrote 8 bytes into gosnoop's own memory");
out:
	bpf_link__destroy(link);
	one_prog_free(op);
	free(op);
}
