/*
 * inject.c — attach_inject: a copy of a trainer's checked upload carrying one
 * target's beacon.
 *
 * docx/xlsx: the package is copied entry by entry with libzip, the
 * untouched entries as their compressed bytes (no inflate/deflate), and only
 * the few XML parts we change are spliced at offsets found by the tag
 * scanner (ooxml.c) — never a regex, never a re-serialisation of the
 * trainer's XML.  Inserted elements declare their own namespaces, so the
 * prefixes the document happens to use do not matter.
 *
 * pdf: an incremental update appended to the original bytes (ISO 32000-1
 * 7.5.6): new versions of the first page (a link annotation, /AA /O) and of
 * the catalog (/OpenAction), then a cross-reference section of the same
 * kind as the file's newest one (table or stream) with /Prev pointing at
 * it.  Offsets are recorded as the objects are written.
 */
#include "attach/attach_int.h"

#define NS_W "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define NS_WP "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
#define NS_A "http://schemas.openxmlformats.org/drawingml/2006/main"
#define NS_PIC "http://schemas.openxmlformats.org/drawingml/2006/picture"
#define NS_XDR "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
#define NS_RELS "http://schemas.openxmlformats.org/package/2006/relationships"
#define EMU_PX 9525 /* one pixel: the picture is a dot */

/* Absolute http(s), printable ASCII without the characters that would need
 * escaping in a Word field, XML or PDF beyond what we escape. */
static bool url_ok(const char *u)
{
	if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) || strlen(u) > 2048)
		return false;
	for (; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f || strchr("\"<>\\^`{|}", *u))
			return false;
	return true;
}

/* ---- XML splicing --------------------------------------------------------- */

/* The root element of a well-formed document: its start tag and where its
 * end tag starts (for an empty root, the "/>"). */
struct xml_root {
	struct xml_tag open;
	size_t close;
};

static int xml_root(struct slice doc, struct xml_root *ret)
{
	struct xml_tag t;
	size_t pos = 0, depth = 0;
	bool seen = false;
	int r;

	while ((r = attach__xml_next(doc, &pos, &t)) > 0) {
		if (!seen) {
			seen = true;
			ret->open = t;
			if (t.empty) {
				ret->close = t.end - 2;
				return 0;
			}
		}
		if (t.close && --depth == 0) {
			ret->close = t.start;
			return 0;
		}
		if (!t.close && !t.empty)
			depth++;
	}
	return -EINVAL;
}

/* doc with text inserted as the last child of the root element. */
static int append_child(struct slice doc, const char *text, struct buf *out)
{
	struct xml_root root;
	if (xml_root(doc, &root) < 0)
		return -EINVAL;
	buf_reset(out);
	int r = buf_append(out, doc.p, root.close);
	if (root.open.empty) {
		/* <Types/> -> <Types>text</Types> */
		r = r < 0 ? r : buf_putc(out, '>');
		r = r < 0 ? r : buf_puts(out, text);
		r = r < 0 ? r : buf_puts(out, "</");
		r = r < 0 ? r : buf_put_slice(out, root.open.name);
		r = r < 0 ? r : buf_putc(out, '>');
		r = r < 0 ? r : buf_append(out, doc.p + root.open.end, doc.len - root.open.end);
	} else {
		r = r < 0 ? r : buf_puts(out, text);
		r = r < 0 ? r : buf_append(out, doc.p + root.close, doc.len - root.close);
	}
	return r < 0 ? -E2BIG : 0;
}

/* An Id of the form rIdN not used in rels. */
static void rels_new_id(struct slice rels, struct buf *id)
{
	_cleanup_buf_ struct buf target = BUF_INIT(8192);
	for (unsigned n = 1;; n++) {
		buf_reset(id);
		BUG_ON(buf_printf(id, "rId%u", n) < 0);
		if (attach__rels_find(rels, NULL, id->p, &target, NULL) == -ENOENT)
			return;
	}
}

