/*
 * db_sqlite.c — the SQLite half of db.h: opening the pool's connections
 * (WAL, foreign keys, greatest/least as PostgreSQL has them), preparing
 * statements, and the checkpointer.
 */
#include "store/db.h"

#include <time.h>

int db_error(sqlite3 *db, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	log_error("store: %s: %s (%d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
	return -EIO;
}

/* ---- the checkpointer ---- */

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


/* ---- opening, statements ---- */

/* greatest(a, b, ...) and least(...) as PostgreSQL has them (SQLite's
 * scalar max and min): NULL arguments are ignored, NULL if all are. */
static void extreme(sqlite3_context *ctx, int argc, sqlite3_value **argv, int sign)
{
	sqlite3_value *best = NULL;
	for (int i = 0; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			continue;
		if (!best) {
			best = argv[i];
			continue;
		}
		int c;
		int tb = sqlite3_value_numeric_type(best), ti = sqlite3_value_numeric_type(argv[i]);
		if (tb == SQLITE_INTEGER && ti == SQLITE_INTEGER) {
			int64_t x = sqlite3_value_int64(argv[i]), y = sqlite3_value_int64(best);
			c = (x > y) - (x < y);
		} else if ((tb == SQLITE_INTEGER || tb == SQLITE_FLOAT) && (ti == SQLITE_INTEGER || ti == SQLITE_FLOAT)) {
			double x = sqlite3_value_double(argv[i]), y = sqlite3_value_double(best);
			c = (x > y) - (x < y);
		} else {
			const char *x = (const char *)sqlite3_value_text(argv[i]), *y = (const char *)sqlite3_value_text(best);
			c = strcmp(x ? x : "", y ? y : "");
		}
		if (c * sign > 0)
			best = argv[i];
	}
	if (best)
		sqlite3_result_value(ctx, best);
	else
		sqlite3_result_null(ctx);
}

/* kunren_now_ms(): the time as PostgreSQL's function of the same name
 * (migration 0018) gives it, the database's clock for every node. */
static void now_ms_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_int64(ctx, now_ms());
}

static void greatest_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) { extreme(ctx, argc, argv, 1); }
static void least_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) { extreme(ctx, argc, argv, -1); }

int lite_open(struct store *s, const char *path, char **ret_err)
{
	for (int i = 0; i < POOL_CONNS; i++) {
		int rc = sqlite3_open_v2(path, &s->conns[i],
					 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
		if (rc != SQLITE_OK) {
			*ret_err = xasprintf("cannot open database %s: %s", path,
					     s->conns[i] ? sqlite3_errmsg(s->conns[i]) : sqlite3_errstr(rc));
			return -EIO;
		}
		sqlite3_busy_timeout(s->conns[i], 10000);
		/* no checkpoint inside a commit: the checkpointer thread does them */
		const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
				      "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
				      "PRAGMA wal_autocheckpoint=0;";
		int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
		if (sqlite3_exec(s->conns[i], pragmas, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_create_function(s->conns[i], "greatest", -1, flags, NULL, greatest_fn, NULL, NULL) ||
		    sqlite3_create_function(s->conns[i], "least", -1, flags, NULL, least_fn, NULL, NULL) ||
		    sqlite3_create_function(s->conns[i], "kunren_now_ms", 0, SQLITE_UTF8 | SQLITE_INNOCUOUS, NULL,
					    now_ms_fn, NULL, NULL)) {
			*ret_err = xasprintf("cannot set up database %s: %s", path, sqlite3_errmsg(s->conns[i]));
			return -EIO;
		}
	}
	if (ckpt_start(s, path, ret_err) < 0)
		return -EIO;
	for (int i = 0; i < POOL_CONNS; i++)
		ckpt_watch(s, s->conns[i]);
	return 0;
}

void lite_close(struct store *s)
{
	ckpt_stop(s);
	for (int i = 0; i < POOL_CONNS; i++)
		sqlite3_close(s->conns[i]);
}

int lite_prepare(struct conn *cn, struct stmt *st, const char *sql)
{
	int rc = sqlite3_prepare_v3(cn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->lite, NULL);
	return rc == SQLITE_OK ? 0 : db_error(cn->db, rc, sql);
}

void lite_finalize(struct stmt *st)
{
	sqlite3_finalize(st->lite);
	st->lite = NULL;
}
