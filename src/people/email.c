/*
 * email.c — the practical address check of people.h: RFC 5321 sizes, an
 * RFC 5322 dot-atom local part and an LDH domain name.  Quoted local parts,
 * address literals ([192.0.2.1]) and internationalised addresses are refused
 * for now: Excel lists of company addresses never need them.
 */
#include "people/people.h"

#define EMAIL_MAX 254
#define LOCAL_MAX 64
#define DOMAIN_MAX 253
#define LABEL_MAX 63

/* RFC 5322 atext. */
static bool is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
}

/* 1..64 characters of atext in dot-separated non-empty runs. */
static bool local_valid(struct slice l)
{
	if (l.len < 1 || l.len > LOCAL_MAX || l.p[0] == '.' || l.p[l.len - 1] == '.')
		return false;
	for (size_t i = 0; i < l.len; i++) {
		if (l.p[i] == '.') {
			if (l.p[i - 1] == '.')
				return false;
		} else if (!is_atext(l.p[i])) {
			return false;
		}
	}
	return true;
}

static bool label_valid(struct slice label)
{
	if (label.len < 1 || label.len > LABEL_MAX)
		return false;
	if (label.p[0] == '-' || label.p[label.len - 1] == '-')
		return false;
	for (size_t i = 0; i < label.len; i++) {
		if (!is_ldh(label.p[i]))
			return false;
	}
	return true;
}

static bool all_digits(struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (!is_digit(s.p[i]))
			return false;
	}
	return true;
}

/* At least two LDH labels, the last one not all digits (so no bare IPv4). */
static bool domain_valid(struct slice d)
{
	if (d.len < 1 || d.len > DOMAIN_MAX)
		return false;
	size_t labels = 0;
	struct slice rest = d, label;
	for (;;) {
		bool last = memchr(rest.p, '.', rest.len) == NULL;
		rest = slice_cut(rest, '.', &label);
		if (!label_valid(label))
			return false;
		labels++;
		if (last)
			break;
	}
	return labels >= 2 && !all_digits(label);
}

bool people_email_valid(struct slice email, struct arena *a, const char **ret_normalised)
{
	if (email.len > EMAIL_MAX)
		return false;
	const char *at = email.len ? memchr(email.p, '@', email.len) : NULL;
	if (!at)
		return false;
	struct slice local = { email.p, (size_t)(at - email.p) };
	struct slice domain = { at + 1, email.len - local.len - 1 };
	if (!local_valid(local) || !domain_valid(domain))
		return false;
	if (!a || !ret_normalised)
		return true;

	char *n = arena_strndup(a, email.p, email.len);
	if (!n)
		return false;
	for (size_t i = local.len + 1; i < email.len; i++) {
		if (n[i] >= 'A' && n[i] <= 'Z')
			n[i] = (char)(n[i] - 'A' + 'a');
	}
	*ret_normalised = n;
	return true;
}
