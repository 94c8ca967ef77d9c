/* attachment.c — a scenario's attachment declaration (docs/SCENARIOS.md):
 * what the training file says, or which of the trainer's uploads it is;
 * deliver builds one copy per target from it. */
#include "content/content.h"

#include <ctype.h>

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A string field: present when required, a string of at most max bytes,
 * one line, a template without errors. */
static int text_ok(json_t *v, size_t max, const char **ret_msg)
{
	if (!json_is_string(v)) {
		*ret_msg = "must be a string";
		return -EINVAL;
	}
	const char *s = json_string_value(v);
	if (!slice_trim(slice_from(s)).len) {
		*ret_msg = "must not be empty";
		return -EINVAL;
	}
	if (strlen(s) > max) {
		*ret_msg = "is too long";
		return -EINVAL;
	}
	if (has_control(s)) {
		*ret_msg = "must be one line without control characters";
		return -EINVAL;
	}
	_cleanup_free_ char *err = NULL;
	if (content_template_check(slice_from(s), &err) < 0) {
		*ret_msg = "has a merge field that does not exist or an unclosed {{";
		return -EINVAL;
	}
	return 0;
}

/* "source": "generated" (the default) or "upload" (implied by "upload": id):
 * an uploaded file says what it says, so title, body and table are neither
 * required nor allowed.  Whether the upload exists and is of `kind` is the
 * API's check (the validator sees no store). */
static int source_check(json_t *o, bool *ret_upload, const char **ret_field, const char **ret_msg)
{
	json_t *src = json_object_get(o, "source"), *up = json_object_get(o, "upload");
	const char *s = json_string_value(src);
	*ret_field = "source";
	if (src && (!s || (strcmp(s, "generated") && strcmp(s, "upload")))) {
		*ret_msg = "must be generated or upload";
		return -EINVAL;
	}
	*ret_upload = s ? !strcmp(s, "upload") : up != NULL;
	*ret_field = "upload";
	if (*ret_upload && (!json_is_integer(up) || json_integer_value(up) <= 0)) {
		*ret_msg = "must be the id of an uploaded file";
		return -EINVAL;
	}
	if (!*ret_upload && up) {
		*ret_msg = "is only for \"source\": \"upload\"";
		return -EINVAL;
	}
	if (*ret_upload) {
		static const char *const generated_only[] = { "title", "body", "table" };
		for (size_t i = 0; i < ARRAY_SIZE(generated_only); i++)
			if (json_object_get(o, generated_only[i])) {
				*ret_field = generated_only[i];
				*ret_msg = "is only for generated files (an uploaded file says what it says)";
				return -EINVAL;
			}
	}
	return 0;
}

int content_attachment_check(json_t *o, const char **ret_field, const char **ret_msg)
{
	static const char *const keys[] = { "source", "upload", "kind", "filename", "title", "body", "table", "archive" };
	static const char *const kinds[] = { "docx", "xlsx", "pdf" };
	static const char *const archives[] = { "none", "zip", "password", "aes" };
	const char *key;
	json_t *v;
	bool upload;
	*ret_field = "";
	if (!json_is_object(o)) {
		*ret_msg = "must be an object";
		return -EINVAL;
	}
	json_object_foreach(o, key, v) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			known = known || !strcmp(key, keys[i]);
		if (!known) {
			*ret_field = "";
			*ret_msg = "has an unknown key (source, upload, kind, filename, title, body, table, archive)";
			return -EINVAL;
		}
	}
	if (source_check(o, &upload, ret_field, ret_msg) < 0)
		return -EINVAL;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	bool kind_ok = false;
	for (size_t i = 0; kind && i < ARRAY_SIZE(kinds); i++)
		kind_ok = kind_ok || !strcmp(kind, kinds[i]);
	if (!kind_ok) {
		*ret_field = "kind";
		*ret_msg = "must be docx, xlsx or pdf";
		return -EINVAL;
	}
	*ret_field = "filename";
	v = json_object_get(o, "filename");
	if (text_ok(v, 120, ret_msg) < 0)
		return -EINVAL;
	const char *fn = json_string_value(v);
	size_t fl = strlen(fn), kl = strlen(kind);
	if (strpbrk(fn, "/\\") || fl <= kl + 1 || fn[fl - kl - 1] != '.' || strcasecmp(fn + fl - kl, kind)) {
		*ret_msg = "must be a file name (no / or \\) ending in the kind's extension";
		return -EINVAL;
	}
	*ret_field = "title";
	if (!upload && text_ok(json_object_get(o, "title"), 200, ret_msg) < 0)
		return -EINVAL;
	*ret_field = "body";
	v = json_object_get(o, "body");
	if (!upload && (v || strcmp(kind, "xlsx"))) {
		if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 30) {
			*ret_msg = "must be a list of 1 to 30 paragraphs";
			return -EINVAL;
		}
		for (size_t i = 0; i < json_array_size(v); i++)
			if (text_ok(json_array_get(v, i), 1000, ret_msg) < 0)
				return -EINVAL;
	}
	*ret_field = "table";
	v = json_object_get(o, "table");
	if (!upload && (v || !strcmp(kind, "xlsx"))) {
		if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 50) {
			*ret_msg = "must be a list of 1 to 50 rows";
			return -EINVAL;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *row = json_array_get(v, i);
			if (!json_is_array(row) || json_array_size(row) < 1 || json_array_size(row) > 10) {
				*ret_msg = "each row must be a list of 1 to 10 cells";
				return -EINVAL;
			}
			for (size_t k = 0; k < json_array_size(row); k++) {
				json_t *cell = json_array_get(row, k);
				/* an empty cell is fine in a table */
				if (json_is_string(cell) && !json_string_length(cell))
					continue;
				if (text_ok(cell, 200, ret_msg) < 0)
					return -EINVAL;
			}
		}
	}
	*ret_field = "archive";
	v = json_object_get(o, "archive");
	if (v) {
		const char *a = json_string_value(v);
		bool ok = false;
		for (size_t i = 0; a && i < ARRAY_SIZE(archives); i++)
			ok = ok || !strcmp(a, archives[i]);
		if (!ok) {
			*ret_msg = "must be none, zip, password or aes";
			return -EINVAL;
		}
	}
	*ret_field = "";
	return 0;
}

bool content_attachment_password(const char *attachment_json)
{
	json_error_t err;
	json_t *o = attachment_json ? json_loads(attachment_json, 0, &err) : NULL;
	const char *a = json_string_value(json_object_get(o, "archive"));
	bool yes = a && (!strcmp(a, "password") || !strcmp(a, "aes"));
	json_decref(o);
	return yes;
}
