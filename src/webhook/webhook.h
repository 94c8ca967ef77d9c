/*
 * webhook — a tenant's events pushed to its own HTTPS endpoints as signed
 * JSON (SPEC H1, issue 11): the payload, the HMAC-SHA256 signature, the
 * outbound POST (libcurl; no redirects, TLS verified, private addresses
 * refused at connect time unless allowed) and the dispatcher thread that
 * queues every new event per webhook and retries failures with exponential
 * back-off and jitter.  See docs/internals/WEBHOOK.md.
 *
 * Uses core, store, report (whether an event counts, and why not).
 */
#ifndef KUNREN_WEBHOOK_H
#define KUNREN_WEBHOOK_H

#include "core/core.h"
#include "store/store.h"

/* ---- signing (sign.c) ---- */

/* "whsec_" + 32 characters of [A-Za-z0-9]: the secret a tenant is shown once. */
#define WEBHOOK_SECRET_LEN (6 + 32)
void webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1]);

/* The Kunren-Signature header value for a body sent at unix time t:
 * "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>", into out. */
#define WEBHOOK_SIGNATURE_MAX 96
int webhook_sign(struct slice secret, int64_t t, struct slice body, char out[WEBHOOK_SIGNATURE_MAX]);

/* ---- URLs and sending (send.c) ---- */

#define WEBHOOK_URL_MAX 2048
/* An absolute http(s) URL with a host, no user name or password, no
 * fragment, at most WEBHOOK_URL_MAX bytes; a host that is a literal private
 * address is refused too unless allow_private (names are checked when
 * connecting).  false with *ret_msg (static) saying why. */
bool webhook_url_valid(const char *url, bool allow_private, const char **ret_msg);

struct webhook_send_options {
	bool allow_private;
	long timeout_seconds;
	/* polled while sending: returning true aborts (shutdown); may be NULL */
	bool (*cancelled)(void *ctx);
	void *ctx;
};

#define WEBHOOK_EXCERPT_MAX 256
struct webhook_result {
	int64_t status;          /* HTTP status; 0 when none came */
	int64_t duration_ms;
	bool ok;                 /* a 2xx answer */
	bool aborted;            /* cancelled: not an attempt */
	char error[256];         /* "" when ok: what went wrong, fit for the tenant's eyes */
	char excerpt[3 * WEBHOOK_EXCERPT_MAX + 1]; /* the answer's first bytes (as valid UTF-8) */
};
/* POSTs body (application/json) to url with the Kunren-Signature,
 * Kunren-Event and Kunren-Delivery headers.  Always fills *ret. */
void webhook_post(const char *url, struct slice secret, const char *kind, const char *delivery_id,
		  struct slice body, const struct webhook_send_options *o, struct webhook_result *ret);

/* ---- payloads (payload.c) ---- */

/* The body of an event's delivery (docs/API.md "Webhooks"): times in zone;
 * c and t as read from the store (t NULL for the campaign's own events). */
json_t *webhook_event_payload(const char *delivery_id, const struct tz *zone, const struct campaign *c,
			      const struct target *t, const struct event *e);
/* The body of a test delivery. */
json_t *webhook_ping_payload(const char *delivery_id, const struct tz *zone, const struct webhook *w, int64_t now);
/* History, not news: an event recorded with a time more than a day before
 * `now_ms` (imported history — kunren import-gophish — keeps its times).
 * Live events are queued seconds after they happen; history is not sent. */
#define WEBHOOK_HISTORY_MS (24 * 3600 * 1000LL)
bool webhook_event_is_history(const struct event *e, int64_t now_ms);
/* Whether kinds_json (a JSON array of kind names; [] = all) includes k. */
bool webhook_wants(const char *kinds_json, enum event_kind k);

/* ---- the dispatcher (dispatch.c) ---- */

struct webhook_options {
	struct store *store;
	const struct secret_key *key;  /* opens the webhooks' secrets */
	bool allow_private;
	long timeout_seconds;
	int64_t retry_seconds;         /* first back-off; doubles, capped at an hour */
	int64_t max_attempts;
	int64_t poll_ms;               /* 0: 1000 */
};
struct webhook_dispatcher;
/* Starts the thread; NULL with *ret_err (caller frees) when it cannot. */
struct webhook_dispatcher *webhook_start(const struct webhook_options *o, char **ret_err);
/* Stops it (an attempt in flight is abandoned, not counted: it is sent
 * again after a restart) and frees it.  NULL: no-op. */
void webhook_stop(struct webhook_dispatcher *d);
/* Tells the thread to stop (the attempt in flight is cut within a second)
 * and returns at once; webhook_stop joins and frees.  NULL: no-op. */
void webhook_request_stop(struct webhook_dispatcher *d);
/* Whether d (NULL: none, never) was told to stop: a cancelled callback for
 * webhook_send_options (ctx: d), so a console's test ping is cut at
 * shutdown like the dispatcher's own attempts. */
bool webhook_stopping(void *d);

/* The delay before attempt `attempts` + 1 after `attempts` failures:
 * retry_seconds * 2^(attempts-1), at most an hour, with the upper half
 * jittered (ms). */
int64_t webhook_backoff_ms(int64_t retry_seconds, int64_t attempts);

/* Sends one attempt of d (payload set) with w's secret and records the
 * outcome in the store: delivered, pending again after the back-off, or
 * failed at max_attempts.  d is updated as recorded (strings in a).
 * -ECANCELED when the send was aborted (o->cancelled): nothing recorded. */
int webhook_attempt(struct store *s, const struct secret_key *key, const struct webhook *w,
		    struct webhook_delivery *d, const struct webhook_send_options *o, int64_t max_attempts,
		    int64_t retry_seconds, struct arena *a);
/* POST /webhooks/{id}/test: a ping delivery, sent now, once; *ret is its
 * log row.  -ENOENT: no such webhook of the tenant; -ECANCELED when the send
 * was aborted (o->cancelled): nothing recorded. */
int webhook_ping(struct store *s, const struct secret_key *key, int64_t tenant_id, int64_t webhook_id,
		 const struct webhook_send_options *o, struct arena *a, struct webhook_delivery *ret);

#endif
