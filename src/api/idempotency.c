/*
 * idempotency.c — Idempotency-Key on the console's POSTs (docs/API.md,
 * "Idempotency keys"): the `around` hook of the console listener.
 *
 * An authenticated POST on /api/v1 with the header is remembered for 24 h
 * per (tenant, credential, key).  Before the handler runs, the key is
 * claimed in the store (one transaction): a new claim runs the handler and
 * keeps its answer, body sealed with the server key; a claim already there
 * answers for it — 422 idempotency_mismatch when the method, target or body
 * differ, 409 idempotency_in_progress while the first still runs, else the
 * kept answer again with `Idempotency-Replayed: true`.
 *
 * Not kept (the claim is released, so a repeat runs again): 5xx and 429
 * answers, streams and suspended answers (their body or status comes
 * later), and answers that set a cookie (a session is not replayed).
 *
 * Who the caller is comes from the console's own authentication
 * (api__auth_self, with the write rule's CSRF check); a request it refuses
 * goes to its handler untouched, which refuses it in turn (the credential is
 * checked once per request: the handler's own authentication reuses it).
 * The credential is stored only as an HMAC under the server key.
 */
#include "api/api_int.h"

#include <pthread.h>
#include <sodium.h>
#include <strings.h>

#define IDEM_KEY_MAX 255
#define IDEM_TTL ((int64_t)24 * 3600)
#define IDEM_HEX (2 * 32 + 1) /* a SHA-256 or HMAC-SHA256 in hex, with its NUL */

/* This process's claims: a row still running under another owner was left
 * by a process that is gone (one server per data folder). */
static int64_t idem_instance;
static pthread_once_t idem_instance_once = PTHREAD_ONCE_INIT;

static void idem_instance_init(void)
{
	do
		random_bytes(&idem_instance, sizeof(idem_instance));
	while (idem_instance == 0);
}

/* 1–255 printable ASCII characters (space to tilde). */
static bool idem_key_valid(const char *key)
{
	size_t n = 0;

	for (; key[n]; n++)
		if (n >= IDEM_KEY_MAX || key[n] < 0x20 || key[n] > 0x7e)
			return false;
	return n > 0;
}

/* The credential authenticate() accepted, HMAC'ed: the API key after
 * "Bearer " when there is an Authorization (api__authorization, the same
 * reading as authenticate's), else the session cookie. */
static bool idem_credential(const struct api *api, struct http_request *req, char ret[IDEM_HEX])
{
	const char *authz = api__authorization(req);
	const char *kind = authz ? "api-key" : "session";
	const char *secret = authz ? (strlen(authz) >= 7 ? authz + 7 : NULL) : http_cookie(req, "kunren_session");
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	if (!secret)
		return false;
	_Static_assert(sizeof(api->key->k) == crypto_auth_hmacsha256_KEYBYTES, "the server key is an HMAC key");
	crypto_auth_hmacsha256_init(&st, api->key->k, sizeof(api->key->k));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"kunren idempotency ", 19);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(ret, IDEM_HEX, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
	return true;
}

/* What makes two requests the same one: method, target (path and query as
 * received) and body — HMAC'ed like the credential, not a bare hash: bodies
 * hold passwords (a new user's, an SMTP relay's) that a plain SHA-256 in the
 * database would let anyone with a backup guess offline. */
static void idem_fingerprint(const struct api *api, struct http_request *req, char ret[IDEM_HEX])
{
	const char *target = http_target(req);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, api->key->k, sizeof(api->key->k));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"kunren idempotency request ", 27);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)req->method, strlen(req->method) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)target, strlen(target) + 1);
	if (req->body.len)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)req->body.p, req->body.len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(ret, IDEM_HEX, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* Whether res may be kept and replayed. */
static bool idem_keepable(struct http_request *req, const struct http_response *res)
{
	if (res->stream || http_suspended(req))
		return false;
	if (res->status < 100 || res->status >= 500 || res->status == 429)
		return false;
	/* One slot must stay free for Idempotency-Replayed. */
	if (res->nheaders >= HTTP_MAX_HEADERS)
		return false;
	for (size_t i = 0; i < res->nheaders; i++)
		if (!strcasecmp(res->headers[i][0], "Set-Cookie"))
			return false;
	return true;
}

/* Keeps res as the answer of the claim e (the claim is released when that
 * fails: a repeat then runs again rather than waiting on a dead claim). */
static void idem_keep(struct http_request *req, const struct http_response *res, struct idempotency_entry *e)
{
	struct api *api = req->app;
	_cleanup_buf_ struct buf sealed = BUF_INIT(st_add(res->body.len, 256));
	_cleanup_buf_ struct buf headers = BUF_INIT(0);
	json_t *h = json_array();
	int r = h ? 0 : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < res->nheaders; i++)
		if (json_array_append_new(h, json_pack("[ss]", res->headers[i][0], res->headers[i][1])) < 0)
			r = -ENOMEM;
	if (r >= 0)
		r = json_put(&headers, h);
	json_decref(h);
	if (r >= 0)
		r = secret_seal(api->key, buf_slice(&res->body), &sealed);
	if (r >= 0) {
		e->status = res->status;
		e->content_type = res->content_type ? res->content_type : "";
		e->headers = headers.p;
		e->body_sealed = buf_slice(&sealed);
		r = store_idempotency_finish(api->store, e);
	}
	/* -ENOENT: the row went meanwhile with the account's others (its role
	 * or password changed, it or its key was deleted: 0015's triggers) */
	if (r < 0 && r != -ENOENT) {
		log_error("idempotency: could not keep the answer to %s %s: %s", req->method, req->path, strerror(-r));
		store_idempotency_release(api->store, e);
	}
}

