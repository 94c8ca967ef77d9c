/* Tests of src/store/store.c: migrations, tenant isolation, the campaign
 * life cycle from launch to events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/store.h"
#include "../teststore.h" /* test_db_new: SQLite, or PostgreSQL with KUNREN_TEST_PG */

#include <unistd.h>

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

struct fixture {
	char dir[64];
	char *where; /* the database: test_db_new */
	struct store *s;
	int64_t t1, t2;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	int applied;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->where = test_db_new(f->dir);
	assert_int_equal(store_open(f->where, &f->s, &err), 0);
	assert_int_equal(store_migrate(f->s, &applied), 0);
	assert_true(applied >= 1);
	assert_int_equal(store_migrate(f->s, &applied), 0);
	assert_int_equal(applied, 0); /* idempotent */
	assert_int_equal(store_tenant_create(f->s, "A社", "Asia/Tokyo", &f->t1), 0);
	assert_int_equal(store_tenant_create(f->s, "B社", "UTC", &f->t2), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	test_db_remove(f->where, f->dir);
	free(f);
	return 0;
}

static struct person person(const char *last, const char *email, bool test)
{
	struct person p = { .is_test = test };
	for (int i = 0; i < PF__COUNT; i++)
		p.f[i] = "";
	p.f[PF_LAST_NAME] = last;
	p.f[PF_EMAIL] = email;
	return p;
}

static int64_t make_list(struct fixture *f, int64_t tenant, size_t n)
{
	int64_t id, added, updated;
	assert_int_equal(store_list_create(f->s, tenant, "list", &id), 0);
	struct person *rows = xcalloc(n, sizeof(*rows));
	char **emails = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		emails[i] = xasprintf("user%zu@example.co.jp", i);
		rows[i] = person("山田", emails[i], i == 0);
	}
	assert_int_equal(store_recipients_import(f->s, tenant, id, rows, n, &added, &updated), 0);
	assert_int_equal(added, (int64_t)n);
	assert_int_equal(updated, 0);
	for (size_t i = 0; i < n; i++)
		free(emails[i]);
	free(emails);
	free(rows);
	return id;
}

static int64_t make_scenario(struct fixture *f, int64_t tenant)
{
	struct scenario_rec sc = {
		.name = "s", .description = "", .genre = "その他", .type = "URLリンク型", .level = "初級",
		.lang = "ja", .subject = "件名", .html = "<p>{{URL}}</p>", .text = "{{URL}}",
		.sender_name = "", .sender_local = "it", .sender_domain = "example.co.jp",
		.explain_html = "<p>訓練</p>",
	};
	int64_t id;
	assert_int_equal(store_scenario_create(f->s, tenant, &sc, &id), 0);
	return id;
}

static void test_reimport_overwrites(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 3), added, updated;
	struct person again = person("川田", "user1@example.co.jp", true);
	assert_int_equal(store_recipients_import(f->s, f->t1, list, &again, 1, &added, &updated), 0);
	assert_int_equal(added, 0);
	assert_int_equal(updated, 1);
	struct arena *a = arena_new(0);
	struct recipient *r;
	size_t n;
	struct recipient_query all = { .limit = 100 };
	int64_t total;
	assert_int_equal(store_recipients(f->s, f->t1, list, &all, a, &r, &n, &total), 0);
	assert_int_equal(total, 3);
	assert_int_equal(n, 3);
	assert_string_equal(r[1].p.f[PF_LAST_NAME], "川田");
	assert_true(r[1].p.is_test);
	struct list_info li;
	assert_int_equal(store_list_get(f->s, f->t1, list, a, &li), 0);
	assert_int_equal(li.recipient_count, 3);
	assert_int_equal(li.test_count, 2);
	arena_free(a);
}

static void test_tenants_never_see_each_other(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 2), sc = make_scenario(f, f->t1), added, updated, cid;
	struct arena *a = arena_new(0);
	struct list_info li;
	struct scenario_rec s;
	struct recipient *r;
	size_t n;
	struct person p = person("x", "x@example.co.jp", false);

	assert_int_equal(store_list_get(f->s, f->t2, list, a, &li), -ENOENT);
	assert_int_equal(store_scenario_get(f->s, f->t2, sc, a, &s), -ENOENT);
	struct recipient_query all = { .limit = 100 };
	int64_t total;
	assert_int_equal(store_recipients(f->s, f->t2, list, &all, a, &r, &n, &total), 0);
	assert_int_equal(total, 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_recipients_import(f->s, f->t2, list, &p, 1, &added, &updated), -ENOENT);
	assert_int_equal(store_list_delete(f->s, f->t2, list), -ENOENT);
	/* a campaign of B cannot use A's scenario or list */
	int64_t ids[] = { list };
	struct campaign c = { .name = "c", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1 };
	assert_int_equal(store_campaign_create(f->s, f->t2, &c, &cid), -ENOENT);
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	struct campaign got;
	assert_int_equal(store_campaign_get(f->s, f->t2, cid, a, &got), -ENOENT);
	int64_t nt;
	assert_int_equal(launch_now(f->s, f->t2, cid, &nt), -ENOENT);
	struct event *ev;
	assert_int_equal(store_events(f->s, f->t2, cid, 0, INT64_MAX, a, &ev, &n), 0);
	assert_int_equal(n, 0);
	arena_free(a);
}

