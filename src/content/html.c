/*
 * html.c — prepares a training mail's HTML for tracking: every http(s)
 * link points at the click URL, told apart by its l parameter, one hidden
 * link no person can see is added, and an invisible 1x1 image loads the
 * open beacon.  A small tokenizer after the HTML standard (not a regex): it
 * knows comments, declarations, quoted attribute values and the raw-text
 * elements whose content is never markup, and copies everything it does
 * not rewrite byte for byte.  See docs/internals/CONTENT.md.
 */
#include "content/content.h"
#include "content/html_int.h"

struct html_tag {
	struct slice name;
	size_t stop;          /* just after '>' */
	bool closed;          /* a '>' ended the tag before the input did */
	bool has_href;        /* the first href attribute with a value */
	size_t href_start;    /* value span, quotes included */
	size_t href_stop;
	struct slice href;    /* value, quotes excluded */
};

/* Elements whose content is text, so "<a" inside is not a tag. */
static const char *const raw_text_elements[] = { "script", "style", "textarea", "title", "xmp" };

static bool starts_nocase(struct slice s, size_t pos, const char *prefix)
{
	size_t n = strlen(prefix);
	return s.len - pos >= n && html_name_is((struct slice){ s.p + pos, n }, prefix);
}

/* Position just after the first `end` at or after pos, or s.len. */
static size_t skip_past(struct slice s, size_t pos, const char *end)
{
	size_t n = strlen(end);
	const char *q = pos < s.len ? memmem(s.p + pos, s.len - pos, end, n) : NULL;
	return q ? (size_t)(q - s.p) + n : s.len;
}

/* pos at "<!--": position after "-->" (or "--!>", or the abrupt "<!-->"). */
static size_t skip_comment(struct slice s, size_t pos)
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
	return s.len;
}

static size_t tag_name_end(struct slice s, size_t pos)
{
	while (pos < s.len && !html_space(s.p[pos]) && s.p[pos] != '/' && s.p[pos] != '>')
		pos++;
	return pos;
}

/* Reads one attribute at pos (after white space); returns the position after it. */
static size_t tag_attribute(struct slice s, size_t pos, struct html_tag *tag)
{
	size_t name = pos;
	/* A leading '=' belongs to the name (HTML standard, "before attribute name"). */
	pos++;
	while (pos < s.len && !html_space(s.p[pos]) && s.p[pos] != '/' && s.p[pos] != '>' &&
	       s.p[pos] != '=')
		pos++;
	struct slice aname = { s.p + name, pos - name };

	size_t p = pos;
	while (p < s.len && html_space(s.p[p]))
		p++;
	if (p >= s.len || s.p[p] != '=')
		return pos; /* no value */
	p++;
	while (p < s.len && html_space(s.p[p]))
		p++;

	size_t vstart = p, vbegin, vend;
	if (p < s.len && (s.p[p] == '"' || s.p[p] == '\'')) {
		const char *q = memchr(s.p + p + 1, s.p[p], s.len - p - 1);
		vbegin = p + 1;
		vend = q ? (size_t)(q - s.p) : s.len;
		p = q ? vend + 1 : s.len;
	} else {
		while (p < s.len && !html_space(s.p[p]) && s.p[p] != '>')
			p++;
		vbegin = vstart;
		vend = p;
	}
	/* Duplicate attributes are ignored by browsers: the first one counts. */
	if (!tag->has_href && html_name_is(aname, "href")) {
		tag->has_href = true;
		tag->href_start = vstart;
		tag->href_stop = p;
		tag->href = (struct slice){ s.p + vbegin, vend - vbegin };
	}
	return p;
}

/* pos at "<" followed by a letter: reads the start tag up to its '>'. */
static void tag_parse(struct slice s, size_t pos, struct html_tag *tag)
{
	size_t name_end = tag_name_end(s, pos + 1);
	*tag = (struct html_tag){ .name = { s.p + pos + 1, name_end - pos - 1 } };
	pos = name_end;
	while (pos < s.len) {
		char c = s.p[pos];
		if (c == '>') {
			tag->closed = true;
			tag->stop = pos + 1;
			return;
		}
		if (html_space(c) || c == '/')
			pos++;
		else
			pos = tag_attribute(s, pos, tag);
	}
	tag->stop = s.len;
}

