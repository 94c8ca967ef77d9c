/*
 * parse.c — reading simple messages back: header lookup and unfolding,
 * RFC 2047 decoding, MIME entity walking, transfer decodings, charsets.
 *
 * Input is hostile: every loop advances, sizes are capped (PARSE_MAX_RAW,
 * PARSE_MAX_PARTS, PARSE_MAX_DEPTH), every output buffer has a cap derived
 * from its input, and every string handed out is valid UTF-8 without NUL.
 */
#include "mail/mail.h"

#include <iconv.h>

#define PARSE_MAX_RAW ((size_t)64 << 20)
#define PARSE_MAX_PARTS 100
#define PARSE_MAX_DEPTH 4      /* multipart nesting below the message */
#define CHARSET_MAX 40
#define BOUNDARY_MAX 200

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool slice_eq_nocase(struct slice a, const char *s)
{
	size_t n = strlen(s);
	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a.p[i]) != lower(s[i]))
			return false;
	return true;
}

/* Output caps: decoding never grows text more than 4x (U+FFFD for a byte). */
static size_t decoded_cap(size_t in_len)
{
	return st_add(st_mult(in_len, 4), 64);
}

/* ---- UTF-8 repair ---- */

/* ---- charsets ---- */

struct charset_alias {
	const char *mime, *iconv;
};

/* Charsets we hand to iconv; anything else is read as UTF-8 and repaired. */
static const struct charset_alias charsets[] = {
	{ "iso-2022-jp", "ISO-2022-JP" }, { "shift_jis", "CP932" }, { "shift-jis", "CP932" },
	{ "sjis", "CP932" }, { "x-sjis", "CP932" }, { "cp932", "CP932" },
	{ "windows-31j", "CP932" }, { "ms932", "CP932" }, { "euc-jp", "EUC-JP-MS" },
	{ "iso-8859-1", "ISO-8859-1" }, { "iso-8859-2", "ISO-8859-2" },
	{ "iso-8859-5", "ISO-8859-5" }, { "iso-8859-7", "ISO-8859-7" },
	{ "iso-8859-9", "ISO-8859-9" }, { "iso-8859-15", "ISO-8859-15" },
	{ "windows-1250", "CP1250" }, { "windows-1251", "CP1251" }, { "windows-1252", "CP1252" },
	{ "gb2312", "GBK" }, { "gbk", "GBK" }, { "gb18030", "GB18030" }, { "big5", "BIG5" },
	{ "euc-kr", "CP949" }, { "ks_c_5601-1987", "CP949" }, { "koi8-r", "KOI8-R" },
};

static const char *charset_iconv_name(struct slice cs)
{
	struct slice head;
	slice_cut(cs, '*', &head); /* RFC 2231 language suffix: "UTF-8*ja" */
	for (size_t i = 0; i < ARRAY_SIZE(charsets); i++)
		if (slice_eq_nocase(head, charsets[i].mime))
			return charsets[i].iconv;
	return NULL;
}

