/*
 * mime.c — composing messages: RFC 5322 headers, RFC 2047 encoded-words,
 * MIME bodies (multipart/alternative, multipart/mixed with attachments,
 * base64), RFC 2231 file names.
 */
#include "mail/mail.h"

#define LINE_SOFT_MAX 78   /* RFC 5322 2.1.1: lines SHOULD stay within 78 */
#define LINE_HARD_MAX 998  /* RFC 5322 2.1.1: lines MUST stay within 998 */
#define WORD_MAX 75        /* RFC 2047 2: an encoded-word is at most 75 */
#define WORD_OVERHEAD 12   /* "=?UTF-8?B?" + "?=" */
#define BODY_LINE 76       /* RFC 2045 6.8: base64 lines at most 76 */
#define MSGID_RANDOM 24
#define BOUNDARY_RANDOM 28

static void buf_truncate(struct buf *b, size_t len)
{
	if (b->len == len)
		return;
	b->len = len;
	b->p[len] = '\0';
}

/* Characters since the last line end: where the next append starts. */
static size_t buf_column(const struct buf *b)
{
	size_t i = b->len;
	while (i > 0 && b->p[i - 1] != '\n')
		i--;
	return b->len - i;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool has_char(const char *set, char c)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ---- validation ---- */

/* Printable ASCII without spaces and without the characters that would
 * change the meaning of an address or message id in a header. */
static bool is_addr_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && !has_char("<>()[]\\,;:\"", c);
}

bool mail_addr_valid(const char *addr)
{
	const char *at = NULL;
	size_t n = 0;

	if (!addr)
		return false;
	for (const char *p = addr; *p; p++, n++) {
		if (!is_addr_char(*p))
			return false;
		if (*p == '@') {
			if (at)
				return false;
			at = p;
		}
	}
	return n <= 254 && at && at != addr && at[1] != '\0';
}

static bool domain_valid(const char *d)
{
	if (!d || !*d || strlen(d) > 253)
		return false;
	for (const char *p = d; *p; p++)
		if (!is_addr_char(*p) || *p == '@')
			return false;
	return true;
}

/* RFC 7230 token characters: what we allow in a header field name. */
static bool header_name_valid(const char *name)
{
	size_t n = 0;
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++, n++)
		if (!is_alnum(*p) && !has_char("!#$%&'*+-.^_`|~", *p))
			return false;
	return n <= 76;
}

/* A header value may hold any UTF-8 text but no NUL, CR or LF. */
static int value_check(struct slice v)
{
	bool ascii = true;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c == '\0' || c == '\r' || c == '\n')
			return -EINVAL;
		if (c >= 0x80)
			ascii = false;
	}
	return ascii || utf8_valid(v.p, v.len) ? 0 : -EINVAL;
}

/* Non-ASCII, control characters and text that a reader would take for an
 * encoded-word ("=?") have to travel as encoded-words themselves. */
static bool value_needs_encoding(struct slice v)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c >= 0x7f || (c < 0x20 && c != '\t'))
			return true;
		if (c == '=' && i + 1 < v.len && v.p[i + 1] == '?')
			return true;
	}
	return false;
}

/* ---- RFC 2047 encoded-words ---- */

