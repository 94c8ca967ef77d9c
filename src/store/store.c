/*
 * sqlite.c — the SQLite implementation of store.h.
 *
 * A small pool of connections to one WAL database: readers run in parallel,
 * writers take BEGIN IMMEDIATE and wait for each other (busy timeout).
 * SQLite result codes are translated here and logged once, at this edge.
 */
#include "store/db.h"
#include "store/dialect.h"

const char *const person_field_names[PF__COUNT] = {
	"last_name", "first_name", "email", "department", "position", "field1", "field2", "field3",
};

static const char *const role_names[] = { "operator", "owner", "full", "readonly" };
static const char *const campaign_state_names[] = {
	"draft", "scheduled", "sending", "running", "finished", "cancelled", "paused",
};
static const char *const target_state_names[] = { "pending", "claimed", "sending", "sent", "error", "uncertain",
						    "cancelled" };
const char *const event_kind_names[EV__COUNT] = {
	"created", "sent", "send_error", "opened", "clicked", "file_opened", "submitted", "reported",
};

const char *role_name(enum role r) { return role_names[r]; }
const char *campaign_state_name(enum campaign_state st) { return campaign_state_names[st]; }
const char *event_kind_name(enum event_kind k) { return event_kind_names[k]; }

int role_parse(const char *s, enum role *ret)
{
	int i = name_index(role_names, ARRAY_SIZE(role_names), s);
	if (i < 0)
		return -EINVAL;
	*ret = (enum role)i;
	return 0;
}

/* ---- open, migrate ---- */

int store_open(const char *where, struct store **ret, char **ret_err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	bool pg = !strncmp(where, "postgres://", 11) || !strncmp(where, "postgresql://", 13);
	s->engine = pg ? DB_PG : DB_SQLITE;
	if ((pg ? pg_open(s, where, ret_err) : lite_open(s, where, ret_err)) < 0) {
		store_close(s);
		return -EIO;
	}
	*ret = s;
	return 0;
}

void store_set_node(struct store *s, const char *node)
{
	snprintf(s->node, sizeof(s->node), "%s", node);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < POOL_CONNS; i++)
		stmt_cache_clear(&s->cache[i]);
	if (s->engine == DB_PG)
		pg_close(s);
	else
		lite_close(s);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

static int migration_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct embedded_file *const *)a)->path,
		      (*(const struct embedded_file *const *)b)->path);
}

int store_schema_version(struct store *s, int *ret_version)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = sql_exec(&cn, "CREATE TABLE IF NOT EXISTS schema_migrations "
			  "(version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
	if (r == -EEXIST) /* another node created it at the same moment (PostgreSQL) */
		r = 0;
	if (r < 0 || (r = prep(&cn, &st, "SELECT coalesce(max(version), 0) FROM schema_migrations")) < 0)
		return r;
	if ((r = step_row(&cn, st)) <= 0)
		return r < 0 ? r : -EIO;
	*ret_version = (int)col_int(st, 0);
	return 0;
}

/* -EIO (logged) when a row points at nothing (SQLite: PostgreSQL checks
 * foreign keys at every statement). */
static int foreign_keys_check(struct conn *cn, const char *migration)
{
	if (db_pg(cn))
		return 0;
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "PRAGMA foreign_key_check");
	if (r >= 0 && (r = step_row(cn, st)) > 0) {
		log_error("store: migration %s leaves a dangling reference in %s", migration, col_cstr(st, 0));
		r = -EIO;
	}
	return r;
}

/* One migration in its transaction, unless another node applied it
 * meanwhile (tx_begin waits for that node's transaction). */
static int migration_apply(struct conn *cn, int64_t version, const char *name, const char *sql)
{
	int64_t done = 0;
	int r = tx_begin(cn);
	if (r < 0)
		return r;
	if ((r = query_int(cn, &done, "SELECT count(*) FROM schema_migrations WHERE version = ?", I(version))) >= 0 &&
	    !done) {
		if ((r = sql_exec(cn, sql)) >= 0 && (r = foreign_keys_check(cn, name)) >= 0)
			r = run(cn, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				I(version), T(name), I(now_unix()));
	}
	if (r < 0 || (r = tx_commit(cn)) < 0) {
		tx_rollback(cn);
		return r;
	}
	return done ? 0 : 1;
}

int store_migrate(struct store *s, int *ret_applied)
{
	const struct embedded_file *m[256];
	size_t n = 0;
	int current, applied = 0;
	int r = store_schema_version(s, &current);
	if (r < 0)
		return r;

	const char *prefix = "src/store/migrations/";
	for (size_t i = 0; i < embedded_files_count && n < ARRAY_SIZE(m); i++)
		if (!strncmp(embedded_files[i].path, prefix, strlen(prefix)))
			m[n++] = &embedded_files[i];
	qsort(m, n, sizeof(m[0]), migration_cmp);

	_cleanup_conn_ struct conn cn = conn_get(s);
	/* A migration may rebuild a table (create, copy, drop, rename): with
	 * foreign keys on, the drop would cascade on SQLite.  They are checked
	 * instead before each commit. */
	if (!db_pg(&cn) && (r = sql_exec(&cn, "PRAGMA foreign_keys=OFF")) < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *name = m[i]->path + strlen(prefix);
		int64_t version;
		struct slice num;
		slice_cut(slice_from(name), '_', &num);
		BUG_ON(slice_to_i64(num, 1, 9999, &version) < 0); /* a misnamed migration is a bug */
		if (version <= current)
			continue;
		/* one source: the SQLite text, translated for PostgreSQL */
		_cleanup_free_ char *sql = xstrndup((const char *)m[i]->data, m[i]->len);
		_cleanup_free_ char *pg = db_pg(&cn) ? dialect_pg(sql) : NULL;
		if (db_pg(&cn) && !pg)
			r = -ENOMEM;
		else if ((r = migration_apply(&cn, version, name, pg ? pg : sql)) > 0)
			applied++;
	}
	if (!db_pg(&cn)) {
		int r2 = sql_exec(&cn, "PRAGMA foreign_keys=ON");
		if (r >= 0)
			r = r2;
	}
	if (r < 0)
		return r;
	*ret_applied = applied;
	return 0;
}

/* ---- tenants, accounts ---- */

static const char *const licence_names[] = { "send_count", "unique_addresses", "trial" };
static const char *const factor_names[] = { "none", "mail", "totp" };

const char *licence_name(enum licence l)
{
	return (size_t)l < ARRAY_SIZE(licence_names) ? licence_names[l] : "send_count";
}

int licence_parse(const char *str, enum licence *ret)
{
	int i = name_index(licence_names, ARRAY_SIZE(licence_names), str);
	if (i < 0)
		return -EINVAL;
	*ret = (enum licence)i;
	return 0;
}

const char *second_factor_name(enum second_factor f)
{
	return (size_t)f < ARRAY_SIZE(factor_names) ? factor_names[f] : "none";
}

int second_factor_parse(const char *str, enum second_factor *ret)
{
	int i = name_index(factor_names, ARRAY_SIZE(factor_names), str);
	if (i < 0)
		return -EINVAL;
	*ret = (enum second_factor)i;
	return 0;
}

int store_tenant_create(struct store *s, const char *name, const char *time_zone, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int64_t now = now_unix();
	return run_insert(&cn, ret_id, "INSERT INTO tenants (name, time_zone, created_at, period_start) VALUES (?, ?, ?, ?)", T(name), T(time_zone), I(now), I(now));
}

#define TENANT_COLS "id, name, time_zone, exclusion_seconds, created_at, plan, quota, period_start, period_end, " \
	"suspended, delete_at, retention_days"

static void tenant_read(struct stmt *st, struct arena *a, struct tenant *t)
{
	*t = (struct tenant){
		.id = col_int(st, 0), .name = col_text(st, 1, a), .time_zone = col_text(st, 2, a),
		.exclusion_seconds = col_int(st, 3), .created_at = col_int(st, 4), .quota = col_int(st, 6),
		.period_start = col_int(st, 7), .period_end = col_int(st, 8), .suspended = col_int(st, 9) != 0,
		.delete_at = col_int(st, 10), .retention_days = col_int(st, 11),
	};
	if (licence_parse(col_cstr(st, 5), &t->licence) < 0)
		t->licence = LICENCE_SEND_COUNT;
}

int store_tenant_get(struct store *s, int64_t id, struct arena *a, struct tenant *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " TENANT_COLS " FROM tenants WHERE id = ?", I(id));
	return r < 0 ? r : READ_ROW(&cn, st, a, tenant_read(st, a, ret));
}

int store_tenants(struct store *s, struct arena *a, struct tenant **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " TENANT_COLS " FROM tenants ORDER BY id");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, tenant_read(st, a, rec));
}

int store_tenant_update(struct store *s, const struct tenant *t)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE tenants SET name = ?, time_zone = ?, plan = ?, quota = ?, period_start = ?, period_end = ?, "
			 "suspended = ?, delete_at = ?, retention_days = ? WHERE id = ?", T(t->name), T(t->time_zone), T(licence_name(t->licence)), I(t->quota), I(t->period_start), I(t->period_end), I((int64_t)t->suspended), I(t->delete_at), I(t->retention_days), I(t->id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

/* Every table holding a tenant's rows, children first, each as a DELETE
 * with the tenant id as its one argument.  store_tenant_row_count counts
 * the same sets, so a purge is proven by the same list. */
static const char *const tenant_tables[][2] = {
	{ "events", "campaign_id IN (SELECT id FROM campaigns WHERE tenant_id = ?)" },
	{ "share_links", "tenant_id = ?" },
	{ "targets", "campaign_id IN (SELECT id FROM campaigns WHERE tenant_id = ?)" },
	{ "campaign_lists", "campaign_id IN (SELECT id FROM campaigns WHERE tenant_id = ?)" },
	{ "campaigns", "tenant_id = ?" },
	{ "recipients", "list_id IN (SELECT id FROM lists WHERE tenant_id = ?)" },
	{ "lists", "tenant_id = ?" },
	{ "scenarios", "tenant_id = ?" },
	{ "sending_profiles", "tenant_id = ?" },
	{ "usage_sends", "tenant_id = ?" },
	{ "usage_addresses", "tenant_id = ?" },
	{ "challenges", "account_id IN (SELECT id FROM accounts WHERE tenant_id = ?)" },
	{ "sessions", "account_id IN (SELECT id FROM accounts WHERE tenant_id = ?)" },
	{ "api_keys", "account_id IN (SELECT id FROM accounts WHERE tenant_id = ?)" },
	{ "accounts", "tenant_id = ?" },
	{ "audit_log", "tenant_id = ?" },
	{ "education", "tenant_id = ?" },
	{ "report_mailboxes", "tenant_id = ?" },
	{ "uploads", "tenant_id = ?" },
	{ "webhook_deliveries", "tenant_id = ?" },
	{ "webhooks", "tenant_id = ?" },
	{ "idempotency_keys", "tenant_id = ?" },
	{ "tenants", "id = ?" },
};

int store_retention_purge(struct store *s, int64_t now, int64_t *ret_campaigns)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	const char *expired = "SELECT c.id FROM campaigns c JOIN tenants t ON t.id = c.tenant_id WHERE t.retention_days > 0 "
			      "AND c.state IN ('finished', 'cancelled') AND c.finished_at > 0 "
			      "AND c.finished_at < ?1 - t.retention_days * 86400";
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	_cleanup_free_ char *audit = xasprintf(
		"INSERT INTO audit_log (tenant_id, at, action, detail) SELECT tenant_id, ?1, 'campaign.retention_delete', "
		"'id=' || id || ' name=' || name FROM campaigns WHERE id IN (%s)", expired);
	_cleanup_free_ char *del = xasprintf("DELETE FROM campaigns WHERE id IN (%s)", expired);
	int64_t n = 0;
	if ((r = run(&cn, audit, I(now))) >= 0 && (r = run(&cn, del, I(now))) >= 0)
		n = db_changes(&cn); /* targets, events, share links follow by ON DELETE CASCADE */
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_campaigns = n;
	return 0;
}

