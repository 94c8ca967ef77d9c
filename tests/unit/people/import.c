/* Unit tests for src/people/import.c: the recipient CSV import and template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <iconv.h>

#include "core/csv.h"
#include "people/people.h"

#define BOM "\xEF\xBB\xBF"
#define JA_HEADER "姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象"

/* ---- helpers ---- */

/* Checks what every result must satisfy, then returns it. */
static void check_invariants(const struct import_result *res)
{
	assert_true(res->nrows + (size_t)res->duplicates <= (size_t)res->total_records);
	for (size_t i = 0; i < res->nrows; i++) {
		const struct person *p = &res->rows[i];
		for (size_t k = 0; k < PF__COUNT; k++)
			assert_non_null(p->f[k]);
		assert_true(people_email_valid(slice_from(p->f[PF_EMAIL]), NULL, NULL));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(p->f[PF_EMAIL], res->rows[j].f[PF_EMAIL]);
	}
	for (size_t i = 0; i < res->nproblems; i++) {
		const struct import_problem *q = &res->problems[i];
		assert_true(q->line >= 1);
		assert_non_null(q->column);
		assert_non_null(q->value);
		assert_non_null(q->code);
		assert_non_null(q->reason);
		assert_true(strlen(q->reason) > 5);
	}
}

static struct import_result import_n(struct arena *a, const char *csv, size_t len)
{
	struct import_result res;
	memset(&res, 0xAA, sizeof(res));
	assert_int_equal(people_import_csv((struct slice){ csv, len }, a, &res), 0);
	check_invariants(&res);
	return res;
}

static struct import_result import(struct arena *a, const char *csv)
{
	return import_n(a, csv, strlen(csv));
}

static void assert_problem(const struct import_result *res, size_t i, int64_t line,
			   const char *column, const char *value, const char *code)
{
	if (i >= res->nproblems)
		fail_msg("problem %zu of %zu wanted (%s)", i, res->nproblems, code);
	const struct import_problem *q = &res->problems[i];
	if (q->line != line || strcmp(q->column, column) || strcmp(q->value, value) ||
	    strcmp(q->code, code))
		fail_msg("problem %zu: got line %lld column [%s] value [%s] code %s (%s)\n"
			 "             want line %lld column [%s] value [%s] code %s",
			 i, (long long)q->line, q->column, q->value, q->code, q->reason,
			 (long long)line, column, value, code);
}

static void assert_person(const struct person *p, const char *last, const char *first,
			  const char *email, const char *dept, const char *pos, const char *f1,
			  const char *f2, const char *f3, bool is_test)
{
	assert_string_equal(p->f[PF_LAST_NAME], last);
	assert_string_equal(p->f[PF_FIRST_NAME], first);
	assert_string_equal(p->f[PF_EMAIL], email);
	assert_string_equal(p->f[PF_DEPARTMENT], dept);
	assert_string_equal(p->f[PF_POSITION], pos);
	assert_string_equal(p->f[PF_FIELD1], f1);
	assert_string_equal(p->f[PF_FIELD2], f2);
	assert_string_equal(p->f[PF_FIELD3], f3);
	assert_int_equal(p->is_test, is_test);
}

static int setup(void **state)
{
	*state = arena_new(0);
	return 0;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* ---- headers ---- */

/* The template example of the seed document, with its test target. */
static void test_japanese_header(void **state)
{
	struct import_result res = import(*state,
		JA_HEADER "\n"
		"山田,太郎,yamada.taro@kis-sec.co.jp,営業部,部長,10年以上,本社,社員,\n"
		"川田,次郎,kawada.jiro@kis-sec.co.jp,企画部,課長,10年未満,テレワーク,社員,1\n"
		"海田,三郎,umida.saburo@kis-sec.co.jp,サポート部,一般,1年目,本社,派遣社員,\n");
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.total_records, 3);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.nrows, 3);
	assert_person(&res.rows[0], "山田", "太郎", "yamada.taro@kis-sec.co.jp", "営業部", "部長",
		      "10年以上", "本社", "社員", false);
	assert_person(&res.rows[1], "川田", "次郎", "kawada.jiro@kis-sec.co.jp", "企画部", "課長",
		      "10年未満", "テレワーク", "社員", true);
	assert_person(&res.rows[2], "海田", "三郎", "umida.saburo@kis-sec.co.jp", "サポート部",
		      "一般", "1年目", "本社", "派遣社員", false);
}

static void test_english_header_any_order(void **state)
{
	struct import_result res = import(*state,
		" TEST ,Email,field3,Field2,FIELD1,Position,department,First_Name,last_name\r\n"
		"1,a@example.jp,f3,f2,f1,pos,dept,first,last\r\n"
		",b@example.jp\r\n");
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 2);
	assert_person(&res.rows[0], "last", "first", "a@example.jp", "dept", "pos", "f1", "f2", "f3",
		      true);
	/* Fewer fields than headers: the missing ones are empty. */
	assert_person(&res.rows[1], "", "", "b@example.jp", "", "", "", "", "", false);
}

