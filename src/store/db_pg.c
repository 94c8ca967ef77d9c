/*
 * db_pg.c — the PostgreSQL half of db.h (libpq): the pool's connections,
 * statements prepared once per connection under a name, arguments sent as
 * int8 / text / binary bytea, results read in text format.  The queries are
 * the same text as SQLite's: `?` and `?N` placeholders become `$n` here.
 */
#include "store/db.h"

#include <inttypes.h>

#define INT8OID 20
#define BYTEAOID 17

static void pc_setup(PGconn *pg)
{
	PQclear(PQexec(pg, "SET client_min_messages = warning; SET TIME ZONE 'UTC'"));
}

int pg_open(struct store *s, const char *url, char **ret_err)
{
	s->url = xstrdup(url);
	for (int i = 0; i < POOL_CONNS; i++) {
		struct pgconn *pc = &s->pgs[i];
		pc->pg = PQconnectdb(url);
		if (PQstatus(pc->pg) != CONNECTION_OK) {
			*ret_err = xasprintf("cannot connect to PostgreSQL: %s", PQerrorMessage(pc->pg));
			return -EIO;
		}
		pc_setup(pc->pg);
	}
	return 0;
}

void pg_close(struct store *s)
{
	for (int i = 0; i < POOL_CONNS; i++)
		if (s->pgs[i].pg)
			PQfinish(s->pgs[i].pg);
	free(s->url);
}

/* A connection that broke (the server restarted, the network dropped) is
 * opened again before its next use; its prepared statements are gone. */
void pg_conn_check(struct store *s, int slot)
{
	struct pgconn *pc = &s->pgs[slot];
	if (!pc->broken && PQstatus(pc->pg) == CONNECTION_OK)
		return;
	stmt_cache_clear(&s->cache[slot]);
	PQreset(pc->pg);
	if (PQstatus(pc->pg) == CONNECTION_OK)
		pc_setup(pc->pg);
	else
		log_error("store: cannot reconnect to PostgreSQL: %s", PQerrorMessage(pc->pg));
	pc->names = 0;
	pc->broken = false;
}

/* Logs a failure once and translates it: a constraint (class 23) is
 * -EEXIST, like SQLITE_CONSTRAINT; anything else -EIO. */
static int pg_error(struct pgconn *pc, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state && !strncmp(state, "23", 2))
		return -EEXIST;
	if (PQstatus(pc->pg) != CONNECTION_OK)
		pc->broken = true;
	log_error("store: %s: %s (%s)", what, res ? PQresultErrorMessage(res) : PQerrorMessage(pc->pg),
		  state ? state : "no state");
	return -EIO;
}

/* `?` → `$k` (the next after the highest so far, as SQLite numbers them),
 * `?N` → `$N`, outside quotes and comments; *ret_n: the highest.  NULL
 * beyond PostgreSQL's 65,535 parameters. */
#define PG_MAX_PARAMS 65535

static char *placeholders(const char *sql, int *ret_n)
{
	struct buf b = BUF_INIT(0);
	int high = 0;
	for (const char *p = sql; *p;) {
		const char *from = p;
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			while (*p && *p != q)
				p++;
			if (*p)
				p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (*p == '?') {
			p++;
			long k = 0;
			if (*p >= '0' && *p <= '9') {
				while (*p >= '0' && *p <= '9' && k <= PG_MAX_PARAMS)
					k = k * 10 + (*p++ - '0');
			} else {
				k = high + 1;
			}
			if (k < 1 || k > PG_MAX_PARAMS) {
				buf_release(&b);
				return NULL;
			}
			if (k > high)
				high = (int)k;
			buf_printf(&b, "$%ld", k);
			continue;
		} else {
			p++;
		}
		buf_append(&b, from, (size_t)(p - from));
	}
	*ret_n = high;
	return buf_steal(&b);
}

int pg_prepare(struct conn *cn, struct stmt *st, const char *sql, const struct arg *args, size_t n)
{
	char *text = placeholders(sql, &st->nparams);
	if (!text) {
		log_error("store: %s: too many parameters", sql);
		return -EINVAL;
	}
	int np = st->nparams;
	st->pc = cn->pc;
	st->types = xcalloc((size_t)np + 1, sizeof(*st->types));
	st->vals = xcalloc((size_t)np + 1, sizeof(*st->vals));
	st->lens = xcalloc((size_t)np + 1, sizeof(*st->lens));
	st->fmts = xcalloc((size_t)np + 1, sizeof(*st->fmts));
	/* int8 and bytea as given; text left for the server to infer from
	 * its place (a text argument may fill a column of another type). */
	for (size_t i = 0; i < n && (int)i < np; i++)
		st->types[i] = args[i].type == 'i' ? INT8OID : args[i].type == 'b' ? BYTEAOID : 0;
	if (!st->cached) {
		st->text = text;
		return 0;
	}
	snprintf(st->name, sizeof(st->name), "k%u", ++cn->pc->names);
	PGresult *res = PQprepare(cn->pc->pg, st->name, text, np, st->types);
	free(text);
	int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_error(cn->pc, res, sql);
	PQclear(res);
	if (r < 0)
		st->name[0] = 0;
	return r;
}

