/* Unit tests for src/mail/imap.c: the rid finder over reported mail, the
 * checks of IMAP settings, the parsers of the server's SEARCH and STATUS
 * answers, the address classifier behind report_imap_allow_private and
 * the cancel callback that cuts a command hanging on a silent server.
 * (The IMAP client itself talks to a real Dovecot in
 * tests/integration/test_reporting.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/mail.h"
#include "core/net.h"

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

/* ---- the SEARCH answer ---- */

static void expect_search(const char *answer, uint32_t after, size_t max, size_t n, const uint32_t *want)
{
	uint32_t *uids = NULL;
	size_t got = 99;
	mail_imap__search_parse(slice_from(answer), after, max, &uids, &got);
	if (got != n)
		fail_msg("%zu UIDs, want %zu in: %s", got, n, answer);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(uids[i], want[i]);
	free(uids);
}

static void test_search_answer(void **state)
{
	(void)state;
	expect_search("* SEARCH 3 7 9\r\n", 0, SIZE_MAX, 3, (const uint32_t[]){ 3, 7, 9 });
	/* "n:*" always names the highest UID, even below n: dropped */
	expect_search("* SEARCH 4 7 9\r\n", 7, SIZE_MAX, 1, (const uint32_t[]){ 9 });
	expect_search("* SEARCH 4\r\n", 7, SIZE_MAX, 0, NULL);
	/* the server's order is kept (mail_imap_unseen_after sorts); max counts */
	expect_search("* SEARCH 9 3 7\r\n", 0, 2, 2, (const uint32_t[]){ 9, 3 });
	/* empty: no line, an empty line, only the tagged OK */
	expect_search("", 0, SIZE_MAX, 0, NULL);
	expect_search("* SEARCH\r\n", 0, SIZE_MAX, 0, NULL);
	expect_search("* SEARCH   \r\n", 0, SIZE_MAX, 0, NULL);
	expect_search("A003 OK Search completed\r\n", 0, SIZE_MAX, 0, NULL);
	/* several lines, other untagged answers between, no final line break,
	 * runs of spaces, lower case */
	expect_search("* 5 EXISTS\r\n* SEARCH 1  2\r\n* OK [UIDNEXT 9]\r\n* search 8", 0, SIZE_MAX, 3,
		      (const uint32_t[]){ 1, 2, 8 });
	/* malformed words are skipped, never read as 0 or wrapped */
	expect_search("* SEARCH 1 x 2 -3 0 +5 4294967296 99999999999999999999 12ab 4294967295 (MODSEQ 9)\r\n", 0,
		      SIZE_MAX, 3, (const uint32_t[]){ 1, 2, 4294967295u });
	/* only "* SEARCH" itself: not another answer that starts alike */
	expect_search("* SEARCHRES 4\r\n* ESEARCH (TAG \"A1\") UID ALL 5\r\nSEARCH 6\r\n", 0, SIZE_MAX, 0, NULL);
	/* after the highest UID there is nothing to have */
	expect_search("* SEARCH 4294967295\r\n", 4294967294u, SIZE_MAX, 1, (const uint32_t[]){ 4294967295u });

	/* huge: 200,000 UIDs on one line, every one kept in order */
	struct buf b;
	buf_init(&b, (size_t)8 << 20);
	buf_puts(&b, "* SEARCH");
	for (uint32_t u = 1; u <= 200000; u++)
		buf_printf(&b, " %u", u * 3);
	buf_puts(&b, "\r\nA1 OK done\r\n");
	uint32_t *uids = NULL;
	size_t n = 0;
	mail_imap__search_parse(buf_slice(&b), 0, SIZE_MAX, &uids, &n);
	assert_int_equal(n, 200000);
	for (size_t i = 0; i < n; i++)
		if (uids[i] != (uint32_t)(i + 1) * 3)
			fail_msg("uid %zu is %u", i, uids[i]);
	free(uids);
	/* the same with a cap and a place: the first 500 above it */
	mail_imap__search_parse(buf_slice(&b), 300000, 500, &uids, &n);
	assert_int_equal(n, 500);
	assert_int_equal(uids[0], 300003);
	assert_int_equal(uids[499], 301500);
	free(uids);
	buf_release(&b);
}

/* ---- the STATUS answer ---- */

