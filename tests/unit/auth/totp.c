/* Tests of src/auth/totp.c: RFC 6238 and RFC 4226 test vectors, the
 * verification window, base32 (RFC 4648), the otpauth:// URI and the QR
 * code's SVG (checked module by module against libqrencode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "auth/auth.h"

#include <qrencode.h>

/* RFC 6238 Appendix B: the seeds are "1234567890" repeated to the hash's size. */
static const char seed1[] = "12345678901234567890";
static const char seed256[] = "12345678901234567890123456789012";
static const char seed512[] = "1234567890123456789012345678901234567890123456789012345678901234";

static void test_rfc6238_vectors(void **state)
{
	(void)state;
	static const struct {
		int64_t t;
		uint32_t sha1, sha256, sha512;
	} v[] = {
		{ 59, 94287082, 46119246, 90693936 },
		{ 1111111109, 7081804, 68084774, 25091201 },
		{ 1111111111, 14050471, 67062674, 99943326 },
		{ 1234567890, 89005924, 91819424, 93441116 },
		{ 2000000000, 69279037, 90698825, 38618901 },
		{ 20000000000, 65353130, 77737706, 47863826 },
	};
	assert_int_equal(sizeof(seed1) - 1, 20);
	assert_int_equal(sizeof(seed256) - 1, 32);
	assert_int_equal(sizeof(seed512) - 1, 64);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		uint32_t c = 0;
		assert_int_equal(auth_totp_code(AUTH_SHA1, (const unsigned char *)seed1, 20, v[i].t, 8, &c), 0);
		assert_int_equal(c, v[i].sha1);
		assert_int_equal(auth_totp_code(AUTH_SHA256, (const unsigned char *)seed256, 32, v[i].t, 8, &c), 0);
		assert_int_equal(c, v[i].sha256);
		assert_int_equal(auth_totp_code(AUTH_SHA512, (const unsigned char *)seed512, 64, v[i].t, 8, &c), 0);
		assert_int_equal(c, v[i].sha512);
	}
}

/* RFC 4226 Appendix D: HOTP of counters 0 to 9; TOTP's counter is t / 30. */
static void test_rfc4226_hotp(void **state)
{
	(void)state;
	static const uint32_t want[10] = { 755224, 287082, 359152, 969429, 338314,
					   254676, 287922, 162583, 399871, 520489 };
	for (int64_t counter = 0; counter < 10; counter++) {
		uint32_t c = 0;
		assert_int_equal(auth_totp_code(AUTH_SHA1, (const unsigned char *)seed1, 20, counter * 30, 6, &c), 0);
		assert_int_equal(c, want[counter]);
		/* Anywhere within the step gives the same code. */
		assert_int_equal(auth_totp_code(AUTH_SHA1, (const unsigned char *)seed1, 20, counter * 30 + 29, 6, &c),
				 0);
		assert_int_equal(c, want[counter]);
	}
}

static void test_code_arguments(void **state)
{
	(void)state;
	uint32_t c = 12345;
	const unsigned char *k = (const unsigned char *)seed1;
	assert_int_equal(auth_totp_code(AUTH_SHA1, k, 20, 59, 7, &c), -EINVAL);
	assert_int_equal(auth_totp_code(AUTH_SHA1, k, 20, -1, 6, &c), -EINVAL);
	assert_int_equal(auth_totp_code(AUTH_SHA1, k, 0, 59, 6, &c), -EINVAL);
	assert_int_equal(auth_totp_code((enum auth_hash)7, k, 20, 59, 6, &c), -EINVAL);
	assert_int_equal(c, 12345); /* untouched on failure */
}

static void code_str(const unsigned char *key, size_t keylen, int64_t t, char out[7])
{
	uint32_t c;
	assert_int_equal(auth_totp_code(AUTH_SHA1, key, keylen, t, 6, &c), 0);
	snprintf(out, 7, "%06u", (unsigned)c);
}

