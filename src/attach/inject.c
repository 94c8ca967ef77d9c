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
 * 7.5.6): new versions of the first page (a visible banner drawn by a
 * content stream of ours, a link annotation over just that banner, /AA /O)
 * and of the catalog (/OpenAction), then a cross-reference section of the
 * same kind as the file's newest one (table or stream) with /Prev pointing
 * at it.  Offsets are recorded as the objects are written.
 */
#include <uchar.h>

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
	struct slice k, v;
	int r;

	while ((r = attach__pdf_dict_next(dict, &i, &k, &v)) > 0) {
		bool skipped = false;
		for (size_t n = 0; n < nskip && !skipped; n++)
			skipped = k.len - 1 == strlen(skip[n]) && !memcmp(k.p + 1, skip[n], k.len - 1);
		if (skipped)
			continue;
		if (buf_put_slice(out, k) < 0 || buf_putc(out, ' ') < 0 || buf_put_slice(out, v) < 0 ||
		    buf_putc(out, '\n') < 0)
			return -E2BIG;
	}
	return r;
}

/* The value of an inheritable page attribute (ISO 32000-1 7.7.3.4: Resources,
 * MediaBox, CropBox, Rotate): the page's own, else the nearest ancestor's
 * through /Parent, resolved into out.  -ENOENT when none has it. */
static int page_attr(struct pdf *p, struct slice page, const char *key, struct buf *out)
{
	_cleanup_buf_ struct buf node = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf parent = BUF_INIT(ATTACH_PART_MAX);
	struct slice v;

	if (buf_put_slice(&node, page) < 0)
		return -E2BIG;
	for (int depth = 0; depth < 32; depth++) {
		if (attach__pdf_dict_get(buf_slice(&node), key, &v) == 0)
			return attach__pdf_resolve(p, v, out) < 0 ? -EINVAL : 0;
		if (attach__pdf_dict_get(buf_slice(&node), "Parent", &v) < 0 || attach__pdf_resolve(p, v, &parent) < 0)
			return -ENOENT;
		buf_reset(&node);
		if (buf_put_slice(&node, buf_slice(&parent)) < 0)
			return -E2BIG;
	}
	return -ENOENT;
}

/* Geometry is kept in centipoints (1/100 pt) as pdf.c does: no floating
 * point, no locale.  Beyond this a number is nonsense (PDF's own limit on
 * a page side is 14,400 units). */
#define CPT_MAX ((int64_t)1000000000)

/* A PDF number as centipoints (further digits cut); false for anything else. */
static bool parse_cpt(struct slice s, int64_t *ret)
{
	size_t i = 0;
	bool neg = false, digits = false;
	int64_t v = 0;

	if (i < s.len && (s.p[i] == '-' || s.p[i] == '+'))
		neg = s.p[i++] == '-';
	for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, digits = true)
		if ((v = v * 10 + (s.p[i] - '0')) > CPT_MAX / 100)
			return false;
	v *= 100;
	if (i < s.len && s.p[i] == '.')
		for (int64_t scale = 10; ++i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; scale /= 10, digits = true)
			v += (s.p[i] - '0') * scale;
	if (!digits || i != s.len)
		return false;
	*ret = neg ? -v : v;
	return true;
}

static int put_cpt(struct buf *b, int64_t v)
{
	int64_t a = v < 0 ? -v : v;
	return buf_printf(b, "%s%lld.%02lld", v < 0 ? "-" : "", (long long)(a / 100), (long long)(a % 100));
}

/* A rectangle "[a b c d]" as x0 < x1, y0 < y1 (ISO 32000-1 7.9.5: any two
 * opposite corners). */
static bool parse_rect(struct slice b, int64_t ret[4])
{
	size_t i = 1, count = 0;
	struct slice e;

	if (b.len < 2 || b.p[0] != '[')
		return false;
	for (;;) {
		attach__pdf_skip_ws(b, &i);
		if (i < b.len && b.p[i] == ']')
			break;
		if (count == 4 || attach__pdf_value(b, &i, &e) < 0 || !parse_cpt(e, &ret[count]))
			return false;
		count++;
	}
	if (count != 4)
		return false;
	for (int k = 0; k < 2; k++)
		if (ret[k] > ret[k + 2]) {
			int64_t t = ret[k];
			ret[k] = ret[k + 2];
			ret[k + 2] = t;
		}
	return ret[2] > ret[0] && ret[3] > ret[1];
}

