/*
 * Unit tests for src/track/signals.c: every rule of "Machine events" in
 * docs/internals/TRACK.md, its thresholds on both sides, and many threads
 * noting at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "track/signals.h"

#include <pthread.h>

#define CHROME "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " \
	"Chrome/131.0.0.0 Safari/537.36"
#define GMAIL "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
#define SAFELINKS "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) " \
	"Chrome/70.0.3538.102 Safari/537.36"

static struct track_hit hit(int64_t target, enum event_kind kind, int64_t at_ms, const char *ip, const char *ua,
			    const char *link)
{
	return (struct track_hit){ .campaign_id = 1, .target_id = target, .kind = kind, .at_ms = at_ms,
				   .ip = ip, .user_agent = ua, .link = link };
}

static uint32_t note(struct track_signals *s, int64_t target, enum event_kind kind, int64_t at_ms,
		     const char *ua, const char *link)
{
	struct track_hit h = hit(target, kind, at_ms, "192.0.2.1", ua, link);
	return track_signals_note(s, &h);
}

static void test_probes(void **state)
{
	struct track_signals *s = track_signals_new();
	struct track_hit h = hit(1, EV_OPENED, 1000, "192.0.2.1", CHROME, NULL);
	h.head = true;
	assert_int_equal(track_signals_note(s, &h), EVS_HEAD);
	h.head = false;
	h.options = true;
	assert_int_equal(track_signals_note(s, &h), EVS_OPTIONS);
	/* a probe is no open: a click after it has none before it */
	assert_int_equal(note(s, 1, EV_CLICKED, 2000, CHROME, "1.2"), EVS_NO_OPEN);
	track_signals_free(s);
}

static void test_scanner_uas(void **state)
{
	static const char *const machines[] = {
		GMAIL, SAFELINKS, "Mozilla/5.0", "", "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
		"Barracuda Sentinel (EE)", "Mozilla/5.0 (compatible; Proofpoint URL Defense)", "Mimecast-URL-Protect",
		"Microsoft Office Existence Discovery", "python-requests/2.31.0", "curl/8.5.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
	};
	static const char *const people[] = {
		CHROME,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",

		/* Edge on Windows 7 is no Safe Links sandbox pattern */
		"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36 Edg/109.0.1518.78",
		/* a current Chrome on Windows 7 does not exist; 110 on 6.1 is taken as a person's */
		"Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 6.2; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.0.0 Safari/537.36",
	};
	struct track_signals *s = track_signals_new();
	int64_t id = 100;
	for (size_t i = 0; i < ARRAY_SIZE(machines); i++, id++) {
		uint32_t sig = note(s, id, EV_OPENED, 1000, machines[i], NULL);
		if (sig != EVS_SCANNER_UA)
			fail_msg("%s: %#x", machines[i], sig);
	}
	assert_int_equal(note(s, id++, EV_OPENED, 1000, NULL, NULL), EVS_SCANNER_UA);
	for (size_t i = 0; i < ARRAY_SIZE(people); i++, id++) {
		uint32_t sig = note(s, id, EV_OPENED, 1000, people[i], NULL);
		if (sig != 0)
			fail_msg("%s: %#x", people[i], sig);
	}
	/* the UA parser's "bot" device class */
	struct track_hit h = hit(id, EV_OPENED, 1000, "192.0.2.1", CHROME, NULL);
	h.bot_ua = true;
	assert_int_equal(track_signals_note(s, &h), EVS_SCANNER_UA);
	track_signals_free(s);
}

