/*
 * import.c — `kunren import-gophish`: a GoPhish database, read-only, into
 * one tenant (gophish.h; the mapping is docs/GOPHISH.md, "Import").
 *
 * Three steps: open and recognise the file (the tables GoPhish's goose
 * migrations create, each a real table); read every table into an arena,
 * each value bounded and checked, mapping as we go and noting what has no
 * counterpart; then one store_import, which writes everything or nothing.
 */
#include "gophish/gophish.h"

#include "content/content.h"
#include "mail/mail.h"
#include "people/people.h"

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

/* ---- times and templates ---- */

static bool digits(const char *s, size_t n, int *ret)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

int gophish_time_parse(const char *s, int64_t *ret_ms)
{
	struct civil cv = { 0 };
	int ms = 0, zh = 0, zm = 0, sign = 0;
	size_t n = s ? strlen(s) : 0, i = 19;
	if (n < 19 || n > 64 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
	    s[16] != ':' || !digits(s, 4, &cv.year) || !digits(s + 5, 2, &cv.month) || !digits(s + 8, 2, &cv.day) ||
	    !digits(s + 11, 2, &cv.hour) || !digits(s + 14, 2, &cv.min) || !digits(s + 17, 2, &cv.sec))
		return -EINVAL;
	if (i < n && s[i] == '.') {
		size_t k = 0;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
			if (k < 3)
				ms = ms * 10 + (s[i] - '0');
		if (!k)
			return -EINVAL;
		for (; k < 3; k++)
			ms *= 10;
	}
	if (i < n && s[i] == ' ')   /* Go's String(): "... +0000 UTC" */
		i++;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '-' ? -1 : 1;
		if (n - i >= 6 && s[i + 3] == ':' && digits(s + i + 1, 2, &zh) && digits(s + i + 4, 2, &zm))
			i += 6;
		else if (n - i >= 5 && digits(s + i + 1, 2, &zh) && digits(s + i + 3, 2, &zm))
			i += 5;
		else
			return -EINVAL;
	}
	if (i < n && !strcmp(s + i, " UTC"))
		i = n;
	if (i != n || cv.year < 1970 || cv.year > 9999 || cv.month < 1 || cv.month > 12 || cv.day < 1 ||
	    cv.day > 31 || cv.hour > 23 || cv.min > 59 || cv.sec > 60 || zh > 23 || zm > 59)
		return -EINVAL;
	int64_t t = unix_from_civil(&cv) - (int64_t)sign * (zh * 3600 + zm * 60);
	if (t < 0)
		return -EINVAL;
	*ret_ms = t * 1000 + ms;
	return 0;
}

/* The names docs/GOPHISH.md gives (the /api/ compatibility layer writes
 * the same); NULL: removed without a word, Kunren does it itself. */
static const struct {
	const char *go, *kunren;
} go_fields[] = {
	{ "FirstName", "first_name" }, { "LastName", "last_name" }, { "Email", "email" }, { "Position", "position" },
	{ "URL", "url" }, { "From", "sender_email" }, { "Tracker", NULL }, { "TrackingURL", NULL },
};

/* Notes a dropped action once. */
static void dropped_add(struct buf *d, struct slice action)
{
	_cleanup_buf_ struct buf one = BUF_INIT(256);
	buf_puts(&one, "{{");
	buf_append(&one, action.p, action.len > 60 ? 60 : action.len);
	buf_puts(&one, action.len > 60 ? "...}}" : "}}");
	if (d->len && (strstr(d->p, one.p) || d->len > 4000))
		return;
	if (d->len)
		buf_puts(d, ", ");
	buf_put_slice(d, buf_slice(&one));
}

int gophish_template_convert(struct slice in, struct arena *a, const char **ret_out, const char **ret_dropped)
{
	_cleanup_buf_ struct buf out = BUF_INIT((size_t)4 * GOPHISH_MAX_HTML), dropped = BUF_INIT(8192);
	size_t pos = 0;
	int r = 0;
	while (r >= 0 && pos < in.len) {
		const char *open = memmem(in.p + pos, in.len - pos, "{{", 2);
		size_t at = open ? (size_t)(open - in.p) : in.len;
		r = buf_append(&out, in.p + pos, at - pos);
		if (!open || r < 0)
			break;
		size_t body = at + 2, window = in.len - body > 1024 ? 1024 : in.len - body;
		const char *close = memmem(in.p + body, window, "}}", 2);
		if (!close) {       /* not an action: keep the text, break the braces */
			r = buf_puts(&out, "{ ");
			pos = at + 1;
			continue;
		}
		struct slice inner = { in.p + body, (size_t)(close - (in.p + body)) };
		pos = (size_t)(close - in.p) + 2;
		/* Go's trim markers "{{- " and " -}}" */
		if (inner.len >= 2 && inner.p[0] == '-' && inner.p[1] == ' ')
			inner.p++, inner.len--;
		if (inner.len >= 2 && inner.p[inner.len - 1] == '-' && inner.p[inner.len - 2] == ' ')
			inner.len--;
		struct slice name = slice_trim(inner);
		size_t f = 0;
		while (f < ARRAY_SIZE(go_fields) && !(name.len > 1 && name.p[0] == '.' &&
						      name.len - 1 == strlen(go_fields[f].go) &&
						      !memcmp(name.p + 1, go_fields[f].go, name.len - 1)))
			f++;
		/* Kunren's own fields ({{名}}, {{url}}) pass as they are */
		struct slice whole = { in.p + at, pos - at };
		if (f == ARRAY_SIZE(go_fields) && content_template_check(whole, NULL) == 0) {
			if (out.len && out.p[out.len - 1] == '{')
				r = buf_putc(&out, ' ');
			if (r >= 0)
				r = buf_put_slice(&out, whole);
			continue;
		}
		if (f == ARRAY_SIZE(go_fields))
			dropped_add(&dropped, name);
		if (f == ARRAY_SIZE(go_fields) || !go_fields[f].kunren)
			continue;
		const char *to = go_fields[f].kunren;
		if (out.len && out.p[out.len - 1] == '{')
			r = buf_putc(&out, ' ');
		if (r >= 0)
			r = buf_printf(&out, "{{%s}}", to);
	}
	if (r < 0)
		return -E2BIG;
	const char *o = arena_strndup(a, out.p, out.len), *d = arena_strndup(a, dropped.p, dropped.len);
	if (!o || !d)
		return -ENOMEM;
	*ret_out = o;
	*ret_dropped = d;
	return 0;
}

/* ---- reading the database ---- */

struct gp {
	sqlite3 *db;
	struct arena *a;
	struct buf *out;            /* the report */
	int64_t not_mapped;
	char *err;                  /* a fatal error's message */
	int64_t deadline_ms;        /* reading the GoPhish database stops here */
};

/* Reading the GoPhish database (its SQL, not the write into Kunren's) stops
 * after this long: a crafted file cannot keep the command busy for ever. */
#define GOPHISH_READ_SECONDS 300

static int read_deadline(void *arg)
{
	const struct gp *g = arg;
	return now_ms() > g->deadline_ms;   /* non-zero: SQLITE_INTERRUPT */
}

