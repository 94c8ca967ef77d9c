/*
 * db.c — the engine-neutral half of db.h: the pool, the statement cache,
 * typed arguments, stepping and reading rows; each call goes to SQLite
 * (db_sqlite.c) or PostgreSQL (db_pg.c) by the store's engine.
 */
#include "store/db.h"

/* A thread may hold one connection of a store at a time (two could
 * deadlock the pool); a copy between stores holds one of each. */
static _Thread_local struct store *conn_held[2];

struct conn conn_get(struct store *s)
{
	BUG_ON(conn_held[0] == s || conn_held[1] == s || (conn_held[0] && conn_held[1]));
	conn_held[conn_held[0] ? 1 : 0] = s;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (int i = 0; i < POOL_SIZE; i++)
			if (!s->busy[i]) {
				s->busy[i] = true;
				pthread_mutex_unlock(&s->lock);
				if (s->engine == DB_PG)
					pg_conn_check(s, i);
				return (struct conn){ s, s->conns[i], &s->pgs[i], i };
			}
		pthread_cond_wait(&s->cond, &s->lock);
	}
}

struct conn conn_get_beat(struct store *s)
{
	if (s->engine == DB_PG)
		pg_conn_check(s, POOL_BEAT);
	/* conn_put leaves the pool alone for this slot */
	return (struct conn){ s, s->conns[POOL_BEAT], &s->pgs[POOL_BEAT], POOL_BEAT };
}

void conn_put(struct conn *cn)
{
	if (!cn->s || cn->slot == POOL_BEAT)
		return;
	conn_held[conn_held[0] == cn->s ? 0 : 1] = NULL;
	pthread_mutex_lock(&cn->s->lock);
	cn->s->busy[cn->slot] = false;
	pthread_cond_signal(&cn->s->cond);
	pthread_mutex_unlock(&cn->s->lock);
}

static uint64_t sql_hash(const char *sql)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

static void stmt_free(struct stmt *st)
{
	if (st->lite)
		lite_finalize(st);
	else
		pg_finalize(st);
	free(st->sql);
	free(st);
}

void stmt_cache_clear(struct stmt_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		stmt_free(c->slot[i]);
	c->n = 0;
}

void stmt_reset(struct stmt *st)
{
	if (st->lite) {
		sqlite3_reset(st->lite);
		sqlite3_clear_bindings(st->lite);
	} else {
		pg_stmt_reset(st);
	}
}

void stmt_release(struct stmt *st)
{
	if (!st)
		return;
	if (st->cached) {
		stmt_reset(st);
		st->in_use = false;
	} else {
		stmt_free(st);
	}
}

void stmt_finalizep(struct stmt **st)
{
	stmt_release(*st);
}

