/*
 * track.c — the tracker's and the results' queries of store.h:
 * targets by rid, the event writer's group commit, reach and histograms,
 * targets and events of a campaign.
 */
#include "store/db.h"

#include <inttypes.h>

/* ---- tracking and results ---- */

int store_target_by_rid(struct store *s, const char *rid, struct arena *a, struct target *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " TARGET_COLS " FROM targets t JOIN campaigns c ON c.id = t.campaign_id "
			       "WHERE t.rid = ? AND c.state IN ('sending', 'running', 'paused')", T(rid));
	return r < 0 ? r : READ_ROW(&cn, st, a, target_read(st, a, ret));
}

/*
 * Keeps targets.last_<kind>_ms (migration 0004) and human_<kind>_ms
 * (migration 0011) with every event written: last_ is the latest event of
 * the kind that is no probe (what counts with machine events included),
 * human_ the latest with no signal but hints (REPORT_HINTS: EVS_NO_OPEN)
 * and no part in a link burst (what counts with them excluded, the seconds
 * rule applied when read).
 * ?1 kind, ?2 at_ms, ?3 target id, ?4 the event's signals, ?5 its campaign
 * (bound, not read back from the row just inserted: one b-tree look-up
 * less per event).  A click with
 * EVS_LINK_BURST settles the clicks before it (report_settle_signals): when
 * the human click was one of them, the latest one that was not is looked
 * up again; a clean click is human only when no burst click follows it
 * within EVS_BURST_MS.  Bits: 3 = EVS_PROBES, 16 = EVS_LINK_BURST, 64 =
 * EVS_NO_OPEN.  SQLite only (PostgreSQL writes a batch at once,
 * PG_BATCH_UPDATE below): the scalar max() is SQLite's own, cheaper than
 * the greatest() its driver registers.
 */
_Static_assert(EVS_PROBES == 3 && EVS_LINK_BURST == 16 && EVS_NO_OPEN == 64 && EVS_BURST_MS == 1000,
	       "the SQL below");
#define BURST_AFTER(at) "EXISTS (SELECT 1 FROM events b WHERE b.campaign_id = ?5 AND b.target_id = ?3 " \
	"AND b.kind = 'clicked' AND (b.signals & 16) <> 0 AND b.at_ms BETWEEN " at " AND " at " + 1000)"
#define LAST_MS_COL(k) "last_" k "_ms = CASE WHEN ?1 = '" k "' AND (?4 & 3) = 0 " \
	"THEN max(last_" k "_ms, ?2) ELSE last_" k "_ms END"
#define HUMAN_MS_COL(k) "human_" k "_ms = CASE WHEN ?1 = '" k "' AND (?4 & ~64) = 0 " \
	"THEN max(human_" k "_ms, ?2) ELSE human_" k "_ms END"
#define HUMAN_CLICKED_COL "human_clicked_ms = CASE " \
	"WHEN ?1 = 'clicked' AND (?4 & ~64) = 0 AND NOT " BURST_AFTER("?2") " THEN max(human_clicked_ms, ?2) " \
	"WHEN ?1 = 'clicked' AND (?4 & 16) <> 0 AND human_clicked_ms BETWEEN ?2 - 1000 AND ?2 THEN " \
	"(SELECT coalesce(max(e.at_ms), 0) FROM events e WHERE e.campaign_id = ?5 AND e.target_id = ?3 " \
	"AND e.kind = 'clicked' AND (e.signals & ~64) = 0 AND NOT " BURST_AFTER("e.at_ms") ") " \
	"ELSE human_clicked_ms END"
#define LAST_MS_UPDATE "UPDATE targets SET " LAST_MS_COL("sent") ", " LAST_MS_COL("opened") ", " \
	LAST_MS_COL("clicked") ", " LAST_MS_COL("file_opened") ", " LAST_MS_COL("submitted") ", " \
	LAST_MS_COL("reported") ", " HUMAN_MS_COL("opened") ", " HUMAN_CLICKED_COL ", " \
	HUMAN_MS_COL("file_opened") ", " HUMAN_MS_COL("submitted") ", " HUMAN_MS_COL("reported") " " \
	"WHERE id = ?3"

