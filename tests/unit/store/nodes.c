/* Tests of src/store/nodes.c and the node checks of the delivery claim
 * (migration 0018): two stores on one database stand for two nodes.  A
 * node id live elsewhere is refused, a restart in the same place is not;
 * job leases are held by one node until they expire; a node hands only its
 * own claims to the relay; a silent node's claims go back to pending and
 * its sends become uncertain, a live node's stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/store.h"
#include "../teststore.h"

#include <unistd.h>

static struct store *second_node(struct test_store *f)
{
	struct store *s;
	char *err = NULL;
	assert_int_equal(store_open(f->where, &s, &err), 0);
	store_set_node(s, "nodeB");
	store_set_node(f->s, "nodeA");
	return s;
}

static void test_a_node_id_live_elsewhere_is_refused(void **state)
{
	struct test_store *f = *state;
	struct store *b = second_node(f);
	store_set_node(b, "nodeA"); /* a copied data folder */
	assert_int_equal(store_node_beat(f->s, "h1:/var/lib/kunren", "all", "tokenA", 30000), 0);
	assert_int_equal(store_node_beat(f->s, "h1:/var/lib/kunren", "all", "tokenA", 30000), 0);
	assert_int_equal(store_node_beat(b, "h2:/var/lib/kunren", "all", "tokenX", 30000), -EADDRINUSE);
	/* the same place: this node started again after a crash */
	assert_int_equal(store_node_beat(b, "h1:/var/lib/kunren", "all", "tokenY", 30000), 0);
	/* and the old process, if it were alive, is now the one refused */
	assert_int_equal(store_node_beat(f->s, "h3:/elsewhere", "all", "tokenA", 30000), -EADDRINUSE);
	/* a row silent for longer than the lease is free for anyone */
	usleep(30 * 1000);
	assert_int_equal(store_node_beat(f->s, "h3:/elsewhere", "all", "tokenZ", 10), 0);
	store_close(b);
}

static void test_a_job_lease_has_one_holder(void **state)
{
	struct test_store *f = *state;
	struct store *b = second_node(f);
	assert_int_equal(store_job_lease(f->s, "deletion", 60000), 1);
	assert_int_equal(store_job_lease(b, "deletion", 60000), 0);
	assert_int_equal(store_job_lease(f->s, "deletion", 60000), 1); /* renewed */
	assert_int_equal(store_job_lease(b, "webhooks", 60000), 1);    /* another job */
	assert_int_equal(store_job_lease(f->s, "webhooks", 60000), 0);
	/* expired: the other node takes it */
	assert_int_equal(store_job_lease(f->s, "deletion", 1), 1);
	usleep(20 * 1000);
	assert_int_equal(store_job_lease(b, "deletion", 60000), 1);
	assert_int_equal(store_job_lease(f->s, "deletion", 60000), 0);
	/* a clean stop gives the leases back */
	assert_int_equal(store_node_leave(b), 0);
	assert_int_equal(store_job_lease(f->s, "webhooks", 60000), 1);
	store_close(b);
}

static int64_t launched_campaign(struct test_store *f, size_t n)
{
	int64_t list, sc, cid, added, updated, nt;
	assert_int_equal(store_list_create(f->s, f->t1, "list", &list), 0);
	struct person *rows = xcalloc(n, sizeof(*rows));
	char **emails = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		emails[i] = xasprintf("user%zu@example.co.jp", i);
		rows[i] = (struct person){ .f = { "山田", "太郎", emails[i], "", "", "", "", "" } };
	}
	assert_int_equal(store_recipients_import(f->s, f->t1, list, rows, n, &added, &updated), 0);
	struct scenario_rec s = {
		.name = "s", .description = "", .genre = "その他", .type = "URLリンク型", .level = "初級",
		.lang = "ja", .subject = "件名", .html = "<p>{{URL}}</p>", .text = "{{URL}}",
		.sender_name = "", .sender_local = "it", .sender_domain = "example.co.jp", .explain_html = "<p>訓練</p>",
	};
	assert_int_equal(store_scenario_create(f->s, f->t1, &s, &sc), 0);
	int64_t ids[] = { list };
	struct campaign c = { .name = "c", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = ids, .nlist_ids = 1 };
	assert_int_equal(store_campaign_create(f->s, f->t1, &c, &cid), 0);
	assert_int_equal(store_campaign_launch(f->s, f->t1, cid, now_unix(), 10, store_plan_at_once, NULL, &nt, NULL), 0);
	store_campaigns_tick(f->s, now_unix());
	for (size_t i = 0; i < n; i++)
		free(emails[i]);
	free(emails);
	free(rows);
	return cid;
}

static void test_claims_belong_to_their_node(void **state)
{
	struct test_store *f = *state;
	struct store *b = second_node(f);
	int64_t cid = launched_campaign(f, 6), requeued, uncertain;
	struct target *ta, *tb;
	size_t na, nb;
	assert_int_equal(store_node_beat(f->s, "h1:/a", "all", "tA", 30000), 0);
	assert_int_equal(store_node_beat(b, "h2:/b", "all", "tB", 30000), 0);
	assert_int_equal(store_targets_claim(f->s, 0, now_unix(), 3, f->a, &ta, &na), 0);
	assert_int_equal(store_targets_claim(b, 0, now_unix(), 10, f->a, &tb, &nb), 0);
	assert_int_equal(na, 3);
	assert_int_equal(nb, 3); /* never the same target twice */
	for (size_t i = 0; i < na; i++)
		for (size_t k = 0; k < nb; k++)
			assert_true(ta[i].id != tb[k].id);
	/* B cannot hand A's target to the relay, nor give it back */
	assert_int_equal(store_target_begin(b, ta[0].id), 0);
	assert_int_equal(store_target_release(b, ta[1].id), 0);
	assert_int_equal(store_target_begin(f->s, ta[0].id), 1);
	assert_int_equal(store_target_begin(b, tb[0].id), 1);

	/* B goes silent; A is alive: only B's work is taken back */
	usleep(300 * 1000);
	assert_int_equal(store_node_beat(f->s, "h1:/a", "all", "tA", 30000), 0);
	assert_int_equal(store_targets_recover(f->s, 200, false, &requeued, &uncertain), 0);
	assert_int_equal(requeued, 2);  /* tb[1], tb[2] */
	assert_int_equal(uncertain, 1); /* tb[0], in the relay's hands */
	struct delivery_counts dc;
	assert_int_equal(store_campaign_delivery(f->s, f->t1, cid, &dc), 0);
	assert_int_equal(dc.n[TARGET_SENDING], 1);   /* A's, untouched */
	assert_int_equal(dc.n[TARGET_CLAIMED], 2);   /* A's */
	assert_int_equal(dc.n[TARGET_PENDING], 2);
	assert_int_equal(dc.n[TARGET_UNCERTAIN], 1);
	/* B, back from its pause, finds its sent mail no longer its own */
	assert_int_equal(store_target_sent(b, tb[0].id, now_ms(), "<x@y>"), -ESTALE);
	assert_int_equal(store_target_begin(b, tb[1].id), 0);
	/* A restarted: its own earlier claims are gone at once */
	assert_int_equal(store_targets_recover(f->s, 30000, true, &requeued, &uncertain), 0);
	assert_int_equal(requeued, 2);
	assert_int_equal(uncertain, 1);
	store_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_node_id_live_elsewhere_is_refused, test_store_setup,
						test_store_teardown),
		cmocka_unit_test_setup_teardown(test_a_job_lease_has_one_holder, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_claims_belong_to_their_node, test_store_setup, test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
