/*
 * Fuzz target for what trainers type that content/ turns into files:
 * an attachment declaration (content_attachment_check, as the scenario API
 * receives it) and education material (content_pdf_text).  Besides "no
 * crash, no leak" it checks:
 * - a rejected declaration names a known key and says why;
 * - every PDF starts with %PDF-1.4, ends with %%EOF, and its startxref
 *   points at the xref table.
 */
#include "content/content.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "failed: %s\n", #cond); abort(); } } while (0)

static void fuzz_attachment(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &err);
	const char *field = NULL, *msg = NULL;
	if (!j)
		return;
	if (content_attachment_check(j, &field, &msg) < 0) {
		static const char *const keys[] = { "", "source", "upload", "kind", "filename", "title", "body", "table",
						    "archive" };
		bool known = false;
		for (size_t i = 0; field && i < ARRAY_SIZE(keys); i++)
			known = known || !strcmp(field, keys[i]);
		CHECK(known && msg && msg[0]);
	}
	json_decref(j);
}

/* The input split at NUL bytes: a title, then paragraphs. */
static void fuzz_pdf(const uint8_t *data, size_t size)
{
	char *copy = xstrndup((const char *)data, size);
	const char *parts[32];
	size_t n = 0;
	for (size_t i = 0, start = 0; i <= size && n < ARRAY_SIZE(parts); i++)
		if (i == size || data[i] == '\0') {
			parts[n++] = copy + start;
			copy[i < size ? i : size] = '\0';
			start = i + 1;
		}
	struct buf out;
	buf_init(&out, 8 << 20);
	int r = content_pdf_text(&out, n ? parts[0] : "", n > 1 ? parts + 1 : NULL, n > 1 ? n - 1 : 0);
	if (r == 0) {
		CHECK(out.len > 20 && !memcmp(out.p, "%PDF-1.4", 8));
		CHECK(strstr(out.p + out.len - 7, "%%EOF") != NULL);
		const char *sx = strstr(out.p + (out.len > 64 ? out.len - 64 : 0), "startxref\n");
		CHECK(sx != NULL);
		long off = strtol(sx + 10, NULL, 10);
		CHECK(off > 0 && (size_t)off + 4 < out.len && !memcmp(out.p + off, "xref", 4));
	} else {
		CHECK(r == -E2BIG || r == -EINVAL);
	}
	buf_release(&out);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	fuzz_attachment(data, size);
	fuzz_pdf(data, size);
	return 0;
}
