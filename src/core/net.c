/* net.c — the private-address rule (net.h); moved here from mail/imap.c so
 * the IMAP poller and the webhook sender apply one rule. */
#include "core/core.h"
#include "core/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

bool net_address_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 || (a >> 16) == 0xa9fe ||
		       (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 || (a >> 22) == (100u << 2 | 1) ||
		       (a >> 8) == 0xc00000 /* 192.0.0.0/24 */ || (a >> 17) == (0xc612u >> 1) /* 198.18/15 */ ||
		       (a >> 28) >= 0xe;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
		static const uint8_t nat64_local[6] = { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 };
		const uint8_t *v4 = NULL;
		if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a) || !memcmp(a->s6_addr, nat64, 12))
			v4 = &a->s6_addr[12];
		else if (a->s6_addr[0] == 0x20 && a->s6_addr[1] == 0x02)
			v4 = &a->s6_addr[2];
		if (v4) {
			struct sockaddr_in sin = { .sin_family = AF_INET };
			memcpy(&sin.sin_addr, v4, 4);
			return net_address_private((const struct sockaddr *)&sin);
		}
		return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
		       IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) || (a->s6_addr[0] & 0xfe) == 0xfc ||
		       !memcmp(a->s6_addr, nat64_local, 6);
	}
	return true; /* anything else (unix sockets): never */
}
