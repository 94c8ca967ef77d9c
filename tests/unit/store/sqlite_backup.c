/* Tests of src/store/sqlite_backup.c: an online backup taken while another
 * thread commits is one consistent snapshot; damaged or foreign files are
 * refused by store_check_file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/store.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	char *db;
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	int applied;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-backup-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->db = xasprintf("%s/kunren.db", f->dir);
	assert_int_equal(store_open(f->db, &f->s, &err), 0);
	assert_int_equal(store_migrate(f->s, &applied), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->db);
	free(f);
	return 0;
}

static int64_t rows_of(const struct store_snapshot *s, const char *table)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (!strcmp(s->tables[i].table, table))
			return s->tables[i].rows;
	return -1;
}

struct writer {
	struct store *s;
	atomic_bool stop;
	atomic_long made;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	while (!atomic_load(&w->stop)) {
		char name[32];
		int64_t id;
		snprintf(name, sizeof(name), "社%ld", atomic_load(&w->made));
		assert_int_equal(store_tenant_create(w->s, name, "Asia/Tokyo", &id), 0);
		atomic_fetch_add(&w->made, 1);
	}
	return NULL;
}

static void test_backup_while_writing_is_one_snapshot(void **state)
{
	struct fixture *f = *state;
	/* a few megabytes, so the copy takes many steps */
	for (int i = 0; i < 3000; i++) {
		char name[96];
		int64_t id;
		snprintf(name, sizeof(name), "テナント%04d-%0*d", i, 40, i);
		assert_int_equal(store_tenant_create(f->s, name, "UTC", &id), 0);
	}
	struct writer w = { .s = f->s };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	while (atomic_load(&w.made) < 20)
		usleep(1000);
	long before = atomic_load(&w.made);
	struct arena *a = arena_new(0);
	struct store_snapshot snap, again;
	char *err = NULL;
	char *dest = xasprintf("%s/copy.db", f->dir);
	int r = store_backup(f->db, dest, a, &snap, &err);
	assert_int_equal(r, 0);
	long after = atomic_load(&w.made);
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);

	int64_t tenants = rows_of(&snap, "tenants");
	assert_true(tenants >= 3000 + before && tenants <= 3000 + after + 1);
	assert_int_equal(snap.schema_version, store_schema_latest());
	assert_true(snap.ntables > 10);
	/* the file says the same when read again */
	assert_int_equal(store_check_file(dest, a, &again, &err), 0);
	assert_int_equal(again.schema_version, snap.schema_version);
	assert_int_equal(again.ntables, snap.ntables);
	for (size_t i = 0; i < snap.ntables; i++) {
		assert_string_equal(again.tables[i].table, snap.tables[i].table);
		assert_int_equal(again.tables[i].rows, snap.tables[i].rows);
	}
	/* one file: no temporary, journal or WAL left beside it */
	char *tmp = xasprintf("%s.tmp", dest), *wal = xasprintf("%s-wal", dest);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(wal, F_OK), -1);
	/* a second backup onto the same name replaces it whole */
	assert_int_equal(store_backup(f->db, dest, a, &again, &err), 0);
	assert_true(rows_of(&again, "tenants") >= tenants);
	free(tmp);
	free(wal);
	free(dest);
	arena_free(a);
}

static void test_missing_database_is_not_created(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	struct store_snapshot snap;
	char *err = NULL;
	char *missing = xasprintf("%s/none.db", f->dir), *dest = xasprintf("%s/out.db", f->dir);
	assert_true(store_backup(missing, dest, a, &snap, &err) < 0);
	assert_non_null(err);
	free(err);
	assert_int_equal(access(missing, F_OK), -1);
	assert_int_equal(access(dest, F_OK), -1);
	free(missing);
	free(dest);
	arena_free(a);
}

static void test_damaged_and_foreign_files_are_refused(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	struct store_snapshot snap;
	char *err = NULL;
	for (int i = 0; i < 2000; i++) {
		char name[96];
		int64_t id;
		snprintf(name, sizeof(name), "会社%04d-%0*d", i, 40, i);
		assert_int_equal(store_tenant_create(f->s, name, "UTC", &id), 0);
	}
	char *dest = xasprintf("%s/copy.db", f->dir);
	assert_int_equal(store_backup(f->db, dest, a, &snap, &err), 0);

	/* garbage over a page in the middle: integrity_check (or reading) fails */
	int fd = open(dest, O_WRONLY);
	assert_true(fd >= 0);
	off_t size = lseek(fd, 0, SEEK_END);
	char junk[4096];
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), size / 2 / 4096 * 4096), (ssize_t)sizeof(junk));
	close(fd);
	assert_true(store_check_file(dest, a, &snap, &err) < 0);
	assert_non_null(err);
	free(err);
	err = NULL;

	/* a SQLite file that is not Kunren's */
	char *other = xasprintf("%s/other.db", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_check_file(other, a, &snap, &err), -EBADMSG);
	assert_non_null(strstr(err, "not a Kunren database"));
	free(err);
	free(other);
	free(dest);
	arena_free(a);
}

int main(void)
{
	if (getenv("KUNREN_TEST_PG")) { /* make unit-pg: nothing here runs on PostgreSQL */
		printf("[  SKIPPED ] %s: the SQLite online backup of kunren.db only\n", __FILE__);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_while_writing_is_one_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_database_is_not_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_and_foreign_files_are_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
