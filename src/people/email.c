/*
 * email.c — the practical address check of people.h: RFC 5321 sizes, an
 * RFC 5322 dot-atom local part of ASCII and a domain name of LDH labels.
 *
 * Before checking, full-width ASCII (U+FF01–U+FF5E: ＠ ． Ａ ｂ １) becomes
 * ASCII and U+3000 a space, since a Japanese input method in full-width
 * mode is the commonest way an HR list gets a broken address.  A domain
 * with other non-ASCII characters (例え.jp) is an internationalised domain
 * name: libidn2 turns it into its A-label (xn--r8jz45g.jp) under IDNA2008
 * with the UTS #46 non-transitional mapping, and that is what is stored and
 * sent.  Quoted local parts, address literals ([192.0.2.1]) and non-ASCII
 * local parts (RFC 6531) are refused: company mail systems rarely take them.
 */
#include <idn2.h>

#include "people/internal.h"

#define EMAIL_MAX 254
#define EMAIL_INPUT_MAX 1024 /* bytes before normalising: full-width and U-labels shrink */
#define LOCAL_MAX 64
#define DOMAIN_MAX 253
#define LABEL_MAX 63

#define NOT_VALID "not a valid e-mail address"

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

static bool has_byte_where(struct slice s, bool (*pred)(unsigned char))
{
	for (size_t i = 0; i < s.len; i++) {
		if (pred((unsigned char)s.p[i]))
			return true;
	}
	return false;
}

static bool is_non_ascii(unsigned char c)
{
	return c >= 0x80;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7F;
}

static bool is_space(unsigned char c)
{
	return c == ' ';
}

/*
 * Copies s into out (room for s.len bytes), full-width ASCII U+FF01–U+FF5E
 * (EF BC 81 – EF BD 9E) made ASCII and U+3000 (E3 80 80) a space.
 * Returns the length written.
 */
static size_t fullwidth_to_ascii(struct slice s, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		const unsigned char *c = (const unsigned char *)s.p + i;
		size_t left = s.len - i;
		if (left >= 3 && c[0] == 0xEF && c[1] == 0xBC && c[2] >= 0x81 && c[2] <= 0xBF) {
			out[n++] = (char)(0x21 + (c[2] - 0x81));
			i += 2;
		} else if (left >= 3 && c[0] == 0xEF && c[1] == 0xBD && c[2] >= 0x80 && c[2] <= 0x9E) {
			out[n++] = (char)(0x60 + (c[2] - 0x80));
			i += 2;
		} else if (left >= 3 && c[0] == 0xE3 && c[1] == 0x80 && c[2] == 0x80) {
			out[n++] = ' ';
			i += 2;
		} else {
			out[n++] = (char)c[0];
		}
	}
	return n;
}

/* Why a local part is not 1..64 characters of atext in dot-separated
 * non-empty runs, or NULL when it is fine. */
static const char *local_problem(struct slice l)
{
	if (l.len == 0)
		return NOT_VALID ": nothing before the @";
	if (has_byte_where(l, is_non_ascii))
		return NOT_VALID ": the part before the @ must be ASCII (letters, digits and "
				 "!#$%&'*+-/=?^_`{|}~); Japanese and other non-ASCII characters are not "
				 "accepted there";
	if (l.len > LOCAL_MAX)
		return NOT_VALID ": the part before the @ is longer than 64 characters";
	if (l.p[0] == '.' || l.p[l.len - 1] == '.')
		return NOT_VALID ": the part before the @ starts or ends with a dot";
	for (size_t i = 0; i < l.len; i++) {
		if (l.p[i] == '.' && l.p[i - 1] == '.')
			return NOT_VALID ": two dots in a row before the @";
		if (l.p[i] != '.' && !is_atext(l.p[i]))
			return NOT_VALID ": the part before the @ has a character that is not allowed "
					 "(only letters, digits, dots and !#$%&'*+-/=?^_`{|}~)";
	}
	return NULL;
}

static bool all_digits(struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (!is_digit(s.p[i]))
			return false;
	}
	return true;
}

/* Why an ASCII domain is not at least two LDH labels with the last one not
 * all digits (so no bare IPv4), or NULL when it is fine. */
static const char *domain_problem(struct slice d)
{
	if (d.len == 0)
		return NOT_VALID ": nothing after the @";
	if (memchr(d.p, '.', d.len) == NULL)
		return NOT_VALID ": the domain after the @ needs a dot (like example.co.jp)";
	struct slice rest = d, label;
	for (bool last = false; !last;) {
		last = memchr(rest.p, '.', rest.len) == NULL;
		rest = slice_cut(rest, '.', &label);
		if (label.len == 0)
			return NOT_VALID ": the domain has an empty part (two dots in a row, or a dot at "
					 "its start or end)";
		if (label.len > LABEL_MAX)
			return NOT_VALID ": a part of the domain is longer than 63 characters";
		for (size_t i = 0; i < label.len; i++) {
			if (!is_ldh(label.p[i]))
				return NOT_VALID ": the domain may only have letters, digits, hyphens "
						 "and dots";
		}
		if (label.p[0] == '-' || label.p[label.len - 1] == '-')
			return NOT_VALID ": a part of the domain starts or ends with a hyphen";
	}
	if (all_digits(label))
		return NOT_VALID ": the domain ends in a number (IP addresses are not accepted)";
	return NULL;
}

