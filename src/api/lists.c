/* lists.c — /api/v1/lists: recipient lists and their CSV import. */
#include "api/api_int.h"

#include "people/people.h"

static json_t *list_json(const struct principal *p, const struct list_info *l)
{
	return json_pack("{s:I, s:s, s:I, s:I, s:o}", "id", (json_int_t)l->id, "name", l->name,
			 "recipient_count", (json_int_t)l->recipient_count, "test_count", (json_int_t)l->test_count,
			 "created_at", api__time(p, l->created_at));
}

void api_lists_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct list_info *l;
	size_t n;
	if (!p)
		return;
	int r = store_lists(api->store, p->tenant.id, req->arena, &l, &n);
	if (r < 0) {
		api__store_error(res, r, "lists");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, list_json(p, &l[i]));
	http_response_json(res, 200, api__page(items, false, 0));
}

static bool name_ok(struct http_response *res, const char *name)
{
	struct slice s = slice_trim(slice_from(name));
	if (s.len == 0) {
		api__field_error(res, "name", "must not be empty");
		return false;
	}
	if (s.len > 200) {
		api__field_error(res, "name", "must be at most 200 bytes");
		return false;
	}
	return true;
}

void api_lists_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *name = NULL, *msg;
	struct list_info l;
	int64_t id;
	if (!body)
		return;
	if (json_get_str(body, "name", true, 1000, &name, &msg) < 0) {
		api__field_error(res, "name", msg);
		return;
	}
	if (!name_ok(res, name))
		return;
	struct slice nm = slice_trim(slice_from(name));
	int r = store_list_create(api->store, p->tenant.id, arena_slice(req->arena, nm), &id);
	if (r >= 0)
		r = store_list_get(api->store, p->tenant.id, id, req->arena, &l);
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	api__audit(req, p, "list.create", l.name);
	http_response_json(res, 201, list_json(p, &l));
}

void api_list_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct list_info l;
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_list_get(api->store, p->tenant.id, id, req->arena, &l);
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	http_response_json(res, 200, list_json(p, &l));
}

void api_list_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_list_delete(api->store, p->tenant.id, id);
	if (r == -EBUSY) {
		http_response_error(res, 409, "in_use", "a campaign uses this list; it cannot be deleted", NULL);
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	api__audit(req, p, "list.delete", req->params[0]);
	http_response_json(res, 200, json_pack("{s:b}", "ok", 1));
}

/* At most this many problems are listed; the message gives the total. */
#define PROBLEMS_LISTED 1000

static json_t *problems_json(const struct import_problem *pr, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n && i < PROBLEMS_LISTED; i++)
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:s}", "line", (json_int_t)pr[i].line,
						   "column", pr[i].column, "value", pr[i].value, "code", pr[i].code,
						   "reason", pr[i].reason));
	return a;
}

static void import_respond(struct http_request *req, struct http_response *res, struct principal *p, int64_t id,
			   const struct import_result *ir)
{
	struct api *api = req->app;
	const char *skip = http_query(req, "skip_invalid");
	bool skip_invalid = skip && (!strcmp(skip, "1") || !strcmp(skip, "true"));
	int64_t added = 0, updated = 0;
	int r;
	if (ir->nproblems && !skip_invalid) {
		_cleanup_free_ char *msg = xasprintf("the file has %zu problem%s%s; nothing was imported",
						     ir->nproblems, ir->nproblems == 1 ? "" : "s",
						     ir->nproblems > PROBLEMS_LISTED ? " (the first 1000 are listed)" : "");
		http_response_error(res, 422, "invalid_csv", msg, problems_json(ir->problems, ir->nproblems));
		return;
	}
	if (ir->nrows &&
	    (r = store_recipients_import(api->store, p->tenant.id, id, ir->rows, ir->nrows, &added, &updated)) < 0) {
		api__store_error(res, r, "list");
		return;
	}
	_cleanup_free_ char *detail = xasprintf("list %lld: %lld new, %lld updated", (long long)id,
						(long long)added, (long long)updated);
	api__audit(req, p, "list.import", detail);
	http_response_json(res, 200, json_pack("{s:I, s:I, s:I, s:I, s:o}", "imported", (json_int_t)added,
					       "updated", (json_int_t)updated, "total", (json_int_t)ir->total_records,
					       "duplicates", (json_int_t)ir->duplicates, "skipped",
					       problems_json(ir->problems, ir->nproblems)));
}

void api_list_import(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct import_result ir;
	struct list_info l;
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_list_get(api->store, p->tenant.id, id, req->arena, &l);
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	/* The import needs a few times the file's size; its own arena, freed here. */
	struct arena *work = arena_new(st_add(st_mult(req->body.len, 6), (size_t)32 << 20));
	r = people_import_csv(req->body, work, &ir);
	if (r == -ENOMEM) {
		arena_free(work);
		http_response_error(res, 413, "too_large", "the file is too large to import at once; split it", NULL);
		return;
	}
	if (r < 0) {
		arena_free(work);
		api__store_error(res, r, "import");
		return;
	}
	import_respond(req, res, p, id, &ir);
	arena_free(work);
}

static json_t *person_json(const struct person *pe)
{
	json_t *j = json_object();
	for (int f = 0; f < PF__COUNT; f++)
		json_object_set_new(j, person_field_names[f], json_string(pe->f[f]));
	json_object_set_new(j, "is_test", json_boolean(pe->is_test));
	return j;
}

void api_list_recipients(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct recipient *rc;
	struct list_info l;
	size_t n, limit;
	int64_t id, after;
	if (!p || !api__id(req, res, 0, &id) || !api__paging(req, res, &after, &limit))
		return;
	int r = store_list_get(api->store, p->tenant.id, id, req->arena, &l);
	if (r >= 0)
		r = store_recipients(api->store, p->tenant.id, id, after, limit + 1, req->arena, &rc, &n);
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n && i < limit; i++) {
		json_t *j = person_json(&rc[i].p);
		json_object_set_new(j, "id", json_integer(rc[i].id));
		json_array_append_new(items, j);
	}
	http_response_json(res, 200, api__page(items, n > limit, n ? rc[n > limit ? limit - 1 : n - 1].id : 0));
}

void api_list_template(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	if (!p)
		return;
	people_template_csv(&b);
	api__send_file(req, res, "text/csv; charset=utf-8", "配信リスト_テンプレート.csv", &b);
}