static void test_no_open(void **state)
{
	struct track_signals *s = track_signals_new();
	/* a click first */
	assert_int_equal(note(s, 1, EV_CLICKED, 1000, CHROME, "1.2"), EVS_NO_OPEN);
	/* a person's open, then clicks: none marked */
	assert_int_equal(note(s, 2, EV_OPENED, 1000, CHROME, NULL), 0);
	assert_int_equal(note(s, 2, EV_CLICKED, 5000, CHROME, "1.2"), 0);
	/* an image proxy's open is no human-looking open */
	assert_int_equal(note(s, 3, EV_OPENED, 1000, GMAIL, NULL), EVS_SCANNER_UA);
	assert_int_equal(note(s, 3, EV_CLICKED, 9000, CHROME, "1.2"), EVS_NO_OPEN);
	/* an attachment opened counts as an open */
	assert_int_equal(note(s, 4, EV_FILE_OPENED, 1000, CHROME, NULL), 0);
	assert_int_equal(note(s, 4, EV_CLICKED, 9000, CHROME, NULL), 0);
	/* only clicks are judged by it */
	assert_int_equal(note(s, 5, EV_SUBMITTED, 1000, CHROME, NULL), 0);
	track_signals_free(s);
}

static void test_hidden_link(void **state)
{
	struct track_signals *s = track_signals_new();
	assert_int_equal(note(s, 1, EV_OPENED, 1000, CHROME, NULL), 0);
	assert_int_equal(note(s, 1, EV_CLICKED, 3000, CHROME, "0.3"), EVS_HIDDEN_LINK);
	assert_int_equal(note(s, 1, EV_CLICKED, 6000, CHROME, "0.0"), EVS_HIDDEN_LINK);
	/* l on an open means nothing */
	assert_int_equal(note(s, 1, EV_OPENED, 9000, CHROME, "0.3"), 0);
	/* malformed values say nothing about links */
	static const char *const bad[] = { "", "0", "1", "4.3", "1.3x", "a.b", "-1.3", "1.-3", ".3", "1.", "1.3.1",
					   "99999999999999999999.3", "1.99999999999999999999", " 1.3", "1.3 " };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint32_t sig = note(s, 1, EV_CLICKED, 20000 + 5000 * (int64_t)i, CHROME, bad[i]);
		if (sig != 0)
			fail_msg("l=\"%s\": %#x", bad[i], sig);
	}
	track_signals_free(s);
}

static void test_link_burst(void **state)
{
	struct track_signals *s = track_signals_new();
	note(s, 1, EV_OPENED, 1000, CHROME, NULL);
	/* every link of three within a second: the one completing it */
	assert_int_equal(note(s, 1, EV_CLICKED, 10000, CHROME, "2.3"), 0);
	assert_int_equal(note(s, 1, EV_CLICKED, 10300, CHROME, "1.3"), 0);
	assert_int_equal(note(s, 1, EV_CLICKED, 10999, CHROME, "3.3"), EVS_LINK_BURST);
	/* and the next while all three are within a second still */
	assert_int_equal(note(s, 1, EV_CLICKED, 11000, CHROME, "2.3"), EVS_LINK_BURST);
	assert_int_equal(note(s, 1, EV_CLICKED, 11400, CHROME, "2.3"), 0);
	/* a second and more apart: a person going through the links */
	note(s, 2, EV_OPENED, 1000, CHROME, NULL);
	assert_int_equal(note(s, 2, EV_CLICKED, 10000, CHROME, "1.3"), 0);
	assert_int_equal(note(s, 2, EV_CLICKED, 10500, CHROME, "2.3"), 0);
	assert_int_equal(note(s, 2, EV_CLICKED, 11000, CHROME, "3.3"), 0);
	/* the same link twice is not every link */
	note(s, 3, EV_OPENED, 1000, CHROME, NULL);
	assert_int_equal(note(s, 3, EV_CLICKED, 10000, CHROME, "1.2"), 0);
	assert_int_equal(note(s, 3, EV_CLICKED, 10100, CHROME, "1.2"), 0);
	assert_int_equal(note(s, 3, EV_CLICKED, 10200, CHROME, "2.2"), EVS_LINK_BURST);
	/* a mail of one link: a double click is no burst */
	note(s, 4, EV_OPENED, 1000, CHROME, NULL);
	assert_int_equal(note(s, 4, EV_CLICKED, 10000, CHROME, "1.1"), 0);
	assert_int_equal(note(s, 4, EV_CLICKED, 10100, CHROME, "1.1"), 0);
	/* links of other targets do not add up */
	note(s, 5, EV_OPENED, 1000, CHROME, NULL);
	note(s, 6, EV_OPENED, 1000, CHROME, NULL);
	assert_int_equal(note(s, 5, EV_CLICKED, 10000, CHROME, "1.2"), 0);
	assert_int_equal(note(s, 6, EV_CLICKED, 10000, CHROME, "2.2"), 0);
	/* 32 links is the most recognised */
	note(s, 7, EV_OPENED, 1000, CHROME, NULL);
	uint32_t last = 0;
	for (int i = 1; i <= 32; i++) {
		char l[16];
		snprintf(l, sizeof(l), "%d.32", i);
		last = note(s, 7, EV_CLICKED, 10000 + i, CHROME, l);
		if (i < 32)
			assert_int_equal(last, 0);
	}
	assert_int_equal(last, EVS_LINK_BURST);
	track_signals_free(s);
}

