/*
 * xlsx.c — 報告書 report.xlsx (SPEC G2), written with libxlsxwriter.
 *
 * Sheets, in tab order: サマリー (campaign, period, counts and rates, two
 * charts), 部署別 and 役職別 (report_breakdown, one row per group, a chart),
 * 訓練対象者 (the 訓練結果.csv columns, one row per target) and イベント (the
 * イベント.csv columns, one row per counted event).  See docs/internals/REPORT.md.
 *
 * Memory: the workbook runs in libxlsxwriter's constant_memory mode, which
 * keeps one row per sheet and streams the rest to unlinked temporary files, so
 * beyond libxlsxwriter's own bookkeeping we hold one page of targets
 * (report_each_target) and the breakdown groups.  That mode needs each sheet
 * written top to bottom: the target pass fills 訓練対象者 and イベント, then the
 * breakdown sheets are written, and サマリー last, since it shows the status
 * totals of that pass.
 *
 * Every text cell is written with worksheet_write_string, so a name such as
 * "=HYPERLINK(...)" stays text and is never a formula.
 */
#include "report/report.h"

#include <inttypes.h>
#include <unistd.h>

#include <xlsxwriter.h>

/* Japanese Excel's usual UI font; Excel substitutes one where it is missing. */
#define XLSX_FONT "Meiryo UI"
#define XLSX_CHARSET_SHIFTJIS 128
/* Excel's limit for the text of one cell, in characters. */
#define XLSX_STR_MAX 32767
/* Groups drawn in a breakdown chart (the largest ones; the table has all). */
#define XLSX_CHART_GROUPS 30
/* Rows of a sheet; past it a table goes on in the next sheet (tests lower it). */
#ifndef XLSX_ROW_MAX
#define XLSX_ROW_MAX LXW_ROW_MAX
#endif
/* Excel's day count of 1970-01-01. */
#define XLSX_EPOCH_DAYS 25569.0

enum xfmt { XF_TEXT, XF_TITLE, XF_SUBTITLE, XF_LABEL, XF_HEAD, XF_INT, XF_PCT, XF_TIME, XF_NOTE, XF__COUNT };

struct xlsx {
	lxw_workbook *wb;
	lxw_format *fmt[XF__COUNT];
	const struct campaign *c;
	const struct tz *zone;
	const struct exclusion *x;
	int err;                             /* first error, sticky (negative errno) */
	struct buf fix;                      /* a text cell made valid UTF-8 */
	int64_t status_n[STATUS__COUNT];     /* targets per final status */
};

/* A sheet that is one table: a header row, then rows; past Excel's last
 * row it goes on in a new sheet named "name (2)". */
struct xsheet {
	const char *name;
	const char *const *head;
	const double *widths;
	size_t ncols;
	lxw_worksheet *ws;
	lxw_row_t row;                       /* the next row to write */
	int part;
};

static int xlsx_error(lxw_error e)
{
	return e == LXW_ERROR_MEMORY_MALLOC_FAILED ? -ENOMEM : -EIO;
}

static void xlsx_check(struct xlsx *x, lxw_error e)
{
	if (e != LXW_NO_ERROR && !x->err)
		x->err = xlsx_error(e);
}

/* ---- cells ---- */

/* Cuts s to at most XLSX_STR_MAX characters (bytes are never fewer). */
static const char *text_fit(struct xlsx *x, const char *s)
{
	size_t n = strlen(s);
	if (n <= XLSX_STR_MAX && utf8_valid(s, n))
		return s;
	if (n > XLSX_STR_MAX) {
		n = XLSX_STR_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;  /* not inside a character */
	}
	buf_reset(&x->fix);
	buf_put_utf8(&x->fix, (struct slice){ s, n });
	return x->fix.p;
}

static void cell_text(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const char *s,
		      enum xfmt f)
{
	if (!s || !*s)
		return;
	xlsx_check(x, worksheet_write_string(ws, row, col, text_fit(x, s), x->fmt[f]));
}

static void cell_num(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, double v, enum xfmt f)
{
	xlsx_check(x, worksheet_write_number(ws, row, col, v, x->fmt[f]));
}

static double rate(int64_t n, int64_t of)
{
	return of ? (double)n / (double)of : 0.0;
}

