/*
 * core — the pieces every other module stands on: growable capped buffers,
 * slices, arenas, logging, the configuration table, random ids, time zones,
 * escaping and JSON helpers, cleanup macros.  Uses libc and jansson only.
 *
 * Conventions (see ../shared/STYLE.md): functions return int, >= 0 on
 * success and a negative errno value on failure; output parameters start with
 * ret_ and are written only on success; _new/_free for heap objects, with
 * _free(NULL) a no-op; _init/_release for embedded values.
 */
#ifndef KUNREN_CORE_H
#define KUNREN_CORE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/banned.h"

/* ---- invariants, allocation, cleanup ---------------------------------- */

#define BUG_ON(cond) do { if (cond) core_bug(__FILE__, __LINE__, #cond); } while (0)
_Noreturn void core_bug(const char *file, int line, const char *what);

/* Out of memory aborts: only ever called with sizes we control or capped. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overflow-checked size arithmetic; aborts on overflow (a bug, never input). */
size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_fclose_ _cleanup_(fclosep)


/* ---- slices: non-owning views ------------------------------------------ */

struct slice {
	const char *p;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })
struct slice slice_from(const char *s);            /* s may be NULL: empty */
bool slice_eq(struct slice a, struct slice b);
bool slice_eq_str(struct slice a, const char *s);
bool slice_starts_with(struct slice a, const char *prefix);
struct slice slice_trim(struct slice a);           /* ASCII white space */
/* Splits at the first `sep`: *ret_head is before it, the slice returned is
 * after it (empty if `sep` is absent, in which case *ret_head is all of a). */
struct slice slice_cut(struct slice a, char sep, struct slice *ret_head);
/* Parses a whole slice as a decimal integer in [min, max]. */
int slice_to_i64(struct slice a, int64_t min, int64_t max, int64_t *ret);

/* ---- buf: growable, capped, always NUL-terminated ---------------------- */

/*
 * struct buf owns p (heap) once anything was appended; before that p points
 * at a shared empty string, so b.p is always a valid C string.  Appending
 * beyond `max` bytes fails with -E2BIG and leaves the buffer as it was.
 * Release with buf_release(); buf_steal() hands p to the caller (free()).
 */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_MAX_DEFAULT ((size_t)64 << 20)
extern char buf__empty[1];
/* For declarations, so a cleanup never sees an uninitialised buf:
 *   _cleanup_buf_ struct buf b = BUF_INIT(4096);   (0: BUF_MAX_DEFAULT) */
static inline size_t buf__max(size_t m) { return m ? m : BUF_MAX_DEFAULT; }
#define BUF_INIT(m) ((struct buf){ .p = buf__empty, .max = buf__max(m) })
void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_put_slice(struct buf *b, struct slice s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
char *buf_steal(struct buf *b);                     /* caller frees; b is reset */
static inline struct slice buf_slice(const struct buf *b) { return (struct slice){ b->p, b->len }; }
static inline void buf_releasep(struct buf *b) { buf_release(b); }
#define _cleanup_buf_ _cleanup_(buf_releasep)

/* Escaping: one function per output context, each appending to a buf. */
int buf_put_html(struct buf *b, struct slice s);     /* & < > " ' */
int buf_put_url(struct buf *b, struct slice s);      /* RFC 3986 unreserved kept */
int buf_put_csv(struct buf *b, struct slice s);      /* RFC 4180 field, quoted if needed */
/* A cell starting with one of = + - @ TAB CR could run as a formula in a
 * spreadsheet: buf_put_csv puts a ' in front of it (CSV injection). */
bool csv_formula_char(char c);
int buf_put_json_str(struct buf *b, struct slice s); /* "..." with escapes */
/* Copies s, each byte that is not part of valid UTF-8 (and NUL) becoming
 * U+FFFD: for text from outside (headers, replies) that must be UTF-8. */
int buf_put_utf8(struct buf *b, struct slice s);

/* ---- arena: many allocations, one free --------------------------------- */

/*
 * An arena hands out memory that lives until arena_free().  Allocation
 * beyond `max` total bytes returns NULL (callers turn that into -ENOMEM /
 * 413); used for everything a request allocates.
 */
struct arena;
struct arena *arena_new(size_t max);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);       /* zeroed, 16-aligned */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s); /* NULL -> NULL */
char *arena_slice(struct arena *a, struct slice s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True once any allocation from `a` has failed (sticky): readers that fill
 * many records check it once at the end instead of after every string. */
bool arena_failed(const struct arena *a);

/* ---- logging ------------------------------------------------------------ */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void log_set_level(enum log_level level);
/* log_format: logfmt (the default) or json lines {"time","level","msg"}. */
enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };
void log_set_format(enum log_format f);
int log_format_parse(const char *s, enum log_format *ret); /* -EINVAL: unknown */
/* One line per call, logfmt style: time=... level=... msg="..." (or JSON) */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* ---- configuration ------------------------------------------------------ */

