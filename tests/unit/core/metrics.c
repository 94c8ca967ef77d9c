/* Unit tests for src/core/metrics.c: the Prometheus text it renders (every
 * line well-formed, one TYPE per family, histograms cumulative), counters
 * and histograms under concurrent updates, readiness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <pthread.h>

#include "core/metrics.h"
#include "store/store.h"

static char *render(void)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(metrics_render(&b), 0);
	return buf_steal(&b);
}

/* The value of the sample line "<series> <value>"; fails when absent or
 * present twice. */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *found = NULL;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		assert_non_null(end);
		if ((size_t)(end - line) > n && !strncmp(line, series, n) && line[n] == ' ') {
			assert_null(found);
			found = line + n + 1;
		}
		line = end + 1;
	}
	if (!found)
		fail_msg("no series %s", series);
	return strtod(found, NULL);
}

static bool name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

/* Text format 0.0.4: "# HELP name text", "# TYPE name type" once per family
 * and before its samples, samples "name{l="v",...} value" of that family. */
static void check_format(const char *text)
{
	char family[128] = "", typed[64][128];
	size_t ntyped = 0;
	assert_true(strlen(text) > 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = (size_t)(end - line);
		char l[512];
		assert_true(len > 0 && len < sizeof(l));
		memcpy(l, line, len);
		l[len] = '\0';
		line = end + 1;
		if (!strncmp(l, "# HELP ", 7))
			continue;
		if (!strncmp(l, "# TYPE ", 7)) {
			char name[128], type[32];
			assert_int_equal(sscanf(l + 7, "%127s %31s", name, type), 2);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge") || !strcmp(type, "histogram"));
			for (size_t i = 0; i < ntyped; i++)
				assert_string_not_equal(typed[i], name);
			assert_true(ntyped < 64);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
			snprintf(family, sizeof(family), "%s", name);
			continue;
		}
		assert_int_not_equal(l[0], '#');
		/* name */
		size_t i = 0;
		assert_true(name_char(l[0], true));
		while (name_char(l[i], i == 0))
			i++;
		assert_true(family[0]);
		assert_memory_equal(l, family, strlen(family)); /* _bucket/_sum/_count share it */
		if (l[i] == '{') {
			i++;
			for (;;) {
				assert_true(name_char(l[i], true));
				while (name_char(l[i], false))
					i++;
				assert_int_equal(l[i++], '=');
				assert_int_equal(l[i++], '"');
				while (l[i] && l[i] != '"') {
					assert_int_not_equal(l[i], '\\');
					i++;
				}
				assert_int_equal(l[i++], '"');
				if (l[i] == ',') {
					i++;
					continue;
				}
				assert_int_equal(l[i++], '}');
				break;
			}
		}
		assert_int_equal(l[i++], ' ');
		char *num_end;
		strtod(l + i, &num_end);
		assert_true(num_end > l + i);
		assert_int_equal(*num_end, '\0');
	}
}

static void test_render_zero(void **state)
{
	metrics_reset();
	_cleanup_free_ char *t = render();
	check_format(t);
	assert_true(value_of(t, "kunren_mails_sent_total") == 0);
	assert_true(value_of(t, "kunren_mail_errors_total") == 0);
	assert_true(value_of(t, "kunren_events_total{kind=\"opened\"}") == 0);
	assert_true(value_of(t, "kunren_webhook_deliveries_total{result=\"ok\"}") == 0);
	assert_true(value_of(t, "kunren_webhook_deliveries_total{result=\"error\"}") == 0);
	assert_true(value_of(t, "kunren_http_request_duration_seconds_count{listener=\"console\"}") == 0);
	assert_true(value_of(t, "kunren_http_request_duration_seconds_count{listener=\"tracker\"}") == 0);
	assert_true(value_of(t, "kunren_tracker_queue_depth") == 0);
	assert_true(value_of(t, "kunren_delivery_queue_depth") == 0);
	assert_true(value_of(t, "kunren_ready") == 1);
	/* "created" is a console action, not a series */
	assert_null(strstr(t, "kind=\"created\""));
}

