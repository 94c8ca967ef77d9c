/* Unit tests for src/api/operator.c: the service period (SPEC A2, A4) and
 * the purge of a tenant's files and rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "../teststore.h" /* test_db_new: SQLite, or PostgreSQL with KUNREN_TEST_PG */

/* Local civil time of t in z. */
static struct civil local(const struct tz *z, int64_t t)
{
	struct civil c;
	civil_from_unix(t + tz_offset(z, t), &c);
	return c;
}

/* The period of a sign-up at local y-m-d 12:00 in zone. */
static void expect_period(const char *zone, enum licence l, int y, int m, int d, int ey, int em, int ed)
{
	const struct tz *z = tz_get(zone);
	assert_non_null(z);
	struct civil noon = { .year = y, .month = m, .day = d, .hour = 12 };
	int64_t now = unix_from_civil(&noon) - tz_offset(z, unix_from_civil(&noon));
	int64_t start, end;
	api_tenant_period(z, l, now, &start, &end);
	assert_int_equal(start, now);
	struct civil e = local(z, end), after = local(z, end + 1);
	assert_int_equal(e.year, ey);
	assert_int_equal(e.month, em);
	assert_int_equal(e.day, ed);
	assert_int_equal(e.hour, 23);
	assert_int_equal(e.min, 59);
	assert_int_equal(e.sec, 59);
	/* one second later is the first second of the next day */
	assert_int_equal(after.day, 1);
	assert_int_equal(after.hour, 0);
	assert_int_equal(after.min, 0);
	assert_int_equal(after.sec, 0);
}

static void test_period_to_the_end_of_the_same_month_next_year(void **state)
{
	(void)state;
	expect_period("Asia/Tokyo", LICENCE_SEND_COUNT, 2026, 4, 6, 2027, 4, 30);
	expect_period("Asia/Tokyo", LICENCE_ADDRESSES, 2026, 12, 31, 2027, 12, 31);
	expect_period("Asia/Tokyo", LICENCE_SEND_COUNT, 2027, 2, 1, 2028, 2, 29);   /* leap year */
	expect_period("UTC", LICENCE_SEND_COUNT, 2028, 2, 29, 2029, 2, 28);
	/* zones with summer time: 23:59:59 local whatever the offset then */
	expect_period("Europe/Berlin", LICENCE_SEND_COUNT, 2026, 3, 15, 2027, 3, 31);
	expect_period("America/New_York", LICENCE_SEND_COUNT, 2026, 10, 20, 2027, 10, 31);
}

static void test_trial_to_the_end_of_next_month(void **state)
{
	(void)state;
	expect_period("Asia/Tokyo", LICENCE_TRIAL, 2026, 4, 6, 2026, 5, 31);
	expect_period("Asia/Tokyo", LICENCE_TRIAL, 2026, 1, 31, 2026, 2, 28);
	expect_period("Asia/Tokyo", LICENCE_TRIAL, 2026, 11, 30, 2026, 12, 31);
	expect_period("Asia/Tokyo", LICENCE_TRIAL, 2026, 12, 1, 2027, 1, 31);
	expect_period("Europe/Berlin", LICENCE_TRIAL, 2026, 9, 10, 2026, 10, 31);
}

/* A local date near midnight: the period follows the tenant's zone, not UTC. */
static void test_period_uses_the_local_date(void **state)
{
	(void)state;
	const struct tz *z = tz_get("Asia/Tokyo");
	/* 2026-04-30 16:00 UTC is 2026-05-01 01:00 in Tokyo: a May sign-up */
	struct civil c = { .year = 2026, .month = 4, .day = 30, .hour = 16 };
	int64_t start, end;
	api_tenant_period(z, LICENCE_SEND_COUNT, unix_from_civil(&c), &start, &end);
	struct civil e = local(z, end);
	assert_int_equal(e.year, 2027);
	assert_int_equal(e.month, 5);
	assert_int_equal(e.day, 31);
}

static void write_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

/* The tenant's outbox folder goes, files and sub-folders, symbolic links
 * removed but never followed; the other tenant's folder stays. */
static void test_purge_deletes_files_and_rows(void **state)
{
	(void)state;
	char dir[] = "/tmp/kunren-purge-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *db = test_db_new(dir);
	_cleanup_free_ char *mine = xasprintf("%s/outbox/tenant-2", dir);
	_cleanup_free_ char *other = xasprintf("%s/outbox/tenant-3", dir);
	_cleanup_free_ char *sub = xasprintf("%s/notices", mine);
	_cleanup_free_ char *keep = xasprintf("%s/keep.eml", other);
	assert_int_equal(mkdir_p(sub, 0700), 0);
	assert_int_equal(mkdir_p(other, 0700), 0);
	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *f = xasprintf("%s/%d.eml", mine, i);
		write_file(f);
	}
	_cleanup_free_ char *f = xasprintf("%s/n.eml", sub), *link = xasprintf("%s/link", mine);
	write_file(f);
	write_file(keep);
	assert_int_equal(symlink(other, link), 0);

	struct store *s;
	char *err = NULL;
	int applied;
	int64_t t1, t2, t3, acc, rows = -1, files = -1, left = -1;
	assert_int_equal(store_open(db, &s, &err), 0);
	assert_true(store_migrate(s, &applied) >= 0);
	assert_int_equal(store_tenant_create(s, "one", "Asia/Tokyo", &t1), 0);
	assert_int_equal(store_tenant_create(s, "two", "Asia/Tokyo", &t2), 0);
	assert_int_equal(store_tenant_create(s, "three", "Asia/Tokyo", &t3), 0);
	assert_int_equal(t2, 2);
	assert_int_equal(store_account_create(s, t2, "owner2", "$argon2id$x", ROLE_OWNER, &acc), 0);

	assert_int_equal(api_tenant_purge(s, dir, t2, "test", 1000, &rows, &files), 0);
	assert_int_equal(files, 5);  /* 3 + 1 in the sub-folder + the link */
	assert_true(rows >= 2);      /* the tenant and its account */
	assert_int_equal(access(mine, F_OK), -1);
	assert_int_equal(access(keep, F_OK), 0);
	assert_int_equal(store_tenant_row_count(s, t2, &left), 0);
	assert_int_equal(left, 0);

	struct arena *a = arena_new(0);
	struct deletion *d;
	size_t n;
	assert_int_equal(store_deletion_log(s, a, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].tenant_id, t2);
	assert_string_equal(d[0].tenant_name, "two");
	assert_string_equal(d[0].reason, "test");
	assert_int_equal(d[0].files, 5);
	assert_int_equal(d[0].rows, rows);
	arena_free(a);

	/* no folder at all is fine: 0 files */
	assert_int_equal(api_tenant_purge(s, dir, t1, "test", 1000, &rows, &files), 0);
	assert_int_equal(files, 0);
	/* a tenant that is not there */
	assert_true(api_tenant_purge(s, dir, 99, "test", 1000, &rows, &files) < 0);
	store_close(s);
	test_db_remove(db, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_period_to_the_end_of_the_same_month_next_year),
		cmocka_unit_test(test_trial_to_the_end_of_next_month),
		cmocka_unit_test(test_period_uses_the_local_date),
		cmocka_unit_test(test_purge_deletes_files_and_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
