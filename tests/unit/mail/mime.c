/* Unit tests for src/mail/mime.c: headers, RFC 2047 encoded-words, MIME bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/mail.h"

/* 120 characters of Japanese (3-byte UTF-8 each). */
static const char jp_subject[] =
	"【重要】情報セキュリティ訓練のお知らせ：本メールは標的型攻撃メールへの対応力を高めるための訓練です。"
	"添付ファイルを開かず、リンクをクリックせず、不審なメールは情報システム部へ速やかに報告してください。"
	"ご協力をお願いいたします。以上、よろしくお願い申し上げます。";

/* 4-byte characters only, and mixed with 1-, 2- and 3-byte ones. */
static const char emoji_subject[] = "🎣🐟🐠🐡🦈🎣🐟🐠🐡🦈🎣🐟🐠🐡🦈🎣🐟🐠🐡🦈🎣🐟🐠🐡🦈🎣🐟🐠🐡🦈";
static const char mixed_subject[] = "a🎣éあ🐟b¢訓🐠c€練🐡d𝄞😀x";

/* ---- invariants checked after every build ---- */

/* Every line ends in CRLF; no bare CR or LF anywhere. */
static void assert_crlf_only(struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\r')
			assert_true(i + 1 < s.len && s.p[i + 1] == '\n');
		if (s.p[i] == '\n')
			assert_true(i > 0 && s.p[i - 1] == '\r');
	}
	assert_true(s.len >= 2 && s.p[s.len - 2] == '\r' && s.p[s.len - 1] == '\n');
}

/* Every line of s (without its CRLF) is at most max characters. */
static void assert_lines_within(struct slice s, size_t max)
{
	size_t start = 0;
	for (size_t i = 0; i + 1 < s.len; i++) {
		if (s.p[i] == '\r' && s.p[i + 1] == '\n') {
			if (i - start > max)
				fail_msg("line of %zu > %zu: %.*s", i - start, max, (int)(i - start), s.p + start);
			start = i + 2;
		}
	}
}

static struct slice header_block(struct slice msg)
{
	const char *end = memmem(msg.p, msg.len, "\r\n\r\n", 4);
	assert_non_null(end);
	return (struct slice){ msg.p, (size_t)(end - msg.p) + 2 };
}

/*
 * Takes apart the encoded-words of a header: each at most 75 characters,
 * each decoding on its own to valid UTF-8; returns their concatenation.
 */
static void decode_words(struct slice h, struct buf *joined, size_t *ret_count)
{
	size_t count = 0;
	const char *p = h.p, *end = h.p + h.len;
	while ((p = memmem(p, (size_t)(end - p), "=?UTF-8?B?", 10))) {
		const char *q = memmem(p + 10, (size_t)(end - p - 10), "?=", 2);
		assert_non_null(q);
		size_t word_len = (size_t)(q + 2 - p);
		assert_true(word_len <= 75);
		struct buf one;
		buf_init(&one, 0);
		assert_int_equal(mail_base64_decode(&one, (struct slice){ p + 10, (size_t)(q - p - 10) }), 0);
		assert_true(one.len > 0);
		assert_true(utf8_valid(one.p, one.len));
		assert_int_equal(buf_put_slice(joined, buf_slice(&one)), 0);
		buf_release(&one);
		count++;
		p = q + 2;
	}
	*ret_count = count;
}

/* Checks a Subject header built from `subject`: encoded-words that rebuild it, lines <= 78. */
static void check_encoded_subject(const char *subject)
{
	struct buf b, joined;
	size_t words;

	buf_init(&b, 0);
	buf_init(&joined, 0);
	assert_int_equal(mail_put_header(&b, "Subject", slice_from(subject)), 0);
	assert_crlf_only(buf_slice(&b));
	assert_lines_within(buf_slice(&b), 78);
	assert_true(slice_starts_with(buf_slice(&b), "Subject: =?UTF-8?B?"));
	decode_words(buf_slice(&b), &joined, &words);
	assert_true(words >= 1);
	assert_string_equal(joined.p, subject);
	/* Words after the first sit on folded lines: "CRLF SP" before each. */
	const char *p = b.p;
	size_t folds = 0;
	while ((p = strstr(p, "\r\n =?UTF-8?B?"))) {
		folds++;
		p++;
	}
	assert_int_equal(folds, words - 1);
	buf_release(&joined);
	buf_release(&b);
}

/* ---- RFC 2047 ---- */

