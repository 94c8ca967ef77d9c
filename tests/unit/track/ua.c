/*
 * Tests of src/track/ua.c: conformance with uap-core's own test files (the
 * pass rate of each is printed and held to a floor), ua_describe's classes
 * and cache, hostile rule files and user agents, and the cost of a parse
 * cold and cached (printed, not asserted: see docs/internals/TRACK.md).
 *
 * UA_TEST_VERBOSE=1 prints every miss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <yaml.h>

#include "track/ua.h"

#define UAP "/usr/share/uap-core"

static struct ua_parser *parser;

/* ---- uap-core's test files ------------------------------------------------ */

enum kind { K_UA, K_OS, K_DEVICE };

struct conformance {
	const char *file;
	enum kind kind;
	double floor;      /* pass rate the test holds, in percent */
};

/*
 * The files uap-core's own test.js runs, with the part each checks.
 * pgts_browser_list-orig.yaml is not among them (its families are the
 * pgts list's, not uap-core's answers; transform-pgts_browser_list.pl made
 * pgts_browser_list.yaml from it), nor is it used here.
 */
static const struct conformance files[] = {
	{ UAP "/tests/test_ua.yaml", K_UA, 100.0 },
	{ UAP "/test_resources/firefox_user_agent_strings.yaml", K_UA, 100.0 },
	{ UAP "/test_resources/pgts_browser_list.yaml", K_UA, 100.0 },
	{ UAP "/test_resources/opera_mini_user_agent_strings.yaml", K_UA, 100.0 },
	{ UAP "/test_resources/podcasting_user_agent_strings.yaml", K_UA, 100.0 },
	{ UAP "/tests/test_os.yaml", K_OS, 100.0 },
	{ UAP "/test_resources/additional_os_tests.yaml", K_OS, 100.0 },
	{ UAP "/tests/test_device.yaml", K_DEVICE, 100.0 },
};

static const char *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		if (k->type != YAML_SCALAR_NODE || strcmp((const char *)k->data.scalar.value, key))
			continue;
		if (v->type != YAML_SCALAR_NODE)
			return "";
		/* an empty value (`patch:`) is null: absent, "" in struct ua_result */
		if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (!v->data.scalar.length || !strcmp((const char *)v->data.scalar.value, "~") ||
		     !strcmp((const char *)v->data.scalar.value, "null")))
			return "";
		return (const char *)v->data.scalar.value;
	}
	return "";
}

static bool verbose(void)
{
	const char *v = getenv("UA_TEST_VERBOSE");
	return v && *v && strcmp(v, "0");
}

/* Compares one case; prints the miss. */
static bool check_case(enum kind kind, yaml_document_t *doc, yaml_node_t *tc, const char *ua)
{
	struct ua_result r;
	ua_parse(parser, ua, &r);
	static const char *const ua_keys[] = { "family", "major", "minor", "patch" };
	static const char *const os_keys[] = { "family", "major", "minor", "patch", "patch_minor" };
	static const char *const dev_keys[] = { "family", "brand", "model" };
	const char *const *keys;
	const char *got[5];
	size_t n;
	switch (kind) {
	case K_UA:
		keys = ua_keys, n = 4;
		got[0] = r.ua_family, got[1] = r.ua_major, got[2] = r.ua_minor, got[3] = r.ua_patch;
		break;
	case K_OS:
		keys = os_keys, n = 5;
		got[0] = r.os_family, got[1] = r.os_major, got[2] = r.os_minor, got[3] = r.os_patch;
		got[4] = r.os_patch_minor;
		break;
	default:
		keys = dev_keys, n = 3;
		got[0] = r.device_family, got[1] = r.device_brand, got[2] = r.device_model;
		break;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const char *want = map_get(doc, tc, keys[i]);
		if (strcmp(want, got[i])) {
			if (verbose())
				printf("  miss %s: want \"%s\" got \"%s\" for %s\n", keys[i], want, got[i], ua);
			ok = false;
		}
	}
	return ok;
}

