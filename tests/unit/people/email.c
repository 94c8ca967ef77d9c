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
	"山田@example.jp",               /* no internationalised addresses yet */
	"taro@例え.jp",
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_normalised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