int store_tenant_row_count(struct store *s, int64_t tenant_id, int64_t *ret_rows)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int64_t total = 0;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(tenant_tables); i++) {
		_cleanup_stmt_ struct stmt *st = NULL;
		_cleanup_free_ char *sql = xasprintf("SELECT count(*) FROM %s WHERE %s", tenant_tables[i][0], tenant_tables[i][1]);
		if ((r = prep(&cn, &st, sql, I(tenant_id))) >= 0 && (r = step_row(&cn, st)) > 0)
			total += col_int(st, 0);
	}
	if (r < 0)
		return r;
	*ret_rows = total;
	return 0;
}

int store_tenant_purge(struct store *s, int64_t id, const char *reason, int64_t files_deleted, int64_t now,
		       int64_t *ret_rows)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int64_t rows = 0;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = prep(&cn, &st, "SELECT name FROM tenants WHERE id = ?", I(id));
	if (r >= 0 && (r = step_row(&cn, st)) == 0)
		r = -ENOENT;
	_cleanup_free_ char *name = r > 0 ? xstrdup(col_cstr(st, 0)) : NULL;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(tenant_tables); i++) {
		_cleanup_free_ char *sql = xasprintf("DELETE FROM %s WHERE %s", tenant_tables[i][0], tenant_tables[i][1]);
		if ((r = run(&cn, sql, I(id))) >= 0)
			rows += db_changes(&cn);
	}
	if (r >= 0)
		r = run(&cn, "INSERT INTO deletion_log (tenant_id, tenant_name, reason, rows_deleted, files_deleted, at) "
			     "VALUES (?, ?, ?, ?, ?, ?)", I(id), T(name), T(reason), I(rows), I(files_deleted), I(now));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	if (ret_rows)
		*ret_rows = rows;
	return 0;
}

int store_tenants_due_deletion(struct store *s, int64_t now, struct arena *a, int64_t **ret_ids, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id FROM tenants WHERE (period_end > 0 AND period_end < ?) "
			       "OR (delete_at > 0 AND delete_at <= ?) ORDER BY id", I(now), I(now));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret_ids, ret_n, *rec = col_int(st, 0));
}

int store_deletion_log(struct store *s, struct arena *a, struct deletion **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id, tenant_id, tenant_name, reason, rows_deleted, files_deleted, at "
			       "FROM deletion_log ORDER BY id DESC");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n,
					      *rec = (struct deletion){ col_int(st, 0), col_int(st, 1), col_text(st, 2, a), col_text(st, 3, a), col_int(st, 4), col_int(st, 5), col_int(st, 6) });
}

int store_bootstrap(struct store *s, const struct store_bootstrap *b)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int64_t now = now_unix(), tenant = 0, owner = 0;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = prep(&cn, &st, "SELECT 1 FROM accounts WHERE role = 'operator'");
	if (r >= 0 && (r = step_row(&cn, st)) > 0)
		r = -EEXIST;
	if (r >= 0)
		r = run_insert(&cn, &tenant, "INSERT INTO tenants (name, time_zone, created_at, period_start) VALUES (?, ?, ?, ?)",
			       T(b->tenant_name), T(b->time_zone), I(now), I(now));
	if (r >= 0)
		r = run(&cn, "INSERT INTO accounts (tenant_id, username, password_hash, role, created_at) "
			     "VALUES (NULL, 'operator', ?, 'operator', ?)", T(b->operator_hash), I(now));
	if (r >= 0)
		r = run_insert(&cn, &owner, "INSERT INTO accounts (tenant_id, username, password_hash, role, created_at) "
				  "VALUES (?, 'demo', ?, 'owner', ?)", I(tenant), T(b->owner_hash), I(now));
	if (r >= 0)
		r = run(&cn, "INSERT INTO api_keys (account_id, key_hash, label, created_at) VALUES (?, ?, 'first start', ?)",
			I(owner), B(b->key_hash, (size_t)STORE_HASH_LEN), I(now));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int store_account_create(struct store *s, int64_t tenant_id, const char *username,
			 const char *password_hash, enum role role, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run_insert(&cn, ret_id, "INSERT INTO accounts (tenant_id, username, password_hash, role, created_at) "
			 "VALUES (nullif(?, 0), ?, ?, ?, ?)", I(tenant_id), T(username), T(password_hash), T(role_name(role)), I(now_unix()));
}

#define ACCOUNT_COLS "id, coalesce(tenant_id, 0), username, password_hash, email, role, second_factor, " \
	"totp_sealed, totp_last_step, login_notify, failures, locked_until, created_at, password_changed_at"

static int account_read(struct stmt *st, struct arena *a, struct account *ret)
{
	enum role role;
	enum second_factor f;
	if (role_parse(col_cstr(st, 5), &role) < 0 ||
	    second_factor_parse(col_cstr(st, 6), &f) < 0)
		return -EIO;
	*ret = (struct account){
		.id = col_int(st, 0), .tenant_id = col_int(st, 1), .username = col_text(st, 2, a),
		.password_hash = col_text(st, 3, a), .email = col_text(st, 4, a), .role = role,
		.second_factor = f, .totp_sealed = col_blob(st, 7, a), .totp_last_step = col_int(st, 8),
		.login_notify = col_int(st, 9) != 0, .failures = col_int(st, 10), .locked_until = col_int(st, 11),
		.created_at = col_int(st, 12), .password_changed_at = col_int(st, 13),
	};
	return 0;
}

static int account_query(struct store *s, const char *sql, const char *types, int64_t id,
			 const char *text, struct arena *a, struct account *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = types[0] == 'i' ? prep(&cn, &st, sql, I(id)) : prep(&cn, &st, sql, T(text));
	return r < 0 ? r : READ_ROW(&cn, st, a, r_ = account_read(st, a, ret));
}

int store_account_get(struct store *s, int64_t id, struct arena *a, struct account *ret)
{
	return account_query(s, "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?", "i", id, NULL, a, ret);
}

int store_account_by_username(struct store *s, const char *username, struct arena *a, struct account *ret)
{
	return account_query(s, "SELECT " ACCOUNT_COLS " FROM accounts WHERE username = ?", "t", 0, username,
			     a, ret);
}

int store_api_key_add(struct store *s, int64_t account_id, const unsigned char hash[STORE_HASH_LEN],
		      const char *label)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "INSERT INTO api_keys (account_id, key_hash, label, created_at) VALUES (?, ?, ?, ?)", I(account_id), B(hash, (size_t)STORE_HASH_LEN), T(label), I(now_unix()));
}

int store_api_key_find(struct store *s, const unsigned char hash[STORE_HASH_LEN], int64_t *ret_account_id,
		       int64_t *ret_key_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int64_t now = now_unix();
	int r = prep(&cn, &st, "SELECT account_id, id, last_used_at FROM api_keys WHERE key_hash = ?", B(hash, (size_t)STORE_HASH_LEN));
	if (r < 0 || (r = step_row(&cn, st)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret_account_id = col_int(st, 0);
	if (ret_key_id)
		*ret_key_id = col_int(st, 1);
	if (now - col_int(st, 2) >= 60) /* not a write on every request */
		run(&cn, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", I(now), I(col_int(st, 1)));
	return 0;
}

int store_session_create(struct store *s, const unsigned char hash[STORE_HASH_LEN], int64_t account_id,
			 const char *csrf_token, int64_t now)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen_at) "
			"VALUES (?, ?, ?, ?, ?)", B(hash, (size_t)STORE_HASH_LEN), I(account_id), T(csrf_token), I(now), I(now));
}

int store_session_find(struct store *s, const unsigned char hash[STORE_HASH_LEN], struct arena *a,
		       struct session *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id, account_id, created_at, last_seen_at, csrf_token FROM sessions "
			       "WHERE token_hash = ?", B(hash, (size_t)STORE_HASH_LEN));
	if (r < 0 || (r = step_row(&cn, st)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret = (struct session){
		.id = col_int(st, 0), .account_id = col_int(st, 1), .created_at = col_int(st, 2),
		.last_seen_at = col_int(st, 3), .csrf_token = col_text(st, 4, a),
	};
	return read_done(0, a);
}

int store_session_touch(struct store *s, int64_t session_id, int64_t now)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", I(now), I(session_id));
}

int store_session_delete(struct store *s, int64_t session_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "DELETE FROM sessions WHERE id = ?", I(session_id));
}

int store_audit_add(struct store *s, int64_t tenant_id, int64_t account_id, const char *action,
		    const char *detail)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "INSERT INTO audit_log (tenant_id, account_id, at, action, detail) "
			"VALUES (nullif(?, 0), nullif(?, 0), ?, ?, ?)", I(tenant_id), I(account_id), I(now_unix()), T(action), T(detail ? detail : ""));
}

int store_accounts(struct store *s, int64_t tenant_id, struct arena *a, struct account **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " ACCOUNT_COLS " FROM accounts WHERE coalesce(tenant_id, 0) = ? ORDER BY id", I(tenant_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, if ((r_ = account_read(st, a, rec)) < 0) break);
}

int store_account_update(struct store *s, int64_t tenant_id, const struct account *acc)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r;
	if (acc->totp_sealed.p)
		r = run(&cn, "UPDATE accounts SET email = ?, role = ?, second_factor = ?, login_notify = ?, totp_sealed = ?, "
			     "totp_last_step = 0 WHERE id = ? AND coalesce(tenant_id, 0) = ?", T(acc->email), T(role_name(acc->role)), T(second_factor_name(acc->second_factor)), I((int64_t)acc->login_notify), B(acc->totp_sealed.p, acc->totp_sealed.len), I(acc->id), I(tenant_id));
	else
		r = run(&cn, "UPDATE accounts SET email = ?, role = ?, second_factor = ?, login_notify = ? "
			     "WHERE id = ? AND coalesce(tenant_id, 0) = ?", T(acc->email), T(role_name(acc->role)), T(second_factor_name(acc->second_factor)), I((int64_t)acc->login_notify), I(acc->id), I(tenant_id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_account_set_password(struct store *s, int64_t id, const char *password_hash, int64_t now)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE accounts SET password_hash = ?, password_changed_at = ?, failures = 0, locked_until = 0 "
			 "WHERE id = ?", T(password_hash), I(now), I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_account_delete(struct store *s, int64_t tenant_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM accounts WHERE id = ? AND coalesce(tenant_id, 0) = ?", I(id), I(tenant_id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_account_failed(struct store *s, int64_t id, int64_t now, int64_t max_failures, int64_t lock_seconds,
			 int64_t *ret_locked_until)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = run(&cn, "UPDATE accounts SET failures = failures + 1 WHERE id = ?", I(id));
	if (r >= 0)
		r = run(&cn, "UPDATE accounts SET locked_until = ?, failures = 0 WHERE id = ? AND failures >= ?", I(now + lock_seconds), I(id), I(max_failures));
	if (r >= 0)
		r = prep(&cn, &st, "SELECT locked_until FROM accounts WHERE id = ?", I(id));
	if (r >= 0 && (r = step_row(&cn, st)) == 0)
		r = -ENOENT;
	int64_t until = r > 0 ? col_int(st, 0) : 0;
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	if (ret_locked_until)
		*ret_locked_until = until > now ? until : 0;
	return 0;
}

int store_account_succeeded(struct store *s, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "UPDATE accounts SET failures = 0 WHERE id = ? AND failures != 0", I(id));
}

int store_account_totp_step(struct store *s, int64_t id, int64_t step)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", I(step), I(id), I(step));
	return r < 0 ? r : db_changes(&cn) ? 0 : -EALREADY;
}

int store_sessions_delete_account(struct store *s, int64_t account_id, int64_t keep_session)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM sessions WHERE account_id = ? AND id != ?", I(account_id), I(keep_session));
	return r < 0 ? r : db_changes(&cn);
}

static const char *const challenge_kinds[] = { "login", "reset" };

