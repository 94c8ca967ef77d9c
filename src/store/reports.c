/*
 * reports.c — 報告 (SPEC F1 beyond, G8): the tenants' report
 * mailboxes the IMAP poller reads, the campaign events the live stream
 * hands out (by id, so "what is new" is one index range), and the report
 * figures of the results.
 */
#include "store/db.h"

#define MAILBOX_COLS "tenant_id, host, port, security, verify_tls, username, password_sealed, folder, enabled, " \
	"last_poll_at, last_error, last_reported, last_ignored, updated_at, uidvalidity, last_uid"

static void mailbox_read(struct stmt *st, struct arena *a, struct report_mailbox *m)
{
	*m = (struct report_mailbox){
		.tenant_id = col_int(st, 0), .host = col_text(st, 1, a), .port = col_int(st, 2),
		.verify_tls = col_int(st, 4) != 0, .username = col_text(st, 5, a), .password_sealed = col_blob(st, 6, a),
		.folder = col_text(st, 7, a), .enabled = col_int(st, 8) != 0, .last_poll_at = col_int(st, 9),
		.last_error = col_text(st, 10, a), .last_reported = col_int(st, 11), .last_ignored = col_int(st, 12),
		.updated_at = col_int(st, 13), .uidvalidity = col_int(st, 14), .last_uid = col_int(st, 15),
	};
	if (smtp_security_parse(col_cstr(st, 3), &m->security) < 0)
		m->security = SMTP_SECURITY_TLS;
}

int store_report_mailbox_get(struct store *s, int64_t tenant_id, struct arena *a, struct report_mailbox *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " MAILBOX_COLS " FROM report_mailboxes WHERE tenant_id = ?", I(tenant_id));
	return r < 0 ? r : READ_ROW(&cn, st, a, mailbox_read(st, a, ret));
}

/* The upsert's new row names the same mailbox (every column NOT NULL). */
#define SAME_MAILBOX "(report_mailboxes.host, report_mailboxes.port, report_mailboxes.username, " \
	"report_mailboxes.folder) = (excluded.host, excluded.port, excluded.username, excluded.folder)"

int store_report_mailbox_set(struct store *s, const struct report_mailbox *m, int64_t now)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	/* A new password replaces the stored one; none given keeps it (the
	 * API never hands the password out, so a form cannot send it back). */
	const char *pw = m->password_sealed.p ? "excluded.password_sealed" : "report_mailboxes.password_sealed";
	_cleanup_free_ char *sql = xasprintf(
		"INSERT INTO report_mailboxes (tenant_id, host, port, security, verify_tls, username, password_sealed, "
		"folder, enabled, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (tenant_id) DO UPDATE SET "
		"host = excluded.host, port = excluded.port, security = excluded.security, "
		"verify_tls = excluded.verify_tls, username = excluded.username, password_sealed = %s, "
		"folder = excluded.folder, enabled = excluded.enabled, updated_at = excluded.updated_at, "
		"last_poll_at = 0, last_error = '', last_reported = 0, last_ignored = 0, "
		"uidvalidity = CASE WHEN " SAME_MAILBOX " THEN report_mailboxes.uidvalidity ELSE 0 END, "
		"last_uid = CASE WHEN " SAME_MAILBOX " THEN report_mailboxes.last_uid ELSE 0 END", pw);
	return run(&cn, sql, I(m->tenant_id), T(m->host), I(m->port), T(smtp_security_name(m->security)),
		   I((int64_t)m->verify_tls), T(m->username), B(m->password_sealed.p, m->password_sealed.len),
		   T(m->folder), I((int64_t)m->enabled), I(now));
}

int store_report_mailbox_delete(struct store *s, int64_t tenant_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM report_mailboxes WHERE tenant_id = ?", I(tenant_id));
	return r < 0 ? r : db_changes(&cn) ? 0 : -ENOENT;
}

int store_report_mailboxes(struct store *s, struct arena *a, struct report_mailbox **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " MAILBOX_COLS " FROM report_mailboxes WHERE enabled <> 0 ORDER BY tenant_id");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, mailbox_read(st, a, rec));
}

int store_report_mailbox_polled(struct store *s, int64_t tenant_id, int64_t at, const char *error,
				int64_t reported, int64_t ignored)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "UPDATE report_mailboxes SET last_poll_at = ?, last_error = ?, last_reported = ?, "
			"last_ignored = ? WHERE tenant_id = ?",
		   I(at), T(error ? error : ""), I(reported), I(ignored), I(tenant_id));
}

