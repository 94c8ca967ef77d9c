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

/* Reasons in the order they are shown, with their codes (API) and labels
 * (CSV, xlsx). */
static const struct {
	uint32_t bit;
	const char *code, *label;
} reason_table[REPORT_REASONS] = {
	{ EVS_HEAD, "head", "HEADリクエスト" },
	{ EVS_OPTIONS, "options", "OPTIONSリクエスト" },
	{ EVS_SCANNER_UA, "scanner_ua", "スキャナーのUA" },
	{ EVS_HIDDEN_LINK, "hidden_link", "隠しリンク" },
	{ EVS_LINK_BURST, "link_burst", "全リンク同時アクセス" },
	{ EVS_SHARED_IP, "shared_ip", "多数の対象者と同じ接続元" },
	{ EVS_NO_OPEN, "no_open", "開封なしのクリック" },
	{ REASON_FAST, "fast", "配信直後" },
};

uint32_t report_event_reasons(const struct event *e, const struct target *t, int64_t seconds)
{
	uint32_t r = e->signals;
	if (is_reaction(e->kind) && seconds > 0 && t->sent_at > 0 && e->at_ms < (t->sent_at + seconds) * 1000)
		r |= REASON_FAST;
	return r;
}

bool report_event_is_machine(const struct event *e, const struct target *t, int64_t seconds)
{
	return (report_event_reasons(e, t, seconds) & ~REPORT_HINTS) != 0;
}

bool report_event_counts(const struct event *e, const struct target *t, const struct exclusion *x)
{
	if (e->signals & EVS_PROBES)
		return false;
	return !(x && x->exclude && report_event_is_machine(e, t, x->seconds));
}

static size_t reason_strings(uint32_t bits, bool label, const char **ret)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(reason_table); i++)
		if (bits & reason_table[i].bit)
			ret[n++] = label ? reason_table[i].label : reason_table[i].code;
	return n;
}

size_t report_reason_codes(uint32_t bits, const char **ret)
{
	return reason_strings(bits, false, ret);
}

size_t report_reason_labels(uint32_t bits, const char **ret)
{
	return reason_strings(bits, true, ret);
}

const char *report_reasons_text(uint32_t bits, char *buf, size_t size)
{
	const char *l[REPORT_REASONS];
	size_t n = report_reason_labels(bits, l), at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && at < size; i++)
		at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? "、" : "", l[i]);
	return buf;
}

