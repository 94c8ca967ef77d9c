/*
 * gallery.c — the built-in scenarios.  scripts/embed puts every file of
 * scenarios/<id>/ into the binary as "scenarios/<id>/<file>"; the gallery
 * finds the folders, parses and validates each (content_scenario_parse) and
 * keeps them, sorted by id, for the life of the process.  The folder format
 * is documented for authors in docs/SCENARIOS.md.
 */
#include "content/content.h"

#include <pthread.h>
#include <stdarg.h>

#define SCENARIO_FILE_MAX ((size_t)512 << 10)
#define SCENARIO_ID_MAX 64

static const char *const genres[] = { "社内業務連絡", "社外/取引先", "外部組織", "通知系",
				      "その他", NULL };
static const char *const types[] = { "URLリンク型", "添付ファイル型", "複合型", NULL };
static const char *const levels[] = { "初級", "中級", "上級", NULL };
static const char *const langs[] = { "ja", "en", NULL };
static const char *const parts[] = { "sender", "subject", "body", "link", "attachment", NULL };

/* A string member of struct scenario read from scenario.json. */
struct str_field {
	const char *key;
	size_t offset;
	size_t max;                  /* bytes */
	const char *const *allowed;  /* NULL: free text */
};

static const struct str_field top_fields[] = {
	{ "name", offsetof(struct scenario, name), 200, NULL },
	{ "description", offsetof(struct scenario, description), 2000, NULL },
	{ "genre", offsetof(struct scenario, genre), 64, genres },
	{ "type", offsetof(struct scenario, type), 64, types },
	{ "level", offsetof(struct scenario, level), 64, levels },
	{ "lang", offsetof(struct scenario, lang), 8, langs },
	{ "subject", offsetof(struct scenario, subject), 500, NULL },
};

static const struct str_field sender_fields[] = {
	{ "name", offsetof(struct scenario, sender_name), 200, NULL },
	{ "local", offsetof(struct scenario, sender_local), 64, NULL },
	{ "domain", offsetof(struct scenario, sender_domain), 253, NULL },
};

static const char *const top_keys[] = { "name", "description", "genre", "type", "level",
					"lang", "subject", "sender", "red_flags", "attachment", NULL };
static const char *const sender_keys[] = { "name", "local", "domain", NULL };
static const char *const flag_keys[] = { "part", "text", NULL };

/* ---- errors: "scenarios/<id>/<file>: <message>" ---- */

struct parse {
	const char *id;
	int (*read)(void *ctx, const char *name, struct slice *ret);
	void *ctx;
	char *err;
};

static int parse_fail(struct parse *p, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_fail(struct parse *p, const char *file, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, 0);
	buf_printf(&b, "scenarios/%s/%s: ", p->id, file);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(p->err);
	p->err = buf_steal(&b);
	return -EINVAL;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static char *list_join(const char *const *list)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; list[i]; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", list[i]);
	return buf_steal(&b);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return true;
	return false;
}

/* ---- scenario.json ---- */

static int check_keys(struct parse *p, json_t *o, const char *prefix, const char *const *keys)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		if (!in_list(key, keys))
			return parse_fail(p, "scenario.json", "unknown key \"%s%s\"", prefix, key);
	}
	return 0;
}

/* Reads a required, non-blank string; returns a copy in *ret (caller frees). */
static int read_str(struct parse *p, json_t *o, const char *prefix, const char *key,
		    size_t max, const char *const *allowed, char **ret)
{
	const char *v = NULL, *msg = NULL;
	if (json_get_str(o, key, true, max, &v, &msg) < 0)
		return parse_fail(p, "scenario.json", "\"%s%s\" %s", prefix, key, msg);
	if (slice_trim(slice_from(v)).len == 0)
		return parse_fail(p, "scenario.json", "\"%s%s\" must not be empty", prefix, key);
	if (has_control(v))
		return parse_fail(p, "scenario.json", "\"%s%s\" must not contain control characters",
				  prefix, key);
	if (allowed && !in_list(v, allowed)) {
		_cleanup_free_ char *all = list_join(allowed);
		return parse_fail(p, "scenario.json", "\"%s%s\" must be one of: %s", prefix, key, all);
	}
	*ret = xstrdup(v);
	return 0;
}

