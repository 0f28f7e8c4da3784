/* SPDX-License-Identifier: MIT */
/*
 * The reader side of a ring buffer whose BPF programs wake it in batches
 * (src/bpf/bpf_wakeup.h): trace and ktrace.
 *
 * libbpf's ring_buffer__poll() waits level-triggered and consumes only
 * after a wakeup. With batched wakeups that is wrong twice over: a record
 * sent without a wakeup (a slow stream: one execve a minute) stays unread
 * until the next wakeup or exit, and under a fast stream the reader never
 * sleeps (epoll reports the ring as long as it holds a byte), so it drains
 * a few records per system call and fights the producer for the ring's
 * cache lines. This reader sleeps until a wakeup (edge-triggered) or the
 * timeout, then drains everything there is.
 */
#ifndef GOSNOOP_RINGBUF_READER_H
#define GOSNOOP_RINGBUF_READER_H

#include <bpf/libbpf.h>

struct rb_reader;

/* NULL with errno set on failure. */
struct rb_reader *rb_reader__new(int map_fd, ring_buffer_sample_fn fn,
				 void *ctx);
/*
 * Waits for a wakeup, a signal or timeout_ms, then consumes the records
 * there are, for at most ~50 ms (a faster producer must not keep the
 * caller from its deadline and signals): how many, or -errno.
 */
int rb_reader__poll(struct rb_reader *r, int timeout_ms);
/* Consumes every record until none is left (at exit, after detaching):
 * how many, or -errno. */
int rb_reader__drain(struct rb_reader *r);
void rb_reader__free(struct rb_reader *r);

#endif
