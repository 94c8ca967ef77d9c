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

/* Streams hold a connection each for as long as they last: the caps keep
 * them well below the console's connection limit (main.c), so logins and
 * the rest of the console always find a free one.  More get 429. */
#define LIVE_MAX_STREAMS 250      /* per process */
#define LIVE_MAX_PER_TENANT 20
#define LIVE_MAX_PER_CREDENTIAL 3 /* per session or API key: a few tabs */
#define LIVE_BATCH 500            /* events read per position and pass */
#define LIVE_KEEPALIVE_MS 15000   /* a comment line: proxies keep the connection, dead clients show */
#define LIVE_CHECK_MS 5000        /* the caller's session or key is checked again this often */
#define LIVE_MAX_LIFETIME_MS (30 * 60 * 1000) /* then ended; EventSource reconnects (Last-Event-ID) */

struct live_stream {
	struct http_stream *stream;
	int64_t tenant_id, campaign_id, last_id, last_write_ms, opened_ms, checked_ms;
	const struct tz *zone;
	/* who opened it, checked again every LIVE_CHECK_MS */
	int64_t account_id;
	bool by_key;                          /* cred: an API key's hash, else the session's */
	unsigned char cred[STORE_HASH_LEN];
	struct auth_limits limits;            /* the session timeouts */
};

struct api_live {
	struct store *store;
	int64_t poll_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, joined;
	pthread_t thread;
	struct live_stream *s;
	size_t n, cap;
};

/* Who an event is about, as the live card names them: "姓 名" and the
 * address (NULL for the campaign's own events or a target not found). */
struct live_who {
	const char *name, *email;
};

/* The names of a batch's targets, one store read per distinct target: a
 * batch is mostly a few targets' events, and the payload carries only the
 * name and address, not the whole person.  who[i] belongs to ev[i]. */
static void live_names(struct store *s, int64_t tenant_id, int64_t campaign_id, const struct event *ev, size_t n,
		       struct arena *a, struct live_who *who)
{
	for (size_t i = 0; i < n; i++) {
		who[i] = (struct live_who){ 0 };
		if (!ev[i].target_id)
			continue;
		size_t j = 0;
		while (j < i && ev[j].target_id != ev[i].target_id)
			j++;
		if (j < i) {
			who[i] = who[j];
			continue;
		}
		struct target t;
		if (store_target_get(s, tenant_id, campaign_id, ev[i].target_id, a, &t) < 0)
			continue;
		const char *last = t.p.f[PF_LAST_NAME], *first = t.p.f[PF_FIRST_NAME];
		who[i].name = arena_printf(a, "%s%s%s", last, last[0] && first[0] ? " " : "", first);
		if (!who[i].name[0])
			who[i].name = NULL;
		who[i].email = t.p.f[PF_EMAIL];
	}
}

/* One event as the console shows it (docs/API.md, "Live results"). */
static json_t *event_json(const struct tz *z, const struct event *e, const struct live_who *who)
{
	json_t *detail = e->detail ? json_loads(e->detail, 0, NULL) : NULL;
	return json_pack("{s:I, s:I, s:s*, s:s*, s:s, s:o, s:I, s:s?, s:s?, s:s?, s:s?, s:I, s:o}", "id",
			 (json_int_t)e->id, "target_id", (json_int_t)e->target_id, "name", who->name, "email",
			 who->email, "kind", event_kind_name(e->kind), "at", api__time_in(z, e->at_ms / 1000), "at_ms",
			 (json_int_t)e->at_ms, "ip", e->ip, "os", e->os, "browser", e->browser, "device", e->device,
			 "signals", (json_int_t)e->signals, "detail", detail ? detail : json_null());
}

