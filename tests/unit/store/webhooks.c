/* Tests of src/store/webhooks.c: tenants never see each other's
 * webhooks or deliveries, the cursor starts at the newest event and moves
 * only from where it was read (a webhook switched off and on, or deleted,
 * queues nothing), a tenant's events by id range, the hold after a
 * failure, the log's paging and pruning, and a tenant purge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/store.h"
#include "../teststore.h"

#include <unistd.h>

/* A draft campaign of the tenant: its 訓練作成 event is a new event. */
static int64_t make_event(struct test_store *f, int64_t tenant)
{
	struct scenario_rec sc = {
		.name = "s", .description = "", .genre = "その他", .type = "URLリンク型", .level = "初級",
		.lang = "ja", .subject = "件名", .html = "<p>{{URL}}</p>", .text = "{{URL}}",
		.sender_name = "", .sender_local = "it", .sender_domain = "example.co.jp", .explain_html = "<p>訓練</p>",
	};
	int64_t sid, lid, cid, max;
	assert_int_equal(store_scenario_create(f->s, tenant, &sc, &sid), 0);
	assert_int_equal(store_list_create(f->s, tenant, "list", &lid), 0);
	int64_t ids[] = { lid };
	struct campaign c = { .name = "c", .scenario_id = sid, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1 };
	assert_int_equal(store_campaign_create(f->s, tenant, &c, &cid), 0);
	assert_int_equal(store_events_max_id(f->s, &max), 0);
	return max;
}

static int64_t make_webhook(struct test_store *f, int64_t tenant, const char *url)
{
	struct webhook w = { .tenant_id = tenant, .url = url, .description = "", .kinds_json = "[]", .enabled = true,
			     .secret_sealed = SLICE_LIT("sealed"), .created_at = 1000 };
	int64_t id;
	assert_int_equal(store_webhook_create(f->s, &w, &id), 0);
	return id;
}

static struct webhook_delivery delivery(int64_t webhook, int64_t tenant, int64_t event, const char *id,
					int64_t next_at_ms)
{
	return (struct webhook_delivery){ .webhook_id = webhook, .tenant_id = tenant, .event_id = event,
					  .kind = "created", .delivery_id = id, .payload = "{}",
					  .state = WEBHOOK_PENDING, .next_at_ms = next_at_ms, .created_at = 1000 };
}