/* Answers with the kept answer of e. */
static void idem_replay(struct http_request *req, struct http_response *res, const struct idempotency_entry *e)
{
	struct api *api = req->app;
	json_t *h = json_loads(e->headers, 0, NULL);
	size_t i;
	json_t *pair;

	buf_reset(&res->body);
	int r = secret_open(api->key, e->body_sealed, &res->body);
	if (r < 0 || !json_is_array(h)) {
		json_decref(h);
		log_error("idempotency: the kept answer to %s %s cannot be read: %s", req->method, req->path,
			  r < 0 ? strerror(-r) : "bad headers");
		buf_reset(&res->body);
		http_response_error(res, 500, "internal", "internal error", NULL);
		return;
	}
	res->status = (int)e->status;
	res->content_type = e->content_type[0] ? e->content_type : NULL;
	res->nheaders = 0;
	json_array_foreach(h, i, pair) {
		const char *name = json_string_value(json_array_get(pair, 0));
		const char *value = json_string_value(json_array_get(pair, 1));
		if (name && value && res->nheaders < HTTP_MAX_HEADERS - 1)
			http_response_header(req, res, name, value);
	}
	json_decref(h);
	http_response_header(req, res, "Idempotency-Replayed", "true");
}

void api_idempotency_around(struct http_request *req, struct http_response *res, http_handler_fn fn)
{
	struct api *api = req->app;
	const char *key = http_header(req, "Idempotency-Key");
	char credential[IDEM_HEX], fingerprint[IDEM_HEX];

	/* Without a server key nothing could be sealed: there is always one
	 * in `kunren serve`; a test app without one gets no idempotency. */
	if (!key || strcmp(req->method, "POST") != 0 || strncmp(req->path, "/api/v1/", 8) != 0 || !api->key) {
		fn(req, res);
		return;
	}

	struct http_response refused = { .body = BUF_INIT(4096) };
	struct principal *p = api__auth_self(req, &refused, API_WRITE);
	buf_release(&refused.body);
	if (!p || !idem_credential(api, req, credential)) {
		fn(req, res); /* its handler refuses it (or lets it in) as usual */
		return;
	}
	if (!idem_key_valid(key)) {
		api__field_error(res, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
		return;
	}
	idem_fingerprint(api, req, fingerprint);
	pthread_once(&idem_instance_once, idem_instance_init);

	struct idempotency_entry e = {
		.tenant_id = p->acc.tenant_id,
		.credential = credential,
		.key = key,
		.account_id = p->acc.id,
		.api_key_id = p->api_key_id,
		.fingerprint = fingerprint,
		.owner = idem_instance,
	}, old = { 0 };
	int r = store_idempotency_claim(api->store, &e, now_unix(), IDEM_TTL, req->arena, &old);
	if (r < 0) {
		api__store_error(res, r, "idempotency key");
		return;
	}
	if (r == 1) {
		if (strcmp(old.fingerprint, fingerprint) != 0)
			http_response_error(res, 422, "idempotency_mismatch",
					    "this Idempotency-Key was used with a different request", NULL);
		else if (old.owner != 0) {
			http_response_error(res, 409, "idempotency_in_progress",
					    "a request with this Idempotency-Key is still running; try again", NULL);
			http_response_header(req, res, "Retry-After", "1");
		} else
			idem_replay(req, res, &old);
		return;
	}

	fn(req, res);
	if (idem_keepable(req, res))
		idem_keep(req, res, &e);
	else
		store_idempotency_release(api->store, &e);
}