/*
 * PostgreSQL: the batch is one INSERT, its columns sent as arrays (unnest
 * keeps their order, so ids follow the batch as on SQLite), then one
 * UPDATE of the targets it touched, aggregated per target.  With every
 * event of the batch already written, a clean click is human when no burst
 * click (of any time of arrival) follows it, and a burst click that lands
 * after the stored human click settles it again from the events: the same
 * columns as LAST_MS_UPDATE event by event (a unit test compares those
 * with the columns computed from scratch).
 */
#define PG_BATCH_INSERT "INSERT INTO events (campaign_id, target_id, kind, at_ms, ip, user_agent, os, browser, " \
	"device, detail, signals) SELECT v.c, nullif(v.t, 0), v.k, v.at, v.ip, v.ua, v.os, v.br, v.dev, v.det, v.sig " \
	"FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], " \
	"?::text[], ?::text[], ?::bigint[]) WITH ORDINALITY AS v(c, t, k, at, ip, ua, os, br, dev, det, sig, n) " \
	"WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = v.c) AND (v.t = 0 OR EXISTS " \
	"(SELECT 1 FROM targets WHERE id = v.t AND campaign_id = v.c)) ORDER BY v.n"
#define PG_BURST_AFTER(at) "EXISTS (SELECT 1 FROM events x WHERE x.campaign_id = v.c AND x.target_id = v.t " \
	"AND x.kind = 'clicked' AND (x.signals & 16) <> 0 AND x.at_ms BETWEEN " at " AND " at " + 1000)"
#define PG_MAX(k, cond) "coalesce(max(v.at) FILTER (WHERE v.k = '" k "' AND " cond "), 0)"
#define PG_LAST(k) "last_" k "_ms = greatest(last_" k "_ms, b.last_" k ")"
#define PG_HUMAN(k) "human_" k "_ms = greatest(human_" k "_ms, b.human_" k ")"
#define PG_BATCH_UPDATE "UPDATE targets SET " PG_LAST("sent") ", " PG_LAST("opened") ", " PG_LAST("clicked") ", " \
	PG_LAST("file_opened") ", " PG_LAST("submitted") ", " PG_LAST("reported") ", " PG_HUMAN("opened") ", " \
	PG_HUMAN("file_opened") ", " PG_HUMAN("submitted") ", " PG_HUMAN("reported") ", " \
	"human_clicked_ms = CASE WHEN EXISTS (SELECT 1 FROM unnest(b.bursts) AS u(at) " \
	"WHERE targets.human_clicked_ms BETWEEN u.at - 1000 AND u.at) THEN (SELECT coalesce(max(e.at_ms), 0) " \
	"FROM events e WHERE e.campaign_id = b.c AND e.target_id = b.t AND e.kind = 'clicked' " \
	"AND (e.signals & ~64) = 0 AND NOT EXISTS (SELECT 1 FROM events x WHERE x.campaign_id = b.c " \
	"AND x.target_id = b.t AND x.kind = 'clicked' AND (x.signals & 16) <> 0 " \
	"AND x.at_ms BETWEEN e.at_ms AND e.at_ms + 1000)) " \
	"ELSE greatest(human_clicked_ms, b.human_clicked) END " \
	"FROM (SELECT v.c, v.t, " PG_MAX("sent", "(v.sig & 3) = 0") " AS last_sent, " \
	PG_MAX("opened", "(v.sig & 3) = 0") " AS last_opened, " PG_MAX("clicked", "(v.sig & 3) = 0") " AS last_clicked, " \
	PG_MAX("file_opened", "(v.sig & 3) = 0") " AS last_file_opened, " \
	PG_MAX("submitted", "(v.sig & 3) = 0") " AS last_submitted, " PG_MAX("reported", "(v.sig & 3) = 0") " AS last_reported, " \
	PG_MAX("opened", "(v.sig & ~64) = 0") " AS human_opened, " \
	PG_MAX("clicked", "(v.sig & ~64) = 0 AND NOT " PG_BURST_AFTER("v.at")) " AS human_clicked, " \
	PG_MAX("file_opened", "(v.sig & ~64) = 0") " AS human_file_opened, " \
	PG_MAX("submitted", "(v.sig & ~64) = 0") " AS human_submitted, " \
	PG_MAX("reported", "(v.sig & ~64) = 0") " AS human_reported, " \
	"array_agg(v.at) FILTER (WHERE v.k = 'clicked' AND (v.sig & 16) <> 0) AS bursts " \
	"FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::bigint[]) AS v(c, t, k, at, sig) " \
	"GROUP BY v.c, v.t) AS b WHERE targets.id = b.t AND targets.campaign_id = b.c"

