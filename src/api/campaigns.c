/* campaigns.c — /api/v1/campaigns: create, launch, follow, download. */
#include "api/api_int.h"
#include "api/gophish_int.h"

#include "people/people.h"
#include "report/report.h"

bool api__exclusion(struct http_request *req, struct http_response *res, const struct campaign *c,
			  struct exclusion *ret)
{
	const char *x = http_query(req, "exclude");
	if (x && strcmp(x, "on") && strcmp(x, "off")) {
		api__field_error(res, "exclude", "must be on or off");
		return false;
	}
	*ret = (struct exclusion){ .exclude = !x || !strcmp(x, "on"), .seconds = c->exclusion_seconds };
	return true;
}

static double rate(int64_t n, int64_t of)
{
	return of ? (double)n / (double)of : 0.0;
}

/* The campaign's stored schedule (the default when it cannot be read). */
static void campaign_schedule(const struct principal *p, const struct campaign *c, struct schedule *ret)
{
	json_error_t err;
	json_t *j = json_loads(c->schedule_json ? c->schedule_json : "{}", 0, &err);
	const char *field, *msg;
	if (!j || schedule_from_json(j, p->zone, ret, &field, &msg) < 0)
		schedule_default(ret);
	json_decref(j);
}

json_t *api__campaign_json(const struct principal *p, const struct campaign *c, const struct campaign_counts *k)
{
	json_t *lists = json_array();
	for (size_t i = 0; i < c->nlist_ids; i++)
		json_array_append_new(lists, json_integer(c->list_ids[i]));
	json_t *j = json_pack("{s:I, s:s, s:s, s:I, s:s, s:o, s:{s:s, s:s, s:s}, s:b, s:I, s:o, s:o, s:o}",
			      "id", (json_int_t)c->id, "name", c->name, "state", campaign_state_name(c->state),
			      "scenario_id", (json_int_t)c->scenario_id, "scenario_name", c->scenario_name,
			      "list_ids", lists, "sender", "name", c->sender_name, "local", c->sender_local,
			      "domain", c->sender_domain, "test_only", c->test_only, "exclusion_seconds",
			      (json_int_t)c->exclusion_seconds, "created_at", api__time(p, c->created_at),
			      "launched_at", api__time(p, c->launched_at), "finished_at", api__time(p, c->finished_at));
	struct schedule sch;
	campaign_schedule(p, c, &sch);
	json_object_set_new(j, "schedule", schedule_to_json(&sch, p->zone));
	json_object_set_new(j, "start_at", api__time(p, c->start_at));
	json_object_set_new(j, "ends_at", api__time(p, c->ends_at));
	json_object_set_new(j, "profile_id", c->profile_id ? json_integer(c->profile_id) : json_null());
	json_object_set_new(j, "target_count", json_integer(c->target_count));
	if (k) {
		json_object_set_new(j, "counts",
				    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "targets",
					      (json_int_t)k->targets, "sent", (json_int_t)k->sent, "errors",
					      (json_int_t)k->errors, "opened", (json_int_t)k->opened, "clicked",
					      (json_int_t)k->clicked, "file_opened", (json_int_t)k->file_opened,
					      "submitted", (json_int_t)k->submitted, "reported", (json_int_t)k->reported));
		json_object_set_new(j, "rates",
				    json_pack("{s:f, s:f, s:f, s:f, s:f}", "opened", rate(k->opened, k->sent), "clicked",
					      rate(k->clicked, k->sent), "file_opened", rate(k->file_opened, k->sent),
					      "submitted", rate(k->submitted, k->sent), "reported",
					      rate(k->reported, k->sent)));
	}
	return j;
}

bool api__campaign_as(struct http_request *req, struct http_response *res, const struct principal *p,
		      const char *what, struct campaign *ret)
{
	struct api *api = req->app;
	int64_t id;
	if (!api__id(req, res, 0, &id))
		return false;
	int r = store_campaign_get(api->store, p->tenant.id, id, req->arena, ret);
	if (r < 0) {
		api__store_error(res, r, what);
		return false;
	}
	return true;
}

