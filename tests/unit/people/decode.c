/* Unit tests for src/people/decode.c: people_decode, the separator guess and
 * line counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <iconv.h>

#include "people/internal.h"

/* ---- helpers ---- */

/* s (UTF-8) converted with iconv to `to`, prefixed with `prefix`. */
static void convert_to(const char *to, const char *prefix, size_t prefix_len, const char *s, struct buf *out)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	assert_true(cd != (iconv_t)-1);
	size_t max = strlen(s) * 4 + 16;
	char *o = xmalloc(max), *op = o, *in = (char *)s;
	size_t ileft = strlen(s), oleft = max;
	assert_int_not_equal(iconv(cd, &in, &ileft, &op, &oleft), (size_t)-1);
	iconv_close(cd);
	buf_append(out, prefix, prefix_len);
	buf_append(out, o, max - oleft);
	free(o);
}

struct decoded {
	int r;
	struct slice text;
	const char *encoding;
	int64_t bad_line;
};

static struct decoded decode_n(struct arena *a, const char *p, size_t len)
{
	struct decoded d = { .encoding = "untouched", .bad_line = -7 };
	d.text = (struct slice){ "untouched", 9 };
	d.r = people_decode((struct slice){ p, len }, a, &d.text, &d.encoding, &d.bad_line);
	if (d.r == 0) {
		/* Every success is UTF-8 without NUL, as many lines as the input. */
		assert_true(utf8_valid(d.text.p, d.text.len));
		assert_null(memchr(d.text.p, '\0', d.text.len));
		assert_int_equal(d.bad_line, -7);
	} else {
		assert_string_equal(d.encoding, "untouched");
		assert_int_equal(d.text.len, 9);
	}
	return d;
}

static struct decoded decode_buf(struct arena *a, const struct buf *b)
{
	return decode_n(a, b->p, b->len);
}

static void assert_text(struct decoded d, const char *encoding, const char *want)
{
	if (d.r != 0)
		fail_msg("decode failed: %d (line %lld)", d.r, (long long)d.bad_line);
	assert_string_equal(d.encoding, encoding);
	assert_int_equal(d.text.len, strlen(want));
	assert_memory_equal(d.text.p, want, d.text.len);
}