/* True for an href a click should be tracked on: http(s) or {{URL}}, but
 * not the tracker's report link (`report`, its "<tracker>/r/" prefix; NULL
 * when unknown): a report turned into a click would record a click. */
static bool href_tracked(struct slice href, const char *report)
{
	enum merge_field f;
	href = slice_trim(href);
	if (report && starts_nocase(href, 0, report))
		return false;
	if (starts_nocase(href, 0, "http://") || starts_nocase(href, 0, "https://"))
		return true;
	if (href.len < 4 || !slice_starts_with(href, "{{") ||
	    memcmp(href.p + href.len - 2, "}}", 2) != 0)
		return false;
	return content_field_lookup((struct slice){ href.p + 2, href.len - 4 }, &f) == 0 &&
	       f == MF_URL;
}

/* Position of the "</name" that ends a raw-text element, or s.len. */
static size_t raw_text_end(struct slice s, size_t pos, struct slice name)
{
	for (; pos + 2 + name.len <= s.len; pos++) {
		if (s.p[pos] != '<' || s.p[pos + 1] != '/')
			continue;
		struct slice n = { s.p + pos + 2, name.len };
		size_t after = pos + 2 + name.len;
		bool ends = after == s.len || html_space(s.p[after]) || s.p[after] == '/' ||
			    s.p[after] == '>';
		for (size_t i = 0; ends && i < n.len; i++)
			ends = html_lower(n.p[i]) == html_lower(name.p[i]);
		if (ends)
			return pos;
	}
	return s.len;
}

static bool is_raw_text(struct slice name)
{
	for (size_t i = 0; i < ARRAY_SIZE(raw_text_elements); i++)
		if (html_name_is(name, raw_text_elements[i]))
			return true;
	return false;
}

struct html_track {
	struct slice in;
	struct buf *out;
	const char *click_url;
	const char *report;   /* "<tracker>/r/" beside click_url's "<tracker>/c/"; NULL: none */
	size_t body_at;       /* in out: where the last </body> starts */
	bool has_body;
	bool counting;        /* the first pass: count the links, write nothing */
	unsigned link, links; /* tracked links so far, and in all (first pass) */
};

static int copy(struct html_track *t, size_t from, size_t to)
{
	if (t->counting)
		return 0;
	return buf_append(t->out, t->in.p + from, to - from);
}

/* The click URL of link i of n (0: the hidden link), HTML-escaped: the
 * tracker tells the links apart by l (SPEC F6: a burst over every link,
 * the hidden link). */
static int put_click(struct buf *out, const char *click_url, unsigned i, unsigned n)
{
	int r = buf_put_html(out, slice_from(click_url));
	if (r == 0)
		r = buf_printf(out, "%sl=%u.%u", strchr(click_url, '?') ? "&amp;" : "?", i, n);
	return r;
}

/* A start tag at pos: rewrites a tracked href, skips raw text. */
static int track_start_tag(struct html_track *t, size_t pos, size_t *ret_pos)
{
	struct html_tag tag;
	int r;

	tag_parse(t->in, pos, &tag);
	bool link = html_name_is(tag.name, "a") || html_name_is(tag.name, "area");
	if (tag.closed && link && tag.has_href && t->click_url && href_tracked(tag.href, t->report)) {
		t->link++;
		r = copy(t, pos, tag.href_start);
		if (r == 0 && !t->counting)
			r = buf_putc(t->out, '"');
		if (r == 0 && !t->counting)
			r = put_click(t->out, t->click_url, t->link, t->links);
		if (r == 0 && !t->counting)
			r = buf_putc(t->out, '"');
		if (r == 0)
			r = copy(t, tag.href_stop, tag.stop);
	} else {
		r = copy(t, pos, tag.stop);
	}
	size_t next = tag.stop;
	if (r == 0 && tag.closed && is_raw_text(tag.name)) {
		next = raw_text_end(t->in, tag.stop, tag.name);
		r = copy(t, tag.stop, next);
	}
	*ret_pos = next;
	return r;
}

