/* Tests for src/http/response.c: response helpers, content types, static files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http.h"

struct fixture {
	struct http_request req;
	struct http_response res;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	f->req.arena = arena_new(0);
	buf_init(&f->res.body, 0);
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->dir[0])
		nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	buf_release(&f->res.body);
	arena_free(f->req.arena);
	free(f);
	return 0;
}

static const char *header(const struct http_response *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (strcmp(res->headers[i][0], name) == 0)
			return res->headers[i][1];
	return NULL;
}

static json_t *body_json(const struct http_response *res)
{
	json_t *j = json_loadb(res->body.p, res->body.len, 0, NULL);
	if (!j)
		fail_msg("not JSON: %s", res->body.p);
	return j;
}

static void test_text(void **state)
{
	struct fixture *f = *state;

	buf_puts(&f->res.body, "left over");
	http_response_text(&f->res, 201, "text/plain; charset=utf-8", SLICE_LIT("テキスト"));
	assert_int_equal(f->res.status, 201);
	assert_string_equal(f->res.content_type, "text/plain; charset=utf-8");
	assert_string_equal(f->res.body.p, "テキスト");

	/* A body over the response cap turns into a 500 error. */
	struct http_response small = { 0 };
	buf_init(&small.body, 100);
	char big[200] = { 0 };
	http_response_text(&small, 200, "text/plain", (struct slice){ big, sizeof(big) });
	assert_int_equal(small.status, 500);
	assert_non_null(strstr(small.body.p, "\"internal\""));
	buf_release(&small.body);
}

static void test_json(void **state)
{
	struct fixture *f = *state;

	http_response_json(&f->res, 200, json_pack("{s:s, s:i}", "name", "訓練", "n", 3));
	assert_int_equal(f->res.status, 200);
	assert_string_equal(f->res.content_type, "application/json; charset=utf-8");
	assert_string_equal(f->res.body.p, "{\"name\":\"訓練\",\"n\":3}");

	/* The reference is stolen: ASan would report a leak otherwise. */
	json_t *j = json_array();
	http_response_json(&f->res, 200, j);
	assert_string_equal(f->res.body.p, "[]");

	/* A failed constructor (NULL) is a 500, not a crash. */
	http_response_json(&f->res, 200, json_string("\xff\xfe"));
	assert_int_equal(f->res.status, 500);
	json_t *e = body_json(&f->res);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
			    "internal");
	json_decref(e);
}

static void test_error(void **state)
{
	struct fixture *f = *state;

	http_response_error(&f->res, 404, "not_found", "no such list", NULL);
	assert_int_equal(f->res.status, 404);
	assert_string_equal(f->res.content_type, "application/json; charset=utf-8");
	assert_string_equal(f->res.body.p, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such list\"}}");

	json_t *details = json_pack("[{s:s, s:s}]", "field", "name", "message", "is required");
	http_response_error(&f->res, 422, "invalid", "invalid input", details);
	assert_int_equal(f->res.status, 422);
	json_t *j = body_json(&f->res);
	json_t *d = json_object_get(json_object_get(j, "error"), "details");
	assert_int_equal(json_array_size(d), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "field")), "name");
	json_decref(j);

	/* A message that is not UTF-8 is left out rather than breaking the JSON. */
	http_response_error(&f->res, 400, "bad", "\xff", NULL);
	assert_string_equal(f->res.body.p, "{\"error\":{\"code\":\"bad\"}}");
	http_response_error(&f->res, 400, "bad", NULL, NULL);
	assert_string_equal(f->res.body.p, "{\"error\":{\"code\":\"bad\"}}");
}

static void test_headers_and_redirect(void **state)
{
	struct fixture *f = *state;
	char name[] = "X-Name", value[] = "v1";

	http_response_header(&f->req, &f->res, name, value);
	name[0] = value[0] = '?'; /* copied, not borrowed */
	assert_int_equal(f->res.nheaders, 1);
	assert_string_equal(header(&f->res, "X-Name"), "v1");

	buf_puts(&f->res.body, "old body");
	http_response_redirect(&f->req, &f->res, 303, "/e/abc?x=1");
	assert_int_equal(f->res.status, 303);
	assert_string_equal(header(&f->res, "Location"), "/e/abc?x=1");
	assert_int_equal(f->res.body.len, 0);
	assert_null(f->res.content_type);
}