static void not_mapped(struct gp *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void not_mapped(struct gp *g, const char *fmt, ...)
{
	va_list ap;
	if (g->not_mapped++ >= GOPHISH_MAX_REPORTED)
		return;   /* counted, not printed: the report stays readable */
	buf_puts(g->out, "not mapped: ");
	va_start(ap, fmt);
	buf_vprintf(g->out, fmt, ap);
	va_end(ap);
	buf_putc(g->out, '\n');
}

static int fail(struct gp *g, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct gp *g, int r, const char *fmt, ...)
{
	va_list ap;
	struct buf b;
	if (g->err)
		return r;
	buf_init(&b, 4096);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	g->err = buf_steal(&b);
	return r;
}

static int db_fail(struct gp *g, const char *what)
{
	int code = sqlite3_errcode(g->db);
	if (code == SQLITE_NOTADB)
		return fail(g, -ENOTSUP, "not a GoPhish database: not an SQLite database");
	if (code == SQLITE_TOOBIG)
		return fail(g, -E2BIG, "%s: a value is larger than %d bytes", what, GOPHISH_MAX_VALUE);
	if (code == SQLITE_INTERRUPT)
		return fail(g, -ETIMEDOUT, "%s: stopped after %d s (the limit for reading a GoPhish database)", what,
			    GOPHISH_READ_SECONDS);
	if (code == SQLITE_CORRUPT)
		return fail(g, -EIO, "%s: the database is damaged (%s)", what, sqlite3_errmsg(g->db));
	return fail(g, -EIO, "%s: %s", what, sqlite3_errmsg(g->db));
}

/* The end of a loop over st's rows: st finalized; r, or the database's
 * error (db_fail) when the rows did not run to their end (rc). */
static int rows_end(struct gp *g, sqlite3_stmt *st, int r, int rc, const char *what)
{
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_fail(g, what);
	sqlite3_finalize(st);
	return r;
}

/* Column sets of the tables read, from PRAGMA table_info. */
struct table {
	const char *name;
	bool required;
	const char *const *needs;   /* columns that must be there (NULL-terminated) */
	char *cols;                 /* " a b c " (arena) */
};

static bool has_col(const struct table *t, const char *col)
{
	char key[80];
	snprintf(key, sizeof(key), " %s ", col);
	return t->cols && strstr(t->cols, key);
}

static const char *const needs_templates[] = { "id", "name", "subject", "text", "html", NULL };
static const char *const needs_targets[] = { "id", "first_name", "last_name", "email", "position", NULL };
static const char *const needs_groups[] = { "id", "name", NULL };
static const char *const needs_group_targets[] = { "group_id", "target_id", NULL };
static const char *const needs_pages[] = { "id", "name", "html", NULL };
static const char *const needs_smtp[] = { "id", "name", "host", "username", "password", "from_address", NULL };
static const char *const needs_campaigns[] = { "id", "name", "created_date", "completed_date", "template_id",
					       "page_id", "status", NULL };
static const char *const needs_results[] = { "campaign_id", "email", "first_name", "last_name", "status", NULL };
static const char *const needs_events[] = { "campaign_id", "email", "time", "message", NULL };
static const char *const needs_attachments[] = { "template_id", "name", NULL };
static const char *const needs_headers[] = { "key", "smtp_id", NULL };
static const char *const needs_none[] = { NULL };

enum { T_TEMPLATES, T_TARGETS, T_GROUPS, T_GROUP_TARGETS, T_PAGES, T_SMTP, T_CAMPAIGNS, T_RESULTS, T_EVENTS,
       T_USERS, T_ATTACHMENTS, T_HEADERS, T_IMAP, T_WEBHOOKS, T__COUNT };

static const struct table tables_init[T__COUNT] = {
	[T_TEMPLATES] = { "templates", true, needs_templates, NULL },
	[T_TARGETS] = { "targets", true, needs_targets, NULL },
	[T_GROUPS] = { "groups", true, needs_groups, NULL },
	[T_GROUP_TARGETS] = { "group_targets", true, needs_group_targets, NULL },
	[T_PAGES] = { "pages", true, needs_pages, NULL },
	[T_SMTP] = { "smtp", true, needs_smtp, NULL },
	[T_CAMPAIGNS] = { "campaigns", true, needs_campaigns, NULL },
	[T_RESULTS] = { "results", true, needs_results, NULL },
	[T_EVENTS] = { "events", true, needs_events, NULL },
	[T_USERS] = { "users", true, needs_none, NULL },
	[T_ATTACHMENTS] = { "attachments", false, needs_attachments, NULL },
	[T_HEADERS] = { "headers", false, needs_headers, NULL },
	[T_IMAP] = { "imap", false, needs_none, NULL },
	[T_WEBHOOKS] = { "webhooks", false, needs_none, NULL },
};

static int prepare(struct gp *g, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(g->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(g, "reading the GoPhish database");
	return 0;
}

/* Recognises the file: every required table a real table (not a view) with
 * its columns, and none too large. */
static int tables_read(struct gp *g, struct table *t)
{
	for (size_t i = 0; i < T__COUNT; i++) {
		sqlite3_stmt *st = NULL;
		int r = prepare(g, &st, "SELECT type, ltrim(upper(substr(sql, 1, 200)), ' ' || char(9, 10, 13)) "
					"FROM sqlite_master WHERE name = ?");
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, t[i].name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		bool table = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
			     !strcmp((const char *)sqlite3_column_text(st, 0), "table");
		/* a virtual table's module runs code on every read: GoPhish
		 * never makes one */
		const char *sql0 = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : NULL;
		bool virtual = sql0 && !strncmp(sql0, "CREATE VIRTUAL", 14);
		bool any = rc == SQLITE_ROW;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return db_fail(g, "reading the GoPhish database");
		if (!table || virtual) {
			if (t[i].required || virtual)
				return fail(g, -ENOTSUP, "not a GoPhish database: %s \"%s\"",
					    virtual ? "a virtual table:" : any ? "not a table:" : "no table", t[i].name);
			continue;
		}
		_cleanup_buf_ struct buf cols = BUF_INIT(16384);
		/* table_xinfo: hidden 2 and 3 are generated columns, whose
		 * expressions run on every read: GoPhish makes none */
		_cleanup_free_ char *sql = xasprintf("SELECT name, hidden FROM pragma_table_xinfo('%s')", t[i].name);
		if ((r = prepare(g, &st, sql)) < 0)
			return r;
		buf_putc(&cols, ' ');
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *c = (const char *)sqlite3_column_text(st, 0);
			int64_t hidden = sqlite3_column_int64(st, 1);
			if (hidden == 2 || hidden == 3) {
				r = fail(g, -ENOTSUP, "not a GoPhish database: table \"%s\" has a generated column",
					 t[i].name);
				sqlite3_finalize(st);
				return r;
			}
			if (c && strlen(c) < 64) {
				buf_puts(&cols, c);
				buf_putc(&cols, ' ');
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return db_fail(g, "reading the GoPhish database");
		if (!(t[i].cols = arena_strndup(g->a, cols.p, cols.len)))
			return fail(g, -E2BIG, "the GoPhish database is too large to import at once");
		for (const char *const *c = t[i].needs; *c; c++)
			if (!has_col(&t[i], *c))
				return fail(g, -ENOTSUP, "not a GoPhish database: table \"%s\" has no column \"%s\"",
					    t[i].name, *c);
		_cleanup_free_ char *count = xasprintf("SELECT count(*) FROM \"%s\"", t[i].name);
		if ((r = prepare(g, &st, count)) < 0)
			return r;
		rc = sqlite3_step(st);
		int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_finalize(st);
		if (n < 0)
			return db_fail(g, "reading the GoPhish database");
		if (n > GOPHISH_MAX_ROWS)
			return fail(g, -E2BIG, "table \"%s\" has %lld rows (at most %d can be imported)", t[i].name,
				    (long long)n, GOPHISH_MAX_ROWS);
	}
	return 0;
}

/* "x" when the table has the column, else "NULL": columns added by later
 * GoPhish versions (or removed again) are read when they are there. */
static const char *col_or_null(const struct table *t, const char *col)
{
	return has_col(t, col) ? col : "NULL";
}

/* A text value of at most max bytes, valid UTF-8 without NUL, in the arena;
 * NULL (and *ret_bad set) otherwise.  SQL NULL is "". */
static const char *text_col(struct gp *g, sqlite3_stmt *st, int i, size_t max, const char **ret_bad)
{
	int type = sqlite3_column_type(st, i);
	if (type == SQLITE_NULL)
		return "";
	const char *p = (const char *)sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	if (!p)
		return "";
	if (n > max) {
		*ret_bad = "too long";
		return NULL;
	}
	if (memchr(p, '\0', n) || !utf8_valid(p, n)) {
		*ret_bad = "not UTF-8 text";
		return NULL;
	}
	char *c = arena_strndup(g->a, p, n);
	if (!c)
		*ret_bad = "out of memory";
	return c;
}

static int64_t int_col(sqlite3_stmt *st, int i)
{
	int type = sqlite3_column_type(st, i);
	if (type == SQLITE_INTEGER)
		return sqlite3_column_int64(st, i);
	if (type == SQLITE_TEXT) {
		int64_t v;
		const char *p = (const char *)sqlite3_column_text(st, i);
		return p && slice_to_i64(slice_from(p), INT64_MIN, INT64_MAX, &v) >= 0 ? v : 0;
	}
	return 0;
}

static bool bool_col(sqlite3_stmt *st, int i)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	return int_col(st, i) != 0 || (p && (!strcasecmp(p, "true") || !strcmp(p, "t")));
}

/* A time column in unix ms; 0 when absent or not a time. */
static int64_t time_col(sqlite3_stmt *st, int i)
{
	int64_t ms;
	if (sqlite3_column_type(st, i) == SQLITE_INTEGER) {
		int64_t v = sqlite3_column_int64(st, i);
		return v > 0 && v < INT64_C(253402300800) ? v * 1000 : 0;
	}
	const char *p = (const char *)sqlite3_column_text(st, i);
	if (!p || sqlite3_column_bytes(st, i) > 64)
		return 0;
	return gophish_time_parse(p, &ms) < 0 ? 0 : ms;
}

/* Cuts s to at most max bytes on a character boundary. */
static const char *cut(struct gp *g, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return s;
	while (max && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return arena_strndup(g->a, s, max);
}

/* One line, no control characters (names, subjects). */
static const char *one_line(struct gp *g, const char *s)
{
	char *c = arena_strdup(g->a, s);
	for (char *p = c; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c ? c : "";
}

/* A display name for the report (quoted, cut, one line). */
static const char *shown(struct gp *g, const char *s)
{
	return one_line(g, cut(g, s && s[0] ? s : "(no name)", 120));
}

/* ---- id -> index maps ---- */

struct idx {
	int64_t id;
	size_t i;
};

static int idx_cmp(const void *x, const void *y)
{
	const struct idx *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* index + 1 of id in a sorted map, 0 when absent */
static size_t idx_find(const struct idx *map, size_t n, int64_t id)
{
	struct idx key = { id, 0 };
	const struct idx *f = n ? bsearch(&key, map, n, sizeof(*map), idx_cmp) : NULL;
	return f ? f->i + 1 : 0;
}

/* Grows an arena array by one zeroed slot (NULL when the arena is full). */
static void *grow(struct arena *a, void **arr, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = arena_alloc(a, ncap * size);
		if (!p)
			return NULL;
		if (*n)
			memcpy(p, *arr, *n * size);
		*arr = p;
		*cap = ncap;
	}
	void *slot = (char *)*arr + (*n)++ * size;
	memset(slot, 0, size);
	return slot;
}
#define GROW(g, arr, n, cap) ((__typeof__(arr))grow((g)->a, (void **)&(arr), &(n), &(cap), sizeof(*(arr))))

/* ---- the mapped data ---- */

struct gp_template {
	int64_t id;
	size_t scenario;        /* its own scenario: index + 1 */
};

struct gp_page {
	int64_t id;
	size_t scenario;        /* its own scenario ("gophish:page"): index + 1 */
};

struct gp_smtp {
	int64_t id;
	const char *name, *from_name, *from_local, *from_domain;
	size_t profile;         /* index + 1, 0: not imported */
};

struct gp_target_key {
	const char *email;      /* as GoPhish wrote it in results and events */
	size_t i;
};

struct gp_campaign {
	int64_t id;
	size_t c;               /* index into im.campaigns */
	size_t cap_t, cap_e;
	struct gp_target_key *keys;
	size_t nkeys, cap_k;
	bool has_created;
	int64_t unmatched, bad_time;
};

struct mapping {
	struct store_import im;
	size_t cap_lists, cap_scen, cap_prof, cap_camp;
	struct gp_template *templates;
	size_t ntemplates, cap_tpl;
	struct idx *template_ids;
	struct gp_page *pages;
	size_t npages, cap_pages;
	struct idx *page_ids;
	size_t ncopies;         /* campaign copies ("gophish:campaign") */
	struct gp_smtp *smtps;
	size_t nsmtp, cap_smtp;
	struct idx *smtp_ids;
	struct gp_campaign *camps;
	size_t ncamps, cap_camps;
	struct idx *camp_ids;
	struct table t[T__COUNT];
};

#define OOM(g) fail((g), -E2BIG, "the GoPhish database is too large to import at once (more than %zu MiB)", \
		    GOPHISH_MAX_MEMORY >> 20)

static struct idx *idx_build(struct gp *g, size_t n, int64_t (*id_of)(const void *arr, size_t i), const void *arr)
{
	struct idx *m = arena_alloc(g->a, (n ? n : 1) * sizeof(*m));
	if (!m)
		return NULL;
	for (size_t i = 0; i < n; i++)
		m[i] = (struct idx){ id_of(arr, i), i };
	qsort(m, n, sizeof(*m), idx_cmp);
	return m;
}

static int64_t template_id(const void *arr, size_t i) { return ((const struct gp_template *)arr)[i].id; }
static int64_t page_id(const void *arr, size_t i) { return ((const struct gp_page *)arr)[i].id; }
static int64_t smtp_id(const void *arr, size_t i) { return ((const struct gp_smtp *)arr)[i].id; }
static int64_t camp_id(const void *arr, size_t i) { return ((const struct gp_campaign *)arr)[i].id; }

/* A table that hangs off another and that Kunren does not import (a
 * template's attachments, a sending profile's custom headers): each row
 * of a parent that was read is noted by the parent's name and its own. */
struct children {
	int table;           /* T_...: nothing to note when the database has none */
	const char *sql;     /* column 0: the parent's GoPhish id, 1: the row's name */
	const char *reading; /* "reading ..." for an error */
	const struct idx *ids;
	size_t nids;
	const char *(*parent_name)(const struct mapping *m, size_t i);
	const char *parent, *child, *why;
};

static const char *template_name(const struct mapping *m, size_t i)
{
	return m->im.scenarios[m->templates[i].scenario - 1].sc.name;
}

static const char *smtp_name(const struct mapping *m, size_t i)
{
	return m->smtps[i].name;
}

static int children_note(struct gp *g, const struct mapping *m, const struct children *c)
{
	sqlite3_stmt *st = NULL;
	if (!m->t[c->table].cols)
		return 0;
	int r = prepare(g, &st, c->sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t i = idx_find(c->ids, c->nids, sqlite3_column_int64(st, 0));
		const char *bad = NULL, *name = text_col(g, st, 1, 1000, &bad);
		if (i)
			not_mapped(g, "%s \"%s\": %s \"%s\" not imported: %s", c->parent,
				   shown(g, c->parent_name(m, i - 1)), c->child, name ? shown(g, name) : "?", c->why);
	}
	return rows_end(g, st, r, rc, c->reading);
}

/* ---- groups -> lists ---- */

/* Row indexes by address, then by position (the first of an address first). */
static int row_cmp(const void *x, const void *y, void *ctx)
{
	const struct person *rows = ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = strcmp(rows[a].f[PF_EMAIL], rows[b].f[PF_EMAIL]);
	return c ? c : a < b ? -1 : a > b;
}

/* Checks a recipient the way the API does; false (reported as one of
 * `kind` "name") when it is not one. */
static bool person_ok(struct gp *g, struct person *p, const char *kind, const char *name)
{
	struct import_problem *pr;
	size_t npr = 0;
	for (int f = 0; f < PF__COUNT; f++)
		if (!p->f[f])
			p->f[f] = "";
	if (people_person_check(p, g->a, &pr, &npr) < 0)
		return false;
	if (npr) {
		not_mapped(g, "%s \"%s\": recipient \"%s\" skipped: %s %s", kind, shown(g, name),
			   shown(g, p->f[PF_EMAIL]), pr[0].column, pr[0].reason);
		return false;
	}
	return true;
}

static int groups_read(struct gp *g, struct mapping *m)
{
	struct table *tg = &m->t[T_GROUPS];
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf("SELECT id, substr(name, 1, 1000), %s FROM groups ORDER BY id",
					     col_or_null(tg, "modified_date"));
	struct idx *ids = NULL;
	size_t nids = 0, cap_ids = 0, *caps = NULL;
	int r = prepare(g, &st, sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *bad = NULL, *name = text_col(g, st, 1, 4000, &bad);
		if (!name) {
			not_mapped(g, "group %lld: its name is %s", (long long)sqlite3_column_int64(st, 0), bad);
			continue;
		}
		struct store_import_list *l = GROW(g, m->im.lists, m->im.nlists, m->cap_lists);
		struct idx *x = GROW(g, ids, nids, cap_ids);
		if (!l || !x)
			r = OOM(g);
		else {
			l->name = one_line(g, cut(g, slice_trim(slice_from(name)).len ? name : "GoPhish group", 200));
			l->created_at = time_col(st, 2) / 1000;
			if (!l->created_at)
				l->created_at = now_unix();
			*x = (struct idx){ sqlite3_column_int64(st, 0), m->im.nlists - 1 };
		}
	}
	r = rows_end(g, st, r, rc, "reading groups");
	if (r < 0)
		return r;
	qsort(ids, nids, sizeof(*ids), idx_cmp);
	if (!(caps = arena_alloc(g->a, (m->im.nlists + 1) * sizeof(*caps))))
		return OOM(g);

	r = prepare(g, &st, "SELECT gt.group_id, substr(t.first_name, 1, 1000), substr(t.last_name, 1, 1000), "
			    "substr(t.email, 1, 1000), substr(t.position, 1, 1000) FROM group_targets gt "
			    "JOIN targets t ON t.id = gt.target_id ORDER BY gt.group_id, t.id");
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t li = idx_find(ids, nids, sqlite3_column_int64(st, 0));
		if (!li)
			continue;
		struct store_import_list *l = &m->im.lists[li - 1];
		const char *bad = NULL;
		struct person p = { .f = {
			[PF_FIRST_NAME] = text_col(g, st, 1, 4000, &bad), [PF_LAST_NAME] = text_col(g, st, 2, 4000, &bad),
			[PF_EMAIL] = text_col(g, st, 3, 4000, &bad), [PF_POSITION] = text_col(g, st, 4, 4000, &bad),
		} };
		if (bad)
			not_mapped(g, "group \"%s\": a recipient skipped: a value is %s", shown(g, l->name), bad);
		else if (person_ok(g, &p, "group", l->name)) {
			struct person *row = grow(g->a, (void **)&l->rows, &l->nrows, &caps[li - 1], sizeof(*row));
			if (!row)
				r = OOM(g);
			else
				*row = p;
		}
	}
	r = rows_end(g, st, r, rc, "reading group targets");
	/* an address once per list (GoPhish allowed it twice): the first kept, in GoPhish's order */
	for (size_t i = 0; r >= 0 && i < m->im.nlists; i++) {
		struct store_import_list *l = &m->im.lists[i];
		struct person *rows = (struct person *)l->rows;
		size_t k = 0, *order = arena_alloc(g->a, (l->nrows + 1) * sizeof(*order));
		bool *dup = arena_alloc(g->a, l->nrows + 1);
		if (!order || !dup)
			return OOM(g);
		for (size_t j = 0; j < l->nrows; j++)
			order[j] = j;
		qsort_r(order, l->nrows, sizeof(*order), row_cmp, rows);
		for (size_t j = 1; j < l->nrows; j++)
			if (!strcmp(rows[order[j - 1]].f[PF_EMAIL], rows[order[j]].f[PF_EMAIL])) {
				dup[order[j]] = true;
				not_mapped(g, "group \"%s\": recipient \"%s\" appears twice: kept once", shown(g, l->name),
					   shown(g, rows[order[j]].f[PF_EMAIL]));
			}
		for (size_t j = 0; j < l->nrows; j++)
			if (!dup[j])
				rows[k++] = rows[j];
		l->nrows = k;
	}
	return r;
}

/* ---- templates and pages -> scenarios ---- */

static bool from_parse(struct gp *g, const char *from, const char **name, const char **local, const char **domain);

#define GP_PAGE "gophish:page"          /* the marks of docs/GOPHISH.md */
#define GP_CAMPAIGN "gophish:campaign"

static const char page_mail_html[] = "<!DOCTYPE html>\n<html>\n<body>\n<p><a href=\"{{url}}\">{{url}}</a></p>\n"
				     "</body>\n</html>\n";

/* An education page as the API takes it: an absolute http(s) URL, printable ASCII. */
static bool url_ok(const char *u)
{
	if (strncasecmp(u, "https://", 8) && strncasecmp(u, "http://", 7))
		return false;
	for (const char *c = u; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '"' || *c == '<' || *c == '>')
			return false;
	return strlen(u) > 10 && strlen(u) <= 2000;
}

static const char explain_html[] =
	"<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>これは訓練メールです</title>\n</head>\n<body>\n"
	"<h1>これは訓練メールです</h1>\n"
	"<p>{{名}}さん、このメールは標的型メール訓練のために送られたものです。実際の被害はありません。</p>\n"
	"<p>差出人、件名、リンク先をよく確かめ、不審なメールは開かずに情報システム部門へ報告してください。</p>\n"
	"<h1>This was a training email</h1>\n"
	"<p>It was sent to help you practise spotting phishing. Nothing was harmed.</p>\n"
	"</body>\n</html>\n";

/* "ja" when the text has Japanese characters (hiragana, katakana, CJK), else "en". */
static const char *lang_of(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0xE3 && *p <= 0xE9)
			return "ja";
	return "en";
}

/* A template text converted, with the dropped actions reported. */
static const char *convert(struct gp *g, const char *what, const char *field, const char *in)
{
	const char *out, *dropped;
	int r = gophish_template_convert(slice_from(in), g->a, &out, &dropped);
	if (r < 0)
		return NULL;
	if (dropped[0])
		not_mapped(g, "%s: %s: %s dropped (no Kunren merge field; Kunren adds its own tracking)", what, field,
			   dropped);
	return out;
}

static void html_note(struct gp *g, const char *what, const char *field, const char *html)
{
	_cleanup_free_ char *err = NULL;
	if (html && content_html_check(slice_from(html), &err) < 0)
		not_mapped(g, "%s: %s is not well-formed HTML (%s): imported as it is; the console will ask for a "
			   "fix when it is edited", what, field, err ? err : "?");
}

static int templates_read(struct gp *g, struct mapping *m)
{
	struct table *t = &m->t[T_TEMPLATES];
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf(
		"SELECT id, substr(name, 1, 1000), substr(subject, 1, 4000), substr(text, 1, %d), substr(html, 1, %d), "
		"%s, substr(%s, 1, 1000), substr(%s, 1, 4000) FROM templates ORDER BY id",
		GOPHISH_MAX_HTML + 1, GOPHISH_MAX_HTML + 1, col_or_null(t, "modified_date"),
		col_or_null(t, "envelope_sender"), col_or_null(t, "description"));
	int r = prepare(g, &st, sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *bad = NULL, *name = text_col(g, st, 1, 4000, &bad);
		const char *what = arena_printf(g->a, "template \"%s\"", name ? shown(g, name) : "?");
		const char *subject = text_col(g, st, 2, 16000, &bad), *text = text_col(g, st, 3, GOPHISH_MAX_HTML, &bad);
		const char *html = text_col(g, st, 4, GOPHISH_MAX_HTML, &bad);
		const char *envelope = text_col(g, st, 6, 4000, &bad), *desc = text_col(g, st, 7, 16000, &bad);
		if (!what)
			return sqlite3_finalize(st), OOM(g);
		if (bad) {
			not_mapped(g, "template %lld: not imported: a value is %s (at most %d bytes of mail)",
				   (long long)id, bad, GOPHISH_MAX_HTML);
			continue;
		}
		if (!slice_trim(slice_from(html)).len && !slice_trim(slice_from(text)).len) {
			not_mapped(g, "%s: not imported: it has neither HTML nor text", what);
			continue;
		}
		struct scenario_rec sc = {
			.name = one_line(g, cut(g, slice_trim(slice_from(name)).len ? name : "GoPhish template", 200)),
			.description = cut(g, desc, 2000), .genre = "その他", .type = "URLリンク型",
			.level = "初級", .red_flags_json = "[]", .headers_json = "[]", .explain_html = explain_html,
			.created_at = time_col(st, 5) / 1000, .sender_name = "", .sender_local = "", .sender_domain = "",
			.envelope_from = "", .reply_to = "", .education_url = "",
		};
		if (!sc.created_at)
			sc.created_at = now_unix();
		if (strlen(subject) > 998)
			not_mapped(g, "%s: subject cut to 998 bytes", what);
		sc.subject = one_line(g, cut(g, subject, 998));
		if (!slice_trim(slice_from(sc.subject)).len)
			sc.subject = sc.name;
		/* GoPhish's envelope sender is the template's From (docs/GOPHISH.md) */
		if (envelope[0] && !from_parse(g, envelope, &sc.sender_name, &sc.sender_local, &sc.sender_domain)) {
			sc.sender_name = sc.sender_local = sc.sender_domain = "";
			not_mapped(g, "%s: envelope sender \"%s\" is not an address: not kept", what, shown(g, envelope));
		}
		_cleanup_buf_ struct buf made = BUF_INIT((size_t)8 * GOPHISH_MAX_HTML);
		sc.subject = convert(g, what, "subject", sc.subject);
		sc.text = slice_trim(slice_from(text)).len ? convert(g, what, "text", text) : NULL;
		if (!slice_trim(slice_from(html)).len && sc.text) {
			/* a text-only mail: Kunren sends HTML too, made from the
			 * text, its {{url}} a link (as the /api/ layer does) */
			buf_puts(&made, "<!DOCTYPE html>\n<html>\n<body>\n<pre>");
			for (const char *p = sc.text; *p;) {
				const char *u = strstr(p, "{{url}}");
				size_t n = u ? (size_t)(u - p) : strlen(p);
				buf_put_html(&made, (struct slice){ p, n });
				if (!u)
					break;
				buf_puts(&made, "<a href=\"{{url}}\">{{url}}</a>");
				p = u + 7;
			}
			buf_puts(&made, "</pre>\n</body>\n</html>\n");
			sc.html = arena_strndup(g->a, made.p, made.len);
		} else {
			sc.html = convert(g, what, "HTML", html);
		}
		if (sc.html && !sc.text) {
			buf_reset(&made);
			if (content_html_to_text(&made, slice_from(sc.html)) >= 0)
				sc.text = arena_strndup(g->a, made.p, made.len);
		}
		if (!sc.subject || !sc.html || !sc.text || !sc.name || !sc.description)
			return sqlite3_finalize(st), OOM(g);
		sc.lang = lang_of(sc.html);
		html_note(g, what, "HTML", sc.html);
		_cleanup_buf_ struct buf tracked = BUF_INIT(0);
		if (content_html_track(&tracked, slice_from(sc.html), "https://kunren.invalid/c/CHECK", NULL) >= 0 &&
		    !strstr(tracked.p, "https://kunren.invalid/c/CHECK?l=1."))
			not_mapped(g, "%s: its HTML has no link, so no click can be tracked", what);
		struct store_import_scenario *s = GROW(g, m->im.scenarios, m->im.nscenarios, m->cap_scen);
		struct gp_template *tp = GROW(g, m->templates, m->ntemplates, m->cap_tpl);
		if (!s || !tp)
			return sqlite3_finalize(st), OOM(g);
		s->sc = sc;
		*tp = (struct gp_template){ id, m->im.nscenarios };
	}
	r = rows_end(g, st, r, rc, "reading templates");
	if (r >= 0 && !(m->template_ids = idx_build(g, m->ntemplates, template_id, m->templates)))
		r = OOM(g);
	/* attachments: Kunren builds its own, per target, with a beacon */
	return r < 0 ? r : children_note(g, m, &(struct children){
		T_ATTACHMENTS, "SELECT template_id, substr(name, 1, 200) FROM attachments ORDER BY id",
		"reading attachments",
		m->template_ids, m->ntemplates, template_name, "template", "attachment",
		"Kunren builds its own attachments (docs/SCENARIOS.md); add one to the scenario" });
}

static int pages_read(struct gp *g, struct mapping *m)
{
	struct table *t = &m->t[T_PAGES];
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf("SELECT id, substr(name, 1, 1000), substr(html, 1, %d), %s, %s, "
					     "substr(%s, 1, 1000), %s FROM pages ORDER BY id", GOPHISH_MAX_HTML + 1,
					     col_or_null(t, "capture_credentials"), col_or_null(t, "capture_passwords"),
					     col_or_null(t, "redirect_url"), col_or_null(t, "modified_date"));
	int r = prepare(g, &st, sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *bad = NULL, *name = text_col(g, st, 1, 4000, &bad);
		const char *html = text_col(g, st, 2, GOPHISH_MAX_HTML, &bad), *redirect = text_col(g, st, 5, 4000, &bad);
		const char *what = arena_printf(g->a, "page \"%s\"", name ? shown(g, name) : "?");
		if (!what)
			return sqlite3_finalize(st), OOM(g);
		if (bad) {
			not_mapped(g, "page %lld: not imported: a value is %s", (long long)id, bad);
			continue;
		}
		if (bool_col(st, 4))
			not_mapped(g, "%s: captured passwords are never kept by Kunren: only which fields were filled",
				   what);
		struct scenario_rec sc = {
			.gallery_id = GP_PAGE, .name = one_line(g, cut(g, name[0] ? name : "GoPhish page", 200)),
			.description = "", .genre = "その他", .type = "URLリンク型", .level = "初級",
			.red_flags_json = "[]", .headers_json = "[]", .explain_html = explain_html,
			.html = page_mail_html, .text = "{{url}}\n", .sender_name = "", .sender_local = "",
			.sender_domain = "", .envelope_from = "", .reply_to = "", .education_url = "",
			.created_at = time_col(st, 6) / 1000,
		};
		sc.subject = sc.name;
		sc.landing_html = slice_trim(slice_from(html)).len ? convert(g, what, "HTML", html) : NULL;
		sc.lang = lang_of(html);
		if (!sc.created_at)
			sc.created_at = now_unix();
		if (redirect[0] && url_ok(redirect))
			sc.education_url = redirect;
		else if (redirect[0])
			not_mapped(g, "%s: redirect \"%s\" is not an http(s) address: not kept", what, shown(g, redirect));
		html_note(g, what, "HTML", sc.landing_html);
		struct store_import_scenario *is = GROW(g, m->im.scenarios, m->im.nscenarios, m->cap_scen);
		struct gp_page *pg = GROW(g, m->pages, m->npages, m->cap_pages);
		if (!is || !pg || !sc.name || (html[0] && !sc.landing_html))
			return sqlite3_finalize(st), OOM(g);
		is->sc = sc;
		*pg = (struct gp_page){ id, m->im.nscenarios };
	}
	r = rows_end(g, st, r, rc, "reading pages");
	if (r >= 0 && !(m->page_ids = idx_build(g, m->npages, page_id, m->pages)))
		r = OOM(g);
	return r;
}

/* The scenario of a campaign: its template's without a page, else a copy
 * named after the campaign ("gophish:campaign", as POST /api/campaigns/
 * makes): the template's mail, the page's landing page and redirect. */
static size_t scenario_for(struct gp *g, struct mapping *m, size_t ti, size_t pi, const char *campaign)
{
	if (!pi)
		return m->templates[ti - 1].scenario;
	const struct scenario_rec *mail = &m->im.scenarios[m->templates[ti - 1].scenario - 1].sc;
	const struct scenario_rec *page = &m->im.scenarios[m->pages[pi - 1].scenario - 1].sc;
	struct store_import_scenario *s = GROW(g, m->im.scenarios, m->im.nscenarios, m->cap_scen);
	if (!s)
		return 0;
	s->sc = *mail;
	s->sc.gallery_id = GP_CAMPAIGN;
	s->sc.name = campaign;
	s->sc.landing_html = page->landing_html;
	s->sc.education_url = page->education_url;
	m->ncopies++;
	return m->im.nscenarios;
}

/* ---- smtp -> sending profiles ---- */

/* "Name <local@domain>" or "local@domain" into its parts (arena). */
static bool from_parse(struct gp *g, const char *from, const char **name, const char **local, const char **domain)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	const char *addr = lt && gt ? arena_strndup(g->a, lt + 1, (size_t)(gt - lt - 1)) : from;
	const char *dn = lt && gt ? arena_strndup(g->a, from, (size_t)(lt - from)) : "";
	if (!addr || !dn || !mail_addr_valid(addr))
		return false;
	const char *at = strrchr(addr, '@');
	struct slice n = slice_trim(slice_from(dn));
	if (n.len >= 2 && n.p[0] == '"' && n.p[n.len - 1] == '"')
		n.p++, n.len -= 2;
	*name = one_line(g, cut(g, arena_strndup(g->a, n.p, n.len), 200));
	*local = arena_strndup(g->a, addr, (size_t)(at - addr));
	*domain = arena_strdup(g->a, at + 1);
	return *name && *local && *domain;
}

