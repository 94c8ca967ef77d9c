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
#include <inttypes.h>

#include "people/internal.h"

#define COL_TEST PEOPLE__COL_TEST
#define COL_KNOWN_COUNT PEOPLE__COL_KNOWN_COUNT
#define COL_IGNORED PEOPLE__COL_IGNORED
#define COL_UNNAMED PEOPLE__COL_UNNAMED

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
	struct people__problems pr;
	int64_t total_records;
};

/* ---- helpers shared by people/ (internal.h) -------------------------------- */

static bool starts_with_ideographic_space(struct slice s)
{
	return s.len >= 3 && memcmp(s.p, "\xE3\x80\x80", 3) == 0;
}

static bool ends_with_ideographic_space(struct slice s)
{
	return s.len >= 3 && memcmp(s.p + s.len - 3, "\xE3\x80\x80", 3) == 0;
}

struct slice people__trim(struct slice s)
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

struct slice people__value(struct slice raw)
{
	struct slice s = people__trim(raw);
	size_t q = 0;
	while (q < s.len && s.p[q] == '\'')
		q++;
	if (q > 0 && q < s.len && memchr("=+-@", s.p[q], 4))
		return (struct slice){ s.p + 1, s.len - 1 };
	return s;
}

const char *people__text(struct arena *a, struct slice s)
{
	return s.len ? arena_slice(a, s) : "";
}

const char *people__preview(struct arena *a, struct slice s)
{
	if (s.len <= PEOPLE__PREVIEW_MAX)
		return people__text(a, s);
	size_t n = PEOPLE__PREVIEW_MAX;
	while (n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
		n--;
	return arena_printf(a, "%.*s…", (int)n, s.p);
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

int people__problem_add(struct people__problems *pl, int64_t line, const char *column, const char *value,
			const char *code, const char *reason)
{
	if (!column || !value || !reason)
		return -ENOMEM;
	if (vec_grow(pl->a, (void **)&pl->v, &pl->cap, pl->n, sizeof(*pl->v)) < 0)
		return -ENOMEM;
	pl->v[pl->n++] = (struct import_problem){
		.line = line, .column = column, .value = value, .code = code, .reason = reason,
	};
	return 0;
}

int people__problem_csv(struct people__problems *pl, const struct csv_reader *c, const char *const *col_names,
			size_t ncols)
{
	const char *msg = csv_error_message(c->err);
	const char *reason = c->err_line != c->record_line
		? arena_printf(pl->a, "%s (line %" PRId64 ")", msg, c->err_line) : msg;
	const char *column = c->err_field < ncols ? col_names[c->err_field] : "";
	if (!reason)
		return -ENOMEM;
	switch (c->err) {
	case CSV_ERR_TOO_MANY_FIELDS:
		return people__problem_add(pl, c->record_line, "", "", "too_many_columns", reason);
	case CSV_ERR_FIELD_TOO_LONG:
		BUG_ON(c->err_field >= CSV_MAX_FIELDS);
		return people__problem_add(pl, c->record_line, column,
					   people__preview(pl->a, c->fields[c->err_field]), "too_long",
					   reason);
	default:
		return people__problem_add(pl, c->record_line, column, "", "bad_quote", reason);
	}
}

int people__check_length(struct people__problems *pl, int64_t line, const char *column, struct slice v,
			 size_t max)
{
	if (v.len <= max)
		return 0;
	return people__problem_add(pl, line, column, people__preview(pl->a, v), "too_long",
				   arena_printf(pl->a, "longer than %zu bytes", max));
}

int people__check_email(struct people__problems *pl, int64_t line, const char *column, struct slice email,
			const char **ret_email)
{
	const char *reason;
	if (email.len == 0)
		return people__problem_add(pl, line, column, "", "missing_email",
					   "the e-mail address is missing");
	int r = people_email_check(email, pl->a, ret_email, &reason);
	if (r == -EINVAL || r == -E2BIG)
		return people__problem_add(pl, line, column, people__preview(pl->a, email),
					   r == -E2BIG ? "too_long" : "invalid_email", reason);
	return r;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

size_t people__mark_repeated(const char *const *keys, size_t n, bool *ret_repeated)
{
	size_t size = 16, marked = 0;
	while (size < st_mult(n, 2))
		size = st_mult(size, 2);
	_cleanup_free_ size_t *slot = xmalloc(st_mult(size, sizeof(*slot)));
	for (size_t h = 0; h < size; h++)
		slot[h] = SIZE_MAX;

	/* From the end, so the first one seen of each key is its last. */
	for (size_t i = n; i-- > 0;) {
		ret_repeated[i] = false;
		for (size_t h = hash_str(keys[i]) & (size - 1);; h = (h + 1) & (size - 1)) {
			if (slot[h] == SIZE_MAX) {
				slot[h] = i;
				break;
			}
			if (strcmp(keys[slot[h]], keys[i]) == 0) {
				ret_repeated[i] = true;
				marked++;
				break;
			}
		}
	}
	return marked;
}

static bool record_is_blank(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		if (people__trim(rec->fields[i]).len)
			return false;
	}
	return true;
}

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

int people__header_kind(struct slice raw)
{
	char norm[64];
	size_t n = 0;
	struct slice s = people__trim(raw);
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
		if (!record_is_blank(ret))
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
