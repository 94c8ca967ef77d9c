/* Tests of src/core/config.c: the table, the file, the environment, flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/core.h"

#include <unistd.h>

static char *write_temp(const char *text)
{
	char *path = xstrdup("/tmp/kunren-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	struct config c;
	config_init(&c);
	assert_string_equal(c.console_listen, "127.0.0.1:3333");
	assert_string_equal(c.tracker_listen, "127.0.0.1:8080");
	assert_string_equal(c.smtp_url, "");
	assert_string_equal(c.time_zone, "Asia/Tokyo");
	assert_true(c.smtp_verify_tls);
	assert_int_equal(c.http_threads, 8);
	config_release(&c);
}

static void test_every_option_has_an_env_name(void **state)
{
	for (size_t i = 0; i < config_options_count; i++) {
		assert_non_null(config_options[i].env);
		assert_true(!strncmp(config_options[i].env, "KUNREN_", 7));
		assert_non_null(config_options[i].help);
	}
}

static void test_precedence(void **state)
{
	struct config c;
	char *err = NULL;
	char *path = write_temp("# comment\n\nsmtp_url = smtp://file:25\nhttp_threads = 4\n"
				"console_listen = \"127.0.0.1:1\"\n");
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, false, &err), 0);
	assert_string_equal(c.smtp_url, "smtp://file:25");
	assert_string_equal(c.console_listen, "127.0.0.1:1");
	setenv("KUNREN_SMTP_URL", "smtp://env:25", 1);
	assert_int_equal(config_load_env(&c, &err), 0);
	unsetenv("KUNREN_SMTP_URL");
	assert_string_equal(c.smtp_url, "smtp://env:25");
	assert_int_equal(c.http_threads, 4);
	char a0[] = "kunren", a1[] = "--http_threads=2", a2[] = "serve", a3[] = "--smtp_verify_tls=off";
	char *argv[] = { a0, a1, a2, a3, NULL };
	int argc = 4;
	assert_int_equal(config_load_flags(&c, &argc, argv, &err), 0);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "serve");
	assert_int_equal(c.http_threads, 2);
	assert_false(c.smtp_verify_tls);
	config_release(&c);
	unlink(path);
	free(path);
}

static void expect_file_error(const char *text, const char *want)
{
	struct config c;
	char *err = NULL;
	char *path = write_temp(text);
	config_init(&c);
	assert_true(config_load_file(&c, path, false, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err, want));
	free(err);
	config_release(&c);
	unlink(path);
	free(path);
}

static void test_errors_name_the_line(void **state)
{
	expect_file_error("smtp_url = x\nbogus = 1\n", ":2: unknown option \"bogus\"");
	expect_file_error("\n\nhttp_threads = lots\n", ":3: http_threads: expected a whole number");
	expect_file_error("http_threads = 0\n", ":1: http_threads");
	expect_file_error("smtp_verify_tls = maybe\n", "expected true or false");
	expect_file_error("just words\n", ":1: expected name = value");
	struct config c;
	char *err = NULL;
	config_init(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/kunren.conf", true, &err), 0);
	assert_true(config_load_file(&c, "/nonexistent/kunren.conf", false, &err) < 0);
	free(err);
	config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option_has_an_env_name),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_errors_name_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