/* The plaintext of an SMTP password leaves no copy in the arena. */
static void wipe_strp(const char **p)
{
	if (*p && **p)
		sodium_memzero((char *)*p, strlen(*p));
}

static int smtp_read(struct gp *g, struct mapping *m, const struct secret_key *key)
{
	struct table *t = &m->t[T_SMTP];
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf("SELECT id, substr(name, 1, 1000), substr(host, 1, 1000), "
					     "substr(username, 1, 1000), substr(password, 1, 1000), "
					     "substr(from_address, 1, 1000), %s, %s, substr(%s, 1, 100) FROM smtp ORDER BY id",
					     col_or_null(t, "ignore_cert_errors"), col_or_null(t, "modified_date"),
					     col_or_null(t, "interface_type"));
	int r = prepare(g, &st, sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *bad = NULL, *name = text_col(g, st, 1, 4000, &bad), *host = text_col(g, st, 2, 4000, &bad);
		const char *user = text_col(g, st, 3, 4000, &bad);
		_cleanup_(wipe_strp) const char *pw = text_col(g, st, 4, 4000, &bad);
		const char *from = text_col(g, st, 5, 4000, &bad), *itype = text_col(g, st, 8, 400, &bad);
		const char *what = arena_printf(g->a, "sending profile \"%s\"", name ? shown(g, name) : "?");
		struct gp_smtp *sm = GROW(g, m->smtps, m->nsmtp, m->cap_smtp);
		if (!what || !sm)
			return sqlite3_finalize(st), OOM(g);
		sm->id = id;
		sm->name = name ? one_line(g, name) : "?";
		if (bad) {
			not_mapped(g, "sending profile %lld: not imported: a value is %s", (long long)id, bad);
			continue;
		}
		if (!from_parse(g, from, &sm->from_name, &sm->from_local, &sm->from_domain)) {
			sm->from_name = sm->from_local = sm->from_domain = NULL;
			if (from[0])
				not_mapped(g, "%s: from address \"%s\" is not an address", what, shown(g, from));
		}
		if (itype[0] && strcasecmp(itype, "SMTP")) {
			not_mapped(g, "%s: not imported: interface \"%s\" (only SMTP is)", what, shown(g, itype));
			continue;
		}
		/* host:port (GoPhish's form; [v6]:port too) */
		struct sending_profile p = { .name = one_line(g, cut(g, name[0] ? name : "GoPhish SMTP", 200)),
					     .verify_tls = !bool_col(st, 6), .username = one_line(g, cut(g, user, 254)),
					     .helo = "", .connections = 2, .per_connection = 100,
					     .created_at = time_col(st, 7) / 1000 };
		const char *colon = strrchr(host, ':'), *bracket = strchr(host, ']');
		int64_t port = 25;
		if (colon && (!bracket || colon > bracket) &&
		    slice_to_i64(slice_from(colon + 1), 1, 65535, &port) < 0)
			colon = NULL, port = 0;
		p.host = colon ? arena_strndup(g->a, host, (size_t)(colon - host)) : host;
		if (p.host && p.host[0] == '[' && bracket)
			p.host = arena_strndup(g->a, p.host + 1, (size_t)(bracket - host - 1));
		bool host_ok = p.host && p.host[0] && strlen(p.host) <= 253 && port;
		for (const char *c = p.host; host_ok && *c; c++)
			host_ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
				  *c == '.' || *c == '-' || *c == ':' || *c == '_';
		if (!host_ok) {
			not_mapped(g, "%s: not imported: host \"%s\" is not host:port", what, shown(g, host));
			continue;
		}
		p.port = port;
		/* from_address: the profile's default sender (migration 0017) */
		p.from_address = !sm->from_local ? ""
				 : sm->from_name && sm->from_name[0]
					 ? arena_printf(g->a, "%s <%s@%s>", sm->from_name, sm->from_local, sm->from_domain)
					 : arena_printf(g->a, "%s@%s", sm->from_local, sm->from_domain);
		/* GoPhish: TLS from the start on 465, else STARTTLS when offered */
		p.security = port == 465 ? SMTP_SECURITY_TLS : SMTP_SECURITY_STARTTLS;
		if (!p.created_at)
			p.created_at = now_unix();
		_cleanup_buf_ struct buf sealed = BUF_INIT(8192);
		if (pw[0]) {
			if (secret_seal(key, slice_from(pw), &sealed) < 0)
				return sqlite3_finalize(st), fail(g, -EIO, "sealing an SMTP password failed");
			p.password_sealed.p = arena_strndup(g->a, sealed.p, sealed.len);
			p.password_sealed.len = sealed.len;
			if (!p.password_sealed.p)
				return sqlite3_finalize(st), OOM(g);
		}
		struct store_import_profile *ip = GROW(g, m->im.profiles, m->im.nprofiles, m->cap_prof);
		if (!ip || !p.name || !p.username || !p.host || !p.from_address)
			return sqlite3_finalize(st), OOM(g);
		ip->p = p;
		sm->profile = m->im.nprofiles;
	}
	r = rows_end(g, st, r, rc, "reading sending profiles");
	if (r >= 0 && !(m->smtp_ids = idx_build(g, m->nsmtp, smtp_id, m->smtps)))
		r = OOM(g);
	return r < 0 ? r : children_note(g, m, &(struct children){
		T_HEADERS, "SELECT smtp_id, substr(key, 1, 200) FROM headers ORDER BY id", "reading custom headers",
		m->smtp_ids, m->nsmtp, smtp_name, "sending profile", "custom header",
		"Kunren sets extra headers per scenario (its \"headers\")" });
}

