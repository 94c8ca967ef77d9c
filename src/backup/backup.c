/*
 * backup.c — the data folder's backup and restore (backup.h).  The
 * database is copied by store_backup; this file adds the secret key, the
 * manifest, the checks of a restore and the renames that replace files.
 */
#include "backup/backup.h"
#include "store/store.h"

#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_NAME "kunren.db"
#define KEY_NAME "secret.key"
#define HEX_SHA256 (2 * crypto_hash_sha256_BYTES + 1)

int backup_lock(const char *data_dir, bool exclusive)
{
	int r = mkdir_p(data_dir, 0750);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = xasprintf("%s/kunren.lock", data_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* Copies src to dst (created with mode, O_EXCL), fsynced; the sha256 of
 * the bytes as lower-case hex into hex.  dst is removed on failure. */
static int file_copy(const char *src, const char *dst, unsigned mode, char hex[HEX_SHA256], int64_t *ret_bytes)
{
	_cleanup_(closep) int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	_cleanup_(closep) int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0)
		return -errno;
	if (fchmod(out, mode) < 0) { /* whatever the umask */
		int r = -errno;
		unlink(dst);
		return r;
	}
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	static _Thread_local unsigned char block[1 << 16];
	int64_t total = 0;
	int r = 0;
	for (;;) {
		ssize_t n = read(in, block, sizeof(block));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&h, block, (unsigned long long)n);
		total += n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, block + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = -errno;
				break;
			}
			off += w;
		}
		if (r < 0)
			break;
	}
	if (r == 0 && fsync(out) < 0)
		r = -errno;
	if (r < 0) {
		unlink(dst);
		return r;
	}
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(hex, HEX_SHA256, d, sizeof(d));
	if (ret_bytes)
		*ret_bytes = total;
	return 0;
}

static int file_sha256(const char *path, char hex[HEX_SHA256], int64_t *ret_bytes)
{
	_cleanup_(closep) int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	static _Thread_local unsigned char block[1 << 16];
	int64_t total = 0;
	for (;;) {
		ssize_t n = read(in, block, sizeof(block));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		crypto_hash_sha256_update(&h, block, (unsigned long long)n);
		total += n;
	}
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(hex, HEX_SHA256, d, sizeof(d));
	if (ret_bytes)
		*ret_bytes = total;
	return 0;
}

