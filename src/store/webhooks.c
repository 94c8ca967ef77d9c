/*
 * webhooks.c — the webhooks of store.h (migration 0016): a tenant's
 * endpoints, the dispatcher's cursor over the events, and the delivery log
 * that doubles as the retry queue (docs/internals/WEBHOOK.md).
 */
#include "store/db.h"

#define WEBHOOK_COLS "id, tenant_id, url, description, kinds, enabled, secret_sealed, cursor, created_at, updated_at"

static void webhook_read(struct stmt *st, struct arena *a, struct webhook *w)
{
	*w = (struct webhook){
		.id = col_int(st, 0), .tenant_id = col_int(st, 1), .url = col_text(st, 2, a),
		.description = col_text(st, 3, a), .kinds_json = col_text(st, 4, a), .enabled = col_int(st, 5) != 0,
		.secret_sealed = col_blob(st, 6, a), .cursor = col_int(st, 7), .created_at = col_int(st, 8),
		.updated_at = col_int(st, 9),
	};
}

int store_webhook_create(struct store *s, const struct webhook *w, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	/* a new webhook starts with the events that come after it */
	return run_insert(&cn, ret_id,
			  "INSERT INTO webhooks (tenant_id, url, description, kinds, enabled, secret_sealed, cursor, "
			  "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM events), ?, ?)",
			  I(w->tenant_id), T(w->url), T(w->description), T(w->kinds_json), I((int64_t)w->enabled),
			  B(w->secret_sealed.p, w->secret_sealed.len), I(w->created_at), I(w->created_at));
}

int store_webhook_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct webhook *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " WEBHOOK_COLS " FROM webhooks WHERE tenant_id = ? AND id = ?", I(tenant_id),
		     I(id));
	return r < 0 ? r : READ_ROW(&cn, st, a, webhook_read(st, a, ret));
}

int store_webhooks(struct store *s, int64_t tenant_id, struct arena *a, struct webhook **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = tenant_id > 0
		? prep(&cn, &st, "SELECT " WEBHOOK_COLS " FROM webhooks WHERE tenant_id = ? ORDER BY id", I(tenant_id))
		: prep(&cn, &st, "SELECT " WEBHOOK_COLS " FROM webhooks WHERE enabled <> 0 ORDER BY id");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, webhook_read(st, a, rec));
}

int store_webhook_update(struct store *s, int64_t tenant_id, int64_t id, const struct webhook *w, int64_t now)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	/* Switched on again: it starts from now, not with everything that
	 * happened while it was off. */
	const char *secret = w->secret_sealed.p ? "?6" : "secret_sealed";
	_cleanup_free_ char *sql = xasprintf(
		"UPDATE webhooks SET url = ?1, description = ?2, kinds = ?3, "
		"cursor = CASE WHEN ?4 <> 0 AND enabled = 0 THEN (SELECT coalesce(max(id), 0) FROM events) ELSE cursor END, "
		"enabled = ?4, secret_sealed = %s, updated_at = ?5 WHERE tenant_id = ?7 AND id = ?8", secret);
	int r = run(&cn, sql, T(w->url), T(w->description), T(w->kinds_json), I((int64_t)w->enabled), I(now),
		    B(w->secret_sealed.p ? w->secret_sealed.p : "", w->secret_sealed.len), I(tenant_id), I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_webhook_delete(struct store *s, int64_t tenant_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = run(&cn, "DELETE FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ?", I(tenant_id), I(id));
	if (r >= 0)
		r = run(&cn, "DELETE FROM webhooks WHERE tenant_id = ? AND id = ?", I(tenant_id), I(id));
	if (r >= 0 && !db_changes(&cn))
		r = -ENOENT;
	if (r >= 0)
		r = tx_commit(&cn);
	if (r < 0)
		tx_rollback(&cn);
	return r;
}

int store_webhook_count(struct store *s, int64_t tenant_id, int64_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return query_int(&cn, ret_n, "SELECT count(*) FROM webhooks WHERE tenant_id = ?", I(tenant_id));
}

/* ---- the events the dispatcher hands out ---- */

int store_events_max_id(struct store *s, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return query_int(&cn, ret_id, "SELECT coalesce(max(id), 0) FROM events");
}

int store_events_tenant_range(struct store *s, int64_t tenant_id, int64_t after, int64_t upto, struct arena *a,
			      struct event **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " EVENT_COLS " FROM events e JOIN campaigns c ON c.id = e.campaign_id "
			       "WHERE e.id > ? AND e.id <= ? AND c.tenant_id = ? ORDER BY e.id",
		     I(after), I(upto), I(tenant_id));
	return r < 0 ? r : events_rows(&cn, st, true, a, ret, ret_n);
}

/* ---- deliveries ---- */

#define DELIVERY_COLS "id, webhook_id, tenant_id, event_id, kind, delivery_id, payload, state, attempts, next_at_ms, " \
	"response_status, error, duration_ms, response_excerpt, created_at, last_attempt_at"

static void delivery_read(struct stmt *st, struct arena *a, struct webhook_delivery *d, bool payload)
{
	*d = (struct webhook_delivery){
		.id = col_int(st, 0), .webhook_id = col_int(st, 1), .tenant_id = col_int(st, 2),
		.event_id = col_int(st, 3), .kind = col_text(st, 4, a), .delivery_id = col_text(st, 5, a),
		.payload = payload ? col_text(st, 6, a) : NULL, .attempts = col_int(st, 8),
		.next_at_ms = col_int(st, 9), .response_status = col_int(st, 10), .error = col_text(st, 11, a),
		.duration_ms = col_int(st, 12), .response_excerpt = col_text(st, 13, a), .created_at = col_int(st, 14),
		.last_attempt_at = col_int(st, 15),
	};
	const char *state = col_cstr(st, 7);
	d->state = state && !strcmp(state, "delivered") ? WEBHOOK_DELIVERED
		   : state && !strcmp(state, "failed")  ? WEBHOOK_FAILED
							: WEBHOOK_PENDING;
}

