/*
 * server.c — the libmicrohttpd daemon, the router and the life of a request:
 * state created when the request line arrives (URI log callback), routed on
 * the first access-handler call, body gathered on the next ones, handler run
 * on the last one, state freed in the completion callback.
 */
#include "http/http.h"
#include "http/http_int.h"
#include "core/metrics.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#define HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTP_ARENA_EXTRA ((size_t)1 << 20)       /* arena = largest body + this */
#define HTTP_CONNECTION_TIMEOUT 30u              /* seconds of inactivity */
#define HTTP_CONNECTION_MEMORY ((size_t)64 << 10) /* MHD's per-connection pool */
#define HTTP_CONNECTION_LIMIT 1000u              /* below the usual 1024 open files */
#define HTTP_RESPONSE_MAX BUF_MAX_DEFAULT
#define HTTP_DISCARD_MAX ((size_t)16 << 20)     /* body bytes dropped after 413 */
#define HTTP_MAX_SEGMENTS 32                     /* segments in a route pattern */
#define JSON_TYPE "application/json; charset=utf-8"

struct http_server {
	struct MHD_Daemon *daemon;
	const struct http_route *routes;
	size_t nroutes;
	size_t max_body;
	size_t arena_max;
	http_handler_fn not_found;
	void (*around)(struct http_request *req, struct http_response *res, http_handler_fn fn);
	const char *const *default_headers;
	void *app;
	unsigned timeout;
	size_t connection_memory;
	size_t max_uri;
	unsigned connection_limit, per_ip_limit;
	unsigned metrics_listener; /* enum metric_listener */
	struct http_tls *tls;      /* tls.c; NULL: plain HTTP */
	char hsts[40];             /* Strict-Transport-Security value, or "" */
	char *redirect_base;       /* set: every request is redirected there */
	pthread_mutex_t log_lock;
	char last_error[256]; /* MHD's latest message, for start-up failures */
};

struct request_state {
	struct http_request req; /* first: http_suspend's token is the state */
	const struct http_server *server;
	const char *uri;    /* the request target as received, still encoded */
	http_handler_fn fn; /* the route's handler or not_found */
	bool routed;        /* fn is a route's (not not_found): `around` applies */
	struct buf body;    /* capped at the route's max_body */
	size_t discarded;   /* body bytes dropped past the cap */
	bool started;       /* the first access-handler call has happened */
	bool too_large;     /* the body overflowed: the rest is discarded */
	bool answered;      /* a response is queued */
	bool suspended;     /* http_suspend was called */
	bool stashed;       /* the handler returned: `stash` waits for http_resume */
	struct http_response stash;
	atomic_int resume_status; /* 0, or the status http_resume_status asked for */
	int64_t start_us;   /* metrics_now_us() at the first access-handler call */
	bool streamed;      /* a stream's response: not a request latency */
};
_Static_assert(offsetof(struct request_state, req) == 0, "http_suspend casts the request to its state");

/* A request path split at '/', the first segments also decoded. */
struct path_split {
	struct slice raw;                      /* "/a/b%2Fc", no query */
	size_t n;                              /* segments in the path */
	struct slice raw_seg[HTTP_MAX_SEGMENTS];
	const char *seg[HTTP_MAX_SEGMENTS];    /* decoded */
};

/* ---- routing ---- */

/* Splits a validated raw path (it decodes) into segments. */
static int path_split(struct arena *a, struct slice raw, struct path_split *ret)
{
	struct slice rest, seg;

	ret->raw = raw;
	ret->n = 0;
	if (raw.len == 0 || raw.p[0] != '/')
		return 0; /* "*" or an absolute URI: matches no pattern */
	rest = (struct slice){ raw.p + 1, raw.len - 1 };
	for (;;) {
		bool last = !memchr(rest.p, '/', rest.len);
		rest = slice_cut(rest, '/', &seg);
		if (ret->n < HTTP_MAX_SEGMENTS) {
			ret->raw_seg[ret->n] = seg;
			ret->seg[ret->n] = http_url_decode(a, seg, false);
			if (!ret->seg[ret->n])
				return -ENOMEM;
		}
		ret->n++;
		if (last)
			return 0;
	}
}

