/* Unit tests for src/content/gallery.c: the embedded gallery and the
 * scenario folder parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <strings.h>

#include "content/content.h"

/* ---- the embedded gallery ---- */

#define LOADERS 8

static void *load_thread(void *arg)
{
	char *err = NULL;
	int *ret = arg;
	*ret = content_gallery_load(&err);
	free(err);
	return NULL;
}

/* Runs first, so the threads race for the very first load. */
static void test_load_concurrently(void **state)
{
	pthread_t t[LOADERS];
	int results[LOADERS];
	for (int i = 0; i < LOADERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, load_thread, &results[i]), 0);
	for (int i = 0; i < LOADERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < LOADERS; i++)
		assert_int_equal(results[i], results[0]);
	assert_true(results[0] >= 3);
}

static void test_load_idempotent(void **state)
{
	char *err = NULL;
	int n = content_gallery_load(&err);
	if (n < 0)
		fail_msg("gallery: %s", err);
	assert_null(err);
	assert_int_equal(content_gallery_count(), (size_t)n);
	const struct scenario *first = content_gallery_at(0);
	assert_int_equal(content_gallery_load(&err), n);
	assert_ptr_equal(content_gallery_at(0), first);
	assert_null(content_gallery_at((size_t)n));
}

static void test_sorted_and_findable(void **state)
{
	size_t n = content_gallery_count();
	for (size_t i = 0; i < n; i++) {
		const struct scenario *s = content_gallery_at(i);
		if (i)
			assert_true(strcmp(content_gallery_at(i - 1)->id, s->id) < 0);
		assert_ptr_equal(content_gallery_find(s->id), s);
	}
	assert_null(content_gallery_find("no-such-scenario"));
	assert_null(content_gallery_find(""));
}

struct expect {
	const char *id, *genre, *level, *domain;
};

