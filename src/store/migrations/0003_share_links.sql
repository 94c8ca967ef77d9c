-- 0003: share links (訓練結果共有リンク, SPEC G7).  The token is stored only as
-- its hash; the optional password as an Argon2id string.
CREATE TABLE share_links (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
	token_hash BLOB NOT NULL UNIQUE,
	password_hash TEXT,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked INTEGER NOT NULL DEFAULT 0,
	access_count INTEGER NOT NULL DEFAULT 0,
	failures INTEGER NOT NULL DEFAULT 0,
	failures_since INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX share_links_campaign ON share_links(campaign_id);
