/* deliver.c — the sender thread. */
#include "deliver/deliver.h"

#include "content/content.h"
#include "track/track.h"

#include <pthread.h>

struct deliver {
	struct deliver_options o;
	struct mail_sender *sender;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, work;
};

/* "姓 名", or NULL when both are empty; line breaks and other controls
 * (a quoted CSV field may hold them) become spaces. */
static const char *display_name(const struct target *t, struct arena *a)
{
	const char *last = t->p.f[PF_LAST_NAME], *first = t->p.f[PF_FIRST_NAME];
	if (!last[0] && !first[0])
		return NULL;
	char *name = arena_printf(a, "%s%s%s", last, last[0] && first[0] ? " " : "", first);
	for (char *c = name; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	return name;
}

int deliver_build_mail(const struct campaign *c, const struct scenario_rec *sc, const struct target *t,
		       const struct tz *zone, const char *tracker_url, const char *id_domain,
		       struct buf *out, char **ret_message_id)
{
	struct arena *a = arena_new(0);
	_cleanup_free_ char *click = track_click_url(tracker_url, t->rid);
	_cleanup_free_ char *open = track_open_url(tracker_url, t->rid);
	_cleanup_buf_ struct buf subject = BUF_INIT(4096), text = BUF_INIT(0), html = BUF_INIT(0), tracked = BUF_INIT(0);
	struct merge_vars vars;
	int r;

	content_merge_vars(c, t, click, zone, a, &vars);
	if ((r = content_render(&subject, slice_from(sc->subject), CONTENT_HEADER, &vars)) >= 0 &&
	    (r = content_render(&text, slice_from(sc->text), CONTENT_TEXT, &vars)) >= 0 &&
	    (r = content_render(&html, slice_from(sc->html), CONTENT_HTML, &vars)) >= 0 &&
	    (r = content_html_track(&tracked, buf_slice(&html), click, open)) >= 0) {
		struct mail_message m = {
			.from_name = c->sender_name,
			.from_addr = vars.v[MF_SENDER_EMAIL],
			.to_name = display_name(t, a),
			.to_addr = t->p.f[PF_EMAIL],
			.subject = subject.p,
			.text = text.p,
			.html = tracked.p,
			.date = t->sent_at ? t->sent_at : now_unix(),
			.tz = zone,
			.id_domain = id_domain && id_domain[0] ? id_domain : c->sender_domain,
		};
		r = mail_build(&m, out, ret_message_id);
	}
	arena_free(a);
	return r;
}

/* Loads what a target's mail needs; caches the last campaign. */
struct job {
	int64_t campaign_id;
	struct arena *a;
	struct campaign c;
	struct scenario_rec sc;
	const struct tz *zone;
};

static int job_load(struct deliver *d, struct job *j, const struct target *t)
{
	if (j->a && j->campaign_id == t->campaign_id)
		return 0;
	arena_free(j->a);
	j->a = arena_new(0);
	j->campaign_id = t->campaign_id;
	struct tenant ten;
	int r = store_campaign_get(d->o.store, t->tenant_id, t->campaign_id, j->a, &j->c);
	if (r >= 0)
		r = store_scenario_get(d->o.store, t->tenant_id, j->c.scenario_id, j->a, &j->sc);
	if (r >= 0)
		r = store_tenant_get(d->o.store, t->tenant_id, j->a, &ten);
	if (r < 0) {
		arena_free(j->a);
		j->a = NULL;
		return r;
	}
	j->zone = tz_get(ten.time_zone);
	if (!j->zone)
		j->zone = tz_get("UTC");
	return 0;
}

/* Records the outcome; the reply of a relay is outside text (valid UTF-8, bounded). */
static void record_outcome(struct deliver *d, const struct target *t, int r, const char *message_id,
			   const char *reply)
{
	int w;
	if (r == 0) {
		w = store_target_sent(d->o.store, t->id, now_ms(), message_id);
	} else {
		_cleanup_buf_ struct buf text = BUF_INIT(4096);
		struct slice s = slice_from(reply ? reply : strerror(-r));
		if (s.len > 1000)
			s.len = 1000;
		buf_put_utf8(&text, s);
		log_warn("deliver: target %lld: %s", (long long)t->id, text.p);
		w = store_target_failed(d->o.store, t->id, now_ms(), text.p);
	}
	if (w == -ESTALE)
		log_info("deliver: target %lld was cancelled while its mail was in hand", (long long)t->id);
	else if (w < 0)
		log_error("deliver: recording target %lld failed: %s", (long long)t->id, strerror(-w));
}

static void send_one(struct deliver *d, struct job *j, struct target *t)
{
	_cleanup_buf_ struct buf msg = BUF_INIT(32 << 20);
	_cleanup_free_ char *message_id = NULL, *reply = NULL, *subdir = NULL;
	int r = job_load(d, j, t);
	if (r < 0) {
		record_outcome(d, t, r, NULL, "the campaign could not be loaded");
		return;
	}
	t->sent_at = now_unix();
	r = deliver_build_mail(&j->c, &j->sc, t, j->zone, d->o.tracker_url, d->o.id_domain, &msg, &message_id);
	if (r < 0) {
		record_outcome(d, t, r, NULL, "the mail could not be built");
		return;
	}
	subdir = xasprintf("tenant-%lld", (long long)t->tenant_id);
	const char *from = arena_printf(j->a, "%s@%s", j->c.sender_local, j->c.sender_domain);
	if (!from) {
		record_outcome(d, t, -ENOMEM, NULL, "out of memory");
		return;
	}
	for (int attempt = 0;; attempt++) {
		/* A cancel takes claimed targets back: check right before each try. */
		if (store_target_is_claimed(d->o.store, t->id) != 1)
			return;
		free(reply);
		reply = NULL;
		r = mail_sender_send(d->sender, from, t->p.f[PF_EMAIL], buf_slice(&msg), subdir, &reply);
		if (r != -EAGAIN || attempt == 2)
			break;
		struct timespec ts = { .tv_sec = 1 + attempt };
		nanosleep(&ts, NULL);
	}
	record_outcome(d, t, r, message_id, reply);
}

static void *deliver_main(void *arg)
{
	struct deliver *d = arg;
	struct job j = { 0 };
	for (;;) {
		struct arena *a = arena_new(0);
		struct target *t = NULL;
		size_t n = 0;
		int r = store_targets_claim(d->o.store, d->o.batch, a, &t, &n);
		if (r < 0)
			log_error("deliver: claiming targets failed: %s", strerror(-r));
		for (size_t i = 0; i < n; i++) {
			pthread_mutex_lock(&d->lock);
			bool stop = d->stop;
			pthread_mutex_unlock(&d->lock);
			if (stop)
				break; /* what was claimed goes back to pending at the next start */
			send_one(d, &j, &t[i]);
		}
		arena_free(a);
		if (n)
			store_campaigns_settle(d->o.store);

		pthread_mutex_lock(&d->lock);
		if (!d->stop && !d->work && n == 0) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&d->cond, &d->lock, &until);
		}
		d->work = false;
		bool stop = d->stop;
		pthread_mutex_unlock(&d->lock);
		if (stop)
			break;
	}
	arena_free(j.a);
	return NULL;
}

struct deliver *deliver_start(const struct deliver_options *o, char **ret_err)
{
	struct deliver *d = xcalloc(1, sizeof(*d));
	d->o = *o;
	d->sender = mail_sender_new(&o->sender);
	if (!d->sender) {
		*ret_err = xstrdup("cannot set up the mail sender");
		free(d);
		return NULL;
	}
	int r = store_targets_unclaim_all(o->store);
	if (r > 0)
		log_warn("deliver: %d targets claimed before a restart are pending again", r);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	if ((r = pthread_create(&d->thread, NULL, deliver_main, d)) != 0) {
		*ret_err = xasprintf("cannot start the sender thread: %s", strerror(r));
		mail_sender_free(d->sender);
		free(d);
		return NULL;
	}
	return d;
}

void deliver_wake(struct deliver *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->work = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

void deliver_stop(struct deliver *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	mail_sender_free(d->sender);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
}
