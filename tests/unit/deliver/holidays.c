/*
 * Tests of src/deliver/holidays.c: jp_holiday against the Cabinet Office's
 * list of 国民の祝日 (内閣府「国民の祝日について」, syukujitsu.csv) for
 * 2020–2030, every day of those years, plus older years whose rules differ.
 * 2027–2030 are past the published list: their equinoxes come from the
 * formula (checked by hand: 2028-03-20, 2028-09-22, 2029-03-20,
 * 2029-09-23, 2030-03-20, 2030-09-23) and the other days from the law.
 * The CSV calls 振替休日 and 国民の休日 both "休日"; jp_holiday names them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deliver/plan.h"

struct holiday {
	int y, m, d;
	const char *name;
};

static const struct holiday official[] = {
	/* 2020: the Olympic moves (海の日 7/23, スポーツの日 7/24, 山の日 8/10) */
	{ 2020, 1, 1, "元日" }, { 2020, 1, 13, "成人の日" }, { 2020, 2, 11, "建国記念の日" },
	{ 2020, 2, 23, "天皇誕生日" }, { 2020, 2, 24, "振替休日" }, { 2020, 3, 20, "春分の日" },
	{ 2020, 4, 29, "昭和の日" }, { 2020, 5, 3, "憲法記念日" }, { 2020, 5, 4, "みどりの日" },
	{ 2020, 5, 5, "こどもの日" }, { 2020, 5, 6, "振替休日" }, { 2020, 7, 23, "海の日" },
	{ 2020, 7, 24, "スポーツの日" }, { 2020, 8, 10, "山の日" }, { 2020, 9, 21, "敬老の日" },
	{ 2020, 9, 22, "秋分の日" }, { 2020, 11, 3, "文化の日" }, { 2020, 11, 23, "勤労感謝の日" },
	/* 2021: 海の日 7/22, スポーツの日 7/23, 山の日 8/8 (Sunday) */
	{ 2021, 1, 1, "元日" }, { 2021, 1, 11, "成人の日" }, { 2021, 2, 11, "建国記念の日" },
	{ 2021, 2, 23, "天皇誕生日" }, { 2021, 3, 20, "春分の日" }, { 2021, 4, 29, "昭和の日" },
	{ 2021, 5, 3, "憲法記念日" }, { 2021, 5, 4, "みどりの日" }, { 2021, 5, 5, "こどもの日" },
	{ 2021, 7, 22, "海の日" }, { 2021, 7, 23, "スポーツの日" }, { 2021, 8, 8, "山の日" },
	{ 2021, 8, 9, "振替休日" }, { 2021, 9, 20, "敬老の日" }, { 2021, 9, 23, "秋分の日" },
	{ 2021, 11, 3, "文化の日" }, { 2021, 11, 23, "勤労感謝の日" },
	/* 2022 */
	{ 2022, 1, 1, "元日" }, { 2022, 1, 10, "成人の日" }, { 2022, 2, 11, "建国記念の日" },
	{ 2022, 2, 23, "天皇誕生日" }, { 2022, 3, 21, "春分の日" }, { 2022, 4, 29, "昭和の日" },
	{ 2022, 5, 3, "憲法記念日" }, { 2022, 5, 4, "みどりの日" }, { 2022, 5, 5, "こどもの日" },
	{ 2022, 7, 18, "海の日" }, { 2022, 8, 11, "山の日" }, { 2022, 9, 19, "敬老の日" },
	{ 2022, 9, 23, "秋分の日" }, { 2022, 10, 10, "スポーツの日" }, { 2022, 11, 3, "文化の日" },
	{ 2022, 11, 23, "勤労感謝の日" },
	/* 2023 */
	{ 2023, 1, 1, "元日" }, { 2023, 1, 2, "振替休日" }, { 2023, 1, 9, "成人の日" },
	{ 2023, 2, 11, "建国記念の日" }, { 2023, 2, 23, "天皇誕生日" }, { 2023, 3, 21, "春分の日" },
	{ 2023, 4, 29, "昭和の日" }, { 2023, 5, 3, "憲法記念日" }, { 2023, 5, 4, "みどりの日" },
	{ 2023, 5, 5, "こどもの日" }, { 2023, 7, 17, "海の日" }, { 2023, 8, 11, "山の日" },
	{ 2023, 9, 18, "敬老の日" }, { 2023, 9, 23, "秋分の日" }, { 2023, 10, 9, "スポーツの日" },
	{ 2023, 11, 3, "文化の日" }, { 2023, 11, 23, "勤労感謝の日" },
	/* 2024 */
	{ 2024, 1, 1, "元日" }, { 2024, 1, 8, "成人の日" }, { 2024, 2, 11, "建国記念の日" },
	{ 2024, 2, 12, "振替休日" }, { 2024, 2, 23, "天皇誕生日" }, { 2024, 3, 20, "春分の日" },
	{ 2024, 4, 29, "昭和の日" }, { 2024, 5, 3, "憲法記念日" }, { 2024, 5, 4, "みどりの日" },
	{ 2024, 5, 5, "こどもの日" }, { 2024, 5, 6, "振替休日" }, { 2024, 7, 15, "海の日" },
	{ 2024, 8, 11, "山の日" }, { 2024, 8, 12, "振替休日" }, { 2024, 9, 16, "敬老の日" },
	{ 2024, 9, 22, "秋分の日" }, { 2024, 9, 23, "振替休日" }, { 2024, 10, 14, "スポーツの日" },
	{ 2024, 11, 3, "文化の日" }, { 2024, 11, 4, "振替休日" }, { 2024, 11, 23, "勤労感謝の日" },
	/* 2025 */
	{ 2025, 1, 1, "元日" }, { 2025, 1, 13, "成人の日" }, { 2025, 2, 11, "建国記念の日" },
	{ 2025, 2, 23, "天皇誕生日" }, { 2025, 2, 24, "振替休日" }, { 2025, 3, 20, "春分の日" },
	{ 2025, 4, 29, "昭和の日" }, { 2025, 5, 3, "憲法記念日" }, { 2025, 5, 4, "みどりの日" },
	{ 2025, 5, 5, "こどもの日" }, { 2025, 5, 6, "振替休日" }, { 2025, 7, 21, "海の日" },
	{ 2025, 8, 11, "山の日" }, { 2025, 9, 15, "敬老の日" }, { 2025, 9, 23, "秋分の日" },
	{ 2025, 10, 13, "スポーツの日" }, { 2025, 11, 3, "文化の日" }, { 2025, 11, 23, "勤労感謝の日" },
	{ 2025, 11, 24, "振替休日" },
	/* 2026: 9/22 between 敬老の日 and 秋分の日 */
	{ 2026, 1, 1, "元日" }, { 2026, 1, 12, "成人の日" }, { 2026, 2, 11, "建国記念の日" },
	{ 2026, 2, 23, "天皇誕生日" }, { 2026, 3, 20, "春分の日" }, { 2026, 4, 29, "昭和の日" },
	{ 2026, 5, 3, "憲法記念日" }, { 2026, 5, 4, "みどりの日" }, { 2026, 5, 5, "こどもの日" },
	{ 2026, 5, 6, "振替休日" }, { 2026, 7, 20, "海の日" }, { 2026, 8, 11, "山の日" },
	{ 2026, 9, 21, "敬老の日" }, { 2026, 9, 22, "国民の休日" }, { 2026, 9, 23, "秋分の日" },
	{ 2026, 10, 12, "スポーツの日" }, { 2026, 11, 3, "文化の日" }, { 2026, 11, 23, "勤労感謝の日" },
	/* 2027 */
	{ 2027, 1, 1, "元日" }, { 2027, 1, 11, "成人の日" }, { 2027, 2, 11, "建国記念の日" },
	{ 2027, 2, 23, "天皇誕生日" }, { 2027, 3, 21, "春分の日" }, { 2027, 3, 22, "振替休日" },
	{ 2027, 4, 29, "昭和の日" }, { 2027, 5, 3, "憲法記念日" }, { 2027, 5, 4, "みどりの日" },
	{ 2027, 5, 5, "こどもの日" }, { 2027, 7, 19, "海の日" }, { 2027, 8, 11, "山の日" },
	{ 2027, 9, 20, "敬老の日" }, { 2027, 9, 23, "秋分の日" }, { 2027, 10, 11, "スポーツの日" },
	{ 2027, 11, 3, "文化の日" }, { 2027, 11, 23, "勤労感謝の日" },
	/* 2028 */
	{ 2028, 1, 1, "元日" }, { 2028, 1, 10, "成人の日" }, { 2028, 2, 11, "建国記念の日" },
	{ 2028, 2, 23, "天皇誕生日" }, { 2028, 3, 20, "春分の日" }, { 2028, 4, 29, "昭和の日" },
	{ 2028, 5, 3, "憲法記念日" }, { 2028, 5, 4, "みどりの日" }, { 2028, 5, 5, "こどもの日" },
	{ 2028, 7, 17, "海の日" }, { 2028, 8, 11, "山の日" }, { 2028, 9, 18, "敬老の日" },
	{ 2028, 9, 22, "秋分の日" }, { 2028, 10, 9, "スポーツの日" }, { 2028, 11, 3, "文化の日" },
	{ 2028, 11, 23, "勤労感謝の日" },
	/* 2029 */
	{ 2029, 1, 1, "元日" }, { 2029, 1, 8, "成人の日" }, { 2029, 2, 11, "建国記念の日" },
	{ 2029, 2, 12, "振替休日" }, { 2029, 2, 23, "天皇誕生日" }, { 2029, 3, 20, "春分の日" },
	{ 2029, 4, 29, "昭和の日" }, { 2029, 4, 30, "振替休日" }, { 2029, 5, 3, "憲法記念日" },
	{ 2029, 5, 4, "みどりの日" }, { 2029, 5, 5, "こどもの日" }, { 2029, 7, 16, "海の日" },
	{ 2029, 8, 11, "山の日" }, { 2029, 9, 17, "敬老の日" }, { 2029, 9, 23, "秋分の日" },
	{ 2029, 9, 24, "振替休日" }, { 2029, 10, 8, "スポーツの日" }, { 2029, 11, 3, "文化の日" },
	{ 2029, 11, 23, "勤労感謝の日" },
	/* 2030 */
	{ 2030, 1, 1, "元日" }, { 2030, 1, 14, "成人の日" }, { 2030, 2, 11, "建国記念の日" },
	{ 2030, 2, 23, "天皇誕生日" }, { 2030, 3, 20, "春分の日" }, { 2030, 4, 29, "昭和の日" },
	{ 2030, 5, 3, "憲法記念日" }, { 2030, 5, 4, "みどりの日" }, { 2030, 5, 5, "こどもの日" },
	{ 2030, 5, 6, "振替休日" }, { 2030, 7, 15, "海の日" }, { 2030, 8, 11, "山の日" },
	{ 2030, 8, 12, "振替休日" }, { 2030, 9, 16, "敬老の日" }, { 2030, 9, 23, "秋分の日" },
	{ 2030, 10, 14, "スポーツの日" }, { 2030, 11, 3, "文化の日" }, { 2030, 11, 4, "振替休日" },
	{ 2030, 11, 23, "勤労感謝の日" },
};

