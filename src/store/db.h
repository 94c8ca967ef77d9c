/*
 * db.h — shared inside store/ only: the connection pool, the statement
 * cache and the helpers every query is written with (prep/run with typed
 * arguments, READ_ROWS/READ_ROW, run_insert, transactions), for both
 * engines: SQLite (db_sqlite.c) and PostgreSQL (db_pg.c).  db.c holds the
 * engine-neutral helpers; store.c and the other query files the queries of
 * store.h, written once in SQL both engines run (docs/internals/STORE.md).
 */
#ifndef KUNREN_DB_H
#define KUNREN_DB_H

#include "store/store.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>

#define POOL_SIZE 8
/* One more, kept for the node's heartbeat (conn_get_beat): a node whose
 * threads all wait for the write lock must still say it is alive. */
#define POOL_BEAT POOL_SIZE
#define POOL_CONNS (POOL_SIZE + 1)
#define STMT_CACHE 512 /* prepared statements kept per connection (every query of store.h fits) */

enum db_engine { DB_SQLITE, DB_PG };

/*
 * A prepared statement.  SQLite: the sqlite3_stmt.  PostgreSQL: the name
 * of a statement prepared on its connection (empty: run unnamed, with
 * PQexecParams), its arguments until it runs, then its result, read row
 * by row.
 */
struct stmt {
	uint64_t hash;   /* of its SQL text */
	bool in_use, cached;
	sqlite3_stmt *lite;
	/* PostgreSQL */
	char *sql;       /* as written: the cache's key */
	struct pgconn *pc;
	char *text;      /* with $n placeholders, when unnamed */
	char name[16];
	int nparams;
	Oid *types;
	char **vals;
	int *lens, *fmts;
	PGresult *res;
	int row, nrows;
	bool ran;
};

struct stmt_cache {
	struct stmt *slot[STMT_CACHE];
	size_t n;
};

/* One PostgreSQL connection of the pool. */
struct pgconn {
	PGconn *pg;
	int64_t changes;    /* rows of the last command */
	unsigned names;     /* statements prepared so far */
	bool broken;        /* reconnect before the next use */
};

/*
 * The checkpointer: no commit checkpoints (wal_autocheckpoint=0 on the
 * pool's connections); their WAL hook notes the WAL's size and one thread
 * with its own connection copies the WAL back into the database (PASSIVE:
 * writers go on meanwhile) every CKPT_PAGES new frames, and truncates the
 * WAL once commits have stopped for CKPT_IDLE_MS.  An automatic checkpoint
 * runs inside the commit that crosses the threshold, and every request the
 * tracker's group commit holds waits for it.
 *
 * Under a steady stream of commits a checkpoint beside the writers never
 * copies the last frames (new ones keep coming), so the WAL would never
 * restart from its beginning and would grow without end.  The thread chases
 * the end of the WAL for a few passes; once at most CKPT_CATCHUP frames are
 * left, the next commit copies them itself (a small checkpoint inside that
 * commit) and the write after it restarts the WAL.
 */
#define CKPT_PAGES 4000   /* frames (about 16 MiB) between two checkpoints */
#define CKPT_CATCHUP 256  /* frames a commit copies to let the WAL restart */
#define CKPT_CHASE 4      /* passes of the thread after the end of the WAL */
#define CKPT_IDLE_MS 1000 /* no commit for this long: TRUNCATE the WAL */

struct ckpt {
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* on CLOCK_MONOTONIC */
	pthread_t thread;
	bool running;
	bool stop;
	sqlite3 *db;          /* the checkpointer's own connection */
	int wal_pages;        /* frames in the WAL after the last commit */
	int base;             /* wal_pages when the last checkpoint started */
	int backfilled;       /* frames copied by the thread's last pass; 0: no
			       * catch-up due (taken by the commit that does it) */
	bool dirty;           /* commits since the last idle TRUNCATE */
	int64_t last_commit;  /* monotonic ms */
};

