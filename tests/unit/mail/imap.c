/* Unit tests for src/mail/imap.c: the rid finder over reported mail, and
 * the checks of IMAP settings.  (The IMAP client itself talks to a real
 * Dovecot in tests/integration/test_reporting.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/mail.h"

#define TRACKER "https://track.example.jp"
#define RID1 "AbCdEfGhIjKlMnOpQrSt"
#define RID2 "0123456789abcdefGHIJ"

static struct mail_report scan(struct arena *a, const char *raw, const char *tracker)
{
	struct mail_report m;
	assert_int_equal(mail_report_scan(slice_from(raw), tracker, a, &m), 0);
	return m;
}

static void expect_rids(const char *raw, const char *tracker, size_t n, const char *first, const char *second)
{
	struct arena *a = arena_new(0);
	struct mail_report m = scan(a, raw, tracker);
	if (m.nrids != n)
		fail_msg("%zu rids, want %zu in:\n%s", m.nrids, n, raw);
	if (n > 0)
		assert_string_equal(m.rids[0], first);
	if (n > 1)
		assert_string_equal(m.rids[1], second);
	arena_free(a);
}

static void test_inline_plain(void **state)
{
	(void)state;
	expect_rids("From: a@example.jp\r\nSubject: Fwd\r\nMessage-ID: <x@y>\r\n\r\n"
		    "> Please log in: " TRACKER "/c/" RID1 "\r\n> thanks\r\n",
		    TRACKER, 1, RID1, NULL);
	/* the open beacon, the report link and the explanation page count too */
	expect_rids("Subject: x\r\n\r\n<img src=\"" TRACKER "/o/" RID1 ".gif\">", TRACKER, 1, RID1, NULL);
	expect_rids("Subject: x\r\n\r\n" TRACKER "/r/" RID1 " " TRACKER "/e/" RID2, TRACKER, 2, RID1, RID2);
	/* twice the same rid is one */
	expect_rids("Subject: x\r\n\r\n" TRACKER "/c/" RID1 " " TRACKER "/o/" RID1 ".gif", TRACKER, 1, RID1, NULL);
	/* the host without case; the scheme does not matter */
	expect_rids("Subject: x\r\n\r\nhttp://TRACK.example.JP/c/" RID1, TRACKER, 1, RID1, NULL);
}

static void test_not_ours(void **state)
{
	(void)state;
	/* another host, a longer or shorter token, a host that only ends like ours */
	expect_rids("Subject: x\r\n\r\nhttps://other.example.jp/c/" RID1, TRACKER, 0, NULL, NULL);
	expect_rids("Subject: x\r\n\r\n" TRACKER "/c/" RID1 "X", TRACKER, 0, NULL, NULL);
	expect_rids("Subject: x\r\n\r\n" TRACKER "/c/AbCdE", TRACKER, 0, NULL, NULL);
	expect_rids("Subject: x\r\n\r\nhttps://eviltrack.example.jp/c/" RID1, TRACKER, 0, NULL, NULL);
	expect_rids("Subject: x\r\n\r\nhttps://track.example.jp.evil/c/" RID1, TRACKER, 0, NULL, NULL);
	expect_rids("Subject: x\r\n\r\n" TRACKER "/x/" RID1, TRACKER, 0, NULL, NULL);
	/* a tracker with a base path needs it */
	expect_rids("Subject: x\r\n\r\nhttps://t.example.jp/c/" RID1, "https://t.example.jp/kunren/", 0, NULL, NULL);
	expect_rids("Subject: x\r\n\r\nhttps://t.example.jp/kunren/c/" RID1, "https://t.example.jp/kunren/", 1, RID1,
		    NULL);
}

static void test_encodings(void **state)
{
	(void)state;
	/* quoted-printable with a soft break in the middle of the URL */
	expect_rids("Subject: x\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
		    "<a href=3D\"https://track.example.jp/c/AbCdEfGhIj=\r\nKlMnOpQrSt\">x</a>\r\n",
		    TRACKER, 1, RID1, NULL);
	/* base64 of "see https://track.example.jp/c/AbCdEfGhIjKlMnOpQrSt" */
	expect_rids("Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		    "c2VlIGh0dHBzOi8vdHJhY2suZXhhbXBsZS5qcC9jL0FiQ2RFZkdoSWpLbE1u\r\nT3BRclN0\r\n",
		    TRACKER, 1, RID1, NULL);
	/* a link-rewriting filter's percent-encoded URL */
	expect_rids("Subject: x\r\n\r\nhttps://safe.example.com/?url=https%3A%2F%2Ftrack.example.jp%2Fc%2F" RID1 "&x=1",
		    TRACKER, 1, RID1, NULL);
}

