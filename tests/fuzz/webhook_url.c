/*
 * libFuzzer target for what a tenant gives as a webhook (src/webhook/):
 * the URL check (webhook_url_valid, libcurl's URL parser plus our rules)
 * and the kinds filter (webhook_wants, a JSON array).  Invariants: no
 * crash, no leak; a URL accepted without allow_private is accepted with it;
 * an accepted URL is http(s), at most WEBHOOK_URL_MAX bytes, free of
 * control characters and spaces; every kind is wanted by "[]".
 */
#include "webhook/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	const char *msg = NULL;
	bool strict = webhook_url_valid(s, false, &msg), lax = webhook_url_valid(s, true, &msg);
	BUG_ON(strict && !lax);
	if (lax) {
		BUG_ON(strlen(s) > WEBHOOK_URL_MAX);
		BUG_ON(strncasecmp(s, "http", 4) != 0);
		for (const char *c = s; *c; c++)
			BUG_ON((unsigned char)*c <= 0x20 || *c == 0x7f);
	} else {
		BUG_ON(!msg);
	}
	for (int k = 0; k < EV__COUNT; k++) {
		(void)webhook_wants(s, (enum event_kind)k);
		BUG_ON(!webhook_wants("[]", (enum event_kind)k));
	}
	free(s);
	return 0;
}
