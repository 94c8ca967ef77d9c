/*
 * teststore.h — the store fixture the unit test programs of the store's
 * users share: a fresh database in a temporary folder, migrated, with two
 * tenants (A社 in Asia/Tokyo, B社 in UTC) and a 1 MiB arena.  Use
 * test_store_setup / test_store_teardown as a cmocka group or test fixture;
 * *state is a struct test_store.  Include after <cmocka.h>.
 *
 * With KUNREN_TEST_PG set to a PostgreSQL server's URL (`make unit-pg`,
 * scripts/with-pg), the database is a fresh one on that server instead
 * (CREATE DATABASE kt_<random hex>), dropped again by the teardown.  A test
 * with its own fixture gets the same with test_db_new / test_db_drop.
 */
#ifndef KUNREN_TESTSTORE_H
#define KUNREN_TESTSTORE_H

#include "store/store.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

struct test_store {
	char dir[64];
	char *where; /* what store_open was given: a file path or a postgres:// URL */
	struct store *s;
	struct arena *a;
	int64_t t1, t2;
};

/* test_pg_exec(base, sql): runs one statement on KUNREN_TEST_PG's server
 * (outside a transaction, as CREATE/DROP DATABASE need); fails the test on
 * an error. */
static __attribute__((unused)) void test_pg_exec(const char *base, const char *sql)
{
	PGconn *c = PQconnectdb(base);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("KUNREN_TEST_PG=%s: %s", base, PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* test_db_new(dir): where a test's database lives, for store_open: on
 * SQLite "<dir>/k.db"; with KUNREN_TEST_PG a new empty database's URL on
 * that server.  The caller frees it (after test_db_drop). */
static __attribute__((unused)) char *test_db_new(const char *dir)
{
	const char *base = getenv("KUNREN_TEST_PG");
	if (!base || !*base)
		return xasprintf("%s/k.db", dir);
	/* postgres://user@host:port/postgres: the database is the last path part */
	const char *slash = strrchr(base, '/');
	const char *scheme = strstr(base, "://");
	assert_true(slash && scheme && slash > scheme + 2);
	unsigned char rnd[8];
	random_bytes(rnd, sizeof(rnd));
	char name[3 + 2 * sizeof(rnd) + 1] = "kt_";
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(name + 3 + 2 * i, 3, "%02x", rnd[i]);
	char *sql = xasprintf("CREATE DATABASE %s", name);
	test_pg_exec(base, sql);
	free(sql);
	return xasprintf("%.*s/%s", (int)(slash - base), base, name);
}

/* test_db_drop(where): drops the database test_db_new made (on PostgreSQL;
 * the store must be closed); on SQLite nothing (the folder goes with its
 * files). */
static __attribute__((unused)) void test_db_drop(const char *where)
{
	const char *base = getenv("KUNREN_TEST_PG");
	if (!base || !*base || strncmp(where, "postgres", 8) != 0)
		return;
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", strrchr(where, '/') + 1);
	test_pg_exec(base, sql);
	free(sql);
}

/* test_engine_is_pg(): the tests run on PostgreSQL (KUNREN_TEST_PG set). */
/* The end of test_db_new: the database dropped (PostgreSQL), where freed,
 * the temporary folder removed.  Close the store first. */
static __attribute__((unused)) void test_db_remove(char *where, const char *dir)
{
	test_db_drop(where);
	free(where);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static __attribute__((unused)) int test_engine_is_pg(void)
{
	const char *base = getenv("KUNREN_TEST_PG");
	return base && *base;
}

static __attribute__((unused)) int test_store_setup(void **state)
{
	struct test_store *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	int applied;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->where = test_db_new(f->dir);
	if (store_open(f->where, &f->s, &err) != 0)
		fail_msg("store_open %s: %s", f->where, err ? err : "?");
	assert_int_equal(store_migrate(f->s, &applied), 0);
	assert_int_equal(store_tenant_create(f->s, "A社", "Asia/Tokyo", &f->t1), 0);
	assert_int_equal(store_tenant_create(f->s, "B社", "UTC", &f->t2), 0);
	f->a = arena_new(1 << 20);
	*state = f;
	return 0;
}

static __attribute__((unused)) int test_store_teardown(void **state)
{
	struct test_store *f = *state;
	arena_free(f->a);
	store_close(f->s);
	test_db_remove(f->where, f->dir);
	free(f);
	return 0;
}

#endif
