/*
 * rids.c — the rids of every campaign that accepts events, in memory, so
 * the hot path (open beacon, click recording) reads no database.
 *
 * A snapshot is immutable: campaigns (id, tenant, fingerprint), entries
 * (rid, campaign, target) in one array and an open-addressing index over
 * them.  A poller thread asks the store every poll_ms for the accepting
 * campaigns and their fingerprints (store_rid_campaigns: index reads only),
 * and when anything differs builds the next snapshot — unchanged campaigns
 * copied from the current one, changed or new ones read from the store —
 * and swaps it in.  Polling the database rather than being told by the
 * console keeps it right when the console runs in another process or on
 * another node.  A well-formed rid that is not in memory is looked up in
 * the store at a bounded rate (the one exact-swap case the fingerprint
 * cannot see, and a launch newer than the last poll); hostile random rids
 * thus cost at most MISS_PER_SECOND queries a second.
 */
#include "track/track.h"
#include "track/track_int.h"

#include <time.h>

#define MISS_PER_SECOND 50
#define RELOAD_MAX 8

struct rid_entry {
	char rid[RID_LEN];  /* not NUL-terminated */
	uint32_t campaign;  /* index into the snapshot's campaigns */
	int64_t target_id;
};

struct rid_snapshot {
	struct store_rid_campaign *c;
	size_t *start;      /* campaign i's entries are e[start[i] .. start[i + 1]) */
	size_t nc;
	struct rid_entry *e;
	size_t ne, cap;
	uint32_t *slot;     /* entry index + 1; 0 empty */
	size_t mask;
};

struct track_rids {
	struct store *store;
	pthread_rwlock_t lock;     /* readers: look-ups; writer: the swap */
	struct rid_snapshot *cur;
	unsigned poll_ms;
	pthread_t thread;
	pthread_mutex_t wait_lock; /* the poller's sleep, and its stop */
	pthread_cond_t wake;
	bool stop, dirty;
	int64_t reload[RELOAD_MAX]; /* campaigns to read again whatever their fingerprint */
	size_t nreload;            /* > RELOAD_MAX: all of them */
	uint64_t version;          /* snapshots swapped in */
	/* the miss look-ups' budget: MISS_PER_SECOND per wall-clock second */
	pthread_mutex_t miss_lock;
	int64_t miss_second;
	unsigned miss_used;
};

static uint64_t rid_hash(const char *rid)
{
	/* FNV-1a: rids are random, but hostile ones are not; the index is
	 * only ever probed with them, never filled, so chains stay short. */
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < RID_LEN; i++)
		h = (h ^ (unsigned char)rid[i]) * 1099511628211ull;
	return h ^ h >> 29;
}

static void snapshot_free(struct rid_snapshot *s)
{
	if (!s)
		return;
	free(s->c);
	free(s->start);
	free(s->e);
	free(s->slot);
	free(s);
}

static void entry_push(struct rid_snapshot *s, const char *rid, uint32_t campaign, int64_t target_id)
{
	if (s->ne == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->e = xrealloc(s->e, st_mult(s->cap, sizeof(*s->e)));
	}
	struct rid_entry *e = &s->e[s->ne++];
	memcpy(e->rid, rid, RID_LEN);
	e->campaign = campaign;
	e->target_id = target_id;
}

/* The index, at most half full. */
static void snapshot_index(struct rid_snapshot *s)
{
	size_t n = 1024;
	while (n < s->ne * 2)
		n *= 2;
	s->slot = xcalloc(n, sizeof(*s->slot));
	s->mask = n - 1;
	for (size_t i = 0; i < s->ne; i++) {
		size_t k = rid_hash(s->e[i].rid) & s->mask;
		while (s->slot[k])
			k = (k + 1) & s->mask;
		s->slot[k] = (uint32_t)i + 1;
	}
}

static const struct rid_entry *snapshot_find(const struct rid_snapshot *s, const char *rid)
{
	for (size_t k = rid_hash(rid) & s->mask; s->slot[k]; k = (k + 1) & s->mask) {
		const struct rid_entry *e = &s->e[s->slot[k] - 1];
		if (!memcmp(e->rid, rid, RID_LEN))
			return e;
	}
	return NULL;
}

