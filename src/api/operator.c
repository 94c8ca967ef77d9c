/*
 * operator.c — /api/v1/operator/... (SPEC A1, A5, A6): tenants with their
 * licence and service period, deletions, branding, training domains, every
 * tenant's audit log and usage.  Only the operator account gets here
 * (api__auth_operator).  Also the service-period rule and the purge of a
 * tenant, which `kunren tenant` and the deletion job in main.c share.
 */
#include "api/api_int.h"

#include "mail/mail.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#define LOGO_MAX ((size_t)256 * 1024)

/* ---- the service period (A2, A4) ---- */

/* Unix time of a local civil time in zone z (the offset is looked up at
 * the instant itself, so a DST change in between is handled). */
static int64_t local_to_unix(const struct tz *z, const struct civil *c)
{
	int64_t local = unix_from_civil(c);
	int64_t t = local - tz_offset(z, local);
	return local - tz_offset(z, t);
}

void api_tenant_period(const struct tz *zone, enum licence l, int64_t now, int64_t *ret_start, int64_t *ret_end)
{
	struct civil c;
	civil_from_unix(now + tz_offset(zone, now), &c);
	/* the first day of the month after the period's last month, 00:00 */
	struct civil next = { .year = c.year, .month = c.month, .day = 1 };
	if (l == LICENCE_TRIAL) {
		next.month += 2;     /* to the end of next month */
	} else {
		next.year += 1;      /* to the end of the same month next year */
		next.month += 1;
	}
	while (next.month > 12) {
		next.month -= 12;
		next.year++;
	}
	*ret_start = now;
	*ret_end = local_to_unix(zone, &next) - 1;
}

/* ---- purging a tenant ---- */

/* Removes name (relative to dirfd) and everything below it, counting the
 * files; symbolic links are removed, never followed. */
