/*
 * decode.c — what an upload is written in (people_decode), and whether it
 * is comma- or tab-separated.
 *
 * A BOM decides: EF BB BF is UTF-8, FF FE UTF-16LE, FE FF UTF-16BE.
 * Without one, text that is valid UTF-8 is taken as is and anything else
 * is tried as CP932 with glibc's iconv, whose "CP932" table is Windows'
 * (0x8160 is U+FF5E ～, 0x817C U+FF0D, 0x8161 U+2225, 0x81CA U+FFE2; NEC
 * row 13 and both copies of the IBM extensions are there).  When both
 * fail, the line reported is the later of the two first failures: the
 * encoding that read further is most likely the one the file was meant to
 * be in, and its failure the byte to fix.
 *
 * Line numbers survive every conversion: in CP932 no trail byte is CR or
 * LF, and UTF-16 line breaks become the same line breaks in UTF-8.
 */
#include <iconv.h>

#include "people/internal.h"

#define UTF8_BOM "\xEF\xBB\xBF"

int64_t people__count_lines(struct slice d)
{
	int64_t lines = 1;
	for (size_t i = 0; i < d.len; i++) {
		if (d.p[i] == '\n' || (d.p[i] == '\r' && !(i + 1 < d.len && d.p[i + 1] == '\n')))
			lines++;
	}
	return lines;
}

/* The 1-based line holding offset off of d. */
static int64_t line_at(struct slice d, size_t off)
{
	return people__count_lines((struct slice){ d.p, off });
}

/* The offset of the first byte of d that is not UTF-8 or is a NUL, or
 * d.len when there is none.  Checked line by line (no UTF-8 sequence holds
 * CR or LF), so the offset is that of the bad line's start. */
static size_t utf8_bad_offset(struct slice d)
{
	size_t start = 0;
	for (size_t i = 0; i <= d.len; i++) {
		if (i < d.len && d.p[i] != '\r' && d.p[i] != '\n')
			continue;
		size_t n = i - start;
		if (n && (!utf8_valid(d.p + start, n) || memchr(d.p + start, '\0', n)))
			return start;
		start = i + 1;
	}
	return d.len;
}

/* An upper bound of the UTF-8 size of CP932 text: a half-width katakana
 * (one byte, 0xA1–0xDF) becomes three bytes, a double-byte character at
 * most three, ASCII stays one; so at most 3x, 1.5x without katakana. */
static size_t cp932_utf8_bound(struct slice d)
{
	size_t n = 0;
	for (size_t i = 0; i < d.len; i++) {
		unsigned char c = (unsigned char)d.p[i];
		if (c < 0x80) {
			n++;
		} else {
			n += 3;
			if ((c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC))
				i++; /* a lead byte: its trail byte is in these 3 */
		}
	}
	return n;
}

/*
 * Converts in from `from` to UTF-8 into an arena buffer of out_max bytes (a
 * proven bound).  *ret is the text converted, all of it on success (0) or
 * what came before an invalid or cut-short sequence (-EILSEQ).  -ENOMEM or
 * -ENOTSUP otherwise.
 */
static int convert(const char *from, struct slice in, size_t out_max, struct arena *a, struct slice *ret)
{
	char *out = arena_alloc(a, st_add(out_max, 1));
	if (!out)
		return -ENOMEM;
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return -ENOTSUP;
	char *ip = (char *)in.p, *op = out;
	size_t ileft = in.len, oleft = out_max;
	size_t k = iconv(cd, &ip, &ileft, &op, &oleft);
	int e = errno;
	iconv_close(cd);
	BUG_ON(k == (size_t)-1 && e == E2BIG); /* out_max is an upper bound */
	*op = '\0';
	*ret = (struct slice){ out, out_max - oleft };
	return k == (size_t)-1 ? -EILSEQ : 0;
}

/* The offset of the first byte of d for which bad() holds, or d.len. */
static size_t find_byte(struct slice d, bool (*bad)(unsigned char))
{
	for (size_t i = 0; i < d.len; i++) {
		if (bad((unsigned char)d.p[i]))
			return i;
	}
	return d.len;
}

static bool is_nul(unsigned char c)
{
	return c == '\0';
}

