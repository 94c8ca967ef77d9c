/* Unit tests for src/content/html.c: link rewriting, the hidden link and the open beacon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "content/content.h"

#define CLICK "https://t.example/c/RID"
#define OPEN "https://t.example/o/RID.gif"
#define IMG "<img src=\"" OPEN "\" width=\"1\" height=\"1\" alt=\"\" " \
	"style=\"display:block;border:0;width:1px;height:1px\">"
#define HREF "href=\"" CLICK "\""

#define HIDDEN_PRE "<a href=\"" CLICK "?l=0."
#define HIDDEN_POST "\" style=\"display:none\" aria-hidden=\"true\" tabindex=\"-1\"></a>"

/*
 * The expectations below are written with every tracked link as HREF (or
 * CLICK followed by a quote) and the beacon as IMG; with the click URL
 * CLICK this numbers the links as the tracker does (?l=i.n, in order) and
 * puts the hidden link (?l=0.n) where the beacon goes, or before the last
 * </body>, or at the end.  test_link_numbers spells it out by hand.
 */
static char *expand(const char *want, bool open)
{
	const char *q = CLICK "\"";
	unsigned n = 0, i = 0;
	for (const char *p = strstr(want, q); p; p = strstr(p + 1, q))
		n++;
	struct buf b;
	buf_init(&b, 0);
	const char *hidden_at = open ? strstr(want, IMG) : NULL;
	if (!open) {
		for (const char *p = strstr(want, "</body"); p; p = strstr(p + 1, "</body"))
			hidden_at = p;
		if (!hidden_at)
			hidden_at = want + strlen(want);
	}
	assert_non_null(hidden_at);
	for (const char *p = want; *p;) {
		if (p == hidden_at)
			buf_printf(&b, HIDDEN_PRE "%u" HIDDEN_POST, n);
		if (!strncmp(p, q, strlen(q))) {
			buf_printf(&b, CLICK "?l=%u.%u\"", ++i, n);
			p += strlen(q);
		} else {
			buf_putc(&b, *p++);
		}
	}
	if (hidden_at == want + strlen(want))
		buf_printf(&b, HIDDEN_PRE "%u" HIDDEN_POST, n);
	return buf_steal(&b);
}

static void assert_track_urls(const char *html, const char *click, const char *open,
			      const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(content_html_track(&b, slice_from(html), click, open), 0);
	assert_int_equal(strlen(b.p), b.len);
	_cleanup_free_ char *w = click && !strcmp(click, CLICK) ? expand(want, open != NULL) : xstrdup(want);
	assert_string_equal(b.p, w);
	buf_release(&b);
}

static void assert_track(const char *html, const char *want)
{
	assert_track_urls(html, CLICK, OPEN, want);
}

/* The html has no </body>, so the beacon goes at the end. */
static void assert_link(const char *html, const char *want)
{
	_cleanup_free_ char *w = xasprintf("%s%s", want, IMG);
	assert_track(html, w);
}

static void assert_untouched(const char *html)
{
	assert_link(html, html);
}

static void test_simple(void **state)
{
	assert_track("<html><body><a href=\"http://x.example/\">x</a></body></html>",
		     "<html><body><a " HREF ">x</a>" IMG "</body></html>");
	assert_link("<a href=\"https://x.example/a?b=c\">x</a>", "<a " HREF ">x</a>");
}

static void test_attribute_order_and_quotes(void **state)
{
	assert_link("<a class=\"btn\" href=\"http://x\" target=\"_blank\" style='color:red'>go</a>",
		    "<a class=\"btn\" " HREF " target=\"_blank\" style='color:red'>go</a>");
	assert_link("<a target=_blank href='https://x/?a=\"1\"'>go</a>",
		    "<a target=_blank " HREF ">go</a>");
	assert_link("<a href=http://x/y title=t>go</a>", "<a " HREF " title=t>go</a>");
	assert_link("<a href=http://x/>go</a>", "<a " HREF ">go</a>");
	assert_link("<a\n  href\n=\n  \"http://x\"\n>go</a>", "<a\n  href\n=\n  " "\"" CLICK "\"" "\n>go</a>");
	assert_link("<a title=\"a > b\" href=\"http://x\">go</a>",
		    "<a title=\"a > b\" " HREF ">go</a>");
	assert_link("<a/href=\"http://x\">go</a>", "<a/" HREF ">go</a>");
	assert_link("<a hidden href=\"http://x\">go</a>", "<a hidden " HREF ">go</a>");
}