/* "id: 12\ndata: {...}\n\n" */
static int sse_put(struct buf *b, const struct tz *z, const struct event *e, const struct live_who *who)
{
	json_auto_t *j = event_json(z, e, who);
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

/* Whether the stream's caller may still read: its session or API key still
 * exists (logout, expiry, revocation end it), its account is still in the
 * tenant, the tenant is not suspended.  Read outside l->mu.  A store error
 * keeps the stream: it is asked again at the next check. */
static bool live_allowed(struct store *s, const struct live_stream *ls)
{
	struct arena *a = arena_new(4096);
	int64_t account_id = 0, now = now_unix();
	int r;
	if (ls->by_key) {
		r = store_api_key_find(s, ls->cred, &account_id, NULL);
	} else {
		struct session ses;
		r = store_session_find(s, ls->cred, a, &ses);
		if (r >= 0) {
			account_id = ses.account_id;
			if (now - ses.last_seen_at > ls->limits.idle_seconds ||
			    now - ses.created_at > ls->limits.max_seconds)
				r = -EACCES;
		}
	}
	struct account acc;
	struct tenant t;
	if (r >= 0 && account_id != ls->account_id)
		r = -EACCES;
	if (r >= 0)
		r = store_account_get(s, account_id, a, &acc);
	if (r >= 0 && acc.tenant_id != ls->tenant_id)
		r = -EACCES;
	if (r >= 0)
		r = store_tenant_get(s, ls->tenant_id, a, &t);
	if (r >= 0 && t.suspended)
		r = -EACCES;
	arena_free(a);
	return r >= 0 || (r != -ENOENT && r != -EACCES);
}

/* Writes ls what it has not seen of ev[0..nev); false when the stream must
 * end (a write failed: the client does not read, or left).  last_id moves
 * only past events that were handed to the stream. */
static bool live_send(struct live_stream *ls, const struct event *ev, const struct live_who *who, size_t nev,
		      int64_t now)
{
	_cleanup_buf_ struct buf out = BUF_INIT(HTTP_STREAM_BACKLOG);
	int64_t last = ls->last_id;
	for (size_t k = 0; k < nev; k++) {
		if (ev[k].id <= last)
			continue;
		if (sse_put(&out, ls->zone, &ev[k], &who[k]) < 0)
			return false; /* more than the backlog in one pass: it could never catch up */
		last = ev[k].id;
	}
	if (!out.len)
		return true;
	if (http_stream_write(ls->stream, buf_slice(&out)) < 0)
		return false;
	ls->last_id = last;
	ls->last_write_ms = now;
	return true;
}

/* One pass over a copy of the streams, without l->mu: store reads and
 * writes may take their time while handlers add streams.  Only this thread
 * removes streams, and handlers only append, so the first n entries of
 * l->s are the copy's, in the same order, when the pass writes back. */
static void live_pass(struct api_live *l)
{
	pthread_mutex_lock(&l->mu);
	size_t n = l->n;
	struct live_stream *s = xmalloc((n ? n : 1) * sizeof(*s));
	memcpy(s, l->s, n * sizeof(*s));
	pthread_mutex_unlock(&l->mu);

	int64_t now = now_ms();
	bool *drop = xcalloc(n ? n : 1, sizeof(*drop)), *done = xcalloc(n ? n : 1, sizeof(*done));
	for (size_t i = 0; i < n; i++) {
		struct live_stream *ls = &s[i];
		if (http_stream_closed(ls->stream) || now - ls->opened_ms >= LIVE_MAX_LIFETIME_MS) {
			/* gone, or at the end of its life: an EventSource reconnects
			 * with Last-Event-ID and is authenticated afresh */
			drop[i] = done[i] = true;
		} else if (now - ls->checked_ms >= LIVE_CHECK_MS) {
			ls->checked_ms = now;
			if (!live_allowed(l->store, ls))
				drop[i] = done[i] = true;
		}
	}
	/* One query per (campaign, position): streams that are caught up share
	 * theirs, one that starts far behind catches up on its own and holds
	 * nobody back. */
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		int64_t cid = s[i].campaign_id, from = s[i].last_id;
		struct arena *a = arena_new(0);
		struct event *ev = NULL;
		size_t nev = 0;
		int r = store_events_after_any(l->store, cid, from, LIVE_BATCH, a, &ev, &nev);
		if (r < 0)
			log_error("live: events of campaign %lld: %s", (long long)cid, strerror(-r));
		struct live_who *who = r >= 0 && nev ? arena_alloc(a, nev * sizeof(*who)) : NULL;
		if (who)
			live_names(l->store, s[i].tenant_id, cid, ev, nev, a, who);
		for (size_t j = i; j < n; j++) {
			if (done[j] || s[j].campaign_id != cid || s[j].last_id != from)
				continue;
			done[j] = true;
			if (r < 0 || !nev)
				continue;
			if (!who || !live_send(&s[j], ev, who, nev, now))
				drop[j] = true;
		}
		arena_free(a);
	}
	for (size_t i = 0; i < n; i++)
		if (!drop[i] && now - s[i].last_write_ms >= LIVE_KEEPALIVE_MS) {
			if (http_stream_write(s[i].stream, SLICE_LIT(": keepalive\n\n")) < 0)
				drop[i] = true;
			else
				s[i].last_write_ms = now;
		}

	pthread_mutex_lock(&l->mu);
	memcpy(l->s, s, n * sizeof(*s));
	for (size_t i = n; i-- > 0;)
		if (drop[i])
			live_drop(l, i); /* swaps in the last entry: the lower ones stay put */
	pthread_mutex_unlock(&l->mu);
	free(drop);
	free(done);
	free(s);
}

