/* Unit tests for src/people/addresses.c: people_addresses_csv (bulk delete). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "people/people.h"

struct list {
	const char **emails;
	size_t n;
	struct import_problem *problems;
	size_t nproblems;
};

static struct list read_n(struct arena *a, const char *csv, size_t len)
{
	struct list l;
	memset(&l, 0xAA, sizeof(l));
	assert_int_equal(people_addresses_csv((struct slice){ csv, len }, a, &l.emails, &l.n, &l.problems,
					      &l.nproblems), 0);
	if (l.n == 0)
		assert_null(l.emails);
	if (l.nproblems == 0)
		assert_null(l.problems);
	for (size_t i = 0; i < l.n; i++)
		assert_true(people_email_valid(slice_from(l.emails[i]), NULL, NULL));
	return l;
}

static struct list read_csv(struct arena *a, const char *csv)
{
	return read_n(a, csv, strlen(csv));
}

static void assert_emails(const struct list *l, const char *const *want, size_t n)
{
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->emails[i], want[i]);
}

static void assert_problem(const struct list *l, size_t i, int64_t line, const char *column, const char *value,
			   const char *code)
{
	assert_true(i < l->nproblems);
	const struct import_problem *q = &l->problems[i];
	if (q->line != line || strcmp(q->column, column) || strcmp(q->value, value) || strcmp(q->code, code))
		fail_msg("problem %zu: got line %lld column [%s] value [%s] code %s (%s)", i, (long long)q->line,
			 q->column, q->value, q->code, q->reason);
}

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

/* The template's columns: the address is taken from メールアドレス. */
static void test_with_header(void **state)
{
	struct list l = read_csv(*state,
		"\xEF\xBB\xBF姓,名,メールアドレス,部署\r\n"
		"山田,太郎,yamada@Example.co.jp,営業部\r\n"
		"\r\n"
		",,,\r\n"
		"川田,次郎,Ｋａｗａｄａ＠例え．ｊｐ,\r\n"
		"海田,三郎,,開発部\r\n"
		"x,y,not-an-address,\r\n"
		"山田,太郎,yamada@example.co.jp\r\n");
	const char *want[] = { "Kawada@xn--r8jz45g.jp", "yamada@example.co.jp" };
	assert_emails(&l, want, 2); /* a repeated address is listed once */
	assert_int_equal(l.nproblems, 2);
	assert_problem(&l, 0, 6, "メールアドレス", "", "missing_email");
	assert_problem(&l, 1, 7, "メールアドレス", "not-an-address", "invalid_email");
}

/* No header: the first column, from the first row. */
static void test_without_header(void **state)
{
	struct list l = read_csv(*state, "a@example.jp\nb@example.jp,川田\n\n ｃ＠example.jp \n");
	const char *want[] = { "a@example.jp", "b@example.jp", "c@example.jp" };
	assert_emails(&l, want, 3);
	assert_int_equal(l.nproblems, 0);

	/* A first row of other names is a header all the same. */
	l = read_csv(*state, "address\na@example.jp\nb@example.jp\n");
	const char *want2[] = { "a@example.jp", "b@example.jp" };
	assert_emails(&l, want2, 2);
	assert_int_equal(l.nproblems, 0);

	/* Then a bad row is reported under that name. */
	l = read_csv(*state, "アドレス\na@example.jp\nb@\n");
	assert_problem(&l, 0, 3, "アドレス", "b@", "invalid_email");
}

static void test_header_without_email(void **state)
{
	struct list l = read_csv(*state, "姓,名\n山田,太郎\n");
	assert_int_equal(l.n, 0);
	assert_int_equal(l.nproblems, 1);
	assert_problem(&l, 0, 1, "", "", "missing_header");
}

/* CP932 and tab-separated UTF-16 like the import. */
static void test_encodings(void **state)
{
	/* メールアドレス,姓 / a@example.jp,山田 in CP932. */
	static const char cp932[] = "\x83\x81\x81[\x83\x8B\x83" "A\x83h\x83\x8C\x83X,\x90\xA9\r\n"
				    "a@example.jp,\x8E\x52\x93" "c\r\n";
	struct list l = read_n(*state, cp932, sizeof(cp932) - 1);
	const char *want[] = { "a@example.jp" };
	assert_emails(&l, want, 1);

	/* email<TAB>x / b@example.jp<TAB>y in UTF-16LE. */
	static const char utf16[] = "\xFF\xFE" "e\0m\0a\0i\0l\0\t\0x\0\r\0\n\0"
				    "b\0@\0e\0x\0.\0j\0p\0\t\0y\0\r\0\n\0";
	l = read_n(*state, utf16, sizeof(utf16) - 1);
	const char *want2[] = { "b@ex.jp" };
	assert_emails(&l, want2, 1);
	assert_int_equal(l.nproblems, 0);
}

static void test_problems(void **state)
{
	struct list l = read_csv(*state, "email\na@example.jp\n\x81\n");
	assert_int_equal(l.n, 0);
	assert_int_equal(l.nproblems, 1);
	assert_problem(&l, 0, 3, "", "", "bad_encoding");

	l = read_csv(*state, "email\n\"a@example.jp\nb@example.jp\n");
	assert_problem(&l, 0, 2, "email", "", "bad_quote");
	const char *want[] = { "b@example.jp" };
	assert_emails(&l, want, 1);
}

static void test_empty(void **state)
{
	struct list l = read_csv(*state, "");
	assert_int_equal(l.n, 0);
	assert_int_equal(l.nproblems, 0);
	l = read_csv(*state, "\xEF\xBB\xBF" "email\r\n\r\n");
	assert_int_equal(l.n, 0);
	assert_int_equal(l.nproblems, 0);
}

static void test_arena_full(void **state)
{
	struct arena *small = arena_new(4096);
	struct buf b = BUF_INIT(0);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "user%d@example.jp\n", i);
	const char **emails = (void *)1;
	size_t n = 7, np = 7;
	struct import_problem *pr = (void *)1;
	assert_int_equal(people_addresses_csv(buf_slice(&b), small, &emails, &n, &pr, &np), -ENOMEM);
	assert_int_equal(n, 7);
	assert_int_equal(np, 7);
	buf_release(&b);
	arena_free(small);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_with_header),
		T(test_without_header),
		T(test_header_without_email),
		T(test_encodings),
		T(test_problems),
		T(test_empty),
		T(test_arena_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
