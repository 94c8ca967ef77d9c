/*
 * template.c — merge fields (差し込み): "{{姓}} 様", "{{ last_name }}",
 * "{{メールアドレス|url}}".  One scanner (tmpl_next) walks a template piece
 * by piece; checking and rendering are two loops over it, so they can never
 * disagree about what a template means.  See docs/internals/CONTENT.md.
 */
#include "content/content.h"

#include <stdarg.h>

/* Most bytes allowed between "{{" and "}}"; beyond that "{{" is unclosed. */
#define FIELD_MAX 64

static const struct {
	const char *name;
	enum merge_field field;
} field_names[] = {
	{ "姓", MF_LAST_NAME },           { "last_name", MF_LAST_NAME },
	{ "名", MF_FIRST_NAME },          { "first_name", MF_FIRST_NAME },
	{ "メールアドレス", MF_EMAIL },   { "email", MF_EMAIL },
	{ "部署", MF_DEPARTMENT },        { "department", MF_DEPARTMENT },
	{ "役職", MF_POSITION },          { "position", MF_POSITION },
	{ "項目", MF_FIELD1 },            { "項目1", MF_FIELD1 },
	{ "field1", MF_FIELD1 },          { "項目2", MF_FIELD2 },
	{ "field2", MF_FIELD2 },          { "項目3", MF_FIELD3 },
	{ "field3", MF_FIELD3 },          { "URL", MF_URL },
	{ "url", MF_URL },                { "送信元名", MF_SENDER_NAME },
	{ "sender_name", MF_SENDER_NAME }, { "送信元アドレス", MF_SENDER_EMAIL },
	{ "sender_email", MF_SENDER_EMAIL }, { "送信日", MF_SEND_DATE },
	{ "send_date", MF_SEND_DATE },    { "パスワード", MF_PASSWORD },
	{ "password", MF_PASSWORD },      { "報告URL", MF_REPORT_URL },
	{ "report_url", MF_REPORT_URL },
};

/* One step of the scanner: literal text, then optionally a field. */
struct tmpl_piece {
	struct slice text;
	bool has_field;
	enum merge_field field;
	bool url_filter;
};