static void test_verify_window(void **state)
{
	(void)state;
	const unsigned char key[AUTH_TOTP_KEY_LEN] = "\x3d\xc6\xca\xa4\x82\x4a\x6d\x28\x87\x67"
						     "\xb2\x33\x1e\x20\xb4\x31\x66\xcb\x85\xd9";
	const int64_t now = 1700000015, step = now / 30;
	char code[7];
	int64_t got = -5;

	for (int d = -1; d <= 1; d++) {
		code_str(key, sizeof(key), (step + d) * 30, code);
		got = -5;
		assert_true(auth_totp_verify(key, sizeof(key), code, now, &got));
		assert_int_equal(got, step + d);
	}
	for (int d = -3; d <= 3; d += 1) {
		if (d >= -1 && d <= 1)
			continue;
		code_str(key, sizeof(key), (step + d) * 30, code);
		got = -5;
		assert_false(auth_totp_verify(key, sizeof(key), code, now, &got));
		assert_int_equal(got, -5); /* untouched */
	}

	/* The edges of the current step: the last second still takes step-1's code. */
	code_str(key, sizeof(key), (step - 1) * 30, code);
	assert_true(auth_totp_verify(key, sizeof(key), code, step * 30 + 29, &got));
	assert_false(auth_totp_verify(key, sizeof(key), code, (step + 1) * 30, &got));

	/* Only six ASCII digits. */
	code_str(key, sizeof(key), step * 30, code);
	char longer[9], shorter[6], spaced[8];
	snprintf(longer, sizeof(longer), "%s0", code);
	snprintf(shorter, sizeof(shorter), "%.5s", code);
	snprintf(spaced, sizeof(spaced), " %s", code);
	assert_false(auth_totp_verify(key, sizeof(key), longer, now, &got));
	assert_false(auth_totp_verify(key, sizeof(key), shorter, now, &got));
	assert_false(auth_totp_verify(key, sizeof(key), spaced, now, &got));
	assert_false(auth_totp_verify(key, sizeof(key), "12a456", now, &got));
	assert_false(auth_totp_verify(key, sizeof(key), "", now, &got));
	assert_false(auth_totp_verify(key, sizeof(key), NULL, now, &got));

	/* Another key's code is refused. */
	unsigned char other[AUTH_TOTP_KEY_LEN];
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	code_str(other, sizeof(other), step * 30, code);
	char mine[7];
	code_str(key, sizeof(key), step * 30, mine);
	if (strcmp(mine, code) != 0)
		assert_false(auth_totp_verify(key, sizeof(key), code, now, &got));

	/* At time 0 there is no step -1. */
	code_str(key, sizeof(key), 0, code);
	assert_true(auth_totp_verify(key, sizeof(key), code, 5, &got));
	assert_int_equal(got, 0);
}

static void expect_b32(const char *plain, const char *want)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(auth_base32_encode(&b, (const unsigned char *)plain, strlen(plain)), 0);
	assert_string_equal(b.p, want);
	buf_reset(&b);
	assert_int_equal(auth_base32_decode(&b, want), 0);
	assert_int_equal(b.len, strlen(plain));
	assert_memory_equal(b.p, plain, b.len);
	buf_release(&b);
}

static void expect_b32_decodes(const char *in, const char *plain)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(auth_base32_decode(&b, in), 0);
	assert_int_equal(b.len, strlen(plain));
	assert_memory_equal(b.p, plain, b.len);
	buf_release(&b);
}

static void expect_b32_bad(const char *in)
{
	struct buf b = BUF_INIT(0);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	int r = auth_base32_decode(&b, in);
	if (r != -EINVAL)
		fail_msg("base32 \"%s\" decoded (%d) but is not valid", in, r);
	assert_string_equal(b.p, "keep"); /* nothing appended */
	buf_release(&b);
}

static void test_base32(void **state)
{
	(void)state;
	/* RFC 4648 section 10, without the padding. */
	expect_b32("", "");
	expect_b32("f", "MY");
	expect_b32("fo", "MZXQ");
	expect_b32("foo", "MZXW6");
	expect_b32("foob", "MZXW6YQ");
	expect_b32("fooba", "MZXW6YTB");
	expect_b32("foobar", "MZXW6YTBOI");
	expect_b32(seed1, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");

	/* With the padding, in lower case, with spaces (as apps show them). */
	expect_b32_decodes("MY======", "f");
	expect_b32_decodes("MZXQ====", "fo");
	expect_b32_decodes("MZXW6===", "foo");
	expect_b32_decodes("MZXW6YQ=", "foob");
	expect_b32_decodes("MZXW6YTBOI======", "foobar");
	expect_b32_decodes("mzxw6ytboi", "foobar");
	expect_b32_decodes("mzxw 6ytb oi", "foobar");
	expect_b32_decodes("MzXw6YtBoI", "foobar");

	expect_b32_bad("M");              /* 1, 3 and 6 characters cannot end a group */
	expect_b32_bad("MZX");
	expect_b32_bad("MZXW6Y");
	expect_b32_bad("MZ");             /* stray bits after the last byte */
	expect_b32_bad("MZXW6YTBO1");     /* 1, 0, 8, 9 are not base32 */
	expect_b32_bad("MZXW6YTBO0");
	expect_b32_bad("MZXW6YTBO8");
	expect_b32_bad("MY=");            /* padding of the wrong length */
	expect_b32_bad("MY=====");
	expect_b32_bad("MY=======");
	expect_b32_bad("MY======MY");     /* data after padding */
	expect_b32_bad("MZXW6YTB=");      /* a whole group needs none */
	expect_b32_bad("MY\n");
	expect_b32_bad("MZ-XW");
	expect_b32_bad("ＭＹ");

	/* Round trips of every length, all byte values. */
	unsigned char raw[64];
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(raw); n++) {
		struct buf e = BUF_INIT(0), d = BUF_INIT(0);
		assert_int_equal(auth_base32_encode(&e, raw, n), 0);
		assert_int_equal(e.len, (n * 8 + 4) / 5);
		assert_null(strchr(e.p, '='));
		assert_int_equal(auth_base32_decode(&d, e.p), 0);
		assert_int_equal(d.len, n);
		if (n)
			assert_memory_equal(d.p, raw, n);
		buf_release(&e);
		buf_release(&d);
	}

	/* The cap of the buffer is respected. */
	struct buf small = BUF_INIT(4);
	assert_int_equal(auth_base32_encode(&small, raw, 20), -E2BIG);
	buf_release(&small);
}