/* A moment as an Excel date in the tenant's zone; nothing for 0. */
static void cell_time(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int64_t ms)
{
	if (!ms)
		return;
	int64_t secs = ms / 1000;
	double local = (double)(secs + tz_offset(x->zone, secs)) + (double)(ms % 1000) / 1000.0;
	cell_num(x, ws, row, col, XLSX_EPOCH_DAYS + local / 86400.0, XF_TIME);
}

/* ---- table sheets ---- */

/* Printing: A4, one page wide; tables landscape with the header row on
 * every page. */
static void print_setup(struct xlsx *x, lxw_worksheet *ws, bool table)
{
	worksheet_set_paper(ws, 9 /* A4 */);
	worksheet_fit_to_pages(ws, 1, table ? 0 : 1);
	if (table) {
		worksheet_set_landscape(ws);
		xlsx_check(x, worksheet_repeat_rows(ws, 0, 0));
	}
}

static void sheet_open(struct xlsx *x, struct xsheet *sh)
{
	char name[64];
	if (sh->part > 1)
		snprintf(name, sizeof(name), "%s (%d)", sh->name, sh->part);
	else
		snprintf(name, sizeof(name), "%s", sh->name);
	sh->ws = workbook_add_worksheet(x->wb, name);
	if (!sh->ws) {
		x->err = x->err ? x->err : -ENOMEM;
		return;
	}
	/* two lines for the long headers (constant_memory: before the row's cells) */
	xlsx_check(x, worksheet_set_row(sh->ws, 0, 30, NULL));
	for (size_t i = 0; i < sh->ncols; i++) {
		xlsx_check(x, worksheet_set_column(sh->ws, (lxw_col_t)i, (lxw_col_t)i, sh->widths[i], NULL));
		cell_text(x, sh->ws, 0, (lxw_col_t)i, sh->head[i], XF_HEAD);
	}
	worksheet_freeze_panes(sh->ws, 1, 0);
	print_setup(x, sh->ws, true);
	sh->row = 1;
}

static void sheet_close(struct xlsx *x, struct xsheet *sh)
{
	if (sh->ws)
		xlsx_check(x, worksheet_autofilter(sh->ws, 0, 0, sh->row - 1, (lxw_col_t)(sh->ncols - 1)));
}

/* The row to write next, opening the next part when a sheet is full. */
static lxw_row_t sheet_row(struct xlsx *x, struct xsheet *sh)
{
	if (sh->row >= XLSX_ROW_MAX) {
		sheet_close(x, sh);
		sh->part++;
		sheet_open(x, sh);
	}
	return sh->row++;
}

/* ---- 訓練対象者 and イベント: one pass over the targets ---- */

static const char *const target_head[] = {
	"訓練名", "識別コード", "姓", "名", "メールアドレス", "部署", "役職", "ステータス", "ファイル開封", "送信日時",
	"メール開封初回アクセス日時", "メール開封更新日時", "リンククリック初回アクセス日時", "リンククリック更新日時",
	"ファイル開封初回アクセス日時", "ファイル開封更新日時", "データ送信初回アクセス日時", "データ送信更新日時",
	"項目", "項目2", "項目3",
};
static const double target_widths[] = {
	20, 24, 10, 10, 30, 18, 14, 14, 10, 16, 16, 16, 16, 16, 16, 16, 16, 16, 14, 14, 14,
};
static const char *const event_head[] = {
	"訓練名", "識別コード", "姓", "名", "メールアドレス", "部署", "役職", "IPアドレス", "日時", "ステータス",
	"OS", "ブラウザ", "項目", "項目2", "項目3", "機械判定", "判定理由",
};
static const double event_widths[] = { 20, 24, 10, 10, 30, 18, 14, 16, 16, 14, 16, 18, 14, 14, 14, 10, 30 };

struct pass {
	struct xlsx *x;
	struct xsheet targets, events;
};

/* Columns from first to last of a person, from column col on. */
static void cells_person(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
			 const struct person *p, enum person_field first, enum person_field last)
{
	for (int f = first; f <= (int)last; f++)
		cell_text(x, ws, row, (lxw_col_t)(col + f - first), p->f[f], XF_TEXT);
}