/* Where page 1 shows and which way up: the visible area (the CropBox cut
 * to the MediaBox; US Letter if there is neither) and /Rotate, and the
 * banner laid out in display space — the page as the reader sees it, origin
 * bottom left — with to_user() mapping that into the page's own space. */
struct page_geo {
	int64_t x0, y0, x1, y1;  /* visible area, user space */
	int rot;                 /* clockwise: 0, 90, 180, 270 */
	int64_t w, h;            /* the visible area as displayed */
	int64_t size, height;    /* banner: text size, box height */
	int64_t text_x, text_y, text_w;
};

static void to_user(const struct page_geo *g, int64_t x, int64_t y, int64_t *ux, int64_t *uy)
{
	/* /Rotate 90 turns the page clockwise: its left edge is shown on top
	 * and text that reads left to right on screen runs up the page. */
	switch (g->rot) {
	case 90:
		*ux = g->x1 - y, *uy = g->y0 + x;
		break;
	case 180:
		*ux = g->x1 - x, *uy = g->y1 - y;
		break;
	case 270:
		*ux = g->x0 + y, *uy = g->y1 - x;
		break;
	default:
		*ux = g->x0 + x, *uy = g->y0 + y;
	}
}

/* The banner's one line in both languages: an uploaded file says nothing
 * about its readers' language, and either reader must see what to click.
 * UTF-16 units are the character codes under UniJIS-UCS2-H. */
static const char16_t banner_text[] =
	u"内容を表示するにはこちらをクリックしてください / Click here to view the content";
#define BANNER_LEN (ARRAY_SIZE(banner_text) - 1)
#define BANNER_SIZE 1100     /* 11 pt */
#define BANNER_PAD 1200      /* at least this much left and right of the text */

static void page_geometry(struct pdf *p, struct slice page, struct page_geo *g)
{
	_cleanup_buf_ struct buf v = BUF_INIT(4096);
	int64_t media[4] = { 0, 0, 61200, 79200 }, crop[4];

	if (page_attr(p, page, "MediaBox", &v) < 0 || !parse_rect(buf_slice(&v), media)) {
		media[0] = media[1] = 0;
		media[2] = 61200, media[3] = 79200;
	}
	g->x0 = media[0], g->y0 = media[1], g->x1 = media[2], g->y1 = media[3];
	if (page_attr(p, page, "CropBox", &v) == 0 && parse_rect(buf_slice(&v), crop) && crop[0] < g->x1 &&
	    crop[2] > g->x0 && crop[1] < g->y1 && crop[3] > g->y0) {
		g->x0 = crop[0] > g->x0 ? crop[0] : g->x0;
		g->y0 = crop[1] > g->y0 ? crop[1] : g->y0;
		g->x1 = crop[2] < g->x1 ? crop[2] : g->x1;
		g->y1 = crop[3] < g->y1 ? crop[3] : g->y1;
	}
	g->rot = 0;
	if (page_attr(p, page, "Rotate", &v) == 0) {
		char *end;
		long rot = strtol(v.p, &end, 10);
		if (end != v.p && !*end && rot % 90 == 0)
			g->rot = (int)(((rot % 360) + 360) % 360);
	}
	bool turned = g->rot == 90 || g->rot == 270;
	g->w = turned ? g->y1 - g->y0 : g->x1 - g->x0;
	g->h = turned ? g->x1 - g->x0 : g->y1 - g->y0;

	/* 11 pt when the line fits, smaller on a narrow page; the box at most
	 * a quarter of the page's height */
	int64_t em = 0, pad = BANNER_PAD;
	for (size_t i = 0; i < BANNER_LEN; i++)
		em += banner_text[i] < 0x80 ? 500 : 1000;
	if (g->w - 2 * pad < g->w / 2)
		pad = g->w / 20;
	g->size = (g->w - 2 * pad) * 1000 / em;
	if (g->size > BANNER_SIZE)
		g->size = BANNER_SIZE;
	g->height = g->size * 24 / 11;
	if (g->height > g->h / 4) {
		g->height = g->h / 4;
		g->size = g->height * 11 / 24;
	}
	if (g->size < 1)
		g->size = 1;
	g->text_w = em * g->size / 1000;
	g->text_x = (g->w - g->text_w) / 2;
	/* the em box of a CJK face spans -0.12 to 0.88 em around the
	 * baseline: its middle on the box's middle */
	g->text_y = g->h - g->height / 2 - g->size * 38 / 100;
}

