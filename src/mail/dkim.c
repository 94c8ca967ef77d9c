/*
 * dkim.c — DKIM signing (RFC 6376; Ed25519 per RFC 8463) through
 * libopendkim, with OpenSSL for RSA keys and libsodium for Ed25519 seeds.
 * The only user of libopendkim.
 *
 * Keys are checked here before libopendkim sees them, and always handed to
 * it as an unencrypted PKCS#8 PEM made by OpenSSL: libopendkim 2.11 reads a
 * key beginning with "-----" with PEM_read_bio_PrivateKey() and anything else
 * as DER (d2i_PrivateKey_bio(), after base64 when it begins with "MII"), for
 * RSA and Ed25519 alike; a raw seed is not something it can read.
 */
#include "mail/mail.h"

#include <pthread.h>

#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#define ED25519_SEED_LEN 32
#define RSA_KEYGEN_BITS 2048
/* RFC 8301: signers use at least 1024 bits; verifiers must handle 1024-4096. */
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 4096
#define KEY_TEXT_MAX 16384       /* a 4096-bit PEM is about 3.3 KB */
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

/* ---- libopendkim 2.11's Ed25519 leak ----
 *
 * dkim_free() in libopendkim 2.11 (Debian 12's 2.11.0~beta2) frees the
 * crypto state of RSA signatures only: for Ed25519 it leaks the EVP_PKEY it
 * read the key into and its 64-byte signature buffer, about 500 bytes per
 * signature (fixed upstream after 2.11: OpenDKIM PR #321, "dkim_free()
 * wasn't freeing the ed25519 crypto structure").  The library gives no
 * handle on either, so we find them ourselves, guarded:
 *
 * - every allocation libopendkim makes for a handle goes through the
 *   allocator given to dkim_init(), with the handle's closure; while
 *   dkim_eom() runs we note the blocks of sizeof(struct dkim_crypto) —
 *   its struct dkim_crypto and, for Ed25519, its signature buffer;
 * - after signing, a noted block that matches the 2.11 layout below in
 *   every field (key size 512 bits, 64-byte output held in another noted
 *   block, no RSA key, no input) and whose EVP_PKEY is an Ed25519 key is
 *   the crypto state: we free the EVP_PKEY and the buffer and set both
 *   fields to NULL, so a libopendkim that frees them itself finds nothing
 *   left to free;
 * - anything else (another layout, a future version) is left alone.
 * tests/unit/mail/dkim.c runs under LeakSanitizer and would see the leak.
 */

/* struct dkim_crypto of libopendkim 2.11 (dkim-types.h, OpenSSL build). */
struct opendkim211_crypto {
	unsigned char crypto_pad;
	int crypto_keysize;
	size_t crypto_inlen;
	size_t crypto_outlen;
	EVP_PKEY *crypto_pkey;
	void *crypto_key;
	BIO *crypto_keydata;
	unsigned char *crypto_in;
	unsigned char *crypto_out;
};

#define ED25519_SIG_LEN 64
#define NOTED_MAX 16

/* The closure of one signing handle. */
struct dkim_allocs {
	bool noting;                 /* while dkim_eom() runs */
	size_t n;
	void *noted[NOTED_MAX];      /* live blocks of sizeof(struct opendkim211_crypto) */
};

static void *dkim_alloc_cb(void *closure, size_t n)
{
	struct dkim_allocs *a = closure;
	void *p = malloc(n);
	if (p && a && a->noting && n == sizeof(struct opendkim211_crypto) && a->n < NOTED_MAX)
		a->noted[a->n++] = p;
	return p;
}

static void dkim_free_cb(void *closure, void *p)
{
	struct dkim_allocs *a = closure;
	for (size_t i = 0; a && i < a->n; i++) {
		if (a->noted[i] == p) {
			a->noted[i] = a->noted[--a->n];
			break;
		}
	}
	free(p);
}

static bool noted(const struct dkim_allocs *a, const void *p)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->noted[i] == p)
			return true;
	return false;
}

