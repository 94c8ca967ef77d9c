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

int track__writer_start(struct track *t);
void track__writer_stop(struct track *t);

#endif
