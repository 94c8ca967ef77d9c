/*
 * Tests of src/deliver/plan.c: allowed time (windows, weekdays, holidays,
 * daylight saving), the planner's modes (bulk, rate, spread), random order,
 * the per-domain rate, the schedule's JSON form and ISO 8601 times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deliver/plan.h"

static const struct tz *tokyo(void)
{
	const struct tz *z = tz_get("Asia/Tokyo");
	assert_non_null(z);
	return z;
}

static const struct tz *new_york(void)
{
	const struct tz *z = tz_get("America/New_York");
	assert_non_null(z);
	return z;
}

/* An ISO 8601 time that must parse. */
static int64_t at(const char *iso)
{
	int64_t t = 0;
	if (iso_time_parse(iso, tokyo(), &t) < 0)
		fail_msg("cannot parse %s", iso);
	return t;
}

static void local_civil(const struct tz *z, int64_t t, struct civil *c)
{
	civil_from_unix(t + tz_offset(z, t), c);
}

static void assert_time(const struct tz *z, int64_t t, const char *want)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64);
	assert_int_equal(tz_put_iso(&b, z, t), 0);
	if (strcmp(b.p, want))
		fail_msg("got %s, expected %s", b.p, want);
}

/* 09:00–12:00 and 13:00–18:00, Monday to Friday, holidays skipped. */
static void office_hours(struct schedule *s)
{
	schedule_default(s);
	s->windows[0] = (struct plan_window){ 9 * 60, 12 * 60 };
	s->windows[1] = (struct plan_window){ 13 * 60, 18 * 60 };
	s->nwindows = 2;
	s->weekdays = 0x3e;
	s->skip_holidays = true;
}

/* The same rule written independently, for Tokyo (no daylight saving). */
static bool office_open(int64_t t)
{
	struct civil c;
	civil_from_unix(t + 9 * 3600, &c);
	int m = c.hour * 60 + c.min;
	return c.wday >= 1 && c.wday <= 5 && !jp_holiday(c.year, c.month, c.day, NULL) &&
	       ((m >= 540 && m < 720) || (m >= 780 && m < 1080));
}

/* Deterministic test randomness. */
static uint64_t test_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- allowed time ------------------------------------------------------- */

static void test_default(void **state)
{
	struct schedule s;
	schedule_default(&s);
	assert_int_equal(s.mode, PLAN_BULK);
	assert_int_equal(s.weekdays, 0x7f);
	assert_int_equal(s.nwindows, 0);
	assert_false(s.skip_holidays);
	assert_false(s.random_order);
	assert_int_equal(s.start_at, 0);
	assert_int_equal(s.domain_rate_n, 0);
	for (int64_t t = at("2026-01-01T00:00:00Z"); t < at("2026-01-08T00:00:00Z"); t += 3607) {
		assert_true(plan_allowed(&s, tokyo(), t));
		assert_int_equal(plan_next_allowed(&s, tokyo(), t), t);
	}
}

static void test_windows_weekdays_holidays(void **state)
{
	struct schedule s;
	office_hours(&s);

	/* every quarter hour of 2026 agrees with the independent rule */
	size_t open = 0;
	for (int64_t t = at("2026-01-01T00:00:00+09:00"); t < at("2027-01-01T00:00:00+09:00"); t += 900) {
		bool want = office_open(t);
		if (plan_allowed(&s, tokyo(), t) != want)
			fail_msg("plan_allowed(%lld) should be %d", (long long)t, want);
		open += want;
	}
	/* 2026 has 261 weekdays, 17 of them holidays: 244 days of 8 hours */
	assert_int_equal(open, 244 * 8 * 4);

	/* plan_next_allowed: allowed, and nothing allowed before it */
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 300; i++) {
		int64_t t = at("2026-01-01T00:00:00+09:00") + (int64_t)(test_rand(&x) % (365 * 86400));
		int64_t r = plan_next_allowed(&s, tokyo(), t);
		assert_true(r >= t);
		assert_true(office_open(r));
		if (r > t) {
			assert_false(office_open(t));
			for (int64_t m = t - t % 60 + 60; m < r; m += 60)
				assert_false(office_open(m));
			/* a jump lands on a window opening */
			struct civil c;
			local_civil(tokyo(), r, &c);
			assert_true((c.hour == 9 || c.hour == 13) && c.min == 0 && c.sec == 0);
		}
	}

	/* Friday evening before the September holidays (敬老の日, 国民の休日, 秋分の日) */
	assert_time(tokyo(), plan_next_allowed(&s, tokyo(), at("2026-09-18T17:59:59+09:00")),
		    "2026-09-18T17:59:59+09:00");
	assert_time(tokyo(), plan_next_allowed(&s, tokyo(), at("2026-09-18T18:00:00+09:00")),
		    "2026-09-24T09:00:00+09:00");
	assert_time(tokyo(), plan_next_allowed(&s, tokyo(), at("2026-09-18T12:00:00+09:00")),
		    "2026-09-18T13:00:00+09:00");
	/* Golden Week */
	assert_time(tokyo(), plan_next_allowed(&s, tokyo(), at("2026-05-01T18:00:00+09:00")),
		    "2026-05-07T09:00:00+09:00");
	/* without skip_holidays the holiday is an ordinary Monday */
	s.skip_holidays = false;
	assert_time(tokyo(), plan_next_allowed(&s, tokyo(), at("2026-09-18T18:00:00+09:00")),
		    "2026-09-21T09:00:00+09:00");
	/* weekend only, whole days */
	schedule_default(&s);
	s.weekdays = 0x41;
	assert_time(tokyo(), plan_next_allowed(&s, tokyo(), at("2026-12-02T15:00:00+09:00")),
		    "2026-12-05T00:00:00+09:00");
	assert_true(plan_allowed(&s, tokyo(), at("2026-12-06T23:59:59+09:00")));
	assert_false(plan_allowed(&s, tokyo(), at("2026-12-07T00:00:00+09:00")));
	/* a window up to midnight */
	s.weekdays = 0x7f;
	s.windows[0] = (struct plan_window){ 22 * 60, 1440 };
	s.nwindows = 1;
	assert_true(plan_allowed(&s, tokyo(), at("2026-12-02T23:59:59+09:00")));
	assert_time(tokyo(), plan_next_allowed(&s, tokyo(), at("2026-12-03T00:00:00+09:00")),
		    "2026-12-03T22:00:00+09:00");
}

