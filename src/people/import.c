/*
 * import.c — the recipient CSV import of SPEC C2–C4, the checks of one
 * recipient, and the template.
 *
 * The file is decoded first (decode.c: UTF-8, CP932 or UTF-16 become
 * UTF-8), its separator guessed, then it is read record by record with the
 * core CSV reader: the first non-blank record is the header, matched by
 * name; every later non-blank record is validated column by column.  Rows
 * and problems collect in the caller's arena, so its cap bounds the whole
 * import: rows in one array sized by the number of lines left when the
 * first row arrives (a record takes at least one line), problems in a
 * doubling vector.  Repeated addresses are resolved last (the last
 * occurrence wins, 上書き).
 */
#include "people/internal.h"

#define COL_TEST PEOPLE__COL_TEST
#define COL_KNOWN_COUNT PEOPLE__COL_KNOWN_COUNT
#define COL_IGNORED PEOPLE__COL_IGNORED
#define COL_UNNAMED PEOPLE__COL_UNNAMED

#define REASON_UNKNOWN_COLUMN \
	"unknown column; the columns are 姓, 名, メールアドレス, 部署, 役職, 項目, 項目2, 項目3, " \
	"テスト対象 (or last_name, first_name, email, department, position, field1, field2, " \
	"field3, test)"

struct importer {
	struct arena *a;
	struct csv_reader csv;
	int col_kind[CSV_MAX_FIELDS];
	const char *col_name[CSV_MAX_FIELDS]; /* trimmed header text (shortened) */
	size_t ncols;
	int col_of[COL_KNOWN_COUNT];          /* column of each known kind, -1 if absent */
	struct person *rows;
	size_t nrows, rows_cap;
	int64_t lines;                        /* physical lines in the file */
	struct people__problems pr;
	int64_t total_records;
};

/* ---- small helpers ------------------------------------------------------ */

static int problem_add(struct importer *im, int64_t line, const char *column, const char *value,
		       const char *code, const char *reason)
{
	return people__problem_add(&im->pr, line, column, value, code, reason);
}

static const char *column_name(const struct importer *im, size_t col)
{
	return col < im->ncols ? im->col_name[col] : "";
}

/* ---- the header ----------------------------------------------------------- */

/* Assigns a kind to every column; a second column of the same kind is
 * ignored and reported.  *ret_known counts the columns we recognised. */
static int header_classify(struct importer *im, const struct csv_record *rec, size_t *ret_known)
{
	size_t known = 0;
	for (size_t k = 0; k < COL_KNOWN_COUNT; k++)
		im->col_of[k] = -1;
	im->ncols = rec->nfields;
	for (size_t i = 0; i < rec->nfields; i++) {
		im->col_name[i] = people__preview(im->a, people__trim(rec->fields[i]));
		if (!im->col_name[i])
			return -ENOMEM;
		int kind = people__header_kind(rec->fields[i]);
		if (kind < COL_KNOWN_COUNT) {
			known++;
			if (im->col_of[kind] < 0)
				im->col_of[kind] = (int)i;
		}
		im->col_kind[i] = kind;
	}
	*ret_known = known;
	return 0;
}

