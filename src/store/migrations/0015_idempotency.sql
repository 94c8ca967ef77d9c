-- 0015: idempotency keys (issue 11, docs/API.md "Idempotency keys").  An
-- authenticated POST on /api/v1 with an Idempotency-Key header is remembered
-- for 24 hours per tenant (0: the operator), credential and key: the first
-- answer is kept and replayed to a repeat of the same request.
--   credential   hex HMAC-SHA256 (server key) of the session token or API
--                key; never the credential itself
--   account_id   the account the credential belongs to, api_key_id the API
--                key (0: a session): the triggers below drop an account's
--                rows when its role or password changes or it is deleted,
--                a key's when it is deleted, and a tenant's when it is
--                suspended — a kept answer (a new password, a webhook
--                secret) is not replayed to a credential that lost the
--                right to it
--   fingerprint  hex HMAC-SHA256 (server key) of the method, the request target and the body
--   owner        while the first request runs: the serving process's random
--                instance id (a row left running by a process that died is
--                taken over by the next one); 0 once its answer is kept
--   body         the answer's body, sealed with the server key (it may hold
--                a new API key or webhook secret)
-- No foreign key: the operator's rows have tenant 0.  Tenant deletion purges
-- a tenant's rows (store tenant_tables); expired rows go on the next claim.
CREATE TABLE idempotency_keys (
	tenant_id INTEGER NOT NULL,
	credential TEXT NOT NULL,
	key TEXT NOT NULL,
	account_id INTEGER NOT NULL,
	api_key_id INTEGER NOT NULL DEFAULT 0,
	fingerprint TEXT NOT NULL,
	owner INTEGER NOT NULL DEFAULT 0,
	status INTEGER NOT NULL DEFAULT 0,
	content_type TEXT NOT NULL DEFAULT '',
	headers TEXT NOT NULL DEFAULT '[]',
	body BLOB,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, credential, key)
-- @sqlite
) WITHOUT ROWID;
-- @end
--pg );
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_account ON idempotency_keys (account_id);
-- The triggers.  PostgreSQL: each one's DELETE in a plpgsql function, the
-- trigger FOR EACH ROW (what every SQLite trigger is) with the same WHEN.
--pg CREATE FUNCTION idempotency_keys_account_drop() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg 	DELETE FROM idempotency_keys WHERE account_id = old.id;
--pg 	RETURN NULL;
--pg END $$;
--pg CREATE FUNCTION idempotency_keys_api_key_drop() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg 	DELETE FROM idempotency_keys WHERE api_key_id = old.id;
--pg 	RETURN NULL;
--pg END $$;
--pg CREATE FUNCTION idempotency_keys_tenant_drop() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg 	DELETE FROM idempotency_keys WHERE tenant_id = old.id;
--pg 	RETURN NULL;
--pg END $$;
--pg CREATE TRIGGER idempotency_keys_account_changed AFTER UPDATE OF role, password_hash ON accounts
--pg 	FOR EACH ROW WHEN (old.role IS DISTINCT FROM new.role OR old.password_hash IS DISTINCT FROM new.password_hash)
--pg 	EXECUTE FUNCTION idempotency_keys_account_drop();
--pg CREATE TRIGGER idempotency_keys_account_deleted AFTER DELETE ON accounts
--pg 	FOR EACH ROW EXECUTE FUNCTION idempotency_keys_account_drop();
--pg CREATE TRIGGER idempotency_keys_api_key_deleted AFTER DELETE ON api_keys
--pg 	FOR EACH ROW EXECUTE FUNCTION idempotency_keys_api_key_drop();
--pg CREATE TRIGGER idempotency_keys_tenant_suspended AFTER UPDATE OF suspended ON tenants
--pg 	FOR EACH ROW WHEN (new.suspended <> 0)
--pg 	EXECUTE FUNCTION idempotency_keys_tenant_drop();
-- @sqlite
CREATE TRIGGER idempotency_keys_account_changed AFTER UPDATE OF role, password_hash ON accounts
	WHEN old.role IS NOT new.role OR old.password_hash IS NOT new.password_hash
BEGIN
	DELETE FROM idempotency_keys WHERE account_id = old.id;
END;
CREATE TRIGGER idempotency_keys_account_deleted AFTER DELETE ON accounts
BEGIN
	DELETE FROM idempotency_keys WHERE account_id = old.id;
END;
CREATE TRIGGER idempotency_keys_api_key_deleted AFTER DELETE ON api_keys
BEGIN
	DELETE FROM idempotency_keys WHERE api_key_id = old.id;
END;
CREATE TRIGGER idempotency_keys_tenant_suspended AFTER UPDATE OF suspended ON tenants
	WHEN new.suspended != 0
BEGIN
	DELETE FROM idempotency_keys WHERE tenant_id = old.id;
END;
-- @end
