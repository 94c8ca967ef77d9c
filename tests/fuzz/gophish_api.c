/*
 * Fuzz target for api/gophish.c's parsers of what GoPhish clients send
 * (gophish_int.h).  The first byte picks one; the rest is its input.
 * Besides "no crash, no leak" it checks:
 * - api__gp_host: the host is a part of the input and the port in 1..65535;
 * - api__gp_sender: an accepted sender has a local part, a domain and a
 *   one-line name, and its address alone is accepted again, unchanged;
 *   api__sender_normalise's form of it is accepted and normalised again
 *   unchanged;
 * - api__gp_out: for a text Kunren accepts, GoPhish's names converted back
 *   with gophish_template_convert (what POST /api/templates/ does) drop
 *   nothing and pass content_template_check again.
 */
#include "api/gophish_int.h"
#include "content/content.h"
#include "gophish/gophish.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "failed: %s\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	struct arena *a = arena_new((size_t)16 << 20);
	char *in = arena_strndup(a, (const char *)data + 1, size - 1);
	CHECK(in);
	switch (data[0] % 3) {
	case 0: {
		struct slice host;
		int64_t port;
		if (api__gp_host(slice_from(in), &host, &port) == 0) {
			CHECK(port >= 1 && port <= 65535);
			CHECK(host.p >= in && host.p + host.len <= in + strlen(in));
		}
		break;
	}
	case 1: {
		const char *name, *local, *domain, *n2, *l2, *d2;
		if (memchr(data + 1, 0, size - 1) || !api__gp_sender(a, in, &name, &local, &domain))
			break;
		CHECK(local[0] && domain[0] && !strpbrk(name, "\r\n"));
		const char *addr = arena_printf(a, "%s@%s", local, domain);
		CHECK(addr && api__gp_sender(a, addr, &n2, &l2, &d2));
		CHECK(!strcmp(l2, local) && !strcmp(d2, domain) && !n2[0]);
		/* a profile's from_address: accepted again, unchanged */
		const char *norm = api__sender_normalise(a, in);
		CHECK(norm && norm[0]);
		const char *again = api__sender_normalise(a, norm);
		CHECK(again && !strcmp(again, norm));
		break;
	}
	default: {
		const char *out = api__gp_out(a, in), *back, *dropped;
		CHECK(out);
		if (!utf8_valid(in, strlen(in)) || content_template_check(slice_from(in), NULL) < 0)
			break;
		CHECK(gophish_template_convert(slice_from(out), a, &back, &dropped) == 0);
		CHECK(!dropped[0]);
		CHECK(content_template_check(slice_from(back), NULL) == 0);
		break;
	}
	}
	arena_free(a);
	return 0;
}