static void test_mime_type(void **state)
{
	static const char *const cases[][2] = {
		{ "index.html", "text/html; charset=utf-8" },
		{ "a/b/page.HTM", "text/html; charset=utf-8" },
		{ "css/kunren.css", "text/css; charset=utf-8" },
		{ "js/app.js", "text/javascript; charset=utf-8" },
		{ "m.mjs", "text/javascript; charset=utf-8" },
		{ "i18n/ja.json", "application/json; charset=utf-8" },
		{ "favicon.svg", "image/svg+xml" },
		{ "a.png", "image/png" },
		{ "a.jpg", "image/jpeg" },
		{ "a.JPEG", "image/jpeg" },
		{ "a.gif", "image/gif" },
		{ "favicon.ico", "image/x-icon" },
		{ "f.woff2", "font/woff2" },
		{ "robots.txt", "text/plain; charset=utf-8" },
		{ "list.csv", "text/csv; charset=utf-8" },
		{ "archive.tar.gz", "application/octet-stream" },
		{ "noext", "application/octet-stream" },
		{ "dir.d/noext", "application/octet-stream" },
		{ "trailing.", "application/octet-stream" },
		{ "", "application/octet-stream" },
		{ ".js", "text/javascript; charset=utf-8" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(http_mime_type(cases[i][0]), cases[i][1]);
}

static void write_file(const char *dir, const char *rel, const char *data)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(file_write_atomic(path, data, strlen(data)), 0);
}

static void test_static_dir(void **state)
{
	struct fixture *f = *state;
	char sub[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-static-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(sub, sizeof(sub), "%s/js", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(f->dir, "index.html", "<h1>home</h1>");
	write_file(f->dir, "js/index.html", "js home");
	write_file(f->dir, "js/app.mjs", "export {};");

	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, ""), 0);
	assert_int_equal(f->res.status, 200);
	assert_string_equal(f->res.content_type, "text/html; charset=utf-8");
	assert_string_equal(f->res.body.p, "<h1>home</h1>");
	assert_string_equal(header(&f->res, "Cache-Control"), "no-cache");

	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, "js/app.mjs"), 0);
	assert_string_equal(f->res.content_type, "text/javascript; charset=utf-8");
	assert_string_equal(f->res.body.p, "export {};");
	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, "js/"), 0);
	assert_string_equal(f->res.body.p, "js home");

	/* Missing files and folders are -ENOENT and leave the response alone. */
	f->res.status = 0;
	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, "js"), -ENOENT);
	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, "missing.html"), -ENOENT);
	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, "js/app.mjs/x"), -ENOENT);
	assert_int_equal(f->res.status, 0);

	static const char *const refused[] = {
		"..", "../etc/passwd", "js/../index.html", "js/..", "/etc/passwd", "/",
		"js\\app.mjs", "..\\..\\etc\\passwd", "a/../../b",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (http_serve_static(&f->req, &f->res, f->dir, refused[i]) != -EINVAL)
			fail_msg("served \"%s\"", refused[i]);
	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, NULL), -EINVAL);
	assert_int_equal(f->res.status, 0);

	/* Dots that are not a ".." segment are ordinary names. */
	write_file(f->dir, "..a", "dots");
	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, "..a"), 0);
	assert_string_equal(f->res.body.p, "dots");
	assert_int_equal(http_serve_static(&f->req, &f->res, f->dir, "./index.html"), 0);
}

static void test_static_embedded(void **state)
{
	struct fixture *f = *state;
	const struct embedded_file *web = NULL;

	for (size_t i = 0; i < embedded_files_count && !web; i++)
		if (strncmp(embedded_files[i].path, "web/", 4) == 0)
			web = &embedded_files[i];
	assert_non_null(web); /* the console is always embedded */

	assert_int_equal(http_serve_static(&f->req, &f->res, "", web->path + 4), 0);
	assert_int_equal(f->res.status, 200);
	assert_int_equal(f->res.body.len, web->len);
	assert_memory_equal(f->res.body.p, web->data, web->len);
	assert_string_equal(f->res.content_type, http_mime_type(web->path));
	assert_string_equal(header(&f->res, "Cache-Control"), "no-cache");

	assert_int_equal(http_serve_static(&f->req, &f->res, NULL, "no/such/file.js"), -ENOENT);
	assert_int_equal(http_serve_static(&f->req, &f->res, "", "../web/index.html"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_and_redirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mime_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_embedded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