static int days_in(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

static void expect_holiday(int y, int m, int d, const char *want)
{
	const char *name = NULL;
	bool got = jp_holiday(y, m, d, &name);
	if (!want) {
		if (got)
			fail_msg("%04d-%02d-%02d: not a holiday, got %s", y, m, d, name);
		assert_null(name); /* written only for a holiday */
		return;
	}
	if (!got)
		fail_msg("%04d-%02d-%02d: expected %s, got no holiday", y, m, d, want);
	if (strcmp(name, want))
		fail_msg("%04d-%02d-%02d: expected %s, got %s", y, m, d, want, name);
	assert_true(jp_holiday(y, m, d, NULL)); /* the name is optional */
}

/* Every day of 2020–2030: a holiday exactly when the table says so. */
static void test_official_2020_2030(void **state)
{
	size_t next = 0, count[2031 - 2020] = { 0 };

	for (int y = 2020; y <= 2030; y++)
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= days_in(y, m); d++) {
				const struct holiday *h = next < ARRAY_SIZE(official) ? &official[next] : NULL;
				if (h && h->y == y && h->m == m && h->d == d) {
					expect_holiday(y, m, d, h->name);
					count[y - 2020]++;
					next++;
				} else {
					expect_holiday(y, m, d, NULL);
				}
			}
	assert_int_equal(next, ARRAY_SIZE(official)); /* the table is in date order */
	/* 16 祝日 a year since 2016 (2019: 17 with 即位の日 and 即位礼正殿の儀
	 * less 天皇誕生日), plus the 振替休日 and 国民の休日 */
	assert_int_equal(count[2020 - 2020], 18);
	assert_int_equal(count[2026 - 2020], 18);
	assert_int_equal(count[2028 - 2020], 16);
}

