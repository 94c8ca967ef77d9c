/*
 * Fuzz target for uploaded zip containers (docx, xlsx): attach_check with
 * libzip over the bytes (entry limits, names, encryption, sizes while
 * unpacking, then the OOXML structure) and attach_inject on what it accepts.
 * Seeds: small LibreOffice docx/xlsx and hand-made hostile zips.
 */
#include "attach_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256 * 1024)
		return 0;
	fuzz_check_and_inject((struct slice){ (const char *)data, size });
	return 0;
}
