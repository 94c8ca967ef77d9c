/*
 * Unit tests for src/mail/dkim.c: keys, signatures checked by an independent
 * verifier (Debian's python3-dkim, through dkim_verify.py beside this file),
 * tampering, hostile keys, names and messages, threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "mail/mail.h"

extern char **environ;

#define PYTHON "/usr/bin/python3"
#define DOMAIN "example.co.jp"
#define SELECTOR "kunren2026"

static char tmpdir[] = "/tmp/kunren-dkim-XXXXXX";
static char verify_script[4096];

/* Keys made once: RSA key generation takes a moment. */
static char *rsa_priv, *rsa_txt, *ed_priv, *ed_txt;

static const char jp_subject[] = "【重要】パスワード有効期限のお知らせ：本日中にご対応ください（情報システム部）";
static const char jp_text[] = "山田様\r\n\r\nパスワードの有効期限が本日で切れます。\r\n"
			      "下記のリンクから更新してください。\r\nhttps://example.com/r/abc\r\n";
static const char *const extra[] = { "X-Mailer", "Kunren", NULL };

static struct mail_message sample(void)
{
	return (struct mail_message){
		.from_name = "情報システム部",
		.from_addr = "it@example.co.jp",
		.to_name = "山田 太郎",
		.to_addr = "taro@example.co.jp",
		.reply_to = "reply@example.co.jp",
		.subject = jp_subject,
		.text = jp_text,
		.html = "<p>山田様</p><p><a href=\"https://example.com/r/abc\">こちら</a>から更新</p>",
		.date = 1795783500,
		.tz = tz_get("Asia/Tokyo"),
		.id_domain = "mail.example.co.jp",
		.extra_headers = extra,
	};
}

static void build(const struct mail_message *m, struct buf *msg)
{
	buf_init(msg, 0);
	assert_int_equal(mail_build(m, msg, NULL), 0);
}

/* Signs msg and returns the signed message: the signature header in front. */
static void sign_into(enum mail_dkim_alg alg, const char *key, struct slice msg, struct buf *signed_msg)
{
	char *err = NULL;
	buf_init(signed_msg, 0);
	int r = mail_dkim_sign(alg, DOMAIN, SELECTOR, key, msg, signed_msg, &err);
	if (r != 0)
		fail_msg("mail_dkim_sign: %d %s", r, err ? err : "(no message)");
	assert_null(err);
	assert_int_equal(buf_put_slice(signed_msg, msg), 0);
}

/* ---- the independent verifier ---- */

static char *write_tmp(const char *name, struct slice data)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data.p, 1, data.len, f), data.len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Runs dkim_verify.py on the messages with txt published for
 * SELECTOR._domainkey.DOMAIN; returns its exit code (0: all verify). */
static int verify_many(const char *txt, const struct slice *msgs, size_t n)
{
	char *txt_path = write_tmp("key.txt", slice_from(txt));
	char **paths = xcalloc(n, sizeof(char *));
	char **argv = xcalloc(n + 6, sizeof(char *));
	size_t a = 0;
	argv[a++] = (char *)PYTHON;
	argv[a++] = verify_script;
	argv[a++] = (char *)DOMAIN;
	argv[a++] = (char *)SELECTOR;
	argv[a++] = txt_path;
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "msg-%zu.eml", i);
		paths[i] = write_tmp(name, msgs[i]);
		argv[a++] = paths[i];
	}
	argv[a] = NULL;

	fflush(stdout);
	pid_t pid;
	int rc = posix_spawn(&pid, PYTHON, NULL, NULL, argv, environ);
	if (rc != 0)
		fail_msg("cannot run %s: %s", PYTHON, strerror(rc));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	int code = WEXITSTATUS(status);
	if (code == 2)
		fail_msg("dkim_verify.py could not run (is python3-dkim installed?)");

	for (size_t i = 0; i < n; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	unlink(txt_path);
	free(txt_path);
	free(paths);
	free(argv);
	return code;
}

static int verify_one(const char *txt, struct slice msg)
{
	return verify_many(txt, &msg, 1);
}

/* ---- checks of the header itself ---- */

static void assert_crlf_only(struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\r')
			assert_true(i + 1 < s.len && s.p[i + 1] == '\n');
		if (s.p[i] == '\n')
			assert_true(i > 0 && s.p[i - 1] == '\r');
	}
	assert_true(s.len >= 2 && s.p[s.len - 2] == '\r' && s.p[s.len - 1] == '\n');
}