int store_challenge_create(struct store *s, const unsigned char token_hash[STORE_HASH_LEN], int64_t account_id,
			   enum challenge_kind kind, const unsigned char *code_hash, int64_t expires_at)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = run(&cn, "DELETE FROM challenges WHERE account_id = ? AND kind = ?", I(account_id), T(challenge_kinds[kind]));
	if (r >= 0)
		r = run(&cn, "INSERT INTO challenges (token_hash, account_id, kind, code_hash, expires_at) VALUES (?, ?, ?, ?, ?)",
			B(token_hash, (size_t)STORE_HASH_LEN), I(account_id), T(challenge_kinds[kind]),
			B(code_hash, code_hash ? (size_t)STORE_HASH_LEN : 0), I(expires_at));
	/* a NULL blob for "no code" */
	if (r >= 0 && !code_hash)
		r = run(&cn, "UPDATE challenges SET code_hash = NULL WHERE token_hash = ?", B(token_hash, (size_t)STORE_HASH_LEN));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int store_challenge_find(struct store *s, const unsigned char token_hash[STORE_HASH_LEN], struct challenge *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id, account_id, kind, code_hash, attempts, expires_at FROM challenges "
			       "WHERE token_hash = ?", B(token_hash, (size_t)STORE_HASH_LEN));
	if (r < 0 || (r = step_row(&cn, st)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	struct challenge c = { .id = col_int(st, 0), .account_id = col_int(st, 1), .attempts = col_int(st, 4),
			       .expires_at = col_int(st, 5) };
	int k = name_index(challenge_kinds, ARRAY_SIZE(challenge_kinds), col_cstr(st, 2));
	if (k < 0)
		return -EIO;
	c.kind = (enum challenge_kind)k;
	c.has_code = col_blob_copy(st, 3, c.code_hash, STORE_HASH_LEN) == STORE_HASH_LEN;
	*ret = c;
	return 0;
}

int store_challenge_attempt(struct store *s, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "UPDATE challenges SET attempts = attempts + 1 WHERE id = ?", I(id));
}

int store_challenge_delete(struct store *s, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM challenges WHERE id = ?", I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT; /* used once: a second use finds nothing */
}

int store_login_failure_add(struct store *s, const char *ip, int64_t now)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "INSERT INTO login_failures (ip, at) VALUES (?, ?)", T(ip ? ip : ""), I(now));
}

int store_login_failures(struct store *s, const char *ip, int64_t since, int64_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	/* a day is the longest window anyone needs */
	int r = run(&cn, "DELETE FROM login_failures WHERE at < ?", I(since < now_unix() - 86400 ? since : now_unix() - 86400));
	if (r >= 0)
		r = prep(&cn, &st, "SELECT count(*) FROM login_failures WHERE ip = ? AND at >= ?", T(ip ? ip : ""), I(since));
	if (r >= 0 && (r = step_row(&cn, st)) > 0) {
		*ret_n = col_int(st, 0);
		r = 0;
	}
	return r;
}

int store_audit(struct store *s, int64_t tenant_id, int64_t before, size_t limit, struct arena *a,
		struct audit_entry **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT l.id, coalesce(l.tenant_id, 0), coalesce(l.account_id, 0), coalesce(ac.username, ''), "
			       "l.action, l.detail, l.at, coalesce(tn.name, '') FROM audit_log l "
			       "LEFT JOIN accounts ac ON ac.id = l.account_id LEFT JOIN tenants tn ON tn.id = l.tenant_id "
			       "WHERE (? = -1 OR coalesce(l.tenant_id, 0) = ?) AND (? = 0 OR l.id < ?) ORDER BY l.id DESC LIMIT ?",
		     I(tenant_id), I(tenant_id), I(before), I(before), I((int64_t)limit));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n,
					      *rec = (struct audit_entry){ col_int(st, 0), col_int(st, 1), col_int(st, 2), col_text(st, 3, a), col_text(st, 4, a), col_text(st, 5, a), col_int(st, 6), col_text(st, 7, a) });
}

int store_api_keys(struct store *s, int64_t account_id, struct arena *a, struct api_key_info **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id, account_id, label, created_at, last_used_at FROM api_keys WHERE account_id = ? "
			       "ORDER BY id", I(account_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n,
					      *rec = (struct api_key_info){ col_int(st, 0), col_int(st, 1), col_text(st, 2, a), col_int(st, 3), col_int(st, 4) });
}

int store_api_key_delete(struct store *s, int64_t account_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM api_keys WHERE id = ? AND account_id = ?", I(id), I(account_id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

/* ---- the deployment ---- */

int store_branding_get(struct store *s, struct arena *a, struct branding *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT service_name, primary_color, support_contact, logo, logo_type FROM branding WHERE id = 1");
	return r < 0 ? r : READ_ROW(&cn, st, a, *ret = (struct branding){ col_text(st, 0, a), col_text(st, 1, a),
								 col_text(st, 2, a), col_blob(st, 3, a),
								 col_text(st, 4, a) });
}

int store_branding_set(struct store *s, const struct branding *b)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	if (b->logo.p)
		return run(&cn, "UPDATE branding SET service_name = ?, primary_color = ?, support_contact = ?, logo = ?, "
				"logo_type = ? WHERE id = 1", T(b->service_name), T(b->primary_color), T(b->support_contact), B(b->logo.p, b->logo.len), T(b->logo_type));
	return run(&cn, "UPDATE branding SET service_name = ?, primary_color = ?, support_contact = ? WHERE id = 1",
		   T(b->service_name), T(b->primary_color), T(b->support_contact));
}

int store_domains(struct store *s, struct arena *a, struct training_domain **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id, domain, note, spf, dkim, dmarc, created_at FROM training_domains ORDER BY lower(domain), id");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n,
					      *rec = (struct training_domain){ col_int(st, 0), col_text(st, 1, a), col_text(st, 2, a), col_text(st, 3, a), col_text(st, 4, a), col_text(st, 5, a), col_int(st, 6) });
}

int store_domain_add(struct store *s, const struct training_domain *d, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run_insert(&cn, ret_id, "INSERT INTO training_domains (domain, note, spf, dkim, dmarc, created_at) VALUES (?,?,?,?,?,?)",
		    T(d->domain), T(d->note ? d->note : ""), T(d->spf ? d->spf : "unknown"), T(d->dkim ? d->dkim : "unknown"),
		    T(d->dmarc ? d->dmarc : "unknown"), I(now_unix()));
}

int store_domain_update(struct store *s, const struct training_domain *d)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE training_domains SET domain = ?, note = ?, spf = ?, dkim = ?, dmarc = ? WHERE id = ?",
		    T(d->domain), T(d->note), T(d->spf), T(d->dkim), T(d->dmarc), I(d->id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_domain_delete(struct store *s, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM training_domains WHERE id = ?", I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

/* ---- lists and recipients ---- */

#define LIST_COLS "l.id, l.name, l.created_at, " \
	"(SELECT count(*) FROM recipients r WHERE r.list_id = l.id), " \
	"(SELECT count(*) FROM recipients r WHERE r.list_id = l.id AND r.is_test <> 0)"

static void list_read(struct stmt *st, struct arena *a, struct list_info *ret)
{
	*ret = (struct list_info){
		.id = col_int(st, 0), .name = col_text(st, 1, a), .created_at = col_int(st, 2),
		.recipient_count = col_int(st, 3), .test_count = col_int(st, 4),
	};
}

int store_list_create(struct store *s, int64_t tenant_id, const char *name, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run_insert(&cn, ret_id, "INSERT INTO lists (tenant_id, name, created_at) VALUES (?, ?, ?)", I(tenant_id), T(name), I(now_unix()));
}

int store_list_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct list_info *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " LIST_COLS " FROM lists l WHERE l.tenant_id = ? AND l.id = ?", I(tenant_id), I(id));
	return r < 0 ? r : READ_ROW(&cn, st, a, list_read(st, a, ret));
}

int store_lists(struct store *s, int64_t tenant_id, struct arena *a, struct list_info **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " LIST_COLS " FROM lists l WHERE l.tenant_id = ? ORDER BY l.id", I(tenant_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, list_read(st, a, rec));
}

int store_list_delete(struct store *s, int64_t tenant_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = prep(&cn, &st, "SELECT EXISTS (SELECT 1 FROM campaign_lists WHERE list_id = l.id) FROM lists l "
			   "WHERE l.tenant_id = ? AND l.id = ?", I(tenant_id), I(id));
	if (r >= 0 && (r = step_row(&cn, st)) == 0)
		r = -ENOENT;
	if (r > 0 && col_int(st, 0))
		r = -EBUSY; /* a campaign uses it */
	if (r >= 0)
		r = run(&cn, "DELETE FROM lists WHERE id = ?", I(id));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int list_check(struct conn *cn, int64_t tenant_id, int64_t list_id)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "SELECT 1 FROM lists WHERE tenant_id = ? AND id = ?", I(tenant_id), I(list_id));
	if (r >= 0 && (r = step_row(cn, st)) == 0)
		r = -ENOENT;
	return r < 0 ? r : 0;
}

static int list_size(struct conn *cn, int64_t list_id, int64_t *ret)
{
	return query_int(cn, ret, "SELECT count(*) FROM recipients WHERE list_id = ?", I(list_id));
}

int recipients_upsert(struct conn *cn, int64_t list_id, const struct person *rows, size_t n, int64_t *ret_new,
		      int64_t *ret_updated)
{
	_cleanup_stmt_ struct stmt *ins = NULL;
	int64_t before = 0, after = 0;
	int r = list_size(cn, list_id, &before);
	if (r >= 0)
		r = prep(cn, &ins,
			 "INSERT INTO recipients (list_id, last_name, first_name, email, department, position, "
			 "field1, field2, field3, is_test) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
			 "ON CONFLICT (list_id, email) DO UPDATE SET last_name = excluded.last_name, "
			 "first_name = excluded.first_name, department = excluded.department, "
			 "position = excluded.position, field1 = excluded.field1, field2 = excluded.field2, "
			 "field3 = excluded.field3, is_test = excluded.is_test");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct person *p = &rows[i];
		stmt_reset(ins);
		bind_int(ins, 1, list_id);
		for (int f = 0; f < PF__COUNT; f++)
			bind_text(ins, f + 2, p->f[f] ? p->f[f] : "");
		bind_int(ins, 10, p->is_test);
		r = step_done(cn, ins);
	}
	if (r >= 0)
		r = list_size(cn, list_id, &after);
	if (r < 0)
		return r;
	/* rows hold each address once: what did not add a row overwrote one */
	*ret_new = after - before;
	*ret_updated = (int64_t)n - (after - before);
	return 0;
}

int store_recipients_import(struct store *s, int64_t tenant_id, int64_t list_id, const struct person *rows,
			    size_t n, int64_t *ret_new, int64_t *ret_updated)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int64_t added = 0, updated = 0;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	if ((r = list_check(&cn, tenant_id, list_id)) >= 0)
		r = recipients_upsert(&cn, list_id, rows, n, &added, &updated);
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_new = added;
	*ret_updated = updated;
	return 0;
}

void person_read(struct stmt *st, int col, struct arena *a, struct person *p)
{
	for (int f = 0; f < PF__COUNT; f++)
		p->f[f] = col_text(st, col + f, a);
	p->is_test = col_int(st, col + PF__COUNT) != 0;
}

/* Appends `lower(text) LIKE lower(?4) ESCAPE '\'` over every text column, for a
 * search (LIKE is case-sensitive on PostgreSQL, ASCII-insensitive on SQLite). */
static void search_clause(struct buf *sql)
{
	buf_puts(sql, " AND (");
	for (int f = 0; f < PF__COUNT; f++)
		buf_printf(sql, "%slower(r.%s) LIKE lower(?4) ESCAPE '\\'", f ? " OR " : "", person_field_names[f]);
	buf_puts(sql, ")");
}

/* "%q%" with the LIKE wildcards of q escaped. */
static char *like_pattern(struct arena *a, const char *q)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	buf_putc(&b, '%');
	for (const char *c = q; *c; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *c);
	}
	buf_putc(&b, '%');
	return arena_strndup(a, b.p, b.len);
}

const char *sort_column(const char *sort)
{
	if (!sort || !strcmp(sort, "id"))
		return "id";
	if (!strcmp(sort, "is_test"))
		return "is_test";
	for (int f = 0; f < PF__COUNT; f++)
		if (!strcmp(sort, person_field_names[f]))
			return person_field_names[f];
	return NULL;
}