struct load_ctx {
	struct rid_snapshot *s;
	uint32_t campaign;
};

static int load_one(void *ctx, const char *rid, int64_t target_id)
{
	struct load_ctx *l = ctx;
	if (strlen(rid) == RID_LEN) /* every rid we issue; anything else could never match */
		entry_push(l->s, rid, l->campaign, target_id);
	return 0;
}

static const struct store_rid_campaign *campaign_in(const struct rid_snapshot *s, int64_t id, size_t *ret_i)
{
	for (size_t i = 0; s && i < s->nc; i++)
		if (s->c[i].id == id) {
			*ret_i = i;
			return &s->c[i];
		}
	return NULL;
}

static bool reload_asked(const int64_t *reload, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (reload[i] == id)
			return true;
	return false;
}

/*
 * The next snapshot for the campaigns `c`, or NULL when nothing changed and
 * no campaign is to be read again (`reload`; n > RELOAD_MAX: all).  Reads only the
 * changed campaigns' rids; the others are copied from `old`.
 */
static int snapshot_next(struct track_rids *r, const struct rid_snapshot *old, const struct store_rid_campaign *c,
			 size_t nc, const int64_t *reload, size_t nreload, struct rid_snapshot **ret)
{
	bool all = nreload > RELOAD_MAX;
	bool same = old && old->nc == nc && !nreload;
	for (size_t i = 0; same && i < nc; i++)
		same = !memcmp(&old->c[i], &c[i], sizeof(c[i]));
	*ret = NULL;
	if (same)
		return 0;

	struct rid_snapshot *s = xcalloc(1, sizeof(*s));
	s->c = xcalloc(nc ? nc : 1, sizeof(*s->c));
	if (nc) /* c is NULL when no campaign accepts events */
		memcpy(s->c, c, nc * sizeof(*c));
	s->start = xcalloc(nc + 1, sizeof(*s->start));
	s->nc = nc;
	for (size_t i = 0; i < nc; i++) {
		size_t oi;
		const struct store_rid_campaign *o = campaign_in(old, c[i].id, &oi);
		s->start[i] = s->ne;
		if (o && !memcmp(o, &c[i], sizeof(*o)) && !all && !reload_asked(reload, nreload, c[i].id)) {
			for (size_t k = old->start[oi]; k < old->start[oi + 1]; k++)
				entry_push(s, old->e[k].rid, (uint32_t)i, old->e[k].target_id);
			continue;
		}
		struct load_ctx l = { s, (uint32_t)i };
		int e = store_rids_each(r->store, c[i].id, load_one, &l);
		if (e < 0) {
			snapshot_free(s);
			return e;
		}
	}
	s->start[nc] = s->ne;
	snapshot_index(s);
	*ret = s;
	return 1;
}

/* One poll: 1 when a new snapshot was swapped in. */
static int rids_refresh(struct track_rids *r, const int64_t *reload, size_t nreload)
{
	struct arena *a = arena_new(0);
	struct store_rid_campaign *c;
	size_t nc;
	struct rid_snapshot *next = NULL;
	/* Only this thread (or track_rids_new, before it starts) swaps, so the
	 * current snapshot can be read here without the lock. */
	int e = store_rid_campaigns(r->store, a, &c, &nc);
	if (e >= 0)
		e = snapshot_next(r, r->cur, c, nc, reload, nreload, &next);
	arena_free(a);
	if (e <= 0)
		return e;
	pthread_rwlock_wrlock(&r->lock);
	struct rid_snapshot *old = r->cur;
	r->cur = next;
	r->version++;
	pthread_rwlock_unlock(&r->lock);
	snapshot_free(old);
	log_debug("track: %zu rids of %zu campaigns in memory", next->ne, next->nc);
	return 1;
}

