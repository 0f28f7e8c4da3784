// SPDX-License-Identifier: MIT
/* A ring buffer reader for batched wakeups: see ringbuf_reader.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "ringbuf_reader.h"

/* A drain returns after this long even if records keep coming. */
#define DRAIN_BUDGET_NS (50ULL * 1000 * 1000)

struct rb_reader {
	struct ring_buffer *rb;	/* libbpf's: mapping and record parsing */
	int epfd;		/* ours: the map fd, edge-triggered */
	ring_buffer_sample_fn fn;
	void *ctx;
	uint64_t until_ns;	/* end of this drain's budget, 0: none */
	int n;			/* records this drain */
	bool more;		/* the last drain stopped with records left */
};

/*
 * Every record passes here. A producer faster than the reader (hundreds
 * of probes on busy events) would keep libbpf's consume loop going for
 * ever, and the caller would never see its -d deadline or Ctrl-C: past
 * the budget a negative return stops it (libbpf has consumed the record).
 */
static int on_sample(void *ctx, void *data, size_t size)
{
	struct rb_reader *r = ctx;
	int ret = r->fn(r->ctx, data, size);

	if (ret)
		return ret;
	if (++r->n % 256 == 0 && r->until_ns && mono_ns() >= r->until_ns) {
		r->more = true;
		return -EAGAIN;
	}
	return 0;
}

struct rb_reader *rb_reader__new(int map_fd, ring_buffer_sample_fn fn,
				 void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct rb_reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->fn = fn;
	r->ctx = ctx;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		goto fail;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		goto fail;
	r->rb = ring_buffer__new(map_fd, on_sample, r, NULL);
	if (!r->rb)
		goto fail;
	return r;
fail:
	err = errno;
	rb_reader__free(r);
	errno = err;
	return NULL;
}

/* Consume until empty, or until the budget is spent (until_ns). */
static int consume(struct rb_reader *r, uint64_t until_ns)
{
	int ret;

	r->n = 0;
	r->until_ns = until_ns;
	r->more = false;
	ret = ring_buffer__consume(r->rb);
	if (ret < 0 && !r->more)
		return ret;
	return r->n;
}

int rb_reader__poll(struct rb_reader *r, int timeout_ms)
{
	struct epoll_event ev;

	/*
	 * Whether it woke, timed out or was interrupted, read what is
	 * there: records sent without a wakeup are only read here.
	 */
	/* records left by a drain that ran out of time: no wakeup will come
	 * for them (edge-triggered), so do not sleep */
	if (epoll_wait(r->epfd, &ev, 1, r->more ? 0 : timeout_ms) < 0 &&
	    errno != EINTR)
		return -errno;
	return consume(r, mono_ns() + DRAIN_BUDGET_NS);
}

int rb_reader__drain(struct rb_reader *r)
{
	return consume(r, 0);
}

void rb_reader__free(struct rb_reader *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r);
}
