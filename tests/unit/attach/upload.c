/* Tests of attach_check (src/attach/upload.c, ooxml.c, pdfparse.c): genuine
 * LibreOffice files pass, hostile ones get a sentence naming the problem. */
#include "fixtures.h"
#include "attach/attach_int.h"

/* A zip made here: n entries; encrypt: AES-256 on every entry. */
static void make_zip(const char *const *names, const struct slice *data, size_t n, bool encrypt, struct buf *out)
{
	char path[] = "/tmp/kunren-zip-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	int err;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
	assert_non_null(z);
	for (size_t i = 0; i < n; i++) {
		zip_source_t *s = zip_source_buffer(z, data[i].p, data[i].len, 0);
		zip_int64_t idx = zip_file_add(z, names[i], s, 0);
		assert_true(idx >= 0);
		if (encrypt)
			assert_int_equal(zip_file_set_encryption(z, (zip_uint64_t)idx, ZIP_EM_AES_256, "secret"), 0);
	}
	assert_int_equal(zip_close(z), 0);
	read_file(path, out);
	unlink(path);
}

/* attach_check must refuse b with a message containing want. */
static void refused(struct slice b, const char *want)
{
	enum attach_kind k = (enum attach_kind)99;
	const char *msg = NULL;
	assert_int_equal(attach_check(b, &k, &msg), -EINVAL);
	assert_non_null(msg);
	if (!strstr(msg, want))
		fail_msg("message \"%s\" does not say \"%s\"", msg, want);
	assert_int_equal(k, 99); /* ret_ parameters are written only on success */
}

static void accepted(struct slice b, enum attach_kind want)
{
	enum attach_kind k;
	const char *msg = NULL;
	int r = attach_check(b, &k, &msg);
	if (r != 0)
		fail_msg("refused: %s", msg ? msg : "(no message)");
	assert_int_equal(k, want);
}

static void test_genuine_files(void **state)
{
	struct buf docx, xlsx, pdf, xs;
	fixture("docx", &docx);
	fixture("xlsx", &xlsx);
	fixture("pdf", &pdf);
	fixture_xref_stream_pdf(&xs);
	accepted(buf_slice(&docx), ATTACH_DOCX);
	accepted(buf_slice(&xlsx), ATTACH_XLSX);
	accepted(buf_slice(&pdf), ATTACH_PDF);
	accepted(buf_slice(&xs), ATTACH_PDF);
	assert_non_null(memmem(xs.p, xs.len, "/XRef", 5)); /* really a stream */
	buf_release(&docx);
	buf_release(&xlsx);
	buf_release(&pdf);
	buf_release(&xs);
}

static void test_size_and_garbage(void **state)
{
	refused((struct slice){ "", 0 }, "empty");
	char *big = xcalloc(ATTACH_UPLOAD_MAX + 1, 1);
	memcpy(big, "%PDF-1.4\n", 9);
	refused((struct slice){ big, ATTACH_UPLOAD_MAX + 1 }, "larger than 10 MiB");
	free(big);

	char rnd[4096];
	random_bytes(rnd, sizeof(rnd));
	rnd[0] = 'x';
	refused((struct slice){ rnd, sizeof(rnd) }, "not a docx, xlsx or PDF");
	memcpy(rnd, "PK\x03\x04", 4);
	refused((struct slice){ rnd, sizeof(rnd) }, "zip is truncated or damaged");
	memcpy(rnd, "%PDF-1.7\n", 9);
	refused((struct slice){ rnd, sizeof(rnd) }, "PDF");
}

static void test_zip_bomb(void **state)
{
	/* 10 MiB of zeros deflate to about 10 KiB: 1000:1 */
	size_t n = 10 << 20;
	char *zeros = xcalloc(n, 1);
	const char *names[] = { "word/document.xml" };
	struct slice data[] = { { zeros, n } };
	struct buf z;
	make_zip(names, data, 1, false, &z);
	assert_true(z.len < 100 << 10);
	refused(buf_slice(&z), "compressed more than 200:1");
	buf_release(&z);
	free(zeros);
}

