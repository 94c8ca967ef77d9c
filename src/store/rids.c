/*
 * rids.c — what the tracker keeps in memory (track/rids.c): the
 * campaigns that accept events with a cheap fingerprint of their targets,
 * and the rids of one campaign, streamed.
 */
#include "store/db.h"

#define ACCEPTING "('sending', 'running', 'paused')"

int store_rid_campaigns(struct store *s, struct arena *a, struct store_rid_campaign **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	/* Index reads only (campaigns_state, targets_campaign): max(id) of a
	 * campaign is one seek, so the poll costs the same at 10 or 10^6 targets. */
	int r = prep(&cn, &st, "SELECT c.id, c.tenant_id, c.target_count, "
			       "coalesce((SELECT max(t.id) FROM targets t WHERE t.campaign_id = c.id), 0) "
			       "FROM campaigns c WHERE c.state IN " ACCEPTING " ORDER BY c.id");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n,
		*rec = (struct store_rid_campaign){ col_int(st, 0), col_int(st, 1), col_int(st, 2), col_int(st, 3) });
}

int store_rids_each(struct store *s, int64_t campaign_id, int (*fn)(void *ctx, const char *rid, int64_t target_id),
		    void *ctx)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT t.rid, t.id FROM targets t WHERE t.campaign_id = ? ORDER BY t.id", I(campaign_id));
	while (r >= 0 && (r = step_row(&cn, st)) > 0) {
		const char *rid = col_cstr(st, 0);
		if (rid && (r = fn(ctx, rid, col_int(st, 1))) < 0)
			break;
	}
	return r < 0 ? r : 0;
}
