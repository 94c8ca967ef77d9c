/* password.c — the password policy (SPEC B4). */
#include "auth/auth.h"

#include <strings.h>

#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_CHARS 256

/*
 * Well-known passwords long enough to pass the length rule: the top of the
 * public breach lists (SecLists, NordPass, NCSC) filtered to 10 characters
 * or more, and what Japanese users favour (IPA's and JPCERT's lists, names,
 * places and anime).  Compared without ASCII case.
 */
static const char *const common_passwords[] = {
	/* digits and keyboard walks */
	"1234567890", "0123456789", "0987654321", "9876543210", "12345678910", "123456789012",
	"1234512345", "1234554321", "1122334455", "1212121212", "1231231234", "1357924680",
	"qwertyuiop", "qwertyuiop1", "qwerty1234", "qwerty12345", "qwerty123456", "1234qwerty",
	"1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5", "q1w2e3r4t5y6", "1qaz2wsx3edc", "zaq12wsxcde3",
	"zaq1xsw2cde3", "1qazxsw23edc", "qazwsxedc123", "123qweasdzxc", "qwe123qwe123", "1234qwerasdf",
	"asdfghjkl1", "asdfghjkl;", "asdf123456", "zxcvbnm123", "zxcvbnm1234", "a1b2c3d4e5",
	"1a2b3c4d5e", "abc1234567", "abcd123456", "abcd1234!!", "a123456789", "123456789a",
	"1234567890a", "aa12345678", "abcdefghij", "abcdefg123",
	/* "password" and friends */
	"password12", "password123", "password1234", "password12345", "password01", "password!!",
	"password123!", "password1!", "passw0rd12", "passw0rd123", "p@ssw0rd12", "p@ssw0rd123",
	"p@ssw0rd!!", "p@ssword12", "p@ssword123", "pa$$w0rd12", "pass123456", "pass12345678",
	"mypassword", "mypassword1", "passwordpassword", "changeme123", "administrator",
	"admin12345", "admin123456", "adminadmin", "welcome123", "welcome1234", "letmein123",
	"trustno1234", "secret1234",
	/* words and names */
	"iloveyou12", "iloveyou123", "iloveyou!!", "loveyou1234", "sunshine12", "princess12",
	"football12", "baseball12", "superman12", "batman1234", "starwars12", "monkey1234",
	"dragon1234", "master1234", "computer12", "internet12", "helloworld", "hello12345",
	"michael123", "jennifer12", "charlie123",
	/* Japanese favourites */
	"doraemon12", "doraemon123", "pokemon123", "pokemon1234", "pikachu123", "naruto1234",
	"sakura1234", "sakura12345", "arigatou12", "konnichiwa", "ohayou1234", "nippon1234",
	"tokyo12345", "osaka12345", "yokohama12", "shinjuku12", "fujisan123", "tanaka1234",
	"suzuki1234", "sato123456", "takahashi1", "watanabe12", "kunren1234", "kunren12345",
};

/* Characters (code points) of valid UTF-8: every byte but continuation bytes. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Whether s is one character (of however many bytes) repeated. */
static bool one_character(const char *s)
{
	size_t first = 1;
	while (s[first] && ((unsigned char)s[first] & 0xc0) == 0x80)
		first++;
	size_t n = strlen(s);
	if (n % first)
		return false;
	for (size_t i = first; i < n; i += first)
		if (memcmp(s, s + i, first) != 0)
			return false;
	return true;
}

const char *auth_password_problem(const char *password, const char *username)
{
	if (!password || !password[0])
		return "The password is empty.";
	if (!utf8_valid(password, strlen(password)))
		return "The password is not valid UTF-8 text.";
	size_t chars = utf8_chars(password);
	if (chars < PASSWORD_MIN_CHARS)
		return "The password must be at least 10 characters long.";
	if (chars > PASSWORD_MAX_CHARS)
		return "The password must be at most 256 characters long.";
	if (one_character(password))
		return "The password must not be one character repeated.";
	if (username && utf8_chars(username) >= 3 && strcasestr(password, username))
		return "The password must not contain the user name.";
	for (size_t i = 0; i < ARRAY_SIZE(common_passwords); i++)
		if (strcasecmp(password, common_passwords[i]) == 0)
			return "The password is one of the most common passwords; choose another.";
	return NULL;
}
