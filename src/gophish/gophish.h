/*
 * gophish — bringing a GoPhish installation over (`kunren import-gophish`):
 * its SQLite database (gophish.db, opened read-only) is read whole, every
 * object is mapped to Kunren's (docs/GOPHISH.md, "Import") and written for
 * one tenant in one transaction (store_import).  What has no Kunren
 * counterpart is reported line by line.  See docs/internals/GOPHISH.md.
 *
 * The database is outside input: a table may be a view, a column missing or
 * of any type, a value any size.  Every value read is bounded (sizes below),
 * checked (UTF-8, addresses, times) and mapped or reported, never trusted.
 */
#ifndef KUNREN_GOPHISH_H
#define KUNREN_GOPHISH_H

#include "core/core.h"
#include "store/store.h"

/* Bounds of what is read from a GoPhish database. */
#define GOPHISH_MAX_ROWS 5000000          /* rows of any one table */
#define GOPHISH_MAX_VALUE (16 << 20)      /* any single value (SQLITE_LIMIT_LENGTH) */
#define GOPHISH_MAX_HTML (1 << 20)        /* a mail or page (as the API's) */
#define GOPHISH_MAX_MEMORY ((size_t)1 << 30) /* everything read, in one arena */
#define GOPHISH_MAX_REPORTED 10000        /* "not mapped" lines printed (all are counted) */

struct gophish_import_options {
	int64_t tenant_id;
	const struct secret_key *key;  /* seals the SMTP passwords */
	bool dry_run;                  /* read, map and report; write nothing */
};

/* What was brought over. */
struct gophish_counts {
	int64_t lists, recipients, scenarios, profiles, campaigns, targets, events;
};

/*
 * Imports the GoPhish database at path into o->tenant_id.  Appends the
 * report to out: one "imported: ..." line per kind of object and one
 * "not mapped: ..." line per thing left behind.  Returns 0 (or the
 * counts in *ret, may be NULL) when everything mappable was written;
 * otherwise a negative errno and *ret_err (caller frees): -ENOTSUP for a
 * file that is not a GoPhish database, -ENOENT for a missing file or
 * tenant, -E2BIG for a database beyond the bounds above, -EIO for a read
 * or write failure — and nothing was written.
 */
int gophish_import(struct store *s, const char *path, const struct gophish_import_options *o, struct buf *out,
		   struct gophish_counts *ret, char **ret_err);

/*
 * A GoPhish template (Go text/template) in Kunren's merge-field syntax,
 * with the names docs/GOPHISH.md gives: {{.FirstName}} {{first_name}},
 * {{.LastName}} {{last_name}}, {{.Email}} {{email}}, {{.Position}}
 * {{position}}, {{.URL}} {{url}}, {{.From}} {{sender_email}};
 * {{.Tracker}} and {{.TrackingURL}} are removed (Kunren adds its own
 * beacon).  Other actions ({{.RId}}, {{.BaseURL}}, {{if ...}}, ...) are
 * dropped and named in *ret_dropped (", "-separated, "" when none).  A "{{" that opens no field
 * is broken up ("{ {"), so the result always passes content_template_check.
 * Both strings live in a; -ENOMEM when it is full.
 */
int gophish_template_convert(struct slice in, struct arena *a, const char **ret_out, const char **ret_dropped);

/* A GoPhish time ("2006-01-02 15:04:05.999999999-07:00", with "T" or
 * "Z", fraction and zone optional) in unix ms; -EINVAL when it is none, or
 * before 1970 (Go's zero time), or after 9999. */
int gophish_time_parse(const char *s, int64_t *ret_ms);

#endif
