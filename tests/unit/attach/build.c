/* Tests of src/attach/build.c: names, the docx and xlsx packages (every
 * part well-formed XML, the beacon as an external image relationship, the
 * trainer's text escaped), per-target copies, bad input — and, with
 * LibreOffice installed, that opening each file fetches its beacon from a
 * real HTTP server on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attach/attach.h"
#include "../testtool.h"

static const char *const body[] = { "株式会社みどり精機 御中", "下記のとおりご請求申し上げます。\n二行目",
				    NULL, "" };
static const char *const cells[] = { "品目", "数量", "金額", "保守サービス 11月分", "1", "¥132,000" };

static struct attach_doc sample(const char *beacon)
{
	return (struct attach_doc){ .title = "請求書（2026年11月分）", .body = body, .nbody = ARRAY_SIZE(body),
				    .cells = cells, .rows = 2, .cols = 3, .lang = "ja", .beacon_url = beacon };
}

/* unzip reads entry names as wildcards: "[Content_Types].xml" would be a
 * character class, so brackets become "?". */
static char *pattern(const char *name)
{
	char *p = xstrdup(name);
	for (char *c = p; *c; c++)
		if (*c == '[' || *c == ']')
			*c = '?';
	return p;
}

/* One part of a package as unzip sees it (NULL when unzip is missing). */
static char *part(const char *zip, const char *name)
{
	if (access("/usr/bin/unzip", X_OK) != 0)
		return NULL;
	_cleanup_free_ char *pat = pattern(name);
	_cleanup_free_ char *cmd = xasprintf("/usr/bin/unzip -p '%s' '%s'", zip, pat);
	int st;
	char *s = test_run(cmd, &st);
	assert_int_equal(st, 0);
	return s;
}

/* Every part of the package parses as XML (xmllint), and the listing holds
 * exactly the parts named. */
static void check_package(const char *zip, const char *const *parts, size_t n)
{
	if (access("/usr/bin/unzip", X_OK) != 0 || access("/usr/bin/xmllint", X_OK) != 0) {
		print_message("unzip or xmllint missing: package not checked\n");
		return;
	}
	_cleanup_free_ char *list_cmd = xasprintf("/usr/bin/unzip -Z1 '%s'", zip);
	int st;
	_cleanup_free_ char *list = test_run(list_cmd, &st);
	assert_int_equal(st, 0);
	size_t lines = 0;
	for (const char *p = list; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *want = xasprintf("%s\n", parts[i]);
		assert_non_null(strstr(list, want));
		_cleanup_free_ char *pat = pattern(parts[i]);
		_cleanup_free_ char *cmd = xasprintf("/usr/bin/unzip -p '%s' '%s' | /usr/bin/xmllint --noout - 2>&1",
						     zip, pat);
		_cleanup_free_ char *err = test_run(cmd, &st);
		if (st != 0)
			fail_msg("%s is not well-formed: %s", parts[i], err);
	}
}

