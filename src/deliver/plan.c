/*
 * plan.c — a campaign's schedule (SPEC E2–E4): its JSON form, which moments
 * allow a send, and the planner that gives every target its send time.
 * docs/internals/PLAN.md describes the algorithms.
 *
 * Allowed time is a union of runs [a, b) of unix seconds.  Local wall time
 * only decides where the runs are: a run never crosses a local midnight or
 * a change of the zone's offset, so inside one run local time is t + offset.
 * The planner walks these runs forward with a cursor that also counts the
 * allowed seconds before each run; rate and spread slots are positions on
 * that count ("allowed time"), so closed hours never count.
 */
#include "deliver/plan.h"

#define DAY 86400
/* "3 years": the planner's horizon and plan_next_allowed's search. */
#define PLAN_HORIZON ((int64_t)1096 * DAY)
/* Times after 9999-12-31 are never allowed (civil years stay 4 digits). */
#define PLAN_TIME_MAX ((int64_t)253402300799)
/* Bounds that keep every product below in int64_t. */
#define PLAN_COUNT_MAX ((int64_t)1000000000)
#define PLAN_TARGETS_MAX ((size_t)1000000000)
/* JSON: the count of a rate. */
#define JSON_RATE_MAX 1000000

void schedule_default(struct schedule *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = PLAN_BULK;
	s->weekdays = 0x7f;
}

/* ---- allowed time --------------------------------------------------------- */

static int64_t floor_mod(int64_t a, int64_t b)
{
	int64_t r = a % b;
	return r < 0 ? r + b : r;
}

static bool day_allowed(const struct schedule *s, const struct civil *c)
{
	if (!(s->weekdays >> c->wday & 1))
		return false;
	return !(s->skip_holidays && jp_holiday(c->year, c->month, c->day, NULL));
}

/*
 * sod: seconds since local midnight.  Returns sod itself when it lies in a
 * window (*ret_end: where that window closes), else the opening of the next
 * window today, or DAY when none is left.
 */
static int64_t window_at(const struct schedule *s, int64_t sod, int64_t *ret_end)
{
	int64_t next = DAY;

	if (s->nwindows == 0) {
		*ret_end = DAY;
		return sod;
	}
	for (size_t i = 0; i < s->nwindows; i++) {
		int64_t from = (int64_t)s->windows[i].from * 60, to = (int64_t)s->windows[i].to * 60;
		if (from <= sod && sod < to) {
			*ret_end = to;
			return sod;
		}
		if (from > sod && from < next)
			next = from;
	}
	return next;
}

/* The first second in (lo, hi] whose offset is not `off`; offset(hi) != off.
 * Zones change offset at most once a day, so the predicate is monotone. */
