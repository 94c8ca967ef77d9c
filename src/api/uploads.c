/*
 * uploads.c — /api/v1/uploads: trainers' own docx, xlsx and pdf files for
 * attachment scenarios (SPEC D5), and the sample copy of a scenario's
 * attachment (/api/v1/scenarios/{id}/attachment/sample).  A file is
 * checked (attach_check: a real OOXML package or PDF, no zip bomb, no
 * macros) before anything is stored.
 */
#include "api/api_int.h"

#include "attach/attach.h"
#include "content/content.h"

#include <sodium.h>

#define UPLOAD_NAME_MAX 200

static json_t *upload_json(const struct principal *p, const struct upload *u)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:s, s:o}", "id", (json_int_t)u->id, "name", u->name, "kind", u->kind,
			 "size", (json_int_t)u->size, "sha256", u->sha256, "created_at", api__time(p, u->created_at));
}

/* ?name=: the file's name as the trainer's computer had it: one line of
 * UTF-8, no path, ending in the extension of the kind the file is. */
static const char *name_problem(const char *name)
{
	if (!name || !slice_trim(slice_from(name)).len)
		return "is required (?name=<file name>)";
	if (strlen(name) > UPLOAD_NAME_MAX)
		return "is too long (at most 200 bytes)";
	if (!utf8_valid(name, strlen(name)))
		return "must be UTF-8";
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '/' || *c == '\\')
			return "must be a file name without / \\ or control characters";
	return NULL;
}

static bool ends_with_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e + 1 && name[n - e - 1] == '.' && !strcasecmp(name + n - e, ext);
}

void api_uploads_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	if (!p)
		return;
	const char *name = http_query(req, "name"), *why = name_problem(name), *msg = NULL;
	if (why) {
		api__field_error(res, "name", why);
		return;
	}
	if (!req->body.len) {
		api__field_error(res, "file", "is empty: send the file's bytes as the request body");
		return;
	}
	if (req->body.len > ATTACH_UPLOAD_MAX) {
		http_response_error(res, 413, "too_large", "the file must be at most 10 MiB", NULL);
		return;
	}
	enum attach_kind kind;
	if (attach_check(req->body, &kind, &msg) < 0) {
		api__field_error(res, "file", msg ? msg : "is not a docx, xlsx or pdf file");
		return;
	}
	const char *kname = attach_kind_name(kind);
	if (!ends_with_ext(name, kname)) {
		api__field_error(res, "name", arena_printf(req->arena, "must end in .%s: the file is a %s", kname, kname));
		return;
	}
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	crypto_hash_sha256(h, (const unsigned char *)req->body.p, req->body.len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	struct upload u = { .tenant_id = p->tenant.id, .name = name, .kind = kname, .size = (int64_t)req->body.len,
			    .sha256 = hex, .data = req->body, .created_at = now_unix() };
	int r = store_upload_add(api->store, &u, &u.id);
	if (r >= 0)
		r = store_upload_get(api->store, p->tenant.id, u.id, false, req->arena, &u);
	if (r < 0) {
		api__store_error(res, r, "upload");
		return;
	}
	api__audit(req, p, "upload.create", arena_printf(req->arena, "%s (%s, %lld bytes)", name, kname,
							 (long long)u.size));
	http_response_json(res, 201, upload_json(p, &u));
}

void api_uploads_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct upload *u;
	size_t n;
	if (!p)
		return;
	int r = store_uploads(api->store, p->tenant.id, req->arena, &u, &n);
	if (r < 0) {
		api__store_error(res, r, "uploads");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, upload_json(p, &u[i]));
	api__page_all(req, res, items, "id", true);
}

void api_upload_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct upload u;
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_upload_get(api->store, p->tenant.id, id, false, req->arena, &u);
	if (r < 0) {
		api__store_error(res, r, "upload");
		return;
	}
	http_response_json(res, 200, upload_json(p, &u));
}

void api_upload_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_upload_delete(api->store, p->tenant.id, id);
	if (r == -EBUSY) {
		http_response_error(res, 409, "in_use", "a scenario's attachment is this file; it cannot be deleted", NULL);
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "upload");
		return;
	}
	api__audit(req, p, "upload.delete", req->params[0]);
	http_response_json(res, 200, json_pack("{s:b, s:b}", "deleted", 1, "ok", 1));
}

bool api__attachment_upload_ok(struct http_request *req, struct http_response *res, const struct principal *p,
			       const char *attachment_json)
{
	struct api *api = req->app;
	json_error_t err;
	json_auto_t *decl = attachment_json ? json_loads(attachment_json, 0, &err) : NULL;
	json_t *id = json_object_get(decl, "upload");
	struct upload u;
	if (!id)
		return true;
	int r = store_upload_get(api->store, p->tenant.id, json_integer_value(id), false, req->arena, &u);
	if (r == -ENOENT) {
		api__field_error(res, "attachment.upload", "no such uploaded file");
		return false;
	}
	if (r < 0) {
		api__store_error(res, r, "upload");
		return false;
	}
	if (strcmp(u.kind, json_string_value(json_object_get(decl, "kind")))) {
		api__field_error(res, "attachment.kind", arena_printf(req->arena, "must be %s, the uploaded file's kind",
								      u.kind));
		return false;
	}
	return true;
}

/*
 * The scenario's attachment as a target would get it, for a made-up
 * target (the preview's sample person).  Its beacon and link name the rid
 * "sample", which the tracker knows no target by: opening the sample
 * records nothing.
 */
void api_scenario_attachment_sample(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct scenario_rec sc;
	struct upload u = { 0 };
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_scenario_get(api->store, p->tenant.id, id, req->arena, &sc);
	if (r < 0) {
		api__store_error(res, r, "scenario");
		return;
	}
	if (!sc.attachment_json) {
		http_response_error(res, 404, "no_attachment", "this scenario has no attachment", NULL);
		return;
	}
	json_error_t err;
	json_auto_t *decl = json_loads(sc.attachment_json, 0, &err);
	json_int_t upload_id = json_integer_value(json_object_get(decl, "upload"));
	if (upload_id > 0 && (r = store_upload_get(api->store, p->tenant.id, upload_id, true, req->arena, &u)) < 0) {
		api__store_error(res, r, "the scenario's uploaded file");
		return;
	}
	struct merge_vars vars;
	content_sample_vars(api->tracker_url, "sample", sc.sender_name, req->arena, &vars);
	struct deliver_file file;
	r = deliver_attachment(&sc, &vars, api->tracker_url, "sample", u.data, req->arena, &file);
	if (r < 0) {
		log_error("api: the sample attachment of scenario %lld: %s", (long long)id, strerror(-r));
		http_response_error(res, 500, "internal", "the sample file could not be built; see the server log", NULL);
		return;
	}
	http_response_header(req, res, "X-Kunren-Password", vars.v[MF_PASSWORD]);
	api__send_file(req, res, file.content_type, file.filename, &file.data);
	buf_release(&file.data);
}
