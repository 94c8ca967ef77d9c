/* Tests of src/attach/zip.c: the archives a training file travels in, as
 * real tools open them — Info-ZIP unzip for plain and ZipCrypto archives,
 * 7-Zip for AES-256 — plus the header bits (UTF-8 names, encryption) read
 * straight from the bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/attach.h"

static const char name_ja[] = "請求書_2026年11月分.docx";

static void file_bytes(struct buf *b)
{
	/* something that looks like a document: text, and bytes that do not compress */
	for (int i = 0; i < 200; i++)
		assert_int_equal(buf_printf(b, "line %d of the training file 訓練用ファイル\n", i), 0);
	unsigned char noise[3000];
	random_bytes(noise, sizeof(noise));
	assert_int_equal(buf_append(b, noise, sizeof(noise)), 0);
}

static char *temp_dir(void)
{
	char *dir = xstrdup("/tmp/kunren-zip-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
}

static bool read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
	fclose(f);
	return true;
}

static int sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint16_t le16(const char *p)
{
	return (uint16_t)((unsigned char)p[0] | (unsigned char)p[1] << 8);
}

/* The general purpose flags and method of the first local header. */
static void local_header(const struct buf *z, uint16_t *ret_flags, uint16_t *ret_method)
{
	assert_true(z->len > 30);
	assert_memory_equal(z->p, "PK\x03\x04", 4);
	*ret_flags = le16(z->p + 6);
	*ret_method = le16(z->p + 8);
}

/* Extracts the archive with tool (the command up to the archive's name;
 * 7z takes the folder as -o…, unzip as -d …) and compares the entry with
 * want. */
static void extract_and_compare(const struct buf *zip, const char *tool, const struct buf *want, bool expect_ok)
{
	_cleanup_free_ char *dir = temp_dir();
	_cleanup_free_ char *zpath = xasprintf("%s/a.zip", dir);
	_cleanup_free_ char *out = xasprintf("%s/out", dir);
	write_file(zpath, zip);
	bool sevenzip = strstr(tool, "7z") != NULL;
	_cleanup_free_ char *cmd = xasprintf("%s '%s' %s'%s' >/dev/null 2>&1", tool, zpath, sevenzip ? "-o" : "-d ", out);
	int st = sh(cmd);
	_cleanup_free_ char *entry = xasprintf("%s/%s", out, name_ja);
	_cleanup_buf_ struct buf got = BUF_INIT(0);
	if (expect_ok) {
		assert_int_equal(st, 0);
		assert_true(read_file(entry, &got));   /* the UTF-8 name came through */
		assert_int_equal(got.len, want->len);
		assert_memory_equal(got.p, want->p, want->len);
	} else {
		assert_int_not_equal(st, 0);
		assert_true(!read_file(entry, &got) || got.len != want->len || memcmp(got.p, want->p, got.len));
	}
	_cleanup_free_ char *rm = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(sh(rm), 0);
}

static void test_plain(void **state)
{
	_cleanup_buf_ struct buf f = BUF_INIT(0), z = BUF_INIT(0), z2 = BUF_INIT(0);
	file_bytes(&f);
	assert_int_equal(attach_zip(name_ja, buf_slice(&f), ATTACH_ARCHIVE_ZIP, NULL, &z), 0);
	uint16_t flags, method;
	local_header(&z, &flags, &method);
	assert_true(flags & 0x800);          /* language encoding flag: the name is UTF-8 */
	assert_false(flags & 1);             /* not encrypted */
	assert_int_equal(method, 8);         /* deflate */
	assert_memory_equal(z.p + 30, name_ja, strlen(name_ja));
	/* the same input gives the same bytes: a fixed time, nothing random */
	assert_int_equal(attach_zip(name_ja, buf_slice(&f), ATTACH_ARCHIVE_ZIP, "ignored", &z2), 0);
	assert_int_equal(z.len, z2.len);
	assert_memory_equal(z.p, z2.p, z.len);
	if (access("/usr/bin/unzip", X_OK) == 0)
		extract_and_compare(&z, "/usr/bin/unzip -q", &f, true);
	else
		print_message("unzip missing (apt-get install unzip): not extracted\n");
}

