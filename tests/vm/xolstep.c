// SPDX-License-Identifier: MIT
/*
 * xolstep: does this machine single-step uprobed instructions correctly?
 * No BPF and no gosnoop: plain tracefs uprobes on four instructions of one
 * leaf function (a MOV, a 5-byte NOPW, an ADD, the RET; the x86 kernel
 * copies each into a slot of the "[uprobes]" page and single-steps it
 * there; newer kernels emulate the NOPW instead), called by THREADS threads for SECONDS while the main thread
 * sends the process SIGURG every 200 us (as Go's preemption does).
 *
 * A kernel and a CPU that step right never disturb the program. Under
 * qemu 7.2's multi-threaded TCG (-accel tcg, the default with several
 * vCPUs) a thread now and then runs what a slot held before (another
 * probe's instruction) instead of what the kernel just wrote there; the
 * kernel's fixup after the step then puts the thread at a wrong address:
 * SIGILL in the middle of an instruction, SIGSEGV or SIGTRAP inside the
 * [uprobes] page. tests/vm/README.md "Single-threaded TCG".
 *
 * usage: xolstep SECONDS THREADS GROUP   (root, tracefs mounted)
 * Exit: 0 and one "ok" line; 1 and the signal and PC if the program was
 * disturbed; 2 when the probes could not be set up.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define TRACEFS "/sys/kernel/tracing/"

long xs_leaf(long x);
extern char xs_mov[], xs_nopw[], xs_add[], xs_ret[];
asm(".text\n"
    ".globl xs_leaf, xs_mov, xs_nopw, xs_add, xs_ret\n"
    ".type xs_leaf, @function\n"
    "xs_leaf:\n"
    "xs_mov:  mov %rdi, %rax\n"
    "xs_nopw: nopw 0x0(%rax,%rax,1)\n"
    "xs_add:  add $1, %rax\n"
    "xs_ret:  ret\n");

static const struct {
	const char *name;
	char *addr;
} sites[] = {
	{ "mov", xs_mov }, { "nopw", xs_nopw }, { "add", xs_add }, { "ret", xs_ret },
};

static atomic_long calls;
static atomic_int stop;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	char buf[200];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "xolstep: disturbed: signal %d (si_code %d) at pc %#llx; xs_leaf is at %p\n",
		     sig, si->si_code,
		     (unsigned long long)uc->uc_mcontext.gregs[REG_RIP],
		     (void *)xs_leaf);
	if (write(2, buf, n) < 0)
		_exit(1);
	_exit(1);
}

static void on_urg(int sig)
{
	(void)sig;
}

static void *worker(void *arg)
{
	long acc = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		for (int i = 0; i < 1000; i++)
			acc = xs_leaf(acc);
		atomic_fetch_add(&calls, 1000);
	}
	return (void *)acc;
}

/* The file offset of p in this executable, from /proc/self/maps. */
static int file_offset(const void *p, unsigned long *off)
{
	unsigned long lo, hi, fo;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int err = -1;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &fo) == 3 &&
		    (unsigned long)p >= lo && (unsigned long)p < hi) {
			*off = (unsigned long)p - lo + fo;
			err = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return err;
}

static int tracefs_write(const char *file, const char *text)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), TRACEFS "%s", file);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0) {
		fprintf(stderr, "xolstep: %s: %m\n", path);
		return -1;
	}
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	if (!ok)
		fprintf(stderr, "xolstep: %s: %s: %m\n", path, text);
	close(fd);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	static char altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = {
		.sa_sigaction = on_fault,
		.sa_flags = SA_SIGINFO | SA_ONSTACK,
	};
	char exe[4096], line[4400], file[256];
	struct timespec t0, t;
	pthread_t th[16];
	int secs, nthr;
	const char *group;
	ssize_t n;

	if (argc != 4) {
		fprintf(stderr, "usage: xolstep SECONDS THREADS GROUP\n");
		return 2;
	}
	secs = atoi(argv[1]);
	nthr = atoi(argv[2]);
	group = argv[3];
	if (nthr < 1 || nthr > 16)
		nthr = 2;
	sigaltstack(&ss, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGURG, on_urg);

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 2;
	exe[n] = 0;
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
		unsigned long off;

		if (file_offset(sites[i].addr, &off))
			return 2;
		snprintf(line, sizeof(line), "p:%s/%s %s:%#lx\n", group,
			 sites[i].name, exe, off);
		if (tracefs_write("uprobe_events", line))
			return 2;
	}
	snprintf(file, sizeof(file), "events/%s/enable", group);
	if (tracefs_write(file, "1"))
		return 2;

	for (int i = 0; i < nthr; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		kill(getpid(), SIGURG);
		usleep(200);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < secs);
	atomic_store(&stop, 1);
	for (int i = 0; i < nthr; i++)
		pthread_join(th[i], NULL);

	tracefs_write(file, "0");
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
		snprintf(line, sizeof(line), "-:%s/%s\n", group, sites[i].name);
		tracefs_write("uprobe_events", line);
	}
	printf("xolstep: ok, %ld calls of 4 single-stepped probes from %d threads in %d s\n",
	       (long)atomic_load(&calls), nthr, secs);
	return 0;
}
