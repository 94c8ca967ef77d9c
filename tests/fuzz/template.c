/*
 * Fuzz target for content/template.c and content/html.c: the input is both
 * a template and an HTML body.  Besides "no crash, no leak" it checks:
 * - content_template_check accepts exactly what content_render renders, in
 *   every context, and a failed render leaves the buffer as it was;
 * - header output never contains a control character;
 * - content_html_track without URLs is the identity, and with only an open
 *   URL adds exactly one beacon and nothing else.
 * - content_html_check answers 0 or -EINVAL, with a "line N: ..." message
 *   exactly when it rejects.
 */
#include "content/content.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "failed: %s\n", #cond); abort(); } } while (0)

#define BEACON "<img src=\"\x01\" width=\"1\" height=\"1\" alt=\"\" " \
	"style=\"display:block;border:0;width:1px;height:1px\">"

static size_t count_byte(struct slice s, char c)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		n += s.p[i] == c;
	return n;
}

static void fuzz_render(struct slice tmpl, const struct merge_vars *vars, bool valid)
{
	static const enum content_ctx ctxs[] = { CONTENT_HTML, CONTENT_TEXT, CONTENT_URL,
						 CONTENT_HEADER };
	for (size_t i = 0; i < ARRAY_SIZE(ctxs); i++) {
		struct buf out;
		buf_init(&out, 1 << 20);
		buf_puts(&out, "pre");
		int r = content_render(&out, tmpl, ctxs[i], vars);
		CHECK(valid ? r == 0 || r == -E2BIG : r == -EINVAL);
		if (r < 0)
			CHECK(out.len == 3 && strcmp(out.p, "pre") == 0);
		if (r == 0 && ctxs[i] == CONTENT_HEADER)
			for (size_t k = 0; k < out.len; k++)
				CHECK((unsigned char)out.p[k] >= 0x20 && out.p[k] != 0x7F);
		if (r == 0 && ctxs[i] == CONTENT_HTML) {
			struct buf tracked;
			buf_init(&tracked, 4 << 20);
			CHECK(content_html_track(&tracked, buf_slice(&out), "https://t.example/c/R",
						 "https://t.example/o/R.gif") == 0);
			buf_release(&tracked);
		}
		buf_release(&out);
	}
}

static void fuzz_track(struct slice html)
{
	struct buf out;
	buf_init(&out, 4 << 20);
	CHECK(content_html_track(&out, html, NULL, NULL) == 0);
	CHECK(out.len == html.len && (html.len == 0 || memcmp(out.p, html.p, html.len) == 0));

	/* Only the beacon is added when links are left alone. */
	buf_reset(&out);
	CHECK(content_html_track(&out, html, NULL, "\x01") == 0);
	CHECK(count_byte(buf_slice(&out), '\x01') == count_byte(html, '\x01') + 1);
	CHECK(out.len == html.len + strlen(BEACON));

	buf_reset(&out);
	CHECK(content_html_track(&out, html, "https://t.example/c/R?a=1&b=2",
				 "https://t.example/o/R.gif") == 0);
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = { (const char *)data, size };
	/* Values: fixed nasty ones, and the input itself as one of them. */
	_cleanup_free_ char *self = xstrndup(in.p, in.len);
	struct merge_vars vars = { .v = {
		[MF_LAST_NAME] = "山田<&>\"'", [MF_FIRST_NAME] = "a\r\nb\tc\x7f",
		[MF_EMAIL] = "x+y@example.jp", [MF_URL] = "https://t.example/c/R?x=1&y=2",
		[MF_FIELD3] = self,
	} };

	/* the HTML-to-text converter: any input, a text that ends in one newline */
	{
		_cleanup_buf_ struct buf text = BUF_INIT((size_t)8 << 20);
		if (content_html_to_text(&text, in) == 0)
			CHECK(text.len >= 1 && text.p[text.len - 1] == '\n' && strlen(text.p) == text.len);
	}

	char *err = NULL;
	int r = content_template_check(in, &err);
	CHECK(r == 0 || r == -EINVAL);
	CHECK((r == 0) == (err == NULL));
	free(err);
	(void)content_template_uses(in, MF_URL);

	fuzz_render(in, &vars, r == 0);
	fuzz_track(in);

	/* the well-formedness check: 0 or -EINVAL, a "line N: ..." message exactly on error */
	char *html_err = NULL;
	int hr = content_html_check(in, &html_err);
	CHECK(hr == 0 || hr == -EINVAL);
	CHECK((hr == 0) == (html_err == NULL));
	CHECK(!html_err || strncmp(html_err, "line ", 5) == 0);
	free(html_err);
	return 0;
}
