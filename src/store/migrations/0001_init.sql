-- 0001: the first schema (DESIGN.md, "Data model").  Times are unix seconds;
-- events.at_ms is milliseconds.  Every tenant-owned row reaches its tenant
-- through tenant_id (directly or through its parent).

CREATE TABLE tenants (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	time_zone TEXT NOT NULL DEFAULT 'Asia/Tokyo',
	exclusion_seconds INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);

CREATE TABLE accounts (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER REFERENCES tenants(id) ON DELETE CASCADE,
	username TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('operator', 'owner', 'full', 'readonly')),
	email TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	key_hash BLOB NOT NULL UNIQUE,
	label TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
	id INTEGER PRIMARY KEY,
	token_hash BLOB NOT NULL UNIQUE,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER,
	account_id INTEGER,
	at INTEGER NOT NULL,
	action TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT ''
);

CREATE TABLE lists (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX lists_tenant ON lists(tenant_id);

CREATE TABLE recipients (
	id INTEGER PRIMARY KEY,
	list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
	email TEXT NOT NULL,
	last_name TEXT NOT NULL DEFAULT '',
	first_name TEXT NOT NULL DEFAULT '',
	department TEXT NOT NULL DEFAULT '',
	position TEXT NOT NULL DEFAULT '',
	field1 TEXT NOT NULL DEFAULT '',
	field2 TEXT NOT NULL DEFAULT '',
	field3 TEXT NOT NULL DEFAULT '',
	is_test INTEGER NOT NULL DEFAULT 0,
	UNIQUE (list_id, email)
);

CREATE TABLE scenarios (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	gallery_id TEXT,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	genre TEXT NOT NULL,
	type TEXT NOT NULL,
	level TEXT NOT NULL,
	lang TEXT NOT NULL,
	subject TEXT NOT NULL,
	html TEXT NOT NULL,
	text TEXT NOT NULL,
	sender_name TEXT NOT NULL DEFAULT '',
	sender_local TEXT NOT NULL DEFAULT '',
	sender_domain TEXT NOT NULL DEFAULT '',
	landing_html TEXT,
	explain_html TEXT NOT NULL,
	red_flags TEXT NOT NULL DEFAULT '[]',
	created_at INTEGER NOT NULL
);
CREATE INDEX scenarios_tenant ON scenarios(tenant_id);

CREATE TABLE campaigns (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	scenario_id INTEGER NOT NULL REFERENCES scenarios(id),
	state TEXT NOT NULL,
	sender_name TEXT NOT NULL,
	sender_local TEXT NOT NULL,
	sender_domain TEXT NOT NULL,
	test_only INTEGER NOT NULL DEFAULT 0,
	exclusion_seconds INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	launched_at INTEGER NOT NULL DEFAULT 0,
	finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_tenant ON campaigns(tenant_id);
CREATE INDEX campaigns_state ON campaigns(state);

CREATE TABLE campaign_lists (
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	list_id INTEGER NOT NULL REFERENCES lists(id),
	PRIMARY KEY (campaign_id, list_id)
);

-- A snapshot of each recipient at launch: later list edits never rewrite history.
CREATE TABLE targets (
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
	state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'sent', 'error')),
	sent_at INTEGER NOT NULL DEFAULT 0,
	message_id TEXT,
	error TEXT,
	UNIQUE (campaign_id, email)
);
CREATE INDEX targets_state ON targets(state, campaign_id);

-- Append-only.  Status and first/last times are derived from these rows.
CREATE TABLE events (
	id INTEGER PRIMARY KEY,
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	target_id INTEGER REFERENCES targets(id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	at_ms INTEGER NOT NULL,
	ip TEXT,
	user_agent TEXT,
	os TEXT,
	browser TEXT,
	device TEXT,
	detail TEXT
);
CREATE INDEX events_campaign ON events(campaign_id, target_id, at_ms);