const char *webhook_state_name(enum webhook_state st)
{
	return st == WEBHOOK_DELIVERED ? "delivered" : st == WEBHOOK_FAILED ? "failed" : "pending";
}

/* A new delivery is not due before its webhook's hold ends. */
static int delivery_insert(struct conn *cn, const struct webhook_delivery *d, int64_t *ret_id)
{
	return run_insert(cn, ret_id,
			  "INSERT INTO webhook_deliveries (webhook_id, tenant_id, event_id, kind, delivery_id, payload, "
			  "state, next_at_ms, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			  "greatest(?8, coalesce((SELECT hold_until_ms FROM webhooks WHERE id = ?1), 0)), ?9)",
			  I(d->webhook_id), I(d->tenant_id), I(d->event_id), T(d->kind), T(d->delivery_id), T(d->payload),
			  T(webhook_state_name(d->state)), I(d->next_at_ms), I(d->created_at));
}

int store_webhook_enqueue(struct store *s, int64_t webhook_id, int64_t old_cursor, int64_t new_cursor,
			  const struct webhook_delivery *d, size_t n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	/* the cursor moves only from where the caller read it: a webhook
	 * switched off and on meanwhile (cursor reset) or deleted queues nothing */
	r = run(&cn, "UPDATE webhooks SET cursor = ? WHERE id = ? AND cursor = ? AND enabled <> 0", I(new_cursor),
		I(webhook_id), I(old_cursor));
	if (r >= 0 && !db_changes(&cn))
		r = -ESTALE;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int64_t id;
		r = delivery_insert(&cn, &d[i], &id);
	}
	if (r >= 0)
		r = tx_commit(&cn);
	if (r < 0)
		tx_rollback(&cn);
	return r;
}

int store_webhook_delivery_add(struct store *s, const struct webhook_delivery *d, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return delivery_insert(&cn, d, ret_id);
}

int store_webhook_deliveries_due(struct store *s, int64_t now_ms, bool first_of_each, size_t limit, struct arena *a,
				 struct webhook_delivery **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	/* first_of_each (the dispatcher): a webhook with a long backlog takes
	 * one row of the batch, not the whole batch */
	int r = prep(&cn, &st, "SELECT " DELIVERY_COLS " FROM (SELECT d.*, row_number() OVER "
			       "(PARTITION BY d.webhook_id ORDER BY d.next_at_ms, d.id) AS rn FROM webhook_deliveries d "
			       "JOIN webhooks w ON w.id = d.webhook_id JOIN tenants t ON t.id = w.tenant_id "
			       "WHERE d.state = 'pending' AND d.next_at_ms <= ? AND w.enabled <> 0 AND t.suspended = 0) AS q "
			       "WHERE rn = 1 OR ? = 0 ORDER BY next_at_ms, id LIMIT ?",
		     I(now_ms), I(first_of_each), I((int64_t)limit));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, delivery_read(st, a, rec, true));
}

int store_webhook_delivery_result(struct store *s, const struct webhook_delivery *d)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at_ms = ?, response_status = ?, "
			 "error = ?, duration_ms = ?, response_excerpt = ?, last_attempt_at = ? WHERE id = ?",
		    T(webhook_state_name(d->state)), I(d->attempts), I(d->next_at_ms), I(d->response_status),
		    T(d->error ? d->error : ""), I(d->duration_ms), T(d->response_excerpt ? d->response_excerpt : ""),
		    I(d->last_attempt_at), I(d->id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_webhook_postpone(struct store *s, int64_t webhook_id, int64_t until_ms)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = run(&cn, "UPDATE webhooks SET hold_until_ms = greatest(hold_until_ms, ?) WHERE id = ?", I(until_ms), I(webhook_id));
	if (r >= 0)
		r = run(&cn, "UPDATE webhook_deliveries SET next_at_ms = ? WHERE webhook_id = ? AND state = 'pending' "
			     "AND next_at_ms < ?", I(until_ms), I(webhook_id), I(until_ms));
	if (r >= 0)
		r = tx_commit(&cn);
	if (r < 0)
		tx_rollback(&cn);
	return r;
}

int store_webhook_deliveries(struct store *s, int64_t tenant_id, int64_t webhook_id, int64_t before, size_t limit,
			     struct arena *a, struct webhook_delivery **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ? "
			       "AND id < ? ORDER BY id DESC LIMIT ?",
		     I(tenant_id), I(webhook_id), I(before > 0 ? before : INT64_MAX), I((int64_t)limit));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, delivery_read(st, a, rec, false));
}

int store_webhook_delivery_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a,
			       struct webhook_delivery *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE tenant_id = ? AND id = ?",
		     I(tenant_id), I(id));
	return r < 0 ? r : READ_ROW(&cn, st, a, delivery_read(st, a, ret, true));
}

int store_webhook_deliveries_prune(struct store *s, int64_t before, int64_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < ?", I(before));
	if (r >= 0 && ret_n)
		*ret_n = db_changes(&cn);
	return r < 0 ? r : 0;
}
