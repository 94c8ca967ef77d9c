/*
 * Tests of src/report/report.c: golden files for the three CSVs (SPEC G3,
 * G4, G5) in both encodings, the machine-event reasons and rules (F6), and
 * the SQL counts and timeline against the C rule.
 * KUNREN_UPDATE_GOLDEN=1 rewrites the golden files (check the diff!).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "report/report.h"

#include <sqlite3.h>
#include <unistd.h>

#include "../teststore.h" /* test_db_new: SQLite, or PostgreSQL with KUNREN_TEST_PG */

/* Launch with everyone due at once, and let the campaign clock start it. */
static int launch_now(struct store *s, int64_t tenant, int64_t cid, int64_t *ret_n)
{
	int r = store_campaign_launch(s, tenant, cid, now_unix(), 10, store_plan_at_once, NULL, ret_n, NULL);
	if (r >= 0)
		store_campaigns_tick(s, now_unix());
	return r;
}

/* Claim due targets and mark them being sent, as a delivery worker does. */
static inline int claim_and_begin(struct store *s, size_t limit, struct arena *a, struct target **t, size_t *n)
{
	int r = store_targets_claim(s, 0, now_unix(), limit, a, t, n);
	for (size_t i = 0; r >= 0 && i < *n; i++)
		if (store_target_begin(s, (*t)[i].id) != 1)
			r = -EIO;
	return r;
}

/* The clock's "sending -> running" step, counted. */
static inline int store_campaigns_tick_now(struct store *s)
{
	return store_campaigns_tick(s, now_unix());
}

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/unit/report/golden"
#endif

struct fixture {
	char dir[64];
	char *where; /* the database: test_db_new */
	struct store *s;
	sqlite3 *db; /* raw SQL on SQLite, */
	PGconn *pg;  /* or on PostgreSQL */
	int64_t tenant, c1, c2;
};