static int rm_tree_at(int at, const char *name, int depth, int64_t *files)
{
	if (depth > 64)
		return -ELOOP;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOTDIR && errno != ELOOP)
			return -errno;
		if (unlinkat(at, name, 0) < 0)
			return -errno;
		(*files)++;
		return 0;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	int r = 0;
	/* entries removed while reading may make readdir skip some: read again
	 * until the folder is empty */
	for (int pass = 0; pass < 4; pass++) {
		bool any = false;
		rewinddir(d);
		for (struct dirent *e; (e = readdir(d));) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			any = true;
			int k = rm_tree_at(dirfd(d), e->d_name, depth + 1, files);
			if (k < 0 && r == 0)
				r = k;
		}
		if (!any || r < 0)
			break;
	}
	closedir(d);
	if (r == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

static int tenant_files_delete(const char *data_dir, int64_t tenant_id, int64_t *files)
{
	_cleanup_free_ char *path = xasprintf("%s/outbox/tenant-%lld", data_dir, (long long)tenant_id);
	int r = rm_tree_at(AT_FDCWD, path, 0, files);
	return r == -ENOENT ? 0 : r;
}

int api_tenant_purge(struct store *s, const char *data_dir, int64_t tenant_id, const char *reason, int64_t now,
		     int64_t *ret_rows, int64_t *ret_files)
{
	int64_t files = 0, rows = 0, late = 0;
	int r = tenant_files_delete(data_dir, tenant_id, &files);
	if (r < 0) {
		log_error("tenant %lld: its files could not be deleted: %s", (long long)tenant_id, strerror(-r));
		return r;
	}
	r = store_tenant_purge(s, tenant_id, reason, files, now, &rows);
	if (r < 0)
		return r;
	/* a mail being written while the rows went */
	if (tenant_files_delete(data_dir, tenant_id, &late) == 0 && late)
		log_info("tenant %lld: %lld more files deleted after its rows", (long long)tenant_id, (long long)late);
	log_info("tenant %lld deleted (%s): %lld rows, %lld files", (long long)tenant_id, reason, (long long)rows,
		 (long long)(files + late));
	if (ret_rows)
		*ret_rows = rows;
	if (ret_files)
		*ret_files = files + late;
	return 0;
}

/* ---- the tenant object ---- */

json_t *api__tenant_json(struct http_request *req, struct http_response *res, const struct tenant *t)
{
	struct api *api = req->app;
	struct usage u;
	int r = store_usage_get(api->store, t->id, &u);
	if (r < 0) {
		api__store_error(res, r, "usage");
		return NULL;
	}
	const struct tz *z = api__zone(t->time_zone);
	int64_t used = t->licence == LICENCE_ADDRESSES ? u.addresses : u.sends;
	json_t *remaining = t->quota ? json_integer(t->quota > used ? t->quota - used : 0) : json_null();
	return json_pack("{s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:{s:I, s:I}, s:o, s:o, s:b, s:I, s:o}", "id",
			 (json_int_t)t->id, "name", t->name, "time_zone", t->time_zone, "licence", licence_name(t->licence),
			 "quota", (json_int_t)t->quota, "period_start", api__time_in(z, t->period_start), "period_end",
			 api__time_in(z, t->period_end), "usage", "sends", (json_int_t)u.sends, "addresses",
			 (json_int_t)u.addresses, "remaining", remaining, "delete_at", api__time_in(z, t->delete_at),
			 "suspended", t->suspended, "retention_days", (json_int_t)t->retention_days, "created_at",
			 api__time_in(z, t->created_at));
}

/* The operator's view adds the number of accounts. */
static json_t *op_tenant_json(struct http_request *req, struct http_response *res, const struct tenant *t)
{
	struct api *api = req->app;
	struct account *acc;
	size_t n;
	int r = store_accounts(api->store, t->id, req->arena, &acc, &n);
	if (r < 0) {
		api__store_error(res, r, "accounts");
		return NULL;
	}
	json_t *j = api__tenant_json(req, res, t);
	if (j)
		json_object_set_new(j, "accounts", json_integer((json_int_t)n));
	return j;
}

static bool tenant_load(struct http_request *req, struct http_response *res, struct tenant *ret)
{
	struct api *api = req->app;
	int64_t id;
	if (!api__id(req, res, 0, &id))
		return false;
	int r = store_tenant_get(api->store, id, req->arena, ret);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return false;
	}
	return true;
}

/* ---- /operator/tenants ---- */

/* Every tenant through row() into a page of items (the operator's lists). */
static void tenants_respond(struct http_request *req, struct http_response *res,
			    json_t *(*row)(struct http_request *, struct http_response *, const struct tenant *))
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_READ);
	struct tenant *t;
	size_t n;
	if (!p)
		return;
	int r = store_tenants(api->store, req->arena, &t, &n);
	if (r < 0) {
		api__store_error(res, r, "tenants");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = row(req, res, &t[i]);
		if (!j) {
			json_decref(items);
			return;
		}
		json_array_append_new(items, j);
	}
	api__page_all(req, res, items, row == op_tenant_json ? "id" : "tenant_id", false);
}

void api_op_tenants_get(struct http_request *req, struct http_response *res)
{
	tenants_respond(req, res, op_tenant_json);
}

