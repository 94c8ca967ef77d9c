/* api.c — the route table, authentication, shared helpers, the console files. */
#include "api/api_int.h"

#define KB(n) ((size_t)(n) * 1024)

const struct http_route api_routes[] = {
	{ "POST", "/api/v1/login", api_login, KB(16) },
	{ "POST", "/api/v1/logout", api_logout, KB(16) },
	{ "GET", "/api/v1/me", api_me, 0 },
	{ "GET", "/api/v1/lists", api_lists_get, 0 },
	{ "POST", "/api/v1/lists", api_lists_post, KB(64) },
	{ "GET", "/api/v1/lists/template.csv", api_list_template, 0 },
	{ "GET", "/api/v1/lists/{id}", api_list_get, 0 },
	{ "DELETE", "/api/v1/lists/{id}", api_list_delete, 0 },
	{ "PATCH", "/api/v1/lists/{id}", api_list_patch, KB(64) },
	{ "POST", "/api/v1/lists/{id}/import", api_list_import, (size_t)64 << 20 },
	{ "GET", "/api/v1/lists/{id}/export.csv", api_list_export, 0 },
	{ "GET", "/api/v1/lists/{id}/recipients", api_list_recipients, 0 },
	{ "POST", "/api/v1/lists/{id}/recipients", api_list_recipient_add, KB(64) },
	{ "POST", "/api/v1/lists/{id}/recipients/delete", api_list_recipients_delete, (size_t)64 << 20 },
	{ "GET", "/api/v1/lists/{id}/recipients/{rid}", api_list_recipient_get, 0 },
	{ "PATCH", "/api/v1/lists/{id}/recipients/{rid}", api_list_recipient_patch, KB(64) },
	{ "DELETE", "/api/v1/lists/{id}/recipients/{rid}", api_list_recipient_delete, 0 },
	{ "GET", "/api/v1/gallery", api_gallery_get, 0 },
	{ "GET", "/api/v1/gallery/{id}", api_gallery_one, 0 },
	{ "GET", "/api/v1/scenarios", api_scenarios_get, 0 },
	{ "POST", "/api/v1/scenarios", api_scenarios_post, (size_t)4 << 20 },
	{ "POST", "/api/v1/scenarios/preview", api_scenario_preview, (size_t)4 << 20 },
	{ "POST", "/api/v1/scenarios/text-from-html", api_scenario_text_from_html, (size_t)2 << 20 },
	{ "GET", "/api/v1/scenarios/{id}", api_scenario_get, 0 },
	{ "PATCH", "/api/v1/scenarios/{id}", api_scenario_patch, (size_t)4 << 20 },
	{ "DELETE", "/api/v1/scenarios/{id}", api_scenario_delete, 0 },
	{ "GET", "/api/v1/campaigns", api_campaigns_get, 0 },
	{ "POST", "/api/v1/campaigns", api_campaigns_post, KB(64) },
	{ "GET", "/api/v1/campaigns/{id}", api_campaign_get, 0 },
	{ "POST", "/api/v1/campaigns/{id}/launch", api_campaign_launch, KB(16) },
	{ "POST", "/api/v1/campaigns/{id}/cancel", api_campaign_cancel, KB(16) },
	{ "POST", "/api/v1/campaigns/{id}/pause", api_campaign_pause, KB(16) },
	{ "POST", "/api/v1/campaigns/{id}/resume", api_campaign_resume, KB(16) },
	{ "PATCH", "/api/v1/campaigns/{id}", api_campaign_patch, KB(64) },
	{ "GET", "/api/v1/campaigns/{id}/plan", api_campaign_plan, 0 },
	{ "POST", "/api/v1/schedule/preview", api_schedule_preview, KB(64) },
	{ "GET", "/api/v1/sending-profiles", api_profiles_get, 0 },
	{ "POST", "/api/v1/sending-profiles", api_profiles_post, KB(16) },
	{ "GET", "/api/v1/sending-profiles/{id}", api_profile_get, 0 },
	{ "PATCH", "/api/v1/sending-profiles/{id}", api_profile_patch, KB(16) },
	{ "DELETE", "/api/v1/sending-profiles/{id}", api_profile_delete, 0 },
	{ "POST", "/api/v1/sending-profiles/{id}/test", api_profile_test, KB(16) },
	{ "GET", "/api/v1/dkim-keys", api_dkim_get, 0 },
	{ "GET", "/api/v1/usage", api_usage_get, 0 },
	{ "GET", "/api/v1/campaigns/{id}/targets", api_campaign_targets, 0 },
	{ "GET", "/api/v1/campaigns/{id}/results.csv", api_campaign_results_csv, 0 },
	{ "GET", "/api/v1/campaigns/{id}/events.csv", api_campaign_events_csv, 0 },
	{ "GET", "/api/v1/campaigns/{id}/report.xlsx", api_campaign_report_xlsx, 0 },
	{ "GET", "/api/v1/campaigns/{id}/breakdown", api_campaign_breakdown, 0 },
	{ "GET", "/api/v1/campaigns/{id}/timeline", api_campaign_timeline, 0 },
	{ "POST", "/api/v1/campaigns/{id}/share", api_share_create, KB(16) },
	{ "GET", "/api/v1/campaigns/{id}/shares", api_shares_get, 0 },
	{ "DELETE", "/api/v1/shares/{id}", api_share_delete, 0 },
	{ "GET", "/api/v1/share/{token}", api_share_view, 0 },
	{ "GET", "/api/v1/share/{token}/results.csv", api_share_results_csv, 0 },
	{ "GET", "/api/v1/share/{token}/events.csv", api_share_events_csv, 0 },
	{ "GET", "/api/v1/share/{token}/report.xlsx", api_share_report_xlsx, 0 },
	{ "GET", "/api/v1/results/cumulative.csv", api_results_cumulative_csv, 0 },
	{ "GET", "/api/v1/results/trends", api_results_trends, 0 },
	{ "GET", "/api/v1/outbox", api_outbox_get, 0 },
	{ "GET", "/api/v1/outbox/{id}", api_outbox_one, 0 },
};
const size_t api_routes_count = ARRAY_SIZE(api_routes);