static int tmpl_fail(char **ret_err, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tmpl_fail(char **ret_err, size_t off, const char *fmt, ...)
{
	if (!ret_err)
		return -EINVAL;
	struct buf b;
	va_list ap;
	buf_init(&b, 0);
	buf_printf(&b, "byte %zu: ", off);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	*ret_err = buf_steal(&b);
	return -EINVAL;
}

static bool ascii_eq_nocase(struct slice a, const char *b)
{
	size_t n = strlen(b);
	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* ASCII white space and U+3000 (全角スペース, easy to type by accident). */
static struct slice field_trim(struct slice s)
{
	static const char ideographic_space[] = "\xE3\x80\x80";
	for (;;) {
		struct slice t = slice_trim(s);
		if (slice_starts_with(t, ideographic_space)) {
			t.p += 3;
			t.len -= 3;
		}
		if (t.len >= 3 && memcmp(t.p + t.len - 3, ideographic_space, 3) == 0)
			t.len -= 3;
		if (t.len == s.len)
			return t;
		s = t;
	}
}

int content_field_lookup(struct slice name, enum merge_field *ret)
{
	name = field_trim(name);
	for (size_t i = 0; i < ARRAY_SIZE(field_names); i++) {
		if (ascii_eq_nocase(name, field_names[i].name)) {
			*ret = field_names[i].field;
			return 0;
		}
	}
	return -ENOENT;
}

/* Parses what stands between "{{" and "}}" (found at byte `off`). */
static int tmpl_parse_field(struct slice inner, size_t off, struct tmpl_piece *piece,
			    char **ret_err)
{
	struct slice name, filter = slice_cut(inner, '|', &name);
	bool has_filter = name.len < inner.len;

	name = field_trim(name);
	if (name.len == 0)
		return tmpl_fail(ret_err, off, "empty merge field \"{{%.*s}}\"",
				 (int)inner.len, inner.p);
	if (content_field_lookup(name, &piece->field) < 0)
		return tmpl_fail(ret_err, off, "unknown merge field \"%.*s\"",
				 (int)name.len, name.p);
	filter = field_trim(filter);
	if (has_filter && !ascii_eq_nocase(filter, "url"))
		return tmpl_fail(ret_err, off, "unknown filter \"%.*s\" on merge field \"%.*s\"",
				 (int)filter.len, filter.p, (int)name.len, name.p);
	piece->has_field = true;
	piece->url_filter = has_filter;
	return 0;
}

/*
 * Reads the next piece of t starting at *pos.  Returns 1 with *ret filled
 * and *pos advanced, 0 at the end, or -EINVAL (message in *ret_err).
 */
static int tmpl_next(struct slice t, size_t *pos, struct tmpl_piece *ret, char **ret_err)
{
	size_t start = *pos;
	if (start >= t.len)
		return 0;

	const char *open = memmem(t.p + start, t.len - start, "{{", 2);
	if (!open) {
		*ret = (struct tmpl_piece){ .text = { t.p + start, t.len - start } };
		*pos = t.len;
		return 1;
	}

	size_t at = (size_t)(open - t.p), body = at + 2;
	size_t window = t.len - body;
	if (window > FIELD_MAX + 2)
		window = FIELD_MAX + 2;
	const char *close = memmem(t.p + body, window, "}}", 2);
	if (!close)
		return tmpl_fail(ret_err, at, "\"{{\" is not closed by \"}}\" within %d bytes",
				 FIELD_MAX);

	struct tmpl_piece piece = { .text = { t.p + start, at - start } };
	struct slice inner = { t.p + body, (size_t)(close - (t.p + body)) };
	int r = tmpl_parse_field(inner, at, &piece, ret_err);
	if (r < 0)
		return r;
	*ret = piece;
	*pos = (size_t)(close - t.p) + 2;
	return 1;
}

/* Templates are UTF-8 text without NUL bytes; reports the first bad byte. */
static int tmpl_check_encoding(struct slice t, char **ret_err)
{
	const char *nul = t.len ? memchr(t.p, '\0', t.len) : NULL;
	if (nul)
		return tmpl_fail(ret_err, (size_t)(nul - t.p), "NUL byte in template");
	if (utf8_valid(t.p, t.len))
		return 0;
	size_t i = 0;
	while (i < t.len) {
		unsigned char c = (unsigned char)t.p[i];
		size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
			   (c & 0xF8) == 0xF0 ? 4 : 0;
		if (k == 0 || k > t.len - i || !utf8_valid(t.p + i, k))
			break;
		i += k;
	}
	return tmpl_fail(ret_err, i, "invalid UTF-8");
}

int content_template_check(struct slice tmpl, char **ret_err)
{
	struct tmpl_piece piece;
	size_t pos = 0;
	int r = tmpl_check_encoding(tmpl, ret_err);

	while (r >= 0 && (r = tmpl_next(tmpl, &pos, &piece, ret_err)) > 0)
		;
	return r < 0 ? r : 0;
}

bool content_template_uses(struct slice tmpl, enum merge_field field)
{
	struct tmpl_piece piece;
	size_t pos = 0;

	while (tmpl_next(tmpl, &pos, &piece, NULL) > 0)
		if (piece.has_field && piece.field == field)
			return true;
	return false;
}

/* Header values: CR, LF, other C0 controls and DEL become spaces. */
static int put_header(struct buf *out, struct slice s)
{
	size_t run = 0;
	int r = 0;
	for (size_t i = 0; i < s.len && r == 0; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 0x20 && c != 0x7F)
			continue;
		r = buf_append(out, s.p + run, i - run);
		if (r == 0)
			r = buf_putc(out, ' ');
		run = i + 1;
	}
	return r ? r : buf_append(out, s.p + run, s.len - run);
}

static int put_literal(struct buf *out, struct slice s, enum content_ctx ctx)
{
	return ctx == CONTENT_HEADER ? put_header(out, s) : buf_put_slice(out, s);
}

static int put_value(struct buf *out, struct slice v, bool url_filter, enum content_ctx ctx)
{
	_cleanup_buf_ struct buf enc = BUF_INIT(out->max);
	if (url_filter) {
		int r = buf_put_url(&enc, v);
		if (r < 0)
			return r;
		v = buf_slice(&enc);
	}
	switch (ctx) {
	case CONTENT_HTML: return buf_put_html(out, v);
	case CONTENT_URL: return buf_put_url(out, v);
	case CONTENT_TEXT: return buf_put_slice(out, v);
	case CONTENT_HEADER: return put_header(out, v);
	}
	core_bug(__FILE__, __LINE__, "unknown content context");
}

int content_render(struct buf *out, struct slice tmpl, enum content_ctx ctx,
		   const struct merge_vars *vars)
{
	struct tmpl_piece piece;
	size_t pos = 0, mark = out->len;
	int r = tmpl_check_encoding(tmpl, NULL);

	while (r >= 0 && (r = tmpl_next(tmpl, &pos, &piece, NULL)) > 0) {
		r = put_literal(out, piece.text, ctx);
		if (r == 0 && piece.has_field)
			r = put_value(out, slice_from(vars ? vars->v[piece.field] : NULL),
				      piece.url_filter, ctx);
	}
	if (r < 0) {
		/* Leave out as it was: a half-rendered mail must never be used. */
		out->len = mark;
		out->p[mark] = '\0';
		return r;
	}
	return 0;
}
