/*
 * reporting.c — 報告 (SPEC F1 beyond, G1, G8): the tenant's report mailbox
 * (/api/v1/report-mailbox), the poller that turns forwarded drill mails in
 * it into 報告 events, and a campaign's report figures.
 * See docs/internals/REPORTING.md.
 */
#include "core/ticker.h"
#include "api/api_int.h"
#include "mail/mail.h"
#include "track/track.h"

#include <pthread.h>

#define POLL_MAX_MAILS 500  /* unseen mails read per mailbox and pass; the rest next time */
#define POLL_BUDGET_MS 60000 /* per mailbox and pass: one slow server cannot hold up the others */
#define POLL_TIMEOUT 30      /* seconds per IMAP command */
#define TEST_PER_MINUTE 10   /* /report-mailbox/test per tenant */

/* ---- the mailbox resource ---- */

static json_t *mailbox_json(const struct principal *p, const struct report_mailbox *m)
{
	return json_pack("{s:s, s:I, s:s, s:b, s:s, s:b, s:s, s:b, s:o, s:s, s:I, s:I, s:o}", "host", m->host, "port",
			 (json_int_t)m->port, "security", smtp_security_name(m->security), "verify_tls", m->verify_tls,
			 "username", m->username, "has_password", m->password_sealed.len > 0, "folder", m->folder,
			 "enabled", m->enabled, "last_poll_at", api__time(p, m->last_poll_at), "last_error",
			 m->last_error, "last_reported", (json_int_t)m->last_reported, "last_ignored",
			 (json_int_t)m->last_ignored, "updated_at", api__time(p, m->updated_at));
}

void api_report_mailbox_get(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_READ);
	struct report_mailbox m;
	if (!p)
		return;
	int r = store_report_mailbox_get(api->store, p->tenant.id, req->arena, &m);
	if (r == -ENOENT) {
		http_response_json(res, 200, json_pack("{s:n}", "mailbox"));
		return;
	}
	if (r < 0) {
		api__store_error(res, r, "report mailbox");
		return;
	}
	http_response_json(res, 200, json_pack("{s:o}", "mailbox", mailbox_json(p, &m)));
}

/* Reads body into m (PUT: every field but the password may be given; host
 * and port are required, the rest keeps m's values). */
