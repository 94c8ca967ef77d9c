/* deliver.c — the dispatcher, the lanes and their workers. */
#include "deliver/deliver.h"

#include "attach/attach.h"
#include "core/metrics.h"
#include "content/content.h"
#include "track/track.h"

#include <pthread.h>

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

/* The scenario's extra headers as name, value pairs (NULL-terminated). */
static const char *const *extra_headers(const char *headers_json, struct arena *a)
{
	json_error_t err;
	json_t *j = headers_json ? json_loads(headers_json, 0, &err) : NULL;
	const char **out = NULL;
	size_t n = json_is_array(j) ? json_array_size(j) : 0, k = 0;
	if (n && (out = arena_alloc(a, st_mult(2 * n + 1, sizeof(*out))))) {
		for (size_t i = 0; i < n; i++) {
			json_t *h = json_array_get(j, i);
			const char *name = json_string_value(json_object_get(h, "name"));
			const char *value = json_string_value(json_object_get(h, "value"));
			if (name && value) {
				out[k++] = arena_strndup(a, name, strlen(name));
				out[k++] = arena_strndup(a, value, strlen(value));
			}
		}
		out[k] = NULL;
	}
	json_decref(j);
	return k ? out : NULL;
}

/* A file name from a rendered template: one line (CONTENT_HEADER made it
 * so), and no path separators a merge value (a department "営業/東京")
 * could have brought in. */
static void filename_scrub(char *s)
{
	for (; *s; s++)
		if (*s == '/' || *s == '\\')
			*s = '_';
}

/* Renders one template of the declaration with the target's values. */
static const char *render_one(json_t *v, const struct merge_vars *vars, struct arena *a, int *r)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 << 10);
	if (*r < 0)
		return NULL;
	if ((*r = content_render(&b, slice_from(json_string_value(v)), CONTENT_HEADER, vars)) < 0)
		return NULL;
	const char *out = arena_strndup(a, b.p, b.len);
	if (!out)
		*r = -ENOMEM;
	return out;
}

/* The generated document of the declaration, its templates filled in. */
static int attachment_doc(json_t *decl, const struct scenario_rec *sc, const struct merge_vars *vars,
			  struct arena *a, struct attach_doc *d)
{
	int r = 0;
	json_t *body = json_object_get(decl, "body"), *table = json_object_get(decl, "table");
	d->title = render_one(json_object_get(decl, "title"), vars, a, &r);
	d->lang = sc->lang;
	d->nbody = json_array_size(body);
	const char **paras = arena_alloc(a, st_mult(d->nbody + 1, sizeof(*paras)));
	for (size_t i = 0; paras && i < d->nbody; i++)
		paras[i] = render_one(json_array_get(body, i), vars, a, &r);
	d->body = paras;
	/* rows may differ in length: the widest sets the columns, the rest are empty cells */
	d->rows = json_array_size(table);
	for (size_t i = 0; i < d->rows; i++)
		if (json_array_size(json_array_get(table, i)) > d->cols)
			d->cols = json_array_size(json_array_get(table, i));
	const char **cells = arena_alloc(a, st_mult(st_mult(d->rows, d->cols) + 1, sizeof(*cells)));
	for (size_t i = 0; cells && i < d->rows; i++) {
		json_t *row = json_array_get(table, i);
		for (size_t k = 0; k < json_array_size(row); k++)
			cells[i * d->cols + k] = render_one(json_array_get(row, k), vars, a, &r);
	}
	d->cells = cells;
	return r < 0 ? r : !paras || !cells ? -ENOMEM : 0;
}

