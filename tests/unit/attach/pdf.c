/* Tests of src/attach/pdf.c: the writer's line breaking and decoding, and
 * the training PDF — the table, the link annotation, the open actions —
 * checked by its structure and, with qpdf and poppler-utils installed, as
 * real readers see it (qpdf --check, pdftotext, qpdf --show-object). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <unistd.h>

#include "core/core.h"
#include "../testtool.h"

#include "attach/attach.h"
#include "attach/pdf.c"

static const char *const en = "Check the sender before you open any link.";

/* A command's output and exit status (NULL when the tool is missing). */
/* NULL when the tool is not installed. */
static char *run_cmd(const char *tool, const char *args, int *ret_status)
{
	if (access(tool, X_OK) != 0)
		return NULL;
	_cleanup_free_ char *cmd = xasprintf("%s %s 2>&1", tool, args);
	return test_run(cmd, ret_status);
}

static void qpdf_check(const char *path)
{
	int st;
	_cleanup_free_ char *args = xasprintf("--check '%s'", path);
	_cleanup_free_ char *out = run_cmd("/usr/bin/qpdf", args, &st);
	if (!out) {
		print_message("qpdf missing (apt-get install qpdf): not checked\n");
		return;
	}
	if (st != 0 || !strstr(out, "No syntax or stream encoding errors found"))
		fail_msg("qpdf --check: %s", out);
}

static char *qpdf_object(const char *path, size_t num)
{
	int st;
	_cleanup_free_ char *args = xasprintf("--show-object=%zu '%s'", num, path);
	char *out = run_cmd("/usr/bin/qpdf", args, &st);
	if (out)
		assert_int_equal(st, 0);
	return out;
}

static const char *const cells[] = { "品目", "数量", "金額", "保守サービス 11月分", "1", "¥132,000",
				     "長いセルの中身が折り返されるかを確かめるための、とても長い説明の文章です。"
				     "二つの列に収まらない長さにしてあります。", NULL, "" };

static void test_training_pdf(void **state)
{
	const char *const paras[] = { "株式会社みどり精機 御中", "下記のとおりご請求申し上げます。" };
	struct attach_doc d = { .title = "請求書（2026年11月分）", .body = paras, .nbody = 2, .cells = cells,
				.rows = 3, .cols = 3, .lang = "ja",
				.beacon_url = "https://t.example.jp/f/AbC(1).gif?a=1&b=2",
				.link_url = "https://t.example.jp/c/AbC123" };
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	assert_int_equal(attach_build(ATTACH_PDF, &d, &b), 0);
	/* one page, one link annotation */
	assert_int_equal(test_pdf_structure(&b), OBJ_FIRST_PAGE + 2);
	/* the URL's parentheses are escaped in the PDF strings */
	assert_non_null(strstr(b.p, "/OpenAction << /S /URI /URI (https://t.example.jp/f/AbC\\(1\\).gif?a=1&b=2) >>"));
	assert_non_null(strstr(b.p, "/Lang (ja-JP)"));

	_cleanup_free_ char *path = test_write_temp(&b, ".pdf");
	qpdf_check(path);
	_cleanup_free_ char *catalog = qpdf_object(path, OBJ_CATALOG);
	if (catalog) {
		assert_non_null(strstr(catalog, "/OpenAction << /S /URI /URI (https://t.example.jp/f/AbC\\(1\\).gif?a=1&b=2) >>"));
		_cleanup_free_ char *page = qpdf_object(path, OBJ_FIRST_PAGE);
		assert_non_null(strstr(page, "/AA << /O << /S /URI /URI (https://t.example.jp/f/AbC\\(1\\).gif?a=1&b=2) >> >>"));
		assert_non_null(strstr(page, "/Annots [ 10 0 R ]"));
		_cleanup_free_ char *annot = qpdf_object(path, OBJ_FIRST_PAGE + 2);
		assert_non_null(strstr(annot, "/A << /S /URI /URI (https://t.example.jp/c/AbC123) >>"));
		assert_non_null(strstr(annot, "/Subtype /Link"));
		/* the rectangle lies on the page, over a line of text */
		float x0, y0, x1, y1;
		const char *rect = strstr(annot, "/Rect [ ");
		assert_non_null(rect);
		assert_int_equal(sscanf(rect + 8, "%f %f %f %f", &x0, &y0, &x1, &y1), 4);
		assert_true(x0 > 0 && x1 > x0 + 100 && x1 < 595 && y0 > 600 && y1 > y0 + 10 && y1 < 842);
	}
	int st;
	_cleanup_free_ char *args = xasprintf("-enc UTF-8 '%s' -", path);
	_cleanup_free_ char *text = run_cmd("/usr/bin/pdftotext", args, &st);
	if (text) {
		assert_int_equal(st, 0);
		test_squeeze(text);
		assert_non_null(strstr(text, "請求書（2026年11月分）"));
		assert_non_null(strstr(text, "内容を表示するにはこちらをクリックしてください"));
		assert_non_null(strstr(text, "下記のとおりご請求申し上げます。"));
		assert_non_null(strstr(text, "保守サービス11月分"));
		assert_non_null(strstr(text, "￥132,000"));   /* ¥ is written full-width */
		assert_non_null(strstr(text, "とても長い"));
	} else {
		print_message("pdftotext missing (apt-get install poppler-utils): text not checked\n");
	}
	unlink(path);

	/* English: its own default link text; no link: no annotation */
	d.lang = "en";
	buf_reset(&b);
	assert_int_equal(attach_build(ATTACH_PDF, &d, &b), 0);
	assert_non_null(strstr(b.p, "/Lang (en-US)"));
	assert_non_null(strstr(b.p, "/Subtype /Link"));
	d.link_url = NULL;
	buf_reset(&b);
	assert_int_equal(attach_build(ATTACH_PDF, &d, &b), 0);
	assert_int_equal(test_pdf_structure(&b), OBJ_FIRST_PAGE + 1);
	assert_null(strstr(b.p, "/Annots"));
	assert_non_null(strstr(b.p, "/OpenAction"));
	d.beacon_url = NULL;
	buf_reset(&b);
	assert_int_equal(attach_build(ATTACH_PDF, &d, &b), 0);
	assert_null(strstr(b.p, "/OpenAction"));
	assert_null(strstr(b.p, "/AA"));
}

