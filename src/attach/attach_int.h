/*
 * attach_int.h — what the upload checker (upload.c) and the beacon injector
 * (inject.c) share: a small XML tag scanner and the OOXML part lookups
 * (ooxml.c), the zip container over the caller's bytes (upload.c), and the
 * PDF trailer/xref reader (pdfparse.c).  Private to src/attach/.
 *
 * Everything here parses outside input: sizes are capped, nothing trusts a
 * length or an offset it did not check against the bytes it has, and errors
 * are -EINVAL with a static English sentence in *ret_msg.
 */
#ifndef KUNREN_ATTACH_INT_H
#define KUNREN_ATTACH_INT_H

#include <zip.h>

#include "attach/attach.h"

/* ---- XML (ooxml.c) ------------------------------------------------------ */

/*
 * One element tag.  The scanner knows element tags, comments, processing
 * instructions and CDATA (both skipped); it refuses DOCTYPE (no entities to
 * expand) and anything that does not close.  Attribute values are raw: use
 * attach__xml_attr, which decodes the five predefined entities and
 * character references.
 */
struct xml_tag {
	struct slice name;  /* qualified name, e.g. "w:body" */
	struct slice attrs; /* raw text after the name, up to (not incl.) "/>" or ">" */
	size_t start, end;  /* offset of '<' and one past '>' */
	bool close;         /* </name> */
	bool empty;         /* <name/> */
};

/* 1 with the next element tag at or after *pos (which moves past it), 0 at
 * the end of doc, -EINVAL for a malformed document. */
int attach__xml_next(struct slice doc, size_t *pos, struct xml_tag *ret);
/* Every tag of doc is well-formed and start and end tags nest and match,
 * with one root element and at most 256 levels. */
int attach__xml_check(struct slice doc);
/* The part after ':' (all of it without a prefix). */
struct slice attach__xml_local(struct slice qname);
/* The value of the attribute with qualified name `name`, decoded into out
 * (replaced).  False when absent, malformed or longer than out allows. */
bool attach__xml_attr(const struct xml_tag *t, const char *name, struct buf *out);
/* Attribute by local name (any prefix): for r:id whatever the prefix is. */
bool attach__xml_attr_local(const struct xml_tag *t, const char *local, struct buf *out);
/* Appends s escaped for an XML attribute value (& < > " '). */
int attach__xml_escape(struct buf *b, const char *s);

/* The relationship target of a part, resolved to a zip entry name:
 * base is the source part ("word/document.xml"), target as written in the
 * .rels file ("media/x.png", "../drawings/d1.xml", "/xl/workbook.xml").
 * -EINVAL when it leaves the package. */
int attach__part_resolve(const char *base, const char *target, struct buf *out);
/* The relationships part of a part: "word/document.xml" ->
 * "word/_rels/document.xml.rels", "" (the package) -> "_rels/.rels". */
void attach__rels_name(const char *part, struct buf *out);

#define REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define REL_OFFICE_DOCUMENT REL_NS "/officeDocument"
#define REL_IMAGE REL_NS "/image"
#define REL_DRAWING REL_NS "/drawing"
#define REL_WORKSHEET REL_NS "/worksheet"
#define CT_DOCX_MAIN "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
#define CT_XLSX_MAIN "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
#define CT_DRAWING "application/vnd.openxmlformats-officedocument.drawing+xml"

/* The Target of the first relationship of `type` in a .rels document, or
 * of the one with Id `id` when id is not NULL (type then ignored).  Also
 * says whether it is external.  -ENOENT when there is none. */
int attach__rels_find(struct slice rels, const char *type, const char *id, struct buf *ret_target,
		      bool *ret_external);
/* The content type [Content_Types].xml gives part ("word/document.xml"):
 * its Override, else the Default of its extension.  -ENOENT when none. */
int attach__content_type(struct slice types, const char *part, struct buf *out);

/* ---- zip (upload.c) ---------------------------------------------------- */

/* Opens file as a zip (libzip, consistency checks on) without copying it:
 * file must outlive the archive.  Then checks every entry's header: count,
 * names, encryption, compression method, declared sizes and ratio; with
 * unpack, also the sizes and ratio while actually unpacking each one
 * (attach.h limits).  The injector skips the unpacking (attach_check did it
 * once; every part it reads is capped anyway). */
int attach__zip_open(struct slice file, bool unpack, zip_t **ret, const char **ret_msg);
/* Reads the entry called name into out (replaced), at most max bytes:
 * -ENOENT when absent, -E2BIG when larger, -EIO when it does not unpack. */
int attach__zip_read(zip_t *z, const char *name, size_t max, struct buf *out);
/* The cap for one XML part read into memory. */
#define ATTACH_PART_MAX ((size_t)32 << 20)

/* ---- OOXML structure (ooxml.c) ---------------------------------------- */

/* The main part of a checked docx/xlsx and, for xlsx, the first worksheet. */
struct ooxml_info {
	enum attach_kind kind;
	char main[64];        /* "word/document.xml" or "xl/workbook.xml" */
	char sheet[256];      /* xlsx: the first worksheet's part name */
};
int attach__ooxml_check(zip_t *z, struct ooxml_info *ret, const char **ret_msg);

/* ---- PDF (pdfparse.c) --------------------------------------------------- */

struct pdf_ref {
	uint32_t num;
	uint16_t gen;
};

/* Where an object lives: in the file (offset) or in an object stream. */
struct pdf_xent {
	uint8_t type;        /* 0 not seen yet, 1 in the file, 2 in an object stream, 3 free */
	uint16_t gen;
	uint64_t off;        /* type 1: byte offset; type 2: the stream's object number */
	uint32_t idx;        /* type 2: index in the stream */
};

