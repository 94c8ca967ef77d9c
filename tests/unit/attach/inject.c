/* Tests of attach_inject (src/attach/inject.c): the beacon is where the
 * readers look for it, everything else is untouched, qpdf finds the PDFs
 * sound, and LibreOffice opening an injected docx/xlsx really fetches the
 * beacon from an HTTP server started here. */
#include <math.h>

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

/* ---- the PDF banner ------------------------------------------------------- */

#define BANNER_JA "内容を表示するにはこちらをクリックしてください"
#define BANNER_EN "Click here to view the content"

/* What a page looks like to the test: its visible box in user space and
 * /Rotate, as the test made (or LibreOffice made) it. */
struct shown {
	double x0, y0, x1, y1;
	int rot;
};

/* User space to the page as displayed (origin bottom left): ISO 32000-1
 * /Rotate turns the page clockwise by that many degrees. */
static void displayed(const struct shown *s, double ux, double uy, double *x, double *y)
{
	switch (s->rot) {
	case 90:
		*x = uy - s->y0, *y = s->x1 - ux;
		break;
	case 180:
		*x = s->x1 - ux, *y = s->y1 - uy;
		break;
	case 270:
		*x = s->y1 - uy, *y = ux - s->x0;
		break;
	default:
		*x = ux - s->x0, *y = uy - s->y0;
	}
}

struct pixmap {
	int w, h;
	struct buf data;
	const unsigned char *rgb;
};

/* Page 1 rendered by poppler at 36 dpi (half a pixel per point), its
 * visible area (the CropBox) only. */
static void render(const char *pdf, struct pixmap *ret)
{
	int st, off = 0;
	_cleanup_free_ char *cmd = xasprintf("pdftoppm -cropbox -r 36 -f 1 -l 1 -singlefile '%s' " FIXTURE_DIR "/render", pdf);
	_cleanup_free_ char *out = run_cmd(cmd, &st);
	if (st != 0)
		fail_msg("pdftoppm (%d): %s", st, out);
	read_file(FIXTURE_DIR "/render.ppm", &ret->data);
	assert_int_equal(sscanf(ret->data.p, "P6 %d %d 255%n", &ret->w, &ret->h, &off), 2);
	assert_true(off > 0 && ret->data.len == (size_t)off + 1 + (size_t)ret->w * ret->h * 3);
	ret->rgb = (const unsigned char *)ret->data.p + off + 1;
}

/* The banner's fill, 0.925 0.95 1 rg. */
static bool banner_px(const struct pixmap *m, int x, int y)
{
	assert_true(x >= 0 && x < m->w && y >= 0 && y < m->h);
	const unsigned char *p = m->rgb + ((size_t)y * m->w + x) * 3;
	return abs(p[0] - 236) <= 6 && abs(p[1] - 242) <= 6 && p[2] >= 249;
}

/*
 * The banner of an injected PDF (path, and qdf its uncompressed text):
 * qpdf is content, pdftotext reads the banner line and the page's own
 * text, poppler draws the banner across the top of the page as shown
 * (whatever the rotation and the box's origin), and the link annotation —
 * there is just one — lies inside the drawn banner, not over the page.
 */
static void check_banner(const char *path, const char *qdf, const struct shown *s, const char *page_text)
{
	int st;
	_cleanup_free_ char *cmd = xasprintf("pdftotext -f 1 -l 1 '%s' -", path);
	_cleanup_free_ char *text = run_cmd(cmd, &st);
	assert_int_equal(st, 0);
	if (!strstr(text, BANNER_JA) || !strstr(text, BANNER_EN) || !strstr(text, page_text))
		fail_msg("pdftotext of %s:\n%s", path, text);

	const char *link = strstr(qdf, "/Subtype /Link");
	assert_non_null(link);
	assert_null(strstr(link + 1, "/Subtype /Link"));
	const char *rect = strstr(qdf, "/Rect [");
	assert_non_null(rect);
	char *end;
	double r[4];
	rect += 7;
	for (int k = 0; k < 4; k++, rect = end) {
		r[k] = strtod(rect, &end);
		assert_true(end != rect);
	}

	struct pixmap m;
	render(path, &m);
	const bool turned = s->rot == 90 || s->rot == 270;
	const double shown_h = turned ? s->x1 - s->x0 : s->y1 - s->y0;
	/* the rendered page is the visible box, turned */
	assert_int_equal(m.w, (int)((turned ? s->y1 - s->y0 : s->x1 - s->x0) / 2 + 0.5));
	/* the banner: along the top edge as shown, not down the middle */
	assert_true(banner_px(&m, 1, 1));
	assert_true(banner_px(&m, m.w - 2, 1));
	assert_false(banner_px(&m, 1, m.h / 2));
	assert_false(banner_px(&m, 1, m.h - 2));

	/* the link's corners, as shown, in pixels */
	double ax, ay, bx, by;
	displayed(s, r[0], r[1], &ax, &ay);
	displayed(s, r[2], r[3], &bx, &by);
	int left = (int)(fmin(ax, bx) / 2 + 0.5), right = (int)(fmax(ax, bx) / 2 + 0.5);
	int top = (int)((shown_h - fmax(ay, by)) / 2 + 0.5), bottom = (int)((shown_h - fmin(ay, by)) / 2 + 0.5);
	print_message("%s: link [%g %g %g %g] = pixels x %d-%d, y %d-%d of %dx%d\n", path, r[0], r[1], r[2], r[3], left,
		      right, top, bottom, m.w, m.h);
	assert_true(left <= 1 && right >= m.w - 1 && top <= 1);
	assert_true(bottom > 6 && bottom < m.h / 4);
	/* inside the drawn banner: its corners are the banner's colour, and
	 * just below it the page is not */
	assert_true(banner_px(&m, left + 2, top + 2));
	assert_true(banner_px(&m, right - 3, top + 2));
	assert_true(banner_px(&m, left + 2, bottom - 3));
	assert_true(banner_px(&m, right - 3, bottom - 3));
	assert_false(banner_px(&m, left + 2, bottom + 3));
	buf_release(&m.data);
}

