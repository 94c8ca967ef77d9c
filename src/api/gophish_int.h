/* gophish.c's parsers of what GoPhish clients send, for its fuzz target
 * (tests/fuzz/gophish_api.c). */
#ifndef KUNREN_API_GOPHISH_INT_H
#define KUNREN_API_GOPHISH_INT_H

#include "core/core.h"

/* A sender "Name <local@domain>", "<local@domain>" or "local@domain" (the
 * template's envelope_sender, an SMTP from_address): false unless it holds
 * one valid address and a one-line name; the parts (the address
 * normalised) live in a. */
bool api__gp_sender(struct arena *a, const char *from, const char **ret_name, const char **ret_local,
		    const char **ret_domain);
/* from as a sending profile's from_address (profiles.c; GoPhish's SMTP
 * from_address): "Name <local@domain>" or "local@domain" with the address
 * normalised by api__gp_sender, "" for an empty or blank from; NULL when
 * from is not an address. */
const char *api__sender_normalise(struct arena *a, const char *from);
/* An SMTP "host:port", "[v6]:port" or bare host (port 25): the host part
 * (a slice of in, brackets removed) and the port; -EINVAL when malformed,
 * -ERANGE for a port outside 1..65535. */
int api__gp_host(struct slice in, struct slice *ret_host, int64_t *ret_port);
/* Kunren's merge fields in GoPhish's names ({{url}} -> {{.URL}}, ...);
 * fields without a GoPhish name stay as they are.  In a; NULL when full. */
const char *api__gp_out(struct arena *a, const char *s);

#endif