/* The DKIM-Signature header at the start of signed, unfolded and with all
 * white space removed ("v=1;a=...;"). */
static char *sighdr_compact(struct slice signed_msg, size_t *ret_raw_len)
{
	assert_true(slice_starts_with(signed_msg, "DKIM-Signature: "));
	size_t end = 0;
	for (size_t i = 0; i + 2 < signed_msg.len; i++) {
		if (signed_msg.p[i] == '\r' && signed_msg.p[i + 1] == '\n' && signed_msg.p[i + 2] != ' ' &&
		    signed_msg.p[i + 2] != '\t') {
			end = i + 2;
			break;
		}
	}
	assert_true(end > 0);
	*ret_raw_len = end;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = strlen("DKIM-Signature:"); i < end; i++) {
		char c = signed_msg.p[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			assert_int_equal(buf_putc(&b, c), 0);
	}
	return buf_steal(&b);
}

/* Value of tag `name` in a compact tag list, or NULL. */
static char *tag_value(const char *tags, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = tags; *p;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
			return xstrndup(p + n + 1, len - n - 1);
		p += len + (semi ? 1 : 0);
	}
	return NULL;
}

static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len == n && strncasecmp(p, name, n) == 0)
			return true;
		p += len + (colon ? 1 : 0);
	}
	return false;
}

static size_t list_count(const char *list)
{
	size_t n = *list ? 1 : 0;
	for (const char *p = list; *p; p++)
		n += *p == ':';
	return n;
}

/* The signature header: CRLF folding within 78 columns, the tags we ask for. */
static void check_sighdr(struct slice signed_msg, const char *alg, bool with_reply_to)
{
	size_t raw_len;
	char *tags = sighdr_compact(signed_msg, &raw_len);
	struct slice raw = { signed_msg.p, raw_len };
	assert_crlf_only(raw);
	size_t col = 0;
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.p[i] == '\r') {
			assert_true(col <= 78);
			col = 0;
			i++;
			assert_true(i + 1 >= raw.len || raw.p[i + 1] == '\t' || raw.p[i + 1] == ' ');
		} else {
			col++;
		}
	}

	char *v = tag_value(tags, "v"), *a = tag_value(tags, "a"), *c = tag_value(tags, "c");
	char *d = tag_value(tags, "d"), *s = tag_value(tags, "s"), *h = tag_value(tags, "h");
	char *bh = tag_value(tags, "bh"), *b = tag_value(tags, "b"), *t = tag_value(tags, "t");
	assert_string_equal(v, "1");
	assert_string_equal(a, alg);
	assert_string_equal(c, "relaxed/relaxed");
	assert_string_equal(d, DOMAIN);
	assert_string_equal(s, SELECTOR);
	assert_non_null(bh);
	assert_non_null(b);
	assert_non_null(t);
	assert_non_null(h);
	static const char *const want[] = { "From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
					    "Content-Type" };
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!list_has(h, want[i]))
			fail_msg("h=%s lacks %s", h, want[i]);
	assert_int_equal(list_has(h, "Reply-To"), with_reply_to);
	assert_false(list_has(h, "X-Mailer"));
	assert_int_equal(list_count(h), ARRAY_SIZE(want) + (with_reply_to ? 1 : 0));
	/* An Ed25519 signature is 64 bytes, an RSA 2048 one 256. */
	assert_int_equal(strlen(b), strcmp(alg, "rsa-sha256") == 0 ? 344 : 88);
	free(v), free(a), free(c), free(d), free(s), free(h), free(bh), free(b), free(t);
	free(tags);
}

/* ---- algorithms ---- */

static void test_alg_names(void **state)
{
	(void)state;
	enum mail_dkim_alg algs[] = { MAIL_DKIM_RSA_SHA256, MAIL_DKIM_ED25519_SHA256 };
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		enum mail_dkim_alg back = (enum mail_dkim_alg)-1;
		const char *name = mail_dkim_alg_name(algs[i]);
		assert_non_null(name);
		assert_int_equal(mail_dkim_alg_parse(name, &back), 0);
		assert_int_equal(back, algs[i]);
	}
	assert_string_equal(mail_dkim_alg_name(MAIL_DKIM_RSA_SHA256), "rsa-sha256");
	assert_string_equal(mail_dkim_alg_name(MAIL_DKIM_ED25519_SHA256), "ed25519-sha256");
	assert_null(mail_dkim_alg_name((enum mail_dkim_alg)7));

	static const char *const bad[] = { "", "rsa-sha1", "rsa", "ed25519", "rsa-sha256 ", " ed25519-sha256",
					   "RSA-SHA256x", "ed25519-sha2566" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		enum mail_dkim_alg out = MAIL_DKIM_ED25519_SHA256;
		assert_int_equal(mail_dkim_alg_parse(bad[i], &out), -EINVAL);
		assert_int_equal(out, MAIL_DKIM_ED25519_SHA256); /* untouched */
	}
	enum mail_dkim_alg out = MAIL_DKIM_RSA_SHA256;
	assert_int_equal(mail_dkim_alg_parse(NULL, &out), -EINVAL);
}

