/*
 * build.c — the generated training files (SPEC D5): names and MIME types,
 * the checks every attach_build() call makes, and the two OOXML packages,
 * docx (WordprocessingML) and xlsx (SpreadsheetML).  The PDF writer is
 * pdf.c, the zip container zip.c.
 *
 * Each package is the smallest set of parts Word, Excel and LibreOffice
 * open without a repair prompt, written as text into bufs and zipped in
 * memory.  Every piece of trainer text goes through put_xml(): invalid
 * UTF-8 becomes U+FFFD and the characters XML 1.0 cannot carry at all
 * (C0 controls but tab and newline, U+FFFE/U+FFFF) are dropped — an XML
 * parser would otherwise refuse the whole document.
 *
 * The beacon is a picture whose bytes are not in the file: the image
 * relationship has TargetMode="External" and names the target's beacon URL,
 * so the office program fetches it to draw the page (docs/internals/ATTACH.md
 * records which programs do, and when).  It is 1 × 1 px (9525 EMU) so nobody
 * sees it.  Nothing else in the package depends on the target or on the
 * time: the core properties carry a fixed date and the zip entries a fixed
 * DOS time, so every copy of a campaign's file has the same size but for the
 * URL.
 */
#include "attach/attach.h"

/* Limits of one generated file: far above what a scenario declares
 * (30 paragraphs, 50 × 10 cells), low enough that a bad caller cannot make
 * us build hundreds of megabytes. */
#define BUILD_PARAS_MAX 1000
#define BUILD_ROWS_MAX 5000
#define BUILD_COLS_MAX 50
#define BUILD_TEXT_MAX ((size_t)4 << 20)   /* all strings together */
#define URL_MAX 2048

#define BEACON_EMU 9525                     /* 1 px at 96 dpi in EMU */
#define FIXED_DATE "2026-01-01T00:00:00Z"  /* core properties: see above */

/* ---- names ---------------------------------------------------------------- */

static const char *const kind_names[] = { [ATTACH_DOCX] = "docx", [ATTACH_XLSX] = "xlsx", [ATTACH_PDF] = "pdf" };
static const char *const kind_mimes[] = {
	[ATTACH_DOCX] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	[ATTACH_XLSX] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	[ATTACH_PDF] = "application/pdf",
};
static const char *const archive_names[] = {
	[ATTACH_ARCHIVE_NONE] = "none",
	[ATTACH_ARCHIVE_ZIP] = "zip",
	[ATTACH_ARCHIVE_PASSWORD] = "password",
	[ATTACH_ARCHIVE_AES] = "aes",
};

/* The index of s in names, or -1. */
static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

const char *attach_kind_name(enum attach_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : NULL;
}

int attach_kind_parse(const char *s, enum attach_kind *ret)
{
	int i = name_index(kind_names, ARRAY_SIZE(kind_names), s);
	if (i < 0)
		return -EINVAL;
	*ret = (enum attach_kind)i;
	return 0;
}

const char *attach_archive_name(enum attach_archive a)
{
	return (unsigned)a < ARRAY_SIZE(archive_names) ? archive_names[a] : NULL;
}

int attach_archive_parse(const char *s, enum attach_archive *ret)
{
	int i = name_index(archive_names, ARRAY_SIZE(archive_names), s);
	if (i < 0)
		return -EINVAL;
	*ret = (enum attach_archive)i;
	return 0;
}

const char *attach_kind_mime(enum attach_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_mimes) ? kind_mimes[k] : NULL;
}