/* Only the address is required; full-width digits and spaces in names. */
static void test_header_variants(void **state)
{
	struct import_result res = import(*state,
		"\xE3\x80\x80メールアドレス\xE3\x80\x80,項目１,項目２, 項目３ \n"
		"x@example.jp,one,two,three\n");
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 1);
	assert_person(&res.rows[0], "", "", "x@example.jp", "", "", "one", "two", "three", false);
}

static void test_bom_and_crlf(void **state)
{
	struct import_result res = import(*state,
		BOM JA_HEADER "\r\n山田,太郎,Yamada@Example.JP,,,,,,\r\n");
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 1);
	assert_string_equal(res.rows[0].f[PF_LAST_NAME], "山田");
	assert_string_equal(res.rows[0].f[PF_EMAIL], "Yamada@example.jp"); /* domain lower-cased */
}

static void test_blank_lines(void **state)
{
	struct import_result res = import(*state,
		"\n"
		"email,last_name\n"
		"\r\n"
		"a@example.jp,A\n"
		",,\n"
		"  ,\xE3\x80\x80\n"
		"bad,B\n"
		"\n");
	assert_int_equal(res.total_records, 2);
	assert_int_equal(res.nrows, 1);
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 7, "email", "bad", "invalid_email"); /* physical line 7 */
}

/* Values lose surrounding ASCII and ideographic spaces; quotes, commas and
 * newlines inside values survive. */
static void test_values(void **state)
{
	struct import_result res = import(*state,
		"email,department,last_name,test\n"
		"  a@example.jp ,\"営業部, 第1課\",\"山\"\"田\",\" 1 \"\n"
		"\xE3\x80\x80" "b@example.jp\xE3\x80\x80,\"複数\n行\",x,１\n"
		"c@example.jp,\"\",,\n");
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 3);
	assert_person(&res.rows[0], "山\"田", "", "a@example.jp", "営業部, 第1課", "", "", "", "",
		      true);
	assert_person(&res.rows[1], "x", "", "b@example.jp", "複数\n行", "", "", "", "", true);
	assert_person(&res.rows[2], "", "", "c@example.jp", "", "", "", "", "", false);
}

/* ---- repeated addresses (上書き) ---- */

static void test_duplicates_last_wins(void **state)
{
	struct import_result res = import(*state,
		"email,last_name\n"
		"a@example.jp,first\n"
		"b@example.jp,B\n"
		"a@EXAMPLE.jp,second\n"          /* same address: domain case differs */
		"A@example.jp,other\n"           /* another address: local part differs */
		"a@example.jp,third\n"
		"c@example.jp,C\n");
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.total_records, 6);
	assert_int_equal(res.duplicates, 2);
	assert_int_equal(res.nrows, 4);
	assert_string_equal(res.rows[0].f[PF_EMAIL], "b@example.jp");
	assert_string_equal(res.rows[1].f[PF_EMAIL], "A@example.jp");
	assert_string_equal(res.rows[2].f[PF_EMAIL], "a@example.jp");
	assert_string_equal(res.rows[2].f[PF_LAST_NAME], "third");
	assert_string_equal(res.rows[3].f[PF_EMAIL], "c@example.jp");
}

/* A later row with a problem does not replace a clean earlier one. */
static void test_duplicate_with_problem(void **state)
{
	struct import_result res = import(*state,
		"email,test\n"
		"a@example.jp,1\n"
		"a@example.jp,yes\n");
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.nrows, 1);
	assert_true(res.rows[0].is_test);
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 3, "test", "yes", "bad_test_flag");
}

/* ---- problems, one code at a time ---- */

static void test_row_problems(void **state)
{
	struct import_result res = import(*state,
		JA_HEADER "\n"
		"山田,太郎,yamada@example,営業部,,,,,\n"       /* 2 invalid_email */
		"川田,次郎,,営業部,,,,,\n"                     /* 3 missing_email */
		"海田,三郎,umida@example.jp,,,,,,2\n"          /* 4 bad_test_flag */
		"ok,,ok@example.jp\n"                          /* 5 fine */
		"x,y,a b@example.jp,,,,,,\n"                   /* 6 invalid_email */
		"x,y,x@example.jp,,,,,,,extra\n"               /* 7 too_many_columns */
		"x,y,y@example.jp,,,,,,,\n");                  /* 8 empty extra field: fine */
	assert_int_equal(res.total_records, 7);
	assert_int_equal(res.nrows, 2);
	assert_string_equal(res.rows[0].f[PF_EMAIL], "ok@example.jp");
	assert_string_equal(res.rows[1].f[PF_EMAIL], "y@example.jp");
	assert_int_equal(res.nproblems, 5);
	assert_problem(&res, 0, 2, "メールアドレス", "yamada@example", "invalid_email");
	assert_problem(&res, 1, 3, "メールアドレス", "", "missing_email");
	assert_problem(&res, 2, 4, "テスト対象", "2", "bad_test_flag");
	assert_problem(&res, 3, 6, "メールアドレス", "a b@example.jp", "invalid_email");
	assert_problem(&res, 4, 7, "", "extra", "too_many_columns");
	assert_string_equal(res.problems[0].reason,
			    "not a valid e-mail address: the domain after the @ needs a dot (like example.co.jp)");
}

