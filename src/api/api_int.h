/* Shared by the files of api/ only. */
#ifndef KUNREN_API_INT_H
#define KUNREN_API_INT_H

#include "api/api.h"
#include "report/report.h"

/* Who is calling: the account, its tenant and the tenant's zone.  For the
 * operator (no tenant) `tenant` is zeroed and `zone` is the deployment's. */
struct principal {
	struct account acc;
	struct tenant tenant;
	const struct tz *zone;
	const char *csrf;      /* the session's CSRF token; NULL with an API key */
	int64_t session_id;    /* 0 with an API key */
	int64_t api_key_id;    /* 0 with a session */
};

enum api_need { API_READ, API_WRITE };

/* A test delivery (test_only) goes to at most this many targets (SPEC E6). */
#define API_TEST_MAX 10

/*
 * Authentication (cookie + CSRF header for writes, or Bearer key), then the
 * rule of the route.  Each returns NULL when refused, the response set:
 * 401 unauthorized, 403 csrf, 403 suspended (an account of a suspended
 * tenant, everywhere), and
 *  - api__auth: tenant routes — 403 no_tenant for the operator, 403
 *    read_only for a read-only account on a write;
 *  - api__auth_owner: as api__auth, then 403 owner_only for other roles;
 *  - api__auth_self: the caller's own account (/me...) — every role,
 *    read-only accounts and the operator included;
 *  - api__auth_operator: 403 operator_only for every account but the operator.
 */
struct principal *api__auth(struct http_request *req, struct http_response *res, enum api_need need);
struct principal *api__auth_owner(struct http_request *req, struct http_response *res, enum api_need need);
struct principal *api__auth_self(struct http_request *req, struct http_response *res, enum api_need need);
struct principal *api__auth_operator(struct http_request *req, struct http_response *res, enum api_need need);
/* Parses the JSON object body; NULL (400 set) when it is not one. */
json_t *api__body(struct http_request *req, struct http_response *res);
/* 400 with details [{"field", "message"}]. */
void api__field_error(struct http_response *res, const char *field, const char *message);
/* Maps a store error to 404 / 409 / 500. */
void api__store_error(struct http_response *res, int r, const char *what);
/* The result r of a store_*_delete: true when it went; else false with the
 * answer set: 409 in_use with busy for -EBUSY (a campaign uses it), the
 * store's error naming what otherwise.  For the delete routes of Kunren's
 * API and of GoPhish's (gophish.c). */
bool api__delete_result(struct http_response *res, int r, const char *what, const char *busy);
/* Reads req->params[i] as a positive id; 404 when it is not one. */
bool api__id(struct http_request *req, struct http_response *res, size_t i, int64_t *ret);
/* ?limit= and ?after=; 400 when malformed. */
bool api__paging(struct http_request *req, struct http_response *res, int64_t *ret_after, size_t *ret_limit);
/* ISO 8601 in the tenant's zone, or null for 0. */
json_t *api__time(const struct principal *p, int64_t t);
/* The zone of that name, or UTC when unknown (never NULL). */
const struct tz *api__zone(const char *name);
/* ISO 8601 in a given zone, or null for 0. */
json_t *api__time_in(const struct tz *z, int64_t t);
/* Adds an audit entry for the caller (tenant 0: the operator's). */
void api__audit(struct http_request *req, const struct principal *p, const char *action, const char *detail);
/* The same for no caller yet (a login): tenant and account may be 0. */
void api__audit_as(struct http_request *req, int64_t tenant_id, int64_t account_id, const char *action,
		   const char *detail);
/* A user name: 1–64 of [A-Za-z0-9._@+-] (accounts.c). */
bool api__username_valid(const char *u);
/* The `user` object of docs/API.md for an account of p's tenant. */
json_t *api__user_json(const struct principal *p, const struct account *acc);
/* The service name of the branding (for mails), in req->arena. */
const char *api__service_name(struct http_request *req);
/* Mails a notice (deliver_notice); false (logged) when it could not go. */
bool api__notice(struct http_request *req, const char *to, const char *subject, const char *text);
/* The same queued in the background (the answer's timing tells nothing). */
void api__notice_later(struct http_request *req, const char *to, const char *subject, const char *text);
/* The console's public base URL without a trailing slash: console_url, or
 * the URL of the listener (never a request's Host header: a forged Host
 * would otherwise put an attacker's site into password-reset mails). */
