/*
 * copy.c — store_copy: a SQLite deployment moved into PostgreSQL, every
 * table row for row, in one PostgreSQL transaction that commits only once
 * each table's row count and content checksum agree on both sides
 * (docs/internals/NODES.md, "Moving from SQLite").
 */
#include "store/db.h"

#define MAX_TABLES 96
#define MAX_COLS 64
#define CHECK_PAGE 10000

struct table {
	char *name;
	char *cols[MAX_COLS];
	bool blob[MAX_COLS];
	size_t ncols;
	int id_col;          /* the integer id column, or -1 */
	char *deps[16];
	size_t ndeps;
	bool done;
};

static void tables_free(struct table *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		for (size_t k = 0; k < t[i].ncols; k++)
			free(t[i].cols[k]);
		for (size_t k = 0; k < t[i].ndeps; k++)
			free(t[i].deps[k]);
	}
}

/* Names go into SQL text: only Kunren's own kind ([a-z0-9_]) is taken
 * from the file, never quoted text of a crafted schema. */
static bool identifier_ok(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* The tables of the SQLite database with their columns and the tables
 * their foreign keys point at. */
static int tables_read(struct conn *cn, struct table *t, size_t *ret_n, char **ret_err)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	size_t n = 0;
	int r = prep(cn, &st, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
			      "AND name <> 'schema_migrations' ORDER BY rowid");
	while (r >= 0 && (r = step_row(cn, st)) > 0) {
		if (n == MAX_TABLES) {
			*ret_err = xstrdup("too many tables");
			r = -E2BIG;
			break;
		}
		t[n++] = (struct table){ .name = xstrdup(col_cstr(st, 0)), .id_col = -1 };
	}
	*ret_n = n;
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (!identifier_ok(t[i].name)) {
			*ret_err = xasprintf("table name \"%s\" is not one of Kunren's", t[i].name);
			r = -EINVAL;
		}
	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_stmt_ struct stmt *c = NULL;
		r = prep(cn, &c, "SELECT name, upper(type) FROM pragma_table_info(?) ORDER BY cid", T(t[i].name));
		while (r >= 0 && (r = step_row(cn, c)) > 0) {
			if (t[i].ncols == MAX_COLS) {
				*ret_err = xasprintf("table %s has more than %d columns", t[i].name, MAX_COLS);
				r = -E2BIG;
				break;
			}
			if (!strcmp(col_cstr(c, 0), "id") && strstr(col_cstr(c, 1), "INT"))
				t[i].id_col = (int)t[i].ncols;
			t[i].blob[t[i].ncols] = !strcmp(col_cstr(c, 1), "BLOB");
			if (!identifier_ok(col_cstr(c, 0))) {
				*ret_err = xasprintf("table %s: column name \"%s\" is not one of Kunren's", t[i].name,
						     col_cstr(c, 0));
				r = -EINVAL;
				break;
			}
			t[i].cols[t[i].ncols++] = xstrdup(col_cstr(c, 0));
		}
		stmt_release(c);
		c = NULL;
		if (r >= 0)
			r = prep(cn, &c, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", T(t[i].name));
		while (r >= 0 && (r = step_row(cn, c)) > 0 && t[i].ndeps < ARRAY_SIZE(t[i].deps))
			if (strcmp(col_cstr(c, 0), t[i].name))
				t[i].deps[t[i].ndeps++] = xstrdup(col_cstr(c, 0));
	}
	return r < 0 ? r : 0;
}

/* The next table whose foreign keys point only at tables already copied. */
static struct table *table_next(struct table *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].done)
			continue;
		bool ready = true;
		for (size_t k = 0; k < t[i].ndeps && ready; k++)
			for (size_t j = 0; j < n; j++)
				if (!strcmp(t[j].name, t[i].deps[k]) && !t[j].done)
					ready = false;
		if (ready)
			return &t[i];
	}
	return NULL;
}

static void cols_list(struct buf *b, const struct table *t)
{
	for (size_t k = 0; k < t->ncols; k++)
		buf_printf(b, "%s\"%s\"", k ? ", " : "", t->cols[k]);
}

static uint64_t row_hash(struct stmt *st, const struct table *t, struct arena *a);

/* Copies the table; *ret_rows and *ret_sum (table_check's figures) of the
 * source rows as they were read. */
