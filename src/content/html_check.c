/*
 * html_check.c — is a scenario's HTML well-formed enough to render as its
 * author wrote it?  Every element is closed explicitly and in order, except
 * void elements (no end tag at all) and the elements whose end tag HTML
 * lets one leave out (p, li, td, …): those are closed the way a browser
 * closes them — by their parent's end tag, or by the start of a sibling
 * (li by li, td by td/th/tr, p by a block such as div or table).
 *
 * The tokenizer follows the HTML standard as src/content/html.c does:
 * comments, <!DOCTYPE>, CDATA and processing instructions are skipped,
 * quoted attribute values may hold '>' and raw-text elements (script,
 * style, textarea, title, xmp) end only at their end tag.  A merge field
 * ({{URL}}, {{ 姓 }}) is plain text, in attributes too.  Inside svg and
 * math, "/>" closes an element, as it does there in a browser.
 *
 * One pass, no allocation but the message: the line number is counted as
 * the scan moves forward, end tags search an open-element stack of at most
 * HTML_CHECK_DEPTH entries.
 */
#include "content/content.h"
#include "content/html_int.h"

#define HTML_CHECK_DEPTH 256
#define NAME_SHOWN 32   /* a tag name in a message is cut to this many bytes */

struct open_element {
	struct slice name;
	size_t line;
	bool foreign;   /* inside svg or math (or one of them) */
};

struct html_check {
	struct slice s;
	size_t line_pos, line;   /* line is the line of byte line_pos */
	struct open_element stack[HTML_CHECK_DEPTH];
	size_t depth;
	char *err;
};

struct start_tag {
	struct slice name;
	size_t stop;          /* just after '>' */
	bool self_closing;    /* ended with "/>" */
};

static const char *const void_elements[] = {
	"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
	"source", "track", "wbr",
};

static const char *const raw_text_elements[] = { "script", "style", "textarea", "title", "xmp" };

static const char *const optional_end_elements[] = {
	"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
	"rt", "rp", "colgroup", "html", "head", "body",
};

/* Start tags that close an open <p> (the HTML standard's list). */
static const char *const closes_p[] = {
	"address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "dir",
	"div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
	"h4", "h5", "h6", "header", "hgroup", "hr", "li", "listing", "main", "menu", "nav", "ol",
	"p", "plaintext", "pre", "search", "section", "summary", "table", "ul", "xmp",
};

/* Table parts: a rule that is not about tables never closes through them. */
static const char *const table_parts[] = { "td", "th", "tr", "tbody", "thead", "tfoot", "colgroup" };

/* Which open elements a start tag closes (besides <p>, above). */
static const struct {
	const char *tag;
	const char *closes[5];
} implied_ends[] = {
	{ "li", { "li" } },
	{ "dt", { "dt", "dd" } },
	{ "dd", { "dt", "dd" } },
	{ "td", { "td", "th" } },
	{ "th", { "td", "th" } },
	{ "tr", { "tr", "colgroup" } },
	{ "thead", { "thead", "tbody", "tfoot", "colgroup" } },
	{ "tbody", { "thead", "tbody", "tfoot", "colgroup" } },
	{ "tfoot", { "thead", "tbody", "tfoot", "colgroup" } },
	{ "option", { "option" } },
	{ "optgroup", { "option", "optgroup" } },
	{ "rt", { "rt", "rp" } },
	{ "rp", { "rt", "rp" } },
	{ "body", { "head" } },
};

static bool name_eq(struct slice a, struct slice b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (html_lower(a.p[i]) != html_lower(b.p[i]))
			return false;
	return true;
}

static bool name_in(struct slice name, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n && set[i]; i++)
		if (html_name_is(name, set[i]))
			return true;
	return false;
}

#define NAME_IN(name, set) name_in(name, set, ARRAY_SIZE(set))

/* prefix is written in lower case */
static bool starts_nocase(struct slice s, size_t pos, const char *prefix)
{
	size_t n = strlen(prefix);
	return pos <= s.len && s.len - pos >= n && html_name_is((struct slice){ s.p + pos, n }, prefix);
}

/* The line of byte pos (1-based), counting from where the last call stood. */
static size_t line_at(struct html_check *c, size_t pos)
{
	if (pos > c->s.len)
		pos = c->s.len;
	for (; c->line_pos < pos; c->line_pos++)
		c->line += c->s.p[c->line_pos] == '\n';
	while (c->line_pos > pos)
		c->line -= c->s.p[--c->line_pos] == '\n';
	return c->line;
}

/* A tag name for a message: lower case, ASCII letters, digits and "-_:."
 * (anything else shown as '?', so the message is plain ASCII), cut short. */
