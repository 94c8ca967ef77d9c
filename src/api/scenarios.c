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
		json_error_t err;
		json_t *att = s->attachment_json ? json_loads(s->attachment_json, 0, &err) : NULL;
		json_object_set_new(j, "attachment", att ? att : json_null());
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
	static const char *const facets[] = { "genre", "type", "level", "lang" };
	const char *want[4], *q = http_query(req, "q");
	for (size_t f = 0; f < 4; f++)
		want[f] = http_query(req, facets[f]);
	json_t *items = json_array(), *counts = json_object();
	for (size_t f = 0; f < 4; f++)
		json_object_set_new(counts, facets[f], json_object());
	for (size_t i = 0; i < content_gallery_count(); i++) {
		const struct scenario *s = content_gallery_at(i);
		const char *have[4] = { s->genre, s->type, s->level, s->lang };
		size_t misses = 0, missed = 0;
		for (size_t f = 0; f < 4; f++)
			if (!matches(want[f], have[f]))
				misses++, missed = f;
		if (!contains(q, s))
			continue;
		if (!misses)
			json_array_append_new(items, gallery_json(s, false));
		/* a facet's counts: the scenarios the other filters (and q) let through */
		for (size_t f = 0; f < 4; f++) {
			if (misses > 1 || (misses == 1 && missed != f))
				continue;
			json_t *c = json_object_get(counts, facets[f]);
			json_object_set_new(c, have[f], json_integer(json_integer_value(json_object_get(c, have[f])) + 1));
		}
	}
	json_t *page = api__page(items, false, 0);
	json_object_set_new(page, "facets", counts);
	http_response_json(res, 200, page);
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
	json_t *j = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o}",
			 "id", (json_int_t)s->id, "gallery_id", s->gallery_id ? json_string(s->gallery_id) : json_null(),
			 "name", s->name, "description", s->description, "genre", s->genre, "type", s->type,
			 "level", s->level, "lang", s->lang, "subject", s->subject, "html", s->html, "text", s->text,
			 "sender_name", s->sender_name, "sender_local", s->sender_local, "sender_domain",
			 s->sender_domain, "landing_html", s->landing_html ? json_string(s->landing_html) : json_null(),
			 "explain_html", s->explain_html, "red_flags", flags ? flags : json_array(), "created_at",
			 api__time(p, s->created_at));
	json_t *headers = json_loads(s->headers_json ? s->headers_json : "[]", 0, &err);
	json_object_set_new(j, "envelope_from", json_string(s->envelope_from ? s->envelope_from : ""));
	json_object_set_new(j, "reply_to", json_string(s->reply_to ? s->reply_to : ""));
	json_object_set_new(j, "headers", headers ? headers : json_array());
	json_t *att = s->attachment_json ? json_loads(s->attachment_json, 0, &err) : NULL;
	json_object_set_new(j, "attachment", att ? att : json_null());
	json_object_set_new(j, "education_url", json_string(s->education_url ? s->education_url : ""));
	return j;
}

void api_scenarios_get(struct http_request *req, struct http_response *res)
{
	struct scenario_rec *s;
	size_t n;
	struct principal *p = api__scenarios_all(req, res, &s, &n);
	if (!p)
		return;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, scenario_json(p, &s[i]));
	api__page_all(req, res, items, "id", false);
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

static bool one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, set[i]))
			return true;
	return false;
}

/* red_flags: [{"part", "text"}], 0 to 10, into compact JSON in the arena. */
static bool red_flags_from_body(struct http_request *req, struct http_response *res, json_t *v,
				const char **ret)
{
	static const char *const parts[] = { "sender", "subject", "body", "link", "attachment" };
	if (!json_is_array(v) || json_array_size(v) > 10) {
		api__field_error(res, "red_flags", "must be a list of at most 10 {part, text}");
		return false;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *f = json_array_get(v, i);
		const char *part = NULL, *text = NULL, *msg;
		if (!json_is_object(f) || json_get_str(f, "part", true, 32, &part, &msg) < 0 ||
		    json_get_str(f, "text", true, 1000, &text, &msg) < 0 ||
		    !one_of(part, parts, ARRAY_SIZE(parts)) || !slice_trim(slice_from(text)).len) {
			_cleanup_free_ char *field = xasprintf("red_flags[%zu]", i);
			api__field_error(res, field, "needs a part (sender, subject, body, link, attachment) and a text");
			return false;
		}
	}
	char *j = json_dumps(v, JSON_COMPACT);
	*ret = arena_strdup(req->arena, j);
	free(j);
	return *ret != NULL;
}