/* Several problems of one row are all reported. */
static void test_many_problems_in_one_row(void **state)
{
	char name[300];
	memset(name, 'n', 257);
	name[257] = '\0';
	_cleanup_free_ char *csv = xasprintf("last_name,email,test\n%s,,no\n", name);
	struct import_result res = import(*state, csv);
	assert_int_equal(res.nrows, 0);
	assert_int_equal(res.nproblems, 3);
	assert_int_equal(res.problems[0].line, 2);
	assert_string_equal(res.problems[0].code, "too_long");
	assert_string_equal(res.problems[0].column, "last_name");
	assert_problem(&res, 1, 2, "email", "", "missing_email");
	assert_problem(&res, 2, 2, "test", "no", "bad_test_flag");
}

static void test_too_long(void **state)
{
	char f256[257], f257[258], local[65], domain[200];
	memset(f256, 'a', 256);
	f256[256] = '\0';
	memset(f257, 'b', 257);
	f257[257] = '\0';
	memset(local, 'l', 64);
	local[64] = '\0';
	memset(domain, 'd', 190);
	domain[190] = '\0';
	/* 64 + 1 + 62 + 1 + 62 + 1 + 63 = 254 bytes, and one more. */
	_cleanup_free_ char *email254 = xasprintf("%s@%.62s.%.62s.%.63s", local, domain, domain, domain);
	_cleanup_free_ char *email255 = xasprintf("%sx@%.62s.%.62s.%.63s", local, domain, domain, domain);
	assert_int_equal(strlen(email254), 254);
	_cleanup_free_ char *csv = xasprintf("email,department\n"
					     "a@example.jp,%s\n"
					     "b@example.jp,%s\n"
					     "%s,\n"
					     "%s,\n",
					     f256, f257, email254, email255);
	struct import_result res = import(*state, csv);
	assert_int_equal(res.nrows, 2);
	assert_string_equal(res.rows[0].f[PF_DEPARTMENT], f256);
	assert_string_equal(res.rows[1].f[PF_EMAIL], email254);
	assert_int_equal(res.nproblems, 2);
	assert_int_equal(res.problems[0].line, 3);
	assert_string_equal(res.problems[0].code, "too_long");
	assert_string_equal(res.problems[0].column, "department");
	/* Long values are shortened in the report. */
	assert_true(strlen(res.problems[0].value) < 100);
	assert_int_equal(strncmp(res.problems[0].value, "bbbb", 4), 0);
	assert_int_equal(res.problems[1].line, 5);
	assert_string_equal(res.problems[1].code, "too_long");
	assert_string_equal(res.problems[1].column, "email");
}

/* A shortened value is still UTF-8: it is never cut inside a character. */
static void test_too_long_preview_utf8(void **state)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	buf_puts(&b, "email,部署\na@example.jp,");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "営");
	struct import_result res = import_n(*state, b.p, b.len);
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 2, "部署", res.problems[0].value, "too_long");
	assert_true(utf8_valid(res.problems[0].value, strlen(res.problems[0].value)));
	buf_release(&b);
}

static void test_unknown_column(void **state)
{
	struct import_result res = import(*state,
		"姓,メールアドレス,備考,名\n"
		"山田,a@example.jp,メモ,太郎\n");
	/* Reported, but the known columns still make rows: the API decides. */
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "備考", "備考", "unknown_column");
	assert_int_equal(res.nrows, 1);
	assert_person(&res.rows[0], "山田", "太郎", "a@example.jp", "", "", "", "", "", false);
}

static void test_duplicate_column(void **state)
{
	struct import_result res = import(*state,
		"\n"
		"メールアドレス,項目,email,項目1\n"
		"a@example.jp,x,b@example.jp,y\n");
	assert_int_equal(res.nproblems, 2);
	assert_problem(&res, 0, 2, "email", "email", "duplicate_column");
	assert_problem(&res, 1, 2, "項目1", "項目1", "duplicate_column");
	/* The first of the two is the one read. */
	assert_int_equal(res.nrows, 1);
	assert_string_equal(res.rows[0].f[PF_EMAIL], "a@example.jp");
	assert_string_equal(res.rows[0].f[PF_FIELD1], "x");
}