static void expect_validity(const char *answer, int r, uint32_t want)
{
	uint32_t v = 12345;
	int got = mail_imap__status_uidvalidity(slice_from(answer), &v);
	if (got != r)
		fail_msg("%d, want %d for: %s", got, r, answer);
	assert_int_equal(v, r == 0 ? want : 12345);
}

static void test_status_answer(void **state)
{
	(void)state;
	expect_validity("* STATUS INBOX (UIDVALIDITY 1700000000)\r\nA2 OK Status completed.\r\n", 0, 1700000000);
	expect_validity("* STATUS \"INBOX/Reports 2026\" (UIDVALIDITY 4294967295)", 0, 4294967295u);
	/* other items, any order, lower case */
	expect_validity("* STATUS INBOX (MESSAGES 3 UIDVALIDITY 17 UIDNEXT 5)\r\n", 0, 17);
	expect_validity("* status inbox (uidnext 5 uidvalidity 18)\r\n", 0, 18);
	/* a mailbox name that looks like the answer does not fool it */
	expect_validity("* STATUS \"x (UIDVALIDITY 9)\" (UIDVALIDITY 42)\r\n", 0, 42);
	expect_validity("* STATUS \"UIDVALIDITY 9\" (UIDNEXT 9)\r\n", -EIO, 0);
	/* the SELECT's own code is not the STATUS answer */
	expect_validity("* OK [UIDVALIDITY 5] UIDs valid\r\n* STATUS INBOX (UIDVALIDITY 6)\r\n", 0, 6);
	expect_validity("* OK [UIDVALIDITY 5] UIDs valid\r\n", -EIO, 0);
	/* empty, missing, malformed: an error, never 0 or a wrapped number */
	expect_validity("", -EIO, 0);
	expect_validity("A2 OK Status completed.\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX ()\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX (UIDVALIDITY)\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX (UIDVALIDITY 0)\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX (UIDVALIDITY -1)\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX (UIDVALIDITY 4294967296)\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX (UIDVALIDITY 12x)\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX (UIDVALIDITY 12\r\n", -EIO, 0);
	expect_validity("* STATUS INBOX UIDVALIDITY 12\r\n", -EIO, 0);
	expect_validity("* STATUS (\r\n", -EIO, 0);
	expect_validity("* STATUS )\r\n", -EIO, 0);
	/* a huge answer with the item at its end */
	struct buf b;
	buf_init(&b, (size_t)8 << 20);
	buf_puts(&b, "* STATUS INBOX (");
	for (int i = 0; i < 100000; i++)
		buf_puts(&b, "X-ITEM 1 ");
	buf_puts(&b, "UIDVALIDITY 77)\r\n");
	uint32_t v = 0;
	assert_int_equal(mail_imap__status_uidvalidity(buf_slice(&b), &v), 0);
	assert_int_equal(v, 77);
	buf_release(&b);
}

/* ---- report_imap_allow_private: where the poller never connects ---- */

static bool private4(const char *text)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, text, &a.sin_addr) != 1)
		fail_msg("not an IPv4 address: %s", text);
	return net_address_private((const struct sockaddr *)&a);
}

static bool private6(const char *text)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET6, text, &a.sin6_addr) != 1)
		fail_msg("not an IPv6 address: %s", text);
	return net_address_private((const struct sockaddr *)&a);
}