static void test_attached_message(void **state)
{
	(void)state;
	const char *raw =
		"From: b@example.jp\r\nSubject: Fwd: suspicious\r\nMessage-ID: <fwd-1@example.jp>\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
		"--outer\r\nContent-Type: text/plain\r\n\r\nSee the attached mail.\r\n"
		"--outer\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
		"From: drill@example.com\r\nSubject: password\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=inner\r\n\r\n"
		"--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"aHR0cHM6Ly90cmFjay5leGFtcGxlLmpwL2MvQWJDZEVmR2hJaktsTW5PcFFyU3Q=\r\n"
		"--inner--\r\n"
		"--outer--\r\n";
	struct arena *a = arena_new(0);
	struct mail_report m = scan(a, raw, TRACKER);
	assert_int_equal(m.nrids, 1);
	assert_string_equal(m.rids[0], RID1);
	assert_string_equal(m.message_id, "<fwd-1@example.jp>");
	assert_string_equal(m.from, "b@example.jp");
	arena_free(a);
}

static void test_limits(void **state)
{
	(void)state;
	struct arena *a = arena_new(0);
	struct mail_report m;
	/* more rids than kept: at most MAIL_REPORT_MAX_RIDS */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "Subject: many\r\n\r\n");
	for (int i = 0; i < 20; i++)
		buf_printf(&b, TRACKER "/c/AAAAAAAAAAAAAAAAAA%02d\r\n", i);
	assert_int_equal(mail_report_scan(buf_slice(&b), TRACKER, a, &m), 0);
	assert_int_equal(m.nrids, MAIL_REPORT_MAX_RIDS);
	buf_release(&b);
	/* no tracker URL to look for */
	assert_int_equal(mail_report_scan(SLICE_LIT("Subject: x\r\n\r\n"), "", a, &m), -EINVAL);
	/* deep nesting stops, never recurses without end */
	buf_init(&b, 0);
	for (int i = 0; i < 50; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	buf_puts(&b, "\r\n" TRACKER "/c/" RID1 "\r\n");
	assert_int_equal(mail_report_scan(buf_slice(&b), TRACKER, a, &m), 0);
	assert_int_equal(m.nrids, 0);
	buf_release(&b);
	/* empty and header-only input */
	assert_int_equal(mail_report_scan(SLICE_LIT(""), TRACKER, a, &m), 0);
	assert_int_equal(m.nrids, 0);
	assert_int_equal(mail_report_scan(SLICE_LIT("X-Link: " TRACKER "/c/" RID2), TRACKER, a, &m), 0);
	assert_int_equal(m.nrids, 1);
	arena_free(a);
}

static void test_settings(void **state)
{
	(void)state;
	assert_true(mail_imap_host_valid("imap.example.jp"));
	assert_true(mail_imap_host_valid("127.0.0.1"));
	assert_true(mail_imap_host_valid("::1"));
	assert_false(mail_imap_host_valid(""));
	assert_false(mail_imap_host_valid("imap.example.jp/x"));
	assert_false(mail_imap_host_valid("a@b"));
	assert_true(mail_imap_folder_valid("INBOX"));
	assert_true(mail_imap_folder_valid("INBOX/Reports 2026"));
	assert_false(mail_imap_folder_valid(""));
	assert_false(mail_imap_folder_valid("IN*"));
	assert_false(mail_imap_folder_valid("a\"b"));
	assert_false(mail_imap_folder_valid("受信箱"));
	struct mail_imap *m = NULL;
	struct mail_imap_options o = { .host = "bad host", .port = 143, .folder = "INBOX" };
	assert_int_equal(mail_imap_new(&o, &m), -EINVAL);
	o.host = "127.0.0.1";
	o.port = 0;
	assert_int_equal(mail_imap_new(&o, &m), -EINVAL);
	o.port = 143;
	assert_int_equal(mail_imap_new(&o, &m), 0);
	mail_imap_free(m);
	mail_imap_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_plain),     cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_encodings),        cmocka_unit_test(test_attached_message),
		cmocka_unit_test(test_limits),           cmocka_unit_test(test_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
