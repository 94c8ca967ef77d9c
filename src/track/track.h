/*
 * track — the tracking server: the open beacon, link clicks, landing pages
 * and form submissions, and the event writer that makes every event durable
 * before the answer goes out (group commit: one transaction for all events
 * queued meanwhile).
 *
 * URLs (relative to the tracker's public base URL):
 *   /o/<rid>.gif  open beacon        /c/<rid>  click (GET) and form (POST)
 *   /f/<rid>.png  attachment beacon  /p/<rid>  link inside an attachment
 *   /e/<rid>      explanation page (records nothing)
 */
#ifndef KUNREN_TRACK_H
#define KUNREN_TRACK_H

#include "core/core.h"
#include "http/http.h"
#include "store/store.h"

struct track;

struct track_options {
	/* public base URL without a trailing slash; may be set once later with
	 * track_set_url (when the listener picked its own port) before any rid
	 * has been handed out */
	const char *tracker_url;
	const char *trusted_proxies; /* "10.0.0.1, 192.168.0.0/16, ::1": peers whose
				      * X-Forwarded-For is believed; NULL or "": none */
	const char *uap_regexes;     /* uap-core regexes.yaml; NULL or "": no UA parsing */
	unsigned rid_poll_ms;        /* how often the rids in memory are checked; 0: 250 */
};

/* Loads the rids of the campaigns accepting events and starts the event
 * writer.  NULL and *ret_err (caller frees) on bad options or a failing
 * store. */
struct track *track_new(struct store *s, const struct track_options *o, char **ret_err);
void track_set_url(struct track *t, const char *tracker_url);
/* Before the tracking listener stops: no request is suspended any more
 * (later ones wait in their thread) and every queued one is answered. */
void track_quiesce(struct track *t);
void track_free(struct track *t);  /* flushes the queue, stops the writer */

/* The tracking listener's routes; req->app must be the struct track. */
extern const struct http_route track_routes[];
extern const size_t track_routes_count;
void track_not_found(struct http_request *req, struct http_response *res);

/* Queues an event (strings are copied) and returns once it is committed
 * (for callers outside a request, e.g. the report mailbox poller; the
 * tracker's own pages use track__record). */
int track_event_submit(struct track *t, const struct event *e);

/* The URLs placed in a target's mail. Caller frees. */
char *track_open_url(const char *tracker_url, const char *rid);
char *track_click_url(const char *tracker_url, const char *rid);
/* A training attachment's beacon (<tracker>/f/<rid>.png: the picture a
 * docx/xlsx links, the PDF's open actions) and its visible link
 * (<tracker>/p/<rid>).  Caller frees. */
char *track_file_beacon_url(const char *tracker_url, const char *rid);
char *track_file_link_url(const char *tracker_url, const char *rid);

/* A rid as we issue them: RID_LEN characters of [A-Za-z0-9]. */
bool track_rid_valid(const char *rid);

#endif
