/* Tests of src/auth/password.c, the password policy (included, to reach
 * the list of common passwords). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../../src/auth/password.c"

static void ok(const char *pw, const char *user)
{
	const char *p = auth_password_problem(pw, user);
	if (p)
		fail_msg("\"%s\" (user \"%s\") refused: %s", pw, user ? user : "(null)", p);
}

static void refused(const char *pw, const char *user, const char *why)
{
	const char *p = auth_password_problem(pw, user);
	if (!p)
		fail_msg("\"%s\" (user \"%s\") accepted", pw, user ? user : "(null)");
	if (!strstr(p, why))
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", pw, p, why);
}

static void test_length(void **state)
{
	(void)state;
	refused("", "alice", "empty");
	refused(NULL, "alice", "empty");
	refused("Xk3#q9Lm!", "alice", "at least 10");       /* 9 */
	ok("Xk3#q9Lm!z", "alice");                          /* 10 */
	/* Characters, not bytes: 9 kana are 27 bytes and still too short, 10 are fine. */
	ok("すずめがとんでいった", "alice");                  /* 10 characters, 30 bytes */
	refused("すずめがとんでいっ", "alice", "at least 10");
	ok("すずめがとんでいった", NULL);

	char max[257 * 3 + 1];
	for (int i = 0; i < 256; i++)
		max[i] = (char)('a' + i % 26);
	max[256] = '\0';
	ok(max, "alice");
	max[256] = 'z';
	max[257] = '\0';
	refused(max, "alice", "at most 256");

	/* 256 three-byte characters (768 bytes) are 256 characters. */
	for (int i = 0; i < 256; i++)
		memcpy(max + i * 3, i % 2 ? "あ" : "い", 3);
	max[768] = '\0';
	ok(max, "alice");
	memcpy(max + 768, "う", 4);
	refused(max, "alice", "at most 256");
}

static void test_rules(void **state)
{
	(void)state;
	refused("aaaaaaaaaaaa", "bob", "repeated");
	refused("ああああああああああ", "bob", "repeated");
	ok("ababababab", "bob");
	refused("\xff\xfe" "abcdefghijk", "bob", "UTF-8");

	refused("my-alice-garden-7", "alice", "user name");
	refused("My-ALICE-garden-7", "alice", "user name");
	refused("My-alice-garden-7", "ALICE", "user name");
	ok("my-alice-garden-7", "al");        /* too short a name to matter */
	ok("my-alice-garden-7", "");
	ok("my-alice-garden-7", NULL);
	refused("ヤマダタロウのパスワード", "ヤマダ", "user name");

	refused("password1234", "alice", "common");
	refused("PassWord1234", "alice", "common");
	refused("qwertyuiop", "alice", "common");
	refused("1234567890", "alice", "common");
	refused("iloveyou12", "alice", "common");
	refused("P@ssw0rd12", "alice", "common");
	refused("konnichiwa", "alice", "common");
	ok("password1234-but-longer", "alice");
	ok("correct horse battery staple", "alice");
}

/* Every listed password is long enough to need listing, and refused. */
static void test_list(void **state)
{
	(void)state;
	assert_true(ARRAY_SIZE(common_passwords) >= 100);
	for (size_t i = 0; i < ARRAY_SIZE(common_passwords); i++) {
		const char *pw = common_passwords[i];
		if (strlen(pw) < PASSWORD_MIN_CHARS)
			fail_msg("\"%s\" is refused for its length anyway", pw);
		refused(pw, "somebody", "common");
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(pw, common_passwords[j]) == 0)
				fail_msg("\"%s\" is listed twice", pw);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
