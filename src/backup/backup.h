/*
 * backup — `kunren backup DEST_DIR` and `kunren restore SRC_DIR`: a copy of
 * the data folder's database (taken online while a server runs) and its
 * secret key, with a manifest that restore checks before it replaces
 * anything.  See docs/internals/BACKUP.md.
 */
#ifndef KUNREN_BACKUP_H
#define KUNREN_BACKUP_H

#include "core/core.h"

#include <stdio.h>

#define BACKUP_MANIFEST "manifest.json"
#define BACKUP_FORMAT 1

/*
 * The data folder's lock, data_dir/kunren.lock (an flock, made if missing):
 * shared for `serve` and `backup` (several may hold it), exclusive for
 * `restore`.  Returns the descriptor to keep open while working (closing it
 * releases the lock), -EBUSY when the other kind holds it, else -errno.
 */
int backup_lock(const char *data_dir, bool exclusive);

/*
 * Writes dest_dir/kunren.db (store_backup), dest_dir/secret.key (0600) and
 * last dest_dir/manifest.json: time, versions, sha256 of both files, rows
 * per table.  dest_dir is made (0700) if missing and must not hold a backup
 * already (-EEXIST).  Prints a summary to out.  database_url: the
 * server's (config database_url); a PostgreSQL one is refused (-ENOTSUP,
 * before anything is made: pg_dump backs it up).  *ret_err: caller frees.
 */
int backup_create(const char *data_dir, const char *database_url, const char *dest_dir, const char *version,
		  FILE *out, char **ret_err);

/*
 * Checks src_dir against its manifest (sha256 of the files, integrity_check,
 * schema version not newer than this binary, rows per table), then replaces
 * data_dir's kunren.db (its -wal and -shm go with the old one) and
 * secret.key, each by one rename.  The replaced files are kept as
 * kunren.db.replaced and secret.key.replaced.  Refused (-EBUSY) while a
 * server or a backup holds the data folder's lock; nothing is changed when
 * a check fails (-EBADMSG).  Prints what it did to out.
 */
int backup_restore(const char *src_dir, const char *data_dir, FILE *out, char **ret_err);

#endif