int store_recipients(struct store *s, int64_t tenant_id, int64_t list_id, const struct recipient_query *q,
		     struct arena *a, struct recipient **ret, size_t *ret_n, int64_t *ret_total)
{
	const char *col = sort_column(q->sort);
	if (!col)
		return -EINVAL;
	const char *like = q->q && q->q[0] ? like_pattern(a, q->q) : "%";
	if (!like)
		return -ENOMEM;
	/* ?1 tenant, ?2 list, ?3 after, ?4 pattern, ?5 limit, ?6 offset; the
	 * column and direction come from the fixed table above, never the input. */
	_cleanup_buf_ struct buf where = BUF_INIT(4096), sql = BUF_INIT(8192);
	buf_puts(&where, " FROM recipients r JOIN lists l ON l.id = r.list_id "
			 "WHERE l.tenant_id = ?1 AND r.list_id = ?2 AND r.id > ?3");
	if (q->q && q->q[0])
		search_clause(&where);
	else
		buf_puts(&where, " AND ?4 = '%'");
	buf_printf(&sql, "SELECT r.id, r.list_id, " PERSON_COLS ", count(*) OVER ()%s ORDER BY r.%s %s, r.id %s "
			 "LIMIT ?5 OFFSET ?6", where.p, col, q->desc ? "DESC" : "ASC", q->desc ? "DESC" : "ASC");

	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	struct recipient *out = NULL;
	size_t n = 0, cap = 0;
	int64_t total = 0;
	int r = prep(&cn, &st, sql.p, I(tenant_id), I(list_id), I(q->after), T(like), I((int64_t)q->limit),
		     I((int64_t)q->offset));
	while (r >= 0 && (r = step_row(&cn, st)) > 0) {
		struct recipient *rc = PUSH(a, out, n, cap);
		if (!rc)
			break;
		rc->id = col_int(st, 0);
		rc->list_id = col_int(st, 1);
		person_read(st, 2, a, &rc->p);
		total = col_int(st, 2 + PF__COUNT + 1);
	}
	if (r >= 0 && n == 0 && q->offset > 0) {
		/* past the end: the count still matters to the caller */
		_cleanup_stmt_ struct stmt *cnt = NULL;
		buf_reset(&sql);
		buf_printf(&sql, "SELECT count(*)%s", where.p);
		r = prep(&cn, &cnt, sql.p, I(tenant_id), I(list_id), I(q->after), T(like));
		if (r >= 0 && (r = step_row(&cn, cnt)) > 0)
			total = col_int(cnt, 0);
	}
	if ((r = read_done(r, a)) < 0)
		return r;
	*ret = out;
	*ret_n = n;
	*ret_total = total;
	return 0;
}

int store_recipient_get(struct store *s, int64_t tenant_id, int64_t list_id, int64_t id, struct arena *a,
			struct recipient *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT r.id, r.list_id, " PERSON_COLS " FROM recipients r JOIN lists l "
			       "ON l.id = r.list_id WHERE l.tenant_id = ? AND r.list_id = ? AND r.id = ?",
		     I(tenant_id), I(list_id), I(id));
	if (r < 0 || (r = step_row(&cn, st)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	ret->id = col_int(st, 0);
	ret->list_id = col_int(st, 1);
	person_read(st, 2, a, &ret->p);
	return read_done(0, a);
}

#define PERSON_ARGS(p) T((p)->f[0]), T((p)->f[1]), T((p)->f[2]), T((p)->f[3]), T((p)->f[4]), \
	T((p)->f[5]), T((p)->f[6]), T((p)->f[7]), I((int64_t)(p)->is_test)

int store_recipient_add(struct store *s, int64_t tenant_id, int64_t list_id, const struct person *p,
			int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	int64_t id = 0;
	if ((r = list_check(&cn, tenant_id, list_id)) >= 0)
		r = run_insert(&cn, &id, "INSERT INTO recipients (list_id, " PERSON_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
			       I(list_id), PERSON_ARGS(p));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_id = id;
	return 0;
}

int store_recipient_update(struct store *s, int64_t tenant_id, int64_t list_id, int64_t id,
			   const struct person *p)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	if ((r = list_check(&cn, tenant_id, list_id)) >= 0)
		r = run(&cn, "UPDATE recipients SET last_name = ?, first_name = ?, email = ?, department = ?, "
			     "position = ?, field1 = ?, field2 = ?, field3 = ?, is_test = ? WHERE id = ? AND list_id = ?",
			PERSON_ARGS(p), I(id), I(list_id));
	if (r >= 0 && db_changes(&cn) == 0)
		r = -ENOENT;
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int store_recipient_delete(struct store *s, int64_t tenant_id, int64_t list_id, int64_t id)
{
	bool deleted;
	int r = store_recipients_delete(s, tenant_id, list_id, &id, NULL, 1, &deleted);
	return r < 0 ? r : deleted ? 0 : -ENOENT;
}

int store_recipients_delete(struct store *s, int64_t tenant_id, int64_t list_id, const int64_t *ids,
			    const char *const *emails, size_t n, bool *ret_deleted)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *del = NULL;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	if ((r = list_check(&cn, tenant_id, list_id)) >= 0)
		r = prep(&cn, &del, ids ? "DELETE FROM recipients WHERE list_id = ? AND id = ?"
					: SQL2(&cn, "DELETE FROM recipients WHERE list_id = ? AND email = ? COLLATE NOCASE",
					       "DELETE FROM recipients WHERE list_id = ? AND lower(email) = lower(?)"));
	for (size_t i = 0; r >= 0 && i < n; i++) {
		stmt_reset(del);
		bind_int(del, 1, list_id);
		if (ids)
			bind_int(del, 2, ids[i]);
		else
			bind_text(del, 2, emails[i]);
		if ((r = step_done(&cn, del)) >= 0)
			ret_deleted[i] = db_changes(&cn) > 0;
	}
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int store_list_rename(struct store *s, int64_t tenant_id, int64_t id, const char *name)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE lists SET name = ? WHERE tenant_id = ? AND id = ?", T(name), I(tenant_id), I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

/* ---- scenarios ---- */

#define SCENARIO_COLS "id, tenant_id, gallery_id, name, description, genre, type, level, lang, subject, " \
	"html, text, sender_name, sender_local, sender_domain, landing_html, explain_html, red_flags, created_at, " \
	"envelope_from, reply_to, headers, attachment, education_url"

static void scenario_read(struct stmt *st, struct arena *a, struct scenario_rec *sc)
{
	*sc = (struct scenario_rec){
		.id = col_int(st, 0), .tenant_id = col_int(st, 1), .gallery_id = col_text_null(st, 2, a),
		.name = col_text(st, 3, a), .description = col_text(st, 4, a), .genre = col_text(st, 5, a),
		.type = col_text(st, 6, a), .level = col_text(st, 7, a), .lang = col_text(st, 8, a),
		.subject = col_text(st, 9, a), .html = col_text(st, 10, a), .text = col_text(st, 11, a),
		.sender_name = col_text(st, 12, a), .sender_local = col_text(st, 13, a),
		.sender_domain = col_text(st, 14, a), .landing_html = col_text_null(st, 15, a),
		.explain_html = col_text(st, 16, a), .red_flags_json = col_text(st, 17, a),
		.created_at = col_int(st, 18), .envelope_from = col_text(st, 19, a),
		.reply_to = col_text(st, 20, a), .headers_json = col_text(st, 21, a),
		.attachment_json = col_text_null(st, 22, a), .education_url = col_text(st, 23, a),
	};
}

int store_scenario_create(struct store *s, int64_t tenant_id, const struct scenario_rec *sc, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run_insert(&cn, ret_id, "INSERT INTO scenarios (tenant_id, gallery_id, name, description, genre, type, level, "
			 "lang, subject, html, text, sender_name, sender_local, sender_domain, landing_html, "
			 "explain_html, red_flags, created_at, envelope_from, reply_to, headers, attachment, "
			 "education_url) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", I(tenant_id), T(sc->gallery_id), T(sc->name), T(sc->description), T(sc->genre), T(sc->type), T(sc->level), T(sc->lang), T(sc->subject), T(sc->html), T(sc->text), T(sc->sender_name), T(sc->sender_local), T(sc->sender_domain), T(sc->landing_html), T(sc->explain_html), T(sc->red_flags_json ? sc->red_flags_json : "[]"), I(now_unix()), T(sc->envelope_from ? sc->envelope_from : ""), T(sc->reply_to ? sc->reply_to : ""), T(sc->headers_json ? sc->headers_json : "[]"), T(sc->attachment_json), T(sc->education_url ? sc->education_url : ""));
}

int store_scenario_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct scenario_rec *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " SCENARIO_COLS " FROM scenarios WHERE tenant_id = ? AND id = ?", I(tenant_id), I(id));
	return r < 0 ? r : READ_ROW(&cn, st, a, scenario_read(st, a, ret));
}

int store_scenarios(struct store *s, int64_t tenant_id, struct arena *a, struct scenario_rec **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " SCENARIO_COLS " FROM scenarios WHERE tenant_id = ? ORDER BY id", I(tenant_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, scenario_read(st, a, rec));
}

int store_scenario_update(struct store *s, int64_t tenant_id, int64_t id, const struct scenario_rec *sc)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE scenarios SET name = ?, description = ?, genre = ?, type = ?, level = ?, lang = ?, "
			 "subject = ?, html = ?, text = ?, sender_name = ?, sender_local = ?, sender_domain = ?, "
			 "landing_html = ?, explain_html = ?, red_flags = ?, envelope_from = ?, reply_to = ?, "
			 "headers = ?, attachment = ?, education_url = ? WHERE tenant_id = ? AND id = ?",
		    T(sc->name), T(sc->description), T(sc->genre), T(sc->type), T(sc->level), T(sc->lang),
		    T(sc->subject), T(sc->html), T(sc->text), T(sc->sender_name), T(sc->sender_local),
		    T(sc->sender_domain), T(sc->landing_html), T(sc->explain_html),
		    T(sc->red_flags_json ? sc->red_flags_json : "[]"), T(sc->envelope_from ? sc->envelope_from : ""),
		    T(sc->reply_to ? sc->reply_to : ""), T(sc->headers_json ? sc->headers_json : "[]"),
		    T(sc->attachment_json), T(sc->education_url ? sc->education_url : ""), I(tenant_id), I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_scenario_delete(struct store *s, int64_t tenant_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = prep(&cn, &st, "SELECT EXISTS (SELECT 1 FROM campaigns WHERE scenario_id = sc.id) FROM scenarios sc "
			   "WHERE sc.tenant_id = ? AND sc.id = ?", I(tenant_id), I(id));
	if (r >= 0 && (r = step_row(&cn, st)) == 0)
		r = -ENOENT;
	if (r > 0 && col_int(st, 0))
		r = -EBUSY;
	if (r >= 0)
		r = run(&cn, "DELETE FROM scenarios WHERE id = ?", I(id));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

/* ---- campaigns ---- */

static int state_parse(const char *s, enum campaign_state *ret)
{
	int i = name_index(campaign_state_names, ARRAY_SIZE(campaign_state_names), s);
	if (i < 0)
		return -EIO;
	*ret = (enum campaign_state)i;
	return 0;
}

/* Checks that every list of c and its profile (when set) belong to the tenant. */
static int campaign_refs_check(struct conn *cn, int64_t tenant_id, const struct campaign *c)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < c->nlist_ids; i++) {
		_cleanup_stmt_ struct stmt *chk = NULL;
		r = prep(cn, &chk, "SELECT 1 FROM lists WHERE tenant_id = ? AND id = ?", I(tenant_id), I(c->list_ids[i]));
		if (r >= 0 && (r = step_row(cn, chk)) == 0)
			r = -ENOENT;
	}
	if (r >= 0 && c->profile_id) {
		_cleanup_stmt_ struct stmt *chk = NULL;
		r = prep(cn, &chk, "SELECT 1 FROM sending_profiles WHERE id = ? AND (tenant_id IS NULL OR tenant_id = ?)",
			 I(c->profile_id), I(tenant_id));
		if (r >= 0 && (r = step_row(cn, chk)) == 0)
			r = -ENOENT;
	}
	return r;
}

