/*
 * signals.h — machine-event signals noted when an event is recorded (SPEC
 * F6, enum event_signal in store.h), shared inside track/.  The tracker
 * keeps a little recent history in memory (per target: opens and link
 * hits; per client IP: the targets it acted for) to judge each new hit.
 * See docs/internals/TRACK.md for every rule and its thresholds.
 */
#ifndef KUNREN_TRACK_SIGNALS_H
#define KUNREN_TRACK_SIGNALS_H

#include "store/store.h"

/* What the tracker knows about a request when it records it. */
struct track_hit {
	int64_t campaign_id, target_id;
	enum event_kind kind;
	int64_t at_ms;
	const char *ip;          /* client IP after trusted proxies */
	const char *user_agent;  /* may be NULL */
	bool head, options;      /* the request's method */
	bool bot_ua;             /* the UA parser's device class is "bot" */
	const char *link;        /* click: the raw value of the click URL's "l" query parameter, or NULL */
};

struct track_signals;
struct track_signals *track_signals_new(void);
void track_signals_free(struct track_signals *s);

/* The signals of one hit (enum event_signal bits); remembers the hit for
 * later judgements.  Thread-safe, never reads the database, bounded memory. */
uint32_t track_signals_note(struct track_signals *s, const struct track_hit *h);

#endif
