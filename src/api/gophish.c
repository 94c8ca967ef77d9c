/*
 * gophish.c — GoPhish's REST API under /api/ (docs/GOPHISH.md): groups are
 * recipient lists, templates and pages are scenarios seen through their
 * mail and their landing page, smtp is a sending profile, and campaigns,
 * results and summaries are Kunren's campaigns, targets and events in
 * GoPhish's JSON shapes.  Every handler answers Kunren-style inside and is
 * run by gp_run(), which gives an error body GoPhish's keys
 * {"message", "success": false, "data": null} beside Kunren's "error".
 */
#include "api/api_int.h"
#include "api/gophish_int.h"

#include "content/content.h"
#include "gophish/gophish.h"
#include "people/people.h"
#include "report/report.h"

/* Scenarios made here carry these gallery ids (docs/GOPHISH.md). */
#define GP_PAGE "gophish:page"
#define GP_CAMPAIGN "gophish:campaign"

static const char gp_explain_html[] =
	"<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n</head>\n<body>\n"
	"<h1>これは標的型攻撃メール訓練です。</h1>\n<p>This was a phishing-awareness drill.</p>\n</body>\n</html>\n";

/* ---- authentication and answers ---- */

static bool gp_path(const char *path)
{
	return path && !strncmp(path, "/api/", 5) && strncmp(path, "/api/v1/", 8) != 0 && strcmp(path, "/api/v1") != 0;
}

const char *api__authorization(struct http_request *req)
{
	const char *h = http_header(req, "Authorization");
	if (!gp_path(req->path))
		return h;
	/* GoPhish reads ?api_key= first, then the header with or without "Bearer " */
	const char *k = http_query(req, "api_key");
	if (k && k[0])
		return arena_printf(req->arena, "Bearer %s", k);
	if (h && !strncasecmp(h, "Bearer ", 7))
		return h;
	return arena_printf(req->arena, "Bearer %s", h ? h : "");
}

static bool gp_key_given(struct http_request *req)
{
	const char *k = http_query(req, "api_key"), *h = http_header(req, "Authorization");
	if (k && k[0])
		return true;
	if (h && !strncasecmp(h, "Bearer ", 7))
		h += 7;
	return h && h[0];
}

/* Kunren's error body, if the handler left one, becomes GoPhish's. */
static void gp_run(struct http_request *req, struct http_response *res,
		   void (*fn)(struct http_request *req, struct http_response *res))
{
	fn(req, res);
	if (res->status < 400 || res->stream)
		return;
	json_error_t err;
	json_auto_t *j = json_loadb(res->body.p, res->body.len, 0, &err);
	json_t *e = json_object_get(j, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (res->status == 401) {
		msg = gp_key_given(req) ? "Invalid API Key" : "API Key not set";
		json_object_set_new(e, "message", json_string(msg));
	}
	json_t *out = json_pack("{s:s, s:b, s:n}", "message", msg ? msg : "error", "success", 0, "data");
	if (e) /* Kunren's own error object stays beside GoPhish's keys */
		json_object_set(out, "error", e);
	http_response_json(res, res->status, out);
}

static void gp_message(struct http_response *res, int status, const char *msg)
{
	http_response_json(res, status, json_pack("{s:s, s:b, s:n}", "message", msg, "success", 1, "data"));
}

/* GoPhish's times: RFC 3339 in UTC; Go's zero time for "not set". */
static json_t *gp_time_ms(int64_t ms)
{
	if (ms <= 0)
		return json_string("0001-01-01T00:00:00Z");
	struct civil c;
	char s[64];
	civil_from_unix(ms / 1000, &c);
	if (ms % 1000)
		snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day, c.hour, c.min,
			 c.sec, (int)(ms % 1000));
	else
		snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour, c.min, c.sec);
	return json_string(s);
}

static json_t *gp_time(int64_t t)
{
	return gp_time_ms(t > 0 ? t * 1000 : 0);
}

/* A time a client sends: RFC 3339 as gophish_time_parse reads it, or Go's
 * zero time (year 1: "not set", 0).  Unix seconds; -EINVAL when malformed. */
static int gp_parse_time(const char *s, int64_t *ret)
{
	int64_t ms;
	if (!strncmp(s, "0001-01-01", 10)) {
		*ret = 0;
		return 0;
	}
	if (gophish_time_parse(s, &ms) < 0)
		return -EINVAL;
	*ret = ms / 1000;
	return 0;
}

/* An optional time field: *ret 0 when absent, null, "" or Go's zero time. */
static bool gp_time_field(struct http_response *res, json_t *body, const char *key, int64_t *ret)
{
	json_t *v = json_object_get(body, key);
	*ret = 0;
	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_value(v)[0]))
		return true;
	if (!json_is_string(v) || gp_parse_time(json_string_value(v), ret) < 0) {
		api__field_error(res, key, "must be an RFC 3339 time such as 2026-12-01T09:00:00+09:00");
		return false;
	}
	return true;
}

/* The name of {"name": ...} in body[key]; NULL when absent or empty. */
static const char *gp_ref_name(json_t *body, const char *key)
{
	const char *n = json_string_value(json_object_get(json_object_get(body, key), "name"));
	return n && slice_trim(slice_from(n)).len ? n : NULL;
}

/* ---- merge fields: GoPhish's {{.X}} <-> Kunren's {{x}} ---- */

/* Kunren's fields that have a GoPhish name (the others stay as they are). */
static const struct {
	enum merge_field field;
	const char *gp;
} gp_names[] = {
	{ MF_URL, "URL" }, { MF_FIRST_NAME, "FirstName" }, { MF_LAST_NAME, "LastName" },
	{ MF_EMAIL, "Email" }, { MF_POSITION, "Position" }, { MF_SENDER_EMAIL, "From" },
};

/* GoPhish's text to Kunren's (gophish_template_convert, as the import
 * does); NULL with a 400 naming field for what the import would drop. */
static const char *gp_in(struct http_request *req, struct http_response *res, const char *s, const char *field)
{
	const char *out, *dropped;
	int r = gophish_template_convert(slice_from(s), req->arena, &out, &dropped);
	if (r < 0) {
		api__store_error(res, r == -E2BIG ? -ENOMEM : r, field);
		return NULL;
	}
	if (dropped[0]) {
		_cleanup_free_ char *msg = xasprintf("%s: Kunren has no value for this (known: .URL, .FirstName, "
						     ".LastName, .Email, .Position, .From, .Tracker)", dropped);
		api__field_error(res, field, msg);
		return NULL;
	}
	return out;
}

/* Kunren's text to GoPhish's (fields without a GoPhish name stay). */
const char *api__gp_out(struct arena *a, const char *s)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	const char *p = s ? s : "";
	for (;;) {
		const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
		if (!close) {
			buf_puts(&b, p);
			break;
		}
		buf_put_slice(&b, (struct slice){ p, (size_t)(open - p) });
		struct slice inner = { open + 2, (size_t)(close - open - 2) };
		enum merge_field f;
		const char *gp = NULL;
		p = close + 2;
		if (content_field_lookup(inner, &f) == 0)
			for (size_t i = 0; i < ARRAY_SIZE(gp_names); i++)
				if (gp_names[i].field == f)
					gp = gp_names[i].gp;
		if (gp)
			buf_printf(&b, "{{.%s}}", gp);
		else
			buf_put_slice(&b, (struct slice){ open, (size_t)(p - open) });
	}
	return arena_strndup(a, b.p ? b.p : "", b.len);
}

/* ---- lookups ---- */

static bool is_page(const struct scenario_rec *s)
{
	return (s->gallery_id && !strcmp(s->gallery_id, GP_PAGE)) ||
	       (s->landing_html && !(s->gallery_id && !strcmp(s->gallery_id, GP_CAMPAIGN)));
}

static bool is_template(const struct scenario_rec *s)
{
	return !s->gallery_id || (strcmp(s->gallery_id, GP_PAGE) && strcmp(s->gallery_id, GP_CAMPAIGN));
}

/* The scenario of params[0] that `want` accepts; false (404 set) otherwise. */
static bool gp_scenario(struct http_request *req, struct http_response *res, const struct principal *p,
			bool (*want)(const struct scenario_rec *), const char *what, struct scenario_rec *ret)
{
	struct api *api = req->app;
	int64_t id;
	if (!api__id(req, res, 0, &id))
		return false;
	int r = store_scenario_get(api->store, p->tenant.id, id, req->arena, ret);
	if (r == -ENOENT || (r >= 0 && !want(ret))) {
		_cleanup_free_ char *msg = xasprintf("%s not found", what);
		http_response_error(res, 404, "not_found", msg, NULL);
		return false;
	}
	if (r < 0) {
		api__store_error(res, r, what);
		return false;
	}
	return true;
}

/* The first scenario named `name` that `want` accepts: 1 found, 0 not, < 0 error. */
static int scenario_by_name(struct http_request *req, const struct principal *p, const char *name,
			    bool (*want)(const struct scenario_rec *), int64_t except, struct scenario_rec *ret)
{
	struct api *api = req->app;
	struct scenario_rec *s;
	size_t n;
	int r = store_scenarios(api->store, p->tenant.id, req->arena, &s, &n);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (s[i].id != except && want(&s[i]) && !strcmp(s[i].name, name)) {
			*ret = s[i];
			return 1;
		}
	return r < 0 ? r : 0;
}

/* ---- groups: recipient lists ---- */