static void test_dst(void **state)
{
	const struct tz *ny = new_york();
	struct schedule s;
	int64_t t;

	schedule_default(&s);
	s.windows[0] = (struct plan_window){ 9 * 60, 17 * 60 };
	s.nwindows = 1;
	/* local wall time across both changes of 2026 (March 8, November 1) */
	const char *from[] = { "2026-03-05T00:00:00-05:00", "2026-10-29T00:00:00-04:00" };
	for (size_t k = 0; k < ARRAY_SIZE(from); k++) {
		int64_t t0;
		assert_int_equal(iso_time_parse(from[k], ny, &t0), 0);
		for (t = t0; t < t0 + 7 * 86400; t += 600) {
			struct civil c;
			local_civil(ny, t, &c);
			assert_int_equal(plan_allowed(&s, ny, t), c.hour >= 9 && c.hour < 17);
			int64_t r = plan_next_allowed(&s, ny, t);
			local_civil(ny, r, &c);
			assert_true(r == t || (c.hour == 9 && c.min == 0 && c.sec == 0));
		}
	}
	assert_int_equal(iso_time_parse("2026-03-07T18:00:00-05:00", ny, &t), 0);
	assert_time(ny, plan_next_allowed(&s, ny, t), "2026-03-08T09:00:00-04:00");

	/* 02:00–03:00 does not exist on 2026-03-08 */
	s.windows[0] = (struct plan_window){ 2 * 60, 3 * 60 };
	assert_int_equal(iso_time_parse("2026-03-08T00:00:00-05:00", ny, &t), 0);
	assert_time(ny, plan_next_allowed(&s, ny, t), "2026-03-09T02:00:00-04:00");
	assert_int_equal(iso_time_parse("2026-03-07T02:30:00-05:00", ny, &t), 0);
	assert_time(ny, plan_next_allowed(&s, ny, t), "2026-03-07T02:30:00-05:00");

	/* 01:00–01:45 happens twice on 2026-11-01 */
	s.windows[0] = (struct plan_window){ 60, 105 };
	s.windows[1] = (struct plan_window){ 180, 240 };
	s.nwindows = 2;
	assert_int_equal(iso_time_parse("2026-11-01T01:50:00-04:00", ny, &t), 0);
	assert_time(ny, plan_next_allowed(&s, ny, t), "2026-11-01T01:00:00-05:00");
	assert_int_equal(iso_time_parse("2026-11-01T01:50:00-05:00", ny, &t), 0);
	assert_time(ny, plan_next_allowed(&s, ny, t), "2026-11-01T03:00:00-05:00");

	/* rate 60/hour in 01:00–02:00: two hours of allowed time on 2026-11-01 */
	int64_t due[121];
	schedule_default(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 60;
	s.rate_seconds = 3600;
	s.windows[0] = (struct plan_window){ 60, 120 };
	s.nwindows = 1;
	assert_int_equal(iso_time_parse("2026-11-01T00:00:00-04:00", ny, &s.start_at), 0);
	assert_int_equal(plan_schedule(&s, ny, 0, 121, NULL, 0, due), 0);
	assert_time(ny, due[0], "2026-11-01T01:00:00-04:00");
	assert_time(ny, due[59], "2026-11-01T01:59:00-04:00");
	assert_time(ny, due[60], "2026-11-01T01:00:00-05:00");
	assert_time(ny, due[119], "2026-11-01T01:59:00-05:00");
	assert_time(ny, due[120], "2026-11-02T01:00:00-05:00");

	/* 01:00–04:00 is only two hours long on 2026-03-08 */
	s.windows[0] = (struct plan_window){ 60, 240 };
	assert_int_equal(iso_time_parse("2026-03-08T00:00:00-05:00", ny, &s.start_at), 0);
	assert_int_equal(plan_schedule(&s, ny, 0, 121, NULL, 0, due), 0);
	assert_time(ny, due[59], "2026-03-08T01:59:00-05:00");
	assert_time(ny, due[60], "2026-03-08T03:00:00-04:00");
	assert_time(ny, due[119], "2026-03-08T03:59:00-04:00");
	assert_time(ny, due[120], "2026-03-09T01:00:00-04:00");
}

/* ---- the planner -------------------------------------------------------- */

static void test_bulk(void **state)
{
	struct schedule s;
	int64_t due[5], now = at("2026-12-02T10:00:00+09:00");

	office_hours(&s);
	s.start_at = at("2026-12-05T10:00:00+09:00"); /* a Saturday */
	assert_int_equal(plan_schedule(&s, tokyo(), now, 5, NULL, 0, due), 0);
	for (int i = 0; i < 5; i++)
		assert_time(tokyo(), due[i], "2026-12-07T09:00:00+09:00");
	/* start_at 0 or in the past: now */
	s.start_at = 0;
	assert_int_equal(plan_schedule(&s, tokyo(), now, 5, NULL, 0, due), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(due[i], now);
	s.start_at = now - 86400;
	assert_int_equal(plan_schedule(&s, tokyo(), now, 5, NULL, 0, due), 0);
	assert_int_equal(due[4], now);
	/* nothing to plan */
	assert_int_equal(plan_schedule(&s, tokyo(), now, 0, NULL, 0, NULL), 0);
}

static void test_rate(void **state)
{
	struct schedule s;
	enum { N = 1000 };
	int64_t due[N];

	/* 100/hour in 09:00–12:00, Monday to Friday, from Friday 10:30 */
	schedule_default(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 100;
	s.rate_seconds = 3600;
	s.windows[0] = (struct plan_window){ 9 * 60, 12 * 60 };
	s.nwindows = 1;
	s.weekdays = 0x3e;
	s.skip_holidays = true;
	s.start_at = at("2026-12-04T10:30:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 0, due), 0);

	assert_time(tokyo(), due[0], "2026-12-04T10:30:00+09:00");
	assert_time(tokyo(), due[149], "2026-12-04T11:59:24+09:00");
	assert_time(tokyo(), due[150], "2026-12-07T09:00:00+09:00"); /* the next allowed day */
	assert_time(tokyo(), due[999], "2026-12-09T11:29:24+09:00");
	int per_hour[24 * 7] = { 0 };
	int64_t week = at("2026-12-04T00:00:00+09:00");
	for (int i = 0; i < N; i++) {
		struct civil c;
		local_civil(tokyo(), due[i], &c);
		assert_true(c.hour >= 9 && c.hour < 12); /* nothing outside the window */
		assert_true(plan_allowed(&s, tokyo(), due[i]));
		assert_true(due[i] >= week && due[i] < week + 7 * 86400);
		per_hour[(due[i] - week) / 3600]++;
		if (i > 0) {
			assert_true(due[i] > due[i - 1]); /* list order */
			if (due[i] - due[i - 1] < 3600)
				assert_int_equal(due[i] - due[i - 1], 36);
		}
		/* never more than 100 in any hour, not just clock hours */
		if (i + 100 < N)
			assert_true(due[i + 100] - due[i] >= 3600);
	}
	for (size_t h = 0; h < ARRAY_SIZE(per_hour); h++)
		assert_true(per_hour[h] <= 100);

	/* the September holidays are skipped */
	s.start_at = at("2026-09-18T11:00:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 200, NULL, 0, due), 0);
	assert_time(tokyo(), due[99], "2026-09-18T11:59:24+09:00");
	assert_time(tokyo(), due[100], "2026-09-24T09:00:00+09:00");

	/* a rate that does not divide: 7 per minute */
	schedule_default(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 7;
	s.rate_seconds = 60;
	s.start_at = at("2026-12-04T10:00:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 0, due), 0);
	for (int i = 0; i + 7 < N; i++) {
		assert_true(due[i + 7] - due[i] == 60);
		assert_true(due[i + 1] - due[i] == 8 || due[i + 1] - due[i] == 9);
	}
}

/* Allowed seconds in [a, b), counted one by one. */
static int64_t count_allowed(const struct schedule *s, const struct tz *z, int64_t a, int64_t b)
{
	int64_t n = 0;
	for (int64_t t = a; t < b; t++)
		n += plan_allowed(s, z, t);
	return n;
}

static void test_spread(void **state)
{
	struct schedule s;
	enum { N = 401 };
	int64_t due[N];

	office_hours(&s);
	s.mode = PLAN_SPREAD;
	s.start_at = at("2026-12-07T09:00:00+09:00");
	s.spread_until = at("2026-12-11T18:00:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 0, due), 0);
	/* 5 days of 8 hours: 144000 allowed seconds, 400 gaps of 359.99 */
	assert_int_equal(due[0], s.start_at);
	assert_time(tokyo(), due[N - 1], "2026-12-11T17:59:59+09:00");
	assert_true(due[N - 1] <= s.spread_until);
	for (int i = 0; i + 1 < N; i++) {
		assert_true(plan_allowed(&s, tokyo(), due[i]));
		int64_t gap = count_allowed(&s, tokyo(), due[i], due[i + 1]);
		assert_true(gap == 359 || gap == 360);
	}

	/* one target: at the start */
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 1, NULL, 0, due), 0);
	assert_int_equal(due[0], s.start_at);
	/* more targets than seconds: several per second, still in order */
	s.spread_until = at("2026-12-07T09:00:09+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 100, NULL, 0, due), 0);
	assert_int_equal(due[0], s.start_at);
	assert_int_equal(due[99], s.spread_until);
	for (int i = 1; i < 100; i++)
		assert_true(due[i] >= due[i - 1]);
	/* the end must be after the start, and hold allowed time */
	s.spread_until = s.start_at;
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 10, NULL, 0, due), -EINVAL);
	s.start_at = at("2026-12-05T09:00:00+09:00"); /* Saturday */
	s.spread_until = at("2026-12-06T18:00:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 10, NULL, 0, due), -EINVAL);
}

static void test_random_order(void **state)
{
	struct schedule s;
	enum { N = 500 };
	int64_t list[N], r1[N], r2[N], r3[N], sorted[N];

	office_hours(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 60;
	s.rate_seconds = 60;
	s.start_at = at("2026-12-04T11:55:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 0, list), 0);
	s.random_order = true;
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 42, r1), 0);
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 42, r2), 0);
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 43, r3), 0);

	/* the same slots, each used once */
	memcpy(sorted, r1, sizeof(sorted));
	qsort(sorted, N, sizeof(sorted[0]), cmp_i64);
	assert_memory_equal(sorted, list, sizeof(list));
	for (int i = 1; i < N; i++)
		assert_true(list[i] > list[i - 1]);
	/* the same seed gives the same plan; another seed another one */
	assert_memory_equal(r1, r2, sizeof(r1));
	assert_memory_not_equal(r1, r3, sizeof(r1));
	assert_memory_not_equal(r1, list, sizeof(r1));

	/* uniform: each order of 3 targets about equally often */
	int count[6] = { 0 };
	s.random_order = true;
	for (uint64_t seed = 0; seed < 6000; seed++) {
		int64_t d[3];
		assert_int_equal(plan_schedule(&s, tokyo(), 0, 3, NULL, seed, d), 0);
		int rank0 = (d[0] > d[1]) + (d[0] > d[2]), rank1 = (d[1] > d[0]) + (d[1] > d[2]);
		count[rank0 * 2 + (rank1 > rank0 ? rank1 - 1 : rank1)]++;
	}
	for (int i = 0; i < 6; i++)
		if (count[i] < 850 || count[i] > 1150)
			fail_msg("order %d drawn %d times of 6000", i, count[i]);
}

/* Checks a plan made with a domain rate: the domain and global rates hold,
 * every due is allowed, and each domain keeps the sending order. */
static void check_domain_plan(const struct schedule *s, size_t n, const char *const *domains,
			      const int64_t *due, int64_t global_gap)
{
	_cleanup_free_ int64_t *sorted = xcalloc(n, sizeof(*sorted));
	memcpy(sorted, due, n * sizeof(*due));
	qsort(sorted, n, sizeof(*sorted), cmp_i64);
	for (size_t i = 1; i < n; i++)
		assert_true(sorted[i] - sorted[i - 1] >= global_gap);
	for (size_t i = 0; i < n; i++)
		assert_true(plan_allowed(s, tokyo(), due[i]));

	/* per domain: consecutive mails at least seconds/n apart */
	int64_t need = (s->domain_rate_seconds + s->domain_rate_n - 1) / s->domain_rate_n;
	for (size_t i = 0; i < n; i++) {
		int64_t prev = INT64_MIN;
		for (size_t j = 0; j < n; j++)
			if (!strcasecmp(domains[i], domains[j]) && due[j] < due[i] && due[j] > prev)
				prev = due[j];
		if (prev != INT64_MIN && due[i] - prev < need)
			fail_msg("target %zu (%s) %lld s after the previous one", i, domains[i],
				 (long long)(due[i] - prev));
	}
}

static void test_domain_rate(void **state)
{
	struct schedule s;
	int64_t due[4];

	/* global 1/minute, domain 1 per 2 minutes: b takes the busy a's slot */
	schedule_default(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 1;
	s.rate_seconds = 60;
	s.domain_rate_n = 1;
	s.domain_rate_seconds = 120;
	s.start_at = at("2026-12-04T10:00:00+09:00");
	const char *abc[] = { "a.example", "A.Example", "b.example" };
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 3, abc, 0, due), 0);
	assert_int_equal(due[0], s.start_at);
	assert_int_equal(due[1], s.start_at + 120);
	assert_int_equal(due[2], s.start_at + 60);
	/* one domain only: slots go unused until it is free */
	const char *aaa[] = { "a.example", "a.example", "a.example" };
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 3, aaa, 0, due), 0);
	assert_int_equal(due[1], s.start_at + 120);
	assert_int_equal(due[2], s.start_at + 240);
	/* domains are required with a domain rate */
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 3, NULL, 0, due), -EINVAL);

	/* bulk: each domain's mails follow each other */
	s.mode = PLAN_BULK;
	s.domain_rate_n = 1;
	s.domain_rate_seconds = 60;
	const char *xy[] = { "x.example", "X.EXAMPLE", "x.example", "y.example" };
	assert_int_equal(plan_schedule(&s, tokyo(), 0, 4, xy, 0, due), 0);
	assert_int_equal(due[0], s.start_at);
	assert_int_equal(due[1], s.start_at + 60);
	assert_int_equal(due[2], s.start_at + 120);
	assert_int_equal(due[3], s.start_at);

	/* many targets, a few domains, one of them most of the list */
	enum { N = 3000 };
	static const char *const names[] = { "big.example", "Big.Example", "b.example", "c.example",
					     "d.example", "E.example" };
	const char *doms[N];
	static int64_t plan[N];
	uint64_t x = 12345;
	for (int i = 0; i < N; i++) {
		uint64_t r = test_rand(&x) % 10;
		doms[i] = names[r < 6 ? r % 2 : r - 4];
	}
	office_hours(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 600;
	s.rate_seconds = 3600;
	s.domain_rate_n = 2;
	s.domain_rate_seconds = 60;
	s.start_at = at("2026-12-04T10:00:00+09:00");
	for (int random = 0; random < 2; random++) {
		s.random_order = random;
		assert_int_equal(plan_schedule(&s, tokyo(), 0, N, doms, 7, plan), 0);
		check_domain_plan(&s, N, doms, plan, 6);
		if (!random)
			/* list order within each domain */
			for (int i = 0; i < N; i++)
				for (int j = i + 1; j < N && j < i + 50; j++)
					if (!strcasecmp(doms[i], doms[j]))
						assert_true(plan[i] < plan[j]);
	}
	/* the same with spread */
	s.mode = PLAN_SPREAD;
	s.random_order = false;
	s.spread_until = at("2026-12-25T18:00:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, doms, 7, plan), 0);
	check_domain_plan(&s, N, doms, plan, 1);
	assert_true(plan[N - 1] <= s.spread_until);
	/* a spread the domain rate cannot fit */
	s.spread_until = at("2026-12-04T11:00:00+09:00");
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, doms, 7, plan), -ERANGE);
}

