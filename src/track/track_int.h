/* Shared inside track/ only. */
#ifndef KUNREN_TRACK_INT_H
#define KUNREN_TRACK_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "track/signals.h"
#include "track/ua.h"

/* Events waiting for the writer, at most; a request finding the queue full
 * waits for room (slower answers, nothing dropped). */
#define TRACK_QUEUE_MAX 100000

/* An event waiting for the group commit: its strings in one block, and the
 * suspended request to answer (NULL for a caller that waits itself). */
struct track_queued {
	struct event e;
	char *mem;
	void *token;
};

/* A trusted proxy: an address and prefix length (AF_INET or AF_INET6). */
struct track_net {
	int family;
	unsigned char addr[16];
	unsigned bits;
};

struct track_rids;

struct track {
	struct store *store;
	_Atomic(char *) tracker_url; /* read with track__url(); set once after start */
	char *retired_url;           /* the one replaced by track_set_url, freed at the end */
	struct track_rids *rids;     /* rids.c */
	struct track_net *proxies;   /* trusted_proxies */
	size_t nproxies;
	struct ua_parser *ua;        /* NULL: no UA parsing */
	struct track_signals *signals;

	/* event writer */
	pthread_mutex_t lock;
	pthread_cond_t wake, done, room;
	pthread_t thread;
	struct track_queued *queue;
	size_t n, cap;
	uint64_t enqueued, committed;
	uint64_t lost_from, lost_upto; /* a batch given up at shutdown */
	bool stop;
	bool direct;                   /* track_quiesce: no more suspending */
	uint64_t batches;              /* commits done (tests, bench) */
};

static inline const char *track__url(struct track *t)
{
	return atomic_load(&t->tracker_url);
}

/* The headers of every tracker answer: no-store, no referrer, noindex, nosniff. */
void track__page_headers(struct http_request *req, struct http_response *res);

/* A target of a campaign that accepts events, as the tracker knows it
 * (rid in the request's arena). */
struct track_target {
	int64_t tenant_id, campaign_id, target_id;
	const char *rid;
};

/* Looks a rid up; false (and nothing else happens) when it is malformed,
 * unknown or its campaign no longer accepts events. */
bool track__find(struct track *t, struct http_request *req, const char *rid, struct track_target *ret);

/* Records an event of the request for tg.  Call it last, once res is
 * complete: the request is suspended and answered once the event is
 * durable (group commit; 503 if it could not be written).  Fills the
 * client IP (trusted proxies), OS/browser/device and the machine signals
 * (HEAD and OPTIONS are probes).  detail is a JSON object or NULL. */
void track__record(struct track *t, struct http_request *req, const struct track_target *tg, enum event_kind kind,
		   const char *detail);

/* files.c: the attachment beacon (/f/<rid>.png, GET and OPTIONS) and the
 * link inside a file (/p/<rid>). */
void track__file_beacon(struct http_request *req, struct http_response *res);
void track__file_options(struct http_request *req, struct http_response *res);
void track__file_link(struct http_request *req, struct http_response *res);
/* reportlink.c: the report link (報告): GET /r/<rid> asks, POST records. */
void track__report_page(struct http_request *req, struct http_response *res);
void track__report_submit(struct http_request *req, struct http_response *res);

int track__writer_start(struct track *t);
void track__writer_stop(struct track *t);
/* Queues e (copied) for the writer.  token: a suspended request that the
 * writer answers (returns at once), or NULL: waits for the commit and
 * returns its outcome. */
int track__enqueue(struct track *t, const struct event *e, void *token);
/* Queues e for the request and suspends it, or, when it cannot be
 * suspended (quiescing, or a request made by hand), waits in place. */
int track__enqueue_request(struct track *t, struct http_request *req, const struct event *e);

/* rids.c: the rids of accepting campaigns in memory, polled every poll_ms. */
int track_rids_new(struct store *s, unsigned poll_ms, struct track_rids **ret);
void track_rids_free(struct track_rids *r);
/* 0 and *ret, or -ENOENT (also when the campaign no longer accepts events).
 * Reads the store only for a rid not in memory, at a bounded rate. */
int track_rids_find(struct track_rids *r, const char *rid, struct arena *a, struct track_target *ret);
/* Asks for a poll now; campaign_id (0: none) is read again whatever its fingerprint. */
void track_rids_changed(struct track_rids *r, int64_t campaign_id);
size_t track_rids_count(struct track_rids *r);

/* client.c: "10.0.0.1, 10.1.0.0/16, ::1" into nets; -EINVAL and *ret_err
 * naming the bad item. */
int track__proxies_parse(const char *spec, struct track_net **ret, size_t *ret_n, char **ret_err);
/* The client's address: the peer, or when the peer is a trusted proxy the
 * right-most X-Forwarded-For address that is not (arena string). */
const char *track__client_ip(const struct track *t, struct http_request *req);
/* The same from the peer's address and the X-Forwarded-For value (NULL:
 * none); peer itself or an arena string. */
const char *track__xff_client(const struct track *t, const char *peer, const char *xff, struct arena *a);

#endif