static void test_uri(void **state)
{
	(void)state;
	char *u = auth_totp_uri("Kunren", "alice", (const unsigned char *)seed1, 20);
	assert_non_null(u);
	assert_string_equal(u, "otpauth://totp/Kunren:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
			       "&issuer=Kunren&algorithm=SHA1&digits=6&period=30");
	free(u);

	/* Spaces, colons, &, non-ASCII: all percent-encoded. */
	u = auth_totp_uri("訓練 A&B", "a b:c@x.jp", (const unsigned char *)"f", 1);
	assert_non_null(u);
	assert_string_equal(u, "otpauth://totp/%E8%A8%93%E7%B7%B4%20A%26B:a%20b%3Ac%40x.jp?secret=MY"
			       "&issuer=%E8%A8%93%E7%B7%B4%20A%26B&algorithm=SHA1&digits=6&period=30");
	free(u);

	/* No issuer: the label is the user name alone. */
	u = auth_totp_uri("", "bob", (const unsigned char *)"foobar", 6);
	assert_non_null(u);
	assert_string_equal(u, "otpauth://totp/bob?secret=MZXW6YTBOI&algorithm=SHA1&digits=6&period=30");
	free(u);
}

/* Reads the SVG's path back into a grid and compares it with libqrencode's
 * own modules: the picture is exactly the code, quiet zone included. */
static void check_svg_is_code(const char *svg, const char *text)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	assert_non_null(q);
	int w = q->width, size = w + 8;

	char head[128];
	snprintf(head, sizeof(head), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" ", size, size);
	assert_true(strncmp(svg, head, strlen(head)) == 0);
	assert_non_null(strstr(svg, "shape-rendering=\"crispEdges\""));
	size_t n = strlen(svg);
	assert_true(n > 6 && strcmp(svg + n - 6, "</svg>") == 0);
	const char *path = strstr(svg, "<path ");
	assert_non_null(path);
	assert_null(strstr(path + 1, "<path")); /* one path */
	const char *d = strstr(path, " d=\"");
	assert_non_null(d);
	d += 4;

	unsigned char *grid = xcalloc((size_t)size * (size_t)size, 1);
	while (*d != '"') {
		int x, y, run, run2, used = 0;
		assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &run2, &used), 4);
		assert_true(used > 0);
		assert_int_equal(run, run2);
		assert_true(run >= 1 && x >= 4 && y >= 4 && x + run <= 4 + w && y < 4 + w);
		for (int i = 0; i < run; i++) {
			assert_int_equal(grid[y * size + x + i], 0); /* no overlaps */
			grid[y * size + x + i] = 1;
		}
		d += used;
	}
	for (int y = 0; y < size; y++)
		for (int x = 0; x < size; x++) {
			bool in = x >= 4 && y >= 4 && x < 4 + w && y < 4 + w;
			bool dark = in && (q->data[(y - 4) * w + (x - 4)] & 1);
			if (grid[y * size + x] != dark)
				fail_msg("module %d,%d: svg %d, code %d", x, y, grid[y * size + x], dark);
		}
	free(grid);
	QRcode_free(q);
}

static void test_qr_svg(void **state)
{
	(void)state;
	char *uri = auth_totp_uri("Kunren", "alice", (const unsigned char *)seed1, 20);
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	assert_int_equal(auth_qr_svg(&a, uri), 0);
	check_svg_is_code(a.p, uri);
	assert_int_equal(auth_qr_svg(&b, "otpauth://totp/Kunren:bob?secret=MZXW6YTBOI"), 0);
	check_svg_is_code(b.p, "otpauth://totp/Kunren:bob?secret=MZXW6YTBOI");
	assert_string_not_equal(a.p, b.p);

	/* Appends (after what the buffer held). */
	struct buf c = BUF_INIT(0);
	assert_int_equal(buf_puts(&c, "<div>"), 0);
	assert_int_equal(auth_qr_svg(&c, uri), 0);
	assert_string_equal(c.p + 5, a.p);
	buf_release(&c);

	/* Too much for any QR code; too little room in the buffer. */
	char *big = xmalloc(8000);
	memset(big, 'x', 7999);
	big[7999] = '\0';
	buf_reset(&b);
	assert_int_equal(auth_qr_svg(&b, big), -E2BIG);
	assert_int_equal(b.len, 0);
	free(big);
	struct buf tiny = BUF_INIT(300);
	assert_int_equal(auth_qr_svg(&tiny, uri), -E2BIG);
	assert_int_equal(tiny.len, 0);
	buf_release(&tiny);

	buf_release(&a);
	buf_release(&b);
	free(uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_rfc4226_hotp),
		cmocka_unit_test(test_code_arguments),
		cmocka_unit_test(test_verify_window),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_qr_svg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
