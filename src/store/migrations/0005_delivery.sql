-- 0005: the delivery engine (SPEC E1–E9, issue 6).
-- Runs with foreign keys off (store_migrate), so targets can be rebuilt
-- with its new states; foreign_key_check runs before the commit.

-- Sending profiles: a tenant's own (tenant_id set) or the operator's,
-- offered to every tenant (tenant_id NULL).  The password is sealed with
-- the server's secret key (core secret_seal), never stored in clear.
CREATE TABLE sending_profiles (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER REFERENCES tenants(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	host TEXT NOT NULL,
	port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	security TEXT NOT NULL CHECK (security IN ('none', 'starttls', 'tls')),
	verify_tls INTEGER NOT NULL DEFAULT 1,
	username TEXT NOT NULL DEFAULT '',
	password_sealed BLOB,
	helo TEXT NOT NULL DEFAULT '',
	connections INTEGER NOT NULL DEFAULT 2,
	per_connection INTEGER NOT NULL DEFAULT 100,
	created_at INTEGER NOT NULL
);
CREATE INDEX sending_profiles_tenant ON sending_profiles(tenant_id);

-- DKIM keys per sending domain, managed by the operator.
CREATE TABLE dkim_keys (
	id INTEGER PRIMARY KEY,
	-- @sqlite
	domain TEXT NOT NULL COLLATE NOCASE UNIQUE,
	-- @end
	--pg domain TEXT NOT NULL,
	selector TEXT NOT NULL,
	algorithm TEXT NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
	private_sealed BLOB NOT NULL,
	dns_txt TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
-- PostgreSQL: the domain is unique ignoring case through an index on lower(domain).
--pg CREATE UNIQUE INDEX dkim_keys_domain ON dkim_keys (lower(domain));

-- The schedule (deliver/plan.h's JSON form), when sending starts, when the
-- training period ends, the profile, and the state a paused campaign
-- resumes into.  target_count is fixed at launch (licence counting).
ALTER TABLE campaigns ADD COLUMN schedule TEXT NOT NULL DEFAULT '{}';
ALTER TABLE campaigns ADD COLUMN start_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN profile_id INTEGER REFERENCES sending_profiles(id) ON DELETE SET NULL;
ALTER TABLE campaigns ADD COLUMN resume_state TEXT;
ALTER TABLE campaigns ADD COLUMN target_count INTEGER NOT NULL DEFAULT 0;
UPDATE campaigns SET target_count = (SELECT count(*) FROM targets t WHERE t.campaign_id = campaigns.id),
	start_at = launched_at;

-- Per scenario: envelope sender, Reply-To and extra headers.
ALTER TABLE scenarios ADD COLUMN envelope_from TEXT NOT NULL DEFAULT '';
ALTER TABLE scenarios ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE scenarios ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';

-- Licence counting hooks (the plans come with the accounts issue): sends
-- and distinct addresses per tenant and service period, written in the
-- transaction that records the send.
ALTER TABLE tenants ADD COLUMN period_start INTEGER NOT NULL DEFAULT 0;
CREATE TABLE usage_sends (
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	period_start INTEGER NOT NULL,
	sends INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, period_start)
);
CREATE TABLE usage_addresses (
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	period_start INTEGER NOT NULL,
	email TEXT NOT NULL COLLATE NOCASE,
	-- @sqlite
	first_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, period_start, email)
	-- @end
	--pg first_at INTEGER NOT NULL
);
-- PostgreSQL: a key cannot hold lower(email): a unique index does its work
-- (INSERT … ON CONFLICT DO NOTHING, lookups by lower(email) = lower(?)).
--pg CREATE UNIQUE INDEX usage_addresses_key ON usage_addresses (tenant_id, period_start, lower(email));

-- Targets get their planned time, attempts and the states of a crash-safe
-- delivery: claimed (taken by a worker, not yet handed to the relay),
-- sending (handed over: after a crash nobody knows — uncertain), sent,
-- error, uncertain, cancelled.
-- PostgreSQL changes the table in place (its DDL is transactional too);
-- SQLite cannot change a CHECK, so it rebuilds the table, and dropping the
-- old one drops its indexes targets_state and targets_campaign.
--pg ALTER TABLE targets DROP CONSTRAINT targets_state_check;
--pg ALTER TABLE targets ADD CONSTRAINT targets_state_check CHECK (state IN
--pg 	('pending', 'claimed', 'sending', 'sent', 'error', 'uncertain', 'cancelled'));
--pg ALTER TABLE targets ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;
--pg ALTER TABLE targets ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
--pg UPDATE targets SET state = 'cancelled', error = NULL WHERE state = 'error' AND error = 'cancelled';
--pg DROP INDEX targets_state;
-- @sqlite
CREATE TABLE targets_new (
	id INTEGER PRIMARY KEY,
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	rid TEXT NOT NULL UNIQUE,
	email TEXT NOT NULL,
	last_name TEXT NOT NULL DEFAULT '',
	first_name TEXT NOT NULL DEFAULT '',
	department TEXT NOT NULL DEFAULT '',
	position TEXT NOT NULL DEFAULT '',
	field1 TEXT NOT NULL DEFAULT '',
	field2 TEXT NOT NULL DEFAULT '',
	field3 TEXT NOT NULL DEFAULT '',
	is_test INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
		('pending', 'claimed', 'sending', 'sent', 'error', 'uncertain', 'cancelled')),
	sent_at INTEGER NOT NULL DEFAULT 0,
	message_id TEXT,
	error TEXT,
	last_sent_ms INTEGER NOT NULL DEFAULT 0,
	last_opened_ms INTEGER NOT NULL DEFAULT 0,
	last_clicked_ms INTEGER NOT NULL DEFAULT 0,
	last_file_opened_ms INTEGER NOT NULL DEFAULT 0,
	last_submitted_ms INTEGER NOT NULL DEFAULT 0,
	last_reported_ms INTEGER NOT NULL DEFAULT 0,
	due_at INTEGER NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	UNIQUE (campaign_id, email)
);
INSERT INTO targets_new (id, campaign_id, rid, email, last_name, first_name, department, position,
	field1, field2, field3, is_test, state, sent_at, message_id, error, last_sent_ms, last_opened_ms,
	last_clicked_ms, last_file_opened_ms, last_submitted_ms, last_reported_ms)
SELECT id, campaign_id, rid, email, last_name, first_name, department, position,
	field1, field2, field3, is_test,
	CASE WHEN state = 'error' AND error = 'cancelled' THEN 'cancelled' ELSE state END,
	sent_at, message_id, CASE WHEN state = 'error' AND error = 'cancelled' THEN NULL ELSE error END,
	last_sent_ms, last_opened_ms, last_clicked_ms, last_file_opened_ms, last_submitted_ms, last_reported_ms
FROM targets;
DROP TABLE targets;
ALTER TABLE targets_new RENAME TO targets;
CREATE INDEX targets_campaign ON targets(campaign_id, id);
-- @end
-- The dispatcher's question: pending targets that are due, earliest first.
CREATE INDEX targets_due ON targets(state, due_at, id);