static void test_errors(void **state)
{
	struct schedule s;
	int64_t due[10];
	int64_t now = at("2026-12-04T10:00:00+09:00");

	/* no allowed day */
	schedule_default(&s);
	s.weekdays = 0;
	assert_int_equal(plan_next_allowed(&s, tokyo(), now), -1);
	assert_false(plan_allowed(&s, tokyo(), now));
	assert_int_equal(plan_schedule(&s, tokyo(), now, 10, NULL, 0, due), -EINVAL);
	s.mode = PLAN_RATE;
	s.rate_n = 1;
	s.rate_seconds = 60;
	assert_int_equal(plan_schedule(&s, tokyo(), now, 10, NULL, 0, due), -EINVAL);

	/* too long: 30000 mails at 1/hour is more than 3 years */
	schedule_default(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 1;
	s.rate_seconds = 3600;
	_cleanup_free_ int64_t *many = xcalloc(30000, sizeof(*many));
	assert_int_equal(plan_schedule(&s, tokyo(), now, 30000, NULL, 0, many), -ERANGE);
	assert_int_equal(plan_schedule(&s, tokyo(), now, 20000, NULL, 0, many), 0);
	s.mode = PLAN_SPREAD;
	s.spread_until = now + 4 * 366 * 86400LL;
	assert_int_equal(plan_schedule(&s, tokyo(), now, 10, NULL, 0, due), -ERANGE);

	/* invalid schedules */
	schedule_default(&s);
	s.mode = PLAN_RATE; /* no rate */
	assert_int_equal(plan_schedule(&s, tokyo(), now, 10, NULL, 0, due), -EINVAL);
	schedule_default(&s);
	s.windows[0] = (struct plan_window){ 600, 600 };
	s.nwindows = 1;
	assert_int_equal(plan_schedule(&s, tokyo(), now, 10, NULL, 0, due), -EINVAL);
}

/* ---- JSON and ISO 8601 ---------------------------------------------------- */

static void assert_schedule_equal(const struct schedule *a, const struct schedule *b)
{
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->start_at, b->start_at);
	assert_int_equal(a->rate_n, b->rate_n);
	assert_int_equal(a->rate_seconds, b->rate_seconds);
	assert_int_equal(a->spread_until, b->spread_until);
	assert_int_equal(a->nwindows, b->nwindows);
	for (size_t i = 0; i < a->nwindows; i++) {
		assert_int_equal(a->windows[i].from, b->windows[i].from);
		assert_int_equal(a->windows[i].to, b->windows[i].to);
	}
	assert_int_equal(a->weekdays, b->weekdays);
	assert_int_equal(a->skip_holidays, b->skip_holidays);
	assert_int_equal(a->random_order, b->random_order);
	assert_int_equal(a->domain_rate_n, b->domain_rate_n);
	assert_int_equal(a->domain_rate_seconds, b->domain_rate_seconds);
	assert_int_equal(a->ends_at, b->ends_at);
}