/* Every recipient of a list, in id order. */
static int list_all(struct http_request *req, const struct principal *p, int64_t list, struct recipient **ret,
		    size_t *ret_n)
{
	struct api *api = req->app;
	struct recipient *all = NULL;
	size_t n = 0, cap = 0;
	int64_t after = 0;
	for (;;) {
		struct recipient_query q = { .after = after, .limit = 500 };
		struct recipient *rc;
		size_t k;
		int64_t total;
		int r = store_recipients(api->store, p->tenant.id, list, &q, req->arena, &rc, &k, &total);
		if (r < 0)
			return r;
		if (n + k > cap) { /* doubling: what the arena holds stays within twice the list */
			cap = cap ? 2 * cap : 512;
			while (cap < n + k)
				cap *= 2;
			struct recipient *more = arena_alloc(req->arena, cap * sizeof(*more));
			if (!more)
				return -ENOMEM;
			if (n)
				memcpy(more, all, n * sizeof(*more));
			all = more;
		}
		if (k) {
			memcpy(all + n, rc, k * sizeof(*all));
			n += k;
			after = rc[k - 1].id;
		}
		if (k < 500)
			break;
	}
	*ret = all;
	*ret_n = n;
	return 0;
}

static json_t *group_json(const struct list_info *l, const struct recipient *rc, size_t n)
{
	json_t *targets = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(targets, json_pack("{s:s, s:s, s:s, s:s}", "email", rc[i].p.f[PF_EMAIL],
							 "first_name", rc[i].p.f[PF_FIRST_NAME], "last_name",
							 rc[i].p.f[PF_LAST_NAME], "position", rc[i].p.f[PF_POSITION]));
	return json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)l->id, "name", l->name, "modified_date",
			 gp_time(l->created_at), "targets", targets);
}

static json_t *group_summary_json(const struct list_info *l)
{
	return json_pack("{s:I, s:s, s:o, s:I}", "id", (json_int_t)l->id, "name", l->name, "modified_date",
			 gp_time(l->created_at), "num_targets", (json_int_t)l->recipient_count);
}

static bool gp_list(struct http_request *req, struct http_response *res, const struct principal *p,
		    struct list_info *ret)
{
	return api__list_load(req, res, p, "Group", ret);
}

static void group_respond(struct http_request *req, struct http_response *res, const struct principal *p,
			  int64_t id, int status)
{
	struct api *api = req->app;
	struct list_info l;
	struct recipient *rc;
	size_t n;
	int r = store_list_get(api->store, p->tenant.id, id, req->arena, &l);
	if (r >= 0)
		r = list_all(req, p, id, &rc, &n);
	if (r < 0) {
		api__store_error(res, r, "group");
		return;
	}
	http_response_json(res, status, group_json(&l, rc, n));
}

static void groups_get(struct http_request *req, struct http_response *res)
{
	struct list_info *l;
	size_t n;
	struct principal *p = api__lists_all(req, res, &l, &n);
	int r = 0;
	if (!p)
		return;
	json_t *out = json_array();
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct recipient *rc;
		size_t k;
		if ((r = list_all(req, p, l[i].id, &rc, &k)) >= 0)
			json_array_append_new(out, group_json(&l[i], rc, k));
	}
	if (r < 0) {
		json_decref(out);
		api__store_error(res, r, "groups");
		return;
	}
	http_response_json(res, 200, out);
}

static void groups_summary(struct http_request *req, struct http_response *res)
{
	struct list_info *l;
	size_t n;
	if (!api__lists_all(req, res, &l, &n))
		return;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, group_summary_json(&l[i]));
	http_response_json(res, 200, json_pack("{s:I, s:o}", "total", (json_int_t)n, "groups", items));
}

static void group_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct list_info l;
	if (p && gp_list(req, res, p, &l))
		group_respond(req, res, p, l.id, 200);
}

static void group_summary(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct list_info l;
	if (p && gp_list(req, res, p, &l))
		http_response_json(res, 200, group_summary_json(&l));
}

/* Indices into the rows of ctx: by address (ASCII case ignored, as the
 * store's NOCASE column), then by index. */
static int index_cmp(const void *a, const void *b, void *ctx)
{
	const struct person *rows = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcasecmp(rows[x].f[PF_EMAIL], rows[y].f[PF_EMAIL]);
	return c ? c : (x < y ? -1 : x > y);
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static int str_case_cmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static int recipient_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct recipient *)a)->p.f[PF_EMAIL], ((const struct recipient *)b)->p.f[PF_EMAIL]);
}

/* rc sorted by recipient_cmp. */
static const struct recipient *recipient_find(const struct recipient *rc, size_t n, const char *email)
{
	struct recipient key = { 0 };
	key.p.f[PF_EMAIL] = email;
	return n ? bsearch(&key, rc, n, sizeof(*rc), recipient_cmp) : NULL;
}

/* The group's name and targets from a body: one row per address (the last
 * wins), each checked like an import row.  keep (n_keep): the list's present
 * recipients, whose other fields an address that stays keeps. */
static bool group_from_body(struct http_request *req, struct http_response *res, json_t *body, const char **ret_name,
			    struct person **ret_rows, size_t *ret_n, const struct recipient *keep, size_t n_keep)
{
	const char *name = NULL, *msg;
	if (json_get_str(body, "name", false, 1000, &name, &msg) < 0) {
		api__field_error(res, "name", msg);
		return false;
	}
	struct slice ns = slice_trim(slice_from(name));
	if (!ns.len || ns.len > 200) {
		api__field_error(res, "name", ns.len ? "must be at most 200 bytes" : "Group name not specified");
		return false;
	}
	*ret_name = arena_slice(req->arena, ns);
	json_t *t = json_object_get(body, "targets");
	if (!json_is_array(t) || !json_array_size(t)) {
		api__field_error(res, "targets", "No targets specified");
		return false;
	}
	if (json_array_size(t) > 1000000) {
		api__field_error(res, "targets", "at most 1,000,000 targets");
		return false;
	}
	size_t n = json_array_size(t), k = 0;
	struct person *rows = arena_alloc(req->arena, n * sizeof(*rows));
	if (!rows) {
		api__store_error(res, -ENOMEM, "group");
		return false;
	}
	static const struct { const char *key; enum person_field f; } keys[] = {
		{ "email", PF_EMAIL }, { "first_name", PF_FIRST_NAME }, { "last_name", PF_LAST_NAME },
		{ "position", PF_POSITION },
	};
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(t, i);
		struct person pe = { 0 };
		if (!json_is_object(o)) {
			_cleanup_free_ char *field = xasprintf("targets[%zu]", i);
			api__field_error(res, field, "must be an object with email, first_name, last_name, position");
			return false;
		}
		for (size_t j = 0; j < ARRAY_SIZE(keys); j++)
			if (json_get_str(o, keys[j].key, false, 1024, &pe.f[keys[j].f], &msg) < 0) {
				_cleanup_free_ char *field = xasprintf("targets[%zu].%s", i, keys[j].key);
				api__field_error(res, field, msg);
				return false;
			}
		struct import_problem *pr;
		size_t np;
		int r = people_person_check(&pe, req->arena, &pr, &np);
		if (r < 0) {
			api__store_error(res, r, "group");
			return false;
		}
		if (np) {
			_cleanup_free_ char *field = xasprintf("targets[%zu].%s", i, pr[0].column);
			api__field_error(res, field, pr[0].reason);
			return false;
		}
		const struct recipient *old = recipient_find(keep, n_keep, pe.f[PF_EMAIL]);
		if (old) {
			for (int f = PF_DEPARTMENT; f < PF__COUNT; f++)
				if (f != PF_POSITION)
					pe.f[f] = old->p.f[f];
			pe.is_test = old->p.is_test;
		}
		rows[i] = pe;
	}
	/* one row per address, the last one given, in the order given */
	size_t *order = arena_alloc(req->arena, n * sizeof(*order));
	struct person *out = arena_alloc(req->arena, n * sizeof(*out));
	if (!order || !out) {
		api__store_error(res, -ENOMEM, "group");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), index_cmp, rows);
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || strcasecmp(rows[order[i]].f[PF_EMAIL], rows[order[i + 1]].f[PF_EMAIL]))
			order[k++] = order[i];
	qsort(order, k, sizeof(*order), size_cmp);
	for (size_t i = 0; i < k; i++)
		out[i] = rows[order[i]];
	*ret_rows = out;
	*ret_n = k;
	return true;
}

/* 409 when another list of the tenant has this name. */
static bool group_name_free(struct http_request *req, struct http_response *res, const struct principal *p,
			    const char *name, int64_t except)
{
	struct api *api = req->app;
	struct list_info *l;
	size_t n;
	int r = store_lists(api->store, p->tenant.id, req->arena, &l, &n);
	if (r < 0) {
		api__store_error(res, r, "groups");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (l[i].id != except && !strcmp(l[i].name, name)) {
			http_response_error(res, 409, "exists", "Group name already in use",
					    json_pack("[{s:s, s:s}]", "field", "name", "message", "already in use"));
			return false;
		}
	return true;
}

static void groups_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *name;
	struct person *rows;
	size_t n;
	int64_t id, added, updated;
	if (!body || !group_from_body(req, res, body, &name, &rows, &n, NULL, 0) ||
	    !group_name_free(req, res, p, name, 0))
		return;
	int r = store_list_create(api->store, p->tenant.id, name, &id);
	if (r >= 0 && (r = store_recipients_import(api->store, p->tenant.id, id, rows, n, &added, &updated)) < 0)
		store_list_delete(api->store, p->tenant.id, id);
	if (r < 0) {
		api__store_error(res, r, "group");
		return;
	}
	api__audit(req, p, "list.create", name);
	group_respond(req, res, p, id, 201);
}

