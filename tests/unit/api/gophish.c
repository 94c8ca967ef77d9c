/* Unit tests for src/api/gophish.c's parsers (gophish_int.h): an SMTP
 * profile's host:port, a sender as GoPhish clients write one, and Kunren's
 * merge fields in GoPhish's names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/gophish_int.h"

static void expect_host(const char *in, const char *host, int64_t port)
{
	struct slice h;
	int64_t p = -1;
	assert_int_equal(api__gp_host(slice_from(in), &h, &p), 0);
	assert_true(slice_eq_str(h, host));
	assert_int_equal(p, port);
}

static void test_host_and_port(void **state)
{
	(void)state;
	expect_host("smtp.example.com:25", "smtp.example.com", 25);
	expect_host(" smtp.example.com:587 ", "smtp.example.com", 587);
	expect_host("smtp.example.com", "smtp.example.com", 25);
	expect_host("192.0.2.1:465", "192.0.2.1", 465);
	expect_host("[2001:db8::1]:465", "2001:db8::1", 465);
	expect_host("[2001:db8::1]", "2001:db8::1", 25);
	expect_host("2001:db8::1", "2001:db8::1", 25); /* bare IPv6: no port */
	struct slice h;
	int64_t p;
	assert_int_equal(api__gp_host(slice_from("smtp.example.com:0"), &h, &p), -ERANGE);
	assert_int_equal(api__gp_host(slice_from("smtp.example.com:65536"), &h, &p), -ERANGE);
	assert_int_equal(api__gp_host(slice_from("smtp.example.com:"), &h, &p), -ERANGE);
	assert_int_equal(api__gp_host(slice_from("smtp.example.com:25x"), &h, &p), -ERANGE);
	assert_int_equal(api__gp_host(slice_from("[2001:db8::1"), &h, &p), -EINVAL);
	assert_int_equal(api__gp_host(slice_from("[2001:db8::1]x25"), &h, &p), -EINVAL);
}

static void expect_sender(const char *in, const char *name, const char *local, const char *domain)
{
	struct arena *a = arena_new(0);
	const char *n, *l, *d;
	assert_true(api__gp_sender(a, in, &n, &l, &d));
	assert_string_equal(n, name);
	assert_string_equal(l, local);
	assert_string_equal(d, domain);
	arena_free(a);
}

static void refuse_sender(const char *in)
{
	struct arena *a = arena_new(0);
	const char *n, *l, *d;
	assert_false(api__gp_sender(a, in, &n, &l, &d));
	arena_free(a);
}

static void test_sender(void **state)
{
	(void)state;
	expect_sender("John Doe <john@example.com>", "John Doe", "john", "example.com");
	expect_sender("  \"Doe, John\" <john@example.com> ", "Doe, John", "john", "example.com");
	expect_sender("<it@example.com>", "", "it", "example.com");
	expect_sender("it@example.com", "", "it", "example.com");
	expect_sender("情報システム部 <it@example.co.jp>", "情報システム部", "it", "example.co.jp");
	refuse_sender("");
	refuse_sender("John Doe");
	refuse_sender("John <john@example.com");
	refuse_sender("John <john@example.com> extra");
	refuse_sender("John <not an address>");
	refuse_sender("a@b@c");
}

static void expect_normalised(const char *in, const char *want)
{
	struct arena *a = arena_new(0);
	const char *out = api__sender_normalise(a, in);
	if (want) {
		assert_non_null(out);
		assert_string_equal(out, want);
		/* normalising again changes nothing */
		assert_string_equal(api__sender_normalise(a, out), want);
	} else {
		assert_null(out);
	}
	arena_free(a);
}

static void test_sender_normalised(void **state)
{
	(void)state;
	expect_normalised("John Doe <John@Example.COM>", "John Doe <John@example.com>");
	expect_normalised("  \"Doe, John\" <john@example.com> ", "\"Doe, John\" <john@example.com>");
	expect_normalised("\"訓練事務局\" <drill@example.jp>", "訓練事務局 <drill@example.jp>");
	expect_normalised("<it@example.com>", "it@example.com");
	expect_normalised("it@example.com", "it@example.com");
	expect_normalised("", "");
	expect_normalised("   ", "");
	expect_normalised("John Doe", NULL);
	expect_normalised("x\r\nBcc: <e@example.com>", NULL);
	expect_normalised("a@b@c", NULL);
}

static void expect_out(const char *in, const char *want)
{
	struct arena *a = arena_new(0);
	const char *out = api__gp_out(a, in);
	assert_non_null(out);
	assert_string_equal(out, want);
	arena_free(a);
}

static void test_merge_fields_in_gophish_names(void **state)
{
	(void)state;
	expect_out("Dear {{first_name}} {{last_name}}: {{url}}", "Dear {{.FirstName}} {{.LastName}}: {{.URL}}");
	expect_out("{{名}} {{姓}} {{URL}} {{メールアドレス}} {{役職}} {{送信元アドレス}}",
		   "{{.FirstName}} {{.LastName}} {{.URL}} {{.Email}} {{.Position}} {{.From}}");
	expect_out("{{ url }}", "{{.URL}}");
	/* no GoPhish name: as it is */
	expect_out("{{部署}} {{項目2}} {{email|url}} {{送信日}}", "{{部署}} {{項目2}} {{email|url}} {{送信日}}");
	expect_out("plain {{ not closed", "plain {{ not closed");
	expect_out("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_and_port),
		cmocka_unit_test(test_sender),
		cmocka_unit_test(test_sender_normalised),
		cmocka_unit_test(test_merge_fields_in_gophish_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
