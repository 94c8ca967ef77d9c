/* api.c — the route table, authentication, shared helpers, the console files. */
#include "api/api_int.h"

#include <ctype.h>

#include "attach/attach.h"

#define KB(n) ((size_t)(n) * 1024)

const struct http_route api_routes[] = {
	{ "POST", "/api/v1/login", api_login, KB(16) },
	{ "POST", "/api/v1/login/second", api_login_second, KB(16) },
	{ "POST", "/api/v1/logout", api_logout, KB(16) },
	{ "POST", "/api/v1/logout-all", api_logout_all, KB(16) },
	{ "POST", "/api/v1/password-reset", api_reset_begin, KB(16) },
	{ "POST", "/api/v1/password-reset/finish", api_reset_finish, KB(16) },
	{ "GET", "/api/v1/branding", api_branding_get, 0 },
	{ "GET", "/api/v1/branding/logo", api_branding_logo_get, 0 },
	{ "GET", "/api/v1/me", api_me, 0 },
	{ "PATCH", "/api/v1/me", api_me_patch, KB(16) },
	{ "POST", "/api/v1/me/password", api_me_password, KB(16) },
	{ "POST", "/api/v1/me/totp", api_me_totp, KB(16) },
	{ "POST", "/api/v1/me/totp/confirm", api_me_totp_confirm, KB(16) },
	{ "POST", "/api/v1/me/second-factor", api_me_second_factor, KB(16) },
	{ "GET", "/api/v1/me/api-keys", api_me_keys_get, 0 },
	{ "POST", "/api/v1/me/api-keys", api_me_keys_post, KB(16) },
	{ "DELETE", "/api/v1/me/api-keys/{id}", api_me_key_delete, 0 },
	{ "GET", "/api/v1/users", api_users_get, 0 },
	{ "POST", "/api/v1/users", api_users_post, KB(16) },
	{ "PATCH", "/api/v1/users/{id}", api_user_patch, KB(16) },
	{ "DELETE", "/api/v1/users/{id}", api_user_delete, 0 },
	{ "GET", "/api/v1/tenant", api_tenant_get, 0 },
	{ "POST", "/api/v1/tenant/deletion", api_tenant_deletion_post, KB(16) },
	{ "DELETE", "/api/v1/tenant/deletion", api_tenant_deletion_delete, 0 },
	{ "GET", "/api/v1/audit", api_audit_get, 0 },
	{ "GET", "/api/v1/audit.csv", api_audit_csv, 0 },
	{ "GET", "/api/v1/operator/tenants", api_op_tenants_get, 0 },
	{ "POST", "/api/v1/operator/tenants", api_op_tenants_post, KB(16) },
	{ "GET", "/api/v1/operator/tenants/{id}", api_op_tenant_get, 0 },
	{ "PATCH", "/api/v1/operator/tenants/{id}", api_op_tenant_patch, KB(16) },
	{ "DELETE", "/api/v1/operator/tenants/{id}", api_op_tenant_delete, 0 },
	{ "POST", "/api/v1/operator/tenants/{id}/renew", api_op_tenant_renew, KB(16) },
	{ "GET", "/api/v1/operator/deletions", api_op_deletions_get, 0 },
	{ "GET", "/api/v1/operator/nodes", api_op_nodes_get, 0 },
	{ "GET", "/api/v1/operator/branding", api_op_branding_get, 0 },
	{ "PUT", "/api/v1/operator/branding", api_op_branding_put, KB(16) },
	{ "PUT", "/api/v1/operator/branding/logo", api_op_branding_logo_put, KB(256) },
	{ "GET", "/api/v1/operator/domains", api_op_domains_get, 0 },
	{ "POST", "/api/v1/operator/domains", api_op_domains_post, KB(16) },
	{ "PATCH", "/api/v1/operator/domains/{id}", api_op_domain_patch, KB(16) },
	{ "DELETE", "/api/v1/operator/domains/{id}", api_op_domain_delete, 0 },
	{ "GET", "/api/v1/operator/audit", api_op_audit_get, 0 },
	{ "GET", "/api/v1/operator/usage", api_op_usage_get, 0 },
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
	{ "GET", "/api/v1/scenarios/{id}/attachment/sample", api_scenario_attachment_sample, 0 },
	{ "GET", "/api/v1/uploads", api_uploads_get, 0 },
	{ "POST", "/api/v1/uploads", api_uploads_post, ATTACH_UPLOAD_MAX },
	{ "GET", "/api/v1/uploads/{id}", api_upload_get, 0 },
	{ "DELETE", "/api/v1/uploads/{id}", api_upload_delete, 0 },
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
	{ "GET", "/api/v1/training-domains", api_training_domains_get, 0 },
	{ "GET", "/api/v1/campaigns/{id}/targets", api_campaign_targets, 0 },
	{ "GET", "/api/v1/campaigns/{id}/results.csv", api_campaign_results_csv, 0 },
	{ "GET", "/api/v1/campaigns/{id}/events.csv", api_campaign_events_csv, 0 },
	{ "GET", "/api/v1/campaigns/{id}/report.xlsx", api_campaign_report_xlsx, 0 },
	{ "GET", "/api/v1/campaigns/{id}/breakdown", api_campaign_breakdown, 0 },
	{ "GET", "/api/v1/campaigns/{id}/timeline", api_campaign_timeline, 0 },
	{ "GET", "/api/v1/campaigns/{id}/live", api_campaign_live, 0 },
	{ "GET", "/api/v1/campaigns/{id}/events", api_campaign_events_after, 0 },
	{ "GET", "/api/v1/report-mailbox", api_report_mailbox_get, 0 },
	{ "PUT", "/api/v1/report-mailbox", api_report_mailbox_put, KB(16) },
	{ "DELETE", "/api/v1/report-mailbox", api_report_mailbox_delete, 0 },
	{ "POST", "/api/v1/report-mailbox/test", api_report_mailbox_test, KB(16) },
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
	{ "GET", "/api/v1/education/{kind}.html", api_education_html, 0 },
	{ "GET", "/api/v1/education/{kind}.pdf", api_education_pdf, 0 },
	{ "GET", "/api/v1/education/{kind}", api_education_get, 0 },
	{ "PUT", "/api/v1/education/{kind}", api_education_put, KB(256) },
	/* openapi */
	{ "GET", "/api/v1/openapi.yaml", api_openapi_get, 0 },
	/* ops (part 7) */
	{ "GET", "/healthz", api_healthz, 0 },
	{ "GET", "/readyz", api_readyz, 0 },
	{ "GET", "/metrics", api_metrics, 0 },
	/* part 3: GoPhish's API (gophish.c, docs/GOPHISH.md); "summary" before "{id}";
	 * "//{id}": the python client's delete joins "/api/x/" and the id with '/' */
	{ "GET", "/api/campaigns/", api_gp_campaigns_get, 0 },
	{ "GET", "/api/campaigns", api_gp_campaigns_get, 0 },
	{ "POST", "/api/campaigns/", api_gp_campaigns_post, KB(64) },
	{ "POST", "/api/campaigns", api_gp_campaigns_post, KB(64) },
	{ "GET", "/api/campaigns/summary", api_gp_campaigns_summary, 0 },
	{ "GET", "/api/campaigns/{id}", api_gp_campaign_get, 0 },
	{ "DELETE", "/api/campaigns/{id}", api_gp_campaign_delete, 0 },
	{ "DELETE", "/api/campaigns//{id}", api_gp_campaign_delete, 0 },
	{ "GET", "/api/campaigns/{id}/results", api_gp_campaign_results, 0 },
	{ "GET", "/api/campaigns/{id}/summary", api_gp_campaign_summary, 0 },
	{ "GET", "/api/campaigns/{id}/complete", api_gp_campaign_complete, 0 },
	{ "GET", "/api/groups/", api_gp_groups_get, 0 },
	{ "GET", "/api/groups", api_gp_groups_get, 0 },
	{ "POST", "/api/groups/", api_gp_groups_post, (size_t)16 << 20 },
	{ "POST", "/api/groups", api_gp_groups_post, (size_t)16 << 20 },
	{ "GET", "/api/groups/summary", api_gp_groups_summary, 0 },
	{ "GET", "/api/groups/{id}", api_gp_group_get, 0 },
	{ "PUT", "/api/groups/{id}", api_gp_group_put, (size_t)16 << 20 },
	{ "DELETE", "/api/groups/{id}", api_gp_group_delete, 0 },
	{ "DELETE", "/api/groups//{id}", api_gp_group_delete, 0 },
	{ "GET", "/api/groups/{id}/summary", api_gp_group_summary, 0 },
	{ "GET", "/api/templates/", api_gp_templates_get, 0 },
	{ "GET", "/api/templates", api_gp_templates_get, 0 },
	{ "POST", "/api/templates/", api_gp_templates_post, (size_t)4 << 20 },
	{ "POST", "/api/templates", api_gp_templates_post, (size_t)4 << 20 },
	{ "GET", "/api/templates/{id}", api_gp_template_get, 0 },
	{ "PUT", "/api/templates/{id}", api_gp_template_put, (size_t)4 << 20 },
	{ "DELETE", "/api/templates/{id}", api_gp_template_delete, 0 },
	{ "DELETE", "/api/templates//{id}", api_gp_template_delete, 0 },
	{ "GET", "/api/pages/", api_gp_pages_get, 0 },
	{ "GET", "/api/pages", api_gp_pages_get, 0 },
	{ "POST", "/api/pages/", api_gp_pages_post, (size_t)4 << 20 },
	{ "POST", "/api/pages", api_gp_pages_post, (size_t)4 << 20 },
	{ "GET", "/api/pages/{id}", api_gp_page_get, 0 },
	{ "PUT", "/api/pages/{id}", api_gp_page_put, (size_t)4 << 20 },
	{ "DELETE", "/api/pages/{id}", api_gp_page_delete, 0 },
	{ "DELETE", "/api/pages//{id}", api_gp_page_delete, 0 },
	{ "GET", "/api/smtp/", api_gp_smtps_get, 0 },
	{ "GET", "/api/smtp", api_gp_smtps_get, 0 },
	{ "POST", "/api/smtp/", api_gp_smtps_post, KB(16) },
	{ "POST", "/api/smtp", api_gp_smtps_post, KB(16) },
	{ "GET", "/api/smtp/{id}", api_gp_smtp_get, 0 },
	{ "PUT", "/api/smtp/{id}", api_gp_smtp_put, KB(16) },
	{ "DELETE", "/api/smtp/{id}", api_gp_smtp_delete, 0 },
	{ "DELETE", "/api/smtp//{id}", api_gp_smtp_delete, 0 },
	{ "POST", "/api/util/send_test_email", api_gp_send_test_email, KB(64) },
	/* webhooks (part 5) */
	{ "GET", "/api/v1/webhooks", api_webhooks_get, 0 },
	{ "POST", "/api/v1/webhooks", api_webhooks_post, KB(16) },
	{ "GET", "/api/v1/webhooks/{id}", api_webhook_get, 0 },
	{ "PATCH", "/api/v1/webhooks/{id}", api_webhook_patch, KB(16) },
	{ "DELETE", "/api/v1/webhooks/{id}", api_webhook_delete, 0 },
	{ "POST", "/api/v1/webhooks/{id}/test", api_webhook_test, KB(16) },
	{ "GET", "/api/v1/webhooks/{id}/deliveries", api_webhook_deliveries, 0 },
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

bool api__delete_result(struct http_response *res, int r, const char *what, const char *busy)
{
	if (r == -EBUSY)
		http_response_error(res, 409, "in_use", busy, NULL);
	else if (r < 0)
		api__store_error(res, r, what);
	return r >= 0;
}

/* api__lists_all and its kin (api_int.h): one body, four row types. */
#define API_ALL(kind, type, what)                                                                              \
	struct principal *api__##kind##_all(struct http_request *req, struct http_response *res, type **ret,   \
					    size_t *ret_n)                                                     \
	{                                                                                                      \
		struct api *api = req->app;                                                                    \
		struct principal *p = api__auth(req, res, API_READ);                                           \
		int r = p ? store_##kind(api->store, p->tenant.id, req->arena, ret, ret_n) : 0;                \
		if (r < 0) {                                                                                   \
			api__store_error(res, r, what);                                                        \
			return NULL;                                                                           \
		}                                                                                              \
		return p;                                                                                      \
	}