/* A long table goes on over pages, rows whole; a link whose text wraps
 * gets an annotation per line. */
static void test_table_pages(void **state)
{
	enum { ROWS = 200, COLS = 4 };
	const char **t = xcalloc(ROWS * COLS, sizeof(char *));
	char **owned = xcalloc(ROWS * COLS, sizeof(char *));
	for (size_t i = 0; i < ROWS * COLS; i++)
		t[i] = owned[i] = xasprintf("行%zu列%zu", i / COLS, i % COLS);
	struct buf long_link = BUF_INIT(0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf_puts(&long_link, "こちらをクリックして内容を表示してください。"), 0);
	struct attach_doc d = { .title = "一覧", .cells = t, .rows = ROWS, .cols = COLS,
				.beacon_url = "http://127.0.0.1:9/f/x.gif", .link_url = "http://127.0.0.1:9/c/x",
				.link_text = long_link.p };
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	assert_int_equal(attach_build(ATTACH_PDF, &d, &b), 0);
	size_t nobj = test_pdf_structure(&b);
	size_t annots = 0;
	for (const char *p = b.p; (p = strstr(p, "/Subtype /Link")); p++)
		annots++;
	assert_int_equal(annots, 5);   /* 8 × 22 characters at 43 a line */
	size_t pages = (nobj - OBJ_FIRST_PAGE + 1 - annots) / 2;
	assert_true(pages > 3);

	_cleanup_free_ char *path = test_write_temp(&b, ".pdf");
	qpdf_check(path);
	int pp = test_pdf_pages(path);
	if (pp >= 0)
		assert_int_equal(pp, (int)pages);
	int st;
	_cleanup_free_ char *args = xasprintf("-enc UTF-8 '%s' -", path);
	_cleanup_free_ char *text = run_cmd("/usr/bin/pdftotext", args, &st);
	if (text) {
		assert_non_null(strstr(text, "行199列3"));
		assert_non_null(strstr(text, "行0列0"));
	}
	unlink(path);
	for (size_t i = 0; i < ROWS * COLS; i++)
		free(owned[i]);
	free(owned);
	free(t);
	buf_release(&long_link);
}