struct store {
	enum db_engine engine;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	sqlite3 *conns[POOL_CONNS];
	struct pgconn pgs[POOL_CONNS];
	char *url;            /* PostgreSQL: the conninfo */
	char node[48];        /* this process's node id (store_set_node); "" in tools */
	bool busy[POOL_CONNS];
	struct stmt_cache cache[POOL_CONNS];
	struct ckpt ckpt;
};

struct conn {
	struct store *s;
	sqlite3 *db;          /* SQLite */
	struct pgconn *pc;    /* PostgreSQL */
	int slot;
};

#define db_pg(cn) ((cn)->s->engine == DB_PG)
/* The text for this engine, where one text both run is impossible. */
#define SQL2(cn, lite, pg) (db_pg(cn) ? (pg) : (lite))

struct arg;

/* ---- connections ---- */

/* Translates a SQLite failure (constraint: -EEXIST) and logs it once. */
int db_error(sqlite3 *db, int rc, const char *what);

/* The engines' halves of the helpers below (db_sqlite.c, db_pg.c). */
int lite_open(struct store *s, const char *path, char **ret_err);
void lite_close(struct store *s);
int lite_prepare(struct conn *cn, struct stmt *st, const char *sql);
void lite_finalize(struct stmt *st);
int pg_open(struct store *s, const char *url, char **ret_err);
void pg_close(struct store *s);
/* Frees a connection's statements (closing, or after a reconnect). */
void stmt_cache_clear(struct stmt_cache *c);
void pg_conn_check(struct store *s, int slot);
int pg_prepare(struct conn *cn, struct stmt *st, const char *sql, const struct arg *args, size_t n);
void pg_finalize(struct stmt *st);
void pg_stmt_reset(struct stmt *st);
int pg_bind(struct stmt *st, int idx, const struct arg *a);
int pg_step(struct conn *cn, struct stmt *st);
int pg_exec(struct conn *cn, const char *sql);
int pg_exec_error(struct conn *cn, const PGresult *res, const char *what);
const char *pg_value(struct stmt *st, int i);
bool pg_is_null(struct stmt *st, int i);
struct slice pg_blob(struct stmt *st, int i, struct arena *a);

/* A connection of the pool; a thread may hold only one at a time (two
 * could deadlock the pool: BUG_ON). */
struct conn conn_get(struct store *s);

void conn_put(struct conn *cn);
/* The heartbeat's own connection; one thread of the process uses it. */
struct conn conn_get_beat(struct store *s);
#define _cleanup_conn_ _cleanup_(conn_put)

/* Commits on db report the WAL's size to the checkpointer (call it once
 * per pool connection, after PRAGMA wal_autocheckpoint=0). */
void ckpt_watch(struct store *s, sqlite3 *db);

/* Opens the checkpointer's connection to path and starts its thread;
 * ckpt_stop joins it and closes the connection (a no-op if not started). */
int ckpt_start(struct store *s, const char *path, char **ret_err);
void ckpt_stop(struct store *s);

/* Gives a statement back: a cached one is reset for its next use (which
 * also ends the read it may hold), any other finalized. */
void stmt_release(struct stmt *st);

void stmt_finalizep(struct stmt **st);
#define _cleanup_stmt_ _cleanup_(stmt_finalizep)

/* Runs SQL text without arguments (migrations, pragmas). */
int sql_exec(struct conn *cn, const char *sql);

/*
 * Statement arguments carry their type, so a mismatch is a compile error:
 * I(int64), T(text, NULL binds NULL), B(pointer, length) for blobs.
 */
struct arg {
	char type;
	int64_t i;
	const char *t;
	const void *b;
	size_t n;
};
#define I(x) ((struct arg){ .type = 'i', .i = (x) })
#define T(x) ((struct arg){ .type = 't', .t = (x) })
#define B(p, len) ((struct arg){ .type = 'b', .b = (p), .n = (len) })
/* A leading sentinel lets a call have no arguments at all. */
#define ARGV(...) (const struct arg[]){ { 0 }, ##__VA_ARGS__ }
#define ARGC(...) (sizeof(ARGV(__VA_ARGS__)) / sizeof(struct arg) - 1)

