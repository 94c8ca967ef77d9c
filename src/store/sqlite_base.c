/*
 * sqlite_base.c — the SQLite connection pool, statement cache and query
 * helpers declared in sqlite_int.h.
 */
#include "store/sqlite_int.h"

#include <time.h>

/* The statement cache of the connection this thread holds. */
static _Thread_local bool conn_held;
static _Thread_local struct stmt_cache *held_cache;

int db_error(sqlite3 *db, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	log_error("store: %s: %s (%d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
	return -EIO;
}

struct conn conn_get(struct store *s)
{
	BUG_ON(conn_held);
	conn_held = true;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (int i = 0; i < POOL_SIZE; i++)
			if (!s->busy[i]) {
				s->busy[i] = true;
				pthread_mutex_unlock(&s->lock);
				held_cache = &s->cache[i];
				return (struct conn){ s, s->conns[i], i };
			}
		pthread_cond_wait(&s->cond, &s->lock);
	}
}

void conn_put(struct conn *cn)
{
	if (!cn->s)
		return;
	conn_held = false;
	held_cache = NULL;
	pthread_mutex_lock(&cn->s->lock);
	cn->s->busy[cn->slot] = false;
	pthread_cond_signal(&cn->s->cond);
	pthread_mutex_unlock(&cn->s->lock);
}

/* ---- the checkpointer ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs after every commit of a pool connection, inside it: notes the WAL's
 * size, and copies the last few frames when the thread has done the rest. */
static int wal_noted(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct ckpt *k = arg;
	pthread_mutex_lock(&k->lock);
	/* Fewer frames than before: a writer restarted the WAL from its
	 * beginning (everything had been checkpointed). */
	if (pages < k->wal_pages)
		k->base = k->backfilled = 0;
	k->wal_pages = pages;
	k->last_commit = mono_ms();
	if (!k->dirty || pages - k->base >= CKPT_PAGES)
		pthread_cond_signal(&k->wake);
	k->dirty = true;
	bool finish = k->backfilled > 0 && pages - k->backfilled <= CKPT_CATCHUP;
	if (finish)
		k->backfilled = 0; /* one try per pass of the thread: no retry per commit */
	pthread_mutex_unlock(&k->lock);
	if (finish) {
		int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			log_error("store: checkpoint: %s (%d)", sqlite3_errmsg(db), rc);
	}
	return SQLITE_OK;
}

void ckpt_watch(struct store *s, sqlite3 *db)
{
	sqlite3_wal_hook(db, wal_noted, &s->ckpt);
}