const char *api__base_url(const struct api *api);
/* Reads req->body's JSON field `key` as a date "YYYY-MM-DD"; false with
 * the 400 set when malformed.  *ret_found false when absent (or null). */
bool api__date(struct http_response *res, json_t *body, const char *key, struct civil *ret, bool *ret_found);
/* {"items": [...], "next_after": id or null} */
json_t *api__page(json_t *items, bool more, int64_t last_id);
/* Sends body (taken over) as a download named filename (UTF-8, RFC 6266
 * filename* with an ASCII fallback: ascii_name, or the name itself when it
 * is plain ASCII, else "download" with its extension). */
void api__send_file_as(struct http_request *req, struct http_response *res, const char *type,
		       const char *filename, const char *ascii_name, struct buf *body);
void api__send_file(struct http_request *req, struct http_response *res, const char *type,
		    const char *filename, struct buf *body);

/* ?exclude=on|off (default on: the campaign's exclusion seconds apply). */
bool api__exclusion(struct http_request *req, struct http_response *res, const struct campaign *c,
		    struct exclusion *ret);
/* The campaign of params[0] in the caller's tenant; false (response set) otherwise. */
bool api__campaign(struct http_request *req, struct http_response *res, const struct principal *p,
		   struct campaign *ret);
/* The same with what in the 404's message (gophish.c: "Campaign not found"). */
bool api__campaign_as(struct http_request *req, struct http_response *res, const struct principal *p,
		      const char *what, struct campaign *ret);
json_t *api__campaign_json(const struct principal *p, const struct campaign *c, const struct campaign_counts *k);

/* handlers, one file per resource */
void api_login(struct http_request *req, struct http_response *res);
void api_logout(struct http_request *req, struct http_response *res);
void api_me(struct http_request *req, struct http_response *res);
void api_login_second(struct http_request *req, struct http_response *res);
void api_logout_all(struct http_request *req, struct http_response *res);
/* accounts.c: your account, the tenant's accounts, the tenant, audit, reset, branding */
void api_me_patch(struct http_request *req, struct http_response *res);
void api_me_password(struct http_request *req, struct http_response *res);
void api_me_totp(struct http_request *req, struct http_response *res);
void api_me_totp_confirm(struct http_request *req, struct http_response *res);
void api_me_second_factor(struct http_request *req, struct http_response *res);
void api_me_keys_get(struct http_request *req, struct http_response *res);
void api_me_keys_post(struct http_request *req, struct http_response *res);
void api_me_key_delete(struct http_request *req, struct http_response *res);
void api_users_get(struct http_request *req, struct http_response *res);
void api_users_post(struct http_request *req, struct http_response *res);
void api_user_patch(struct http_request *req, struct http_response *res);
void api_user_delete(struct http_request *req, struct http_response *res);
void api_tenant_get(struct http_request *req, struct http_response *res);
void api_tenant_deletion_post(struct http_request *req, struct http_response *res);
void api_tenant_deletion_delete(struct http_request *req, struct http_response *res);
void api_audit_get(struct http_request *req, struct http_response *res);
void api_audit_csv(struct http_request *req, struct http_response *res);
void api_reset_begin(struct http_request *req, struct http_response *res);
void api_reset_finish(struct http_request *req, struct http_response *res);
void api_branding_get(struct http_request *req, struct http_response *res);
void api_branding_logo_get(struct http_request *req, struct http_response *res);
/* operator.c */
void api_op_tenants_get(struct http_request *req, struct http_response *res);
void api_op_tenants_post(struct http_request *req, struct http_response *res);
void api_op_tenant_get(struct http_request *req, struct http_response *res);
void api_op_tenant_patch(struct http_request *req, struct http_response *res);
void api_op_tenant_delete(struct http_request *req, struct http_response *res);
void api_op_tenant_renew(struct http_request *req, struct http_response *res);
void api_op_deletions_get(struct http_request *req, struct http_response *res);
void api_op_nodes_get(struct http_request *req, struct http_response *res);
void api_op_branding_get(struct http_request *req, struct http_response *res);
void api_op_branding_put(struct http_request *req, struct http_response *res);
void api_op_branding_logo_put(struct http_request *req, struct http_response *res);
void api_op_domains_get(struct http_request *req, struct http_response *res);
void api_op_domains_post(struct http_request *req, struct http_response *res);
void api_op_domain_patch(struct http_request *req, struct http_response *res);
void api_op_domain_delete(struct http_request *req, struct http_response *res);
void api_op_audit_get(struct http_request *req, struct http_response *res);
void api_op_usage_get(struct http_request *req, struct http_response *res);
/* The tenant object of GET /tenant, times in the tenant's zone (operator.c;
 * also used by accounts.c).  NULL (500 set) on a store error. */
