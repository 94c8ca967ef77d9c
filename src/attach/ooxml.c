/*
 * ooxml.c — the structure of an uploaded Office Open XML package: a tag
 * scanner small enough to read in one sitting (no XML library: we only ever
 * need element names, a few attributes and the byte offsets to splice at),
 * relationship and content-type lookups, and the check that a package is a
 * real docx or xlsx.
 */
#include "attach/attach_int.h"

static bool name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Offset just past the first `end` at or after from, or 0 when absent. */
static size_t skip_past(struct slice doc, size_t from, const char *end)
{
	size_t n = strlen(end);
	if (from > doc.len)
		return 0;
	const char *p = memmem(doc.p + from, doc.len - from, end, n);
	return p ? (size_t)(p - doc.p) + n : 0;
}

int attach__xml_next(struct slice doc, size_t *pos, struct xml_tag *ret)
{
	size_t i = *pos;

	for (;;) {
		const char *lt = i < doc.len ? memchr(doc.p + i, '<', doc.len - i) : NULL;
		if (!lt) {
			*pos = doc.len;
			return 0;
		}
		i = (size_t)(lt - doc.p);
		struct slice rest = { doc.p + i, doc.len - i };
		size_t next;
		if (slice_starts_with(rest, "<!--"))
			next = skip_past(doc, i + 4, "-->");
		else if (slice_starts_with(rest, "<?"))
			next = skip_past(doc, i + 2, "?>");
		else if (slice_starts_with(rest, "<![CDATA["))
			next = skip_past(doc, i + 9, "]]>");
		else
			break;
		if (!next)
			return -EINVAL;
		i = next;
	}

	struct xml_tag t = { .start = i };
	size_t j = i + 1;
	if (j < doc.len && doc.p[j] == '/') {
		t.close = true;
		j++;
	}
	size_t name = j;
	if (j >= doc.len || !name_start((unsigned char)doc.p[j]))
		return -EINVAL; /* "<!DOCTYPE", "< x", "<1" */
	while (j < doc.len && name_char((unsigned char)doc.p[j]))
		j++;
	t.name = (struct slice){ doc.p + name, j - name };
	size_t attrs = j;
	char quote = 0;
	for (; j < doc.len; j++) {
		char c = doc.p[j];
		if (quote) {
			if (c == quote)
				quote = 0;
			else if (c == '<')
				return -EINVAL;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '>') {
			break;
		} else if (c == '<') {
			return -EINVAL;
		}
	}
	if (j >= doc.len)
		return -EINVAL;
	t.end = j + 1;
	size_t attrs_end = j;
	if (j > attrs && doc.p[j - 1] == '/') {
		if (t.close)
			return -EINVAL;
		t.empty = true;
		attrs_end--;
	}
	if (attrs < attrs_end && !xml_space(doc.p[attrs]))
		return -EINVAL; /* "<a"b>": the name must end at white space */
	if (t.close && slice_trim((struct slice){ doc.p + attrs, attrs_end - attrs }).len)
		return -EINVAL;
	t.attrs = (struct slice){ doc.p + attrs, attrs_end - attrs };
	*pos = t.end;
	*ret = t;
	return 1;
}

#define XML_DEPTH_MAX 256

int attach__xml_check(struct slice doc)
{
	struct slice stack[XML_DEPTH_MAX];
	size_t depth = 0, pos = 0, roots = 0;
	struct xml_tag t;
	int r;

	while ((r = attach__xml_next(doc, &pos, &t)) > 0) {
		if (t.close) {
			if (!depth || !slice_eq(stack[depth - 1], t.name))
				return -EINVAL;
			depth--;
			continue;
		}
		if (!depth)
			roots++;
		if (t.empty)
			continue;
		if (depth == XML_DEPTH_MAX)
			return -EINVAL;
		stack[depth++] = t.name;
	}
	if (r < 0 || depth || roots != 1)
		return -EINVAL;
	return 0;
}

struct slice attach__xml_local(struct slice qname)
{
	const char *colon = memchr(qname.p, ':', qname.len);
	if (!colon)
		return qname;
	return (struct slice){ colon + 1, qname.len - (size_t)(colon + 1 - qname.p) };
}