/* Raw SQL (one or more statements, written for both engines). */
static void sql(struct fixture *f, const char *q)
{
	if (f->pg) {
		PGresult *r = PQexec(f->pg, q);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", q, PQerrorMessage(f->pg));
		PQclear(r);
		return;
	}
	char *err = NULL;
	if (sqlite3_exec(f->db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
}

/* Launch times (2024-04-06 and 04-13 10:00 JST) as 64-bit numbers, so
 * that times in ms do not overflow PostgreSQL's int4 literals. */
#define T1 "CAST(1712365200 AS BIGINT)"
#define T2 "CAST(1712970000 AS BIGINT)"

/* Events written with raw SQL here bypass store_events_add: bring the
 * targets' last_*_ms (no probes) and human_*_ms (no signal but hints) up to date the
 * way migrations 0004 and 0011 do (the fixture has no link burst). */
static void refresh_reach(struct fixture *f)
{
	static const char *kinds[] = { "sent", "opened", "clicked", "file_opened", "submitted", "reported" };
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *q = xasprintf("UPDATE targets SET last_%s_ms = coalesce((SELECT max(at_ms) FROM events e "
				    "WHERE e.campaign_id = targets.campaign_id AND e.target_id = targets.id AND e.kind = '%s' "
				    "AND (e.signals & 3) = 0), 0)", kinds[i], kinds[i]);
		sql(f, q);
		free(q);
		if (i == 0)
			continue;
		q = xasprintf("UPDATE targets SET human_%s_ms = coalesce((SELECT max(at_ms) FROM events e "
			      "WHERE e.campaign_id = targets.campaign_id AND e.target_id = targets.id AND e.kind = '%s' "
			      "AND (e.signals & ~64) = 0), 0)", kinds[i], kinds[i]);
		sql(f, q);
		free(q);
	}
}

/* The columns from scratch, bursts included (what store_events_add keeps
 * one event at a time). */
static void refresh_reach_full(struct fixture *f)
{
	refresh_reach(f);
	sql(f, "UPDATE targets SET human_clicked_ms = coalesce((SELECT max(e.at_ms) FROM events e "
	       "WHERE e.campaign_id = targets.campaign_id AND e.target_id = targets.id AND e.kind = 'clicked' "
	       "AND (e.signals & ~64) = 0 AND NOT EXISTS (SELECT 1 FROM events b WHERE b.campaign_id = e.campaign_id "
	       "AND b.target_id = e.target_id AND b.kind = 'clicked' AND (b.signals & 16) <> 0 "
	       "AND b.at_ms BETWEEN e.at_ms AND e.at_ms + 1000)), 0)");
}

static int64_t make_campaign(struct fixture *f, const char *name, int64_t list, int64_t scenario, int64_t excl)
{
	int64_t ids[] = { list }, id, n;
	struct campaign c = { .name = name, .scenario_id = scenario, .sender_name = "情報システム部",
			      .sender_local = "it", .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1,
			      .exclusion_seconds = excl };
	assert_int_equal(store_campaign_create(f->s, f->tenant, &c, &id), 0);
	assert_int_equal(launch_now(f->s, f->tenant, id, &n), 0);
	return id;
}

/* Two campaigns over the same four people, with fixed rids and times. */
static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	int applied;
	int64_t list, sc, added, updated;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-report-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->where = test_db_new(f->dir);
	if (store_open(f->where, &f->s, &err) != 0)
		fail_msg("store_open %s: %s", f->where, err ? err : "?");
	assert_int_equal(store_migrate(f->s, &applied), 0);
	if (test_engine_is_pg()) {
		f->pg = PQconnectdb(f->where);
		assert_int_equal(PQstatus(f->pg), CONNECTION_OK);
	} else {
		assert_int_equal(sqlite3_open(f->where, &f->db), SQLITE_OK);
	}
	assert_int_equal(store_tenant_create(f->s, "A社", "Asia/Tokyo", &f->tenant), 0);
	assert_int_equal(store_list_create(f->s, f->tenant, "全社", &list), 0);
	struct person p[4] = {
		{ { "山田", "太郎", "taro@example.co.jp", "営業部", "部長", "10年以上", "本社", "社員" }, false },
		{ { "佐藤", "花子", "hanako@example.co.jp", "営業部,東京", "主任", "=1+2", "", "" }, true },
		{ { "鈴木", "一郎", "ichiro@example.co.jp", "総務部", "", "", "テレワーク", "" }, false },
		{ { "髙橋", "①", "kenta@example.co.jp", "", "", "", "", "派遣社員" }, false },
	};
	assert_int_equal(store_recipients_import(f->s, f->tenant, list, p, 4, &added, &updated), 0);
	struct scenario_rec s = { .name = "s", .description = "", .genre = "その他", .type = "URLリンク型",
				  .level = "初級", .lang = "ja", .subject = "件名", .html = "<p>{{URL}}</p>",
				  .text = "{{URL}}", .sender_name = "", .sender_local = "it",
				  .sender_domain = "example.co.jp", .explain_html = "<p>訓練</p>" };
	assert_int_equal(store_scenario_create(f->s, f->tenant, &s, &sc), 0);
	f->c1 = make_campaign(f, "第1回訓練", list, sc, 60);
	f->c2 = make_campaign(f, "第2回訓練", list, sc, 0);
	/* fixed times (2024-04-06 10:00 JST = 1712365200) and rids */
	sql(f, "UPDATE campaigns SET created_at = 1712365200 - 3600, launched_at = 1712365200 WHERE id = 1;"
	       "UPDATE campaigns SET created_at = 1712970000 - 3600, launched_at = 1712970000 WHERE id = 2;"
	       "UPDATE events SET at_ms = (SELECT created_at FROM campaigns c WHERE c.id = campaign_id) * 1000;");
	sql(f, f->pg ? "UPDATE targets SET rid = 'RID' || lpad(campaign_id::text, 2, '0') || lpad(id::text, 15, '0')"
		     : "UPDATE targets SET rid = printf('RID%02d%015d', campaign_id, id)");
	sql(f, "UPDATE targets SET state = 'sent', "
	       "sent_at = (SELECT launched_at FROM campaigns c WHERE c.id = campaign_id) + id * 60;"
	       "INSERT INTO events (campaign_id, target_id, kind, at_ms) SELECT campaign_id, id, 'sent', sent_at * 1000 "
	       "FROM targets;");
	/* campaign 1 (60 s exclusion): taro opened 10 s after delivery (a mail checker) and again
	 * later, clicked and submitted; hanako opened and clicked; ichiro's send failed */
	sql(f, "INSERT INTO events (campaign_id, target_id, kind, at_ms, ip, user_agent, os, browser, detail) VALUES "
	       "(1, 1, 'opened', (" T1 " + 60 + 10) * 1000, '203.0.113.9', 'Scanner/1.0', '', '', NULL),"
	       "(1, 1, 'opened', (" T1 " + 60 + 600) * 1000, '198.51.100.7', 'Mozilla/5.0', 'Windows 10', "
	       "'Chrome 124', NULL),"
	       "(1, 1, 'clicked', (" T1 " + 60 + 660) * 1000, '198.51.100.7', 'Mozilla/5.0', 'Windows 10', "
	       "'Chrome 124', NULL),"
	       "(1, 1, 'submitted', (" T1 " + 60 + 700) * 1000, '198.51.100.7', 'Mozilla/5.0', 'Windows 10', "
	       "'Chrome 124', '{\"fields\":[\"password\"]}'),"
	       "(1, 2, 'opened', (" T1 " + 120 + 3600) * 1000, '2001:db8::1', 'Mozilla/5.0 (iPhone)', 'iOS 17', "
	       "'Safari 17', NULL),"
	       "(1, 2, 'clicked', (" T1 " + 120 + 3700) * 1000, '2001:db8::1', 'Mozilla/5.0 (iPhone)', 'iOS 17', "
	       "'Safari 17', NULL),"
	       "(1, 2, 'file_opened', (" T1 " + 120 + 3800) * 1000, '2001:db8::1', '', '', '', NULL);"
	       "UPDATE targets SET state = 'error', sent_at = 0, error = '550 no such user' WHERE id = 3;"
	       "DELETE FROM events WHERE target_id = 3 AND kind = 'sent';"
	       "INSERT INTO events (campaign_id, target_id, kind, at_ms, detail) VALUES "
	       "(1, 3, 'send_error', (" T1 " + 180) * 1000, '{\"error\":\"550 no such user\"}');"
	       /* signals: the scanner's open says so; a HEAD on ichiro's open URL (a probe,
		* never counted); a hidden-link click on hanako two hours on */
	       "UPDATE events SET signals = 4 WHERE user_agent = 'Scanner/1.0';"
	       "INSERT INTO events (campaign_id, target_id, kind, at_ms, ip, user_agent, signals) VALUES "
	       "(1, 3, 'opened', (" T1 " + 240) * 1000, '203.0.113.10', 'HeadScanner/2', 1),"
	       "(1, 2, 'clicked', (" T1 " + 120 + 7200) * 1000, '203.0.113.11', 'LinkChecker', 12);"
	       /* campaign 2: taro clicks again, kenta reports */
	       "INSERT INTO events (campaign_id, target_id, kind, at_ms, ip) VALUES "
	       "(2, 5, 'opened', (" T2 " + 300 + 20) * 1000, '198.51.100.7'),"
	       "(2, 5, 'clicked', (" T2 " + 300 + 40) * 1000, '198.51.100.7'),"
	       "(2, 8, 'reported', (" T2 " + 480 + 900) * 1000, '198.51.100.8');");
	refresh_reach(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->pg)
		PQfinish(f->pg);
	else
		sqlite3_close(f->db);
	store_close(f->s);
	test_db_remove(f->where, f->dir);
	free(f);
	return 0;
}

