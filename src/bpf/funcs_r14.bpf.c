// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * `gosnoop latency` without CO-RE: funcs.bpf.c with g read from R14 only
 * (Go's register ABI keeps g there in every ABIInternal function, from
 * entry to RET; cmd/compile/abi-internal.md "amd64 architecture"). Same
 * maps, program and globals as funcs.bpf.c, hence the same skeleton
 * layout (cmd_latency.c checks it).
 */
#define FP_G_FROM_R14_ONLY 1
#include "funcs.bpf.c"