json_t *api__tenant_json(struct http_request *req, struct http_response *res, const struct tenant *t);
void api_lists_get(struct http_request *req, struct http_response *res);
void api_lists_post(struct http_request *req, struct http_response *res);
void api_list_get(struct http_request *req, struct http_response *res);
void api_list_delete(struct http_request *req, struct http_response *res);
void api_list_import(struct http_request *req, struct http_response *res);
void api_list_recipients(struct http_request *req, struct http_response *res);
void api_list_template(struct http_request *req, struct http_response *res);
void api_list_patch(struct http_request *req, struct http_response *res);
void api_list_export(struct http_request *req, struct http_response *res);
void api_list_recipient_add(struct http_request *req, struct http_response *res);
void api_list_recipient_get(struct http_request *req, struct http_response *res);
void api_list_recipient_patch(struct http_request *req, struct http_response *res);
void api_list_recipient_delete(struct http_request *req, struct http_response *res);
void api_list_recipients_delete(struct http_request *req, struct http_response *res);
void api_gallery_get(struct http_request *req, struct http_response *res);
void api_gallery_one(struct http_request *req, struct http_response *res);
void api_scenarios_get(struct http_request *req, struct http_response *res);
void api_scenarios_post(struct http_request *req, struct http_response *res);
void api_scenario_get(struct http_request *req, struct http_response *res);
void api_scenario_patch(struct http_request *req, struct http_response *res);
void api_scenario_delete(struct http_request *req, struct http_response *res);
void api_scenario_preview(struct http_request *req, struct http_response *res);
void api_scenario_text_from_html(struct http_request *req, struct http_response *res);
void api_campaigns_get(struct http_request *req, struct http_response *res);
void api_campaigns_post(struct http_request *req, struct http_response *res);
void api_campaign_get(struct http_request *req, struct http_response *res);
void api_campaign_launch(struct http_request *req, struct http_response *res);
void api_campaign_cancel(struct http_request *req, struct http_response *res);
void api_campaign_pause(struct http_request *req, struct http_response *res);
void api_campaign_resume(struct http_request *req, struct http_response *res);
void api_campaign_patch(struct http_request *req, struct http_response *res);
void api_campaign_plan(struct http_request *req, struct http_response *res);
void api_schedule_preview(struct http_request *req, struct http_response *res);
void api_profiles_get(struct http_request *req, struct http_response *res);
void api_profiles_post(struct http_request *req, struct http_response *res);
void api_profile_get(struct http_request *req, struct http_response *res);
void api_profile_patch(struct http_request *req, struct http_response *res);
void api_profile_delete(struct http_request *req, struct http_response *res);
void api_profile_test(struct http_request *req, struct http_response *res);
void api_dkim_get(struct http_request *req, struct http_response *res);
void api_usage_get(struct http_request *req, struct http_response *res);
void api_training_domains_get(struct http_request *req, struct http_response *res);
void api_campaign_targets(struct http_request *req, struct http_response *res);
void api_campaign_results_csv(struct http_request *req, struct http_response *res);
void api_campaign_events_csv(struct http_request *req, struct http_response *res);
void api_campaign_report_xlsx(struct http_request *req, struct http_response *res);
void api_campaign_breakdown(struct http_request *req, struct http_response *res);
void api_campaign_timeline(struct http_request *req, struct http_response *res);
void api_results_cumulative_csv(struct http_request *req, struct http_response *res);
void api_results_trends(struct http_request *req, struct http_response *res);
void api_share_create(struct http_request *req, struct http_response *res);
void api_shares_get(struct http_request *req, struct http_response *res);
void api_share_delete(struct http_request *req, struct http_response *res);
void api_share_view(struct http_request *req, struct http_response *res);
void api_share_results_csv(struct http_request *req, struct http_response *res);
void api_share_events_csv(struct http_request *req, struct http_response *res);
void api_share_report_xlsx(struct http_request *req, struct http_response *res);
/* shared by the campaign and share-link endpoints (results.c) */
enum api_download { API_DOWNLOAD_RESULTS, API_DOWNLOAD_EVENTS, API_DOWNLOAD_WORKBOOK };
void api__download(struct http_request *req, struct http_response *res, const struct principal *p,
		   const struct campaign *c, const struct exclusion *x, enum api_download kind);
