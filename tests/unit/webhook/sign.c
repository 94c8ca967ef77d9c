/* Tests of src/webhook/: the Kunren-Signature header (sign.c) against
 * HMAC-SHA256 values computed independently (Python's hmac), secrets, the
 * back-off (dispatch.c), URL checks (send.c) and the kinds filter and
 * event payload (payload.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "webhook/webhook.h"

static void test_signature_vectors(void **state)
{
	(void)state;
	char out[WEBHOOK_SIGNATURE_MAX];
	assert_int_equal(webhook_sign(SLICE_LIT("whsec_test"), 1700000000, SLICE_LIT("{\"a\":1}"), out), 0);
	assert_string_equal(out, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
	/* an empty body still signs "<t>." */
	assert_int_equal(webhook_sign(SLICE_LIT("k"), 0, SLICE_LIT(""), out), 0);
	assert_string_equal(out, "t=0,v1=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");
	/* any change of time, body or secret changes the signature */
	char other[WEBHOOK_SIGNATURE_MAX];
	assert_int_equal(webhook_sign(SLICE_LIT("whsec_test"), 1700000001, SLICE_LIT("{\"a\":1}"), other), 0);
	assert_string_not_equal(strchr(out, ','), strchr(other, ','));
	assert_int_equal(webhook_sign(SLICE_LIT("whsec_tesT"), 1700000000, SLICE_LIT("{\"a\":1}"), other), 0);
	assert_string_not_equal(other, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
	/* the largest time still fits */
	assert_int_equal(webhook_sign(SLICE_LIT("k"), INT64_MAX, SLICE_LIT("x"), out), 0);
	assert_int_equal(strlen(out), strlen("t=9223372036854775807,v1=") + 64);
}

