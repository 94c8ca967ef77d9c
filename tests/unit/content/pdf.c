/* Tests of src/content/pdf.c: education material through attach/'s PDF
 * writer — the structure of the PDF (header, trailer, cross-reference
 * offsets) and, with poppler-utils installed, its text and page count as a
 * real reader sees them.  The writer's own tests (line breaking, decoding,
 * tables, links) are tests/unit/attach/pdf.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <unistd.h>

#include "core/core.h"
#include "../testtool.h"

#include "content/content.h"

/* Object numbers of attach/pdf.c: 7 fixed objects, then a page and its
 * contents per page. */
#define OBJ_FIRST_PAGE 8

static const char *const ja = "不審なメールは報告窓口へ連絡してください。";
static const char *const en = "Check the sender before you open any link.";

/* Output of a command (popen), or NULL when the tool is missing. */
static char *run_tool(const char *tool, const char *args, const char *path)
{
	if (access(tool, X_OK) != 0)
		return NULL;
	_cleanup_free_ char *cmd = xasprintf("%s %s '%s' - 2>&1", tool, args, path);
	int st;
	char *out = test_run(cmd, &st);
	assert_int_equal(st, 0);
	if (strstr(out, "Couldn't find 'UniJIS-UCS2-H'"))
		fail_msg("poppler lacks the Adobe-Japan1 CMaps: apt-get install poppler-data");
	return out;
}

static void test_structure_and_text(void **state)
{
	const char *const paras[] = { ja, en, "", "混在 mixed テキスト with <angle> & (parens) \\ back" };
	struct buf b = BUF_INIT(0);
	assert_int_equal(content_pdf_text(&b, "訓練前の注意 Before the drill", paras, ARRAY_SIZE(paras)), 0);
	assert_int_equal(test_pdf_structure(&b), OBJ_FIRST_PAGE + 1);   /* one page */
	assert_non_null(strstr(b.p, "/Encoding /UniJIS-UCS2-H"));
	assert_non_null(strstr(b.p, "/BaseFont /HeiseiKakuGo-W5 "));
	assert_non_null(strstr(b.p, "/Ordering (Japan1) /Supplement 2"));
	assert_non_null(strstr(b.p, "/MediaBox [0 0 595.28 841.89]"));
	/* 不 = U+4E0D written as UTF-16BE hex */
	assert_non_null(strstr(b.p, "<4E0D"));

	_cleanup_free_ char *path = test_write_temp(&b, ".pdf");
	_cleanup_free_ char *text = run_tool("/usr/bin/pdftotext", "-enc UTF-8", path);
	if (text) {
		test_squeeze(text);
		_cleanup_free_ char *want_ja = xstrdup(ja), *want_en = xstrdup(en), *want_t = xstrdup("訓練前の注意");
		test_squeeze(want_ja);
		test_squeeze(want_en);
		assert_non_null(strstr(text, want_ja));
		assert_non_null(strstr(text, want_en));
		assert_non_null(strstr(text, want_t));
		assert_non_null(strstr(text, "<angle>&(parens)\\back"));
		assert_int_equal(test_pdf_pages(path), 1);
	} else {
		print_message("pdftotext missing (apt-get install poppler-utils): text not checked\n");
	}
	unlink(path);
	buf_release(&b);
}

static void test_long_text_spans_pages(void **state)
{
	struct buf long_ja = BUF_INIT(0), long_en = BUF_INIT(0);
	for (int i = 0; i < 60; i++) {
		assert_int_equal(buf_printf(&long_ja, "第%d文：リンクを開く前に差出人を確かめましょう。", i), 0);
		assert_int_equal(buf_printf(&long_en, "Sentence %d: look at the sender before clicking. ", i), 0);
	}
	const char *paras[12];
	for (size_t i = 0; i < ARRAY_SIZE(paras); i++)
		paras[i] = i % 2 ? long_en.p : long_ja.p;
	struct buf b = BUF_INIT(0);
	assert_int_equal(content_pdf_text(&b, "長い文書", paras, ARRAY_SIZE(paras)), 0);
	size_t nobj = test_pdf_structure(&b);
	assert_true(nobj > OBJ_FIRST_PAGE + 1);                     /* more than one page */
	assert_true(strstr(b.p, "/Count ") != NULL && strtol(strstr(b.p, "/Count ") + 7, NULL, 10) > 1);

	_cleanup_free_ char *path = test_write_temp(&b, ".pdf");
	int pages = test_pdf_pages(path);
	if (pages >= 0) {
		assert_true(pages > 1);
		assert_int_equal(pages, (int)((nobj - OBJ_FIRST_PAGE + 1) / 2));
		_cleanup_free_ char *text = run_tool("/usr/bin/pdftotext", "-enc UTF-8", path);
		assert_non_null(text);
		test_squeeze(text);
		assert_non_null(strstr(text, "第59文：リンクを開く前に差出人を確かめましょう。"));
		assert_non_null(strstr(text, "Sentence59:lookatthesenderbeforeclicking."));
	} else {
		print_message("pdfinfo missing (apt-get install poppler-utils): pages not counted\n");
	}
	unlink(path);
	buf_release(&b);
	buf_release(&long_ja);
	buf_release(&long_en);
}

static void test_cap_leaves_out_unchanged(void **state)
{
	struct buf b = BUF_INIT(600);
	assert_int_equal(buf_puts(&b, "prefix"), 0);
	const char *const paras[] = { en };
	assert_int_equal(content_pdf_text(&b, "t", paras, 1), -E2BIG);
	assert_string_equal(b.p, "prefix");
	assert_int_equal(b.len, 6);
	buf_release(&b);

	/* appended after existing bytes, offsets still count from %PDF */
	struct buf c = BUF_INIT(0);
	assert_int_equal(buf_puts(&c, "junk"), 0);
	assert_int_equal(content_pdf_text(&c, "t", paras, 1), 0);
	struct buf d = BUF_INIT(0);
	assert_int_equal(buf_append(&d, c.p + 4, c.len - 4), 0);
	test_pdf_structure(&d);
	buf_release(&c);
	buf_release(&d);

	/* no title, no paragraphs: still a valid one-page PDF */
	struct buf z = BUF_INIT(0);
	assert_int_equal(content_pdf_text(&z, NULL, NULL, 0), 0);
	assert_int_equal(test_pdf_structure(&z), OBJ_FIRST_PAGE + 1);
	buf_release(&z);
}

static void test_defaults(void **state)
{
	static const char *const kinds[] = { "before", "after" }, *const langs[] = { "ja", "en" };
	for (size_t k = 0; k < 2; k++)
		for (size_t g = 0; g < 2; g++) {
			const char *title, *body;
			assert_int_equal(content_education_default(kinds[k], langs[g], &title, &body), 0);
			assert_true(strlen(title) > 0 && strlen(title) <= 200 && !strchr(title, '\n'));
			assert_non_null(strstr(body, "\n\n"));   /* paragraphs */
			assert_true(strlen(body) <= 20000);
		}
	const char *title, *body;
	assert_int_equal(content_education_default("during", "ja", &title, &body), -EINVAL);
	assert_int_equal(content_education_default("before", "fr", &title, &body), -EINVAL);
	assert_int_equal(content_education_default("before", "ja", &title, &body), 0);
	assert_non_null(strstr(body, "報告窓口"));
	assert_non_null(strstr(body, "差出人"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_and_text),
		cmocka_unit_test(test_long_text_spans_pages),
		cmocka_unit_test(test_cap_leaves_out_unchanged),
		cmocka_unit_test(test_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
