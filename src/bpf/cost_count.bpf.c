// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * `gosnoop cost`: count's program (funcs_count.bpf.c) with a price per
 * hit that can be raised while attached (hit_delay_ns): cost's last phase
 * runs the program at latency's price per call, to see what calls the
 * program makes when that slow (cmd_cost.c). A separate object so that
 * count and serve carry no .bss map and no delay check.
 */
#define FP_COUNT_HIT_DELAY 1
#include "funcs_count.bpf.c"
