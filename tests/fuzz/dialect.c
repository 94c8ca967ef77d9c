/*
 * Fuzz target for dialect_pg() (src/store/dialect.c): a migration's
 * PostgreSQL text.  Its input is our own files, but the passes walk
 * quotes, comments and lines by hand: any bytes must give a string no
 * longer than the bound the output was sized by (4 bytes per byte in).
 */
#include "core/core.h"
#include "store/dialect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = xstrndup((const char *)data, size); /* stops at a NUL inside */
	char *pg = dialect_pg(sql);

	BUG_ON(!pg);
	BUG_ON(strlen(pg) > 4 * strlen(sql));
	free(pg);
	free(sql);
	return 0;
}