/* Frees what dkim_free() of libopendkim 2.11 leaves of an Ed25519 signature. */
static void ed25519_crypto_release(struct dkim_allocs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct opendkim211_crypto *c = a->noted[i];
		if (c->crypto_keysize != ED25519_SIG_LEN * 8 || c->crypto_outlen != ED25519_SIG_LEN ||
		    c->crypto_inlen != 0 || c->crypto_key || c->crypto_in || !c->crypto_pkey || !c->crypto_out ||
		    (void *)c->crypto_out == (void *)c || !noted(a, c->crypto_out))
			continue;
		if (EVP_PKEY_get_base_id(c->crypto_pkey) != EVP_PKEY_ED25519)
			continue;
		EVP_PKEY_free(c->crypto_pkey);
		c->crypto_pkey = NULL;
		unsigned char *out = c->crypto_out;
		c->crypto_out = NULL;
		dkim_free_cb(a, out);
		return;
	}
}

/* ---- the one DKIM_LIB of the process ---- */

static const char *const sign_headers[] = {
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "Reply-To", NULL,
};

static pthread_once_t dkim_once = PTHREAD_ONCE_INIT;
static DKIM_LIB *dkim_lib;     /* lives as long as the process */
static bool sodium_ready;

static void dkim_init_once(void)
{
	sodium_ready = sodium_init() >= 0;
	dkim_lib = dkim_init(dkim_alloc_cb, dkim_free_cb);
	if (!dkim_lib)
		return;
	/* The headers to sign, matched case-insensitively; every one present
	 * is signed, absent ones (Reply-To) are simply not listed in h=. */
	if (dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)sign_headers,
			 sizeof(char **)) != DKIM_STAT_OK) {
		dkim_close(dkim_lib);
		dkim_lib = NULL;
	}
}

static int dkim_ready(const char **ret_msg)
{
	pthread_once(&dkim_once, dkim_init_once);
	if (!sodium_ready) {
		*ret_msg = "libsodium could not be initialised";
		return -EIO;
	}
	if (!dkim_lib) {
		*ret_msg = "libopendkim could not be initialised";
		return -EIO;
	}
	return 0;
}

/* ---- algorithms ---- */

int mail_dkim_alg_parse(const char *s, enum mail_dkim_alg *ret)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "rsa-sha256") == 0)
		*ret = MAIL_DKIM_RSA_SHA256;
	else if (strcmp(s, "ed25519-sha256") == 0)
		*ret = MAIL_DKIM_ED25519_SHA256;
	else
		return -EINVAL;
	return 0;
}

const char *mail_dkim_alg_name(enum mail_dkim_alg alg)
{
	switch (alg) {
	case MAIL_DKIM_RSA_SHA256:
		return "rsa-sha256";
	case MAIL_DKIM_ED25519_SHA256:
		return "ed25519-sha256";
	}
	return NULL;
}

static bool alg_valid(enum mail_dkim_alg alg)
{
	return alg == MAIL_DKIM_RSA_SHA256 || alg == MAIL_DKIM_ED25519_SHA256;
}

/* ---- OpenSSL helpers ---- */

static void pkey_freep(EVP_PKEY **k)
{
	EVP_PKEY_free(*k);
}
#define _cleanup_pkey_ _cleanup_(pkey_freep)

/* Wipes and frees a NUL-terminated secret. */
static void secret_freep(char **p)
{
	if (*p) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
	}
}
#define _cleanup_secret_ _cleanup_(secret_freep)

/* An encrypted PEM would otherwise make OpenSSL ask for a password on the
 * terminal: refuse instead. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Reads an unencrypted RSA private key in PEM (PKCS#1 or PKCS#8). */
static int rsa_key_load(const char *pem, EVP_PKEY **ret, const char **ret_msg)
{
	size_t len = pem ? strnlen(pem, KEY_TEXT_MAX + 1) : 0;

	if (len == 0) {
		*ret_msg = "the RSA private key is empty";
		return -EINVAL;
	}
	if (len > KEY_TEXT_MAX) {
		*ret_msg = "the RSA private key is too long for a PEM key";
		return -EINVAL;
	}
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		*ret_msg = "out of memory";
		return -ENOMEM;
	}
	EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!k) {
		*ret_msg = "the RSA private key is not an unencrypted PEM private key";
		return -EINVAL;
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		*ret_msg = "the private key is not an RSA key";
		return -EINVAL;
	}
	int bits = EVP_PKEY_get_bits(k);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
		EVP_PKEY_free(k);
		*ret_msg = "the RSA key must have 1024 to 4096 bits (2048 recommended)";
		return -EINVAL;
	}
	*ret = k;
	return 0;
}

