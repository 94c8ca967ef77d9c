/*
 * auth — passwords (Argon2id), console sessions with CSRF tokens, API keys.
 * Secrets never reach the store: passwords are stored as Argon2id strings,
 * session tokens and API keys as BLAKE2b-256 hashes.
 */
#ifndef KUNREN_AUTH_H
#define KUNREN_AUTH_H

#include "core/core.h"
#include "store/store.h"

#define AUTH_TOKEN_LEN 43   /* random [A-Za-z0-9], ~256 bits */

int auth_init(void);        /* sodium_init; call once before anything else */

/* Argon2id (libsodium's interactive limits).  *ret_hash: caller frees. */
int auth_password_hash(const char *password, char **ret_hash);
bool auth_password_verify(const char *hash, const char *password);
void auth_secret_hash(const char *secret, unsigned char out[STORE_HASH_LEN]);

/* Checks the password and opens a session.  -EACCES for a wrong user name
 * or password alike (and in about the same time).  *ret_token and
 * *ret_csrf are arena strings; the token goes into the cookie. */
int auth_login(struct store *s, const char *username, const char *password, struct arena *a,
	       struct account *ret_account, const char **ret_token, const char **ret_csrf);

struct auth_limits {
	int64_t idle_seconds, max_seconds;
};
/* Finds the session of a cookie token, enforcing idle and absolute
 * timeouts (an expired session is deleted); -EACCES when not valid. */
int auth_session_check(struct store *s, const char *token, const struct auth_limits *lim,
		       struct arena *a, struct account *ret_account, struct session *ret_session);
int auth_logout(struct store *s, const char *token);

/* Creates an API key for an account; *ret_key is shown once (arena).
 * `fixed` (may be NULL) uses a given key instead of a random one. */
int auth_api_key_create(struct store *s, int64_t account_id, const char *label, const char *fixed,
			struct arena *a, const char **ret_key);
int auth_api_key_check(struct store *s, const char *key, struct arena *a, struct account *ret_account);

/* Whether a string can be a session token or API key (16–128 of [A-Za-z0-9_-]). */
bool auth_secret_valid(const char *secret);
/* A new random API key ("kr_" + 43 characters), in the arena. */
const char *auth_api_key_new(struct arena *a);

/* Constant-time comparison of two NUL-terminated strings. */
bool auth_equal(const char *a, const char *b);

#endif
