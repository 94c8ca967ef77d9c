/*
 * plan — when each target's mail goes out (SPEC E2–E4): a campaign's
 * schedule, its JSON form, and the planner that turns it into one send time
 * per target.  Pure functions of their arguments (the clock is passed in),
 * so the unit tests can walk through years of windows and holidays.
 *
 * Included by deliver.h; the implementation is plan.c and holidays.c.
 */
#ifndef KUNREN_DELIVER_PLAN_H
#define KUNREN_DELIVER_PLAN_H

#include "core/core.h"

enum plan_mode {
	PLAN_BULK,    /* 一括配信: everything at start_at (or the first allowed moment after it) */
	PLAN_RATE,    /* 分散配信: rate_n mails per rate_seconds from start_at */
	PLAN_SPREAD,  /* 分散配信: evenly over the allowed time between start_at and spread_until */
};

#define PLAN_WINDOWS_MAX 8

/* Local time of day in minutes since midnight: [from, to), 0 <= from < to <= 1440. */
struct plan_window {
	int from, to;
};

struct schedule {
	enum plan_mode mode;
	int64_t start_at;           /* unix seconds; 0: as soon as launched (the planner's now) */
	int64_t rate_n, rate_seconds;         /* PLAN_RATE: rate_n >= 1 per 60 or 3600 seconds */
	int64_t spread_until;       /* PLAN_SPREAD: the last mail no later than this */
	struct plan_window windows[PLAN_WINDOWS_MAX];
	size_t nwindows;            /* 0: any time of day */
	unsigned weekdays;          /* bit 0 Sunday ... bit 6 Saturday; 0x7f every day */
	bool skip_holidays;         /* Japanese public holidays (jp_holiday) are not allowed days */
	bool random_order;          /* false: list order */
	int64_t domain_rate_n, domain_rate_seconds; /* per recipient domain; 0: no limit */
	int64_t ends_at;            /* end of the training period (campaign finishes); 0: never */
};

/* Every day, any time, bulk, list order. */
void schedule_default(struct schedule *s);

/*
 * The schedule's JSON form (the API's and the campaigns.schedule column's):
 *   {"mode": "bulk"|"rate"|"spread",
 *    "start_at": "2026-12-01T09:00:00+09:00" | null,
 *    "rate": {"count": 100, "per": "minute"|"hour"},        (mode rate)
 *    "spread_until": "2026-12-05T18:00:00+09:00",           (mode spread)
 *    "windows": [{"from": "09:00", "to": "12:00"}, ...],    ("24:00" allowed as to)
 *    "weekdays": ["mon", "tue", "wed", "thu", "fri"],       (sun mon tue wed thu fri sat)
 *    "skip_holidays": true,
 *    "order": "list"|"random",
 *    "domain_rate": {"count": 10, "per": "minute"|"hour"} | null,
 *    "ends_at": "2026-12-20T18:00:00+09:00" | null}
 * Every key is optional (schedule_default for missing ones); unknown keys are
 * an error.  Times are ISO 8601 with an offset ("Z" too), or without one in
 * the zone given.  On error returns -EINVAL with *ret_field naming the field
 * ("schedule.windows[1].to") and *ret_msg saying what is wrong (static
 * strings).  Windows must not overlap; spread_until must be after start_at;
 * ends_at after start_at (when both are set).
 */
int schedule_from_json(json_t *j, const struct tz *zone, struct schedule *ret, const char **ret_field,
		       const char **ret_msg);
/* The same form, times in the zone given (ISO 8601 with offset). */
json_t *schedule_to_json(const struct schedule *s, const struct tz *zone);

/* Parses "2026-12-01T09:00:00+09:00", "...Z", "...T09:00:00" (local in zone),
 * "...T09:00" (seconds optional).  -EINVAL otherwise. */
int iso_time_parse(const char *s, const struct tz *zone, int64_t *ret);

/* Whether t may carry a send: inside a window (if any), on an allowed
 * weekday, not a skipped holiday — all in the zone's local time. */
bool plan_allowed(const struct schedule *s, const struct tz *zone, int64_t t);
/* The first allowed second at or after t; -1 when nothing is allowed within
 * 3 years (no weekday, or every allowed day a holiday). */
int64_t plan_next_allowed(const struct schedule *s, const struct tz *zone, int64_t t);

/*
 * Plans the send time of n targets.  domains[i] is the i-th target's
 * recipient domain (list order) — used only with a domain rate, may be NULL
 * otherwise.  due[i] gets the i-th target's send time (unix seconds).
 * - bulk: every due = plan_next_allowed(start).
 * - rate: one mail every rate_seconds/rate_n seconds of allowed time
 *   (closed hours do not count), from start.
 * - spread: the allowed seconds in [start, spread_until] divided evenly;
 *   the first mail at start, the last no later than spread_until.
 * - random order: the order of sending is a uniform random permutation of
 *   the targets drawn from `seed` (same seed, same plan).
 * - domain rate: no two mails to one domain closer than
 *   domain_rate_seconds/domain_rate_n; a target whose domain is busy
 *   yields its slot to the next one in order whose domain is free (the
 *   global rate is never exceeded).
 * start is s->start_at, or now when that is 0 or in the past.  Returns 0;
 * -EINVAL when no time is allowed at all or spread_until is not after the
 * start; -ERANGE when the plan would run past 3 years.
 */
int plan_schedule(const struct schedule *s, const struct tz *zone, int64_t now, size_t n,
		  const char *const *domains, uint64_t seed, int64_t *due);

/* Japanese public holidays (国民の祝日に関する法律 as amended, with the
 * 2020/2021 moves for the Olympics, 振替休日 and 国民の休日, the equinoxes
 * by the astronomical formula) for 1980–2099.  *ret_name (optional) gets the
 * holiday's Japanese name, e.g. "春分の日", "振替休日". */
bool jp_holiday(int year, int month, int day, const char **ret_name);

#endif