static void test_missing_header(void **state)
{
	struct import_result res = import(*state, "姓,名,部署\n山田,太郎,営業部\n");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", "", "missing_header");
	assert_int_equal(res.nrows, 0);
	assert_int_equal(res.total_records, 1);

	/* No header row at all: one problem, not one per cell. */
	res = import(*state, "山田,太郎,yamada@example.jp\n川田,次郎,kawada@example.jp\n");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", "山田", "missing_header");
	assert_int_equal(res.nrows, 0);
}

/* A value under a header cell left empty is not dropped silently. */
static void test_unnamed_column(void **state)
{
	struct import_result res = import(*state,
		"email,,last_name,\n"
		"a@example.jp,,A,\n"
		"b@example.jp,note,B\n");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 3, "", "note", "too_many_columns");
	assert_non_null(strstr(res.problems[0].reason, "column 2"));
	assert_int_equal(res.nrows, 1);
}

#define BAD_ENCODING "the file is neither UTF-8, Shift_JIS (CP932) nor UTF-16"

static void test_bad_encoding(void **state)
{
	/* A lead byte without its trail byte on line 3 (lines 1–2 are ASCII,
	 * line 3 is neither UTF-8 nor CP932). */
	struct import_result res = import(*state,
		"email,last_name\r\na@example.jp,x\r\nb@example.jp,\x8E\x52\x93\r\n");
	assert_int_equal(res.nrows, 0);
	assert_int_equal(res.total_records, 0);
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 3, "", "", "bad_encoding");
	assert_string_equal(res.problems[0].reason, BAD_ENCODING);
	assert_null(res.encoding);
	assert_int_equal(res.separator, ',');

	/* Lines ending in a lone CR count too, and so does a NUL byte. */
	res = import_n(*state, "email\ra@example.jp\rb\0@example.jp\r", 33);
	assert_problem(&res, 0, 3, "", "", "bad_encoding");
	/* UTF-16 with a lone surrogate on line 2. */
	res = import_n(*state, "\xFF\xFE" "e\0\n\0\x00\xD8", 8);
	assert_problem(&res, 0, 2, "", "", "bad_encoding");
	/* A binary file: an .xlsx uploaded instead of its CSV. */
	res = import_n(*state, "PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0", 14);
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", "", "bad_encoding");
	/* A UTF-8 file with one broken byte on line 4 is reported there (as
	 * CP932 it would fail sooner, on line 2). */
	res = import(*state, "email,姓\na@example.jp,山田\nb@example.jp,川田\nc@example.jp,\xE5\xB7\n");
	assert_problem(&res, 0, 4, "", "", "bad_encoding");
}

/* ---- encodings and separators (issue 3) ---- */

/* s (UTF-8) converted by iconv, after prefix. */
static void convert_to(const char *to, const char *prefix, size_t prefix_len, const char *s, struct buf *out)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	assert_true(cd != (iconv_t)-1);
	size_t max = strlen(s) * 4 + 16;
	char *o = xmalloc(max), *op = o, *in = (char *)s;
	size_t ileft = strlen(s), oleft = max;
	assert_int_not_equal(iconv(cd, &in, &ileft, &op, &oleft), (size_t)-1);
	iconv_close(cd);
	assert_int_equal(buf_append(out, prefix, prefix_len), 0);
	assert_int_equal(buf_append(out, o, max - oleft), 0);
	free(o);
}

static struct import_result import_converted(struct arena *a, const char *to, const char *prefix,
					     size_t prefix_len, const char *utf8)
{
	struct buf b = BUF_INIT(0);
	convert_to(to, prefix, prefix_len, utf8, &b);
	/* The result is in the arena: the file may go right away. */
	struct import_result res = import_n(a, b.p, b.len);
	memset(b.p, 'X', b.len);
	buf_release(&b);
	return res;
}

static void test_utf8_result_fields(void **state)
{
	struct import_result res = import(*state, BOM JA_HEADER "\r\n山田,太郎,a@example.jp\r\n");
	assert_string_equal(res.encoding, "utf-8");
	assert_int_equal(res.separator, ',');
	res = import(*state, "email\na@example.jp\n");
	assert_string_equal(res.encoding, "utf-8");
}