static void parse_ok(const char *text, const struct tz *z, struct schedule *ret)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
	const char *field = NULL, *msg = NULL;
	assert_non_null(j);
	if (schedule_from_json(j, z, ret, &field, &msg) < 0)
		fail_msg("%s: %s %s", text, field, msg);
	json_decref(j);
}

/* to_json, dumped with sorted keys, must be `want`; and parse back equal. */
static void round_trip(const struct schedule *s, const struct tz *z, const char *want)
{
	json_t *j = schedule_to_json(s, z);
	assert_non_null(j);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (want && strcmp(text, want))
		fail_msg("got      %s\nexpected %s", text, want);
	struct schedule back;
	parse_ok(text, z, &back);
	assert_schedule_equal(s, &back);
	free(text);
	json_decref(j);
}

static void test_json_round_trip(void **state)
{
	struct schedule s, def;

	parse_ok("{\"mode\": \"rate\", \"start_at\": \"2026-12-01T09:00:00+09:00\","
		 " \"rate\": {\"count\": 100, \"per\": \"hour\"},"
		 " \"windows\": [{\"from\": \"13:00\", \"to\": \"24:00\"}, {\"from\": \"9:00\", \"to\": \"12:00\"}],"
		 " \"weekdays\": [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], \"skip_holidays\": true,"
		 " \"order\": \"random\", \"domain_rate\": {\"count\": 10, \"per\": \"minute\"},"
		 " \"ends_at\": \"2026-12-20T18:00:00+09:00\", \"spread_until\": null}",
		 tokyo(), &s);
	assert_int_equal(s.mode, PLAN_RATE);
	assert_int_equal(s.start_at, at("2026-12-01T00:00:00Z"));
	assert_int_equal(s.rate_n, 100);
	assert_int_equal(s.rate_seconds, 3600);
	assert_int_equal(s.nwindows, 2);
	assert_int_equal(s.windows[0].from, 780);
	assert_int_equal(s.windows[0].to, 1440);
	assert_int_equal(s.windows[1].from, 540);
	assert_int_equal(s.weekdays, 0x3e);
	assert_true(s.skip_holidays);
	assert_true(s.random_order);
	assert_int_equal(s.domain_rate_n, 10);
	assert_int_equal(s.domain_rate_seconds, 60);
	assert_int_equal(s.ends_at, at("2026-12-20T09:00:00Z"));
	round_trip(&s, tokyo(),
		   "{\"domain_rate\":{\"count\":10,\"per\":\"minute\"},\"ends_at\":\"2026-12-20T18:00:00+09:00\","
		   "\"mode\":\"rate\",\"order\":\"random\",\"rate\":{\"count\":100,\"per\":\"hour\"},"
		   "\"skip_holidays\":true,\"spread_until\":null,\"start_at\":\"2026-12-01T09:00:00+09:00\","
		   "\"weekdays\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"],"
		   "\"windows\":[{\"from\":\"13:00\",\"to\":\"24:00\"},{\"from\":\"09:00\",\"to\":\"12:00\"}]}");
	/* another zone writes other offsets and reads the same instants */
	round_trip(&s, new_york(), NULL);

	/* spread, times without an offset are local */
	parse_ok("{\"mode\": \"spread\", \"start_at\": \"2026-12-01T09:00\","
		 " \"spread_until\": \"2026-12-05T18:00:00\", \"weekdays\": [\"sat\", \"sun\"]}",
		 tokyo(), &s);
	assert_int_equal(s.start_at, at("2026-12-01T09:00:00+09:00"));
	assert_int_equal(s.spread_until, at("2026-12-05T18:00:00+09:00"));
	assert_int_equal(s.weekdays, 0x41);
	round_trip(&s, tokyo(),
		   "{\"domain_rate\":null,\"ends_at\":null,\"mode\":\"spread\",\"order\":\"list\","
		   "\"rate\":null,\"skip_holidays\":false,\"spread_until\":\"2026-12-05T18:00:00+09:00\","
		   "\"start_at\":\"2026-12-01T09:00:00+09:00\","
		   "\"weekdays\":[\"sun\",\"sat\"],\"windows\":[]}");

	/* every key is optional */
	schedule_default(&def);
	parse_ok("{}", tokyo(), &s);
	assert_schedule_equal(&s, &def);
	parse_ok("null", tokyo(), &s);
	assert_schedule_equal(&s, &def);
	round_trip(&def, tokyo(),
		   "{\"domain_rate\":null,\"ends_at\":null,\"mode\":\"bulk\",\"order\":\"list\","
		   "\"rate\":null,\"skip_holidays\":false,\"spread_until\":null,\"start_at\":null,"
		   "\"weekdays\":[\"sun\",\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\"],\"windows\":[]}");
}

