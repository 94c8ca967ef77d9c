/* Unit tests for src/content/sample.c: the made-up target of previews and sample files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "content/content.h"

/* Every merge field has a sample value: a field added to content_merge_vars
 * and forgotten here would render empty in every preview. */
static void test_every_field_has_a_value(void **state)
{
	struct arena *a = arena_new(0);
	struct merge_vars v;
	content_sample_vars("https://t.example:8443", "PREVIEW", NULL, a, &v);
	for (int f = 0; f < MF__COUNT; f++) {
		assert_non_null(v.v[f]);
		assert_true(v.v[f][0] != '\0');
	}
	arena_free(a);
}

static void test_values(void **state)
{
	struct arena *a = arena_new(0);
	struct merge_vars v;
	content_sample_vars("https://t.example:8443", "PREVIEW", NULL, a, &v);
	assert_string_equal(v.v[MF_LAST_NAME], "山田");
	assert_string_equal(v.v[MF_FIRST_NAME], "太郎");
	assert_string_equal(v.v[MF_EMAIL], "taro.yamada@example.co.jp");
	assert_string_equal(v.v[MF_FIELD3], "正社員");
	assert_string_equal(v.v[MF_URL], "https://t.example:8443/c/PREVIEW");
	assert_string_equal(v.v[MF_REPORT_URL], "https://t.example:8443/r/PREVIEW");
	assert_string_equal(v.v[MF_SENDER_NAME], "情報システム部");
	assert_string_equal(v.v[MF_SENDER_EMAIL], "it@example.co.jp");
	assert_string_equal(v.v[MF_SEND_DATE], "2026年11月27日");
	/* the password that opens the sample zip of the same rid */
	assert_string_equal(v.v[MF_PASSWORD], content_zip_password("PREVIEW", a));

	content_sample_vars("http://127.0.0.1:9", "sample", "総務部", a, &v);
	assert_string_equal(v.v[MF_SENDER_NAME], "総務部");
	assert_string_equal(v.v[MF_URL], "http://127.0.0.1:9/c/sample");
	assert_string_equal(v.v[MF_REPORT_URL], "http://127.0.0.1:9/r/sample");
	assert_string_equal(v.v[MF_PASSWORD], "Kr000000");
	content_sample_vars("http://127.0.0.1:9", "sample", "", a, &v);
	assert_string_equal(v.v[MF_SENDER_NAME], "情報システム部");
	arena_free(a);
}

/* Rendered, {{報告URL}} is a report link the click rewriting leaves alone. */
static void test_rendered_report_link(void **state)
{
	struct arena *a = arena_new(0);
	struct merge_vars v;
	content_sample_vars("https://t.example", "PREVIEW", NULL, a, &v);
	_cleanup_buf_ struct buf html = BUF_INIT(0);
	assert_int_equal(content_render(&html, SLICE_LIT("<a href=\"{{報告URL}}\">報告</a> {{ report_url }}"),
					CONTENT_HTML, &v), 0);
	assert_string_equal(html.p, "<a href=\"https://t.example/r/PREVIEW\">報告</a> https://t.example/r/PREVIEW");
	_cleanup_buf_ struct buf tracked = BUF_INIT(0);
	assert_int_equal(content_html_track(&tracked, buf_slice(&html), v.v[MF_URL], NULL), 0);
	assert_non_null(strstr(tracked.p, "<a href=\"https://t.example/r/PREVIEW\">報告</a>"));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_has_a_value),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_rendered_report_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