/* ---- checks ------------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s (len > 0 bytes); returns its length and
 * the code point in *c, or 0 when the bytes are not valid UTF-8 (overlong
 * forms, surrogates and values past U+10FFFF included). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *c)
{
	uint32_t v = s[0], min;
	size_t k;

	if (v < 0x80) {
		*c = v;
		return 1;
	}
	if (v >= 0xc2 && v <= 0xdf)
		k = 1, v &= 0x1f, min = 0x80;
	else if (v >= 0xe0 && v <= 0xef)
		k = 2, v &= 0x0f, min = 0x800;
	else if (v >= 0xf0 && v <= 0xf4)
		k = 3, v &= 0x07, min = 0x10000;
	else
		return 0;
	if (k >= len)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[j] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*c = v;
	return k + 1;
}

bool attach__utf8_valid(const char *s, size_t len)
{
	uint32_t c;
	for (size_t i = 0, n; i < len; i += n)
		if (!(n = utf8_next((const unsigned char *)s + i, len - i, &c)))
			return false;
	return true;
}

bool attach__url_ok(const char *url)
{
	static const char allowed[] = "-._~:/?#[]@!$&'()*+,;=%";
	const char *host;

	if (!url)
		return false;
	if (!strncmp(url, "https://", 8))
		host = url + 8;
	else if (!strncmp(url, "http://", 7))
		host = url + 7;
	else
		return false;
	if (!*host || *host == '/' || strlen(url) > URL_MAX)
		return false;
	for (const char *p = url; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr(allowed, *p)))
			return false;
	return true;
}

/* Checks a document against the limits and contract of attach_build();
 * -EINVAL for what is malformed, -E2BIG for what is too large. */
static int doc_check(const struct attach_doc *d)
{
	size_t text = 0;

	if (!d || (d->nbody && !d->body) || ((d->rows || d->cols) && !d->cells) || (!d->rows != !d->cols))
		return -EINVAL;
	if (d->beacon_url && !attach__url_ok(d->beacon_url))
		return -EINVAL;
	if (d->link_url && !attach__url_ok(d->link_url))
		return -EINVAL;
	if (d->lang && strcmp(d->lang, "ja") && strcmp(d->lang, "en"))
		return -EINVAL;
	if (d->nbody > BUILD_PARAS_MAX || d->rows > BUILD_ROWS_MAX || d->cols > BUILD_COLS_MAX)
		return -E2BIG;
	text += d->title ? strlen(d->title) : 0;
	text += d->link_text ? strlen(d->link_text) : 0;
	for (size_t i = 0; i < d->nbody && text <= BUILD_TEXT_MAX; i++)
		text += d->body[i] ? strlen(d->body[i]) : 0;
	for (size_t i = 0; i < d->rows * d->cols && text <= BUILD_TEXT_MAX; i++)
		text += d->cells[i] ? strlen(d->cells[i]) : 0;
	return text > BUILD_TEXT_MAX ? -E2BIG : 0;
}

static bool is_ja(const struct attach_doc *d)
{
	return !d->lang || !strcmp(d->lang, "ja");
}

/* ---- XML ------------------------------------------------------------------ */

/* Appends s as XML character data (or an attribute value in "…"). */
static int put_xml(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), i = 0, start = 0;
	int r = 0;

	while (r >= 0 && i < len) {
		uint32_t c;
		size_t n = utf8_next(p + i, len - i, &c);
		const char *rep = NULL;
		bool drop = false;
		if (!n)
			rep = "\xef\xbf\xbd", n = 1;          /* U+FFFD for a byte that is not UTF-8 */
		else if (c == '&')
			rep = "&amp;";
		else if (c == '<')
			rep = "&lt;";
		else if (c == '>')
			rep = "&gt;";
		else if (c == '"')
			rep = "&quot;";
		else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0xfffe || c == 0xffff)
			drop = true;                           /* not allowed in XML 1.0, escaped or not */
		if (rep || drop) {
			r = buf_append(b, p + start, i - start);
			if (r >= 0 && rep)
				r = buf_puts(b, rep);
			start = i + n;
		}
		i += n;
	}
	return r < 0 ? r : buf_append(b, p + start, len - start);
}

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define NS_R "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define NS_PKG_R "http://schemas.openxmlformats.org/package/2006/relationships"
#define REL_TYPE NS_R "/"
#define NS_A "http://schemas.openxmlformats.org/drawingml/2006/main"

/* Collects the first error of a series of appends. */
struct xw {
	struct buf b;
	int r;
};

static void xw_puts(struct xw *w, const char *s)
{
	if (w->r >= 0)
		w->r = buf_puts(&w->b, s);
}