bool api__campaign(struct http_request *req, struct http_response *res, const struct principal *p,
		   struct campaign *ret)
{
	return api__campaign_as(req, res, p, "campaign", ret);
}

static void campaign_respond(struct http_request *req, struct http_response *res, const struct principal *p,
			     const struct campaign *c, int status)
{
	struct api *api = req->app;
	struct campaign_counts k;
	struct exclusion x;
	if (!api__exclusion(req, res, c, &x))
		return;
	struct delivery_counts dc;
	int r = report_campaign_counts(api->store, c, &x, &k);
	if (r >= 0)
		r = store_campaign_delivery(api->store, p->tenant.id, c->id, &dc);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	json_t *j = api__campaign_json(p, c, &k), *d = json_object();
	for (int i = 0; i <= TARGET_CANCELLED; i++)
		json_object_set_new(d, target_state_name((enum target_state)i), json_integer(dc.n[i]));
	json_object_set_new(d, "retrying", json_integer(dc.retrying));
	json_object_set_new(d, "next_due", api__time(p, dc.next_due));
	json_object_set_new(j, "delivery", d);
	json_object_set_new(j, "reporting", api__report_figures_json(req, p, c)); /* 報告 (reporting.c) */
	http_response_json(res, status, j);
}

void api_campaigns_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct campaign *c;
	size_t n;
	struct principal *p = api__campaigns_all(req, res, &c, &n);
	int r = 0;
	if (!p)
		return;
	json_t *items = json_array();
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct campaign_counts k;
		struct exclusion x = { true, c[i].exclusion_seconds };
		if ((r = report_campaign_counts(api->store, &c[i], &x, &k)) >= 0)
			json_array_append_new(items, api__campaign_json(p, &c[i], &k));
	}
	if (r < 0) {
		json_decref(items);
		api__store_error(res, r, "campaigns");
		return;
	}
	api__page_all(req, res, items, "id", true);
}

static bool sender_get(struct http_request *req, struct http_response *res, json_t *body, struct campaign *c)
{
	json_t *s = json_object_get(body, "sender");
	const char *msg;
	if (!json_is_object(s)) {
		api__field_error(res, "sender", "must be an object with name, local and domain");
		return false;
	}
	if (json_get_str(s, "name", false, 200, &c->sender_name, &msg) < 0) {
		api__field_error(res, "sender.name", msg);
		return false;
	}
	if (json_get_str(s, "local", true, 64, &c->sender_local, &msg) < 0) {
		api__field_error(res, "sender.local", msg);
		return false;
	}
	if (json_get_str(s, "domain", true, 253, &c->sender_domain, &msg) < 0) {
		api__field_error(res, "sender.domain", msg);
		return false;
	}
	_cleanup_free_ char *addr = xasprintf("%s@%s", c->sender_local, c->sender_domain);
	const char *norm;
	if (!people_email_valid(slice_from(addr), req->arena, &norm)) {
		api__field_error(res, "sender.local", "local part and domain do not make a valid address");
		return false;
	}
	if (strpbrk(c->sender_name, "\r\n")) {
		api__field_error(res, "sender.name", "must be one line");
		return false;
	}
	return true;
}

static bool list_ids_get(struct http_request *req, struct http_response *res, json_t *body, struct campaign *c)
{
	json_t *lists = json_object_get(body, "list_ids");
	if (!json_is_array(lists) || json_array_size(lists) == 0 || json_array_size(lists) > 100) {
		api__field_error(res, "list_ids", "must be a list of 1 to 100 list ids");
		return false;
	}
	c->nlist_ids = 0;
	c->list_ids = arena_alloc(req->arena, json_array_size(lists) * sizeof(int64_t));
	if (!c->list_ids) {
		api__store_error(res, -ENOMEM, "campaign");
		return false;
	}
	for (size_t i = 0; i < json_array_size(lists); i++) {
		json_t *v = json_array_get(lists, i);
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			api__field_error(res, "list_ids", "each entry must be a list id");
			return false;
		}
		c->list_ids[c->nlist_ids++] = json_integer_value(v);
	}
	return true;
}