static void test_counters_and_events(void **state)
{
	metrics_reset();
	metrics_count(METRIC_MAILS_SENT, 3);
	metrics_count(METRIC_MAIL_ERRORS, 1);
	metrics_webhook(true);
	metrics_webhook(true);
	metrics_webhook(false);
	metrics_event(EV_OPENED, 2);
	metrics_event(EV_CLICKED, 1);
	metrics_event(EV__COUNT, 5);     /* out of range: ignored */
	metrics_event(1000, 5);
	metrics_count((enum metric_counter)99, 1);
	metrics_gauge_set(METRIC_TRACKER_QUEUE, 7);
	metrics_gauge_add(METRIC_DELIVERY_QUEUE, 4);
	metrics_gauge_add(METRIC_DELIVERY_QUEUE, -1);
	_cleanup_free_ char *t = render();
	check_format(t);
	assert_true(value_of(t, "kunren_mails_sent_total") == 3);
	assert_true(value_of(t, "kunren_mail_errors_total") == 1);
	assert_true(value_of(t, "kunren_webhook_deliveries_total{result=\"ok\"}") == 2);
	assert_true(value_of(t, "kunren_webhook_deliveries_total{result=\"error\"}") == 1);
	assert_true(value_of(t, "kunren_events_total{kind=\"opened\"}") == 2);
	assert_true(value_of(t, "kunren_events_total{kind=\"clicked\"}") == 1);
	assert_true(value_of(t, "kunren_events_total{kind=\"submitted\"}") == 0);
	assert_true(value_of(t, "kunren_tracker_queue_depth") == 7);
	assert_true(value_of(t, "kunren_delivery_queue_depth") == 3);
	assert_int_equal(metrics_gauge_get(METRIC_DELIVERY_QUEUE), 3);
}

/* The label names are the store's (the API's) event kind names. */
static void test_event_names(void **state)
{
	metrics_reset();
	for (int k = 0; k < EV__COUNT; k++)
		metrics_event((unsigned)k, (uint64_t)k + 1);
	_cleanup_free_ char *t = render();
	for (int k = EV_SENT; k < EV__COUNT; k++) {
		_cleanup_free_ char *series = xasprintf("kunren_events_total{kind=\"%s\"}", event_kind_name(k));
		assert_true(value_of(t, series) == k + 1);
	}
}

static void test_histogram(void **state)
{
	metrics_reset();
	static const char c[] = "kunren_http_request_duration_seconds";
	metrics_observe_request(METRIC_LISTENER_CONSOLE, -5);      /* counts as 0 */
	metrics_observe_request(METRIC_LISTENER_CONSOLE, 500);     /* le 0.0005 exactly */
	metrics_observe_request(METRIC_LISTENER_CONSOLE, 501);     /* le 0.001 */
	metrics_observe_request(METRIC_LISTENER_CONSOLE, 200000);  /* le 0.25 */
	metrics_observe_request(METRIC_LISTENER_CONSOLE, 20000000); /* +Inf only */
	metrics_observe_request(METRIC_LISTENER_TRACKER, 1000);
	metrics_observe_request(METRIC_LISTENER_NONE, 1000);       /* not measured */
	metrics_observe_request((enum metric_listener)7, 1000);
	_cleanup_free_ char *t = render();
	check_format(t);
	char s[256];
#define V(fmt, ...) (snprintf(s, sizeof(s), fmt, __VA_ARGS__), value_of(t, s))
	assert_true(V("%s_bucket{listener=\"console\",le=\"0.0005\"}", c) == 2);
	assert_true(V("%s_bucket{listener=\"console\",le=\"0.001\"}", c) == 3);
	assert_true(V("%s_bucket{listener=\"console\",le=\"0.1\"}", c) == 3);
	assert_true(V("%s_bucket{listener=\"console\",le=\"0.25\"}", c) == 4);
	assert_true(V("%s_bucket{listener=\"console\",le=\"10\"}", c) == 4);
	assert_true(V("%s_bucket{listener=\"console\",le=\"+Inf\"}", c) == 5);
	assert_true(V("%s_count{listener=\"console\"}", c) == 5);
	assert_true(V("%s_sum{listener=\"console\"}", c) == 20.201001);
	assert_true(V("%s_count{listener=\"tracker\"}", c) == 1);
	assert_true(V("%s_sum{listener=\"tracker\"}", c) == 0.001);
	assert_true(V("%s_bucket{listener=\"tracker\",le=\"0.0005\"}", c) == 0);
	assert_true(V("%s_bucket{listener=\"tracker\",le=\"0.001\"}", c) == 1);
#undef V
	/* buckets are cumulative: never decreasing, le ascending */
	const char *p = t;
	double last = -1, last_le = -1;
	while ((p = strstr(p, "_bucket{listener=\"console\",le=\""))) {
		p += strlen("_bucket{listener=\"console\",le=\"");
		double le = strncmp(p, "+Inf", 4) ? strtod(p, NULL) : 1e300;
		double v = strtod(strchr(p, ' ') + 1, NULL);
		assert_true(le > last_le);
		assert_true(v >= last);
		last_le = le;
		last = v;
	}
	assert_true(last == 5);
}

