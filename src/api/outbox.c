/* outbox.c — /api/v1/outbox: the mails written while no relay is configured. */
#include "api/api_int.h"

#include "mail/mail.h"

#include <dirent.h>

#define OUTBOX_MAX_FILE ((size_t)32 << 20)

static char *tenant_dir(const struct api *api, const struct principal *p)
{
	return xasprintf("%s/tenant-%lld", api->outbox_dir, (long long)p->tenant.id);
}

/* An outbox id is a file name without ".eml": [0-9A-Za-z-] only. */
static bool id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= 'a' && id[i] <= 'z') || id[i] == '-'))
			return false;
	return true;
}

static int read_mail(const char *dir, const char *id, struct arena *a, struct mail_parsed *ret)
{
	_cleanup_free_ char *path = xasprintf("%s/%s.eml", dir, id);
	_cleanup_buf_ struct buf raw = BUF_INIT(OUTBOX_MAX_FILE);
	int r = file_read(path, OUTBOX_MAX_FILE, &raw);
	return r < 0 ? r : mail_parse(buf_slice(&raw), a, ret);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The date is the one the file name starts with (<unix seconds>-<random>),
 * in the tenant's zone like every time of the API. */
static json_t *mail_json(const struct principal *p, const char *id, const struct mail_parsed *m)
{
	struct slice secs;
	int64_t t = 0;
	slice_cut(slice_from(id), '-', &secs);
	if (slice_to_i64(secs, 0, INT64_MAX, &t) < 0)
		t = 0;
	return json_pack("{s:s, s:o, s:o, s:o, s:o}", "id", id, "from", str_or_null(m->from), "to",
			 str_or_null(m->to), "subject", str_or_null(m->subject), "date", api__time(p, t));
}

static int name_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

void api_outbox_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	if (!p)
		return;
	json_t *items = json_array();
	_cleanup_free_ char *dir = tenant_dir(api, p);
	DIR *d = api->outbox_dir[0] ? opendir(dir) : NULL;
	if (!d) {
		http_response_json(res, 200, api__page(items, false, 0));
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".eml"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrndup(e->d_name, len - 4);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_desc);
	for (size_t i = 0; i < n; i++) {
		struct mail_parsed m;
		if (i < 200 && id_ok(names[i]) && read_mail(dir, names[i], req->arena, &m) == 0)
			json_array_append_new(items, mail_json(p, names[i], &m));
		free(names[i]);
	}
	free(names);
	http_response_json(res, 200, api__page(items, false, 0));
}

void api_outbox_one(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct mail_parsed m;
	if (!p)
		return;
	const char *id = req->params[0];
	_cleanup_free_ char *dir = tenant_dir(api, p);
	int r = id_ok(id) && api->outbox_dir[0] ? read_mail(dir, id, req->arena, &m) : -ENOENT;
	if (r < 0) {
		http_response_error(res, 404, "not_found", "no such mail in the outbox", NULL);
		return;
	}
	json_t *j = mail_json(p, id, &m);
	json_object_set_new(j, "text", str_or_null(m.text));
	json_object_set_new(j, "html", str_or_null(m.html));
	http_response_json(res, 200, j);
}
