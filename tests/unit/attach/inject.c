/* Tests of attach_inject (src/attach/inject.c): the beacon is where the
 * readers look for it, everything else is untouched, qpdf finds the PDFs
 * sound, and LibreOffice opening an injected docx/xlsx really fetches the
 * beacon from an HTTP server started here. */
#include "fixtures.h"
#include "attach/attach_int.h"

#define LINK "http://127.0.0.1:9/l/rid123"

static void inject_ok(enum attach_kind kind, struct slice in, const char *beacon, const char *link, struct buf *out)
{
	buf_init(out, 0);
	int r = attach_inject(kind, in, beacon, link, out);
	if (r != 0)
		fail_msg("attach_inject: %d", r);
	/* the result is itself an upload we accept */
	enum attach_kind k;
	const char *msg = NULL;
	if (attach_check(buf_slice(out), &k, &msg) != 0)
		fail_msg("the injected file does not pass attach_check: %s", msg);
	assert_int_equal(k, kind);
}

/* Every entry of a but those in changed is byte-identical in b. */
static void same_entries(struct slice a, struct slice b, const char *const *changed, size_t nchanged)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(a.p, a.len, 0, &ze);
	zip_t *z = zip_open_from_source(src, ZIP_RDONLY, &ze);
	assert_non_null(z);
	for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
		const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
		bool skip = false;
		for (size_t k = 0; k < nchanged; k++)
			skip = skip || !strcmp(changed[k], name);
		size_t la, lb;
		_cleanup_free_ char *ea = zip_entry(a, name, &la);
		_cleanup_free_ char *eb = zip_entry(b, name, &lb);
		assert_non_null(eb);
		if (!skip) {
			assert_int_equal(la, lb);
			assert_memory_equal(ea, eb, la);
		}
	}
	zip_discard(z);
	zip_error_fini(&ze);
}

/* Converts path to PDF with LibreOffice, as the integration test will. */
static void lo_to_pdf(const char *path)
{
	_cleanup_free_ char *dir = xstrdup("/tmp/kunren-lo-out-XXXXXX");
	assert_non_null(mkdtemp(dir));
	lo_convert(path, "pdf", dir);
	_cleanup_free_ char *cmd = xasprintf("ls '%s'/*.pdf && rm -rf '%s'", dir, dir);
	int st;
	_cleanup_free_ char *out = run_cmd(cmd, &st);
	if (st != 0)
		fail_msg("LibreOffice made no PDF: %s", out);
}

static void test_docx(void **state)
{
	struct http_logger h;
	http_logger_start(&h);
	_cleanup_free_ char *beacon = xasprintf("http://127.0.0.1:%d/o/rid123?k=docx&x=1", h.port);

	struct buf docx, out;
	fixture("docx", &docx);
	inject_ok(ATTACH_DOCX, buf_slice(&docx), beacon, NULL, &out);

	static const char *const changed[] = { "word/document.xml", "word/_rels/document.xml.rels" };
	same_entries(buf_slice(&docx), buf_slice(&out), changed, ARRAY_SIZE(changed));

	_cleanup_free_ char *rels = zip_entry(buf_slice(&out), "word/_rels/document.xml.rels", NULL);
	_cleanup_free_ char *want = xasprintf("Type=\"" REL_IMAGE "\" Target=\"http://127.0.0.1:%d/o/rid123?k=docx&amp;x=1\" "
					      "TargetMode=\"External\"", h.port);
	assert_non_null(strstr(rels, want));
	const char *id = strstr(rels, want);
	while (id > rels && strncmp(id, "Id=\"", 4))
		id--;
	_cleanup_free_ char *rid = xstrndup(id + 4, strcspn(id + 4, "\""));

	_cleanup_free_ char *doc = zip_entry(buf_slice(&out), "word/document.xml", NULL);
	_cleanup_free_ char *blip = xasprintf("<a:blip r:link=\"%s\"/>", rid);
	const char *pic = strstr(doc, blip);
	assert_non_null(pic);
	assert_non_null(strstr(doc, "INCLUDEPICTURE"));
	/* inside the body, before its final w:sectPr */
	const char *sect = strstr(doc, "<w:sectPr");
	assert_non_null(sect);
	assert_true(pic < sect);
	assert_null(strstr(sect, "<w:p "));
	assert_int_equal(attach__xml_check(slice_from(doc)), 0);

	/* LibreOffice opens it and fetches the beacon */
	const char *path = FIXTURE_DIR "/injected.docx";
	write_file(path, buf_slice(&out));
	lo_to_pdf(path);
	_cleanup_free_ char *log = http_logger_stop(&h);
	print_message("docx: LibreOffice sent:\n%s", log);
	assert_non_null(strstr(log, "GET /o/rid123?k=docx&x=1 HTTP/1.1"));

	buf_release(&out);
	buf_release(&docx);
}