/* "{name}suffix": the suffix (may be empty), or false for a literal segment. */
static bool pattern_param(struct slice pseg, struct slice *ret_suffix)
{
	const char *close = pseg.len ? memchr(pseg.p, '}', pseg.len) : NULL;

	if (!pseg.len || pseg.p[0] != '{' || !close)
		return false;
	*ret_suffix = (struct slice){ close + 1, pseg.len - (size_t)(close + 1 - pseg.p) };
	return true;
}

/* Matches one decoded path segment against a "{name}suffix" segment; the
 * captured text is written to *ret when ret is not NULL. */
static bool param_match(struct arena *a, const char *seg, struct slice suffix, const char **ret)
{
	size_t len = strlen(seg);

	if (len <= suffix.len || memcmp(seg + len - suffix.len, suffix.p, suffix.len) != 0)
		return false;
	if (ret)
		*ret = suffix.len ? arena_strndup(a, seg, len - suffix.len) : seg;
	return !ret || *ret;
}

/*
 * Matches a path against a pattern.  With params NULL it only answers
 * whether it matches; otherwise the captures go to params[*ret_n].
 */
static bool route_match(struct arena *a, const char *pattern, const struct path_split *p,
			const char **params, size_t *ret_n)
{
	struct slice rest = slice_from(pattern + 1), pseg, suffix;
	size_t i = 0, n = 0;

	if (pattern[0] != '/' || p->n == 0)
		return false;
	for (;; i++) {
		bool last = !memchr(rest.p, '/', rest.len);
		rest = slice_cut(rest, '/', &pseg);
		if (i >= p->n)
			return false;
		if (last && slice_eq_str(pseg, "*")) {
			const char *from = p->raw_seg[i].p;
			struct slice tail = { from, (size_t)(p->raw.p + p->raw.len - from) };
			if (params && !(params[n] = http_url_decode(a, tail, false)))
				return false;
			n++;
			break;
		}
		if (pattern_param(pseg, &suffix)) {
			if (!param_match(a, p->seg[i], suffix, params ? &params[n] : NULL))
				return false;
			n++;
		} else if (!slice_eq_str(pseg, p->seg[i])) {
			return false;
		}
		if (last) {
			if (i + 1 != p->n)
				return false;
			break;
		}
	}
	if (ret_n)
		*ret_n = n;
	return true;
}

/* The first route matching method and path; NULL when none does. */
static const struct http_route *route_find(const struct http_server *s, struct http_request *req,
					   const struct path_split *p)
{
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct http_route *r = &s->routes[i];
		const char *params[HTTP_MAX_PARAMS];
		size_t n;
		if (strcmp(r->method, req->method) != 0 ||
		    !route_match(req->arena, r->pattern, p, params, &n))
			continue;
		memcpy(req->params, params, n * sizeof(params[0]));
		req->nparams = n;
		return r;
	}
	return NULL;
}

static bool allow_has(const struct buf *allow, const char *method)
{
	struct slice rest = buf_slice(allow), item;

	while (rest.len) {
		rest = slice_cut(rest, ',', &item);
		if (slice_eq_str(slice_trim(item), method))
			return true;
	}
	return false;
}

/* The methods of the routes whose pattern matches the path ("GET, HEAD, POST"). */
static void route_allow(const struct http_server *s, const struct path_split *p, struct buf *allow)
{
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct http_route *r = &s->routes[i];
		if (allow_has(allow, r->method) || !route_match(NULL, r->pattern, p, NULL, NULL))
			continue;
		buf_printf(allow, "%s%s", allow->len ? ", " : "", r->method);
		if (strcmp(r->method, "GET") == 0)
			buf_puts(allow, ", HEAD");
	}
}

static bool has_any(struct slice s, const char *chars)
{
	for (size_t i = 0; i < s.len; i++)
		if (strchr(chars, s.p[i]))
			return true;
	return false;
}

