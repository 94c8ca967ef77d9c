/*
 * dispatch.c — the webhook dispatcher thread (docs/internals/WEBHOOK.md).
 *
 * Every poll_ms it does two things:
 * 1. Queueing.  Each enabled webhook keeps a cursor: the last event id it
 *    has looked at.  Its tenant's events in (cursor, cursor + QUEUE_WINDOW]
 *    (never past the newest event) become delivery rows, and the cursor
 *    moves, in one transaction (store_webhook_enqueue): after a crash or a
 *    restart nothing is skipped and nothing queued twice.  Event ids are
 *    unique integers, so a window of ids bounds a batch however busy other
 *    tenants are, and a quiet tenant's cursor still moves past them.
 * 2. Sending.  A pool of SENDERS threads makes the attempts
 *    (webhook_attempt), so a slow receiver holds one sender, not everyone:
 *    at most one delivery per webhook in flight (its soonest due one), at
 *    most TENANT_INFLIGHT of one tenant, tenants served round robin.  A
 *    failure sets its next attempt by exponential back-off with jitter and
 *    holds the webhook's other deliveries back until then (in the store:
 *    store_webhook_postpone), so a receiver that is down gets one attempt
 *    per back-off, not one per queued event.  Suspended tenants' deliveries
 *    stay pending (queued, not sent) until the tenant is resumed.  A
 *    delivery is sent at least once: a crash between the receiver's answer
 *    and the store's update sends it again (the same Kunren-Delivery id lets
 *    the receiver drop the repeat).
 */
#include "webhook/webhook.h"
#include "core/metrics.h"

#include <pthread.h>
#include <stdatomic.h>

#define QUEUE_WINDOW 1000        /* event ids looked at per webhook and round */
#define QUEUE_ROUNDS 20          /* rounds per pass while webhooks are behind */
#define NEXT_BATCH 500           /* webhooks with a due delivery looked at per round */
#define SENDERS 4                /* sender threads: attempts in flight at once */
#define TENANT_INFLIGHT 2        /* of which one tenant's, at most */
#define BACKOFF_CAP_MS (3600 * 1000LL)
#define KEEP_DAYS 30             /* finished deliveries stay in the log this long */
#define PRUNE_EVERY_MS (3600 * 1000LL)

struct webhook_dispatcher {
	struct webhook_options o;
	pthread_t thread;                /* queueing and scheduling */
	pthread_t senders[SENDERS];
	size_t nsenders;
	pthread_mutex_t mu;              /* jobs, kick, last_tenant */
	pthread_cond_t cv;               /* the dispatcher waits: the next pass, or a sender free (kick) */
	pthread_cond_t work_cv;          /* the senders wait for a job */
	struct job {
		bool used, taken;        /* handed out; a sender has it */
		struct arena *a;         /* the job's own */
		struct webhook w;
		struct webhook_delivery d;
	} jobs[SENDERS];
	bool kick;
	int64_t last_tenant;             /* served last: the round robin starts after it */
	atomic_bool stop;
	int64_t pruned_ms;
	bool leader;        /* holds the "webhooks" job lease: only it queues and sends */
};

int64_t webhook_backoff_ms(int64_t retry_seconds, int64_t attempts)
{
	int64_t d = (retry_seconds > 0 ? retry_seconds : 1) * 1000;
	for (int64_t i = 1; i < attempts && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	uint32_t r;
	random_bytes(&r, sizeof(r));
	return d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1)); /* "equal jitter": [d/2, d] */
}

/* ---- one attempt ---- */

static void delivery_outcome(struct webhook_delivery *d, const struct webhook_result *res, int64_t max_attempts,
			     int64_t retry_seconds, struct arena *a)
{
	d->attempts++;
	d->last_attempt_at = now_unix();
	d->response_status = res->status;
	d->duration_ms = res->duration_ms;
	d->error = arena_strdup(a, res->error);
	d->response_excerpt = arena_strdup(a, res->excerpt);
	if (res->ok) {
		d->state = WEBHOOK_DELIVERED;
		d->next_at_ms = 0;
	} else if (d->attempts >= max_attempts) {
		d->state = WEBHOOK_FAILED;
		d->next_at_ms = 0;
	} else {
		d->state = WEBHOOK_PENDING;
		d->next_at_ms = now_ms() + webhook_backoff_ms(retry_seconds, d->attempts);
	}
	metrics_webhook(res->ok);
}