/* The columns share the width fairly: short columns keep what they need. */
static void test_table_widths(void **state)
{
	int natural[3] = { 2000, 90000, 3000 }, w[3];
	table_widths(natural, 3, w);
	assert_int_equal(w[0], 2000);
	assert_int_equal(w[2], 3000);
	assert_int_equal(w[0] + w[1] + w[2], TEXT_W);
	int fits[2] = { 1000, 2000 }, w2[2];
	table_widths(fits, 2, w2);
	assert_memory_equal(w2, fits, sizeof(fits));
	int wide[2] = { 90000, 90000 }, w3[2];
	table_widths(wide, 2, w3);
	assert_int_equal(w3[0], TEXT_W / 2);
	assert_int_equal(w3[1], TEXT_W / 2);
}

/* Every line fits the text width by the estimate; CJK breaks anywhere but
 * not before 。, English only at spaces. */
static void test_wrapping(void **state)
{
	struct layout l = { 0 };
	const char *s = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん。"
			"あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん。";
	assert_int_equal(layout_paragraph(&l, s, BODY_SIZE, BODY_LEAD, false), 0);
	assert_int_equal(l.npages, 1);
	/* 481.9 pt at 11 pt is 43 full-width characters per line */
	const char *p = l.pages[0].p;
	size_t lines = 0;
	for (const char *t = p; (t = strstr(t, "> Tj")); t++) {
		const char *open = t;
		while (*open != '<')
			open--;
		size_t units = (size_t)(t - open - 1) / 4;
		assert_true(units <= 43);
		assert_true(strncmp(open + 1, "3002", 4) != 0);   /* no line starts with 。 */
		lines++;
	}
	assert_int_equal(lines, 3);   /* 2 × 47 characters */
	layout_release(&l);

	struct layout e = { 0 };
	assert_int_equal(layout_paragraph(&e, "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm "
					      "nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv wwww xxxx",
					  BODY_SIZE, BODY_LEAD, false), 0);
	/* 87 half-width characters per line: no word is cut */
	for (const char *t = e.pages[0].p; (t = strstr(t, "> Tj")); t++) {
		const char *open = t;
		while (*open != '<')
			open--;
		assert_true((size_t)(t - open - 1) / 4 <= 87);
		assert_true(strncmp(t - 4, "0020", 4) != 0);       /* trailing spaces trimmed */
		assert_true(strncmp(open + 1, "0020", 4) != 0);    /* and leading ones */
		/* each line ends with a whole word: 4 equal letters */
		assert_memory_equal(t - 8, t - 4, 4);
		assert_memory_equal(t - 12, t - 4, 4);
		assert_memory_equal(t - 16, t - 4, 4);
	}
	layout_release(&e);
}

static void test_decode(void **state)
{
	uint16_t u[16];
	/* invalid byte, a non-BMP emoji, a tab, a control, a newline, ¥ */
	const char s[] = "a\xff\xf0\x9f\x98\x80\tb\x01\n\xc2\xa5" "c\xe3\x81";
	size_t n = decode(s, sizeof(s) - 1, u);
	const uint16_t want[] = { 'a', GETA, GETA, ' ', 'b', '\n', 0xffe5, 'c', GETA };
	assert_int_equal(n, ARRAY_SIZE(want));
	assert_memory_equal(u, want, sizeof(want));
}

static void test_cap(void **state)
{
	const char *const paras[] = { en };
	struct attach_doc d = { .title = "t", .body = paras, .nbody = 1, .link_url = "https://a.example/x" };
	struct buf b = BUF_INIT(700);
	assert_int_equal(buf_puts(&b, "prefix"), 0);
	assert_int_equal(attach_build(ATTACH_PDF, &d, &b), -E2BIG);
	assert_string_equal(b.p, "prefix");
	assert_int_equal(b.len, 6);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_training_pdf),
		cmocka_unit_test(test_table_pages),
		cmocka_unit_test(test_table_widths),
		cmocka_unit_test(test_wrapping),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