static int table_copy(struct conn *from, struct conn *to, const struct table *t, int64_t *ret_rows,
		      uint64_t *ret_sum)
{
	_cleanup_buf_ struct buf sel = BUF_INIT(0), ins = BUF_INIT(0);
	buf_puts(&sel, "SELECT ");
	cols_list(&sel, t);
	buf_printf(&sel, " FROM \"%s\"", t->name);
	buf_printf(&ins, "INSERT INTO \"%s\" (", t->name);
	cols_list(&ins, t);
	buf_puts(&ins, ") VALUES (");
	for (size_t k = 0; k < t->ncols; k++)
		buf_puts(&ins, k ? ", ?" : "?");
	buf_puts(&ins, ")");
	_cleanup_stmt_ struct stmt *src = NULL, *dst = NULL;
	struct arena *a = arena_new(0);
	uint64_t sum = 0;
	int64_t rows = 0;
	int r = prep(from, &src, sel.p);
	if (r >= 0)
		r = prep(to, &dst, ins.p);
	while (r >= 0 && (r = step_row(from, src)) > 0) {
		stmt_reset(dst);
		for (size_t k = 0; k < t->ncols; k++) {
			int c = (int)k, type = sqlite3_column_type(src->lite, c);
			if (type == SQLITE_INTEGER)
				bind_int(dst, c + 1, sqlite3_column_int64(src->lite, c));
			else if (type == SQLITE_BLOB)
				bind_blob(dst, c + 1, sqlite3_column_blob(src->lite, c),
					  (size_t)sqlite3_column_bytes(src->lite, c));
			else if (type == SQLITE_NULL)
				bind_null(dst, c + 1);
			else
				bind_text(dst, c + 1, (const char *)sqlite3_column_text(src->lite, c));
		}
		r = step_done(to, dst);
		sum += row_hash(src, t, a);
		if (++rows % 4096 == 0) {
			arena_free(a);
			a = arena_new(0);
		}
	}
	arena_free(a);
	*ret_rows = rows;
	*ret_sum = sum;
	return r < 0 ? r : 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
	return h;
}

/* A hash of a row's values (text as the driver stores it, blobs as bytes,
 * NULL apart); summed over a table it does not depend on the order. */
static uint64_t row_hash(struct stmt *st, const struct table *t, struct arena *a)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t k = 0; k < t->ncols; k++) {
		int c = (int)k;
		if (col_is_null(st, c)) {
			h = fnv(h, "\x00N", 2);
		} else if (t->blob[k]) {
			struct slice b = col_blob(st, c, a);
			h = fnv(h, b.p, b.len);
		} else {
			/* text that is not UTF-8 (SQLite keeps any bytes) arrives in
			 * PostgreSQL with U+FFFD for each bad byte (db_pg.c): hashed so */
			const char *v = col_cstr(st, c);
			size_t len = strlen(v);
			if (utf8_valid(v, len)) {
				h = fnv(h, v, len);
			} else {
				_cleanup_buf_ struct buf u = BUF_INIT(0);
				buf_put_utf8(&u, slice_from(v));
				h = fnv(h, u.p, u.len);
			}
		}
		h = fnv(h, "\x1f", 1);
	}
	return h;
}

/* Row count and the sum of a hash of every row (column values as text,
 * blobs as bytes, NULL apart): the same on both engines for the same rows,
 * in any order. */
static int table_check(struct conn *cn, const struct table *t, int64_t *ret_rows, uint64_t *ret_sum)
{
	_cleanup_buf_ struct buf sel = BUF_INIT(0);
	buf_puts(&sel, "SELECT ");
	cols_list(&sel, t);
	buf_printf(&sel, " FROM \"%s\"", t->name);
	/* a table with an id in pages (PostgreSQL fetches a result whole) */
	if (t->id_col >= 0)
		buf_printf(&sel, " WHERE id > ? ORDER BY id LIMIT %d", CHECK_PAGE);
	_cleanup_stmt_ struct stmt *st = NULL;
	struct arena *a = arena_new(0);
	uint64_t sum = 0;
	int64_t rows = 0, last = INT64_MIN, in_page = 0;
	int r = t->id_col >= 0 ? prep(cn, &st, sel.p, I(last)) : prep(cn, &st, sel.p);
	while (r >= 0) {
		if ((r = step_row(cn, st)) == 0 && t->id_col >= 0 && in_page == CHECK_PAGE) {
			stmt_reset(st); /* the next page */
			bind_int(st, 1, last);
			in_page = 0;
			r = step_row(cn, st);
		}
		if (r <= 0)
			break;
		if (t->id_col >= 0) {
			last = col_int(st, t->id_col);
			in_page++;
		}
		sum += row_hash(st, t, a);
		rows++;
		if (rows % 4096 == 0) {
			arena_free(a);
			a = arena_new(0);
		}
	}
	arena_free(a);
	*ret_rows = rows;
	*ret_sum = sum;
	return r < 0 ? r : 0;
}

