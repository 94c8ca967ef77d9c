/*
 * files.c — the tracker's side of training attachments (SPEC D5, F3): the
 * picture a docx or xlsx links and a PDF's open actions reach
 * (/f/<rid>.png), and the visible link inside the file (/p/<rid>).  Both
 * record ファイル開封 (EV_FILE_OPENED), detail {"via": "image"} or
 * {"via": "pdf_link"}; HEAD and OPTIONS on either are kept as probes.  As
 * everywhere on the tracker, an unknown rid gets the same answer and
 * records nothing.
 */
#include "track/track.h"
#include "track/track_int.h"

/* A 1×1 transparent PNG: Word and Excel show a linked picture they cannot
 * decode as a broken-image frame, so the answer must be a real image. */
static const unsigned char png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
	0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00,
	0x01, 0xe9, 0xfa, 0xdc, 0xd8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

char *track_file_beacon_url(const char *tracker_url, const char *rid)
{
	return xasprintf("%s/f/%s.png", tracker_url, rid);
}

char *track_file_link_url(const char *tracker_url, const char *rid)
{
	return xasprintf("%s/p/%s", tracker_url, rid);
}

/*
 * GET (and HEAD) /f/<rid>.png.  A HEAD is not a person opening the file
 * but a scanner or a link preview checking the URL: track__record stores
 * it as a probe (EVS_HEAD), which never counts as an open.
 */
void track__file_beacon(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	track__page_headers(req, res);
	http_response_text(res, 200, "image/png", (struct slice){ (const char *)png, sizeof(png) });
	if (track__find(t, req, req->params[0], &tg))
		track__record(t, req, &tg, EV_FILE_OPENED, "{\"via\":\"image\"}");
}

/* OPTIONS /f/<rid>.png and /p/<rid>: what Office and LibreOffice ask
 * before fetching a linked picture, and what a mail gateway or a viewer may
 * ask before following the link in a PDF.  Answered calmly (204, the same
 * for unknown rids); recorded as a probe (EVS_OPTIONS, from the method),
 * never an open.  One handler for both routes: the path says which. */
void track__file_options(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	bool link = req->path && !strncmp(req->path, "/p/", 3);
	track__page_headers(req, res);
	http_response_header(req, res, "Allow", "GET, HEAD, OPTIONS");
	http_response_text(res, 204, "text/plain", SLICE_LIT(""));
	if (track__find(t, req, req->params[0], &tg))
		track__record(t, req, &tg, EV_FILE_OPENED, link ? "{\"via\":\"pdf_link\"}" : "{\"via\":\"image\"}");
}

/* GET /p/<rid>: the link inside the file, the dependable PDF signal (a
 * person clicked in the document).  Goes on to the explanation page. */
void track__file_link(struct http_request *req, struct http_response *res)
{
	struct track *t = req->app;
	struct track_target tg;
	if (!track__find(t, req, req->params[0], &tg)) {
		track_not_found(req, res);
		return;
	}
	_cleanup_free_ char *to = xasprintf("%s/e/%s", track__url(t), tg.rid);
	track__page_headers(req, res);
	http_response_redirect(req, res, 303, to);
	track__record(t, req, &tg, EV_FILE_OPENED, "{\"via\":\"pdf_link\"}"); /* a HEAD: a probe */
}
