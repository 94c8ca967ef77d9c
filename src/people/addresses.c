/*
 * addresses.c — a list of addresses for a bulk delete (people_addresses_csv).
 *
 * Read like an import (any supported encoding, comma or tab): the first
 * non-blank row is a header when one of its cells names a template column
 * or its first cell has no @; the addresses are then the メールアドレス /
 * email column (missing_header when a header names other columns but not
 * that one), or the first column of a header of unknown names.  Otherwise
 * there is no header and the addresses are the first column from the first
 * row on.  Blank rows are skipped; an empty address in a row with other
 * values is missing_email.  Repeated addresses are listed once.
 */
#include "people/internal.h"

struct reader {
	struct csv_reader csv;
	struct people__problems pr;
	const char **emails;
	size_t n, cap;
	size_t col;                  /* the column holding the addresses */
	const char *col_name;        /* its header, or "" */
};

static int email_add(struct reader *rd, const char *email)
{
	if (people__vec_grow(rd->pr.a, (void **)&rd->emails, &rd->cap, rd->n, sizeof(*rd->emails)) < 0)
		return -ENOMEM;
	rd->emails[rd->n++] = email;
	return 0;
}

static int row_read(struct reader *rd, const struct csv_record *rec)
{
	if (people__record_is_blank(rec))
		return 0;
	struct slice v = { "", 0 };
	if (rd->col < rec->nfields)
		v = people__value(rec->fields[rd->col]);
	const char *email = NULL;
	size_t before = rd->pr.n;
	int r = people__check_email(&rd->pr, rec->line, rd->col_name, v, &email);
	if (r < 0 || rd->pr.n > before)
		return r;
	return email_add(rd, email);
}

/* Decides whether the first row is a header, and where the addresses are.
 * Returns 1 when it is a header, 0 when it is data, or an error. */
static int header_read(struct reader *rd, const struct csv_record *rec)
{
	size_t known = 0;
	for (size_t i = 0; i < rec->nfields; i++) {
		int kind = people__header_kind(rec->fields[i]);
		if (kind < PEOPLE__COL_KNOWN_COUNT)
			known++;
		if (kind == PF_EMAIL && !*rd->col_name) {
			rd->col = i;
			rd->col_name = people__preview(rd->pr.a, people__trim(rec->fields[i]));
			if (!rd->col_name)
				return -ENOMEM;
		}
	}
	if (*rd->col_name)
		return 1;
	if (known)
		return people__problem_add(&rd->pr, rec->line, "", "", "missing_header",
					   "the header row has no メールアドレス (email) column");
	struct slice first = people__trim(rec->fields[0]);
	if (memchr(first.p, '@', first.len))
		return 0;
	rd->col_name = people__preview(rd->pr.a, first); /* a header of other names */
	return rd->col_name ? 1 : -ENOMEM;
}

static int read_all(struct reader *rd)
{
	struct csv_record rec;
	bool first = true;
	int r;
	while ((r = csv_next_record(&rd->csv, &rec)) != 0) {
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			const char *name = rd->col_name;
			r = people__problem_csv(&rd->pr, &rd->csv, &name, 1);
		} else if (first && !people__record_is_blank(&rec)) {
			first = false;
			size_t before = rd->pr.n;
			r = header_read(rd, &rec);
			if (rd->pr.n > before)
				return r; /* no address column: nothing to read */
			if (r == 0)
				r = row_read(rd, &rec);
		} else {
			r = row_read(rd, &rec);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Keeps the last of each repeated address, in file order. */
static void drop_repeated(struct reader *rd)
{
	_cleanup_free_ bool *repeated = xmalloc(rd->n ? rd->n : 1);
	people__mark_repeated(rd->emails, rd->n, repeated);
	size_t kept = 0;
	for (size_t i = 0; i < rd->n; i++) {
		if (!repeated[i])
			rd->emails[kept++] = rd->emails[i];
	}
	rd->n = kept;
}

int people_addresses_csv(struct slice data, struct arena *a, const char ***ret_emails, size_t *ret_n,
			 struct import_problem **ret_problems, size_t *ret_nproblems)
{
	struct reader *rd _cleanup_free_ = xcalloc(1, sizeof(*rd));
	struct slice text;
	const char *encoding;
	int64_t bad_line;
	rd->pr.a = a;
	rd->col_name = "";

	int r = people_decode(data, a, &text, &encoding, &bad_line);
	if (r == -EILSEQ)
		r = people__problem_add(&rd->pr, bad_line, "", "", "bad_encoding",
					PEOPLE__REASON_BAD_ENCODING);
	else if (r >= 0) {
		csv_reader_init(&rd->csv, text, people__separator(text), a);
		r = read_all(rd);
	}
	if (r < 0)
		return r;
	drop_repeated(rd);
	*ret_emails = rd->n ? rd->emails : NULL;
	*ret_n = rd->n;
	*ret_problems = rd->pr.n ? rd->pr.v : NULL;
	*ret_nproblems = rd->pr.n;
	return 0;
}
