/*
 * ticker.h — a thread that runs one function every period until told to
 * stop: the deletion job, the node's heartbeat.  The wait is on the
 * monotonic clock (a stepped wall clock neither hurries nor stalls it); a
 * stop wakes it at once, and the function in hand finishes first.
 */
#ifndef KUNREN_TICKER_H
#define KUNREN_TICKER_H

#include "core/core.h"

struct ticker;

/* Starts the thread; fn(t, arg) runs at once, then every period_ms.  *ret
 * is set before the thread starts (fn may read it); NULL (and *ret_err) if
 * the thread cannot start. */
int ticker_start(struct ticker **ret, void (*fn)(struct ticker *t, void *arg), void *arg, int64_t period_ms,
		 char **ret_err);
/* Whether a stop was asked (for a long fn to end early). */
bool ticker_stopping(struct ticker *t);
/* Asks the thread to stop without waiting; NULL: a no-op. */
void ticker_request_stop(struct ticker *t);
/* Stops, waits for the thread and frees; NULL: a no-op. */
void ticker_stop(struct ticker *t);

#endif