static void group_put(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct list_info l;
	struct recipient *old;
	const char *name, *msg;
	struct person *rows;
	size_t n, nold;
	int64_t bid = 0, added, updated;
	if (!body || !gp_list(req, res, p, &l))
		return;
	if (json_get_int(body, "id", false, 0, INT64_MAX, &bid, &msg) < 0 || (bid && bid != l.id)) {
		api__field_error(res, "id", bid ? "Error: /:id and group_id mismatch" : msg);
		return;
	}
	int r = list_all(req, p, l.id, &old, &nold);
	if (r < 0) {
		api__store_error(res, r, "group");
		return;
	}
	qsort(old, nold, sizeof(*old), recipient_cmp);
	if (!group_from_body(req, res, body, &name, &rows, &n, old, nold) || !group_name_free(req, res, p, name, l.id))
		return;
	/* the addresses that leave */
	int64_t *gone = arena_alloc(req->arena, (nold + 1) * sizeof(*gone));
	const char **emails = arena_alloc(req->arena, (n + 1) * sizeof(*emails));
	size_t ngone = 0;
	if (!gone || !emails) {
		api__store_error(res, -ENOMEM, "group");
		return;
	}
	for (size_t i = 0; i < n; i++)
		emails[i] = rows[i].f[PF_EMAIL];
	qsort(emails, n, sizeof(*emails), str_case_cmp);
	for (size_t i = 0; i < nold; i++)
		if (!bsearch(&old[i].p.f[PF_EMAIL], emails, n, sizeof(*emails), str_case_cmp))
			gone[ngone++] = old[i].id;
	/* the name, the addresses that leave and the rows: all or nothing */
	r = store_list_replace(api->store, p->tenant.id, l.id, strcmp(name, l.name) ? name : NULL, gone, ngone, rows,
			       n, &added, &updated);
	if (r < 0) {
		api__store_error(res, r, "group");
		return;
	}
	api__audit(req, p, "list.update", name);
	group_respond(req, res, p, l.id, 200);
}

static void group_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct list_info l;
	if (!p || !gp_list(req, res, p, &l))
		return;
	int r = store_list_delete(api->store, p->tenant.id, l.id);
	if (!api__delete_result(res, r, "group", "a campaign uses this group; it cannot be deleted"))
		return;
	api__audit(req, p, "list.delete", l.name);
	gp_message(res, 200, "Group deleted successfully!");
}

/* ---- templates and pages: scenarios ---- */

static json_t *template_json(struct http_request *req, const struct scenario_rec *s)
{
	_cleanup_buf_ struct buf from = BUF_INIT(512);
	if (s->sender_local[0] && s->sender_domain[0]) {
		if (s->sender_name[0])
			buf_printf(&from, "%s <%s@%s>", s->sender_name, s->sender_local, s->sender_domain);
		else
			buf_printf(&from, "%s@%s", s->sender_local, s->sender_domain);
	}
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:[]}", "id", (json_int_t)s->id, "name", s->name,
			 "envelope_sender", from.p ? from.p : "", "subject", api__gp_out(req->arena, s->subject), "text",
			 api__gp_out(req->arena, s->text), "html", api__gp_out(req->arena, s->html), "modified_date", gp_time(s->created_at),
			 "attachments");
}

static json_t *page_json(struct http_request *req, const struct scenario_rec *s)
{
	return json_pack("{s:I, s:s, s:s, s:b, s:b, s:s, s:o}", "id", (json_int_t)s->id, "name", s->name, "html",
			 api__gp_out(req->arena, s->landing_html ? s->landing_html : ""), "capture_credentials", 1,
			 "capture_passwords", 0, "redirect_url", s->education_url ? s->education_url : "",
			 "modified_date", gp_time(s->created_at));
}

static void scenarios_list(struct http_request *req, struct http_response *res, bool pages)
{
	struct scenario_rec *s;
	size_t n;
	if (!api__scenarios_all(req, res, &s, &n))
		return;
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		if (pages ? is_page(&s[i]) : is_template(&s[i]))
			json_array_append_new(out, pages ? page_json(req, &s[i]) : template_json(req, &s[i]));
	http_response_json(res, 200, out);
}

static void scenario_get(struct http_request *req, struct http_response *res, bool page)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct scenario_rec s;
	if (p && gp_scenario(req, res, p, page ? is_page : is_template, page ? "Page" : "Template", &s))
		http_response_json(res, 200, page ? page_json(req, &s) : template_json(req, &s));
}

/* gophish_int.h */
bool api__gp_sender(struct arena *a, const char *from, const char **ret_name, const char **ret_local,
		    const char **ret_domain)
{
	struct slice s = slice_trim(slice_from(from)), name = { s.p, 0 }, addr = s;
	const char *lt = s.len ? memchr(s.p, '<', s.len) : NULL;
	if (lt) {
		const char *gt = memchr(lt, '>', s.len - (size_t)(lt - s.p));
		if (!gt || gt != s.p + s.len - 1)
			return false;
		name = slice_trim((struct slice){ s.p, (size_t)(lt - s.p) });
		if (name.len >= 2 && name.p[0] == '"' && name.p[name.len - 1] == '"')
			name = (struct slice){ name.p + 1, name.len - 2 };
		addr = slice_trim((struct slice){ lt + 1, (size_t)(gt - lt - 1) });
	}
	const char *norm, *at;
	char *addr_s = arena_slice(a, addr);
	if (!addr_s || !people_email_valid(slice_from(addr_s), a, &norm) || !(at = strrchr(norm, '@')))
		return false;
	*ret_name = arena_slice(a, name);
	*ret_local = arena_strndup(a, norm, (size_t)(at - norm));
	*ret_domain = arena_strdup(a, at + 1);
	return *ret_name && *ret_local && *ret_domain && !strpbrk(*ret_name, "\r\n");
}

/* gophish_int.h */
const char *api__sender_normalise(struct arena *a, const char *from)
{
	const char *name, *local, *domain;
	if (!slice_trim(slice_from(from)).len)
		return "";
	if (!api__gp_sender(a, from, &name, &local, &domain))
		return NULL;
	/* the name without quotes and backslashes (so it never needs escaping) */
	char *n = arena_strdup(a, name), *w = n;
	if (!n)
		return NULL;
	for (const char *c = name; *c; c++)
		if (*c != '"' && *c != '\\')
			*w++ = *c;
	*w = 0;
	const char *t = arena_slice(a, slice_trim(slice_from(n)));
	if (!t)
		return NULL;
	if (!t[0])
		return arena_printf(a, "%s@%s", local, domain);
	/* RFC 5322: a name with specials is quoted */
	return arena_printf(a, strpbrk(t, "()<>[]:;@,.") ? "\"%s\" <%s@%s>" : "%s <%s@%s>", t, local, domain);
}

/* A text part's HTML: escaped, line breaks kept, {{url}} made a link. */
static const char *html_from_text(struct http_request *req, const char *text)
{
	_cleanup_buf_ struct buf esc = BUF_INIT(0), out = BUF_INIT(0);
	buf_put_html(&esc, slice_from(text));
	buf_puts(&out, "<!DOCTYPE html>\n<html>\n<body>\n<p>");
	for (const char *p = esc.p ? esc.p : ""; *p;) {
		if (!strncmp(p, "{{url}}", 7)) {
			buf_puts(&out, "<a href=\"{{url}}\">{{url}}</a>");
			p += 7;
		} else if (*p == '\n') {
			buf_puts(&out, "<br>\n");
			p++;
		} else {
			buf_putc(&out, *p++);
		}
	}
	buf_puts(&out, "</p>\n</body>\n</html>\n");
	return arena_strndup(req->arena, out.p, out.len);
}

/*
 * A GoPhish template's body as scenarios.c's body: name, subject, html and
 * text with the variables translated, the sender from envelope_sender.
 * Only the keys present are set (a PUT changes what it sends).  NULL with
 * the 400 set on bad input.
 */
static json_t *template_body(struct http_request *req, struct http_response *res, json_t *body, bool create)
{
	json_t *k = json_object();
	const char *v, *msg;
	json_t *att = json_object_get(body, "attachments");
	if (att && !json_is_null(att) && (!json_is_array(att) || json_array_size(att))) {
		api__field_error(res, "attachments", "attachments are not supported: declare training attachments on the scenario (docs/SCENARIOS.md)");
		goto fail;
	}
	const char *name = NULL, *subject = NULL, *html = NULL, *text = NULL;
	if (json_get_str(body, "name", false, 200, &name, &msg) < 0 ||
	    ((create || name) && !slice_trim(slice_from(name)).len && (msg = "Template name not specified"))) {
		api__field_error(res, "name", msg);
		goto fail;
	}
	const char *keys[] = { "subject", "html", "text" };
	const char **dst[] = { &subject, &html, &text };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		v = NULL;
		if (json_get_str(body, keys[i], false, 1 << 20, &v, &msg) < 0) {
			api__field_error(res, keys[i], msg);
			goto fail;
		}
		if (v && !(*dst[i] = gp_in(req, res, v, keys[i])))
			goto fail;
	}
	if (create && (!html || !html[0]) && (!text || !text[0])) {
		api__field_error(res, "html", "Need to specify at least plaintext or HTML content");
		goto fail;
	}
	if (html && !html[0] && text && text[0])
		html = NULL;
	if (!html && text && text[0])
		html = html_from_text(req, text);
	if (html && html[0] && (!text || !text[0]) && (create || text)) {
		_cleanup_buf_ struct buf t = BUF_INIT(0);
		if (content_html_to_text(&t, slice_from(html)) >= 0 && t.len)
			text = arena_strndup(req->arena, t.p, t.len);
	}
	if (name)
		json_object_set_new(k, "name", json_string(name));
	if (subject)
		json_object_set_new(k, "subject", json_string(subject));
	if (html)
		json_object_set_new(k, "html", json_string(html));
	if (text)
		json_object_set_new(k, "text", json_string(text));
	const char *from = NULL;
	if (json_get_str(body, "envelope_sender", false, 500, &from, &msg) < 0) {
		api__field_error(res, "envelope_sender", msg);
		goto fail;
	}
	if (from && slice_trim(slice_from(from)).len) {
		const char *sn, *sl, *sd;
		if (!api__gp_sender(req->arena, from, &sn, &sl, &sd)) {
			api__field_error(res, "envelope_sender", "must be an address: a@example.com or Name <a@example.com>");
			goto fail;
		}
		json_object_set_new(k, "sender_name", json_string(sn));
		json_object_set_new(k, "sender_local", json_string(sl));
		json_object_set_new(k, "sender_domain", json_string(sd));
	} else if (from) {
		json_object_set_new(k, "sender_name", json_string(""));
		json_object_set_new(k, "sender_local", json_string(""));
		json_object_set_new(k, "sender_domain", json_string(""));
	}
	if (create)
		json_object_set_new(k, "explain_html", json_string(gp_explain_html));
	return k;