/* ---- campaigns, results, events ---- */

static int key_cmp(const void *x, const void *y)
{
	return strcmp(((const struct gp_target_key *)x)->email, ((const struct gp_target_key *)y)->email);
}

static int campaigns_read(struct gp *g, struct mapping *m)
{
	struct table *t = &m->t[T_CAMPAIGNS];
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf("SELECT id, substr(name, 1, 1000), substr(status, 1, 100), template_id, "
					     "page_id, %s, created_date, %s, completed_date, substr(%s, 1, 1000) "
					     "FROM campaigns ORDER BY id",
					     col_or_null(t, "smtp_id"), col_or_null(t, "launch_date"),
					     col_or_null(t, "url"));
	int r = prepare(g, &st, sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *bad = NULL, *name = text_col(g, st, 1, 4000, &bad), *status = text_col(g, st, 2, 400, &bad);
		const char *what = arena_printf(g->a, "campaign \"%s\"", name ? shown(g, name) : "?");
		if (!what)
			return sqlite3_finalize(st), OOM(g);
		if (bad) {
			not_mapped(g, "campaign %lld: not imported: a value is %s", (long long)id, bad);
			continue;
		}
		if (strcmp(status, "Completed")) {
			not_mapped(g, "%s: not imported: it is \"%s\" in GoPhish; only completed campaigns are brought "
				   "over (complete it there first)", what, shown(g, status));
			continue;
		}
		size_t ti = idx_find(m->template_ids, m->ntemplates, int_col(st, 3));
		size_t pi = idx_find(m->page_ids, m->npages, int_col(st, 4));
		size_t si = idx_find(m->smtp_ids, m->nsmtp, int_col(st, 5));
		if (!ti) {
			not_mapped(g, "%s: not imported: its template (%lld) was not imported", what,
				   (long long)int_col(st, 3));
			continue;
		}
		if (!pi && int_col(st, 4))
			not_mapped(g, "%s: its landing page (%lld) was not imported: imported without one", what,
				   (long long)int_col(st, 4));
		const char *cname = one_line(g, cut(g, slice_trim(slice_from(name)).len ? name : "GoPhish campaign", 200));
		size_t sc = cname ? scenario_for(g, m, ti, pi, cname) : 0;
		struct store_import_campaign *ic = GROW(g, m->im.campaigns, m->im.ncampaigns, m->cap_camp);
		struct gp_campaign *gc = GROW(g, m->camps, m->ncamps, m->cap_camps);
		if (!sc || !ic || !gc)
			return sqlite3_finalize(st), OOM(g);
		int64_t created = time_col(st, 6) / 1000, launched = time_col(st, 7) / 1000;
		int64_t done = time_col(st, 8) / 1000;
		created = created ? created : launched ? launched : now_unix();
		launched = launched ? launched : created;
		done = done ? done : launched;
		ic->c = (struct campaign){
			.name = cname, .state = CAMPAIGN_FINISHED, .sender_name = "", .sender_local = "", .sender_domain = "",
			.created_at = created, .launched_at = launched, .finished_at = done, .start_at = launched,
			.ends_at = done, .schedule_json = "{}",
		};
		ic->scenario = sc;
		const struct scenario_rec *mail = &m->im.scenarios[sc - 1].sc;
		if (mail->sender_local[0]) {   /* the template's envelope sender wins, as in GoPhish */
			ic->c.sender_name = mail->sender_name;
			ic->c.sender_local = mail->sender_local;
			ic->c.sender_domain = mail->sender_domain;
		}
		if (si) {
			const struct gp_smtp *sm = &m->smtps[si - 1];
			ic->profile = sm->profile;
			if (!mail->sender_local[0] && sm->from_local) {
				ic->c.sender_name = sm->from_name;
				ic->c.sender_local = sm->from_local;
				ic->c.sender_domain = sm->from_domain;
			} else if (!mail->sender_local[0]) {
				not_mapped(g, "%s: its sender is unknown (the sending profile has no from address)", what);
			}
		} else if (int_col(st, 5)) {
			not_mapped(g, "%s: its sending profile (%lld) was not imported", what, (long long)int_col(st, 5));
		}
		*gc = (struct gp_campaign){ .id = id, .c = m->im.ncampaigns - 1 };
	}
	r = rows_end(g, st, r, rc, "reading campaigns");
	if (r >= 0 && !(m->camp_ids = idx_build(g, m->ncamps, camp_id, m->camps)))
		r = OOM(g);
	return r;
}