static void run_file(const struct conformance *c, size_t *ret_pass, size_t *ret_total)
{
	FILE *f = fopen(c->file, "rb");
	assert_non_null(f);
	yaml_parser_t y;
	yaml_document_t doc;
	assert_true(yaml_parser_initialize(&y));
	yaml_parser_set_input_file(&y, f);
	assert_true(yaml_parser_load(&y, &doc));
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	assert_non_null(root);
	assert_int_equal(root->type, YAML_MAPPING_NODE);
	yaml_node_t *cases = NULL;
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++)
		if (!strcmp((const char *)yaml_document_get_node(&doc, pr->key)->data.scalar.value, "test_cases"))
			cases = yaml_document_get_node(&doc, pr->value);
	assert_non_null(cases);
	assert_int_equal(cases->type, YAML_SEQUENCE_NODE);

	size_t pass = 0, total = 0;
	for (yaml_node_item_t *it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++) {
		yaml_node_t *tc = yaml_document_get_node(&doc, *it);
		assert_int_equal(tc->type, YAML_MAPPING_NODE);
		const char *ua = map_get(&doc, tc, "user_agent_string");
		total++;
		pass += check_case(c->kind, &doc, tc, ua);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&y);
	fclose(f);
	*ret_pass = pass;
	*ret_total = total;
}

static void test_conformance(void **state)
{
	struct ua_stats st;
	ua_parser_stats(parser, &st);
	printf("  rules: %zu user agent, %zu OS, %zu device; %zu refused by PCRE2\n", st.rules[0], st.rules[1],
	       st.rules[2], st.failed);
	if (st.failed)
		printf("%s", st.failures);
	assert_int_equal(st.failed, 0);
	assert_true(st.rules[0] > 300 && st.rules[1] > 100 && st.rules[2] > 500);

	bool below = false;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		size_t pass, total;
		run_file(&files[i], &pass, &total);
		double rate = total ? 100.0 * (double)pass / (double)total : 0;
		printf("  %-60s %6zu/%-6zu %7.3f%% (floor %.1f%%)\n", files[i].file + strlen(UAP) + 1, pass, total,
		       rate, files[i].floor);
		assert_true(total > 0);
		if (rate < files[i].floor)
			below = true;
	}
	ua_parser_stats(parser, &st);
	printf("  matches stopped by the PCRE2 limits: %llu\n", (unsigned long long)st.limit_hits);
	assert_false(below);
}

/* ---- ua_describe ------------------------------------------------------------ */

struct want {
	const char *ua, *os, *browser, *device;
};