static void test_first_three(void **state)
{
	static const struct expect want[] = {
		{ "ja-parcel-redelivery", "通知系", "初級", "yamaneko-haisou-info.example" },
		{ "ja-password-expiry", "社内業務連絡", "中級", "kunren-sys.example" },
		{ "ja-invoice-change", "社外/取引先", "上級", "midori-seiki-jp.example" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct scenario *s = content_gallery_find(want[i].id);
		if (!s)
			fail_msg("scenario %s is not in the gallery", want[i].id);
		assert_string_equal(s->genre, want[i].genre);
		assert_string_equal(s->level, want[i].level);
		assert_string_equal(s->type, "URLリンク型");
		assert_string_equal(s->lang, "ja");
		assert_string_equal(s->sender_domain, want[i].domain);
		assert_non_null(s->landing_html);
		assert_non_null(s->explain_html);
		assert_int_equal(s->nred_flags, 5);
		assert_non_null(strstr(s->html, "{{姓}}"));
		assert_non_null(strstr(s->text, "{{姓}}"));
		assert_non_null(strstr(s->explain_html, "{{姓}}"));
	}
	const struct scenario *s = content_gallery_find("ja-invoice-change");
	assert_non_null(strstr(s->html, "{{部署}}"));
	assert_non_null(strstr(s->html, "{{姓}} 様"));
	s = content_gallery_find("ja-password-expiry");
	assert_non_null(strstr(s->landing_html, "name=\"userid\""));
	assert_non_null(strstr(s->landing_html, "name=\"password\""));
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* A self-contained page: no script, nothing fetched from elsewhere. */
static void assert_self_contained(const char *id, const char *file, const char *html)
{
	static const char *const banned[] = { "<script", "src=\"http", "src='http", "url(http",
					      "@import", "<link", "<iframe", NULL };
	for (size_t i = 0; banned[i]; i++)
		if (contains_nocase(html, banned[i]))
			fail_msg("%s/%s contains %s", id, file, banned[i]);
	if (!contains_nocase(html, "<!DOCTYPE html>") || !contains_nocase(html, "charset=\"utf-8\""))
		fail_msg("%s/%s is not a complete UTF-8 HTML page", id, file);
}

/* The first <form ...> tag has method="post" and action="{{URL}}". */
static bool form_posts_to_url(const char *html)
{
	const char *form = strstr(html, "<form ");
	const char *end = form ? strchr(form, '>') : NULL;
	if (!end)
		return false;
	_cleanup_free_ char *tag = xstrndup(form, (size_t)(end - form));
	return strstr(tag, " method=\"post\"") && strstr(tag, " action=\"{{URL}}\"");
}

/* Rules of docs/SCENARIOS.md that every gallery scenario must keep. */
static void test_every_scenario_keeps_the_rules(void **state)
{
	struct merge_vars vars = { .v = {
		[MF_LAST_NAME] = "山田", [MF_FIRST_NAME] = "花子", [MF_EMAIL] = "h@example.jp",
		[MF_DEPARTMENT] = "総務部", [MF_URL] = "https://t.example/c/RID",
		[MF_SENDER_NAME] = "送信者", [MF_SENDER_EMAIL] = "s@x.example",
		[MF_SEND_DATE] = "2026年11月27日",
	} };
	for (size_t i = 0; i < content_gallery_count(); i++) {
		const struct scenario *s = content_gallery_at(i);
		size_t dlen = strlen(s->sender_domain);
		if (dlen < 8 || strcmp(s->sender_domain + dlen - 8, ".example") != 0)
			fail_msg("%s: sender domain %s is not under .example", s->id, s->sender_domain);
		/* greeted by name, in whichever spelling of the field ({{名}}, {{first_name}}) */
		if (!content_template_uses(slice_from(s->html), MF_FIRST_NAME) ||
		    !content_template_uses(slice_from(s->text), MF_FIRST_NAME))
			fail_msg("%s: the mail does not greet by first name ({{名}})", s->id);
		assert_self_contained(s->id, "explain.html", s->explain_html);
		assert_true(contains_nocase(s->explain_html, "これは訓練メールです"));
		if (s->landing_html) {
			assert_self_contained(s->id, "landing.html", s->landing_html);
			if (!form_posts_to_url(s->landing_html))
				fail_msg("%s: landing form does not post to {{URL}}", s->id);
		}
		/* The explanation lists this mail's red flags word for word. */
		for (size_t k = 0; k < s->nred_flags; k++) {
			struct buf esc;
			buf_init(&esc, 0);
			buf_put_html(&esc, slice_from(s->red_flags[k].text));
			if (!strstr(s->explain_html, esc.p))
				fail_msg("%s: explain.html lacks red flag %zu", s->id, k);
			buf_release(&esc);
		}
		/* Everything renders, and the tracked mail has its link rewritten. */
		struct buf out;
		buf_init(&out, 0);
		assert_int_equal(content_render(&out, slice_from(s->subject), CONTENT_HEADER, &vars), 0);
		buf_reset(&out);
		assert_int_equal(content_render(&out, slice_from(s->html), CONTENT_HTML, &vars), 0);
		struct buf tracked;
		buf_init(&tracked, 0);
		assert_int_equal(content_html_track(&tracked, buf_slice(&out), "https://t.example/c/X",
						    "https://t.example/o/X.gif"), 0);
		/* an attachment-only mail has the file instead of a link */
		bool link = strcmp(s->type, "添付ファイル型") != 0;
		if (link)
			assert_non_null(strstr(tracked.p, "href=\"https://t.example/c/X?l=1."));
		assert_non_null(strstr(tracked.p, "<img src=\"https://t.example/o/X.gif\""));
		assert_null(strstr(tracked.p, "{{"));
		buf_release(&tracked);
		buf_reset(&out);
		assert_int_equal(content_render(&out, slice_from(s->text), CONTENT_TEXT, &vars), 0);
		if (link)
			assert_non_null(strstr(out.p, "https://t.example/c/RID"));
		buf_reset(&out);
		assert_int_equal(content_render(&out, slice_from(s->explain_html), CONTENT_HTML, &vars), 0);
		/* the explanation addresses the person by name (in either order) */
		if (!strstr(out.p, "花子"))
			fail_msg("%s: explain.html does not address the person by name", s->id);
		buf_release(&out);
	}
}

/* ---- content_scenario_parse on files given by a test ---- */

struct folder {
	const char *names[8];
	const char *data[8];
	int fail_with;   /* returned for every file when non-zero */
};

static int folder_read(void *ctx, const char *name, struct slice *ret)
{
	struct folder *f = ctx;
	if (f->fail_with)
		return f->fail_with;
	for (size_t i = 0; i < ARRAY_SIZE(f->names) && f->names[i]; i++) {
		if (strcmp(f->names[i], name) == 0) {
			*ret = slice_from(f->data[i]);
			return 0;
		}
	}
	return -ENOENT;
}

static const char good_json[] =
	"{\"name\": \"テスト\", \"description\": \"説明\", \"genre\": \"その他\","
	" \"type\": \"URLリンク型\", \"level\": \"初級\", \"lang\": \"en\","
	" \"subject\": \"Hello {{first_name}}\","
	" \"sender\": {\"name\": \"IT\", \"local\": \"it.desk\", \"domain\": \"x.example\"},"
	" \"red_flags\": [{\"part\": \"sender\", \"text\": \"a\"}, {\"part\": \"link\", \"text\": \"b\"}]}";

/* A valid folder whose scenario.json is `json` and whose `file` (if any)
 * holds `data` instead of the default. */
static struct folder folder_with(const char *json, const char *file, const char *data)
{
	struct folder f = {
		.names = { "scenario.json", "mail.html", "mail.txt", "explain.html", "landing.html" },
		.data = { json, "<p>{{姓}} <a href=\"{{URL}}\">x</a></p>", "{{姓}} {{URL}}",
			  "<p>drill {{名}}</p>", "<form method=\"post\" action=\"{{URL}}\"></form>" },
	};
	for (size_t i = 0; file && i < ARRAY_SIZE(f.names) && f.names[i]; i++)
		if (strcmp(f.names[i], file) == 0)
			f.data[i] = data;
	return f;
}

/* scenario.json with one member replaced (value is JSON text) or removed (NULL). */
static char *json_with(const char *path, const char *value)
{
	json_t *root = json_loads(good_json, 0, NULL);
	json_t *obj = root;
	char key[64];
	const char *dot = strchr(path, '.');
	assert_non_null(root);
	if (dot) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		obj = json_object_get(root, key);
		path = dot + 1;
	}
	if (value)
		json_object_set_new(obj, path, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_del(obj, path);
	char *s = json_dumps(root, 0);
	json_decref(root);
	return s;
}

/* Every http(s) address written in a text part also stands in its HTML
 * part: the two parts send the reader to the same places. */
static void assert_text_links_in_html(const struct scenario *s)
{
	for (const char *p = s->text; (p = strstr(p, "http")); p++) {
		if (strncmp(p, "http://", 7) && strncmp(p, "https://", 8))
			continue;
		size_t n = strcspn(p, " \t\r\n）)」>\"'");
		char *url = xstrndup(p, n);
		if (!strstr(s->html, url))
			fail_msg("%s: the text part links to %s, the HTML part does not", s->id, url);
		free(url);
	}
}

static void test_the_gallery_as_a_whole(void **state)
{
	char *err = NULL;
	assert_true(content_gallery_load(&err) > 0);
	size_t n = content_gallery_count();
	static const char *const genres[] = { "社内業務連絡", "社外/取引先", "外部組織", "通知系", "その他" };
	static const char *const levels[] = { "初級", "中級", "上級" };
	static const char *const langs[] = { "ja", "en" };
	for (size_t i = 0; i < n; i++) {
		const struct scenario *a = content_gallery_at(i);
		assert_text_links_in_html(a);
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(a->name, content_gallery_at(j)->name))
				fail_msg("%s and %s have the same name", a->id, content_gallery_at(j)->id);
	}
	/* each genre at each level, in both languages (types: issue 4 adds the
	 * attachment scenarios and then this covers them too) */
	for (size_t l = 0; l < ARRAY_SIZE(langs); l++)
		for (size_t g = 0; g < ARRAY_SIZE(genres); g++)
			for (size_t v = 0; v < ARRAY_SIZE(levels); v++) {
				bool found = false;
				for (size_t i = 0; i < n && !found; i++) {
					const struct scenario *s = content_gallery_at(i);
					found = !strcmp(s->lang, langs[l]) && !strcmp(s->genre, genres[g]) &&
						!strcmp(s->level, levels[v]);
				}
				if (!found)
					fail_msg("no %s scenario for %s / %s", langs[l], genres[g], levels[v]);
			}
}

static void test_parse_good(void **state)
{
	struct folder f = folder_with(good_json, NULL, NULL);
	struct scenario *s = NULL;
	char *err = NULL;
	assert_int_equal(content_scenario_parse("en-test", folder_read, &f, &s, &err), 0);
	assert_null(err);
	assert_string_equal(s->id, "en-test");
	assert_string_equal(s->name, "テスト");
	assert_string_equal(s->subject, "Hello {{first_name}}");
	assert_string_equal(s->sender_local, "it.desk");
	assert_int_equal(s->nred_flags, 2);
	assert_string_equal(s->red_flags[1].part, "link");
	assert_string_equal(s->landing_html, "<form method=\"post\" action=\"{{URL}}\"></form>");
	content_scenario_free(s);

	/* landing.html is optional. */
	f.names[4] = NULL;
	assert_int_equal(content_scenario_parse("en-test", folder_read, &f, &s, &err), 0);
	assert_null(s->landing_html);
	content_scenario_free(s);
	content_scenario_free(NULL);
}

/* Parses the folder and expects an error naming the id and each string. */
static void assert_broken(struct folder *f, const char *id, const char *const *want)
{
	struct scenario *s = (struct scenario *)&s; /* must stay untouched */
	struct scenario *const sentinel = s;
	_cleanup_free_ char *err = NULL;
	assert_int_equal(content_scenario_parse(id, folder_read, f, &s, &err), -EINVAL);
	assert_ptr_equal(s, sentinel);
	assert_non_null(err);
	if (!strstr(err, id))
		fail_msg("error \"%s\" does not name the scenario", err);
	for (; *want; want++)
		if (!strstr(err, *want))
			fail_msg("error \"%s\" lacks \"%s\"", err, *want);
	/* Without ret_err the error is not reported and nothing leaks. */
	assert_int_equal(content_scenario_parse(id, folder_read, f, &s, NULL), -EINVAL);
}

#define BROKEN_FILE(file, data, ...) do { \
	struct folder f_ = folder_with(good_json, file, data); \
	assert_broken(&f_, "ja-broken", (const char *const[]){ __VA_ARGS__, NULL }); \
} while (0)