/* rels (or a new relationships part when empty) with one more relationship. */
static int rels_add(struct slice rels, const char *id, const char *type, const char *target, bool external,
		    struct buf *out)
{
	_cleanup_buf_ struct buf rel = BUF_INIT(8192);
	int r = buf_printf(&rel, "<Relationship Id=\"%s\" Type=\"%s\" Target=\"", id, type);
	r = r < 0 ? r : attach__xml_escape(&rel, target);
	r = r < 0 ? r : buf_puts(&rel, external ? "\" TargetMode=\"External\"/>" : "\"/>");
	if (r < 0)
		return -E2BIG;
	if (!rels.len)
		rels = SLICE_LIT("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
				 "<Relationships xmlns=\"" NS_RELS "\"></Relationships>");
	return append_child(rels, rel.p, out);
}

/* The largest numeric value of attribute `attr` on elements named local. */
static unsigned long max_attr(struct slice doc, const char *local, const char *attr)
{
	_cleanup_buf_ struct buf v = BUF_INIT(64);
	unsigned long max = 0;
	struct xml_tag t;
	size_t pos = 0;

	while (attach__xml_next(doc, &pos, &t) > 0) {
		if (t.close || !slice_eq_str(attach__xml_local(t.name), local) || !attach__xml_attr(&t, attr, &v))
			continue;
		char *end;
		unsigned long n = strtoul(v.p, &end, 10);
		if (!*end && n > max && n < 1000000000)
			max = n;
	}
	return max;
}

/* The DrawingML picture both formats use: a linked (r:link) blip. */
static int put_pic(struct buf *b, const char *pfx, unsigned long id, const char *rid)
{
	return buf_printf(b,
			  "<%1$s:nvPicPr><%1$s:cNvPr id=\"%2$lu\" name=\"Picture %2$lu\"/><%1$s:cNvPicPr/></%1$s:nvPicPr>"
			  "<%1$s:blipFill><a:blip r:link=\"%3$s\"/><a:stretch><a:fillRect/></a:stretch></%1$s:blipFill>"
			  "<%1$s:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"%4$d\" cy=\"%4$d\"/></a:xfrm>"
			  "<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></%1$s:spPr>",
			  pfx, id, rid, EMU_PX);
}

/* ---- zip rewriting ---------------------------------------------------------- */

struct part_edit {
	const char *name;
	struct slice data;
};

/* Parts we write that are under 1 KiB are stored: deflating costs a fresh
 * zlib state (~270 KiB, zeroed) per entry, more than the bytes it saves. */
static int store_small(zip_t *w, zip_int64_t idx, const struct part_edit *edits, size_t nedits, const char *name)
{
	for (size_t k = 0; k < nedits; k++)
		if (!strcmp(edits[k].name, name) && edits[k].data.len < 1024)
			return zip_set_file_compression(w, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
	return 0;
}

/* The archive src with the parts in edits replaced (at their place) or
 * added (at the end); other entries are copied compressed as they are. */
static int zip_rewrite(zip_t *src, const struct part_edit *edits, size_t nedits, struct buf *out)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *ms = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_error_fini(&ze);
	if (!ms)
		return -ENOMEM;
	zip_source_keep(ms);
	zip_t *w = zip_open_from_source(ms, ZIP_TRUNCATE, &ze);
	if (!w) {
		zip_source_free(ms);
		return -ENOMEM;
	}

	int r = 0;
	bool used[8] = { false };
	BUG_ON(nedits > ARRAY_SIZE(used));
	zip_int64_t n = zip_get_num_entries(src, 0);
	for (zip_int64_t i = 0; i < n && !r; i++) {
		const char *name = zip_get_name(src, (zip_uint64_t)i, 0);
		zip_source_t *s = NULL;
		if (!name) {
			r = -EIO;
			break;
		}
		for (size_t k = 0; k < nedits && !s; k++)
			if (!strcmp(edits[k].name, name)) {
				used[k] = true;
				s = zip_source_buffer(w, edits[k].data.p, edits[k].data.len, 0);
			}
		if (!s)
			s = zip_source_zip(w, src, (zip_uint64_t)i, ZIP_FL_COMPRESSED, 0, -1);
		zip_int64_t idx = s ? zip_file_add(w, name, s, ZIP_FL_ENC_GUESS) : -1;
		if (idx < 0) {
			zip_source_free(s);
			r = -EIO;
		} else if (store_small(w, idx, edits, nedits, name) < 0) {
			r = -EIO;
		}
	}
	for (size_t k = 0; k < nedits && !r; k++) {
		if (used[k])
			continue;
		zip_source_t *s = zip_source_buffer(w, edits[k].data.p, edits[k].data.len, 0);
		zip_int64_t idx = s ? zip_file_add(w, edits[k].name, s, ZIP_FL_ENC_UTF_8) : -1;
		if (idx < 0) {
			zip_source_free(s);
			r = -EIO;
		} else if (store_small(w, idx, edits, nedits, edits[k].name) < 0) {
			r = -EIO;
		}
	}
	if (r < 0 || zip_close(w) < 0) {
		zip_discard(w);
		zip_source_free(ms);
		return r < 0 ? r : -EIO;
	}

	zip_stat_t st;
	if (zip_source_open(ms) < 0) {
		zip_source_free(ms);
		return -EIO;
	}
	zip_stat_init(&st);
	if (zip_source_stat(ms, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) || st.size > out->max - out->len) {
		r = (st.valid & ZIP_STAT_SIZE) ? -E2BIG : -EIO;
	} else {
		char chunk[16384];
		zip_int64_t got;
		while ((got = zip_source_read(ms, chunk, sizeof(chunk))) > 0)
			if (buf_append(out, chunk, (size_t)got) < 0) {
				r = -E2BIG;
				break;
			}
		if (got < 0)
			r = -EIO;
	}
	zip_source_close(ms);
	zip_source_free(ms);
	return r;
}

