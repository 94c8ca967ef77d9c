/*
 * Fuzz target for src/track/signals.c: the outside input it reads is the
 * click URL's l value and the User-Agent.  The input is split at the first
 * NUL into l and a user agent, and drives a run of hits on a few targets
 * and clients; besides "no crash, no leak, no UB" it checks that only
 * known bits come back, that the method bits are exactly the method, and
 * that link signals are only ever given to clicks.
 */
#include "track/signals.h"

#define KNOWN (EVS_HEAD | EVS_OPTIONS | EVS_SCANNER_UA | EVS_HIDDEN_LINK | EVS_LINK_BURST | EVS_SHARED_IP | \
	       EVS_NO_OPEN)

static struct track_signals *signals;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!signals)
		signals = track_signals_new(); /* kept across runs: history is part of the state */
	_cleanup_free_ char *in = xmalloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	const char *l = in, *ua = strlen(in) < size ? in + strlen(in) + 1 : NULL;
	for (int i = 0; i < 24; i++) {
		struct track_hit h = {
			.campaign_id = 1 + i % 2, .target_id = i % 5, .kind = i % 3 ? EV_CLICKED : EV_OPENED,
			.at_ms = 1000 + (int64_t)i * 97, .ip = i % 4 ? "192.0.2.1" : "2001:db8::1",
			.user_agent = i % 7 ? ua : NULL, .head = i % 11 == 0, .options = i % 13 == 0,
			.link = i % 3 ? l : NULL,
		};
		uint32_t s = track_signals_note(signals, &h);
		BUG_ON(s & ~KNOWN);
		BUG_ON(!!(s & EVS_HEAD) != h.head || !!(s & EVS_OPTIONS) != h.options);
		BUG_ON(h.kind != EV_CLICKED && (s & (EVS_HIDDEN_LINK | EVS_LINK_BURST | EVS_NO_OPEN)));
	}
	return 0;
}