/* "schedule": validated, stored in its normal form with start_at and ends_at. */
static bool schedule_get(struct http_request *req, struct http_response *res, const struct principal *p,
			 json_t *body, struct campaign *c)
{
	json_t *j = json_object_get(body, "schedule");
	struct schedule sch;
	const char *field = "schedule", *msg = "must be an object";
	if (!j || json_is_null(j)) {
		if (!c->schedule_json)
			c->schedule_json = "{}";
		return true;
	}
	if (!json_is_object(j) || schedule_from_json(j, p->zone, &sch, &field, &msg) < 0) {
		api__field_error(res, field, msg);
		return false;
	}
	json_t *norm = schedule_to_json(&sch, p->zone);
	_cleanup_free_ char *text = json_dumps(norm, JSON_COMPACT);
	json_decref(norm);
	c->schedule_json = arena_strndup(req->arena, text, strlen(text));
	c->start_at = sch.start_at;
	c->ends_at = sch.ends_at;
	return c->schedule_json != NULL;
}

static bool profile_get(struct http_response *res, json_t *body, struct campaign *c)
{
	json_t *j = json_object_get(body, "profile_id");
	const char *msg;
	if (json_is_null(j)) {
		c->profile_id = 0;
		return true;
	}
	if (json_get_int(body, "profile_id", false, 1, INT64_MAX, &c->profile_id, &msg) < 0) {
		api__field_error(res, "profile_id", msg);
		return false;
	}
	return true;
}

/* 1,200 */
static void buf_put_count(struct buf *b, int64_t n)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%lld", (long long)n);
	for (int i = 0; i < len; i++) {
		if (i && digits[i - 1] != '-' && (len - i) % 3 == 0)
			buf_putc(b, ',');
		buf_putc(b, digits[i]);
	}
}

/* The scenario and the profile of c are the tenant's (each error names its field). */
static bool refs_exist(struct http_request *req, struct http_response *res, const struct principal *p,
		       const struct campaign *c)
{
	struct api *api = req->app;
	struct scenario_rec sc;
	struct sending_profile sp;
	int r = store_scenario_get(api->store, p->tenant.id, c->scenario_id, req->arena, &sc);
	if (r == -ENOENT) {
		api__field_error(res, "scenario_id", "no such scenario in this tenant");
		return false;
	}
	if (r >= 0 && c->profile_id && (r = store_profile_get(api->store, p->tenant.id, c->profile_id, req->arena, &sp)) == -ENOENT) {
		api__field_error(res, "profile_id", "no such sending profile in this tenant");
		return false;
	}
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return false;
	}
	return true;
}

/* No sender given: the sending profile's from_address (SPEC E7), else a 400. */
static bool sender_from_profile(struct http_request *req, struct http_response *res, const struct principal *p,
				struct campaign *c)
{
	struct api *api = req->app;
	struct sending_profile sp;
	int r = c->profile_id ? store_profile_get(api->store, p->tenant.id, c->profile_id, req->arena, &sp) : -ENOENT;
	if (r < 0 && r != -ENOENT) {
		api__store_error(res, r, "campaign");
		return false;
	}
	if (r < 0 ||
	    !api__gp_sender(req->arena, sp.from_address, &c->sender_name, &c->sender_local, &c->sender_domain)) {
		api__field_error(res, "sender", "required: the sending profile has no default sender (from_address)");
		return false;
	}
	return true;
}

