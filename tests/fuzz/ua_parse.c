/*
 * Fuzz target for src/track/ua.c.
 *
 * Input: a user agent, parsed with uap-core's real rules
 * (/usr/share/uap-core/regexes.yaml, loaded once) and described twice (the
 * second answer comes from the cache).  When byte 0 is 0x01 the rest is a
 * rules file instead: it is loaded, and any parser it makes is run over a
 * few agents and over the text itself.
 *
 * Invariants: families are never empty, every field is a C string within
 * its array, the description's strings are valid UTF-8, the device class is
 * one of the four and bot exactly when it is "bot", the cached answer equals
 * the first, and a rules file is either a parser or an error message.
 */
#include "track/ua.h"

static struct ua_parser *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *err = NULL;
	rules = ua_parser_new("/usr/share/uap-core/regexes.yaml", &err);
	if (!rules) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return 0;
}

#define FIELD_OK(f) BUG_ON(strnlen((f), sizeof(f)) >= sizeof(f))

static void check_result(const struct ua_result *r)
{
	FIELD_OK(r->ua_family);
	FIELD_OK(r->ua_major);
	FIELD_OK(r->ua_minor);
	FIELD_OK(r->ua_patch);
	FIELD_OK(r->os_family);
	FIELD_OK(r->os_major);
	FIELD_OK(r->os_minor);
	FIELD_OK(r->os_patch);
	FIELD_OK(r->os_patch_minor);
	FIELD_OK(r->device_family);
	FIELD_OK(r->device_brand);
	FIELD_OK(r->device_model);
	BUG_ON(!r->ua_family[0] || !r->os_family[0] || !r->device_family[0]);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_agent(struct ua_parser *p, const char *ua, struct arena *a)
{
	struct ua_result r;
	ua_parse(p, ua, &r);
	check_result(&r);

	struct ua_info one, two;
	ua_describe(p, ua, a, &one);
	ua_describe(p, ua, a, &two);
	if (!ua[0]) {
		BUG_ON(one.os || one.browser || one.device || one.bot);
		return;
	}
	BUG_ON(!one.device);
	BUG_ON(strcmp(one.device, "pc") && strcmp(one.device, "smartphone") && strcmp(one.device, "tablet") &&
	       strcmp(one.device, "bot"));
	BUG_ON(one.bot != !strcmp(one.device, "bot"));
	BUG_ON(one.os && !utf8_valid(one.os, strlen(one.os)));
	BUG_ON(one.browser && !utf8_valid(one.browser, strlen(one.browser)));
	if (arena_failed(a))
		return;
	BUG_ON(!same(one.os, two.os) || !same(one.browser, two.browser) || !same(one.device, two.device) ||
	       one.bot != two.bot);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(1 << 20);
	if (size && data[0] == 0x01) {
		char *err = NULL;
		struct ua_parser *p = ua__parser_from_text("fuzz.yaml", (const char *)data + 1, size - 1, &err);
		BUG_ON(!p == !err);
		if (p) {
			_cleanup_free_ char *text = xstrndup((const char *)data + 1, size - 1);
			check_agent(p, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36", a);
			check_agent(p, "FooBar/1.2 (Sys 3.4; gadget-x)", a);
			check_agent(p, text, a);
			struct ua_stats st;
			ua_parser_stats(p, &st);
			BUG_ON(!st.failures || (st.failed && !st.failures[0]));
		}
		free(err);
		ua_parser_free(p);
	} else {
		_cleanup_free_ char *ua = xstrndup((const char *)data, size);
		check_agent(rules, ua, a);
	}
	arena_free(a);
	return 0;
}