#define BROKEN_JSON(path, value, ...) do { \
	_cleanup_free_ char *j_ = json_with(path, value); \
	struct folder f_ = folder_with(j_, NULL, NULL); \
	assert_broken(&f_, "ja-broken", (const char *const[]){ __VA_ARGS__, NULL }); \
} while (0)

static void test_parse_broken_json(void **state)
{
	BROKEN_JSON("genre", "\"社内\"", "scenario.json", "\"genre\"", "通知系");
	BROKEN_JSON("type", "\"リンク型\"", "\"type\"", "複合型");
	BROKEN_JSON("level", "\"超級\"", "\"level\"", "上級");
	BROKEN_JSON("lang", "\"fr\"", "\"lang\"");
	BROKEN_JSON("name", NULL, "\"name\" is required");
	BROKEN_JSON("name", "\"  \"", "\"name\" must not be empty");
	BROKEN_JSON("description", "42", "\"description\" must be a string");
	BROKEN_JSON("subject", "\"a\\r\\nBcc: x\"", "\"subject\"", "control");
	BROKEN_JSON("subject", "\"Hi {{nick}}\"", "\"subject\"", "nick", "byte 3");
	BROKEN_JSON("colour", "\"red\"", "unknown key \"colour\"");
	BROKEN_JSON("sender", "\"it@x.example\"", "\"sender\"");
	BROKEN_JSON("sender.local", "\"a..b\"", "\"sender.local\"");
	BROKEN_JSON("sender.domain", "\"localhost\"", "\"sender.domain\"");
	BROKEN_JSON("sender.domain", "\"-x.example\"", "\"sender.domain\"");
	BROKEN_JSON("sender.name", NULL, "\"sender.name\" is required");
	BROKEN_JSON("sender.reply_to", "\"x\"", "unknown key \"sender.reply_to\"");
	BROKEN_JSON("red_flags", "[{\"part\": \"body\", \"text\": \"x\"}]", "\"red_flags\"", "2 to 5");
	BROKEN_JSON("red_flags", "[{\"part\":\"body\",\"text\":\"1\"},{\"part\":\"body\",\"text\":\"2\"},"
		    "{\"part\":\"body\",\"text\":\"3\"},{\"part\":\"body\",\"text\":\"4\"},"
		    "{\"part\":\"body\",\"text\":\"5\"},{\"part\":\"body\",\"text\":\"6\"}]",
		    "\"red_flags\"");
	BROKEN_JSON("red_flags", "[{\"part\": \"body\", \"text\": \"x\"}, {\"part\": \"footer\", \"text\": \"y\"}]",
		    "\"red_flags[1].part\"", "attachment");
	BROKEN_JSON("red_flags", "[{\"part\": \"body\", \"text\": \"x\"}, {\"part\": \"body\"}]",
		    "\"red_flags[1].text\" is required");
	BROKEN_JSON("red_flags", "[{\"part\": \"body\", \"text\": \"x\"}, 3]", "\"red_flags[1]\"");
	BROKEN_JSON("red_flags", "[{\"part\": \"body\", \"text\": \"x\", \"why\": 1}, {\"part\": \"body\", \"text\": \"y\"}]",
		    "unknown key \"red_flags[0].why\"");
}