static const struct want wants[] = {
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	  "Chrome/120.0.0.0 Safari/537.36", "Windows 10", "Chrome 120.0", "pc" },
	{ "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	  "Version/17.1 Mobile/15E148 Safari/604.1", "iOS 17.1", "Mobile Safari 17.1", "smartphone" },
	{ "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	  "Version/17.1 Safari/605.1.15", "Mac OS X 10.15", "Safari 17.1", "pc" },
	{ "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	  "Version/17.1 Mobile/15E148 Safari/604.1", "iOS 17.1", "Mobile Safari 17.1", "tablet" },
	{ "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
	  "Chrome/120.0.6099.144 Mobile Safari/537.36", "Android 14", "Chrome Mobile 120.0", "smartphone" },
	{ "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
	  "Chrome/120.0.6099.144 Safari/537.36", "Android 13", "Chrome 120.0", "tablet" },
	{ "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Linux", "Firefox 121.0", "pc" },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	  "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Windows 10", "Edge 120.0", "pc" },
	{ "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", NULL, "Googlebot 2.1", "bot" },
	{ "curl/8.4.0", NULL, "curl 8.4", "bot" },
	{ "python-requests/2.31.0", NULL, "Python Requests 2.31", "bot" },
	{ "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
	  "Safari/537.36", "Linux", "HeadlessChrome 120.0", "bot" },
	{ "WhatsApp/2.23.20.0", NULL, "WhatsApp 2.23", "bot" },
	/* Word fetching an attachment's linked image: a person opened the file */
	{ "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Word 16.0.17029; Pro)", "Windows 10", NULL, "pc" },
	{ "something nobody knows", NULL, NULL, "pc" },
};

static void expect_str(const char *want, const char *got, const char *ua)
{
	if (!want) {
		if (got)
			printf("  want NULL, got \"%s\" for %s\n", got, ua);
		assert_null(got);
		return;
	}
	if (!got || strcmp(want, got))
		printf("  want \"%s\", got \"%s\" for %s\n", want, got ? got : "(null)", ua);
	assert_non_null(got);
	assert_string_equal(want, got);
}

static void test_describe(void **state)
{
	struct arena *a = arena_new(1 << 20);
	for (size_t round = 0; round < 2; round++) /* the second round comes from the cache */
		for (size_t i = 0; i < ARRAY_SIZE(wants); i++) {
			struct ua_info in;
			ua_describe(parser, wants[i].ua, a, &in);
			expect_str(wants[i].os, in.os, wants[i].ua);
			expect_str(wants[i].browser, in.browser, wants[i].ua);
			expect_str(wants[i].device, in.device, wants[i].ua);
			assert_int_equal(in.bot, !strcmp(wants[i].device, "bot"));
		}

	struct ua_info in;
	ua_describe(parser, NULL, a, &in);
	assert_null(in.os), assert_null(in.browser), assert_null(in.device), assert_false(in.bot);
	ua_describe(parser, "", a, &in);
	assert_null(in.os), assert_null(in.browser), assert_null(in.device);
	ua_describe(NULL, wants[0].ua, a, &in);
	assert_null(in.os), assert_null(in.browser), assert_null(in.device);
	arena_free(a);
}

static void test_cache_counts(void **state)
{
	char *err = NULL;
	struct ua_parser *p = ua_parser_new(UAP "/regexes.yaml", &err);
	assert_non_null(p);
	struct arena *a = arena_new(1 << 20);
	struct ua_info one, two;
	ua_describe(p, wants[1].ua, a, &one);
	ua_describe(p, wants[1].ua, a, &two);
	struct ua_stats st;
	ua_parser_stats(p, &st);
	assert_int_equal(st.cache_misses, 1);
	assert_int_equal(st.cache_hits, 1);
	assert_string_equal(one.os, two.os);
	assert_string_equal(one.browser, two.browser);
	assert_ptr_equal(one.device, two.device);
	arena_free(a);
	ua_parser_free(p);
}

/* A user agent past 512 bytes is read as its first 512 (never a cut
 * UTF-8 sequence), and what comes back is valid UTF-8. */
static void test_long_and_odd(void **state)
{
	struct arena *a = arena_new(1 << 20);
	char big[2000];
	size_t n = strlen(wants[0].ua);
	memcpy(big, wants[0].ua, n);
	memset(big + n, 'A', sizeof(big) - n - 1);
	big[sizeof(big) - 1] = '\0';
	struct ua_info in;
	ua_describe(parser, big, a, &in);
	assert_string_equal(in.browser, "Chrome 120.0");

	/* a family that a group copies: the name is cut on a character */
	char fam[600];
	size_t o = 0;
	while (o + 3 < 70)
		memcpy(fam + o, "\xe3\x81\x82", 3), o += 3;
	memcpy(fam + o, "Bot/1.0", 8);
	struct ua_result r;
	ua_parse(parser, fam, &r);
	assert_true(utf8_valid(r.ua_family, strlen(r.ua_family)));
	ua_describe(parser, fam, a, &in);
	assert_string_equal(in.device, "bot");
	if (in.browser)
		assert_true(utf8_valid(in.browser, strlen(in.browser)));

	/* invalid bytes do not upset matching */
	ua_parse(parser, "Mozilla/5.0 (\xff\xfe; Windows NT 10.0) \xc3", &r);
	assert_string_equal(r.os_family, "Windows");

	/* a pathological agent against every rule: bounded, and answered */
	char bad[513];
	for (size_t i = 0; i < 512; i++)
		bad[i] = "(;/ .0aZ"[i % 8];
	bad[512] = '\0';
	ua_parse(parser, bad, &r);
	assert_true(r.ua_family[0] != '\0');
	arena_free(a);
}

/* ---- rule files -------------------------------------------------------------- */

static struct ua_parser *from_text(const char *text, char **ret_err)
{
	*ret_err = NULL;
	return ua__parser_from_text("t.yaml", text, strlen(text), ret_err);
}

static void expect_error(const char *text, const char *want)
{
	char *err;
	struct ua_parser *p = from_text(text, &err);
	assert_null(p);
	assert_non_null(err);
	if (!strstr(err, want))
		printf("  error \"%s\" lacks \"%s\"\n", err, want);
	assert_non_null(strstr(err, want));
	free(err);
}

static void test_rule_files(void **state)
{
	char *err;
	/* replacements, $N, trimming, empty as absent, regex_flag, a bad rule */
	const char *ok =
		"user_agent_parsers:\n"
		"  - regex: '(Foo)Bar/(\\d+)\\.(\\d+)'\n"
		"    family_replacement: '$1 Browser'\n"
		"    v2_replacement: 'x'\n"
		"  - regex: 'broken(('\n"
		"    family_replacement: 'never'\n"
		"  - regex: '(Empty)()/'\n"
		"os_parsers:\n"
		"  - regex: 'Sys (\\d+)\\.(\\d+)\\Z'\n"
		"    os_replacement: '  System  '\n"
		"    os_v1_replacement: '$2'\n"
		"    os_v2_replacement: '$1$9'\n"
		"device_parsers:\n"
		"  - regex: '; *(gadget)-(\\w+)'\n"
		"    regex_flag: 'i'\n"
		"    device_replacement: '$1 $2'\n"
		"    brand_replacement: 'Maker'\n"
		"  - regex: 'Phone-(\\w+)'\n"
		"    device_replacement: ''\n"
		"extra_section: [1, 2, {a: b}]\n";
	struct ua_parser *p = from_text(ok, &err);
	if (!p)
		printf("  %s\n", err);
	assert_non_null(p);
	struct ua_stats st;
	ua_parser_stats(p, &st);
	assert_int_equal(st.rules[0], 2);
	assert_int_equal(st.rules[1], 1);
	assert_int_equal(st.rules[2], 2);
	assert_int_equal(st.failed, 1);
	assert_non_null(strstr(st.failures, "line 5:"));

	struct ua_result r;
	ua_parse(p, "FooBar/12.34; GADGET-x1 Sys 7.8", &r);
	assert_string_equal(r.ua_family, "Foo Browser");
	assert_string_equal(r.ua_major, "12");
	assert_string_equal(r.ua_minor, "x");
	assert_string_equal(r.ua_patch, "");
	assert_string_equal(r.os_family, "System");
	assert_string_equal(r.os_major, "8");
	assert_string_equal(r.os_minor, "7");
	assert_string_equal(r.device_family, "GADGET x1");
	assert_string_equal(r.device_brand, "Maker");
	assert_string_equal(r.device_model, "GADGET");
	/* \Z is Python's: the very end, not before a final newline */
	ua_parse(p, "Sys 7.8\n", &r);
	assert_string_equal(r.os_family, "Other");
	/* an empty group is absent; an empty device family is "Other" */
	ua_parse(p, "Empty/ Phone-z", &r);
	assert_string_equal(r.ua_family, "Empty");
	assert_string_equal(r.ua_major, "");
	assert_string_equal(r.device_family, "Other");
	assert_string_equal(r.device_model, "z");
	ua_parser_free(p);

	expect_error("", "expected");
	expect_error("user_agent_parsers: []\nos_parsers: []\n", "no device_parsers section");
	expect_error("user_agent_parsers: []\nos_parsers: []\ndevice_parsers:\n  - regex_flag: 'i'\n",
		     "t.yaml:4: a rule without regex");
	expect_error("user_agent_parsers: [1]\n", "t.yaml:1: expected a rule");
	expect_error("user_agent_parsers:\n  - regex: [a]\n", "t.yaml:2: expected a string value");
	expect_error("user_agent_parsers:\n  - regex: a\n    regex: b\n", "regex given twice");
	expect_error("user_agent_parsers: [\n", "t.yaml:");
	expect_error("user_agent_parsers: []\nuser_agent_parsers: []\n", "section given twice");
	p = ua_parser_new("/nonexistent/regexes.yaml", &err);
	assert_null(p);
	assert_non_null(strstr(err, "/nonexistent/regexes.yaml"));
	free(err);
	ua_parser_free(NULL);
}

/* ---- threads ------------------------------------------------------------------ */

struct worker {
	struct ua_parser *p;
	const char *const *uas;
	size_t n;
	const struct ua_info *want;
	bool ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct arena *a = arena_new(8 << 20);
	w->ok = true;
	for (size_t round = 0; round < 3; round++)
		for (size_t i = 0; i < w->n; i++) {
			struct ua_info in;
			ua_describe(w->p, w->uas[i], a, &in);
			const struct ua_info *x = &w->want[i];
			if ((!x->os) != (!in.os) || (x->os && strcmp(x->os, in.os)) ||
			    (!x->browser) != (!in.browser) || (x->browser && strcmp(x->browser, in.browser)) ||
			    strcmp(x->device, in.device))
				w->ok = false;
		}
	arena_free(a);
	return NULL;
}

/* Agents of uap-core's tests, read crudely (one per line, quoted). */
static char **read_agents(const char *file, size_t max, size_t *ret_n)
{
	FILE *f = fopen(file, "rb");
	assert_non_null(f);
	char line[4096];
	size_t n = 0, cap = 0;
	char **uas = NULL;
	while (n < max && fgets(line, sizeof(line), f)) {
		const char *k = strstr(line, "user_agent_string: '");
		if (!k)
			continue;
		k += strlen("user_agent_string: '");
		char *e = strrchr(k, '\'');
		if (!e)
			continue;
		if (n == cap)
			cap = cap ? cap * 2 : 256, uas = xrealloc(uas, cap * sizeof(*uas));
		uas[n++] = xstrndup(k, (size_t)(e - k));
	}
	fclose(f);
	*ret_n = n;
	return uas;
}

static void free_agents(char **uas, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(uas[i]);
	free(uas);
}

/* Four threads on a fresh parser: they race on misses, inserts and
 * evictions (3,000 agents for 2,048 slots), and every answer must equal
 * the one a parser of its own gave. */
static void test_threads(void **state)
{
	size_t n;
	char **uas = read_agents(UAP "/tests/test_device.yaml", 3000, &n);
	assert_true(n == 3000);
	struct ua_info *want = xcalloc(n, sizeof(*want));
	struct arena *a = arena_new(8 << 20);
	for (size_t i = 0; i < n; i++)
		ua_describe(parser, uas[i], a, &want[i]);
	char *err = NULL;
	struct ua_parser *p = ua_parser_new(UAP "/regexes.yaml", &err);
	assert_non_null(p);
	pthread_t th[4];
	struct worker w[4];
	for (size_t i = 0; i < 4; i++) {
		w[i] = (struct worker){ p, (const char *const *)uas, n, want, false };
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].ok);
	}
	struct ua_stats st;
	ua_parser_stats(p, &st);
	printf("  4 threads: %llu hits, %llu misses\n", (unsigned long long)st.cache_hits,
	       (unsigned long long)st.cache_misses);
	ua_parser_free(p);
	arena_free(a);
	free(want);
	free_agents(uas, n);
}