static void target_row(struct pass *p, const struct target *t, const struct target_summary *sum)
{
	static const enum event_kind timed[] = { EV_OPENED, EV_CLICKED, EV_FILE_OPENED, EV_SUBMITTED };
	struct xlsx *x = p->x;
	lxw_row_t row = sheet_row(x, &p->targets);
	lxw_worksheet *ws = p->targets.ws;
	if (!ws)
		return;
	cell_text(x, ws, row, 0, x->c->name, XF_TEXT);
	cell_text(x, ws, row, 1, t->rid, XF_TEXT);
	cells_person(x, ws, row, 2, &t->p, PF_LAST_NAME, PF_POSITION);
	cell_text(x, ws, row, 7, report_status_label(sum->status), XF_TEXT);
	cell_text(x, ws, row, 8, sum->count[EV_FILE_OPENED] ? "OPEN" : "", XF_TEXT);
	cell_time(x, ws, row, 9, t->sent_at * 1000);
	for (size_t i = 0; i < ARRAY_SIZE(timed); i++) {
		cell_time(x, ws, row, (lxw_col_t)(10 + 2 * i), sum->first_ms[timed[i]]);
		cell_time(x, ws, row, (lxw_col_t)(11 + 2 * i), sum->last_ms[timed[i]]);
	}
	cells_person(x, ws, row, 18, &t->p, PF_FIELD1, PF_FIELD3);
}

/* t and e are NULL for the campaign's own 訓練作成 row, at its creation. */
static void event_row(struct pass *p, const struct target *t, const struct event *e)
{
	struct xlsx *x = p->x;
	lxw_row_t row = sheet_row(x, &p->events);
	lxw_worksheet *ws = p->events.ws;
	if (!ws)
		return;
	cell_text(x, ws, row, 0, x->c->name, XF_TEXT);
	if (t) {
		cell_text(x, ws, row, 1, t->rid, XF_TEXT);
		cells_person(x, ws, row, 2, &t->p, PF_LAST_NAME, PF_POSITION);
		cells_person(x, ws, row, 12, &t->p, PF_FIELD1, PF_FIELD3);
	}
	if (!e) {
		cell_time(x, ws, row, 8, x->c->created_at * 1000);
		cell_text(x, ws, row, 9, report_event_label(EV_CREATED), XF_TEXT);
		return;
	}
	cell_text(x, ws, row, 7, e->ip, XF_TEXT);
	cell_time(x, ws, row, 8, e->at_ms);
	cell_text(x, ws, row, 9, report_event_label(e->kind), XF_TEXT);
	cell_text(x, ws, row, 10, e->os, XF_TEXT);
	cell_text(x, ws, row, 11, e->browser, XF_TEXT);
	/* machine events are here only when they count (exclusion off) */
	char why[256];
	uint32_t reasons = report_event_reasons(e, t, x->x ? x->x->seconds : 0);
	if (report_event_is_machine(e, t, x->x ? x->x->seconds : 0)) {
		cell_text(x, ws, row, 15, REPORT_MACHINE_LABEL, XF_TEXT);
		cell_text(x, ws, row, 16, report_reasons_text(reasons, why, sizeof(why)), XF_TEXT);
	}
}

static int pass_target(void *ctx, const struct target *t, const struct event *ev, size_t n,
		       const struct target_summary *sum)
{
	struct pass *p = ctx;
	p->x->status_n[sum->status]++;
	target_row(p, t, sum);
	for (size_t i = 0; i < n; i++)
		if (report_event_counts(&ev[i], t, p->x->x))
			event_row(p, t, &ev[i]);
	return p->x->err;
}

static int write_targets_and_events(struct xlsx *x, struct store *s, struct pass *p)
{
	event_row(p, NULL, NULL); /* 訓練作成 first, as in イベント.csv */
	int r = report_each_target(s, x->c, x->x, pass_target, p);
	sheet_close(x, &p->targets);
	sheet_close(x, &p->events);
	return r < 0 ? r : x->err;
}

/* ---- 部署別 and 役職別 ---- */