static enum target_state status_state(const char *status, bool *ret_known)
{
	static const char *const sent[] = { "Email Sent", "Email Opened", "Clicked Link", "Submitted Data",
					    "Success", "Email Reported" };
	static const char *const unsent[] = { "Scheduled", "Queued", "Sending", "Retrying", "Unknown", "" };
	*ret_known = true;
	for (size_t i = 0; i < ARRAY_SIZE(sent); i++)
		if (!strcmp(status, sent[i]))
			return TARGET_SENT;
	if (!strcmp(status, "Error"))
		return TARGET_ERROR;
	for (size_t i = 0; i < ARRAY_SIZE(unsent); i++)
		if (!strcmp(status, unsent[i]))
			return TARGET_CANCELLED;
	*ret_known = false;
	return TARGET_CANCELLED;
}

static int order_cmp(const void *x, const void *y, void *ctx)
{
	const struct store_import_target *t = ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = strcmp(t[a].p.f[PF_EMAIL], t[b].p.f[PF_EMAIL]);
	return c ? c : a < b ? -1 : a > b;
}

static int targets_dedupe(struct gp *g, struct gp_campaign *gc, struct store_import_campaign *ic)
{
	size_t n = ic->ntargets, k = 0;
	size_t *order = arena_alloc(g->a, (n + 1) * sizeof(*order)), *newi = arena_alloc(g->a, (n + 1) * sizeof(*newi));
	if (!order || !newi)
		return OOM(g);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), order_cmp, ic->targets);
	/* newi[i]: the target i becomes (the first of its address) */
	for (size_t j = 0; j < n; j++) {
		size_t i = order[j];
		if (j && !strcmp(ic->targets[order[j - 1]].p.f[PF_EMAIL], ic->targets[i].p.f[PF_EMAIL])) {
			newi[i] = newi[order[j - 1]];
			not_mapped(g, "campaign \"%s\": target \"%s\" appears twice: kept once", shown(g, ic->c.name),
				   shown(g, ic->targets[i].p.f[PF_EMAIL]));
		} else {
			newi[i] = SIZE_MAX - i;   /* kept: numbered below */
		}
	}
	for (size_t i = 0; i < n; i++)
		if (newi[i] == SIZE_MAX - i) {
			ic->targets[k] = ic->targets[i];
			newi[i] = k++;
		}
	for (size_t i = 0; i < n; i++)
		if (newi[i] >= n)                 /* a repeat: its first's new place */
			newi[i] = newi[SIZE_MAX - newi[i]];
	ic->ntargets = k;
	for (size_t i = 0; i < gc->nkeys; i++)
		gc->keys[i].i = newi[gc->keys[i].i];
	qsort(gc->keys, gc->nkeys, sizeof(*gc->keys), key_cmp);
	return 0;
}

