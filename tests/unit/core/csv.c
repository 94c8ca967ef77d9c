/* Unit tests for src/core/csv.c: the RFC 4180 reader and the Excel encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>

#include "core/csv.h"

static const char *err_name(enum csv_error e)
{
	switch (e) {
	case CSV_OK: return "ok";
	case CSV_ERR_UNTERMINATED_QUOTE: return "unterminated";
	case CSV_ERR_STRAY_QUOTE: return "stray";
	case CSV_ERR_AFTER_QUOTE: return "after";
	case CSV_ERR_TOO_MANY_FIELDS: return "fields";
	case CSV_ERR_FIELD_TOO_LONG: return "long";
	}
	return "?";
}

/* Invariants of one returned record: it starts where the reader says, at
 * or after the previous one, and every field lies in the input or in a
 * copy (never partly in the input). */
static void check_record(const struct csv_reader *r, const struct csv_record *rec, struct slice in,
			 int64_t prev_line)
{
	assert_int_equal(rec->line, r->record_line);
	assert_true(rec->line > prev_line);
	assert_true(rec->nfields >= 1 && rec->nfields <= CSV_MAX_FIELDS);
	assert_int_equal(r->err, CSV_OK);
	for (size_t i = 0; i < rec->nfields; i++) {
		const char *p = rec->fields[i].p;
		bool inside = p >= in.p && p <= in.p + in.len;
		if (inside)
			assert_true(p + rec->fields[i].len <= in.p + in.len);
		assert_true(rec->fields[i].len <= CSV_MAX_FIELD_LEN);
	}
}

/*
 * Reads all of `in` and renders it: records separated by spaces, each as
 * its line and its fields in <>, e.g. "1<a><b> 3<c>"; a rejected record as
 * line!error@error_line#field, e.g. "2!stray@2#0".
 */
static char *render(struct slice in, char sep)
{
	struct arena *a = arena_new(0);
	struct csv_reader r;
	struct csv_record rec;
	struct buf b;
	int64_t prev = 0;
	int k;

	buf_init(&b, BUF_MAX_DEFAULT);
	csv_reader_init(&r, in, sep, a);
	while ((k = csv_next_record(&r, &rec)) != 0) {
		if (b.len)
			buf_putc(&b, ' ');
		if (k == 1) {
			check_record(&r, &rec, in, prev);
			buf_printf(&b, "%" PRId64, rec.line);
			for (size_t i = 0; i < rec.nfields; i++)
				buf_printf(&b, "<%.*s>", (int)rec.fields[i].len, rec.fields[i].p);
		} else {
			assert_int_equal(k, r.err == CSV_ERR_TOO_MANY_FIELDS ||
						    r.err == CSV_ERR_FIELD_TOO_LONG ? -E2BIG : -EINVAL);
			assert_true(r.record_line > prev);
			assert_true(r.err_line >= r.record_line);
			buf_printf(&b, "%" PRId64 "!%s@%" PRId64 "#%zu", r.record_line, err_name(r.err),
				   r.err_line, r.err_field);
		}
		prev = r.record_line;
	}
	/* The end stays the end. */
	assert_int_equal(csv_next_record(&r, &rec), 0);
	arena_free(a);
	return buf_steal(&b);
}

static void check_sep(const char *in, char sep, const char *want)
{
	char *got = render(slice_from(in), sep);
	if (strcmp(got, want) != 0)
		fail_msg("input [%s]\n got [%s]\nwant [%s]", in, got, want);
	free(got);
}

static void check(const char *in, const char *want)
{
	check_sep(in, ',', want);
}

static void test_plain(void **state)
{
	check("", "");
	check("a", "1<a>");
	check("a,b,c\nd,e,f\n", "1<a><b><c> 2<d><e><f>");
	check("名前,メール\n山田,y@example.jp\n", "1<名前><メール> 2<山田><y@example.jp>");
	check(" a , b ", "1< a >< b >"); /* spaces are data */
}

static void test_line_endings(void **state)
{
	check("a,b\r\nc,d\r\n", "1<a><b> 2<c><d>");
	check("a\r\nb\nc\rd", "1<a> 2<b> 3<c> 4<d>"); /* CRLF, LF, lone CR, none */
	check("a,b\nc,d", "1<a><b> 2<c><d>");           /* final line without newline */
	check("a\r\n", "1<a>");
	check("a\r", "1<a>");
}

