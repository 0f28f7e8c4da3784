/* SPDX-License-Identifier: MIT */
/*
 * pprof - a writer of profile.proto, the format `go tool pprof` reads
 * (github.com/google/pprof, proto/profile.proto), gzipped as it wants.
 *
 * Build a profile in memory, then write it:
 *   pprof__new(sample types) -> pprof__set_mapping() (optional) ->
 *   pprof__location() for each frame -> pprof__add_sample() for each
 *   stack -> pprof__write() -> pprof__free().
 * Strings, functions and locations are interned (each written once);
 * samples with the same stack and labels are merged by adding their
 * values, as pprof itself would when it reads them.
 */
#ifndef GOSNOOP_PPROF_H
#define GOSNOOP_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protobuf.h"

struct pprof;

/* One value of each sample: ("calls", "count"), ("delay", "nanoseconds"). */
struct pprof_value_type {
	const char *type;
	const char *unit;
};

/* A source position: function, file, line (file NULL: unknown). */
struct pprof_line {
	const char *func;
	const char *file;
	int64_t line;
};

/* A sample's label: a string (str) or a number (str NULL; num, with an
 * optional unit such as "nanoseconds"). */
struct pprof_label {
	const char *key;
	const char *str;
	int64_t num;
	const char *num_unit;
};

#define PPROF_MAX_TYPES 8

/* NULL (errno set) on bad arguments or no memory. The last type is the
 * one pprof shows by default. */
struct pprof *pprof__new(const struct pprof_value_type *types, size_t ntypes);
void pprof__free(struct pprof *p);

/* The binary the addresses are in (mapping 1): [start, limit) at file
 * offset; filename and build_id may be NULL. Every location is in it.
 * Marks functions, files, lines and inlined frames as known so pprof does
 * not try to symbolize again. 0 or -ENOMEM. */
int pprof__set_mapping(struct pprof *p, uint64_t start, uint64_t limit,
		       uint64_t file_offset, const char *filename,
		       const char *build_id);
/* When the profile started (ns since the epoch) and how long it lasted. */
void pprof__set_time(struct pprof *p, int64_t time_ns, int64_t duration_ns);
/* A free-form comment (`go tool pprof -comments`). 0 or -ENOMEM. */
int pprof__add_comment(struct pprof *p, const char *text);

/*
 * The location of instruction addr with the source positions at it,
 * innermost (inlined) first, the physical function last (n >= 1; pprof's
 * Location.line order). The same addr and lines give the same id.
 * Returns the location id (> 0) or -errno.
 */
int64_t pprof__location(struct pprof *p, uint64_t addr,
			const struct pprof_line *lines, size_t n);

struct gobin;
/*
 * Go code: the location of instruction vaddr (a file address) of gb, its
 * inlined frames and lines from pclntab. ret_addr: vaddr is a return
 * address, which is after its CALL: look up vaddr - 1 (the CALL's line).
 * An address outside every function is named "0x...". Id or -errno.
 */
int64_t pprof__go_location(struct pprof *p, const struct gobin *gb,
			   uint64_t vaddr, bool ret_addr);
/* The mapping (pprof__set_mapping) of gb's text, named path. */
int pprof__go_mapping(struct pprof *p, const struct gobin *gb,
		      const char *path);

/* A stack of location ids, leaf first, with one value per sample type
 * and nlabels labels. Merged with an earlier sample of the same stack and
 * labels. 0 or -errno (-EINVAL for an unknown location id). */
int pprof__add_sample(struct pprof *p, const uint64_t *locs, size_t nlocs,
		      const int64_t *values, const struct pprof_label *labels,
		      size_t nlabels);
size_t pprof__sample_cnt(const struct pprof *p);

/* The profile.proto message, not compressed, appended to out. 0 or -errno. */
int pprof__encode(const struct pprof *p, struct pb_buf *out);
/* Gzipped into path. 0 or -errno (nothing printed). */
int pprof__write(const struct pprof *p, const char *path);

#endif
