-- 0012: 報告 (reported, SPEC F1 beyond; issue 7).  One report mailbox per
-- tenant, polled over IMAP: forwarded drill mails in it become 報告 events.
-- The password is sealed with the server's secret key (core secret_seal),
-- never stored in clear and never returned by the API.  The last poll's
-- outcome is kept for the console (last_error "" when it went well).
CREATE TABLE report_mailboxes (
	-- @sqlite
	tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
	-- @end
	--pg tenant_id BIGINT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
	host TEXT NOT NULL,
	port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	security TEXT NOT NULL CHECK (security IN ('none', 'starttls', 'tls')),
	verify_tls INTEGER NOT NULL DEFAULT 1,
	username TEXT NOT NULL DEFAULT '',
	password_sealed BLOB,
	folder TEXT NOT NULL DEFAULT 'INBOX',
	enabled INTEGER NOT NULL DEFAULT 1,
	last_poll_at INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	last_reported INTEGER NOT NULL DEFAULT 0,  -- 報告 recorded by the last poll
	last_ignored INTEGER NOT NULL DEFAULT 0,   -- mails without a drill mail's rid, left unseen
	-- Where the poller is: the folder's UIDVALIDITY and the highest UID it
	-- has handled; it asks only for UIDs above (a changed UIDVALIDITY, or
	-- other settings, start again from 0).  Mails are never read twice.
	uidvalidity INTEGER NOT NULL DEFAULT 0,
	last_uid INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL
);

-- Live results (SPEC F5): the console asks for a campaign's events newer
-- than the last it has; without this the lookup scans all of them.
CREATE INDEX events_campaign_id ON events(campaign_id, id);