/* ---- keys ---- */

static void decode_b64(const char *s, struct buf *out)
{
	buf_init(out, 0);
	assert_int_equal(mail_base64_decode(out, slice_from(s)), 0);
}

static void test_keygen_rsa(void **state)
{
	(void)state;
	assert_true(slice_starts_with(slice_from(rsa_priv), "-----BEGIN PRIVATE KEY-----\n"));
	assert_true(slice_starts_with(slice_from(rsa_txt), "v=DKIM1; k=rsa; p="));
	/* p= is a SubjectPublicKeyInfo of a 2048-bit key. */
	struct buf der;
	decode_b64(rsa_txt + strlen("v=DKIM1; k=rsa; p="), &der);
	const unsigned char *p = (const unsigned char *)der.p;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)der.len);
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
	EVP_PKEY_free(pub);
	buf_release(&der);

	char *txt = NULL;
	assert_int_equal(mail_dkim_public_txt(MAIL_DKIM_RSA_SHA256, rsa_priv, &txt), 0);
	assert_string_equal(txt, rsa_txt);
	free(txt);

	/* Each key is new. */
	char *priv2 = NULL, *txt2 = NULL;
	assert_int_equal(mail_dkim_keygen(MAIL_DKIM_RSA_SHA256, &priv2, &txt2), 0);
	assert_string_not_equal(priv2, rsa_priv);
	assert_string_not_equal(txt2, rsa_txt);
	free(priv2);
	free(txt2);

	/* A PKCS#1 ("BEGIN RSA PRIVATE KEY") PEM of the same key works too. */
	BIO *in = BIO_new_mem_buf(rsa_priv, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	assert_non_null(k);
	BIO *out = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey_traditional(out, k, NULL, NULL, 0, NULL, NULL), 1);
	char *data;
	long n = BIO_get_mem_data(out, &data);
	char *pkcs1 = xstrndup(data, (size_t)n);
	assert_true(slice_starts_with(slice_from(pkcs1), "-----BEGIN RSA PRIVATE KEY-----"));
	assert_int_equal(mail_dkim_public_txt(MAIL_DKIM_RSA_SHA256, pkcs1, &txt), 0);
	assert_string_equal(txt, rsa_txt);
	free(txt);
	free(pkcs1);
	BIO_free(out);
	BIO_free(in);
	EVP_PKEY_free(k);
}

static void test_keygen_ed25519(void **state)
{
	(void)state;
	struct buf seed, pub;
	decode_b64(ed_priv, &seed);
	assert_int_equal(seed.len, 32);
	assert_int_equal(strlen(ed_priv), 44);
	assert_true(slice_starts_with(slice_from(ed_txt), "v=DKIM1; k=ed25519; p="));
	decode_b64(ed_txt + strlen("v=DKIM1; k=ed25519; p="), &pub);
	assert_int_equal(pub.len, 32);
	buf_release(&seed);
	buf_release(&pub);

	char *txt = NULL;
	assert_int_equal(mail_dkim_public_txt(MAIL_DKIM_ED25519_SHA256, ed_priv, &txt), 0);
	assert_string_equal(txt, ed_txt);
	free(txt);

	char *priv2 = NULL, *txt2 = NULL;
	assert_int_equal(mail_dkim_keygen(MAIL_DKIM_ED25519_SHA256, &priv2, &txt2), 0);
	assert_string_not_equal(priv2, ed_priv);
	assert_string_not_equal(txt2, ed_txt);
	free(priv2);
	free(txt2);

	/* RFC 8463 appendix A (the RFC 8032 test 1 key): seed -> public key.
	 * White space around the seed is fine, the padding optional. */
	static const char *const seeds[] = { "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
					     " nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n",
					     "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A" };
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		assert_int_equal(mail_dkim_public_txt(MAIL_DKIM_ED25519_SHA256, seeds[i], &txt), 0);
		assert_string_equal(txt, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
		free(txt);
	}
}