static void test_empty_fields(void **state)
{
	check(",,\n", "1<><><>");
	check("a,b,\n", "1<a><b><>");   /* trailing comma */
	check("a,b,", "1<a><b><>");
	check(",a", "1<><a>");
	check("\n", "1<>");             /* an empty line is one empty field */
	check("a\n\nb\n", "1<a> 2<> 3<b>");
	check("a\r\n\r\n\r\nb", "1<a> 2<> 3<> 4<b>");
}

static void test_quotes(void **state)
{
	check("\"a,b\",\"c\"\"d\"\n", "1<a,b><c\"d>");
	check("\"\",x", "1<><x>");
	check("\"\"\"\"", "1<\">");
	check("\"\"\"a\"\"\",b", "1<\"a\"><b>");
	check("a,\"b\"", "1<a><b>");            /* quoted at the very end */
	check("a,\"b\"\r\nc", "1<a><b> 2<c>");
	check("\"a\",", "1<a><>");
	check("\"a\"\"\"", "1<a\">");
}

static void test_embedded_newlines(void **state)
{
	check("\"x\ny\",z\nnext\n", "1<x\ny><z> 3<next>");
	check("\"x\r\ny\"\r\nn\r\n", "1<x\r\ny> 3<n>");
	check("h\n\"1\n2\n3\",\"4\r5\"\nlast", "1<h> 2<1\n2\n3><4\r5> 6<last>");
	check("\"a\"\"\nb\"\nc", "1<a\"\nb> 3<c>");
}

static void test_unterminated_quote(void **state)
{
	/* Resumes on the line after the opening quote. */
	check("a,\"b\nc,d\n", "1!unterminated@1#1 2<c><d>");
	check("\"abc", "1!unterminated@1#0");
	check("x\n\"abc\r\n", "1<x> 2!unterminated@2#0");
	/* The open quote is on line 2 of a record that started on line 1. */
	check("\"x\ny\",\"open\nrest\n", "1!unterminated@2#1 3<rest>");
	check("\"", "1!unterminated@1#0");
	check("a,\"", "1!unterminated@1#1");
}

static void test_stray_quote(void **state)
{
	check("ab\"c,d\ne\n", "1!stray@1#0 2<e>");
	check("a,b\"\ne", "1!stray@1#1 2<e>");
	check("x, \"y\"\nz", "1!stray@1#1 2<z>"); /* a space before the quote */
	check("\"ab\"c,d\ne\n", "1!after@1#0 2<e>");
	check("\"ab\" ,d", "1!after@1#0");
	check("\"a\nb\"x\nc", "1!after@2#0 3<c>");
}

static void test_tab_separator(void **state)
{
	check_sep("a\tb,c\n\"d\te\"\tf", '\t', "1<a><b,c> 2<d\te><f>");
	check_sep("a\t\t\n", '\t', "1<a><><>");
}

/* n fields "x,x,...,x". */
static char *fields(size_t n)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	for (size_t i = 0; i < n; i++)
		buf_puts(&b, i ? ",x" : "x");
	return buf_steal(&b);
}

static void test_field_count_cap(void **state)
{
	char *ok = fields(CSV_MAX_FIELDS), *over = fields(CSV_MAX_FIELDS + 1);
	struct buf in;
	buf_init(&in, BUF_MAX_DEFAULT);
	buf_printf(&in, "%s\n%s\nlast\n", ok, over);

	char *got = render(buf_slice(&in), ',');
	assert_string_equal(strstr(got, " 2!"), " 2!fields@2#256 3<last>");
	assert_int_equal(strncmp(got, "1<x><x>", 7), 0);

	struct arena *a = arena_new(0);
	struct csv_reader r;
	struct csv_record rec;
	csv_reader_init(&r, buf_slice(&in), ',', a);
	assert_int_equal(csv_next_record(&r, &rec), 1);
	assert_int_equal(rec.nfields, CSV_MAX_FIELDS);
	assert_int_equal(csv_next_record(&r, &rec), -E2BIG);
	assert_int_equal(csv_next_record(&r, &rec), 1);
	assert_int_equal(rec.line, 3);
	arena_free(a);
	free(got);
	free(ok);
	free(over);
	buf_release(&in);
}