static const char *const group_head_tail[] = {
	"対象者数", "メール送信", "メール開封", "開封率", "リンククリック", "クリック率", "ファイル開封",
	"ファイル開封率", "データ送信", "データ送信率", "報告", "報告率",
};
#define GROUP_COLS (1 + ARRAY_SIZE(group_head_tail))
static const double group_widths[GROUP_COLS] = { 24, 10, 11, 11, 9, 13, 10, 11, 13, 11, 12, 9, 9 };
enum { GROUP_COL_CLICK_RATE = 6, GROUP_COL_SUBMIT_RATE = 10 };

static void group_row(struct xlsx *x, struct xsheet *sh, const struct breakdown_row *g)
{
	const struct campaign_counts *k = &g->counts;
	const int64_t counted[] = { k->opened, k->clicked, k->file_opened, k->submitted, k->reported };
	lxw_row_t row = sheet_row(x, sh);
	if (!sh->ws)
		return;
	cell_text(x, sh->ws, row, 0, *g->value ? g->value : "(未設定)", XF_TEXT);
	cell_num(x, sh->ws, row, 1, (double)k->targets, XF_INT);
	cell_num(x, sh->ws, row, 2, (double)k->sent, XF_INT);
	for (size_t i = 0; i < ARRAY_SIZE(counted); i++) {
		cell_num(x, sh->ws, row, (lxw_col_t)(3 + 2 * i), (double)counted[i], XF_INT);
		cell_num(x, sh->ws, row, (lxw_col_t)(4 + 2 * i), rate(counted[i], k->sent), XF_PCT);
	}
}

static lxw_chart_font chart_font(double size, bool bold)
{
	static char name[] = XLSX_FONT;
	return (lxw_chart_font){ .name = name, .size = size, .bold = bold, .charset = XLSX_CHARSET_SHIFTJIS };
}

/* Titles, axes and legend of a chart in the workbook's font. */
static void chart_fonts(lxw_chart *ch, const char *title)
{
	lxw_chart_font big = chart_font(12, true), small = chart_font(9, false);
	chart_title_set_name(ch, title);
	chart_title_set_name_font(ch, &big);
	chart_legend_set_font(ch, &small);
	chart_axis_set_num_font(ch->x_axis, &small);
	chart_axis_set_num_font(ch->y_axis, &small);
}

static lxw_chart_series *chart_series(struct xlsx *x, lxw_chart *ch)
{
	lxw_chart_series *s = ch ? chart_add_series(ch, NULL, NULL) : NULL;
	if (!s && !x->err)
		x->err = -ENOMEM;
	return s;
}

/* A clustered column chart of click and submit rates of the largest
 * groups, below the table (so it prints with it). */
static void group_chart(struct xlsx *x, struct xsheet *sh, const char *label, size_t n)
{
	static const struct { lxw_col_t col; const char *name; } series[] = {
		{ GROUP_COL_CLICK_RATE, "クリック率" }, { GROUP_COL_SUBMIT_RATE, "データ送信率" },
	};
	size_t shown = n < XLSX_CHART_GROUPS ? n : XLSX_CHART_GROUPS;
	if (!shown)
		return;  /* nobody yet: an empty chart would only confuse */
	lxw_chart *ch = workbook_add_chart(x->wb, LXW_CHART_COLUMN);
	char title[128];
	if (n > shown)
		snprintf(title, sizeof(title), "%s別 クリック率・データ送信率 (上位 %zu)", label, shown);
	else
		snprintf(title, sizeof(title), "%s別 クリック率・データ送信率", label);
	for (size_t i = 0; i < ARRAY_SIZE(series); i++) {
		lxw_chart_series *s = chart_series(x, ch);
		if (!s)
			return;
		chart_series_set_categories(s, sh->name, 1, 0, (lxw_row_t)shown, 0);
		chart_series_set_values(s, sh->name, 1, series[i].col, (lxw_row_t)shown, series[i].col);
		chart_series_set_name(s, series[i].name);
	}
	chart_fonts(ch, title);
	chart_axis_set_num_format(ch->y_axis, "0%");
	chart_axis_set_min(ch->y_axis, 0);
	chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
	lxw_chart_options at = { .x_offset = 10, .y_offset = 10, .x_scale = 2, .y_scale = 1.3 };
	xlsx_check(x, worksheet_insert_chart_opt(sh->ws, sh->row + 1, 0, ch, &at));
}

