/*
 * libFuzzer target for people_import_csv (and under it people_decode and
 * the core CSV reader) and people_addresses_csv.  Beyond "no crash, no
 * leak, no UB" it checks the result's invariants and a round trip: the
 * clean rows, exported with people_export_csv and encoded with csv_encode
 * as UTF-8 with a BOM, import again to exactly the same rows; encoded as
 * CP932 they import again without failing.
 */
#include <stdint.h>

#include "core/csv.h"
#include "people/people.h"

static bool is_known_encoding(const char *e)
{
	return !strcmp(e, "utf-8") || !strcmp(e, "cp932") || !strcmp(e, "utf-16le") ||
	       !strcmp(e, "utf-16be");
}

static void check_problems(const struct import_problem *v, size_t n, bool *ret_bad_encoding)
{
	*ret_bad_encoding = false;
	for (size_t i = 0; i < n; i++) {
		const struct import_problem *q = &v[i];
		BUG_ON(q->line < 1 || !q->column || !q->value || !q->code || !q->reason);
		BUG_ON(!utf8_valid(q->value, strlen(q->value)) || strlen(q->value) > 254);
		BUG_ON(!utf8_valid(q->column, strlen(q->column)));
		if (!strcmp(q->code, "bad_encoding"))
			*ret_bad_encoding = true;
	}
}

static void check_result(const struct import_result *res)
{
	bool bad_encoding;
	BUG_ON(res->total_records < 0 || res->duplicates < 0);
	BUG_ON(res->nrows + (uint64_t)res->duplicates > (uint64_t)res->total_records);
	BUG_ON(res->separator != ',' && res->separator != '\t');
	for (size_t i = 0; i < res->nrows; i++) {
		const struct person *p = &res->rows[i];
		for (size_t k = 0; k < PF__COUNT; k++)
			BUG_ON(!p->f[k] || strlen(p->f[k]) > 256 || !utf8_valid(p->f[k], strlen(p->f[k])));
		BUG_ON(!people_email_valid(slice_from(p->f[PF_EMAIL]), NULL, NULL));
	}
	check_problems(res->problems, res->nproblems, &bad_encoding);
	/* Undecodable: one problem, nothing read, no encoding named. */
	BUG_ON(bad_encoding != (res->encoding == NULL));
	BUG_ON(bad_encoding && (res->nproblems != 1 || res->nrows || res->total_records));
	BUG_ON(res->encoding && !is_known_encoding(res->encoding));
}

static void check_round_trip(const struct import_result *res, struct arena *a)
{
	if (res->nrows == 0)
		return;
	_cleanup_buf_ struct buf text = BUF_INIT(0), file = BUF_INIT(0);
	BUG_ON(people_export_csv(res->rows, res->nrows, &text) != 0);
	BUG_ON(csv_encode(buf_slice(&text), CSV_UTF8_BOM, &file) != 0);
	struct import_result again;
	BUG_ON(people_import_csv(buf_slice(&file), a, &again) != 0);
	BUG_ON(again.nproblems != 0 || again.duplicates != 0 || again.nrows != res->nrows);
	BUG_ON(strcmp(again.encoding, "utf-8") || again.separator != ',');
	for (size_t i = 0; i < res->nrows; i++) {
		BUG_ON(again.rows[i].is_test != res->rows[i].is_test);
		for (size_t k = 0; k < PF__COUNT; k++)
			BUG_ON(strcmp(again.rows[i].f[k], res->rows[i].f[k]) != 0);
	}

	/* CP932 may change characters (those it lacks become ?, ¬ becomes ￢,
	 * which may make a value too long) but never the addresses. */
	buf_reset(&file);
	BUG_ON(csv_encode(buf_slice(&text), CSV_CP932, &file) != 0);
	BUG_ON(people_import_csv(buf_slice(&file), a, &again) != 0);
	check_result(&again);
	BUG_ON(again.nrows + (size_t)again.duplicates + again.nproblems < res->nrows);
	for (size_t i = 0; again.nproblems == 0 && i < again.nrows; i++)
		BUG_ON(strcmp(again.rows[i].f[PF_EMAIL], res->rows[i].f[PF_EMAIL]) != 0);
}

/* The reader alone, with each separator. */
static void check_reader(struct slice in, char sep, struct arena *a)
{
	struct csv_reader r;
	struct csv_record rec;
	int64_t prev = 0;
	int k;
	csv_reader_init(&r, in, sep, a);
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

static void check_addresses(struct slice in, struct arena *a)
{
	const char **emails;
	struct import_problem *problems;
	size_t n, np;
	bool bad_encoding;
	int r = people_addresses_csv(in, a, &emails, &n, &problems, &np);
	BUG_ON(r != 0 && r != -ENOMEM);
	if (r < 0)
		return;
	check_problems(problems, np, &bad_encoding);
	for (size_t i = 0; i < n; i++) {
		BUG_ON(!people_email_valid(slice_from(emails[i]), NULL, NULL));
		for (size_t j = 0; j < i && n < 100; j++)
			BUG_ON(!strcmp(emails[i], emails[j]));
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
	check_addresses(in, a);
	check_reader(in, ',', a);
	check_reader(in, '\t', a);
	arena_free(a);
	return 0;
}