static void test_case_and_trim(void **state)
{
	assert_link("<A HREF=\"HTTPS://X.EXAMPLE/\">X</A>", "<A HREF=\"" CLICK "\">X</A>");
	assert_link("<a Href=\"Http://x\">x</a>", "<a Href=\"" CLICK "\">x</a>");
	assert_link("<a href=\"  \thttps://x  \">x</a>", "<a " HREF ">x</a>");
}

static void test_not_tracked(void **state)
{
	assert_untouched("<a href=\"mailto:a@example.jp\">mail</a>");
	assert_untouched("<a href=\"#top\">top</a>");
	assert_untouched("<a href=\"/relative/page\">rel</a>");
	assert_untouched("<a href=\"page.html\">rel</a>");
	assert_untouched("<a href=\"//x.example/\">scheme-relative</a>");
	assert_untouched("<a href=\"ftp://x.example/\">ftp</a>");
	assert_untouched("<a href=\"httpx://x\">x</a>");
	assert_untouched("<a href=\"http:/x\">x</a>");
	assert_untouched("<a name=\"x\">anchor</a>");
	assert_untouched("<a href>empty</a>");
	assert_untouched("<a data-href=\"http://x\">data</a>");
	assert_untouched("<abbr href=\"http://x\">abbr</abbr>");
	assert_untouched("<img src=\"http://x/i.png\" alt=\"\">");
	assert_untouched("<link href=\"http://x/s.css\" rel=\"stylesheet\">");
}

static void test_href_in_text(void **state)
{
	assert_untouched("<p>Write href=\"http://x\" in an &lt;a href=\"http://y\"&gt; tag.</p>");
	assert_untouched("<a title='href=\"http://x\"' href=\"#top\">t</a>");
	assert_untouched("a < b and <a> plain </a> and 1<2 <");
}

static void test_multiple_links(void **state)
{
	assert_link("<a href=\"http://one\">1</a> <a href=\"mailto:x@y\">m</a> "
		    "<A href='https://two'>2</A><area shape=rect href=http://three>",
		    "<a " HREF ">1</a> <a href=\"mailto:x@y\">m</a> "
		    "<A " HREF ">2</A><area shape=rect " HREF ">");
}

static void test_first_href_counts(void **state)
{
	assert_link("<a href=\"http://x\" href=\"#y\">x</a>", "<a " HREF " href=\"#y\">x</a>");
	assert_untouched("<a href=\"#y\" href=\"http://x\">x</a>");
}

static void test_url_merge_field(void **state)
{
	assert_link("<a href=\"{{URL}}\">x</a><a href='{{ url }}'>y</a>",
		    "<a " HREF ">x</a><a " HREF ">y</a>");
	assert_untouched("<a href=\"{{姓}}\">x</a>");
}

/* A rendered {{報告URL}} is the tracker's own /r/ link: rewriting it into a
 * click would record a click where the target reported the mail. */