/* Appends one element to a PostgreSQL array literal (the first opens
 * it): NULL, or the text quoted with " and \\ escaped. */
static int pg_elem(struct buf *b, const char *text)
{
	int r = buf_putc(b, b->len ? ',' : '{');
	if (r < 0 || !text)
		return r < 0 ? r : buf_puts(b, "NULL");
	r = buf_putc(b, '"');
	for (const char *p = text; r >= 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			r = buf_putc(b, '\\');
		if (r >= 0)
			r = buf_putc(b, *p);
	}
	return r < 0 ? r : buf_putc(b, '"');
}

static int pg_elem_int(struct buf *b, int64_t v)
{
	return buf_printf(b, "%c%" PRId64, b->len ? ',' : '{', v);
}

/* The columns of the batch's INSERT, then those of its UPDATE. */
enum { A_CAMPAIGN, A_TARGET, A_KIND, A_AT, A_IP, A_UA, A_OS, A_BROWSER, A_DEVICE, A_DETAIL, A_SIGNALS,
       U_CAMPAIGN, U_TARGET, U_KIND, U_AT, U_SIGNALS, A__COUNT };

static int pg_arrays(const struct event *ev, size_t n, struct buf *col, size_t *ret_steps)
{
	int r = 0;
	size_t steps = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct event *e = &ev[i];
		const char *texts[] = { e->ip, e->user_agent, e->os, e->browser, e->device, e->detail };
		const char *kind = event_kind_name(e->kind);
		if ((r = pg_elem_int(&col[A_CAMPAIGN], e->campaign_id)) < 0 ||
		    (r = pg_elem_int(&col[A_TARGET], e->target_id)) < 0 || (r = pg_elem(&col[A_KIND], kind)) < 0 ||
		    (r = pg_elem_int(&col[A_AT], e->at_ms)) < 0 || (r = pg_elem_int(&col[A_SIGNALS], e->signals)) < 0)
			break;
		for (size_t k = 0; r >= 0 && k < ARRAY_SIZE(texts); k++)
			r = pg_elem(&col[A_IP + k], texts[k]);
		/* A probe (HEAD, OPTIONS) is kept, but is never a person's step. */
		if (r < 0 || !e->target_id || (e->signals & EVS_PROBES))
			continue;
		steps++;
		if ((r = pg_elem_int(&col[U_CAMPAIGN], e->campaign_id)) < 0 ||
		    (r = pg_elem_int(&col[U_TARGET], e->target_id)) < 0 || (r = pg_elem(&col[U_KIND], kind)) < 0 ||
		    (r = pg_elem_int(&col[U_AT], e->at_ms)) < 0)
			break;
		r = pg_elem_int(&col[U_SIGNALS], e->signals);
	}
	for (int i = 0; r >= 0 && i < A__COUNT; i++)
		r = buf_puts(&col[i], col[i].len ? "}" : "{}");
	*ret_steps = steps;
	return r;
}

static int events_add_pg(struct conn *cn, const struct event *ev, size_t n)
{
	struct buf col[A__COUNT];
	size_t steps = 0;
	for (int i = 0; i < A__COUNT; i++)
		col[i] = BUF_INIT(0);
	int r = pg_arrays(ev, n, col, &steps);
	/* Batches of several nodes run side by side (tx_begin_events): each
	 * first locks every target it names, in id order, as the UPDATE below
	 * will (FOR NO KEY UPDATE).  Taken later, after the INSERT's foreign-key
	 * share locks, two batches on one target would deadlock (PostgreSQL
	 * breaks that after a second). */
	if (r >= 0 && n)
		r = run(cn, "SELECT count(*) FROM (SELECT id FROM targets WHERE id = ANY(?::bigint[]) ORDER BY id "
			    "FOR NO KEY UPDATE) AS locked", T(col[A_TARGET].p));
	if (r >= 0 && n)
		r = run(cn, PG_BATCH_INSERT, T(col[A_CAMPAIGN].p), T(col[A_TARGET].p), T(col[A_KIND].p),
			T(col[A_AT].p), T(col[A_IP].p), T(col[A_UA].p), T(col[A_OS].p), T(col[A_BROWSER].p),
			T(col[A_DEVICE].p), T(col[A_DETAIL].p), T(col[A_SIGNALS].p));
	if (r >= 0 && steps)
		r = run(cn, PG_BATCH_UPDATE, T(col[U_CAMPAIGN].p), T(col[U_TARGET].p), T(col[U_KIND].p),
			T(col[U_AT].p), T(col[U_SIGNALS].p));
	for (int i = 0; i < A__COUNT; i++)
		buf_release(&col[i]);
	return r < 0 ? r : 0;
}

