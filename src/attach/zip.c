/*
 * zip.c — zip archives written in memory with libzip: the OOXML packages of
 * build.c (attach__zip_*) and the archives a training file travels in
 * (attach_zip: plain, ZipCrypto, AES-256).
 *
 * libzip writes into a zip_source_buffer that we keep alive across
 * zip_close() (zip_source_keep), then read back into the caller's buf: no
 * temporary files, and a failure leaves the caller's buf as it was.
 *
 * Reproducible output: every entry carries the same DOS time
 * (ATTACH_ZIP_DOSTIME) instead of "now", and libzip adds no extra fields of
 * its own, so two copies of one document differ only where their content
 * does (the beacon URL).  Encrypted archives are the exception: each holds
 * random bytes by design (the 12-byte ZipCrypto header, the AES salt).
 *
 * Encryption: Debian 12's libzip 1.7.3 writes traditional PKWARE
 * encryption itself (zip_encryption_method_supported(ZIP_EM_TRAD_PKWARE, 1)
 * is 1; writing arrived in libzip 1.7.0), so we do not carry our own
 * ZipCrypto.  It writes the entry with a data descriptor (bit 3) and ends
 * the 12-byte header with the high byte of the DOS time, which is what
 * Windows Explorer, Info-ZIP unzip and 7-Zip check the password against
 * when bit 3 is set — provided the entry keeps the time libzip took from
 * its source (see attach_zip()).
 */
#include <zip.h>

#include "attach/attach.h"

/* 2026-01-01 00:00:00 in MS-DOS date/time fields: a fixed stamp, so a
 * document's bytes depend on its content only. */
#define ATTACH_ZIP_DOSDATE (((2026 - 1980) << 9) | (1 << 5) | 1)
#define ATTACH_ZIP_DOSTIME 0

struct attach__zip {
	zip_source_t *src;   /* the archive's bytes, ours (kept past zip_close) */
	zip_t *za;
	int r;               /* first error */
};

