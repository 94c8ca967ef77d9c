/* share.c — share links (訓練結果共有リンク, SPEC G7): created by a trainer,
 * opened by a third party without an account. */
#include "api/api_int.h"

#define SHARE_FAILURES_MAX 5
#define SHARE_FAILURE_WINDOW (15 * 60)

static json_t *share_json(const struct principal *p, const struct share_link *l)
{
	return json_pack("{s:I, s:o, s:o, s:b, s:b, s:I, s:b}", "id", (json_int_t)l->id, "created_at",
			 api__time(p, l->created_at), "expires_at", api__time(p, l->expires_at), "has_password",
			 l->password_hash != NULL, "exclude", l->exclude, "access_count", (json_int_t)l->access_count,
			 "revoked", l->revoked);
}

void api_share_create(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct campaign c;
	int64_t hours, id;
	const char *password = NULL, *msg;
	/* The campaign's own setting unless the trainer includes machine events
	 * (F6): fixed with the link, so its viewer sees what the trainer chose. */
	bool exclude = true;
	if (!body || !api__campaign(req, res, p, &c))
		return;
	if (json_get_int(body, "hours", true, 1, 8760, &hours, &msg) < 0) {
		api__field_error(res, "hours", msg);
		return;
	}
	if (json_get_bool(body, "exclude", false, &exclude, &msg) < 0) {
		api__field_error(res, "exclude", msg);
		return;
	}
	if (json_get_str(body, "password", false, 256, &password, &msg) < 0) {
		api__field_error(res, "password", msg);
		return;
	}
	if (password && !password[0])
		password = NULL;
	if (password && strlen(password) < 8) {
		api__field_error(res, "password", "must be at least 8 characters");
		return;
	}
	_cleanup_free_ char *pw_hash = NULL;
	int r = password ? auth_password_hash(password, &pw_hash) : 0;
	char token[AUTH_TOKEN_LEN + 1];
	unsigned char hash[STORE_HASH_LEN];
	id_random(token, AUTH_TOKEN_LEN);
	auth_secret_hash(token, hash);
	int64_t expires = now_unix() + hours * 3600;
	if (r >= 0)
		r = store_share_create(api->store, p->tenant.id, c.id, hash, pw_hash, expires, exclude, &id);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	_cleanup_free_ char *path = xasprintf("/share.html#%s", token);
	_cleanup_free_ char *url = xasprintf("%s%s", api->console_url ? api->console_url : "", path);
	_cleanup_free_ char *detail = xasprintf("%s: %lld hours%s%s", c.name, (long long)hours,
						password ? ", with a password" : "",
						exclude ? "" : ", machine events included");
	api__audit(req, p, "share.create", detail);
	http_response_json(res, 201, json_pack("{s:I, s:s, s:s, s:o, s:b, s:b}", "id", (json_int_t)id, "url", url,
					       "path", path, "expires_at", api__time(p, expires), "has_password",
					       password != NULL, "exclude", exclude));
}

void api_shares_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	struct share_link *l;
	size_t n;
	if (!p || !api__campaign(req, res, p, &c))
		return;
	int r = store_shares(api->store, p->tenant.id, c.id, req->arena, &l, &n);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, share_json(p, &l[i]));
	api__page_all(req, res, items, "id", true);
}

void api_share_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_share_revoke(api->store, p->tenant.id, id);
	if (r < 0) {
		api__store_error(res, r, "share link");
		return;
	}
	api__audit(req, p, "share.revoke", req->params[0]);
	http_response_json(res, 200, json_pack("{s:b, s:b}", "deleted", 1, "ok", 1));
}

/* ---- the holder of a link ---- */

/*
 * Opens the link of params[0]: live, and the password right when it has
 * one.  Fills a principal with the campaign's tenant and zone (no account)
 * and the link's exclusion: the campaign's seconds, switched as the trainer
 * chose when making the link (the viewer has no say).  `count` notes one
 * access.  False when refused (the response is set).
 */