static void assert_bad(struct decoded d, int64_t line)
{
	assert_int_equal(d.r, -EILSEQ);
	assert_int_equal(d.bad_line, line);
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

/* ---- UTF-8 ---- */

static void test_utf8(void **state)
{
	const char *s = "email,姓\r\na@example.jp,山田\r\n";
	struct decoded d = decode_n(*state, s, strlen(s));
	assert_text(d, "utf-8", s);
	assert_ptr_equal(d.text.p, s); /* taken as is, not copied */

	d = decode_n(*state, "", 0);
	assert_text(d, "utf-8", "");

	/* Control bytes other than NUL are UTF-8 all the same. */
	d = decode_n(*state, "a\x01" "b\n", 4);
	assert_text(d, "utf-8", "a\x01" "b\n");
}

static void test_utf8_bom(void **state)
{
	const char *s = "\xEF\xBB\xBF" "姓,名\n";
	struct decoded d = decode_n(*state, s, strlen(s));
	assert_text(d, "utf-8", "姓,名\n");
	assert_ptr_equal(d.text.p, s + 3);

	d = decode_n(*state, "\xEF\xBB\xBF", 3);
	assert_text(d, "utf-8", "");

	/* After a UTF-8 BOM a bad byte is not read as CP932. */
	d = decode_n(*state, "\xEF\xBB\xBF" "a\r\n\x8E\x52\x93\x63\r\n", 12);
	assert_bad(d, 2);
	d = decode_n(*state, "\xEF\xBB\xBF" "a\nb\n\0", 8);
	assert_bad(d, 3);
}

/* ---- CP932 ---- */

/* Made from UTF-8 with iconv: what survives is what Windows reads. */
static void test_cp932_from_iconv(void **state)
{
	struct buf b = BUF_INIT(0);
	/* ① ㈱ ～ 〜 − ‖ ¬, IBM extensions ⅰ 纊 髙 﨑, NEC №, and ASCII \ ~ */
	convert_to("CP932", "", 0, "①㈱～〜−‖¬ⅰ纊髙﨑№\\~", &b);
	/* Windows' bytes: 〜 and ～ are both 0x8160, − is 0x817C ... */
	assert_memory_equal(b.p, "\x87\x40\x87\x8A\x81\x60\x81\x60\x81\x7C\x81\x61\x81\xCA"
				 "\xFA\x40\xFA\x5C\xFB\xFC\xFA\xB1\x87\x82\\~", b.len);
	struct decoded d = decode_buf(*state, &b);
	/* ... and read back as Windows reads them: 0x8160 is U+FF5E ～,
	 * 0x817C U+FF0D －, 0x8161 U+2225 ∥, 0x81CA U+FFE2 ￢. */
	assert_text(d, "cp932", "①㈱～～－∥￢ⅰ纊髙﨑№\\~");
	buf_release(&b);
}

/* The bytes Excel on Japanese Windows writes for "CSV (カンマ区切り)":
 * CP932, CRLF records, LF inside a quoted cell, 髙 as the IBM extension
 * 0xFBFC, half-width katakana as single bytes. */
static const char excel_cp932[] =
	"\x90\xA9,\x96\xBC,\x83\x81\x81[\x83\x8B\x83" "A\x83h\x83\x8C\x83X,\x95\x94\x8F\x90,\x96\xF0\x90"
	"E,\x8D\x80\x96\xDA,\x8D\x80\x96\xDA" "2,\x8D\x80\x96\xDA" "3,\x83" "e\x83X\x83g\x91\xCE\x8F\xDB\r\n"
	"\x8ER\x93" "c,\x91\xBE\x98Y,yamada.taro@example.co.jp,\x89" "c\x8B\xC6\x95\x94,\x95\x94\x92\xB7,"
	"\x87@,\x87\x8A\x83" "e\x83X\x83g,\x81`,\r\n"
	"\xFB\xFC\x8B\xB4,\"\x89\xD4\x8Eq,\"\"\x83n\x83i\"\"\",takahashi@example.co.jp,\"\x91\x8D\x96\xB1\x95\x94\n"
	"\x91\xE6" "2\x89\xDB\",\xB6\xC0\xB6\xC5,\x81" "a,\x81|,\x81\xCA,1\r\n";

static void test_cp932_excel_bytes(void **state)
{
	struct decoded d = decode_n(*state, excel_cp932, sizeof(excel_cp932) - 1);
	assert_text(d, "cp932",
		    "姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象\r\n"
		    "山田,太郎,yamada.taro@example.co.jp,営業部,部長,①,㈱テスト,～,\r\n"
		    "髙橋,\"花子,\"\"ハナ\"\"\",takahashi@example.co.jp,\"総務部\n第2課\",ｶﾀｶﾅ,∥,－,￢,1\r\n");
	assert_int_equal(people__count_lines(d.text), 5);
	assert_int_equal(people__count_lines((struct slice){ excel_cp932, sizeof(excel_cp932) - 1 }), 5);
}

/* The NEC-selected copy of the IBM extensions (0xED/0xEE) reads like the
 * IBM one; user-defined characters (0xF040...) become private use. */
static void test_cp932_extensions(void **state)
{
	struct decoded d = decode_n(*state, "\xED\x40\xFA\x5C\xEE\xEF\xFA\x40\xF0\x40", 10);
	assert_text(d, "cp932", "纊纊ⅰⅰ\xEE\x80\x80");
}

/* Half-width katakana triple in size: the copy is sized for it. */
static void test_cp932_katakana_growth(void **state)
{
	size_t n = 300000;
	char *s = xmalloc(n + 1);
	memset(s, '\xB1', n); /* ｱ */
	s[0] = '\x83';        /* ア, so the text is not UTF-8 from the start */
	s[1] = '\x41';
	struct decoded d = decode_n(*state, s, n);
	assert_int_equal(d.r, 0);
	assert_string_equal(d.encoding, "cp932");
	assert_int_equal(d.text.len, 3 + (n - 2) * 3);
	assert_memory_equal(d.text.p, "アｱｱ", 9);
	free(s);
}

static void test_cp932_line_breaks(void **state)
{
	/* CRLF, LF and a lone CR; 0x5C (\) and 0x7C (|) as trail bytes. */
	const char *s = "\x95\x5C\r\n\x83\x7C\n\x8E\x52\r\x93\x63";
	struct decoded d = decode_n(*state, s, strlen(s));
	assert_text(d, "cp932", "表\r\nポ\n山\r田");
	assert_int_equal(people__count_lines(d.text), 4);
}

/* ---- UTF-16 ---- */

static void test_utf16le_tabs(void **state)
{
	/* Excel's "Unicode text": UTF-16LE with a BOM, tabs, CRLF. */
	const char *text = "姓\tメールアドレス\tテスト対象\r\n山田\ta@example.jp\t1\r\n\"a\tb\"\t𠮷@例え.jp\t\r\n";
	struct buf b = BUF_INIT(0);
	convert_to("UTF-16LE", "\xFF\xFE", 2, text, &b);
	struct decoded d = decode_buf(*state, &b);
	assert_text(d, "utf-16le", text);
	assert_int_equal(people__separator(d.text), '\t');
	buf_release(&b);
}

static void test_utf16be(void **state)
{
	const char *text = "email,姓\n①@example.jp,～〜\n";
	struct buf b = BUF_INIT(0);
	convert_to("UTF-16BE", "\xFE\xFF", 2, text, &b);
	struct decoded d = decode_buf(*state, &b);
	assert_text(d, "utf-16be", text); /* UTF-16 keeps 〜 and ～ apart */
	assert_int_equal(people__separator(d.text), ',');
	buf_release(&b);

	d = decode_n(*state, "\xFE\xFF", 2);
	assert_text(d, "utf-16be", "");
}

static void test_utf16_bad(void **state)
{
	/* A lone high surrogate on line 3. */
	struct decoded d = decode_n(*state, "\xFF\xFE" "a\0\n\0b\0\r\0\n\0\x00\xD8" "c\0", 16);
	assert_bad(d, 3);
	/* A lone low surrogate right after a lone CR: line 2. */
	d = decode_n(*state, "\xFE\xFF" "\0a\0\r\xDC\x00", 8);
	assert_bad(d, 2);
	/* An odd byte at the end. */
	d = decode_n(*state, "\xFF\xFE" "a\0\n\0b", 7);
	assert_bad(d, 2);
	/* A NUL character. */
	d = decode_n(*state, "\xFF\xFE" "a\0\n\0\0\0", 8);
	assert_bad(d, 2);
	/* UTF-32LE's BOM starts like UTF-16LE's, then holds a NUL. */
	d = decode_n(*state, "\xFF\xFE\0\0" "a\0\0\0", 8);
	assert_bad(d, 1);
}

/* ---- neither ---- */

static void test_binary(void **state)
{
	/* A PNG's first bytes (0x89 0x50 is a CP932 character, so CP932 reads
	 * up to the NUL on line 3); a ZIP (an .xlsx); a JPEG. */
	assert_bad(decode_n(*state, "\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16), 3);
	assert_bad(decode_n(*state, "PK\x03\x04\x14\0\x06\0", 8), 1);
	assert_bad(decode_n(*state, "\xFF\xD8\xFF\xE0\0\x10JFIF", 10), 1);
	/* NUL on the third line, in text that is otherwise UTF-8 or CP932. */
	assert_bad(decode_n(*state, "a\nb\nc\0\n", 7), 3);
	assert_bad(decode_n(*state, "\x8E\x52\nb\nc\0\n", 8), 3);
	/* Other control bytes are text in CP932 as in UTF-8. */
	assert_text(decode_n(*state, "\x8E\x52\n\x93\x63\x01\x1A\x7F\n", 9), "cp932", "山\n田\x01\x1A\x7F\n");
}

/* The line reported is where the encoding that read further fails. */
static void test_bad_line_is_the_later_failure(void **state)
{
	/* UTF-8 with one broken byte on line 5 (CP932 fails on line 2: あ is
	 * E3 81 82, and 0x82 then takes the LF as its trail byte). */
	const char *s = "email\nあ\nx\ny\n\xFF\n";
	assert_bad(decode_n(*state, s, strlen(s)), 5);
	/* CP932 (UTF-8 fails on line 2) with a lead byte cut short on line 3. */
	assert_bad(decode_n(*state, "x\n\x8E\x52\n\x81\n", 7), 3);
	/* A lead byte at the very end. */
	assert_bad(decode_n(*state, "\x8E\x52\r\n\x93", 5), 2);
	/* 0x80, 0xA0 and 0xFD–0xFF are not CP932. */
	assert_bad(decode_n(*state, "\x8E\x52\n\xA0\n", 5), 2);
	assert_bad(decode_n(*state, "\x8E\x52\n\n\n\xFD", 6), 4);
}

static void test_arena_full(void **state)
{
	struct arena *small = arena_new(4096);
	char s[10000];
	for (size_t i = 0; i < sizeof(s); i += 2)
		memcpy(s + i, "\x82\xA0", 2); /* あ */
	struct decoded d = decode_n(small, s, sizeof(s));
	assert_int_equal(d.r, -ENOMEM);
	/* UTF-8 is not copied, so it needs no room. */
	d = decode_n(small, "\xEF\xBB\xBF" "email\n", 9);
	assert_text(d, "utf-8", "email\n");
	arena_free(small);
}

/* ---- the separator and lines ---- */

static void test_separator(void **state)
{
	assert_int_equal(people__separator(SLICE_LIT("a\tb\n1\t2\n")), '\t');
	assert_int_equal(people__separator(SLICE_LIT("a,b\tc\n")), ',');
	assert_int_equal(people__separator(SLICE_LIT("a\tb,c\n")), ',');
	/* Commas and tabs inside quotes do not count. */
	assert_int_equal(people__separator(SLICE_LIT("\"a,b\"\tc\n")), '\t');
	assert_int_equal(people__separator(SLICE_LIT("\"a\tb\",c\n")), ',');
	assert_int_equal(people__separator(SLICE_LIT("\"a\nb,c\"\td\n")), '\t');
	/* Lines of nothing but spaces, tabs and commas are passed over. */
	assert_int_equal(people__separator(SLICE_LIT("\r\n\t\t\r\n,,\r\n \r\nemail\tname\r\n")), '\t');
	assert_int_equal(people__separator(SLICE_LIT("\t\t\nemail\n")), ',');
	/* Only the header line is looked at. */
	assert_int_equal(people__separator(SLICE_LIT("email\na\tb\n")), ',');
	assert_int_equal(people__separator(SLICE_LIT("email\tname\na,b\n")), '\t');
	assert_int_equal(people__separator(SLICE_LIT("")), ',');
	assert_int_equal(people__separator(SLICE_LIT("email")), ',');
}

static void test_count_lines(void **state)
{
	assert_int_equal(people__count_lines(SLICE_LIT("")), 1);
	assert_int_equal(people__count_lines(SLICE_LIT("a")), 1);
	assert_int_equal(people__count_lines(SLICE_LIT("a\n")), 2);
	assert_int_equal(people__count_lines(SLICE_LIT("a\r\nb\rc\nd")), 4);
	assert_int_equal(people__count_lines(SLICE_LIT("\r\r\n\n")), 4);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_utf8),
		T(test_utf8_bom),
		T(test_cp932_from_iconv),
		T(test_cp932_excel_bytes),
		T(test_cp932_extensions),
		T(test_cp932_katakana_growth),
		T(test_cp932_line_breaks),
		T(test_utf16le_tabs),
		T(test_utf16be),
		T(test_utf16_bad),
		T(test_binary),
		T(test_bad_line_is_the_later_failure),
		T(test_arena_full),
		T(test_separator),
		T(test_count_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