static int64_t offset_change(const struct tz *zone, int64_t lo, int64_t hi, int off)
{
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (tz_offset(zone, mid) == off)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * The first allowed second in [t, limit), or -1.  *ret_end (optional) gets
 * the end of the run that starts there: the window's close, local midnight
 * or the next offset change, whichever comes first.  Each step jumps to the
 * next window opening, the next local midnight or the next offset change,
 * so a search costs a few steps per day, never one per second.
 */
static int64_t next_allowed_until(const struct schedule *s, const struct tz *zone, int64_t t,
				  int64_t limit, int64_t *ret_end)
{
	if ((s->weekdays & 0x7f) == 0)
		return -1;
	if (limit > PLAN_TIME_MAX)
		limit = PLAN_TIME_MAX;
	while (t < limit) {
		int off = tz_offset(zone, t);
		int64_t local = t + off, sod = floor_mod(local, DAY), target = DAY, end;
		struct civil c;

		civil_from_unix(local, &c);
		if (day_allowed(s, &c)) {
			target = window_at(s, sod, &end);
			if (target == sod) {
				if (ret_end) {
					int64_t e = t + (end - sod);
					if (tz_offset(zone, e - 1) != off)
						e = offset_change(zone, t, e - 1, off);
					*ret_end = e;
				}
				return t;
			}
		}
		int64_t next = t + (target - sod);
		if (tz_offset(zone, next) != off)
			next = offset_change(zone, t, next, off);
		t = next;
	}
	return -1;
}

bool plan_allowed(const struct schedule *s, const struct tz *zone, int64_t t)
{
	if (t > PLAN_TIME_MAX)
		return false;
	int64_t local = t + tz_offset(zone, t), sod = floor_mod(local, DAY), end;
	struct civil c;

	civil_from_unix(local, &c);
	return day_allowed(s, &c) && window_at(s, sod, &end) == sod;
}

int64_t plan_next_allowed(const struct schedule *s, const struct tz *zone, int64_t t)
{
	int64_t limit = t > PLAN_TIME_MAX - PLAN_HORIZON ? PLAN_TIME_MAX : t + PLAN_HORIZON;
	return next_allowed_until(s, zone, t, limit, NULL);
}

/*
 * A cursor over the runs of allowed time from a start: the run [a, b) and
 * u0, the allowed seconds between the start and a.  Moves forward only.
 */
struct cursor {
	const struct schedule *s;
	const struct tz *zone;
	int64_t limit;
	int64_t a, b, u0;
};

static int cursor_init(struct cursor *c, const struct schedule *s, const struct tz *zone,
		       int64_t start, int64_t limit)
{
	*c = (struct cursor){ .s = s, .zone = zone, .limit = limit };
	c->a = next_allowed_until(s, zone, start, limit, &c->b);
	return c->a < 0 ? -EINVAL : 0;
}

static int cursor_next(struct cursor *c)
{
	int64_t end, a = next_allowed_until(c->s, c->zone, c->b, c->limit, &end);
	if (a < 0)
		return -ERANGE;
	c->u0 += c->b - c->a;
	c->a = a;
	c->b = end;
	return 0;
}

/* The real time of allowed second u (u >= c->u0). */
static int cursor_time(struct cursor *c, int64_t u, int64_t *ret)
{
	while (u >= c->u0 + (c->b - c->a)) {
		int r = cursor_next(c);
		if (r < 0)
			return r;
	}
	*ret = c->a + (u - c->u0);
	return 0;
}

/* The allowed second at or after real time t (t >= c->a). */
static int cursor_offset(struct cursor *c, int64_t t, int64_t *ret)
{
	while (t >= c->b) {
		int r = cursor_next(c);
		if (r < 0)
			return r;
	}
	*ret = t <= c->a ? c->u0 : c->u0 + (t - c->a);
	return 0;
}

/* ---- slots: the global rate in allowed time -------------------------------- */

/*
 * Slot k is at allowed second u(k): rate: floor(k * per / count), so any
 * `per` seconds of allowed time hold at most `count` slots; spread:
 * floor(k * span / (n - 1)) for k < n, from 0 to span (the last allowed
 * second of the period).
 */
struct slots {
	bool spread;
	int64_t count, per; /* rate */
	int64_t span;       /* spread */
	uint64_t n;         /* spread: number of slots */
};

static int64_t slot_u(const struct slots *sl, uint64_t k)
{
	if (sl->spread)
		return sl->n <= 1 ? 0 : (int64_t)(k * (uint64_t)sl->span / (sl->n - 1));
	uint64_t c = (uint64_t)sl->count, p = (uint64_t)sl->per;
	return (int64_t)(k / c * p + k % c * p / c);
}

/* The first slot at or after allowed second u (>= n for spread: none). */
static uint64_t slot_at(const struct slots *sl, int64_t u)
{
	uint64_t uu = (uint64_t)u;
	if (sl->spread) {
		if (sl->n <= 1 || sl->span == 0)
			return u == 0 ? 0 : sl->n;
		return (uu * (sl->n - 1) + (uint64_t)sl->span - 1) / (uint64_t)sl->span;
	}
	return (uu * (uint64_t)sl->count + (uint64_t)sl->per - 1) / (uint64_t)sl->per;
}

/* ---- order: Fisher–Yates with xoshiro256** seeded by splitmix64 ------------ */

struct prng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void prng_seed(struct prng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t prng_next(struct prng *r)
{
	uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, bound), bound >= 1: rejection keeps it unbiased. */
static uint64_t prng_below(struct prng *r, uint64_t bound)
{
	uint64_t threshold = (0 - bound) % bound;
	for (;;) {
		uint64_t x = prng_next(r);
		if (x >= threshold)
			return x % bound;
	}
}

static size_t *order_new(size_t n, bool random, uint64_t seed)
{
	size_t *order = xcalloc(n, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (random) {
		struct prng r;
		prng_seed(&r, seed);
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)prng_below(&r, i);
			size_t tmp = order[i - 1];
			order[i - 1] = order[j];
			order[j] = tmp;
		}
	}
	return order;
}

/* ---- domains ------------------------------------------------------------ */

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool domain_eq(const char *a, const char *b)
{
	for (; *a && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b); a++, b++)
		;
	return ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b);
}

