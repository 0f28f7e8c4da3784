/* SPDX-License-Identifier: MIT */
/*
 * The kernel probes this machine offers, by name: tracepoints from
 * tracefs available_events, tp_btf events (btf_trace_NAME typedefs) and
 * kernel functions (FUNCs) from vmlinux BTF. Used by `list --kernel` to
 * print them and by ktrace to expand a probe with a glob
 * ("tracepoint:syscalls:sys_enter_*", "tp_btf:sched_*") into probes.
 */
#ifndef GOSNOOP_KTRACE_NAMES_H
#define GOSNOOP_KTRACE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

/* One name: full "tracepoint:CAT:NAME" / "tp_btf:NAME" / "fentry:FUNC",
 * bare "CAT:NAME" / "NAME" / "FUNC". */
typedef void (*kt_name_fn)(const char *full, const char *bare, void *ctx);

/* Every tracepoint, sorted: 0, or -errno with why (mounting tracefs,
 * reading available_events) written. */
int kt_names__tracepoints(kt_name_fn cb, void *ctx, char *why,
			  size_t whylen);
/* Every tp_btf event (tp_btf) or kernel function (else, named fentry:),
 * sorted, each once. */
void kt_names__btf(const struct btf *btf, bool tp_btf, kt_name_fn cb,
		   void *ctx);

/* Does the part after the probe type hold a glob (* ? [)? */
bool kt_names__is_glob(const char *probe);
/*
 * The probes a glob names, sorted: *out holds *n strings (free each and
 * the array), full names of the glob's type ("fexit:tcp_*" gives
 * "fexit:tcp_..."). btf: vmlinux BTF for tp_btf/fentry/fexit (NULL: none
 * there). 0, or after writing err: -EINVAL (bad type), -ENOENT (nothing
 * matches), -E2BIG (more than max match), -EOPNOTSUPP (no BTF), or tracefs's
 * -errno.
 */
int kt_names__expand(const char *probe, const struct btf *btf, size_t max,
		     char ***out, size_t *n, char *err, size_t errlen);

#endif
