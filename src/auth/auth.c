/* auth.c — passwords, sessions, API keys.  Logging in is login.c, the
 * password policy password.c, TOTP totp.c. */
#include "auth/auth.h"

#include <semaphore.h>
#include <sodium.h>

/* Argon2id takes 64 MiB a run: at most this many run at once, whatever the
 * number of HTTP threads, so a burst of logins cannot exhaust memory. */
#define PWHASH_PARALLEL 2
static sem_t pwhash_slots;

int auth_init(void)
{
	if (sodium_init() < 0 || sem_init(&pwhash_slots, 0, PWHASH_PARALLEL) < 0)
		return -EIO;
	return 0;
}

static void slot_take(void)
{
	while (sem_wait(&pwhash_slots) < 0 && errno == EINTR)
		;
}

int auth_password_hash(const char *password, char **ret_hash)
{
	char out[crypto_pwhash_STRBYTES];
	slot_take();
	int r = crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE);
	sem_post(&pwhash_slots);
	if (r != 0)
		return -ENOMEM;
	*ret_hash = xstrdup(out);
	return 0;
}

bool auth_password_verify(const char *hash, const char *password)
{
	slot_take();
	bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	sem_post(&pwhash_slots);
	return ok;
}

void auth_secret_hash(const char *secret, unsigned char out[STORE_HASH_LEN])
{
	crypto_generichash(out, STORE_HASH_LEN, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

bool auth_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	if (n != strlen(b))
		return false;
	return sodium_memcmp(a, b, n) == 0;
}

bool auth_secret_valid(const char *t)
{
	size_t n = strlen(t);
	if (n < 16 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') ||
		      t[i] == '_' || t[i] == '-'))
			return false;
	return true;
}

int auth_session_check(struct store *s, const char *token, const struct auth_limits *lim, struct arena *a,
		       struct account *ret_account, struct session *ret_session)
{
	unsigned char hash[STORE_HASH_LEN];
	struct session ses;
	struct account acc;
	int64_t now = now_unix();

	if (!token || !auth_secret_valid(token))
		return -EACCES;
	auth_secret_hash(token, hash);
	int r = store_session_find(s, hash, a, &ses);
	if (r == -ENOENT)
		return -EACCES;
	if (r < 0)
		return r;
	if (now - ses.last_seen_at > lim->idle_seconds || now - ses.created_at > lim->max_seconds) {
		store_session_delete(s, ses.id);
		return -EACCES;
	}
	if ((r = store_account_get(s, ses.account_id, a, &acc)) < 0)
		return r == -ENOENT ? -EACCES : r;
	if (now - ses.last_seen_at >= 30) /* do not write on every request */
		store_session_touch(s, ses.id, now);
	*ret_account = acc;
	*ret_session = ses;
	return 0;
}

int auth_logout(struct store *s, const char *token)
{
	unsigned char hash[STORE_HASH_LEN];
	struct session ses;
	struct arena *a;
	if (!token || !auth_secret_valid(token))
		return 0;
	auth_secret_hash(token, hash);
	a = arena_new(4096);
	int r = store_session_find(s, hash, a, &ses);
	if (r == 0)
		r = store_session_delete(s, ses.id);
	arena_free(a);
	return r == -ENOENT ? 0 : r;
}

const char *auth_api_key_new(struct arena *a)
{
	char key[AUTH_TOKEN_LEN + 4];
	memcpy(key, "kr_", 3);
	id_random(key + 3, AUTH_TOKEN_LEN);
	return arena_strdup(a, key);
}

int auth_api_key_create(struct store *s, int64_t account_id, const char *label, const char *fixed,
			struct arena *a, const char **ret_key)
{
	unsigned char hash[STORE_HASH_LEN];
	const char *key = fixed ? arena_strdup(a, fixed) : auth_api_key_new(a);
	if (!key)
		return -ENOMEM;
	if (!auth_secret_valid(key))
		return -EINVAL;
	auth_secret_hash(key, hash);
	int r = store_api_key_add(s, account_id, hash, label);
	if (r < 0)
		return r;
	*ret_key = key;
	return 0;
}

int auth_api_key_check(struct store *s, const char *key, struct arena *a, struct account *ret_account,
		       int64_t *ret_key_id)
{
	unsigned char hash[STORE_HASH_LEN];
	int64_t account_id;
	if (!key || !auth_secret_valid(key))
		return -EACCES;
	auth_secret_hash(key, hash);
	int r = store_api_key_find(s, hash, &account_id, ret_key_id);
	if (r == -ENOENT)
		return -EACCES;
	if (r < 0)
		return r;
	r = store_account_get(s, account_id, a, ret_account);
	return r == -ENOENT ? -EACCES : r;
}
