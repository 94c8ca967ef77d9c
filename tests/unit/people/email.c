/* Unit tests for src/people/email.c: people_email_valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "people/people.h"

static const char *const valid[] = {
	"yamada.taro@example.co.jp",
	"a@b.jp",
	"x@example.com",
	"first.last+tag@sub.example.org",
	"user_name-1@mail-server.example.net",
	"!#$%&'*+-/=?^_`{|}~@example.com",   /* every atext character */
	"UPPER@EXAMPLE.COM",
	"1234@123.example",
	"a@xn--eckwd4c7c.xn--zckzah",          /* A-labels are plain LDH */
	"a@b-c.d1",
	"a@0.jp",
	"taro@例え.jp",                        /* converted to its A-label */
	"ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",       /* full-width, read as ASCII */
};

static const char *const invalid[] = {
	"",
	"plain",
	"@example.com",                  /* empty local part */
	"taro@",                         /* empty domain */
	"taro@localhost",                /* one label */
	"taro@@example.com",
	"taro@ex@ample.com",
	"taro.@example.com",             /* trailing dot */
	".taro@example.com",             /* leading dot */
	"ta..ro@example.com",            /* double dot */
	"ta ro@example.com",             /* space */
	" taro@example.com",
	"taro@example.com ",
	"taro@exa mple.com",
	"\"taro\"@example.com",          /* quoted local parts are not taken */
	"ta(ro)@example.com",
	"ta,ro@example.com",
	"ta[ro@example.com",
	"taro@example..com",
	"taro@.example.com",
	"taro@example.com.",
	"taro@-example.com",             /* label starts with '-' */
	"taro@example-.com",             /* label ends with '-' */
	"taro@exam_ple.com",
	"taro@192.168.0.1",              /* all-digit top-level label */
	"taro@[192.168.0.1]",
	"taro@example.123",
	"山田@example.jp",               /* no non-ASCII local parts */
	"taro@-例え.jp",                 /* not a valid IDN label */
	"taro@例え",                     /* one label */
	"taro\xE3\x80\x80@example.jp",   /* U+3000 is a space */
	"taro@example.jp\xFF",
	"taro＠＠example.jp",
	"taro@example.com\n",
	"taro\0@example.com",
	"taro@example.com,jiro@example.com",
};

static bool check(const char *s, size_t len)
{
	return people_email_valid((struct slice){ s, len }, NULL, NULL);
}

static void test_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		if (!check(valid[i], strlen(valid[i])))
			fail_msg("should be valid: %s", valid[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		if (check(invalid[i], strlen(invalid[i])))
			fail_msg("should be invalid: %s", invalid[i]);
	}
	/* The embedded NUL, seen by length rather than by strlen. */
	assert_false(check("taro\0@example.com", 17));
}