static void test_report_link_left_alone(void **state)
{
	assert_untouched("<a href=\"https://t.example/r/RID\">報告</a>");
	assert_untouched("<a href='HTTPS://T.EXAMPLE/r/RID'>報告</a>");
	assert_untouched("<a href=\"{{報告URL}}\">報告</a><a href=\"{{ report_url }}\">r</a>");
	/* beside it, the other links are still counted without it: 1 of 1 */
	assert_link("<a href=\"https://t.example/r/RID\">r</a><a href=\"http://x\">x</a>",
		    "<a href=\"https://t.example/r/RID\">r</a><a " HREF ">x</a>");
	/* another host's /r/, or the tracker's other paths, are links like any */
	assert_link("<a href=\"https://other.example/r/RID\">x</a>", "<a " HREF ">x</a>");
	assert_link("<a href=\"https://t.example/rx/RID\">x</a>", "<a " HREF ">x</a>");
	/* a click URL of another form: no report prefix, every http link tracked */
	assert_track_urls("<a href=\"https://t.example/r/RID\">r</a>", "https://t.example/click?id=1", NULL,
			  "<a href=\"https://t.example/click?id=1&amp;l=1.1\">r</a>"
			  "<a href=\"https://t.example/click?id=1&amp;l=0.1\" style=\"display:none\" "
			  "aria-hidden=\"true\" tabindex=\"-1\"></a>");
}

static void test_comments(void **state)
{
	assert_untouched("<!-- <a href=\"http://x\">x</a> -->");
	assert_untouched("<!--<a href=http://x>--!><p>a</p>");
	assert_link("<!--><a href=\"http://x\">x</a>", "<!--><a " HREF ">x</a>");
	assert_link("<!---><a href=\"http://x\">x</a>", "<!---><a " HREF ">x</a>");
	assert_link("<!-- a -- b --><a href=\"http://x\">x</a>", "<!-- a -- b --><a " HREF ">x</a>");
	/* An unclosed comment runs to the end. */
	assert_untouched("<p>x</p><!-- <a href=\"http://x\">");
	assert_untouched("<!DOCTYPE html><?xml version=\"1.0\"?><![CDATA[ x ]]>");
	/* A </body> inside a comment is not the body's end. */
	assert_track("<body>a</body><!-- </body> -->", "<body>a" IMG "</body><!-- </body> -->");
}

static void test_raw_text_elements(void **state)
{
	assert_untouched("<script>var s = '<a href=\"http://x\">';</script>");
	assert_untouched("<SCRIPT type=\"text/javascript\">if (a<b) x('</body>');</SCRIPT >");
	assert_untouched("<style>a[href=\"http://x\"] { color: red }</style>");
	assert_untouched("<title><a href=\"http://x\"></title><textarea><a href=http://y></textarea>");
	assert_link("<script>x</scripty><a href=\"http://x\"></script><a href=\"http://x\">",
		    "<script>x</scripty><a href=\"http://x\"></script><a " HREF ">");
	/* A script that never ends swallows the rest. */
	assert_untouched("<script><a href=\"http://x\">");
}

static void test_body(void **state)
{
	assert_track("<body><p>x</p></BODY>\n</html>", "<body><p>x</p>" IMG "</BODY>\n</html>");
	/* Only the last </body> counts. */
	assert_track("<body>a</body>b</body >c", "<body>a</body>b" IMG "</body >c");
	assert_link("<p>no body</p>", "<p>no body</p>");
	assert_link("</bodyx>", "</bodyx>");
	assert_track("", IMG);
}

static void test_escaping_and_nulls(void **state)
{
	assert_track_urls("<a href=\"http://x\">x</a></body>", "http://t/c?a=1&b=\"2\"",
			  "http://t/o?a=1&b=2",
			  "<a href=\"http://t/c?a=1&amp;b=&quot;2&quot;&amp;l=1.1\">x</a>"
			  "<a href=\"http://t/c?a=1&amp;b=&quot;2&quot;&amp;l=0.1\" style=\"display:none\" "
			  "aria-hidden=\"true\" tabindex=\"-1\"></a>"
			  "<img src=\"http://t/o?a=1&amp;b=2\" width=\"1\" height=\"1\" alt=\"\" "
			  "style=\"display:block;border:0;width:1px;height:1px\"></body>");
	assert_track_urls("<a href=\"http://x\">x</a></body>", NULL, NULL,
			  "<a href=\"http://x\">x</a></body>");
	assert_track_urls("<a href=\"http://x\">x</a>", CLICK, NULL, "<a " HREF ">x</a>");
}

