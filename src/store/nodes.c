/*
 * nodes.c — several `kunren serve` processes on one database (migration
 * 0018): each node's heartbeat, the leases of the jobs that run on one node
 * at a time, and the delivery work of nodes that went silent.
 */
#include "store/db.h"

int store_node_beat(struct store *s, const char *place, const char *mode, const char *token, int64_t lease_ms)
{
	/* its own connection: beats go on while the pool waits for the lock */
	_cleanup_conn_ struct conn cn = conn_get_beat(s);
	/* The row is this process's (its token), its predecessor's in the same
	 * place (a restart), or one silent for a lease; else another live
	 * process has the same id (a copied data folder). */
	int r = run(&cn, "INSERT INTO nodes (id, place, mode, token, started_at, seen_ms) "
			 "VALUES (?1, ?2, ?3, ?4, kunren_now_ms() / 1000, kunren_now_ms()) "
			 "ON CONFLICT (id) DO UPDATE SET place = excluded.place, mode = excluded.mode, token = excluded.token, "
			 "started_at = CASE WHEN nodes.token = excluded.token THEN nodes.started_at "
			 "ELSE excluded.started_at END, seen_ms = excluded.seen_ms "
			 "WHERE nodes.token = excluded.token OR nodes.place = excluded.place "
			 "OR nodes.seen_ms < excluded.seen_ms - ?5",
		    T(s->node), T(place), T(mode), T(token), I(lease_ms));
	return r < 0 ? r : db_changes(&cn) > 0 ? 0 : -EADDRINUSE;
}

int store_node_leave(struct store *s)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int r = run(&cn, "DELETE FROM job_leases WHERE node = ?", T(s->node));
	return r < 0 ? r : run(&cn, "DELETE FROM nodes WHERE id = ?", T(s->node));
}

int store_nodes(struct store *s, int64_t lease_ms, struct arena *a, struct store_node **ret, size_t *ret_n)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(&cn, &st, "SELECT id, place, mode, started_at, seen_ms, seen_ms >= kunren_now_ms() - ?1, "
			       "kunren_now_ms() FROM nodes ORDER BY started_at, id", I(lease_ms));
	return r < 0 ? r : READ_ROWS(&cn, st, a, ret, ret_n,
					      *rec = (struct store_node){ .id = col_text(st, 0, a), .place = col_text(st, 1, a),
								  .mode = col_text(st, 2, a), .started_at = col_int(st, 3),
								  .seen_ms = col_int(st, 4), .alive = col_int(st, 5) != 0,
								  .now_ms = col_int(st, 6) });
}

int store_job_lease(struct store *s, const char *job, int64_t ttl_ms)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	/* Taken when free, expired, or already ours (then renewed). */
	int r = run(&cn, "INSERT INTO job_leases (name, node, until_ms) VALUES (?1, ?2, kunren_now_ms() + ?3) "
			 "ON CONFLICT (name) DO UPDATE SET node = excluded.node, until_ms = excluded.until_ms "
			 "WHERE job_leases.node = excluded.node OR job_leases.until_ms < kunren_now_ms()",
		    T(job), T(s->node), I(ttl_ms));
	return r < 0 ? r : db_changes(&cn) > 0;
}

int store_targets_recover(struct store *s, int64_t lease_ms, bool restarted, int64_t *ret_requeued,
			  int64_t *ret_uncertain)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	int64_t requeued = 0, uncertain = 0;
	const char *mine = restarted ? s->node : "\x01"; /* never a node id */
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	/* A target's node is gone when it has not been seen for ?1 ms by the
	 * database's clock (NULL: claimed before migration 0018, by the one
	 * server there was), or is this node's own earlier run (?2). */
#define ALIVE "(SELECT id FROM nodes WHERE seen_ms >= kunren_now_ms() - ?1)"
#define GONE "(node IS NULL OR node = ?2 OR node NOT IN " ALIVE ")"
	r = run(&cn, "UPDATE targets SET state = 'pending', node = NULL WHERE state = 'claimed' AND " GONE,
		I(lease_ms), T(mine));
	if (r >= 0)
		requeued = db_changes(&cn);
	if (r >= 0)
		r = run(&cn, "INSERT INTO events (campaign_id, target_id, kind, at_ms, detail) SELECT campaign_id, id, ?3, ?4, "
			     "'{\"error\":\"uncertain: the server stopped while this mail was being handed to the relay; "
			     "it is not sent again\"}' FROM targets WHERE state = 'sending' AND " GONE,
			I(lease_ms), T(mine), T(event_kind_name(EV_SEND_ERROR)), I(now_ms()));
	if (r >= 0)
		r = run(&cn, "UPDATE targets SET state = 'uncertain', node = NULL, error = 'uncertain: the server stopped "
			     "while this mail was being handed to the relay' WHERE state = 'sending' AND " GONE,
			I(lease_ms), T(mine));
#undef GONE
	if (r >= 0)
		uncertain = db_changes(&cn);
	/* never this node's own row or leases: it is running this (with lease
	 * 0, one server alone, its beat is already older than "now") */
	if (r >= 0)
		r = run(&cn, "DELETE FROM job_leases WHERE node <> ?2 AND node NOT IN " ALIVE, I(lease_ms), T(s->node));
	if (r >= 0)
		r = run(&cn, "DELETE FROM nodes WHERE id <> ?2 AND id NOT IN " ALIVE, I(lease_ms), T(s->node));
#undef ALIVE
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_requeued = requeued;
	*ret_uncertain = uncertain;
	return 0;
}
