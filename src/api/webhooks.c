/*
 * webhooks.c — /api/v1/webhooks (issue 11, SPEC H1): a tenant's webhook
 * endpoints, their test ping and their delivery log.  Reading needs a
 * tenant account; every change needs write access (owner or full).  The
 * signing secret is sealed in the store and shown once: in the answer that
 * made it (create, or rotate_secret).  Sending is webhook/'s.
 */
#include "api/api_int.h"
#include "webhook/webhook.h"

#include <pthread.h>

#define WEBHOOKS_MAX 20           /* per tenant */
#define DESCRIPTION_MAX 600       /* bytes: 200 Japanese characters */
#define TEST_PER_MINUTE 10        /* pings per tenant: the server connects where a tenant says */

/* "<scheme>://<host>[:port]" of url: its length (the whole URL when it
 * has no "://"). */
static size_t url_origin_len(const char *url)
{
	const char *host = strstr(url, "://");
	return host ? strcspn(host + 3, "/?#") + (size_t)(host + 3 - url) : strlen(url);
}

/* The URL in full for accounts that may change the webhook (owner, full);
 * a read-only account sees "<scheme>://<host>[:port]/…" and
 * "url_redacted": true: a path or query may carry a receiver's token. */
static json_t *webhook_json(const struct principal *p, const struct webhook *w)
{
	json_t *kinds = json_loads(w->kinds_json, 0, NULL);
	if (!json_is_array(kinds)) {
		json_decref(kinds);
		kinds = json_array();
	}
	bool redact = p->acc.role == ROLE_READONLY;
	json_t *url = redact ? json_sprintf("%.*s/…", (int)url_origin_len(w->url), w->url) : json_string(w->url);
	return json_pack("{s:I, s:o, s:b, s:s, s:o, s:b, s:o, s:o}", "id", (json_int_t)w->id, "url", url,
			 "url_redacted", redact, "description", w->description, "kinds", kinds, "enabled", w->enabled,
			 "created_at", api__time(p, w->created_at), "updated_at", api__time(p, w->updated_at));
}

static json_t *delivery_json(const struct principal *p, const struct webhook_delivery *d)
{
	return json_pack("{s:I, s:I, s:s, s:o, s:s, s:s, s:I, s:o, s:o, s:s, s:I, s:s, s:o, s:o}", "id",
			 (json_int_t)d->id, "webhook_id", (json_int_t)d->webhook_id, "delivery_id", d->delivery_id,
			 "event_id", d->event_id ? json_integer(d->event_id) : json_null(), "kind", d->kind, "state",
			 webhook_state_name(d->state), "attempts", (json_int_t)d->attempts, "next_attempt_at",
			 d->state == WEBHOOK_PENDING && d->next_at_ms ? api__time(p, d->next_at_ms / 1000) : json_null(),
			 "response_status", d->response_status ? json_integer(d->response_status) : json_null(), "error",
			 d->error ? d->error : "", "duration_ms", (json_int_t)d->duration_ms, "response_excerpt",
			 d->response_excerpt ? d->response_excerpt : "", "created_at", api__time(p, d->created_at),
			 "last_attempt_at", api__time(p, d->last_attempt_at));
}

/* "<id> <scheme>://<host>" for the audit log: a URL's path or query may be
 * a credential of its own (chat services put their tokens there). */
static const char *audit_detail(struct http_request *req, const struct webhook *w)
{
	return arena_printf(req->arena, "%lld %.*s", (long long)w->id, (int)url_origin_len(w->url), w->url);
}

/* The webhook of params[0] in p's tenant; false (404 set) otherwise. */
static bool webhook_load(struct http_request *req, struct http_response *res, const struct principal *p,
			 struct webhook *ret)
{
	struct api *api = req->app;
	int64_t id;
	if (!api__id(req, res, 0, &id))
		return false;
	int r = store_webhook_get(api->store, p->tenant.id, id, req->arena, ret);
	if (r < 0) {
		api__store_error(res, r, "webhook");
		return false;
	}
	return true;
}