#define THREADS 4
#define PER_THREAD 100000

static void *hammer(void *arg)
{
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_observe_request(METRIC_LISTENER_TRACKER, i % 3000);
		metrics_count(METRIC_MAILS_SENT, 1);
		metrics_event(EV_OPENED, 1);
		metrics_gauge_add(METRIC_TRACKER_QUEUE, 1);
		metrics_gauge_add(METRIC_TRACKER_QUEUE, -1);
	}
	return arg;
}

/* Lock-free updates from many threads lose nothing. */
static void test_concurrent(void **state)
{
	metrics_reset();
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	/* scrapes while they run are well-formed */
	for (int i = 0; i < 20; i++) {
		_cleanup_free_ char *t = render();
		check_format(t);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	_cleanup_free_ char *t = render();
	double total = (double)THREADS * PER_THREAD;
	assert_true(value_of(t, "kunren_mails_sent_total") == total);
	assert_true(value_of(t, "kunren_events_total{kind=\"opened\"}") == total);
	assert_true(value_of(t, "kunren_http_request_duration_seconds_count{listener=\"tracker\"}") == total);
	assert_true(value_of(t, "kunren_http_request_duration_seconds_bucket{listener=\"tracker\",le=\"+Inf\"}") == total);
	assert_true(value_of(t, "kunren_tracker_queue_depth") == 0);
}

static void test_render_cap(void **state)
{
	metrics_reset();
	struct buf b = BUF_INIT(100);
	assert_int_equal(metrics_render(&b), -E2BIG);
	buf_release(&b);
}

static void test_readiness(void **state)
{
	metrics_reset();
	json_t *j = NULL;
	assert_int_equal(ops_readiness(true, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ready");
	json_t *checks = json_object_get(j, "checks");
	assert_string_equal(json_string_value(json_object_get(checks, "store")), "ok");
	assert_string_equal(json_string_value(json_object_get(checks, "shutdown")), "ok");
	assert_string_equal(json_string_value(json_object_get(checks, "tracker_queue")), "ok");
	json_decref(j);

	assert_int_equal(ops_readiness(false, &j), 503);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "not_ready");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "checks"), "store")), "failing");
	json_decref(j);

	metrics_gauge_set(METRIC_TRACKER_QUEUE, OPS_TRACKER_QUEUE_MAX);
	assert_int_equal(ops_readiness(true, &j), 503);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "checks"), "tracker_queue")), "full");
	json_decref(j);
	metrics_gauge_set(METRIC_TRACKER_QUEUE, OPS_TRACKER_QUEUE_MAX - 1);
	assert_int_equal(ops_readiness(true, &j), 200);
	json_decref(j);

	ops_ready_set(false);
	assert_false(ops_ready());
	assert_int_equal(ops_readiness(true, &j), 503);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "checks"), "shutdown")), "stopping");
	json_decref(j);
	_cleanup_free_ char *t = render();
	assert_true(value_of(t, "kunren_ready") == 0);
	ops_ready_set(true);

	j = ops_health();
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_zero),
		cmocka_unit_test(test_counters_and_events),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_render_cap),
		cmocka_unit_test(test_readiness),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
