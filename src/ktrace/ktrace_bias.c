// SPDX-License-Identifier: MIT
/* The PIE load bias of each process ktrace hears from (ktrace_bias.h). */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktrace_bias.h"
#include "target.h"

uint64_t kt_bias__of(struct kt_bias *b, const struct gobin *gb, __u32 pid)
{
	unsigned int i = b->next % KT_BIAS_CACHE;
	uint64_t bias = 0;

	for (unsigned int k = 0; k < KT_BIAS_CACHE; k++)
		if (b->pid[k] == pid)
			return b->bias[k];
	if (target__load_bias((pid_t)pid, gb, &bias))
		bias = b->has_cmd_bias ? b->cmd_bias : 0;
	b->pid[i] = pid;
	b->bias[i] = bias;
	b->next++;
	return bias;
}

void kt_bias__seed(struct kt_bias *b, const struct gobin *gb,
		   const char *path, pid_t pid)
{
	struct stat want, exe;
	char proc[64];
	uint64_t bias;

	if (stat(path, &want))
		return;
	snprintf(proc, sizeof(proc), "/proc/%d/exe", pid);
	for (int i = 0; i < 200; i++) {
		/* until the exec, the child is a copy of gosnoop */
		if (!stat(proc, &exe) && exe.st_ino == want.st_ino &&
		    exe.st_dev == want.st_dev &&
		    !target__load_bias(pid, gb, &bias)) {
			b->pid[0] = (__u32)pid;
			b->bias[0] = bias;
			b->next = 1;
			b->cmd_bias = bias;
			b->has_cmd_bias = true;
			return;
		}
		usleep(5000);
	}
}
