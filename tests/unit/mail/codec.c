/* Unit tests for src/mail/codec.c: base64 and quoted-printable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/mail.h"

static void expect_b64(const char *in, const char *want)
{
	struct buf b, back;
	buf_init(&b, 0);
	buf_init(&back, 0);
	assert_int_equal(mail_base64_encode(&b, slice_from(in), 0), 0);
	assert_string_equal(b.p, want);
	assert_int_equal(b.len, mail_base64_len(strlen(in)));
	assert_int_equal(mail_base64_decode(&back, buf_slice(&b)), 0);
	assert_string_equal(back.p, in);
	buf_release(&back);
	buf_release(&b);
}

static void test_base64_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10 */
	expect_b64("", "");
	expect_b64("f", "Zg==");
	expect_b64("fo", "Zm8=");
	expect_b64("foo", "Zm9v");
	expect_b64("foob", "Zm9vYg==");
	expect_b64("fooba", "Zm9vYmE=");
	expect_b64("foobar", "Zm9vYmFy");
	expect_b64("\xff\xfe\xfd", "//79");
}

static void test_base64_lines(void **state)
{
	(void)state;
	unsigned char data[1000];
	struct buf b, back;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(data); n += 37) {
		buf_init(&b, 0);
		buf_init(&back, 0);
		assert_int_equal(mail_base64_encode(&b, (struct slice){ (char *)data, n }, 76), 0);
		/* Lines of exactly 76 except the last, each ending in CRLF. */
		size_t col = 0, lines = 0;
		for (size_t i = 0; i < b.len; i++) {
			if (b.p[i] == '\r') {
				assert_true(b.p[i + 1] == '\n');
				assert_true(col == 76 || i + 2 == b.len);
				assert_true(col > 0);
				col = 0;
				lines++;
				i++;
			} else {
				col++;
			}
		}
		assert_int_equal(col, 0);
		assert_int_equal(lines, (mail_base64_len(n) + 75) / 76);
		assert_int_equal(mail_base64_decode(&back, buf_slice(&b)), 0);
		assert_int_equal(back.len, n);
		assert_true(n == 0 || memcmp(back.p, data, n) == 0);
		buf_release(&back);
		buf_release(&b);
	}
}

static void test_base64_decode_rules(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(mail_base64_decode(&b, slice_from("Zm9v\r\n YmFy\t")), 0);
	assert_string_equal(b.p, "foobar");
	buf_reset(&b);
	assert_int_equal(mail_base64_decode(&b, slice_from("Zm8")), 0); /* padding optional */
	assert_string_equal(b.p, "fo");
	buf_reset(&b);
	assert_int_equal(mail_base64_decode(&b, slice_from("Zg= =\r\n")), 0);
	assert_string_equal(b.p, "f");
	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	assert_int_equal(mail_base64_decode(&b, slice_from("Zm9v*YmFy")), -EINVAL);
	assert_int_equal(mail_base64_decode(&b, slice_from("Zm9vY")), -EINVAL); /* impossible length */
	assert_int_equal(mail_base64_decode(&b, slice_from("Zg==Zm9v")), -EINVAL); /* data after padding */
	assert_string_equal(b.p, "keep");
	buf_reset(&b);
	assert_int_equal(mail_base64_decode_loose(&b, slice_from("Zm9v*Ym.Fy!")), 0);
	assert_string_equal(b.p, "foobar");
	buf_reset(&b);
	assert_int_equal(mail_base64_decode_loose(&b, slice_from("Zm9vY")), 0);
	assert_string_equal(b.p, "foo");
	buf_release(&b);

	/* Caps hold: the output buffer refuses and is left as it was. */
	buf_init(&b, 2);
	assert_int_equal(mail_base64_decode(&b, slice_from("Zm9vYmFy")), -E2BIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(mail_base64_encode(&b, slice_from("foobar"), 76), -E2BIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void expect_qp(const char *in, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mail_qp_decode(&b, slice_from(in)), 0);
	assert_string_equal(b.p, want);
	buf_release(&b);
}

static void test_qp(void **state)
{
	(void)state;
	expect_qp("caf=C3=A9", "caf\xc3\xa9");
	expect_qp("caf=c3=a9", "caf\xc3\xa9");
	expect_qp("soft=\r\nbreak", "softbreak");
	expect_qp("soft=\nbreak", "softbreak");
	expect_qp("soft=  \r\nbreak", "softbreak");
	expect_qp("trailing   \r\nspace\t\r\n", "trailing\r\nspace\r\n");
	expect_qp("inner  space", "inner  space");
	expect_qp("a=3D=3Db", "a==b");
	expect_qp("stray = sign =G1 =", "stray = sign =G1 ");
	expect_qp("=E3=81=93=E3=82=93", "こん");
	expect_qp("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_lines),
		cmocka_unit_test(test_base64_decode_rules),
		cmocka_unit_test(test_qp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
