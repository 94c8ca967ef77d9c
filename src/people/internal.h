/*
 * people/internal.h — what the files of people/ share (people__ names):
 * value trimming, the problem vector, header names, the separator guess and
 * the checks an import row and a single recipient have in common.  Not for
 * other modules: they use people.h.
 */
#ifndef KUNREN_PEOPLE_INTERNAL_H
#define KUNREN_PEOPLE_INTERNAL_H

#include "core/csv.h"
#include "people/people.h"

#define PEOPLE__FIELD_MAX 256  /* bytes, every column but the e-mail address */
#define PEOPLE__PREVIEW_MAX 80 /* bytes of a long value echoed in a problem */
#define PEOPLE__REASON_BAD_ENCODING "the file is neither UTF-8, Shift_JIS (CP932) nor UTF-16"
/* The header row of the template and of an export (SPEC C2). */
#define PEOPLE__TEMPLATE_HEADER "姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象"

/* What a column holds: a person field (enum person_field), the test flag, a
 * named column we do not use (unknown or repeated), or no name at all. */
enum {
	PEOPLE__COL_TEST = PF__COUNT,
	PEOPLE__COL_KNOWN_COUNT,
	PEOPLE__COL_IGNORED = PEOPLE__COL_KNOWN_COUNT,
	PEOPLE__COL_UNNAMED,
};

/* Which column a header cell names (see people.h for the names): trimmed,
 * ASCII case folded, full-width digits read as ASCII ones. */
int people__header_kind(struct slice raw);

/* Trims ASCII white space and U+3000 IDEOGRAPHIC SPACE from both ends. */
struct slice people__trim(struct slice s);

/* A value as the import reads it: trimmed, and one leading ' dropped when
 * what follows the leading 's is = + - or @ (how Kunren's CSV writers
 * neutralise formulas, so an export imports back unchanged). */
struct slice people__value(struct slice raw);

/* An arena copy of s; the empty string is shared (NULL when the arena is
 * full). */
const char *people__text(struct arena *a, struct slice s);
/* The first PEOPLE__PREVIEW_MAX bytes of s, cut on a UTF-8 character
 * boundary, followed by "…" when shortened. */
const char *people__preview(struct arena *a, struct slice s);

/* A record whose fields are all white space (people__trim). */
bool people__record_is_blank(const struct csv_record *rec);

/* Makes room for one more element of size bytes in an arena vector of n
 * elements and room for *cap (64 at first, then doubling); the old copy
 * stays in the arena (the sum of all is at most twice the last).  -ENOMEM
 * when the arena is full. */
int people__vec_grow(struct arena *a, void **p, size_t *cap, size_t n, size_t size);

/* Problems collect in an arena vector. */
struct people__problems {
	struct arena *a;
	struct import_problem *v;
	size_t n, cap;
};
/* column, value and reason are static strings or arena copies; a NULL one
 * is an arena allocation that failed (-ENOMEM). */
int people__problem_add(struct people__problems *pl, int64_t line, const char *column, const char *value,
			const char *code, const char *reason);
/* A record the CSV reader rejected (quote error or cap) as a problem;
 * col_names[i] names column i (i < ncols). */
int people__problem_csv(struct people__problems *pl, const struct csv_reader *c, const char *const *col_names,
			size_t ncols);

/* The checks shared by import rows and people_person_check: a value over
 * max bytes is too_long; the address is missing_email, too_long or
 * invalid_email, else *ret_email is its normalised form. */
int people__check_length(struct people__problems *pl, int64_t line, const char *column, struct slice v,
			 size_t max);
int people__check_email(struct people__problems *pl, int64_t line, const char *column, struct slice email,
			const char **ret_email);

/* Marks in ret_repeated[i] each key that appears again later in keys[]
 * (so the last occurrence is the one kept); returns how many were marked. */
size_t people__mark_repeated(const char *const *keys, size_t n, bool *ret_repeated);

/* ',' or '\t': tab-separated when the first line with content (the header)
 * has a tab and no comma outside quotes. */
char people__separator(struct slice text);
/* Physical lines, counted like the CSV reader: LF, CRLF or a lone CR ends
 * one; an empty text is one line. */
int64_t people__count_lines(struct slice text);

#endif