/* libzip reports errors as its own codes; we return errno values. */
static int zip_errno(const zip_error_t *e)
{
	switch (zip_error_code_zip(e)) {
	case ZIP_ER_MEMORY:
		return -ENOMEM;
	case ZIP_ER_INVAL:
		return -EINVAL;
	case ZIP_ER_ENCRNOTSUPP:
	case ZIP_ER_COMPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

struct attach__zip *attach__zip_new(void)
{
	struct attach__zip *z = xcalloc(1, sizeof(*z));
	zip_error_t err;

	zip_error_init(&err);
	z->src = zip_source_buffer_create(NULL, 0, 0, &err);
	if (z->src)
		z->za = zip_open_from_source(z->src, ZIP_TRUNCATE, &err);
	if (!z->za) {
		z->r = zip_errno(&err);
		if (z->src)
			zip_source_free(z->src);
		z->src = NULL;
	} else {
		zip_source_keep(z->src);   /* survives zip_close(), which frees one reference */
	}
	zip_error_fini(&err);
	return z;
}

void attach__zip_free(struct attach__zip *z)
{
	if (!z)
		return;
	if (z->za)
		zip_discard(z->za);
	if (z->src)
		zip_source_free(z->src);
	free(z);
}

/* Adds an entry; stamp: with the fixed DOS time (else the time libzip
 * takes from the source: now). */
static int zip_add_entry(struct attach__zip *z, const char *name, const void *data, size_t len, bool store,
			 bool stamp)
{
	if (z->r < 0)
		return z->r;
	/* freep=1: libzip frees the copy when the archive is closed or
	 * discarded (an empty buffer it does not keep: nothing to free) */
	void *copy = len ? xmalloc(len) : NULL;
	if (len)
		memcpy(copy, data, len);
	zip_source_t *s = zip_source_buffer(z->za, copy, len, len > 0);
	if (!s) {
		free(copy);
		return z->r = zip_errno(zip_get_error(z->za));
	}
	zip_int64_t idx = zip_file_add(z->za, name, s, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
	if (idx < 0) {
		zip_source_free(s);
		return z->r = zip_errno(zip_get_error(z->za));
	}
	if (zip_set_file_compression(z->za, (zip_uint64_t)idx, store ? ZIP_CM_STORE : ZIP_CM_DEFLATE,
				     store ? 0 : 6) < 0 ||
	    (stamp && zip_file_set_dostime(z->za, (zip_uint64_t)idx, ATTACH_ZIP_DOSTIME, ATTACH_ZIP_DOSDATE, 0) < 0))
		return z->r = zip_errno(zip_get_error(z->za));
	return (int)idx;
}

int attach__zip_add(struct attach__zip *z, const char *name, const void *data, size_t len, bool store)
{
	return zip_add_entry(z, name, data, len, store, true);
}

/* Encrypts entry idx with method (ZIP_EM_*) and password. */
static int zip_encrypt(struct attach__zip *z, int idx, zip_uint16_t method, const char *password)
{
	if (z->r < 0)
		return z->r;
	if (zip_file_set_encryption(z->za, (zip_uint64_t)idx, method, password) < 0)
		return z->r = zip_errno(zip_get_error(z->za));
	return 0;
}

/* Writes the archive and appends its bytes to out; out is unchanged on
 * error.  Frees z in every case. */
int attach__zip_finish(struct attach__zip *z, struct buf *out)
{
	int r = z->r;
	zip_stat_t st;

	if (r < 0)
		goto out;
	if (zip_close(z->za) < 0) {
		r = zip_errno(zip_get_error(z->za));
		goto out;
	}
	z->za = NULL;
	if (zip_source_stat(z->src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) || zip_source_open(z->src) < 0) {
		r = zip_errno(zip_source_error(z->src));
		goto out;
	}
	size_t base = out->len;
	char chunk[16384];
	zip_uint64_t left = st.size;
	while (r >= 0 && left) {
		zip_int64_t n = zip_source_read(z->src, chunk, left < sizeof(chunk) ? left : sizeof(chunk));
		if (n <= 0)
			r = n < 0 ? zip_errno(zip_source_error(z->src)) : -EIO;
		else
			r = buf_append(out, chunk, (size_t)n), left -= (zip_uint64_t)n;
	}
	zip_source_close(z->src);
	if (r < 0) {
		out->len = base;   /* on error out is left as it was */
		out->p[out->len] = '\0';
	}
out:
	attach__zip_free(z);
	return r < 0 ? r : 0;
}

int attach_zip(const char *name, struct slice file, enum attach_archive archive, const char *password,
	       struct buf *out)
{
	zip_uint16_t method;

	if (!name || !*name || strlen(name) > 255 || (!file.p && file.len) || !out)
		return -EINVAL;
	/* An entry name is a relative path of one component for us: no
	 * directories, nothing a careless unzip could write outside its folder. */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return -EINVAL;
	if (!strcmp(name, ".") || !strcmp(name, "..") || !attach__utf8_valid(name, strlen(name)))
		return -EINVAL;
	switch (archive) {
	case ATTACH_ARCHIVE_ZIP:
		method = ZIP_EM_NONE;
		break;
	case ATTACH_ARCHIVE_PASSWORD:
		method = ZIP_EM_TRAD_PKWARE;
		break;
	case ATTACH_ARCHIVE_AES:
		method = ZIP_EM_AES_256;
		break;
	default:
		return -EINVAL;
	}
	if (method != ZIP_EM_NONE && (!password || !*password || strlen(password) > 128))
		return -EINVAL;

	struct attach__zip *z = attach__zip_new();
	/* libzip 1.7.3 derives the ZipCrypto check byte from the source's
	 * time, not from the entry's: a fixed time on an encrypted entry makes
	 * every reader (unzip, 7-Zip, Explorer) reject the password.  Those
	 * archives keep libzip's own time (now); they differ per copy anyway. */
	int idx = zip_add_entry(z, name, file.p ? file.p : "", file.len, false, method == ZIP_EM_NONE);
	if (idx >= 0 && method != ZIP_EM_NONE)
		zip_encrypt(z, idx, method, password);
	return attach__zip_finish(z, out);
}