static bool mailbox_fields(struct http_request *req, struct http_response *res, json_t *body,
			   struct report_mailbox *m)
{
	struct api *api = req->app;
	const char *msg, *sec = NULL, *password = NULL;
	if (json_get_str(body, "host", true, 253, &m->host, &msg) < 0 ||
	    (!mail_imap_host_valid(m->host) && (msg = "must be a host name or an IP address"))) {
		api__field_error(res, "host", msg);
		return false;
	}
	if (json_get_int(body, "port", true, 1, 65535, &m->port, &msg) < 0) {
		api__field_error(res, "port", msg);
		return false;
	}
	if (json_get_str(body, "security", false, 20, &sec, &msg) < 0 ||
	    (sec && smtp_security_parse(sec, &m->security) < 0 && (msg = "must be none, starttls or tls"))) {
		api__field_error(res, "security", msg);
		return false;
	}
	if (m->security == SMTP_SECURITY_NONE && !api->cfg->report_imap_allow_plain) {
		api__field_error(res, "security", "none is not allowed on this server (report_imap_allow_plain); "
						  "use starttls or tls");
		return false;
	}
	if (json_get_bool(body, "verify_tls", false, &m->verify_tls, &msg) < 0) {
		api__field_error(res, "verify_tls", msg);
		return false;
	}
	if (json_get_str(body, "username", false, 256, &m->username, &msg) < 0 ||
	    (strpbrk(m->username, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "username", msg);
		return false;
	}
	if (json_get_str(body, "folder", false, 200, &m->folder, &msg) < 0 ||
	    (!mail_imap_folder_valid(m->folder) &&
	     (msg = "must be 1 to 200 printable ASCII characters without \" \\ * %"))) {
		api__field_error(res, "folder", msg);
		return false;
	}
	if (json_get_bool(body, "enabled", false, &m->enabled, &msg) < 0) {
		api__field_error(res, "enabled", msg);
		return false;
	}
	if (json_get_str(body, "password", false, 1024, &password, &msg) < 0 ||
	    (password && strpbrk(password, "\r\n") && (msg = "must be one line"))) {
		api__field_error(res, "password", msg);
		return false;
	}
	m->password_sealed = (struct slice){ NULL, 0 };
	if (password) {
		/* "" removes the password; anything else is sealed with the server's key */
		_cleanup_buf_ struct buf sealed = BUF_INIT(4096);
		if (password[0] && secret_seal(api->key, slice_from(password), &sealed) < 0) {
			api__store_error(res, -ENOMEM, "report mailbox");
			return false;
		}
		char *copy = arena_alloc(req->arena, sealed.len + 1);
		if (!copy) {
			api__store_error(res, -ENOMEM, "report mailbox");
			return false;
		}
		memcpy(copy, sealed.p, sealed.len);
		m->password_sealed = (struct slice){ copy, sealed.len };
	}
	return true;
}

/* PUT /api/v1/report-mailbox: creates or replaces the settings. */
void api_report_mailbox_put(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	json_auto_t *body = p ? api__body(req, res) : NULL;
	struct report_mailbox m;
	if (!body)
		return;
	if (store_report_mailbox_get(api->store, p->tenant.id, req->arena, &m) < 0)
		m = (struct report_mailbox){ .security = SMTP_SECURITY_TLS, .verify_tls = true, .username = "",
					     .folder = "INBOX", .enabled = true };
	struct report_mailbox old = m;
	if (!mailbox_fields(req, res, body, &m))
		return;
	m.tenant_id = p->tenant.id;
	json_t *pw = json_object_get(body, "password");
	if (pw && !m.password_sealed.p)
		m.password_sealed = (struct slice){ "", 0 }; /* "" given: no password any more */
	/* The stored password goes only where it was entered for: a changed
	 * server, port, security, certificate check or user name without a
	 * new password clears it (else anyone with write access could send it
	 * to a server of their own). */
	bool cleared = false;
	if (!pw && old.password_sealed.len &&
	    (strcmp(old.host, m.host) || old.port != m.port || old.security != m.security ||
	     old.verify_tls != m.verify_tls || strcmp(old.username, m.username))) {
		m.password_sealed = (struct slice){ "", 0 };
		cleared = true;
	}
	int r = store_report_mailbox_set(api->store, &m, now_unix());
	if (r >= 0)
		r = store_report_mailbox_get(api->store, p->tenant.id, req->arena, &m);
	if (r < 0) {
		api__store_error(res, r, "report mailbox");
		return;
	}
	api__audit(req, p, "report_mailbox.update", arena_printf(req->arena, "%s@%s:%lld/%s", m.username, m.host,
								  (long long)m.port, m.folder));
	http_response_json(res, 200, json_pack("{s:o, s:b}", "mailbox", mailbox_json(p, &m), "password_cleared",
					       cleared));
}

void api_report_mailbox_delete(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	if (!p)
		return;
	int r = store_report_mailbox_delete(api->store, p->tenant.id);
	if (r < 0) {
		api__store_error(res, r, "report mailbox");
		return;
	}
	api__audit(req, p, "report_mailbox.delete", "");
	http_response_json(res, 200, json_pack("{s:b}", "deleted", true));
}

static enum mail_imap_security imap_security(enum smtp_security s)
{
	return s == SMTP_SECURITY_NONE ? MAIL_IMAP_NONE : s == SMTP_SECURITY_STARTTLS ? MAIL_IMAP_STARTTLS
										  : MAIL_IMAP_TLS;
}

static bool poller_stopping(void *ctx);

/* A connection to m's folder; *ret_err (static or m's error) says why not.
 * p: the poller, whose stop cuts its IMAP commands; NULL for a test. */
static int mailbox_open(const struct report_mailbox *m, const struct secret_key *key, const struct config *cfg,
			long timeout, struct api_report_poller *p, struct mail_imap **ret, const char **ret_err)
{
	if (m->security == SMTP_SECURITY_NONE && !cfg->report_imap_allow_plain) {
		*ret_err = "security none is not allowed on this server; use starttls or tls";
		return -EPERM;
	}
	_cleanup_buf_ struct buf pw = BUF_INIT(4096);
	if (m->password_sealed.len && secret_open(key, m->password_sealed, &pw) < 0) {
		*ret_err = "the password cannot be opened with this server's key";
		return -EKEYREJECTED;
	}
	struct mail_imap_options o = {
		.host = m->host, .port = (int)m->port, .security = imap_security(m->security),
		.verify_tls = m->verify_tls, .user = m->username, .password = pw.len ? pw.p : NULL,
		.folder = m->folder, .timeout_seconds = timeout, .allow_private = cfg->report_imap_allow_private,
		.cancelled = p ? poller_stopping : NULL, .cancel_ctx = p,
	};
	int r = mail_imap_new(&o, ret);
	secret_wipe(&pw);
	if (r < 0)
		*ret_err = "the settings are not usable (host, port or folder)";
	return r;
}

static const char *imap_failure(int r)
{
	return r == -EACCES ? "login refused" : r == -ECONNREFUSED ? "connection refused"
		: r == -EHOSTUNREACH ? "host not found" : r == -ETIMEDOUT ? "timed out"
		: r == -EPROTO ? "TLS failed"
		: r == -EKEYREJECTED ? "TLS certificate not trusted (or verify_tls off)"
		: r == -ENOENT ? "no such folder"
		: r == -EPERM ? "the address is not allowed (loopback, private or link-local)"
		: r == -E2BIG ? "answer too large" : "IMAP error";
}

/* /report-mailbox/test makes this server connect where a tenant says: one
 * at a time per tenant and TEST_PER_MINUTE a minute, so it cannot be used
 * to scan.  A small table; a tenant pushed out of it merely starts afresh. */
#define TEST_SLOTS 64
static struct {
	pthread_mutex_t mu;
	struct { int64_t tenant_id, minute; int count; bool busy; } slot[TEST_SLOTS];
} tests = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int test_begin(int64_t tenant_id)
{
	int64_t minute = now_unix() / 60;
	int r = 0;
	pthread_mutex_lock(&tests.mu);
	size_t k = (size_t)tenant_id % TEST_SLOTS;
	if (tests.slot[k].tenant_id != tenant_id && !tests.slot[k].busy)
		tests.slot[k].tenant_id = tenant_id, tests.slot[k].minute = 0, tests.slot[k].count = 0;
	if (tests.slot[k].tenant_id != tenant_id || tests.slot[k].busy) {
		r = -EBUSY;
	} else {
		if (tests.slot[k].minute != minute)
			tests.slot[k].minute = minute, tests.slot[k].count = 0;
		if (tests.slot[k].count >= TEST_PER_MINUTE)
			r = -EAGAIN;
		else
			tests.slot[k].count++, tests.slot[k].busy = true;
	}
	pthread_mutex_unlock(&tests.mu);
	return r;
}

static void test_end(int64_t tenant_id)
{
	pthread_mutex_lock(&tests.mu);
	size_t k = (size_t)tenant_id % TEST_SLOTS;
	if (tests.slot[k].tenant_id == tenant_id)
		tests.slot[k].busy = false;
	pthread_mutex_unlock(&tests.mu);
}

/* POST /api/v1/report-mailbox/test: logs in and selects the folder.  The
 * answer says what kind of failure it was, never the server's or
 * libcurl's own text (addresses, ports, banners): that goes to the log. */
void api_report_mailbox_test(struct http_request *req, struct http_response *res)
{
	struct api *api = req->app;
	struct principal *p = api__auth(req, res, API_WRITE);
	struct report_mailbox m;
	if (!p)
		return;
	int r = store_report_mailbox_get(api->store, p->tenant.id, req->arena, &m);
	if (r < 0) {
		api__store_error(res, r, "report mailbox");
		return;
	}
	if ((r = test_begin(p->tenant.id)) < 0) {
		http_response_error(res, 429, "throttled",
				    r == -EBUSY ? "a test of this mailbox is running; try again when it is done"
						: "too many tests of the report mailbox; try again in a minute",
				    NULL);
		return;
	}
	struct mail_imap *imap = NULL;
	const char *err = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	if ((r = mailbox_open(&m, api->key, api->cfg, 20, NULL, &imap, &err)) >= 0 && (r = mail_imap_check(imap)) >= 0)
		r = mail_imap_unseen(imap, SIZE_MAX, &uids, &n);
	test_end(p->tenant.id);
	free(uids);
	const char *text = r >= 0 ? "" : err ? err : imap_failure(r);
	if (r < 0 && imap)
		log_info("report mailbox test of tenant %lld: %s: %s", (long long)p->tenant.id, text,
			 mail_imap_error(imap));
	mail_imap_free(imap);
	api__audit(req, p, "report_mailbox.test", r >= 0 ? "ok" : text);
	http_response_json(res, 200, json_pack("{s:b, s:s, s:o}", "ok", r >= 0, "error", text, "unseen",
					       r >= 0 ? json_integer((json_int_t)n) : json_null()));
}

/* ---- report figures ---- */

json_t *api__report_figures_json(struct http_request *req, const struct principal *p, const struct campaign *c)
{
	struct api *api = req->app;
	struct report_figures f;
	int r = store_campaign_report_figures(api->store, p->tenant.id, c->id, req->arena, &f);
	if (r < 0) {
		log_error("api: report figures of campaign %lld: %s", (long long)c->id, strerror(-r));
		return json_null();
	}
	json_t *median = json_null(), *first = json_null();
	if (f.ndelays) {
		/* the median of an even count is the mean of the middle two */
		int64_t mid = f.ndelays % 2 ? f.delays_ms[f.ndelays / 2]
					    : (f.delays_ms[f.ndelays / 2 - 1] + f.delays_ms[f.ndelays / 2]) / 2;
		median = json_real((double)mid / 1000.0);
		first = json_real((double)f.delays_ms[0] / 1000.0);
	}
	return json_pack("{s:I, s:I, s:f, s:o, s:o, s:o}", "sent", (json_int_t)f.sent, "reported",
			 (json_int_t)f.reported, "rate", f.sent ? (double)f.reported / (double)f.sent : 0.0,
			 "first_at", api__time(p, f.first_at_ms / 1000), "first_seconds", first, "median_seconds",
			 median);
}

/* ---- the poller ---- */

struct api_report_poller {
	struct store *store;
	struct track *track;
	const struct secret_key *key;
	const struct config *cfg;
	char *tracker_url;
	int64_t seconds;
	size_t turn;          /* the mailbox the next pass starts with */
	struct ticker *tk;    /* the poller's thread (core/ticker.h) */
	bool hold;            /* the poller's thread only: a mail is being read, let it finish */
};

/* The address of a From header's text: what is inside <>, else the whole. */
static struct slice from_address(const char *from)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt)
		return slice_trim((struct slice){ lt + 1, (size_t)(gt - lt - 1) });
	return slice_trim(slice_from(from));
}