int store_events_add(struct store *s, const struct event *ev, size_t n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *ins = NULL;
	int r = tx_begin_events(&cn);
	if (r < 0)
		return r;
	if (db_pg(&cn)) {
		if ((r = events_add_pg(&cn, ev, n)) < 0 || (r = tx_commit(&cn)) < 0) {
			tx_rollback(&cn);
			return r;
		}
		return 0;
	}
	_cleanup_stmt_ struct stmt *last = NULL;
	/* The tracker may hold a rid whose campaign or pending target was just
	 * deleted: such an event is skipped, else the foreign key would fail
	 * the whole group commit, over and over. */
	r = prep(&cn, &ins, "INSERT INTO events (campaign_id, target_id, kind, at_ms, ip, user_agent, os, "
			    "browser, device, detail, signals) SELECT ?1, nullif(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 "
			    "WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = ?1) AND (?2 = 0 OR EXISTS "
			    "(SELECT 1 FROM targets WHERE id = ?2 AND campaign_id = ?1))");
	if (r >= 0)
		r = prep(&cn, &last, LAST_MS_UPDATE);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct event *e = &ev[i];
		const char *texts[] = { e->ip, e->user_agent, e->os, e->browser, e->device, e->detail };
		stmt_reset(ins);
		bind_int(ins, 1, e->campaign_id);
		bind_int(ins, 2, e->target_id);
		bind_text(ins, 3, event_kind_name(e->kind));
		bind_int(ins, 4, e->at_ms);
		for (size_t k = 0; k < ARRAY_SIZE(texts); k++)
			if (texts[k])
				bind_text(ins, (int)k + 5, texts[k]);
			else
				bind_null(ins, (int)k + 5);
		bind_int(ins, 11, e->signals);
		r = step_done(&cn, ins);
		/* A probe (HEAD, OPTIONS) is kept, but is never a person's step. */
		if (r >= 0 && e->target_id && !(e->signals & EVS_PROBES) && db_changes(&cn) > 0) {
			stmt_reset(last);
			bind_text(last, 1, event_kind_name(e->kind));
			bind_int(last, 2, e->at_ms);
			bind_int(last, 3, e->target_id);
			bind_int(last, 4, e->signals);
			bind_int(last, 5, e->campaign_id);
			r = step_done(&cn, last);
		}
	}
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

/* report_event_counts in SQL for an event e of target t: ?3 exclusion
 * seconds, ?6 exclude (1 or 0).  No probe; with exclude, no signal but
 * hints (EVS_NO_OPEN), no
 * part in a later burst (report_settle_signals) and not within ?3 seconds
 * of delivery. */
#define COUNTS_SQL "((e.signals & 3) = 0 AND NOT (?6 <> 0 AND ((e.signals & ~64) <> 0 OR " \
	"(e.kind = 'clicked' AND EXISTS (SELECT 1 FROM events b WHERE b.campaign_id = e.campaign_id " \
	"AND b.target_id = e.target_id AND b.kind = 'clicked' AND (b.signals & 16) <> 0 " \
	"AND b.at_ms BETWEEN e.at_ms AND e.at_ms + 1000)) OR " \
	"coalesce(?3 > 0 AND t.sent_at > 0 AND e.kind IN ('opened', 'clicked', 'file_opened', 'submitted') " \
	"AND e.at_ms < (t.sent_at + ?3) * 1000, false))))"