static uint32_t le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return u[0] | u[1] << 8 | u[2] << 16 | (uint32_t)u[3] << 24;
}

static void put_le32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

/* A bomb that lies: both headers say 1000 bytes, the data unpacks to 600 KiB. */
static void test_zip_header_lies(void **state)
{
	size_t n = 600 << 10;
	char *zeros = xcalloc(n, 1);
	const char *names[] = { "a.xml" };
	struct slice data[] = { { zeros, n } };
	struct buf z;
	make_zip(names, data, 1, false, &z);
	assert_int_equal(le32(z.p), 0x04034b50);
	assert_int_equal(le32(z.p + 22), n);
	put_le32(z.p + 22, 1000); /* local header: uncompressed size */
	char *cd = memmem(z.p, z.len, "PK\x01\x02", 4);
	assert_non_null(cd);
	assert_int_equal(le32(cd + 24), n);
	put_le32(cd + 24, 1000); /* central directory: the same */
	refused(buf_slice(&z), "unpacks to more than its header says");
	buf_release(&z);
	free(zeros);
}

static void test_zip_entries_and_names(void **state)
{
	static const char x[] = "<x/>";
	const char **names = xcalloc(1001, sizeof(*names));
	struct slice *data = xcalloc(1001, sizeof(*data));
	char (*store)[32] = xcalloc(1001, 32);
	for (int i = 0; i < 1001; i++) {
		snprintf(store[i], 32, "part%d.xml", i);
		names[i] = store[i];
		data[i] = SLICE_LIT(x);
	}
	struct buf z;
	make_zip(names, data, 1001, false, &z);
	refused(buf_slice(&z), "more than 1000 entries");
	buf_release(&z);
	free(names);
	free(data);
	free(store);

	static const char *const bad[] = { "../evil.xml", "/etc/passwd", "word\\document.xml", "C:evil", "a/../../b" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *nm[] = { "[Content_Types].xml", bad[i] };
		struct slice d[] = { SLICE_LIT(x), SLICE_LIT(x) };
		make_zip(nm, d, 2, false, &z);
		refused(buf_slice(&z), "entry name with \"..\"");
		buf_release(&z);
	}

	const char *nm[] = { "[Content_Types].xml", "word/document.xml" };
	struct slice d[] = { SLICE_LIT(x), SLICE_LIT(x) };
	make_zip(nm, d, 2, true, &z);
	refused(buf_slice(&z), "encrypted entry");
	buf_release(&z);
}

static void test_truncated_zip(void **state)
{
	struct buf docx;
	fixture("docx", &docx);
	refused((struct slice){ docx.p, docx.len / 2 }, "truncated or damaged");
	/* a flipped byte in the compressed data of an entry */
	docx.p[200] ^= 0x55;
	enum attach_kind k;
	const char *msg = NULL;
	assert_int_equal(attach_check(buf_slice(&docx), &k, &msg), -EINVAL);
	assert_non_null(msg);
	buf_release(&docx);
}

static void test_ooxml_structure(void **state)
{
	struct buf docx, out;
	fixture("docx", &docx);
	struct slice none = { NULL, 0 };

	const char *ct[] = { "[Content_Types].xml" };
	zip_edit(buf_slice(&docx), ct, &none, 1, &out);
	refused(buf_slice(&out), "[Content_Types].xml is missing");
	buf_release(&out);

	const char *rels[] = { "_rels/.rels" };
	zip_edit(buf_slice(&docx), rels, &none, 1, &out);
	refused(buf_slice(&out), "_rels/.rels is missing");
	buf_release(&out);

	const char *doc[] = { "word/document.xml" };
	zip_edit(buf_slice(&docx), doc, &none, 1, &out);
	refused(buf_slice(&out), "word/document.xml is missing");
	buf_release(&out);

	struct slice broken = SLICE_LIT("<w:document><w:body><w:p></w:body></w:document>");
	zip_edit(buf_slice(&docx), doc, &broken, 1, &out);
	refused(buf_slice(&out), "word/document.xml is not well-formed");
	buf_release(&out);

	struct slice doctype = SLICE_LIT("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>");
	zip_edit(buf_slice(&docx), ct, &doctype, 1, &out);
	refused(buf_slice(&out), "[Content_Types].xml is not well-formed");
	buf_release(&out);

	struct slice other = SLICE_LIT("<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
				       "<Relationship Id=\"rId1\" Type=\"" REL_OFFICE_DOCUMENT "\" Target=\"ppt/presentation.xml\"/>"
				       "</Relationships>");
	zip_edit(buf_slice(&docx), rels, &other, 1, &out);
	refused(buf_slice(&out), "neither word/document.xml nor xl/workbook.xml");
	buf_release(&out);
	buf_release(&docx);
}

