/* codec.c — base64 and quoted-printable, the transfer encodings of MIME. */
#include "mail/mail.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void buf_truncate(struct buf *b, size_t len)
{
	if (b->len == len)
		return;
	b->len = len;
	b->p[len] = '\0';
}

size_t mail_base64_len(size_t n)
{
	return st_mult(st_add(n, 2) / 3, 4);
}

static void base64_quad(const unsigned char *in, size_t n, char out[4])
{
	uint32_t v = (uint32_t)in[0] << 16;
	if (n > 1)
		v |= (uint32_t)in[1] << 8;
	if (n > 2)
		v |= in[2];
	out[0] = b64_alphabet[(v >> 18) & 63];
	out[1] = b64_alphabet[(v >> 12) & 63];
	out[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
	out[3] = n > 2 ? b64_alphabet[v & 63] : '=';
}

int mail_base64_encode(struct buf *out, struct slice s, size_t line_len)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t start = out->len, col = 0;
	int r = 0;

	BUG_ON(line_len % 4 != 0);
	for (size_t i = 0; i < s.len && r == 0; i += 3) {
		char quad[4];
		base64_quad(p + i, s.len - i < 3 ? s.len - i : 3, quad);
		r = buf_append(out, quad, 4);
		col += 4;
		if (r == 0 && line_len && col == line_len) {
			r = buf_puts(out, "\r\n");
			col = 0;
		}
	}
	if (r == 0 && line_len && col)
		r = buf_puts(out, "\r\n");
	if (r < 0)
		buf_truncate(out, start);
	return r;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool is_wsp_or_eol(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Decodes until the end or the padding ('=').  Characters outside the
 * alphabet are skipped when `loose`; when strict only white space is, and
 * only '=' and white space may follow the padding.  A lone trailing
 * sextet (an impossible length) is an error when strict, dropped when loose.
 */
static int base64_decode(struct buf *out, struct slice s, bool loose)
{
	uint32_t acc = 0;
	size_t start = out->len;
	int bits = 0, r = 0, sextets = 0;

	for (size_t i = 0; i < s.len && r == 0; i++) {
		unsigned char c = (unsigned char)s.p[i];
		int v = b64_value(c);
		if (c == '=') {
			/* padding: only more '=' and white space may follow */
			for (size_t k = i; k < s.len && !loose && r == 0; k++)
				if (s.p[k] != '=' && !is_wsp_or_eol((unsigned char)s.p[k]))
					r = -EINVAL;
			break;
		}
		if (v < 0) {
			if (loose || is_wsp_or_eol(c))
				continue;
			r = -EINVAL;
			break;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		sextets++;
		if (bits >= 8) {
			bits -= 8;
			r = buf_putc(out, (char)((acc >> bits) & 0xFF));
		}
	}
	if (r == 0 && !loose && sextets % 4 == 1)
		r = -EINVAL;
	if (r < 0)
		buf_truncate(out, start);
	return r;
}

int mail_base64_decode(struct buf *out, struct slice s)
{
	return base64_decode(out, s, false);
}

int mail_base64_decode_loose(struct buf *out, struct slice s)
{
	return base64_decode(out, s, true);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Length of a soft line break ("=", optional white space, CRLF or LF) at s[i], or 0. */
static size_t qp_soft_break(struct slice s, size_t i)
{
	size_t j = i + 1;
	while (j < s.len && (s.p[j] == ' ' || s.p[j] == '\t'))
		j++;
	if (j == s.len)
		return j - i; /* "=" at the very end: a break into nothing */
	if (s.p[j] == '\n')
		return j + 1 - i;
	if (s.p[j] == '\r' && j + 1 < s.len && s.p[j + 1] == '\n')
		return j + 2 - i;
	return 0;
}

/* Length of trailing white space at s[i] that runs up to a line end or the end. */
static size_t qp_trailing_space(struct slice s, size_t i)
{
	size_t j = i;
	while (j < s.len && (s.p[j] == ' ' || s.p[j] == '\t'))
		j++;
	if (j == s.len || s.p[j] == '\n' || (s.p[j] == '\r' && j + 1 < s.len && s.p[j + 1] == '\n'))
		return j - i;
	return 0;
}

int mail_qp_decode(struct buf *out, struct slice s)
{
	size_t start = out->len, i = 0;
	int r = 0;

	while (i < s.len && r == 0) {
		unsigned char c = (unsigned char)s.p[i];
		size_t n;
		if (c == '=' && (n = qp_soft_break(s, i)) > 0) {
			i += n;
		} else if (c == '=' && i + 2 < s.len && hex_value((unsigned char)s.p[i + 1]) >= 0 &&
			   hex_value((unsigned char)s.p[i + 2]) >= 0) {
			int v = hex_value((unsigned char)s.p[i + 1]) << 4 | hex_value((unsigned char)s.p[i + 2]);
			r = buf_putc(out, (char)v);
			i += 3;
		} else if ((c == ' ' || c == '\t') && (n = qp_trailing_space(s, i)) > 0) {
			i += n; /* transport padding (RFC 2045 6.7 rule 3) */
		} else {
			r = buf_putc(out, (char)c); /* lenient: a stray '=' stays literal */
			i++;
		}
	}
	if (r < 0)
		buf_truncate(out, start);
	return r;
}
