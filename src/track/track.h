/*
 * track — the tracking server: the open beacon, link clicks, landing pages
 * and form submissions, and the event writer that makes every event durable
 * before the answer goes out (group commit: one transaction for all events
 * queued meanwhile).
 *
 * URLs (relative to the tracker's public base URL):
 *   /o/<rid>.gif  open beacon        /c/<rid>  click (GET) and form (POST)
 *   /e/<rid>      explanation page (records nothing)
 */
#ifndef KUNREN_TRACK_H
#define KUNREN_TRACK_H

#include "core/core.h"
#include "http/http.h"
#include "store/store.h"

struct track;

/* tracker_url: public base URL without a trailing slash; may be set once
 * later with track_set_url (when the listener picked its own port) before
 * any rid has been handed out. */
struct track *track_new(struct store *s, const char *tracker_url);
void track_set_url(struct track *t, const char *tracker_url);
void track_free(struct track *t);  /* flushes the queue, stops the writer */

/* The tracking listener's routes; req->app must be the struct track. */
extern const struct http_route track_routes[];
extern const size_t track_routes_count;
void track_not_found(struct http_request *req, struct http_response *res);

/* Queues an event (strings are copied) and returns once it is committed. */
int track_event_submit(struct track *t, const struct event *e);

/* The URLs placed in a target's mail. Caller frees. */
char *track_open_url(const char *tracker_url, const char *rid);
char *track_click_url(const char *tracker_url, const char *rid);

/* A rid as we issue them: RID_LEN characters of [A-Za-z0-9]. */
bool track_rid_valid(const char *rid);

#endif