static size_t utf8_char_len(unsigned char lead)
{
	return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

/* How many bytes of whole characters from s[i] fit into max_b64 base64 characters. */
static size_t word_take(struct slice s, size_t i, size_t max_b64)
{
	size_t max_bytes = max_b64 / 4 * 3, n = 0;
	while (i + n < s.len) {
		size_t k = utf8_char_len((unsigned char)s.p[i + n]);
		if (n + k > max_bytes)
			break;
		n += k;
	}
	return n;
}

/*
 * Appends valid UTF-8 `s` as "=?UTF-8?B?...?=" words of at most 75
 * characters, each holding whole characters only.  The first word uses
 * what is left of the current line (or starts a folded one when not even a
 * character fits); every further word goes on its own "CRLF SP" line, so no
 * line grows beyond 78.
 */
static int put_encoded_words(struct buf *out, struct slice s)
{
	size_t col = buf_column(out), i = 0;
	int r = 0;

	while (i < s.len && r == 0) {
		size_t room = col < LINE_SOFT_MAX ? LINE_SOFT_MAX - col : 0;
		if (room > WORD_MAX)
			room = WORD_MAX;
		size_t n = room > WORD_OVERHEAD ? word_take(s, i, room - WORD_OVERHEAD) : 0;
		if (n == 0) {
			BUG_ON(col <= 1); /* a fresh line always holds a character */
			r = buf_puts(out, "\r\n ");
			col = 1;
			continue;
		}
		r = buf_puts(out, "=?UTF-8?B?");
		if (r == 0)
			r = mail_base64_encode(out, (struct slice){ s.p + i, n }, 0);
		if (r == 0)
			r = buf_puts(out, "?=");
		col += WORD_OVERHEAD + mail_base64_len(n);
		i += n;
		if (r == 0 && i < s.len) {
			r = buf_puts(out, "\r\n ");
			col = 1;
		}
	}
	return r;
}

/* ---- plain ASCII values ---- */

/* Next place after i where a line may fold: white space before a non-blank. */
static size_t next_fold_point(struct slice v, size_t i)
{
	for (size_t j = i + 1; j + 1 < v.len; j++)
		if (is_wsp(v.p[j]) && !is_wsp(v.p[j + 1]))
			return j;
	return v.len;
}

/* Appends printable ASCII, folding before white space to keep lines within
 * 78 where the words allow; a line beyond 998 is an error. */
static int put_folded(struct buf *out, struct slice v)
{
	size_t col = buf_column(out), i = 0;
	int r = 0;

	while (i < v.len && r == 0) {
		size_t end = next_fold_point(v, i), n = end - i;
		if (i > 0 && col + n > LINE_SOFT_MAX) {
			r = buf_puts(out, "\r\n");
			col = 0;
		}
		if (r == 0)
			r = buf_append(out, v.p + i, n);
		col += n;
		if (r == 0 && col > LINE_HARD_MAX)
			r = -EINVAL;
		i = end;
	}
	return r;
}

int mail_put_header(struct buf *out, const char *name, struct slice value)
{
	size_t start = out->len;
	int r;

	if (!header_name_valid(name))
		return -EINVAL;
	r = value_check(value);
	if (r < 0)
		return r;
	r = buf_printf(out, "%s: ", name);
	if (r == 0)
		r = value_needs_encoding(value) ? put_encoded_words(out, value) : put_folded(out, value);
	if (r == 0)
		r = buf_puts(out, "\r\n");
	if (r < 0)
		buf_truncate(out, start);
	return r;
}

/* ---- addresses ---- */

static bool is_atext(char c)
{
	return is_alnum(c) || has_char("!#$%&'*+-/=?^_`{|}~", c);
}

/* True for atoms separated by single spaces: safe to write unquoted. */
static bool phrase_is_atoms(struct slice n)
{
	for (size_t i = 0; i < n.len; i++) {
		if (n.p[i] == ' ') {
			if (i == 0 || i + 1 == n.len || n.p[i + 1] == ' ')
				return false;
		} else if (!is_atext(n.p[i])) {
			return false;
		}
	}
	return true;
}

static int put_quoted(struct buf *out, struct slice n)
{
	int r = buf_putc(out, '"');
	for (size_t i = 0; i < n.len && r == 0; i++) {
		if (n.p[i] == '"' || n.p[i] == '\\')
			r = buf_putc(out, '\\');
		if (r == 0)
			r = buf_putc(out, n.p[i]);
	}
	return r ? r : buf_putc(out, '"');
}

/* A display name: bare atoms, a quoted string, or encoded-words when it is
 * not plain ASCII or would not fit on the line. */
static int put_phrase(struct buf *out, struct slice n)
{
	bool tab = n.len && memchr(n.p, '\t', n.len);
	if (!tab && !value_needs_encoding(n)) {
		_cleanup_buf_ struct buf q = BUF_INIT(LINE_HARD_MAX);
		int r = phrase_is_atoms(n) ? buf_put_slice(&q, n) : put_quoted(&q, n);
		if (r == 0 && buf_column(out) + q.len <= LINE_SOFT_MAX)
			return buf_put_slice(out, buf_slice(&q));
	}
	return put_encoded_words(out, n);
}

int mail_put_address(struct buf *out, const char *name, const char *addr)
{
	struct slice n = slice_from(name);
	size_t start = out->len;
	int r;

	if (!mail_addr_valid(addr))
		return -EINVAL;
	r = value_check(n);
	if (r < 0)
		return r;
	if (n.len == 0)
		return buf_puts(out, addr);
	r = put_phrase(out, n);
	if (r == 0)
		r = buf_puts(out, buf_column(out) + 3 + strlen(addr) > LINE_SOFT_MAX ? "\r\n <" : " <");
	if (r == 0)
		r = buf_printf(out, "%s>", addr);
	if (r < 0)
		buf_truncate(out, start);
	return r;
}

/* ---- the message ---- */

static int put_date(struct buf *out, int64_t t, const struct tz *z)
{
	static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct civil c;

	if (t < 0 || t > INT64_C(253402300799)) /* up to 9999-12-31 */
		return -EINVAL;
	int off = z ? tz_offset(z, t) : 0;
	int abs_off = off < 0 ? -off : off;
	civil_from_unix(t + off, &c);
	if (c.year > 9999)
		return -EINVAL;
	return buf_printf(out, "Date: %s, %d %s %04d %02d:%02d:%02d %c%02d%02d\r\n",
			  wdays[c.wday], c.day, months[c.month - 1], c.year, c.hour, c.min, c.sec,
			  off < 0 ? '-' : '+', abs_off / 3600, abs_off % 3600 / 60);
}

static int put_address_header(struct buf *out, const char *field, const char *name, const char *addr)
{
	int r = buf_printf(out, "%s: ", field);
	if (r == 0)
		r = mail_put_address(out, name, addr);
	return r ? r : buf_puts(out, "\r\n");
}

/* Header names mail_build writes itself; extra headers may not repeat them. */
static bool header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"Date", "From", "To", "Reply-To", "Subject", "Message-ID", "MIME-Version",
		"Content-Type", "Content-Transfer-Encoding",
	};
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	return false;
}

