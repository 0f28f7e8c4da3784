/* SPDX-License-Identifier: MIT */
/*
 * Connections per client of `gosnoop serve`'s HTTP side (serve_http.c):
 * a local client is its socket's uid, a remote one its IP address; each
 * may hold at most per_peer connections at once.
 */
#ifndef GOSNOOP_SERVE_PEERS_H
#define GOSNOOP_SERVE_PEERS_H

#include <stdbool.h>
#include <sys/types.h>

struct serve_peer {
	bool local;		/* uid is set, else family and addr */
	uid_t uid;
	int family;
	unsigned char addr[16];
};

struct serve_peers;

int serve_peers__new(unsigned int per_peer, struct serve_peers **out);
void serve_peers__free(struct serve_peers *p);
/* Who is at the other end of connected socket fd: 0 or -errno. */
int serve_peers__identify(struct serve_peers *p, int fd,
			  struct serve_peer *who);
/* One more connection of who: 0, or -EMFILE when it holds per_peer. */
int serve_peers__take(struct serve_peers *p, const struct serve_peer *who);
/* A connection of who (taken) closed. */
void serve_peers__give_back(struct serve_peers *p, const struct serve_peer *who);
/* who gave a wrong password at now_s (CLOCK_MONOTONIC s); whether it did
 * less than SERVE_PEERS_AUTH_BACKOFF_S before now_s. */
#define SERVE_PEERS_AUTH_BACKOFF_S	1.0
void serve_peers__auth_failed(struct serve_peers *p, const struct serve_peer *who,
			      double now_s);
bool serve_peers__auth_backoff(struct serve_peers *p, const struct serve_peer *who,
			       double now_s);

#endif
