/* response.c — response helpers, content types and static files. */
#include "http/http.h"

#include <strings.h>
#include <sys/stat.h>

#define HTTP_STATIC_MAX ((size_t)16 << 20)
#define JSON_TYPE "application/json; charset=utf-8"

/* The body every helper falls back to when it cannot build its own. */
static void response_internal_error(struct http_response *res)
{
	static const char body[] =
		"{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";

	res->status = 500;
	res->content_type = JSON_TYPE;
	buf_reset(&res->body);
	/* A response buf is never capped below a few bytes; if it were, the
	 * client still gets the status. */
	buf_append(&res->body, body, sizeof(body) - 1);
}

void http_response_header(struct http_request *req, struct http_response *res,
			  const char *name, const char *value)
{
	BUG_ON(res->nheaders >= HTTP_MAX_HEADERS);
	const char *n = arena_strdup(req->arena, name);
	const char *v = arena_strdup(req->arena, value);

	if (!n || !v) {
		log_error("http: no room in the request arena for header %s", name);
		return;
	}
	res->headers[res->nheaders][0] = n;
	res->headers[res->nheaders][1] = v;
	res->nheaders++;
}

void http_response_text(struct http_response *res, int status, const char *type, struct slice body)
{
	res->status = status;
	res->content_type = type;
	buf_reset(&res->body);
	if (buf_put_slice(&res->body, body) < 0)
		response_internal_error(res);
}

void http_response_json(struct http_response *res, int status, json_t *j)
{
	if (!j) {
		/* A jansson constructor failed, e.g. a string that is not UTF-8. */
		log_error("http: response JSON could not be built");
		response_internal_error(res);
		return;
	}
	res->status = status;
	res->content_type = JSON_TYPE;
	buf_reset(&res->body);
	int r = json_put(&res->body, j);
	json_decref(j);
	if (r < 0)
		response_internal_error(res);
}

void http_response_error(struct http_response *res, int status, const char *code,
			 const char *message, json_t *details)
{
	json_t *e = json_object();

	/* json_string() is NULL for text that is not UTF-8: then the key is left out. */
	json_object_set_new(e, "code", json_string(code));
	if (message)
		json_object_set_new(e, "message", json_string(message));
	if (details)
		json_object_set_new(e, "details", details);
	http_response_json(res, status, json_pack("{s:o}", "error", e));
}

void http_response_redirect(struct http_request *req, struct http_response *res, int status,
			    const char *location)
{
	res->status = status;
	res->content_type = NULL;
	buf_reset(&res->body);
	http_response_header(req, res, "Location", location);
}

/* ---- static files ---- */

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", JSON_TYPE },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "ico", "image/x-icon" },
	{ "woff2", "font/woff2" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
};

const char *http_mime_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot)
		for (size_t i = 0; i < ARRAY_SIZE(mime_types); i++)
			if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
	return "application/octet-stream";
}

/* A relative path we are willing to look up: no "..", no backslash, not absolute. */
static bool static_path_safe(const char *rel)
{
	struct slice rest = slice_from(rel), seg;

	if (rel[0] == '/' || strchr(rel, '\\'))
		return false;
	while (rest.len) {
		rest = slice_cut(rest, '/', &seg);
		if (slice_eq_str(seg, ".."))
			return false;
	}
	return true;
}

static int static_read_dir(const char *dir, const char *rel, struct buf *b)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	return file_read(path, HTTP_STATIC_MAX, b);
}

static int static_read_embedded(const char *rel, struct buf *b)
{
	_cleanup_free_ char *path = xasprintf("web/%s", rel);
	const struct embedded_file *f = embedded_find(path);

	if (!f)
		return -ENOENT;
	return buf_append(b, f->data, f->len);
}

int http_serve_static(struct http_request *req, struct http_response *res,
		      const char *dir, const char *rel)
{
	_cleanup_free_ char *index = NULL;
	int r;

	if (!rel || !static_path_safe(rel))
		return -EINVAL;
	if (rel[0] == '\0' || rel[strlen(rel) - 1] == '/')
		rel = index = xasprintf("%sindex.html", rel);

	_cleanup_buf_ struct buf body = BUF_INIT(HTTP_STATIC_MAX);
	r = dir && dir[0] ? static_read_dir(dir, rel, &body) : static_read_embedded(rel, &body);
	if (r < 0)
		return r == -ENOTDIR ? -ENOENT : r;

	res->status = 200;
	res->content_type = http_mime_type(rel);
	buf_release(&res->body);
	res->body = body;
	buf_init(&body, HTTP_STATIC_MAX);
	http_response_header(req, res, "Cache-Control", "no-cache");
	return 0;
}