const char *const api_default_headers[] = {
	"Content-Security-Policy",
	"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
	"img-src 'self' data: http: https:; frame-src 'self'; connect-src 'self'; "
	"form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
	"X-Content-Type-Options", "nosniff",
	"X-Frame-Options", "DENY",
	"Referrer-Policy", "same-origin",
	NULL,
};

/* ---- helpers ---- */

void api__field_error(struct http_response *res, const char *field, const char *message)
{
	json_t *d = json_pack("[{s:s, s:s}]", "field", field, "message", message);
	_cleanup_free_ char *msg = xasprintf("%s: %s", field, message);
	http_response_error(res, 400, "invalid_field", msg, d);
}

void api__store_error(struct http_response *res, int r, const char *what)
{
	if (r == -ENOENT) {
		_cleanup_free_ char *msg = xasprintf("%s not found", what);
		http_response_error(res, 404, "not_found", msg, NULL);
	} else if (r == -EBUSY) {
		_cleanup_free_ char *msg = xasprintf("%s is not in a state that allows this", what);
		http_response_error(res, 409, "wrong_state", msg, NULL);
	} else if (r == -EEXIST) {
		_cleanup_free_ char *msg = xasprintf("%s already exists", what);
		http_response_error(res, 409, "exists", msg, NULL);
	} else {
		log_error("api: %s: %s", what, strerror(-r));
		http_response_error(res, 500, "internal", "internal error; see the server log", NULL);
	}
}

bool api__id(struct http_request *req, struct http_response *res, size_t i, int64_t *ret)
{
	if (i < req->nparams && slice_to_i64(slice_from(req->params[i]), 1, INT64_MAX, ret) == 0)
		return true;
	http_response_error(res, 404, "not_found", "no such object", NULL);
	return false;
}