static void xw_printf(struct xw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xw_printf(struct xw *w, const char *fmt, ...)
{
	va_list ap;
	if (w->r < 0)
		return;
	va_start(ap, fmt);
	w->r = buf_vprintf(&w->b, fmt, ap);
	va_end(ap);
}

static void xw_text(struct xw *w, const char *s)
{
	if (w->r >= 0)
		w->r = put_xml(&w->b, s);
}

/* Parts smaller than this are stored, not deflated: deflating one costs a
 * fresh zlib state (~270 KiB, zeroed) whatever its size, which made a docx
 * of seven parts cost more in page faults than in compression, for a few
 * hundred bytes saved (bench/README.md). */
#define XW_STORE_BELOW 1024

/* Adds the part written in w to the package and empties w. */
static void xw_add(struct xw *w, struct attach__zip *z, const char *name)
{
	if (w->r >= 0)
		w->r = attach__zip_add(z, name, w->b.p, w->b.len, w->b.len < XW_STORE_BELOW);
	buf_reset(&w->b);
}

static void core_props(struct xw *w, const struct attach_doc *d)
{
	xw_puts(w, XML_DECL "<cp:coreProperties "
		   "xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
		   "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
		   "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>");
	xw_text(w, d->title);
	xw_printf(w, "</dc:title><dc:language>%s</dc:language>"
		     "<dcterms:created xsi:type=\"dcterms:W3CDTF\">" FIXED_DATE "</dcterms:created>"
		     "<dcterms:modified xsi:type=\"dcterms:W3CDTF\">" FIXED_DATE "</dcterms:modified>"
		     "</cp:coreProperties>",
		  is_ja(d) ? "ja-JP" : "en-US");
}

static void package_rels(struct xw *w, const char *main_type, const char *main_target)
{
	xw_printf(w, XML_DECL "<Relationships xmlns=\"" NS_PKG_R "\">"
		     "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "%s\" Target=\"%s\"/>"
		     "<Relationship Id=\"rId2\" "
		     "Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" "
		     "Target=\"docProps/core.xml\"/></Relationships>",
		  main_type, main_target);
}

/* The picture's relationship: an image outside the package. */
static void beacon_rel(struct xw *w, const char *id, const char *url)
{
	xw_printf(w, "<Relationship Id=\"%s\" Type=\"" REL_TYPE "image\" Target=\"", id);
	xw_text(w, url);
	xw_puts(w, "\" TargetMode=\"External\"/>");
}

/* ---- docx ------------------------------------------------------------------ */

#define DOCX_TEXT_W 9638   /* A4 (11906 twips) less 20 mm margins */

/* Runs for a piece of text: newlines become w:br and tabs w:tab, because
 * WordprocessingML ignores both inside w:t. */
static void docx_runs(struct xw *w, const char *s, const char *rpr)
{
	const char *p = s ? s : "";
	xw_printf(w, "<w:r>%s", rpr);
	while (*p) {
		size_t n = strcspn(p, "\n\t");
		if (n) {
			_cleanup_free_ char *piece = xstrndup(p, n);
			xw_puts(w, "<w:t xml:space=\"preserve\">");
			xw_text(w, piece);
			xw_puts(w, "</w:t>");
		}
		p += n;
		if (*p)
			xw_puts(w, *p++ == '\n' ? "<w:br/>" : "<w:tab/>");
	}
	xw_puts(w, "</w:r>");
}

static void docx_beacon(struct xw *w, const char *url)
{
	/* An inline DrawingML picture linked, not embedded (r:link, no r:embed). */
	xw_printf(w, "<w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\">"
		     "<wp:extent cx=\"%d\" cy=\"%d\"/><wp:effectExtent l=\"0\" t=\"0\" r=\"0\" b=\"0\"/>"
		     "<wp:docPr id=\"1\" name=\"image1\"/><wp:cNvGraphicFramePr>"
		     "<a:graphicFrameLocks xmlns:a=\"" NS_A "\" noChangeAspect=\"1\"/></wp:cNvGraphicFramePr>"
		     "<a:graphic xmlns:a=\"" NS_A "\"><a:graphicData "
		     "uri=\"http://schemas.openxmlformats.org/drawingml/2006/picture\">"
		     "<pic:pic xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\">"
		     "<pic:nvPicPr><pic:cNvPr id=\"1\" name=\"image1\"/><pic:cNvPicPr/></pic:nvPicPr>"
		     "<pic:blipFill><a:blip r:link=\"rId10\"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>"
		     "<pic:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"%d\" cy=\"%d\"/></a:xfrm>"
		     "<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>"
		     "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>",
		  BEACON_EMU, BEACON_EMU, BEACON_EMU, BEACON_EMU);
	/* Word's second path: INCLUDEPICTURE \d links the picture without
	 * storing it; Word updates the field when it loads the document. */
	xw_puts(w, "<w:fldSimple w:instr=\" INCLUDEPICTURE &quot;");
	xw_text(w, url);
	xw_puts(w, "&quot; \\d \\* MERGEFORMATINET \"><w:r><w:rPr><w:noProof/></w:rPr><w:t></w:t></w:r></w:fldSimple>");
}

static void docx_document(struct xw *w, const struct attach_doc *d)
{
	xw_puts(w, XML_DECL "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
		   "xmlns:r=\"" NS_R "\" "
		   "xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\"><w:body>");
	/* The title paragraph also carries the beacon, so it is on page 1
	 * and adds no empty line. */
	xw_puts(w, "<w:p><w:pPr><w:pStyle w:val=\"Title\"/></w:pPr>");
	docx_runs(w, d->title, "");
	if (d->beacon_url)
		docx_beacon(w, d->beacon_url);
	xw_puts(w, "</w:p>");
	for (size_t i = 0; i < d->nbody; i++) {
		xw_puts(w, "<w:p>");
		if (d->body[i] && *d->body[i])
			docx_runs(w, d->body[i], "");
		xw_puts(w, "</w:p>");
	}
	if (d->rows) {
		const unsigned colw = DOCX_TEXT_W / (unsigned)d->cols;
		xw_puts(w, "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/>"
			   "<w:tblBorders>");
		static const char *const edges[] = { "top", "left", "bottom", "right", "insideH", "insideV" };
		for (size_t e = 0; e < ARRAY_SIZE(edges); e++)
			xw_printf(w, "<w:%s w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>", edges[e]);
		xw_puts(w, "</w:tblBorders><w:tblLook w:val=\"04A0\"/></w:tblPr><w:tblGrid>");
		for (size_t c = 0; c < d->cols; c++)
			xw_printf(w, "<w:gridCol w:w=\"%u\"/>", colw);
		xw_puts(w, "</w:tblGrid>");
		for (size_t r = 0; r < d->rows; r++) {
			xw_puts(w, r == 0 ? "<w:tr><w:trPr><w:tblHeader/></w:trPr>" : "<w:tr>");
			for (size_t c = 0; c < d->cols; c++) {
				const char *cell = d->cells[r * d->cols + c];
				xw_printf(w, "<w:tc><w:tcPr><w:tcW w:w=\"%u\" w:type=\"dxa\"/>%s</w:tcPr><w:p>", colw,
					  r == 0 ? "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"E7E6E6\"/>" : "");
				if (cell && *cell)
					docx_runs(w, cell, r == 0 ? "<w:rPr><w:b/></w:rPr>" : "");
				xw_puts(w, "</w:p></w:tc>");
			}
			xw_puts(w, "</w:tr>");
		}
		/* Word requires a paragraph between a table and the section end. */
		xw_puts(w, "</w:tbl><w:p/>");
	}
	xw_puts(w, "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"1134\" "
		   "w:bottom=\"1134\" w:left=\"1134\" w:header=\"567\" w:footer=\"567\" w:gutter=\"0\"/>"
		   "</w:sectPr></w:body></w:document>");
}

/* Mincho for the text, Gothic for the title, as a Japanese business
 * document has them; the Latin faces match their metrics.  The East Asian
 * language is ja-JP in both languages: names and addresses merged into an
 * English document may still be Japanese. */
static void docx_styles(struct xw *w, const struct attach_doc *d)
{
	const char *lang = is_ja(d) ? "ja-JP" : "en-US";
	xw_printf(w, XML_DECL "<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
		     "<w:docDefaults><w:rPrDefault><w:rPr>"
		     "<w:rFonts w:ascii=\"Century\" w:eastAsia=\"ＭＳ 明朝\" w:hAnsi=\"Century\" w:cs=\"Times New Roman\"/>"
		     "<w:kern w:val=\"2\"/><w:sz w:val=\"21\"/><w:szCs w:val=\"22\"/>"
		     "<w:lang w:val=\"%s\" w:eastAsia=\"ja-JP\" w:bidi=\"ar-SA\"/></w:rPr></w:rPrDefault>"
		     "<w:pPrDefault><w:pPr><w:spacing w:after=\"120\"/></w:pPr></w:pPrDefault></w:docDefaults>"
		     "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/>"
		     "<w:qFormat/><w:pPr><w:widowControl w:val=\"0\"/></w:pPr></w:style>"
		     "<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/>"
		     "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
		     "<w:pPr><w:spacing w:before=\"120\" w:after=\"240\"/><w:jc w:val=\"center\"/></w:pPr>"
		     "<w:rPr><w:rFonts w:ascii=\"Arial\" w:eastAsia=\"ＭＳ ゴシック\" w:hAnsi=\"Arial\"/><w:b/>"
		     "<w:sz w:val=\"32\"/><w:szCs w:val=\"32\"/></w:rPr></w:style>"
		     "<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/>"
		     "<w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar><w:top w:w=\"0\" w:type=\"dxa\"/>"
		     "<w:left w:w=\"108\" w:type=\"dxa\"/><w:bottom w:w=\"0\" w:type=\"dxa\"/>"
		     "<w:right w:w=\"108\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style>"
		     "<w:style w:type=\"table\" w:styleId=\"TableGrid\"><w:name w:val=\"Table Grid\"/>"
		     "<w:basedOn w:val=\"TableNormal\"/><w:pPr><w:spacing w:after=\"0\"/></w:pPr></w:style>"
		     "</w:styles>",
		  lang);
}

/* The font table names each face's Japanese and Latin names and its
 * charset (80 = SHIFTJIS), which is what Word and LibreOffice go by when
 * the face itself is missing and they pick a substitute. */
static void docx_fonts(struct xw *w)
{
	static const struct {
		const char *name, *alt, *panose;
		int roman;
	} faces[] = {
		{ "ＭＳ 明朝", "MS Mincho", "02020609040205080304", 1 },
		{ "ＭＳ ゴシック", "MS Gothic", "020B0609070205080204", 0 },
		{ "Century", NULL, "02040604050505020304", 1 },
		{ "Arial", NULL, "020B0604020202020204", 0 },
	};
	xw_puts(w, XML_DECL "<w:fonts xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">");
	for (size_t i = 0; i < ARRAY_SIZE(faces); i++) {
		xw_printf(w, "<w:font w:name=\"%s\">", faces[i].name);
		if (faces[i].alt)
			xw_printf(w, "<w:altName w:val=\"%s\"/>", faces[i].alt);
		xw_printf(w, "<w:panose1 w:val=\"%s\"/><w:charset w:val=\"%s\"/><w:family w:val=\"%s\"/>"
			     "<w:pitch w:val=\"%s\"/></w:font>",
			  faces[i].panose, faces[i].alt ? "80" : "00", faces[i].roman ? "roman" : "swiss",
			  faces[i].alt ? "fixed" : "variable");
	}
	xw_puts(w, "</w:fonts>");
}

static int build_docx(const struct attach_doc *d, struct buf *out)
{
	struct xw w = { .b = BUF_INIT(0) };
	struct attach__zip *z = attach__zip_new();

	/* [Content_Types].xml first: some readers sniff the first entry. */
	xw_puts(&w, XML_DECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
		    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
		    "<Override PartName=\"/word/document.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
		    "<Override PartName=\"/word/styles.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>"
		    "<Override PartName=\"/word/fontTable.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml\"/>"
		    "<Override PartName=\"/docProps/core.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/></Types>");
	xw_add(&w, z, "[Content_Types].xml");
	package_rels(&w, "officeDocument", "word/document.xml");
	xw_add(&w, z, "_rels/.rels");
	docx_document(&w, d);
	xw_add(&w, z, "word/document.xml");
	xw_puts(&w, XML_DECL "<Relationships xmlns=\"" NS_PKG_R "\">"
		    "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "styles\" Target=\"styles.xml\"/>"
		    "<Relationship Id=\"rId2\" Type=\"" REL_TYPE "fontTable\" Target=\"fontTable.xml\"/>");
	if (d->beacon_url)
		beacon_rel(&w, "rId10", d->beacon_url);
	xw_puts(&w, "</Relationships>");
	xw_add(&w, z, "word/_rels/document.xml.rels");
	docx_styles(&w, d);
	xw_add(&w, z, "word/styles.xml");
	docx_fonts(&w);
	xw_add(&w, z, "word/fontTable.xml");
	core_props(&w, d);
	xw_add(&w, z, "docProps/core.xml");

	buf_release(&w.b);
	if (w.r < 0) {
		attach__zip_free(z);
		return w.r;
	}
	return attach__zip_finish(z, out);
}

/* ---- xlsx ------------------------------------------------------------------ */

/* "A", "B", … "Z", "AA" … for a zero-based column. */
static void xlsx_col(char ret[4], size_t c)
{
	char tmp[4];
	size_t n = 0;
	do {
		tmp[n++] = (char)('A' + c % 26);
		c = c / 26;
	} while (c-- && n < 3);
	for (size_t i = 0; i < n; i++)
		ret[i] = tmp[n - 1 - i];
	ret[n] = '\0';
}

/* Style indexes of cellXfs in xlsx_styles(). */
enum { XF_DEFAULT, XF_TITLE, XF_CELL, XF_HEAD };

static void xlsx_cell(struct xw *w, size_t row, size_t col, int xf, const char *text)
{
	char name[4];
	xlsx_col(name, col);
	/* Inline strings: no shared-string table to keep in step; Excel
	 * converts them when it saves. */
	xw_printf(w, "<c r=\"%s%zu\" s=\"%d\"", name, row, xf);
	if (text && *text) {
		xw_puts(w, " t=\"inlineStr\"><is><t xml:space=\"preserve\">");
		xw_text(w, text);
		xw_puts(w, "</t></is></c>");
	} else {
		xw_puts(w, "/>");
	}
}

/* Display width in "characters" of Excel's column unit: 1 for ASCII and
 * half-width katakana, 2 for the rest; *ret_lines: how many lines s takes
 * wrapped at width (each newline starts one). */
static size_t xlsx_units(const char *s, size_t width, size_t *ret_lines)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), most = 0, line = 0, lines = 1;

	for (size_t i = 0, n; i < len; i += n ? n : 1) {
		uint32_t c = 0;
		n = utf8_next(p + i, len - i, &c);
		if (c == '\n') {
			lines += width ? line / width : 0;
			most = line > most ? line : most;
			line = 0;
			lines++;
			continue;
		}
		line += c < 0x80 || (c >= 0xff61 && c <= 0xff9f) ? 1 : 2;
	}
	lines += width && line ? (line - 1) / width : 0;
	*ret_lines = lines;
	return line > most ? line : most;
}

