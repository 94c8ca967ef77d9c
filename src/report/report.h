/*
 * report — what the events mean: each target's status and first/last times
 * (SPEC F3), campaign counts and rates (G1), and the result CSVs (G3, G6).
 * Whether an event counts is decided in one place, report_event_counts(),
 * so the machine-event rules (F6) plug in there.
 */
#ifndef KUNREN_REPORT_H
#define KUNREN_REPORT_H

#include "core/core.h"
#include "core/csv.h" /* enum csv_encoding, csv_encode */
#include "store/store.h"

/* A target's status, lowest to highest (SPEC F3). */
enum target_status {
	STATUS_PENDING, STATUS_SEND_ERROR, STATUS_SENT, STATUS_OPENED, STATUS_FILE_OPENED,
	STATUS_CLICKED, STATUS_SUBMITTED,
	STATUS__COUNT
};
const char *report_status_name(enum target_status st);     /* API: "opened" */
const char *report_status_label(enum target_status st);    /* CSV: "メール開封" */
const char *report_event_label(enum event_kind k);         /* CSV: "リンククリック" */
int report_status_parse(const char *s, enum target_status *ret);

/*
 * The exclusion switch (F6).  An event is a machine event when it has a
 * reason: one of the signals stored with it at ingest (enum event_signal)
 * or REASON_FAST, the seconds rule applied when read (a reaction within
 * `seconds` of the target's delivery).  Probes (EVS_PROBES) never count,
 * whatever the switch; other machine events do not count when `exclude` is
 * set and count when it is not.  docs/internals/REPORT.md has the table.
 */
struct exclusion {
	bool exclude;
	int64_t seconds;
};
#define REASON_FAST (1u << 31)
/* Reasons that alone make no machine event, only shown beside the others:
 * a click with no open before it is what every person whose mail client
 * blocks images makes (Outlook's default), so it is a hint, not proof. */
#define REPORT_HINTS EVS_NO_OPEN
/* The reasons of e (EVS_* bits and REASON_FAST); 0 for a person's event.
 * It is a machine event when it has one besides REPORT_HINTS. */
uint32_t report_event_reasons(const struct event *e, const struct target *t, int64_t seconds);
bool report_event_is_machine(const struct event *e, const struct target *t, int64_t seconds);
bool report_event_counts(const struct event *e, const struct target *t, const struct exclusion *x);
/* The codes of the reasons ("head", "options", "scanner_ua", "hidden_link",
 * "link_burst", "shared_ip", "no_open", "fast"), in that order, into ret
 * (room for REPORT_REASONS); returns how many.  Japanese labels likewise. */
#define REPORT_REASONS 8
size_t report_reason_codes(uint32_t reasons, const char **ret);
size_t report_reason_labels(uint32_t reasons, const char **ret);
/* The labels joined with "、" into buf (イベント.csv, the xlsx イベント sheet). */
const char *report_reasons_text(uint32_t reasons, char *buf, size_t size);
/* The 機械判定 column's value for a machine event. */
#define REPORT_MACHINE_LABEL "機械"
/* Settles the signals of one target's events (ordered by time) that depend
 * on later events: every click within EVS_BURST_MS before a click with
 * EVS_LINK_BURST was part of the burst and gets EVS_LINK_BURST too (the
 * tracker can only tell on the click that completes it).  The readers of
 * this module call it on every target's events; store_campaign_reach and
 * store_event_histogram apply the same rule in SQL. */
void report_settle_signals(struct event *ev, size_t n);

struct target_summary {
	enum target_status status;
	int64_t count[EV__COUNT];
	int64_t first_ms[EV__COUNT], last_ms[EV__COUNT]; /* 0 when none */
};
/* ev: that target's events (any order). */
void report_summarize(const struct target *t, const struct event *ev, size_t n, const struct exclusion *x,
		      struct target_summary *ret);

struct campaign_counts {
	int64_t targets, sent, errors, opened, clicked, file_opened, submitted, reported;
};

/* Walks every target of a campaign with its events, in target order.
 * fn returns < 0 to stop (that value is returned). */
typedef int (*report_target_fn)(void *ctx, const struct target *t, const struct event *ev, size_t n,
				const struct target_summary *sum);
int report_each_target(struct store *s, const struct campaign *c, const struct exclusion *x,
		       report_target_fn fn, void *ctx);

int report_campaign_counts(struct store *s, const struct campaign *c, const struct exclusion *x,
			   struct campaign_counts *ret);

/* 訓練結果.csv (SPEC G3): one row per target, CRLF, times in the zone. */
int report_results_csv(struct store *s, const struct campaign *c, const struct tz *zone,
		       const struct exclusion *x, enum csv_encoding enc, struct buf *out);

/* ---- dashboards and downloads (issue 8) ---- */

/* Distinct targets per value of one person field (部署, 役職, 項目1-3),
 * largest group first; value "" is the group of targets without one. */
struct breakdown_row {
	const char *value;
	struct campaign_counts counts;
};
int report_breakdown(struct store *s, const struct campaign *c, const struct exclusion *x, enum person_field by,
		     struct arena *a, struct breakdown_row **ret, size_t *ret_n);

/* Events per time bucket (an hour, or a day for campaigns longer than three
 * days), from launch to the last event. */
struct timeline_row {
	int64_t at;                /* bucket start, unix seconds */
	int64_t n[EV__COUNT];
};
int report_timeline(struct store *s, const struct campaign *c, const struct exclusion *x, struct arena *a,
		    int64_t *ret_bucket_seconds, struct timeline_row **ret, size_t *ret_n);

/* イベント.csv (SPEC G4): the 訓練作成 row first, then every counted event. */
int report_events_csv(struct store *s, const struct campaign *c, const struct tz *zone,
		      const struct exclusion *x, enum csv_encoding enc, struct buf *out);

/* Per address over several campaigns of one tenant (SPEC G5, G8): the
 * campaigns are taken in launch order, the person fields come from the last
 * one the address was in, addresses in order of first appearance. */
struct tally {
	struct person p;
	int64_t events[EV__COUNT];      /* counted events */
	int64_t campaigns, clicked_in;  /* campaigns it was a target of / clicked in */
};
int report_tally(struct store *s, const struct campaign *c, size_t n, bool exclude, struct arena *a,
		 struct tally **ret, size_t *ret_n);
/* 訓練結果(累計).csv (SPEC G5). */
int report_cumulative_csv(struct store *s, const struct campaign *c, size_t n, bool exclude,
			  enum csv_encoding enc, struct buf *out);
/* Seconds from launch to the campaign's first counted 報告, or -1. */
int report_first_report(struct store *s, const struct campaign *c, bool exclude, int64_t *ret);

/* The counts target by target in C (report_each_target): what the SQL of
 * report_campaign_counts must agree with; for tests. */
int report__counts_slow(struct store *s, const struct campaign *c, const struct exclusion *x,
			struct campaign_counts *ret);

/* 報告書 report.xlsx (SPEC G2), built with libxlsxwriter: サマリー with charts,
 * 部署別, 役職別, 訓練対象者, イベント (layout in docs/internals/REPORT.md).
 * On failure out is left as it was. */
int report_workbook(struct store *s, const struct campaign *c, const struct tz *zone,
		    const struct exclusion *x, struct buf *out);

#endif