static bool name_get(struct http_response *res, json_t *body, bool required, const char **ret)
{
	const char *msg;
	if (json_get_str(body, "name", required, 200, ret, &msg) < 0 ||
	    (*ret && !slice_trim(slice_from(*ret)).len && (msg = "must not be empty")) ||
	    (*ret && strpbrk(*ret, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "name", msg);
		return false;
	}
	return true;
}

static bool licence_get(struct http_response *res, json_t *body, struct tenant *t)
{
	const char *name = NULL, *msg;
	if (json_get_str(body, "licence", false, 32, &name, &msg) < 0 ||
	    (name && licence_parse(name, &t->licence) < 0 && (msg = "must be send_count, unique_addresses or trial"))) {
		api__field_error(res, "licence", msg);
		return false;
	}
	if (json_get_int(body, "quota", false, 0, INT64_C(1000000000000), &t->quota, &msg) < 0) {
		api__field_error(res, "quota", msg);
		return false;
	}
	return true;
}

void api_op_tenants_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *name = NULL, *zone = api->cfg->time_zone, *user = NULL, *email = NULL, *pw = NULL, *msg;
	const char *problem = NULL;
	struct tenant t = { .licence = LICENCE_SEND_COUNT };
	int64_t id, owner_id;
	if (!body || !name_get(res, body, true, &name))
		return;
	if (json_get_str(body, "time_zone", false, 64, &zone, &msg) < 0 ||
	    (!tz_get(zone) && (msg = "must be an IANA time zone such as Asia/Tokyo"))) {
		api__field_error(res, "time_zone", msg);
		return;
	}
	if (!licence_get(res, body, &t))
		return;
	json_t *owner = json_object_get(body, "owner");
	if (!json_is_object(owner)) {
		api__field_error(res, "owner", "is required: {\"username\", \"email\", \"password\"?}");
		return;
	}
	if (json_get_str(owner, "username", true, 64, &user, &msg) < 0 ||
	    (!api__username_valid(user) && (msg = "must be 1 to 64 of A-Z a-z 0-9 . _ @ + -"))) {
		api__field_error(res, "owner.username", msg);
		return;
	}
	if (json_get_str(owner, "email", true, 254, &email, &msg) < 0 ||
	    (!mail_addr_valid(email) && (msg = "must be a mail address such as name@example.co.jp"))) {
		api__field_error(res, "owner.email", msg);
		return;
	}
	if (json_get_str(owner, "password", false, 1024, &pw, &msg) < 0 ||
	    (pw && (problem = auth_password_problem(pw, user)) && (msg = problem))) {
		api__field_error(res, "owner.password", msg);
		return;
	}
	struct account acc;
	if (store_account_by_username(api->store, user, req->arena, &acc) == 0) {
		json_t *d = json_pack("[{s:s, s:s}]", "field", "owner.username", "message", "is taken");
		http_response_error(res, 409, "exists", "owner.username: is taken; choose another one", d);
		return;
	}
	char generated[21] = "";
	if (!pw)
		do
			id_random(generated, 20);
		while (auth_password_problem(generated, user));
	_cleanup_free_ char *hash = NULL;
	int r = auth_password_hash(pw ? pw : generated, &hash);
	if (r < 0 || (r = store_tenant_create(api->store, name, zone, &id)) < 0) {
		api__store_error(res, r, "tenant");
		return;
	}
	struct tenant stored;
	if ((r = store_tenant_get(api->store, id, req->arena, &stored)) >= 0) {
		stored.licence = t.licence;
		stored.quota = t.quota;
		api_tenant_period(api__zone(zone), t.licence, now_unix(), &stored.period_start, &stored.period_end);
		r = store_tenant_update(api->store, &stored);
	}
	if (r >= 0)
		r = store_account_create(api->store, id, user, hash, ROLE_OWNER, &owner_id);
	if (r >= 0 && (r = store_account_get(api->store, owner_id, req->arena, &acc)) >= 0) {
		acc.totp_sealed = (struct slice){ NULL, 0 };
		acc.email = email;
		r = store_account_update(api->store, id, &acc);
	}
	if (r < 0) {
		/* nothing half-made is left behind */
		api_tenant_purge(api->store, api->cfg->data_dir, id, "creation failed", now_unix(), NULL, NULL);
		if (r == -EEXIST) {
			json_t *d = json_pack("[{s:s, s:s}]", "field", "owner.username", "message", "is taken");
			http_response_error(res, 409, "exists", "owner.username: is taken; choose another one", d);
		} else {
			api__store_error(res, r, "tenant");
		}
		return;
	}
	json_t *j = op_tenant_json(req, res, &stored);
	if (!j)
		return;
	api__audit(req, p, "tenant.create",
		   arena_printf(req->arena, "id=%lld name=%s licence=%s quota=%lld owner=%s", (long long)id, name,
				licence_name(t.licence), (long long)t.quota, user));
	http_response_json(res, 201, json_pack("{s:o, s:o}", "tenant", j, "owner_password",
					       pw ? json_null() : json_string(generated)));
	explicit_bzero(generated, sizeof(generated));
}