fail:
	json_decref(k);
	return NULL;
}

/* Kunren's field names in a 400 back to GoPhish's. */
static void rename_field(struct http_response *res, const char *from, const char *to)
{
	if (res->status != 400)
		return;
	json_error_t err;
	json_auto_t *j = json_loadb(res->body.p, res->body.len, 0, &err);
	json_t *d = json_array_get(json_object_get(json_object_get(j, "error"), "details"), 0);
	const char *f = json_string_value(json_object_get(d, "field"));
	const char *m = json_string_value(json_object_get(d, "message"));
	if (f && m && !strcmp(f, from))
		api__field_error(res, to, m);
}

static bool scenario_name_free(struct http_request *req, struct http_response *res, const struct principal *p,
			       const char *name, bool (*want)(const struct scenario_rec *), int64_t except,
			       const char *what)
{
	struct scenario_rec other;
	int r = scenario_by_name(req, p, name, want, except, &other);
	if (r < 0) {
		api__store_error(res, r, what);
		return false;
	}
	if (r > 0) {
		_cleanup_free_ char *msg = xasprintf("%s name already in use", what);
		http_response_error(res, 409, "exists", msg,
				    json_pack("[{s:s, s:s}]", "field", "name", "message", "already in use"));
		return false;
	}
	return true;
}

/* Creates or updates sc, reads it back into sc and audits it; false with the
 * store's error naming what. */
static bool scenario_store(struct http_request *req, struct http_response *res, const struct principal *p,
			   bool create, struct scenario_rec *sc, const char *what)
{
	struct api *api = req->app;
	int64_t id = sc->id;
	int r = create ? store_scenario_create(api->store, p->tenant.id, sc, &id)
		       : store_scenario_update(api->store, p->tenant.id, id, sc);
	if (r >= 0)
		r = store_scenario_get(api->store, p->tenant.id, id, req->arena, sc);
	if (r < 0) {
		api__store_error(res, r, what);
		return false;
	}
	api__audit(req, p, create ? "scenario.create" : "scenario.update", sc->name);
	return true;
}

static void template_save(struct http_request *req, struct http_response *res, bool create)
{
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct scenario_rec sc = { 0 };
	if (!body || (!create && !gp_scenario(req, res, p, is_template, "Template", &sc)))
		return;
	json_auto_t *k = template_body(req, res, body, create);
	const char *name = json_string_value(json_object_get(k, "name"));
	if (!k || (name && !scenario_name_free(req, res, p, name, is_template, sc.id, "Template")))
		return;
	if (!api__scenario_from_body(req, res, k, &sc, !create)) {
		rename_field(res, "sender_local", "envelope_sender");
		return;
	}
	if (scenario_store(req, res, p, create, &sc, "template"))
		http_response_json(res, create ? 201 : 200, template_json(req, &sc));
}

static void scenario_delete(struct http_request *req, struct http_response *res, bool page)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct scenario_rec s;
	const char *what = page ? "Page" : "Template";
	if (!p || !gp_scenario(req, res, p, page ? is_page : is_template, what, &s))
		return;
	int r;
	if (page && !(s.gallery_id && !strcmp(s.gallery_id, GP_PAGE))) {
		/* another scenario's page: only its landing page goes */
		s.landing_html = NULL;
		r = store_scenario_update(api->store, p->tenant.id, s.id, &s);
	} else {
		r = store_scenario_delete(api->store, p->tenant.id, s.id);
	}
	if (!api__delete_result(res, r, what, page ? "a campaign uses this page; it cannot be deleted"
						     : "a campaign uses this template; it cannot be deleted"))
		return;
	api__audit(req, p, "scenario.delete", s.name);
	gp_message(res, 200, page ? "Page deleted successfully!" : "Template deleted successfully!");
}

static void page_save(struct http_request *req, struct http_response *res, bool create)
{
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	json_auto_t *k = json_object();
	struct scenario_rec sc = { 0 };
	const char *name = NULL, *html = NULL, *redirect = NULL, *msg;
	if (!body || (!create && !gp_scenario(req, res, p, is_page, "Page", &sc)))
		return;
	if (json_get_str(body, "name", false, 200, &name, &msg) < 0 ||
	    ((create || name) && !slice_trim(slice_from(name)).len && (msg = "Page name not specified"))) {
		api__field_error(res, "name", msg);
		return;
	}
	if (json_get_str(body, "html", false, 1 << 20, &html, &msg) < 0) {
		api__field_error(res, "html", msg);
		return;
	}
	if (json_get_str(body, "redirect_url", false, 2000, &redirect, &msg) < 0) {
		api__field_error(res, "redirect_url", msg);
		return;
	}
	if (html && !(html = gp_in(req, res, html, "html")))
		return;
	if (name && !scenario_name_free(req, res, p, name, is_page, sc.id, "Page"))
		return;
	if (name)
		json_object_set_new(k, "name", json_string(name));
	if (html)
		json_object_set_new(k, "landing_html", json_string(html));
	if (redirect)
		json_object_set_new(k, "education_url", json_string(redirect));
	if (create) {
		/* the page's own scenario: a placeholder mail that links to it */
		json_object_set_new(k, "subject", json_string(name));
		json_object_set_new(k, "html", json_string("<!DOCTYPE html>\n<html>\n<body>\n<p><a href=\"{{url}}\">{{url}}</a></p>\n"
							   "</body>\n</html>\n"));
		json_object_set_new(k, "text", json_string("{{url}}\n"));
		json_object_set_new(k, "explain_html", json_string(gp_explain_html));
	}
	if (!api__scenario_from_body(req, res, k, &sc, !create)) {
		rename_field(res, "landing_html", "html");
		rename_field(res, "education_url", "redirect_url");
		return;
	}
	if (create)
		sc.gallery_id = GP_PAGE;
	if (scenario_store(req, res, p, create, &sc, "page"))
		http_response_json(res, create ? 201 : 200, page_json(req, &sc));
}

/* ---- smtp: sending profiles ---- */

static json_t *smtp_json(const struct sending_profile *sp)
{
	if (!sp)
		return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:[], s:o}", "id", (json_int_t)0,
				 "interface_type", "SMTP", "name", "", "host", "", "username", "", "password", "",
				 "from_address", "", "ignore_cert_errors", 0, "headers", "modified_date", gp_time(0));
	char host[300];
	snprintf(host, sizeof(host), strchr(sp->host, ':') ? "[%s]:%lld" : "%s:%lld", sp->host, (long long)sp->port);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:[], s:o}", "id", (json_int_t)sp->id,
			 "interface_type", "SMTP", "name", sp->name, "host", host, "username", sp->username, "password",
			 "", "from_address", sp->from_address ? sp->from_address : "", "ignore_cert_errors",
			 !sp->verify_tls, "headers", "modified_date",
			 gp_time(sp->created_at));
}

/* The profile of params[0]; to write, only the tenant's own (404 for a shared one). */
static bool gp_profile(struct http_request *req, struct http_response *res, const struct principal *p, bool write,
		       struct sending_profile *ret)
{
	if (!api__profile_load(req, res, p, "SMTP", ret))
		return false;
	if (write && ret->tenant_id != p->tenant.id) {
		api__store_error(res, -ENOENT, "SMTP");
		return false;
	}
	return true;
}

static void smtps_get(struct http_request *req, struct http_response *res)
{
	struct sending_profile *sp;
	size_t n;
	if (!api__profiles_all(req, res, &sp, &n))
		return;
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, smtp_json(&sp[i]));
	http_response_json(res, 200, out);
}

static void smtp_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct sending_profile sp;
	if (p && gp_profile(req, res, p, false, &sp))
		http_response_json(res, 200, smtp_json(&sp));
}

/* "host:port", "[v6]:port" or a bare host (port 25): -EINVAL when
 * malformed, -ERANGE for a bad port. */
int api__gp_host(struct slice in, struct slice *ret_host, int64_t *ret_port)
{
	struct slice s = slice_trim(in), hs = s;
	int64_t port = 25;
	const char *colon = s.len ? memrchr(s.p, ':', s.len) : NULL;
	if (s.len && s.p[0] == '[') {
		const char *rb = memchr(s.p, ']', s.len);
		if (!rb || (rb + 1 < s.p + s.len && rb[1] != ':'))
			return -EINVAL;
		hs = (struct slice){ s.p + 1, (size_t)(rb - s.p - 1) };
		colon = rb + 1 < s.p + s.len ? rb + 1 : NULL;
	} else if (colon && memchr(s.p, ':', s.len) != colon) {
		colon = NULL; /* a bare IPv6 address */
	} else if (colon) {
		hs = (struct slice){ s.p, (size_t)(colon - s.p) };
	}
	if (colon && slice_to_i64((struct slice){ colon + 1, (size_t)(s.p + s.len - colon - 1) }, 1, 65535, &port) < 0)
		return -ERANGE;
	*ret_host = hs;
	*ret_port = port;
	return 0;
}

