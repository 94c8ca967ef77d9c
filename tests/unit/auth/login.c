/* Tests of src/auth/login.c against a real store in a temporary folder:
 * passwords, lock-out, throttling by address, suspended tenants, the mailed
 * code and TOTP second factors, password reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "../teststore.h" /* test_db_new: SQLite, or PostgreSQL with KUNREN_TEST_PG */

#define PW "correct horse battery"
#define IP "192.0.2.1"

struct fixture {
	char dir[64];
	char *where; /* the database: test_db_new */
	struct store *s;
	struct arena *a;
	struct secret_key key;
	struct auth_policy pol;
	int64_t tenant;
};

static const struct auth_limits limits = { .idle_seconds = 3600, .max_seconds = 86400 };

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	int applied;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->where = test_db_new(f->dir);
	assert_int_equal(store_open(f->where, &f->s, &err), 0);
	assert_int_equal(store_migrate(f->s, &applied), 0);
	assert_int_equal(store_tenant_create(f->s, "A社", "Asia/Tokyo", &f->tenant), 0);
	random_bytes(f->key.k, sizeof(f->key.k));
	f->a = arena_new(1 << 20);
	f->pol = (struct auth_policy){
		.max_failures = 3,
		.lock_seconds = 600,
		.ip_max_failures = 50,
		.ip_window_seconds = 600,
		.challenge_seconds = 300,
		.reset_seconds = 3600,
		.key = &f->key,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	test_db_remove(f->where, f->dir);
	arena_free(f->a);
	free(f);
	return 0;
}

static struct account account_get(struct fixture *f, int64_t id)
{
	struct account acc;
	assert_int_equal(store_account_get(f->s, id, f->a, &acc), 0);
	return acc;
}

/* An account with PW (or `pw`), a second factor and an address. */
static int64_t account_make(struct fixture *f, int64_t tenant, const char *name, const char *pw,
			    enum second_factor factor, const char *email, const unsigned char *totp_key)
{
	_cleanup_free_ char *hash = NULL;
	_cleanup_buf_ struct buf sealed = BUF_INIT(0);
	int64_t id;
	assert_int_equal(auth_password_hash(pw ? pw : PW, &hash), 0);
	assert_int_equal(store_account_create(f->s, tenant, name, hash, tenant ? ROLE_OWNER : ROLE_OPERATOR, &id), 0);
	struct account acc = account_get(f, id);
	acc.second_factor = factor;
	acc.email = email ? email : "";
	if (totp_key) {
		assert_int_equal(secret_seal(&f->key, (struct slice){ (const char *)totp_key, AUTH_TOTP_KEY_LEN }, &sealed),
				 0);
		acc.totp_sealed = buf_slice(&sealed);
	} else {
		acc.totp_sealed = (struct slice){ NULL, 0 };
	}
	assert_int_equal(store_account_update(f->s, tenant, &acc), 0);
	return id;
}

static int64_t ip_failures(struct fixture *f, const char *ip)
{
	int64_t n = -1;
	assert_int_equal(store_login_failures(f->s, ip, now_unix() - 600, &n), 0);
	return n;
}

static int login(struct fixture *f, const char *ip, const char *user, const char *pw, struct auth_login_result *r)
{
	return auth_login(f->s, &f->pol, ip, user, pw, f->a, r);
}

/* The session of a finished login is a real one. */
static void expect_session(struct fixture *f, const struct auth_login_result *r, int64_t account_id)
{
	struct account acc;
	struct session ses;
	assert_int_equal(r->step, AUTH_DONE);
	assert_int_equal(r->account.id, account_id);
	assert_non_null(r->token);
	assert_non_null(r->csrf);
	assert_int_equal(strlen(r->token), AUTH_TOKEN_LEN);
	assert_int_equal(strlen(r->csrf), AUTH_TOKEN_LEN);
	assert_null(r->challenge);
	assert_null(r->mail_code);
	assert_int_equal(auth_session_check(f->s, r->token, &limits, f->a, &acc, &ses), 0);
	assert_int_equal(acc.id, account_id);
	assert_string_equal(ses.csrf_token, r->csrf);
}

