/* Unit tests for src/mail/parse.c: headers, RFC 2047 decoding, MIME walking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/mail.h"

static void expect_decode(const char *in, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mail_header_decode(&b, slice_from(in)), 0);
	if (strcmp(b.p, want) != 0)
		fail_msg("decode(%s) = \"%s\", want \"%s\"", in, b.p, want);
	buf_release(&b);
}

static void test_header_decode_rfc2047_examples(void **state)
{
	(void)state;
	/* RFC 2047 section 8 */
	expect_decode("(=?ISO-8859-1?Q?a?=)", "(a)");
	expect_decode("(=?ISO-8859-1?Q?a?= b)", "(a b)");
	expect_decode("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)");
	expect_decode("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)");
	expect_decode("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)");
	expect_decode("(=?ISO-8859-1?Q?a_b?=)", "(a b)");
	expect_decode("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)");
	expect_decode("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>", "Keld Jørn Simonsen <keld@dkuug.dk>");
	expect_decode("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>");
}

static void test_header_decode_more(void **state)
{
	(void)state;
	expect_decode("  plain\r\n folded\r\n\tvalue  ", "plain folded\tvalue");
	expect_decode("=?utf-8?q?caf=C3=A9?=", "café");
	expect_decode("=?UTF-8?b?44GC?=", "あ");
	expect_decode("=?UTF-8*ja?B?44GC?=", "あ");            /* RFC 2231 language */
	expect_decode("=?UTF-8?B?44E=?= =?UTF-8?B?gg==?=", "あ"); /* a character split over words */
	expect_decode("=?ISO-2022-JP?B?GyRCNzFOfSROJCpDTiRpJDsbKEI=?=", "訓練のお知らせ");
	expect_decode("=?Shift_JIS?B?kL+LgY+R?=", "請求書");
	expect_decode("=?x-unknown?B?44GC?=", "あ");            /* read as UTF-8 */
	expect_decode("=?UTF-8?B?***?= x", "=?UTF-8?B?***?= x"); /* not a word: literal */
	expect_decode("=?UTF-8?Q?bad=Z?=", "=?UTF-8?Q?bad=Z?=");
	expect_decode("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	expect_decode("=?UTF-8?B?44GC", "=?UTF-8?B?44GC");     /* unterminated */
	expect_decode("=?UTF-8?B?YQ==?=", "a");                 /* padding before "?=" */
	expect_decode("=?UTF-8?B?YQ=?=x?=", "ax?=");
	expect_decode("=?UTF-8?B?YQ==x?=", "=?UTF-8?B?YQ==x?=");  /* data after the padding */
	expect_decode("=?a.b?B?YQ==?=", "=?a.b?B?YQ==?=");     /* especials in the charset */
	expect_decode("=?UTF-8?B?YQ=?==?UTF-8?B?Yg==?=", "ab");
	expect_decode("a=?UTF-8?B?44GC?=b", "aあb");             /* adjacent text: decoded anyway */
	expect_decode("=?UTF-8?B?/w==?=", "\xEF\xBF\xBD");       /* invalid UTF-8 repaired */
	expect_decode("raw \xff byte", "raw \xEF\xBF\xBD byte");
	expect_decode("raw 日本語 UTF-8", "raw 日本語 UTF-8");
	expect_decode("", "");
}

/* ---- round trip ---- */

struct case_ {
	struct mail_message m;
	const char *want_from, *want_to;
};

static void round_trip(const struct case_ *c)
{
	struct buf b;
	struct arena *a = arena_new(0);
	struct mail_parsed p;
	char *id = NULL;

	buf_init(&b, 0);
	assert_int_equal(mail_build(&c->m, &b, &id), 0);
	assert_int_equal(mail_parse(buf_slice(&b), a, &p), 0);
	assert_string_equal(p.subject, c->m.subject ? c->m.subject : "");
	assert_string_equal(p.from, c->want_from);
	assert_string_equal(p.to, c->want_to);
	assert_string_equal(p.message_id, id);
	assert_non_null(p.text);
	assert_string_equal(p.text, c->m.text ? c->m.text : "");
	if (c->m.html) {
		assert_non_null(p.html);
		assert_string_equal(p.html, c->m.html);
	} else {
		assert_null(p.html);
	}
	assert_true(strlen(p.date) > 20);
	free(id);
	buf_release(&b);
	arena_free(a);
}

static void test_round_trip(void **state)
{
	(void)state;
	const struct tz *tokyo = tz_get("Asia/Tokyo");
	const struct case_ cases[] = {
		{ { .from_name = "情報システム部 セキュリティ推進グループ", .from_addr = "it@example.co.jp",
		    .to_name = "山田 太郎", .to_addr = "taro@example.co.jp",
		    .subject = "【重要】パスワード有効期限のお知らせ：本日中に更新手続きを行ってください。"
			       "更新されない場合、アカウントは停止されます。🔒",
		    .text = "山田様\r\n\r\nパスワードの有効期限が近づいています。\r\nhttps://example.com/r/abc\r\n",
		    .html = "<html><body><p>山田様</p>\n<a href=\"https://example.com/r/abc\">更新</a></body></html>\n",
		    .date = 1795783500, .tz = tokyo, .id_domain = "example.co.jp" },
		  "情報システム部 セキュリティ推進グループ <it@example.co.jp>", "山田 太郎 <taro@example.co.jp>" },
		{ { .from_name = "Smith, John", .from_addr = "j@example.com", .to_addr = "t@example.com",
		    .subject = "Quarterly report =?not-a-word?= and more text that is long enough to be folded at spaces",
		    .text = "Plain\n.\n..leading dots\nend", .html = "", .date = 1 },
		  "\"Smith, John\" <j@example.com>", "t@example.com" },
		{ { .from_addr = "a@b", .to_name = "🐟🐠🐡 fish", .to_addr = "c@d", .subject = "",
		    .text = NULL, .html = NULL, .date = 2 },
		  "a@b", "🐟🐠🐡 fish <c@d>" },
		{ { .from_name = "Ada", .from_addr = "a@b", .to_addr = "c@d", .subject = "x",
		    .text = "only text ☃", .date = 3 },
		  "Ada <a@b>", "c@d" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		round_trip(&cases[i]);
}

/* ---- messages from elsewhere ---- */

static const char mixed_message[] =
	"Return-Path: <x@example.org>\n"
	"From: =?ISO-2022-JP?B?GyRCNzFOfSROJCpDTiRpJDsbKEI=?=\n"
	" <news@example.org>\n"
	"To: someone@example.net\n"
	"Subject: =?iso-8859-1?q?caf=E9?=\n"
	"\t=?UTF-8?Q?_=E2=98=95?=\n"
	"Date: Mon, 6 Apr 2026 10:03:00 +0900\n"
	"Message-Id:\n"
	" <abc.123@example.org>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: Multipart/Mixed;\n"
	"\tboundary=\"outer \\\"b\\\"\"\n"
	"\n"
	"preamble, ignored\n"
	"--outer \"b\"\n"
	"Content-Type: multipart/alternative; boundary=inner\n"
	"\n"
	"--inner\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Caf=E9 au lait, soft=\n"
	"ly broken.   \n"
	"--inner\n"
	"Content-Type: text/html; charset=\"utf-8\"\n"
	"Content-Transfer-Encoding: BASE64\n"
	"\n"
	"PHA+Q2Fmw6k8\n"
	"L3A+\n"
	"--inner--\n"
	"--outer \"b\"\n"
	"Content-Type: text/plain; name=notes.txt\n"
	"Content-Disposition: attachment; filename=notes.txt\n"
	"\n"
	"not the body\n"
	"--outer \"b\"--\n"
	"epilogue\n";

static void test_parse_nested_multipart(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct mail_parsed p;

	assert_int_equal(mail_parse(slice_from(mixed_message), a, &p), 0);
	assert_string_equal(p.from, "訓練のお知らせ <news@example.org>");
	assert_string_equal(p.to, "someone@example.net");
	assert_string_equal(p.subject, "café ☕");
	assert_string_equal(p.date, "Mon, 6 Apr 2026 10:03:00 +0900");
	assert_string_equal(p.message_id, "abc.123@example.org");
	assert_string_equal(p.text, "Café au lait, softly broken.");
	assert_string_equal(p.html, "<p>Café</p>");
	arena_free(a);
}

static void test_parse_single_part_charsets(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct mail_parsed p;

	/* 8bit Shift_JIS body */
	const char sjis[] = "From: a@b\r\nSubject: sjis\r\nContent-Type: text/plain; charset=\"Shift_JIS\"\r\n"
			    "Content-Transfer-Encoding: 8bit\r\n\r\n"
			    "\x90\xbf\x8b\x81\x8f\x91\x82\xcc\x8am\x94" "F\r\n";
	assert_int_equal(mail_parse(slice_from(sjis), a, &p), 0);
	assert_string_equal(p.text, "請求書の確認\r\n");
	assert_null(p.html);
	assert_string_equal(p.message_id, "");
	assert_string_equal(p.to, "");

	/* ISO-2022-JP 7bit body, the classic Japanese mail */
	const char jis[] = "From: a@b\nContent-Type: text/plain; charset=ISO-2022-JP\n\n"
			   "\x1b$B71N}$N$*CN$i$;\x1b(B\n";
	assert_int_equal(mail_parse(slice_from(jis), a, &p), 0);
	assert_string_equal(p.text, "訓練のお知らせ\n");

	/* No Content-Type at all: text/plain, us-ascii */
	assert_int_equal(mail_parse(slice_from("Subject: hi\n\nbody"), a, &p), 0);
	assert_string_equal(p.subject, "hi");
	assert_string_equal(p.text, "body");

	/* An HTML-only message */
	assert_int_equal(mail_parse(slice_from("Content-Type: text/html\r\n\r\n<b>x</b>"), a, &p), 0);
	assert_null(p.text);
	assert_string_equal(p.html, "<b>x</b>");

	/* Invalid UTF-8 in a UTF-8 body is repaired, never passed on */
	assert_int_equal(mail_parse(slice_from("Content-Type: text/plain; charset=utf-8\n\na\xff\xc3"), a, &p), 0);
	assert_string_equal(p.text, "a\xEF\xBF\xBD\xEF\xBF\xBD");

	/* Unknown transfer encodings and non-text parts give no text */
	assert_int_equal(mail_parse(slice_from("Content-Transfer-Encoding: x-uuencode\n\nbegin 644"), a, &p), 0);
	assert_null(p.text);
	assert_int_equal(mail_parse(slice_from("Content-Type: image/png\n\n\x89PNG"), a, &p), 0);
	assert_null(p.text);
	arena_free(a);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct mail_parsed p, untouched = { .subject = (char *)"untouched" };

	p = untouched;
	assert_int_equal(mail_parse((struct slice){ "", 0 }, a, &p), -EINVAL);
	assert_int_equal(mail_parse(slice_from("no header here"), a, &p), -EINVAL);
	assert_int_equal(mail_parse(slice_from("\r\n\r\nbody only"), a, &p), -EINVAL);
	assert_int_equal(mail_parse(slice_from(": no name\n\nx"), a, &p), -EINVAL);
	assert_int_equal(mail_parse(slice_from("Bad Name: x\n\nx"), a, &p), -EINVAL);
	assert_int_equal(mail_parse((struct slice){ "\0\0\0:\0", 5 }, a, &p), -EINVAL);
	assert_string_equal(p.subject, "untouched");

	/* Odd but survivable: results are still sane. */
	const char *odd[] = {
		"Content-Type: multipart/mixed\n\n--x\n\nhi\n--x--\n",          /* no boundary */
		"Content-Type: multipart/mixed; boundary=x\n\nno delimiter",
		"Content-Type: multipart/mixed; boundary=x\n\n--x\n\nunterminated",
		"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\nx",
		"Content-Type: multipart/alternative; boundary=x\n\n--x--\n",
		"Content-Type: text/plain; charset=\"unterminated\n\nbody",
		"Content-Type: /; ; =; boundary\n\nbody",
		"Subject: =?UTF-8?B?\n\n",
		"Subject:\n",
		"From: x\n \n \n",
		"Content-Transfer-Encoding: base64\n\n!!!!",
		"Content-Transfer-Encoding: quoted-printable\n\n=",
		"Content-Type: text/plain; charset=iso-2022-jp\n\n\x1b$B\x1b",
	};
	for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
		assert_int_equal(mail_parse(slice_from(odd[i]), a, &p), 0);
		assert_non_null(p.from);
		assert_non_null(p.subject);
		if (p.text)
			assert_true(utf8_valid(p.text, strlen(p.text)));
	}
	assert_int_equal(mail_parse(slice_from(odd[2]), a, &p), 0);
	assert_string_equal(p.text, "unterminated");
	arena_free(a);
}

/* Deep nesting stops at the depth cap; many parts stop at the part cap. */
static void test_parse_caps(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct mail_parsed p;
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "Subject: deep\n");
	for (int i = 0; i < 50; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	buf_puts(&b, "Content-Type: text/plain\n\ndeepest\n");
	assert_int_equal(mail_parse(buf_slice(&b), a, &p), 0);
	assert_null(p.text); /* far below PARSE_MAX_DEPTH */
	buf_release(&b);

	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=z\n\n");
	for (int i = 0; i < 5000; i++)
		buf_puts(&b, "--z\nContent-Type: image/gif\n\nGIF\n");
	buf_puts(&b, "--z\nContent-Type: text/plain\n\nlate text\n--z--\n");
	assert_int_equal(mail_parse(buf_slice(&b), a, &p), 0);
	assert_null(p.text); /* beyond PARSE_MAX_PARTS */
	buf_release(&b);

	/* An arena too small for the body: -ENOMEM, not a crash. */
	struct arena *tiny = arena_new(1024);
	buf_init(&b, 0);
	buf_puts(&b, "Subject: big\n\n");
	for (int i = 0; i < 2000; i++)
		buf_puts(&b, "0123456789");
	assert_int_equal(mail_parse(buf_slice(&b), tiny, &p), -ENOMEM);
	buf_release(&b);
	arena_free(tiny);
	arena_free(a);
}

/* Inputs built to make a naive scanner quadratic: they must stay fast. */
static void test_parse_linear_time(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct mail_parsed p;
	struct buf b;
	int64_t t0 = now_ms();

	/* Many encoded-word openings whose text never ends. */
	buf_init(&b, 0);
	buf_puts(&b, "Subject: ");
	for (int i = 0; i < 200000; i++)
		buf_puts(&b, "x=?a?b?");
	buf_puts(&b, "\n\n");
	assert_int_equal(mail_parse(buf_slice(&b), a, &p), 0);
	assert_int_equal(strlen(p.subject), b.len - strlen("Subject: \n\n"));
	buf_release(&b);

	/* A body of near-delimiters: "--b" followed by junk on every line. */
	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\n");
	for (int i = 0; i < 200000; i++)
		buf_puts(&b, "--bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbx\n");
	assert_int_equal(mail_parse(buf_slice(&b), a, &p), 0);
	assert_null(p.text);
	buf_release(&b);

	/* And a body made only of dashes. */
	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=\"-----\"\n\n");
	for (int i = 0; i < 1000000; i++)
		buf_putc(&b, '-');
	assert_int_equal(mail_parse(buf_slice(&b), a, &p), 0);
	buf_release(&b);

	assert_true(now_ms() - t0 < 20000); /* seconds even under sanitizers; hours if quadratic */
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_decode_rfc2047_examples),
		cmocka_unit_test(test_header_decode_more),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_nested_multipart),
		cmocka_unit_test(test_parse_single_part_charsets),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_parse_linear_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