/* ---- cost ---------------------------------------------------------------------- */

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The agents of test_ua.yaml, parsed once each (cold) and then described
 * again from the cache.  Printed for TRACK.md, never asserted. */
static void test_cost(void **state)
{
	size_t n;
	char **uas = read_agents(UAP "/tests/test_ua.yaml", SIZE_MAX, &n);
	assert_true(n > 100);

	char *err = NULL;
	double t0 = seconds();
	struct ua_parser *p = ua_parser_new(UAP "/regexes.yaml", &err);
	double t_load = seconds() - t0;
	assert_non_null(p);
	struct arena *a = arena_new(64 << 20);
	struct ua_info in;
	t0 = seconds();
	for (size_t i = 0; i < n; i++)
		ua_describe(p, uas[i], a, &in);
	double t_cold = seconds() - t0;
	/* 512 agents: a warm-up round (the cold pass evicted some of them),
	 * then 20 rounds from the cache */
	size_t hot = n < 512 ? n : 512, cached = 0;
	for (size_t i = 0; i < hot; i++)
		ua_describe(p, uas[i], a, &in);
	struct ua_stats st0, st;
	ua_parser_stats(p, &st0);
	t0 = seconds();
	for (size_t r = 0; r < 20; r++)
		for (size_t i = 0; i < hot; i++, cached++)
			ua_describe(p, uas[i], a, &in);
	double t_hot = seconds() - t0;
	ua_parser_stats(p, &st);
	printf("  load+compile %.0f ms; cold %.1f us/agent (%zu agents); cached %.2f us/agent "
	       "(%zu lookups, %llu hits); ratio %.0fx\n",
	       t_load * 1e3, t_cold / (double)n * 1e6, n, t_hot / (double)cached * 1e6, cached,
	       (unsigned long long)(st.cache_hits - st0.cache_hits), (t_cold / (double)n) / (t_hot / (double)cached));
	assert_true(st.cache_hits > st0.cache_hits);
	arena_free(a);
	ua_parser_free(p);
	free_agents(uas, n);
}

static int setup(void **state)
{
	char *err = NULL;
	parser = ua_parser_new(UAP "/regexes.yaml", &err);
	if (!parser) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	ua_parser_free(parser);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conformance),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_cache_counts),
		cmocka_unit_test(test_long_and_odd),
		cmocka_unit_test(test_rule_files),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_cost),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