API_ALL(lists, struct list_info, "lists")
API_ALL(campaigns, struct campaign, "campaigns")
API_ALL(scenarios, struct scenario_rec, "scenarios")
API_ALL(profiles, struct sending_profile, "sending profiles")

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

void api__send_file_as(struct http_request *req, struct http_response *res, const char *type,
		       const char *filename, const char *ascii_name, struct buf *body)
{
	/* RFC 6266 / 5987: a plain ASCII name for old clients, then the
	 * UTF-8 one for Excel and browsers. */
	_cleanup_buf_ struct buf cd = BUF_INIT(1024);
	const char *ext = strrchr(filename, '.');
	bool plain = true;
	for (const char *p = filename; *p && plain; p++)
		plain = *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
	buf_puts(&cd, "attachment; filename=\"");
	if (ascii_name)
		buf_puts(&cd, ascii_name);
	else if (plain)
		buf_puts(&cd, filename);
	else {
		buf_puts(&cd, "download");
		for (const char *p = ext; p && *p; p++) /* the extension when it is plain ASCII */
			if (!isalnum((unsigned char)*p) && *p != '.')
				ext = NULL;
		buf_puts(&cd, ext ? ext : "");
	}
	buf_puts(&cd, "\"; filename*=UTF-8''");
	buf_put_url(&cd, slice_from(filename));
	http_response_header(req, res, "Content-Disposition", cd.p);
	res->status = 200;
	res->content_type = type;
	buf_release(&res->body);
	res->body = *body;
	buf_init(body, body->max);
}