static int write_breakdown(struct xlsx *x, struct store *s, struct xsheet *sh, enum person_field by,
			   const char *label)
{
	struct arena *a = arena_new(0);
	struct breakdown_row *g;
	size_t n;
	int r = report_breakdown(s, x->c, x->x, by, a, &g, &n);
	for (size_t i = 0; r >= 0 && i < n; i++)
		group_row(x, sh, &g[i]);
	arena_free(a);
	if (r < 0 || (r = x->err) < 0)
		return r;
	sheet_close(x, sh);
	group_chart(x, sh, label, n);
	return x->err;
}

/* ---- サマリー ---- */

#define SUMMARY_SHEET "サマリー"
/* Rows of the summary (0-based); the charts sit right of the tables. */
enum {
	SUM_TITLE = 0, SUM_SUBTITLE = 1, SUM_INFO = 3,
	SUM_COUNTS_HEAD = 11, SUM_COUNTS = 12,             /* 7 rows: 配信件数 .. 報告 */
	SUM_COUNTS_NOTE = SUM_COUNTS + 7,                  /* 2 rows */
	SUM_STATUS_HEAD = SUM_COUNTS_NOTE + 3, SUM_STATUS = SUM_STATUS_HEAD + 1,
	SUM_CHART_COL = 4, SUM_RATE_CHART = SUM_COUNTS_HEAD, SUM_STATUS_CHART = SUM_COUNTS_HEAD + 16,
};
/* The rows of reactions in the counts table: メール開封 .. 報告. */
enum { SUM_RATES_FIRST = SUM_COUNTS + 2, SUM_RATES_LAST = SUM_COUNTS + 6 };

static const char *const state_labels[] = {
	[CAMPAIGN_DRAFT] = "下書き", [CAMPAIGN_SCHEDULED] = "予約済み", [CAMPAIGN_SENDING] = "配信中",
	[CAMPAIGN_RUNNING] = "実施中", [CAMPAIGN_FINISHED] = "終了", [CAMPAIGN_CANCELLED] = "中止",
	[CAMPAIGN_PAUSED] = "一時停止",
};

/* 期間: launch to the end, or to now while the campaign goes on. */
static void period_text(struct xlsx *x, struct buf *b)
{
	const struct campaign *c = x->c;
	if (!c->launched_at) {
		buf_puts(b, "未開始");
		return;
	}
	tz_put_csv_time(b, x->zone, c->launched_at);
	buf_puts(b, " 〜 ");
	tz_put_csv_time(b, x->zone, c->finished_at ? c->finished_at : now_unix());
	if (!c->finished_at)
		buf_puts(b, " (実施中・出力時点)");
}

static void summary_info(struct xlsx *x, lxw_worksheet *ws)
{
	const struct campaign *c = x->c;
	_cleanup_buf_ struct buf period = BUF_INIT(0), sender = BUF_INIT(0), excl = BUF_INIT(0), now = BUF_INIT(0);
	period_text(x, &period);
	if (*c->sender_name)
		buf_printf(&sender, "%s <%s@%s>", c->sender_name, c->sender_local, c->sender_domain);
	else
		buf_printf(&sender, "%s@%s", c->sender_local, c->sender_domain);
	if (x->x && x->x->exclude && x->x->seconds <= 0)
		buf_puts(&excl, "メールチェックシステム除外 ON (除外時間 0 秒: 除外なし)");
	else if (x->x && x->x->exclude)
		buf_printf(&excl, "メールチェックシステム除外 ON (配信から %" PRId64 " 秒以内の反応を除外)", x->x->seconds);
	else
		buf_puts(&excl, "メールチェックシステム除外 OFF");
	tz_put_csv_time(&now, x->zone, now_unix());
	const char *rows[][2] = {
		{ "期間", period.p }, { "シナリオ", c->scenario_name }, { "送信元", sender.p },
		{ "除外設定", excl.p }, { "状態", state_labels[c->state] }, { "タイムゾーン", tz_name(x->zone) },
		{ "出力日時", now.p },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		cell_text(x, ws, (lxw_row_t)(SUM_INFO + i), 0, rows[i][0], XF_LABEL);
		cell_text(x, ws, (lxw_row_t)(SUM_INFO + i), 1, rows[i][1], XF_TEXT);
	}
}