/* Sends d's payload with w's secret into *res. */
static void send_one(const struct secret_key *key, const struct webhook *w, const struct webhook_delivery *d,
		     const struct webhook_send_options *o, struct webhook_result *res)
{
	_cleanup_buf_ struct buf secret = BUF_INIT(4096);
	if (secret_open(key, w->secret_sealed, &secret) < 0) {
		*res = (struct webhook_result){ 0 };
		snprintf(res->error, sizeof(res->error), "the secret cannot be opened with this server's key");
		return;
	}
	webhook_post(w->url, buf_slice(&secret), d->kind, d->delivery_id, slice_from(d->payload), o, res);
	secret_wipe(&secret);
}

int webhook_attempt(struct store *s, const struct secret_key *key, const struct webhook *w,
		    struct webhook_delivery *d, const struct webhook_send_options *o, int64_t max_attempts,
		    int64_t retry_seconds, struct arena *a)
{
	struct webhook_result res;
	send_one(key, w, d, o, &res);
	if (res.aborted)
		return -ECANCELED;
	delivery_outcome(d, &res, max_attempts, retry_seconds, a);
	return store_webhook_delivery_result(s, d);
}

static const char *delivery_id_new(struct arena *a)
{
	char id[25];
	id_random(id, 24);
	return arena_strdup(a, id);
}

int webhook_ping(struct store *s, const struct secret_key *key, int64_t tenant_id, int64_t webhook_id,
		 const struct webhook_send_options *o, struct arena *a, struct webhook_delivery *ret)
{
	struct webhook w;
	struct tenant t;
	int r = store_webhook_get(s, tenant_id, webhook_id, a, &w);
	if (r < 0 || (r = store_tenant_get(s, tenant_id, a, &t)) < 0)
		return r;
	const struct tz *zone = tz_get(t.time_zone);
	if (!zone)
		zone = tz_get("UTC");
	struct webhook_delivery d = {
		.webhook_id = w.id, .tenant_id = tenant_id, .kind = "ping", .delivery_id = delivery_id_new(a),
		.created_at = now_unix(),
	};
	json_auto_t *body = webhook_ping_payload(d.delivery_id, zone, &w, d.created_at);
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	if (!body || json_put(&b, body) < 0 || !(d.payload = arena_strdup(a, b.p)))
		return -ENOMEM;
	/* sent first, logged after: the dispatcher never sees a ping pending */
	struct webhook_result res;
	send_one(key, &w, &d, o, &res);
	if (res.aborted)
		return -ECANCELED;
	delivery_outcome(&d, &res, 1, 0, a);
	if ((r = store_webhook_delivery_add(s, &d, &d.id)) < 0 || (r = store_webhook_delivery_result(s, &d)) < 0)
		return r;
	*ret = d;
	return 0;
}

/* ---- the thread ---- */

bool webhook_stopping(void *ctx)
{
	struct webhook_dispatcher *d = ctx;
	return d && atomic_load(&d->stop);
}

/* Queues the events of one webhook's next window; true when it is still
 * behind the newest event afterwards. */
