/*
 * education.c — /api/v1/education (SPEC D9, issue 4): the awareness material
 * a trainer hands to targets before a drill ("before") and after it
 * ("after"), in Japanese and English.  Until the tenant edits a text the
 * built-in one (content_education_default) is served.  Each text downloads
 * as a self-contained HTML page and as a PDF.
 */
#include "api/api_int.h"
#include "content/content.h"

#define EDU_TITLE_MAX 200      /* characters */
#define EDU_BODY_MAX 20000     /* characters */

static bool kind_valid(const char *k)
{
	return k && (!strcmp(k, "before") || !strcmp(k, "after"));
}

static bool lang_valid(const char *l)
{
	return l && (!strcmp(l, "ja") || !strcmp(l, "en"));
}

/* UTF-8 characters in s (continuation bytes not counted). */
static size_t char_count(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The kind of params[0] (404 when unknown) and ?lang= (default ja; 400 when
 * neither ja nor en). */
static bool kind_lang(struct http_request *req, struct http_response *res, const char **ret_kind,
		      const char **ret_lang)
{
	const char *kind = req->nparams ? req->params[0] : NULL, *lang = http_query(req, "lang");
	if (!kind_valid(kind)) {
		http_response_error(res, 404, "not_found", "no such education material (before or after)", NULL);
		return false;
	}
	if (!lang)
		lang = "ja";
	if (!lang_valid(lang)) {
		api__field_error(res, "lang", "must be ja or en");
		return false;
	}
	*ret_kind = kind;
	*ret_lang = lang;
	return true;
}

/* The tenant's text, or the built-in one (*ret_edited false). */
static bool education_load(struct http_request *req, struct http_response *res, const struct principal *p,
			   const char *kind, const char *lang, struct education *ret, bool *ret_edited)
{
	struct api *api = req->app;
	struct education e;
	int r = store_education_get(api->store, p->tenant.id, kind, lang, req->arena, &e);
	if (r == -ENOENT) {
		e = (struct education){ .kind = kind, .lang = lang };
		BUG_ON(content_education_default(kind, lang, &e.title, &e.body) < 0);
		*ret_edited = false;
	} else if (r < 0) {
		api__store_error(res, r, "education material");
		return false;
	} else {
		*ret_edited = true;
	}
	*ret = e;
	return true;
}

/* Splits a body at blank lines (CR LF as LF) into paragraphs, each trimmed
 * of surrounding blank lines; single line breaks stay inside.  Strings in
 * the arena; NULL (with *ret_n 0) when the arena is full. */
static const char **paragraphs(struct arena *a, const char *body, size_t *ret_n)
{
	size_t cap = 1, n = 0;
	for (const char *c = body; *c; c++)
		cap += *c == '\n';
	const char **out = arena_alloc(a, cap * sizeof(*out));
	struct buf para = BUF_INIT(0);
	struct slice rest = slice_from(body), line;
	bool ok = out != NULL;

	while (ok) {
		bool last = !memchr(rest.p, '\n', rest.len);
		rest = slice_cut(rest, '\n', &line);
		if (line.len && line.p[line.len - 1] == '\r')
			line.len--;
		if (slice_trim(line).len) {
			ok = (!para.len || buf_putc(&para, '\n') >= 0) && buf_put_slice(&para, line) >= 0;
		} else if (para.len) {
			ok = (out[n++] = arena_strndup(a, para.p, para.len)) != NULL;
			buf_reset(&para);
		}
		if (last)
			break;
	}
	if (ok && para.len)
		ok = (out[n++] = arena_strndup(a, para.p, para.len)) != NULL;
	buf_release(&para);
	*ret_n = ok ? n : 0;
	return ok ? out : NULL;
}

static const char *file_base(const char *kind, const char *lang)
{
	bool before = !strcmp(kind, "before");
	if (!strcmp(lang, "ja"))
		return before ? "訓練前の注意" : "訓練後の振り返り";
	return before ? "before-the-drill" : "after-the-drill";
}

/* Sends body as an attachment named base.ext, the ASCII name
 * education-<kind>-<lang>.<ext> for old clients. */
static void send_download(struct http_request *req, struct http_response *res, const char *type,
			  const char *kind, const char *lang, const char *ext, struct buf *body)
{
	_cleanup_free_ char *name = xasprintf("%s.%s", file_base(kind, lang), ext);
	_cleanup_free_ char *ascii = xasprintf("education-%s-%s.%s", kind, lang, ext);
	api__send_file_as(req, res, type, name, ascii, body);
}

void api_education_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	const char *kind, *lang;
	struct education e;
	bool edited;
	if (!p || !kind_lang(req, res, &kind, &lang) || !education_load(req, res, p, kind, lang, &e, &edited))
		return;
	http_response_json(res, 200,
			   json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "kind", kind, "lang", lang, "title", e.title,
				     "body", e.body, "edited", edited,
				     "updated_at", edited ? api__time(p, e.updated_at) : json_null()));
}