static void test_parse_broken_files(void **state)
{
	BROKEN_FILE("scenario.json", "{\"name\": ", "scenario.json", "line 1");
	BROKEN_FILE("scenario.json", "[1, 2]", "scenario.json", "object");
	BROKEN_FILE("scenario.json", "{\"name\": \"a\", \"name\": \"b\"}", "scenario.json", "duplicate");
	BROKEN_FILE("mail.html", "<p>{{姓}} {{URL}} {{ ニックネーム }}</p>", "mail.html", "ニックネーム", "byte 19");
	BROKEN_FILE("mail.txt", "{{URL}} {{姓", "mail.txt", "not closed");
	BROKEN_FILE("explain.html", "\xff", "explain.html", "UTF-8");
	BROKEN_FILE("landing.html", "<form {{x}}>", "landing.html", "\"x\"");
	BROKEN_FILE("explain.html", "  \n", "explain.html", "empty");
	BROKEN_FILE("mail.html", "<p>{{姓}} no link</p>", "mail.html", "{{URL}}");
	BROKEN_FILE("mail.txt", "{{姓}} no link", "mail.txt", "{{URL}}");
	BROKEN_FILE("landing.html", "<form method=\"post\" action=\"/x\"></form>", "landing.html", "{{URL}}");

	struct folder f = folder_with(good_json, NULL, NULL);
	f.names[3] = "explain.htm";
	assert_broken(&f, "ja-broken", (const char *const[]){ "explain.html", "missing", NULL });
	f = folder_with(good_json, NULL, NULL);
	f.names[0] = "scenario.yaml";
	assert_broken(&f, "ja-broken", (const char *const[]){ "scenario.json", "missing", NULL });
	f.fail_with = -EIO;
	assert_broken(&f, "ja-broken", (const char *const[]){ "cannot be read", NULL });
}