/* Reads a part we are going to change: it must be well-formed. */
static int read_part(zip_t *z, const char *name, bool optional, struct buf *out)
{
	int r = attach__zip_read(z, name, ATTACH_PART_MAX, out);
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0 || attach__xml_check(buf_slice(out)) < 0)
		return -EINVAL;
	return 0;
}

/* ---- docx ----------------------------------------------------------------- */

static int inject_docx(zip_t *z, const char *beacon, struct buf *out)
{
	_cleanup_buf_ struct buf doc = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf new_doc = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf new_rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf rid = BUF_INIT(64);
	_cleanup_buf_ struct buf para = BUF_INIT(16384);
	const char *rels_name = "word/_rels/document.xml.rels";

	if (read_part(z, "word/document.xml", false, &doc) < 0 || read_part(z, rels_name, true, &rels) < 0)
		return -EINVAL;

	/* where: the end of w:body, before its final w:sectPr (the last
	 * section's properties must stay the body's last child) */
	struct slice d = buf_slice(&doc);
	struct xml_tag t;
	size_t pos = 0, depth = 0, at = 0, last_child = 0;
	bool in_body = false, last_is_sect = false;
	while (!at && attach__xml_next(d, &pos, &t) > 0) {
		struct slice local = attach__xml_local(t.name);
		if (t.close) {
			depth--;
			if (in_body && depth == 1)
				at = last_is_sect ? last_child : t.start;
			continue;
		}
		if (depth == 1 && slice_eq_str(local, "body"))
			in_body = !t.empty;
		else if (in_body && depth == 2) {
			last_child = t.start;
			last_is_sect = slice_eq_str(local, "sectPr");
		}
		if (!t.empty)
			depth++;
	}
	if (!at)
		return -EINVAL;

	rels_new_id(buf_slice(&rels), &rid);
	unsigned long id = max_attr(d, "docPr", "id") + 1;
	int r = buf_printf(&para,
			   "<w:p xmlns:w=\"" NS_W "\" xmlns:r=\"" REL_NS "\" xmlns:wp=\"" NS_WP "\" xmlns:a=\"" NS_A
			   "\" xmlns:pic=\"" NS_PIC "\"><w:r><w:drawing>"
			   "<wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\"><wp:extent cx=\"%d\" cy=\"%d\"/>"
			   "<wp:docPr id=\"%lu\" name=\"Picture %lu\"/>"
			   "<a:graphic><a:graphicData uri=\"" NS_PIC "\"><pic:pic>",
			   EMU_PX, EMU_PX, id, id);
	r = r < 0 ? r : put_pic(&para, "pic", 0, rid.p);
	r = r < 0 ? r : buf_puts(&para, "</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
				       /* Word's second path: a linked picture field (\d: do not store it) */
				       "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
				       "<w:r><w:instrText xml:space=\"preserve\"> INCLUDEPICTURE \"");
	r = r < 0 ? r : attach__xml_escape(&para, beacon);
	r = r < 0 ? r : buf_puts(&para, "\" \\d </w:instrText></w:r>"
				       "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
				       "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>");
	r = r < 0 ? r : buf_append(&new_doc, d.p, at);
	r = r < 0 ? r : buf_put_slice(&new_doc, buf_slice(&para));
	r = r < 0 ? r : buf_append(&new_doc, d.p + at, d.len - at);
	if (r < 0)
		return -E2BIG;
	r = rels_add(buf_slice(&rels), rid.p, REL_IMAGE, beacon, true, &new_rels);
	if (r < 0)
		return r;

	struct part_edit edits[] = {
		{ "word/document.xml", buf_slice(&new_doc) },
		{ rels_name, buf_slice(&new_rels) },
	};
	return zip_rewrite(z, edits, ARRAY_SIZE(edits), out);
}