/*
 * Every option lives in one table (config.c): name, type, default, bounds,
 * the environment variable that overrides it and a help line.  Precedence:
 * defaults < file < environment < --name=value flags.
 */
struct config {
	char *data_dir;
	char *database_url;
	char *mode;                   /* serve: all, console or tracker */
	int64_t node_lease_seconds;
	char *console_listen;    /* host:port */
	char *tracker_listen;    /* host:port */
	char *tracker_url;       /* public base URL of the tracking server */
	char *console_url;       /* public base URL of the console */
	char *console_tls_cert, *console_tls_key; /* PEM files; empty: plain HTTP (http/tls.c) */
	char *tracker_tls_cert, *tracker_tls_key;
	char *tracker_redirect_listen;            /* plain HTTP, 301 to the https tracker_url */
	char *smtp_url;          /* empty: write mail to the outbox folder */
	char *smtp_user;
	char *smtp_password;
	bool smtp_verify_tls;
	char *helo_name;
	char *notice_from;
	char *web_dir;           /* empty: serve the console embedded in the binary */
	char *time_zone;         /* default for new tenants */
	int64_t http_threads;
	int64_t max_body_bytes;
	int64_t session_idle_minutes;
	int64_t session_max_hours;
	int64_t delivery_batch;
	int64_t login_max_failures, login_lock_minutes;        /* account lock-out */
	int64_t login_ip_max_failures, login_ip_window_minutes; /* throttling per client address */
	int64_t clock_offset_seconds;  /* tests only: shifts the tenant-deletion job's clock */
	int64_t smtp_connections, smtp_per_connection, smtp_retries, smtp_retry_seconds;
	int64_t report_poll_seconds;   /* 報告: how often report mailboxes are read */
	bool report_imap_allow_plain;   /* 報告: report mailboxes may use security "none" */
	bool report_imap_allow_private; /* 報告: ... and loopback/private/link-local addresses */
	bool webhook_allow_private;     /* webhooks (part 5): URLs may reach this server's own network */
	int64_t webhook_timeout_seconds, webhook_retry_seconds, webhook_max_attempts;
	char *trusted_proxies;           /* tracker: peers whose X-Forwarded-For is believed */
	int64_t tracker_timeout_seconds; /* tracker: idle connections are closed after this */
	char *uap_regexes;       /* uap-core's regexes.yaml, for user agents */
	char *log_level;
	char *log_format;        /* logfmt or json (core/log.c) */
	char *metrics_token;     /* GET /metrics from non-loopback clients; empty: loopback only */
};

enum config_type { CONFIG_STRING, CONFIG_INT, CONFIG_BOOL };
struct config_option {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	int64_t min, max;
	const char *env;
	const char *help;
};

extern const struct config_option config_options[];
extern const size_t config_options_count;

void config_init(struct config *c);                 /* embedded defaults */
void config_release(struct config *c);
/* Reads a file of `name = value` lines (# comments).  A missing file is fine
 * when `optional`.  Errors name the file and line in ret_err (caller frees). */