static bool queue_window(struct webhook_dispatcher *d, struct webhook *w, int64_t newest)
{
	struct store *s = d->o.store;
	int64_t upto = newest - w->cursor > QUEUE_WINDOW ? w->cursor + QUEUE_WINDOW : newest;
	struct arena *a = arena_new(0);
	struct event *ev = NULL;
	struct tenant t;
	size_t n = 0, k = 0;
	int r = store_tenant_get(s, w->tenant_id, a, &t);
	if (r >= 0)
		r = store_events_tenant_range(s, w->tenant_id, w->cursor, upto, a, &ev, &n);
	struct webhook_delivery *q = r >= 0 && n ? arena_alloc(a, n * sizeof(*q)) : NULL;
	if (r >= 0 && n && !q)
		r = -ENOMEM;
	const struct tz *zone = r >= 0 ? tz_get(t.time_zone) : NULL;
	if (!zone)
		zone = tz_get("UTC");
	struct campaign c = { 0 };
	struct target tg = { 0 };
	int64_t created = now_unix(), now = now_ms();
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct event *e = &ev[i];
		if (!webhook_wants(w->kinds_json, e->kind) || webhook_event_is_history(e, now))
			continue;
		if (c.id != e->campaign_id && (r = store_campaign_get(s, w->tenant_id, e->campaign_id, a, &c)) < 0)
			break;
		bool has_target = e->target_id > 0;
		if (has_target && tg.id != e->target_id &&
		    store_target_get(s, w->tenant_id, e->campaign_id, e->target_id, a, &tg) < 0)
			has_target = false; /* deleted meanwhile: sent without the person */
		const char *id = delivery_id_new(a);
		json_auto_t *body = webhook_event_payload(id, zone, &c, has_target ? &tg : NULL, e);
		_cleanup_buf_ struct buf b = BUF_INIT(0);
		if (!body || json_put(&b, body) < 0) {
			/* never expected (payload.c cleans every string): skipped,
			 * so one event cannot hold the webhook back forever */
			log_error("webhook %lld: event %lld cannot be sent as JSON; skipped", (long long)w->id,
				  (long long)e->id);
			continue;
		}
		q[k++] = (struct webhook_delivery){
			.webhook_id = w->id, .tenant_id = w->tenant_id, .event_id = e->id, .kind = event_kind_name(e->kind),
			.delivery_id = id, .payload = arena_strdup(a, b.p), .state = WEBHOOK_PENDING, .next_at_ms = now,
			.created_at = created,
		};
	}
	if (r == -ENOENT) /* a campaign deleted since the events were read: the next pass reads again */
		r = 0, upto = w->cursor;
	if (r >= 0 && upto > w->cursor) {
		r = store_webhook_enqueue(s, w->id, w->cursor, upto, q, k);
		if (r >= 0)
			w->cursor = upto;
		else if (r == -ESTALE)
			r = 0; /* switched off and on, or deleted, meanwhile */
	}
	if (r < 0)
		log_error("webhook %lld: queueing events: %s", (long long)w->id, strerror(-r));
	arena_free(a);
	return r >= 0 && w->cursor < newest;
}

static void queue_pass(struct webhook_dispatcher *d)
{
	int64_t newest = 0;
	struct arena *a = arena_new(0);
	struct webhook *w = NULL;
	size_t n = 0;
	if (store_events_max_id(d->o.store, &newest) >= 0 && store_webhooks(d->o.store, 0, a, &w, &n) >= 0) {
		/* Event ids are rowids without AUTOINCREMENT: deleting the newest
		 * events (a tenant purged) lets the next ones reuse their ids.  A
		 * cursor past the newest event is brought back to it, so reused
		 * ids are not skipped (unless as many new events came within one
		 * pass: docs/internals/WEBHOOK.md). */
		for (size_t i = 0; i < n; i++)
			if (w[i].cursor > newest && store_webhook_enqueue(d->o.store, w[i].id, w[i].cursor, newest, NULL, 0) >= 0)
				w[i].cursor = newest;
		bool behind = true;
		for (int round = 0; behind && round < QUEUE_ROUNDS && !atomic_load(&d->stop); round++) {
			behind = false;
			for (size_t i = 0; i < n; i++)
				if (w[i].cursor < newest && queue_window(d, &w[i], newest))
					behind = true;
		}
	}
	arena_free(a);
}

/* ---- sending: a small pool, fair between tenants ---- */

static void job_run(struct webhook_dispatcher *d, struct job *j)
{
	struct store *s = d->o.store;
	struct webhook_send_options so = {
		.allow_private = d->o.allow_private, .timeout_seconds = d->o.timeout_seconds,
		.cancelled = webhook_stopping, .ctx = d,
	};
	struct webhook_delivery *dl = &j->d;
	int r = webhook_attempt(s, d->o.key, &j->w, dl, &so, d->o.max_attempts, d->o.retry_seconds, j->a);
	if (r == -ECANCELED)
		return; /* shutting down: not an attempt, sent again after the restart */
	if (r < 0)
		log_error("webhook %lld: recording delivery %s: %s", (long long)j->w.id, dl->delivery_id, strerror(-r));
	if (dl->state == WEBHOOK_PENDING) {
		/* the webhook's other deliveries wait for this one's retry */
		if ((r = store_webhook_postpone(s, j->w.id, dl->next_at_ms)) < 0)
			log_error("webhook %lld: postponing deliveries: %s", (long long)j->w.id, strerror(-r));
	} else if (dl->state == WEBHOOK_FAILED) {
		log_warn("webhook %lld: delivery %s given up after %lld attempts: %s", (long long)j->w.id,
			 dl->delivery_id, (long long)dl->attempts, dl->error);
	}
}

