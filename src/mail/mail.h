/*
 * mail — building training mails (MIME, RFC 2047), sending them (SMTP via
 * libcurl, or .eml files in an outbox folder when no relay is configured),
 * and reading simple messages back (the console's Outbox; later IMAP reports).
 */
#ifndef KUNREN_MAIL_H
#define KUNREN_MAIL_H

#include "core/core.h"

/* A file the message carries (multipart/mixed around the text parts). */
struct mail_attachment {
	const char *filename;     /* UTF-8, no control characters */
	const char *content_type; /* "application/pdf"; a token/token MIME type */
	struct slice data;
};

struct mail_message {
	const char *from_name;    /* UTF-8 display name, may be NULL/empty */
	const char *from_addr;    /* local@domain */
	const char *to_name;      /* may be NULL/empty */
	const char *to_addr;
	const char *reply_to;     /* may be NULL */
	const char *subject;      /* UTF-8 */
	const char *text;         /* text/plain part, UTF-8 */
	const char *html;         /* text/html part, UTF-8; NULL: text only */
	int64_t date;             /* unix seconds, for the Date header */
	const struct tz *tz;      /* zone of the Date header */
	const char *id_domain;    /* right side of the Message-ID */
	const char *const *extra_headers; /* NULL-terminated name, value pairs; may be NULL */
	const struct mail_attachment *attachments;
	size_t nattachments;
};

/*
 * Appends a complete RFC 5322 message (CRLF line ends): Date, From, To,
 * Subject, Message-ID, MIME-Version, multipart/alternative with text and
 * HTML parts in UTF-8 (base64 bodies, lines <= 76); with attachments a
 * multipart/mixed holding that and each file (base64, the file name as
 * RFC 2231 filename*= and an RFC 2047 name= for old clients).  Non-ASCII display
 * names and subjects are RFC 2047 encoded-words ("=?UTF-8?B?...?=") of at
 * most 75 characters that never split a UTF-8 character.  Header values
 * with CR or LF are rejected (-EINVAL).  *ret_message_id (optional) gets the
 * Message-ID without angle brackets (caller frees).
 */
int mail_build(const struct mail_message *m, struct buf *out, char **ret_message_id);

/* Appends `name: value` folded as RFC 2047 encoded-words when value is not
 * plain printable ASCII, ending with CRLF. */
int mail_put_header(struct buf *out, const char *name, struct slice value);
/* Appends an address as `"Name" <addr>` / `=?UTF-8?B?...?= <addr>` / `addr`. */
int mail_put_address(struct buf *out, const char *name, const char *addr);

/* ---- sending ---- */

enum mail_tls {
	MAIL_TLS_TRY,       /* smtp://: STARTTLS when offered; smtps://: implicit TLS */
	MAIL_TLS_NONE,      /* never TLS */
	MAIL_TLS_STARTTLS,  /* STARTTLS required: no mail goes in clear */
};

struct mail_sender_options {
	const char *smtp_url;     /* "" or NULL: outbox mode */
	const char *user, *password;
	bool verify_tls;
	enum mail_tls tls;        /* for smtp:// URLs */
	const char *helo;         /* EHLO name (NULL: libcurl's default) */
	const char *outbox_dir;   /* where .eml files go in outbox mode */
	long timeout_seconds;
	long per_connection;      /* mails per connection before it is closed; 0: no limit */
};

/* One sender per thread: it keeps its SMTP connection open between mails.
 * The options are copied (libcurl keeps its own copies of the strings).
 * Returns NULL for unusable options: neither smtp_url nor outbox_dir, an
 * invalid helo or URL.  Calls curl_global_init() once per process. */
struct mail_sender *mail_sender_new(const struct mail_sender_options *o);
void mail_sender_free(struct mail_sender *s);

/*
 * Sends one message.  In outbox mode writes <outbox_dir>/<subdir>/<unix>-<rand>.eml
 * atomically (subdir may be NULL; it is relative, of [A-Za-z0-9._-] names,
 * no "." or ".."; SMTP mode ignores it).  envelope_from NULL or "" is the
 * null sender "<>".  Returns 0 when accepted; -EAGAIN for a transient
 * failure (4xx, connection trouble, a refused login, an outbox that cannot
 * be written) worth retrying; -EIO for a permanent refusal (5xx); -EINVAL
 * for invalid addresses or subdir (then nothing is sent and *ret_reply is
 * untouched).  *ret_reply (optional, caller frees) gets the server's reply
 * (or the .eml path), or the error text on failure.
 */
