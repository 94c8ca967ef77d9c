/*
 * Fuzz target for the query and form parsers in src/http/request.c:
 * http_url_decode() in both modes and http_form_each() on a request that has
 * an arena but no connection.
 */
#include "http/http.h"

/* Every pair the parser reports must be a C string within the input's size. */
static int check_pair(void *ctx, const char *name, const char *value)
{
	size_t max = *(size_t *)ctx;
	BUG_ON(!name || !value);
	BUG_ON(strlen(name) > max || strlen(value) > max);
	return 0;
}

/* A decoded string re-encoded with buf_put_url decodes to itself. */
static void check_round_trip(struct arena *a, const char *decoded)
{
	struct buf enc;
	buf_init(&enc, 0);
	BUG_ON(buf_put_url(&enc, slice_from(decoded)) < 0);
	const char *again = http_url_decode(a, buf_slice(&enc), true);
	BUG_ON(!again || strcmp(again, decoded) != 0);
	buf_release(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = { (const char *)data, size };
	struct http_request req = { .arena = arena_new((size_t)4 << 20) };

	for (int plus = 0; plus < 2; plus++) {
		const char *d = http_url_decode(req.arena, in, plus);
		if (d) {
			BUG_ON(strlen(d) > size);
			check_round_trip(req.arena, d);
		}
	}
	int r = http_form_each(&req, in, check_pair, &size);
	BUG_ON(r < 0 && r != -EINVAL && r != -E2BIG && r != -ENOMEM);
	arena_free(req.arena);
	return 0;
}