static void test_campaign_life(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 5), sc = make_scenario(f, f->t1), cid, nt;
	int64_t ids[] = { list, list };
	struct campaign c = { .name = "訓練", .scenario_id = sc, .sender_name = "情報", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 2 };
	struct arena *a = arena_new(0);
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), 0);
	assert_int_equal(nt, 5); /* the same list twice: each address once */
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), -EBUSY);

	struct target *t;
	size_t n;
	assert_int_equal(claim_and_begin(f->s, 3, a, &t, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strlen(t[i].rid), RID_LEN);
		assert_int_equal(t[i].tenant_id, f->t1);
		assert_int_equal(store_target_sent(f->s, t[i].id, now_ms(), "<id@x>"), 0);
	}
	assert_int_equal(store_campaigns_tick_now(f->s), 0); /* two still pending */
	struct target *rest;
	size_t nrest;
	assert_int_equal(claim_and_begin(f->s, 10, a, &rest, &nrest), 0);
	assert_int_equal(nrest, 2);
	assert_int_equal(store_target_failed(f->s, rest[0].id, now_ms(), "550 no such user"), 0);
	/* a 4xx: pending again, due now, one attempt more */
	assert_int_equal(store_target_retry(f->s, rest[1].id, now_unix(), "451 try later"), 0);
	assert_int_equal(store_target_retry(f->s, rest[1].id, now_unix(), "451 again"), -ESTALE);
	assert_int_equal(claim_and_begin(f->s, 10, a, &rest, &nrest), 0);
	assert_int_equal(nrest, 1);
	assert_int_equal(rest[0].attempts, 1);
	assert_string_equal(rest[0].error, "451 try later");
	assert_int_equal(store_target_sent(f->s, rest[0].id, now_ms(), "<id2@x>"), 0);
	assert_int_equal(store_campaigns_tick_now(f->s), 1);
	struct campaign got;
	assert_int_equal(store_campaign_get(f->s, f->t1, cid, a, &got), 0);
	assert_int_equal(got.state, CAMPAIGN_RUNNING);
	assert_int_equal(got.nlist_ids, 1);

	struct target byrid;
	assert_int_equal(store_target_by_rid(f->s, t[0].rid, a, &byrid), 0);
	assert_int_equal(byrid.id, t[0].id);
	assert_int_equal(store_target_by_rid(f->s, "nope", a, &byrid), -ENOENT);
	struct event e = { .campaign_id = cid, .target_id = t[0].id, .kind = EV_OPENED, .at_ms = now_ms(),
			   .ip = "127.0.0.1", .user_agent = "UA" };
	assert_int_equal(store_events_add(f->s, &e, 1), 0);
	struct event *ev;
	assert_int_equal(store_events(f->s, f->t1, cid, t[0].id, t[0].id, a, &ev, &n), 0);
	assert_int_equal(n, 2); /* sent + opened */
	assert_int_equal(ev[0].kind, EV_SENT);
	assert_int_equal(ev[1].kind, EV_OPENED);
	assert_string_equal(ev[1].ip, "127.0.0.1");
	assert_int_equal(store_events(f->s, f->t1, cid, 0, INT64_MAX, a, &ev, &n), 0);
	assert_int_equal(ev[0].kind, EV_CREATED); /* the campaign's own event first */
	assert_int_equal(ev[0].target_id, 0);

	/* an ended campaign stops accepting events; a used list cannot be deleted */
	assert_int_equal(store_campaign_transition(f->s, f->t1, cid, 1u << CAMPAIGN_RUNNING, CAMPAIGN_CANCELLED,
						   now_unix(), NULL, NULL), 0);
	assert_int_equal(store_target_by_rid(f->s, t[0].rid, a, &byrid), -ENOENT);
	assert_int_equal(store_campaign_transition(f->s, f->t1, cid, 1u << CAMPAIGN_RUNNING, CAMPAIGN_FINISHED,
						   now_unix(), NULL, NULL), -EBUSY);
	assert_int_equal(store_list_delete(f->s, f->t1, list), -EBUSY);
	arena_free(a);
}

static void test_test_only_launch(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 4), sc = make_scenario(f, f->t1), cid, nt;
	int64_t ids[] = { list };
	struct campaign c = { .name = "t", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1, .test_only = true };
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), 0);
	assert_int_equal(nt, 1);
	int64_t empty;
	assert_int_equal(store_list_create(f->s, f->t1, "empty", &empty), 0);
	ids[0] = empty;
	c.test_only = false;
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), -ENODATA);
	struct arena *a = arena_new(0);
	struct campaign got;
	assert_int_equal(store_campaign_get(f->s, f->t1, cid, a, &got), 0);
	assert_int_equal(got.state, CAMPAIGN_DRAFT); /* nothing changed */
	arena_free(a);
}