int store_report_mailbox_progress(struct store *s, int64_t tenant_id, int64_t uidvalidity, int64_t last_uid)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "UPDATE report_mailboxes SET uidvalidity = ?, last_uid = ? WHERE tenant_id = ?",
		   I(uidvalidity), I(last_uid), I(tenant_id));
}

/* ---- live events ---- */

int store_events_after(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t after, size_t limit,
		       struct arena *a, struct event **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " EVENT_COLS " FROM events e JOIN campaigns c ON c.id = e.campaign_id "
			       "WHERE c.tenant_id = ? AND e.campaign_id = ? AND e.id > ? ORDER BY e.id LIMIT ?",
		     I(tenant_id), I(campaign_id), I(after), I((int64_t)limit));
	return r < 0 ? r : events_rows(&cn, st, true, a, ret, ret_n);
}

int store_events_after_any(struct store *s, int64_t campaign_id, int64_t after, size_t limit, struct arena *a,
			   struct event **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " EVENT_COLS " FROM events e WHERE e.campaign_id = ? AND e.id > ? "
			       "ORDER BY e.id LIMIT ?", I(campaign_id), I(after), I((int64_t)limit));
	return r < 0 ? r : events_rows(&cn, st, true, a, ret, ret_n);
}

int store_events_last_id(struct store *s, int64_t campaign_id, int64_t *ret_id)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return query_int(&cn, ret_id, "SELECT coalesce(max(id), 0) FROM events WHERE campaign_id = ?", I(campaign_id));
}

/* ---- report figures ---- */

/* A report that counts as the target's own: no machine signal, and not an
 * IMAP report forwarded by someone else (detail "reporter":"other"; such
 * mails stay in the events for the trainer to see). */
#define COUNTED_LITE "signals = 0 AND coalesce(json_extract(detail, '$.reporter'), '') <> 'other'"
#define COUNTED_PG "signals = 0 AND coalesce(CASE WHEN detail LIKE '{%' THEN detail::jsonb ->> 'reporter' END, '') " \
	"<> 'other'"
#define FIGURES_SQL(counted) "SELECT (SELECT count(DISTINCT target_id) FROM events WHERE campaign_id = c.id " \
	"AND kind = 'sent'), (SELECT count(DISTINCT target_id) FROM events WHERE campaign_id = c.id " \
	"AND kind = 'reported' AND " counted "), (SELECT coalesce(min(at_ms), 0) FROM events WHERE campaign_id = c.id " \
	"AND kind = 'reported' AND " counted ") FROM campaigns c WHERE c.tenant_id = ? AND c.id = ?"
#define DELAYS_SQL(counted) "SELECT r.first - s.sent FROM (SELECT target_id, min(at_ms) AS first FROM events " \
	"WHERE campaign_id = ?1 AND kind = 'reported' AND " counted " GROUP BY target_id) r JOIN (SELECT target_id, " \
	"min(at_ms) AS sent FROM events WHERE campaign_id = ?1 AND kind = 'sent' GROUP BY target_id) s " \
	"USING (target_id) ORDER BY 1"

int store_campaign_report_figures(struct store *s, int64_t tenant_id, int64_t campaign_id, struct arena *a,
				  struct report_figures *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL, *dl = NULL;
	struct report_figures f = { 0 };
	int r = prep(&cn, &st, SQL2(&cn, FIGURES_SQL(COUNTED_LITE), FIGURES_SQL(COUNTED_PG)), I(tenant_id),
		     I(campaign_id));
	if (r < 0 || (r = step_row(&cn, st)) < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	f.sent = col_int(st, 0);
	f.reported = col_int(st, 1);
	f.first_at_ms = col_int(st, 2);
	stmt_release(st);
	st = NULL;
	/* each reporter's delay: first report after its own delivery */
	r = prep(&cn, &dl, SQL2(&cn, DELAYS_SQL(COUNTED_LITE), DELAYS_SQL(COUNTED_PG)), I(campaign_id));
	if (r < 0)
		return r;
	r = READ_ROWS(&cn, dl, a, &f.delays_ms, &f.ndelays, *rec = col_int(dl, 0) < 0 ? 0 : col_int(dl, 0));
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}
