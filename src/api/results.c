/* results.c — dashboards and downloads of campaign results (SPEC G1–G8). */
#include "api/api_int.h"

#include "core/csv.h"

static bool encoding_get(struct http_request *req, struct http_response *res, enum csv_encoding *ret)
{
	if (csv_encoding_parse(http_query(req, "encoding"), ret) == 0)
		return true;
	api__field_error(res, "encoding", "must be utf8 or cp932");
	return false;
}

#define DOWNLOAD_MAX ((size_t)512 << 20)

/* 訓練結果.csv, イベント.csv or report.xlsx of c with the exclusion x;
 * the CSVs in the encoding of ?encoding=. */
void api__download(struct http_request *req, struct http_response *res, const struct principal *p,
		   const struct campaign *c, const struct exclusion *x, enum api_download kind)
{
	struct api *api = req->app;
	enum csv_encoding enc = CSV_UTF8_BOM;
	if (kind != API_DOWNLOAD_WORKBOOK && !encoding_get(req, res, &enc))
		return;
	_cleanup_buf_ struct buf out = BUF_INIT(DOWNLOAD_MAX);
	_cleanup_free_ char *name = NULL;
	const char *type = enc == CSV_CP932 ? "text/csv; charset=Shift_JIS" : "text/csv; charset=utf-8";
	int r;
	switch (kind) {
	case API_DOWNLOAD_RESULTS:
		r = report_results_csv(api->store, c, p->zone, x, enc, &out);
		name = xstrdup("訓練結果.csv");
		break;
	case API_DOWNLOAD_EVENTS:
		r = report_events_csv(api->store, c, p->zone, x, enc, &out);
		name = xstrdup("イベント.csv");
		break;
	default:
		r = report_workbook(api->store, c, p->zone, x, &out);
		name = xasprintf("報告書_%s.xlsx", c->name);
		type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
	}
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	api__send_file(req, res, type, name, &out);
}

/* The trainer's downloads: ?exclude= chooses the exclusion. */
static void campaign_download(struct http_request *req, struct http_response *res, enum api_download kind)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	struct exclusion x;
	if (p && api__campaign(req, res, p, &c) && api__exclusion(req, res, &c, &x))
		api__download(req, res, p, &c, &x, kind);
}

void api_campaign_results_csv(struct http_request *req, struct http_response *res)
{
	campaign_download(req, res, API_DOWNLOAD_RESULTS);
}

void api_campaign_events_csv(struct http_request *req, struct http_response *res)
{
	campaign_download(req, res, API_DOWNLOAD_EVENTS);
}

void api_campaign_report_xlsx(struct http_request *req, struct http_response *res)
{
	campaign_download(req, res, API_DOWNLOAD_WORKBOOK);
}

static json_t *counts_json(const struct campaign_counts *k)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "targets", (json_int_t)k->targets, "sent",
			 (json_int_t)k->sent, "opened", (json_int_t)k->opened, "clicked", (json_int_t)k->clicked,
			 "file_opened", (json_int_t)k->file_opened, "submitted", (json_int_t)k->submitted,
			 "reported", (json_int_t)k->reported);
}

/* by: department, position, field1..3 */
json_t *api__breakdown_json(struct http_request *req, struct http_response *res, const struct campaign *c,
			    const struct exclusion *x, const char *by)
{
	struct api *api = req->app;
	static const enum person_field allowed[] = { PF_DEPARTMENT, PF_POSITION, PF_FIELD1, PF_FIELD2, PF_FIELD3 };
	int field = -1;
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (by && !strcmp(by, person_field_names[allowed[i]]))
			field = (int)allowed[i];
	if (field < 0) {
		api__field_error(res, "by", "must be department, position, field1, field2 or field3");
		return NULL;
	}
	struct breakdown_row *rows;
	size_t n;
	int r = report_breakdown(api->store, c, x, (enum person_field)field, req->arena, &rows, &n);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return NULL;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = counts_json(&rows[i].counts);
		json_object_set_new(j, "value", json_string(rows[i].value));
		json_array_append_new(items, j);
	}
	return json_pack("{s:s, s:o}", "by", by, "items", items);
}

json_t *api__timeline_json(struct http_request *req, struct http_response *res, const struct principal *p,
			   const struct campaign *c, const struct exclusion *x)
{
	struct api *api = req->app;
	struct timeline_row *rows;
	size_t n;
	int64_t bucket;
	int r = report_timeline(api->store, c, x, req->arena, &bucket, &rows, &n);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return NULL;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "at", api__time(p, rows[i].at));
		for (int k = EV_SENT; k < EV__COUNT; k++)
			if (k != EV_SEND_ERROR)
				json_object_set_new(j, event_kind_name((enum event_kind)k), json_integer(rows[i].n[k]));
		json_array_append_new(items, j);
	}
	return json_pack("{s:I, s:o}", "bucket_seconds", (json_int_t)bucket, "items", items);
}

void api_campaign_breakdown(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	struct exclusion x;
	if (!p || !api__campaign(req, res, p, &c) || !api__exclusion(req, res, &c, &x))
		return;
	json_t *j = api__breakdown_json(req, res, &c, &x, http_query(req, "by"));
	if (j)
		http_response_json(res, 200, j);
}

