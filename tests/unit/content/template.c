/* Unit tests for src/content/template.c: merge fields, contexts, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "content/content.h"
#include "store/store.h"

/* Renders tmpl and returns a copy of the output (caller frees), or NULL
 * with *ret_r set on failure. */
static char *render(const char *tmpl, enum content_ctx ctx, const struct merge_vars *vars,
		    int *ret_r)
{
	struct buf b;
	buf_init(&b, 0);
	int r = content_render(&b, slice_from(tmpl), ctx, vars);
	if (ret_r)
		*ret_r = r;
	if (r < 0) {
		assert_int_equal(b.len, 0);
		assert_string_equal(b.p, "");
		buf_release(&b);
		return NULL;
	}
	assert_int_equal(strlen(b.p), b.len);
	return buf_steal(&b);
}

static void assert_render(const char *tmpl, enum content_ctx ctx, const struct merge_vars *vars,
			  const char *want)
{
	int r;
	_cleanup_free_ char *got = render(tmpl, ctx, vars, &r);
	assert_int_equal(r, 0);
	assert_string_equal(got, want);
	/* A template that renders also checks. */
	char *err = NULL;
	assert_int_equal(content_template_check(slice_from(tmpl), &err), 0);
	assert_null(err);
}

/* Checks that tmpl is rejected by both functions with a message containing
 * every string in `want` (NULL-terminated). */
static void assert_reject(struct slice tmpl, const char *const *want)
{
	_cleanup_free_ char *err = NULL;
	assert_int_equal(content_template_check(tmpl, &err), -EINVAL);
	assert_non_null(err);
	for (; *want; want++) {
		if (!strstr(err, *want))
			fail_msg("error \"%s\" lacks \"%s\"", err, *want);
	}

	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "kept");
	struct merge_vars vars = { .v = { [MF_LAST_NAME] = "山田" } };
	assert_int_equal(content_render(&b, tmpl, CONTENT_HTML, &vars), -EINVAL);
	assert_string_equal(b.p, "kept"); /* out untouched on error */
	assert_int_equal(b.len, 4);
	buf_release(&b);
}

#define REJECT(tmpl, ...) assert_reject(slice_from(tmpl), (const char *const[]){ __VA_ARGS__, NULL })

static const struct {
	const char *ja, *en;
	enum merge_field field;
} all_fields[] = {
	{ "姓", "last_name", MF_LAST_NAME },
	{ "名", "first_name", MF_FIRST_NAME },
	{ "メールアドレス", "email", MF_EMAIL },
	{ "部署", "department", MF_DEPARTMENT },
	{ "役職", "position", MF_POSITION },
	{ "項目", "field1", MF_FIELD1 },
	{ "項目2", "field2", MF_FIELD2 },
	{ "項目3", "field3", MF_FIELD3 },
	{ "URL", "url", MF_URL },
	{ "送信元名", "sender_name", MF_SENDER_NAME },
	{ "送信元アドレス", "sender_email", MF_SENDER_EMAIL },
	{ "送信日", "send_date", MF_SEND_DATE },
	{ "パスワード", "password", MF_PASSWORD },
	{ "報告URL", "report_url", MF_REPORT_URL },
};

