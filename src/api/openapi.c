/* openapi.c — GET /api/v1/openapi.yaml: the OpenAPI 3 description of this
 * API.  The document is docs/openapi.yaml, embedded at build time; the
 * integration test tests/integration/test_openapi.py keeps it and the
 * route table (api_routes[]) equal in both directions. */
#include "api/api_int.h"

#define OPENAPI_PATH "docs/openapi.yaml"

/* No login: the description holds nothing a tenant owns. */
void api_openapi_get(struct http_request *req, struct http_response *res)
{
	const struct embedded_file *f = embedded_find(OPENAPI_PATH);
	if (!f) {
		log_error("api: %s is not embedded in this binary", OPENAPI_PATH);
		http_response_error(res, 500, "internal", "internal error; see the server log", NULL);
		return;
	}
	http_response_text(res, 200, "application/yaml; charset=utf-8",
			   (struct slice){ (const char *)f->data, f->len });
	http_response_header(req, res, "Cache-Control", "no-cache");
}