#define XLSX_COL_MIN 10
#define XLSX_COL_MAX 50
#define XLSX_LINE_PT 18

static void xlsx_sheet(struct xw *w, const struct attach_doc *d)
{
	size_t row = 1, lines;
	_cleanup_free_ size_t *width = xcalloc(d->cols ? d->cols : 1, sizeof(size_t));

	/* Columns as wide as their widest cell (within bounds); wrapped cells
	 * get a row height for their lines, since not every reader fits rows
	 * to wrapped text on load (LibreOffice does not). */
	for (size_t c = 0; c < d->cols; c++) {
		width[c] = XLSX_COL_MIN;
		for (size_t r = 0; r < d->rows; r++) {
			size_t u = xlsx_units(d->cells[r * d->cols + c], 0, &lines) + 2;
			width[c] = u > width[c] ? (u > XLSX_COL_MAX ? XLSX_COL_MAX : u) : width[c];
		}
	}
	xw_puts(w, XML_DECL "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		   "xmlns:r=\"" NS_R "\"><sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>"
		   "<sheetFormatPr defaultRowHeight=\"18\"/>");
	if (d->cols) {
		xw_puts(w, "<cols>");
		for (size_t c = 0; c < d->cols; c++)
			xw_printf(w, "<col min=\"%zu\" max=\"%zu\" width=\"%zu\" customWidth=\"1\"/>", c + 1, c + 1,
				  width[c]);
		xw_puts(w, "</cols>");
	}
	xw_puts(w, "<sheetData>");
	xw_printf(w, "<row r=\"%zu\" ht=\"24\" customHeight=\"1\">", row);
	xlsx_cell(w, row, 0, XF_TITLE, d->title);
	xw_puts(w, "</row>");
	row += 2;
	/* A paragraph's lines go one per row: a cell's own line breaks
	 * would need wrapping, and wrapping needs a wide column A. */
	for (size_t i = 0; i < d->nbody; i++) {
		const char *p = d->body[i];
		while (p && *p) {
			size_t n = strcspn(p, "\n");
			_cleanup_free_ char *line = xstrndup(p, n);
			xw_printf(w, "<row r=\"%zu\">", row);
			xlsx_cell(w, row++, 0, XF_DEFAULT, line);
			xw_puts(w, "</row>");
			p += n + (p[n] == '\n');
		}
	}
	if (d->nbody)
		row++;
	for (size_t r = 0; r < d->rows; r++, row++) {
		size_t most = 1;
		for (size_t c = 0; c < d->cols; c++) {
			xlsx_units(d->cells[r * d->cols + c], width[c] - 1, &lines);
			most = lines > most ? lines : most;
		}
		if (most > 1)
			xw_printf(w, "<row r=\"%zu\" ht=\"%zu\" customHeight=\"1\">", row, most * XLSX_LINE_PT);
		else
			xw_printf(w, "<row r=\"%zu\">", row);
		for (size_t c = 0; c < d->cols; c++)
			xlsx_cell(w, row, c, r == 0 ? XF_HEAD : XF_CELL, d->cells[r * d->cols + c]);
		xw_puts(w, "</row>");
	}
	xw_puts(w, "</sheetData><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" "
		   "header=\"0.3\" footer=\"0.3\"/>");
	if (d->beacon_url)
		xw_puts(w, "<drawing r:id=\"rId1\"/>");
	xw_puts(w, "</worksheet>");
}

