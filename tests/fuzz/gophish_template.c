/*
 * Fuzz target for gophish/import.c's text parsers of a GoPhish database's
 * values: gophish_template_convert (a mail, page or subject) and
 * gophish_time_parse.  Besides "no crash, no leak" it checks:
 * - the converted text always passes content_template_check (an imported
 *   scenario is always renderable), and holds no "{{." action any more;
 * - converting twice changes nothing more (Kunren's own fields pass through);
 * - a time is accepted only as a unix ms within 1970..9999.
 */
#include "content/content.h"
#include "gophish/gophish.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "failed: %s\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice in = { (const char *)data, size };
	struct arena *a = arena_new((size_t)64 << 20);
	const char *out, *dropped;
	int r = gophish_template_convert(in, a, &out, &dropped);
	CHECK(r == 0 || r == -E2BIG);
	/* GoPhish's values are checked to be UTF-8 before conversion */
	if (r == 0 && utf8_valid(in.p, in.len) && !memchr(in.p, 0, in.len)) {
		char *err = NULL;
		CHECK(content_template_check(slice_from(out), &err) == 0);
		free(err);
		CHECK(!strstr(out, "{{."));
		const char *again, *dropped2;
		CHECK(gophish_template_convert(slice_from(out), a, &again, &dropped2) == 0);
		CHECK(!strcmp(again, out) && !dropped2[0]);
	}
	_cleanup_free_ char *s = xstrndup(in.p, in.len > 80 ? 80 : in.len);
	int64_t ms = -1;
	if (gophish_time_parse(s, &ms) == 0)
		CHECK(ms >= 0 && ms < INT64_C(253402387200000));
	arena_free(a);
	return 0;
}