/* Shift_JIS as iconv writes it: ① ㈱ ～ and the IBM extensions survive. */
static void test_cp932(void **state)
{
	struct import_result res = import_converted(*state, "CP932", "", 0,
		JA_HEADER "\r\n"
		"山田,太郎,yamada@example.co.jp,営業部,①課長,㈱テスト,～,髙﨑,\r\n"
		"川田,次郎,kawada@example.co.jp,\"総務部, 第2課\",〜,−,‖,¬,１\r\n");
	assert_string_equal(res.encoding, "cp932");
	assert_int_equal(res.separator, ',');
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 2);
	assert_person(&res.rows[0], "山田", "太郎", "yamada@example.co.jp", "営業部", "①課長", "㈱テスト",
		      "～", "髙﨑", false);
	/* 〜 − ‖ ¬ were written as Windows writes them and read as Windows
	 * reads them back: ～ － ∥ ￢. */
	assert_person(&res.rows[1], "川田", "次郎", "kawada@example.co.jp", "総務部, 第2課", "～", "－",
		      "∥", "￢", true);
}

/* The bytes Excel on Japanese Windows saves as "CSV (カンマ区切り)":
 * CRLF records, LF in a quoted cell, 髙 as 0xFBFC, half-width katakana. */
static const char excel_cp932[] =
	"\x90\xA9,\x96\xBC,\x83\x81\x81[\x83\x8B\x83" "A\x83h\x83\x8C\x83X,\x95\x94\x8F\x90,\x96\xF0\x90"
	"E,\x8D\x80\x96\xDA,\x8D\x80\x96\xDA" "2,\x8D\x80\x96\xDA" "3,\x83" "e\x83X\x83g\x91\xCE\x8F\xDB\r\n"
	"\x8ER\x93" "c,\x91\xBE\x98Y,yamada.taro@example.co.jp,\x89" "c\x8B\xC6\x95\x94,\x95\x94\x92\xB7,"
	"\x87@,\x87\x8A\x83" "e\x83X\x83g,\x81`,\r\n"
	"\xFB\xFC\x8B\xB4,\"\x89\xD4\x8Eq,\"\"\x83n\x83i\"\"\",takahashi@example.co.jp,\"\x91\x8D\x96\xB1\x95\x94\n"
	"\x91\xE6" "2\x89\xDB\",\xB6\xC0\xB6\xC5,\x81" "a,\x81|,\x81\xCA,1\r\n"
	"x,y,bad@,,,,,,\r\n";

static void test_cp932_excel_bytes(void **state)
{
	struct import_result res = import_n(*state, excel_cp932, sizeof(excel_cp932) - 1);
	assert_string_equal(res.encoding, "cp932");
	assert_int_equal(res.nrows, 2);
	assert_person(&res.rows[0], "山田", "太郎", "yamada.taro@example.co.jp", "営業部", "部長", "①",
		      "㈱テスト", "～", false);
	assert_person(&res.rows[1], "髙橋", "花子,\"ハナ\"", "takahashi@example.co.jp", "総務部\n第2課",
		      "ｶﾀｶﾅ", "∥", "－", "￢", true);
	/* The quoted line break counts: the bad row is on line 5. */
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 5, "メールアドレス", "bad@", "invalid_email");
}

/* Quoted newlines in CP932 keep the line numbers of what follows. */
static void test_cp932_quoted_newlines(void **state)
{
	struct import_result res = import_converted(*state, "CP932", "", 0,
		"メールアドレス,部署\r\n"
		"a@example.jp,\"営業部\r\n第1課\r\n㈱本社\"\r\n"
		"b@example.jp,\"未完\r\n"
		"c@example.jp,①\r\n"
		"d@例え.jp,～\r\n");
	assert_int_equal(res.nrows, 3);
	assert_string_equal(res.rows[0].f[PF_DEPARTMENT], "営業部\r\n第1課\r\n㈱本社");
	assert_string_equal(res.rows[1].f[PF_DEPARTMENT], "①");
	assert_string_equal(res.rows[2].f[PF_EMAIL], "d@xn--r8jz45g.jp");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 5, "部署", "", "bad_quote");
}

/* Excel's "Unicode text": UTF-16LE with a BOM, tab-separated. */
static void test_utf16le_tabs(void **state)
{
	struct import_result res = import_converted(*state, "UTF-16LE", "\xFF\xFE", 2,
		"姓\t名\tメールアドレス\t部署\tテスト対象\r\n"
		"山田\t太郎\tyamada@example.co.jp\t\"営業部, 第1課\"\t\r\n"
		"川田\t次郎\tkawada@例え.jp\t\"a\tb\"\t1\r\n"
		"\t\t\t\t\r\n");
	assert_string_equal(res.encoding, "utf-16le");
	assert_int_equal(res.separator, '\t');
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 2);
	assert_person(&res.rows[0], "山田", "太郎", "yamada@example.co.jp", "営業部, 第1課", "", "", "", "",
		      false);
	assert_person(&res.rows[1], "川田", "次郎", "kawada@xn--r8jz45g.jp", "a\tb", "", "", "", "", true);
}

