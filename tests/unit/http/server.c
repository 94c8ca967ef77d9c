/* Tests for src/http/server.c: a real server on 127.0.0.1:0, spoken to with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/server.c"

/* ---- handlers ---- */

static void h_hello(struct http_request *req, struct http_response *res)
{
	http_response_text(res, 200, "text/plain; charset=utf-8", SLICE_LIT("hello"));
}

/* Echoes the method, path and params as JSON. */
static void h_params(struct http_request *req, struct http_response *res)
{
	json_t *params = json_array();
	for (size_t i = 0; i < req->nparams; i++)
		json_array_append_new(params, json_string(req->params[i]));
	http_response_json(res, 200, json_pack("{s:s, s:s, s:b, s:o}", "method", req->method,
					       "path", req->path, "head", req->head, "params", params));
}

/* Echoes the body, with its length in a header. */
static void h_echo(struct http_request *req, struct http_response *res)
{
	http_response_text(res, 200, "application/octet-stream", req->body);
	http_response_header(req, res, "X-Body-Length", arena_printf(req->arena, "%zu", req->body.len));
}

static json_t *json_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void h_accessors(struct http_request *req, struct http_response *res)
{
	http_response_json(res, 200, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
		"name", json_or_null(http_query(req, "name")),
		"flag", json_or_null(http_query(req, "flag")),
		"missing", json_or_null(http_query(req, "missing")),
		"header", json_or_null(http_header(req, "x-test")),
		"sid", json_or_null(http_cookie(req, "sid")),
		"other", json_or_null(http_cookie(req, "other")),
		"nul", json_or_null(http_query(req, "nul")),
		"ip", req->remote_ip));
}

static void h_no_status(struct http_request *req, struct http_response *res)
{
	buf_puts(&res->body, "forgot the status");
}

static void h_redirect(struct http_request *req, struct http_response *res)
{
	http_response_redirect(req, res, 303, "/hello?from=redirect");
}

static void h_frame(struct http_request *req, struct http_response *res)
{
	http_response_text(res, 200, "text/plain", SLICE_LIT("framed"));
	http_response_header(req, res, "X-Frame-Options", "SAMEORIGIN");
	http_response_header(req, res, "X-Bad", "a\r\nInjected: yes");
}

static char static_dir[64];

static void h_static(struct http_request *req, struct http_response *res)
{
	if (http_serve_static(req, res, static_dir, req->params[0]) < 0)
		http_response_error(res, 404, "not_found", "no such file", NULL);
}

/* Suspends; the test's resumer thread lets the answer go later. */
static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cond = PTHREAD_COND_INITIALIZER;
static void *waiting[64];
static bool waiting_fail[64];
static size_t nwaiting;

static void h_wait(struct http_request *req, struct http_response *res)
{
	http_response_text(res, 200, "text/plain", SLICE_LIT("waited"));
	http_response_header(req, res, "X-Waited", req->params[0]);
	void *token = http_suspend(req);
	pthread_mutex_lock(&wait_lock);
	BUG_ON(nwaiting >= ARRAY_SIZE(waiting));
	waiting_fail[nwaiting] = strcmp(req->params[0], "fail") == 0;
	waiting[nwaiting++] = token;
	pthread_cond_broadcast(&wait_cond);
	pthread_mutex_unlock(&wait_lock);
}

/* The not_found hook of the second server: static files from the path. */
static void h_fallback(struct http_request *req, struct http_response *res)
{
	if (http_serve_static(req, res, static_dir, req->path + 1) < 0)
		http_response_error(res, 404, "not_found", "no such page", NULL);
}

static const struct http_route routes[] = {
	{ "GET", "/hello", h_hello, 0 },
	{ "GET", "/", h_params, 0 },
	{ "GET", "/items/{id}", h_params, 0 },
	{ "DELETE", "/items/{id}", h_params, 0 },
	{ "GET", "/items/{id}/tags/{tag}", h_params, 0 },
	{ "GET", "/files/*", h_params, 0 },
	{ "GET", "/o/{rid}.gif", h_params, 0 },
	{ "POST", "/echo", h_echo, 0 },
	{ "POST", "/small", h_echo, 1024 },
	{ "GET", "/q", h_accessors, 0 },
	{ "GET", "/zero", h_no_status, 0 },
	{ "GET", "/redirect", h_redirect, 0 },
	{ "GET", "/frame", h_frame, 0 },
	{ "GET", "/static/*", h_static, 0 },
	{ "GET", "/wait/{what}", h_wait, 0 },
};