static void test_field_length_cap(void **state)
{
	struct arena *a = arena_new(0);
	struct csv_reader r;
	struct csv_record rec;
	struct buf in;
	buf_init(&in, BUF_MAX_DEFAULT);
	/* Exactly 64 KiB unquoted; one more; quoted with an escape that
	 * brings it back to exactly 64 KiB; one more again. */
	for (size_t i = 0; i < CSV_MAX_FIELD_LEN; i++)
		buf_putc(&in, 'a');
	buf_puts(&in, "\nb,");
	for (size_t i = 0; i <= CSV_MAX_FIELD_LEN; i++)
		buf_putc(&in, 'b');
	buf_puts(&in, "\n\"");
	for (size_t i = 0; i < CSV_MAX_FIELD_LEN - 1; i++)
		buf_putc(&in, 'c');
	buf_puts(&in, "\"\"\"\n\"");
	for (size_t i = 0; i <= CSV_MAX_FIELD_LEN; i++)
		buf_putc(&in, 'd');
	buf_puts(&in, "\"\nend");

	csv_reader_init(&r, buf_slice(&in), ',', a);
	assert_int_equal(csv_next_record(&r, &rec), 1);
	assert_int_equal(rec.fields[0].len, CSV_MAX_FIELD_LEN);
	assert_int_equal(csv_next_record(&r, &rec), -E2BIG);
	assert_int_equal(r.err, CSV_ERR_FIELD_TOO_LONG);
	assert_int_equal(r.err_field, 1);
	assert_int_equal(r.record_line, 2);
	assert_int_equal(csv_next_record(&r, &rec), 1);
	assert_int_equal(rec.fields[0].len, CSV_MAX_FIELD_LEN);
	assert_int_equal(rec.fields[0].p[CSV_MAX_FIELD_LEN - 1], '"');
	assert_int_equal(csv_next_record(&r, &rec), -E2BIG);
	assert_int_equal(r.err, CSV_ERR_FIELD_TOO_LONG);
	assert_int_equal(csv_next_record(&r, &rec), 1);
	assert_int_equal(rec.line, 5);
	assert_true(slice_eq_str(rec.fields[0], "end"));
	assert_int_equal(csv_next_record(&r, &rec), 0);
	arena_free(a);
	buf_release(&in);
}

/* Unescaped text needs a copy; everything else points into the input. */
static void test_ownership(void **state)
{
	struct arena *a = arena_new(0);
	struct csv_reader r;
	struct csv_record rec;
	struct slice in = SLICE_LIT("plain,\"quoted\",\"es\"\"caped\"");
	csv_reader_init(&r, in, ',', a);
	assert_int_equal(csv_next_record(&r, &rec), 1);
	assert_int_equal(rec.nfields, 3);
	assert_ptr_equal(rec.fields[0].p, in.p);
	assert_ptr_equal(rec.fields[1].p, in.p + 7);
	assert_true(rec.fields[2].p < in.p || rec.fields[2].p > in.p + in.len);
	assert_true(slice_eq_str(rec.fields[2], "es\"caped"));
	arena_free(a);
}

static void test_arena_full(void **state)
{
	struct arena *a = arena_new(8192);
	struct csv_reader r;
	struct csv_record rec;
	struct buf in;
	buf_init(&in, BUF_MAX_DEFAULT);
	buf_puts(&in, "\"\"\"");
	for (size_t i = 0; i < 10000; i++)
		buf_putc(&in, 'x');
	buf_puts(&in, "\"");
	csv_reader_init(&r, buf_slice(&in), ',', a);
	assert_int_equal(csv_next_record(&r, &rec), -ENOMEM);
	arena_free(a);
	buf_release(&in);
}

static void test_error_messages(void **state)
{
	for (int e = CSV_OK; e <= CSV_ERR_FIELD_TOO_LONG; e++) {
		const char *m = csv_error_message((enum csv_error)e);
		assert_non_null(m);
		assert_true(strlen(m) > 5);
	}
	assert_non_null(strstr(csv_error_message(CSV_ERR_UNTERMINATED_QUOTE), "never closed"));
}

/* ---- writing for Excel ---- */