/* True for a header field name (RFC 5322 ftext) the scenario may set. */
static bool header_name_ok(const char *n)
{
	static const char *const reserved[] = {
		"Date", "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
		"Content-Transfer-Encoding", "DKIM-Signature", "Return-Path", "Received",
	};
	if (!n[0] || strlen(n) > 76)
		return false;
	for (const char *c = n; *c; c++)
		if (*c <= 32 || *c >= 127 || *c == ':')
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (!strcasecmp(n, reserved[i]))
			return false;
	return true;
}

/* envelope_from, reply_to (addresses or ""), headers [{name, value}] (E7). */
static bool sending_from_body(struct http_request *req, struct http_response *res, json_t *body,
			      struct scenario_rec *sc, bool partial)
{
	const char *keys[] = { "envelope_from", "reply_to" };
	const char **dst[] = { &sc->envelope_from, &sc->reply_to };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = partial && *dst[i] ? *dst[i] : "", *msg;
		if (json_get_str(body, keys[i], false, 254, &v, &msg) < 0 ||
		    (v[0] && !mail_addr_valid(v) && (msg = "must be an address (local@domain) or empty"))) {
			api__field_error(res, keys[i], msg);
			return false;
		}
		*dst[i] = v;
	}
	json_t *h = json_object_get(body, "headers");
	if (!h) {
		if (!partial || !sc->headers_json)
			sc->headers_json = "[]";
		return true;
	}
	if (!json_is_array(h) || json_array_size(h) > 20) {
		api__field_error(res, "headers", "must be a list of at most 20 {name, value}");
		return false;
	}
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *x = json_array_get(h, i);
		const char *name = NULL, *value = NULL, *msg = "needs a name and a value";
		_cleanup_free_ char *field = xasprintf("headers[%zu]", i);
		if (!json_is_object(x) || json_get_str(x, "name", true, 76, &name, &msg) < 0 ||
		    json_get_str(x, "value", true, 998, &value, &msg) < 0 ||
		    (!header_name_ok(name) && (msg = "name must be a header name other than From, To, Subject and the like")) ||
		    (strpbrk(value, "\r\n") && (msg = "value must be one line"))) {
			api__field_error(res, field, msg);
			return false;
		}
	}
	char *j = json_dumps(h, JSON_COMPACT);
	sc->headers_json = arena_strdup(req->arena, j);
	free(j);
	return sc->headers_json != NULL;
}

/* The trainer's education page: an absolute http(s) URL, printable ASCII. */
static bool education_url_ok(const char *u)
{
	if (strncasecmp(u, "https://", 8) && strncasecmp(u, "http://", 7))
		return false;
	for (const char *c = u; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '"' || *c == '<' || *c == '>')
			return false;
	return strlen(u) > 10;
}

/* "attachment": required for 添付ファイル型 and 複合型 (kept from before on a
 * PATCH that does not send it), refused for URLリンク型; null removes it. */
static bool attachment_from_body(struct http_request *req, struct http_response *res, json_t *body,
				 struct scenario_rec *sc, bool partial)
{
	json_t *o = json_object_get(body, "attachment");
	const char *field, *msg;
	if (json_is_null(o) || (!o && !partial))
		sc->attachment_json = NULL;
	else if (o && content_attachment_check(o, &field, &msg) < 0) {
		_cleanup_free_ char *name = xasprintf("attachment%s%s", field[0] ? "." : "", field);
		api__field_error(res, name, msg);
		return false;
	} else if (o) {
		char *j = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		sc->attachment_json = arena_strdup(req->arena, j);
		free(j);
	}
	bool needs = strcmp(sc->type, "URLリンク型") != 0;
	if (needs && !sc->attachment_json) {
		api__field_error(res, "attachment", "an attachment or mixed scenario declares its attachment");
		return false;
	}
	if (!needs && sc->attachment_json) {
		api__field_error(res, "attachment", "a URLリンク型 scenario has no attachment (change the type first)");
		return false;
	}
	if (content_attachment_password(sc->attachment_json) &&
	    !content_template_uses(slice_from(sc->text), MF_PASSWORD)) {
		api__field_error(res, "text", "a password zip needs its password in the mail: {{パスワード}}");
		return false;
	}
	return true;
}

