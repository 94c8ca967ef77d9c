/*
 * review.c — the mail a target received, shown again on the explanation
 * page (種明かし) with its red flags beside it (SPEC D8).  The mail's links
 * are made inert and no open beacon is added, so looking at it records
 * nothing; its HTML is shown in a sandboxed frame.
 */
#include "content/content.h"

#include <strings.h>

static const char *part_label(const char *part, bool en)
{
	static const struct { const char *part, *ja, *en; } labels[] = {
		{ "sender", "差出人", "Sender" }, { "subject", "件名", "Subject" }, { "body", "本文", "Body" },
		{ "link", "リンク", "Link" }, { "attachment", "添付ファイル", "Attachment" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++)
		if (!strcmp(part, labels[i].part))
			return en ? labels[i].en : labels[i].ja;
	return part;
}

int content_mail_review(struct buf *out, const struct mail_review *m)
{
	bool en = m->lang && !strcmp(m->lang, "en");
	_cleanup_buf_ struct buf inert = BUF_INIT(out->max), frame = BUF_INIT(out->max);
	int r = content_html_track(&inert, slice_from(m->html), "#", NULL);
	if (r < 0)
		return r;
	json_error_t err;
	json_auto_t *flags = json_loads(m->red_flags_json ? m->red_flags_json : "[]", 0, &err);

	buf_puts(&frame, "<section class=\"kunren-review\" style=\"max-width:760px;margin:32px auto;padding:0 16px;"
			 "font-family:sans-serif;color:#1f2933\"><h2 style=\"font-size:20px\">");
	buf_puts(&frame, en ? "The mail you received" : "あなたが受け取ったメール");
	buf_puts(&frame, "</h2><table style=\"border-collapse:collapse;width:100%;font-size:14px\">");
	const char *rows[][2] = { { en ? "From" : "差出人", m->from }, { en ? "Subject" : "件名", m->subject } };
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		buf_puts(&frame, "<tr><th style=\"text-align:left;padding:4px 8px;width:6em;color:#52606d\">");
		buf_put_html(&frame, slice_from(rows[i][0]));
		buf_puts(&frame, "</th><td style=\"padding:4px 8px\">");
		buf_put_html(&frame, slice_from(rows[i][1]));
		buf_puts(&frame, "</td></tr>");
	}
	buf_puts(&frame, "</table><iframe sandbox=\"\" title=\"mail\" style=\"width:100%;height:420px;"
			 "border:1px solid #cbd2d9;border-radius:6px;margin:12px 0\" srcdoc=\"");
	buf_put_html(&frame, buf_slice(&inert));
	buf_puts(&frame, "\"></iframe><h3 style=\"font-size:17px\">");
	buf_puts(&frame, en ? "What gave it away" : "見抜くポイント");
	buf_puts(&frame, "</h3><ol style=\"padding-left:1.4em;line-height:1.7\">");
	for (size_t i = 0; json_is_array(flags) && i < json_array_size(flags); i++) {
		json_t *f = json_array_get(flags, i);
		const char *part = json_string_value(json_object_get(f, "part"));
		const char *text = json_string_value(json_object_get(f, "text"));
		if (!part || !text)
			continue;
		buf_puts(&frame, "<li><strong style=\"display:inline-block;min-width:5em;color:#b42318\">");
		buf_put_html(&frame, slice_from(part_label(part, en)));
		buf_puts(&frame, "</strong> ");
		buf_put_html(&frame, slice_from(text));
		buf_puts(&frame, "</li>");
	}
	if ((r = buf_puts(&frame, "</ol></section>")) < 0)
		return r;
	return buf_put_slice(out, buf_slice(&frame));
}
