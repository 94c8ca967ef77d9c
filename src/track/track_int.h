/* Shared inside track/ only. */
#ifndef KUNREN_TRACK_INT_H
#define KUNREN_TRACK_INT_H

#include <pthread.h>

struct track {
	struct store *store;
	char *tracker_url;

	/* event writer */
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	pthread_t thread;
	struct event *queue;
	size_t n, cap;
	uint64_t enqueued, committed;
	bool stop;
};

int track__writer_start(struct track *t);
void track__writer_stop(struct track *t);

#endif