static void test_password(void **state)
{
	_cleanup_buf_ struct buf f = BUF_INIT(0), z = BUF_INIT(0);
	file_bytes(&f);
	assert_int_equal(attach_zip(name_ja, buf_slice(&f), ATTACH_ARCHIVE_PASSWORD, "Kx7-p@ss", &z), 0);
	uint16_t flags, method;
	local_header(&z, &flags, &method);
	assert_true(flags & 1);              /* encrypted */
	assert_false(flags & 0x40);          /* not "strong encryption": traditional PKWARE */
	assert_true(flags & 0x800);
	assert_int_equal(method, 8);         /* ZipCrypto keeps the real method (AES says 99) */
	assert_null(memmem(z.p, z.len, "training file", 13));   /* the content is not readable */
	if (access("/usr/bin/unzip", X_OK) == 0) {
		extract_and_compare(&z, "/usr/bin/unzip -q -P 'Kx7-p@ss'", &f, true);
		extract_and_compare(&z, "/usr/bin/unzip -q -P 'wrong'", &f, false);
	} else {
		print_message("unzip missing (apt-get install unzip): not extracted\n");
	}
	if (access("/usr/bin/7z", X_OK) == 0)
		extract_and_compare(&z, "/usr/bin/7z x -y -p'Kx7-p@ss'", &f, true);
}

static void test_aes(void **state)
{
	_cleanup_buf_ struct buf f = BUF_INIT(0), z = BUF_INIT(0);
	file_bytes(&f);
	assert_int_equal(attach_zip(name_ja, buf_slice(&f), ATTACH_ARCHIVE_AES, "Kx7-p@ss", &z), 0);
	uint16_t flags, method;
	local_header(&z, &flags, &method);
	assert_true(flags & 1);
	assert_int_equal(method, 99);        /* WinZip AES */
	/* the AES extra field 0x9901: vendor "AE", strength 3 = 256 bits */
	const char *ef = memmem(z.p, z.len, "\x01\x99\x07\x00", 4);
	assert_non_null(ef);
	assert_memory_equal(ef + 6, "AE\x03", 3);
	if (access("/usr/bin/7z", X_OK) == 0) {
		extract_and_compare(&z, "/usr/bin/7z x -y -p'Kx7-p@ss'", &f, true);
		extract_and_compare(&z, "/usr/bin/7z x -y -p'nope'", &f, false);
	} else {
		print_message("7z missing (apt-get install p7zip-full): not extracted\n");
	}
}

static void test_bad_input(void **state)
{
	_cleanup_buf_ struct buf f = BUF_INIT(0), z = BUF_INIT(0);
	assert_int_equal(buf_puts(&f, "x"), 0);
	struct slice s = buf_slice(&f);
	assert_int_equal(attach_zip(NULL, s, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("", s, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("a/b.pdf", s, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("..\\b.pdf", s, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("..", s, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("a\nb.pdf", s, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("bad\xff.pdf", s, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("a.pdf", s, ATTACH_ARCHIVE_NONE, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("a.pdf", s, (enum attach_archive)42, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("a.pdf", s, ATTACH_ARCHIVE_PASSWORD, NULL, &z), -EINVAL);
	assert_int_equal(attach_zip("a.pdf", s, ATTACH_ARCHIVE_AES, "", &z), -EINVAL);
	assert_int_equal(attach_zip("a.pdf", (struct slice){ NULL, 5 }, ATTACH_ARCHIVE_ZIP, NULL, &z), -EINVAL);
	assert_int_equal(z.len, 0);
	/* an empty file is still a file */
	assert_int_equal(attach_zip("a.pdf", (struct slice){ NULL, 0 }, ATTACH_ARCHIVE_ZIP, NULL, &z), 0);
	assert_true(z.len > 0);

	/* the cap: -E2BIG and out as it was */
	struct buf small = BUF_INIT(64);
	assert_int_equal(buf_puts(&small, "prefix"), 0);
	assert_int_equal(attach_zip("a.pdf", s, ATTACH_ARCHIVE_ZIP, NULL, &small), -E2BIG);
	assert_string_equal(small.p, "prefix");
	buf_release(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_aes),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
