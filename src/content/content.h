/*
 * content — merge-field templates (差し込み), the built-in scenario
 * gallery, and the HTML rewriting a training mail needs.
 *
 * Template syntax: {{姓}} {{名}} {{メールアドレス}} {{部署}} {{役職}} {{項目}}
 * {{項目2}} {{項目3}} {{URL}} {{送信元名}} {{送信元アドレス}} {{送信日}}
 * {{パスワード}} {{報告URL}}, and the English aliases {{last_name}}
 * {{first_name}} {{email}} {{department}} {{position}} {{field1}} {{field2}}
 * {{field3}} {{url}} {{sender_name}} {{sender_email}} {{send_date}}
 * {{password}} {{report_url}}.  Spaces inside the braces are allowed.
 * A filter "|url" ({{メールアドレス|url}}) percent-encodes the value before
 * the context's own escaping, for values placed inside a URL.
 */
#ifndef KUNREN_CONTENT_H
#define KUNREN_CONTENT_H

#include "core/core.h"

enum merge_field {
	MF_LAST_NAME, MF_FIRST_NAME, MF_EMAIL, MF_DEPARTMENT, MF_POSITION,
	MF_FIELD1, MF_FIELD2, MF_FIELD3, MF_URL, MF_SENDER_NAME, MF_SENDER_EMAIL,
	MF_SEND_DATE,
	MF_PASSWORD,    /* the target's password of a password zip (content_zip_password) */
	MF_REPORT_URL,  /* the target's report link <tracker>/r/<rid> (報告, a link, not a click) */
	MF__COUNT
};

/* Values by field; NULL renders as empty. Not owned. */
struct merge_vars {
	const char *v[MF__COUNT];
};

enum content_ctx {
	CONTENT_HTML,   /* & < > " ' escaped */
	CONTENT_TEXT,   /* as is */
	CONTENT_URL,    /* percent-encoded */
	CONTENT_HEADER, /* as is, but CR, LF and other controls become spaces */
};

/* Checks a template: every {{...}} names a known field, braces balance.
 * On error returns -EINVAL and *ret_err names the field and the byte offset
 * (caller frees). */
int content_template_check(struct slice tmpl, char **ret_err);
/* Renders tmpl into out with each value escaped for ctx.  Unknown fields
 * are an error (-EINVAL) as in content_template_check.  Appends; on error
 * out is left as it was.  CONTENT_HEADER scrubs the literal text too. */
int content_render(struct buf *out, struct slice tmpl, enum content_ctx ctx,
		   const struct merge_vars *vars);
/* Looks up a field name as written between the braces (Japanese or English,
 * ASCII case-insensitive, surrounding spaces allowed): 0 or -ENOENT. */
int content_field_lookup(struct slice name, enum merge_field *ret);
/* The password of a target's password zip ({{パスワード}}), from its rid. */
const char *content_zip_password(const char *rid, struct arena *a);
/* True when tmpl contains the field (scanning stops at the first error). */
bool content_template_uses(struct slice tmpl, enum merge_field field);

/* Copies html to out with the href of every <a> whose target is http(s)
 * or {{URL}}-rendered replaced by `click_url` (HTML-escaped) with l=i.n
 * — except links to the tracker's own report path (click_url's base with
 * /r/ for /c/: a rendered {{報告URL}}), which must stay report links —
 * added (link i of n, from 1), a hidden link (l=0.n) no person can see and
 * an invisible 1x1 <img src="open_url"> placed just before </body> (or at
 * the end).  Non-link content is untouched.  A NULL click_url leaves links
 * alone and adds no hidden link, a NULL open_url adds no image.  On error
 * out is left as it was. */
int content_html_track(struct buf *out, struct slice html, const char *click_url,
		       const char *open_url);

/* Whether a page's HTML declares a form control called name (a name
 * attribute with exactly that value, quoted or not, attribute name in any
 * case).  What the tracker keeps of a submitted form is only the names the
 * scenario's own page declares, so a page's script cannot smuggle the
 * typed values into the stored field names. */
bool content_html_declares_name(const char *html, const char *name);
/* Checks that html is well-formed for a scenario (html_check.c): tags
 * balance in proper nesting, except void elements and the end tags HTML
 * lets one leave out (p, li, dt, dd, option, optgroup, tr, td, th, thead,
 * tbody, tfoot, rt, rp, colgroup, html, head, body), implied as a browser
 * implies them; no tag, quoted attribute value, comment or raw-text element
 * (script, style, textarea, title) left open; at most 256 elements deep.
 * Merge fields are text.  Returns 0, or -EINVAL with *ret_err (caller
 * frees; ret_err may be NULL) such as "line 12: <span> closed by </div>,
 * expected </span> (opened on line 9)", "line 40: stray </div>" or
 * "line 7: attribute value not closed". */
int content_html_check(struct slice html, char **ret_err);

/* ---- the gallery (scenarios/ embedded in the binary) ---- */

