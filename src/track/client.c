/*
 * client.c — who the client is.  The peer address, unless the peer is one
 * of the configured trusted proxies (trusted_proxies): then the proxies'
 * X-Forwarded-For is believed, walked from the right (the hop nearest to
 * us) past every trusted address; the first untrusted one is the client.
 * Anything left of it was written by the client itself and is never
 * believed.  A malformed entry ends the walk: the last address believed so
 * far (a trusted proxy) is the best we know.
 */
#include "track/track.h"
#include "track/track_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define XFF_MAX_HOPS 32

/* A numeric IPv4 or IPv6 address; IPv4-mapped IPv6 is taken as IPv4. */
static bool addr_parse(struct slice s, int *family, unsigned char *addr)
{
	char text[INET6_ADDRSTRLEN + 1];
	s = slice_trim(s);
	if (s.len && s.p[0] == '[' && s.p[s.len - 1] == ']') /* "[::1]" */
		s = (struct slice){ s.p + 1, s.len - 2 };
	if (s.len == 0 || s.len >= sizeof(text))
		return false;
	memcpy(text, s.p, s.len);
	text[s.len] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	struct in6_addr v6;
	if (inet_pton(AF_INET6, text, &v6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&v6)) {
		*family = AF_INET;
		memcpy(addr, &v6.s6_addr[12], 4);
	} else {
		*family = AF_INET6;
		memcpy(addr, &v6, 16);
	}
	return true;
}

int track__proxies_parse(const char *spec, struct track_net **ret, size_t *ret_n, char **ret_err)
{
	struct slice rest = slice_from(spec ? spec : ""), item;
	struct track_net *nets = NULL;
	size_t n = 0;
	while (rest.len) {
		rest = slice_cut(rest, ',', &item);
		item = slice_trim(item);
		if (!item.len)
			continue;
		struct track_net net = { 0 };
		struct slice host, bits = slice_cut(item, '/', &host);
		bool has_bits = memchr(item.p, '/', item.len) != NULL;
		int64_t b = -1;
		bool ok = addr_parse(host, &net.family, net.addr);
		unsigned max = net.family == AF_INET ? 32 : 128;
		if (ok && has_bits)
			ok = slice_to_i64(slice_trim(bits), 0, max, &b) == 0;
		if (!ok) {
			free(nets);
			if (ret_err)
				*ret_err = xasprintf("trusted_proxies: \"%.*s\" is not an IPv4 or IPv6 address or "
						     "CIDR range (e.g. 10.0.0.1, 192.168.0.0/16, 2001:db8::/32)",
						     (int)item.len, item.p);
			return -EINVAL;
		}
		net.bits = has_bits ? (unsigned)b : max;
		nets = xrealloc(nets, st_mult(n + 1, sizeof(*nets)));
		nets[n++] = net;
	}
	*ret = nets;
	*ret_n = n;
	return 0;
}

static bool net_has(const struct track_net *net, int family, const unsigned char *addr)
{
	if (net->family != family)
		return false;
	unsigned full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->addr, addr, full))
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr[full] & mask);
}

static bool trusted(const struct track *t, int family, const unsigned char *addr)
{
	for (size_t i = 0; i < t->nproxies; i++)
		if (net_has(&t->proxies[i], family, addr))
			return true;
	return false;
}

/* The canonical text of an address (arena). */
static const char *addr_text(struct arena *a, int family, const unsigned char *addr)
{
	char text[INET6_ADDRSTRLEN];
	if (!inet_ntop(family, addr, text, sizeof(text)))
		return NULL;
	return arena_strdup(a, text);
}

const char *track__xff_client(const struct track *t, const char *peer, const char *xff, struct arena *a)
{
	int family;
	unsigned char addr[16];
	if (!t->nproxies || !peer || !xff || !addr_parse(slice_from(peer), &family, addr) || !trusted(t, family, addr))
		return peer;
	/* Walk from the right: each hop appended the address it saw. */
	struct slice rest = slice_from(xff);
	const char *best = peer;
	for (int hops = 0; rest.len && hops < XFF_MAX_HOPS; hops++) {
		const char *comma = memrchr(rest.p, ',', rest.len);
		struct slice item = comma ? (struct slice){ comma + 1, (size_t)(rest.p + rest.len - comma - 1) } : rest;
		rest.len = comma ? (size_t)(comma - rest.p) : 0;
		if (!addr_parse(item, &family, addr))
			return best;
		const char *text = addr_text(a, family, addr);
		if (!text)
			return best;
		if (!trusted(t, family, addr))
			return text;
		best = text;
	}
	/* Every hop is a trusted proxy: the left-most one is as far as we see. */
	return best;
}

const char *track__client_ip(const struct track *t, struct http_request *req)
{
	if (!t->nproxies)
		return req->remote_ip;
	return track__xff_client(t, req->remote_ip, http_header_all(req, "X-Forwarded-For"), req->arena);
}