/* Converts d (BOM removed) from UTF-16; a NUL character is refused. */
static int decode_utf16(struct slice d, const char *from, struct arena *a, struct slice *ret,
			int64_t *ret_bad_line)
{
	struct slice u;
	int r = convert(from, d, st_mult(d.len / 2 + 1, 3), a, &u);
	if (r == -EILSEQ) {
		/* What was converted keeps the file's line breaks. */
		*ret_bad_line = people__count_lines(u);
		return r;
	}
	if (r < 0)
		return r;
	size_t bad = find_byte(u, is_nul);
	if (bad < u.len) {
		*ret_bad_line = line_at(u, bad);
		return -EILSEQ;
	}
	*ret = u;
	return 0;
}

/* Converts d from CP932.  A NUL byte (never a trail byte) is refused as in
 * every encoding: binary files (an .xlsx, a picture) nearly always hold
 * one, or bytes CP932 lacks.  Other control characters are text, as they
 * are in UTF-8, so that whatever a UTF-8 import took survives an export
 * as CP932 and its import. */
static int decode_cp932(struct slice d, struct arena *a, struct slice *ret, int64_t *ret_bad_line)
{
	size_t bad = find_byte(d, is_nul);
	struct slice head = { d.p, bad }, u;
	/* Only the part before a NUL needs converting to judge it. */
	int r = convert("CP932", head, cp932_utf8_bound(head), a, &u);
	if (r == -EILSEQ) {
		*ret_bad_line = people__count_lines(u);
		return r;
	}
	if (r < 0)
		return r;
	if (bad < d.len) {
		*ret_bad_line = line_at(d, bad);
		return -EILSEQ;
	}
	*ret = u;
	return 0;
}

int people_decode(struct slice data, struct arena *a, struct slice *ret_utf8, const char **ret_encoding,
		  int64_t *ret_bad_line)
{
	struct slice text = data;
	const char *enc = "utf-8";
	int64_t bad_line = 0;
	int r = 0;

	if (slice_starts_with(data, UTF8_BOM)) {
		/* The BOM says UTF-8: no second guess. */
		text = (struct slice){ data.p + 3, data.len - 3 };
		size_t bad = utf8_bad_offset(text);
		if (bad < text.len) {
			r = -EILSEQ;
			bad_line = line_at(text, bad);
		}
	} else if (slice_starts_with(data, "\xFF\xFE") || slice_starts_with(data, "\xFE\xFF")) {
		bool le = data.p[0] == '\xFF';
		enc = le ? "utf-16le" : "utf-16be";
		r = decode_utf16((struct slice){ data.p + 2, data.len - 2 }, le ? "UTF-16LE" : "UTF-16BE", a,
				 &text, &bad_line);
	} else {
		size_t bad = utf8_bad_offset(data);
		if (bad < data.len) {
			enc = "cp932";
			r = decode_cp932(data, a, &text, &bad_line);
			int64_t utf8_line = line_at(data, bad);
			if (r == -EILSEQ && utf8_line > bad_line)
				bad_line = utf8_line;
		}
	}
	if (r == -EILSEQ)
		*ret_bad_line = bad_line;
	if (r < 0)
		return r;
	*ret_utf8 = text;
	*ret_encoding = enc;
	return 0;
}

/* ---- the separator --------------------------------------------------------- */

/* True when the line starting at i has something besides white space and
 * separators (so it can be the header); *ret_end is where it ends. */
static bool line_has_content(struct slice t, size_t i, size_t *ret_end)
{
	bool content = false;
	for (; i < t.len && t.p[i] != '\r' && t.p[i] != '\n'; i++) {
		if (!memchr(" \t,", t.p[i], 3))
			content = true;
	}
	*ret_end = i;
	return content;
}

char people__separator(struct slice t)
{
	size_t i = 0, end;
	while (i < t.len && !line_has_content(t, i, &end))
		i = end + 1;
	/* The header line, to its first line break outside quotes. */
	bool quoted = false, tab = false;
	for (; i < t.len; i++) {
		char c = t.p[i];
		if (c == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (c == ',')
			return ',';
		else if (c == '\t')
			tab = true;
		else if (c == '\r' || c == '\n')
			break;
	}
	return tab ? '\t' : ',';
}
