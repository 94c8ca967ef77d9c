/*
 * accounts.c — your account (/me: profile, password, TOTP, second factor,
 * API keys), the tenant's accounts (/users, owner only), the tenant
 * (/tenant: licence, usage, deletion request), the audit log, password
 * reset, and the public branding.  SPEC A2–A4, A6, B1–B6; docs/API.md.
 */
#include "api/api_int.h"

#include "core/csv.h"
#include "mail/mail.h"

#define AUDIT_CSV_MAX_ROWS 200000

/* ---- small readers ---- */

/* A user name: 1–64 of [A-Za-z0-9._@+-] (what people type at a login). */
bool api__username_valid(const char *u)
{
	size_t n = strlen(u);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') || (u[i] >= '0' && u[i] <= '9') ||
		      strchr("._@+-", u[i])))
			return false;
	return true;
}

/* "email": an address, or "" when allow_empty. */
static bool email_get(struct http_response *res, json_t *body, bool required, bool allow_empty, const char **ret)
{
	const char *msg;
	if (json_get_str(body, "email", required, 254, ret, &msg) < 0) {
		api__field_error(res, "email", msg);
		return false;
	}
	if (*ret && !(allow_empty && !(*ret)[0]) && !mail_addr_valid(*ret)) {
		api__field_error(res, "email", "must be a mail address such as name@example.co.jp");
		return false;
	}
	return true;
}

/* The caller's password, checked (400 field password when wrong). */
static bool password_confirmed(struct http_response *res, json_t *body, const struct principal *p)
{
	const char *pw = NULL, *msg;
	if (json_get_str(body, "password", true, 1024, &pw, &msg) < 0) {
		api__field_error(res, "password", msg);
		return false;
	}
	if (!auth_password_verify(p->acc.password_hash, pw)) {
		api__field_error(res, "password", "is not your current password");
		return false;
	}
	return true;
}

/* A copy of an account whose update keeps the TOTP secret. */
static struct account account_for_update(const struct account *acc)
{
	struct account a = *acc;
	a.totp_sealed = (struct slice){ NULL, 0 };
	if (!a.email)
		a.email = "";
	return a;
}

/* A generated password that passes the policy (shown once). */
static const char *password_generate(struct http_request *req, const char *username)
{
	char pw[21];
	for (;;) {
		id_random(pw, 20);
		if (!auth_password_problem(pw, username))
			return arena_strdup(req->arena, pw);
	}
}

/* ---- /me ---- */

void api_me_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *email = NULL, *msg;
	if (!body)
		return;
	struct account acc = account_for_update(&p->acc);
	if (!email_get(res, body, false, true, &email))
		return;
	if (email)
		acc.email = email;
	if (json_get_bool(body, "login_notify", false, &acc.login_notify, &msg) < 0) {
		api__field_error(res, "login_notify", msg);
		return;
	}
	if (!acc.email[0] && acc.second_factor == FACTOR_MAIL) {
		api__field_error(res, "email", "is needed while the second factor is a mailed code");
		return;
	}
	if (!acc.email[0] && acc.login_notify) {
		api__field_error(res, "login_notify", "needs an email address to send the notices to");
		return;
	}
	int r = store_account_update(api->store, acc.tenant_id, &acc);
	if (r < 0) {
		api__store_error(res, r, "account");
		return;
	}
	if (email && strcmp(email, p->acc.email ? p->acc.email : ""))
		api__audit(req, p, "account.email", arena_printf(req->arena, "%s: %s → %s", acc.username,
								  p->acc.email ? p->acc.email : "", email));
	if (acc.login_notify != p->acc.login_notify)
		api__audit(req, p, "account.login_notify", acc.login_notify ? "on" : "off");
	http_response_json(res, 200, json_pack("{s:o}", "user", api__user_json(p, &acc)));
}