static void test_equinoxes(void **state)
{
	/* the formula's results for the years past the published list */
	expect_holiday(2028, 3, 20, "春分の日");
	expect_holiday(2028, 9, 22, "秋分の日");
	expect_holiday(2029, 3, 20, "春分の日");
	expect_holiday(2029, 9, 23, "秋分の日");
	expect_holiday(2030, 3, 20, "春分の日");
	expect_holiday(2030, 9, 23, "秋分の日");
	/* published ones that sit on the formula's edges */
	expect_holiday(2012, 9, 22, "秋分の日"); /* 22.999… */
	expect_holiday(1980, 3, 20, "春分の日");
	expect_holiday(1980, 9, 23, "秋分の日");
	expect_holiday(2044, 9, 22, "秋分の日");
	expect_holiday(2044, 3, 20, "春分の日");
	expect_holiday(2092, 3, 19, "春分の日");
	expect_holiday(2099, 9, 23, "秋分の日");
}

static void test_older_years(void **state)
{
	/* 2019: the enthronement */
	expect_holiday(2019, 4, 29, "昭和の日");
	expect_holiday(2019, 4, 30, "国民の休日");
	expect_holiday(2019, 5, 1, "即位の日");
	expect_holiday(2019, 5, 2, "国民の休日");
	expect_holiday(2019, 5, 6, "振替休日");
	expect_holiday(2019, 10, 14, "体育の日");
	expect_holiday(2019, 10, 22, "即位礼正殿の儀");
	expect_holiday(2019, 2, 23, NULL);  /* no 天皇誕生日 in 2019 */
	expect_holiday(2019, 12, 23, NULL);
	expect_holiday(2018, 12, 23, "天皇誕生日");
	expect_holiday(2018, 12, 24, "振替休日");
	/* 国民の休日 in September (2007 rule) */
	expect_holiday(2009, 9, 21, "敬老の日");
	expect_holiday(2009, 9, 22, "国民の休日");
	expect_holiday(2009, 9, 23, "秋分の日");
	expect_holiday(2015, 9, 22, "国民の休日");
	/* 2007: 昭和の日 and みどりの日 move; 振替休日 reaches past 5/5 */
	expect_holiday(2006, 4, 29, "みどりの日");
	expect_holiday(2006, 5, 4, "国民の休日");
	expect_holiday(2007, 4, 29, "昭和の日");
	expect_holiday(2007, 4, 30, "振替休日");
	expect_holiday(2008, 5, 4, "みどりの日"); /* Sunday */
	expect_holiday(2008, 5, 6, "振替休日");   /* the first day after that is no 祝日 */
	/* the 1973 rule: only the Monday after a Sunday 祝日 */
	expect_holiday(1987, 5, 3, "憲法記念日"); /* Sunday */
	expect_holiday(1987, 5, 4, "振替休日");
	expect_holiday(1986, 5, 4, NULL);         /* a Sunday between two 祝日 */
	expect_holiday(1988, 5, 4, "国民の休日");
	expect_holiday(1985, 5, 4, NULL);         /* before the 1985 amendment */
	expect_holiday(1988, 4, 29, "天皇誕生日");
	expect_holiday(1989, 4, 29, "みどりの日");
	expect_holiday(1989, 2, 24, "昭和天皇の大喪の礼");
	expect_holiday(1990, 11, 12, "即位礼正殿の儀");
	expect_holiday(1993, 6, 9, "皇太子徳仁親王の結婚の儀");
	/* Happy Monday: 成人の日 and 体育の日 from 2000, 海の日 and 敬老の日 from 2003 */
	expect_holiday(1999, 1, 15, "成人の日");
	expect_holiday(2000, 1, 10, "成人の日");
	expect_holiday(2000, 1, 15, NULL);
	expect_holiday(1999, 10, 10, "体育の日"); /* a Sunday */
	expect_holiday(1999, 10, 11, "振替休日");
	expect_holiday(1998, 10, 10, "体育の日");
	expect_holiday(2000, 10, 9, "体育の日");
	expect_holiday(1995, 7, 20, NULL); /* 海の日 from 1996 */
	expect_holiday(1996, 7, 20, "海の日");
	expect_holiday(2003, 7, 21, "海の日");
	expect_holiday(2002, 9, 15, "敬老の日");
	expect_holiday(2003, 9, 15, "敬老の日");
	expect_holiday(2015, 8, 11, NULL); /* 山の日 from 2016 */
	expect_holiday(2016, 8, 11, "山の日");
	expect_holiday(2019, 7, 15, "海の日");
	expect_holiday(2020, 10, 12, NULL); /* スポーツの日 moved to July in 2020 */
	expect_holiday(2021, 10, 11, NULL);
}

static void test_out_of_range(void **state)
{
	const char *name = "unchanged";
	assert_false(jp_holiday(1979, 1, 1, &name));
	assert_false(jp_holiday(2100, 1, 1, &name));
	assert_false(jp_holiday(2024, 2, 30, &name));
	assert_false(jp_holiday(2024, 13, 1, &name));
	assert_false(jp_holiday(2024, 0, 1, &name));
	assert_false(jp_holiday(2024, 1, 0, &name));
	assert_string_equal(name, "unchanged");
	expect_holiday(1980, 1, 1, "元日");
	expect_holiday(2099, 12, 31, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_2020_2030),
		cmocka_unit_test(test_equinoxes),
		cmocka_unit_test(test_older_years),
		cmocka_unit_test(test_out_of_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
