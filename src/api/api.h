/*
 * api — the console listener: the JSON API of docs/API.md (one file per
 * resource) and the console's static files.  Turns HTTP into calls on the
 * domain modules; owns no state of its own beyond struct api.
 */
#ifndef KUNREN_API_H
#define KUNREN_API_H

#include "auth/auth.h"
#include "core/core.h"
#include "deliver/deliver.h"
#include "http/http.h"
#include "store/store.h"

struct api {
	const struct config *cfg;
	struct store *store;
	struct deliver *deliver;
	const struct secret_key *key;  /* seals SMTP passwords */
	const char *id_domain;     /* for test mails' Message-IDs and sender */
	const char *tracker_url;   /* without trailing slash */
	const char *outbox_dir;    /* "" when mail goes to a relay */
	const char *console_url;   /* configured public URL, or "" (share links are then relative) */
	struct auth_limits limits;
	bool secure_cookies;
};

extern const struct http_route api_routes[];
extern const size_t api_routes_count;
/* Header pairs for every console response (CSP and friends), NULL-terminated. */
extern const char *const api_default_headers[];
/* Everything that is not an API route: the console's files. */
void api_not_found(struct http_request *req, struct http_response *res);

#endif
