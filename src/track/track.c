/*
 * track.c — the tracking listener's pages.  Every answer looks ordinary:
 * an unknown or malformed rid gets the same GIF or a plain "not found" page,
 * and records nothing.
 */
#include "track/track.h"
#include "track/track_int.h"
#include "core/metrics.h"

#include "content/content.h"

/* The smallest transparent GIF. */
static const unsigned char gif[] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
	0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

static const char not_found_page[] =
	"<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>404 Not Found</title>"
	"</head><body><h1>Not Found</h1><p>お探しのページは見つかりませんでした。</p>"
	"<p>The requested URL was not found on this server.</p></body></html>";

static void track_release(struct track *t)
{
	track_rids_free(t->rids);
	ua_parser_free(t->ua);
	track_signals_free(t->signals);
	free(t->proxies);
	free(t->queue);
	free(atomic_load(&t->tracker_url));
	free(t->retired_url);
	free(t);
}

struct track *track_new(struct store *s, const struct track_options *o, char **ret_err)
{
	struct track *t = xcalloc(1, sizeof(*t));
	int r;
	t->store = s;
	atomic_init(&t->tracker_url, xstrdup(o->tracker_url ? o->tracker_url : ""));
	t->signals = track_signals_new();
	if (track__proxies_parse(o->trusted_proxies, &t->proxies, &t->nproxies, ret_err) < 0)
		goto fail;
	if (o->uap_regexes && o->uap_regexes[0] && !(t->ua = ua_parser_new(o->uap_regexes, ret_err)))
		goto fail;
	if ((r = track_rids_new(s, o->rid_poll_ms, &t->rids)) < 0) {
		if (ret_err)
			*ret_err = xasprintf("loading the rids of running campaigns: %s", strerror(-r));
		goto fail;
	}
	if ((r = track__writer_start(t)) < 0) {
		if (ret_err)
			*ret_err = xasprintf("starting the event writer: %s", strerror(-r));
		goto fail;
	}
	return t;
fail:
	track_release(t);
	return NULL;
}

void track_set_url(struct track *t, const char *tracker_url)
{
	/* Requests may be reading the old one: keep it until track_free. */
	BUG_ON(t->retired_url);
	t->retired_url = atomic_exchange(&t->tracker_url, xstrdup(tracker_url));
}

void track_free(struct track *t)
{
	if (!t)
		return;
	track__writer_stop(t);
	track_release(t);
}

