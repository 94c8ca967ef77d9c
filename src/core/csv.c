/* csv.c — the RFC 4180 reader of csv.h and the encoder for Japanese Excel;
 * docs/internals/CSV.md explains both. */
#include "core/csv.h"

#include <iconv.h>

/* What follows a field. */
enum field_end { END_SEP, END_LINE, END_INPUT };

void csv_reader_init(struct csv_reader *r, struct slice data, char sep, struct arena *a)
{
	BUG_ON(sep == '"' || sep == '\r' || sep == '\n');
	memset(r, 0, sizeof(*r));
	r->in = data;
	r->sep = sep;
	r->a = a;
	r->line = 1;
}

const char *csv_error_message(enum csv_error err)
{
	switch (err) {
	case CSV_OK:
		return "no error";
	case CSV_ERR_UNTERMINATED_QUOTE:
		return "a quoted field is never closed (a \" is missing)";
	case CSV_ERR_STRAY_QUOTE:
		return "a \" inside a field that does not start with one (write it as \"\" inside a quoted field)";
	case CSV_ERR_AFTER_QUOTE:
		return "text after the closing \" of a quoted field";
	case CSV_ERR_TOO_MANY_FIELDS:
		return "a record has more than 256 fields";
	case CSV_ERR_FIELD_TOO_LONG:
		return "a field is longer than 65536 bytes";
	}
	return "unknown CSV error";
}

/* Keeps the first error of the current record. */
static void flag(struct csv_reader *r, enum csv_error err, int64_t line, size_t field)
{
	if (r->err != CSV_OK)
		return;
	r->err = err;
	r->err_line = line;
	r->err_field = field;
}

static bool is_stop(const struct csv_reader *r, char c)
{
	return c == r->sep || c == '\r' || c == '\n';
}

/* True when in.p[i] ends a physical line: LF, or a CR not followed by LF
 * (the CR of a CRLF is not counted, its LF is). */
static bool ends_line(struct slice in, size_t i)
{
	if (in.p[i] == '\n')
		return true;
	return in.p[i] == '\r' && !(i + 1 < in.len && in.p[i + 1] == '\n');
}

/* Consumes a line break (CRLF, LF or a lone CR) at pos, if there is one. */
static bool eat_line_break(struct csv_reader *r)
{
	size_t n = r->in.len;
	if (r->pos >= n || (r->in.p[r->pos] != '\r' && r->in.p[r->pos] != '\n'))
		return false;
	if (r->in.p[r->pos] == '\r' && r->pos + 1 < n && r->in.p[r->pos + 1] == '\n')
		r->pos++;
	r->pos++;
	r->line++;
	return true;
}

/* Consumes what ends a field: the separator, a line break or nothing at the
 * end of the input.  pos must be at one of them. */
static enum field_end eat_field_end(struct csv_reader *r)
{
	if (r->pos >= r->in.len)
		return END_INPUT;
	if (r->in.p[r->pos] == r->sep) {
		r->pos++;
		return END_SEP;
	}
	bool had_break = eat_line_break(r);
	BUG_ON(!had_break);
	return END_LINE;
}

/* Moves pos to the next separator or line break; quotes there are errors. */
static void skip_to_stop(struct csv_reader *r, enum csv_error quote_err, size_t idx)
{
	for (; r->pos < r->in.len && !is_stop(r, r->in.p[r->pos]); r->pos++) {
		if (r->in.p[r->pos] == '"')
			flag(r, quote_err, r->line, idx);
	}
}

static enum field_end read_unquoted(struct csv_reader *r, size_t idx, struct slice *ret)
{
	size_t start = r->pos;
	skip_to_stop(r, CSV_ERR_STRAY_QUOTE, idx);
	*ret = (struct slice){ r->in.p + start, r->pos - start };
	if (ret->len > CSV_MAX_FIELD_LEN)
		flag(r, CSV_ERR_FIELD_TOO_LONG, r->line, idx);
	return eat_field_end(r);
}

/* The content between the quotes at open and close, with "" made ". */
static int unescape(struct csv_reader *r, size_t open, size_t close, size_t escapes,
		    struct slice *ret)
{
	const char *p = r->in.p;
	size_t len = close - open - 1 - escapes;
	char *q = arena_alloc(r->a, st_add(len, 1));
	if (!q)
		return -ENOMEM;
	size_t k = 0;
	for (size_t j = open + 1; j < close; j++) {
		q[k++] = p[j];
		if (p[j] == '"')
			j++;
	}
	BUG_ON(k != len);
	*ret = (struct slice){ q, len };
	return 0;
}

/* An unterminated quote: resumes after the line holding the opening quote,
 * so one bad line does not swallow the rest of the file. */