json_t *api__breakdown_json(struct http_request *req, struct http_response *res, const struct campaign *c,
			    const struct exclusion *x, const char *by);
json_t *api__timeline_json(struct http_request *req, struct http_response *res, const struct principal *p,
			   const struct campaign *c, const struct exclusion *x);
void api_outbox_get(struct http_request *req, struct http_response *res);
void api_outbox_one(struct http_request *req, struct http_response *res);
/* education.c: material for targets before and after a drill (SPEC D9) */
void api_education_get(struct http_request *req, struct http_response *res);
void api_education_put(struct http_request *req, struct http_response *res);
void api_education_html(struct http_request *req, struct http_response *res);
void api_education_pdf(struct http_request *req, struct http_response *res);
/* uploads.c: trainers' attachment files and a scenario's sample attachment */
void api_uploads_post(struct http_request *req, struct http_response *res);
void api_uploads_get(struct http_request *req, struct http_response *res);
void api_upload_get(struct http_request *req, struct http_response *res);
void api_upload_delete(struct http_request *req, struct http_response *res);
void api_scenario_attachment_sample(struct http_request *req, struct http_response *res);
/* An attachment declaration naming an upload: it must be one of p's
 * tenant's, of the declared kind; false with the 400 set otherwise. */
bool api__attachment_upload_ok(struct http_request *req, struct http_response *res, const struct principal *p,
			       const char *attachment_json);

/* reporting.c: the report mailbox (報告) and a campaign's report figures */
void api_report_mailbox_get(struct http_request *req, struct http_response *res);
void api_report_mailbox_put(struct http_request *req, struct http_response *res);
void api_report_mailbox_delete(struct http_request *req, struct http_response *res);
void api_report_mailbox_test(struct http_request *req, struct http_response *res);
/* {"sent", "reported", "rate", "first_at", "first_seconds", "median_seconds"}
 * of the campaign; JSON null on a store error (logged). */
json_t *api__report_figures_json(struct http_request *req, const struct principal *p, const struct campaign *c);
/* live.c: new events as server-sent events, and the polling fallback */
void api_campaign_live(struct http_request *req, struct http_response *res);
void api_campaign_events_after(struct http_request *req, struct http_response *res);
/* openapi.c: the OpenAPI 3 description of this API (docs/openapi.yaml, embedded) */
void api_openapi_get(struct http_request *req, struct http_response *res);
/* paging.c: answers a whole list read at once (items in ascending, or with
 * desc descending, order of their integer `key`) as one page of
 * {"items", "next_after"}: the items past ?after=, at most ?limit=
 * (api__paging's rules and 400s); without either parameter, every item.
 * Steals items (NULL: a 500). */
void api__page_all(struct http_request *req, struct http_response *res, json_t *items, const char *key, bool desc);
/* ops.c (part 7): liveness, readiness, Prometheus metrics */
void api_healthz(struct http_request *req, struct http_response *res);
void api_readyz(struct http_request *req, struct http_response *res);
void api_metrics(struct http_request *req, struct http_response *res);
/* gophish.c (part 3): GoPhish's REST API under /api/ (docs/GOPHISH.md) */
/* The Authorization header authenticate() reads: the request's own, or on
 * GoPhish's routes "Bearer KEY" made from ?api_key= or a bare "KEY". */
const char *api__authorization(struct http_request *req);
/* scenarios.c's and profiles.c's readers of a body, for gophish.c */
bool api__scenario_from_body(struct http_request *req, struct http_response *res, json_t *body,
			     struct scenario_rec *sc, bool partial);
bool api__profile_fields(struct http_request *req, struct http_response *res, json_t *body, bool create,
			 struct sending_profile *sp);
/* Shared by lists.c, profiles.c and gophish.c: the list / sending profile
 * of params[0] as the caller's tenant sees it; false with the response set
 * (404 "<what> not found") otherwise. */
bool api__list_load(struct http_request *req, struct http_response *res, const struct principal *p,
		    const char *what, struct list_info *ret);
bool api__profile_load(struct http_request *req, struct http_response *res, const struct principal *p,
		       const char *what, struct sending_profile *ret);
/* The opened password of sp into ret (empty: none); false with a 500 set
 * when this server's key cannot open it (profiles.c's test, gophish.c's
 * send_test_email). */