/* Appends the code point c as UTF-8. */
static int put_utf8(struct buf *b, uint32_t c)
{
	char u[4];
	size_t n;
	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -EINVAL;
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return buf_append(b, u, n);
}

/* Decodes an attribute value's entities into out. */
static int decode_value(struct slice v, struct buf *out)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
	};
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] != '&') {
			if (buf_putc(out, v.p[i]) < 0)
				return -E2BIG;
			continue;
		}
		struct slice rest = { v.p + i + 1, v.len - i - 1 };
		const char *semi = memchr(rest.p, ';', rest.len < 12 ? rest.len : 12);
		if (!semi)
			return -EINVAL;
		bool done = false;
		for (size_t k = 0; k < ARRAY_SIZE(ents) && !done; k++)
			if (slice_starts_with(rest, ents[k].name)) {
				if (buf_putc(out, ents[k].c) < 0)
					return -E2BIG;
				done = true;
			}
		if (!done) {
			if (rest.len < 3 || rest.p[0] != '#')
				return -EINVAL;
			bool hex = rest.p[1] == 'x';
			uint32_t c = 0;
			const char *d = rest.p + 1 + hex;
			if (d == semi)
				return -EINVAL;
			for (; d < semi; d++) {
				int digit;
				if (*d >= '0' && *d <= '9')
					digit = *d - '0';
				else if (hex && *d >= 'a' && *d <= 'f')
					digit = *d - 'a' + 10;
				else if (hex && *d >= 'A' && *d <= 'F')
					digit = *d - 'A' + 10;
				else
					return -EINVAL;
				c = c * (hex ? 16 : 10) + (uint32_t)digit;
				if (c > 0x10ffff)
					return -EINVAL;
			}
			if (put_utf8(out, c) < 0)
				return -EINVAL;
		}
		i = (size_t)(semi - v.p);
	}
	return 0;
}

static bool attr_find(const struct xml_tag *t, const char *name, bool local, struct buf *out)
{
	struct slice a = t->attrs;
	size_t i = 0;

	while (i < a.len) {
		while (i < a.len && xml_space(a.p[i]))
			i++;
		size_t n = i;
		while (i < a.len && name_char((unsigned char)a.p[i]))
			i++;
		struct slice an = { a.p + n, i - n };
		while (i < a.len && xml_space(a.p[i]))
			i++;
		if (!an.len || i >= a.len || a.p[i] != '=')
			return false;
		i++;
		while (i < a.len && xml_space(a.p[i]))
			i++;
		if (i >= a.len || (a.p[i] != '"' && a.p[i] != '\''))
			return false;
		char q = a.p[i++];
		const char *end = memchr(a.p + i, q, a.len - i);
		if (!end)
			return false;
		struct slice v = { a.p + i, (size_t)(end - (a.p + i)) };
		i = (size_t)(end - a.p) + 1;
		if (slice_eq_str(local ? attach__xml_local(an) : an, name)) {
			buf_reset(out);
			return decode_value(v, out) == 0;
		}
	}
	return false;
}

bool attach__xml_attr(const struct xml_tag *t, const char *name, struct buf *out)
{
	return attr_find(t, name, false, out);
}

bool attach__xml_attr_local(const struct xml_tag *t, const char *local, struct buf *out)
{
	return attr_find(t, local, true, out);
}