static bool share_open(struct http_request *req, struct http_response *res, bool count, struct principal *ret_p,
		       struct campaign *ret_c, struct exclusion *ret_x)
{
	struct api *api = req->app;
	const char *token = req->params[0];
	struct share_link l;
	unsigned char hash[STORE_HASH_LEN];
	int64_t now = now_unix();

	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_header(req, res, "Referrer-Policy", "no-referrer");
	int r = -ENOENT;
	if (token && auth_secret_valid(token)) {
		auth_secret_hash(token, hash);
		r = store_share_find(api->store, hash, req->arena, &l);
	}
	if (r == 0 && (l.revoked || l.expires_at <= now))
		r = -ENOENT;
	if (r < 0) {
		if (r == -ENOENT)
			http_response_error(res, 404, "not_found", "this link does not exist, has expired or was revoked",
					    NULL);
		else
			api__store_error(res, r, "share link");
		return false;
	}
	if (l.password_hash) {
		if (l.failures >= SHARE_FAILURES_MAX && l.failures_since + SHARE_FAILURE_WINDOW > now) {
			http_response_header(req, res, "Retry-After", "900");
			http_response_error(res, 429, "throttled", "too many wrong passwords; try again later", NULL);
			return false;
		}
		const char *pw = http_header(req, "X-Share-Password");
		if (!pw)
			pw = http_query(req, "password");
		if (!pw || !pw[0]) {
			http_response_error(res, 401, "password_required", "this link needs its password", NULL);
			return false;
		}
		if (!auth_password_verify(l.password_hash, pw)) {
			store_share_note(api->store, l.id, false, now, SHARE_FAILURE_WINDOW);
			http_response_error(res, 401, "wrong_password", "wrong password", NULL);
			return false;
		}
	}
	if ((r = store_tenant_get(api->store, l.tenant_id, req->arena, &ret_p->tenant)) >= 0)
		r = store_campaign_get(api->store, l.tenant_id, l.campaign_id, req->arena, ret_c);
	if (r < 0) {
		api__store_error(res, r, "share link");
		return false;
	}
	ret_p->zone = tz_get(ret_p->tenant.time_zone);
	if (!ret_p->zone)
		ret_p->zone = tz_get("UTC");
	*ret_x = (struct exclusion){ .exclude = l.exclude, .seconds = ret_c->exclusion_seconds };
	if (count)
		store_share_note(api->store, l.id, true, now, SHARE_FAILURE_WINDOW);
	return true;
}

void api_share_view(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal p = { 0 };
	struct campaign c;
	struct campaign_counts k;
	struct exclusion x;
	if (!share_open(req, res, true, &p, &c, &x))
		return;
	int r = report_campaign_counts(api->store, &c, &x, &k);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	json_t *campaign = api__campaign_json(&p, &c, &k);
	json_object_del(campaign, "list_ids");
	json_object_del(campaign, "scenario_id");
	json_t *dept = api__breakdown_json(req, res, &c, &x, "department");
	json_t *pos = dept ? api__breakdown_json(req, res, &c, &x, "position") : NULL;
	json_t *timeline = pos ? api__timeline_json(req, res, &p, &c, &x) : NULL;
	if (!timeline) {
		json_decref(campaign);
		json_decref(dept);
		json_decref(pos);
		return;
	}
	http_response_json(res, 200, json_pack("{s:o, s:s, s:b, s:{s:o, s:o}, s:o}", "campaign", campaign,
					       "tenant_name", p.tenant.name, "exclude", x.exclude, "breakdowns",
					       "department", dept, "position", pos, "timeline", timeline));
}

/* A link's downloads use the link's exclusion, like its view. */
static void share_download(struct http_request *req, struct http_response *res, enum api_download kind)
{
	struct principal p = { 0 };
	struct campaign c;
	struct exclusion x;
	if (!share_open(req, res, false, &p, &c, &x))
		return;
	api__download(req, res, &p, &c, &x, kind);
}

void api_share_results_csv(struct http_request *req, struct http_response *res)
{
	share_download(req, res, API_DOWNLOAD_RESULTS);
}

void api_share_events_csv(struct http_request *req, struct http_response *res)
{
	share_download(req, res, API_DOWNLOAD_EVENTS);
}

void api_share_report_xlsx(struct http_request *req, struct http_response *res)
{
	share_download(req, res, API_DOWNLOAD_WORKBOOK);
}
