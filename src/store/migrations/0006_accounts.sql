-- 0006: tenants with plans and service periods, account security, the
-- operator's deployment settings (SPEC A1–A6, B1–B7, issue 9).

-- Plans (A2): send_count (sends in the period <= quota), unique_addresses
-- (distinct addresses in the period <= quota), trial (<= 10 targets per
-- campaign).  quota 0: unlimited.  The service period is [period_start,
-- period_end]; the day after period_end (or at delete_at, when the tenant
-- asked for an earlier date) every row of the tenant is deleted.
ALTER TABLE tenants ADD COLUMN plan TEXT NOT NULL DEFAULT 'send_count'
	CHECK (plan IN ('send_count', 'unique_addresses', 'trial'));
ALTER TABLE tenants ADD COLUMN quota INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN period_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN delete_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;
UPDATE tenants SET period_start = created_at WHERE period_start = 0;

-- What the deletion job removed, kept after the tenant is gone.
CREATE TABLE deletion_log (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	tenant_name TEXT NOT NULL,
	reason TEXT NOT NULL,
	rows_deleted INTEGER NOT NULL,
	files_deleted INTEGER NOT NULL,
	at INTEGER NOT NULL
);

-- Account security (B1–B6): a second factor (mail code or TOTP, its secret
-- sealed with the server key), login notices, lock-out after failures.
ALTER TABLE accounts ADD COLUMN second_factor TEXT NOT NULL DEFAULT 'none'
	CHECK (second_factor IN ('none', 'mail', 'totp'));
ALTER TABLE accounts ADD COLUMN totp_sealed BLOB;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN login_notify INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;

-- One-time secrets: a login's pending second factor, a password reset link.
-- Only hashes are stored.
CREATE TABLE challenges (
	id INTEGER PRIMARY KEY,
	token_hash BLOB NOT NULL UNIQUE,
	account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('login', 'reset')),
	code_hash BLOB,
	attempts INTEGER NOT NULL DEFAULT 0,
	expires_at INTEGER NOT NULL
);
CREATE INDEX challenges_account ON challenges(account_id);

-- Failed logins per client address, for throttling (B6).
CREATE TABLE login_failures (
	ip TEXT NOT NULL,
	at INTEGER NOT NULL
);
CREATE INDEX login_failures_ip ON login_failures(ip, at);

ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, at);

-- The deployment (A6): one row of branding.
CREATE TABLE branding (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	service_name TEXT NOT NULL DEFAULT 'Kunren',
	primary_color TEXT NOT NULL DEFAULT '#1f4e79',
	support_contact TEXT NOT NULL DEFAULT '',
	logo BLOB,
	logo_type TEXT NOT NULL DEFAULT ''
);
INSERT INTO branding (id) VALUES (1);

-- Training domains offered to trainers (A5).
CREATE TABLE training_domains (
	id INTEGER PRIMARY KEY,
	-- @sqlite
	domain TEXT NOT NULL COLLATE NOCASE UNIQUE,
	-- @end
	--pg domain TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	spf TEXT NOT NULL DEFAULT 'unknown',
	dkim TEXT NOT NULL DEFAULT 'unknown',
	dmarc TEXT NOT NULL DEFAULT 'unknown',
	created_at INTEGER NOT NULL
);
-- PostgreSQL: the domain is unique ignoring case through an index on lower(domain).
--pg CREATE UNIQUE INDEX training_domains_domain ON training_domains (lower(domain));
