/* Tests for src/http/request.c: percent-decoding and form bodies (no server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/http.h"

static struct http_request *request_new(size_t arena_max)
{
	struct arena *a = arena_new(arena_max);
	struct http_request *req = arena_alloc(a, sizeof(*req));
	req->arena = a;
	return req;
}

static void test_url_decode(void **state)
{
	struct arena *a = arena_new(0);
	static const struct {
		const char *in;
		bool plus;
		const char *out; /* NULL: refused */
	} cases[] = {
		{ "", false, "" },
		{ "abc", false, "abc" },
		{ "a%20b", false, "a b" },
		{ "a+b", false, "a+b" },
		{ "a+b", true, "a b" },
		{ "%2B", true, "+" },
		{ "%2b%2F%3d", false, "+/=" },
		{ "%E3%81%82%e3%81%84", false, "あい" },
		{ "100%25", false, "100%" },
		{ "%", false, NULL },
		{ "%2", false, NULL },
		{ "a%", true, NULL },
		{ "%zz", false, NULL },
		{ "%g0", false, NULL },
		{ "%0g", false, NULL },
		{ "%00", false, NULL },
		{ "a%00b", true, NULL },
		{ "%%41", false, NULL },
		{ "%41%", false, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = http_url_decode(a, slice_from(cases[i].in), cases[i].plus);
		if (!cases[i].out) {
			if (got)
				fail_msg("\"%s\" decoded to \"%s\"", cases[i].in, got);
		} else {
			if (!got)
				fail_msg("\"%s\" refused", cases[i].in);
			assert_string_equal(got, cases[i].out);
		}
	}
	/* A raw NUL inside the slice is refused too; the slice end is honoured. */
	assert_null(http_url_decode(a, (struct slice){ "a\0b", 3 }, false));
	assert_string_equal(http_url_decode(a, (struct slice){ "abcdef", 3 }, false), "abc");
	arena_free(a);

	/* The arena cap applies. */
	a = arena_new(8192);
	char big[10000];
	memset(big, 'x', sizeof(big));
	assert_null(http_url_decode(a, (struct slice){ big, sizeof(big) }, false));
	arena_free(a);
}

/* Collects pairs as "name=value;" */
static int collect(void *ctx, const char *name, const char *value)
{
	return buf_printf(ctx, "%s=%s;", name, value);
}

static int stop_at_b(void *ctx, const char *name, const char *value)
{
	if (strcmp(name, "b") == 0)
		return -ECANCELED;
	return collect(ctx, name, value);
}

static void test_form(void **state)
{
	struct http_request *req = request_new(0);
	static const struct {
		const char *body;
		int ret;
		const char *pairs;
	} cases[] = {
		{ "", 0, "" },
		{ "a=1", 1, "a=1;" },
		{ "a=1&b=%E3%81%82+c", 2, "a=1;b=あ c;" },
		{ "a=&b=", 2, "a=;b=;" },
		{ "flag&x=1", 2, "flag=;x=1;" },
		{ "a=1&a=2&a=3", 3, "a=1;a=2;a=3;" },
		{ "&&a=1&&", 1, "a=1;" },
		{ "=v", 1, "=v;" },
		{ "a=b=c", 1, "a=b=c;" },
		{ "a%3Db=c%26d", 1, "a=b=c&d;" },
		{ "na+me=va+lue", 1, "na me=va lue;" },
		{ "a=%2B%25", 1, "a=+%;" },
		{ "a=1&b=%zz", -EINVAL, "" },
		{ "a=1&b=%", -EINVAL, "" },
		{ "a=1&b%0=1", -EINVAL, "" },
		{ "a=%00", -EINVAL, "" },
		{ "a%00=1", -EINVAL, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		buf_init(&b, 0);
		int r = http_form_each(req, slice_from(cases[i].body), collect, &b);
		if (r != cases[i].ret)
			fail_msg("\"%s\": returned %d", cases[i].body, r);
		/* A malformed body calls fn for none of its pairs. */
		assert_string_equal(b.p, cases[i].pairs);
		buf_release(&b);
	}

	/* A negative return from fn stops the walk and is passed on. */
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(http_form_each(req, SLICE_LIT("a=1&b=2&c=3"), stop_at_b, &b), -ECANCELED);
	assert_string_equal(b.p, "a=1;");
	buf_release(&b);
	arena_free(req->arena);
}

static int count(void *ctx, const char *name, const char *value)
{
	++*(size_t *)ctx;
	return 0;
}

static void test_form_caps(void **state)
{
	struct http_request *req = request_new(0);
	struct buf body;
	size_t n = 0;

	buf_init(&body, 0);
	for (int i = 0; i < 1000; i++)
		buf_printf(&body, "%sk%d=v", i ? "&" : "", i);
	assert_int_equal(http_form_each(req, buf_slice(&body), count, &n), 1000);
	assert_int_equal(n, 1000);

	/* One more pair is refused before fn runs; empty pieces do not count. */
	buf_puts(&body, "&&&");
	assert_int_equal(http_form_each(req, buf_slice(&body), count, &n), 1000);
	buf_puts(&body, "&last=1");
	n = 0;
	assert_int_equal(http_form_each(req, buf_slice(&body), count, &n), -E2BIG);
	assert_int_equal(n, 0);
	buf_release(&body);
	arena_free(req->arena);

	/* Decoded pairs that outgrow the request arena: -ENOMEM. */
	req = request_new(16384);
	buf_init(&body, 0);
	for (int i = 0; i < 20; i++)
		buf_printf(&body, "k%d=%01000d&", i, 0);
	n = 0;
	assert_int_equal(http_form_each(req, buf_slice(&body), count, &n), -ENOMEM);
	buf_release(&body);
	arena_free(req->arena);
}

/* Without a connection (fuzzing, unit tests) the accessors find nothing. */
static void test_accessors_without_connection(void **state)
{
	struct http_request *req = request_new(0);
	assert_null(http_query(req, "a"));
	assert_null(http_header(req, "Host"));
	assert_null(http_cookie(req, "sid"));
	arena_free(req->arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_form_caps),
		cmocka_unit_test(test_accessors_without_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