static void summary_counts(struct xlsx *x, lxw_worksheet *ws, const struct campaign_counts *k)
{
	const struct { const char *label; int64_t n, of; } rows[] = {
		{ "配信件数", k->targets, 0 }, { "メール送信", k->sent, k->targets },
		{ "メール開封", k->opened, k->sent }, { "リンククリック", k->clicked, k->sent },
		{ "ファイル開封", k->file_opened, k->sent }, { "データ送信", k->submitted, k->sent },
		{ "報告", k->reported, k->sent },
	};
	cell_text(x, ws, SUM_COUNTS_HEAD, 0, "項目", XF_HEAD);
	cell_text(x, ws, SUM_COUNTS_HEAD, 1, "人数", XF_HEAD);
	cell_text(x, ws, SUM_COUNTS_HEAD, 2, "割合", XF_HEAD);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		lxw_row_t row = (lxw_row_t)(SUM_COUNTS + i);
		cell_text(x, ws, row, 0, rows[i].label, XF_LABEL);
		cell_num(x, ws, row, 1, (double)rows[i].n, XF_INT);
		if (i > 0)
			cell_num(x, ws, row, 2, rate(rows[i].n, rows[i].of), XF_PCT);
	}
	cell_text(x, ws, SUM_COUNTS_NOTE, 0, "※ メール送信の割合: 配信件数に対して", XF_NOTE);
	cell_text(x, ws, SUM_COUNTS_NOTE + 1, 0, "※ ほかの割合: メール送信の人数に対して", XF_NOTE);
}

static void summary_statuses(struct xlsx *x, lxw_worksheet *ws)
{
	cell_text(x, ws, SUM_STATUS_HEAD, 0, "最終ステータス", XF_HEAD);
	cell_text(x, ws, SUM_STATUS_HEAD, 1, "人数", XF_HEAD);
	cell_text(x, ws, SUM_STATUS_HEAD, 2, "割合", XF_HEAD);
	int64_t total = 0;
	for (int st = 0; st < STATUS__COUNT; st++)
		total += x->status_n[st];
	for (int st = 0; st < STATUS__COUNT; st++) {
		lxw_row_t row = (lxw_row_t)(SUM_STATUS + st);
		cell_text(x, ws, row, 0, report_status_label((enum target_status)st), XF_LABEL);
		cell_num(x, ws, row, 1, (double)x->status_n[st], XF_INT);
		cell_num(x, ws, row, 2, rate(x->status_n[st], total), XF_PCT);
	}
}

/* A column chart of the reaction rates. */
static void summary_rate_chart(struct xlsx *x, lxw_worksheet *ws)
{
	lxw_chart *ch = workbook_add_chart(x->wb, LXW_CHART_COLUMN);
	lxw_chart_series *s = chart_series(x, ch);
	if (!s)
		return;
	chart_series_set_categories(s, SUMMARY_SHEET, SUM_RATES_FIRST, 0, SUM_RATES_LAST, 0);
	chart_series_set_values(s, SUMMARY_SHEET, SUM_RATES_FIRST, 2, SUM_RATES_LAST, 2);
	chart_series_set_name(s, "割合");
	chart_series_set_labels(s);
	chart_series_set_labels_num_format(s, "0.0%");
	lxw_chart_font small = chart_font(9, false);
	chart_series_set_labels_font(s, &small);
	chart_fonts(ch, "反応率 (メール送信に対する割合)");
	chart_axis_set_num_format(ch->y_axis, "0%");
	chart_axis_set_min(ch->y_axis, 0);
	chart_legend_set_position(ch, LXW_CHART_LEGEND_NONE);
	lxw_chart_options at = { .x_offset = 10, .x_scale = 1.2 };
	xlsx_check(x, worksheet_insert_chart_opt(ws, SUM_RATE_CHART, SUM_CHART_COL, ch, &at));
}