static void test_utf16be(void **state)
{
	struct import_result res = import_converted(*state, "UTF-16BE", "\xFE\xFF", 2,
		"email,last_name\n𠮷@example.jp,x\na@example.jp,𠮷野〜\n");
	assert_string_equal(res.encoding, "utf-16be");
	assert_int_equal(res.separator, ',');
	assert_int_equal(res.nrows, 1);
	assert_string_equal(res.rows[0].f[PF_LAST_NAME], "𠮷野〜");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 2, "email", "𠮷@example.jp", "invalid_email");
	assert_non_null(strstr(res.problems[0].reason, "ASCII"));
}

/* Rows with fewer fields than the header, and with more. */
static void test_ragged_rows(void **state)
{
	struct import_result res = import_converted(*state, "CP932", "", 0,
		"メールアドレス,姓,名,部署\r\n"
		"a@example.jp\r\n"
		"b@example.jp,川田\r\n"
		"c@example.jp,海田,三郎,開発部,,,\r\n"
		"d@example.jp,x,y,z,余分\r\n");
	assert_int_equal(res.nrows, 3);
	assert_person(&res.rows[0], "", "", "a@example.jp", "", "", "", "", "", false);
	assert_person(&res.rows[1], "川田", "", "b@example.jp", "", "", "", "", "", false);
	assert_person(&res.rows[2], "海田", "三郎", "c@example.jp", "開発部", "", "", "", "", false);
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 5, "", "余分", "too_many_columns");

	res = import(*state, "email\tlast_name\na@example.jp\nb@example.jp\tB\tC\n");
	assert_int_equal(res.separator, '\t');
	assert_int_equal(res.nrows, 1);
	assert_problem(&res, 0, 3, "", "C", "too_many_columns");
}

static void test_header_only(void **state)
{
	struct import_result res = import_converted(*state, "CP932", "", 0, JA_HEADER "\r\n");
	assert_string_equal(res.encoding, "cp932");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", "", "empty_file");
	res = import_converted(*state, "UTF-16LE", "\xFF\xFE", 2, "メールアドレス\t姓\r\n\t\r\n");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", "", "empty_file");
	/* Nothing but a UTF-16 BOM. */
	res = import_n(*state, "\xFF\xFE", 2);
	assert_string_equal(res.encoding, "utf-16le");
	assert_problem(&res, 0, 1, "", "", "empty_file");
}

/* A 10 MB line is reported as too long, whatever it holds. */
static void test_ten_megabyte_line(void **state)
{
	size_t big = (size_t)10 << 20;
	struct buf b = BUF_INIT((size_t)64 << 20);
	buf_puts(&b, "email,部署\r\na@example.jp,x\r\nb@example.jp,");
	for (size_t i = 0; i < big; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\r\nc@example.jp,y\r\n");
	struct import_result res = import_n(*state, b.p, b.len);
	assert_int_equal(res.nrows, 2);
	assert_int_equal(res.nproblems, 1);
	assert_int_equal(res.problems[0].line, 3);
	assert_string_equal(res.problems[0].code, "too_long");
	assert_string_equal(res.problems[0].column, "部署");
	assert_true(strlen(res.problems[0].value) < 100);

	/* The same line as the header: nothing else can be read. */
	buf_reset(&b);
	for (size_t i = 0; i < big; i++)
		buf_putc(&b, 'h');
	buf_puts(&b, "\na@example.jp\n");
	res = import_n(*state, b.p, b.len);
	assert_int_equal(res.nrows, 0);
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", res.problems[0].value, "too_long");

	/* 10 MB of CP932 (5 million あ, 15 MB once UTF-8) in a quoted field. */
	buf_reset(&b);
	buf_puts(&b, "email,last_name\r\na@example.jp,\"");
	for (size_t i = 0; i < big / 2; i++)
		buf_append(&b, "\x82\xA0", 2);
	buf_puts(&b, "\"\r\nb@example.jp,\x8E\x52\r\n");
	res = import_n(*state, b.p, b.len);
	assert_string_equal(res.encoding, "cp932");
	assert_int_equal(res.nrows, 1);
	assert_string_equal(res.rows[0].f[PF_LAST_NAME], "山");
	assert_problem(&res, 0, 2, "last_name", res.problems[0].value, "too_long");
	assert_true(utf8_valid(res.problems[0].value, strlen(res.problems[0].value)));

	/* One 10 MB line of commas: too many columns. */
	buf_reset(&b);
	buf_puts(&b, "email\n");
	for (size_t i = 0; i < big; i++)
		buf_putc(&b, ',');
	res = import_n(*state, b.p, b.len);
	assert_problem(&res, 0, 2, "", "", "too_many_columns");
	buf_release(&b);
}

/* Internationalised and full-width addresses are stored as A-labels and
 * ASCII, and repeat each other in those forms. */
static void test_idn_addresses(void **state)
{
	struct import_result res = import(*state,
		"email,last_name\n"
		"user@例え.jp,first\n"
		"Ｕｓｅｒ＠ＥＸＡＭＰＬＥ．ｃｏ．ｊｐ,full-width\n"
		"user@xn--r8jz45g.jp,second\n"
		"User@example.co.jp,again\n"
		"山田@例え.jp,local\n");
	assert_int_equal(res.duplicates, 2);
	assert_int_equal(res.nrows, 2);
	assert_string_equal(res.rows[0].f[PF_EMAIL], "user@xn--r8jz45g.jp");
	assert_string_equal(res.rows[0].f[PF_LAST_NAME], "second");
	assert_string_equal(res.rows[1].f[PF_EMAIL], "User@example.co.jp");
	assert_string_equal(res.rows[1].f[PF_LAST_NAME], "again");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 6, "email", "山田@例え.jp", "invalid_email");
	assert_non_null(strstr(res.problems[0].reason, "non-ASCII"));
}

