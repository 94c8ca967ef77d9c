/* Unit tests for src/content/html_check.c: the well-formedness check of a
 * scenario's HTML (mail, landing and explanation pages). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "content/content.h"

static void check_good_n(const char *html, size_t len)
{
	char *err = NULL;
	int r = content_html_check((struct slice){ html, len }, &err);
	if (r != 0)
		fail_msg("rejected (%d: %s):\n%s", r, err ? err : "(no message)", html);
	assert_null(err);
}

static void check_good(const char *html)
{
	check_good_n(html, strlen(html));
}

/* Rejected with exactly this message; also without a message pointer. */
static void check_bad_n(const char *html, size_t len, const char *want)
{
	char *err = NULL;
	int r = content_html_check((struct slice){ html, len }, &err);
	if (r != -EINVAL)
		fail_msg("accepted (%d), expected \"%s\":\n%s", r, want, html);
	assert_non_null(err);
	if (strcmp(err, want) != 0)
		fail_msg("message \"%s\", expected \"%s\" for:\n%s", err, want, html);
	free(err);
	assert_int_equal(content_html_check((struct slice){ html, len }, NULL), -EINVAL);
}

static void check_bad(const char *html, const char *want)
{
	check_bad_n(html, strlen(html), want);
}

/* ---- good mails ---- */