int store_campaign_reach(struct store *s, int64_t tenant_id, int64_t campaign_id, bool exclude,
			 int64_t exclusion_seconds, const char *group_by, struct arena *a, struct store_reach **ret, size_t *ret_n)
{
	const char *col = group_by ? sort_column(group_by) : NULL;
	if (group_by && (!col || !strcmp(col, "id") || !strcmp(col, "is_test")))
		return -EINVAL;
	/* ?1 tenant, ?2 campaign, ?3 exclusion seconds, ?4 exclude; the group
	 * column comes from the fixed table of sort_column, never from the input. */
	_cleanup_buf_ struct buf sql = BUF_INIT(8192);
	/* A step counts when, with machine events included, some event of the
	 * kind is no probe (last_); with them excluded, when the latest event
	 * with no signal (human_) is outside the exclusion window: then at
	 * least one of them is a person's (the rules of report_event_counts; a
	 * unit test compares the two). */
#define REACH(k) "(CASE WHEN ?4 <> 0 THEN t.human_" k "_ms > 0 AND NOT (?3 > 0 AND t.sent_at > 0 AND " \
	"t.human_" k "_ms < (t.sent_at + ?3) * 1000) ELSE t.last_" k "_ms > 0 END)"
#define COUNT_IF(cond) "count(*) FILTER (WHERE " cond ")"
	buf_printf(&sql,
		   "SELECT %s%s AS g, count(*), "
		   /* an error is a target whose send failed and who did nothing after all */
		   COUNT_IF("t.state = 'error' AND t.last_sent_ms = 0 AND NOT (" REACH("opened") " OR "
		   REACH("clicked") " OR " REACH("file_opened") " OR " REACH("submitted") ")") ", "
		   "0, " COUNT_IF("t.last_sent_ms > 0") ", 0, " COUNT_IF(REACH("opened")) ", "
		   COUNT_IF(REACH("clicked")) ", " COUNT_IF(REACH("file_opened")) ", " COUNT_IF(REACH("submitted")) ", "
		   COUNT_IF("CASE WHEN ?4 <> 0 THEN t.human_reported_ms > 0 ELSE t.last_reported_ms > 0 END") " "
		   "FROM targets t JOIN campaigns c ON c.id = t.campaign_id "
		   "WHERE c.tenant_id = ?1 AND t.campaign_id = ?2 GROUP BY g ORDER BY count(*) DESC, g",
		   col ? "t." : "", col ? col : "''");
#undef REACH
#undef COUNT_IF
	_Static_assert(EV__COUNT == 8, "one column per event kind");
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	struct store_reach *out = NULL;
	size_t n = 0, cap = 0;
	int r = prep(&cn, &st, sql.p, I(tenant_id), I(campaign_id), I(exclusion_seconds), I((int64_t)exclude));
	while (r >= 0 && (r = step_row(&cn, st)) > 0) {
		struct store_reach *x = PUSH(a, out, n, cap);
		if (!x)
			break;
		x->value = col_text(st, 0, a);
		x->targets = col_int(st, 1);
		x->errors = col_int(st, 2);
		for (int k = 0; k < EV__COUNT; k++)
			x->reached[k] = col_int(st, 3 + k);
	}
	if ((r = read_done(r, a)) < 0)
		return r;
	*ret = out;
	*ret_n = n;
	return 0;
}

int store_event_histogram(struct store *s, int64_t tenant_id, int64_t campaign_id, bool exclude,
			  int64_t exclusion_seconds, int64_t origin, int64_t bucket_seconds, struct arena *a, struct store_bucket **ret,
			  size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	struct store_bucket *out = NULL;
	size_t n = 0, cap = 0;
	/* ?1 tenant, ?2 campaign, ?3 exclusion, ?4 origin, ?5 bucket, ?6 exclude */
	int r = prep(&cn, &st, "SELECT (e.at_ms / 1000 - ?4) / ?5 AS bk, e.kind, count(*) FROM events e "
			       "JOIN campaigns c ON c.id = e.campaign_id LEFT JOIN targets t ON t.id = e.target_id "
			       "WHERE c.tenant_id = ?1 AND e.campaign_id = ?2 AND e.at_ms >= ?4 * 1000 "
			       "AND " COUNTS_SQL " GROUP BY bk, e.kind ORDER BY bk",
		     I(tenant_id), I(campaign_id), I(exclusion_seconds), I(origin), I(bucket_seconds),
		     I((int64_t)exclude));
	while (r >= 0 && (r = step_row(&cn, st)) > 0) {
		int64_t at = origin + col_int(st, 0) * bucket_seconds;
		int k = name_index(event_kind_names, EV__COUNT, col_cstr(st, 1));
		if (k < 0)
			continue;
		if (!n || out[n - 1].at != at) {
			struct store_bucket *x = PUSH(a, out, n, cap);
			if (!x)
				break;
			memset(x, 0, sizeof(*x));
			x->at = at;
		}
		out[n - 1].n[k] = col_int(st, 2);
	}
	if ((r = read_done(r, a)) < 0)
		return r;
	*ret = out;
	*ret_n = n;
	return 0;
}

