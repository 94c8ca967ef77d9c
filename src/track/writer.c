/*
 * writer.c — the event writer.  Submitters append to a queue and wait; one
 * thread takes everything queued, writes it in one transaction and wakes
 * them all.  A failing database slows answers down; nothing is dropped,
 * except at shutdown, after three more tries (the submitters get -EIO).
 */
#include "track/track.h"
#include "track/track_int.h"

#include <pthread.h>
#include <unistd.h>

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void event_release(struct event *e)
{
	free((char *)e->ip);
	free((char *)e->user_agent);
	free((char *)e->os);
	free((char *)e->browser);
	free((char *)e->device);
	free((char *)e->detail);
}

static void *writer_main(void *arg)
{
	struct track *t = arg;
	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (t->n == 0 && !t->stop)
			pthread_cond_wait(&t->wake, &t->lock);
		if (t->n == 0 && t->stop)
			break;
		struct event *batch = t->queue;
		size_t n = t->n;
		uint64_t seq = t->enqueued;
		t->queue = NULL;
		t->n = t->cap = 0;
		pthread_mutex_unlock(&t->lock);

		int r, tries = 0;
		while ((r = store_events_add(t->store, batch, n)) < 0) {
			log_error("track: writing %zu events failed (%s); retrying", n, strerror(-r));
			pthread_mutex_lock(&t->lock);
			bool stopping = t->stop;
			pthread_mutex_unlock(&t->lock);
			if (stopping && ++tries >= 3) {
				log_error("track: shutting down: %zu events could not be written", n);
				break;
			}
			sleep(1);
		}
		for (size_t i = 0; i < n; i++)
			event_release(&batch[i]);
		free(batch);

		pthread_mutex_lock(&t->lock);
		t->committed = seq;
		if (r < 0) {
			t->lost_from = seq - n + 1;
			t->lost_upto = seq;
		}
		pthread_cond_broadcast(&t->done);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int track__writer_start(struct track *t)
{
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	pthread_cond_init(&t->done, NULL);
	return -pthread_create(&t->thread, NULL, writer_main, t);
}

void track__writer_stop(struct track *t)
{
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	pthread_cond_destroy(&t->done);
}

int track_event_submit(struct track *t, const struct event *e)
{
	pthread_mutex_lock(&t->lock);
	if (t->stop) {
		pthread_mutex_unlock(&t->lock);
		return -ESHUTDOWN;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->queue = xrealloc(t->queue, st_mult(t->cap, sizeof(*t->queue)));
	}
	struct event *q = &t->queue[t->n++];
	*q = *e;
	q->ip = dup_or_null(e->ip);
	q->user_agent = dup_or_null(e->user_agent);
	q->os = dup_or_null(e->os);
	q->browser = dup_or_null(e->browser);
	q->device = dup_or_null(e->device);
	q->detail = dup_or_null(e->detail);
	uint64_t seq = ++t->enqueued;
	pthread_cond_signal(&t->wake);
	while (t->committed < seq)
		pthread_cond_wait(&t->done, &t->lock);
	int r = seq >= t->lost_from && seq <= t->lost_upto ? -EIO : 0;
	pthread_mutex_unlock(&t->lock);
	return r;
}
