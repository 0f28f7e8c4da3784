/* SPDX-License-Identifier: MIT */
/*
 * Basic auth of `gosnoop serve`'s /metrics and /debug/probes: the users
 * and bcrypt hashes of web: basic_auth_users (serve_config.h).
 */
#ifndef GOSNOOP_SERVE_AUTH_H
#define GOSNOOP_SERVE_AUTH_H

#include <stdbool.h>

struct serve_auth;
struct serve_web;

int serve_auth__new(struct serve_auth **out);
void serve_auth__free(struct serve_auth *a);
/* Whether user is one of w's and pass its password. */
bool serve_auth__check(struct serve_auth *a, const struct serve_web *w,
		       const char *user, const char *pass);

#endif