int config_load_file(struct config *c, const char *path, bool optional, char **ret_err);
int config_load_env(struct config *c, char **ret_err);
/* Consumes --name=value arguments; others are left for the caller. */
int config_load_flags(struct config *c, int *argc, char **argv, char **ret_err);
int config_set(struct config *c, const char *name, const char *value, char **ret_err);

/* ---- random ids ---------------------------------------------------------- */

/* Fills buf with n random bytes from the kernel (getrandom); aborts on failure. */
void random_bytes(void *buf, size_t n);
/* Writes `len` characters from [A-Za-z0-9] plus NUL; uniform, unguessable. */
void id_random(char *out, size_t len);
/* This process's node id ("" until set): several `kunren serve` on one
 * database tell their work apart by it (serve keeps it in the data folder,
 * so a node started again knows its own earlier work). */
void node_id_set(const char *id);
const char *node_id(void);
#define RID_LEN 20  /* ~119 bits */

/* ---- time ---------------------------------------------------------------- */

struct civil {
	int year, month, day, hour, min, sec, wday; /* wday: 0 = Sunday */
};

/* A loaded IANA zone (from /usr/share/zoneinfo).  Zones are cached and
 * never freed: tz_get() returns NULL for an unknown or malformed name. */
struct tz;
const struct tz *tz_get(const char *name);
const char *tz_name(const struct tz *z);
int tz_offset(const struct tz *z, int64_t utc);     /* seconds east of UTC */
void civil_from_unix(int64_t t, struct civil *ret);
int64_t unix_from_civil(const struct civil *c);
/* "2024/4/6 10:03" (G6).  Appends nothing for t == 0. */
int tz_put_csv_time(struct buf *b, const struct tz *z, int64_t t);
/* "2024-04-06T10:03:00+09:00" */
int tz_put_iso(struct buf *b, const struct tz *z, int64_t t);
int64_t now_unix(void);
int64_t now_ms(void);
int64_t mono_ms(void); /* CLOCK_MONOTONIC: for intervals, never stepped */

/* ---- JSON helpers (jansson) ---------------------------------------------- */

/* Reads a field of an object; returns -EINVAL with a message naming the field
 * in *ret_msg (static string or arena copy) when missing or of the wrong type.
 * Optional getters leave *ret untouched when the key is absent. */
int json_get_str(json_t *o, const char *key, bool required, size_t max_len,
		 const char **ret, const char **ret_msg);
int json_get_int(json_t *o, const char *key, bool required, int64_t min, int64_t max,
		 int64_t *ret, const char **ret_msg);
int json_get_bool(json_t *o, const char *key, bool required, bool *ret, const char **ret_msg);
/* Dumps compactly into b (UTF-8, no ASCII escaping). */
int json_put(struct buf *b, const json_t *j);

/* ---- files embedded in the binary (scripts/embed) ----------------------- */

struct embedded_file {
	const char *path;
	const unsigned char *data;
	size_t len;
};
extern const struct embedded_file embedded_files[];
extern const size_t embedded_files_count;
const struct embedded_file *embedded_find(const char *path);

/* ---- files --------------------------------------------------------------- */

/* Reads a whole file of at most max bytes into b. */
int file_read(const char *path, size_t max, struct buf *b);
/* Writes atomically: temp file in the same folder, fsync, rename. */
int file_write_atomic(const char *path, const void *data, size_t len);
int mkdir_p(const char *path, unsigned mode);

/* ---- secrets at rest (secret.c, libsodium secretbox) -------------------- */

struct secret_key {
	unsigned char k[32];
};
/* Reads the server's key file, or creates it (0600, random) when missing:
 * 1 created, 0 read, -EINVAL for a file of the wrong size. */
int secret_key_load(const char *path, struct secret_key *ret);
/* Appends nonce + ciphertext + tag of plain. */
int secret_seal(const struct secret_key *k, struct slice plain, struct buf *out);
/* Appends the plain text; -EBADMSG when sealed was not made with k or was altered. */
int secret_open(const struct secret_key *k, struct slice sealed, struct buf *out);
/* Zeroes a buf that held a secret (its whole allocation); it stays usable. */
void secret_wipe(struct buf *b);

/* UTF-8 validity of a byte string (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

#endif
