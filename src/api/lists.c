/* lists.c — /api/v1/lists: recipient lists and their CSV import. */
#include "api/api_int.h"

#include "core/csv.h"
#include "people/people.h"

static json_t *list_json(const struct principal *p, const struct list_info *l)
{
	return json_pack("{s:I, s:s, s:I, s:I, s:o}", "id", (json_int_t)l->id, "name", l->name,
			 "recipient_count", (json_int_t)l->recipient_count, "test_count", (json_int_t)l->test_count,
			 "created_at", api__time(p, l->created_at));
}

/* api_int.h */
bool api__list_load(struct http_request *req, struct http_response *res, const struct principal *p,
		    const char *what, struct list_info *ret)
{
	struct api *api = req->app;
	int64_t id;
	if (!api__id(req, res, 0, &id))
		return false;
	int r = store_list_get(api->store, p->tenant.id, id, req->arena, ret);
	if (r < 0) {
		api__store_error(res, r, what);
		return false;
	}
	return true;
}

/* The list of params[0] in the caller's tenant; false (response set) otherwise. */
static bool list_load(struct http_request *req, struct http_response *res, const struct principal *p,
		      struct list_info *ret)
{
	return api__list_load(req, res, p, "list", ret);
}

void api_lists_get(struct http_request *req, struct http_response *res)
{
	struct list_info *l;
	size_t n;
	struct principal *p = api__lists_all(req, res, &l, &n);
	if (!p)
		return;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, list_json(p, &l[i]));
	api__page_all(req, res, items, "id", false);
}

/* The body's "name": trimmed, 1 to 200 bytes, in the arena; NULL (400 set) otherwise. */
static const char *name_get(struct http_request *req, struct http_response *res, json_t *body)
{
	const char *name = NULL, *msg;
	if (json_get_str(body, "name", true, 1000, &name, &msg) < 0) {
		api__field_error(res, "name", msg);
		return NULL;
	}
	struct slice s = slice_trim(slice_from(name));
	if (s.len == 0 || s.len > 200) {
		api__field_error(res, "name", s.len ? "must be at most 200 bytes" : "must not be empty");
		return NULL;
	}
	return arena_slice(req->arena, s);
}

void api_lists_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *name = body ? name_get(req, res, body) : NULL;
	struct list_info l;
	int64_t id;
	if (!name)
		return;
	int r = store_list_create(api->store, p->tenant.id, name, &id);
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
	struct principal *p = api__auth(req, res, API_READ);
	struct list_info l;
	if (p && list_load(req, res, p, &l))
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
	if (!api__delete_result(res, r, "list", "a campaign uses this list; it cannot be deleted"))
		return;
	api__audit(req, p, "list.delete", req->params[0]);
	http_response_json(res, 200, json_pack("{s:b, s:b}", "deleted", 1, "ok", 1));
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
	http_response_json(res, 200, json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "imported", (json_int_t)added,
					       "updated", (json_int_t)updated, "total", (json_int_t)ir->total_records,
					       "duplicates", (json_int_t)ir->duplicates, "skipped",
					       problems_json(ir->problems, ir->nproblems), "encoding",
					       ir->encoding ? json_string(ir->encoding) : json_null()));
}

void api_list_import(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_WRITE);
	struct import_result ir;
	struct list_info l;
	if (!p || !list_load(req, res, p, &l))
		return;
	/* The import needs a few times the file's size; its own arena, freed here. */
	struct arena *work = arena_new(st_add(st_mult(req->body.len, 6), (size_t)32 << 20));
	int r = people_import_csv(req->body, work, &ir);
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
	import_respond(req, res, p, l.id, &ir);
	arena_free(work);
}

static json_t *recipient_json(const struct recipient *rc)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(rc->id));
	for (int f = 0; f < PF__COUNT; f++)
		json_object_set_new(j, person_field_names[f], json_string(rc->p.f[f]));
	json_object_set_new(j, "is_test", json_boolean(rc->p.is_test));
	return j;
}