/*
 * A small PDF written here, to reach what LibreOffice never writes: the
 * box not at the origin (box_key "MediaBox" or "CropBox" on the page), a
 * /Rotate inherited from the page tree, the resources an indirect object
 * inherited from it, /Contents an array, and content that changes the
 * graphics state without q/Q (a 2× scale, red) — which must not reach the
 * banner.
 */
static void handmade_pdf(const char *media, const char *crop, int rotate, double cx, double cy, struct buf *out)
{
	size_t off[7];
	_cleanup_free_ char *content = xasprintf("2 0 0 2 0 0 cm 1 0 0 rg BT /F1 12 Tf %.2f %.2f Td (Hello) Tj ET", cx / 2,
						 cy / 2);
	buf_init(out, 0);
	assert_int_equal(buf_puts(out, "%PDF-1.4\n"), 0);
	off[1] = out->len;
	assert_int_equal(buf_puts(out, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"), 0);
	off[2] = out->len;
	assert_int_equal(buf_printf(out, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox %s /Rotate %d "
					 "/Resources 5 0 R >>\nendobj\n",
				    media, rotate),
			 0);
	off[3] = out->len;
	assert_int_equal(buf_printf(out, "3 0 obj\n<< /Type /Page /Parent 2 0 R%s%s /Contents [4 0 R] >>\nendobj\n",
				    crop ? " /CropBox " : "", crop ? crop : ""),
			 0);
	off[4] = out->len;
	assert_int_equal(buf_printf(out, "4 0 obj\n<< /Length %zu >>\nstream\n%s\nendstream\nendobj\n", strlen(content),
				    content),
			 0);
	off[5] = out->len;
	assert_int_equal(buf_puts(out, "5 0 obj\n<< /Font << /F1 6 0 R >> /ProcSet [/PDF /Text] >>\nendobj\n"), 0);
	off[6] = out->len;
	assert_int_equal(buf_puts(out, "6 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n"), 0);
	size_t xref = out->len;
	assert_int_equal(buf_puts(out, "xref\n0 7\n0000000000 65535 f \n"), 0);
	for (int i = 1; i < 7; i++)
		assert_int_equal(buf_printf(out, "%010zu 00000 n \n", off[i]), 0);
	assert_int_equal(buf_printf(out, "trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref), 0);
}

static void test_pdf_banner_geometry(void **state)
{
	static const struct {
		const char *media, *crop;
		int rotate;
		struct shown s; /* the visible box and the rotation it amounts to */
	} cases[] = {
		{ "[100 200 712 992]", NULL, 0, { 100, 200, 712, 992, 0 } },
		{ "[100 200 712 992]", NULL, 90, { 100, 200, 712, 992, 90 } },
		{ "[0 0 612 792]", "[50 60 562 732]", 180, { 50, 60, 562, 732, 180 } },
		{ "[312 392 -300 -400]", NULL, -90, { -300, -400, 312, 392, 270 } },
		{ "[0 0 842 595]", "[-10 -10 900 700]", 450, { 0, 0, 842, 595, 90 } },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct shown *s = &cases[i].s;
		struct buf in, out;
		handmade_pdf(cases[i].media, cases[i].crop, cases[i].rotate, (s->x0 + s->x1) / 2, (s->y0 + s->y1) / 2,
			     &in);
		enum attach_kind k;
		const char *msg = NULL;
		if (attach_check(buf_slice(&in), &k, &msg) != 0)
			fail_msg("case %zu refused: %s", i, msg);
		inject_ok(ATTACH_PDF, buf_slice(&in), "http://127.0.0.1:9/o/geo", LINK, &out);
		_cleanup_free_ char *qdf = qpdf_check_and_qdf(&out);
		/* our font joined the inherited resources; theirs stayed */
		assert_non_null(strstr(qdf, "/KunrenF"));
		assert_non_null(strstr(qdf, "/BaseFont /Helvetica"));
		check_banner(FIXTURE_DIR "/injected.pdf", qdf, s, "Hello");
		buf_release(&out);
		buf_release(&in);
	}
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
	/* the banner: LibreOffice's A4 page, not rotated */
	const struct shown a4 = { 0, 0, 595.303937007874, 841.889763779528, 0 };
	check_banner(FIXTURE_DIR "/injected.pdf", qdf, &a4, "経費精算のお知らせ");

	/* again: a second update on the first, no link this time */
	struct buf again;
	inject_ok(ATTACH_PDF, buf_slice(&out), "http://127.0.0.1:9/o/again", NULL, &again);
	_cleanup_free_ char *qdf2 = qpdf_check_and_qdf(&again);
	assert_non_null(strstr(qdf2, "/URI (http://127.0.0.1:9/o/again)"));
	/* and a third with a link: a second banner, its font under a name the
	 * page's resources (now with our first one) do not use yet */
	struct buf third;
	inject_ok(ATTACH_PDF, buf_slice(&again), "http://127.0.0.1:9/o/third", LINK, &third);
	_cleanup_free_ char *qdf3 = qpdf_check_and_qdf(&third);
	assert_non_null(strstr(qdf3, "/KunrenF "));
	assert_non_null(strstr(qdf3, "/KunrenF1 "));
	buf_release(&third);
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
		cmocka_unit_test(test_pdf_banner_geometry),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