static int campaign_lists_set(struct conn *cn, int64_t id, const struct campaign *c)
{
	int r = run(cn, "DELETE FROM campaign_lists WHERE campaign_id = ?", I(id));
	for (size_t i = 0; r >= 0 && i < c->nlist_ids; i++)
		r = run(cn, "INSERT INTO campaign_lists (campaign_id, list_id) VALUES (?, ?) ON CONFLICT DO NOTHING", I(id),
			I(c->list_ids[i]));
	return r;
}

int store_campaign_create(struct store *s, int64_t tenant_id, const struct campaign *c, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int64_t now = now_unix(), id;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	{
		_cleanup_stmt_ struct stmt *chk = NULL;
		r = prep(&cn, &chk, "SELECT 1 FROM scenarios WHERE tenant_id = ? AND id = ?", I(tenant_id), I(c->scenario_id));
		if (r >= 0 && (r = step_row(&cn, chk)) == 0)
			r = -ENOENT;
	}
	if (r >= 0)
		r = campaign_refs_check(&cn, tenant_id, c);
	if (r >= 0)
		r = run_insert(&cn, &id, "INSERT INTO campaigns (tenant_id, name, scenario_id, state, sender_name, sender_local, "
			     "sender_domain, test_only, exclusion_seconds, created_at, schedule, start_at, ends_at, "
			     "profile_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,nullif(?, 0))", I(tenant_id), T(c->name), I(c->scenario_id), T(campaign_state_name(CAMPAIGN_DRAFT)), T(c->sender_name), T(c->sender_local), T(c->sender_domain), I((int64_t)c->test_only), I(c->exclusion_seconds), I(now), T(c->schedule_json ? c->schedule_json : "{}"), I(c->start_at), I(c->ends_at), I(c->profile_id));
	if (r >= 0)
		r = campaign_lists_set(&cn, id, c);
	if (r >= 0)
		r = run(&cn, "INSERT INTO events (campaign_id, kind, at_ms) VALUES (?, ?, ?)", I(id), T(event_kind_name(EV_CREATED)), I(now_ms()));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_id = id;
	return 0;
}

#define CAMPAIGN_COLS "c.id, c.tenant_id, c.scenario_id, c.name, coalesce(sc.name, ''), c.state, " \
	"c.sender_name, c.sender_local, c.sender_domain, c.test_only, c.exclusion_seconds, c.created_at, " \
	"c.launched_at, c.finished_at, c.schedule, c.start_at, c.ends_at, coalesce(c.profile_id, 0), c.target_count"

static int campaign_read(struct conn *cn, struct stmt *st, struct arena *a, struct campaign *c)
{
	*c = (struct campaign){
		.id = col_int(st, 0), .tenant_id = col_int(st, 1), .scenario_id = col_int(st, 2),
		.name = col_text(st, 3, a), .scenario_name = col_text(st, 4, a),
		.sender_name = col_text(st, 6, a), .sender_local = col_text(st, 7, a),
		.sender_domain = col_text(st, 8, a), .test_only = col_int(st, 9) != 0,
		.exclusion_seconds = col_int(st, 10), .created_at = col_int(st, 11),
		.launched_at = col_int(st, 12), .finished_at = col_int(st, 13),
		.schedule_json = col_text(st, 14, a), .start_at = col_int(st, 15), .ends_at = col_int(st, 16),
		.profile_id = col_int(st, 17), .target_count = col_int(st, 18),
	};
	int r = state_parse(col_cstr(st, 5), &c->state);
	if (r < 0)
		return r;
	_cleanup_stmt_ struct stmt *ls = NULL;
	size_t cap = 0;
	r = prep(cn, &ls, "SELECT list_id FROM campaign_lists WHERE campaign_id = ? ORDER BY list_id", I(c->id));
	while (r >= 0 && (r = step_row(cn, ls)) > 0) {
		int64_t *id = PUSH(a, c->list_ids, c->nlist_ids, cap);
		if (!id)
			break;
		*id = col_int(ls, 0);
	}
	return r;
}

int store_campaign_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct campaign *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " CAMPAIGN_COLS " FROM campaigns c LEFT JOIN scenarios sc "
			       "ON sc.id = c.scenario_id WHERE c.tenant_id = ? AND c.id = ?", I(tenant_id), I(id));
	return r < 0 ? r : READ_ROW(&cn, st, a, r_ = campaign_read(&cn, st, a, ret));
}

int store_campaigns(struct store *s, int64_t tenant_id, struct arena *a, struct campaign **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " CAMPAIGN_COLS " FROM campaigns c LEFT JOIN scenarios sc "
			       "ON sc.id = c.scenario_id WHERE c.tenant_id = ? ORDER BY c.id DESC", I(tenant_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, if ((r_ = campaign_read(&cn, st, a, rec)) < 0) break);
}

/* The recipients of a campaign's lists not yet among its targets, one per
 * address (the lowest list id wins), become pending targets. */
static int targets_add_new(struct conn *cn, int64_t id, int64_t *ret_added)
{
	_cleanup_stmt_ struct stmt *src = NULL, *ins = NULL;
	int64_t count = 0;
	int r = prep(cn, &src, "SELECT " PERSON_COLS " FROM (SELECT r.*, row_number() OVER "
			       "(PARTITION BY r.email ORDER BY r.list_id, r.id) AS nth FROM recipients r "
			       "JOIN campaign_lists cl ON cl.list_id = r.list_id "
			       "JOIN campaigns c ON c.id = cl.campaign_id "
			       "WHERE cl.campaign_id = ? AND (c.test_only = 0 OR r.is_test <> 0)) AS x "
			       "WHERE nth = 1 AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.campaign_id = ? "
			       "AND t.email = x.email) ORDER BY list_id, id", I(id), I(id));
	if (r >= 0)
		r = prep(cn, &ins, "INSERT INTO targets (campaign_id, rid, " PERSON_COLS ") "
				   "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	while (r >= 0 && (r = step_row(cn, src)) > 0) {
		char rid[RID_LEN + 1];
		id_random(rid, RID_LEN);
		stmt_reset(ins);
		bind_int(ins, 1, id);
		bind_text(ins, 2, rid);
		for (int f = 0; f < PF__COUNT; f++)
			bind_text(ins, f + 3, col_cstr(src, f));
		bind_int(ins, PF__COUNT + 3, col_int(src, PF__COUNT));
		r = step_done(cn, ins);
		count++;
	}
	if (r >= 0)
		*ret_added = count;
	return r;
}

int store_plan_at_once(void *ctx, size_t n, const char *const *emails, int64_t *due)
{
	(void)ctx;
	(void)emails;
	memset(due, 0, n * sizeof(*due));
	return 0;
}

/* Plans every pending target of a campaign (target id order) with plan. */
static int targets_plan(struct conn *cn, int64_t id, store_plan_fn plan, void *ctx)
{
	_cleanup_stmt_ struct stmt *st = NULL, *up = NULL;
	struct arena *a = arena_new(0);
	const char **emails = NULL;
	int64_t *ids = NULL, *due = NULL;
	size_t n = 0, cap = 0, capi = 0;
	int r = prep(cn, &st, "SELECT id, email FROM targets WHERE campaign_id = ? AND state = 'pending' ORDER BY id", I(id));
	while (r >= 0 && (r = step_row(cn, st)) > 0) {
		size_t k = n;
		const char **e = PUSH(a, emails, n, cap);
		int64_t *i = PUSH(a, ids, k, capi);
		if (!e || !i)
			break;
		*e = col_text(st, 1, a);
		*i = col_int(st, 0);
	}
	r = read_done(r, a);
	if (r >= 0 && n && !(due = arena_alloc(a, st_mult(n, sizeof(*due)))))
		r = -ENOMEM;
	if (r >= 0 && n)
		r = plan(ctx, n, emails, due);
	if (r >= 0 && n)
		r = prep(cn, &up, "UPDATE targets SET due_at = ? WHERE id = ?");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		stmt_reset(up);
		bind_int(up, 1, due[i]);
		bind_int(up, 2, ids[i]);
		r = step_done(cn, up);
	}
	arena_free(a);
	return r;
}

/* -ENOENT for no such campaign of the tenant, else its state. */
static int campaign_state_get(struct conn *cn, int64_t tenant_id, int64_t id, enum campaign_state *ret)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "SELECT state FROM campaigns WHERE tenant_id = ? AND id = ?", I(tenant_id), I(id));
	if (r >= 0 && (r = step_row(cn, st)) == 0)
		r = -ENOENT;
	if (r >= 0)
		r = state_parse(col_cstr(st, 0), ret);
	return r;
}

/* Counted targets: not test targets, of campaigns that are not test_only
 * and have more than 10 targets (SPEC A3).  The SQL for "t" joined with "c". */
#define COUNTED "t.is_test = 0 AND c.test_only = 0 AND c.target_count > 10"

/* An address of usage_addresses u equal to x ignoring case: on SQLite the
 * column is NOCASE (its key's index needs this form), PostgreSQL has a
 * unique index on lower(email). */
#define USAGE_EMAIL_LITE(x) "u.email = " x
#define USAGE_EMAIL_PG(x) "lower(u.email) = lower(" x ")"

/*
 * What a launch of campaign id (its targets just made, target_count set)
 * needs of the tenant's licence and what remains, counting what other live
 * campaigns will still send.  need 0 when nothing is counted.
 */
static int licence_need(struct conn *cn, const struct tenant *t, int64_t id, struct licence_check *ret)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r;
#define NEED_ADDRESSES(EQ) \
	"SELECT (SELECT count(DISTINCT lower(t.email)) FROM targets t JOIN campaigns c ON c.id = t.campaign_id " \
	"  WHERE c.id = ?1 AND " COUNTED " AND NOT EXISTS (SELECT 1 FROM usage_addresses u WHERE u.tenant_id = ?2 " \
	"  AND u.period_start = ?3 AND " EQ ")), " \
	"?4 - (SELECT count(*) FROM usage_addresses u WHERE u.tenant_id = ?2 AND u.period_start = ?3) " \
	"- (SELECT count(DISTINCT lower(t.email)) FROM targets t JOIN campaigns c ON c.id = t.campaign_id " \
	"  WHERE c.tenant_id = ?2 AND c.id != ?1 AND " COUNTED " AND t.state IN ('pending', 'claimed', 'sending') " \
	"  AND c.state IN ('scheduled', 'sending', 'paused', 'running') AND NOT EXISTS (SELECT 1 FROM usage_addresses u " \
	"  WHERE u.tenant_id = ?2 AND u.period_start = ?3 AND " EQ "))"
	if (t->licence == LICENCE_ADDRESSES)
		r = prep(cn, &st, SQL2(cn, NEED_ADDRESSES(USAGE_EMAIL_LITE("t.email")), NEED_ADDRESSES(USAGE_EMAIL_PG("t.email"))),
			 I(id), I(t->id), I(t->period_start), I(t->quota));
#undef NEED_ADDRESSES
	else
		r = prep(cn, &st,
			 "SELECT (SELECT count(*) FROM targets t JOIN campaigns c ON c.id = t.campaign_id WHERE c.id = ?1 AND " COUNTED "), "
			 "?4 - coalesce((SELECT sends FROM usage_sends u WHERE u.tenant_id = ?2 AND u.period_start = ?3), 0) "
			 "- (SELECT count(*) FROM targets t JOIN campaigns c ON c.id = t.campaign_id WHERE c.tenant_id = ?2 "
			 "  AND c.id != ?1 AND " COUNTED " AND t.state IN ('pending', 'claimed', 'sending') "
			 "  AND c.state IN ('scheduled', 'sending', 'paused', 'running'))",
			 I(id), I(t->id), I(t->period_start), I(t->quota));
	if (r >= 0 && (r = step_row(cn, st)) > 0) {
		*ret = (struct licence_check){ col_int(st, 0), col_int(st, 1) };
		r = 0;
	}
	return r;
}

