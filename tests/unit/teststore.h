/*
 * teststore.h — the store fixture the unit test programs of the store's
 * users share: a fresh database in a temporary folder, migrated, with two
 * tenants (A社 in Asia/Tokyo, B社 in UTC) and a 1 MiB arena.  Use
 * test_store_setup / test_store_teardown as a cmocka group or test fixture;
 * *state is a struct test_store.  Include after <cmocka.h>.
 */
#ifndef KUNREN_TESTSTORE_H
#define KUNREN_TESTSTORE_H

#include "store/store.h"

#include <stdlib.h>

struct test_store {
	char dir[64];
	struct store *s;
	struct arena *a;
	int64_t t1, t2;
};

static __attribute__((unused)) int test_store_setup(void **state)
{
	struct test_store *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	int applied;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *path = xasprintf("%s/k.db", f->dir);
	assert_int_equal(store_open(path, &f->s, &err), 0);
	free(path);
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
	char *cmd = xasprintf("rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

#endif