bool api__profile_password(struct http_request *req, struct http_response *res, const struct sending_profile *sp,
			   struct buf *ret);
/* Creates (for the caller's tenant) or updates sp, reads it back into sp
 * and audits it; false with the store's error naming what.  profiles.c's
 * POST and PATCH, gophish.c's POST and PUT /api/smtp/. */
bool api__profile_store(struct http_request *req, struct http_response *res, const struct principal *p, bool create,
			struct sending_profile *sp, const char *what);
/* The GET of a collection, in Kunren's API and GoPhish's (gophish.c): the
 * caller (API_READ) and all the tenant's rows of the kind (a tenant also
 * sees the operator's sending profiles); NULL with the response set. */
struct principal *api__lists_all(struct http_request *req, struct http_response *res, struct list_info **ret,
				 size_t *ret_n);
struct principal *api__campaigns_all(struct http_request *req, struct http_response *res, struct campaign **ret,
				     size_t *ret_n);
struct principal *api__scenarios_all(struct http_request *req, struct http_response *res, struct scenario_rec **ret,
				     size_t *ret_n);
struct principal *api__profiles_all(struct http_request *req, struct http_response *res, struct sending_profile **ret,
				    size_t *ret_n);
/* A new sending profile's values before its body is read (profiles.c's
 * POST and gophish.c's POST /api/smtp/ alike). */
#define API_PROFILE_DEFAULTS                                                                        \
	((struct sending_profile){ .security = SMTP_SECURITY_STARTTLS, .verify_tls = true, .username = "", \
				   .helo = "", .connections = 2, .per_connection = 100, .from_address = "" })
void api_gp_campaigns_get(struct http_request *req, struct http_response *res);
void api_gp_campaigns_post(struct http_request *req, struct http_response *res);
void api_gp_campaigns_summary(struct http_request *req, struct http_response *res);
void api_gp_campaign_get(struct http_request *req, struct http_response *res);
void api_gp_campaign_delete(struct http_request *req, struct http_response *res);
void api_gp_campaign_results(struct http_request *req, struct http_response *res);
void api_gp_campaign_summary(struct http_request *req, struct http_response *res);
void api_gp_campaign_complete(struct http_request *req, struct http_response *res);
void api_gp_groups_get(struct http_request *req, struct http_response *res);
void api_gp_groups_post(struct http_request *req, struct http_response *res);
void api_gp_groups_summary(struct http_request *req, struct http_response *res);
void api_gp_group_get(struct http_request *req, struct http_response *res);
void api_gp_group_put(struct http_request *req, struct http_response *res);
void api_gp_group_delete(struct http_request *req, struct http_response *res);
void api_gp_group_summary(struct http_request *req, struct http_response *res);
void api_gp_templates_get(struct http_request *req, struct http_response *res);
void api_gp_templates_post(struct http_request *req, struct http_response *res);
void api_gp_template_get(struct http_request *req, struct http_response *res);
void api_gp_template_put(struct http_request *req, struct http_response *res);
void api_gp_template_delete(struct http_request *req, struct http_response *res);
void api_gp_pages_get(struct http_request *req, struct http_response *res);
void api_gp_pages_post(struct http_request *req, struct http_response *res);
void api_gp_page_get(struct http_request *req, struct http_response *res);
void api_gp_page_put(struct http_request *req, struct http_response *res);
void api_gp_page_delete(struct http_request *req, struct http_response *res);
void api_gp_smtps_get(struct http_request *req, struct http_response *res);
void api_gp_smtps_post(struct http_request *req, struct http_response *res);
void api_gp_smtp_get(struct http_request *req, struct http_response *res);
void api_gp_smtp_put(struct http_request *req, struct http_response *res);
void api_gp_smtp_delete(struct http_request *req, struct http_response *res);
void api_gp_send_test_email(struct http_request *req, struct http_response *res);

/* webhooks.c (part 5): a tenant's webhooks, their test ping and delivery log */
void api_webhooks_get(struct http_request *req, struct http_response *res);
void api_webhooks_post(struct http_request *req, struct http_response *res);
void api_webhook_get(struct http_request *req, struct http_response *res);
void api_webhook_patch(struct http_request *req, struct http_response *res);
void api_webhook_delete(struct http_request *req, struct http_response *res);
void api_webhook_test(struct http_request *req, struct http_response *res);
void api_webhook_deliveries(struct http_request *req, struct http_response *res);

#endif
