/* paging.c — ?limit= and ?after= for the lists the store reads whole.
 *
 * Most lists of the API are short and read from the store at once; they
 * answer the same {"items", "next_after"} page as the long ones
 * (api__paging/api__page), so a client pages every list alike.  See
 * api__page_all in api_int.h. */
#include "api/api_int.h"

static int64_t item_id(json_t *items, size_t i, const char *key)
{
	return json_integer_value(json_object_get(json_array_get(items, i), key));
}

void api__page_all(struct http_request *req, struct http_response *res, json_t *items, const char *key, bool desc)
{
	if (!items) {
		http_response_json(res, 200, NULL); /* a 500 */
		return;
	}
	if (!http_query(req, "limit") && !http_query(req, "after")) {
		http_response_json(res, 200, api__page(items, false, 0));
		return;
	}
	int64_t after;
	size_t limit;
	if (!api__paging(req, res, &after, &limit)) {
		json_decref(items);
		return;
	}
	size_t n = json_array_size(items), i = 0;
	/* the items are in id order: the page starts past the cursor */
	while (after && i < n && (desc ? item_id(items, i, key) >= after : item_id(items, i, key) <= after))
		i++;
	json_t *page = json_array();
	int64_t last = 0;
	for (; i < n && json_array_size(page) < limit; i++) {
		json_array_append(page, json_array_get(items, i));
		last = item_id(items, i, key);
	}
	json_decref(items);
	http_response_json(res, 200, api__page(page, i < n, last));
}