/* Decodes the base64 of a 32-byte Ed25519 seed. */
static int ed25519_seed_load(const char *b64, unsigned char seed[ED25519_SEED_LEN], const char **ret_msg)
{
	struct slice s = slice_trim(slice_from(b64));
	unsigned char tmp[3 * 64 / 4];
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0, r = 0;

	if (s.len == 0) {
		*ret_msg = "the Ed25519 private key is empty";
		return -EINVAL;
	}
	if (slice_starts_with(s, "-----")) {
		*ret_msg = "the Ed25519 private key is a PEM key; expected the base64 of its 32-byte seed";
		return -EINVAL;
	}
	/* Decoded by hand into a stack buffer so the secret is never copied
	 * into memory that is freed without being wiped. */
	for (size_t i = 0; i < s.len && r == 0; i++) {
		unsigned char c = (unsigned char)s.p[i];
		int v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=') {
			for (size_t j = i; j < s.len; j++)
				if (s.p[j] != '=')
					r = -EINVAL;
			break;
		} else {
			r = -EINVAL;
			break;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == sizeof(tmp)) {
				r = -EINVAL;
				break;
			}
			tmp[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (r == 0 && n == ED25519_SEED_LEN)
		memcpy(seed, tmp, ED25519_SEED_LEN);
	sodium_memzero(tmp, sizeof(tmp));
	acc = 0;
	if (r < 0 || n != ED25519_SEED_LEN) {
		*ret_msg = "the Ed25519 private key must be the base64 of a 32-byte seed";
		return -EINVAL;
	}
	return 0;
}

/* An EVP_PKEY for the private key text of `alg`. */
static int key_load(enum mail_dkim_alg alg, const char *private_key, EVP_PKEY **ret, const char **ret_msg)
{
	if (alg == MAIL_DKIM_RSA_SHA256)
		return rsa_key_load(private_key, ret, ret_msg);

	unsigned char seed[ED25519_SEED_LEN];
	int r = ed25519_seed_load(private_key, seed, ret_msg);
	if (r < 0)
		return r;
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	sodium_memzero(seed, sizeof(seed));
	if (!k) {
		ERR_clear_error();
		*ret_msg = "OpenSSL cannot make an Ed25519 key";
		return -EIO;
	}
	*ret = k;
	return 0;
}

/* The unencrypted PKCS#8 PEM of k as a C string (free with secret_freep). */
static int pkey_to_pem(EVP_PKEY *k, char **ret)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	char *data = NULL;
	long n;
	int r = -EIO;
	if (PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0) {
		*ret = xstrndup(data, (size_t)n);
		r = 0;
	}
	BIO_free(bio); /* the memory BIO wipes its buffer when freed */
	ERR_clear_error();
	return r;
}

/* ---- public keys ---- */

static int txt_put(struct buf *txt, const char *k, const unsigned char *pub, size_t len)
{
	int r = buf_printf(txt, "v=DKIM1; k=%s; p=", k);
	if (r >= 0)
		r = mail_base64_encode(txt, (struct slice){ (const char *)pub, len }, 0);
	return r;
}

static int rsa_txt(EVP_PKEY *k, char **ret_txt)
{
	/* p= of an RSA key is its SubjectPublicKeyInfo (RFC 6376 3.6.1). */
	int n = i2d_PUBKEY(k, NULL);
	if (n <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	_cleanup_free_ unsigned char *der = xmalloc((size_t)n);
	unsigned char *p = der;
	if (i2d_PUBKEY(k, &p) != n) {
		ERR_clear_error();
		return -EIO;
	}
	_cleanup_buf_ struct buf txt = BUF_INIT(4096);
	int r = txt_put(&txt, "rsa", der, (size_t)n);
	if (r < 0)
		return r;
	*ret_txt = buf_steal(&txt);
	return 0;
}

static int ed25519_txt(const unsigned char seed[ED25519_SEED_LEN], char **ret_txt)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

	BUG_ON(crypto_sign_SEEDBYTES != ED25519_SEED_LEN);
	int r = crypto_sign_seed_keypair(pk, sk, seed) == 0 ? 0 : -EIO;
	sodium_memzero(sk, sizeof(sk));
	if (r < 0)
		return r;
	/* p= of an Ed25519 key is the raw 32-byte public key (RFC 8463 4). */
	_cleanup_buf_ struct buf txt = BUF_INIT(256);
	r = txt_put(&txt, "ed25519", pk, sizeof(pk));
	if (r < 0)
		return r;
	*ret_txt = buf_steal(&txt);
	return 0;
}