/* Kunren's CSV writers put a ' before = + - @; the import takes one off. */
static void test_formula_guard(void **state)
{
	struct import_result res = import(*state,
		"email,last_name,first_name,department,position,field1\n"
		"'=x@example.jp,'=SUM(A1),\"'+81 3\",'-,'@home,''=two\n"
		"a@example.jp,'0123,',''',' abc,'=\n");
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 2);
	assert_person(&res.rows[0], "=SUM(A1)", "+81 3", "=x@example.jp", "-", "@home", "'=two", "", "",
		      false);
	assert_person(&res.rows[1], "'0123", "'", "a@example.jp", "'''", "' abc", "=", "", "", false);
}

/* ---- one recipient ---- */

static void test_person_check(void **state)
{
	struct person p = { .f = { " 山田\xE3\x80\x80", "太郎", "Ｙａｍａｄａ＠例え．ｊｐ ", NULL, "", "a",
				   "b", "c" }, .is_test = true };
	struct import_problem *pr = (void *)1;
	size_t n = 99;
	assert_int_equal(people_person_check(&p, *state, &pr, &n), 0);
	assert_int_equal(n, 0);
	assert_null(pr);
	/* The values as stored: trimmed, the address normalised. */
	assert_person(&p, "山田", "太郎", "Yamada@xn--r8jz45g.jp", "", "", "a", "b", "c", true);

	char long_name[300];
	memset(long_name, 'n', 257);
	long_name[257] = '\0';
	struct person q = { .f = { long_name, "", "山田@example.jp", "", "", "", "", "\xFF" } };
	struct person before = q;
	assert_int_equal(people_person_check(&q, *state, &pr, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pr[0].line, 0);
	assert_string_equal(pr[0].column, "last_name");
	assert_string_equal(pr[0].code, "too_long");
	assert_string_equal(pr[1].column, "email");
	assert_string_equal(pr[1].code, "invalid_email");
	assert_string_equal(pr[1].value, "山田@example.jp");
	assert_non_null(strstr(pr[1].reason, "ASCII"));
	assert_string_equal(pr[2].column, "field3");
	assert_string_equal(pr[2].code, "bad_encoding");
	assert_memory_equal(&q, &before, sizeof(q)); /* untouched */

	struct person e = { .f = { "x" } };
	assert_int_equal(people_person_check(&e, *state, &pr, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(pr[0].code, "missing_email");
	assert_string_equal(pr[0].column, "email");
}

static void test_empty_file(void **state)
{
	struct import_result res = import(*state, "");
	assert_problem(&res, 0, 1, "", "", "empty_file");
	res = import(*state, BOM);
	assert_problem(&res, 0, 1, "", "", "empty_file");
	res = import(*state, "\r\n,,,\r\n");
	assert_problem(&res, 0, 1, "", "", "empty_file");
	res = import(*state, BOM JA_HEADER "\r\n\r\n");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", "", "empty_file");
	assert_int_equal(res.nrows, 0);
	assert_int_equal(res.total_records, 0);
}

static void test_bad_quote(void **state)
{
	struct import_result res = import(*state,
		"email,last_name\n"
		"a@example.jp,\"multi\nline\"\n"
		"b@example.jp,ya\"mada\n"          /* 4: stray quote */
		"c@example.jp,\"unterminated\n"    /* 5: resumes on line 6 */
		"d@example.jp,D\n");
	assert_int_equal(res.total_records, 4);
	assert_int_equal(res.nrows, 2);
	assert_string_equal(res.rows[0].f[PF_LAST_NAME], "multi\nline");
	assert_string_equal(res.rows[1].f[PF_EMAIL], "d@example.jp");
	assert_int_equal(res.nproblems, 2);
	assert_problem(&res, 0, 4, "last_name", "", "bad_quote");
	assert_problem(&res, 1, 5, "last_name", "", "bad_quote");
	assert_non_null(strstr(res.problems[1].reason, "never closed"));

	/* A broken header row leaves nothing to read. */
	res = import(*state, "email,\"name\nx@example.jp\n");
	assert_int_equal(res.nproblems, 1);
	assert_problem(&res, 0, 1, "", "", "bad_quote");
	assert_int_equal(res.nrows, 0);
}

static void test_reader_caps(void **state)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	buf_puts(&b, "email,last_name\na@example.jp,");
	for (int i = 0; i < 70000; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\nb@example.jp");
	for (int i = 0; i < 300; i++)
		buf_putc(&b, ',');
	buf_puts(&b, "\nc@example.jp\n");
	struct import_result res = import_n(*state, b.p, b.len);
	assert_int_equal(res.total_records, 3);
	assert_int_equal(res.nrows, 1);
	assert_int_equal(res.nproblems, 2);
	assert_int_equal(res.problems[0].line, 2);
	assert_string_equal(res.problems[0].code, "too_long");
	assert_string_equal(res.problems[0].column, "last_name");
	assert_problem(&res, 1, 3, "", "", "too_many_columns");
	buf_release(&b);
}

/* ---- scale, memory, template ---- */

static void test_thousand_rows(void **state)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	buf_puts(&b, BOM JA_HEADER "\r\n");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "姓%d,名%d,user%04d@Example.co.jp,部署%d,役職,\"a,b\",,,%s\r\n", i, i, i,
			   i % 7, i % 100 == 0 ? "1" : "");
	/* The first ten again at the end: they win. */
	for (int i = 0; i < 10; i++)
		buf_printf(&b, "新%d,,user%04d@example.CO.JP\r\n", i, i);
	struct import_result res = import_n(*state, b.p, b.len);
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.total_records, 1010);
	assert_int_equal(res.duplicates, 10);
	assert_int_equal(res.nrows, 1000);
	assert_string_equal(res.rows[0].f[PF_EMAIL], "user0010@example.co.jp");
	assert_string_equal(res.rows[989].f[PF_EMAIL], "user0999@example.co.jp");
	assert_string_equal(res.rows[990].f[PF_LAST_NAME], "新0");
	assert_string_equal(res.rows[990].f[PF_EMAIL], "user0000@example.co.jp");
	assert_string_equal(res.rows[0].f[PF_FIELD1], "a,b");
	size_t tests = 0;
	for (size_t i = 0; i < res.nrows; i++)
		tests += res.rows[i].is_test;
	assert_int_equal(tests, 9); /* user0100 .. user0900; user0000 was replaced */
	buf_release(&b);
}