static void test_every_field(void **state)
{
	struct merge_vars vars;
	char values[MF__COUNT][16];

	assert_int_equal(ARRAY_SIZE(all_fields), MF__COUNT);
	for (int i = 0; i < MF__COUNT; i++) {
		snprintf(values[i], sizeof(values[i]), "v%d", i);
		vars.v[i] = values[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(all_fields); i++) {
		const char *names[] = { all_fields[i].ja, all_fields[i].en };
		for (size_t k = 0; k < 2; k++) {
			_cleanup_free_ char *tmpl = xasprintf("<{{%s}}>", names[k]);
			_cleanup_free_ char *want = xasprintf("<v%d>", (int)all_fields[i].field);
			assert_render(tmpl, CONTENT_TEXT, &vars, want);

			enum merge_field f = MF__COUNT;
			assert_int_equal(content_field_lookup(slice_from(names[k]), &f), 0);
			assert_int_equal(f, all_fields[i].field);
		}
	}
}

static void test_field_lookup(void **state)
{
	enum merge_field f = MF__COUNT;
	assert_int_equal(content_field_lookup(SLICE_LIT(" 項目1 "), &f), 0);
	assert_int_equal(f, MF_FIELD1);
	assert_int_equal(content_field_lookup(SLICE_LIT("Last_Name"), &f), 0);
	assert_int_equal(f, MF_LAST_NAME);
	f = MF__COUNT;
	assert_int_equal(content_field_lookup(SLICE_LIT("姓名"), &f), -ENOENT);
	assert_int_equal(content_field_lookup(SLICE_LIT(""), &f), -ENOENT);
	assert_int_equal(content_field_lookup(SLICE_LIT("last name"), &f), -ENOENT);
	assert_int_equal(f, MF__COUNT); /* untouched on failure */
}

static void test_spaces_and_case(void **state)
{
	struct merge_vars vars = { .v = { [MF_LAST_NAME] = "山田", [MF_EMAIL] = "a b@x.jp" } };
	assert_render("{{ 姓 }}様", CONTENT_TEXT, &vars, "山田様");
	assert_render("{{\t姓\n}}", CONTENT_TEXT, &vars, "山田");
	assert_render("{{　姓　}}", CONTENT_TEXT, &vars, "山田"); /* U+3000 */
	assert_render("{{LAST_NAME}}", CONTENT_TEXT, &vars, "山田");
	assert_render("{{ email | url }}", CONTENT_TEXT, &vars, "a%20b%40x.jp");
	assert_render("{{email|URL}}", CONTENT_TEXT, &vars, "a%20b%40x.jp");
}

static void test_contexts(void **state)
{
	struct merge_vars vars = { .v = {
		[MF_LAST_NAME] = "<b>\"O'Brien\" & co</b>",
		[MF_FIRST_NAME] = "a/b?c=d e",
		[MF_DEPARTMENT] = "営業\r\nBcc: x@y\t\x7f!",
	} };
	const char *tmpl = "<p>{{姓}}</p>";
	assert_render(tmpl, CONTENT_HTML, &vars,
		      "<p>&lt;b&gt;&quot;O&#39;Brien&quot; &amp; co&lt;/b&gt;</p>");
	assert_render(tmpl, CONTENT_TEXT, &vars, "<p><b>\"O'Brien\" & co</b></p>");
	assert_render(tmpl, CONTENT_HEADER, &vars, "<p><b>\"O'Brien\" & co</b></p>");

	assert_render("https://x.example/?n={{名}}&k=1", CONTENT_URL, &vars,
		      "https://x.example/?n=a%2Fb%3Fc%3Dd%20e&k=1");
	assert_render("{{名}}", CONTENT_URL, &vars, "a%2Fb%3Fc%3Dd%20e");
	assert_render("{{部署}}", CONTENT_URL, &vars, "%E5%96%B6%E6%A5%AD%0D%0ABcc%3A%20x%40y%09%7F%21");

	/* Header: every control becomes one space, in values and in literal text. */
	assert_render("件名 {{部署}}", CONTENT_HEADER, &vars, "件名 営業  Bcc: x@y  !");
	assert_render("a\r\nb {{部署}}", CONTENT_HEADER, &vars, "a  b 営業  Bcc: x@y  !");
	assert_render("a\r\nb {{部署}}", CONTENT_TEXT, &vars, "a\r\nb 営業\r\nBcc: x@y\t\x7f!");
}

static void test_url_filter(void **state)
{
	struct merge_vars vars = { .v = { [MF_EMAIL] = "yamada+t@example.co.jp", [MF_LAST_NAME] = "山 & 田" } };
	assert_render("<a href=\"https://x/?m={{メールアドレス|url}}\">", CONTENT_HTML, &vars,
		      "<a href=\"https://x/?m=yamada%2Bt%40example.co.jp\">");
	/* Percent-encoding first, then the context: nothing left for HTML to escape. */
	assert_render("{{姓|url}}", CONTENT_HTML, &vars, "%E5%B1%B1%20%26%20%E7%94%B0");
	assert_render("{{姓|url}}", CONTENT_HEADER, &vars, "%E5%B1%B1%20%26%20%E7%94%B0");
	/* In URL context the filter encodes a second time, as documented. */
	assert_render("{{メールアドレス|url}}", CONTENT_URL, &vars, "yamada%252Bt%2540example.co.jp");
}

static void test_url_field_in_html(void **state)
{
	struct merge_vars vars = { .v = { [MF_URL] = "https://t.example/c/AbC?x=1&y=\"2\"" } };
	assert_render("<a href=\"{{URL}}\">go</a>", CONTENT_HTML, &vars,
		      "<a href=\"https://t.example/c/AbC?x=1&amp;y=&quot;2&quot;\">go</a>");
	assert_render("{{url}}", CONTENT_TEXT, &vars, "https://t.example/c/AbC?x=1&y=\"2\"");
}

/* {{報告URL}} is escaped per context like {{URL}}. */
static void test_report_url_contexts(void **state)
{
	struct merge_vars vars = { .v = { [MF_REPORT_URL] = "https://t.example/r/AbC?a=1&b=\"2\"" } };
	assert_render("<a href=\"{{報告URL}}\">報告</a>", CONTENT_HTML, &vars,
		      "<a href=\"https://t.example/r/AbC?a=1&amp;b=&quot;2&quot;\">報告</a>");
	assert_render("報告: {{ report_url }}", CONTENT_TEXT, &vars, "報告: https://t.example/r/AbC?a=1&b=\"2\"");
	assert_render("{{Report_URL}}", CONTENT_URL, &vars, "https%3A%2F%2Ft.example%2Fr%2FAbC%3Fa%3D1%26b%3D%222%22");
	assert_true(content_template_uses(SLICE_LIT("<a href=\"{{報告URL}}\">"), MF_REPORT_URL));
	assert_int_equal(content_template_check(SLICE_LIT("{{報告URL}} {{report_url|url}}"), NULL), 0);
}

/* content_merge_vars makes the report link beside the click URL. */
static void test_merge_report_url(void **state)
{
	struct campaign c = { .sender_name = "総務部", .sender_local = "soumu", .sender_domain = "x.example" };
	struct target t = { .rid = "AbCdEfGhIjKlMnOpQr" };
	struct arena *a = arena_new(0);
	struct merge_vars v;
	const struct tz *utc = tz_get("UTC");

	content_merge_vars(&c, &t, "https://t.example:8443/c/AbCdEfGhIjKlMnOpQr", utc, a, &v);
	assert_string_equal(v.v[MF_REPORT_URL], "https://t.example:8443/r/AbCdEfGhIjKlMnOpQr");
	assert_string_equal(v.v[MF_URL], "https://t.example:8443/c/AbCdEfGhIjKlMnOpQr");
	assert_string_equal(v.v[MF_SENDER_EMAIL], "soumu@x.example");
	/* a URL that is not this target's click URL gives no report link */
	content_merge_vars(&c, &t, "https://t.example/c/OTHERRIDOTHERRID00", utc, a, &v);
	assert_null(v.v[MF_REPORT_URL]);
	content_merge_vars(&c, &t, "https://t.example/x/AbCdEfGhIjKlMnOpQr", utc, a, &v);
	assert_null(v.v[MF_REPORT_URL]);
	content_merge_vars(&c, &t, NULL, utc, a, &v);
	assert_null(v.v[MF_REPORT_URL]);
	assert_render("[{{報告URL}}]", CONTENT_TEXT, &v, "[]");
	arena_free(a);
}

static void test_missing_values(void **state)
{
	struct merge_vars vars = { .v = { [MF_LAST_NAME] = "山田" } };
	assert_render("{{姓}}{{名}}様", CONTENT_HTML, &vars, "山田様");
	assert_render("[{{姓}}|{{名|url}}]", CONTENT_URL, NULL, "[|]");
	assert_render("", CONTENT_TEXT, &vars, "");
}

static void test_literal_text_and_lone_braces(void **state)
{
	struct merge_vars vars = { .v = { [MF_LAST_NAME] = "山田" } };
	const char *lit = "a { b } c }} d {x} { { e <&> \"'";
	assert_render(lit, CONTENT_HTML, &vars, lit);
	assert_render(lit, CONTENT_URL, &vars, lit);
	assert_render(lit, CONTENT_TEXT, &vars, lit);
	assert_render("{{姓}}}", CONTENT_TEXT, &vars, "山田}");
	assert_render("{ {{姓}}", CONTENT_TEXT, &vars, "{ 山田");
	assert_render("}}{{姓}}{", CONTENT_TEXT, &vars, "}}山田{");
	assert_render("p { color: red; } @media { .a { b: c } }", CONTENT_HTML, &vars,
		      "p { color: red; } @media { .a { b: c } }");
}

static void test_unknown_field(void **state)
{
	REJECT("abc {{foo}}", "byte 4", "foo", "unknown merge field");
	REJECT("姓名 {{ 氏名 }}", "byte 7", "氏名");
	REJECT("{{姓}} {{last-name}}", "byte 8", "last-name");
	REJECT("{{姓|upper}}", "byte 0", "upper", "姓");
	REJECT("{{姓|url|url}}", "byte 0", "url|url");
	REJECT("x{{}}", "byte 1", "empty");
	REJECT("x{{   }}", "byte 1", "empty");
	REJECT("{{|url}}", "byte 0", "empty");
	REJECT("{{{姓}}}", "byte 0", "{姓");
}

static void test_unclosed(void **state)
{
	REJECT("Dear {{姓", "byte 5", "not closed");
	REJECT("{{姓}", "byte 0", "not closed");
	REJECT("{{姓} }", "byte 0", "not closed");
	REJECT("ok {{姓}} then {{", "byte 16", "not closed");

	/* "}}" must come within 64 bytes of "{{". */
	struct buf t;
	buf_init(&t, 0);
	buf_puts(&t, "{{");
	for (int i = 0; i < 61; i++)
		buf_putc(&t, ' ');
	buf_puts(&t, "姓}}"); /* 61 + 3 = 64 bytes inside */
	struct merge_vars vars = { .v = { [MF_LAST_NAME] = "山田" } };
	assert_render(t.p, CONTENT_TEXT, &vars, "山田");
	buf_reset(&t);
	buf_puts(&t, "x{{");
	for (int i = 0; i < 62; i++)
		buf_putc(&t, ' ');
	buf_puts(&t, "姓}}"); /* 65 bytes inside */
	REJECT(t.p, "byte 1", "not closed");
	buf_release(&t);
}

static void test_invalid_utf8(void **state)
{
	REJECT("ab\xff{{姓}}", "byte 2", "UTF-8");
	REJECT("{{姓}}\xe5\xa7", "byte 7", "UTF-8");      /* truncated at the end */
	REJECT("\xc0\xaf", "byte 0", "UTF-8");            /* overlong '/' */
	REJECT("山\xed\xa0\x80", "byte 3", "UTF-8");      /* surrogate */
	REJECT("\xf4\x90\x80\x80", "byte 0", "UTF-8");    /* beyond U+10FFFF */
	REJECT("{{\xe5\xa7}}", "byte 2", "UTF-8");        /* inside the braces */
	assert_reject((struct slice){ "a\0{{姓}}", 9 }, (const char *const[]){ "byte 1", "NUL", NULL });
}

static void test_template_uses(void **state)
{
	assert_true(content_template_uses(SLICE_LIT("<a href=\"{{ url }}\">"), MF_URL));
	assert_true(content_template_uses(SLICE_LIT("{{姓}} {{URL|url}}"), MF_URL));
	assert_false(content_template_uses(SLICE_LIT("{{姓}} URL {url}"), MF_URL));
	assert_false(content_template_uses(SLICE_LIT("{{foo}} {{URL}}"), MF_URL)); /* stops at the error */
	assert_false(content_template_uses(SLICE_LIT(""), MF_URL));
}

static void test_check_without_err(void **state)
{
	assert_int_equal(content_template_check(SLICE_LIT("{{x}}"), NULL), -EINVAL);
	assert_int_equal(content_template_check(SLICE_LIT("{{姓}}"), NULL), 0);
}

static void test_output_cap(void **state)
{
	struct merge_vars vars = { .v = { [MF_LAST_NAME] = "<<<<<<<<" } };
	struct buf b;
	buf_init(&b, 16);
	buf_puts(&b, "ab");
	/* 8 '<' become 32 bytes of "&lt;": more than the cap allows. */
	assert_int_equal(content_render(&b, SLICE_LIT("x{{姓}}"), CONTENT_HTML, &vars), -E2BIG);
	assert_string_equal(b.p, "ab");
	assert_int_equal(content_render(&b, SLICE_LIT("x{{姓}}"), CONTENT_TEXT, &vars), 0);
	assert_string_equal(b.p, "abx<<<<<<<<");
	buf_release(&b);
}

static void test_appends(void **state)
{
	struct merge_vars vars = { .v = { [MF_FIRST_NAME] = "太郎" } };
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "Subject: ");
	assert_int_equal(content_render(&b, SLICE_LIT("{{名}}さん"), CONTENT_HEADER, &vars), 0);
	assert_string_equal(b.p, "Subject: 太郎さん");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_field_lookup),
		cmocka_unit_test(test_spaces_and_case),
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_url_filter),
		cmocka_unit_test(test_url_field_in_html),
		cmocka_unit_test(test_report_url_contexts),
		cmocka_unit_test(test_merge_report_url),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_literal_text_and_lone_braces),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_unclosed),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_template_uses),
		cmocka_unit_test(test_check_without_err),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_appends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
