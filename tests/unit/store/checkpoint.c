/*
 * The store's checkpointer (db_sqlite.c) keeps the WAL bounded while
 * commits never stop: a PASSIVE checkpoint beside a writer that always has
 * a commit in flight cannot copy the last frames by itself, and before the
 * catch-up rule the WAL grew to 1.7 GB in ten seconds of tracker load.
 * Asserts on sizes, never on time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "store/store.h"

#define COMMITS 40000
/* CKPT_PAGES (4,000 frames of 4 KiB) plus generous slack for the frames
 * written while a checkpoint runs: far below what 40,000 unchecked
 * commits leave behind (two or more frames each, > 300 MiB). */
#define WAL_BOUND ((off_t)64 << 20)

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : 0;
}

static void test_wal_stays_bounded_under_constant_commits(void **state)
{
	(void)state;
	char dir[] = "/tmp/kunren-ckpt-XXXXXX";
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *path = xasprintf("%s/k.db", dir);
	_cleanup_free_ char *wal = xasprintf("%s-wal", path);
	struct store *s;
	char *err = NULL;
	int applied;
	assert_int_equal(store_open(path, &s, &err), 0);
	assert_int_equal(store_migrate(s, &applied), 0);

	off_t largest = 0;
	for (int i = 0; i < COMMITS; i++) {
		char name[32];
		int64_t id;
		snprintf(name, sizeof(name), "t%d", i);
		assert_int_equal(store_tenant_create(s, name, "Asia/Tokyo", &id), 0);
		if (i % 500 == 0) {
			off_t n = file_size(wal);
			if (n > largest)
				largest = n;
		}
	}
	print_message("largest WAL seen: %lld bytes over %d commits\n", (long long)largest, COMMITS);
	assert_true(largest > 0);
	assert_true(largest < WAL_BOUND);

	/* every commit is there */
	struct arena *a = arena_new(0);
	struct tenant *t;
	size_t n;
	assert_int_equal(store_tenants(s, a, &t, &n), 0);
	assert_true(n >= COMMITS);
	arena_free(a);
	store_close(s);

	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	if (getenv("KUNREN_TEST_PG")) { /* make unit-pg: nothing here runs on PostgreSQL */
		printf("[  SKIPPED ] %s: the SQLite WAL checkpointer only\n", __FILE__);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_stays_bounded_under_constant_commits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
