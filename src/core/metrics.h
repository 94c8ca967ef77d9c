/*
 * metrics — a tiny process-wide registry of counters, gauges and one latency
 * histogram, rendered in the Prometheus text format 0.0.4 (GET /metrics).
 *
 * Every series is fixed at compile time (names and label values below), so
 * the registry is plain static memory: nothing to create, nothing to free,
 * safe from any thread at any time (even before main() sets anything up).
 * The hot paths are lock-free relaxed atomic adds: a counter is one add, a
 * histogram observation two (its bucket and the sum; the count is the sum
 * of the buckets).  A scrape reads each value once; it may see one
 * request's bucket without its sum (Prometheus tolerates such skew), never
 * a torn value.
 *
 * Series (see docs/internals/OPS.md):
 *   kunren_mails_sent_total                         counter  (deliver)
 *   kunren_mail_errors_total                        counter  (deliver)
 *   kunren_events_total{kind="opened",...}          counter  (track writer,
 *                                                   after the commit succeeds)
 *   kunren_webhook_deliveries_total{result="ok|error"} counter (webhooks)
 *   kunren_http_request_duration_seconds{listener="console|tracker"} histogram
 *   kunren_tracker_queue_depth                      gauge    (track writer)
 *   kunren_delivery_queue_depth                     gauge    (deliver)
 *   kunren_ready                                    gauge    (ops_ready)
 */
#ifndef KUNREN_METRICS_H
#define KUNREN_METRICS_H

#include "core/core.h"

/* ---- counters ---------------------------------------------------------- */

enum metric_counter {
	METRIC_MAILS_SENT,
	METRIC_MAIL_ERRORS,
	METRIC_WEBHOOK_OK,        /* kunren_webhook_deliveries_total{result="ok"} */
	METRIC_WEBHOOK_ERROR,     /* kunren_webhook_deliveries_total{result="error"} */
	METRIC__COUNTERS
};
void metrics_count(enum metric_counter c, uint64_t n);
/* One webhook delivery attempt finished: ok (2xx) or not. */
void metrics_webhook(bool ok);

/* Events stored, by kind.  `kind` is the index of store.h's enum event_kind
 * (core does not include store.h: the names are mirrored in metrics.c and
 * track/writer.c asserts METRICS_EVENT_KINDS == EV__COUNT).  Out-of-range
 * kinds are ignored.  Call only after the event's commit succeeded. */
#define METRICS_EVENT_KINDS 8
void metrics_event(unsigned kind, uint64_t n);

/* ---- gauges -------------------------------------------------------------- */

enum metric_gauge {
	METRIC_TRACKER_QUEUE,     /* kunren_tracker_queue_depth */
	METRIC_DELIVERY_QUEUE,    /* kunren_delivery_queue_depth */
	METRIC__GAUGES
};
void metrics_gauge_set(enum metric_gauge g, int64_t v);
void metrics_gauge_add(enum metric_gauge g, int64_t delta);
int64_t metrics_gauge_get(enum metric_gauge g);

/* ---- request latency histogram ----------------------------------------- */

/* Which listener a request came in on (http_server_options.metrics_listener). */
enum metric_listener {
	METRIC_LISTENER_NONE,     /* not measured (tests, other servers) */
	METRIC_LISTENER_CONSOLE,
	METRIC_LISTENER_TRACKER,
	METRIC__LISTENERS
};
/* One request took `usec` microseconds (negative counts as 0). */
void metrics_observe_request(enum metric_listener l, int64_t usec);
/* Monotonic microseconds, for measuring what metrics_observe_request takes. */
int64_t metrics_now_us(void);

/* ---- readiness (GET /readyz) --------------------------------------------- */

/* Starts true.  serve() sets it false as soon as shutdown begins, so /readyz
 * answers 503 while in-flight work finishes. */
void ops_ready_set(bool ready);
bool ops_ready(void);

/* The tracker writer's bound (track_int.h TRACK_QUEUE_MAX, asserted equal):
 * at or past it the tracker is not ready. */
#define OPS_TRACKER_QUEUE_MAX 100000
/* The answer of GET /readyz on both listeners.  store_ok: the caller's
 * store query worked (store_ping).  Checks "store", "shutdown" (ops_ready)
 * and "tracker_queue" (the gauge below OPS_TRACKER_QUEUE_MAX), each "ok" or
 * a short reason.  Returns 200 with {"status":"ready","checks":{...}} or 503
 * with {"status":"not_ready",...}; *ret is a new reference (NULL only when
 * out of memory). */
int ops_readiness(bool store_ok, json_t **ret);
/* GET /healthz: {"status":"ok"} (new reference). */
json_t *ops_health(void);

/* ---- rendering ------------------------------------------------------------ */

/* Appends every series in the Prometheus text exposition format 0.0.4
 * (Content-Type: text/plain; version=0.0.4; charset=utf-8).  Returns 0, or
 * -E2BIG when b's cap is too small (b is then partly written). */
int metrics_render(struct buf *b);
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Zeroes every counter, gauge and histogram (unit tests only). */
void metrics_reset(void);

#endif
