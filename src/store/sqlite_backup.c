/*
 * sqlite_backup.c — copies of the database file: store_backup (SQLite's
 * online backup API, consistent while a server writes) and store_check_file
 * (integrity, schema version and row counts of a copy).  Both work on file
 * names with their own connections, outside any struct store: the backup
 * runs as a separate process beside `kunren serve` (docs/internals/BACKUP.md).
 */
#include "store/db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pages copied per sqlite3_backup_step: the source's read lock is taken
 * once for the whole copy (a WAL reader blocks no writer), the destination
 * is ours; small steps only keep each call short. */
#define BACKUP_STEP_PAGES 256

static int db_open(const char *path, int flags, sqlite3 **ret, char **ret_err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*ret_err = xasprintf("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 10000);
	*ret = db;
	return 0;
}

static int db_exec(sqlite3 *db, const char *sql, const char *path, char **ret_err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	*ret_err = xasprintf("%s: %s: %s", path, sql, sqlite3_errmsg(db));
	return -EIO;
}

static void db_closep(sqlite3 **db)
{
	if (*db)
		sqlite3_close(*db);
}

static void sq_finalizep(sqlite3_stmt **st)
{
	if (*st)
		sqlite3_finalize(*st);
}

/* integrity_check, the schema version and every table's row count of db. */
static int snapshot_read(sqlite3 *db, const char *path, struct arena *a, struct store_snapshot *ret, char **ret_err)
{
	struct store_snapshot snap = { 0 };
	_cleanup_(sq_finalizep) sqlite3_stmt *names = NULL; /* before any goto sqlerr */
	int rc;
	{
		_cleanup_(sq_finalizep) sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &st, NULL) != SQLITE_OK)
			goto sqlerr;
		_cleanup_buf_ struct buf problems = BUF_INIT(8192);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *line = (const char *)sqlite3_column_text(st, 0);
			if (line && strcmp(line, "ok"))
				buf_printf(&problems, "%s%s", problems.len ? "; " : "", line);
		}
		if (rc != SQLITE_DONE)
			goto sqlerr;
		if (problems.len) {
			*ret_err = xasprintf("%s is damaged (integrity_check): %s", path, problems.p);
			return -EBADMSG;
		}
	}
	{
		_cleanup_(sq_finalizep) sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &st, NULL) !=
		    SQLITE_OK) {
			*ret_err = xasprintf("%s is not a Kunren database (no schema_migrations)", path);
			return -EBADMSG;
		}
		if (sqlite3_step(st) != SQLITE_ROW)
			goto sqlerr;
		snap.schema_version = (int)sqlite3_column_int64(st, 0);
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
			       "ORDER BY name",
			       -1, &names, NULL) != SQLITE_OK)
		goto sqlerr;
	size_t cap = 0;
	while ((rc = sqlite3_step(names)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(names, 0);
		_cleanup_buf_ struct buf sql = BUF_INIT(0);
		buf_puts(&sql, "SELECT count(*) FROM \"");
		for (const char *p = name; *p; p++) {
			if (*p == '"')
				buf_putc(&sql, '"');
			buf_putc(&sql, *p);
		}
		buf_puts(&sql, "\"");
		_cleanup_(sq_finalizep) sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, sql.p, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
			goto sqlerr;
		struct store_table_rows *t = PUSH(a, snap.tables, snap.ntables, cap);
		if (!t || !(t->table = arena_strdup(a, name)))
			return -ENOMEM;
		t->rows = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	*ret = snap;
	return 0;
sqlerr:
	*ret_err = xasprintf("%s: %s", path, sqlite3_errmsg(db));
	return -EIO;
}

static int fsync_path(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
}

int store_backup(const char *db_path, const char *dest_path, struct arena *a, struct store_snapshot *ret,
		 char **ret_err)
{
	/* a copy of the file is a SQLite thing: PostgreSQL has its own tools */
	if (!strncmp(db_path, "postgres://", 11) || !strncmp(db_path, "postgresql://", 13)) {
		*ret_err = xstrdup("the database is PostgreSQL (database_url): kunren backup copies only a SQLite "
				   "database; back PostgreSQL up with pg_dump (restore with pg_restore) and keep the "
				   "data folder's secret.key with it");
		return -ENOTSUP;
	}
	_cleanup_(db_closep) sqlite3 *src = NULL;
	_cleanup_(db_closep) sqlite3 *dst = NULL;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", dest_path), *dir = dir_of(dest_path);
	_cleanup_free_ char *journal = xasprintf("%s-journal", tmp);
	struct store_snapshot snap;
	int fd = -1;
	/* no CREATE: a missing database is an error, not a new empty one */
	int r = db_open(db_path, SQLITE_OPEN_READWRITE, &src, ret_err);
	if (r < 0)
		return r;
	/* One read transaction for the whole copy: every step reads the same
	 * snapshot, so commits of the server meanwhile neither restart the
	 * backup nor wait for it (WAL); only checkpoints stop at the snapshot
	 * until it ends. */
	if ((r = db_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema;", db_path, ret_err)) < 0)
		return r;
	/* The copy holds every secret of the database: the file is made here,
	 * 0600 whatever the umask (SQLite keeps an existing file's mode), and
	 * never through a link planted in its place (O_EXCL after the unlink,
	 * O_NOFOLLOW, SQLITE_OPEN_NOFOLLOW). */
	unlink(tmp);
	unlink(journal);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		r = -errno;
		*ret_err = xasprintf("cannot create %s: %s", tmp, strerror(-r));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return r;
	}
	if ((r = db_open(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, &dst, ret_err)) < 0)
		goto fail;
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		*ret_err = xasprintf("cannot start the backup: %s", sqlite3_errmsg(dst));
		r = -EIO;
		goto fail;
	}
	int rc;
	while ((rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES)) == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		if (rc != SQLITE_OK)
			sqlite3_sleep(20);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		*ret_err = xasprintf("backup of %s failed: %s", db_path, sqlite3_errstr(rc));
		r = -EIO;
		goto fail;
	}
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(src);
	src = NULL;
	/* A copy is one self-contained file: a rollback journal, not WAL (a
	 * server opening it switches back to WAL). */
	if ((r = db_exec(dst, "PRAGMA journal_mode=DELETE;", tmp, ret_err)) < 0 ||
	    (r = snapshot_read(dst, tmp, a, &snap, ret_err)) < 0)
		goto fail;
	if (sqlite3_close(dst) != SQLITE_OK) {
		*ret_err = xasprintf("cannot close %s", tmp);
		r = -EIO;
		goto fail;
	}
	dst = NULL;
	if ((fchmod(fd, 0600) < 0 && (r = -errno) < 0) || (fsync(fd) < 0 && (r = -errno) < 0) ||
	    (rename(tmp, dest_path) < 0 && (r = -errno) < 0) ||
	    (r = fsync_path(dir, true)) < 0) {
		*ret_err = xasprintf("cannot write %s: %s", dest_path, strerror(-r));
		goto fail;
	}
	close(fd);
	*ret = snap;
	return 0;
fail:
	if (dst) {
		sqlite3_close(dst);
		dst = NULL;
	}
	close(fd); /* after SQLite's own descriptor: closing ours drops its locks */
	unlink(tmp);
	unlink(journal);
	return r;
}

int store_check_file(const char *path, struct arena *a, struct store_snapshot *ret, char **ret_err)
{
	_cleanup_(db_closep) sqlite3 *db = NULL;
	int r = db_open(path, SQLITE_OPEN_READONLY, &db, ret_err);
	if (r < 0)
		return r;
	return snapshot_read(db, path, a, ret, ret_err);
}

int store_schema_latest(void)
{
	const char *prefix = "src/store/migrations/";
	int64_t latest = 0;
	for (size_t i = 0; i < embedded_files_count; i++) {
		const char *path = embedded_files[i].path;
		if (strncmp(path, prefix, strlen(prefix)))
			continue;
		struct slice num;
		int64_t v;
		slice_cut(slice_from(path + strlen(prefix)), '_', &num);
		if (slice_to_i64(num, 1, 9999, &v) == 0 && v > latest)
			latest = v;
	}
	return (int)latest;
}