static const char *const default_headers[] = {
	"X-Frame-Options", "DENY",
	"X-Content-Type-Options", "nosniff",
	NULL,
};

/* ---- a small libcurl client ---- */

struct reply {
	long status;
	struct buf body;
	struct buf headers;
};

static size_t reply_write(char *p, size_t size, size_t n, void *data)
{
	return buf_append(data, p, size * n) == 0 ? size * n : 0;
}

struct upload {
	struct slice data;
	size_t chunk;
};

/* Feeds the body in small pieces: with no length, curl sends it chunked. */
static size_t upload_read(char *p, size_t size, size_t n, void *data)
{
	struct upload *u = data;
	size_t len = size * n < u->chunk ? size * n : u->chunk;
	if (len > u->data.len)
		len = u->data.len;
	memcpy(p, u->data.p, len);
	u->data.p += len;
	u->data.len -= len;
	return len;
}

struct call {
	const char *method;
	const char *path;
	struct slice body;
	bool chunked;
	const char *header;  /* one extra request header */
	const char *cookie;
	const char *host;    /* default 127.0.0.1 */
};

static int port;

static CURLcode call_do(const struct call *c, struct reply *ret)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	struct upload up = { c->body, c->body.len > (1 << 20) ? 65536 : 7000 };
	char url[512];

	assert_non_null(curl);
	snprintf(url, sizeof(url), "http://%s:%d%s", c->host ? c->host : "127.0.0.1", port, c->path);
	buf_init(&ret->body, 0);
	buf_init(&ret->headers, 0);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, reply_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ret->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, reply_write);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ret->headers);
	if (strcmp(c->method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	else if (strcmp(c->method, "GET") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, c->method);
	if (c->chunked) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, &up);
		headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
	} else if (c->body.p) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, c->body.p);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body.len);
	}
	headers = curl_slist_append(headers, "Expect:");
	if (c->header)
		headers = curl_slist_append(headers, c->header);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (c->cookie)
		curl_easy_setopt(curl, CURLOPT_COOKIE, c->cookie);
	CURLcode r = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return r;
}

static void reply_release(struct reply *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

/* Runs a call that must succeed at the HTTP level. */
static void call(const struct call *c, struct reply *ret)
{
	CURLcode r = call_do(c, ret);
	if (r != CURLE_OK)
		fail_msg("%s %s: %s", c->method, c->path, curl_easy_strerror(r));
}

static void get(const char *path, struct reply *ret)
{
	call(&(struct call){ .method = "GET", .path = path }, ret);
}

/* The value of a response header (case-insensitive name), or "" when absent. */
static const char *reply_header(const struct reply *r, const char *name, char *out, size_t size)
{
	struct slice rest = buf_slice(&r->headers), line, key;
	out[0] = '\0';
	while (rest.len) {
		rest = slice_cut(rest, '\n', &line);
		struct slice value = slice_cut(line, ':', &key);
		if (value.p != line.p + line.len && key.len == strlen(name) &&
		    strncasecmp(key.p, name, key.len) == 0) {
			value = slice_trim(value);
			snprintf(out, size, "%.*s", (int)value.len, value.p);
		}
	}
	return out;
}

static json_t *reply_json(const struct reply *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body.p, r->body.len, 0, &err);
	if (!j)
		fail_msg("not JSON: %s", r->body.p);
	return j;
}

static void assert_json_str(json_t *j, const char *path_key, const char *want)
{
	json_t *v = json_object_get(j, path_key);
	assert_non_null(v);
	assert_string_equal(json_string_value(v), want);
}