/* One pattern segment: a literal, "{name}suffix" or a final "*". */
static bool pattern_seg_valid(struct slice pseg, bool last, size_t *nparams)
{
	struct slice suffix;

	if (slice_eq_str(pseg, "*")) {
		++*nparams;
		return last;
	}
	if (pattern_param(pseg, &suffix)) {
		++*nparams;
		return pseg.p[1] != '}' && !has_any(suffix, "{}*");
	}
	return !has_any(pseg, "{}*");
}

/* Checks a route table once at start: patterns are code, not input. */
static int routes_check(const struct http_route *routes, size_t n, char **ret_err)
{
	for (size_t i = 0; i < n; i++) {
		const struct http_route *r = &routes[i];
		size_t nparams = 0, nsegs = 0;
		bool ok = r->method && r->fn && r->pattern && r->pattern[0] == '/';
		struct slice rest = slice_from(ok ? r->pattern + 1 : NULL), pseg;

		for (bool last = false; ok && !last;) {
			last = !memchr(rest.p, '/', rest.len);
			rest = slice_cut(rest, '/', &pseg);
			ok = ++nsegs <= HTTP_MAX_SEGMENTS && pattern_seg_valid(pseg, last, &nparams);
		}
		if (ok && nparams <= HTTP_MAX_PARAMS)
			continue;
		if (ret_err)
			*ret_err = xasprintf("http: invalid route %s %s",
					     r->method ? r->method : "(null)",
					     r->pattern ? r->pattern : "(null)");
		return -EINVAL;
	}
	return 0;
}

/* ---- responses ---- */

static bool header_overridden(const struct http_response *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (strcasecmp(res->headers[i][0], name) == 0)
			return true;
	return false;
}

static void response_add_header(struct MHD_Response *r, const char *name, const char *value)
{
	/* MHD refuses names and values with CR, LF or other invalid bytes. */
	if (MHD_add_response_header(r, name, value) != MHD_YES)
		log_warn("http: header %s refused", name);
}

/* Queues res (its body is handed over to MHD) and marks the request answered. */
static enum MHD_Result response_queue(struct request_state *st, struct http_response *res)
{
	const struct http_server *s = st->server;
	size_t len = res->body.len;
	char *body = buf_steal(&res->body);
	/* a stream (stream.c) brings its own response; the built body is dropped */
	struct MHD_Response *r = res->stream ? res->stream
		: MHD_create_response_from_buffer_with_free_callback(len, body, free);

	if (res->stream) {
		free(body);
		st->streamed = true;
	}
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (res->content_type)
		response_add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	if (s->hsts[0] && !header_overridden(res, "Strict-Transport-Security"))
		response_add_header(r, "Strict-Transport-Security", s->hsts);
	for (const char *const *h = s->default_headers; h && h[0] && h[1]; h += 2)
		if (!header_overridden(res, h[0]))
			response_add_header(r, h[0], h[1]);
	for (size_t i = 0; i < res->nheaders; i++)
		response_add_header(r, res->headers[i][0], res->headers[i][1]);

	enum MHD_Result ret = MHD_queue_response(st->req.conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		st->answered = true;
	return ret;
}

/* Answers with an error object of our own (no handler involved). */
static enum MHD_Result response_error(struct request_state *st, int status, const char *code,
				      const char *message, const char *allow)
{
	struct http_response res = { 0 };
	enum MHD_Result ret;

	buf_init(&res.body, HTTP_RESPONSE_MAX);
	http_response_error(&res, status, code, message, NULL);
	if (allow)
		http_response_header(&st->req, &res, MHD_HTTP_HEADER_ALLOW, allow);
	ret = response_queue(st, &res);
	buf_release(&res.body);
	return ret;
}

static enum MHD_Result response_too_large(struct request_state *st)
{
	char message[80];