struct red_flag {
	char *part;  /* "sender", "subject", "body", "link", "attachment" */
	char *text;
};

struct scenario {
	char *id;           /* folder name, e.g. "ja-parcel-redelivery" */
	char *name, *description;
	char *genre;        /* 社内業務連絡 社外/取引先 外部組織 通知系 その他 */
	char *type;         /* URLリンク型 添付ファイル型 複合型 */
	char *level;        /* 初級 中級 上級 */
	char *lang;         /* "ja" or "en" */
	char *subject, *html, *text;
	char *sender_name, *sender_local, *sender_domain;
	char *landing_html; /* data-entry page; NULL when the scenario has none */
	char *explain_html; /* 種明かし page */
	char *attachment_json; /* the attachment declaration (compact JSON), NULL for URLリンク型 */
	struct red_flag *red_flags;
	size_t nred_flags;
};

/* Checks an attachment declaration (docs/SCENARIOS.md): on error -EINVAL,
 * *ret_field the key at fault ("kind", "filename", "body", …; "" for the
 * object) and *ret_msg why (static strings). */
int content_attachment_check(json_t *o, const char **ret_field, const char **ret_msg);
/* Whether a declaration asks for a password or AES zip (its mail needs {{パスワード}}). */
bool content_attachment_password(const char *attachment_json);

/* Loads and validates every embedded scenarios/<id>/scenario.json once;
 * returns the count or a negative error with *ret_err naming the file. */
int content_gallery_load(char **ret_err);
size_t content_gallery_count(void);
const struct scenario *content_gallery_at(size_t i);
const struct scenario *content_gallery_find(const char *id);
/* Parses one scenario from its files (used by the gallery and by tests);
 * `read` fetches a file of the folder by name.  Caller frees with
 * content_scenario_free. */
int content_scenario_parse(const char *id,
			   int (*read)(void *ctx, const char *name, struct slice *ret), void *ctx,
			   struct scenario **ret, char **ret_err);
void content_scenario_free(struct scenario *s);

/* A plain-text part made from an HTML part (SPEC D3: regenerate the text
 * part): paragraphs and breaks kept, links as "text (URL)", entities
 * decoded, head/style/script dropped, merge fields untouched. */
int content_html_to_text(struct buf *out, struct slice html);

/* The mail a target received, for the explanation page (SPEC D8): from,
 * subject and the rendered HTML part (its links made inert, no beacon) in a
 * sandboxed frame, then the red flags with the part each is about. */
struct mail_review {
	const char *from, *subject, *html;  /* rendered for the target */
	const char *red_flags_json;         /* [{"part", "text"}] */
	const char *lang;                   /* "ja" or "en": the labels */
};
int content_mail_review(struct buf *out, const struct mail_review *m);

/* ---- merge values of one target (used by mails and landing pages) ---- */

struct campaign;
struct target;
/* Fills vars from the target's person fields, the campaign's sender, the
 * send date (in zone) and url, the target's click URL <tracker>/c/<rid>
 * (track_click_url); the report URL {{報告URL}} is made from it:
 * <tracker>/r/<rid>.  Strings live in `a`. */
void content_merge_vars(const struct campaign *c, const struct target *t, const char *url,
			const struct tz *zone, struct arena *a, struct merge_vars *ret);
/* The merge values of a made-up target (山田 太郎, 営業部 …) for previews
 * and sample files, made by content_merge_vars so that every field a real
 * mail gets has a sample too: {{URL}} is <tracker_url>/c/<rid>, {{報告URL}}
 * <tracker_url>/r/<rid>, {{パスワード}} the rid's zip password.  rid must
 * not be a real rid's length (e.g. "PREVIEW", "sample"): the tracker knows
 * no target by it, so following the sample links records nothing.
 * sender_name NULL or "": 情報システム部.  Strings live in `a` (sample.c). */
void content_sample_vars(const char *tracker_url, const char *rid, const char *sender_name,
			 struct arena *a, struct merge_vars *ret);

/* ---- documents (pdf.c) and education material (education.c, SPEC D9) ---- */

/* Appends a PDF 1.4 document (A4 portrait, 20 mm margins): the title in a
 * larger size, then each paragraph (UTF-8; a "\n" inside one breaks the
 * line) wrapped to the page width, on as many pages as needed.  Japanese and
 * English both show (the non-embedded font HeiseiKakuGo-W5 under
 * UniJIS-UCS2-H); characters outside the BMP become U+3013.  On error (the
 * buffer's cap) out is left as it was. */
int content_pdf_text(struct buf *out, const char *title, const char *const *paragraphs, size_t n);

/* The built-in education text of kind "before" (before a drill: how to spot
 * phishing) or "after" (after it: what happened, what to do next time) in
 * lang "ja" or "en"; paragraphs of the body are separated by blank lines.
 * Static strings; -EINVAL for an unknown kind or language. */
int content_education_default(const char *kind, const char *lang, const char **ret_title,
			      const char **ret_body);

#endif