/* Reads the fields of a create (every one may be given) or a PATCH (only
 * those given change) into w. */
static bool webhook_fields(struct http_request *req, struct http_response *res, json_t *body, bool create,
			   struct webhook *w)
{
	struct api *api = req->app;
	const char *msg;
	if (json_get_str(body, "url", create, WEBHOOK_URL_MAX, &w->url, &msg) < 0 ||
	    !webhook_url_valid(w->url, api->cfg->webhook_allow_private, &msg)) {
		api__field_error(res, "url", msg);
		return false;
	}
	if (json_get_str(body, "description", false, DESCRIPTION_MAX, &w->description, &msg) < 0 ||
	    (strpbrk(w->description, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "description", msg);
		return false;
	}
	if (json_get_bool(body, "enabled", false, &w->enabled, &msg) < 0) {
		api__field_error(res, "enabled", msg);
		return false;
	}
	json_t *kinds = json_object_get(body, "kinds");
	if (kinds && !json_is_null(kinds)) {
		if (!json_is_array(kinds)) {
			api__field_error(res, "kinds", "must be an array of event kinds ([] for every kind)");
			return false;
		}
		json_t *clean = json_array(), *v;
		size_t i;
		json_array_foreach(kinds, i, v) {
			bool known = false;
			for (int k = 0; json_is_string(v) && k < EV__COUNT && !known; k++)
				known = !strcmp(json_string_value(v), event_kind_name((enum event_kind)k));
			if (!known) {
				json_decref(clean);
				api__field_error(res, "kinds", "unknown event kind (created, sent, send_error, opened, "
								"clicked, file_opened, submitted, reported)");
				return false;
			}
			bool dup = false;
			for (size_t j = 0; j < json_array_size(clean) && !dup; j++)
				dup = json_equal(json_array_get(clean, j), v);
			if (!dup)
				json_array_append(clean, v);
		}
		_cleanup_buf_ struct buf b = BUF_INIT(1024);
		json_put(&b, clean);
		json_decref(clean);
		w->kinds_json = arena_strdup(req->arena, b.p);
	}
	return true;
}

/* A new secret, sealed into w->secret_sealed (in the arena); *ret_plain in the arena. */
static bool secret_make(struct http_request *req, struct http_response *res, struct webhook *w,
			const char **ret_plain)
{
	struct api *api = req->app;
	char plain[WEBHOOK_SECRET_LEN + 1];
	webhook_secret_new(plain);
	_cleanup_buf_ struct buf sealed = BUF_INIT(1024);
	char *copy = NULL;
	if (secret_seal(api->key, slice_from(plain), &sealed) >= 0 && (copy = arena_alloc(req->arena, sealed.len + 1)))
		memcpy(copy, sealed.p, sealed.len);
	*ret_plain = arena_strdup(req->arena, plain);
	explicit_bzero(plain, sizeof(plain));
	if (!copy || !*ret_plain) {
		api__store_error(res, -ENOMEM, "webhook");
		return false;
	}
	w->secret_sealed = (struct slice){ copy, sealed.len };
	return true;
}

void api_webhooks_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct webhook *w;
	size_t n;
	if (!p)
		return;
	int r = store_webhooks(api->store, p->tenant.id, req->arena, &w, &n);
	if (r < 0) {
		api__store_error(res, r, "webhooks");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, webhook_json(p, &w[i]));
	http_response_json(res, 200, api__page(items, false, 0));
}