void api__send_file(struct http_request *req, struct http_response *res, const char *type,
		    const char *filename, struct buf *body)
{
	api__send_file_as(req, res, type, filename, NULL, body);
}

/* ---- authentication ---- */

enum auth_rule { RULE_TENANT, RULE_OWNER, RULE_SELF, RULE_OPERATOR };

const struct tz *api__zone(const char *name)
{
	const struct tz *z = name ? tz_get(name) : NULL;
	return z ? z : tz_get("UTC");
}

/* The caller's principal: with its tenant (403 suspended when it is), or
 * the operator's, who has none. */
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
		p->zone = api__zone(api->cfg->time_zone);
		return p;
	}
	int r = store_tenant_get(api->store, acc->tenant_id, req->arena, &p->tenant);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return NULL;
	}
	if (p->tenant.suspended) {
		http_response_error(res, 403, "suspended",
				    "this tenant is suspended; please contact the operator of the service", NULL);
		return NULL;
	}
	p->zone = api__zone(p->tenant.time_zone);
	return p;
}

/* What the request's credential proved, checked once per request (in
 * req->auth): the idempotency hook authenticates before the handler does,
 * and a second check would read and touch the session or key again. */
struct credential {
	int r;                 /* 0, -EACCES (unknown), or a store error */
	bool key;              /* an API key, not a session */
	struct account acc;
	struct session ses;
	int64_t key_id;
};