/* Converts all of s; an invalid or truncated sequence costs one U+FFFD per byte. */
static int iconv_run(iconv_t cd, struct buf *out, struct slice s)
{
	char *in = (char *)s.p, chunk[4096];
	size_t in_left = s.len;
	bool flushed = false;
	int r = 0;

	while (r == 0 && !flushed) {
		char *o = chunk;
		size_t o_left = sizeof(chunk), rc;
		if (in_left) {
			rc = iconv(cd, &in, &in_left, &o, &o_left);
		} else {
			rc = iconv(cd, NULL, NULL, &o, &o_left); /* back to the initial shift state */
			flushed = true;
		}
		int e = errno;
		r = buf_append(out, chunk, (size_t)(o - chunk));
		if (r < 0 || rc != (size_t)-1)
			continue;
		if (e == E2BIG) {
			flushed = false; /* the chunk was full: go round again */
		} else if (in_left) {
			r = buf_puts(out, replacement);
			in++;
			in_left--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	return r;
}

/* Appends s, in charset cs, as valid UTF-8. */
static int put_charset_utf8(struct buf *out, struct slice cs, struct slice s)
{
	const char *name = charset_iconv_name(cs);
	if (!name)
		return buf_put_utf8(out, s);

	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return buf_put_utf8(out, s);
	_cleanup_buf_ struct buf tmp = BUF_INIT(decoded_cap(s.len));
	int r = iconv_run(cd, &tmp, s);
	iconv_close(cd);
	return r < 0 ? r : buf_put_utf8(out, buf_slice(&tmp));
}

/* ---- RFC 2047 ---- */

struct eword {
	struct slice charset, text;
	char enc;   /* 'B' or 'Q' */
	size_t len; /* of the whole "=?...?=" */
};

/* RFC 2047 token characters: no space, controls or especials. */
static bool is_charset_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && !strchr("()<>@,;:\"/[]?.=", c);
}

/*
 * Where the text of an encoded-word starting at t ends (at its "?="), or
 * SIZE_MAX.  The text holds no blanks and never "=?" other than the "=" of
 * padding before the final "?=": so a scan stops at the next candidate and
 * no byte is scanned twice, whatever the input.
 */
static size_t eword_text_end(struct slice s, size_t t)
{
	for (size_t j = t; j + 1 < s.len; j++) {
		unsigned char c = (unsigned char)s.p[j];
		if (c == '?' && s.p[j + 1] == '=')
			return j;
		if (c <= 0x20 || c >= 0x7f)
			return SIZE_MAX;
		if (c == '=' && s.p[j + 1] == '?' && (j + 2 >= s.len || s.p[j + 2] != '='))
			return SIZE_MAX;
	}
	return SIZE_MAX;
}

/* Recognises "=?charset?B|Q?text?=" at s[i]. */
static bool eword_parse(struct slice s, size_t i, struct eword *w)
{
	size_t j = i + 2, cs = j;

	while (j < s.len && j - cs <= CHARSET_MAX && is_charset_char(s.p[j]))
		j++;
	if (j + 2 >= s.len || s.p[j] != '?' || j == cs || j - cs > CHARSET_MAX || s.p[j + 2] != '?')
		return false;
	w->charset = (struct slice){ s.p + cs, j - cs };
	w->enc = (char)(lower(s.p[j + 1]) == 'b' ? 'B' : lower(s.p[j + 1]) == 'q' ? 'Q' : 0);
	if (!w->enc)
		return false;
	size_t t = j + 3, end = eword_text_end(s, t);
	if (end == SIZE_MAX)
		return false;
	w->text = (struct slice){ s.p + t, end - t };
	w->len = end + 2 - i;
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 2047 "Q": '_' is a space, "=XX" a byte. */
static int q_decode(struct buf *out, struct slice s)
{
	int r = 0;
	for (size_t i = 0; i < s.len && r == 0; i++) {
		if (s.p[i] == '_') {
			r = buf_putc(out, ' ');
		} else if (s.p[i] == '=') {
			if (i + 2 >= s.len || hex_value(s.p[i + 1]) < 0 || hex_value(s.p[i + 2]) < 0)
				return -EINVAL;
			r = buf_putc(out, (char)(hex_value(s.p[i + 1]) << 4 | hex_value(s.p[i + 2])));
			i += 2;
		} else {
			r = buf_putc(out, s.p[i]);
		}
	}
	return r;
}

/* Decodes the word's text into out; -EINVAL when it is not valid B or Q. */
static int eword_decode(const struct eword *w, struct buf *out)
{
	return w->enc == 'B' ? mail_base64_decode(out, w->text) : q_decode(out, w->text);
}

/*
 * Decoding state: bytes of adjacent encoded-words in one charset are
 * joined before conversion (senders do split characters across words), and
 * white space between two encoded-words is dropped (RFC 2047 6.2).
 */
struct hdec {
	struct buf *out;
	struct buf words;      /* decoded bytes of the current run of words */
	char charset[CHARSET_MAX + 2];
	struct slice space;    /* white space seen after a word, not yet written */
	bool after_word;
};

static int hdec_flush(struct hdec *d)
{
	int r = 0;
	if (d->words.len)
		r = put_charset_utf8(d->out, slice_from(d->charset), buf_slice(&d->words));
	buf_reset(&d->words);
	return r;
}

/* Adds the decoded bytes of a word to the run, or starts a new run when the charset changes. */
static int hdec_word(struct hdec *d, const struct eword *w, struct slice bytes)
{
	int r = 0;
	if (!slice_eq_nocase(w->charset, d->charset)) {
		r = hdec_flush(d);
		memcpy(d->charset, w->charset.p, w->charset.len);
		d->charset[w->charset.len] = '\0';
	}
	d->space.len = 0;
	d->after_word = true;
	return r ? r : buf_put_slice(&d->words, bytes);
}

/* Literal text: flushes the words and the white space held back. */
static int hdec_literal(struct hdec *d, char c)
{
	int r = hdec_flush(d);
	for (size_t i = 0; i < d->space.len && r == 0; i++)
		if (d->space.p[i] != '\r' && d->space.p[i] != '\n')
			r = buf_putc(d->out, d->space.p[i]);
	d->space.len = 0;
	d->after_word = false;
	return r ? r : buf_putc(d->out, c);
}

/* Tries an encoded-word at v[i]; *ret_len is 0 when there is none. */
static int hdec_try_word(struct hdec *d, struct slice v, size_t i, size_t *ret_len)
{
	struct eword w;
	*ret_len = 0;
	if (v.p[i] != '=' || i + 1 >= v.len || v.p[i + 1] != '?' || !eword_parse(v, i, &w))
		return 0;
	_cleanup_buf_ struct buf bytes = BUF_INIT(decoded_cap(w.text.len));
	int r = eword_decode(&w, &bytes);
	if (r == -EINVAL)
		return 0; /* not really a word: taken literally */
	if (r == 0)
		r = hdec_word(d, &w, buf_slice(&bytes));
	if (r == 0)
		*ret_len = w.len;
	return r;
}

static int header_decode_raw(struct buf *out, struct slice v)
{
	struct hdec d = { .out = out };
	size_t i = 0, n = 0;
	int r = 0;

	buf_init(&d.words, decoded_cap(v.len));
	while (i < v.len && r == 0) {
		char c = v.p[i];
		r = hdec_try_word(&d, v, i, &n);
		if (r < 0 || n > 0) {
			i += n;
		} else if (d.after_word && (is_wsp(c) || c == '\r' || c == '\n')) {
			if (d.space.len == 0)
				d.space.p = v.p + i;
			d.space.len = (size_t)(v.p + i + 1 - d.space.p);
			i++;
		} else if (c == '\r' || c == '\n') {
			i++; /* unfolding */
		} else {
			r = hdec_literal(&d, c);
			i++;
		}
	}
	if (r == 0)
		r = hdec_flush(&d);
	buf_release(&d.words);
	return r;
}

int mail_header_decode(struct buf *out, struct slice value)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT(decoded_cap(value.len));
	int r = header_decode_raw(&tmp, value);
	if (r < 0)
		return r;
	return buf_put_utf8(out, slice_trim(buf_slice(&tmp)));
}

/* ---- headers ---- */

/* Where the next line starts after the one at `i` (after its LF, or the end). */
static size_t line_next(struct slice s, size_t i)
{
	const char *lf = i < s.len ? memchr(s.p + i, '\n', s.len - i) : NULL;
	return lf ? (size_t)(lf - s.p) + 1 : s.len;
}

/* The line at i without its line break. */
static struct slice line_at(struct slice s, size_t i)
{
	size_t end = line_next(s, i);
	if (end > i && s.p[end - 1] == '\n')
		end--;
	if (end > i && s.p[end - 1] == '\r')
		end--;
	return (struct slice){ s.p + i, end - i };
}

/* Splits an entity at its first empty line into header block and body. */
static void entity_split(struct slice e, struct slice *ret_head, struct slice *ret_body)
{
	for (size_t i = 0; i < e.len; i = line_next(e, i)) {
		if (line_at(e, i).len == 0) {
			*ret_head = (struct slice){ e.p, i };
			size_t b = line_next(e, i);
			*ret_body = (struct slice){ e.p + b, e.len - b };
			return;
		}
	}
	*ret_head = e;
	*ret_body = (struct slice){ e.p + e.len, 0 };
}

static bool is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * Reads the logical header line (folded continuation lines included) at
 * *pos and advances *pos.  Returns false for a line that is no `name: value`
 * header (such lines are skipped by callers).
 */
static bool header_next(struct slice head, size_t *pos, struct slice *ret_name, struct slice *ret_value)
{
	size_t start = *pos, end = line_next(head, start);
	while (end < head.len && is_wsp(head.p[end]))
		end = line_next(head, end);
	*pos = end;

	struct slice line = { head.p + start, end - start }, name;
	struct slice value = slice_cut(line, ':', &name);
	if (value.p == line.p + line.len)
		return false; /* no colon */
	while (name.len && is_wsp(name.p[name.len - 1]))
		name.len--;
	if (name.len == 0)
		return false;
	for (size_t i = 0; i < name.len; i++)
		if (!is_token_char(name.p[i]))
			return false;
	*ret_name = name;
	*ret_value = value;
	return true;
}

/* The raw (still folded) value of the first header called `name`. */
static bool header_find(struct slice head, const char *name, struct slice *ret)
{
	size_t pos = 0;
	struct slice n, v;
	while (pos < head.len) {
		if (header_next(head, &pos, &n, &v) && slice_eq_nocase(n, name)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

static bool headers_any(struct slice head)
{
	size_t pos = 0;
	struct slice n, v;
	while (pos < head.len)
		if (header_next(head, &pos, &n, &v))
			return true;
	return false;
}

/* Appends a structured value (Date, Message-ID) unfolded, trimmed, as valid UTF-8. */
static int put_unfolded(struct buf *out, struct slice v)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT(st_add(v.len, 1));
	int r = 0;

	for (size_t i = 0; i < v.len && r == 0; i++)
		if (v.p[i] != '\r' && v.p[i] != '\n')
			r = buf_putc(&tmp, v.p[i]);
	return r ? r : buf_put_utf8(out, slice_trim(buf_slice(&tmp)));
}

/* The first header called `name`, decoded, in the arena; "" when absent. */
static int header_get(struct arena *a, struct slice head, const char *name, bool rfc2047, char **ret)
{
	struct slice v = { "", 0 };
	header_find(head, name, &v);
	_cleanup_buf_ struct buf b = BUF_INIT(decoded_cap(v.len));
	int r = rfc2047 ? mail_header_decode(&b, v) : put_unfolded(&b, v);
	if (r < 0)
		return r;
	*ret = arena_strndup(a, b.p, b.len);
	return *ret ? 0 : -ENOMEM;
}

/* ---- Content-Type and friends ---- */

struct content {
	char type[32], subtype[64]; /* lower case; text/plain when absent */
	char charset[CHARSET_MAX + 1];
	char boundary[BOUNDARY_MAX + 1];
	bool attachment;
	enum { CTE_IDENTITY, CTE_BASE64, CTE_QP, CTE_UNKNOWN } cte;
};

static struct slice skip_space(struct slice s)
{
	while (s.len && (is_wsp(s.p[0]) || s.p[0] == '\r' || s.p[0] == '\n')) {
		s.p++;
		s.len--;
	}
	return s;
}

/* Takes a token from the front of *s. */
static struct slice take_token(struct slice *s)
{
	size_t n = 0;
	*s = skip_space(*s);
	while (n < s->len && is_token_char(s->p[n]))
		n++;
	struct slice t = { s->p, n };
	s->p += n;
	s->len -= n;
	return t;
}

/* Copies a token, lower-cased, into dst; false when it does not fit. */
static bool token_copy(char *dst, size_t size, struct slice t, bool lower_case)
{
	if (t.len >= size)
		return false;
	for (size_t i = 0; i < t.len; i++)
		dst[i] = lower_case ? lower(t.p[i]) : t.p[i];
	dst[t.len] = '\0';
	return true;
}

/* Takes a parameter value (token or quoted-string) into dst; false if too long. */
static bool take_param_value(struct slice *s, char *dst, size_t size)
{
	*s = skip_space(*s);
	if (!s->len || s->p[0] != '"')
		return token_copy(dst, size, take_token(s), false);
	size_t n = 0, i = 1;
	bool fits = true;
	for (; i < s->len && s->p[i] != '"'; i++) {
		if (s->p[i] == '\\' && i + 1 < s->len)
			i++;
		if (s->p[i] == '\r' || s->p[i] == '\n')
			continue;
		if (n + 1 < size)
			dst[n++] = s->p[i];
		else
			fits = false;
	}
	dst[n] = '\0';
	i = i < s->len ? i + 1 : i;
	s->p += i;
	s->len -= i;
	return fits;
}

/* Skips to just after the next ';' (or the end): past garbage and unknown syntax. */
static void skip_past_semicolon(struct slice *s)
{
	struct slice head;
	*s = slice_cut(*s, ';', &head);
}

static void content_type_parse(struct slice v, struct content *c)
{
	if (!token_copy(c->type, sizeof(c->type), take_token(&v), true) || !v.len || v.p[0] != '/')
		return;
	v.p++;
	v.len--;
	if (!token_copy(c->subtype, sizeof(c->subtype), take_token(&v), true))
		c->type[0] = '\0';
	while (v.len) {
		skip_past_semicolon(&v);
		struct slice name = take_token(&v);
		v = skip_space(v);
		if (!v.len || v.p[0] != '=')
			continue;
		v.p++;
		v.len--;
		char val[BOUNDARY_MAX + 1];
		if (!take_param_value(&v, val, sizeof(val)))
			continue;
		if (slice_eq_nocase(name, "boundary"))
			token_copy(c->boundary, sizeof(c->boundary), slice_from(val), false);
		else if (slice_eq_nocase(name, "charset"))
			token_copy(c->charset, sizeof(c->charset), slice_from(val), true);
	}
}

static void content_parse(struct slice head, struct content *c)
{
	struct slice v;

	*c = (struct content){ .cte = CTE_IDENTITY };
	if (header_find(head, "Content-Type", &v))
		content_type_parse(v, c);
	if (!c->type[0] || !c->subtype[0]) {
		memcpy(c->type, "text", 5);
		memcpy(c->subtype, "plain", 6);
	}
	if (header_find(head, "Content-Disposition", &v))
		c->attachment = slice_eq_nocase(take_token(&v), "attachment");
	if (header_find(head, "Content-Transfer-Encoding", &v)) {
		struct slice t = take_token(&v);
		if (slice_eq_nocase(t, "base64"))
			c->cte = CTE_BASE64;
		else if (slice_eq_nocase(t, "quoted-printable"))
			c->cte = CTE_QP;
		else if (!slice_eq_nocase(t, "7bit") && !slice_eq_nocase(t, "8bit") &&
			 !slice_eq_nocase(t, "binary"))
			c->cte = CTE_UNKNOWN;
	}
}

/* ---- bodies ---- */

struct walk {
	struct arena *a;
	char *text, *html;
	int parts;
};

static int body_decode(const struct content *c, struct slice body, struct arena *a, char **ret)
{
	_cleanup_buf_ struct buf raw = BUF_INIT(st_add(body.len, 16)), utf8 = BUF_INIT(decoded_cap(body.len));
	int r;

	if (c->cte == CTE_BASE64)
		r = mail_base64_decode_loose(&raw, body);
	else if (c->cte == CTE_QP)
		r = mail_qp_decode(&raw, body);
	else
		r = buf_put_slice(&raw, body);
	if (r == 0)
		r = put_charset_utf8(&utf8, slice_from(c->charset), buf_slice(&raw));
	if (r < 0)
		return r;
	*ret = arena_strndup(a, utf8.p, utf8.len);
	return *ret ? 0 : -ENOMEM;
}

static int leaf_take(struct walk *w, const struct content *c, struct slice body)
{
	char **slot = NULL;
	if (strcmp(c->type, "text") != 0 || c->attachment || c->cte == CTE_UNKNOWN)
		return 0;
	if (strcmp(c->subtype, "plain") == 0)
		slot = &w->text;
	else if (strcmp(c->subtype, "html") == 0)
		slot = &w->html;
	if (!slot || *slot)
		return 0; /* not text we show, or we have one already */
	return body_decode(c, body, w->a, slot);
}

/*
 * Finds the next delimiter line "--boundary" (optionally "--boundary--")
 * at or after the line start `from`, walking line by line (linear, and
 * without memmem, whose sanitizer interceptor rereads the whole haystack).
 * *ret_line is where the line starts, *ret_next where the next one starts.
 */
static bool delimiter_find(struct slice body, size_t from, struct slice delim, size_t *ret_line,
			   size_t *ret_next, bool *ret_close)
{
	for (size_t at = from; at < body.len; at = line_next(body, at)) {
		if (body.len - at < delim.len || memcmp(body.p + at, delim.p, delim.len) != 0)
			continue;
		size_t j = at + delim.len;
		bool close = j + 1 < body.len && body.p[j] == '-' && body.p[j + 1] == '-';
		j += close ? 2 : 0;
		while (j < body.len && is_wsp(body.p[j]))
			j++;
		if (j < body.len && body.p[j] != '\r' && body.p[j] != '\n')
			continue;
		*ret_line = at;
		*ret_next = line_next(body, j);
		*ret_close = close;
		return true;
	}
	return false;
}

/* The part ends before the line break that belongs to the next delimiter. */
static size_t part_end(struct slice body, size_t start, size_t line)
{
	size_t end = line;
	if (end > start && body.p[end - 1] == '\n')
		end--;
	if (end > start && body.p[end - 1] == '\r')
		end--;
	return end;
}

static int entity_walk(struct walk *w, struct slice head, struct slice body, int depth);

static int multipart_walk(struct walk *w, const struct content *c, struct slice body, int depth)
{
	_cleanup_free_ char *delim_str = NULL;
	size_t line, next, start;
	bool close;
	int r = 0;

	if (!c->boundary[0] || depth >= PARSE_MAX_DEPTH)
		return 0;
	delim_str = xasprintf("--%s", c->boundary);
	struct slice delim = slice_from(delim_str);
	if (!delimiter_find(body, 0, delim, &line, &next, &close))
		return 0;
	while (!close && r == 0 && w->parts < PARSE_MAX_PARTS) {
		start = next;
		size_t end = body.len;
		if (delimiter_find(body, start, delim, &line, &next, &close))
			end = part_end(body, start, line);
		else
			close = true; /* unterminated: the last part runs to the end */
		struct slice part = { body.p + start, end - start }, ph, pb;
		w->parts++;
		entity_split(part, &ph, &pb);
		r = entity_walk(w, ph, pb, depth + 1);
	}
	return r;
}

static int entity_walk(struct walk *w, struct slice head, struct slice body, int depth)
{
	struct content c;
	content_parse(head, &c);
	if (strcmp(c.type, "multipart") == 0)
		return multipart_walk(w, &c, body, depth);
	return leaf_take(w, &c, body);
}

/* ---- the message ---- */

static int message_id_get(struct arena *a, struct slice head, char **ret)
{
	char *id;
	int r = header_get(a, head, "Message-ID", false, &id);
	if (r < 0)
		return r;
	size_t n = strlen(id);
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>') {
		id[n - 1] = '\0';
		id++;
	}
	*ret = id;
	return 0;
}

int mail_parse(struct slice raw, struct arena *a, struct mail_parsed *ret)
{
	struct mail_parsed p = { 0 };
	struct walk w = { .a = a };
	struct slice head, body;
	int r;

	if (raw.len == 0)
		return -EINVAL;
	if (raw.len > PARSE_MAX_RAW)
		return -E2BIG;
	entity_split(raw, &head, &body);
	if (!headers_any(head))
		return -EINVAL;
	r = header_get(a, head, "From", true, &p.from);
	if (r == 0)
		r = header_get(a, head, "To", true, &p.to);
	if (r == 0)
		r = header_get(a, head, "Subject", true, &p.subject);
	if (r == 0)
		r = header_get(a, head, "Date", false, &p.date);
	if (r == 0)
		r = message_id_get(a, head, &p.message_id);
	if (r == 0)
		r = entity_walk(&w, head, body, 0);
	if (r < 0)
		return r;
	p.text = w.text;
	p.html = w.html;
	*ret = p;
	return 0;
}