/* Prepares sql and binds its arguments. */
int prep_a(struct conn *cn, struct stmt **ret, const char *sql, const struct arg *args, size_t n);
#define prep(cn, ret, sql, ...) prep_a(cn, ret, sql, ARGV(__VA_ARGS__) + 1, ARGC(__VA_ARGS__))

/* Steps a statement that returns no rows. */
int step_done(struct conn *cn, struct stmt *st);

/* Steps once: 1 with a row, 0 when done. */
int step_row(struct conn *cn, struct stmt *st);

/* For a statement run again in a loop (prepared without arguments): forget
 * the last run and its arguments, then bind the next ones (1-based). */
void stmt_reset(struct stmt *st);
void bind_int(struct stmt *st, int idx, int64_t v);
void bind_text(struct stmt *st, int idx, const char *t); /* NULL binds NULL */
void bind_null(struct stmt *st, int idx);
void bind_blob(struct stmt *st, int idx, const void *p, size_t n);

/* Rows changed by the last statement run on the connection. */
int64_t db_changes(struct conn *cn);

/* Prepares, binds and runs a statement that returns no rows. */
int run_a(struct conn *cn, const char *sql, const struct arg *args, size_t n);
#define run(cn, sql, ...) run_a(cn, sql, ARGV(__VA_ARGS__) + 1, ARGC(__VA_ARGS__))

/* Runs a query of one number (count(*), max(id)): the first column of its
 * first row into *ret, left as it is without a row. */
int query_int_a(struct conn *cn, int64_t *ret, const char *sql, const struct arg *args, size_t n);
#define query_int(cn, ret, sql, ...) query_int_a(cn, ret, sql, ARGV(__VA_ARGS__) + 1, ARGC(__VA_ARGS__))

/* Column accessors: text copies into the arena ("" for NULL unless nullable). */
const char *col_text(struct stmt *st, int i, struct arena *a);

const char *col_text_null(struct stmt *st, int i, struct arena *a);

int64_t col_int(struct stmt *st, int i);

struct slice col_blob(struct stmt *st, int i, struct arena *a);

bool col_is_null(struct stmt *st, int i);

/* A blob of exactly cap bytes into buf: returns its length (buf written
 * only when that is cap). */
size_t col_blob_copy(struct stmt *st, int i, void *buf, size_t cap);

/* The column as text ("" for NULL), valid until the statement steps again. */
const char *col_cstr(struct stmt *st, int i);

/* Grows an arena array of records by one; returns the new slot. */
void *arr_push(struct arena *a, void **arr, size_t *n, size_t *cap, size_t size);
#define PUSH(a, arr, n, cap) ((__typeof__(arr))arr_push((a), (void **)&(arr), &(n), &(cap), sizeof(*(arr))))

/* The end of every read: a full arena is -ENOMEM, never a record with NULLs. */
int read_done(int r, const struct arena *a);

/*
 * Steps st to its end, each row into a new zeroed record `rec` of an arena
 * array (the statement given last fills it; it may set r_ and break on an
 * error); on success *ret and *ret_n get the array.  Evaluates to 0 or a
 * negative errno: the one shape of every "list of records" reader.
 */
#define READ_ROWS(cn, st, a, ret, ret_n, ...)                                    \
	({                                                                      \
		__typeof__(*(ret)) out_ = NULL;                                 \
		size_t n_ = 0, cap_ = 0;                                        \
		int r_;                                                         \
		while ((r_ = step_row((cn), (st))) > 0) {                       \
			__typeof__(out_) rec = PUSH((a), out_, n_, cap_);       \
			if (!rec)                                               \
				break;                                          \
			memset(rec, 0, sizeof(*rec));                           \
			__VA_ARGS__;                                            \
		}                                                               \
		if ((r_ = read_done(r_, (a))) >= 0) {                           \
			*(ret) = out_;                                          \
			*(ret_n) = n_;                                          \
		}                                                               \
		r_;                                                             \
	})