/* Records 報告 for every rid of the mail that is a target of this tenant's
 * campaigns accepting events; how many were recorded, or a negative errno
 * when the event writer failed (the mail is then read again next time).
 * A mail from someone other than the target (a colleague forwarding a
 * mail they were sent, or one mail naming several targets) is recorded
 * with "reporter":"other": it stays visible, but is not the target's own
 * report and the report figures leave it out. */
static int report_record(struct api_report_poller *p, int64_t tenant_id, const struct mail_report *rep,
			 struct arena *a)
{
	int recorded = 0;
	struct slice from = from_address(rep->from ? rep->from : "");
	for (size_t i = 0; i < rep->nrids; i++) {
		struct target tg;
		if (!track_rid_valid(rep->rids[i]))
			continue;
		int r = store_target_by_rid(p->store, rep->rids[i], a, &tg);
		if (r == -ENOENT || (r >= 0 && tg.tenant_id != tenant_id))
			continue; /* not a drill mail of this tenant's running campaigns */
		if (r < 0)
			return r;
		const char *email = tg.p.f[PF_EMAIL] ? tg.p.f[PF_EMAIL] : "";
		bool own = from.len && from.len == strlen(email) && !strncasecmp(from.p, email, from.len);
		_cleanup_buf_ struct buf detail = BUF_INIT(2048), mid = BUF_INIT(1024);
		struct slice id = slice_from(rep->message_id);
		if (id.len > 2 && id.p[0] == '<' && id.p[id.len - 1] == '>') {
			id.p++;
			id.len -= 2;
		}
		if (id.len > 500)
			id.len = 500;
		buf_put_utf8(&mid, id);
		buf_puts(&detail, own ? "{\"via\":\"imap\",\"message_id\":"
				      : "{\"via\":\"imap\",\"reporter\":\"other\",\"message_id\":");
		buf_put_json_str(&detail, buf_slice(&mid));
		buf_putc(&detail, '}');
		struct event e = {
			.campaign_id = tg.campaign_id, .target_id = tg.id, .kind = EV_REPORTED, .at_ms = now_ms(),
			.detail = detail.p,
		};
		if ((r = track_event_submit(p->track, &e)) < 0)
			return r;
		recorded++;
	}
	return recorded;
}

