/*
 * common.c — what the files of people/ share (internal.h): trimming and
 * reading values, previews, the problem vector, the checks an import row
 * and a single recipient have in common, repeated keys, header names.
 */
#include <inttypes.h>

#include "people/internal.h"

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
	if (q > 0 && q < s.len && csv_formula_char(s.p[q]))
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

int people__vec_grow(struct arena *a, void **p, size_t *cap, size_t n, size_t size)
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
	if (people__vec_grow(pl->a, (void **)&pl->v, &pl->cap, pl->n, sizeof(*pl->v)) < 0)
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

bool people__record_is_blank(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++) {
		if (people__trim(rec->fields[i]).len)
			return false;
	}
	return true;
}

/* ---- header names ------------------------------------------------------------ */

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
	{ "テスト対象", PEOPLE__COL_TEST }, { "test", PEOPLE__COL_TEST },
};

int people__header_kind(struct slice raw)
{
	char norm[64];
	size_t n = 0;
	struct slice s = people__trim(raw);
	if (s.len == 0)
		return PEOPLE__COL_UNNAMED;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (n + 1 >= sizeof(norm))
			return PEOPLE__COL_IGNORED;
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
	return PEOPLE__COL_IGNORED;
}