void api_list_recipients(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct recipient_query q = { .q = http_query(req, "q"), .sort = http_query(req, "sort") };
	struct recipient *rc;
	struct list_info l;
	size_t n;
	int64_t offset = 0, total;
	if (!p || !list_load(req, res, p, &l) || !api__paging(req, res, &q.after, &q.limit))
		return;
	const char *order = http_query(req, "order"), *off = http_query(req, "offset");
	if (order && strcmp(order, "asc") && strcmp(order, "desc")) {
		api__field_error(res, "order", "must be asc or desc");
		return;
	}
	q.desc = order && !strcmp(order, "desc");
	if (off && slice_to_i64(slice_from(off), 0, INT32_MAX, &offset) < 0) {
		api__field_error(res, "offset", "must be a whole number from 0");
		return;
	}
	q.offset = (size_t)offset;
	if (q.q && strlen(q.q) > 256) {
		api__field_error(res, "q", "must be at most 256 bytes");
		return;
	}
	if (q.q && !utf8_valid(q.q, strlen(q.q))) { /* PostgreSQL refuses it as a parameter */
		api__field_error(res, "q", "must be UTF-8 text");
		return;
	}
	int r = store_recipients(api->store, p->tenant.id, l.id, &q, req->arena, &rc, &n, &total);
	if (r == -EINVAL) {
		api__field_error(res, "sort", "unknown column");
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, recipient_json(&rc[i]));
	/* next_after pages the default id order; offset pages any order */
	bool more = (int64_t)(q.offset + n) < total;
	json_t *page = api__page(items, more && !q.sort && !q.desc, n ? rc[n - 1].id : 0);
	json_object_set_new(page, "total", json_integer(total));
	http_response_json(res, 200, page);
}

/* Reads the fields present in body over *pe; 400 (set) when one is not a string. */
static bool person_from_json(struct http_response *res, json_t *body, struct person *pe)
{
	const char *msg;
	for (int f = 0; f < PF__COUNT; f++)
		if (json_get_str(body, person_field_names[f], false, 1024, &pe->f[f], &msg) < 0) {
			api__field_error(res, person_field_names[f], msg);
			return false;
		}
	if (json_get_bool(body, "is_test", false, &pe->is_test, &msg) < 0) {
		api__field_error(res, "is_test", msg);
		return false;
	}
	return true;
}

/* The import's rules for one recipient; 400 naming every bad field. */
static bool person_valid(struct http_request *req, struct http_response *res, struct person *pe)
{
	struct import_problem *pr;
	size_t n;
	int r = people_person_check(pe, req->arena, &pr, &n);
	if (r < 0) {
		api__store_error(res, r, "recipient");
		return false;
	}
	if (n == 0)
		return true;
	json_t *details = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(details, json_pack("{s:s, s:s, s:s, s:s}", "field", pr[i].column, "message",
							 pr[i].reason, "code", pr[i].code, "value", pr[i].value));
	_cleanup_free_ char *msg = xasprintf("%s: %s", pr[0].column, pr[0].reason);
	http_response_error(res, 400, "invalid_field", msg, details);
	return false;
}

static void recipient_respond(struct http_request *req, struct http_response *res, const struct principal *p,
			      int64_t list, int64_t id, int status)
{
	struct api *api = req->app;
	struct recipient rc;
	int r = store_recipient_get(api->store, p->tenant.id, list, id, req->arena, &rc);
	if (r < 0) {
		api__store_error(res, r, "recipient");
		return;
	}
	http_response_json(res, status, recipient_json(&rc));
}

static void recipient_exists(struct http_response *res)
{
	http_response_error(res, 409, "exists", "this address is already in the list", NULL);
}

void api_list_recipient_add(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct person pe = { .f = { "", "", "", "", "", "", "", "" } };
	int64_t list, id;
	if (!body || !api__id(req, res, 0, &list) || !person_from_json(res, body, &pe) ||
	    !person_valid(req, res, &pe))
		return;
	int r = store_recipient_add(api->store, p->tenant.id, list, &pe, &id);
	if (r == -EEXIST) {
		recipient_exists(res);
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	api__audit(req, p, "recipient.add", pe.f[PF_EMAIL]);
	recipient_respond(req, res, p, list, id, 201);
}

void api_list_recipient_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	int64_t list, id;
	if (p && api__id(req, res, 0, &list) && api__id(req, res, 1, &id))
		recipient_respond(req, res, p, list, id, 200);
}

void api_list_recipient_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct recipient rc;
	int64_t list, id;
	if (!body || !api__id(req, res, 0, &list) || !api__id(req, res, 1, &id))
		return;
	int r = store_recipient_get(api->store, p->tenant.id, list, id, req->arena, &rc);
	if (r < 0) {
		api__store_error(res, r, "recipient");
		return;
	}
	if (!person_from_json(res, body, &rc.p) || !person_valid(req, res, &rc.p))
		return;
	r = store_recipient_update(api->store, p->tenant.id, list, id, &rc.p);
	if (r == -EEXIST) {
		recipient_exists(res);
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "recipient");
		return;
	}
	api__audit(req, p, "recipient.update", rc.p.f[PF_EMAIL]);
	recipient_respond(req, res, p, list, id, 200);
}

void api_list_recipient_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	int64_t list, id;
	if (!p || !api__id(req, res, 0, &list) || !api__id(req, res, 1, &id))
		return;
	int r = store_recipient_delete(api->store, p->tenant.id, list, id);
	if (r < 0) {
		api__store_error(res, r, "recipient");
		return;
	}
	api__audit(req, p, "recipient.delete", req->params[1]);
	http_response_json(res, 200, json_pack("{s:b, s:b}", "deleted", 1, "ok", 1));
}