static void test_xlsx(void **state)
{
	struct http_logger h;
	http_logger_start(&h);
	_cleanup_free_ char *beacon = xasprintf("http://127.0.0.1:%d/o/rid456?k=xlsx", h.port);

	struct buf xlsx, out;
	fixture("xlsx", &xlsx);
	inject_ok(ATTACH_XLSX, buf_slice(&xlsx), beacon, NULL, &out);
	static const char *const changed[] = { "xl/worksheets/sheet1.xml", "[Content_Types].xml" };
	same_entries(buf_slice(&xlsx), buf_slice(&out), changed, ARRAY_SIZE(changed));

	_cleanup_free_ char *drawing = zip_entry(buf_slice(&out), "xl/drawings/drawing1.xml", NULL);
	_cleanup_free_ char *drels = zip_entry(buf_slice(&out), "xl/drawings/_rels/drawing1.xml.rels", NULL);
	_cleanup_free_ char *srels = zip_entry(buf_slice(&out), "xl/worksheets/_rels/sheet1.xml.rels", NULL);
	_cleanup_free_ char *sheet = zip_entry(buf_slice(&out), "xl/worksheets/sheet1.xml", NULL);
	_cleanup_free_ char *types = zip_entry(buf_slice(&out), "[Content_Types].xml", NULL);
	assert_non_null(drawing);
	assert_non_null(strstr(drawing, "<a:blip r:link=\"rId1\"/>"));
	assert_non_null(strstr(drels, beacon));
	assert_non_null(strstr(drels, "TargetMode=\"External\""));
	assert_non_null(strstr(srels, "Target=\"../drawings/drawing1.xml\""));
	assert_non_null(strstr(types, "<Override PartName=\"/xl/drawings/drawing1.xml\" ContentType=\"" CT_DRAWING "\"/>"));
	/* schema order: after pageMargins / pageSetup / headerFooter */
	const char *d = strstr(sheet, "<drawing ");
	assert_non_null(d);
	static const char *const before[] = { "<sheetData", "<pageMargins", "<pageSetup", "<headerFooter" };
	for (size_t i = 0; i < ARRAY_SIZE(before); i++) {
		const char *b = strstr(sheet, before[i]);
		if (b)
			assert_true(b < d);
	}

	const char *path = FIXTURE_DIR "/injected.xlsx";
	write_file(path, buf_slice(&out));
	lo_to_pdf(path);
	_cleanup_free_ char *log = http_logger_stop(&h);
	print_message("xlsx: LibreOffice sent:\n%s", log);
	assert_non_null(strstr(log, "GET /o/rid456?k=xlsx HTTP/1.1"));

	/* injecting into a sheet that has a drawing adds to that drawing */
	struct buf twice;
	inject_ok(ATTACH_XLSX, buf_slice(&out), "http://127.0.0.1:9/o/second", NULL, &twice);
	_cleanup_free_ char *none = zip_entry(buf_slice(&twice), "xl/drawings/drawing2.xml", NULL);
	assert_null(none);
	_cleanup_free_ char *d2 = zip_entry(buf_slice(&twice), "xl/drawings/drawing1.xml", NULL);
	_cleanup_free_ char *r2 = zip_entry(buf_slice(&twice), "xl/drawings/_rels/drawing1.xml.rels", NULL);
	assert_non_null(strstr(d2, "r:link=\"rId1\""));
	assert_non_null(strstr(d2, "r:link=\"rId2\""));
	assert_non_null(strstr(d2, "cNvPr id=\"2\""));
	assert_non_null(strstr(r2, "Id=\"rId2\""));
	assert_non_null(strstr(r2, "http://127.0.0.1:9/o/second"));
	static const char *const changed2[] = { "xl/drawings/drawing1.xml", "xl/drawings/_rels/drawing1.xml.rels" };
	same_entries(buf_slice(&out), buf_slice(&twice), changed2, ARRAY_SIZE(changed2));

	buf_release(&twice);
	buf_release(&out);
	buf_release(&xlsx);
}

/* A worksheet with parts that must follow <drawing>: it goes before them. */
static void test_xlsx_element_order(void **state)
{
	struct buf xlsx, edited, out;
	fixture("xlsx", &xlsx);
	_cleanup_free_ char *sheet = zip_entry(buf_slice(&xlsx), "xl/worksheets/sheet1.xml", NULL);
	char *end = strstr(sheet, "</worksheet>");
	assert_non_null(end);
	*end = '\0';
	_cleanup_free_ char *s2 = xasprintf("%s<legacyDrawing r:id=\"rId99\"/><tableParts count=\"0\"/></worksheet>", sheet);
	const char *names[] = { "xl/worksheets/sheet1.xml" };
	struct slice data[] = { slice_from(s2) };
	zip_edit(buf_slice(&xlsx), names, data, 1, &edited);
	inject_ok(ATTACH_XLSX, buf_slice(&edited), "http://127.0.0.1:9/o/order", NULL, &out);
	_cleanup_free_ char *got = zip_entry(buf_slice(&out), "xl/worksheets/sheet1.xml", NULL);
	const char *d = strstr(got, "<drawing ");
	assert_non_null(d);
	assert_true(d < strstr(got, "<legacyDrawing"));
	assert_true(d > strstr(got, "<pageMargins"));
	buf_release(&out);
	buf_release(&edited);
	buf_release(&xlsx);
}

