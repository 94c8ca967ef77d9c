/* profiles.c — /api/v1/sending-profiles (SPEC E7), DKIM records, usage. */
#include "api/api_int.h"
#include "api/gophish_int.h"

static json_t *profile_json(const struct principal *p, const struct sending_profile *sp)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:s, s:b, s:s, s:b, s:s, s:I, s:I, s:s, s:b, s:o}", "id",
			 (json_int_t)sp->id, "name", sp->name, "host", sp->host, "port", (json_int_t)sp->port,
			 "security",
			 smtp_security_name(sp->security), "verify_tls", sp->verify_tls, "username", sp->username,
			 "has_password", sp->password_sealed.len > 0, "helo", sp->helo, "connections",
			 (json_int_t)sp->connections, "per_connection", (json_int_t)sp->per_connection, "from_address",
			 sp->from_address ? sp->from_address : "", "shared", sp->tenant_id == 0, "created_at",
			 api__time(p, sp->created_at));
}

/* A host name or an IP address, nothing a URL could be bent with. */
static bool host_valid(const char *h)
{
	if (!h[0] || strlen(h) > 253)
		return false;
	for (const char *c = h; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '.' || *c == ':'))
			return false;
	return true;
}

/* Reads the fields of body into sp (a PATCH leaves absent ones as they are). */
static bool profile_fields(struct http_request *req, struct http_response *res, json_t *body, bool create,
			   struct sending_profile *sp)
{
	struct api *api = req->app;
	const char *msg, *sec = NULL, *password = NULL;
	if (json_get_str(body, "name", create, 200, &sp->name, &msg) < 0 ||
	    (!slice_trim(slice_from(sp->name)).len && (msg = "must not be empty"))) {
		api__field_error(res, "name", msg);
		return false;
	}
	if (json_get_str(body, "host", create, 253, &sp->host, &msg) < 0 ||
	    (!host_valid(sp->host) && (msg = "must be a host name or an IP address"))) {
		api__field_error(res, "host", msg);
		return false;
	}
	if (json_get_int(body, "port", create, 1, 65535, &sp->port, &msg) < 0) {
		api__field_error(res, "port", msg);
		return false;
	}
	if (json_get_str(body, "security", false, 20, &sec, &msg) < 0 ||
	    (sec && smtp_security_parse(sec, &sp->security) < 0 && (msg = "must be none, starttls or tls"))) {
		api__field_error(res, "security", msg);
		return false;
	}
	if (json_get_bool(body, "verify_tls", false, &sp->verify_tls, &msg) < 0) {
		api__field_error(res, "verify_tls", msg);
		return false;
	}
	if (json_get_str(body, "username", false, 256, &sp->username, &msg) < 0 ||
	    (strpbrk(sp->username, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "username", msg);
		return false;
	}
	if (json_get_str(body, "helo", false, 255, &sp->helo, &msg) < 0 ||
	    (sp->helo[0] && !host_valid(sp->helo) && (msg = "must be a host name"))) {
		api__field_error(res, "helo", msg);
		return false;
	}
	if (json_get_int(body, "connections", false, 1, 32, &sp->connections, &msg) < 0) {
		api__field_error(res, "connections", msg);
		return false;
	}
	if (json_get_int(body, "per_connection", false, 1, 100000, &sp->per_connection, &msg) < 0) {
		api__field_error(res, "per_connection", msg);
		return false;
	}
	const char *from = NULL;
	if (json_get_str(body, "from_address", false, 500, &from, &msg) < 0 ||
	    (from && !(sp->from_address = api__sender_normalise(req->arena, from)) &&
	     (msg = "must be an address: a@example.com or Name <a@example.com>"))) {
		api__field_error(res, "from_address", msg);
		return false;
	}
	if (json_get_str(body, "password", false, 1024, &password, &msg) < 0) {
		api__field_error(res, "password", msg);
		return false;
	}
	sp->password_sealed = (struct slice){ NULL, 0 };
	if (password) {
		/* "" removes the password; anything else is sealed with the server's key */
		_cleanup_buf_ struct buf sealed = BUF_INIT(4096);
		if (password[0] && secret_seal(api->key, slice_from(password), &sealed) < 0) {
			api__store_error(res, -ENOMEM, "profile");
			return false;
		}
		char *copy = arena_alloc(req->arena, sealed.len + 1);
		if (!copy) {
			api__store_error(res, -ENOMEM, "profile");
			return false;
		}
		memcpy(copy, sealed.p, sealed.len);
		sp->password_sealed = (struct slice){ copy, sealed.len };
	}
	return true;
}

void api_profiles_get(struct http_request *req, struct http_response *res)
{
	struct sending_profile *sp;
	size_t n;
	struct principal *p = api__profiles_all(req, res, &sp, &n);
	if (!p)
		return;
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, profile_json(p, &sp[i]));
	http_response_json(res, 200, api__page(items, false, 0));
}

void api_profiles_post(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct sending_profile sp = API_PROFILE_DEFAULTS;
	if (!body || !profile_fields(req, res, body, true, &sp))
		return;
	if (api__profile_store(req, res, p, true, &sp, "sending profile"))
		http_response_json(res, 201, profile_json(p, &sp));
}

/* api_int.h */
bool api__profile_load(struct http_request *req, struct http_response *res, const struct principal *p,
		       const char *what, struct sending_profile *ret)
{
	struct api *api = req->app;
	int64_t id;
	if (!api__id(req, res, 0, &id))
		return false;
	int r = store_profile_get(api->store, p->tenant.id, id, req->arena, ret);
	if (r < 0) {
		api__store_error(res, r, what);
		return false;
	}
	return true;
}