/* One mailbox, one pass: the unseen mails above the last UID handled, in
 * UID order, within POLL_MAX_MAILS and POLL_BUDGET_MS.  Each handled mail
 * moves the place on, drill mail or not, so none is read twice and no
 * pile of the people's own unread mail can hold reports back. */
static void mailbox_poll(struct api_report_poller *p, const struct report_mailbox *m, struct arena *a)
{
	struct mail_imap *imap = NULL;
	const char *err = NULL;
	uint32_t *uids = NULL, validity = 0;
	size_t n = 0;
	int64_t reported = 0, ignored = 0, start = now_ms();
	int64_t last = m->last_uid;
	int r = mailbox_open(m, p->key, p->cfg, POLL_TIMEOUT, p, &imap, &err);
	if (r >= 0)
		r = mail_imap_uidvalidity(imap, &validity);
	if (r >= 0 && validity != m->uidvalidity)
		last = 0; /* a new folder as far as UIDs go: from the start */
	if (r >= 0)
		r = mail_imap_unseen_after(imap, (uint32_t)last, POLL_MAX_MAILS, &uids, &n);
	for (size_t i = 0; r >= 0 && i < n && now_ms() - start < POLL_BUDGET_MS; i++) {
		_cleanup_buf_ struct buf raw = BUF_INIT((size_t)64 << 20);
		struct mail_report rep;
		/* A stop starts no other mail, but does not cut one being read:
		 * the FETCH sets \Seen, and a report cut before its flag or its
		 * place are set would be seen and never read again.  Its FETCH and
		 * STORE are two commands of at most POLL_TIMEOUT each. */
		p->hold = false;
		if (poller_stopping(p)) {
			r = -ECANCELED;
			break;
		}
		p->hold = true;
		if ((r = mail_imap_fetch(imap, uids[i], &raw)) == -E2BIG) {
			r = mail_imap_set_seen(imap, uids[i], false);
			ignored++;
			last = uids[i];
			continue;
		}
		if (r < 0)
			break;
		int k = mail_report_scan(buf_slice(&raw), p->tracker_url, a, &rep);
		k = k < 0 ? 0 : report_record(p, m->tenant_id, &rep, a);
		if (k < 0) {
			/* the store failed: leave the mail unseen, and the place before it */
			mail_imap_set_seen(imap, uids[i], false);
			err = "recording failed; see the server log";
			r = k;
			break;
		}
		last = uids[i];
		if (k > 0) {
			reported += k;
			/* noted at once: a crash now does not record these twice */
			store_report_mailbox_progress(p->store, m->tenant_id, validity, last);
			r = mail_imap_set_seen(imap, uids[i], true);
		} else {
			/* not a drill mail: left for the people who read the mailbox */
			ignored++;
			r = mail_imap_set_seen(imap, uids[i], false);
		}
	}
	p->hold = false;
	free(uids);
	if (validity && (validity != m->uidvalidity || last != m->last_uid)) {
		int w = store_report_mailbox_progress(p->store, m->tenant_id, validity, last);
		if (w < 0)
			log_error("report mailbox of tenant %lld: its place could not be noted: %s",
				  (long long)m->tenant_id, strerror(-w));
	}
	if (r == -ECANCELED) {
		/* the server is stopping: the mails not handled stay unseen for the next start */
		log_info("report mailbox of tenant %lld: poll cut short, the server is stopping", (long long)m->tenant_id);
		r = 0;
	}
	const char *text = r >= 0 ? "" : err ? err : imap_failure(r);
	if (r < 0)
		log_warn("report mailbox of tenant %lld: %s%s%s", (long long)m->tenant_id, text, imap ? ": " : "",
			 imap ? mail_imap_error(imap) : "");
	mail_imap_free(imap);
	if (reported)
		log_info("report mailbox of tenant %lld: %lld 報告 recorded", (long long)m->tenant_id,
			 (long long)reported);
	int w = store_report_mailbox_polled(p->store, m->tenant_id, now_unix(), text, reported, ignored);
	if (w < 0)
		log_error("report mailbox of tenant %lld: the poll could not be noted: %s", (long long)m->tenant_id,
			  strerror(-w));
}

