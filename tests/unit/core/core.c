/* Tests of src/core/core.c: slices, buf (with its invariants re-checked
 * after every operation), escaping, arenas, ids, UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/core.h"

static void check_buf(const struct buf *b)
{
	assert_non_null(b->p);
	assert_int_equal(b->p[b->len], '\0');
	assert_true(b->len <= b->max);
	if (b->cap)
		assert_true(b->len < b->cap);
}

static void test_buf_append_and_cap(void **state)
{
	struct buf b;
	buf_init(&b, 10);
	check_buf(&b);
	assert_string_equal(b.p, "");
	assert_int_equal(buf_puts(&b, "hello"), 0);
	check_buf(&b);
	assert_int_equal(buf_printf(&b, "%d", 12345), 0);
	check_buf(&b);
	assert_string_equal(b.p, "hello12345");
	/* one byte past the cap fails and changes nothing */
	assert_int_equal(buf_putc(&b, 'x'), -E2BIG);
	check_buf(&b);
	assert_string_equal(b.p, "hello12345");
	buf_reset(&b);
	check_buf(&b);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	check_buf(&b);
}

static void test_buf_printf_long(void **state)
{
	struct buf b;
	buf_init(&b, 0);
	char big[1000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "<%s>", big), 0);
	check_buf(&b);
	assert_int_equal(b.len, 1001);
	char *s = buf_steal(&b);
	check_buf(&b);
	assert_int_equal(strlen(s), 1001);
	free(s);
	buf_release(&b);
}

static void test_buf_steal_empty(void **state)
{
	struct buf b;
	buf_init(&b, 0);
	char *s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
}

static void test_slices(void **state)
{
	struct slice head, rest = slice_cut(SLICE_LIT("a=b=c"), '=', &head);
	assert_true(slice_eq_str(head, "a"));
	assert_true(slice_eq_str(rest, "b=c"));
	rest = slice_cut(SLICE_LIT("abc"), '=', &head);
	assert_true(slice_eq_str(head, "abc"));
	assert_int_equal(rest.len, 0);
	assert_true(slice_eq_str(slice_trim(SLICE_LIT(" \t x y \r\n")), "x y"));
	assert_true(slice_eq_str(slice_trim(SLICE_LIT("   ")), ""));
	assert_true(slice_starts_with(SLICE_LIT("/api/v1"), "/api"));
	assert_false(slice_starts_with(SLICE_LIT("/ap"), "/api"));
	assert_true(slice_eq_str(slice_from(NULL), ""));
}

static void test_slice_to_i64(void **state)
{
	int64_t v = 7;
	assert_int_equal(slice_to_i64(SLICE_LIT("42"), 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(slice_to_i64(SLICE_LIT("-5"), -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(slice_to_i64(SLICE_LIT("101"), 0, 100, &v), -ERANGE);
	assert_int_equal(slice_to_i64(SLICE_LIT(""), 0, 100, &v), -EINVAL);
	assert_int_equal(slice_to_i64(SLICE_LIT("-"), 0, 100, &v), -EINVAL);
	assert_int_equal(slice_to_i64(SLICE_LIT("1x"), 0, 100, &v), -EINVAL);
	assert_int_equal(slice_to_i64(SLICE_LIT("99999999999999999999"), 0, INT64_MAX, &v), -EINVAL);
	assert_int_equal(slice_to_i64(SLICE_LIT("9223372036854775807"), 0, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(slice_to_i64(SLICE_LIT("9223372036854775808"), 0, INT64_MAX, &v), -ERANGE);
	assert_true(v == INT64_MAX); /* untouched on failure */
}

static void expect_escape(int (*fn)(struct buf *, struct slice), const char *in, const char *out)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(fn(&b, slice_from(in)), 0);
	check_buf(&b);
	assert_string_equal(b.p, out);
	buf_release(&b);
}

static void test_escaping(void **state)
{
	expect_escape(buf_put_html, "<a href=\"x\">&'</a>", "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	expect_escape(buf_put_html, "山田", "山田");
	expect_escape(buf_put_url, "a b&c=d/山", "a%20b%26c%3Dd%2F%E5%B1%B1");
	expect_escape(buf_put_url, "A-z_0.~", "A-z_0.~");
	expect_escape(buf_put_csv, "plain", "plain");
	expect_escape(buf_put_csv, "a,b", "\"a,b\"");
	expect_escape(buf_put_csv, "say \"hi\"", "\"say \"\"hi\"\"\"");
	expect_escape(buf_put_csv, "two\nlines", "\"two\nlines\"");
	expect_escape(buf_put_csv, "=1+2", "\"'=1+2\"");
	expect_escape(buf_put_csv, "@SUM(A1)", "\"'@SUM(A1)\"");
	expect_escape(buf_put_csv, "\tx", "\"'\tx\"");
	expect_escape(buf_put_csv, "\rx", "\"'\rx\"");
	expect_escape(buf_put_csv, "a=b", "a=b");
	expect_escape(buf_put_json_str, "a\"b\\c\n\x01<", "\"a\\\"b\\\\c\\n\\u0001\\u003c\"");
}

static void test_arena(void **state)
{
	struct arena *a = arena_new(64 * 1024);
	char *s = arena_strdup(a, "abc");
	assert_string_equal(s, "abc");
	assert_null(arena_strdup(a, NULL));
	char *p = arena_printf(a, "%s-%d", "x", 5);
	assert_string_equal(p, "x-5");
	unsigned char *z = arena_alloc(a, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(z[i], 0);
	assert_int_equal((uintptr_t)z % 16, 0);
	/* beyond the cap: NULL, and the arena still works */
	assert_null(arena_alloc(a, 128 * 1024));
	assert_non_null(arena_alloc(a, 10));
	arena_free(a);
	arena_free(NULL);
	/* an arena smaller than a block still hands out what it has */
	struct arena *small = arena_new(4096);
	assert_non_null(arena_strdup(small, "session"));
	assert_non_null(arena_alloc(small, 1000));
	assert_false(arena_failed(small));
	assert_null(arena_alloc(small, 8000));
	assert_true(arena_failed(small));
	arena_free(small);
}

static void test_ids(void **state)
{
	char a[RID_LEN + 1], b[RID_LEN + 1];
	id_random(a, RID_LEN);
	id_random(b, RID_LEN);
	assert_int_equal(strlen(a), RID_LEN);
	assert_string_not_equal(a, b);
	for (int i = 0; i < RID_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", a[i]));
}

static void test_utf8(void **state)
{
	assert_true(utf8_valid("abc", 3));
	assert_true(utf8_valid("山田①㈱😀", strlen("山田①㈱😀")));
	assert_false(utf8_valid("\xff", 1));
	assert_false(utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(utf8_valid("\xe5\xb1", 2));         /* truncated */
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

static void test_embedded(void **state)
{
	const struct embedded_file *f = embedded_find("src/store/migrations/0001_init.sql");
	assert_non_null(f);
	assert_true(f->len > 100);
	assert_null(embedded_find("nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_and_cap),
		cmocka_unit_test(test_buf_printf_long),
		cmocka_unit_test(test_buf_steal_empty),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_slice_to_i64),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_embedded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