int deliver_attachment(const struct scenario_rec *sc, const struct merge_vars *vars, const char *tracker_url,
		       const char *rid, struct slice upload, struct arena *a, struct deliver_file *ret)
{
	json_error_t err;
	json_auto_t *decl = sc->attachment_json ? json_loads(sc->attachment_json, 0, &err) : NULL;
	enum attach_kind kind;
	enum attach_archive archive = ATTACH_ARCHIVE_NONE;
	const char *archive_name = json_string_value(json_object_get(decl, "archive"));
	int r = 0;

	*ret = (struct deliver_file){ .data = BUF_INIT(ATTACH_UPLOAD_MAX * 2) };
	if (!decl)
		return 0;
	if (attach_kind_parse(json_string_value(json_object_get(decl, "kind")), &kind) < 0 ||
	    (archive_name && attach_archive_parse(archive_name, &archive) < 0))
		return -EINVAL; /* the validator lets no such declaration in */
	bool uploaded = json_object_get(decl, "upload") != NULL;
	if (uploaded && !upload.len)
		return -ENOENT;
	char *name = (char *)render_one(json_object_get(decl, "filename"), vars, a, &r);
	if (r < 0)
		return r;
	filename_scrub(name);
	_cleanup_free_ char *beacon = track_file_beacon_url(tracker_url, rid);
	_cleanup_free_ char *link = track_file_link_url(tracker_url, rid);
	_cleanup_buf_ struct buf file = BUF_INIT(ATTACH_UPLOAD_MAX * 2);
	if (uploaded) {
		r = attach_inject(kind, upload, beacon, link, &file);
	} else {
		struct attach_doc d = { .beacon_url = beacon, .link_url = link };
		if ((r = attachment_doc(decl, sc, vars, a, &d)) >= 0)
			r = attach_build(kind, &d, &file);
	}
	if (r < 0)
		return r;
	ret->filename = name;
	ret->content_type = attach_kind_mime(kind);
	if (archive == ATTACH_ARCHIVE_NONE) {
		buf_release(&ret->data);
		ret->data = file;
		file = BUF_INIT(0);
		return 0;
	}
	/* "請求書.docx" travels as "請求書.zip" holding "請求書.docx" */
	const char *dot = strrchr(name, '.');
	ret->filename = arena_printf(a, "%.*s.zip", (int)(dot ? dot - name : (ptrdiff_t)strlen(name)), name);
	ret->content_type = "application/zip";
	if (!ret->filename)
		return -ENOMEM;
	r = attach_zip(name, buf_slice(&file), archive, vars->v[MF_PASSWORD], &ret->data);
	if (r < 0)
		buf_release(&ret->data);
	return r;
}

int deliver_build_mail(const struct campaign *c, const struct scenario_rec *sc, const struct target *t,
		       const struct tz *zone, const char *tracker_url, const char *id_domain, struct slice upload,
		       struct buf *out, char **ret_message_id)
{
	struct arena *a = arena_new(0);
	_cleanup_free_ char *click = track_click_url(tracker_url, t->rid);
	_cleanup_free_ char *open = track_open_url(tracker_url, t->rid);
	_cleanup_buf_ struct buf subject = BUF_INIT(4096), text = BUF_INIT(0), html = BUF_INIT(0), tracked = BUF_INIT(0);
	struct merge_vars vars;
	struct deliver_file file = { .data = BUF_INIT(0) };
	int r;

	content_merge_vars(c, t, click, zone, a, &vars);
	if ((r = content_render(&subject, slice_from(sc->subject), CONTENT_HEADER, &vars)) >= 0 &&
	    (r = content_render(&text, slice_from(sc->text), CONTENT_TEXT, &vars)) >= 0 &&
	    (r = content_render(&html, slice_from(sc->html), CONTENT_HTML, &vars)) >= 0 &&
	    (r = content_html_track(&tracked, buf_slice(&html), click, open)) >= 0 &&
	    (r = deliver_attachment(sc, &vars, tracker_url, t->rid, upload, a, &file)) >= 0) {
		struct mail_attachment att = { file.filename, file.content_type, buf_slice(&file.data) };
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
			.reply_to = sc->reply_to && sc->reply_to[0] ? sc->reply_to : NULL,
			.extra_headers = extra_headers(sc->headers_json, a),
			.attachments = file.filename ? &att : NULL,
			.nattachments = file.filename ? 1 : 0,
		};
		r = mail_build(&m, out, ret_message_id);
	}
	buf_release(&file.data);
	arena_free(a);
	return r;
}

/* ---- planning ---- */

int deliver_plan_targets(void *ctx, size_t n, const char *const *emails, int64_t *due)
{
	const struct deliver_plan *p = ctx;
	const char **domains = xcalloc(n ? n : 1, sizeof(*domains));
	for (size_t i = 0; i < n; i++) {
		const char *at = strrchr(emails[i], '@');
		domains[i] = at ? at + 1 : emails[i];
	}
	int r = plan_schedule(p->schedule, p->zone, p->now, n, domains, p->seed, due);
	free(domains);
	return r;
}

/* ---- sending profiles ---- */

void deliver_profile_options(const struct sending_profile *p, const char *password, struct arena *a,
			     struct mail_sender_options *ret)
{
	bool v6 = strchr(p->host, ':') != NULL;
	*ret = (struct mail_sender_options){
		.smtp_url = arena_printf(a, "%s://%s%s%s:%lld", p->security == SMTP_SECURITY_TLS ? "smtps" : "smtp",
					 v6 ? "[" : "", p->host, v6 ? "]" : "", (long long)p->port),
		.user = p->username[0] ? p->username : NULL,
		.password = password,
		.verify_tls = p->verify_tls,
		.tls = p->security == SMTP_SECURITY_NONE ? MAIL_TLS_NONE : MAIL_TLS_STARTTLS,
		.helo = p->helo[0] ? p->helo : NULL,
		.timeout_seconds = 20,
		.per_connection = p->per_connection,
	};
}

