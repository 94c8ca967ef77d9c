/* Tests of src/content/text.c: the text part made from an HTML part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "content/content.h"

static void expect_text(const char *html, const char *want)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(content_html_to_text(&b, slice_from(html)), 0);
	assert_string_equal(b.p, want);
	buf_release(&b);
}

static void test_blocks_breaks_and_whitespace(void **state)
{
	expect_text("<p>一行目</p><p>二行目<br>三行目</p>", "一行目\n\n二行目\n三行目\n");
	expect_text("  a \n\t b  ", "a b\n");
	expect_text("<div><div><p>深い</p></div></div>", "深い\n");
	expect_text("<ul><li>一</li><li>二</li></ul>後", "・一\n・二\n\n後\n");
	expect_text("<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr></table>", "A B\n\nC\n");
	expect_text("", "\n");
}

static void test_links(void **state)
{
	expect_text("<a href=\"{{URL}}\">こちら</a>", "こちら ({{URL}})\n");
	expect_text("<a href='https://x.example/a'>https://x.example/a</a>", "https://x.example/a\n");
	expect_text("<a href=\"mailto:a@b.example\">連絡</a>", "連絡\n");
	expect_text("<A HREF=https://x.example>X</A>", "X (https://x.example)\n");
}

static void test_entities_and_hidden_parts(void **state)
{
	expect_text("a&amp;b&lt;c&gt;&quot;&#39;&nbsp;&#x3042;&#12354;&bogus;&", "a&b<c>\"' ああ&bogus;&\n");
	expect_text("<html><head><title>t</title><style>p{}</style></head><body>本文<script>x()</script>"
		    "<!-- <p>hidden</p> --></body></html>", "本文\n");
	expect_text("{{姓}} {{名}} 様", "{{姓}} {{名}} 様\n");
	expect_text("<p>unclosed <b", "unclosed\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_breaks_and_whitespace),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_entities_and_hidden_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