/* GoPhish's SMTP body as profiles.c's: host:port split, the security from
 * the port (or Kunren's own "security"), ignore_cert_errors. */
static json_t *smtp_body(struct http_request *req, struct http_response *res, json_t *body, bool create)
{
	json_t *k = json_object();
	const char *name = NULL, *host = NULL, *from = NULL, *msg;
	if (json_get_str(body, "name", false, 200, &name, &msg) < 0 ||
	    ((create || name) && !slice_trim(slice_from(name)).len && (msg = "No name specified"))) {
		api__field_error(res, "name", msg);
		goto fail;
	}
	if (json_get_str(body, "host", false, 300, &host, &msg) < 0 ||
	    ((create || host) && !slice_trim(slice_from(host)).len && (msg = "No host specified"))) {
		api__field_error(res, "host", msg);
		goto fail;
	}
	/* the profile's default sender: required to create, as in GoPhish; a
	 * PUT without it (or with "") keeps the stored one */
	if (json_get_str(body, "from_address", false, 500, &from, &msg) < 0 ||
	    (create && !slice_trim(slice_from(from)).len && (msg = "No from address specified"))) {
		api__field_error(res, "from_address", msg);
		goto fail;
	}
	if (from && slice_trim(slice_from(from)).len) {
		if (!api__sender_normalise(req->arena, from)) {
			api__field_error(res, "from_address",
					 "Invalid SMTP From address because it is not an email address");
			goto fail;
		}
		json_object_set_new(k, "from_address", json_string(from));
	}
	json_t *h = json_object_get(body, "headers");
	if (h && !json_is_null(h) && (!json_is_array(h) || json_array_size(h))) {
		api__field_error(res, "headers", "custom headers belong to the scenario in Kunren (its \"headers\"); send []");
		goto fail;
	}
	const char *it = NULL;
	if (json_get_str(body, "interface_type", false, 20, &it, &msg) < 0 || (it && strcmp(it, "SMTP") && (msg = "must be SMTP"))) {
		api__field_error(res, "interface_type", msg);
		goto fail;
	}
	if (name)
		json_object_set_new(k, "name", json_string(name));
	if (host) {
		struct slice hs;
		int64_t port;
		int r = api__gp_host(slice_from(host), &hs, &port);
		if (r < 0) {
			api__field_error(res, "host", r == -ERANGE ? "the port must be a number from 1 to 65535"
								  : "must be host:port ([address]:port for IPv6)");
			goto fail;
		}
		json_object_set_new(k, "host", json_stringn(hs.p, hs.len));
		json_object_set_new(k, "port", json_integer(port));
		json_object_set_new(k, "security", json_string(port == 465 ? "tls" : "starttls"));
	}
	json_t *sec = json_object_get(body, "security");
	if (sec)
		json_object_set(k, "security", sec);
	json_t *ign = json_object_get(body, "ignore_cert_errors");
	if (ign && !json_is_null(ign)) {
		if (!json_is_boolean(ign)) {
			api__field_error(res, "ignore_cert_errors", "must be true or false");
			goto fail;
		}
		json_object_set_new(k, "verify_tls", json_boolean(!json_is_true(ign)));
	}
	json_t *u = json_object_get(body, "username");
	if (u)
		json_object_set(k, "username", u);
	json_t *pw = json_object_get(body, "password");
	/* GoPhish clients send back the "" of a GET: that keeps the password */
	if (pw && !(json_is_string(pw) && !json_string_value(pw)[0] && !create))
		json_object_set(k, "password", pw);
	return k;
fail:
	json_decref(k);
	return NULL;
}

static void smtp_save(struct http_request *req, struct http_response *res, bool create)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct sending_profile sp = API_PROFILE_DEFAULTS;
	int r;
	if (!body || (!create && !gp_profile(req, res, p, true, &sp)))
		return;
	json_auto_t *k = smtp_body(req, res, body, create);
	if (!k)
		return;
	const char *name = json_string_value(json_object_get(k, "name"));
	if (name) {
		struct sending_profile *all;
		size_t n;
		if ((r = store_profiles(api->store, p->tenant.id, req->arena, &all, &n)) < 0) {
			api__store_error(res, r, "SMTP");
			return;
		}
		for (size_t i = 0; i < n; i++)
			if (all[i].id != sp.id && !strcmp(all[i].name, name)) {
				http_response_error(res, 409, "exists", "SMTP name already in use",
						    json_pack("[{s:s, s:s}]", "field", "name", "message", "already in use"));
				return;
			}
	}
	if (!api__profile_fields(req, res, k, create, &sp)) {
		rename_field(res, "port", "host");
		rename_field(res, "verify_tls", "ignore_cert_errors");
		return;
	}
	/* no new password: the stored one stays */
	if (!create && !json_object_get(k, "password"))
		sp.password_sealed = (struct slice){ NULL, 0 };
	if (api__profile_store(req, res, p, create, &sp, "SMTP"))
		http_response_json(res, create ? 201 : 200, smtp_json(&sp));
}

static void smtp_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct sending_profile sp;
	if (!p || !gp_profile(req, res, p, true, &sp))
		return;
	int r = store_profile_delete(api->store, p->tenant.id, sp.id);
	if (!api__delete_result(res, r, "SMTP", "a campaign that is not over uses this profile"))
		return;
	api__audit(req, p, "profile.delete", sp.name);
	gp_message(res, 200, "SMTP deleted successfully!");
}

/* ---- campaigns ---- */

static const char *campaign_status(enum campaign_state st)
{
	switch (st) {
	case CAMPAIGN_DRAFT: return "Created";
	case CAMPAIGN_SCHEDULED: return "Queued";
	case CAMPAIGN_SENDING:
	case CAMPAIGN_RUNNING:
	case CAMPAIGN_PAUSED: return "In progress";
	case CAMPAIGN_FINISHED:
	case CAMPAIGN_CANCELLED: return "Completed";
	}
	return "In progress";
}

static const char *result_status(const struct target *t, const struct target_summary *sum)
{
	switch (sum->status) {
	case STATUS_SUBMITTED: return "Submitted Data";
	case STATUS_CLICKED:
	case STATUS_FILE_OPENED: return "Clicked Link";
	case STATUS_OPENED: return "Email Opened";
	case STATUS_SENT: return "Email Sent";
	case STATUS_SEND_ERROR: return "Error";
	default: break;
	}
	switch (t->state) {
	case TARGET_PENDING: return t->attempts > 0 ? "Retrying" : "Scheduled";
	case TARGET_CLAIMED:
	case TARGET_SENDING: return "Sending";
	case TARGET_SENT: return "Email Sent";
	case TARGET_ERROR: return "Error";
	case TARGET_UNCERTAIN: return "Unknown";
	case TARGET_CANCELLED: return "Cancelled";
	}
	return "Unknown";
}

static const char *event_message(enum event_kind k)
{
	switch (k) {
	case EV_CREATED: return "Campaign Created";
	case EV_SENT: return "Email Sent";
	case EV_SEND_ERROR: return "Error Sending Email";
	case EV_OPENED: return "Email Opened";
	case EV_CLICKED:
	case EV_FILE_OPENED: return "Clicked Link";
	case EV_SUBMITTED: return "Submitted Data";
	case EV_REPORTED: return "Email Reported";
	default: return "Unknown";
	}
}

struct stats {
	int64_t total, sent, opened, clicked, submitted, reported, error;
};

struct timeline_item {
	int64_t at_ms, seq;
	json_t *j;
};

/* What one walk over a campaign's targets gathers. */
struct walk {
	struct http_request *req;
	const struct campaign *c;
	const struct exclusion *x;
	json_t *results;              /* NULL: only the stats */
	struct timeline_item *tl;
	size_t ntl, captl;
	struct stats st;
};

static int timeline_add(struct walk *w, int64_t at_ms, json_t *j)
{
	if (!j)
		return -ENOMEM;
	if (w->ntl == w->captl) {
		w->captl = w->captl ? w->captl * 2 : 64;
		w->tl = xrealloc(w->tl, w->captl * sizeof(*w->tl));
	}
	w->tl[w->ntl] = (struct timeline_item){ at_ms, (int64_t)w->ntl, j };
	w->ntl++;
	return 0;
}