/* ---- xlsx ----------------------------------------------------------------- */

/* CT_Worksheet (ECMA-376 Part 1, sml.xsd): <drawing> comes after
 * sheetData ... headerFooter, rowBreaks, colBreaks, customProperties,
 * cellWatches, ignoredErrors, smartTags and before these. */
static const char *const after_drawing[] = {
	"legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
	"controls", "webPublishItems", "tableParts", "extLst",
};

/* An anchor holding the picture, at the top-left corner of the sheet. */
static int put_anchor(struct buf *b, unsigned long id, const char *rid)
{
	int r = buf_printf(b,
			   "<xdr:oneCellAnchor xmlns:xdr=\"" NS_XDR "\" xmlns:a=\"" NS_A "\" xmlns:r=\"" REL_NS "\">"
			   "<xdr:from><xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row>"
			   "<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx=\"%d\" cy=\"%d\"/><xdr:pic>",
			   EMU_PX, EMU_PX);
	r = r < 0 ? r : put_pic(b, "xdr", id, rid);
	r = r < 0 ? r : buf_puts(b, "</xdr:pic><xdr:clientData/></xdr:oneCellAnchor>");
	return r < 0 ? -E2BIG : 0;
}

static int inject_xlsx(zip_t *z, const struct ooxml_info *info, const char *beacon, struct buf *out)
{
	_cleanup_buf_ struct buf sheet = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf sheet_rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf sheet_rels_name = BUF_INIT(512);
	_cleanup_buf_ struct buf drawing = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf drawing_name = BUF_INIT(512);
	_cleanup_buf_ struct buf drawing_rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf drawing_rels_name = BUF_INIT(512);
	_cleanup_buf_ struct buf types = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf new_sheet = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf new_sheet_rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf new_drawing = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf new_drawing_rels = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf new_types = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf rid = BUF_INIT(64);
	_cleanup_buf_ struct buf img_rid = BUF_INIT(64);
	_cleanup_buf_ struct buf v = BUF_INIT(8192);
	_cleanup_buf_ struct buf text = BUF_INIT(16384);
	int r;

	attach__rels_name(info->sheet, &sheet_rels_name);
	if (read_part(z, info->sheet, false, &sheet) < 0 || read_part(z, sheet_rels_name.p, true, &sheet_rels) < 0)
		return -EINVAL;

	/* the root's children: an existing <drawing>, and where a new one goes */
	struct slice s = buf_slice(&sheet);
	struct xml_root root;
	struct xml_tag t;
	size_t pos = 0, depth = 0, insert_at = 0;
	bool have_drawing = false;
	if (xml_root(s, &root) < 0 || root.open.empty)
		return -EINVAL;
	while (attach__xml_next(s, &pos, &t) > 0) {
		if (t.close) {
			depth--;
			continue;
		}
		if (depth == 1) {
			struct slice local = attach__xml_local(t.name);
			if (slice_eq_str(local, "drawing") && attach__xml_attr_local(&t, "id", &v) && !have_drawing) {
				have_drawing = true;
				buf_reset(&rid);
				if (buf_put_slice(&rid, buf_slice(&v)) < 0)
					return -E2BIG;
			}
			for (size_t k = 0; k < ARRAY_SIZE(after_drawing) && !insert_at; k++)
				if (slice_eq_str(local, after_drawing[k]))
					insert_at = t.start;
		}
		if (!t.empty)
			depth++;
	}
	if (!insert_at)
		insert_at = root.close;

	struct part_edit edits[5];
	size_t nedits = 0;
	if (have_drawing) {
		/* add the picture to the sheet's drawing */
		bool external = false;
		if (attach__rels_find(buf_slice(&sheet_rels), NULL, rid.p, &v, &external) < 0 || external ||
		    attach__part_resolve(info->sheet, v.p, &drawing_name) < 0 ||
		    read_part(z, drawing_name.p, false, &drawing) < 0)
			return -EINVAL;
	} else {
		/* a new drawing part: the first free xl/drawings/drawingN.xml */
		for (unsigned n = 1;; n++) {
			buf_reset(&drawing_name);
			BUG_ON(buf_printf(&drawing_name, "xl/drawings/drawing%u.xml", n) < 0);
			if (zip_name_locate(z, drawing_name.p, ZIP_FL_NOCASE) < 0)
				break;
		}
		r = buf_puts(&drawing, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
				       "<xdr:wsDr xmlns:xdr=\"" NS_XDR "\" xmlns:a=\"" NS_A "\"/>");
		if (r < 0)
			return -E2BIG;
	}
	attach__rels_name(drawing_name.p, &drawing_rels_name);
	if (read_part(z, drawing_rels_name.p, true, &drawing_rels) < 0)
		return -EINVAL;
	rels_new_id(buf_slice(&drawing_rels), &img_rid);
	unsigned long id = max_attr(buf_slice(&drawing), "cNvPr", "id") + 1;
	if (put_anchor(&text, id, img_rid.p) < 0 || append_child(buf_slice(&drawing), text.p, &new_drawing) < 0)
		return -EINVAL;
	r = rels_add(buf_slice(&drawing_rels), img_rid.p, REL_IMAGE, beacon, true, &new_drawing_rels);
	if (r < 0)
		return r;
	edits[nedits++] = (struct part_edit){ drawing_name.p, buf_slice(&new_drawing) };
	edits[nedits++] = (struct part_edit){ drawing_rels_name.p, buf_slice(&new_drawing_rels) };

	if (!have_drawing) {
		/* the sheet points at it: <drawing r:id> in its schema place, a
		 * relationship, and the drawing's content type */
		const char *slash = strrchr(drawing_name.p, '/');
		buf_reset(&v);
		rels_new_id(buf_slice(&sheet_rels), &rid);
		r = buf_printf(&v, "../drawings/%s", slash + 1);
		r = r < 0 ? r : rels_add(buf_slice(&sheet_rels), rid.p, REL_DRAWING, v.p, false, &new_sheet_rels);
		if (r < 0)
			return r;
		struct slice qn = root.open.name, prefix = { qn.p, 0 };
		const char *colon = memchr(qn.p, ':', qn.len);
		if (colon)
			prefix.len = (size_t)(colon - qn.p) + 1;
		r = buf_append(&new_sheet, s.p, insert_at);
		r = r < 0 ? r : buf_putc(&new_sheet, '<');
		r = r < 0 ? r : buf_put_slice(&new_sheet, prefix);
		r = r < 0 ? r : buf_printf(&new_sheet, "drawing xmlns:r=\"" REL_NS "\" r:id=\"%s\"/>", rid.p);
		r = r < 0 ? r : buf_append(&new_sheet, s.p + insert_at, s.len - insert_at);
		if (r < 0)
			return -E2BIG;

		if (read_part(z, "[Content_Types].xml", false, &types) < 0)
			return -EINVAL;
		buf_reset(&text);
		r = buf_printf(&text, "<Override PartName=\"/%s\" ContentType=\"" CT_DRAWING "\"/>", drawing_name.p);
		r = r < 0 ? r : append_child(buf_slice(&types), text.p, &new_types);
		if (r < 0)
			return r;
		edits[nedits++] = (struct part_edit){ info->sheet, buf_slice(&new_sheet) };
		edits[nedits++] = (struct part_edit){ sheet_rels_name.p, buf_slice(&new_sheet_rels) };
		edits[nedits++] = (struct part_edit){ "[Content_Types].xml", buf_slice(&new_types) };
	}
	return zip_rewrite(z, edits, nedits, out);
}