static void test_parse_bad_id(void **state)
{
	struct folder f = folder_with(good_json, NULL, NULL);
	assert_broken(&f, "Bad_ID", (const char *const[]){ "folder name", NULL });
	assert_broken(&f, "-x", (const char *const[]){ "folder name", NULL });
}

/* An attachment type declares its file and needs no link; a link type
 * must not declare one; a password zip puts {{パスワード}} in the mail. */
static void test_attachment_type_needs_no_link(void **state)
{
	static const char *const att =
		"{\"kind\": \"pdf\", \"filename\": \"請求書_{{姓}}.pdf\", \"title\": \"請求書\", "
		"\"body\": [\"下記のとおりご請求申し上げます。\"], \"archive\": \"zip\"}";
	_cleanup_free_ char *typed = json_with("type", "\"添付ファイル型\"");
	json_t *root = json_loads(typed, 0, NULL);
	json_object_set_new(root, "attachment", json_loads(att, 0, NULL));
	_cleanup_free_ char *j = json_dumps(root, 0);
	json_decref(root);
	struct folder f = folder_with(j, "mail.html", "<p>{{姓}} 添付をご確認ください</p>");
	struct scenario *s;
	char *err = NULL;
	assert_int_equal(content_scenario_parse("ja-attach", folder_read, &f, &s, NULL), 0);
	assert_string_equal(s->type, "添付ファイル型");
	assert_non_null(strstr(s->attachment_json, "請求書_{{姓}}.pdf"));
	content_scenario_free(s);

	/* without its declaration */
	struct folder bare = folder_with(typed, "mail.html", "<p>{{姓}} 添付をご確認ください</p>");
	assert_int_equal(content_scenario_parse("ja-attach", folder_read, &bare, &s, &err), -EINVAL);
	assert_non_null(strstr(err, "needs an \"attachment\""));
	free(err);
	err = NULL;
	/* a link type with one */
	root = json_loads(good_json, 0, NULL);
	json_object_set_new(root, "attachment", json_loads(att, 0, NULL));
	_cleanup_free_ char *linked = json_dumps(root, 0);
	json_decref(root);
	struct folder both = folder_with(linked, NULL, NULL);
	assert_int_equal(content_scenario_parse("ja-attach", folder_read, &both, &s, &err), -EINVAL);
	assert_non_null(strstr(err, "has no \"attachment\""));
	free(err);
	err = NULL;
	/* a bad declaration names its key */
	static const char *const bad =
		"{\"kind\": \"pdf\", \"filename\": \"x.docx\", \"title\": \"t\", \"body\": [\"b\"]}";
	root = json_loads(typed, 0, NULL);
	json_object_set_new(root, "attachment", json_loads(bad, 0, NULL));
	_cleanup_free_ char *badj = json_dumps(root, 0);
	json_decref(root);
	struct folder wrong = folder_with(badj, "mail.html", "<p>{{姓}} 添付をご確認ください</p>");
	assert_int_equal(content_scenario_parse("ja-attach", folder_read, &wrong, &s, &err), -EINVAL);
	assert_non_null(strstr(err, "attachment.filename"));
	free(err);
}

