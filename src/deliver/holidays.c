/*
 * holidays.c — Japanese public holidays 1980–2099 (jp_holiday, plan.h).
 *
 * Three layers, as the law builds them (docs/internals/PLAN.md has the
 * history and the sources):
 *  1. 国民の祝日 proper (shukujitsu): fixed days, the Happy Monday days, the
 *     equinoxes, the 2020/2021 Olympic moves and the one-off days of the
 *     imperial events (treated as 祝日 by their special laws);
 *  2. 振替休日: until 2006 the Monday after a 祝日 on a Sunday; from 2007 the
 *     first day after a Sunday 祝日 that is not itself a 祝日;
 *  3. 国民の休日 (from 1985-12-27): a day between two 祝日 that is not one
 *     itself; until 2006 not on a Sunday nor on a 振替休日.
 */
#include "deliver/plan.h"

/* Day number (days since 1970-01-01) of a date, and back. */
static int64_t day_number(int y, int m, int d)
{
	struct civil c = { .year = y, .month = m, .day = d };
	return unix_from_civil(&c) / 86400;
}

static void day_civil(int64_t dn, struct civil *ret)
{
	civil_from_unix(dn * 86400, ret);
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Is day d (weekday wday) the nth Monday of its month? */
static bool nth_monday(int d, int wday, int nth)
{
	return wday == 1 && (d - 1) / 7 == nth - 1;
}

/*
 * The equinox days by the formula of the National Astronomical Observatory
 * tables, valid 1980–2099 (other ranges use other constants: 20.8357 /
 * 23.2588 with (y-1983)/4 for 1900–1979, 21.8510 / 24.2488 for 2100–2150).
 * In millionths of a day so no floating point rounding can move a day.
 */
static int spring_equinox(int y)
{
	if (y < 1980 || y > 2099)
		return 0;
	int64_t k = y - 1980;
	return (int)((20843100 + 242194 * k - 1000000 * (k / 4)) / 1000000);
}

static int autumn_equinox(int y)
{
	if (y < 1980 || y > 2099)
		return 0;
	int64_t k = y - 1980;
	return (int)((23248800 + 242194 * k - 1000000 * (k / 4)) / 1000000);
}

/* The 国民の祝日 (and the special days treated as such) on a date, or NULL. */
static const char *shukujitsu(const struct civil *c)
{
	int y = c->year, d = c->day, w = c->wday;

	switch (c->month) {
	case 1:
		if (d == 1)
			return "元日";
		if (y < 2000 ? d == 15 : nth_monday(d, w, 2))
			return "成人の日";
		return NULL;
	case 2:
		if (d == 11)
			return "建国記念の日";
		if (d == 23 && y >= 2020)
			return "天皇誕生日";
		if (y == 1989 && d == 24)
			return "昭和天皇の大喪の礼";
		return NULL;
	case 3:
		return d == spring_equinox(y) ? "春分の日" : NULL;
	case 4:
		if (d == 29)
			return y <= 1988 ? "天皇誕生日" : y <= 2006 ? "みどりの日" : "昭和の日";
		return NULL;
	case 5:
		if (d == 3)
			return "憲法記念日";
		if (d == 4 && y >= 2007)
			return "みどりの日";
		if (d == 5)
			return "こどもの日";
		if (y == 2019 && d == 1)
			return "即位の日";
		return NULL;
	case 6:
		return y == 1993 && d == 9 ? "皇太子徳仁親王の結婚の儀" : NULL;
	case 7:
		if (y == 2020)
			return d == 23 ? "海の日" : d == 24 ? "スポーツの日" : NULL;
		if (y == 2021)
			return d == 22 ? "海の日" : d == 23 ? "スポーツの日" : NULL;
		if ((y >= 1996 && y <= 2002 && d == 20) || (y >= 2003 && nth_monday(d, w, 3)))
			return "海の日";
		return NULL;
	case 8:
		if (y >= 2016 && d == (y == 2020 ? 10 : y == 2021 ? 8 : 11))
			return "山の日";
		return NULL;
	case 9:
		if (y < 2003 ? d == 15 : nth_monday(d, w, 3))
			return "敬老の日";
		return d == autumn_equinox(y) ? "秋分の日" : NULL;
	case 10:
		if (y == 2019 && d == 22)
			return "即位礼正殿の儀";
		if (y < 2000)
			return d == 10 ? "体育の日" : NULL;
		if (y <= 2019)
			return nth_monday(d, w, 2) ? "体育の日" : NULL;
		if (y >= 2022)
			return nth_monday(d, w, 2) ? "スポーツの日" : NULL;
		return NULL; /* 2020, 2021: moved to July */
	case 11:
		if (d == 3)
			return "文化の日";
		if (d == 23)
			return "勤労感謝の日";
		if (y == 1990 && d == 12)
			return "即位礼正殿の儀";
		return NULL;
	case 12:
		return d == 23 && y >= 1989 && y <= 2018 ? "天皇誕生日" : NULL;
	}
	return NULL;
}

static const char *shukujitsu_day(int64_t dn, struct civil *ret_c)
{
	day_civil(dn, ret_c);
	return shukujitsu(ret_c);
}

bool jp_holiday(int year, int month, int day, const char **ret_name)
{
	if (year < 1980 || year > 2099 || month < 1 || month > 12 || day < 1 ||
	    day > days_in_month(year, month))
		return false;

	int64_t dn = day_number(year, month, day);
	struct civil c, o;
	const char *name = shukujitsu_day(dn, &c);

	if (!name) {
		/* 振替休日 */
		if (year >= 2007) {
			for (int64_t k = dn - 1; shukujitsu_day(k, &o); k--)
				if (o.wday == 0) {
					name = "振替休日";
					break;
				}
		} else if (c.wday == 1 && shukujitsu_day(dn - 1, &o)) {
			name = "振替休日";
		}
	}
	if (!name && dn >= day_number(1985, 12, 27) && (year >= 2007 || c.wday != 0) &&
	    shukujitsu_day(dn - 1, &o) && shukujitsu_day(dn + 1, &o))
		name = "国民の休日";

	if (!name)
		return false;
	if (ret_name)
		*ret_name = name;
	return true;
}