static void test_private_addresses(void **state)
{
	(void)state;
	static const char *const priv4[] = {
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "127.0.0.1", "127.255.0.9",
		"169.254.169.254", /* the cloud's metadata address */
		"172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255",
		"192.0.0.170", "198.18.0.1", "198.19.255.255", "224.0.0.1", "239.255.255.250",
		"240.0.0.1", "255.255.255.255",
	};
	static const char *const pub4[] = {
		"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.1", "126.255.255.255", "128.0.0.1",
		"169.253.0.1", "169.255.0.1", "172.15.255.255", "172.32.0.1", "192.167.1.1", "192.169.0.1",
		"100.63.255.255", "100.128.0.1", "192.0.1.1", "198.17.255.255", "198.20.0.1",
		"223.255.255.255", "203.0.113.5",
	};
	static const char *const priv6[] = {
		"::", "::1", "fe80::1", "febf::1", "fec0::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff05::1:3",
		/* IPv4 inside IPv6: judged by the IPv4 address */
		"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:0.0.0.0", "::127.0.0.1",
		"64:ff9b::7f00:1", "64:ff9b::192.168.0.1", "64:ff9b:1::8.8.8.8", "64:ff9b:1:ffff::1",
		"2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::1",
	};
	static const char *const pub6[] = {
		"2001:db8::1", "2606:4700:4700::1111", "2400:cb00::1", "fe7f::1", "fb00::1",
		"::ffff:8.8.8.8", "::ffff:1.1.1.1", "64:ff9b::8.8.8.8", "64:ff9b::101:101", "2002:808:808::1",
		"64:ff9a::7f00:1",
	};
	for (size_t i = 0; i < ARRAY_SIZE(priv4); i++)
		if (!private4(priv4[i]))
			fail_msg("%s counted as public", priv4[i]);
	for (size_t i = 0; i < ARRAY_SIZE(pub4); i++)
		if (private4(pub4[i]))
			fail_msg("%s counted as private", pub4[i]);
	for (size_t i = 0; i < ARRAY_SIZE(priv6); i++)
		if (!private6(priv6[i]))
			fail_msg("%s counted as public", priv6[i]);
	for (size_t i = 0; i < ARRAY_SIZE(pub6); i++)
		if (private6(pub6[i]))
			fail_msg("%s counted as private", pub6[i]);
	/* anything but IPv4 and IPv6 (a unix socket): never */
	struct sockaddr un = { .sa_family = AF_UNIX };
	assert_true(net_address_private(&un));
}

/* ---- a stop cuts a command (the poller at a server stop) ---- */

struct silent {
	int fd;
	atomic_bool asked;  /* a command arrived: the client now waits for an answer */
};

/* Greets, reads the first command, never answers; ends when the client
 * closes. */
static void *silent_main(void *arg)
{
	struct silent *s = arg;
	int c = accept(s->fd, NULL, NULL);
	char buf[512];
	if (c < 0)
		return NULL;
	static const char hello[] = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n";
	if (write(c, hello, sizeof(hello) - 1) < 0) {
		close(c);
		return NULL;
	}
	while (read(c, buf, sizeof(buf)) > 0)
		atomic_store(&s->asked, true);
	close(c);
	return NULL;
}

static bool cut_once_asked(void *ctx)
{
	return atomic_load(&((struct silent *)ctx)->asked);
}

static bool always(void *ctx)
{
	(void)ctx;
	return true;
}

static void test_cancel(void **state)
{
	(void)state;
	struct silent s = { .fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	assert_true(s.fd >= 0);
	assert_int_equal(bind(s.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s.fd, 1), 0);
	assert_int_equal(getsockname(s.fd, (struct sockaddr *)&a, &len), 0);
	atomic_init(&s.asked, false);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, silent_main, &s), 0);

	/* hanging on a server that does not answer (30 s before a timeout):
	 * the callback cuts it, -ECANCELED and not -ETIMEDOUT */
	struct mail_imap *m = NULL;
	struct mail_imap_options o = { .host = "127.0.0.1", .port = ntohs(a.sin_port), .folder = "INBOX",
				       .user = "u", .password = "p", .timeout_seconds = 30, .allow_private = true,
				       .cancelled = cut_once_asked, .cancel_ctx = &s };
	assert_int_equal(mail_imap_new(&o, &m), 0);
	assert_int_equal(mail_imap_check(m), -ECANCELED);
	assert_true(atomic_load(&s.asked));
	/* already stopping: no other command starts (nothing is connected) */
	uint32_t v;
	assert_int_equal(mail_imap_uidvalidity(m, &v), -ECANCELED);
	assert_string_equal(mail_imap_error(m), "stopped");
	mail_imap_free(m);
	pthread_join(t, NULL);
	close(s.fd);

	o.cancelled = always;
	o.port = 1; /* never reached */
	assert_int_equal(mail_imap_new(&o, &m), 0);
	assert_int_equal(mail_imap_check(m), -ECANCELED);
	mail_imap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_plain),     cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_encodings),        cmocka_unit_test(test_attached_message),
		cmocka_unit_test(test_limits),           cmocka_unit_test(test_settings),
		cmocka_unit_test(test_search_answer),    cmocka_unit_test(test_status_answer),
		cmocka_unit_test(test_private_addresses), cmocka_unit_test(test_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