void api_webhooks_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct webhook w = { .tenant_id = p ? p->tenant.id : 0, .description = "", .kinds_json = "[]", .enabled = true };
	const char *secret;
	int64_t count = 0;
	if (!body || !webhook_fields(req, res, body, true, &w))
		return;
	int r = store_webhook_count(api->store, p->tenant.id, &count);
	if (r >= 0 && count >= WEBHOOKS_MAX) {
		http_response_error(res, 409, "limit", "a tenant has at most 20 webhooks", NULL);
		return;
	}
	if (r < 0 || !secret_make(req, res, &w, &secret)) {
		if (r < 0)
			api__store_error(res, r, "webhook");
		return;
	}
	w.created_at = now_unix();
	if ((r = store_webhook_create(api->store, &w, &w.id)) < 0 ||
	    (r = store_webhook_get(api->store, p->tenant.id, w.id, req->arena, &w)) < 0) {
		api__store_error(res, r, "webhook");
		return;
	}
	api__audit(req, p, "webhook.create", audit_detail(req, &w));
	json_t *j = webhook_json(p, &w);
	json_object_set_new(j, "secret", json_string(secret));
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_json(res, 201, j);
}

void api_webhook_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct webhook w;
	if (p && webhook_load(req, res, p, &w))
		http_response_json(res, 200, webhook_json(p, &w));
}

void api_webhook_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct webhook w;
	bool rotate = false;
	const char *msg, *secret = NULL;
	if (!body || !webhook_load(req, res, p, &w) || !webhook_fields(req, res, body, false, &w))
		return;
	if (json_get_bool(body, "rotate_secret", false, &rotate, &msg) < 0) {
		api__field_error(res, "rotate_secret", msg);
		return;
	}
	w.secret_sealed = (struct slice){ NULL, 0 };  /* kept unless rotated */
	if (rotate && !secret_make(req, res, &w, &secret))
		return;
	int r = store_webhook_update(api->store, p->tenant.id, w.id, &w, now_unix());
	if (r >= 0)
		r = store_webhook_get(api->store, p->tenant.id, w.id, req->arena, &w);
	if (r < 0) {
		api__store_error(res, r, "webhook");
		return;
	}
	api__audit(req, p, rotate ? "webhook.rotate_secret" : "webhook.update", audit_detail(req, &w));
	json_t *j = webhook_json(p, &w);
	if (secret) {
		json_object_set_new(j, "secret", json_string(secret));
		http_response_header(req, res, "Cache-Control", "no-store");
	}
	http_response_json(res, 200, j);
}

void api_webhook_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct webhook w;
	if (!p || !webhook_load(req, res, p, &w))
		return;
	int r = store_webhook_delete(api->store, p->tenant.id, w.id);
	if (r < 0) {
		api__store_error(res, r, "webhook");
		return;
	}
	api__audit(req, p, "webhook.delete", audit_detail(req, &w));
	http_response_json(res, 200, json_pack("{s:b}", "deleted", true));
}

/* Pings: per tenant (by its id) one at a time and TEST_PER_MINUTE a
 * minute, and TEST_IN_FLIGHT at once over all tenants, since each holds an
 * HTTP worker for up to webhook_timeout_seconds.  A small map under a
 * lock; entries of past minutes with no ping running are dropped when it
 * is full. */
#define TEST_IN_FLIGHT 2
#define TEST_TENANTS_MAX 4096
struct ping_slot {
	int64_t tenant_id, minute;
	int count;
	bool busy;
};
static struct {
	pthread_mutex_t mu;
	struct ping_slot *slot;
	size_t n, cap;
	int in_flight;
} pings = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The tenant's entry, made when missing; NULL when the map is full. */
static struct ping_slot *ping_slot(int64_t tenant_id, int64_t minute)
{
	for (size_t i = 0; i < pings.n; i++)
		if (pings.slot[i].tenant_id == tenant_id)
			return &pings.slot[i];
	if (pings.n == pings.cap) {
		size_t k = 0; /* drop the finished entries of past minutes */
		for (size_t i = 0; i < pings.n; i++)
			if (pings.slot[i].busy || pings.slot[i].minute == minute)
				pings.slot[k++] = pings.slot[i];
		pings.n = k;
	}
	if (pings.n == pings.cap) {
		if (pings.cap >= TEST_TENANTS_MAX)
			return NULL;
		pings.cap = pings.cap ? 2 * pings.cap : 16;
		pings.slot = xrealloc(pings.slot, pings.cap * sizeof(*pings.slot));
	}
	pings.slot[pings.n] = (struct ping_slot){ .tenant_id = tenant_id };
	return &pings.slot[pings.n++];
}

