/*
 * sqlite_int.h — shared inside store/ only: the connection pool, the
 * statement cache and the helpers every SQLite query is written with
 * (prep/run with typed arguments, READ_ROWS/READ_ROW, run_insert,
 * transactions).  sqlite_base.c holds their code; sqlite.c and the other
 * sqlite_*.c files the queries of store.h.
 */
#ifndef KUNREN_SQLITE_INT_H
#define KUNREN_SQLITE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

#define POOL_SIZE 8
#define STMT_CACHE 96 /* prepared statements kept per connection */

/* A prepared statement kept for the next use of the same SQL on its
 * connection: compiling costs more than running most of ours. */
struct stmt_slot {
	sqlite3_stmt *st;
	uint64_t hash;   /* of its SQL text */
	bool in_use;
};

struct stmt_cache {
	struct stmt_slot slot[STMT_CACHE];
	size_t n;
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
	pthread_mutex_t lock;
	pthread_cond_t cond;
	sqlite3 *conns[POOL_SIZE];
	bool busy[POOL_SIZE];
	struct stmt_cache cache[POOL_SIZE];
	struct ckpt ckpt;
};

struct conn {
	struct store *s;
	sqlite3 *db;
	int slot;
};

/* ---- connections ---- */

/* Translates a SQLite failure (constraint: -EEXIST) and logs it once. */
int db_error(sqlite3 *db, int rc, const char *what);

/* A connection of the pool; a thread may hold only one at a time (two
 * could deadlock the pool: BUG_ON). */
struct conn conn_get(struct store *s);

void conn_put(struct conn *cn);
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
void stmt_release(sqlite3_stmt *st);

void stmt_finalizep(sqlite3_stmt **st);
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
int prep_a(struct conn *cn, sqlite3_stmt **ret, const char *sql, const struct arg *args, size_t n);
#define prep(cn, ret, sql, ...) prep_a(cn, ret, sql, ARGV(__VA_ARGS__) + 1, ARGC(__VA_ARGS__))

/* Steps a statement that returns no rows. */
int step_done(struct conn *cn, sqlite3_stmt *st);

/* Steps once: 1 with a row, 0 when done. */
int step_row(struct conn *cn, sqlite3_stmt *st);

/* Prepares, binds and runs a statement that returns no rows. */
int run_a(struct conn *cn, const char *sql, const struct arg *args, size_t n);
#define run(cn, sql, ...) run_a(cn, sql, ARGV(__VA_ARGS__) + 1, ARGC(__VA_ARGS__))

/* Runs a query of one number (count(*), max(id)): the first column of its
 * first row into *ret, left as it is without a row. */
int query_int_a(struct conn *cn, int64_t *ret, const char *sql, const struct arg *args, size_t n);
#define query_int(cn, ret, sql, ...) query_int_a(cn, ret, sql, ARGV(__VA_ARGS__) + 1, ARGC(__VA_ARGS__))

/* Column accessors: text copies into the arena ("" for NULL unless nullable). */
const char *col_text(sqlite3_stmt *st, int i, struct arena *a);

const char *col_text_null(sqlite3_stmt *st, int i, struct arena *a);

int64_t col_int(sqlite3_stmt *st, int i);

struct slice col_blob(sqlite3_stmt *st, int i, struct arena *a);

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

/* Runs an INSERT; *ret_id gets the new row's id. */
#define run_insert(cn, ret_id, sql, ...)                                         \
	({                                                                      \
		int r_ = run((cn), sql, ##__VA_ARGS__);                         \
		if (r_ >= 0)                                                    \
			*(ret_id) = sqlite3_last_insert_rowid((cn)->db);        \
		r_ < 0 ? r_ : 0;                                                \
	})

int tx_begin(struct conn *cn);
int tx_commit(struct conn *cn);
void tx_rollback(struct conn *cn);

/* ---- shared by the query files ---- */

extern const char *const event_kind_names[EV__COUNT];

#define PERSON_COLS "last_name, first_name, email, department, position, field1, field2, field3, is_test"
#define TARGET_COLS "t.id, t.campaign_id, c.tenant_id, t.rid, t.state, t.sent_at, t.error, t.due_at, t.attempts, " PERSON_COLS
/* Reads PERSON_COLS from column col on. */
void person_read(sqlite3_stmt *st, int col, struct arena *a, struct person *p);
/* The columns events_rows reads, of events e. */
#define EVENT_COLS "e.id, e.campaign_id, coalesce(e.target_id, 0), e.kind, e.at_ms, e.ip, e.user_agent, e.os, " \
	"e.browser, e.device, e.detail, e.signals"
/* Steps st (selecting EVENT_COLS) to its end into an arena array; kinds
 * this version does not know are skipped.  full: also the client's
 * details and the detail, else kind, time and signals only. */
int events_rows(struct conn *cn, sqlite3_stmt *st, bool full, struct arena *a, struct event **ret, size_t *ret_n);
/* Reads TARGET_COLS (t: targets, c: its campaign). */
void target_read(sqlite3_stmt *st, struct arena *a, struct target *t);
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
