/* Tests of src/core/ticker.c: the function runs at once and then every
 * period, sees its ticker, and a stop wakes the wait at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/ticker.h"

#include <stdatomic.h>
#include <unistd.h>

struct count {
	atomic_int n;
	struct ticker **self;
	atomic_bool saw_self;
};

static void tick(struct ticker *t, void *arg)
{
	struct count *c = arg;
	if (*c->self == t)
		atomic_store(&c->saw_self, true);
	atomic_fetch_add(&c->n, 1);
}

/* Waits (10 s at most: a machine under load is slow, never wrong) until
 * the count reaches n. */
static int wait_count(struct count *c, int n)
{
	for (int i = 0; i < 1000 && atomic_load(&c->n) < n; i++)
		usleep(10 * 1000);
	return atomic_load(&c->n);
}

static void test_runs_at_once_then_every_period(void **state)
{
	(void)state;
	struct ticker *t = NULL;
	struct count c = { .self = &t };
	char *err = NULL;
	assert_int_equal(ticker_start(&t, tick, &c, 10, &err), 0);
	assert_true(wait_count(&c, 3) >= 3);
	assert_true(atomic_load(&c.saw_self)); /* *ret was set before the thread ran */
	assert_false(ticker_stopping(t));
	ticker_stop(t);
	int n = atomic_load(&c.n);
	usleep(50 * 1000);
	assert_int_equal(atomic_load(&c.n), n); /* stopped means stopped */
}

/* With a period of an hour: the first run comes at once, and a stop ends
 * the wait (the test would hang otherwise). */
static void test_first_run_at_once_and_a_stop_ends_the_wait(void **state)
{
	(void)state;
	struct ticker *t = NULL;
	struct count c = { .self = &t };
	char *err = NULL;
	assert_int_equal(ticker_start(&t, tick, &c, 3600 * 1000, &err), 0);
	assert_int_equal(wait_count(&c, 1), 1);
	ticker_request_stop(t);
	assert_true(ticker_stopping(t));
	ticker_stop(t);
	assert_int_equal(atomic_load(&c.n), 1);
	ticker_stop(NULL);
	ticker_request_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_at_once_then_every_period),
		cmocka_unit_test(test_first_run_at_once_and_a_stop_ends_the_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
