/*
 * testtool.h — helpers the unit test programs share: running a command and
 * keeping its output, writing a buffer to a temporary file, and checking a
 * PDF's cross-reference table.  Include after <cmocka.h> and core.h.
 */
#ifndef KUNREN_TESTTOOL_H
#define KUNREN_TESTTOOL_H

#include <sys/wait.h>
#include <unistd.h>

/* Output (stdout only; add "2>&1" to the command for stderr) of a shell
 * command; its exit status in *ret_status (-1 when it did not exit). */
static __attribute__((unused)) char *test_run(const char *cmd, int *ret_status)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	struct buf out = BUF_INIT(0);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&out, chunk, n), 0);
	int st = pclose(f);
	*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf_steal(&out);
}

/* Writes b to a new file /tmp/kunren-test-XXXXXX<suffix>; caller unlinks and frees. */
static __attribute__((unused)) char *test_write_temp(const struct buf *b, const char *suffix)
{
	char *path = xasprintf("/tmp/kunren-test-XXXXXX%s", suffix);
	int fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b->p, b->len), (ssize_t)b->len);
	close(fd);
	return path;
}

/* Checks a PDF we wrote in one piece: the header, %%EOF, startxref pointing
 * at "xref", each in-use entry pointing at "N 0 obj" and the trailer's
 * /Size; returns the number of objects. */
static __attribute__((unused)) size_t test_pdf_structure(const struct buf *b)
{
	assert_true(b->len > 100);
	assert_memory_equal(b->p, "%PDF-1.4\n", 9);
	assert_memory_equal(b->p + b->len - 6, "%%EOF\n", 6);

	const char *sx = NULL;
	for (const char *p = b->p; (p = strstr(p, "startxref\n")); p++)
		sx = p;
	assert_non_null(sx);
	char *end;
	unsigned long long xref = strtoull(sx + 10, &end, 10);
	assert_ptr_not_equal(end, sx + 10);
	assert_true(xref < b->len);
	assert_memory_equal(b->p + xref, "xref\n0 ", 7);

	unsigned long long count = strtoull(b->p + xref + 7, &end, 10);
	assert_true(count > 1);
	assert_int_equal(*end, '\n');
	const char *entry = end + 1;
	assert_memory_equal(entry, "0000000000 65535 f \n", 20);
	for (unsigned long long i = 1; i < count; i++) {
		const char *e = entry + 20 * i;
		assert_memory_equal(e + 10, " 00000 n \n", 10);
		unsigned long long off = strtoull(e, NULL, 10);
		assert_true(off < xref);
		char want[32];
		int n = snprintf(want, sizeof(want), "%llu 0 obj\n", i);
		assert_memory_equal(b->p + off, want, (size_t)n);
		assert_true(off == 0 || b->p[off - 1] == '\n');
	}
	char size[48];
	snprintf(size, sizeof(size), "/Size %llu ", count);
	assert_non_null(strstr(sx - 200 > b->p ? sx - 200 : b->p, size));
	return (size_t)count - 1;
}

/* The page count pdfinfo reports, or -1 when pdfinfo is not installed. */
static __attribute__((unused)) int test_pdf_pages(const char *path)
{
	if (access("/usr/bin/pdfinfo", X_OK) != 0)
		return -1;
	_cleanup_free_ char *cmd = xasprintf("/usr/bin/pdfinfo '%s' 2>&1", path);
	int st;
	_cleanup_free_ char *out = test_run(cmd, &st);
	assert_int_equal(st, 0);
	const char *p = strstr(out, "\nPages:");
	return p ? (int)strtol(p + 7, NULL, 10) : -1;
}

/* Removes white space (pdftotext puts line breaks where lines wrapped). */
static __attribute__((unused)) void test_squeeze(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++)
		if (*r != ' ' && *r != '\n' && *r != '\f' && *r != '\r')
			*w++ = *r;
	*w = '\0';
}

#endif
