/*
 * Fuzz target for deliver/plan.c: a campaign's "schedule" object as the API
 * receives it.  Besides "no crash, no leak" it checks:
 * - what schedule_from_json accepts, schedule_to_json writes in a form it
 *   accepts again, to the same schedule;
 * - plan_schedule of the accepted schedule gives every target a time that
 *   plan_allowed agrees with, never before the start.
 */
#include "deliver/plan.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "failed: %s\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tz *zone;
	static const char *const domains[] = { "a.example", "b.example", "A.example", "c.example", "a.example",
					       "b.example", "x.example", "a.example" };
	if (!zone)
		zone = tz_get("Asia/Tokyo");
	json_error_t err;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &err);
	struct schedule s, back;
	const char *field, *msg;
	if (!j)
		return 0;
	if (schedule_from_json(j, zone, &s, &field, &msg) < 0) {
		CHECK(field && msg && !strncmp(field, "schedule", 8));
		json_decref(j);
		return 0;
	}
	json_decref(j);
	json_t *out = schedule_to_json(&s, zone);
	CHECK(out);
	CHECK(schedule_from_json(out, zone, &back, &field, &msg) == 0);
	json_decref(out);
	CHECK(back.mode == s.mode && back.start_at == s.start_at && back.nwindows == s.nwindows &&
	      back.weekdays == s.weekdays && back.skip_holidays == s.skip_holidays &&
	      back.random_order == s.random_order && back.ends_at == s.ends_at);

	const int64_t now = 1795000000; /* 2026-11-18 */
	int64_t due[ARRAY_SIZE(domains)];
	if (plan_schedule(&s, zone, now, ARRAY_SIZE(domains), domains, 42, due) == 0) {
		int64_t start = s.start_at > now ? s.start_at : now;
		for (size_t i = 0; i < ARRAY_SIZE(domains); i++) {
			CHECK(due[i] >= start);
			CHECK(plan_allowed(&s, zone, due[i]));
		}
	}
	return 0;
}