static void golden(const char *name, const struct buf *got)
{
	char *path = xasprintf("%s/%s", GOLDEN_DIR, name);
	if (getenv("KUNREN_UPDATE_GOLDEN")) {
		assert_int_equal(file_write_atomic(path, got->p, got->len), 0);
	} else {
		struct buf want = BUF_INIT(0);
		if (file_read(path, 1 << 20, &want) < 0)
			fail_msg("cannot read %s (KUNREN_UPDATE_GOLDEN=1 writes it)", path);
		if (want.len != got->len || memcmp(want.p, got->p, want.len) != 0) {
			char *out = xasprintf("/tmp/kunren-golden-%s", name);
			file_write_atomic(out, got->p, got->len);
			fail_msg("%s differs from %s (written to %s)", name, path, out);
		}
		buf_release(&want);
	}
	free(path);
}

static void test_golden_csvs(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	struct campaign c[2];
	const struct tz *zone = tz_get("Asia/Tokyo");
	assert_int_equal(store_campaign_get(f->s, f->tenant, f->c1, a, &c[0]), 0);
	assert_int_equal(store_campaign_get(f->s, f->tenant, f->c2, a, &c[1]), 0);
	static const struct { enum csv_encoding enc; const char *suffix; } encs[] = {
		{ CSV_UTF8_BOM, "utf8" }, { CSV_CP932, "cp932" },
	};
	for (size_t e = 0; e < ARRAY_SIZE(encs); e++) {
		for (int excl = 0; excl < 2; excl++) {
			struct exclusion x = { excl, c[0].exclusion_seconds };
			struct buf out = BUF_INIT(0);
			char *name = xasprintf("results-%s-%s.csv", excl ? "excluded" : "all", encs[e].suffix);
			assert_int_equal(report_results_csv(f->s, &c[0], zone, &x, encs[e].enc, &out), 0);
			golden(name, &out);
			free(name);
			buf_reset(&out);
			name = xasprintf("events-%s-%s.csv", excl ? "excluded" : "all", encs[e].suffix);
			assert_int_equal(report_events_csv(f->s, &c[0], zone, &x, encs[e].enc, &out), 0);
			golden(name, &out);
			free(name);
			buf_release(&out);
		}
		struct buf out = BUF_INIT(0);
		char *name = xasprintf("cumulative-%s.csv", encs[e].suffix);
		assert_int_equal(report_cumulative_csv(f->s, c, 2, true, encs[e].enc, &out), 0);
		golden(name, &out);
		free(name);
		buf_release(&out);
	}
	arena_free(a);
}

