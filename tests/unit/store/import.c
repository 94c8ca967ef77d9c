/* Tests of src/store/import.c: store_import writes a tenant's
 * history with its own times, all or nothing, and only for that tenant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/store.h"
#include "../teststore.h"

#include <unistd.h>

static struct person person(const char *last, const char *email)
{
	struct person p = { 0 };
	for (int i = 0; i < PF__COUNT; i++)
		p.f[i] = "";
	p.f[PF_LAST_NAME] = last;
	p.f[PF_EMAIL] = email;
	return p;
}

/* One list, one scenario, one profile, one finished campaign of two targets. */
struct sample {
	struct person rows[2];
	struct store_import_list list;
	struct store_import_scenario scen;
	struct store_import_profile prof;
	struct store_import_target targets[2];
	struct store_import_event events[4];
	struct store_import_campaign camp;
	struct store_import im;
};

static void sample_init(struct sample *x)
{
	*x = (struct sample){ 0 };
	x->rows[0] = person("山田", "yamada@example.jp");
	x->rows[1] = person("鈴木", "suzuki@example.jp");
	x->list = (struct store_import_list){ .name = "営業部", .created_at = 1700000000, .rows = x->rows, .nrows = 2 };
	x->scen.sc = (struct scenario_rec){ .name = "Invoice", .description = "", .genre = "その他", .type = "URLリンク型",
					    .level = "初級", .lang = "en", .subject = "Hi", .html = "<a href=\"{{url}}\">x</a>",
					    .text = "{{url}}", .explain_html = "<p>訓練</p>", .created_at = 1690000000 };
	x->prof.p = (struct sending_profile){ .name = "Relay", .host = "smtp.example.jp", .port = 587,
					      .security = SMTP_SECURITY_STARTTLS, .connections = 2, .per_connection = 100,
					      .created_at = 1680000000 };
	x->targets[0] = (struct store_import_target){ .p = x->rows[0], .state = TARGET_SENT, .sent_at = 1700000100 };
	x->targets[1] = (struct store_import_target){ .p = x->rows[1], .state = TARGET_ERROR, .error = "550 no" };
	x->events[0] = (struct store_import_event){ .kind = EV_CREATED, .at_ms = INT64_C(1700000000123) };
	x->events[1] = (struct store_import_event){ .target = 1, .kind = EV_SENT, .at_ms = INT64_C(1700000100000) };
	x->events[2] = (struct store_import_event){ .target = 1, .kind = EV_CLICKED, .at_ms = INT64_C(1700000200456),
						     .ip = "192.0.2.1", .user_agent = "UA" };
	x->events[3] = (struct store_import_event){ .target = 2, .kind = EV_SEND_ERROR, .at_ms = INT64_C(1700000100500),
						     .detail = "{\"error\":\"550 no\"}" };
	x->camp = (struct store_import_campaign){
		.c = { .name = "Q1", .state = CAMPAIGN_FINISHED, .sender_name = "IT", .sender_local = "it",
		       .sender_domain = "example.jp", .created_at = 1700000000, .launched_at = 1700000050,
		       .finished_at = 1700900000, .start_at = 1700000050, .ends_at = 1700900000 },
		.scenario = 1, .profile = 1, .targets = x->targets, .ntargets = 2, .events = x->events, .nevents = 4,
	};
	x->im = (struct store_import){ .lists = &x->list, .nlists = 1, .scenarios = &x->scen, .nscenarios = 1,
				       .profiles = &x->prof, .nprofiles = 1, .campaigns = &x->camp, .ncampaigns = 1,
				       .audit_detail = "test import" };
}