/* Keys that are not keys of the algorithm. */
static char *make_pem(EVP_PKEY *k, bool encrypted)
{
	BIO *out = BIO_new(BIO_s_mem());
	assert_non_null(out);
	if (encrypted)
		assert_int_equal(PEM_write_bio_PKCS8PrivateKey(out, k, EVP_aes_256_cbc(), "secret", 6, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_bio_PrivateKey(out, k, NULL, NULL, 0, NULL, NULL), 1);
	char *data;
	long n = BIO_get_mem_data(out, &data);
	char *pem = xstrndup(data, (size_t)n);
	BIO_free(out);
	return pem;
}

static void expect_bad_key(enum mail_dkim_alg alg, const char *key, const char *why)
{
	struct buf out;
	char *err = NULL, *txt = (char *)"untouched";
	buf_init(&out, 0);
	assert_int_equal(buf_puts(&out, "kept"), 0);
	int r = mail_dkim_sign(alg, DOMAIN, SELECTOR, key, SLICE_LIT("From: a@example.co.jp\r\n\r\nbody\r\n"),
			       &out, &err);
	if (r != -EINVAL)
		fail_msg("%s: got %d, want -EINVAL", why, r);
	assert_non_null(err);
	assert_true(slice_starts_with(slice_from(err), "dkim: "));
	assert_true(strlen(err) > strlen("dkim: "));
	assert_string_equal(out.p, "kept");
	free(err);
	assert_int_equal(mail_dkim_public_txt(alg, key, &txt), -EINVAL);
	assert_string_equal(txt, "untouched");
	buf_release(&out);
}

static void test_bad_keys(void **state)
{
	(void)state;
	static const enum mail_dkim_alg both[] = { MAIL_DKIM_RSA_SHA256, MAIL_DKIM_ED25519_SHA256 };
	for (size_t i = 0; i < ARRAY_SIZE(both); i++) {
		expect_bad_key(both[i], NULL, "NULL");
		expect_bad_key(both[i], "", "empty");
		expect_bad_key(both[i], "  \n", "blank");
		expect_bad_key(both[i], "garbage", "garbage");
		expect_bad_key(both[i], "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
			       "broken PEM");
	}
	/* Each algorithm refuses the other's key. */
	expect_bad_key(MAIL_DKIM_ED25519_SHA256, rsa_priv, "RSA key as ed25519");
	expect_bad_key(MAIL_DKIM_RSA_SHA256, ed_priv, "ed25519 seed as RSA");
	/* Seeds of the wrong length or alphabet. */
	expect_bad_key(MAIL_DKIM_ED25519_SHA256, "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyufw==", "31 bytes");
	expect_bad_key(MAIL_DKIM_ED25519_SHA256, "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2AB", "33 bytes");
	expect_bad_key(MAIL_DKIM_ED25519_SHA256, "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=x", "after padding");
	expect_bad_key(MAIL_DKIM_ED25519_SHA256, "nWGxne/9WmC6hEr0kuws*ERJxWl7MmkZcDusAxyuf2A=", "bad character");
	expect_bad_key(MAIL_DKIM_ED25519_SHA256,
		       "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2AnWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
		       "64 bytes");

	/* An Ed25519 key in PEM, an EC key, an RSA key too small, an encrypted one. */
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)768);
	BIO *in = BIO_new_mem_buf(rsa_priv, -1);
	EVP_PKEY *rsa = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	assert_non_null(ed);
	assert_non_null(ec);
	assert_non_null(small);
	assert_non_null(rsa);
	char *ed_pem = make_pem(ed, false), *ec_pem = make_pem(ec, false), *small_pem = make_pem(small, false);
	char *enc_pem = make_pem(rsa, true);
	expect_bad_key(MAIL_DKIM_ED25519_SHA256, ed_pem, "ed25519 PEM");
	expect_bad_key(MAIL_DKIM_RSA_SHA256, ed_pem, "ed25519 PEM as RSA");
	expect_bad_key(MAIL_DKIM_RSA_SHA256, ec_pem, "EC key");
	expect_bad_key(MAIL_DKIM_RSA_SHA256, small_pem, "768-bit RSA");
	expect_bad_key(MAIL_DKIM_RSA_SHA256, enc_pem, "encrypted PEM"); /* and no password prompt */
	/* A truncated PEM. */
	char *half = xstrndup(rsa_priv, strlen(rsa_priv) / 2);
	expect_bad_key(MAIL_DKIM_RSA_SHA256, half, "half a PEM");
	free(half);
	free(ed_pem), free(ec_pem), free(small_pem), free(enc_pem);
	EVP_PKEY_free(ed), EVP_PKEY_free(ec), EVP_PKEY_free(small), EVP_PKEY_free(rsa);
	BIO_free(in);
}

