/*
 * text.c — a plain-text part made from an HTML part ("regenerate the text
 * part from the HTML", SPEC D3): paragraphs and line breaks kept, list items
 * marked, links written as "text (URL)", entities decoded, head, style and
 * script dropped.  Merge fields pass through untouched.
 */
#include "content/content.h"

#include <ctype.h>
#include <strings.h>

static bool is_block(const char *tag, size_t n)
{
	static const char *const blocks[] = { "p", "div", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
					      "ul", "ol", "li", "blockquote", "hr", "section", "header", "footer",
					      "center" };
	for (size_t i = 0; i < ARRAY_SIZE(blocks); i++)
		if (strlen(blocks[i]) == n && !strncasecmp(tag, blocks[i], n))
			return true;
	return false;
}

/* Appends a newline unless the text already ends in `max` of them. */
static int newline(struct buf *out, int max)
{
	size_t n = 0;
	while (n < out->len && out->p[out->len - 1 - n] == '\n')
		n++;
	if (out->len == 0 || (int)n >= max)
		return 0;
	while (out->len && out->p[out->len - 1] == ' ')
		out->len--, out->p[out->len] = '\0';
	return buf_putc(out, '\n');
}

static int put_entity(struct buf *out, struct slice s, size_t *i)
{
	static const struct { const char *name, *text; } named[] = {
		{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
		{ "nbsp", " " }, { "copy", "©" }, { "yen", "¥" },
	};
	size_t j = *i + 1, end = j;
	while (end < s.len && end - j < 10 && s.p[end] != ';')
		end++;
	if (end >= s.len || s.p[end] != ';')
		return buf_putc(out, '&');
	struct slice name = { s.p + j, end - j };
	if (name.len > 1 && name.p[0] == '#') {
		int64_t cp;
		bool hex = name.p[1] == 'x' || name.p[1] == 'X';
		struct slice digits = { name.p + (hex ? 2 : 1), name.len - (hex ? 2 : 1) };
		char tmp[16];
		if (hex) {
			char *e;
			snprintf(tmp, sizeof(tmp), "%.*s", (int)digits.len, digits.p);
			cp = strtoll(tmp, &e, 16);
			if (*e || !digits.len)
				return buf_putc(out, '&');
		} else if (slice_to_i64(digits, 0, 0x10FFFF, &cp) < 0) {
			return buf_putc(out, '&');
		}
		if (cp <= 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return buf_putc(out, '&');
		unsigned char u[4];
		size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		if (n == 1)
			u[0] = (unsigned char)cp;
		else {
			for (size_t k = n - 1; k > 0; k--) {
				u[k] = (unsigned char)(0x80 | (cp & 0x3F));
				cp >>= 6;
			}
			u[0] = (unsigned char)((n == 2 ? 0xC0 : n == 3 ? 0xE0 : 0xF0) | cp);
		}
		*i = end;
		return buf_append(out, u, n);
	}
	for (size_t k = 0; k < ARRAY_SIZE(named); k++)
		if (slice_eq_str(name, named[k].name)) {
			*i = end;
			return buf_puts(out, named[k].text);
		}
	return buf_putc(out, '&');
}

/* The value of attribute `name` in a start tag's text, or an empty slice. */
static struct slice attr(struct slice tag, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i + n < tag.len; i++) {
		if (strncasecmp(tag.p + i, name, n) != 0 || (i && tag.p[i - 1] != ' ' && tag.p[i - 1] != '\t' &&
							     tag.p[i - 1] != '\n'))
			continue;
		size_t j = i + n;
		while (j < tag.len && tag.p[j] == ' ')
			j++;
		if (j >= tag.len || tag.p[j] != '=')
			continue;
		j++;
		while (j < tag.len && tag.p[j] == ' ')
			j++;
		char q = j < tag.len && (tag.p[j] == '"' || tag.p[j] == '\'') ? tag.p[j++] : 0;
		size_t k = j;
		while (k < tag.len && (q ? tag.p[k] != q : tag.p[k] != ' ' && tag.p[k] != '>'))
			k++;
		return (struct slice){ tag.p + j, k - j };
	}
	return (struct slice){ "", 0 };
}

int content_html_to_text(struct buf *out, struct slice html)
{
	struct slice href = { "", 0 };
	size_t link_start = 0, skip_depth = 0;
	const char *skip_tag = NULL;
	int r = 0;
	for (size_t i = 0; i < html.len && r == 0; i++) {
		char c = html.p[i];
		if (c == '<') {
			if (html.len - i >= 4 && !memcmp(html.p + i, "<!--", 4)) {
				const char *e = memmem(html.p + i + 4, html.len - i - 4, "-->", 3);
				i = e ? (size_t)(e - html.p) + 2 : html.len;
				continue;
			}
			const char *gt = memchr(html.p + i, '>', html.len - i);
			if (!gt)
				break;
			struct slice tag = { html.p + i + 1, (size_t)(gt - html.p) - i - 1 };
			i = (size_t)(gt - html.p);
			bool closing = tag.len && tag.p[0] == '/';
			size_t nb = closing ? 1 : 0, ne = nb;
			while (ne < tag.len && (isalnum((unsigned char)tag.p[ne])))
				ne++;
			const char *name = tag.p + nb;
			size_t nlen = ne - nb;
			if (skip_tag) {
				if (closing && nlen == strlen(skip_tag) && !strncasecmp(name, skip_tag, nlen) && !--skip_depth)
					skip_tag = NULL;
				continue;
			}
			if (!closing && (nlen == 4 && !strncasecmp(name, "head", 4)))
				skip_tag = "head", skip_depth = 1;
			else if (!closing && nlen == 5 && (!strncasecmp(name, "style", 5) || !strncasecmp(name, "title", 5)))
				skip_tag = nlen == 5 && !strncasecmp(name, "style", 5) ? "style" : "title", skip_depth = 1;
			else if (!closing && nlen == 6 && !strncasecmp(name, "script", 6))
				skip_tag = "script", skip_depth = 1;
			else if (nlen == 2 && !strncasecmp(name, "br", 2))
				r = buf_putc(out, '\n');
			else if (!closing && nlen == 2 && !strncasecmp(name, "li", 2))
			{
				if ((r = newline(out, 1)) == 0)
					r = buf_puts(out, "・");
			}
			else if (!closing && nlen == 1 && (name[0] == 'a' || name[0] == 'A')) {
				href = attr(tag, "href");
				link_start = out->len;
			} else if (closing && nlen == 1 && (name[0] == 'a' || name[0] == 'A')) {
				struct slice text = slice_trim((struct slice){ out->p + link_start, out->len - link_start });
				if (href.len && !slice_eq(text, href) && !slice_starts_with(href, "mailto:")) {
					r = buf_puts(out, " (");
					for (size_t k = 0; k < href.len && r == 0; k++)
						if (href.p[k] != '\0') /* NUL never reaches the text */
							r = buf_putc(out, href.p[k]);
					if (r == 0)
						r = buf_putc(out, ')');
				}
				href = (struct slice){ "", 0 };
			} else if (is_block(name, nlen)) {
				r = newline(out, 2);
			}
			else if (nlen == 2 && (!strncasecmp(name, "td", 2) || !strncasecmp(name, "th", 2)) && !closing &&
				 out->len && out->p[out->len - 1] != '\n')
				r = buf_putc(out, ' ');
			continue;
		}
		if (skip_tag)
			continue;
		if (c == '&') {
			r = put_entity(out, html, &i);
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (out->len && out->p[out->len - 1] != ' ' && out->p[out->len - 1] != '\n')
				r = buf_putc(out, ' ');
		} else if (c != '\0') {
			r = buf_putc(out, c);
		}
	}
	while (r == 0 && out->len && (out->p[out->len - 1] == '\n' || out->p[out->len - 1] == ' '))
		out->p[--out->len] = '\0';
	return r == 0 ? buf_putc(out, '\n') : r;
}
