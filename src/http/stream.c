/*
 * stream.c — responses written later, from any thread (server-sent events).
 *
 * MHD pulls the body through a content reader.  When nothing waits, the
 * reader suspends the connection and returns 0 (MHD allows suspending from
 * the reader), so no worker thread blocks and none spins; a write appends
 * under the stream's lock and resumes a suspended connection.  Suspend and
 * resume both happen under that lock, so a resume can never come before
 * its suspend.  MHD's free callback (the connection is over) marks the
 * stream closed; after that the connection pointer is never touched.
 */
#include "http/http.h"

#include <pthread.h>

#include <microhttpd.h>

#define STREAM_BLOCK 4096

struct http_stream {
	pthread_mutex_t lock;
	struct MHD_Connection *conn;
	struct buf pending;   /* written, not yet handed to MHD */
	bool suspended;       /* by the reader, waiting for a write */
	bool ended;           /* no more writes: end the body after pending */
	bool closed;          /* MHD let go of the response: the client is gone */
	int refs;             /* the connection's and the caller's */
};

static void stream_unref(struct http_stream *s)
{
	pthread_mutex_lock(&s->lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	buf_release(&s->pending);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Resumes the connection if the reader parked it; under s->lock. */
static void stream_wake(struct http_stream *s)
{
	if (s->suspended && !s->closed) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_stream *s = cls;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	if (s->pending.len) {
		size_t k = s->pending.len < max ? s->pending.len : max;
		memcpy(out, s->pending.p, k);
		memmove(s->pending.p, s->pending.p + k, s->pending.len - k);
		s->pending.len -= k;
		s->pending.p[s->pending.len] = '\0';
		n = (ssize_t)k;
	} else if (s->ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* nothing to send: park the connection until the next write */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		n = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void stream_free(void *cls)
{
	struct http_stream *s = cls;

	pthread_mutex_lock(&s->lock);
	s->closed = true;
	s->suspended = false;
	pthread_mutex_unlock(&s->lock);
	stream_unref(s);
}

struct http_stream *http_stream_start(struct http_request *req, struct http_response *res)
{
	struct http_stream *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	buf_init(&s->pending, HTTP_STREAM_BACKLOG);
	s->conn = req->conn;
	s->refs = 2;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, s,
								    stream_free);
	if (!r) {
		buf_release(&s->pending);
		pthread_mutex_destroy(&s->lock);
		free(s);
		http_response_error(res, 500, "internal", "internal error", NULL);
		return NULL;
	}
	if (res->status < 100 || res->status > 599)
		res->status = 200;
	buf_reset(&res->body);
	res->stream = r; /* the server queues it (and destroys its reference) */
	return s;
}

int http_stream_write(struct http_stream *s, struct slice data)
{
	int r;

	pthread_mutex_lock(&s->lock);
	if (s->closed || s->ended)
		r = -EPIPE;
	else if ((r = buf_put_slice(&s->pending, data)) < 0)
		r = -ENOBUFS;
	else
		stream_wake(s);
	pthread_mutex_unlock(&s->lock);
	return r;
}

bool http_stream_closed(struct http_stream *s)
{
	pthread_mutex_lock(&s->lock);
	bool closed = s->closed;
	pthread_mutex_unlock(&s->lock);
	return closed;
}

void http_stream_end(struct http_stream *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->ended = true;
	stream_wake(s);
	pthread_mutex_unlock(&s->lock);
	stream_unref(s);
}