/* The IMAP client's cancel callback (called in the poller's thread, so
 * hold needs no lock) and the checks between steps. */
static bool poller_stopping(void *ctx)
{
	struct api_report_poller *p = ctx;
	return !p->hold && ticker_stopping(p->tk);
}

/* Every enabled mailbox once, each pass starting one further: a slow or
 * hanging server delays the others by at most its budget, and never the
 * same tenants first every time. */
static void poll_pass(struct ticker *tk, void *arg)
{
	struct api_report_poller *p = arg;
	(void)tk; /* p->tk */
	/* one node at a time (docs/internals/NODES.md): a mail read twice
	 * would be harmless (reports are kept once), two IMAP logins not */
	if (store_job_lease(p->store, "report-mailboxes", 3 * p->seconds * 1000 + 10000) != 1)
		return;
	struct arena *a = arena_new(0);
	struct report_mailbox *m;
	size_t n;
	int r = store_report_mailboxes(p->store, a, &m, &n);
	if (r < 0) {
		log_error("report mailboxes: cannot list them: %s", strerror(-r));
		n = 0;
	}
	size_t first = n ? p->turn++ % n : 0;
	for (size_t k = 0; k < n; k++) {
		if (poller_stopping(p))
			break;
		struct arena *ma = arena_new(0);
		mailbox_poll(p, &m[(first + k) % n], ma);
		arena_free(ma);
	}
	arena_free(a);
}

struct api_report_poller *api_report_poller_start(struct store *s, struct track *t, const struct secret_key *key,
						  const struct config *cfg, const char *tracker_url, int64_t seconds)
{
	struct api_report_poller *p = xcalloc(1, sizeof(*p));
	*p = (struct api_report_poller){ .store = s, .track = t, .key = key, .cfg = cfg,
					 .tracker_url = xstrdup(tracker_url),
					 .seconds = seconds > 0 ? seconds : 60 };
	char *err = NULL;
	if (ticker_start(&p->tk, poll_pass, p, p->seconds * 1000, &err) < 0) {
		log_error("report mailboxes: the poller cannot start: %s", err);
		free(err);
		free(p->tracker_url);
		free(p);
		return NULL;
	}
	return p;
}

void api_report_poller_request_stop(struct api_report_poller *p)
{
	if (p)
		ticker_request_stop(p->tk);
}

void api_report_poller_stop(struct api_report_poller *p)
{
	if (!p)
		return;
	ticker_stop(p->tk);
	free(p->tracker_url);
	free(p);
}
