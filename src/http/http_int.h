/*
 * http_int.h — what the files of http/ share and nobody else sees: the TLS
 * credentials of a listener (tls.c), used by the daemon (server.c).
 */
#ifndef KUNREN_HTTP_INT_H
#define KUNREN_HTTP_INT_H

#include "http/http.h"

#include <microhttpd.h>

/*
 * A listener's certificate chain and private key, read from PEM files and
 * handed to GnuTLS at each handshake.  Reloading swaps in a new pair for
 * the handshakes that follow; a pair replaced while connections still use
 * it is freed when the last of them closes (docs/internals/HTTP.md, "TLS").
 */
struct http_tls;

/* Reads both files.  NULL on failure with *ret_err naming the file (caller
 * frees).  Warns (log) when the key file is readable by every user. */
struct http_tls *http__tls_new(const char *cert_path, const char *key_path, char **ret_err);
/* Only after the daemon using it has stopped.  NULL is a no-op. */
void http__tls_free(struct http_tls *t);
/* Reads the files again; on failure the current pair stays. */
int http__tls_reload(struct http_tls *t, char **ret_err);

/* The MHD options a TLS daemon needs (certificate callback, connection
 * tracking, protocol versions), written to o, then MHD_OPTION_END. */
#define HTTP_TLS_OPTIONS 4
void http__tls_options(struct http_tls *t, struct MHD_OptionItem o[HTTP_TLS_OPTIONS]);

/* server.c: the Location of a redirecting server (redirect_base) for a
 * request target as received; appended to b (-E2BIG past its cap). */
int http__redirect_location(struct buf *b, const char *base, const char *target);

#endif
