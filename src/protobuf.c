// SPDX-License-Identifier: MIT
/*
 * Protocol Buffers wire encoding (see protobuf.h). Nested lengths are
 * not known in advance: pb_begin() remembers where the body starts and
 * pb_end() moves the body right by the size of its length varint and
 * writes the length there. Bodies are small (a pprof sample, a
 * histogram), so the move costs less than a second pass would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protobuf.h"

void pb_init(struct pb_buf *pb)
{
	memset(pb, 0, sizeof(*pb));
}

void pb_free(struct pb_buf *pb)
{
	free(pb->data);
	pb_init(pb);
}

void pb_reset(struct pb_buf *pb)
{
	pb->len = 0;
	pb->err = 0;
}

/* Room for n more bytes; false (and err set) when there is none. */
static bool pb_reserve(struct pb_buf *pb, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (pb->err)
		return false;
	if (pb->len + n <= pb->cap)
		return true;
	cap = pb->cap ? pb->cap : 256;
	while (cap < pb->len + n)
		cap *= 2;
	p = realloc(pb->data, cap);
	if (!p) {
		pb->err = -ENOMEM;
		return false;
	}
	pb->data = p;
	pb->cap = cap;
	return true;
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void pb_raw_varint(struct pb_buf *pb, uint64_t v)
{
	if (pb_reserve(pb, 10))
		pb->len += put_varint(pb->data + pb->len, v);
}

/* Little-endian whatever the host is (the wire format's byte order). */
static void put_le(struct pb_buf *pb, uint64_t v, int bytes)
{
	if (!pb_reserve(pb, bytes))
		return;
	for (int i = 0; i < bytes; i++)
		pb->data[pb->len++] = (uint8_t)(v >> (8 * i));
}

void pb_raw_fixed32(struct pb_buf *pb, uint32_t v) { put_le(pb, v, 4); }
void pb_raw_fixed64(struct pb_buf *pb, uint64_t v) { put_le(pb, v, 8); }

void pb_raw_bytes(struct pb_buf *pb, const void *p, size_t n)
{
	if (n && pb_reserve(pb, n)) {
		memcpy(pb->data + pb->len, p, n);
		pb->len += n;
	}
}

void pb_tag(struct pb_buf *pb, uint32_t field, enum pb_wire_type wt)
{
	pb_raw_varint(pb, ((uint64_t)field << 3) | wt);
}

void pb_uint(struct pb_buf *pb, uint32_t field, uint64_t v)
{
	pb_tag(pb, field, PB_WT_VARINT);
	pb_raw_varint(pb, v);
}

void pb_int(struct pb_buf *pb, uint32_t field, int64_t v)
{
	pb_uint(pb, field, (uint64_t)v);
}

void pb_sint(struct pb_buf *pb, uint32_t field, int64_t v)
{
	pb_uint(pb, field, pb_zigzag(v));
}

void pb_bool(struct pb_buf *pb, uint32_t field, bool v)
{
	pb_uint(pb, field, v ? 1 : 0);
}

void pb_fixed32(struct pb_buf *pb, uint32_t field, uint32_t v)
{
	pb_tag(pb, field, PB_WT_I32);
	pb_raw_fixed32(pb, v);
}

void pb_fixed64(struct pb_buf *pb, uint32_t field, uint64_t v)
{
	pb_tag(pb, field, PB_WT_I64);
	pb_raw_fixed64(pb, v);
}

void pb_float(struct pb_buf *pb, uint32_t field, float v)
{
	uint32_t bits;

	memcpy(&bits, &v, sizeof(bits));
	pb_fixed32(pb, field, bits);
}

void pb_double(struct pb_buf *pb, uint32_t field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	pb_fixed64(pb, field, bits);
}

void pb_bytes(struct pb_buf *pb, uint32_t field, const void *p, size_t n)
{
	pb_tag(pb, field, PB_WT_LEN);
	pb_raw_varint(pb, n);
	pb_raw_bytes(pb, p, n);
}

void pb_string(struct pb_buf *pb, uint32_t field, const char *s)
{
	pb_bytes(pb, field, s ? s : "", s ? strlen(s) : 0);
}

pb_mark pb_begin(struct pb_buf *pb, uint32_t field)
{
	pb_tag(pb, field, PB_WT_LEN);
	return pb->len;
}

void pb_end(struct pb_buf *pb, pb_mark mark)
{
	size_t body, k;

	if (pb->err || mark > pb->len)
		return;
	body = pb->len - mark;
	k = varint_size(body);
	if (!pb_reserve(pb, k))
		return;
	memmove(pb->data + mark + k, pb->data + mark, body);
	put_varint(pb->data + mark, body);
	pb->len += k;
}

void pb_packed_uint(struct pb_buf *pb, uint32_t field, const uint64_t *v, size_t n)
{
	pb_mark m;

	if (!n)
		return;
	m = pb_begin(pb, field);
	for (size_t i = 0; i < n; i++)
		pb_raw_varint(pb, v[i]);
	pb_end(pb, m);
}

void pb_packed_int(struct pb_buf *pb, uint32_t field, const int64_t *v, size_t n)
{
	pb_mark m;

	if (!n)
		return;
	m = pb_begin(pb, field);
	for (size_t i = 0; i < n; i++)
		pb_raw_varint(pb, (uint64_t)v[i]);
	pb_end(pb, m);
}

void pb_packed_sint(struct pb_buf *pb, uint32_t field, const int64_t *v, size_t n)
{
	pb_mark m;

	if (!n)
		return;
	m = pb_begin(pb, field);
	for (size_t i = 0; i < n; i++)
		pb_raw_varint(pb, pb_zigzag(v[i]));
	pb_end(pb, m);
}

void pb_packed_double(struct pb_buf *pb, uint32_t field, const double *v, size_t n)
{
	pb_mark m;

	if (!n)
		return;
	m = pb_begin(pb, field);
	for (size_t i = 0; i < n; i++) {
		uint64_t bits;

		memcpy(&bits, &v[i], sizeof(bits));
		pb_raw_fixed64(pb, bits);
	}
	pb_end(pb, m);
}