/* Fonts: ＭＳ Ｐゴシック (charset 128 = SHIFTJIS, so a reader without it
 * substitutes a Japanese face) for ja, Calibri for en. */
static void xlsx_styles(struct xw *w, const struct attach_doc *d)
{
	const char *font = is_ja(d) ? "<name val=\"ＭＳ Ｐゴシック\"/><family val=\"3\"/><charset val=\"128\"/>"
				    : "<name val=\"Calibri\"/><family val=\"2\"/>";
	xw_printf(w, XML_DECL "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
		     "<fonts count=\"3\"><font><sz val=\"11\"/>%s</font><font><b/><sz val=\"14\"/>%s</font>"
		     "<font><b/><sz val=\"11\"/>%s</font></fonts>"
		     "<fills count=\"3\"><fill><patternFill patternType=\"none\"/></fill>"
		     "<fill><patternFill patternType=\"gray125\"/></fill>"
		     "<fill><patternFill patternType=\"solid\"><fgColor rgb=\"FFE7E6E6\"/><bgColor indexed=\"64\"/>"
		     "</patternFill></fill></fills>"
		     "<borders count=\"2\"><border><left/><right/><top/><bottom/><diagonal/></border>"
		     "<border><left style=\"thin\"><color auto=\"1\"/></left><right style=\"thin\"><color auto=\"1\"/></right>"
		     "<top style=\"thin\"><color auto=\"1\"/></top><bottom style=\"thin\"><color auto=\"1\"/></bottom>"
		     "<diagonal/></border></borders>"
		     "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>"
		     "<cellXfs count=\"4\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
		     "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>"
		     "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"1\" xfId=\"0\" applyBorder=\"1\" "
		     "applyAlignment=\"1\"><alignment vertical=\"top\" wrapText=\"1\"/></xf>"
		     "<xf numFmtId=\"0\" fontId=\"2\" fillId=\"2\" borderId=\"1\" xfId=\"0\" applyFont=\"1\" "
		     "applyFill=\"1\" applyBorder=\"1\" applyAlignment=\"1\"><alignment horizontal=\"center\" "
		     "vertical=\"top\" wrapText=\"1\"/></xf></cellXfs>"
		     "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>"
		     "</styleSheet>",
		  font, font, font);
}

