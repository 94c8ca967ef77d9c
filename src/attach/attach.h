/*
 * attach — training attachments (SPEC D5): docx, xlsx and pdf built from a
 * scenario's attachment declaration or taken from the trainer's upload, each
 * copy carrying one target's beacon, optionally wrapped in a zip or a
 * password zip.  Depends on core only: callers fill the merge fields and
 * pass finished text and absolute URLs.
 *
 * Beacons (docs/internals/ATTACH.md):
 *   docx  a DrawingML picture whose a:blip r:link names an image
 *         relationship with TargetMode="External" (beacon_url), plus an
 *         INCLUDEPICTURE field to the same URL as Word's second path;
 *   xlsx  a drawing part with a linked (not embedded) picture, the same way;
 *   pdf   a document /OpenAction and the first page's /AA /O reaching
 *         beacon_url, and a visible link annotation to link_url (the
 *         dependable signal: a person clicked inside the file).
 */
#ifndef KUNREN_ATTACH_H
#define KUNREN_ATTACH_H

#include "core/core.h"

enum attach_kind { ATTACH_DOCX, ATTACH_XLSX, ATTACH_PDF };
enum attach_archive {
	ATTACH_ARCHIVE_NONE,
	ATTACH_ARCHIVE_ZIP,      /* a plain zip */
	ATTACH_ARCHIVE_PASSWORD, /* traditional PKWARE encryption (ZipCrypto): Windows Explorer opens it */
	ATTACH_ARCHIVE_AES,      /* AES-256 (WinZip AE-2): 7-Zip and others */
};

/* "docx", "xlsx", "pdf" and back; -EINVAL for anything else. */
const char *attach_kind_name(enum attach_kind k);
int attach_kind_parse(const char *s, enum attach_kind *ret);
/* "none", "zip", "password", "aes" and back. */
const char *attach_archive_name(enum attach_archive a);
int attach_archive_parse(const char *s, enum attach_archive *ret);
/* The MIME type of a kind (application/vnd.openxmlformats-…, application/pdf). */
const char *attach_kind_mime(enum attach_kind k);

/* What a generated document says; merge fields are already filled in. */
struct attach_doc {
	const char *title;                 /* heading of the document or sheet */
	const char *const *body;           /* paragraphs */
	size_t nbody;
	const char *const *cells;          /* table, row-major rows × cols; NULL or "" is an empty cell */
	size_t rows, cols;
	const char *lang;                  /* "ja" or "en": document language, link text */
	const char *beacon_url;            /* absolute http(s) URL: image beacon / PDF open actions
					    * (NULL: no beacon — content's education PDF, previews) */
	const char *link_url;              /* absolute http(s) URL: the visible link (pdf; NULL: none) */
	const char *link_text;             /* its text; NULL (or text that shows nothing): a default in lang */
};

/* Appends a complete file of the kind to out.  Japanese text renders with a
 * CJK font (docx: ＭＳ 明朝/ＭＳ ゴシック with alt names and the SHIFTJIS
 * charset in the font table, so readers substitute a Japanese face; xlsx:
 * ＭＳ Ｐゴシック, charset 128; pdf: HeiseiKakuGo-W5).  The same document
 * gives the same bytes (fixed times).  -EINVAL for NULL d or out, a NULL
 * body/cells with a count, lang other than "ja"/"en"/NULL, or a URL that is
 * not absolute http(s) of printable ASCII without < > " \ or spaces (& and
 * parentheses are escaped by us); -E2BIG beyond 1,000 paragraphs, 5,000
 * rows, 50 columns or 4 MiB of text, or when out's cap is reached (out is
 * then unchanged). */
int attach_build(enum attach_kind kind, const struct attach_doc *d, struct buf *out);

/*
 * Uploads.  attach_check takes a trainer's file as received and says what it
 * is: a real OOXML package (zip with [Content_Types].xml, the main part and
 * its relationships) of a docx or xlsx, or a real PDF (header, a trailer and
 * a cross-reference we can follow).  Limits: ATTACH_UPLOAD_MAX bytes,
 * ATTACH_ZIP_ENTRIES_MAX entries, ATTACH_ZIP_UNPACKED_MAX bytes unpacked and
 * a compression ratio of at most ATTACH_ZIP_RATIO_MAX per entry (zip
 * bombs), no encrypted entries, no entry names with "..", absolute paths or
 * backslashes.  On error returns -EINVAL with *ret_msg a static English
 * sentence naming what is wrong ("word/document.xml is missing", "the zip
 * unpacks to more than 64 MiB", "not a PDF: no %PDF- header"…).
 */
#define ATTACH_UPLOAD_MAX ((size_t)10 << 20)
#define ATTACH_ZIP_ENTRIES_MAX 1000
#define ATTACH_ZIP_UNPACKED_MAX ((size_t)64 << 20)
#define ATTACH_ZIP_RATIO_MAX 200
int attach_check(struct slice file, enum attach_kind *ret_kind, const char **ret_msg);

/* A copy of a checked upload with the beacon added (docx/xlsx: the linked
 * picture; pdf: an incremental update appended to the original bytes with
 * the open actions and the link annotation on page 1 and a correct xref
 * section for the new objects).  link_url may be NULL.  The original
 * content is otherwise untouched. */
int attach_inject(enum attach_kind kind, struct slice file, const char *beacon_url, const char *link_url,
		  struct buf *out);

/* Wraps one file in a zip archive of one entry called name (UTF-8, the
 * language encoding flag set; no / \ controls or "..", ≤ 255 bytes).
 * password (1-128 bytes) is required for PASSWORD and AES and ignored
 * otherwise.  A plain zip is reproducible; encrypted ones are not (random
 * headers, and the entry keeps the time of building: see ATTACH.md). */
int attach_zip(const char *name, struct slice file, enum attach_archive archive, const char *password,
	       struct buf *out);

/* ---- inside attach/ only ------------------------------------------------ */

/* An OOXML package or archive being written in memory (zip.c): _new, any
 * number of _add (data is copied; deflated unless store; returns the entry's
 * index or the first error, which is sticky), then _finish, which appends the
 * archive to out (unchanged on error) and frees it.  _free discards an
 * archive that will not be finished. */
struct attach__zip;
struct attach__zip *attach__zip_new(void);
int attach__zip_add(struct attach__zip *z, const char *name, const void *data, size_t len, bool store);
int attach__zip_finish(struct attach__zip *z, struct buf *out);
void attach__zip_free(struct attach__zip *z);

/* Whether s holds len bytes of valid UTF-8 (build.c). */
bool attach__utf8_valid(const char *s, size_t len);
/* Whether url is an absolute http(s) URL of printable ASCII that needs no
 * escaping beyond what we do (&, ' in XML; ( ) in PDF strings) (build.c). */
bool attach__url_ok(const char *url);
/* The PDF writer (pdf.c): attach_build(ATTACH_PDF). */
int attach__pdf(const struct attach_doc *d, struct buf *out);

#endif