int store_target_get(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t target_id,
		     struct arena *a, struct target *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " TARGET_COLS " FROM targets t JOIN campaigns c ON c.id = t.campaign_id "
			       "WHERE c.tenant_id = ? AND t.campaign_id = ? AND t.id = ?", I(tenant_id), I(campaign_id), I(target_id));
	return r < 0 ? r : READ_ROW(&cn, st, a, target_read(st, a, ret));
}

int store_targets(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t after, size_t limit,
		  struct arena *a, struct target **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT " TARGET_COLS " FROM targets t JOIN campaigns c ON c.id = t.campaign_id "
			       "WHERE c.tenant_id = ? AND t.campaign_id = ? AND t.id > ? ORDER BY t.id LIMIT ?", I(tenant_id), I(campaign_id), I(after), I((int64_t)limit));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n, target_read(st, a, rec));
}

int events_rows(struct conn *cn, struct stmt *st, bool full, struct arena *a, struct event **ret, size_t *ret_n)
{
	struct event *out = NULL;
	size_t n = 0, cap = 0;
	int r;
	while ((r = step_row(cn, st)) > 0) {
		int k = name_index(event_kind_names, EV__COUNT, col_cstr(st, 3));
		if (k < 0)
			continue; /* a kind from a newer version: skip, never misreport */
		struct event *e = PUSH(a, out, n, cap);
		if (!e)
			break;
		*e = (struct event){
			.id = col_int(st, 0), .campaign_id = col_int(st, 1), .target_id = col_int(st, 2),
			.kind = (enum event_kind)k, .at_ms = col_int(st, 4), .signals = (uint32_t)col_int(st, 11),
		};
		if (full) {
			e->ip = col_text_null(st, 5, a);
			e->user_agent = col_text_null(st, 6, a);
			e->os = col_text_null(st, 7, a);
			e->browser = col_text_null(st, 8, a);
			e->device = col_text_null(st, 9, a);
			e->detail = col_text_null(st, 10, a);
		}
	}
	if ((r = read_done(r, a)) < 0)
		return r;
	*ret = out;
	*ret_n = n;
	return 0;
}

/* full: with the client's details; else kind and time only. */
static int events_read(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t target_min,
		       int64_t target_max, bool full, struct arena *a, struct event **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	/* Two shapes, so a page of targets is an index range, not a scan:
	 * only a range from 0 needs the campaign's own (target-less) events. */
	int r = target_min > 0
		? prep(&cn, &st, "SELECT " EVENT_COLS " FROM events e JOIN campaigns c ON c.id = e.campaign_id "
				 "WHERE c.tenant_id = ? AND e.campaign_id = ? AND e.target_id BETWEEN ? AND ? "
				 "ORDER BY e.target_id, e.at_ms, e.id",
		       I(tenant_id), I(campaign_id), I(target_min), I(target_max))
		: prep(&cn, &st, "SELECT " EVENT_COLS " FROM events e "
				 "JOIN campaigns c ON c.id = e.campaign_id WHERE c.tenant_id = ? AND e.campaign_id = ? "
				 "AND coalesce(e.target_id, 0) <= ? ORDER BY coalesce(e.target_id, 0), e.at_ms, e.id",
		       I(tenant_id), I(campaign_id), I(target_max));
	return r < 0 ? r : events_rows(&cn, st, full, a, ret, ret_n);
}

int store_events(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t target_min,
		 int64_t target_max, struct arena *a, struct event **ret, size_t *ret_n)
{
	return events_read(s, tenant_id, campaign_id, target_min, target_max, true, a, ret, ret_n);
}

int store_event_times(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t target_min,
		      int64_t target_max, struct arena *a, struct event **ret, size_t *ret_n)
{
	return events_read(s, tenant_id, campaign_id, target_min, target_max, false, a, ret, ret_n);
}