/* Unlocks as time would: a lock that ended in the past. */
static void lock_expire(struct fixture *f, int64_t id)
{
	int64_t until = -1;
	assert_int_equal(store_account_failed(f->s, id, now_unix() - 1000, 1, 1, &until), 0);
	assert_true(account_get(f, id).locked_until < now_unix());
}

static void test_password(void **state)
{
	struct fixture *f = *state;
	struct auth_login_result r, untouched = { .step = AUTH_NEED_TOTP };
	int64_t id = account_make(f, f->tenant, "alice", NULL, FACTOR_NONE, NULL, NULL);

	r = untouched;
	assert_int_equal(login(f, IP, "alice", "wrong password!", &r), -EACCES);
	assert_int_equal(r.step, AUTH_NEED_TOTP); /* written only on success */
	assert_int_equal(account_get(f, id).failures, 1);
	assert_int_equal(ip_failures(f, IP), 1);

	/* An unknown user: the same answer, counted against the address. */
	assert_int_equal(login(f, IP, "nobody", PW, &r), -EACCES);
	assert_int_equal(ip_failures(f, IP), 2);

	assert_int_equal(login(f, IP, "alice", PW, &r), 0);
	expect_session(f, &r, id);
	assert_string_equal(r.account.username, "alice");
	assert_int_equal(account_get(f, id).failures, 0); /* forgiven */
	assert_int_equal(ip_failures(f, IP), 2);

	/* Each login is a session of its own. */
	struct auth_login_result r2;
	assert_int_equal(login(f, IP, "alice", PW, &r2), 0);
	expect_session(f, &r2, id);
	assert_string_not_equal(r.token, r2.token);

	/* The user name is exact; empty and missing arguments are refused. */
	assert_int_equal(login(f, IP, "Alice ", PW, &r), -EACCES);
	assert_int_equal(login(f, IP, "alice", "", &r), -EACCES);
	assert_int_equal(login(f, IP, "alice", NULL, &r), -EINVAL);
	assert_int_equal(login(f, NULL, "nobody", PW, &r), -EACCES); /* no address known */
	assert_int_equal(ip_failures(f, "unknown"), 1);

	/* An unknown user costs an Argon2id verification too (loosely: at
	 * least a third of a wrong password's time; without the dummy hash
	 * it would be a hundredth). */
	int64_t unknown_ms = 0, wrong_ms = 0;
	for (int i = 0; i < 3; i++) {
		char who[24];
		snprintf(who, sizeof(who), "nobody%d", i); /* one try each: unknown names lock too */
		int64_t t0 = now_ms();
		assert_int_equal(login(f, "203.0.113.1", who, "guess", &r), -EACCES);
		int64_t t1 = now_ms();
		assert_int_equal(login(f, "203.0.113.1", "alice", "guess", &r), -EACCES);
		unknown_ms += t1 - t0;
		wrong_ms += now_ms() - t1;
		lock_expire(f, id);
	}
	/* An unknown name "locks" like an account, so a lock-out tells nothing. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "203.0.113.2", "ghost", "guess", &r), -EACCES);
	assert_int_equal(login(f, "203.0.113.2", "ghost", "guess", &r), -ENOLCK);
	if (unknown_ms * 3 < wrong_ms)
		fail_msg("an unknown user took %lld ms, a wrong password %lld ms", (long long)unknown_ms,
			 (long long)wrong_ms);
}

static void test_lockout(void **state)
{
	struct fixture *f = *state;
	struct auth_login_result r;
	int64_t id = account_make(f, f->tenant, "bob", NULL, FACTOR_NONE, NULL, NULL);

	for (int i = 1; i <= 3; i++) {
		assert_int_equal(login(f, IP, "bob", "not the password", &r), -EACCES);
		struct account acc = account_get(f, id);
		if (i < 3) {
			assert_int_equal(acc.failures, i);
			assert_int_equal(acc.locked_until, 0);
		} else {
			assert_true(acc.locked_until > now_unix());
			assert_true(acc.locked_until <= now_unix() + f->pol.lock_seconds);
		}
	}
	int64_t until = account_get(f, id).locked_until;

	/* Locked: the right password does not help, a wrong one does not
	 * extend the lock; the address still pays. */
	assert_int_equal(login(f, IP, "bob", PW, &r), -ENOLCK);
	assert_int_equal(login(f, IP, "bob", "still wrong", &r), -ENOLCK);
	assert_int_equal(account_get(f, id).locked_until, until);
	assert_int_equal(ip_failures(f, IP), 5);

	/* Another account is not affected. */
	int64_t other = account_make(f, f->tenant, "carol", NULL, FACTOR_NONE, NULL, NULL);
	assert_int_equal(login(f, IP, "carol", PW, &r), 0);
	expect_session(f, &r, other);

	/* Once locked_until has passed, the right password works again. */
	lock_expire(f, id);
	assert_int_equal(login(f, IP, "bob", PW, &r), 0);
	expect_session(f, &r, id);
	assert_int_equal(account_get(f, id).failures, 0);

	/* Failures in a row: a success in between starts the count again. */
	assert_int_equal(login(f, IP, "bob", "wrong 1", &r), -EACCES);
	assert_int_equal(login(f, IP, "bob", "wrong 2", &r), -EACCES);
	assert_int_equal(login(f, IP, "bob", PW, &r), 0);
	assert_int_equal(login(f, IP, "bob", "wrong 3", &r), -EACCES);
	assert_int_equal(login(f, IP, "bob", PW, &r), 0);
	assert_int_equal(account_get(f, id).locked_until < now_unix(), true);
}