/* ---- signing and verifying ---- */

static void sign_and_verify(enum mail_dkim_alg alg, const char *priv, const char *txt)
{
	struct mail_message m = sample();
	struct buf msg, signed_msg;
	build(&m, &msg);
	sign_into(alg, priv, buf_slice(&msg), &signed_msg);
	check_sighdr(buf_slice(&signed_msg), mail_dkim_alg_name(alg), true);
	assert_int_equal(verify_one(txt, buf_slice(&signed_msg)), 0);
	buf_release(&signed_msg);

	/* Without Reply-To it is not in h=, and a text-only mail works too. */
	m.reply_to = NULL;
	m.html = NULL;
	buf_release(&msg);
	build(&m, &msg);
	sign_into(alg, priv, buf_slice(&msg), &signed_msg);
	check_sighdr(buf_slice(&signed_msg), mail_dkim_alg_name(alg), false);
	assert_int_equal(verify_one(txt, buf_slice(&signed_msg)), 0);

	/* The signature appends: what was in out stays in front of it. */
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(buf_puts(&out, "Received: by test\r\n"), 0);
	assert_int_equal(mail_dkim_sign(alg, DOMAIN, SELECTOR, priv, buf_slice(&msg), &out, NULL), 0);
	assert_true(slice_starts_with(buf_slice(&out), "Received: by test\r\nDKIM-Signature: "));
	buf_release(&out);

	buf_release(&signed_msg);
	buf_release(&msg);
}

static void test_sign_rsa(void **state)
{
	(void)state;
	sign_and_verify(MAIL_DKIM_RSA_SHA256, rsa_priv, rsa_txt);
}

static void test_sign_ed25519(void **state)
{
	(void)state;
	sign_and_verify(MAIL_DKIM_ED25519_SHA256, ed_priv, ed_txt);
}

/* A copy of s with the first `from` replaced by `to`. */
static void replace(struct slice s, const char *from, const char *to, struct buf *out)
{
	const char *p = memmem(s.p, s.len, from, strlen(from));
	if (!p)
		fail_msg("\"%s\" not in the message", from);
	buf_init(out, 0);
	assert_int_equal(buf_append(out, s.p, (size_t)(p - s.p)), 0);
	assert_int_equal(buf_puts(out, to), 0);
	size_t after = (size_t)(p - s.p) + strlen(from);
	assert_int_equal(buf_append(out, s.p + after, s.len - after), 0);
}