int attach__xml_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		int r;
		switch (*s) {
		case '&': r = buf_puts(b, "&amp;"); break;
		case '<': r = buf_puts(b, "&lt;"); break;
		case '>': r = buf_puts(b, "&gt;"); break;
		case '"': r = buf_puts(b, "&quot;"); break;
		case '\'': r = buf_puts(b, "&apos;"); break;
		default: r = buf_putc(b, *s);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int attach__part_resolve(const char *base, const char *target, struct buf *out)
{
	_cleanup_buf_ struct buf path = BUF_INIT(4096);

	if (!*target || strchr(target, '\\') || strchr(target, '?') || strchr(target, '#'))
		return -EINVAL;
	if (*target == '/') {
		target++;
	} else {
		const char *slash = strrchr(base, '/');
		if (slash && buf_append(&path, base, (size_t)(slash - base) + 1) < 0)
			return -EINVAL;
	}
	if (buf_puts(&path, target) < 0)
		return -EINVAL;

	/* normalise "." and ".." segments; ".." above the root leaves the package */
	buf_reset(out);
	struct slice rest = buf_slice(&path), seg;
	while (rest.len) {
		rest = slice_cut(rest, '/', &seg);
		if (!seg.len || slice_eq_str(seg, "."))
			continue;
		if (slice_eq_str(seg, "..")) {
			if (!out->len)
				return -EINVAL;
			char *slash = memrchr(out->p, '/', out->len);
			out->len = slash ? (size_t)(slash - out->p) : 0;
			out->p[out->len] = '\0';
			continue;
		}
		if ((out->len && buf_putc(out, '/') < 0) || buf_put_slice(out, seg) < 0)
			return -EINVAL;
	}
	return out->len ? 0 : -EINVAL;
}

void attach__rels_name(const char *part, struct buf *out)
{
	const char *slash = strrchr(part, '/');
	size_t dir = slash ? (size_t)(slash - part) + 1 : 0;

	buf_reset(out);
	/* names come from our own checked strings: short, so these cannot fail */
	BUG_ON(buf_append(out, part, dir) < 0);
	BUG_ON(buf_printf(out, "_rels/%s.rels", part + dir) < 0);
}

int attach__rels_find(struct slice rels, const char *type, const char *id, struct buf *ret_target,
		      bool *ret_external)
{
	_cleanup_buf_ struct buf v = BUF_INIT(8192);
	struct xml_tag t;
	size_t pos = 0;
	int r;

	while ((r = attach__xml_next(rels, &pos, &t)) > 0) {
		if (t.close || !slice_eq_str(attach__xml_local(t.name), "Relationship"))
			continue;
		if (id ? !attach__xml_attr(&t, "Id", &v) || strcmp(v.p, id)
		       : !attach__xml_attr(&t, "Type", &v) || strcmp(v.p, type))
			continue;
		if (!attach__xml_attr(&t, "Target", ret_target))
			return -EINVAL;
		if (ret_external)
			*ret_external = attach__xml_attr(&t, "TargetMode", &v) && !strcmp(v.p, "External");
		return 0;
	}
	return r < 0 ? -EINVAL : -ENOENT;
}

int attach__content_type(struct slice types, const char *part, struct buf *out)
{
	_cleanup_buf_ struct buf v = BUF_INIT(8192);
	_cleanup_buf_ struct buf def = BUF_INIT(8192);
	const char *dot = strrchr(part, '.');
	const char *ext = dot && !strchr(dot, '/') ? dot + 1 : "";
	bool have_def = false;
	struct xml_tag t;
	size_t pos = 0;
	int r;

	while ((r = attach__xml_next(types, &pos, &t)) > 0) {
		if (t.close)
			continue;
		struct slice local = attach__xml_local(t.name);
		if (slice_eq_str(local, "Override")) {
			/* part names compare case-insensitively (OPC) */
			if (attach__xml_attr(&t, "PartName", &v) && v.p[0] == '/' && !strcasecmp(v.p + 1, part)) {
				if (!attach__xml_attr(&t, "ContentType", out))
					return -EINVAL;
				return 0;
			}
		} else if (slice_eq_str(local, "Default") && !have_def) {
			if (attach__xml_attr(&t, "Extension", &v) && !strcasecmp(v.p, ext))
				have_def = attach__xml_attr(&t, "ContentType", &def);
		}
	}
	if (r < 0)
		return -EINVAL;
	if (!have_def)
		return -ENOENT;
	buf_reset(out);
	return buf_put_slice(out, buf_slice(&def)) < 0 ? -E2BIG : 0;
}

/* Reads a part that must exist and be well-formed XML. */
static int read_xml(zip_t *z, const char *name, struct buf *out, const char *missing, const char *bad,
		    const char **ret_msg)
{
	int r = attach__zip_read(z, name, ATTACH_PART_MAX, out);
	if (r == -ENOENT) {
		*ret_msg = missing;
		return -EINVAL;
	}
	if (r < 0 || attach__xml_check(buf_slice(out)) < 0) {
		*ret_msg = bad;
		return -EINVAL;
	}
	return 0;
}

/* Strict OOXML (ISO 29500 Strict) names its relationships under purl.oclc.org. */
#define REL_STRICT_OFFICE_DOCUMENT "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"

/* The first worksheet of a workbook: the first <sheet> of <sheets> whose
 * relationship is a worksheet (chartsheets have none of our cells). */
static int first_sheet(zip_t *z, struct slice workbook, struct ooxml_info *info, const char **ret_msg)
{
	_cleanup_buf_ struct buf rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf id = BUF_INIT(8192);
	_cleanup_buf_ struct buf target = BUF_INIT(8192);
	_cleanup_buf_ struct buf part = BUF_INIT(8192);
	_cleanup_buf_ struct buf type = BUF_INIT(8192);
	struct xml_tag t;
	size_t pos = 0;
	int r;

	if (read_xml(z, "xl/_rels/workbook.xml.rels", &rels, "xl/_rels/workbook.xml.rels is missing",
		     "xl/_rels/workbook.xml.rels is not well-formed XML", ret_msg) < 0)
		return -EINVAL;
	while ((r = attach__xml_next(workbook, &pos, &t)) > 0) {
		if (t.close || !slice_eq_str(attach__xml_local(t.name), "sheet"))
			continue;
		if (!attach__xml_attr_local(&t, "id", &id))
			continue;
		/* which type the relationship has: only a worksheet will do */
		struct slice rs = buf_slice(&rels);
		size_t rp = 0;
		struct xml_tag rt;
		bool worksheet = false;
		while (attach__xml_next(rs, &rp, &rt) > 0)
			if (!rt.close && attach__xml_attr(&rt, "Id", &type) && !strcmp(type.p, id.p)) {
				worksheet = attach__xml_attr(&rt, "Type", &type) && !strcmp(type.p, REL_WORKSHEET);
				break;
			}
		if (!worksheet)
			continue;
		bool external = false;
		if (attach__rels_find(rs, NULL, id.p, &target, &external) < 0 || external ||
		    attach__part_resolve(info->main, target.p, &part) < 0 || part.len >= sizeof(info->sheet)) {
			*ret_msg = "the first worksheet's relationship in xl/_rels/workbook.xml.rels is broken";
			return -EINVAL;
		}
		if (zip_name_locate(z, part.p, 0) < 0) {
			*ret_msg = "the first worksheet named in xl/workbook.xml is missing";
			return -EINVAL;
		}
		memcpy(info->sheet, part.p, part.len + 1);
		return 0;
	}
	*ret_msg = "xl/workbook.xml lists no worksheet";
	return -EINVAL;
}

/* ---- active content ------------------------------------------------------ */

/*
 * Macros are not the only way a document runs something: relationships to
 * remote templates, frames and OLE objects (the Follina pattern: an
 * External oleObject to an mhtml: URL), embedded OLE objects and ActiveX
 * controls, Excel 4.0 macro sheets and DDE (fields in Word, ddeLink in
 * Excel).  Office finds parts through relationships, not names, so every
 * .rels part is read; the names are checked as well.  Hyperlinks (a click
 * away, like any link in a mail) and linked images over http(s) (what our
 * own beacon is) may stay external.
 */

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

static bool has_dir_ci(const char *name, const char *dir)
{
	size_t m = strlen(dir);
	for (const char *p = name; *p; p++)
		if ((p == name || p[-1] == '/') && !strncasecmp(p, dir, m))
			return true;
	return false;
}

/* What one relationship may not be (NULL: fine). */
static const char *rel_refusal(const char *rels_part, const char *type, const char *target, bool external)
{
	const char *slash = strrchr(type, '/');
	const char *t = slash ? slash + 1 : type;

	if (!strcmp(t, "oleObject"))
		return external ? "the document links an external OLE object (the Follina pattern): not accepted"
				: "the document contains an embedded OLE object (oleObject): not accepted";
	if (!strcmp(t, "control") || !strcmp(t, "activeXControlBinary"))
		return "the document contains ActiveX controls (activeX): not accepted";
	if (!strcmp(t, "xlMacrosheet") || !strcmp(t, "xlIntlMacrosheet"))
		return "the workbook contains Excel 4.0 macro sheets (xl/macrosheets): not accepted";
	if (!strcmp(t, "vbaProject") || !strcmp(t, "wordVbaData"))
		return "the file contains macros (a vbaProject relationship): macro-enabled documents are not accepted";
	if (!strcmp(t, "aFChunk"))
		return "the document imports another file (altChunk), which can carry OLE objects: not accepted";
	if (!external || !strcmp(t, "hyperlink"))
		return NULL;
	if (!strcmp(t, "image") && (!strncasecmp(target, "http://", 7) || !strncasecmp(target, "https://", 8)))
		return NULL;
	if (!strcmp(t, "attachedTemplate"))
		return !strcmp(rels_part, "word/_rels/settings.xml.rels")
			? "the document links an external template (word/_rels/settings.xml.rels): not accepted"
			: "the document links an external template (attachedTemplate): not accepted";
	if (!strcmp(t, "image"))
		return "the document links an image that is not on an http(s) server (a file share?): not accepted";
	if (!strcmp(t, "frame"))
		return "the document loads an external frame (word/_rels/webSettings.xml.rels): not accepted";
	return "the document has an external relationship that is not a hyperlink (TargetMode=\"External\"): not accepted";
}

static int check_rels(struct slice rels, const char *part, const char **ret_msg)
{
	_cleanup_buf_ struct buf type = BUF_INIT(8192);
	_cleanup_buf_ struct buf target = BUF_INIT(8192);
	_cleanup_buf_ struct buf mode = BUF_INIT(64);
	struct xml_tag t;
	size_t pos = 0;
	int r;

	while ((r = attach__xml_next(rels, &pos, &t)) > 0) {
		if (t.close || !slice_eq_str(attach__xml_local(t.name), "Relationship"))
			continue;
		if (!attach__xml_attr(&t, "Type", &type))
			buf_reset(&type);
		if (!attach__xml_attr(&t, "Target", &target))
			buf_reset(&target);
		bool external = attach__xml_attr(&t, "TargetMode", &mode) && !strcasecmp(mode.p, "External");
		const char *why = rel_refusal(part, type.len ? type.p : "", target.len ? target.p : "", external);
		if (why) {
			*ret_msg = why;
			return -EINVAL;
		}
	}
	if (r < 0) {
		*ret_msg = "a relationships part (.rels) is not well-formed XML";
		return -EINVAL;
	}
	return 0;
}

/* The text of an element from..to (after its start tag, before its end):
 * entities and character references decoded, CDATA kept, comments and
 * processing instructions dropped, as an XML parser gives it to Word. */
static int xml_text(struct slice doc, size_t from, size_t to, struct buf *out)
{
	struct slice s = { doc.p + from, to - from };
	for (size_t i = 0; i < s.len;) {
		struct slice rest = { s.p + i, s.len - i };
		size_t next;
		if (slice_starts_with(rest, "<![CDATA[")) {
			const char *e = memmem(rest.p + 9, rest.len - 9, "]]>", 3);
			if (!e)
				return -EINVAL;
			if (buf_append(out, rest.p + 9, (size_t)(e - rest.p) - 9) < 0)
				return -E2BIG;
			next = (size_t)(e - s.p) + 3;
		} else if (s.p[i] == '<') {
			const char *e = memchr(rest.p, '>', rest.len);
			if (!e)
				return -EINVAL;
			next = (size_t)(e - s.p) + 1;
		} else if (s.p[i] == '&') {
			const char *e = memchr(rest.p, ';', rest.len < 12 ? rest.len : 12);
			if (!e || decode_value((struct slice){ rest.p, (size_t)(e - rest.p) + 1 }, out) < 0)
				return -EINVAL;
			next = (size_t)(e - s.p) + 1;
		} else {
			if (buf_putc(out, s.p[i]) < 0)
				return -E2BIG;
			next = i + 1;
		}
		i = next;
	}
	return 0;
}

/* A field instruction whose keyword is DDE or DDEAUTO (case does not
 * matter to Word; quotes around it neither). */
static bool instr_dde(struct slice instr)
{
	size_t i = 0, a;
	while (i < instr.len && (xml_space(instr.p[i]) || instr.p[i] == '"' || instr.p[i] == '\''))
		i++;
	a = i;
	while (i < instr.len && !xml_space(instr.p[i]) && instr.p[i] != '"' && instr.p[i] != '\'' &&
	       instr.p[i] != '\\')
		i++;
	struct slice kw = { instr.p + a, i - a };
	return (kw.len == 3 && !strncasecmp(kw.p, "DDE", 3)) || (kw.len == 7 && !strncasecmp(kw.p, "DDEAUTO", 7));
}

#define FIELD_DEPTH_MAX 32
#define MSG_DDE "the document has a DDE field (DDE or DDEAUTO), which runs commands: not accepted"

/* Fields of a WordprocessingML part: w:fldSimple's w:instr, and complex
 * fields (w:fldChar begin … separate … end) whose w:instrText runs are
 * joined per field, as Word joins them ("DD" + "EAUTO" is DDEAUTO).  A
 * field whose instruction starts with another field ({ {QUOTE 68 68 69} … })
 * computes its own keyword: refused, that is how DDE is hidden. */
static int check_fields(struct slice doc, const char **ret_msg)
{
	struct buf instr[FIELD_DEPTH_MAX];
	bool in_instr[FIELD_DEPTH_MAX];
	_cleanup_buf_ struct buf v = BUF_INIT(8192);
	size_t depth = 0, pos = 0;
	struct xml_tag t;
	const char *why = NULL;
	int r = 0;

	for (size_t k = 0; k < FIELD_DEPTH_MAX; k++)
		buf_init(&instr[k], 16384);
	while (r == 0 && (r = attach__xml_next(doc, &pos, &t)) > 0) {
		r = 0;
		if (t.close)
			continue;
		struct slice local = attach__xml_local(t.name);
		if (slice_eq_str(local, "fldSimple")) {
			if (attach__xml_attr_local(&t, "instr", &v) && instr_dde(buf_slice(&v))) {
				why = MSG_DDE;
				r = -EINVAL;
			}
		} else if (slice_eq_str(local, "fldChar")) {
			if (!attach__xml_attr_local(&t, "fldCharType", &v))
				continue;
			if (!strcmp(v.p, "begin")) {
				if (depth && in_instr[depth - 1] && !slice_trim(buf_slice(&instr[depth - 1])).len) {
					why = "the document has a field whose keyword comes from another field (a way to hide DDE): not accepted";
					r = -EINVAL;
				} else if (depth == FIELD_DEPTH_MAX) {
					why = "the document has fields nested more than 32 deep";
					r = -EINVAL;
				} else {
					buf_reset(&instr[depth]);
					in_instr[depth++] = true;
				}
			} else if ((!strcmp(v.p, "separate") || !strcmp(v.p, "end")) && depth) {
				if (in_instr[depth - 1] && instr_dde(buf_slice(&instr[depth - 1]))) {
					why = MSG_DDE;
					r = -EINVAL;
				}
				in_instr[depth - 1] = false;
				if (!strcmp(v.p, "end"))
					depth--;
			}
		} else if (slice_eq_str(local, "instrText") && !t.empty) {
			size_t after = pos;
			struct xml_tag e;
			if (attach__xml_next(doc, &after, &e) <= 0) {
				r = -EINVAL;
				break;
			}
			buf_reset(&v);
			if (xml_text(doc, t.end, e.start, &v) < 0) {
				r = -EINVAL;
				break;
			}
			if (!depth || !in_instr[depth - 1]) {
				/* instruction text outside a field's instruction: judged alone */
				if (instr_dde(buf_slice(&v))) {
					why = MSG_DDE;
					r = -EINVAL;
				}
			} else if (buf_put_slice(&instr[depth - 1], buf_slice(&v)) < 0) {
				/* 16 KiB of instruction: the keyword came long before */
			}
		}
	}
	/* fields left open at the end of the part */
	for (size_t k = 0; r == 0 && k < depth; k++)
		if (in_instr[k] && instr_dde(buf_slice(&instr[k]))) {
			why = MSG_DDE;
			r = -EINVAL;
		}
	for (size_t k = 0; k < FIELD_DEPTH_MAX; k++)
		buf_release(&instr[k]);
	if (r < 0) {
		*ret_msg = why ? why : "a part under word/ is not well-formed XML";
		return -EINVAL;
	}
	return 0;
}

/* xl/externalLinks parts: a ddeLink runs a DDE server, an oleLink an OLE one. */
static int check_external_link(struct slice doc, const char **ret_msg)
{
	struct xml_tag t;
	size_t pos = 0;
	int r;

	while ((r = attach__xml_next(doc, &pos, &t)) > 0) {
		struct slice local = attach__xml_local(t.name);
		if (slice_eq_str(local, "ddeLink")) {
			*ret_msg = "the workbook has a DDE link (ddeLink in xl/externalLinks), which runs commands: not accepted";
			return -EINVAL;
		}
		if (slice_eq_str(local, "oleLink")) {
			*ret_msg = "the workbook links an OLE object (oleLink in xl/externalLinks): not accepted";
			return -EINVAL;
		}
	}
	if (r < 0) {
		*ret_msg = "a part under xl/externalLinks is not well-formed XML";
		return -EINVAL;
	}
	return 0;
}

static int ooxml_active(zip_t *z, struct slice types, const char **ret_msg)
{
	_cleanup_buf_ struct buf part = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf v = BUF_INIT(8192);
	zip_int64_t n = zip_get_num_entries(z, 0);
	struct xml_tag t;
	size_t pos = 0;

	/* content types name what a part is whatever it is called */
	while (attach__xml_next(types, &pos, &t) > 0) {
		if (t.close || !slice_eq_str(attach__xml_local(t.name), "Override") ||
		    !attach__xml_attr(&t, "ContentType", &v))
			continue;
		if (strcasestr(v.p, "macrosheet")) {
			*ret_msg = "the workbook contains Excel 4.0 macro sheets (xl/macrosheets): not accepted";
			return -EINVAL;
		}
		if (strcasestr(v.p, "activeX")) {
			*ret_msg = "the document contains ActiveX controls (activeX): not accepted";
			return -EINVAL;
		}
		if (strcasestr(v.p, "oleObject")) {
			*ret_msg = "the document contains an embedded OLE object (oleObject): not accepted";
			return -EINVAL;
		}
	}
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
		if (!name)
			continue;
		if (has_dir_ci(name, "activeX/")) {
			*ret_msg = "the document contains ActiveX controls (activeX): not accepted";
			return -EINVAL;
		}
		if (has_dir_ci(name, "macrosheets/") || has_dir_ci(name, "intlMacrosheets/")) {
			*ret_msg = "the workbook contains Excel 4.0 macro sheets (xl/macrosheets): not accepted";
			return -EINVAL;
		}
		/* a chart's data is an embedded workbook (.xlsx, no macros
		 * possible); anything else there is an OLE object or a file */
		if (has_dir_ci(name, "embeddings/") && !ends_with_ci(name, ".xlsx") && name[strlen(name) - 1] != '/') {
			*ret_msg = "the document contains an embedded object or file (embeddings/): not accepted";
			return -EINVAL;
		}
		bool rels = ends_with_ci(name, ".rels");
		bool word = !strncasecmp(name, "word/", 5) && ends_with_ci(name, ".xml");
		bool xlink = !strncasecmp(name, "xl/externalLinks/", 17) && ends_with_ci(name, ".xml");
		if (!rels && !word && !xlink)
			continue;
		if (attach__zip_read(z, name, ATTACH_PART_MAX, &part) < 0) {
			*ret_msg = "a part of the document cannot be read (over 32 MiB or damaged)";
			return -EINVAL;
		}
		int r = rels ? check_rels(buf_slice(&part), name, ret_msg)
			: word ? check_fields(buf_slice(&part), ret_msg)
			       : check_external_link(buf_slice(&part), ret_msg);
		if (r < 0)
			return -EINVAL;
	}
	return 0;
}

