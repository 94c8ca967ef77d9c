/* Unit tests for src/people/common.c: the helpers people/ shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "people/internal.h"

static void assert_slice(struct slice s, const char *want)
{
	if (s.len != strlen(want) || memcmp(s.p, want, s.len))
		fail_msg("got [%.*s], want [%s]", (int)s.len, s.p, want);
}

static void test_trim(void **state)
{
	assert_slice(people__trim(SLICE_LIT("  a b \t")), "a b");
	assert_slice(people__trim(SLICE_LIT("\xE3\x80\x80 a\xE3\x80\x80 \xE3\x80\x80")), "a");
	assert_slice(people__trim(SLICE_LIT("\xE3\x80\x80")), "");
	assert_slice(people__trim(SLICE_LIT("")), "");
}

/* One ' comes off before = + - @, after trimming, and only then. */
static void test_value(void **state)
{
	assert_slice(people__value(SLICE_LIT(" '=SUM(A1) ")), "=SUM(A1)");
	assert_slice(people__value(SLICE_LIT("'+81")), "+81");
	assert_slice(people__value(SLICE_LIT("'-")), "-");
	assert_slice(people__value(SLICE_LIT("'@x")), "@x");
	assert_slice(people__value(SLICE_LIT("'''=x")), "''=x");
	assert_slice(people__value(SLICE_LIT("'0123")), "'0123");
	assert_slice(people__value(SLICE_LIT("'")), "'");
	assert_slice(people__value(SLICE_LIT("''")), "''");
	assert_slice(people__value(SLICE_LIT("' =x")), "' =x");
	assert_slice(people__value(SLICE_LIT("=x")), "=x");
	/* A NUL is not one of = + - @ (strchr would say it is). */
	assert_int_equal(people__value((struct slice){ "'\0", 2 }).len, 2);
}

static void test_preview(void **state)
{
	struct arena *a = arena_new(0);
	assert_string_equal(people__preview(a, SLICE_LIT("")), "");
	char exact[81];
	memset(exact, 'x', 80);
	exact[80] = '\0';
	assert_string_equal(people__preview(a, slice_from(exact)), exact);
	/* 30 three-byte characters are 90 bytes: cut after 26 (78 bytes). */
	struct buf b = BUF_INIT(0);
	for (int i = 0; i < 30; i++)
		buf_puts(&b, "山");
	const char *p = people__preview(a, buf_slice(&b));
	assert_int_equal(strlen(p), 78 + strlen("…"));
	assert_true(utf8_valid(p, strlen(p)));
	buf_release(&b);
	arena_free(a);
}

static void test_mark_repeated(void **state)
{
	const char *keys[] = { "a", "b", "a", "c", "b", "a" };
	bool rep[ARRAY_SIZE(keys)];
	assert_int_equal(people__mark_repeated(keys, ARRAY_SIZE(keys), rep), 3);
	/* The last of each stays. */
	assert_true(rep[0] && rep[1] && rep[2]);
	assert_false(rep[3] || rep[4] || rep[5]);
	assert_int_equal(people__mark_repeated(keys, 0, rep), 0);
}

static void test_header_kind(void **state)
{
	assert_int_equal(people__header_kind(SLICE_LIT("メールアドレス")), PF_EMAIL);
	assert_int_equal(people__header_kind(SLICE_LIT(" EMAIL ")), PF_EMAIL);
	assert_int_equal(people__header_kind(SLICE_LIT("\xE3\x80\x80項目１")), PF_FIELD1);
	assert_int_equal(people__header_kind(SLICE_LIT("項目３")), PF_FIELD3);
	assert_int_equal(people__header_kind(SLICE_LIT("テスト対象")), PEOPLE__COL_TEST);
	assert_int_equal(people__header_kind(SLICE_LIT("備考")), PEOPLE__COL_IGNORED);
	assert_int_equal(people__header_kind(SLICE_LIT("  ")), PEOPLE__COL_UNNAMED);
}

static void test_checks(void **state)
{
	struct arena *a = arena_new(0);
	struct people__problems pl = { .a = a };
	const char *email = NULL;
	assert_int_equal(people__check_length(&pl, 3, "部署", SLICE_LIT("abc"), 3), 0);
	assert_int_equal(pl.n, 0);
	assert_int_equal(people__check_length(&pl, 3, "部署", SLICE_LIT("abcd"), 3), 0);
	assert_int_equal(pl.n, 1);
	assert_string_equal(pl.v[0].reason, "longer than 3 bytes");
	assert_int_equal(people__check_email(&pl, 4, "email", SLICE_LIT("ａ＠例え．ｊｐ"), &email), 0);
	assert_int_equal(pl.n, 1);
	assert_string_equal(email, "a@xn--r8jz45g.jp");
	assert_int_equal(people__check_email(&pl, 5, "email", SLICE_LIT(""), &email), 0);
	assert_int_equal(people__check_email(&pl, 6, "email", SLICE_LIT("a@b"), &email), 0);
	assert_int_equal(pl.n, 3);
	assert_string_equal(pl.v[1].code, "missing_email");
	assert_string_equal(pl.v[2].code, "invalid_email");
	assert_int_equal(pl.v[2].line, 6);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_preview),
		cmocka_unit_test(test_mark_repeated),
		cmocka_unit_test(test_header_kind),
		cmocka_unit_test(test_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
