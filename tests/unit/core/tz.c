/* Tests of src/core/tz.c: civil time, zones, the CSV and ISO formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/core.h"

static void test_civil_roundtrip(void **state)
{
	/* every day from 1900 to 2100, plus negative times */
	for (int64_t t = -2208988800LL; t < 4102444800LL; t += 86400 + 3661) {
		struct civil c;
		civil_from_unix(t, &c);
		assert_true(unix_from_civil(&c) == t);
	}
	struct civil c;
	civil_from_unix(0, &c);
	assert_int_equal(c.year, 1970);
	assert_int_equal(c.wday, 4);
	civil_from_unix(951782400, &c); /* 2000-02-29 */
	assert_int_equal(c.month, 2);
	assert_int_equal(c.day, 29);
	assert_int_equal(c.wday, 2);
}

static void expect_time(const char *zone, int64_t t, const char *csv, const char *iso)
{
	const struct tz *z = tz_get(zone);
	assert_non_null(z);
	struct buf b;
	buf_init(&b, 0);
	tz_put_csv_time(&b, z, t);
	assert_string_equal(b.p, csv);
	buf_reset(&b);
	tz_put_iso(&b, z, t);
	assert_string_equal(b.p, iso);
	buf_release(&b);
}

static void test_zones(void **state)
{
	/* 2024-04-06 01:03:00 UTC */
	expect_time("Asia/Tokyo", 1712365380, "2024/4/6 10:03", "2024-04-06T10:03:00+09:00");
	expect_time("UTC", 1712365380, "2024/4/6 01:03", "2024-04-06T01:03:00Z");
	/* New York: EST in January, EDT in July */
	expect_time("America/New_York", 1704067200, "2023/12/31 19:00", "2023-12-31T19:00:00-05:00");
	expect_time("America/New_York", 1719792000, "2024/6/30 20:00", "2024-06-30T20:00:00-04:00");
	/* India: half-hour offset */
	expect_time("Asia/Kolkata", 0, "", "1970-01-01T05:30:00+05:30");
}

static void test_bad_zones(void **state)
{
	assert_null(tz_get("Nowhere/City"));
	assert_null(tz_get("../../etc/passwd"));
	assert_null(tz_get("/etc/localtime"));
	assert_null(tz_get(""));
	/* cached: the same pointer twice */
	assert_ptr_equal(tz_get("Asia/Tokyo"), tz_get("Asia/Tokyo"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil_roundtrip),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_bad_zones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
