/* Tests of src/content/attachment.c: the attachment declaration of a
 * scenario — generated files and the trainer's uploads, archives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "content/content.h"

/* Checks a declaration written as JSON: 0, or the field and a message. */
static int check(const char *json, const char **ret_field, const char **ret_msg)
{
	json_error_t err;
	json_t *o = json_loads(json, 0, &err);
	assert_non_null(o);
	int r = content_attachment_check(o, ret_field, ret_msg);
	json_decref(o);
	return r;
}

static void expect_ok(const char *json)
{
	const char *field = NULL, *msg = NULL;
	if (check(json, &field, &msg) < 0)
		fail_msg("%s: %s %s", json, field, msg);
}

static void expect_error(const char *json, const char *want_field)
{
	const char *field = NULL, *msg = NULL;
	assert_int_equal(check(json, &field, &msg), -EINVAL);
	assert_string_equal(field, want_field);
	assert_non_null(msg);
}

static void test_generated(void **state)
{
	expect_ok("{\"kind\": \"docx\", \"filename\": \"請求書_{{姓}}.docx\", \"title\": \"請求書\", \"body\": [\"本文\"]}");
	expect_ok("{\"source\": \"generated\", \"kind\": \"xlsx\", \"filename\": \"a.xlsx\", \"title\": \"t\", "
		  "\"table\": [[\"a\", \"\"]], \"archive\": \"aes\"}");
	expect_ok("{\"kind\": \"pdf\", \"filename\": \"a.pdf\", \"title\": \"t\", \"body\": [\"b\"], \"archive\": \"password\"}");
	/* a generated file says something */
	expect_error("{\"kind\": \"docx\", \"filename\": \"a.docx\", \"body\": [\"b\"]}", "title");
	expect_error("{\"kind\": \"xlsx\", \"filename\": \"a.xlsx\", \"title\": \"t\"}", "table");
	expect_error("{\"kind\": \"pdf\", \"filename\": \"a.pdf\", \"title\": \"t\", \"body\": [\"b\"], \"archive\": \"rar\"}",
		     "archive");
	expect_error("{\"source\": \"generated\", \"upload\": 3, \"kind\": \"pdf\", \"filename\": \"a.pdf\", \"title\": \"t\", "
		     "\"body\": [\"b\"]}", "upload");
}

static void test_uploaded(void **state)
{
	expect_ok("{\"source\": \"upload\", \"upload\": 7, \"kind\": \"docx\", \"filename\": \"議事録_{{姓}}.docx\"}");
	/* "upload" alone says where the file comes from */
	expect_ok("{\"upload\": 7, \"kind\": \"pdf\", \"filename\": \"a.pdf\", \"archive\": \"zip\"}");
	expect_error("{\"source\": \"upload\", \"kind\": \"pdf\", \"filename\": \"a.pdf\"}", "upload");
	expect_error("{\"upload\": \"7\", \"kind\": \"pdf\", \"filename\": \"a.pdf\"}", "upload");
	expect_error("{\"upload\": 0, \"kind\": \"pdf\", \"filename\": \"a.pdf\"}", "upload");
	expect_error("{\"source\": \"disk\", \"kind\": \"pdf\", \"filename\": \"a.pdf\"}", "source");
	/* an uploaded file says what it says */
	expect_error("{\"upload\": 7, \"kind\": \"pdf\", \"filename\": \"a.pdf\", \"title\": \"t\"}", "title");
	expect_error("{\"upload\": 7, \"kind\": \"xlsx\", \"filename\": \"a.xlsx\", \"table\": [[\"a\"]]}", "table");
	/* still a file name of the kind */
	expect_error("{\"upload\": 7, \"kind\": \"docx\", \"filename\": \"a.docm\"}", "filename");
	expect_error("{\"upload\": 7, \"kind\": \"docx\"}", "filename");
	expect_error("{\"upload\": 7, \"kind\": \"doc\", \"filename\": \"a.doc\"}", "kind");
}

static void test_password(void **state)
{
	assert_true(content_attachment_password("{\"archive\": \"password\"}"));
	assert_true(content_attachment_password("{\"archive\": \"aes\"}"));
	assert_false(content_attachment_password("{\"archive\": \"zip\"}"));
	assert_false(content_attachment_password(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_uploaded),
		cmocka_unit_test(test_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