bool track_rid_valid(const char *rid)
{
	size_t n = strlen(rid);
	if (n != RID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = rid[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

char *track_open_url(const char *tracker_url, const char *rid)
{
	return xasprintf("%s/o/%s.gif", tracker_url, rid);
}

char *track_click_url(const char *tracker_url, const char *rid)
{
	return xasprintf("%s/c/%s", tracker_url, rid);
}

void track__page_headers(struct http_request *req, struct http_response *res)
{
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_header(req, res, "Referrer-Policy", "no-referrer");
	http_response_header(req, res, "X-Robots-Tag", "noindex, nofollow");
	http_response_header(req, res, "X-Content-Type-Options", "nosniff");
}

void track_not_found(struct http_request *req, struct http_response *res)
{
	track__page_headers(req, res);
	http_response_text(res, 404, "text/html; charset=utf-8", SLICE_LIT(not_found_page));
}

bool track__find(struct track *t, struct http_request *req, const char *rid, struct track_target *ret)
{
	if (!rid || !track_rid_valid(rid))
		return false;
	int r = track_rids_find(t->rids, rid, req->arena, ret);
	if (r < 0 && r != -ENOENT)
		log_error("track: looking up a rid failed: %s", strerror(-r));
	return r >= 0;
}

/* What a client sends is kept as valid UTF-8 of bounded size (a cut
 * character becomes U+FFFD): a hostile header must not grow the store or
 * break the JSON views. */
#define UA_MAX 512

static const char *clean_text(struct arena *a, const char *s, size_t max)
{
	if (!s)
		return NULL;
	struct slice in = slice_from(s);
	if (in.len > max)
		in.len = max;
	_cleanup_buf_ struct buf b = BUF_INIT(max * 3 + 1);
	return buf_put_utf8(&b, in) < 0 ? NULL : arena_strndup(a, b.p, b.len);
}

void track__record(struct track *t, struct http_request *req, const struct track_target *tg, enum event_kind kind,
		   const char *detail)
{
	struct ua_info ua;
	struct event e = {
		.campaign_id = tg->campaign_id,
		.target_id = tg->target_id,
		.kind = kind,
		.at_ms = now_ms(),
		.ip = track__client_ip(t, req),
		.user_agent = clean_text(req->arena, http_header(req, "User-Agent"), UA_MAX),
		.detail = detail,
	};
	ua_describe(t->ua, e.user_agent, req->arena, &ua);
	e.os = ua.os;
	e.browser = ua.browser;
	e.device = ua.device;
	struct track_hit hit = {
		.campaign_id = e.campaign_id, .target_id = e.target_id, .kind = kind, .at_ms = e.at_ms,
		.ip = e.ip, .user_agent = e.user_agent, .head = req->head,
		.options = req->method && !strcmp(req->method, "OPTIONS"), .bot_ua = ua.bot,
		.link = kind == EV_CLICKED ? http_query(req, "l") : NULL,
	};
	e.signals = track_signals_note(t->signals, &hit);
	int r = track__enqueue_request(t, req, &e);
	if (r < 0)
		log_error("track: recording %s failed: %s", event_kind_name(kind), strerror(-r));
}

static void open_beacon(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	char *rid = arena_strdup(req->arena, req->params[0]);
	size_t n = rid ? strlen(rid) : 0;
	track__page_headers(req, res);
	http_response_text(res, 200, "image/gif", (struct slice){ (const char *)gif, sizeof(gif) });
	if (n > 4 && !strcmp(rid + n - 4, ".gif")) {
		rid[n - 4] = '\0';
		/* HEAD is recorded too, as a probe (EVS_HEAD): it never counts */
		if (track__find(t, req, rid, &tg))
			track__record(t, req, &tg, EV_OPENED, NULL);
	}
}

/* OPTIONS on a beacon or a link: what LibreOffice and some gateways ask
 * before the GET.  Answered like any server; recorded as a probe
 * (EVS_OPTIONS), which never counts as a person's action. */
static void options(struct http_request *req, struct http_response *res, const char *allow, enum event_kind kind)
{
	struct track *t = req->app;
	struct track_target tg;
	track__page_headers(req, res);
	http_response_header(req, res, "Allow", allow);
	http_response_text(res, 200, "text/plain; charset=utf-8", SLICE_LIT(""));
	const char *rid = req->params[0];
	size_t n = rid ? strlen(rid) : 0;
	if (kind == EV_OPENED && (n <= 4 || strcmp(rid + n - 4, ".gif") != 0))
		return;
	if (kind == EV_OPENED)
		rid = arena_strndup(req->arena, rid, n - 4);
	if (track__find(t, req, rid, &tg))
		track__record(t, req, &tg, kind, NULL);
}

static void open_options(struct http_request *req, struct http_response *res)
{
	options(req, res, "GET, HEAD, OPTIONS", EV_OPENED);
}

static void click_options(struct http_request *req, struct http_response *res)
{
	options(req, res, "GET, HEAD, POST, OPTIONS", EV_CLICKED);
}

/* Nothing here is for search engines (and drill pages must never be indexed). */
static void robots(struct http_request *req, struct http_response *res)
{
	http_response_header(req, res, "Cache-Control", "max-age=86400");
	http_response_text(res, 200, "text/plain; charset=utf-8", SLICE_LIT("User-agent: *\nDisallow: /\n"));
}

/* Puts the mail the target received, with its red flags, before </body>. */
static int add_review(struct buf *page, const struct campaign *c, const struct scenario_rec *sc,
		      const struct merge_vars *vars, struct arena *a)
{
	_cleanup_buf_ struct buf subject = BUF_INIT(4096), html = BUF_INIT(page->max), review = BUF_INIT(page->max);
	int r = content_render(&subject, slice_from(sc->subject), CONTENT_HEADER, vars);
	if (r >= 0)
		r = content_render(&html, slice_from(sc->html), CONTENT_HTML, vars);
	const char *from = arena_printf(a, "%s <%s>", c->sender_name, vars->v[MF_SENDER_EMAIL]);
	struct mail_review m = { from ? from : "", subject.p, html.p, sc->red_flags_json, sc->lang };
	if (r >= 0)
		r = content_mail_review(&review, &m);
	if (r < 0)
		return r;
	/* before the last </body>, or at the end */
	const char *at = NULL;
	for (const char *p = page->p; (p = strcasestr(p, "</body>")); p++)
		at = p;
	size_t pos = at ? (size_t)(at - page->p) : page->len;
	_cleanup_buf_ struct buf out = BUF_INIT(page->max);
	if ((r = buf_append(&out, page->p, pos)) < 0 || (r = buf_put_slice(&out, buf_slice(&review))) < 0 ||
	    (r = buf_append(&out, page->p + pos, page->len - pos)) < 0)
		return r;
	buf_reset(page);
	return buf_put_slice(page, buf_slice(&out));
}

/* Renders one of the scenario's pages for a target. */
static void landing(struct http_request *req, struct http_response *res, const struct track_target *ref, bool explain)
{
	struct track *t = req->app;
	struct campaign c;
	struct scenario_rec sc;
	struct tenant ten;
	struct target target, *tg = &target;
	int r = store_target_get(t->store, ref->tenant_id, ref->campaign_id, ref->target_id, req->arena, tg);
	if (r >= 0)
		r = store_campaign_get(t->store, tg->tenant_id, tg->campaign_id, req->arena, &c);
	if (r >= 0)
		r = store_scenario_get(t->store, tg->tenant_id, c.scenario_id, req->arena, &sc);
	if (r >= 0)
		r = store_tenant_get(t->store, tg->tenant_id, req->arena, &ten);
	if (r < 0) {
		log_error("track: loading the page of campaign %lld failed: %s", (long long)tg->campaign_id,
			  strerror(-r));
		track_not_found(req, res);
		return;
	}
	const struct tz *zone = tz_get(ten.time_zone);
	if (!zone)
		zone = tz_get("UTC");
	_cleanup_free_ char *url = track_click_url(track__url(t), tg->rid);
	struct merge_vars vars;
	content_merge_vars(&c, tg, url, zone, req->arena, &vars);
	explain = explain || !sc.landing_html;
	track__page_headers(req, res);
	if (explain && sc.education_url && sc.education_url[0]) {
		/* the trainer's own education page instead of the 種明かし page */
		http_response_redirect(req, res, 303, sc.education_url);
		return;
	}
	r = content_render(&res->body, slice_from(explain ? sc.explain_html : sc.landing_html), CONTENT_HTML, &vars);
	if (r >= 0 && explain)
		r = add_review(&res->body, &c, &sc, &vars, req->arena);
	if (r < 0) {
		log_error("track: rendering the page of scenario %lld failed", (long long)sc.id);
		track_not_found(req, res);
		return;
	}
	res->status = 200;
	res->content_type = "text/html; charset=utf-8";
}

static void click(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	if (!track__find(t, req, req->params[0], &tg)) {
		track_not_found(req, res);
		return;
	}
	landing(req, res, &tg, false);
	/* HEAD is recorded too, as a probe (EVS_HEAD): it never counts */
	track__record(t, req, &tg, EV_CLICKED, NULL);
}

struct filled {
	json_t *names;
	const char *page;  /* the scenario's data-entry page */
};

static int note_field(void *ctx, const char *name, const char *value)
{
	struct filled *f = ctx;
	/* Only which of the page's own fields were filled: the values are
	 * never kept, and a name the page does not declare (a script could
	 * rename a field after what was typed) is not kept either. */
	if (value[0] && json_array_size(f->names) < 64 && strlen(name) <= 64 &&
	    content_html_declares_name(f->page, name))
		json_array_append_new(f->names, json_string(name));
	return 0;
}

/* The data-entry page of the target's scenario, or NULL. */
static const char *landing_page(struct track *t, const struct track_target *tg, struct arena *a)
{
	struct campaign c;
	struct scenario_rec sc;
	if (store_campaign_get(t->store, tg->tenant_id, tg->campaign_id, a, &c) < 0 ||
	    store_scenario_get(t->store, tg->tenant_id, c.scenario_id, a, &sc) < 0)
		return NULL;
	return sc.landing_html;
}

static void submit(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	if (!track__find(t, req, req->params[0], &tg)) {
		track_not_found(req, res);
		return;
	}
	json_auto_t *detail = json_object();
	struct filled f = { json_array(), landing_page(t, &tg, req->arena) };
	json_object_set_new(detail, "fields", f.names);
	const char *type = http_header(req, "Content-Type");
	if (type && !strncasecmp(type, "application/x-www-form-urlencoded", 33))
		http_form_each(req, req->body, note_field, &f);
	_cleanup_free_ char *d = json_dumps(detail, JSON_COMPACT);
	_cleanup_free_ char *to = xasprintf("%s/e/%s", track__url(t), tg.rid);
	track__page_headers(req, res);
	http_response_redirect(req, res, 303, to);
	track__record(t, req, &tg, EV_SUBMITTED, d);
}

static void explain(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	if (!track__find(t, req, req->params[0], &tg)) {
		track_not_found(req, res);
		return;
	}
	landing(req, res, &tg, true);
}

static void root(struct http_request *req, struct http_response *res)
{
	track__page_headers(req, res);
	http_response_text(res, 200, "text/html; charset=utf-8",
			   SLICE_LIT("<!doctype html><html><head><meta charset=\"utf-8\"><title></title></head>"
				     "<body></body></html>"));
}

/* Liveness and readiness for load balancers (core/metrics.h ops_*); the
 * console answers the same on its listener (api/ops.c). */
static void healthz(struct http_request *req, struct http_response *res)
{
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_json(res, 200, ops_health());
}

static void readyz(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	json_t *body;
	int status = ops_readiness(store_ping(t->store) >= 0, &body);
	http_response_header(req, res, "Cache-Control", "no-store");
	http_response_json(res, status, body);
}

const struct http_route track_routes[] = {
	{ "GET", "/", root, 0 },
	/* ops (part 7) */
	{ "GET", "/healthz", healthz, 0 },
	{ "GET", "/readyz", readyz, 0 },
	{ "GET", "/robots.txt", robots, 0 },
	{ "GET", "/o/{rid}", open_beacon, 0 },
	{ "OPTIONS", "/o/{rid}", open_options, 0 },
	{ "GET", "/c/{rid}", click, 0 },
	{ "POST", "/c/{rid}", submit, 64 * 1024 },
	{ "OPTIONS", "/c/{rid}", click_options, 0 },
	{ "GET", "/e/{rid}", explain, 0 },
	{ "GET", "/f/{rid}.png", track__file_beacon, 0 },
	{ "OPTIONS", "/f/{rid}.png", track__file_options, 0 },
	{ "GET", "/p/{rid}", track__file_link, 0 },
	{ "OPTIONS", "/p/{rid}", track__file_options, 0 },
	{ "GET", "/r/{rid}", track__report_page, 0 },
	{ "POST", "/r/{rid}", track__report_submit, 4 * 1024 },
};
const size_t track_routes_count = ARRAY_SIZE(track_routes);
