/* Tests of src/backup/backup.c: the data folder's lock, a backup and its
 * restore, and a restore that changes nothing when a check fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "backup/backup.h"
#include "store/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* rename() of backup.c, with one failure injected: the next rename whose
 * new name ends with fail_rename_to fails with EIO (this definition
 * replaces libc's in the test program). */
static const char *fail_rename_to;

int rename(const char *from, const char *to)
{
	size_t n = fail_rename_to ? strlen(fail_rename_to) : 0, len = strlen(to);
	if (n && len >= n && !strcmp(to + len - n, fail_rename_to)) {
		fail_rename_to = NULL;
		errno = EIO;
		return -1;
	}
	return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

struct fixture {
	char dir[64];
	char *data, *bk, *other;
	FILE *out;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-bk-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->data = xasprintf("%s/data", f->dir);
	f->bk = xasprintf("%s/bk", f->dir);
	f->other = xasprintf("%s/other", f->dir);
	f->out = fopen("/dev/null", "w");
	assert_non_null(f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	fclose(f->out);
	free(f->data);
	free(f->bk);
	free(f->other);
	free(f);
	return 0;
}

/* A data folder with a database (n tenants) and a key. */
static void data_make(const char *dir, int n)
{
	struct store *s;
	char *err = NULL;
	int applied;
	assert_int_equal(mkdir_p(dir, 0750), 0);
	char *db = xasprintf("%s/kunren.db", dir), *key = xasprintf("%s/secret.key", dir);
	assert_int_equal(store_open(db, &s, &err), 0);
	assert_int_equal(store_migrate(s, &applied), 0);
	for (int i = 0; i < n; i++) {
		char name[32];
		int64_t id;
		snprintf(name, sizeof(name), "社%d", i);
		assert_int_equal(store_tenant_create(s, name, "UTC", &id), 0);
	}
	store_close(s);
	struct secret_key k;
	assert_int_equal(secret_key_load(key, &k), 1);
	free(db);
	free(key);
}

static int64_t tenants_in(const char *dir)
{
	char *db = xasprintf("%s/kunren.db", dir), *err = NULL;
	struct arena *a = arena_new(0);
	struct store_snapshot snap;
	assert_int_equal(store_check_file(db, a, &snap, &err), 0);
	int64_t n = -1;
	for (size_t i = 0; i < snap.ntables; i++)
		if (!strcmp(snap.tables[i].table, "tenants"))
			n = snap.tables[i].rows;
	arena_free(a);
	free(db);
	return n;
}

static void test_lock_shared_and_exclusive(void **state)
{
	struct fixture *f = *state;
	int a = backup_lock(f->data, false), b = backup_lock(f->data, false);
	assert_true(a >= 0 && b >= 0); /* two servers, or a server and a backup */
	assert_int_equal(backup_lock(f->data, true), -EBUSY);
	close(a);
	assert_int_equal(backup_lock(f->data, true), -EBUSY);
	close(b);
	int x = backup_lock(f->data, true);
	assert_true(x >= 0);
	assert_int_equal(backup_lock(f->data, false), -EBUSY); /* no server during a restore */
	close(x);
}

/* A PostgreSQL database is not a file to copy: refused before anything is
 * made, with the tool to use instead. */
static void test_backup_of_postgres_refused(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;
	data_make(f->data, 1);
	assert_int_equal(backup_create(f->data, "postgres://kunren@127.0.0.1:1/kunren", f->bk, "test", f->out, &err),
			 -ENOTSUP);
	assert_non_null(err);
	assert_non_null(strstr(err, "pg_dump"));
	free(err);
	struct stat st;
	assert_int_equal(stat(f->bk, &st), -1);
}

static void test_backup_and_restore(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;
	data_make(f->data, 3);
	assert_int_equal(backup_create(f->data, NULL, f->bk, "test", f->out, &err), 0);
	struct stat st;
	char *key = xasprintf("%s/secret.key", f->bk);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the same folder again is refused */
	assert_int_equal(backup_create(f->data, NULL, f->bk, "test", f->out, &err), -EEXIST);
	free(err);
	err = NULL;

	/* restored over another data folder: replaced, the old files kept */
	data_make(f->other, 7);
	int64_t before = tenants_in(f->other);
	assert_int_equal(backup_restore(f->bk, f->other, f->out, &err), 0);
	assert_int_equal(tenants_in(f->other), tenants_in(f->data));
	char *old = xasprintf("%s/kunren.db.replaced", f->other);
	char *oldkey = xasprintf("%s/secret.key.replaced", f->other);
	assert_int_equal(access(old, F_OK), 0);
	assert_int_equal(access(oldkey, F_OK), 0);
	char *copy = xasprintf("%s/kept", f->dir);
	assert_int_equal(mkdir(copy, 0700), 0);
	char *moved = xasprintf("%s/kunren.db", copy);
	assert_int_equal(rename(old, moved), 0);
	assert_int_equal(tenants_in(copy), before);

	/* refused while a server holds the folder: nothing changes */
	int lock = backup_lock(f->other, false);
	assert_true(lock >= 0);
	assert_int_equal(backup_restore(f->bk, f->other, f->out, &err), -EBUSY);
	assert_non_null(strstr(err, "stop it first"));
	free(err);
	close(lock);
	free(key);
	free(old);
	free(oldkey);
	free(copy);
	free(moved);
}

static void test_restore_of_a_damaged_backup_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;
	data_make(f->data, 2);
	assert_int_equal(backup_create(f->data, NULL, f->bk, "test", f->out, &err), 0);
	data_make(f->other, 5);
	int64_t before = tenants_in(f->other);
	/* a manifest that says another count */
	char *m = xasprintf("%s/manifest.json", f->bk);
	struct buf b = BUF_INIT(1 << 20);
	assert_int_equal(file_read(m, 1 << 20, &b), 0);
	char *p = strstr(b.p, "\"tenants\": ");
	assert_non_null(p);
	p[strlen("\"tenants\": ")] = '9';
	assert_int_equal(file_write_atomic(m, b.p, b.len), 0);
	assert_int_equal(backup_restore(f->bk, f->other, f->out, &err), -EBADMSG);
	assert_non_null(strstr(err, "tenants"));
	free(err);
	assert_int_equal(tenants_in(f->other), before);
	char *tmp = xasprintf("%s/kunren.db.restore-tmp", f->other), *old = xasprintf("%s/kunren.db.replaced", f->other);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(old, F_OK), -1);
	buf_release(&b);
	free(m);
	free(tmp);
	free(old);
}