/* ---- pdf ------------------------------------------------------------------ */

/* A PDF literal string. */
static int put_pdf_string(struct buf *b, const char *s)
{
	int r = buf_putc(b, '(');
	for (; *s && r >= 0; s++)
		r = (*s == '(' || *s == ')' || *s == '\\') ? buf_printf(b, "\\%c", *s) : buf_putc(b, *s);
	return r < 0 ? r : buf_putc(b, ')');
}

/* Copies the entries of dict but the keys in skip ("<<" not included). */
static int copy_dict_entries(struct slice dict, const char *const *skip, size_t nskip, struct buf *out)
{
	size_t i = 0;
	attach__pdf_skip_ws(dict, &i);
	if (i + 1 >= dict.len || dict.p[i] != '<' || dict.p[i + 1] != '<')
		return -EINVAL;
	i += 2;
	for (;;) {
		struct slice k, v;
		attach__pdf_skip_ws(dict, &i);
		if (i + 1 < dict.len && dict.p[i] == '>' && dict.p[i + 1] == '>')
			return 0;
		if (i >= dict.len || dict.p[i] != '/' || attach__pdf_value(dict, &i, &k) < 0 ||
		    attach__pdf_value(dict, &i, &v) < 0)
			return -EINVAL;
		bool skipped = false;
		for (size_t n = 0; n < nskip && !skipped; n++)
			skipped = k.len - 1 == strlen(skip[n]) && !memcmp(k.p + 1, skip[n], k.len - 1);
		if (skipped)
			continue;
		if (buf_put_slice(out, k) < 0 || buf_putc(out, ' ') < 0 || buf_put_slice(out, v) < 0 ||
		    buf_putc(out, '\n') < 0)
			return -E2BIG;
	}
}