/* ---- issue 4: well-formed pages, every kind of scenario, attachment red flags ---- */

static const char *const gallery_genres[] = { "社内業務連絡", "社外/取引先", "外部組織", "通知系", "その他" };
static const char *const gallery_types[] = { "URLリンク型", "添付ファイル型", "複合型" };
static const char *const gallery_levels[] = { "初級", "中級", "上級" };

static void gallery_loaded(void)
{
	_cleanup_free_ char *err = NULL;
	if (content_gallery_load(&err) <= 0)
		fail_msg("gallery: %s", err ? err : "empty");
}

/* Every page a scenario serves parses as balanced HTML (content_html_check);
 * all the scenarios that fail are listed at once. */
static void test_every_page_is_well_formed(void **state)
{
	struct buf failures = BUF_INIT(0);
	size_t nfail = 0;
	gallery_loaded();
	for (size_t i = 0; i < content_gallery_count(); i++) {
		const struct scenario *s = content_gallery_at(i);
		const struct { const char *file, *html; } pages[] = {
			{ "mail.html", s->html },
			{ "landing.html", s->landing_html },
			{ "explain.html", s->explain_html },
		};
		for (size_t k = 0; k < ARRAY_SIZE(pages); k++) {
			_cleanup_free_ char *err = NULL;
			if (!pages[k].html || content_html_check(slice_from(pages[k].html), &err) == 0)
				continue;
			buf_printf(&failures, "  %s/%s: %s\n", s->id, pages[k].file, err);
			nfail++;
		}
	}
	if (nfail) {
		fprintf(stderr, "%zu scenario pages are not well-formed HTML:\n%s", nfail, failures.p);
		buf_release(&failures);
		fail_msg("%zu scenario pages are not well-formed HTML (listed above)", nfail);
	}
	buf_release(&failures);
}

