/* metrics.c — static registry of counters, gauges and the request latency
 * histogram; lock-free (relaxed atomics), rendered in Prometheus text 0.0.4. */
#include "core/metrics.h"

#include <inttypes.h>
#include <stdatomic.h>

static _Atomic uint64_t counters[METRIC__COUNTERS];
static _Atomic uint64_t events[METRICS_EVENT_KINDS];
static _Atomic int64_t gauges[METRIC__GAUGES];
static atomic_bool ready = true;

/* Mirrors store.h's enum event_kind (the API's names).  "created" (a
 * campaign made in the console, not a drill event) is not a series. */
static const char *const event_names[METRICS_EVENT_KINDS] = {
	NULL /* created */, "sent", "send_error", "opened", "clicked", "file_opened", "submitted", "reported",
};

/* Upper bounds of the buckets in microseconds (le="0.0005" ... le="10");
 * the last bucket, +Inf, is implicit. */
static const uint64_t bucket_us[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBUCKETS (ARRAY_SIZE(bucket_us) + 1)

/* The count is the sum of the buckets (one atomic add less per request). */
struct histogram {
	_Atomic uint64_t bucket[NBUCKETS]; /* per bucket, not cumulative */
	_Atomic uint64_t sum_us;
};
static struct histogram latency[METRIC__LISTENERS];
static const char *const listener_names[METRIC__LISTENERS] = { NULL, "console", "tracker" };

void metrics_count(enum metric_counter c, uint64_t n)
{
	if ((unsigned)c < METRIC__COUNTERS)
		atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

void metrics_webhook(bool ok)
{
	metrics_count(ok ? METRIC_WEBHOOK_OK : METRIC_WEBHOOK_ERROR, 1);
}

void metrics_event(unsigned kind, uint64_t n)
{
	if (kind < METRICS_EVENT_KINDS)
		atomic_fetch_add_explicit(&events[kind], n, memory_order_relaxed);
}

void metrics_gauge_set(enum metric_gauge g, int64_t v)
{
	if ((unsigned)g < METRIC__GAUGES)
		atomic_store_explicit(&gauges[g], v, memory_order_relaxed);
}

void metrics_gauge_add(enum metric_gauge g, int64_t delta)
{
	if ((unsigned)g < METRIC__GAUGES)
		atomic_fetch_add_explicit(&gauges[g], delta, memory_order_relaxed);
}

int64_t metrics_gauge_get(enum metric_gauge g)
{
	if ((unsigned)g >= METRIC__GAUGES)
		return 0;
	return atomic_load_explicit(&gauges[g], memory_order_relaxed);
}

void metrics_observe_request(enum metric_listener l, int64_t usec)
{
	if (l <= METRIC_LISTENER_NONE || l >= METRIC__LISTENERS)
		return;
	uint64_t us = usec > 0 ? (uint64_t)usec : 0;
	size_t i = 0;
	while (i < ARRAY_SIZE(bucket_us) && us > bucket_us[i])
		i++;
	struct histogram *h = &latency[l];
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

int64_t metrics_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ops_ready_set(bool r)
{
	atomic_store(&ready, r);
}

bool ops_ready(void)
{
	return atomic_load(&ready);
}

int ops_readiness(bool store_ok, json_t **ret)
{
	bool stopping = !ops_ready();
	bool queue_ok = metrics_gauge_get(METRIC_TRACKER_QUEUE) < OPS_TRACKER_QUEUE_MAX;
	bool ok = store_ok && !stopping && queue_ok;
	*ret = json_pack("{s:s, s:{s:s, s:s, s:s}}", "status", ok ? "ready" : "not_ready", "checks",
			 "store", store_ok ? "ok" : "failing",
			 "shutdown", stopping ? "stopping" : "ok",
			 "tracker_queue", queue_ok ? "ok" : "full");
	return ok ? 200 : 503;
}

json_t *ops_health(void)
{
	return json_pack("{s:s}", "status", "ok");
}

static uint64_t load(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* Seconds from microseconds, exactly ("0.0005", "12.345678", "10"). */
static int put_seconds(struct buf *b, uint64_t us)
{
	uint64_t frac = us % 1000000;
	if (!frac)
		return buf_printf(b, "%" PRIu64, us / 1000000);
	char digits[8];
	snprintf(digits, sizeof(digits), "%06" PRIu64, frac);
	size_t n = 6;
	while (digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	return buf_printf(b, "%" PRIu64 ".%s", us / 1000000, digits);
}

static int render_counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name,
			  name, v);
}

static int render_gauge(struct buf *b, const char *name, const char *help, int64_t v)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %" PRId64 "\n", name, help, name,
			  name, v);
}

static int render_histograms(struct buf *b)
{
	static const char name[] = "kunren_http_request_duration_seconds";
	int r = buf_printf(b, "# HELP %s Seconds from a request's headers read to its response sent.\n"
			      "# TYPE %s histogram\n", name, name);
	for (size_t l = METRIC_LISTENER_NONE + 1; r >= 0 && l < METRIC__LISTENERS; l++) {
		struct histogram *h = &latency[l];
		/* Each bucket is read once and summed: the series is cumulative
		 * and +Inf equals _count by construction, even while requests
		 * complete during the scrape. */
		uint64_t cum = 0;
		for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(bucket_us); i++) {
			cum += load(&h->bucket[i]);
			r = buf_printf(b, "%s_bucket{listener=\"%s\",le=\"", name, listener_names[l]);
			if (r >= 0)
				r = put_seconds(b, bucket_us[i]);
			if (r >= 0)
				r = buf_printf(b, "\"} %" PRIu64 "\n", cum);
		}
		cum += load(&h->bucket[NBUCKETS - 1]);
		if (r >= 0)
			r = buf_printf(b, "%s_bucket{listener=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name,
				       listener_names[l], cum);
		if (r >= 0)
			r = buf_printf(b, "%s_sum{listener=\"%s\"} ", name, listener_names[l]);
		if (r >= 0)
			r = put_seconds(b, load(&h->sum_us));
		if (r >= 0)
			r = buf_printf(b, "\n%s_count{listener=\"%s\"} %" PRIu64 "\n", name,
				       listener_names[l], cum);
	}
	return r;
}

