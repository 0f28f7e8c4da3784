// SPDX-License-Identifier: MIT
/*
 * Basic auth of `gosnoop serve` (web: basic_auth_users, as node_exporter's
 * web config): bcrypt hashes checked with crypt(3) of libxcrypt. A bcrypt
 * check costs what its cost factor says (~0.2 s at 12), and Prometheus
 * sends the same password every scrape, so the last password that passed
 * for a user (and that user's hash) is remembered: a scrape costs a
 * string comparison after the first.
 *
 * Only libmicrohttpd's one thread calls these: no lock.
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serve_auth.h"
#include "serve_config.h"

struct auth_ok {
	char *user, *hash, *pass;
};

struct serve_auth {
	struct crypt_data *cd;		/* crypt_r's scratch: 32 kB */
	struct auth_ok *ok;
	size_t ok_cnt;
};

int serve_auth__new(struct serve_auth **out)
{
	struct serve_auth *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a || !(a->cd = calloc(1, sizeof(*a->cd)))) {
		free(a);
		return -ENOMEM;
	}
	*out = a;
	return 0;
}

static void ok_free(struct auth_ok *o)
{
	free(o->user);
	free(o->hash);
	if (o->pass)
		explicit_bzero(o->pass, strlen(o->pass));
	free(o->pass);
}

void serve_auth__free(struct serve_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ok_cnt; i++)
		ok_free(&a->ok[i]);
	free(a->ok);
	free(a->cd);
	free(a);
}

/* Same length, same bytes, in time that does not depend on where they
 * differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

static struct auth_ok *remembered(struct serve_auth *a, const char *user)
{
	for (size_t i = 0; i < a->ok_cnt; i++)
		if (!strcmp(a->ok[i].user, user))
			return &a->ok[i];
	return NULL;
}

static void remember(struct serve_auth *a, const char *user, const char *hash,
		     const char *pass)
{
	struct auth_ok *o = remembered(a, user), *n;

	if (!o) {
		n = realloc(a->ok, (a->ok_cnt + 1) * sizeof(*n));
		if (!n)
			return;
		a->ok = n;
		o = &a->ok[a->ok_cnt++];
	} else {
		ok_free(o);
	}
	o->user = strdup(user);
	o->hash = strdup(hash);
	o->pass = strdup(pass);
	if (!o->user || !o->hash || !o->pass) {
		ok_free(o);
		*o = a->ok[--a->ok_cnt];
	}
}

bool serve_auth__check(struct serve_auth *a, const struct serve_web *w,
		       const char *user, const char *pass)
{
	const char *hash = NULL, *out;
	struct auth_ok *o;

	if (!user || !pass)
		return false;
	for (int i = 0; i < w->user_cnt; i++)
		if (!strcmp(w->users[i].name, user))
			hash = w->users[i].value;
	if (!hash)
		return false;
	o = remembered(a, user);
	if (o && !strcmp(o->hash, hash) && same_secret(o->pass, pass))
		return true;
	out = crypt_r(pass, hash, a->cd);
	if (!out || *out == '*' || !same_secret(out, hash))
		return false;
	remember(a, user, hash, pass);
	return true;
}