/* Turns an internationalised domain into its A-label form in out (room for
 * DOMAIN_MAX + 1).  0, or -EINVAL / -E2BIG with *ret_reason. */
static int domain_to_ascii(struct slice d, char *out, const char **ret_reason)
{
	char in[EMAIL_INPUT_MAX + 1];
	BUG_ON(d.len > EMAIL_INPUT_MAX);
	memcpy(in, d.p, d.len);
	in[d.len] = '\0';
	if (!utf8_valid(in, d.len)) {
		*ret_reason = NOT_VALID ": the domain is not UTF-8 text";
		return -EINVAL;
	}
	char *ascii = NULL;
	int k = idn2_to_ascii_8z(in, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (k == IDN2_OK && strlen(ascii) > DOMAIN_MAX)
		k = IDN2_TOO_BIG_DOMAIN;
	int r = 0;
	if (k == IDN2_TOO_BIG_DOMAIN) {
		*ret_reason = "longer than 254 bytes once its Japanese domain is converted (xn--...)";
		r = -E2BIG;
	} else if (k == IDN2_TOO_BIG_LABEL || k == IDN2_PUNYCODE_BIG_OUTPUT) {
		*ret_reason = NOT_VALID ": a part of the domain is longer than 63 characters once "
				"converted (xn--...)";
		r = -EINVAL;
	} else if (k != IDN2_OK) {
		*ret_reason = NOT_VALID ": the domain is not a valid internationalised domain name";
		r = -EINVAL;
	} else {
		memcpy(out, ascii, strlen(ascii) + 1);
	}
	idn2_free(ascii);
	return r;
}

/* Why s (normalised, ASCII apart from a domain's U-labels) is not an
 * address, or NULL; *ret_local and *ret_domain are its two parts. */
static const char *syntax_problem(struct slice s, struct slice *ret_local, struct slice *ret_domain)
{
	if (has_byte_where(s, is_control))
		return NOT_VALID ": it contains a control character (a tab or a line break?)";
	if (has_byte_where(s, is_space))
		return NOT_VALID ": it contains a space";
	const char *at = memchr(s.p, '@', s.len);
	if (!at)
		return NOT_VALID ": there is no @";
	struct slice local = { s.p, (size_t)(at - s.p) };
	struct slice domain = { at + 1, s.len - local.len - 1 };
	if (memchr(domain.p, '@', domain.len))
		return NOT_VALID ": more than one @";
	*ret_local = local;
	*ret_domain = domain;
	return local_problem(local);
}

int people_email_check(struct slice email, struct arena *a, const char **ret_normalised,
		       const char **ret_reason)
{
	char in[EMAIL_INPUT_MAX], idn[DOMAIN_MAX + 1], out[EMAIL_MAX + 1];
	if (email.len > EMAIL_INPUT_MAX) {
		*ret_reason = "longer than 254 bytes";
		return -E2BIG;
	}
	struct slice s = { in, fullwidth_to_ascii(email, in) }, local, domain;
	if (s.len > EMAIL_MAX && !has_byte_where(s, is_non_ascii)) {
		/* (a Japanese domain is measured once converted) */
		*ret_reason = "longer than 254 bytes";
		return -E2BIG;
	}
	const char *why = syntax_problem(s, &local, &domain);
	if (!why && has_byte_where(domain, is_non_ascii)) {
		int r = domain_to_ascii(domain, idn, &why);
		if (r < 0) {
			*ret_reason = why;
			return r;
		}
		domain = slice_from(idn);
	}
	if (!why)
		why = domain_problem(domain);
	if (why) {
		*ret_reason = why;
		return -EINVAL;
	}
	size_t n = local.len + 1 + domain.len;
	if (n > EMAIL_MAX) {
		*ret_reason = "longer than 254 bytes once its Japanese domain is converted (xn--...)";
		return -E2BIG;
	}
	memcpy(out, local.p, local.len);
	out[local.len] = '@';
	for (size_t i = 0; i < domain.len; i++) {
		char c = domain.p[i];
		out[local.len + 1 + i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	if (a && ret_normalised) {
		char *copy = arena_strndup(a, out, n);
		if (!copy)
			return -ENOMEM;
		*ret_normalised = copy;
	}
	return 0;
}

bool people_email_valid(struct slice email, struct arena *a, const char **ret_normalised)
{
	const char *reason;
	return people_email_check(email, a, ret_normalised, &reason) == 0;
}