void api_op_tenant_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth_operator(req, res, API_READ);
	struct tenant t;
	if (!p || !tenant_load(req, res, &t))
		return;
	json_t *j = op_tenant_json(req, res, &t);
	if (j)
		http_response_json(res, 200, j);
}

void api_op_tenant_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct tenant old, t;
	const char *name = NULL, *msg;
	struct civil end;
	bool has_end;
	if (!body || !tenant_load(req, res, &old))
		return;
	t = old;
	if (!name_get(res, body, false, &name) || !licence_get(res, body, &t))
		return;
	if (name)
		t.name = name;
	if (json_get_bool(body, "suspended", false, &t.suspended, &msg) < 0) {
		api__field_error(res, "suspended", msg);
		return;
	}
	if (json_get_int(body, "retention_days", false, 0, 36500, &t.retention_days, &msg) < 0) {
		api__field_error(res, "retention_days", msg);
		return;
	}
	if (!api__date(res, body, "period_end", &end, &has_end))
		return;
	if (has_end) {
		/* the period's last day, to 23:59:59 in the tenant's zone */
		end.hour = end.min = end.sec = 0;
		t.period_end = local_to_unix(api__zone(t.time_zone), &end) + 86400 - 1;
		if (t.period_end < t.period_start) {
			api__field_error(res, "period_end", "must not be before the start of the service period");
			return;
		}
	} else if (json_is_null(json_object_get(body, "period_end"))) {
		t.period_end = 0;   /* open-ended */
	}
	int r = store_tenant_update(api->store, &t);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return;
	}
	_cleanup_buf_ struct buf what = BUF_INIT(4096);
	buf_printf(&what, "id=%lld", (long long)t.id);
	if (strcmp(t.name, old.name))
		buf_printf(&what, " name: %s → %s", old.name, t.name);
	if (t.licence != old.licence)
		buf_printf(&what, " licence: %s → %s", licence_name(old.licence), licence_name(t.licence));
	if (t.quota != old.quota)
		buf_printf(&what, " quota: %lld → %lld", (long long)old.quota, (long long)t.quota);
	if (t.suspended != old.suspended)
		buf_printf(&what, " %s", t.suspended ? "suspended" : "resumed");
	if (t.period_end != old.period_end)
		buf_printf(&what, " period_end: %lld → %lld", (long long)old.period_end, (long long)t.period_end);
	if (t.retention_days != old.retention_days)
		buf_printf(&what, " retention_days: %lld → %lld", (long long)old.retention_days,
			   (long long)t.retention_days);
	api__audit(req, p, "tenant.update", what.p);
	json_t *j = op_tenant_json(req, res, &t);
	if (j)
		http_response_json(res, 200, j);
}

void api_op_tenant_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	struct tenant t;
	int64_t rows, files;
	if (!p || !tenant_load(req, res, &t))
		return;
	int r = api_tenant_purge(api->store, api->cfg->data_dir, t.id, "deleted by the operator", now_unix(), &rows,
				 &files);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return;
	}
	api__audit(req, p, "tenant.delete",
		   arena_printf(req->arena, "id=%lld name=%s rows=%lld files=%lld", (long long)t.id, t.name,
				(long long)rows, (long long)files));
	http_response_json(res, 200, json_pack("{s:b, s:I, s:I}", "deleted", 1, "rows", (json_int_t)rows, "files",
					       (json_int_t)files));
}