/* Bulk delete: {"ids": [...]} or a CSV of addresses. */
void api_list_recipients_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	int64_t list;
	if (!p || !api__id(req, res, 0, &list))
		return;
	const char *type = http_header(req, "Content-Type");
	int64_t *ids = NULL;
	const char **emails = NULL;
	size_t n = 0;
	json_auto_t *body = NULL;
	if (type && !strncasecmp(type, "application/json", 16)) {
		if (!(body = api__body(req, res)))
			return;
		json_t *arr = json_object_get(body, "ids");
		if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 100000) {
			api__field_error(res, "ids", "must be a list of 1 to 100000 recipient ids");
			return;
		}
		n = json_array_size(arr);
		if (!(ids = arena_alloc(req->arena, n * sizeof(*ids)))) {
			api__store_error(res, -ENOMEM, "request");
			return;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *v = json_array_get(arr, i);
			if (!json_is_integer(v) || json_integer_value(v) < 1) {
				api__field_error(res, "ids", "each entry must be a recipient id");
				return;
			}
			ids[i] = json_integer_value(v);
		}
	} else {
		struct import_problem *pr;
		size_t npr;
		int r = people_addresses_csv(req->body, req->arena, &emails, &n, &pr, &npr);
		if (r < 0) {
			api__store_error(res, r, "request");
			return;
		}
		if (npr) {
			http_response_error(res, 422, "invalid_csv", "the file has problems; nothing was deleted",
					    problems_json(pr, npr));
			return;
		}
		if (n == 0) {
			http_response_error(res, 422, "invalid_csv", "the file lists no addresses", NULL);
			return;
		}
	}
	bool *deleted = arena_alloc(req->arena, n * sizeof(bool));
	if (!deleted) {
		api__store_error(res, -ENOMEM, "request");
		return;
	}
	int r = store_recipients_delete(api->store, p->tenant.id, list, ids, emails, n, deleted);
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	json_t *missing = json_array();
	int64_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (deleted[i])
			count++;
		else
			json_array_append_new(missing, ids ? json_integer(ids[i]) : json_string(emails[i]));
	}
	_cleanup_free_ char *detail = xasprintf("list %lld: %lld deleted", (long long)list, (long long)count);
	api__audit(req, p, "recipients.delete", detail);
	http_response_json(res, 200, json_pack("{s:I, s:o}", "deleted", (json_int_t)count, "not_found", missing));
}

void api_list_export(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct list_info l;
	enum csv_encoding enc;
	if (!p || !list_load(req, res, p, &l))
		return;
	if (csv_encoding_parse(http_query(req, "encoding"), &enc) < 0) {
		api__field_error(res, "encoding", "must be utf8 or cp932");
		return;
	}
	int64_t id = l.id;
	int r = 0;
	/* Every recipient, a page at a time, into one array the exporter writes. */
	struct arena *a = arena_new((size_t)1 << 30);
	struct person *all = arena_alloc(a, (size_t)(l.recipient_count ? l.recipient_count : 1) * sizeof(*all));
	size_t total = 0;
	struct recipient_query q = { .limit = 1000 };
	while (all && r >= 0) {
		struct recipient *rc;
		size_t n;
		int64_t count;
		r = store_recipients(api->store, p->tenant.id, id, &q, a, &rc, &n, &count);
		for (size_t i = 0; r >= 0 && i < n && total < (size_t)l.recipient_count; i++)
			all[total++] = rc[i].p;
		if (r < 0 || n < q.limit)
			break;
		q.after = rc[n - 1].id;
	}
	_cleanup_buf_ struct buf text = BUF_INIT((size_t)512 << 20), out = BUF_INIT((size_t)512 << 20);
	if (!all)
		r = -ENOMEM;
	if (r >= 0)
		r = people_export_csv(all, total, &text);
	if (r >= 0)
		r = csv_encode(buf_slice(&text), enc, &out);
	arena_free(a);
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	_cleanup_free_ char *name = xasprintf("%s.csv", l.name);
	api__send_file(req, res, enc == CSV_CP932 ? "text/csv; charset=Shift_JIS" : "text/csv; charset=utf-8", name,
		       &out);
}

void api_list_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct list_info l;
	int64_t id;
	if (!body || !api__id(req, res, 0, &id))
		return;
	const char *name = name_get(req, res, body);
	if (!name)
		return;
	int r = store_list_rename(api->store, p->tenant.id, id, name);
	if (r >= 0)
		r = store_list_get(api->store, p->tenant.id, id, req->arena, &l);
	if (r < 0) {
		api__store_error(res, r, "list");
		return;
	}
	api__audit(req, p, "list.rename", l.name);
	http_response_json(res, 200, list_json(p, &l));
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
