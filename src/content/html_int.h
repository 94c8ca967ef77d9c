/* html_int.h — the HTML tokenizer's character rules, shared by html.c
 * (link tracking) and html_check.c (well-formedness), inside content/. */
#ifndef KUNREN_CONTENT_HTML_INT_H
#define KUNREN_CONTENT_HTML_INT_H

#include "core/core.h"

static inline bool html_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static inline bool html_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline char html_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* a equals the lower-case name b, ASCII case ignored. */
static inline bool html_name_is(struct slice a, const char *b)
{
	size_t n = strlen(b);
	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (html_lower(a.p[i]) != b[i])
			return false;
	return true;
}

#endif
