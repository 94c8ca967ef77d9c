/* login.c — logging in (password, lock-out, throttling, second factor) and
 * password reset; see docs/internals/AUTH.md. */
#include "auth/auth.h"

#include <pthread.h>
#include <sodium.h>

#define MAIL_CODE_DIGITS 6
/* Wrong codes a challenge takes when the policy sets no lock-out. */
#define CHALLENGE_MAX_ATTEMPTS 5

/* A hash verified when the user name is unknown, so both answers take as long. */
static char dummy[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
	char pw[17];
	id_random(pw, 16);
	if (crypto_pwhash_str(dummy, pw, 16, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy[0] = '\0';
}

static const char *dummy_hash(void)
{
	pthread_once(&dummy_once, dummy_make);
	return dummy;
}

static const char *ip_or_unknown(const char *ip)
{
	return ip && ip[0] ? ip : "unknown";
}

/* A failure of the account (it may lock) and of the address. */
static int count_failure(struct store *s, const struct auth_policy *pol, const char *ip, int64_t account_id,
			 int64_t now)
{
	int64_t locked_until;
	int r = 0;
	if (account_id > 0 && pol->max_failures > 0)
		r = store_account_failed(s, account_id, now, pol->max_failures, pol->lock_seconds, &locked_until);
	int r2 = store_login_failure_add(s, ip_or_unknown(ip), now);
	return r < 0 ? r : r2;
}

/* The login is complete: failures forgotten, a session with its CSRF token. */
static int session_open(struct store *s, const struct account *acc, int64_t now, struct arena *a,
			struct auth_login_result *ret)
{
	char token[AUTH_TOKEN_LEN + 1], csrf[AUTH_TOKEN_LEN + 1];
	unsigned char hash[STORE_HASH_LEN];
	int r;

	if ((r = store_account_succeeded(s, acc->id)) < 0)
		return r;
	id_random(token, AUTH_TOKEN_LEN);
	id_random(csrf, AUTH_TOKEN_LEN);
	auth_secret_hash(token, hash);
	if ((r = store_session_create(s, hash, acc->id, csrf, now)) < 0)
		return r;
	const char *t = arena_strdup(a, token), *c = arena_strdup(a, csrf);
	sodium_memzero(token, sizeof(token));
	if (!t || !c)
		return -ENOMEM;
	*ret = (struct auth_login_result){ .step = AUTH_DONE, .account = *acc, .token = t, .csrf = c };
	return 0;
}

/* The hash kept of a mailed code: salted with its challenge's token, so a
 * table of the million codes' hashes is no use. */
static void code_hash(const char *challenge, const char *code, unsigned char out[STORE_HASH_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, STORE_HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)challenge, strlen(challenge));
	crypto_generichash_update(&st, (const unsigned char *)":", 1);
	crypto_generichash_update(&st, (const unsigned char *)code, strlen(code));
	crypto_generichash_final(&st, out, STORE_HASH_LEN);
}

/* The password was right and a second factor is on: a login challenge. */
static int challenge_open(struct store *s, const struct auth_policy *pol, const struct account *acc, int64_t now,
			  struct arena *a, struct auth_login_result *ret)
{
	char token[AUTH_TOKEN_LEN + 1], code[MAIL_CODE_DIGITS + 1];
	unsigned char thash[STORE_HASH_LEN], chash[STORE_HASH_LEN];
	bool mail = acc->second_factor == FACTOR_MAIL;

	id_random(token, AUTH_TOKEN_LEN);
	auth_secret_hash(token, thash);
	if (mail) {
		uint32_t n = randombytes_uniform(1000000); /* uniform in [0, 10^6) */
		for (int i = MAIL_CODE_DIGITS - 1; i >= 0; i--, n /= 10)
			code[i] = (char)('0' + n % 10);
		code[MAIL_CODE_DIGITS] = '\0';
		code_hash(token, code, chash);
	}
	int r = store_challenge_create(s, thash, acc->id, CHALLENGE_LOGIN, mail ? chash : NULL,
				       now + pol->challenge_seconds);
	if (r < 0)
		return r;
	const char *t = arena_strdup(a, token), *c = mail ? arena_strdup(a, code) : NULL;
	sodium_memzero(code, sizeof(code));
	if (!t || (mail && !c))
		return -ENOMEM;
	*ret = (struct auth_login_result){
		.step = mail ? AUTH_NEED_MAIL_CODE : AUTH_NEED_TOTP,
		.account = *acc,
		.challenge = t,
		.mail_code = c,
	};
	return 0;
}

/* -EPERM when the account's tenant is suspended (operators have none). */
static int tenant_check(struct store *s, const struct account *acc, struct arena *a)
{
	struct tenant t;
	if (acc->tenant_id == 0)
		return 0;
	int r = store_tenant_get(s, acc->tenant_id, a, &t);
	if (r < 0)
		return r == -ENOENT ? -EPERM : r;
	return t.suspended ? -EPERM : 0;
}

int auth_login(struct store *s, const struct auth_policy *pol, const char *ip, const char *username,
	       const char *password, struct arena *a, struct auth_login_result *ret)
{
	int64_t now = now_unix(), failures = 0;
	struct account acc;
	int r;

	/* The address first: a throttled one learns nothing and costs no hash. */
	if (pol->ip_max_failures > 0) {
		if ((r = store_login_failures(s, ip_or_unknown(ip), now - pol->ip_window_seconds, &failures)) < 0)
			return r;
		if (failures >= pol->ip_max_failures)
			return -EAGAIN;
	}
	if (!username || !password)
		return -EINVAL;

	r = store_account_by_username(s, username, a, &acc);
	if (r == -ENOENT) {
		auth_password_verify(dummy_hash(), password);
		/* An unknown name locks like an account does, so that a 423 tells
		 * nobody the name exists: its failures are kept under "user:NAME". */
		_cleanup_free_ char *key = xasprintf("user:%s", username);
		int64_t n = 0;
		if (pol->max_failures > 0 &&
		    (r = store_login_failures(s, key, now - pol->lock_seconds, &n)) >= 0 && n < pol->max_failures)
			r = store_login_failure_add(s, key, now);
		if (r >= 0)
			r = count_failure(s, pol, ip, 0, now);
		return r < 0 ? r : pol->max_failures > 0 && n >= pol->max_failures ? -ENOLCK : -EACCES;
	}
	if (r < 0)
		return r;
	if (acc.locked_until > now) {
		r = count_failure(s, pol, ip, 0, now); /* the address's, not another lock-out of the account */
		return r < 0 ? r : -ENOLCK;
	}
	if (!auth_password_verify(acc.password_hash, password)) {
		r = count_failure(s, pol, ip, acc.id, now);
		return r < 0 ? r : -EACCES;
	}
	/* Only who knows the password learns that the tenant is suspended. */
	if ((r = tenant_check(s, &acc, a)) < 0)
		return r;

	if (acc.second_factor == FACTOR_NONE)
		return session_open(s, &acc, now, a, ret);
	/* With a second factor the failures are not forgiven yet: wrong codes
	 * after right passwords must add up to a lock-out too. */
	return challenge_open(s, pol, &acc, now, a, ret);
}

/* A code as typed: 6 digits, spaces ignored ("123 456"). */
static bool code_normalise(const char *in, char out[MAIL_CODE_DIGITS + 1])
{
	size_t n = 0;
	for (; in && *in; in++) {
		if (*in == ' ')
			continue;
		if (*in < '0' || *in > '9' || n == MAIL_CODE_DIGITS)
			return false;
		out[n++] = *in;
	}
	out[n] = '\0';
	return n == MAIL_CODE_DIGITS;
}

/* Whether the TOTP code is right and its step not used before. */
static int totp_check(struct store *s, const struct auth_policy *pol, const struct account *acc, const char *code,
		      int64_t now, bool *ret_ok)
{
	_cleanup_buf_ struct buf key = BUF_INIT(1024);
	int64_t step;
	int r;

	if (acc->second_factor != FACTOR_TOTP || acc->totp_sealed.len == 0 || !pol->key)
		return -EACCES; /* switched off meanwhile */
	/* -EBADMSG: sealed with another server key (secret.key replaced). */
	if ((r = secret_open(pol->key, acc->totp_sealed, &key)) < 0)
		return r;
	bool ok = auth_totp_verify((const unsigned char *)key.p, key.len, code, now, &step);
	secret_wipe(&key);
	if (ok) {
		r = store_account_totp_step(s, acc->id, step);
		if (r == -EALREADY)
			ok = false; /* a replay */
		else if (r < 0)
			return r;
	}
	*ret_ok = ok;
	return 0;
}

int auth_login_second(struct store *s, const struct auth_policy *pol, const char *ip, const char *challenge,
		      const char *code, struct arena *a, struct auth_login_result *ret)
{
	int64_t now = now_unix();
	unsigned char thash[STORE_HASH_LEN];
	char digits[MAIL_CODE_DIGITS + 1];
	struct challenge c;
	struct account acc;
	bool ok = false;
	int r;

	if (!challenge || !auth_secret_valid(challenge))
		return -EACCES;
	auth_secret_hash(challenge, thash);
	if ((r = store_challenge_find(s, thash, &c)) < 0)
		return r == -ENOENT ? -EACCES : r;
	if (c.kind != CHALLENGE_LOGIN)
		return -EACCES;
	if (c.expires_at <= now) {
		store_challenge_delete(s, c.id);
		return -EACCES;
	}
	if ((r = store_account_get(s, c.account_id, a, &acc)) < 0)
		return r == -ENOENT ? -EACCES : r;
	if (acc.locked_until > now) {
		store_challenge_delete(s, c.id);
		return -EACCES;
	}

	if (code_normalise(code, digits)) {
		if (c.has_code) {
			unsigned char h[STORE_HASH_LEN];
			code_hash(challenge, digits, h);
			ok = sodium_memcmp(h, c.code_hash, STORE_HASH_LEN) == 0;
		} else if ((r = totp_check(s, pol, &acc, digits, now, &ok)) < 0) {
			store_challenge_delete(s, c.id);
			return r;
		}
	}
	if (!ok) {
		int r1 = store_challenge_attempt(s, c.id);
		int r2 = count_failure(s, pol, ip, acc.id, now);
		if (c.attempts + 1 >= (pol->max_failures > 0 ? pol->max_failures : CHALLENGE_MAX_ATTEMPTS))
			store_challenge_delete(s, c.id);
		return r1 < 0 ? r1 : r2 < 0 ? r2 : -EACCES;
	}

	if ((r = tenant_check(s, &acc, a)) < 0) {
		store_challenge_delete(s, c.id);
		return r;
	}
	if ((r = store_challenge_delete(s, c.id)) < 0)
		return r == -ENOENT ? -EACCES : r; /* used by a request running alongside */
	return session_open(s, &acc, now, a, ret);
}

/* ---- password reset ---- */

int auth_reset_begin(struct store *s, const struct auth_policy *pol, const char *username, struct arena *a,
		     struct account *ret_account, const char **ret_token)
{
	char token[AUTH_TOKEN_LEN + 1];
	unsigned char hash[STORE_HASH_LEN];
	struct account acc;
	int r;

	if (!username || !username[0])
		return -ENOENT;
	if ((r = store_account_by_username(s, username, a, &acc)) < 0)
		return r;
	if (!acc.email || !acc.email[0])
		return -ENOENT; /* nowhere to send the link */
	id_random(token, AUTH_TOKEN_LEN);
	auth_secret_hash(token, hash);
	if ((r = store_challenge_create(s, hash, acc.id, CHALLENGE_RESET, NULL, now_unix() + pol->reset_seconds)) < 0)
		return r;
	const char *t = arena_strdup(a, token);
	sodium_memzero(token, sizeof(token));
	if (!t)
		return -ENOMEM;
	*ret_account = acc;
	*ret_token = t;
	return 0;
}

static void arena_freep(struct arena **a)
{
	arena_free(*a);
}

int auth_reset_finish(struct store *s, const char *token, const char *password, const char **ret_problem)
{
	unsigned char hash[STORE_HASH_LEN];
	_cleanup_(arena_freep) struct arena *a = NULL;
	_cleanup_free_ char *pw_hash = NULL;
	struct challenge c;
	struct account acc;
	int64_t now = now_unix();
	int r;

	if (!token || !auth_secret_valid(token))
		return -EACCES;
	auth_secret_hash(token, hash);
	if ((r = store_challenge_find(s, hash, &c)) < 0)
		return r == -ENOENT ? -EACCES : r;
	if (c.kind != CHALLENGE_RESET)
		return -EACCES;
	if (c.expires_at <= now) {
		store_challenge_delete(s, c.id);
		return -EACCES;
	}
	a = arena_new(16384);
	if ((r = store_account_get(s, c.account_id, a, &acc)) < 0)
		return r == -ENOENT ? -EACCES : r;

	/* A refused password leaves the token usable: the user tries another. */
	const char *problem = auth_password_problem(password, acc.username);
	if (problem) {
		*ret_problem = problem;
		return -EINVAL;
	}
	if ((r = auth_password_hash(password, &pw_hash)) < 0)
		return r;
	/* Used up first, so two requests with one token cannot both go on. */
	if ((r = store_challenge_delete(s, c.id)) < 0)
		return r == -ENOENT ? -EACCES : r;
	if ((r = store_account_set_password(s, acc.id, pw_hash, now)) < 0)
		return r;
	r = store_sessions_delete_account(s, acc.id, 0);
	return r < 0 ? r : 0;
}
