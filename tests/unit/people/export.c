/* Unit tests for src/people/export.c: people_export_csv and its round trip
 * through csv_encode and people_import_csv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/csv.h"
#include "people/people.h"

#define HEADER "姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n"

static int setup(void **state)
{
	*state = arena_new(0);
	return 0;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static void test_text(void **state)
{
	const struct person rows[] = {
		{ .f = { "山田", "太郎", "yamada@example.co.jp", "営業部", "部長", "10年以上", "本社", "社員" } },
		{ .f = { "川\"田", "a,b", "k@example.jp", "総務\n部", "=1+1", "+81", "-", "@home" }, .is_test = true },
		{ .f = { "'=x", "''+y", "z@example.jp", "'abc", "'", NULL, "", "a\r\nb" } },
	};
	struct buf b = BUF_INIT(0);
	assert_int_equal(people_export_csv(rows, ARRAY_SIZE(rows), &b), 0);
	assert_string_equal(b.p, HEADER
			    "山田,太郎,yamada@example.co.jp,営業部,部長,10年以上,本社,社員,\r\n"
			    "\"川\"\"田\",\"a,b\",k@example.jp,\"総務\n部\",\"'=1+1\",\"'+81\",\"'-\",\"'@home\",1\r\n"
			    "''=x,'''+y,z@example.jp,'abc,',,,\"a\r\nb\",\r\n");
	buf_release(&b);

	/* No one: the header alone. */
	assert_int_equal(people_export_csv(NULL, 0, &b), 0);
	assert_string_equal(b.p, HEADER);
	buf_release(&b);
}

static void test_cap(void **state)
{
	const struct person row = { .f = { "山田", "太郎", "yamada@example.co.jp", "", "", "", "", "" } };
	struct buf b = BUF_INIT(100);
	assert_int_equal(people_export_csv(&row, 1, &b), -E2BIG);
	assert_true(b.len <= 100);
	buf_release(&b);
}

/* Every person of `rows` comes back from an import of the export, in
 * order, exactly. */
static void round_trip(struct arena *a, const struct person *rows, size_t n, enum csv_encoding enc,
		       const char *want_encoding)
{
	struct buf text = BUF_INIT(0), file = BUF_INIT(0);
	assert_int_equal(people_export_csv(rows, n, &text), 0);
	assert_int_equal(csv_encode(buf_slice(&text), enc, &file), 0);
	struct import_result res;
	assert_int_equal(people_import_csv(buf_slice(&file), a, &res), 0);
	for (size_t i = 0; i < res.nproblems; i++)
		fail_msg("line %lld %s: %s [%s]", (long long)res.problems[i].line, res.problems[i].code,
			 res.problems[i].reason, res.problems[i].value);
	assert_string_equal(res.encoding, want_encoding);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.nrows, n);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < PF__COUNT; k++) {
			const char *want = rows[i].f[k] ? rows[i].f[k] : "";
			if (strcmp(res.rows[i].f[k], want))
				fail_msg("row %zu field %zu: [%s] came back as [%s]", i, k, want, res.rows[i].f[k]);
		}
		assert_int_equal(res.rows[i].is_test, rows[i].is_test);
	}
	buf_release(&text);
	buf_release(&file);
}

/* Values with commas, quotes, line breaks and formula starts. */
static const struct person tricky[] = {
	{ .f = { "山田", "太郎", "yamada@example.co.jp", "営業部, 第1課", "部長", "10年以上", "本社", "社員" } },
	{ .f = { "川\"田\"", "\"", "kawada@xn--r8jz45g.jp", "総務部\n第2課", "a\r\nb", "x\ry", "", "" },
	  .is_test = true },
	{ .f = { "=SUM(A1:A9)", "+81 3 1234", "-x@example.jp", "@所属", "-", "=", "+", "@" } },
	{ .f = { "'=x", "''+y", "'=z@example.jp", "'", "''", "'abc", "'0123", "'-'" } },
	{ .f = { "", "", "=a@example.jp", "a\tb", "①㈱～", "∥－￢", "ｶﾀｶﾅ", "髙﨑" } },
	{ .f = { NULL, NULL, "last@example.jp", NULL, NULL, NULL, NULL, NULL }, .is_test = true },
};

static void test_round_trip_utf8(void **state)
{
	round_trip(*state, tricky, ARRAY_SIZE(tricky), CSV_UTF8_BOM, "utf-8");
}

/* CP932 keeps what CP932 has: every value above is in it. */
static void test_round_trip_cp932(void **state)
{
	round_trip(*state, tricky, ARRAY_SIZE(tricky), CSV_CP932, "cp932");
}

static void test_round_trip_many(void **state)
{
	size_t n = 2000;
	struct person *rows = xcalloc(n, sizeof(*rows));
	struct arena *names = arena_new(0);
	for (size_t i = 0; i < n; i++) {
		rows[i].f[PF_LAST_NAME] = arena_printf(names, "姓%zu", i);
		rows[i].f[PF_EMAIL] = arena_printf(names, "user%zu@example.co.jp", i);
		rows[i].f[PF_DEPARTMENT] = i % 3 ? "営業部" : "=\"x\",y";
		rows[i].is_test = i % 10 == 0;
	}
	round_trip(*state, rows, n, CSV_CP932, "cp932");
	round_trip(*state, rows, n, CSV_UTF8_BOM, "utf-8");
	arena_free(names);
	free(rows);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_text),
		T(test_cap),
		T(test_round_trip_utf8),
		T(test_round_trip_cp932),
		T(test_round_trip_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
