/* SPDX-License-Identifier: MIT */
/*
 * runtime.allgs ([]*g, every goroutine) of a stripped Go binary, for
 * sched_snapshot.c: every release go1.13..go1.26 has runtime.allgadd,
 * whose `allgs = append(allgs, gp)` reads and writes the slice's pointer,
 * length and capacity, so its code has RIP-relative operands at X, X+8
 * and X+16. Pure: reads only the binary.
 */
#ifndef GOSNOOP_SCHED_ALLGS_H
#define GOSNOOP_SCHED_ALLGS_H

#include <stddef.h>
#include <stdint.h>

struct gobin;

/* Up to max such X (file vaddrs, in code order): candidates for
 * runtime.allgs, to be checked against a live process. 0 when the binary
 * has no runtime.allgadd or its code cannot be read. */
size_t sched_allgs__candidates(const struct gobin *gb, uint64_t *out,
			       size_t max);

#endif