static int put_extra_headers(struct buf *out, const char *const *h)
{
	int r = 0;
	for (size_t i = 0; h && h[i] && r == 0; i += 2) {
		if (!h[i + 1] || !header_name_valid(h[i]) || header_reserved(h[i]))
			return -EINVAL;
		r = mail_put_header(out, h[i], slice_from(h[i + 1]));
	}
	return r;
}

/* Writes "<random>@domain" into a new string; the domain is id_domain or the sender's. */
static int message_id_new(const struct mail_message *m, char **ret)
{
	const char *domain = m->id_domain && *m->id_domain ? m->id_domain : strchr(m->from_addr, '@') + 1;
	char rnd[MSGID_RANDOM + 1];

	if (!domain_valid(domain))
		return -EINVAL;
	id_random(rnd, MSGID_RANDOM);
	*ret = xasprintf("%s@%s", rnd, domain);
	return 0;
}

static int put_text_part(struct buf *out, const char *subtype, struct slice body)
{
	int r = buf_printf(out, "Content-Type: text/%s; charset=UTF-8\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n", subtype);
	if (r == 0)
		r = body.len ? mail_base64_encode(out, body, BODY_LINE) : buf_puts(out, "\r\n");
	return r;
}

/* The text of the message: text/plain alone, or multipart/alternative of
 * text and HTML (its header lines start the entity). */