static void test_cancel_takes_back_claimed_targets(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 3), sc = make_scenario(f, f->t1), cid, nt;
	int64_t ids[] = { list };
	struct campaign c = { .name = "c", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1 };
	struct arena *a = arena_new(0);
	struct target *t;
	size_t n;
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), 0);
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 2, a, &t, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_target_begin(f->s, t[1].id), 1); /* t[1] is with the relay */
	assert_int_equal(store_campaign_transition(f->s, f->t1, cid, 1u << CAMPAIGN_SENDING, CAMPAIGN_CANCELLED,
						   now_unix(), NULL, NULL), 0);
	/* the worker finds out before sending t[0], and cannot record a send after all */
	assert_int_equal(store_target_begin(f->s, t[0].id), 0);
	assert_int_equal(store_target_sent(f->s, t[0].id, now_ms(), "<x@y>"), -ESTALE);
	/* what the relay already had is recorded as it went */
	assert_int_equal(store_target_failed(f->s, t[1].id, now_ms(), "550"), 0);
	struct event *ev;
	assert_int_equal(store_events(f->s, f->t1, cid, 1, INT64_MAX, a, &ev, &n), 0);
	assert_int_equal(n, 1);
	struct target *rest;
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 10, a, &rest, &n), 0);
	assert_int_equal(n, 0);
	struct delivery_counts dc;
	assert_int_equal(store_campaign_delivery(f->s, f->t1, cid, &dc), 0);
	assert_int_equal(dc.n[TARGET_CANCELLED], 2);
	assert_int_equal(dc.n[TARGET_ERROR], 1);
	arena_free(a);
}

/* After a crash: claimed targets are requeued, those with the relay uncertain. */
static void test_recover_after_crash(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 3), sc = make_scenario(f, f->t1), cid, nt, requeued, uncertain;
	int64_t ids[] = { list };
	struct campaign c = { .name = "c", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1 };
	struct arena *a = arena_new(0);
	struct target *t;
	size_t n;
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), 0);
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 3, a, &t, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_target_begin(f->s, t[0].id), 1);
	assert_int_equal(store_target_sent(f->s, t[0].id, now_ms(), "<a@x>"), 0);
	assert_int_equal(store_target_begin(f->s, t[1].id), 1); /* the crash comes here */
	assert_int_equal(store_targets_recover(f->s, 0, true, &requeued, &uncertain), 0);
	assert_int_equal(requeued, 1);
	assert_int_equal(uncertain, 1);
	struct delivery_counts dc;
	assert_int_equal(store_campaign_delivery(f->s, f->t1, cid, &dc), 0);
	assert_int_equal(dc.n[TARGET_SENT], 1);
	assert_int_equal(dc.n[TARGET_UNCERTAIN], 1);
	assert_int_equal(dc.n[TARGET_PENDING], 1);
	/* only the requeued one goes again */
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 10, a, &t, &n), 0);
	assert_int_equal(n, 1);
	arena_free(a);
}

/* Pause keeps mail back; resume plans again; an edit adds and removes pending targets. */
static int plan_later(void *ctx, size_t n, const char *const *emails, int64_t *due)
{
	for (size_t i = 0; i < n; i++)
		due[i] = *(int64_t *)ctx + (int64_t)i;
	(void)emails;
	return 0;
}

static void test_pause_resume_and_edit(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 3), sc = make_scenario(f, f->t1), cid, nt, later = now_unix() + 3600;
	int64_t ids[] = { list };
	struct campaign c = { .name = "c", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1 };
	struct arena *a = arena_new(0);
	struct target *t;
	size_t n;
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), 0);
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 1, a, &t, &n), 0);
	unsigned live = 1u << CAMPAIGN_SCHEDULED | 1u << CAMPAIGN_SENDING;
	assert_int_equal(store_campaign_transition(f->s, f->t1, cid, live, CAMPAIGN_PAUSED, now_unix(), NULL, NULL), 0);
	assert_int_equal(store_target_begin(f->s, t[0].id), 0); /* back to pending, not sent */
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 10, a, &t, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_campaign_transition(f->s, f->t1, cid, live, CAMPAIGN_PAUSED, now_unix(), NULL, NULL), -EBUSY);
	assert_int_equal(store_campaign_transition(f->s, f->t1, cid, 1u << CAMPAIGN_PAUSED, CAMPAIGN_SENDING, now_unix(),
						   plan_later, &later), 0);
	struct campaign got;
	assert_int_equal(store_campaign_get(f->s, f->t1, cid, a, &got), 0);
	assert_int_equal(got.state, CAMPAIGN_SENDING);
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 10, a, &t, &n), 0);
	assert_int_equal(n, 0); /* planned an hour from now */
	assert_int_equal(store_targets_claim(f->s, 0, later + 10, 10, a, &t, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_target_release(f->s, t[i].id), 0);
	/* a new list: its people become targets; the old list's pending ones go */
	int64_t other = make_list(f, f->t1, 2);
	got.list_ids = &other;
	got.nlist_ids = 1;
	got.name = "renamed";
	assert_int_equal(store_campaign_update(f->s, f->t1, cid, &got, plan_later, &later), 0);
	assert_int_equal(store_campaign_get(f->s, f->t1, cid, a, &got), 0);
	assert_string_equal(got.name, "renamed");
	assert_int_equal(got.target_count, 2);
	arena_free(a);
}