/* GoPhish's details string: payload (form-style values) and browser. */
static char *event_details(const struct target *t, const struct event *e)
{
	if (e->kind == EV_SENT)
		return NULL;
	if (e->kind == EV_SEND_ERROR) {
		json_auto_t *o = json_pack("{s:s}", "error", t->error ? t->error : "");
		return o ? json_dumps(o, JSON_COMPACT) : NULL;
	}
	json_t *payload = json_pack("{s:[s]}", "rid", t->rid);
	json_error_t err;
	json_t *d = e->detail ? json_loads(e->detail, 0, &err) : NULL;
	json_t *fields = json_object_get(d, "fields");
	for (size_t i = 0; i < json_array_size(fields); i++) {
		const char *f = json_string_value(json_array_get(fields, i));
		if (f && strcmp(f, "rid"))
			json_object_set_new(payload, f, json_pack("[s]", ""));
	}
	json_t *o = json_pack("{s:o, s:{s:s, s:s}}", "payload", payload, "browser", "address", e->ip ? e->ip : "",
			      "user-agent", e->user_agent ? e->user_agent : "");
	if (e->kind == EV_FILE_OPENED)
		json_object_set_new(o, "kunren_kind", json_string("file_opened"));
	json_decref(d);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int walk_target(void *ctx, const struct target *t, const struct event *ev, size_t n,
		       const struct target_summary *sum)
{
	struct walk *w = ctx;
	const char *status = result_status(t, sum);
	bool reported = sum->count[EV_REPORTED] > 0;
	w->st.total++;
	w->st.submitted += !strcmp(status, "Submitted Data");
	w->st.clicked += !strcmp(status, "Clicked Link");
	w->st.opened += !strcmp(status, "Email Opened");
	w->st.sent += !strcmp(status, "Email Sent");
	w->st.error += !strcmp(status, "Error");
	w->st.reported += reported;
	if (!w->results)
		return 0;
	const char *ip = "";
	int64_t modified = t->sent_at * 1000;
	for (size_t i = 0; i < n; i++) {
		const struct event *e = &ev[i];
		if (!report_event_counts(e, t, w->x))
			continue;
		if (e->at_ms >= modified) {
			modified = e->at_ms;
			if (e->ip && e->ip[0])
				ip = e->ip;
		}
		char *details = event_details(t, e);
		json_t *j = json_pack("{s:I, s:s, s:o, s:s, s:s}", "campaign_id", (json_int_t)w->c->id, "email",
				      t->p.f[PF_EMAIL], "time", gp_time_ms(e->at_ms), "message", event_message(e->kind),
				      "details", details ? details : "");
		free(details);
		if (timeline_add(w, e->at_ms, j) < 0)
			return -ENOMEM;
	}
	json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:o, s:b, s:o}", "id", t->rid, "email",
			      t->p.f[PF_EMAIL], "first_name", t->p.f[PF_FIRST_NAME], "last_name",
			      t->p.f[PF_LAST_NAME], "position", t->p.f[PF_POSITION], "status", status, "ip", ip,
			      "latitude", 0.0, "longitude", 0.0, "send_date", gp_time(t->sent_at), "reported",
			      reported, "modified_date", gp_time_ms(modified));
	if (!r)
		return -ENOMEM;
	json_array_append_new(w->results, r);
	return 0;
}

static int timeline_cmp(const void *a, const void *b)
{
	const struct timeline_item *x = a, *y = b;
	if (x->at_ms != y->at_ms)
		return x->at_ms < y->at_ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* GoPhish's cumulative stats: each step counts the ones above it. */
static json_t *stats_json(const struct stats *s)
{
	int64_t clicked = s->clicked + s->submitted, opened = s->opened + clicked, sent = s->sent + opened;
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)s->total, "sent",
			 (json_int_t)sent, "opened", (json_int_t)opened, "clicked", (json_int_t)clicked,
			 "submitted_data", (json_int_t)s->submitted, "email_reported", (json_int_t)s->reported,
			 "error", (json_int_t)s->error);
}

/* Walks c: stats always, results and timeline when w->results is set. */
static int campaign_walk(struct http_request *req, const struct campaign *c, const struct exclusion *x,
			 bool full, struct walk *w, json_t **ret_timeline)
{
	struct api *api = req->app;
	*w = (struct walk){ .req = req, .c = c, .x = x, .results = full ? json_array() : NULL };
	int r = 0;
	if (full)
		r = timeline_add(w, c->created_at * 1000,
				 json_pack("{s:I, s:s, s:o, s:s, s:s}", "campaign_id", (json_int_t)c->id, "email", "",
					   "time", gp_time(c->created_at), "message", "Campaign Created", "details", ""));
	if (r >= 0)
		r = report_each_target(api->store, c, x, walk_target, w);
	json_t *tl = full ? json_array() : NULL;
	if (full && w->ntl)
		qsort(w->tl, w->ntl, sizeof(*w->tl), timeline_cmp);
	for (size_t i = 0; i < w->ntl; i++)
		json_array_append_new(tl, w->tl[i].j);
	free(w->tl);
	w->tl = NULL;
	if (r < 0) {
		json_decref(tl);
		json_decref(w->results);
		w->results = NULL;
		return r;
	}
	if (ret_timeline)
		*ret_timeline = tl;
	else
		json_decref(tl);
	return 0;
}

/* The schedule's spread_until (unix seconds), 0 for other modes. */
static int64_t send_by(const struct campaign *c)
{
	json_error_t err;
	json_auto_t *j = json_loads(c->schedule_json ? c->schedule_json : "{}", 0, &err);
	const char *s = json_string_value(json_object_get(j, "spread_until"));
	int64_t t = 0;
	if (s && gp_parse_time(s, &t) < 0)
		t = 0;
	return t;
}

static json_t *summary_json(const struct campaign *c, const struct stats *st)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:s, s:s, s:o}", "id", (json_int_t)c->id, "created_date",
			 gp_time(c->created_at), "launch_date", gp_time(c->start_at ? c->start_at : c->launched_at),
			 "send_by_date", gp_time(send_by(c)), "completed_date", gp_time(c->finished_at), "status",
			 campaign_status(c->state), "name", c->name, "stats", stats_json(st));
}

/* The whole campaign object (NULL with the error set). */
static json_t *campaign_json(struct http_request *req, struct http_response *res, const struct principal *p,
			     const struct campaign *c)
{
	struct api *api = req->app;
	struct exclusion x;
	struct walk w;
	json_t *timeline;
	struct scenario_rec s;
	struct sending_profile sp;
	if (!api__exclusion(req, res, c, &x))
		return NULL;
	int r = campaign_walk(req, c, &x, true, &w, &timeline);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return NULL;
	}
	bool have_s = store_scenario_get(api->store, p->tenant.id, c->scenario_id, req->arena, &s) >= 0;
	bool have_sp = c->profile_id && store_profile_get(api->store, p->tenant.id, c->profile_id, req->arena, &sp) >= 0;
	json_t *j = json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:s, s:s}", "id", (json_int_t)c->id, "name", c->name,
			      "created_date", gp_time(c->created_at), "launch_date",
			      gp_time(c->start_at ? c->start_at : c->launched_at), "send_by_date", gp_time(send_by(c)),
			      "completed_date", gp_time(c->finished_at), "status", campaign_status(c->state), "url",
			      api->tracker_url ? api->tracker_url : "");
	json_object_set_new(j, "template", have_s ? template_json(req, &s) : json_object());
	json_object_set_new(j, "page", have_s ? page_json(req, &s) : json_object());
	json_object_set_new(j, "smtp", smtp_json(have_sp ? &sp : NULL));
	json_object_set_new(j, "results", w.results);
	json_object_set_new(j, "timeline", timeline);
	return j;
}

static bool gp_campaign(struct http_request *req, struct http_response *res, const struct principal *p,
			struct campaign *ret)
{
	return api__campaign_as(req, res, p, "Campaign", ret);
}

static void campaigns_get(struct http_request *req, struct http_response *res)
{
	struct campaign *c;
	size_t n;
	struct principal *p = api__campaigns_all(req, res, &c, &n);
	if (!p)
		return;
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = campaign_json(req, res, p, &c[i]);
		if (!j) {
			json_decref(out);
			return;
		}
		json_array_append_new(out, j);
	}
	http_response_json(res, 200, out);
}

static void campaign_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	json_t *j;
	if (p && gp_campaign(req, res, p, &c) && (j = campaign_json(req, res, p, &c)))
		http_response_json(res, 200, j);
}

static void campaign_results(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	struct exclusion x;
	struct walk w;
	json_t *timeline;
	if (!p || !gp_campaign(req, res, p, &c) || !api__exclusion(req, res, &c, &x))
		return;
	int r = campaign_walk(req, &c, &x, true, &w, &timeline);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	http_response_json(res, 200, json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)c.id, "name", c.name,
					       "status", campaign_status(c.state), "results", w.results, "timeline",
					       timeline));
}

static void campaign_summary(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct campaign c;
	struct exclusion x;
	struct walk w;
	if (!p || !gp_campaign(req, res, p, &c) || !api__exclusion(req, res, &c, &x))
		return;
	int r = campaign_walk(req, &c, &x, false, &w, NULL);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	http_response_json(res, 200, summary_json(&c, &w.st));
}

static void campaigns_summary(struct http_request *req, struct http_response *res)
{
	struct campaign *c;
	size_t n;
	int r = 0;
	if (!api__campaigns_all(req, res, &c, &n))
		return;
	json_t *items = json_array();
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct exclusion x;
		struct walk w;
		if (!api__exclusion(req, res, &c[i], &x)) {
			json_decref(items);
			return;
		}
		if ((r = campaign_walk(req, &c[i], &x, false, &w, NULL)) >= 0)
			json_array_append_new(items, summary_json(&c[i], &w.st));
	}
	if (r < 0) {
		json_decref(items);
		api__store_error(res, r, "campaigns");
		return;
	}
	http_response_json(res, 200, json_pack("{s:I, s:o}", "total", (json_int_t)n, "campaigns", items));
}

/* Ends a campaign: running ones finish, others are cancelled (what was sent
 * stays; no more events are taken).  One that is over already stays so. */
static void campaign_end(struct http_request *req, struct http_response *res, const char *message)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct campaign c;
	if (!p || !gp_campaign(req, res, p, &c))
		return;
	int r = 0;
	if (c.state == CAMPAIGN_RUNNING)
		r = store_campaign_transition(api->store, p->tenant.id, c.id, 1u << CAMPAIGN_RUNNING, CAMPAIGN_FINISHED,
					      now_unix(), NULL, NULL);
	else if (c.state != CAMPAIGN_FINISHED && c.state != CAMPAIGN_CANCELLED)
		r = store_campaign_transition(api->store, p->tenant.id, c.id,
					      1u << CAMPAIGN_DRAFT | 1u << CAMPAIGN_SCHEDULED | 1u << CAMPAIGN_SENDING |
						      1u << CAMPAIGN_PAUSED,
					      CAMPAIGN_CANCELLED, now_unix(), NULL, NULL);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	api__audit(req, p, "campaign.complete", c.name);
	gp_message(res, 200, message);
}

