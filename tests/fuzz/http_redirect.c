/*
 * Fuzz target for http__redirect_location() (src/http/server.c): the
 * Location a tracker_redirect_listen answer builds from a request target
 * as received.  It must start with the base, keep a path, and hold only
 * printable ASCII without spaces (a header value MHD accepts).
 */
#include "http/http_int.h"

#define BASE "https://tracker.example:8443"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *target = xstrndup((const char *)data, size); /* MHD gives a C string */
	struct buf b;

	buf_init(&b, 0);
	BUG_ON(http__redirect_location(&b, BASE, target) < 0);
	BUG_ON(strncmp(b.p, BASE "/", sizeof(BASE)) != 0);
	BUG_ON(b.len > sizeof(BASE) + 3 * strlen(target));
	for (size_t i = 0; i < b.len; i++)
		BUG_ON((unsigned char)b.p[i] <= 0x20 || (unsigned char)b.p[i] >= 0x7f);
	buf_release(&b);
	free(target);
	return 0;
}