/* The next service period starts now (usage counts from zero again). */
void api_op_tenant_renew(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	struct tenant t;
	if (!p || !tenant_load(req, res, &t))
		return;
	int64_t old_start = t.period_start, old_end = t.period_end;
	api_tenant_period(api__zone(t.time_zone), t.licence, now_unix(), &t.period_start, &t.period_end);
	if (t.period_start <= old_start)
		t.period_start = old_start + 1;  /* a new period, even within the same second */
	int r = store_tenant_update(api->store, &t);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return;
	}
	_cleanup_buf_ struct buf a = BUF_INIT(64), b = BUF_INIT(64);
	tz_put_iso(&a, api__zone(t.time_zone), old_end);
	tz_put_iso(&b, api__zone(t.time_zone), t.period_end);
	api__audit(req, p, "tenant.renew",
		   arena_printf(req->arena, "id=%lld name=%s period_end: %s → %s", (long long)t.id, t.name,
				old_end ? a.p : "none", b.p));
	json_t *j = op_tenant_json(req, res, &t);
	if (j)
		http_response_json(res, 200, j);
}

void api_op_deletions_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_READ);
	struct deletion *d;
	size_t n;
	if (!p)
		return;
	int r = store_deletion_log(api->store, req->arena, &d, &n);
	if (r < 0) {
		api__store_error(res, r, "deletion log");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:o}", "id", (json_int_t)d[i].id,
						       "tenant_id", (json_int_t)d[i].tenant_id, "tenant_name",
						       d[i].tenant_name, "reason", d[i].reason, "rows",
						       (json_int_t)d[i].rows, "files", (json_int_t)d[i].files, "at",
						       api__time(p, d[i].at)));
	api__page_all(req, res, items, "id", true);
}

/* ---- nodes: the `kunren serve` processes on this database (NODES.md) ---- */

void api_op_nodes_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_READ);
	struct store_node *nd;
	size_t n;
	if (!p)
		return;
	int64_t lease = api->cfg->node_lease_seconds;
	int r = store_nodes(api->store, lease * 1000, req->arena, &nd, &n);
	if (r < 0) {
		api__store_error(res, r, "nodes");
		return;
	}
	/* times by the database's clock: seen_seconds_ago compares no two machines */
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		int64_t ago = (nd[i].now_ms - nd[i].seen_ms) / 1000;
		json_array_append_new(items,
				      json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:b}", "id", nd[i].id, "place", nd[i].place,
						"mode", nd[i].mode, "started_at", api__time(p, nd[i].started_at), "seen_at",
						api__time(p, nd[i].seen_ms / 1000), "seen_seconds_ago",
						(json_int_t)(ago < 0 ? 0 : ago), "alive", nd[i].alive));
	}
	http_response_json(res, 200,
			   json_pack("{s:o, s:n, s:I, s:s}", "items", items, "next_after", "lease_seconds", (json_int_t)lease,
				     "this_node", node_id() ? node_id() : ""));
}

/* ---- branding (A6) ---- */

static json_t *branding_json(const struct branding *b)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:s}", "service_name", b->service_name, "primary_color",
			 b->primary_color, "support_contact", b->support_contact, "has_logo", b->logo.len > 0,
			 "logo_type", b->logo_type ? b->logo_type : "");
}

void api_op_branding_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_READ);
	struct branding b;
	if (!p)
		return;
	int r = store_branding_get(api->store, req->arena, &b);
	if (r < 0) {
		api__store_error(res, r, "branding");
		return;
	}
	http_response_json(res, 200, branding_json(&b));
}

static bool color_valid(const char *c)
{
	if (strlen(c) != 7 || c[0] != '#')
		return false;
	for (int i = 1; i < 7; i++)
		if (!strchr("0123456789abcdefABCDEF", c[i]))
			return false;
	return true;
}