static const char table_mail[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"ja\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n"
	"<title>お知らせ <重要></title>\n"
	"<style>\n"
	"  /* a < b, </td> and <div> are text here */\n"
	"  td > a { color: #1a5fb4; }\n"
	"</style>\n"
	"</head>\n"
	"<body style=\"margin:0\">\n"
	"<!-- header: <table> in a comment is not markup -->\n"
	"<table role=\"presentation\" width=\"100%\" cellpadding=\"0\">\n"
	"  <tr>\n"
	"    <td align=\"center\"><img src=\"https://x.example/logo.png\" alt=\"Logo\" width=\"120\"></td>\n"
	"  </tr>\n"
	"  <tr>\n"
	"    <td style=\"padding:16px\">\n"
	"      <p>{{部署}}<br>\n"
	"      {{姓}} {{名}} 様</p>\n"
	"      <p>期限は {{送信日}} です。<br/>お早めに。</p>\n"
	"      <a href=\"{{URL}}\" title=\"{{ 姓 }}様のページ\" style=\"color:#fff\">確認する</a>\n"
	"      <hr>\n"
	"    </td>\n"
	"  </tr>\n"
	"</table>\n"
	"</body>\n"
	"</html>\n";

static void test_table_layout_mail(void **state)
{
	check_good(table_mail);
}

static void test_implied_end_tags(void **state)
{
	check_good("<p>one<p>two<p>three");                          /* p by p, and at the end */
	check_good("<div><p>one<p>two</div>");                       /* by the parent's end tag */
	check_good("<p>intro<div>block</div>");                      /* p by a block */
	check_good("<p>intro<table><tr><td>x</td></tr></table>");    /* p by a table */
	check_good("<p>a<ul><li>b</ul><p>c<h2>d</h2><p>e<hr><p>f<blockquote>g</blockquote>");
	check_good("<ul><li>one<li>two<li>three</ul>");
	check_good("<ol>\n<li><p>para<li>next\n</ol>");
	check_good("<ul><li>a<ul><li>inner<li>inner2</ul><li>b</ul>");  /* nested lists */
	check_good("<table><tr><td>a<td>b<th>c<tr><td>d</table>");
	check_good("<table><thead><tr><th>h<tbody><tr><td>1<tr><td>2<tfoot><tr><td>f</table>");
	check_good("<table><colgroup><col width=\"10\"><col></colgroup><tr><td>x</table>");
	check_good("<table><colgroup><col><tbody><tr><td>x</table>");
	check_good("<table>\n  <tr>\n    <td><p>cell</td>\n  </tr>\n</table>");
	check_good("<table><tr><td><table><tr><td>inner</table><td>outer</table>");
	check_good("<dl><dt>term<dd>def<dt>term2<dd>def2</dl>");
	check_good("<select><option>a<option selected>b</select>");
	check_good("<select><optgroup label=\"x\"><option>a<optgroup label=\"y\"><option>b</select>");
	check_good("<ruby>漢<rp>(<rt>かん<rp>)</ruby>");
	check_good("<html><head><title>t</title><body><p>x");        /* head closed by body */
	check_good("<html><body><p>x</body></html>");
	/* an end tag for an implied-closed p inside a cell stays in the cell */
	check_good("<p>outer<table><tr><td><p>in</p><div>d</div></td></tr></table>");
}

static void test_void_elements(void **state)
{
	check_good("<br><br/><br /><BR>");
	check_good("<img src=\"a.png\"><img src=\"b.png\" /><img src=b.png/>");
	check_good("<p>a<wbr>b<input type=\"text\" name=\"q\"><input type=checkbox checked></p>");
	check_good("<area><base><col><embed><hr><link><meta><param><source><track><wbr>");
	check_good("<p>a</br>b</p>");          /* "</br>" and "</img>" close nothing */
	check_good("<img src=\"x\"></img>");
}

static void test_skipped_markup(void **state)
{
	check_good("<!DOCTYPE html><!doctype HTML PUBLIC \"-//W3C//DTD XHTML 1.0//EN\">");
	check_good("<?xml version=\"1.0\"?><p>x</p>");
	check_good("<!-- <div> --><!----><!--><!--->x<!-- a --!><p>y");
	check_good("<![CDATA[ <div> ]]><p>x</p>");
	check_good("<!--[if mso]><table><tr><td><![endif]-->\n<div>x</div>\n<!--[if mso]></td></tr></table><![endif]-->");
}

static void test_raw_text(void **state)
{
	check_good("<style>p::before { content: \"<div>\"; } a<b {}</style><p>x");
	check_good("<STYLE type=\"text/css\">td < a {}</Style >");
	check_good("<script>if (a </b) { x = '<div>'; }</script>");
	check_good("<textarea name=\"t\"><div></span></textarea>");
	check_good("<title>a < b </title>");
	check_good("<textarea>{{姓}}</textarea>");
}

static void test_attributes(void **state)
{
	check_good("<a href=\"{{URL}}\">x</a>");
	check_good("<a href={{URL}}>x</a>");
	check_good("<a href={{ URL }} class=btn>x</a>");         /* a field with spaces, unquoted */
	check_good("<a href=\"{{URL}}?m={{メールアドレス|url}}\" title='{{ 姓 }} 様'>x</a>");
	check_good("<a title=\"a > b\" data-x='\"' href=x>x</a>");
	check_good("<a\n  href\n=\n  \"x\"\n>go</a>");
	check_good("<input disabled value=\"\" placeholder='3 < 4'>");
	check_good("<td {{x}}>");                                /* a field where a name goes */
	check_good("<div title=\"one\ntwo\">x</div>");
	check_good("<form method=\"post\" action=\"{{URL}}\"><input name=\"userid\"></form>");
}

static void test_text_and_case(void **state)
{
	check_good("");
	check_good("just text, no markup");
	check_good("a < b and c > d, 1 <3, <> and < p>, a trailing <");
	check_good("</ >x");                                     /* "</" not followed by a letter is text */
	check_good("<DIV><P>x</p></Div>");
	check_good("<Table><TR><td>x</TD></tr></TABLE>");
	check_good("{{姓}} {{名}} 様 <b>{{部署}}</b>");
}

static void test_foreign_content(void **state)
{
	check_good("<svg width=\"10\" height=\"10\"><path d=\"M0 0L10 10\"/><circle r=\"2\" /></svg>");
	check_good("<p><svg/>x</p>");
	check_good("<math><mi>x</mi><mspace/></math>");
	check_good("<svg><title>icon</title><g><rect/></g></svg>");
}

static void test_nesting_depth(void **state)
{
	struct buf b = BUF_INIT(0);
	for (int i = 0; i < 256; i++)
		buf_puts(&b, "<div>");
	for (int i = 0; i < 256; i++)
		buf_puts(&b, "</div>");
	check_good(b.p);

	/* void elements and implied-closed siblings do not count */
	buf_reset(&b);
	buf_puts(&b, "<ul>");
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "<li>item<br><p>para");
	buf_puts(&b, "</ul>");
	check_good(b.p);

	buf_reset(&b);
	for (int i = 0; i < 256; i++)
		buf_puts(&b, "<span>");
	buf_puts(&b, "\n<b>");
	check_bad(b.p, "line 2: elements nested more than 256 deep");

	buf_reset(&b);
	for (int i = 0; i < 300; i++)
		buf_puts(&b, "<p><div>");  /* each div closes the p: one deeper each time */
	check_bad(b.p, "line 1: elements nested more than 256 deep");
	buf_release(&b);
}