static uint64_t domain_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ ascii_lower((unsigned char)*s)) * 0x100000001b3ULL;
	return h;
}

/* dom[i] gets target i's domain number (first seen, first numbered), the
 * domains compared ASCII-case-insensitively; NULL counts as "". */
static size_t domains_number(const char *const *domains, size_t n, uint32_t *dom)
{
	size_t cap = 16, nd = 0;
	while (cap < 2 * n)
		cap *= 2;
	_cleanup_free_ size_t *table = xcalloc(cap, sizeof(*table)); /* target index + 1 */

	for (size_t i = 0; i < n; i++) {
		const char *d = domains[i] ? domains[i] : "";
		size_t h = (size_t)domain_hash(d) & (cap - 1);
		for (;; h = (h + 1) & (cap - 1)) {
			size_t e = table[h];
			if (!e) {
				table[h] = i + 1;
				dom[i] = (uint32_t)nd++;
				break;
			}
			const char *other = domains[e - 1] ? domains[e - 1] : "";
			if (domain_eq(d, other)) {
				dom[i] = dom[e - 1];
				break;
			}
		}
	}
	return nd;
}

/* A binary min-heap of domains, keyed by a time or a position. */
struct heap_entry {
	int64_t key;
	uint32_t d;
};

struct heap {
	struct heap_entry *v;
	size_t n;
};

static void heap_push(struct heap *h, int64_t key, uint32_t d)
{
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent].key <= key)
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = (struct heap_entry){ key, d };
}

static struct heap_entry heap_pop(struct heap *h)
{
	struct heap_entry top = h->v[0], last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].key < h->v[c].key)
			c++;
		if (last.key <= h->v[c].key)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/*
 * Per-domain FIFO queues of positions in the sending order: domain d's
 * positions are pos[start[d] .. start[d + 1]), next[d] the first unsent.
 */
struct domain_queues {
	size_t nd;
	uint32_t *dom;     /* by target */
	size_t *start;     /* nd + 1 */
	size_t *next;      /* nd */
	size_t *pos;       /* n */
	int64_t *free_at;  /* nd: the first second the domain may receive again */
	int64_t gap;       /* ceil(domain_rate_seconds / domain_rate_n) */
};

static void domain_queues_release(struct domain_queues *q)
{
	free(q->dom);
	free(q->start);
	free(q->next);
	free(q->pos);
	free(q->free_at);
}

static void domain_queues_init(struct domain_queues *q, const struct schedule *s,
			       const char *const *domains, size_t n, const size_t *order)
{
	q->dom = xcalloc(n, sizeof(*q->dom));
	q->nd = domains_number(domains, n, q->dom);
	q->start = xcalloc(q->nd + 1, sizeof(*q->start));
	q->next = xcalloc(q->nd, sizeof(*q->next));
	q->pos = xcalloc(n, sizeof(*q->pos));
	q->free_at = xcalloc(q->nd, sizeof(*q->free_at));
	/* "No two mails closer than seconds/n": whole seconds, so round up. */
	q->gap = (s->domain_rate_seconds + s->domain_rate_n - 1) / s->domain_rate_n;
	for (size_t p = 0; p < n; p++)
		q->start[q->dom[order[p]] + 1]++;
	for (size_t d = 0; d < q->nd; d++)
		q->start[d + 1] += q->start[d];
	for (size_t d = 0; d < q->nd; d++)
		q->next[d] = q->start[d];
	for (size_t p = 0; p < n; p++) {
		uint32_t d = q->dom[order[p]];
		q->pos[q->next[d]++] = p;
	}
	for (size_t d = 0; d < q->nd; d++) {
		q->next[d] = q->start[d];
		q->free_at[d] = INT64_MIN;
	}
}

