/*
 * libFuzzer target for people_import_csv (and the core CSV reader under
 * it).  Beyond "no crash, no leak, no UB" it checks the result's
 * invariants and a round trip: the clean rows, written back as CSV with
 * every field quoted, import again to exactly the same rows.
 */
#include <stdint.h>

#include "core/csv.h"
#include "people/people.h"

static void check_result(const struct import_result *res)
{
	BUG_ON(res->total_records < 0 || res->duplicates < 0);
	BUG_ON(res->nrows + (uint64_t)res->duplicates > (uint64_t)res->total_records);
	for (size_t i = 0; i < res->nrows; i++) {
		const struct person *p = &res->rows[i];
		for (size_t k = 0; k < PF__COUNT; k++)
			BUG_ON(!p->f[k] || strlen(p->f[k]) > 256);
		BUG_ON(!people_email_valid(slice_from(p->f[PF_EMAIL]), NULL, NULL));
	}
	for (size_t i = 0; i < res->nproblems; i++) {
		const struct import_problem *q = &res->problems[i];
		BUG_ON(q->line < 1 || !q->column || !q->value || !q->code || !q->reason);
		BUG_ON(!utf8_valid(q->value, strlen(q->value)) || strlen(q->value) > 254);
	}
}

static void put_quoted(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* The rows as a CSV with the English header, every field quoted. */
static void write_rows(const struct import_result *res, struct buf *b)
{
	buf_puts(b, "last_name,first_name,email,department,position,field1,field2,field3,test\r\n");
	for (size_t i = 0; i < res->nrows; i++) {
		for (size_t k = 0; k < PF__COUNT; k++) {
			put_quoted(b, res->rows[i].f[k]);
			buf_putc(b, ',');
		}
		buf_puts(b, res->rows[i].is_test ? "1\r\n" : "\r\n");
	}
}

static void check_round_trip(const struct import_result *res, struct arena *a)
{
	if (res->nrows == 0)
		return;
	_cleanup_buf_ struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	write_rows(res, &b);
	struct import_result again;
	BUG_ON(people_import_csv(buf_slice(&b), a, &again) != 0);
	BUG_ON(again.nproblems != 0 || again.duplicates != 0 || again.nrows != res->nrows);
	for (size_t i = 0; i < res->nrows; i++) {
		BUG_ON(again.rows[i].is_test != res->rows[i].is_test);
		for (size_t k = 0; k < PF__COUNT; k++)
			BUG_ON(strcmp(again.rows[i].f[k], res->rows[i].f[k]) != 0);
	}
}

/* The reader alone, with the other separator. */
static void check_reader(struct slice in, struct arena *a)
{
	struct csv_reader r;
	struct csv_record rec;
	int64_t prev = 0;
	int k;
	csv_reader_init(&r, in, '\t', a);
	while ((k = csv_next_record(&r, &rec)) != 0) {
		BUG_ON(k != 1 && k != -EINVAL && k != -E2BIG && k != -ENOMEM);
		if (k == -ENOMEM)
			return;
		BUG_ON(r.record_line <= prev || r.pos > in.len);
		prev = r.record_line;
		if (k < 0)
			continue;
		BUG_ON(rec.nfields < 1 || rec.nfields > CSV_MAX_FIELDS);
		for (size_t i = 0; i < rec.nfields; i++)
			BUG_ON(rec.fields[i].len > CSV_MAX_FIELD_LEN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = { (const char *)data, size };
	struct arena *a = arena_new((size_t)64 << 20);
	struct import_result res;
	int r = people_import_csv(in, a, &res);
	BUG_ON(r != 0 && r != -ENOMEM);
	if (r == 0) {
		check_result(&res);
		check_round_trip(&res, a);
	}
	check_reader(in, a);
	arena_free(a);
	return 0;
}