/* The page's visible area (CropBox, else MediaBox, inherited through
 * /Parent) as a "[a b c d]" of four numbers. */
static void page_box(struct pdf *p, struct slice page, struct buf *out)
{
	_cleanup_buf_ struct buf node = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf box = BUF_INIT(4096);
	static const char *const keys[] = { "CropBox", "MediaBox" };

	buf_reset(out);
	if (buf_put_slice(&node, page) < 0)
		goto dflt;
	for (int depth = 0; depth < 32; depth++) {
		struct slice v;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			if (attach__pdf_dict_get(buf_slice(&node), keys[k], &v) < 0 ||
			    attach__pdf_resolve(p, v, &box) < 0 || box.len < 2 || box.p[0] != '[')
				continue;
			/* four numbers and nothing else */
			struct slice b = buf_slice(&box), e;
			size_t i = 1, count = 0;
			bool ok = true;
			for (;;) {
				attach__pdf_skip_ws(b, &i);
				if (i < b.len && b.p[i] == ']')
					break;
				if (attach__pdf_value(b, &i, &e) < 0 || !e.len) {
					ok = false;
					break;
				}
				for (size_t c = 0; c < e.len; c++)
					ok = ok && strchr("0123456789.-+", e.p[c]);
				count++;
			}
			if (ok && count == 4 && buf_put_slice(out, b) == 0)
				return;
			buf_reset(out);
		}
		if (attach__pdf_dict_get(buf_slice(&node), "Parent", &v) < 0 || attach__pdf_resolve(p, v, &box) < 0)
			break;
		buf_reset(&node);
		if (buf_put_slice(&node, buf_slice(&box)) < 0)
			break;
	}
dflt:
	buf_reset(out);
	BUG_ON(buf_puts(out, "[0 0 612 792]") < 0);
}

struct pdf_new {
	uint32_t num;
	uint16_t gen;
	size_t off;
};

static int cmp_new(const void *a, const void *b)
{
	const struct pdf_new *x = a, *y = b;
	return x->num < y->num ? -1 : x->num > y->num;
}