bool api__paging(struct http_request *req, struct http_response *res, int64_t *ret_after, size_t *ret_limit)
{
	const char *l = http_query(req, "limit"), *a = http_query(req, "after");
	int64_t limit = 100, after = 0;
	if (l && slice_to_i64(slice_from(l), 1, 500, &limit) < 0) {
		api__field_error(res, "limit", "must be a whole number from 1 to 500");
		return false;
	}
	if (a && slice_to_i64(slice_from(a), 0, INT64_MAX, &after) < 0) {
		api__field_error(res, "after", "must be an id");
		return false;
	}
	*ret_after = after;
	*ret_limit = (size_t)limit;
	return true;
}

json_t *api__time(const struct principal *p, int64_t t)
{
	if (!t)
		return json_null();
	_cleanup_buf_ struct buf b = BUF_INIT(64);
	tz_put_iso(&b, p->zone, t);
	return json_stringn(b.p, b.len);
}

json_t *api__page(json_t *items, bool more, int64_t last_id)
{
	return json_pack("{s:o, s:o}", "items", items, "next_after", more ? json_integer(last_id) : json_null());
}

json_t *api__body(struct http_request *req, struct http_response *res)
{
	json_error_t err;
	json_t *j = json_loadb(req->body.p, req->body.len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		_cleanup_free_ char *msg = xasprintf("the body is not valid JSON (line %d, column %d: %s)", err.line,
						     err.column, err.text);
		http_response_error(res, 400, "invalid_json", msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		http_response_error(res, 400, "invalid_json", "the body must be a JSON object", NULL);
		return NULL;
	}
	return j;
}

void api__audit(struct http_request *req, const struct principal *p, const char *action, const char *detail)
{
	struct api *api = req->app;
	int r = store_audit_add(api->store, p->acc.tenant_id, p->acc.id, action, detail);
	if (r < 0)
		log_error("api: audit log write failed: %s", strerror(-r));
}

void api__send_file(struct http_request *req, struct http_response *res, const char *type,
		    const char *filename, struct buf *body)
{
	/* RFC 6266 / 5987: a UTF-8 file name for Excel and browsers. */
	_cleanup_buf_ struct buf cd = BUF_INIT(1024);
	buf_puts(&cd, "attachment; filename=\"download.csv\"; filename*=UTF-8''");
	buf_put_url(&cd, slice_from(filename));
	http_response_header(req, res, "Content-Disposition", cd.p);
	res->status = 200;
	res->content_type = type;
	buf_release(&res->body);
	res->body = *body;
	buf_init(body, body->max);
}

/* ---- authentication ---- */

static struct principal *principal_load(struct http_request *req, struct http_response *res,
					const struct account *acc)
{
	struct api *api = req->app;
	struct principal *p = arena_alloc(req->arena, sizeof(*p));
	if (!p) {
		api__store_error(res, -ENOMEM, "request");
		return NULL;
	}
	p->acc = *acc;
	if (acc->tenant_id == 0) {
		http_response_error(res, 403, "no_tenant", "this account does not belong to a tenant", NULL);
		return NULL;
	}
	int r = store_tenant_get(api->store, acc->tenant_id, req->arena, &p->tenant);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return NULL;
	}
	p->zone = tz_get(p->tenant.time_zone);
	if (!p->zone)
		p->zone = tz_get("UTC");
	return p;
}