static void test_secret(void **state)
{
	(void)state;
	char a[WEBHOOK_SECRET_LEN + 1], b[WEBHOOK_SECRET_LEN + 1];
	webhook_secret_new(a);
	webhook_secret_new(b);
	assert_int_equal(strlen(a), WEBHOOK_SECRET_LEN);
	assert_memory_equal(a, "whsec_", 6);
	for (const char *c = a + 6; *c; c++)
		assert_true((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'));
	assert_string_not_equal(a, b);
}

static void test_backoff(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++) {
		/* attempt n waits retry * 2^(n-1), jittered into its upper half */
		int64_t d1 = webhook_backoff_ms(30, 1), d3 = webhook_backoff_ms(30, 3);
		assert_true(d1 >= 15000 && d1 <= 30000);
		assert_true(d3 >= 60000 && d3 <= 120000);
		/* capped at an hour, however many attempts */
		int64_t d = webhook_backoff_ms(30, 40);
		assert_true(d >= 1800000 && d <= 3600000);
		d = webhook_backoff_ms(86400, 2);
		assert_true(d >= 1800000 && d <= 3600000);
	}
}

static void test_urls(void **state)
{
	(void)state;
	const char *msg;
	static const char *const good[] = {
		"https://hooks.example.com/kunren", "http://hooks.example.com:8080/a?b=c", "https://8.8.8.8/x",
		"https://[2606:4700:4700::1111]/x", "https://localhost/x", /* a name: checked when connecting */
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!webhook_url_valid(good[i], false, &msg))
			fail_msg("%s refused: %s", good[i], msg);
	static const char *const bad[] = {
		"", "hooks.example.com/x", "ftp://hooks.example.com/", "file:///etc/passwd", "gopher://x/",
		"https://user:pw@hooks.example.com/", "https://user@hooks.example.com/", "https://hooks.example.com/#x",
		"https://hooks.example.com/a b", "https://hooks.example.com/\r\nX: y", "https:///x",
		"http://127.0.0.1/x", "http://10.1.2.3/", "http://169.254.169.254/", "http://[::1]/",
		"http://[fe80::1%25eth0]/", "http://[::ffff:192.168.0.1]/", "http://0.0.0.0/",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (webhook_url_valid(bad[i], false, &msg))
			fail_msg("%s accepted", bad[i]);
	/* the operator's option lets private addresses through, nothing else */
	assert_true(webhook_url_valid("http://127.0.0.1:9/x", true, &msg));
	assert_false(webhook_url_valid("ftp://127.0.0.1/", true, &msg));
	char *longurl = xmalloc(WEBHOOK_URL_MAX + 2);
	memcpy(longurl, "https://h.example/", 18);
	memset(longurl + 18, 'a', WEBHOOK_URL_MAX + 1 - 18);
	longurl[WEBHOOK_URL_MAX + 1] = '\0';
	assert_false(webhook_url_valid(longurl, false, &msg));
	free(longurl);
}

static void test_kinds_and_payload(void **state)
{
	(void)state;
	assert_true(webhook_wants("[]", EV_OPENED));
	assert_true(webhook_wants(NULL, EV_OPENED));
	assert_true(webhook_wants("[\"opened\",\"clicked\"]", EV_CLICKED));
	assert_false(webhook_wants("[\"opened\"]", EV_CLICKED));
	/* imported history (its own old times) is not news */
	struct event old = { .at_ms = 1700000000000 };
	assert_false(webhook_event_is_history(&old, 1700000000000 + 60 * 1000));
	assert_false(webhook_event_is_history(&old, 1700000000000 + WEBHOOK_HISTORY_MS));
	assert_true(webhook_event_is_history(&old, 1700000000000 + WEBHOOK_HISTORY_MS + 1));

	const struct tz *z = tz_get("Asia/Tokyo");
	assert_non_null(z);
	struct campaign c = { .id = 7, .tenant_id = 3, .name = "訓練A", .exclusion_seconds = 60 };
	struct target t = { .id = 11, .campaign_id = 7, .sent_at = 1700000000 };
	const char *f[PF__COUNT] = { "山田", "太郎", "taro@example.jp", "総務部", "課長", "", "", "" };
	memcpy(t.p.f, f, sizeof(f));
	/* clicked 10 s after delivery: within the 60 s rule, a machine's */
	struct event e = { .id = 99, .campaign_id = 7, .target_id = 11, .kind = EV_CLICKED,
			   .at_ms = 1700000010000, .ip = "203.0.113.9", .detail = "{\"fields\":[\"userid\"]}" };
	json_auto_t *j = webhook_event_payload("d1", z, &c, &t, &e);
	assert_non_null(j);
	json_t *ev = json_object_get(j, "event");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "event");
	assert_string_equal(json_string_value(json_object_get(ev, "kind")), "clicked");
	assert_string_equal(json_string_value(json_object_get(ev, "kind_label")), "リンククリック");
	assert_string_equal(json_string_value(json_object_get(ev, "at")), "2023-11-15T07:13:30+09:00");
	assert_true(json_is_false(json_object_get(ev, "counted")));
	assert_true(json_is_true(json_object_get(ev, "machine")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "reasons"), 0)), "fast");
	assert_true(json_is_null(json_object_get(ev, "os")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "fields"), 0)), "userid");
	json_t *who = json_object_get(j, "target");
	assert_string_equal(json_string_value(json_object_get(who, "name")), "山田 太郎");
	assert_string_equal(json_string_value(json_object_get(who, "email")), "taro@example.jp");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "campaign"), "name")), "訓練A");
	/* an hour later it counts; the campaign's own event has no target */
	e.at_ms += 3600 * 1000;
	e.detail = "not json";
	json_auto_t *k = webhook_event_payload("d2", z, &c, NULL, &e);
	assert_true(json_is_true(json_object_get(json_object_get(k, "event"), "counted")));
	assert_true(json_is_null(json_object_get(k, "target")));
	assert_null(json_object_get(json_object_get(k, "event"), "fields"));
	/* text from outside that is not UTF-8 still makes a payload */
	e.user_agent = "Bad\xff\xfe" "Agent";
	json_auto_t *u = webhook_event_payload("d3", z, &c, &t, &e);
	assert_non_null(u);
	assert_string_equal(json_string_value(json_object_get(json_object_get(u, "event"), "user_agent")),
			    "Bad\xef\xbf\xbd\xef\xbf\xbd" "Agent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_vectors), cmocka_unit_test(test_secret), cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_urls), cmocka_unit_test(test_kinds_and_payload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