static void test_macros(void **state)
{
	struct buf docx, out;
	fixture("docx", &docx);

	const char *vba[] = { "word/vbaProject.bin" };
	struct slice bin = SLICE_LIT("\xd0\xcf\x11\xe0 not really OLE");
	zip_edit(buf_slice(&docx), vba, &bin, 1, &out);
	refused(buf_slice(&out), "macros (vbaProject.bin)");
	buf_release(&out);

	/* a docm's content type without the binary */
	size_t n;
	_cleanup_free_ char *ct = zip_entry(buf_slice(&docx), "[Content_Types].xml", &n);
	assert_non_null(ct);
	struct buf docm = BUF_INIT(0);
	const char *main = strstr(ct, CT_DOCX_MAIN);
	assert_non_null(main);
	assert_int_equal(buf_append(&docm, ct, (size_t)(main - ct)), 0);
	assert_int_equal(buf_puts(&docm, "application/vnd.ms-word.document.macroEnabled.main+xml"), 0);
	assert_int_equal(buf_puts(&docm, main + strlen(CT_DOCX_MAIN)), 0);
	const char *names[] = { "[Content_Types].xml" };
	struct slice d = buf_slice(&docm);
	zip_edit(buf_slice(&docx), names, &d, 1, &out);
	refused(buf_slice(&out), "macro-enabled documents");
	buf_release(&out);
	buf_release(&docm);
	buf_release(&docx);
}

static void test_xlsx_structure(void **state)
{
	struct buf xlsx, out;
	fixture("xlsx", &xlsx);
	const char *sheet[] = { "xl/worksheets/sheet1.xml" };
	struct slice none = { NULL, 0 };
	zip_edit(buf_slice(&xlsx), sheet, &none, 1, &out);
	refused(buf_slice(&out), "first worksheet named in xl/workbook.xml is missing");
	buf_release(&out);
	buf_release(&xlsx);
}

/* s with the first `from` replaced by `to` (same program, any length). */
static void replace(struct slice s, const char *from, const char *to, struct buf *out)
{
	const char *at = memmem(s.p, s.len, from, strlen(from));
	assert_non_null(at);
	buf_init(out, 0);
	assert_int_equal(buf_append(out, s.p, (size_t)(at - s.p)), 0);
	assert_int_equal(buf_puts(out, to), 0);
	size_t after = (size_t)(at - s.p) + strlen(from);
	assert_int_equal(buf_append(out, s.p + after, s.len - after), 0);
}

