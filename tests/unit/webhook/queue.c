/* Tests of what the webhook dispatcher reads to send (store/webhooks.c,
 * docs/internals/WEBHOOK.md): the soonest due delivery of each webhook only
 * (a webhook's backlog takes one row of the batch, so every other webhook
 * and tenant is seen), and a suspended tenant's deliveries stay queued,
 * not due, until it is resumed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/store.h"
#include "../teststore.h"

#include <unistd.h>

static int64_t make_webhook(struct test_store *f, int64_t tenant, const char *url)
{
	struct webhook w = { .tenant_id = tenant, .url = url, .description = "", .kinds_json = "[]", .enabled = true,
			     .secret_sealed = SLICE_LIT("sealed"), .created_at = 1000 };
	int64_t id;
	assert_int_equal(store_webhook_create(f->s, &w, &id), 0);
	return id;
}

/* Queues one delivery of webhook w (cursor left where it is). */
static void queue(struct test_store *f, int64_t w, int64_t tenant, const char *id, int64_t next_at_ms)
{
	struct webhook rec;
	assert_int_equal(store_webhook_get(f->s, tenant, w, f->a, &rec), 0);
	struct webhook_delivery d = { .webhook_id = w, .tenant_id = tenant, .kind = "created", .delivery_id = id,
				      .payload = "{}", .state = WEBHOOK_PENDING, .next_at_ms = next_at_ms,
				      .created_at = 1000 };
	assert_int_equal(store_webhook_enqueue(f->s, w, rec.cursor, rec.cursor, &d, 1), 0);
}

static void suspend(struct test_store *f, int64_t tenant, bool on)
{
	struct tenant t;
	assert_int_equal(store_tenant_get(f->s, tenant, f->a, &t), 0);
	t.suspended = on;
	assert_int_equal(store_tenant_update(f->s, &t), 0);
}

static void test_one_per_webhook(void **state)
{
	struct test_store *f = *state;
	int64_t a1 = make_webhook(f, f->t1, "https://a.example/1");
	int64_t a2 = make_webhook(f, f->t1, "https://a.example/2");
	int64_t b1 = make_webhook(f, f->t2, "https://b.example/1");
	/* A's first webhook has a long backlog, all of it due before B's */
	char id[16];
	for (int i = 0; i < 60; i++) {
		snprintf(id, sizeof(id), "a1-%02d", i);
		queue(f, a1, f->t1, id, 100 + i);
	}
	queue(f, a2, f->t1, "a2-0", 500);
	queue(f, b1, f->t2, "b1-0", 400);
	queue(f, b1, f->t2, "b1-1", 300);
	struct webhook_delivery *d;
	size_t n;
	assert_int_equal(store_webhook_deliveries_due(f->s, 10000, true, 10, f->a, &d, &n), 0);
	assert_int_equal(n, 3);
	/* soonest first, each webhook's soonest one, with its payload */
	assert_string_equal(d[0].delivery_id, "a1-00");
	assert_string_equal(d[1].delivery_id, "b1-1");
	assert_int_equal(d[1].tenant_id, f->t2);
	assert_string_equal(d[2].delivery_id, "a2-0");
	assert_string_equal(d[0].payload, "{}");
	/* not yet due: left out */
	assert_int_equal(store_webhook_deliveries_due(f->s, 350, true, 10, f->a, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[1].delivery_id, "b1-1");
	/* done: the next one of the webhook comes up */
	d[0].state = WEBHOOK_DELIVERED;
	d[0].attempts = 1;
	assert_int_equal(store_webhook_delivery_result(f->s, &d[0]), 0);
	assert_int_equal(store_webhook_deliveries_due(f->s, 350, true, 1, f->a, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].delivery_id, "a1-01");
	/* a held webhook (a failure) is not due until its hold ends */
	assert_int_equal(store_webhook_postpone(f->s, a1, 5000), 0);
	assert_int_equal(store_webhook_deliveries_due(f->s, 4999, true, 10, f->a, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_true(d[0].webhook_id != a1 && d[1].webhook_id != a1);
}

static void test_suspended_tenant_waits(void **state)
{
	struct test_store *f = *state;
	int64_t a1 = make_webhook(f, f->t1, "https://a.example/1");
	int64_t b1 = make_webhook(f, f->t2, "https://b.example/1");
	suspend(f, f->t2, true);
	/* queued while suspended: kept, not due */
	queue(f, a1, f->t1, "a", 100);
	queue(f, b1, f->t2, "b", 100);
	struct webhook_delivery *d;
	size_t n;
	assert_int_equal(store_webhook_deliveries_due(f->s, 1000, true, 10, f->a, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].delivery_id, "a");
	assert_int_equal(store_webhook_deliveries_due(f->s, 1000, false, 10, f->a, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].delivery_id, "a");
	assert_int_equal(store_webhook_deliveries(f->s, f->t2, b1, 0, 10, f->a, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].state, WEBHOOK_PENDING);
	/* resumed: it goes */
	suspend(f, f->t2, false);
	assert_int_equal(store_webhook_deliveries_due(f->s, 1000, true, 10, f->a, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[1].delivery_id, "b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_per_webhook, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_suspended_tenant_waits, test_store_setup, test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