/* The banner's content stream.  It starts with the Q that closes the "q"
 * stream put before the page's own content, so whatever state that content
 * leaves (a transformation, a clip, colours, text state) cannot reach ours. */
static int banner_stream(const struct page_geo *g, const char *font, struct buf *b)
{
	static const char hex[] = "0123456789ABCDEF";
	int64_t ox, oy, ax, ay, cx, cy;
	to_user(g, 0, 0, &ox, &oy);
	to_user(g, 100, 0, &ax, &ay);
	to_user(g, 0, 100, &cx, &cy);
	const int64_t bottom = g->h - g->height, under = g->text_y - g->size / 10;

	int r = buf_printf(b, "\nQ\nq\n%d %d %d %d ", (int)((ax - ox) / 100), (int)((ay - oy) / 100),
			   (int)((cx - ox) / 100), (int)((cy - oy) / 100));
	r = r < 0 ? r : put_cpt(b, ox);
	r = r < 0 ? r : buf_putc(b, ' ');
	r = r < 0 ? r : put_cpt(b, oy);
	/* a light blue box across the top, a darker line under it */
	r = r < 0 ? r : buf_puts(b, " cm\n0.925 0.95 1 rg 0 ");
	r = r < 0 ? r : put_cpt(b, bottom);
	r = r < 0 ? r : buf_putc(b, ' ');
	r = r < 0 ? r : put_cpt(b, g->w);
	r = r < 0 ? r : buf_putc(b, ' ');
	r = r < 0 ? r : put_cpt(b, g->height);
	r = r < 0 ? r : buf_puts(b, " re f\n0 0 0.8 RG 0.75 w 0 ");
	r = r < 0 ? r : put_cpt(b, bottom);
	r = r < 0 ? r : buf_puts(b, " m ");
	r = r < 0 ? r : put_cpt(b, g->w);
	r = r < 0 ? r : buf_putc(b, ' ');
	r = r < 0 ? r : put_cpt(b, bottom);
	/* the line, blue and underlined like a link */
	r = r < 0 ? r : buf_printf(b, " l S\nBT /%s ", font);
	r = r < 0 ? r : put_cpt(b, g->size);
	r = r < 0 ? r : buf_puts(b, " Tf 0 0 0.8 rg ");
	r = r < 0 ? r : put_cpt(b, g->text_x);
	r = r < 0 ? r : buf_putc(b, ' ');
	r = r < 0 ? r : put_cpt(b, g->text_y);
	r = r < 0 ? r : buf_puts(b, " Td <");
	for (size_t i = 0; r >= 0 && i < BANNER_LEN; i++) {
		uint16_t u = banner_text[i];
		char h[4] = { hex[u >> 12], hex[(u >> 8) & 15], hex[(u >> 4) & 15], hex[u & 15] };
		r = buf_append(b, h, 4);
	}
	r = r < 0 ? r : buf_puts(b, "> Tj ET\n0.6 w ");
	r = r < 0 ? r : put_cpt(b, g->text_x);
	r = r < 0 ? r : buf_putc(b, ' ');
	r = r < 0 ? r : put_cpt(b, under);
	r = r < 0 ? r : buf_puts(b, " m ");
	r = r < 0 ? r : put_cpt(b, g->text_x + g->text_w);
	r = r < 0 ? r : buf_putc(b, ' ');
	r = r < 0 ? r : put_cpt(b, under);
	r = r < 0 ? r : buf_puts(b, " l S\nQ\n");
	return r < 0 ? -E2BIG : 0;
}