static bool list_named(const struct list_info *l, size_t n, const char *name, int64_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].name, name)) {
			*ret = l[i].id;
			return true;
		}
	return false;
}

/* POST /api/campaigns/: find the parts by name, make the scenario, create
 * the campaign and launch it (docs/GOPHISH.md, "Campaigns"). */
static void campaigns_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct campaign c = { .sender_name = "" };
	struct scenario_rec tmpl, page;
	const char *name = NULL, *msg, *tname, *pname, *sname;
	int64_t launch, send_by_date, id;
	int r;
	if (!body)
		return;
	if (json_get_str(body, "name", false, 200, &name, &msg) < 0 ||
	    (!slice_trim(slice_from(name)).len && (msg = "Campaign name not specified"))) {
		api__field_error(res, "name", msg);
		return;
	}
	c.name = name;
	json_t *groups = json_object_get(body, "groups");
	if (!json_is_array(groups) || !json_array_size(groups) || json_array_size(groups) > 100) {
		api__field_error(res, "groups", json_array_size(groups) > 100 ? "at most 100 groups" : "No groups specified");
		return;
	}
	if (!(tname = gp_ref_name(body, "template"))) {
		api__field_error(res, "template", "No email template specified");
		return;
	}
	if (!(pname = gp_ref_name(body, "page"))) {
		api__field_error(res, "page", "No landing page specified");
		return;
	}
	if (!(sname = gp_ref_name(body, "smtp"))) {
		api__field_error(res, "smtp", "No sending profile specified");
		return;
	}
	if (!gp_time_field(res, body, "launch_date", &launch) || !gp_time_field(res, body, "send_by_date", &send_by_date))
		return;
	int64_t now = now_unix();
	if (send_by_date && send_by_date <= (launch > now ? launch : now)) {
		api__field_error(res, "send_by_date", "The launch date must be before the \"send emails by\" date");
		return;
	}
	/* the parts, by name */
	if ((r = scenario_by_name(req, p, tname, is_template, 0, &tmpl)) == 0) {
		api__field_error(res, "template", "Template not found");
		return;
	}
	if (r > 0 && (r = scenario_by_name(req, p, pname, is_page, 0, &page)) == 0) {
		api__field_error(res, "page", "Page not found");
		return;
	}
	struct sending_profile *sp;
	struct list_info *lists;
	size_t nsp = 0, nlists = 0;
	if (r > 0)
		r = store_profiles(api->store, p->tenant.id, req->arena, &sp, &nsp);
	if (r >= 0)
		r = store_lists(api->store, p->tenant.id, req->arena, &lists, &nlists);
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	const char *profile_from = "";
	for (size_t i = 0; i < nsp && !c.profile_id; i++)
		if (!strcmp(sp[i].name, sname)) {
			c.profile_id = sp[i].id;
			profile_from = sp[i].from_address;
		}
	if (!c.profile_id) {
		api__field_error(res, "smtp", "Sending profile not found");
		return;
	}
	c.list_ids = arena_alloc(req->arena, json_array_size(groups) * sizeof(int64_t));
	if (!c.list_ids) {
		api__store_error(res, -ENOMEM, "campaign");
		return;
	}
	for (size_t i = 0; i < json_array_size(groups); i++) {
		const char *g = json_string_value(json_object_get(json_array_get(groups, i), "name"));
		_cleanup_free_ char *field = xasprintf("groups[%zu]", i);
		int64_t lid;
		if (!g || !list_named(lists, nlists, g, &lid)) {
			api__field_error(res, field, "Group not found");
			return;
		}
		size_t j = 0;
		while (j < c.nlist_ids && c.list_ids[j] != lid)
			j++;
		if (j == c.nlist_ids)
			c.list_ids[c.nlist_ids++] = lid;
	}
	/* the sender: the template's envelope_sender, else the from_address the
	 * client sent with smtp, else the sending profile's (as GoPhish) */
	const char *from = json_string_value(json_object_get(json_object_get(body, "smtp"), "from_address"));
	if (!from || !slice_trim(slice_from(from)).len)
		from = profile_from;
	if (tmpl.sender_local[0] && tmpl.sender_domain[0]) {
		c.sender_name = tmpl.sender_name;
		c.sender_local = tmpl.sender_local;
		c.sender_domain = tmpl.sender_domain;
	} else if (!api__gp_sender(req->arena, from, &c.sender_name, &c.sender_local, &c.sender_domain)) {
		api__field_error(res, "template",
				 "no sender: set the template's envelope_sender or the sending profile's from_address");
		return;
	}
	/* the schedule */
	json_auto_t *sch = json_object();
	json_object_set_new(sch, "mode", json_string(send_by_date ? "spread" : "bulk"));
	if (launch > now)
		json_object_set_new(sch, "start_at", gp_time(launch));
	if (send_by_date)
		json_object_set_new(sch, "spread_until", gp_time(send_by_date));
	struct schedule schedule;
	const char *field, *smsg;
	if (schedule_from_json(sch, p->zone, &schedule, &field, &smsg) < 0) {
		api__field_error(res, strstr(field, "spread") ? "send_by_date" : "launch_date", smsg);
		return;
	}
	json_t *norm = schedule_to_json(&schedule, p->zone);
	char *text = json_dumps(norm, JSON_COMPACT);
	json_decref(norm);
	c.schedule_json = text ? arena_strdup(req->arena, text) : NULL;
	free(text);
	c.start_at = schedule.start_at;
	c.exclusion_seconds = p->tenant.exclusion_seconds;
	/* the scenario: the template's mail with the page's landing page */
	if (tmpl.id == page.id) {
		c.scenario_id = tmpl.id;
	} else {
		struct scenario_rec sc = tmpl;
		sc.gallery_id = GP_CAMPAIGN;
		sc.name = name;
		sc.description = arena_printf(req->arena, "GoPhish: template \"%s\", page \"%s\"", tmpl.name, page.name);
		sc.landing_html = page.landing_html;
		sc.education_url = page.education_url;
		if ((r = store_scenario_create(api->store, p->tenant.id, &sc, &c.scenario_id)) < 0) {
			api__store_error(res, r, "campaign");
			return;
		}
	}
	r = store_campaign_create(api->store, p->tenant.id, &c, &id);
	if (r == -ENOENT) {
		api__field_error(res, "groups", "Group not found");
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	api__audit(req, p, "campaign.create", c.name);
	/* launch with campaigns.c's own handler; a refused launch cancels the draft */
	req->params[0] = arena_printf(req->arena, "%lld", (long long)id);
	req->nparams = 1;
	api_campaign_launch(req, res);
	if (res->status >= 300) {
		store_campaign_transition(api->store, p->tenant.id, id, 1u << CAMPAIGN_DRAFT, CAMPAIGN_CANCELLED, now_unix(),
					  NULL, NULL);
		return;
	}
	json_t *j;
	if ((r = store_campaign_get(api->store, p->tenant.id, id, req->arena, &c)) < 0) {
		api__store_error(res, r, "campaign");
		return;
	}
	if ((j = campaign_json(req, res, p, &c)))
		http_response_json(res, 201, j);
}

/* ---- util: send_test_email ---- */

/* A template, page or smtp reference: absent, null or an object. */
static bool gp_ref_ok(struct http_response *res, json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);
	if (v && !json_is_null(v) && !json_is_object(v)) {
		api__field_error(res, key, "must be an object such as {\"name\": \"...\"}");
		return false;
	}
	return true;
}

/* A GoPhish smtp object given in full (with a host), read as POST
 * /api/smtp/ reads one (name optional) into a profile stored nowhere; its
 * errors name "smtp.<field>".  Returns what ret's strings point into (the
 * caller releases it), NULL with the 400 set. */
static json_t *smtp_given(struct http_request *req, struct http_response *res, json_t *smtp,
		       struct sending_profile *ret)
{
	static const char *const fields[][2] = {
		{ "name", "name" },         { "host", "host" },
		{ "port", "host" },         { "from_address", "from_address" },
		{ "headers", "headers" },   { "interface_type", "interface_type" },
		{ "security", "security" }, { "ignore_cert_errors", "ignore_cert_errors" },
		{ "verify_tls", "ignore_cert_errors" }, { "username", "username" },
		{ "password", "password" },
	};
	json_auto_t *copy = json_deep_copy(smtp);
	const char *name = json_string_value(json_object_get(copy, "name"));
	if (!json_object_get(copy, "name") || json_is_null(json_object_get(copy, "name")) ||
	    (name && !slice_trim(slice_from(name)).len))
		json_object_set_new(copy, "name", json_string("send_test_email"));
	json_t *k = copy ? smtp_body(req, res, copy, true) : NULL;
	*ret = API_PROFILE_DEFAULTS;
	if (k && api__profile_fields(req, res, k, true, ret))
		return k;
	json_decref(k);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		_cleanup_free_ char *to = xasprintf("smtp.%s", fields[i][1]);
		rename_field(res, fields[i][0], to);
	}
	if (!copy)
		api__store_error(res, -ENOMEM, "SMTP");
	return NULL;
}