int metrics_render(struct buf *b)
{
	int r = render_counter(b, "kunren_mails_sent_total", "Mails accepted by the relay.",
			       load(&counters[METRIC_MAILS_SENT]));
	if (r >= 0)
		r = render_counter(b, "kunren_mail_errors_total",
				   "Send attempts the relay refused or that failed (retried or not).",
				   load(&counters[METRIC_MAIL_ERRORS]));
	if (r >= 0)
		r = buf_puts(b, "# HELP kunren_events_total Events stored, by kind.\n"
				"# TYPE kunren_events_total counter\n");
	for (size_t i = 0; r >= 0 && i < METRICS_EVENT_KINDS; i++)
		if (event_names[i])
			r = buf_printf(b, "kunren_events_total{kind=\"%s\"} %" PRIu64 "\n",
				       event_names[i], load(&events[i]));
	if (r >= 0)
		r = buf_printf(b, "# HELP kunren_webhook_deliveries_total Webhook delivery attempts, by result.\n"
				  "# TYPE kunren_webhook_deliveries_total counter\n"
				  "kunren_webhook_deliveries_total{result=\"ok\"} %" PRIu64 "\n"
				  "kunren_webhook_deliveries_total{result=\"error\"} %" PRIu64 "\n",
			       load(&counters[METRIC_WEBHOOK_OK]), load(&counters[METRIC_WEBHOOK_ERROR]));
	if (r >= 0)
		r = render_histograms(b);
	if (r >= 0)
		r = render_gauge(b, "kunren_tracker_queue_depth",
				 "Tracker events waiting for the writer's commit.",
				 metrics_gauge_get(METRIC_TRACKER_QUEUE));
	if (r >= 0)
		r = render_gauge(b, "kunren_delivery_queue_depth",
				 "Mails of sending campaigns not yet handed to the relay.",
				 metrics_gauge_get(METRIC_DELIVERY_QUEUE));
	if (r >= 0)
		r = render_gauge(b, "kunren_ready", "1 while the server accepts work (GET /readyz).",
				 ops_ready() ? 1 : 0);
	return r < 0 ? r : 0;
}

void metrics_reset(void)
{
	for (size_t i = 0; i < METRIC__COUNTERS; i++)
		atomic_store(&counters[i], 0);
	for (size_t i = 0; i < METRICS_EVENT_KINDS; i++)
		atomic_store(&events[i], 0);
	for (size_t i = 0; i < METRIC__GAUGES; i++)
		atomic_store(&gauges[i], 0);
	for (size_t l = 0; l < METRIC__LISTENERS; l++) {
		for (size_t i = 0; i < NBUCKETS; i++)
			atomic_store(&latency[l].bucket[i], 0);
		atomic_store(&latency[l].sum_us, 0);
	}
	atomic_store(&ready, true);
}