/* A doughnut of the final statuses; statuses nobody has get no label. */
static void summary_status_chart(struct xlsx *x, lxw_worksheet *ws)
{
	lxw_chart *ch = workbook_add_chart(x->wb, LXW_CHART_DOUGHNUT);
	lxw_chart_series *s = chart_series(x, ch);
	if (!s)
		return;
	chart_series_set_categories(s, SUMMARY_SHEET, SUM_STATUS, 0, SUM_STATUS + STATUS__COUNT - 1, 0);
	chart_series_set_values(s, SUMMARY_SHEET, SUM_STATUS, 1, SUM_STATUS + STATUS__COUNT - 1, 1);
	chart_series_set_name(s, "人数");
	chart_series_set_labels(s);
	chart_series_set_labels_options(s, LXW_FALSE, LXW_FALSE, LXW_FALSE);
	chart_series_set_labels_percentage(s);
	lxw_chart_data_label shown = { 0 }, hidden = { .hide = LXW_TRUE };
	lxw_chart_data_label *labels[STATUS__COUNT + 1] = { NULL };
	for (int st = 0; st < STATUS__COUNT; st++)
		labels[st] = x->status_n[st] ? &shown : &hidden;
	xlsx_check(x, chart_series_set_labels_custom(s, labels));
	lxw_chart_font small = chart_font(9, false);
	chart_series_set_labels_font(s, &small);
	chart_fonts(ch, "最終ステータスの内訳");
	chart_legend_set_position(ch, LXW_CHART_LEGEND_RIGHT);
	lxw_chart_options at = { .x_offset = 10, .x_scale = 1.2 };
	xlsx_check(x, worksheet_insert_chart_opt(ws, SUM_STATUS_CHART, SUM_CHART_COL, ch, &at));
}

static int write_summary(struct xlsx *x, struct store *s, lxw_worksheet *ws)
{
	struct campaign_counts k;
	int r = report_campaign_counts(s, x->c, x->x, &k);
	if (r < 0)
		return r;
	xlsx_check(x, worksheet_set_column(ws, 0, 0, 16, NULL));
	xlsx_check(x, worksheet_set_column(ws, 1, 2, 12, NULL));
	xlsx_check(x, worksheet_set_column(ws, 3, 3, 2, NULL));
	print_setup(x, ws, false);
	cell_text(x, ws, SUM_TITLE, 0, x->c->name, XF_TITLE);
	cell_text(x, ws, SUM_SUBTITLE, 0, "標的型攻撃メール訓練 報告書", XF_SUBTITLE);
	summary_info(x, ws);
	summary_counts(x, ws, &k);
	summary_statuses(x, ws);
	summary_rate_chart(x, ws);
	summary_status_chart(x, ws);
	return x->err;
}

/* ---- the workbook ---- */

static lxw_format *format_new(struct xlsx *x)
{
	lxw_format *f = workbook_add_format(x->wb);
	if (!f) {
		x->err = x->err ? x->err : -ENOMEM;
		return NULL;
	}
	format_set_font_name(f, XLSX_FONT);
	format_set_font_charset(f, XLSX_CHARSET_SHIFTJIS);
	return f;
}

static int formats_init(struct xlsx *x)
{
	/* The workbook's default format (cells without one, the Normal style). */
	lxw_format *def = STAILQ_FIRST(x->wb->formats);
	BUG_ON(!def);
	format_set_font_name(def, XLSX_FONT);
	format_set_font_charset(def, XLSX_CHARSET_SHIFTJIS);
	for (int i = 0; i < XF__COUNT; i++)
		if (!(x->fmt[i] = format_new(x)))
			return x->err;
	format_set_font_size(x->fmt[XF_TITLE], 16);
	format_set_bold(x->fmt[XF_TITLE]);
	format_set_font_size(x->fmt[XF_SUBTITLE], 11);
	format_set_font_color(x->fmt[XF_SUBTITLE], 0x595959);
	format_set_bold(x->fmt[XF_LABEL]);
	format_set_bold(x->fmt[XF_HEAD]);
	format_set_bg_color(x->fmt[XF_HEAD], 0xDDEBF7);
	format_set_bottom(x->fmt[XF_HEAD], LXW_BORDER_THIN);
	format_set_text_wrap(x->fmt[XF_HEAD]);
	format_set_align(x->fmt[XF_HEAD], LXW_ALIGN_VERTICAL_CENTER);
	format_set_num_format(x->fmt[XF_INT], "#,##0");
	format_set_num_format(x->fmt[XF_PCT], "0.0%");
	format_set_num_format(x->fmt[XF_TIME], "yyyy/m/d h:mm");
	format_set_font_size(x->fmt[XF_NOTE], 9);
	format_set_font_color(x->fmt[XF_NOTE], 0x595959);
	return 0;
}