static void test_throttle(void **state)
{
	struct fixture *f = *state;
	struct auth_login_result r;
	f->pol.ip_max_failures = 3;
	int64_t id = account_make(f, f->tenant, "dave", NULL, FACTOR_NONE, NULL, NULL);

	assert_int_equal(login(f, "198.51.100.7", "nobody", "x", &r), -EACCES);
	assert_int_equal(login(f, "198.51.100.7", "dave", "wrong", &r), -EACCES);
	assert_int_equal(login(f, "198.51.100.7", "nobody2", "x", &r), -EACCES);
	assert_int_equal(account_get(f, id).failures, 1);

	/* Throttled: nothing is checked or counted, not even the right password. */
	assert_int_equal(login(f, "198.51.100.7", "dave", PW, &r), -EAGAIN);
	assert_int_equal(login(f, "198.51.100.7", "dave", "wrong", &r), -EAGAIN);
	assert_int_equal(ip_failures(f, "198.51.100.7"), 3);
	assert_int_equal(account_get(f, id).failures, 1);

	/* Another address is fine. */
	assert_int_equal(login(f, "198.51.100.8", "dave", PW, &r), 0);
	expect_session(f, &r, id);

	/* Failures older than the window do not count. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(store_login_failure_add(f->s, "198.51.100.9", now_unix() - 601), 0);
	assert_int_equal(login(f, "198.51.100.9", "dave", PW, &r), 0);
	expect_session(f, &r, id);
	/* ... and ones within it do. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_login_failure_add(f->s, "198.51.100.9", now_unix() - 590), 0);
	assert_int_equal(login(f, "198.51.100.9", "dave", PW, &r), -EAGAIN);

	/* 0: no throttling. */
	f->pol.ip_max_failures = 0;
	assert_int_equal(login(f, "198.51.100.7", "dave", PW, &r), 0);
}

static void test_suspended(void **state)
{
	struct fixture *f = *state;
	struct auth_login_result r;
	int64_t id = account_make(f, f->tenant, "erin", NULL, FACTOR_NONE, NULL, NULL);
	int64_t op = account_make(f, 0, "operator", NULL, FACTOR_NONE, NULL, NULL);
	struct tenant t;

	assert_int_equal(store_tenant_get(f->s, f->tenant, f->a, &t), 0);
	t.suspended = true;
	assert_int_equal(store_tenant_update(f->s, &t), 0);

	assert_int_equal(login(f, IP, "erin", PW, &r), -EPERM);
	/* Only who knows the password learns of the suspension. */
	assert_int_equal(login(f, IP, "erin", "wrong password", &r), -EACCES);
	assert_int_equal(account_get(f, id).failures, 1);
	/* The operator has no tenant to be suspended. */
	assert_int_equal(login(f, IP, "operator", PW, &r), 0);
	expect_session(f, &r, op);

	t.suspended = false;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	assert_int_equal(login(f, IP, "erin", PW, &r), 0);
	expect_session(f, &r, id);
}