/* Checks the error object and its code. */
static void assert_error(const struct reply *r, long status, const char *code)
{
	char type[128];
	assert_int_equal(r->status, status);
	assert_string_equal(reply_header(r, "Content-Type", type, sizeof(type)),
			    "application/json; charset=utf-8");
	json_t *j = reply_json(r);
	json_t *e = json_object_get(j, "error");
	assert_non_null(e);
	assert_json_str(e, "code", code);
	assert_true(json_is_string(json_object_get(e, "message")));
	json_decref(j);
}

/* ---- fixtures ---- */

static struct http_server *server;
static struct http_server *fallback_server;
static int fallback_port;

static void write_file(const char *rel, const char *data)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", static_dir, rel);
	assert_int_equal(file_write_atomic(path, data, strlen(data)), 0);
}

static int setup(void **state)
{
	char *err = NULL;
	struct http_server_options o = {
		.listen = "127.0.0.1:0", .threads = 4, .max_body = 256 << 10,
		.routes = routes, .nroutes = ARRAY_SIZE(routes),
		.default_headers = default_headers,
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(static_dir, sizeof(static_dir), "/tmp/kunren-http-XXXXXX");
	if (!mkdtemp(static_dir))
		return -1;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/sub", static_dir);
	mkdir(sub, 0700);
	write_file("index.html", "<!doctype html><title>k</title>");
	write_file("app.js", "export const x = 1;\n");
	write_file("style.css", "body{}");
	write_file("sub/index.html", "sub index");
	write_file("logo.PNG", "\x89PNG");
	write_file("data.bin", "bin");

	server = http_server_new(&o, &err);
	if (!server) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	port = http_server_port(server);

	o.routes = NULL;
	o.nroutes = 0;
	o.not_found = h_fallback;
	fallback_server = http_server_new(&o, &err);
	if (!fallback_server)
		return -1;
	fallback_port = http_server_port(fallback_server);
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	http_server_free(server);
	http_server_free(fallback_server);
	nftw(static_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	curl_global_cleanup();
	return 0;
}

/* ---- unit pieces ---- */

static void test_listen_parse(void **state)
{
	union sockaddr_any a;

	assert_int_equal(listen_parse("127.0.0.1:3333", &a), 0);
	assert_int_equal(a.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(a.v4.sin_port), 3333);
	assert_int_equal(listen_parse("0.0.0.0:0", &a), 0);
	assert_int_equal(listen_parse("[::1]:8080", &a), 0);
	assert_int_equal(a.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(a.v6.sin6_port), 8080);
	assert_int_equal(listen_parse("[::]:1", &a), 0);

	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:80x", "localhost:80", "::1:80", "[::1]", "[::1]80", "[::1:80",
		"[127.0.0.1]:80", "1.2.3.4.5:80", "[]:80",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (listen_parse(bad[i], &a) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_routes_check(void **state)
{
	static const char *const good[] = {
		"/", "/a", "/a/{id}", "/a/{id}/b/{x}.gif", "/files/*", "/*", "/a//b",
		"/{a}/{b}/{c}/*",
	};
	static const char *const bad[] = {
		"", "a", "/a/*/b", "/a*", "/{}", "/{a", "/a}", "/{a}{b}", "/{a}x}", "/{a}/{b}/{c}/{d}/*",
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct http_route r = { "GET", good[i], h_hello, 0 };
		assert_int_equal(routes_check(&r, 1, NULL), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct http_route r = { "GET", bad[i], h_hello, 0 };
		char *err = NULL;
		if (routes_check(&r, 1, &err) != -EINVAL)
			fail_msg("accepted pattern \"%s\"", bad[i]);
		assert_non_null(strstr(err, bad[i]));
		free(err);
	}
	struct http_route none = { "GET", "/x", NULL, 0 };
	assert_int_equal(routes_check(&none, 1, NULL), -EINVAL);
}

/* Matches pattern against path directly; returns the captures joined by '|'. */
static const char *match(struct arena *a, const char *pattern, const char *path)
{
	struct path_split p;
	const char *params[HTTP_MAX_PARAMS];
	size_t n;

	assert_int_equal(path_split(a, slice_from(path), &p), 0);
	bool m = route_match(a, pattern, &p, params, &n);
	assert_int_equal(m, route_match(NULL, pattern, &p, NULL, NULL));
	if (!m)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", params[i]);
	char *s = arena_strdup(a, b.p);
	buf_release(&b);
	return s;
}

static void test_route_match(void **state)
{
	struct arena *a = arena_new(0);

	assert_string_equal(match(a, "/", "/"), "");
	assert_null(match(a, "/", "/a"));
	assert_string_equal(match(a, "/a/b", "/a/b"), "");
	assert_null(match(a, "/a/b", "/a/b/"));
	assert_null(match(a, "/a/b/", "/a/b"));
	assert_null(match(a, "/a/b", "/a"));
	assert_null(match(a, "/a", "/a/b"));
	assert_null(match(a, "/a", "/A"));
	assert_string_equal(match(a, "/a%20b", "/a%2520b"), "");
	assert_string_equal(match(a, "/a b", "/a%20b"), "");
	assert_string_equal(match(a, "/l/{id}/import", "/l/42/import"), "42");
	assert_null(match(a, "/l/{id}/import", "/l//import"));
	assert_string_equal(match(a, "/l/{id}", "/l/a%2Fb"), "a/b");
	assert_string_equal(match(a, "/{a}/{b}", "/x/y"), "x|y");
	assert_string_equal(match(a, "/o/{rid}.gif", "/o/abc.gif"), "abc");
	assert_null(match(a, "/o/{rid}.gif", "/o/.gif"));
	assert_null(match(a, "/o/{rid}.gif", "/o/abc.png"));
	assert_string_equal(match(a, "/f/*", "/f/a/b%2Fc/d"), "a/b/c/d");
	assert_string_equal(match(a, "/f/*", "/f/"), "");
	assert_null(match(a, "/f/*", "/f"));
	assert_string_equal(match(a, "/{id}/*", "/7/x/"), "7|x/");
	assert_string_equal(match(a, "/*", "/"), "");
	assert_null(match(a, "/a", "*"));
	assert_null(match(a, "/a", "http://example.com/a"));
	/* More segments than a pattern may have. */
	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strncat(deep, "/d", sizeof(deep) - strlen(deep) - 1);
	assert_string_equal(match(a, "/d/*", deep), deep + 3);
	assert_null(match(a, "/d/d", deep));
	arena_free(a);
}

/* ---- the live server ---- */

static void test_server_errors(void **state)
{
	char *err = NULL;
	char listen[64];
	struct http_server_options o = { .listen = "nonsense", .routes = routes, .nroutes = 1 };

	assert_null(http_server_new(&o, &err));
	assert_non_null(strstr(err, "\"nonsense\""));
	free(err);

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	o.listen = listen;
	err = NULL;
	assert_null(http_server_new(&o, &err));
	assert_non_null(strstr(err, listen));
	assert_non_null(strstr(err, "in use"));
	free(err);

	struct http_route bad = { "GET", "/a/*/b", h_hello, 0 };
	o = (struct http_server_options){ .listen = "127.0.0.1:0", .routes = &bad, .nroutes = 1 };
	err = NULL;
	assert_null(http_server_new(&o, &err));
	assert_non_null(strstr(err, "/a/*/b"));
	free(err);
	http_server_free(NULL);
}

static void test_ipv6(void **state)
{
	char *err = NULL;
	struct http_server_options o = {
		.listen = "[::1]:0", .routes = routes, .nroutes = ARRAY_SIZE(routes),
	};
	struct http_server *s6 = http_server_new(&o, &err);
	if (!s6) {
		free(err);
		skip(); /* no IPv6 loopback here */
	}
	int saved = port;
	struct reply r;
	port = http_server_port(s6);
	assert_true(port > 0);
	call(&(struct call){ .method = "GET", .path = "/q", .host = "[::1]" }, &r);
	port = saved;
	assert_int_equal(r.status, 200);
	json_t *j = reply_json(&r);
	assert_json_str(j, "ip", "::1");
	json_decref(j);
	reply_release(&r);
	http_server_free(s6);
}

static void test_port(void **state)
{
	assert_true(port > 0 && port < 65536);
	assert_true(fallback_port > 0 && fallback_port != port);
}

static void test_hello_and_defaults(void **state)
{
	struct reply r;
	char v[128];

	get("/hello", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.p, "hello");
	assert_string_equal(reply_header(&r, "Content-Type", v, sizeof(v)), "text/plain; charset=utf-8");
	assert_string_equal(reply_header(&r, "X-Frame-Options", v, sizeof(v)), "DENY");
	assert_string_equal(reply_header(&r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
	reply_release(&r);

	/* The handler's header wins over the default; a header with CR LF is dropped. */
	get("/frame", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(reply_header(&r, "X-Frame-Options", v, sizeof(v)), "SAMEORIGIN");
	assert_null(strstr(r.headers.p, "DENY"));
	assert_null(strstr(r.headers.p, "Injected"));
	assert_string_equal(reply_header(&r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
	reply_release(&r);
}

/* GETs path and checks the params the handler saw. */
static void assert_params(const char *path, const char *want_path, const char *const *want, size_t n)
{
	struct reply r;
	get(path, &r);
	if (r.status != 200)
		fail_msg("%s: status %ld", path, r.status);
	json_t *j = reply_json(&r);
	assert_json_str(j, "path", want_path);
	json_t *params = json_object_get(j, "params");
	assert_int_equal(json_array_size(params), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(params, i)), want[i]);
	json_decref(j);
	reply_release(&r);
}

static void test_params(void **state)
{
	assert_params("/", "/", NULL, 0);
	assert_params("/items/42", "/items/42", (const char *[]){ "42" }, 1);
	assert_params("/items/42?x=1", "/items/42", (const char *[]){ "42" }, 1);
	assert_params("/items/a%2Fb", "/items/a/b", (const char *[]){ "a/b" }, 1);
	assert_params("/items/%E6%97%A5%E6%9C%AC%E8%AA%9E", "/items/日本語",
		      (const char *[]){ "日本語" }, 1);
	assert_params("/items/a+b%20c", "/items/a+b c", (const char *[]){ "a+b c" }, 1);
	assert_params("/items/7/tags/%E3%81%82", "/items/7/tags/あ", (const char *[]){ "7", "あ" }, 2);
	assert_params("/files/a/b/c.txt", "/files/a/b/c.txt", (const char *[]){ "a/b/c.txt" }, 1);
	assert_params("/files/", "/files/", (const char *[]){ "" }, 1);
	assert_params("/o/AbC123.gif", "/o/AbC123.gif", (const char *[]){ "AbC123" }, 1);
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {
		"/nothing", "/hello/", "/items", "/items/", "/items/1/tags", "/files", "/o/.gif",
		"/o/x.png", "/Hello",
	};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct reply r;
		get(paths[i], &r);
		if (r.status != 404)
			fail_msg("%s: status %ld", paths[i], r.status);
		assert_error(&r, 404, "not_found");
		reply_release(&r);
	}
}

static void test_method_not_allowed(void **state)
{
	struct reply r;
	char v[128];

	call(&(struct call){ .method = "DELETE", .path = "/hello" }, &r);
	assert_error(&r, 405, "method_not_allowed");
	assert_string_equal(reply_header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
	reply_release(&r);

	call(&(struct call){ .method = "PUT", .path = "/items/9", .body = SLICE_LIT("{}") }, &r);
	assert_error(&r, 405, "method_not_allowed");
	assert_string_equal(reply_header(&r, "Allow", v, sizeof(v)), "GET, HEAD, DELETE");
	reply_release(&r);

	call(&(struct call){ .method = "GET", .path = "/echo" }, &r);
	assert_error(&r, 405, "method_not_allowed");
	assert_string_equal(reply_header(&r, "Allow", v, sizeof(v)), "POST");
	reply_release(&r);

	call(&(struct call){ .method = "DELETE", .path = "/items/9" }, &r);
	assert_int_equal(r.status, 200);
	json_t *j = reply_json(&r);
	assert_json_str(j, "method", "DELETE");
	json_decref(j);
	reply_release(&r);
}

static void test_head(void **state)
{
	struct reply r;
	char v[64];

	call(&(struct call){ .method = "HEAD", .path = "/hello" }, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_string_equal(reply_header(&r, "Content-Length", v, sizeof(v)), "5");
	assert_string_equal(reply_header(&r, "Content-Type", v, sizeof(v)), "text/plain; charset=utf-8");
	reply_release(&r);

	/* The handler sees GET with head set. */
	call(&(struct call){ .method = "HEAD", .path = "/items/1" }, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	reply_release(&r);

	call(&(struct call){ .method = "HEAD", .path = "/nothing" }, &r);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.body.len, 0);
	reply_release(&r);
}

static void fill_pattern(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 7 + i / 251);
}

static void test_body(void **state)
{
	size_t n = 200 << 10;
	_cleanup_free_ char *data = xmalloc(n);
	char v[64];
	fill_pattern(data, n);

	for (int chunked = 0; chunked < 2; chunked++) {
		struct reply r;
		call(&(struct call){ .method = "POST", .path = "/echo", .body = { data, n },
				     .chunked = chunked }, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(reply_header(&r, "X-Body-Length", v, sizeof(v)), "204800");
		assert_int_equal(r.body.len, n);
		assert_memory_equal(r.body.p, data, n);
		reply_release(&r);
	}

	/* Exactly at the cap is fine; an empty body too. */
	struct reply r;
	call(&(struct call){ .method = "POST", .path = "/small", .body = { data, 1024 } }, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 1024);
	reply_release(&r);
	call(&(struct call){ .method = "POST", .path = "/small", .body = { "", 0 } }, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(reply_header(&r, "X-Body-Length", v, sizeof(v)), "0");
	reply_release(&r);
}

static void assert_too_large(const struct reply *r, size_t cap)
{
	char want[80];
	assert_error(r, 413, "too_large");
	json_t *j = reply_json(r);
	snprintf(want, sizeof(want), "request body exceeds %zu bytes", cap);
	assert_json_str(json_object_get(j, "error"), "message", want);
	json_decref(j);
}

static void test_too_large(void **state)
{
	size_t n = 300 << 10;
	_cleanup_free_ char *data = xmalloc(n);
	struct reply r;
	fill_pattern(data, n);

	/* Declared length over the route's cap: refused before the body is read. */
	call(&(struct call){ .method = "POST", .path = "/small", .body = { data, 1025 } }, &r);
	assert_too_large(&r, 1024);
	reply_release(&r);

	/* Chunked: found out while reading, the rest is dropped. */
	call(&(struct call){ .method = "POST", .path = "/small", .body = { data, 20000 },
			     .chunked = true }, &r);
	assert_too_large(&r, 1024);
	reply_release(&r);

	/* The server default cap (256 KiB) for routes without their own. */
	for (int chunked = 0; chunked < 2; chunked++) {
		call(&(struct call){ .method = "POST", .path = "/echo", .body = { data, n },
				     .chunked = chunked }, &r);
		assert_too_large(&r, 256 << 10);
		reply_release(&r);
	}

	/* A chunked body that goes on and on: the connection is closed. */
	size_t huge = 17 << 20;
	_cleanup_free_ char *flood = xcalloc(1, huge);
	assert_int_not_equal(call_do(&(struct call){ .method = "POST", .path = "/small",
						     .body = { flood, huge }, .chunked = true }, &r),
			     CURLE_OK);
	reply_release(&r);

	/* And the server still answers. */
	get("/hello", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.p, "hello");
	reply_release(&r);
	call(&(struct call){ .method = "POST", .path = "/small", .body = { data, 10 } }, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body.p, data, 10);
	reply_release(&r);
}

static void test_accessors(void **state)
{
	struct reply r;

	call(&(struct call){ .method = "GET",
			     .path = "/q?name=%E3%81%82+%E3%81%84&flag&nul=a%00b",
			     .header = "X-Test: value 1",
			     .cookie = "sid=abc123; other=x" }, &r);
	assert_int_equal(r.status, 200);
	json_t *j = reply_json(&r);
	assert_json_str(j, "name", "あ い");
	assert_json_str(j, "flag", "");
	assert_true(json_is_null(json_object_get(j, "missing")));
	assert_true(json_is_null(json_object_get(j, "nul")));
	assert_json_str(j, "header", "value 1");
	assert_json_str(j, "sid", "abc123");
	assert_json_str(j, "other", "x");
	assert_json_str(j, "ip", "127.0.0.1");
	json_decref(j);
	reply_release(&r);

	get("/q", &r);
	j = reply_json(&r);
	assert_true(json_is_null(json_object_get(j, "name")));
	assert_true(json_is_null(json_object_get(j, "header")));
	assert_true(json_is_null(json_object_get(j, "sid")));
	json_decref(j);
	reply_release(&r);
}

static void test_bad_paths(void **state)
{
	static const char *const paths[] = { "/items/%zz", "/items/%", "/items/%4", "/items/a%00b" };
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct reply r;
		get(paths[i], &r);
		if (r.status != 400)
			fail_msg("%s: status %ld", paths[i], r.status);
		assert_error(&r, 400, "bad_request");
		reply_release(&r);
	}
}

static void test_no_status(void **state)
{
	struct reply r;
	get("/zero", &r);
	assert_error(&r, 500, "internal");
	assert_null(strstr(r.body.p, "forgot"));
	reply_release(&r);
}

static void test_redirect(void **state)
{
	struct reply r;
	char v[128];
	get("/redirect", &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(reply_header(&r, "Location", v, sizeof(v)), "/hello?from=redirect");
	reply_release(&r);
}

/* GETs path on a port and checks status, Content-Type and body. */
static void assert_static(int p, const char *path, long status, const char *type, const char *body)
{
	struct reply r;
	char v[128];
	int saved = port;
	port = p;
	get(path, &r);
	port = saved;
	if (r.status != status)
		fail_msg("%s: status %ld", path, r.status);
	if (type) {
		assert_string_equal(reply_header(&r, "Content-Type", v, sizeof(v)), type);
		assert_string_equal(reply_header(&r, "Cache-Control", v, sizeof(v)), "no-cache");
	}
	if (body)
		assert_string_equal(r.body.p, body);
	reply_release(&r);
}

static void test_static(void **state)
{
	const char *html = "text/html; charset=utf-8";

	assert_static(port, "/static/", 200, html, "<!doctype html><title>k</title>");
	assert_static(port, "/static/index.html", 200, html, "<!doctype html><title>k</title>");
	assert_static(port, "/static/app.js", 200, "text/javascript; charset=utf-8", "export const x = 1;\n");
	assert_static(port, "/static/style.css", 200, "text/css; charset=utf-8", "body{}");
	assert_static(port, "/static/logo.PNG", 200, "image/png", NULL);
	assert_static(port, "/static/data.bin", 200, "application/octet-stream", "bin");
	assert_static(port, "/static/sub/", 200, html, "sub index");
	assert_static(port, "/static/sub", 404, NULL, NULL);
	assert_static(port, "/static/missing.js", 404, NULL, NULL);

	static const char *const refused[] = {
		"/static/../etc/passwd", "/static/%2e%2e/etc/passwd", "/static/..%2fetc%2fpasswd",
		"/static/sub/../../etc/passwd", "/static/%2E%2E", "/static/sub/..",
		"/static/..%5c..%5cetc%5cpasswd", "/static/%2fetc%2fpasswd", "/static//etc/passwd",
	};
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		assert_static(port, refused[i], 404, NULL, NULL);

	/* The not_found hook of a server without routes. */
	assert_static(fallback_port, "/", 200, html, "<!doctype html><title>k</title>");
	assert_static(fallback_port, "/app.js", 200, "text/javascript; charset=utf-8", NULL);
	assert_static(fallback_port, "/../etc/passwd", 404, NULL, NULL);
	assert_static(fallback_port, "/%2e%2e/etc/passwd", 404, NULL, NULL);
	assert_static(fallback_port, "/%2e%2e%2f%2e%2e%2fetc/passwd", 404, NULL, NULL);
	assert_static(fallback_port, "/nothing", 404, NULL, NULL);
}

/* Sends raw bytes; with out, reads the answer (up to size - 1 bytes) until the
 * server closes, else hangs up at once. */
static void raw_send(const char *data, char *out, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t len = strlen(data), got = 0;
	ssize_t n;

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	while (out && got + 1 < size && (n = read(fd, out + got, size - got - 1)) > 0)
		got += (size_t)n;
	if (out)
		out[got] = '\0';
	close(fd);
}

/* Requests that end before the handler runs still free their state (ASan
 * checks at exit; MHD frees what is left when the server stops). */
static void test_unfinished_requests(void **state)
{
	char out[4096];
	struct reply r;

	raw_send("GET /hello HTTP/1.1\r\n", NULL, 0);
	raw_send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", NULL, 0);
	raw_send("GET /hello HTTP/1.1\r\nHost: x\r\nBad header\r\n\r\n", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	raw_send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200"));
	assert_non_null(strstr(out, "\r\n\r\nhello"));

	/* Headers over MHD's connection memory: MHD answers by itself. */
	size_t n = 100 << 10;
	_cleanup_free_ char *big = xmalloc(n + 16);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', n);
	big[n + 7] = '\0';
	call(&(struct call){ .method = "GET", .path = "/hello", .header = big }, &r);
	assert_true(r.status >= 400 && r.status < 500);
	reply_release(&r);

	get("/hello", &r);
	assert_int_equal(r.status, 200);
	reply_release(&r);
}

/* Many clients at once across the thread pool. */
static void *hammer(void *arg)
{
	for (int i = 0; i < 20; i++) {
		struct reply r;
		if (call_do(&(struct call){ .method = "GET", .path = "/items/77" }, &r) != CURLE_OK ||
		    r.status != 200 || !strstr(r.body.p, "\"77\""))
			*(int *)arg = 1;
		reply_release(&r);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	pthread_t t[8];
	int failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &failed), 0);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		pthread_join(t[i], NULL);
	assert_int_equal(failed, 0);
}

/* Resumes all once `want` requests are suspended at the same time. */
static void *resumer(void *arg)
{
	size_t want = *(size_t *)arg;
	pthread_mutex_lock(&wait_lock);
	while (nwaiting < want)
		pthread_cond_wait(&wait_cond, &wait_lock);
	for (size_t i = 0; i < nwaiting; i++)
		if (waiting_fail[i])
			http_resume_status(waiting[i], 503);
		else
			http_resume(waiting[i]);
	nwaiting = 0;
	pthread_mutex_unlock(&wait_lock);
	return NULL;
}

static void *wait_client(void *arg)
{
	struct reply r;
	char h[32];
	if (call_do(&(struct call){ .method = "GET", .path = "/wait/ok" }, &r) != CURLE_OK || r.status != 200 ||
	    strcmp(r.body.p, "waited") != 0 || strcmp(reply_header(&r, "X-Waited", h, sizeof(h)), "ok") != 0)
		*(int *)arg = 1;
	reply_release(&r);
	return NULL;
}

/* Four worker threads, twenty requests waiting at once: a suspended request
 * holds no thread, and each gets its own kept response. */
static void test_suspend_resume(void **state)
{
	pthread_t clients[20], res;
	size_t want = ARRAY_SIZE(clients);
	int failed = 0;
	assert_int_equal(pthread_create(&res, NULL, resumer, &want), 0);
	for (size_t i = 0; i < ARRAY_SIZE(clients); i++)
		assert_int_equal(pthread_create(&clients[i], NULL, wait_client, &failed), 0);
	for (size_t i = 0; i < ARRAY_SIZE(clients); i++)
		pthread_join(clients[i], NULL);
	pthread_join(res, NULL);
	assert_int_equal(failed, 0);

	/* a status replaced on resume keeps the body and headers */
	want = 1;
	assert_int_equal(pthread_create(&res, NULL, resumer, &want), 0);
	struct reply r;
	char h[32];
	get("/wait/fail", &r);
	pthread_join(res, NULL);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body.p, "waited");
	assert_string_equal(reply_header(&r, "X-Waited", h, sizeof(h)), "fail");
	reply_release(&r);

	/* HEAD through a suspension: headers only */
	want = 1;
	assert_int_equal(pthread_create(&res, NULL, resumer, &want), 0);
	call(&(struct call){ .method = "HEAD", .path = "/wait/head" }, &r);
	pthread_join(res, NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	reply_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_routes_check),
		cmocka_unit_test(test_route_match),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_hello_and_defaults),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_no_status),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_unfinished_requests),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_suspend_resume),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
