/* sample.c — the merge values of a made-up target, for previews and sample files. */
#include "content/content.h"
#include "store/store.h"

/* 2026-11-27 03:00 UTC, read in UTC (tz_get("UTC") is built in, never
 * NULL): the sample's {{送信日}} is always 2026年11月27日, as it was. */
#define SAMPLE_SENT_AT INT64_C(1795748400)

void content_sample_vars(const char *tracker_url, const char *rid, const char *sender_name,
			 struct arena *a, struct merge_vars *ret)
{
	struct campaign c = {
		.sender_name = sender_name && *sender_name ? sender_name : "情報システム部",
		.sender_local = "it",
		.sender_domain = "example.co.jp",
	};
	struct target t = { .rid = rid, .sent_at = SAMPLE_SENT_AT };
	t.p.f[PF_LAST_NAME] = "山田";
	t.p.f[PF_FIRST_NAME] = "太郎";
	t.p.f[PF_EMAIL] = "taro.yamada@example.co.jp";
	t.p.f[PF_DEPARTMENT] = "営業部";
	t.p.f[PF_POSITION] = "課長";
	t.p.f[PF_FIELD1] = "勤続10年";
	t.p.f[PF_FIELD2] = "本社";
	t.p.f[PF_FIELD3] = "正社員";
	/* Through content_merge_vars: a field added there gets its sample here. */
	content_merge_vars(&c, &t, arena_printf(a, "%s/c/%s", tracker_url ? tracker_url : "", rid),
			   tz_get("UTC"), a, ret);
}