int mail_dkim_public_txt(enum mail_dkim_alg alg, const char *private_key, char **ret_txt)
{
	const char *msg = NULL;
	int r;

	if (!alg_valid(alg))
		return -EINVAL;
	if ((r = dkim_ready(&msg)) < 0)
		return r;
	if (alg == MAIL_DKIM_RSA_SHA256) {
		_cleanup_pkey_ EVP_PKEY *k = NULL;
		if ((r = rsa_key_load(private_key, &k, &msg)) < 0)
			return r;
		return rsa_txt(k, ret_txt);
	}
	unsigned char seed[ED25519_SEED_LEN];
	if ((r = ed25519_seed_load(private_key, seed, &msg)) < 0)
		return r;
	r = ed25519_txt(seed, ret_txt);
	sodium_memzero(seed, sizeof(seed));
	return r;
}

int mail_dkim_keygen(enum mail_dkim_alg alg, char **ret_private, char **ret_txt)
{
	const char *msg = NULL;
	_cleanup_secret_ char *priv = NULL;
	_cleanup_free_ char *txt = NULL;
	int r;

	if (!alg_valid(alg))
		return -EINVAL;
	if ((r = dkim_ready(&msg)) < 0)
		return r;
	if (alg == MAIL_DKIM_RSA_SHA256) {
		_cleanup_pkey_ EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_KEYGEN_BITS);
		if (!k) {
			ERR_clear_error();
			return -EIO;
		}
		if ((r = pkey_to_pem(k, &priv)) < 0 || (r = rsa_txt(k, &txt)) < 0)
			return r;
	} else {
		unsigned char seed[ED25519_SEED_LEN];
		randombytes_buf(seed, sizeof(seed));
		r = ed25519_txt(seed, &txt);
		if (r == 0) {
			/* The 44 characters fit a buf's first allocation (64 bytes):
			 * it never reallocates, so no unwiped copy is left behind. */
			struct buf b = BUF_INIT(0);
			r = mail_base64_encode(&b, (struct slice){ (const char *)seed, sizeof(seed) }, 0);
			priv = buf_steal(&b);
		}
		sodium_memzero(seed, sizeof(seed));
		if (r < 0)
			return r;
	}
	*ret_private = priv;
	*ret_txt = txt;
	priv = txt = NULL;
	return 0;
}

/* ---- signing ---- */

/* A host name of LDH labels (RFC 6376 "sub-domain", as selectors and d=
 * are): each label 1-63 characters of [A-Za-z0-9-], not starting or ending
 * with '-'.  IDNs come as A-labels ("xn--..."). */