static void *poller_main(void *arg)
{
	struct track_rids *r = arg;
	pthread_mutex_lock(&r->wait_lock);
	while (!r->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)(r->poll_ms % 1000) * 1000000L;
		until.tv_sec += r->poll_ms / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!r->stop && !r->dirty &&
		       pthread_cond_timedwait(&r->wake, &r->wait_lock, &until) == 0)
			;
		if (r->stop)
			break;
		int64_t reload[ARRAY_SIZE(r->reload)];
		size_t nreload = r->nreload;
		memcpy(reload, r->reload, sizeof(reload));
		r->dirty = false;
		r->nreload = 0;
		pthread_mutex_unlock(&r->wait_lock);
		int e = rids_refresh(r, reload, nreload);
		if (e < 0)
			log_error("track: refreshing the rids in memory failed: %s", strerror(-e));
		pthread_mutex_lock(&r->wait_lock);
	}
	pthread_mutex_unlock(&r->wait_lock);
	return NULL;
}

int track_rids_new(struct store *s, unsigned poll_ms, struct track_rids **ret)
{
	struct track_rids *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;
	r->store = s;
	r->poll_ms = poll_ms ? poll_ms : 250;
	pthread_rwlock_init(&r->lock, NULL);
	pthread_mutex_init(&r->wait_lock, NULL);
	pthread_mutex_init(&r->miss_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* Loaded before the first request: an empty map would refuse every rid. */
	int e = rids_refresh(r, NULL, 0);
	if (e >= 0)
		e = -pthread_create(&r->thread, NULL, poller_main, r);
	if (e < 0) {
		snapshot_free(r->cur);
		pthread_rwlock_destroy(&r->lock);
		pthread_mutex_destroy(&r->wait_lock);
		pthread_mutex_destroy(&r->miss_lock);
		pthread_cond_destroy(&r->wake);
		free(r);
		return e;
	}
	*ret = r;
	return 0;
}

void track_rids_free(struct track_rids *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->wait_lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->wait_lock);
	pthread_join(r->thread, NULL);
	snapshot_free(r->cur);
	pthread_rwlock_destroy(&r->lock);
	pthread_mutex_destroy(&r->wait_lock);
	pthread_mutex_destroy(&r->miss_lock);
	pthread_cond_destroy(&r->wake);
	free(r);
}

void track_rids_changed(struct track_rids *r, int64_t campaign_id)
{
	pthread_mutex_lock(&r->wait_lock);
	r->dirty = true;
	if (campaign_id && r->nreload < ARRAY_SIZE(r->reload) &&
	    !reload_asked(r->reload, r->nreload, campaign_id))
		r->reload[r->nreload++] = campaign_id;
	else if (campaign_id && r->nreload == ARRAY_SIZE(r->reload))
		r->nreload++; /* too many: read them all again */
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->wait_lock);
}

size_t track_rids_count(struct track_rids *r)
{
	pthread_rwlock_rdlock(&r->lock);
	size_t n = r->cur ? r->cur->ne : 0;
	pthread_rwlock_unlock(&r->lock);
	return n;
}

/* The budget of store look-ups for rids not in memory. */
static bool miss_allowed(struct track_rids *r)
{
	int64_t now = now_unix();
	pthread_mutex_lock(&r->miss_lock);
	if (now != r->miss_second) {
		r->miss_second = now;
		r->miss_used = 0;
	}
	bool ok = r->miss_used < MISS_PER_SECOND;
	r->miss_used += ok;
	pthread_mutex_unlock(&r->miss_lock);
	return ok;
}

int track_rids_find(struct track_rids *r, const char *rid, struct arena *a, struct track_target *ret)
{
	pthread_rwlock_rdlock(&r->lock);
	const struct rid_entry *e = r->cur ? snapshot_find(r->cur, rid) : NULL;
	if (e) {
		const struct store_rid_campaign *c = &r->cur->c[e->campaign];
		*ret = (struct track_target){ c->tenant_id, c->id, e->target_id, NULL };
	}
	pthread_rwlock_unlock(&r->lock);
	if (e) {
		ret->rid = arena_strndup(a, rid, RID_LEN);
		return ret->rid ? 0 : -ENOMEM;
	}
	if (!miss_allowed(r))
		return -ENOENT;
	struct target tg;
	int k = store_target_by_rid(r->store, rid, a, &tg);
	if (k < 0)
		return k;
	/* Known to the store but not to us: a launch or an edit since the last
	 * poll.  Take it in now, and answer from the store meanwhile. */
	track_rids_changed(r, tg.campaign_id);
	*ret = (struct track_target){ tg.tenant_id, tg.campaign_id, tg.id, tg.rid };
	return 0;
}