/* ---- the planner -------------------------------------------------------- */

static bool schedule_valid(const struct schedule *s)
{
	if (s->nwindows > PLAN_WINDOWS_MAX)
		return false;
	for (size_t i = 0; i < s->nwindows; i++)
		if (s->windows[i].from < 0 || s->windows[i].from >= s->windows[i].to ||
		    s->windows[i].to > 1440)
			return false;
	if (s->mode == PLAN_RATE && (s->rate_n < 1 || s->rate_n > PLAN_COUNT_MAX ||
				     s->rate_seconds < 1 || s->rate_seconds > PLAN_COUNT_MAX))
		return false;
	if (s->domain_rate_n < 0 || (s->domain_rate_n > 0 &&
				     (s->domain_rate_n > PLAN_COUNT_MAX || s->domain_rate_seconds < 1 ||
				      s->domain_rate_seconds > PLAN_COUNT_MAX)))
		return false;
	return s->mode == PLAN_BULK || s->mode == PLAN_RATE || s->mode == PLAN_SPREAD;
}

/* Allowed seconds in [start, until]. */
static int64_t allowed_seconds(const struct schedule *s, const struct tz *zone, int64_t start,
			       int64_t until, int64_t limit)
{
	struct cursor c;
	int64_t total = 0;

	if (cursor_init(&c, s, zone, start, limit) < 0)
		return 0;
	while (c.a <= until) {
		total += (c.b <= until ? c.b : until + 1) - c.a;
		if (cursor_next(&c) < 0)
			break;
	}
	return total;
}

/* Bulk with a domain rate: each domain's mails follow each other gap apart. */
static int plan_bulk_domains(const struct schedule *s, const struct tz *zone, int64_t first,
			     int64_t limit, size_t n, const size_t *order, struct domain_queues *q,
			     int64_t *due)
{
	for (size_t d = 0; d < q->nd; d++)
		q->free_at[d] = first;
	for (size_t p = 0; p < n; p++) {
		size_t i = order[p];
		uint32_t d = q->dom[i];
		int64_t t = next_allowed_until(s, zone, q->free_at[d], limit, NULL);
		if (t < 0)
			return -ERANGE;
		due[i] = t;
		q->free_at[d] = t + q->gap;
	}
	return 0;
}

/* Rate and spread without a domain rate: the p-th in order gets slot p. */
static int plan_slots(struct cursor *c, const struct slots *sl, int64_t limit, size_t n,
		      const size_t *order, int64_t *due)
{
	for (size_t p = 0; p < n; p++) {
		int64_t t;
		int r = cursor_time(c, slot_u(sl, p), &t);
		if (r < 0)
			return r;
		if (t >= limit)
			return -ERANGE;
		due[order[p]] = t;
	}
	return 0;
}

/*
 * Rate and spread with a domain rate.  At each slot the first target in
 * order whose domain is free takes it: `ready` holds the domains free now,
 * keyed by the position of their first unsent target; `busy` the others,
 * keyed by when they are free again.  When no domain is free the planner
 * jumps to the first slot at or after the earliest free time.
 * O(n log d) for n targets in d domains.
 */
static int plan_slots_domains(struct cursor *c, const struct slots *sl, int64_t limit, size_t n,
			      const size_t *order, struct domain_queues *q, int64_t *due)
{
	_cleanup_free_ struct heap_entry *rv = xcalloc(q->nd, sizeof(*rv));
	_cleanup_free_ struct heap_entry *bv = xcalloc(q->nd, sizeof(*bv));
	struct heap ready = { rv, 0 }, busy = { bv, 0 };
	uint64_t k = 0;

	for (size_t d = 0; d < q->nd; d++)
		heap_push(&ready, (int64_t)q->pos[q->next[d]], (uint32_t)d);
	for (size_t placed = 0; placed < n;) {
		int64_t t, u;
		int r;

		if (sl->spread && k >= sl->n)
			return -ERANGE; /* the domain rate does not fit before spread_until */
		r = cursor_time(c, slot_u(sl, k), &t);
		if (r < 0)
			return r;
		if (t >= limit)
			return -ERANGE;
		while (busy.n && busy.v[0].key <= t) {
			uint32_t d = heap_pop(&busy).d;
			heap_push(&ready, (int64_t)q->pos[q->next[d]], d);
		}
		if (!ready.n) {
			BUG_ON(!busy.n);
			r = cursor_offset(c, busy.v[0].key, &u);
			if (r < 0)
				return r;
			uint64_t k2 = slot_at(sl, u);
			k = k2 > k ? k2 : k + 1;
			continue;
		}
		uint32_t d = heap_pop(&ready).d;
		size_t p = q->pos[q->next[d]++];
		due[order[p]] = t;
		placed++;
		q->free_at[d] = t + q->gap;
		if (q->next[d] < q->start[d + 1])
			heap_push(&busy, q->free_at[d], d);
		k++;
	}
	return 0;
}