static void expect_json_error(const char *text, const char *want_field)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
	struct schedule s;
	const char *field = NULL, *msg = NULL;

	if (!j)
		fail_msg("bad test JSON %s: %s", text, err.text);
	memset(&s, 0xa5, sizeof(s));
	int r = schedule_from_json(j, tokyo(), &s, &field, &msg);
	json_decref(j);
	if (r != -EINVAL)
		fail_msg("%s: expected -EINVAL, got %d", text, r);
	assert_non_null(field);
	assert_non_null(msg);
	assert_true(strlen(msg) > 5);
	if (strcmp(field, want_field))
		fail_msg("%s: field %s (%s), expected %s", text, field, msg, want_field);
	/* ret is written only on success */
	assert_int_equal(s.rate_n, (int64_t)0xa5a5a5a5a5a5a5a5ULL);
}

static void test_json_errors(void **state)
{
	expect_json_error("[]", "schedule");
	expect_json_error("{\"mode\": \"bulk\", \"speed\": 3}", "schedule");
	expect_json_error("{\"mode\": \"fast\"}", "schedule.mode");
	expect_json_error("{\"mode\": 1}", "schedule.mode");
	expect_json_error("{\"start_at\": \"tomorrow\"}", "schedule.start_at");
	expect_json_error("{\"start_at\": \"2026-02-30T09:00:00+09:00\"}", "schedule.start_at");
	expect_json_error("{\"start_at\": 1764547200}", "schedule.start_at");
	expect_json_error("{\"mode\": \"rate\"}", "schedule.rate");
	expect_json_error("{\"rate\": 100}", "schedule.rate");
	expect_json_error("{\"rate\": {\"count\": 0, \"per\": \"hour\"}}", "schedule.rate.count");
	expect_json_error("{\"rate\": {\"count\": 1.5, \"per\": \"hour\"}}", "schedule.rate.count");
	expect_json_error("{\"rate\": {\"count\": 10, \"per\": \"day\"}}", "schedule.rate.per");
	expect_json_error("{\"rate\": {\"count\": 10}}", "schedule.rate.per");
	expect_json_error("{\"rate\": {\"count\": 10, \"per\": \"hour\", \"burst\": 2}}", "schedule.rate");
	expect_json_error("{\"mode\": \"spread\"}", "schedule.spread_until");
	expect_json_error("{\"mode\": \"spread\", \"start_at\": \"2026-12-05T09:00:00+09:00\","
			  " \"spread_until\": \"2026-12-01T09:00:00+09:00\"}",
			  "schedule.spread_until");
	expect_json_error("{\"windows\": {\"from\": \"09:00\", \"to\": \"12:00\"}}", "schedule.windows");
	expect_json_error("{\"windows\": [{\"from\": \"09:00\", \"to\": \"12:00\"},"
			  " {\"from\": \"13:00\", \"to\": \"25:00\"}]}",
			  "schedule.windows[1].to");
	expect_json_error("{\"windows\": [{\"from\": \"09:00\", \"to\": \"12:00\"},"
			  " {\"from\": \"13:00\", \"to\": \"12:30\"}]}",
			  "schedule.windows[1].to");
	expect_json_error("{\"windows\": [{\"from\": \"9:5\", \"to\": \"12:00\"}]}", "schedule.windows[0].from");
	expect_json_error("{\"windows\": [{\"from\": \"24:00\", \"to\": \"24:00\"}]}", "schedule.windows[0].from");
	expect_json_error("{\"windows\": [{\"to\": \"12:00\"}]}", "schedule.windows[0].from");
	expect_json_error("{\"windows\": [{\"from\": \"09:00\", \"to\": \"12:00\"}, \"13-18\"]}",
			  "schedule.windows[1]");
	expect_json_error("{\"windows\": [{\"from\": \"09:00\", \"to\": \"12:00\", \"tz\": \"UTC\"}]}",
			  "schedule.windows[0]");
	/* overlapping windows */
	expect_json_error("{\"windows\": [{\"from\": \"09:00\", \"to\": \"12:00\"},"
			  " {\"from\": \"11:00\", \"to\": \"13:00\"}]}",
			  "schedule.windows[1]");
	expect_json_error("{\"windows\": [{\"from\": \"09:00\", \"to\": \"12:00\"},"
			  " {\"from\": \"13:00\", \"to\": \"14:00\"}, {\"from\": \"08:00\", \"to\": \"18:00\"}]}",
			  "schedule.windows[2]");
	expect_json_error("{\"windows\": [{\"from\": \"00:00\", \"to\": \"01:00\"}, {\"from\": \"01:00\", \"to\": \"02:00\"},"
			  " {\"from\": \"02:00\", \"to\": \"03:00\"}, {\"from\": \"03:00\", \"to\": \"04:00\"},"
			  " {\"from\": \"04:00\", \"to\": \"05:00\"}, {\"from\": \"05:00\", \"to\": \"06:00\"},"
			  " {\"from\": \"06:00\", \"to\": \"07:00\"}, {\"from\": \"07:00\", \"to\": \"08:00\"},"
			  " {\"from\": \"08:00\", \"to\": \"09:00\"}]}",
			  "schedule.windows");
	expect_json_error("{\"weekdays\": [\"mon\", \"funday\"]}", "schedule.weekdays");
	expect_json_error("{\"weekdays\": []}", "schedule.weekdays");
	expect_json_error("{\"weekdays\": \"mon\"}", "schedule.weekdays");
	expect_json_error("{\"skip_holidays\": \"yes\"}", "schedule.skip_holidays");
	expect_json_error("{\"order\": \"alphabetical\"}", "schedule.order");
	expect_json_error("{\"domain_rate\": {\"count\": 1}}", "schedule.domain_rate.per");
	expect_json_error("{\"domain_rate\": {\"count\": -1, \"per\": \"minute\"}}",
			  "schedule.domain_rate.count");
	expect_json_error("{\"domain_rate\": \"10/minute\"}", "schedule.domain_rate");
	expect_json_error("{\"start_at\": \"2026-12-05T09:00:00+09:00\", \"ends_at\": \"2026-12-05T09:00:00+09:00\"}",
			  "schedule.ends_at");
	expect_json_error("{\"ends_at\": \"1960-01-01T00:00:00Z\"}", "schedule.ends_at");

	/* windows that touch do not overlap */
	struct schedule s;
	parse_ok("{\"windows\": [{\"from\": \"12:00\", \"to\": \"13:00\"}, {\"from\": \"09:00\", \"to\": \"12:00\"}]}",
		 tokyo(), &s);
	assert_int_equal(s.nwindows, 2);
}

