/*
 * ops.c — the operator's probes of store.h: the readiness query of
 * GET /readyz and the delivery queue depth of GET /metrics.
 */
#include "store/db.h"

int store_ping(struct store *s)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	/* a real table: the schema is there and the file readable */
	int r = prep(&cn, &st, "SELECT count(*) FROM (SELECT 1 FROM tenants LIMIT 1) AS t");
	if (r >= 0)
		r = step_row(&cn, st);
	return r < 0 ? r : r == 0 ? -EIO : 0;
}

int store_delivery_depth(struct store *s, int64_t now, int64_t *ret)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	/* per sending campaign, through targets_campaign_state */
	int r = prep(&cn, &st, "SELECT (SELECT count(*) FROM targets t JOIN campaigns c ON c.id = t.campaign_id "
			       "WHERE c.state = 'sending' AND t.state = 'pending' AND t.due_at <= ?1) + "
			       "(SELECT count(*) FROM targets WHERE state IN ('claimed', 'sending'))", I(now));
	if (r >= 0)
		r = step_row(&cn, st);
	if (r < 0)
		return r;
	if (r == 0)
		return -EIO;
	*ret = col_int(st, 0);
	return 0;
}