static size_t count_kind(const char *genre, const char *type, const char *level, const char *lang)
{
	size_t n = 0;
	for (size_t i = 0; i < content_gallery_count(); i++) {
		const struct scenario *s = content_gallery_at(i);
		n += !strcmp(s->genre, genre) && !strcmp(s->type, type) && !strcmp(s->level, level) &&
		     (!lang || !strcmp(s->lang, lang));
	}
	return n;
}

/* Each of the 5 genres × 3 types × 3 levels = 45 kinds has a scenario
 * (in either language).  Prints the counts by language as a table. */
static void test_every_genre_type_level(void **state)
{
	struct buf missing = BUF_INIT(0);
	size_t nmissing = 0, total_ja = 0, total_en = 0;
	gallery_loaded();
	printf("gallery: %zu scenarios by genre × type × level × language\n", content_gallery_count());
	printf("| genre | type | level | ja | en | all |\n|---|---|---|---:|---:|---:|\n");
	for (size_t g = 0; g < ARRAY_SIZE(gallery_genres); g++)
		for (size_t t = 0; t < ARRAY_SIZE(gallery_types); t++)
			for (size_t v = 0; v < ARRAY_SIZE(gallery_levels); v++) {
				const char *genre = gallery_genres[g], *type = gallery_types[t],
					   *level = gallery_levels[v];
				size_t ja = count_kind(genre, type, level, "ja");
				size_t en = count_kind(genre, type, level, "en");
				size_t all = count_kind(genre, type, level, NULL);
				printf("| %s | %s | %s | %zu | %zu | %zu |\n", genre, type, level, ja, en, all);
				total_ja += ja;
				total_en += en;
				if (!all) {
					buf_printf(&missing, "  %s / %s / %s\n", genre, type, level);
					nmissing++;
				}
			}
	printf("| total | | | %zu | %zu | %zu |\n", total_ja, total_en, total_ja + total_en);
	fflush(stdout);
	/* every scenario is of one of the 45 kinds */
	assert_int_equal(total_ja + total_en, content_gallery_count());
	if (nmissing) {
		fprintf(stderr, "%zu of the 45 genre × type × level kinds have no scenario:\n%s", nmissing,
			missing.p);
		buf_release(&missing);
		fail_msg("%zu genre × type × level kinds have no scenario (listed above)", nmissing);
	}
	buf_release(&missing);
}

/* A scenario with a file points at the file among its red flags; one
 * without a file has no red flag about a file. */
static void test_attachment_red_flags(void **state)
{
	struct buf failures = BUF_INIT(0);
	size_t nfail = 0;
	gallery_loaded();
	for (size_t i = 0; i < content_gallery_count(); i++) {
		const struct scenario *s = content_gallery_at(i);
		bool has_file = !strcmp(s->type, "添付ファイル型") || !strcmp(s->type, "複合型");
		size_t flags = 0;
		for (size_t k = 0; k < s->nred_flags; k++)
			flags += !strcmp(s->red_flags[k].part, "attachment");
		if (has_file && !flags) {
			buf_printf(&failures, "  %s (%s): no red flag with part \"attachment\"\n", s->id, s->type);
			nfail++;
		} else if (!has_file && flags) {
			buf_printf(&failures, "  %s (%s): %zu red flag(s) with part \"attachment\", but it sends no file\n",
				   s->id, s->type, flags);
			nfail++;
		}
	}
	if (nfail) {
		fprintf(stderr, "%zu scenarios break the attachment red-flag rule:\n%s", nfail, failures.p);
		buf_release(&failures);
		fail_msg("%zu scenarios break the attachment red-flag rule (listed above)", nfail);
	}
	buf_release(&failures);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_concurrently),
		cmocka_unit_test(test_load_idempotent),
		cmocka_unit_test(test_sorted_and_findable),
		cmocka_unit_test(test_first_three),
		cmocka_unit_test(test_every_scenario_keeps_the_rules),
		cmocka_unit_test(test_the_gallery_as_a_whole),
		cmocka_unit_test(test_every_page_is_well_formed),
		cmocka_unit_test(test_every_genre_type_level),
		cmocka_unit_test(test_attachment_red_flags),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_broken_json),
		cmocka_unit_test(test_parse_broken_files),
		cmocka_unit_test(test_parse_bad_id),
		cmocka_unit_test(test_attachment_type_needs_no_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