static void test_backup_files_are_private(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;
	data_make(f->data, 1);
	/* an existing folder open to everyone, a permissive umask */
	assert_int_equal(mkdir(f->bk, 0755), 0);
	assert_int_equal(chmod(f->bk, 0755), 0);
	mode_t old = umask(022);
	/* a link planted at the temporary name must not be followed */
	char *victim = xasprintf("%s/victim", f->dir), *planted = xasprintf("%s/kunren.db.tmp", f->bk);
	FILE *v = fopen(victim, "w");
	assert_non_null(v);
	fputs("untouched", v);
	fclose(v);
	assert_int_equal(symlink(victim, planted), 0);
	int r = backup_create(f->data, NULL, f->bk, "test", f->out, &err);
	umask(old);
	assert_int_equal(r, 0);
	DIR *d = opendir(f->bk);
	assert_non_null(d);
	int files = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", f->bk, e->d_name);
		struct stat st;
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		if ((st.st_mode & 0777) != 0600)
			fail_msg("%s has mode %o", e->d_name, (unsigned)(st.st_mode & 0777));
		files++;
		free(path);
	}
	closedir(d);
	assert_int_equal(files, 3); /* kunren.db, secret.key, manifest.json */
	struct buf b = BUF_INIT(4096);
	assert_int_equal(file_read(victim, 4096, &b), 0);
	assert_string_equal(b.p, "untouched");
	buf_release(&b);
	free(victim);
	free(planted);
}

