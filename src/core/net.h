/*
 * net — rules about network addresses shared by the modules that connect
 * where a tenant's settings say (mail/imap.c for report mailboxes,
 * webhook/ for webhook URLs).  Include <sys/socket.h> for struct sockaddr.
 */
#ifndef KUNREN_NET_H
#define KUNREN_NET_H

#include <stdbool.h>

struct sockaddr;

/*
 * Loopback, private (RFC 1918, fc00::/7), link-local, CGNAT, unspecified,
 * multicast and the IETF and benchmark blocks: where a tenant's settings
 * must not make this server connect (its own services, the cloud's metadata
 * address).  An IPv6 address that carries an IPv4 one — v4-mapped,
 * v4-compatible, NAT64 (64:ff9b::/96; the local-use 64:ff9b:1::/48 always,
 * it is the site's own translator) and 6to4 (2002::/16) — is judged by the
 * IPv4 address it reaches.  Any other family (unix sockets): true.
 * Options report_imap_allow_private and webhook_allow_private lift it.
 */
bool net_address_private(const struct sockaddr *sa);

#endif
