/*
 * live.c — live results (SPEC F5): GET /api/v1/campaigns/{id}/live streams a
 * campaign's new events as server-sent events, and GET
 * /api/v1/campaigns/{id}/events?after=<id> hands them out as JSON for
 * clients that poll.
 *
 * One "live" thread serves every stream: every poll_ms it asks the store for
 * the events after the oldest position among a campaign's streams — one
 * index range per watched campaign, nothing for the others — and writes each
 * stream what it has not seen.  Asking the store (not a hook in the event
 * writer) keeps this right when several nodes share one database.  No MHD
 * thread ever waits: the streams are http/stream.c's.
 */
#include "api/api_int.h"

#include <pthread.h>

#define LIVE_MAX_STREAMS 1000     /* per process; more get 503 */
#define LIVE_BATCH 500            /* events read per campaign and pass */
#define LIVE_KEEPALIVE_MS 15000   /* a comment line: proxies keep the connection, dead clients show */

struct live_stream {
	struct http_stream *stream;
	int64_t campaign_id, last_id, last_write_ms;
	const struct tz *zone;
};

struct api_live {
	struct store *store;
	int64_t poll_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	pthread_t thread;
	struct live_stream *s;
	size_t n, cap;
};

/* One event as the console shows it (docs/API.md, "Live results"). */
static json_t *event_json(const struct tz *z, const struct event *e)
{
	json_t *detail = e->detail ? json_loads(e->detail, 0, NULL) : NULL;
	return json_pack("{s:I, s:I, s:s, s:o, s:I, s:s?, s:s?, s:s?, s:s?, s:I, s:o}", "id", (json_int_t)e->id,
			 "target_id", (json_int_t)e->target_id, "kind", event_kind_name(e->kind), "at",
			 api__time_in(z, e->at_ms / 1000), "at_ms", (json_int_t)e->at_ms, "ip", e->ip, "os", e->os,
			 "browser", e->browser, "device", e->device, "signals", (json_int_t)e->signals, "detail",
			 detail ? detail : json_null());
}

/* "id: 12\ndata: {...}\n\n" */
static int sse_put(struct buf *b, const struct tz *z, const struct event *e)
{
	json_auto_t *j = event_json(z, e);
	int r = j ? buf_printf(b, "id: %lld\ndata: ", (long long)e->id) : -ENOMEM;
	if (r >= 0)
		r = json_put(b, j);
	return r < 0 ? r : buf_puts(b, "\n\n");
}

/* ---- the live thread ---- */

static void live_drop(struct api_live *l, size_t i)
{
	http_stream_end(l->s[i].stream);
	l->s[i] = l->s[--l->n];
}

/* One pass; under l->mu (the streams' list), the store read included: a
 * pass is one small query per watched campaign. */
static void live_pass(struct api_live *l)
{
	int64_t now = now_ms();
	for (size_t i = 0; i < l->n;) {
		if (http_stream_closed(l->s[i].stream))
			live_drop(l, i);
		else
			i++;
	}
	for (size_t i = 0; i < l->n; i++) {
		int64_t cid = l->s[i].campaign_id, from = l->s[i].last_id;
		bool first = true;
		for (size_t j = 0; j < i; j++)
			if (l->s[j].campaign_id == cid)
				first = false; /* done with its campaign's first stream */
		if (!first)
			continue;
		for (size_t j = i + 1; j < l->n; j++)
			if (l->s[j].campaign_id == cid && l->s[j].last_id < from)
				from = l->s[j].last_id;
		struct arena *a = arena_new(0);
		struct event *ev;
		size_t nev = 0;
		int r = store_events_after_any(l->store, cid, from, LIVE_BATCH, a, &ev, &nev);
		if (r < 0)
			log_error("live: events of campaign %lld: %s", (long long)cid, strerror(-r));
		for (size_t j = i; r >= 0 && nev && j < l->n; j++) {
			struct live_stream *ls = &l->s[j];
			if (ls->campaign_id != cid)
				continue;
			_cleanup_buf_ struct buf out = BUF_INIT(HTTP_STREAM_BACKLOG);
			for (size_t k = 0; k < nev; k++)
				if (ev[k].id > ls->last_id && sse_put(&out, ls->zone, &ev[k]) >= 0)
					ls->last_id = ev[k].id;
			if (out.len && http_stream_write(ls->stream, buf_slice(&out)) >= 0)
				ls->last_write_ms = now;
		}
		arena_free(a);
	}
	for (size_t i = 0; i < l->n; i++)
		if (now - l->s[i].last_write_ms >= LIVE_KEEPALIVE_MS &&
		    http_stream_write(l->s[i].stream, SLICE_LIT(": keepalive\n\n")) >= 0)
			l->s[i].last_write_ms = now;
}

