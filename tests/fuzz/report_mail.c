/*
 * libFuzzer target for the report-mailbox rid finder (mail_report_scan):
 * whatever people forward to the report address.  Invariants: no crash, no
 * leak, at most MAIL_REPORT_MAX_RIDS rids, each exactly RID_LEN characters
 * of [A-Za-z0-9] and each once, and the header fields valid UTF-8.
 */
#include "mail/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool rid_ok(const char *r)
{
	if (strlen(r) != RID_LEN)
		return false;
	for (const char *c = r; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new((size_t)64 << 20);
	struct mail_report m;

	/* the tracker of the seeds, and one with a base path */
	static const char *const trackers[] = { "http://127.0.0.1:8080", "https://track.example.jp/t" };
	for (size_t t = 0; t < ARRAY_SIZE(trackers); t++) {
		if (mail_report_scan((struct slice){ (const char *)data, size }, trackers[t], a, &m) < 0)
			continue;
		BUG_ON(m.nrids > MAIL_REPORT_MAX_RIDS);
		for (size_t i = 0; i < m.nrids; i++) {
			BUG_ON(!rid_ok(m.rids[i]));
			for (size_t j = 0; j < i; j++)
				BUG_ON(!strcmp(m.rids[i], m.rids[j]));
		}
		BUG_ON(!m.message_id || !utf8_valid(m.message_id, strlen(m.message_id)));
		BUG_ON(!m.from || !utf8_valid(m.from, strlen(m.from)));
	}
	arena_free(a);
	return 0;
}