int deliver_profile_send(const struct sending_profile *p, const char *password, const char *from, const char *to,
			 struct slice msg, char **ret_reply)
{
	struct arena *a = arena_new(0);
	struct mail_sender_options o;
	deliver_profile_options(p, password, a, &o);
	struct mail_sender *s = mail_sender_new(&o);
	int r = -EINVAL;
	if (!s) {
		*ret_reply = xstrdup("the profile's host, port or HELO name is not usable");
	} else {
		r = mail_sender_send(s, from, to, msg, NULL, ret_reply);
		if (r == -EINVAL && !*ret_reply)
			*ret_reply = xstrdup("invalid address");
	}
	mail_sender_free(s);
	arena_free(a);
	return r;
}

int deliver_profile_test(const struct sending_profile *p, const char *password, const char *from,
			 const char *to, const char *id_domain, char **ret_reply)
{
	_cleanup_buf_ struct buf msg = BUF_INIT(1 << 20);
	struct mail_message m = {
		.from_name = "Kunren",
		.from_addr = from,
		.to_addr = to,
		.subject = "Kunren: 送信プロファイルのテスト / sending profile test",
		.text = "この送信プロファイルからメールが届きました。\r\nThis sending profile delivers mail.\r\n",
		.date = now_unix(),
		.tz = tz_get("UTC"),
		.id_domain = id_domain,
	};
	if (mail_build(&m, &msg, NULL) < 0) {
		*ret_reply = xstrdup("the test mail could not be built (check the addresses)");
		return -EINVAL;
	}
	return deliver_profile_send(p, password, from, to, buf_slice(&msg), ret_reply);
}

/* ---- the engine ---- */

struct lane {
	struct deliver *d;
	int64_t profile_id;
	pthread_t *threads;
	size_t nthreads;
	bool wake;            /* under d->lock: there are due targets */
	struct lane *next;
};

struct notice {
	char *to, *subject, *text;
	struct notice *next;
};

/* A delivery step waiting for the workers' next group commit. */
struct queued_op {
	struct store_delivery_op op;
	char *text;          /* the op's own copy */
	bool wait, done;
	struct queued_op *next;
};

struct deliver {
	struct deliver_options o;
	/* group commit of the workers' steps (record) */
	pthread_mutex_t rec_lock;
	pthread_cond_t rec_cond;
	struct queued_op *rec_head, **rec_tail;
	bool rec_busy;       /* a worker is committing a batch */
	pthread_t dispatcher, noticer;
	struct notice *notices, **notices_tail;  /* under lock; the noticer's queue */
	pthread_cond_t notice_cond;
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* the dispatcher's */
	pthread_cond_t lane_cond;  /* the workers' */
	bool stop, work;
	int64_t recovered_ms;       /* monotonic: the last look for silent nodes */
	bool notices_stop;          /* deliver_stop: the noticer ends once its queue is empty */
	bool notices_cut;           /* deliver_request_stop: no notice starts any more */
	bool drained;               /* deliver_drain joined the dispatcher and the workers */
	struct lane *lanes;
};

static int notice_send(struct deliver *d, const char *to, const char *subject, const char *text)
{
	const char *from = d->o.notice_from && d->o.notice_from[0] ? d->o.notice_from : "kunren@localhost";
	_cleanup_buf_ struct buf msg = BUF_INIT(1 << 20);
	_cleanup_free_ char *reply = NULL;
	struct mail_message m = {
		.from_name = "Kunren",
		.from_addr = from,
		.to_addr = to,
		.subject = subject,
		.text = text,
		.date = now_unix(),
		.tz = tz_get("UTC"),
		.id_domain = d->o.id_domain,
	};
	int r = mail_build(&m, &msg, NULL);
	if (r < 0)
		return r;
	struct mail_sender *s = mail_sender_new(&d->o.sender);
	if (!s)
		return -EINVAL;
	r = mail_sender_send(s, from, to, buf_slice(&msg), "notices", &reply);
	if (r < 0)
		log_warn("deliver: a notice to %s could not be sent: %s", to, reply ? reply : strerror(-r));
	mail_sender_free(s);
	return r;
}

int deliver_notice(struct deliver *d, const char *to, const char *subject, const char *text)
{
	pthread_mutex_lock(&d->lock);
	bool cut = d->notices_cut;
	pthread_mutex_unlock(&d->lock);
	if (cut) {
		log_warn("deliver: the notice \"%s\" to %s is not sent: the server is stopping", subject, to);
		return -ECANCELED;
	}
	return notice_send(d, to, subject, text);
}