static void test_tenants_and_cursor(void **state)
{
	struct test_store *f = *state;
	int64_t e1 = make_event(f, f->t1);
	int64_t w1 = make_webhook(f, f->t1, "https://a.example/hook");
	int64_t w2 = make_webhook(f, f->t2, "https://b.example/hook");
	struct webhook w;
	assert_int_equal(store_webhook_get(f->s, f->t1, w1, f->a, &w), 0);
	assert_int_equal(w.cursor, e1);  /* from now on */
	assert_string_equal(w.url, "https://a.example/hook");
	assert_int_equal(w.secret_sealed.len, 6);
	/* B sees none of A's */
	assert_int_equal(store_webhook_get(f->s, f->t2, w1, f->a, &w), -ENOENT);
	assert_int_equal(store_webhook_update(f->s, f->t2, w1, &w, 2000), -ENOENT);
	assert_int_equal(store_webhook_delete(f->s, f->t2, w1), -ENOENT);
	struct webhook *list;
	size_t n;
	assert_int_equal(store_webhooks(f->s, f->t2, f->a, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, w2);
	assert_int_equal(store_webhooks(f->s, 0, f->a, &list, &n), 0);  /* the dispatcher: every enabled one */
	assert_int_equal(n, 2);

	/* the tenant's events only, by id range */
	int64_t e2 = make_event(f, f->t2), e3 = make_event(f, f->t1);
	assert_true(e1 < e2 && e2 < e3);
	struct event *ev;
	assert_int_equal(store_events_tenant_range(f->s, f->t1, e1, e3, f->a, &ev, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].id, e3);
	assert_int_equal(ev[0].kind, EV_CREATED);
	assert_int_equal(store_events_tenant_range(f->s, f->t1, e1, e2, f->a, &ev, &n), 0);
	assert_int_equal(n, 0);

	/* the cursor moves only from where it was read */
	struct webhook_delivery d = delivery(w1, f->t1, e3, "d-1", 5000);
	assert_int_equal(store_webhook_enqueue(f->s, w1, e1 + 100, e3, &d, 1), -ESTALE);
	struct webhook_delivery *due;
	assert_int_equal(store_webhook_deliveries_due(f->s, INT64_MAX, false, 10, f->a, &due, &n), 0);
	assert_int_equal(n, 0);  /* nothing written */
	assert_int_equal(store_webhook_enqueue(f->s, w1, e1, e3, &d, 1), 0);
	assert_int_equal(store_webhook_get(f->s, f->t1, w1, f->a, &w), 0);
	assert_int_equal(w.cursor, e3);
	assert_int_equal(store_webhook_deliveries_due(f->s, 4999, false, 10, f->a, &due, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_webhook_deliveries_due(f->s, 5000, false, 10, f->a, &due, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(due[0].delivery_id, "d-1");
	assert_string_equal(due[0].payload, "{}");
	/* a delivery id is unique */
	assert_int_equal(store_webhook_enqueue(f->s, w1, e3, e3, &d, 1), -EEXIST);

	/* switched off: not due, nothing queued; on again: from the newest event */
	w.enabled = false;
	w.secret_sealed = (struct slice){ NULL, 0 };
	assert_int_equal(store_webhook_update(f->s, f->t1, w1, &w, 3000), 0);
	assert_int_equal(store_webhook_deliveries_due(f->s, INT64_MAX, false, 10, f->a, &due, &n), 0);
	assert_int_equal(n, 0);
	int64_t e4 = make_event(f, f->t1);
	d = delivery(w1, f->t1, e4, "d-2", 5000);
	assert_int_equal(store_webhook_enqueue(f->s, w1, e3, e4, &d, 1), -ESTALE);
	int64_t e5 = make_event(f, f->t1);
	w.enabled = true;
	assert_int_equal(store_webhook_update(f->s, f->t1, w1, &w, 4000), 0);
	assert_int_equal(store_webhook_get(f->s, f->t1, w1, f->a, &w), 0);
	assert_int_equal(w.cursor, e5);
	assert_int_equal(w.secret_sealed.len, 6);  /* kept */
	assert_int_equal(w.updated_at, 4000);
}

static void test_hold_log_and_purge(void **state)
{
	struct test_store *f = *state;
	int64_t e = make_event(f, f->t1);
	int64_t w1 = make_webhook(f, f->t1, "https://a.example/hook");
	int64_t w2 = make_webhook(f, f->t1, "https://a.example/other");
	struct webhook_delivery q[3] = { delivery(w1, f->t1, e, "a", 100), delivery(w1, f->t1, e, "b", 100),
					 delivery(w1, f->t1, e, "c", 100) };
	assert_int_equal(store_webhook_enqueue(f->s, w1, e, e, q, 3), 0);
	struct webhook_delivery other = delivery(w2, f->t1, e, "z", 100);
	assert_int_equal(store_webhook_enqueue(f->s, w2, e, e, &other, 1), 0);
	/* a failure holds w1 back: its due ones and new ones wait, w2's do not */
	assert_int_equal(store_webhook_postpone(f->s, w1, 9000), 0);
	struct webhook_delivery *due;
	size_t n;
	assert_int_equal(store_webhook_deliveries_due(f->s, 8999, false, 10, f->a, &due, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(due[0].delivery_id, "z");
	struct webhook_delivery late = delivery(w1, f->t1, e, "d", 200);
	assert_int_equal(store_webhook_enqueue(f->s, w1, e, e, &late, 1), 0);
	assert_int_equal(store_webhook_deliveries_due(f->s, 8999, false, 10, f->a, &due, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_webhook_deliveries_due(f->s, 9000, false, 10, f->a, &due, &n), 0);
	assert_int_equal(n, 5);

	/* an outcome, read back; B cannot read it */
	struct webhook_delivery r = due[0];
	r.state = WEBHOOK_DELIVERED;
	r.attempts = 2;
	r.response_status = 200;
	r.error = "";
	r.response_excerpt = "ok";
	r.duration_ms = 12;
	r.last_attempt_at = 1500;
	assert_int_equal(store_webhook_delivery_result(f->s, &r), 0);
	struct webhook_delivery got;
	assert_int_equal(store_webhook_delivery_get(f->s, f->t1, r.id, f->a, &got), 0);
	assert_int_equal(got.state, WEBHOOK_DELIVERED);
	assert_int_equal(got.attempts, 2);
	assert_string_equal(got.response_excerpt, "ok");
	assert_int_equal(store_webhook_delivery_get(f->s, f->t2, r.id, f->a, &got), -ENOENT);

	/* the log: newest first, paged by id */
	struct webhook_delivery *log;
	assert_int_equal(store_webhook_deliveries(f->s, f->t1, w1, 0, 2, f->a, &log, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(log[0].delivery_id, "d");
	assert_string_equal(log[1].delivery_id, "c");
	assert_null(log[0].payload);
	assert_int_equal(store_webhook_deliveries(f->s, f->t1, w1, log[1].id, 10, f->a, &log, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(log[1].delivery_id, "a");
	assert_int_equal(store_webhook_deliveries(f->s, f->t2, w1, 0, 10, f->a, &log, &n), 0);
	assert_int_equal(n, 0);

	/* pruning takes finished deliveries only */
	int64_t gone = -1;
	assert_int_equal(store_webhook_deliveries_prune(f->s, 2000, &gone), 0);
	assert_int_equal(gone, 1);

	/* a tenant's purge takes its webhooks and deliveries */
	int64_t rows;
	assert_int_equal(store_tenant_purge(f->s, f->t1, "test", 0, 3000, &rows), 0);
	assert_int_equal(store_tenant_row_count(f->s, f->t1, &rows), 0);
	assert_int_equal(rows, 0);
	struct webhook w;
	assert_int_equal(store_webhook_get(f->s, f->t1, w1, f->a, &w), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tenants_and_cursor, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_hold_log_and_purge, test_store_setup, test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