/*
 * Reads a scenario from a body (D3).  partial: a PATCH, where absent fields
 * keep sc's values; otherwise the required fields must be there.  Every
 * template is checked, and the HTML part must have a link to track.
 */
static bool scenario_from_body(struct http_request *req, struct http_response *res, json_t *body,
			       struct scenario_rec *sc, bool partial)
{
	static const char *const genres[] = { "社内業務連絡", "社外/取引先", "外部組織", "通知系", "その他" };
	static const char *const types[] = { "URLリンク型", "添付ファイル型", "複合型" };
	static const char *const levels[] = { "初級", "中級", "上級" };
	static const char *const langs[] = { "ja", "en" };
	struct {
		const char *key;
		const char **dst;
		bool required, is_template;
		const char *def;
		size_t max;
		const char *const *set;
		size_t nset;
	} fields[] = {
		{ "name", &sc->name, true, false, NULL, 200, NULL, 0 },
		{ "description", &sc->description, false, false, "", 2000, NULL, 0 },
		{ "genre", &sc->genre, false, false, "その他", 64, genres, ARRAY_SIZE(genres) },
		{ "type", &sc->type, false, false, "URLリンク型", 64, types, ARRAY_SIZE(types) },
		{ "level", &sc->level, false, false, "初級", 64, levels, ARRAY_SIZE(levels) },
		{ "lang", &sc->lang, false, false, "ja", 8, langs, ARRAY_SIZE(langs) },
		{ "subject", &sc->subject, true, true, NULL, 998, NULL, 0 },
		{ "html", &sc->html, true, true, NULL, 1 << 20, NULL, 0 },
		{ "text", &sc->text, true, true, NULL, 1 << 20, NULL, 0 },
		{ "sender_name", &sc->sender_name, false, false, "", 200, NULL, 0 },
		{ "sender_local", &sc->sender_local, false, false, "", 64, NULL, 0 },
		{ "sender_domain", &sc->sender_domain, false, false, "", 253, NULL, 0 },
		{ "landing_html", &sc->landing_html, false, true, NULL, 1 << 20, NULL, 0 },
		{ "explain_html", &sc->explain_html, true, true, NULL, 1 << 20, NULL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *msg, *v = partial ? *fields[i].dst : fields[i].def;
		if (json_get_str(body, fields[i].key, fields[i].required && !partial, fields[i].max, &v, &msg) < 0) {
			api__field_error(res, fields[i].key, msg);
			return false;
		}
		if (v && fields[i].set && !one_of(v, fields[i].set, fields[i].nset)) {
			api__field_error(res, fields[i].key, "is not one of the allowed values");
			return false;
		}
		if (v && fields[i].required && !slice_trim(slice_from(v)).len) {
			api__field_error(res, fields[i].key, "must not be empty");
			return false;
		}
		_cleanup_free_ char *err = NULL;
		if (v && fields[i].is_template && content_template_check(slice_from(v), &err) < 0) {
			api__field_error(res, fields[i].key, err);
			return false;
		}
		*fields[i].dst = v;
	}
	if (strpbrk(sc->subject, "\r\n")) {
		api__field_error(res, "subject", "must be one line");
		return false;
	}
	/* a landing page sent as "" means "none" */
	if (sc->landing_html && !slice_trim(slice_from(sc->landing_html)).len)
		sc->landing_html = NULL;
	/* The pages must be balanced HTML.  An edit checks only the pages it
	 * sends, so a scenario saved before this check can still be renamed. */
	const struct { const char *key, *html; } pages[] = {
		{ "html", sc->html }, { "landing_html", sc->landing_html }, { "explain_html", sc->explain_html },
	};
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		_cleanup_free_ char *err = NULL;
		if (!pages[i].html || (partial && !json_object_get(body, pages[i].key)))
			continue;
		if (content_html_check(slice_from(pages[i].html), &err) < 0) {
			api__field_error(res, pages[i].key, err);
			return false;
		}
	}
	json_t *flags = json_object_get(body, "red_flags");
	if (flags && !red_flags_from_body(req, res, flags, &sc->red_flags_json))
		return false;
	if (!sending_from_body(req, res, body, sc, partial))
		return false;
	if (!sc->red_flags_json)
		sc->red_flags_json = "[]";
	if (!attachment_from_body(req, res, body, sc, partial))
		return false;
	const char *edu = partial && sc->education_url ? sc->education_url : "", *emsg;
	if (json_get_str(body, "education_url", false, 2000, &edu, &emsg) < 0 ||
	    (edu[0] && !education_url_ok(edu) && (emsg = "must be an http(s) address without spaces"))) {
		api__field_error(res, "education_url", emsg);
		return false;
	}
	sc->education_url = edu;
	/* the tracking rewrite needs a link to rewrite (an attachment-only mail has the file instead) */
	_cleanup_buf_ struct buf tracked = BUF_INIT(0);
	bool link = strcmp(sc->type, "添付ファイル型") != 0;
	if (content_html_track(&tracked, slice_from(sc->html), "https://kunren.invalid/c/CHECK", NULL) < 0 ||
	    (link && !strstr(tracked.p, "https://kunren.invalid/c/CHECK?l=1."))) { /* not the hidden link's l=0.0 */
		api__field_error(res, "html", "has no link to track: link to {{URL}} (or any http(s) address)");
		return false;
	}
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
		.attachment_json = g->attachment_json,
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
	} else if (!scenario_from_body(req, res, body, &sc, false) ||
		   !api__attachment_upload_ok(req, res, p, sc.attachment_json)) {
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

void api_scenario_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct scenario_rec sc;
	int64_t id;
	if (!body || !api__id(req, res, 0, &id))
		return;
	int r = store_scenario_get(api->store, p->tenant.id, id, req->arena, &sc);
	if (r < 0) {
		api__store_error(res, r, "scenario");
		return;
	}
	if (!scenario_from_body(req, res, body, &sc, true) || !api__attachment_upload_ok(req, res, p, sc.attachment_json))
		return;
	if ((r = store_scenario_update(api->store, p->tenant.id, id, &sc)) >= 0)
		r = store_scenario_get(api->store, p->tenant.id, id, req->arena, &sc);
	if (r < 0) {
		api__store_error(res, r, "scenario");
		return;
	}
	api__audit(req, p, "scenario.update", sc.name);
	http_response_json(res, 200, scenario_json(p, &sc));
}

