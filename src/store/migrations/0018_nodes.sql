-- 0018: several nodes on one database (SPEC H2, docs/internals/NODES.md).
-- A node is one `kunren serve` process.  It says it is alive in nodes.seen_ms
-- every few seconds; the targets it claims carry its id (targets.node), and a
-- node silent for longer than node_lease_seconds loses them: claimed ones are
-- pending again, ones being handed to the relay become uncertain.  Jobs that
-- must run on one node at a time (deletion, retention, report mailboxes,
-- webhooks) hold a row of job_leases while they do.
-- Times here are the database's clock (kunren_now_ms(): SQLite registers it,
-- PostgreSQL has it from below), so the clocks of the nodes' machines never
-- meet.  token: one per process, so two live processes with one id (a copied
-- data folder) are told apart; place: host and data folder.
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  place TEXT NOT NULL DEFAULT '',
  mode TEXT NOT NULL DEFAULT 'all',
  token TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  seen_ms INTEGER NOT NULL
);
--pg CREATE FUNCTION kunren_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE
--pg   AS 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint';
ALTER TABLE targets ADD COLUMN node TEXT;
CREATE TABLE job_leases (
  name TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  until_ms INTEGER NOT NULL
);
-- the node running a request under an idempotency key: another node takes
-- the key over only once that node is gone
ALTER TABLE idempotency_keys ADD COLUMN node TEXT;