void api_me_password(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *cur = NULL, *pw = NULL, *msg, *problem = NULL;
	if (!body)
		return;
	if (json_get_str(body, "current", true, 1024, &cur, &msg) < 0) {
		api__field_error(res, "current", msg);
		return;
	}
	if (json_get_str(body, "new", true, 1024, &pw, &msg) < 0) {
		api__field_error(res, "new", msg);
		return;
	}
	if (!auth_password_verify(p->acc.password_hash, cur)) {
		api__audit(req, p, "password.change_failed", arena_printf(req->arena, "ip=%s", req->remote_ip));
		api__field_error(res, "current", "is not your current password");
		return;
	}
	if ((problem = auth_password_problem(pw, p->acc.username))) {
		api__field_error(res, "new", problem);
		return;
	}
	_cleanup_free_ char *hash = NULL;
	int r = auth_password_hash(pw, &hash);
	if (r >= 0)
		r = store_account_set_password(api->store, p->acc.id, hash, now_unix());
	/* every other session ends: whoever knew the old password is out */
	if (r >= 0)
		r = store_sessions_delete_account(api->store, p->acc.id, p->session_id);
	if (r < 0) {
		api__store_error(res, r, "password");
		return;
	}
	api__audit(req, p, "password.change", arena_printf(req->arena, "ip=%s", req->remote_ip));
	http_response_json(res, 200, json_pack("{s:b}", "changed", 1));
}

void api_me_totp(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	if (!body || !password_confirmed(res, body, p))
		return;
	if (p->acc.second_factor == FACTOR_TOTP) {
		http_response_error(res, 409, "totp_active",
				    "an authenticator app is set up already; switch the second factor to none or mail "
				    "first (POST /me/second-factor) to set up another one",
				    NULL);
		return;
	}
	unsigned char key[AUTH_TOTP_KEY_LEN];
	random_bytes(key, sizeof(key));
	_cleanup_buf_ struct buf sealed = BUF_INIT(4096), secret = BUF_INIT(256), svg = BUF_INIT(1 << 20);
	_cleanup_free_ char *uri = NULL;
	int r = secret_seal(api->key, (struct slice){ (const char *)key, sizeof(key) }, &sealed);
	if (r >= 0)
		r = auth_base32_encode(&secret, key, sizeof(key));
	if (r >= 0) {
		uri = auth_totp_uri(api__service_name(req), p->acc.username, key, sizeof(key));
		r = uri ? auth_qr_svg(&svg, uri) : -ENOMEM;
	}
	explicit_bzero(key, sizeof(key));
	struct account acc = account_for_update(&p->acc);
	if (r >= 0) {
		/* kept, not active: POST /me/totp/confirm turns it on */
		char *copy = arena_alloc(req->arena, sealed.len + 1);
		if (!copy) {
			r = -ENOMEM;
		} else {
			memcpy(copy, sealed.p, sealed.len);
			acc.totp_sealed = (struct slice){ copy, sealed.len };
			r = store_account_update(api->store, acc.tenant_id, &acc);
		}
	}
	if (r < 0) {
		secret_wipe(&secret);
		api__store_error(res, r, "TOTP secret");
		return;
	}
	http_response_json(res, 200, json_pack("{s:s, s:s, s:s}", "secret", secret.p, "uri", uri, "qr_svg", svg.p));
	secret_wipe(&secret);
	explicit_bzero(uri, strlen(uri));
}

void api_me_totp_confirm(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *code = NULL, *msg;
	int64_t step;
	if (!body)
		return;
	if (json_get_str(body, "code", true, 16, &code, &msg) < 0) {
		api__field_error(res, "code", msg);
		return;
	}
	if (!p->acc.totp_sealed.len) {
		http_response_error(res, 409, "no_totp_secret", "start with POST /me/totp to get a secret first", NULL);
		return;
	}
	_cleanup_buf_ struct buf key = BUF_INIT(256);
	int r = secret_open(api->key, p->acc.totp_sealed, &key);
	if (r < 0) {
		http_response_error(res, 500, "sealed", "the TOTP secret cannot be opened with this server's key", NULL);
		return;
	}
	bool ok = auth_totp_verify((const unsigned char *)key.p, key.len, code, now_unix(), &step);
	secret_wipe(&key);
	if (!ok) {
		api__field_error(res, "code", "is not the app's current code (check the device's clock)");
		return;
	}
	r = store_account_totp_step(api->store, p->acc.id, step);
	if (r == -EALREADY) {
		api__field_error(res, "code", "was used already; wait for the next one");
		return;
	}
	struct account acc = account_for_update(&p->acc);
	acc.second_factor = FACTOR_TOTP;
	if (r >= 0)
		r = store_account_update(api->store, acc.tenant_id, &acc);
	if (r < 0) {
		api__store_error(res, r, "account");
		return;
	}
	api__audit(req, p, "second_factor.change",
		   arena_printf(req->arena, "%s → totp", second_factor_name(p->acc.second_factor)));
	http_response_json(res, 200, json_pack("{s:o}", "user", api__user_json(p, &acc)));
}

