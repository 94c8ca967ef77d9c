/*
 * Fuzz target for uploaded PDFs: the header, %%EOF, startxref, classic xref
 * tables and xref streams (with PNG predictors) through /Prev and
 * /XRefStm, object streams, the trailer and the page tree (pdfparse.c),
 * then the incremental update (inject.c) on what is accepted, which must
 * parse again.  Seeds: LibreOffice's PDF, the same with an xref stream, an
 * encrypted one.
 */
#include "attach_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256 * 1024)
		return 0;
	fuzz_check_and_inject((struct slice){ (const char *)data, size });
	return 0;
}