/* ---- broken ones ---- */

static void test_misnested(void **state)
{
	check_bad("<div>\n<span>\n</div>",
		  "line 3: <span> closed by </div>, expected </span> (opened on line 2)");
	check_bad("<table><tr>\n<td><div>x\n</td></tr></table>",
		  "line 3: <div> closed by </td>, expected </div> (opened on line 2)");
	check_bad("<table><tr><td><b>x</tr></table>",
		  "line 1: <b> closed by </tr>, expected </b> (opened on line 1)");
	check_bad("<p><a href=\"x\"><b>bold</a></b></p>",
		  "line 1: <b> closed by </a>, expected </b> (opened on line 1)");
	check_bad("<ul><li>a<ol><li>b</ul>",
		  "line 1: <ol> closed by </ul>, expected </ol> (opened on line 1)");
	check_bad("<DIV><SPAN>x</DIV>",
		  "line 1: <span> closed by </div>, expected </span> (opened on line 1)");
}

static void test_unclosed(void **state)
{
	check_bad("\n\n<table>", "line 3: unclosed <table> (opened on line 3)");
	check_bad("<table>\n<tr><td>x\n", "line 3: unclosed <table> (opened on line 1)");
	check_bad("<div>\n<div>\n</div>\n", "line 4: unclosed <div> (opened on line 1)");
	check_bad("<ul><li>a<ul><li>b</ul>", "line 1: unclosed <ul> (opened on line 1)");
	check_bad("<p><a href=\"{{URL}}\">link\n</p>",
		  "line 2: <a> closed by </p>, expected </a> (opened on line 1)");
	check_bad("<body>\n<center>x\n</body>",
		  "line 3: <center> closed by </body>, expected </center> (opened on line 2)");
	check_bad("<style>\np { }\n", "line 3: unclosed <style> (opened on line 1)");
	check_bad("<script>x</scrip>", "line 1: unclosed <script> (opened on line 1)");
	check_bad("<title>x</titlex>", "line 1: unclosed <title> (opened on line 1)");
	check_bad("<svg><path d=\"x\"></svg>",
		  "line 1: <path> closed by </svg>, expected </path> (opened on line 1)");
	check_bad("<p>x<div/>y", "line 1: unclosed <div> (opened on line 1)");  /* "/>" does not close a div */
}

static void test_stray_end_tags(void **state)
{
	check_bad("<p>x</p>\n</div>", "line 2: stray </div>");
	check_bad("<p>a<div>b</div></p>", "line 1: stray </p>");  /* the div closed the p */
	check_bad("<p>a<table><tr><td>x</table></p>", "line 1: stray </p>");
	check_bad("<ul><li>a</li></li></ul>", "line 1: stray </li>");
	check_bad("<table><tr><td>a<td>b</td></td></table>", "line 1: stray </td>");
	check_bad("<div>x</Span></div>", "line 1: stray </span>");
	check_bad("</style>", "line 1: stray </style>");
	check_bad("<div>\n</div>\n</div>", "line 3: stray </div>");
}

static void test_broken_tags(void **state)
{
	check_bad("<p>\n<a href=\"x\"", "line 2: <a> tag not closed (no '>' before the end)");
	check_bad("<p>\n<a href=\"x", "line 2: attribute value not closed");
	check_bad("<p>x</p>\n\n<img alt='x>\n", "line 3: attribute value not closed");
	check_bad("<p>\n<a href=\"{{URL}}>click</a>\n<a href=\"y\">y</a>",
		  "line 2: attribute value not closed (its quote runs on into the tag on line 2)");
	check_bad("<div class=\"x\"\n<p>x</p></div>",
		  "line 2: '<' inside the <div> tag (is a '>' missing?)");
	check_bad("<a href=x<b>y</b></a>", "line 1: '<' inside the <a> tag (is a '>' missing?)");
	check_bad("<div></div", "line 1: </div> tag not closed (no '>' before the end)");
	check_bad("<img", "line 1: <img> tag not closed (no '>' before the end)");
	check_bad("<br/", "line 1: <br> tag not closed (no '>' before the end)");
	check_bad("<p>a\n<!-- comment", "line 2: comment not closed (no \"-->\")");
	check_bad("<!-- -- >", "line 1: comment not closed (no \"-->\")");
	check_bad("<!DOCTYPE html", "line 1: <! declaration not closed (no '>')");
	check_bad("<?xml", "line 1: <? declaration not closed (no '>')");
	check_bad("\n<![CDATA[ x ]]", "line 2: <![CDATA[ not closed (no \"]]>\")");
	check_bad("<a href=\"{{URL}\">x</a", "line 1: </a> tag not closed (no '>' before the end)");
}