void api_me_second_factor(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *name = NULL, *msg;
	enum second_factor f;
	if (!body)
		return;
	if (json_get_str(body, "second_factor", true, 16, &name, &msg) < 0 ||
	    ((second_factor_parse(name, &f) < 0 || f == FACTOR_TOTP) &&
	     (msg = "must be none or mail (an authenticator app is set up with POST /me/totp)"))) {
		api__field_error(res, "second_factor", msg);
		return;
	}
	if (!password_confirmed(res, body, p))
		return;
	if (f == FACTOR_MAIL && (!p->acc.email || !p->acc.email[0])) {
		api__field_error(res, "second_factor", "mail needs an email address on the account (PATCH /me)");
		return;
	}
	struct account acc = account_for_update(&p->acc);
	acc.second_factor = f;
	acc.totp_sealed = (struct slice){ "", 0 };  /* an app's secret is forgotten */
	int r = store_account_update(api->store, acc.tenant_id, &acc);
	if (r < 0) {
		api__store_error(res, r, "account");
		return;
	}
	api__audit(req, p, "second_factor.change",
		   arena_printf(req->arena, "%s → %s", second_factor_name(p->acc.second_factor), second_factor_name(f)));
	http_response_json(res, 200, json_pack("{s:o}", "user", api__user_json(p, &acc)));
}

/* ---- /me/api-keys ---- */

static json_t *key_json(const struct principal *p, const struct api_key_info *k)
{
	return json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)k->id, "label", k->label, "created_at",
			 api__time(p, k->created_at), "last_used_at", api__time(p, k->last_used_at));
}

void api_me_keys_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_READ);
	struct api_key_info *k;
	size_t n;
	if (!p)
		return;
	int r = store_api_keys(api->store, p->acc.id, req->arena, &k, &n);
	if (r < 0) {
		api__store_error(res, r, "API keys");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, key_json(p, &k[i]));
	api__page_all(req, res, items, "id", false);
}

void api_me_keys_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *label = "", *key, *msg;
	struct api_key_info *k;
	size_t n;
	if (!body)
		return;
	if (json_get_str(body, "label", false, 100, &label, &msg) < 0 ||
	    (strpbrk(label, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "label", msg);
		return;
	}
	int r = auth_api_key_create(api->store, p->acc.id, label, NULL, req->arena, &key);
	/* the new key is the account's newest (ids only grow) */
	if (r >= 0)
		r = store_api_keys(api->store, p->acc.id, req->arena, &k, &n);
	if (r >= 0 && n == 0)
		r = -EIO;
	if (r < 0) {
		api__store_error(res, r, "API key");
		return;
	}
	const struct api_key_info *newest = &k[0];
	for (size_t i = 1; i < n; i++)
		if (k[i].id > newest->id)
			newest = &k[i];
	api__audit(req, p, "api_key.create", arena_printf(req->arena, "id=%lld label=%s", (long long)newest->id, label));
	http_response_json(res, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)newest->id, "label", label, "key",
					       key));
}

void api_me_key_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_self(req, res, API_WRITE);
	int64_t id;
	if (!p || !api__id(req, res, 0, &id))
		return;
	int r = store_api_key_delete(api->store, p->acc.id, id);
	if (r < 0) {
		api__store_error(res, r, "API key");
		return;
	}
	api__audit(req, p, "api_key.delete", arena_printf(req->arena, "id=%lld", (long long)id));
	http_response_json(res, 200, json_pack("{s:b}", "deleted", 1));
}

/* ---- /users: the tenant's accounts (owner only) ---- */