static void test_names(void **state)
{
	for (int k = ATTACH_DOCX; k <= ATTACH_PDF; k++) {
		enum attach_kind got;
		assert_int_equal(attach_kind_parse(attach_kind_name((enum attach_kind)k), &got), 0);
		assert_int_equal(got, k);
		assert_non_null(attach_kind_mime((enum attach_kind)k));
	}
	for (int a = ATTACH_ARCHIVE_NONE; a <= ATTACH_ARCHIVE_AES; a++) {
		enum attach_archive got;
		assert_int_equal(attach_archive_parse(attach_archive_name((enum attach_archive)a), &got), 0);
		assert_int_equal(got, a);
	}
	assert_string_equal(attach_kind_name(ATTACH_XLSX), "xlsx");
	assert_string_equal(attach_archive_name(ATTACH_ARCHIVE_PASSWORD), "password");
	assert_string_equal(attach_kind_mime(ATTACH_DOCX),
			    "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
	assert_string_equal(attach_kind_mime(ATTACH_PDF), "application/pdf");
	enum attach_kind k = ATTACH_PDF;
	assert_int_equal(attach_kind_parse("DOCX", &k), -EINVAL);
	assert_int_equal(attach_kind_parse(NULL, &k), -EINVAL);
	assert_int_equal(attach_kind_parse("doc", &k), -EINVAL);
	assert_int_equal(k, ATTACH_PDF);   /* untouched on error */
	enum attach_archive a;
	assert_int_equal(attach_archive_parse("7z", &a), -EINVAL);
	assert_null(attach_kind_name((enum attach_kind)7));
	assert_null(attach_archive_name((enum attach_archive)-1));
	assert_null(attach_kind_mime((enum attach_kind)3));
}

static void test_docx(void **state)
{
	const char *beacon = "https://t.example.jp/f/AbC123.gif?a=1&b=2";
	struct attach_doc d = sample(beacon);
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	assert_int_equal(attach_build(ATTACH_DOCX, &d, &b), 0);
	assert_memory_equal(b.p, "PK\x03\x04", 4);
	assert_memory_equal(b.p + 30, "[Content_Types].xml", 19);   /* the first entry */

	_cleanup_free_ char *path = test_write_temp(&b, ".docx");
	static const char *const parts[] = { "[Content_Types].xml", "_rels/.rels", "word/document.xml",
					     "word/_rels/document.xml.rels", "word/styles.xml", "word/fontTable.xml",
					     "docProps/core.xml" };
	check_package(path, parts, ARRAY_SIZE(parts));
	_cleanup_free_ char *rels = part(path, "word/_rels/document.xml.rels");
	_cleanup_free_ char *doc = part(path, "word/document.xml");
	_cleanup_free_ char *styles = part(path, "word/styles.xml");
	if (rels) {
		assert_non_null(strstr(rels, "<Relationship Id=\"rId10\" "
					     "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" "
					     "Target=\"https://t.example.jp/f/AbC123.gif?a=1&amp;b=2\" TargetMode=\"External\"/>"));
		assert_non_null(strstr(doc, "<a:blip r:link=\"rId10\"/>"));
		assert_null(strstr(doc, "r:embed"));
		assert_non_null(strstr(doc, "<wp:extent cx=\"9525\" cy=\"9525\"/>"));
		assert_non_null(strstr(doc, "INCLUDEPICTURE &quot;https://t.example.jp/f/AbC123.gif?a=1&amp;b=2&quot; \\d"));
		assert_non_null(strstr(doc, "請求書（2026年11月分）"));
		assert_non_null(strstr(doc, "下記のとおりご請求申し上げます。</w:t><w:br/><w:t xml:space=\"preserve\">二行目"));
		assert_non_null(strstr(doc, "<w:tbl>"));
		assert_non_null(strstr(doc, "<w:insideV w:val=\"single\""));
		const char *grid = strstr(doc, "<w:tblGrid>");
		assert_non_null(grid);
		assert_int_equal(strstr(grid, "</w:tblGrid>") - grid, strlen("<w:tblGrid>") + 3 * strlen("<w:gridCol w:w=\"3212\"/>"));
		assert_non_null(strstr(doc, "¥132,000"));
		assert_non_null(strstr(styles, "w:eastAsia=\"ＭＳ 明朝\""));
		assert_non_null(strstr(styles, "w:eastAsia=\"ja-JP\""));
		assert_non_null(strstr(styles, "<w:lang w:val=\"ja-JP\""));
	}
	unlink(path);
}

static void test_xlsx(void **state)
{
	const char *beacon = "http://127.0.0.1:8080/f/XyZ.gif";
	struct attach_doc d = sample(beacon);
	d.lang = "en";
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	assert_int_equal(attach_build(ATTACH_XLSX, &d, &b), 0);

	_cleanup_free_ char *path = test_write_temp(&b, ".xlsx");
	static const char *const parts[] = { "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
					     "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml",
					     "xl/worksheets/_rels/sheet1.xml.rels", "xl/drawings/drawing1.xml",
					     "xl/drawings/_rels/drawing1.xml.rels", "xl/styles.xml", "docProps/core.xml" };
	check_package(path, parts, ARRAY_SIZE(parts));
	_cleanup_free_ char *sheet = part(path, "xl/worksheets/sheet1.xml");
	if (sheet) {
		_cleanup_free_ char *drels = part(path, "xl/drawings/_rels/drawing1.xml.rels");
		_cleanup_free_ char *drawing = part(path, "xl/drawings/drawing1.xml");
		_cleanup_free_ char *srels = part(path, "xl/worksheets/_rels/sheet1.xml.rels");
		_cleanup_free_ char *types = part(path, "[Content_Types].xml");
		_cleanup_free_ char *core = part(path, "docProps/core.xml");
		assert_non_null(strstr(drels, "Target=\"http://127.0.0.1:8080/f/XyZ.gif\" TargetMode=\"External\""));
		assert_non_null(strstr(drawing, "<a:blip r:link=\"rId1\"/>"));
		assert_non_null(strstr(srels, "Target=\"../drawings/drawing1.xml\""));
		assert_non_null(strstr(sheet, "<drawing r:id=\"rId1\"/>"));
		assert_non_null(strstr(types, "/xl/drawings/drawing1.xml"));
		assert_non_null(strstr(sheet, "<c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">請求書"));
		/* paragraphs one per row from row 3, a blank row, then the table */
		assert_non_null(strstr(sheet, "<c r=\"A4\" s=\"0\" t=\"inlineStr\"><is><t xml:space=\"preserve\">下記"));
		assert_non_null(strstr(sheet, "<c r=\"A5\" s=\"0\" t=\"inlineStr\"><is><t xml:space=\"preserve\">二行目"));
		assert_non_null(strstr(sheet, "<c r=\"C7\" s=\"3\" t=\"inlineStr\"><is><t xml:space=\"preserve\">金額"));
		assert_non_null(strstr(sheet, "<c r=\"C8\" s=\"2\" t=\"inlineStr\"><is><t xml:space=\"preserve\">¥132,000"));
		assert_non_null(strstr(core, "<dc:language>en-US</dc:language>"));
	}
	unlink(path);

	/* no beacon: no drawing at all */
	d.beacon_url = NULL;
	buf_reset(&b);
	assert_int_equal(attach_build(ATTACH_XLSX, &d, &b), 0);
	assert_null(memmem(b.p, b.len, "xl/drawings/drawing1.xml", 24));
}

/* Hostile text: markup, quotes, controls XML cannot carry, invalid UTF-8. */
static void test_escaping(void **state)
{
	const char *nasty = "<w:p>&amp; \"q\" 'a' \x01\x0b\x1f\xef\xbf\xbe ok \xff\xc3 end ]]> </w:t>";
	const char *const paras[] = { nasty, nasty };
	const char *const tcells[] = { nasty, "x", "", NULL };
	struct attach_doc d = { .title = nasty, .body = paras, .nbody = 2, .cells = tcells, .rows = 2, .cols = 2,
				.beacon_url = "https://h.example/f/1.gif?a=1&b='2'" };
	for (int k = ATTACH_DOCX; k <= ATTACH_XLSX; k++) {
		_cleanup_buf_ struct buf b = BUF_INIT(0);
		assert_int_equal(attach_build((enum attach_kind)k, &d, &b), 0);
		_cleanup_free_ char *path = test_write_temp(&b, k == ATTACH_DOCX ? ".docx" : ".xlsx");
		const char *main = k == ATTACH_DOCX ? "word/document.xml" : "xl/worksheets/sheet1.xml";
		const char *parts[] = { main, "docProps/core.xml" };
		_cleanup_free_ char *list_cmd = xasprintf("/usr/bin/xmllint --version >/dev/null 2>&1");
		int st;
		_cleanup_free_ char *ignored = test_run(list_cmd, &st);
		if (st == 0 && access("/usr/bin/unzip", X_OK) == 0) {
			for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
				_cleanup_free_ char *cmd = xasprintf("/usr/bin/unzip -p '%s' '%s' | /usr/bin/xmllint --noout - 2>&1",
								     path, parts[i]);
				_cleanup_free_ char *err = test_run(cmd, &st);
				if (st != 0)
					fail_msg("%s: %s", parts[i], err);
			}
			_cleanup_free_ char *x = part(path, main);
			assert_non_null(strstr(x, "&lt;w:p&gt;&amp;amp; &quot;q&quot; 'a'  ok \xef\xbf\xbd\xef\xbf\xbd end ]]&gt; &lt;/w:t&gt;"));
		}
		unlink(path);
	}
}

/* Each target's copy carries its own URL; the same input gives the same
 * bytes (fixed times), so nothing varies but the URL. */
static void test_per_target(void **state)
{
	for (int k = ATTACH_DOCX; k <= ATTACH_PDF; k++) {
		struct attach_doc d1 = sample("https://t.example.jp/f/AAAAAAAAAAAAAAAAAAAA.gif");
		struct attach_doc d2 = sample("https://t.example.jp/f/BBBBBBBBBBBBBBBBBBBB.gif");
		d1.link_url = d2.link_url = "https://t.example.jp/c/AAAAAAAAAAAAAAAAAAAA";
		_cleanup_buf_ struct buf a = BUF_INIT(0), a2 = BUF_INIT(0), b = BUF_INIT(0);
		assert_int_equal(attach_build((enum attach_kind)k, &d1, &a), 0);
		assert_int_equal(attach_build((enum attach_kind)k, &d1, &a2), 0);
		assert_int_equal(attach_build((enum attach_kind)k, &d2, &b), 0);
		assert_int_equal(a.len, a2.len);
		assert_memory_equal(a.p, a2.p, a.len);
		assert_true(a.len != b.len || memcmp(a.p, b.p, a.len));
		if (k == ATTACH_PDF) {
			/* uncompressed: the same size, differing only inside the URLs */
			assert_int_equal(a.len, b.len);
			for (size_t i = 0; i < a.len; i++)
				if (a.p[i] != b.p[i])
					assert_true(a.p[i] == 'A' && b.p[i] == 'B');
		}
	}
}

static void test_bad_input(void **state)
{
	struct attach_doc d = sample("https://t.example.jp/f/x.gif");
	struct buf b = BUF_INIT(0);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	static const char *const bad_urls[] = { "ftp://t.example.jp/x", "javascript:alert(1)", "http://",
						"https:///path", "http://a b/", "http://a/<x>", "http://a/\"x",
						"http://a/\\x", "http://a/\xe3\x81\x82", "//a/x", "" };
	for (int k = ATTACH_DOCX; k <= ATTACH_PDF; k++) {
		enum attach_kind kind = (enum attach_kind)k;
		for (size_t i = 0; i < ARRAY_SIZE(bad_urls); i++) {
			d.beacon_url = bad_urls[i];
			assert_int_equal(attach_build(kind, &d, &b), -EINVAL);
			d.beacon_url = "https://t.example.jp/f/x.gif";
			d.link_url = bad_urls[i];
			assert_int_equal(attach_build(kind, &d, &b), -EINVAL);
			d.link_url = NULL;
		}
		assert_int_equal(attach_build(kind, NULL, &b), -EINVAL);
		assert_int_equal(attach_build(kind, &d, NULL), -EINVAL);
		d.body = NULL;
		assert_int_equal(attach_build(kind, &d, &b), -EINVAL);
		d.body = body;
		d.cells = NULL;
		assert_int_equal(attach_build(kind, &d, &b), -EINVAL);
		d.cells = cells;
		d.cols = 0;
		assert_int_equal(attach_build(kind, &d, &b), -EINVAL);
		d.cols = 3;
		d.lang = "fr";
		assert_int_equal(attach_build(kind, &d, &b), -EINVAL);
		d.lang = "ja";
		/* huge tables and texts */
		d.rows = 1000000;
		assert_int_equal(attach_build(kind, &d, &b), -E2BIG);
		d.rows = 2;
		d.cols = 1000;
		assert_int_equal(attach_build(kind, &d, &b), -E2BIG);
		d.cols = 3;
		d.nbody = 100000;
		assert_int_equal(attach_build(kind, &d, &b), -E2BIG);
		d.nbody = ARRAY_SIZE(body);
	}
	assert_int_equal(attach_build((enum attach_kind)9, &d, &b), -EINVAL);
	assert_string_equal(b.p, "keep");

	/* one 5 MB paragraph: over the text limit */
	_cleanup_free_ char *big = xmalloc(5 << 20);
	memset(big, 'a', (5 << 20) - 1);
	big[(5 << 20) - 1] = '\0';
	const char *const bigp[] = { big };
	struct attach_doc dbig = { .title = "t", .body = bigp, .nbody = 1 };
	assert_int_equal(attach_build(ATTACH_DOCX, &dbig, &b), -E2BIG);

	/* the output cap: -E2BIG, out as it was */
	struct buf small = BUF_INIT(200);
	assert_int_equal(buf_puts(&small, "prefix"), 0);
	for (int k = ATTACH_DOCX; k <= ATTACH_PDF; k++)
		assert_int_equal(attach_build((enum attach_kind)k, &d, &small), -E2BIG);
	assert_string_equal(small.p, "prefix");
	buf_release(&small);

	/* nothing at all is still a valid file of each kind */
	struct attach_doc empty = { 0 };
	for (int k = ATTACH_DOCX; k <= ATTACH_PDF; k++) {
		buf_reset(&b);
		assert_int_equal(attach_build((enum attach_kind)k, &empty, &b), 0);
		assert_true(b.len > 0);
	}
	buf_release(&b);
}

/* ---- LibreOffice fetches the beacon ---- */

struct http_log {
	int fd;
	pthread_mutex_t lock;
	struct buf lines;    /* "METHOD PATH\n" per request */
};

/* A tiny HTTP/1.0 server: logs each request line, answers a 1×1 GIF. */
static void *http_serve(void *arg)
{
	static const unsigned char gif[] = { 'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff,
					     0xff, 0xff, 0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0,
					     1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b };
	struct http_log *h = arg;
	for (;;) {
		int c = accept(h->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char req[4096];
		size_t got = 0;
		ssize_t n;
		while (got < sizeof(req) - 1 && (n = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[got] = '\0';
		char *eol = strstr(req, " HTTP/");
		if (eol) {
			*eol = '\0';
			pthread_mutex_lock(&h->lock);
			buf_printf(&h->lines, "%s\n", req);
			pthread_mutex_unlock(&h->lock);
		}
		char head[256];
		int hl = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: image/gif\r\n"
						      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				  sizeof(gif));
		if (write(c, head, (size_t)hl) == hl && strncmp(req, "HEAD ", 5) && strncmp(req, "OPTIONS ", 8))
			(void)!write(c, gif, sizeof(gif));
		close(c);
	}
}

static void test_libreoffice_fetches_beacon(void **state)
{
	if (access("/usr/bin/soffice", X_OK) != 0) {
		print_message("soffice missing (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui): "
			      "beacon fetch not checked\n");
		return;
	}
	struct http_log h = { .lines = BUF_INIT(0) };
	pthread_mutex_init(&h.lock, NULL);
	h.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(h.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h.fd, 16), 0);
	assert_int_equal(getsockname(h.fd, (struct sockaddr *)&sa, &sl), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, http_serve, &h), 0);

	char dir[] = "/tmp/kunren-lo-XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const char *const ext[] = { "docx", "xlsx" };
	for (int k = ATTACH_DOCX; k <= ATTACH_XLSX; k++) {
		_cleanup_free_ char *url = xasprintf("http://127.0.0.1:%d/f/%s-target.gif", ntohs(sa.sin_port), ext[k]);
		struct attach_doc d = sample(url);
		_cleanup_buf_ struct buf b = BUF_INIT(0);
		assert_int_equal(attach_build((enum attach_kind)k, &d, &b), 0);
		_cleanup_free_ char *path = xasprintf("%s/file.%s", dir, ext[k]);
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
		fclose(f);
	}
	/* A fresh profile, as a person's first start would have. */
	_cleanup_free_ char *cmd = xasprintf("cd '%s' && /usr/bin/soffice -env:UserInstallation=file://%s/profile "
					     "--headless --convert-to pdf --outdir '%s/out' file.docx file.xlsx "
					     ">/dev/null 2>&1", dir, dir, dir);
	int st;
	_cleanup_free_ char *ignored = test_run(cmd, &st);
	assert_int_equal(st, 0);
	_cleanup_free_ char *pdf = xasprintf("%s/out/file.pdf", dir);
	assert_int_equal(access(pdf, R_OK), 0);

	shutdown(h.fd, SHUT_RDWR);
	close(h.fd);
	pthread_join(th, NULL);
	print_message("requests seen:\n%s", h.lines.p);
	assert_non_null(strstr(h.lines.p, "GET /f/docx-target.gif\n"));
	assert_non_null(strstr(h.lines.p, "GET /f/xlsx-target.gif\n"));
	buf_release(&h.lines);
	pthread_mutex_destroy(&h.lock);
	_cleanup_free_ char *rm = xasprintf("rm -rf '%s'", dir);
	_cleanup_free_ char *ignored2 = test_run(rm, &st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_docx),
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_per_target),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_libreoffice_fetches_beacon),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