/* POST /api/util/send_test_email (GoPhish's models.SendTestEmailRequest):
 * the template's real mail, merged for the person given, through the
 * sending profile named (or given in full), to that person — as a
 * campaign would build it (deliver_build_mail), but in no campaign: its
 * links carry the rid "PREVIEW", which the tracker records nothing for. */
static void send_test_email(struct http_request *req, struct http_response *res)
{
	static const struct {
		const char *key;
		enum person_field f;
	} person[] = {
		{ "first_name", PF_FIRST_NAME }, { "last_name", PF_LAST_NAME }, { "position", PF_POSITION },
	};
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct scenario_rec tmpl, page;
	struct sending_profile sp;
	struct campaign c = { .sender_name = "" };
	struct target t = { .rid = "PREVIEW" };
	const char *tname, *pname, *sname, *msg, *v = NULL;
	int r;
	if (!body)
		return;
	/* the person */
	for (int f = 0; f < PF__COUNT; f++)
		t.p.f[f] = "";
	for (size_t i = 0; i < ARRAY_SIZE(person); i++) {
		v = NULL;
		if (json_get_str(body, person[i].key, false, 200, &v, &msg) < 0 ||
		    (v && strpbrk(v, "\r\n") && (msg = "must be one line"))) {
			api__field_error(res, person[i].key, msg);
			return;
		}
		if (v)
			t.p.f[person[i].f] = v;
	}
	v = NULL;
	if (json_get_str(body, "email", false, 254, &v, &msg) < 0 ||
	    (!slice_trim(slice_from(v)).len && (msg = "No email address specified")) ||
	    (!people_email_valid(slice_trim(slice_from(v)), req->arena, &t.p.f[PF_EMAIL]) &&
	     (msg = "must be an email address"))) {
		api__field_error(res, "email", msg);
		return;
	}
	/* url: GoPhish's phishing URL; accepted, but links point at Kunren's tracker */
	v = NULL;
	if (json_get_str(body, "url", false, 2048, &v, &msg) < 0 ||
	    (v && v[0] && ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || strpbrk(v, " \t\r\n")) &&
	     (msg = "must be an http:// or https:// URL"))) {
		api__field_error(res, "url", msg);
		return;
	}
	/* the parts: the template (required: the mail is a scenario's), the page, the profile */
	if (!gp_ref_ok(res, body, "template") || !gp_ref_ok(res, body, "page") || !gp_ref_ok(res, body, "smtp"))
		return;
	if (!(tname = gp_ref_name(body, "template"))) {
		api__field_error(res, "template", "No email template specified");
		return;
	}
	if ((r = scenario_by_name(req, p, tname, is_template, 0, &tmpl)) == 0) {
		api__field_error(res, "template", "Template not found");
		return;
	}
	if (r > 0 && (pname = gp_ref_name(body, "page")) && (r = scenario_by_name(req, p, pname, is_page, 0, &page)) == 0) {
		api__field_error(res, "page", "Page not found");
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "template");
		return;
	}
	json_t *smtp = json_object_get(body, "smtp");
	json_auto_t *given = NULL;
	const char *host = json_string_value(json_object_get(smtp, "host"));
	if (host && slice_trim(slice_from(host)).len) {
		if (!(given = smtp_given(req, res, smtp, &sp)))
			return;
	} else {
		struct sending_profile *all;
		size_t n = 0;
		bool found = false;
		if (!(sname = gp_ref_name(body, "smtp"))) {
			api__field_error(res, "smtp", "No sending profile specified");
			return;
		}
		if ((r = store_profiles(api->store, p->tenant.id, req->arena, &all, &n)) < 0) {
			api__store_error(res, r, "SMTP");
			return;
		}
		for (size_t i = 0; i < n && !found; i++)
			if (!strcmp(all[i].name, sname)) {
				sp = all[i];
				found = true;
			}
		if (!found) {
			api__field_error(res, "smtp", "Sending profile not found");
			return;
		}
	}
	/* the sender, as POST /api/campaigns/ chooses it */
	const char *from = json_string_value(json_object_get(smtp, "from_address"));
	if (!from || !slice_trim(slice_from(from)).len)
		from = sp.from_address ? sp.from_address : "";
	if (tmpl.sender_local[0] && tmpl.sender_domain[0]) {
		c.sender_name = tmpl.sender_name;
		c.sender_local = tmpl.sender_local;
		c.sender_domain = tmpl.sender_domain;
	} else if (!api__gp_sender(req->arena, from, &c.sender_name, &c.sender_local, &c.sender_domain)) {
		api__field_error(res, "smtp", slice_trim(slice_from(from)).len
						      ? "Invalid SMTP From address because it is not an email address"
						      : "No From Address specified (set the template's envelope_sender "
							"or the sending profile's from_address)");
		return;
	}
	/* the scenario's uploaded attachment, as the sample file reads it */
	struct upload u = { 0 };
	json_error_t err;
	json_auto_t *decl = tmpl.attachment_json ? json_loads(tmpl.attachment_json, 0, &err) : NULL;
	json_int_t upload_id = json_integer_value(json_object_get(decl, "upload"));
	if (upload_id > 0 && (r = store_upload_get(api->store, p->tenant.id, upload_id, true, req->arena, &u)) < 0) {
		api__store_error(res, r, "the template's uploaded file");
		return;
	}
	c.tenant_id = t.tenant_id = p->tenant.id;
	t.sent_at = now_unix();
	_cleanup_buf_ struct buf mail = BUF_INIT(32 << 20), pw = BUF_INIT(4096);
	_cleanup_free_ char *message_id = NULL, *reply = NULL;
	if ((r = deliver_build_mail(&c, &tmpl, &t, p->zone, api->tracker_url, api->id_domain, u.data, &mail,
				    &message_id)) < 0) {
		api__field_error(res, "template", "the mail could not be built (a header with a line break, or an "
						  "invalid address)");
		return;
	}
	const char *envelope = tmpl.envelope_from && tmpl.envelope_from[0]
				       ? tmpl.envelope_from
				       : arena_printf(req->arena, "%s@%s", c.sender_local, c.sender_domain);
	if (!envelope || !api__profile_password(req, res, &sp, &pw)) {
		if (!envelope)
			api__store_error(res, -ENOMEM, "mail");
		return;
	}
	r = deliver_profile_send(&sp, pw.len ? pw.p : NULL, envelope, t.p.f[PF_EMAIL], buf_slice(&mail), &reply);
	secret_wipe(&pw);
	api__audit(req, p, "profile.test", sp.name);
	if (r < 0) {
		_cleanup_buf_ struct buf text = BUF_INIT(4096);
		struct slice sl = slice_from(reply ? reply : strerror(-r));
		if (sl.len > 1000)
			sl.len = 1000;
		buf_put_utf8(&text, sl);
		http_response_error(res, 502, "send_failed", text.p ? text.p : "the mail could not be sent", NULL);
		return;
	}
	gp_message(res, 200, "Email Sent");
}

/* ---- the routes (api.c's table) ---- */

#define GP_ROUTE(pub, fn)                                                   \
	void pub(struct http_request *req, struct http_response *res) \
	{                                                                   \
		gp_run(req, res, fn);                                       \
	}

/* A route whose handler takes one more argument (templates and pages, POST and PUT, ...). */
#define GP_ROUTE_WITH(pub, fn, arg)                                          \
	static void pub##_with(struct http_request *req, struct http_response *res) \
	{                                                                    \
		fn(req, res, arg);                                           \
	}                                                                    \
	GP_ROUTE(pub, pub##_with)

GP_ROUTE(api_gp_campaigns_get, campaigns_get)
GP_ROUTE(api_gp_campaigns_post, campaigns_post)
GP_ROUTE(api_gp_campaigns_summary, campaigns_summary)
GP_ROUTE(api_gp_campaign_get, campaign_get)
GP_ROUTE_WITH(api_gp_campaign_delete, campaign_end, "Campaign deleted successfully!")
GP_ROUTE(api_gp_campaign_results, campaign_results)
GP_ROUTE(api_gp_campaign_summary, campaign_summary)
GP_ROUTE_WITH(api_gp_campaign_complete, campaign_end, "Campaign completed successfully!")
GP_ROUTE(api_gp_groups_get, groups_get)
GP_ROUTE(api_gp_groups_post, groups_post)
GP_ROUTE(api_gp_groups_summary, groups_summary)
GP_ROUTE(api_gp_group_get, group_get)
GP_ROUTE(api_gp_group_put, group_put)
GP_ROUTE(api_gp_group_delete, group_delete)
GP_ROUTE(api_gp_group_summary, group_summary)
GP_ROUTE_WITH(api_gp_templates_get, scenarios_list, false)
GP_ROUTE_WITH(api_gp_templates_post, template_save, true)
GP_ROUTE_WITH(api_gp_template_get, scenario_get, false)
GP_ROUTE_WITH(api_gp_template_put, template_save, false)
GP_ROUTE_WITH(api_gp_template_delete, scenario_delete, false)
GP_ROUTE_WITH(api_gp_pages_get, scenarios_list, true)
GP_ROUTE_WITH(api_gp_pages_post, page_save, true)
GP_ROUTE_WITH(api_gp_page_get, scenario_get, true)
GP_ROUTE_WITH(api_gp_page_put, page_save, false)
GP_ROUTE_WITH(api_gp_page_delete, scenario_delete, true)
GP_ROUTE(api_gp_smtps_get, smtps_get)
GP_ROUTE_WITH(api_gp_smtps_post, smtp_save, true)
GP_ROUTE(api_gp_smtp_get, smtp_get)
GP_ROUTE_WITH(api_gp_smtp_put, smtp_save, false)
GP_ROUTE(api_gp_smtp_delete, smtp_delete)
GP_ROUTE(api_gp_send_test_email, send_test_email)