void api_users_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_owner(req, res, API_READ);
	struct account *acc;
	size_t n;
	if (!p)
		return;
	int r = store_accounts(api->store, p->tenant.id, req->arena, &acc, &n);
	if (r < 0) {
		api__store_error(res, r, "accounts");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, api__user_json(p, &acc[i]));
	api__page_all(req, res, items, "id", false);
}

void api_users_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_owner(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *username = NULL, *email = NULL, *rname = NULL, *pw = NULL, *msg, *problem = NULL;
	enum role role;
	int64_t id;
	if (!body)
		return;
	if (json_get_str(body, "username", true, 64, &username, &msg) < 0 ||
	    (!api__username_valid(username) && (msg = "must be 1 to 64 of A-Z a-z 0-9 . _ @ + -"))) {
		api__field_error(res, "username", msg);
		return;
	}
	if (!email_get(res, body, true, false, &email))
		return;
	if (json_get_str(body, "role", true, 16, &rname, &msg) < 0 ||
	    ((role_parse(rname, &role) < 0 || (role != ROLE_FULL && role != ROLE_READONLY)) &&
	     (msg = "must be full or readonly"))) {
		api__field_error(res, "role", msg);
		return;
	}
	if (json_get_str(body, "password", false, 1024, &pw, &msg) < 0 ||
	    (pw && (problem = auth_password_problem(pw, username)) && (msg = problem))) {
		api__field_error(res, "password", msg);
		return;
	}
	const char *generated = pw ? NULL : password_generate(req, username);
	_cleanup_free_ char *hash = NULL;
	int r = auth_password_hash(pw ? pw : generated, &hash);
	if (r >= 0)
		r = store_account_create(api->store, p->tenant.id, username, hash, role, &id);
	if (r == -EEXIST) {
		json_t *d = json_pack("[{s:s, s:s}]", "field", "username", "message", "is taken");
		http_response_error(res, 409, "exists", "username: is taken; choose another one", d);
		return;
	}
	struct account acc;
	if (r >= 0)
		r = store_account_get(api->store, id, req->arena, &acc);
	if (r >= 0) {
		acc = account_for_update(&acc);
		acc.email = email;
		r = store_account_update(api->store, p->tenant.id, &acc);
	}
	if (r < 0) {
		api__store_error(res, r, "account");
		return;
	}
	api__audit(req, p, "user.create", arena_printf(req->arena, "%s (%s) %s", username, role_name(role), email));
	http_response_json(res, 201, json_pack("{s:o, s:o}", "user", api__user_json(p, &acc), "password",
					       generated ? json_string(generated) : json_null()));
}

/* The account of params[0] in the caller's tenant (404 otherwise). */
static bool user_load(struct http_request *req, struct http_response *res, const struct principal *p,
		      struct account *ret)
{
	struct api *api = req->app;
	int64_t id;
	if (!api__id(req, res, 0, &id))
		return false;
	int r = store_account_get(api->store, id, req->arena, ret);
	if (r == 0 && ret->tenant_id != p->tenant.id)
		r = -ENOENT;
	if (r < 0) {
		api__store_error(res, r, "account");
		return false;
	}
	return true;
}