static const struct credential *credential_check(struct http_request *req)
{
	struct api *api = req->app;
	struct credential *c = req->auth;
	if (c)
		return c;
	if (!(c = arena_alloc(req->arena, sizeof(*c))))
		return NULL;
	const char *authz = api__authorization(req); /* + GoPhish's key styles on its routes (gophish.c) */
	c->key = authz != NULL;
	if (authz)
		c->r = strncasecmp(authz, "Bearer ", 7) != 0 ? -EACCES
			: auth_api_key_check(api->store, authz + 7, req->arena, &c->acc, &c->key_id);
	else
		c->r = auth_session_check(api->store, http_cookie(req, "kunren_session"), &api->limits, req->arena,
					  &c->acc, &c->ses);
	req->auth = c;
	return c;
}

static struct principal *authenticate(struct http_request *req, struct http_response *res, enum api_need need,
				      enum auth_rule rule)
{
	const struct credential *c = credential_check(req);
	if (!c) {
		http_response_error(res, 500, "internal", "internal error", NULL);
		return NULL;
	}
	struct account acc = c->acc;
	if (c->r == -EACCES) {
		http_response_error(res, 401, "unauthorized", c->key ? "invalid API key" : "please log in", NULL);
		return NULL;
	}
	if (c->r < 0) {
		api__store_error(res, c->r, "session");
		return NULL;
	}
	if (!c->key && need == API_WRITE) {
		const char *csrf = http_header(req, "X-CSRF-Token");
		if (!csrf || !auth_equal(csrf, c->ses.csrf_token)) {
			http_response_error(res, 403, "csrf", "missing or wrong X-CSRF-Token header", NULL);
			return NULL;
		}
	}
	if (rule == RULE_OPERATOR && acc.role != ROLE_OPERATOR) {
		http_response_error(res, 403, "operator_only", "only the operator of the service may do this", NULL);
		return NULL;
	}
	if ((rule == RULE_TENANT || rule == RULE_OWNER) && acc.tenant_id == 0) {
		http_response_error(res, 403, "no_tenant", "this account does not belong to a tenant", NULL);
		return NULL;
	}
	struct principal *p = principal_load(req, res, &acc);
	if (!p)
		return NULL;
	if (need == API_WRITE && acc.role == ROLE_READONLY && rule != RULE_SELF) {
		http_response_error(res, 403, "read_only", "this account can read but not change anything", NULL);
		return NULL;
	}
	if (rule == RULE_OWNER && acc.role != ROLE_OWNER) {
		http_response_error(res, 403, "owner_only", "only the tenant's owner account may do this", NULL);
		return NULL;
	}
	if (!c->key) {
		p->csrf = c->ses.csrf_token;
		p->session_id = c->ses.id;
	} else
		p->api_key_id = c->key_id;
	return p;
}

