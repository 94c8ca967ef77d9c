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
};

/*
 * Parses a CSV upload (UTF-8 with or without BOM; RFC 4180 quoting with
 * embedded commas, quotes and newlines; CRLF or LF).  The header row is
 * matched by name: 姓 名 メールアドレス 部署 役職 項目 項目2 項目3 テスト対象 or
 * last_name first_name email department position field1 field2 field3 test
 * (case-insensitive, surrounding spaces ignored; 項目1 is accepted for 項目).
 * Every problem is reported; rows with problems are not in `rows`.  Problems
 * of the header (unknown_column, duplicate_column: that column's data is not
 * imported) and empty_file leave the other rows in `rows`; missing_header,
 * bad_encoding and a malformed header row leave `rows` empty.  The reader's
 * rules and caps (256 columns, 64 KiB fields) are in docs/internals/CSV.md.
 * A NUL byte counts as bad_encoding; テスト対象 also accepts a full-width
 * １; a value in a column without a header name is too_many_columns (empty
 * ones are fine).  Everything lives in `a`, nothing else is allocated for
 * long (plan on about 3x the input, at least ~100 bytes per row and ~120
 * per problem).
 * Returns 0 even when problems were found; a negative value only for an
 * internal failure (e.g. -ENOMEM from the arena); *ret is written only on
 * success.
 */
int people_import_csv(struct slice data, struct arena *a, struct import_result *ret);

/* Practical address check (RFC 5321 sizes, dot-atom local part, LDH domain
 * labels with a dot).  Lower-cases the domain into *ret_normalised (arena).
 * With a or ret_normalised NULL it only checks.  False also when the arena
 * is full. */
bool people_email_valid(struct slice email, struct arena *a, const char **ret_normalised);

/* The import template: UTF-8 with BOM, the Japanese header row of SPEC C2
 * and one example row, CRLF. */
int people_template_csv(struct buf *out);

#endif