struct principal *api__auth(struct http_request *req, struct http_response *res, enum api_need need)
{
	struct api *api = req->app;
	struct account acc;
	struct session ses;
	const char *authz = http_header(req, "Authorization");
	int r;

	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) != 0 ||
		    (r = auth_api_key_check(api->store, authz + 7, req->arena, &acc)) == -EACCES) {
			http_response_error(res, 401, "unauthorized", "invalid API key", NULL);
			return NULL;
		}
	} else {
		r = auth_session_check(api->store, http_cookie(req, "kunren_session"), &api->limits, req->arena,
				       &acc, &ses);
		if (r == -EACCES) {
			http_response_error(res, 401, "unauthorized", "please log in", NULL);
			return NULL;
		}
		if (r == 0 && need == API_WRITE) {
			const char *csrf = http_header(req, "X-CSRF-Token");
			if (!csrf || !auth_equal(csrf, ses.csrf_token)) {
				http_response_error(res, 403, "csrf", "missing or wrong X-CSRF-Token header", NULL);
				return NULL;
			}
		}
	}
	if (r < 0) {
		api__store_error(res, r, "session");
		return NULL;
	}
	if (need == API_WRITE && acc.role == ROLE_READONLY) {
		http_response_error(res, 403, "read_only", "this account can read but not change anything", NULL);
		return NULL;
	}
	struct principal *p = principal_load(req, res, &acc);
	if (p && !authz)
		p->csrf = ses.csrf_token;
	return p;
}

/* ---- session endpoints ---- */

static json_t *user_json(const struct principal *p)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:s, s:s}", "id", (json_int_t)p->acc.id, "username",
			 p->acc.username, "role", role_name(p->acc.role), "tenant_id", (json_int_t)p->acc.tenant_id,
			 "tenant_name", p->tenant.name, "time_zone", p->tenant.time_zone);
}

void api_login(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	json_auto_t *body = api__body(req, res);
	const char *user = NULL, *pass = NULL, *msg = NULL;
	struct account acc;
	const char *token, *csrf;

	if (!body)
		return;
	if (json_get_str(body, "username", true, 128, &user, &msg) < 0) {
		api__field_error(res, "username", msg);
		return;
	}
	if (json_get_str(body, "password", true, 1024, &pass, &msg) < 0) {
		api__field_error(res, "password", msg);
		return;
	}
	int r = auth_login(api->store, user, pass, req->arena, &acc, &token, &csrf);
	if (r == -EACCES) {
		/* not the user name: people type their password there by mistake */
		log_info("api: failed login from %s", req->remote_ip);
		http_response_error(res, 401, "login_failed", "wrong user name or password", NULL);
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "login");
		return;
	}
	struct principal *p = principal_load(req, res, &acc);
	if (!p) {
		auth_logout(api->store, token); /* no session left behind for a refused login */
		return;
	}
	api__audit(req, p, "login", req->remote_ip);
	_cleanup_free_ char *cookie = xasprintf("kunren_session=%s; HttpOnly; SameSite=Strict; Path=/%s", token,
						api->secure_cookies ? "; Secure" : "");
	http_response_header(req, res, "Set-Cookie", cookie);
	http_response_json(res, 200, json_pack("{s:o, s:s}", "user", user_json(p), "csrf_token", csrf));
}

void api_logout(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	if (!p)
		return;
	auth_logout(api->store, http_cookie(req, "kunren_session"));
	http_response_header(req, res, "Set-Cookie", "kunren_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
	http_response_json(res, 200, json_pack("{s:b}", "ok", 1));
}

void api_me(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	if (!p)
		return;
	json_t *j = json_pack("{s:o}", "user", user_json(p));
	if (p->csrf)
		json_object_set_new(j, "csrf_token", json_string(p->csrf));
	http_response_json(res, 200, j);
}

/* ---- console files ---- */

void api_not_found(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	if (!strncmp(req->path, "/api/", 5) || strcmp(req->method, "GET") != 0) {
		http_response_error(res, 404, "not_found", "no such API endpoint", NULL);
		return;
	}
	const char *rel = req->path + 1;
	if (http_serve_static(req, res, api->cfg->web_dir, rel) == 0)
		return;
	const char *last = strrchr(req->path, '/');
	if (last && !strchr(last, '.') && http_serve_static(req, res, api->cfg->web_dir, "index.html") == 0)
		return;
	http_response_text(res, 404, "text/plain; charset=utf-8", SLICE_LIT("Not Found\n"));
}
