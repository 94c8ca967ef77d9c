/* Tests of src/store/idempotency.c: claims, kept answers, release,
 * expiry, the take-over of a claim left by a process that is gone, the
 * purge of a deleted tenant's rows, and the rows that go when an account's
 * rights change (0015's triggers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/store.h"
#include "../teststore.h"

#include <unistd.h>

#define TTL 86400

static struct idempotency_entry entry(int64_t tenant, const char *cred, const char *key, const char *fp,
				      int64_t owner)
{
	return (struct idempotency_entry){ .tenant_id = tenant, .credential = cred, .key = key, .fingerprint = fp,
					   .owner = owner };
}

/* Claims e at `now`: 0 new, 1 found (into *ret). */
static int claim(struct test_store *f, const struct idempotency_entry *e, int64_t now, struct idempotency_entry *ret)
{
	struct idempotency_entry scratch;
	return store_idempotency_claim(f->s, e, now, TTL, f->a, ret ? ret : &scratch);
}

static void test_claim_finish_and_find(void **state)
{
	struct test_store *f = *state;
	struct idempotency_entry e = entry(f->t1, "c1", "k1", "fp1", 7), old;
	const char body[] = "sealed\0bytes";

	assert_int_equal(claim(f, &e, 1000, NULL), 0);
	/* Running: the same owner finds it running. */
	assert_int_equal(claim(f, &e, 1001, &old), 1);
	assert_int_equal(old.owner, 7);
	assert_string_equal(old.fingerprint, "fp1");
	assert_int_equal(old.created_at, 1000);

	e.status = 201;
	e.content_type = "application/json; charset=utf-8";
	e.headers = "[[\"Location\",\"/x\"]]";
	e.body_sealed = (struct slice){ body, sizeof(body) };
	assert_int_equal(store_idempotency_finish(f->s, &e), 0);

	/* Answered: any owner (another process too) finds the answer. */
	struct idempotency_entry other = entry(f->t1, "c1", "k1", "fp-other", 9);
	assert_int_equal(claim(f, &other, 1002, &old), 1);
	assert_int_equal(old.owner, 0);
	assert_int_equal(old.status, 201);
	assert_string_equal(old.fingerprint, "fp1");
	assert_string_equal(old.content_type, "application/json; charset=utf-8");
	assert_string_equal(old.headers, "[[\"Location\",\"/x\"]]");
	assert_int_equal(old.body_sealed.len, sizeof(body));
	assert_memory_equal(old.body_sealed.p, body, sizeof(body));
	/* A finished row is no longer the owner's to finish or release. */
	assert_int_equal(store_idempotency_finish(f->s, &e), -ENOENT);
	assert_int_equal(store_idempotency_release(f->s, &e), -ENOENT);
}

static void test_scope_is_tenant_credential_and_key(void **state)
{
	struct test_store *f = *state;
	struct idempotency_entry e = entry(f->t1, "c1", "k", "fp", 7);

	assert_int_equal(claim(f, &e, 1000, NULL), 0);
	struct idempotency_entry others[] = {
		entry(f->t2, "c1", "k", "fp", 7), /* another tenant */
		entry(f->t1, "c2", "k", "fp", 7), /* another credential */
		entry(f->t1, "c1", "K", "fp", 7), /* keys are case-sensitive */
		entry(0, "c1", "k", "fp", 7),     /* the operator */
	};
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		assert_int_equal(claim(f, &others[i], 1000, NULL), 0);
}

static void test_release_lets_a_repeat_run_again(void **state)
{
	struct test_store *f = *state;
	struct idempotency_entry e = entry(f->t1, "c1", "k1", "fp1", 7);

	assert_int_equal(claim(f, &e, 1000, NULL), 0);
	/* Only its owner releases it. */
	struct idempotency_entry stranger = entry(f->t1, "c1", "k1", "fp1", 8);
	assert_int_equal(store_idempotency_release(f->s, &stranger), -ENOENT);
	assert_int_equal(store_idempotency_release(f->s, &e), 0);
	assert_int_equal(claim(f, &e, 1001, NULL), 0);
}

