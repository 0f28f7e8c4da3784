/* SPDX-License-Identifier: MIT */
/*
 * Prometheus text format pieces of `gosnoop serve` (serve_text.c), used
 * by the label sets (serve_probes.c, serve_targets.c) and the metrics
 * writers (serve_metrics.c, serve_sched_metrics.c).
 */
#ifndef GOSNOOP_SERVE_TEXT_H
#define GOSNOOP_SERVE_TEXT_H

#include <stdint.h>
#include <stdio.h>

/* A Prometheus label value: backslash, " and newline escaped. */
void serve__put_label_value(FILE *f, const char *s);
/* ns as exact decimal seconds: 1023 -> "0.000001023" (no float noise). */
void serve__put_seconds(FILE *f, uint64_t ns);

#endif
