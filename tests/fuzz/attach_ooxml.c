/*
 * Fuzz target for the OOXML parts we read and splice: the input, split at
 * NUL bytes, is the text of [Content_Types].xml, _rels/.rels, the main part,
 * its relationships, the first worksheet and its relationships (docx and
 * xlsx names both), zipped here (stored, so the zip layer is never the
 * problem) and given to attach_check and attach_inject.  The XML scanner,
 * the relationship and content-type lookups and the splicing see the
 * mutations directly.
 */
#include "attach_common.h"

static const char *const parts[] = {
	"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels",
	"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels",
	"xl/drawings/drawing1.xml", "xl/drawings/_rels/drawing1.xml.rels",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;

	/* the scanner alone, on the whole input */
	(void)attach__xml_check((struct slice){ (const char *)data, size });

	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *ms = zip_source_buffer_create(NULL, 0, 0, &ze);
	CHECK(ms);
	zip_source_keep(ms);
	zip_t *z = zip_open_from_source(ms, ZIP_TRUNCATE, &ze);
	CHECK(z);
	size_t start = 0, n = 0;
	for (size_t i = 0; i <= size && n < ARRAY_SIZE(parts); i++) {
		if (i < size && data[i] != '\0')
			continue;
		if (i > start) {
			zip_source_t *s = zip_source_buffer(z, data + start, i - start, 0);
			CHECK(s);
			zip_int64_t idx = zip_file_add(z, parts[n], s, 0);
			CHECK(idx >= 0);
			zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
		}
		n++;
		start = i + 1;
	}
	if (zip_close(z) < 0)
		zip_discard(z);

	struct buf zipped;
	buf_init(&zipped, 64 << 20);
	if (zip_source_open(ms) == 0) {
		char chunk[16384];
		zip_int64_t got;
		while ((got = zip_source_read(ms, chunk, sizeof(chunk))) > 0)
			CHECK(buf_append(&zipped, chunk, (size_t)got) == 0);
		zip_source_close(ms);
	}
	zip_source_free(ms);
	zip_error_fini(&ze);
	if (zipped.len)
		fuzz_check_and_inject(buf_slice(&zipped));
	buf_release(&zipped);
	return 0;
}