static void test_japanese_subject(void **state)
{
	(void)state;
	assert_true(strlen(jp_subject) >= 300); /* 100+ characters */
	check_encoded_subject(jp_subject);
}

static void test_emoji_subject(void **state)
{
	(void)state;
	check_encoded_subject(emoji_subject);
	check_encoded_subject(mixed_subject);
	/* Shift the emoji against the word edges by every possible offset. */
	for (int k = 0; k < 12; k++) {
		char s[512];
		snprintf(s, sizeof(s), "%.*s%s", k, "abcdefghijkl", emoji_subject);
		check_encoded_subject(s);
	}
}

static void test_long_header_name(void **state)
{
	(void)state;
	struct buf b, joined;
	size_t words;
	const char *name = "X-A-Very-Long-Header-Name-That-Leaves-Almost-No-Room-On-Its-Line-Ok";

	buf_init(&b, 0);
	buf_init(&joined, 0);
	assert_int_equal(mail_put_header(&b, name, slice_from("日本語の値")), 0);
	assert_lines_within(buf_slice(&b), 78);
	decode_words(buf_slice(&b), &joined, &words);
	assert_string_equal(joined.p, "日本語の値");
	buf_release(&joined);
	buf_release(&b);
}

static void test_ascii_folding(void **state)
{
	(void)state;
	struct buf b, unfolded;
	const char *subject = "Please review the updated travel expense policy before the end of "
			      "this month, as several rules about hotel rates and taxi receipts have "
			      "changed since the last quarter and approvals now go through the portal";

	buf_init(&b, 0);
	buf_init(&unfolded, 0);
	assert_int_equal(mail_put_header(&b, "Subject", slice_from(subject)), 0);
	assert_crlf_only(buf_slice(&b));
	assert_lines_within(buf_slice(&b), 78);
	assert_null(strstr(b.p, "=?"));
	assert_non_null(strstr(b.p, "\r\n ")); /* it did fold */
	/* Unfolding (removing CRLF) gives the value back. */
	for (size_t i = 0; i < b.len; i++)
		if (b.p[i] != '\r' && b.p[i] != '\n')
			buf_putc(&unfolded, b.p[i]);
	assert_true(strcmp(unfolded.p + strlen("Subject: "), subject) == 0);
	buf_release(&unfolded);
	buf_release(&b);
}

static void test_ascii_needing_encoding(void **state)
{
	(void)state;
	struct buf b, joined;
	size_t words;

	/* "=?" would be read back as an encoded-word, so it is encoded itself. */
	buf_init(&b, 0);
	buf_init(&joined, 0);
	assert_int_equal(mail_put_header(&b, "Subject", slice_from("=?UTF-8?B?YQ==?= trick")), 0);
	decode_words(buf_slice(&b), &joined, &words);
	assert_string_equal(joined.p, "=?UTF-8?B?YQ==?= trick");
	buf_release(&joined);
	buf_release(&b);

	buf_init(&b, 0);
	assert_int_equal(mail_put_header(&b, "Subject", slice_from("plain ascii")), 0);
	assert_string_equal(b.p, "Subject: plain ascii\r\n");
	buf_release(&b);
}

static void test_header_injection(void **state)
{
	(void)state;
	struct buf b;
	const char *bad_values[] = { "hi\r\nBcc: victim@example.com", "hi\nBcc: x", "hi\rX", "件名\r\n" };
	const char *bad_names[] = { "", "X Bad", "X:Y", "X-\xe4\xbb\xb6", "X\r\nY" };

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_values); i++)
		assert_int_equal(mail_put_header(&b, "Subject", slice_from(bad_values[i])), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++)
		assert_int_equal(mail_put_header(&b, bad_names[i], slice_from("v")), -EINVAL);
	/* A NUL inside the slice and invalid UTF-8 are refused too. */
	assert_int_equal(mail_put_header(&b, "Subject", (struct slice){ "a\0b", 3 }), -EINVAL);
	assert_int_equal(mail_put_header(&b, "Subject", slice_from("\xe3\x81")), -EINVAL);
	assert_int_equal(mail_put_address(&b, "Evil\r\nBcc: x", "a@example.com"), -EINVAL);
	assert_int_equal(mail_put_address(&b, "名前\n", "a@example.com"), -EINVAL);
	assert_string_equal(b.p, "keep"); /* nothing half-written */
	buf_release(&b);
}

