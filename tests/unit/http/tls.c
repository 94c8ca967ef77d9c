/* Tests for src/http/tls.c: loading certificate and key files (and the
 * errors naming them), the life of a pair across reloads while
 * connections hold it, and a real TLS server spoken to with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/tls.c"
#include "../testtool.h"

static char dir[64];

static char *path(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd, *full, *out;
	int status;

	va_start(ap, fmt);
	BUG_ON(vasprintf(&cmd, fmt, ap) < 0);
	va_end(ap);
	full = xasprintf("cd %s && (%s) 2>&1", dir, cmd);
	out = test_run(full, &status);
	if (status != 0)
		fail_msg("%s: %s", cmd, out);
	free(out);
	free(full);
	free(cmd);
}

/* ca.pem; a.pem/a.key and b.pem/b.key signed by it (127.0.0.1). */
static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/kunren-tls-XXXXXX");
	BUG_ON(!mkdtemp(dir));
	sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
	   "-out ca.pem -subj /CN=ca -days 2");
	for (const char *n = "ab"; *n; n++)
		sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %c.key -out %c.csr "
		   "-subj /CN=%c && printf 'subjectAltName=IP:127.0.0.1\\n' > %c.ext && "
		   "openssl x509 -req -in %c.csr -CA ca.pem -CAkey ca.key -set_serial %d -days 2 "
		   "-extfile %c.ext -out %c.pem && chmod 600 %c.key",
		   *n, *n, *n, *n, *n, 10 + *n, *n, *n, *n);
	sh("printf 'garbage\\n' > junk.pem");
	return 0;
}

static int teardown(void **state)
{
	sh("rm -f ca.* a.* b.* junk.pem");
	rmdir(dir);
	return 0;
}

static void expect_error(const char *cert, const char *key, const char *want)
{
	_cleanup_free_ char *c = path(cert), *k = path(key);
	char *err = NULL;
	struct http_tls *t = http__tls_new(c, k, &err);

	assert_null(t);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	free(err);
}

static void test_load_errors(void **state)
{
	_cleanup_free_ char *missing = path("missing.pem"), *junk = path("junk.pem"), *bkey = path("b.key"),
			    *apem = path("a.pem");
	char want[256];

	snprintf(want, sizeof(want), "certificate %s: No such file or directory", missing);
	expect_error("missing.pem", "a.key", want);
	snprintf(want, sizeof(want), "certificate %s:", junk);
	expect_error("junk.pem", "a.key", want);
	snprintf(want, sizeof(want), "private key %s:", junk);
	expect_error("a.pem", "junk.pem", want);
	snprintf(want, sizeof(want), "private key %s:", apem);
	expect_error("a.pem", "a.pem", want); /* a certificate is no key */
	snprintf(want, sizeof(want), "private key %s does not belong to the certificate %s", bkey, apem);
	expect_error("a.pem", "b.key", want);
}

/* The first certificate's DER of a pair. */
static struct slice pair_der(const struct tls_pair *p)
{
	return (struct slice){ (const char *)p->certs[0].cert.data, p->certs[0].cert.size };
}

