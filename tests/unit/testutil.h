/* SPDX-License-Identifier: MIT */
/*
 * Shared by the cmocka unit tests: where test binaries are, running a
 * command for ground truth, and skipping visibly when something is missing.
 *   GOSNOOP_FIXTURES  built Go fixtures (make fixtures; build/fixtures)
 *   GOSNOOP_CORPUS    esbuild corpus (~/.cache/gosnoop/corpus)
 */
#ifndef GOSNOOP_TESTUTIL_H
#define GOSNOOP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gobin/gobin.h"

static inline const char *tu_fixtures_dir(void)
{
	const char *d = getenv("GOSNOOP_FIXTURES");

	return d && *d ? d : "build/fixtures";
}

static inline const char *tu_corpus_dir(void)
{
	static char buf[1024];
	const char *d = getenv("GOSNOOP_CORPUS");

	if (d && *d)
		return d;
	snprintf(buf, sizeof(buf), "%s/.cache/gosnoop/corpus",
		 getenv("HOME") ? getenv("HOME") : "/root");
	return buf;
}

/* Path of fixture NAME (e.g. "demo-stripped") in buf, or NULL after a
 * visible SKIP line when it is missing. */
static inline const char *tu_fixture(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tu_fixtures_dir(), name);
	if (access(buf, R_OK)) {
		printf("SKIP: fixture %s missing (run 'make fixtures')\n", buf);
		return NULL;
	}
	return buf;
}

/* Path of corpus binary NAME (e.g. "esbuild-0.0.9-go1.13.8"), or NULL
 * after a visible SKIP line. */
/* A fixture opened with gobin; NULL when it is not built. */
static inline struct gobin *tu_open_fixture(const char *name)
{
	char path[4096], err[256];
	struct gobin *gb = NULL;

	if (!tu_fixture(name, path, sizeof(path)))
		return NULL;
	assert_int_equal(gobin__open(path, &gb, err, sizeof(err)), 0);
	return gb;
}

static inline const char *tu_corpus(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tu_corpus_dir(), name);
	if (access(buf, R_OK)) {
		printf("SKIP: corpus binary %s missing (run ../shared/fetch-go-corpus.sh %s)\n",
		       buf, tu_corpus_dir());
		return NULL;
	}
	return buf;
}

/* Run a shell command and return its whole stdout (malloc'd, NUL-ended),
 * or NULL if it could not run. */
static inline char *tu_run(const char *fmt, ...)
{
	char cmd[8192];
	size_t len = 0, cap = 1 << 16;
	char *out;
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	out = malloc(cap);
	while (out && (n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *bigger = realloc(out, cap * 2);

			if (!bigger) {
				free(out);
				out = NULL;
				break;
			}
			out = bigger;
			cap *= 2;
		}
	}
	if (pclose(p) == -1 || !out) {
		free(out);
		return NULL;
	}
	out[len] = 0;
	return out;
}

/* Read a whole file into memory (for gobin__open_mem on patched copies). */
static inline uint8_t *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

#endif