static void test_address_validation(void **state)
{
	(void)state;
	const char *good[] = { "a@b", "taro.yamada+x@example.co.jp", "A_b-c@sub.example.com" };
	const char *bad[] = { NULL, "", "ab", "@b", "a@", "a@@b", "a@b@c", "a b@c", "<a@b>",
			      "a@b>", "a\t@b", "a@b\r\n", "a\x01@b", "\"a\"@b", "a,b@c", "a@b;c",
			      "\xe5\xb1\xb1@example.jp" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(mail_addr_valid(good[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(mail_addr_valid(bad[i]));

	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mail_put_address(&b, "Name", "a b@c"), -EINVAL);
	assert_int_equal(mail_put_address(&b, NULL, "x@y>"), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void expect_address(const char *name, const char *addr, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mail_put_address(&b, name, addr), 0);
	assert_string_equal(b.p, want);
	buf_release(&b);
}

static void test_address_forms(void **state)
{
	(void)state;
	expect_address(NULL, "a@example.com", "a@example.com");
	expect_address("", "a@example.com", "a@example.com");
	expect_address("John Smith", "j@example.com", "John Smith <j@example.com>");
	expect_address("Smith, John", "j@example.com", "\"Smith, John\" <j@example.com>");
	expect_address("J. \"Q\" \\ Public", "j@example.com", "\"J. \\\"Q\\\" \\\\ Public\" <j@example.com>");
	expect_address(" padded", "j@example.com", "\" padded\" <j@example.com>");
	expect_address("総務部", "soumu@example.jp", "=?UTF-8?B?57eP5YuZ6YOo?= <soumu@example.jp>");
}

static void test_long_display_name(void **state)
{
	(void)state;
	struct buf b, joined;
	size_t words;
	const char *name = "株式会社サンプル情報システム部セキュリティ推進グループ 山田太郎";

	buf_init(&b, 0);
	buf_init(&joined, 0);
	assert_int_equal(buf_puts(&b, "From: "), 0);
	assert_int_equal(mail_put_address(&b, name, "yamada.taro@security.example.co.jp"), 0);
	assert_int_equal(buf_puts(&b, "\r\n"), 0);
	assert_lines_within(buf_slice(&b), 78);
	decode_words(buf_slice(&b), &joined, &words);
	assert_true(words >= 2);
	assert_string_equal(joined.p, name);
	assert_non_null(strstr(b.p, "<yamada.taro@security.example.co.jp>\r\n"));
	buf_release(&joined);
	buf_release(&b);

	/* A long ASCII name that does not fit goes as encoded-words as well. */
	const char *ascii = "The Department of Information Security and Compliance, Tokyo Head Office";
	buf_init(&b, 0);
	buf_init(&joined, 0);
	assert_int_equal(buf_puts(&b, "From: "), 0);
	assert_int_equal(mail_put_address(&b, ascii, "security@example.com"), 0);
	assert_int_equal(buf_puts(&b, "\r\n"), 0);
	assert_lines_within(buf_slice(&b), 78);
	decode_words(buf_slice(&b), &joined, &words);
	assert_string_equal(joined.p, ascii);
	buf_release(&joined);
	buf_release(&b);
}

/* ---- the whole message ---- */

static const char *const extra[] = { "X-Mailer", "Kunren", "List-Unsubscribe", "<mailto:u@example.com>", NULL };

static struct mail_message sample(void)
{
	return (struct mail_message){
		.from_name = "情報システム部",
		.from_addr = "it@example.co.jp",
		.to_name = "山田 太郎",
		.to_addr = "taro@example.co.jp",
		.reply_to = "reply@example.co.jp",
		.subject = jp_subject,
		.text = "山田様\nパスワードの有効期限が切れます。\nhttps://example.com/r/abc\n",
		.html = "<p>山田様</p><p><a href=\"https://example.com/r/abc\">こちら</a></p>",
		.date = 1795783500, /* 2026-11-27 12:45:00 UTC */
		.tz = tz_get("Asia/Tokyo"),
		.id_domain = "mail.example.co.jp",
		.extra_headers = extra,
	};
}

/* The base64 body lines between the blank line after part headers and the next boundary. */
static void assert_part(struct slice msg, const char *content_type, const char *want)
{
	const char *p = memmem(msg.p, msg.len, content_type, strlen(content_type));
	assert_non_null(p);
	const char *body = strstr(p, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	const char *end = strstr(body, "\r\n--");
	if (!end)
		end = msg.p + msg.len;
	struct slice b64 = { body, (size_t)(end - body) };
	assert_lines_within(b64, 76);
	for (size_t i = 0, col = 0; i < b64.len; i++) { /* full lines are exactly 76 */
		if (b64.p[i] == '\r') {
			assert_true(col == 76 || i + 2 >= b64.len);
			col = 0;
			i++;
		} else {
			col++;
		}
	}
	struct buf dec;
	buf_init(&dec, 0);
	assert_int_equal(mail_base64_decode(&dec, b64), 0);
	assert_string_equal(dec.p, want);
	buf_release(&dec);
}

static void test_build_multipart(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf b;
	char *id = NULL;

	assert_non_null(m.tz);
	buf_init(&b, 0);
	assert_int_equal(mail_build(&m, &b, &id), 0);
	struct slice msg = buf_slice(&b), head = header_block(msg);
	assert_crlf_only(msg);
	assert_lines_within(head, 78);
	assert_true(slice_starts_with(msg, "Date: Fri, 27 Nov 2026 21:45:00 +0900\r\nFrom: "));
	assert_non_null(strstr(b.p, "\r\nTo: =?UTF-8?B?"));
	assert_non_null(strstr(b.p, " <taro@example.co.jp>\r\n"));
	assert_non_null(strstr(b.p, "\r\nReply-To: reply@example.co.jp\r\n"));
	assert_non_null(strstr(b.p, "\r\nSubject: =?UTF-8?B?"));
	assert_non_null(strstr(b.p, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(b.p, "\r\nX-Mailer: Kunren\r\n"));
	assert_non_null(strstr(b.p, "\r\nList-Unsubscribe: <mailto:u@example.com>\r\n"));
	assert_non_null(strstr(b.p, "\r\nContent-Type: multipart/alternative;\r\n boundary=\"=_"));

	/* Message-ID: 24 random characters at id_domain, returned without brackets. */
	assert_non_null(id);
	assert_int_equal(strlen(id), 24 + 1 + strlen("mail.example.co.jp"));
	char want[128];
	snprintf(want, sizeof(want), "\r\nMessage-ID: <%s>\r\n", id);
	assert_non_null(strstr(b.p, want));

	/* text/plain first, text/html second, both base64 in 76-character lines. */
	const char *plain = strstr(b.p, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64");
	const char *html = strstr(b.p, "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64");
	assert_true(plain && html && plain < html);
	assert_part(msg, "Content-Type: text/plain", m.text);
	assert_part(msg, "Content-Type: text/html", m.html);

	/* The boundary opens both parts and closes the message. */
	const char *bq = strstr(b.p, "boundary=\"") + 10;
	char boundary[64];
	size_t bl = strcspn(bq, "\"");
	assert_true(bl > 10 && bl < sizeof(boundary));
	memcpy(boundary, bq, bl);
	boundary[bl] = '\0';
	char close[80];
	snprintf(close, sizeof(close), "\r\n--%s--\r\n", boundary);
	assert_true(b.len > strlen(close) && strcmp(b.p + b.len - strlen(close), close) == 0);

	free(id);
	buf_release(&b);
}

static void test_build_text_only(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf b;

	m.html = NULL;
	m.reply_to = NULL;
	m.extra_headers = NULL;
	m.from_name = NULL;
	m.tz = NULL;
	m.id_domain = NULL;
	buf_init(&b, 0);
	assert_int_equal(mail_build(&m, &b, NULL), 0);
	assert_crlf_only(buf_slice(&b));
	assert_true(slice_starts_with(buf_slice(&b), "Date: Fri, 27 Nov 2026 12:45:00 +0000\r\nFrom: it@example.co.jp\r\n"));
	assert_null(strstr(b.p, "multipart"));
	assert_null(strstr(b.p, "Reply-To"));
	assert_non_null(strstr(b.p, "@example.co.jp>\r\n")); /* Message-ID from the sender's domain */
	assert_non_null(strstr(b.p, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
				   "Content-Transfer-Encoding: base64\r\n\r\n"));
	assert_part(buf_slice(&b), "Content-Type: text/plain", m.text);
	buf_release(&b);
}

static void test_build_dates(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf b;

	m.tz = tz_get("America/New_York");
	assert_non_null(m.tz);
	m.date = 1784786645; /* 2026-07-23 06:04:05 UTC, EDT */
	buf_init(&b, 0);
	assert_int_equal(mail_build(&m, &b, NULL), 0);
	assert_true(slice_starts_with(buf_slice(&b), "Date: Thu, 23 Jul 2026 02:04:05 -0400\r\n"));
	buf_release(&b);

	m.tz = tz_get("Asia/Kolkata");
	m.date = 0;
	buf_init(&b, 0);
	assert_int_equal(mail_build(&m, &b, NULL), 0);
	assert_true(slice_starts_with(buf_slice(&b), "Date: Thu, 1 Jan 1970 05:30:00 +0530\r\n"));
	buf_release(&b);
}

static void test_build_rejects(void **state)
{
	(void)state;
	struct buf b;
	char *id = (char *)"untouched";
	const char *const bad_extra1[] = { "X-Note", "a\r\nBcc: x@example.com", NULL };
	const char *const bad_extra2[] = { "X Bad", "v", NULL };
	const char *const bad_extra3[] = { "Content-Type", "text/plain", NULL };
	const char *const bad_extra4[] = { "X-Only-Name", NULL };

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "prefix"), 0);
	struct mail_message m;
#define EXPECT_EINVAL(field, value)                                                    \
	do {                                                                           \
		m = sample();                                                          \
		m.field = value;                                                       \
		assert_int_equal(mail_build(&m, &b, &id), -EINVAL);                    \
		assert_string_equal(b.p, "prefix");                                    \
	} while (0)
	EXPECT_EINVAL(subject, "Hello\r\nBcc: victim@example.com");
	EXPECT_EINVAL(subject, "訓練\n");
	EXPECT_EINVAL(from_name, "IT\r\nX-Evil: 1");
	EXPECT_EINVAL(to_name, "\xff\xfe");
	EXPECT_EINVAL(from_addr, "it@@example.com");
	EXPECT_EINVAL(from_addr, NULL);
	EXPECT_EINVAL(to_addr, "taro @example.com");
	EXPECT_EINVAL(to_addr, "<taro@example.com>");
	EXPECT_EINVAL(reply_to, "reply@example.com\r\nBcc: x@y");
	EXPECT_EINVAL(id_domain, "bad domain");
	EXPECT_EINVAL(id_domain, "x>\r\n");
	EXPECT_EINVAL(text, "\xc3\x28");
	EXPECT_EINVAL(html, "\xed\xa0\x80"); /* a surrogate */
	EXPECT_EINVAL(extra_headers, bad_extra1);
	EXPECT_EINVAL(extra_headers, bad_extra2);
	EXPECT_EINVAL(extra_headers, bad_extra3);
	EXPECT_EINVAL(extra_headers, bad_extra4);
	EXPECT_EINVAL(date, -1);
#undef EXPECT_EINVAL
	assert_string_equal(id, "untouched");
	buf_release(&b);
}

/* Joins the RFC 2231 segments of param (filename*0*=..., filename*1*=...,
 * or one filename*=) of a part and percent-decodes them. */
static void rfc2231_join(const char *part, const char *param, struct buf *out)
{
	char key[64];
	for (int seg = -1;; seg++) {
		if (seg < 0)
			snprintf(key, sizeof(key), " %s*=UTF-8''", param);
		else
			snprintf(key, sizeof(key), " %s*%d*=%s", param, seg, seg ? "" : "UTF-8''");
		const char *p = strstr(part, key);
		if (!p) {
			if (seg < 0)
				continue;
			break;
		}
		for (p += strlen(key); *p && *p != ';' && *p != '\r'; p++) {
			if (*p == '%') {
				unsigned v;
				assert_int_equal(sscanf(p + 1, "%2x", &v), 1);
				assert_int_equal(buf_putc(out, (char)v), 0);
				p += 2;
			} else {
				assert_int_equal(buf_putc(out, *p), 0);
			}
		}
		if (seg < 0)
			break;
	}
}

static void test_build_attachments(void **state)
{
	(void)state;
	/* 40 Japanese characters: several 2231 segments and encoded-words */
	static const char jp_name[] = "【重要】令和八年度_情報セキュリティ研修_受講者名簿_営業本部第一営業部_最終版.docx";
	static const unsigned char bin[] = { 'P', 'K', 3, 4, 0, 0, 0xff, 0x80, '\n', '\r', 0 };
	struct mail_attachment att[] = {
		{ jp_name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		  { (const char *)bin, sizeof(bin) } },
		{ "invoice 2026-11.pdf", "application/pdf", SLICE_LIT("%PDF-1.7 the second file") },
	};
	struct mail_message m = sample();
	m.attachments = att;
	m.nattachments = ARRAY_SIZE(att);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mail_build(&m, &b, NULL), 0);
	struct slice msg = buf_slice(&b);
	assert_crlf_only(msg);
	assert_lines_within(msg, 78);
	/* mixed outside, alternative inside, the files after the text */
	const char *mixed = strstr(b.p, "\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_");
	const char *alt = strstr(b.p, "\r\nContent-Type: multipart/alternative;\r\n boundary=\"=_");
	const char *docx = strstr(b.p, "Content-Type:\r\n application/vnd.openxmlformats-officedocument.wordprocessingml.document;");
	const char *pdf = strstr(b.p, "Content-Type: application/pdf;\r\n name=\"invoice 2026-11.pdf\"\r\n"
				      "Content-Disposition: attachment;\r\n filename=\"invoice 2026-11.pdf\"\r\n");
	assert_true(mixed && alt && docx && pdf && mixed < alt && alt < docx && docx < pdf);
	assert_part(msg, "Content-Type: text/plain", m.text);
	assert_part(msg, "Content-Type: application/pdf", "%PDF-1.7 the second file");

	/* the Japanese name: RFC 2231 segments and name= words, both giving it back */
	const char *disp = strstr(docx, "Content-Disposition: attachment;\r\n filename*0*=UTF-8''%E3%80%90");
	assert_non_null(disp);
	struct buf name;
	buf_init(&name, 0);
	rfc2231_join(disp, "filename", &name);
	assert_string_equal(name.p, jp_name);
	buf_release(&name);
	const char *nq = strstr(docx, " name=\"=?UTF-8?B?");
	assert_true(nq && nq < disp);
	struct buf joined;
	size_t words = 0;
	buf_init(&joined, 0);
	decode_words((struct slice){ nq, (size_t)(disp - nq) }, &joined, &words);
	assert_true(words >= 3);
	assert_string_equal(joined.p, jp_name);
	buf_release(&joined);

	/* the binary file comes back byte for byte */
	const char *body = strstr(disp, "\r\n\r\n") + 4, *end = strstr(body, "\r\n--");
	struct buf dec;
	buf_init(&dec, 0);
	assert_int_equal(mail_base64_decode(&dec, (struct slice){ body, (size_t)(end - body) }), 0);
	assert_int_equal(dec.len, sizeof(bin));
	assert_memory_equal(dec.p, bin, sizeof(bin));
	buf_release(&dec);

	/* and a reader still finds the text parts */
	struct arena *a = arena_new(0);
	struct mail_parsed parsed;
	assert_int_equal(mail_parse(msg, a, &parsed), 0);
	assert_string_equal(parsed.text, m.text);
	assert_string_equal(parsed.html, m.html);
	arena_free(a);
	buf_release(&b);

	/* a name with a line break or a type that is no type: refused, nothing written */
	struct mail_attachment bad[] = {
		{ "a\r\nBcc: x@example.com.pdf", "application/pdf", SLICE_LIT("x") },
		{ "a\tb.pdf", "application/pdf", SLICE_LIT("x") },
		{ "", "application/pdf", SLICE_LIT("x") },
		{ "a.pdf", "application/pdf; name=x", SLICE_LIT("x") },
		{ "a.pdf", "pdf", SLICE_LIT("x") },
		{ "\xff\xfe.pdf", "application/pdf", SLICE_LIT("x") },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		m.attachments = &bad[i];
		m.nattachments = 1;
		buf_init(&b, 0);
		assert_int_equal(mail_build(&m, &b, NULL), -EINVAL);
		assert_int_equal(b.len, 0);
		buf_release(&b);
	}
}

static void test_build_cap(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf b;
	buf_init(&b, 600); /* too small for the whole message */
	assert_int_equal(mail_build(&m, &b, NULL), -E2BIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_japanese_subject),
		cmocka_unit_test(test_emoji_subject),
		cmocka_unit_test(test_long_header_name),
		cmocka_unit_test(test_ascii_folding),
		cmocka_unit_test(test_ascii_needing_encoding),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_address_validation),
		cmocka_unit_test(test_address_forms),
		cmocka_unit_test(test_long_display_name),
		cmocka_unit_test(test_build_multipart),
		cmocka_unit_test(test_build_text_only),
		cmocka_unit_test(test_build_dates),
		cmocka_unit_test(test_build_rejects),
		cmocka_unit_test(test_build_cap),
		cmocka_unit_test(test_build_attachments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
