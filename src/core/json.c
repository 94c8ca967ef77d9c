/* json.c — reading request bodies field by field, writing compact JSON. */
#include "core/core.h"

int json_get_str(json_t *o, const char *key, bool required, size_t max_len,
		 const char **ret, const char **ret_msg)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required) {
			*ret_msg = "is required";
			return -EINVAL;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		*ret_msg = "must be a string";
		return -EINVAL;
	}
	if (json_string_length(v) > max_len) {
		*ret_msg = "is too long";
		return -EINVAL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		*ret_msg = "must not contain NUL characters";
		return -EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

int json_get_int(json_t *o, const char *key, bool required, int64_t min, int64_t max,
		 int64_t *ret, const char **ret_msg)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required) {
			*ret_msg = "is required";
			return -EINVAL;
		}
		return 0;
	}
	if (!json_is_integer(v)) {
		*ret_msg = "must be a whole number";
		return -EINVAL;
	}
	json_int_t n = json_integer_value(v);
	if (n < min || n > max) {
		*ret_msg = "is out of range";
		return -ERANGE;
	}
	*ret = n;
	return 0;
}

int json_get_bool(json_t *o, const char *key, bool required, bool *ret, const char **ret_msg)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required) {
			*ret_msg = "is required";
			return -EINVAL;
		}
		return 0;
	}
	if (!json_is_boolean(v)) {
		*ret_msg = "must be true or false";
		return -EINVAL;
	}
	*ret = json_is_true(v);
	return 0;
}

static int json_put_cb(const char *s, size_t n, void *data)
{
	return buf_append(data, s, n) < 0 ? -1 : 0;
}

int json_put(struct buf *b, const json_t *j)
{
	return json_dump_callback(j, json_put_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) < 0 ? -E2BIG : 0;
}