void pg_stmt_reset(struct stmt *st)
{
	PQclear(st->res);
	st->res = NULL;
	st->ran = false;
	for (int i = 0; i < st->nparams; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
	}
}

void pg_finalize(struct stmt *st)
{
	if (st->vals)
		pg_stmt_reset(st);
	/* A named statement lives as long as its connection: the cache
	 * keeps it until the connection closes or reconnects. */
	free(st->types);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free(st->text);
}

int pg_bind(struct stmt *st, int idx, const struct arg *a)
{
	if (idx < 1 || idx > st->nparams)
		return -EINVAL;
	if (st->ran) {
		PQclear(st->res);
		st->res = NULL;
		st->ran = false;
	}
	int i = idx - 1;
	free(st->vals[i]);
	st->vals[i] = NULL;
	st->lens[i] = 0;
	st->fmts[i] = 0;
	if (a->type == 'i') {
		st->vals[i] = xasprintf("%" PRId64, a->i);
	} else if (a->type == 't' && a->t && !utf8_valid(a->t, strlen(a->t))) {
		/* PostgreSQL refuses text that is not UTF-8 (a hostile user agent,
		 * a query string): each bad byte is stored as U+FFFD instead */
		struct buf b = BUF_INIT(0);
		buf_put_utf8(&b, slice_from(a->t));
		st->vals[i] = buf_steal(&b);
	} else if (a->type == 't') {
		st->vals[i] = a->t ? xstrdup(a->t) : NULL;
	} else if (a->b) {
		st->vals[i] = xmalloc(a->n + 1);
		memcpy(st->vals[i], a->b, a->n);
		st->lens[i] = (int)a->n;
		st->fmts[i] = 1;
	}
	return 0;
}

int pg_step(struct conn *cn, struct stmt *st)
{
	if (!st->ran) {
		PGresult *res = st->name[0]
			? PQexecPrepared(cn->pc->pg, st->name, st->nparams, (const char *const *)st->vals, st->lens,
					 st->fmts, 0)
			: PQexecParams(cn->pc->pg, st->text, st->nparams, st->types, (const char *const *)st->vals,
				       st->lens, st->fmts, 0);
		ExecStatusType status = PQresultStatus(res);
		if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
			int r = pg_error(cn->pc, res, st->sql);
			PQclear(res);
			return r;
		}
		/* rows changed, as sqlite3_changes counts them: not a SELECT's */
		const char *tag = PQcmdStatus(res);
		if (!strncmp(tag, "INSERT", 6) || !strncmp(tag, "UPDATE", 6) || !strncmp(tag, "DELETE", 6))
			cn->pc->changes = strtoll(PQcmdTuples(res), NULL, 10);
		st->res = res;
		st->nrows = status == PGRES_TUPLES_OK ? PQntuples(res) : 0;
		st->row = -1;
		st->ran = true;
	}
	if (st->row < st->nrows)
		st->row++;
	return st->row < st->nrows;
}

int pg_exec_error(struct conn *cn, const PGresult *res, const char *what)
{
	return pg_error(cn->pc, res, what);
}

int pg_exec(struct conn *cn, const char *sql)
{
	PGresult *res = PQexec(cn->pc->pg, sql);
	ExecStatusType status = PQresultStatus(res);
	int r = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ? 0 : pg_error(cn->pc, res, sql);
	PQclear(res);
	return r;
}

const char *pg_value(struct stmt *st, int i)
{
	if (!st->res || st->row < 0 || st->row >= st->nrows || i >= PQnfields(st->res) ||
	    PQgetisnull(st->res, st->row, i))
		return NULL;
	return PQgetvalue(st->res, st->row, i);
}

bool pg_is_null(struct stmt *st, int i)
{
	return !pg_value(st, i);
}

struct slice pg_blob(struct stmt *st, int i, struct arena *a)
{
	const char *v = pg_value(st, i);
	if (!v)
		return (struct slice){ NULL, 0 };
	size_t n = 0;
	unsigned char *raw = PQunescapeBytea((const unsigned char *)v, &n);
	char *copy = raw && n ? arena_alloc(a, n) : NULL;
	if (copy)
		memcpy(copy, raw, n);
	PQfreemem(raw);
	return (struct slice){ copy, copy ? n : 0 };
}