/* n copies of c. */
static char *rep(char c, size_t n)
{
	char *s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_sizes(void **state)
{
	_cleanup_free_ char *l64 = rep('l', 64), *l65 = rep('l', 65);
	_cleanup_free_ char *d63 = rep('d', 63), *d64 = rep('d', 64);
	_cleanup_free_ char *a = xasprintf("%s@example.jp", l64);
	_cleanup_free_ char *b = xasprintf("%s@example.jp", l65);
	_cleanup_free_ char *c = xasprintf("x@%s.jp", d63);
	_cleanup_free_ char *d = xasprintf("x@%s.jp", d64);
	assert_true(check(a, strlen(a)));
	assert_false(check(b, strlen(b)));   /* local part over 64 */
	assert_true(check(c, strlen(c)));
	assert_false(check(d, strlen(d)));   /* label over 63 */

	/* 254 in all is the limit: x@ + 63.63.63.60 labels = 2 + 252. */
	_cleanup_free_ char *d60 = rep('d', 60), *d61 = rep('d', 61);
	_cleanup_free_ char *e = xasprintf("x@%s.%s.%s.%s", d63, d63, d63, d60);
	_cleanup_free_ char *f = xasprintf("x@%s.%s.%s.%s", d63, d63, d63, d61);
	assert_int_equal(strlen(e), 254);
	assert_true(check(e, strlen(e)));
	assert_int_equal(strlen(f), 255);
	assert_false(check(f, strlen(f)));
}

static void test_normalised(void **state)
{
	struct arena *a = arena_new(0);
	const char *n = NULL;
	assert_true(people_email_valid(SLICE_LIT("Taro.Yamada@Example.CO.JP"), a, &n));
	assert_string_equal(n, "Taro.Yamada@example.co.jp"); /* the local part is kept */

	/* Not written on failure. */
	const char *untouched = "x";
	n = untouched;
	assert_false(people_email_valid(SLICE_LIT("bad@"), a, &n));
	assert_ptr_equal(n, untouched);

	/* A slice, not a C string: the byte after it is not read as part of it. */
	const char *s = "a@example.jpX";
	assert_true(people_email_valid((struct slice){ s, 12 }, a, &n));
	assert_string_equal(n, "a@example.jp");
	arena_free(a);
}

static const char *normalised(struct arena *a, const char *s)
{
	const char *n = NULL, *reason = "untouched";
	int r = people_email_check(slice_from(s), a, &n, &reason);
	if (r != 0)
		fail_msg("%s: %d %s", s, r, reason);
	assert_string_equal(reason, "untouched");
	assert_true(people_email_valid(slice_from(n), NULL, NULL));
	/* Normalising twice changes nothing. */
	const char *again = NULL;
	assert_int_equal(people_email_check(slice_from(n), a, &again, &reason), 0);
	assert_string_equal(again, n);
	return n;
}

/* The reason of a refused address, after checking its code. */
static const char *refused(const char *s, int code)
{
	const char *n = "untouched", *reason = NULL;
	int r = people_email_check(slice_from(s), NULL, &n, &reason);
	if (r != code)
		fail_msg("%s: got %d (%s), want %d", s, r, reason ? reason : "", code);
	assert_string_equal(n, "untouched");
	assert_non_null(reason);
	return reason;
}

static void test_idn(void **state)
{
	struct arena *a = arena_new(0);
	assert_string_equal(normalised(a, "user@例え.jp"), "user@xn--r8jz45g.jp");
	assert_string_equal(normalised(a, "User@例え.JP"), "User@xn--r8jz45g.jp");
	assert_string_equal(normalised(a, "a@ドメイン.テスト"), "a@xn--eckwd4c7c.xn--zckzah");
	assert_string_equal(normalised(a, "a@営業.example.co.jp"), "a@xn--j2rs27b.example.co.jp");
	/* UTS #46 maps 。 (U+3002) to a dot, and NFC composes first. */
	assert_string_equal(normalised(a, "a@例え。jp"), "a@xn--r8jz45g.jp");
	assert_string_equal(normalised(a, "a@ｶﾞ.jp"), normalised(a, "a@ガ.jp"));
	/* An A-label is taken as it is. */
	assert_string_equal(normalised(a, "a@XN--R8JZ45G.jp"), "a@xn--r8jz45g.jp");

	assert_non_null(strstr(refused("a@-例え.jp", -EINVAL), "internationalised"));
	assert_non_null(strstr(refused("a@例え..jp", -EINVAL), "empty part"));
	/* 70 あ make a label over 63 once converted. */
	struct buf b = BUF_INIT(0);
	buf_puts(&b, "a@");
	for (int i = 0; i < 70; i++)
		buf_puts(&b, "あ");
	buf_puts(&b, ".jp");
	assert_non_null(strstr(refused(b.p, -EINVAL), "63"));
	buf_release(&b);
	/* 232 bytes as UTF-8, but each label of 50 a and あい becomes a 62-byte
	 * A-label: a domain of 4 * 63 + 2 = 254 bytes, over 253. */
	buf_puts(&b, "a@");
	for (int l = 0; l < 4; l++)
		buf_puts(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaあい.");
	buf_puts(&b, "jp");
	assert_int_equal(b.len, 232);
	assert_non_null(strstr(refused(b.p, -E2BIG), "254"));
	buf_release(&b);
	/* Three such labels fit: 2 + 3 * 63 + 2 = 193 bytes. */
	buf_puts(&b, "a@");
	for (int l = 0; l < 3; l++)
		buf_puts(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaあい.");
	buf_puts(&b, "jp");
	const char *n = normalised(a, b.p);
	assert_int_equal(strlen(n), 193);
	assert_int_equal(strncmp(n, "a@xn--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-qb32c8c.xn--", 69), 0);
	buf_release(&b);
	arena_free(a);
}

static void test_full_width(void **state)
{
	struct arena *a = arena_new(0);
	/* The local part keeps its case, as ASCII ones do. */
	assert_string_equal(normalised(a, "Ｕｓｅｒ＠ＥＸＡＭＰＬＥ．ｃｏ．ｊｐ"), "User@example.co.jp");
	assert_string_equal(normalised(a, "ｙａｍａｄａ．ｔａｒｏ＋１＠example.jp"), "yamada.taro+1@example.jp");
	/* Every full-width ASCII character maps: ！ (U+FF01) to ～ (U+FF5E). */
	assert_string_equal(normalised(a, "！＃＄％＆＇＊＋－／＝？＾＿｀｛｜｝～@ｅｘ．ｊｐ"),
			    "!#$%&'*+-/=?^_`{|}~@ex.jp");
	/* With an IDN domain. */
	assert_string_equal(normalised(a, "ｕｓｅｒ＠例え．ｊｐ"), "user@xn--r8jz45g.jp");
	assert_non_null(strstr(refused("ｔａｒｏ　@example.jp", -EINVAL), "space"));
	assert_non_null(strstr(refused("ｔａｒｏ＠ｅｘａｍｐｌｅ", -EINVAL), "dot"));
	arena_free(a);
}

static void test_reasons(void **state)
{
	assert_non_null(strstr(refused("山田@example.jp", -EINVAL), "ASCII"));
	assert_non_null(strstr(refused("山田@example.jp", -EINVAL), "Japanese"));
	assert_non_null(strstr(refused("taro", -EINVAL), "no @"));
	assert_non_null(strstr(refused("taro@a@b.jp", -EINVAL), "more than one @"));
	assert_non_null(strstr(refused("@b.jp", -EINVAL), "before the @"));
	assert_non_null(strstr(refused("taro@", -EINVAL), "after the @"));
	assert_non_null(strstr(refused("ta ro@b.jp", -EINVAL), "space"));
	assert_non_null(strstr(refused("taro@b.jp\n", -EINVAL), "control"));
	assert_non_null(strstr(refused("ta..ro@b.jp", -EINVAL), "two dots"));
	assert_non_null(strstr(refused(".taro@b.jp", -EINVAL), "dot"));
	assert_non_null(strstr(refused("ta(ro@b.jp", -EINVAL), "not allowed"));
	assert_non_null(strstr(refused("taro@localhost", -EINVAL), "needs a dot"));
	assert_non_null(strstr(refused("taro@exa_mple.jp", -EINVAL), "letters, digits, hyphens"));
	assert_non_null(strstr(refused("taro@-a.jp", -EINVAL), "hyphen"));
	assert_non_null(strstr(refused("taro@192.168.0.1", -EINVAL), "number"));
	assert_non_null(strstr(refused("taro@\xFF.jp", -EINVAL), "UTF-8"));
	/* Every reason says what is wrong, starting with the same words. */
	assert_int_equal(strncmp(refused("taro@b", -EINVAL), "not a valid e-mail address", 26), 0);

	_cleanup_free_ char *l65 = xasprintf("%065d@example.jp", 0), *huge = xmalloc(2000);
	assert_non_null(strstr(refused(l65, -EINVAL), "64"));
	memset(huge, 'x', 1999);
	huge[1999] = '\0';
	assert_string_equal(refused(huge, -E2BIG), "longer than 254 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_normalised),
		cmocka_unit_test(test_idn),
		cmocka_unit_test(test_full_width),
		cmocka_unit_test(test_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