static void test_pdf_hostile(void **state)
{
	struct buf pdf, out;
	fixture("pdf", &pdf);

	refused((struct slice){ pdf.p, pdf.len / 2 }, "no %%EOF");

	/* no startxref at all */
	const char *sx = NULL;
	for (const char *q = pdf.p; (q = memmem(q, pdf.len - (size_t)(q - pdf.p), "startxref", 9)); q += 9)
		sx = q;
	assert_non_null(sx);
	buf_init(&out, 0);
	assert_int_equal(buf_append(&out, pdf.p, (size_t)(sx - pdf.p)), 0);
	assert_int_equal(buf_puts(&out, "%%EOF\n"), 0);
	refused(buf_slice(&out), "no startxref");
	buf_release(&out);

	/* startxref pointing at an object, not at a cross-reference */
	assert_int_equal(buf_append(&out, pdf.p, (size_t)(sx - pdf.p)), 0);
	const char *obj = memmem(pdf.p, pdf.len, " 0 obj", 6);
	assert_non_null(obj);
	while (obj > pdf.p && obj[-1] >= '0' && obj[-1] <= '9')
		obj--;
	assert_int_equal(buf_printf(&out, "startxref\n%zu\n%%%%EOF\n", (size_t)(obj - pdf.p)), 0);
	refused(buf_slice(&out), "cross-reference");
	buf_release(&out);

	/* a table that runs past its entries */
	replace(buf_slice(&pdf), "\nxref\n0 ", "\nxref\n0 9", &out);
	refused(buf_slice(&out), "cross-reference");
	buf_release(&out);

	/* a trailer without /Root */
	replace(buf_slice(&pdf), "/Root", "/Roox", &out);
	refused(buf_slice(&out), "no /Root");
	buf_release(&out);

	/* encrypted with qpdf (an empty user password: opens without asking) */
	int st;
	_cleanup_free_ char *o = run_cmd("qpdf --encrypt '' owner 256 -- " FIXTURE_DIR "/sample.pdf " FIXTURE_DIR
					 "/encrypted.pdf", &st);
	assert_int_equal(st, 0);
	struct buf enc;
	read_file(FIXTURE_DIR "/encrypted.pdf", &enc);
	refused(buf_slice(&enc), "encrypted PDFs cannot carry a beacon");
	buf_release(&enc);
	buf_release(&pdf);
}

static void test_xml_scanner(void **state)
{
	assert_int_equal(attach__xml_check(SLICE_LIT("<a><b x='1' y=\"2\"/><!-- <c> --><![CDATA[<d>]]></a>")), 0);
	assert_int_equal(attach__xml_check(SLICE_LIT("<a><b></a></b>")), -EINVAL);
	assert_int_equal(attach__xml_check(SLICE_LIT("<a/><b/>")), -EINVAL);
	assert_int_equal(attach__xml_check(SLICE_LIT("<a x=\"1>")), -EINVAL);
	assert_int_equal(attach__xml_check(SLICE_LIT("<a")), -EINVAL);
	assert_int_equal(attach__xml_check(SLICE_LIT("<a><!-- unterminated </a>")), -EINVAL);

	struct slice doc = SLICE_LIT("<r:x a:Target=\"a&amp;b&#x41;&#66;&lt;\" Id='i'/>");
	size_t pos = 0;
	struct xml_tag t;
	struct buf v = BUF_INIT(64);
	assert_int_equal(attach__xml_next(doc, &pos, &t), 1);
	assert_true(t.empty);
	assert_true(slice_eq_str(attach__xml_local(t.name), "x"));
	assert_true(attach__xml_attr_local(&t, "Target", &v));
	assert_string_equal(v.p, "a&bAB<");
	assert_true(attach__xml_attr(&t, "Id", &v));
	assert_string_equal(v.p, "i");
	assert_false(attach__xml_attr(&t, "Target", &v)); /* qualified name differs */
	assert_int_equal(attach__xml_next(doc, &pos, &t), 0);

	assert_int_equal(attach__part_resolve("xl/worksheets/sheet1.xml", "../drawings/d1.xml", &v), 0);
	assert_string_equal(v.p, "xl/drawings/d1.xml");
	assert_int_equal(attach__part_resolve("word/document.xml", "/word/media/a.png", &v), 0);
	assert_string_equal(v.p, "word/media/a.png");
	assert_int_equal(attach__part_resolve("word/document.xml", "../../etc/passwd", &v), -EINVAL);
	attach__rels_name("xl/worksheets/sheet1.xml", &v);
	assert_string_equal(v.p, "xl/worksheets/_rels/sheet1.xml.rels");
	buf_release(&v);
}

static int teardown(void **state)
{
	lo_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genuine_files),
		cmocka_unit_test(test_size_and_garbage),
		cmocka_unit_test(test_zip_bomb),
		cmocka_unit_test(test_zip_header_lies),
		cmocka_unit_test(test_zip_entries_and_names),
		cmocka_unit_test(test_truncated_zip),
		cmocka_unit_test(test_ooxml_structure),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_xlsx_structure),
		cmocka_unit_test(test_pdf_hostile),
		cmocka_unit_test(test_xml_scanner),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