/* A data folder whose last commit (one more tenant) is only in its WAL. */
static void wal_commit(const char *dir)
{
	char *db = xasprintf("%s/kunren.db", dir), *wal = xasprintf("%s/kunren.db-wal", dir);
	sqlite3 *h;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	int off;
	assert_int_equal(sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &off), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; "
					 "INSERT INTO tenants (name, time_zone, created_at) VALUES ('wal', 'UTC', 1)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	struct stat st;
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size > 0);
	free(db);
	free(wal);
}

static char *key_of(const char *dir)
{
	char *path = xasprintf("%s/secret.key", dir);
	struct buf b = BUF_INIT(4096);
	assert_int_equal(file_read(path, 4096, &b), 0);
	free(path);
	char *k = xmalloc(b.len * 2 + 1);
	sodium_bin2hex(k, b.len * 2 + 1, (const unsigned char *)b.p, b.len);
	buf_release(&b);
	return k;
}

/* A rename that fails during the replace leaves the data folder as it was:
 * its database with its WAL, its key, no temporary file. */
static void restore_fails_at(struct fixture *f, const char *target)
{
	char *err = NULL;
	data_make(f->data, 2);
	assert_int_equal(backup_create(f->data, NULL, f->bk, "test", f->out, &err), 0);
	data_make(f->other, 5);
	wal_commit(f->other);
	char *key = key_of(f->other);
	fail_rename_to = target;
	assert_int_equal(backup_restore(f->bk, f->other, f->out, &err), -EIO);
	assert_null(fail_rename_to); /* the failure did happen */
	assert_non_null(strstr(err, "nothing was changed"));
	free(err);
	char *wal = xasprintf("%s/kunren.db-wal", f->other), *tmp = xasprintf("%s/kunren.db.restore-tmp", f->other);
	char *ktmp = xasprintf("%s/secret.key.restore-tmp", f->other);
	assert_int_equal(access(wal, F_OK), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(ktmp, F_OK), -1);
	char *old = xasprintf("%s/kunren.db.replaced", f->other);
	assert_int_equal(access(old, F_OK), -1);
	free(old);
	char *now = key_of(f->other);
	assert_string_equal(now, key);
	assert_int_equal(tenants_in(f->other), 6); /* 5 + the one in the WAL */
	/* and a restore afterwards works */
	assert_int_equal(backup_restore(f->bk, f->other, f->out, &err), 0);
	assert_int_equal(tenants_in(f->other), 2);
	free(wal);
	free(tmp);
	free(ktmp);
	free(key);
	free(now);
}

static void test_restore_undone_when_the_database_rename_fails(void **state)
{
	restore_fails_at(*state, "/kunren.db");
}

static void test_restore_undone_when_the_key_rename_fails(void **state)
{
	restore_fails_at(*state, "/secret.key");
}

static void test_restore_undone_when_the_old_database_cannot_be_kept(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;
	data_make(f->data, 2);
	assert_int_equal(backup_create(f->data, NULL, f->bk, "test", f->out, &err), 0);
	data_make(f->other, 5);
	char *key = key_of(f->other);
	/* a directory where kunren.db.replaced goes: the hard link fails */
	char *old = xasprintf("%s/kunren.db.replaced", f->other), *inside = xasprintf("%s/x", old);
	assert_int_equal(mkdir(old, 0700), 0);
	assert_int_equal(mkdir(inside, 0700), 0);
	assert_true(backup_restore(f->bk, f->other, f->out, &err) < 0);
	assert_non_null(strstr(err, "nothing was changed"));
	free(err);
	char *now = key_of(f->other);
	assert_string_equal(now, key);
	assert_int_equal(tenants_in(f->other), 5);
	free(old);
	free(inside);
	free(key);
	free(now);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_shared_and_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_of_postgres_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_of_a_damaged_backup_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_files_are_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_undone_when_the_database_rename_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_undone_when_the_key_rename_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_undone_when_the_old_database_cannot_be_kept, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