void api_user_patch(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_owner(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	const char *rname = NULL, *email = NULL, *msg;
	struct account old;
	if (!body || !user_load(req, res, p, &old))
		return;
	struct account acc = account_for_update(&old);
	if (json_get_str(body, "role", false, 16, &rname, &msg) < 0 ||
	    (rname && (role_parse(rname, &acc.role) < 0 || acc.role == ROLE_OPERATOR) &&
	     (msg = "must be owner, full or readonly"))) {
		api__field_error(res, "role", msg);
		return;
	}
	if (acc.role != old.role && old.id == p->acc.id) {
		api__field_error(res, "role", "you cannot change your own role; another owner can");
		return;
	}
	if (!email_get(res, body, false, true, &email))
		return;
	if (email)
		acc.email = email;
	if (!acc.email[0] && (acc.second_factor == FACTOR_MAIL || acc.login_notify)) {
		api__field_error(res, "email", "is needed: the account gets login codes or notices by mail");
		return;
	}
	int r = store_account_update(api->store, p->tenant.id, &acc);
	if (r < 0) {
		api__store_error(res, r, "account");
		return;
	}
	if (acc.role != old.role)
		api__audit(req, p, "user.role", arena_printf(req->arena, "%s: %s → %s", acc.username, role_name(old.role),
							     role_name(acc.role)));
	if (strcmp(acc.email, old.email ? old.email : ""))
		api__audit(req, p, "user.email",
			   arena_printf(req->arena, "%s: %s → %s", acc.username, old.email ? old.email : "", acc.email));
	http_response_json(res, 200, json_pack("{s:o}", "user", api__user_json(p, &acc)));
}

void api_user_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_owner(req, res, API_WRITE);
	struct account acc, *all;
	size_t n, owners = 0;
	if (!p || !user_load(req, res, p, &acc))
		return;
	if (acc.id == p->acc.id) {
		http_response_error(res, 409, "self", "you cannot delete your own account", NULL);
		return;
	}
	int r = store_accounts(api->store, p->tenant.id, req->arena, &all, &n);
	for (size_t i = 0; r >= 0 && i < n; i++)
		owners += all[i].role == ROLE_OWNER;
	if (r >= 0 && acc.role == ROLE_OWNER && owners <= 1) {
		http_response_error(res, 409, "last_owner", "the tenant's last owner cannot be deleted", NULL);
		return;
	}
	if (r >= 0)
		r = store_account_delete(api->store, p->tenant.id, acc.id);
	if (r < 0) {
		api__store_error(res, r, "account");
		return;
	}
	api__audit(req, p, "user.delete", arena_printf(req->arena, "%s (%s)", acc.username, role_name(acc.role)));
	http_response_json(res, 200, json_pack("{s:b}", "deleted", 1));
}

/* ---- /tenant ---- */

void api_tenant_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	json_t *j = p ? api__tenant_json(req, res, &p->tenant) : NULL;
	if (j)
		http_response_json(res, 200, j);
}

/* Unix time of 00:00 of the day after c in zone z. */
static int64_t day_after_midnight(const struct tz *z, const struct civil *c)
{
	struct civil d = { .year = c->year, .month = c->month, .day = c->day };
	int64_t local = unix_from_civil(&d) + 86400;
	int64_t t = local - tz_offset(z, local);
	return local - tz_offset(z, t);
}

void api_tenant_deletion_post(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_owner(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct civil c;
	bool found;
	if (!body || !api__date(res, body, "date", &c, &found))
		return;
	if (!found) {
		api__field_error(res, "date", "is required");
		return;
	}
	struct tenant t = p->tenant;
	t.delete_at = day_after_midnight(p->zone, &c);
	if (t.delete_at <= now_unix()) {
		api__field_error(res, "date", "must be today or later");
		return;
	}
	if (t.period_end && t.delete_at > t.period_end + 1) {
		api__field_error(res, "date", "must not be after the end of the service period (the data goes then anyway)");
		return;
	}
	int r = store_tenant_update(api->store, &t);
	json_t *j = r < 0 ? NULL : api__tenant_json(req, res, &t);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return;
	}
	if (!j)
		return;
	api__audit(req, p, "tenant.deletion_requested",
		   arena_printf(req->arena, "every row and file of the tenant is deleted after %04d-%02d-%02d", c.year,
				c.month, c.day));
	http_response_json(res, 200, j);
}

void api_tenant_deletion_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth_owner(req, res, API_WRITE);
	if (!p)
		return;
	struct tenant t = p->tenant;
	t.delete_at = 0;
	int r = store_tenant_update(api->store, &t);
	if (r < 0) {
		api__store_error(res, r, "tenant");
		return;
	}
	json_t *j = api__tenant_json(req, res, &t);
	if (!j)
		return;
	api__audit(req, p, "tenant.deletion_withdrawn", "");
	http_response_json(res, 200, j);
}

/* ---- /audit ---- */

