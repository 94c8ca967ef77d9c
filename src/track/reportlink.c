/*
 * reportlink.c — the report link (報告, SPEC F1 beyond): GET /r/<rid> asks
 * "この メールを報告しますか？" with one button; only the POST it sends
 * records 報告 (EV_REPORTED, detail {"via": "link"}), so a mail scanner that
 * follows every link reports nothing.  An unknown rid gets the ordinary
 * not-found page and records nothing, as everywhere on the tracker.
 */
#include "track/track.h"
#include "track/track_int.h"

static void report_headers(struct http_request *req, struct http_response *res)
{
	track__page_headers(req, res);
	/* no script, no outside resource; the form posts only to this page */
	http_response_header(req, res, "Content-Security-Policy",
			     "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
}

#define PAGE_HEAD                                                                                          \
	"<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">"                                 \
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>%s</title>"       \
	"<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}" \
	"button{font-size:1.1rem;padding:.6rem 1.4rem;border-radius:.3rem;border:1px solid #245;"         \
	"background:#2a6ebb;color:#fff;cursor:pointer}p.en{color:#555}</style></head><body>"

/* The question and its button.  The form posts to the tracker's own URL
 * (tracker_url may carry a path prefix behind a proxy). */
static void report_question(struct track *t, struct http_response *res, const char *rid)
{
	const char *base = track__url(t);
	size_t n = base ? strlen(base) : 0;
	while (n && base[n - 1] == '/')
		n--;
	buf_printf(&res->body, PAGE_HEAD, "メールの報告 / Report this mail");
	buf_puts(&res->body, "<h1>このメールを報告しますか？</h1>"
			     "<p>不審なメールとして、情報セキュリティ担当者に報告します。</p>"
			     "<p class=\"en\">Report this mail as suspicious to your security team?</p>"
			     "<form method=\"post\" action=\"");
	buf_put_html(&res->body, (struct slice){ base ? base : "", n });
	/* the rid is [A-Za-z0-9] (track__find checked it): safe in the URL */
	buf_printf(&res->body, "/r/%s\"><button type=\"submit\" id=\"report\">報告する / Report"
			       "</button></form></body></html>", rid);
	res->status = 200;
	res->content_type = "text/html; charset=utf-8";
}

void track__report_page(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	if (!track__find(t, req, req->params[0], &tg)) {
		track_not_found(req, res);
		return;
	}
	report_headers(req, res);
	report_question(t, res, tg.rid);
}

/* A post that a browser says comes from another site (Sec-Fetch-Site, or
 * an Origin that is not the tracker's): a page elsewhere posting the form
 * for someone who never saw the mail.  Requests without either header
 * (older browsers, mail clients) are taken as they are. */
static bool report_cross_site(struct track *t, struct http_request *req)
{
	const char *site = http_header(req, "Sec-Fetch-Site"), *origin = http_header(req, "Origin");
	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return true;
	if (!origin || !strcmp(origin, "null"))
		return false; /* no Origin, or an opaque one (the page's no-referrer policy) */
	/* the tracker's origin: scheme://host[:port] of tracker_url */
	const char *base = track__url(t);
	const char *host = base ? strstr(base, "://") : NULL;
	if (!host)
		return false;
	size_t n = (size_t)(strchrnul(host + 3, '/') - base);
	return strlen(origin) != n || strncasecmp(origin, base, n) != 0;
}

void track__report_submit(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	if (!track__find(t, req, req->params[0], &tg)) {
		track_not_found(req, res);
		return;
	}
	report_headers(req, res);
	if (report_cross_site(t, req)) {
		/* calmly: the same question again, nothing recorded */
		report_question(t, res, tg.rid);
		return;
	}
	buf_printf(&res->body, PAGE_HEAD, "ご報告ありがとうございました / Thank you");
	buf_puts(&res->body, "<h1>ご報告ありがとうございました。</h1>"
			     "<p>不審なメールに気づいて報告することが、組織を守るいちばんの対策です。</p>"
			     "<p class=\"en\">Thank you for reporting. Noticing and reporting suspicious mail is "
			     "the best protection for everyone.</p></body></html>");
	res->status = 200;
	res->content_type = "text/html; charset=utf-8";
	track__record(t, req, &tg, EV_REPORTED, "{\"via\":\"link\"}");
}