static int read_fields(struct parse *p, json_t *o, const char *prefix,
		       const struct str_field *fields, size_t n, struct scenario *s)
{
	for (size_t i = 0; i < n; i++) {
		char **dst = (char **)((char *)s + fields[i].offset);
		int r = read_str(p, o, prefix, fields[i].key, fields[i].max, fields[i].allowed, dst);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 dot-atom: atoms of atext separated by single dots. */
static bool local_part_valid(const char *s)
{
	char prev = '.';
	for (; *s; prev = *s, s++) {
		if (*s == '.' ? prev == '.' : !atext(*s))
			return false;
	}
	return prev != '.';
}

/* Host name: two or more labels of letters, digits and inner hyphens. */
static bool domain_valid(const char *s)
{
	size_t labels = 0;
	while (*s) {
		size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
			return false;
		labels++;
		s += n;
		if (*s == '.' && s[1] == '\0')
			return false;
		if (*s && *s++ != '.')
			return false;
	}
	return labels >= 2;
}

static int parse_sender(struct parse *p, json_t *root, struct scenario *s)
{
	json_t *o = json_object_get(root, "sender");
	if (!json_is_object(o))
		return parse_fail(p, "scenario.json", "\"sender\" must be an object "
				  "{\"name\", \"local\", \"domain\"}");
	int r = check_keys(p, o, "sender.", sender_keys);
	if (r >= 0)
		r = read_fields(p, o, "sender.", sender_fields, ARRAY_SIZE(sender_fields), s);
	if (r >= 0 && !local_part_valid(s->sender_local))
		r = parse_fail(p, "scenario.json", "\"sender.local\" is not a valid local part");
	if (r >= 0 && !domain_valid(s->sender_domain))
		r = parse_fail(p, "scenario.json", "\"sender.domain\" is not a valid domain");
	return r;
}

static int parse_red_flags(struct parse *p, json_t *root, struct scenario *s)
{
	json_t *a = json_object_get(root, "red_flags");
	if (!json_is_array(a) || json_array_size(a) < 2 || json_array_size(a) > 5)
		return parse_fail(p, "scenario.json", "\"red_flags\" must be an array of 2 to 5 "
				  "{\"part\", \"text\"} objects");
	s->red_flags = xcalloc(json_array_size(a), sizeof(*s->red_flags));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "red_flags[%zu].", i);
		if (!json_is_object(o))
			return parse_fail(p, "scenario.json", "\"red_flags[%zu]\" must be an object", i);
		s->nred_flags = i + 1; /* so content_scenario_free sees what was set */
		int r = check_keys(p, o, prefix, flag_keys);
		if (r >= 0)
			r = read_str(p, o, prefix, "part", 16, parts, &s->red_flags[i].part);
		if (r >= 0)
			r = read_str(p, o, prefix, "text", 500, NULL, &s->red_flags[i].text);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Attachment types declare their file; a link type has none. */
static int parse_attachment(struct parse *p, json_t *root, struct scenario *s)
{
	json_t *o = json_object_get(root, "attachment");
	bool needs = strcmp(s->type, "URLリンク型") != 0;
	const char *field, *msg;
	if (!o)
		return needs ? parse_fail(p, "scenario.json", "a %s scenario needs an \"attachment\"", s->type) : 0;
	if (!needs)
		return parse_fail(p, "scenario.json", "a URLリンク型 scenario has no \"attachment\"");
	if (content_attachment_check(o, &field, &msg) < 0)
		return parse_fail(p, "scenario.json", "\"attachment%s%s\" %s", field[0] ? "." : "", field, msg);
	s->attachment_json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return s->attachment_json ? 0 : -ENOMEM;
}

static int parse_json(struct parse *p, struct scenario *s)
{
	struct slice raw;
	json_error_t jerr;

	int r = p->read(p->ctx, "scenario.json", &raw);
	if (r == -ENOENT)
		return parse_fail(p, "scenario.json", "is missing");
	if (r < 0)
		return parse_fail(p, "scenario.json", "cannot be read: %s", strerror(-r));
	if (raw.len > SCENARIO_FILE_MAX)
		return parse_fail(p, "scenario.json", "is larger than %zu bytes", SCENARIO_FILE_MAX);

	json_t *root = json_loadb(raw.p, raw.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return parse_fail(p, "scenario.json", "line %d column %d: %s", jerr.line,
				  jerr.column, jerr.text);
	if (!json_is_object(root))
		r = parse_fail(p, "scenario.json", "must be a JSON object");
	if (r >= 0)
		r = check_keys(p, root, "", top_keys);
	if (r >= 0)
		r = read_fields(p, root, "", top_fields, ARRAY_SIZE(top_fields), s);
	if (r >= 0)
		r = parse_sender(p, root, s);
	if (r >= 0)
		r = parse_red_flags(p, root, s);
	if (r >= 0)
		r = parse_attachment(p, root, s);
	json_decref(root);
	return r;
}

/* ---- the template files ---- */

static int check_template(struct parse *p, const char *file, const char *what, const char *t)
{
	_cleanup_free_ char *err = NULL;
	if (content_template_check(slice_from(t), &err) < 0)
		return parse_fail(p, file, "%s%s", what, err);
	return 0;
}

/* Reads one file of the folder into *ret; optional files may be absent (NULL). */
static int read_template(struct parse *p, const char *name, bool required, char **ret)
{
	struct slice raw;
	int r = p->read(p->ctx, name, &raw);
	if (r == -ENOENT && !required)
		return 0;
	if (r == -ENOENT)
		return parse_fail(p, name, "is missing");
	if (r < 0)
		return parse_fail(p, name, "cannot be read: %s", strerror(-r));
	if (raw.len > SCENARIO_FILE_MAX)
		return parse_fail(p, name, "is larger than %zu bytes", SCENARIO_FILE_MAX);
	if (slice_trim(raw).len == 0)
		return parse_fail(p, name, "is empty");
	*ret = xstrndup(raw.p, raw.len);
	return check_template(p, name, "", *ret);
}

static int parse_files(struct parse *p, struct scenario *s)
{
	int r = check_template(p, "scenario.json", "\"subject\": ", s->subject);
	if (r >= 0)
		r = read_template(p, "mail.html", true, &s->html);
	if (r >= 0)
		r = read_template(p, "mail.txt", true, &s->text);
	if (r >= 0)
		r = read_template(p, "explain.html", true, &s->explain_html);
	if (r >= 0)
		r = read_template(p, "landing.html", false, &s->landing_html);
	return r;
}

/* What the type promises: a link type links to {{URL}}; a form posts to it. */
static int check_links(struct parse *p, struct scenario *s)
{
	bool link = strcmp(s->type, "URLリンク型") == 0 || strcmp(s->type, "複合型") == 0;
	if (link && !content_template_uses(slice_from(s->html), MF_URL))
		return parse_fail(p, "mail.html", "a %s scenario must link to {{URL}}", s->type);
	if (link && !content_template_uses(slice_from(s->text), MF_URL))
		return parse_fail(p, "mail.txt", "a %s scenario must contain {{URL}}", s->type);
	if (s->landing_html && !content_template_uses(slice_from(s->landing_html), MF_URL))
		return parse_fail(p, "landing.html", "the form must post to {{URL}}");
	if (content_attachment_password(s->attachment_json) &&
	    !content_template_uses(slice_from(s->text), MF_PASSWORD))
		return parse_fail(p, "mail.txt", "a password zip needs its password in the mail: {{パスワード}}");
	return 0;
}

static bool id_valid(const char *id)
{
	size_t n = strlen(id);
	return n > 0 && n <= SCENARIO_ID_MAX && id[0] != '-' &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

void content_scenario_free(struct scenario *s)
{
	if (!s)
		return;
	char **strs[] = { &s->id, &s->name, &s->description, &s->genre, &s->type, &s->level,
			  &s->lang, &s->subject, &s->html, &s->text, &s->sender_name,
			  &s->sender_local, &s->sender_domain, &s->landing_html, &s->explain_html,
			  &s->attachment_json };
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		free(*strs[i]);
	for (size_t i = 0; i < s->nred_flags; i++) {
		free(s->red_flags[i].part);
		free(s->red_flags[i].text);
	}
	free(s->red_flags);
	free(s);
}

int content_scenario_parse(const char *id,
			   int (*read)(void *ctx, const char *name, struct slice *ret), void *ctx,
			   struct scenario **ret, char **ret_err)
{
	struct parse p = { .id = id, .read = read, .ctx = ctx };
	struct scenario *s = xcalloc(1, sizeof(*s));
	int r = 0;

	s->id = xstrdup(id);
	if (!id_valid(id))
		r = parse_fail(&p, "", "the folder name must be 1-%d characters of a-z, 0-9 and -",
			       SCENARIO_ID_MAX);
	if (r >= 0)
		r = parse_json(&p, s);
	if (r >= 0)
		r = parse_files(&p, s);
	if (r >= 0)
		r = check_links(&p, s);
	if (r < 0) {
		content_scenario_free(s);
		if (ret_err)
			*ret_err = p.err;
		else
			free(p.err);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- the gallery ---- */

static struct {
	pthread_once_t once;
	struct scenario **items;
	size_t n;
	int result;
	char *err;
} gallery = { .once = PTHREAD_ONCE_INIT };

static int embedded_read(void *ctx, const char *name, struct slice *ret)
{
	_cleanup_free_ char *path = xasprintf("scenarios/%s/%s", (const char *)ctx, name);
	const struct embedded_file *f = embedded_find(path);
	if (!f)
		return -ENOENT;
	*ret = (struct slice){ (const char *)f->data, f->len };
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct <id> of every embedded "scenarios/<id>/<file>", sorted. */
static char **gallery_ids(size_t *ret_n)
{
	static const char prefix[] = "scenarios/";
	char **ids = xcalloc(embedded_files_count, sizeof(*ids));
	size_t n = 0;

	for (size_t i = 0; i < embedded_files_count; i++) {
		const char *path = embedded_files[i].path;
		if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
			continue;
		const char *id = path + sizeof(prefix) - 1, *slash = strchr(id, '/');
		if (slash && slash > id && slash[1])
			ids[n++] = xstrndup(id, (size_t)(slash - id));
	}
	qsort(ids, n, sizeof(*ids), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < n; i++) {
		if (u && strcmp(ids[u - 1], ids[i]) == 0)
			free(ids[i]);
		else
			ids[u++] = ids[i];
	}
	*ret_n = u;
	return ids;
}

static void gallery_load_once(void)
{
	size_t n;
	char **ids = gallery_ids(&n);
	struct buf errs;

	buf_init(&errs, 0);
	gallery.items = xcalloc(n, sizeof(*gallery.items));
	for (size_t i = 0; i < n; i++) {
		struct scenario *s;
		char *err = NULL;
		if (content_scenario_parse(ids[i], embedded_read, ids[i], &s, &err) < 0) {
			/* A broken scenario is left out; the others stay usable. */
			buf_printf(&errs, "%s%s", errs.len ? "; " : "", err);
			free(err);
		} else {
			gallery.items[gallery.n++] = s;
		}
		free(ids[i]);
	}
	free(ids);
	gallery.result = errs.len ? -EINVAL : (int)gallery.n;
	gallery.err = errs.len ? buf_steal(&errs) : NULL;
	buf_release(&errs);
}

int content_gallery_load(char **ret_err)
{
	pthread_once(&gallery.once, gallery_load_once);
	if (gallery.result < 0 && ret_err)
		*ret_err = xstrdup(gallery.err);
	return gallery.result;
}

size_t content_gallery_count(void)
{
	pthread_once(&gallery.once, gallery_load_once);
	return gallery.n;
}

const struct scenario *content_gallery_at(size_t i)
{
	pthread_once(&gallery.once, gallery_load_once);
	return i < gallery.n ? gallery.items[i] : NULL;
}

static int cmp_id(const void *key, const void *item)
{
	return strcmp(key, (*(struct scenario *const *)item)->id);
}

const struct scenario *content_gallery_find(const char *id)
{
	pthread_once(&gallery.once, gallery_load_once);
	struct scenario **s = gallery.n ? bsearch(id, gallery.items, gallery.n,
						   sizeof(*gallery.items), cmp_id) : NULL;
	return s ? *s : NULL;
}
