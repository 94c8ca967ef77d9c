/*
 * Fixtures for the upload tests (upload.c, inject.c): genuine office files
 * made by LibreOffice from text we write, cached under build/ so only the
 * first run pays for soffice; zip surgery with libzip for the hostile ones;
 * command runners; a tiny HTTP server (python3) that records request lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include "attach/attach.h"
#include "../testtool.h"

#define FIXTURE_DIR "build/fixtures/attach"

/* Output of a shell command (stdout and stderr); *ret_status its exit code. */
static __attribute__((unused)) char *run_cmd(const char *cmd, int *ret_status)
{
	_cleanup_free_ char *full = xasprintf("%s 2>&1", cmd);
	return test_run(full, ret_status);
}

static __attribute__((unused)) void read_file(const char *path, struct buf *b)
{
	buf_init(b, 64 << 20);
	int r = file_read(path, 64 << 20, b);
	if (r < 0)
		fail_msg("cannot read %s: %d", path, r);
}

static __attribute__((unused)) void write_file(const char *path, struct slice s)
{
	assert_int_equal(file_write_atomic(path, s.p, s.len), 0);
}

/* A fresh LibreOffice profile per test program: two soffice processes must
 * never share one. */
static char lo_profile[64];

static __attribute__((unused)) void lo_convert(const char *in, const char *fmt, const char *outdir)
{
	if (!lo_profile[0]) {
		snprintf(lo_profile, sizeof(lo_profile), "/tmp/kunren-lo-XXXXXX");
		assert_non_null(mkdtemp(lo_profile));
	}
	_cleanup_free_ char *cmd = xasprintf("soffice -env:UserInstallation=file://%s --headless --norestore "
					     "--convert-to %s --outdir '%s' '%s'",
					     lo_profile, fmt, outdir, in);
	int st;
	_cleanup_free_ char *out = run_cmd(cmd, &st);
	if (st != 0)
		fail_msg("soffice failed (%d): %s", st, out);
}

static __attribute__((unused)) void lo_cleanup(void)
{
	if (lo_profile[0]) {
		_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", lo_profile);
		int st;
		free(run_cmd(cmd, &st));
	}
}

/* A genuine docx/xlsx/pdf (kind "docx", "xlsx", "pdf"), made once. */
static __attribute__((unused)) void fixture(const char *kind, struct buf *b)
{
	_cleanup_free_ char *path = xasprintf(FIXTURE_DIR "/sample.%s", kind);
	if (access(path, R_OK) != 0) {
		assert_int_equal(mkdir_p(FIXTURE_DIR, 0755), 0);
		bool sheet = !strcmp(kind, "xlsx");
		_cleanup_free_ char *src = xasprintf(FIXTURE_DIR "/sample.%s", sheet ? "csv" : "txt");
		const char *text = sheet ? "氏名,部署,内線\n山田 太郎,総務部,1234\nAlice Smith,Sales,5678\n"
					 : "経費精算のお知らせ\n\n添付の資料をご確認ください。Please review the attached file.\n";
		write_file(src, slice_from(text));
		lo_convert(src, kind, FIXTURE_DIR);
	}
	read_file(path, b);
}

/* A PDF with a cross-reference stream and object streams (qpdf rewrites
 * LibreOffice's classic one, as Word and Acrobat write them). */
static __attribute__((unused)) void fixture_xref_stream_pdf(struct buf *b)
{
	const char *path = FIXTURE_DIR "/sample-xrefstm.pdf";
	if (access(path, R_OK) != 0) {
		struct buf pdf;
		fixture("pdf", &pdf);
		buf_release(&pdf);
		int st;
		_cleanup_free_ char *out = run_cmd("qpdf --object-streams=generate " FIXTURE_DIR "/sample.pdf "
						   FIXTURE_DIR "/sample-xrefstm.pdf", &st);
		if (st != 0)
			fail_msg("qpdf failed: %s", out);
	}
	read_file(path, b);
}

/* Zip surgery on bytes: entries in `names` replaced by `data` (NULL data:
 * removed; a name not there: added). */
static __attribute__((unused)) void zip_edit(struct slice in, const char *const *names, const struct slice *data, size_t n, struct buf *out)
{
	char path[] = "/tmp/kunren-zip-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, in);
	int err;
	zip_t *z = zip_open(path, 0, &err);
	assert_non_null(z);
	for (size_t i = 0; i < n; i++) {
		zip_int64_t idx = zip_name_locate(z, names[i], 0);
		if (!data[i].p) {
			if (idx >= 0)
				assert_int_equal(zip_delete(z, (zip_uint64_t)idx), 0);
			continue;
		}
		zip_source_t *s = zip_source_buffer(z, data[i].p, data[i].len, 0);
		assert_non_null(s);
		assert_true(zip_file_add(z, names[i], s, ZIP_FL_OVERWRITE) >= 0);
	}
	assert_int_equal(zip_close(z), 0);
	read_file(path, out);
	unlink(path);
}

/* One entry of a zip in bytes, or NULL when absent. */
static __attribute__((unused)) char *zip_entry(struct slice zipped, const char *name, size_t *ret_len)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(zipped.p, zipped.len, 0, &ze);
	assert_non_null(src);
	zip_t *z = zip_open_from_source(src, ZIP_RDONLY, &ze);
	assert_non_null(z);
	zip_stat_t st;
	char *data = NULL;
	if (zip_stat(z, name, 0, &st) == 0) {
		zip_file_t *f = zip_fopen(z, name, 0);
		assert_non_null(f);
		data = xmalloc(st.size + 1);
		assert_int_equal(zip_fread(f, data, st.size), (zip_int64_t)st.size);
		data[st.size] = '\0';
		zip_fclose(f);
		if (ret_len)
			*ret_len = st.size;
	}
	zip_discard(z);
	zip_error_fini(&ze);
	return data;
}

/* An HTTP server on 127.0.0.1 (a free port) answering every method with an
 * empty 200 and writing each request line to its log file. */
struct http_logger {
	pid_t pid;
	int port;
	char log[64];
};

static __attribute__((unused)) void http_logger_start(struct http_logger *h)
{
	static const char script[] =
		"import http.server, sys\n"
		"class H(http.server.BaseHTTPRequestHandler):\n"
		"    def log_message(self, *a): pass\n"
		"    def answer(self):\n"
		"        with open(sys.argv[1], 'a') as f: f.write(self.requestline + '\\n')\n"
		"        self.send_response(200)\n"
		"        self.send_header('Content-Length', '0')\n"
		"        self.end_headers()\n"
		"    do_GET = do_HEAD = do_OPTIONS = do_PROPFIND = answer\n"
		"s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
		"print(s.server_address[1], flush=True)\n"
		"s.serve_forever()\n";
	int pipefd[2];
	snprintf(h->log, sizeof(h->log), "/tmp/kunren-http-XXXXXX");
	int fd = mkstemp(h->log);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pipe(pipefd), 0);
	h->pid = fork();
	assert_true(h->pid >= 0);
	if (h->pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execlp("python3", "python3", "-c", script, h->log, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	char line[32] = "";
	FILE *f = fdopen(pipefd[0], "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	h->port = (int)strtol(line, NULL, 10);
	assert_true(h->port > 0);
}

static __attribute__((unused)) char *http_logger_stop(struct http_logger *h)
{
	kill(h->pid, SIGTERM);
	waitpid(h->pid, NULL, 0);
	struct buf b;
	read_file(h->log, &b);
	unlink(h->log);
	return buf_steal(&b);
}
