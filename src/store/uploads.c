/*
 * uploads.c — the uploads of store.h: trainers' own attachment files
 * (migration 0013).  The bytes are read only when asked for: listings and
 * metadata never pull a 10 MiB blob through the pool.
 */
#include "store/db.h"

#include <jansson.h>

#define UPLOAD_COLS "id, tenant_id, name, kind, size, sha256, created_at"

static void upload_read(struct stmt *st, struct arena *a, struct upload *u)
{
	u->id = col_int(st, 0);
	u->tenant_id = col_int(st, 1);
	u->name = col_text(st, 2, a);
	u->kind = col_text(st, 3, a);
	u->size = col_int(st, 4);
	u->sha256 = col_text(st, 5, a);
	u->created_at = col_int(st, 6);
}

int store_upload_add(struct store *s, const struct upload *u, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run_insert(&cn, ret_id, "INSERT INTO uploads (tenant_id, name, kind, size, sha256, data, created_at) "
				       "VALUES (?, ?, ?, ?, ?, ?, ?)",
			  I(u->tenant_id), T(u->name), T(u->kind), I((int64_t)u->data.len), T(u->sha256),
			  B(u->data.p, u->data.len), I(u->created_at));
}

int store_upload_get(struct store *s, int64_t tenant_id, int64_t id, bool with_data, struct arena *a,
		     struct upload *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = with_data ? prep(&cn, &st, "SELECT " UPLOAD_COLS ", data FROM uploads WHERE tenant_id = ? AND id = ?",
				 I(tenant_id), I(id))
			  : prep(&cn, &st, "SELECT " UPLOAD_COLS " FROM uploads WHERE tenant_id = ? AND id = ?",
				 I(tenant_id), I(id));
	if (r < 0)
		return r;
	*ret = (struct upload){ 0 };
	return READ_ROW(&cn, st, a, {
		upload_read(st, a, ret);
		if (with_data)
			ret->data = col_blob(st, 7, a);
	});
}

int store_uploads(struct store *s, int64_t tenant_id, struct arena *a, struct upload **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " UPLOAD_COLS " FROM uploads WHERE tenant_id = ? ORDER BY id DESC",
		     I(tenant_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, upload_read(st, a, rec));
}

/* Whether one of the tenant's scenario declarations names the upload.  The
 * reference lives in the declaration's JSON, read here as the senders read
 * it (an integer "upload"); a declaration that is not valid JSON names
 * nothing.  In C: the engines' JSON functions differ, and PostgreSQL's
 * cast fails the whole query on one invalid declaration. */
static int upload_in_use(struct conn *cn, int64_t tenant_id, int64_t id)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "SELECT attachment FROM scenarios WHERE tenant_id = ? AND attachment IS NOT NULL "
			      "AND attachment LIKE '%upload%'", I(tenant_id));
	while (r >= 0 && (r = step_row(cn, st)) > 0) {
		json_t *decl = json_loads(col_cstr(st, 0), 0, NULL);
		json_t *up = json_object_get(decl, "upload");
		bool hit = json_is_integer(up) && json_integer_value(up) == id;
		json_decref(decl);
		if (hit)
			return 1;
	}
	return r;
}

int store_upload_delete(struct store *s, int64_t tenant_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	int64_t n = 0;
	r = query_int(&cn, &n, "SELECT count(*) FROM uploads WHERE tenant_id = ? AND id = ?", I(tenant_id), I(id));
	if (r >= 0 && n == 0)
		r = -ENOENT;
	if (r >= 0 && (r = upload_in_use(&cn, tenant_id, id)) > 0)
		r = -EBUSY;
	if (r >= 0)
		r = run(&cn, "DELETE FROM uploads WHERE id = ?", I(id));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}