int sql_exec(struct conn *cn, const char *sql)
{
	if (db_pg(cn))
		return pg_exec(cn, sql);
	int rc = sqlite3_exec(cn->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_error(cn->db, rc, sql);
}

static int bind_arg(struct stmt *st, int col, const struct arg *a)
{
	if (!st->lite)
		return pg_bind(st, col, a);
	if (a->type == 'i')
		return sqlite3_bind_int64(st->lite, col, a->i);
	if (a->type == 't')
		return a->t ? sqlite3_bind_text(st->lite, col, a->t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st->lite, col);
	return a->b ? sqlite3_bind_blob(st->lite, col, a->b, (int)a->n, SQLITE_TRANSIENT) : sqlite3_bind_null(st->lite, col);
}

void bind_int(struct stmt *st, int idx, int64_t v) { bind_arg(st, idx, &I(v)); }
void bind_text(struct stmt *st, int idx, const char *t) { bind_arg(st, idx, &T(t)); }
void bind_null(struct stmt *st, int idx) { bind_arg(st, idx, &T(NULL)); }
void bind_blob(struct stmt *st, int idx, const void *p, size_t n) { bind_arg(st, idx, &B(p ? p : "", n)); }

int prep_a(struct conn *cn, struct stmt **ret, const char *sql, const struct arg *args, size_t n)
{
	struct stmt_cache *c = &cn->s->cache[cn->slot];
	uint64_t h = sql_hash(sql);
	struct stmt *st = NULL;
	int r;
	for (size_t i = 0; i < c->n && !st; i++)
		if (!c->slot[i]->in_use && c->slot[i]->hash == h && !strcmp(c->slot[i]->sql, sql)) {
			st = c->slot[i];
			st->in_use = true;
		}
	if (!st) {
		st = xcalloc(1, sizeof(*st));
		st->hash = h;
		st->sql = xstrdup(sql);
		st->cached = c->n < STMT_CACHE;
		r = db_pg(cn) ? pg_prepare(cn, st, sql, args, n) : lite_prepare(cn, st, sql);
		if (r < 0) {
			st->cached = false;
			stmt_free(st);
			return r;
		}
		if (st->cached) {
			st->in_use = true;
			c->slot[c->n++] = st;
		}
	}
	/* n == 0: a statement reused in a loop, bound by hand each time */
	BUG_ON(n && st->lite && (int)n != sqlite3_bind_parameter_count(st->lite));
	BUG_ON(n && !st->lite && (int)n != st->nparams);
	for (size_t i = 0; i < n; i++)
		if ((r = bind_arg(st, (int)i + 1, &args[i])) != 0) {
			stmt_release(st);
			return db_pg(cn) ? -EIO : db_error(cn->db, r, sql);
		}
	*ret = st;
	return 0;
}

int step_done(struct conn *cn, struct stmt *st)
{
	if (!st->lite) {
		int r = pg_step(cn, st);
		return r < 0 ? r : 0;
	}
	int rc = sqlite3_step(st->lite);
	return rc == SQLITE_DONE ? 0 : db_error(cn->db, rc, sqlite3_sql(st->lite));
}

int step_row(struct conn *cn, struct stmt *st)
{
	if (!st->lite)
		return pg_step(cn, st);
	int rc = sqlite3_step(st->lite);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_error(cn->db, rc, sqlite3_sql(st->lite));
}

int64_t db_changes(struct conn *cn)
{
	return db_pg(cn) ? cn->pc->changes : sqlite3_changes(cn->db);
}

int run_a(struct conn *cn, const char *sql, const struct arg *args, size_t n)
{
	struct stmt *st;
	int r = prep_a(cn, &st, sql, args, n);
	if (r < 0)
		return r;
	r = step_done(cn, st);
	stmt_release(st);
	return r;
}

int query_int_a(struct conn *cn, int64_t *ret, const char *sql, const struct arg *args, size_t n)
{
	struct stmt *st;
	int r = prep_a(cn, &st, sql, args, n);
	if (r < 0)
		return r;
	if ((r = step_row(cn, st)) > 0)
		*ret = col_int(st, 0);
	stmt_release(st);
	return r < 0 ? r : 0;
}

int insert_a(struct conn *cn, int64_t *ret_id, const char *sql, const char *returning, const struct arg *args,
	     size_t n)
{
	if (db_pg(cn))
		return query_int_a(cn, ret_id, returning, args, n);
	int r = run_a(cn, sql, args, n);
	if (r >= 0 && sqlite3_changes(cn->db) > 0)
		*ret_id = sqlite3_last_insert_rowid(cn->db);
	return r;
}

bool col_is_null(struct stmt *st, int i)
{
	return st->lite ? sqlite3_column_type(st->lite, i) == SQLITE_NULL : pg_is_null(st, i);
}

const char *col_cstr(struct stmt *st, int i)
{
	const char *t = st->lite ? (const char *)sqlite3_column_text(st->lite, i) : pg_value(st, i);
	return t ? t : "";
}

const char *col_text(struct stmt *st, int i, struct arena *a)
{
	if (!st->lite)
		return arena_strdup(a, col_cstr(st, i));
	const unsigned char *t = sqlite3_column_text(st->lite, i);
	return arena_strndup(a, t ? (const char *)t : "", t ? (size_t)sqlite3_column_bytes(st->lite, i) : 0);
}

const char *col_text_null(struct stmt *st, int i, struct arena *a)
{
	return col_is_null(st, i) ? NULL : col_text(st, i, a);
}

int64_t col_int(struct stmt *st, int i)
{
	if (st->lite)
		return sqlite3_column_int64(st->lite, i);
	const char *v = pg_value(st, i);
	if (!v)
		return 0;
	if (*v == 't' || *v == 'f') /* a boolean expression */
		return *v == 't';
	return strtoll(v, NULL, 10); /* numeric sums and averages: the integer part */
}

struct slice col_blob(struct stmt *st, int i, struct arena *a)
{
	if (!st->lite)
		return pg_blob(st, i, a);
	size_t n = (size_t)sqlite3_column_bytes(st->lite, i);
	const void *p = sqlite3_column_blob(st->lite, i);
	char *copy = n ? arena_alloc(a, n) : NULL;
	if (copy)
		memcpy(copy, p, n);
	return (struct slice){ copy, copy ? n : 0 };
}

size_t col_blob_copy(struct stmt *st, int i, void *buf, size_t cap)
{
	size_t n = 0;
	if (st->lite) {
		n = (size_t)sqlite3_column_bytes(st->lite, i);
		if (n == cap)
			memcpy(buf, sqlite3_column_blob(st->lite, i), n);
		return n;
	}
	const char *v = pg_value(st, i);
	unsigned char *raw = v ? PQunescapeBytea((const unsigned char *)v, &n) : NULL;
	if (raw && n == cap)
		memcpy(buf, raw, n);
	PQfreemem(raw);
	return raw ? n : 0;
}

void *arr_push(struct arena *a, void **arr, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = arena_alloc(a, st_mult(ncap, size));
		if (!p)
			return NULL;
		if (*n)
			memcpy(p, *arr, *n * size);
		*arr = p;
		*cap = ncap;
	}
	return (char *)*arr + (*n)++ * size;
}