static void test_arena_full(void **state)
{
	struct arena *small = arena_new(8192);
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	buf_puts(&b, "email,last_name\n");
	for (int i = 0; i < 500; i++)
		buf_printf(&b, "user%d@example.jp,%s\n", i, "山田山田山田山田山田山田");
	struct import_result res = { .nrows = 12345 };
	assert_int_equal(people_import_csv(buf_slice(&b), small, &res), -ENOMEM);
	assert_int_equal(res.nrows, 12345); /* untouched */
	arena_free(small);
	buf_release(&b);
}

static void test_template(void **state)
{
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	assert_int_equal(people_template_csv(&b), 0);
	assert_string_equal(b.p, BOM "姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n"
			    "山田,太郎,yamada.taro@example.co.jp,営業部,部長,10年以上,本社,社員,\r\n");
	/* The template imports cleanly. */
	struct import_result res = import_n(*state, b.p, b.len);
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nrows, 1);
	assert_person(&res.rows[0], "山田", "太郎", "yamada.taro@example.co.jp", "営業部", "部長",
		      "10年以上", "本社", "社員", false);
	buf_release(&b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_japanese_header),
		T(test_english_header_any_order),
		T(test_header_variants),
		T(test_bom_and_crlf),
		T(test_blank_lines),
		T(test_values),
		T(test_duplicates_last_wins),
		T(test_duplicate_with_problem),
		T(test_row_problems),
		T(test_many_problems_in_one_row),
		T(test_too_long),
		T(test_too_long_preview_utf8),
		T(test_unknown_column),
		T(test_duplicate_column),
		T(test_missing_header),
		T(test_unnamed_column),
		T(test_bad_encoding),
		T(test_utf8_result_fields),
		T(test_cp932),
		T(test_cp932_excel_bytes),
		T(test_cp932_quoted_newlines),
		T(test_utf16le_tabs),
		T(test_utf16be),
		T(test_ragged_rows),
		T(test_header_only),
		T(test_ten_megabyte_line),
		T(test_idn_addresses),
		T(test_formula_guard),
		T(test_person_check),
		T(test_empty_file),
		T(test_bad_quote),
		T(test_reader_caps),
		T(test_thousand_rows),
		T(test_arena_full),
		T(test_template),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