static void test_encode_utf8(void **state)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(csv_encode(SLICE_LIT("姓,名\r\n山田,～〜\r\n"), CSV_UTF8_BOM, &b), 0);
	assert_string_equal(b.p, "\xEF\xBB\xBF姓,名\r\n山田,～〜\r\n");
	buf_release(&b);
	assert_int_equal(csv_encode(SLICE_LIT(""), CSV_UTF8_BOM, &b), 0);
	assert_string_equal(b.p, "\xEF\xBB\xBF");
	buf_release(&b);
}

/* CP932 as Windows writes it: no BOM, the wave-dash family to 0x8160 and
 * its kin, ① ㈱ and the IBM extensions kept. */
static void test_encode_cp932(void **state)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(csv_encode(SLICE_LIT("山田,①㈱～〜−－‖∥¬￢ⅰ纊髙\\~\r\n"), CSV_CP932, &b), 0);
	assert_int_equal(b.len, 35);
	assert_memory_equal(b.p, "\x8E\x52\x93\x63,\x87\x40\x87\x8A\x81\x60\x81\x60\x81\x7C\x81\x7C"
				 "\x81\x61\x81\x61\x81\xCA\x81\xCA\xFA\x40\xFA\x5C\xFB\xFC\\~\r\n", 35);
	buf_release(&b);
}

/* What CP932 lacks, and bytes that are not UTF-8, become one ? each. */
static void test_encode_cp932_missing(void **state)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(csv_encode(SLICE_LIT("a😀b\xFF" "c€d\xE3\x81"), CSV_CP932, &b), 0);
	assert_string_equal(b.p, "a?b?c?d?");
	buf_release(&b);

	/* Longer than iconv's chunk, with a gap in the middle. */
	struct buf in = BUF_INIT(0);
	for (int i = 0; i < 3000; i++)
		buf_puts(&in, "あ");
	buf_puts(&in, "😀");
	for (int i = 0; i < 3000; i++)
		buf_puts(&in, "い");
	assert_int_equal(csv_encode(buf_slice(&in), CSV_CP932, &b), 0);
	assert_int_equal(b.len, 6000 * 2 + 1);
	assert_memory_equal(b.p + 5998, "\x82\xA0?\x82\xA2", 5);
	buf_release(&in);
	buf_release(&b);
}

static void test_encode_cap(void **state)
{
	struct buf b = BUF_INIT(10);
	assert_int_equal(csv_encode(SLICE_LIT("0123456789abc"), CSV_UTF8_BOM, &b), -E2BIG);
	buf_release(&b);
	b = BUF_INIT(10);
	assert_int_equal(csv_encode(SLICE_LIT("あいうえおかきくけこ"), CSV_CP932, &b), -E2BIG);
	assert_true(b.len <= 10);
	buf_release(&b);
}

static void test_encoding_parse(void **state)
{
	enum csv_encoding e = CSV_CP932;
	assert_int_equal(csv_encoding_parse(NULL, &e), 0);
	assert_int_equal(e, CSV_UTF8_BOM);
	e = CSV_CP932;
	assert_int_equal(csv_encoding_parse("", &e), 0);
	assert_int_equal(e, CSV_UTF8_BOM);
	assert_int_equal(csv_encoding_parse("cp932", &e), 0);
	assert_int_equal(e, CSV_CP932);
	assert_int_equal(csv_encoding_parse("utf8", &e), 0);
	assert_int_equal(e, CSV_UTF8_BOM);
	e = CSV_CP932;
	assert_int_equal(csv_encoding_parse("shift_jis", &e), -EINVAL);
	assert_int_equal(csv_encoding_parse("UTF8", &e), -EINVAL);
	assert_int_equal(e, CSV_CP932); /* untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_embedded_newlines),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_stray_quote),
		cmocka_unit_test(test_tab_separator),
		cmocka_unit_test(test_field_count_cap),
		cmocka_unit_test(test_field_length_cap),
		cmocka_unit_test(test_ownership),
		cmocka_unit_test(test_arena_full),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_encode_utf8),
		cmocka_unit_test(test_encode_cp932),
		cmocka_unit_test(test_encode_cp932_missing),
		cmocka_unit_test(test_encode_cap),
		cmocka_unit_test(test_encoding_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