static void *live_main(void *arg)
{
	struct api_live *l = arg;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		if (l->n)
			live_pass(l);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		int64_t ns = until.tv_nsec + (l->poll_ms % 1000) * 1000000;
		until.tv_sec += l->poll_ms / 1000 + ns / 1000000000;
		until.tv_nsec = ns % 1000000000;
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0)
			;
	}
	while (l->n)
		live_drop(l, l->n - 1);
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct api_live *api_live_start(struct store *s, int64_t poll_ms)
{
	struct api_live *l = xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;
	l->store = s;
	l->poll_ms = poll_ms > 0 ? poll_ms : 300;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&l->thread, NULL, live_main, l);
	if (r) {
		log_error("live: the thread cannot start: %s", strerror(r));
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return NULL;
	}
	return l;
}

void api_live_stop(struct api_live *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL); /* it ends every stream on its way out */
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->s);
	free(l);
}

/* ---- the routes ---- */

/* Where a client continues: ?after=, or the Last-Event-ID an EventSource
 * sends when it reconnects; -1 (400 set) when malformed, 0 when absent. */
static int64_t resume_point(struct http_request *req, struct http_response *res, bool *ret_given)
{
	const char *after = http_query(req, "after"), *last = http_header(req, "Last-Event-ID");
	const char *v = after ? after : last;
	int64_t id = 0;
	*ret_given = v != NULL;
	if (v && slice_to_i64(slice_from(v), 0, INT64_MAX, &id) < 0) {
		api__field_error(res, after ? "after" : "Last-Event-ID", "must be an event id");
		return -1;
	}
	return id;
}

/* GET /api/v1/campaigns/{id}/live: text/event-stream of the campaign's new
 * events (after ?after= / Last-Event-ID, else from now). */
void api_campaign_live(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	bool given;
	if (!p || !api__campaign(req, res, p, &c))
		return;
	int64_t from = resume_point(req, res, &given);
	if (from < 0)
		return;
	/* only clients that read a stream get one: a JSON client would wait forever */
	const char *accept = http_header(req, "Accept");
	if (!accept || !strstr(accept, "text/event-stream")) {
		http_response_error(res, 406, "not_acceptable",
				    "this is a text/event-stream (send Accept: text/event-stream); "
				    "JSON clients poll /events?after=", NULL);
		return;
	}
	struct api_live *l = api->live;
	if (!l) {
		http_response_error(res, 503, "unavailable", "live results are not available; poll /events", NULL);
		return;
	}
	int r = given ? 0 : store_events_last_id(api->store, c.id, &from);
	if (r < 0) {
		api__store_error(res, r, "events");
		return;
	}
	pthread_mutex_lock(&l->mu);
	bool full = l->n >= LIVE_MAX_STREAMS || l->stop;
	pthread_mutex_unlock(&l->mu);
	if (full) {
		http_response_error(res, 503, "busy", "too many live streams; poll /events instead", NULL);
		return;
	}
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_header(req, res, "X-Accel-Buffering", "no"); /* nginx: pass events on at once */
	res->status = 200;
	res->content_type = "text/event-stream; charset=utf-8";
	if (req->head)
		return;
	struct http_stream *s = http_stream_start(req, res);
	if (!s)
		return;
	/* the first bytes at once: the client knows it is connected */
	_cleanup_buf_ struct buf hello = BUF_INIT(256);
	buf_printf(&hello, "retry: 2000\n: campaign %lld from event %lld\n\n", (long long)c.id, (long long)from);
	http_stream_write(s, buf_slice(&hello));
	pthread_mutex_lock(&l->mu);
	if (l->stop || l->n >= LIVE_MAX_STREAMS) {
		pthread_mutex_unlock(&l->mu);
		http_stream_end(s);
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->s = xrealloc(l->s, l->cap * sizeof(*l->s));
	}
	l->s[l->n++] = (struct live_stream){ s, c.id, from, now_ms(), p->zone };
	pthread_cond_signal(&l->cv); /* a pass now: events that came meanwhile go out */
	pthread_mutex_unlock(&l->mu);
}

/* GET /api/v1/campaigns/{id}/events?after=<id>&limit=: the polling fallback. */
void api_campaign_events_after(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	int64_t after, limit = 500;
	bool given;
	if (!p || !api__campaign(req, res, p, &c))
		return;
	if ((after = resume_point(req, res, &given)) < 0)
		return;
	const char *l = http_query(req, "limit");
	if (l && slice_to_i64(slice_from(l), 1, 1000, &limit) < 0) {
		api__field_error(res, "limit", "must be a whole number from 1 to 1000");
		return;
	}
	struct event *ev;
	size_t n;
	int r = store_events_after(api->store, p->tenant.id, c.id, after, (size_t)limit, req->arena, &ev, &n);
	if (r < 0) {
		api__store_error(res, r, "events");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, event_json(p->zone, &ev[i]));
	int64_t last = n ? ev[n - 1].id : after;
	http_response_json(res, 200, json_pack("{s:o, s:I, s:b}", "items", items, "last_id", (json_int_t)last,
					       "more", n == (size_t)limit));
}
