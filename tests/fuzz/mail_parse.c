/*
 * libFuzzer target for mail_parse (and through it mail_header_decode,
 * base64, quoted-printable and the charset conversions).  Invariants: no
 * crash, no leak, and every string handed out is valid UTF-8.
 */
#include "mail/mail.h"

static void check_field(const char *s, bool may_be_null)
{
	if (!s) {
		BUG_ON(!may_be_null);
		return;
	}
	BUG_ON(!utf8_valid(s, strlen(s)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new((size_t)64 << 20);
	struct mail_parsed p;

	if (mail_parse((struct slice){ (const char *)data, size }, a, &p) == 0) {
		check_field(p.from, false);
		check_field(p.to, false);
		check_field(p.subject, false);
		check_field(p.date, false);
		check_field(p.message_id, false);
		check_field(p.text, true);
		check_field(p.html, true);
	}
	arena_free(a);
	return 0;
}