static void xlsx_drawing(struct xw *w)
{
	/* One linked picture anchored at A1, 1 × 1 px. */
	xw_printf(w, XML_DECL "<xdr:wsDr xmlns:xdr=\"http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing\" "
		     "xmlns:a=\"" NS_A "\" xmlns:r=\"" NS_R "\"><xdr:oneCellAnchor>"
		     "<xdr:from><xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row>"
		     "<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx=\"%d\" cy=\"%d\"/>"
		     "<xdr:pic><xdr:nvPicPr><xdr:cNvPr id=\"2\" name=\"image1\"/><xdr:cNvPicPr>"
		     "<a:picLocks noChangeAspect=\"1\"/></xdr:cNvPicPr></xdr:nvPicPr>"
		     "<xdr:blipFill><a:blip r:link=\"rId1\"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>"
		     "<xdr:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"%d\" cy=\"%d\"/></a:xfrm>"
		     "<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>"
		     "<xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>",
		  BEACON_EMU, BEACON_EMU, BEACON_EMU, BEACON_EMU);
}

static int build_xlsx(const struct attach_doc *d, struct buf *out)
{
	struct xw w = { .b = BUF_INIT(0) };
	struct attach__zip *z = attach__zip_new();

	xw_puts(&w, XML_DECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
		    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
		    "<Override PartName=\"/xl/workbook.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
		    "<Override PartName=\"/xl/worksheets/sheet1.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
		    "<Override PartName=\"/xl/styles.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>");
	if (d->beacon_url)
		xw_puts(&w, "<Override PartName=\"/xl/drawings/drawing1.xml\" "
			    "ContentType=\"application/vnd.openxmlformats-officedocument.drawing+xml\"/>");
	xw_puts(&w, "<Override PartName=\"/docProps/core.xml\" "
		    "ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/></Types>");
	xw_add(&w, z, "[Content_Types].xml");
	package_rels(&w, "officeDocument", "xl/workbook.xml");
	xw_add(&w, z, "_rels/.rels");
	xw_puts(&w, XML_DECL "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		    "xmlns:r=\"" NS_R "\"><bookViews><workbookView/></bookViews>"
		    "<sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
	xw_add(&w, z, "xl/workbook.xml");
	xw_puts(&w, XML_DECL "<Relationships xmlns=\"" NS_PKG_R "\">"
		    "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "worksheet\" Target=\"worksheets/sheet1.xml\"/>"
		    "<Relationship Id=\"rId2\" Type=\"" REL_TYPE "styles\" Target=\"styles.xml\"/></Relationships>");
	xw_add(&w, z, "xl/_rels/workbook.xml.rels");
	xlsx_sheet(&w, d);
	xw_add(&w, z, "xl/worksheets/sheet1.xml");
	if (d->beacon_url) {
		xw_puts(&w, XML_DECL "<Relationships xmlns=\"" NS_PKG_R "\">"
			    "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "drawing\" Target=\"../drawings/drawing1.xml\"/>"
			    "</Relationships>");
		xw_add(&w, z, "xl/worksheets/_rels/sheet1.xml.rels");
		xlsx_drawing(&w);
		xw_add(&w, z, "xl/drawings/drawing1.xml");
		xw_puts(&w, XML_DECL "<Relationships xmlns=\"" NS_PKG_R "\">");
		beacon_rel(&w, "rId1", d->beacon_url);
		xw_puts(&w, "</Relationships>");
		xw_add(&w, z, "xl/drawings/_rels/drawing1.xml.rels");
	}
	xlsx_styles(&w, d);
	xw_add(&w, z, "xl/styles.xml");
	core_props(&w, d);
	xw_add(&w, z, "docProps/core.xml");

	buf_release(&w.b);
	if (w.r < 0) {
		attach__zip_free(z);
		return w.r;
	}
	return attach__zip_finish(z, out);
}

int attach_build(enum attach_kind kind, const struct attach_doc *d, struct buf *out)
{
	int r = out ? doc_check(d) : -EINVAL;
	if (r < 0)
		return r;
	switch (kind) {
	case ATTACH_DOCX:
		return build_docx(d, out);
	case ATTACH_XLSX:
		return build_xlsx(d, out);
	case ATTACH_PDF:
		return attach__pdf(d, out);
	}
	return -EINVAL;
}