void api_education_put(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *kind = req->nparams ? req->params[0] : NULL, *msg;
	struct education e = { .kind = kind };
	if (!body)
		return;
	if (!kind_valid(kind)) {
		http_response_error(res, 404, "not_found", "no such education material (before or after)", NULL);
		return;
	}
	if (json_get_str(body, "lang", true, 2, &e.lang, &msg) < 0 ||
	    (!lang_valid(e.lang) && (msg = "must be ja or en"))) {
		api__field_error(res, "lang", msg);
		return;
	}
	if (json_get_str(body, "title", true, 4 * EDU_TITLE_MAX, &e.title, &msg) < 0 ||
	    (char_count(e.title) > EDU_TITLE_MAX && (msg = "must be at most 200 characters")) ||
	    (!slice_trim(slice_from(e.title)).len && (msg = "must not be empty")) ||
	    (strpbrk(e.title, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "title", msg);
		return;
	}
	if (json_get_str(body, "body", true, 4 * EDU_BODY_MAX, &e.body, &msg) < 0 ||
	    (char_count(e.body) > EDU_BODY_MAX && (msg = "must be at most 20000 characters")) ||
	    (!slice_trim(slice_from(e.body)).len && (msg = "must not be empty"))) {
		api__field_error(res, "body", msg);
		return;
	}
	e.updated_at = now_unix();
	int r = store_education_set(api->store, p->tenant.id, &e);
	if (r < 0) {
		api__store_error(res, r, "education material");
		return;
	}
	_cleanup_free_ char *detail = xasprintf("kind=%s lang=%s", kind, e.lang);
	api__audit(req, p, "education.update", detail);
	http_response_json(res, 200,
			   json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "kind", kind, "lang", e.lang, "title", e.title,
				     "body", e.body, "edited", true, "updated_at", api__time(p, e.updated_at)));
}

void api_education_html(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	const char *kind, *lang;
	struct education e;
	bool edited;
	size_t n;
	if (!p || !kind_lang(req, res, &kind, &lang) || !education_load(req, res, p, kind, lang, &e, &edited))
		return;
	const char **paras = paragraphs(req->arena, e.body, &n);
	if (!paras) {
		api__store_error(res, -ENOMEM, "education material");
		return;
	}
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	int r = buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
			       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
			   lang);
	if (r >= 0 && (r = buf_put_html(&b, slice_from(e.title))) >= 0)
		r = buf_puts(&b, "</title>\n<style>\n"
				 "body { margin: 0; background: #f5f6f8; color: #1f2328; font: 16px/1.8 system-ui, "
				 "-apple-system, \"Hiragino Sans\", \"Noto Sans JP\", \"Yu Gothic\", Meiryo, sans-serif; }\n"
				 "main { max-width: 44em; margin: 2em auto; padding: 2em 2.5em; background: #fff; "
				 "border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }\n"
				 "h1 { font-size: 1.5em; line-height: 1.4; margin: 0 0 1em; }\n"
				 "p { margin: 0 0 1em; overflow-wrap: anywhere; }\n"
				 "@media print { body { background: #fff; } main { box-shadow: none; margin: 0; } }\n"
				 "</style>\n</head>\n<body>\n<main>\n<h1>");
	if (r >= 0 && (r = buf_put_html(&b, slice_from(e.title))) >= 0)
		r = buf_puts(&b, "</h1>\n");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct slice rest = slice_from(paras[i]), line;
		r = buf_puts(&b, "<p>");
		for (bool first = true; r >= 0; first = false) {
			bool last = !memchr(rest.p, '\n', rest.len);
			rest = slice_cut(rest, '\n', &line);
			if (!first)
				r = buf_puts(&b, "<br>\n");
			if (r >= 0)
				r = buf_put_html(&b, line);
			if (last)
				break;
		}
		if (r >= 0)
			r = buf_puts(&b, "</p>\n");
	}
	if (r >= 0)
		r = buf_puts(&b, "</main>\n</body>\n</html>\n");
	if (r < 0) {
		api__store_error(res, r, "education page");
		return;
	}
	send_download(req, res, "text/html; charset=utf-8", kind, lang, "html", &b);
}

void api_education_pdf(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	const char *kind, *lang;
	struct education e;
	bool edited;
	size_t n;
	if (!p || !kind_lang(req, res, &kind, &lang) || !education_load(req, res, p, kind, lang, &e, &edited))
		return;
	const char **paras = paragraphs(req->arena, e.body, &n);
	if (!paras) {
		api__store_error(res, -ENOMEM, "education material");
		return;
	}
	_cleanup_buf_ struct buf b = BUF_INIT((size_t)16 << 20);
	int r = content_pdf_text(&b, e.title, paras, n);
	if (r < 0) {
		api__store_error(res, r, "education PDF");
		return;
	}
	send_download(req, res, "application/pdf", kind, lang, "pdf", &b);
}