/* The most objects we follow (a 10 MiB file holds fewer). */
#define PDF_OBJECTS_MAX (1u << 20)
/* Cross-reference sections followed through /Prev. */
#define PDF_SECTIONS_MAX 64
/* What one parse (one struct pdf) may inflate in all, xref streams and
 * object streams together.  Real files need far less: an xref stream is
 * 5-8 bytes per object (at most 2^20 objects), object streams hold the
 * dictionaries only; a 10 MiB upload's are a few MiB.  Without a total, 64
 * sections of 32 MiB each cost seconds of CPU per parse (review finding 2). */
#define PDF_INFLATE_BUDGET ((size_t)64 << 20)

struct pdf {
	struct slice file;
	uint64_t startxref;     /* of the newest section */
	bool xref_stream;       /* the newest section is a cross-reference stream */
	uint32_t size;          /* /Size of the newest trailer */
	struct pdf_ref root;
	struct buf id;          /* the trailer's /ID value (raw), or empty */
	struct pdf_xent *xref;  /* size entries */
	uint32_t stm_num;       /* the object stream last unpacked into stm (0: none) */
	struct buf stm;
	size_t inflated;        /* bytes inflated so far, against PDF_INFLATE_BUDGET */
	bool over_budget;       /* an inflate stopped at the budget */
	uint64_t sections[PDF_SECTIONS_MAX]; /* offsets of the sections read */
	size_t nsections;
};

/* Reads header, %%EOF, startxref, every cross-reference section (tables
 * and streams, following /Prev and /XRefStm) and the trailer; refuses
 * /Encrypt and active content (attach__pdf_active).  p borrows file;
 * release with attach__pdf_release (also after a failure). */
int attach__pdf_open(struct slice file, struct pdf *p, const char **ret_msg);
void attach__pdf_release(struct pdf *p);
/* Refuses what makes a PDF more than a document: /JavaScript, /JS,
 * /Launch, embedded files, remote go-tos, form submission, /RichMedia, XFA
 * — as names anywhere in the file outside stream data, and in every object
 * stream, #xx escapes decoded.  Called by attach__pdf_open. */
int attach__pdf_active(struct pdf *p, const char **ret_msg);
/* The name (without '/') at s[*pos] == '/' decoded (#xx) into out (at most
 * outlen - 1 bytes, NUL-terminated); *pos moves past it.  False when it is
 * longer or has a bad escape. */
bool attach__pdf_name(struct slice s, size_t *pos, char *out, size_t outlen);
/* The text of object ref (the value between "obj" and "endobj", or the
 * object from its object stream) copied into out (replaced); for a stream,
 * its dictionary.  -ENOENT for an object the xref does not have. */
int attach__pdf_object(struct pdf *p, struct pdf_ref ref, struct buf *out);
/* The first page of the page tree (following /Root /Pages /Kids[0] down)
 * and its dictionary (into ret_dict). */
int attach__pdf_first_page(struct pdf *p, struct pdf_ref *ret_ref, struct buf *ret_dict, const char **ret_msg);

/* Tokens of PDF syntax, for reading dictionaries. */
/* Skips white space and comments from s[*pos]. */
void attach__pdf_skip_ws(struct slice s, size_t *pos);
/* The extent of one object (number, name, string, array, dictionary,
 * reference "n g R", keyword) starting at *pos; *pos moves past it. */
int attach__pdf_value(struct slice s, size_t *pos, struct slice *ret);
/* The value of key (a name without '/') in the dictionary dict
 * ("<< ... >>"); -ENOENT when absent. */
int attach__pdf_dict_get(struct slice dict, const char *key, struct slice *ret);

/* The one font our PDFs use (pdf.c and the banner of inject.c): the Type0
 * font HeiseiKakuGo-W5 over UniJIS-UCS2-H, not embedded; ASCII (CIDs 1-95)
 * and the half-width forms (231-632) are 500 wide, everything else 1000.
 * Formats take the object numbers (unsigned): TYPE0 its CIDFont and its
 * /ToUnicode, CID its descriptor. */
#define ATTACH_PDF_FONT_TYPE0                                                    \
	"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiKakuGo-W5-UniJIS-UCS2-H " \
	"/Encoding /UniJIS-UCS2-H /DescendantFonts [%u 0 R] /ToUnicode %u 0 R >>"
#define ATTACH_PDF_FONT_CID                                                      \
	"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiKakuGo-W5 "       \
	"/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> " \
	"/FontDescriptor %u 0 R /DW 1000 /W [1 95 500 231 632 500] >>"
#define ATTACH_PDF_FONT_DESCRIPTOR                                               \
	"<< /Type /FontDescriptor /FontName /HeiseiKakuGo-W5 /Flags 4 "           \
	"/FontBBox [-92 -250 1010 922] /ItalicAngle 0 /Ascent 752 /Descent -221 " \
	"/CapHeight 737 /XHeight 553 /StemV 116 /Style << /Panose <0801020B0600000000000000> >> >>"
/* The /ToUnicode CMap of the codes whose high bytes are marked in used_hi
 * (the codes are UTF-16 units: each range maps to itself). */
int attach__pdf_tounicode(const bool used_hi[256], struct buf *cmap);
/* The next entry of a dictionary "<< … >>": *pos starts at 0; 1 with an
 * entry (the key with its '/'), 0 at the end, -EINVAL when malformed. */
int attach__pdf_dict_next(struct slice dict, size_t *pos, struct slice *ret_key, struct slice *ret_value);
/* Parses "n g R". */
bool attach__pdf_as_ref(struct slice v, struct pdf_ref *ret);
/* Copies v into out (replaced), following it first when it is a
 * reference "n g R". */
int attach__pdf_resolve(struct pdf *p, struct slice v, struct buf *out);

#endif
