/*
 * nodes.c — several `kunren serve` processes on one database (migration
 * 0018): each node's heartbeat, the leases of the jobs that run on one node
 * at a time, and the delivery work of nodes that went silent.
 */
#include "store/db.h"

int store_node_beat(struct store *s, const char *node, const char *host, const char *mode, int64_t now_ms)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	return run(&cn, "INSERT INTO nodes (id, host, mode, started_at, seen_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
			"ON CONFLICT (id) DO UPDATE SET seen_ms = excluded.seen_ms",
		   T(node), T(host), T(mode), I(now_ms / 1000), I(now_ms));
}

int store_node_leave(struct store *s, const char *node)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM job_leases WHERE node = ?", T(node));
	return r < 0 ? r : run(&cn, "DELETE FROM nodes WHERE id = ?", T(node));
}

int store_nodes(struct store *s, struct arena *a, struct store_node **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id, host, mode, started_at, seen_ms FROM nodes ORDER BY started_at, id");
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n,
		*rec = (struct store_node){ col_text(st, 0, a), col_text(st, 1, a), col_text(st, 2, a), col_int(st, 3),
					    col_int(st, 4) });
}

int store_job_lease(struct store *s, const char *job, const char *node, int64_t now_ms, int64_t ttl_ms)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	/* Taken when free, expired, or already ours (then renewed). */
	int r = run(&cn, "INSERT INTO job_leases (name, node, until_ms) VALUES (?1, ?2, ?3) "
			 "ON CONFLICT (name) DO UPDATE SET node = excluded.node, until_ms = excluded.until_ms "
			 "WHERE job_leases.node = excluded.node OR job_leases.until_ms < ?4",
		    T(job), T(node), I(now_ms + ttl_ms), I(now_ms));
	return r < 0 ? r : db_changes(&cn) > 0;
}

int store_targets_recover(struct store *s, int64_t alive_since_ms, bool restarted, int64_t *ret_requeued,
			  int64_t *ret_uncertain)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int64_t requeued = 0, uncertain = 0;
	const char *mine = restarted ? s->node : "\x01"; /* never a node id */
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	/* A target's node is gone when it has no row seen since ?1 (NULL:
	 * claimed before migration 0018, by the one server there was), or is
	 * this node's own earlier run (?2). */
#define GONE "(node IS NULL OR node = ?2 OR node NOT IN (SELECT id FROM nodes WHERE seen_ms >= ?1))"
	r = run(&cn, "UPDATE targets SET state = 'pending', node = NULL WHERE state = 'claimed' AND " GONE,
		I(alive_since_ms), T(mine));
	if (r >= 0)
		requeued = db_changes(&cn);
	if (r >= 0)
		r = run(&cn, "INSERT INTO events (campaign_id, target_id, kind, at_ms, detail) SELECT campaign_id, id, ?3, ?4, "
			     "'{\"error\":\"uncertain: the server stopped while this mail was being handed to the relay; "
			     "it is not sent again\"}' FROM targets WHERE state = 'sending' AND " GONE,
			I(alive_since_ms), T(mine), T(event_kind_name(EV_SEND_ERROR)), I(now_ms()));
	if (r >= 0)
		r = run(&cn, "UPDATE targets SET state = 'uncertain', node = NULL, error = 'uncertain: the server stopped "
			     "while this mail was being handed to the relay' WHERE state = 'sending' AND " GONE,
			I(alive_since_ms), T(mine));
#undef GONE
	if (r >= 0)
		uncertain = db_changes(&cn);
	if (r >= 0)
		r = run(&cn, "DELETE FROM job_leases WHERE node NOT IN (SELECT id FROM nodes WHERE seen_ms >= ?)",
			I(alive_since_ms));
	if (r >= 0)
		r = run(&cn, "DELETE FROM nodes WHERE seen_ms < ?", I(alive_since_ms));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_requeued = requeued;
	*ret_uncertain = uncertain;
	return 0;
}