struct principal *api__auth(struct http_request *req, struct http_response *res, enum api_need need)
{
	return authenticate(req, res, need, RULE_TENANT);
}

struct principal *api__auth_owner(struct http_request *req, struct http_response *res, enum api_need need)
{
	return authenticate(req, res, need, RULE_OWNER);
}

struct principal *api__auth_self(struct http_request *req, struct http_response *res, enum api_need need)
{
	return authenticate(req, res, need, RULE_SELF);
}

struct principal *api__auth_operator(struct http_request *req, struct http_response *res, enum api_need need)
{
	return authenticate(req, res, need, RULE_OPERATOR);
}

/* ---- helpers for accounts.c and operator.c ---- */

json_t *api__time_in(const struct tz *z, int64_t t)
{
	if (!t)
		return json_null();
	_cleanup_buf_ struct buf b = BUF_INIT(64);
	tz_put_iso(&b, z, t);
	return json_stringn(b.p, b.len);
}

json_t *api__user_json(const struct principal *p, const struct account *acc)
{
	bool op = acc->tenant_id == 0;
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:b}", "id", (json_int_t)acc->id, "username",
			 acc->username, "email", acc->email ? acc->email : "", "role", role_name(acc->role),
			 "tenant_id", op ? json_null() : json_integer(acc->tenant_id), "tenant_name",
			 op || !p->tenant.name ? json_null() : json_string(p->tenant.name), "time_zone",
			 tz_name(p->zone), "second_factor", second_factor_name(acc->second_factor), "login_notify",
			 acc->login_notify);
}

const char *api__service_name(struct http_request *req)
{
	struct api *api = req->app;
	struct branding b;
	if (store_branding_get(api->store, req->arena, &b) == 0 && b.service_name && b.service_name[0])
		return b.service_name;
	return "Kunren";
}

bool api__notice(struct http_request *req, const char *to, const char *subject, const char *text)
{
	struct api *api = req->app;
	int r = api->deliver ? deliver_notice(api->deliver, to, subject, text) : -ENOTCONN;
	if (r < 0)
		log_error("api: the mail \"%s\" could not be sent: %s", subject, strerror(-r));
	return r >= 0;
}

