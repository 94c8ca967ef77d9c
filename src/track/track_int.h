/* Shared inside track/ only. */
#ifndef KUNREN_TRACK_INT_H
#define KUNREN_TRACK_INT_H

#include <pthread.h>
#include <stdatomic.h>

struct track {
	struct store *store;
	_Atomic(char *) tracker_url; /* read with track__url(); set once after start */
	char *retired_url;           /* the one replaced by track_set_url, freed at the end */

	/* event writer */
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	pthread_t thread;
	struct event *queue;
	size_t n, cap;
	uint64_t enqueued, committed;
	uint64_t lost_from, lost_upto; /* a batch given up at shutdown */
	bool stop;
};

static inline const char *track__url(struct track *t)
{
	return atomic_load(&t->tracker_url);
}

/* A target of a campaign that accepts events, as the tracker knows it. */
struct track_target {
	int64_t tenant_id, campaign_id, target_id;
	const char *rid;
};

/* Looks a rid up; false (and nothing else happens) when it is malformed,
 * unknown or its campaign no longer accepts events. */
bool track__find(struct track *t, struct http_request *req, const char *rid, struct track_target *ret);

/* Records an event of the request for tg.  Call it last, once res is
 * complete: the answer goes out only after the event is durable.  detail
 * is a JSON object or NULL. */
void track__record(struct track *t, struct http_request *req, const struct track_target *tg, enum event_kind kind,
		   const char *detail);

int track__writer_start(struct track *t);
void track__writer_stop(struct track *t);

#endif