/* A 6-digit code other than `code`. */
static void code_other(const char *code, char out[7])
{
	int64_t n;
	assert_int_equal(slice_to_i64(slice_from(code), 0, 999999, &n), 0);
	snprintf(out, 7, "%06u", (unsigned)((n + 1) % 1000000));
}

static void test_mail_code(void **state)
{
	struct fixture *f = *state;
	struct auth_login_result r, r2;
	char wrong[7];
	int64_t id = account_make(f, f->tenant, "frank", NULL, FACTOR_MAIL, "frank@example.jp", NULL);

	assert_int_equal(login(f, IP, "frank", "wrong password", &r), -EACCES);
	assert_int_equal(login(f, IP, "frank", PW, &r), 0);
	assert_int_equal(r.step, AUTH_NEED_MAIL_CODE);
	assert_int_equal(r.account.id, id);
	assert_null(r.token);
	assert_null(r.csrf);
	assert_true(auth_secret_valid(r.challenge));
	assert_non_null(r.mail_code);
	assert_int_equal(strlen(r.mail_code), 6);
	assert_int_equal(strspn(r.mail_code, "0123456789"), 6);
	/* No failure forgiven before the second factor is done. */
	assert_int_equal(account_get(f, id).failures, 1);

	/* A wrong code is counted against the account and the address. */
	int64_t ip_before = ip_failures(f, IP);
	code_other(r.mail_code, wrong);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, wrong, f->a, &r2), -EACCES);
	assert_int_equal(account_get(f, id).failures, 2);
	assert_int_equal(ip_failures(f, IP), ip_before + 1);
	lock_expire(f, id); /* failures back to 0 */
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, "abcdef", f->a, &r2), -EACCES);
	assert_int_equal(account_get(f, id).failures, 1);
	assert_true(account_get(f, id).locked_until < now_unix());

	/* The right code, typed with a space, is a session; once. */
	char spaced[8];
	snprintf(spaced, sizeof(spaced), "%.3s %s", r.mail_code, r.mail_code + 3);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, spaced, f->a, &r2), 0);
	expect_session(f, &r2, id);
	assert_int_equal(account_get(f, id).failures, 0);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, r.mail_code, f->a, &r2), -EACCES);

	/* A new login replaces the pending one; codes are not shared. */
	struct auth_login_result a1, a2;
	assert_int_equal(login(f, IP, "frank", PW, &a1), 0);
	assert_int_equal(login(f, IP, "frank", PW, &a2), 0);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, a1.challenge, a1.mail_code, f->a, &r2), -EACCES);
	if (strcmp(a1.mail_code, a2.mail_code) != 0)
		assert_int_equal(auth_login_second(f->s, &f->pol, IP, a2.challenge, a1.mail_code, f->a, &r2), -EACCES);
	lock_expire(f, id);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, a2.challenge, a2.mail_code, f->a, &r2), 0);
	expect_session(f, &r2, id);

	/* Expired: refused even with the right code, and gone. */
	f->pol.challenge_seconds = 0;
	assert_int_equal(login(f, IP, "frank", PW, &r), 0);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, r.mail_code, f->a, &r2), -EACCES);
	f->pol.challenge_seconds = 300;
	assert_int_equal(account_get(f, id).failures, 0); /* not a guess */

	/* Unknown and malformed challenges. */
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "123456",
					   f->a, &r2), -EACCES);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, "short", "123456", f->a, &r2), -EACCES);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, NULL, "123456", f->a, &r2), -EACCES);

	/* max_failures wrong codes: the challenge is gone, the account locked. */
	assert_int_equal(login(f, IP, "frank", PW, &r), 0);
	code_other(r.mail_code, wrong);
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, wrong, f->a, &r2), -EACCES);
	assert_true(account_get(f, id).locked_until > now_unix());
	lock_expire(f, id);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, r.mail_code, f->a, &r2), -EACCES);

	/* Wrong codes add up across logins: a right password does not reset them. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(login(f, IP, "frank", PW, &r), 0);
		code_other(r.mail_code, wrong);
		assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, wrong, f->a, &r2), -EACCES);
	}
	assert_true(account_get(f, id).locked_until > now_unix());
	assert_int_equal(login(f, IP, "frank", PW, &r), -ENOLCK);
	/* A pending challenge dies with the lock. */
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, r.mail_code, f->a, &r2), -EACCES);
}