int mail_sender_send(struct mail_sender *s, const char *envelope_from, const char *rcpt,
		     struct slice message, const char *subdir, char **ret_reply);

/* ---- DKIM signing (RFC 6376, RFC 8463; dkim.c, libopendkim) ---- */

enum mail_dkim_alg { MAIL_DKIM_RSA_SHA256, MAIL_DKIM_ED25519_SHA256 };
/* "rsa-sha256" / "ed25519-sha256" and back. */
int mail_dkim_alg_parse(const char *s, enum mail_dkim_alg *ret);
const char *mail_dkim_alg_name(enum mail_dkim_alg alg);

/*
 * Generates a key pair.  *ret_private (caller frees): the private key in the
 * form mail_dkim_sign takes (PEM for RSA 2048 bits; base64 of the 32-byte
 * seed for Ed25519).  *ret_txt (caller frees): the DNS TXT record value to
 * publish at <selector>._domainkey.<domain>, "v=DKIM1; k=rsa; p=..." or
 * "v=DKIM1; k=ed25519; p=...".
 */
int mail_dkim_keygen(enum mail_dkim_alg alg, char **ret_private, char **ret_txt);
/* The TXT record value for an existing private key; -EINVAL for a key that
 * is not one of alg's. */
int mail_dkim_public_txt(enum mail_dkim_alg alg, const char *private_key, char **ret_txt);

/*
 * Signs a complete message (as mail_build makes it: CRLF line ends) for
 * domain d= and selector s=: appends one "DKIM-Signature: ..." header field
 * (folded, ending in CRLF) to out; the caller sends it in front of the
 * message.  relaxed/relaxed canonicalisation; signs From, To, Subject, Date,
 * Message-ID, MIME-Version, Content-Type and Reply-To when present.
 * Thread-safe.  -EINVAL (message in *ret_err, caller frees) for a bad key,
 * domain or selector; -EIO when signing fails.
 */
int mail_dkim_sign(enum mail_dkim_alg alg, const char *domain, const char *selector, const char *private_key,
		   struct slice message, struct buf *out, char **ret_err);

/* ---- reading back ---- */

struct mail_parsed {
	char *from, *to, *subject, *date, *message_id; /* decoded to UTF-8 */
	char *text, *html;                             /* decoded bodies, may be NULL */
};

/* Parses a message as built by mail_build (and ordinary simple MIME mail:
 * single part or multipart/alternative|mixed, base64, quoted-printable,
 * 7bit/8bit, RFC 2047 headers).  All strings live in `a` and are valid
 * UTF-8; an absent header is "", text/html are NULL without such a part
 * (the first non-attachment one is taken; line ends are kept as sent).
 * message_id comes without angle brackets.  Input without any header gives
 * -EINVAL, beyond 64 MiB -E2BIG, a full arena -ENOMEM; never a crash. */
int mail_parse(struct slice raw, struct arena *a, struct mail_parsed *ret);

/* ---- report mailboxes: IMAP and the rid finder (imap.c) ---- */

/*
 * The rids of this tracker's URLs in a reported mail: a drill mail forwarded
 * inline (its links in the text or HTML, also base64 or quoted-printable) or
 * attached as message/rfc822, or in any header.  tracker_url is the public
 * base URL ("https://t.example.com" or with a path); its scheme is ignored.
 * Strings live in `a`; message_id (without <>) and from (decoded) are the
 * report mail's own, "" when absent.  Never more than MAIL_REPORT_MAX_RIDS
 * rids (each RID_LEN characters of [A-Za-z0-9]), each once.  -EINVAL for an
 * empty tracker_url, -E2BIG past 64 MiB; anything else is no rid, never a
 * crash.
 */
#define MAIL_REPORT_MAX_RIDS 8
#define MAIL_REPORT_RID_LEN RID_LEN
struct mail_report {
	const char *message_id, *from;
	const char *rids[MAIL_REPORT_MAX_RIDS];
	size_t nrids;
};
int mail_report_scan(struct slice raw, const char *tracker_url, struct arena *a, struct mail_report *ret);

struct mail_imap;

enum mail_imap_security { MAIL_IMAP_NONE, MAIL_IMAP_STARTTLS, MAIL_IMAP_TLS };