void api_op_branding_put(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct branding b;
	const char *msg;
	if (!body)
		return;
	int r = store_branding_get(api->store, req->arena, &b);
	if (r < 0) {
		api__store_error(res, r, "branding");
		return;
	}
	if (json_get_str(body, "service_name", true, 100, &b.service_name, &msg) < 0 ||
	    (!slice_trim(slice_from(b.service_name)).len && (msg = "must not be empty")) ||
	    (strpbrk(b.service_name, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "service_name", msg);
		return;
	}
	if (json_get_str(body, "primary_color", true, 7, &b.primary_color, &msg) < 0 ||
	    (!color_valid(b.primary_color) && (msg = "must be a colour #RRGGBB"))) {
		api__field_error(res, "primary_color", msg);
		return;
	}
	b.support_contact = "";
	if (json_get_str(body, "support_contact", false, 500, &b.support_contact, &msg) < 0) {
		api__field_error(res, "support_contact", msg);
		return;
	}
	b.logo = (struct slice){ NULL, 0 };   /* kept */
	if ((r = store_branding_set(api->store, &b)) < 0 || (r = store_branding_get(api->store, req->arena, &b)) < 0) {
		api__store_error(res, r, "branding");
		return;
	}
	api__audit(req, p, "branding.update",
		   arena_printf(req->arena, "service_name=%s primary_color=%s", b.service_name, b.primary_color));
	http_response_json(res, 200, branding_json(&b));
}

/* The logo's type from its first bytes: PNG or SVG, nothing else. */
static const char *logo_type(struct slice s)
{
	static const char png[] = "\x89PNG\r\n\x1a\n";
	if (s.len > 8 && !memcmp(s.p, png, 8))
		return "image/png";
	if (!utf8_valid(s.p, s.len) || memchr(s.p, 0, s.len))
		return NULL;
	struct slice head = { s.p, s.len < 4096 ? s.len : 4096 };
	for (size_t i = 0; i + 4 <= head.len; i++)
		if (!memcmp(head.p + i, "<svg", 4))
			return "image/svg+xml";
	return NULL;
}

void api_op_branding_logo_put(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	struct branding b;
	if (!p)
		return;
	if (req->body.len > LOGO_MAX) {
		http_response_error(res, 413, "too_large", "the logo must be at most 256 KiB", NULL);
		return;
	}
	const char *type = req->body.len ? logo_type(req->body) : NULL;
	if (!type) {
		http_response_error(res, 415, "unsupported_type", "the logo must be a PNG or SVG image", NULL);
		return;
	}
	int r = store_branding_get(api->store, req->arena, &b);
	if (r >= 0) {
		b.logo = req->body;
		b.logo_type = type;
		r = store_branding_set(api->store, &b);
	}
	if (r < 0 || (r = store_branding_get(api->store, req->arena, &b)) < 0) {
		api__store_error(res, r, "branding");
		return;
	}
	api__audit(req, p, "branding.logo", arena_printf(req->arena, "%s, %zu bytes", type, req->body.len));
	http_response_json(res, 200, branding_json(&b));
}

/* ---- training domains (A5) ---- */

static json_t *domain_json(const struct principal *p, const struct training_domain *d)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)d->id, "domain", d->domain, "note",
			 d->note, "spf", d->spf, "dkim", d->dkim, "dmarc", d->dmarc, "created_at",
			 api__time(p, d->created_at));
}

/* An ASCII domain name (IDNs in their xn-- form): labels of letters,
 * digits and hyphens, at least two of them. */
static bool domain_valid(const char *d)
{
	size_t n = strlen(d), label = 0, labels = 1;
	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			labels++;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   (c == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return labels >= 2 && d[n - 1] != '-';
}

static bool domain_fields(struct http_response *res, json_t *body, bool create, struct training_domain *d)
{
	static const char *const states[] = { "spf", "dkim", "dmarc" };
	const char **fields[] = { &d->spf, &d->dkim, &d->dmarc };
	const char *msg;
	if (json_get_str(body, "domain", create, 253, &d->domain, &msg) < 0 ||
	    (!domain_valid(d->domain) && (msg = "must be a domain name such as example.co.jp"))) {
		api__field_error(res, "domain", msg);
		return false;
	}
	if (json_get_str(body, "note", false, 500, &d->note, &msg) < 0) {
		api__field_error(res, "note", msg);
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(states); i++)
		if (json_get_str(body, states[i], false, 16, fields[i], &msg) < 0 ||
		    (strcmp(*fields[i], "ok") && strcmp(*fields[i], "missing") && strcmp(*fields[i], "unknown") &&
		     (msg = "must be ok, missing or unknown"))) {
			api__field_error(res, states[i], msg);
			return false;
		}
	return true;
}

/* The training domains, for the operator and (read-only) for every tenant. */
static void domains_respond(struct http_request *req, struct http_response *res, const struct principal *p)
{
	struct api *api = req->app;
	struct training_domain *d;
	size_t n;
	int r = store_domains(api->store, req->arena, &d, &n);
	if (r < 0) {
		api__store_error(res, r, "training domains");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, domain_json(p, &d[i]));
	http_response_json(res, 200, api__page(items, false, 0));
}

void api_op_domains_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth_operator(req, res, API_READ);
	if (p)
		domains_respond(req, res, p);
}

