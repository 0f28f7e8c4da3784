// SPDX-License-Identifier: MIT
/*
 * The two pieces of Prometheus text every file of `gosnoop serve` that
 * writes a label or a duration needs (serve_text.h). They lived in
 * serve_metrics.c, declared in serve_probes.h, so serve_probes.c and
 * serve_targets.c called into the metrics writer that calls them.
 */
#include <inttypes.h>
#include <stdio.h>

#include "serve_text.h"

void serve__put_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void serve__put_seconds(FILE *f, uint64_t ns)
{
	char frac[16];
	int len;

	len = snprintf(frac, sizeof(frac), "%09" PRIu64,
		       (uint64_t)(ns % 1000000000ULL));
	while (len > 0 && frac[len - 1] == '0')
		frac[--len] = 0;
	if (len)
		fprintf(f, "%" PRIu64 ".%s", (uint64_t)(ns / 1000000000ULL), frac);
	else
		fprintf(f, "%" PRIu64, (uint64_t)(ns / 1000000000ULL));
}
