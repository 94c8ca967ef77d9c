/* request.c — request accessors, percent-decoding and form bodies. */
#include "http/http.h"

#include <microhttpd.h>

#define HTTP_FORM_MAX_PAIRS 1000

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes s into out (room for s.len bytes; NULL only checks) and sets
 * *ret_len to the decoded length.  -EINVAL when an escape is malformed or a
 * NUL byte would result (raw or as %00): decoded strings are C strings, and
 * a NUL inside one would silently cut it short.
 */
static int url_decode_into(char *out, struct slice s, bool plus, size_t *ret_len)
{
	size_t n = 0;

	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '%') {
			int hi = i + 2 < s.len ? hex_value(s.p[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value(s.p[i + 2]) : -1;
			if (lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return -EINVAL;
		if (out)
			out[n] = c;
		n++;
	}
	*ret_len = n;
	return 0;
}

char *http_url_decode(struct arena *a, struct slice s, bool plus)
{
	size_t n;

	if (url_decode_into(NULL, s, plus, &n) < 0)
		return NULL;
	char *out = arena_alloc(a, st_add(n, 1));
	if (!out)
		return NULL;
	url_decode_into(out, s, plus, &n);
	out[n] = '\0';
	return out;
}

/* Calls fn(ctx, name, value) on each non-empty "name[=value]" piece. */
static int form_walk(struct slice body, int (*fn)(void *ctx, struct slice name, struct slice value),
		     void *ctx)
{
	struct slice rest = body, pair, name;

	while (rest.len) {
		rest = slice_cut(rest, '&', &pair);
		if (pair.len == 0)
			continue;
		struct slice value = slice_cut(pair, '=', &name);
		int r = fn(ctx, name, value);
		if (r < 0)
			return r;
	}
	return 0;
}

static int form_check_pair(void *ctx, struct slice name, struct slice value)
{
	size_t *npairs = ctx, n;

	if (++*npairs > HTTP_FORM_MAX_PAIRS)
		return -E2BIG;
	if (url_decode_into(NULL, name, true, &n) < 0 || url_decode_into(NULL, value, true, &n) < 0)
		return -EINVAL;
	return 0;
}

struct form_call {
	struct arena *arena;
	int (*fn)(void *ctx, const char *name, const char *value);
	void *ctx;
};

static int form_call_pair(void *ctx, struct slice name, struct slice value)
{
	struct form_call *call = ctx;
	const char *n = http_url_decode(call->arena, name, true);
	const char *v = http_url_decode(call->arena, value, true);

	if (!n || !v)
		return -ENOMEM; /* escapes were checked: only the arena cap is left */
	return call->fn(call->ctx, n, v);
}

int http_form_each(struct http_request *req, struct slice body,
		   int (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	struct form_call call = { req->arena, fn, ctx };
	size_t npairs = 0;

	/* Check the whole body first so fn never sees part of a malformed one. */
	int r = form_walk(body, form_check_pair, &npairs);
	if (r < 0)
		return r;
	r = form_walk(body, form_call_pair, &call);
	return r < 0 ? r : (int)npairs;
}

/* A value of the request as an arena copy; NULL when absent or when it holds
 * a NUL byte (MHD decodes %00 in query values). */
static const char *connection_value(struct http_request *req, enum MHD_ValueKind kind,
				    const char *key)
{
	const char *value = NULL;
	size_t len = 0;

	if (!req->conn || !key)
		return NULL;
	if (MHD_lookup_connection_value_n(req->conn, kind, key, strlen(key), &value, &len) != MHD_YES)
		return NULL;
	if (!value)
		return arena_strdup(req->arena, ""); /* "?flag" without '=' */
	if (memchr(value, '\0', len))
		return NULL;
	return arena_strndup(req->arena, value, len);
}

const char *http_query(struct http_request *req, const char *key)
{
	return connection_value(req, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_request *req, const char *name)
{
	return connection_value(req, MHD_HEADER_KIND, name);
}

struct header_join {
	struct http_request *req;
	const char *name;
	struct buf out;
	bool over;
};

static enum MHD_Result header_join_one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_join *j = cls;
	(void)kind;
	if (!key || !value || strcasecmp(key, j->name))
		return MHD_YES;
	if ((j->out.len && buf_puts(&j->out, ", ") < 0) || buf_puts(&j->out, value) < 0) {
		j->over = true;
		return MHD_NO;
	}
	return MHD_YES;
}

const char *http_header_all(struct http_request *req, const char *name)
{
	struct header_join j = { req, name, BUF_INIT(HTTP_HEADER_ALL_MAX), false };
	if (!req->conn || !name)
		return NULL;
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, header_join_one, &j);
	const char *r = !j.over && j.out.len ? arena_strndup(req->arena, j.out.p, j.out.len) : NULL;
	buf_release(&j.out);
	return r;
}

const char *http_cookie(struct http_request *req, const char *name)
{
	return connection_value(req, MHD_COOKIE_KIND, name);
}