static void totp_now(const unsigned char *key, int64_t t, char out[7])
{
	uint32_t c;
	assert_int_equal(auth_totp_code(AUTH_SHA1, key, AUTH_TOTP_KEY_LEN, t, 6, &c), 0);
	snprintf(out, 7, "%06u", (unsigned)c);
}

static void test_totp(void **state)
{
	struct fixture *f = *state;
	struct auth_login_result r, r2;
	unsigned char key[AUTH_TOTP_KEY_LEN];
	char code[7], wrong[7];
	random_bytes(key, sizeof(key));
	int64_t id = account_make(f, f->tenant, "grace", NULL, FACTOR_TOTP, "grace@example.jp", key);

	assert_int_equal(login(f, IP, "grace", PW, &r), 0);
	assert_int_equal(r.step, AUTH_NEED_TOTP);
	assert_null(r.mail_code);
	assert_null(r.token);
	assert_true(auth_secret_valid(r.challenge));

	int64_t step = now_unix() / 30;
	totp_now(key, step * 30, code);
	code_other(code, wrong);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, wrong, f->a, &r2), -EACCES);
	assert_int_equal(account_get(f, id).failures, 1);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, code, f->a, &r2), 0);
	expect_session(f, &r2, id);
	assert_int_equal(account_get(f, id).totp_last_step, step);
	assert_int_equal(account_get(f, id).failures, 0);

	/* The same code again (someone who saw it): refused, and counted. */
	assert_int_equal(login(f, IP, "grace", PW, &r), 0);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, code, f->a, &r2), -EACCES);
	assert_int_equal(account_get(f, id).failures, 1);
	/* So is the step before (never back); the next one is fine. */
	totp_now(key, (step - 1) * 30, code);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, code, f->a, &r2), -EACCES);
	lock_expire(f, id);
	totp_now(key, (step + 1) * 30, code);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, code, f->a, &r2), 0);
	expect_session(f, &r2, id);
	assert_int_equal(account_get(f, id).totp_last_step, step + 1);

	/* A secret the server key cannot open is an error, not a wrong code. */
	struct secret_key other;
	random_bytes(other.k, sizeof(other.k));
	f->pol.key = &other;
	assert_int_equal(login(f, IP, "grace", PW, &r), 0);
	totp_now(key, (step + 2) * 30, code);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, code, f->a, &r2), -EBADMSG);
	f->pol.key = &f->key;

	/* TOTP switched off meanwhile: the pending challenge is no good. */
	assert_int_equal(login(f, IP, "grace", PW, &r), 0);
	struct account acc = account_get(f, id);
	acc.second_factor = FACTOR_NONE;
	acc.totp_sealed = (struct slice){ NULL, 0 };
	assert_int_equal(store_account_update(f->s, f->tenant, &acc), 0);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, code, f->a, &r2), -EACCES);
	assert_int_equal(login(f, IP, "grace", PW, &r), 0);
	expect_session(f, &r, id);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;
	struct auth_login_result r, s1, s2;
	struct account acc;
	const char *token = NULL, *problem = NULL;
	int64_t id = account_make(f, f->tenant, "heidi", NULL, FACTOR_NONE, "heidi@example.jp", NULL);
	account_make(f, f->tenant, "ivan", NULL, FACTOR_NONE, NULL, NULL);

	assert_int_equal(auth_reset_begin(f->s, &f->pol, "nobody", f->a, &acc, &token), -ENOENT);
	assert_int_equal(auth_reset_begin(f->s, &f->pol, "ivan", f->a, &acc, &token), -ENOENT); /* no address */
	assert_null(token);

	assert_int_equal(login(f, IP, "heidi", PW, &s1), 0);
	assert_int_equal(login(f, IP, "heidi", PW, &s2), 0);
	assert_int_equal(auth_reset_begin(f->s, &f->pol, "heidi", f->a, &acc, &token), 0);
	assert_int_equal(acc.id, id);
	assert_string_equal(acc.email, "heidi@example.jp");
	assert_int_equal(strlen(token), AUTH_TOKEN_LEN);
	assert_true(auth_secret_valid(token));

	/* A reset token is not a login challenge. */
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, token, "123456", f->a, &r), -EACCES);

	/* A weak password is refused and the token stays usable. */
	assert_int_equal(auth_reset_finish(f->s, token, "short", &problem), -EINVAL);
	assert_non_null(problem);
	assert_non_null(strstr(problem, "at least 10"));
	problem = NULL;
	assert_int_equal(auth_reset_finish(f->s, token, "heidi-in-the-alps", &problem), -EINVAL);
	assert_non_null(strstr(problem, "user name"));

	/* Locked or not, the reset works and unlocks. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, IP, "heidi", "bad", &r), -EACCES);
	assert_int_equal(login(f, IP, "heidi", PW, &r), -ENOLCK);

	problem = NULL;
	assert_int_equal(auth_reset_finish(f->s, token, "a new long passphrase", &problem), 0);
	assert_null(problem);
	struct session ses;
	assert_int_equal(auth_session_check(f->s, s1.token, &limits, f->a, &acc, &ses), -EACCES);
	assert_int_equal(auth_session_check(f->s, s2.token, &limits, f->a, &acc, &ses), -EACCES);
	assert_int_equal(login(f, IP, "heidi", PW, &r), -EACCES);
	assert_int_equal(login(f, IP, "heidi", "a new long passphrase", &r), 0);
	expect_session(f, &r, id);
	assert_true(account_get(f, id).password_changed_at > 0);

	/* Used up. */
	assert_int_equal(auth_reset_finish(f->s, token, "yet another passphrase", &problem), -EACCES);

	/* A newer link replaces an older one. */
	const char *t1, *t2;
	assert_int_equal(auth_reset_begin(f->s, &f->pol, "heidi", f->a, &acc, &t1), 0);
	assert_int_equal(auth_reset_begin(f->s, &f->pol, "heidi", f->a, &acc, &t2), 0);
	assert_string_not_equal(t1, t2);
	assert_int_equal(auth_reset_finish(f->s, t1, "yet another passphrase", &problem), -EACCES);

	/* A pending login challenge is not a reset token. */
	f->pol.challenge_seconds = 300;
	int64_t mid = account_make(f, f->tenant, "judy", NULL, FACTOR_MAIL, "judy@example.jp", NULL);
	assert_int_equal(login(f, IP, "judy", PW, &r), 0);
	assert_int_equal(auth_reset_finish(f->s, r.challenge, "yet another passphrase", &problem), -EACCES);
	assert_int_equal(auth_login_second(f->s, &f->pol, IP, r.challenge, r.mail_code, f->a, &s1), 0);
	expect_session(f, &s1, mid);

	/* Expired. */
	f->pol.reset_seconds = 0;
	assert_int_equal(auth_reset_begin(f->s, &f->pol, "heidi", f->a, &acc, &token), 0);
	assert_int_equal(auth_reset_finish(f->s, token, "yet another passphrase", &problem), -EACCES);
	assert_int_equal(login(f, IP, "heidi", "a new long passphrase", &r), 0);

	/* Garbage tokens. */
	assert_int_equal(auth_reset_finish(f->s, "", "yet another passphrase", &problem), -EACCES);
	assert_int_equal(auth_reset_finish(f->s, NULL, "yet another passphrase", &problem), -EACCES);
	assert_int_equal(auth_reset_finish(f->s, "x' OR 1=1 --", "yet another passphrase", &problem), -EACCES);
}

int main(void)
{
	if (auth_init() < 0) {
		fprintf(stderr, "auth_init failed\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