/* qpdf --check, then the whole file uncompressed (QDF) for grepping. */
static char *qpdf_check_and_qdf(const struct buf *pdf)
{
	const char *path = FIXTURE_DIR "/injected.pdf";
	write_file(path, buf_slice(pdf));
	int st;
	_cleanup_free_ char *check = run_cmd("qpdf --check " FIXTURE_DIR "/injected.pdf", &st);
	if (st != 0 || strstr(check, "WARNING"))
		fail_msg("qpdf --check (%d): %s", st, check);
	_cleanup_free_ char *q = run_cmd("qpdf --qdf --object-streams=disable " FIXTURE_DIR "/injected.pdf "
					 FIXTURE_DIR "/injected.qdf", &st);
	assert_int_equal(st, 0);
	struct buf b;
	read_file(FIXTURE_DIR "/injected.qdf", &b);
	return buf_steal(&b);
}

static void check_pdf(const struct buf *in, bool xref_stream)
{
	const char *beacon = "http://127.0.0.1:9/o/rid789?k=pdf&(x)";
	struct buf out;
	inject_ok(ATTACH_PDF, buf_slice(in), beacon, LINK, &out);
	/* an incremental update: the original bytes come first, untouched */
	assert_true(out.len > in->len);
	assert_memory_equal(out.p, in->p, in->len);
	/* the new section is of the file's kind */
	const char *tail = out.p + in->len;
	assert_true((memmem(tail, out.len - in->len, "/Type /XRef", 11) != NULL) == xref_stream);
	assert_true((memmem(tail, out.len - in->len, "\nxref\n", 6) != NULL) == !xref_stream);

	_cleanup_free_ char *qdf = qpdf_check_and_qdf(&out);
	assert_non_null(strstr(qdf, "/OpenAction"));
	assert_non_null(strstr(qdf, "/URI (http://127.0.0.1:9/o/rid789?k=pdf&\\(x\\))"));
	assert_non_null(strstr(qdf, "/Subtype /Link"));
	assert_non_null(strstr(qdf, "/URI (" LINK ")"));
	assert_non_null(strstr(qdf, "/AA"));
	/* where the document opened is kept as the next action */
	assert_non_null(strstr(qdf, "/S /GoTo"));

	/* again: a second update on the first, no link this time */
	struct buf again;
	inject_ok(ATTACH_PDF, buf_slice(&out), "http://127.0.0.1:9/o/again", NULL, &again);
	_cleanup_free_ char *qdf2 = qpdf_check_and_qdf(&again);
	assert_non_null(strstr(qdf2, "/URI (http://127.0.0.1:9/o/again)"));
	buf_release(&again);
	buf_release(&out);
}

static void test_pdf_classic(void **state)
{
	struct buf pdf;
	fixture("pdf", &pdf);
	check_pdf(&pdf, false);
	buf_release(&pdf);
}

static void test_pdf_xref_stream(void **state)
{
	struct buf pdf;
	fixture_xref_stream_pdf(&pdf);
	check_pdf(&pdf, true);
	buf_release(&pdf);
}

static void test_bad_arguments(void **state)
{
	struct buf docx, pdf, out = BUF_INIT(0);
	fixture("docx", &docx);
	fixture("pdf", &pdf);
	static const char *const bad[] = { "javascript:alert(1)", "http://a b/", "http://x/\"y", "ftp://x/", "http://x/<",
					   "/relative" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(attach_inject(ATTACH_DOCX, buf_slice(&docx), bad[i], NULL, &out), -EINVAL);
		assert_int_equal(attach_inject(ATTACH_PDF, buf_slice(&pdf), "http://x/", bad[i], &out), -EINVAL);
	}
	/* the wrong kind, and garbage */
	assert_int_equal(attach_inject(ATTACH_XLSX, buf_slice(&docx), "http://x/", NULL, &out), -EINVAL);
	assert_int_equal(attach_inject(ATTACH_PDF, buf_slice(&docx), "http://x/", NULL, &out), -EINVAL);
	assert_int_equal(attach_inject(ATTACH_DOCX, buf_slice(&pdf), "http://x/", NULL, &out), -EINVAL);
	assert_int_equal(out.len, 0); /* nothing half-written */
	/* a cap too small */
	struct buf small = BUF_INIT(1000);
	assert_int_equal(attach_inject(ATTACH_DOCX, buf_slice(&docx), "http://x/", NULL, &small), -E2BIG);
	assert_int_equal(small.len, 0);
	buf_release(&docx);
	buf_release(&pdf);
}

static int teardown(void **state)
{
	lo_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docx),
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_xlsx_element_order),
		cmocka_unit_test(test_pdf_classic),
		cmocka_unit_test(test_pdf_xref_stream),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