	snprintf(message, sizeof(message), "request body exceeds %zu bytes", st->body.max);
	return response_error(st, 413, "too_large", message, NULL);
}

/* redirect_base + the request target: an absolute-form target ("http://
 * host/path?q") keeps only its path, anything else not starting with '/'
 * ("*") becomes "/", and bytes that may not stand in a header (controls,
 * space, non-ASCII) are percent-encoded. */
int http__redirect_location(struct buf *b, const char *base, const char *target)
{
	const char *t = target, *scheme_end = strstr(t, "://");
	int r = buf_puts(b, base);

	if (t[0] != '/' && scheme_end)
		t = strchr(scheme_end + 3, '/');
	if (!t || t[0] != '/')
		t = "/";
	for (; *t && r == 0; t++) {
		unsigned char c = (unsigned char)*t;
		r = c > 0x20 && c < 0x7f ? buf_putc(b, (char)c) : buf_printf(b, "%%%02X", c);
	}
	return r;
}

/* A redirecting server's answer: 301 for GET and HEAD, 308 for other
 * methods so that a form's POST is not turned into a GET. */
static enum MHD_Result response_moved(struct request_state *st)
{
	struct http_response res = { 0 };
	_cleanup_buf_ struct buf loc = BUF_INIT(0);
	enum MHD_Result ret;

	if (http__redirect_location(&loc, st->server->redirect_base, st->uri) < 0)
		return MHD_NO;
	buf_init(&res.body, HTTP_RESPONSE_MAX);
	bool safe = !strcmp(st->req.method, MHD_HTTP_METHOD_GET) || !strcmp(st->req.method, MHD_HTTP_METHOD_HEAD);
	http_response_redirect(&st->req, &res, safe ? 301 : 308, loc.p);
	ret = response_queue(st, &res);
	buf_release(&res.body);
	return ret;
}

/* ---- the request ---- */

static const char *client_ip(struct arena *a, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN] = "";

	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
		struct sockaddr_in v4;
		memcpy(&v4, ci->client_addr, sizeof(v4));
		inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
	} else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
		struct sockaddr_in6 v6;
		memcpy(&v6, ci->client_addr, sizeof(v6));
		if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) /* "::ffff:10.0.0.1" is 10.0.0.1 */
			inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], text, sizeof(text));
		else
			inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
	}
	return arena_strdup(a, text);
}

static struct request_state *request_state_new(const struct http_server *s, const char *uri)
{
	struct arena *a = arena_new(s->arena_max);
	struct request_state *st = arena_alloc(a, sizeof(*st));