static void *sender_main(void *arg)
{
	struct webhook_dispatcher *d = arg;
	pthread_mutex_lock(&d->mu);
	for (;;) {
		struct job *j = NULL;
		while (!atomic_load(&d->stop) && !j) {
			for (size_t i = 0; i < SENDERS && !j; i++)
				if (d->jobs[i].used && !d->jobs[i].taken)
					j = &d->jobs[i];
			if (!j)
				pthread_cond_wait(&d->work_cv, &d->mu);
		}
		if (!j)
			break;
		j->taken = true;
		pthread_mutex_unlock(&d->mu);
		job_run(d, j);
		pthread_mutex_lock(&d->mu);
		/* the store is up to date before the webhook counts as free: the
		 * dispatcher reads the due rows holding mu */
		arena_free(j->a);
		*j = (struct job){ 0 };
		d->kick = true;
		pthread_cond_signal(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static int cmp_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

/* Hands due deliveries to free senders; d->mu held.  At most one delivery
 * per webhook in flight, at most TENANT_INFLIGHT per tenant, and tenants
 * take turns (round robin from the one after the last served).  Returns
 * how many were handed out. */
static size_t schedule(struct webhook_dispatcher *d)
{
	size_t free_jobs = 0, handed = 0;
	for (size_t i = 0; i < SENDERS; i++)
		free_jobs += !d->jobs[i].used;
	if (!free_jobs)
		return 0;
	struct arena *a = arena_new(0);
	struct webhook_delivery *due = NULL;
	size_t n = 0;
	int r = store_webhook_deliveries_due(d->o.store, now_ms(), true, NEXT_BATCH, a, &due, &n);
	if (r < 0)
		log_error("webhooks: reading due deliveries: %s", strerror(-r));
	int64_t *tenants = n ? arena_alloc(a, n * sizeof(*tenants)) : NULL;
	bool *gone = n ? arena_alloc(a, n * sizeof(*gone)) : NULL;
	size_t nt = 0;
	for (size_t i = 0; tenants && gone && i < n; i++) {
		gone[i] = false;
		for (size_t k = 0; k < SENDERS && !gone[i]; k++)
			gone[i] = d->jobs[k].used && d->jobs[k].w.id == due[i].webhook_id;
		bool seen = false;
		for (size_t k = 0; k < nt && !seen; k++)
			seen = tenants[k] == due[i].tenant_id;
		if (!seen)
			tenants[nt++] = due[i].tenant_id;
	}
	if (nt)
		qsort(tenants, nt, sizeof(*tenants), cmp_id);
	size_t first = 0;
	while (first < nt && tenants[first] <= d->last_tenant)
		first++;
	for (bool progress = true; nt && free_jobs && progress && !atomic_load(&d->stop);) {
		progress = false;
		for (size_t t = 0; t < nt && free_jobs; t++) {
			int64_t tenant = tenants[(first + t) % nt];
			size_t busy = 0;
			for (size_t k = 0; k < SENDERS; k++)
				busy += d->jobs[k].used && d->jobs[k].w.tenant_id == tenant;
			if (busy >= TENANT_INFLIGHT)
				continue;
			for (size_t i = 0; i < n; i++) {
				if (gone[i] || due[i].tenant_id != tenant)
					continue;
				gone[i] = true;
				struct job *j = NULL;
				for (size_t k = 0; k < SENDERS && !j; k++)
					if (!d->jobs[k].used)
						j = &d->jobs[k];
				struct arena *ja = arena_new(0);
				struct webhook_delivery *x = &due[i];
				*j = (struct job){ .a = ja, .d = *x };
				j->d.kind = arena_strdup(ja, x->kind);
				j->d.delivery_id = arena_strdup(ja, x->delivery_id);
				j->d.payload = arena_strdup(ja, x->payload);
				j->d.error = arena_strdup(ja, x->error);
				j->d.response_excerpt = arena_strdup(ja, x->response_excerpt);
				if (store_webhook_get(d->o.store, x->tenant_id, x->webhook_id, ja, &j->w) < 0 ||
				    !j->d.kind || !j->d.delivery_id || !j->d.payload) {
					arena_free(ja); /* deleted meanwhile */
					*j = (struct job){ 0 };
					continue;
				}
				j->used = true;
				free_jobs--, handed++, progress = true;
				d->last_tenant = tenant;
				pthread_cond_signal(&d->work_cv);
				break;
			}
		}
	}
	arena_free(a);
	return handed;
}

static void *dispatch_main(void *arg)
{
	struct webhook_dispatcher *d = arg;
	int64_t next_pass = 0;
	pthread_mutex_lock(&d->mu);
	while (!atomic_load(&d->stop)) {
		if (mono_ms() >= next_pass) {
			pthread_mutex_unlock(&d->mu);
			/* one node at a time (docs/internals/NODES.md); the lease
			 * outlives a few passes, renewed at each */
			int64_t ttl = 3 * d->o.poll_ms > 10000 ? 3 * d->o.poll_ms : 10000;
			d->leader = store_job_lease(d->o.store, "webhooks", ttl) == 1;
			if (d->leader)
				queue_pass(d);
			int64_t now = now_ms();
			if (now - d->pruned_ms >= PRUNE_EVERY_MS) {
				d->pruned_ms = now;
				int64_t gone = 0;
				if (store_webhook_deliveries_prune(d->o.store, now_unix() - KEEP_DAYS * 86400, &gone) >= 0 &&
				    gone)
					log_info("webhooks: %lld old deliveries removed from the log", (long long)gone);
			}
			next_pass = mono_ms() + d->o.poll_ms;
			pthread_mutex_lock(&d->mu);
		}
		d->kick = false;
		if (d->leader)
			schedule(d);
		/* until the next pass, or until a sender is free again */
		int64_t until_ms = next_pass;
		struct timespec until = { .tv_sec = until_ms / 1000, .tv_nsec = (until_ms % 1000) * 1000000 };
		while (!atomic_load(&d->stop) && !d->kick && mono_ms() < next_pass &&
		       pthread_cond_timedwait(&d->cv, &d->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void dispatcher_free(struct webhook_dispatcher *d)
{
	for (size_t i = 0; i < SENDERS; i++)
		if (d->jobs[i].used)
			arena_free(d->jobs[i].a);
	pthread_cond_destroy(&d->work_cv);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* Sets the stop flag and joins the threads started so far. */
static void dispatcher_join(struct webhook_dispatcher *d, bool dispatcher)
{
	pthread_mutex_lock(&d->mu);
	atomic_store(&d->stop, true);
	pthread_cond_broadcast(&d->cv);
	pthread_cond_broadcast(&d->work_cv);
	pthread_mutex_unlock(&d->mu);
	if (dispatcher)
		pthread_join(d->thread, NULL);
	for (size_t i = 0; i < d->nsenders; i++)
		pthread_join(d->senders[i], NULL);
}

struct webhook_dispatcher *webhook_start(const struct webhook_options *o, char **ret_err)
{
	struct webhook_dispatcher *d = xcalloc(1, sizeof(*d));
	d->o = *o;
	if (d->o.poll_ms <= 0)
		d->o.poll_ms = 1000;
	if (d->o.max_attempts < 1)
		d->o.max_attempts = 1;
	d->pruned_ms = 0;
	atomic_init(&d->stop, false);
	pthread_condattr_t ca;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&d->work_cv, NULL);
	int r = 0;
	for (; d->nsenders < SENDERS; d->nsenders++)
		if ((r = pthread_create(&d->senders[d->nsenders], NULL, sender_main, d)))
			break;
	if (!r)
		r = pthread_create(&d->thread, NULL, dispatch_main, d);
	if (r) {
		*ret_err = xasprintf("the webhook threads cannot start: %s", strerror(r));
		dispatcher_join(d, false);
		dispatcher_free(d);
		return NULL;
	}
	return d;
}

void webhook_stop(struct webhook_dispatcher *d)
{
	if (!d)
		return;
	dispatcher_join(d, true);
	dispatcher_free(d);
}

/* The stop flag only (serve: every thread told first, joined later). */
void webhook_request_stop(struct webhook_dispatcher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	atomic_store(&d->stop, true);
	pthread_cond_broadcast(&d->cv);
	pthread_cond_broadcast(&d->work_cv);
	pthread_mutex_unlock(&d->mu);
}
