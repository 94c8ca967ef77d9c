/*
 * Fuzz target for the tracking server's request path: the open beacon, the
 * click, the form submission and the explanation page, called as the
 * listener calls them, against a real store with a launched campaign.
 *
 * Input: byte 0 picks the route and HEAD; byte 1 decides whether the rid is
 * a real one (with the rest appended) or the input itself; the remainder is
 * split at the first NUL into the path parameter and the form body.  The
 * body is also given to the X-Forwarded-For walk (trusted proxies
 * 127.0.0.0/8, 10.0.0.0/8 and fd00::/8).
 * Invariants: the answer is 200, 303 or 404, never anything else; on the
 * tracker's own routes an event is recorded exactly when the request names
 * a real rid (and, for the beacon, ends in ".gif"; HEAD and OPTIONS are
 * recorded as probes), rids being found in memory (rids.c); the attachment
 * routes (files.c) never record for an unknown rid; the client address is
 * the peer or an address from the header.
 */
#include "content/content.h"
#include "store/store.h"
#include "track/track.h"
#include "track/track_int.h"

#include <sqlite3.h>
#include <unistd.h>

/* Launch with everyone due at once, and let the campaign clock start it. */
static int launch_now(struct store *s, int64_t tenant, int64_t cid, int64_t *ret_n)
{
	int r = store_campaign_launch(s, tenant, cid, now_unix(), 10, store_plan_at_once, NULL, ret_n, NULL);
	if (r >= 0)
		store_campaigns_tick(s, now_unix());
	return r;
}


static struct store *store;
static struct track *track;
static sqlite3 *db;
static char rids[4][RID_LEN + 1];
static char dir[] = "/tmp/kunren-fuzz-track-XXXXXX";

static void remove_dir(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

static int64_t events_count(void)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *err = NULL;
	int applied;
	int64_t tenant, list, sid, cid, added, updated, n;
	BUG_ON(!mkdtemp(dir));
	atexit(remove_dir);
	char *path = xasprintf("%s/k.db", dir);
	BUG_ON(store_open(path, &store, &err) < 0 || store_migrate(store, &applied) < 0);
	BUG_ON(sqlite3_open(path, &db) != SQLITE_OK);
	free(path);
	BUG_ON(content_gallery_load(&err) < 0);
	const struct scenario *g = content_gallery_find("ja-password-expiry");
	BUG_ON(!g);
	struct scenario_rec sc = {
		.name = g->name, .description = g->description, .genre = g->genre, .type = g->type,
		.level = g->level, .lang = g->lang, .subject = g->subject, .html = g->html, .text = g->text,
		.sender_name = g->sender_name, .sender_local = g->sender_local, .sender_domain = g->sender_domain,
		.landing_html = g->landing_html, .explain_html = g->explain_html,
	};
	BUG_ON(store_tenant_create(store, "fuzz", "Asia/Tokyo", &tenant) < 0);
	BUG_ON(store_list_create(store, tenant, "l", &list) < 0);
	struct person p[4];
	const char *emails[] = { "a@example.co.jp", "b@example.co.jp", "c@example.co.jp", "d@example.co.jp" };
	for (int i = 0; i < 4; i++) {
		for (int f = 0; f < PF__COUNT; f++)
			p[i].f[f] = "<&\"'>";
		p[i].f[PF_EMAIL] = emails[i];
		p[i].is_test = false;
	}
	BUG_ON(store_recipients_import(store, tenant, list, p, 4, &added, &updated) < 0);
	BUG_ON(store_scenario_create(store, tenant, &sc, &sid) < 0);
	int64_t ids[] = { list };
	struct campaign c = { .name = "c", .scenario_id = sid, .sender_name = "s", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1 };
	BUG_ON(store_campaign_create(store, tenant, &c, &cid) < 0);
	BUG_ON(launch_now(store, tenant, cid, &n) < 0);
	struct arena *a = arena_new(0);
	struct target *t;
	size_t nt;
	BUG_ON(store_targets(store, tenant, cid, 0, 4, a, &t, &nt) < 0 || nt != 4);
	for (size_t i = 0; i < nt; i++)
		memcpy(rids[i], t[i].rid, RID_LEN + 1);
	arena_free(a);
	struct track_options o = { .tracker_url = "http://t.example",
				   .trusted_proxies = "127.0.0.0/8, 10.0.0.0/8, fd00::/8" };
	track = track_new(store, &o, &err);
	BUG_ON(!track);
	log_set_level(LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const struct http_route *route = &track_routes[(data[0] & 0x7f) % track_routes_count];
	bool head = data[0] & 0x80 && !strcmp(route->method, "GET");
	bool real = data[1] & 1;
	struct slice rest = { (const char *)data + 2, size - 2 }, param;
	struct slice body = slice_cut(rest, '\0', &param);

	struct http_request req = {
		.method = route->method, .head = head, .path = route->pattern, .remote_ip = "127.0.0.1",
		.arena = arena_new((size_t)8 << 20), .body = body, .app = track,
	};
	const char *p = real ? arena_printf(req.arena, "%s%.*s", rids[data[1] >> 1 & 3], (int)param.len, param.p)
			     : arena_slice(req.arena, param);
	req.params[0] = p;
	req.nparams = strchr(route->pattern, '{') ? 1 : 0;

	struct http_response res = { .body = BUF_INIT((size_t)16 << 20) };
	int64_t before = events_count();
	route->fn(&req, &res);
	int64_t after = events_count();

	BUG_ON(res.status != 200 && res.status != 204 && res.status != 303 && res.status != 404);
	const char *xff = arena_slice(req.arena, body);
	const char *client = track__xff_client(track, "127.0.0.1", xff, req.arena);
	BUG_ON(!client || (strcmp(client, "127.0.0.1") != 0 && !strchr(client, '.') && !strchr(client, ':')));
	bool known = false;
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(p);
		if (!strcmp(route->pattern, "/o/{rid}"))
			known |= n == RID_LEN + 4 && !strncmp(p, rids[i], RID_LEN) && !strcmp(p + RID_LEN, ".gif");
		else
			known |= !strcmp(p, rids[i]);
	}
	bool files = !strncmp(route->pattern, "/f/", 3) || !strncmp(route->pattern, "/p/", 3);
	/* the explanation page and the report question page record nothing */
	bool shows = !strcmp(route->pattern, "/e/{rid}") || (!strcmp(route->pattern, "/r/{rid}") && !strcmp(route->method, "GET"));
	bool records = req.nparams && known && !shows;
	if (files)
		BUG_ON(after - before > (records ? 1 : 0));
	else
		BUG_ON(after - before != (records ? 1 : 0));
	buf_release(&res.body);
	arena_free(req.arena);
	return 0;
}
