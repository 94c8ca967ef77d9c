/* report.c — statuses, counts and the result CSVs. */
#include "report/report.h"

static const char *const status_names[STATUS__COUNT] = {
	"pending", "send_error", "sent", "opened", "file_opened", "clicked", "submitted",
};
static const char *const status_labels[STATUS__COUNT] = {
	"未送信", "送信エラー", "メール送信", "メール開封", "ファイル開封", "リンククリック", "データ送信",
};
static const char *const event_labels[EV__COUNT] = {
	"訓練作成", "メール送信", "送信エラー", "メール開封", "リンククリック", "ファイル開封", "データ送信", "報告",
};

const char *report_status_name(enum target_status st) { return status_names[st]; }
const char *report_status_label(enum target_status st) { return status_labels[st]; }
const char *report_event_label(enum event_kind k) { return event_labels[k]; }

int report_status_parse(const char *s, enum target_status *ret)
{
	for (int i = 0; i < STATUS__COUNT; i++)
		if (!strcmp(s, status_names[i])) {
			*ret = (enum target_status)i;
			return 0;
		}
	return -EINVAL;
}

/* Targets read at a time: bounds the memory of a report of any size. */
#define REPORT_PAGE 500

/* Reactions a person makes; delivery events are never machine events. */
static bool is_reaction(enum event_kind k)
{
	return k == EV_OPENED || k == EV_CLICKED || k == EV_FILE_OPENED || k == EV_SUBMITTED;
}

bool report_event_is_machine(const struct event *e, const struct target *t, int64_t seconds)
{
	return is_reaction(e->kind) && seconds > 0 && t->sent_at > 0 &&
	       e->at_ms < (t->sent_at + seconds) * 1000;
}

bool report_event_counts(const struct event *e, const struct target *t, const struct exclusion *x)
{
	return !(x && x->exclude && report_event_is_machine(e, t, x->seconds));
}

static enum target_status status_of(enum event_kind k)
{
	switch (k) {
	case EV_SENT: return STATUS_SENT;
	case EV_SEND_ERROR: return STATUS_SEND_ERROR;
	case EV_OPENED: return STATUS_OPENED;
	case EV_FILE_OPENED: return STATUS_FILE_OPENED;
	case EV_CLICKED: return STATUS_CLICKED;
	case EV_SUBMITTED: return STATUS_SUBMITTED;
	default: return STATUS_PENDING;
	}
}

void report_summarize(const struct target *t, const struct event *ev, size_t n, const struct exclusion *x,
		      struct target_summary *ret)
{
	struct target_summary s = { .status = t->state == TARGET_SENT ? STATUS_SENT : STATUS_PENDING };
	if (t->state == TARGET_ERROR)
		s.status = STATUS_SEND_ERROR;
	for (size_t i = 0; i < n; i++) {
		const struct event *e = &ev[i];
		if (!report_event_counts(e, t, x))
			continue;
		s.count[e->kind]++;
		if (!s.first_ms[e->kind] || e->at_ms < s.first_ms[e->kind])
			s.first_ms[e->kind] = e->at_ms;
		if (e->at_ms > s.last_ms[e->kind])
			s.last_ms[e->kind] = e->at_ms;
		enum target_status st = status_of(e->kind);
		if (st > s.status)
			s.status = st;
	}
	*ret = s;
}

int report_each_target(struct store *s, const struct campaign *c, const struct exclusion *x,
		       report_target_fn fn, void *ctx)
{
	int64_t after = 0;
	int r = 0;
	/* A page of targets at a time, with just their events. */
	for (;;) {
		struct arena *page = arena_new(0);
		struct target *t;
		struct event *ev;
		size_t nt, nev = 0, ei = 0;
		r = store_targets(s, c->tenant_id, c->id, after, REPORT_PAGE, page, &t, &nt);
		if (r >= 0 && nt)
			r = store_events(s, c->tenant_id, c->id, t[0].id, t[nt - 1].id, page, &ev, &nev);
		for (size_t i = 0; r >= 0 && i < nt; i++) {
			/* events are ordered by target id, like the targets */
			while (ei < nev && ev[ei].target_id < t[i].id)
				ei++;
			size_t first = ei;
			while (ei < nev && ev[ei].target_id == t[i].id)
				ei++;
			struct target_summary sum;
			report_summarize(&t[i], ev + first, ei - first, x, &sum);
			r = fn(ctx, &t[i], ev + first, ei - first, &sum);
			after = t[i].id;
		}
		arena_free(page);
		if (r < 0 || nt < REPORT_PAGE)
			break;
	}
	return r < 0 ? r : 0;
}

