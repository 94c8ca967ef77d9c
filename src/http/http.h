/*
 * http — a small wrapper over libmicrohttpd: one server per listener, a
 * route table matched by method and path pattern, a per-request arena, a
 * capped request body, and responses built in a buf.
 *
 * Ownership: everything reachable from a struct http_request (strings,
 * params, body) lives in req->arena and is freed after the response is
 * queued.  Handlers allocate from req->arena too.
 *
 * See docs/internals/HTTP.md for the life of a request.
 */
#ifndef KUNREN_HTTP_H
#define KUNREN_HTTP_H

#include "core/core.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 16

struct http_request {
	const char *method;        /* "GET", "POST", ...; HEAD is routed as GET */
	bool head;                 /* the request was HEAD */
	const char *path;          /* URL path, percent-decoded, no query */
	const char *remote_ip;     /* peer address as text (IPv4 or IPv6) */
	struct arena *arena;
	struct slice body;         /* whole body, at most the route's max_body */
	const char *params[HTTP_MAX_PARAMS]; /* {name} segments, in pattern order */
	size_t nparams;
	void *app;                 /* as given to http_server_new */
	void *auth;                /* for the application's own use */
	void *conn;                /* struct MHD_Connection, module-private */
};

struct http_response {
	int status;
	const char *content_type;  /* static or arena string */
	struct buf body;
	const char *headers[HTTP_MAX_HEADERS][2];
	size_t nheaders;
	void *stream;              /* set by http_stream_start (stream.c): the body is
				    * written later; NULL for an ordinary response */
};

typedef void (*http_handler_fn)(struct http_request *req, struct http_response *res);

struct http_route {
	const char *method;        /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern;       /* "/api/v1/lists/{id}/import"; a final "*" matches any rest */
	/* Segments match exactly (no trailing-slash magic).  "{name}" captures a
	 * non-empty decoded segment, "{name}.gif" one ending in ".gif" (without
	 * it); "*" captures the decoded rest, '/' included.  The first route in
	 * table order whose method and pattern match wins. */
	http_handler_fn fn;
	size_t max_body;           /* 0: the server default */
};

struct http_server_options {
	const char *listen;        /* "host:port"; port 0 picks a free one */
	unsigned threads;          /* 0: 1 */
	size_t max_body;           /* default cap for routes without their own; 0: 1 MiB */
	const struct http_route *routes; /* not copied: must outlive the server */
	size_t nroutes;
	http_handler_fn not_found; /* when nothing matches (NULL: JSON 404) */
	const char *const *default_headers; /* NULL-terminated name, value pairs; a
					     * handler's header of the same name wins */
	void *app;
	unsigned timeout;          /* seconds a connection may stay idle (slow clients); 0: 30 */
	size_t connection_memory;  /* per-connection pool: request line + headers must fit
				    * (else MHD answers 414 or 431 itself); 0: 64 KiB */
	size_t max_uri;            /* longer request targets get 414; 0: only the pool's limit */
	unsigned connection_limit; /* connections at once (streams hold theirs); 0: 1000 */
	unsigned per_ip_limit;     /* connections at once from one address; 0: no limit */
	/* When set, called instead of a matched route's handler with that
	 * handler (not for not_found): the application's one place for what
	 * wraps every route (the console's idempotency keys).  It must call
	 * fn, or answer in its place. */
	void (*around)(struct http_request *req, struct http_response *res, http_handler_fn fn);
	/* enum metric_listener (core/metrics.h): the latency histogram this
	 * listener's requests go to (first byte to response sent); 0: none */
	unsigned metrics_listener;
	/* TLS (tls.c): PEM files of the certificate (its chain after it) and
	 * of its unencrypted private key.  Both NULL or "": plain HTTP; one
	 * without the other is an error.  http_server_tls_reload reads them
	 * again. */
	const char *tls_cert, *tls_key;
	/* Non-zero: "Strict-Transport-Security: max-age=<this>" on every
	 * response (a handler's own header wins). */
	unsigned hsts_max_age;
	/* Set: nothing is routed; every request is redirected to this base
	 * ("https://host:port", no trailing slash) + its request target as
	 * received (path and query): 301 for GET and HEAD, 308 for others. */
	const char *redirect_base;
};

/* Starts listening at once.  On failure returns NULL and *ret_err (caller frees). */
struct http_server *http_server_new(const struct http_server_options *o, char **ret_err);
void http_server_free(struct http_server *s);  /* stops and waits; NULL is a no-op */
int http_server_port(const struct http_server *s); /* the port actually bound */
bool http_server_tls(const struct http_server *s); /* serves https */
/* Reads tls_cert and tls_key again: handshakes from now on use the new
 * pair, connections already open keep theirs (docs/internals/HTTP.md,
 * "TLS").  On failure the old pair stays and *ret_err names the file
 * (caller frees).  A plain-HTTP server: 0, nothing done. */
int http_server_tls_reload(struct http_server *s, char **ret_err);