int store_copy(struct store *from, struct store *to, FILE *out, char **ret_err)
{
	if (from->engine != DB_SQLITE || to->engine != DB_PG) {
		*ret_err = xstrdup("copies a SQLite database into a PostgreSQL one only");
		return -EINVAL;
	}
	int vf = 0, vt = 0;
	int r = store_schema_version(from, &vf);
	if (r >= 0)
		r = store_schema_version(to, &vt);
	if (r >= 0 && vf != vt) {
		*ret_err = xasprintf("schema versions differ (%d and %d): migrate both first", vf, vt);
		return -EINVAL;
	}
	_cleanup_conn_ struct conn src = conn_get(from);
	_cleanup_conn_ struct conn dst = conn_get(to);
	struct table t[MAX_TABLES];
	size_t n = 0;
	if (r >= 0)
		r = tables_read(&src, t, &n, ret_err);
	/* one snapshot of the source, one transaction on the target */
	if (r >= 0)
		r = sql_exec(&src, "BEGIN");
	if (r >= 0)
		r = tx_begin(&dst);
	/* empty, checked inside that transaction (under tx_begin's lock): a node or a second copy
	 * cannot add tenants between the check and the DELETEs below */
	int64_t existing = 0;
	if (r >= 0)
		r = query_int(&dst, &existing, "SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM accounts)");
	if (r >= 0 && existing) {
		*ret_err = xstrdup("the PostgreSQL database has tenants or accounts already: copy into an empty one");
		r = -EEXIST;
	}
	struct table *tb;
	while (r >= 0 && (tb = table_next(t, n))) {
		int64_t back = 0, rows_pg = 0;
		uint64_t sum_lite = 0, sum_pg = 0;
		/* the rows a migration put there (branding's) make way for the copied ones */
		_cleanup_free_ char *clear = xasprintf("DELETE FROM \"%s\"", tb->name);
		if ((r = sql_exec(&dst, clear)) < 0 || (r = table_copy(&src, &dst, tb, &back, &sum_lite)) < 0 ||
		    (r = table_check(&dst, tb, &rows_pg, &sum_pg)) < 0) {
			*ret_err = xasprintf("table %s: %s", tb->name,
					     r == -EEXIST ? "a row breaks a constraint on PostgreSQL (see the log)" : strerror(-r));
			break;
		}
		if (rows_pg != back || sum_pg != sum_lite) {
			*ret_err = xasprintf("table %s: %lld rows in SQLite, %lld arrived%s", tb->name, (long long)back,
					     (long long)rows_pg, rows_pg == back ? " with different contents" : "");
			r = -EIO;
			break;
		}
		/* the next id after the copied ones */
		if (tb->id_col >= 0) {
			_cleanup_free_ char *sql = xasprintf("SELECT setval(pg_get_serial_sequence('\"%s\"', 'id'), "
							     "coalesce((SELECT max(id) FROM \"%s\"), 0) + 1, false)",
							     tb->name, tb->name);
			_cleanup_stmt_ struct stmt *st = NULL;
			if ((r = prep(&dst, &st, sql)) >= 0)
				r = step_done(&dst, st);
		}
		tb->done = true;
		fprintf(out, "%-28s %10lld rows  checked\n", tb->name, (long long)back);
	}
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (!t[i].done) {
			*ret_err = xasprintf("table %s: its foreign keys go round in a circle", t[i].name);
			r = -ELOOP;
		}
	if (r >= 0)
		r = tx_commit(&dst);
	else
		tx_rollback(&dst);
	sql_exec(&src, "ROLLBACK");
	tables_free(t, n);
	if (r < 0 && !*ret_err)
		*ret_err = xasprintf("%s", strerror(-r));
	return r;
}
