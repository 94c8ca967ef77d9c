/*
 * pdf.c — education material as PDF (SPEC D9): a title and paragraphs.  The
 * writer itself is attach/'s (attach/pdf.c), shared with the training PDFs;
 * this document has no link and no beacon.
 */
#include "attach/attach.h"
#include "content/content.h"

int content_pdf_text(struct buf *out, const char *title, const char *const *paragraphs, size_t n)
{
	const struct attach_doc d = { .title = title, .body = paragraphs, .nbody = paragraphs ? n : 0 };
	return attach_build(ATTACH_PDF, &d, out);
}