void api_scenario_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_scenario_delete(api->store, p->tenant.id, id);
	if (r == -EBUSY) {
		http_response_error(res, 409, "in_use", "a campaign uses this scenario; it cannot be deleted", NULL);
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "scenario");
		return;
	}
	api__audit(req, p, "scenario.delete", req->params[0]);
	http_response_json(res, 200, json_pack("{s:b, s:b}", "deleted", 1, "ok", 1));
}

/* Renders what the body gives with sample values; stores nothing. */
void api_scenario_preview(struct http_request *req, struct http_response *res)
{
	static const char *const keys[] = { "subject", "html", "text", "landing_html", "explain_html" };
	static const enum content_ctx ctx[] = { CONTENT_HEADER, CONTENT_HTML, CONTENT_TEXT, CONTENT_HTML,
						CONTENT_HTML };
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	if (!body)
		return;
	struct merge_vars vars;
	/* The tracker's own links with the rid "PREVIEW", which names no target. */
	content_sample_vars(api->tracker_url, "PREVIEW", NULL, req->arena, &vars);
	json_t *out = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = NULL, *msg;
		_cleanup_free_ char *err = NULL;
		_cleanup_buf_ struct buf b = BUF_INIT((size_t)4 << 20);
		if (json_get_str(body, keys[i], false, 1 << 20, &v, &msg) < 0 ||
		    (v && content_template_check(slice_from(v), &err) < 0)) {
			json_decref(out);
			api__field_error(res, keys[i], err ? err : msg);
			return;
		}
		if (v && content_render(&b, slice_from(v), ctx[i], &vars) >= 0)
			json_object_set_new(out, keys[i], json_stringn(b.p, b.len));
	}
	http_response_json(res, 200, out);
}

void api_scenario_text_from_html(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *html = NULL, *msg;
	if (!body)
		return;
	if (json_get_str(body, "html", true, 1 << 20, &html, &msg) < 0) {
		api__field_error(res, "html", msg);
		return;
	}
	_cleanup_buf_ struct buf text = BUF_INIT((size_t)4 << 20);
	if (content_html_to_text(&text, slice_from(html)) < 0) {
		api__field_error(res, "html", "is too large");
		return;
	}
	http_response_json(res, 200, json_pack("{s:s%}", "text", text.p, text.len));
}

/* For gophish.c: a scenario from a body with this file's rules. */
bool api__scenario_from_body(struct http_request *req, struct http_response *res, json_t *body,
			     struct scenario_rec *sc, bool partial)
{
	return scenario_from_body(req, res, body, sc, partial);
}