static int tenant_of(struct conn *cn, int64_t tenant_id, struct arena *a, struct tenant *ret)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "SELECT " TENANT_COLS " FROM tenants WHERE id = ?", I(tenant_id));
	if (r >= 0 && (r = step_row(cn, st)) == 0)
		r = -ENOENT;
	if (r > 0) {
		tenant_read(st, a, ret);
		r = read_done(0, a);
	}
	return r;
}

int store_campaign_launch(struct store *s, int64_t tenant_id, int64_t id, int64_t now, size_t max_test,
			  store_plan_fn plan, void *ctx, int64_t *ret_targets, struct licence_check *ret_licence)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	struct arena *a = arena_new(0);
	enum campaign_state st;
	struct tenant ten;
	struct licence_check need = { 0, 0 };
	int64_t count = 0;
	int r = tx_begin(&cn);
	if (r < 0) {
		arena_free(a);
		return r;
	}
	r = campaign_state_get(&cn, tenant_id, id, &st);
	if (r >= 0 && st != CAMPAIGN_DRAFT)
		r = -EBUSY;
	if (r >= 0 && (r = tenant_of(&cn, tenant_id, a, &ten)) >= 0 &&
	    (ten.suspended || (ten.period_end > 0 && now > ten.period_end)))
		r = -EPERM;
	if (r >= 0)
		r = targets_add_new(&cn, id, &count);
	if (r >= 0 && count == 0)
		r = -ENODATA;
	bool test_only = false;
	if (r >= 0) {
		_cleanup_stmt_ struct stmt *t = NULL;
		r = prep(&cn, &t, "SELECT test_only FROM campaigns WHERE id = ?", I(id));
		if (r >= 0 && (r = step_row(&cn, t)) > 0)
			test_only = col_int(t, 0) != 0;
	}
	if (r >= 0 && (size_t)count > (test_only ? max_test : ten.licence == LICENCE_TRIAL ? 10 : SIZE_MAX))
		r = -E2BIG;
	if (r >= 0)
		r = run(&cn, "UPDATE campaigns SET target_count = ? WHERE id = ?", I(count), I(id));
	if (r >= 0 && ten.quota > 0 && (r = licence_need(&cn, &ten, id, &need)) >= 0 && need.need > need.remain)
		r = -EDQUOT;
	if (r >= 0)
		r = targets_plan(&cn, id, plan, ctx);
	if (r >= 0)
		r = run(&cn, "UPDATE campaigns SET state = 'scheduled', launched_at = ?, start_at = greatest(start_at, ?) "
			     "WHERE id = ?", I(now), I(now), I(id));
	arena_free(a);
	if (ret_licence)
		*ret_licence = need;
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_targets = count;
	return 0;
}

int store_campaign_update(struct store *s, int64_t tenant_id, int64_t id, const struct campaign *c,
			  store_plan_fn plan, void *ctx)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	enum campaign_state st;
	int64_t added;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = campaign_state_get(&cn, tenant_id, id, &st);
	if (r >= 0 && (st == CAMPAIGN_FINISHED || st == CAMPAIGN_CANCELLED))
		r = -EBUSY;
	if (r >= 0)
		r = campaign_refs_check(&cn, tenant_id, c);
	if (r >= 0)
		r = run(&cn, "UPDATE campaigns SET name = ?, sender_name = ?, sender_local = ?, sender_domain = ?, "
			     "schedule = ?, start_at = ?, ends_at = ?, profile_id = nullif(?, 0), exclusion_seconds = ? "
			     "WHERE id = ?", T(c->name), T(c->sender_name), T(c->sender_local), T(c->sender_domain), T(c->schedule_json ? c->schedule_json : "{}"), I(c->start_at), I(c->ends_at), I(c->profile_id), I(c->exclusion_seconds), I(id));
	if (r >= 0)
		r = campaign_lists_set(&cn, id, c);
	if (r >= 0 && st != CAMPAIGN_DRAFT) {
		/* Pending targets whose address left every list go; new ones come. */
		r = run(&cn, "DELETE FROM targets WHERE campaign_id = ? AND state = 'pending' AND NOT EXISTS "
			     "(SELECT 1 FROM recipients r JOIN campaign_lists cl ON cl.list_id = r.list_id "
			     "JOIN campaigns c ON c.id = cl.campaign_id WHERE cl.campaign_id = targets.campaign_id "
			     "AND r.email = targets.email AND (c.test_only = 0 OR r.is_test <> 0)) "
			     "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.campaign_id = targets.campaign_id "
			     "AND e.target_id = targets.id)", I(id));
		if (r >= 0)
			r = targets_add_new(&cn, id, &added);
		if (r >= 0 && plan)
			r = targets_plan(&cn, id, plan, ctx);
		if (r >= 0)
			r = run(&cn, "UPDATE campaigns SET target_count = (SELECT count(*) FROM targets t "
				     "WHERE t.campaign_id = campaigns.id) WHERE id = ?", I(id));
		/* a running campaign with new targets sends again */
		if (r >= 0 && st == CAMPAIGN_RUNNING)
			r = run(&cn, "UPDATE campaigns SET state = 'sending' WHERE id = ? AND EXISTS (SELECT 1 FROM "
				     "targets t WHERE t.campaign_id = campaigns.id AND t.state = 'pending')", I(id));
	}
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int store_campaign_transition(struct store *s, int64_t tenant_id, int64_t id, unsigned from,
			      enum campaign_state to, int64_t now, store_plan_fn plan, void *ctx)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	enum campaign_state cur;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = campaign_state_get(&cn, tenant_id, id, &cur);
	if (r >= 0 && !(from & (1u << cur)))
		r = -EBUSY;
	bool ends = to == CAMPAIGN_FINISHED || to == CAMPAIGN_CANCELLED;
	if (r >= 0 && cur == CAMPAIGN_PAUSED && to == CAMPAIGN_SENDING) {
		/* resume into the state it was paused from, with a fresh plan */
		r = run(&cn, "UPDATE campaigns SET state = coalesce(resume_state, 'sending'), resume_state = NULL "
			     "WHERE id = ?", I(id));
		if (r >= 0 && plan)
			r = targets_plan(&cn, id, plan, ctx);
	} else if (r >= 0 && to == CAMPAIGN_PAUSED) {
		r = run(&cn, "UPDATE campaigns SET state = 'paused', resume_state = state WHERE id = ?", I(id));
	} else if (r >= 0) {
		r = run(&cn, "UPDATE campaigns SET state = ?, finished_at = ? WHERE id = ?", T(campaign_state_name(to)), I(ends ? now : 0), I(id));
	}
	if (r >= 0 && to == CAMPAIGN_CANCELLED)
		r = run(&cn, "UPDATE targets SET state = 'cancelled' WHERE campaign_id = ? AND state IN ('pending', 'claimed')", I(id));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

/* ---- delivery ---- */

const char *target_state_name(enum target_state st)
{
	return (size_t)st < ARRAY_SIZE(target_state_names) ? target_state_names[st] : "error";
}

void target_read(struct stmt *st, struct arena *a, struct target *t)
{
	*t = (struct target){
		.id = col_int(st, 0), .campaign_id = col_int(st, 1), .tenant_id = col_int(st, 2),
		.rid = col_text(st, 3, a), .sent_at = col_int(st, 5), .error = col_text_null(st, 6, a),
		.due_at = col_int(st, 7), .attempts = col_int(st, 8),
	};
	int i = name_index(target_state_names, ARRAY_SIZE(target_state_names),
			   col_cstr(st, 4));
	t->state = i < 0 ? TARGET_ERROR : (enum target_state)i;
	person_read(st, 9, a, &t->p);
}

int store_campaigns_tick(struct store *s, int64_t now)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int changed = 0;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = run(&cn, "UPDATE campaigns SET state = 'sending' WHERE state = 'scheduled' AND start_at <= ?", I(now));
	changed += r >= 0 ? db_changes(&cn) : 0;
	if (r >= 0)
		r = run(&cn, "UPDATE campaigns SET state = 'running' WHERE state = 'sending' AND NOT EXISTS "
			     "(SELECT 1 FROM targets t WHERE t.campaign_id = campaigns.id "
			     "AND t.state IN ('pending', 'claimed', 'sending'))");
	changed += r >= 0 ? db_changes(&cn) : 0;
	/* The end of the training period: what was not sent stays unsent. */
	if (r >= 0)
		r = run(&cn, "UPDATE targets SET state = 'cancelled' WHERE campaign_id IN "
			     "(SELECT id FROM campaigns WHERE ends_at > 0 AND ends_at <= ? AND state IN "
			     "('scheduled', 'sending', 'running', 'paused')) AND state = 'pending'", I(now));
	if (r >= 0)
		r = run(&cn, "UPDATE campaigns SET state = 'finished', finished_at = ? WHERE ends_at > 0 AND ends_at <= ? "
			     "AND state IN ('scheduled', 'sending', 'running', 'paused')", I(now), I(now));
	changed += r >= 0 ? db_changes(&cn) : 0;
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return changed;
}

int store_delivery_outlook(struct store *s, int64_t now, struct arena *a, int64_t **ret_profiles,
			   size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT DISTINCT coalesce(c.profile_id, 0) FROM campaigns c WHERE c.state = 'sending' "
			       "AND EXISTS (SELECT 1 FROM targets t WHERE t.campaign_id = c.id AND t.state = 'pending' "
			       "AND t.due_at <= ?)", I(now));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret_profiles, ret_n, *rec = col_int(st, 0));
}

int store_targets_claim(struct store *s, int64_t profile_id, int64_t now, size_t limit, struct arena *a,
			struct target **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	struct target *out = NULL;
	size_t n = 0, cap = 0;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = prep(&cn, &st, "SELECT " TARGET_COLS " FROM targets t JOIN campaigns c ON c.id = t.campaign_id "
			   "WHERE t.state = 'pending' AND t.due_at <= ? AND c.state = 'sending' "
			   "AND coalesce(c.profile_id, 0) = ? ORDER BY t.due_at, t.id LIMIT ?", I(now), I(profile_id), I((int64_t)limit));
	while (r >= 0 && (r = step_row(&cn, st)) > 0) {
		struct target *t = PUSH(a, out, n, cap);
		if (!t)
			break;
		target_read(st, a, t);
	}
	r = read_done(r, a);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = run(&cn, "UPDATE targets SET state = 'claimed', node = ? WHERE id = ?", T(s->node), I(out[i].id));
		out[i].state = TARGET_CLAIMED;
	}
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

/* The licence at send time: 1 may go, 0 hold back (suspended tenant),
 * -EDQUOT over the quota (*ret_why set).  Counts what is being sent too,
 * so parallel workers cannot overshoot together. */
static int licence_allows(struct conn *cn, int64_t target_id, const char **ret_why)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "SELECT tn.id, tn.plan, tn.quota, tn.period_start, tn.suspended, "
			      "(t.is_test = 0 AND c.test_only = 0 AND c.target_count > 10), t.email FROM targets t "
			      "JOIN campaigns c ON c.id = t.campaign_id JOIN tenants tn ON tn.id = c.tenant_id WHERE t.id = ?",
		     I(target_id));
	if (r < 0 || (r = step_row(cn, st)) <= 0)
		return r < 0 ? r : 1;
	int64_t tenant = col_int(st, 0), quota = col_int(st, 2), period = col_int(st, 3);
	bool addresses = !strcmp(col_cstr(st, 1), "unique_addresses");
	if (col_int(st, 4))
		return 0;
	if (!col_int(st, 5) || quota <= 0)
		return 1;
	_cleanup_stmt_ struct stmt *q = NULL;
#define ALLOWS_ADDRESSES(EQ1, EQ2) \
	"SELECT EXISTS (SELECT 1 FROM usage_addresses u WHERE u.tenant_id = ?1 AND u.period_start = ?2 " \
	"AND " EQ1 "), (SELECT count(*) FROM usage_addresses u WHERE u.tenant_id = ?1 AND " \
	"u.period_start = ?2) + (SELECT count(DISTINCT lower(t.email)) FROM targets t JOIN campaigns c " \
	"ON c.id = t.campaign_id WHERE c.tenant_id = ?1 AND t.state = 'sending' AND " COUNTED " AND " \
	"NOT EXISTS (SELECT 1 FROM usage_addresses u WHERE u.tenant_id = ?1 AND u.period_start = ?2 " \
	"AND " EQ2 "))"
	if (addresses)
		r = prep(cn, &q, SQL2(cn, ALLOWS_ADDRESSES(USAGE_EMAIL_LITE("?3"), USAGE_EMAIL_LITE("t.email")),
				      ALLOWS_ADDRESSES(USAGE_EMAIL_PG("?3"), USAGE_EMAIL_PG("t.email"))),
			 I(tenant), I(period), T(col_cstr(st, 6)));