static int results_read(struct gp *g, struct mapping *m)
{
	struct table *t = &m->t[T_RESULTS];
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf("SELECT campaign_id, substr(email, 1, 1000), substr(first_name, 1, 1000), "
					     "substr(last_name, 1, 1000), substr(%s, 1, 1000), substr(status, 1, 100), %s "
					     "FROM results ORDER BY campaign_id, id",
					     col_or_null(t, "position"), col_or_null(t, "send_date"));
	int r = prepare(g, &st, sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t ci = idx_find(m->camp_ids, m->ncamps, sqlite3_column_int64(st, 0));
		if (!ci)
			continue;
		struct gp_campaign *gc = &m->camps[ci - 1];
		struct store_import_campaign *ic = &m->im.campaigns[gc->c];
		const char *bad = NULL, *raw = text_col(g, st, 1, 4000, &bad), *status = text_col(g, st, 5, 400, &bad);
		struct person p = { .f = {
			[PF_EMAIL] = raw, [PF_FIRST_NAME] = text_col(g, st, 2, 4000, &bad),
			[PF_LAST_NAME] = text_col(g, st, 3, 4000, &bad), [PF_POSITION] = text_col(g, st, 4, 4000, &bad),
		} };
		if (bad) {
			not_mapped(g, "campaign \"%s\": a target skipped: a value is %s", shown(g, ic->c.name), bad);
			continue;
		}
		if (!person_ok(g, &p, "campaign", ic->c.name))
			continue;
		bool known;
		struct store_import_target *tg = grow(g->a, (void **)&ic->targets, &ic->ntargets, &gc->cap_t,
						      sizeof(*tg));
		struct gp_target_key *k = GROW(g, gc->keys, gc->nkeys, gc->cap_k);
		if (!tg || !k)
			return sqlite3_finalize(st), OOM(g);
		tg->p = p;
		tg->state = status_state(status, &known);
		if (!known)
			not_mapped(g, "campaign \"%s\": target \"%s\" has the unknown status \"%s\": imported as not sent",
				   shown(g, ic->c.name), shown(g, p.f[PF_EMAIL]), shown(g, status));
		tg->sent_at = tg->state == TARGET_SENT ? time_col(st, 6) / 1000 : 0;
		*k = (struct gp_target_key){ raw, ic->ntargets - 1 };
	}
	r = rows_end(g, st, r, rc, "reading results");
	/* an address once per campaign (the first kept); events of a repeat go
	 * to the kept target, found by GoPhish's own spelling of the address */
	for (size_t i = 0; r >= 0 && i < m->ncamps; i++)
		r = targets_dedupe(g, &m->camps[i], &m->im.campaigns[m->camps[i].c]);
	return r;
}

