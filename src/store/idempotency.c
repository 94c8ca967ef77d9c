/*
 * idempotency.c — the idempotency keys of store.h (migration 0015):
 * one row per (tenant, credential, key), claimed before the request runs
 * and given its answer after.  The claim is the only place a row is made,
 * so it is also where expired rows go (the created_at index makes that a
 * short range scan).
 */
#include "store/db.h"

#define IDEM_COLS \
	"tenant_id, credential, key, fingerprint, owner, status, content_type, headers, body, created_at, account_id, " \
	"api_key_id"

static void idem_read(struct stmt *st, struct arena *a, struct idempotency_entry *e)
{
	e->tenant_id = col_int(st, 0);
	e->credential = col_text(st, 1, a);
	e->key = col_text(st, 2, a);
	e->fingerprint = col_text(st, 3, a);
	e->owner = col_int(st, 4);
	e->status = col_int(st, 5);
	e->content_type = col_text(st, 6, a);
	e->headers = col_text(st, 7, a);
	e->body_sealed = col_blob(st, 8, a);
	e->created_at = col_int(st, 9);
	e->account_id = col_int(st, 10);
	e->api_key_id = col_int(st, 11);
}

int store_idempotency_claim(struct store *s, const struct idempotency_entry *e, int64_t now, int64_t ttl,
			    struct arena *a, struct idempotency_entry *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	struct idempotency_entry old = { 0 };
	bool found = false;

	BUG_ON(e->owner == 0); /* 0 means "answered" */
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = run(&cn, "DELETE FROM idempotency_keys WHERE created_at <= ?", I(now - ttl));
	if (r >= 0)
		r = prep(&cn, &st, "SELECT " IDEM_COLS " FROM idempotency_keys "
				   "WHERE tenant_id = ? AND credential = ? AND key = ?",
			 I(e->tenant_id), T(e->credential), T(e->key));
	if (r >= 0) {
		r = READ_ROW(&cn, st, a, idem_read(st, a, &old));
		found = r == 0;
		if (r == -ENOENT)
			r = 0;
	}
	stmt_release(st);
	st = NULL;
	/* Running under another owner: on a node still alive (another node
	 * of a shared database) it is running there; a node gone (its row
	 * removed by store_targets_recover) left it behind, to take over. */
	int64_t elsewhere = 0;
	if (r >= 0 && found && old.owner != 0 && old.owner != e->owner)
		r = query_int(&cn, &elsewhere, "SELECT count(*) FROM idempotency_keys k JOIN nodes n ON n.id = k.node "
					       "WHERE k.tenant_id = ? AND k.credential = ? AND k.key = ? AND n.id <> ?",
			      I(e->tenant_id), T(e->credential), T(e->key), T(s->node));
	if (r >= 0 && found && (old.owner == 0 || old.owner == e->owner || elsewhere)) {
		/* Answered, or running here or on a live node: the caller decides. */
		tx_rollback(&cn);
		*ret = old;
		return 1;
	}
	if (r >= 0)
		r = run(&cn, "INSERT INTO idempotency_keys "
			     "(" IDEM_COLS ", node) VALUES (?, ?, ?, ?, ?, 0, '', '[]', NULL, ?, ?, ?, ?) "
			     "ON CONFLICT (tenant_id, credential, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
			     "owner = excluded.owner, status = 0, content_type = '', headers = '[]', body = NULL, "
			     "created_at = excluded.created_at, account_id = excluded.account_id, "
			     "api_key_id = excluded.api_key_id, node = excluded.node",
			I(e->tenant_id), T(e->credential), T(e->key), T(e->fingerprint), I(e->owner), I(now),
			I(e->account_id), I(e->api_key_id), T(s->node));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int store_idempotency_finish(struct store *s, const struct idempotency_entry *e)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE idempotency_keys SET owner = 0, status = ?, content_type = ?, headers = ?, body = ? "
			 "WHERE tenant_id = ? AND credential = ? AND key = ? AND owner = ?",
		    I(e->status), T(e->content_type ? e->content_type : ""), T(e->headers ? e->headers : "[]"),
		    B(e->body_sealed.p, e->body_sealed.len), I(e->tenant_id), T(e->credential), T(e->key),
		    I(e->owner));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_idempotency_release(struct store *s, const struct idempotency_entry *e)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM idempotency_keys WHERE tenant_id = ? AND credential = ? AND key = ? AND owner = ?",
		    I(e->tenant_id), T(e->credential), T(e->key), I(e->owner));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_idempotency_purge(struct store *s, int64_t before, int64_t *ret_rows)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM idempotency_keys WHERE created_at <= ?", I(before));
	if (r >= 0 && ret_rows)
		*ret_rows = db_changes(&cn);
	return r < 0 ? r : 0;
}