void api_campaigns_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct campaign c = { .sender_name = "" };
	const char *msg;
	int64_t id;
	if (!body)
		return;
	c.exclusion_seconds = p->tenant.exclusion_seconds;
	if (json_get_str(body, "name", true, 200, &c.name, &msg) < 0 ||
	    (!slice_trim(slice_from(c.name)).len && (msg = "must not be empty"))) {
		api__field_error(res, "name", msg);
		return;
	}
	if (json_get_int(body, "scenario_id", true, 1, INT64_MAX, &c.scenario_id, &msg) < 0) {
		api__field_error(res, "scenario_id", msg);
		return;
	}
	if (!list_ids_get(req, res, body, &c))
		return;
	if (json_object_get(body, "sender") && !sender_get(req, res, body, &c))
		return;
	if (json_get_bool(body, "test_only", false, &c.test_only, &msg) < 0) {
		api__field_error(res, "test_only", msg);
		return;
	}
	if (json_get_int(body, "exclusion_seconds", false, 0, 86400, &c.exclusion_seconds, &msg) < 0) {
		api__field_error(res, "exclusion_seconds", msg);
		return;
	}
	if (!schedule_get(req, res, p, body, &c) || !profile_get(res, body, &c) || !refs_exist(req, res, p, &c) ||
	    (!c.sender_local && !sender_from_profile(req, res, p, &c)))
		return;
	int r = store_campaign_create(api->store, p->tenant.id, &c, &id);
	if (r == -ENOENT) {
		api__field_error(res, "list_ids", "no such list in this tenant");
		return;
	}
	if (r >= 0)
		r = store_campaign_get(api->store, p->tenant.id, id, req->arena, &c);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	api__audit(req, p, "campaign.create", c.name);
	campaign_respond(req, res, p, &c, 201);
}

void api_campaign_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	if (p && api__campaign(req, res, p, &c))
		campaign_respond(req, res, p, &c, 200);
}

void api_campaign_launch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct campaign c;
	int64_t n;
	if (!p || !api__campaign(req, res, p, &c))
		return;
	struct schedule sch;
	campaign_schedule(p, &c, &sch);
	struct deliver_plan plan = { &sch, p->zone, now_unix(), 0 };
	random_bytes(&plan.seed, sizeof(plan.seed));
	struct licence_check lc;
	int r = store_campaign_launch(api->store, p->tenant.id, c.id, plan.now, API_TEST_MAX, deliver_plan_targets,
				      &plan, &n, &lc);
	if (r == -E2BIG && c.test_only) {
		http_response_error(res, 422, "too_many_test_targets",
				    "a test delivery goes to at most 10 test targets (テスト対象); these lists have more",
				    NULL);
		return;
	}
	if (r == -E2BIG) {
		http_response_error(res, 422, "trial_limit", "a trial sends to at most 10 targets per campaign", NULL);
		return;
	}
	if (r == -EDQUOT) {
		bool addr = p->tenant.licence == LICENCE_ADDRESSES;
		_cleanup_buf_ struct buf msg = BUF_INIT(512), need = BUF_INIT(64), left = BUF_INIT(64);
		buf_put_count(&need, lc.need);
		buf_put_count(&left, lc.remain > 0 ? lc.remain : 0);
		buf_printf(&msg, "this campaign needs %s %s, %s remain%s in this service period", need.p,
			   addr ? "new addresses" : "sends", left.p, lc.remain == 1 ? "s" : "");
		http_response_error(res, 422, "licence", msg.p, NULL);
		return;
	}
	if (r == -EPERM) {
		http_response_error(res, 403, "suspended",
				    "this tenant is suspended or its service period has ended: nothing can be sent", NULL);
		return;
	}
	if (r == -EINVAL || r == -ERANGE) {
		api__field_error(res, "schedule", r == -EINVAL ? "the schedule allows no time to send at all"
							       : "the schedule does not fit: the mails cannot all go before spread_until at this domain rate, or it would take more than three years");
		return;
	}
	if (r == -ENODATA) {
		http_response_error(res, 422, "no_recipients",
				    c.test_only ? "the lists have no test targets (テスト対象)"
						: "the lists have no recipients",
				    NULL);
		return;
	}
	if (r == -EBUSY) {
		http_response_error(res, 409, "wrong_state", "only a draft campaign can be launched", NULL);
		return;
	}
	/* a start that has come: sending at once, not at the clock's next tick */
	if (r >= 0 && (r = store_campaigns_tick(api->store, now_unix())) >= 0)
		r = store_campaign_get(api->store, p->tenant.id, c.id, req->arena, &c);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	deliver_wake(api->deliver);
	_cleanup_free_ char *detail = xasprintf("%s: %lld targets", c.name, (long long)n);
	api__audit(req, p, "campaign.launch", detail);
	campaign_respond(req, res, p, &c, 200);
}