struct mail_imap_options {
	const char *host;          /* a host name or IP address */
	int port;
	enum mail_imap_security security; /* STARTTLS and TLS: no byte in clear */
	bool verify_tls;
	const char *user, *password;
	const char *folder;        /* printable ASCII (mail_imap_folder_valid) */
	long timeout_seconds;      /* per command; 0: 60 (and any 30 s under 1 KiB/s fails) */
	bool allow_private;        /* connect to loopback, private and link-local addresses too */
	/* NULL, or asked about once a second during every command: true cuts
	 * the command (and starts no other) with -ECANCELED — a server stopping */
	bool (*cancelled)(void *ctx);
	void *cancel_ctx;
};

/* One connection to one folder, kept open between commands (libcurl).  Not
 * thread-safe: one thread uses it.  -EINVAL for a bad host, port or folder.
 * Every other call returns 0 or a negative errno: -EACCES login refused,
 * -ECONNREFUSED / -EHOSTUNREACH / -ETIMEDOUT, -EPROTO TLS, -ENOENT no such
 * folder, -E2BIG a mail over 32 MiB, -EPERM the host's address is
 * private and allow_private is off, -EIO anything else; mail_imap_error
 * then says what the server or libcurl said (for the log: it may name
 * addresses and ports, so not for the API). */
int mail_imap_new(const struct mail_imap_options *o, struct mail_imap **ret);
void mail_imap_free(struct mail_imap *m);
const char *mail_imap_error(const struct mail_imap *m);
bool mail_imap_host_valid(const char *host);
bool mail_imap_folder_valid(const char *folder);
/* Logs in and selects the folder. */
int mail_imap_check(struct mail_imap *m);
/* UIDs of the folder's unseen mails (UID SEARCH UNSEEN), at most max, in the
 * server's order; *ret_uids is malloc'ed (caller frees; NULL when none). */
int mail_imap_unseen(struct mail_imap *m, size_t max, uint32_t **ret_uids, size_t *ret_n);
/* The folder's UIDVALIDITY (STATUS). */
int mail_imap_uidvalidity(struct mail_imap *m, uint32_t *ret);
/* UIDs above `after` of unseen mails under 32 MiB (UID SEARCH UID after+1:*
 * UNSEEN SMALLER ...), ascending, the lowest max of them; *ret_uids as above. */
int mail_imap_unseen_after(struct mail_imap *m, uint32_t after, size_t max, uint32_t **ret_uids, size_t *ret_n);

/* Inside the IMAP client, declared for its tests and fuzz target: the
 * UID SEARCH and STATUS answer parsers.  (The private-address rule of
 * report_imap_allow_private is core/net.h's net_address_private.) */
void mail_imap__search_parse(struct slice data, uint32_t after, size_t max, uint32_t **ret_uids, size_t *ret_n);
int mail_imap__status_uidvalidity(struct slice data, uint32_t *ret);
/* Appends the whole mail to out.  IMAP marks a fetched mail \Seen: a caller
 * that leaves it alone sets it unseen again. */
int mail_imap_fetch(struct mail_imap *m, uint32_t uid, struct buf *out);
int mail_imap_set_seen(struct mail_imap *m, uint32_t uid, bool seen);

/* ---- helpers shared with other modules ---- */

/* True for a plain `local@domain`: exactly one '@' with text on both sides,
 * printable ASCII only, no spaces, controls or any of <>()[],;:\" . */
bool mail_addr_valid(const char *addr);

/* Encoded length of n bytes in base64, without line breaks. */
size_t mail_base64_len(size_t n);
/* Appends base64 of s; with line_len (a multiple of 4) > 0 every line of
 * line_len characters and the last one end in CRLF, with 0 no CRLF at all. */
int mail_base64_encode(struct buf *out, struct slice s, size_t line_len);
/* Decodes base64 (padding optional); white space is skipped, anything else
 * outside the alphabet, or after the padding, gives -EINVAL.  On error out
 * is left as it was. */
int mail_base64_decode(struct buf *out, struct slice s);
/* Same, but skips every character outside the alphabet and stops at the
 * padding (MIME bodies, as mail readers do). */
int mail_base64_decode_loose(struct buf *out, struct slice s);
/* Decodes a quoted-printable body (soft breaks, =XX, trailing blanks). */
int mail_qp_decode(struct buf *out, struct slice s);
/* Decodes an unstructured header value: unfolds, turns RFC 2047
 * encoded-words (B and Q; UTF-8, US-ASCII and, through iconv, Japanese and
 * other common charsets) into UTF-8; invalid UTF-8 becomes U+FFFD, so the
 * result is always valid UTF-8. */
int mail_header_decode(struct buf *out, struct slice value);

#endif