int plan_schedule(const struct schedule *s, const struct tz *zone, int64_t now, size_t n,
		  const char *const *domains, uint64_t seed, int64_t *due)
{
	bool by_domain = s->domain_rate_n > 0;
	struct cursor c;
	struct slots sl = { 0 };
	int r;

	if (!schedule_valid(s) || (n && !due) || (by_domain && n && !domains))
		return -EINVAL;
	if (n > PLAN_TARGETS_MAX)
		return -ERANGE;

	int64_t start = s->start_at > now ? s->start_at : now;
	if (start < 0 || start > PLAN_TIME_MAX - PLAN_HORIZON)
		return -ERANGE;
	int64_t limit = start + PLAN_HORIZON;
	r = cursor_init(&c, s, zone, start, limit);
	if (r < 0)
		return r; /* nothing allowed at all */

	if (s->mode == PLAN_SPREAD) {
		if (s->spread_until <= start)
			return -EINVAL;
		if (s->spread_until >= limit)
			return -ERANGE;
		int64_t total = allowed_seconds(s, zone, start, s->spread_until, limit);
		if (total == 0)
			return -EINVAL; /* no allowed time in the period */
		sl = (struct slots){ .spread = true, .span = total - 1, .n = n };
	} else if (s->mode == PLAN_RATE) {
		sl = (struct slots){ .count = s->rate_n, .per = s->rate_seconds };
	}
	if (n == 0)
		return 0;

	if (s->mode == PLAN_BULK && !by_domain) {
		for (size_t i = 0; i < n; i++)
			due[i] = c.a;
		return 0;
	}

	_cleanup_free_ size_t *order = order_new(n, s->random_order, seed);
	if (!by_domain)
		return plan_slots(&c, &sl, limit, n, order, due);

	struct domain_queues q = { 0 };
	domain_queues_init(&q, s, domains, n, order);
	if (s->mode == PLAN_BULK)
		r = plan_bulk_domains(s, zone, c.a, limit, n, order, &q, due);
	else
		r = plan_slots_domains(&c, &sl, limit, n, order, &q, due);
	domain_queues_release(&q);
	return r;
}

/* ---- ISO 8601 times ----------------------------------------------------- */

static bool parse_digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (ch - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static int month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/*
 * Local wall time (seconds, as if UTC) to unix time in zone.  A time that
 * occurs twice (the hour repeated when clocks go back) is the first one; a
 * time that does not occur (skipped when clocks go forward) is read with the
 * offset before the change, so 02:30 becomes 03:30 in New York.
 */
static int64_t unix_from_local(const struct tz *zone, int64_t local)
{
	int before = tz_offset(zone, local - DAY), after = tz_offset(zone, local + DAY);
	int64_t t1 = local - before, t2 = local - after;
	bool ok1 = tz_offset(zone, t1) == before, ok2 = tz_offset(zone, t2) == after;

	if (ok1 && ok2)
		return t1 < t2 ? t1 : t2;
	if (ok2 && !ok1)
		return t2;
	return t1;
}

int iso_time_parse(const char *s, const struct tz *zone, int64_t *ret)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, oh, om;

	if (!s)
		return -EINVAL;
	if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &mo) || *p++ != '-' ||
	    !parse_digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return -EINVAL;
	p++;
	if (!parse_digits(&p, 2, &h) || *p++ != ':' || !parse_digits(&p, 2, &mi))
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (!parse_digits(&p, 2, &sec))
			return -EINVAL;
		if (*p == '.') { /* fractions (JavaScript's toISOString) are dropped */
			p++;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
	    sec > 59)
		return -EINVAL;

	struct civil c = { .year = y, .month = mo, .day = d, .hour = h, .min = mi, .sec = sec };
	int64_t local = unix_from_civil(&c);
	if (*p == 'Z' || *p == 'z') {
		if (p[1])
			return -EINVAL;
		*ret = local;
		return 0;
	}
	if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		if (!parse_digits(&p, 2, &oh) || *p++ != ':' || !parse_digits(&p, 2, &om) || *p ||
		    oh > 23 || om > 59)
			return -EINVAL;
		*ret = local - sign * (oh * 3600 + om * 60);
		return 0;
	}
	if (*p || !zone)
		return -EINVAL;
	*ret = unix_from_local(zone, local);
	return 0;
}