/* SPEC A2/A3: the licence is checked at launch (with other live campaigns'
 * unsent mail) and again right before each send. */
static void test_licence_send_count(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	struct tenant t;
	struct licence_check lc;
	int64_t sc = make_scenario(f, f->t1), ca, cb, nt;
	assert_int_equal(store_tenant_get(f->s, f->t1, a, &t), 0);
	assert_int_equal(t.licence, LICENCE_SEND_COUNT);
	t.quota = 15;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	int64_t la = make_list(f, f->t1, 13), lb = make_list(f, f->t1, 13); /* 12 counted each */
	struct campaign c = { .name = "a", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = &la, .nlist_ids = 1 };
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &ca), 0);
	c.list_ids = &lb;
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cb), 0);
	assert_int_equal(launch_now(f->s, f->t1, ca, &nt), 0);
	/* a's 12 unsent mails are spoken for: 3 remain */
	assert_int_equal(store_campaign_launch(f->s, f->t1, cb, now_unix(), 10, store_plan_at_once, NULL, &nt, &lc),
			 -EDQUOT);
	assert_int_equal(lc.need, 12);
	assert_int_equal(lc.remain, 3);
	struct campaign got;
	assert_int_equal(store_campaign_get(f->s, f->t1, cb, a, &got), 0);
	assert_int_equal(got.state, CAMPAIGN_DRAFT); /* nothing changed */
	struct target *tg;
	size_t n;
	assert_int_equal(claim_and_begin(f->s, 100, a, &tg, &n), 0);
	assert_int_equal(n, 13);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_target_sent(f->s, tg[i].id, now_ms(), "<m@x>"), 0);
	struct usage u;
	assert_int_equal(store_usage_get(f->s, f->t1, &u), 0);
	assert_int_equal(u.sends, 12); /* the test target is not counted */
	assert_int_equal(u.addresses, 12);
	/* unlimited: b launches; then a quota of 14 lets two more go, not three */
	t.quota = 0;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	assert_int_equal(launch_now(f->s, f->t1, cb, &nt), 0);
	t.quota = 14;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 100, a, &tg, &n), 0);
	assert_int_equal(n, 13);
	int went = 0, refused = 0;
	for (size_t i = 0; i < n; i++) {
		int r = store_target_begin(f->s, tg[i].id);
		went += r == 1;
		refused += r == -EDQUOT;
	}
	assert_int_equal(went, 3); /* two counted + the test target */
	assert_int_equal(refused, 10);
	struct delivery_counts dc;
	assert_int_equal(store_campaign_delivery(f->s, f->t1, cb, &dc), 0);
	assert_int_equal(dc.n[TARGET_ERROR], 10);
	/* a suspended tenant sends nothing and launches nothing */
	t.suspended = true;
	t.quota = 0;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	int64_t cc, lc2 = make_list(f, f->t1, 2);
	c.list_ids = &lc2;
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cc), 0);
	assert_int_equal(store_campaign_launch(f->s, f->t1, cc, now_unix(), 10, store_plan_at_once, NULL, &nt, NULL),
			 -EPERM);
	arena_free(a);
}

