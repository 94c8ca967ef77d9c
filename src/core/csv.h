/*
 * core/csv — an RFC 4180 reader over a slice, one record at a time.
 * See docs/internals/CSV.md for the rules and the error recovery.
 *
 *	struct csv_reader r;
 *	struct csv_record rec;
 *	int k;
 *	csv_reader_init(&r, data, ',', arena);
 *	while ((k = csv_next_record(&r, &rec)) != 0) {
 *		if (k == -ENOMEM)
 *			return k;
 *		if (k < 0) {            // a malformed record: r.err, r.record_line
 *			report(csv_error_message(r.err), r.record_line);
 *			continue;       // the reader has moved past it
 *		}
 *		use(rec.fields, rec.nfields, rec.line);
 *	}
 *
 * Ownership: the reader allocates nothing on the heap.  A field is a slice
 * into the input when it needs no unescaping, otherwise into a copy in the
 * arena; either way it lives as long as both the input and the arena.  The
 * array rec.fields belongs to the reader and is overwritten by the next
 * call.  Nothing needs releasing.
 */
#ifndef KUNREN_CSV_H
#define KUNREN_CSV_H

#include "core/core.h"

#define CSV_MAX_FIELDS 256
#define CSV_MAX_FIELD_LEN ((size_t)64 * 1024)

enum csv_error {
	CSV_OK,
	CSV_ERR_UNTERMINATED_QUOTE, /* "abc<end of input>                     -EINVAL */
	CSV_ERR_STRAY_QUOTE,        /* ab"c  (quote inside an unquoted field)  -EINVAL */
	CSV_ERR_AFTER_QUOTE,        /* "ab"c (text after the closing quote)    -EINVAL */
	CSV_ERR_TOO_MANY_FIELDS,    /* more than CSV_MAX_FIELDS                -E2BIG  */
	CSV_ERR_FIELD_TOO_LONG,     /* a field over CSV_MAX_FIELD_LEN bytes    -E2BIG  */
};

struct csv_record {
	const struct slice *fields; /* nfields >= 1: an empty line is one empty field */
	size_t nfields;
	int64_t line;               /* 1-based physical line where the record starts */
};

/* Read-only for callers, except through the functions below. */
struct csv_reader {
	struct slice in;
	size_t pos;                 /* next byte to read */
	int64_t line;               /* physical line of in.p[pos] */
	char sep;
	struct arena *a;
	/* About the record last returned or rejected: */
	int64_t record_line;        /* where it started */
	enum csv_error err;         /* CSV_OK after a success */
	int64_t err_line;           /* physical line of the first error */
	size_t err_field;           /* 0-based index of the field with the error */
	struct slice fields[CSV_MAX_FIELDS];
};

/* sep is ',' or '\t' (anything but '"', CR and LF). */
void csv_reader_init(struct csv_reader *r, struct slice data, char sep, struct arena *a);

/*
 * Reads the next record.  Returns 1 and fills *ret, 0 at the end of the
 * input, -ENOMEM when the arena is full, or -EINVAL / -E2BIG for a
 * malformed record (r->err says which, r->record_line and r->err_line
 * where).  After a malformed record the reader has already skipped it, so
 * reading on resumes at the next record; an unterminated quote resumes at
 * the line after the one holding the opening quote.
 */
int csv_next_record(struct csv_reader *r, struct csv_record *ret);

/* An English sentence for err, e.g. "a quoted field is never closed". */
const char *csv_error_message(enum csv_error err);

/*
 * Writing CSV for Japanese Excel (SPEC G6): appends the UTF-8 text utf8 to
 * out as UTF-8 with a BOM, or as CP932 the way Windows writes it (U+301C
 * 〜 and U+FF5E ～ both become 0x8160, ① ㈱ and the IBM extensions are
 * kept; a character CP932 lacks, or a byte that is not UTF-8, becomes one
 * "?").  -E2BIG when out's cap is reached (out then holds a prefix),
 * -ENOTSUP when iconv has no CP932.
 */
enum csv_encoding { CSV_UTF8_BOM, CSV_CP932 };
int csv_encode(struct slice utf8, enum csv_encoding enc, struct buf *out);
/* "utf8" / "cp932" (NULL or "" is utf8); -EINVAL otherwise. */
int csv_encoding_parse(const char *s, enum csv_encoding *ret);

#endif
