/* SPDX-License-Identifier: MIT */
/* ktrace's PROBE arguments with their globs expanded. */
#ifndef GOSNOOP_KTRACE_EXPAND_H
#define GOSNOOP_KTRACE_EXPAND_H

#define KT_MAX_EXPANDED 1024	/* probes after globs are expanded */

/*
 * The probes args[0..nargs) name, globs expanded (in the order given,
 * each glob's matches sorted): *texts (KT_MAX_EXPANDED slots, the first
 * *np used, each owned) and the argument each came from (*arg_of, for
 * the -o/-f after it). 0, or -errno after one line (-E2BIG: more than
 * KT_MAX_EXPANDED; -EOPNOTSUPP: a glob over BTF names without BTF).
 */
int kt_expand__probes(const char *const *args, int nargs, char ***texts,
		      int **arg_of, int *np);

#endif