static void *ckpt_main(void *arg)
{
	struct ckpt *k = arg;
	int chase = 0;
	pthread_mutex_lock(&k->lock);
	while (!k->stop) {
		int mode;
		if (k->wal_pages - k->base >= CKPT_PAGES ||
		    (chase && chase < CKPT_CHASE && k->backfilled && k->wal_pages - k->backfilled > CKPT_CATCHUP)) {
			mode = SQLITE_CHECKPOINT_PASSIVE;
			chase++;
		} else if (k->dirty && mono_ms() - k->last_commit >= CKPT_IDLE_MS) {
			/* Idle: copy the rest back and cut the WAL to zero, so a
			 * burst does not leave a large file behind.  It waits for
			 * readers holding the writer lock, hence a short busy
			 * timeout on this connection: busy means next time. */
			mode = SQLITE_CHECKPOINT_TRUNCATE;
			k->dirty = false;
		} else {
			chase = 0;
			if (k->dirty) {
				int64_t at = k->last_commit + CKPT_IDLE_MS;
				struct timespec ts = { .tv_sec = at / 1000, .tv_nsec = at % 1000 * 1000000 };
				pthread_cond_timedwait(&k->wake, &k->lock, &ts);
			} else {
				pthread_cond_wait(&k->wake, &k->lock);
			}
			continue;
		}
		int seen = k->wal_pages;
		pthread_mutex_unlock(&k->lock);
		int log = 0, done = 0;
		int rc = sqlite3_wal_checkpoint_v2(k->db, NULL, mode, &log, &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			log_error("store: checkpoint: %s (%d)", sqlite3_errmsg(k->db), rc);
		log_debug("store: %s checkpoint: %d of %d frames", mode == SQLITE_CHECKPOINT_PASSIVE ? "passive" : "idle",
			  done, log);
		pthread_mutex_lock(&k->lock);
		/* The next one after CKPT_PAGES more frames, whether or not a
		 * reader kept this one from finishing (no spinning on it); unless
		 * the WAL restarted meanwhile (base is 0 then). */
		if (k->wal_pages >= seen) {
			k->base = seen;
			k->backfilled = rc == SQLITE_OK ? done : 0;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

int ckpt_start(struct store *s, const char *path, char **ret_err)
{
	struct ckpt *k = &s->ckpt;
	int rc = sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	/* synchronous as on the pool: a checkpoint syncs the WAL, then the database */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(k->db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		*ret_err = xasprintf("cannot open database %s: %s", path,
				     k->db ? sqlite3_errmsg(k->db) : sqlite3_errstr(rc));
		sqlite3_close(k->db);
		k->db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(k->db, 100);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, &ca);
	pthread_condattr_destroy(&ca);
	int e = pthread_create(&k->thread, NULL, ckpt_main, k);
	if (e) {
		*ret_err = xasprintf("cannot start the checkpointer: %s", strerror(e));
		pthread_mutex_destroy(&k->lock);
		pthread_cond_destroy(&k->wake);
		sqlite3_close(k->db);
		k->db = NULL;
		return -e;
	}
	k->running = true;
	return 0;
}

void ckpt_stop(struct store *s)
{
	struct ckpt *k = &s->ckpt;
	if (!k->running)
		return;
	pthread_mutex_lock(&k->lock);
	k->stop = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->wake);
	sqlite3_close(k->db);
	k->db = NULL;
	k->running = false;
}

static uint64_t sql_hash(const char *sql)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

void stmt_release(sqlite3_stmt *st)
{
	if (!st)
		return;
	for (size_t i = 0; held_cache && i < held_cache->n; i++)
		if (held_cache->slot[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			held_cache->slot[i].in_use = false;
			return;
		}
	sqlite3_finalize(st);
}

void stmt_finalizep(sqlite3_stmt **st)
{
	stmt_release(*st);
}

int sql_exec(struct conn *cn, const char *sql)
{
	int rc = sqlite3_exec(cn->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_error(cn->db, rc, sql);
}

static int bind_args(sqlite3_stmt *st, const struct arg *args, size_t n)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int col = (int)i + 1;
		const struct arg *a = &args[i];
		if (a->type == 'i')
			rc = sqlite3_bind_int64(st, col, a->i);
		else if (a->type == 't')
			rc = a->t ? sqlite3_bind_text(st, col, a->t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, col);
		else
			rc = sqlite3_bind_blob(st, col, a->b, (int)a->n, SQLITE_TRANSIENT);
	}
	return rc;
}

int prep_a(struct conn *cn, sqlite3_stmt **ret, const char *sql, const struct arg *args, size_t n)
{
	struct stmt_cache *c = &cn->s->cache[cn->slot];
	uint64_t h = sql_hash(sql);
	sqlite3_stmt *st = NULL;
	int rc;
	for (size_t i = 0; i < c->n && !st; i++)
		if (!c->slot[i].in_use && c->slot[i].hash == h && !strcmp(sqlite3_sql(c->slot[i].st), sql)) {
			st = c->slot[i].st;
			c->slot[i].in_use = true;
		}
	if (!st) {
		rc = sqlite3_prepare_v3(cn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return db_error(cn->db, rc, sql);
		if (c->n < STMT_CACHE)
			c->slot[c->n++] = (struct stmt_slot){ st, h, true };
	}
	/* n == 0: a statement reused in a loop, bound by hand each time */
	BUG_ON(n && (int)n != sqlite3_bind_parameter_count(st));
	if ((rc = bind_args(st, args, n)) != SQLITE_OK) {
		stmt_release(st);
		return db_error(cn->db, rc, sql);
	}
	*ret = st;
	return 0;
}

int step_done(struct conn *cn, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : db_error(cn->db, rc, sqlite3_sql(st));
}

int step_row(struct conn *cn, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_error(cn->db, rc, sqlite3_sql(st));
}

int run_a(struct conn *cn, const char *sql, const struct arg *args, size_t n)
{
	sqlite3_stmt *st;
	int r = prep_a(cn, &st, sql, args, n);
	if (r < 0)
		return r;
	r = step_done(cn, st);
	stmt_release(st);
	return r;
}

int query_int_a(struct conn *cn, int64_t *ret, const char *sql, const struct arg *args, size_t n)
{
	sqlite3_stmt *st;
	int r = prep_a(cn, &st, sql, args, n);
	if (r < 0)
		return r;
	if ((r = step_row(cn, st)) > 0)
		*ret = col_int(st, 0);
	stmt_release(st);
	return r < 0 ? r : 0;
}

const char *col_text(sqlite3_stmt *st, int i, struct arena *a)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return arena_strndup(a, t ? (const char *)t : "", t ? (size_t)sqlite3_column_bytes(st, i) : 0);
}

const char *col_text_null(sqlite3_stmt *st, int i, struct arena *a)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : col_text(st, i, a);
}

int64_t col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int64(st, i);
}

struct slice col_blob(sqlite3_stmt *st, int i, struct arena *a)
{
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	const void *p = sqlite3_column_blob(st, i);
	char *copy = n ? arena_alloc(a, n) : NULL;
	if (copy)
		memcpy(copy, p, n);
	return (struct slice){ copy, copy ? n : 0 };
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

int tx_begin(struct conn *cn) { return run(cn, "BEGIN IMMEDIATE"); }

int tx_commit(struct conn *cn) { return run(cn, "COMMIT"); }

void tx_rollback(struct conn *cn) { sqlite3_exec(cn->db, "ROLLBACK", NULL, NULL, NULL); }

int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}