/* The target of an event by GoPhish's spelling of the address: index + 1, 0: none. */
static size_t target_of(const struct gp_campaign *gc, const char *email)
{
	struct gp_target_key key = { email, 0 };
	const struct gp_target_key *f = gc->nkeys ? bsearch(&key, gc->keys, gc->nkeys, sizeof(key), key_cmp) : NULL;
	return f ? f->i + 1 : 0;
}

static const struct {
	const char *message;
	enum event_kind kind;
} event_kinds[] = {
	{ "Campaign Created", EV_CREATED }, { "Email Sent", EV_SENT }, { "Error Sending Email", EV_SEND_ERROR },
	{ "Email Opened", EV_OPENED }, { "Clicked Link", EV_CLICKED }, { "Submitted Data", EV_SUBMITTED },
	{ "Email Reported", EV_REPORTED },
};

/* A client address as the tracker would keep it, or NULL. */
static const char *ip_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > 45)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF:.", s[i]))
			return NULL;
	return s;
}

/* Reads GoPhish's details ({"payload": {...}, "browser": {"address",
 * "user-agent"}} or {"error": ...}) into the event: the client, the names
 * of the fields sent (never their values) or the send error. */
static void details_read(struct gp *g, const char *details, struct store_import_event *e, const char **ret_error)
{
	json_error_t jerr;
	json_auto_t *j = details && details[0] ? json_loads(details, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	json_t *browser = json_object_get(j, "browser"), *payload = json_object_get(j, "payload");
	const char *ip = json_string_value(json_object_get(browser, "address"));
	const char *ua = json_string_value(json_object_get(browser, "user-agent"));
	e->ip = ip_ok(ip) ? arena_strdup(g->a, ip) : NULL;
	if (ua && strlen(ua) <= 1024)
		e->user_agent = one_line(g, ua);
	if (e->kind == EV_SUBMITTED) {
		json_auto_t *names = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(payload, k, v) {
			if (!strcmp(k, "rid") || strlen(k) > 64 || json_array_size(names) >= 64)
				continue;
			json_array_append_new(names, json_string(k));
		}
		json_auto_t *d = json_pack("{s:O}", "fields", names);
		char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;
		e->detail = s ? arena_strdup(g->a, s) : NULL;
		free(s);
	} else if (e->kind == EV_SEND_ERROR) {
		const char *msg = json_string_value(json_object_get(j, "error"));
		*ret_error = one_line(g, cut(g, msg ? msg : "", 1000));
		json_auto_t *d = json_pack("{s:s}", "error", *ret_error);
		char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;
		e->detail = s ? arena_strdup(g->a, s) : NULL;
		free(s);
	}
}

struct unknown_message {
	const char *message;
	int64_t n;
};

static int events_read(struct gp *g, struct mapping *m)
{
	struct table *t = &m->t[T_EVENTS];
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf("SELECT campaign_id, substr(email, 1, 1000), time, substr(message, 1, 200), "
					     "CAST(substr(%s, 1, 65537) AS TEXT) FROM events ORDER BY campaign_id, id",
					     col_or_null(t, "details"));
	struct unknown_message *unknown = NULL;
	size_t nunknown = 0, cap_unknown = 0;
	int r = prepare(g, &st, sql), rc = SQLITE_DONE;
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t ci = idx_find(m->camp_ids, m->ncamps, sqlite3_column_int64(st, 0));
		if (!ci)
			continue;
		struct gp_campaign *gc = &m->camps[ci - 1];
		struct store_import_campaign *ic = &m->im.campaigns[gc->c];
		const char *bad = NULL, *email = text_col(g, st, 1, 4000, &bad), *msg = text_col(g, st, 3, 800, &bad);
		const char *details = text_col(g, st, 4, 65536, &bad);
		if (!email || !msg) {
			gc->bad_time++;
			continue;
		}
		size_t k = 0;
		while (k < ARRAY_SIZE(event_kinds) && strcmp(msg, event_kinds[k].message))
			k++;
		if (k == ARRAY_SIZE(event_kinds)) {
			size_t u = 0;
			while (u < nunknown && strcmp(unknown[u].message, msg))
				u++;
			if (u == nunknown) {
				struct unknown_message *um = GROW(g, unknown, nunknown, cap_unknown);
				if (!um)
					return sqlite3_finalize(st), OOM(g);
				um->message = msg;
			}
			unknown[u].n++;
			continue;
		}
		struct store_import_event e = { .kind = event_kinds[k].kind, .at_ms = time_col(st, 2) };
		if (!e.at_ms) {
			gc->bad_time++;
			continue;
		}
		if (e.kind == EV_CREATED) {
			if (gc->has_created)
				continue;
			gc->has_created = true;
		} else if (!(e.target = target_of(gc, email))) {
			gc->unmatched++;
			continue;
		}
		const char *error = NULL;
		details_read(g, details, &e, &error);
		struct store_import_event *slot = grow(g->a, (void **)&ic->events, &ic->nevents, &gc->cap_e, sizeof(*slot));
		if (!slot)
			return sqlite3_finalize(st), OOM(g);
		*slot = e;
		/* a target's delivery follows its events: sent when a mail went */
		struct store_import_target *tg = e.target ? &ic->targets[e.target - 1] : NULL;
		if (tg && e.kind == EV_SENT) {
			tg->state = TARGET_SENT;
			tg->error = NULL;
			if (!tg->sent_at || tg->sent_at > e.at_ms / 1000)
				tg->sent_at = e.at_ms / 1000;
		} else if (tg && e.kind == EV_SEND_ERROR && tg->state != TARGET_SENT) {
			tg->state = TARGET_ERROR;
			tg->error = error;
		}
	}
	r = rows_end(g, st, r, rc, "reading events");
	for (size_t u = 0; r >= 0 && u < nunknown; u++)
		not_mapped(g, "event \"%s\" (%lld): not imported: it has no Kunren counterpart",
			   shown(g, unknown[u].message), (long long)unknown[u].n);
	for (size_t i = 0; r >= 0 && i < m->ncamps; i++) {
		struct gp_campaign *gc = &m->camps[i];
		struct store_import_campaign *ic = &m->im.campaigns[gc->c];
		if (gc->unmatched)
			not_mapped(g, "campaign \"%s\": %lld events of addresses that are not its targets skipped",
				   shown(g, ic->c.name), (long long)gc->unmatched);
		if (gc->bad_time)
			not_mapped(g, "campaign \"%s\": %lld events without a readable time or text skipped",
				   shown(g, ic->c.name), (long long)gc->bad_time);
		if (!gc->has_created) {   /* Kunren's campaigns always have their 訓練作成 */
			struct store_import_event *slot = grow(g->a, (void **)&ic->events, &ic->nevents, &gc->cap_e,
							       sizeof(*slot));
			if (!slot)
				return OOM(g);
			*slot = (struct store_import_event){ .kind = EV_CREATED, .at_ms = ic->c.created_at * 1000 };
		}
		for (size_t k = 0; k < ic->ntargets; k++)
			if (ic->targets[k].state == TARGET_SENT && !ic->targets[k].sent_at)
				ic->targets[k].sent_at = ic->c.launched_at;
	}
	return r;
}