static enum field_end recover_unterminated(struct csv_reader *r, size_t open, int64_t open_line)
{
	r->line = open_line;
	r->pos = open + 1;
	while (r->pos < r->in.len && r->in.p[r->pos] != '\r' && r->in.p[r->pos] != '\n')
		r->pos++;
	return eat_line_break(r) ? END_LINE : END_INPUT;
}

/* pos is at an opening quote. */
static int read_quoted(struct csv_reader *r, size_t idx, struct slice *ret, enum field_end *ret_end)
{
	struct slice in = r->in;
	size_t open = r->pos, i = open + 1, escapes = 0;
	int64_t open_line = r->line;

	for (;; i++) {
		if (i >= in.len) {
			flag(r, CSV_ERR_UNTERMINATED_QUOTE, open_line, idx);
			*ret = (struct slice){ in.p + open, 0 };
			*ret_end = recover_unterminated(r, open, open_line);
			return 0;
		}
		if (in.p[i] == '"') {
			if (i + 1 < in.len && in.p[i + 1] == '"') {
				escapes++;
				i++;
				continue;
			}
			break;
		}
		if (ends_line(in, i))
			r->line++;
	}

	size_t len = i - open - 1;
	*ret = (struct slice){ in.p + open + 1, len };
	if (len - escapes > CSV_MAX_FIELD_LEN)
		flag(r, CSV_ERR_FIELD_TOO_LONG, open_line, idx);
	else if (escapes && r->err == CSV_OK) {
		int k = unescape(r, open, i, escapes, ret);
		if (k < 0)
			return k;
	}
	r->pos = i + 1;
	if (r->pos < in.len && !is_stop(r, in.p[r->pos])) {
		flag(r, CSV_ERR_AFTER_QUOTE, r->line, idx);
		skip_to_stop(r, CSV_ERR_AFTER_QUOTE, idx);
	}
	*ret_end = eat_field_end(r);
	return 0;
}

int csv_next_record(struct csv_reader *r, struct csv_record *ret)
{
	if (r->pos >= r->in.len)
		return 0;
	r->record_line = r->line;
	r->err = CSV_OK;
	r->err_line = 0;
	r->err_field = 0;

	size_t nfields = 0;
	enum field_end end;
	do {
		struct slice f;
		if (nfields == CSV_MAX_FIELDS)
			flag(r, CSV_ERR_TOO_MANY_FIELDS, r->line, CSV_MAX_FIELDS);
		if (r->pos < r->in.len && r->in.p[r->pos] == '"') {
			int k = read_quoted(r, nfields, &f, &end);
			if (k < 0)
				return k;
		} else {
			end = read_unquoted(r, nfields, &f);
		}
		if (nfields < CSV_MAX_FIELDS)
			r->fields[nfields++] = f;
	} while (end == END_SEP);

	switch (r->err) {
	case CSV_OK:
		break;
	case CSV_ERR_TOO_MANY_FIELDS:
	case CSV_ERR_FIELD_TOO_LONG:
		return -E2BIG;
	default:
		return -EINVAL;
	}
	ret->fields = r->fields;
	ret->nfields = nfields;
	ret->line = r->record_line;
	return 1;
}

/* ---- writing for Excel ---------------------------------------------------- */

int csv_encoding_parse(const char *s, enum csv_encoding *ret)
{
	if (!s || !*s || !strcmp(s, "utf8")) {
		*ret = CSV_UTF8_BOM;
		return 0;
	}
	if (!strcmp(s, "cp932")) {
		*ret = CSV_CP932;
		return 0;
	}
	return -EINVAL;
}

/* Skips the character at *in (a lead byte and its continuation bytes). */
static void skip_utf8_char(char **in, size_t *left)
{
	do {
		(*in)++;
		(*left)--;
	} while (*left && ((unsigned char)**in & 0xC0) == 0x80);
}

static int encode_cp932(struct slice utf8, struct buf *out)
{
	iconv_t cd = iconv_open("CP932", "UTF-8");
	if (cd == (iconv_t)-1)
		return -ENOTSUP;
	char *in = (char *)utf8.p;
	size_t left = utf8.len;
	int r = 0;
	while (left && r == 0) {
		char chunk[4096], *o = chunk;
		size_t room = sizeof(chunk);
		size_t k = iconv(cd, &in, &left, &o, &room);
		int e = errno;
		r = buf_append(out, chunk, sizeof(chunk) - room);
		if (k != (size_t)-1 || e == E2BIG)
			continue;
		/* Not in CP932 (or not UTF-8, or cut short at the end): one "?"
		 * for the character. */
		skip_utf8_char(&in, &left);
		if (r == 0)
			r = buf_putc(out, '?');
	}
	iconv_close(cd);
	return r;
}

int csv_encode(struct slice utf8, enum csv_encoding enc, struct buf *out)
{
	if (enc == CSV_CP932)
		return encode_cp932(utf8, out);
	int r = buf_puts(out, "\xEF\xBB\xBF");
	return r < 0 ? r : buf_put_slice(out, utf8);
}