#undef ALLOWS_ADDRESSES
	else
		r = prep(cn, &q, "SELECT 0, coalesce((SELECT sends FROM usage_sends u WHERE u.tenant_id = ?1 AND "
				 "u.period_start = ?2), 0) + (SELECT count(*) FROM targets t JOIN campaigns c ON c.id = "
				 "t.campaign_id WHERE c.tenant_id = ?1 AND t.state = 'sending' AND " COUNTED ")",
			 I(tenant), I(period));
	if (r < 0 || (r = step_row(cn, q)) <= 0)
		return r < 0 ? r : -EIO;
	if (col_int(q, 0) || col_int(q, 1) < quota)
		return 1;
	*ret_why = addresses ? "licence: the plan's addresses for this service period are used up"
			     : "licence: the plan's sends for this service period are used up";
	return -EDQUOT;
}

/* The delivery steps of one target, each inside a transaction the caller
 * holds (one step alone, or many at once in store_delivery_apply). */

/* claimed -> sending: 1 it goes, 0 held back, -EDQUOT refused by the licence. */
static int op_begin(struct conn *cn, int64_t target_id)
{
	const char *why = NULL;
	int ok = 0, r;
	{
		_cleanup_stmt_ struct stmt *st = NULL;
		/* still claimed by this node: a node silent for too long lost its
		 * claims (store_targets_recover), maybe to another node by now */
		r = prep(cn, &st, "SELECT 1 FROM targets t JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = ? "
				  "AND t.state = 'claimed' AND coalesce(t.node, '') = ? AND c.state = 'sending'",
			 I(target_id), T(cn->s->node));
		if (r >= 0)
			ok = r = step_row(cn, st);
	}
	if (r > 0)
		ok = r = licence_allows(cn, target_id, &why);
	if (ok == -EDQUOT)
		r = 0;
	if (r < 0)
		return r;
	if (ok == 1)
		r = run(cn, "UPDATE targets SET state = 'sending' WHERE id = ?", I(target_id));
	else if (ok == -EDQUOT)
		r = run(cn, "UPDATE targets SET state = 'error', error = ? WHERE id = ?", T(why), I(target_id));
	else
		r = run(cn, "UPDATE targets SET state = 'pending', node = NULL WHERE id = ? AND state = 'claimed' "
			    "AND coalesce(node, '') = ?", I(target_id), T(cn->s->node));
	if (r >= 0 && ok == -EDQUOT) {
		json_t *d = json_pack("{s:s}", "error", why);
		_cleanup_free_ char *detail = json_dumps(d, JSON_COMPACT);
		json_decref(d);
		r = run(cn, "INSERT INTO events (campaign_id, target_id, kind, at_ms, detail) "
			    "SELECT campaign_id, id, ?, ?, ? FROM targets WHERE id = ?", T(event_kind_name(EV_SEND_ERROR)), I(now_ms()), T(detail), I(target_id));
	}
	return r < 0 ? r : ok;
}

int store_target_release(struct store *s, int64_t target_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "UPDATE targets SET state = 'pending', node = NULL WHERE id = ? AND state = 'claimed' "
			"AND coalesce(node, '') = ?", I(target_id), T(s->node));
}

/* A counted send adds to the tenant's usage of its current period. */
static int usage_count(struct conn *cn, int64_t target_id, int64_t at)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "SELECT c.tenant_id, tn.period_start, t.email FROM targets t "
			      "JOIN campaigns c ON c.id = t.campaign_id JOIN tenants tn ON tn.id = c.tenant_id "
			      "WHERE t.id = ? AND " COUNTED, I(target_id));
	if (r < 0 || (r = step_row(cn, st)) <= 0)
		return r;
	int64_t tenant = col_int(st, 0), period = col_int(st, 1);
	const char *email = col_cstr(st, 2);
	r = run(cn, "INSERT INTO usage_sends (tenant_id, period_start, sends) VALUES (?, ?, 1) "
		    "ON CONFLICT (tenant_id, period_start) DO UPDATE SET sends = usage_sends.sends + 1", I(tenant), I(period));
	if (r >= 0)
		r = run(cn, "INSERT INTO usage_addresses (tenant_id, period_start, email, first_at) "
			    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", I(tenant), I(period), T(email), I(at));
	return r;
}

/* sending -> sent | error with its event (and the usage); -ESTALE when the
 * target is not sending, and nothing is written. */
static int op_finish(struct conn *cn, int64_t target_id, int64_t at_ms, bool ok, const char *text)
{
	int r;
	if (ok)
		r = run(cn, "UPDATE targets SET state = 'sent', sent_at = ?, message_id = ?, last_sent_ms = ?, error = NULL "
			    "WHERE id = ? AND state = 'sending'", I(at_ms / 1000), T(text), I(at_ms), I(target_id));
	else
		r = run(cn, "UPDATE targets SET state = 'error', error = ? WHERE id = ? AND state = 'sending'",
			T(text), I(target_id));
	if (r >= 0 && db_changes(cn) == 0)
		return -ESTALE;
	if (r >= 0) {
		_cleanup_free_ char *detail = NULL;
		if (!ok) {
			json_t *d = json_pack("{s:s}", "error", text ? text : "");
			detail = json_dumps(d, JSON_COMPACT);
			json_decref(d);
		}
		r = run(cn, "INSERT INTO events (campaign_id, target_id, kind, at_ms, detail) "
			    "SELECT campaign_id, id, ?, ?, ? FROM targets WHERE id = ?", T(event_kind_name(ok ? EV_SENT : EV_SEND_ERROR)), I(at_ms), T(detail), I(target_id));
	}
	if (r >= 0 && ok)
		r = usage_count(cn, target_id, at_ms / 1000);
	return r;
}

/* sending -> pending again, due at due_at, one attempt more. */
static int op_retry(struct conn *cn, int64_t target_id, int64_t due_at, const char *error)
{
	int r = run(cn, "UPDATE targets SET state = 'pending', due_at = ?, attempts = attempts + 1, error = ? "
			"WHERE id = ? AND state = 'sending'", I(due_at), T(error), I(target_id));
	return r < 0 ? r : db_changes(cn) ? 0 : -ESTALE;
}

static int op_apply(struct conn *cn, struct store_delivery_op *op)
{
	switch (op->kind) {
	case STORE_OP_BEGIN: return op_begin(cn, op->target_id);
	case STORE_OP_SENT: return op_finish(cn, op->target_id, op->at_ms, true, op->text);
	case STORE_OP_FAILED: return op_finish(cn, op->target_id, op->at_ms, false, op->text);
	case STORE_OP_RETRY: return op_retry(cn, op->target_id, op->due_at, op->text);
	}
	return -EINVAL;
}

int store_delivery_apply(struct store *s, struct store_delivery_op *ops, size_t n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = tx_begin(&cn);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		ops[i].result = op_apply(&cn, &ops[i]);
		if (ops[i].result < 0 && ops[i].result != -ESTALE && ops[i].result != -EDQUOT)
			r = ops[i].result; /* a database error: nothing of the batch stays */
	}
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		for (size_t i = 0; i < n; i++)
			ops[i].result = r;
		return r;
	}
	return 0;
}

/* One step in its own transaction. */
static int delivery_one(struct store *s, struct store_delivery_op op)
{
	int r = store_delivery_apply(s, &op, 1);
	return r < 0 ? r : op.result;
}

int store_target_begin(struct store *s, int64_t target_id)
{
	return delivery_one(s, (struct store_delivery_op){ .kind = STORE_OP_BEGIN, .target_id = target_id });
}

int store_target_sent(struct store *s, int64_t target_id, int64_t at_ms, const char *message_id)
{
	return delivery_one(s, (struct store_delivery_op){ .kind = STORE_OP_SENT, .target_id = target_id,
							  .at_ms = at_ms, .text = message_id });
}

int store_target_failed(struct store *s, int64_t target_id, int64_t at_ms, const char *error)
{
	return delivery_one(s, (struct store_delivery_op){ .kind = STORE_OP_FAILED, .target_id = target_id,
							  .at_ms = at_ms, .text = error });
}

int store_target_retry(struct store *s, int64_t target_id, int64_t due_at, const char *error)
{
	return delivery_one(s, (struct store_delivery_op){ .kind = STORE_OP_RETRY, .target_id = target_id,
							  .due_at = due_at, .text = error });
}

int store_campaign_delivery(struct store *s, int64_t tenant_id, int64_t id, struct delivery_counts *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	struct delivery_counts k = { 0 };
	int r = prep(&cn, &st, "SELECT t.state, count(*), count(*) FILTER (WHERE t.state = 'pending' AND t.attempts > 0), "
			       "min(CASE WHEN t.state = 'pending' THEN t.due_at END) FROM targets t JOIN campaigns c "
			       "ON c.id = t.campaign_id WHERE c.tenant_id = ? AND c.id = ? GROUP BY t.state", I(tenant_id), I(id));
	while (r >= 0 && (r = step_row(&cn, st)) > 0) {
		int i = name_index(target_state_names, ARRAY_SIZE(target_state_names),
				   col_cstr(st, 0));
		if (i >= 0)
			k.n[i] = col_int(st, 1);
		k.retrying += col_int(st, 2);
		if (!col_is_null(st, 3))
			k.next_due = col_int(st, 3);
	}
	if (r < 0)
		return r;
	*ret = k;
	return 0;
}

int store_campaign_times(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, int64_t **ret_at,
			 bool **ret_sent, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int64_t *at = NULL;
	bool *sent = NULL;
	size_t n = 0, n2 = 0, cap = 0, cap2 = 0;
	int r = prep(&cn, &st, "SELECT CASE WHEN t.state = 'sent' THEN t.sent_at ELSE t.due_at END AS at, "
			       "t.state = 'sent' FROM targets t JOIN campaigns c ON c.id = t.campaign_id "
			       "WHERE c.tenant_id = ? AND c.id = ? AND t.state IN ('sent', 'pending', 'claimed', 'sending') "
			       "ORDER BY at", I(tenant_id), I(id));
	while (r >= 0 && (r = step_row(&cn, st)) > 0) {
		int64_t *x = PUSH(a, at, n, cap);
		bool *y = PUSH(a, sent, n2, cap2);
		if (!x || !y)
			break;
		*x = col_int(st, 0);
		*y = col_int(st, 1) != 0;
	}
	if ((r = read_done(r, a)) < 0)
		return r;
	*ret_at = at;
	*ret_sent = sent;
	*ret_n = n;
	return 0;
}

int store_lists_emails(struct store *s, int64_t tenant_id, const int64_t *list_ids, size_t nlists, bool test_only,
		       struct arena *a, const char ***ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	_cleanup_buf_ struct buf ids = BUF_INIT(1 << 20);
	for (size_t i = 0; i < nlists; i++)
		buf_printf(&ids, "%s%lld", i ? "," : "", (long long)list_ids[i]);
	_cleanup_free_ char *sql = xasprintf(
		"SELECT email FROM (SELECT r.email, r.list_id, r.id, row_number() OVER (PARTITION BY r.email "
		"ORDER BY r.list_id, r.id) AS nth FROM recipients r JOIN lists l ON l.id = r.list_id "
		"WHERE l.tenant_id = ? AND r.list_id IN (%s) AND (? = 0 OR r.is_test <> 0)) AS x WHERE nth = 1 "
		"ORDER BY list_id, id", nlists ? ids.p : "0");
	int r = prep(&cn, &st, sql, I(tenant_id), I((int64_t)test_only));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, *rec = col_text(st, 0, a));
}