/* Steps st once: -ENOENT without a row, else the statement given fills
 * the record (it may set r_ to an error) and the arena is checked.  The
 * shape of every "one record" reader. */
#define READ_ROW(cn, st, a, ...)                                                 \
	({                                                                      \
		int r_ = step_row((cn), (st));                                  \
		if (r_ == 0)                                                    \
			r_ = -ENOENT;                                           \
		else if (r_ > 0) {                                              \
			r_ = 0;                                                 \
			__VA_ARGS__;                                            \
			r_ = read_done(r_, (a));                                \
		}                                                               \
		r_;                                                             \
	})

/* Runs an INSERT (sql a literal, of a table with an id column); *ret_id
 * gets the new row's id, left as it is when nothing was inserted.  On
 * PostgreSQL with RETURNING; not on SQLite, where a RETURNING statement
 * commits at its reset, inside which the checkpointer's catch-up fails. */
int insert_a(struct conn *cn, int64_t *ret_id, const char *sql, const char *returning, const struct arg *args,
	     size_t n);
#define run_insert(cn, ret_id, sql, ...) \
	insert_a((cn), (ret_id), sql, sql " RETURNING id", ARGV(__VA_ARGS__) + 1, ARGC(__VA_ARGS__))

int tx_begin(struct conn *cn);
/* The trackers' event batches: on PostgreSQL they share the write lock
 * among themselves (appends, and target times that only grow, their rows
 * locked in id order first) and exclude every other write transaction;
 * on SQLite the same as tx_begin. */
int tx_begin_events(struct conn *cn);
int tx_commit(struct conn *cn);
void tx_rollback(struct conn *cn);

/* ---- shared by the query files ---- */

extern const char *const event_kind_names[EV__COUNT];

#define PERSON_COLS "last_name, first_name, email, department, position, field1, field2, field3, is_test"
#define TARGET_COLS "t.id, t.campaign_id, c.tenant_id, t.rid, t.state, t.sent_at, t.error, t.due_at, t.attempts, " PERSON_COLS
/* Reads PERSON_COLS from column col on. */
void person_read(struct stmt *st, int col, struct arena *a, struct person *p);
/* The columns events_rows reads, of events e. */
#define EVENT_COLS "e.id, e.campaign_id, coalesce(e.target_id, 0), e.kind, e.at_ms, e.ip, e.user_agent, e.os, " \
	"e.browser, e.device, e.detail, e.signals"
/* Steps st (selecting EVENT_COLS) to its end into an arena array; kinds
 * this version does not know are skipped.  full: also the client's
 * details and the detail, else kind, time and signals only. */
int events_rows(struct conn *cn, struct stmt *st, bool full, struct arena *a, struct event **ret, size_t *ret_n);
/* Reads TARGET_COLS (t: targets, c: its campaign). */
void target_read(struct stmt *st, struct arena *a, struct target *t);
/* A person field name (or "id", "is_test") as an ORDER BY column; NULL if unknown. */
const char *sort_column(const char *sort);

/* Inside a transaction: -ENOENT unless the list is the tenant's. */
int list_check(struct conn *cn, int64_t tenant_id, int64_t list_id);
/* Adds rows to the list, or overwrites the person of the same address;
 * *ret_new / *ret_updated: how many did which. */
int recipients_upsert(struct conn *cn, int64_t list_id, const struct person *rows, size_t n, int64_t *ret_new,
		      int64_t *ret_updated);

/* Inserts a sending profile (tenant_id 0: the operator's, offered to every
 * tenant) with its sealed password as given (sqlite.c; also the import). */
int profile_insert(struct conn *cn, int64_t tenant_id, const struct sending_profile *p, int64_t created_at,
		   int64_t *ret_id);

/* The name list index of s, or -1. */
int name_index(const char *const *names, size_t n, const char *s);

#endif