/* The banner's box in the page's own space: the link's /Rect. */
static int put_banner_rect(const struct page_geo *g, struct buf *b)
{
	int64_t ax, ay, bx, by;
	to_user(g, 0, g->h - g->height, &ax, &ay);
	to_user(g, g->w, g->h, &bx, &by);
	int64_t c[4] = { ax < bx ? ax : bx, ay < by ? ay : by, ax < bx ? bx : ax, ay < by ? by : ay };
	int r = buf_putc(b, '[');
	for (int k = 0; r >= 0 && k < 4; k++) {
		r = k ? buf_putc(b, ' ') : 0;
		r = r < 0 ? r : put_cpt(b, c[k]);
	}
	return r < 0 ? r : buf_putc(b, ']');
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

/* A stream object. */
static int put_stream(struct buf *out, uint32_t num, struct slice data)
{
	int r = buf_printf(out, "%u 0 obj\n<< /Length %zu >>\nstream\n", num, data.len);
	r = r < 0 ? r : buf_put_slice(out, data);
	r = r < 0 ? r : buf_puts(out, "\nendstream\nendobj\n");
	return r;
}

/* The font the banner uses, as pdf.c writes it: HeiseiKakuGo-W5 with
 * UniJIS-UCS2-H, not embedded (every viewer with Japanese fonts has a
 * substitute), ASCII half width, and a /ToUnicode CMap so that search,
 * copy and pdftotext get the text. */
static int put_font(struct buf *out, uint32_t font, struct pdf_new *objs, size_t *nobjs)
{
	const uint32_t cid = font + 1, desc = font + 2, tounicode = font + 3;
	_cleanup_buf_ struct buf cmap = BUF_INIT(0);
	bool used[256] = { false };

	for (size_t i = 0; i < BANNER_LEN; i++)
		used[banner_text[i] >> 8] = true;
	int r = attach__pdf_tounicode(used, &cmap);
	if (r < 0)
		return r;
	objs[(*nobjs)++] = (struct pdf_new){ font, 0, out->len };
	r = buf_printf(out, "%u 0 obj\n" ATTACH_PDF_FONT_TYPE0 "\nendobj\n", font, cid, tounicode);
	objs[(*nobjs)++] = (struct pdf_new){ cid, 0, out->len };
	r = r < 0 ? r : buf_printf(out, "%u 0 obj\n" ATTACH_PDF_FONT_CID "\nendobj\n", cid, desc);
	objs[(*nobjs)++] = (struct pdf_new){ desc, 0, out->len };
	r = r < 0 ? r : buf_printf(out, "%u 0 obj\n" ATTACH_PDF_FONT_DESCRIPTOR "\nendobj\n", desc);
	objs[(*nobjs)++] = (struct pdf_new){ tounicode, 0, out->len };
	return r < 0 ? r : put_stream(out, tounicode, buf_slice(&cmap));
}

/* Page 1's resources with our font added under a name they do not use
 * (into ret_name).  They may be the page's own or inherited, inline or an
 * indirect object shared with other pages: the merged copy is written
 * inline in the new page, so no other page changes. */
static int put_resources(struct pdf *p, struct slice page, uint32_t font, struct buf *ret_name, struct buf *out)
{
	_cleanup_buf_ struct buf res = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf fonts = BUF_INIT(ATTACH_PART_MAX);
	static const char *const skip[] = { "Font" };
	struct slice v;
	int r;

	r = page_attr(p, page, "Resources", &res);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r < 0 || res.len < 2 || memcmp(res.p, "<<", 2)) {
		buf_reset(&res);
		BUG_ON(buf_puts(&res, "<< >>") < 0);
	}
	if (attach__pdf_dict_get(buf_slice(&res), "Font", &v) < 0 || attach__pdf_resolve(p, v, &fonts) < 0 ||
	    fonts.len < 2 || memcmp(fonts.p, "<<", 2)) {
		buf_reset(&fonts);
		BUG_ON(buf_puts(&fonts, "<< >>") < 0);
	}
	for (unsigned n = 0;; n++) {
		buf_reset(ret_name);
		BUG_ON((n ? buf_printf(ret_name, "KunrenF%u", n) : buf_puts(ret_name, "KunrenF")) < 0);
		if (attach__pdf_dict_get(buf_slice(&fonts), ret_name->p, &v) == -ENOENT)
			break;
	}
	if (buf_puts(out, "/Resources <<\n") < 0)
		return -E2BIG;
	if ((r = copy_dict_entries(buf_slice(&res), skip, ARRAY_SIZE(skip), out)) < 0)
		return r;
	if (buf_puts(out, "/Font <<\n") < 0)
		return -E2BIG;
	if ((r = copy_dict_entries(buf_slice(&fonts), NULL, 0, out)) < 0)
		return r;
	return buf_printf(out, "/%s %u 0 R\n>>\n>>\n", ret_name->p, font) < 0 ? -E2BIG : 0;
}

/* Page 1's content between our two streams: "q" before, the banner after.
 * /Contents is a stream or an array of streams, either maybe indirect. */
