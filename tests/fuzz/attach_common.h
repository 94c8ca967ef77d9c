/*
 * What the three upload fuzz targets (attach_zip, attach_ooxml, attach_pdf)
 * check beyond "no crash, no leak": a refusal comes with a sentence, and an
 * accepted upload takes a beacon whose result is itself accepted as the
 * same kind (the injector never produces a file the checker refuses).
 */
#include "attach/attach_int.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "failed: %s\n", #cond); abort(); } } while (0)

static void fuzz_check_and_inject(struct slice in)
{
	enum attach_kind kind, again;
	const char *msg = NULL;

	if (attach_check(in, &kind, &msg) < 0) {
		CHECK(msg && msg[0]);
		return;
	}
	struct buf out;
	buf_init(&out, 64 << 20);
	int r = attach_inject(kind, in, "http://127.0.0.1/o/rid?x=1&y=(2)", kind == ATTACH_PDF ? "http://127.0.0.1/l/rid" : NULL,
			      &out);
	/* a checked upload may still be one we cannot splice into (a page
	 * tree in a form we do not follow): a clean -EINVAL, never a crash */
	CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r == 0) {
		msg = NULL;
		r = attach_check(buf_slice(&out), &again, &msg);
		if (r < 0)
			fprintf(stderr, "injected file refused: %s\n", msg);
		CHECK(r == 0 && again == kind);
	}
	buf_release(&out);
}