static void expect_same_counts(struct store *s, const struct campaign *c, const struct exclusion *x)
{
	struct campaign_counts fast, slow;
	assert_int_equal(report_campaign_counts(s, c, x, &fast), 0);
	assert_int_equal(report__counts_slow(s, c, x, &slow), 0);
	assert_memory_equal(&fast, &slow, sizeof(fast));
}

/* Counted events per kind: the histogram's (SQL) and the C rule's. */
static int count_events(void *ctx, const struct target *t, const struct event *ev, size_t n,
			const struct target_summary *sum)
{
	for (int k = 0; k < EV__COUNT; k++)
		((int64_t *)ctx)[k] += sum->count[k];
	return 0;
}

static void expect_same_timeline(struct store *s, const struct campaign *c, const struct exclusion *x)
{
	struct arena *a = arena_new(0);
	struct timeline_row *t;
	size_t n;
	int64_t bucket, sql_n[EV__COUNT] = { 0 }, c_n[EV__COUNT] = { 0 };
	assert_int_equal(report_timeline(s, c, x, a, &bucket, &t, &n), 0);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < EV__COUNT; k++)
			sql_n[k] += t[i].n[k];
	assert_int_equal(report_each_target(s, c, x, count_events, c_n), 0);
	for (int k = EV_OPENED; k < EV__COUNT; k++)
		if (sql_n[k] != c_n[k])
			fail_msg("%s: SQL %lld, C %lld (exclude %d, %lld s)", event_kind_name((enum event_kind)k),
				 (long long)sql_n[k], (long long)c_n[k], x->exclude, (long long)x->seconds);
	arena_free(a);
}

