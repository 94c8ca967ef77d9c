/* Unit tests for src/gophish/import.c: GoPhish's times and templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "content/content.h"
#include "gophish/gophish.h"

static void test_times(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {
		{ "2025-01-10 09:05:01.123456789+00:00", INT64_C(1736499901123) },  /* go-sqlite3 */
		{ "2025-01-10 09:05:01+00:00", INT64_C(1736499901000) },            /* 0.4_utc_dates */
		{ "2025-01-10 18:05:01.5+09:00", INT64_C(1736499901500) },
		{ "2025-01-10T09:05:01Z", INT64_C(1736499901000) },
		{ "2025-01-10 09:05:01", INT64_C(1736499901000) },
		{ "2025-01-10 04:05:01-0500", INT64_C(1736499901000) },
		{ "2025-01-10 09:05:01.000000001 +0000 UTC", INT64_C(1736499901000) },
		{ "1970-01-01 00:00:00", 0 },
	};
	static const char *const bad[] = {
		"", "yesterday", "0001-01-01 00:00:00+00:00",   /* Go's zero time: no time */
		"0000-00-00 00:00:00", "2025-13-01 00:00:00", "2025-01-10 25:00:00", "2025-01-10 09:05:01.+00:00",
		"2025-01-10 09:05:01+9", "2025-01-10 09:05:01 junk", "2025/01/10 09:05:01", "1970-01-01 00:00:00+01:00",
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		int64_t ms = -1;
		assert_int_equal(gophish_time_parse(good[i].s, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t ms = 42;
		assert_int_equal(gophish_time_parse(bad[i], &ms), -EINVAL);
		assert_int_equal(ms, 42);
	}
	assert_int_equal(gophish_time_parse(NULL, &(int64_t){ 0 }), -EINVAL);
}

static void convert_is(const char *in, const char *want, const char *want_dropped)
{
	struct arena *a = arena_new(0);
	const char *out, *dropped;
	assert_int_equal(gophish_template_convert(slice_from(in), a, &out, &dropped), 0);
	assert_string_equal(out, want);
	assert_string_equal(dropped, want_dropped);
	assert_int_equal(content_template_check(slice_from(out), NULL), 0);
	arena_free(a);
}

static void test_templates(void **state)
{
	(void)state;
	convert_is("Hi {{.FirstName}} {{.LastName}} <a href=\"{{.URL}}\">{{.Email}}</a>{{.Tracker}}",
		   "Hi {{first_name}} {{last_name}} <a href=\"{{url}}\">{{email}}</a>", "");
	convert_is("{{ .Position }}/{{- .From -}}/{{.TrackingURL}}", "{{position}}/{{sender_email}}/", "");
	/* no Kunren value: dropped and named once */
	convert_is("ref {{.RId}} {{.RId}} {{.BaseURL}}", "ref   ", "{{.RId}}, {{.BaseURL}}");
	convert_is("{{if .Position}}x{{end}}", "x", "{{if .Position}}, {{end}}");
	/* Kunren's own fields pass; stray braces are broken up */
	convert_is("{{名}} {{ url | url }}", "{{名}} {{ url | url }}", "");
	convert_is("a {{ b", "a { { b", "");
	convert_is("{{{{", "{ { { {", "");
	convert_is("x{{.URL}}", "x{{url}}", "");
	convert_is("", "", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
