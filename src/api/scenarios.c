/* scenarios.c — /api/v1/gallery and /api/v1/scenarios. */
#include "api/api_int.h"

#include "content/content.h"

static json_t *red_flags_json(const struct scenario *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->nred_flags; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "part", s->red_flags[i].part, "text",
						   s->red_flags[i].text));
	return a;
}

static json_t *gallery_json(const struct scenario *s, bool full)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", s->id, "name",
			      s->name, "description", s->description, "genre", s->genre, "type", s->type, "level",
			      s->level, "lang", s->lang, "subject", s->subject, "sender_name", s->sender_name,
			      "sender_local", s->sender_local, "sender_domain", s->sender_domain);
	if (full) {
		json_object_set_new(j, "html", json_string(s->html));
		json_object_set_new(j, "text", json_string(s->text));
		json_object_set_new(j, "landing_html", s->landing_html ? json_string(s->landing_html) : json_null());
		json_object_set_new(j, "explain_html", json_string(s->explain_html));
		json_object_set_new(j, "red_flags", red_flags_json(s));
	}
	return j;
}

static bool matches(const char *want, const char *have)
{
	return !want || !want[0] || !strcmp(want, have);
}

static bool contains(const char *q, const struct scenario *s)
{
	if (!q || !q[0])
		return true;
	return strcasestr(s->name, q) || strcasestr(s->description, q) || strcasestr(s->subject, q) ||
	       strcasestr(s->text, q);
}

void api_gallery_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	if (!p)
		return;
	const char *genre = http_query(req, "genre"), *type = http_query(req, "type"),
		   *level = http_query(req, "level"), *lang = http_query(req, "lang"), *q = http_query(req, "q");
	json_t *items = json_array();
	for (size_t i = 0; i < content_gallery_count(); i++) {
		const struct scenario *s = content_gallery_at(i);
		if (matches(genre, s->genre) && matches(type, s->type) && matches(level, s->level) &&
		    matches(lang, s->lang) && contains(q, s))
			json_array_append_new(items, gallery_json(s, false));
	}
	http_response_json(res, 200, api__page(items, false, 0));
}

void api_gallery_one(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	if (!p)
		return;
	const struct scenario *s = content_gallery_find(req->params[0]);
	if (!s) {
		http_response_error(res, 404, "not_found", "no such gallery scenario", NULL);
		return;
	}
	http_response_json(res, 200, gallery_json(s, true));
}

static json_t *scenario_json(const struct principal *p, const struct scenario_rec *s)
{
	json_error_t err;
	json_t *flags = json_loads(s->red_flags_json, 0, &err);
	return json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o}",
			 "id", (json_int_t)s->id, "gallery_id", s->gallery_id ? json_string(s->gallery_id) : json_null(),
			 "name", s->name, "description", s->description, "genre", s->genre, "type", s->type,
			 "level", s->level, "lang", s->lang, "subject", s->subject, "html", s->html, "text", s->text,
			 "sender_name", s->sender_name, "sender_local", s->sender_local, "sender_domain",
			 s->sender_domain, "landing_html", s->landing_html ? json_string(s->landing_html) : json_null(),
			 "explain_html", s->explain_html, "red_flags", flags ? flags : json_array(), "created_at",
			 api__time(p, s->created_at));
}

void api_scenarios_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct scenario_rec *s;
	size_t n;
	if (!p)
		return;
	int r = store_scenarios(api->store, p->tenant.id, req->arena, &s, &n);
	if (r < 0) {
		api__store_error(res, r, "scenarios");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, scenario_json(p, &s[i]));
	http_response_json(res, 200, api__page(items, false, 0));
}

void api_scenario_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct scenario_rec s;
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_scenario_get(api->store, p->tenant.id, id, req->arena, &s);
	if (r < 0) {
		api__store_error(res, r, "scenario");
		return;
	}
	http_response_json(res, 200, scenario_json(p, &s));
}

/* Reads a scenario written by hand (D3); every template is checked. */
static bool scenario_from_body(struct http_response *res, json_t *body, struct scenario_rec *sc)
{
	struct {
		const char *key;
		const char **dst;
		bool required, is_template;
		const char *def;
		size_t max;
	} fields[] = {
		{ "name", &sc->name, true, false, NULL, 200 },
		{ "description", &sc->description, false, false, "", 2000 },
		{ "genre", &sc->genre, false, false, "その他", 64 },
		{ "type", &sc->type, false, false, "URLリンク型", 64 },
		{ "level", &sc->level, false, false, "初級", 64 },
		{ "lang", &sc->lang, false, false, "ja", 8 },
		{ "subject", &sc->subject, true, true, NULL, 998 },
		{ "html", &sc->html, true, true, NULL, 1 << 20 },
		{ "text", &sc->text, true, true, NULL, 1 << 20 },
		{ "sender_name", &sc->sender_name, false, false, "", 200 },
		{ "sender_local", &sc->sender_local, false, false, "", 64 },
		{ "sender_domain", &sc->sender_domain, false, false, "", 253 },
		{ "landing_html", &sc->landing_html, false, true, NULL, 1 << 20 },
		{ "explain_html", &sc->explain_html, true, true, NULL, 1 << 20 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *msg, *v = fields[i].def;
		if (json_get_str(body, fields[i].key, fields[i].required, fields[i].max, &v, &msg) < 0) {
			api__field_error(res, fields[i].key, msg);
			return false;
		}
		_cleanup_free_ char *err = NULL;
		if (v && fields[i].is_template && content_template_check(slice_from(v), &err) < 0) {
			api__field_error(res, fields[i].key, err);
			return false;
		}
		*fields[i].dst = v;
	}
	sc->red_flags_json = "[]";
	return true;
}

static void scenario_from_gallery(const struct scenario *g, struct arena *a, struct scenario_rec *sc)
{
	json_auto_t *flags = red_flags_json(g);
	*sc = (struct scenario_rec){
		.gallery_id = g->id, .name = g->name, .description = g->description, .genre = g->genre,
		.type = g->type, .level = g->level, .lang = g->lang, .subject = g->subject, .html = g->html,
		.text = g->text, .sender_name = g->sender_name, .sender_local = g->sender_local,
		.sender_domain = g->sender_domain, .landing_html = g->landing_html, .explain_html = g->explain_html,
	};
	char *j = json_dumps(flags, JSON_COMPACT);
	sc->red_flags_json = arena_strdup(a, j);
	free(j);
}

void api_scenarios_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *gallery_id = NULL, *msg;
	struct scenario_rec sc = { 0 };
	int64_t id;
	if (!body)
		return;
	if (json_get_str(body, "gallery_id", false, 128, &gallery_id, &msg) < 0) {
		api__field_error(res, "gallery_id", msg);
		return;
	}
	if (gallery_id) {
		const struct scenario *g = content_gallery_find(gallery_id);
		if (!g) {
			api__field_error(res, "gallery_id", "no such gallery scenario");
			return;
		}
		scenario_from_gallery(g, req->arena, &sc);
	} else if (!scenario_from_body(res, body, &sc)) {
		return;
	}
	int r = store_scenario_create(api->store, p->tenant.id, &sc, &id);
	if (r >= 0)
		r = store_scenario_get(api->store, p->tenant.id, id, req->arena, &sc);
	if (r < 0) {
		api__store_error(res, r, "scenario");
		return;
	}
	api__audit(req, p, "scenario.create", sc.name);
	http_response_json(res, 201, scenario_json(p, &sc));
}