static void test_reasons(void **state)
{
	struct target t = { .sent_at = 1000 };
	struct event e = { .kind = EV_CLICKED, .at_ms = 1005 * 1000, .signals = EVS_NO_OPEN | EVS_SCANNER_UA };
	const char *codes[REPORT_REASONS];
	uint32_t r = report_event_reasons(&e, &t, 60);
	assert_int_equal(r, EVS_NO_OPEN | EVS_SCANNER_UA | REASON_FAST);
	assert_int_equal(report_reason_codes(r, codes), 3);
	assert_string_equal(codes[0], "scanner_ua");
	assert_string_equal(codes[1], "no_open");
	assert_string_equal(codes[2], "fast");
	char buf[256];
	assert_string_equal(report_reasons_text(r, buf, sizeof(buf)), "スキャナーのUA、開封なしのクリック、配信直後");
	assert_int_equal(report_reason_codes(~0u, codes), REPORT_REASONS);
	/* no_open alone is a hint, no machine event */
	e.at_ms = 9000 * 1000;
	e.signals = EVS_NO_OPEN;
	assert_false(report_event_is_machine(&e, &t, 60));
	assert_int_equal(report_event_reasons(&e, &t, 60), EVS_NO_OPEN);
	e.at_ms = 1005 * 1000;
	e.signals = EVS_NO_OPEN | EVS_SCANNER_UA;
	/* counted: a machine event only when machine events are included; a
	 * probe never; a person's event always */
	struct exclusion on = { true, 60 }, off = { false, 60 };
	assert_false(report_event_counts(&e, &t, &on));
	assert_true(report_event_counts(&e, &t, &off));
	e.signals = EVS_HEAD;
	e.at_ms = 9000 * 1000;
	assert_true(report_event_is_machine(&e, &t, 60));
	assert_false(report_event_counts(&e, &t, &off));
	assert_false(report_event_counts(&e, &t, NULL));
	e.signals = 0;
	assert_false(report_event_is_machine(&e, &t, 60));
	assert_true(report_event_counts(&e, &t, &on));
	/* the seconds rule: reactions only, and only once delivery is known */
	e.at_ms = 1005 * 1000;
	assert_true(report_event_is_machine(&e, &t, 60));
	assert_false(report_event_is_machine(&e, &t, 0));
	e.kind = EV_SENT;
	assert_false(report_event_is_machine(&e, &t, 60));
	e.kind = EV_CLICKED;
	t.sent_at = 0;
	assert_false(report_event_is_machine(&e, &t, 60));
}

static void test_settle_bursts(void **state)
{
	struct event ev[] = {
		{ .kind = EV_CLICKED, .at_ms = 1000 },                           /* 2.5 s before: a person's */
		{ .kind = EV_OPENED, .at_ms = 2600 },                            /* no click: untouched */
		{ .kind = EV_CLICKED, .at_ms = 2500 },                           /* exactly 1 s before */
		{ .kind = EV_CLICKED, .at_ms = 3000, .signals = EVS_NO_OPEN },
		{ .kind = EV_CLICKED, .at_ms = 3500, .signals = EVS_LINK_BURST },
		{ .kind = EV_CLICKED, .at_ms = 3500 },                           /* same ms, after it */
		{ .kind = EV_CLICKED, .at_ms = 3501 },                           /* after: not part of it */
	};
	report_settle_signals(ev, ARRAY_SIZE(ev));
	assert_int_equal(ev[0].signals, 0);
	assert_int_equal(ev[1].signals, 0);
	assert_int_equal(ev[2].signals, EVS_LINK_BURST);
	assert_int_equal(ev[3].signals, EVS_NO_OPEN | EVS_LINK_BURST);
	assert_int_equal(ev[4].signals, EVS_LINK_BURST);
	assert_int_equal(ev[5].signals, EVS_LINK_BURST);
	assert_int_equal(ev[6].signals, 0);
	report_settle_signals(ev, 0);
}

