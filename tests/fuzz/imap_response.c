/*
 * libFuzzer target for what an IMAP server answers the report-mailbox
 * poller (src/mail/imap.c): the UID SEARCH answer (mail_imap__search_parse)
 * and the STATUS answer (mail_imap__status_uidvalidity).  The server is the
 * tenant's choice, so it is outside input.  Invariants: no crash, no leak,
 * every UID above the place asked for and at most `max` of them, the same
 * UIDs with and without a cap (a prefix), and a UIDVALIDITY only in
 * 1..2^32-1.  The first 16 bytes also go through the address classifier as
 * an IPv6 address: it must judge a v4-mapped address as its IPv4 one.
 */
#include "mail/mail.h"
#include "core/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = { (const char *)data, size };
	uint32_t after = 0;
	/* the place: from the first 4 bytes when they are there (ignored by
	 * the parsers' text anyway: they are rarely digits) */
	if (size >= 4)
		memcpy(&after, data, 4);
	after %= 1000;

	uint32_t *all = NULL, *some = NULL;
	size_t nall = 0, nsome = 0;
	mail_imap__search_parse(in, after, SIZE_MAX, &all, &nall);
	mail_imap__search_parse(in, after, 3, &some, &nsome);
	BUG_ON(nsome > 3 || nsome > nall);
	for (size_t i = 0; i < nall; i++)
		BUG_ON(all[i] <= after);
	for (size_t i = 0; i < nsome; i++)
		BUG_ON(some[i] != all[i]);
	free(all);
	free(some);

	uint32_t v = 0;
	if (mail_imap__status_uidvalidity(in, &v) == 0)
		BUG_ON(v == 0);

	if (size >= 16) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
		memcpy(&a6.sin6_addr, data, 16);
		(void)net_address_private((const struct sockaddr *)&a6);
		struct sockaddr_in a4 = { .sin_family = AF_INET };
		memcpy(&a4.sin_addr, data, 4);
		struct sockaddr_in6 m6 = { .sin6_family = AF_INET6 };
		m6.sin6_addr.s6_addr[10] = m6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m6.sin6_addr.s6_addr[12], data, 4);
		BUG_ON(net_address_private((const struct sockaddr *)&a4) !=
		       net_address_private((const struct sockaddr *)&m6));
	}
	return 0;
}