static void test_import_keeps_history(void **state)
{
	struct test_store *f = *state;
	struct arena *a = arena_new(0);
	struct sample x;
	sample_init(&x);
	assert_int_equal(store_import(f->s, f->t1, &x.im), 0);

	struct list_info l;
	assert_int_equal(store_list_get(f->s, f->t1, x.list.ret_id, a, &l), 0);
	assert_string_equal(l.name, "営業部");
	assert_int_equal(l.recipient_count, 2);
	assert_int_equal(l.created_at, 1700000000);
	struct scenario_rec sc;
	assert_int_equal(store_scenario_get(f->s, f->t1, x.scen.ret_id, a, &sc), 0);
	assert_int_equal(sc.created_at, 1690000000);
	struct sending_profile p;
	assert_int_equal(store_profile_get(f->s, f->t1, x.prof.ret_id, a, &p), 0);
	assert_int_equal(p.tenant_id, f->t1);
	assert_int_equal(p.port, 587);

	struct campaign c;
	assert_int_equal(store_campaign_get(f->s, f->t1, x.camp.ret_id, a, &c), 0);
	assert_int_equal(c.state, CAMPAIGN_FINISHED);
	assert_int_equal(c.scenario_id, x.scen.ret_id);
	assert_int_equal(c.profile_id, x.prof.ret_id);
	assert_int_equal(c.launched_at, 1700000050);
	assert_int_equal(c.finished_at, 1700900000);
	assert_int_equal(c.target_count, 2);
	struct target *t;
	size_t nt;
	assert_int_equal(store_targets(f->s, f->t1, c.id, 0, 10, a, &t, &nt), 0);
	assert_int_equal(nt, 2);
	assert_int_equal(t[0].state, TARGET_SENT);
	assert_int_equal(t[0].sent_at, 1700000100);
	assert_int_equal(strlen(t[0].rid), RID_LEN);
	assert_int_equal(t[1].state, TARGET_ERROR);
	assert_string_equal(t[1].error, "550 no");
	struct event *e;
	size_t ne;
	assert_int_equal(store_events(f->s, f->t1, c.id, 0, INT64_MAX, a, &e, &ne), 0);
	assert_int_equal(ne, 4);
	int64_t clicked = 0;
	for (size_t i = 0; i < ne; i++)
		if (e[i].kind == EV_CLICKED) {
			clicked = e[i].at_ms;
			assert_string_equal(e[i].ip, "192.0.2.1");
		}
	assert_int_equal(clicked, INT64_C(1700000200456));
	/* the reach columns follow the events: one sent, one clicked */
	struct store_reach *reach;
	size_t nr;
	assert_int_equal(store_campaign_reach(f->s, f->t1, c.id, true, 0, NULL, a, &reach, &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(reach[0].targets, 2);
	assert_int_equal(reach[0].reached[EV_SENT], 1);
	assert_int_equal(reach[0].reached[EV_CLICKED], 1);
	/* a finished campaign's rids are never live */
	struct target byrid;
	assert_int_equal(store_target_by_rid(f->s, t[0].rid, a, &byrid), -ENOENT);
	/* and the other tenant sees none of it */
	assert_int_equal(store_campaign_get(f->s, f->t2, c.id, a, &c), -ENOENT);
	assert_int_equal(store_list_get(f->s, f->t2, x.list.ret_id, a, &l), -ENOENT);
	arena_free(a);
}

static void test_import_is_all_or_nothing(void **state)
{
	struct test_store *f = *state;
	struct arena *a = arena_new(0);
	struct sample x;
	int64_t rows_before, rows_after;
	assert_int_equal(store_tenant_row_count(f->s, f->t1, &rows_before), 0);
	/* a missing tenant, an index out of range, a target state an import cannot have */
	sample_init(&x);
	assert_int_equal(store_import(f->s, 999, &x.im), -ENOENT);
	x.camp.scenario = 2;
	assert_int_equal(store_import(f->s, f->t1, &x.im), -EINVAL);
	sample_init(&x);
	x.events[2].target = 3;
	assert_int_equal(store_import(f->s, f->t1, &x.im), -EINVAL);
	sample_init(&x);
	x.targets[1].state = TARGET_PENDING;
	assert_int_equal(store_import(f->s, f->t1, &x.im), -EINVAL);
	/* a clash in the last step (an address twice in the campaign) undoes the rest */
	sample_init(&x);
	x.targets[1].p = x.rows[0];
	assert_int_equal(store_import(f->s, f->t1, &x.im), -EEXIST);
	assert_int_equal(store_tenant_row_count(f->s, f->t1, &rows_after), 0);
	assert_int_equal(rows_after, rows_before);
	struct list_info *ls;
	size_t nl;
	assert_int_equal(store_lists(f->s, f->t1, a, &ls, &nl), 0);
	assert_int_equal(nl, 0);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_keeps_history, test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_import_is_all_or_nothing, test_store_setup, test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
