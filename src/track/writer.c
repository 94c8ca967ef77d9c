/*
 * writer.c — the event writer.  A tracker request queues its event with
 * its suspended connection and returns; one thread takes everything
 * queued, writes it in one transaction and then resumes all those requests
 * together (their answers go out only now: every answer is backed by a
 * durable event).  Callers outside a request (track_event_submit) wait for
 * the commit in their own thread instead.
 *
 * The queue holds at most TRACK_QUEUE_MAX events; a request that finds it
 * full waits in its worker thread for room, so a flood slows answers down
 * and never drops an event.  A failing database is retried every second,
 * requests staying suspended meanwhile, except at shutdown: after three
 * more tries the batch is given up, its requests answered 503 and the
 * waiting callers told -EIO.
 */
#include "track/track.h"
#include "track/track_int.h"
#include "core/metrics.h"

#include <pthread.h>

_Static_assert(METRICS_EVENT_KINDS == EV__COUNT, "core/metrics.c mirrors enum event_kind");
_Static_assert(OPS_TRACKER_QUEUE_MAX == TRACK_QUEUE_MAX, "GET /readyz knows the writer's bound");
#include <unistd.h>

/* Copies the event's strings into one block (one allocation per event). */
static void queued_fill(struct track_queued *q, const struct event *e, void *token)
{
	const char *src[] = { e->ip, e->user_agent, e->os, e->browser, e->device, e->detail };
	size_t len[ARRAY_SIZE(src)], total = 0;
	for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
		len[i] = src[i] ? strlen(src[i]) + 1 : 0;
		total = st_add(total, len[i]);
	}
	q->e = *e;
	q->token = token;
	q->mem = total ? xmalloc(total) : NULL;
	const char **dst[] = { &q->e.ip, &q->e.user_agent, &q->e.os, &q->e.browser, &q->e.device, &q->e.detail };
	char *p = q->mem;
	for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
		if (!src[i])
			continue;
		memcpy(p, src[i], len[i]);
		*dst[i] = p;
		p += len[i];
	}
}

/* Writes a batch, retrying; false when it was given up (shutdown). */
static bool batch_write(struct track *t, struct track_queued *q, size_t n)
{
	struct event *ev = xmalloc(st_mult(n ? n : 1, sizeof(*ev)));
	for (size_t i = 0; i < n; i++)
		ev[i] = q[i].e;
	int r, tries = 0;
	while ((r = store_events_add(t->store, ev, n)) < 0) {
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
	free(ev);
	return r >= 0;
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
		struct track_queued *batch = t->queue;
		size_t n = t->n;
		uint64_t seq = t->enqueued;
		t->queue = NULL;
		t->n = t->cap = 0;
		pthread_cond_broadcast(&t->room);
		pthread_mutex_unlock(&t->lock);

		bool ok = batch_write(t, batch, n);
		log_debug("track: %zu events in one commit", n);
		if (ok) /* only what is stored counts */
			for (size_t i = 0; i < n; i++)
				metrics_event(batch[i].e.kind, 1);
		/* Everything of the batch is on disk (or given up): answer all. */
		for (size_t i = 0; i < n; i++) {
			if (batch[i].token) {
				if (ok)
					http_resume(batch[i].token);
				else
					http_resume_status(batch[i].token, 503);
			}
			free(batch[i].mem);
		}
		free(batch);

		pthread_mutex_lock(&t->lock);
		t->committed = seq;
		t->batches++;
		metrics_gauge_set(METRIC_TRACKER_QUEUE, (int64_t)(t->enqueued - t->committed));
		if (!ok) {
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
	pthread_cond_init(&t->room, NULL);
	int r = -pthread_create(&t->thread, NULL, writer_main, t);
	if (r < 0) {
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->wake);
		pthread_cond_destroy(&t->done);
		pthread_cond_destroy(&t->room);
	}
	return r;
}

void track__writer_stop(struct track *t)
{
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->wake);
	pthread_cond_broadcast(&t->room);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	pthread_cond_destroy(&t->done);
	pthread_cond_destroy(&t->room);
}

/* With t->lock held: appends e, waiting for room first.  The sequence
 * number to wait for, or 0 when the writer is gone. */
static uint64_t enqueue_locked(struct track *t, const struct event *e, void *token)
{
	while (t->n >= TRACK_QUEUE_MAX && !t->stop)
		pthread_cond_wait(&t->room, &t->lock);
	if (t->stop)
		return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->queue = xrealloc(t->queue, st_mult(t->cap, sizeof(*t->queue)));
	}
	queued_fill(&t->queue[t->n++], e, token);
	pthread_cond_signal(&t->wake);
	++t->enqueued;
	metrics_gauge_set(METRIC_TRACKER_QUEUE, (int64_t)(t->enqueued - t->committed));
	return t->enqueued;
}

/* With t->lock held: waits for the commit of seq. */
static int wait_locked(struct track *t, uint64_t seq)
{
	while (t->committed < seq)
		pthread_cond_wait(&t->done, &t->lock);
	return seq >= t->lost_from && seq <= t->lost_upto ? -EIO : 0;
}

int track__enqueue(struct track *t, const struct event *e, void *token)
{
	pthread_mutex_lock(&t->lock);
	uint64_t seq = enqueue_locked(t, e, token);
	int r = !seq ? -ESHUTDOWN : token ? 0 : wait_locked(t, seq);
	pthread_mutex_unlock(&t->lock);
	return r;
}

int track__enqueue_request(struct track *t, struct http_request *req, const struct event *e)
{
	pthread_mutex_lock(&t->lock);
	/* Room first: a full queue holds this worker thread, not a suspended
	 * connection that nobody would resume. */
	while (t->n >= TRACK_QUEUE_MAX && !t->stop && !t->direct)
		pthread_cond_wait(&t->room, &t->lock);
	/* Suspended under the lock, so track_quiesce, which takes it, knows
	 * that no request is suspended once it has set `direct`. */
	void *token = t->direct || t->stop ? NULL : http_suspend(req);
	uint64_t seq = enqueue_locked(t, e, token);
	int r = !seq ? -ESHUTDOWN : token ? 0 : wait_locked(t, seq);
	pthread_mutex_unlock(&t->lock);
	if (r == -ESHUTDOWN) {
		BUG_ON(token); /* the writer stops only after track_quiesce */
		/* Late requests while everything stops: written in place. */
		r = store_events_add(t->store, e, 1);
		if (r >= 0)
			metrics_event(e->kind, 1);
	}
	return r;
}

int track_event_submit(struct track *t, const struct event *e)
{
	return track__enqueue(t, e, NULL);
}

void track_quiesce(struct track *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->direct = true;
	pthread_cond_broadcast(&t->room);
	/* Everything queued so far, suspended requests included, is answered
	 * once committed catches up: the writer resumes before it counts. */
	wait_locked(t, t->enqueued);
	pthread_mutex_unlock(&t->lock);
}
