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
	const char *encoding;         /* what was detected: "utf-8", "cp932", "utf-16le", "utf-16be" */
	char separator;               /* ',' or '\t' */
};

/*
 * Turns an upload into UTF-8 (issue 3, SPEC C3): a UTF-8 BOM is dropped;
 * UTF-16 with a BOM (Excel's "Unicode text") is converted; otherwise valid
 * UTF-8 is taken as is and anything else is read as CP932 (Shift_JIS as
 * Excel on Japanese Windows writes it: ① ㈱ and the wave-dash family must
 * survive, mapped as Windows maps them).  Line numbers are unchanged by the
 * conversion.  -EILSEQ when the bytes are none of these (with
 * *ret_bad_line, 1-based, where the first undecodable byte is).  The result
 * lives in `a`.
 */
int people_decode(struct slice data, struct arena *a, struct slice *ret_utf8, const char **ret_encoding,
		  int64_t *ret_bad_line);

/* Checks one recipient given field by field (the API's add and edit): the
 * same rules as an import row; the email is normalised in place (arena).
 * Problems have line 0 and the English field name as column. */
int people_person_check(struct person *p, struct arena *a, struct import_problem **ret, size_t *ret_n);

/* Reads a list of addresses for a bulk delete: any supported encoding and
 * separator; the メールアドレス / email column when there is a header, else
 * the first column.  Valid addresses are normalised like the import's;
 * invalid ones become problems. */
int people_addresses_csv(struct slice data, struct arena *a, const char ***ret_emails, size_t *ret_n,
			 struct import_problem **ret_problems, size_t *ret_nproblems);

/* The template's header row and one row per person, CRLF, UTF-8 without BOM
 * (the caller encodes: csv_encode). */
int people_export_csv(const struct person *rows, size_t n, struct buf *out);

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
 * labels with a dot).  An internationalised domain (例え.jp) is converted to
 * its A-label form with libidn2 (xn--...), which is what is stored and sent.
 * Lower-cases the domain into *ret_normalised (arena).
 * With a or ret_normalised NULL it only checks.  False also when the arena
 * is full. */
bool people_email_valid(struct slice email, struct arena *a, const char **ret_normalised);

/* The import template: UTF-8 with BOM, the Japanese header row of SPEC C2
 * and one example row, CRLF. */
int people_template_csv(struct buf *out);

#endif
