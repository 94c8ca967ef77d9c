/*
 * people — turning what HR departments hand us into recipients: the CSV
 * import of SPEC C2–C4 (header by name, validation of every row, 上書き of
 * repeated addresses) and the address rules.
 */
#ifndef KUNREN_PEOPLE_H
#define KUNREN_PEOPLE_H

#include "core/core.h"
#include "store/store.h"

/* One problem found in an import: 1-based physical line of the file where
 * the record starts, the column's header as written (or "" for the whole
 * row), the offending value and the reason (Japanese and English are both
 * given by the API from `code`). */
struct import_problem {
	int64_t line;
	const char *column;
	const char *value;
	const char *code;    /* "invalid_email", "missing_email", "bad_test_flag", "too_long",
				"too_many_columns", "unknown_column", "missing_header",
				"duplicate_column", "bad_encoding", "empty_file", "bad_quote" */
	const char *reason;  /* English sentence, e.g. "not a valid e-mail address" */
};

struct import_result {
	struct person *rows;          /* valid rows, in file order; of a repeated address only
					 the last occurrence is kept (上書き) */
	size_t nrows;
	struct import_problem *problems;
	size_t nproblems;
	int64_t total_records;        /* data records read (excluding header and blank lines) */
	int64_t duplicates;           /* repeated addresses within the file (last one kept) */
	const char *encoding;         /* what was detected: "utf-8", "cp932", "utf-16le", "utf-16be";
					 NULL when the file is none of them (bad_encoding) */
	char separator;               /* ',' or '\t' (tab when the header line has a tab and no
					 comma outside quotes) */
};

/*
 * Turns an upload into UTF-8 (issue 3, SPEC C3): a UTF-8 BOM is dropped;
 * UTF-16 with a BOM (Excel's "Unicode text") is converted; otherwise valid
 * UTF-8 is taken as is and anything else is read as CP932 (Shift_JIS as
 * Excel on Japanese Windows writes it: ① ㈱ and the wave-dash family
 * survive, mapped as Windows maps them: 0x8160 is U+FF5E).  A NUL is never
 * text.  Line numbers are unchanged by the conversion.  -EILSEQ when the
 * bytes are none of these, with *ret_bad_line (1-based) where the first
 * undecodable byte is (when neither UTF-8 nor CP932 reads it: where the
 * one that read further failed); -ENOMEM when the arena is full.
 * *ret_encoding is "utf-8", "cp932", "utf-16le" or "utf-16be" (static).
 * The text is a slice of `data` when it was UTF-8 already (no copy), else
 * a copy in `a` (at most 1.5x the input, 3x for half-width katakana).
 * Details: docs/internals/CSV.md.
 */
int people_decode(struct slice data, struct arena *a, struct slice *ret_utf8, const char **ret_encoding,
		  int64_t *ret_bad_line);

/* Checks one recipient given field by field (the API's add and edit): the
 * same rules as an import row (a NULL field is empty).  Problems (arena,
 * NULL when none) have line 0 and the English field name as column.  Only
 * when there is none are p's fields replaced by what is to be stored:
 * trimmed arena copies and the normalised address.  Returns 0 even with
 * problems, -ENOMEM when the arena is full. */
int people_person_check(struct person *p, struct arena *a, struct import_problem **ret, size_t *ret_n);

/* Reads a list of addresses for a bulk delete: any supported encoding and
 * separator; the メールアドレス / email column when there is a header, else
 * the first column (the rule is in docs/internals/CSV.md).  Valid addresses
 * are normalised like the import's and listed once each; invalid ones
 * become problems (bad_encoding, bad_quote, missing_header, missing_email,
 * invalid_email, too_long).  Both arrays live in `a` (NULL when empty).
 * Returns 0 even with problems, -ENOMEM when the arena is full. */
int people_addresses_csv(struct slice data, struct arena *a, const char ***ret_emails, size_t *ret_n,
			 struct import_problem **ret_problems, size_t *ret_nproblems);

/* The template's header row and one row per person, CRLF, UTF-8 without BOM
 * (the caller encodes: csv_encode).  Values are written like buf_put_csv
 * (a leading = + - @ guarded by a '), and people_import_csv reads the
 * result back to the same persons.  -E2BIG when out's cap is reached. */
int people_export_csv(const struct person *rows, size_t n, struct buf *out);

/*
 * Parses a CSV upload (people_decode: UTF-8 with or without BOM, CP932,
 * UTF-16 with BOM; comma- or tab-separated; RFC 4180 quoting with
 * embedded commas, quotes and newlines; CRLF or LF).  The header row is
 * matched by name: 姓 名 メールアドレス 部署 役職 項目 項目2 項目3 テスト対象 or
 * last_name first_name email department position field1 field2 field3 test
 * (case-insensitive, surrounding spaces ignored; 項目1 is accepted for 項目).
 * Every problem is reported; rows with problems are not in `rows`.  Problems
 * of the header (unknown_column, duplicate_column: that column's data is not
 * imported) and empty_file leave the other rows in `rows`; missing_header,
 * bad_encoding and a malformed header row leave `rows` empty.  The reader's
 * rules and caps (256 columns, 64 KiB fields) are in docs/internals/CSV.md.
 * A file people_decode refuses is one bad_encoding problem; テスト対象 also
 * accepts a full-width １; a value in a column without a header name is
 * too_many_columns (empty ones are fine); one leading ' before = + - @ is
 * dropped (the formula guard of Kunren's CSV writers).  Everything lives
 * in `a`, nothing else is allocated for long (plan on about 3x the input,
 * at least ~100 bytes per row and ~120 per problem, plus the decoded copy
 * of a CP932 or UTF-16 file).
 * Returns 0 even when problems were found; a negative value only for an
 * internal failure (e.g. -ENOMEM from the arena); *ret is written only on
 * success.
 */
int people_import_csv(struct slice data, struct arena *a, struct import_result *ret);

/* Practical address check (RFC 5321 sizes, ASCII dot-atom local part, LDH
 * domain labels with a dot).  Full-width ASCII (Ｕｓｅｒ＠ＥＸＡＭＰＬＥ．ｊｐ)
 * is read as ASCII and U+3000 as a space first.  An internationalised
 * domain (例え.jp) is converted to its A-label form with libidn2
 * (xn--r8jz45g.jp), which is what is stored and sent; a non-ASCII local
 * part is invalid.  Lower-cases the domain into *ret_normalised (arena).
 * With a or ret_normalised NULL it only checks.  False also when the arena
 * is full. */
bool people_email_valid(struct slice email, struct arena *a, const char **ret_normalised);

/* The same check saying why: 0 (and *ret_normalised as above), -EINVAL
 * when the address is not valid or -E2BIG when it is longer than 254 bytes
 * (once normalised and converted), both with an English sentence in
 * *ret_reason (static); -ENOMEM when the arena is full. */
int people_email_check(struct slice email, struct arena *a, const char **ret_normalised,
		       const char **ret_reason);

/* The import template: UTF-8 with BOM, the Japanese header row of SPEC C2
 * and one example row, CRLF. */
int people_template_csv(struct buf *out);

#endif