/* Whatever begins with the '<' at pos; returns where to continue. */
static int track_markup(struct html_track *t, size_t pos, size_t *ret_pos)
{
	struct slice s = t->in;
	size_t next;

	if (starts_nocase(s, pos, "<!--")) {
		next = skip_comment(s, pos);
	} else if (starts_nocase(s, pos, "<!") || starts_nocase(s, pos, "<?")) {
		next = skip_past(s, pos, ">");
	} else if (pos + 2 < s.len && s.p[pos + 1] == '/' && html_alpha(s.p[pos + 2])) {
		struct slice name = { s.p + pos + 2, tag_name_end(s, pos + 2) - pos - 2 };
		if (html_name_is(name, "body") && !t->counting) {
			t->body_at = t->out->len;
			t->has_body = true;
		}
		next = skip_past(s, pos, ">");
	} else if (pos + 1 < s.len && html_alpha(s.p[pos + 1])) {
		return track_start_tag(t, pos, ret_pos);
	} else {
		next = pos + 1; /* a lone '<' is text */
	}
	*ret_pos = next;
	return copy(t, pos, next);
}

static int track_scan(struct html_track *t)
{
	size_t pos = 0;
	int r = 0;
	while (pos < t->in.len && r == 0) {
		const char *lt = memchr(t->in.p + pos, '<', t->in.len - pos);
		size_t at = lt ? (size_t)(lt - t->in.p) : t->in.len;
		r = copy(t, pos, at);
		pos = at;
		if (r == 0 && lt)
			r = track_markup(t, at, &pos);
	}
	return r;
}

/* A link no person can see or click (nothing to see, not displayed, not
 * focusable, hidden from screen readers): only a machine that follows
 * every href requests it. */
static int put_hidden_link(struct buf *out, const char *click_url, unsigned n)
{
	int r = buf_puts(out, "<a href=\"");
	if (r == 0)
		r = put_click(out, click_url, 0, n);
	if (r == 0)
		r = buf_puts(out, "\" style=\"display:none\" aria-hidden=\"true\" tabindex=\"-1\"></a>");
	return r;
}

static int put_beacon(struct buf *out, const char *open_url)
{
	int r = buf_puts(out, "<img src=\"");
	if (r == 0)
		r = buf_put_html(out, slice_from(open_url));
	if (r == 0)
		r = buf_puts(out, "\" width=\"1\" height=\"1\" alt=\"\" "
			     "style=\"display:block;border:0;width:1px;height:1px\">");
	return r;
}

int content_html_track(struct buf *out, struct slice html, const char *click_url,
		       const char *open_url)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT(out->max);
	struct html_track t = { .in = html, .out = &tmp, .click_url = click_url, .counting = true };
	size_t mark = out->len;
	_cleanup_free_ char *report = NULL;
	const char *c = NULL;
	for (const char *p = click_url; p && (p = strstr(p, "/c/")); p++)
		c = p;
	if (c) {
		report = xasprintf("%.*s/r/", (int)(c - click_url), click_url);
		t.report = report;
	}

	/* Twice: each link's l says how many there are. */
	int r = click_url ? track_scan(&t) : 0;
	t.counting = false;
	t.links = t.link;
	t.link = 0;
	if (r == 0)
		r = track_scan(&t);
	if (r < 0)
		return r;
	size_t split = t.has_body ? t.body_at : tmp.len;
	r = buf_append(out, tmp.p, split);
	if (r == 0 && click_url)
		r = put_hidden_link(out, click_url, t.links);
	if (r == 0 && open_url)
		r = put_beacon(out, open_url);
	if (r == 0)
		r = buf_append(out, tmp.p + split, tmp.len - split);
	if (r < 0) {
		out->len = mark;
		out->p[mark] = '\0';
	}
	return r;
}

bool content_html_declares_name(const char *html, const char *name)
{
	size_t nl = strlen(name);
	if (!html || !nl)
		return false;
	for (const char *p = html; (p = strcasestr(p, "name")); p += 4) {
		/* an attribute: white space before, "=" after (spaces allowed) */
		if (p == html || !strchr(" \t\r\n", p[-1]))
			continue;
		const char *v = p + 4;
		v += strspn(v, " \t\r\n");
		if (*v != '=')
			continue;
		v++;
		v += strspn(v, " \t\r\n");
		char quote = *v == '"' || *v == '\'' ? *v++ : 0;
		size_t len = quote ? strcspn(v, quote == '"' ? "\"" : "'") : strcspn(v, " \t\r\n>");
		if (len == nl && !memcmp(v, name, nl) && (!quote || v[len] == quote))
			return true;
	}
	return false;
}
