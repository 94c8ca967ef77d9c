/*
 * payload.c — the JSON bodies of webhook deliveries (docs/API.md,
 * "Webhooks").  An event carries what the console's target table shows of
 * it (api/campaigns.c event_json: kind, time, client, machine, reasons,
 * counted, fields/via/error) plus who and which campaign it is about, so a
 * receiver needs no second call.
 */
#include "webhook/webhook.h"
#include "report/report.h"

static json_t *iso(const struct tz *z, int64_t t)
{
	if (!t)
		return json_null();
	_cleanup_buf_ struct buf b = BUF_INIT(64);
	tz_put_iso(&b, z, t);
	return json_stringn(b.p, b.len);
}

/* A JSON string of s made valid UTF-8 (stored text from outside — a user
 * agent — must never make a payload unbuildable); null for NULL. */
static json_t *str_or_null(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	buf_put_utf8(&b, slice_from(s));
	return json_stringn(b.p, b.len);
}

json_t *webhook_event_payload(const char *delivery_id, const struct tz *zone, const struct campaign *c,
			      const struct target *t, const struct event *e)
{
	static const struct target none; /* the campaign's own events: no delivery time */
	const struct target *rt = t ? t : &none;
	/* whether it counts as seen when the event is sent: machine events
	 * excluded with the campaign's seconds rule, as the console's default;
	 * a link burst completed by a later click is not known yet */
	struct exclusion x = { .exclude = true, .seconds = c->exclusion_seconds };
	json_t *ev = json_pack("{s:I, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:b}", "id", (json_int_t)e->id,
			       "kind", event_kind_name(e->kind), "kind_label", report_event_label(e->kind), "at",
			       iso(zone, e->at_ms / 1000), "at_ms", (json_int_t)e->at_ms, "ip", str_or_null(e->ip),
			       "user_agent", str_or_null(e->user_agent), "os", str_or_null(e->os), "browser",
			       str_or_null(e->browser), "device", str_or_null(e->device), "machine",
			       report_event_is_machine(e, rt, x.seconds), "counted", report_event_counts(e, rt, &x));
	const char *codes[REPORT_REASONS];
	size_t nc = report_reason_codes(report_event_reasons(e, rt, x.seconds), codes);
	json_t *why = json_array();
	for (size_t i = 0; i < nc; i++)
		json_array_append_new(why, json_string(codes[i]));
	json_object_set_new(ev, "reasons", why);
	json_t *detail = e->detail ? json_loads(e->detail, 0, NULL) : NULL;
	static const char *const keep[] = { "fields", "via", "error" };
	for (size_t i = 0; detail && i < ARRAY_SIZE(keep); i++)
		if (json_object_get(detail, keep[i]))
			json_object_set(ev, keep[i], json_object_get(detail, keep[i]));
	json_decref(detail);

	json_t *who = json_null();
	if (t) {
		const char *last = t->p.f[PF_LAST_NAME], *first = t->p.f[PF_FIRST_NAME];
		_cleanup_free_ char *name = xasprintf("%s%s%s", last, last[0] && first[0] ? " " : "", first);
		who = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "id", (json_int_t)t->id, "email",
				str_or_null(t->p.f[PF_EMAIL]), "name", str_or_null(name), "last_name", str_or_null(last),
				"first_name", str_or_null(first), "department", str_or_null(t->p.f[PF_DEPARTMENT]),
				"position", str_or_null(t->p.f[PF_POSITION]), "is_test", t->p.is_test);
	}
	return json_pack("{s:s, s:s, s:I, s:o, s:{s:I, s:o}, s:o}", "delivery_id", delivery_id, "type", "event",
			 "tenant_id", (json_int_t)c->tenant_id, "event", ev, "campaign", "id", (json_int_t)c->id,
			 "name", str_or_null(c->name), "target", who);
}

json_t *webhook_ping_payload(const char *delivery_id, const struct tz *zone, const struct webhook *w, int64_t now)
{
	return json_pack("{s:s, s:s, s:I, s:{s:I, s:s}, s:o, s:s}", "delivery_id", delivery_id, "type", "ping",
			 "tenant_id", (json_int_t)w->tenant_id, "webhook", "id", (json_int_t)w->id, "url", w->url, "at",
			 iso(zone, now), "message", "Kunren webhook test / Kunren Webhook のテスト送信です");
}

bool webhook_event_is_history(const struct event *e, int64_t now_ms)
{
	return e->at_ms < now_ms - WEBHOOK_HISTORY_MS;
}

bool webhook_wants(const char *kinds_json, enum event_kind k)
{
	json_auto_t *a = kinds_json ? json_loads(kinds_json, 0, NULL) : NULL;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return true;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), event_kind_name(k)))
			return true;
	return false;
}