static void test_sql_counts_agree_with_the_c_rule(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	struct campaign c;
	assert_int_equal(store_campaign_get(f->s, f->tenant, f->c1, a, &c), 0);
	struct campaign_counts k;
	struct exclusion on = { true, c.exclusion_seconds }, off = { false, c.exclusion_seconds };
	assert_int_equal(report_campaign_counts(f->s, &c, &on, &k), 0);
	assert_int_equal(k.targets, 4);
	assert_int_equal(k.sent, 3);
	assert_int_equal(k.errors, 1);
	assert_int_equal(k.opened, 2);
	assert_int_equal(k.clicked, 2);
	assert_int_equal(k.file_opened, 1);
	assert_int_equal(k.submitted, 1);
	expect_same_counts(f->s, &c, &on);
	expect_same_counts(f->s, &c, &off);
	/* many random events with random signals, some within the exclusion
	 * window, some link bursts, written the way the tracker does (so the
	 * columns are kept by store_events_add) in random time order */
	srand(7);
	static const uint32_t sigs[] = { 0, 0, 0, 0, EVS_HEAD, EVS_OPTIONS, EVS_SCANNER_UA, EVS_LINK_BURST,
					 EVS_LINK_BURST, EVS_HIDDEN_LINK, EVS_SHARED_IP, EVS_NO_OPEN,
					 EVS_NO_OPEN | EVS_LINK_BURST, EVS_HEAD | EVS_LINK_BURST };
	static const enum event_kind kinds[] = { EV_OPENED, EV_CLICKED, EV_CLICKED, EV_CLICKED, EV_FILE_OPENED,
						 EV_SUBMITTED, EV_REPORTED };
	for (int i = 0; i < 600; i++) {
		struct event e = { .campaign_id = 1, .target_id = 1 + rand() % 4, .kind = kinds[rand() % 7],
				   .at_ms = (1712365200 + rand() % 400) * (int64_t)1000 + rand() % 1000,
				   .signals = sigs[rand() % ARRAY_SIZE(sigs)] };
		assert_int_equal(store_events_add(f->s, &e, 1), 0);
		if (i % 50 == 0) {
			expect_same_counts(f->s, &c, &off);
			expect_same_timeline(f->s, &c, &off);
			for (int64_t secs = 0; secs <= 300; secs += 100) {
				struct exclusion x = { true, secs };
				expect_same_counts(f->s, &c, &x);
				expect_same_timeline(f->s, &c, &x);
			}
		}
	}
	/* and as the tracker's group commit writes them: batches of several
	 * events (one INSERT and one UPDATE a batch on PostgreSQL), one of
	 * them a rid whose target is gone */
	for (int i = 0; i < 20; i++) {
		struct event batch[32];
		int nb = 1 + rand() % (int)ARRAY_SIZE(batch);
		for (int j = 0; j < nb; j++)
			batch[j] = (struct event){ .campaign_id = 1, .target_id = 1 + rand() % 4, .kind = kinds[rand() % 7],
						   .at_ms = (1712365200 + rand() % 400) * (int64_t)1000 + rand() % 1000,
						   .signals = sigs[rand() % ARRAY_SIZE(sigs)],
						   .ip = j % 3 ? "198.51.100.7" : NULL,
						   .user_agent = j % 2 ? "Mozilla/5.0 \"quoted\" \\ {a,b} NULL" : "NULL" };
		if (i == 5)
			batch[nb - 1].target_id = 99;
		assert_int_equal(store_events_add(f->s, batch, (size_t)nb), 0);
		expect_same_counts(f->s, &c, &off);
		struct exclusion x = { true, 100 };
		expect_same_counts(f->s, &c, &x);
		expect_same_timeline(f->s, &c, &x);
	}
	struct event *evs;
	size_t nev;
	assert_int_equal(store_events(f->s, f->tenant, c.id, 1, 4, a, &evs, &nev), 0);
	bool quoted = false, null_text = false;
	for (size_t i = 0; i < nev; i++) {
		quoted |= evs[i].user_agent && !strcmp(evs[i].user_agent, "Mozilla/5.0 \"quoted\" \\ {a,b} NULL");
		null_text |= evs[i].user_agent && !strcmp(evs[i].user_agent, "NULL");
	}
	assert_true(quoted && null_text);
	expect_same_counts(f->s, &c, &on);
	expect_same_counts(f->s, &c, &off);
	expect_same_timeline(f->s, &c, &on);
	/* the columns kept event by event are those computed from scratch */
	struct campaign_counts before[2], after[2];
	assert_int_equal(report_campaign_counts(f->s, &c, &on, &before[0]), 0);
	assert_int_equal(report_campaign_counts(f->s, &c, &off, &before[1]), 0);
	refresh_reach_full(f);
	assert_int_equal(report_campaign_counts(f->s, &c, &on, &after[0]), 0);
	assert_int_equal(report_campaign_counts(f->s, &c, &off, &after[1]), 0);
	assert_memory_equal(before, after, sizeof(before));
	/* and grouped: every group's counts add up to the whole */
	struct breakdown_row *rows;
	size_t n;
	assert_int_equal(report_breakdown(f->s, &c, &on, PF_DEPARTMENT, a, &rows, &n), 0);
	int64_t targets = 0, opened = 0;
	for (size_t i = 0; i < n; i++) {
		targets += rows[i].counts.targets;
		opened += rows[i].counts.opened;
	}
	assert_int_equal(report_campaign_counts(f->s, &c, &on, &k), 0);
	assert_int_equal(targets, k.targets);
	assert_int_equal(opened, k.opened);
	arena_free(a);
}