/* ---- JSON --------------------------------------------------------------- */

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

#define WF(i) { "schedule.windows[" #i "]", "schedule.windows[" #i "].from", "schedule.windows[" #i "].to" }
static const char *const window_fields[PLAN_WINDOWS_MAX][3] = {
	WF(0), WF(1), WF(2), WF(3), WF(4), WF(5), WF(6), WF(7),
};
#undef WF

struct json_error {
	const char *field, *msg;
};

static int fail(struct json_error *e, const char *field, const char *msg)
{
	e->field = field;
	e->msg = msg;
	return -EINVAL;
}

/* Present and not null. */
static json_t *member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return v && !json_is_null(v) ? v : NULL;
}

static bool only_keys(json_t *o, const char *const *keys)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		size_t i;
		for (i = 0; keys[i] && strcmp(keys[i], key); i++)
			;
		if (!keys[i])
			return false;
	}
	return true;
}

static int json_time(json_t *o, const char *key, const char *field, const struct tz *zone,
		     int64_t *ret, struct json_error *e)
{
	json_t *v = member(o, key);
	int64_t t;

	if (!v) {
		*ret = 0;
		return 0;
	}
	if (!json_is_string(v) || iso_time_parse(json_string_value(v), zone, &t) < 0)
		return fail(e, field, "must be a date and time such as 2026-12-01T09:00:00+09:00");
	if (t <= 0 || t > PLAN_TIME_MAX)
		return fail(e, field, "must be between 1970 and 9999");
	*ret = t;
	return 0;
}

/* {"count": n, "per": "minute"|"hour"} */
static int json_rate(json_t *v, const char *const fields[3], int64_t *ret_n, int64_t *ret_seconds,
		     struct json_error *e)
{
	static const char *const keys[] = { "count", "per", NULL };
	if (!json_is_object(v))
		return fail(e, fields[0], "must be an object such as {\"count\": 100, \"per\": \"hour\"}");
	if (!only_keys(v, keys))
		return fail(e, fields[0], "has an unknown key (known: count, per)");
	json_t *count = member(v, "count"), *per = member(v, "per");
	if (!count || !json_is_integer(count) || json_integer_value(count) < 1 ||
	    json_integer_value(count) > JSON_RATE_MAX)
		return fail(e, fields[1], "must be a whole number from 1 to 1000000");
	const char *unit = json_is_string(per) ? json_string_value(per) : "";
	int64_t seconds = !strcmp(unit, "minute") ? 60 : !strcmp(unit, "hour") ? 3600 : 0;
	if (!seconds)
		return fail(e, fields[2], "must be \"minute\" or \"hour\"");
	*ret_n = json_integer_value(count);
	*ret_seconds = seconds;
	return 0;
}

/* "HH:MM" (or "H:MM") in minutes; "24:00" only when allow_24. */
static bool parse_hhmm(const char *s, bool allow_24, int *ret)
{
	const char *p = s;
	int h, m;
	if (!parse_digits(&p, 2, &h)) {
		p = s;
		if (!parse_digits(&p, 1, &h))
			return false;
	}
	if (*p++ != ':' || !parse_digits(&p, 2, &m) || *p || m > 59)
		return false;
	if (h > 24 || (h == 24 && (m || !allow_24)))
		return false;
	*ret = h * 60 + m;
	return true;
}