void report_settle_signals(struct event *ev, size_t n)
{
	/* Backwards, keeping the time of the earliest burst click at or after
	 * each event (events of one time may come in any order: same time
	 * counts as after). */
	int64_t burst_at = INT64_MAX;
	for (size_t i = n; i-- > 0;) {
		if (ev[i].kind != EV_CLICKED)
			continue;
		if (ev[i].signals & EVS_LINK_BURST) {
			burst_at = ev[i].at_ms;
			/* clicks of the same ms later in the array */
			for (size_t k = i + 1; k < n && ev[k].at_ms == ev[i].at_ms; k++)
				if (ev[k].kind == EV_CLICKED)
					ev[k].signals |= EVS_LINK_BURST;
		} else if (burst_at - ev[i].at_ms <= EVS_BURST_MS) {
			ev[i].signals |= EVS_LINK_BURST;
		}
	}
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

/* full: events with the client's details; else kinds and times only. */
static int each_target(struct store *s, const struct campaign *c, const struct exclusion *x, bool full,
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
			r = (full ? store_events : store_event_times)(s, c->tenant_id, c->id, t[0].id, t[nt - 1].id,
								     page, &ev, &nev);
		for (size_t i = 0; r >= 0 && i < nt; i++) {
			/* events are ordered by target id, like the targets */
			while (ei < nev && ev[ei].target_id < t[i].id)
				ei++;
			size_t first = ei;
			while (ei < nev && ev[ei].target_id == t[i].id)
				ei++;
			struct target_summary sum;
			report_settle_signals(ev + first, ei - first);
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

int report_each_target(struct store *s, const struct campaign *c, const struct exclusion *x,
		       report_target_fn fn, void *ctx)
{
	return each_target(s, c, x, true, fn, ctx);
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

static bool excluding(const struct exclusion *x)
{
	return x && x->exclude;
}

static int64_t exclusion_seconds(const struct exclusion *x)
{
	return x ? x->seconds : 0;
}

static void counts_from(const struct store_reach *r, struct campaign_counts *c)
{
	*c = (struct campaign_counts){
		.targets = r->targets, .sent = r->reached[EV_SENT], .errors = r->errors,
		.opened = r->reached[EV_OPENED], .clicked = r->reached[EV_CLICKED],
		.file_opened = r->reached[EV_FILE_OPENED], .submitted = r->reached[EV_SUBMITTED],
		.reported = r->reached[EV_REPORTED],
	};
}

int report_campaign_counts(struct store *s, const struct campaign *c, const struct exclusion *x,
			   struct campaign_counts *ret)
{
	struct arena *a = arena_new(1 << 20);
	struct store_reach *rows;
	size_t n;
	int r = store_campaign_reach(s, c->tenant_id, c->id, excluding(x), exclusion_seconds(x), NULL, a, &rows, &n);
	if (r >= 0) {
		if (n)
			counts_from(&rows[0], ret);
		else
			*ret = (struct campaign_counts){ 0 };
	}
	arena_free(a);
	return r < 0 ? r : 0;
}

/* The same counts, target by target in C: what the SQL must agree with. */
int report__counts_slow(struct store *s, const struct campaign *c, const struct exclusion *x,
			struct campaign_counts *ret)
{
	struct campaign_counts counts = { 0 };
	int r = each_target(s, c, x, false, count_one, &counts);
	if (r < 0)
		return r;
	*ret = counts;
	return 0;
}

int report_breakdown(struct store *s, const struct campaign *c, const struct exclusion *x, enum person_field by,
		     struct arena *a, struct breakdown_row **ret, size_t *ret_n)
{
	struct store_reach *rows;
	size_t n;
	int r = store_campaign_reach(s, c->tenant_id, c->id, excluding(x), exclusion_seconds(x), person_field_names[by], a, &rows,
				     &n);
	if (r < 0)
		return r;
	struct breakdown_row *out = arena_alloc(a, (n ? n : 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		out[i].value = rows[i].value;
		counts_from(&rows[i], &out[i].counts);
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int report_timeline(struct store *s, const struct campaign *c, const struct exclusion *x, struct arena *a,
		    int64_t *ret_bucket_seconds, struct timeline_row **ret, size_t *ret_n)
{
	int64_t origin = c->launched_at ? c->launched_at : c->created_at;
	int64_t end = c->finished_at ? c->finished_at : now_unix();
	int64_t bucket = end - origin > 3 * 86400 ? 86400 : 3600;
	origin -= origin % bucket; /* whole hours / days (UTC) */
	struct store_bucket *b;
	size_t n;
	int r = store_event_histogram(s, c->tenant_id, c->id, excluding(x), exclusion_seconds(x), origin, bucket, a, &b, &n);
	if (r < 0)
		return r;
	struct timeline_row *out = arena_alloc(a, (n ? n : 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		out[i].at = b[i].at;
		memcpy(out[i].n, b[i].n, sizeof(out[i].n));
	}
	*ret_bucket_seconds = bucket;
	*ret = out;
	*ret_n = n;
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

/* CSV text goes straight into out for UTF-8 (after the BOM); for CP932 into
 * a scratch buffer converted at the end.  Either way one copy at most. */
static struct buf *csv_begin(struct buf *scratch, struct buf *out, enum csv_encoding enc)
{
	*scratch = BUF_INIT(out->max);
	if (enc != CSV_UTF8_BOM)
		return scratch;
	buf_puts(out, "\xEF\xBB\xBF");
	return out;
}

static int csv_finish(struct buf *scratch, struct buf *out, enum csv_encoding enc, int r)
{
	if (r >= 0 && enc != CSV_UTF8_BOM)
		r = csv_encode(buf_slice(scratch), enc, out);
	buf_release(scratch);
	return r < 0 ? r : 0;
}

int report_results_csv(struct store *s, const struct campaign *c, const struct tz *zone,
		       const struct exclusion *x, enum csv_encoding enc, struct buf *out)
{
	struct buf scratch;
	struct buf *text = csv_begin(&scratch, out, enc);
	buf_puts(text, "訓練名,識別コード,姓,名,メールアドレス,部署,役職,ステータス,ファイル開封,送信日時,"
			"メール開封初回アクセス日時,メール開封更新日時,リンククリック初回アクセス日時,"
			"リンククリック更新日時,ファイル開封初回アクセス日時,ファイル開封更新日時,"
			"データ送信初回アクセス日時,データ送信更新日時,項目,項目2,項目3\r\n");
	struct csv_ctx ctx = { c, zone, text };
	int r = each_target(s, c, x, false, csv_row, &ctx);
	return csv_finish(&scratch, out, enc, r);
}

/* ---- イベント.csv ---- */

/* seconds: the exclusion seconds, for the reasons of e. */
static void csv_event_row(struct csv_ctx *x, const struct target *t, const struct event *e, const char *label,
			  int64_t seconds)
{
	static const char *const empty[PF__COUNT] = { "", "", "", "", "", "", "", "" };
	const char *const *f = t ? t->p.f : empty;
	csv_field(x->out, x->c->name, false);
	csv_field(x->out, t ? t->rid : "", true);
	for (int k = PF_LAST_NAME; k <= PF_POSITION; k++)
		csv_field(x->out, f[k], true);
	csv_field(x->out, e && e->ip ? e->ip : "", true);
	csv_time(x, e ? e->at_ms : x->c->created_at * 1000);
	csv_field(x->out, label, true);
	csv_field(x->out, e && e->os ? e->os : "", true);
	csv_field(x->out, e && e->browser ? e->browser : "", true);
	for (int k = PF_FIELD1; k <= PF_FIELD3; k++)
		csv_field(x->out, f[k], true);
	/* machine events are here only when they count (exclusion off) */
	bool machine = e && t && report_event_is_machine(e, t, seconds);
	char why[256];
	csv_field(x->out, machine ? REPORT_MACHINE_LABEL : "", true);
	csv_field(x->out, machine ? report_reasons_text(report_event_reasons(e, t, seconds), why, sizeof(why)) : "",
		  true);
	buf_puts(x->out, "\r\n");
}

struct events_ctx {
	struct csv_ctx csv;
	const struct exclusion *x;
};

static int events_rows(void *ctx, const struct target *t, const struct event *ev, size_t n,
		       const struct target_summary *sum)
{
	struct events_ctx *x = ctx;
	for (size_t i = 0; i < n; i++)
		if (report_event_counts(&ev[i], t, x->x))
			csv_event_row(&x->csv, t, &ev[i], report_event_label(ev[i].kind), x->x ? x->x->seconds : 0);
	return x->csv.out->len >= x->csv.out->max ? -E2BIG : 0;
}

int report_events_csv(struct store *s, const struct campaign *c, const struct tz *zone,
		      const struct exclusion *x, enum csv_encoding enc, struct buf *out)
{
	struct buf scratch;
	struct buf *text = csv_begin(&scratch, out, enc);
	buf_puts(text, "訓練名,識別コード,姓,名,メールアドレス,部署,役職,IPアドレス,日時,ステータス,OS,ブラウザ,"
			"項目,項目2,項目3,機械判定,判定理由\r\n");
	struct events_ctx ctx = { { c, zone, text }, x };
	/* the campaign's own 訓練作成 row first */
	csv_event_row(&ctx.csv, NULL, NULL, report_event_label(EV_CREATED), 0);
	int r = report_each_target(s, c, x, events_rows, &ctx);
	return csv_finish(&scratch, out, enc, r);
}

/* ---- across campaigns ---- */

struct tally_map {
	struct arena *a;
	struct tally *items;
	size_t n, cap;
	size_t *slots;       /* index + 1, 0 empty; open addressing */
	size_t nslots;
	const struct exclusion *x;
	bool clicked;        /* scratch, per target */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int map_grow(struct tally_map *m)
{
	size_t ns = m->nslots ? m->nslots * 2 : 1024;
	size_t *slots = arena_alloc(m->a, st_mult(ns, sizeof(*slots)));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		size_t k = hash_str(m->items[i].p.f[PF_EMAIL]) & (ns - 1);
		while (slots[k])
			k = (k + 1) & (ns - 1);
		slots[k] = i + 1;
	}
	m->slots = slots;
	m->nslots = ns;
	return 0;
}

/* The tally of an address, made when new. */
static struct tally *map_get(struct tally_map *m, const char *email)
{
	if ((m->n + 1) * 2 > m->nslots && map_grow(m) < 0)
		return NULL;
	size_t k = hash_str(email) & (m->nslots - 1);
	while (m->slots[k]) {
		struct tally *t = &m->items[m->slots[k] - 1];
		if (!strcmp(t->p.f[PF_EMAIL], email))
			return t;
		k = (k + 1) & (m->nslots - 1);
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		struct tally *items = arena_alloc(m->a, st_mult(nc, sizeof(*items)));
		if (!items)
			return NULL;
		if (m->n)
			memcpy(items, m->items, m->n * sizeof(*items));
		m->items = items;
		m->cap = nc;
	}
	struct tally *t = &m->items[m->n];
	memset(t, 0, sizeof(*t));
	t->p.f[PF_EMAIL] = arena_strdup(m->a, email);
	if (!t->p.f[PF_EMAIL])
		return NULL;
	m->slots[k] = ++m->n;
	return t;
}

static int tally_target(void *ctx, const struct target *t, const struct event *ev, size_t n,
			const struct target_summary *sum)
{
	struct tally_map *m = ctx;
	struct tally *y = map_get(m, t->p.f[PF_EMAIL]);
	if (!y)
		return -ENOMEM;
	for (int f = 0; f < PF__COUNT; f++)
		if (f != PF_EMAIL && !(y->p.f[f] = arena_strdup(m->a, t->p.f[f])))
			return -ENOMEM;
	y->p.is_test = t->p.is_test;
	for (int k = 0; k < EV__COUNT; k++)
		y->events[k] += sum->count[k];
	y->campaigns++;
	y->clicked_in += sum->count[EV_CLICKED] > 0;
	return 0;
}

static int launch_order(const void *a, const void *b)
{
	const struct campaign *x = a, *y = b;
	int64_t tx = x->launched_at ? x->launched_at : x->created_at;
	int64_t ty = y->launched_at ? y->launched_at : y->created_at;
	return tx < ty ? -1 : tx > ty ? 1 : (x->id > y->id) - (x->id < y->id);
}

int report_tally(struct store *s, const struct campaign *c, size_t n, bool exclude, struct arena *a,
		 struct tally **ret, size_t *ret_n)
{
	struct tally_map m = { .a = a };
	struct campaign *sorted = arena_alloc(a, (n ? n : 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, c, n * sizeof(*c));
	qsort(sorted, n, sizeof(*sorted), launch_order);
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct exclusion x = { exclude, sorted[i].exclusion_seconds };
		r = each_target(s, &sorted[i], &x, false, tally_target, &m);
	}
	if (r < 0)
		return r;
	*ret = m.items;
	*ret_n = m.n;
	return 0;
}

int report_cumulative_csv(struct store *s, const struct campaign *c, size_t n, bool exclude,
			  enum csv_encoding enc, struct buf *out)
{
	static const enum event_kind cols[] = { EV_SENT, EV_OPENED, EV_CLICKED, EV_FILE_OPENED, EV_SUBMITTED };
	struct arena *a = arena_new((size_t)1 << 30);
	struct tally *t;
	size_t nt;
	int r = report_tally(s, c, n, exclude, a, &t, &nt);
	_cleanup_buf_ struct buf text = BUF_INIT(out->max);
	buf_puts(&text, "姓,名,メールアドレス,部署,役職,項目,項目2,項目3,メール送信,メール開封,リンククリック,"
			"ファイル開封,データ送信\r\n");
	for (size_t i = 0; r >= 0 && i < nt; i++) {
		for (int f = 0; f < PF__COUNT; f++)
			csv_field(&text, t[i].p.f[f], f > 0);
		for (size_t k = 0; k < ARRAY_SIZE(cols); k++)
			buf_printf(&text, ",%lld", (long long)t[i].events[cols[k]]);
		r = buf_puts(&text, "\r\n");
	}
	arena_free(a);
	return r < 0 ? r : csv_encode(buf_slice(&text), enc, out);
}

struct first_report {
	int64_t at_ms;
};

static int first_report_of(void *ctx, const struct target *t, const struct event *ev, size_t n,
			   const struct target_summary *sum)
{
	struct first_report *f = ctx;
	int64_t at = sum->first_ms[EV_REPORTED];
	if (at && (!f->at_ms || at < f->at_ms))
		f->at_ms = at;
	return 0;
}

int report_first_report(struct store *s, const struct campaign *c, bool exclude, int64_t *ret)
{
	struct first_report f = { 0 };
	struct exclusion x = { exclude, c->exclusion_seconds };
	int r = each_target(s, c, &x, false, first_report_of, &f);
	if (r < 0)
		return r;
	*ret = f.at_ms && c->launched_at ? f.at_ms / 1000 - c->launched_at : -1;
	return 0;
}