static const char *shown(struct slice name, char out[NAME_SHOWN + 4])
{
	size_t n = name.len < NAME_SHOWN ? name.len : NAME_SHOWN, k = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = html_lower(name.p[i]);
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			  ch == '_' || ch == ':' || ch == '.';
		out[k++] = ok ? ch : '?';
	}
	if (name.len > n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

static int fail(struct html_check *c, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records "line N: ..." for the byte at pos and returns -EINVAL. */
static int fail(struct html_check *c, size_t pos, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, 0);
	buf_printf(&b, "line %zu: ", line_at(c, pos));
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	c->err = buf_steal(&b);
	return -EINVAL;
}

/* At "{{": the position after the matching "}}" when a merge field stands
 * there, else pos.  A field holds no markup, quotes, braces or line breaks,
 * which also keeps the scan linear. */
static size_t merge_field_end(struct slice s, size_t pos)
{
	if (pos + 1 >= s.len || s.p[pos] != '{' || s.p[pos + 1] != '{')
		return pos;
	for (size_t q = pos + 2; q + 1 < s.len; q++) {
		char ch = s.p[q];
		if (ch == '}' && s.p[q + 1] == '}')
			return q + 2;
		if (ch == '<' || ch == '>' || ch == '"' || ch == '\'' || ch == '{' || ch == '\n')
			return pos;
	}
	return pos;
}

static size_t tag_name_end(struct slice s, size_t pos)
{
	while (pos < s.len && !html_space(s.p[pos]) && s.p[pos] != '/' && s.p[pos] != '>')
		pos++;
	return pos;
}

/* A '<' that starts markup inside a quoted value: a letter, '/' or '!' follows. */
static const char *markup_in(const char *p, size_t n)
{
	for (const char *q = p; (q = memchr(q, '<', n - (size_t)(q - p))); q++)
		if ((size_t)(q - p) + 1 < n && (html_alpha(q[1]) || q[1] == '/' || q[1] == '!'))
			return q;
	return NULL;
}

/* One attribute at pos; returns the position after it or a negative error. */
static int read_attribute(struct html_check *c, struct slice tag, size_t pos, size_t *ret_pos)
{
	struct slice s = c->s;
	char name[NAME_SHOWN + 4];
	size_t p = merge_field_end(s, pos);

	if (s.p[pos] == '<')
		return fail(c, pos, "'<' inside the <%s> tag (is a '>' missing?)", shown(tag, name));
	if (p == pos)
		p++; /* a leading '=' belongs to the name (HTML standard) */
	while (p < s.len && !html_space(s.p[p]) && s.p[p] != '/' && s.p[p] != '>' && s.p[p] != '=') {
		size_t m = merge_field_end(s, p);
		if (m > p) {
			p = m;
			continue;
		}
		if (s.p[p] == '<')
			return fail(c, p, "'<' inside the <%s> tag (is a '>' missing?)", shown(tag, name));
		p++;
	}
	size_t after_name = p;
	while (p < s.len && html_space(s.p[p]))
		p++;
	if (p >= s.len || s.p[p] != '=') {
		*ret_pos = after_name;
		return 0;
	}
	p++;
	while (p < s.len && html_space(s.p[p]))
		p++;
	if (p < s.len && (s.p[p] == '"' || s.p[p] == '\'')) {
		const char *q = memchr(s.p + p + 1, s.p[p], s.len - p - 1);
		if (!q)
			return fail(c, p, "attribute value not closed");
		/* A value that swallowed a tag lost its closing quote: the quote
		 * that ends it belongs to a later attribute. */
		const char *m = markup_in(s.p + p + 1, (size_t)(q - s.p) - p - 1);
		if (m) {
			size_t at = line_at(c, (size_t)(m - s.p));
			return fail(c, p, "attribute value not closed (its quote runs on into the tag on line %zu)",
				    at);
		}
		*ret_pos = (size_t)(q - s.p) + 1;
		return 0;
	}
	while (p < s.len && !html_space(s.p[p]) && s.p[p] != '>') {
		size_t m = merge_field_end(s, p);
		if (m > p) {
			p = m;
			continue;
		}
		if (s.p[p] == '<')
			return fail(c, p, "'<' inside the <%s> tag (is a '>' missing?)", shown(tag, name));
		p++;
	}
	*ret_pos = p;
	return 0;
}

/* pos at '<' followed by a letter: reads the start tag up to its '>'. */
static int read_start_tag(struct html_check *c, size_t pos, struct start_tag *ret)
{
	struct slice s = c->s;
	size_t p = tag_name_end(s, pos + 1);
	struct slice name = { s.p + pos + 1, p - pos - 1 };
	char shown_name[NAME_SHOWN + 4];
	int r;

	*ret = (struct start_tag){ .name = name };
	while (p < s.len) {
		char ch = s.p[p];
		if (ch == '>') {
			ret->stop = p + 1;
			return 0;
		}
		if (ch == '/') {
			ret->self_closing = p + 1 < s.len && s.p[p + 1] == '>';
			p++;
			continue;
		}
		ret->self_closing = false;
		if (html_space(ch)) {
			p++;
			continue;
		}
		r = read_attribute(c, name, p, &p);
		if (r < 0)
			return r;
	}
	return fail(c, pos, "<%s> tag not closed (no '>' before the end)", shown(name, shown_name));
}

/* Position of the "</name" that ends a raw-text element, or SIZE_MAX. */
static size_t raw_text_end(struct slice s, size_t pos, struct slice name)
{
	for (; pos + 2 + name.len <= s.len; pos++) {
		if (s.p[pos] != '<' || s.p[pos + 1] != '/')
			continue;
		size_t after = pos + 2 + name.len;
		if ((after == s.len || html_space(s.p[after]) || s.p[after] == '/' || s.p[after] == '>') &&
		    name_eq((struct slice){ s.p + pos + 2, name.len }, name))
			return pos;
	}
	return SIZE_MAX;
}

/* pos at "</" + letter: the position after its '>'. */
static int end_tag_stop(struct html_check *c, size_t pos, struct slice name, size_t *ret)
{
	char shown_name[NAME_SHOWN + 4];
	const char *gt = memchr(c->s.p + pos, '>', c->s.len - pos);
	if (!gt)
		return fail(c, pos, "</%s> tag not closed (no '>' before the end)", shown(name, shown_name));
	*ret = (size_t)(gt - c->s.p) + 1;
	return 0;
}

static bool optional_end(struct slice name)
{
	return NAME_IN(name, optional_end_elements);
}

/* Closes the nearest open element named in `closes` when only elements
 * with optional end tags stand above it (they close with it).  The scan
 * stops at an element whose end tag is required and, unless the rule is
 * about table parts itself, at a table part: a <p> outside a table is not
 * closed by a <div> inside one of its cells. */
static void close_implied(struct html_check *c, const char *const *closes, size_t n)
{
	bool table_rule = false;
	for (size_t i = 0; i < n && closes[i]; i++)
		table_rule |= name_in(slice_from(closes[i]), table_parts, ARRAY_SIZE(table_parts));
	size_t found = SIZE_MAX;
	for (size_t k = c->depth; k-- > 0;) {
		struct slice el = c->stack[k].name;
		if (name_in(el, closes, n)) {
			found = k;
			continue;
		}
		if (!optional_end(el) || (!table_rule && NAME_IN(el, table_parts)))
			break;
	}
	if (found != SIZE_MAX)
		c->depth = found;
}

static void close_implied_by(struct html_check *c, struct slice tag)
{
	for (size_t i = 0; i < ARRAY_SIZE(implied_ends); i++)
		if (html_name_is(tag, implied_ends[i].tag))
			close_implied(c, implied_ends[i].closes, ARRAY_SIZE(implied_ends[i].closes));
	if (NAME_IN(tag, closes_p)) {
		static const char *const p[] = { "p" };
		close_implied(c, p, 1);
	}
}

static int start_tag(struct html_check *c, size_t pos, size_t *ret_pos)
{
	struct start_tag tag;
	char shown_name[NAME_SHOWN + 4];
	size_t line = line_at(c, pos);
	int r = read_start_tag(c, pos, &tag);
	if (r < 0)
		return r;
	*ret_pos = tag.stop;
	close_implied_by(c, tag.name);
	if (NAME_IN(tag.name, void_elements))
		return 0;

	bool foreign = (c->depth && c->stack[c->depth - 1].foreign) || html_name_is(tag.name, "svg") ||
		       html_name_is(tag.name, "math");
	if (foreign && tag.self_closing)
		return 0;
	if (NAME_IN(tag.name, raw_text_elements)) {
		size_t end = raw_text_end(c->s, tag.stop, tag.name);
		if (end == SIZE_MAX)
			return fail(c, c->s.len, "unclosed <%s> (opened on line %zu)",
				    shown(tag.name, shown_name), line);
		return end_tag_stop(c, end, tag.name, ret_pos);
	}
	if (c->depth == HTML_CHECK_DEPTH)
		return fail(c, pos, "elements nested more than %d deep", HTML_CHECK_DEPTH);
	c->stack[c->depth++] = (struct open_element){ .name = tag.name, .line = line, .foreign = foreign };
	return 0;
}

static int end_tag(struct html_check *c, size_t pos, size_t *ret_pos)
{
	struct slice s = c->s;
	struct slice name = { s.p + pos + 2, tag_name_end(s, pos + 2) - pos - 2 };
	char a[NAME_SHOWN + 4], b[NAME_SHOWN + 4];
	int r = end_tag_stop(c, pos, name, ret_pos);
	if (r < 0 || NAME_IN(name, void_elements)) /* "</br>", "</img>": nothing to close */
		return r;

	size_t k = c->depth;
	while (k > 0 && !name_eq(c->stack[k - 1].name, name))
		k--;
	if (k == 0)
		return fail(c, pos, "stray </%s>", shown(name, a));
	/* The innermost element above it that needs an end tag of its own. */
	for (size_t i = c->depth; i-- > k;) {
		const struct open_element *e = &c->stack[i];
		if (!optional_end(e->name))
			return fail(c, pos, "<%s> closed by </%s>, expected </%s> (opened on line %zu)",
				    shown(e->name, a), shown(name, b), a, e->line);
	}
	c->depth = k - 1;
	return 0;
}

/* pos at "<!--": the position after "-->" (or "--!>", or the abrupt
 * "<!-->" and "<!--->"), SIZE_MAX when the comment never ends. */
static size_t comment_end(struct slice s, size_t pos)
{
	size_t body = pos + 4;
	if (starts_nocase(s, body, ">"))
		return body + 1;
	if (starts_nocase(s, body, "->"))
		return body + 2;
	for (size_t i = body; i + 2 < s.len; i++) {
		if (s.p[i] != '-' || s.p[i + 1] != '-')
			continue;
		if (s.p[i + 2] == '>')
			return i + 3;
		if (s.p[i + 2] == '!' && i + 3 < s.len && s.p[i + 3] == '>')
			return i + 4;
	}
	return SIZE_MAX;
}

/* Position just after `end` at or after pos, or SIZE_MAX. */
static size_t past(struct slice s, size_t pos, const char *end)
{
	size_t n = strlen(end);
	const char *q = pos < s.len ? memmem(s.p + pos, s.len - pos, end, n) : NULL;
	return q ? (size_t)(q - s.p) + n : SIZE_MAX;
}

/* Whatever begins with the '<' at pos; *ret_pos is where to continue. */
static int markup(struct html_check *c, size_t pos, size_t *ret_pos)
{
	struct slice s = c->s;
	size_t next;

	if (starts_nocase(s, pos, "<!--")) {
		next = comment_end(s, pos);
		if (next == SIZE_MAX)
			return fail(c, pos, "comment not closed (no \"-->\")");
	} else if (starts_nocase(s, pos, "<![cdata[")) {
		next = past(s, pos, "]]>");
		if (next == SIZE_MAX)
			return fail(c, pos, "<![CDATA[ not closed (no \"]]>\")");
	} else if (starts_nocase(s, pos, "<!") || starts_nocase(s, pos, "<?")) {
		next = past(s, pos, ">");
		if (next == SIZE_MAX)
			return fail(c, pos, "<%c declaration not closed (no '>')", s.p[pos + 1]);
	} else if (pos + 2 < s.len && s.p[pos + 1] == '/' && html_alpha(s.p[pos + 2])) {
		return end_tag(c, pos, ret_pos);
	} else if (pos + 1 < s.len && html_alpha(s.p[pos + 1])) {
		return start_tag(c, pos, ret_pos);
	} else {
		next = pos + 1; /* a lone '<' is text */
	}
	*ret_pos = next;
	return 0;
}

int content_html_check(struct slice html, char **ret_err)
{
	struct html_check *c = xcalloc(1, sizeof(*c));
	size_t pos = 0;
	int r = 0;

	c->s = html;
	c->line = 1;
	while (r == 0 && pos < html.len) {
		const char *lt = memchr(html.p + pos, '<', html.len - pos);
		if (!lt)
			break;
		r = markup(c, (size_t)(lt - html.p), &pos);
	}
	/* At the end every element still open must be one whose end tag may be left out. */
	for (size_t i = c->depth; r == 0 && i-- > 0;) {
		char a[NAME_SHOWN + 4];
		const struct open_element *e = &c->stack[i];
		if (!optional_end(e->name))
			r = fail(c, html.len, "unclosed <%s> (opened on line %zu)", shown(e->name, a), e->line);
	}
	if (r < 0 && ret_err)
		*ret_err = c->err;
	else
		free(c->err);
	free(c);
	return r;
}