static int json_windows(json_t *v, struct schedule *s, struct json_error *e)
{
	static const char *const keys[] = { "from", "to", NULL };
	if (!json_is_array(v))
		return fail(e, "schedule.windows",
			    "must be an array such as [{\"from\": \"09:00\", \"to\": \"12:00\"}]");
	if (json_array_size(v) > PLAN_WINDOWS_MAX)
		return fail(e, "schedule.windows", "may hold at most 8 windows");
	s->nwindows = json_array_size(v);
	for (size_t i = 0; i < s->nwindows; i++) {
		json_t *w = json_array_get(v, i);
		const char *const *f = window_fields[i];
		if (!json_is_object(w))
			return fail(e, f[0], "must be an object such as {\"from\": \"09:00\", \"to\": \"12:00\"}");
		if (!only_keys(w, keys))
			return fail(e, f[0], "has an unknown key (known: from, to)");
		json_t *from = member(w, "from"), *to = member(w, "to");
		if (!json_is_string(from) || !parse_hhmm(json_string_value(from), false, &s->windows[i].from))
			return fail(e, f[1], "must be a time of day from 00:00 to 23:59");
		if (!json_is_string(to) || !parse_hhmm(json_string_value(to), true, &s->windows[i].to))
			return fail(e, f[2], "must be a time of day from 00:01 to 24:00");
		if (s->windows[i].to <= s->windows[i].from)
			return fail(e, f[2], "must be after from");
		for (size_t j = 0; j < i; j++)
			if (s->windows[j].from < s->windows[i].to && s->windows[i].from < s->windows[j].to)
				return fail(e, f[0], "overlaps an earlier window");
	}
	return 0;
}

static int json_weekdays(json_t *v, unsigned *ret, struct json_error *e)
{
	static const char *const msg = "must be an array of days: sun, mon, tue, wed, thu, fri, sat";
	size_t i;
	json_t *day;
	unsigned mask = 0;

	if (!json_is_array(v))
		return fail(e, "schedule.weekdays", msg);
	json_array_foreach(v, i, day) {
		const char *name = json_is_string(day) ? json_string_value(day) : "";
		unsigned w;
		for (w = 0; w < 7 && strcmp(name, day_names[w]); w++)
			;
		if (w == 7)
			return fail(e, "schedule.weekdays", msg);
		mask |= 1u << w;
	}
	if (!mask)
		return fail(e, "schedule.weekdays", "must list at least one day");
	*ret = mask;
	return 0;
}