void api__notice_later(struct http_request *req, const char *to, const char *subject, const char *text)
{
	struct api *api = req->app;
	if (!api->deliver || deliver_notice_later(api->deliver, to, subject, text) < 0)
		log_error("api: the mail \"%s\" could not be queued", subject);
}

const char *api__base_url(const struct api *api)
{
	const char *u = atomic_load(&((struct api *)api)->base_url);
	if (u && u[0])
		return u;
	return api->console_url && api->console_url[0] ? api->console_url : "http://localhost";
}

bool api__date(struct http_response *res, json_t *body, const char *key, struct civil *ret, bool *ret_found)
{
	json_t *v = json_object_get(body, key);
	*ret_found = false;
	if (!v || json_is_null(v))
		return true;
	const char *s = json_string_value(v);
	struct civil c = { 0 };
	int64_t y, m, d;
	if (s && strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
	    slice_to_i64((struct slice){ s, 4 }, 1970, 9999, &y) == 0 &&
	    slice_to_i64((struct slice){ s + 5, 2 }, 1, 12, &m) == 0 &&
	    slice_to_i64((struct slice){ s + 8, 2 }, 1, 31, &d) == 0) {
		c.year = (int)y;
		c.month = (int)m;
		c.day = (int)d;
		/* the day must exist: a round trip through unix time keeps it */
		struct civil back;
		civil_from_unix(unix_from_civil(&c), &back);
		if (back.year == c.year && back.month == c.month && back.day == c.day) {
			*ret = c;
			*ret_found = true;
			return true;
		}
	}
	api__field_error(res, key, "must be a date YYYY-MM-DD");
	return false;
}

/* ---- logging in ---- */

static const char *user_agent(struct http_request *req)
{
	const char *ua = http_header(req, "User-Agent");
	return ua ? ua : "";
}

void api__audit_as(struct http_request *req, int64_t tenant_id, int64_t account_id, const char *action,
		   const char *detail)
{
	struct api *api = req->app;
	int r = store_audit_add(api->store, tenant_id, account_id, action, detail);
	if (r < 0)
		log_error("api: audit log write failed: %s", strerror(-r));
}

/* The zone an account's times are shown in: its tenant's, or the deployment's. */
static const struct tz *account_zone(struct http_request *req, const struct account *acc)
{
	struct api *api = req->app;
	struct tenant t;
	if (acc->tenant_id && store_tenant_get(api->store, acc->tenant_id, req->arena, &t) == 0)
		return api__zone(t.time_zone);
	return api__zone(api->cfg->time_zone);
}

/* A refused login: the audit entry under the tried account's tenant (the
 * operator's log when there is no such account), and the answer.  The
 * answer is the same for a wrong password and an unknown user name. */
static void login_refused(struct http_request *req, struct http_response *res, int r, const char *username)
{
	struct api *api = req->app;
	struct account acc = { 0 };
	bool known = username && store_account_by_username(api->store, username, req->arena, &acc) == 0;
	const char *why = r == -EACCES ? "wrong password or code" : r == -ENOLCK ? "account locked"
			: r == -EAGAIN ? "address throttled" : r == -EPERM ? "tenant suspended" : strerror(-r);
	const char *detail = arena_printf(req->arena, "username=%s ip=%s (%s)", username ? username : "?",
					  req->remote_ip, why);
	api__audit_as(req, known ? acc.tenant_id : 0, known ? acc.id : 0, "login.failed", detail);
	log_info("api: failed login from %s: %s", req->remote_ip, why);

	if (r == -EACCES) {
		if (known && acc.locked_until > now_unix()) {
			/* this failure locked the account */
			_cleanup_buf_ struct buf until = BUF_INIT(64);
			tz_put_iso(&until, account_zone(req, &acc), acc.locked_until);
			api__audit_as(req, acc.tenant_id, acc.id, "login.locked",
				      arena_printf(req->arena, "username=%s ip=%s locked until %s", acc.username,
						   req->remote_ip, until.p));
		}
		http_response_error(res, 401, "login_failed", "wrong user name or password", NULL);
	} else if (r == -ENOLCK) {
		/* an unknown name "locks" too (auth_login): answer alike */
		json_t *until = api__time_in(account_zone(req, &acc),
					     known ? acc.locked_until : now_unix() + api->policy.lock_seconds);
		json_t *d = json_pack("[{s:s, s:s, s:o}]", "field", "locked_until", "message",
				      "too many failed logins: the account is locked for a while", "value", until);
		http_response_error(res, 423, "locked",
				    "too many failed logins: this account is locked for a while; try again later", d);
	} else if (r == -EAGAIN) {
		http_response_error(res, 429, "throttled",
				    "too many failed logins from your address; try again later", NULL);
	} else if (r == -EPERM) {
		http_response_error(res, 403, "suspended",
				    "this tenant is suspended; please contact the operator of the service", NULL);
	} else {
		api__store_error(res, r, "login");
	}
}