static void test_timeline_and_tally(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	struct campaign c[2];
	assert_int_equal(store_campaign_get(f->s, f->tenant, f->c1, a, &c[0]), 0);
	assert_int_equal(store_campaign_get(f->s, f->tenant, f->c2, a, &c[1]), 0);
	struct exclusion off = { false, 0 };
	struct timeline_row *t;
	size_t n;
	int64_t bucket;
	assert_int_equal(report_timeline(f->s, &c[0], &off, a, &bucket, &t, &n), 0);
	assert_int_equal(bucket, 86400); /* launched in 2024: a long campaign, daily buckets */
	int64_t opened = 0;
	for (size_t i = 0; i < n; i++)
		opened += t[i].n[EV_OPENED];
	assert_int_equal(opened, 3);
	struct tally *y;
	size_t ny;
	assert_int_equal(report_tally(f->s, c, 2, true, a, &y, &ny), 0);
	assert_int_equal(ny, 4);
	assert_string_equal(y[0].p.f[PF_EMAIL], "taro@example.co.jp");
	assert_int_equal(y[0].clicked_in, 2); /* a repeat clicker */
	assert_int_equal(y[0].campaigns, 2);
	int64_t first;
	assert_int_equal(report_first_report(f->s, &c[1], true, &first), 0);
	assert_int_equal(first, 480 + 900);
	assert_int_equal(report_first_report(f->s, &c[0], true, &first), 0);
	assert_int_equal(first, -1);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_settle_bursts),
		cmocka_unit_test_setup_teardown(test_golden_csvs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sql_counts_agree_with_the_c_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeline_and_tally, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
