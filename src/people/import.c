/*
 * import.c — the recipient CSV import of SPEC C2–C4 and its template.
 *
 * The file is checked for UTF-8 first, then read record by record with the
 * core CSV reader: the first non-blank record is the header, matched by
 * name; every later non-blank record is validated column by column.  Rows
 * and problems collect in the caller's arena, so its cap bounds the whole
 * import: rows in one array sized by the number of lines left when the
 * first row arrives (a record takes at least one line), problems in a
 * doubling vector.  Repeated addresses are resolved last (the last
 * occurrence wins, 上書き).
 */
#include <inttypes.h>

#include "core/csv.h"
#include "people/people.h"

#define FIELD_MAX 256       /* bytes, every column but the e-mail address */
#define EMAIL_FIELD_MAX 254
#define PREVIEW_MAX 80      /* bytes of an over-long value or header echoed in a problem */

/* What a column holds: a person field (enum person_field), the test flag, a
 * named column we do not use (unknown or repeated), or no name at all. */
enum { COL_TEST = PF__COUNT, COL_KNOWN_COUNT, COL_IGNORED = COL_KNOWN_COUNT, COL_UNNAMED };

static const struct {
	const char *name; /* normalised: ASCII lower case, ASCII digits */
	int kind;
} header_names[] = {
	{ "姓", PF_LAST_NAME },        { "last_name", PF_LAST_NAME },
	{ "名", PF_FIRST_NAME },       { "first_name", PF_FIRST_NAME },
	{ "メールアドレス", PF_EMAIL }, { "email", PF_EMAIL },
	{ "部署", PF_DEPARTMENT },     { "department", PF_DEPARTMENT },
	{ "役職", PF_POSITION },       { "position", PF_POSITION },
	{ "項目", PF_FIELD1 },         { "項目1", PF_FIELD1 }, { "field1", PF_FIELD1 },
	{ "項目2", PF_FIELD2 },        { "field2", PF_FIELD2 },
	{ "項目3", PF_FIELD3 },        { "field3", PF_FIELD3 },
	{ "テスト対象", COL_TEST },    { "test", COL_TEST },
};

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
	struct import_problem *problems;
	size_t nproblems, problems_cap;
	int64_t total_records;
};

/* ---- small helpers ------------------------------------------------------ */

static bool starts_with_ideographic_space(struct slice s)
{
	return s.len >= 3 && memcmp(s.p, "\xE3\x80\x80", 3) == 0;
}

static bool ends_with_ideographic_space(struct slice s)
{
	return s.len >= 3 && memcmp(s.p + s.len - 3, "\xE3\x80\x80", 3) == 0;
}

/* Trims ASCII white space and U+3000 IDEOGRAPHIC SPACE from both ends. */
static struct slice trim_spaces(struct slice s)
{
	for (;;) {
		s = slice_trim(s);
		if (starts_with_ideographic_space(s))
			s = (struct slice){ s.p + 3, s.len - 3 };
		else if (ends_with_ideographic_space(s))
			s.len -= 3;
		else
			return s;
	}
}

static bool record_is_blank(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		if (trim_spaces(rec->fields[i]).len)
			return false;
	}
	return true;
}

/* Makes room for one more element of size bytes in an arena vector; the
 * old copy stays in the arena (the sum of all is at most twice the last). */
static int vec_grow(struct arena *a, void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? st_mult(*cap, 2) : 64;
	void *q = arena_alloc(a, st_mult(c, size));
	if (!q)
		return -ENOMEM;
	if (n)
		memcpy(q, *p, n * size);
	*p = q;
	*cap = c;
	return 0;
}

/* An arena copy of s; the empty string is shared. */
static const char *text(struct arena *a, struct slice s)
{
	return s.len ? arena_slice(a, s) : "";
}