/* "2024/4/6 10:03 (Asia/Tokyo)" */
static const char *local_time(struct http_request *req, const struct tz *z, int64_t t)
{
	_cleanup_buf_ struct buf b = BUF_INIT(128);
	tz_put_csv_time(&b, z, t);
	buf_printf(&b, " (%s)", tz_name(z));
	return arena_strdup(req->arena, b.p);
}

/* SPEC B3: a mail on every successful login, for accounts that asked. */
static void login_notice(struct http_request *req, const struct principal *p)
{
	if (!p->acc.login_notify || !p->acc.email || !p->acc.email[0])
		return;
	_cleanup_buf_ struct buf ua = BUF_INIT(1024), text = BUF_INIT(8192);
	struct slice u = slice_from(user_agent(req));
	if (u.len > 300)
		u.len = 300;
	for (size_t i = 0; i < u.len; i++)
		buf_putc(&ua, (unsigned char)u.p[i] < 0x20 || u.p[i] == 0x7f ? ' ' : u.p[i]);
	_cleanup_buf_ struct buf uav = BUF_INIT(2048);
	buf_put_utf8(&uav, buf_slice(&ua));
	const char *when = local_time(req, p->zone, now_unix()), *svc = api__service_name(req);
	buf_printf(&text,
		   "%s のアカウント %s にログインがありました。\n\n"
		   "日時: %s\nIPアドレス: %s\nブラウザ: %s\n\n"
		   "心当たりがない場合は、すぐにパスワードを変更し、管理者に連絡してください。\n\n"
		   "----\n\n"
		   "Someone logged in to your %s account %s.\n\n"
		   "Time: %s\nAddress: %s\nBrowser: %s\n\n"
		   "If this was not you, change your password at once and tell your administrator.\n",
		   svc, p->acc.username, when, req->remote_ip, uav.p, svc, p->acc.username, when, req->remote_ip,
		   uav.p);
	const char *subject = arena_printf(req->arena, "%s ログイン通知 / login notice", svc);
	api__notice_later(req, p->acc.email, subject, text.p);
}

/* The session is made: audit, notice, cookie, answer. */
static void login_done(struct http_request *req, struct http_response *res, const struct auth_login_result *lr,
		       const char *how)
{
	struct api *api = req->app;
	struct principal *p = principal_load(req, res, &lr->account);
	if (!p) {
		auth_logout(api->store, lr->token); /* no session left behind for a refused login */
		return;
	}
	api__audit(req, p, "login", arena_printf(req->arena, "ip=%s %s", req->remote_ip, how));
	login_notice(req, p);
	_cleanup_free_ char *cookie = xasprintf("kunren_session=%s; HttpOnly; SameSite=Strict; Path=/%s", lr->token,
						api->secure_cookies ? "; Secure" : "");
	http_response_header(req, res, "Set-Cookie", cookie);
	http_response_json(res, 200,
			   json_pack("{s:o, s:s}", "user", api__user_json(p, &p->acc), "csrf_token", lr->csrf));
}

