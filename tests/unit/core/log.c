/* Unit tests for src/core/log.c: logfmt and JSON lines (every JSON line an
 * object a reader takes, whatever bytes the message held). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "../../../src/core/log.c"

/* 2024-04-06T01:03:09.042Z */
#define T_MS (INT64_C(1712365389) * 1000 + 42)

static json_t *json_line(enum log_level level, struct slice msg, struct buf *line)
{
	buf_reset(line);
	assert_int_equal(log_line(line, LOG_FORMAT_JSON, level, T_MS, msg), 0);
	assert_true(line->len > 0 && line->p[line->len - 1] == '\n');
	assert_null(memchr(line->p, '\n', line->len - 1)); /* one line */
	json_error_t err;
	json_t *j = json_loadb(line->p, line->len, 0, &err);
	if (!j)
		fail_msg("not JSON: %s (%s)", line->p, err.text);
	assert_true(json_is_object(j));
	assert_int_equal(json_object_size(j), 3);
	assert_string_equal(json_string_value(json_object_get(j, "time")), "2024-04-06T01:03:09.042Z");
	return j;
}

static void test_json(void **state)
{
	_cleanup_buf_ struct buf line = BUF_INIT(0);
	json_t *j = json_line(LOG_WARN, SLICE_LIT("plain message"), &line);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "plain message");
	json_decref(j);

	/* quotes, backslashes, new lines, control bytes, <, non-ASCII */
	static const char tricky[] = "a \"b\" \\c\nd\r\te\x01 <f> 日本語";
	j = json_line(LOG_ERROR, SLICE_LIT(tricky), &line);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), tricky);
	json_decref(j);

	/* invalid UTF-8 and a NUL still make a readable line */
	static const char bad[] = "x\xff\xfe y\xc3";
	j = json_line(LOG_INFO, (struct slice){ bad, sizeof(bad) - 1 }, &line);
	const char *m = json_string_value(json_object_get(j, "msg"));
	assert_non_null(m);
	assert_true(utf8_valid(m, strlen(m)));
	assert_true(!strncmp(m, "x\xef\xbf\xbd", 4));
	json_decref(j);
	j = json_line(LOG_DEBUG, (struct slice){ "a\0b", 3 }, &line);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "debug");
	json_decref(j);
}

static void test_logfmt(void **state)
{
	_cleanup_buf_ struct buf line = BUF_INIT(0);
	assert_int_equal(log_line(&line, LOG_FORMAT_LOGFMT, LOG_INFO, T_MS, SLICE_LIT("say \"hi\"\nthere")), 0);
	assert_string_equal(line.p, "time=2024-04-06T01:03:09.042Z level=info msg=\"say \\\"hi\\\"\\nthere\"\n");
}

static void test_parse(void **state)
{
	enum log_format f = LOG_FORMAT_JSON;
	assert_int_equal(log_format_parse("logfmt", &f), 0);
	assert_int_equal(f, LOG_FORMAT_LOGFMT);
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("JSON ", &f), -EINVAL);
	assert_int_equal(log_format_parse("", &f), -EINVAL);
	assert_int_equal(f, LOG_FORMAT_JSON); /* untouched on failure */
}

/* log_msg itself: the format and the level filter, on stderr. */
static void test_log_msg(void **state)
{
	char path[] = "/tmp/kunren-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);

	log_set_format(LOG_FORMAT_JSON);
	log_set_level(LOG_INFO);
	log_debug("hidden %d", 1);
	log_info("shown %d", 2);
	log_error("also \"shown\" %s", "3");
	log_set_format(LOG_FORMAT_LOGFMT);
	log_warn("logfmt again");
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);

	_cleanup_buf_ struct buf out = BUF_INIT(0);
	assert_int_equal(file_read(path, 1 << 20, &out), 0);
	close(fd);
	unlink(path);
	char *second = strchr(out.p, '\n');
	assert_non_null(second);
	*second++ = '\0';
	json_t *j = json_loads(out.p, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "shown 2");
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	json_decref(j);
	char *third = strchr(second, '\n');
	assert_non_null(third);
	*third++ = '\0';
	j = json_loads(second, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "also \"shown\" 3");
	json_decref(j);
	assert_non_null(strstr(third, "level=warn msg=\"logfmt again\"\n"));
	assert_null(strstr(out.p, "hidden"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_logfmt),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_log_msg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