/* ---- the rest: what has no counterpart at all ---- */

static int64_t rows_of(struct gp *g, const struct table *t, const char *where)
{
	sqlite3_stmt *st = NULL;
	_cleanup_free_ char *sql = xasprintf("SELECT count(*) FROM \"%s\"%s", t->name, where);
	if (!t->cols || sqlite3_prepare_v2(g->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return n;
}

static void leftovers(struct gp *g, struct mapping *m)
{
	int64_t n = rows_of(g, &m->t[T_USERS], "");
	if (n)
		not_mapped(g, "%lld GoPhish user account%s: not imported: create Kunren accounts (kunren user add)",
			   (long long)n, n == 1 ? "" : "s");
	if ((n = rows_of(g, &m->t[T_IMAP], "")))
		not_mapped(g, "IMAP settings (%lld): not imported: set the tenant's report mailbox in the console "
			   "(報告メールボックス); its password is not carried over", (long long)n);
	if ((n = rows_of(g, &m->t[T_WEBHOOKS], "")))
		not_mapped(g, "%lld webhook%s: not imported: Kunren's webhooks are per tenant and signed differently; "
			   "add them again", (long long)n, n == 1 ? "" : "s");
}

/* ---- the whole import ---- */

/* file:PATH?mode=ro with PATH percent-encoded where a URI needs it. */
static char *ro_uri(const char *path)
{
	_cleanup_buf_ struct buf b = BUF_INIT(16384);
	buf_puts(&b, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#' || *p <= 0x20 || *p >= 0x7f)
			buf_printf(&b, "%%%02X", *p);
		else
			buf_putc(&b, (char)*p);
	buf_puts(&b, "?mode=ro");
	return buf_steal(&b);
}

static int open_ro(struct gp *g, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return fail(g, -ENOENT, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return fail(g, -ENOTSUP, "%s: not a GoPhish database: not a file", path);
	_cleanup_free_ char *uri = ro_uri(path);
	int rc = sqlite3_open_v2(uri, &g->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return fail(g, -EIO, "%s: %s", path, g->db ? sqlite3_errmsg(g->db) : sqlite3_errstr(rc));
	/* the file is outside input: no code in its schema (views,
	 * triggers) may do more than read, no value beyond the bound */
	sqlite3_db_config(g->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
	sqlite3_db_config(g->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
#endif
	sqlite3_limit(g->db, SQLITE_LIMIT_LENGTH, GOPHISH_MAX_VALUE);
	sqlite3_busy_timeout(g->db, 5000);
	g->deadline_ms = now_ms() + (int64_t)GOPHISH_READ_SECONDS * 1000;
	sqlite3_progress_handler(g->db, 10000, read_deadline, g);
	char *err = NULL;
	if (sqlite3_exec(g->db, "PRAGMA query_only = 1", NULL, NULL, &err) != SQLITE_OK) {
		sqlite3_free(err);
		return db_fail(g, path);
	}
	/* one read transaction: a consistent picture while GoPhish may run */
	if (sqlite3_exec(g->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(g, path);
	return 0;
}

int gophish_import(struct store *s, const char *path, const struct gophish_import_options *o, struct buf *out,
		   struct gophish_counts *ret, char **ret_err)
{
	struct gp g = { .a = arena_new(GOPHISH_MAX_MEMORY), .out = out };
	struct mapping m = { 0 };
	struct tenant ten;
	int r;
	memcpy(m.t, tables_init, sizeof(m.t));
	if ((r = store_tenant_get(s, o->tenant_id, g.a, &ten)) < 0)
		r = fail(&g, r, r == -ENOENT ? "tenant %lld does not exist" : "tenant %lld: %s", (long long)o->tenant_id,
			 strerror(-r));
	if (r >= 0)
		r = open_ro(&g, path);
	if (r >= 0)
		r = tables_read(&g, m.t);
	if (r >= 0)
		buf_printf(out, "GoPhish database %s into tenant %lld \"%s\"%s\n", path, (long long)ten.id,
			   shown(&g, ten.name), o->dry_run ? " (dry run: nothing is written)" : "");
	if (r >= 0)
		r = groups_read(&g, &m);
	if (r >= 0)
		r = templates_read(&g, &m);
	if (r >= 0)
		r = pages_read(&g, &m);
	if (r >= 0)
		r = smtp_read(&g, &m, o->key);
	if (r >= 0)
		r = campaigns_read(&g, &m);
	if (r >= 0)
		r = results_read(&g, &m);
	if (r >= 0)
		r = events_read(&g, &m);
	if (r >= 0)
		leftovers(&g, &m);
	if (r >= 0 && arena_failed(g.a))
		r = OOM(&g);
	if (g.db)
		sqlite3_close_v2(g.db);   /* ends the read transaction */

	struct gophish_counts c = { .lists = (int64_t)m.im.nlists, .scenarios = (int64_t)m.im.nscenarios,
				    .profiles = (int64_t)m.im.nprofiles, .campaigns = (int64_t)m.im.ncampaigns };
	for (size_t i = 0; i < m.im.nlists; i++)
		c.recipients += (int64_t)m.im.lists[i].nrows;
	for (size_t i = 0; i < m.im.ncampaigns; i++) {
		c.targets += (int64_t)m.im.campaigns[i].ntargets;
		c.events += (int64_t)m.im.campaigns[i].nevents;
	}
	if (r >= 0) {
		m.im.audit_detail = arena_printf(g.a, "GoPhish import (%s): %lld lists, %lld scenarios, %lld sending "
					    "profiles, %lld campaigns, %lld targets, %lld events", path,
					    (long long)c.lists, (long long)c.scenarios, (long long)c.profiles,
					    (long long)c.campaigns, (long long)c.targets, (long long)c.events);
		if (!o->dry_run && (r = store_import(s, o->tenant_id, &m.im)) < 0)
			r = fail(&g, r, "writing into Kunren's database failed (%s): nothing was imported",
				 strerror(-r));
	}
	if (r >= 0) {
		buf_printf(out, "imported: %lld lists (GoPhish groups) with %lld recipients\n", (long long)c.lists,
			   (long long)c.recipients);
		buf_printf(out, "imported: %lld scenarios (%zu GoPhish templates, %zu pages, %zu campaign copies)\n",
			   (long long)c.scenarios, m.ntemplates, m.npages, m.ncopies);
		buf_printf(out, "imported: %lld sending profiles (GoPhish SMTP; passwords sealed)\n", (long long)c.profiles);
		buf_printf(out, "imported: %lld finished campaigns with %lld targets and %lld events\n",
			   (long long)c.campaigns, (long long)c.targets, (long long)c.events);
		buf_printf(out, "%lld thing%s not mapped%s\n", (long long)g.not_mapped, g.not_mapped == 1 ? "" : "s",
			   g.not_mapped > GOPHISH_MAX_REPORTED ? " (the first ones listed above)"
			   : g.not_mapped ? " (listed above)" : "");
		if (ret)
			*ret = c;
	} else {
		*ret_err = g.err ? g.err : xasprintf("%s", strerror(-r));
		g.err = NULL;
	}
	free(g.err);
	arena_free(g.a);
	return r < 0 ? r : 0;
}