static bool dns_name_valid(const char *s, size_t max)
{
	size_t len = s ? strnlen(s, max + 1) : 0;
	if (len == 0 || len > max)
		return false;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > DNS_LABEL_MAX || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* Appends value for an error message: printable ASCII, at most 64 bytes. */
static void put_quoted(struct buf *b, const char *value)
{
	size_t n = strnlen(value, 65);
	(void)buf_putc(b, '"');
	for (size_t i = 0; i < n && i < 64; i++) {
		unsigned char c = (unsigned char)value[i];
		(void)buf_putc(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	(void)buf_puts(b, n > 64 ? "...\"" : "\"");
}

static int sign_fail(char **ret_err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sign_fail(char **ret_err, int r, const char *fmt, ...)
{
	if (ret_err) {
		struct buf b = BUF_INIT(1024);
		va_list ap;
		va_start(ap, fmt);
		(void)buf_puts(&b, "dkim: ");
		(void)buf_vprintf(&b, fmt, ap);
		va_end(ap);
		*ret_err = buf_steal(&b);
	}
	return r;
}

static int name_fail(char **ret_err, const char *what, const char *value)
{
	if (!value)
		return sign_fail(ret_err, -EINVAL, "no %s given", what);
	_cleanup_buf_ struct buf q = BUF_INIT(256);
	put_quoted(&q, value);
	return sign_fail(ret_err, -EINVAL, "invalid %s %s: expected a host name of letters, digits, '-' and '.'",
			 what, q.p);
}

/* Appends "DKIM-Signature: " and the header libopendkim made, its folds
 * turned into CRLF, and a final CRLF. */
static int put_sighdr(struct buf *out, const unsigned char *hdr, size_t len)
{
	int r = buf_puts(out, DKIM_SIGNHEADER ": ");
	for (size_t i = 0; i < len && r >= 0; i++) {
		if (hdr[i] == '\r')
			continue;
		r = hdr[i] == '\n' ? buf_puts(out, "\r\n") : buf_putc(out, (char)hdr[i]);
	}
	if (r >= 0)
		r = buf_puts(out, "\r\n");
	return r;
}

/* One signing handle and the closure its allocations go through. */
struct sign_handle {
	DKIM *d;
	bool ed25519;
	struct dkim_allocs allocs;
};

static void sign_handle_release(struct sign_handle *h)
{
	if (!h->d)
		return;
	if (h->ed25519)
		ed25519_crypto_release(&h->allocs);
	(void)dkim_free(h->d);
}

/* The message of a failed libopendkim call. */
static const char *dkim_errmsg(DKIM *d, DKIM_STAT st)
{
	const char *e = d ? dkim_geterror(d) : NULL;
	if (!e || !*e)
		e = dkim_getresultstr(st);
	return e ? e : "unknown error";
}

int mail_dkim_sign(enum mail_dkim_alg alg, const char *domain, const char *selector, const char *private_key,
		   struct slice message, struct buf *out, char **ret_err)
{
	const char *msg = NULL;
	_cleanup_pkey_ EVP_PKEY *key = NULL;
	_cleanup_secret_ char *pem = NULL;
	_cleanup_(sign_handle_release) struct sign_handle h = { .ed25519 = alg == MAIL_DKIM_ED25519_SHA256 };
	DKIM_STAT st;
	int r;

	if (!alg_valid(alg))
		return sign_fail(ret_err, -EINVAL, "unknown signing algorithm %d", (int)alg);
	if ((r = dkim_ready(&msg)) < 0)
		return sign_fail(ret_err, r, "%s", msg);
	if (!dns_name_valid(domain, DNS_NAME_MAX))
		return name_fail(ret_err, "domain", domain);
	if (!dns_name_valid(selector, DNS_NAME_MAX))
		return name_fail(ret_err, "selector", selector);
	/* The key record lives at <selector>._domainkey.<domain>. */
	if (strlen(selector) + strlen("._domainkey.") + strlen(domain) > DNS_NAME_MAX)
		return sign_fail(ret_err, -EINVAL, "selector and domain make a DNS name longer than %d characters",
				 DNS_NAME_MAX);
	if ((r = key_load(alg, private_key, &key, &msg)) < 0)
		return sign_fail(ret_err, r, "%s", msg);
	if ((r = pkey_to_pem(key, &pem)) < 0)
		return sign_fail(ret_err, r, "cannot hand the key to libopendkim");
	if (message.len == 0)
		return sign_fail(ret_err, -EIO, "the message is empty");

	/* One handle per signature: the DKIM_LIB is shared, the handle not. */
	dkim_alg_t sign_alg = alg == MAIL_DKIM_RSA_SHA256 ? DKIM_SIGN_RSASHA256 : DKIM_SIGN_ED25519SHA256;
	DKIM *d = h.d = dkim_sign(dkim_lib, (const unsigned char *)"kunren", &h.allocs, (dkim_sigkey_t)pem,
				  (const unsigned char *)selector, (const unsigned char *)domain,
				  DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, sign_alg, -1, &st);
	if (!d)
		return sign_fail(ret_err, -EIO, "dkim_sign: %s", dkim_errmsg(NULL, st));
	/* dkim_chunk() only reads the buffer; its prototype lacks the const. */
	st = dkim_chunk(d, (unsigned char *)(uintptr_t)message.p, message.len);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(d, NULL, 0);
	if (st == DKIM_STAT_OK) {
		h.allocs.noting = true;
		st = dkim_eom(d, NULL);
		h.allocs.noting = false;
	}
	if (st != DKIM_STAT_OK)
		return sign_fail(ret_err, -EIO, "signing failed: %s", dkim_errmsg(d, st));

	unsigned char *hdr = NULL;
	size_t hdr_len = 0;
	st = dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER) + 2, &hdr, &hdr_len);
	if (st != DKIM_STAT_OK || !hdr)
		return sign_fail(ret_err, -EIO, "dkim_getsighdr_d: %s", dkim_errmsg(d, st));

	_cleanup_buf_ struct buf sig = BUF_INIT(0); /* h= grows with the signed headers */
	if ((r = put_sighdr(&sig, hdr, hdr_len)) < 0 || (r = buf_put_slice(out, buf_slice(&sig))) < 0)
		return sign_fail(ret_err, r, "the signature header does not fit: %s", strerror(-r));
	return 0;
}