static int inject_pdf(struct slice file, const char *beacon, const char *link, struct buf *out)
{
	_cleanup_buf_ struct buf page = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf catalog = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf val = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf box = BUF_INIT(4096);
	_cleanup_buf_ struct buf action = BUF_INIT(8192);
	struct pdf p;
	struct pdf_ref page_ref;
	const char *msg;
	struct slice v;
	int r;

	r = attach__pdf_open(file, &p, &msg);
	if (r >= 0)
		r = attach__pdf_first_page(&p, &page_ref, &page, &msg);
	if (r >= 0)
		r = attach__pdf_object(&p, p.root, &catalog);
	if (r < 0 || !catalog.len || catalog.p[0] != '<') {
		attach__pdf_release(&p);
		return -EINVAL;
	}

	struct pdf_new objs[4];
	size_t nobjs = 0;
	uint32_t next = p.size;
	uint32_t annot = link ? next++ : 0;
	r = put_pdf_string(&action, beacon);
	if (r < 0)
		goto out;
	r = -E2BIG;
	if (buf_append(out, file.p, file.len) < 0)
		goto out;
	if (file.p[file.len - 1] != '\n' && file.p[file.len - 1] != '\r' && buf_putc(out, '\n') < 0)
		goto out;

	/* the link annotation: the whole visible page, no border */
	if (link) {
		page_box(&p, buf_slice(&page), &box);
		objs[nobjs++] = (struct pdf_new){ annot, 0, out->len };
		if (buf_printf(out, "%u 0 obj\n<< /Type /Annot /Subtype /Link /Rect %s /Border [0 0 0] /A << /S /URI /URI ",
			       annot, box.p) < 0 ||
		    put_pdf_string(out, link) < 0 || buf_puts(out, " >> >>\nendobj\n") < 0)
			goto out;
	}

	/* the first page again: its annotations plus ours, /AA /O */
	static const char *const page_skip[] = { "Annots", "AA" };
	objs[nobjs++] = (struct pdf_new){ page_ref.num, page_ref.gen, out->len };
	if (buf_printf(out, "%u %u obj\n<<\n", page_ref.num, (unsigned)page_ref.gen) < 0)
		goto out;
	r = copy_dict_entries(buf_slice(&page), page_skip, ARRAY_SIZE(page_skip), out);
	if (r < 0)
		goto out;
	r = -E2BIG;
	if (buf_puts(out, "/Annots [") < 0)
		goto out;
	if (attach__pdf_dict_get(buf_slice(&page), "Annots", &v) == 0 && attach__pdf_resolve(&p, v, &val) == 0 &&
	    val.len >= 2 && val.p[0] == '[' && val.p[val.len - 1] == ']' &&
	    (buf_append(out, val.p + 1, val.len - 2) < 0 || buf_putc(out, ' ') < 0))
		goto out;
	if (link && buf_printf(out, "%u 0 R", annot) < 0)
		goto out;
	if (buf_puts(out, "]\n/AA <<\n") < 0)
		goto out;
	static const char *const aa_skip[] = { "O" };
	if (attach__pdf_dict_get(buf_slice(&page), "AA", &v) == 0 && attach__pdf_resolve(&p, v, &val) == 0 &&
	    val.len && val.p[0] == '<')
		(void)copy_dict_entries(buf_slice(&val), aa_skip, ARRAY_SIZE(aa_skip), out);
	if (buf_printf(out, "/O << /S /URI /URI %s >> >>\n>>\nendobj\n", action.p) < 0)
		goto out;

	/* the catalog again, opening with our action, then whatever it did before */
	static const char *const cat_skip[] = { "OpenAction" };
	objs[nobjs++] = (struct pdf_new){ p.root.num, p.root.gen, out->len };
	if (buf_printf(out, "%u %u obj\n<<\n", p.root.num, (unsigned)p.root.gen) < 0)
		goto out;
	r = copy_dict_entries(buf_slice(&catalog), cat_skip, ARRAY_SIZE(cat_skip), out);
	if (r < 0)
		goto out;
	r = -E2BIG;
	if (buf_printf(out, "/OpenAction << /S /URI /URI %s", action.p) < 0)
		goto out;
	if (attach__pdf_dict_get(buf_slice(&catalog), "OpenAction", &v) == 0 && attach__pdf_resolve(&p, v, &val) == 0 &&
	    val.len) {
		/* an action dictionary chains as /Next; a destination array is
		 * where the document opened: keep it as a GoTo */
		if (val.p[0] == '<' && (buf_puts(out, " /Next ") < 0 || buf_put_slice(out, v) < 0))
			goto out;
		if (val.p[0] == '[' &&
		    (buf_puts(out, " /Next << /S /GoTo /D ") < 0 || buf_put_slice(out, v) < 0 || buf_puts(out, " >>") < 0))
			goto out;
	}
	if (buf_puts(out, " >>\n>>\nendobj\n") < 0)
		goto out;

	/* the cross-reference section for these objects */
	uint32_t xref_num = p.xref_stream ? next++ : 0;
	size_t xref_off = out->len;
	if (p.xref_stream)
		objs[nobjs++] = (struct pdf_new){ xref_num, 0, xref_off };
	qsort(objs, nobjs, sizeof(objs[0]), cmp_new);
	if (!p.xref_stream) {
		if (buf_puts(out, "xref\n") < 0)
			goto out;
		for (size_t k = 0; k < nobjs; k++)
			if (buf_printf(out, "%u 1\n%010zu %05u n \n", objs[k].num, objs[k].off, (unsigned)objs[k].gen) < 0)
				goto out;
		if (buf_printf(out, "trailer\n<< /Size %u /Root %u %u R /Prev %llu", next, p.root.num,
			       (unsigned)p.root.gen, (unsigned long long)p.startxref) < 0)
			goto out;
	} else {
		/* /W [1 4 2]: type, offset, generation — uncompressed */
		if (buf_printf(out, "%u 0 obj\n<< /Type /XRef /Size %u /Root %u %u R /Prev %llu /W [1 4 2] /Index [",
			       xref_num, next, p.root.num, (unsigned)p.root.gen, (unsigned long long)p.startxref) < 0)
			goto out;
		for (size_t k = 0; k < nobjs; k++)
			if (buf_printf(out, "%s%u 1", k ? " " : "", objs[k].num) < 0)
				goto out;
		if (buf_printf(out, "] /Length %zu", nobjs * 7) < 0)
			goto out;
	}
	if (p.id.len && (buf_puts(out, " /ID ") < 0 || buf_put_slice(out, buf_slice(&p.id)) < 0))
		goto out;
	if (!p.xref_stream) {
		if (buf_printf(out, " >>\nstartxref\n%zu\n%%%%EOF\n", xref_off) < 0)
			goto out;
	} else {
		if (buf_puts(out, " >>\nstream\n") < 0)
			goto out;
		for (size_t k = 0; k < nobjs; k++) {
			unsigned char row[7] = { 1, (unsigned char)(objs[k].off >> 24), (unsigned char)(objs[k].off >> 16),
						 (unsigned char)(objs[k].off >> 8), (unsigned char)objs[k].off,
						 (unsigned char)(objs[k].gen >> 8), (unsigned char)objs[k].gen };
			if (buf_append(out, row, sizeof(row)) < 0)
				goto out;
		}
		if (buf_printf(out, "\nendstream\nendobj\nstartxref\n%zu\n%%%%EOF\n", xref_off) < 0)
			goto out;
	}
	r = 0;
out:
	attach__pdf_release(&p);
	return r;
}

/* ---- the contract --------------------------------------------------------- */

int attach_inject(enum attach_kind kind, struct slice file, const char *beacon_url, const char *link_url,
		  struct buf *out)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT(out->max);
	const char *msg;
	int r;

	if (!url_ok(beacon_url) || (link_url && !url_ok(link_url)))
		return -EINVAL;
	if (!file.len || file.len > ATTACH_UPLOAD_MAX)
		return -EINVAL;

	/* built aside so that out is unchanged on failure */
	if (kind == ATTACH_PDF) {
		r = inject_pdf(file, beacon_url, link_url, &tmp);
	} else {
		struct ooxml_info info;
		zip_t *z;
		if (attach__zip_open(file, false, &z, &msg) < 0)
			return -EINVAL;
		r = attach__ooxml_check(z, &info, &msg);
		if (r >= 0 && info.kind != kind)
			r = -EINVAL;
		if (r >= 0)
			r = kind == ATTACH_DOCX ? inject_docx(z, beacon_url, &tmp) : inject_xlsx(z, &info, beacon_url, &tmp);
		zip_discard(z);
	}
	if (r < 0)
		return r;
	return buf_put_slice(out, buf_slice(&tmp)) < 0 ? -E2BIG : 0;
}
