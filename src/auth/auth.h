/*
 * auth — passwords (Argon2id), logins with lock-out, throttling and a second
 * factor (mailed code or TOTP), password reset, console sessions with CSRF
 * tokens, API keys.
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

/* ---- logging in (SPEC B1–B6) ---- */

struct auth_policy {
	int64_t max_failures;        /* failed passwords or codes before an account is locked */
	int64_t lock_seconds;        /* how long it stays locked */
	int64_t ip_max_failures;     /* failed logins from one address ... */
	int64_t ip_window_seconds;   /* ... within this window before it is throttled */
	int64_t challenge_seconds;   /* a mailed code / a pending second factor is valid this long */
	int64_t reset_seconds;       /* a password-reset link is valid this long */
	const struct secret_key *key; /* opens TOTP secrets */
};

enum auth_step { AUTH_DONE, AUTH_NEED_MAIL_CODE, AUTH_NEED_TOTP };

struct auth_login_result {
	enum auth_step step;
	struct account account;
	const char *token, *csrf;    /* AUTH_DONE: the new session (token goes into the cookie) */
	const char *challenge;       /* otherwise: the token of the pending login, for the second step */
	const char *mail_code;       /* AUTH_NEED_MAIL_CODE: the 6-digit code to mail to the account */
};

/*
 * The first step: user name and password.  -EACCES for a wrong user name or
 * password alike (in about the same time); -EAGAIN when the client address
 * has failed too often lately (nothing is checked); -ENOLCK while the
 * account is locked (after policy->max_failures failures in a row, for
 * lock_seconds; the password is not even checked); -EPERM for an account of
 * a suspended tenant.  Every failure is counted against the account and the
 * address.  With a second factor on, no session is made yet: a login
 * challenge is (valid challenge_seconds), and for FACTOR_MAIL the code to
 * mail.  Strings live in `a`.
 */
int auth_login(struct store *s, const struct auth_policy *pol, const char *ip, const char *username,
	       const char *password, struct arena *a, struct auth_login_result *ret);
/* The second step: the challenge of the first and the code (mailed, or
 * the TOTP app's).  -EACCES for a wrong code (counted; after max_failures
 * the challenge is gone and the account locked), an unknown or expired
 * challenge; a TOTP code is accepted once (no replay).  -EPERM when the
 * tenant was suspended meanwhile; -EBADMSG when the TOTP secret cannot be
 * opened with the server's key.  AUTH_DONE on success. */
int auth_login_second(struct store *s, const struct auth_policy *pol, const char *ip, const char *challenge,
		      const char *code, struct arena *a, struct auth_login_result *ret);

/* NULL when a password is acceptable, else why not (English, static):
 * 10 to 256 characters, not containing the user name, not a well-known one. */
const char *auth_password_problem(const char *password, const char *username);

/* Password reset by a mailed one-time link.  _begin returns 0 and
 * *ret_token (arena; for the link) when the user name names an account with
 * an address (*ret_account), -ENOENT otherwise — the caller answers both
 * alike.  _finish sets the new password (policy checked: -EINVAL with
 * *ret_problem), ends every session of the account and uses the token up;
 * -EACCES for an unknown, used or expired token. */
int auth_reset_begin(struct store *s, const struct auth_policy *pol, const char *username, struct arena *a,
		     struct account *ret_account, const char **ret_token);
int auth_reset_finish(struct store *s, const char *token, const char *password, const char **ret_problem);

/* ---- TOTP (RFC 6238) ---- */

#define AUTH_TOTP_KEY_LEN 20
enum auth_hash { AUTH_SHA1, AUTH_SHA256, AUTH_SHA512 };
/* The RFC 6238 code of key at unix time t (30-second steps from 0) with
 * `digits` digits (6 or 8). */
int auth_totp_code(enum auth_hash h, const unsigned char *key, size_t keylen, int64_t t, int digits,
		   uint32_t *ret);
/* Checks a 6-digit SHA-1 code against the steps now-1, now, now+1 (clock
 * skew); *ret_step gets the matching step. */
bool auth_totp_verify(const unsigned char *key, size_t keylen, const char *code, int64_t now, int64_t *ret_step);
/* RFC 4648 base32 without padding (what authenticator apps take). */
int auth_base32_encode(struct buf *out, const unsigned char *p, size_t n);
int auth_base32_decode(struct buf *out, const char *s);  /* -EINVAL for anything else */
/* otpauth://totp/ISSUER:USER?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30 (caller frees) */
char *auth_totp_uri(const char *issuer, const char *username, const unsigned char *key, size_t keylen);
/* The URI as a QR code in SVG (libqrencode), for the console to show. */
int auth_qr_svg(struct buf *out, const char *text);

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
/* *ret_key_id (may be NULL): the key's id. */
int auth_api_key_check(struct store *s, const char *key, struct arena *a, struct account *ret_account,
		       int64_t *ret_key_id);

/* Whether a string can be a session token or API key (16–128 of [A-Za-z0-9_-]). */
bool auth_secret_valid(const char *secret);
/* A new random API key ("kr_" + 43 characters), in the arena. */
const char *auth_api_key_new(struct arena *a);

/* Constant-time comparison of two NUL-terminated strings. */
bool auth_equal(const char *a, const char *b);

#endif