static void properties_set(struct xlsx *x)
{
	_cleanup_free_ char *title = xasprintf("報告書 %s", x->c->name);
	lxw_doc_properties p = {
		.title = title, .subject = (char *)"標的型攻撃メール訓練の結果", .company = (char *)"",
		.comments = (char *)"Kunren",
	};
	xlsx_check(x, workbook_set_properties(x->wb, &p));
}

/* Writes every sheet; the caller closes or frees x->wb. */
static int workbook_fill(struct xlsx *x, struct store *s)
{
	int r = formats_init(x);
	if (r < 0)
		return r;
	properties_set(x);
	lxw_worksheet *summary = workbook_add_worksheet(x->wb, SUMMARY_SHEET);
	if (!summary)
		return -ENOMEM;
	struct xsheet dept = { "部署別", NULL, group_widths, GROUP_COLS, NULL, 0, 1 };
	struct xsheet pos = { "役職別", NULL, group_widths, GROUP_COLS, NULL, 0, 1 };
	const char *dept_head[GROUP_COLS] = { "部署" }, *pos_head[GROUP_COLS] = { "役職" };
	for (size_t i = 1; i < GROUP_COLS; i++)
		dept_head[i] = pos_head[i] = group_head_tail[i - 1];
	dept.head = dept_head;
	pos.head = pos_head;
	struct pass p = {
		.x = x,
		.targets = { "訓練対象者", target_head, target_widths, ARRAY_SIZE(target_head), NULL, 0, 1 },
		.events = { "イベント", event_head, event_widths, ARRAY_SIZE(event_head), NULL, 0, 1 },
	};
	sheet_open(x, &dept);
	sheet_open(x, &pos);
	sheet_open(x, &p.targets);
	sheet_open(x, &p.events);
	if (x->err)
		return x->err;
	if ((r = write_targets_and_events(x, s, &p)) < 0 ||
	    (r = write_breakdown(x, s, &dept, PF_DEPARTMENT, "部署")) < 0 ||
	    (r = write_breakdown(x, s, &pos, PF_POSITION, "役職")) < 0)
		return r;
	worksheet_activate(summary);
	return write_summary(x, s, summary);
}

/* Frees a workbook that will not be written.  lxw_workbook_free() leaves
 * the constant_memory sheets' temporary files open: close them first. */
static void workbook_abandon(lxw_workbook *wb)
{
	lxw_worksheet *ws;
	LXW_FOREACH_WORKSHEET(ws, wb)
		if (ws->optimize_tmpfile) {
			fclose(ws->optimize_tmpfile);
			ws->optimize_tmpfile = NULL;
		}
	lxw_workbook_free(wb);
}

/* A fresh private file name in $TMPDIR (or /tmp) for libxlsxwriter to write. */
static int temp_path(char **ret)
{
	const char *dir = getenv("TMPDIR");
	char *path = xasprintf("%s/kunren-report-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		int r = -errno;
		free(path);
		return r;
	}
	close(fd);
	*ret = path;
	return 0;
}

int report_workbook(struct store *s, const struct campaign *c, const struct tz *zone,
		    const struct exclusion *x, struct buf *out)
{
	_cleanup_free_ char *path = NULL;
	int r = temp_path(&path);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE, .tmpdir = dir };
	struct xlsx w = { .c = c, .zone = zone, .x = x, .fix = BUF_INIT(0) };
	w.wb = workbook_new_opt(path, &opt);
	if (!w.wb)
		r = -ENOMEM;
	else if ((r = workbook_fill(&w, s)) < 0)
		workbook_abandon(w.wb);
	else {
		lxw_error e = workbook_close(w.wb);
		r = e == LXW_NO_ERROR ? 0 : xlsx_error(e);
	}
	buf_release(&w.fix);
	size_t len = out->len;
	if (r >= 0 && (r = file_read(path, out->max, out)) < 0 && out->cap) {
		out->len = len;  /* as it was */
		out->p[len] = '\0';
	}
	unlink(path);
	return r < 0 ? r : 0;
}
