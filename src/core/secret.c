/*
 * secret.c — secrets at rest (SMTP passwords, DKIM private keys) sealed with
 * the server's key: XSalsa20-Poly1305 (libsodium crypto_secretbox), a fresh
 * nonce per seal stored in front of the ciphertext.
 */
#include "core/core.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

int secret_key_load(const char *path, struct secret_key *ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1024);
	int r = file_read(path, 1024, &b);
	if (r == -ENOENT) {
		struct secret_key k;
		random_bytes(k.k, sizeof(k.k));
		/* created 0600 before anything is written into it */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		ssize_t w = write(fd, k.k, sizeof(k.k));
		int e = w == (ssize_t)sizeof(k.k) && fsync(fd) == 0 ? 0 : -EIO;
		close(fd);
		if (e < 0) {
			unlink(path);
			return e;
		}
		*ret = k;
		return 1;
	}
	if (r < 0)
		return r;
	if (b.len != sizeof(ret->k))
		return -EINVAL;
	memcpy(ret->k, b.p, sizeof(ret->k));
	return 0;
}

int secret_seal(const struct secret_key *k, struct slice plain, struct buf *out)
{
	_Static_assert(sizeof(k->k) == crypto_secretbox_KEYBYTES, "secret key size");
	const size_t head = crypto_secretbox_NONCEBYTES;
	size_t n = st_add(head, st_add(plain.len, crypto_secretbox_MACBYTES));
	_cleanup_free_ unsigned char *box = xmalloc(n);
	random_bytes(box, head);
	crypto_secretbox_easy(box + head, (const unsigned char *)plain.p, plain.len, box, k->k);
	return buf_append(out, box, n);
}

int secret_open(const struct secret_key *k, struct slice sealed, struct buf *out)
{
	const size_t head = crypto_secretbox_NONCEBYTES, mac = crypto_secretbox_MACBYTES;
	if (sealed.len < head + mac)
		return -EINVAL;
	size_t n = sealed.len - head - mac;
	_cleanup_free_ unsigned char *plain = xmalloc(n + 1);
	if (crypto_secretbox_open_easy(plain, (const unsigned char *)sealed.p + head, sealed.len - head,
				       (const unsigned char *)sealed.p, k->k) != 0)
		return -EBADMSG;
	int r = buf_append(out, plain, n);
	sodium_memzero(plain, n);
	return r;
}

void secret_wipe(struct buf *b)
{
	if (b->cap)
		sodium_memzero(b->p, b->cap);
	b->len = 0;
}