/*
 * Answering later (docs/internals/HTTP.md, "Suspend and resume").  A handler
 * that must wait for something (the tracker: its event's group commit)
 * builds its response as usual, then calls http_suspend(), and returns: the
 * connection is suspended at once, its worker thread goes on with other
 * connections, and the response is kept.  http_resume(token), from any
 * thread, exactly once, lets the kept response go out;
 * http_resume_status() replaces its status first (e.g. 503 when the work
 * failed).  The request (arena, strings) stays valid until the response is
 * sent, so the token may be used until http_resume returns and never after.
 * Every suspended request must be resumed before http_server_free (MHD
 * aborts on a daemon stopped with suspended connections).  Only from
 * within a handler, at most once per request.  NULL for a request that has
 * no connection (built by hand in a test or fuzz target): the handler
 * must then do its waiting in place.
 */
void *http_suspend(struct http_request *req);
/* Whether the handler called http_suspend (its response goes out later):
 * for a wrapper (the `around` hook) that must not keep such a response.
 * False for a request built by hand. */
bool http_suspended(const struct http_request *req);
/* The request target as received (path and query, still percent-encoded);
 * for a request built by hand, its path. */
const char *http_target(const struct http_request *req);
void http_resume(void *token);
void http_resume_status(void *token, int status);

/* ---- streaming responses (stream.c) ----
 *
 * A response whose body is written later, piece by piece, from any thread:
 * server-sent events.  The handler sets status and headers as usual and
 * calls http_stream_start last; the body it built is dropped.  While no
 * bytes are waiting the connection is suspended (no MHD thread blocks);
 * http_stream_write appends and resumes it.  Two owners: the connection
 * (until the client is gone) and the caller (until http_stream_end).
 * Every stream must be ended before http_server_free (suspended
 * connections abort MHD's shutdown): its owner ends them first.
 */
struct http_stream;
/* NULL (and a 500 in res) when out of memory.  The caller owns one reference. */
struct http_stream *http_stream_start(struct http_request *req, struct http_response *res);
/* Queues bytes; -EPIPE once the client is gone, -ENOBUFS when more than
 * HTTP_STREAM_BACKLOG bytes wait (a client that does not read). */
#define HTTP_STREAM_BACKLOG ((size_t)1 << 20)
int http_stream_write(struct http_stream *s, struct slice data);
/* True once the connection is over (the caller should end its reference). */
bool http_stream_closed(struct http_stream *s);
/* Ends the body after what is queued and drops the caller's reference:
 * s must not be used after.  NULL is a no-op. */
void http_stream_end(struct http_stream *s);

/* Request accessors; the strings live in req->arena.  NULL when absent
 * (or holding a NUL byte); a query key without '=' ("?flag") gives "". */
const char *http_query(struct http_request *req, const char *key);
const char *http_header(struct http_request *req, const char *name);
const char *http_cookie(struct http_request *req, const char *name);
/* Every line of a header that may repeat, joined with ", " in the order
 * received (RFC 9110 5.3): X-Forwarded-For added as a second line by a
 * proxy must not hide behind the client's own first line.  NULL when
 * absent or longer than HTTP_HEADER_ALL_MAX. */
#define HTTP_HEADER_ALL_MAX 8192
const char *http_header_all(struct http_request *req, const char *name);
/* Parses an application/x-www-form-urlencoded body; calls fn per pair
 * (decoded, in arena).  Returns -EINVAL on malformed escapes.
 * Empty pieces ("&&") are skipped, "key" alone has the value "", a repeated
 * key is reported at each occurrence.  The whole body is checked before fn
 * is first called (-EINVAL; -E2BIG past 1000 pairs); a negative return from
 * fn stops the walk and is returned; -ENOMEM when the arena is full.  Returns
 * the number of pairs on success.  Needs only req->arena, no connection. */
int http_form_each(struct http_request *req, struct slice body,
		   int (*fn)(void *ctx, const char *name, const char *value), void *ctx);
/* Percent-decodes s ('+' as space when `plus`); NULL on a bad escape.
 * A NUL byte, raw or as %00, counts as a bad escape (the result is a C
 * string); NULL also when the arena is full. */
char *http_url_decode(struct arena *a, struct slice s, bool plus);

/* Response helpers. Header names and values are copied into the arena.
 * More than HTTP_MAX_HEADERS headers is a bug (BUG_ON); a header with CR or
 * LF is dropped when the response is sent. */
void http_response_header(struct http_request *req, struct http_response *res,
			  const char *name, const char *value);
void http_response_text(struct http_response *res, int status, const char *type, struct slice body);
/* Sets the body to j's compact form; steals the reference to j.  A NULL j
 * (a failed jansson constructor) gives a 500 error. */
void http_response_json(struct http_response *res, int status, json_t *j);
/* {"error": {"code", "message", "details"}}; steals details (may be NULL). */
void http_response_error(struct http_response *res, int status, const char *code,
			 const char *message, json_t *details);
void http_response_redirect(struct http_request *req, struct http_response *res, int status,
			    const char *location);

/* Serves `rel` (no leading slash, e.g. "index.html") from `dir` when dir is
 * non-empty, else from the files embedded under "web/".  Rejects "..".
 * Content-Type from the extension.  Returns -ENOENT when there is no file.
 * "" or a rel ending in '/' means its index.html.  A ".." segment, a
 * backslash or a leading '/' give -EINVAL; files over 16 MiB -E2BIG.  On
 * success sets status 200, the type, the body and Cache-Control: no-cache;
 * on failure res is untouched.  Treat any negative value as "not found". */
int http_serve_static(struct http_request *req, struct http_response *res,
		      const char *dir, const char *rel);
const char *http_mime_type(const char *path);

#endif