static int put_content(struct buf *out, const struct mail_message *m, struct slice text, struct slice html)
{
	char boundary[BOUNDARY_RANDOM + 3] = "=_";
	int r;

	if (!m->html)
		return put_text_part(out, "plain", text);
	/* '=' followed by '_' never occurs in base64, so the boundary cannot either. */
	id_random(boundary + 2, BOUNDARY_RANDOM);
	r = buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n"
			   "This is a multi-part message in MIME format.\r\n\r\n--%s\r\n",
		       boundary, boundary);
	if (r == 0)
		r = put_text_part(out, "plain", text);
	if (r == 0)
		r = buf_printf(out, "--%s\r\n", boundary);
	if (r == 0)
		r = put_text_part(out, "html", html);
	return r ? r : buf_printf(out, "--%s--\r\n", boundary);
}

/* ---- attachments ---- */

#define PARAM_CHUNK 39    /* bytes of a file name per encoded-word of name= */
#define SEGMENT_CHUNK 18  /* bytes of a file name per RFC 2231 segment */

/* A MIME type as we write it: token "/" token (RFC 2045 5.1), no parameters. */
static bool mime_type_valid(const char *t)
{
	const char *slash = t ? strchr(t, '/') : NULL;
	if (!slash || slash == t || !slash[1] || strlen(t) > 127)
		return false;
	for (const char *c = t; *c; c++)
		if (c != slash && !is_alnum(*c) && !has_char("!#$&-^_.+", *c))
			return false;
	return true;
}

/* A file name can travel as a plain quoted string: short printable ASCII
 * without the characters a quoted string would need to escape. */
static bool filename_plain(struct slice n)
{
	if (n.len > 60)
		return false;
	for (size_t i = 0; i < n.len; i++)
		if ((unsigned char)n.p[i] < 0x20 || (unsigned char)n.p[i] >= 0x7f || n.p[i] == '"' || n.p[i] == '\\')
			return false;
	return true;
}

/* RFC 2231 attribute-char: what a filename* value keeps unencoded. */
static bool attr_char(char c)
{
	return is_alnum(c) || has_char("!#$&+-.^_`|~", c);
}

/*
 * name="=?UTF-8?B?...?=" for old clients (Outlook before 2013 and webmail
 * that ignore RFC 2231): not what RFC 2047 allows inside a quoted string,
 * but what they read.  One short word per line, so no line passes 78.
 */
static int put_name_param(struct buf *out, struct slice n)
{
	if (filename_plain(n))
		return buf_printf(out, ";\r\n name=\"%.*s\"", (int)n.len, n.p);
	int r = buf_puts(out, ";\r\n name=\"");
	for (size_t i = 0; i < n.len && r == 0;) {
		size_t k = word_take(n, i, PARAM_CHUNK / 3 * 4);
		if (i > 0)
			r = buf_puts(out, "\r\n ");
		if (r == 0)
			r = buf_puts(out, "=?UTF-8?B?");
		if (r == 0)
			r = mail_base64_encode(out, (struct slice){ n.p + i, k }, 0);
		if (r == 0)
			r = buf_puts(out, "?=");
		i += k;
	}
	return r ? r : buf_putc(out, '"');
}

/* filename="..." when plain, else RFC 2231 filename*0*=UTF-8''%E8...;
 * filename*1*=... segments of whole characters, one per line. */
static int put_filename_param(struct buf *out, struct slice n)
{
	if (filename_plain(n))
		return buf_printf(out, ";\r\n filename=\"%.*s\"", (int)n.len, n.p);
	int r = 0;
	for (size_t i = 0, seg = 0; i < n.len && r == 0; seg++) {
		/* at most SEGMENT_CHUNK bytes, 54 characters encoded: the line
		 * stays within 78 */
		size_t k = word_take(n, i, SEGMENT_CHUNK / 3 * 4);
		if (seg == 0 && k == n.len)
			r = buf_puts(out, ";\r\n filename*=UTF-8''");
		else
			r = buf_printf(out, ";\r\n filename*%zu*=%s", seg, seg ? "" : "UTF-8''");
		for (size_t j = i; j < i + k && r == 0; j++)
			r = attr_char(n.p[j]) ? buf_putc(out, n.p[j]) : buf_printf(out, "%%%02X", (unsigned char)n.p[j]);
		i += k;
	}
	return r;
}