static bool audit_query(struct http_request *req, struct http_response *res, int64_t *ret_before, size_t *ret_limit)
{
	const char *b = http_query(req, "before"), *l = http_query(req, "limit");
	int64_t before = 0, limit = 100;
	if (b && slice_to_i64(slice_from(b), 0, INT64_MAX, &before) < 0) {
		api__field_error(res, "before", "must be an id");
		return false;
	}
	if (l && slice_to_i64(slice_from(l), 1, 500, &limit) < 0) {
		api__field_error(res, "limit", "must be a whole number from 1 to 500");
		return false;
	}
	*ret_before = before;
	*ret_limit = (size_t)limit;
	return true;
}

/* Shared with the operator's GET /operator/audit (tenant_id -1: all). */
static void audit_page(struct http_request *req, struct http_response *res, const struct principal *p,
		       int64_t tenant_id)
{
	struct api *api = req->app;
	struct audit_entry *e;
	size_t n, limit;
	int64_t before;
	if (!audit_query(req, res, &before, &limit))
		return;
	int r = store_audit(api->store, tenant_id, before, limit, req->arena, &e, &n);
	if (r < 0) {
		api__store_error(res, r, "audit log");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_pack("{s:I, s:o, s:s, s:s, s:s}", "id", (json_int_t)e[i].id, "at", api__time(p, e[i].at),
				      "username", e[i].username ? e[i].username : "", "action", e[i].action, "detail",
				      e[i].detail ? e[i].detail : "");
		if (tenant_id < 0) {
			json_object_set_new(j, "tenant_id", e[i].tenant_id ? json_integer(e[i].tenant_id) : json_null());
			json_object_set_new(j, "tenant_name", json_string(e[i].tenant_name ? e[i].tenant_name : ""));
		}
		json_array_append_new(items, j);
	}
	http_response_json(res, 200, json_pack("{s:o, s:o}", "items", items, "next_before",
					       n == limit && n ? json_integer(e[n - 1].id) : json_null()));
}

void api_audit_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth(req, res, API_READ);
	if (p)
		audit_page(req, res, p, p->tenant.id);
}

void api_op_audit_get(struct http_request *req, struct http_response *res)
{
	struct principal *p = api__auth_operator(req, res, API_READ);
	if (p)
		audit_page(req, res, p, -1);
}

void api_audit_csv(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	enum csv_encoding enc;
	if (!p)
		return;
	if (csv_encoding_parse(http_query(req, "encoding"), &enc) < 0) {
		api__field_error(res, "encoding", "must be utf8 or cp932");
		return;
	}
	_cleanup_buf_ struct buf text = BUF_INIT((size_t)256 << 20), out = BUF_INIT((size_t)256 << 20);
	buf_puts(&text, "日時,ユーザー,操作,詳細\r\n");
	int64_t before = 0;
	size_t rows = 0;
	int r = 0;
	for (;;) {
		struct arena *a = arena_new(0);
		struct audit_entry *e;
		size_t n;
		r = store_audit(api->store, p->tenant.id, before, 500, a, &e, &n);
		for (size_t i = 0; r >= 0 && i < n; i++) {
			tz_put_csv_time(&text, p->zone, e[i].at);
			buf_putc(&text, ',');
			buf_put_csv(&text, slice_from(e[i].username));
			buf_putc(&text, ',');
			buf_put_csv(&text, slice_from(e[i].action));
			buf_putc(&text, ',');
			buf_put_csv(&text, slice_from(e[i].detail));
			r = buf_puts(&text, "\r\n");
			before = e[i].id;
		}
		arena_free(a);
		rows += r >= 0 ? n : 0;
		if (r < 0 || n < 500 || rows >= AUDIT_CSV_MAX_ROWS)
			break;
	}
	if (r >= 0)
		r = csv_encode(buf_slice(&text), enc, &out);
	if (r < 0) {
		api__store_error(res, r, "audit log");
		return;
	}
	api__audit(req, p, "audit.export", arena_printf(req->arena, "%zu entries", rows));
	api__send_file(req, res, enc == CSV_CP932 ? "text/csv; charset=Shift_JIS" : "text/csv; charset=utf-8",
		       "監査ログ.csv", &out);
}

/* ---- password reset (SPEC B4): the same answer whoever asks ---- */