static void test_a_claim_left_by_a_gone_process_is_taken_over(void **state)
{
	struct test_store *f = *state;
	struct idempotency_entry dead = entry(f->t1, "c1", "k1", "fp1", 7), old;
	struct idempotency_entry next = entry(f->t1, "c1", "k1", "fp2", 8);

	assert_int_equal(claim(f, &dead, 1000, NULL), 0);
	assert_int_equal(claim(f, &next, 1005, NULL), 0);
	/* Now the row is the new owner's, with its request. */
	assert_int_equal(claim(f, &next, 1006, &old), 1);
	assert_int_equal(old.owner, 8);
	assert_string_equal(old.fingerprint, "fp2");
	assert_int_equal(old.created_at, 1005);
	assert_int_equal(store_idempotency_finish(f->s, &dead), -ENOENT);
}

static void test_rows_expire_after_the_ttl(void **state)
{
	struct test_store *f = *state;
	struct idempotency_entry e = entry(f->t1, "c1", "k1", "fp1", 7), old;
	struct idempotency_entry e2 = entry(f->t1, "c1", "k2", "fp1", 7);
	const char body[] = "x";

	assert_int_equal(claim(f, &e, 1000, NULL), 0);
	e.status = 200;
	e.body_sealed = (struct slice){ body, 1 };
	assert_int_equal(store_idempotency_finish(f->s, &e), 0);
	/* Still there one second before its 24 hours are over ... */
	assert_int_equal(claim(f, &e, 1000 + TTL - 1, &old), 1);
	/* ... gone at the end: the claim purges and the key is new again. */
	assert_int_equal(claim(f, &e2, 1000 + TTL, NULL), 0);
	assert_int_equal(claim(f, &e, 1000 + TTL, NULL), 0);

	int64_t n = -1;
	assert_int_equal(store_idempotency_purge(f->s, 1000 + TTL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_idempotency_purge(f->s, 1000 + TTL, &n), 0);
	assert_int_equal(n, 0);
}

static void test_tenant_purge_takes_its_rows(void **state)
{
	struct test_store *f = *state;
	struct idempotency_entry a = entry(f->t1, "c1", "k", "fp", 7), b = entry(f->t2, "c1", "k", "fp", 7), old;
	int64_t rows = 0;

	assert_int_equal(claim(f, &a, 1000, NULL), 0);
	assert_int_equal(claim(f, &b, 1000, NULL), 0);
	assert_int_equal(store_tenant_purge(f->s, f->t1, "test", 0, 2000, &rows), 0);
	assert_true(rows >= 2); /* the tenant and its key */
	assert_int_equal(claim(f, &a, 1001, NULL), 0); /* gone: new again */
	assert_int_equal(claim(f, &b, 1001, &old), 1); /* the other tenant's stays */
}

/* Whether e's row is still there (a finished claim answers 1; a gone one
 * is claimed anew, then released again). */
static bool kept(struct test_store *f, struct idempotency_entry e)
{
	struct idempotency_entry old;
	e.owner = 99;
	int r = claim(f, &e, 1001, &old);
	if (r == 0)
		assert_int_equal(store_idempotency_release(f->s, &e), 0);
	return r == 1;
}

static void test_rows_go_when_the_account_loses_its_rights(void **state)
{
	struct test_store *f = *state;
	int64_t acc1, acc2, t2_owner;
	unsigned char h1[STORE_HASH_LEN] = { 1 }, h2[STORE_HASH_LEN] = { 2 };
	int64_t k1, k2, found;
	struct account acc;
	struct tenant t;

	assert_int_equal(store_account_create(f->s, f->t1, "a1", "$argon2id$1", ROLE_OWNER, &acc1), 0);
	assert_int_equal(store_account_create(f->s, f->t1, "a2", "$argon2id$2", ROLE_FULL, &acc2), 0);
	assert_int_equal(store_account_create(f->s, f->t2, "b1", "$argon2id$3", ROLE_OWNER, &t2_owner), 0);
	assert_int_equal(store_api_key_add(f->s, acc2, h1, "k1"), 0);
	assert_int_equal(store_api_key_add(f->s, acc2, h2, "k2"), 0);
	assert_int_equal(store_api_key_find(f->s, h1, &found, &k1), 0);
	assert_int_equal(store_api_key_find(f->s, h2, &found, &k2), 0);
	assert_int_equal(found, acc2);
	assert_true(k1 != k2);

	struct idempotency_entry e[] = {
		entry(f->t1, "s1", "k", "fp", 7), /* acc1's session */
		entry(f->t1, "s2", "k", "fp", 7), /* acc2's session */
		entry(f->t1, "c1", "k", "fp", 7), /* acc2's key k1 */
		entry(f->t1, "c2", "k", "fp", 7), /* acc2's key k2 */
		entry(f->t2, "s3", "k", "fp", 7), /* B's owner */
	};
	int64_t owners[] = { acc1, acc2, acc2, acc2, t2_owner }, keys[] = { 0, 0, k1, k2, 0 };
	for (size_t i = 0; i < 5; i++) {
		e[i].account_id = owners[i];
		e[i].api_key_id = keys[i];
		assert_int_equal(claim(f, &e[i], 1000, NULL), 0);
		assert_int_equal(store_idempotency_finish(f->s, &e[i]), 0);
	}
	for (size_t i = 0; i < 5; i++)
		assert_true(kept(f, e[i]));

	/* A key deleted: its rows only. */
	assert_int_equal(store_api_key_delete(f->s, acc2, k1), 0);
	assert_false(kept(f, e[2]));
	assert_true(kept(f, e[1]) && kept(f, e[3]));

	/* An update that keeps the role (an email) keeps them; a role change not. */
	assert_int_equal(store_account_get(f->s, acc2, f->a, &acc), 0);
	acc.email = "a2@example.jp";
	assert_int_equal(store_account_update(f->s, f->t1, &acc), 0);
	assert_true(kept(f, e[1]) && kept(f, e[3]));
	acc.role = ROLE_READONLY;
	assert_int_equal(store_account_update(f->s, f->t1, &acc), 0);
	assert_false(kept(f, e[1]) || kept(f, e[3]));
	assert_true(kept(f, e[0]));

	/* A password change; then the account deleted. */
	assert_int_equal(claim(f, &e[1], 1000, NULL), 0);
	assert_int_equal(store_idempotency_finish(f->s, &e[1]), 0);
	assert_int_equal(store_account_set_password(f->s, acc1, "$argon2id$new", 1000), 0);
	assert_false(kept(f, e[0]));
	assert_true(kept(f, e[1]));
	assert_int_equal(store_account_delete(f->s, f->t1, acc2), 0);
	assert_false(kept(f, e[1]));

	/* A tenant suspended: all its rows; the other tenant's stay. */
	assert_int_equal(claim(f, &e[0], 1000, NULL), 0);
	assert_int_equal(store_idempotency_finish(f->s, &e[0]), 0);
	assert_int_equal(store_tenant_get(f->s, f->t1, f->a, &t), 0);
	t.suspended = true;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	assert_false(kept(f, e[0]));
	assert_true(kept(f, e[4]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claim_finish_and_find, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_scope_is_tenant_credential_and_key, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_release_lets_a_repeat_run_again, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_a_claim_left_by_a_gone_process_is_taken_over, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_rows_expire_after_the_ttl, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_tenant_purge_takes_its_rows, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_rows_go_when_the_account_loses_its_rights, test_store_setup, test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
