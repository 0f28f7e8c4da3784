// SPDX-License-Identifier: MIT
/*
 * profile.proto writer (see pprof.h). Field numbers are those of
 * github.com/google/pprof proto/profile.proto:
 *   Profile: 1 sample_type, 2 sample, 3 mapping, 4 location, 5 function,
 *            6 string_table, 9 time_nanos, 10 duration_nanos,
 *            11 period_type, 12 period, 13 comment
 *   ValueType: 1 type, 2 unit       Sample: 1 location_id, 2 value, 3 label
 *   Label: 1 key, 2 str, 3 num, 4 num_unit
 *   Mapping: 1 id, 2 memory_start, 3 memory_limit, 4 file_offset,
 *            5 filename, 6 build_id, 7-10 has_functions/filenames/
 *            line_numbers/inline_frames
 *   Location: 1 id, 2 mapping_id, 3 address, 4 line
 *   Line: 1 function_id, 2 line
 *   Function: 1 id, 2 name, 3 system_name, 4 filename, 5 start_line
 * Every interned table (strings, functions, locations, samples) is an
 * array plus an open-addressing index over a byte key.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gobin/gobin.h"
#include "pprof.h"

struct ptab_ent {
	uint64_t hash;
	unsigned char *key;	/* NULL: free slot */
	size_t klen;
	uint32_t idx;
};

/* Byte key -> index into the owner's array. */
struct ptab {
	struct ptab_ent *v;
	size_t cap, cnt;	/* cap: 0 or a power of two */
};

struct pp_line {
	uint64_t func_id;
	int64_t line;
};

struct pp_loc {
	uint64_t addr;
	struct pp_line *lines;
	size_t nlines;
};

struct pp_func {
	int64_t name, file;
};

struct pp_label {
	int64_t key, str, num, unit;
};

struct pp_sample {
	uint64_t *locs;
	size_t nlocs;
	struct pp_label *labels;
	size_t nlabels;
	int64_t values[PPROF_MAX_TYPES];
};

struct pprof {
	size_t ntypes;
	int64_t types[PPROF_MAX_TYPES][2];	/* string indexes */
	char **strs;
	size_t nstrs, cap_strs;
	struct ptab str_idx;
	struct pp_func *funcs;
	size_t nfuncs, cap_funcs;
	struct ptab func_idx;
	struct pp_loc *locs;
	size_t nlocs, cap_locs;
	struct ptab loc_idx;
	struct pp_sample *samples;
	size_t nsamples, cap_samples;
	struct ptab sample_idx;
	int64_t *comments;
	size_t ncomments;
	bool has_mapping;
	uint64_t map_start, map_limit, map_off;
	int64_t map_file, map_build_id;
	int64_t time_ns, duration_ns;
};

static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ *s++) * 1099511628211ULL;
	return h;
}

static int ptab_grow(struct ptab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 256;
	struct ptab_ent *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t j = 0; j < t->cap; j++) {
		size_t i;

		if (!t->v[j].key)
			continue;
		i = t->v[j].hash & (ncap - 1);
		while (n[i].key)
			i = (i + 1) & (ncap - 1);
		n[i] = t->v[j];
	}
	free(t->v);
	t->v = n;
	t->cap = ncap;
	return 0;
}

/*
 * The index stored for key, or (when absent) add it with index next and
 * set *added. Returns the index (>= 0) or -ENOMEM.
 */
static int64_t ptab_get(struct ptab *t, const void *key, size_t klen,
			uint32_t next, bool *added)
{
	uint64_t h = fnv1a(key, klen);
	struct ptab_ent *e;
	size_t i;

	*added = false;
	if (t->cnt * 2 >= t->cap && ptab_grow(t))
		return -ENOMEM;
	for (i = h & (t->cap - 1); t->v[i].key; i = (i + 1) & (t->cap - 1)) {
		e = &t->v[i];
		if (e->hash == h && e->klen == klen &&
		    !memcmp(e->key, key, klen))
			return e->idx;
	}
	e = &t->v[i];
	e->key = malloc(klen ? klen : 1);
	if (!e->key)
		return -ENOMEM;
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->hash = h;
	e->idx = next;
	t->cnt++;
	*added = true;
	return next;
}

static void ptab_free(struct ptab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
}

