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
};

/* Reads header, %%EOF, startxref, every cross-reference section (tables
 * and streams, following /Prev and /XRefStm) and the trailer; refuses
 * /Encrypt.  p borrows file; release with attach__pdf_release (also after
 * a failure). */
int attach__pdf_open(struct slice file, struct pdf *p, const char **ret_msg);
void attach__pdf_release(struct pdf *p);
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
/* Parses "n g R". */
bool attach__pdf_as_ref(struct slice v, struct pdf_ref *ret);
/* Copies v into out (replaced), following it first when it is a
 * reference "n g R". */
int attach__pdf_resolve(struct pdf *p, struct slice v, struct buf *out);

#endif