void api_campaign_cancel(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct campaign c;
	if (!p || !api__campaign(req, res, p, &c))
		return;
	unsigned from = 1u << CAMPAIGN_DRAFT | 1u << CAMPAIGN_SCHEDULED | 1u << CAMPAIGN_SENDING |
			1u << CAMPAIGN_RUNNING | 1u << CAMPAIGN_PAUSED;
	int r = store_campaign_transition(api->store, p->tenant.id, c.id, from, CAMPAIGN_CANCELLED, now_unix(), NULL,
					  NULL);
	if (r == -EBUSY) {
		http_response_error(res, 409, "wrong_state", "the campaign has already ended", NULL);
		return;
	}
	if (r >= 0)
		r = store_campaign_get(api->store, p->tenant.id, c.id, req->arena, &c);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	api__audit(req, p, "campaign.cancel", c.name);
	campaign_respond(req, res, p, &c, 200);
}

/* pause, resume: the state machine of SPEC E1 (and E7's pause and resume). */
static void campaign_move(struct http_request *req, struct http_response *res, unsigned from, enum campaign_state to,
			  const char *action, const char *refusal)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct campaign c;
	if (!p || !api__campaign(req, res, p, &c))
		return;
	struct schedule sch;
	campaign_schedule(p, &c, &sch);
	struct deliver_plan plan = { &sch, p->zone, now_unix(), 0 };
	random_bytes(&plan.seed, sizeof(plan.seed));
	int r = store_campaign_transition(api->store, p->tenant.id, c.id, from, to, plan.now, deliver_plan_targets, &plan);
	if (r == -EBUSY) {
		http_response_error(res, 409, "wrong_state", refusal, NULL);
		return;
	}
	if (r >= 0)
		r = store_campaign_get(api->store, p->tenant.id, c.id, req->arena, &c);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	deliver_wake(api->deliver);
	api__audit(req, p, action, c.name);
	campaign_respond(req, res, p, &c, 200);
}

void api_campaign_pause(struct http_request *req, struct http_response *res)
{
	campaign_move(req, res, 1u << CAMPAIGN_SCHEDULED | 1u << CAMPAIGN_SENDING, CAMPAIGN_PAUSED, "campaign.pause",
		      "only a scheduled or sending campaign can be paused");
}

void api_campaign_resume(struct http_request *req, struct http_response *res)
{
	campaign_move(req, res, 1u << CAMPAIGN_PAUSED, CAMPAIGN_SENDING, "campaign.resume",
		      "only a paused campaign can be resumed");
}

/* PATCH: SPEC E5 — what is not yet sent follows the edit. */
void api_campaign_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct campaign c;
	const char *msg;
	if (!body || !api__campaign(req, res, p, &c))
		return;
	if (json_object_get(body, "name") &&
	    (json_get_str(body, "name", true, 200, &c.name, &msg) < 0 ||
	     (!slice_trim(slice_from(c.name)).len && (msg = "must not be empty")))) {
		api__field_error(res, "name", msg);
		return;
	}
	if (json_object_get(body, "sender") && !sender_get(req, res, body, &c))
		return;
	if (json_get_int(body, "exclusion_seconds", false, 0, 86400, &c.exclusion_seconds, &msg) < 0) {
		api__field_error(res, "exclusion_seconds", msg);
		return;
	}
	if (json_object_get(body, "list_ids") && !list_ids_get(req, res, body, &c))
		return;
	if ((json_object_get(body, "schedule") && !schedule_get(req, res, p, body, &c)) ||
	    (json_object_get(body, "profile_id") && !profile_get(res, body, &c)) || !refs_exist(req, res, p, &c))
		return;
	struct schedule sch;
	campaign_schedule(p, &c, &sch);
	struct deliver_plan plan = { &sch, p->zone, now_unix(), 0 };
	random_bytes(&plan.seed, sizeof(plan.seed));
	int r = store_campaign_update(api->store, p->tenant.id, c.id, &c, deliver_plan_targets, &plan);
	if (r == -EBUSY) {
		http_response_error(res, 409, "wrong_state", "a finished or cancelled campaign cannot be changed", NULL);
		return;
	}
	if (r == -ENOENT) {
		api__field_error(res, "list_ids", "no such list in this tenant");
		return;
	}
	if (r == -EINVAL || r == -ERANGE) {
		api__field_error(res, "schedule", r == -EINVAL ? "the schedule allows no time to send at all"
							       : "the schedule does not fit: the mails cannot all go before spread_until at this domain rate, or it would take more than three years");
		return;
	}
	if (r >= 0)
		r = store_campaign_get(api->store, p->tenant.id, c.id, req->arena, &c);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	deliver_wake(api->deliver);
	api__audit(req, p, "campaign.update", c.name);
	campaign_respond(req, res, p, &c, 200);
}