/* 0, or -EBUSY (this tenant's ping runs), -EAGAIN (its minute's pings are
 * used up), -EMFILE (TEST_IN_FLIGHT pings run). */
static int ping_begin(int64_t tenant_id)
{
	int64_t minute = now_unix() / 60;
	int r = 0;
	pthread_mutex_lock(&pings.mu);
	struct ping_slot *sl = ping_slot(tenant_id, minute);
	if (!sl || pings.in_flight >= TEST_IN_FLIGHT) {
		r = -EMFILE;
	} else if (sl->busy) {
		r = -EBUSY;
	} else {
		if (sl->minute != minute)
			sl->minute = minute, sl->count = 0;
		if (sl->count >= TEST_PER_MINUTE)
			r = -EAGAIN;
		else
			sl->count++, sl->busy = true, pings.in_flight++;
	}
	pthread_mutex_unlock(&pings.mu);
	return r;
}

static void ping_end(int64_t tenant_id)
{
	pthread_mutex_lock(&pings.mu);
	for (size_t i = 0; i < pings.n; i++)
		if (pings.slot[i].tenant_id == tenant_id && pings.slot[i].busy) {
			pings.slot[i].busy = false;
			pings.in_flight--;
		}
	pthread_mutex_unlock(&pings.mu);
}

/* POST /api/v1/webhooks/{id}/test: a "ping" delivery now; the answer is
 * its log row (delivered or failed, with the receiver's status). */
void api_webhook_test(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct webhook w;
	struct webhook_delivery d;
	if (!p || !webhook_load(req, res, p, &w))
		return;
	int r = ping_begin(p->tenant.id);
	if (r < 0) {
		http_response_error(res, 429, "throttled",
				    r == -EBUSY    ? "a test is running; wait for it"
				    : r == -EAGAIN ? "at most 10 tests a minute"
						   : "too many tests are running on this server; try again shortly",
				    NULL);
		return;
	}
	struct webhook_send_options o = {
		.allow_private = api->cfg->webhook_allow_private, .timeout_seconds = api->cfg->webhook_timeout_seconds,
		.cancelled = webhook_stopping, .ctx = api->webhooks, /* cut at shutdown, within a second */
	};
	r = webhook_ping(api->store, api->key, p->tenant.id, w.id, &o, req->arena, &d);
	ping_end(p->tenant.id);
	if (r == -ECANCELED) {
		http_response_error(res, 503, "shutting_down", "the server is stopping; the test was not sent", NULL);
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "webhook");
		return;
	}
	api__audit(req, p, "webhook.test", arena_printf(req->arena, "%s: %s", audit_detail(req, &w),
							 webhook_state_name(d.state)));
	http_response_json(res, 200, delivery_json(p, &d));
}

/* GET /api/v1/webhooks/{id}/deliveries?limit=&after=: the log, newest
 * first; ?after= is the previous page's next_after (older ones follow). */
void api_webhook_deliveries(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct webhook w;
	struct webhook_delivery *d;
	int64_t after;
	size_t limit, n;
	if (!p || !webhook_load(req, res, p, &w) || !api__paging(req, res, &after, &limit))
		return;
	int r = store_webhook_deliveries(api->store, p->tenant.id, w.id, after, limit + 1, req->arena, &d, &n);
	if (r < 0) {
		api__store_error(res, r, "webhook deliveries");
		return;
	}
	bool more = n > limit;
	if (more)
		n = limit;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, delivery_json(p, &d[i]));
	http_response_json(res, 200, api__page(items, more, n ? d[n - 1].id : 0));
}