void api_reset_begin(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	json_auto_t *body = api__body(req, res);
	const char *user = NULL, *token, *msg;
	struct account acc;
	if (!body)
		return;
	if (json_get_str(body, "username", true, 128, &user, &msg) < 0) {
		api__field_error(res, "username", msg);
		return;
	}
	int r = auth_reset_begin(api->store, &api->policy, user, req->arena, &acc, &token);
	if (r == 0) {
		const char *svc = api__service_name(req);
		const char *link = arena_printf(req->arena, "%s/#/reset/%s", api__base_url(api), token);
		const char *subject = arena_printf(req->arena, "%s パスワードの再設定 / password reset", svc);
		const char *text = arena_printf(req->arena,
						"%s のアカウント %s のパスワード再設定が依頼されました。\n"
						"次のリンクを開いて新しいパスワードを設定してください(1時間有効、1回限り)。\n\n"
						"%s\n\n"
						"心当たりがない場合は、このメールを無視してください。パスワードは変わりません。\n\n"
						"----\n\n"
						"Someone asked to reset the password of your %s account %s.\n"
						"Open this link to choose a new one (valid for 1 hour, once):\n\n"
						"%s\n\n"
						"If this was not you, ignore this mail: your password stays as it is.\n",
						svc, acc.username, link, svc, acc.username, link);
		/* queued: the answer comes as fast for an unknown name */
		api__notice_later(req, acc.email, subject, text);
		api__audit_as(req, acc.tenant_id, acc.id, "password.reset_requested",
			      arena_printf(req->arena, "ip=%s", req->remote_ip));
	} else if (r != -ENOENT) {
		log_error("api: password reset: %s", strerror(-r));
	}
	http_response_json(res, 202, json_pack("{s:b}", "sent", 1));
}

void api_reset_finish(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	json_auto_t *body = api__body(req, res);
	const char *token = NULL, *pw = NULL, *msg, *problem = NULL;
	if (!body)
		return;
	if (json_get_str(body, "token", true, 256, &token, &msg) < 0) {
		api__field_error(res, "token", msg);
		return;
	}
	if (json_get_str(body, "password", true, 1024, &pw, &msg) < 0) {
		api__field_error(res, "password", msg);
		return;
	}
	/* whose it is, for the audit log (the token is used up below) */
	unsigned char hash[STORE_HASH_LEN];
	struct challenge ch;
	struct account acc;
	auth_secret_hash(token, hash);
	bool known = store_challenge_find(api->store, hash, &ch) == 0 && ch.kind == CHALLENGE_RESET &&
		     store_account_get(api->store, ch.account_id, req->arena, &acc) == 0;

	int r = auth_reset_finish(api->store, token, pw, &problem);
	if (r == -EINVAL) {
		api__field_error(res, "password", problem ? problem : "is not acceptable");
		return;
	}
	if (r == -EACCES) {
		api__field_error(res, "token", "the link is unknown, used or expired; ask for a new one");
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "password reset");
		return;
	}
	if (known)
		api__audit_as(req, acc.tenant_id, acc.id, "password.reset",
			      arena_printf(req->arena, "%s ip=%s; every session ended", acc.username, req->remote_ip));
	http_response_json(res, 200, json_pack("{s:b}", "done", 1));
}

/* ---- branding (public: the login page shows it) ---- */

void api_branding_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct branding b;
	int r = store_branding_get(api->store, req->arena, &b);
	if (r < 0) {
		api__store_error(res, r, "branding");
		return;
	}
	http_response_json(res, 200, json_pack("{s:s, s:s, s:s, s:b}", "service_name", b.service_name, "primary_color",
					       b.primary_color, "support_contact", b.support_contact, "has_logo",
					       b.logo.len > 0));
}

void api_branding_logo_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct branding b;
	int r = store_branding_get(api->store, req->arena, &b);
	if (r < 0) {
		api__store_error(res, r, "branding");
		return;
	}
	if (!b.logo.len) {
		http_response_error(res, 404, "not_found", "no logo has been uploaded", NULL);
		return;
	}
	/* an SVG opened on its own must not run anything */
	http_response_header(req, res, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
	http_response_header(req, res, "Cache-Control", "no-cache");
	http_response_text(res, 200, b.logo_type, b.logo);
}
