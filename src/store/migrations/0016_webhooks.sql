-- 0016: webhooks (issue 11, SPEC H1).  A tenant's endpoints that receive
-- every event as signed JSON, and the log of what was sent to them.
-- The signing secret is sealed with the server's key (core secret_seal);
-- the API shows it once, when it is made.
CREATE TABLE webhooks (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	url TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	kinds TEXT NOT NULL DEFAULT '[]',  -- JSON array of event kind names; [] = every kind
	enabled INTEGER NOT NULL DEFAULT 1,
	secret_sealed BLOB NOT NULL,
	-- The dispatcher's place: the id of the last event it has looked at
	-- for this webhook.  Deliveries are queued and the cursor moved in one
	-- transaction, so a restart neither skips nor repeats a queueing.
	cursor INTEGER NOT NULL DEFAULT 0,
	-- After a failed attempt the webhook's deliveries wait until its retry
	-- (ms); new ones queued meanwhile too.
	hold_until_ms INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks(tenant_id, id);

-- One row per delivery (an event, or a test "ping"), with its latest
-- attempt's outcome.  The body is kept as sent: every retry sends the same
-- bytes (the signature's time changes).  event_id is no foreign key: the
-- log outlives a campaign deleted meanwhile.
CREATE TABLE webhook_deliveries (
	id INTEGER PRIMARY KEY,
	webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	event_id INTEGER NOT NULL DEFAULT 0,         -- 0: a ping
	kind TEXT NOT NULL,                          -- event kind name, or 'ping'
	delivery_id TEXT NOT NULL UNIQUE,            -- the Kunren-Delivery header
	payload TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at_ms INTEGER NOT NULL DEFAULT 0,       -- when a pending one is tried (next)
	response_status INTEGER NOT NULL DEFAULT 0,  -- HTTP status of the last attempt; 0: none
	error TEXT NOT NULL DEFAULT '',              -- why the last attempt failed
	duration_ms INTEGER NOT NULL DEFAULT 0,
	response_excerpt TEXT NOT NULL DEFAULT '',   -- the start of the last answer's body
	created_at INTEGER NOT NULL,
	last_attempt_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_at_ms) WHERE state = 'pending';