void api_campaign_timeline(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	struct exclusion x;
	if (!p || !api__campaign(req, res, p, &c) || !api__exclusion(req, res, &c, &x))
		return;
	json_t *j = api__timeline_json(req, res, p, &c, &x);
	if (j)
		http_response_json(res, 200, j);
}

/* ?campaigns=1,2,3: campaigns of the caller's tenant (1 to 100). */
static bool campaigns_get(struct http_request *req, struct http_response *res, const struct principal *p,
			  struct campaign **ret, size_t *ret_n)
{
	struct api *api = req->app;
	struct slice rest = slice_from(http_query(req, "campaigns")), one;
	struct campaign *c = arena_alloc(req->arena, 100 * sizeof(*c));
	size_t n = 0;
	if (!c) {
		api__store_error(res, -ENOMEM, "request");
		return false;
	}
	while (rest.len) {
		int64_t id;
		rest = slice_cut(rest, ',', &one);
		if (n == 100 || slice_to_i64(slice_trim(one), 1, INT64_MAX, &id) < 0) {
			api__field_error(res, "campaigns", "must be 1 to 100 campaign ids separated by commas");
			return false;
		}
		int r = store_campaign_get(api->store, p->tenant.id, id, req->arena, &c[n]);
		if (r < 0) {
			api__store_error(res, r, "campaign");
			return false;
		}
		n++;
	}
	if (n == 0) {
		api__field_error(res, "campaigns", "must be 1 to 100 campaign ids separated by commas");
		return false;
	}
	*ret = c;
	*ret_n = n;
	return true;
}

static bool exclude_flag(struct http_request *req, struct http_response *res, bool *ret)
{
	const char *x = http_query(req, "exclude");
	if (x && strcmp(x, "on") && strcmp(x, "off")) {
		api__field_error(res, "exclude", "must be on or off");
		return false;
	}
	*ret = !x || !strcmp(x, "on");
	return true;
}

void api_results_cumulative_csv(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign *c;
	size_t n;
	enum csv_encoding enc;
	bool exclude;
	if (!p || !campaigns_get(req, res, p, &c, &n) || !encoding_get(req, res, &enc) ||
	    !exclude_flag(req, res, &exclude))
		return;
	_cleanup_buf_ struct buf out = BUF_INIT(DOWNLOAD_MAX);
	int r = report_cumulative_csv(api->store, c, n, exclude, enc, &out);
	if (r < 0) {
		api__store_error(res, r, "campaigns");
		return;
	}
	api__send_file(req, res, enc == CSV_CP932 ? "text/csv; charset=Shift_JIS" : "text/csv; charset=utf-8",
		       "訓練結果(累計).csv", &out);
}

static double rate(int64_t k, int64_t of)
{
	return of ? (double)k / (double)of : 0.0;
}

void api_results_trends(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign *c;
	size_t n;
	bool exclude;
	if (!p || !campaigns_get(req, res, p, &c, &n) || !exclude_flag(req, res, &exclude))
		return;
	json_t *list = json_array();
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct exclusion x = { exclude, c[i].exclusion_seconds };
		struct campaign_counts k;
		int64_t first;
		if ((r = report_campaign_counts(api->store, &c[i], &x, &k)) < 0 ||
		    (r = report_first_report(api->store, &c[i], exclude, &first)) < 0)
			break;
		json_array_append_new(list, json_pack("{s:I, s:s, s:o, s:I, s:{s:f, s:f, s:f, s:f, s:f}, s:o}", "id",
						       (json_int_t)c[i].id, "name", c[i].name, "launched_at",
						       api__time(p, c[i].launched_at), "sent", (json_int_t)k.sent,
						       "rates", "opened", rate(k.opened, k.sent), "clicked",
						       rate(k.clicked, k.sent), "file_opened", rate(k.file_opened, k.sent),
						       "submitted", rate(k.submitted, k.sent), "reported",
						       rate(k.reported, k.sent), "first_report_seconds",
						       first < 0 ? json_null() : json_integer(first)));
	}
	struct arena *a = arena_new((size_t)1 << 30);
	struct tally *t = NULL;
	size_t nt = 0;
	if (r >= 0)
		r = report_tally(api->store, c, n, exclude, a, &t, &nt);
	json_t *repeat = json_array();
	for (size_t i = 0; r >= 0 && i < nt; i++)
		if (t[i].clicked_in >= 2)
			json_array_append_new(repeat, json_pack("{s:s, s:s, s:s, s:s, s:I}", "email", t[i].p.f[PF_EMAIL],
								"last_name", t[i].p.f[PF_LAST_NAME], "first_name",
								t[i].p.f[PF_FIRST_NAME], "department",
								t[i].p.f[PF_DEPARTMENT], "campaigns",
								(json_int_t)t[i].clicked_in));
	arena_free(a);
	if (r < 0) {
		json_decref(list);
		json_decref(repeat);
		api__store_error(res, r, "campaigns");
		return;
	}
	http_response_json(res, 200, json_pack("{s:o, s:o}", "campaigns", list, "repeat_clickers", repeat));
}
