// SPDX-License-Identifier: MIT
/* A ring buffer reader for batched wakeups: see ringbuf_reader.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ringbuf_reader.h"

struct rb_reader {
	struct ring_buffer *rb;	/* libbpf's: mapping and record parsing */
	int epfd;		/* ours: the map fd, edge-triggered */
};

struct rb_reader *rb_reader__new(int map_fd, ring_buffer_sample_fn fn,
				 void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct rb_reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		goto fail;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		goto fail;
	r->rb = ring_buffer__new(map_fd, fn, ctx, NULL);
	if (!r->rb)
		goto fail;
	return r;
fail:
	err = errno;
	rb_reader__free(r);
	errno = err;
	return NULL;
}

int rb_reader__poll(struct rb_reader *r, int timeout_ms)
{
	struct epoll_event ev;

	/*
	 * Whether it woke, timed out or was interrupted, read what is
	 * there: records sent without a wakeup are only read here.
	 */
	if (epoll_wait(r->epfd, &ev, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return rb_reader__drain(r);
}

int rb_reader__drain(struct rb_reader *r)
{
	return ring_buffer__consume(r->rb);
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