int store_usage_get(struct store *s, int64_t tenant_id, struct usage *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT tn.period_start, coalesce((SELECT sends FROM usage_sends u WHERE u.tenant_id = tn.id "
			       "AND u.period_start = tn.period_start), 0), (SELECT count(*) FROM usage_addresses u "
			       "WHERE u.tenant_id = tn.id AND u.period_start = tn.period_start) FROM tenants tn WHERE tn.id = ?", I(tenant_id));
	if (r < 0 || (r = step_row(&cn, st)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret = (struct usage){ col_int(st, 0), col_int(st, 1), col_int(st, 2) };
	return 0;
}

/* ---- sending profiles, DKIM keys ---- */

static const char *const smtp_security_names[] = { "none", "starttls", "tls" };

const char *smtp_security_name(enum smtp_security sec)
{
	return (size_t)sec < ARRAY_SIZE(smtp_security_names) ? smtp_security_names[sec] : "none";
}

int smtp_security_parse(const char *str, enum smtp_security *ret)
{
	int i = name_index(smtp_security_names, ARRAY_SIZE(smtp_security_names), str);
	if (i < 0)
		return -EINVAL;
	*ret = (enum smtp_security)i;
	return 0;
}

#define PROFILE_COLS "id, coalesce(tenant_id, 0), name, host, port, security, verify_tls, username, " \
	"password_sealed, helo, connections, per_connection, created_at, from_address"

static void profile_read(struct stmt *st, struct arena *a, struct sending_profile *p)
{
	*p = (struct sending_profile){
		.id = col_int(st, 0), .tenant_id = col_int(st, 1), .name = col_text(st, 2, a),
		.host = col_text(st, 3, a), .port = col_int(st, 4), .verify_tls = col_int(st, 6) != 0,
		.username = col_text(st, 7, a), .password_sealed = col_blob(st, 8, a), .helo = col_text(st, 9, a),
		.connections = col_int(st, 10), .per_connection = col_int(st, 11), .created_at = col_int(st, 12),
		.from_address = col_text(st, 13, a),
	};
	if (smtp_security_parse(col_cstr(st, 5), &p->security) < 0)
		p->security = SMTP_SECURITY_STARTTLS;
}

int profile_insert(struct conn *cn, int64_t tenant_id, const struct sending_profile *p, int64_t created_at,
		   int64_t *ret_id)
{
	return run_insert(cn, ret_id, "INSERT INTO sending_profiles (tenant_id, name, host, port, security, verify_tls, "
			  "username, password_sealed, helo, connections, per_connection, created_at, from_address) "
			  "VALUES (nullif(?, 0),?,?,?,?,?,?,?,?,?,?,?,?)",
			  I(tenant_id), T(p->name), T(p->host), I(p->port), T(smtp_security_name(p->security)),
			  I((int64_t)p->verify_tls), T(p->username ? p->username : ""),
			  B(p->password_sealed.p, p->password_sealed.len), T(p->helo ? p->helo : ""), I(p->connections),
			  I(p->per_connection), I(created_at), T(p->from_address ? p->from_address : ""));
}

int store_profile_create(struct store *s, const struct sending_profile *p, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return profile_insert(&cn, p->tenant_id, p, now_unix(), ret_id);
}

/* A profile by id as tenant_id sees it (its own and the operator's); -1: any. */
static int profile_query(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct sending_profile *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " PROFILE_COLS " FROM sending_profiles WHERE id = ?1 "
			       "AND (?2 = -1 OR tenant_id IS NULL OR tenant_id = nullif(?2, 0))", I(id), I(tenant_id));
	return r < 0 ? r : READ_ROW(&cn, st, a, profile_read(st, a, ret));
}

int store_profile_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct sending_profile *ret)
{
	return profile_query(s, tenant_id, id, a, ret);
}

int store_profile_load(struct store *s, int64_t id, struct arena *a, struct sending_profile *ret)
{
	return profile_query(s, -1, id, a, ret);
}

int store_profiles(struct store *s, int64_t tenant_id, struct arena *a, struct sending_profile **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " PROFILE_COLS " FROM sending_profiles WHERE tenant_id IS NULL "
			       "OR tenant_id = nullif(?, 0) ORDER BY tenant_id IS NOT NULL, id", I(tenant_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, profile_read(st, a, rec));
}

/* tenant_id 0 matches the operator's rows (NULL). */
#define PROFILE_OWNED "id = ? AND coalesce(tenant_id, 0) = ?"

int store_profile_update(struct store *s, int64_t tenant_id, int64_t id, const struct sending_profile *p)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r;
	if (p->password_sealed.p)
		r = run(&cn, "UPDATE sending_profiles SET name = ?, host = ?, port = ?, security = ?, verify_tls = ?, "
			     "username = ?, helo = ?, connections = ?, per_connection = ?, from_address = ?, password_sealed = ? "
			     "WHERE " PROFILE_OWNED, T(p->name), T(p->host), I(p->port), T(smtp_security_name(p->security)), I((int64_t)p->verify_tls), T(p->username), T(p->helo), I(p->connections), I(p->per_connection), T(p->from_address ? p->from_address : ""), B(p->password_sealed.p, p->password_sealed.len), I(id), I(tenant_id));
	else
		r = run(&cn, "UPDATE sending_profiles SET name = ?, host = ?, port = ?, security = ?, verify_tls = ?, "
			     "username = ?, helo = ?, connections = ?, per_connection = ?, from_address = ? WHERE " PROFILE_OWNED, T(p->name), T(p->host), I(p->port), T(smtp_security_name(p->security)), I((int64_t)p->verify_tls), T(p->username), T(p->helo), I(p->connections), I(p->per_connection), T(p->from_address ? p->from_address : ""), I(id), I(tenant_id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_profile_delete(struct store *s, int64_t tenant_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = prep(&cn, &st, "SELECT 1 FROM campaigns WHERE profile_id = ? AND state NOT IN ('finished', 'cancelled')", I(id));
	if (r >= 0 && (r = step_row(&cn, st)) > 0)
		r = -EBUSY;
	if (r >= 0)
		r = run(&cn, "DELETE FROM sending_profiles WHERE " PROFILE_OWNED, I(id), I(tenant_id));
	if (r >= 0 && db_changes(&cn) == 0)
		r = -ENOENT;
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

#define DKIM_COLS "id, domain, selector, algorithm, private_sealed, dns_txt, created_at"

static void dkim_read(struct stmt *st, struct arena *a, struct dkim_key *k)
{
	*k = (struct dkim_key){
		.id = col_int(st, 0), .domain = col_text(st, 1, a), .selector = col_text(st, 2, a),
		.algorithm = col_text(st, 3, a), .private_sealed = col_blob(st, 4, a), .dns_txt = col_text(st, 5, a),
		.created_at = col_int(st, 6),
	};
}

int store_dkim_add(struct store *s, const struct dkim_key *k, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run_insert(&cn, ret_id, "INSERT INTO dkim_keys (domain, selector, algorithm, private_sealed, dns_txt, created_at) "
			 "VALUES (?,?,?,?,?,?)", T(k->domain), T(k->selector), T(k->algorithm), B(k->private_sealed.p, k->private_sealed.len), T(k->dns_txt), I(now_unix()));
}

int store_dkim_keys(struct store *s, struct arena *a, struct dkim_key **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " DKIM_COLS " FROM dkim_keys ORDER BY lower(domain), id");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, dkim_read(st, a, rec));
}

int store_dkim_for_domain(struct store *s, const char *domain, struct arena *a, struct dkim_key *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	/* SQLite: the column is NOCASE (its unique index); PostgreSQL: an index on lower(domain) */
	int r = prep(&cn, &st, SQL2(&cn, "SELECT " DKIM_COLS " FROM dkim_keys WHERE domain = ?",
				    "SELECT " DKIM_COLS " FROM dkim_keys WHERE lower(domain) = lower(?)"), T(domain));
	return r < 0 ? r : READ_ROW(&cn, st, a, dkim_read(st, a, ret));
}

int store_dkim_delete(struct store *s, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM dkim_keys WHERE id = ?", I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

/* ---- share links ---- */

#define SHARE_COLS "id, tenant_id, campaign_id, password_hash, created_at, expires_at, access_count, failures, " \
	"failures_since, revoked, exclude"

static void share_read(struct stmt *st, struct arena *a, struct share_link *l)
{
	*l = (struct share_link){
		.id = col_int(st, 0), .tenant_id = col_int(st, 1), .campaign_id = col_int(st, 2),
		.password_hash = col_text_null(st, 3, a), .created_at = col_int(st, 4), .expires_at = col_int(st, 5),
		.access_count = col_int(st, 6), .failures = col_int(st, 7), .failures_since = col_int(st, 8),
		.revoked = col_int(st, 9) != 0, .exclude = col_int(st, 10) != 0,
	};
}

int store_share_create(struct store *s, int64_t tenant_id, int64_t campaign_id,
		       const unsigned char hash[STORE_HASH_LEN], const char *password_hash, int64_t expires_at,
		       bool exclude, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int64_t id = 0;
	int r = run_insert(&cn, &id, "INSERT INTO share_links (tenant_id, campaign_id, token_hash, password_hash, "
				  "created_at, expires_at, exclude) SELECT ?1, id, ?3, ?4, ?5, ?6, ?7 FROM campaigns "
				  "WHERE tenant_id = ?1 AND id = ?2",
			   I(tenant_id), I(campaign_id), B(hash, (size_t)STORE_HASH_LEN), T(password_hash), I(now_unix()),
			   I(expires_at), I(exclude));
	if (r < 0)
		return r;
	if (id == 0)
		return -ENOENT;
	*ret_id = id;
	return 0;
}

int store_shares(struct store *s, int64_t tenant_id, int64_t campaign_id, struct arena *a,
		 struct share_link **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " SHARE_COLS " FROM share_links WHERE tenant_id = ? AND campaign_id = ? "
			       "ORDER BY id DESC", I(tenant_id), I(campaign_id));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, share_read(st, a, rec));
}

int store_share_revoke(struct store *s, int64_t tenant_id, int64_t id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "UPDATE share_links SET revoked = 1 WHERE tenant_id = ? AND id = ?", I(tenant_id), I(id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_share_find(struct store *s, const unsigned char hash[STORE_HASH_LEN], struct arena *a,
		     struct share_link *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " SHARE_COLS " FROM share_links WHERE token_hash = ?",
		     B(hash, (size_t)STORE_HASH_LEN));
	return r < 0 ? r : READ_ROW(&cn, st, a, share_read(st, a, ret));
}

int store_share_note(struct store *s, int64_t id, bool ok, int64_t now, int64_t window)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	if (ok)
		return run(&cn, "UPDATE share_links SET access_count = access_count + 1 WHERE id = ?", I(id));
	return run(&cn, "UPDATE share_links SET failures = CASE WHEN failures_since + ?2 <= ?3 THEN 1 "
			"ELSE failures + 1 END, failures_since = CASE WHEN failures_since + ?2 <= ?3 THEN ?3 "
			"ELSE failures_since END WHERE id = ?1", I(id), I(window), I(now));
}

/* ---- education material ---- */

int store_education_get(struct store *s, int64_t tenant_id, const char *kind, const char *lang,
			struct arena *a, struct education *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT kind, lang, title, body, updated_at FROM education "
			       "WHERE tenant_id = ? AND kind = ? AND lang = ?", I(tenant_id), T(kind), T(lang));
	if (r < 0 || (r = step_row(&cn, st)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	struct education e = { col_text(st, 0, a), col_text(st, 1, a), col_text(st, 2, a), col_text(st, 3, a),
			       col_int(st, 4) };
	if ((r = read_done(0, a)) < 0)
		return r;
	*ret = e;
	return 0;
}

int store_education_set(struct store *s, int64_t tenant_id, const struct education *e)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "INSERT INTO education (tenant_id, kind, lang, title, body, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
			"ON CONFLICT (tenant_id, kind, lang) DO UPDATE SET title = excluded.title, body = excluded.body, "
			"updated_at = excluded.updated_at",
		   I(tenant_id), T(e->kind), T(e->lang), T(e->title), T(e->body), I(e->updated_at));
}