static void *live_main(void *arg)
{
	struct api_live *l = arg;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		if (l->n) {
			pthread_mutex_unlock(&l->mu);
			live_pass(l);
			pthread_mutex_lock(&l->mu);
		}
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
	bool joined = l->joined;
	l->stop = true;
	l->joined = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (!joined)
		pthread_join(l->thread, NULL); /* it ends every stream on its way out */
}

void api_live_free(struct api_live *l)
{
	if (!l)
		return;
	api_live_stop(l);
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

/* The caller's credential, as the live thread checks it again: the hash of
 * the API key or of the session cookie (api__auth accepted one of them). */
static void live_credential(struct http_request *req, struct live_stream *ls)
{
	const char *authz = http_header(req, "Authorization");
	ls->by_key = authz != NULL;
	auth_secret_hash(authz ? authz + 7 : http_cookie(req, "kunren_session"), ls->cred);
}

/* Why one more stream is refused (NULL: it is not): per credential, per
 * tenant, per process.  Under l->mu. */
static const char *live_full(const struct api_live *l, const struct live_stream *ls)
{
	size_t same = 0, tenant = 0;
	if (l->n >= LIVE_MAX_STREAMS)
		return "too many live streams on this server; poll /events instead";
	for (size_t i = 0; i < l->n; i++) {
		tenant += l->s[i].tenant_id == ls->tenant_id;
		same += l->s[i].by_key == ls->by_key && !memcmp(l->s[i].cred, ls->cred, sizeof(ls->cred));
	}
	if (same >= LIVE_MAX_PER_CREDENTIAL)
		return "too many live streams for this login or API key; close one or poll /events";
	if (tenant >= LIVE_MAX_PER_TENANT)
		return "too many live streams for this tenant; close one or poll /events";
	return NULL;
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
	int64_t now = now_ms();
	struct live_stream ls = {
		.tenant_id = p->tenant.id, .campaign_id = c.id, .last_id = from, .last_write_ms = now,
		.opened_ms = now, .checked_ms = now, .zone = p->zone, .account_id = p->acc.id, .limits = api->limits,
	};
	live_credential(req, &ls);
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_header(req, res, "X-Accel-Buffering", "no"); /* nginx: pass events on at once */
	/* Counted and added under one lock, so that parallel requests cannot
	 * all pass the count; starting a stream does no I/O. */
	pthread_mutex_lock(&l->mu);
	const char *full = l->stop ? "live results are stopping; poll /events" : live_full(l, &ls);
	if (full) {
		pthread_mutex_unlock(&l->mu);
		http_response_error(res, 429, "too_many_streams", full, NULL);
		return;
	}
	res->status = 200;
	res->content_type = "text/event-stream; charset=utf-8";
	if (req->head) {
		pthread_mutex_unlock(&l->mu);
		return;
	}
	if (!(ls.stream = http_stream_start(req, res))) {
		pthread_mutex_unlock(&l->mu);
		return;
	}
	/* the first bytes at once: the client knows it is connected */
	_cleanup_buf_ struct buf hello = BUF_INIT(256);
	buf_printf(&hello, "retry: 2000\n: campaign %lld from event %lld\n\n", (long long)c.id, (long long)from);
	http_stream_write(ls.stream, buf_slice(&hello));
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->s = xrealloc(l->s, l->cap * sizeof(*l->s));
	}
	l->s[l->n++] = ls;
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
	struct live_who *who = n ? arena_alloc(req->arena, n * sizeof(*who)) : NULL;
	if (who)
		live_names(api->store, p->tenant.id, c.id, ev, n, req->arena, who);
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, event_json(p->zone, &ev[i], &who[i]));
	int64_t last = n ? ev[n - 1].id : after;
	http_response_json(res, 200, json_pack("{s:o, s:I, s:b}", "items", items, "last_id", (json_int_t)last,
					       "more", n == (size_t)limit));
}