/* ---- the planned send curve (SPEC E3: shown before launch) ---- */

static json_t *curve_json(const struct principal *p, const int64_t *at, const bool *sent, size_t n)
{
	static const int64_t sizes[] = { 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400 };
	json_t *j = json_object(), *buckets = json_array();
	int64_t first = n ? at[0] : 0, last = n ? at[n - 1] : 0, size = sizes[0];
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size = sizes[i];
		if ((last - first) / size < 200)
			break;
	}
	/* buckets start on the size's boundary in the tenant's local time */
	int64_t off = n ? tz_offset(p->zone, first) : 0;
	for (size_t i = 0; i < n;) {
		int64_t b = (at[i] + off) / size * size - off, planned = 0, done = 0;
		for (; i < n && at[i] < b + size; i++)
			*(sent && sent[i] ? &done : &planned) += 1;
		json_array_append_new(buckets, json_pack("{s:o, s:I, s:I}", "at", api__time(p, b), "planned",
							 (json_int_t)planned, "sent", (json_int_t)done));
	}
	json_object_set_new(j, "targets", json_integer((json_int_t)n));
	json_object_set_new(j, "first", api__time(p, first));
	json_object_set_new(j, "last", api__time(p, last));
	json_object_set_new(j, "bucket_seconds", json_integer(size));
	json_object_set_new(j, "buckets", buckets);
	return j;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* POST /api/v1/schedule/preview {schedule, list_ids, test_only}: the curve a launch now would plan. */
void api_schedule_preview(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct campaign c = { 0 };
	const char *msg, **emails;
	size_t n;
	if (!body || !list_ids_get(req, res, body, &c) || !schedule_get(req, res, p, body, &c))
		return;
	if (json_get_bool(body, "test_only", false, &c.test_only, &msg) < 0) {
		api__field_error(res, "test_only", msg);
		return;
	}
	int r = store_lists_emails(api->store, p->tenant.id, c.list_ids, c.nlist_ids, c.test_only, req->arena, &emails, &n);
	if (r < 0) {
		api__store_error(res, r, "lists");
		return;
	}
	struct schedule sch;
	campaign_schedule(p, &c, &sch);
	struct deliver_plan plan = { &sch, p->zone, now_unix(), 1 };
	_cleanup_free_ int64_t *due = xcalloc(n ? n : 1, sizeof(*due));
	if ((r = deliver_plan_targets(&plan, n, emails, due)) < 0) {
		api__field_error(res, "schedule", r == -EINVAL ? "the schedule allows no time to send at all"
							       : "the schedule does not fit: the mails cannot all go before spread_until at this domain rate, or it would take more than three years");
		return;
	}
	qsort(due, n, sizeof(*due), cmp_i64);
	http_response_json(res, 200, curve_json(p, due, NULL, n));
}

/* GET /api/v1/campaigns/{id}/plan: what was sent when, and what is planned. */
void api_campaign_plan(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	int64_t *at;
	bool *sent;
	size_t n;
	if (!p || !api__campaign(req, res, p, &c))
		return;
	int r = store_campaign_times(api->store, p->tenant.id, c.id, req->arena, &at, &sent, &n);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	http_response_json(res, 200, curve_json(p, at, sent, n));
}

/* ---- targets ---- */


struct targets_page {
	const struct principal *p;
	const struct exclusion *x;
	int64_t after;
	size_t limit, n;
	bool filter;
	enum target_status status;
	const char *q;   /* substring of the name, address, 部署, 役職 or 項目 */
	json_t *items;
	int64_t last_id;
};