static bool profile_load(struct http_request *req, struct http_response *res, const struct principal *p,
			 struct sending_profile *ret)
{
	return api__profile_load(req, res, p, "sending profile", ret);
}

/* api_int.h */
bool api__profile_store(struct http_request *req, struct http_response *res, const struct principal *p, bool create,
			struct sending_profile *sp, const char *what)
{
	struct api *api = req->app;
	int64_t id = sp->id;
	int r;
	if (create) {
		sp->tenant_id = p->tenant.id;
		r = store_profile_create(api->store, sp, &id);
	} else {
		r = store_profile_update(api->store, p->tenant.id, id, sp);
	}
	if (r >= 0)
		r = store_profile_get(api->store, p->tenant.id, id, req->arena, sp);
	if (r < 0) {
		api__store_error(res, r, what);
		return false;
	}
	api__audit(req, p, create ? "profile.create" : "profile.update", sp->name);
	return true;
}

void api_profile_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	struct sending_profile sp;
	if (p && profile_load(req, res, p, &sp))
		http_response_json(res, 200, profile_json(p, &sp));
}

void api_profile_patch(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct sending_profile sp;
	if (!body || !profile_load(req, res, p, &sp) || !profile_fields(req, res, body, false, &sp))
		return;
	if (json_object_get(body, "password") && !sp.password_sealed.p)
		sp.password_sealed = (struct slice){ "", 0 }; /* "" given: no password any more */
	if (api__profile_store(req, res, p, false, &sp, "sending profile"))
		http_response_json(res, 200, profile_json(p, &sp));
}

void api_profile_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct sending_profile sp;
	if (!p || !profile_load(req, res, p, &sp))
		return;
	int r = store_profile_delete(api->store, p->tenant.id, sp.id);
	if (!api__delete_result(res, r, "sending profile", "a campaign that is not over uses this sending profile"))
		return;
	api__audit(req, p, "profile.delete", sp.name);
	http_response_json(res, 200, json_pack("{s:b}", "deleted", true));
}

/* api_int.h */
bool api__profile_password(struct http_request *req, struct http_response *res, const struct sending_profile *sp,
			   struct buf *ret)
{
	struct api *api = req->app;
	if (sp->password_sealed.len && secret_open(api->key, sp->password_sealed, ret) < 0) {
		http_response_error(res, 500, "sealed", "the profile's password cannot be opened with this server's key",
				    NULL);
		return false;
	}
	return true;
}

/* POST /api/v1/sending-profiles/{id}/test {to, from}: one plain mail through the profile. */
void api_profile_test(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct sending_profile sp;
	const char *to, *from = NULL, *msg;
	if (!body || !profile_load(req, res, p, &sp))
		return;
	if (json_get_str(body, "to", true, 254, &to, &msg) < 0 || (!mail_addr_valid(to) && (msg = "must be an address"))) {
		api__field_error(res, "to", msg);
		return;
	}
	if (json_get_str(body, "from", false, 254, &from, &msg) < 0 ||
	    (from && !mail_addr_valid(from) && (msg = "must be an address"))) {
		api__field_error(res, "from", msg);
		return;
	}
	_cleanup_buf_ struct buf pw = BUF_INIT(4096);
	if (!api__profile_password(req, res, &sp, &pw))
		return;
	_cleanup_free_ char *reply = NULL;
	_cleanup_free_ char *dflt = xasprintf("kunren-test@%s", api->id_domain && api->id_domain[0] ? api->id_domain
											    : "localhost");
	int r = deliver_profile_test(&sp, pw.len ? pw.p : NULL, from ? from : dflt, to, api->id_domain, &reply);
	secret_wipe(&pw);
	_cleanup_buf_ struct buf text = BUF_INIT(4096);
	struct slice sl = slice_from(reply);
	if (sl.len > 1000)
		sl.len = 1000;
	buf_put_utf8(&text, sl);
	api__audit(req, p, "profile.test", sp.name);
	http_response_json(res, 200, json_pack("{s:b, s:s}", "ok", r == 0, "reply", text.p));
}

/* GET /api/v1/dkim-keys: the DNS records to publish (public data; the keys
 * themselves are managed by the operator with `kunren dkim`). */
void api_dkim_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct dkim_key *k;
	size_t n;
	if (!p)
		return;
	int r = store_dkim_keys(api->store, req->arena, &k, &n);
	if (r < 0) {
		api__store_error(res, r, "DKIM keys");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *name = xasprintf("%s._domainkey.%s", k[i].selector, k[i].domain);
		json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)k[i].id,
						       "domain", k[i].domain, "selector", k[i].selector, "algorithm",
						       k[i].algorithm, "dns_name", name, "dns_txt", k[i].dns_txt,
						       "created_at", api__time(p, k[i].created_at)));
	}
	http_response_json(res, 200, api__page(items, false, 0));
}

/* GET /api/v1/usage: counted sends and addresses of the current period. */
void api_usage_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct usage u;
	if (!p)
		return;
	int r = store_usage_get(api->store, p->tenant.id, &u);
	if (r < 0) {
		api__store_error(res, r, "usage");
		return;
	}
	http_response_json(res, 200, json_pack("{s:o, s:I, s:I}", "period_start", api__time(p, u.period_start), "sends",
					       (json_int_t)u.sends, "addresses", (json_int_t)u.addresses));
}

/* For gophish.c: a profile's fields from a body with this file's rules. */
bool api__profile_fields(struct http_request *req, struct http_response *res, json_t *body, bool create,
			 struct sending_profile *sp)
{
	return profile_fields(req, res, body, create, sp);
}