static int count_one(void *ctx, const struct target *t, const struct event *ev, size_t n,
		     const struct target_summary *sum)
{
	struct campaign_counts *c = ctx;
	c->targets++;
	c->sent += sum->count[EV_SENT] > 0;
	c->errors += sum->status == STATUS_SEND_ERROR;
	c->opened += sum->count[EV_OPENED] > 0;
	c->clicked += sum->count[EV_CLICKED] > 0;
	c->file_opened += sum->count[EV_FILE_OPENED] > 0;
	c->submitted += sum->count[EV_SUBMITTED] > 0;
	c->reported += sum->count[EV_REPORTED] > 0;
	return 0;
}

int report_campaign_counts(struct store *s, const struct campaign *c, const struct exclusion *x,
			   struct campaign_counts *ret)
{
	struct campaign_counts counts = { 0 };
	int r = report_each_target(s, c, x, count_one, &counts);
	if (r < 0)
		return r;
	*ret = counts;
	return 0;
}

/* ---- 訓練結果.csv ---- */

struct csv_ctx {
	const struct campaign *c;
	const struct tz *zone;
	struct buf *out;
};

static void csv_time(struct csv_ctx *x, int64_t ms)
{
	buf_putc(x->out, ',');
	if (ms)
		tz_put_csv_time(x->out, x->zone, ms / 1000);
}

static void csv_field(struct buf *out, const char *s, bool comma)
{
	if (comma)
		buf_putc(out, ',');
	buf_put_csv(out, slice_from(s));
}

static int csv_row(void *ctx, const struct target *t, const struct event *ev, size_t n,
		   const struct target_summary *sum)
{
	struct csv_ctx *x = ctx;
	static const enum event_kind timed[] = { EV_OPENED, EV_CLICKED, EV_FILE_OPENED, EV_SUBMITTED };

	csv_field(x->out, x->c->name, false);
	csv_field(x->out, t->rid, true);
	for (int f = PF_LAST_NAME; f <= PF_POSITION; f++)
		csv_field(x->out, t->p.f[f], true);
	csv_field(x->out, report_status_label(sum->status), true);
	csv_field(x->out, sum->count[EV_FILE_OPENED] ? "OPEN" : "", true);
	csv_time(x, t->sent_at * 1000);
	for (size_t i = 0; i < ARRAY_SIZE(timed); i++) {
		csv_time(x, sum->first_ms[timed[i]]);
		csv_time(x, sum->last_ms[timed[i]]);
	}
	for (int f = PF_FIELD1; f <= PF_FIELD3; f++)
		csv_field(x->out, t->p.f[f], true);
	return buf_puts(x->out, "\r\n");
}

int report_results_csv(struct store *s, const struct campaign *c, const struct tz *zone,
		       const struct exclusion *x, enum csv_encoding enc, struct buf *out)
{
	_cleanup_buf_ struct buf text = BUF_INIT(out->max);
	buf_puts(&text, "訓練名,識別コード,姓,名,メールアドレス,部署,役職,ステータス,ファイル開封,送信日時,"
			"メール開封初回アクセス日時,メール開封更新日時,リンククリック初回アクセス日時,"
			"リンククリック更新日時,ファイル開封初回アクセス日時,ファイル開封更新日時,"
			"データ送信初回アクセス日時,データ送信更新日時,項目,項目2,項目3\r\n");
	struct csv_ctx ctx = { c, zone, &text };
	int r = report_each_target(s, c, x, csv_row, &ctx);
	if (r < 0)
		return r;
	return csv_encode(buf_slice(&text), enc, out);
}