static json_t *event_json(const struct principal *p, const struct event *e, const struct target *t,
			  const struct exclusion *x)
{
	json_t *j = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "kind", event_kind_name(e->kind), "at",
			      api__time(p, e->at_ms / 1000), "ip", e->ip ? json_string(e->ip) : json_null(),
			      "user_agent", e->user_agent ? json_string(e->user_agent) : json_null(), "os",
			      e->os ? json_string(e->os) : json_null(), "browser",
			      e->browser ? json_string(e->browser) : json_null(), "device",
			      e->device ? json_string(e->device) : json_null(), "machine",
			      report_event_is_machine(e, t, x->seconds));
	/* why it is a machine event (SPEC F6): codes, empty for a person's */
	const char *codes[REPORT_REASONS];
	size_t nc = report_reason_codes(report_event_reasons(e, t, x->seconds), codes);
	json_t *why = json_array();
	for (size_t i = 0; i < nc; i++)
		json_array_append_new(why, json_string(codes[i]));
	json_object_set_new(j, "reasons", why);
	json_object_set_new(j, "counted", json_boolean(report_event_counts(e, t, x)));
	json_error_t err;
	json_t *detail = e->detail ? json_loads(e->detail, 0, &err) : NULL;
	if (detail && json_object_get(detail, "fields"))
		json_object_set(j, "fields", json_object_get(detail, "fields"));
	if (detail && json_object_get(detail, "error"))
		json_object_set(j, "error", json_object_get(detail, "error"));
	/* how a file open or a report came in: image, pdf_link, imap, link */
	if (detail && json_is_string(json_object_get(detail, "via")))
		json_object_set(j, "via", json_object_get(detail, "via"));
	json_decref(detail);
	return j;
}

static int target_row(void *ctx, const struct target *t, const struct event *ev, size_t n,
		      const struct target_summary *sum)
{
	struct targets_page *pg = ctx;
	if (t->id <= pg->after || (pg->filter && sum->status != pg->status))
		return 0;
	if (pg->q) {
		bool hit = strstr(t->rid, pg->q) != NULL;
		for (int f = 0; f < PF__COUNT && !hit; f++)
			hit = strcasestr(t->p.f[f], pg->q) != NULL;
		if (!hit)
			return 0;
	}
	if (pg->n == pg->limit)
		return -ECANCELED; /* one more exists: there is a next page */
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(t->id));
	json_object_set_new(j, "rid", json_string(t->rid));
	for (int f = 0; f < PF__COUNT; f++)
		json_object_set_new(j, person_field_names[f], json_string(t->p.f[f]));
	json_object_set_new(j, "is_test", json_boolean(t->p.is_test));
	json_object_set_new(j, "status", json_string(report_status_name(sum->status)));
	json_object_set_new(j, "sent_at", api__time(pg->p, t->sent_at));
	json_object_set_new(j, "error", t->error ? json_string(t->error) : json_null());
	json_t *events = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(events, event_json(pg->p, &ev[i], t, pg->x));
	json_object_set_new(j, "events", events);
	json_array_append_new(pg->items, j);
	pg->n++;
	pg->last_id = t->id;
	return 0;
}

void api_campaign_targets(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	struct exclusion x;
	struct targets_page pg = { .p = p, .x = &x };
	if (!p || !api__campaign(req, res, p, &c) || !api__exclusion(req, res, &c, &x) ||
	    !api__paging(req, res, &pg.after, &pg.limit))
		return;
	pg.q = http_query(req, "q");
	if (pg.q && !pg.q[0])
		pg.q = NULL;
	const char *st = http_query(req, "status");
	if (st && st[0]) {
		if (report_status_parse(st, &pg.status) < 0) {
			api__field_error(res, "status", "unknown status");
			return;
		}
		pg.filter = true;
	}
	pg.items = json_array();
	int r = report_each_target(api->store, &c, &x, target_row, &pg);
	if (r < 0 && r != -ECANCELED) {
		json_decref(pg.items);
		api__store_error(res, r, "campaign");
		return;
	}
	http_response_json(res, 200, api__page(pg.items, r == -ECANCELED, pg.last_id));
}
