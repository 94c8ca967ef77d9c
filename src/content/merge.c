/* merge.c — the merge values of one target. */
#include "content/content.h"
#include "store/store.h"

_Static_assert((int)MF_LAST_NAME == (int)PF_LAST_NAME && (int)MF_FIELD3 == (int)PF_FIELD3,
	       "merge fields start with the person fields, in the same order");

/* <tracker>/r/<rid> beside the click URL <tracker>/c/<rid>: the caller
 * knows the tracker's base and the click URL carries it, so no caller has
 * to pass it twice.  NULL (renders empty) when url is not of that form. */
static const char *report_url(const char *url, const char *rid, struct arena *a)
{
	size_t n = url ? strlen(url) : 0, rn = rid ? strlen(rid) : 0;
	if (!rn || n < rn + 3 || strcmp(url + n - rn, rid) || memcmp(url + n - rn - 3, "/c/", 3))
		return NULL;
	return arena_printf(a, "%.*s/r/%s", (int)(n - rn - 3), url, rid);
}

void content_merge_vars(const struct campaign *c, const struct target *t, const char *url,
			const struct tz *zone, struct arena *a, struct merge_vars *ret)
{
	struct merge_vars v = { 0 };
	for (int f = 0; f < PF__COUNT; f++)
		v.v[f] = t->p.f[f];
	v.v[MF_URL] = url;
	v.v[MF_SENDER_NAME] = c->sender_name;
	v.v[MF_SENDER_EMAIL] = arena_printf(a, "%s@%s", c->sender_local, c->sender_domain);
	if (t->sent_at) {
		struct civil cv;
		civil_from_unix(t->sent_at + tz_offset(zone, t->sent_at), &cv);
		v.v[MF_SEND_DATE] = arena_printf(a, "%d年%d月%d日", cv.year, cv.month, cv.day);
	}
	v.v[MF_PASSWORD] = content_zip_password(t->rid, a);
	v.v[MF_REPORT_URL] = report_url(url, t->rid, a);
	*ret = v;
}

/* "Kr" and eight characters of the rid, from its middle: the same target
 * always gets the same password, and it tells nothing the rid does not. */
const char *content_zip_password(const char *rid, struct arena *a)
{
	size_t n = rid ? strlen(rid) : 0;
	return n >= 16 ? arena_printf(a, "Kr%.8s", rid + 8) : arena_strndup(a, "Kr000000", 8);
}