	BUG_ON(!st); /* a fresh arena holds at least HTTP_ARENA_EXTRA */
	st->req.arena = a;
	st->req.app = s->app;
	st->server = s;
	/* The request line fits MHD's connection pool, far below the arena cap. */
	st->uri = arena_strdup(a, uri ? uri : "");
	BUG_ON(!st->uri);
	buf_init(&st->body, s->max_body);
	return st;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line is in; keep the raw URI. */
static void *request_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
	return request_state_new(cls, uri);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the response is sent or the connection died. */
static void request_end(void *cls, struct MHD_Connection *c, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	struct request_state *st = *con_cls;

	if (!st)
		return;
	*con_cls = NULL;
	if (st->start_us && !st->streamed && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		metrics_observe_request(st->server->metrics_listener,
					metrics_now_us() - st->start_us);
	buf_release(&st->body);
	buf_release(&st->stash.body); /* a suspended request whose connection died */
	arena_free(st->req.arena); /* st itself lives in the arena */
}

/* The declared Content-Length, or 0 when absent (chunked) or unreadable. */
static size_t request_content_length(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	int64_t n;

	if (!v || slice_to_i64(slice_from(v), 0, INT64_MAX, &n) < 0)
		return 0;
	return (uint64_t)n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

/* First call: decode the path and pick the handler, or answer at once. */
static enum MHD_Result request_start(struct request_state *st, struct MHD_Connection *c,
				     const char *method)
{
	const struct http_server *s = st->server;
	struct http_request *req = &st->req;
	struct slice raw = slice_from(st->uri);
	struct path_split p;
	const struct http_route *route;

	req->conn = c;
	req->remote_ip = client_ip(req->arena, c);
	req->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	req->method = req->head ? MHD_HTTP_METHOD_GET : arena_strdup(req->arena, method);

	if (s->max_uri && raw.len > s->max_uri)
		return response_error(st, 414, "uri_too_long", "request target too long", NULL);
	if (s->redirect_base)
		return response_moved(st);
	slice_cut(raw, '?', &raw);
	slice_cut(raw, '#', &raw);
	req->path = http_url_decode(req->arena, raw, false);
	if (!req->path || path_split(req->arena, raw, &p) < 0)
		return response_error(st, 400, "bad_request", "malformed request path", NULL);

	route = route_find(s, req, &p);
	if (route) {
		st->fn = route->fn;
		st->routed = true;
		buf_init(&st->body, route->max_body ? route->max_body : s->max_body);
	} else {
		_cleanup_buf_ struct buf allow = BUF_INIT(1024);
		route_allow(s, &p, &allow);
		if (allow.len)
			return response_error(st, 405, "method_not_allowed", "method not allowed",
					      allow.p);
		if (!s->not_found)
			return response_error(st, 404, "not_found", "not found", NULL);
		st->fn = s->not_found;
	}
	/* A declared length over the cap is refused before any byte is read. */
	if (request_content_length(c) > st->body.max)
		return response_too_large(st);
	return MHD_YES;
}

/*
 * Middle calls: gather the body.  Past the cap, drop the rest and answer 413
 * at its end (MHD 0.9.75 cannot queue a response in the middle of a body),
 * but close a connection that keeps on sending after HTTP_DISCARD_MAX.
 */
static enum MHD_Result request_body_add(struct request_state *st, const char *data, size_t len)
{
	if (!st->too_large) {
		if (buf_append(&st->body, data, len) == 0)
			return MHD_YES;
		st->too_large = true;
		buf_release(&st->body);
	}
	st->discarded = st_add(st->discarded, len);
	return st->discarded > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
}

/* Last call: run the handler and queue what it built. */
static enum MHD_Result request_finish(struct request_state *st)
{
	struct http_request *req = &st->req;
	struct http_response res = { 0 };
	enum MHD_Result ret;

	if (st->too_large)
		return response_too_large(st);
	req->body = buf_slice(&st->body);
	buf_init(&res.body, HTTP_RESPONSE_MAX);
	if (st->routed && st->server->around)
		st->server->around(req, &res, st->fn);
	else
		st->fn(req, &res);
	if (res.status < 100 || res.status > 599) {
		log_error("http: handler for %s %s answered status %d", req->method, req->path,
			  res.status);
		res.nheaders = 0;
		http_response_error(&res, 500, "internal", "internal error", NULL);
	}
	if (st->suspended) {
		/* Kept for http_resume; MHD calls us again once it is resumed. */
		st->stash = res;
		st->stashed = true;
		return MHD_YES;
	}
	ret = response_queue(st, &res);
	buf_release(&res.body);
	return ret;
}

/* After http_resume: the kept response goes out, its status replaced if asked. */
static enum MHD_Result request_resumed(struct request_state *st)
{
	int status = atomic_load(&st->resume_status);
	enum MHD_Result ret;

	st->stashed = false;
	if (status)
		st->stash.status = status;
	ret = response_queue(st, &st->stash);
	buf_release(&st->stash.body);
	return ret;
}

void *http_suspend(struct http_request *req)
{
	struct request_state *st = (struct request_state *)req;

	if (!req->conn)
		return NULL; /* made by hand (tests, fuzz targets): nothing to suspend */
	/* Twice would make two resumes for one kept response. */
	BUG_ON(st->suspended || st->stashed || st->answered);
	st->suspended = true;
	/* At once, inside the handler: no other thread knows the token yet, so
	 * nobody can resume a connection that is not suspended. */
	MHD_suspend_connection(req->conn);
	return st;
}

bool http_suspended(const struct http_request *req)
{
	return req->conn && ((const struct request_state *)req)->suspended;
}

const char *http_target(const struct http_request *req)
{
	return req->conn ? ((const struct request_state *)req)->uri : req->path;
}

void http_resume_status(void *token, int status)
{
	struct request_state *st = token;

	atomic_store(&st->resume_status, status >= 100 && status <= 599 ? status : 0);
	/* The last touch of st: the connection's own thread may answer and free
	 * it as soon as this returns. */
	MHD_resume_connection(st->req.conn);
}

void http_resume(void *token)
{
	http_resume_status(token, 0);
}

/* The MHD access handler, called at least twice per request. */
static enum MHD_Result request_handle(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct request_state *st = *con_cls;

	if (!st) /* the URI log callback always runs first; be safe anyway */
		st = *con_cls = request_state_new(cls, url);
	if (st->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->stashed)
		return request_resumed(st);
	if (!st->started) {
		st->started = true;
		if (st->server->metrics_listener)
			st->start_us = metrics_now_us();
		return request_start(st, c, method);
	}
	if (*upload_data_size) {
		size_t len = *upload_data_size;
		*upload_data_size = 0;
		return request_body_add(st, upload_data, len);
	}
	return request_finish(st);
}

/* ---- the server ---- */

__attribute__((format(printf, 2, 0)))
static void server_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	char msg[sizeof(s->last_error)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\r\n")] = '\0';
	log_warn("http: %s", msg);
	pthread_mutex_lock(&s->log_lock);
	memcpy(s->last_error, msg, sizeof(msg));
	pthread_mutex_unlock(&s->log_lock);
}

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* "127.0.0.1:3333" or "[::1]:8080" (numeric addresses only). */
static int listen_parse(const char *listen, union sockaddr_any *ret)
{
	struct slice s = slice_from(listen), host, port;
	char text[INET6_ADDRSTRLEN];
	int64_t n;
	union sockaddr_any a = { 0 };
	bool v6 = s.len && s.p[0] == '[';

	if (v6) {
		struct slice after = slice_cut((struct slice){ s.p + 1, s.len - 1 }, ']', &host);
		if (after.p == s.p + s.len || !slice_starts_with(after, ":"))
			return -EINVAL;
		port = (struct slice){ after.p + 1, after.len - 1 };
	} else {
		const char *colon = memrchr(s.p, ':', s.len);
		if (!colon)
			return -EINVAL;
		host = (struct slice){ s.p, (size_t)(colon - s.p) };
		port = (struct slice){ colon + 1, s.len - host.len - 1 };
	}
	if (host.len == 0 || host.len >= sizeof(text) || slice_to_i64(port, 0, 65535, &n) < 0)
		return -EINVAL;
	memcpy(text, host.p, host.len);
	text[host.len] = '\0';
	if (v6) {
		a.v6.sin6_family = AF_INET6;
		a.v6.sin6_port = htons((uint16_t)n);
		if (inet_pton(AF_INET6, text, &a.v6.sin6_addr) != 1)
			return -EINVAL;
	} else {
		a.v4.sin_family = AF_INET;
		a.v4.sin_port = htons((uint16_t)n);
		if (inet_pton(AF_INET, text, &a.v4.sin_addr) != 1)
			return -EINVAL;
	}
	*ret = a;
	return 0;
}

static size_t server_arena_max(const struct http_server_options *o, size_t max_body)
{
	for (size_t i = 0; i < o->nroutes; i++)
		if (o->routes[i].max_body > max_body)
			max_body = o->routes[i].max_body;
	return st_add(max_body, HTTP_ARENA_EXTRA);
}

static struct MHD_Daemon *server_start(struct http_server *s, union sockaddr_any *addr,
				       unsigned threads)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	bool v6 = addr->sa.sa_family == AF_INET6;
	/* Only MHD's messages use the port argument; the socket comes from SOCK_ADDR. */
	uint16_t port = ntohs(v6 ? addr->v6.sin6_port : addr->v4.sin_port);

	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
	if (v6)
		flags |= MHD_USE_IPv6;
	/* A pool of one is no pool, and MHD warns about it: then no option at all. */
	struct MHD_OptionItem pool[] = {
		{ threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_OptionItem tls[HTTP_TLS_OPTIONS] = { { MHD_OPTION_END, 0, NULL } };
	if (s->tls) {
		flags |= MHD_USE_TLS;
		http__tls_options(s->tls, tls);
	}
	return MHD_start_daemon(flags, port, NULL, NULL, request_handle, s,
				MHD_OPTION_EXTERNAL_LOGGER, server_log, s,
				MHD_OPTION_SOCK_ADDR, &addr->sa,
				MHD_OPTION_ARRAY, pool,
				MHD_OPTION_ARRAY, tls,
				MHD_OPTION_CONNECTION_TIMEOUT, s->timeout,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->connection_memory,
				MHD_OPTION_CONNECTION_LIMIT, s->connection_limit,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->per_ip_limit,
				MHD_OPTION_URI_LOG_CALLBACK, request_begin, s,
				MHD_OPTION_NOTIFY_COMPLETED, request_end, s,
				MHD_OPTION_END);
}

struct http_server *http_server_new(const struct http_server_options *o, char **ret_err)
{
	union sockaddr_any addr;
	struct http_server *s;
	const char *listen = o->listen ? o->listen : "";

	if (listen_parse(listen, &addr) < 0) {
		if (ret_err)
			*ret_err = xasprintf("http: cannot listen on \"%s\": expected a numeric address "
					     "and port such as 127.0.0.1:3333 or [::1]:8080",
					     listen);
		return NULL;
	}
	if (routes_check(o->routes, o->nroutes, ret_err) < 0)
		return NULL;
	bool cert = o->tls_cert && o->tls_cert[0], key = o->tls_key && o->tls_key[0];
	struct http_tls *tls = NULL;
	char *tls_err = NULL;
	if (cert != key || (cert && !(tls = http__tls_new(o->tls_cert, o->tls_key, &tls_err)))) {
		if (!tls_err)
			tls_err = xstrdup("TLS needs both a certificate file and a key file");
		if (ret_err)
			*ret_err = xasprintf("http: %s", tls_err);
		free(tls_err);
		return NULL;
	}

	s = xcalloc(1, sizeof(*s));
	s->tls = tls;
	if (o->hsts_max_age)
		snprintf(s->hsts, sizeof(s->hsts), "max-age=%u", o->hsts_max_age);
	s->redirect_base = o->redirect_base ? xstrdup(o->redirect_base) : NULL;
	s->routes = o->routes;
	s->nroutes = o->nroutes;
	s->max_body = o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY;
	s->arena_max = server_arena_max(o, s->max_body);
	s->not_found = o->not_found;
	s->around = o->around;
	s->default_headers = o->default_headers;
	s->app = o->app;
	s->timeout = o->timeout ? o->timeout : HTTP_CONNECTION_TIMEOUT;
	s->connection_memory = o->connection_memory ? o->connection_memory : HTTP_CONNECTION_MEMORY;
	s->max_uri = o->max_uri;
	s->connection_limit = o->connection_limit ? o->connection_limit : HTTP_CONNECTION_LIMIT;
	s->per_ip_limit = o->per_ip_limit;
	s->metrics_listener = o->metrics_listener;
	pthread_mutex_init(&s->log_lock, NULL);

	s->daemon = server_start(s, &addr, o->threads ? o->threads : 1);
	if (!s->daemon) {
		if (ret_err)
			*ret_err = xasprintf("http: cannot listen on %s: %s", listen,
					     s->last_error[0] ? s->last_error : "did not start");
		http_server_free(s);
		return NULL;
	}
	return s;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	http__tls_free(s->tls); /* only now: no connection uses a pair any more */
	free(s->redirect_base);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
}

bool http_server_tls(const struct http_server *s)
{
	return s && s->tls;
}

int http_server_tls_reload(struct http_server *s, char **ret_err)
{
	return s && s->tls ? http__tls_reload(s->tls, ret_err) : 0;
}

int http_server_port(const struct http_server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);

	return info ? (int)info->port : -EINVAL;
}