/* The numbering and the hidden link, written out. */
static void test_link_numbers(void **state)
{
	assert_track_urls("<p><a href=\"http://a\">a</a><a href=\"#x\">x</a><a href=\"https://b\">b</a>"
			  "<area href=\"http://c\"></p></body>", "https://t/c/R", NULL,
			  "<p><a href=\"https://t/c/R?l=1.3\">a</a><a href=\"#x\">x</a>"
			  "<a href=\"https://t/c/R?l=2.3\">b</a><area href=\"https://t/c/R?l=3.3\"></p>"
			  "<a href=\"https://t/c/R?l=0.3\" style=\"display:none\" aria-hidden=\"true\" "
			  "tabindex=\"-1\"></a></body>");
	/* no link: still the hidden one, l=0.0 */
	assert_track_urls("<p>x</p>", "https://t/c/R", "https://t/o/R.gif",
			  "<p>x</p><a href=\"https://t/c/R?l=0.0\" style=\"display:none\" aria-hidden=\"true\" "
			  "tabindex=\"-1\"></a><img src=\"https://t/o/R.gif\" width=\"1\" height=\"1\" alt=\"\" "
			  "style=\"display:block;border:0;width:1px;height:1px\">");
}

static void test_unterminated_tags(void **state)
{
	assert_untouched("<p>x</p><a href=\"http://x\"");
	assert_untouched("<a href=\"http://x>go</a>");
	assert_untouched("<a href=http://x");
	assert_untouched("<");
	assert_untouched("</");
	assert_untouched("<a");
}

static void test_untouched_document(void **state)
{
	const char *doc =
		"<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
		"<style>body { font-family: sans-serif }</style></head>\n"
		"<body><table><tr><td style=\"padding:0\">山田 様 &amp; <b>x</b></td></tr></table>"
		"<img src=\"cid:logo\"><br/><input type=\"text\" value='a>b'>";
	_cleanup_free_ char *want = xasprintf("%s%s</body></html>", doc, IMG);
	_cleanup_free_ char *in = xasprintf("%s</body></html>", doc);
	assert_track(in, want);
}

static void test_output_cap(void **state)
{
	struct buf b;
	buf_init(&b, 40);
	buf_puts(&b, "keep");
	assert_int_equal(content_html_track(&b, SLICE_LIT("<a href=\"http://x\">x</a>"), CLICK, OPEN),
			 -E2BIG);
	assert_string_equal(b.p, "keep");
	assert_int_equal(b.len, 4);
	assert_int_equal(content_html_track(&b, SLICE_LIT("<p>a</p>"), NULL, NULL), 0);
	assert_string_equal(b.p, "keep<p>a</p>");
	buf_release(&b);
}

static void test_declares_name(void **state)
{
	(void)state;
	const char *page = "<form method=\"post\"><input type=\"text\" NAME=\"userid\">"
			   "<input name='password' type=password><select name = pref><option>1</option></select>"
			   "<input data-name=\"token\"><p>name=\"fake\" in text counts only after a space</p></form>";
	assert_true(content_html_declares_name(page, "userid"));
	assert_true(content_html_declares_name(page, "password"));
	assert_true(content_html_declares_name(page, "pref"));
	assert_false(content_html_declares_name(page, "token"));   /* data-name is another attribute */
	assert_false(content_html_declares_name(page, "user"));    /* a prefix is not the name */
	assert_false(content_html_declares_name(page, "secret-typed-value"));
	assert_false(content_html_declares_name(page, ""));
	assert_false(content_html_declares_name(NULL, "userid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_attribute_order_and_quotes),
		cmocka_unit_test(test_case_and_trim),
		cmocka_unit_test(test_not_tracked),
		cmocka_unit_test(test_href_in_text),
		cmocka_unit_test(test_multiple_links),
		cmocka_unit_test(test_first_href_counts),
		cmocka_unit_test(test_url_merge_field),
		cmocka_unit_test(test_report_link_left_alone),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_raw_text_elements),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_escaping_and_nulls),
		cmocka_unit_test(test_link_numbers),
		cmocka_unit_test(test_unterminated_tags),
		cmocka_unit_test(test_untouched_document),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_declares_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