static int dir_sync(const char *dir)
{
	_cleanup_(closep) int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* path written atomically (tmp, fsync, rename), 0600 whatever the umask,
 * never through a link planted at the temporary name. */
static int write_private(const char *path, const char *text, size_t len)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = fchmod(fd, 0600) < 0 ? -errno : 0;
	for (size_t off = 0; r == 0 && off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			r = -errno;
		else
			off += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int backup_create(const char *data_dir, const char *database_url, const char *dest_dir, const char *version,
		  FILE *out, char **ret_err)
{
	_cleanup_free_ char *db = xasprintf("%s/" DB_NAME, data_dir);
	_cleanup_free_ char *key = xasprintf("%s/" KEY_NAME, data_dir);
	_cleanup_free_ char *dest_db = xasprintf("%s/" DB_NAME, dest_dir);
	_cleanup_free_ char *dest_key = xasprintf("%s/" KEY_NAME, dest_dir);
	_cleanup_free_ char *dest_key_tmp = xasprintf("%s/" KEY_NAME ".tmp", dest_dir);
	_cleanup_free_ char *manifest = xasprintf("%s/" BACKUP_MANIFEST, dest_dir);
	char db_hex[HEX_SHA256], key_hex[HEX_SHA256];
	int64_t db_bytes = 0;
	struct store_snapshot snap;
	_cleanup_buf_ struct buf when = BUF_INIT(64);
	_cleanup_free_ char *text = NULL;
	struct arena *a = arena_new(0);
	json_t *m = NULL;
	int r;

	if (database_url && *database_url) {
		/* not a file to copy: store_backup says what to use instead */
		r = store_backup(database_url, dest_db, a, &snap, ret_err);
		BUG_ON(r >= 0);
		goto out;
	}
	if (!exists(db)) {
		*ret_err = xasprintf("%s: no database here (is data_dir right?)", db);
		r = -ENOENT;
		goto out;
	}
	if ((r = mkdir_p(dest_dir, 0700)) < 0) {
		*ret_err = xasprintf("%s: %s", dest_dir, strerror(-r));
		goto out;
	}
	if (exists(manifest) || exists(dest_db)) {
		*ret_err = xasprintf("%s already holds a backup: choose a new folder", dest_dir);
		r = -EEXIST;
		goto out;
	}
	int64_t started = now_ms();
	if ((r = store_backup(db, dest_db, a, &snap, ret_err)) < 0)
		goto out;
	if ((r = file_sha256(dest_db, db_hex, &db_bytes)) < 0) {
		*ret_err = xasprintf("%s: %s", dest_db, strerror(-r));
		goto out;
	}
	bool have_key = exists(key);
	if (have_key) {
		unlink(dest_key_tmp);
		if ((r = file_copy(key, dest_key_tmp, 0600, key_hex, NULL)) < 0 ||
		    (rename(dest_key_tmp, dest_key) < 0 && (r = -errno) < 0)) {
			*ret_err = xasprintf("copying %s: %s", key, strerror(-r));
			unlink(dest_key_tmp);
			goto out;
		}
	}

	int64_t now = now_unix();
	tz_put_iso(&when, tz_get("UTC"), now);
	json_t *tables = json_object();
	for (size_t i = 0; i < snap.ntables; i++)
		json_object_set_new(tables, snap.tables[i].table, json_integer(snap.tables[i].rows));
	m = json_pack("{s:i, s:s, s:I, s:s, s:i, s:{s:s, s:I, s:s}, s:o, s:o}", "kunren_backup", BACKUP_FORMAT,
		      "created_at", when.p, "created_unix", (json_int_t)now, "kunren_version", version,
		      "schema_version", snap.schema_version, "database", "file", DB_NAME, "bytes",
		      (json_int_t)db_bytes, "sha256", db_hex, "secret_key",
		      have_key ? json_pack("{s:s, s:s}", "file", KEY_NAME, "sha256", key_hex) : json_null(), "tables",
		      tables);
	BUG_ON(!m);
	text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	/* the manifest last: its presence says the backup is whole */
	if ((r = write_private(manifest, text, strlen(text))) < 0 || (r = dir_sync(dest_dir)) < 0) {
		*ret_err = xasprintf("%s: %s", manifest, strerror(-r));
		goto out;
	}
	int64_t rows = 0;
	for (size_t i = 0; i < snap.ntables; i++)
		rows += snap.tables[i].rows;
	fprintf(out, "backup written to %s in %.1f s: %s (%lld bytes, schema %d, %zu tables, %lld rows), %s, %s\n",
		dest_dir, (double)(now_ms() - started) / 1000.0, DB_NAME, (long long)db_bytes, snap.schema_version,
		snap.ntables, (long long)rows, have_key ? KEY_NAME : "no secret.key (none in the data folder)",
		BACKUP_MANIFEST);
	if (!have_key)
		fprintf(out, "warning: %s has no secret.key: sealed SMTP passwords and DKIM keys cannot be restored\n",
			data_dir);
	r = 0;
out:
	json_decref(m);
	arena_free(a);
	return r;
}

/* Compares a copy's snapshot with the manifest's; a message for the first
 * difference. */
static char *snapshot_differs(const struct store_snapshot *s, json_t *m)
{
	json_int_t version = json_integer_value(json_object_get(m, "schema_version"));
	if (version != s->schema_version)
		return xasprintf("schema version %d, the manifest says %lld", s->schema_version, (long long)version);
	json_t *tables = json_object_get(m, "tables");
	if (!json_is_object(tables))
		return xstrdup("the manifest has no table counts");
	for (size_t i = 0; i < s->ntables; i++) {
		json_t *v = json_object_get(tables, s->tables[i].table);
		if (!json_is_integer(v))
			return xasprintf("table %s is not in the manifest", s->tables[i].table);
		if (json_integer_value(v) != s->tables[i].rows)
			return xasprintf("table %s has %lld rows, the manifest says %lld", s->tables[i].table,
					 (long long)s->tables[i].rows, (long long)json_integer_value(v));
	}
	if (json_object_size(tables) != s->ntables)
		return xasprintf("the manifest lists %zu tables, the database has %zu", json_object_size(tables),
				 s->ntables);
	return NULL;
}

/* Keeps what is at path as path.replaced (a hard link: path itself stays
 * until the rename that replaces it). */
static int keep_replaced(const char *path)
{
	_cleanup_free_ char *old = xasprintf("%s.replaced", path);
	if (unlink(old) < 0 && errno != ENOENT)
		return -errno;
	if (link(path, old) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int backup_restore(const char *src_dir, const char *data_dir, FILE *out, char **ret_err)
{
	_cleanup_free_ char *manifest = xasprintf("%s/" BACKUP_MANIFEST, src_dir);
	_cleanup_free_ char *src_db = xasprintf("%s/" DB_NAME, src_dir);
	_cleanup_free_ char *src_key = xasprintf("%s/" KEY_NAME, src_dir);
	_cleanup_free_ char *db = xasprintf("%s/" DB_NAME, data_dir);
	_cleanup_free_ char *db_tmp = xasprintf("%s/" DB_NAME ".restore-tmp", data_dir);
	_cleanup_free_ char *key = xasprintf("%s/" KEY_NAME, data_dir);
	_cleanup_free_ char *key_tmp = xasprintf("%s/" KEY_NAME ".restore-tmp", data_dir);
	_cleanup_free_ char *old_key = xasprintf("%s.replaced", key), *old_db = xasprintf("%s.replaced", db);
	_cleanup_buf_ struct buf text = BUF_INIT(1 << 20);
	_cleanup_free_ char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
	_cleanup_free_ char *old_wal = xasprintf("%s.replaced-wal", db), *old_shm = xasprintf("%s.replaced-shm", db);
	_cleanup_free_ char *diff = NULL;
	_cleanup_(closep) int lock = -1;
	struct arena *a = arena_new(0);
	json_t *m = NULL;
	char hex[HEX_SHA256];
	struct store_snapshot snap;
	int r;

	if ((r = file_read(manifest, 1 << 20, &text)) < 0) {
		*ret_err = xasprintf("%s: %s", manifest, r == -ENOENT ? "missing: not a Kunren backup folder, or an "
									 "unfinished backup" : strerror(-r));
		goto out;
	}
	json_error_t jerr;
	m = json_loadb(text.p, text.len, 0, &jerr);
	json_t *dbm = json_object_get(m, "database");
	const char *db_sha = json_string_value(json_object_get(dbm, "sha256"));
	json_t *keym = json_object_get(m, "secret_key");
	const char *key_sha = json_string_value(json_object_get(keym, "sha256"));
	if (!m || json_integer_value(json_object_get(m, "kunren_backup")) != BACKUP_FORMAT || !db_sha ||
	    !json_is_integer(json_object_get(m, "schema_version")) || (!json_is_null(keym) && !key_sha)) {
		*ret_err = xasprintf("%s: not a Kunren backup manifest (format %d)%s%s", manifest, BACKUP_FORMAT,
				     m ? "" : ": ", m ? "" : jerr.text);
		r = -EBADMSG;
		goto out;
	}
	int64_t schema = json_integer_value(json_object_get(m, "schema_version"));
	if (schema > store_schema_latest()) {
		*ret_err = xasprintf("the backup has schema version %lld; this kunren knows up to %d: restore it with "
				     "the version that made it (%s) or a newer one",
				     (long long)schema, store_schema_latest(),
				     json_string_value(json_object_get(m, "kunren_version")) ?: "?");
		r = -EBADMSG;
		goto out;
	}

	if ((lock = backup_lock(data_dir, true)) < 0) {
		r = lock;
		*ret_err = r == -EBUSY ? xasprintf("%s is in use by a running kunren (serve or backup): stop it first "
						   "(systemctl stop kunren)", data_dir)
				       : xasprintf("%s/kunren.lock: %s", data_dir, strerror(-r));
		goto out;
	}

	/* the copy is checked where it will be used: what was verified is
	 * what gets renamed into place */
	unlink(db_tmp);
	unlink(key_tmp);
	if ((r = file_copy(src_db, db_tmp, 0640, hex, NULL)) < 0) {
		*ret_err = xasprintf("copying %s: %s", src_db, strerror(-r));
		goto out;
	}
	if (strcmp(hex, db_sha)) {
		*ret_err = xasprintf("%s does not match the manifest (sha256 %s, expected %s): the backup is damaged",
				     src_db, hex, db_sha);
		r = -EBADMSG;
		goto fail;
	}
	if ((r = store_check_file(db_tmp, a, &snap, ret_err)) < 0)
		goto fail;
	if ((diff = snapshot_differs(&snap, m))) {
		*ret_err = xasprintf("%s does not match the manifest: %s", src_db, diff);
		r = -EBADMSG;
		goto fail;
	}
	if (key_sha) {
		if ((r = file_copy(src_key, key_tmp, 0600, hex, NULL)) < 0) {
			*ret_err = xasprintf("copying %s: %s", src_key, strerror(-r));
			goto fail;
		}
		if (strcmp(hex, key_sha)) {
			*ret_err = xasprintf("%s does not match the manifest (sha256): the backup is damaged", src_key);
			r = -EBADMSG;
			goto fail;
		}
	}

	/* Replace, in an order where every failure can be undone: the key
	 * first (the old database is still untouched), then the old
	 * database leaves with its WAL (renamed with it, so
	 * kunren.db.replaced stays a whole database; no stale -wal or -shm may
	 * meet the new file), then one rename puts the new database in place.
	 * A failure puts the WAL and the key back. */
	bool had_db = exists(db), had_key = exists(key), key_moved = false, db_kept = false, wal_moved = false;
	unlink(old_wal);
	unlink(old_shm);
	if (key_sha) {
		if ((had_key && (r = keep_replaced(key)) < 0) || (rename(key_tmp, key) < 0 && (r = -errno))) {
			*ret_err = xasprintf("replacing %s: %s (nothing was changed)", key, strerror(-r));
			goto fail;
		}
		key_moved = true;
	}
	if (had_db && (r = keep_replaced(db)) < 0)
		goto undo;
	db_kept = had_db;
	if (rename(wal, old_wal) == 0)
		wal_moved = true;
	else if (errno != ENOENT && (r = -errno))
		goto undo;
	if ((unlink(shm) < 0 && errno != ENOENT && (r = -errno)) || (rename(db_tmp, db) < 0 && (r = -errno)))
		goto undo;
	if ((r = dir_sync(data_dir)) < 0) {
		*ret_err = xasprintf("%s: %s", data_dir, strerror(-r));
		goto out;
	}
	int64_t rows = 0;
	for (size_t i = 0; i < snap.ntables; i++)
		rows += snap.tables[i].rows;
	fprintf(out, "restored %s from %s (made %s by kunren %s; schema %d, %zu tables, %lld rows)%s\n", data_dir,
		src_dir, json_string_value(json_object_get(m, "created_at")) ?: "?",
		json_string_value(json_object_get(m, "kunren_version")) ?: "?", snap.schema_version, snap.ntables,
		(long long)rows, key_sha ? " with its secret.key" : "");
	if (had_db || (key_sha && had_key))
		fprintf(out, "the replaced files were kept as %s%s%s: delete them once the server runs well\n",
			had_db ? "kunren.db.replaced" : "", had_db && key_sha && had_key ? " and " : "",
			key_sha && had_key ? "secret.key.replaced" : "");
	if (!key_sha)
		fprintf(out, "warning: the backup has no secret.key: sealed SMTP passwords and DKIM keys need the key "
			     "of the server that made it\n");
	if (schema < store_schema_latest())
		fprintf(out, "the next `kunren serve` (or `kunren migrate`) brings the schema from %lld to %d\n",
			(long long)schema, store_schema_latest());
	r = 0;
	goto out;
undo:
	/* the database is the old one still: its WAL and key go back */
	if (wal_moved && rename(old_wal, wal) < 0)
		log_error("restore: cannot rename %s back to %s: %s", old_wal, wal, strerror(errno));
	if (db_kept)
		unlink(old_db);
	if (key_moved && (had_key ? rename(old_key, key) : unlink(key)) < 0)
		log_error("restore: cannot put back %s (the old one is %s): %s", key, old_key, strerror(errno));
	*ret_err = xasprintf("replacing %s: %s (nothing was changed)", db, strerror(-r));
fail:
	unlink(db_tmp);
	unlink(key_tmp);
out:
	json_decref(m);
	arena_free(a);
	return r;
}