static int put_contents(struct pdf *p, struct slice page, uint32_t pre, uint32_t banner, struct buf *out)
{
	_cleanup_buf_ struct buf val = BUF_INIT(ATTACH_PART_MAX);
	struct pdf_ref ref;
	struct slice v;

	if (buf_printf(out, "/Contents [%u 0 R ", pre) < 0)
		return -E2BIG;
	if (attach__pdf_dict_get(page, "Contents", &v) == 0) {
		if (attach__pdf_resolve(p, v, &val) < 0)
			return -EINVAL;
		if (val.len >= 2 && val.p[0] == '[' && val.p[val.len - 1] == ']') {
			if (buf_append(out, val.p + 1, val.len - 2) < 0 || buf_putc(out, ' ') < 0)
				return -E2BIG;
		} else if (attach__pdf_as_ref(v, &ref)) {
			if (buf_put_slice(out, v) < 0 || buf_putc(out, ' ') < 0)
				return -E2BIG;
		}
		/* anything else (null) draws nothing: dropped */
	}
	return buf_printf(out, "%u 0 R]\n", banner) < 0 ? -E2BIG : 0;
}

static int inject_pdf(struct slice file, const char *beacon, const char *link, struct buf *out)
{
	_cleanup_buf_ struct buf page = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf catalog = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf val = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf res = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf contents = BUF_INIT(ATTACH_PART_MAX);
	_cleanup_buf_ struct buf font_name = BUF_INIT(64);
	_cleanup_buf_ struct buf stream = BUF_INIT(16384);
	_cleanup_buf_ struct buf rect = BUF_INIT(256);
	_cleanup_buf_ struct buf action = BUF_INIT(8192);
	struct pdf p;
	struct pdf_ref page_ref;
	struct page_geo geo;
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

	struct pdf_new objs[12];
	size_t nobjs = 0;
	uint32_t next = p.size;
	uint32_t annot = 0, pre = 0, banner = 0, font = 0;
	if (link) {
		/* the banner: a link annotation over it, the "q" and banner
		 * streams, the font (four objects) */
		annot = next++, pre = next++, banner = next++, font = next;
		next += 4;
		page_geometry(&p, buf_slice(&page), &geo);
		r = put_resources(&p, buf_slice(&page), font, &font_name, &res);
		r = r < 0 ? r : put_contents(&p, buf_slice(&page), pre, banner, &contents);
		r = r < 0 ? r : banner_stream(&geo, font_name.p, &stream);
		r = r < 0 ? r : put_banner_rect(&geo, &rect);
		if (r < 0) {
			r = r == -E2BIG ? r : -EINVAL;
			goto out;
		}
	}
	r = put_pdf_string(&action, beacon);
	if (r < 0)
		goto out;
	r = -E2BIG;
	if (buf_append(out, file.p, file.len) < 0)
		goto out;
	if (file.p[file.len - 1] != '\n' && file.p[file.len - 1] != '\r' && buf_putc(out, '\n') < 0)
		goto out;

	if (link) {
		/* the link annotation: over the banner only, no border */
		objs[nobjs++] = (struct pdf_new){ annot, 0, out->len };
		if (buf_printf(out, "%u 0 obj\n<< /Type /Annot /Subtype /Link /Rect %s /Border [0 0 0] /P %u %u R "
				    "/A << /S /URI /URI ",
			       annot, rect.p, page_ref.num, (unsigned)page_ref.gen) < 0 ||
		    put_pdf_string(out, link) < 0 || buf_puts(out, " >> >>\nendobj\n") < 0)
			goto out;
		objs[nobjs++] = (struct pdf_new){ pre, 0, out->len };
		if (put_stream(out, pre, SLICE_LIT("q")) < 0)
			goto out;
		objs[nobjs++] = (struct pdf_new){ banner, 0, out->len };
		if (put_stream(out, banner, buf_slice(&stream)) < 0)
			goto out;
		if (put_font(out, font, objs, &nobjs) < 0)
			goto out;
	}

	/* the first page again: our annotation (and banner) added, /AA /O */
	static const char *const page_skip[] = { "Annots", "AA", "Contents", "Resources" };
	objs[nobjs++] = (struct pdf_new){ page_ref.num, page_ref.gen, out->len };
	if (buf_printf(out, "%u %u obj\n<<\n", page_ref.num, (unsigned)page_ref.gen) < 0)
		goto out;
	r = copy_dict_entries(buf_slice(&page), page_skip, link ? 4 : 2, out);
	if (r < 0)
		goto out;
	r = -E2BIG;
	if (link && (buf_put_slice(out, buf_slice(&res)) < 0 || buf_put_slice(out, buf_slice(&contents)) < 0))
		goto out;
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
