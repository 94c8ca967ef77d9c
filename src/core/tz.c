/*
 * tz.c — civil time without the C library's global TZ state.  Zones are read
 * from the TZif files in /usr/share/zoneinfo (RFC 8536, version 2+ 64-bit
 * block); times after the last transition use the last transition's type,
 * which is exact for zones without daylight saving (Asia/Tokyo) and for
 * "fat" TZif files that list transitions far ahead.
 */
#include "core/core.h"

#include <pthread.h>

struct tz {
	char *name;
	size_t n;            /* transitions */
	int64_t *at;         /* transition times, ascending */
	int32_t *offset_at;  /* offset in force from at[i] */
	int32_t initial;     /* offset before the first transition */
	struct tz *next;
};

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz *tz_cache;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Parses one TZif data block; `v2` selects 8-byte transition times. */
static int tzif_parse(const unsigned char *p, size_t len, struct tz *z, size_t *ret_used, bool v2)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -EINVAL;
	uint32_t isutc = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28);
	uint32_t timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
	size_t tsize = v2 ? 8 : 4;
	if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || charcnt > 10000 || leap > 10000 ||
	    isutc > typecnt || isstd > typecnt)
		return -EINVAL;
	size_t need = 44 + timecnt * tsize + timecnt + typecnt * 6 + charcnt +
		      leap * (tsize + 4) + isstd + isutc;
	if (need > len)
		return -EINVAL;
	const unsigned char *times = p + 44, *idx = times + timecnt * tsize,
			    *types = idx + timecnt;
	z->n = timecnt;
	z->at = xcalloc(timecnt, sizeof(*z->at));
	z->offset_at = xcalloc(timecnt, sizeof(*z->offset_at));
	for (uint32_t i = 0; i < timecnt; i++) {
		z->at[i] = v2 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
		if (idx[i] >= typecnt)
			return -EINVAL;
		z->offset_at[i] = (int32_t)be32(types + 6 * idx[i]);
		if (i && z->at[i] <= z->at[i - 1])
			return -EINVAL;
	}
	/* RFC 8536: the first standard-time type, else type 0. */
	z->initial = (int32_t)be32(types);
	for (uint32_t i = 0; i < typecnt; i++)
		if (!types[6 * i + 4]) {
			z->initial = (int32_t)be32(types + 6 * i);
			break;
		}
	*ret_used = need;
	return 0;
}

static void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->name);
	free(z->at);
	free(z->offset_at);
	free(z);
}

static bool tz_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '/' || strstr(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	return true;
}

static struct tz *tz_load(const char *name)
{
	_cleanup_buf_ struct buf data = BUF_INIT(1 << 20);
	_cleanup_free_ char *path = NULL;
	size_t used;

	if (!strcmp(name, "UTC")) {
		struct tz *z = xcalloc(1, sizeof(*z));
		z->name = xstrdup(name);
		return z;
	}
	if (!tz_name_ok(name))
		return NULL;
	path = xasprintf("/usr/share/zoneinfo/%s", name);
	if (file_read(path, 1 << 20, &data) < 0)
		return NULL;
	const unsigned char *p = (const unsigned char *)data.p;
	struct tz *z = xcalloc(1, sizeof(*z));
	z->name = xstrdup(name);
	if (tzif_parse(p, data.len, z, &used, false) < 0)
		goto fail;
	if (p[4] >= '2') {
		free(z->at);
		free(z->offset_at);
		z->at = NULL;
		z->offset_at = NULL;
		if (tzif_parse(p + used, data.len - used, z, &used, true) < 0)
			goto fail;
	}
	return z;
fail:
	tz_free(z);
	return NULL;
}

const struct tz *tz_get(const char *name)
{
	pthread_mutex_lock(&tz_lock);
	struct tz *z;
	for (z = tz_cache; z; z = z->next)
		if (!strcmp(z->name, name))
			break;
	if (!z && (z = tz_load(name))) {
		z->next = tz_cache;
		tz_cache = z;
	}
	pthread_mutex_unlock(&tz_lock);
	return z;
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

int tz_offset(const struct tz *z, int64_t utc)
{
	if (z->n == 0 || utc < z->at[0])
		return z->initial;
	size_t lo = 0, hi = z->n; /* last i with at[i] <= utc */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return z->offset_at[lo];
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
void civil_from_unix(int64_t t, struct civil *ret)
{
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	ret->year = (int)y;
	ret->month = (int)m;
	ret->day = (int)d;
	ret->hour = (int)(secs / 3600);
	ret->min = (int)(secs % 3600 / 60);
	ret->sec = (int)(secs % 60);
	ret->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

int64_t unix_from_civil(const struct civil *c)
{
	int64_t y = c->year - (c->month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = c->month > 2 ? c->month - 3 : c->month + 9;
	int64_t doy = (153 * mp + 2) / 5 + c->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	return days * 86400 + c->hour * 3600 + c->min * 60 + c->sec;
}

int tz_put_csv_time(struct buf *b, const struct tz *z, int64_t t)
{
	struct civil c;
	if (t == 0)
		return 0;
	civil_from_unix(t + tz_offset(z, t), &c);
	return buf_printf(b, "%d/%d/%d %02d:%02d", c.year, c.month, c.day, c.hour, c.min);
}

int tz_put_iso(struct buf *b, const struct tz *z, int64_t t)
{
	struct civil c;
	int off = tz_offset(z, t);
	civil_from_unix(t + off, &c);
	int r = buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.min, c.sec);
	if (r < 0)
		return r;
	if (off == 0)
		return buf_putc(b, 'Z');
	int a = off < 0 ? -off : off;
	return buf_printf(b, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
}

int64_t now_unix(void)
{
	return now_ms() / 1000;
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