int attach__ooxml_check(zip_t *z, struct ooxml_info *ret, const char **ret_msg)
{
	_cleanup_buf_ struct buf types = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf target = BUF_INIT(8192);
	_cleanup_buf_ struct buf main = BUF_INIT(8192);
	_cleanup_buf_ struct buf ct = BUF_INIT(8192);
	_cleanup_buf_ struct buf doc = BUF_INIT(ATTACH_PART_MAX);
	struct ooxml_info info = { 0 };
	bool external = false;
	int r;

	/* macros first: a docm also has everything a docx has */
	zip_int64_t n = zip_get_num_entries(z, 0);
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
		const char *base = name ? strrchr(name, '/') : NULL;
		if (name && !strcasecmp(base ? base + 1 : name, "vbaProject.bin")) {
			*ret_msg = "the file contains macros (vbaProject.bin): macro-enabled documents are not accepted";
			return -EINVAL;
		}
	}

	if (read_xml(z, "[Content_Types].xml", &types, "[Content_Types].xml is missing: not an Office Open XML file",
		     "[Content_Types].xml is not well-formed XML", ret_msg) < 0)
		return -EINVAL;
	if (read_xml(z, "_rels/.rels", &rels, "_rels/.rels is missing: not an Office Open XML file",
		     "_rels/.rels is not well-formed XML", ret_msg) < 0)
		return -EINVAL;
	if (ooxml_active(z, buf_slice(&types), ret_msg) < 0)
		return -EINVAL;
	r = attach__rels_find(buf_slice(&rels), REL_OFFICE_DOCUMENT, NULL, &target, &external);
	if (r == -ENOENT &&
	    attach__rels_find(buf_slice(&rels), REL_STRICT_OFFICE_DOCUMENT, NULL, &target, &external) == 0) {
		*ret_msg = "Strict Office Open XML is not supported: save the file as a regular docx or xlsx";
		return -EINVAL;
	}
	if (r < 0 || external || attach__part_resolve("", target.p, &main) < 0) {
		*ret_msg = "_rels/.rels has no officeDocument relationship to the main part";
		return -EINVAL;
	}
	if (!strcmp(main.p, "word/document.xml")) {
		info.kind = ATTACH_DOCX;
	} else if (!strcmp(main.p, "xl/workbook.xml")) {
		info.kind = ATTACH_XLSX;
	} else {
		*ret_msg = "the main part is neither word/document.xml nor xl/workbook.xml";
		return -EINVAL;
	}
	memcpy(info.main, main.p, main.len + 1);

	r = attach__content_type(buf_slice(&types), info.main, &ct);
	if (r < 0) {
		*ret_msg = info.kind == ATTACH_DOCX ? "[Content_Types].xml gives word/document.xml no content type"
						    : "[Content_Types].xml gives xl/workbook.xml no content type";
		return -EINVAL;
	}
	if (strstr(ct.p, "macroEnabled")) {
		*ret_msg = "macro-enabled documents (docm, xlsm) are not accepted";
		return -EINVAL;
	}
	if (strcmp(ct.p, info.kind == ATTACH_DOCX ? CT_DOCX_MAIN : CT_XLSX_MAIN)) {
		*ret_msg = info.kind == ATTACH_DOCX
			? "word/document.xml does not have the content type of a Word document (a template?)"
			: "xl/workbook.xml does not have the content type of an Excel workbook (a template?)";
		return -EINVAL;
	}

	if (info.kind == ATTACH_DOCX) {
		if (read_xml(z, info.main, &doc, "word/document.xml is missing",
			     "word/document.xml is not well-formed XML", ret_msg) < 0)
			return -EINVAL;
		/* the body is where the beacon goes */
		struct xml_tag t;
		size_t pos = 0;
		bool body = false;
		while (!body && attach__xml_next(buf_slice(&doc), &pos, &t) > 0)
			body = t.close && slice_eq_str(attach__xml_local(t.name), "body");
		if (!body) {
			*ret_msg = "word/document.xml has no w:body";
			return -EINVAL;
		}
		_cleanup_buf_ struct buf drels = BUF_INIT(ATTACH_PART_MAX);
		r = attach__zip_read(z, "word/_rels/document.xml.rels", ATTACH_PART_MAX, &drels);
		if (r != -ENOENT && (r < 0 || attach__xml_check(buf_slice(&drels)) < 0)) {
			*ret_msg = "word/_rels/document.xml.rels is not well-formed XML";
			return -EINVAL;
		}
	} else {
		if (read_xml(z, info.main, &doc, "xl/workbook.xml is missing", "xl/workbook.xml is not well-formed XML",
			     ret_msg) < 0)
			return -EINVAL;
		if (first_sheet(z, buf_slice(&doc), &info, ret_msg) < 0)
			return -EINVAL;
		if (read_xml(z, info.sheet, &doc, "the first worksheet is missing",
			     "the first worksheet is not well-formed XML", ret_msg) < 0)
			return -EINVAL;
	}
	*ret = info;
	return 0;
}