int read_done(int r, const struct arena *a)
{
	return r >= 0 && arena_failed(a) ? -ENOMEM : r;
}

/*
 * Write transactions are serialised: SQLite takes its write lock at BEGIN
 * IMMEDIATE; on PostgreSQL every node takes one transaction-scoped advisory
 * lock, so the read-modify-write steps written for SQLite (quotas, state
 * changes, claims) stay correct with several nodes on one database.
 */
#define PG_WRITE_LOCK 0x4b756e72656e /* "Kunren" */

static int tx_begin_pg(struct conn *cn, const char *lock)
{
	int r = sql_exec(cn, "BEGIN");
	if (r >= 0 && (r = run(cn, lock, I(PG_WRITE_LOCK))) < 0)
		tx_rollback(cn);
	return r;
}

int tx_begin(struct conn *cn)
{
	if (!db_pg(cn))
		return run(cn, "BEGIN IMMEDIATE");
	return tx_begin_pg(cn, "SELECT pg_advisory_xact_lock(?)");
}

int tx_begin_events(struct conn *cn)
{
	if (!db_pg(cn))
		return run(cn, "BEGIN IMMEDIATE");
	return tx_begin_pg(cn, "SELECT pg_advisory_xact_lock_shared(?)");
}

int tx_commit(struct conn *cn)
{
	if (!db_pg(cn))
		return sql_exec(cn, "COMMIT");
	/* PostgreSQL answers a COMMIT of a transaction that met an error with
	 * success and the tag ROLLBACK: nothing was written */
	PGresult *res = PQexec(cn->pc->pg, "COMMIT");
	int r = PQresultStatus(res) != PGRES_COMMAND_OK ? pg_exec_error(cn, res, "COMMIT")
		: strcmp(PQcmdStatus(res), "COMMIT") ? -EIO : 0;
	if (r == -EIO && PQresultStatus(res) == PGRES_COMMAND_OK)
		log_error("store: COMMIT: the transaction had failed and was rolled back");
	PQclear(res);
	return r;
}

void tx_rollback(struct conn *cn)
{
	if (db_pg(cn))
		pg_exec(cn, "ROLLBACK");
	else
		sqlite3_exec(cn->db, "ROLLBACK", NULL, NULL, NULL);
}

int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}