/* GET /api/v1/training-domains: the sender domains the operator offers (SPEC A5). */
void api_training_domains_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	if (p)
		domains_respond(req, res, p);
}

static bool domain_find(struct http_request *req, struct http_response *res, int64_t id,
			struct training_domain *ret)
{
	struct api *api = req->app;
	struct training_domain *d;
	size_t n;
	int r = store_domains(api->store, req->arena, &d, &n);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (d[i].id == id) {
			*ret = d[i];
			return true;
		}
	api__store_error(res, r < 0 ? r : -ENOENT, "training domain");
	return false;
}

void api_op_domains_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct training_domain d = { .note = "", .spf = "unknown", .dkim = "unknown", .dmarc = "unknown" };
	int64_t id;
	if (!body || !domain_fields(res, body, true, &d))
		return;
	int r = store_domain_add(api->store, &d, &id);
	if (r < 0) {
		api__store_error(res, r, "training domain");
		return;
	}
	if (!domain_find(req, res, id, &d))
		return;
	api__audit(req, p, "domain.create", d.domain);
	http_response_json(res, 201, domain_json(p, &d));
}

void api_op_domain_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct training_domain d;
	int64_t id;
	if (!body || !api__id(req, res, 0, &id) || !domain_find(req, res, id, &d) || !domain_fields(res, body, false, &d))
		return;
	int r = store_domain_update(api->store, &d);
	if (r < 0) {
		api__store_error(res, r, "training domain");
		return;
	}
	if (!domain_find(req, res, id, &d))
		return;
	api__audit(req, p, "domain.update",
		   arena_printf(req->arena, "%s spf=%s dkim=%s dmarc=%s", d.domain, d.spf, d.dkim, d.dmarc));
	http_response_json(res, 200, domain_json(p, &d));
}

void api_op_domain_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_operator(req, res, API_WRITE);
	struct training_domain d;
	int64_t id;
	if (!p || !api__id(req, res, 0, &id) || !domain_find(req, res, id, &d))
		return;
	int r = store_domain_delete(api->store, id);
	if (r < 0) {
		api__store_error(res, r, "training domain");
		return;
	}
	api__audit(req, p, "domain.delete", d.domain);
	http_response_json(res, 200, json_pack("{s:b}", "deleted", 1));
}

/* ---- usage of every tenant ---- */

/* One tenant's usage figures, for the operator's usage list. */
static json_t *usage_row(struct http_request *req, struct http_response *res, const struct tenant *t)
{
	json_t *j = api__tenant_json(req, res, t);
	if (!j)
		return NULL;
	json_t *u = json_object_get(j, "usage");
	json_t *out = json_pack("{s:I, s:s, s:O, s:O, s:O, s:O, s:O, s:O}", "tenant_id", (json_int_t)t->id, "name",
				t->name, "licence", json_object_get(j, "licence"), "quota", json_object_get(j, "quota"),
				"sends", json_object_get(u, "sends"), "addresses", json_object_get(u, "addresses"),
				"remaining", json_object_get(j, "remaining"), "period_end",
				json_object_get(j, "period_end"));
	json_decref(j);
	return out;
}

void api_op_usage_get(struct http_request *req, struct http_response *res)
{
	tenants_respond(req, res, usage_row);
}
