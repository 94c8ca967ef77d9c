/*
 * export.c — a list written back out in the import template
 * (people_export_csv), so that an export imports again unchanged.
 */
#include "people/internal.h"

/*
 * One value as Kunren's CSV writers write it (buf_put_csv: quoted when it
 * holds , " CR or LF; a leading = + - @ TAB CR guarded by a ' so a
 * spreadsheet does not run it: csv_formula_char).  The import drops one '
 * before such a character (people__value), so a value that already starts
 * with 's followed by one of them gets one more ' here: every value comes
 * back as it was.
 */
static int put_value(struct buf *out, const char *v)
{
	struct slice s = slice_from(v);
	size_t q = 0;
	while (q < s.len && s.p[q] == '\'')
		q++;
	if (q == 0 || q == s.len || !csv_formula_char(s.p[q]))
		return buf_put_csv(out, s);
	_cleanup_buf_ struct buf guarded = BUF_INIT(0);
	int r = buf_putc(&guarded, '\'');
	if (r == 0)
		r = buf_put_slice(&guarded, s);
	return r < 0 ? r : buf_put_csv(out, buf_slice(&guarded));
}

/* enum person_field lists the fields in the template's column order. */
_Static_assert(PF_LAST_NAME == 0 && PF_EMAIL == 2 && PF_FIELD3 == 7 && PF__COUNT == 8,
	       "person fields in template order");

static int put_row(struct buf *out, const struct person *p)
{
	int r = 0;
	for (size_t k = 0; k < PF__COUNT && r == 0; k++) {
		r = put_value(out, p->f[k]);
		if (r == 0)
			r = buf_putc(out, ',');
	}
	return r < 0 ? r : buf_puts(out, p->is_test ? "1\r\n" : "\r\n");
}

int people_export_csv(const struct person *rows, size_t n, struct buf *out)
{
	int r = buf_puts(out, PEOPLE__TEMPLATE_HEADER "\r\n");
	for (size_t i = 0; i < n && r == 0; i++)
		r = put_row(out, &rows[i]);
	return r;
}
