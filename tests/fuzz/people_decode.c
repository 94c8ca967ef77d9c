/*
 * libFuzzer target for people_decode (encoding detection and conversion),
 * the separator guess and the address check, on every line of what was
 * decoded.  Checks: a decoded text is UTF-8 without NUL; UTF-8 and CP932
 * keep the line count; UTF-16 converts back to the same bytes; CP932
 * written back with csv_encode reads back the same; a failure names a line
 * of the file; a normalised address is ASCII, at most 254 bytes, and
 * normalises to itself.
 */
#include <iconv.h>
#include <stdint.h>

#include "core/csv.h"
#include "people/internal.h"

static int64_t lines_of(struct slice in)
{
	if (slice_starts_with(in, "\xEF\xBB\xBF"))
		in = (struct slice){ in.p + 3, in.len - 3 };
	return people__count_lines(in);
}

/* UTF-16 (after its BOM) converted back from text must be the input. */
static void check_utf16(struct slice in, struct slice text, const char *enc)
{
	iconv_t cd = iconv_open(!strcmp(enc, "utf-16le") ? "UTF-16LE" : "UTF-16BE", "UTF-8");
	BUG_ON(cd == (iconv_t)-1);
	size_t max = text.len * 2 + 4;
	char *out = xmalloc(max), *op = out, *ip = (char *)text.p;
	size_t ileft = text.len, oleft = max;
	BUG_ON(iconv(cd, &ip, &ileft, &op, &oleft) == (size_t)-1);
	iconv_close(cd);
	BUG_ON(max - oleft != in.len - 2 || memcmp(out, in.p + 2, in.len - 2) != 0);
	free(out);
}

/* CP932 text written back as CP932 reads back the same (unless those
 * bytes happen to be UTF-8, which the detection then prefers). */
static void check_cp932(struct slice text, struct arena *a)
{
	_cleanup_buf_ struct buf back = BUF_INIT(0);
	BUG_ON(csv_encode(text, CSV_CP932, &back) != 0);
	struct slice again;
	const char *enc;
	int64_t bad;
	int r = people_decode(buf_slice(&back), a, &again, &enc, &bad);
	BUG_ON(r != 0 && r != -ENOMEM);
	if (r == 0 && !strcmp(enc, "cp932"))
		BUG_ON(!slice_eq(again, text));
}

static void check_email(struct slice line, struct arena *a)
{
	const char *norm = NULL, *again = NULL, *reason = NULL;
	int r = people_email_check(line, a, &norm, &reason);
	BUG_ON(r != 0 && r != -EINVAL && r != -E2BIG && r != -ENOMEM);
	BUG_ON((r == -EINVAL || r == -E2BIG) && (!reason || !*reason));
	BUG_ON(people_email_valid(line, NULL, NULL) != (r == 0 || r == -ENOMEM));
	if (r != 0)
		return;
	BUG_ON(strlen(norm) > 254);
	for (const char *p = norm; *p; p++)
		BUG_ON((unsigned char)*p >= 0x80 || (unsigned char)*p <= ' ');
	BUG_ON(people_email_check(slice_from(norm), a, &again, &reason) != 0 || strcmp(norm, again));
}

/* Each of the first lines as an address. */
static void check_emails(struct slice text, struct arena *a)
{
	struct slice rest = text, line;
	for (int i = 0; i < 64; i++) {
		bool last = memchr(rest.p, '\n', rest.len) == NULL;
		rest = slice_cut(rest, '\n', &line);
		check_email(line, a);
		if (last)
			break;
	}
}

static void check_decode(struct slice in, struct arena *a)
{
	struct slice text;
	const char *enc;
	int64_t bad = 0;
	int r = people_decode(in, a, &text, &enc, &bad);
	BUG_ON(r != 0 && r != -EILSEQ && r != -ENOMEM);
	if (r == -EILSEQ)
		BUG_ON(bad < 1 || bad > people__count_lines(in));
	if (r != 0)
		return;
	BUG_ON(!utf8_valid(text.p, text.len) || memchr(text.p, '\0', text.len));
	char sep = people__separator(text);
	BUG_ON(sep != ',' && sep != '\t');
	if (!strcmp(enc, "utf-8") || !strcmp(enc, "cp932"))
		BUG_ON(people__count_lines(text) != lines_of(in));
	else
		check_utf16(in, text, enc);
	if (!strcmp(enc, "cp932"))
		check_cp932(text, a);
	check_emails(text, a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new((size_t)64 << 20);
	check_decode((struct slice){ (const char *)data, size }, a);
	/* The same bytes read as UTF-16 of either order. */
	if (size < 1 << 16) {
		char *u = xmalloc(size + 2);
		memcpy(u + 2, data, size);
		memcpy(u, "\xFF\xFE", 2);
		check_decode((struct slice){ u, size + 2 }, a);
		memcpy(u, "\xFE\xFF", 2);
		check_decode((struct slice){ u, size + 2 }, a);
		free(u);
	}
	arena_free(a);
	return 0;
}
