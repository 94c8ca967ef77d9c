/* Shared by the files of api/ only. */
#ifndef KUNREN_API_INT_H
#define KUNREN_API_INT_H

#include "api/api.h"
#include "report/report.h"

/* Who is calling: the account, its tenant and the tenant's zone. */
struct principal {
	struct account acc;
	struct tenant tenant;
	const struct tz *zone;
	const char *csrf;      /* the session's CSRF token; NULL with an API key */
};

enum api_need { API_READ, API_WRITE };

/* A test delivery (test_only) goes to at most this many targets (SPEC E6). */
#define API_TEST_MAX 10

/* Authenticates (cookie + CSRF header for writes, or Bearer key) and checks
 * the role.  NULL when refused; the response is then already set. */
struct principal *api__auth(struct http_request *req, struct http_response *res, enum api_need need);
/* Parses the JSON object body; NULL (400 set) when it is not one. */
json_t *api__body(struct http_request *req, struct http_response *res);
/* 400 with details [{"field", "message"}]. */
void api__field_error(struct http_response *res, const char *field, const char *message);
/* Maps a store error to 404 / 409 / 500. */
void api__store_error(struct http_response *res, int r, const char *what);
/* Reads req->params[i] as a positive id; 404 when it is not one. */
bool api__id(struct http_request *req, struct http_response *res, size_t i, int64_t *ret);
/* ?limit= and ?after=; 400 when malformed. */
bool api__paging(struct http_request *req, struct http_response *res, int64_t *ret_after, size_t *ret_limit);
/* ISO 8601 in the tenant's zone, or null for 0. */
json_t *api__time(const struct principal *p, int64_t t);
void api__audit(struct http_request *req, const struct principal *p, const char *action, const char *detail);
/* {"items": [...], "next_after": id or null} */
json_t *api__page(json_t *items, bool more, int64_t last_id);
void api__send_file(struct http_request *req, struct http_response *res, const char *type,
		    const char *filename, struct buf *body);

/* ?exclude=on|off (default on: the campaign's exclusion seconds apply). */
bool api__exclusion(struct http_request *req, struct http_response *res, const struct campaign *c,
		    struct exclusion *ret);
/* The campaign of params[0] in the caller's tenant; false (response set) otherwise. */
bool api__campaign(struct http_request *req, struct http_response *res, const struct principal *p,
		   struct campaign *ret);
json_t *api__campaign_json(const struct principal *p, const struct campaign *c, const struct campaign_counts *k);

/* handlers, one file per resource */
void api_login(struct http_request *req, struct http_response *res);
void api_logout(struct http_request *req, struct http_response *res);
void api_me(struct http_request *req, struct http_response *res);
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

#endif