static void test_reload_keeps_pairs_in_use(void **state)
{
	_cleanup_free_ char *cert = path("live.pem"), *key = path("live.key");
	char *err = NULL;
	struct tls_conn *c1, *c2;
	struct tls_pair *a, *b;
	void *ctx1 = NULL, *ctx2 = NULL;

	sh("cp a.pem live.pem && cp a.key live.key");
	struct http_tls *t = http__tls_new(cert, key, &err);
	assert_non_null(t);
	a = t->current;
	assert_int_equal(a->ncerts, 1);

	/* connection 1 starts and shakes hands with A */
	tls_connection(t, NULL, &ctx1, MHD_CONNECTION_NOTIFY_STARTED);
	c1 = ctx1;
	assert_ptr_equal(tls_conn_pick(c1), a);
	assert_ptr_equal(tls_conn_pick(c1), a); /* again (a retried hello): counted once */
	assert_int_equal(a->users, 1);

	/* reload to B: A retires, still held by connection 1 */
	sh("cp b.pem live.pem && cp b.key live.key");
	assert_int_equal(http__tls_reload(t, &err), 0);
	b = t->current;
	assert_ptr_not_equal(a, b);
	assert_false(slice_eq(pair_der(a), pair_der(b)));
	assert_ptr_equal(t->retired, a);

	/* connection 2 gets B */
	tls_connection(t, NULL, &ctx2, MHD_CONNECTION_NOTIFY_STARTED);
	c2 = ctx2;
	assert_ptr_equal(tls_conn_pick(c2), b);

	/* a broken file: B stays, the error names the file */
	sh("printf 'junk\\n' > live.key");
	assert_int_equal(http__tls_reload(t, &err), -EINVAL);
	assert_non_null(strstr(err, key));
	free(err);
	err = NULL;
	assert_ptr_equal(t->current, b);

	/* connection 1 closes: A goes (ASan would see a leak or a double free) */
	tls_connection(t, NULL, &ctx1, MHD_CONNECTION_NOTIFY_CLOSED);
	assert_null(ctx1);
	assert_null(t->retired);
	assert_int_equal(b->users, 1);

	/* reload while nobody holds B: B goes at once */
	sh("cp a.key live.key && cp a.pem live.pem");
	tls_connection(t, NULL, &ctx2, MHD_CONNECTION_NOTIFY_CLOSED);
	assert_int_equal(http__tls_reload(t, &err), 0);
	assert_null(t->retired);
	/* a connection closed before its handshake held nothing */
	tls_connection(t, NULL, &ctx1, MHD_CONNECTION_NOTIFY_STARTED);
	tls_connection(t, NULL, &ctx1, MHD_CONNECTION_NOTIFY_CLOSED);
	http__tls_free(t);
	http__tls_free(NULL);
	sh("rm -f live.pem live.key");
}

/* ---- a real server ---- */

static void h_hello(struct http_request *req, struct http_response *res)
{
	http_response_text(res, 200, "text/plain", SLICE_LIT("hello"));
}

static const struct http_route routes[] = {
	{ "GET", "/hello", h_hello, 0 },
};

static size_t sink(char *p, size_t size, size_t n, void *ctx)
{
	return buf_append(ctx, p, size * n) == 0 ? size * n : 0;
}

/* GET /hello on handle h (which may keep its connection); the body and
 * the subject's CN of the server certificate seen. */
static void get(CURL *h, int port, struct buf *body, const char *want_cn)
{
	_cleanup_free_ char *url = xasprintf("https://127.0.0.1:%d/hello", port);
	_cleanup_free_ char *ca = path("ca.pem");
	struct curl_certinfo *ci = NULL;
	long status = 0;
	bool found = false;

	buf_reset(body);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	assert_string_equal(body->p, "hello");
	curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci);
	if (!ci || ci->num_of_certs < 1)
		return; /* a reused connection: no new handshake, no info */
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
		if (!strncmp(s->data, "Subject:", 8) && strstr(s->data, want_cn))
			found = true;
	assert_true(found);
}

static void test_server(void **state)
{
	_cleanup_free_ char *cert = path("live.pem"), *key = path("live.key");
	_cleanup_buf_ struct buf body = BUF_INIT(0);
	char *err = NULL;

	sh("cp a.pem live.pem && cp a.key live.key");
	struct http_server_options o = {
		.listen = "127.0.0.1:0", .threads = 2, .routes = routes, .nroutes = ARRAY_SIZE(routes),
		.tls_cert = cert, .tls_key = key, .hsts_max_age = 60,
	};
	struct http_server *s = http_server_new(&o, &err);
	if (!s)
		fail_msg("%s", err);
	assert_true(http_server_tls(s));
	int port = http_server_port(s);

	CURL *old = curl_easy_init();
	get(old, port, &body, "CN = a");
	sh("cp b.pem live.pem && cp b.key live.key");
	assert_int_equal(http_server_tls_reload(s, &err), 0);
	CURL *fresh = curl_easy_init();
	get(fresh, port, &body, "CN = b");
	get(old, port, &body, "CN = a"); /* kept its connection */
	curl_easy_cleanup(fresh);
	curl_easy_cleanup(old);
	http_server_free(s);

	/* half a pair is an error, not plain HTTP */
	o.tls_key = "";
	assert_null(http_server_new(&o, &err));
	assert_non_null(strstr(err, "both a certificate file and a key file"));
	free(err);
	sh("rm -f live.pem live.key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_reload_keeps_pairs_in_use),
		cmocka_unit_test(test_server),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int r = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return r;
}