static void expect_iso(const char *s, const struct tz *z, const char *want_utc)
{
	int64_t t;
	if (iso_time_parse(s, z, &t) < 0)
		fail_msg("cannot parse %s", s);
	assert_time(tz_get("UTC"), t, want_utc);
}

static void test_iso_parse(void **state)
{
	const struct tz *ny = new_york();
	int64_t t = 42;

	expect_iso("2026-12-01T09:00:00+09:00", tokyo(), "2026-12-01T00:00:00Z");
	expect_iso("2026-12-01T09:00:00Z", tokyo(), "2026-12-01T09:00:00Z");
	expect_iso("2026-12-01T09:00:00-05:30", tokyo(), "2026-12-01T14:30:00Z");
	expect_iso("2026-12-01T09:00:00", tokyo(), "2026-12-01T00:00:00Z");
	expect_iso("2026-12-01T09:00", tokyo(), "2026-12-01T00:00:00Z");
	expect_iso("2026-12-01T09:00Z", ny, "2026-12-01T09:00:00Z");
	expect_iso("2026-12-01T09:00:00.123Z", ny, "2026-12-01T09:00:00Z"); /* JavaScript's toISOString */
	expect_iso("2024-02-29T23:59:59+09:00", tokyo(), "2024-02-29T14:59:59Z");
	/* local times in New York: winter, summer, the skipped and the repeated hour */
	expect_iso("2026-01-15T09:00", ny, "2026-01-15T14:00:00Z");
	expect_iso("2026-07-15T09:00", ny, "2026-07-15T13:00:00Z");
	expect_iso("2026-03-08T02:30", ny, "2026-03-08T07:30:00Z"); /* = 03:30 EDT */
	expect_iso("2026-03-08T03:00", ny, "2026-03-08T07:00:00Z");
	expect_iso("2026-03-08T01:59:59", ny, "2026-03-08T06:59:59Z");
	expect_iso("2026-11-01T01:30", ny, "2026-11-01T05:30:00Z"); /* the first 01:30 (EDT) */
	expect_iso("2026-11-01T02:00", ny, "2026-11-01T07:00:00Z");

	static const char *const bad[] = {
		"", "2026-12-01", "2026-12-01T", "2026-12-01T9:00", "2026-12-01 09:00:00Z",
		"2026-13-01T09:00Z", "2026-02-29T09:00Z", "2026-12-00T09:00Z", "2026-12-01T24:00Z",
		"2026-12-01T09:60Z", "2026-12-01T09:00:60Z", "2026-12-01T09:00:00+9", "2026-12-01T09:00:00+0900",
		"2026-12-01T09:00:00+09:00x", "2026-12-01T09:00:00Zx", "2026-12-01T09:00:00.Z",
		"26-12-01T09:00Z", "2026/12/01T09:00Z", "2026-12-01T09:00:00+24:00", "tomorrow",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (iso_time_parse(bad[i], tokyo(), &t) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(t, 42);
	/* no zone: only times with an offset */
	assert_int_equal(iso_time_parse("2026-12-01T09:00", NULL, &t), -EINVAL);
	expect_iso("2026-12-01T09:00+09:00", NULL, "2026-12-01T00:00:00Z");
}

/* ---- scale -------------------------------------------------------------- */

static void test_performance(void **state)
{
	enum { N = 300000, DOMAINS = 200 };
	_cleanup_free_ int64_t *due = xcalloc(N, sizeof(*due));
	_cleanup_free_ const char **doms = xcalloc(N, sizeof(*doms));
	char names[DOMAINS][32];
	struct schedule s;
	struct timespec t0;
	uint64_t x = 99;

	for (int i = 0; i < DOMAINS; i++)
		snprintf(names[i], sizeof(names[i]), "%s%d.example.jp", i % 2 ? "Dept" : "dept", i / 2);
	for (int i = 0; i < N; i++)
		doms[i] = names[test_rand(&x) % DOMAINS];

	/* rate over the New Year holidays, random order, a domain rate */
	office_hours(&s);
	s.mode = PLAN_RATE;
	s.rate_n = 100;
	s.rate_seconds = 60;
	s.random_order = true;
	s.domain_rate_n = 10;
	s.domain_rate_seconds = 60;
	s.start_at = at("2026-12-25T10:00:00+09:00");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, doms, 1, due), 0);
	double rate_time = seconds_since(&t0);
	int64_t last = 0;
	for (int i = 0; i < N; i++) {
		assert_true(office_open(due[i]));
		if (due[i] > last)
			last = due[i];
	}
	/* 50 hours of allowed time: past 元日 and the weekend after it */
	assert_true(last >= at("2027-01-05T09:00:00+09:00"));
	qsort(due, N, sizeof(*due), cmp_i64);
	for (int i = 0; i + 100 < N; i++)
		assert_true(due[i + 100] - due[i] >= 60); /* at most 100 a minute */

	/* without the domain rate */
	s.domain_rate_n = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 1, due), 0);
	double plain_time = seconds_since(&t0);

	/* spread over a month */
	s.mode = PLAN_SPREAD;
	s.spread_until = at("2027-01-29T18:00:00+09:00");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, NULL, 1, due), 0);
	double spread_time = seconds_since(&t0);

	/* bulk with a domain rate: one plan_next_allowed per target */
	s.mode = PLAN_BULK;
	s.domain_rate_n = 100;
	s.domain_rate_seconds = 60;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(plan_schedule(&s, tokyo(), 0, N, doms, 1, due), 0);
	double bulk_time = seconds_since(&t0);

	print_message("plan_schedule, %d targets: rate+random+%d domains %.3f s, rate+random %.3f s, "
		      "spread %.3f s, bulk+domains %.3f s\n",
		      N, DOMAINS, rate_time, plain_time, spread_time, bulk_time);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_windows_weekdays_holidays),
		cmocka_unit_test(test_dst),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_random_order),
		cmocka_unit_test(test_domain_rate),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_iso_parse),
		cmocka_unit_test(test_performance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