/* Room for one more element of size sz in *arr (cnt used of *cap). */
static int grow_array(void **arr, size_t *cap, size_t cnt, size_t sz)
{
	size_t ncap;
	void *n;

	if (cnt < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	n = realloc(*arr, ncap * sz);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

/* Index of s in the string table (NULL and "" are 0). */
static int64_t str_id(struct pprof *p, const char *s)
{
	bool added;
	int64_t i;
	char *copy;

	if (!s || !*s)
		return 0;
	if (grow_array((void **)&p->strs, &p->cap_strs, p->nstrs,
		       sizeof(*p->strs)))
		return -ENOMEM;
	i = ptab_get(&p->str_idx, s, strlen(s), (uint32_t)p->nstrs, &added);
	if (i < 0 || !added)
		return i;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;	/* the index keeps a dangling entry: the
				   profile is unusable anyway */
	p->strs[p->nstrs++] = copy;
	return i;
}

struct pprof *pprof__new(const struct pprof_value_type *types, size_t ntypes)
{
	struct pprof *p;

	if (!ntypes || ntypes > PPROF_MAX_TYPES) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->strs = calloc(64, sizeof(*p->strs));
	if (!p->strs)
		goto nomem;
	p->cap_strs = 64;
	p->strs[p->nstrs++] = strdup("");	/* string_table[0] must be "" */
	if (!p->strs[0])
		goto nomem;
	p->ntypes = ntypes;
	for (size_t i = 0; i < ntypes; i++) {
		p->types[i][0] = str_id(p, types[i].type);
		p->types[i][1] = str_id(p, types[i].unit);
		if (p->types[i][0] < 0 || p->types[i][1] < 0)
			goto nomem;
	}
	return p;
nomem:
	pprof__free(p);
	errno = ENOMEM;
	return NULL;
}

void pprof__free(struct pprof *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	free(p->strs);
	ptab_free(&p->str_idx);
	free(p->funcs);
	ptab_free(&p->func_idx);
	for (size_t i = 0; i < p->nlocs; i++)
		free(p->locs[i].lines);
	free(p->locs);
	ptab_free(&p->loc_idx);
	for (size_t i = 0; i < p->nsamples; i++) {
		free(p->samples[i].locs);
		free(p->samples[i].labels);
	}
	free(p->samples);
	ptab_free(&p->sample_idx);
	free(p->comments);
	free(p);
}

int pprof__set_mapping(struct pprof *p, uint64_t start, uint64_t limit,
		       uint64_t file_offset, const char *filename,
		       const char *build_id)
{
	p->map_file = str_id(p, filename);
	p->map_build_id = str_id(p, build_id);
	if (p->map_file < 0 || p->map_build_id < 0)
		return -ENOMEM;
	p->map_start = start;
	p->map_limit = limit;
	p->map_off = file_offset;
	p->has_mapping = true;
	return 0;
}

void pprof__set_time(struct pprof *p, int64_t time_ns, int64_t duration_ns)
{
	p->time_ns = time_ns;
	p->duration_ns = duration_ns;
}

int pprof__add_comment(struct pprof *p, const char *text)
{
	int64_t s = str_id(p, text);
	int64_t *n;

	if (s < 0)
		return -ENOMEM;
	n = realloc(p->comments, (p->ncomments + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->comments = n;
	p->comments[p->ncomments++] = s;
	return 0;
}

/* Function id (> 0) of (name, file), or -errno. */
static int64_t func_id(struct pprof *p, const char *name, const char *file)
{
	struct pp_func f = { str_id(p, name ? name : "?"), str_id(p, file) };
	bool added;
	int64_t i;

	if (f.name < 0 || f.file < 0)
		return -ENOMEM;
	if (grow_array((void **)&p->funcs, &p->cap_funcs, p->nfuncs,
		       sizeof(*p->funcs)))
		return -ENOMEM;
	i = ptab_get(&p->func_idx, &f, sizeof(f), (uint32_t)p->nfuncs, &added);
	if (i < 0)
		return i;
	if (added)
		p->funcs[p->nfuncs++] = f;
	return i + 1;
}

#define PPROF_MAX_LINES 32

int64_t pprof__location(struct pprof *p, uint64_t addr,
			const struct pprof_line *lines, size_t n)
{
	/* key: addr, then (function id, line) per line */
	uint64_t key[1 + 2 * PPROF_MAX_LINES];
	struct pp_loc *l;
	bool added;
	int64_t i;

	if (!n || n > PPROF_MAX_LINES)
		return -EINVAL;
	key[0] = addr;
	for (size_t j = 0; j < n; j++) {
		int64_t f = func_id(p, lines[j].func, lines[j].file);

		if (f < 0)
			return f;
		key[1 + 2 * j] = (uint64_t)f;
		key[2 + 2 * j] = (uint64_t)lines[j].line;
	}
	if (grow_array((void **)&p->locs, &p->cap_locs, p->nlocs,
		       sizeof(*p->locs)))
		return -ENOMEM;
	i = ptab_get(&p->loc_idx, key, (1 + 2 * n) * sizeof(key[0]),
		     (uint32_t)p->nlocs, &added);
	if (i < 0 || !added)
		return i < 0 ? i : i + 1;
	l = &p->locs[p->nlocs];
	l->lines = calloc(n, sizeof(*l->lines));
	if (!l->lines)
		return -ENOMEM;
	l->addr = addr;
	l->nlines = n;
	for (size_t j = 0; j < n; j++) {
		l->lines[j].func_id = key[1 + 2 * j];
		l->lines[j].line = (int64_t)key[2 + 2 * j];
	}
	p->nlocs++;
	return i + 1;
}

#define PPROF_GO_INLINE_MAX 16

int64_t pprof__go_location(struct pprof *p, const struct gobin *gb,
			   uint64_t vaddr, bool ret_addr)
{
	struct gobin_frame fr[PPROF_GO_INLINE_MAX];
	struct pprof_line lines[PPROF_GO_INLINE_MAX];
	char hex[32];
	int n = 0;

	if (vaddr > (ret_addr ? 1u : 0u))
		n = gobin__pc_frames(gb, vaddr - (ret_addr ? 1 : 0), fr,
				     PPROF_GO_INLINE_MAX);
	if (n <= 0) {
		snprintf(hex, sizeof(hex), "0x%" PRIx64, vaddr);
		lines[0] = (struct pprof_line){ hex, NULL, 0 };
		return pprof__location(p, vaddr, lines, 1);
	}
	for (int i = 0; i < n; i++)
		lines[i] = (struct pprof_line){ fr[i].func, fr[i].file,
						fr[i].line };
	return pprof__location(p, vaddr, lines, (size_t)n);
}

int pprof__go_mapping(struct pprof *p, const struct gobin *gb,
		      const char *path)
{
	size_t n = gobin__func_cnt(gb);
	uint64_t start = gobin__text_start(gb), limit = start + 1;

	if (n)
		limit = gobin__func(gb, n - 1)->end;
	if (n && gobin__func(gb, 0)->entry < start)
		start = gobin__func(gb, 0)->entry;
	return pprof__set_mapping(p, start, limit, 0, path, NULL);
}

#define PPROF_MAX_LABELS 8
#define PPROF_MAX_STACK 256

/* A new sample (its index idx is the next one) owning copies of its stack and labels. */
static int sample_new(struct pprof *p, const uint64_t *locs, size_t nlocs,
		      const struct pp_label *labels, size_t nlabels)
{
	struct pp_sample *s = &p->samples[p->nsamples];

	memset(s, 0, sizeof(*s));
	s->locs = malloc((nlocs ? nlocs : 1) * sizeof(*locs));
	s->labels = malloc((nlabels ? nlabels : 1) * sizeof(*labels));
	if (!s->locs || !s->labels) {
		free(s->locs);
		free(s->labels);
		return -ENOMEM;
	}
	memcpy(s->locs, locs, nlocs * sizeof(*locs));
	memcpy(s->labels, labels, nlabels * sizeof(*labels));
	s->nlocs = nlocs;
	s->nlabels = nlabels;
	p->nsamples++;
	return 0;
}

int pprof__add_sample(struct pprof *p, const uint64_t *locs, size_t nlocs,
		      const int64_t *values, const struct pprof_label *labels,
		      size_t nlabels)
{
	/* key: nlocs, the ids, then the labels' four numbers */
	uint64_t key[2 + PPROF_MAX_STACK + 4 * PPROF_MAX_LABELS];
	struct pp_label lab[PPROF_MAX_LABELS];
	size_t k = 0;
	bool added;
	int64_t i;

	if (nlocs > PPROF_MAX_STACK || nlabels > PPROF_MAX_LABELS)
		return -EINVAL;
	key[k++] = nlocs;
	for (size_t j = 0; j < nlocs; j++) {
		if (!locs[j] || locs[j] > p->nlocs)
			return -EINVAL;
		key[k++] = locs[j];
	}
	for (size_t j = 0; j < nlabels; j++) {
		lab[j].key = str_id(p, labels[j].key);
		lab[j].str = labels[j].str ? str_id(p, labels[j].str) : 0;
		lab[j].num = labels[j].str ? 0 : labels[j].num;
		lab[j].unit = labels[j].str ? 0 : str_id(p, labels[j].num_unit);
		if (lab[j].key < 0 || lab[j].str < 0 || lab[j].unit < 0)
			return -ENOMEM;
		memcpy(&key[k], &lab[j], sizeof(lab[j]));
		k += 4;
	}
	if (grow_array((void **)&p->samples, &p->cap_samples, p->nsamples,
		       sizeof(*p->samples)))
		return -ENOMEM;
	i = ptab_get(&p->sample_idx, key, k * sizeof(key[0]),
		     (uint32_t)p->nsamples, &added);
	if (i < 0)
		return (int)i;
	if (added && sample_new(p, locs, nlocs, lab, nlabels))
		return -ENOMEM;
	for (size_t j = 0; j < p->ntypes; j++)
		p->samples[i].values[j] += values[j];
	return 0;
}

size_t pprof__sample_cnt(const struct pprof *p)
{
	return p->nsamples;
}

static void encode_sample(const struct pprof *p, const struct pp_sample *s,
			  struct pb_buf *pb)
{
	pb_mark m = pb_begin(pb, 2);

	pb_packed_uint(pb, 1, s->locs, s->nlocs);
	pb_packed_int(pb, 2, s->values, p->ntypes);
	for (size_t j = 0; j < s->nlabels; j++) {
		const struct pp_label *l = &s->labels[j];
		pb_mark lm = pb_begin(pb, 3);

		pb_int(pb, 1, l->key);
		if (l->str)
			pb_int(pb, 2, l->str);
		else
			pb_int(pb, 3, l->num);
		if (l->unit)
			pb_int(pb, 4, l->unit);
		pb_end(pb, lm);
	}
	pb_end(pb, m);
}

static void encode_location(const struct pprof *p, size_t i, struct pb_buf *pb)
{
	const struct pp_loc *l = &p->locs[i];
	pb_mark m = pb_begin(pb, 4);

	pb_uint(pb, 1, i + 1);
	if (p->has_mapping)
		pb_uint(pb, 2, 1);
	if (l->addr)
		pb_uint(pb, 3, l->addr);
	for (size_t j = 0; j < l->nlines; j++) {
		pb_mark lm = pb_begin(pb, 4);

		pb_uint(pb, 1, l->lines[j].func_id);
		pb_int(pb, 2, l->lines[j].line);
		pb_end(pb, lm);
	}
	pb_end(pb, m);
}

static void encode_mapping(const struct pprof *p, struct pb_buf *pb)
{
	pb_mark m = pb_begin(pb, 3);

	pb_uint(pb, 1, 1);
	pb_uint(pb, 2, p->map_start);
	pb_uint(pb, 3, p->map_limit);
	pb_uint(pb, 4, p->map_off);
	pb_int(pb, 5, p->map_file);
	pb_int(pb, 6, p->map_build_id);
	for (uint32_t f = 7; f <= 10; f++)	/* all symbolized */
		pb_bool(pb, f, true);
	pb_end(pb, m);
}

int pprof__encode(const struct pprof *p, struct pb_buf *pb)
{
	pb_mark m;

	for (size_t i = 0; i < p->ntypes; i++) {
		m = pb_begin(pb, 1);
		pb_int(pb, 1, p->types[i][0]);
		pb_int(pb, 2, p->types[i][1]);
		pb_end(pb, m);
	}
	for (size_t i = 0; i < p->nsamples; i++)
		encode_sample(p, &p->samples[i], pb);
	if (p->has_mapping)
		encode_mapping(p, pb);
	for (size_t i = 0; i < p->nlocs; i++)
		encode_location(p, i, pb);
	for (size_t i = 0; i < p->nfuncs; i++) {
		m = pb_begin(pb, 5);
		pb_uint(pb, 1, i + 1);
		pb_int(pb, 2, p->funcs[i].name);
		pb_int(pb, 3, p->funcs[i].name);
		pb_int(pb, 4, p->funcs[i].file);
		pb_end(pb, m);
	}
	for (size_t i = 0; i < p->nstrs; i++)
		pb_string(pb, 6, p->strs[i]);
	if (p->time_ns)
		pb_int(pb, 9, p->time_ns);
	if (p->duration_ns)
		pb_int(pb, 10, p->duration_ns);
	pb_packed_int(pb, 13, p->comments, p->ncomments);
	return pb_error(pb);
}

int pprof__write(const struct pprof *p, const char *path)
{
	struct pb_buf pb;
	gzFile gz;
	int err;

	pb_init(&pb);
	err = pprof__encode(p, &pb);
	if (err)
		goto out;
	gz = gzopen(path, "wb");
	if (!gz) {
		err = errno ? -errno : -ENOMEM;
		goto out;
	}
	if (pb.len && gzwrite(gz, pb.data, (unsigned)pb.len) != (int)pb.len)
		err = errno ? -errno : -EIO;
	if (gzclose(gz) != Z_OK && !err)
		err = errno ? -errno : -EIO;
out:
	pb_free(&pb);
	return err;
}
