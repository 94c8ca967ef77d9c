/*
 * api — the console listener: the JSON API of docs/API.md (one file per
 * resource) and the console's static files.  Turns HTTP into calls on the
 * domain modules; owns no state of its own beyond struct api.
 */
#ifndef KUNREN_API_H
#define KUNREN_API_H

#include "auth/auth.h"
#include "core/core.h"
#include "deliver/deliver.h"
#include "http/http.h"
#include "store/store.h"

#include <stdatomic.h>

struct webhook_dispatcher;

struct api {
	const struct config *cfg;
	struct store *store;
	struct deliver *deliver;
	const struct secret_key *key;  /* seals SMTP passwords and TOTP secrets */
	const char *id_domain;     /* for test mails' Message-IDs and sender */
	const char *tracker_url;   /* without trailing slash */
	const char *outbox_dir;    /* "" when mail goes to a relay */
	const char *console_url;   /* configured public URL, or "" (share links are then relative) */
	/* The URL mails link to (password reset): console_url, or the
	 * listener's URL, set once the listener is bound (hence atomic). */
	_Atomic(const char *) base_url;
	struct auth_limits limits;
	struct auth_policy policy; /* lock-out, throttling, second factor */
	bool secure_cookies;
	struct api_live *live;     /* live.c: the campaigns' event streams; NULL: none */
	/* webhook/: its stop flag cuts a test ping at shutdown; NULL: none */
	struct webhook_dispatcher *webhooks;
};

/* The service period of a tenant signing up (or renewing) at `now` (SPEC
 * A2, A4): from now to the last day of the same month next year, 23:59:59
 * in the tenant's zone; a trial to the end of next month. */
void api_tenant_period(const struct tz *zone, enum licence l, int64_t now, int64_t *ret_start, int64_t *ret_end);

/* Deletes a tenant: its files (data_dir/outbox/tenant-<id>, recursively),
 * then every row (store_tenant_purge, which logs `reason`).  *ret_rows and
 * *ret_files (may be NULL) say how much went. */
int api_tenant_purge(struct store *s, const char *data_dir, int64_t tenant_id, const char *reason, int64_t now,
		     int64_t *ret_rows, int64_t *ret_files);

/* ---- 報告 and live results (reporting.c, live.c) ---- */

struct track;
struct api_report_poller;
struct api_live;
/*
 * The report-mailbox poller: a thread that every `seconds` reads each
 * tenant's enabled report mailbox over IMAP and records 報告 for the drill
 * mails found in its unseen mails (docs/internals/REPORTING.md).  It uses
 * the tracker's synchronous event writer; stop it before track_free.
 * NULL (logged) when the thread cannot start.  Stop with NULL: no-op.
 */
struct api_report_poller *api_report_poller_start(struct store *s, struct track *t, const struct secret_key *key,
						  const struct config *cfg, const char *tracker_url, int64_t seconds);
void api_report_poller_stop(struct api_report_poller *p);
/* Tells the poller to stop and returns at once: an IMAP command in flight
 * is cut within about a second, no other starts; api_report_poller_stop
 * then joins and frees it. */
void api_report_poller_request_stop(struct api_report_poller *p);
/*
 * The live thread of GET /campaigns/{id}/live (server-sent events): it polls
 * the store for events newer than each stream's last one, only for
 * campaigns someone watches.  api_live_stop ends every stream and refuses
 * new ones (503/429) but keeps the structure: call it before the console's
 * http_server_free (MHD cannot stop with suspended streams), and
 * api_live_free only after it (requests still in flight use it).  NULL: no-op.
 */
struct api_live *api_live_start(struct store *s, int64_t poll_ms);
void api_live_stop(struct api_live *l);
void api_live_free(struct api_live *l);

extern const struct http_route api_routes[];
extern const size_t api_routes_count;
/* Header pairs for every console response (CSP and friends), NULL-terminated. */
extern const char *const api_default_headers[];
/* Everything that is not an API route: the console's files. */
void api_not_found(struct http_request *req, struct http_response *res);
/* The console listener's `around` hook: Idempotency-Key on authenticated
 * POSTs of /api/v1 (idempotency.c, docs/API.md "Idempotency keys"). */
void api_idempotency_around(struct http_request *req, struct http_response *res, http_handler_fn fn);

#endif
