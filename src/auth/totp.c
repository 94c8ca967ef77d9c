/* totp.c — TOTP (RFC 6238 over RFC 4226's HOTP), base32 (RFC 4648), the
 * otpauth:// URI authenticator apps read and its QR code as SVG. */
#include "auth/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qrencode.h>
#include <sodium.h>

#define TOTP_PERIOD 30

/* Drops what was appended since `len` (on a failure half-way). */
static void buf_cut(struct buf *b, size_t len)
{
	if (b->len > len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

int auth_totp_code(enum auth_hash h, const unsigned char *key, size_t keylen, int64_t t, int digits,
		   uint32_t *ret)
{
	const EVP_MD *md;
	switch (h) {
	case AUTH_SHA1: md = EVP_sha1(); break;
	case AUTH_SHA256: md = EVP_sha256(); break;
	case AUTH_SHA512: md = EVP_sha512(); break;
	default: return -EINVAL;
	}
	if (t < 0 || (digits != 6 && digits != 8) || keylen == 0 || keylen > 1024)
		return -EINVAL;

	/* RFC 4226 5.2: the counter as 8 bytes, most significant first. */
	uint64_t counter = (uint64_t)(t / TOTP_PERIOD);
	unsigned char msg[8];
	for (int i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (unsigned char)(counter & 0xff);

	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	if (!HMAC(md, key, (int)keylen, msg, sizeof(msg), mac, &maclen) || maclen < 20)
		return -EIO;

	/* Dynamic truncation (RFC 4226 5.3): 31 bits from the offset the last
	 * nibble names. */
	unsigned off = mac[maclen - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
		       ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	sodium_memzero(mac, sizeof(mac));
	*ret = bin % (digits == 6 ? 1000000u : 100000000u);
	return 0;
}

bool auth_totp_verify(const unsigned char *key, size_t keylen, const char *code, int64_t now, int64_t *ret_step)
{
	if (!code || strlen(code) != 6 || now < 0)
		return false;
	uint32_t want = 0;
	for (int i = 0; i < 6; i++) {
		if (code[i] < '0' || code[i] > '9')
			return false;
		want = want * 10 + (uint32_t)(code[i] - '0');
	}

	/* Every candidate is computed and compared, without an early exit; on a
	 * (one in a million) tie the latest step wins, so nothing older than
	 * what was accepted can be replayed. */
	int64_t step = now / TOTP_PERIOD, found = -1;
	for (int64_t d = -1; d <= 1; d++) {
		uint32_t c;
		if (step + d < 0 || auth_totp_code(AUTH_SHA1, key, keylen, (step + d) * TOTP_PERIOD, 6, &c) < 0)
			continue;
		uint32_t diff = c ^ want;
		int64_t match = -(int64_t)(diff == 0); /* all ones when equal */
		found = (found & ~match) | ((step + d) & match);
	}
	if (found < 0)
		return false;
	*ret_step = found;
	return true;
}

/* ---- base32 ---- */

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int auth_base32_encode(struct buf *out, const unsigned char *p, size_t n)
{
	uint32_t acc = 0;
	int bits = 0, r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5 && r == 0) {
			bits -= 5;
			r = buf_putc(out, b32_alphabet[(acc >> bits) & 31]);
		}
		acc &= (1u << bits) - 1;
	}
	if (r == 0 && bits > 0)
		r = buf_putc(out, b32_alphabet[(acc << (5 - bits)) & 31]);
	return r;
}

static int b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int auth_base32_decode(struct buf *out, const char *s)
{
	/* Characters left over after whole bytes: a group of 8 characters
	 * holds 5 bytes, so a final group of 2, 4, 5 or 7 characters is whole
	 * and needs 6, 4, 3 or 1 '='; 1, 3 or 6 characters cannot happen. */
	static const int pad_for[8] = { 0, -1, 6, -1, 4, 3, -1, 1 };
	size_t start = out->len, chars = 0, pads = 0;
	uint32_t acc = 0;
	int bits = 0, r = 0;

	for (const char *c = s; *c && r == 0; c++) {
		if (*c == ' ')
			continue;
		if (*c == '=') {
			pads++;
			continue;
		}
		int v = b32_value(*c);
		if (v < 0 || pads > 0) /* a stranger, or data after padding */
			goto bad;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		chars++;
		if (bits >= 8) {
			bits -= 8;
			r = buf_putc(out, (char)((acc >> bits) & 0xff));
		}
		acc &= (1u << bits) - 1;
	}
	if (r < 0)
		goto fail;
	if (pad_for[chars % 8] < 0 || acc != 0) /* impossible length, or stray bits set */
		goto bad;
	if (pads > 0 && (size_t)pad_for[chars % 8] != pads)
		goto bad;
	return 0;
bad:
	r = -EINVAL;
fail:
	buf_cut(out, start);
	return r;
}

/* ---- the otpauth:// URI and its QR code ---- */

char *auth_totp_uri(const char *issuer, const char *username, const unsigned char *key, size_t keylen)
{
	struct buf b = BUF_INIT(8192);
	struct slice is = slice_from(issuer), un = slice_from(username);
	/* The label is "issuer:user" with each part escaped (a ':' inside
	 * either becomes %3A, so the app splits where it should). */
	int r = buf_puts(&b, "otpauth://totp/");
	if (r == 0 && is.len && (r = buf_put_url(&b, is)) == 0)
		r = buf_putc(&b, ':');
	if (r == 0 && (r = buf_put_url(&b, un)) == 0 && (r = buf_puts(&b, "?secret=")) == 0)
		r = auth_base32_encode(&b, key, keylen);
	if (r == 0 && is.len && (r = buf_puts(&b, "&issuer=")) == 0)
		r = buf_put_url(&b, is);
	if (r == 0)
		r = buf_puts(&b, "&algorithm=SHA1&digits=6&period=30");
	if (r < 0) {
		secret_wipe(&b);
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static void qrcode_freep(QRcode **q)
{
	if (*q)
		QRcode_free(*q);
}

#define QR_QUIET 4 /* modules of white around the code (ISO/IEC 18004) */

int auth_qr_svg(struct buf *out, const char *text)
{
	errno = 0;
	_cleanup_(qrcode_freep) QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return errno == ERANGE ? -E2BIG : errno == ENOMEM ? -ENOMEM : -EINVAL;

	int w = q->width, size = w + 2 * QR_QUIET;
	size_t start = out->len;
	int r = buf_printf(out,
			   "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
			   "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
			   "<path fill=\"#000\" d=\"",
			   size, size, size, size);
	/* Each horizontal run of dark modules is one rectangle. */
	for (int y = 0; y < w && r == 0; y++) {
		for (int x = 0; x < w && r == 0;) {
			if (!(q->data[y * w + x] & 1)) {
				x++;
				continue;
			}
			int run = 1;
			while (x + run < w && (q->data[y * w + x + run] & 1))
				run++;
			r = buf_printf(out, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run, run);
			x += run;
		}
	}
	if (r == 0)
		r = buf_puts(out, "\"/></svg>");
	if (r < 0)
		buf_cut(out, start);
	return r;
}