static int put_attachment(struct buf *out, const struct mail_attachment *a)
{
	struct slice n = slice_from(a->filename);
	if (!n.len || value_check(n) < 0 || !mime_type_valid(a->content_type))
		return -EINVAL;
	for (size_t i = 0; i < n.len; i++)
		if ((unsigned char)n.p[i] < 0x20 || n.p[i] == 0x7f)
			return -EINVAL;
	/* the OOXML types alone are 71 characters: they go on a folded line */
	bool fold = strlen("Content-Type: ;") + strlen(a->content_type) > LINE_SOFT_MAX;
	int r = buf_printf(out, "Content-Type:%s%s", fold ? "\r\n " : " ", a->content_type);
	if (r == 0)
		r = put_name_param(out, n);
	if (r == 0)
		r = buf_puts(out, "\r\nContent-Disposition: attachment");
	if (r == 0)
		r = put_filename_param(out, n);
	if (r == 0)
		r = buf_puts(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	if (r == 0)
		r = a->data.len ? mail_base64_encode(out, a->data, BODY_LINE) : buf_puts(out, "\r\n");
	return r;
}

static int put_body(struct buf *out, const struct mail_message *m)
{
	struct slice text = slice_from(m->text), html = slice_from(m->html);
	char boundary[BOUNDARY_RANDOM + 3] = "=_";
	int r;

	if (!utf8_valid(text.p, text.len) || !utf8_valid(html.p, html.len))
		return -EINVAL;
	r = buf_puts(out, "MIME-Version: 1.0\r\n");
	if (r < 0)
		return r;
	if (!m->nattachments)
		return put_content(out, m, text, html);
	id_random(boundary + 2, BOUNDARY_RANDOM);
	r = buf_printf(out, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n"
			   "This is a multi-part message in MIME format.\r\n\r\n--%s\r\n",
		       boundary, boundary);
	if (r == 0)
		r = put_content(out, m, text, html);
	for (size_t i = 0; i < m->nattachments && r == 0; i++) {
		r = buf_printf(out, "--%s\r\n", boundary);
		if (r == 0)
			r = put_attachment(out, &m->attachments[i]);
	}
	return r ? r : buf_printf(out, "--%s--\r\n", boundary);
}

static int put_headers(struct buf *out, const struct mail_message *m, const char *message_id)
{
	int r = put_date(out, m->date, m->tz);
	if (r == 0)
		r = put_address_header(out, "From", m->from_name, m->from_addr);
	if (r == 0)
		r = put_address_header(out, "To", m->to_name, m->to_addr);
	if (r == 0 && m->reply_to)
		r = put_address_header(out, "Reply-To", NULL, m->reply_to);
	if (r == 0)
		r = mail_put_header(out, "Subject", slice_from(m->subject));
	if (r == 0)
		r = buf_printf(out, "Message-ID: <%s>\r\n", message_id);
	return r ? r : put_extra_headers(out, m->extra_headers);
}

int mail_build(const struct mail_message *m, struct buf *out, char **ret_message_id)
{
	_cleanup_free_ char *message_id = NULL;
	size_t start = out->len;
	int r;

	if (!mail_addr_valid(m->from_addr) || !mail_addr_valid(m->to_addr))
		return -EINVAL;
	r = message_id_new(m, &message_id);
	if (r == 0)
		r = put_headers(out, m, message_id);
	if (r == 0)
		r = put_body(out, m);
	if (r < 0) {
		buf_truncate(out, start);
		return r;
	}
	if (ret_message_id) {
		*ret_message_id = message_id;
		message_id = NULL;
	}
	return 0;
}
