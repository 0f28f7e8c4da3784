/* SPDX-License-Identifier: MIT */
/*
 * A small Protocol Buffers encoder (wire format only, no schema): what
 * pprof's profile.proto and Prometheus' remote/native-histogram messages
 * need. Fields are appended in the order called; a nested message or a
 * packed repeated field is opened with pb_begin() and closed with
 * pb_end(), which writes its length in front of it.
 *
 * Errors are sticky: the first allocation failure sets buf->err to
 * -ENOMEM and every later call does nothing; check pb_error() once at
 * the end instead of after every field.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 */
#ifndef GOSNOOP_PROTOBUF_H
#define GOSNOOP_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pb_wire_type {
	PB_WT_VARINT = 0,
	PB_WT_I64 = 1,
	PB_WT_LEN = 2,
	PB_WT_I32 = 5,
};

struct pb_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;	/* 0, or -ENOMEM after a failed allocation */
};

/* An open nested message or packed field, from pb_begin(). */
typedef size_t pb_mark;

void pb_init(struct pb_buf *pb);
void pb_free(struct pb_buf *pb);
/* Forget the contents, keep the allocation. */
void pb_reset(struct pb_buf *pb);
static inline int pb_error(const struct pb_buf *pb) { return pb->err; }

/* Zigzag (sint32/sint64): small magnitudes of either sign stay short. */
static inline uint64_t pb_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* Raw pieces, for packed contents between pb_begin() and pb_end(). */
void pb_raw_varint(struct pb_buf *pb, uint64_t v);
void pb_raw_fixed32(struct pb_buf *pb, uint32_t v);
void pb_raw_fixed64(struct pb_buf *pb, uint64_t v);
void pb_raw_bytes(struct pb_buf *pb, const void *p, size_t n);
void pb_tag(struct pb_buf *pb, uint32_t field, enum pb_wire_type wt);

/* Scalar fields: tag and value. */
void pb_uint(struct pb_buf *pb, uint32_t field, uint64_t v);	/* uint32/64, enum */
void pb_int(struct pb_buf *pb, uint32_t field, int64_t v);	/* int32/64: negatives take 10 bytes */
void pb_sint(struct pb_buf *pb, uint32_t field, int64_t v);	/* sint32/64: zigzag */
void pb_bool(struct pb_buf *pb, uint32_t field, bool v);
void pb_fixed32(struct pb_buf *pb, uint32_t field, uint32_t v);	/* also sfixed32 */
void pb_fixed64(struct pb_buf *pb, uint32_t field, uint64_t v);	/* also sfixed64 */
void pb_float(struct pb_buf *pb, uint32_t field, float v);
void pb_double(struct pb_buf *pb, uint32_t field, double v);
/* Length-delimited: bytes, string (NULL writes an empty string). */
void pb_bytes(struct pb_buf *pb, uint32_t field, const void *p, size_t n);
void pb_string(struct pb_buf *pb, uint32_t field, const char *s);

/*
 * A nested message or packed repeated field: everything written between
 * pb_begin() and its pb_end() becomes the length-delimited value of
 * FIELD. Opens nest (close them innermost first).
 */
pb_mark pb_begin(struct pb_buf *pb, uint32_t field);
void pb_end(struct pb_buf *pb, pb_mark mark);

/* Packed repeated fields in one call (nothing written when n == 0, as
 * protobuf encoders do for an empty repeated field). */
void pb_packed_uint(struct pb_buf *pb, uint32_t field, const uint64_t *v, size_t n);
void pb_packed_int(struct pb_buf *pb, uint32_t field, const int64_t *v, size_t n);
void pb_packed_sint(struct pb_buf *pb, uint32_t field, const int64_t *v, size_t n);
void pb_packed_double(struct pb_buf *pb, uint32_t field, const double *v, size_t n);

#endif