static void test_line_numbers(void **state)
{
	check_bad("\n\n\n\n</b>", "line 5: stray </b>");
	check_bad("<div\nclass=\"a\"\n\ntitle=\"b>", "line 4: attribute value not closed");
	/* a line break inside a quoted value counts */
	check_bad("<div title=\"a\nb\nc\"></span>", "line 3: stray </span>");
	check_bad("<!--\n\n-->\n<style>\n\n</style>\n</p>", "line 7: stray </p>");
	check_bad("\r\n\r\n</p>", "line 3: stray </p>");
}

static void test_names_in_messages(void **state)
{
	/* non-ASCII bytes and odd characters never reach the message */
	check_bad("<d\xe3\x81\x82v>", "line 1: unclosed <d???v> (opened on line 1)");
	check_bad("<x\x01y>", "line 1: unclosed <x?y> (opened on line 1)");
	struct buf b = BUF_INIT(0);
	buf_puts(&b, "<");
	for (int i = 0; i < 40; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, ">");
	check_bad(b.p, "line 1: unclosed <aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...> (opened on line 1)");
	buf_release(&b);
	/* NUL bytes are input like any other */
	check_bad_n("<p>\0</x>", 8, "line 1: stray </x>");
	check_good_n("<p>\0<b>\0</b>", 12);
}

/* Every prefix and every one-byte corruption of a real mail: never a crash,
 * an answer of 0 or -EINVAL, a message exactly when rejected. */
static void test_any_input(void **state)
{
	size_t n = strlen(table_mail);
	char *copy = xstrndup(table_mail, n);
	static const char bytes[] = { '<', '>', '"', '\'', '/', '\n', '\0', '-', '!', '{' };
	for (size_t i = 0; i <= n; i++) {
		char *err = NULL;
		int r = content_html_check((struct slice){ table_mail, i }, &err);
		assert_true(r == 0 || r == -EINVAL);
		assert_true((r == 0) == (err == NULL));
		if (err)
			assert_true(strncmp(err, "line ", 5) == 0);
		free(err);
		for (size_t k = 0; i < n && k < ARRAY_SIZE(bytes); k++) {
			copy[i] = bytes[k];
			err = NULL;
			r = content_html_check((struct slice){ copy, n }, &err);
			assert_true(r == 0 || r == -EINVAL);
			assert_true((r == 0) == (err == NULL));
			free(err);
			copy[i] = table_mail[i];
		}
	}
	free(copy);
	/* the whole mail fails once any required end tag is taken out */
	static const char *const ends[] = { "</table>", "</a>", "</style>", "</title>" };
	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		const char *at = strstr(table_mail, ends[i]);
		struct buf b = BUF_INIT(0);
		buf_append(&b, table_mail, (size_t)(at - table_mail));
		buf_puts(&b, at + strlen(ends[i]));
		char *err = NULL;
		if (content_html_check(buf_slice(&b), &err) != -EINVAL)
			fail_msg("accepted without %s", ends[i]);
		free(err);
		buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_layout_mail),
		cmocka_unit_test(test_implied_end_tags),
		cmocka_unit_test(test_void_elements),
		cmocka_unit_test(test_skipped_markup),
		cmocka_unit_test(test_raw_text),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_text_and_case),
		cmocka_unit_test(test_foreign_content),
		cmocka_unit_test(test_nesting_depth),
		cmocka_unit_test(test_misnested),
		cmocka_unit_test(test_unclosed),
		cmocka_unit_test(test_stray_end_tags),
		cmocka_unit_test(test_broken_tags),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_names_in_messages),
		cmocka_unit_test(test_any_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