/* The first PREVIEW_MAX bytes of s, cut on a character boundary, with "…". */
static const char *preview(struct arena *a, struct slice s)
{
	if (s.len <= PREVIEW_MAX)
		return text(a, s);
	size_t n = PREVIEW_MAX;
	while (n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
		n--;
	return arena_printf(a, "%.*s…", (int)n, s.p);
}

/* Records a problem.  column, value and reason are static strings or arena
 * copies; a NULL one is an arena allocation that failed. */
static int problem_add(struct importer *im, int64_t line, const char *column, const char *value,
		       const char *code, const char *reason)
{
	if (!column || !value || !reason)
		return -ENOMEM;
	if (vec_grow(im->a, (void **)&im->problems, &im->problems_cap, im->nproblems,
		     sizeof(*im->problems)) < 0)
		return -ENOMEM;
	im->problems[im->nproblems++] = (struct import_problem){
		.line = line, .column = column, .value = value, .code = code, .reason = reason,
	};
	return 0;
}

static const char *column_name(const struct importer *im, size_t col)
{
	return col < im->ncols ? im->col_name[col] : "";
}

/* ---- encoding ------------------------------------------------------------ */

/* The 1-based line holding the first byte that is not UTF-8 (or a NUL),
 * or 0 when the whole text is clean; *ret_lines counts the lines.  Lines
 * end like in the CSV reader: LF, CRLF or a lone CR; no UTF-8 sequence
 * contains either byte. */
static int64_t first_bad_line(struct slice d, int64_t *ret_lines)
{
	int64_t line = 1;
	size_t start = 0;
	for (size_t i = 0; i <= d.len; i++) {
		if (i < d.len && d.p[i] != '\r' && d.p[i] != '\n')
			continue;
		size_t n = i - start;
		if (n && (!utf8_valid(d.p + start, n) || memchr(d.p + start, '\0', n)))
			return line;
		if (i < d.len && (d.p[i] == '\n' || !(i + 1 < d.len && d.p[i + 1] == '\n')))
			line++;
		start = i + 1;
	}
	*ret_lines = line;
	return 0;
}

/* ---- the header ----------------------------------------------------------- */

/* Which column a header names: trimmed, ASCII case folded, full-width
 * digits (０–９, U+FF10–FF19) read as ASCII ones. */
static int header_kind(struct slice raw)
{
	char norm[64];
	size_t n = 0;
	struct slice s = trim_spaces(raw);
	if (s.len == 0)
		return COL_UNNAMED;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (n + 1 >= sizeof(norm))
			return COL_IGNORED;
		if (c == 0xEF && i + 2 < s.len && (unsigned char)s.p[i + 1] == 0xBC &&
		    (unsigned char)s.p[i + 2] >= 0x90 && (unsigned char)s.p[i + 2] <= 0x99) {
			norm[n++] = (char)('0' + ((unsigned char)s.p[i + 2] - 0x90));
			i += 2;
			continue;
		}
		norm[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	for (size_t k = 0; k < ARRAY_SIZE(header_names); k++) {
		if (strlen(header_names[k].name) == n && memcmp(header_names[k].name, norm, n) == 0)
			return header_names[k].kind;
	}
	return COL_IGNORED;
}

/* Assigns a kind to every column; a second column of the same kind is
 * ignored and reported.  *ret_known counts the columns we recognised. */
static int header_classify(struct importer *im, const struct csv_record *rec, size_t *ret_known)
{
	size_t known = 0;
	for (size_t k = 0; k < COL_KNOWN_COUNT; k++)
		im->col_of[k] = -1;
	im->ncols = rec->nfields;
	for (size_t i = 0; i < rec->nfields; i++) {
		im->col_name[i] = preview(im->a, trim_spaces(rec->fields[i]));
		if (!im->col_name[i])
			return -ENOMEM;
		int kind = header_kind(rec->fields[i]);
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
		return problem_add(im, rec->line, "", preview(im->a, trim_spaces(rec->fields[0])),
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
	const struct csv_reader *c = &im->csv;
	const char *msg = csv_error_message(c->err);
	const char *reason = c->err_line != c->record_line
		? arena_printf(im->a, "%s (line %" PRId64 ")", msg, c->err_line) : msg;
	if (!reason)
		return -ENOMEM;
	switch (c->err) {
	case CSV_ERR_TOO_MANY_FIELDS:
		return problem_add(im, c->record_line, "", "", "too_many_columns", reason);
	case CSV_ERR_FIELD_TOO_LONG:
		BUG_ON(c->err_field >= CSV_MAX_FIELDS);
		return problem_add(im, c->record_line, column_name(im, c->err_field),
				   preview(im->a, c->fields[c->err_field]), "too_long", reason);
	default:
		return problem_add(im, c->record_line, column_name(im, c->err_field), "",
				   "bad_quote", reason);
	}
}

/* Spreads a record over the known kinds (trimmed); a value in a column
 * without a header is a problem, one per row. */
static int record_split(struct importer *im, const struct csv_record *rec,
			struct slice val[COL_KNOWN_COUNT])
{
	for (size_t k = 0; k < COL_KNOWN_COUNT; k++)
		val[k] = (struct slice){ "", 0 };
	bool reported = false;
	for (size_t i = 0; i < rec->nfields; i++) {
		struct slice v = trim_spaces(rec->fields[i]);
		int kind = i < im->ncols ? im->col_kind[i] : COL_UNNAMED;
		if (kind < COL_KNOWN_COUNT) {
			val[kind] = v;
		} else if (kind == COL_UNNAMED && v.len && !reported) {
			reported = true;
			int r = problem_add(im, rec->line, "", preview(im->a, v), "too_many_columns",
					    arena_printf(im->a, "a value in column %zu, which has "
							 "no header", i + 1));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int check_lengths(struct importer *im, int64_t line, const struct slice val[COL_KNOWN_COUNT])
{
	for (size_t k = 0; k < COL_KNOWN_COUNT; k++) {
		size_t max = k == PF_EMAIL ? EMAIL_FIELD_MAX : FIELD_MAX;
		if (val[k].len <= max)
			continue;
		int r = problem_add(im, line, im->col_name[im->col_of[k]], preview(im->a, val[k]),
				    "too_long", k == PF_EMAIL ? "longer than 254 bytes"
							      : "longer than 256 bytes");
		if (r < 0)
			return r;
	}
	return 0;
}

/* Checks the address; *ret_email is its normalised form when valid. */
static int check_email(struct importer *im, int64_t line, struct slice email, const char **ret_email)
{
	const char *column = im->col_name[im->col_of[PF_EMAIL]];
	if (email.len == 0)
		return problem_add(im, line, column, "", "missing_email",
				   "the e-mail address is missing");
	if (email.len > EMAIL_FIELD_MAX)
		return 0; /* already reported as too_long */
	if (!people_email_valid(email, NULL, NULL))
		return problem_add(im, line, column, text(im->a, email), "invalid_email",
				   "not a valid e-mail address");
	return people_email_valid(email, im->a, ret_email) ? 0 : -ENOMEM;
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
		p.f[k] = k == PF_EMAIL ? email : text(im->a, val[k]);
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
	size_t before = im->nproblems;
	int r = record_split(im, rec, val);
	if (r >= 0)
		r = check_lengths(im, rec->line, val);
	if (r >= 0)
		r = check_email(im, rec->line, val[PF_EMAIL], &email);
	if (r >= 0 && !test_flag_valid(val[COL_TEST]))
		r = problem_add(im, rec->line, im->col_name[im->col_of[COL_TEST]],
				preview(im->a, val[COL_TEST]), "bad_test_flag",
				"テスト対象 (test) must be empty or 1");
	if (r < 0 || im->nproblems > before)
		return r;
	return row_add(im, rec->line, val, email);
}

/* ---- repeated addresses ---------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

/* Drops every row whose (normalised) address appears again later; the
 * survivors keep their file order.  Returns how many were dropped. */
static int64_t rows_drop_earlier_duplicates(struct importer *im)
{
	size_t n = im->nrows, size = 16;
	int64_t dropped = 0;
	while (size < st_mult(n, 2))
		size = st_mult(size, 2);
	_cleanup_free_ size_t *slot = xmalloc(st_mult(size, sizeof(*slot)));
	_cleanup_free_ bool *drop = xcalloc(n ? n : 1, sizeof(*drop));
	for (size_t h = 0; h < size; h++)
		slot[h] = SIZE_MAX;

	for (size_t i = n; i-- > 0;) {
		const char *e = im->rows[i].f[PF_EMAIL];
		for (size_t h = hash_str(e) & (size - 1);; h = (h + 1) & (size - 1)) {
			if (slot[h] == SIZE_MAX) {
				slot[h] = i;
				break;
			}
			if (strcmp(im->rows[slot[h]].f[PF_EMAIL], e) == 0) {
				drop[i] = true;
				dropped++;
				break;
			}
		}
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (!drop[i])
			im->rows[kept++] = im->rows[i];
	}
	im->nrows = kept;
	return dropped;
}

/* ---- the whole file -------------------------------------------------------- */

/* Reads records up to the first non-blank one.  Returns 1 with it, 0 at the
 * end, or the reader's error. */
static int next_nonblank(struct importer *im, struct csv_record *ret)
{
	int r;
	while ((r = csv_next_record(&im->csv, ret)) == 1) {
		if (!record_is_blank(ret))
			return 1;
	}
	return r;
}

static int import_rows(struct importer *im, bool usable)
{
	struct csv_record rec;
	int r;
	while ((r = next_nonblank(im, &rec)) != 0) {
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

static int import_file(struct importer *im, struct slice data)
{
	int64_t bad = first_bad_line(data, &im->lines);
	if (bad)
		return problem_add(im, bad, "", "", "bad_encoding",
				   "the file is not UTF-8; save it as CSV UTF-8");

	csv_reader_init(&im->csv, data, ',', im->a);
	struct csv_record header;
	int r = next_nonblank(im, &header);
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
	im->a = a;
	if (data.len >= 3 && memcmp(data.p, "\xEF\xBB\xBF", 3) == 0)
		data = (struct slice){ data.p + 3, data.len - 3 };

	int r = import_file(im, data);
	if (r < 0)
		return r;
	int64_t duplicates = rows_drop_earlier_duplicates(im);
	*ret = (struct import_result){
		.rows = im->nrows ? im->rows : NULL, .nrows = im->nrows,
		.problems = im->nproblems ? im->problems : NULL, .nproblems = im->nproblems,
		.total_records = im->total_records, .duplicates = duplicates,
	};
	return 0;
}

/* ---- the template ------------------------------------------------------------ */

int people_template_csv(struct buf *out)
{
	return buf_puts(out, "\xEF\xBB\xBF"
			"姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n"
			"山田,太郎,yamada.taro@example.co.jp,営業部,部長,10年以上,本社,社員,\r\n");
}