static void tamper(enum mail_dkim_alg alg, const char *priv, const char *txt)
{
	struct mail_message m = sample();
	m.subject = "Password expiry notice";
	m.html = NULL;
	m.text = "Dear Taro,\r\nyour password expires today.\r\n";
	struct buf msg, signed_msg, bad;
	build(&m, &msg);
	sign_into(alg, priv, buf_slice(&msg), &signed_msg);
	struct slice sm = buf_slice(&signed_msg);
	assert_int_equal(verify_one(txt, sm), 0);

	/* Changed after signing: the Subject, the From, the body (one base64
	 * character), a body line added. */
	struct slice bad_msgs[4];
	struct buf bufs[4];
	replace(sm, "Subject: Password expiry notice", "Subject: Password expiry notices", &bufs[0]);
	replace(sm, "\r\nFrom: ", "\r\nFrom: \"Boss\" <boss@example.co.jp>, ", &bufs[1]);
	buf_init(&bufs[2], 0);
	assert_int_equal(buf_put_slice(&bufs[2], sm), 0);
	size_t at = bufs[2].len - 6; /* in the last line of the base64 body */
	bufs[2].p[at] = bufs[2].p[at] == 'A' ? 'B' : 'A';
	buf_init(&bufs[3], 0);
	assert_int_equal(buf_put_slice(&bufs[3], sm), 0);
	assert_int_equal(buf_puts(&bufs[3], "P.S. click here\r\n"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++) {
		bad_msgs[i] = buf_slice(&bufs[i]);
		if (verify_one(txt, bad_msgs[i]) != 1)
			fail_msg("altered message %zu still verifies", i);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		buf_release(&bufs[i]);

	/* Not covered: an unsigned header changed, relaxed white space
	 * changes in a signed header, trailing blank lines in the body. */
	replace(sm, "X-Mailer: Kunren", "X-Mailer: Something else", &bad);
	assert_int_equal(verify_one(txt, buf_slice(&bad)), 0);
	buf_release(&bad);
	replace(sm, "Subject: Password expiry notice", "subject:   Password \t expiry   notice  ", &bad);
	assert_int_equal(verify_one(txt, buf_slice(&bad)), 0);
	buf_release(&bad);
	buf_init(&bad, 0);
	assert_int_equal(buf_put_slice(&bad, sm), 0);
	assert_int_equal(buf_puts(&bad, "\r\n\r\n"), 0);
	assert_int_equal(verify_one(txt, buf_slice(&bad)), 0);
	buf_release(&bad);

	/* Another key published under the selector: fails. */
	char *other_priv = NULL, *other_txt = NULL;
	assert_int_equal(mail_dkim_keygen(alg, &other_priv, &other_txt), 0);
	assert_int_equal(verify_one(other_txt, sm), 1);
	free(other_priv);
	free(other_txt);

	buf_release(&signed_msg);
	buf_release(&msg);
}

static void test_tamper_rsa(void **state)
{
	(void)state;
	tamper(MAIL_DKIM_RSA_SHA256, rsa_priv, rsa_txt);
}

static void test_tamper_ed25519(void **state)
{
	(void)state;
	tamper(MAIL_DKIM_ED25519_SHA256, ed_priv, ed_txt);
}

/* Japanese everywhere, long headers folded by mail_build, a long body. */
static void test_japanese(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf text, msg, s1, s2;
	buf_init(&text, 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(buf_printf(&text, "%d行目：訓練メールの本文です。リンクをクリックしないでください。\r\n", i),
				 0);
	m.text = text.p;
	m.subject = "【至急】" "経理部より：請求書の確認をお願いします。添付ファイルを開いて内容をご確認の上、"
		    "本日中にご返信ください。期限を過ぎると支払いが遅延します。";
	m.to_name = "株式会社サンプル 経理部 佐藤 花子";
	build(&m, &msg);
	sign_into(MAIL_DKIM_RSA_SHA256, rsa_priv, buf_slice(&msg), &s1);
	sign_into(MAIL_DKIM_ED25519_SHA256, ed_priv, buf_slice(&msg), &s2);
	assert_int_equal(verify_one(rsa_txt, buf_slice(&s1)), 0);
	assert_int_equal(verify_one(ed_txt, buf_slice(&s2)), 0);
	/* Sent under the other key's record: fails. */
	assert_int_equal(verify_one(ed_txt, buf_slice(&s1)), 1);
	buf_release(&s1);
	buf_release(&s2);
	buf_release(&msg);
	buf_release(&text);
}

/* ---- hostile names and messages ---- */

static void expect_bad_name(const char *domain, const char *selector)
{
	struct buf out;
	char *err = NULL;
	buf_init(&out, 0);
	int r = mail_dkim_sign(MAIL_DKIM_ED25519_SHA256, domain, selector, ed_priv,
			       SLICE_LIT("From: a@example.co.jp\r\n\r\nbody\r\n"), &out, &err);
	if (r != -EINVAL)
		fail_msg("d=%s s=%s: got %d, want -EINVAL", domain ? domain : "NULL", selector ? selector : "NULL", r);
	assert_non_null(err);
	assert_true(slice_starts_with(slice_from(err), "dkim: "));
	assert_true(utf8_valid(err, strlen(err)));
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f); /* the bad name is shown printable */
	assert_int_equal(out.len, 0);
	free(err);
	buf_release(&out);
}

static void test_bad_names(void **state)
{
	(void)state;
	char label64[70], long_name[300], too_long[300];
	memset(label64, 'a', 64);
	label64[64] = '\0';
	/* "a.a.a...a": 253 characters, the most a DNS name has, and 255. */
	for (size_t i = 0; i < 255; i++)
		long_name[i] = too_long[i] = i % 2 ? '.' : 'a';
	long_name[253] = too_long[255] = '\0';
	static const char *const bad[] = { "", ".", "example..jp", ".example.jp", "example.jp.", "-a.jp", "a-.jp",
					   "exa mple.jp", "example.jp\r\nX-Evil: 1", "例え.jp", "a_b.jp", "a;b.jp",
					   "a=b.jp", "a:b", "\x01", "@example.jp" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_bad_name(bad[i], SELECTOR);
		expect_bad_name(DOMAIN, bad[i]);
	}
	expect_bad_name(NULL, SELECTOR);
	expect_bad_name(DOMAIN, NULL);
	expect_bad_name(label64, SELECTOR);
	expect_bad_name(DOMAIN, label64);
	expect_bad_name(too_long, SELECTOR);
	expect_bad_name(DOMAIN, too_long);
	/* Each fine, together longer than a DNS name. */
	expect_bad_name(long_name + 50, long_name + 100);

	/* What is allowed: digits, hyphens inside, A-labels, 63-character labels. */
	label64[63] = '\0';
	const char *const good[] = { "xn--eckwd4c7c.xn--zckzah", "mail-1.example.co.jp", "2026", label64,
				     "Sel.Example.JP" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct buf out;
		buf_init(&out, 0);
		assert_int_equal(mail_dkim_sign(MAIL_DKIM_ED25519_SHA256, good[i], good[i], ed_priv,
						SLICE_LIT("From: a@example.co.jp\r\n\r\nbody\r\n"), &out, NULL),
				 0);
		buf_release(&out);
	}
}

/* A tiny xorshift, so the run is the same every time. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void sign_anything(struct slice msg)
{
	static const enum mail_dkim_alg algs[] = { MAIL_DKIM_ED25519_SHA256, MAIL_DKIM_RSA_SHA256 };
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		struct buf out;
		char *err = NULL;
		buf_init(&out, 0);
		int r = mail_dkim_sign(algs[i], DOMAIN, SELECTOR, i ? rsa_priv : ed_priv, msg, &out, &err);
		if (r == 0) {
			assert_null(err);
			assert_true(slice_starts_with(buf_slice(&out), "DKIM-Signature: "));
			assert_crlf_only(buf_slice(&out));
		} else {
			assert_int_equal(r, -EIO);
			assert_non_null(err);
			assert_int_equal(out.len, 0);
		}
		free(err);
		buf_release(&out);
	}
}

static void test_odd_messages(void **state)
{
	(void)state;
	static const char *const odd[] = {
		"", "\r\n", "\r\n\r\n", "no header at all", "Subject: no From\r\n\r\nbody\r\n",
		"From: a@example.co.jp", /* no line end */
		"From: a@example.co.jp\n\nLF only\n", "From: a@example.co.jp\r\n", ":\r\n\r\n",
		"From:\r\n\r\n", "From: a@example.co.jp\r\n continued\r\n\tand more\r\n\r\nbody",
		"From: a@example.co.jp\r\nFrom: b@example.co.jp\r\n\r\ntwo From\r\n", " From: x\r\n\r\n",
		"From: \"\xff\xfe\" <a@example.co.jp>\r\n\r\n\x80\x81\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(odd); i++)
		sign_anything(slice_from(odd[i]));

	/* NUL bytes, a very long header line, very many headers. */
	sign_anything((struct slice){ "From: a@example.co.jp\r\n\r\nA\0B\r\n", 30 });
	struct buf big;
	buf_init(&big, 0);
	assert_int_equal(buf_puts(&big, "From: a@example.co.jp\r\nSubject: "), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(buf_putc(&big, 'x'), 0);
	assert_int_equal(buf_puts(&big, "\r\n"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_printf(&big, "To: u%d@example.co.jp\r\n", i), 0);
	assert_int_equal(buf_puts(&big, "\r\nbody\r\n"), 0);
	sign_anything(buf_slice(&big));
	buf_release(&big);

	/* Random bytes and random header-like lines. */
	static const char *const pieces[] = { "From: a@example.co.jp", "To:", ":", "\r\n", "\n", "\r", " ", "\t",
					      "Subject: x", "DKIM-Signature: v=1; b=", "\0", "\xff", "=?UTF-8?B?",
					      "Content-Type: text/plain" };
	for (int round = 0; round < 300; round++) {
		struct buf b;
		buf_init(&b, 0);
		size_t n = rng() % 40;
		for (size_t i = 0; i < n; i++) {
			if (rng() % 3 == 0) {
				char c = (char)(rng() & 0xff);
				assert_int_equal(buf_append(&b, &c, 1), 0);
			} else {
				const char *p = pieces[rng() % ARRAY_SIZE(pieces)];
				assert_int_equal(buf_append(&b, p, *p ? strlen(p) : 1), 0);
			}
		}
		sign_anything(buf_slice(&b));
		buf_release(&b);
	}
}

/* A full out buffer: -E2BIG, out as it was, a message. */
static void test_out_cap(void **state)
{
	(void)state;
	struct buf out;
	char *err = NULL;
	buf_init(&out, 100);
	assert_int_equal(buf_puts(&out, "X-Before: 1\r\n"), 0);
	assert_int_equal(mail_dkim_sign(MAIL_DKIM_RSA_SHA256, DOMAIN, SELECTOR, rsa_priv,
					SLICE_LIT("From: a@example.co.jp\r\n\r\nbody\r\n"), &out, &err),
			 -E2BIG);
	assert_string_equal(out.p, "X-Before: 1\r\n");
	assert_non_null(err);
	free(err);
	buf_release(&out);
}

/* ---- threads ---- */

#define THREADS 4
#define PER_THREAD 6

struct worker {
	int id;
	struct buf msg;          /* the unsigned message */
	struct buf signed_msgs[PER_THREAD];
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		enum mail_dkim_alg alg = (w->id + i) % 2 ? MAIL_DKIM_RSA_SHA256 : MAIL_DKIM_ED25519_SHA256;
		buf_init(&w->signed_msgs[i], 0);
		if (mail_dkim_sign(alg, DOMAIN, SELECTOR, alg == MAIL_DKIM_RSA_SHA256 ? rsa_priv : ed_priv,
				   buf_slice(&w->msg), &w->signed_msgs[i], NULL) != 0 ||
		    buf_put_slice(&w->signed_msgs[i], buf_slice(&w->msg)) != 0)
			w->failures++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		struct mail_message m = sample();
		char subject[64];
		snprintf(subject, sizeof(subject), "訓練 %d", i);
		m.subject = subject;
		w[i] = (struct worker){ .id = i };
		build(&m, &w[i].msg);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);

	/* Verify each algorithm's messages under its own record. */
	struct slice rsa_msgs[THREADS * PER_THREAD], ed_msgs[THREADS * PER_THREAD];
	size_t n_rsa = 0, n_ed = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].failures, 0);
		for (int j = 0; j < PER_THREAD; j++) {
			struct slice s = buf_slice(&w[i].signed_msgs[j]);
			if (memmem(s.p, s.len, "a=rsa-sha256", 12))
				rsa_msgs[n_rsa++] = s;
			else
				ed_msgs[n_ed++] = s;
		}
	}
	assert_int_equal(n_rsa, THREADS * PER_THREAD / 2);
	assert_int_equal(verify_many(rsa_txt, rsa_msgs, n_rsa), 0);
	assert_int_equal(verify_many(ed_txt, ed_msgs, n_ed), 0);
	for (int i = 0; i < THREADS; i++) {
		for (int j = 0; j < PER_THREAD; j++)
			buf_release(&w[i].signed_msgs[j]);
		buf_release(&w[i].msg);
	}
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	const char *dir = strrchr(__FILE__, '/');
	snprintf(verify_script, sizeof(verify_script), "%.*s/dkim_verify.py",
		 dir ? (int)(dir - __FILE__) : 1, dir ? __FILE__ : ".");
	if (access(verify_script, R_OK) != 0) {
		fprintf(stderr, "dkim: %s not found (run from the repository root)\n", verify_script);
		return -1;
	}
	if (access(PYTHON, X_OK) != 0) {
		fprintf(stderr, "dkim: %s is missing (scripts/install-deps --test)\n", PYTHON);
		return -1;
	}
	if (!mkdtemp(tmpdir))
		return -1;
	if (mail_dkim_keygen(MAIL_DKIM_RSA_SHA256, &rsa_priv, &rsa_txt) != 0 ||
	    mail_dkim_keygen(MAIL_DKIM_ED25519_SHA256, &ed_priv, &ed_txt) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	DIR *d = opendir(tmpdir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				char *p = xasprintf("%s/%s", tmpdir, e->d_name);
				unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	rmdir(tmpdir);
	free(rsa_priv), free(rsa_txt), free(ed_priv), free(ed_txt);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_keygen_rsa),
		cmocka_unit_test(test_keygen_ed25519),
		cmocka_unit_test(test_sign_rsa),
		cmocka_unit_test(test_sign_ed25519),
		cmocka_unit_test(test_tamper_rsa),
		cmocka_unit_test(test_tamper_ed25519),
		cmocka_unit_test(test_japanese),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_odd_messages),
		cmocka_unit_test(test_out_cap),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
