/* SPDX-License-Identifier: MIT */
/*
 * /metrics in Prometheus' protobuf exposition (delimited MetricFamily
 * messages), which a scraper asks for by its Accept header when it wants
 * native histograms (Prometheus --enable-feature=native-histograms). The
 * families are those of the text format (serve_metrics.c), converted, so
 * the two never disagree; a histogram with the kernel's log2 buckets is
 * also sent as a native histogram of schema 0 (docs/serve.md says how
 * its buckets map and what that costs in precision).
 */
#ifndef GOSNOOP_SERVE_NATIVE_H
#define GOSNOOP_SERVE_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct serve_state;

#define SERVE_NATIVE_CONTENT_TYPE \
	"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

/* Whether an Accept header (NULL: none) asks for the protobuf format
 * with a q above 0. */
bool serve_native__wanted(const char *accept);

/* The /metrics body in protobuf (under st->lock). 0 or -errno, and
 * then nothing written to out. */
int serve_native__write(struct serve_state *st, FILE *out);

/* The conversion alone: Prometheus text (as serve_metrics.c writes it:
 * HELP and TYPE before each family, a histogram's _bucket lines, then
 * _sum and _count, per series) to delimited MetricFamily messages.
 * 0, -EINVAL on a line it cannot read, -ENOMEM. */
int serve_native__from_text(const char *text, size_t len, FILE *out);

#endif
