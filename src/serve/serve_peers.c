// SPDX-License-Identifier: MIT
/*
 * Who holds the connections of `gosnoop serve`, so that one client cannot
 * take them all. A connection from a local process is charged to the uid
 * owning the client's socket (asked of the kernel through sock_diag: the
 * client's end of a loopback connection is a socket of this network
 * namespace), one from elsewhere to its IP address. Every local user
 * shares 127.0.0.1, and the kubelet's probe of a hostNetwork pod comes
 * from the node's own address, so a limit per IP would let any local
 * user lock out /healthz; a limit per uid does not.
 *
 * Only libmicrohttpd's one thread calls these: no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"
#include "serve_peers.h"

struct peer_slot {
	struct serve_peer who;
	unsigned int conns;
	double auth_failed_at;		/* 0: never */
};

struct serve_peers {
	unsigned int per_peer;
	struct peer_slot *slots;
	size_t cnt, cap;
	int diag_fd;			/* NETLINK_SOCK_DIAG, or -1 */
};

int serve_peers__new(unsigned int per_peer, struct serve_peers **out)
{
	struct serve_peers *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->per_peer = per_peer;
	/* without it every client is charged to its IP address */
	p->diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			    NETLINK_SOCK_DIAG);
	*out = p;
	return 0;
}

void serve_peers__free(struct serve_peers *p)
{
	if (!p)
		return;
	if (p->diag_fd >= 0)
		close(p->diag_fd);
	free(p->slots);
	free(p);
}

/* Copy a sockaddr's address and port into an inet_diag id. */
static void put_end(const struct sockaddr_storage *ss, __be16 *port,
		    __be32 addr[4])
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		*port = in->sin_port;
		addr[0] = in->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		*port = in6->sin6_port;
		memcpy(addr, &in6->sin6_addr, 16);
	}
}

/*
 * The uid of the socket at the client's end of this connection (the one
 * whose source is peer and destination self), or -ENOENT when it is not a
 * socket of this host's namespace (a remote client).
 */
static int client_uid(struct serve_peers *p,
		      const struct sockaddr_storage *peer,
		      const struct sockaddr_storage *self, uid_t *uid)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} q = {
		.nh = {
			.nlmsg_len = sizeof(q),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST,
		},
		.req = {
			.sdiag_family = (__u8)peer->ss_family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = ~0u,
			.id.idiag_if = 0,
			.id.idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE },
		},
	};
	char buf[1024] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	const struct nlmsghdr *nh = (const void *)buf;
	const struct inet_diag_msg *m;
	ssize_t n;

	if (p->diag_fd < 0)
		return -ENOENT;
	put_end(peer, &q.req.id.idiag_sport, q.req.id.idiag_src);
	put_end(self, &q.req.id.idiag_dport, q.req.id.idiag_dst);
	if (sendto(p->diag_fd, &q, sizeof(q), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	n = recv(p->diag_fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_type == NLMSG_ERROR ||
	    nh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -ENOENT;
	m = NLMSG_DATA(nh);
	*uid = m->idiag_uid;
	return 0;
}

/* ::ffff:a.b.c.d (an IPv4 client of a [::] listener) as the AF_INET
 * address its socket has. */
static void unmap_v4(struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *in6 = (const void *)ss;
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return;
	in.sin_port = in6->sin6_port;
	memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &in, sizeof(in));
}

int serve_peers__identify(struct serve_peers *p, int fd,
			  struct serve_peer *who)
{
	struct sockaddr_storage peer = {}, self = {};
	socklen_t plen = sizeof(peer), slen = sizeof(self);
	uid_t uid = 0;

	memset(who, 0, sizeof(*who));
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) ||
	    getsockname(fd, (struct sockaddr *)&self, &slen))
		return -errno;
	if (peer.ss_family != AF_INET && peer.ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	unmap_v4(&peer);
	unmap_v4(&self);
	if (!client_uid(p, &peer, &self, &uid)) {
		who->local = true;
		who->uid = uid;
		return 0;
	}
	who->family = peer.ss_family;
	if (peer.ss_family == AF_INET)
		memcpy(who->addr, &((struct sockaddr_in *)&peer)->sin_addr, 4);
	else
		memcpy(who->addr, &((struct sockaddr_in6 *)&peer)->sin6_addr, 16);
	return 0;
}

static bool same_peer(const struct serve_peer *a, const struct serve_peer *b)
{
	if (a->local != b->local)
		return false;
	if (a->local)
		return a->uid == b->uid;
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

static struct peer_slot *find(struct serve_peers *p, const struct serve_peer *who)
{
	for (size_t i = 0; i < p->cnt; i++)
		if (same_peer(&p->slots[i].who, who))
			return &p->slots[i];
	return NULL;
}

/* Forget clients with no connection whose last wrong password is past
 * its back-off. */
static void sweep(struct serve_peers *p, double now_s)
{
	for (size_t i = 0; i < p->cnt;) {
		struct peer_slot *s = &p->slots[i];

		if (!s->conns && now_s - s->auth_failed_at >= SERVE_PEERS_AUTH_BACKOFF_S)
			*s = p->slots[--p->cnt];
		else
			i++;
	}
}

int serve_peers__take(struct serve_peers *p, const struct serve_peer *who)
{
	struct peer_slot *s = find(p, who);

	if (!s) {
		sweep(p, mono_ns() / 1e9);
		if (p->cnt == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 16;
			struct peer_slot *n = realloc(p->slots, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			p->slots = n;
			p->cap = cap;
		}
		s = &p->slots[p->cnt++];
		s->who = *who;
		s->conns = 0;
		s->auth_failed_at = 0;
	}
	if (s->conns >= p->per_peer)
		return -EMFILE;
	s->conns++;
	return 0;
}

void serve_peers__give_back(struct serve_peers *p, const struct serve_peer *who)
{
	struct peer_slot *s = find(p, who);

	if (!s || !s->conns)
		return;
	/* kept while its back-off runs (sweep) */
	if (--s->conns == 0 && !s->auth_failed_at)
		*s = p->slots[--p->cnt];
}

/*
 * A bcrypt check takes the HTTP thread for as long as its cost says
 * (~0.25 s at 10): a client that got its password wrong waits a second
 * before the next one is checked (a 401 meanwhile, which starts the
 * second again), so wrong passwords cannot keep the thread from
 * /healthz. A client's record outlives its last connection until then.
 */
void serve_peers__auth_failed(struct serve_peers *p, const struct serve_peer *who,
			      double now_s)
{
	struct peer_slot *s = find(p, who);

	if (s)
		s->auth_failed_at = now_s;
}

bool serve_peers__auth_backoff(struct serve_peers *p, const struct serve_peer *who,
			       double now_s)
{
	struct peer_slot *s = find(p, who);

	return s && s->auth_failed_at &&
	       now_s - s->auth_failed_at < SERVE_PEERS_AUTH_BACKOFF_S;
}