void api_login(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	json_auto_t *body = api__body(req, res);
	const char *user = NULL, *pass = NULL, *msg = NULL;
	struct auth_login_result lr;

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
	int r = auth_login(api->store, &api->policy, req->remote_ip, user, pass, req->arena, &lr);
	if (r < 0) {
		login_refused(req, res, r, user);
		return;
	}
	if (lr.step == AUTH_DONE) {
		login_done(req, res, &lr, "password");
		return;
	}
	if (lr.step == AUTH_NEED_MAIL_CODE) {
		const char *svc = api__service_name(req);
		const char *subject = arena_printf(req->arena, "%s ログイン確認コード / login code", svc);
		const char *text = arena_printf(req->arena,
						"%s のログイン確認コード / login code: %s\n\n"
						"このコードは10分間有効です。ログイン画面に入力してください。\n"
						"心当たりがない場合は、パスワードを変更してください。\n\n"
						"The code is valid for 10 minutes; enter it on the login page.\n"
						"If this was not you, change your password.\n",
						svc, lr.mail_code);
		if (!lr.account.email || !lr.account.email[0] || !api__notice(req, lr.account.email, subject, text)) {
			http_response_error(res, 503, "mail_failed",
					    "the login code could not be mailed; please try again later", NULL);
			return;
		}
		api__audit_as(req, lr.account.tenant_id, lr.account.id, "login.code_sent",
			      arena_printf(req->arena, "ip=%s", req->remote_ip));
	}
	http_response_json(res, 200, json_pack("{s:s, s:s}", "second_factor",
					       lr.step == AUTH_NEED_MAIL_CODE ? "mail" : "totp", "challenge",
					       lr.challenge));
}

void api_login_second(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	json_auto_t *body = api__body(req, res);
	const char *challenge = NULL, *code = NULL, *msg = NULL;
	struct auth_login_result lr;

	if (!body)
		return;
	if (json_get_str(body, "challenge", true, 256, &challenge, &msg) < 0) {
		api__field_error(res, "challenge", msg);
		return;
	}
	if (json_get_str(body, "code", true, 32, &code, &msg) < 0) {
		api__field_error(res, "code", msg);
		return;
	}
	/* whose login it is, for the audit log (a failure may use the challenge up) */
	unsigned char hash[STORE_HASH_LEN];
	struct challenge ch;
	struct account who;
	auth_secret_hash(challenge, hash);
	bool known = store_challenge_find(api->store, hash, &ch) == 0 && ch.kind == CHALLENGE_LOGIN &&
		     store_account_get(api->store, ch.account_id, req->arena, &who) == 0;

	int r = auth_login_second(api->store, &api->policy, req->remote_ip, challenge, code, req->arena, &lr);
	if (r >= 0 && lr.step != AUTH_DONE)
		r = -EACCES;  /* a second step never asks for a third */
	if (r < 0) {
		login_refused(req, res, r, known ? who.username : NULL);
		return;
	}
	login_done(req, res, &lr, arena_printf(req->arena, "second_factor=%s",
					       second_factor_name(lr.account.second_factor)));
}

void api_logout(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_READ);
	if (!p)
		return;
	auth_logout(api->store, http_cookie(req, "kunren_session"));
	http_response_header(req, res, "Set-Cookie", "kunren_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
	http_response_json(res, 200, json_pack("{s:b}", "ok", 1));
}

/* Every session of the account ends (API keys stay: DELETE them one by one). */
void api_logout_all(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	if (!p)
		return;
	int r = store_sessions_delete_account(api->store, p->acc.id, 0);
	if (r < 0) {
		api__store_error(res, r, "sessions");
		return;
	}
	api__audit(req, p, "logout_all", arena_printf(req->arena, "ip=%s", req->remote_ip));
	http_response_header(req, res, "Set-Cookie", "kunren_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
	http_response_json(res, 200, json_pack("{s:b}", "ok", 1));
}

void api_me(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth_self(req, res, API_READ);
	if (!p)
		return;
	json_t *j = json_pack("{s:o}", "user", api__user_json(p, &p->acc));
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