int deliver_notice_later(struct deliver *d, const char *to, const char *subject, const char *text)
{
	struct notice *n = xcalloc(1, sizeof(*n));
	n->to = xstrdup(to);
	n->subject = xstrdup(subject);
	n->text = xstrdup(text);
	pthread_mutex_lock(&d->lock);
	if (d->notices_cut) { /* under the lock: the noticer may have ended */
		pthread_mutex_unlock(&d->lock);
		log_warn("deliver: the notice \"%s\" to %s is not sent: the server is stopping", subject, to);
		free(n->to);
		free(n->subject);
		free(n->text);
		free(n);
		return -ECANCELED;
	}
	*d->notices_tail = n;
	d->notices_tail = &n->next;
	pthread_cond_signal(&d->notice_cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* Sends the queued notices; at deliver_stop alone what is queued still
 * goes, after deliver_request_stop only the notice in hand. */
static void *noticer_main(void *arg)
{
	struct deliver *d = arg;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->notices && !d->notices_stop)
			pthread_cond_wait(&d->notice_cond, &d->lock);
		struct notice *n = d->notices;
		if (!n)
			break; /* stopping and nothing left */
		d->notices = n->next;
		if (!d->notices)
			d->notices_tail = &d->notices;
		bool cut = d->notices_cut;
		pthread_mutex_unlock(&d->lock);
		if (cut)
			log_warn("deliver: the notice \"%s\" to %s is not sent: the server is stopping", n->subject, n->to);
		else
			notice_send(d, n->to, n->subject, n->text);
		free(n->to);
		free(n->subject);
		free(n->text);
		free(n);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Metrics of a delivery step, once it is stored (its result >= 0, or
 * -EDQUOT: a licence refusal stored as a send error). */
static void count_stored(const struct store_delivery_op *op)
{
	switch (op->kind) {
	case STORE_OP_BEGIN:
		if (op->result == -EDQUOT)
			metrics_event(EV_SEND_ERROR, 1);
		break;
	case STORE_OP_SENT:
		if (op->result >= 0) {
			metrics_count(METRIC_MAILS_SENT, 1);
			metrics_event(EV_SENT, 1);
		}
		break;
	case STORE_OP_FAILED:
		if (op->result >= 0) {
			metrics_count(METRIC_MAIL_ERRORS, 1);
			metrics_event(EV_SEND_ERROR, 1);
		}
		break;
	case STORE_OP_RETRY: /* refused for now: an error, no event */
		if (op->result >= 0)
			metrics_count(METRIC_MAIL_ERRORS, 1);
		break;
	}
}

/*
 * The workers' group commit.  A step is queued; record() with wait returns
 * once it is committed, with its result, and commits whatever is queued if
 * nobody else is committing (the first waiter leads, the others wait for
 * it).  Steps queued without wait (a mail's outcome) go with the next
 * commit — at the latest the worker's next begin, which must be durable
 * before that mail goes, so a crash still leaves at most the mail in hand
 * uncertain.  op NULL: only a barrier (everything queued so far committed).
 */
static int record(struct deliver *d, const struct store_delivery_op *op, bool wait)
{
	struct queued_op *q = xcalloc(1, sizeof(*q));
	if (op) {
		q->op = *op;
		q->text = op->text ? xstrdup(op->text) : NULL;
		q->op.text = q->text;
	}
	q->wait = wait || !op;
	pthread_mutex_lock(&d->rec_lock);
	*d->rec_tail = q;
	d->rec_tail = &q->next;
	if (!q->wait) {
		pthread_mutex_unlock(&d->rec_lock);
		return 0;
	}
	while (!q->done) {
		if (d->rec_busy) {
			pthread_cond_wait(&d->rec_cond, &d->rec_lock);
			continue;
		}
		d->rec_busy = true;
		struct queued_op *batch = d->rec_head;
		d->rec_head = NULL;
		d->rec_tail = &d->rec_head;
		pthread_mutex_unlock(&d->rec_lock);

		size_t n = 0, k = 0;
		for (struct queued_op *x = batch; x; x = x->next)
			n += x->op.kind || x->op.target_id;
		struct store_delivery_op *ops = xcalloc(n ? n : 1, sizeof(*ops));
		for (struct queued_op *x = batch; x; x = x->next)
			if (x->op.kind || x->op.target_id)
				ops[k++] = x->op;
		int r = n ? store_delivery_apply(d->o.store, ops, n) : 0;
		if (r < 0)
			log_error("deliver: recording %zu delivery steps failed: %s", n, strerror(-r));
		k = 0;
		pthread_mutex_lock(&d->rec_lock);
		for (struct queued_op *x = batch, *next; x; x = next) {
			next = x->next;
			if (x->op.kind || x->op.target_id) {
				x->op.result = ops[k++].result;
				count_stored(&x->op);
				if (!x->wait && x->op.result == -ESTALE)
					log_info("deliver: target %lld changed while its mail was in hand",
						 (long long)x->op.target_id);
			}
			x->done = true;
			if (!x->wait) {
				free(x->text);
				free(x);
			}
		}
		free(ops);
		d->rec_busy = false;
		pthread_cond_broadcast(&d->rec_cond);
	}
	int result = q->op.result;
	pthread_mutex_unlock(&d->rec_lock);
	free(q->text);
	free(q);
	return result;
}

static bool stopping(struct deliver *d)
{
	pthread_mutex_lock(&d->lock);
	bool stop = d->stop;
	pthread_mutex_unlock(&d->lock);
	return stop;
}

/* What a worker keeps between mails: its sender (rebuilt when the profile
 * changes) and the campaign it is sending (reloaded every batch, so edits
 * reach the mails not yet sent). */
struct worker {
	struct lane *lane;
	struct mail_sender *sender;
	char *sender_fingerprint;
	/* the campaign in hand */
	struct arena *a;
	int64_t campaign_id;
	struct campaign c;
	struct scenario_rec sc;
	struct schedule schedule;
	const struct tz *zone;
	const char *dkim_key;      /* opened private key, or NULL */
	struct dkim_key dkim;
	struct slice upload;       /* the bytes of the scenario's uploaded attachment, read once per batch */
};

/* A worker's sender for its lane's profile; rebuilt when the profile changed. */
static int worker_sender(struct worker *w)
{
	struct deliver *d = w->lane->d;
	if (w->lane->profile_id == 0) {
		if (!w->sender && !(w->sender = mail_sender_new(&d->o.sender)))
			return -EINVAL;
		return 0;
	}
	struct arena *a = arena_new(0);
	struct sending_profile p;
	_cleanup_buf_ struct buf pw = BUF_INIT(4096);
	int r = store_profile_load(d->o.store, w->lane->profile_id, a, &p);
	if (r >= 0 && p.password_sealed.len && d->o.key)
		r = secret_open(d->o.key, p.password_sealed, &pw);
	if (r >= 0) {
		_cleanup_free_ char *fp = xasprintf("%s|%lld|%d|%d|%s|%s|%s|%lld", p.host, (long long)p.port, p.security,
						    p.verify_tls, p.username, pw.p, p.helo, (long long)p.per_connection);
		if (!w->sender || !w->sender_fingerprint || strcmp(fp, w->sender_fingerprint)) {
			struct mail_sender_options o;
			deliver_profile_options(&p, pw.len ? pw.p : NULL, a, &o);
			mail_sender_free(w->sender);
			free(w->sender_fingerprint);
			w->sender_fingerprint = NULL;
			if (!(w->sender = mail_sender_new(&o)))
				r = -EINVAL;
			else
				w->sender_fingerprint = xstrdup(fp);
		}
		secret_wipe(&pw);
	}
	arena_free(a);
	return r;
}

static void worker_forget(struct worker *w)
{
	arena_free(w->a);
	w->a = NULL;
	w->campaign_id = 0;
	w->upload = (struct slice){ 0 };
}

/* The upload the scenario's attachment names, into w->a: read once for
 * all the targets of a batch, not once per mail. */
static int worker_upload(struct worker *w, int64_t tenant_id)
{
	json_error_t err;
	json_auto_t *decl = w->sc.attachment_json ? json_loads(w->sc.attachment_json, 0, &err) : NULL;
	json_int_t id = json_integer_value(json_object_get(decl, "upload"));
	struct upload u;
	if (id <= 0)
		return 0;
	int r = store_upload_get(w->lane->d->o.store, tenant_id, id, true, w->a, &u);
	if (r < 0)
		log_error("deliver: upload %lld of scenario %lld: %s", (long long)id, (long long)w->sc.id, strerror(-r));
	else
		w->upload = u.data;
	return r;
}

static int worker_load(struct worker *w, const struct target *t)
{
	struct deliver *d = w->lane->d;
	if (w->a && w->campaign_id == t->campaign_id)
		return 0;
	worker_forget(w);
	w->a = arena_new(0);
	w->campaign_id = t->campaign_id;
	w->dkim_key = NULL;
	struct tenant ten;
	int r = store_campaign_get(d->o.store, t->tenant_id, t->campaign_id, w->a, &w->c);
	if (r >= 0)
		r = store_scenario_get(d->o.store, t->tenant_id, w->c.scenario_id, w->a, &w->sc);
	if (r >= 0)
		r = store_tenant_get(d->o.store, t->tenant_id, w->a, &ten);
	if (r >= 0)
		r = worker_upload(w, t->tenant_id);
	if (r < 0) {
		worker_forget(w);
		return r;
	}
	w->zone = tz_get(ten.time_zone);
	if (!w->zone)
		w->zone = tz_get("UTC");
	json_error_t err;
	json_t *j = json_loads(w->c.schedule_json, 0, &err);
	const char *field, *msg;
	if (!j || schedule_from_json(j, w->zone, &w->schedule, &field, &msg) < 0)
		schedule_default(&w->schedule);
	json_decref(j);
	/* the sending domain's DKIM key, opened for this campaign */
	if (d->o.key && store_dkim_for_domain(d->o.store, w->c.sender_domain, w->a, &w->dkim) >= 0) {
		_cleanup_buf_ struct buf k = BUF_INIT(64 << 10);
		if (secret_open(d->o.key, w->dkim.private_sealed, &k) >= 0)
			w->dkim_key = arena_strndup(w->a, k.p, k.len);
		else
			log_error("deliver: the DKIM key of %s cannot be opened with this server's key", w->dkim.domain);
		secret_wipe(&k);
	}
	return 0;
}

/* Records the outcome; the reply of a relay is outside text (valid UTF-8, bounded). */
static void record_outcome(struct worker *w, const struct target *t, int r, const char *message_id,
			   const char *reply)
{
	struct deliver *d = w->lane->d;
	_cleanup_buf_ struct buf text = BUF_INIT(4096);
	if (r != 0) {
		struct slice sl = slice_from(reply ? reply : strerror(-r));
		if (sl.len > 1000)
			sl.len = 1000;
		buf_put_utf8(&text, sl);
	}
	struct store_delivery_op op = { .target_id = t->id, .at_ms = now_ms() };
	if (r == 0) {
		op.kind = STORE_OP_SENT;
		op.text = message_id;
	} else if (r == -EAGAIN && t->attempts < d->o.retries) {
		int64_t wait = d->o.retry_seconds;
		for (int64_t i = 0; i < t->attempts && wait < 3600; i++)
			wait *= 2;
		if (wait > 3600)
			wait = 3600;
		int64_t due = now_unix() + wait;
		if (w->a) {
			int64_t next = plan_next_allowed(&w->schedule, w->zone, due);
			if (next > 0)
				due = next;
		}
		log_info("deliver: target %lld: retry %lld in %lld s: %s", (long long)t->id, (long long)t->attempts + 1,
			 (long long)(due - now_unix()), text.p);
		op.kind = STORE_OP_RETRY;
		op.due_at = due;
		op.text = text.p;
	} else {
		log_warn("deliver: target %lld: %s", (long long)t->id, text.p);
		op.kind = STORE_OP_FAILED;
		op.text = text.p;
	}
	record(d, &op, false); /* committed with the next begin or the batch's end */
}

/* Claimed -> sending, committed (with the outcomes queued before it). */
static int begin_send(struct deliver *d, const struct target *t)
{
	struct store_delivery_op op = { .kind = STORE_OP_BEGIN, .target_id = t->id };
	return record(d, &op, true);
}

/* Fails a target before anything went to the relay. */
static void fail_early(struct worker *w, const struct target *t, int r, const char *why)
{
	struct deliver *d = w->lane->d;
	if (begin_send(d, t) == 1)
		record_outcome(w, t, r == -EAGAIN ? -EIO : r, NULL, why);
}

static void send_one(struct worker *w, struct target *t)
{
	struct deliver *d = w->lane->d;
	_cleanup_buf_ struct buf msg = BUF_INIT(32 << 20);
	_cleanup_free_ char *message_id = NULL, *reply = NULL, *subdir = NULL, *dkim_err = NULL;
	int r = worker_load(w, t);
	if (r < 0) {
		/* -ENOENT: deleted meanwhile, e.g. an upload removed while a
		 * scenario naming it was being saved */
		fail_early(w, t, r, r == -ENOENT ? "the campaign, its scenario or the scenario's uploaded attachment no longer exists"
						  : "the campaign could not be loaded");
		return;
	}
	t->sent_at = now_unix();
	r = deliver_build_mail(&w->c, &w->sc, t, w->zone, d->o.tracker_url, d->o.id_domain, w->upload, &msg,
			       &message_id);
	if (r < 0) {
		fail_early(w, t, r, "the mail could not be built (a header with a line break, or an invalid address)");
		return;
	}
	if (w->dkim_key) {
		enum mail_dkim_alg alg;
		_cleanup_buf_ struct buf signed_msg = BUF_INIT(33 << 20);
		if ((r = mail_dkim_alg_parse(w->dkim.algorithm, &alg)) >= 0)
			r = mail_dkim_sign(alg, w->dkim.domain, w->dkim.selector, w->dkim_key, buf_slice(&msg), &signed_msg,
					   &dkim_err);
		if (r >= 0)
			r = buf_put_slice(&signed_msg, buf_slice(&msg));
		if (r < 0) {
			log_error("deliver: DKIM signing for %s failed: %s", w->dkim.domain, dkim_err ? dkim_err : strerror(-r));
			fail_early(w, t, r, "the mail could not be DKIM-signed");
			return;
		}
		buf_release(&msg);
		msg = signed_msg;
		signed_msg = BUF_INIT(0);
	}
	subdir = xasprintf("tenant-%lld", (long long)t->tenant_id);
	const char *from = w->sc.envelope_from && w->sc.envelope_from[0]
				   ? w->sc.envelope_from
				   : arena_printf(w->a, "%s@%s", w->c.sender_local, w->c.sender_domain);
	if (!from) {
		fail_early(w, t, -ENOMEM, "out of memory");
		return;
	}
	/* The last word before the relay: committed "sending".  A pause or a
	 * cancel since the claim keeps the mail back. */
	if ((r = begin_send(d, t)) != 1) {
		if (r == -EDQUOT)
			log_warn("deliver: target %lld: the tenant's licence is used up", (long long)t->id);
		else if (r < 0)
			log_error("deliver: target %lld: %s", (long long)t->id, strerror(-r));
		return;
	}
	r = mail_sender_send(w->sender, from, t->p.f[PF_EMAIL], buf_slice(&msg), subdir, &reply);
	record_outcome(w, t, r, message_id, reply);
}

static void *worker_main(void *arg)
{
	struct worker w = { .lane = arg };
	struct lane *l = w.lane;
	struct deliver *d = l->d;
	for (;;) {
		pthread_mutex_lock(&d->lock);
		while (!d->stop && !l->wake)
			pthread_cond_wait(&d->lane_cond, &d->lock);
		bool stop = d->stop;
		pthread_mutex_unlock(&d->lock);
		if (stop)
			break;

		struct arena *a = arena_new(0);
		struct target *t = NULL;
		size_t n = 0;
		int r = worker_sender(&w);
		if (r < 0)
			log_error("deliver: sending profile %lld is not usable: %s", (long long)l->profile_id, strerror(-r));
		else if ((r = store_targets_claim(d->o.store, l->profile_id, now_unix(), d->o.batch, a, &t, &n)) < 0)
			log_error("deliver: claiming targets failed: %s", strerror(-r));
		worker_forget(&w); /* each batch sees the campaign as it is now */
		size_t i = 0;
		for (; i < n && !stopping(d); i++)
			send_one(&w, &t[i]);
		for (; i < n; i++) /* stopping: what was claimed goes back */
			store_target_release(d->o.store, t[i].id);
		if (n)
			record(d, NULL, true); /* the batch's last outcome is on disk */
		arena_free(a);
		if (n == 0) {
			/* nothing due: sleep until the dispatcher sees more */
			pthread_mutex_lock(&d->lock);
			l->wake = false;
			if (r < 0 && !d->stop) {
				struct timespec until;
				clock_gettime(CLOCK_REALTIME, &until);
				until.tv_sec += 5;
				pthread_cond_timedwait(&d->lane_cond, &d->lock, &until);
			}
			pthread_mutex_unlock(&d->lock);
		}
		/* a campaign that finished sending becomes running at the clock's next
		 * tick (a second at most): waking the dispatcher after every batch
		 * would run the clock back to back */
	}
	worker_forget(&w);
	mail_sender_free(w.sender);
	free(w.sender_fingerprint);
	return NULL;
}

/* The lane of a profile, started on first use (d->lock held). */
static struct lane *lane_get(struct deliver *d, int64_t profile_id)
{
	for (struct lane *l = d->lanes; l; l = l->next)
		if (l->profile_id == profile_id)
			return l;
	long conns = d->o.connections;
	if (profile_id) {
		struct arena *a = arena_new(0);
		struct sending_profile p;
		if (store_profile_load(d->o.store, profile_id, a, &p) >= 0)
			conns = p.connections;
		arena_free(a);
	}
	if (conns < 1)
		conns = 1;
	struct lane *l = xcalloc(1, sizeof(*l));
	l->d = d;
	l->profile_id = profile_id;
	l->threads = xcalloc((size_t)conns, sizeof(*l->threads));
	for (long i = 0; i < conns; i++) {
		int e = pthread_create(&l->threads[l->nthreads], NULL, worker_main, l);
		if (e) {
			log_error("deliver: cannot start a worker: %s", strerror(e));
			break;
		}
		l->nthreads++;
	}
	l->next = d->lanes;
	d->lanes = l;
	log_info("deliver: %zu workers for %s %lld", l->nthreads, profile_id ? "sending profile" : "the server's relay",
		 (long long)profile_id);
	return l;
}

/*
 * The claims of nodes gone silent taken back (the heartbeat itself is
 * serve's, on its own thread), every third of the lease.  At the start:
 * this node's own earlier work too, and without other nodes (SQLite) every
 * other node's (a crash or a stop of this server's last run).
 */
static int nodes_pass(struct deliver *d, bool first)
{
	int64_t now = mono_ms(), lease_ms = (int64_t)d->o.lease_seconds * 1000;
	if (!first && (!d->o.shared || now - d->recovered_ms < lease_ms / 3))
		return 0;
	d->recovered_ms = now;
	int64_t requeued, uncertain;
	int r = store_targets_recover(d->o.store, d->o.shared ? lease_ms : 0, first, &requeued, &uncertain);
	if (r < 0) {
		log_error("deliver: cannot recover the delivery state: %s", strerror(-r));
		return r;
	}
	if (requeued)
		log_warn("deliver: %lld targets claimed by a node that stopped are pending again", (long long)requeued);
	metrics_event(EV_SEND_ERROR, (uint64_t)uncertain); /* stored as send errors */
	if (uncertain)
		log_warn("deliver: %lld mails were being handed to the relay when their node stopped: marked uncertain, "
			 "not sent again", (long long)uncertain);
	return 0;
}

static void *dispatcher_main(void *arg)
{
	struct deliver *d = arg;
	for (;;) {
		nodes_pass(d, false);
		int64_t now = now_unix(), *profiles = NULL;
		size_t n = 0;
		struct arena *a = arena_new(0);
		int r = store_campaigns_tick(d->o.store, now);
		if (r < 0)
			log_error("deliver: the campaign clock failed: %s", strerror(-r));
		if ((r = store_delivery_outlook(d->o.store, now, a, &profiles, &n)) < 0)
			log_error("deliver: looking for due mail failed: %s", strerror(-r));
		/* the queue-depth gauge: counted while there is work, once more after */
		int64_t depth;
		if ((n || metrics_gauge_get(METRIC_DELIVERY_QUEUE)) &&
		    store_delivery_depth(d->o.store, now, &depth) >= 0)
			metrics_gauge_set(METRIC_DELIVERY_QUEUE, depth);

		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; i < n && !d->stop; i++)
			lane_get(d, profiles[i])->wake = true;
		if (n)
			pthread_cond_broadcast(&d->lane_cond);
		arena_free(a);
		if (!d->stop && !d->work) {
			/* a second at most: the resolution of due_at */
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
	return NULL;
}

struct deliver *deliver_start(const struct deliver_options *o, char **ret_err)
{
	struct deliver *d = xcalloc(1, sizeof(*d));
	d->o = *o;
	if (d->o.batch < 1)
		d->o.batch = 1;
	if (d->o.retry_seconds < 1)
		d->o.retry_seconds = 60;
	/* the server's relay must be usable even before any mail */
	struct mail_sender *probe = mail_sender_new(&o->sender);
	if (!probe) {
		*ret_err = xstrdup("cannot set up the mail sender (smtp_url, helo_name)");
		free(d);
		return NULL;
	}
	mail_sender_free(probe);
	if (d->o.lease_seconds < 3)
		d->o.lease_seconds = 30;
	int r = nodes_pass(d, true);
	if (r < 0) {
		*ret_err = xasprintf("cannot recover the delivery state: %s", strerror(-r));
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	pthread_cond_init(&d->lane_cond, NULL);
	pthread_cond_init(&d->notice_cond, NULL);
	pthread_mutex_init(&d->rec_lock, NULL);
	pthread_cond_init(&d->rec_cond, NULL);
	d->rec_tail = &d->rec_head;
	d->notices_tail = &d->notices;
	if ((r = pthread_create(&d->noticer, NULL, noticer_main, d)) != 0) {
		*ret_err = xasprintf("cannot start the notice thread: %s", strerror(r));
		free(d);
		return NULL;
	}
	if ((r = pthread_create(&d->dispatcher, NULL, dispatcher_main, d)) != 0) {
		*ret_err = xasprintf("cannot start the delivery thread: %s", strerror(r));
		pthread_mutex_lock(&d->lock);
		d->stop = d->notices_stop = true;
		pthread_cond_signal(&d->notice_cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->noticer, NULL);
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

void deliver_request_stop(struct deliver *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	d->notices_stop = d->notices_cut = true;
	pthread_cond_signal(&d->cond);
	pthread_cond_broadcast(&d->lane_cond);
	pthread_cond_signal(&d->notice_cond);
	pthread_mutex_unlock(&d->lock);
}

void deliver_drain(struct deliver *d)
{
	if (!d || d->drained)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_cond_broadcast(&d->lane_cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->dispatcher, NULL);
	/* the dispatcher has stopped: nobody adds lanes any more.  Each worker
	 * ends after the mail in hand (send_one runs to its recorded outcome)
	 * and gives back the rest of its batch (worker_main). */
	for (struct lane *l = d->lanes, *next; l; l = next) {
		next = l->next;
		for (size_t i = 0; i < l->nthreads; i++)
			pthread_join(l->threads[i], NULL);
		free(l->threads);
		free(l);
	}
	d->lanes = NULL;
	d->drained = true;
}

void deliver_stop(struct deliver *d)
{
	if (!d)
		return;
	deliver_drain(d);
	pthread_mutex_lock(&d->lock);
	d->notices_stop = true;
	pthread_cond_signal(&d->notice_cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->noticer, NULL);
	for (struct notice *n = d->notices, *next; n; n = next) { /* none, normally */
		next = n->next;
		free(n->to);
		free(n->subject);
		free(n->text);
		free(n);
	}
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	pthread_cond_destroy(&d->lane_cond);
	pthread_cond_destroy(&d->notice_cond);
	pthread_mutex_destroy(&d->rec_lock);
	pthread_cond_destroy(&d->rec_cond);
	free(d);
}
