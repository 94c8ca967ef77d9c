/*
 * ops.c — the operator's endpoints on the console listener (the tracker
 * answers /healthz and /readyz too, track/track.c):
 *
 *   GET /healthz   liveness: 200 {"status":"ok"}; touches nothing
 *   GET /readyz    readiness: the store answers, not shutting down, the
 *                  tracker's writer queue below its bound (200 or 503)
 *   GET /metrics   Prometheus text 0.0.4 (core/metrics.h), for loopback
 *                  clients or with Authorization: Bearer <metrics_token>
 *
 * See docs/internals/OPS.md.
 */
#include "api/api_int.h"
#include "core/metrics.h"

#include <sodium.h>
#include <strings.h>

void api_healthz(struct http_request *req, struct http_response *res)
{
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_json(res, 200, ops_health());
}

void api_readyz(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	json_t *body;
	int status = ops_readiness(store_ping(api->store) >= 0, &body);
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_json(res, status, body);
}

/* 127.0.0.0/8 or ::1, and not relayed: a reverse proxy on this host makes
 * every client look local, so a request naming a forwarded client is not. */
static bool ops_loopback(struct http_request *req)
{
	const char *ip = req->remote_ip ? req->remote_ip : "";
	if (strncmp(ip, "127.", 4) != 0 && strcmp(ip, "::1") != 0)
		return false;
	return !http_header(req, "X-Forwarded-For") && !http_header(req, "Forwarded") &&
	       !http_header(req, "X-Real-IP");
}

/* Equal, in time independent of where they differ and of their lengths
 * (both are hashed first). */
static bool ops_token_equal(const char *given, const char *want)
{
	unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
	crypto_generichash(a, sizeof(a), (const unsigned char *)given, strlen(given), NULL, 0);
	crypto_generichash(b, sizeof(b), (const unsigned char *)want, strlen(want), NULL, 0);
	return sodium_memcmp(a, b, sizeof(a)) == 0;
}

static bool ops_metrics_allowed(struct http_request *req, const char *token)
{
	if (ops_loopback(req))
		return true;
	if (!token || !token[0])
		return false;
	const char *h = http_header(req, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return ops_token_equal(h, token);
}

void api_metrics(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	http_response_header(req, res, "Cache-Control", "no-store");
	if (!ops_metrics_allowed(req, api->cfg ? api->cfg->metrics_token : NULL)) {
		http_response_error(res, 403, "forbidden",
				    "metrics are for loopback clients or need Authorization: Bearer <metrics_token>",
				    NULL);
		return;
	}
	buf_reset(&res->body);
	if (metrics_render(&res->body) < 0) {
		buf_reset(&res->body);
		http_response_error(res, 500, "internal", "metrics did not fit the response", NULL);
		return;
	}
	res->status = 200;
	res->content_type = METRICS_CONTENT_TYPE;
}