/* Reports unknown and repeated columns (the data of both is not imported). */
static int header_report_columns(struct importer *im, int64_t line)
{
	for (size_t i = 0; i < im->ncols; i++) {
		int kind = im->col_kind[i], r = 0;
		const char *name = im->col_name[i];
		if (kind == COL_IGNORED)
			r = problem_add(im, line, name, name, "unknown_column", REASON_UNKNOWN_COLUMN);
		else if (kind < COL_KNOWN_COUNT && im->col_of[kind] != (int)i) {
			r = problem_add(im, line, name, name, "duplicate_column",
					arena_printf(im->a, "the header row names this column twice "
						     "(also as column %d, %s)",
						     im->col_of[kind] + 1, im->col_name[im->col_of[kind]]));
			im->col_kind[i] = COL_IGNORED;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Maps the header row.  *ret_usable is false when rows cannot be read
 * (no e-mail column); the problem is recorded. */
static int header_map(struct importer *im, const struct csv_record *rec, bool *ret_usable)
{
	size_t known;
	int r = header_classify(im, rec, &known);
	if (r < 0)
		return r;
	if (known == 0) {
		/* Most likely a file without a header row: one clear problem
		 * instead of one unknown column per cell. */
		*ret_usable = false;
		return problem_add(im, rec->line, "", people__preview(im->a, people__trim(rec->fields[0])),
				   "missing_header",
				   "the first row must be the header row naming the columns "
				   "(姓, 名, メールアドレス, 部署, 役職, 項目, 項目2, 項目3, テスト対象)");
	}
	r = header_report_columns(im, rec->line);
	if (r < 0)
		return r;
	*ret_usable = im->col_of[PF_EMAIL] >= 0;
	if (*ret_usable)
		return 0;
	return problem_add(im, rec->line, "", "", "missing_header",
			   "the header row has no メールアドレス (email) column, which is required");
}

/* ---- rows ----------------------------------------------------------------- */

/* A record the CSV reader rejected: a quote error or a cap. */
static int record_report_error(struct importer *im)
{
	return people__problem_csv(&im->pr, &im->csv, im->col_name, im->ncols);
}

/* Spreads a record over the known kinds (people__value: trimmed, a formula
 * guard dropped); a value in a column without a header is a problem, one
 * per row. */
static int record_split(struct importer *im, const struct csv_record *rec,
			struct slice val[COL_KNOWN_COUNT])
{
	for (size_t k = 0; k < COL_KNOWN_COUNT; k++)
		val[k] = (struct slice){ "", 0 };
	bool reported = false;
	for (size_t i = 0; i < rec->nfields; i++) {
		struct slice v = people__value(rec->fields[i]);
		int kind = i < im->ncols ? im->col_kind[i] : COL_UNNAMED;
		if (kind < COL_KNOWN_COUNT) {
			val[kind] = v;
		} else if (kind == COL_UNNAMED && v.len && !reported) {
			reported = true;
			int r = problem_add(im, rec->line, "", people__preview(im->a, v), "too_many_columns",
					    arena_printf(im->a, "a value in column %zu, which has "
							 "no header", i + 1));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Every column but the address (whose length people__check_email judges,
 * after reading full-width characters and converting its domain). */
static int check_lengths(struct importer *im, int64_t line, const struct slice val[COL_KNOWN_COUNT])
{
	for (size_t k = 0; k < COL_KNOWN_COUNT; k++) {
		if (k == PF_EMAIL)
			continue;
		int r = people__check_length(&im->pr, line, column_name(im, (size_t)im->col_of[k]), val[k],
					     PEOPLE__FIELD_MAX);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool test_flag_valid(struct slice v)
{
	/* A full-width １ is what a Japanese keyboard types; take it too. */
	return v.len == 0 || slice_eq_str(v, "1") || slice_eq_str(v, "１");
}

static int row_add(struct importer *im, int64_t line, const struct slice val[COL_KNOWN_COUNT],
		   const char *email)
{
	if (!im->rows) {
		BUG_ON(line > im->lines);
		im->rows_cap = (size_t)(im->lines - line + 1);
		im->rows = arena_alloc(im->a, st_mult(im->rows_cap, sizeof(*im->rows)));
		if (!im->rows)
			return -ENOMEM;
	}
	BUG_ON(im->nrows >= im->rows_cap);
	struct person p = { .is_test = val[COL_TEST].len > 0 };
	for (size_t k = 0; k < PF__COUNT; k++) {
		p.f[k] = k == PF_EMAIL ? email : people__text(im->a, val[k]);
		if (!p.f[k])
			return -ENOMEM;
	}
	im->rows[im->nrows++] = p;
	return 0;
}

/* Validates one data record; a clean one becomes a row. */
static int record_import(struct importer *im, const struct csv_record *rec)
{
	struct slice val[COL_KNOWN_COUNT];
	const char *email = NULL;
	size_t before = im->pr.n;
	int r = record_split(im, rec, val);
	if (r >= 0)
		r = check_lengths(im, rec->line, val);
	if (r >= 0)
		r = people__check_email(&im->pr, rec->line, im->col_name[im->col_of[PF_EMAIL]], val[PF_EMAIL],
					&email);
	if (r >= 0 && !test_flag_valid(val[COL_TEST]))
		r = problem_add(im, rec->line, im->col_name[im->col_of[COL_TEST]],
				people__preview(im->a, val[COL_TEST]), "bad_test_flag",
				"テスト対象 (test) must be empty or 1");
	if (r < 0 || im->pr.n > before)
		return r;
	return row_add(im, rec->line, val, email);
}

/* Drops every row whose (normalised) address appears again later; the
 * survivors keep their file order.  Returns how many were dropped. */
static int64_t rows_drop_earlier_duplicates(struct importer *im)
{
	size_t n = im->nrows;
	_cleanup_free_ const char **keys = xmalloc(st_mult(n ? n : 1, sizeof(*keys)));
	_cleanup_free_ bool *drop = xmalloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		keys[i] = im->rows[i].f[PF_EMAIL];
	size_t dropped = people__mark_repeated(keys, n, drop);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (!drop[i])
			im->rows[kept++] = im->rows[i];
	}
	im->nrows = kept;
	return (int64_t)dropped;
}

/* ---- the whole file -------------------------------------------------------- */

/* Reads records up to the first non-blank one.  Returns 1 with it, 0 at the
 * end, or the reader's error. */
static int next_nonblank(struct csv_reader *csv, struct csv_record *ret)
{
	int r;
	while ((r = csv_next_record(csv, ret)) == 1) {
		if (!people__record_is_blank(ret))
			return 1;
	}
	return r;
}

static int import_rows(struct importer *im, bool usable)
{
	struct csv_record rec;
	int r;
	while ((r = next_nonblank(&im->csv, &rec)) != 0) {
		if (r == -ENOMEM)
			return r;
		im->total_records++;
		if (r < 0)
			r = record_report_error(im);
		else if (usable)
			r = record_import(im, &rec);
		if (r < 0)
			return r;
	}
	return 0;
}

static int import_file(struct importer *im, struct slice data, const char **ret_encoding, char *ret_sep)
{
	struct slice text;
	int64_t bad_line;
	int r = people_decode(data, im->a, &text, ret_encoding, &bad_line);
	if (r == -EILSEQ)
		return problem_add(im, bad_line, "", "", "bad_encoding", PEOPLE__REASON_BAD_ENCODING);
	if (r < 0)
		return r;
	im->lines = people__count_lines(text);
	*ret_sep = people__separator(text);

	csv_reader_init(&im->csv, text, *ret_sep, im->a);
	struct csv_record header;
	r = next_nonblank(&im->csv, &header);
	if (r == 0)
		return problem_add(im, 1, "", "", "empty_file", "the file is empty");
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return record_report_error(im); /* without a header there is nothing to read */

	bool usable;
	r = header_map(im, &header, &usable);
	if (r >= 0)
		r = import_rows(im, usable);
	if (r >= 0 && usable && im->total_records == 0)
		r = problem_add(im, header.line, "", "", "empty_file",
				"the file has a header row but no recipients");
	return r;
}

int people_import_csv(struct slice data, struct arena *a, struct import_result *ret)
{
	struct importer *im _cleanup_free_ = xcalloc(1, sizeof(*im));
	const char *encoding = NULL;
	char sep = ',';
	im->a = a;
	im->pr.a = a;

	int r = import_file(im, data, &encoding, &sep);
	if (r < 0)
		return r;
	int64_t duplicates = rows_drop_earlier_duplicates(im);
	*ret = (struct import_result){
		.rows = im->nrows ? im->rows : NULL, .nrows = im->nrows,
		.problems = im->pr.n ? im->pr.v : NULL, .nproblems = im->pr.n,
		.total_records = im->total_records, .duplicates = duplicates,
		.encoding = encoding, .separator = sep,
	};
	return 0;
}

/* ---- one recipient (the API's add and edit) ------------------------------------ */

int people_person_check(struct person *p, struct arena *a, struct import_problem **ret, size_t *ret_n)
{
	struct people__problems pl = { .a = a };
	struct slice val[PF__COUNT];
	const char *email = NULL;
	int r = 0;
	for (size_t k = 0; k < PF__COUNT && r >= 0; k++) {
		val[k] = people__trim(slice_from(p->f[k]));
		const char *column = person_field_names[k];
		if (!utf8_valid(val[k].p, val[k].len) || memchr(val[k].p, '\0', val[k].len))
			r = people__problem_add(&pl, 0, column, "", "bad_encoding", "not UTF-8 text");
		else if (k == PF_EMAIL)
			r = people__check_email(&pl, 0, column, val[k], &email);
		else
			r = people__check_length(&pl, 0, column, val[k], PEOPLE__FIELD_MAX);
	}
	if (r < 0)
		return r;
	if (pl.n == 0) {
		/* Clean: the values as they will be stored. */
		const char *v[PF__COUNT];
		for (size_t k = 0; k < PF__COUNT; k++) {
			v[k] = k == PF_EMAIL ? email : people__text(a, val[k]);
			if (!v[k])
				return -ENOMEM;
		}
		memcpy(p->f, v, sizeof(v));
	}
	*ret = pl.n ? pl.v : NULL;
	*ret_n = pl.n;
	return 0;
}

/* ---- the template ------------------------------------------------------------ */

int people_template_csv(struct buf *out)
{
	return buf_puts(out, "\xEF\xBB\xBF" PEOPLE__TEMPLATE_HEADER "\r\n"
			"山田,太郎,yamada.taro@example.co.jp,営業部,部長,10年以上,本社,社員,\r\n");
}