static void test_shared_ip(void **state)
{
	struct track_signals *s = track_signals_new();
	/* each target opens from its own address first */
	for (int64_t t = 1; t <= 10; t++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "198.51.100.%d", (int)t);
		struct track_hit o = hit(t, EV_OPENED, 100, ip, CHROME, NULL);
		assert_int_equal(track_signals_note(s, &o), 0);
	}
	/* nine targets from one client within ten seconds: none; the tenth is */
	for (int64_t t = 1; t <= 9; t++)
		assert_int_equal(note(s, t, EV_CLICKED, 1000 + t * 900, CHROME, "1.2"), 0);
	assert_int_equal(note(s, 10, EV_CLICKED, 1900 + 9990, CHROME, "1.2"), EVS_SHARED_IP);
	/* the same target again is no new one, but the client is still shared */
	assert_int_equal(note(s, 10, EV_CLICKED, 11895, CHROME, "1.2"), EVS_SHARED_IP);
	/* another user agent on the same IP is another client */
	struct track_hit h = hit(11, EV_OPENED, 11920, "192.0.2.1", GMAIL, NULL);
	assert_int_equal(track_signals_note(s, &h), EVS_SCANNER_UA);
	/* another campaign is counted apart */
	h = hit(12, EV_OPENED, 11930, "192.0.2.1", CHROME, NULL);
	h.campaign_id = 2;
	assert_int_equal(track_signals_note(s, &h), 0);
	/* long after: the window has passed */
	assert_int_equal(note(s, 1, EV_CLICKED, 60000, CHROME, "1.2"), 0);
	/* probes are not counted as acting for a target */
	for (int64_t t = 20; t < 40; t++) {
		h = hit(t, EV_OPENED, 70000, "192.0.2.9", CHROME, NULL);
		h.head = true;
		assert_int_equal(track_signals_note(s, &h), EVS_HEAD);
	}
	track_signals_free(s);
}

/* Many targets, many clients, several threads: bounded tables, no race
 * (run under the sanitizers too); and a fresh target after eviction is
 * judged again from nothing. */
struct worker {
	struct track_signals *s;
	int id;
	uint32_t seen;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char ip[32];
	for (int i = 0; i < 50000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", w->id, (i >> 8) & 255, i & 255);
		struct track_hit h = hit(w->id * 1000000 + i, i % 3 ? EV_CLICKED : EV_OPENED, 1000 + i, ip, CHROME,
					 i % 5 ? "1.2" : "0.2");
		w->seen |= track_signals_note(w->s, &h);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct track_signals *s = track_signals_new();
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ s, i + 1, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].seen & EVS_HIDDEN_LINK);
		assert_true(w[i].seen & EVS_NO_OPEN);
		assert_false(w[i].seen & EVS_SHARED_IP); /* a new IP for every target */
	}
	track_signals_free(s);
	track_signals_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_scanner_uas),
		cmocka_unit_test(test_no_open),
		cmocka_unit_test(test_hidden_link),
		cmocka_unit_test(test_link_burst),
		cmocka_unit_test(test_shared_ip),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