static void test_licence_addresses_and_trial(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	struct tenant t;
	struct licence_check lc;
	int64_t sc = make_scenario(f, f->t2), c1, c2, nt;
	assert_int_equal(store_tenant_get(f->s, f->t2, a, &t), 0);
	t.licence = LICENCE_ADDRESSES;
	t.quota = 12;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	int64_t l1 = make_list(f, f->t2, 13);
	struct campaign c = { .name = "a", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = &l1, .nlist_ids = 1 };
	assert_int_equal(store_campaign_create(f->s, f->t2, &c, &c1), 0);
	assert_int_equal(launch_now(f->s, f->t2, c1, &nt), 0);
	struct target *tg;
	size_t n;
	assert_int_equal(claim_and_begin(f->s, 100, a, &tg, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_target_sent(f->s, tg[i].id, now_ms(), "<m@x>"), 0);
	/* the same 12 addresses again: nothing new is needed */
	assert_int_equal(store_campaign_create(f->s, f->t2, &c, &c2), 0);
	assert_int_equal(store_campaign_launch(f->s, f->t2, c2, now_unix(), 10, store_plan_at_once, NULL, &nt, &lc), 0);
	assert_int_equal(lc.need, 0);
	/* a trial sends to at most 10 targets per campaign */
	t.licence = LICENCE_TRIAL;
	t.quota = 0;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	int64_t c3;
	assert_int_equal(store_campaign_create(f->s, f->t2, &c, &c3), 0);
	assert_int_equal(store_campaign_launch(f->s, f->t2, c3, now_unix(), 10, store_plan_at_once, NULL, &nt, NULL),
			 -E2BIG);
	arena_free(a);
}

/* SPEC A4: a purge leaves no row of the tenant and nothing of the others goes. */
static void test_tenant_purge(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	int64_t l = make_list(f, f->t2, 12), sc = make_scenario(f, f->t2), cid, nt, acc, before, after, rows;
	make_list(f, f->t1, 3);
	struct campaign c = { .name = "a", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = &l, .nlist_ids = 1 };
	assert_int_equal(store_campaign_create(f->s, f->t2, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t2, cid, &nt), 0);
	struct target *tg;
	size_t n;
	assert_int_equal(claim_and_begin(f->s, 100, a, &tg, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_target_sent(f->s, tg[i].id, now_ms(), "<m@x>"), 0);
	assert_int_equal(store_account_create(f->s, f->t2, "b-owner", "$argon2id$x", ROLE_OWNER, &acc), 0);
	unsigned char h[STORE_HASH_LEN] = { 7 };
	assert_int_equal(store_api_key_add(f->s, acc, h, "k"), 0);
	h[0] = 8;
	assert_int_equal(store_session_create(f->s, h, acc, "csrf", now_unix()), 0);
	assert_int_equal(store_audit_add(f->s, f->t2, acc, "login", "x"), 0);
	struct sending_profile p = { .tenant_id = f->t2, .name = "p", .host = "h", .port = 25, .username = "",
				     .helo = "", .connections = 1, .per_connection = 1 };
	int64_t pid;
	assert_int_equal(store_profile_create(f->s, &p, &pid), 0);
	assert_int_equal(store_tenant_row_count(f->s, f->t1, &before), 0);
	assert_int_equal(store_tenant_row_count(f->s, f->t2, &rows), 0);
	assert_true(rows > 12 * 3);
	int64_t ids_n;
	int64_t *ids;
	size_t nid;
	struct tenant t;
	assert_int_equal(store_tenant_get(f->s, f->t2, a, &t), 0);
	t.period_end = 1000;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	assert_int_equal(store_tenants_due_deletion(f->s, now_unix(), a, &ids, &nid), 0);
	assert_int_equal(nid, 1);
	assert_int_equal(ids[0], f->t2);
	assert_int_equal(store_tenant_purge(f->s, f->t2, "service period ended", 4, now_unix(), &ids_n), 0);
	assert_int_equal(ids_n, rows);
	assert_int_equal(store_tenant_row_count(f->s, f->t2, &rows), 0);
	assert_int_equal(rows, 0);
	assert_int_equal(store_tenant_row_count(f->s, f->t1, &after), 0);
	assert_int_equal(after, before);
	struct deletion *d;
	assert_int_equal(store_deletion_log(f->s, a, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].tenant_name, "B社");
	assert_int_equal(d[0].files, 4);
	assert_int_equal(store_tenant_get(f->s, f->t2, a, &t), -ENOENT);
	assert_int_equal(store_tenant_purge(f->s, f->t2, "again", 0, now_unix(), NULL), -ENOENT);
	arena_free(a);
}

static void test_account_security(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	int64_t id, until, nf;
	assert_int_equal(store_account_create(f->s, f->t1, "taro", "$argon2id$x", ROLE_FULL, &id), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(store_account_failed(f->s, id, 1000, 5, 900, &until), 0);
		assert_int_equal(until, 0);
	}
	assert_int_equal(store_account_failed(f->s, id, 1000, 5, 900, &until), 0);
	assert_int_equal(until, 1900);
	struct account acc;
	assert_int_equal(store_account_get(f->s, id, a, &acc), 0);
	assert_int_equal(acc.locked_until, 1900);
	assert_int_equal(acc.second_factor, FACTOR_NONE);
	/* settings, TOTP replay */
	acc.email = "taro@example.co.jp";
	acc.second_factor = FACTOR_TOTP;
	acc.totp_sealed = (struct slice){ "sealed", 6 };
	acc.login_notify = true;
	assert_int_equal(store_account_update(f->s, f->t2, &acc), -ENOENT); /* not B's */
	assert_int_equal(store_account_update(f->s, f->t1, &acc), 0);
	assert_int_equal(store_account_get(f->s, id, a, &acc), 0);
	assert_int_equal(acc.second_factor, FACTOR_TOTP);
	assert_int_equal(acc.totp_sealed.len, 6);
	assert_true(acc.login_notify);
	assert_int_equal(store_account_totp_step(f->s, id, 100), 0);
	assert_int_equal(store_account_totp_step(f->s, id, 100), -EALREADY);
	assert_int_equal(store_account_totp_step(f->s, id, 99), -EALREADY);
	assert_int_equal(store_account_totp_step(f->s, id, 101), 0);
	/* challenges: one per account and kind */
	unsigned char tok[STORE_HASH_LEN] = { 1 }, tok2[STORE_HASH_LEN] = { 2 }, code[STORE_HASH_LEN] = { 3 };
	struct challenge ch;
	assert_int_equal(store_challenge_create(f->s, tok, id, CHALLENGE_LOGIN, code, 2000), 0);
	assert_int_equal(store_challenge_find(f->s, tok, &ch), 0);
	assert_true(ch.has_code);
	assert_memory_equal(ch.code_hash, code, STORE_HASH_LEN);
	assert_int_equal(store_challenge_attempt(f->s, ch.id), 0);
	assert_int_equal(store_challenge_create(f->s, tok2, id, CHALLENGE_LOGIN, NULL, 2000), 0);
	assert_int_equal(store_challenge_find(f->s, tok, &ch), -ENOENT);
	assert_int_equal(store_challenge_find(f->s, tok2, &ch), 0);
	assert_false(ch.has_code);
	assert_int_equal(ch.attempts, 0);
	assert_int_equal(store_challenge_delete(f->s, ch.id), 0);
	assert_int_equal(store_challenge_find(f->s, tok2, &ch), -ENOENT);
	/* failed logins per address */
	int64_t now = now_unix();
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_login_failure_add(f->s, "192.0.2.1", now), 0);
	assert_int_equal(store_login_failure_add(f->s, "192.0.2.2", now), 0);
	assert_int_equal(store_login_failures(f->s, "192.0.2.1", now - 60, &nf), 0);
	assert_int_equal(nf, 3);
	assert_int_equal(store_login_failures(f->s, "192.0.2.1", now + 1, &nf), 0);
	assert_int_equal(nf, 0);
	/* password change clears the lock; api keys; audit newest first, per tenant */
	assert_int_equal(store_account_set_password(f->s, id, "$argon2id$y", now), 0);
	assert_int_equal(store_account_get(f->s, id, a, &acc), 0);
	assert_int_equal(acc.locked_until, 0);
	assert_string_equal(acc.password_hash, "$argon2id$y");
	unsigned char kh[STORE_HASH_LEN] = { 9 };
	struct api_key_info *keys;
	size_t n;
	assert_int_equal(store_api_key_add(f->s, id, kh, "script"), 0);
	assert_int_equal(store_api_keys(f->s, id, a, &keys, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(keys[0].label, "script");
	assert_int_equal(store_api_key_delete(f->s, id + 1000, keys[0].id), -ENOENT);
	assert_int_equal(store_api_key_delete(f->s, id, keys[0].id), 0);
	assert_int_equal(store_audit_add(f->s, f->t1, id, "login", "1"), 0);
	assert_int_equal(store_audit_add(f->s, f->t1, id, "logout", "2"), 0);
	assert_int_equal(store_audit_add(f->s, f->t2, 0, "other", "3"), 0);
	struct audit_entry *e;
	assert_int_equal(store_audit(f->s, f->t1, 0, 10, a, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].action, "logout");
	assert_string_equal(e[0].username, "taro");
	assert_int_equal(store_audit(f->s, f->t1, e[0].id, 10, a, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_audit(f->s, -1, 0, 10, a, &e, &n), 0);
	assert_int_equal(n, 3);
	/* the deployment */
	struct branding b;
	assert_int_equal(store_branding_get(f->s, a, &b), 0);
	assert_string_equal(b.service_name, "Kunren");
	b.service_name = "訓練くん";
	b.logo = (struct slice){ "<svg/>", 6 };
	b.logo_type = "image/svg+xml";
	assert_int_equal(store_branding_set(f->s, &b), 0);
	b.logo = (struct slice){ NULL, 0 };
	b.support_contact = "help@example.co.jp";
	assert_int_equal(store_branding_set(f->s, &b), 0);
	assert_int_equal(store_branding_get(f->s, a, &b), 0);
	assert_string_equal(b.service_name, "訓練くん");
	assert_int_equal(b.logo.len, 6);
	struct training_domain td = { .domain = "kunren-train.example" }, *tds;
	int64_t did;
	assert_int_equal(store_domain_add(f->s, &td, &did), 0);
	td.domain = "KUNREN-train.example";
	assert_int_equal(store_domain_add(f->s, &td, &did), -EEXIST);
	assert_int_equal(store_domains(f->s, a, &tds, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(tds[0].spf, "unknown");
	arena_free(a);
}

/* SPEC A1 retention: ended campaigns older than the tenant's retention go. */
static void test_retention(void **state)
{
	struct fixture *f = *state;
	struct arena *a = arena_new(0);
	int64_t now = now_unix(), l = make_list(f, f->t1, 3), sc = make_scenario(f, f->t1), old, recent, live, nt, n;
	struct campaign c = { .name = "古い訓練", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = &l, .nlist_ids = 1 };
	int64_t *ids[] = { &old, &recent, &live };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(store_campaign_create(f->s, f->t1, &c, ids[i]), 0);
		assert_int_equal(launch_now(f->s, f->t1, *ids[i], &nt), 0);
	}
	unsigned any = 1u << CAMPAIGN_SENDING | 1u << CAMPAIGN_RUNNING;
	assert_int_equal(store_campaign_transition(f->s, f->t1, old, any, CAMPAIGN_FINISHED, now - 40 * 86400, NULL, NULL), 0);
	assert_int_equal(store_campaign_transition(f->s, f->t1, recent, any, CAMPAIGN_CANCELLED, now - 10 * 86400, NULL, NULL), 0);
	assert_int_equal(store_retention_purge(f->s, now, &n), 0);
	assert_int_equal(n, 0); /* no retention set: everything is kept */
	struct tenant t;
	assert_int_equal(store_tenant_get(f->s, f->t1, a, &t), 0);
	t.retention_days = 30;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
	assert_int_equal(store_retention_purge(f->s, now, &n), 0);
	assert_int_equal(n, 1);
	struct campaign got;
	assert_int_equal(store_campaign_get(f->s, f->t1, old, a, &got), -ENOENT);
	assert_int_equal(store_campaign_get(f->s, f->t1, recent, a, &got), 0);
	assert_int_equal(store_campaign_get(f->s, f->t1, live, a, &got), 0);
	struct target *tg;
	size_t nt2;
	assert_int_equal(store_targets(f->s, f->t1, old, 0, 10, a, &tg, &nt2), 0);
	assert_int_equal(nt2, 0); /* its targets went with it */
	struct audit_entry *e;
	size_t ne;
	assert_int_equal(store_audit(f->s, f->t1, 0, 10, a, &e, &ne), 0);
	assert_true(ne >= 1);
	assert_string_equal(e[0].action, "campaign.retention_delete");
	arena_free(a);
}

static void test_launch_takes_each_address_once_from_the_first_list(void **state)
{
	struct fixture *f = *state;
	int64_t l1, l2, added, updated, cid, nt, sc = make_scenario(f, f->t1);
	struct person a1[] = { person("一", "dup@example.co.jp", false), person("x", "only1@example.co.jp", false) };
	struct person a2[] = { person("二", "dup@example.co.jp", false), person("y", "only2@example.co.jp", false) };
	assert_int_equal(store_list_create(f->s, f->t1, "l1", &l1), 0);
	assert_int_equal(store_list_create(f->s, f->t1, "l2", &l2), 0);
	/* the duplicate gets the higher recipient id in the first list */
	assert_int_equal(store_recipients_import(f->s, f->t1, l2, a2, 2, &added, &updated), 0);
	assert_int_equal(store_recipients_import(f->s, f->t1, l1, a1, 2, &added, &updated), 0);
	int64_t ids[] = { l2, l1 };
	struct campaign c = { .name = "c", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 2 };
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(launch_now(f->s, f->t1, cid, &nt), 0);
	assert_int_equal(nt, 3);
	struct arena *a = arena_new(0);
	struct target *t;
	size_t n;
	assert_int_equal(store_targets(f->s, f->t1, cid, 0, 10, a, &t, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].p.f[PF_EMAIL], "dup@example.co.jp"))
			assert_string_equal(t[i].p.f[PF_LAST_NAME], "一"); /* from the lower list id */
	arena_free(a);
}

static void test_recipient_editing_and_queries(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f, f->t1, 30), id, total;
	struct arena *a = arena_new(0);
	struct recipient *r;
	size_t n;

	/* search (wildcards literal), sort, offset, total */
	struct recipient_query q = { .q = "user1", .limit = 100 };
	assert_int_equal(store_recipients(f->s, f->t1, list, &q, a, &r, &n, &total), 0);
	assert_int_equal(total, 11); /* user1, user10..user19 */
	q = (struct recipient_query){ .q = "%", .limit = 100 };
	assert_int_equal(store_recipients(f->s, f->t1, list, &q, a, &r, &n, &total), 0);
	assert_int_equal(total, 0);
	q = (struct recipient_query){ .sort = "email", .desc = true, .offset = 5, .limit = 10 };
	assert_int_equal(store_recipients(f->s, f->t1, list, &q, a, &r, &n, &total), 0);
	assert_int_equal(n, 10);
	assert_int_equal(total, 30);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(r[i - 1].p.f[PF_EMAIL], r[i].p.f[PF_EMAIL]) > 0);
	q = (struct recipient_query){ .offset = 100, .limit = 10 };
	assert_int_equal(store_recipients(f->s, f->t1, list, &q, a, &r, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_int_equal(total, 30);
	q = (struct recipient_query){ .sort = "password; DROP TABLE lists", .limit = 10 };
	assert_int_equal(store_recipients(f->s, f->t1, list, &q, a, &r, &n, &total), -EINVAL);

	/* add, clash, update, delete */
	struct person p = person("新", "new@example.co.jp", false);
	assert_int_equal(store_recipient_add(f->s, f->t1, list, &p, &id), 0);
	assert_int_equal(store_recipient_add(f->s, f->t1, list, &p, &id), -EEXIST);
	assert_int_equal(store_recipient_add(f->s, f->t2, list, &p, &id), -ENOENT);
	struct recipient got;
	assert_int_equal(store_recipient_get(f->s, f->t1, list, id, a, &got), 0);
	assert_string_equal(got.p.f[PF_LAST_NAME], "新");
	assert_int_equal(store_recipient_get(f->s, f->t2, list, id, a, &got), -ENOENT);
	p.f[PF_EMAIL] = "user0@example.co.jp";
	assert_int_equal(store_recipient_update(f->s, f->t1, list, id, &p), -EEXIST);
	p.f[PF_EMAIL] = "renamed@example.co.jp";
	assert_int_equal(store_recipient_update(f->s, f->t2, list, id, &p), -ENOENT);
	assert_int_equal(store_recipient_update(f->s, f->t1, list, id, &p), 0);
	assert_int_equal(store_recipient_delete(f->s, f->t2, list, id), -ENOENT);
	assert_int_equal(store_recipient_delete(f->s, f->t1, list, id), 0);
	assert_int_equal(store_recipient_delete(f->s, f->t1, list, id), -ENOENT);

	/* bulk delete by addresses, and by ids */
	const char *emails[] = { "user1@example.co.jp", "nobody@example.co.jp", "user2@example.co.jp" };
	bool deleted[3];
	assert_int_equal(store_recipients_delete(f->s, f->t2, list, NULL, emails, 3, deleted), -ENOENT);
	assert_int_equal(store_recipients_delete(f->s, f->t1, list, NULL, emails, 3, deleted), 0);
	assert_true(deleted[0] && !deleted[1] && deleted[2]);
	q = (struct recipient_query){ .limit = 2 };
	assert_int_equal(store_recipients(f->s, f->t1, list, &q, a, &r, &n, &total), 0);
	assert_int_equal(total, 28);
	int64_t ids[] = { r[0].id, r[1].id };
	assert_int_equal(store_recipients_delete(f->s, f->t1, list, ids, NULL, 2, deleted), 0);
	assert_true(deleted[0] && deleted[1]);

	assert_int_equal(store_list_rename(f->s, f->t2, list, "x"), -ENOENT);
	assert_int_equal(store_list_rename(f->s, f->t1, list, "名前"), 0);
	struct list_info li;
	assert_int_equal(store_list_get(f->s, f->t1, list, a, &li), 0);
	assert_string_equal(li.name, "名前");
	assert_int_equal(li.recipient_count, 26);
	arena_free(a);
}

static void test_accounts_and_secrets(void **state)
{
	struct fixture *f = *state;
	int64_t id, found;
	struct arena *a = arena_new(0);
	struct account acc;
	unsigned char h[STORE_HASH_LEN] = { 1, 2, 3 }, other[STORE_HASH_LEN] = { 9 };
	assert_int_equal(store_account_create(f->s, f->t1, "alice", "$argon2id$x", ROLE_READONLY, &id), 0);
	assert_int_equal(store_account_create(f->s, f->t2, "alice", "$argon2id$y", ROLE_OWNER, &id), -EEXIST);
	assert_int_equal(store_account_by_username(f->s, "alice", a, &acc), 0);
	assert_int_equal(acc.role, ROLE_READONLY);
	assert_int_equal(acc.tenant_id, f->t1);
	assert_int_equal(store_api_key_add(f->s, acc.id, h, "k"), 0);
	assert_int_equal(store_api_key_find(f->s, h, &found, NULL), 0);
	assert_int_equal(found, acc.id);
	assert_int_equal(store_api_key_find(f->s, other, &found, NULL), -ENOENT);
	struct session ses;
	assert_int_equal(store_session_create(f->s, h, acc.id, "csrf", 100), 0);
	assert_int_equal(store_session_find(f->s, h, a, &ses), 0);
	assert_string_equal(ses.csrf_token, "csrf");
	assert_int_equal(store_session_delete(f->s, ses.id), 0);
	assert_int_equal(store_session_find(f->s, h, a, &ses), -ENOENT);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reimport_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenants_never_see_each_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_test_only_launch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_takes_back_claimed_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_licence_send_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_licence_addresses_and_trial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_account_security, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_and_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_launch_takes_each_address_once_from_the_first_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recipient_editing_and_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts_and_secrets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