static int from_json(json_t *j, const struct tz *zone, struct schedule *s, struct json_error *e)
{
	static const char *const keys[] = { "mode", "start_at", "rate", "spread_until", "windows",
					    "weekdays", "skip_holidays", "order", "domain_rate",
					    "ends_at", NULL };
	static const char *const rate_fields[3] = { "schedule.rate", "schedule.rate.count",
						    "schedule.rate.per" };
	static const char *const domain_fields[3] = { "schedule.domain_rate",
						      "schedule.domain_rate.count",
						      "schedule.domain_rate.per" };
	json_t *v;
	int r;

	schedule_default(s);
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return fail(e, "schedule", "must be an object");
	if (!only_keys(j, keys))
		return fail(e, "schedule",
			    "has an unknown key (known: mode, start_at, rate, spread_until, windows, "
			    "weekdays, skip_holidays, order, domain_rate, ends_at)");

	if ((v = member(j, "mode"))) {
		const char *m = json_is_string(v) ? json_string_value(v) : "";
		if (!strcmp(m, "bulk"))
			s->mode = PLAN_BULK;
		else if (!strcmp(m, "rate"))
			s->mode = PLAN_RATE;
		else if (!strcmp(m, "spread"))
			s->mode = PLAN_SPREAD;
		else
			return fail(e, "schedule.mode", "must be \"bulk\", \"rate\" or \"spread\"");
	}
	if ((r = json_time(j, "start_at", "schedule.start_at", zone, &s->start_at, e)) < 0)
		return r;
	if ((v = member(j, "rate")) && (r = json_rate(v, rate_fields, &s->rate_n, &s->rate_seconds, e)) < 0)
		return r;
	if ((r = json_time(j, "spread_until", "schedule.spread_until", zone, &s->spread_until, e)) < 0)
		return r;
	if ((v = member(j, "windows")) && (r = json_windows(v, s, e)) < 0)
		return r;
	if ((v = member(j, "weekdays")) && (r = json_weekdays(v, &s->weekdays, e)) < 0)
		return r;
	if ((v = member(j, "skip_holidays"))) {
		if (!json_is_boolean(v))
			return fail(e, "schedule.skip_holidays", "must be true or false");
		s->skip_holidays = json_is_true(v);
	}
	if ((v = member(j, "order"))) {
		const char *o = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(o, "list") && strcmp(o, "random"))
			return fail(e, "schedule.order", "must be \"list\" or \"random\"");
		s->random_order = !strcmp(o, "random");
	}
	if ((v = member(j, "domain_rate")) &&
	    (r = json_rate(v, domain_fields, &s->domain_rate_n, &s->domain_rate_seconds, e)) < 0)
		return r;
	if ((r = json_time(j, "ends_at", "schedule.ends_at", zone, &s->ends_at, e)) < 0)
		return r;

	if (s->mode == PLAN_RATE && !s->rate_n)
		return fail(e, "schedule.rate", "is required when mode is \"rate\"");
	if (s->mode == PLAN_SPREAD && !s->spread_until)
		return fail(e, "schedule.spread_until", "is required when mode is \"spread\"");
	if (s->spread_until && s->start_at && s->spread_until <= s->start_at)
		return fail(e, "schedule.spread_until", "must be after start_at");
	if (s->ends_at && s->start_at && s->ends_at <= s->start_at)
		return fail(e, "schedule.ends_at", "must be after start_at");
	return 0;
}

int schedule_from_json(json_t *j, const struct tz *zone, struct schedule *ret, const char **ret_field,
		       const char **ret_msg)
{
	struct schedule s;
	struct json_error e = { 0 };
	int r = from_json(j, zone, &s, &e);

	if (r < 0) {
		*ret_field = e.field;
		*ret_msg = e.msg;
		return r;
	}
	*ret = s;
	return 0;
}

static json_t *json_iso(const struct tz *zone, int64_t t)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64);
	if (!t)
		return json_null();
	if (tz_put_iso(&b, zone, t) < 0)
		return NULL;
	return json_string(b.p);
}

static json_t *json_rate_new(int64_t n, int64_t seconds)
{
	if (n <= 0)
		return json_null();
	return json_pack("{s:I, s:s}", "count", (json_int_t)n, "per", seconds == 60 ? "minute" : "hour");
}

static json_t *json_hhmm(int minutes)
{
	char s[8];
	snprintf(s, sizeof(s), "%02d:%02d", minutes / 60 % 100, minutes % 60);
	return json_string(s);
}

json_t *schedule_to_json(const struct schedule *s, const struct tz *zone)
{
	static const char *const modes[] = { "bulk", "rate", "spread" };
	json_t *windows = json_array(), *weekdays = json_array();

	for (size_t i = 0; i < s->nwindows && i < PLAN_WINDOWS_MAX; i++)
		json_array_append_new(windows, json_pack("{s:o, s:o}", "from", json_hhmm(s->windows[i].from),
							 "to", json_hhmm(s->windows[i].to)));
	for (int w = 0; w < 7; w++)
		if (s->weekdays >> w & 1)
			json_array_append_new(weekdays, json_string(day_names[w]));
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:o}",
			 "mode", (unsigned)s->mode < ARRAY_SIZE(modes) ? modes[s->mode] : "bulk",
			 "start_at", json_iso(zone, s->start_at),
			 "rate", json_rate_new(s->rate_n, s->rate_seconds),
			 "spread_until", json_iso(zone, s->spread_until),
			 "windows", windows,
			 "weekdays", weekdays,
			 "skip_holidays", (int)s->skip_holidays,
			 "order", s->random_order ? "random" : "list",
			 "domain_rate", json_rate_new(s->domain_rate_n, s->domain_rate_seconds),
			 "ends_at", json_iso(zone, s->ends_at));
}
